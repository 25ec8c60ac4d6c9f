"""
Tests for L{netref.http.client}: the pool, persistence and recovery,
pipelining, redirects, cookies, chunked uploads, time limits (over
C{iosim} and a L{MemoryReactorClock}), and HTTPS with hostname verification
(over loopback).
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator
from typing import Any

from twisted.internet import defer, reactor
from twisted.internet.defer import Deferred
from twisted.internet.error import ConnectionRefusedError
from twisted.internet.protocol import Protocol, ServerFactory, connectionDone
from twisted.internet.testing import MemoryReactorClock
from twisted.internet.utils import getProcessOutputAndValue
from twisted.python.failure import Failure
from twisted.python.filepath import FilePath
from twisted.test import iosim
from twisted.trial.unittest import SkipTest, SynchronousTestCase, TestCase

from netref.core.tls import DevCertificateAuthority
from netref.core.trace import setTracing, transcriptPublisher
from netref.http.client import (
    BadResponseError,
    ClientClosedError,
    ClientResponse,
    ConnectionLostError,
    HTTPClient,
    HTTPClientError,
    Origin,
    RequestTimeoutError,
    TLSVerificationError,
    TooManyRedirectsError,
    redirectedRequest,
    splitURL,
)
from netref.http.cookies import CookieJar
from netref.http.wire import Headers
from tests.support import docsPage, embeddingExample

URL = "http://www.someschool.edu/"

#: A request line, wherever it starts: a request may follow a body that does
#: not end with CRLF.
_REQUEST_LINE = re.compile(rb"([A-Z]+) (\S+) HTTP/1\.[01]\r\n")


def response(
    status: int = 200,
    body: bytes = b"",
    headers: list[tuple[str, str]] | None = None,
    reason: str = "OK",
    version: str = "1.1",
    length: bool = True,
) -> bytes:
    """
    The bytes of a response, built by hand (not by the module under test).
    """
    lines = [f"HTTP/{version} {status} {reason}"]
    for name, value in headers or []:
        lines.append(f"{name}: {value}")
    if length:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


class ScriptedServer(Protocol):
    """
    A server the test speaks for: it records what it receives, and writes
    what the test tells it to.

    @ivar received: every byte received so far.
    @ivar lost: whether the connection has ended.
    """

    def __init__(self) -> None:
        self.received = b""
        self.lost = False

    def dataReceived(self, data: bytes) -> None:
        self.received += data

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self.lost = True

    def requestLines(self) -> list[tuple[bytes, bytes]]:
        """
        @return: (method, target) of every request line received.
        """
        return [(m.group(1), m.group(2)) for m in _REQUEST_LINE.finditer(self.received)]

    def head(self, index: int = 0) -> Headers:
        """
        @return: the header fields of the C{index}th request received.
        """
        starts = [m.start() for m in _REQUEST_LINE.finditer(self.received)]
        text = self.received[starts[index] :].split(b"\r\n\r\n", 1)[0]
        fields = Headers()
        for line in text.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            fields.add(name, value.strip())
        return fields

    def send(self, data: bytes) -> None:
        assert self.transport is not None
        self.transport.write(data)

    def close(self) -> None:
        assert self.transport is not None
        self.transport.loseConnection()


class Harness:
    """
    An L{HTTPClient} on a L{MemoryReactorClock} whose connections the test
    completes, each to a new L{ScriptedServer}.
    """

    def __init__(self, **kwargs: Any) -> None:
        self.reactor = MemoryReactorClock()
        kwargs.setdefault("idleTimeout", None)
        self.client = HTTPClient(self.reactor, **kwargs)
        self.servers: list[ScriptedServer] = []
        self.pumps: list[iosim.IOPump] = []

    def pendingConnects(self) -> list[tuple[str, int]]:
        return [(host, port) for host, port, *_ in self.reactor.tcpClients]

    def accept(self) -> ScriptedServer:
        """
        Complete the oldest pending connection attempt.
        """
        host, port, factory, timeout, bindAddress = self.reactor.tcpClients.pop(0)
        client = factory.buildProtocol(None)
        server = ScriptedServer()
        pump = iosim.connect(
            server,
            iosim.makeFakeServer(server),
            client,
            iosim.makeFakeClient(client),
            greet=False,
            clock=self.reactor,
        )
        self.servers.append(server)
        self.pumps.append(pump)
        pump.flush()
        return server

    def refuse(self) -> None:
        host, port, factory, *_ = self.reactor.tcpClients.pop(0)
        factory.clientConnectionFailed(None, Failure(ConnectionRefusedError()))

    def flush(self) -> None:
        for pump in self.pumps:
            pump.flush()


def result(d: Deferred[Any]) -> Any:
    """
    @return: the result C{d} already has.
    """
    results: list[Any] = []

    def keep(value: Any) -> Any:
        results.append(value)
        return value

    d.addBoth(keep)
    assert results, "the Deferred has no result yet"
    if isinstance(results[0], Failure):
        # Keep the failure from being reported as unhandled: the caller
        # sees it raised here.
        d.addErrback(lambda _: None)
    if isinstance(results[0], Failure):
        results[0].raiseException()
    return results[0]


class URLTests(SynchronousTestCase):
    """
    Origins and request-targets from URLs (RFC 9110 section 4.3.1, RFC 9112
    section 3.2).
    """

    def test_origin(self) -> None:
        self.assertEqual(
            splitURL("http://WWW.someschool.edu/somedir/page.html?x=1#top"),
            (Origin("http", "www.someschool.edu", 80), "/somedir/page.html?x=1"),
        )

    def test_defaultPathAndPorts(self) -> None:
        self.assertEqual(splitURL("https://a.example"), (Origin("https", "a.example", 443), "/"))
        self.assertEqual(Origin("http", "a.example", 80).hostHeader(), "a.example")
        self.assertEqual(Origin("http", "a.example", 8080).hostHeader(), "a.example:8080")
        self.assertEqual(Origin("http", "::1", 8080).hostHeader(), "[::1]:8080")

    def test_nonASCIIPath(self) -> None:
        """
        A path with characters outside ASCII is sent percent-encoded as
        UTF-8 (RFC 3986 section 2.1).
        """
        h = Harness()
        h.client.get("http://a.example/caf\u00e9?q=\u00fc")
        self.assertEqual(h.accept().requestLines(), [(b"GET", b"/caf%C3%A9?q=%C3%BC")])

    def test_badURLs(self) -> None:
        for url in ("ftp://a.example/", "http:///x", "/relative", "http://a:99999/"):
            self.assertRaises(HTTPClientError, splitURL, url)


class PoolTests(SynchronousTestCase):
    """
    Persistent connections: reuse, queueing, the per-origin limit, and what
    happens when the server ends a connection (RFC 9112 section 9).
    """

    def test_requestFraming(self) -> None:
        """
        A GET is the textbook's request message: request line, Host first,
        User-Agent, the empty line.
        """
        h = Harness()
        d = h.client.get("http://www.someschool.edu/somedir/page.html")
        self.assertEqual(h.pendingConnects(), [("www.someschool.edu", 80)])
        server = h.accept()
        self.assertTrue(
            server.received.startswith(
                b"GET /somedir/page.html HTTP/1.1\r\nHost: www.someschool.edu\r\n"
            )
        )
        self.assertIn(b"\r\nUser-Agent: netref/", server.received)
        self.assertTrue(server.received.endswith(b"\r\n\r\n"))
        server.send(response(body=b"<html></html>", headers=[("Content-Type", "text/html")]))
        h.flush()
        r = result(d)
        self.assertEqual((r.status, r.reason, r.version), (200, "OK", "HTTP/1.1"))
        self.assertEqual(r.body, b"<html></html>")
        self.assertEqual(r.header("content-type"), "text/html")
        self.assertEqual(r.url, "http://www.someschool.edu/somedir/page.html")
        self.assertFalse(r.connectionReused)

    def test_reuse(self) -> None:
        """
        A second request to the same origin goes over the first one's
        connection once it is idle.
        """
        h = Harness()
        first = h.client.get(URL + "a")
        server = h.accept()
        server.send(response(body=b"a"))
        h.flush()
        self.assertFalse(result(first).connectionReused)
        second = h.client.get(URL + "b")
        self.assertEqual(h.pendingConnects(), [])
        h.flush()
        self.assertEqual(server.requestLines(), [(b"GET", b"/a"), (b"GET", b"/b")])
        server.send(response(body=b"b"))
        h.flush()
        r = result(second)
        self.assertEqual(r.body, b"b")
        self.assertTrue(r.connectionReused)
        self.assertIsNone(r.timings.connectStart)
        self.assertEqual(h.client.connectionCount(), 1)

    def test_queueAtMaxConnections(self) -> None:
        """
        With every allowed connection busy, a request waits, then takes the
        first connection to become idle.
        """
        h = Harness(maxConnectionsPerOrigin=2)
        ds = [h.client.get(URL + name) for name in ("1", "2", "3")]
        self.assertEqual(len(h.pendingConnects()), 2)
        one, two = h.accept(), h.accept()
        self.assertEqual(one.requestLines(), [(b"GET", b"/1")])
        self.assertEqual(two.requestLines(), [(b"GET", b"/2")])
        two.send(response(body=b"two"))
        h.flush()
        self.assertEqual(result(ds[1]).body, b"two")
        self.assertEqual(two.requestLines(), [(b"GET", b"/2"), (b"GET", b"/3")])
        self.assertEqual(h.pendingConnects(), [])
        one.send(response(body=b"one"))
        two.send(response(body=b"three"))
        h.flush()
        self.assertEqual(result(ds[0]).body, b"one")
        self.assertTrue(result(ds[2]).connectionReused)
        self.assertEqual(result(ds[2]).body, b"three")

    def test_limitIsPerOrigin(self) -> None:
        """
        Each origin (scheme, host, port) has its own connections.
        """
        h = Harness(maxConnectionsPerOrigin=1)
        h.client.get("http://a.example/")
        h.client.get("http://b.example/")
        h.client.get("http://a.example:8080/")
        h.client.get("http://a.example/again")
        self.assertEqual(
            h.pendingConnects(), [("a.example", 80), ("b.example", 80), ("a.example", 8080)]
        )

    def test_staleConnectionRetried(self) -> None:
        """
        When a reused connection ends before any byte of the response, an
        idempotent request is sent again on a new connection (RFC 9112
        section 9.3.1).
        """
        h = Harness()
        first = h.client.get(URL)
        server = h.accept()
        server.send(response(body=b"first"))
        h.flush()
        result(first)
        second = h.client.get(URL + "again")
        h.flush()
        server.close()
        h.flush()
        self.assertNoResult(second)
        self.assertEqual(h.pendingConnects(), [("www.someschool.edu", 80)])
        fresh = h.accept()
        self.assertEqual(fresh.requestLines(), [(b"GET", b"/again")])
        fresh.send(response(body=b"second"))
        h.flush()
        r = result(second)
        self.assertEqual(r.body, b"second")
        self.assertFalse(r.connectionReused)

    def test_staleNotRetriedForPOST(self) -> None:
        """
        A POST is not idempotent: it is not sent again, the caller hears
        that the connection ended.
        """
        h = Harness()
        first = h.client.get(URL)
        server = h.accept()
        server.send(response())
        h.flush()
        result(first)
        post = h.client.request("POST", URL + "form", body=b"x=1")
        h.flush()
        server.close()
        h.flush()
        self.assertEqual(h.pendingConnects(), [])
        failure = self.failureResultOf(post, ConnectionLostError)
        self.assertIn("not retried", failure.getErrorMessage())

    def test_retriedOnlyOnce(self) -> None:
        """
        A retried request whose new connection also ends without a response
        fails.
        """
        h = Harness()
        first = h.client.get(URL)
        server = h.accept()
        server.send(response())
        h.flush()
        result(first)
        second = h.client.get(URL)
        h.flush()
        server.close()
        h.flush()
        fresh = h.accept()
        fresh.close()
        h.flush()
        self.failureResultOf(second, ConnectionLostError)
        self.assertEqual(h.pendingConnects(), [])

    def test_partialResponseNotRetried(self) -> None:
        """
        Once bytes of the response arrived, a lost connection is an error
        (the request may have had its effect), never a silent retry.
        """
        h = Harness()
        d = h.client.get(URL)
        server = h.accept()
        server.send(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly part")
        h.flush()
        server.close()
        h.flush()
        self.failureResultOf(d, ConnectionLostError)
        self.assertEqual(h.pendingConnects(), [])

    def test_idleConnectionClosedByServer(self) -> None:
        """
        An idle connection the server closes leaves the pool; the next
        request opens a new one.
        """
        h = Harness()
        d = h.client.get(URL)
        server = h.accept()
        server.send(response())
        h.flush()
        result(d)
        server.close()
        h.flush()
        self.assertEqual(h.client.connectionCount(), 0)
        h.client.get(URL)
        self.assertEqual(len(h.pendingConnects()), 1)

    def test_connectionCloseHonoured(self) -> None:
        """
        A response with C{Connection: close} ends its connection (RFC 9112
        section 9.6); the next request gets a new one.
        """
        h = Harness()
        d = h.client.get(URL)
        server = h.accept()
        server.send(response(body=b"bye", headers=[("Connection", "close")]))
        h.flush()
        self.assertEqual(result(d).body, b"bye")
        self.assertTrue(server.lost)
        h.client.get(URL)
        self.assertEqual(len(h.pendingConnects()), 1)

    def test_http10CloseDelimited(self) -> None:
        """
        An HTTP/1.0 response without Content-Length ends when the server
        closes (RFC 9112 section 6.3), and its connection is not reused.
        """
        h = Harness()
        d = h.client.get(URL)
        server = h.accept()
        server.send(response(body=b"old ", version="1.0", length=False))
        h.flush()
        self.assertNoResult(d)
        server.send(b"server")
        server.close()
        h.flush()
        r = result(d)
        self.assertEqual((r.version, r.body), ("HTTP/1.0", b"old server"))
        self.assertEqual(h.client.connectionCount(), 0)

    def test_nonPersistent(self) -> None:
        """
        Without persistence every request says C{Connection: close} and has
        its own connection, one after the other with one allowed.
        """
        h = Harness(persistent=False, maxConnectionsPerOrigin=1)
        first, second = h.client.get(URL + "1"), h.client.get(URL + "2")
        self.assertEqual(len(h.pendingConnects()), 1)
        one = h.accept()
        self.assertEqual(one.head().get("connection"), b"close")
        self.assertEqual(one.requestLines(), [(b"GET", b"/1")])
        one.send(response(body=b"1"))
        h.flush()
        self.assertEqual(result(first).body, b"1")
        self.assertTrue(one.lost)
        two = h.accept()
        self.assertEqual(two.requestLines(), [(b"GET", b"/2")])
        two.send(response(body=b"2"))
        h.flush()
        self.assertFalse(result(second).connectionReused)

    def test_connectionRefused(self) -> None:
        """
        A refused connection fails the waiting requests with the reason.
        """
        h = Harness()
        d = h.client.get("http://www.someschool.edu:8080/")
        h.refuse()
        failure = self.failureResultOf(d, HTTPClientError)
        self.assertIn("cannot connect to http://www.someschool.edu:8080", str(failure.value))

    def test_allAttemptsRefused(self) -> None:
        """
        When every attempt is refused, the waiting requests fail and no
        attempt is made again in a loop; a later request tries anew.
        """
        h = Harness(maxConnectionsPerOrigin=3)
        ds = [h.client.get(URL) for _ in range(4)]
        self.assertEqual(len(h.pendingConnects()), 3)
        h.refuse()
        h.refuse()
        self.assertEqual(len(h.pendingConnects()), 1)
        self.assertNoResult(ds[0])
        h.refuse()
        for d in ds:
            self.failureResultOf(d, HTTPClientError)
        self.assertEqual(h.pendingConnects(), [])
        h.client.get(URL)
        self.assertEqual(len(h.pendingConnects()), 1)

    def test_refusedWhileOneIsOpen(self) -> None:
        """
        A refused attempt leaves the waiting requests to the connection
        that is open.
        """
        h = Harness(maxConnectionsPerOrigin=2)
        first = h.client.get(URL + "1")
        server = h.accept()
        second, third = h.client.get(URL + "2"), h.client.get(URL + "3")
        h.refuse()
        self.assertEqual(h.pendingConnects(), [])
        server.send(response(body=b"1"))
        h.flush()
        server.send(response(body=b"2"))
        h.flush()
        server.send(response(body=b"3"))
        h.flush()
        self.assertEqual([result(d).body for d in (first, second, third)], [b"1", b"2", b"3"])

    def test_head(self) -> None:
        """
        A response to HEAD has no body whatever its Content-Length (RFC
        9110 section 9.3.2), and the connection stays usable.
        """
        h = Harness()
        d = h.client.request("HEAD", URL)
        server = h.accept()
        server.send(b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n")
        h.flush()
        r = result(d)
        self.assertEqual((r.status, r.body, r.header("content-length")), (200, b"", "5000"))
        again = h.client.get(URL)
        h.flush()
        server.send(response(body=b"x"))
        h.flush()
        self.assertTrue(result(again).connectionReused)

    def test_informationalSkipped(self) -> None:
        """
        A 1xx interim response is kept aside; the final response answers.
        """
        h = Harness()
        d = h.client.get(URL)
        server = h.accept()
        server.send(b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n" + response(body=b"x"))
        h.flush()
        r = result(d)
        self.assertEqual((r.status, r.body), (200, b"x"))
        self.assertEqual([i.status for i in r.informational], [103])

    def test_badResponse(self) -> None:
        """
        Bytes that are not a response fail the request and end the
        connection.
        """
        h = Harness()
        d = h.client.get(URL)
        server = h.accept()
        server.send(b"SSH-2.0-OpenSSH_9.6\r\n\r\n")
        h.flush()
        self.failureResultOf(d, BadResponseError)
        self.assertTrue(server.lost)

    def test_timings(self) -> None:
        """
        Each phase is timed on the reactor's clock.
        """
        h = Harness()
        d = h.client.get(URL)
        h.reactor.advance(0.1)
        server = h.accept()
        h.reactor.advance(0.2)
        server.send(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nab")
        h.flush()
        h.reactor.advance(0.3)
        server.send(b"cd")
        h.flush()
        t = result(d).timings
        self.assertEqual(t.queued, 0)
        self.assertEqual(t.connectStart, 0)
        self.assertAlmostEqual(t.connectDone or 0, 0.1)
        self.assertAlmostEqual(t.requestSent or 0, 0.1)
        self.assertAlmostEqual(t.firstByte or 0, 0.3)
        self.assertAlmostEqual(t.lastByte or 0, 0.6)
        self.assertIsNone(t.tlsDone)
        self.assertEqual(
            [name for name, _ in t.phases()],
            ["connectStart", "connectDone", "requestSent", "firstByte", "lastByte"],
        )

    def test_close(self) -> None:
        """
        L{HTTPClient.close} ends every connection, fails what waits, and
        fires once the connections are gone.
        """
        h = Harness(maxConnectionsPerOrigin=1)
        busy = h.client.get(URL)
        waiting = h.client.get(URL)
        h.accept()
        closed = h.client.close()
        self.failureResultOf(waiting, ClientClosedError)
        self.assertNoResult(closed)
        h.flush()
        self.assertIsNone(result(closed))
        self.failureResultOf(busy, ConnectionLostError)
        self.failureResultOf(h.client.get(URL), ClientClosedError)

    def test_closeDoesNotRetry(self) -> None:
        """
        A request on a reused connection that L{HTTPClient.close} ends is
        not sent again on a new connection.
        """
        h = Harness()
        first = h.client.get(URL)
        server = h.accept()
        server.send(response())
        h.flush()
        result(first)
        second = h.client.get(URL)
        h.flush()
        closed = h.client.close()
        h.flush()
        self.assertIsNone(result(closed))
        self.failureResultOf(second, ClientClosedError)
        self.assertEqual(h.pendingConnects(), [])

    def test_idleTimeout(self) -> None:
        """
        The client closes a connection idle for C{idleTimeout} seconds.
        """
        h = Harness(idleTimeout=5)
        d = h.client.get(URL)
        server = h.accept()
        server.send(response())
        h.flush()
        result(d)
        h.reactor.advance(4)
        h.flush()
        self.assertFalse(server.lost)
        h.reactor.advance(1)
        h.flush()
        self.assertTrue(server.lost)
        self.assertEqual(h.client.connectionCount(), 0)


class PipeliningTests(SynchronousTestCase):
    """
    Pipelining (RFC 9112 section 9.3.2): requests written before earlier
    responses arrive, answered in order.
    """

    def primed(self) -> tuple[Harness, ScriptedServer]:
        """
        A pipelining client whose one connection has shown that the server
        keeps connections open.
        """
        h = Harness(pipelining=True, maxConnectionsPerOrigin=1)
        d = h.client.get(URL)
        server = h.accept()
        server.send(response(body=b"base"))
        h.flush()
        result(d)
        return h, server

    def test_notBeforePersistenceIsKnown(self) -> None:
        """
        Until the first response shows the server keeps connections, one
        request at a time.
        """
        h = Harness(pipelining=True, maxConnectionsPerOrigin=1)
        ds = [h.client.get(URL + str(i)) for i in range(3)]
        server = h.accept()
        self.assertEqual(len(server.requestLines()), 1)
        server.send(response(body=b"0"))
        h.flush()
        self.assertEqual(len(server.requestLines()), 3)
        server.send(response(body=b"1") + response(body=b"2"))
        h.flush()
        self.assertEqual([result(d).body for d in ds], [b"0", b"1", b"2"])

    def test_pipelinedInOrder(self) -> None:
        """
        Requests go out back to back; responses, arriving in one burst, are
        given to their requests in order.
        """
        h, server = self.primed()
        ds = [h.client.get(URL + f"img{i}.jpg") for i in range(4)]
        h.flush()
        self.assertEqual(
            server.requestLines()[1:], [(b"GET", f"/img{i}.jpg".encode()) for i in range(4)]
        )
        server.send(b"".join(response(body=f"image {i}".encode()) for i in range(4)))
        h.flush()
        self.assertEqual([result(d).body for d in ds], [f"image {i}".encode() for i in range(4)])
        self.assertTrue(all(result(d).connectionReused for d in ds))

    def test_onlyIdempotent(self) -> None:
        """
        A POST waits for the connection to be idle.
        """
        h, server = self.primed()
        get = h.client.get(URL + "a")
        post = h.client.request("POST", URL + "b", body=b"x")
        h.flush()
        self.assertEqual(server.requestLines()[1:], [(b"GET", b"/a")])
        server.send(response(body=b"a"))
        h.flush()
        result(get)
        self.assertEqual(server.requestLines()[1:], [(b"GET", b"/a"), (b"POST", b"/b")])
        server.send(response(body=b"b"))
        h.flush()
        self.assertEqual(result(post).body, b"b")

    def test_unansweredRetried(self) -> None:
        """
        When a pipelined connection ends after answering some requests, the
        unanswered ones are sent again on a fresh connection.
        """
        h, server = self.primed()
        ds = [h.client.get(URL + str(i)) for i in range(3)]
        h.flush()
        server.send(response(body=b"0"))
        server.close()
        h.flush()
        self.assertEqual(result(ds[0]).body, b"0")
        fresh = h.accept()
        self.assertEqual(fresh.requestLines()[:1], [(b"GET", b"/1")])
        fresh.send(response(body=b"1"))
        h.flush()
        self.assertEqual(fresh.requestLines(), [(b"GET", b"/1"), (b"GET", b"/2")])
        fresh.send(response(body=b"2"))
        h.flush()
        self.assertEqual([result(d).body for d in ds], [b"0", b"1", b"2"])

    def test_badResponseAfterGoodOne(self) -> None:
        """
        A good response and a malformed one in the same packet: the first
        is delivered, the second fails, and the request behind them goes
        on a new connection.
        """
        h, server = self.primed()
        ds = [h.client.get(URL + str(i)) for i in range(3)]
        h.flush()
        server.send(response(body=b"0") + b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n")
        h.flush()
        self.assertEqual(result(ds[0]).body, b"0")
        self.failureResultOf(ds[1], BadResponseError)
        self.assertTrue(server.lost)
        fresh = h.accept()
        self.assertEqual(fresh.requestLines(), [(b"GET", b"/2")])

    def test_connectionCloseRequeues(self) -> None:
        """
        Requests pipelined behind a response that says C{Connection: close}
        were never read by the server: they go on a new connection.
        """
        h, server = self.primed()
        ds = [h.client.get(URL + str(i)) for i in range(3)]
        h.flush()
        server.send(response(body=b"0", headers=[("Connection", "close")]))
        h.flush()
        self.assertTrue(server.lost)
        fresh = h.accept()
        self.assertEqual(fresh.requestLines(), [(b"GET", b"/1")])
        fresh.send(response(body=b"1"))
        h.flush()
        fresh.send(response(body=b"2"))
        h.flush()
        self.assertEqual([result(d).body for d in ds], [b"0", b"1", b"2"])


class RedirectTests(SynchronousTestCase):
    """
    Redirects (RFC 9110 section 15.4).
    """

    def redirect(
        self, status: int, method: str, body: bytes | None, **kwargs: Any
    ) -> tuple[ClientResponse, ScriptedServer]:
        h = Harness(**kwargs)
        d = h.client.request(method, URL + "old", body=body)
        server = h.accept()
        server.send(response(status, headers=[("Location", "/new")], reason="Moved"))
        h.flush()
        server.send(response(body=b"here"))
        h.flush()
        return result(d), server

    def test_eachCode(self) -> None:
        """
        303 turns anything but HEAD into a GET without body; 301 and 302
        turn a POST into a GET; 307 and 308 keep method and body.
        """
        expected = {
            301: (b"GET", False),
            302: (b"GET", False),
            303: (b"GET", False),
            307: (b"POST", True),
            308: (b"POST", True),
        }
        for status, (method, keepsBody) in expected.items():
            r, server = self.redirect(status, "POST", b"x=1")
            self.assertEqual(server.requestLines(), [(b"POST", b"/old"), (method, b"/new")])
            second = server.head(1)
            self.assertEqual("content-length" in second, keepsBody, status)
            self.assertEqual(server.received.endswith(b"\r\n\r\nx=1"), keepsBody, status)
            self.assertEqual(r.url, URL + "new")
            self.assertEqual([h.status for h in r.history], [status])

    def test_putKeptBy301(self) -> None:
        """
        301 and 302 change only POST; a PUT is sent again as it was.
        """
        r, server = self.redirect(301, "PUT", b"data")
        self.assertEqual(server.requestLines(), [(b"PUT", b"/old"), (b"PUT", b"/new")])
        self.assertTrue(server.received.endswith(b"data"))

    def test_headStaysHeadOn303(self) -> None:
        method, body, headers = redirectedRequest(303, "HEAD", None, Headers())
        self.assertEqual(method, "HEAD")

    def test_notFollowed(self) -> None:
        """
        With C{followRedirects=False} the redirect is the response.
        """
        h = Harness(followRedirects=False)
        d = h.client.get(URL)
        h.accept().send(response(302, headers=[("Location", "/x")], reason="Found"))
        h.flush()
        self.assertEqual(result(d).status, 302)

    def test_limit(self) -> None:
        """
        A redirect loop ends after C{maxRedirects}.
        """
        h = Harness(maxRedirects=2)
        d = h.client.get(URL)
        server = h.accept()
        for _ in range(3):
            server.send(response(302, headers=[("Location", "/loop")], reason="Found"))
            h.flush()
        self.failureResultOf(d, TooManyRedirectsError)
        self.assertEqual(len(server.requestLines()), 3)

    def test_crossOriginDropsAuthorization(self) -> None:
        """
        Credentials meant for one origin are not sent to another.
        """
        h = Harness()
        d = h.client.get(URL, headers={"Authorization": "Basic YTpi", "X-Other": "kept"})
        server = h.accept()
        server.send(response(301, headers=[("Location", "http://other.example/x")]))
        h.flush()
        self.assertEqual(server.head(0).get("authorization"), b"Basic YTpi")
        other = h.accept()
        fields = other.head(0)
        self.assertNotIn("authorization", fields)
        self.assertEqual(fields.get("host"), b"other.example")
        self.assertEqual(fields.get("x-other"), b"kept")
        other.send(response(body=b"ok"))
        h.flush()
        self.assertEqual(result(d).url, "http://other.example/x")

    def test_streamedBodyNotResent(self) -> None:
        """
        A 307 asks for the body again; a one-shot iterator cannot give it.
        """
        h = Harness()
        d = h.client.request("POST", URL, body=iter([b"abc"]))
        server = h.accept()
        server.send(response(307, headers=[("Location", "/x")]))
        h.flush()
        self.failureResultOf(d, HTTPClientError)


class CookieTests(SynchronousTestCase):
    """
    The cookie jar across requests and redirects (RFC 6265).
    """

    def test_acrossRequests(self) -> None:
        """
        A cookie set by one response goes with the next request to the
        same site, not to another.
        """
        h = Harness()
        h.client.cookieJar = CookieJar(clock=h.reactor)
        d = h.client.get("http://www.amazon.com/")
        server = h.accept()
        server.send(response(headers=[("Set-Cookie", "id=1678; Path=/")]))
        h.flush()
        result(d)
        self.assertNotIn("cookie", server.head(0))
        h.client.get("http://www.amazon.com/books")
        h.flush()
        self.assertEqual(server.head(1).get("cookie"), b"id=1678")
        h.client.get("http://www.other.com/")
        self.assertNotIn("cookie", h.accept().head(0))

    def test_acrossRedirects(self) -> None:
        """
        A cookie set by a redirect goes with the redirected request; the
        jar, not the caller's Cookie field, speaks to another origin.
        """
        h = Harness()
        h.client.cookieJar = CookieJar(clock=h.reactor)
        d = h.client.get("http://www.amazon.com/login", headers={"Cookie": "mine=1"})
        server = h.accept()
        server.send(
            response(
                302,
                headers=[
                    ("Set-Cookie", "session=abc; Path=/"),
                    ("Location", "http://shop.example/cart"),
                ],
            )
        )
        h.flush()
        self.assertEqual(server.head(0).get("cookie"), b"mine=1")
        shop = h.accept()
        self.assertNotIn("cookie", shop.head(0))
        shop.send(response(headers=[("Set-Cookie", "cart=2")]))
        h.flush()
        result(d)
        h.client.get("http://www.amazon.com/")
        h.flush()
        self.assertEqual(server.head(1).get("cookie"), b"session=abc")


class UploadTests(SynchronousTestCase):
    """
    Request bodies: Content-Length or chunked (RFC 9112 sections 6 and 7.1).
    """

    def test_bytesBody(self) -> None:
        h = Harness()
        h.client.request("PUT", URL + "f", body=b"hello")
        server = h.accept()
        self.assertEqual(server.head().get("content-length"), b"5")
        self.assertTrue(server.received.endswith(b"\r\n\r\nhello"))

    def test_fileBody(self) -> None:
        import io

        h = Harness()
        h.client.request("PUT", URL + "f", body=io.BytesIO(b"from a file"))
        server = h.accept()
        self.assertEqual(server.head().get("content-length"), b"11")
        self.assertTrue(server.received.endswith(b"\r\n\r\nfrom a file"))

    def test_failingBodySource(self) -> None:
        """
        A body iterator that raises fails its request, not the pool.
        """

        def pieces() -> Iterator[bytes]:
            yield b"abc"
            raise OSError("disk on fire")

        h = Harness()
        d = h.client.request("POST", URL, body=pieces())
        server = h.accept()
        failure = self.failureResultOf(d, HTTPClientError)
        self.assertIn("disk on fire", failure.getErrorMessage())
        self.assertTrue(server.lost)
        self.assertEqual(server.received, b"")

    def test_chunkedFraming(self) -> None:
        """
        An iterable body goes chunked: each non-empty piece a chunk, then
        the last chunk (an empty piece must not end the body early).
        """

        def pieces() -> Iterator[bytes]:
            yield b"abc"
            yield b""
            yield b"0123456789abcdef!"

        h = Harness()
        d = h.client.request("POST", URL + "upload", body=pieces())
        server = h.accept()
        fields = server.head()
        self.assertEqual(fields.get("transfer-encoding"), b"chunked")
        self.assertNotIn("content-length", fields)
        body = server.received.split(b"\r\n\r\n", 1)[1]
        self.assertEqual(body.lower(), b"3\r\nabc\r\n11\r\n0123456789abcdef!\r\n0\r\n\r\n")
        server.send(response(201, reason="Created"))
        h.flush()
        self.assertEqual(result(d).status, 201)


class TimeoutTests(SynchronousTestCase):
    """
    Per-request time limits, on the reactor's clock.
    """

    def test_noResponse(self) -> None:
        h = Harness(timeout=10)
        d = h.client.get(URL)
        server = h.accept()
        h.reactor.advance(9.9)
        self.assertNoResult(d)
        h.reactor.advance(0.1)
        h.flush()
        self.failureResultOf(d, RequestTimeoutError)
        self.assertTrue(server.lost)

    def test_whileQueued(self) -> None:
        h = Harness(timeout=10, maxConnectionsPerOrigin=1)
        connecting = h.client.get(URL)
        h.reactor.advance(5)
        waiting = h.client.get(URL)
        h.reactor.advance(5)
        self.failureResultOf(connecting, RequestTimeoutError)
        self.assertNoResult(waiting)
        h.reactor.advance(5)
        self.failureResultOf(waiting, RequestTimeoutError)

    def test_cancel(self) -> None:
        h = Harness()
        d = h.client.get(URL)
        server = h.accept()
        d.cancel()
        h.flush()
        self.failureResultOf(d, defer.CancelledError)
        self.assertTrue(server.lost)


class TraceTests(SynchronousTestCase):
    """
    With tracing on, the request and response heads are transcript lines.
    """

    def test_lines(self) -> None:
        events: list[dict[str, Any]] = []
        transcriptPublisher.addObserver(events.append)
        setTracing(True)
        self.addCleanup(setTracing, False)
        self.addCleanup(transcriptPublisher.removeObserver, events.append)
        h = Harness()
        d = h.client.get(URL)
        h.accept().send(response(body=b"hi\n", headers=[("Content-Type", "text/plain")]))
        h.flush()
        result(d)
        lines = [(e["netref_side"], e["netref_line"]) for e in events]
        self.assertIn(("C", "GET / HTTP/1.1"), lines)
        self.assertIn(("C", "Host: www.someschool.edu"), lines)
        self.assertIn(("S", "HTTP/1.1 200 OK"), lines)
        self.assertIn(("S", "hi"), lines)


class _OneAnswer(Protocol):
    """
    A loopback server that answers every request head with a small
    response (for the TLS tests: what matters is the handshake).
    """

    def dataReceived(self, data: bytes) -> None:
        if b"\r\n\r\n" in data:
            assert self.transport is not None
            self.transport.write(response(body=b"secure", headers=[("Connection", "close")]))


class HTTPSTests(TestCase):
    """
    HTTPS over loopback: the server's certificate must name the host asked
    for (RFC 9110 section 4.3.4, RFC 6125).
    """

    def serve(self, names: list[str]) -> tuple[int, Any]:
        authority = DevCertificateAuthority(FilePath(self.mktemp()))
        options = authority.serverOptions(names, acceptableProtocols=[b"http/1.1"])
        factory = ServerFactory.forProtocol(_OneAnswer)
        port = reactor.listenSSL(0, factory, options, interface="127.0.0.1")  # type: ignore[attr-defined]
        self.addCleanup(port.stopListening)
        return port.getHost().port, authority.trustRoot()

    @defer.inlineCallbacks
    def test_rightName(self) -> Any:
        number, trustRoot = self.serve(["localhost"])
        client = HTTPClient(reactor, trustRoot=trustRoot)
        r = yield client.get(f"https://localhost:{number}/")
        yield client.close()
        self.assertEqual(r.body, b"secure")
        self.assertIsNotNone(r.timings.tlsDone)

    @defer.inlineCallbacks
    def test_wrongName(self) -> Any:
        number, trustRoot = self.serve(["www.someschool.edu"])
        client = HTTPClient(reactor, trustRoot=trustRoot)
        try:
            yield client.get(f"https://localhost:{number}/")
        except TLSVerificationError as e:
            self.assertIn("not valid for 'localhost'", str(e))
        else:
            self.fail("a certificate for another name was accepted")
        finally:
            yield client.close()

    @defer.inlineCallbacks
    def test_untrustedAuthority(self) -> Any:
        number, _ = self.serve(["localhost"])
        _, otherRoot = self.serve(["localhost"])
        client = HTTPClient(reactor, trustRoot=otherRoot)
        try:
            yield client.get(f"https://localhost:{number}/")
        except TLSVerificationError as e:
            self.assertIn("certificate verify failed", str(e))
        else:
            self.fail("a certificate from an untrusted authority was accepted")
        finally:
            yield client.close()


class DocsTests(TestCase):
    """
    The embedding example of C{docs/http-client.rst} runs and prints what
    the page says.
    """

    @defer.inlineCallbacks
    def test_embeddingExample(self) -> Any:
        page = docsPage("http-client.rst")
        code = embeddingExample(page)
        if code is None:
            raise SkipTest(f"{page} is not here (no source checkout)")
        out, err, status = yield getProcessOutputAndValue(
            sys.executable, ["-c", code], env=dict(os.environ)
        )
        self.assertEqual(status, 0, err)
        self.assertEqual(out.decode(), "200 <html>hello</html>\n304 True\n")
