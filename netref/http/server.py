"""
netref's HTTP/1.1 server: a thin Twisted protocol over the sans-IO
L{netref.http.wire.ServerConnection}.

The textbook's Web server (section 2.2) in a few rules:

  - B{Persistent connections and pipelining} (RFC 9112 section 9.3): a
    client may send several requests on one connection without waiting;
    they are answered strictly in the order they came, even when a later
    handler finishes first (handlers may return Deferreds).  While more
    than L{MAX_PIPELINED} answers are waiting, the server stops reading.
  - B{One write per response}: a response with a C{bytes} body leaves in
    a single C{transport.write}.  A L{FileBody} is streamed in
    L{BLOCK_SIZE} blocks, as the transport's buffer drains (the protocol
    is its push producer), never read whole into memory.
  - B{Expect: 100-continue} (RFC 9110 section 10.1.1): the interim
    C{100 Continue} is sent once the request's turn comes, if its method
    is one the handler takes; otherwise the final answer is sent at once
    and the connection closed, so the client need not send the body.
  - B{Errors}: a request the wire layer refuses (L{HTTPError}: 400, 413,
    414, 431, 501, 505) gets the wire's error response after the answers
    to the requests before it, then the connection is closed.  A handler
    that raises gets C{500}, logged with its traceback; the connection
    carries on.
  - B{Timeouts}, on the factory's clock: a connection with nothing to do
    is closed after C{idleTimeout} seconds (RFC 9112 section 9.8); a
    request's head must arrive within C{requestTimeout} seconds of its
    first octet, and its body must not stall for longer (the slow-loris
    attack), or the server answers C{408 Request Timeout} (RFC 9110
    section 15.5.9) and closes.
  - B{Date and Server} on every response (RFC 9110 sections 6.6.1 and
    10.2.4); the date is formatted once per second.
  - B{Access log} in the Common Log Format, one line per response, given
    to a callable; with C{--trace}, the heads of every request and
    response are printed as the textbook's figures show them.

Embedding, without twistd::

    from twisted.internet import reactor
    from netref.http.server import HTTPFactory, Router, textResponse

    class Hello:
        allowedMethods = ("GET",)
        def handle(self, request):
            return textResponse(200, "Hello, " + request.path)

    router = Router()
    router.route("/", Hello())
    reactor.listenTCP(8080, HTTPFactory(router), interface="127.0.0.1")
    reactor.run()
"""

from __future__ import annotations

import os
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import IO, Any, cast
from urllib.parse import unquote

from twisted.internet.defer import Deferred
from twisted.internet.interfaces import (
    IHalfCloseableProtocol,
    IProtocolNegotiationFactory,
    IPushProducer,
    IReactorTime,
    ISSLTransport,
)
from twisted.internet.protocol import ServerFactory, connectionDone
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import implementer

from netref.core.stream import GuardedStreamProtocol, writeNow
from netref.core.trace import Transcript, describeAddress
from netref.http.handler import (
    BasicAuthHandler,
    BodyPart,
    FileBody,
    HTTPRequest,
    HTTPResponse,
    IHandler,
    Router,
    allowHeader,
    dispatch,
    isLoopback,
    parseBasicCredentials,
    textResponse,
)
from netref.http.wire import (
    Data,
    EndOfMessage,
    Headers,
    HTTPError,
    Limits,
    Request,
    Response,
    ServerConnection,
    serializeRequestHead,
    unsupportedExpectation,
)

__all__ = [
    "BasicAuthHandler",
    "BodyPart",
    "FileBody",
    "HTTPFactory",
    "HTTPRequest",
    "HTTPResponse",
    "HTTPServerProtocol",
    "IHandler",
    "Router",
    "allowHeader",
    "dispatch",
    "formatAccessLogLine",
    "httpDate",
    "isLoopback",
    "parseBasicCredentials",
    "textResponse",
]

_log = Logger()

#: Seconds a persistent connection may stay with nothing to do.
IDLE_TIMEOUT = 60.0
#: Seconds a request's head may take from its first octet, and a body may
#: go without progress.
REQUEST_TIMEOUT = 30.0
#: Octets read from a file at a time while streaming it.
BLOCK_SIZE = 65536
#: Answers that may wait, pipelined, before the server stops reading.
MAX_PIPELINED = 32

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def httpDate(when: float) -> str:
    """
    @return: C{when} as an IMF-fixdate, C{Sun, 06 Nov 1994 08:49:37 GMT}
        (RFC 9110 section 5.6.7), without the locale's help.
    """
    t = time.gmtime(when)
    return (
        f"{_DAYS[t.tm_wday]}, {t.tm_mday:02d} {_MONTHS[t.tm_mon - 1]} {t.tm_year:04d} "
        f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} GMT"
    )


def logDate(when: float) -> str:
    """
    @return: C{when} as the Common Log Format writes it,
        C{22/Nov/2026:01:02:03 +0000}.
    """
    t = time.gmtime(when)
    return (
        f"{t.tm_mday:02d}/{_MONTHS[t.tm_mon - 1]}/{t.tm_year:04d}:"
        f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} +0000"
    )


def _logQuote(text: str) -> str:
    r"""
    Escape a request line for the log as Apache does: C{"} and C{\} get a
    backslash, anything unprintable becomes C{\xNN}, so one request is one
    line whatever its target holds.
    """
    if text.isprintable() and '"' not in text and "\\" not in text:
        return text
    out = []
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch.isprintable():
            out.append(ch)
        else:
            out.append(f"\\x{ord(ch):02x}")
    return "".join(out)


def formatAccessLogLine(
    host: str, user: str | None, when: str, requestLine: str, status: int, size: int
) -> str:
    """
    One line of the Common Log Format::

        127.0.0.1 - alice [22/Nov/2026:01:02:03 +0000] "GET / HTTP/1.1" 200 1234

    @param host: the client's address.
    @param user: the authenticated user, or L{None} (C{-}).
    @param when: the time, as L{logDate} writes it.
    @param requestLine: the request line; escaped here.
    @param size: octets of body sent; 0 is written C{-}, as CLF does.
    """
    return (
        f'{host} - {user or "-"} [{when}] "{_logQuote(requestLine)}" '
        f"{status} {size if size else '-'}"
    )


def printAccessLog(out: IO[str]) -> Callable[[str], None]:
    """
    @return: an access-log callable that writes each line to C{out} and
        flushes it.
    """

    def write(line: str) -> None:
        out.write(line + "\n")
        out.flush()

    return write


class _Exchange:
    """
    One request on a connection and, once it is ready, its response.

    @ivar request: the wire's request event.
    @ivar method: the request's method, as text.
    @ivar body: the parts of the body received so far.
    @ivar response: the answer, once the handler gave it.
    @ivar dispatched: whether the handler was called (or an answer chosen).
    @ivar expectContinue: whether the client waits for C{100 Continue}.
    @ivar httpRequest: what the handler saw, for the log.
    """

    __slots__ = (
        "request",
        "method",
        "body",
        "response",
        "dispatched",
        "expectContinue",
        "continued",
        "httpRequest",
    )

    def __init__(self, request: Request) -> None:
        self.request = request
        self.method = request.method.decode("latin-1")
        self.body: list[bytes] = []
        self.response: HTTPResponse | None = None
        self.dispatched = False
        self.expectContinue = False
        self.continued = False
        self.httpRequest: HTTPRequest | None = None


class _BadTargetError(Exception):
    """
    The request-target cannot be turned into a path.
    """


def splitTarget(target: str) -> tuple[str, str]:
    """
    The path and query of a request-target (RFC 9112 section 3.2): the
    origin-form C{/a/b?q}, the absolute-form C{http://host/a/b?q} (which a
    server must accept, section 3.2.2) or the asterisk-form C{*}.

    @return: the percent-decoded path and the raw query.
    @raise _BadTargetError: for a path that is not absolute, does not decode as
        UTF-8, or holds a NUL.
    """
    if target == "*":
        return "*", ""
    path, _, query = target.partition("?")
    if not path.startswith("/"):
        scheme, sep, rest = path.partition("://")
        if not sep or scheme.lower() not in ("http", "https"):
            raise _BadTargetError(f"not a path: {target!r}")
        slash = rest.find("/")
        path = rest[slash:] if slash >= 0 else "/"
    if "%" in path:
        try:
            path = unquote(path, errors="strict")
        except UnicodeDecodeError:
            raise _BadTargetError("the path is not UTF-8") from None
    elif not path.isascii():
        # Octets above 0x7f arrived raw: decode them as UTF-8 too.
        try:
            path = path.encode("latin-1").decode("utf-8")
        except UnicodeDecodeError:
            raise _BadTargetError("the path is not UTF-8") from None
    if "\x00" in path:
        raise _BadTargetError("the path holds a NUL")
    return path, query


@implementer(IHalfCloseableProtocol, IPushProducer)
class HTTPServerProtocol(GuardedStreamProtocol):
    """
    One connection to the HTTP server.

    L{GuardedStreamProtocol} gives it the idle timer and makes it the
    transport's push producer: when the client does not read, the protocol
    stops reading from it and stops streaming files to it.

    @ivar factory: the L{HTTPFactory}, for the handler, limits, clock and log.
    """

    factory: HTTPFactory

    def __init__(self) -> None:
        self._exchanges: deque[_Exchange] = deque()
        self._receiving: _Exchange | None = None
        self._requestCall: Any = None
        self._error: HTTPError | None = None
        self._endOfInput = False
        self._streaming: _Stream | None = None
        self._holdingReads = False
        self._lastRequestSeen = False
        self._producerRegistered = False
        self._transcript = Transcript()
        self._peer: Any = None
        self._secure = False

    # Connection life

    def connectionMade(self) -> None:
        """
        Start the idle timer and the wire state of the connection.
        """
        factory = self.factory
        self._connection = ServerConnection(factory.limits)
        self._peer = self.transport.getPeer()
        self._secure = ISSLTransport.providedBy(self.transport)
        if self._transcript.enabled:
            self._transcript.note(f"connection from {describeAddress(self._peer)}")
        self.startGuarding()
        # Whether the guard made the protocol the transport's producer (it
        # does when the transport can pause its reading).
        self._producerRegistered = self._consumer is not None and self._reading is not None

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        """
        The connection is gone: stop the timers, close any file, and forget
        the answers still waiting.
        """
        super().connectionLost(reason)
        self._cancelRequestTimer()
        if self._streaming is not None:
            self._streaming.close()
            self._streaming = None
        self._exchanges.clear()
        if self._transcript.enabled:
            self._transcript.note(f"connection closed: {reason.getErrorMessage()}")

    def readConnectionLost(self) -> None:
        """
        The client half-closed: answer what it sent, then close.
        """
        self._endOfInput = True
        if self.closing:
            return
        try:
            self._connection.receiveData(b"")
        except HTTPError:
            pass
        if self._receiving is not None:
            # A request cut short: nobody is left to read an error.
            self._exchanges.remove(self._receiving)
            self._receiving = None
        self._cancelRequestTimer()
        self._flush()

    def writeConnectionLost(self) -> None:
        """
        The client cannot read any more: close.
        """
        self.closeConnection()

    # Reading

    def dataReceived(self, data: bytes) -> None:
        """
        Parse what arrived into requests and answer each, in order.
        """
        if self._closing or self._error is not None:
            return
        refused: HTTPError | None = None
        try:
            events = self._connection.receiveData(data)
        except HTTPError as error:
            # The requests pipelined ahead of the bad one are still owed
            # their answers: the wire layer hands over their events.
            refused = error
            events = list(getattr(error, "events", ()))
        for event in events:
            kind = type(event)
            if kind is Request:
                self._requestReceived(cast(Request, event))
            elif kind is Data:
                receiving = self._receiving
                if receiving is not None:
                    receiving.body.append(cast(Data, event).data)
            elif kind is EndOfMessage:
                self._messageComplete()
            if self._closing:
                return
        if refused is not None:
            self._refuse(refused)
            return
        if self._receiving is not None or not events:
            self._watchSlowClient(bool(events))
        self.resetIdle()

    def _watchSlowClient(self, sawEvents: bool) -> None:
        """
        Start or restart the slow-client timer: a head that has begun must
        be complete within C{requestTimeout}; a body must make progress
        within it.  A request that arrives whole in one read never starts
        it.
        """
        if self._receiving is not None:
            # Part of a body arrived: progress.
            self._startRequestTimer(restart=True)
        elif not sawEvents:
            # Part of a head: the clock runs from its first octet.
            self._startRequestTimer(restart=False)

    def _startRequestTimer(self, restart: bool) -> None:
        call = self._requestCall
        timeout = self.factory.requestTimeout
        if call is not None and call.active():
            if restart:
                call.reset(timeout)
            return
        self._requestCall = self.factory.clock.callLater(timeout, self._requestTimedOut)

    def _cancelRequestTimer(self) -> None:
        call = self._requestCall
        if call is not None and call.active():
            call.cancel()
        self._requestCall = None

    def _requestTimedOut(self) -> None:
        """
        A head or a body was too slow: 408 if nothing else is owed, then close.
        """
        self._requestCall = None
        if self.closing:
            return
        if self._transcript.enabled:
            self._transcript.note(
                f"request not complete after {self.factory.requestTimeout:g} seconds: closing"
            )
        if self._receiving is not None:
            self._exchanges.remove(self._receiving)
            self._receiving = None
        if not self._exchanges and not self.paused:
            self._writeError(HTTPError(408, "the request took too long to arrive"))
        if self.paused:
            self.abortConnection()
        else:
            self.closeConnection()

    def _requestReceived(self, request: Request) -> None:
        """
        A request's head arrived: queue it; ask for its body if it waits
        for C{100 Continue}; dispatch it now if it has no body to wait for.
        """
        if self._lastRequestSeen:
            # An earlier request was answered early with Connection: close:
            # no request after it is processed (RFC 9112 section 9.6).
            return
        exchange = _Exchange(request)
        self._exchanges.append(exchange)
        self._receiving = exchange
        if self._transcript.enabled:
            self._traceRequest(request)
        if b"expect" not in request.headers:
            pass
        elif unsupportedExpectation(request):
            # RFC 9110 section 10.1.1: an expectation the server cannot meet.
            self._answerEarly(
                exchange, textResponse(417, "The only expectation met here is 100-continue.")
            )
        elif self._connection.expectsContinue(request):
            exchange.expectContinue = True
            if not self._wantsBody(exchange.method):
                # Answer without the body (RFC 9110 section 10.1.1): the
                # client need not send it.
                self._answerEarly(
                    exchange,
                    cast(
                        HTTPResponse, dispatch(self.factory.handler, self._emptyRequest(exchange))
                    ),
                )
            else:
                self._flush()
        if len(self._exchanges) > MAX_PIPELINED:
            self._holdReads()

    def _answerEarly(self, exchange: _Exchange, response: HTTPResponse) -> None:
        """
        Answer a request before its body arrives, and close after the
        answer: what the client still sends of the body is not read.
        """
        exchange.dispatched = True
        self._lastRequestSeen = True
        response.headers.set("Connection", "close")
        exchange.response = response
        self._receiving = None
        self._cancelRequestTimer()
        self._flush()

    def _wantsBody(self, method: str) -> bool:
        """
        Whether the handler would be called for C{method}: if not, the
        answer (405, or 204 to OPTIONS) needs no body.
        """
        allowed = self.factory.handler.allowedMethods
        return (
            method in allowed
            or (method == "HEAD" and "GET" in allowed)
            or (method == "TRACE" and self.factory.allowTrace)
        )

    def _emptyRequest(self, exchange: _Exchange) -> HTTPRequest:
        return HTTPRequest(
            exchange.method,
            exchange.request.target.decode("latin-1"),
            "",
            "",
            "HTTP/" + exchange.request.version.decode("ascii"),
            exchange.request.headers,
            b"",
            self._peer,
            self._secure,
        )

    def _messageComplete(self) -> None:
        """
        A request's body is complete: call the handler.
        """
        exchange = self._receiving
        self._receiving = None
        if self._requestCall is not None:
            self._cancelRequestTimer()
        if exchange is None or exchange.dispatched:
            return
        exchange.dispatched = True
        body = exchange.body
        content = body[0] if len(body) == 1 else b"".join(body)
        exchange.body = []
        self._call(exchange, content)

    def _call(self, exchange: _Exchange, content: bytes) -> None:
        request = exchange.request
        target = request.target.decode("latin-1")
        try:
            path, query = splitTarget(target)
        except _BadTargetError as e:
            self._answer(exchange, textResponse(400, f"Bad request-target: {e}"))
            return
        httpRequest = HTTPRequest(
            exchange.method,
            target,
            path,
            query,
            "HTTP/1.1" if request.version == b"1.1" else "HTTP/" + request.version.decode(),
            request.headers,
            content,
            self._peer,
            self._secure,
        )
        exchange.httpRequest = httpRequest
        method = exchange.method
        try:
            if method == "TRACE":
                result: Any = self._trace(httpRequest, exchange)
            elif path == "*" and method != "OPTIONS":
                result = textResponse(400, "Only OPTIONS may ask about '*'.")
            else:
                result = dispatch(self.factory.handler, httpRequest)
        except Exception:
            _log.failure("The handler failed on {target}", target=target)
            result = textResponse(500, "The server failed to answer this request.")
        if type(result) is HTTPResponse:
            self._answer(exchange, result)
        elif isinstance(result, Deferred):
            result.addCallbacks(
                lambda response: self._answer(exchange, response),
                lambda failure: self._handlerFailed(exchange, failure),
            )
        else:
            self._answer(exchange, result)

    def _trace(self, request: HTTPRequest, exchange: _Exchange) -> HTTPResponse:
        """
        TRACE (RFC 9110 section 9.3.8): off unless the factory allows it,
        as it echoes credentials back; then the request comes back as
        C{message/http}.
        """
        if not self.factory.allowTrace:
            return textResponse(
                405, "TRACE is not allowed here.", [("Allow", allowHeader(self.factory.handler))]
            )
        echoed = serializeRequestHead(exchange.request)
        return HTTPResponse(200, Headers([("Content-Type", "message/http")]), echoed)

    def _handlerFailed(self, exchange: _Exchange, failure: Failure) -> None:
        _log.failure("The handler failed on {target}", failure, target=exchange.request.target)
        self._answer(exchange, textResponse(500, "The server failed to answer this request."))

    def _answer(self, exchange: _Exchange, response: HTTPResponse) -> None:
        if not isinstance(response, HTTPResponse):
            _log.error(
                "The handler answered {target} with {what!r}, not an HTTPResponse",
                target=exchange.request.target,
                what=response,
            )
            response = textResponse(500, "The server failed to answer this request.")
        exchange.response = response
        if self._exchanges and self._exchanges[0] is exchange:
            self._flush()

    # Writing

    def _flush(self) -> None:
        """
        Send every answer that is ready, in request order, until one is
        not, or a file is being streamed.
        """
        exchanges = self._exchanges
        while exchanges and self._streaming is None and not self._closing:
            exchange = exchanges[0]
            response = exchange.response
            if response is None:
                if exchange.expectContinue and not exchange.continued:
                    exchange.continued = True
                    self.transport.write(self._connection.sendInformational(100))
                    if self._transcript.enabled:
                        self._transcript.server("HTTP/1.1 100 Continue")
                break
            exchanges.popleft()
            self._send(exchange, response)
            if self._streaming is None and not self._connection.keepAlive and self._mayCloseNow():
                self._exchanges.clear()
                self.closeConnection()
                return
        if self._closing:
            return
        if self._holdingReads and len(exchanges) <= MAX_PIPELINED // 2:
            self._releaseReads()
        if not exchanges and self._streaming is None:
            if self._error is not None:
                self._writeError(self._error)
                self.closeConnection()
            elif self._endOfInput:
                self.closeConnection()

    def _write(self, data: bytes) -> None:
        """
        Write a whole response, handed to the socket at once when nothing
        else waits in the transport's buffer (L{writeNow}): the largest
        single saving on the keep-alive path (see C{docs/benchmarks.md}).
        """
        writeNow(self.transport, data)

    def closeConnection(self, lastWords: bytes = b"") -> None:
        """
        Close gracefully, reading again first if reading was paused.

        A TLS transport closes only once the peer's C{close_notify} alert
        is read (RFC 8446 section 6.1): were reading left paused (by the
        backpressure of the last block written, or by too many pipelined
        answers), the connection would never close.
        """
        if (self.paused or self._holdingReads) and not self.closing:
            self._holdingReads = False
            cast(Any, self.transport).resumeProducing()
        super().closeConnection(lastWords)

    def _mayCloseNow(self) -> bool:
        """
        After an answer that ends the connection: whether to close now.
        Not while the answers of a client that half-closed are still owed,
        nor before the answer to a refused request, which closes itself.
        """
        return self._error is None and not (self._endOfInput and self._exchanges)

    def _send(self, exchange: _Exchange, response: HTTPResponse) -> None:
        factory = self.factory
        headers = response.headers
        dateValue = factory.dateHeader()
        if b"date" not in headers:
            headers.add(b"Date", dateValue)
        if b"server" not in headers:
            headers.add(b"Server", factory.serverNameBytes)
        body = response.body
        head = Response(response.status, headers)
        bodyless = (
            exchange.method == "HEAD" or response.status in (204, 304) or response.status < 200
        )
        if type(body) is bytes:
            data = self._connection.sendResponse(head, body)
            self._write(data)
            sent = 0 if bodyless else len(body)
            if self._transcript.enabled:
                self._traceResponse(data)
        else:
            try:
                stream = _Stream.open(cast("FileBody | Sequence[BodyPart]", body))
            except OSError as e:
                _log.error("Cannot send {path}: {error}", path=body, error=e)
                data = self._connection.sendResponse(
                    Response(500, Headers([("Date", dateValue)])),
                    b"The server failed to read the file.\n",
                )
                self.transport.write(data)
                sent = 0
                response = HTTPResponse(500)
            else:
                data = self._connection.startResponse(head, stream.length)
                self.transport.write(data)
                if self._transcript.enabled:
                    self._traceResponse(data)
                sent = 0 if bodyless else stream.length
                if bodyless or stream.length == 0:
                    stream.close()
                    self.transport.write(self._connection.endResponse())
                else:
                    self._startStreaming(stream)
        log = factory.accessLog
        if log is not None:
            self._logExchange(log, exchange, response.status, sent)

    def _logExchange(
        self, log: Callable[[str], None], exchange: _Exchange, status: int, size: int
    ) -> None:
        request = exchange.request
        line = (
            f"{exchange.method} {request.target.decode('latin-1')} "
            f"HTTP/{request.version.decode('latin-1')}"
        )
        user = exchange.httpRequest.avatarId if exchange.httpRequest is not None else None
        log(formatAccessLogLine(self._logHost(), user, self.factory.logDate(), line, status, size))

    def _logHost(self) -> str:
        return str(getattr(self._peer, "host", "-"))

    def _startStreaming(self, stream: _Stream) -> None:
        self._streaming = stream
        if not self._producerRegistered:
            # A transport (TLS) that did not take the protocol as its
            # producer when the connection was made: take it now, for the
            # file's sake.
            cast(Any, self.transport).registerProducer(self, True)
            stream.registered = True
        self._pump()

    def _pump(self) -> None:
        """
        Write blocks of the file being streamed until the transport says
        its buffer is full (it pauses the protocol) or the file is done.
        """
        stream = self._streaming
        connection = self._connection
        write = self.transport.write
        while stream is not None and not self.paused and not self.closing:
            try:
                block = stream.read()
            except OSError as e:
                _log.error("Reading a file being sent failed: {error}", error=e)
                block = None
            if block is None:
                # The file shrank or failed: the promised length cannot
                # be met, so the client must see the message cut short.
                self._streaming = None
                stream.close()
                self.abortConnection()
                return
            if block:
                write(connection.sendData(block))
            if stream.done:
                self._streaming = None
                stream.close()
                write(connection.endResponse())
                if stream.registered:
                    cast(Any, self.transport).unregisterProducer()
                if not connection.keepAlive and self._mayCloseNow():
                    self._exchanges.clear()
                    self.closeConnection()
                    return
                self._flush()
                return

    def resumeProducing(self) -> None:
        """
        The transport's buffer drained: read again (unless too many answers
        wait) and stream on.
        """
        super().resumeProducing()
        if self._holdingReads:
            cast(Any, self.transport).pauseProducing()
        if self._streaming is not None:
            self.resetIdle()
            self._pump()

    def _holdReads(self) -> None:
        """
        Too many answers wait: stop reading requests until they are sent.
        """
        self._holdingReads = True
        cast(Any, self.transport).pauseProducing()

    def _releaseReads(self) -> None:
        self._holdingReads = False
        if not self.paused:
            cast(Any, self.transport).resumeProducing()

    # Errors and timeouts

    def _refuse(self, error: HTTPError) -> None:
        """
        The wire layer refused the input: answer the earlier requests, then
        the error, then close.
        """
        if self._receiving is not None:
            self._exchanges.remove(self._receiving)
            self._receiving = None
        self._cancelRequestTimer()
        self._error = error
        if self._transcript.enabled:
            self._transcript.note(f"bad request: {error.status} {error.reason}")
        self._flush()

    def _writeError(self, error: HTTPError) -> None:
        data = self._connection.errorResponse(error)
        self.transport.write(data)
        if self._transcript.enabled:
            self._traceResponse(data)
        log = self.factory.accessLog
        if log is not None:
            log(
                formatAccessLogLine(
                    self._logHost(), None, self.factory.logDate(), "-", error.status, 0
                )
            )

    def idleTimedOut(self) -> None:
        """
        Nothing happened for C{idleTimeout} seconds.  A connection that
        still owes answers (a slow handler) is kept; one whose client does
        not read is aborted; an idle one is closed (RFC 9112 section 9.8).
        """
        if self._exchanges and not self.paused and self._streaming is None:
            self.resetIdle()
            return
        if self._transcript.enabled:
            self._transcript.note(f"idle for {self.factory.idleTimeout:g} seconds: closing")
        super().idleTimedOut()

    # Transcripts

    def _traceRequest(self, request: Request) -> None:
        for line in serializeRequestHead(request).split(b"\r\n"):
            if line:
                self._transcript.client(line)

    def _traceResponse(self, data: bytes) -> None:
        head = data.split(b"\r\n\r\n", 1)[0]
        for line in head.split(b"\r\n"):
            self._transcript.server(line)


class _Stream:
    """
    The parts of a body being streamed: bytes, and open files with how
    much of each is left to send.

    @ivar length: the octets of the whole body.
    @ivar done: whether every part was read.
    """

    def __init__(self, parts: list[tuple[bytes | IO[bytes], int]], length: int) -> None:
        self._parts = deque(parts)
        self.length = length
        self.done = not self._parts
        self.registered = False

    @classmethod
    def open(cls, body: FileBody | Sequence[BodyPart]) -> _Stream:
        """
        Open every file of C{body} and measure it now, so the length is
        known before the head is sent.

        @raise OSError: if a file cannot be opened.
        """
        parts: list[tuple[bytes | IO[bytes], int]] = []
        items: Sequence[BodyPart] = [body] if isinstance(body, FileBody) else body
        total = 0
        try:
            for item in items:
                if isinstance(item, bytes):
                    if item:
                        parts.append((item, len(item)))
                        total += len(item)
                    continue
                f = open(item.path, "rb")  # noqa: SIM115 - closed by close()
                parts.append((f, 0))
                size = os.fstat(f.fileno()).st_size
                offset = min(max(item.offset, 0), size)
                length = size - offset if item.length is None else min(item.length, size - offset)
                f.seek(offset)
                parts[-1] = (f, length)
                total += length
        except OSError:
            for part, _ in parts:
                if not isinstance(part, bytes):
                    part.close()
            raise
        return cls(parts, total)

    def read(self) -> bytes | None:
        """
        @return: the next block, C{b""} if a part was empty, or L{None} if
            a file ended before its length.
        """
        part, left = self._parts[0]
        if isinstance(part, bytes):
            self._parts.popleft()
            self.done = not self._parts
            return part
        if left == 0:
            block = b""
        else:
            block = part.read(min(BLOCK_SIZE, left))
            if not block:
                return None
            left -= len(block)
        if left == 0:
            part.close()
            self._parts.popleft()
            self.done = not self._parts
        else:
            self._parts[0] = (part, left)
        return block

    def close(self) -> None:
        """
        Close every file still open.
        """
        for part, _ in self._parts:
            if not isinstance(part, bytes):
                part.close()
        self._parts.clear()


@implementer(IProtocolNegotiationFactory)
class HTTPFactory(ServerFactory[HTTPServerProtocol]):
    """
    Makes an L{HTTPServerProtocol} for every connection, all answered by
    one handler.

    It names C{http/1.1} for ALPN (RFC 7301): with Twisted 26.10 a TLS
    server that names no protocol refuses clients that offer some, as curl
    does.
    """

    protocol = HTTPServerProtocol

    def __init__(
        self,
        handler: Any,
        *,
        limits: Limits | None = None,
        clock: IReactorTime | None = None,
        idleTimeout: float = IDLE_TIMEOUT,
        requestTimeout: float = REQUEST_TIMEOUT,
        accessLog: Callable[[str], None] | None = None,
        allowTrace: bool = False,
        serverName: str = "netref",
    ) -> None:
        """
        @param handler: the L{IHandler} that answers every request.
        @param limits: the wire layer's limits (line and header sizes, body
            size); its defaults when L{None}.
        @param clock: the clock of the timers; the reactor by default.
        @param idleTimeout: seconds a connection may have nothing to do.
        @param requestTimeout: seconds a request's head may take from its
            first octet, and its body may go without progress.
        @param accessLog: called with one Common Log Format line per
            response.
        @param allowTrace: answer TRACE (it echoes the request, credentials
            too, so it is off by default).
        @param serverName: the C{Server} field's value.
        """
        if clock is None:
            from twisted.internet import reactor

            clock = cast(IReactorTime, reactor)
        self.handler = handler
        self.limits = limits
        self.clock = clock
        self.idleTimeout = idleTimeout
        self.requestTimeout = requestTimeout
        self.accessLog = accessLog
        self.allowTrace = allowTrace
        self.serverName = serverName
        self.serverNameBytes = serverName.encode("latin-1")
        self._dateSecond = -1
        self._date = b""
        self._logSecond = -1
        self._logDate = ""

    def acceptableProtocols(self) -> list[bytes]:
        """
        @return: the ALPN protocol ids the server speaks.
        """
        return [b"http/1.1"]

    def dateHeader(self) -> bytes:
        """
        @return: the C{Date} value for now, formatted once per second.
        """
        now = int(self.clock.seconds())
        if now != self._dateSecond:
            self._dateSecond = now
            self._date = httpDate(now).encode("ascii")
        return self._date

    def logDate(self) -> str:
        """
        @return: now, as the access log writes it, formatted once per second.
        """
        now = int(self.clock.seconds())
        if now != self._logSecond:
            self._logSecond = now
            self._logDate = logDate(now)
        return self._logDate
