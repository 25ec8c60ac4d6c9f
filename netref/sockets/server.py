"""
The textbook's uppercase servers (section 2.7) as Twisted protocols.

The textbook's C{TCPServer} makes a I{welcoming socket}, and for each client
C{accept()} returns a new I{connection socket}::

    serverSocket.listen(1)
    while True:
        connectionSocket, addr = serverSocket.accept()
        sentence = connectionSocket.recv(1024).decode()
        ...
        connectionSocket.close()

In Twisted the reactor owns both: the welcoming socket is the listening port
(C{reactor.listenTCP} or an endpoint), and each connection socket gets its
own L{UpperTCPProtocol}, built by L{UpperTCPFactory}.  The reactor waits on
all the sockets at once, so one slow client no longer holds up the others as
it does in the textbook's loop.

Where netref differs from the textbook's server, and why:

  - The textbook answers one C{recv(1024)} and closes the connection.  A TCP
    segment boundary is not a message boundary, so a longer sentence, or one
    that arrives in two pieces, gets a truncated answer.  netref answers
    every byte as it arrives (an incomplete UTF-8 character waits for the
    rest of it), so the textbook's client, which sends no newline and reads
    once, still gets its answer, and a client may send several sentences,
    one per line, on one connection.  The connection stays open until the
    client closes it, or has been idle for L{IDLE_TIMEOUT} seconds.
  - A client that sends without reading its answers is not read from until
    it does (see L{UpperTCPProtocol}), so it cannot fill the server's memory.
  - A client that half-closes (C{shutdown(SHUT_WR)}) gets the rest of its
    answer, then the server closes.
  - Bytes that are not UTF-8 come back unchanged instead of killing the
    server with C{UnicodeDecodeError}.
  - A sentence longer than L{MAX_SENTENCE} bytes gets an error line, and the
    connection is closed: the server keeps serving everyone else.

C{UDPServer} needs no connection: the one L{UpperUDPProtocol} answers every
datagram with one datagram (RFC 768 keeps no state between them), and
datagrams longer than L{MAX_DATAGRAM} bytes, the textbook's C{recvfrom(2048)},
get an error datagram instead of being silently cut short.

Embedding, without twistd::

    from twisted.internet import reactor
    from netref.sockets.server import UpperTCPFactory, UpperUDPProtocol

    reactor.listenTCP(12000, UpperTCPFactory(), interface="127.0.0.1")
    reactor.listenUDP(12000, UpperUDPProtocol(), interface="127.0.0.1")
    reactor.run()
"""

from __future__ import annotations

from typing import Any

from twisted.internet.interfaces import (
    IHalfCloseableProtocol,
    IPushProducer,
    IReactorTime,
    ITCPTransport,
    IUDPTransport,
)
from twisted.internet.protocol import DatagramProtocol, ServerFactory, connectionDone
from twisted.python.failure import Failure
from zope.interface import implementer

from netref.core.stream import GuardedStreamProtocol
from netref.core.trace import Transcript, describeAddress
from netref.sockets.wire import (
    MAX_DATAGRAM,
    MAX_SENTENCE,
    SentenceTooLongError,
    UpperCaser,
    datagramReply,
    errorLine,
)

#: Seconds a TCP connection may stay silent before the server closes it.
IDLE_TIMEOUT = 300.0


def traceLines(data: bytes) -> list[bytes]:
    """
    Cut bytes into lines for a transcript: each piece ends at a C{"\\n"}
    (kept) or at the end of C{data}.
    """
    return data.splitlines(keepends=True)


@implementer(IHalfCloseableProtocol, IPushProducer)
class UpperTCPProtocol(GuardedStreamProtocol):
    """
    One connection socket of the TCP uppercase server.

    It is the producer of what it writes: a client that sends without ever
    reading would otherwise fill the server's memory with answers waiting to
    be sent.  When the transport's buffer is full, the transport pauses this
    producer, which stops reading from the client until the buffer drains:
    TCP's flow control then holds the client back (section 3.5).  (Over a
    transport that is not a push producer, such as TLS, this is left out.)
    L{GuardedStreamProtocol} does this, and keeps the idle timer.

    @ivar factory: the L{UpperTCPFactory} that made this protocol, for its
        limits and clock.
    """

    factory: UpperTCPFactory
    transport: ITCPTransport

    def __init__(self) -> None:
        self._caser: UpperCaser | None = None
        self._transcript = Transcript()

    def connectionMade(self) -> None:
        """
        A client connected: the textbook's C{accept()} has returned.
        """
        self._caser = UpperCaser(self.factory.maxSentence)
        if self._transcript.enabled:
            peer = describeAddress(self.transport.getPeer())
            self._transcript.note(f"connection from {peer}")
        self.startGuarding()

    def idleTimedOut(self) -> None:
        """
        The client was silent for the idle timeout: say so, and close.
        """
        if not self.paused:
            # When paused the client reads nothing: an error line would
            # never leave, and neither would the connection, waiting for it.
            self._send(errorLine(f"idle for {self.factory.idleTimeout:g} seconds"))
        super().idleTimedOut()

    def _send(self, data: bytes) -> None:
        if not data:
            return
        if self._transcript.enabled:
            for line in traceLines(data):
                self._transcript.server(line)
        self.transport.write(data)

    def dataReceived(self, data: bytes) -> None:
        """
        Answer the bytes that just arrived, at once.
        """
        if self.closing or self._caser is None:
            return
        if self._transcript.enabled:
            for line in traceLines(data):
                self._transcript.client(line)
        self.resetIdle()
        try:
            reply = self._caser.feed(data)
        except SentenceTooLongError as e:
            self._send(e.reply)
            self.closeConnection()
            return
        self._send(reply)

    def readConnectionLost(self) -> None:
        """
        The client half-closed: send what is left of the answer and close.
        """
        if self._caser is not None and not self.closing:
            self._send(self._caser.end())
        self.closeConnection()

    def writeConnectionLost(self) -> None:
        """
        We never half-close, but should the write side go, close the rest.
        """
        self.closeConnection()

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        """
        The connection socket is closed, by either side.
        """
        super().connectionLost(reason)
        if self._transcript.enabled:
            self._transcript.note(f"connection closed: {reason.getErrorMessage()}")


class UpperTCPFactory(ServerFactory[UpperTCPProtocol]):
    """
    Builds an L{UpperTCPProtocol} for every connection the welcoming socket
    accepts.

    @ivar maxSentence: the longest sentence accepted, in bytes.
    @ivar idleTimeout: seconds of silence after which a connection is closed.
    @ivar clock: the reactor's clock, for the idle timer.
    """

    protocol = UpperTCPProtocol

    def __init__(
        self,
        maxSentence: int = MAX_SENTENCE,
        idleTimeout: float = IDLE_TIMEOUT,
        clock: IReactorTime | None = None,
    ) -> None:
        """
        @param maxSentence: the longest sentence accepted, in bytes
            (L{MAX_SENTENCE} by default).
        @param idleTimeout: seconds of silence after which a connection is
            closed (L{IDLE_TIMEOUT} by default).
        @param clock: the clock for the idle timer; the global reactor by
            default.
        """
        if clock is None:
            from twisted.internet import reactor

            clock = reactor
        assert clock is not None
        self.maxSentence = maxSentence
        self.idleTimeout = idleTimeout
        self.clock = clock


class UpperUDPProtocol(DatagramProtocol):
    """
    The textbook's C{UDPServer}: one answer datagram for every datagram.

    @ivar maxDatagram: the longest datagram accepted, in bytes.
    """

    transport: IUDPTransport

    def __init__(self, maxDatagram: int = MAX_DATAGRAM) -> None:
        """
        @param maxDatagram: the longest datagram accepted, in bytes
            (L{MAX_DATAGRAM}, the textbook's C{recvfrom(2048)}, by default).
            It must stay below the port's read size (8192 bytes for
            C{listenUDP}), else a longer datagram would be cut short there,
            unseen, before this protocol could refuse it.
        """
        self.maxDatagram = maxDatagram
        self._tracing = Transcript()

    def datagramReceived(self, datagram: bytes, addr: Any) -> None:
        """
        Answer one datagram, to the address it came from: the textbook's
        C{serverSocket.sendto(modifiedMessage.encode(), clientAddress)}.
        """
        reply = datagramReply(datagram, self.maxDatagram)
        if self._tracing.enabled:
            # Each exchange is a dialogue of its own, with its own id.
            transcript = Transcript()
            transcript.note(f"datagram from {describeAddress(addr)}")
            transcript.client(datagram)
            transcript.server(reply)
        self.transport.write(reply, addr)
