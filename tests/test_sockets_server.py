"""
Tests for L{netref.sockets.server}: the uppercase servers over fake
transports.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from twisted.internet.address import IPv4Address
from twisted.internet.interfaces import IHalfCloseableProtocol
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase

from netref.core.trace import formatTranscriptEvent, setTracing, transcriptPublisher
from netref.sockets.server import (
    IDLE_TIMEOUT,
    UpperTCPFactory,
    UpperTCPProtocol,
    UpperUDPProtocol,
    describeAddress,
)
from netref.sockets.wire import MAX_DATAGRAM, MAX_SENTENCE


class FakeDatagramTransport:
    """
    Records the datagrams a L{UpperUDPProtocol} sends.
    """

    def __init__(self) -> None:
        self.written: list[tuple[bytes, Any]] = []

    def write(self, datagram: bytes, addr: Any = None) -> None:
        self.written.append((datagram, addr))


def connectedProtocol(
    factory: UpperTCPFactory,
) -> tuple[UpperTCPProtocol, StringTransport]:
    """
    @return: a protocol from C{factory} connected to a L{StringTransport}
        from 127.0.0.1:51234.
    """
    protocol = factory.buildProtocol(IPv4Address("TCP", "127.0.0.1", 51234))
    assert isinstance(protocol, UpperTCPProtocol)
    transport = StringTransport(peerAddress=IPv4Address("TCP", "127.0.0.1", 51234))
    protocol.makeConnection(transport)
    return protocol, transport


def traceLines(test: SynchronousTestCase) -> Callable[[], list[str]]:
    """
    Turn tracing on for the test and collect the transcript lines.

    @return: a function returning the lines so far.
    """
    events: list[dict[str, Any]] = []
    transcriptPublisher.addObserver(events.append)
    test.addCleanup(transcriptPublisher.removeObserver, events.append)
    setTracing(True)
    test.addCleanup(setTracing, False)

    def lines() -> list[str]:
        return [line for line in map(formatTranscriptEvent, events) if line is not None]

    return lines


class UpperTCPProtocolTests(SynchronousTestCase):
    """
    L{UpperTCPProtocol} answers each piece of the stream at once, and keeps
    the connection open.
    """

    def setUp(self) -> None:
        self.clock = Clock()
        self.factory = UpperTCPFactory(clock=self.clock)
        self.protocol, self.transport = connectedProtocol(self.factory)

    def test_defaults(self) -> None:
        """
        The lab builds the factory with no arguments.
        """
        factory = UpperTCPFactory()
        self.assertEqual(factory.maxSentence, MAX_SENTENCE)
        self.assertEqual(factory.idleTimeout, IDLE_TIMEOUT)

    def test_textbookClient(self) -> None:
        """
        The textbook's client sends no newline: the answer comes at once.
        """
        self.protocol.dataReceived(b"hello")
        self.assertEqual(self.transport.value(), b"HELLO")
        self.assertFalse(self.transport.disconnecting)

    def test_severalSentences(self) -> None:
        self.protocol.dataReceived(b"one\ntw")
        self.protocol.dataReceived(b"o\n")
        self.assertEqual(self.transport.value(), b"ONE\nTWO\n")

    def test_splitCharacter(self) -> None:
        self.protocol.dataReceived(b"stra\xc3")
        self.protocol.dataReceived(b"\x9fe\n")
        self.assertEqual(self.transport.value(), b"STRASSE\n")

    def test_garbage(self) -> None:
        """
        Bytes that are not UTF-8 come back unchanged; the connection lives.
        """
        self.protocol.dataReceived(b"\xff\xfe\x00x\n")
        self.assertEqual(self.transport.value(), b"\xff\xfe\x00X\n")
        self.assertFalse(self.transport.disconnecting)

    def test_sentenceTooLong(self) -> None:
        """
        An overlong sentence gets the answer up to the limit, an error line,
        and a closed connection; what arrives after that is ignored.
        """
        factory = UpperTCPFactory(maxSentence=4, clock=self.clock)
        protocol, transport = connectedProtocol(factory)
        protocol.dataReceived(b"abc")
        protocol.dataReceived(b"defg\n")
        self.assertEqual(transport.value(), b"ABCD" + b"error: sentence longer than 4 bytes\n")
        self.assertTrue(transport.disconnecting)
        protocol.dataReceived(b"more\n")
        self.assertEqual(transport.value(), b"ABCD" + b"error: sentence longer than 4 bytes\n")

    def test_halfClose(self) -> None:
        """
        A client that half-closes gets the rest of its answer, and the server
        closes.
        """
        self.assertTrue(IHalfCloseableProtocol.providedBy(self.protocol))
        self.protocol.dataReceived(b"ab\xe2\x82")
        self.protocol.readConnectionLost()
        self.assertEqual(self.transport.value(), b"AB\xe2\x82")
        self.assertTrue(self.transport.disconnecting)

    def test_idleTimeout(self) -> None:
        """
        A connection silent for the idle timeout gets an error line and is
        closed; data restarts the timer.
        """
        self.clock.advance(IDLE_TIMEOUT - 1)
        self.protocol.dataReceived(b"x")
        self.clock.advance(IDLE_TIMEOUT - 1)
        self.assertFalse(self.transport.disconnecting)
        self.clock.advance(1)
        self.assertEqual(self.transport.value(), b"Xerror: idle for 300 seconds\n")
        self.assertTrue(self.transport.disconnecting)

    def test_flowControl(self) -> None:
        """
        The protocol produces for its transport: when the transport's buffer
        is full, the protocol stops reading from the client, and reads again
        once the buffer has drained.
        """
        self.assertIs(self.transport.producer, self.protocol)
        self.assertTrue(self.transport.streaming)
        self.protocol.pauseProducing()
        self.assertEqual(self.transport.producerState, "paused")
        self.protocol.resumeProducing()
        self.assertEqual(self.transport.producerState, "producing")

    def test_closeUnregisters(self) -> None:
        """
        Closing lets go of the producer, so a paused one cannot keep the
        connection open.
        """
        self.protocol.pauseProducing()
        self.protocol.readConnectionLost()
        self.assertIsNone(self.transport.producer)
        self.assertTrue(self.transport.disconnecting)

    def test_idleWhilePaused(self) -> None:
        """
        A client that neither reads nor lets us read is cut off when idle:
        an error line would never reach it.
        """
        self.protocol.pauseProducing()
        self.clock.advance(IDLE_TIMEOUT)
        self.assertEqual(self.transport.value(), b"")
        self.assertTrue(self.transport.disconnecting)

    def test_connectionLostStopsTimer(self) -> None:
        self.protocol.connectionLost(Failure(ConnectionError()))
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_transcript(self) -> None:
        """
        Tracing shows the connection, each line each way, and the close.
        """
        lines = traceLines(self)
        protocol, transport = connectedProtocol(self.factory)
        protocol.dataReceived(b"hello\nworld")
        protocol.connectionLost(Failure(ConnectionError("gone")))
        cid = protocol._transcript.connectionId
        self.assertEqual(
            lines(),
            [
                f"[{cid}] *: connection from 127.0.0.1:51234",
                f"[{cid}] C: hello",
                f"[{cid}] C: world",
                f"[{cid}] S: HELLO",
                f"[{cid}] S: WORLD",
                f"[{cid}] *: connection closed: gone",
            ],
        )


class UpperUDPProtocolTests(SynchronousTestCase):
    """
    L{UpperUDPProtocol} answers each datagram with one datagram, to its
    sender.
    """

    def setUp(self) -> None:
        self.protocol = UpperUDPProtocol()
        self.transport = FakeDatagramTransport()
        self.protocol.makeConnection(self.transport)  # type: ignore[arg-type]

    def test_defaults(self) -> None:
        self.assertEqual(self.protocol.maxDatagram, MAX_DATAGRAM)

    def test_datagram(self) -> None:
        self.protocol.datagramReceived(b"hello", ("127.0.0.1", 5353))
        self.protocol.datagramReceived("straße".encode(), ("127.0.0.2", 5354))
        self.assertEqual(
            self.transport.written,
            [(b"HELLO", ("127.0.0.1", 5353)), (b"STRASSE", ("127.0.0.2", 5354))],
        )

    def test_garbage(self) -> None:
        self.protocol.datagramReceived(b"\xc3(a", ("127.0.0.1", 5353))
        self.assertEqual(self.transport.written, [(b"\xc3(A", ("127.0.0.1", 5353))])

    def test_tooLong(self) -> None:
        self.protocol.datagramReceived(b"a" * (MAX_DATAGRAM + 1), ("127.0.0.1", 5353))
        self.assertEqual(
            self.transport.written,
            [(b"error: datagram longer than 2048 bytes\n", ("127.0.0.1", 5353))],
        )

    def test_transcript(self) -> None:
        lines = traceLines(self)
        self.protocol.datagramReceived(b"hi", ("::1", 5353))
        self.assertEqual(
            [line.split(" ", 1)[1] for line in lines()],
            ["*: datagram from [::1]:5353", "C: hi", "S: HI"],
        )


class DescribeAddressTests(SynchronousTestCase):
    def test_forms(self) -> None:
        self.assertEqual(describeAddress(("127.0.0.1", 1)), "127.0.0.1:1")
        self.assertEqual(describeAddress(IPv4Address("UDP", "10.0.0.1", 2)), "10.0.0.1:2")
        self.assertEqual(describeAddress(("::1", 3)), "[::1]:3")
        self.assertEqual(describeAddress(None), "None")
