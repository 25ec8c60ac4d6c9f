"""
Tests for L{netref.dhcp.server}: the server's decisions for every message
type, reply routing, pool exhaustion, conflict checks, durable leases, and
the datagram protocol's handling of bad input.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import replace
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.internet import defer
from twisted.internet.task import Clock
from twisted.logger import globalLogPublisher
from twisted.trial.unittest import SynchronousTestCase

from netref.dhcp.leases import BOUND, DECLINED, LeaseStore
from netref.dhcp.server import (
    BROADCAST,
    Arrival,
    DHCPServer,
    DHCPServerProtocol,
    Outgoing,
    Subnet,
    replyDestination,
)
from netref.dhcp.tap import Options, buildSubnets
from netref.dhcp.wire import (
    BOOTREPLY,
    BOOTREQUEST,
    BROADCAST_FLAG,
    MessageType,
    Option,
    Packet,
    addressesValue,
    decodePacket,
    encodePacket,
    encodeRelayAgentInformation,
)
from tests.test_dhcp_wire import packets

SERVER = "10.0.0.1"
ARRIVAL = Arrival(SERVER, ipaddress.IPv4Network("10.0.0.0/24"))
MAC1 = bytes.fromhex("020000000001")
MAC2 = bytes.fromhex("020000000002")


def request(
    kind: MessageType,
    chaddr: bytes = MAC1,
    xid: int = 7,
    ciaddr: str = "0.0.0.0",
    giaddr: str = "0.0.0.0",
    requested: str | None = None,
    server: str | None = None,
    flags: int = BROADCAST_FLAG,
    extra: tuple[tuple[int, bytes], ...] = (),
) -> Packet:
    """
    A client's message.
    """
    options: list[tuple[int, bytes]] = [(Option.MESSAGE_TYPE, bytes([kind]))]
    if requested is not None:
        options.append((Option.REQUESTED_ADDRESS, addressesValue([requested])))
    if server is not None:
        options.append((Option.SERVER_IDENTIFIER, addressesValue([server])))
    return Packet(
        op=BOOTREQUEST,
        xid=xid,
        chaddr=chaddr,
        flags=flags,
        ciaddr=ciaddr,
        giaddr=giaddr,
        options=(*options, *extra),
    )


def makeServer(
    pools: tuple[str, ...] = ("10.0.0.100-10.0.0.102",),
    store: LeaseStore | None = None,
    clock: Clock | None = None,
    **kwargs: Any,
) -> DHCPServer:
    subnets = [
        Subnet.fromText(
            "10.0.0.0/24",
            pools=pools,
            routers=["10.0.0.1"],
            dnsServers=["10.0.0.53"],
            domainName="someschool.edu",
            leaseTime=3600,
            reservations={"02:00:00:00:00:09": "10.0.0.50"},
        ),
        Subnet.fromText("10.1.0.0/24", pools=["10.1.0.100-10.1.0.199"], routers=["10.1.0.1"]),
    ]
    return DHCPServer(subnets, store, clock if clock is not None else Clock(), **kwargs)


class ServerTestCase(SynchronousTestCase):
    def setUp(self) -> None:
        self.clock = Clock()
        self.clock.advance(1_000_000)
        self.server = makeServer(clock=self.clock)

    def answer(self, packet: Packet, arrival: Arrival = ARRIVAL) -> Outgoing | None:
        d = self.server.handle(packet, arrival)
        self.clock.advance(0)  # The lease write of an ACK happens on the next turn.
        result: Outgoing | None = self.successResultOf(d)
        if result is not None:
            # Every reply encodes and decodes as it is.
            self.assertEqual(decodePacket(encodePacket(result.packet)), result.packet)
        return result

    def bind(
        self, chaddr: bytes = MAC1, arrival: Arrival = ARRIVAL, giaddr: str = "0.0.0.0"
    ) -> str:
        offer = self.answer(request(MessageType.DISCOVER, chaddr=chaddr, giaddr=giaddr), arrival)
        assert offer is not None
        address = offer.packet.yiaddr
        ack = self.answer(
            request(
                MessageType.REQUEST,
                chaddr=chaddr,
                giaddr=giaddr,
                requested=address,
                server=arrival.serverAddress,
            ),
            arrival,
        )
        assert ack is not None and ack.packet.messageType == MessageType.ACK
        return address


class DiscoverTests(ServerTestCase):
    """
    DHCPDISCOVER (RFC 2131 section 4.3.1).
    """

    def test_offer(self) -> None:
        out = self.answer(request(MessageType.DISCOVER))
        assert out is not None
        offer = out.packet
        self.assertEqual(offer.op, BOOTREPLY)
        self.assertEqual(offer.messageType, MessageType.OFFER)
        self.assertEqual(offer.options[0][0], Option.MESSAGE_TYPE)
        self.assertEqual(offer.yiaddr, "10.0.0.100")
        self.assertEqual(offer.serverIdentifier, SERVER)
        self.assertEqual(offer.subnetMask, "255.255.255.0")
        self.assertEqual(offer.routers, ["10.0.0.1"])
        self.assertEqual(offer.dnsServers, ["10.0.0.53"])
        self.assertEqual(offer.domainName, "someschool.edu")
        self.assertEqual(
            (offer.leaseTime, offer.renewalTime, offer.rebindingTime), (3600, 1800, 3150)
        )
        self.assertEqual((offer.xid, offer.chaddr, offer.flags), (7, MAC1, BROADCAST_FLAG))
        self.assertEqual((out.host, out.port), (BROADCAST, 68))

    def test_offerHeld(self) -> None:
        """
        An offered address is not offered to another client while held, and
        is offered again to the same one.
        """
        first = self.answer(request(MessageType.DISCOVER, chaddr=MAC1))
        second = self.answer(request(MessageType.DISCOVER, chaddr=MAC2))
        again = self.answer(request(MessageType.DISCOVER, chaddr=MAC1))
        assert first and second and again
        self.assertNotEqual(first.packet.yiaddr, second.packet.yiaddr)
        self.assertEqual(first.packet.yiaddr, again.packet.yiaddr)

    def test_offerHoldEnds(self) -> None:
        first = self.answer(request(MessageType.DISCOVER, chaddr=MAC1))
        self.clock.advance(61)
        for i in range(3):
            other = self.answer(request(MessageType.DISCOVER, chaddr=bytes([2, 0, 0, 0, 1, i])))
            assert other is not None
        assert first is not None
        self.assertEqual(other.packet.yiaddr, first.packet.yiaddr)

    def test_requestedAddressHonoured(self) -> None:
        out = self.answer(request(MessageType.DISCOVER, requested="10.0.0.102"))
        assert out is not None
        self.assertEqual(out.packet.yiaddr, "10.0.0.102")

    def test_requestedAddressOutsidePool(self) -> None:
        out = self.answer(request(MessageType.DISCOVER, requested="10.0.0.7"))
        assert out is not None
        self.assertEqual(out.packet.yiaddr, "10.0.0.100")

    def test_neverOwnOrRouterAddress(self) -> None:
        """
        A pool drawn over the server's or a router's address skips them.
        """
        server = DHCPServer(
            [Subnet.fromText("10.0.0.0/24", ["10.0.0.1-10.0.0.3"], routers=["10.0.0.2"])],
            clock=self.clock,
        )
        d = server.handle(request(MessageType.DISCOVER, requested="10.0.0.1"), ARRIVAL)
        out = self.successResultOf(d)
        assert out is not None
        self.assertEqual(out.packet.yiaddr, "10.0.0.3")

    def test_reservation(self) -> None:
        out = self.answer(request(MessageType.DISCOVER, chaddr=bytes.fromhex("020000000009")))
        assert out is not None
        self.assertEqual(out.packet.yiaddr, "10.0.0.50")

    def test_reservedAddressNotForOthers(self) -> None:
        out = self.answer(request(MessageType.DISCOVER, requested="10.0.0.50"))
        assert out is not None
        self.assertNotEqual(out.packet.yiaddr, "10.0.0.50")

    def test_boundClientGetsItsAddress(self) -> None:
        address = self.bind()
        self.answer(request(MessageType.DISCOVER, chaddr=MAC2))
        out = self.answer(request(MessageType.DISCOVER))
        assert out is not None
        self.assertEqual(out.packet.yiaddr, address)

    def test_poolExhausted(self) -> None:
        """
        No offer, and a log line, when every address is taken.
        """
        events: list[dict[str, Any]] = []
        globalLogPublisher.addObserver(events.append)
        self.addCleanup(globalLogPublisher.removeObserver, events.append)
        for i in range(3):
            self.bind(bytes([2, 0, 0, 0, 0, 0x10 + i]))
        self.assertIsNone(self.answer(request(MessageType.DISCOVER, chaddr=MAC2)))
        self.assertTrue(any("exhausted" in e.get("log_format", "") for e in events))

    def test_relayedDiscover(self) -> None:
        """
        C{giaddr} picks the subnet, and the reply goes to the relay agent
        on port 67 with option 82 echoed (RFC 3046 section 2.2).
        """
        info = encodeRelayAgentInformation([(1, b"eth0")])
        packet = request(
            MessageType.DISCOVER,
            giaddr="10.1.0.1",
            extra=((Option.RELAY_AGENT_INFORMATION, info),),
        )
        out = self.answer(packet)
        assert out is not None
        self.assertEqual(out.packet.yiaddr, "10.1.0.100")
        self.assertEqual(out.packet.routers, ["10.1.0.1"])
        self.assertEqual(out.packet.giaddr, "10.1.0.1")
        self.assertEqual(out.packet.option(Option.RELAY_AGENT_INFORMATION), info)
        self.assertEqual((out.host, out.port), ("10.1.0.1", 67))

    def test_unknownRelay(self) -> None:
        self.assertIsNone(self.answer(request(MessageType.DISCOVER, giaddr="192.168.9.1")))

    def test_tooManyHops(self) -> None:
        packet = request(MessageType.DISCOVER, giaddr="10.1.0.1")
        from dataclasses import replace

        self.assertIsNone(self.answer(replace(packet, hops=17)))

    def test_conflictCheck(self) -> None:
        """
        An address that answers the probe is marked bad and the next one
        offered (RFC 2131 section 4.4.1).
        """
        probed: list[str] = []

        def check(address: str) -> defer.Deferred[bool]:
            probed.append(address)
            return defer.succeed(address == "10.0.0.100")

        self.server.conflictCheck = check
        out = self.answer(request(MessageType.DISCOVER))
        assert out is not None
        self.assertEqual(probed, ["10.0.0.100", "10.0.0.101"])
        self.assertEqual(out.packet.yiaddr, "10.0.0.101")
        bad = self.server.store.byAddress("10.0.0.100")
        assert bad is not None
        self.assertEqual(bad.state, DECLINED)

    def test_conflictCheckPending(self) -> None:
        """
        The offer waits for the probe.
        """
        waiting: defer.Deferred[bool] = defer.Deferred()
        self.server.conflictCheck = lambda address: waiting
        d = self.server.handle(request(MessageType.DISCOVER), ARRIVAL)
        self.assertNoResult(d)
        waiting.callback(False)
        out = self.successResultOf(d)
        assert out is not None
        self.assertEqual(out.packet.yiaddr, "10.0.0.100")


class RequestTests(ServerTestCase):
    """
    DHCPREQUEST in each client state (RFC 2131 section 4.3.2).
    """

    def test_selecting(self) -> None:
        address = self.bind()
        lease = self.server.store.byAddress(address)
        assert lease is not None
        self.assertEqual(lease.state, BOUND)
        self.assertEqual(lease.expires, self.clock.seconds() + 3600)

    def test_selectingOtherServer(self) -> None:
        """
        A REQUEST naming another server withdraws this server's offer.
        """
        offer = self.answer(request(MessageType.DISCOVER))
        assert offer is not None
        out = self.answer(
            request(MessageType.REQUEST, requested=offer.packet.yiaddr, server="10.0.0.2")
        )
        self.assertIsNone(out)
        self.assertIsNone(self.server.store.byAddress(offer.packet.yiaddr))

    def test_selectingTakenAddress(self) -> None:
        address = self.bind(MAC2)
        out = self.answer(request(MessageType.REQUEST, requested=address, server=SERVER))
        assert out is not None
        self.assertEqual(out.packet.messageType, MessageType.NAK)
        self.assertEqual(out.packet.yiaddr, "0.0.0.0")
        self.assertIsNone(out.packet.leaseTime)
        self.assertEqual((out.host, out.port), (BROADCAST, 68))

    def test_initReboot(self) -> None:
        address = self.bind()
        out = self.answer(request(MessageType.REQUEST, requested=address))
        assert out is not None
        self.assertEqual(out.packet.messageType, MessageType.ACK)

    def test_initRebootWrongNetwork(self) -> None:
        self.bind()
        out = self.answer(request(MessageType.REQUEST, requested="192.168.1.5"))
        assert out is not None
        self.assertEqual(out.packet.messageType, MessageType.NAK)

    def test_initRebootOtherAddress(self) -> None:
        self.bind()
        out = self.answer(request(MessageType.REQUEST, requested="10.0.0.102"))
        assert out is not None
        self.assertEqual(out.packet.messageType, MessageType.NAK)

    def test_initRebootUnknownClient(self) -> None:
        """
        No record of the client: the server MUST remain silent.
        """
        self.assertIsNone(self.answer(request(MessageType.REQUEST, requested="10.0.0.101")))

    def test_renewing(self) -> None:
        """
        A unicast renewal (ciaddr) extends the lease; the ACK goes to ciaddr.
        """
        address = self.bind()
        self.clock.advance(1800)
        out = self.answer(request(MessageType.REQUEST, ciaddr=address, flags=0))
        assert out is not None
        self.assertEqual(out.packet.messageType, MessageType.ACK)
        self.assertEqual(out.packet.ciaddr, address)
        self.assertEqual((out.host, out.port), (address, 68))
        lease = self.server.store.byAddress(address)
        assert lease is not None
        self.assertEqual(lease.expires, self.clock.seconds() + 3600)

    def test_renewingSomeoneElses(self) -> None:
        address = self.bind(MAC2)
        out = self.answer(request(MessageType.REQUEST, ciaddr=address, flags=0))
        assert out is not None
        self.assertEqual(out.packet.messageType, MessageType.NAK)
        self.assertEqual(out.host, BROADCAST)

    def test_rebindingForeignAddress(self) -> None:
        """
        A client that moved to another network is told so.
        """
        out = self.answer(request(MessageType.REQUEST, ciaddr="172.16.0.5"))
        assert out is not None
        self.assertEqual(out.packet.messageType, MessageType.NAK)

    def test_nakThroughRelay(self) -> None:
        """
        A NAK to a relay agent has the broadcast bit set (section 4.3.2).
        """
        out = self.answer(
            request(
                MessageType.REQUEST,
                giaddr="10.1.0.1",
                requested="10.0.0.100",
                server=SERVER,
                flags=0,
            )
        )
        assert out is not None
        self.assertEqual(out.packet.messageType, MessageType.NAK)
        self.assertTrue(out.packet.broadcast)
        self.assertEqual((out.host, out.port), ("10.1.0.1", 67))

    def test_noAddressAtAll(self) -> None:
        self.assertIsNone(self.answer(request(MessageType.REQUEST)))

    def test_expiredLeaseIsFree(self) -> None:
        address = self.bind(MAC2)
        self.clock.advance(3601)
        out = self.answer(request(MessageType.DISCOVER, requested=address))
        assert out is not None
        self.assertEqual(out.packet.yiaddr, address)


class DeclineReleaseInformTests(ServerTestCase):
    """
    DHCPDECLINE, DHCPRELEASE, DHCPINFORM (RFC 2131 sections 4.3.3 to 4.3.5).
    """

    def test_decline(self) -> None:
        address = self.bind()
        self.assertIsNone(
            self.answer(request(MessageType.DECLINE, requested=address, server=SERVER))
        )
        lease = self.server.store.byAddress(address)
        assert lease is not None
        self.assertEqual(lease.state, DECLINED)
        out = self.answer(request(MessageType.DISCOVER, chaddr=MAC2, requested=address))
        assert out is not None
        self.assertNotEqual(out.packet.yiaddr, address)

    def test_declineByStranger(self) -> None:
        address = self.bind()
        self.answer(request(MessageType.DECLINE, chaddr=MAC2, requested=address))
        lease = self.server.store.byAddress(address)
        assert lease is not None
        self.assertEqual(lease.state, BOUND)

    def test_release(self) -> None:
        address = self.bind()
        self.answer(request(MessageType.RELEASE, ciaddr=address, server=SERVER, flags=0))
        self.assertIsNone(self.server.store.byAddress(address))

    def test_releaseBySomeoneElse(self) -> None:
        address = self.bind()
        self.answer(request(MessageType.RELEASE, chaddr=MAC2, ciaddr=address, flags=0))
        self.assertIsNotNone(self.server.store.byAddress(address))

    def test_inform(self) -> None:
        out = self.answer(request(MessageType.INFORM, ciaddr="10.0.0.30", flags=0))
        assert out is not None
        self.assertEqual(out.packet.messageType, MessageType.ACK)
        self.assertEqual(out.packet.yiaddr, "0.0.0.0")
        self.assertIsNone(out.packet.leaseTime)
        self.assertEqual(out.packet.routers, ["10.0.0.1"])
        self.assertEqual((out.host, out.port), ("10.0.0.30", 68))

    def test_notAClientMessage(self) -> None:
        self.assertIsNone(self.answer(request(MessageType.OFFER)))


class RoutingTests(SynchronousTestCase):
    """
    L{replyDestination} follows RFC 2131 section 4.1.
    """

    def route(self, ciaddr: str, giaddr: str, flags: int, kind: MessageType) -> tuple[str, int]:
        asked = request(MessageType.REQUEST, ciaddr=ciaddr, giaddr=giaddr, flags=flags)
        reply = Packet(op=BOOTREPLY, options=((Option.MESSAGE_TYPE, bytes([kind])),))
        return replyDestination(asked, reply)

    def test_relay(self) -> None:
        self.assertEqual(self.route("10.0.0.5", "10.1.0.1", 0, MessageType.ACK), ("10.1.0.1", 67))

    def test_nakBroadcast(self) -> None:
        self.assertEqual(self.route("10.0.0.5", "0.0.0.0", 0, MessageType.NAK), (BROADCAST, 68))

    def test_ciaddr(self) -> None:
        self.assertEqual(self.route("10.0.0.5", "0.0.0.0", 0, MessageType.ACK), ("10.0.0.5", 68))

    def test_broadcastBit(self) -> None:
        self.assertEqual(
            self.route("0.0.0.0", "0.0.0.0", BROADCAST_FLAG, MessageType.OFFER), (BROADCAST, 68)
        )

    def test_noAddressNoBit(self) -> None:
        """
        The honest fallback: broadcast, as no ARP entry exists for yiaddr.
        """
        self.assertEqual(self.route("0.0.0.0", "0.0.0.0", 0, MessageType.OFFER), (BROADCAST, 68))

    def test_relayPortConfigurable(self) -> None:
        asked = request(MessageType.DISCOVER, giaddr="127.2.4.2")
        reply = Packet(op=BOOTREPLY)
        self.assertEqual(replyDestination(asked, reply, relayPort=10068), ("127.2.4.2", 10068))


class DurableTests(SynchronousTestCase):
    """
    Bindings are written before the ACK and survive a restart.
    """

    def test_restart(self) -> None:
        path = self.mktemp()
        clock = Clock()
        clock.advance(1000)
        server = makeServer(store=LeaseStore(path), clock=clock)
        offer = self.successResultOf(server.handle(request(MessageType.DISCOVER), ARRIVAL))
        assert offer is not None
        address = offer.packet.yiaddr
        d = server.handle(request(MessageType.REQUEST, requested=address, server=SERVER), ARRIVAL)
        # The ACK waits for the write.
        self.assertNoResult(d)
        clock.advance(0)
        self.assertEqual(self.successResultOf(d).packet.messageType, MessageType.ACK)  # type: ignore[union-attr]
        restarted = makeServer(store=LeaseStore(path), clock=clock)
        lease = restarted.store.byAddress(address)
        assert lease is not None
        self.assertEqual(lease.state, BOUND)
        # Another client does not get it; the owner does.
        other = self.successResultOf(
            restarted.handle(
                request(MessageType.DISCOVER, chaddr=MAC2, requested=address), ARRIVAL
            )
        )
        assert other is not None
        self.assertNotEqual(other.packet.yiaddr, address)
        reboot = restarted.handle(request(MessageType.REQUEST, requested=address), ARRIVAL)
        clock.advance(0)
        self.assertEqual(self.successResultOf(reboot).packet.messageType, MessageType.ACK)  # type: ignore[union-attr]

    def test_groupCommit(self) -> None:
        """
        Acknowledgements of one turn share one write.
        """
        clock = Clock()
        store = LeaseStore(self.mktemp())
        writes: list[int] = []
        original = store.commit
        store.commit = lambda: (writes.append(1), original())[1]  # type: ignore[method-assign]
        server = makeServer(pools=("10.0.0.100-10.0.0.150",), store=store, clock=clock)
        pending = []
        for i in range(5):
            chaddr = bytes([2, 0, 0, 0, 3, i])
            offer = self.successResultOf(
                server.handle(request(MessageType.DISCOVER, chaddr=chaddr), ARRIVAL)
            )
            assert offer is not None
            pending.append(
                server.handle(
                    request(
                        MessageType.REQUEST,
                        chaddr=chaddr,
                        requested=offer.packet.yiaddr,
                        server=SERVER,
                    ),
                    ARRIVAL,
                )
            )
        clock.advance(0)
        self.assertEqual(len(writes), 1)
        for d in pending:
            self.assertEqual(self.successResultOf(d).packet.messageType, MessageType.ACK)  # type: ignore[union-attr]


class FakeTransport:
    def __init__(self) -> None:
        self.written: list[tuple[bytes, tuple[str, int]]] = []

    def write(self, data: bytes, addr: tuple[str, int]) -> None:
        self.written.append((data, addr))


class ProtocolTests(SynchronousTestCase):
    """
    L{DHCPServerProtocol} drops bad input with a log line and answers good.
    """

    def setUp(self) -> None:
        self.clock = Clock()
        self.protocol = DHCPServerProtocol(makeServer(clock=self.clock), SERVER, ARRIVAL.network)
        self.transport = FakeTransport()
        self.protocol.transport = self.transport  # type: ignore[assignment]
        self.events: list[dict[str, Any]] = []
        globalLogPublisher.addObserver(self.events.append)
        self.addCleanup(globalLogPublisher.removeObserver, self.events.append)

    def logged(self, text: str) -> bool:
        return any(text in e.get("log_format", "") for e in self.events)

    def test_answers(self) -> None:
        self.protocol.datagramReceived(
            encodePacket(request(MessageType.DISCOVER)), ("0.0.0.0", 68)
        )
        [(data, addr)] = self.transport.written
        self.assertEqual(decodePacket(data).messageType, MessageType.OFFER)
        self.assertEqual(addr, (BROADCAST, 68))

    def test_malformedDropped(self) -> None:
        for datagram in (
            b"",
            b"\x01" * 100,
            encodePacket(request(MessageType.DISCOVER))[:-300] + bytes([53, 1, 1, 6, 250, 1]),
        ):
            self.protocol.datagramReceived(datagram, ("10.0.0.9", 68))
        self.assertEqual(self.transport.written, [])
        self.assertTrue(self.logged("malformed"))

    def test_repliesIgnored(self) -> None:
        reply = Packet(op=BOOTREPLY, options=((Option.MESSAGE_TYPE, bytes([2])),))
        self.protocol.datagramReceived(encodePacket(reply), ("10.0.0.9", 67))
        self.assertEqual(self.transport.written, [])


class OptionsTests(SynchronousTestCase):
    """
    C{twistd netref-dhcp}'s options.
    """

    def test_subnetsFromText(self) -> None:
        subnets = buildSubnets(
            ["10.1.0.0/24", "10.2.0.0/24"],
            ["10.1.0.100-10.1.0.110", "10.2.0.5-10.2.0.6"],
            routers=["10.1.0.1"],
            reservations=["02:00:00:00:00:09=10.2.0.50"],
            leaseTime=600,
        )
        self.assertEqual([s.poolSize() for s in subnets], [11, 2])
        self.assertEqual(subnets[0].routers, ["10.1.0.1"])
        self.assertEqual(subnets[1].reservations, {"02:00:00:00:00:09": "10.2.0.50"})

    def test_badDomain(self) -> None:
        self.assertRaises(
            ValueError, buildSubnets, ["10.1.0.0/24"], [], domainName="école.example"
        )

    def test_poolOutsideSubnets(self) -> None:
        self.assertRaises(ValueError, buildSubnets, ["10.1.0.0/24"], ["10.9.0.1-10.9.0.5"])

    def test_listenOnly(self) -> None:
        options = Options()
        options.parseOptions(
            [
                "--listen", "udp:10067:interface=127.2.4.1",
                "--subnet", "127.2.4.0/24",
                "--pool", "127.2.4.100-127.2.4.199",
                "--reserve", "02-00-00-00-00-09=127.2.4.9",
            ]
        )  # fmt: skip
        self.assertEqual(options.subnets[0].poolSize(), 100)

    def test_needsPool(self) -> None:
        from twisted.python.usage import UsageError

        self.assertRaises(
            UsageError,
            Options().parseOptions,
            ["--listen", "udp:10067:interface=127.2.4.1", "--subnet", "127.2.4.0/24"],
        )


class MakeServiceTests(SynchronousTestCase):
    """
    C{twistd netref-dhcp} builds one listening service per C{--listen},
    keeping leases in the C{--state} directory.
    """

    def test_listenAndState(self) -> None:
        from twisted.application.internet import UDPServer

        from netref.dhcp.tap import makeService

        state = self.mktemp()
        options = Options()
        options.parseOptions(
            [
                "--listen", "udp:0:interface=127.0.0.1",
                "--subnet", "127.2.4.0/24", "--pool", "127.2.4.100-127.2.4.101",
                "--state", state, "--lease-time", "600",
            ]
        )  # fmt: skip
        top = makeService(options)
        [child] = list(top)
        self.assertIsInstance(child, UDPServer)
        protocol = child.args[1]  # type: ignore[attr-defined]
        self.assertEqual(protocol.arrival.serverAddress, "127.0.0.1")
        self.assertTrue(protocol.server.store.path.startswith(os.path.abspath(state)))
        self.assertEqual(protocol.server.subnets[0].leaseTime, 600)

    def test_listenNeedsAddress(self) -> None:
        from twisted.python.usage import UsageError

        self.assertRaises(
            UsageError,
            Options().parseOptions,
            ["--listen", "udp:67:interface=0.0.0.0", "--subnet", "10.0.0.0/24",
             "--pool", "10.0.0.5-10.0.0.6"],
        )  # fmt: skip

    def test_unknownInterface(self) -> None:
        from twisted.python.usage import UsageError

        self.assertRaises(
            UsageError,
            Options().parseOptions,
            ["--interface", "nosuchif0", "--pool", "10.0.0.5-10.0.0.6"],
        )


class PropertyTests(SynchronousTestCase):
    """
    Whatever a well-formed request holds, the server decides without an
    exception, and what it answers encodes.
    """

    @given(packets(), st.sampled_from(list(MessageType)))
    @settings(max_examples=300)
    def test_anyRequest(self, packet: Packet, kind: MessageType) -> None:
        clock = Clock()
        server = makeServer(clock=clock)
        request = packet.withOption(Option.MESSAGE_TYPE, bytes([kind]))
        d = server.handle(replace(request, op=BOOTREQUEST), ARRIVAL)
        clock.advance(0)
        out = self.successResultOf(d)
        if out is not None:
            self.assertEqual(decodePacket(encodePacket(out.packet, 4096)), out.packet)

    @given(st.binary(max_size=600))
    @settings(max_examples=200)
    def test_anyDatagram(self, datagram: bytes) -> None:
        protocol = DHCPServerProtocol(makeServer(), SERVER, ARRIVAL.network)
        protocol.transport = FakeTransport()  # type: ignore[assignment]
        protocol.datagramReceived(datagram, ("10.0.0.9", 68))
