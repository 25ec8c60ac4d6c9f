"""
The HTTP/1.1 client: a connection pool with persistence and pipelining,
redirects, cookies and HTTPS (textbook section 2.2; RFC 9110, RFC 9112).

L{HTTPClient.request} sends one request and returns a Deferred that fires
with the whole L{ClientResponse}.  Underneath, the client keeps the rules the
textbook's section 2.2.2 is about:

  - B{Persistent connections} (RFC 9112 section 9.3).  Connections are pooled
    per I{origin} (scheme, host, port: RFC 9110 section 4.3.1); a request
    goes to an idle connection of its origin when there is one, else to a
    new connection while the origin has fewer than
    C{maxConnectionsPerOrigin}, else it waits in the origin's queue, first
    come first served.  A response that says C{Connection: close}, or comes
    from an HTTP/1.0 server that did not agree to keep-alive, ends the
    connection after it.
  - B{Recovery} (RFC 9112 section 9.3.1).  A server may close an idle
    connection at any time, so a request written to a reused connection can
    meet a connection that is already gone.  When a reused connection dies
    before any byte of the response arrived, an idempotent request (GET,
    HEAD, PUT, DELETE, OPTIONS, TRACE: RFC 9110 section 9.2.2) whose body
    can be sent again is retried once, on a new connection.  Any other
    failure is reported, never silently repeated.
  - B{Pipelining} (RFC 9112 section 9.3.2), when asked for: once the origin
    has shown that it keeps connections open, further idempotent requests
    are written on a busy connection without waiting for the responses
    before them, which come back in request order.  Requests left unanswered
    when such a connection ends are retried on a fresh one.
  - B{Non-persistent} mode (C{persistent=False}): every request says
    C{Connection: close} and has a connection of its own, the textbook's
    "2 RTT per object".

On top of that: redirects (RFC 9110 section 15.4), a cookie jar
(L{netref.http.cookies.CookieJar}, RFC 6265), chunked uploads (RFC 9112
section 7.1), per-request time limits, and HTTPS with hostname verification
(L{netref.core.tls.clientOptions}) offering ALPN C{http/1.1} (RFC 7301).

Every message is framed and parsed by the sans-IO
L{netref.http.wire.ClientConnection}; this module only moves bytes, keeps
the pool, and times each phase of an exchange on the reactor's clock (see
L{Timings}), which is what C{netref get --trace} prints and the textbook's
experiment (C{bench/http_textbook_experiment.py}) measures.  With tracing on
(L{netref.core.trace}) every request and response head line is a C{C:} or
C{S:} line of the connection's transcript.

Embedding, in another Twisted program::

    from twisted.internet import defer, task
    from netref.http.client import HTTPClient

    async def main(reactor):
        client = HTTPClient(reactor)
        response = await client.get("http://127.0.0.1:8080/index.html")
        print(response.status, len(response.body))
        await client.close()

    task.react(lambda reactor: defer.ensureDeferred(main(reactor)))
"""

from __future__ import annotations

import io
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, Any, cast
from typing import Protocol as TypingProtocol
from urllib.parse import quote, urljoin, urlsplit

from OpenSSL import SSL
from service_identity import VerificationError
from twisted.internet import defer, error
from twisted.internet._sslverify import IOpenSSLTrustRoot
from twisted.internet.defer import CancelledError, Deferred
from twisted.internet.interfaces import (
    IConnector,
    IDelayedCall,
    IHandshakeListener,
    IOpenSSLClientConnectionCreator,
    IReactorTCP,
    IReactorTime,
)
from twisted.internet.protocol import ClientFactory, Protocol, connectionDone
from twisted.internet.ssl import Certificate
from twisted.protocols.tls import TLSMemoryBIOFactory
from twisted.python.failure import Failure
from zope.interface import implementer

from netref import __version__
from netref.core.tls import clientOptions, trustRootFromPEM
from netref.core.trace import Transcript
from netref.http.wire import (
    ClientConnection,
    ConnectionClosed,
    Data,
    EndOfMessage,
    Headers,
    HTTPError,
    Limits,
    Request,
    Response,
    serializeResponseHead,
)

#: The methods whose requests may be repeated without changing the outcome
#: (RFC 9110 section 9.2.2): the only ones retried or pipelined.
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE"})

#: The redirect status codes followed (RFC 9110 section 15.4).
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})

#: The default ports of the schemes (RFC 9110 sections 4.2.1 and 4.2.2).
DEFAULT_PORTS = {"http": 80, "https": 443}

#: What the client calls itself in C{User-Agent} (RFC 9110 section 10.1.5).
USER_AGENT = f"netref/{__version__}"

#: Seconds a request may take, from being asked for to its last byte,
#: before it fails with L{RequestTimeoutError}.
DEFAULT_TIMEOUT = 30.0

#: Seconds an idle pooled connection is kept open before the client closes
#: it (RFC 9112 section 9.5 lets either side close an idle connection).
DEFAULT_IDLE_TIMEOUT = 60.0

#: At most this many requests wait on one pipelined connection.
DEFAULT_PIPELINE_DEPTH = 16

#: Headers that describe a request's body; dropped with the body when a
#: redirect turns the request into a GET (RFC 9110 section 15.4).
_CONTENT_HEADERS = (
    b"content-length",
    b"content-type",
    b"content-encoding",
    b"content-language",
    b"content-location",
    b"transfer-encoding",
)

#: What may be sent as a request body: nothing, bytes (sent with
#: Content-Length), an iterable of bytes (sent chunked), or a binary file
#: (read whole, then sent with Content-Length).
Body = bytes | Iterable[bytes] | IO[bytes] | None

HeadersLike = Headers | Mapping[str, str] | Iterable[tuple[Any, Any]] | None


class ICookieJar(TypingProtocol):
    """
    What the client needs of a cookie jar: the two calls of
    L{netref.http.cookies.CookieJar} (RFC 6265 sections 5.3 and 5.4).
    """

    def setCookiesFrom(self, url: str, headers: Headers) -> None: ...

    def cookieHeaderFor(self, url: str) -> str | None: ...


# Errors.


class HTTPClientError(Exception):
    """
    A request got no usable response; the message is one line for a user.
    """


class RequestTimeoutError(HTTPClientError):
    """
    The response was not complete within the request's time limit.
    """


class TooManyRedirectsError(HTTPClientError):
    """
    Following redirects went on for more than C{maxRedirects} hops.
    """


class BadResponseError(HTTPClientError):
    """
    The server's bytes are not an HTTP/1.1 response (RFC 9112 section 2.2:
    the client closes the connection).
    """


class ConnectionLostError(HTTPClientError):
    """
    The connection ended before the whole response arrived, and the request
    could not be retried.
    """


class TLSVerificationError(HTTPClientError):
    """
    The HTTPS server could not prove it is the host asked for: its
    certificate does not chain to a trusted authority, or does not name the
    host (RFC 9110 section 4.3.4, RFC 6125 section 6).
    """


class ClientClosedError(HTTPClientError):
    """
    The client was closed (L{HTTPClient.close}) before the request was sent.
    """


# The values an exchange produces.


@dataclass
class Timings:
    """
    When each phase of one exchange happened, in seconds on the reactor's
    clock (C{IReactorTime.seconds}); L{None} for a phase that did not happen
    on this exchange (a request on a reused connection has no connection
    set-up of its own).

    @ivar queued: the request was handed to the pool.
    @ivar connectStart: a new connection for it was asked for.
    @ivar connectDone: TCP's handshake finished (C{connectionMade}).
    @ivar tlsDone: TLS's handshake finished (HTTPS only).
    @ivar requestSent: the request was written to the connection.
    @ivar firstByte: the first byte of the response arrived.
    @ivar lastByte: the response was complete.
    """

    queued: float
    connectStart: float | None = None
    connectDone: float | None = None
    tlsDone: float | None = None
    requestSent: float | None = None
    firstByte: float | None = None
    lastByte: float | None = None

    def phases(self) -> list[tuple[str, float]]:
        """
        @return: C{(phase, milliseconds since L{queued})} for each phase that
            happened, in order: what C{netref get --trace} prints.
        """
        names = ("connectStart", "connectDone", "tlsDone", "requestSent", "firstByte", "lastByte")
        result = []
        for name in names:
            value = getattr(self, name)
            if value is not None:
                result.append((name, (value - self.queued) * 1000))
        return result


@dataclass
class ClientResponse:
    """
    A whole response, as L{HTTPClient.request} returns it.

    @ivar status: the status code, such as 200.
    @ivar reason: the reason phrase as sent (it carries no meaning: RFC 9112
        section 4).
    @ivar version: C{"HTTP/1.1"} or C{"HTTP/1.0"}.
    @ivar headers: the header fields, as received.
    @ivar body: the content, de-chunked (empty for HEAD, 204 and 304).
    @ivar url: the URL this response answers (after redirects).
    @ivar method: the method of the request it answers.
    @ivar history: the redirect responses followed to get here, oldest
        first.
    @ivar timings: when each phase of the exchange happened.
    @ivar connectionReused: whether the request went over a connection that
        carried an earlier request.
    @ivar trailers: trailer fields of a chunked response (RFC 9112 section
        7.1.2).
    @ivar informational: the 1xx interim responses received before it.
    """

    status: int
    reason: str
    version: str
    headers: Headers
    body: bytes
    url: str
    method: str
    timings: Timings
    connectionReused: bool = False
    history: list[ClientResponse] = field(default_factory=list)
    trailers: Headers = field(default_factory=Headers)
    informational: list[Response] = field(default_factory=list)

    def header(self, name: str) -> str | None:
        """
        @return: the combined value of the fields called C{name} (RFC 9110
            section 5.3), latin-1 decoded, or L{None}.
        """
        value = self.headers.get(name)
        return None if value is None else value.decode("latin-1")


# URLs and origins.


@dataclass(frozen=True)
class Origin:
    """
    Where a connection goes: the scheme, host and port of a URL (RFC 9110
    section 4.3.1).  The pool keeps one set of connections per origin.
    """

    scheme: str
    host: str
    port: int

    def hostHeader(self) -> str:
        """
        @return: the C{Host} field value (RFC 9110 section 7.2): the host,
            in brackets if an IPv6 address, and the port unless it is the
            scheme's default.
        """
        if ":" in self.host:
            host = f"[{self.host}]"
        elif self.host.isascii():
            host = self.host
        else:
            host = self.host.encode("idna").decode("ascii")
        if self.port == DEFAULT_PORTS[self.scheme]:
            return host
        return f"{host}:{self.port}"

    def __str__(self) -> str:
        return f"{self.scheme}://{self.hostHeader()}"


def splitURL(url: str) -> tuple[Origin, str]:
    """
    Split an C{http} or C{https} URL into its origin and request-target (the
    origin-form of RFC 9112 section 3.2.1: path and query, never the
    fragment).

    @raise HTTPClientError: if it is not an absolute http(s) URL.
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as e:
        raise HTTPClientError(f"bad URL {url!r}: {e}") from None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise HTTPClientError(f"not an http or https URL: {url!r}")
    if not parts.hostname:
        raise HTTPClientError(f"no host in URL {url!r}")
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    origin = Origin(scheme, parts.hostname, port if port is not None else DEFAULT_PORTS[scheme])
    return origin, target


def _percentEncode(target: str) -> bytes:
    """
    A request-target with its non-ASCII characters percent-encoded as UTF-8
    (RFC 3986 section 2.1), the rest left as given.
    """
    return quote(target, safe="".join(chr(c) for c in range(0x21, 0x7F))).encode("ascii")


def _asHeaders(headers: HeadersLike) -> Headers:
    if headers is None:
        return Headers()
    if isinstance(headers, Headers):
        return Headers(list(headers))
    if isinstance(headers, Mapping):
        return Headers(list(headers.items()))
    return Headers(list(headers))


def _asBytes(value: bytes | str) -> bytes:
    return value.encode("latin-1") if isinstance(value, str) else value


# One exchange: a request and, in time, its response.


class _Exchange:
    """
    One request on its way through the pool, and the response as it
    arrives.  An exchange may be sent more than once (see
    L{_Exchange.retryable}); each try starts with L{reset}.
    """

    def __init__(
        self,
        client: HTTPClient,
        origin: Origin,
        url: str,
        request: Request,
        body: bytes | Sequence[bytes] | Iterable[bytes] | None,
        timings: Timings,
    ) -> None:
        self.client = client
        self.origin = origin
        self.url = url
        self.request = request
        self.method = request.method.decode("ascii")
        self.body = body
        self.timings = timings
        self.tries = 0
        self.retried = False
        self.deferred: Deferred[ClientResponse] = Deferred(self._cancel)
        self.connection: HTTPClientProtocol | None = None
        self.timer: IDelayedCall | None = None
        self.reset()

    def reset(self) -> None:
        """
        Forget what a failed try received.
        """
        self.response: Response | None = None
        self.informational: list[Response] = []
        self.parts: list[bytes] = []
        self.received = False
        self.reused = False
        self.timings.firstByte = None
        self.timings.lastByte = None

    @property
    def idempotent(self) -> bool:
        """
        Whether the method is idempotent (RFC 9110 section 9.2.2).
        """
        return self.method in IDEMPOTENT_METHODS

    @property
    def replayable(self) -> bool:
        """
        Whether the body can be sent again: bytes or a sequence of bytes
        can, a one-shot iterator cannot.
        """
        return self.body is None or isinstance(self.body, bytes | list | tuple)

    @property
    def retryable(self) -> bool:
        """
        Whether this exchange may be sent once more on a new connection
        (RFC 9112 section 9.3.1): idempotent, replayable, not yet retried.
        """
        return self.idempotent and self.replayable and not self.retried

    @property
    def done(self) -> bool:
        """
        Whether the caller has its answer (a response or a failure).
        """
        return self.deferred.called

    def succeed(self, response: ClientResponse) -> None:
        self._stopTimer()
        if not self.deferred.called:
            self.deferred.callback(response)

    def fail(self, reason: Failure | Exception) -> None:
        self._stopTimer()
        if not self.deferred.called:
            self.deferred.errback(reason if isinstance(reason, Failure) else Failure(reason))

    def _stopTimer(self) -> None:
        if self.timer is not None and self.timer.active():
            self.timer.cancel()
        self.timer = None

    def _cancel(self, d: Deferred[ClientResponse]) -> None:
        self.abandon(CancelledError())

    def abandon(self, reason: Exception) -> None:
        """
        Give up on this exchange (time limit, cancellation): take it out of
        the queue, or, if it is on a connection, end that connection, since
        the responses on it can no longer be matched to their requests.
        """
        self.client._pool(self.origin).forget(self)
        connection = self.connection
        self.fail(reason)
        if connection is not None:
            connection.abandonExchange(self)


# The connection.


@implementer(IHandshakeListener)
class HTTPClientProtocol(Protocol):
    """
    One connection of the pool: writes requests with
    L{ClientConnection}, parses responses, and hands each to the exchange it
    answers, in request order.

    @ivar outstanding: the exchanges sent and not yet answered, oldest
        first (more than one only when pipelining).
    @ivar served: how many responses this connection has completed.
    @ivar state: C{"connecting"}, C{"open"}, C{"closing"} (no new requests:
        the connection ends after the responses in flight), C{"closed"}.
    """

    def __init__(self, pool: _OriginPool) -> None:
        self.pool = pool
        self.clock = pool.client.clock
        self.wire = ClientConnection(pool.client.limits)
        self.outstanding: deque[_Exchange] = deque()
        self.sent = 0
        self.served = 0
        self.state = "connecting"
        self.connector: IConnector | None = None
        self.connectStart = self.clock.seconds()
        self.connectDone: float | None = None
        self.tlsDone: float | None = None
        self.transcript = Transcript()
        self.lost: Deferred[None] = Deferred()
        self._idleTimer: IDelayedCall | None = None
        self._closeReason: str | None = None
        self._broken = False

    # Connection life.

    def connectionMade(self) -> None:
        self.connectDone = self.clock.seconds()
        self.state = "open"
        # Each request is written whole, so Nagle's algorithm (RFC 896) can
        # only hold a pipelined request back until the server acknowledges
        # the one before: turn it off, as curl and browsers do.
        setNoDelay = getattr(self.transport, "setTcpNoDelay", None)
        if setNoDelay is not None:
            setNoDelay(True)
        if self.transcript.enabled:
            peer = self.transport.getPeer()  # type: ignore[union-attr]
            host = getattr(peer, "host", "?")
            self.transcript.note(
                f"connected to {self.pool.origin} ({host}:{getattr(peer, 'port', '?')})"
            )
        self.pool.connectionReady(self)

    def handshakeCompleted(self) -> None:
        """
        TLS's handshake finished: the server proved it is the host asked
        for (L{netref.core.tls.clientOptions}).
        """
        self.tlsDone = self.clock.seconds()
        if self.transcript.enabled:
            self.transcript.note("TLS handshake done, server certificate verified")
        for exchange in self.outstanding:
            if exchange.timings.connectStart is not None:
                exchange.timings.tlsDone = self.tlsDone

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self.state = "closed"
        self._stopIdleTimer()
        completed: list[tuple[_Exchange, ClientResponse]] = []
        # The end of the connection ends a close-delimited body (RFC 9112
        # section 6.3, rule 8), or shows a message to be truncated.
        try:
            events = self.wire.receiveData(b"")
        except HTTPError as e:
            self._broken = True
            self._handleEvents(e.events, completed)
            if self.outstanding and self.outstanding[0].received:
                self.outstanding.popleft().fail(
                    ConnectionLostError(f"incomplete response from {self.pool.origin}: {e.reason}")
                )
        else:
            self._handleEvents(events, completed)
        if self.transcript.enabled:
            self.transcript.note(f"connection closed ({reason.getErrorMessage()})")
        self._recover(reason)
        self.pool.connectionGone(self)
        self._fire(completed)
        self.lost.callback(None)

    def _recover(self, reason: Failure) -> None:
        """
        Decide the fate of the exchanges left unanswered when the connection
        ended: retry them on a new connection or fail them (RFC 9112
        section 9.3.1).
        """
        unanswered = list(self.outstanding)
        self.outstanding.clear()
        retry: list[_Exchange] = []
        for position, exchange in enumerate(unanswered):
            if exchange.done:
                continue
            if self._closeReason is not None and not exchange.received:
                # The server said it would close after an earlier response:
                # this request was never read, so sending it again is
                # not a retry.
                retry.append(exchange)
            elif (
                not exchange.received and exchange.retryable and (exchange.reused or position > 0)
            ):
                exchange.retried = True
                retry.append(exchange)
            elif exchange.received:
                exchange.fail(
                    ConnectionLostError(
                        f"the connection to {self.pool.origin} closed in the middle of "
                        f"the response ({reason.getErrorMessage()})"
                    )
                )
            else:
                exchange.fail(_connectionFailure(self.pool.origin, reason, exchange))
        if retry:
            if self.transcript.enabled:
                self.transcript.note(f"{len(retry)} unanswered request(s) to send again")
            self.pool.requeue(retry)

    def close(self) -> None:
        """
        End the connection now (the pool is closing).
        """
        if self.state == "connecting":
            if self.connector is not None:
                self.connector.stopConnecting()
            return
        if self.state in ("open", "closing") and self.transport is not None:
            self.state = "closing"
            self.transport.loseConnection()

    # Requests.

    @property
    def idle(self) -> bool:
        """
        Open, with nothing in flight: a request may go now.
        """
        return self.state == "open" and not self.outstanding

    def canPipeline(self, exchange: _Exchange, depth: int) -> bool:
        """
        Whether C{exchange} may be written behind the requests in flight
        (RFC 9112 section 9.3.2): only idempotent requests, on an open
        connection, to an origin known to keep connections open.
        """
        return (
            self.state == "open"
            and exchange.idempotent
            and exchange.replayable
            and len(self.outstanding) < depth
            and all(e.idempotent for e in self.outstanding)
        )

    def send(self, exchange: _Exchange) -> None:
        """
        Write C{exchange}'s request on this connection.
        """
        self._stopIdleTimer()
        exchange.connection = self
        exchange.tries += 1
        exchange.reused = self.sent > 0
        timings = exchange.timings
        if exchange.reused:
            timings.connectStart = timings.connectDone = timings.tlsDone = None
        else:
            timings.connectStart = self.connectStart
            timings.connectDone = self.connectDone
            timings.tlsDone = self.tlsDone
        self.sent += 1
        self.outstanding.append(exchange)
        request = exchange.request
        body = exchange.body
        if body is None or isinstance(body, bytes):
            data = self.wire.sendRequest(request, body)
            head, _, rest = data.partition(b"\r\n\r\n")
            self._traceHead(head, len(rest))
            assert self.transport is not None
            self.transport.write(data)
        else:
            head = self.wire.startRequest(request)
            self._traceHead(head.partition(b"\r\n\r\n")[0], None)
            pieces = [head]
            try:
                for piece in body:
                    if piece:
                        pieces.append(self.wire.sendData(piece))
            except Exception as e:
                # The body's source failed (a file that cannot be read):
                # nothing was written, and nothing sensible can be now.
                self.outstanding.remove(exchange)
                exchange.fail(HTTPClientError(f"cannot read the request body: {e}"))
                self.state = "closing"
                assert self.transport is not None
                self.transport.loseConnection()
                return
            pieces.append(self.wire.endRequest())
            assert self.transport is not None
            self.transport.writeSequence(pieces)
        timings.requestSent = self.clock.seconds()

    def _traceHead(self, head: bytes, bodyLength: int | None) -> None:
        if not self.transcript.enabled:
            return
        if self.sent > 1:
            self.transcript.note(f"reusing the connection to {self.pool.origin}")
        for line in head.split(b"\r\n"):
            self.transcript.client(line)
        self.transcript.client(b"")
        if bodyLength is None:
            self.transcript.note("(request body sent chunked)")
        elif bodyLength:
            self.transcript.note(f"({bodyLength} bytes of request body)")

    # Responses.

    def dataReceived(self, data: bytes) -> None:
        if self.outstanding and not self.outstanding[0].received:
            self.outstanding[0].received = True
            self.outstanding[0].timings.firstByte = self.clock.seconds()
        completed: list[tuple[_Exchange, ClientResponse]] = []
        try:
            events = self.wire.receiveData(data)
        except HTTPError as e:
            # Responses completed before the bad bytes still count; the
            # connection ends with the bad one whatever they said.
            self._broken = True
            self._handleEvents(e.events, completed)
            self._badResponse(e)
        else:
            self._handleEvents(events, completed)
        self._fire(completed)

    def _badResponse(self, e: HTTPError) -> None:
        """
        The server sent something that is not a response: fail the request
        it was meant to answer and close (RFC 9112 section 2.2); requests
        pipelined behind it are sent again elsewhere.
        """
        if self.transcript.enabled:
            self.transcript.note(f"bad response: {e.reason}")
        if self.outstanding:
            self.outstanding.popleft().fail(
                BadResponseError(f"bad response from {self.pool.origin}: {e.reason}")
            )
        if self.state != "closed":
            self.state = "closing"
            assert self.transport is not None
            self.transport.abortConnection()  # type: ignore[attr-defined]

    def _handleEvents(
        self, events: list[Any], completed: list[tuple[_Exchange, ClientResponse]]
    ) -> None:
        for event in events:
            if isinstance(event, ConnectionClosed):
                continue
            if not self.outstanding:
                # Bytes nobody asked for (RFC 9112 section 9.3.2): the wire
                # module would normally refuse them first.
                if self.transcript.enabled:
                    self.transcript.note("data with no request outstanding; closing")
                self.state = "closing"
                assert self.transport is not None
                self.transport.loseConnection()
                return
            exchange = self.outstanding[0]
            if isinstance(event, Response):
                if not exchange.received:
                    exchange.received = True
                    exchange.timings.firstByte = self.clock.seconds()
                if 100 <= event.status < 200:
                    exchange.informational.append(event)
                    self._traceResponseHead(event)
                else:
                    exchange.response = event
                    self._traceResponseHead(event)
            elif isinstance(event, Data):
                exchange.parts.append(event.data)
            elif isinstance(event, EndOfMessage):
                self.outstanding.popleft()
                exchange.connection = None
                exchange.timings.lastByte = self.clock.seconds()
                self.served += 1
                completed.append((exchange, self._finish(exchange, event)))
                self._afterResponse()

    def _traceResponseHead(self, response: Response) -> None:
        if not self.transcript.enabled:
            return
        for line in serializeResponseHead(response).split(b"\r\n"):
            if line:
                self.transcript.server(line)
        self.transcript.server(b"")

    def _finish(self, exchange: _Exchange, end: EndOfMessage) -> ClientResponse:
        response = exchange.response
        assert response is not None
        body = b"".join(exchange.parts)
        if self.transcript.enabled:
            _traceBody(self.transcript, response.headers, body)
        return ClientResponse(
            status=response.status,
            reason=response.reason.decode("latin-1"),
            version="HTTP/" + response.version.decode("ascii"),
            headers=response.headers,
            body=body,
            url=exchange.url,
            method=exchange.method,
            timings=exchange.timings,
            connectionReused=exchange.reused,
            trailers=end.trailers,
            informational=exchange.informational,
        )

    def _afterResponse(self) -> None:
        """
        A response is complete: keep the connection for more, or end it if
        either side said so (RFC 9112 section 9.6).
        """
        if self._broken:
            return
        persists = self.wire.keepAlive
        self.pool.learnPersistence(persists)
        if not persists and self.state != "closed":
            if self.state == "open" and self.transcript.enabled:
                self.transcript.note("the connection will not persist; closing it")
            self.state = "closing"
            self._closeReason = "not persistent"
            if self.outstanding:
                # Pipelined requests behind the last response will not be
                # read by the server: send them again elsewhere.
                unanswered = list(self.outstanding)
                self.outstanding.clear()
                for exchange in unanswered:
                    exchange.connection = None
                self.pool.requeue(unanswered)
            assert self.transport is not None
            self.transport.loseConnection()
        elif self.idle:
            self._startIdleTimer()

    def _fire(self, completed: list[tuple[_Exchange, ClientResponse]]) -> None:
        # Callbacks run after this connection's state is settled and the
        # pool has handed out the next requests, so a callback that makes
        # a new request finds the pool in order.
        self.pool.dispatch()
        for exchange, response in completed:
            exchange.client._received(exchange, response)
            exchange.succeed(response)

    def abandonExchange(self, exchange: _Exchange) -> None:
        """
        A request on this connection was given up (time limit,
        cancellation): its response can no longer be told from the next
        one's, so the connection ends; requests behind it are retried.
        """
        if exchange in self.outstanding:
            self.state = "closing"
            if self.transport is not None:
                self.transport.abortConnection()  # type: ignore[attr-defined]

    # Idle connections.

    def _startIdleTimer(self) -> None:
        timeout = self.pool.client.idleTimeout
        if timeout is not None:
            self._idleTimer = self.clock.callLater(timeout, self._idleTimedOut)

    def _stopIdleTimer(self) -> None:
        if self._idleTimer is not None and self._idleTimer.active():
            self._idleTimer.cancel()
        self._idleTimer = None

    def _idleTimedOut(self) -> None:
        self._idleTimer = None
        if self.idle:
            if self.transcript.enabled:
                self.transcript.note("idle too long; closing")
            self.close()


def _traceBody(transcript: Transcript, headers: Headers, body: bytes) -> None:
    """
    Show a response body in a transcript as the textbook's figures do: a
    short text body line by line, anything else as its size and type.
    """
    if not body:
        return
    contentType = (headers.get("content-type") or b"").decode("latin-1")
    textual = contentType.startswith("text/") or any(
        kind in contentType for kind in ("json", "xml", "javascript")
    )
    if textual and len(body) <= 2048:
        lines = body.split(b"\n")
        if lines[-1] == b"":
            lines.pop()
        for line in lines:
            transcript.server(line)
    else:
        transcript.note(f"({len(body)} bytes of {contentType or 'data'})")


def _connectionFailure(origin: Origin, reason: Failure, exchange: _Exchange) -> Exception:
    """
    The error for a request whose connection ended before any of its
    response, and that may not be sent again.
    """
    message = reason.getErrorMessage()
    if reason.check(VerificationError):
        return TLSVerificationError(
            f"{origin}: the server's certificate is not valid for {origin.host!r} "
            "(RFC 6125 section 6)"
        )
    if reason.check(SSL.Error):
        return TLSVerificationError(f"{origin}: TLS handshake failed: {message}")
    if reason.check(error.ConnectionDone, error.ConnectionLost):
        why = "the server closed the connection before responding"
        if not exchange.retryable and exchange.reused:
            why += f" (a {exchange.method} request is not retried: RFC 9112 section 9.3.1)"
        return ConnectionLostError(f"{origin}: {why}")
    return ConnectionLostError(f"{origin}: {message}")


class _ConnectionFactory(ClientFactory):
    """
    Builds the one L{HTTPClientProtocol} of one connection attempt, and
    reports a failed attempt to the pool.
    """

    noisy = False

    def __init__(self, connection: HTTPClientProtocol) -> None:
        self.connection = connection

    def buildProtocol(self, addr: Any) -> HTTPClientProtocol:
        return self.connection

    def clientConnectionFailed(self, connector: IConnector, reason: Failure) -> None:
        self.connection.state = "closed"
        if self.connection.transcript.enabled:
            self.connection.transcript.note(
                f"could not connect to {self.connection.pool.origin}: {reason.getErrorMessage()}"
            )
        self.connection.pool.connectFailed(self.connection, reason)
        self.connection.lost.callback(None)


# The pool.


class _OriginPool:
    """
    The connections and the queue of requests of one origin.

    @ivar connections: every connection, connecting or open.
    @ivar queue: requests waiting for a connection, first come first
        served.
    @ivar persistent: whether the origin keeps connections open, as its
        last response said; L{None} before the first.
    @ivar connectFailing: whether the last connection attempt failed (and
        none succeeded nor was a new request made since): no new attempts.
    """

    def __init__(self, client: HTTPClient, origin: Origin) -> None:
        self.client = client
        self.origin = origin
        self.connections: list[HTTPClientProtocol] = []
        self.queue: deque[_Exchange] = deque()
        self.persistent: bool | None = None
        self.connectFailing = False

    def submit(self, exchange: _Exchange) -> None:
        self.queue.append(exchange)
        self.connectFailing = False
        self.dispatch()

    def requeue(self, exchanges: Sequence[_Exchange]) -> None:
        """
        Put exchanges back at the head of the queue, in their order: they
        were asked for before anything waiting.
        """
        for exchange in reversed(exchanges):
            if not exchange.done:
                exchange.connection = None
                exchange.reset()
                self.queue.appendleft(exchange)

    def forget(self, exchange: _Exchange) -> None:
        if exchange in self.queue:
            self.queue.remove(exchange)

    def learnPersistence(self, persists: bool) -> None:
        self.persistent = persists

    def _connectionFor(self, exchange: _Exchange) -> HTTPClientProtocol | None:
        """
        @return: an open connection that may take C{exchange} now: an idle
            one, or, when pipelining to an origin that keeps connections,
            the least busy open one that accepts it.
        """
        client = self.client
        if not client.persistent:
            for connection in self.connections:
                if connection.idle and connection.sent == 0:
                    return connection
            return None
        for connection in self.connections:
            if connection.idle:
                return connection
        if client.pipelining and self.persistent:
            candidates = [
                c for c in self.connections if c.canPipeline(exchange, client.pipelineDepth)
            ]
            if candidates:
                return min(candidates, key=lambda c: len(c.outstanding))
        return None

    def dispatch(self) -> None:
        """
        Hand queued requests to connections, opening new ones up to the
        limit; what cannot go yet stays queued.  Once the client is closed,
        nothing goes: what is queued (requests sent back by a connection the
        closing ended) fails.
        """
        if self.client._closed:
            waiting = list(self.queue)
            self.queue.clear()
            for exchange in waiting:
                exchange.fail(ClientClosedError("the HTTP client was closed"))
            return
        while self.queue:
            exchange = self.queue[0]
            if exchange.done:
                self.queue.popleft()
                continue
            connection = self._connectionFor(exchange)
            if connection is not None:
                self.queue.popleft()
                connection.send(exchange)
                continue
            connecting = sum(1 for c in self.connections if c.state == "connecting")
            if (
                not self.connectFailing
                and connecting < len(self.queue)
                and len(self.connections) < self.client.maxConnectionsPerOrigin
            ):
                self._connect()
                continue
            break

    def _connect(self) -> None:
        connection = HTTPClientProtocol(self)
        self.connections.append(connection)
        if connection.transcript.enabled:
            connection.transcript.note(f"connecting to {self.origin}")
        self.client._connect(self.origin, connection)

    def connectionReady(self, connection: HTTPClientProtocol) -> None:
        self.connectFailing = False
        self.dispatch()
        if connection.idle:
            connection._startIdleTimer()

    def connectionGone(self, connection: HTTPClientProtocol) -> None:
        if connection in self.connections:
            self.connections.remove(connection)
        self.dispatch()

    def connectFailed(self, connection: HTTPClientProtocol, reason: Failure) -> None:
        """
        A connection could not be made.  The waiting requests wait for the
        other attempts under way, or for the open connections; with neither,
        they fail with the reason.
        """
        if connection in self.connections:
            self.connections.remove(connection)
        # No new attempts until one succeeds or a new request comes: a
        # server that refuses would otherwise be asked again and again.
        self.connectFailing = True
        if any(c.state == "connecting" for c in self.connections):
            return
        if any(c.state == "open" for c in self.connections):
            self.dispatch()
            return
        waiting = list(self.queue)
        self.queue.clear()
        for exchange in waiting:
            exchange.fail(
                HTTPClientError(f"cannot connect to {self.origin}: {reason.getErrorMessage()}")
            )

    def close(self) -> list[Deferred[None]]:
        waiting = list(self.queue)
        self.queue.clear()
        for exchange in waiting:
            exchange.fail(ClientClosedError("the HTTP client was closed"))
        lost = []
        for connection in list(self.connections):
            lost.append(connection.lost)
            connection.close()
        return lost


# The client.


class HTTPClient:
    """
    An HTTP/1.1 user agent: L{request} and L{get}, over a pool of
    connections (see the module's docstring).

    @ivar reactor: provides C{connectTCP} and the clock.
    @ivar persistent: whether connections are kept for more requests.
    @ivar pipelining: whether idempotent requests may be written before
        the responses to earlier ones have arrived.
    @ivar cookieJar: where cookies are kept, or L{None} for no cookies.
    """

    def __init__(
        self,
        reactor: Any,
        *,
        persistent: bool = True,
        pipelining: bool = False,
        maxConnectionsPerOrigin: int = 6,
        trustRoot: IOpenSSLTrustRoot | Certificate | str | None = None,
        cookieJar: ICookieJar | None = None,
        followRedirects: bool = True,
        maxRedirects: int = 10,
        timeout: float | None = DEFAULT_TIMEOUT,
        idleTimeout: float | None = DEFAULT_IDLE_TIMEOUT,
        pipelineDepth: int = DEFAULT_PIPELINE_DEPTH,
        limits: Limits | None = None,
        userAgent: str | None = USER_AGENT,
    ) -> None:
        """
        @param reactor: an C{IReactorTCP} and C{IReactorTime}.
        @param persistent: keep connections open for further requests (RFC
            9112 section 9.3); if false, every request has its own
            connection and says C{Connection: close}.
        @param pipelining: pipeline idempotent requests (RFC 9112 section
            9.3.2); only with C{persistent}.
        @param maxConnectionsPerOrigin: at most this many connections to one
            origin at a time; further requests wait in a queue.
        @param trustRoot: the certificate authorities HTTPS servers must
            chain to: L{None} for the platform's, the path of a PEM file (as
            C{curl --cacert}), a L{Certificate} or an C{IOpenSSLTrustRoot}.
        @param cookieJar: a L{netref.http.cookies.CookieJar}, or L{None} to
            send and keep no cookies.
        @param followRedirects: follow 301, 302, 303, 307 and 308 responses.
        @param maxRedirects: fail with L{TooManyRedirectsError} after this many.
        @param timeout: seconds each request (each hop of a redirect chain)
            may take from being asked for to its last byte, or L{None}.
        @param idleTimeout: seconds an idle connection is kept, or L{None}.
        @param pipelineDepth: at most this many requests in flight on one
            pipelined connection.
        @param limits: limits on the responses' sizes (see
            L{netref.http.wire.Limits}).
        @param userAgent: the C{User-Agent} sent, or L{None} for none.
        """
        if maxConnectionsPerOrigin < 1:
            raise ValueError("maxConnectionsPerOrigin must be at least 1")
        self.reactor = reactor
        self.clock: IReactorTime = reactor
        self.persistent = persistent
        self.pipelining = pipelining and persistent
        self.maxConnectionsPerOrigin = maxConnectionsPerOrigin
        if isinstance(trustRoot, str):
            trustRoot = trustRootFromPEM(trustRoot)
        self.trustRoot = trustRoot
        self.cookieJar = cookieJar
        self.followRedirects = followRedirects
        self.maxRedirects = maxRedirects
        self.timeout = timeout
        self.idleTimeout = idleTimeout
        self.pipelineDepth = max(1, pipelineDepth)
        self.limits = limits
        self.userAgent = userAgent
        self._pools: dict[Origin, _OriginPool] = {}
        self._closed = False

    def _pool(self, origin: Origin) -> _OriginPool:
        pool = self._pools.get(origin)
        if pool is None:
            pool = self._pools[origin] = _OriginPool(self, origin)
        return pool

    def _tlsOptions(self, origin: Origin) -> IOpenSSLClientConnectionCreator:
        """
        TLS options checking that the server is C{origin.host} (RFC 9110
        section 4.3.4, RFC 6125) and offering ALPN C{http/1.1} (RFC 7301).
        """
        return clientOptions(origin.host, self.trustRoot, acceptableProtocols=[b"http/1.1"])

    def _connect(self, origin: Origin, connection: HTTPClientProtocol) -> None:
        factory: Any = _ConnectionFactory(connection)
        if origin.scheme == "https":
            factory = TLSMemoryBIOFactory(self._tlsOptions(origin), True, factory)
        tcp: IReactorTCP = self.reactor
        timeout = self.timeout if self.timeout is not None else 30
        connection.connector = tcp.connectTCP(origin.host, origin.port, factory, timeout=timeout)

    def request(
        self,
        method: str,
        url: str,
        headers: HeadersLike = None,
        body: Body = None,
    ) -> Deferred[ClientResponse]:
        """
        Send a request and read the whole response, following redirects if
        the client does.

        @param method: the method, such as C{"GET"} (case-sensitive: RFC
            9110 section 9.1).
        @param url: an absolute C{http:} or C{https:} URL.
        @param headers: more header fields: a L{Headers}, a mapping or
            C{(name, value)} pairs.  C{Host}, C{User-Agent} and C{Cookie}
            (from the jar) are added unless given.
        @param body: L{None}; bytes (sent with C{Content-Length}); an
            iterable of bytes (sent chunked, RFC 9112 section 7.1: for a
            generator, the request cannot be retried); or a binary file,
            read whole and sent with C{Content-Length}.
        @return: fires with the L{ClientResponse} of any status, or fails
            with an L{HTTPClientError} (or the connection's error) when no
            response came.
        """
        return Deferred.fromCoroutine(self._request(method, url, _asHeaders(headers), body))

    def get(self, url: str, **kwargs: Any) -> Deferred[ClientResponse]:
        """
        L{request} with the method GET.
        """
        return self.request("GET", url, **kwargs)

    async def _request(
        self, method: str, url: str, headers: Headers, body: Body
    ) -> ClientResponse:
        sendBody: bytes | Iterable[bytes] | None
        if isinstance(body, io.IOBase) or hasattr(body, "read"):
            sendBody = cast(IO[bytes], body).read()
        else:
            sendBody = body
        history: list[ClientResponse] = []
        while True:
            response = await self._send(method, url, headers, sendBody)
            response.history = list(history)
            location = response.header("location")
            if not (
                self.followRedirects
                and response.status in REDIRECT_STATUSES
                and location is not None
            ):
                return response
            if len(history) >= self.maxRedirects:
                raise TooManyRedirectsError(
                    f"more than {self.maxRedirects} redirects, last to {location}"
                )
            history.append(response)
            newURL = urljoin(url, location.strip())
            method, sendBody, headers = redirectedRequest(
                response.status, method, sendBody, headers
            )
            if sendBody is not None and not isinstance(sendBody, bytes | list | tuple):
                raise HTTPClientError(
                    f"cannot send a streamed request body again to {newURL} "
                    f"(a {response.status} redirect keeps the body)"
                )
            if splitURL(newURL)[0] != splitURL(url)[0]:
                # Credentials were meant for the first origin only (RFC
                # 9110 section 15.4): drop them, and cookies the caller set
                # by hand; the jar computes the new origin's own.
                for name in ("authorization", "proxy-authorization", "cookie"):
                    headers.remove(name)
            url = newURL

    def _send(
        self, method: str, url: str, headers: Headers, body: bytes | Iterable[bytes] | None
    ) -> Deferred[ClientResponse]:
        """
        One request to one URL, through the pool: no redirects.
        """
        if self._closed:
            return defer.fail(ClientClosedError("the HTTP client was closed"))
        origin, target = splitURL(url)
        fields = Headers()
        if "host" not in headers:
            # Every HTTP/1.1 request carries Host (RFC 9112 section 3.2);
            # it goes first, as in the textbook's figures.
            fields.add("Host", origin.hostHeader())
        for name, value in headers:
            fields.add(name, value)
        if self.userAgent is not None and "user-agent" not in fields:
            fields.add("User-Agent", self.userAgent)
        if self.cookieJar is not None and "cookie" not in fields:
            cookie = self.cookieJar.cookieHeaderFor(url)
            if cookie:
                fields.add("Cookie", cookie)
        if not self.persistent:
            fields.set("Connection", "close")
        request = Request(
            method=method.encode("ascii"),
            target=target.encode("ascii") if target.isascii() else _percentEncode(target),
            headers=fields,
        )
        timings = Timings(queued=self.clock.seconds())
        exchange = _Exchange(self, origin, url, request, body, timings)
        if self.timeout is not None:
            exchange.timer = self.clock.callLater(self.timeout, self._timedOut, exchange)
        self._pool(origin).submit(exchange)
        return exchange.deferred

    def _timedOut(self, exchange: _Exchange) -> None:
        exchange.timer = None
        exchange.abandon(
            RequestTimeoutError(
                f"no complete response from {exchange.origin} within {self.timeout:g} s"
            )
        )

    def _received(self, exchange: _Exchange, response: ClientResponse) -> None:
        """
        Keep the cookies a response sets (RFC 6265 section 5.3).
        """
        if self.cookieJar is not None:
            self.cookieJar.setCookiesFrom(exchange.url, response.headers)

    def connectionCount(self, url: str | None = None) -> int:
        """
        @return: how many connections are open or opening, to the origin of
            C{url} or to all origins.
        """
        if url is not None:
            pool = self._pools.get(splitURL(url)[0])
            return 0 if pool is None else len(pool.connections)
        return sum(len(pool.connections) for pool in self._pools.values())

    def close(self) -> Deferred[None]:
        """
        Close every connection and fail the requests still waiting.

        @return: fires when every connection has ended.
        """
        self._closed = True
        lost: list[Deferred[None]] = []
        for pool in self._pools.values():
            lost.extend(pool.close())
        return defer.gatherResults(lost).addCallback(lambda _: None)


def redirectedRequest(
    status: int, method: str, body: bytes | Iterable[bytes] | None, headers: Headers
) -> tuple[str, bytes | Iterable[bytes] | None, Headers]:
    """
    The request to send to a redirect's C{Location} (RFC 9110 section 15.4).

      - 303 See Other: a GET (a HEAD stays a HEAD), without the body
        (section 15.4.4).
      - 301 and 302 after a POST: a GET without the body, as user agents
        have always done and the RFC allows (sections 15.4.2, 15.4.3).
      - 307 and 308, and 301/302 after other methods: the same method and
        body (sections 15.4.8, 15.4.9).

    @return: the method, body and headers for the next hop.
    """
    headers = Headers(list(headers))
    toGet = (status == 303 and method != "HEAD") or (status in (301, 302) and method == "POST")
    if toGet:
        for name in _CONTENT_HEADERS:
            headers.remove(name)
        return "GET", None, headers
    return method, body, headers


__all__ = [
    "BadResponseError",
    "ClientClosedError",
    "ClientResponse",
    "ConnectionLostError",
    "HTTPClient",
    "HTTPClientError",
    "HTTPClientProtocol",
    "IDEMPOTENT_METHODS",
    "Origin",
    "RequestTimeoutError",
    "Timings",
    "TLSVerificationError",
    "TooManyRedirectsError",
    "redirectedRequest",
    "splitURL",
]
