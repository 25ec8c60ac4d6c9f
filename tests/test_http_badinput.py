"""
Bad input against a real netref HTTP server on loopback: slow-loris
clients are cut off while others are served, and a thousand malformed
requests each get an error and a closed connection, after which the
server still answers.
"""

from __future__ import annotations

import random
import time
from typing import Any

from twisted.internet import reactor
from twisted.internet.defer import Deferred, DeferredList, inlineCallbacks
from twisted.internet.protocol import ClientFactory, Protocol
from twisted.internet.task import LoopingCall, deferLater
from twisted.python.failure import Failure
from twisted.trial.unittest import TestCase

from netref.http.server import HTTPRequest, HTTPResponse, textResponse
from tests.test_http_loopback import TrackedFactory, rawExchange
from tests.test_http_server import parseResponses
from tests.test_http_wire_smuggling import CASES


class Hello:
    allowedMethods = ("GET", "POST")

    def handle(self, request: HTTPRequest) -> HTTPResponse:
        return textResponse(200, "hello")


class SlowLoris(Protocol):
    """
    Sends a request line, then one header line every C{interval} seconds,
    never ending the head.
    """

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.data = b""
        self.closedAt: float | None = None
        self.done: Deferred[None] = Deferred()

    def connectionMade(self) -> None:
        self.transport.write(b"GET / HTTP/1.1\r\nHost: h\r\n")
        self.dribble = LoopingCall(self.transport.write, b"X-Slow: yes\r\n")
        self.dribble.start(self.interval, now=False)

    def dataReceived(self, data: bytes) -> None:
        self.data += data

    def connectionLost(self, reason: Failure) -> None:
        if self.dribble.running:
            self.dribble.stop()
        self.closedAt = time.monotonic()
        self.done.callback(None)


class SlowLorisTests(TestCase):
    """
    The slow-client timeout (C{requestTimeout}) against slow-loris clients.
    """

    @inlineCallbacks
    def test_cutOff(self) -> Any:
        """
        Fifty connections that dribble header lines are answered 408 and
        closed once C{requestTimeout} has passed, while another client's
        requests keep being answered throughout.
        """
        factory = TrackedFactory(Hello(), requestTimeout=1.0, idleTimeout=10.0)
        port = reactor.listenTCP(0, factory, interface="127.0.0.1")
        self.addCleanup(factory.allClosed)
        self.addCleanup(port.stopListening)
        number = port.getHost().port
        started = time.monotonic()
        slow = [SlowLoris(0.1) for _ in range(50)]
        for client in slow:
            reactor.connectTCP("127.0.0.1", number, ClientFactory.forProtocol(lambda c=client: c))
        served = []
        while time.monotonic() - started < 1.6:
            _, done = rawExchange(
                number, b"GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"
            )
            data = yield done
            served.append((time.monotonic() - started, parseResponses(data)[0].status))
            yield deferLater(reactor, 0.1, lambda: None)
        yield DeferredList([client.done for client in slow])
        for client in slow:
            [response] = parseResponses(client.data)
            self.assertEqual(response.status, 408)
            assert client.closedAt is not None
            self.assertLess(client.closedAt - started, 2.5)
        self.assertGreater(len(served), 5)
        self.assertEqual({status for _, status in served}, {200})
        # Served before, during and after the slow clients were cut off.
        self.assertLess(served[0][0], 0.9)
        self.assertGreater(served[-1][0], 1.2)


def malformedRequests(count: int, seed: int = 2026) -> list[bytes]:
    """
    C{count} malformed requests: the wire module's smuggling catalogue,
    round after round, and random garbage in between.
    """
    rng = random.Random(seed)
    requests = []
    for i in range(count):
        if i % 4 == 3:
            junk = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200)))
            requests.append(b"\x00" + junk.replace(b"\r\n\r\n", b"") + b"\r\n\r\n")
        else:
            requests.append(CASES[i % len(CASES)][1])
    return requests


class MalformedTests(TestCase):
    """
    A thousand malformed requests.
    """

    @inlineCallbacks
    def test_thousand(self) -> Any:
        """
        Each malformed request gets an error status and a closed
        connection; then a good request is answered, and nothing was
        logged as an error.
        """
        factory = TrackedFactory(Hello(), requestTimeout=5.0)
        port = reactor.listenTCP(0, factory, interface="127.0.0.1")
        self.addCleanup(factory.allClosed)
        self.addCleanup(port.stopListening)
        number = port.getHost().port
        requests = malformedRequests(1000)
        statuses: list[int] = []
        for start in range(0, len(requests), 40):
            batch = [rawExchange(number, r)[1] for r in requests[start : start + 40]]
            results = yield DeferredList(batch)
            for (ok, data), request in zip(results, requests[start : start + 40], strict=True):
                self.assertTrue(ok)
                self.assertTrue(data.startswith(b"HTTP/1.1 "), (request, data))
                statuses.append(int(data[9:12]))
        self.assertEqual(len(statuses), 1000)
        self.assertTrue(all(400 <= status < 600 for status in statuses), set(statuses))
        self.assertNotIn(408, statuses)
        _, done = rawExchange(number, b"GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
        data = yield done
        self.assertEqual(parseResponses(data)[0].body, b"hello\n")
        self.assertEqual(self.flushLoggedErrors(), [])
