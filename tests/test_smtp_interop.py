"""
Interop tests: programs nobody here wrote send mail to netref's SMTP server
(swaks, curl, Python's smtplib), in the clear, with STARTTLS and with
implicit TLS, with AUTH PLAIN and LOGIN; mutt and Python's C{mailbox}
module then read the Maildir it delivered to.

Each test skips, naming the program, when the program is missing.
"""

from __future__ import annotations

import mailbox
import os
import shutil
import smtplib
import ssl
import subprocess
from collections.abc import Generator
from typing import Any

from twisted.internet import defer, reactor, threads, utils
from twisted.internet.defer import inlineCallbacks
from twisted.python.filepath import FilePath
from twisted.trial.unittest import SkipTest, TestCase
from zope.interface import implementer

from netref.core.auth import MemoryPasswordChecker, ScryptParameters, runSynchronously
from netref.core.tls import DevCertificateAuthority
from netref.mail.accounts import MailAccounts
from netref.mail.maildir import MaildirStore
from netref.mail.mime import asBytes, composeMessage
from netref.smtp.interfaces import Envelope, IDeliveryAgent
from netref.smtp.server import SMTPFactory

FAST = ScryptParameters(n=16, r=1, p=1)
HOST = "hamburger.edu"


@implementer(IDeliveryAgent)
class StoreDelivery:
    """
    Local recipients into a L{MaildirStore}; others (relayed mail) kept in
    a list.
    """

    def __init__(self, accounts: MailAccounts, store: MaildirStore) -> None:
        self.accounts = accounts
        self.store = store
        self.relayed: list[tuple[Envelope, bytes]] = []

    def deliver(self, envelope: Envelope, message: bytes) -> defer.Deferred[None]:
        for address in envelope.recipients:
            users = self.accounts.localMailboxes(address)
            if users is None:
                self.relayed.append((envelope, message))
                continue
            for user in users:
                self.store.deliver(user, message)
        return defer.succeed(None)


def need(program: str) -> str:
    path = shutil.which(program)
    if path is None:
        raise SkipTest(f"{program} is not installed")
    return path


def needSwaksTLS() -> None:
    """
    swaks does TLS through the Perl module Net::SSLeay (Debian's
    libnet-ssleay-perl, only recommended by the swaks package).
    """
    need("swaks")
    perl = need("perl")
    if subprocess.run([perl, "-MNet::SSLeay", "-e", "1"], capture_output=True).returncode:
        raise SkipTest("swaks needs Net::SSLeay (libnet-ssleay-perl) for TLS")


class InteropTestCase(TestCase):
    """
    A netref SMTP server on 127.0.0.1: plain (with STARTTLS) and implicit
    TLS, both delivering into one Maildir store.
    """

    def setUp(self) -> None:
        self.authority = DevCertificateAuthority(FilePath(self.mktemp()))
        self.tlsOptions = self.authority.serverOptions(["localhost", "127.0.0.1"])
        self.caFile = self.authority.caCertificatePath.path
        self.accounts = MailAccounts([HOST], ["bob", "alice"], {"postmaster": ["bob"]})
        self.store = MaildirStore(self.mktemp())
        self.delivery = StoreDelivery(self.accounts, self.store)
        checker = MemoryPasswordChecker([("alice", "wonderland")], FAST, runSynchronously)
        self.factory = SMTPFactory(
            HOST, self.accounts, self.delivery, checker=checker, tlsOptions=self.tlsOptions
        )
        self.tlsFactory = SMTPFactory(
            HOST, self.accounts, self.delivery, checker=checker, implicitTLS=True
        )
        self.port = reactor.listenTCP(0, self.factory, interface="127.0.0.1")
        self.addCleanup(self.port.stopListening)
        self.tlsPort = reactor.listenSSL(
            0, self.tlsFactory, self.tlsOptions, interface="127.0.0.1"
        )
        self.addCleanup(self.tlsPort.stopListening)
        self.portNumber = self.port.getHost().port
        self.tlsPortNumber = self.tlsPort.getHost().port

    def inbox(self, user: str = "bob") -> list[mailbox.MaildirMessage]:
        """
        The user's messages, as Python's C{mailbox} reads them.
        """
        path = os.path.join(self.store.root, user)
        if not os.path.exists(path):
            return []
        box = mailbox.Maildir(path, create=False)
        return list(box)

    @inlineCallbacks
    def program(self, executable: str, args: list[str]) -> Generator[Any, Any, tuple[int, str]]:
        """
        Run a program to its end; return its exit code and its output.
        """
        out, err, code = yield utils.getProcessOutputAndValue(
            executable, args, env={"PATH": os.environ.get("PATH", ""), "HOME": self.mktemp()}
        )
        return code, (out + err).decode("utf-8", "replace")


class SwaksTests(InteropTestCase):
    """
    swaks, the "Swiss Army Knife for SMTP".
    """

    def swaks(self, *extra: str, port: int | None = None) -> defer.Deferred[tuple[int, str]]:
        if {"--tls", "--tls-on-connect"} & set(extra):
            needSwaksTLS()
        args = [
            "--server", "127.0.0.1", "--port", str(port or self.portNumber),
            "--helo", "crepes.fr", "--from", "alice@crepes.fr",
            "--header", "Subject: from swaks", "--body", "Do you like ketchup?",
            "--timeout", "20",
            *extra,
        ]  # fmt: skip
        return self.program(need("swaks"), args)

    @inlineCallbacks
    def test_plain(self) -> Generator[Any, Any, None]:
        code, output = yield self.swaks("--to", "bob@hamburger.edu")
        self.assertEqual(code, 0, output)
        self.assertIn("<-  250 2.0.0 Message accepted for delivery", output)
        [message] = self.inbox()
        self.assertEqual(message["Subject"], "from swaks")
        self.assertIn("Do you like ketchup?", message.get_payload())
        self.assertIn("with ESMTP id", message["Received"])

    @inlineCallbacks
    def test_relayDenied(self) -> Generator[Any, Any, None]:
        code, output = yield self.swaks("--to", "someone@example.org")
        self.assertNotEqual(code, 0)
        self.assertIn("550 5.7.1 <someone@example.org>... relaying denied", output)

    @inlineCallbacks
    def test_startTLS(self) -> Generator[Any, Any, None]:
        code, output = yield self.swaks("--to", "bob@hamburger.edu", "--tls")
        self.assertEqual(code, 0, output)
        self.assertIn("TLS started", output)
        [message] = self.inbox()
        self.assertIn("with ESMTPS id", message["Received"])

    @inlineCallbacks
    def test_implicitTLS(self) -> Generator[Any, Any, None]:
        code, output = yield self.swaks(
            "--to", "bob@hamburger.edu", "--tls-on-connect", port=self.tlsPortNumber
        )
        self.assertEqual(code, 0, output)
        self.assertEqual(len(self.inbox()), 1)

    @inlineCallbacks
    def test_authPlain(self) -> Generator[Any, Any, None]:
        """
        AUTH PLAIN after STARTTLS; the authenticated client may relay.
        """
        code, output = yield self.swaks(
            "--to", "someone@example.org", "--tls",
            "--auth", "PLAIN", "--auth-user", "alice", "--auth-password", "wonderland",
        )  # fmt: skip
        self.assertEqual(code, 0, output)
        self.assertIn("235 2.7.0 authentication successful", output)
        [(envelope, message)] = self.delivery.relayed
        self.assertEqual(envelope.authenticatedAs, "alice")
        self.assertIn(b"with ESMTPSA id", message)

    @inlineCallbacks
    def test_authLogin(self) -> Generator[Any, Any, None]:
        code, output = yield self.swaks(
            "--to", "bob@hamburger.edu", "--tls-on-connect",
            "--auth", "LOGIN", "--auth-user", "alice", "--auth-password", "wonderland",
            port=self.tlsPortNumber,
        )  # fmt: skip
        self.assertEqual(code, 0, output)
        self.assertIn("334 VXNlcm5hbWU6", output)
        self.assertIn("235 2.7.0", output)

    @inlineCallbacks
    def test_authWrongPassword(self) -> Generator[Any, Any, None]:
        code, output = yield self.swaks(
            "--to", "bob@hamburger.edu", "--tls",
            "--auth", "PLAIN", "--auth-user", "alice", "--auth-password", "rabbit",
        )  # fmt: skip
        self.assertNotEqual(code, 0)
        self.assertIn("535 5.7.8", output)
        self.assertEqual(self.inbox(), [])

    @inlineCallbacks
    def test_pipeline(self) -> Generator[Any, Any, None]:
        code, output = yield self.swaks(
            "--to", "bob@hamburger.edu,alice@hamburger.edu", "--pipeline"
        )
        self.assertEqual(code, 0, output)
        self.assertEqual(len(self.inbox("bob")), 1)
        self.assertEqual(len(self.inbox("alice")), 1)


class SmtplibTests(InteropTestCase):
    """
    Python's C{smtplib}, run in a thread while the reactor serves.
    """

    message = "From: alice@crepes.fr\r\nTo: bob@hamburger.edu\r\nSubject: smtplib\r\n\r\n.dot\r\n"

    def context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.caFile)

    def test_plain(self) -> defer.Deferred[None]:
        def send() -> dict[str, tuple[int, bytes]]:
            with smtplib.SMTP("127.0.0.1", self.portNumber, local_hostname="crepes.fr") as smtp:
                return smtp.sendmail("alice@crepes.fr", ["bob@hamburger.edu"], self.message)

        def check(refused: dict[str, tuple[int, bytes]]) -> None:
            self.assertEqual(refused, {})
            [message] = self.inbox()
            self.assertEqual(message["Subject"], "smtplib")
            self.assertTrue(message.get_payload().startswith(".dot"))

        return threads.deferToThread(send).addCallback(check)

    def test_starttlsLogin(self) -> defer.Deferred[None]:
        """
        STARTTLS with the server's certificate checked against the
        development authority, then AUTH (smtplib prefers PLAIN), then a
        relayed message.
        """

        def send() -> tuple[tuple[int, bytes], bool]:
            with smtplib.SMTP("localhost", self.portNumber, local_hostname="crepes.fr") as smtp:
                smtp.ehlo()
                offeredBefore = smtp.has_extn("auth")
                smtp.starttls(context=self.context())
                result = smtp.login("alice", "wonderland")
                smtp.sendmail("alice@hamburger.edu", ["carol@example.org"], self.message)
                return result, offeredBefore

        def check(result: tuple[tuple[int, bytes], bool]) -> None:
            (code, _), offeredBefore = result
            self.assertEqual(code, 235)
            self.assertFalse(offeredBefore)
            self.assertEqual(len(self.delivery.relayed), 1)

        return threads.deferToThread(send).addCallback(check)

    def test_loginMechanism(self) -> defer.Deferred[None]:
        def send() -> tuple[int, bytes]:
            with smtplib.SMTP_SSL(
                "localhost", self.tlsPortNumber, local_hostname="crepes.fr", context=self.context()
            ) as smtp:
                smtp.ehlo()
                smtp.user, smtp.password = "alice", "wonderland"
                return smtp.auth("LOGIN", smtp.auth_login)

        def check(result: tuple[int, bytes]) -> None:
            self.assertEqual(result[0], 235)

        return threads.deferToThread(send).addCallback(check)

    def test_smtpSSL(self) -> defer.Deferred[None]:
        def send() -> None:
            with smtplib.SMTP_SSL(
                "localhost", self.tlsPortNumber, local_hostname="crepes.fr", context=self.context()
            ) as smtp:
                smtp.login("alice", "wonderland")
                smtp.sendmail("alice@hamburger.edu", ["bob@hamburger.edu"], self.message)

        def check(_: None) -> None:
            [message] = self.inbox()
            self.assertIn("with ESMTPSA id", message["Received"])

        return threads.deferToThread(send).addCallback(check)

    def test_loginRefusedInClear(self) -> defer.Deferred[None]:
        def send() -> None:
            with smtplib.SMTP("127.0.0.1", self.portNumber) as smtp:
                smtp.ehlo()
                smtp.esmtp_features["auth"] = "PLAIN"
                smtp.login("alice", "wonderland")

        d = threads.deferToThread(send)
        return self.assertFailure(d, smtplib.SMTPAuthenticationError).addCallback(
            lambda e: self.assertEqual(e.smtp_code, 538)
        )

    def test_dataRefused(self) -> defer.Deferred[None]:
        """
        smtplib sends a message with a bare LF as CRLF (it normalizes), so
        the smuggling defence does not get in its way.
        """

        def send() -> dict[str, tuple[int, bytes]]:
            with smtplib.SMTP("127.0.0.1", self.portNumber) as smtp:
                return smtp.sendmail(
                    "a@crepes.fr", ["bob@hamburger.edu"], "Subject: lf\n\nline\n.\nafter\n"
                )

        def check(refused: dict[str, tuple[int, bytes]]) -> None:
            self.assertEqual(refused, {})
            [message] = self.inbox()
            self.assertEqual(message.get_payload(), "line\n.\nafter\n")

        return threads.deferToThread(send).addCallback(check)


class CurlTests(InteropTestCase):
    """
    curl's SMTP support: C{--mail-from}, C{--mail-rcpt}, C{-T}.
    """

    def messageFile(self) -> str:
        path = self.mktemp()
        with open(path, "wb") as f:
            f.write(b"From: alice@crepes.fr\r\nSubject: curl\r\n\r\nvia curl\r\n")
        return path

    def curl(self, url: str, *extra: str) -> defer.Deferred[tuple[int, str]]:
        args = [
            "-sS", "--max-time", "20", url, "--mail-from", "alice@crepes.fr",
            "-T", self.messageFile(), *extra,
        ]  # fmt: skip
        return self.program(need("curl"), args)

    @inlineCallbacks
    def test_plain(self) -> Generator[Any, Any, None]:
        code, output = yield self.curl(
            f"smtp://127.0.0.1:{self.portNumber}/crepes.fr", "--mail-rcpt", "bob@hamburger.edu"
        )
        self.assertEqual(code, 0, output)
        [message] = self.inbox()
        self.assertEqual(message["Subject"], "curl")
        self.assertIn("from crepes.fr", message["Received"])

    @inlineCallbacks
    def test_starttlsRequired(self) -> Generator[Any, Any, None]:
        code, output = yield self.curl(
            f"smtp://localhost:{self.portNumber}/crepes.fr",
            "--resolve", f"localhost:{self.portNumber}:127.0.0.1",
            "--ssl-reqd", "--cacert", self.caFile,
            "--user", "alice:wonderland",
            "--mail-rcpt", "bob@hamburger.edu", "--mail-rcpt", "carol@example.org",
        )  # fmt: skip
        self.assertEqual(code, 0, output)
        [message] = self.inbox()
        self.assertIn("ESMTPSA", message["Received"])
        self.assertEqual(len(self.delivery.relayed), 1)

    @inlineCallbacks
    def test_implicitTLS(self) -> Generator[Any, Any, None]:
        code, output = yield self.curl(
            f"smtps://localhost:{self.tlsPortNumber}/crepes.fr",
            "--resolve", f"localhost:{self.tlsPortNumber}:127.0.0.1",
            "--cacert", self.caFile, "--mail-rcpt", "bob@hamburger.edu",
        )  # fmt: skip
        self.assertEqual(code, 0, output)
        self.assertEqual(len(self.inbox()), 1)

    @inlineCallbacks
    def test_unknownRecipient(self) -> Generator[Any, Any, None]:
        code, output = yield self.curl(
            f"smtp://127.0.0.1:{self.portNumber}/crepes.fr", "--mail-rcpt", "nobody@hamburger.edu"
        )
        self.assertNotEqual(code, 0)
        self.assertIn("550", output)


class MuttTests(InteropTestCase):
    """
    mutt opens the Maildir that netref's server delivered to, and its
    Maildir++ folder, headless (C{script} gives it the terminal it wants).
    """

    @inlineCallbacks
    def test_readsDeliveredMail(self) -> Generator[Any, Any, None]:
        mutt = need("mutt")
        script = need("script")
        message = asBytes(
            composeMessage(
                "Élodie Martin <elodie@crepes.fr>",
                ["bob@hamburger.edu"],
                "Réunion — 会议",
                "Do you like ketchup?\n",
            )
        )

        def send() -> None:
            with smtplib.SMTP("127.0.0.1", self.portNumber, local_hostname="crepes.fr") as smtp:
                smtp.sendmail("elodie@crepes.fr", ["bob@hamburger.edu"], message)

        yield threads.deferToThread(send)
        box = self.store.mailbox("bob")
        box.createFolder("Sent").deliver(b"Subject: sent one\r\n\r\nsent\r\n", flags="S")
        maildir = os.path.abspath(box.path)
        directory = os.path.abspath(self.mktemp())
        os.makedirs(directory)
        inboxOut = os.path.join(directory, "inbox.txt")
        sentOut = os.path.join(directory, "sent.txt")
        muttrc = os.path.join(directory, "muttrc")
        with open(muttrc, "w") as f:
            f.write(
                f"set folder={maildir}\nset charset=utf-8\nset pipe_decode=yes\n"
                'set wait_key=no\nset header_cache=""\n'
            )
        keys = (
            f"<pipe-message>cat > {inboxOut}<enter>"
            f"<change-folder>=.Sent<enter><pipe-message>cat > {sentOut}<enter><quit>"
        )
        command = f"{mutt} -n -F {muttrc} -R -f {maildir} -e 'push \"{keys}\"'"
        out, err, code = yield utils.getProcessOutputAndValue(
            script,
            ["-qec", command, "/dev/null"],
            env={
                "PATH": os.environ.get("PATH", ""),
                "TERM": "xterm",
                "HOME": directory,
                "LANG": "C.UTF-8",
            },
            path=directory,
        )
        self.assertEqual(code, 0, (out + err).decode("utf-8", "replace")[-2000:])
        with open(inboxOut, encoding="utf-8") as f:
            inbox = f.read()
        self.assertIn("Subject: Réunion — 会议\n", inbox)
        self.assertIn("From: Élodie Martin <elodie@crepes.fr>\n", inbox)
        self.assertIn("Received: from crepes.fr ([127.0.0.1])", inbox)
        self.assertIn("Do you like ketchup?", inbox)
        with open(sentOut, encoding="utf-8") as f:
            self.assertIn("Subject: sent one\n", f.read())
