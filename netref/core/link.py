"""
A link emulator: a TCP relay that adds the textbook's delays to a path.

On loopback every exchange takes microseconds, so the differences the
textbook explains with round-trip times (non-persistent versus persistent
HTTP, pipelining, the web cache's access link) cannot be seen.  This module
puts them back.  A L{LinkFactory} accepts client connections; for each one it
opens a connection to a server and relays bytes both ways across an emulated
path with a round-trip time M{RTT} and a bottleneck of rate M{R} bits per
second in each direction.

The model (textbook chapter 1's delays, section 2.2.2's response time)
======================================================================

Each direction of the path is a L{LinkDirection}: a first-in first-out
transmitter followed by a wire.

  - I{Transmission delay}: the transmitter sends one segment at a time; a
    segment of M{L} bytes occupies it for M{8L/R} seconds, and segments that
    arrive while it is busy wait in its queue (I{queueing delay}).  Nothing
    is dropped.
  - I{Propagation delay}: a segment reaches the far end M{RTT/2} after the
    transmitter has finished sending it.

So a segment handed to a direction at time M{t} is delivered at::

    start    = max(t, free)          # free: when the previous segment was sent
    free     = start + 8L/R
    arrival  = free + RTT/2

Bytes are cut into segments of at most L{DEFAULT_SEGMENT_SIZE} bytes (a
typical TCP MSS), so a large response arrives progressively, one segment
every M{8L/R}, and its last byte arrives exactly M{8·size/R} after its first
byte left, plus M{RTT/2}.

I{Connection set-up.}  The client's C{connect()} to the relay finishes at
once on loopback, but with TCP across the path it would not: SYN and SYN-ACK
cost one RTT before the client may send its request (with the ACK), which
reaches the server half an RTT later.  The relay charges this with two
I{handshake} times (L{Link.handshake}), counted from the moment it accepts the
client at M{t0}:

  - bytes from the client enter the path no earlier than M{t0 + RTT};
  - bytes from the server enter the path no earlier than M{t0 + 1.5 RTT},
    when, with real TCP, the handshake's ACK would have reached the server
    and its C{accept()} would have returned.

A non-persistent HTTP fetch of an object of M{F} bytes with a request of
M{Q} bytes therefore takes, as seen by the client::

    request enters the path     t0 + RTT
    request reaches the server  t0 + RTT + 8Q/R + RTT/2
    last byte of the response   t0 + 2 RTT + 8Q/R + 8F/R

that is, the textbook's M{2 RTT + transmission time}.  On a persistent
connection the handshake is paid once, and each further request/response
costs M{RTT + 8(Q+F)/R}; pipelined requests share one RTT.  A server that
speaks first (SMTP's C{220}, FTP's C{220}) is heard at M{t0 + 2 RTT}.

The bottleneck is shared: every connection accepted by one L{LinkFactory}
goes through the same L{Link}, as the users behind one access link share it
in the textbook's web-cache example, so N parallel transfers each get about
M{R/N}.

What is left out, on purpose: TCP's own behaviour across the path (slow
start, congestion and flow control, loss and retransmission), header bytes,
and half-close.  When either side closes, the other side is closed once the
bytes already sent towards it have been delivered (the close travels like a
zero-length segment behind them); bytes still travelling towards the side
that closed are discarded, and a half-closed connection is treated as
closed.

Everything time-related is in the sans-IO classes L{LinkDirection} and
L{Link}; L{LinkRelay} is the thin Twisted layer that feeds them and delivers
bytes when they say so, using an injected C{IReactorTime}.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from twisted.internet.interfaces import (
    IAddress,
    IDelayedCall,
    IPushProducer,
    IReactorTime,
    IStreamClientEndpoint,
    ITCPTransport,
    ITransport,
)
from twisted.internet.protocol import ClientFactory, Protocol, ServerFactory, connectionDone
from twisted.python.failure import Failure
from zope.interface import implementer

from netref.core.trace import Transcript

#: The textbook's example round-trip time, and the emulator's default.
DEFAULT_RTT = 0.1

#: Bytes are sent across the bottleneck in segments of at most this size:
#: a typical TCP maximum segment size on Ethernet (1500 - 40 header bytes).
DEFAULT_SEGMENT_SIZE = 1460

#: The bottleneck's queue (a router's buffer) for one direction of one
#: connection, in bytes, before the relay stops reading from the sender.
DEFAULT_BUFFER_SIZE = 256 * 1024

#: At most this many bytes per direction of a connection are counted as
#: being "on the wire" (the bandwidth-delay product); without a rate limit
#: it is what bounds the relay's memory.
MAX_IN_FLIGHT = 8 * 1024 * 1024


# ---------------------------------------------------------------------------
# Parsing the command line's quantities
# ---------------------------------------------------------------------------

_NUMBER = r"(?P<number>[0-9]+(?:\.[0-9]*)?|\.[0-9]+)"
_DURATION = re.compile(_NUMBER + r"\s*(?P<unit>s|ms|us|µs)", re.IGNORECASE)
_DURATION_UNITS = {"s": Decimal(1), "ms": Decimal("0.001"), "us": Decimal("0.000001")}
_RATE = re.compile(_NUMBER + r"\s*(?P<prefix>[kKmMgG]?)(?:bit|bits|bit/s|bps)")
_RATE_PREFIXES = {"": Decimal(1), "k": Decimal(10**3), "m": Decimal(10**6), "g": Decimal(10**9)}
_BYTE_RATE = re.compile(r"[0-9.]+\s*[kKmMgG]?(?:B|[Bb]ytes?)(?:/s|ps)?")


def parseDuration(text: str) -> float:
    """
    Parse a time such as C{100ms}, C{0.1s}, C{1s} or C{250us} (C{µs} too).

    A unit is required: a bare C{100} could be seconds or milliseconds, and a
    wrong guess would be off by a thousand.

    @param text: the value from the command line.
    @return: the duration in seconds.
    @raise ValueError: with a message fit for a usage error, if C{text} is
        not a non-negative number followed by C{s}, C{ms} or C{us}.
    """
    match = _DURATION.fullmatch(text.strip())
    if match is None:
        raise ValueError(
            f"bad duration {text!r}: expected a number and a unit, such as 100ms, 0.1s or 250us"
        )
    unit = match["unit"].lower().replace("µ", "u")
    return float(Decimal(match["number"]) * _DURATION_UNITS[unit])


def parseRate(text: str) -> float | None:
    """
    Parse a bit rate such as C{1.54Mbit}, C{10Mbit}, C{1Gbit}, C{56kbit} or
    C{1000bit}.

    Prefixes are SI (C{k} = 1000, C{M} = 10**6, C{G} = 10**9) and are read
    without regard to case, as C{tc} does (a milli-bit rate makes no sense);
    the unit may be written C{bit}, C{bit/s} or C{bps} (lower case), as the
    textbook writes C{Mbps}.  Rates in bytes (C{MB}, C{MB/s}, C{MBps}) are
    refused rather than guessed at.

    @param text: the value from the command line.
    @return: the rate in bits per second, or L{None} for C{unlimited} (also
        spelled C{none} or C{inf}).  Zero is an error: a link that sends
        nothing.
    @raise ValueError: with a message fit for a usage error.
    """
    stripped = text.strip()
    if stripped.lower() in ("unlimited", "none", "inf"):
        return None
    match = _RATE.fullmatch(stripped)
    if match is None:
        if _BYTE_RATE.fullmatch(stripped):
            raise ValueError(
                f"bad rate {text!r}: give the rate in bits per second (8Mbit), not in bytes"
            )
        raise ValueError(
            f"bad rate {text!r}: expected bits per second such as 1.54Mbit, 10Mbit, "
            "56kbit, 1000bit, or 'unlimited'"
        )
    rate = Decimal(match["number"]) * _RATE_PREFIXES[match["prefix"].lower()]
    if rate <= 0:
        raise ValueError(f"bad rate {text!r}: must be more than zero (or 'unlimited')")
    return float(rate)


def formatDuration(seconds: float) -> str:
    """
    @return: C{seconds} for a human, in milliseconds: C{"151.2 ms"}.
    """
    return f"{seconds * 1000:.1f} ms"


def formatRate(rate: float | None) -> str:
    """
    @return: a rate for a human, with an SI prefix: C{"1.54 Mbit/s"}.
    """
    if rate is None:
        return "unlimited"
    for factor, prefix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if rate >= factor:
            return f"{rate / factor:g} {prefix}bit/s"
    return f"{rate:g} bit/s"


# ---------------------------------------------------------------------------
# The link model (sans-IO)
# ---------------------------------------------------------------------------


def transmissionDelay(nbytes: int, rate: float | None) -> float:
    """
    The time to push C{nbytes} onto a link of rate C{rate}: M{L/R}, with
    M{L} in bits.

    @param nbytes: how many bytes.
    @param rate: bits per second, or L{None} for a link with no limit.
    @return: seconds.
    """
    if rate is None:
        return 0.0
    return nbytes * 8 / rate


class LinkDirection:
    """
    One direction of a path: a first-in first-out transmitter of rate
    C{rate} followed by a wire with a propagation delay.

    It knows nothing of sockets or reactors: give it the time and a size,
    and it says when the last bit arrives at the far end.

    @ivar propagationDelay: seconds from the end of transmission to arrival.
    @ivar rate: bits per second, or L{None} for no limit.
    @ivar freeAt: when the transmitter finishes what it has been given (minus
        infinity until it is first used).
    """

    def __init__(self, propagationDelay: float, rate: float | None = None) -> None:
        """
        @param propagationDelay: seconds, at least 0.
        @param rate: bits per second, more than 0, or L{None}.
        """
        if propagationDelay < 0:
            raise ValueError("propagation delay must not be negative")
        if rate is not None and not rate > 0:
            raise ValueError("rate must be more than zero (or None for no limit)")
        self.propagationDelay = propagationDelay
        self.rate = rate
        self.freeAt = float("-inf")

    def send(self, now: float, nbytes: int) -> float:
        """
        Hand a segment to the transmitter.

        It waits for the segments before it (queueing delay), takes
        M{8·nbytes/rate} to transmit and M{propagationDelay} to propagate.
        A zero-length segment (a connection's close) takes its place in the
        queue but no transmission time.

        @param now: the time the segment is handed over.
        @param nbytes: its size.
        @return: when its last bit reaches the far end.
        """
        start = max(now, self.freeAt)
        self.freeAt = start + transmissionDelay(nbytes, self.rate)
        return self.freeAt + self.propagationDelay

    def queueingDelay(self, now: float) -> float:
        """
        @return: how long a segment handed over at C{now} would wait before
            its transmission starts.
        """
        return max(0.0, self.freeAt - now)


@dataclass(frozen=True)
class Handshake:
    """
    When each side of a new connection may first send across the path.

    @ivar clientReadyAt: the client's bytes enter the path no earlier than
        this: one RTT after the relay accepted it (SYN, SYN-ACK).
    @ivar serverReadyAt: the server's bytes enter the path no earlier than
        this: 1.5 RTT after, when the client's ACK would reach the server.
    """

    clientReadyAt: float
    serverReadyAt: float


class Link:
    """
    A path between clients and a server: two independent L{LinkDirection}s
    with the same propagation delay, M{RTT/2}, and the same rate.

    @ivar rtt: the round-trip time, in seconds.
    @ivar rate: each direction's rate, in bits per second, or L{None}.
    @ivar toServer: the direction from clients to the server.
    @ivar toClient: the direction from the server to clients.
    """

    def __init__(self, rtt: float, rate: float | None = None) -> None:
        """
        @param rtt: seconds, at least 0.
        @param rate: bits per second, or L{None} for no limit.
        """
        if rtt < 0:
            raise ValueError("round-trip time must not be negative")
        self.rtt = rtt
        self.rate = rate
        self.toServer = LinkDirection(rtt / 2, rate)
        self.toClient = LinkDirection(rtt / 2, rate)

    def handshake(self, acceptedAt: float) -> Handshake:
        """
        Charge TCP's three-way handshake to a connection accepted at
        C{acceptedAt}.

        @return: when the client and the server may first send.
        """
        return Handshake(acceptedAt + self.rtt, acceptedAt + 1.5 * self.rtt)

    def bandwidthDelayProduct(self) -> float:
        """
        @return: how many bytes one direction holds on its wire when busy,
            M{R · RTT/2 / 8}; infinite without a rate limit.
        """
        if self.rate is None:
            return float("inf")
        return self.rate * (self.rtt / 2) / 8


# ---------------------------------------------------------------------------
# The Twisted relay
# ---------------------------------------------------------------------------

_PipeState = Literal["open", "closing", "done"]


@implementer(IPushProducer)
class _Pipe:
    """
    The bytes travelling in one direction of one relayed connection.

    Bytes handed to L{send} are held until the handshake allows them on the
    path, then cut into segments and given to the shared L{LinkDirection},
    and written to the destination transport at the times it returns.  A
    single timer is pending at a time, for the earliest undelivered segment.

    As the destination's producer, the pipe stops writing while the
    destination's buffer is full; as the source's consumer, it pauses the
    source while it holds more than its high-water mark and resumes it below
    half of that.

    @ivar held: bytes accepted and not yet written to the destination.
    """

    def __init__(
        self,
        relay: LinkRelay,
        direction: LinkDirection,
        destinationName: str,
        readyAt: float,
        highWater: int,
    ) -> None:
        self._relay = relay
        self._clock = relay.clock
        self._direction = direction
        self._destinationName = destinationName
        self._readyAt = readyAt
        self._segmentSize = relay.factory.segmentSize
        self._highWater = highWater
        self._lowWater = highWater // 2
        self._state: _PipeState = "open"
        self._early: list[bytes] = []
        self._earlyClose = False
        self._readyCall: IDelayedCall | None = None
        self._queue: deque[tuple[float, bytes | None]] = deque()
        self._deliverCall: IDelayedCall | None = None
        self._source: IPushProducer | None = None
        self._sourcePaused = False
        self._destination: ITransport | None = None
        self._destinationPaused = False
        self._closedDestination = False
        self.held = 0

    @property
    def done(self) -> bool:
        """
        Whether the pipe has finished: its close was delivered, or it was
        abandoned.
        """
        return self._state == "done"

    @property
    def closedDestination(self) -> bool:
        """
        Whether the pipe closed its destination (as opposed to the
        destination closing by itself).
        """
        return self._closedDestination

    def setSource(self, source: IPushProducer) -> None:
        """
        @param source: the transport whose bytes come into this pipe, paused
            when the pipe holds too much.
        """
        if self._state == "open":
            self._source = source
            self._checkPressure()

    def attach(self, destination: ITransport) -> None:
        """
        Start delivering to C{destination} (the server side is attached when
        its connection is made; segments due before that wait for it).
        """
        if self._state == "done":
            return
        self._destination = destination
        destination.registerProducer(self, True)  # type: ignore[attr-defined]
        self._schedule()

    def send(self, data: bytes) -> None:
        """
        Accept bytes from the source.
        """
        if self._state != "open" or not data:
            return
        self.held += len(data)
        now = self._clock.seconds()
        if self._readyCall is not None or now < self._readyAt:
            self._early.append(data)
            self._armReady(now)
        else:
            self._submit(now, data)
            self._schedule()
        self._checkPressure()

    def close(self) -> None:
        """
        The source has closed: close the destination after what is queued.
        """
        if self._state != "open":
            return
        self._state = "closing"
        self._source = None
        self._sourcePaused = False
        now = self._clock.seconds()
        if self._readyCall is not None or now < self._readyAt:
            self._earlyClose = True
            self._armReady(now)
        else:
            self._queue.append((self._direction.send(now, 0), None))
            self._schedule()

    def abandon(self) -> None:
        """
        The destination has gone: drop everything, stop every timer, and let
        the source read again (what it sends is discarded).
        """
        if self._state == "done":
            return
        self._state = "done"
        for call in (self._readyCall, self._deliverCall):
            if call is not None and call.active():
                call.cancel()
        self._readyCall = self._deliverCall = None
        self._early.clear()
        self._queue.clear()
        self.held = 0
        if self._source is not None and self._sourcePaused:
            self._source.resumeProducing()
        self._source = None
        self._sourcePaused = False
        if self._destination is not None:
            self._destination.unregisterProducer()  # type: ignore[attr-defined]
            self._destination = None

    # IPushProducer, for the destination transport

    def pauseProducing(self) -> None:
        self._destinationPaused = True

    def resumeProducing(self) -> None:
        self._destinationPaused = False
        self._schedule()

    def stopProducing(self) -> None:
        # The destination's connection is lost and it has already dropped us.
        self._destination = None
        self.abandon()

    # Internals

    def _armReady(self, now: float) -> None:
        if self._readyCall is None:
            self._readyCall = self._clock.callLater(max(0.0, self._readyAt - now), self._ready)

    def _ready(self) -> None:
        # Model time is the handshake's, even if the timer fires a bit late.
        self._readyCall = None
        data = b"".join(self._early)
        self._early.clear()
        if data:
            self._submit(self._readyAt, data)
        if self._earlyClose:
            self._queue.append((self._direction.send(self._readyAt, 0), None))
        self._schedule()

    def _submit(self, now: float, data: bytes) -> None:
        if self._direction.rate is None or len(data) <= self._segmentSize:
            self._queue.append((self._direction.send(now, len(data)), data))
            return
        view = memoryview(data)
        for offset in range(0, len(data), self._segmentSize):
            segment = bytes(view[offset : offset + self._segmentSize])
            self._queue.append((self._direction.send(now, len(segment)), segment))

    def _schedule(self) -> None:
        if (
            self._deliverCall is not None
            or not self._queue
            or self._destination is None
            or self._destinationPaused
        ):
            return
        due = self._queue[0][0]
        delay = max(0.0, due - self._clock.seconds())
        self._deliverCall = self._clock.callLater(delay, self._deliver, due)

    def _deliver(self, due: float) -> None:
        self._deliverCall = None
        destination = self._destination
        if destination is None or self._destinationPaused:
            return
        now = max(due, self._clock.seconds())
        pieces = []
        closing = False
        while self._queue and self._queue[0][0] <= now:
            data = self._queue.popleft()[1]
            if data is None:
                closing = True
                break
            pieces.append(data)
        if pieces:
            data = b"".join(pieces)
            self.held -= len(data)
            destination.write(data)
            if self._relay.transcript.enabled:
                self._relay.note(f"delivered {len(data)} bytes to {self._destinationName}", now)
        if closing:
            self._finish(destination, now)
            return
        self._checkPressure()
        self._schedule()

    def _finish(self, destination: ITransport, now: float) -> None:
        self._state = "done"
        self._closedDestination = True
        self._destination = None
        destination.unregisterProducer()  # type: ignore[attr-defined]
        destination.loseConnection()
        self._relay.note(f"closed the {self._destinationName} side", now)

    def _checkPressure(self) -> None:
        source = self._source
        if source is None:
            return
        if not self._sourcePaused and self.held > self._highWater:
            self._sourcePaused = True
            source.pauseProducing()
        elif self._sourcePaused and self.held <= self._lowWater:
            self._sourcePaused = False
            source.resumeProducing()


def _noDelay(transport: ITransport) -> None:
    """
    Turn Nagle's algorithm off on one of the relay's sockets.

    The emulator paces what it writes itself, segment by segment, as the
    emulated link delivers it.  With Nagle's algorithm on, the kernel would
    hold each small write until the previous one is acknowledged, and a
    receiver that delays its ACKs (some 40 ms on Linux) would add that wait
    to every response on a reused connection: a delay the emulated link
    does not have (RFC 1122 section 4.2.3.4 lets an application turn the
    algorithm off for exactly this).
    """
    if ITCPTransport.providedBy(transport):
        transport.setTcpNoDelay(True)


class _ServerSide(Protocol):
    """
    The relay's connection to the server: hands everything to its
    L{LinkRelay}.
    """

    def __init__(self, relay: LinkRelay) -> None:
        self.relay = relay

    def connectionMade(self) -> None:
        assert self.transport is not None
        self.relay.serverConnectionMade(self.transport)

    def dataReceived(self, data: bytes) -> None:
        self.relay.serverDataReceived(data)

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self.relay.serverConnectionLost(reason)


class _ServerSideFactory(ClientFactory):
    """
    Builds the one L{_ServerSide} of a L{LinkRelay}.
    """

    noisy = False

    def __init__(self, relay: LinkRelay) -> None:
        self.relay = relay

    def buildProtocol(self, addr: IAddress | None) -> Protocol:
        return _ServerSide(self.relay)


class LinkRelay(Protocol):
    """
    One client connection through the emulated path: connects to the
    server, and relays bytes both ways through two L{_Pipe}s on the
    factory's shared L{Link}.

    @ivar acceptedAt: when the relay accepted the client; times in the
        transcript are relative to it.
    @ivar toServer: the pipe from the client to the server.
    @ivar toClient: the pipe from the server to the client.
    """

    factory: LinkFactory
    acceptedAt: float
    toServer: _Pipe
    toClient: _Pipe
    transcript: Transcript
    _connectFailedAt: float | None = None

    @property
    def clock(self) -> IReactorTime:
        """
        The factory's clock.
        """
        return self.factory.clock

    def note(self, text: str, when: float | None = None) -> None:
        """
        Trace a remark about this connection, stamped with the time since
        it was accepted, if tracing is on.
        """
        if self.transcript.enabled:
            if when is None:
                when = self.clock.seconds()
            self.transcript.note(f"{text} at +{formatDuration(when - self.acceptedAt)}")

    def connectionMade(self) -> None:
        assert self.transport is not None
        _noDelay(self.transport)
        factory = self.factory
        link = factory.link
        self.acceptedAt = self.clock.seconds()
        self.transcript = Transcript()
        handshake = link.handshake(self.acceptedAt)
        highWater = factory.bufferSize + int(
            min(link.bandwidthDelayProduct(), factory.maxInFlight)
        )
        self.toServer = _Pipe(self, link.toServer, "server", handshake.clientReadyAt, highWater)
        self.toClient = _Pipe(self, link.toClient, "client", handshake.serverReadyAt, highWater)
        self.toServer.setSource(self.transport)  # type: ignore[arg-type]
        self.toClient.attach(self.transport)
        if self.transcript.enabled:
            self.note(
                f"client {_describe(self.transport.getPeer())} connected; relaying to "
                f"{factory.target} with RTT {formatDuration(link.rtt)}, "
                f"rate {formatRate(link.rate)}",
                self.acceptedAt,
            )
        connecting = factory.endpoint.connect(_ServerSideFactory(self))
        connecting.addErrback(self._connectFailed)

    def dataReceived(self, data: bytes) -> None:
        self.toServer.send(data)

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        if not (self.toClient.closedDestination or self._connectFailedAt is not None):
            self.note("client closed its connection")
        self.toServer.close()
        self.toClient.abandon()

    def serverConnectionMade(self, transport: ITransport) -> None:
        """
        The connection to the server is up: deliver to it, read from it.
        """
        _noDelay(transport)
        if self.transcript.enabled:
            self.note(f"connected to server {_describe(transport.getPeer())}")
        self.toServer.attach(transport)
        self.toClient.setSource(transport)  # type: ignore[arg-type]

    def serverDataReceived(self, data: bytes) -> None:
        """
        Bytes from the server, for the client.
        """
        self.toClient.send(data)

    def serverConnectionLost(self, reason: Failure) -> None:
        """
        The server side closed: close the client after what is queued for it.
        """
        if not self.toServer.closedDestination:
            self.note("server closed its connection")
        self.toClient.close()
        self.toServer.abandon()

    def _connectFailed(self, reason: Failure) -> None:
        self._connectFailedAt = self.clock.seconds()
        self.note(
            f"could not connect to {self.factory.target} ({reason.getErrorMessage()}); "
            "closing the client"
        )
        self.toServer.abandon()
        if not self.toClient.done:
            self.toClient.abandon()
            assert self.transport is not None
            self.transport.loseConnection()


def _describe(address: IAddress) -> str:
    host = getattr(address, "host", None)
    port = getattr(address, "port", None)
    if host is not None and port is not None:
        return f"{host}:{port}"
    return str(address)


class LinkFactory(ServerFactory[LinkRelay]):
    """
    Accepts clients and relays each to the server over one shared emulated
    L{Link}.

    @ivar endpoint: where the server is.
    @ivar link: the path every connection goes through.
    @ivar clock: the source of time and timers.
    @ivar target: how the server is named in transcripts.
    @ivar segmentSize: the largest segment put on a rate-limited link.
    @ivar bufferSize: the bottleneck's queue per direction and connection,
        in bytes, beyond which the sender is paused.
    @ivar maxInFlight: the cap on the bytes counted as on the wire.
    """

    protocol = LinkRelay

    def __init__(
        self,
        endpoint: IStreamClientEndpoint,
        rtt: float = DEFAULT_RTT,
        rate: float | None = None,
        clock: IReactorTime | None = None,
        target: str | None = None,
        segmentSize: int = DEFAULT_SEGMENT_SIZE,
        bufferSize: int = DEFAULT_BUFFER_SIZE,
        maxInFlight: int = MAX_IN_FLIGHT,
    ) -> None:
        """
        @param endpoint: where to connect for each client.
        @param rtt: the round-trip time to add, in seconds.
        @param rate: the bottleneck in bits per second, per direction, or
            L{None} for none.
        @param clock: the reactor's time; the global reactor if not given.
        @param target: a name for the server in transcripts (the endpoint
            string); C{repr(endpoint)} if not given.
        @param segmentSize: see L{DEFAULT_SEGMENT_SIZE}.
        @param bufferSize: see L{DEFAULT_BUFFER_SIZE}.
        @param maxInFlight: see L{MAX_IN_FLIGHT}.
        """
        if clock is None:
            from twisted.internet import reactor

            clock = reactor
        if segmentSize < 1 or bufferSize < 1 or maxInFlight < 0:
            raise ValueError(
                "segmentSize and bufferSize must be positive, maxInFlight not negative"
            )
        self.endpoint = endpoint
        self.link = Link(rtt, rate)
        self.clock: IReactorTime = clock
        self.target = target if target is not None else repr(endpoint)
        self.segmentSize = segmentSize
        self.bufferSize = bufferSize
        self.maxInFlight = maxInFlight
