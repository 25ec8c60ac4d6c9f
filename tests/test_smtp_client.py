"""
Tests for L{netref.smtp.client}: the client's dialogue over a
L{StringTransport} against scripted replies, and MX selection with a fake
DNS.
"""

from __future__ import annotations

import base64
import os
import sys
from typing import Any

from twisted.internet import defer, task
from twisted.internet.defer import Deferred
from twisted.internet.testing import StringTransport
from twisted.internet.utils import getProcessOutputAndValue
from twisted.trial.unittest import SkipTest, SynchronousTestCase, TestCase

from netref.core.trace import Transcript
from netref.dns.iterative import NameNotFoundError, ResolutionError
from netref.dns.name import Name
from netref.dns.rdata import MX, A, RRClass, RRType
from netref.dns.wire import ResourceRecord
from netref.smtp.client import (
    TLS_NEVER,
    TLS_REQUIRED,
    DeliveryError,
    DeliveryResult,
    MXDeliverer,
    SMTPClientProtocol,
    _Submission,
    _Transaction,
    parseExtensions,
)
from netref.smtp.wire import Reply
from tests.support import docsPage, embeddingExample

DOCS_PAGE = docsPage("email.rst")

MESSAGE = b"Subject: ketchup\r\n\r\nDo you like ketchup?\r\n.How about pickles?\r\n"
#: MESSAGE as it goes after 354: the leading dot doubled, the end of data.
STUFFED = b"Subject: ketchup\r\n\r\nDo you like ketchup?\r\n..How about pickles?\r\n.\r\n"


class DialogueTests(SynchronousTestCase):
    """
    The client says what RFC 5321 says, in order, and reads what the
    server says.
    """

    def start(self, recipients=("bob@hamburger.edu",), message=MESSAGE, **kwargs: Any):
        fields = {
            "mailFrom": "alice@crepes.fr",
            "recipients": list(recipients),
            "message": message,
            "heloName": "crepes.fr",
            "tls": TLS_NEVER,
            "tlsHostname": "hamburger.edu",
            "trustRoot": None,
            "username": None,
            "password": None,
            "allowPlaintextAuth": False,
        }
        fields.update(kwargs)
        self.clock = task.Clock()
        self.protocol = SMTPClientProtocol(self.clock, Transcript(), 300)
        self.transport = StringTransport()
        self.protocol.makeConnection(self.transport)
        return Deferred.fromCoroutine(_Transaction(self.protocol, _Submission(**fields)).run())

    def exchange(self, script: list[tuple[bytes, bytes]]) -> None:
        """
        For each step: check what the client has written since the last,
        then give it the server's reply.
        """
        for expected, reply in script:
            self.assertEqual(self.transport.value(), expected)
            self.transport.clear()
            self.protocol.dataReceived(reply)

    def test_textbookDialogueWithHeloFallback(self) -> None:
        """
        A server that does not know EHLO gets HELO; the message is
        dot-stuffed; QUIT ends it.
        """
        d = self.start()
        self.exchange(
            [
                (b"", b"220 hamburger.edu\r\n"),
                (b"EHLO crepes.fr\r\n", b"502 5.5.1 what?\r\n"),
                (b"HELO crepes.fr\r\n", b"250 Hello crepes.fr, pleased to meet you\r\n"),
                (b"MAIL FROM:<alice@crepes.fr>\r\n", b"250 Sender ok\r\n"),
                (b"RCPT TO:<bob@hamburger.edu>\r\n", b"250 Recipient ok\r\n"),
                (b"DATA\r\n", b"354 Enter mail\r\n"),
                (
                    STUFFED,
                    b"250 Message accepted for delivery\r\n",
                ),
                (b"QUIT\r\n", b"221 hamburger.edu closing connection\r\n"),
            ]
        )
        result = self.successResultOf(d)
        self.assertEqual(result.accepted, ["bob@hamburger.edu"])
        self.assertTrue(self.transport.disconnecting)

    def test_pipeliningAndPerRecipientResults(self) -> None:
        """
        With PIPELINING, MAIL, the RCPTs and DATA go in one write; SIZE
        goes with MAIL; a refused recipient keeps its own reply.
        """
        d = self.start(recipients=["bob@hamburger.edu", "nobody@hamburger.edu"])
        ehlo = b"250-hamburger.edu\r\n250-PIPELINING\r\n250-SIZE 100000\r\n250 8BITMIME\r\n"
        self.exchange(
            [
                (b"", b"220 hamburger.edu ESMTP\r\n"),
                (b"EHLO crepes.fr\r\n", ehlo),
                (
                    f"MAIL FROM:<alice@crepes.fr> SIZE={len(MESSAGE)}\r\n".encode()
                    + b"RCPT TO:<bob@hamburger.edu>\r\nRCPT TO:<nobody@hamburger.edu>\r\nDATA\r\n",
                    b"250 ok\r\n250 ok\r\n550 5.1.1 no such user\r\n354 go ahead\r\n",
                ),
                (
                    STUFFED,
                    b"250 2.0.0 queued as 1\r\n",
                ),
                (b"QUIT\r\n", b"221 bye\r\n"),
            ]
        )
        result = self.successResultOf(d)
        self.assertEqual(result.accepted, ["bob@hamburger.edu"])
        self.assertEqual(result.refused["nobody@hamburger.edu"].enhanced, "5.1.1")
        self.assertEqual(result.recipients["bob@hamburger.edu"].code, 250)
        self.assertIn("PIPELINING", result.extensions)

    def test_eightBitBody(self) -> None:
        d = self.start(message="Subject: crêpes\r\n\r\nmiam\r\n".encode())
        self.exchange(
            [
                (b"", b"220 x\r\n"),
                (b"EHLO crepes.fr\r\n", b"250-x\r\n250 8BITMIME\r\n"),
            ]
        )
        self.assertEqual(self.transport.value(), b"MAIL FROM:<alice@crepes.fr> BODY=8BITMIME\r\n")
        self.protocol.connectionLost()
        self.failureResultOf(d, DeliveryError)

    def test_noRecipientAcceptedWithPipelining(self) -> None:
        """
        Every RCPT refused, but the server said 354 to DATA anyway: the
        client ends the data at once, sending no message (RFC 2920 section
        3.1).
        """
        d = self.start()
        self.exchange(
            [
                (b"", b"220 x\r\n"),
                (b"EHLO crepes.fr\r\n", b"250-x\r\n250 PIPELINING\r\n"),
                (
                    b"MAIL FROM:<alice@crepes.fr>\r\nRCPT TO:<bob@hamburger.edu>\r\nDATA\r\n",
                    b"250 ok\r\n450 4.2.1 busy\r\n354 go\r\n",
                ),
                (b".\r\n", b"554 no valid recipients\r\n"),
                (b"QUIT\r\n", b"221 bye\r\n"),
            ]
        )
        result = self.successResultOf(d)
        self.assertEqual(result.recipients["bob@hamburger.edu"].code, 450)

    def test_mailRefused(self) -> None:
        d = self.start()
        self.exchange(
            [
                (b"", b"220 x\r\n"),
                (b"EHLO crepes.fr\r\n", b"250 x\r\n"),
                (b"MAIL FROM:<alice@crepes.fr>\r\n", b"553 5.7.1 not you\r\n"),
                (b"QUIT\r\n", b"221 bye\r\n"),
            ]
        )
        result = self.successResultOf(d)
        self.assertEqual(result.recipients["bob@hamburger.edu"].code, 553)

    def test_tooBig(self) -> None:
        """
        A message bigger than the server's SIZE is not sent (RFC 1870): a
        permanent failure with 5.3.4.
        """
        d = self.start()
        self.exchange(
            [
                (b"", b"220 x\r\n"),
                (b"EHLO crepes.fr\r\n", b"250-x\r\n250 SIZE 10\r\n"),
                (b"QUIT\r\n", b"221 bye\r\n"),
            ]
        )
        failure = self.failureResultOf(d, DeliveryError)
        self.assertTrue(failure.value.permanent)
        self.assertEqual(failure.value.statusCode, "5.3.4")

    def test_authPlain(self) -> None:
        token = base64.b64encode(b"\0alice\0secret").decode()
        d = self.start(username="alice", password="secret", allowPlaintextAuth=True)
        self.exchange(
            [
                (b"", b"220 x\r\n"),
                (b"EHLO crepes.fr\r\n", b"250-x\r\n250 AUTH LOGIN PLAIN\r\n"),
                (f"AUTH PLAIN {token}\r\n".encode(), b"235 2.7.0 ok\r\n"),
                (b"MAIL FROM:<alice@crepes.fr>\r\n", b"250 ok\r\n"),
            ]
        )
        self.protocol.connectionLost()
        self.failureResultOf(d, DeliveryError)

    def test_authLoginRefused(self) -> None:
        """
        AUTH LOGIN, refused with 535: a permanent failure.
        """
        d = self.start(username="alice", password="wrong", allowPlaintextAuth=True)
        self.exchange(
            [
                (b"", b"220 x\r\n"),
                (b"EHLO crepes.fr\r\n", b"250-x\r\n250 AUTH LOGIN\r\n"),
                (b"AUTH LOGIN\r\n", b"334 VXNlcm5hbWU6\r\n"),
                (base64.b64encode(b"alice") + b"\r\n", b"334 UGFzc3dvcmQ6\r\n"),
                (base64.b64encode(b"wrong") + b"\r\n", b"535 5.7.8 bad credentials\r\n"),
            ]
        )
        failure = self.failureResultOf(d, DeliveryError)
        self.assertTrue(failure.value.permanent)
        self.assertIn("535", str(failure.value))

    def test_noPasswordInTheClear(self) -> None:
        d = self.start(username="alice", password="secret")
        self.exchange(
            [
                (b"", b"220 x\r\n"),
                (b"EHLO crepes.fr\r\n", b"250-x\r\n250 AUTH PLAIN\r\n"),
            ]
        )
        failure = self.failureResultOf(d, DeliveryError)
        self.assertIn("without TLS", str(failure.value))
        self.assertEqual(self.transport.value(), b"")

    def test_requiredTLSNotOffered(self) -> None:
        d = self.start(tls=TLS_REQUIRED)
        self.exchange(
            [
                (b"", b"220 x\r\n"),
                (b"EHLO crepes.fr\r\n", b"250 x\r\n"),
                (b"QUIT\r\n", b"221 bye\r\n"),
            ]
        )
        failure = self.failureResultOf(d, DeliveryError)
        self.assertIn("STARTTLS", str(failure.value))

    def test_replyTimeout(self) -> None:
        d = self.start()
        self.clock.advance(299)
        self.assertNoResult(d)
        self.clock.advance(1)
        failure = self.failureResultOf(d, DeliveryError)
        self.assertIn("no reply to the greeting", str(failure.value))
        self.assertFalse(failure.value.permanent)

    def test_garbage(self) -> None:
        d = self.start()
        self.protocol.dataReceived(b"HTTP/1.1 400 Bad Request\r\n")
        failure = self.failureResultOf(d, DeliveryError)
        self.assertIn("bad reply", str(failure.value))

    def test_greetingRefused(self) -> None:
        d = self.start()
        self.exchange([(b"", b"554 no service\r\n"), (b"QUIT\r\n", b"221 bye\r\n")])
        failure = self.failureResultOf(d, DeliveryError)
        self.assertEqual(failure.value.reply.code, 554)
        self.assertFalse(failure.value.permanent)

    def test_parseExtensions(self) -> None:
        reply = Reply(250, ("x.org greets", "SIZE 1000", "auth plain LOGIN", "STARTTLS"))
        self.assertEqual(
            parseExtensions(reply), {"SIZE": "1000", "AUTH": "plain LOGIN", "STARTTLS": ""}
        )


def _record(name: str, rdata: Any) -> ResourceRecord:
    return ResourceRecord(Name.fromText(name), rdata.rtype, RRClass.IN, 60, rdata)


class FakeLookup:
    def __init__(self, table: dict[tuple[str, int], Any]) -> None:
        self.table = table

    def lookup(self, name: str, rtype: int) -> Deferred[list[Any]]:
        value = self.table.get((name.rstrip(".").lower(), rtype), [])
        if isinstance(value, Exception):
            return defer.fail(value)
        return defer.succeed(value)


class MailHostsTests(SynchronousTestCase):
    """
    RFC 5321 section 5.1: MX records in order of preference, the domain's
    own address without them, and failures sorted into final and not.
    """

    def hosts(self, table: dict[tuple[str, int], Any]):
        deliverer = MXDeliverer(None, FakeLookup(table), heloName="crepes.fr")
        return Deferred.fromCoroutine(deliverer.mailHosts("hamburger.edu"))

    def test_preferenceOrder(self) -> None:
        table = {
            ("hamburger.edu", RRType.MX): [
                _record("hamburger.edu.", MX(20, Name.fromText("backup.hamburger.edu."))),
                _record("hamburger.edu.", MX(10, Name.fromText("mail.hamburger.edu."))),
            ],
            ("mail.hamburger.edu", RRType.A): [_record("mail.hamburger.edu.", A("127.2.3.3"))],
            ("backup.hamburger.edu", RRType.A): [_record("backup.hamburger.edu.", A("127.2.3.9"))],
        }
        hosts = self.successResultOf(self.hosts(table))
        self.assertEqual(
            [(h.name, h.address) for h in hosts],
            [("mail.hamburger.edu", "127.2.3.3"), ("backup.hamburger.edu", "127.2.3.9")],
        )

    def test_implicitMX(self) -> None:
        table = {("hamburger.edu", RRType.A): [_record("hamburger.edu.", A("127.2.3.3"))]}
        hosts = self.successResultOf(self.hosts(table))
        self.assertEqual(
            [(h.name, h.address, h.preference) for h in hosts], [("hamburger.edu", "127.2.3.3", 0)]
        )

    def test_noSuchDomainIsPermanent(self) -> None:
        table = {("hamburger.edu", RRType.MX): NameNotFoundError(Name.fromText("hamburger.edu."))}
        failure = self.failureResultOf(self.hosts(table), DeliveryError)
        self.assertTrue(failure.value.permanent)
        self.assertEqual(failure.value.statusCode, "5.1.2")

    def test_dnsFailureIsTemporary(self) -> None:
        table = {("hamburger.edu", RRType.MX): ResolutionError("timed out")}
        failure = self.failureResultOf(self.hosts(table), DeliveryError)
        self.assertFalse(failure.value.permanent)

    def test_nextHostAfterFailure(self) -> None:
        """
        A server that cannot be reached sends the deliverer to the next one.
        """
        from netref.smtp import client

        table = {
            ("hamburger.edu", RRType.MX): [
                _record("hamburger.edu.", MX(10, Name.fromText("a.hamburger.edu."))),
                _record("hamburger.edu.", MX(20, Name.fromText("b.hamburger.edu."))),
            ],
            ("a.hamburger.edu", RRType.A): [_record("a.hamburger.edu.", A("127.0.0.2"))],
            ("b.hamburger.edu", RRType.A): [_record("b.hamburger.edu.", A("127.0.0.3"))],
        }
        tried = []

        def fakeSendMail(reactor, host, port, *args, **kwargs):
            tried.append((host, port, kwargs["tlsHostname"]))
            if host == "127.0.0.2":
                return defer.fail(DeliveryError("refused"))
            return defer.succeed(DeliveryResult(host, {}))

        self.patch(client, "sendMail", fakeSendMail)
        deliverer = MXDeliverer(None, FakeLookup(table), heloName="crepes.fr", port=2525)
        result = self.successResultOf(
            deliverer.deliver("hamburger.edu", "a@crepes.fr", ["b@hamburger.edu"], b"x")
        )
        self.assertEqual(result.host, "127.0.0.3")
        self.assertEqual(
            tried, [("127.0.0.2", 2525, "a.hamburger.edu"), ("127.0.0.3", 2525, "b.hamburger.edu")]
        )


class EmbeddingExampleTests(TestCase):
    """
    The "From Python" example of docs/email.rst runs and prints what the
    page says.
    """

    async def test_embeddingExample(self) -> None:
        code = embeddingExample(DOCS_PAGE)
        if code is None:
            raise SkipTest(f"{DOCS_PAGE} is not here (no source checkout)")
        out, err, status = await getProcessOutputAndValue(
            sys.executable, ["-c", code], env=dict(os.environ)
        )
        self.assertEqual(status, 0, err)
        self.assertEqual(
            out.decode(),
            "bob@hamburger.edu 250\n"
            "nobody@hamburger.edu 550\n"
            "alice@crepes.fr Do you like ketchup?\n",
        )
