"""
C{twistd netref-dhcp}: a DHCP server (RFC 2131).

On a real network (or a network namespace) it listens on UDP port 67 of
each C{--interface}, with a socket bound to that device (see
L{netref.dhcp.netif}; root needed)::

    twistd -n netref-dhcp --interface eth1 --pool 10.0.0.100-10.0.0.199 \\
        --router 10.0.0.1 --dns 10.0.0.1 --lease-time 3600 --state /var/lib/netref

Subnets: each C{--subnet CIDR} is one; without any, each interface's own
network is one.  Every C{--pool}, C{--router} and C{--reserve} belongs to
the subnet that holds it, so a server can serve networks behind relay
agents (their C{giaddr} says which subnet a request is for).  C{--dns},
C{--domain} and C{--lease-time} apply to every subnet.

C{--listen udp:PORT:interface=ADDR} adds a plain socket on one address,
which sees only unicast (requests from relay agents): what the lab uses on
loopback, where there is no broadcast.  C{--relay-port} is the port replies
to relay agents go to (67; the lab's relay listens on another).

Leases are kept in C{DIR/dhcp-leases.json} with C{--state DIR}, and
reloaded on restart; without it, in memory only.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Sequence
from typing import Any

from twisted.application.service import IService, MultiService, Service
from twisted.internet.interfaces import IListeningPort
from twisted.python import usage

from netref.core.service import (
    ServiceOptions,
    datagramService,
    parseDatagramListen,
    startTracingIfAsked,
)
from netref.dhcp.client import pingCheck
from netref.dhcp.leases import LEASE_FILE, LeaseFileError, LeaseStore
from netref.dhcp.server import (
    DEFAULT_LEASE_TIME,
    DHCPServer,
    DHCPServerProtocol,
    Subnet,
    normalizeMAC,
)
from netref.dhcp.wire import CLIENT_PORT, SERVER_PORT

#: The lab's DHCP ports on loopback, where the server and the relay agent
#: cannot share 67 unless they have addresses of their own (they do: then
#: both use 67 when the lab runs as root).
LAB_SERVER_PORT = 10067
LAB_RELAY_PORT = 10068


class InterfaceService(Service):
    """
    A datagram protocol on one port of one interface, through a socket bound
    to the device (L{netref.dhcp.netif.listenOnInterface}).  The
    protocol is made when the service starts, once the interface's address
    can be read.
    """

    def __init__(self, interface: str, port: int, makeProtocol: Any) -> None:
        """
        @param makeProtocol: called with the interface's
            C{ipaddress.IPv4Interface}; returns the protocol.
        """
        self.interface = interface
        self.port = port
        self.makeProtocol = makeProtocol
        self.listening: IListeningPort | None = None

    def startService(self) -> None:
        from twisted.internet import reactor

        from netref.dhcp import netif

        super().startService()
        address = netif.interfaceAddress(self.interface)
        if address is None:
            raise RuntimeError(f"interface {self.interface} has no IPv4 address")
        self.listening = netif.listenOnInterface(
            reactor, self.interface, self.port, self.makeProtocol(address)
        )

    def stopService(self) -> Any:
        super().stopService()
        if self.listening is not None:
            listening, self.listening = self.listening, None
            return listening.stopListening()
        return None


class Options(ServiceOptions):
    """
    Options of C{twistd netref-dhcp}.
    """

    synopsis = (
        "--interface IF --pool FIRST-LAST [--subnet CIDR] [--router ADDR] [--dns ADDR] "
        "[--lease-time SECONDS] [--reserve MAC=ADDR] [--state DIR] [--trace]"
    )
    longdesc = (
        "A DHCP server (RFC 2131, RFC 2132): pools per subnet, static reservations, leases "
        "kept durably in --state DIR, replies to relay agents (RFC 3046). It listens on UDP "
        "port 67 of each --interface with a socket bound to that device (root needed), and "
        "on any --listen udp:PORT:interface=ADDR (unicast only: relay agents, the lab). "
        "--trace prints one line per message."
    )
    optFlags = [
        ["ping-check", None, "Ping an address before offering it (RFC 2131 section 4.4.1)."],
    ]
    optParameters: list[list[Any]] = [
        ["lease-time", None, DEFAULT_LEASE_TIME, "Seconds a lease lasts.", int],
        ["domain", None, None, "Domain name for clients (option 15)."],
        ["port", None, SERVER_PORT, "The port --interface sockets listen on.", int],
        ["relay-port", None, SERVER_PORT, "The port replies to relay agents go to.", int],
        ["client-port", None, CLIENT_PORT, "The port replies to clients go to.", int],
    ]

    def __init__(self) -> None:
        super().__init__()
        for name in ("interface", "pool", "subnet", "router", "dns", "reserve"):
            self[name] = []
        self.subnets: list[Subnet] = []
        self.interfaceAddresses: dict[str, ipaddress.IPv4Interface] = {}

    def opt_interface(self, name: str) -> None:
        """A network interface to serve (UDP port 67 on that device). Repeatable."""
        self["interface"].append(name)

    def opt_pool(self, text: str) -> None:
        """Addresses to lease, FIRST-LAST. Repeatable."""
        self["pool"].append(text)

    def opt_subnet(self, text: str) -> None:
        """A network served, CIDR (default: each interface's network). Repeatable."""
        self["subnet"].append(text)

    def opt_router(self, text: str) -> None:
        """A router for the subnet that holds it (option 3). Repeatable."""
        self["router"].append(text)

    def opt_dns(self, text: str) -> None:
        """A DNS server for every subnet (option 6). Repeatable."""
        self["dns"].append(text)

    def opt_reserve(self, text: str) -> None:
        """A static reservation, MAC=ADDR. Repeatable."""
        self["reserve"].append(text)

    def postOptions(self) -> None:
        super().postOptions()
        if not self["interface"] and not self["listen"]:
            raise usage.UsageError("give --interface IF (or --listen udp:PORT:interface=ADDR)")
        if not self["pool"] and not self["reserve"]:
            raise usage.UsageError("give at least one --pool FIRST-LAST")
        if self["lease-time"] < 60:
            raise usage.UsageError("--lease-time must be at least 60 seconds")
        from netref.dhcp import netif

        for name in self["interface"]:
            try:
                address = netif.interfaceAddress(name)
            except OSError as e:
                raise usage.UsageError(f"interface {name}: {e.strerror or e}") from None
            if address is None:
                raise usage.UsageError(f"interface {name} has no IPv4 address")
            self.interfaceAddresses[name] = address
        try:
            self.subnets = buildSubnets(
                networks=self["subnet"]
                or [str(a.network) for a in self.interfaceAddresses.values()],
                pools=self["pool"],
                routers=self["router"],
                dnsServers=self["dns"],
                domainName=self["domain"],
                leaseTime=self["lease-time"],
                reservations=self["reserve"],
            )
        except ValueError as e:
            raise usage.UsageError(str(e)) from None
        for description in self["listen"]:
            if parseDatagramListen(description).interface in ("0.0.0.0", ""):
                raise usage.UsageError(
                    "a --listen address must be a specific address: it is the server identifier"
                )


def buildSubnets(
    networks: Sequence[str],
    pools: Sequence[str],
    routers: Sequence[str] = (),
    dnsServers: Sequence[str] = (),
    domainName: str | None = None,
    leaseTime: int = DEFAULT_LEASE_TIME,
    reservations: Sequence[str] = (),
) -> list[Subnet]:
    """
    Make the subnets from command-line text, giving each pool, router and
    reservation to the network that holds it.

    @raise ValueError: for malformed text, or a pool, router or reservation
        that no network holds.
    """
    nets = [ipaddress.IPv4Network(text, strict=False) for text in networks]
    if not nets:
        raise ValueError("no subnet: give --subnet CIDR")

    def home(address: str, what: str) -> int:
        ip = ipaddress.IPv4Address(address)
        for i, net in enumerate(nets):
            if ip in net:
                return i
        raise ValueError(f"{what} {address} is in no subnet: give --subnet CIDR")

    poolsOf: list[list[str]] = [[] for _ in nets]
    for pool in pools:
        first = pool.partition("-")[0].strip()
        poolsOf[home(first, "pool")].append(pool)
    routersOf: list[list[str]] = [[] for _ in nets]
    for router in routers:
        routersOf[home(router, "router")].append(router)
    reservedOf: list[dict[str, str]] = [{} for _ in nets]
    for spec in reservations:
        mac, sep, address = spec.partition("=")
        if not sep:
            raise ValueError(f"a reservation is MAC=ADDR, not {spec!r}")
        reservedOf[home(address, "reservation")][normalizeMAC(mac)] = address
    return [
        Subnet.fromText(
            str(net),
            pools=poolsOf[i],
            routers=routersOf[i],
            dnsServers=dnsServers,
            domainName=domainName,
            leaseTime=leaseTime,
            reservations=reservedOf[i],
        )
        for i, net in enumerate(nets)
    ]


def makeService(options: Options) -> MultiService:
    """
    @return: one service per interface and per C{--listen}, all deciding
        with one L{DHCPServer}.
    """
    state = options.stateDirectory()
    try:
        store = LeaseStore(state.child(LEASE_FILE).path if state is not None else None)
    except LeaseFileError as e:
        raise usage.UsageError(str(e)) from None
    server = DHCPServer(
        options.subnets,
        store,
        conflictCheck=pingCheck if options["ping-check"] else None,
        relayPort=options["relay-port"],
        clientPort=options["client-port"],
    )
    top = MultiService()
    for name in options["interface"]:
        InterfaceService(
            name,
            options["port"],
            lambda address: DHCPServerProtocol(server, str(address.ip), address.network),
        ).setServiceParent(top)
    for description in options["listen"]:
        where = parseDatagramListen(description)
        datagramService(description, DHCPServerProtocol(server, where.interface)).setServiceParent(
            top
        )
    startTracingIfAsked(options)
    return top


def makeLabDHCPServices(
    address: str,
    port: int,
    relayPort: int,
    network: str = "127.2.4.0/24",
    pool: str = "127.2.4.100-127.2.4.199",
    routers: Sequence[str] = ("127.2.4.2",),
    dnsServers: Sequence[str] = (),
    domainName: str | None = "someschool.edu",
    leaseTime: int = 3600,
    stateDirectory: str | None = None,
) -> list[IService]:
    """
    The lab's DHCP server (the textbook's section on DHCP: a server on the
    school's network, reached through the relay agent on the router): a
    plain UDP socket on C{address:port}, answering relay agents on
    C{relayPort}.

    @param stateDirectory: where the lease files go (made if missing), or
        L{None} to keep the leases in memory.
    @return: one service, not yet started nor given a parent.
    """
    subnets = buildSubnets(
        [network], [pool], routers, dnsServers, domainName=domainName, leaseTime=leaseTime
    )
    store = LeaseStore()
    if stateDirectory is not None:
        os.makedirs(stateDirectory, exist_ok=True)
        store = LeaseStore(os.path.join(stateDirectory, LEASE_FILE))
    server = DHCPServer(subnets, store, relayPort=relayPort)
    return [
        datagramService(f"udp:{port}:interface={address}", DHCPServerProtocol(server, address))
    ]


#: The lab's DHCP server and relay agent (proposed lab hosts).
LAB_SERVER_ADDRESS = "127.2.4.1"
LAB_RELAY_ADDRESS = "127.2.4.2"


def labRelayPort(serverPort: int) -> int:
    """
    The lab's relay agent port, given the server's: both 67 as root (they
    have addresses of their own), else L{LAB_RELAY_PORT} beside
    L{LAB_SERVER_PORT}: the relay's port is the server's plus one.
    """
    return SERVER_PORT if serverPort == SERVER_PORT else serverPort + 1


def buildLabServer(host: Any, port: int, state: str | None = None) -> list[IService]:
    """
    For L{netref.lab.kinds.ServiceKind.build}: the lab's DHCP server on
    C{host.address:port}, answering the lab's relay agent on
    L{labRelayPort}C{(port)}, its leases in the host's C{state} directory.
    """
    return makeLabDHCPServices(host.address, port, labRelayPort(port), stateDirectory=state)
