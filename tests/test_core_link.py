"""
Tests for L{netref.core.link} and L{netref.core.linktap}: the link model,
the relay on a L{Clock}, the command line, and one real relay on loopback.

Most relay tests use an RTT of 0.5 s and a rate of 8192 bit/s, so that one
byte takes exactly 2**-10 s to transmit and every time in them is a binary
fraction: the clock is advanced in steps of 2**-10 s and times are compared
exactly, which shows that bytes arrive neither before nor after their time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.application.service import MultiService
from twisted.internet import defer, reactor
from twisted.internet.address import IPv4Address
from twisted.internet.defer import Deferred, fail
from twisted.internet.endpoints import TCP4ClientEndpoint, connectProtocol
from twisted.internet.error import ConnectionDone, ConnectionRefusedError
from twisted.internet.interfaces import IAddress, IStreamClientEndpoint, ITCPTransport
from twisted.internet.protocol import Factory, Protocol, ServerFactory, connectionDone
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.python import usage
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase, TestCase
from zope.interface import implementer

from netref.core import trace
from netref.core.link import (
    Handshake,
    Link,
    LinkDirection,
    LinkFactory,
    LinkRelay,
    formatRate,
    parseDuration,
    parseRate,
    transmissionDelay,
)
from netref.core.linktap import Options, makeService

RTT = 0.5
#: 1024 bytes per second: one byte every STEP seconds.
RATE = 8192.0
STEP = 2.0**-10

CLIENT_ADDRESS = IPv4Address("TCP", "127.0.0.1", 50000)
SERVER_ADDRESS = IPv4Address("TCP", "127.0.0.1", 8080)


class LinkDirectionTests(SynchronousTestCase):
    """
    L{LinkDirection} is a FIFO transmitter of rate R followed by a
    propagation delay.
    """

    def test_propagationOnly(self) -> None:
        """
        Without a rate limit a segment arrives after the propagation delay.
        """
        direction = LinkDirection(0.05)
        self.assertEqual(direction.send(1.0, 100_000), 1.05)

    def test_transmissionDelay(self) -> None:
        """
        A segment of L bytes takes 8L/R to transmit: 100 KB over the
        textbook's 1.54 Mbit/s access link take about half a second.
        """
        self.assertAlmostEqual(transmissionDelay(100_000, 1.54e6), 0.519, places=3)
        self.assertAlmostEqual(transmissionDelay(100 * 1024, 1.54e6), 0.532, places=3)
        self.assertEqual(transmissionDelay(10**9, None), 0.0)
        direction = LinkDirection(0.05, 1.54e6)
        self.assertAlmostEqual(direction.send(0.0, 100_000), 0.05 + 0.8e6 / 1.54e6)

    def test_backToBackSegmentsQueue(self) -> None:
        """
        A segment handed over while the transmitter is busy waits for it.
        """
        direction = LinkDirection(0.25, RATE)
        self.assertEqual(direction.send(0.0, 1024), 1.25)
        self.assertEqual(direction.queueingDelay(0.0), 1.0)
        self.assertEqual(direction.send(0.0, 1024), 2.25)
        self.assertEqual(direction.send(0.5, 512), 2.75)
        self.assertEqual(direction.queueingDelay(0.5), 2.0)

    def test_idleLinkStartsAtOnce(self) -> None:
        """
        Once the transmitter is free, a new segment starts when handed over.
        """
        direction = LinkDirection(0.25, RATE)
        direction.send(0.0, 1024)
        self.assertEqual(direction.queueingDelay(5.0), 0.0)
        self.assertEqual(direction.send(5.0, 512), 5.75)

    def test_zeroLengthSegment(self) -> None:
        """
        A zero-length segment (a close) queues behind data but takes no
        transmission time.
        """
        direction = LinkDirection(0.25, RATE)
        self.assertEqual(direction.send(0.0, 1024), 1.25)
        self.assertEqual(direction.send(0.0, 0), 1.25)
        self.assertEqual(direction.send(3.0, 0), 3.25)

    def test_badArguments(self) -> None:
        self.assertRaises(ValueError, LinkDirection, -0.1)
        self.assertRaises(ValueError, LinkDirection, 0.1, 0.0)
        self.assertRaises(ValueError, LinkDirection, 0.1, -5.0)
        self.assertRaises(ValueError, Link, -1.0)


class LinkTests(SynchronousTestCase):
    """
    L{Link}: two directions, and the handshake's charge.
    """

    def test_directionsAreIndependent(self) -> None:
        link = Link(RTT, RATE)
        self.assertEqual(link.toServer.send(0.0, 4096), 4.25)
        self.assertEqual(link.toClient.send(0.0, 1024), 1.25)

    def test_handshake(self) -> None:
        """
        The client may send one RTT after it was accepted; the server 1.5 RTT
        after, when the handshake's ACK would reach it.
        """
        self.assertEqual(Link(RTT).handshake(10.0), Handshake(10.5, 10.75))

    def test_nonPersistentFetchIsTwoRttPlusTransmission(self) -> None:
        """
        The model's arithmetic gives the textbook's response time: 2 RTT plus
        the transmission time of the request and of the object.
        """
        link = Link(RTT, RATE)
        handshake = link.handshake(0.0)
        requestArrives = link.toServer.send(handshake.clientReadyAt, 64)
        responseArrives = link.toClient.send(max(requestArrives, handshake.serverReadyAt), 2048)
        self.assertEqual(responseArrives, 2 * RTT + transmissionDelay(64 + 2048, RATE))

    def test_bandwidthDelayProduct(self) -> None:
        self.assertEqual(Link(0.1, 8e6).bandwidthDelayProduct(), 50_000)
        self.assertEqual(Link(0.1).bandwidthDelayProduct(), float("inf"))


class ParseTests(SynchronousTestCase):
    """
    L{parseDuration} and L{parseRate} read the command line's quantities.
    """

    def test_durations(self) -> None:
        self.assertEqual(parseDuration("100ms"), 0.1)
        self.assertEqual(parseDuration("0.1s"), 0.1)
        self.assertEqual(parseDuration("1s"), 1.0)
        self.assertEqual(parseDuration("250us"), 0.00025)
        self.assertEqual(parseDuration("250µs"), 0.00025)
        self.assertEqual(parseDuration(" 2 s "), 2.0)
        self.assertEqual(parseDuration("0ms"), 0.0)
        self.assertEqual(parseDuration(".5s"), 0.5)

    def test_badDurations(self) -> None:
        for text in ["", "100", "ms", "-1s", "1h", "1e3ms", "nan s", "1.2.3s", "10 m"]:
            with self.assertRaises(ValueError) as caught:
                parseDuration(text)
            self.assertIn(repr(text), str(caught.exception))
            self.assertIn("100ms", str(caught.exception))

    def test_rates(self) -> None:
        self.assertEqual(parseRate("1.54Mbit"), 1.54e6)
        self.assertEqual(parseRate("10Mbit"), 10e6)
        self.assertEqual(parseRate("1Gbit"), 1e9)
        self.assertEqual(parseRate("56kbit"), 56_000)
        self.assertEqual(parseRate("1000bit"), 1000)
        self.assertEqual(parseRate("1.5 Mbps"), 1.5e6)
        self.assertEqual(parseRate("10mbit/s"), 10e6)
        self.assertIsNone(parseRate("unlimited"))
        self.assertIsNone(parseRate("Unlimited"))

    def test_badRates(self) -> None:
        for text in ["", "10", "fast", "-1Mbit", "0bit", "0Mbit", "1Tbit", "10Mbitt"]:
            with self.assertRaises(ValueError) as caught:
                parseRate(text)
            self.assertIn(repr(text), str(caught.exception))

    def test_bytesRefused(self) -> None:
        """
        A rate in bytes is refused with a hint, not misread as bits.
        """
        for text in ["1MB", "10MB/s", "100kBps"]:
            with self.assertRaises(ValueError) as caught:
                parseRate(text)
            self.assertIn("not in bytes", str(caught.exception))

    def test_formatRate(self) -> None:
        self.assertEqual(formatRate(1.54e6), "1.54 Mbit/s")
        self.assertEqual(formatRate(56_000), "56 kbit/s")
        self.assertEqual(formatRate(None), "unlimited")


@implementer(ITCPTransport)
class TimedTransport(StringTransport):
    """
    A L{StringTransport} that records when each write and the close happen,
    and whether Nagle's algorithm was turned off (L{noDelay}).

    @ivar arrivals: C{(time, bytes)} for each write.
    @ivar closedAt: when C{loseConnection} was first called.
    @ivar onWrite: called with the bytes of each write (a server's reply).
    """

    def __init__(self, clock: Clock, peer: IPv4Address) -> None:
        super().__init__(peerAddress=peer)
        self.clock = clock
        self.arrivals: list[tuple[float, bytes]] = []
        self.closedAt: float | None = None
        self.onWrite: Callable[[bytes], None] | None = None
        self.noDelay = False

    def setTcpNoDelay(self, enabled: bool) -> None:
        self.noDelay = enabled

    def write(self, data: bytes) -> None:
        super().write(data)
        self.arrivals.append((self.clock.seconds(), data))
        if self.onWrite is not None:
            self.onWrite(data)

    def loseConnection(self) -> None:
        super().loseConnection()
        if self.closedAt is None:
            self.closedAt = self.clock.seconds()


@implementer(IStreamClientEndpoint)
class FakeEndpoint:
    """
    A client endpoint that "connects" to a L{TimedTransport}, at once or
    when told.
    """

    def __init__(self, clock: Clock, connectNow: bool = True) -> None:
        self.clock = clock
        self.connectNow = connectNow
        self.failure: Exception | None = None
        self.pending: list[tuple[Factory, Deferred[Protocol]]] = []
        self.servers: list[tuple[Protocol, TimedTransport]] = []

    def connect(self, factory: Factory) -> Deferred[Protocol]:
        if self.failure is not None:
            return fail(self.failure)
        d: Deferred[Protocol] = Deferred()
        self.pending.append((factory, d))
        if self.connectNow:
            self.completeConnection()
        return d

    def completeConnection(self) -> None:
        factory, d = self.pending.pop(0)
        protocol = factory.buildProtocol(SERVER_ADDRESS)
        assert protocol is not None
        transport = TimedTransport(self.clock, SERVER_ADDRESS)
        protocol.makeConnection(transport)
        self.servers.append((protocol, transport))
        d.callback(protocol)


class Harness:
    """
    A L{LinkFactory} on a L{Clock}, with a fake server endpoint.
    """

    def __init__(self, rate: float | None = None, connectNow: bool = True, **kw: int) -> None:
        self.clock = Clock()
        self.endpoint = FakeEndpoint(self.clock, connectNow)
        self.factory = LinkFactory(
            self.endpoint, rtt=RTT, rate=rate, clock=self.clock, target="test server", **kw
        )

    def accept(self) -> tuple[LinkRelay, TimedTransport]:
        """
        A client connects to the relay now.
        """
        relay = self.factory.buildProtocol(CLIENT_ADDRESS)
        assert isinstance(relay, LinkRelay)
        client = TimedTransport(self.clock, CLIENT_ADDRESS)
        relay.makeConnection(client)
        return relay, client

    def server(self, index: int = -1) -> tuple[Protocol, TimedTransport]:
        """
        The relay's connection to the server: its protocol (feed it what the
        server sends) and its transport (what the server receives).
        """
        return self.endpoint.servers[index]

    def respondWith(self, reply: Callable[[bytes], bytes], index: int = -1) -> None:
        """
        Make the server answer every delivery at once.
        """
        protocol, transport = self.server(index)
        transport.onWrite = lambda data: protocol.dataReceived(reply(data))

    def runUntil(self, when: float) -> None:
        """
        Advance the clock to C{when}, stopping at the time of every pending
        call on the way, so each runs with the clock showing exactly its
        time.
        """
        while True:
            pending = [call.getTime() for call in self.clock.getDelayedCalls()]
            if not pending or min(pending) > when:
                break
            self.clock.rightNow = max(min(pending), self.clock.seconds())
            self.clock.advance(0)
        self.clock.rightNow = max(when, self.clock.seconds())
        self.clock.advance(0)


def _lost() -> Failure:
    return Failure(ConnectionDone())


class RelayTimingTests(SynchronousTestCase):
    """
    L{LinkRelay} delivers bytes exactly when the model says.
    """

    def test_noDelayBothSides(self) -> None:
        """
        The relay turns Nagle's algorithm off on both of its sockets: it
        paces its writes itself, and the kernel holding a write back until
        a delayed ACK would add some 40 ms the emulated link does not have.
        """
        harness = Harness()
        _, client = harness.accept()
        _, server = harness.server()
        self.assertTrue(client.noDelay)
        self.assertTrue(server.noDelay)

    def test_requestReachesServerAfterOneAndAHalfRtt(self) -> None:
        """
        The client's first bytes wait one RTT (the handshake) and take
        RTT/2 to cross.
        """
        h = Harness()
        relay, _ = h.accept()
        relay.dataReceived(b"GET / HTTP/1.0\r\n\r\n")
        h.runUntil(2.0)
        self.assertEqual(h.server()[1].arrivals, [(0.75, b"GET / HTTP/1.0\r\n\r\n")])

    def test_nonPersistentFetchTakesTwoRtt(self) -> None:
        """
        A small object fetched over a fresh connection arrives 2 RTT after
        the client connected, as in the textbook.
        """
        h = Harness()
        relay, client = h.accept()
        h.respondWith(lambda request: b"HTTP/1.0 200 OK\r\n\r\nhi")
        relay.dataReceived(b"GET / HTTP/1.0\r\n\r\n")
        h.runUntil(3.0)
        self.assertEqual(client.arrivals, [(2 * RTT, b"HTTP/1.0 200 OK\r\n\r\nhi")])

    def test_fetchAddsTransmissionTime(self) -> None:
        """
        Over a bottleneck, the last byte of the object arrives at 2 RTT plus
        the transmission time of the request and of the object; the object
        arrives segment by segment.
        """
        h = Harness(rate=RATE)
        relay, client = h.accept()
        h.respondWith(lambda request: b"x" * 4000)
        relay.dataReceived(b"r" * 64)
        h.runUntil(10.0)
        times = [when for when, _ in client.arrivals]
        self.assertEqual(times[-1], 2 * RTT + (64 + 4000) * STEP)
        self.assertEqual(times[0], 2 * RTT + (64 + 1460) * STEP)
        self.assertEqual([len(data) for _, data in client.arrivals], [1460, 1460, 1080])
        self.assertEqual(client.value(), b"x" * 4000)

    def test_persistentConnectionCostsOneRttPerObject(self) -> None:
        """
        On a persistent connection each further request/response takes one
        RTT.
        """
        h = Harness()
        relay, client = h.accept()
        h.respondWith(lambda request: b"object " + request[-1:])
        relay.dataReceived(b"GET 1")
        for n, due in [(2, 1.5), (3, 2.0), (4, 2.5)]:
            h.runUntil(due - RTT)
            relay.dataReceived(b"GET %d" % n)
        h.runUntil(5.0)
        self.assertEqual(
            client.arrivals,
            [(1.0, b"object 1"), (1.5, b"object 2"), (2.0, b"object 3"), (2.5, b"object 4")],
        )

    def test_pipelinedRequestsShareOneRtt(self) -> None:
        """
        Requests sent back to back, without waiting for responses, are all
        answered one RTT later.
        """
        h = Harness()
        relay, client = h.accept()
        h.respondWith(lambda requests: b"object" * requests.count(b"GET"))
        relay.dataReceived(b"GET 1")
        h.runUntil(1.0)
        relay.dataReceived(b"GET 2")
        relay.dataReceived(b"GET 3")
        relay.dataReceived(b"GET 4")
        h.runUntil(5.0)
        self.assertEqual(client.arrivals, [(1.0, b"object"), (1.5, b"object" * 3)])

    def test_serverGreetingAfterTwoRtt(self) -> None:
        """
        A server that speaks first (SMTP's 220) is heard 2 RTT after the
        client connected: the handshake completes at the server at 1.5 RTT.
        """
        h = Harness()
        _, client = h.accept()
        h.server()[0].dataReceived(b"220 hamburger.edu\r\n")
        h.runUntil(2 * RTT - STEP)
        self.assertEqual(client.arrivals, [])
        h.runUntil(3.0)
        self.assertEqual(client.arrivals, [(2 * RTT, b"220 hamburger.edu\r\n")])

    def test_backToBackChunksQueue(self) -> None:
        """
        A chunk sent while the bottleneck is busy waits behind the one
        before it.
        """
        h = Harness(rate=RATE)
        relay, _ = h.accept()
        h.runUntil(1.0)
        relay.dataReceived(b"a" * 1024)
        relay.dataReceived(b"b" * 1024)
        h.runUntil(5.0)
        self.assertEqual(h.server()[1].arrivals, [(2.25, b"a" * 1024), (3.25, b"b" * 1024)])

    def test_segmentsArriveProgressively(self) -> None:
        """
        A large chunk is cut into segments, each delivered as its last bit
        arrives.
        """
        h = Harness(rate=RATE, segmentSize=512)
        relay, _ = h.accept()
        h.runUntil(1.0)
        relay.dataReceived(bytes(range(256)) * 8)
        h.runUntil(5.0)
        arrivals = h.server()[1].arrivals
        self.assertEqual([when for when, _ in arrivals], [1.75, 2.25, 2.75, 3.25])
        self.assertEqual(b"".join(data for _, data in arrivals), bytes(range(256)) * 8)

    def test_directionsAreIndependent(self) -> None:
        """
        A busy direction does not delay the other.
        """
        h = Harness(rate=RATE)
        relay, client = h.accept()
        h.runUntil(1.0)
        relay.dataReceived(b"u" * 2048)
        h.server()[0].dataReceived(b"d" * 1024)
        h.runUntil(5.0)
        self.assertEqual(client.arrivals, [(2.25, b"d" * 1024)])
        self.assertEqual(
            [(when, len(data)) for when, data in h.server()[1].arrivals],
            [(1.0 + 1460 * STEP + 0.25, 1460), (3.25, 588)],
        )

    def test_connectionsShareTheBottleneck(self) -> None:
        """
        Connections through one factory share its link, as users share an
        access link: two transfers at once each get half the rate.
        """
        h = Harness(rate=RATE)
        first, _ = h.accept()
        second, _ = h.accept()
        h.runUntil(1.0)
        first.dataReceived(b"1" * 1024)
        second.dataReceived(b"2" * 1024)
        h.runUntil(5.0)
        self.assertEqual(h.server(0)[1].arrivals, [(2.25, b"1" * 1024)])
        self.assertEqual(h.server(1)[1].arrivals, [(3.25, b"2" * 1024)])

    def test_dataWaitsForServerConnection(self) -> None:
        """
        Bytes due before the connection to the server is up are delivered
        as soon as it is, in order.
        """
        h = Harness(connectNow=False)
        relay, _ = h.accept()
        relay.dataReceived(b"early ")
        h.runUntil(1.0)
        relay.dataReceived(b"later")
        h.runUntil(2.0)
        h.endpoint.completeConnection()
        h.runUntil(2.0)
        self.assertEqual(h.server()[1].arrivals, [(2.0, b"early later")])

    @settings(max_examples=60, deadline=None)
    @given(
        rate=st.sampled_from([None, RATE, 8 * RATE]),
        segmentSize=st.sampled_from([100, 1460]),
        sends=st.lists(
            st.tuples(st.integers(0, 300), st.integers(1, 3000)), min_size=1, max_size=12
        ),
    )
    def test_orderKeptAndNothingEarly(
        self, rate: float | None, segmentSize: int, sends: list[tuple[int, int]]
    ) -> None:
        """
        Whatever the timing of the sends, the server gets every byte, in
        order, never before the handshake and propagation allow and no later
        than if everything had been sent at the last send.
        """
        h = Harness(rate=rate, segmentSize=segmentSize, bufferSize=10**9)
        relay, _ = h.accept()
        sent = b""
        for gap, size in sends:
            h.runUntil(h.clock.seconds() + gap * STEP)
            chunk = bytes([len(sent) % 251]) * size
            sent += chunk
            relay.dataReceived(chunk)
        lastSend = h.clock.seconds()
        relay.connectionLost(_lost())
        h.runUntil(lastSend + 100.0)
        _, server = h.server()
        self.assertEqual(server.value(), sent)
        self.assertGreaterEqual(server.arrivals[0][0], RTT + RTT / 2)
        latest = max(lastSend, RTT) + transmissionDelay(len(sent), rate) + RTT / 2
        self.assertLessEqual(server.arrivals[-1][0], latest)
        # The close goes behind the data, and no earlier than the last send.
        closeSent = max(lastSend, RTT) + RTT / 2
        self.assertEqual(server.closedAt, max(server.arrivals[-1][0], closeSent))
        self.assertEqual(h.clock.getDelayedCalls(), [])


class RelayClosingTests(SynchronousTestCase):
    """
    A close travels behind the data already sent, then ends the relay
    without leaving a timer behind.
    """

    def test_clientCloseAfterQueuedData(self) -> None:
        h = Harness(rate=RATE)
        relay, client = h.accept()
        relay.dataReceived(b"q" * 2048)
        relay.connectionLost(_lost())
        serverProtocol, server = h.server()
        h.runUntil(2.75 - STEP)
        self.assertFalse(server.disconnecting)
        h.runUntil(2.75)
        self.assertEqual(server.value(), b"q" * 2048)
        self.assertEqual(server.closedAt, 2.75)
        self.assertIsNone(server.producer)
        serverProtocol.connectionLost(_lost())
        self.assertEqual(h.clock.getDelayedCalls(), [])
        self.assertFalse(client.disconnecting)

    def test_serverCloseAfterQueuedData(self) -> None:
        h = Harness()
        relay, client = h.accept()
        serverProtocol, _ = h.server()
        h.respondWith(lambda request: b"response")
        relay.dataReceived(b"request")
        h.runUntil(0.75)
        serverProtocol.connectionLost(_lost())
        h.runUntil(1.0 - STEP)
        self.assertEqual(client.value(), b"")
        self.assertFalse(client.disconnecting)
        h.runUntil(1.0)
        self.assertEqual(client.value(), b"response")
        self.assertEqual(client.closedAt, 1.0)
        self.assertIsNone(client.producer)
        relay.connectionLost(_lost())
        self.assertEqual(h.clock.getDelayedCalls(), [])

    def test_closeTakesHalfAnRtt(self) -> None:
        """
        A close with nothing queued still takes the propagation delay.
        """
        h = Harness()
        relay, _ = h.accept()
        h.runUntil(2.0)
        relay.connectionLost(_lost())
        h.runUntil(3.0)
        self.assertEqual(h.server()[1].closedAt, 2.25)

    def test_closeDuringHandshake(self) -> None:
        """
        A client that sends and closes at once is heard, then closed, at
        1.5 RTT.
        """
        h = Harness()
        relay, _ = h.accept()
        relay.dataReceived(b"bye")
        relay.connectionLost(_lost())
        h.runUntil(3.0)
        _, server = h.server()
        self.assertEqual(server.arrivals, [(0.75, b"bye")])
        self.assertEqual(server.closedAt, 0.75)

    def test_dataForClosedServerDiscarded(self) -> None:
        """
        Bytes still travelling to a server that has closed are dropped, and
        later ones too.
        """
        h = Harness()
        relay, client = h.accept()
        serverProtocol, server = h.server()
        relay.dataReceived(b"lost")
        h.runUntil(0.5)
        serverProtocol.connectionLost(_lost())
        relay.dataReceived(b"also lost")
        h.runUntil(3.0)
        self.assertEqual(server.value(), b"")
        self.assertEqual(client.closedAt, 1.0)
        relay.connectionLost(_lost())
        self.assertEqual(h.clock.getDelayedCalls(), [])

    def test_connectFailureClosesClient(self) -> None:
        h = Harness()
        h.endpoint.failure = ConnectionRefusedError()
        relay, client = h.accept()
        self.assertTrue(client.disconnecting)
        self.assertIsNone(client.producer)
        relay.dataReceived(b"ignored")
        relay.connectionLost(_lost())
        self.assertEqual(h.clock.getDelayedCalls(), [])

    def test_clientGoneBeforeConnectFails(self) -> None:
        h = Harness(connectNow=False)
        relay, client = h.accept()
        relay.connectionLost(_lost())
        _, connecting = h.endpoint.pending.pop()
        connecting.errback(ConnectionRefusedError())
        h.runUntil(2.0)
        self.assertFalse(client.disconnecting)
        self.assertEqual(h.clock.getDelayedCalls(), [])


class RelayFlowControlTests(SynchronousTestCase):
    """
    The relay pauses a sender that outruns the bottleneck, and holds bytes
    for a receiver that cannot take them.
    """

    def test_fastSenderPaused(self) -> None:
        """
        Beyond the buffer plus what is on the wire, the source transport is
        paused; it resumes once half of that has drained.
        """
        h = Harness(rate=RATE, bufferSize=4096, maxInFlight=0)
        relay, client = h.accept()
        h.runUntil(1.0)
        relay.dataReceived(b"z" * 4096)
        self.assertEqual(client.producerState, "producing")
        relay.dataReceived(b"z" * 4096)
        self.assertEqual(client.producerState, "paused")
        # High water 4096 (no allowance for bytes on the wire), low water
        # 2048: the relay resumes once the fifth segment (1460, 1460, 1176,
        # 1460, 1460 bytes: 7016 in all) has been delivered.
        h.runUntil(1.0 + 7016 * STEP + 0.25 - STEP)
        self.assertEqual(client.producerState, "paused")
        h.runUntil(1.0 + 7016 * STEP + 0.25)
        self.assertEqual(client.producerState, "producing")
        h.runUntil(20.0)
        self.assertEqual(h.server()[1].value(), b"z" * 8192)

    def test_slowReceiverHoldsDelivery(self) -> None:
        """
        While the destination transport has paused the relay, nothing is
        written to it; on resume, what is due is written.
        """
        h = Harness(bufferSize=100, maxInFlight=0)
        relay, client = h.accept()
        serverProtocol, server = h.server()
        server.producer.pauseProducing()
        relay.dataReceived(b"a" * 150)
        self.assertEqual(client.producerState, "paused")
        h.runUntil(3.0)
        self.assertEqual(server.value(), b"")
        server.producer.resumeProducing()
        h.runUntil(3.0)
        self.assertEqual(server.arrivals, [(3.0, b"a" * 150)])
        self.assertEqual(client.producerState, "producing")

    def test_closedServerReleasesPausedClient(self) -> None:
        """
        A client paused for a server that then goes away reads again (and
        what it sends is dropped), so its own close is noticed.
        """
        h = Harness(bufferSize=100, maxInFlight=0)
        relay, client = h.accept()
        relay.dataReceived(b"a" * 150)
        self.assertEqual(client.producerState, "paused")
        h.server()[0].connectionLost(_lost())
        self.assertEqual(client.producerState, "producing")


class RelayTraceTests(SynchronousTestCase):
    """
    With tracing on, the relay notes connections, deliveries and closes.
    """

    def setUp(self) -> None:
        self.events: list[dict] = []
        trace.transcriptPublisher.addObserver(self.events.append)
        self.addCleanup(trace.transcriptPublisher.removeObserver, self.events.append)
        self.addCleanup(trace.setTracing, False)

    def lines(self) -> list[str]:
        return [event["netref_line"] for event in self.events]

    def test_notes(self) -> None:
        trace.setTracing(True)
        h = Harness(rate=RATE)
        relay, _ = h.accept()
        h.respondWith(lambda request: b"response")
        relay.dataReceived(b"request")
        h.runUntil(1.0)
        h.server()[0].connectionLost(_lost())
        h.runUntil(2.0)
        lines = self.lines()
        self.assertEqual(
            lines[0],
            "client 127.0.0.1:50000 connected; relaying to test server with RTT 500.0 ms, "
            "rate 8.192 kbit/s at +0.0 ms",
        )
        self.assertIn("connected to server 127.0.0.1:8080 at +0.0 ms", lines)
        self.assertIn("delivered 7 bytes to server at +756.8 ms", lines)
        self.assertIn("delivered 8 bytes to client at +1014.6 ms", lines)
        self.assertIn("server closed its connection at +1000.0 ms", lines)
        self.assertIn("closed the client side at +1250.0 ms", lines)
        self.assertEqual({event["netref_side"] for event in self.events}, {trace.NOTE})

    def test_connectFailure(self) -> None:
        trace.setTracing(True)
        h = Harness()
        h.endpoint.failure = ConnectionRefusedError()
        relay, _ = h.accept()
        relay.connectionLost(_lost())
        (line,) = self.lines()[1:]
        self.assertTrue(
            line.startswith("could not connect to test server (Connection was refused")
        )
        self.assertTrue(line.endswith("); closing the client at +0.0 ms"))

    def test_silentWhenOff(self) -> None:
        h = Harness()
        relay, _ = h.accept()
        relay.dataReceived(b"request")
        h.runUntil(1.0)
        self.assertEqual(self.events, [])


class OptionsTests(SynchronousTestCase):
    """
    C{twistd netref-link}'s options.
    """

    def parse(self, *args: str) -> Options:
        options = Options()
        options.parseOptions(list(args))
        return options

    def test_defaults(self) -> None:
        options = self.parse("--connect", "tcp:host=127.0.0.1:port=8080")
        self.assertEqual(options["rtt"], 0.1)
        self.assertIsNone(options["rate"])
        self.assertEqual(options.listenDescriptions(), ["tcp:8081:interface=127.0.0.1"])
        self.assertTrue(IStreamClientEndpoint.providedBy(options["endpoint"]))

    def test_values(self) -> None:
        options = self.parse(
            "--connect=tcp:host=127.0.0.1:port=8080",
            "--rtt=250us",
            "--rate=1.54Mbit",
            "--listen=tcp:9000:interface=127.0.0.1",
        )
        self.assertEqual(options["rtt"], 0.00025)
        self.assertEqual(options["rate"], 1.54e6)
        self.assertEqual(options.listenDescriptions(), ["tcp:9000:interface=127.0.0.1"])

    def test_connectRequired(self) -> None:
        with self.assertRaises(usage.UsageError) as caught:
            self.parse("--rtt", "100ms")
        self.assertIn("--connect is required", str(caught.exception))

    def test_badValues(self) -> None:
        connect = "--connect=tcp:host=127.0.0.1:port=8080"
        for args, expected in [
            (["--rtt=100"], "bad duration '100'"),
            (["--rtt=fast"], "bad duration 'fast'"),
            (["--rate=10MB"], "not in bytes"),
            (["--rate=lots"], "bad rate 'lots'"),
            (["--listen=udp:9000"], "datagram"),
        ]:
            with self.assertRaises(usage.UsageError) as caught:
                self.parse(connect, *args)
            self.assertIn(expected, str(caught.exception))

    def test_badConnect(self) -> None:
        for description in ["nonsense:foo", "tcp:host=127.0.0.1", "tcp:host=x:port=http"]:
            with self.assertRaises(usage.UsageError) as caught:
                self.parse("--connect", description)
            self.assertIn(f"bad --connect endpoint {description!r}", str(caught.exception))

    def test_makeService(self) -> None:
        options = self.parse(
            "--connect=tcp:host=127.0.0.1:port=8080",
            "--rtt=200ms",
            "--rate=10Mbit",
            "--listen=tcp:0:interface=127.0.0.1",
            "--listen=tcp:0:interface=127.0.0.2",
        )
        top = makeService(options)
        self.assertIsInstance(top, MultiService)
        children = list(top)
        self.assertEqual(len(children), 2)
        factories = {child.factory for child in children}
        self.assertEqual(len(factories), 1, "all listeners share one link")
        (factory,) = factories
        self.assertIsInstance(factory, LinkFactory)
        self.assertEqual((factory.link.rtt, factory.link.rate), (0.2, 10e6))
        self.assertEqual(factory.target, "tcp:host=127.0.0.1:port=8080")
        self.assertIs(factory.clock, reactor)


class _FixedResponse(Protocol):
    """
    A server that answers the first bytes it gets with a fixed response and
    closes, as an HTTP/1.0 server does.
    """

    def __init__(self, lost: Deferred[None]) -> None:
        self.lost = lost

    def dataReceived(self, data: bytes) -> None:
        assert self.transport is not None
        self.transport.write(b"HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nhello")
        self.transport.loseConnection()

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self.lost.callback(None)


class _FixedResponseFactory(ServerFactory[_FixedResponse]):
    """
    Serves L{_FixedResponse} to one client.
    """

    def __init__(self) -> None:
        self.lost: Deferred[None] = Deferred()

    def buildProtocol(self, addr: IAddress | None) -> _FixedResponse:
        return _FixedResponse(self.lost)


class _WatchedRelay(LinkRelay):
    """
    A relay that reports when each of its two connections is gone.
    """

    clientSideLost: Deferred[None]
    serverSideLost: Deferred[None]

    def connectionMade(self) -> None:
        self.clientSideLost = Deferred()
        self.serverSideLost = Deferred()
        super().connectionMade()

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        super().connectionLost(reason)
        self.clientSideLost.callback(None)

    def serverConnectionLost(self, reason: Failure) -> None:
        super().serverConnectionLost(reason)
        self.serverSideLost.callback(None)


class _WatchedLinkFactory(LinkFactory):
    """
    A L{LinkFactory} that keeps the relays it builds.
    """

    protocol = _WatchedRelay

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.relays: list[_WatchedRelay] = []

    def buildProtocol(self, addr: IAddress | None) -> _WatchedRelay | None:
        relay = super().buildProtocol(addr)
        assert isinstance(relay, _WatchedRelay)
        self.relays.append(relay)
        return relay


class _TimedClient(Protocol):
    """
    Sends a request on connection and notes when the response begins.
    """

    def __init__(self) -> None:
        self.received = b""
        self.firstByteAt: float | None = None
        self.lost: Deferred[None] = Deferred()

    def connectionMade(self) -> None:
        assert self.transport is not None
        self.transport.write(b"GET / HTTP/1.0\r\n\r\n")

    def dataReceived(self, data: bytes) -> None:
        if self.firstByteAt is None:
            self.firstByteAt = reactor.seconds()
        self.received += data

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self.lost.callback(None)


class LoopbackTests(TestCase):
    """
    A real relay on 127.0.0.1, with real time: a fetch through it takes the
    model's 2 RTT.
    """

    async def test_fetchTakesTwoRtt(self) -> None:
        rtt = 0.2
        serverFactory = _FixedResponseFactory()
        serverPort = reactor.listenTCP(0, serverFactory, interface="127.0.0.1")
        self.addCleanup(serverPort.stopListening)
        serverAddress = serverPort.getHost()
        assert isinstance(serverAddress, IPv4Address)

        relayFactory = _WatchedLinkFactory(
            TCP4ClientEndpoint(reactor, "127.0.0.1", serverAddress.port), rtt=rtt, clock=reactor
        )
        relayPort = reactor.listenTCP(0, relayFactory, interface="127.0.0.1")
        self.addCleanup(relayPort.stopListening)
        relayAddress = relayPort.getHost()
        assert isinstance(relayAddress, IPv4Address)

        client = _TimedClient()
        start = reactor.seconds()
        await connectProtocol(TCP4ClientEndpoint(reactor, "127.0.0.1", relayAddress.port), client)
        await client.lost
        (relay,) = relayFactory.relays
        await defer.gatherResults([serverFactory.lost, relay.clientSideLost, relay.serverSideLost])

        self.assertEqual(client.received, b"HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nhello")
        assert client.firstByteAt is not None
        elapsed = client.firstByteAt - start
        self.assertGreaterEqual(elapsed, 2 * rtt - 0.005)
        self.assertLess(elapsed, 2 * rtt + 1.0)
