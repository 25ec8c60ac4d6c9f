"""
Turning the lab's hosts into running services and a map a person can read.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from typing import IO

from twisted.application.service import MultiService

from netref.lab.hosts import HOSTS, LabHost
from netref.lab.kinds import KINDS, ServiceKind

#: Port choices: the netref defaults, or the well-known ports (needs root).
DEFAULT_PORTS = "default"
WELL_KNOWN_PORTS = "well-known"


def choosePorts(choice: str) -> str:
    """
    Resolve a C{--ports} choice: C{"auto"} is the well-known ports when
    running as root and the netref defaults otherwise (DESIGN.md, "The lab's
    addressing").

    @param choice: C{"auto"}, L{DEFAULT_PORTS} or L{WELL_KNOWN_PORTS}.
    @return: L{DEFAULT_PORTS} or L{WELL_KNOWN_PORTS}.
    """
    if choice == "auto":
        return WELL_KNOWN_PORTS if os.geteuid() == 0 else DEFAULT_PORTS
    if choice not in (DEFAULT_PORTS, WELL_KNOWN_PORTS):
        raise ValueError(f"unknown port choice {choice!r}")
    return choice


#: Commands longer than this do not push the remarks of the others right.
_REMARK_COLUMN = 72


class Lab:
    """
    The textbook's little Internet: a set of hosts, each on its own loopback
    address, each running its kinds of service on the same port as every
    other host that runs them.

    @ivar hosts: the hosts.
    @ivar ports: L{DEFAULT_PORTS} or L{WELL_KNOWN_PORTS}.
    @ivar stateDirectory: where the hosts keep what they store (each in a
        directory named after it), or L{None} for a new temporary directory
        made when the lab's services are.
    """

    def __init__(
        self,
        hosts: Sequence[LabHost] = HOSTS,
        ports: str = DEFAULT_PORTS,
        kinds: dict[str, ServiceKind] = KINDS,
        stateDirectory: str | None = None,
    ) -> None:
        self.hosts = tuple(hosts)
        self.ports = ports
        self.stateDirectory = stateDirectory
        self._kinds = kinds
        self._check()

    def _check(self) -> None:
        names: set[str] = set()
        addresses: set[str] = set()
        for host in self.hosts:
            if host.name in names:
                raise ValueError(f"lab host {host.name} is listed twice")
            if host.address in addresses:
                raise ValueError(f"lab address {host.address} is given to two hosts")
            if not host.address.startswith("127."):
                raise ValueError(f"lab host {host.name} is not on loopback: {host.address}")
            for kind in host.services:
                if kind not in self._kinds:
                    raise ValueError(f"lab host {host.name} runs unknown service {kind!r}")
            names.add(host.name)
            addresses.add(host.address)

    def portFor(self, kind: ServiceKind) -> int:
        """
        @return: the port every host runs C{kind} on in this lab.
        """
        return kind.wellKnownPort if self.ports == WELL_KNOWN_PORTS else kind.defaultPort

    def kindsOf(self, host: LabHost) -> list[ServiceKind]:
        """
        @return: the service kinds C{host} runs.
        """
        return [self._kinds[name] for name in host.services]

    def makeService(self) -> MultiService:
        """
        @return: one service holding every service of every host.
        """
        if self.stateDirectory is None:
            self.stateDirectory = tempfile.mkdtemp(prefix="netref-lab-")
        top = MultiService()
        for host in self.hosts:
            state = os.path.join(self.stateDirectory, host.name)
            for kind in self.kindsOf(host):
                for child in kind.build(host, self.portFor(kind), state):
                    child.setServiceParent(top)
        return top

    def kindsInUse(self) -> list[ServiceKind]:
        """
        @return: every kind of service some host runs, in table order.
        """
        seen: dict[str, ServiceKind] = {}
        for host in self.hosts:
            for kind in self.kindsOf(host):
                seen.setdefault(kind.name, kind)
        return list(seen.values())

    def mapText(self) -> str:
        """
        @return: the map printed when the lab starts: every host with its
            address, services and part in the textbook, commands to try
            with real tools, and lines for C{/etc/hosts}.
        """
        rows = [("host", "address", "services", "its part in the textbook")]
        for host in self.hosts:
            services = ", ".join(
                f"{kind.name} {kind.transports} {self.portFor(kind)}"
                for kind in self.kindsOf(host)
            )
            role = host.role
            if host.users:
                role += "; users " + ", ".join(host.users)
            rows.append((host.name, host.address, services, role))
        widths = [max(len(row[i]) for row in rows) for i in range(3)]
        portNote = (
            "well-known ports"
            if self.ports == WELL_KNOWN_PORTS
            else "netref default ports (run as root for the well-known ones)"
        )
        lines = [f"netref lab: the textbook's little Internet on loopback, {portNote}", ""]
        for row in rows:
            cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
            lines.append("  " + "  ".join([*cells, row[3]]).rstrip())
        lines += ["", "Try:"]
        addresses = {host.name: host.address for host in self.hosts}
        commands: list[tuple[str, str]] = []
        for kind in self.kindsInUse():
            first = next(h for h in self.hosts if kind.name in h.services)
            for command in kind.tryCommands:
                filled = command.format(
                    address=first.address, port=self.portFor(kind), addr=addresses
                )
                text, _, remark = filled.partition("  # ")
                commands.append((text, remark))
        # Remarks line up, except after the few commands too long for that.
        width = max(
            (len(text) for text, remark in commands if remark and len(text) <= _REMARK_COLUMN),
            default=0,
        )
        for text, remark in commands:
            lines.append(f"  {text.ljust(width)}  # {remark}" if remark else f"  {text}")
        lines += ["", "To use the hostnames, add these lines to /etc/hosts:"]
        lines += [f"  {host.address}\t{host.name}" for host in self.hosts]
        if self.stateDirectory is not None:
            lines += [
                "",
                f"What the hosts store (mail, queues, certificates): {self.stateDirectory}",
            ]
        lines += ["", "Stop the lab with Ctrl-C."]
        return "\n".join(lines) + "\n"


class LabService(MultiService):
    """
    The lab's services, which print the lab's map once they are listening.
    """

    def __init__(self, lab: Lab, out: IO[str] | None) -> None:
        """
        @param lab: the lab to run.
        @param out: where the map goes when the lab starts, or L{None}.
        """
        super().__init__()
        self.lab = lab
        self._out = out
        lab.makeService().setServiceParent(self)

    def startService(self) -> None:
        super().startService()
        if self._out is not None:
            self._out.write(self.lab.mapText())
            self._out.flush()
