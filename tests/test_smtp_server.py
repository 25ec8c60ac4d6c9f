"""
Tests for L{netref.smtp.server}: every command and reply of the ESMTP
server, over a L{StringTransport}, with time on a L{Clock}.
"""

from __future__ import annotations

import base64
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.internet import defer
from twisted.internet.address import IPv4Address
from twisted.internet.interfaces import ISSLTransport, ITLSTransport
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.trial.unittest import SynchronousTestCase
from zope.interface import directlyProvides, implementer

from netref.core import trace
from netref.core.auth import MemoryPasswordChecker, ScryptParameters, runSynchronously
from netref.mail.accounts import MailAccounts
from netref.smtp.interfaces import Envelope, IDeliveryAgent
from netref.smtp.server import MAX_RECIPIENTS, NullDelivery, SMTPFactory
from netref.smtp.wire import MAX_COMMAND_LINE, Reply, ReplyParser

FAST = ScryptParameters(n=16, r=1, p=1)
HOST = "hamburger.edu"


def plain(user: str, password: str, authzid: str = "") -> str:
    """
    An AUTH PLAIN response (RFC 4616), base64-encoded.
    """
    raw = f"{authzid}\0{user}\0{password}".encode()
    return base64.b64encode(raw).decode()


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@implementer(IDeliveryAgent)
class RecordingDelivery:
    """
    A delivery agent that records messages; with C{auto} false, each
    delivery waits for the test to fire it.
    """

    def __init__(self, auto: bool = True) -> None:
        self.auto = auto
        self.delivered: list[tuple[Envelope, bytes]] = []
        self.pending: list[defer.Deferred[None]] = []

    def deliver(self, envelope: Envelope, message: bytes) -> defer.Deferred[None]:
        self.delivered.append((envelope, message))
        if self.auto:
            return defer.succeed(None)
        d: defer.Deferred[None] = defer.Deferred()
        self.pending.append(d)
        return d


@implementer(ITLSTransport)
class FakeTLSTransport(StringTransport):
    """
    A L{StringTransport} that can "start TLS": it records the options and
    then provides L{ISSLTransport}, as Twisted's transports do.
    """

    tlsStarted: Any = None

    def startTLS(self, contextFactory: Any, normal: bool = True) -> None:
        self.tlsStarted = contextFactory
        self.valueAtTLS = self.value()
        directlyProvides(self, ITLSTransport, ISSLTransport)


def accounts() -> MailAccounts:
    return MailAccounts(
        [HOST, "mail.hamburger.edu"],
        ["bob", "alice", "carol"],
        {"postmaster": ["bob"], "team": ["bob", "alice"]},
    )


class Session:
    """
    A server protocol on a fake transport, and the replies it has sent.
    """

    def __init__(self, transport: StringTransport | None = None, **kwargs: Any) -> None:
        self.clock = kwargs.setdefault("clock", Clock())
        self.delivery = kwargs.pop("delivery", None) or RecordingDelivery()
        self.factory = SMTPFactory(HOST, kwargs.pop("policy", accounts()), self.delivery, **kwargs)
        peer = IPv4Address("TCP", "192.0.2.7", 40000)
        self.transport = transport or StringTransport(peerAddress=peer)
        self.transport.peerAddress = peer
        self.protocol = self.factory.buildProtocol(peer)
        assert self.protocol is not None
        self.protocol.makeConnection(self.transport)
        self._parser = ReplyParser()
        self._seen = 0
        self.greeting = self.replies()

    def replies(self) -> list[Reply]:
        """
        The replies sent since the last call.
        """
        data = self.transport.value()
        new, self._seen = data[self._seen :], len(data)
        return self._parser.feed(new)

    def send(self, data: bytes | str) -> list[Reply]:
        """
        Send bytes (a str is encoded, and gets CRLF if it has no line
        ending); return the replies they drew.
        """
        if isinstance(data, str):
            data = data.encode()
            if not data.endswith(b"\n"):
                data += b"\r\n"
        self.protocol.dataReceived(data)
        return self.replies()

    def one(self, data: bytes | str) -> Reply:
        replies = self.send(data)
        assert len(replies) == 1, replies
        return replies[0]

    def codes(self, data: bytes | str) -> list[int]:
        return [r.code for r in self.send(data)]


def checker() -> MemoryPasswordChecker:
    return MemoryPasswordChecker([("alice", "wonderland")], FAST, runSynchronously)


class GreetingTests(SynchronousTestCase):
    """
    The greeting, HELO and EHLO (RFC 5321 sections 4.1.1.1 and 4.3.1).
    """

    def test_greeting(self) -> None:
        session = Session()
        self.assertEqual(session.greeting, [Reply(220, (f"{HOST} ESMTP netref",))])

    def test_helo(self) -> None:
        reply = Session().one("HELO crepes.fr")
        self.assertEqual(reply, Reply(250, (f"{HOST} Hello crepes.fr, pleased to meet you",)))

    def test_heloNeedsDomain(self) -> None:
        self.assertEqual(Session().one("HELO").code, 501)
        self.assertEqual(Session().one("EHLO").code, 501)

    def test_ehloExtensions(self) -> None:
        reply = Session().one("EHLO crepes.fr")
        self.assertEqual(reply.code, 250)
        self.assertEqual(
            list(reply.lines[1:]),
            [f"SIZE {10 * 2**20}", "8BITMIME", "PIPELINING", "ENHANCEDSTATUSCODES"],
        )

    def test_ehloSizeFollowsLimit(self) -> None:
        reply = Session(maxMessageSize=1234).one("EHLO crepes.fr")
        self.assertIn("SIZE 1234", reply.lines)

    def test_ehloStartTLSAndNoAuthBeforeTLS(self) -> None:
        """
        With TLS options STARTTLS is offered; AUTH PLAIN/LOGIN are not
        offered in the clear (RFC 4954 section 4).
        """
        reply = Session(tlsOptions=object(), checker=checker()).one("EHLO crepes.fr")
        self.assertIn("STARTTLS", reply.lines)
        self.assertFalse([line for line in reply.lines if line.startswith("AUTH")])

    def test_ehloAuthWhenPlaintextAllowed(self) -> None:
        reply = Session(checker=checker(), allowPlaintextAuth=True).one("EHLO crepes.fr")
        self.assertIn("AUTH PLAIN LOGIN", reply.lines)

    def test_ehloImplicitTLS(self) -> None:
        """
        On an implicit-TLS port AUTH is offered and STARTTLS is not.
        """
        session = Session(tlsOptions=object(), checker=checker(), implicitTLS=True)
        reply = session.one("EHLO crepes.fr")
        self.assertIn("AUTH PLAIN LOGIN", reply.lines)
        self.assertNotIn("STARTTLS", reply.lines)


class TransactionTests(SynchronousTestCase):
    """
    MAIL, RCPT and DATA, in the order RFC 5321 section 4.1.4 asks.
    """

    def test_textbook(self) -> None:
        """
        The dialogue of the textbook's section 2.3.1, reply by reply.
        """
        session = Session()
        self.assertEqual(session.one("HELO crepes.fr").code, 250)
        self.assertEqual(
            session.one("MAIL FROM: <alice@crepes.fr>"),
            Reply(250, ("2.1.0 <alice@crepes.fr>... Sender ok",)),
        )
        self.assertEqual(
            session.one("RCPT TO: <bob@hamburger.edu>"),
            Reply(250, ("2.1.5 <bob@hamburger.edu>... Recipient ok",)),
        )
        self.assertEqual(
            session.one("DATA"), Reply(354, ('Enter mail, end with "." on a line by itself',))
        )
        self.assertEqual(session.send("Do you like ketchup?\r\nHow about pickles?\r\n"), [])
        self.assertEqual(
            session.one(".\r\n"), Reply(250, ("2.0.0 Message accepted for delivery",))
        )
        self.assertEqual(session.one("QUIT"), Reply(221, (f"2.0.0 {HOST} closing connection",)))
        self.assertTrue(session.transport.disconnecting)
        [(envelope, message)] = session.delivery.delivered
        self.assertEqual(envelope.mailFrom, "alice@crepes.fr")
        self.assertEqual(envelope.recipients, ("bob@hamburger.edu",))
        self.assertEqual(envelope.heloName, "crepes.fr")
        self.assertEqual(envelope.clientAddress, "192.0.2.7")
        self.assertIsNone(envelope.authenticatedAs)
        self.assertFalse(envelope.tls)
        self.assertTrue(message.startswith(b"Received: from crepes.fr ([192.0.2.7])\r\n"))
        self.assertTrue(message.endswith(b"\r\nDo you like ketchup?\r\nHow about pickles?\r\n"))

    def test_receivedHeader(self) -> None:
        """
        RFC 5321 section 4.4: from, by, with, id, for, and the date.
        """
        clock = Clock()
        clock.advance(1_700_000_000)
        session = Session(clock=clock)
        session.send("EHLO crepes.fr\r\nMAIL FROM:<a@crepes.fr>\r\nRCPT TO:<bob@hamburger.edu>")
        session.send("DATA\r\nhi\r\n.\r\n")
        message = session.delivery.delivered[0][1]
        header = message.split(b"\r\nhi\r\n")[0].decode()
        self.assertRegex(
            header,
            r"^Received: from crepes\.fr \(\[192\.0\.2\.7\]\)\r\n"
            rf"\tby {HOST} \(netref\) with ESMTP id c\d+\.1\r\n"
            r"\tfor <bob@hamburger\.edu>; Tue, 14 Nov 2023 22:13:20 \+0000$",
        )

    def test_receivedWithoutForManyRecipients(self) -> None:
        session = Session()
        session.send("HELO x.org\r\nMAIL FROM:<>\r\nRCPT TO:<bob@hamburger.edu>")
        session.send("RCPT TO:<alice@hamburger.edu>\r\nDATA\r\nhi\r\n.\r\n")
        header = session.delivery.delivered[0][1].split(b"\r\nhi")[0]
        self.assertNotIn(b"for <", header)
        self.assertIn(b" with SMTP id ", header)

    def test_orderEnforced(self) -> None:
        session = Session()
        self.assertEqual(session.one("MAIL FROM:<a@b.org>").lines[0][:5], "5.5.1")
        self.assertEqual(session.codes("MAIL FROM:<a@b.org>"), [503])
        session.send("HELO crepes.fr")
        self.assertEqual(session.codes("RCPT TO:<bob@hamburger.edu>"), [503])
        self.assertEqual(session.codes("DATA"), [503])
        self.assertEqual(session.codes("MAIL FROM:<a@b.org>"), [250])
        self.assertEqual(session.codes("MAIL FROM:<a@b.org>"), [503])
        self.assertEqual(session.one("DATA"), Reply(554, ("5.5.1 no valid recipients",)))

    def test_nullSender(self) -> None:
        session = Session()
        session.send("HELO x.org")
        self.assertEqual(session.codes("MAIL FROM:<>"), [250])

    def test_badSender(self) -> None:
        session = Session()
        session.send("HELO x.org")
        reply = session.one("MAIL FROM:<a@@b>")
        self.assertEqual((reply.code, reply.enhanced), (501, "5.1.7"))
        reply = session.one("MAIL TO:<a@b.org>")
        self.assertEqual((reply.code, reply.enhanced), (501, "5.5.4"))

    def test_sizeParameter(self) -> None:
        """
        RFC 1870 section 6: a declared size over the limit gets 552 5.3.4.
        """
        session = Session(maxMessageSize=1000)
        session.send("EHLO x.org")
        reply = session.one("MAIL FROM:<a@x.org> SIZE=1001")
        self.assertEqual((reply.code, reply.enhanced), (552, "5.3.4"))
        self.assertEqual(session.codes("MAIL FROM:<a@x.org> SIZE=abc"), [501])
        self.assertEqual(session.codes("MAIL FROM:<a@x.org> SIZE=1000"), [250])

    def test_bodyParameter(self) -> None:
        session = Session()
        session.send("EHLO x.org")
        self.assertEqual(session.codes("MAIL FROM:<a@x.org> BODY=BINARYMIME"), [501])
        session.send("MAIL FROM:<a@x.org> BODY=8bitmime\r\nRCPT TO:<bob@hamburger.edu>")
        session.send("DATA\r\nCaf\xc3\xa9\r\n.\r\n".encode("latin-1"))
        envelope, message = session.delivery.delivered[0]
        self.assertEqual(envelope.bodyType, "8BITMIME")
        self.assertTrue(message.endswith("Café\r\n".encode()))

    def test_unknownParameter(self) -> None:
        session = Session()
        session.send("EHLO x.org")
        reply = session.one("MAIL FROM:<a@x.org> RET=FULL")
        self.assertEqual((reply.code, reply.enhanced), (555, "5.5.4"))
        session.send("MAIL FROM:<a@x.org>")
        self.assertEqual(session.codes("RCPT TO:<bob@hamburger.edu> NOTIFY=NEVER"), [555])

    def test_parametersNeedEhlo(self) -> None:
        session = Session()
        session.send("HELO x.org")
        self.assertEqual(session.codes("MAIL FROM:<a@x.org> SIZE=10"), [555])

    def test_authParameterAccepted(self) -> None:
        session = Session()
        session.send("EHLO x.org")
        self.assertEqual(session.codes("MAIL FROM:<a@x.org> AUTH=<>"), [250])

    def test_dataArgument(self) -> None:
        session = Session()
        session.send("HELO x.org\r\nMAIL FROM:<>\r\nRCPT TO:<bob@hamburger.edu>")
        self.assertEqual(session.codes("DATA now"), [501])

    def test_dotStuffing(self) -> None:
        """
        RFC 5321 section 4.5.2: the server removes the doubled dots.
        """
        session = Session()
        session.send("HELO x.org\r\nMAIL FROM:<>\r\nRCPT TO:<bob@hamburger.edu>\r\nDATA")
        self.assertEqual(session.codes("..\r\n...dots\r\n.leading\r\n.\r\n"), [250])
        message = session.delivery.delivered[0][1]
        self.assertTrue(message.endswith(b"\r\n.\r\n..dots\r\nleading\r\n"))

    def test_transactionReset(self) -> None:
        """
        After a message, a new transaction starts from MAIL.
        """
        session = Session()
        session.send("HELO x.org\r\nMAIL FROM:<>\r\nRCPT TO:<bob@hamburger.edu>\r\nDATA")
        session.send("one\r\n.\r\n")
        self.assertEqual(session.codes("RCPT TO:<bob@hamburger.edu>"), [503])
        session.send("MAIL FROM:<x@y.org>\r\nRCPT TO:<alice@hamburger.edu>\r\nDATA")
        session.send("two\r\n.\r\n")
        self.assertEqual(
            [e.recipients for e, _ in session.delivery.delivered],
            [("bob@hamburger.edu",), ("alice@hamburger.edu",)],
        )


class RecipientTests(SynchronousTestCase):
    """
    RCPT and the relay rule (RFC 5321 section 3.6).
    """

    def setUp(self) -> None:
        self.session = Session()
        self.session.send("HELO crepes.fr\r\nMAIL FROM:<alice@crepes.fr>")

    def rcpt(self, path: str) -> Reply:
        return self.session.one(f"RCPT TO:{path}")

    def test_unknownLocalUser(self) -> None:
        reply = self.rcpt("<nobody@hamburger.edu>")
        self.assertEqual((reply.code, reply.enhanced), (550, "5.1.1"))

    def test_caseInsensitiveUserAndDomain(self) -> None:
        self.assertEqual(self.rcpt("<Bob@Hamburger.EDU>").code, 250)

    def test_alias(self) -> None:
        self.assertEqual(self.rcpt("<team@mail.hamburger.edu>").code, 250)

    def test_postmaster(self) -> None:
        """
        RFC 5321 section 4.1.1.3: <Postmaster> without a domain.
        """
        self.assertEqual(self.rcpt("<Postmaster>").code, 250)
        self.assertEqual(self.rcpt("<postmaster@hamburger.edu>").code, 250)

    def test_relayDenied(self) -> None:
        reply = self.rcpt("<someone@example.org>")
        self.assertEqual(reply, Reply(550, ("5.7.1 <someone@example.org>... relaying denied",)))

    def test_relayTricks(self) -> None:
        """
        Old relay tricks: C{%}, C{!} and quoted local parts are local parts
        nobody has; a source route is ignored, so the mailbox's own domain
        decides.
        """
        for path in [
            "<bob%example.org@hamburger.edu>",
            "<example.org!bob@hamburger.edu>",
            '<"bob@example.org"@hamburger.edu>',
            '<"bob%example.org"@hamburger.edu>',
        ]:
            reply = self.rcpt(path)
            self.assertEqual((reply.code, reply.enhanced), (550, "5.1.1"), path)
        for path in [
            "<@hamburger.edu:bob@example.org>",
            "<@hamburger.edu,@mail.hamburger.edu:bob@example.org>",
            "<bob@[127.0.0.1]>",
            "<bob@hamburger.edu.example.org>",
        ]:
            reply = self.rcpt(path)
            self.assertEqual((reply.code, reply.enhanced), (550, "5.7.1"), path)
        self.assertEqual(self.session.protocol.recipients, [])

    def test_sourceRouteToLocal(self) -> None:
        self.assertEqual(self.rcpt("<@example.org:bob@hamburger.edu>").code, 250)
        self.assertEqual(self.session.protocol.recipients, ["bob@hamburger.edu"])

    def test_quotedLocalUser(self) -> None:
        """
        A quoted local part that is a user's name reaches that user.
        """
        self.assertEqual(self.rcpt('<"bob"@hamburger.edu>').code, 250)

    def test_badAddress(self) -> None:
        reply = self.rcpt("<bob@>")
        self.assertEqual((reply.code, reply.enhanced), (501, "5.1.3"))
        self.assertEqual(self.rcpt("bob@hamburger.edu").code, 501)

    def test_tooManyRecipients(self) -> None:
        """
        RFC 5321 section 4.5.3.1.10: 452 beyond the limit.
        """
        session = Session(
            policy=MailAccounts([HOST], [f"u{i}" for i in range(MAX_RECIPIENTS + 1)])
        )
        session.send("HELO x.org\r\nMAIL FROM:<>")
        rcpts = "".join(f"RCPT TO:<u{i}@{HOST}>\r\n" for i in range(MAX_RECIPIENTS + 1))
        replies = session.send(rcpts)
        self.assertEqual([r.code for r in replies], [250] * MAX_RECIPIENTS + [452])
        self.assertEqual(replies[-1].enhanced, "4.5.3")

    def test_relayAfterAuth(self) -> None:
        session = Session(checker=checker(), allowPlaintextAuth=True)
        session.send("EHLO crepes.fr")
        self.assertEqual(session.codes(f"AUTH PLAIN {plain('alice', 'wonderland')}"), [235])
        session.send("MAIL FROM:<alice@hamburger.edu>")
        self.assertEqual(session.codes("RCPT TO:<someone@example.org>"), [250])
        session.send("DATA\r\nhi\r\n.\r\n")
        envelope, message = session.delivery.delivered[0]
        self.assertEqual(envelope.authenticatedAs, "alice")
        self.assertIn(b" with ESMTPA id ", message)


class OtherCommandTests(SynchronousTestCase):
    """
    RSET, NOOP, VRFY, EXPN, HELP, QUIT and unknown commands.
    """

    def test_rset(self) -> None:
        session = Session()
        session.send("HELO x.org\r\nMAIL FROM:<>\r\nRCPT TO:<bob@hamburger.edu>")
        self.assertEqual(session.one("RSET"), Reply(250, ("2.0.0 OK",)))
        self.assertEqual(session.codes("DATA"), [503])
        self.assertEqual(session.codes("RSET now"), [501])

    def test_noop(self) -> None:
        self.assertEqual(Session().codes("NOOP"), [250])
        self.assertEqual(Session().codes("NOOP anything"), [250])

    def test_vrfy(self) -> None:
        """
        RFC 5321 section 3.5.3: 252, without confirming anything.
        """
        reply = Session().one("VRFY bob")
        self.assertEqual((reply.code, reply.enhanced), (252, "2.5.0"))
        self.assertEqual(Session().one("VRFY nobody").code, 252)
        self.assertEqual(Session().codes("VRFY"), [501])

    def test_expn(self) -> None:
        self.assertEqual(Session().codes("EXPN team"), [502])

    def test_help(self) -> None:
        reply = Session().one("HELP")
        self.assertEqual(reply.code, 214)
        self.assertIn("QUIT", reply.lines[0])

    def test_unknown(self) -> None:
        reply = Session().one("BDAT 10")
        self.assertEqual((reply.code, reply.enhanced), (500, "5.5.1"))

    def test_syntax(self) -> None:
        reply = Session().one(b"\xff\xfe\r\n")
        self.assertEqual((reply.code, reply.enhanced), (500, "5.5.2"))

    def test_caseInsensitive(self) -> None:
        self.assertEqual(Session().codes("helo x.org"), [250])

    def test_tooManyErrors(self) -> None:
        """
        A client that keeps sending nonsense is sent away with 421.
        """
        session = Session(maxErrors=3)
        codes = session.codes("X\r\nY\r\nZ\r\nNOOP\r\n")
        self.assertEqual(codes, [500, 500, 500, 421])
        self.assertTrue(session.transport.disconnecting)

    def test_idleTimeout(self) -> None:
        """
        RFC 5321 section 4.5.3.2.7: after the idle timeout, 421 and close.
        """
        session = Session(idleTimeout=300)
        session.clock.advance(299)
        session.send("NOOP")
        session.clock.advance(299)
        self.assertFalse(session.transport.disconnecting)
        session.clock.advance(1)
        reply = session.replies()[0]
        self.assertEqual((reply.code, reply.enhanced), (421, "4.4.2"))
        self.assertTrue(session.transport.disconnecting)

    def test_noIdleTimeoutWhileDelivering(self) -> None:
        """
        A slow delivery is the server's silence: the idle timer waits for
        it, and starts again once the client has its answer.
        """
        delivery = RecordingDelivery(auto=False)
        session = Session(delivery=delivery, idleTimeout=300)
        session.send("HELO x.org\r\nMAIL FROM:<>\r\nRCPT TO:<bob@hamburger.edu>\r\nDATA")
        session.send(".\r\n")
        session.clock.advance(1000)
        self.assertFalse(session.transport.disconnecting)
        delivery.pending[0].callback(None)
        self.assertEqual(session.codes(b""), [250])
        session.clock.advance(300)
        self.assertTrue(session.transport.disconnecting)

    def test_idleTimeoutAfterImmediateDelivery(self) -> None:
        """
        A delivery that answers at once leaves the idle timer running, and
        it counts from the last thing the client sent: the client still
        gets its full timeout after the 250, and no more.
        """
        session = Session(idleTimeout=300)
        session.send("HELO x.org\r\nMAIL FROM:<>\r\nRCPT TO:<bob@hamburger.edu>\r\nDATA")
        session.clock.advance(200)
        self.assertEqual(session.codes(".\r\n"), [250])
        self.assertEqual(len(session.clock.getDelayedCalls()), 1)
        session.clock.advance(299)
        self.assertFalse(session.transport.disconnecting)
        session.clock.advance(1)
        self.assertEqual(session.codes(b""), [421])
        self.assertTrue(session.transport.disconnecting)

    def test_quitIgnoresTheRest(self) -> None:
        session = Session()
        self.assertEqual(session.codes("QUIT\r\nNOOP\r\n"), [221])


class FramingTests(SynchronousTestCase):
    """
    Line endings, line lengths, sizes and SMTP smuggling.
    """

    def startData(self, **kwargs: Any) -> Session:
        session = Session(**kwargs)
        session.send("EHLO x.org\r\nMAIL FROM:<a@x.org>\r\nRCPT TO:<bob@hamburger.edu>\r\nDATA")
        return session

    def test_bareLFCommand(self) -> None:
        session = Session()
        reply = session.one(b"HELO x.org\n")
        self.assertEqual((reply.code, reply.enhanced), (500, "5.5.2"))
        self.assertEqual(session.codes("HELO x.org"), [250])

    def test_bareCRCommand(self) -> None:
        self.assertEqual(Session().codes(b"NOOP\rQUIT\r\n"), [500])

    def test_commandTooLong(self) -> None:
        """
        A command line over the limit gets 500 5.5.2, and the session
        goes on.
        """
        session = Session()
        reply = session.one(b"NOOP " + b"x" * MAX_COMMAND_LINE + b"\r\n")
        self.assertEqual((reply.code, reply.enhanced), (500, "5.5.2"))
        self.assertEqual(session.codes("NOOP"), [250])

    def test_commandAtLimit(self) -> None:
        line = b"NOOP " + b"x" * (MAX_COMMAND_LINE - 7) + b"\r\n"
        self.assertEqual(len(line), MAX_COMMAND_LINE)
        self.assertEqual(Session().codes(line), [250])

    def test_textLineTooLong(self) -> None:
        session = self.startData()
        reply = session.one(b"x" * 999 + b"\r\n.\r\n")
        self.assertEqual((reply.code, reply.enhanced), (554, "5.6.0"))
        self.assertEqual(session.delivery.delivered, [])
        session = self.startData()
        self.assertEqual(session.codes(b"x" * 998 + b"\r\n.\r\n"), [250])

    def test_messageTooBig(self) -> None:
        session = self.startData(maxMessageSize=100)
        reply = session.one(b"x" * 60 + b"\r\n" + b"y" * 60 + b"\r\n.\r\n")
        self.assertEqual((reply.code, reply.enhanced), (552, "5.3.4"))
        self.assertEqual(session.delivery.delivered, [])
        self.assertEqual(session.codes("NOOP"), [250])

    def test_smuggling(self) -> None:
        """
        A message with a fake end of data and a second, forged
        transaction: only CRLF.CRLF ends the data, the message is refused
        for its bare line endings, and the forged commands are never run.
        """
        forged = (
            b"MAIL FROM:<admin@hamburger.edu>\r\nRCPT TO:<bob@hamburger.edu>\r\nDATA\r\nforged\r\n"
        )
        for fake in [b"\n.\n", b"\r.\r", b"\r\n.\n", b"\n.\r\n", b"\r.\r\n"]:
            session = self.startData()
            replies = session.send(b"Subject: hi\r\n\r\nhello" + fake + forged + b".\r\n")
            self.assertEqual([(r.code, r.enhanced) for r in replies], [(554, "5.6.0")], fake)
            self.assertEqual(session.delivery.delivered, [], fake)
            self.assertEqual(session.codes("NOOP"), [250])

    def test_bareLFInData(self) -> None:
        session = self.startData()
        self.assertEqual(session.codes(b"line one\nline two\r\n.\r\n"), [554])

    def test_dataInPieces(self) -> None:
        session = self.startData()
        for piece in [b"Sub", b"ject: x\r", b"\n\r\nbody\r\n.", b"\r", b"\n"]:
            session.send(piece)
        self.assertEqual(len(session.delivery.delivered), 1)
        self.assertTrue(session.delivery.delivered[0][1].endswith(b"Subject: x\r\n\r\nbody\r\n"))


class PipeliningTests(SynchronousTestCase):
    """
    RFC 2920: commands sent together get their replies in order.
    """

    transaction = (
        b"EHLO crepes.fr\r\nMAIL FROM:<alice@crepes.fr>\r\nRCPT TO:<bob@hamburger.edu>\r\n"
        b"RCPT TO:<nobody@hamburger.edu>\r\nRCPT TO:<alice@hamburger.edu>\r\nDATA\r\n"
        b"Subject: pipelined\r\n\r\nhello\r\n.\r\nQUIT\r\n"
    )

    def test_wholeTransactionInOneWrite(self) -> None:
        session = Session()
        self.assertEqual(session.codes(self.transaction), [250, 250, 250, 550, 250, 354, 250, 221])
        [(envelope, _)] = session.delivery.delivered
        self.assertEqual(envelope.recipients, ("bob@hamburger.edu", "alice@hamburger.edu"))

    def test_byteByByte(self) -> None:
        session = Session()
        codes = []
        for i in range(len(self.transaction)):
            codes.extend(session.codes(self.transaction[i : i + 1]))
        self.assertEqual(codes, [250, 250, 250, 550, 250, 354, 250, 221])

    def test_waitsForDelivery(self) -> None:
        """
        The reply to the final dot comes only when the delivery agent is
        done, and the pipelined QUIT is answered after it.
        """
        delivery = RecordingDelivery(auto=False)
        session = Session(delivery=delivery)
        self.assertEqual(session.codes(self.transaction), [250, 250, 250, 550, 250, 354])
        self.assertEqual(session.codes(b"NOOP\r\n"), [])
        delivery.pending[0].callback(None)
        self.assertEqual(session.codes(b""), [250, 221])
        self.assertTrue(session.transport.disconnecting)

    def test_pendingLimit(self) -> None:
        """
        A client that floods the server while a delivery is under way is
        sent away with 421 rather than buffered without end.
        """
        delivery = RecordingDelivery(auto=False)
        session = Session(delivery=delivery)
        session.send(self.transaction.replace(b"QUIT\r\n", b""))
        self.assertEqual(session.codes(b"NOOP\r\n" * 10_000), [])
        replies = session.send(b"NOOP\r\n" * 40_000)
        self.assertEqual([(r.code, r.enhanced) for r in replies], [(421, "4.7.0")])
        self.assertTrue(session.transport.disconnecting)

    def test_deliveryFailure(self) -> None:
        """
        Contract: 451 4.3.0 when the delivery agent fails; the session goes on.
        """
        delivery = RecordingDelivery(auto=False)
        session = Session(delivery=delivery)
        session.send(self.transaction.replace(b"QUIT\r\n", b"NOOP\r\n"))
        delivery.pending[0].errback(OSError("disk full"))
        replies = session.replies()
        self.assertEqual([(r.code, r.enhanced) for r in replies], [(451, "4.3.0"), (250, "2.0.0")])
        self.assertEqual(len(self.flushLoggedErrors(OSError)), 1)

    def test_nullDelivery(self) -> None:
        delivery = NullDelivery()
        session = Session(delivery=delivery)
        session.send(self.transaction)
        self.assertEqual((delivery.messages, delivery.last is not None), (1, True))
        self.assertEqual(delivery.octets, len(delivery.last[1]) if delivery.last else -1)


class StartTLSTests(SynchronousTestCase):
    """
    STARTTLS (RFC 3207) over a fake TLS transport.
    """

    def session(self, **kwargs: Any) -> Session:
        kwargs.setdefault("tlsOptions", object())
        return Session(transport=FakeTLSTransport(), **kwargs)

    def test_startTLS(self) -> None:
        session = self.session()
        session.send("EHLO crepes.fr")
        self.assertEqual(session.one("STARTTLS"), Reply(220, ("2.0.0 Ready to start TLS",)))
        transport = session.transport
        assert isinstance(transport, FakeTLSTransport)
        self.assertIs(transport.tlsStarted, session.factory.tlsOptions)
        self.assertTrue(transport.valueAtTLS.endswith(b"220 2.0.0 Ready to start TLS\r\n"))

    def test_injectionDiscarded(self) -> None:
        """
        Commands in the same packet after STARTTLS are discarded, not
        answered after the handshake (CVE-2011-0411).
        """
        session = self.session()
        session.send("EHLO crepes.fr")
        replies = session.send(b"STARTTLS\r\nRSET\r\nMAIL FROM:<evil@x.org>\r\n")
        self.assertEqual([r.code for r in replies], [220])
        self.assertEqual(session.replies(), [])
        self.assertIsNone(session.protocol.mailFrom)
        self.assertEqual(session.codes("NOOP"), [250])

    def test_sessionForgotten(self) -> None:
        """
        RFC 3207 section 4.2: after the handshake the client starts over
        with EHLO, and STARTTLS is no longer offered.
        """
        session = self.session(checker=checker())
        session.send("EHLO crepes.fr\r\nMAIL FROM:<a@crepes.fr>")
        session.send("RSET\r\nSTARTTLS")
        self.assertEqual(session.codes("MAIL FROM:<a@crepes.fr>"), [503])
        reply = session.one("EHLO crepes.fr")
        self.assertNotIn("STARTTLS", reply.lines)
        self.assertIn("AUTH PLAIN LOGIN", reply.lines)
        self.assertEqual(session.codes("STARTTLS"), [503])

    def test_tlsInReceived(self) -> None:
        session = self.session()
        session.send("EHLO crepes.fr\r\nSTARTTLS")
        session.send("EHLO crepes.fr\r\nMAIL FROM:<a@crepes.fr>\r\nRCPT TO:<bob@hamburger.edu>")
        session.send("DATA\r\nhi\r\n.\r\n")
        envelope, message = session.delivery.delivered[0]
        self.assertTrue(envelope.tls)
        self.assertIn(b" with ESMTPS id ", message)

    def test_notOffered(self) -> None:
        session = Session()
        self.assertEqual(session.codes("STARTTLS"), [502])

    def test_argument(self) -> None:
        self.assertEqual(self.session().codes("STARTTLS now"), [501])


class AuthTests(SynchronousTestCase):
    """
    AUTH PLAIN and LOGIN (RFC 4954), with exact replies.
    """

    def session(self, **kwargs: Any) -> Session:
        kwargs.setdefault("checker", checker())
        kwargs.setdefault("allowPlaintextAuth", True)
        session = Session(**kwargs)
        session.send("EHLO crepes.fr")
        return session

    def test_plainInitialResponse(self) -> None:
        session = self.session()
        reply = session.one(f"AUTH PLAIN {plain('alice', 'wonderland')}")
        self.assertEqual(reply, Reply(235, ("2.7.0 authentication successful",)))
        self.assertEqual(session.protocol.authenticatedAs, "alice")

    def test_plainChallenge(self) -> None:
        session = self.session()
        self.assertEqual(session.one("AUTH PLAIN"), Reply(334, ("",)))
        self.assertEqual(session.codes(plain("alice", "wonderland")), [235])

    def test_wrongPassword(self) -> None:
        session = self.session()
        reply = session.one(f"AUTH PLAIN {plain('alice', 'rabbit')}")
        self.assertEqual(reply, Reply(535, ("5.7.8 authentication credentials invalid",)))
        self.assertIsNone(session.protocol.authenticatedAs)
        self.assertEqual(session.codes(f"AUTH PLAIN {plain('alice', 'wonderland')}"), [235])

    def test_otherAuthzid(self) -> None:
        session = self.session()
        self.assertEqual(session.codes(f"AUTH PLAIN {plain('alice', 'wonderland', 'bob')}"), [535])

    def test_login(self) -> None:
        session = self.session()
        self.assertEqual(session.one("AUTH LOGIN"), Reply(334, ("VXNlcm5hbWU6",)))
        self.assertEqual(session.one(b64("alice")), Reply(334, ("UGFzc3dvcmQ6",)))
        self.assertEqual(session.codes(b64("wonderland")), [235])

    def test_loginInitialResponse(self) -> None:
        session = self.session()
        self.assertEqual(session.one(f"AUTH LOGIN {b64('alice')}"), Reply(334, ("UGFzc3dvcmQ6",)))
        self.assertEqual(session.codes(b64("wonderland")), [235])

    def test_cancel(self) -> None:
        """
        RFC 4954 section 4: C{*} cancels with 501.
        """
        session = self.session()
        session.send("AUTH LOGIN")
        reply = session.one("*")
        self.assertEqual((reply.code, reply.enhanced), (501, "5.0.0"))
        self.assertEqual(session.codes("NOOP"), [250])

    def test_badLineEndsExchange(self) -> None:
        """
        A line too long, or with a bare LF, ends the exchange with 500.
        """
        session = self.session()
        session.send("AUTH LOGIN")
        self.assertEqual(session.codes(b"x" * (MAX_COMMAND_LINE + 10) + b"\r\n"), [500])
        self.assertEqual(session.codes("NOOP"), [250])
        session.send("AUTH LOGIN")
        self.assertEqual(session.codes(b"YWxpY2U=\n"), [500])
        self.assertEqual(session.codes("NOOP"), [250])

    def test_badBase64(self) -> None:
        session = self.session()
        reply = session.one("AUTH PLAIN !!!")
        self.assertEqual((reply.code, reply.enhanced), (501, "5.5.2"))
        session.send("AUTH LOGIN")
        self.assertEqual(session.codes("not base64"), [501])

    def test_malformedPlain(self) -> None:
        session = self.session()
        self.assertEqual(session.codes(f"AUTH PLAIN {b64('alice')}"), [501])
        self.assertEqual(session.codes("AUTH PLAIN ="), [501])

    def test_unknownMechanism(self) -> None:
        reply = self.session().one("AUTH CRAM-MD5")
        self.assertEqual((reply.code, reply.enhanced), (504, "5.5.4"))

    def test_twice(self) -> None:
        session = self.session()
        session.send(f"AUTH PLAIN {plain('alice', 'wonderland')}")
        self.assertEqual(session.codes(f"AUTH PLAIN {plain('alice', 'wonderland')}"), [503])

    def test_duringTransaction(self) -> None:
        session = self.session()
        session.send("MAIL FROM:<a@crepes.fr>")
        self.assertEqual(session.codes(f"AUTH PLAIN {plain('alice', 'wonderland')}"), [503])

    def test_needsEhlo(self) -> None:
        session = Session(checker=checker(), allowPlaintextAuth=True)
        session.send("HELO crepes.fr")
        self.assertEqual(session.codes("AUTH LOGIN"), [503])

    def test_noChecker(self) -> None:
        session = Session()
        session.send("EHLO crepes.fr")
        self.assertEqual(session.codes("AUTH LOGIN"), [502])

    def test_encryptionRequired(self) -> None:
        """
        RFC 4954 section 6: without TLS, 538 5.7.11.
        """
        session = self.session(allowPlaintextAuth=False)
        reply = session.one(f"AUTH PLAIN {plain('alice', 'wonderland')}")
        self.assertEqual(
            reply,
            Reply(538, ("5.7.11 encryption required for requested authentication mechanism",)),
        )
        self.assertIsNone(session.protocol.authenticatedAs)

    def test_afterStartTLS(self) -> None:
        session = Session(transport=FakeTLSTransport(), checker=checker(), tlsOptions=object())
        session.send("EHLO crepes.fr\r\nSTARTTLS\r\n")
        session.send("EHLO crepes.fr")
        self.assertEqual(session.codes(f"AUTH PLAIN {plain('alice', 'wonderland')}"), [235])

    def test_submissionRequiresAuth(self) -> None:
        """
        RFC 4954 section 6: 530 5.7.0 before AUTH where it is required.
        """
        session = self.session(requireAuth=True)
        reply = session.one("MAIL FROM:<alice@hamburger.edu>")
        self.assertEqual((reply.code, reply.enhanced), (530, "5.7.0"))
        session.send(f"AUTH PLAIN {plain('alice', 'wonderland')}")
        self.assertEqual(session.codes("MAIL FROM:<alice@hamburger.edu>"), [250])

    def test_pipelinedAfterAuth(self) -> None:
        """
        Commands pipelined after a (possibly slow) AUTH wait for its
        answer.
        """
        session = self.session()
        replies = session.codes(
            f"AUTH PLAIN {plain('alice', 'wonderland')}\r\nMAIL FROM:<a@x.org>\r\n"
            "RCPT TO:<z@example.org>\r\n"
        )
        self.assertEqual(replies, [235, 250, 250])

    def test_secretsNotTraced(self) -> None:
        """
        The transcript shows C{<credentials>}, never the secrets.
        """
        events: list[dict[str, Any]] = []
        trace.transcriptPublisher.addObserver(events.append)
        self.addCleanup(trace.transcriptPublisher.removeObserver, events.append)
        trace.setTracing(True)
        self.addCleanup(trace.setTracing, False)
        session = self.session()
        session.send(f"AUTH PLAIN {plain('alice', 'wonderland')}")
        session = self.session()
        session.send(f"AUTH LOGIN\r\n{b64('alice')}\r\n{b64('wonderland')}\r\n")
        lines = [f"{e['netref_side']}: {e['netref_line']}" for e in events]
        self.assertIn("C: AUTH PLAIN <credentials>", lines)
        self.assertIn("C: <credentials>", lines)
        self.assertIn(f"S: 250-{HOST} Hello crepes.fr, pleased to meet you", lines)
        text = "\n".join(lines)
        for secret in [plain("alice", "wonderland"), b64("alice"), b64("wonderland")]:
            self.assertNotIn(secret, text)


class FuzzTests(SynchronousTestCase):
    """
    Whatever a client sends, the server answers with SMTP replies and never
    raises.
    """

    @settings(max_examples=300, deadline=None)
    @given(
        st.lists(
            st.one_of(
                st.binary(max_size=60),
                st.sampled_from(
                    [
                        b"EHLO x.org\r\n",
                        b"HELO x.org\r\n",
                        b"MAIL FROM:<a@x.org>\r\n",
                        b"RCPT TO:<bob@hamburger.edu>\r\n",
                        b"RCPT TO:<z@example.org>\r\n",
                        b"DATA\r\n",
                        b".\r\n",
                        b"\r\n.\r\n",
                        b"AUTH LOGIN\r\n",
                        b"AUTH PLAIN\r\n",
                        b"*\r\n",
                        b"RSET\r\n",
                        b"STARTTLS\r\n",
                        b"\n.\n",
                    ]
                ),
            ),
            max_size=20,
        )
    )
    def test_neverRaises(self, pieces: list[bytes]) -> None:
        session = Session(
            checker=checker(), allowPlaintextAuth=True, maxErrors=10**6, maxMessageSize=200
        )
        for piece in pieces:
            for reply in session.send(piece):
                self.assertIn(reply.code // 100, (2, 3, 4, 5))
        self.assertFalse(session._parser.pending)


class TranscriptTests(SynchronousTestCase):
    """
    C{--trace} shows the dialogue as the textbook prints it.
    """

    def test_textbook(self) -> None:
        events: list[dict[str, Any]] = []
        trace.transcriptPublisher.addObserver(events.append)
        self.addCleanup(trace.transcriptPublisher.removeObserver, events.append)
        trace.setTracing(True)
        self.addCleanup(trace.setTracing, False)
        session = Session()
        session.send(
            "HELO crepes.fr\r\nMAIL FROM: <alice@crepes.fr>\r\nRCPT TO: <bob@hamburger.edu>"
        )
        session.send("DATA\r\nDo you like ketchup?\r\nHow about pickles?\r\n.\r\nQUIT\r\n")
        lines = [f"{e['netref_side']}: {e['netref_line']}" for e in events]
        self.assertEqual(
            lines[1:],
            [
                f"S: 220 {HOST} ESMTP netref",
                "C: HELO crepes.fr",
                f"S: 250 {HOST} Hello crepes.fr, pleased to meet you",
                "C: MAIL FROM: <alice@crepes.fr>",
                "S: 250 2.1.0 <alice@crepes.fr>... Sender ok",
                "C: RCPT TO: <bob@hamburger.edu>",
                "S: 250 2.1.5 <bob@hamburger.edu>... Recipient ok",
                "C: DATA",
                'S: 354 Enter mail, end with "." on a line by itself',
                "C: Do you like ketchup?",
                "C: How about pickles?",
                "C: .",
                "S: 250 2.0.0 Message accepted for delivery",
                "C: QUIT",
                f"S: 221 2.0.0 {HOST} closing connection",
            ],
        )


class ReceivedDateTests(SynchronousTestCase):
    """
    The date of the Received field is formatted once per second, and still
    follows the clock.
    """

    def dateOf(self, session: Session) -> bytes:
        session.send("HELO crepes.fr\r\nMAIL FROM:<>\r\nRCPT TO:<bob@hamburger.edu>")
        session.send("DATA\r\nhi\r\n.\r\n")
        header = session.delivery.delivered[-1][1].split(b"\r\nhi\r\n")[0]
        return header.rsplit(b"; ", 1)[1]

    def test_followsTheClock(self) -> None:
        """
        Messages within one second share a date; a later message, received
        after the clock moved on, has its own.
        """
        clock = Clock()
        clock.advance(1_700_000_000.25)
        session = Session(clock=clock)
        first = self.dateOf(session)
        clock.advance(0.5)
        second = self.dateOf(session)
        clock.advance(61)
        third = self.dateOf(session)
        self.assertEqual(first, b"Tue, 14 Nov 2023 22:13:20 +0000")
        self.assertEqual(second, first)
        self.assertEqual(third, b"Tue, 14 Nov 2023 22:14:21 +0000")


class ConstantReplyTests(SynchronousTestCase):
    """
    The replies made once for every session carry the factory's own name.
    """

    def test_perFactory(self) -> None:
        one = Session()
        other = SMTPFactory("crepes.fr", accounts(), NullDelivery(), clock=Clock())
        self.assertEqual(one.greeting, [Reply(220, (f"{HOST} ESMTP netref",))])
        self.assertEqual(other.greetingReply, Reply(220, ("crepes.fr ESMTP netref",)))
        self.assertEqual(one.send("QUIT"), [Reply(221, (f"2.0.0 {HOST} closing connection",))])
        self.assertEqual(other.closingReply, Reply(221, ("2.0.0 crepes.fr closing connection",)))
