"""
Loopback tests for L{netref.http.server}: real TCP (and TLS) connections on
127.0.0.1, with raw clients and with netref's own L{HTTPClient}.
"""

from __future__ import annotations

import hashlib
import os
from typing import Any

from twisted.internet import reactor
from twisted.internet.defer import Deferred, DeferredList, inlineCallbacks
from twisted.internet.interfaces import IListeningPort
from twisted.internet.protocol import ClientFactory, Protocol
from twisted.internet.task import deferLater
from twisted.python.failure import Failure
from twisted.python.filepath import FilePath
from twisted.trial.unittest import TestCase
from zope.interface import implementer

from netref.core.tls import DevCertificateAuthority, clientOptions
from netref.http.server import (
    FileBody,
    HTTPFactory,
    HTTPRequest,
    HTTPResponse,
    HTTPServerProtocol,
    IHandler,
    textResponse,
)
from tests.test_http_server import parseResponses


class TrackedProtocol(HTTPServerProtocol):
    """
    A server protocol that says when its connection is gone, so a test can
    wait for every server-side connection to close.
    """

    def connectionLost(self, reason: Any = None) -> None:
        super().connectionLost(reason)
        self.factory.lost.append(self)  # type: ignore[attr-defined]
        waiting, self.factory.waiting = self.factory.waiting, []  # type: ignore[attr-defined]
        for d in waiting:
            d.callback(None)


class TrackedFactory(HTTPFactory):
    protocol = TrackedProtocol

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.made: list[HTTPServerProtocol] = []
        self.lost: list[HTTPServerProtocol] = []
        self.waiting: list[Deferred[None]] = []

    def buildProtocol(self, addr: Any) -> Any:
        protocol = super().buildProtocol(addr)
        self.made.append(protocol)
        return protocol

    @inlineCallbacks
    def allClosed(self) -> Any:
        while len(self.lost) < len(self.made):
            d: Deferred[None] = Deferred()
            self.waiting.append(d)
            yield d


class RawClient(Protocol):
    """
    Writes bytes and keeps everything it reads until the server closes.
    """

    def __init__(self, toSend: bytes) -> None:
        self.toSend = toSend
        self.data = b""
        self.done: Deferred[bytes] = Deferred()
        self.alpn: bytes | None = None

    def connectionMade(self) -> None:
        self.transport.write(self.toSend)

    def dataReceived(self, data: bytes) -> None:
        if self.alpn is None:
            self.alpn = getattr(self.transport, "negotiatedProtocol", None)
        self.data += data

    def connectionLost(self, reason: Failure) -> None:
        self.done.callback(self.data)


def rawExchange(port: int, data: bytes, tls: Any = None) -> tuple[RawClient, Deferred[bytes]]:
    client = RawClient(data)
    factory = ClientFactory.forProtocol(lambda: client)
    if tls is None:
        reactor.connectTCP("127.0.0.1", port, factory)
    else:
        reactor.connectSSL("127.0.0.1", port, factory, tls)
    return client, client.done


@implementer(IHandler)
class DelayedPaths:
    """
    Answers C{/N} after a delay that shrinks as N grows, so that later
    pipelined requests finish first.
    """

    allowedMethods = ("GET",)

    def __init__(self, count: int) -> None:
        self.count = count

    def handle(self, request: HTTPRequest) -> Deferred[HTTPResponse]:
        n = int(request.path[1:])
        body = f"response {n} for {request.path}\n" * (n + 1)
        return deferLater(reactor, (self.count - n) * 0.003, lambda: textResponse(200, body))


@implementer(IHandler)
class Files:
    """
    Serves the one file it is given, as a L{FileBody}; tells whether the
    request came over TLS.
    """

    allowedMethods = ("GET",)

    def __init__(self, path: str) -> None:
        self.path = path
        self.secure: list[bool] = []

    def handle(self, request: HTTPRequest) -> HTTPResponse:
        self.secure.append(request.secure)
        return HTTPResponse(200, body=FileBody(self.path))


class LoopbackTests(TestCase):
    """
    The server on a real loopback socket.
    """

    def listen(self, handler: Any, tls: Any = None, **kwargs: Any) -> tuple[int, TrackedFactory]:
        factory = TrackedFactory(handler, **kwargs)
        port: IListeningPort
        if tls is None:
            port = reactor.listenTCP(0, factory, interface="127.0.0.1")
        else:
            port = reactor.listenSSL(0, factory, tls, interface="127.0.0.1")
        self.addCleanup(factory.allClosed)
        self.addCleanup(port.stopListening)
        return port.getHost().port, factory

    @inlineCallbacks
    def test_pipelinedOrder(self) -> Any:
        """
        Twenty pipelined requests, written at once, whose handlers finish in
        reverse order, are answered in request order, byte for byte.
        """
        count = 20
        port, _ = self.listen(DelayedPaths(count))
        requests = (
            b"".join(f"GET /{i} HTTP/1.1\r\nHost: h\r\n\r\n".encode() for i in range(count - 1))
            + f"GET /{count - 1} HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n".encode()
        )
        _, done = rawExchange(port, requests)
        data = yield done
        responses = parseResponses(data)
        self.assertEqual(
            [r.body for r in responses],
            [(f"response {i} for /{i}\n" * (i + 1)).encode() for i in range(count)],
        )

    def makeFile(self, size: int) -> tuple[str, str]:
        path = self.mktemp()
        with open(path, "wb") as f:
            for _ in range(size // 65536):
                f.write(os.urandom(65536))
        with open(path, "rb") as f:
            return path, hashlib.sha256(f.read()).hexdigest()

    @inlineCallbacks
    def test_largeFile(self) -> Any:
        """
        An 8 MiB file arrives whole, streamed through the transport's
        backpressure, and the pipelined request after it is answered too.
        """
        path, digest = self.makeFile(8 * 2**20)
        port, _ = self.listen(Files(path))
        _, done = rawExchange(
            port,
            b"GET / HTTP/1.1\r\nHost: h\r\n\r\n"
            b"GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
        )
        data = yield done
        responses = parseResponses(data)
        self.assertEqual([hashlib.sha256(r.body).hexdigest() for r in responses], [digest, digest])

    def authority(self) -> DevCertificateAuthority:
        return DevCertificateAuthority(FilePath(self.mktemp()))

    @inlineCallbacks
    def test_https(self) -> Any:
        """
        Over TLS, a client that offers ALPN ids (as curl does) negotiates
        C{http/1.1} from the factory, gets a streamed file whole, and the
        handler sees a secure request.
        """
        ca = self.authority()
        path, digest = self.makeFile(2 * 2**20)
        handler = Files(path)
        port, _ = self.listen(handler, tls=ca.serverOptions(["localhost", "127.0.0.1"]))
        client, done = rawExchange(
            port,
            b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
            tls=clientOptions("localhost", ca.trustRoot(), [b"h2", b"http/1.1"]),
        )
        data = yield done
        [response] = parseResponses(data)
        self.assertEqual(hashlib.sha256(response.body).hexdigest(), digest)
        self.assertEqual(client.alpn, b"http/1.1")
        self.assertEqual(handler.secure, [True])

    @inlineCallbacks
    def test_netrefClient(self) -> Any:
        """
        netref's own client gets answers over one persistent connection.
        """
        from netref.http.client import HTTPClient

        port, factory = self.listen(DelayedPaths(3))
        client = HTTPClient(reactor)
        try:
            first = yield client.request("GET", f"http://127.0.0.1:{port}/1")
            second = yield client.request("GET", f"http://127.0.0.1:{port}/2")
        finally:
            yield client.close()
        self.assertEqual((first.status, first.body), (200, b"response 1 for /1\n" * 2))
        self.assertEqual(second.body, b"response 2 for /2\n" * 3)
        self.assertTrue(second.connectionReused)
        self.assertEqual(len(factory.made), 1)

    @inlineCallbacks
    def test_manyClients(self) -> Any:
        """
        Fifty clients at once each get their own answers.
        """
        port, _ = self.listen(DelayedPaths(50))
        exchanges = [
            rawExchange(
                port, f"GET /{i} HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n".encode()
            )[1]
            for i in range(50)
        ]
        results = yield DeferredList(exchanges)
        for i, (ok, data) in enumerate(results):
            self.assertTrue(ok)
            [response] = parseResponses(data)
            self.assertEqual(response.body, f"response {i} for /{i}\n".encode() * (i + 1))


class EmbeddingExampleTests(TestCase):
    """
    The embedding example of C{docs/http.rst} runs and prints what the page
    says.
    """

    @inlineCallbacks
    def test_embeddingExample(self) -> Any:
        import sys

        from twisted.internet.utils import getProcessOutputAndValue
        from twisted.trial.unittest import SkipTest

        from tests.support import docsPage, embeddingExample

        page = docsPage("http.rst")
        code = embeddingExample(page)
        if code is None:
            raise SkipTest(f"{page} is not here (no source checkout)")
        out, err, status = yield getProcessOutputAndValue(
            sys.executable, ["-c", code], env=dict(os.environ)
        )
        self.assertEqual(status, 0, err)
        self.assertEqual(
            out.decode(), "200 Hello, Alice!\n200 <p>netref</p>\n404 Nothing is here.\n"
        )
