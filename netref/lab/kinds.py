"""
The kinds of service a lab host can run, and how each is started.

A kind knows its ports (the netref default, and the well-known port used
when the lab runs as root, see DESIGN.md "The lab's addressing"), how to
build its Twisted services for one host's address, and a command a person
can try against it with real tools.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from twisted.application.service import IService

if TYPE_CHECKING:
    from netref.lab.hosts import LabHost


@dataclass(frozen=True)
class ServiceKind:
    """
    A kind of service in the lab.

    @ivar name: the name hosts use for it in L{netref.lab.hosts.HOSTS}.
    @ivar summary: what it is, for the map.
    @ivar transports: what it listens on, for the map (C{"tcp+udp"}, ...).
    @ivar defaultPort: the netref default port.
    @ivar wellKnownPort: the port used when the lab runs as root.
    @ivar build: makes the services for one host, given the host, the port
        and a directory of the host's own for anything it keeps on disk
        (Maildirs, queues, certificates, sessions), made on demand.
    @ivar tryCommands: commands to try, printed once for the kind: C{{address}}
        is the address of the first host that runs it, C{{port}} its port,
        and C{{addr[NAME]}} the address of any lab host by name.  A remark
        after C{"  # "} is printed aligned with the others.
    """

    name: str
    summary: str
    transports: str
    defaultPort: int
    wellKnownPort: int
    build: Callable[[LabHost, int, str], Sequence[IService]]
    tryCommands: tuple[str, ...]


def _buildUpper(host: LabHost, port: int, state: str) -> list[IService]:
    # Imported when built, so the lab does not import every protocol up front.
    from netref.sockets.tap import makeUpperServices

    return makeUpperServices(host.address, port)


def zoneFile(name: str) -> str:
    """
    @return: the path of one of the lab's zone files (package data in
        C{netref/lab/zones/}).
    """
    return os.path.join(os.path.dirname(__file__), "zones", name)


def _buildDNS(host: LabHost, port: int, state: str) -> list[IService]:
    from netref.dns.tap import makeDNSServices

    return makeDNSServices(host.address, port, [zoneFile(name) for name in host.zones])


def _buildMail(host: LabHost, port: int, state: str) -> list[IService]:
    from netref.core.auth import parseUserSpec
    from netref.mail.tap import makeLabMailServices

    return makeLabMailServices(
        host.address,
        port,
        domain=host.name.split(".", 1)[1],
        users=[parseUserSpec(spec) for spec in host.users],
        stateDirectory=state,
    )


def webRoot(name: str) -> str:
    """
    @return: the directory of a lab web site's files (package data in
        C{netref/lab/www/}).
    """
    return os.path.join(os.path.dirname(__file__), "www", name)


def _buildHTTP(host: LabHost, port: int, state: str) -> list[IService]:
    from netref.http.tap import makeHTTPServices

    return makeHTTPServices(host.address, port, webRoot(host.name.removeprefix("www.")))


def _buildFTP(host: LabHost, port: int, state: str) -> list[IService]:
    from netref.ftp.tap import makeLabFTPServices

    return makeLabFTPServices(host.address, port)


def _buildDHCP(host: LabHost, port: int, state: str) -> list[IService]:
    from netref.dhcp.tap import buildLabServer

    return buildLabServer(host, port, state)


def _buildDHCPRelay(host: LabHost, port: int, state: str) -> list[IService]:
    from netref.dhcp.relaytap import buildLabRelay

    return buildLabRelay(host, port, state)


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
        ServiceKind(
            name="dns",
            summary="authoritative DNS server, UDP and TCP (section 2.4)",
            transports="udp+tcp",
            defaultPort=10053,
            wellKnownPort=53,
            build=_buildDNS,
            tryCommands=(
                "# The textbook's iterative lookup of gaia.cs.umass.edu (2.4.2):",
                "netref dig gaia.cs.umass.edu @{address}:{port} +norecurse"
                "  # the root refers you to edu",
                "netref dig gaia.cs.umass.edu @{addr[a.edu-servers.net]}:{port} +norecurse"
                "  # edu refers you to umass.edu",
                "netref dig gaia.cs.umass.edu @{addr[dns.umass.edu]}:{port} +norecurse"
                "  # the answer",
                "dig -p {port} @{addr[dns.amazon.com]} www.amazon.com"
                "  # ask twice: the order rotates",
                "dig -p {port} @{addr[dns.enterprise.com]} www.enterprise.com  # an alias (CNAME)",
                "dig -p {port} @{addr[dns.hamburger.edu]} hamburger.edu MX  # the mail server",
            ),
        ),
        ServiceKind(
            name="http",
            summary="Web server, HTTP/1.1 (section 2.2)",
            transports="tcp",
            defaultPort=8080,
            wellKnownPort=80,
            build=_buildHTTP,
            tryCommands=(
                "# The textbook's page: a base HTML file and 10 JPEG images (2.2.2).",
                "netref get --trace http://{address}:{port}/someDepartment/home.index",
                "curl -v http://{address}:{port}/someDepartment/pic01.jpg -o /dev/null",
                "netref get --cookie-jar /tmp/jar http://{address}:{port}/visits"
                "  # twice: the cookie and the back-end database (2.2.4)",
            ),
        ),
        ServiceKind(
            name="ftp",
            summary="FTP server: control and data connections, active and passive (2.3)",
            transports="tcp",
            defaultPort=2121,
            wellKnownPort=21,
            build=_buildFTP,
            tryCommands=(
                "netref ftp --host {address} --port {port} --trace ls"
                "  # anonymous (the public area), passive mode",
                "netref ftp --host {address} --port {port} --active --trace get lines.txt"
                "  # active: the server connects to you",
                "curl ftp://{address}:{port}/README",
                "lftp -u alice,wonderland -p {port} {address}",
            ),
        ),
        ServiceKind(
            name="mail",
            summary="mail server: SMTP, submission with AUTH (2587; 587 as root), a queue",
            transports="tcp",
            defaultPort=2525,
            wellKnownPort=25,
            build=_buildMail,
            tryCommands=(
                "# Alice mails Bob (2.3): her agent submits to her server with AUTH,",
                "# her server finds hamburger.edu's MX in the lab's DNS and relays to Bob's.",
                "netref mail send --trace --server {addr[mail.crepes.fr]}:{port}"
                " --insecure-auth --user alice --from alice@crepes.fr --to bob@hamburger.edu"
                " --subject 'Hi Bob' --body 'Do you like ketchup?'  # password: wonderland",
                "netref mail send --raw --server {addr[mail.hamburger.edu]}:{port}"
                "  # the textbook's telnet session: type HELO crepes.fr, MAIL FROM, ...",
            ),
        ),
        ServiceKind(
            name="dhcp",
            summary="DHCP server (RFC 2131), reached through the router's relay agent",
            transports="udp",
            defaultPort=10067,
            wellKnownPort=67,
            build=_buildDHCP,
            tryCommands=(),
        ),
        ServiceKind(
            name="dhcp-relay",
            summary="DHCP relay agent (RFC 3046), forwarding to the DHCP server",
            transports="udp",
            defaultPort=10068,
            wellKnownPort=67,
            build=_buildDHCPRelay,
            tryCommands=(
                "netref dhcp --relay {address}:{port} --trace --release"
                "  # DISCOVER, OFFER, REQUEST, ACK through the relay, then RELEASE",
            ),
        ),
    )
}
