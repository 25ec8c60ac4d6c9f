"""
Tests for L{netref.sockets.client}: the uppercase clients over fake
transports and a L{Clock}, and the options of C{netref upper}.
"""

from __future__ import annotations

import builtins
import errno
import io
import sys
from typing import Any

from twisted.internet import error
from twisted.internet.address import IPv4Address
from twisted.internet.defer import CancelledError, Deferred
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.python.failure import Failure
from twisted.python.usage import UsageError
from twisted.trial.unittest import SynchronousTestCase

from netref.core.trace import formatTranscriptEvent, setTracing, transcriptPublisher
from netref.sockets import client
from netref.sockets.client import (
    TCP_TIMEOUT,
    UDP_RETRIES,
    UDP_TIMEOUT,
    NoReplyError,
    Options,
    UpperTCPClientProtocol,
    UpperUDPClientProtocol,
    upperTCP,
    upperUDP,
)
from netref.sockets.wire import MAX_DATAGRAM, MAX_SENTENCE, ReplyTooLongError, ServerError


class FakeSocket:
    """
    Stands in for a UDP socket that holds a pending error.
    """

    def __init__(self, code: int) -> None:
        self.code = code

    def getsockopt(self, level: int, option: int) -> int:
        return self.code


class FakeUDPPort:
    """
    A connected UDP port that records what is sent.
    """

    def __init__(self, protocol: Any) -> None:
        self.protocol = protocol
        self.written: list[tuple[bytes, Any]] = []
        self.connectedTo: tuple[str, int] | None = None
        self.stopped = False
        self.socket: FakeSocket | None = None

    def connect(self, host: str, port: int) -> None:
        self.connectedTo = (host, port)

    def write(self, datagram: bytes, addr: Any = None) -> None:
        self.written.append((datagram, addr))

    def stopListening(self) -> None:
        if not self.stopped:
            self.stopped = True
            self.protocol.doStop()


class FakeUDPReactor(Clock):
    """
    A L{Clock} that can also "listen" on UDP, with L{FakeUDPPort}s.
    """

    def __init__(self) -> None:
        super().__init__()
        self.ports: list[tuple[FakeUDPPort, str]] = []

    def listenUDP(self, port: int, protocol: Any, interface: str = "", maxPacketSize: int = 8192):
        fake = FakeUDPPort(protocol)
        self.ports.append((fake, interface))
        protocol.makeConnection(fake)
        return fake


def traceLines(test: SynchronousTestCase):
    events: list[dict[str, Any]] = []
    transcriptPublisher.addObserver(events.append)
    test.addCleanup(transcriptPublisher.removeObserver, events.append)
    setTracing(True)
    test.addCleanup(setTracing, False)
    return lambda: [formatTranscriptEvent(e).split(" ", 1)[1] for e in events]


class UpperTCPClientProtocolTests(SynchronousTestCase):
    """
    L{UpperTCPClientProtocol} sends one sentence and reads one answer.
    """

    def setUp(self) -> None:
        self.clock = Clock()
        self.protocol = UpperTCPClientProtocol(b"hello", self.clock, timeout=5)
        self.transport = StringTransport(peerAddress=IPv4Address("TCP", "127.0.0.1", 12000))
        self.protocol.makeConnection(self.transport)
        self.results: list[Any] = []
        self.protocol.finished.addBoth(self.results.append)

    def lose(self) -> None:
        self.protocol.connectionLost(Failure(error.ConnectionDone()))

    def test_sendsLine(self) -> None:
        self.assertEqual(self.transport.value(), b"hello\n")

    def test_answerAtNewline(self) -> None:
        """
        The answer ends at the newline; the client then closes, and
        C{finished} fires once the connection is gone.
        """
        self.protocol.dataReceived(b"HEL")
        self.assertFalse(self.transport.disconnecting)
        self.protocol.dataReceived(b"LO\n")
        self.assertTrue(self.transport.disconnecting)
        self.assertEqual(self.results, [])
        self.lose()
        self.assertEqual(self.results, [b"HELLO"])
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_answerAtClose(self) -> None:
        """
        The textbook's server answers without a newline and closes.
        """
        self.protocol.dataReceived(b"HELLO")
        self.lose()
        self.assertEqual(self.results, [b"HELLO"])

    def test_closedWithoutAnswer(self) -> None:
        self.lose()
        self.assertIsInstance(self.results[0], Failure)
        self.results[0].trap(NoReplyError)

    def test_timeout(self) -> None:
        self.clock.advance(5)
        self.assertTrue(self.transport.disconnecting)
        self.lose()
        self.results[0].trap(NoReplyError)
        self.assertIn("5 seconds", self.results[0].getErrorMessage())

    def test_replyTooLong(self) -> None:
        self.protocol.dataReceived(b"A" * (4 * MAX_SENTENCE))
        self.assertTrue(self.transport.disconnecting)
        self.lose()
        self.results[0].trap(ReplyTooLongError)

    def test_cancel(self) -> None:
        self.protocol.finished.cancel()
        self.assertTrue(self.transport.disconnecting)
        self.results[0].trap(CancelledError)
        self.lose()
        self.assertEqual(len(self.results), 1)

    def test_transcript(self) -> None:
        lines = traceLines(self)
        protocol = UpperTCPClientProtocol(b"hi", self.clock)
        protocol.makeConnection(StringTransport(peerAddress=IPv4Address("TCP", "10.0.0.1", 1)))
        protocol.dataReceived(b"HI\n")
        self.assertEqual(lines(), ["*: connected to 10.0.0.1:1", "C: hi", "S: HI"])


class UpperTCPTests(SynchronousTestCase):
    """
    L{upperTCP} checks its sentence before connecting.
    """

    def test_newline(self) -> None:
        self.assertRaises(ValueError, upperTCP, Clock(), "localhost", 12000, "a\nb")

    def test_tooLong(self) -> None:
        self.assertRaises(
            ValueError, upperTCP, Clock(), "localhost", 12000, "a" * (MAX_SENTENCE + 1)
        )


class UpperUDPClientProtocolTests(SynchronousTestCase):
    """
    L{UpperUDPClientProtocol} sends its datagram again after each timeout,
    as UDP may lose it.
    """

    def setUp(self) -> None:
        self.clock = Clock()
        self.protocol = UpperUDPClientProtocol(
            b"hello", ("127.0.0.1", 12000), self.clock, timeout=1, retries=2
        )
        self.port = FakeUDPPort(self.protocol)
        self.protocol.makeConnection(self.port)  # type: ignore[arg-type]
        self.results: list[Any] = []
        self.protocol.finished.addBoth(self.results.append)

    def test_sendsConnected(self) -> None:
        self.assertEqual(self.port.connectedTo, ("127.0.0.1", 12000))
        self.assertEqual(self.port.written, [(b"hello", ("127.0.0.1", 12000))])

    def test_answer(self) -> None:
        self.protocol.datagramReceived(b"HELLO", ("127.0.0.1", 12000))
        self.assertEqual(self.results, [b"HELLO"])
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_retries(self) -> None:
        """
        No answer in time: the datagram goes again, C{retries} times, then
        the client gives up.
        """
        self.clock.advance(1)
        self.assertEqual(len(self.port.written), 2)
        self.clock.advance(1)
        self.assertEqual(len(self.port.written), 3)
        self.assertEqual(self.results, [])
        self.clock.advance(1)
        self.assertEqual(len(self.port.written), 3)
        self.results[0].trap(NoReplyError)
        self.assertEqual(
            self.results[0].getErrorMessage(),
            "no answer from 127.0.0.1:12000 after 3 datagrams, 1 seconds apart",
        )
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_answerToRetry(self) -> None:
        """
        An answer after a retry is as good; a second answer is ignored.
        """
        self.clock.advance(1)
        self.protocol.datagramReceived(b"HELLO", ("127.0.0.1", 12000))
        self.protocol.datagramReceived(b"HELLO", ("127.0.0.1", 12000))
        self.assertEqual(self.results, [b"HELLO"])

    def test_refused(self) -> None:
        self.protocol.connectionRefused()
        self.results[0].trap(error.ConnectionRefusedError)
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_portClosedByICMP(self) -> None:
        """
        Poll-like reactors close a connected UDP port on an ICMP error; the
        error left on the socket says which.
        """
        self.port.socket = FakeSocket(errno.ECONNREFUSED)
        self.port.stopListening()
        self.results[0].trap(error.ConnectionRefusedError)

    def test_portClosedHostUnreachable(self) -> None:
        self.port.socket = FakeSocket(errno.EHOSTUNREACH)
        self.port.stopListening()
        self.results[0].trap(error.ConnectError)
        self.assertIn("No route to host", self.results[0].getErrorMessage())

    def test_cancel(self) -> None:
        self.protocol.finished.cancel()
        self.results[0].trap(CancelledError)
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_transcript(self) -> None:
        lines = traceLines(self)
        protocol = UpperUDPClientProtocol(b"hi", ("127.0.0.1", 9), self.clock)
        protocol.makeConnection(FakeUDPPort(protocol))  # type: ignore[arg-type]
        protocol.datagramReceived(b"HI", ("127.0.0.1", 9))
        self.assertEqual(lines(), ["*: datagrams to 127.0.0.1:9", "C: hi", "S: HI"])


class UpperUDPTests(SynchronousTestCase):
    """
    L{upperUDP} listens on a fresh port, and stops listening when done.
    """

    def setUp(self) -> None:
        self.reactor = FakeUDPReactor()

    def test_answer(self) -> None:
        d = upperUDP(self.reactor, "127.0.0.1", 12000, "straße")
        [(port, interface)] = self.reactor.ports
        self.assertEqual(interface, "")
        self.assertEqual(port.written, [("straße".encode(), ("127.0.0.1", 12000))])
        port.protocol.datagramReceived(b"STRASSE", ("127.0.0.1", 12000))
        self.assertEqual(self.successResultOf(d), "STRASSE")
        self.assertTrue(port.stopped)

    def test_timeout(self) -> None:
        """
        The whole exchange gives up after C{timeout * (retries + 1)}.
        """
        d = upperUDP(self.reactor, "127.0.0.1", 12000, "hello", timeout=2, retries=1)
        self.reactor.advance(2)
        self.assertEqual(len(self.reactor.ports[0][0].written), 2)
        self.reactor.advance(1.9)
        self.assertNoResult(d)
        self.reactor.advance(0.1)
        self.failureResultOf(d, NoReplyError)
        self.assertTrue(self.reactor.ports[0][0].stopped)

    def test_serverError(self) -> None:
        d = upperUDP(self.reactor, "::1", 12000, "hello")
        [(port, interface)] = self.reactor.ports
        self.assertEqual(interface, "::")
        port.protocol.datagramReceived(b"error: datagram longer than 2 bytes\n", ("::1", 12000))
        self.failureResultOf(d, ServerError)

    def test_cancel(self) -> None:
        d = upperUDP(self.reactor, "127.0.0.1", 12000, "hello")
        d.cancel()
        self.failureResultOf(d, CancelledError)
        self.assertTrue(self.reactor.ports[0][0].stopped)
        self.assertEqual(self.reactor.getDelayedCalls(), [])

    def test_resolves(self) -> None:
        """
        A name is resolved first, with the reactor's resolver.
        """
        resolving: Deferred[str] = Deferred()
        names: list[str] = []

        def resolve(name: str) -> Deferred[str]:
            names.append(name)
            return resolving

        self.reactor.resolve = resolve  # type: ignore[attr-defined]
        d = upperUDP(self.reactor, "localhost", 12000, "hello")
        self.assertEqual((names, self.reactor.ports), (["localhost"], []))
        resolving.callback("127.0.0.1")
        [(port, _)] = self.reactor.ports
        self.assertEqual(port.connectedTo, ("127.0.0.1", 12000))
        port.protocol.datagramReceived(b"HELLO", ("127.0.0.1", 12000))
        self.assertEqual(self.successResultOf(d), "HELLO")

    def test_tooLong(self) -> None:
        self.assertRaises(
            ValueError, upperUDP, self.reactor, "127.0.0.1", 12000, "a" * (MAX_DATAGRAM + 1)
        )


class OptionsTests(SynchronousTestCase):
    """
    The options of C{netref upper}.
    """

    def parse(self, *argv: str) -> Options:
        options = Options()
        options.parseOptions(list(argv))
        return options

    def test_defaults(self) -> None:
        options = self.parse()
        self.assertEqual(options["host"], "localhost")
        self.assertEqual(options["port"], 12000)
        self.assertFalse(options["udp"])
        self.assertFalse(options["trace"])
        self.assertEqual(options["timeout"], TCP_TIMEOUT)
        self.assertEqual(options["retries"], UDP_RETRIES)
        self.assertEqual(options["sentences"], [])

    def test_udp(self) -> None:
        options = self.parse("--udp", "--host", "127.2.0.10", "-p", "12001", "hello", "world")
        self.assertTrue(options["udp"])
        self.assertEqual(options["timeout"], UDP_TIMEOUT)
        self.assertEqual((options["host"], options["port"]), ("127.2.0.10", 12001))
        self.assertEqual(options["sentences"], ["hello", "world"])

    def test_timeout(self) -> None:
        self.assertEqual(self.parse("-t", "0.5", "--retries", "0")["timeout"], 0.5)

    def test_bad(self) -> None:
        for argv in (
            ["--port", "0"],
            ["--port", "65536"],
            ["--port", "http"],
            ["--timeout", "0"],
            ["--retries", "-1"],
        ):
            self.assertRaises(UsageError, self.parse, *argv)

    def test_subcommand(self) -> None:
        """
        C{netref upper} is wired into the C{netref} command.
        """
        from netref.core import cli

        options = cli.Options()
        options.parseOptions(["upper", "--udp", "hello"])
        self.assertEqual(options.subCommand, "upper")
        self.assertEqual(options.subOptions["sentences"], ["hello"])


class ReadSentencesTests(SynchronousTestCase):
    """
    Without sentences on the command line, C{netref upper} reads lines.
    """

    def test_pipe(self) -> None:
        self.patch(sys, "stdin", io.StringIO("hello\r\nworld\n\nlast"))
        self.assertEqual(list(client._readSentences()), ["hello", "world", "", "last"])

    def test_terminal(self) -> None:
        """
        At a terminal the textbook's prompt is shown.
        """

        class Terminal(io.StringIO):
            def isatty(self) -> bool:
                return True

        prompts: list[str] = []
        answers = iter(["hello"])

        def fakeInput(prompt: str) -> str:
            prompts.append(prompt)
            try:
                return next(answers)
            except StopIteration:
                raise EOFError() from None

        self.patch(sys, "stdin", Terminal())
        self.patch(builtins, "input", fakeInput)
        self.assertEqual(list(client._readSentences()), ["hello"])
        self.assertEqual(prompts, ["Input lowercase sentence:"] * 2)

    def test_display(self) -> None:
        self.assertEqual(client._display("A\udcffB"), "A\\xffB")
