"""
The DHCP relay agent (RFC 2131 section 4.1, RFC 1542 section 4, RFC 3046):
what a router runs so that clients on its networks reach a server on
another.

A client's DHCPDISCOVER is a broadcast, and routers do not forward
broadcasts.  The relay agent on the client's network receives it on port
67 and unicasts it to the server, after:

  - filling C{giaddr} with its own address on the client's network, but
    only when C{giaddr} is zero (RFC 1542 section 4.1.1: an upstream relay
    agent already filled it, and the server's reply must go back to it);
  - adding one to C{hops}, and dropping the request when C{hops} already
    reached the maximum (RFC 1542 section 4.1.1);
  - adding the relay agent information option (82) as the last option,
    before END (RFC 3046 section 2.1), with the circuit id of the link the
    request came in on.  A request with C{giaddr} zero that already carries
    option 82 came from an untrusted client and is dropped (RFC 3046
    section 2.1).

The server answers the relay agent at C{giaddr}, port 67, echoing option 82.
The agent strips option 82 (RFC 3046 section 2.2) and sends the reply on
the client's network: to C{ciaddr} when it is set, else broadcast (the
broadcast bit set or not: unicast to C{yiaddr} would need an ARP entry for
a client that has no address yet, RFC 1542 section 5.4).

On loopback (the lab), where there is no broadcast, a request that came from
a unicast source address gets its reply back at that address and port: the
agent remembers, for L{SOURCE_MEMORY} seconds, where each C{(xid, chaddr)}
came from.

L{RelayAgent} makes these decisions and knows nothing of sockets;
L{RelayProtocol} moves the datagrams.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from twisted.internet.interfaces import IReactorTime, IUDPTransport
from twisted.internet.protocol import DatagramProtocol
from twisted.logger import Logger

from netref.core.trace import Transcript
from netref.dhcp.wire import (
    AGENT_CIRCUIT_ID,
    BOOTREPLY,
    BOOTREQUEST,
    CLIENT_PORT,
    ZERO,
    Option,
    Packet,
    WireError,
    decodePacket,
    encodeOptionsLast,
    encodePacket,
    encodeRelayAgentInformation,
)

__all__ = ["MAX_HOPS", "RelayAgent", "RelayProtocol", "Forward"]

#: The most relay agents a request may pass (RFC 1542 section 4.1.1 says
#: the maximum should be configurable, with 4 as a typical value; RFC 951
#: allows up to 16).
MAX_HOPS = 4

#: Seconds a unicast client's source address is remembered.
SOURCE_MEMORY = 60.0

BROADCAST = "255.255.255.255"

log = Logger(namespace="netref.dhcp.relay")


@dataclass(frozen=True)
class Forward:
    """
    A packet to forward.

    @ivar packet: the packet, as changed by the agent.
    @ivar host: the destination address.
    @ivar port: the destination port.
    @ivar link: the agent's address on the link it goes out on (for a
        reply, its C{giaddr}).
    """

    packet: Packet
    host: str
    port: int
    link: str


class RelayAgent:
    """
    The decisions of a relay agent.

    @ivar servers: C{(address, port)} of every server requests go to.
    @ivar maxHops: requests with this many hops already are dropped.
    @ivar addAgentInformation: whether option 82 is added.
    @ivar clientPort: the port replies to clients go to.
    """

    def __init__(
        self,
        servers: Sequence[tuple[str, int]],
        clock: IReactorTime,
        maxHops: int = MAX_HOPS,
        addAgentInformation: bool = True,
        clientPort: int = CLIENT_PORT,
    ) -> None:
        self.servers = list(servers)
        self.clock = clock
        self.maxHops = maxHops
        self.addAgentInformation = addAgentInformation
        self.clientPort = clientPort
        self._sources: dict[tuple[int, bytes], tuple[str, int, float]] = {}

    def fromClient(
        self,
        packet: Packet,
        link: str,
        circuitId: bytes,
        source: tuple[str, int] | None = None,
    ) -> list[Forward]:
        """
        A BOOTREQUEST arrived on the link where the agent's address is
        C{link}: forward it to every server.

        @param circuitId: the name of the link, for option 82.
        @param source: where the datagram came from.
        @return: what to send, nothing when the request is dropped.
        """
        if packet.op != BOOTREQUEST:
            return []
        if packet.hops >= self.maxHops:
            log.info("dropped {summary}: hop limit", summary=packet.summary())
            return []
        hasAgentInfo = packet.option(Option.RELAY_AGENT_INFORMATION) is not None
        changed = replace(packet, hops=packet.hops + 1)
        if packet.giaddr == ZERO:
            if hasAgentInfo:
                # RFC 3046 section 2.1: from a client, option 82 is forged.
                log.info("dropped {summary}: option 82 from a client", summary=packet.summary())
                return []
            changed = replace(changed, giaddr=link)
            if self.addAgentInformation:
                info = encodeRelayAgentInformation([(AGENT_CIRCUIT_ID, circuitId)])
                changed = encodeOptionsLast(changed, Option.RELAY_AGENT_INFORMATION, info)
        if source is not None and source[0] != ZERO:
            now = self.clock.seconds()
            self._forget(now)
            self._sources[(packet.xid, packet.chaddr)] = (source[0], source[1], now)
        return [Forward(changed, host, port, link) for host, port in self.servers]

    def _forget(self, now: float) -> None:
        if len(self._sources) < 1024:
            return
        for key, (_, _, when) in list(self._sources.items()):
            if now - when > SOURCE_MEMORY:
                del self._sources[key]

    def fromServer(self, packet: Packet, links: Sequence[str]) -> Forward | None:
        """
        A BOOTREPLY arrived from a server: send it on to the client.

        @param links: the agent's addresses on its client links; a reply
            whose C{giaddr} is not one of them is not for this agent.
        @return: what to send, or L{None} when the reply is dropped.
        """
        if packet.op != BOOTREPLY or packet.giaddr not in links:
            return None
        reply = packet.withoutOption(Option.RELAY_AGENT_INFORMATION)
        remembered = self._sources.get((packet.xid, packet.chaddr))
        if remembered is not None and self.clock.seconds() - remembered[2] <= SOURCE_MEMORY:
            return Forward(reply, remembered[0], remembered[1], packet.giaddr)
        if packet.ciaddr != ZERO:
            return Forward(reply, packet.ciaddr, self.clientPort, packet.giaddr)
        return Forward(reply, BROADCAST, self.clientPort, packet.giaddr)


class RelayLink:
    """
    One client link of a relay: the agent's address there, its circuit id,
    and the transports that reach its clients and the servers.
    """

    def __init__(self, address: str, circuitId: bytes) -> None:
        self.address = address
        self.circuitId = circuitId
        self.toClients: IUDPTransport | None = None
        self.toServers: IUDPTransport | None = None


class DHCPRelay:
    """
    A relay agent's links and the agent deciding for them.
    """

    def __init__(self, agent: RelayAgent) -> None:
        self.agent = agent
        self.links: dict[str, RelayLink] = {}
        self.transcript = Transcript()

    def addLink(self, address: str, circuitId: bytes) -> RelayLink:
        """
        @return: a new link, on which the agent's address is C{address}.
        """
        link = self.links[address] = RelayLink(address, circuitId)
        return link

    def received(self, link: RelayLink, datagram: bytes, source: tuple[str, int]) -> None:
        """
        A datagram arrived on one of C{link}'s sockets.
        """
        try:
            packet = decodePacket(datagram)
        except WireError as e:
            log.info(
                "dropped a malformed datagram from {source}: {error}",
                source=f"{source[0]}:{source[1]}",
                error=str(e),
            )
            return
        if self.transcript.enabled:
            side = "C" if packet.op == BOOTREQUEST else "S"
            self.transcript.line(side, f"{source[0]}:{source[1]} {packet.summary()}")
        if packet.op == BOOTREQUEST:
            for forward in self.agent.fromClient(packet, link.address, link.circuitId, source):
                self._send(link.toServers, forward)
        else:
            reply = self.agent.fromServer(packet, list(self.links))
            if reply is not None:
                self._send(self.links[reply.link].toClients, reply)

    def _send(self, transport: IUDPTransport | None, forward: Forward) -> None:
        if transport is None:
            return
        if self.transcript.enabled:
            self.transcript.note(
                f"relayed {forward.packet.summary()} -> {forward.host}:{forward.port}"
            )
        try:
            # What came in fitted; with option 82 added a request may grow
            # past 576 octets, which a server on Ethernet takes (1500).
            data = encodePacket(forward.packet, maxSize=1500)
        except WireError as e:
            log.info("not relayed: {error}", error=str(e))
            return
        try:
            transport.write(data, (forward.host, forward.port))
        except OSError as e:
            log.info("cannot send to {host}: {error}", host=forward.host, error=e)


class RelayProtocol(DatagramProtocol):
    """
    One socket of a relay agent: requests from clients, or replies from
    servers, or both (on loopback, where one socket does everything).
    """

    transport: IUDPTransport

    def __init__(
        self, relay: DHCPRelay, link: RelayLink, toClients: bool, toServers: bool
    ) -> None:
        """
        @param toClients: whether replies to this link's clients leave by
            this socket.
        @param toServers: whether requests to the servers leave by it.
        """
        self.relay = relay
        self.link = link
        self._toClients = toClients
        self._toServers = toServers

    def startProtocol(self) -> None:
        if self._toClients:
            self.link.toClients = self.transport
        if self._toServers:
            self.link.toServers = self.transport

    def datagramReceived(self, datagram: bytes, addr: Any) -> None:
        self.relay.received(self.link, datagram, (addr[0], addr[1]))
