"""
The authoritative DNS server's Twisted protocols: UDP and TCP.

Both are thin: every message goes to L{Authority.answerWire}, which does all
the work (decode, look up, encode, with its cache of encoded answers), and
the protocols only move bytes.

B{UDP} (RFC 1035 section 4.2.1): one answer datagram for each query
datagram, sent back to its source address.  A datagram that gets no answer
(one with QR set, or too short to have a header) is simply dropped.  The
answer is cut to the size the query allows (512 octets, or its EDNS payload
size up to the server's maximum, 1232 by default; see
L{netref.dns.authority}), with TC set when it had to be cut.

B{TCP} (RFC 1035 section 4.2.2, RFC 7766):

  - every message, both ways, is preceded by its length in two octets, and
    each answer, prefix included, is given to the transport in one write
    (RFC 7766 section 8);
  - a client may send several queries on one connection, without waiting
    for the answers (pipelining, RFC 7766 section 6.2.1.1): each is answered
    at once, in order;
  - a connection on which no complete query arrives for L{IDLE_TIMEOUT}
    seconds (on the reactor's clock) is closed (RFC 7766 section 6.2.3).
    Only whole messages count, so a peer that sends a length prefix (even
    65535) and then stalls, or dribbles a byte now and then, is cut off too;
  - at most L{MAX_CONNECTIONS} connections are served at once (RFC 7766
    section 6.2.2): the next one is closed as soon as it is accepted;
  - a malformed message that has a readable header gets FORMERR, and the
    connection carries on, since the length prefix keeps the stream in step;
    a message shorter than a DNS header (12 octets) means the peer is not
    speaking DNS: the connection is closed.  A message with QR set is
    ignored, as over UDP;
  - a client that reads none of its answers is not read from until it does
    (the transport pauses L{DNSStreamProtocol}), so it cannot fill the
    server's memory; if it is still not reading when the idle timer fires,
    the connection is aborted.

With tracing on (C{--trace}), each query and answer is one line::

    [c2] C: 127.0.0.1:38730 id 12789 QUERY rd www.example.com. IN A edns udp 1232 (56 octets)
    [c2] S: id 12789 QUERY NOERROR qr aa rd www.example.com. IN A answer 3 authority 0
        additional 0 edns udp 1232 (92 octets)

(the answer's line is one line, cut here to fit).  Over TCP the lines of
one connection share its id, with a line when it opens and closes.

Embedding, without twistd::

    from twisted.internet import reactor
    from netref.dns.authority import Authority
    from netref.dns.server import DNSDatagramProtocol, DNSServerFactory
    from netref.dns.zonefile import loadZoneFile

    authority = Authority([loadZoneFile("example.com.zone"), loadZoneFile("example.net.zone")])
    reactor.listenUDP(10053, DNSDatagramProtocol(authority), interface="127.0.0.1")
    reactor.listenTCP(10053, DNSServerFactory(authority), interface="127.0.0.1")
    reactor.run()
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from typing import Protocol as TypingProtocol

from twisted.internet.error import MessageLengthError
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
from netref.dns.wire import HEADER_SIZE, MessageDeframer, WireError, decodeMessage, frameMessage

__all__ = [
    "IDLE_TIMEOUT",
    "MAX_CONNECTIONS",
    "WireAnswerer",
    "DNSDatagramProtocol",
    "DNSStreamProtocol",
    "DNSServerFactory",
    "describeWire",
]

#: Seconds a TCP connection may go without a complete query before the
#: server closes it.  RFC 7766 section 6.2.3 asks for "a few seconds" rather
#: than the two minutes of RFC 1035 section 4.2.2.
IDLE_TIMEOUT = 10.0

#: The most TCP connections served at once (RFC 7766 section 6.2.2).
MAX_CONNECTIONS = 256


class WireAnswerer(TypingProtocol):
    """
    What the protocols need of an authority: L{Authority.answerWire}.
    """

    def answerWire(self, data: bytes, stream: bool = False) -> bytes | None:
        """
        @param data: a query, as on the wire (without TCP's length prefix).
        @param stream: whether it came over TCP (answers may then be up to
            65535 octets) rather than UDP.
        @return: the answer, or L{None} if the query gets none.
        """


def describeWire(data: bytes | None) -> str:
    """
    A one-line summary of a DNS message for a transcript.

    @param data: the message as on the wire, or L{None} for no message.
    @return: the summary, or the reason the message does not decode.
    """
    if data is None:
        return "(no answer)"
    try:
        message = decodeMessage(data)
    except WireError as e:
        return f"malformed message of {len(data)} octets: {e}"
    return f"{message.summary()} ({len(data)} octets)"


class DNSDatagramProtocol(DatagramProtocol):
    """
    The server over UDP: one answer datagram per query datagram (RFC 1035
    section 4.2.1).

    There is no Deferred and no per-query object on the way: the datagram
    goes to L{Authority.answerWire} and its result to the transport.

    @ivar authority: what answers the queries.
    """

    transport: IUDPTransport

    def __init__(self, authority: WireAnswerer) -> None:
        """
        @param authority: what answers the queries, usually an
            L{netref.dns.authority.Authority}.
        """
        self.authority = authority
        self._answer = authority.answerWire
        self._transcript = Transcript()
        self._send: Callable[[bytes, Any], object] | None = None

    def startProtocol(self) -> None:
        """
        Find the quickest way to send.

        Twisted's C{Port.write} checks that the address is an IP address of
        the port's family, three checks that cost more than the rest of an
        answer from the cache.  The address here always comes from the
        port's own C{recvfrom}, so the checks cannot fail: when the
        transport has a socket, its C{sendto} is called directly.
        """
        sock = getattr(self.transport, "socket", None)
        sendto = getattr(sock, "sendto", None)
        self._send = sendto if callable(sendto) else self.transport.write

    def stopProtocol(self) -> None:
        self._send = None

    def datagramReceived(self, datagram: bytes, addr: Any) -> None:
        """
        Answer one query datagram, to the address it came from.
        """
        answer = self._answer(datagram, False)
        if self._transcript.enabled:
            # Every exchange has its own transcript id, as UDP has no
            # connection to tie them together.
            transcript = Transcript()
            transcript.client(f"{describeAddress(addr)} {describeWire(datagram)}")
            transcript.server(describeWire(answer))
        if answer is not None:
            send = self._send or self.transport.write
            try:
                send(answer, addr)
            except (OSError, MessageLengthError):
                # A full socket buffer (ENOBUFS, EAGAIN) loses the answer,
                # as the network might have: the client asks again.
                pass


@implementer(IHalfCloseableProtocol, IPushProducer)
class DNSStreamProtocol(GuardedStreamProtocol):
    """
    One TCP connection to the server (RFC 1035 section 4.2.2, RFC 7766).

    L{GuardedStreamProtocol} keeps its idle timer and pauses reading while
    the client does not read its answers.

    @ivar factory: the L{DNSServerFactory} that made it, for the authority,
        the limits and the clock.
    """

    factory: DNSServerFactory
    transport: ITCPTransport

    def __init__(self) -> None:
        self._deframer = MessageDeframer()
        self._transcript = Transcript()
        self._counted = False

    def connectionMade(self) -> None:
        """
        A client connected: serve it, unless too many others already are.
        """
        factory = self.factory
        tracing = self._transcript.enabled
        if tracing:
            peer = describeAddress(self.transport.getPeer())
            self._transcript.note(f"connection from {peer}")
        if factory.connections >= factory.maxConnections:
            if tracing:
                self._transcript.note(f"closed: {factory.maxConnections} connections already")
            self.abortConnection()
            return
        factory.connections += 1
        self._counted = True
        self.startGuarding()

    def idleTimedOut(self) -> None:
        """
        No complete query for the idle timeout: close (RFC 7766 section
        6.2.3), or abort if the client is not reading its answers either.
        """
        if self._transcript.enabled:
            self._transcript.note(f"no query for {self.factory.idleTimeout:g} seconds: closing")
        super().idleTimedOut()

    def dataReceived(self, data: bytes) -> None:
        """
        Answer every complete message in the stream so far; keep the rest
        for later (RFC 7766 section 8: a message may arrive in pieces, and
        several may arrive together).
        """
        if self.closing:
            return
        for message in self._deframer.feed(data):
            self.resetIdle()
            self._handle(message)
            if self.closing:
                return

    def _handle(self, message: bytes) -> None:
        answer = self.factory.authority.answerWire(message, True)
        tracing = self._transcript.enabled
        if tracing:
            self._transcript.client(describeWire(message))
        if answer is None:
            if len(message) < HEADER_SIZE:
                if tracing:
                    self._transcript.note(
                        f"a message of {len(message)} octets has no header: closing"
                    )
                self.closeConnection()
            return
        if tracing:
            self._transcript.server(describeWire(answer))
        self.transport.write(frameMessage(answer))

    def readConnectionLost(self) -> None:
        """
        The client half-closed: every query it sent is answered, so close.
        """
        self.closeConnection()

    def writeConnectionLost(self) -> None:
        """
        We never half-close, but should the write side go, close the rest.
        """
        self.closeConnection()

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        """
        The connection is closed, by either side.
        """
        super().connectionLost(reason)
        if self._counted:
            self._counted = False
            self.factory.connections -= 1
        if self._transcript.enabled:
            self._transcript.note(f"connection closed: {reason.getErrorMessage()}")


class DNSServerFactory(ServerFactory[DNSStreamProtocol]):
    """
    Builds a L{DNSStreamProtocol} for every TCP connection.

    @ivar authority: what answers the queries.
    @ivar idleTimeout: seconds without a complete query after which a
        connection is closed.
    @ivar maxConnections: the most connections served at once.
    @ivar connections: how many are served now.
    @ivar clock: the reactor's clock, for the idle timers.
    """

    protocol = DNSStreamProtocol

    def __init__(
        self,
        authority: WireAnswerer,
        idleTimeout: float = IDLE_TIMEOUT,
        maxConnections: int = MAX_CONNECTIONS,
        clock: IReactorTime | None = None,
    ) -> None:
        """
        @param authority: what answers the queries, usually an
            L{netref.dns.authority.Authority}.
        @param idleTimeout: seconds without a complete query after which a
            connection is closed (L{IDLE_TIMEOUT} by default).
        @param maxConnections: the most connections served at once
            (L{MAX_CONNECTIONS} by default).
        @param clock: the clock for the idle timers; the global reactor by
            default.
        """
        if clock is None:
            from twisted.internet import reactor

            clock = reactor
        assert clock is not None
        self.authority = authority
        self.idleTimeout = idleTimeout
        self.maxConnections = maxConnections
        self.connections = 0
        self.clock = clock
