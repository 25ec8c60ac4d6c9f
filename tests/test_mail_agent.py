"""
Tests for L{netref.mail.agent}: C{netref mail send} against a netref SMTP
server on loopback, composing and submitting with STARTTLS and AUTH, and
the textbook's hand-typed session with C{--raw}.
"""

from __future__ import annotations

import email
import io
import sys

from twisted.internet import reactor
from twisted.python import usage
from twisted.python.filepath import FilePath
from twisted.trial.unittest import SynchronousTestCase, TestCase

from netref.core.auth import MemoryPasswordChecker
from netref.core.cli import ToolError
from netref.core.tls import DevCertificateAuthority
from netref.mail import agent
from netref.mail.accounts import MailAccounts
from netref.smtp.server import NullDelivery, SMTPFactory


def parse(*args: str) -> agent.Options:
    options = agent.Options()
    options.parseOptions(["send", *args])
    return options


class OptionsTests(SynchronousTestCase):
    def test_defaults(self) -> None:
        send = parse("--from", "alice@crepes.fr", "--to", "bob@hamburger.edu").subOptions
        self.assertEqual((send["host"], send["port"], send.tls), ("localhost", 2587, "never"))
        send = parse(
            "--ssl", "--from", "a@b.c", "--bcc", "d@e.f", "--server", "mail.crepes.fr"
        ).subOptions
        self.assertEqual(
            (send["host"], send["port"], send.tls), ("mail.crepes.fr", 2465, "implicit")
        )
        send = parse(
            "--starttls", "--from", "a@b.c", "--cc", "d@e.f", "-s", "127.0.0.1:25"
        ).subOptions
        self.assertEqual((send["port"], send.tls), (25, "required"))

    def test_errors(self) -> None:
        self.assertRaises(usage.UsageError, parse, "--to", "bob@hamburger.edu")
        self.assertRaises(usage.UsageError, parse, "--from", "alice@crepes.fr")
        self.assertRaises(
            usage.UsageError, parse, "--starttls", "--ssl", "--from", "a@b.c", "--to", "d@e.f"
        )
        self.assertRaises(usage.UsageError, agent.Options().parseOptions, [])


class UsageLineTests(SynchronousTestCase):
    """
    The usage line printed for a bad command names the commands as typed,
    once each.
    """

    def usage(self, *argv: str) -> str:
        from netref.core import cli

        err = io.StringIO()
        self.patch(sys, "stderr", err)
        with self.assertRaises(SystemExit):
            cli.main(list(argv))
        return err.getvalue().splitlines()[0]

    def test_send(self) -> None:
        self.assertEqual(
            self.usage("mail", "send", "--frm", "x"),
            "netref mail send " + agent.SendOptions.synopsis,
        )

    def test_mail(self) -> None:
        self.assertEqual(self.usage("mail"), "netref mail COMMAND [options]")

    def test_netref(self) -> None:
        self.assertEqual(self.usage("--bogus"), "netref TOOL [options]")


class SendTests(TestCase):
    """
    Alice's agent submits to her server, mail.crepes.fr.
    """

    def setUp(self) -> None:
        self.directory = FilePath(self.mktemp())
        self.directory.makedirs()
        authority = DevCertificateAuthority(self.directory.child("tls"))
        self.cacert = authority.caCertificatePath.path
        tlsOptions = authority.serverOptions(["localhost"])
        self.delivery = NullDelivery()
        factory = SMTPFactory(
            "mail.crepes.fr",
            MailAccounts(["crepes.fr"], ["alice"]),
            self.delivery,
            checker=MemoryPasswordChecker.fromUserSpecs(["alice:wonderland"]),
            tlsOptions=tlsOptions,
            requireAuth=True,
        )
        port = reactor.listenTCP(0, factory, interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        self.server = f"localhost:{port.getHost().port}"
        self.passwordFile = self.directory.child("pw")
        self.passwordFile.setContent(b"wonderland\n")
        self.out = io.StringIO()
        self.patch(sys, "stdout", self.out)

    async def test_composeAndSubmit(self) -> None:
        """
        The message is composed (To, Cc, Subject in RFC 2047, an attachment;
        Bcc hidden) and submitted over STARTTLS with AUTH; one line per
        recipient, and the dialogue with --trace, password hidden.
        """
        attachment = self.directory.child("menu.txt")
        attachment.setContent(b"crepes, galettes\n")
        options = parse(
            "--server",
            self.server,
            "--starttls",
            "--cacert",
            self.cacert,
            "--user",
            "alice",
            "--password-file",
            self.passwordFile.path,
            "--from",
            "Alice <alice@crepes.fr>",
            "--to",
            "bob@hamburger.edu",
            "--cc",
            "carol@hamburger.edu",
            "--bcc",
            "dave@nyu.edu",
            "--subject",
            "Crêpes ou ketchup ?",
            "--body",
            "Do you like ketchup?",
            "--attach",
            attachment.path,
            "--helo",
            "crepes.fr",
            "--trace",
        )
        await agent.run(reactor, options)
        envelope, message = self.delivery.last
        self.assertEqual(envelope.mailFrom, "alice@crepes.fr")
        self.assertEqual(
            envelope.recipients, ("bob@hamburger.edu", "carol@hamburger.edu", "dave@nyu.edu")
        )
        self.assertTrue(envelope.tls)
        self.assertEqual(envelope.authenticatedAs, "alice")
        parsed = email.message_from_bytes(message, policy=email.policy.default)
        self.assertEqual(parsed["Subject"], "Crêpes ou ketchup ?")
        self.assertIsNone(parsed["Bcc"])
        self.assertNotIn(b"dave@nyu.edu", message)
        self.assertEqual([p.get_filename() for p in parsed.iter_attachments()], ["menu.txt"])
        printed = self.out.getvalue()
        self.assertIn("C: STARTTLS", printed)
        self.assertIn("C: AUTH PLAIN ********", printed)
        self.assertNotIn("wonderland", printed)
        self.assertIn("bob@hamburger.edu: accepted (250", printed)

    async def test_untrustedCertificate(self) -> None:
        """
        Without --cacert, the development certificate is not trusted, and
        nothing (no password) is sent.
        """
        options = parse(
            "--server",
            self.server,
            "--starttls",
            "--user",
            "alice",
            "--password-file",
            self.passwordFile.path,
            "--from",
            "alice@crepes.fr",
            "--to",
            "bob@hamburger.edu",
            "--body",
            "x",
        )
        with self.assertRaises(ToolError):
            await agent.run(reactor, options)
        self.assertEqual(self.delivery.messages, 0)

    async def test_noAuthRefused(self) -> None:
        options = parse(
            "--server",
            self.server,
            "--starttls",
            "--cacert",
            self.cacert,
            "--from",
            "alice@crepes.fr",
            "--to",
            "bob@hamburger.edu",
            "--body",
            "x",
        )
        with self.assertRaises(ToolError) as caught:
            await agent.run(reactor, options)
        self.assertIn("530", str(caught.exception))

    async def test_raw(self) -> None:
        """
        --raw sends the lines of a file one by one, waiting for each reply,
        as the textbook's telnet session; the message after DATA goes
        without waiting, up to the line ".".
        """
        commands = self.directory.child("session.txt")
        commands.setContent(
            b"EHLO crepes.fr\nMAIL FROM:<alice@crepes.fr>\nRCPT TO:<bob@hamburger.edu>\n"
            b"DATA\nDo you like ketchup?\nHow about pickles?\n.\nQUIT\n"
        )
        options = parse("--server", self.server, "--raw", "--commands", commands.path)
        await agent.run(reactor, options)
        printed = self.out.getvalue()
        self.assertIn("S: 220 mail.crepes.fr", printed)
        self.assertIn("C: EHLO crepes.fr", printed)
        self.assertIn("C: Do you like ketchup?", printed)
        self.assertIn("S: 221", printed)
        # Submission wants AUTH first: the server said so to MAIL.
        self.assertIn("S: 530", printed)
        self.assertEqual(self.delivery.messages, 0)
