"""
Loopback tests of L{netref.smtp.server} with real TLS: STARTTLS (and the
command injection it must defeat), implicit TLS, and AUTH before and after
TLS, over 127.0.0.1 with certificates made at run time.
"""

from __future__ import annotations

import base64
from collections.abc import Generator
from typing import Any

from twisted.internet import defer, protocol, reactor
from twisted.internet.defer import inlineCallbacks
from twisted.python.failure import Failure
from twisted.python.filepath import FilePath
from twisted.trial.unittest import TestCase

from netref.core.auth import MemoryPasswordChecker, ScryptParameters, runSynchronously
from netref.core.tls import DevCertificateAuthority, clientOptions, startClientTLS
from netref.mail.accounts import MailAccounts
from netref.smtp.server import NullDelivery, SMTPFactory
from netref.smtp.wire import Reply, ReplyParser

FAST = ScryptParameters(n=16, r=1, p=1)
HOST = "hamburger.edu"
CREDENTIALS = base64.b64encode(b"\0alice\0wonderland").decode()


class ReplyClient(protocol.Protocol):
    """
    A minimal SMTP client for tests: writes what it is told and queues the
    replies it reads.
    """

    def __init__(self) -> None:
        self.parser = ReplyParser()
        self.replies: defer.DeferredQueue[Reply] = defer.DeferredQueue()
        self.lost: defer.Deferred[None] = defer.Deferred()

    def dataReceived(self, data: bytes) -> None:
        for reply in self.parser.feed(data):
            self.replies.put(reply)

    def connectionLost(self, reason: Failure = protocol.connectionDone) -> None:
        self.lost.callback(None)

    def command(self, line: str) -> defer.Deferred[Reply]:
        self.transport.write(line.encode() + b"\r\n")  # type: ignore[union-attr]
        return self.replies.get()


class LoopbackTests(TestCase):
    """
    The server on 127.0.0.1 with TLS.
    """

    def setUp(self) -> None:
        self.authority = DevCertificateAuthority(FilePath(self.mktemp()))
        self.tlsOptions = self.authority.serverOptions(["localhost", "127.0.0.1"])
        self.delivery = NullDelivery()
        self.checker = MemoryPasswordChecker([("alice", "wonderland")], FAST, runSynchronously)
        self.accounts = MailAccounts([HOST], ["bob", "alice"])

    def factory(self, **kwargs: Any) -> SMTPFactory:
        return SMTPFactory(
            HOST,
            self.accounts,
            self.delivery,
            checker=self.checker,
            tlsOptions=self.tlsOptions,
            **kwargs,
        )

    @inlineCallbacks
    def connect(self, factory: SMTPFactory, tls: bool = False) -> Generator[Any, Any, ReplyClient]:
        if tls:
            port = reactor.listenSSL(0, factory, self.tlsOptions, interface="127.0.0.1")
        else:
            port = reactor.listenTCP(0, factory, interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        creator = protocol.ClientCreator(reactor, ReplyClient)
        number = port.getHost().port
        if tls:
            options = clientOptions("localhost", self.authority.trustRoot())
            client = yield creator.connectSSL("127.0.0.1", number, options)
        else:
            client = yield creator.connectTCP("127.0.0.1", number)

        def close() -> defer.Deferred[None]:
            if not client.lost.called:
                client.transport.abortConnection()
            return client.lost

        self.addCleanup(close)
        greeting = yield client.replies.get()
        self.assertEqual(greeting.code, 220)
        return client

    def startTLS(self, client: ReplyClient) -> None:
        startClientTLS(
            client.transport, "localhost", lambda: b"", trustRoot=self.authority.trustRoot()
        )

    @inlineCallbacks
    def test_startTLSTransaction(self) -> Generator[Any, Any, None]:
        """
        EHLO, STARTTLS, EHLO again (now with AUTH), AUTH PLAIN, a message,
        QUIT: the Received field says ESMTPSA.
        """
        client = yield self.connect(self.factory())
        reply = yield client.command("EHLO crepes.fr")
        self.assertIn("STARTTLS", reply.lines)
        self.assertNotIn("AUTH PLAIN LOGIN", reply.lines)
        reply = yield client.command("STARTTLS")
        self.assertEqual(reply.code, 220)
        self.startTLS(client)
        reply = yield client.command("EHLO crepes.fr")
        self.assertNotIn("STARTTLS", reply.lines)
        self.assertIn("AUTH PLAIN LOGIN", reply.lines)
        reply = yield client.command(f"AUTH PLAIN {CREDENTIALS}")
        self.assertEqual(reply.code, 235)
        for line in ["MAIL FROM:<alice@hamburger.edu>", "RCPT TO:<bob@example.org>"]:
            reply = yield client.command(line)
            self.assertEqual(reply.code, 250)
        reply = yield client.command("DATA")
        self.assertEqual(reply.code, 354)
        reply = yield client.command("Subject: over TLS\r\n\r\nsecret\r\n.")
        self.assertEqual(reply.code, 250)
        reply = yield client.command("QUIT")
        self.assertEqual(reply.code, 221)
        yield client.lost
        assert self.delivery.last is not None
        envelope, message = self.delivery.last
        self.assertTrue(envelope.tls)
        self.assertEqual(envelope.authenticatedAs, "alice")
        self.assertIn(b" with ESMTPSA id ", message)

    @inlineCallbacks
    def test_injectionDiscarded(self) -> Generator[Any, Any, None]:
        """
        C{STARTTLS\\r\\nRSET\\r\\n} in one packet: the RSET is discarded,
        never answered, before or after the handshake (CVE-2011-0411).
        """
        client = yield self.connect(self.factory())
        client.transport.write(b"EHLO crepes.fr\r\nSTARTTLS\r\nRSET\r\n")
        ehlo = yield client.replies.get()
        self.assertEqual(ehlo.code, 250)
        ready = yield client.replies.get()
        self.assertEqual(ready.code, 220)
        self.startTLS(client)
        reply = yield client.command("EHLO crepes.fr")
        self.assertEqual(reply.code, 250)
        self.assertIn("AUTH PLAIN LOGIN", reply.lines)
        reply = yield client.command("QUIT")
        self.assertEqual(reply.code, 221)
        yield client.lost
        self.assertEqual(client.replies.pending, [])

    @inlineCallbacks
    def test_authBeforeTLSRefused(self) -> Generator[Any, Any, None]:
        """
        RFC 4954: no plaintext AUTH in the clear: 538 5.7.11.
        """
        client = yield self.connect(self.factory())
        yield client.command("EHLO crepes.fr")
        reply = yield client.command(f"AUTH PLAIN {CREDENTIALS}")
        self.assertEqual((reply.code, reply.enhanced), (538, "5.7.11"))
        reply = yield client.command("QUIT")
        yield client.lost

    @inlineCallbacks
    def test_implicitTLS(self) -> Generator[Any, Any, None]:
        """
        Port 465 style (RFC 8314): TLS from the first byte, AUTH offered,
        STARTTLS not; submission requires AUTH.
        """
        factory = self.factory(implicitTLS=True, requireAuth=True)
        client = yield self.connect(factory, tls=True)
        reply = yield client.command("EHLO crepes.fr")
        self.assertIn("AUTH PLAIN LOGIN", reply.lines)
        self.assertNotIn("STARTTLS", reply.lines)
        reply = yield client.command("MAIL FROM:<alice@hamburger.edu>")
        self.assertEqual(reply.code, 530)
        reply = yield client.command("AUTH LOGIN")
        self.assertEqual(reply, Reply(334, ("VXNlcm5hbWU6",)))
        reply = yield client.command(base64.b64encode(b"alice").decode())
        self.assertEqual(reply, Reply(334, ("UGFzc3dvcmQ6",)))
        reply = yield client.command(base64.b64encode(b"wonderland").decode())
        self.assertEqual(reply.code, 235)
        reply = yield client.command("MAIL FROM:<alice@hamburger.edu>")
        self.assertEqual(reply.code, 250)
        yield client.command("QUIT")
        yield client.lost
