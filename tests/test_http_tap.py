"""
Tests for L{netref.http.tap}: C{twistd netref-http} and the services the
lab builds.
"""

from __future__ import annotations

import os
from typing import Any

from twisted.application.service import IServiceMaker
from twisted.internet import reactor
from twisted.internet.defer import Deferred, inlineCallbacks
from twisted.internet.endpoints import TCP4ClientEndpoint, connectProtocol
from twisted.internet.protocol import Protocol
from twisted.plugin import getPlugins
from twisted.python.failure import Failure
from twisted.python.usage import UsageError
from twisted.trial.unittest import SynchronousTestCase, TestCase

from netref.http import tap
from netref.http.handler import BasicAuthHandler
from netref.http.server import HTTPFactory, Router
from tests.support import freePort
from tests.test_http_server import parseResponses


class OptionsTests(SynchronousTestCase):
    """
    C{twistd netref-http}'s options.
    """

    def setUp(self) -> None:
        self.root = self.mktemp()
        os.mkdir(self.root)

    def parse(self, *args: str) -> tap.Options:
        options = tap.Options()
        options.parseOptions(["--root", self.root, *args])
        return options

    def test_defaults(self) -> None:
        options = self.parse()
        self.assertEqual(options.listenDescriptions(), ["tcp:8080:interface=127.0.0.1"])
        self.assertFalse(options["writable"])
        self.assertFalse(options["allow-trace"])
        self.assertIsNone(options["access-log"])
        self.assertIsNone(options.checker)

    def test_rootNeeded(self) -> None:
        self.assertRaises(UsageError, tap.Options().parseOptions, [])

    def test_rootNotDirectory(self) -> None:
        self.assertRaises(
            UsageError, tap.Options().parseOptions, ["--root", os.path.join(self.root, "nope")]
        )

    def test_writableNeedsAccounts(self) -> None:
        """
        C{--writable} without C{--user} or C{--users} is a usage error:
        nobody could write.
        """
        error = self.assertRaises(UsageError, self.parse, "--writable")
        self.assertIn("--user", str(error))

    def test_writableWithUser(self) -> None:
        options = self.parse("--writable", "--user", "alice:secret", "--user", "bob:pw")
        self.assertIsNotNone(options.checker)

    def test_listenRepeatable(self) -> None:
        options = self.parse("--listen", "tcp:1", "--listen", "tcp:2")
        self.assertEqual(options.listenDescriptions(), ["tcp:1", "tcp:2"])

    def test_timeouts(self) -> None:
        options = self.parse("--idle-timeout", "5", "--request-timeout", "2")
        self.assertEqual((options["idle-timeout"], options["request-timeout"]), (5.0, 2.0))
        self.assertRaises(UsageError, self.parse, "--idle-timeout", "0")

    def test_helpNamesPorts(self) -> None:
        text = str(tap.Options())
        self.assertIn("8080", text)
        self.assertIn("8443", text)

    def test_plugin(self) -> None:
        """
        twistd knows the plugin as C{netref-http}.
        """
        names = {maker.tapname: maker for maker in getPlugins(IServiceMaker)}
        self.assertIn("netref-http", names)
        self.assertEqual(names["netref-http"].options, tap.Options)


class MakeServiceTests(SynchronousTestCase):
    """
    L{tap.makeService} wires the handler and the listening services.
    """

    def setUp(self) -> None:
        self.root = self.mktemp()
        os.mkdir(self.root)

    def make(self, *args: str) -> Any:
        options = tap.Options()
        options.parseOptions(["--root", self.root, *args])
        return tap.makeService(options)

    def factoryOf(self, top: Any) -> HTTPFactory:
        [child] = list(top)
        return child.factory  # type: ignore[no-any-return]

    def test_services(self) -> None:
        top = self.make("--listen", "tcp:0:interface=127.0.0.1", "--listen", "tcp:0")
        self.assertEqual(len(list(top)), 2)

    def test_handler(self) -> None:
        """
        The files are at C{/} and the visit tracker at C{/visits}; with
        C{--writable}, PUT and DELETE go through Basic authentication.
        """
        from netref.http.sessions import VisitTracker
        from netref.http.static import StaticFiles

        factory = self.factoryOf(self.make("--listen", "tcp:0"))
        router = factory.handler
        self.assertIsInstance(router, Router)
        self.assertIsInstance(router.handlerFor("/index.html"), StaticFiles)
        self.assertIsInstance(router.handlerFor("/visits"), VisitTracker)
        writable = self.factoryOf(
            self.make("--listen", "tcp:0", "--writable", "--user", "a:b")
        ).handler
        guard = writable.handlerFor("/x")
        self.assertIsInstance(guard, BasicAuthHandler)
        self.assertIn("PUT", guard.allowedMethods)
        self.assertTrue(guard.requireSecure)
        plaintext = self.factoryOf(
            self.make("--listen", "tcp:0", "--writable", "--user", "a:b", "--plaintext-auth")
        ).handler
        self.assertFalse(plaintext.handlerFor("/x").requireSecure)

    def test_options(self) -> None:
        log = os.path.join(self.root, "..", "access.log")
        factory = self.factoryOf(
            self.make(
                "--listen",
                "tcp:0",
                "--allow-trace",
                "--access-log",
                log,
                "--idle-timeout",
                "7",
                "--request-timeout",
                "3",
            )
        )
        self.assertTrue(factory.allowTrace)
        self.assertEqual((factory.idleTimeout, factory.requestTimeout), (7.0, 3.0))
        assert factory.accessLog is not None
        factory.accessLog("a line")
        with open(log) as f:
            self.assertEqual(f.read(), "a line\n")

    def test_sessionsInState(self) -> None:
        state = self.mktemp()
        self.make("--listen", "tcp:0", "--state", state)
        self.assertTrue(os.path.exists(os.path.join(state, tap.SESSIONS_FILE)))


class _Collect(Protocol):
    def __init__(self) -> None:
        self.data = b""
        self.done: Deferred[bytes] = Deferred()

    def dataReceived(self, data: bytes) -> None:
        self.data += data

    def connectionLost(self, reason: Failure) -> None:
        self.done.callback(self.data)


class HTTPServicesTests(TestCase):
    """
    L{tap.makeHTTPServices}: what the lab runs on a host.
    """

    @inlineCallbacks
    def test_serves(self) -> Any:
        root = self.mktemp()
        os.mkdir(root)
        with open(os.path.join(root, "index.html"), "wb") as f:
            f.write(b"<p>hello</p>")
        port = freePort()
        [service] = tap.makeHTTPServices("127.0.0.1", port, root)
        service.startService()
        self.addCleanup(service.stopService)
        client = _Collect()
        yield connectProtocol(TCP4ClientEndpoint(reactor, "127.0.0.1", port), client)
        client.transport.write(b"GET /index.html HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
        data = yield client.done
        [response] = parseResponses(data)
        self.assertEqual((response.status, response.body), (200, b"<p>hello</p>"))
