"""
The kinds of service a lab host can run, and how each is started.

A kind knows its ports (the netref default, and the well-known port used
when the lab runs as root, see DESIGN.md "The lab's addressing"), how to
build its Twisted services for one host's address, and a command a person
can try against it with real tools.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from twisted.application.service import IService


@dataclass(frozen=True)
class ServiceKind:
    """
    A kind of service in the lab.

    @ivar name: the name hosts use for it in L{netref.lab.hosts.HOSTS}.
    @ivar summary: what it is, for the map.
    @ivar transports: what it listens on, for the map (C{"tcp+udp"}, ...).
    @ivar defaultPort: the netref default port.
    @ivar wellKnownPort: the port used when the lab runs as root.
    @ivar build: makes the services for one host, given address and port.
    @ivar tryCommands: commands to try, with C{{address}}, C{{port}} and
        C{{name}} to fill in.
    """

    name: str
    summary: str
    transports: str
    defaultPort: int
    wellKnownPort: int
    build: Callable[[str, int], Sequence[IService]]
    tryCommands: tuple[str, ...]


def _buildUpper(address: str, port: int) -> list[IService]:
    # Imported when built, so the lab does not import every protocol up front.
    from netref.sockets.tap import makeUpperServices

    return makeUpperServices(address, port)


#: Every kind of service the lab knows, by name.
KINDS: dict[str, ServiceKind] = {
    kind.name: kind
    for kind in (
        ServiceKind(
            name="upper",
            summary="uppercase server, TCP and UDP (section 2.7)",
            transports="tcp+udp",
            defaultPort=12000,
            wellKnownPort=12000,
            build=_buildUpper,
            tryCommands=(
                "netref upper --host {address} --port {port} 'hello from the lab'",
                "netref upper --udp --host {address} --port {port} 'hello over udp'",
                "echo hello | nc -q1 {address} {port}",
            ),
        ),
    )
}
