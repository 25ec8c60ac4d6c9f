"""
Tests for L{netref.mail.tap}: C{twistd netref-mail}'s options, and the
whole server on loopback with Python's C{smtplib} as the client (an
interop test: smtplib is not ours).
"""

from __future__ import annotations

import os
import smtplib
import ssl
from typing import Any

from twisted.internet import defer, reactor
from twisted.internet.threads import deferToThread
from twisted.python import usage
from twisted.python.filepath import FilePath
from twisted.trial.unittest import SynchronousTestCase, TestCase

from netref.mail import tap
from netref.mail.accounts import MailAccounts
from netref.smtp.server import NullDelivery, SMTPFactory
from tests.support import freePort


class OptionsTests(SynchronousTestCase):
    def parse(self, *args: str) -> tap.Options:
        options = tap.Options()
        options.parseOptions(list(args))
        return options

    def test_needsDomainAndState(self) -> None:
        state = self.mktemp()
        self.assertRaises(usage.UsageError, self.parse, "--state", state)
        self.assertRaises(usage.UsageError, self.parse, "--domain", "crepes.fr")

    def test_defaults(self) -> None:
        options = self.parse(
            "--state",
            self.mktemp(),
            "--domain",
            "Crepes.FR.",
            "--user",
            "alice:pw",
            "--relayhost",
            "127.0.0.1:2526",
        )
        self.assertEqual(options["hostname"], "mail.crepes.fr")
        self.assertEqual(options["smtp"], tap.SMTP_DEFAULT)
        self.assertEqual(options["submission"], tap.SUBMISSION_DEFAULT)
        self.assertIsNone(options["smtps"])
        self.assertEqual(options["accounts"].localMailboxes("alice@crepes.fr"), ["alice"])
        deliverer = tap.makeDeliverer(None, options)
        self.assertEqual(deliverer.relayHost, ("127.0.0.1", 2526))

    def test_tlsAutoTurnsOnSMTPS(self) -> None:
        state = self.mktemp()
        options = self.parse(
            "--state", state, "--domain", "crepes.fr", "--tls", "auto", "--dns-root", "127.2.1.1"
        )
        self.assertTrue(options["smtps"].startswith("ssl:2465:interface=127.0.0.1:privateKey="))
        deliverer = tap.makeDeliverer(None, options)
        self.assertEqual(deliverer.lookup.roots, [("127.2.1.1", tap.DNS_PORT)])
        self.assertEqual(deliverer.port, 25)

    def test_oneWayToFindServers(self) -> None:
        self.assertRaises(
            usage.UsageError,
            self.parse,
            "--state",
            self.mktemp(),
            "--domain",
            "a.org",
            "--dns",
            "127.0.0.1",
            "--relayhost",
            "127.0.0.1",
        )
        options = self.parse("--state", self.mktemp(), "--domain", "a.org")
        self.assertRaises(usage.UsageError, tap.makeDeliverer, None, options)

    def test_badQueueTimes(self) -> None:
        self.assertRaises(
            usage.UsageError,
            self.parse,
            "--state",
            self.mktemp(),
            "--domain",
            "a.org",
            "--first-retry",
            "100",
            "--max-backoff",
            "10",
        )


class SmtplibTests(TestCase):
    """
    netref-mail as the textbook's mail.crepes.fr, Python's smtplib as the
    client; the next hop is another netref server standing for
    hamburger.edu.
    """

    def setUp(self) -> None:
        self.remote = NullDelivery()
        factory = SMTPFactory(
            "mail.hamburger.edu", MailAccounts(["hamburger.edu"], ["bob"]), self.remote
        )
        port = reactor.listenTCP(0, factory, interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        self.state = FilePath(self.mktemp())
        self.smtpPort, self.submissionPort = freePort(), freePort()
        options = tap.Options()
        options.parseOptions(
            [
                "--state",
                self.state.path,
                "--domain",
                "crepes.fr",
                "--user",
                "alice:wonderland",
                "--tls",
                "auto",
                "--smtp",
                f"tcp:{self.smtpPort}:interface=127.0.0.1",
                "--submission",
                f"tcp:{self.submissionPort}:interface=127.0.0.1",
                "--smtps",
                "none",
                "--relayhost",
                f"127.0.0.1:{port.getHost().port}",
                "--relay-tls",
                "never",
            ]
        )
        self.service = tap.makeService(options)
        self.service.startService()
        self.addCleanup(self.service.stopService)

    def inbox(self, user: str) -> list[bytes]:
        directory = self.state.child("mail").child(user).child("new")
        if not directory.exists():
            return []
        return [child.getContent() for child in directory.children()]

    async def test_relayInToLocalMaildir(self) -> None:
        """
        Another server's smtplib delivers to alice: 250, and the message is
        in her Maildir with its Received and Return-Path fields.
        """

        def send() -> Any:
            with smtplib.SMTP("127.0.0.1", self.smtpPort) as client:
                client.ehlo("hamburger.edu")
                return client.sendmail(
                    "bob@hamburger.edu",
                    ["alice@crepes.fr"],
                    b"Subject: hello\r\n\r\nbonjour Alice\r\n.leading dot\r\n",
                )

        refused = await deferToThread(send)
        self.assertEqual(refused, {})
        [stored] = self.inbox("alice")
        self.assertTrue(stored.startswith(b"Return-Path: <bob@hamburger.edu>\n"))
        self.assertIn(b"Received: from hamburger.edu", stored)
        self.assertIn(b"\n.leading dot\n", stored)

    async def test_submissionRelaysByQueue(self) -> None:
        """
        Alice submits over STARTTLS with AUTH (checking the certificate
        against the development CA); the queue relays the message to the
        next hop.
        """
        cafile = self.state.child("tls").child("ca.pem").path

        def send() -> Any:
            context = ssl.create_default_context(cafile=cafile)
            with smtplib.SMTP("localhost", self.submissionPort) as client:
                client.starttls(context=context)
                client.login("alice", "wonderland")
                return client.sendmail(
                    "alice@crepes.fr",
                    ["bob@hamburger.edu"],
                    b"Subject: ketchup\r\n\r\nDo you like ketchup?\r\n",
                )

        self.assertEqual(await deferToThread(send), {})
        for _ in range(200):
            if self.remote.messages:
                break
            await deferLater(0.02)
        self.assertEqual(self.remote.messages, 1)
        envelope, message = self.remote.last
        self.assertEqual(
            (envelope.mailFrom, envelope.recipients), ("alice@crepes.fr", ("bob@hamburger.edu",))
        )
        self.assertIn(b"Do you like ketchup?", message)
        for _ in range(100):
            if not os.listdir(self.state.child("queue").path):
                break
            await deferLater(0.02)
        self.assertEqual(os.listdir(self.state.child("queue").path), [])

    async def test_submissionNeedsAuth(self) -> None:
        def send() -> Any:
            with smtplib.SMTP("127.0.0.1", self.submissionPort) as client:
                client.sendmail("alice@crepes.fr", ["bob@hamburger.edu"], b"x\r\n")

        with self.assertRaises(smtplib.SMTPSenderRefused) as caught:
            await deferToThread(send)
        self.assertEqual(caught.exception.smtp_code, 530)

    async def test_noRelayForStrangers(self) -> None:
        def send() -> Any:
            with smtplib.SMTP("127.0.0.1", self.smtpPort) as client:
                client.sendmail("spam@example.org", ["bob@hamburger.edu"], b"x\r\n")

        with self.assertRaises(smtplib.SMTPRecipientsRefused) as caught:
            await deferToThread(send)
        code, _ = caught.exception.recipients["bob@hamburger.edu"]
        self.assertEqual(code // 100, 5)


def deferLater(seconds: float) -> defer.Deferred[None]:
    from twisted.internet import task

    return task.deferLater(reactor, seconds, lambda: None)
