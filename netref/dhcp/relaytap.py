"""
C{twistd netref-dhcp-relay}: a DHCP relay agent (RFC 1542, RFC 3046), what
the textbook's router runs so that a client reaches a server on another
network.

On a router (or a network namespace)::

    twistd -n netref-dhcp-relay --interface eth0 --server 10.2.0.2

For each client-side C{--interface}, it listens for the clients' broadcasts
on UDP port 67 of that device, and talks to the servers from its address on
that interface (the C{giaddr} it writes), port 67, where the servers'
replies come back.

In the lab, on loopback, C{--listen udp:PORT:interface=ADDR} is one socket
that takes the clients' (unicast) requests and the servers' replies, with
ADDR as C{giaddr}; C{--server ADDR:PORT} gives the server's port too.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from twisted.application.service import IService, MultiService
from twisted.internet.interfaces import IListeningPort
from twisted.python import usage

from netref.core.service import (
    ServiceOptions,
    datagramService,
    parseDatagramListen,
    startTracingIfAsked,
)
from netref.dhcp.relay import MAX_HOPS, DHCPRelay, RelayAgent, RelayProtocol
from netref.dhcp.tap import LAB_SERVER_ADDRESS, InterfaceService
from netref.dhcp.wire import CLIENT_PORT, SERVER_PORT


def parseServer(text: str, defaultPort: int = SERVER_PORT) -> tuple[str, int]:
    """
    Read C{ADDR} or C{ADDR:PORT}.

    @raise usage.UsageError: if it is neither.
    """
    host, sep, port = text.partition(":")
    try:
        return str(ipaddress.IPv4Address(host)), int(port) if sep else defaultPort
    except ValueError:
        raise usage.UsageError(f"--server wants ADDR[:PORT], not {text!r}") from None


class RelayInterfaceService(InterfaceService):
    """
    A relay agent's client link on a real interface: the device's socket on
    port 67 for the clients' broadcasts, and a socket on the agent's
    address there, port 67, for the servers.
    """

    def __init__(self, relay: DHCPRelay, interface: str, port: int) -> None:
        super().__init__(interface, port, None)
        self.relay = relay
        self.upstream: IListeningPort | None = None

    def startService(self) -> None:
        from twisted.internet import reactor

        from netref.dhcp import netif

        address = netif.interfaceAddress(self.interface)
        if address is None:
            raise RuntimeError(f"interface {self.interface} has no IPv4 address")
        link = self.relay.addLink(str(address.ip), self.interface.encode("ascii"))
        self.makeProtocol = lambda _: RelayProtocol(self.relay, link, True, False)
        super().startService()
        self.upstream = netif.adopt(
            reactor,
            netif.openAddressSocket(str(address.ip), self.port),
            RelayProtocol(self.relay, link, False, True),
        )

    def stopService(self) -> Any:
        d = super().stopService()
        if self.upstream is not None:
            upstream, self.upstream = self.upstream, None
            upstream.stopListening()
        return d


class Options(ServiceOptions):
    """
    Options of C{twistd netref-dhcp-relay}.
    """

    synopsis = "--interface IF --server ADDR[:PORT] [--max-hops N] [--trace]"
    longdesc = (
        "A DHCP relay agent (RFC 1542, RFC 3046): forwards the broadcast requests of the "
        "clients on each --interface to the --server(s), with giaddr and option 82, and "
        "the replies back. --listen udp:PORT:interface=ADDR relays on a plain socket "
        "(loopback, the lab). --trace prints one line per message."
    )
    optFlags = [
        ["no-agent-info", None, "Do not add the relay agent information option (82)."],
    ]
    optParameters: list[list[Any]] = [
        ["max-hops", None, MAX_HOPS, "Drop requests that passed this many relays.", int],
        ["port", None, SERVER_PORT, "The port --interface sockets listen on.", int],
        ["client-port", None, CLIENT_PORT, "The port replies to clients go to.", int],
    ]

    def __init__(self) -> None:
        super().__init__()
        self["interface"] = []
        self["server"] = []

    def opt_interface(self, name: str) -> None:
        """A client-side interface. Repeatable."""
        self["interface"].append(name)

    def opt_server(self, text: str) -> None:
        """A DHCP server, ADDR[:PORT]. Repeatable."""
        self["server"].append(parseServer(text))

    def postOptions(self) -> None:
        super().postOptions()
        if not self["server"]:
            raise usage.UsageError("give at least one --server ADDR[:PORT]")
        if not self["interface"] and not self["listen"]:
            raise usage.UsageError("give --interface IF (or --listen udp:PORT:interface=ADDR)")
        if not 1 <= self["max-hops"] <= 16:
            raise usage.UsageError("--max-hops must be from 1 to 16")


def makeService(options: Options) -> MultiService:
    """
    @return: the relay agent's services, one per link.
    """
    from twisted.internet import reactor

    agent = RelayAgent(
        options["server"],
        reactor,
        maxHops=options["max-hops"],
        addAgentInformation=not options["no-agent-info"],
        clientPort=options["client-port"],
    )
    relay = DHCPRelay(agent)
    top = MultiService()
    for name in options["interface"]:
        RelayInterfaceService(relay, name, options["port"]).setServiceParent(top)
    for description in options["listen"]:
        where = parseDatagramListen(description)
        link = relay.addLink(where.interface, where.interface.encode("ascii"))
        datagramService(description, RelayProtocol(relay, link, True, True)).setServiceParent(top)
    startTracingIfAsked(options)
    return top


def makeLabRelayServices(
    address: str, port: int, server: tuple[str, int], clientPort: int = CLIENT_PORT
) -> list[IService]:
    """
    The lab's relay agent (the textbook's router between the client's
    network and the DHCP server's): one socket on C{address:port}, C{giaddr}
    C{address}, forwarding to C{server}.

    @return: one service, not yet started nor given a parent.
    """
    from twisted.internet import reactor

    relay = DHCPRelay(RelayAgent([server], reactor, clientPort=clientPort))
    link = relay.addLink(address, b"lab")
    return [
        datagramService(f"udp:{port}:interface={address}", RelayProtocol(relay, link, True, True))
    ]


def buildLabRelay(host: Any, port: int, state: str | None = None) -> list[IService]:
    """
    For L{netref.lab.kinds.ServiceKind.build}: the lab's relay agent on
    C{host.address:port} (the router, C{giaddr} its address), forwarding to
    the lab's DHCP server at L{LAB_SERVER_ADDRESS}, on 67 as root, else
    on the port before the relay's (L{netref.dhcp.tap.labRelayPort}).
    A relay agent keeps nothing on disk: C{state} is not used.
    """
    serverPort = SERVER_PORT if port == SERVER_PORT else port - 1
    return makeLabRelayServices(host.address, port, (LAB_SERVER_ADDRESS, serverPort))
