"""
Tests for L{netref.core.stream}: the idle timer and write-side backpressure
of L{GuardedStreamProtocol}, over a L{StringTransport} and a L{Clock}.
"""

from __future__ import annotations

import socket
import struct
import sys
from unittest import SkipTest

from twisted.internet import tcp
from twisted.internet.defer import Deferred
from twisted.internet.endpoints import TCP4ClientEndpoint, connectProtocol, wrapClientTLS
from twisted.internet.interfaces import IConsumer, IPushProducer, IReactorTime, ITransport
from twisted.internet.protocol import Protocol, ServerFactory, connectionDone
from twisted.internet.task import Clock
from twisted.internet.testing import MemoryReactor, StringTransport
from twisted.python.failure import Failure
from twisted.python.filepath import FilePath
from twisted.trial.unittest import SynchronousTestCase, TestCase
from zope.interface import implementer_only
from zope.interface.verify import verifyObject

from netref.core.stream import GuardedStreamProtocol, writeNow
from netref.core.tls import DevCertificateAuthority, clientOptions

TIMEOUT = 10.0


class Factory:
    """
    The least a L{GuardedStreamProtocol} needs of its factory.
    """

    def __init__(self, clock: Clock, idleTimeout: float = TIMEOUT) -> None:
        self.clock: IReactorTime = clock
        self.idleTimeout = idleTimeout


class Recording(GuardedStreamProtocol):
    """
    Starts guarding as soon as it is connected, and records the idle hook.
    """

    def __init__(self) -> None:
        self.timeouts = 0

    def connectionMade(self) -> None:
        self.startGuarding()

    def idleTimedOut(self) -> None:
        self.timeouts += 1
        super().idleTimedOut()


@implementer_only(ITransport, IConsumer)
class ConsumerOnlyTransport(StringTransport):
    """
    A transport that is a consumer but cannot pause its reading, as TLS.
    """


class GuardedStreamProtocolTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.clock = Clock()
        self.protocol = Recording()
        self.protocol.factory = Factory(self.clock)
        self.transport = StringTransport()
        self.protocol.makeConnection(self.transport)

    def test_interface(self) -> None:
        self.assertTrue(verifyObject(IPushProducer, self.protocol))

    def test_registersStreamingProducer(self) -> None:
        self.assertIs(self.transport.producer, self.protocol)
        self.assertTrue(self.transport.streaming)
        self.assertEqual(self.transport.producerState, "producing")

    def test_idleFires(self) -> None:
        """
        After the factory's timeout without progress, the connection is
        closed gracefully, and the producer let go of.
        """
        self.clock.advance(TIMEOUT - 0.1)
        self.assertEqual(self.protocol.timeouts, 0)
        self.assertFalse(self.transport.disconnecting)
        self.clock.advance(0.1)
        self.assertEqual(self.protocol.timeouts, 1)
        self.assertTrue(self.transport.disconnecting)
        self.assertFalse(self.transport.disconnected)
        self.assertIsNone(self.transport.producer)
        self.assertTrue(self.protocol.closing)
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_resetIdle(self) -> None:
        self.clock.advance(TIMEOUT - 1)
        self.protocol.resetIdle()
        self.clock.advance(TIMEOUT - 1)
        self.assertEqual(self.protocol.timeouts, 0)
        self.clock.advance(1)
        self.assertEqual(self.protocol.timeouts, 1)

    def test_resetIdleKeepsOneTimer(self) -> None:
        """
        Progress moves no timer: the one timer, when it fires early, waits
        on for the rest of the timeout after the last progress.
        """
        for _ in range(5):
            self.clock.advance(1)
            self.protocol.resetIdle()
        self.assertEqual(len(self.clock.getDelayedCalls()), 1)
        self.clock.advance(TIMEOUT - 0.5)
        self.assertEqual(self.protocol.timeouts, 0)
        self.assertEqual(self.clock.getDelayedCalls()[0].getTime(), 5 + TIMEOUT)
        self.clock.advance(0.5)
        self.assertEqual(self.protocol.timeouts, 1)

    def test_resetIdleReadsTimeout(self) -> None:
        """
        The timeout is read from the factory each time the timer restarts.
        """
        self.protocol.factory.idleTimeout = 2.0
        self.protocol.resetIdle()
        self.clock.advance(2.0)
        self.assertEqual(self.protocol.timeouts, 1)

    def test_stopIdle(self) -> None:
        self.protocol.stopIdle()
        self.assertEqual(self.clock.getDelayedCalls(), [])
        self.protocol.stopIdle()
        self.clock.advance(TIMEOUT * 2)
        self.assertEqual(self.protocol.timeouts, 0)

    def test_closeConnection(self) -> None:
        """
        A graceful close stops the timer, unregisters the producer (a
        paused one would keep the transport open) and loses the connection.
        """
        self.protocol.pauseProducing()
        self.protocol.closeConnection()
        self.assertTrue(self.protocol.closing)
        self.assertIsNone(self.transport.producer)
        # Reading again, so that a TLS connection can read the peer's
        # close_notify and finish closing.
        self.assertEqual(self.transport.producerState, "producing")
        self.assertTrue(self.transport.disconnecting)
        self.assertFalse(self.transport.disconnected)
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_pauseResume(self) -> None:
        self.assertFalse(self.protocol.paused)
        self.protocol.pauseProducing()
        self.assertTrue(self.protocol.paused)
        self.assertEqual(self.transport.producerState, "paused")
        self.protocol.resumeProducing()
        self.assertFalse(self.protocol.paused)
        self.assertEqual(self.transport.producerState, "producing")

    def test_stopProducing(self) -> None:
        """
        C{stopProducing} does nothing: C{connectionLost} follows it.
        """
        self.protocol.stopProducing()
        self.assertFalse(self.transport.disconnecting)
        self.assertEqual(self.transport.producerState, "producing")

    def test_idleWhilePausedAborts(self) -> None:
        """
        A peer that reads nothing is aborted when idle: a graceful close
        would wait for it for ever.
        """
        self.protocol.pauseProducing()
        self.clock.advance(TIMEOUT)
        self.assertEqual(self.protocol.timeouts, 1)
        self.assertTrue(self.transport.disconnected)
        self.assertTrue(self.protocol.closing)

    def test_idleAfterResumeCloses(self) -> None:
        self.protocol.pauseProducing()
        self.protocol.resumeProducing()
        self.clock.advance(TIMEOUT)
        self.assertTrue(self.transport.disconnecting)
        self.assertFalse(self.transport.disconnected)

    def test_abortConnection(self) -> None:
        self.protocol.abortConnection()
        self.assertTrue(self.protocol.closing)
        self.assertTrue(self.transport.disconnected)
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_connectionLost(self) -> None:
        self.protocol.connectionLost(Failure(Exception("gone")))
        self.assertTrue(self.protocol.closing)
        self.assertEqual(self.clock.getDelayedCalls(), [])


class NotPushProducerTests(SynchronousTestCase):
    """
    Over a transport that cannot pause its reading, the protocol registers
    no producer, and pausing it touches nothing.
    """

    def test_noProducer(self) -> None:
        clock = Clock()
        protocol = Recording()
        protocol.factory = Factory(clock)
        transport = ConsumerOnlyTransport()
        protocol.makeConnection(transport)
        self.assertIsNone(transport.producer)
        protocol.pauseProducing()
        self.assertTrue(protocol.paused)
        self.assertEqual(transport.producerState, "producing")
        protocol.resumeProducing()
        protocol.closeConnection()
        self.assertTrue(transport.disconnecting)


class _Greeter(GuardedStreamProtocol):
    """
    A server that speaks first, as SMTP, POP3 and FTP do.
    """

    def connectionMade(self) -> None:
        self.startGuarding()
        self.transport.write(b"220 hello\r\n")

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        super().connectionLost(reason)
        self.factory.lost.callback(None)  # type: ignore[attr-defined]


class _GreeterFactory(ServerFactory):
    protocol = _Greeter

    def __init__(self) -> None:
        from twisted.internet import reactor

        self.clock = reactor
        self.idleTimeout = 30.0
        self.lost: Deferred[None] = Deferred()


class _Reader(Protocol):
    def __init__(self) -> None:
        self.received = b""
        self.greeted: Deferred[bytes] = Deferred()
        self.lost: Deferred[None] = Deferred()

    def dataReceived(self, data: bytes) -> None:
        self.received += data
        if b"\r\n" in self.received and not self.greeted.called:
            self.greeted.callback(self.received)

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self.lost.callback(None)


class ImplicitTLSTests(TestCase):
    """
    A guarded server that speaks first over an C{ssl:} endpoint greets its
    client: the guard does not stop the TLS handshake it waits for.
    """

    async def test_greetsOverTLS(self) -> None:
        from twisted.internet import reactor

        authority = DevCertificateAuthority(FilePath(self.mktemp()))
        serverFactory = _GreeterFactory()
        port = reactor.listenSSL(  # type: ignore[attr-defined]
            0, serverFactory, authority.serverOptions(["127.0.0.1"]), interface="127.0.0.1"
        )
        self.addCleanup(port.stopListening)
        endpoint = wrapClientTLS(
            clientOptions("127.0.0.1", authority.trustRoot()),
            TCP4ClientEndpoint(reactor, "127.0.0.1", port.getHost().port),
        )
        reader = await connectProtocol(endpoint, _Reader())
        greeting = await reader.greeted
        self.assertEqual(greeting, b"220 hello\r\n")
        reader.transport.loseConnection()
        await reader.lost
        await serverFactory.lost


class WriteNowTests(SynchronousTestCase):
    """
    L{writeNow} hands data to a plain TCP socket at once when nothing is
    queued, and otherwise queues it behind what is, so the bytes keep their
    order.
    """

    def connection(self) -> tuple[tcp.Connection, socket.socket, MemoryReactor]:
        ours, theirs = socket.socketpair()
        self.addCleanup(ours.close)
        self.addCleanup(theirs.close)
        reactor = MemoryReactor()
        connection = tcp.Connection(ours, Protocol(), reactor=reactor)
        connection.connected = True
        return connection, theirs, reactor

    def receive(self, peer: socket.socket) -> bytes:
        peer.setblocking(False)
        chunks = []
        while True:
            try:
                chunk = peer.recv(1 << 20)
            except BlockingIOError:
                return b"".join(chunks)
            chunks.append(chunk)

    def test_sentAtOnce(self) -> None:
        """
        With an empty queue the reply goes to the socket in the call, and
        the reactor is not asked to watch for writability.
        """
        connection, peer, reactor = self.connection()
        writeNow(connection, b"250 2.0.0 OK\r\n")
        self.assertEqual(self.receive(peer), b"250 2.0.0 OK\r\n")
        self.assertEqual(reactor.getWriters(), [])
        self.assertFalse(connection.dataBuffer or connection._tempDataLen)

    def test_restQueuedInOrder(self) -> None:
        """
        What the socket does not take is queued, and a later write goes
        behind it, not straight to the socket.
        """
        connection, peer, reactor = self.connection()
        big = bytes(range(256)) * 8192  # 2 MiB: more than a socket buffer
        writeNow(connection, big)
        self.assertIn(connection, reactor.getWriters())
        writeNow(connection, b"221 bye\r\n")
        received = self.receive(peer)
        self.assertLess(len(received), len(big))
        while connection.dataBuffer or connection._tempDataLen:
            connection.doWrite()
            received += self.receive(peer)
        self.assertEqual(received, big + b"221 bye\r\n")

    def test_otherTransports(self) -> None:
        """
        On a transport that is not plain TCP, it is a plain C{write}.
        """
        transport = StringTransport()
        writeNow(transport, b"220 hi\r\n")
        self.assertEqual(transport.value(), b"220 hi\r\n")

    def test_tls(self) -> None:
        """
        Over TLS the bytes must go through the TLS layer: a plain C{write}.
        """
        connection, peer, reactor = self.connection()
        written: list[bytes] = []
        connection.TLS = True
        connection.write = written.append  # type: ignore[method-assign]
        writeNow(connection, b"220 hi\r\n")
        self.assertEqual(written, [b"220 hi\r\n"])
        self.assertEqual(self.receive(peer), b"")


def _segmentsReceived(peer: socket.socket) -> int:
    """
    How many TCP segments C{peer} has received (Linux's C{tcpi_segs_in},
    at offset 140 of C{struct tcp_info}).
    """
    info = peer.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 256)
    return int(struct.unpack_from("I", info, 140)[0])


class _Lost(Recording):
    """
    Records when its connection is lost.
    """

    lost = False

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        super().connectionLost(reason)
        self.lost = True


class LastWordsTests(SynchronousTestCase):
    """
    C{closeConnection(lastWords)} sends the last words and closes; over
    plain TCP with nothing queued, the words and the FIN leave in one
    segment and the connection is closed before the call returns.
    """

    def connection(self) -> tuple[tcp.Connection, _Lost, socket.socket, MemoryReactor]:
        """
        A real TCP connection on 127.0.0.1: ours under a L{tcp.Connection}
        with a L{_Lost} protocol, and the peer's plain socket.
        """
        listener = socket.socket()
        self.addCleanup(listener.close)
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        peer = socket.socket()
        self.addCleanup(peer.close)
        # Small buffers, so that a few MiB cannot all be sent at once.
        peer.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 16)
        peer.connect(listener.getsockname())
        ours, _ = listener.accept()
        self.addCleanup(ours.close)
        ours.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 16)
        reactor = MemoryReactor()
        protocol = _Lost()
        protocol.factory = Factory(Clock())
        connection = tcp.Connection(ours, protocol, reactor=reactor)
        connection.connected = True
        protocol.makeConnection(connection)
        connection.startReading()
        return connection, protocol, peer, reactor

    def receiveAll(self, peer: socket.socket) -> bytes:
        peer.settimeout(5)
        chunks = []
        while chunk := peer.recv(1 << 20):
            chunks.append(chunk)
        return b"".join(chunks)

    def test_closedAtOnce(self) -> None:
        """
        The connection is closed, and the protocol told, before the call
        returns; the peer reads the words, then the end of the stream.
        """
        connection, protocol, peer, reactor = self.connection()
        protocol.closeConnection(b"221 bye\r\n")
        self.assertTrue(protocol.lost)
        self.assertTrue(connection.disconnected)
        self.assertEqual(reactor.getReaders(), [])
        self.assertEqual(reactor.getWriters(), [])
        self.assertEqual(self.receiveAll(peer), b"221 bye\r\n")

    def test_oneSegment(self) -> None:
        """
        The words and the FIN arrive in a single TCP segment.
        """
        if not sys.platform.startswith("linux"):
            raise SkipTest("MSG_MORE and TCP_INFO's segment counts are Linux's")
        connection, protocol, peer, reactor = self.connection()
        before = _segmentsReceived(peer)
        protocol.closeConnection(b"221 bye\r\n")
        self.assertEqual(self.receiveAll(peer), b"221 bye\r\n")
        self.assertEqual(_segmentsReceived(peer) - before, 1)

    def test_behindQueued(self) -> None:
        """
        With data still queued, the words go behind it and the connection
        closes the usual way, once all is sent.
        """
        connection, protocol, peer, reactor = self.connection()
        big = bytes(range(256)) * 8192  # 2 MiB: more than a socket buffer
        writeNow(connection, big)
        protocol.closeConnection(b"221 bye\r\n")
        self.assertFalse(protocol.lost)
        self.assertTrue(connection.disconnecting)
        peer.setblocking(False)
        received = b""
        while not protocol.lost:
            try:
                received += peer.recv(1 << 20)
            except BlockingIOError:
                pass
            why = connection.doWrite()
            if why:
                connection.connectionLost(Failure(why))
        self.assertEqual(received + self.receiveAll(peer), big + b"221 bye\r\n")

    def test_otherTransports(self) -> None:
        """
        On a transport that is not plain TCP, the words are written and the
        connection is closed gracefully.
        """
        protocol = _Lost()
        protocol.factory = Factory(Clock())
        transport = StringTransport()
        protocol.makeConnection(transport)
        protocol.closeConnection(b"221 bye\r\n")
        self.assertEqual(transport.value(), b"221 bye\r\n")
        self.assertTrue(transport.disconnecting)
        self.assertIsNone(transport.producer)
