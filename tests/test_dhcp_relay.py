"""
Tests for L{netref.dhcp.relay}: C{giaddr}, C{hops}, option 82, and where
replies go; and the relay between a client and a server over loopback.
"""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.internet import defer
from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase, TestCase

from netref.dhcp.relay import DHCPRelay, RelayAgent, RelayProtocol
from netref.dhcp.relaytap import Options, parseServer
from netref.dhcp.wire import (
    AGENT_CIRCUIT_ID,
    BOOTREPLY,
    BOOTREQUEST,
    BROADCAST_FLAG,
    MessageType,
    Option,
    Packet,
    decodePacket,
    encodePacket,
    encodeRelayAgentInformation,
)
from tests.test_dhcp_wire import packets

LINK = "10.1.0.1"
SERVER = ("10.2.0.2", 67)
MAC = bytes.fromhex("020000000001")


def discover(**changes: object) -> Packet:
    packet = Packet(
        op=BOOTREQUEST,
        xid=42,
        chaddr=MAC,
        flags=BROADCAST_FLAG,
        options=(
            (Option.MESSAGE_TYPE, bytes([MessageType.DISCOVER])),
            (Option.PARAMETER_REQUEST_LIST, bytes([1, 3])),
        ),
    )
    return replace(packet, **changes)  # type: ignore[arg-type]


def offer(**changes: object) -> Packet:
    packet = Packet(
        op=BOOTREPLY,
        xid=42,
        chaddr=MAC,
        flags=BROADCAST_FLAG,
        yiaddr="10.1.0.100",
        giaddr=LINK,
        options=(
            (Option.MESSAGE_TYPE, bytes([MessageType.OFFER])),
            (Option.RELAY_AGENT_INFORMATION, encodeRelayAgentInformation([(1, b"eth0")])),
        ),
    )
    return replace(packet, **changes)  # type: ignore[arg-type]


class RelayAgentTests(SynchronousTestCase):
    """
    The agent's changes to requests and replies (RFC 1542, RFC 3046).
    """

    def setUp(self) -> None:
        self.clock = Clock()
        self.agent = RelayAgent([SERVER, ("10.3.0.2", 67)], self.clock)

    def test_request(self) -> None:
        forwards = self.agent.fromClient(discover(), LINK, b"eth0", ("0.0.0.0", 68))
        self.assertEqual([(f.host, f.port) for f in forwards], [SERVER, ("10.3.0.2", 67)])
        packet = forwards[0].packet
        self.assertEqual(packet.giaddr, LINK)
        self.assertEqual(packet.hops, 1)
        # Option 82 last, with the circuit id.
        self.assertEqual(packet.options[-1][0], Option.RELAY_AGENT_INFORMATION)
        self.assertEqual(packet.relayAgentInformation, [(AGENT_CIRCUIT_ID, b"eth0")])
        data = encodePacket(packet)
        self.assertEqual(data[data.index(bytes([82, 6])) + 8], 255)

    def test_giaddrKept(self) -> None:
        """
        A request already relayed keeps its C{giaddr} and gets no second
        option 82.
        """
        info = encodeRelayAgentInformation([(1, b"far")])
        relayed = discover(
            giaddr="10.9.0.1",
            hops=1,
            options=(*discover().options, (Option.RELAY_AGENT_INFORMATION, info)),
        )
        [forward] = self.agent.fromClient(relayed, LINK, b"eth0")[:1]
        self.assertEqual(forward.packet.giaddr, "10.9.0.1")
        self.assertEqual(forward.packet.hops, 2)
        self.assertEqual(forward.packet.option(Option.RELAY_AGENT_INFORMATION), info)

    def test_hopLimit(self) -> None:
        self.assertEqual(self.agent.fromClient(discover(hops=4), LINK, b"eth0"), [])
        self.assertEqual(len(self.agent.fromClient(discover(hops=3), LINK, b"eth0")), 2)

    def test_forgedAgentInformation(self) -> None:
        """
        Option 82 from a client (giaddr zero) is dropped (RFC 3046 2.1).
        """
        forged = discover(
            options=(*discover().options, (Option.RELAY_AGENT_INFORMATION, b"\x01\x01x"))
        )
        self.assertEqual(self.agent.fromClient(forged, LINK, b"eth0"), [])

    def test_noAgentInformation(self) -> None:
        self.agent.addAgentInformation = False
        [forward, _] = self.agent.fromClient(discover(), LINK, b"eth0")
        self.assertIsNone(forward.packet.option(Option.RELAY_AGENT_INFORMATION))

    def test_repliesNotForwardedUp(self) -> None:
        self.assertEqual(self.agent.fromClient(offer(), LINK, b"eth0"), [])

    def test_replyBroadcast(self) -> None:
        forward = self.agent.fromServer(offer(), [LINK])
        assert forward is not None
        self.assertEqual((forward.host, forward.port, forward.link), ("255.255.255.255", 68, LINK))
        # Option 82 stripped (RFC 3046 section 2.2).
        self.assertIsNone(forward.packet.option(Option.RELAY_AGENT_INFORMATION))

    def test_replyWithoutBroadcastBit(self) -> None:
        """
        Unicast to yiaddr would need an ARP entry: broadcast instead.
        """
        forward = self.agent.fromServer(offer(flags=0), [LINK])
        assert forward is not None
        self.assertEqual(forward.host, "255.255.255.255")

    def test_replyToCiaddr(self) -> None:
        forward = self.agent.fromServer(offer(ciaddr="10.1.0.100", flags=0), [LINK])
        assert forward is not None
        self.assertEqual((forward.host, forward.port), ("10.1.0.100", 68))

    def test_replyNotOurs(self) -> None:
        self.assertIsNone(self.agent.fromServer(offer(giaddr="10.7.0.1"), [LINK]))
        self.assertIsNone(self.agent.fromServer(discover(giaddr=LINK), [LINK]))

    def test_unicastSourceRemembered(self) -> None:
        """
        On loopback, the reply goes back where the request came from.
        """
        self.agent.fromClient(discover(), "127.2.4.2", b"lab", ("127.0.0.1", 40000))
        forward = self.agent.fromServer(offer(giaddr="127.2.4.2"), ["127.2.4.2"])
        assert forward is not None
        self.assertEqual((forward.host, forward.port), ("127.0.0.1", 40000))
        self.clock.advance(61)
        forward = self.agent.fromServer(offer(giaddr="127.2.4.2"), ["127.2.4.2"])
        assert forward is not None
        self.assertEqual(forward.host, "255.255.255.255")


class FakeTransport:
    def __init__(self) -> None:
        self.written: list[tuple[bytes, tuple[str, int]]] = []

    def write(self, data: bytes, addr: tuple[str, int]) -> None:
        self.written.append((data, addr))


class RelayProtocolTests(SynchronousTestCase):
    """
    L{DHCPRelay} sends requests by the link's server-side socket and
    replies by its client-side one.
    """

    def test_sockets(self) -> None:
        relay = DHCPRelay(RelayAgent([SERVER], Clock()))
        link = relay.addLink(LINK, b"eth0")
        down, up = RelayProtocol(relay, link, True, False), RelayProtocol(relay, link, False, True)
        downT, upT = FakeTransport(), FakeTransport()
        down.transport, up.transport = downT, upT  # type: ignore[assignment]
        down.startProtocol()
        up.startProtocol()
        down.datagramReceived(encodePacket(discover()), ("0.0.0.0", 68))
        self.assertEqual([addr for _, addr in upT.written], [SERVER])
        self.assertEqual(decodePacket(upT.written[0][0]).giaddr, LINK)
        up.datagramReceived(encodePacket(offer()), SERVER)
        self.assertEqual([addr for _, addr in downT.written], [("255.255.255.255", 68)])
        down.datagramReceived(b"garbage", ("0.0.0.0", 68))
        self.assertEqual(len(upT.written), 1)


class OptionsTests(SynchronousTestCase):
    def test_server(self) -> None:
        self.assertEqual(parseServer("10.2.0.2"), ("10.2.0.2", 67))
        self.assertEqual(parseServer("127.2.4.1:10067"), ("127.2.4.1", 10067))

    def test_options(self) -> None:
        options = Options()
        options.parseOptions(
            ["--listen", "udp:10068:interface=127.2.4.2", "--server", "127.2.4.1:10067"]
        )
        self.assertEqual(options["server"], [("127.2.4.1", 10067)])


class LoopbackTests(TestCase):
    """
    A netref client, the lab's relay agent and the lab's server, on
    loopback: the path the lab demonstrates.
    """

    timeout = 20

    @defer.inlineCallbacks
    def test_throughRelay(self) -> None:
        from twisted.internet import reactor

        from netref.dhcp.client import DHCPClient, DHCPClientProtocol
        from netref.dhcp.leases import LeaseStore
        from netref.dhcp.server import DHCPServer, DHCPServerProtocol
        from netref.dhcp.tap import buildSubnets

        server = DHCPServer(
            buildSubnets(["127.2.4.0/24"], ["127.2.4.100-127.2.4.109"], ["127.2.4.2"]),
            LeaseStore(),
            reactor,
        )
        serverPort = reactor.listenUDP(0, DHCPServerProtocol(server, "127.0.0.1"), "127.0.0.1")
        self.addCleanup(serverPort.stopListening)
        relay = DHCPRelay(RelayAgent([("127.0.0.1", serverPort.getHost().port)], reactor))
        link = relay.addLink("127.2.4.2", b"lab")
        relayPort = reactor.listenUDP(0, RelayProtocol(relay, link, True, True), "127.2.4.2")
        self.addCleanup(relayPort.stopListening)
        server.relayPort = relayPort.getHost().port
        protocol = DHCPClientProtocol()
        clientPort = reactor.listenUDP(0, protocol, "127.0.0.1")
        self.addCleanup(clientPort.stopListening)
        client = DHCPClient(
            MAC, protocol.send, reactor, via=("127.2.4.2", relayPort.getHost().port)
        )
        protocol.client = client
        self.addCleanup(client.stop)
        lease = yield client.obtain()
        self.assertEqual(lease.address, "127.2.4.100")
        self.assertEqual(lease.routers, ("127.2.4.2",))
        self.assertEqual(server.store.byAddress("127.2.4.100").chaddr, "02:00:00:00:00:01")  # type: ignore[union-attr]
        released: defer.Deferred[None] = defer.Deferred()
        original = server.release

        def release(request: Packet, arrival: object) -> None:
            original(request, arrival)  # type: ignore[arg-type]
            released.callback(None)

        server.release = release  # type: ignore[method-assign]
        yield client.release()
        # The release reaches the server through the relay.
        yield released
        self.assertIsNone(server.store.byAddress("127.2.4.100"))


class MakeServiceTests(SynchronousTestCase):
    def test_listen(self) -> None:
        from twisted.application.internet import UDPServer

        from netref.dhcp.relaytap import makeService

        options = Options()
        options.parseOptions(
            ["--listen", "udp:0:interface=127.2.4.2", "--server", "127.2.4.1:10067",
             "--max-hops", "2"]
        )  # fmt: skip
        [child] = list(makeService(options))
        self.assertIsInstance(child, UDPServer)
        protocol = child.args[1]  # type: ignore[attr-defined]
        self.assertEqual(protocol.link.address, "127.2.4.2")
        self.assertEqual(protocol.relay.agent.servers, [("127.2.4.1", 10067)])
        self.assertEqual(protocol.relay.agent.maxHops, 2)

    def test_needsServer(self) -> None:
        from twisted.python.usage import UsageError

        self.assertRaises(
            UsageError, Options().parseOptions, ["--listen", "udp:0:interface=127.2.4.2"]
        )


class PropertyTests(SynchronousTestCase):
    """
    Any datagram, from either side, is relayed or dropped, never an
    exception.
    """

    @given(st.one_of(st.binary(max_size=600), packets().map(lambda p: encodePacket(p, 4096))))
    @settings(max_examples=300)
    def test_anyDatagram(self, datagram: bytes) -> None:
        relay = DHCPRelay(RelayAgent([SERVER], Clock()))
        link = relay.addLink(LINK, b"eth0")
        link.toClients = FakeTransport()  # type: ignore[assignment]
        link.toServers = FakeTransport()  # type: ignore[assignment]
        relay.received(link, datagram, ("0.0.0.0", 68))
