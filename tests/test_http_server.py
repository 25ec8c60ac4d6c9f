"""
Tests for L{netref.http.server}: the HTTP/1.1 server protocol over a
C{StringTransport}, with time on a C{Clock}.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Any

from twisted.internet.address import IPv4Address
from twisted.internet.defer import Deferred
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.trial.unittest import SynchronousTestCase
from zope.interface import implementer

from netref.core.trace import formatTranscriptEvent, setTracing, transcriptPublisher
from netref.http.server import (
    BLOCK_SIZE,
    MAX_PIPELINED,
    FileBody,
    HTTPFactory,
    HTTPRequest,
    HTTPResponse,
    IHandler,
    formatAccessLogLine,
    httpDate,
    logDate,
    splitTarget,
    textResponse,
)
from netref.http.wire import Headers, Limits

PEER = IPv4Address("TCP", "127.0.0.1", 40000)


@dataclass
class ParsedResponse:
    """
    A response as a test reads it off the wire.
    """

    status: int
    reason: str
    headers: dict[str, list[str]]
    body: bytes
    version: str = "HTTP/1.1"

    def header(self, name: str) -> str | None:
        values = self.headers.get(name.lower())
        return ", ".join(values) if values else None


def parseResponses(data: bytes, heads: frozenset[int] = frozenset()) -> list[ParsedResponse]:
    """
    Split what a server wrote into responses: a small, independent reader
    (Content-Length and chunked bodies; 1xx, 204 and 304 without), so the
    tests do not depend on netref's own client parser.

    @param heads: indexes (among final responses) of answers to HEAD.
    @raise AssertionError: on anything malformed.
    """
    responses = []
    finals = 0
    while data:
        end = data.find(b"\r\n\r\n")
        assert end >= 0, f"no end of head in {data[:200]!r}"
        lines = data[:end].decode("latin-1").split("\r\n")
        data = data[end + 4 :]
        match = re.fullmatch(r"(HTTP/1\.[01]) (\d{3}) ?(.*)", lines[0])
        assert match, lines[0]
        headers: dict[str, list[str]] = {}
        for line in lines[1:]:
            name, colon, value = line.partition(":")
            assert colon and name == name.strip(), line
            headers.setdefault(name.lower(), []).append(value.strip())
        status = int(match.group(2))
        body = b""
        informational = status < 200
        if not informational:
            bodyless = status in (204, 304) or finals in heads
            finals += 1
            if bodyless:
                pass
            elif "chunked" in ",".join(headers.get("transfer-encoding", [])):
                while True:
                    lineEnd = data.index(b"\r\n")
                    size = int(data[:lineEnd].split(b";")[0], 16)
                    data = data[lineEnd + 2 :]
                    if size == 0:
                        trailerEnd = data.index(b"\r\n")
                        while trailerEnd != 0:
                            data = data[trailerEnd + 2 :]
                            trailerEnd = data.index(b"\r\n")
                        data = data[2:]
                        break
                    body += data[:size]
                    assert data[size : size + 2] == b"\r\n"
                    data = data[size + 2 :]
            elif "content-length" in headers:
                length = int(headers["content-length"][0])
                assert len(data) >= length, (len(data), length)
                body, data = data[:length], data[length:]
            else:
                body, data = data, b""
        responses.append(ParsedResponse(status, match.group(3), headers, body, match.group(1)))
    return responses


@implementer(IHandler)
class EchoHandler:
    """
    Answers with what it saw; remembers every request.
    """

    allowedMethods = ("GET", "POST", "PUT", "DELETE")

    def __init__(self) -> None:
        self.requests: list[HTTPRequest] = []

    def handle(self, request: HTTPRequest) -> HTTPResponse:
        self.requests.append(request)
        text = f"{request.method} {request.path} {request.query} {request.body!r}"
        return textResponse(200, text)


@implementer(IHandler)
class LaterHandler:
    """
    Answers each request with a Deferred the test fires.
    """

    allowedMethods = ("GET",)

    def __init__(self) -> None:
        self.waiting: list[tuple[HTTPRequest, Deferred[HTTPResponse]]] = []

    def handle(self, request: HTTPRequest) -> Deferred[HTTPResponse]:
        d: Deferred[HTTPResponse] = Deferred()
        self.waiting.append((request, d))
        return d

    def answer(self, index: int) -> None:
        request, d = self.waiting[index]
        d.callback(textResponse(200, f"answer to {request.path}"))


@implementer(IHandler)
class FailingHandler:
    """
    Raises on C{/boom}, fails its Deferred on C{/later}, answers otherwise.
    """

    allowedMethods = ("GET",)

    def handle(self, request: HTTPRequest) -> HTTPResponse | Deferred[HTTPResponse]:
        if request.path == "/boom":
            raise RuntimeError("the handler broke")
        if request.path == "/later":
            d: Deferred[HTTPResponse] = Deferred()
            d.errback(RuntimeError("the handler broke later"))
            return d
        if request.path == "/junk":
            return "not a response"  # type: ignore[return-value]
        return textResponse(200, "fine")


@implementer(IHandler)
class FixedHandler:
    """
    Answers every GET with a given response.
    """

    allowedMethods = ("GET",)

    def __init__(self, make: Any) -> None:
        self.make = make

    def handle(self, request: HTTPRequest) -> HTTPResponse:
        return self.make(request)


class PausingTransport(StringTransport):
    """
    A transport that pauses its streaming producer when more than
    C{high} octets wait unsent, as a TCP transport does.
    """

    def __init__(self, high: int) -> None:
        super().__init__(peerAddress=PEER)
        self.high = high
        self.writes = 0

    def write(self, data: bytes) -> None:
        super().write(data)
        self.writes += 1
        if (
            self.producer is not None
            and self.streaming
            and len(self.io.getvalue()) > self.high
            and self.producerState == "producing"
        ):
            self.producer.pauseProducing()

    def drain(self) -> bytes:
        data = self.value()
        self.clear()
        if self.producer is not None:
            self.producer.resumeProducing()
        return data


@dataclass
class Server:
    """
    One connection to a server under test.
    """

    factory: HTTPFactory
    transport: StringTransport
    clock: Clock
    protocol: Any
    log: list[str] = field(default_factory=list)

    def send(self, data: bytes) -> None:
        self.protocol.dataReceived(data)

    def responses(self, heads: frozenset[int] = frozenset()) -> list[ParsedResponse]:
        data = self.transport.value()
        self.transport.clear()
        return parseResponses(data, heads)


def connect(handler: Any, transport: StringTransport | None = None, **kwargs: Any) -> Server:
    """
    Connect a protocol of a new L{HTTPFactory} to a string transport.
    """
    clock = Clock()
    clock.advance(1_800_000_000)
    log: list[str] = []
    kwargs.setdefault("accessLog", log.append)
    factory = HTTPFactory(handler, clock=clock, **kwargs)
    protocol = factory.buildProtocol(PEER)
    if transport is None:
        transport = StringTransport(peerAddress=PEER)
    protocol.makeConnection(transport)
    return Server(factory, transport, clock, protocol, log)


GET = b"GET /a HTTP/1.1\r\nHost: example.com\r\n\r\n"


class MethodTests(SynchronousTestCase):
    """
    Every method of RFC 9110 section 9 the server deals with.
    """

    def test_get(self) -> None:
        """
        A GET is answered with the handler's response, C{Content-Length},
        C{Date} and C{Server}, and the connection stays open.
        """
        handler = EchoHandler()
        server = connect(handler)
        server.send(b"GET /a%20b?x=1&y=2 HTTP/1.1\r\nHost: example.com\r\n\r\n")
        [response] = server.responses()
        self.assertEqual(response.status, 200)
        self.assertEqual(response.body, b"GET /a b x=1&y=2 b''\n")
        self.assertEqual(response.header("content-length"), str(len(response.body)))
        self.assertEqual(response.header("date"), httpDate(server.clock.seconds()))
        self.assertEqual(response.header("server"), "netref")
        self.assertFalse(server.transport.disconnecting)
        request = handler.requests[0]
        self.assertEqual(request.target, "/a%20b?x=1&y=2")
        self.assertEqual(request.queryArguments(), {"x": ["1"], "y": ["2"]})
        self.assertEqual(request.version, "HTTP/1.1")
        self.assertEqual(request.header("HOST"), "example.com")
        self.assertEqual(request.client, PEER)
        self.assertFalse(request.secure)

    def test_bodies(self) -> None:
        """
        POST, PUT and DELETE reach the handler with their bodies, whether
        sent with Content-Length or chunked.
        """
        handler = EchoHandler()
        server = connect(handler)
        server.send(
            b"POST /form HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello"
            b"PUT /file HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
            b"DELETE /file HTTP/1.1\r\nHost: h\r\n\r\n"
        )
        bodies = [r.body for r in server.responses()]
        self.assertEqual(
            bodies,
            [b"POST /form  b'hello'\n", b"PUT /file  b'abcde'\n", b"DELETE /file  b''\n"],
        )

    def test_bodyInPieces(self) -> None:
        """
        A body that arrives in pieces is collected before the handler runs.
        """
        handler = EchoHandler()
        server = connect(handler)
        server.send(b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 6\r\n\r\nab")
        self.assertEqual(handler.requests, [])
        server.send(b"cd")
        server.send(b"ef")
        self.assertEqual(handler.requests[0].body, b"abcdef")

    def test_methodNotAllowed(self) -> None:
        """
        A method the handler does not list gets 405 with C{Allow} (RFC 9110
        section 15.5.6), and the handler is not called.
        """
        handler = EchoHandler()
        server = connect(handler)
        server.send(b"PATCH /a HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n\r\nx")
        [response] = server.responses()
        self.assertEqual(response.status, 405)
        self.assertEqual(response.header("allow"), "GET, HEAD, POST, PUT, DELETE, OPTIONS")
        self.assertEqual(handler.requests, [])
        self.assertFalse(server.transport.disconnecting)

    def test_options(self) -> None:
        """
        OPTIONS gets 204 with C{Allow} (RFC 9110 section 9.3.7).
        """
        server = connect(EchoHandler())
        server.send(b"OPTIONS /a HTTP/1.1\r\nHost: h\r\n\r\n")
        [response] = server.responses()
        self.assertEqual(response.status, 204)
        self.assertEqual(response.body, b"")
        self.assertEqual(response.header("allow"), "GET, HEAD, POST, PUT, DELETE, OPTIONS")

    def test_optionsAsterisk(self) -> None:
        """
        C{OPTIONS *} asks about the server as a whole (RFC 9112 section
        3.2.4); any other method with C{*} is a bad request.
        """
        server = connect(EchoHandler())
        server.send(b"OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n")
        [response] = server.responses()
        self.assertEqual(response.status, 204)
        self.assertIn("GET", response.header("allow") or "")

    def test_traceOff(self) -> None:
        """
        TRACE is refused by default (it would echo credentials).
        """
        server = connect(EchoHandler())
        server.send(b"TRACE /a HTTP/1.1\r\nHost: h\r\nAuthorization: Basic eDp5\r\n\r\n")
        [response] = server.responses()
        self.assertEqual(response.status, 405)
        self.assertNotIn(b"eDp5", response.body)

    def test_traceOn(self) -> None:
        """
        With C{allowTrace}, TRACE echoes the request as C{message/http}
        (RFC 9110 section 9.3.8).
        """
        server = connect(EchoHandler(), allowTrace=True)
        server.send(b"TRACE /a HTTP/1.1\r\nHost: h\r\nX-Thing: 1\r\n\r\n")
        [response] = server.responses()
        self.assertEqual(response.status, 200)
        self.assertEqual(response.header("content-type"), "message/http")
        self.assertTrue(response.body.startswith(b"TRACE /a HTTP/1.1\r\n"), response.body)
        self.assertIn(b"X-Thing: 1\r\n", response.body)

    def test_head(self) -> None:
        """
        HEAD is answered by the handler as a GET; the answer has the GET's
        fields, C{Content-Length} included, and no body (RFC 9110 section
        9.3.2).  The next response on the connection follows at once.
        """
        handler = EchoHandler()
        server = connect(handler)
        server.send(b"HEAD /a HTTP/1.1\r\nHost: h\r\n\r\n" + GET)
        head, get = server.responses(heads=frozenset([0]))
        self.assertEqual(head.status, 200)
        self.assertEqual(head.body, b"")
        self.assertEqual(head.header("content-length"), get.header("content-length"))
        self.assertEqual([r.method for r in handler.requests], ["GET", "GET"])
        self.assertEqual(server.log[0].split('"')[1], "HEAD /a HTTP/1.1")
        self.assertTrue(server.log[0].endswith(" 200 -"), server.log[0])

    def test_badTarget(self) -> None:
        """
        A path that does not percent-decode as UTF-8, or that decodes to a
        NUL, is refused with 400 before any handler sees it.
        """
        handler = EchoHandler()
        server = connect(handler)
        server.send(b"GET /%ff HTTP/1.1\r\nHost: h\r\n\r\nGET /a%00b HTTP/1.1\r\nHost: h\r\n\r\n")
        self.assertEqual([r.status for r in server.responses()], [400, 400])
        self.assertEqual(handler.requests, [])

    def test_absoluteForm(self) -> None:
        """
        The absolute form of a target is accepted (RFC 9112 section 3.2.2).
        """
        handler = EchoHandler()
        server = connect(handler)
        server.send(b"GET http://example.com/x/y?q HTTP/1.1\r\nHost: example.com\r\n\r\n")
        self.assertEqual(server.responses()[0].status, 200)
        self.assertEqual((handler.requests[0].path, handler.requests[0].query), ("/x/y", "q"))


class SplitTargetTests(SynchronousTestCase):
    """
    L{splitTarget}.
    """

    def test_forms(self) -> None:
        self.assertEqual(splitTarget("/a/b?c=d"), ("/a/b", "c=d"))
        self.assertEqual(splitTarget("/caf%C3%A9"), ("/café", ""))
        self.assertEqual(splitTarget("https://h:8443"), ("/", ""))
        self.assertEqual(splitTarget("*"), ("*", ""))

    def test_refused(self) -> None:
        from netref.http.server import _BadTargetError

        for target in ("a/b", "ftp://h/x", "/%c3", "/%00", "example.com:443"):
            self.assertRaises(_BadTargetError, splitTarget, target)


class PipeliningTests(SynchronousTestCase):
    """
    Persistent connections and pipelining (RFC 9112 section 9.3).
    """

    def test_inOrder(self) -> None:
        """
        Pipelined requests are answered in the order they came, even when
        the handler finishes the later ones first.
        """
        handler = LaterHandler()
        server = connect(handler)
        server.send(b"".join(f"GET /{i} HTTP/1.1\r\nHost: h\r\n\r\n".encode() for i in range(3)))
        self.assertEqual(len(handler.waiting), 3)
        handler.answer(2)
        handler.answer(1)
        self.assertEqual(server.transport.value(), b"")
        handler.answer(0)
        bodies = [r.body for r in server.responses()]
        self.assertEqual(bodies, [b"answer to /0\n", b"answer to /1\n", b"answer to /2\n"])

    def test_holdsReads(self) -> None:
        """
        While more than C{MAX_PIPELINED} answers wait, the server stops
        reading; it reads again once they are sent.
        """
        handler = LaterHandler()
        server = connect(handler)
        count = MAX_PIPELINED + 2
        server.send(GET * count)
        self.assertEqual(server.transport.producerState, "paused")
        for i in range(count):
            handler.answer(i)
        self.assertEqual(server.transport.producerState, "producing")
        self.assertEqual(len(server.responses()), count)

    def test_http10Closes(self) -> None:
        """
        An HTTP/1.0 request without keep-alive ends the connection after its
        answer (RFC 9112 section 9.3); pipelined requests after it are
        not answered.
        """
        handler = EchoHandler()
        server = connect(handler)
        server.send(b"GET /a HTTP/1.0\r\n\r\n" + GET)
        responses = server.responses()
        self.assertEqual([r.status for r in responses], [200])
        self.assertTrue(server.transport.disconnecting)

    def test_http10KeepAlive(self) -> None:
        """
        An HTTP/1.0 request with C{Connection: keep-alive} keeps it open.
        """
        server = connect(EchoHandler())
        server.send(b"GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        [response] = server.responses()
        self.assertEqual(response.status, 200)
        self.assertFalse(server.transport.disconnecting)

    def test_connectionClose(self) -> None:
        """
        C{Connection: close} in an HTTP/1.1 request closes after its answer,
        which says so.
        """
        server = connect(EchoHandler())
        server.send(b"GET /a HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
        [response] = server.responses()
        self.assertEqual(response.header("connection"), "close")
        self.assertTrue(server.transport.disconnecting)

    def test_halfClose(self) -> None:
        """
        A client that half-closes after its requests gets every answer,
        then the connection closes.
        """
        handler = LaterHandler()
        server = connect(handler)
        server.send(GET * 2)
        server.protocol.readConnectionLost()
        self.assertFalse(server.transport.disconnecting)
        handler.answer(0)
        handler.answer(1)
        self.assertEqual(len(server.responses()), 2)
        self.assertTrue(server.transport.disconnecting)


class ContinueTests(SynchronousTestCase):
    """
    C{Expect: 100-continue} (RFC 9110 section 10.1.1).
    """

    HEAD = b"PUT /f HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n"

    def test_continue(self) -> None:
        """
        The server sends C{100 Continue} after the head, then the final
        answer after the body.
        """
        handler = EchoHandler()
        server = connect(handler)
        server.send(self.HEAD)
        self.assertEqual(server.transport.value(), b"HTTP/1.1 100 Continue\r\n\r\n")
        server.transport.clear()
        server.send(b"data")
        [response] = server.responses()
        self.assertEqual(response.body, b"PUT /f  b'data'\n")

    def test_continueWaitsItsTurn(self) -> None:
        """
        Behind a pipelined request still being answered, C{100 Continue}
        waits until the earlier answer is sent.
        """
        handler = LaterHandler()
        handler.allowedMethods = ("GET", "PUT")  # type: ignore[misc]
        server = connect(handler)
        server.send(GET + self.HEAD)
        self.assertEqual(server.transport.value(), b"")
        handler.answer(0)
        interim = server.transport.value()
        self.assertTrue(interim.endswith(b"HTTP/1.1 100 Continue\r\n\r\n"), interim)
        statuses = [r.status for r in parseResponses(interim)]
        self.assertEqual(statuses, [200, 100])

    def test_notWanted(self) -> None:
        """
        A method the handler does not take is answered at once, without
        waiting for the body, and the connection closes.
        """
        server = connect(FixedHandler(lambda r: textResponse(200, "x")))
        server.send(self.HEAD)
        [response] = server.responses()
        self.assertEqual(response.status, 405)
        self.assertEqual(response.header("connection"), "close")
        self.assertTrue(server.transport.disconnecting)

    def test_nothingProcessedAfterEarlyAnswer(self) -> None:
        """
        Requests pipelined after one answered early (with C{Connection:
        close}) are not processed (RFC 9112 section 9.6).
        """
        handler = LaterHandler()
        server = connect(handler)
        server.send(
            GET
            + b"PUT /f HTTP/1.1\r\nHost: h\r\nExpect: teapot\r\nContent-Length: 4\r\n\r\nbody"
            + b"GET /after HTTP/1.1\r\nHost: h\r\n\r\n"
        )
        self.assertEqual([request.path for request, _ in handler.waiting], ["/a"])
        handler.answer(0)
        self.assertEqual([r.status for r in server.responses()], [200, 417])
        self.assertTrue(server.transport.disconnecting)

    def test_unknownExpectation(self) -> None:
        """
        An expectation other than C{100-continue} gets 417.
        """
        server = connect(EchoHandler())
        server.send(b"PUT /f HTTP/1.1\r\nHost: h\r\nExpect: teapot\r\nContent-Length: 4\r\n\r\n")
        [response] = server.responses()
        self.assertEqual(response.status, 417)
        self.assertTrue(server.transport.disconnecting)


class ErrorTests(SynchronousTestCase):
    """
    Refused input, limits and failing handlers.
    """

    def assertRefused(self, server: Server, status: int) -> None:
        responses = server.responses()
        self.assertEqual([r.status for r in responses][-1:], [status])
        self.assertEqual(responses[-1].header("connection"), "close")
        self.assertTrue(server.transport.disconnecting)

    def test_malformed(self) -> None:
        """
        A malformed request gets 400 and the connection closes; nothing
        after it is read.
        """
        handler = EchoHandler()
        server = connect(handler)
        server.send(b"GET / HTTP/1.1\r\nHost: h\r\nBad Header: x\r\n\r\n" + GET)
        self.assertRefused(server, 400)
        self.assertEqual(handler.requests, [])
        server.send(GET)
        self.assertEqual(server.transport.value(), b"")
        self.assertEqual(server.log[-1].split('"')[2], " 400 -")

    def test_errorAfterPending(self) -> None:
        """
        The error answer comes after the answers of the requests before it.
        """
        handler = LaterHandler()
        server = connect(handler)
        server.send(GET + b"GET / HTTP/1.1\r\nHost: h\r\nContent-Length: x\r\n\r\n")
        self.assertEqual(server.transport.value(), b"")
        handler.answer(0)
        responses = server.responses()
        self.assertEqual([r.status for r in responses], [200, 400])
        self.assertTrue(server.transport.disconnecting)

    def test_uriTooLong(self) -> None:
        server = connect(EchoHandler(), limits=Limits(maxRequestLine=100))
        server.send(b"GET /" + b"a" * 200 + b" HTTP/1.1\r\nHost: h\r\n\r\n")
        self.assertRefused(server, 414)

    def test_headersTooLarge(self) -> None:
        server = connect(EchoHandler(), limits=Limits(maxHeaderBytes=200))
        server.send(b"GET / HTTP/1.1\r\nHost: h\r\nX-Big: " + b"a" * 300 + b"\r\n\r\n")
        self.assertRefused(server, 431)

    def test_tooManyHeaders(self) -> None:
        server = connect(EchoHandler(), limits=Limits(maxHeaders=5))
        fields = b"".join(b"X-%d: 1\r\n" % i for i in range(10))
        server.send(b"GET / HTTP/1.1\r\nHost: h\r\n" + fields + b"\r\n")
        self.assertRefused(server, 431)

    def test_bodyTooLarge(self) -> None:
        handler = EchoHandler()
        server = connect(handler, limits=Limits(maxBodyBytes=10))
        server.send(b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\n")
        server.send(b"x" * 11)
        self.assertRefused(server, 413)
        self.assertEqual(handler.requests, [])

    def test_chunkedBodyTooLarge(self) -> None:
        handler = EchoHandler()
        server = connect(handler, limits=Limits(maxBodyBytes=10))
        server.send(b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n")
        server.send(b"8\r\n12345678\r\n8\r\n12345678\r\n0\r\n\r\n")
        self.assertRefused(server, 413)
        self.assertEqual(handler.requests, [])

    def test_handlerRaises(self) -> None:
        """
        A handler that raises gets 500, logged with its traceback, and the
        connection carries on.
        """
        server = connect(FailingHandler())
        server.send(b"GET /boom HTTP/1.1\r\nHost: h\r\n\r\n" + GET)
        self.assertEqual([r.status for r in server.responses()], [500, 200])
        self.assertEqual(len(self.flushLoggedErrors(RuntimeError)), 1)
        self.assertFalse(server.transport.disconnecting)

    def test_handlerFails(self) -> None:
        """
        A handler whose Deferred fails gets 500 too.
        """
        server = connect(FailingHandler())
        server.send(b"GET /later HTTP/1.1\r\nHost: h\r\n\r\n" + GET)
        self.assertEqual([r.status for r in server.responses()], [500, 200])
        self.assertEqual(len(self.flushLoggedErrors(RuntimeError)), 1)

    def test_handlerAnswersJunk(self) -> None:
        """
        A handler that answers with something that is not a response gets 500.
        """
        server = connect(FailingHandler())
        server.send(b"GET /junk HTTP/1.1\r\nHost: h\r\n\r\n")
        self.assertEqual([r.status for r in server.responses()], [500])

    def test_missingFile(self) -> None:
        """
        A L{FileBody} whose file is gone gets 500; the connection carries on.
        """
        path = self.mktemp()
        server = connect(FixedHandler(lambda r: HTTPResponse(200, body=FileBody(path))))
        server.send(GET)
        self.assertEqual([r.status for r in server.responses()], [500])
        self.assertFalse(server.transport.disconnecting)


class TimeoutTests(SynchronousTestCase):
    """
    The idle and slow-client timeouts, on a Clock.
    """

    def test_idle(self) -> None:
        """
        A connection with nothing to do is closed after C{idleTimeout},
        without a word (RFC 9112 section 9.8).
        """
        server = connect(EchoHandler(), idleTimeout=10, requestTimeout=5)
        server.send(GET)
        server.responses()
        server.clock.advance(9.9)
        self.assertFalse(server.transport.disconnecting)
        server.clock.advance(0.2)
        self.assertTrue(server.transport.disconnecting)
        self.assertEqual(server.transport.value(), b"")

    def test_slowHead(self) -> None:
        """
        A head that is not complete C{requestTimeout} seconds after its
        first octet gets 408, then the connection closes, however steadily
        it dribbles.
        """
        server = connect(EchoHandler(), idleTimeout=100, requestTimeout=5)
        for piece in (b"GET / HTTP/1.1\r\n", b"Host: h\r\n", b"X-A: 1\r\n", b"X-B: 2\r\n"):
            server.send(piece)
            server.clock.advance(1.5)
        self.assertTrue(server.transport.disconnecting)
        [response] = server.responses()
        self.assertEqual(response.status, 408)

    def test_slowBody(self) -> None:
        """
        A body that stalls for C{requestTimeout} gets 408; one that keeps
        coming is waited for.
        """
        handler = EchoHandler()
        server = connect(handler, idleTimeout=100, requestTimeout=5)
        server.send(b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n")
        for _ in range(4):
            server.clock.advance(4)
            server.send(b"xx")
        self.assertFalse(server.transport.disconnecting)
        server.clock.advance(5)
        self.assertTrue(server.transport.disconnecting)
        self.assertEqual([r.status for r in server.responses()], [408])
        self.assertEqual(handler.requests, [])

    def test_slowHandlerKept(self) -> None:
        """
        A connection whose answer is still being made is not idle.
        """
        handler = LaterHandler()
        server = connect(handler, idleTimeout=10, requestTimeout=5)
        server.send(GET)
        server.clock.advance(25)
        self.assertFalse(server.transport.disconnecting)
        handler.answer(0)
        self.assertEqual(len(server.responses()), 1)
        server.clock.advance(10)
        self.assertTrue(server.transport.disconnecting)

    def test_noTimerPerRequest(self) -> None:
        """
        A request that arrives whole starts no slow-client timer: only the
        idle timer is pending.
        """
        server = connect(EchoHandler())
        for _ in range(5):
            server.send(GET)
        self.assertEqual(len(server.clock.getDelayedCalls()), 1)

    def test_lostStopsTimers(self) -> None:
        server = connect(EchoHandler())
        server.send(b"GET / HTTP/1.1\r\n")
        server.protocol.connectionLost()
        self.assertEqual(server.clock.getDelayedCalls(), [])


class StreamingTests(SynchronousTestCase):
    """
    Bodies that are files, streamed as the transport drains.
    """

    def makeFile(self, size: int) -> tuple[str, bytes]:
        path = self.mktemp()
        content = os.urandom(size)
        with open(path, "wb") as f:
            f.write(content)
        return path, content

    def test_streamsWithBackpressure(self) -> None:
        """
        A large file is sent in blocks, only as fast as the transport drains
        its buffer, and the next pipelined answer follows it.
        """
        path, content = self.makeFile(5 * BLOCK_SIZE + 123)
        transport = PausingTransport(high=2 * BLOCK_SIZE)
        server = connect(FixedHandler(lambda r: HTTPResponse(body=FileBody(path))), transport)
        server.send(GET + b"GET /a HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
        received = transport.value()
        self.assertLess(len(received), 4 * BLOCK_SIZE)
        transport.clear()
        for _ in range(20):
            if transport.producerState != "paused":
                break
            received += transport.drain()
        received += transport.value()
        responses = parseResponses(received)
        self.assertEqual([r.body for r in responses], [content, content])
        self.assertEqual(server.log[0].split()[-1], str(len(content)))
        self.assertTrue(transport.disconnecting)

    def test_partOfFile(self) -> None:
        path, content = self.makeFile(1000)
        server = connect(FixedHandler(lambda r: HTTPResponse(206, body=FileBody(path, 100, 50))))
        server.send(GET)
        [response] = server.responses()
        self.assertEqual(response.body, content[100:150])
        self.assertEqual(response.header("content-length"), "50")

    def test_parts(self) -> None:
        """
        A body of several parts (as C{multipart/byteranges}) is sent part by
        part with one C{Content-Length} for all.
        """
        path, content = self.makeFile(1000)
        parts = [b"--b\r\n", FileBody(path, 0, 10), b"\r\n--b\r\n", FileBody(path, 990), b"--"]
        server = connect(FixedHandler(lambda r: HTTPResponse(206, body=parts)))
        server.send(GET)
        [response] = server.responses()
        self.assertEqual(
            response.body, b"--b\r\n" + content[:10] + b"\r\n--b\r\n" + content[990:] + b"--"
        )

    def test_headFile(self) -> None:
        """
        HEAD of a file gives its length and reads none of it.
        """
        path, content = self.makeFile(3000)
        server = connect(FixedHandler(lambda r: HTTPResponse(body=FileBody(path))))
        server.send(b"HEAD / HTTP/1.1\r\nHost: h\r\n\r\n" + GET)
        head, get = server.responses(heads=frozenset([0]))
        self.assertEqual(head.header("content-length"), "3000")
        self.assertEqual(get.body, content)

    def test_fileShrinks(self) -> None:
        """
        A file that ends before the length promised in the head cuts the
        connection, so the client sees a truncated message rather than a
        wrong one.
        """
        path, content = self.makeFile(4 * BLOCK_SIZE)
        transport = PausingTransport(high=BLOCK_SIZE)
        connect(FixedHandler(lambda r: HTTPResponse(body=FileBody(path))), transport).send(GET)
        with open(path, "r+b") as f:
            f.truncate(BLOCK_SIZE)
        for _ in range(10):
            if transport.disconnecting:
                break
            transport.drain()
        self.assertTrue(transport.disconnecting)

    def test_closedWhileStreaming(self) -> None:
        """
        A connection lost in the middle of a file closes the file.
        """
        path, content = self.makeFile(4 * BLOCK_SIZE)
        transport = PausingTransport(high=BLOCK_SIZE)
        server = connect(FixedHandler(lambda r: HTTPResponse(body=FileBody(path))), transport)
        server.send(GET)
        stream = server.protocol._streaming
        self.assertIsNotNone(stream)
        server.protocol.connectionLost()
        self.assertEqual(list(stream._parts), [])


class HeaderTests(SynchronousTestCase):
    """
    What the server adds to every response.
    """

    def test_dateCached(self) -> None:
        """
        The C{Date} value is made once per second.
        """
        server = connect(EchoHandler())
        first = server.factory.dateHeader()
        server.clock.advance(0.5)
        self.assertIs(server.factory.dateHeader(), first)
        server.clock.advance(1)
        self.assertNotEqual(server.factory.dateHeader(), first)

    def test_httpDate(self) -> None:
        self.assertEqual(httpDate(784111777), "Sun, 06 Nov 1994 08:49:37 GMT")

    def test_handlerDateKept(self) -> None:
        """
        A handler's own C{Date} and C{Server} are kept.
        """
        headers = Headers([("Date", "Sun, 06 Nov 1994 08:49:37 GMT"), ("Server", "mine")])
        server = connect(FixedHandler(lambda r: HTTPResponse(200, headers, b"x")))
        server.send(GET)
        [response] = server.responses()
        self.assertEqual(response.header("date"), "Sun, 06 Nov 1994 08:49:37 GMT")
        self.assertEqual(response.header("server"), "mine")

    def test_alpn(self) -> None:
        self.assertEqual(HTTPFactory(EchoHandler()).acceptableProtocols(), [b"http/1.1"])


class AccessLogTests(SynchronousTestCase):
    """
    The Common Log Format access log.
    """

    def test_format(self) -> None:
        self.assertEqual(
            formatAccessLogLine(
                "127.0.0.1", "alice", logDate(1795309323), "GET / HTTP/1.1", 200, 1234
            ),
            '127.0.0.1 - alice [22/Nov/2026:01:02:03 +0000] "GET / HTTP/1.1" 200 1234',
        )

    def test_escaped(self) -> None:
        """
        Quotes and control characters in the request line are escaped, so a
        line is always one line.
        """
        line = formatAccessLogLine("h", None, "d", 'GET /"a\nb HTTP/1.1', 404, 0)
        self.assertEqual(line, 'h - - [d] "GET /\\"a\\x0ab HTTP/1.1" 404 -')

    def test_logged(self) -> None:
        server = connect(EchoHandler())
        server.send(b"POST /x?y HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nab")
        [response] = server.responses()
        when = logDate(server.clock.seconds())
        self.assertEqual(
            server.log,
            [f'127.0.0.1 - - [{when}] "POST /x?y HTTP/1.1" 200 {len(response.body)}'],
        )


class TranscriptTests(SynchronousTestCase):
    """
    C{--trace}: the heads of requests and responses as C{C:}/C{S:} lines.
    """

    def test_heads(self) -> None:
        lines: list[str] = []

        def observe(event: dict[str, Any]) -> None:
            text = formatTranscriptEvent(event)
            if text is not None:
                lines.append(text.split("] ", 1)[1])

        transcriptPublisher.addObserver(observe)
        setTracing(True)
        self.addCleanup(setTracing, False)
        self.addCleanup(transcriptPublisher.removeObserver, observe)
        server = connect(EchoHandler())
        server.send(GET)
        self.assertIn("C: GET /a HTTP/1.1", lines)
        self.assertIn("C: Host: example.com", lines)
        self.assertIn("S: HTTP/1.1 200 OK", lines)
        self.assertTrue(any(line.startswith("S: Content-Length: ") for line in lines), lines)


class CloseTests(SynchronousTestCase):
    """
    Closing a connection whose reading is paused.
    """

    def test_closeReadsAgain(self) -> None:
        """
        A graceful close first reads again: a TLS transport closes only
        once it reads the peer's close_notify.
        """
        server = connect(EchoHandler())
        server.protocol.pauseProducing()
        self.assertEqual(server.transport.producerState, "paused")
        server.protocol.closeConnection()
        self.assertEqual(server.transport.producerState, "producing")
        self.assertTrue(server.transport.disconnecting)
