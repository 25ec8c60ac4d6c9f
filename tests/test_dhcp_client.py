"""
Tests for L{netref.dhcp.client}: the client's state machine and timers on a
L{Clock}: DORA, retransmission, T1 renewal by unicast, T2 rebinding by
broadcast, expiry, NAK, DECLINE, release; and C{netref dhcp}'s options.
"""

from __future__ import annotations

import ipaddress
import random
from dataclasses import replace
from typing import Any

from twisted.internet import defer
from twisted.internet.task import Clock
from twisted.python.usage import UsageError
from twisted.trial.unittest import SynchronousTestCase

from netref.dhcp.client import (
    BOUND,
    INIT,
    REBINDING,
    RELEASED,
    RENEWING,
    REQUESTING,
    SELECTING,
    ClientLease,
    DHCPClient,
    DHCPClientError,
    DHCPClientProtocol,
    Options,
)
from netref.dhcp.server import Arrival, DHCPServer, Subnet
from netref.dhcp.wire import (
    BOOTREPLY,
    BROADCAST_FLAG,
    MessageType,
    Option,
    Packet,
    addressesValue,
    decodePacket,
    encodePacket,
)

MAC = bytes.fromhex("020000000abc")
SERVER = "10.0.0.1"
ARRIVAL = Arrival(SERVER, ipaddress.IPv4Network("10.0.0.0/24"))


class Harness:
    """
    A client whose packets are recorded, and optionally answered by a real
    L{DHCPServer} decision engine.
    """

    def __init__(self, answer: bool = True, conflict: set[str] | None = None) -> None:
        self.clock = Clock()
        self.clock.advance(1000)
        self.sent: list[tuple[Packet, str, int]] = []
        self.configured: list[str] = []
        self.removed: list[str] = []
        self.answer = answer
        self.server = DHCPServer(
            [
                Subnet.fromText(
                    "10.0.0.0/24", ["10.0.0.100-10.0.0.110"], ["10.0.0.1"], leaseTime=1000
                )
            ],
            clock=self.clock,
        )
        conflicts = conflict or set()
        self.client = DHCPClient(
            MAC,
            self.send,
            self.clock,
            conflictCheck=lambda address: defer.succeed(address in conflicts),
            configure=lambda lease: self.configured.append(lease.address),
            deconfigure=lambda lease: self.removed.append(lease.address),
            randomness=random.Random(1),
            jitter=0.0,
        )

    def send(self, packet: Packet, host: str, port: int) -> None:
        # What goes on the wire must encode.
        packet = decodePacket(encodePacket(packet))
        self.sent.append((packet, host, port))
        if self.answer:
            d = self.server.handle(packet, ARRIVAL)
            self.clock.advance(0)
            d.addCallback(self.deliver)

    def deliver(self, outgoing: Any) -> None:
        if outgoing is not None:
            self.client.packetReceived(decodePacket(encodePacket(outgoing.packet)))

    def kinds(self) -> list[MessageType | None]:
        return [packet.messageType for packet, _, _ in self.sent]


class ExchangeTests(SynchronousTestCase):
    """
    DISCOVER, OFFER, REQUEST, ACK (RFC 2131 section 3.1).
    """

    def test_dora(self) -> None:
        h = Harness()
        lease = self.successResultOf(h.client.obtain())
        self.assertEqual(h.client.state, BOUND)
        self.assertEqual(lease.address, "10.0.0.100")
        self.assertEqual(lease.server, SERVER)
        self.assertEqual(
            (lease.leaseTime, lease.renewalTime, lease.rebindingTime), (1000, 500, 875)
        )
        self.assertEqual(h.configured, ["10.0.0.100"])
        self.assertEqual(h.kinds(), [MessageType.DISCOVER, MessageType.REQUEST])
        discover, host, port = h.sent[0]
        self.assertEqual((host, port), ("255.255.255.255", 67))
        self.assertEqual(discover.flags, BROADCAST_FLAG)
        self.assertEqual(discover.ciaddr, "0.0.0.0")
        request = h.sent[1][0]
        self.assertEqual(request.requestedAddress, "10.0.0.100")
        self.assertEqual(request.serverIdentifier, SERVER)
        self.assertEqual(request.xid, discover.xid)
        self.assertEqual(lease.prefixLength, 24)
        self.assertIn("10.0.0.100/24 from 10.0.0.1", lease.describe())

    def test_retransmission(self) -> None:
        """
        DISCOVER again after 4, 8, 16 seconds (section 4.1), then give up.
        """
        h = Harness(answer=False)
        h.client.maxAttempts = 3
        d = h.client.obtain()
        self.assertEqual(len(h.sent), 1)
        h.clock.advance(3.9)
        self.assertEqual(len(h.sent), 1)
        h.clock.advance(0.1)
        self.assertEqual(len(h.sent), 2)
        h.clock.advance(8)
        self.assertEqual(len(h.sent), 3)
        self.assertNoResult(d)
        h.clock.advance(16)
        self.failureResultOf(d, DHCPClientError)
        self.assertEqual(h.client.state, INIT)
        self.assertEqual(h.clock.getDelayedCalls(), [])

    def test_strangersIgnored(self) -> None:
        """
        Replies with another xid or chaddr are not for this client.
        """
        h = Harness(answer=False)
        h.client.obtain()
        discover = h.sent[0][0]
        offer = Packet(
            op=BOOTREPLY,
            xid=discover.xid + 1,
            chaddr=MAC,
            yiaddr="10.0.0.5",
            options=(
                (Option.MESSAGE_TYPE, bytes([MessageType.OFFER])),
                (Option.SERVER_IDENTIFIER, addressesValue([SERVER])),
            ),
        )
        h.client.packetReceived(offer)
        h.client.packetReceived(replace(offer, xid=discover.xid, chaddr=b"\1" * 6))
        self.assertEqual(h.client.state, SELECTING)
        h.client.packetReceived(replace(offer, xid=discover.xid))
        self.assertEqual(h.client.state, REQUESTING)


class TimerTests(SynchronousTestCase):
    """
    T1, T2 and expiry (RFC 2131 section 4.4.5).
    """

    def test_renewAtT1(self) -> None:
        h = Harness()
        h.client.obtain()
        h.sent.clear()
        h.answer = False
        h.clock.advance(499)
        self.assertEqual(h.sent, [])
        h.clock.advance(1)
        self.assertEqual(h.client.state, RENEWING)
        [(renewal, host, port)] = h.sent
        self.assertEqual(renewal.messageType, MessageType.REQUEST)
        self.assertEqual((host, port), (SERVER, 67))  # unicast to the server
        self.assertEqual(renewal.ciaddr, "10.0.0.100")
        self.assertFalse(renewal.broadcast)
        self.assertIsNone(renewal.serverIdentifier)
        self.assertIsNone(renewal.requestedAddress)

    def test_renewalAnswered(self) -> None:
        h = Harness()
        h.client.obtain()
        h.clock.advance(500)
        self.assertEqual(h.client.state, BOUND)
        self.assertEqual(h.client.lease.start, 1500)  # type: ignore[union-attr]
        self.assertEqual(h.configured, ["10.0.0.100"])  # not configured twice
        # The next renewal is T1 after the renewal.
        h.sent.clear()
        h.clock.advance(499)
        self.assertEqual(h.sent, [])
        h.clock.advance(1)
        self.assertEqual(h.kinds(), [MessageType.REQUEST])

    def test_rebindAtT2(self) -> None:
        h = Harness()
        h.client.obtain()
        h.answer = False
        h.clock.advance(500)
        h.sent.clear()
        h.clock.advance(375)
        self.assertEqual(h.client.state, REBINDING)
        rebind, host, port = h.sent[-1]
        self.assertEqual((host, port), ("255.255.255.255", 67))
        self.assertEqual(rebind.ciaddr, "10.0.0.100")
        self.assertIsNone(rebind.serverIdentifier)
        # Any server may answer the next try, half the time to expiry later.
        h.answer = True
        h.clock.advance(62.4)
        self.assertEqual(h.client.state, REBINDING)
        h.clock.advance(0.1)
        self.assertEqual(h.client.state, BOUND)

    def test_renewalRetransmission(self) -> None:
        """
        While renewing, retransmit after half the time to T2, at least 60s.
        """
        h = Harness()
        h.client.obtain()
        h.answer = False
        h.sent.clear()
        h.clock.advance(500)  # T1: 375s to T2, next try in 187.5s
        h.clock.advance(187.4)
        self.assertEqual(len(h.sent), 1)
        h.clock.advance(0.1)
        self.assertEqual(len(h.sent), 2)

    def test_expiry(self) -> None:
        """
        At the end of the lease, the address is removed and discovery
        starts again.
        """
        h = Harness()
        h.client.obtain()
        h.answer = False
        h.clock.advance(999)
        self.assertEqual(h.removed, [])
        h.clock.advance(1)
        self.assertEqual(h.removed, ["10.0.0.100"])
        self.assertIsNone(h.client.lease)
        self.assertEqual(h.client.state, SELECTING)
        self.assertEqual(h.kinds()[-1], MessageType.DISCOVER)


class NakDeclineReleaseTests(SynchronousTestCase):
    """
    DHCPNAK, DHCPDECLINE and DHCPRELEASE.
    """

    def test_nakWhileRenewing(self) -> None:
        h = Harness()
        h.client.obtain()
        # The server forgets the client; another takes the address.
        h.server.store.remove("10.0.0.100")
        other = Packet(
            chaddr=b"\x02\x00\x00\x00\x00\x01",
            options=(
                (Option.MESSAGE_TYPE, bytes([MessageType.REQUEST])),
                (Option.REQUESTED_ADDRESS, addressesValue(["10.0.0.100"])),
                (Option.SERVER_IDENTIFIER, addressesValue([SERVER])),
            ),
        )
        h.server.handle(other, ARRIVAL)
        h.clock.advance(0)
        h.clock.advance(500)
        self.assertEqual(h.removed, ["10.0.0.100"])
        self.assertIn("DHCPNAK", " ".join(h.client.history))
        # It started again and got another address.
        self.assertEqual(h.client.state, BOUND)
        self.assertEqual(h.client.lease.address, "10.0.0.101")  # type: ignore[union-attr]

    def test_decline(self) -> None:
        """
        An acknowledged address found in use is declined; ten seconds later
        discovery starts again, and the server offers another.
        """
        h = Harness(conflict={"10.0.0.100"})
        d = h.client.obtain()
        self.assertEqual(
            h.kinds(), [MessageType.DISCOVER, MessageType.REQUEST, MessageType.DECLINE]
        )
        decline = h.sent[-1][0]
        self.assertEqual(decline.requestedAddress, "10.0.0.100")
        self.assertEqual(decline.serverIdentifier, SERVER)
        self.assertEqual(decline.ciaddr, "0.0.0.0")
        self.assertEqual(h.configured, [])
        self.assertNoResult(d)
        h.clock.advance(9.9)
        self.assertEqual(len(h.sent), 3)
        h.clock.advance(0.1)
        lease = self.successResultOf(d)
        self.assertEqual(lease.address, "10.0.0.101")

    def test_release(self) -> None:
        h = Harness()
        h.client.obtain()
        h.sent.clear()
        self.successResultOf(h.client.release())
        [(release, host, port)] = h.sent
        self.assertEqual(release.messageType, MessageType.RELEASE)
        self.assertEqual(release.ciaddr, "10.0.0.100")
        self.assertEqual(release.serverIdentifier, SERVER)
        self.assertEqual((host, port), (SERVER, 67))
        self.assertEqual(h.removed, ["10.0.0.100"])
        self.assertEqual(h.client.state, RELEASED)
        self.assertEqual(h.clock.getDelayedCalls(), [])
        self.assertIsNone(h.server.store.byAddress("10.0.0.100"))

    def test_via(self) -> None:
        """
        In the lab, every message goes to the relay agent.
        """
        h = Harness()
        h.client.via = ("127.2.4.2", 10068)
        h.client.obtain()
        h.clock.advance(500)
        self.assertEqual({(host, port) for _, host, port in h.sent}, {("127.2.4.2", 10068)})


class LeaseTests(SynchronousTestCase):
    def test_defaultTimes(self) -> None:
        """
        Without T1 and T2, 0.5 and 0.875 of the lease (section 4.4.5).
        """
        ack = Packet(
            op=BOOTREPLY,
            yiaddr="10.0.0.9",
            options=(
                (Option.MESSAGE_TYPE, bytes([MessageType.ACK])),
                (Option.LEASE_TIME, (800).to_bytes(4, "big")),
            ),
        )
        lease = ClientLease.fromAck(ack, 0.0)
        self.assertEqual((lease.renewalTime, lease.rebindingTime), (400, 700))
        self.assertEqual(lease.prefixLength, 32)


class ProtocolTests(SynchronousTestCase):
    def test_malformedIgnored(self) -> None:
        protocol = DHCPClientProtocol()
        seen: list[Packet] = []

        class Recorder:
            def packetReceived(self, packet: Packet) -> None:
                seen.append(packet)

        protocol.client = Recorder()  # type: ignore[assignment]
        protocol.datagramReceived(b"junk", ("10.0.0.1", 67))
        good = Packet(op=BOOTREPLY, options=((Option.MESSAGE_TYPE, bytes([2])),))
        protocol.datagramReceived(encodePacket(good), ("10.0.0.1", 67))
        self.assertEqual(seen, [good])


class OptionsTests(SynchronousTestCase):
    def test_needsOne(self) -> None:
        self.assertRaises(UsageError, Options().parseOptions, [])
        self.assertRaises(
            UsageError, Options().parseOptions, ["--interface", "eth0", "--relay", "1.2.3.4:5"]
        )

    def test_relay(self) -> None:
        options = Options()
        options.parseOptions(["--relay", "127.2.4.2:10068", "--mac", "02-00-00-00-00-07"])
        self.assertEqual(options["relayAddress"], ("127.2.4.2", 10068))
        self.assertEqual(options["mac"], bytes.fromhex("020000000007"))

    def test_badRelay(self) -> None:
        self.assertRaises(UsageError, Options().parseOptions, ["--relay", "router:x"])
