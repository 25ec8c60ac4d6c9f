"""
The guards every netref stream server puts on a connection.

A server that answers whoever connects must not let one peer hold its
resources for ever, nor fill its memory.  L{GuardedStreamProtocol} gives a
TCP protocol the two guards that every netref stream server needs, with
its limits explicit (DESIGN.md: every limit explicit):

  - an B{idle timer}, on the factory's clock: a peer that connects and then
    says nothing, or dribbles bytes slower than the protocol ever counts as
    progress, is closed after the factory's C{idleTimeout} seconds;
  - B{backpressure} on what the server writes: the protocol is the
    streaming producer of its answers.  When the transport's buffer is
    full, the transport pauses the protocol, which stops reading from the
    peer until the buffer drains, so TCP's flow control (section 3.5) holds
    back a peer that sends without ever reading, instead of its answers
    piling up in the server's memory.  (Over TLS, and over a transport that
    is not itself a push producer, this is left out: see L{startGuarding}.)

Closing has to know about both: a graceful close first lets go of the
producer, as a paused producer would keep the transport from closing once
its buffer drains; and a peer that is still not reading when the idle timer
fires is aborted, as a graceful close would wait for it for ever.
"""

from __future__ import annotations

import socket
from typing import Protocol as TypingProtocol

from twisted.internet.interfaces import (
    IConsumer,
    IDelayedCall,
    IPushProducer,
    IReactorTime,
    ISSLTransport,
    ITCPTransport,
    ITransport,
)
from twisted.internet.protocol import Protocol, connectionDone
from twisted.internet.tcp import Connection
from twisted.python.failure import Failure
from zope.interface import implementer

__all__ = ["GuardedFactory", "GuardedStreamProtocol", "writeNow"]

#: Linux's flag for "more data follows": the kernel holds a short segment
#: back (0 where the platform has no such flag).
_MSG_MORE = getattr(socket, "MSG_MORE", 0)


class GuardedFactory(TypingProtocol):
    """
    What L{GuardedStreamProtocol} needs of its factory.

    @ivar idleTimeout: seconds without progress after which a connection is
        closed.
    @ivar clock: the clock of the idle timers, usually the reactor.
    """

    idleTimeout: float
    clock: IReactorTime


@implementer(IPushProducer)
class GuardedStreamProtocol(Protocol):
    """
    A stream protocol with an idle timer and write-side backpressure.

    A subclass calls L{startGuarding} once it decides to serve the
    connection (usually in C{connectionMade}), L{resetIdle} whenever the
    peer makes progress, and L{closeConnection} to close; it overrides
    L{idleTimedOut} to say goodbye first, and calls this class's
    C{connectionLost} from its own.

    @ivar factory: what made the protocol, for C{idleTimeout} and C{clock},
        read each time the idle timer is started or reset.
    """

    factory: GuardedFactory
    transport: ITCPTransport

    _idleCall: IDelayedCall | None = None
    _lastProgress = 0.0
    _closing = False
    _paused = False
    _consumer: IConsumer | None = None
    _reading: IPushProducer | None = None

    @property
    def closing(self) -> bool:
        """
        Whether the connection is being closed (or is closed): the protocol
        should then ignore what it still reads.
        """
        return self._closing

    @property
    def paused(self) -> bool:
        """
        Whether the transport has paused this producer: the peer is not
        reading what the protocol writes.
        """
        return self._paused

    def startGuarding(self) -> None:
        """
        Become the producer of what the transport sends (when the transport
        can pause its reading), and start the idle timer.

        Not over TLS from the first byte (an C{ssl:} endpoint): there
        Twisted's TLS layer pauses its producer until the handshake is done,
        and a paused guard would stop reading the very handshake the TLS
        layer waits for, so a server that speaks first (SMTP, POP3, FTP)
        would hang.  Such a connection keeps only its idle timer.  (A
        connection that turns to TLS later, with STARTTLS, keeps the
        producer it registered before.)
        """
        transport = self.transport
        if isinstance(transport, Connection) and not transport.TLS:
            # Plain TCP, the usual case: both, without asking zope.
            self._consumer = self._reading = transport
        else:
            self._consumer = IConsumer(transport, None)
            self._reading = IPushProducer(transport, None)
            if ISSLTransport.providedBy(transport):
                self._reading = None
        if self._consumer is not None and self._reading is not None:
            self._consumer.registerProducer(self, True)
        self.resetIdle()

    def resetIdle(self) -> None:
        """
        The peer made progress: start the idle timer again.

        Called on every read, so it only notes the time; the timer, once
        started, is left where it is, and when it fires it looks at the
        time of the last progress and waits on for the rest of the timeout
        if there was any (rather than moving the timer at every read).
        """
        clock = self.factory.clock
        timeout = self.factory.idleTimeout
        now = self._lastProgress = clock.seconds()
        call = self._idleCall
        if call is None:
            self._idleCall = clock.callLater(timeout, self._idle)
        elif call.getTime() > now + timeout:
            # The factory's timeout was shortened since the timer started.
            call.reset(timeout)

    def stopIdle(self) -> None:
        """
        Stop the idle timer, if it runs.
        """
        if self._idleCall is not None and self._idleCall.active():
            self._idleCall.cancel()
        self._idleCall = None

    def _idle(self) -> None:
        clock = self.factory.clock
        remaining = self._lastProgress + self.factory.idleTimeout - clock.seconds()
        if remaining > 0:
            self._idleCall = clock.callLater(remaining, self._idle)
            return
        self._idleCall = None
        self.idleTimedOut()

    def idleTimedOut(self) -> None:
        """
        The peer made no progress for the idle timeout: abort the connection
        if the peer is not reading either (a graceful close would wait for
        it for ever), else close it gracefully.

        Override to say why first (then call this), when L{paused} is false:
        when it is true, nothing written would leave.
        """
        if self._paused:
            self.abortConnection()
        else:
            self.closeConnection()

    def closeConnection(self, lastWords: bytes = b"") -> None:
        """
        Close gracefully: what is written is sent first.

        @param lastWords: the last bytes the connection carries, such as
            SMTP's C{221} or FTP's C{221} (the server closes after them:
            RFC 5321 section 4.1.1.10, RFC 959 section 4.1.1).  Given here
            rather than written first, they can leave in the same TCP
            segment as the FIN (L{_sendWithFIN}), one segment less per
            connection, and on plain TCP with nothing still queued the
            connection is closed before this returns (C{connectionLost} has
            been called), not at the reactor's next turn.
        """
        self._closing = True
        self.stopIdle()
        # A paused producer would keep the transport from closing once its
        # buffer drains: let go of it first.  And read again: a connection
        # that turned to TLS (STARTTLS) closes only once it has read the
        # peer's close_notify alert (RFC 8446 section 6.1), which paused
        # reading would never let in.
        if self._consumer is not None and self._reading is not None:
            self._consumer.unregisterProducer()
            if self._paused:
                self._reading.resumeProducing()
            self._reading = None
        if _sendWithFIN(self.transport, lastWords):
            return
        if lastWords:
            self.transport.write(lastWords)
        self.transport.loseConnection()

    def abortConnection(self) -> None:
        """
        Close at once, dropping whatever is not yet sent.
        """
        self._closing = True
        self.stopIdle()
        self.transport.abortConnection()

    def pauseProducing(self) -> None:
        """
        What the protocol writes is not leaving fast enough: stop reading.
        """
        self._paused = True
        if self._reading is not None:
            self._reading.pauseProducing()

    def resumeProducing(self) -> None:
        """
        What the protocol wrote has left: read again.
        """
        self._paused = False
        if self._reading is not None:
            self._reading.resumeProducing()

    def stopProducing(self) -> None:
        """
        The connection is going away; C{connectionLost} follows.
        """

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        """
        The connection is closed, by either side: stop the idle timer.
        """
        self.stopIdle()
        self._closing = True


def _sendsNow(transport: ITransport) -> bool:
    """
    Whether C{transport} is plain TCP, connected, with nothing queued: what
    is written now can go straight to its socket without passing anything
    written before.
    """
    return bool(
        isinstance(transport, Connection)
        and not transport.TLS
        and transport.connected
        and not transport.disconnecting
        and not transport._tempDataLen
        and transport.offset == len(transport.dataBuffer)
    )


def _sendWithFIN(transport: ITransport, data: bytes) -> bool:
    """
    Send C{data} and the FIN that ends our side of the connection in one
    TCP segment, and close the connection at once, if C{transport} allows.

    The data goes to the kernel with C{MSG_MORE} ("more follows": it waits
    in the socket instead of leaving in a segment of its own), and the
    C{shutdown} that Twisted's close makes next puts the FIN on that waiting
    segment: the FIN may travel with the last data (RFC 9293 section 3.6,
    closing a connection), and the peer reads the last words and the end of
    the stream at once.  The close is Twisted's own, C{connectionLost} with
    C{connectionDone}, called now instead of at the reactor's next turn, as
    Twisted itself does when a connection's writing side is already shut.

    @return: whether it took care of the close.  If not (TLS, something
        still queued, a registered producer, a socket error), nothing was
        sent, and the caller writes the data and closes the usual way.
    """
    if not _sendsNow(transport):
        return False
    assert isinstance(transport, Connection)
    if transport.producer is not None:
        return False
    if data:
        try:
            sent = transport.socket.send(data, _MSG_MORE)
        except OSError:
            return False
        if sent != len(data):
            # Rare (a full socket buffer): queue the rest, close the usual
            # way; the rest, sent without MSG_MORE, pushes it all out.
            transport.write(data[sent:])
            transport.loseConnection()
            return True
    transport.stopReading()
    transport.stopWriting()
    transport.connectionLost(connectionDone)
    return True


def writeNow(transport: ITransport, data: bytes) -> None:
    """
    Write C{data}, handing it to the kernel at once when nothing written
    before is still waiting in the transport.

    Twisted's TCP transport queues every write until the reactor's next turn
    finds the socket writable: for a dialogue of short replies, each awaited
    by the client before its next command (SMTP without PIPELINING), that
    is two more C{epoll_ctl} calls and one more turn of the reactor per
    reply, for data the socket would have taken immediately.  So when the
    connection is plain TCP with an empty queue, this tries the socket first
    (as asyncio's transports do) and queues only what the socket did not
    take; the order of the bytes on the wire is unchanged.  Over TLS, or on
    any other transport (L{StringTransport} in tests), it is a plain
    C{write}.
    """
    if _sendsNow(transport):
        assert isinstance(transport, Connection)
        try:
            sent = transport.socket.send(data)
        except OSError:
            # Full (EAGAIN), or failed: then the queued write below meets
            # the same error at the reactor's next turn, which closes the
            # connection the usual way.
            sent = 0
        if sent:
            data = data[sent:]
    if data:
        transport.write(data)
