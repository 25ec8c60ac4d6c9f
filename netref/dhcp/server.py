"""
The DHCP server: its decisions (RFC 2131 section 4.3) and the thin Twisted
protocol that feeds them.

L{DHCPServer} decides; it knows nothing of sockets.  It is given a decoded
request and an L{Arrival} (the address of the interface the request came in
on, which is also the server identifier it answers with), and returns the
reply, if any, with where it goes (L{Outgoing}).  L{DHCPServerProtocol}
moves datagrams: decode, ask the server, encode, write.

Decisions, by message type:

  - B{DHCPDISCOVER} (section 4.3.1): an address is chosen for the client:
    its static reservation, else its current binding, else the address it
    asks for if that is free, else the next free address of the pool.  The
    chosen address may be checked for a conflict first (section 4.4.1: "the
    server SHOULD probe the reused address before allocating", with ICMP
    echo); an address found in use is marked bad and the next is tried.  The
    offer is held for L{OFFER_HOLD} seconds.  An exhausted pool gets no
    offer, and a log line.
  - B{DHCPREQUEST} (section 4.3.2), by the client's state: I{selecting}
    (server identifier present): for another server, the offer is withdrawn;
    for this one, the requested address is acknowledged if it is still the
    client's to have, else refused with a NAK.  I{init-reboot} (requested
    address, no ciaddr): NAK when the address is on the wrong network or not
    the client's, silence when the server has no record of the client.
    I{renewing} and I{rebinding} (ciaddr): the lease is extended, or NAKed
    when the address is foreign or someone else's.
  - B{DHCPDECLINE} (section 4.3.3): the address is marked bad (for one
    lease time) and never offered meanwhile.
  - B{DHCPRELEASE} (section 4.3.4): the client's binding is freed.
  - B{DHCPINFORM} (section 4.3.5): a DHCPACK with the configuration, no
    lease time and no C{yiaddr}.

Every binding is written to the lease store (L{netref.dhcp.leases}) before
its DHCPACK is sent.  Acknowledgements made in the same turn of the reactor
share one write ("group commit"), which is what keeps a busy server from
spending its time in C{fsync}.

Replies go where section 4.1 says (L{replyDestination}): to a relay agent's
C{giaddr} on the server port; else to C{ciaddr}; else broadcast.  A server
could also unicast to C{yiaddr} when the broadcast bit is clear, but only by
writing the client's hardware address into its ARP table first (the client
cannot answer ARP for an address it does not have yet); netref broadcasts
instead, which every client accepts (the "honest fallback" the section
allows: "if unicasting is not possible, the message MAY be sent as an IP
broadcast").

Embedding, without twistd (the per-interface socket needs root)::

    from twisted.internet import reactor
    from netref.dhcp.server import DHCPServer, Subnet, DHCPServerProtocol
    from netref.dhcp.netif import listenOnInterface

    subnet = Subnet.fromText("10.0.0.0/24", pools=["10.0.0.100-10.0.0.199"],
                             routers=["10.0.0.1"], dnsServers=["10.0.0.1"])
    server = DHCPServer([subnet], clock=reactor)
    listenOnInterface(reactor, "eth1", 67, DHCPServerProtocol(server, "10.0.0.1"))
    reactor.run()
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from twisted.internet import defer
from twisted.internet.interfaces import IReactorTime, IUDPTransport
from twisted.internet.protocol import DatagramProtocol
from twisted.logger import Logger

from netref.core.trace import Transcript
from netref.dhcp.leases import BOUND, DECLINED, OFFERED, Lease, LeaseStore
from netref.dhcp.wire import (
    BOOTREPLY,
    BOOTREQUEST,
    BROADCAST_FLAG,
    CLIENT_PORT,
    SERVER_PORT,
    ZERO,
    MessageType,
    Option,
    Packet,
    WireError,
    addressesValue,
    decodePacket,
    encodePacket,
    secondsValue,
)

__all__ = [
    "Arrival",
    "DHCPServer",
    "DHCPServerProtocol",
    "Outgoing",
    "Subnet",
    "replyDestination",
]

#: The limited broadcast address (RFC 2131 section 4.1).
BROADCAST = "255.255.255.255"

#: The lease time when none is configured: one day.
DEFAULT_LEASE_TIME = 86400

#: Seconds an offered address is kept for the client it was offered to.
OFFER_HOLD = 60.0

#: How many addresses a DISCOVER may find in use before the server gives up.
MAX_CONFLICTS = 8

#: The highest C{hops} a request may have (RFC 1542 section 4.1.1 uses 16).
MAX_HOPS = 16

#: The parameters every reply carries when the subnet has them (RFC 2132).
_T1_FRACTION = 0.5  # RFC 2131 section 4.4.5
_T2_FRACTION = 0.875

log = Logger(namespace="netref.dhcp.server")


def _int(address: str) -> int:
    return int.from_bytes(socket.inet_pton(socket.AF_INET, address), "big")


def _text(number: int) -> str:
    return socket.inet_ntoa(number.to_bytes(4, "big"))


@dataclass
class Subnet:
    """
    One network the server hands out addresses on.

    @ivar network: the network, such as C{10.0.0.0/24}.
    @ivar pools: inclusive C{(first, last)} ranges of addresses to lease,
        as integers, all inside L{network}.
    @ivar routers: option 3.
    @ivar dnsServers: option 6.
    @ivar domainName: option 15, or L{None}.
    @ivar leaseTime: seconds a lease lasts (option 51).
    @ivar reservations: hardware address (C{"52:54:00:..."}) to the address
        always given to that client (a static reservation).
    """

    network: ipaddress.IPv4Network
    pools: list[tuple[int, int]] = field(default_factory=list)
    routers: list[str] = field(default_factory=list)
    dnsServers: list[str] = field(default_factory=list)
    domainName: str | None = None
    leaseTime: int = DEFAULT_LEASE_TIME
    reservations: dict[str, str] = field(default_factory=dict)
    _cursor: int = 0

    @classmethod
    def fromText(
        cls,
        network: str,
        pools: Iterable[str] = (),
        routers: Sequence[str] = (),
        dnsServers: Sequence[str] = (),
        domainName: str | None = None,
        leaseTime: int = DEFAULT_LEASE_TIME,
        reservations: dict[str, str] | None = None,
    ) -> Subnet:
        """
        Make a subnet from text, as options and configuration give it.

        @param pools: ranges C{"FIRST-LAST"}.
        @raise ValueError: if anything is malformed, or a pool or
            reservation lies outside the network.
        """
        net = ipaddress.IPv4Network(network, strict=False)
        ranges = []
        for text in pools:
            first, sep, last = text.partition("-")
            if not sep:
                raise ValueError(f"a pool is FIRST-LAST, not {text!r}")
            a, b = ipaddress.IPv4Address(first.strip()), ipaddress.IPv4Address(last.strip())
            if a > b or a not in net or b not in net:
                raise ValueError(f"pool {text} is not an ascending range inside {net}")
            ranges.append((int(a), int(b)))
        reserved = {}
        for mac, address in (reservations or {}).items():
            if ipaddress.IPv4Address(address) not in net:
                raise ValueError(f"reservation {address} is outside {net}")
            reserved[normalizeMAC(mac)] = address
        for address in [*routers, *dnsServers]:
            ipaddress.IPv4Address(address)
        if domainName is not None and (not domainName.isascii() or not 0 < len(domainName) < 256):
            raise ValueError(f"a domain name is 1 to 255 ASCII characters, not {domainName!r}")
        return cls(net, ranges, list(routers), list(dnsServers), domainName, leaseTime, reserved)

    def __contains__(self, address: object) -> bool:
        if not isinstance(address, str):
            return False
        network = self.network
        return _int(address) & int(network.netmask) == int(network.network_address)

    def inPool(self, address: str) -> bool:
        """
        @return: whether C{address} is one of the pool's addresses.
        """
        number = _int(address)
        return any(first <= number <= last for first, last in self.pools)

    def poolSize(self) -> int:
        """
        @return: how many addresses the pools hold.
        """
        return sum(last - first + 1 for first, last in self.pools)

    def addresses(self) -> Iterable[str]:
        """
        Every pool address once, starting after the last one handed out, so
        that a busy pool is not rescanned from its start each time.
        """
        numbers = [n for first, last in self.pools for n in (first, last)]
        if not numbers:
            return
        total = self.poolSize()
        for step in range(total):
            index = (self._cursor + step) % total
            for first, last in self.pools:
                size = last - first + 1
                if index < size:
                    yield _text(first + index)
                    break
                index -= size

    def advance(self, address: str) -> None:
        """
        Remember C{address} as the last one handed out from the pool.
        """
        number = _int(address)
        offset = 0
        for first, last in self.pools:
            if first <= number <= last:
                self._cursor = offset + number - first + 1
                return
            offset += last - first + 1


def normalizeMAC(text: str) -> str:
    """
    @return: a hardware address as lower-case colon-separated octets.
    @raise ValueError: if C{text} is not one.
    """
    digits = text.replace(":", "").replace("-", "").replace(".", "").lower()
    if not digits or len(digits) % 2 or len(digits) > 32:
        raise ValueError(f"not a hardware address: {text!r}")
    int(digits, 16)
    return ":".join(digits[i : i + 2] for i in range(0, len(digits), 2))


@dataclass(frozen=True)
class Arrival:
    """
    Where a request came in.

    @ivar serverAddress: the server's address on that interface: the server
        identifier (option 54) of the replies (RFC 2131 section 4.3.1).
    @ivar network: the network of that interface, which says the client's
        subnet for requests that do not come through a relay agent.
    """

    serverAddress: str
    network: ipaddress.IPv4Network | None = None


@dataclass(frozen=True)
class Outgoing:
    """
    A reply and where it goes.
    """

    packet: Packet
    host: str
    port: int


def replyDestination(
    request: Packet, reply: Packet, relayPort: int = SERVER_PORT, clientPort: int = CLIENT_PORT
) -> tuple[str, int]:
    """
    Where a reply goes (RFC 2131 section 4.1, "If the 'giaddr' field..."):

      1. C{giaddr} set: to the relay agent, on the server port;
      2. a DHCPNAK otherwise: broadcast (section 4.3.2);
      3. C{ciaddr} set: unicast to it (renewing, rebinding, INFORM);
      4. otherwise broadcast: when the broadcast bit is set, as the client
         asks, and when it is clear too, since unicasting to C{yiaddr} needs
         an ARP entry the client cannot yet answer for.

    @param relayPort: the relay agents' port (67; the lab's relay has its
        own unprivileged one).
    @param clientPort: the clients' port (68).
    @return: C{(host, port)}.
    """
    if request.giaddr != ZERO:
        return request.giaddr, relayPort
    if reply.messageType == MessageType.NAK:
        return BROADCAST, clientPort
    if request.ciaddr != ZERO:
        return request.ciaddr, clientPort
    return BROADCAST, clientPort


ConflictCheck = Callable[[str], "defer.Deferred[bool]"]


class DHCPServer:
    """
    The decisions of a DHCP server (RFC 2131 section 4.3).

    @ivar subnets: the networks served.
    @ivar store: the lease table.
    @ivar clock: where time comes from (the reactor, or a L{Clock}).
    @ivar conflictCheck: called with an address before it is offered;
        fires with whether something already uses it; L{None} for no check.
    @ivar relayPort: the port replies to relay agents go to.
    @ivar clientPort: the port replies to clients go to.
    """

    def __init__(
        self,
        subnets: Sequence[Subnet],
        store: LeaseStore | None = None,
        clock: IReactorTime | None = None,
        conflictCheck: ConflictCheck | None = None,
        relayPort: int = SERVER_PORT,
        clientPort: int = CLIENT_PORT,
        offerHold: float = OFFER_HOLD,
    ) -> None:
        if clock is None:
            from twisted.internet import reactor

            clock = reactor
        assert clock is not None
        self.subnets = list(subnets)
        self.store = store if store is not None else LeaseStore()
        self.clock = clock
        self.conflictCheck = conflictCheck
        self.relayPort = relayPort
        self.clientPort = clientPort
        self.offerHold = offerHold
        self._commitPending: list[defer.Deferred[None]] = []
        self._commitScheduled = False

    # -- where a client is --------------------------------------------------

    def subnetFor(self, request: Packet, arrival: Arrival) -> Subnet | None:
        """
        The client's subnet (RFC 2131 section 4.3.1): the one holding
        C{giaddr} when a relay agent forwarded the request, else the one
        holding C{ciaddr}, else the one of the interface it came in on.
        """
        if request.giaddr != ZERO:
            return self._subnetHolding(request.giaddr)
        if request.ciaddr != ZERO:
            found = self._subnetHolding(request.ciaddr)
            if found is not None:
                return found
        if arrival.network is not None:
            for subnet in self.subnets:
                if subnet.network.overlaps(arrival.network):
                    return subnet
            return None
        return self._subnetHolding(arrival.serverAddress) or (
            self.subnets[0] if len(self.subnets) == 1 else None
        )

    def _subnetHolding(self, address: str) -> Subnet | None:
        for subnet in self.subnets:
            if address in subnet:
                return subnet
        return None

    # -- what is free ---------------------------------------------------------

    def _now(self) -> float:
        return self.clock.seconds()

    def _live(self, address: str) -> Lease | None:
        lease = self.store.byAddress(address)
        if lease is not None and lease.expires <= self._now():
            self.store.remove(address)
            return None
        return lease

    def _reservedFor(self, subnet: Subnet, address: str) -> str | None:
        for mac, reserved in subnet.reservations.items():
            if reserved == address:
                return mac
        return None

    def availableTo(self, subnet: Subnet, address: str, request: Packet) -> bool:
        """
        Whether C{address} may be given to the client of C{request}: in the
        subnet's pool or reserved for the client, not reserved for another,
        not bound to or offered to another client, and not declined.
        """
        if address not in subnet:
            return False
        reservedFor = self._reservedFor(subnet, address)
        if reservedFor is not None and reservedFor != request.hardwareAddress:
            return False
        if reservedFor is None and not subnet.inPool(address):
            return False
        lease = self._live(address)
        if lease is None:
            return True
        return lease.state != DECLINED and lease.client == request.clientKey()

    def _candidates(self, subnet: Subnet, request: Packet, arrival: Arrival) -> Iterable[str]:
        """
        The addresses to consider for a DHCPDISCOVER, best first (RFC 2131
        section 4.3.1): the client's reservation; else its current binding,
        the address it asks for, and the pool's free addresses.  Never the
        server's own address, nor a router's (a pool drawn over them by
        mistake must not hand them out).
        """
        reserved = subnet.reservations.get(request.hardwareAddress)
        if reserved is not None:
            yield reserved
            return
        taken = {arrival.serverAddress, *subnet.routers}
        current = self.store.byClient(request.clientKey())
        if current is not None and current.address in subnet and current.address not in taken:
            yield current.address
        asked = request.requestedAddress
        if asked is not None and asked not in taken:
            yield asked
        for address in subnet.addresses():
            if (
                self._live(address) is None
                and address not in taken
                and self._reservedFor(subnet, address) is None
            ):
                yield address

    # -- replies --------------------------------------------------------------

    def _reply(
        self,
        request: Packet,
        kind: MessageType,
        arrival: Arrival,
        subnet: Subnet | None,
        yiaddr: str = ZERO,
        leaseTime: int | None = None,
        message: str | None = None,
    ) -> Outgoing:
        """
        Build a reply (RFC 2131 section 4.3.1, table 3): the request's
        C{xid}, C{chaddr}, C{flags} and C{giaddr}, the message type first,
        the server identifier, the lease times, the subnet's parameters
        (not in a NAK), and the client identifier and relay agent
        information echoed back (RFC 6842; RFC 3046 section 2.2).
        """
        options: list[tuple[int, bytes]] = [
            (Option.MESSAGE_TYPE, bytes([kind])),
            (Option.SERVER_IDENTIFIER, addressesValue([arrival.serverAddress])),
        ]
        if leaseTime is not None:
            options += [
                (Option.LEASE_TIME, secondsValue(leaseTime)),
                (Option.RENEWAL_TIME, secondsValue(int(leaseTime * _T1_FRACTION))),
                (Option.REBINDING_TIME, secondsValue(int(leaseTime * _T2_FRACTION))),
            ]
        if subnet is not None and kind != MessageType.NAK:
            options.append((Option.SUBNET_MASK, subnet.network.netmask.packed))
            if subnet.routers:
                options.append((Option.ROUTER, addressesValue(subnet.routers)))
            if subnet.dnsServers:
                options.append((Option.DOMAIN_NAME_SERVER, addressesValue(subnet.dnsServers)))
            if subnet.domainName:
                options.append((Option.DOMAIN_NAME, subnet.domainName.encode("ascii")))
        if message is not None:
            options.append((Option.MESSAGE, message.encode("ascii", "replace")))
        identifier = request.clientIdentifier
        if identifier is not None:
            options.append((Option.CLIENT_IDENTIFIER, identifier))
        agent = request.option(Option.RELAY_AGENT_INFORMATION)
        if agent is not None:
            options.append((Option.RELAY_AGENT_INFORMATION, agent))
        flags = request.flags
        if kind == MessageType.NAK and request.giaddr != ZERO:
            # Section 4.3.2: the relay agent must broadcast a NAK.
            flags |= BROADCAST_FLAG
        reply = Packet(
            op=BOOTREPLY,
            xid=request.xid,
            chaddr=request.chaddr,
            htype=request.htype,
            flags=flags,
            ciaddr=request.ciaddr if kind == MessageType.ACK else ZERO,
            yiaddr=yiaddr,
            giaddr=request.giaddr,
            options=tuple(options),
        )
        host, port = replyDestination(request, reply, self.relayPort, self.clientPort)
        return Outgoing(reply, host, port)

    def _leaseTime(self, subnet: Subnet, request: Packet) -> int:
        asked = request.leaseTime
        if asked is not None and 0 < asked < subnet.leaseTime:
            return asked
        return subnet.leaseTime

    # -- the decisions --------------------------------------------------------

    def handle(self, request: Packet, arrival: Arrival) -> defer.Deferred[Outgoing | None]:
        """
        Decide what to answer to C{request}.

        @return: a Deferred that fires with the reply and its destination,
            or L{None} when the request gets no reply.  It fires at once
            unless a conflict check or a lease write is pending.
        """
        if request.op != BOOTREQUEST:
            return defer.succeed(None)
        if request.hops > MAX_HOPS:
            log.info("dropped {summary}: too many hops", summary=request.summary())
            return defer.succeed(None)
        kind = request.messageType
        if kind == MessageType.DISCOVER:
            return self.discover(request, arrival)
        if kind == MessageType.REQUEST:
            return self.request(request, arrival)
        if kind == MessageType.DECLINE:
            self.decline(request, arrival)
        elif kind == MessageType.RELEASE:
            self.release(request, arrival)
        elif kind == MessageType.INFORM:
            return defer.succeed(self.inform(request, arrival))
        else:
            log.info("ignored {summary}: not a client message", summary=request.summary())
        return defer.succeed(None)

    def discover(self, request: Packet, arrival: Arrival) -> defer.Deferred[Outgoing | None]:
        """
        DHCPDISCOVER (RFC 2131 section 4.3.1): offer an address, or nothing.
        Without a conflict check the decision is made at once.
        """
        subnet = self.subnetFor(request, arrival)
        if subnet is None:
            log.info("no subnet for {summary}: no offer", summary=request.summary())
            return defer.succeed(None)
        if self.conflictCheck is not None:
            return defer.ensureDeferred(self._discoverChecked(request, arrival, subnet))
        for address in self._candidates(subnet, request, arrival):
            if self.availableTo(subnet, address, request):
                return defer.succeed(self._offer(request, arrival, subnet, address))
        self._exhausted(subnet, request)
        return defer.succeed(None)

    async def _discoverChecked(
        self, request: Packet, arrival: Arrival, subnet: Subnet
    ) -> Outgoing | None:
        """
        L{discover} with a probe of each new address before it is offered.
        """
        assert self.conflictCheck is not None
        conflicts = 0
        for address in self._candidates(subnet, request, arrival):
            if not self.availableTo(subnet, address, request):
                continue
            if self._live(address) is None:
                inUse = await self.conflictCheck(address)
                if inUse:
                    # Section 4.4.1 (and 4.3.1): an address in use is not
                    # offered; remember it as bad for a while.
                    log.warn("{address} answers a probe: marked bad", address=address)
                    self.store.put(
                        Lease(address, "", "", DECLINED, self._now() + subnet.leaseTime)
                    )
                    conflicts += 1
                    if conflicts >= MAX_CONFLICTS:
                        break
                    continue
                if not self.availableTo(subnet, address, request):
                    continue  # Taken while the probe ran.
            return self._offer(request, arrival, subnet, address)
        self._exhausted(subnet, request)
        return None

    def _offer(self, request: Packet, arrival: Arrival, subnet: Subnet, address: str) -> Outgoing:
        """
        Hold C{address} for the client for L{OFFER_HOLD} seconds, and make
        the DHCPOFFER.
        """
        current = self._live(address)
        if current is None or current.state == OFFERED:
            self.store.put(
                Lease(
                    address,
                    request.clientKey(),
                    request.hardwareAddress,
                    OFFERED,
                    self._now() + self.offerHold,
                ),
                durable=False,
            )
        if subnet.inPool(address):
            subnet.advance(address)
        leaseTime = self._leaseTime(subnet, request)
        return self._reply(request, MessageType.OFFER, arrival, subnet, address, leaseTime)

    def _exhausted(self, subnet: Subnet, request: Packet) -> None:
        log.warn(
            "pool of {network} exhausted: no offer to {chaddr}",
            network=str(subnet.network),
            chaddr=request.hardwareAddress,
        )

    def request(self, request: Packet, arrival: Arrival) -> defer.Deferred[Outgoing | None]:
        """
        DHCPREQUEST (RFC 2131 section 4.3.2).
        """
        subnet = self.subnetFor(request, arrival)
        serverId = request.serverIdentifier
        asked = request.requestedAddress
        key = request.clientKey()
        mine = self.store.byClient(key)
        if mine is not None and self._live(mine.address) is None:
            mine = None

        def nak(reason: str) -> defer.Deferred[Outgoing | None]:
            log.info("NAK to {chaddr}: {reason}", chaddr=request.hardwareAddress, reason=reason)
            return defer.succeed(
                self._reply(request, MessageType.NAK, arrival, subnet, message=reason)
            )

        if serverId is not None:
            # SELECTING.
            if serverId != arrival.serverAddress:
                if mine is not None and mine.state == OFFERED:
                    self.store.remove(mine.address)
                return defer.succeed(None)
            if asked is None or request.ciaddr != ZERO:
                return nak("a REQUEST in SELECTING names the requested address, not ciaddr")
            if subnet is None or not self.availableTo(subnet, asked, request):
                return nak(f"{asked} is not available")
            return self._acknowledge(request, arrival, subnet, asked)
        if asked is not None and request.ciaddr == ZERO:
            # INIT-REBOOT: the client checks its remembered address.
            if subnet is None or asked not in subnet:
                return nak(f"{asked} is on the wrong network")
            if mine is not None:
                if mine.address != asked:
                    return nak(f"{asked} is not the address of this client")
                return self._acknowledge(request, arrival, subnet, asked)
            holder = self._live(asked)
            if holder is not None and holder.client != key:
                return nak(f"{asked} belongs to another client")
            # No record of this client: the server MUST remain silent.
            return defer.succeed(None)
        if request.ciaddr != ZERO:
            # RENEWING (unicast) or REBINDING (broadcast).
            address = request.ciaddr
            if subnet is None or address not in subnet:
                return nak(f"{address} is not on a network this server serves")
            if mine is not None and mine.address == address:
                return self._acknowledge(request, arrival, subnet, address)
            if not self.availableTo(subnet, address, request):
                return nak(f"{address} is not this client's")
            return self._acknowledge(request, arrival, subnet, address)
        log.info("dropped {summary}: a REQUEST with no address", summary=request.summary())
        return defer.succeed(None)

    def _acknowledge(
        self, request: Packet, arrival: Arrival, subnet: Subnet, address: str
    ) -> defer.Deferred[Outgoing | None]:
        leaseTime = self._leaseTime(subnet, request)
        self.store.put(
            Lease(
                address,
                request.clientKey(),
                request.hardwareAddress,
                BOUND,
                self._now() + leaseTime,
            ),
            durable=False,
        )
        reply = self._reply(request, MessageType.ACK, arrival, subnet, address, leaseTime)
        return self._commit().addCallback(lambda _: reply)

    def _commit(self) -> defer.Deferred[None]:
        """
        Write the lease table before the acknowledgements of this turn go
        out: one write for all of them.
        """
        d: defer.Deferred[None] = defer.Deferred()
        self._commitPending.append(d)
        if not self._commitScheduled:
            self._commitScheduled = True
            self.clock.callLater(0, self._flush)
        return d

    def _flush(self) -> None:
        self._commitScheduled = False
        waiting, self._commitPending = self._commitPending, []
        try:
            self.store.commit()
        except OSError as e:
            log.error("cannot write the lease file: {error}; no DHCPACK sent", error=e)
            for d in waiting:
                d.errback(e)
            return
        for d in waiting:
            d.callback(None)

    def decline(self, request: Packet, arrival: Arrival) -> None:
        """
        DHCPDECLINE (RFC 2131 section 4.3.3): the client found its address
        in use; mark it bad.  Only the client the address was given to may
        decline it, so a stranger cannot empty the pool.
        """
        address = request.requestedAddress
        if address is None:
            return
        serverId = request.serverIdentifier
        if serverId is not None and serverId != arrival.serverAddress:
            return
        lease = self._live(address)
        if lease is None or lease.client != request.clientKey():
            log.info("ignored a DECLINE of {address} by a stranger", address=address)
            return
        subnet = self._subnetHolding(address)
        hold = subnet.leaseTime if subnet is not None else DEFAULT_LEASE_TIME
        log.warn("{chaddr} declined {address}: marked bad", chaddr=lease.chaddr, address=address)
        self.store.put(Lease(address, "", "", DECLINED, self._now() + hold))

    def release(self, request: Packet, arrival: Arrival) -> None:
        """
        DHCPRELEASE (RFC 2131 section 4.3.4): free the client's binding of
        C{ciaddr}.
        """
        serverId = request.serverIdentifier
        if serverId is not None and serverId != arrival.serverAddress:
            return
        lease = self.store.byClient(request.clientKey())
        if lease is not None and lease.address == request.ciaddr:
            self.store.remove(lease.address, durable=True)

    def inform(self, request: Packet, arrival: Arrival) -> Outgoing | None:
        """
        DHCPINFORM (RFC 2131 section 4.3.5): a client with an address asks
        for the rest of its configuration; no lease, no C{yiaddr}.
        """
        if request.ciaddr == ZERO:
            return None
        subnet = self.subnetFor(request, arrival)
        return self._reply(request, MessageType.ACK, arrival, subnet)


def describe(data: bytes) -> str:
    """
    @return: a one-line summary of a datagram for a transcript.
    """
    try:
        return decodePacket(data).summary()
    except WireError as e:
        return f"malformed ({len(data)} octets): {e}"


class DHCPServerProtocol(DatagramProtocol):
    """
    The server on one UDP socket: decode, decide, encode, send.

    Malformed datagrams are dropped with a log line: a DHCP server cannot
    tell a client "bad request" (RFC 2131 has no such reply).

    @ivar server: the decisions.
    @ivar arrival: what a request received here says about its origin.
    """

    transport: IUDPTransport

    def __init__(
        self,
        server: DHCPServer,
        serverAddress: str,
        network: ipaddress.IPv4Network | None = None,
    ) -> None:
        """
        @param serverAddress: this socket's address: the server identifier.
        @param network: the network of this socket's interface, or L{None}
            when requests reach it only through relay agents.
        """
        self.server = server
        self.arrival = Arrival(serverAddress, network)
        self.transcript = Transcript()

    def datagramReceived(self, datagram: bytes, addr: Any) -> None:
        try:
            request = decodePacket(datagram)
        except WireError as e:
            log.info(
                "dropped a malformed datagram from {source}: {error}",
                source=f"{addr[0]}:{addr[1]}",
                error=str(e),
            )
            return
        if request.op != BOOTREQUEST:
            return
        if self.transcript.enabled:
            self.transcript.client(f"{addr[0]}:{addr[1]} {request.summary()}")
        self.server.handle(request, self.arrival).addCallbacks(self._send, self._failed)

    def _send(self, outgoing: Outgoing | None) -> None:
        if outgoing is None:
            return
        if self.transcript.enabled:
            self.transcript.server(
                f"{outgoing.packet.summary()} -> {outgoing.host}:{outgoing.port}"
            )
        try:
            # 576 octets, the most every client takes (RFC 2131 section 2);
            # more options go to file and sname (overload).
            data = encodePacket(outgoing.packet)
        except WireError as e:
            log.info(
                "reply to {chaddr} not sent: {error}",
                chaddr=outgoing.packet.hardwareAddress,
                error=str(e),
            )
            return
        try:
            self.transport.write(data, (outgoing.host, outgoing.port))
        except OSError as e:
            log.info("cannot send to {host}: {error}", host=outgoing.host, error=e)

    def _failed(self, failure: Any) -> None:
        log.failure("request not answered", failure)
