"""
The SMTP client (RFC 5321): what a user agent uses to submit a message and
what a mail server uses to relay it to the recipient's server.

The textbook's transcript (section 2.3.1) is the client's whole job::

    S: 220 hamburger.edu
    C: HELO crepes.fr
    S: 250 Hello crepes.fr, pleased to meet you
    C: MAIL FROM: <alice@crepes.fr>
    S: 250 alice@crepes.fr ... Sender ok
    C: RCPT TO: <bob@hamburger.edu>
    S: 250 bob@hamburger.edu ... Recipient ok
    C: DATA
    S: 354 Enter mail, end with "." on a line by itself
    C: Do you like ketchup?
    C: How about pickles?
    C: .
    S: 250 Message accepted for delivery
    C: QUIT
    S: 221 hamburger.edu closing connection

L{sendMail} does that, with today's extensions when the server offers them
in its EHLO reply (RFC 5321 section 4.1.1.1; a server that does not know
EHLO gets HELO):

  - STARTTLS (RFC 3207): the connection is upgraded, the hostname checked
    against the certificate when TLS is I{required}, and EHLO sent again,
    since what the server said in the clear counts for nothing;
  - AUTH PLAIN or LOGIN (RFC 4954, RFC 4616), never in the clear unless
    allowed;
  - PIPELINING (RFC 2920): MAIL, every RCPT and DATA go in one write, and
    their replies are read in order;
  - SIZE (RFC 1870): a message bigger than the server takes is not sent,
    and MAIL says how big it is;
  - 8BITMIME (RFC 6152): MAIL says C{BODY=8BITMIME} for a message with
    8-bit octets.

The message is dot-stuffed (section 4.5.2) by L{netref.smtp.wire.dotStuff}.
Each recipient gets its own result: the RCPT reply if it was refused, else
the reply to the end of the data (L{DeliveryResult}).

L{MXDeliverer} is the relaying half: it finds a domain's mail exchangers
(MX records, falling back to the domain's own address, RFC 5321 section
5.1), tries them in order of preference, and is what
L{netref.smtp.queue.OutgoingQueue} calls.

Embedding::

    from twisted.internet import defer, task
    from netref.smtp.client import sendMail

    async def main(reactor):
        result = await sendMail(reactor, "127.0.0.1", 2525, "alice@crepes.fr",
                                ["bob@hamburger.edu"], b"Subject: hi\\r\\n\\r\\nHello\\r\\n",
                                heloName="crepes.fr")
        print(result.accepted)

    task.react(lambda reactor: defer.ensureDeferred(main(reactor)))
"""

from __future__ import annotations

import base64
import random
import sys
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast
from typing import Protocol as TypingProtocol

from twisted.internet import error
from twisted.internet._sslverify import IOpenSSLTrustRoot
from twisted.internet.abstract import isIPAddress, isIPv6Address
from twisted.internet.defer import Deferred
from twisted.internet.defer import TimeoutError as DeferredTimeoutError
from twisted.internet.endpoints import (
    HostnameEndpoint,
    TCP4ClientEndpoint,
    TCP6ClientEndpoint,
    wrapClientTLS,
)
from twisted.internet.interfaces import IDelayedCall, ITCPTransport
from twisted.internet.protocol import Factory, Protocol, connectionDone
from twisted.internet.ssl import Certificate, CertificateOptions
from twisted.logger import Logger
from twisted.python.failure import Failure

from netref.core.tls import MINIMUM_TLS_VERSION, clientOptions, startTLS
from netref.core.trace import (
    Transcript,
    describeAddress,
    startPrintingTranscripts,
    stopPrintingTranscripts,
)
from netref.smtp.wire import Reply, ReplyParser, SMTPProtocolError, dotStuff

_log = Logger()

#: SMTP's well-known port for relaying (RFC 5321 section 4.5.4.2 says 25).
SMTP_PORT = 25

#: Seconds to wait for each reply.  RFC 5321 section 4.5.3.2 asks for at
#: least 5 minutes for the greeting, MAIL and RCPT, 10 for the end of data.
REPLY_TIMEOUT = 300.0

#: Seconds to wait for a connection.
CONNECT_TIMEOUT = 30.0

#: The ways a client may use TLS.
TLS_NEVER = "never"
#: STARTTLS when the server offers it, without checking who it is: better
#: than nothing against a passive eavesdropper (RFC 7435).  What MTAs do
#: between themselves by default.
TLS_OPPORTUNISTIC = "opportunistic"
#: STARTTLS, and the server's certificate must name the host: submission.
TLS_REQUIRED = "required"
#: TLS from the first byte (port 465, RFC 8314 section 3).
TLS_IMPLICIT = "implicit"
TLS_MODES = (TLS_NEVER, TLS_OPPORTUNISTIC, TLS_REQUIRED, TLS_IMPLICIT)


class DeliveryError(Exception):
    """
    An attempt failed before any recipient got a reply of its own: the
    connection was refused or broke, the server refused to talk, TLS or
    authentication failed, or the domain has no mail server.

    @ivar permanent: whether trying again cannot help (no such domain,
        authentication refused with 535, a message too big).
    @ivar reply: the server's reply that ended it, if any.
    @ivar host: the server asked, if any.
    @ivar statusCode: an RFC 3463 status for a bounce, if known.
    """

    def __init__(
        self,
        reason: str,
        *,
        permanent: bool = False,
        reply: Reply | None = None,
        host: str | None = None,
        statusCode: str | None = None,
    ) -> None:
        super().__init__(reason)
        self.permanent = permanent
        self.reply = reply
        self.host = host
        self.statusCode = statusCode or (reply.enhanced if reply is not None else None)


@dataclass(frozen=True)
class DeliveryResult:
    """
    What the server said about each recipient.

    @ivar host: the server (the name or address connected to).
    @ivar recipients: each recipient's final reply: its RCPT reply when
        refused, else the reply to MAIL, DATA or the end of the data.
    @ivar tls: whether the message went over TLS.
    @ivar extensions: the EHLO keywords the server offered (upper-cased)
        with their parameters.
    """

    host: str
    recipients: Mapping[str, Reply]
    tls: bool = False
    extensions: Mapping[str, str] = field(default_factory=dict)

    @property
    def accepted(self) -> list[str]:
        """
        @return: the recipients the server took responsibility for.
        """
        return [r for r, reply in self.recipients.items() if 200 <= reply.code < 300]

    @property
    def refused(self) -> dict[str, Reply]:
        """
        @return: the recipients refused, with their replies.
        """
        return {r: reply for r, reply in self.recipients.items() if reply.code >= 300}


def parseExtensions(reply: Reply) -> dict[str, str]:
    """
    The service extensions of an EHLO reply (RFC 5321 section 4.1.1.1):
    every line after the first is a keyword and its parameters.

    @return: upper-cased keyword to its parameters (C{""} when none), as
        C{{"SIZE": "10485760", "AUTH": "PLAIN LOGIN", "PIPELINING": ""}}.
    """
    extensions: dict[str, str] = {}
    for line in reply.lines[1:]:
        keyword, _, parameters = line.strip().partition(" ")
        if keyword:
            extensions[keyword.upper()] = parameters.strip()
    return extensions


def _replyText(reply: Reply) -> str:
    return f"{reply.code} {' '.join(reply.lines)}".strip()


class SMTPClientProtocol(Protocol):
    """
    The bytes of one client connection: commands out, replies in.

    The dialogue itself is L{_Transaction}, a coroutine that waits for
    each reply with L{nextReply}; this class only frames, traces and times
    out.
    """

    transport: ITCPTransport | None

    def __init__(self, clock: Any, transcript: Transcript, timeout: float) -> None:
        self.clock = clock
        self.transcript = transcript
        self.timeout = timeout
        self._parser = ReplyParser()
        self._replies: deque[Reply] = deque()
        self._waiting: Deferred[Reply] | None = None
        self._timer: IDelayedCall | None = None
        self._problem: DeliveryError | None = None
        self.lost: Deferred[None] = Deferred()
        self.host = "?"

    def connectionMade(self) -> None:
        assert self.transport is not None
        self.host = describeAddress(self.transport.getPeer())
        if self.transcript.enabled:
            self.transcript.note(f"connected to {self.host}")

    def dataReceived(self, data: bytes) -> None:
        try:
            replies = self._parser.feed(data)
        except SMTPProtocolError as e:
            self._fail(DeliveryError(f"bad reply from {self.host}: {e}", host=self.host))
            assert self.transport is not None
            self.transport.abortConnection()
            return
        for reply in replies:
            if self.transcript.enabled:
                for line in reply.serialize().split(b"\r\n")[:-1]:
                    self.transcript.server(line)
            self._replies.append(reply)
        self._hand()

    def _hand(self) -> None:
        if self._waiting is not None and self._replies:
            d, self._waiting = self._waiting, None
            self._stopTimer()
            d.callback(self._replies.popleft())

    def _fail(self, problem: DeliveryError) -> None:
        if self._problem is None:
            self._problem = problem
        if self._waiting is not None:
            d, self._waiting = self._waiting, None
            self._stopTimer()
            d.errback(self._problem)

    def _stopTimer(self) -> None:
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None

    def nextReply(self, waitingFor: str) -> Deferred[Reply]:
        """
        @param waitingFor: what the reply answers, for the error message.
        @return: the next reply, or a L{DeliveryError} if the connection
            breaks, the server sends garbage or takes longer than
            C{timeout}.
        """
        d: Deferred[Reply] = Deferred()
        if self._replies:
            d.callback(self._replies.popleft())
            return d
        if self._problem is not None:
            d.errback(self._problem)
            return d
        self._waiting = d

        def timedOut() -> None:
            self._timer = None
            self._fail(
                DeliveryError(
                    f"{self.host}: no reply to {waitingFor} within {self.timeout:g} s",
                    host=self.host,
                    statusCode="4.4.2",
                )
            )
            if self.transport is not None:
                self.transport.abortConnection()

        self._timer = self.clock.callLater(self.timeout, timedOut)
        return d

    def sendLine(self, line: str, shown: str | None = None) -> None:
        """
        Send a command line; C{shown} replaces it in the transcript (for
        AUTH, whose argument is a password in base64).
        """
        assert self.transport is not None
        if self.transcript.enabled:
            self.transcript.client(shown if shown is not None else line)
        self.transport.write(line.encode("utf-8") + b"\r\n")

    def sendLines(self, lines: Sequence[str]) -> None:
        """
        Send several command lines in one write: a pipelined group (RFC
        2920 section 3.1).
        """
        assert self.transport is not None
        if self.transcript.enabled:
            for line in lines:
                self.transcript.client(line)
        self.transport.write(b"".join(line.encode("utf-8") + b"\r\n" for line in lines))

    def sendData(self, stuffed: bytes) -> None:
        """
        Send the dot-stuffed message, ending with C{"."} CRLF.
        """
        assert self.transport is not None
        if self.transcript.enabled:
            for line in stuffed.split(b"\r\n")[:-1]:
                self.transcript.client(line)
        self.transport.write(stuffed)

    def discardBuffered(self) -> bytes:
        """
        Forget the replies received and not yet read: at STARTTLS, what
        came in the clear must not be taken as coming over TLS (RFC 3207
        section 6).
        """
        dropped = b"".join(r.serialize() for r in self._replies)
        self._replies.clear()
        self._parser = ReplyParser()
        return dropped

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self._stopTimer()
        why = reason.getErrorMessage() if not reason.check(error.ConnectionDone) else "closed"
        self._fail(DeliveryError(f"{self.host}: connection lost ({why})", host=self.host))
        if self.transcript.enabled:
            self.transcript.note("connection closed")
        self.lost.callback(None)


@dataclass
class _Submission:
    """
    What one transaction is to send, and how.
    """

    mailFrom: str
    recipients: Sequence[str]
    message: bytes
    heloName: str
    tls: str
    tlsHostname: str
    trustRoot: IOpenSSLTrustRoot | Certificate | None
    username: str | None
    password: str | None
    allowPlaintextAuth: bool


class _Transaction:
    """
    The client's side of RFC 5321 section 3.3, over one connection.
    """

    def __init__(self, protocol: SMTPClientProtocol, submission: _Submission) -> None:
        self.p = protocol
        self.s = submission
        self.extensions: dict[str, str] = {}
        self.tls = submission.tls == TLS_IMPLICIT

    def fail(
        self, reason: str, reply: Reply | None = None, permanent: bool = False
    ) -> DeliveryError:
        return DeliveryError(
            f"{self.p.host}: {reason}" + (f": {_replyText(reply)}" if reply else ""),
            permanent=permanent,
            reply=reply,
            host=self.p.host,
        )

    async def command(self, line: str, shown: str | None = None) -> Reply:
        self.p.sendLine(line, shown)
        return await self.p.nextReply(shown or line.split(" ", 1)[0])

    async def hello(self) -> None:
        """
        EHLO, or HELO from a server that does not know EHLO (RFC 5321
        section 4.1.4: a 500 or 502 to EHLO).
        """
        reply = await self.command(f"EHLO {self.s.heloName}")
        if reply.code in (500, 502, 504, 550):
            reply = await self.command(f"HELO {self.s.heloName}")
            self.extensions = {}
        else:
            self.extensions = parseExtensions(reply) if reply.code == 250 else {}
        if reply.code != 250:
            raise self.fail("refused our greeting", reply, permanent=False)

    async def startTLS(self) -> None:
        reply = await self.command("STARTTLS")
        if reply.code != 220:
            if self.s.tls == TLS_REQUIRED:
                raise self.fail("STARTTLS refused", reply)
            return
        assert self.p.transport is not None
        if self.s.tls == TLS_REQUIRED:
            creator: Any = clientOptions(self.s.tlsHostname, self.s.trustRoot)
        else:
            # Opportunistic: encrypt, but do not check the certificate
            # (RFC 7435 section 3; RFC 3207 section 4.1).
            creator = CertificateOptions(verify=False, raiseMinimumTo=MINIMUM_TLS_VERSION)
        startTLS(self.p.transport, creator, self.p.discardBuffered, self.p.transcript)
        self.tls = True
        # RFC 3207 section 4.2: forget what the server said in the clear.
        await self.hello()

    async def authenticate(self) -> None:
        username, password = self.s.username, self.s.password
        assert username is not None and password is not None
        if not self.tls and not self.s.allowPlaintextAuth:
            raise self.fail("will not send a password without TLS", permanent=True)
        mechanisms = self.extensions.get("AUTH", "").upper().split()
        if "PLAIN" in mechanisms:
            # RFC 4616: authzid NUL authcid NUL passwd, with the initial
            # response on the command line (RFC 4954 section 4).
            token = base64.b64encode(f"\0{username}\0{password}".encode()).decode("ascii")
            reply = await self.command(f"AUTH PLAIN {token}", "AUTH PLAIN ********")
        elif "LOGIN" in mechanisms:
            reply = await self.command("AUTH LOGIN")
            for secret, shown in ((username, None), (password, "********")):
                if reply.code != 334:
                    break
                encoded = base64.b64encode(secret.encode()).decode("ascii")
                reply = await self.command(encoded, shown or encoded)
        else:
            raise self.fail("the server offers no AUTH mechanism we know (PLAIN, LOGIN)")
        if reply.code != 235:
            raise self.fail(
                "authentication failed", reply, permanent=reply.code == 535 or reply.code >= 500
            )

    def mailCommand(self) -> str:
        parameters = []
        if "SIZE" in self.extensions:
            parameters.append(f"SIZE={len(self.s.message)}")
        if "8BITMIME" in self.extensions and any(b > 127 for b in self.s.message):
            parameters.append("BODY=8BITMIME")
        return f"MAIL FROM:<{self.s.mailFrom}>" + "".join(" " + p for p in parameters)

    async def run(self) -> DeliveryResult:
        greeting = await self.p.nextReply("the greeting")
        if greeting.code != 220:
            # RFC 5321 section 3.1: 554 instead of 220 means "no service
            # here"; the client should QUIT and try elsewhere.
            await self.quit()
            raise self.fail("refused the connection", greeting)
        await self.hello()
        if self.s.tls in (TLS_OPPORTUNISTIC, TLS_REQUIRED) and not self.tls:
            if "STARTTLS" in self.extensions:
                await self.startTLS()
            elif self.s.tls == TLS_REQUIRED:
                await self.quit()
                raise self.fail("the server does not offer STARTTLS")
        if self.s.username is not None:
            await self.authenticate()
        limit = self.extensions.get("SIZE", "")
        if limit.isdigit() and int(limit) and len(self.s.message) > int(limit):
            # RFC 1870 section 6: do not send what the server will refuse.
            await self.quit()
            raise DeliveryError(
                f"{self.p.host}: the message ({len(self.s.message)} octets) is larger than "
                f"the server accepts ({limit})",
                permanent=True,
                host=self.p.host,
                statusCode="5.3.4",
            )
        results = await self.envelope()
        await self.quit()
        return DeliveryResult(self.p.host, results, self.tls, dict(self.extensions))

    async def envelope(self) -> dict[str, Reply]:
        replies = await self._envelope()
        # In the order the recipients were given.
        return {r: replies[r] for r in dict.fromkeys(self.s.recipients)}

    async def _envelope(self) -> dict[str, Reply]:
        """
        MAIL, RCPT for each recipient, DATA, the message: pipelined when
        the server offers it (RFC 2920), one at a time otherwise.
        """
        recipients = list(dict.fromkeys(self.s.recipients))
        mail = self.mailCommand()
        rcpts = [f"RCPT TO:<{r}>" for r in recipients]
        results: dict[str, Reply] = {}
        if "PIPELINING" in self.extensions:
            self.p.sendLines([mail, *rcpts, "DATA"])
            mailReply = await self.p.nextReply("MAIL")
            rcptReplies = [await self.p.nextReply("RCPT") for _ in rcpts]
            dataReply = await self.p.nextReply("DATA")
        else:
            mailReply = await self.command(mail)
            if mailReply.code != 250:
                return dict.fromkeys(recipients, mailReply)
            rcptReplies = [await self.command(line) for line in rcpts]
            if not any(r.code in (250, 251) for r in rcptReplies):
                return dict(zip(recipients, rcptReplies, strict=True))
            dataReply = await self.command("DATA")
        if mailReply.code != 250:
            if dataReply.code == 354:
                await self.endEmptyData()
            return dict.fromkeys(recipients, mailReply)
        accepted = []
        for recipient, reply in zip(recipients, rcptReplies, strict=True):
            if reply.code in (250, 251):
                accepted.append(recipient)
            else:
                results[recipient] = reply
        if dataReply.code != 354:
            for recipient in accepted:
                results[recipient] = dataReply
            return results
        if not accepted:
            # RFC 2920 section 3.1: DATA was accepted though no recipient
            # was; end it at once, so nothing is delivered.
            await self.endEmptyData()
            return results
        self.p.sendData(dotStuff(self.s.message))
        final = await self.p.nextReply("the end of the data")
        for recipient in accepted:
            results[recipient] = final
        return results

    async def endEmptyData(self) -> None:
        self.p.sendData(b".\r\n")
        await self.p.nextReply("the end of the data")

    async def quit(self) -> None:
        """
        QUIT, then close whatever the server answers (RFC 5321 section
        4.1.1.10).
        """
        try:
            await self.command("QUIT")
        except DeliveryError:
            pass
        if self.p.transport is not None:
            self.p.transport.loseConnection()


class _ClientFactory(Factory):
    noisy = False

    def __init__(self, reactor: Any, transcript: Transcript, timeout: float) -> None:
        self.reactor = reactor
        self.transcript = transcript
        self.timeout = timeout

    def buildProtocol(self, addr: Any) -> SMTPClientProtocol:
        protocol = SMTPClientProtocol(self.reactor, self.transcript, self.timeout)
        protocol.factory = self
        return protocol


def sendMail(
    reactor: Any,
    host: str,
    port: int,
    mailFrom: str,
    recipients: Sequence[str],
    message: bytes,
    *,
    heloName: str,
    tls: str = TLS_OPPORTUNISTIC,
    tlsHostname: str | None = None,
    username: str | None = None,
    password: str | None = None,
    allowPlaintextAuth: bool = False,
    trustRoot: IOpenSSLTrustRoot | Certificate | None = None,
    trace: bool = False,
    timeout: float = REPLY_TIMEOUT,
    connectTimeout: float = CONNECT_TIMEOUT,
    bindAddress: str | None = None,
) -> Deferred[DeliveryResult]:
    """
    Send one message in one SMTP transaction.

    @param host: the server's name or address.
    @param port: its port (25 relay, 587 submission, 465 implicit TLS).
    @param mailFrom: the reverse-path, C{""} for the null sender.
    @param recipients: the forward-paths.
    @param message: the message: header fields, a blank line, the body.
    @param heloName: this host's name, for EHLO.
    @param tls: L{TLS_NEVER}, L{TLS_OPPORTUNISTIC}, L{TLS_REQUIRED} (the
        certificate must name C{tlsHostname} and chain to C{trustRoot}) or
        L{TLS_IMPLICIT} (TLS from the start, checked the same way).
    @param tlsHostname: the name the certificate must carry; C{host} when
        not given.
    @param username: log in with AUTH as this user (with C{password}).
    @param allowPlaintextAuth: send the password even without TLS.
    @param trustRoot: see L{netref.core.tls.clientOptions}.
    @param trace: print the dialogue (C{C:}/C{S:} lines, see
        L{netref.core.trace}) to standard output.  Without it the lines
        still go to the transcript observers when tracing is on.
    @param timeout: seconds to wait for each reply.
    @param connectTimeout: seconds to wait for the connection.
    @param bindAddress: the local address to connect from (in the lab, the
        sending host's own address, so the receiver sees who it is).
    @return: fires with a L{DeliveryResult} once the server has answered
        for every recipient (the connection closed), or fails with a
        L{DeliveryError}.
    """
    if tls not in TLS_MODES:
        raise ValueError(f"tls must be one of {', '.join(TLS_MODES)}")
    if (username is None) != (password is None):
        raise ValueError("give both username and password, or neither")
    if not recipients:
        raise ValueError("at least one recipient is needed")
    submission = _Submission(
        mailFrom,
        recipients,
        message,
        heloName,
        tls,
        tlsHostname or host,
        trustRoot,
        username,
        password,
        allowPlaintextAuth,
    )
    transcript = Transcript()
    endpoint: Any
    source = (bindAddress, 0) if bindAddress is not None else None
    if isIPAddress(host):
        endpoint = TCP4ClientEndpoint(
            reactor, host, port, timeout=connectTimeout, bindAddress=source
        )
    elif isIPv6Address(host):
        endpoint = TCP6ClientEndpoint(
            reactor, host, port, timeout=connectTimeout, bindAddress=source
        )
    else:
        endpoint = HostnameEndpoint(
            reactor, host, port, timeout=connectTimeout, bindAddress=source
        )
    if tls == TLS_IMPLICIT:
        endpoint = wrapClientTLS(clientOptions(submission.tlsHostname, trustRoot), endpoint)
    factory = _ClientFactory(reactor, transcript, timeout)

    async def attempt() -> DeliveryResult:
        printer = None
        if trace and not transcript.enabled:
            printer = startPrintingTranscripts(sys.stdout)
        try:
            return await transaction()
        finally:
            if printer is not None:
                stopPrintingTranscripts(printer)

    async def transaction() -> DeliveryResult:
        try:
            protocol = cast(SMTPClientProtocol, await endpoint.connect(factory))
        except (error.ConnectError, error.DNSLookupError, DeferredTimeoutError, OSError) as e:
            raise DeliveryError(
                f"{host}:{port}: cannot connect ({_connectReason(e)})",
                host=f"{host}:{port}",
                statusCode="4.4.1",
            ) from None
        try:
            return await _Transaction(protocol, submission).run()
        except BaseException:
            if protocol.transport is not None:
                protocol.transport.abortConnection()
            raise
        finally:
            await protocol.lost

    return Deferred.fromCoroutine(attempt())


def _connectReason(e: BaseException) -> str:
    if isinstance(e, error.ConnectionRefusedError):
        return "connection refused"
    if isinstance(e, error.TimeoutError | DeferredTimeoutError):
        return "timed out"
    return str(e) or type(e).__name__


# MX delivery ----------------------------------------------------------------


class DNSLookup(TypingProtocol):
    """
    Finds records: L{StubLookup} (a recursive server's answers) or
    L{IterativeLookup} (from the roots, for the lab).
    """

    def lookup(self, name: str, rtype: int) -> Deferred[list[Any]]:
        """
        @return: the records of C{name} of type C{rtype} (after aliases);
            empty when it has none; fails with
            L{netref.dns.iterative.NameNotFoundError} for NXDOMAIN and
            L{netref.dns.iterative.ResolutionError} otherwise.
        """


class IterativeLookup:
    """
    L{DNSLookup} from the root servers (L{netref.dns.iterative.resolve}).
    """

    def __init__(self, reactor: Any, roots: Sequence[tuple[str, int]]) -> None:
        self.reactor = reactor
        self.roots = list(roots)

    def lookup(self, name: str, rtype: int) -> Deferred[list[Any]]:
        from netref.dns.iterative import resolve

        return resolve(self.reactor, name, rtype, self.roots).addCallback(
            lambda records: [r for r in records if r.rtype == rtype]
        )


class StubLookup:
    """
    L{DNSLookup} through a recursive server (C{--dns ADDR[:PORT]}), with
    netref's stub client (L{netref.dns.client.query}).
    """

    def __init__(self, reactor: Any, servers: Sequence[tuple[str, int]]) -> None:
        self.reactor = reactor
        self.servers = list(servers)

    def lookup(self, name: str, rtype: int) -> Deferred[list[Any]]:
        from netref.dns.client import DNSQueryError, query
        from netref.dns.iterative import NameNotFoundError, ResolutionError
        from netref.dns.name import ROOT, Name
        from netref.dns.wire import Rcode, rcodeToText

        async def ask() -> list[Any]:
            qname = Name.fromText(name, ROOT)
            try:
                response = await query(self.reactor, qname, rtype, servers=self.servers)
            except DNSQueryError as e:
                raise ResolutionError(f"{name}: {e}") from None
            message = response.message
            if message.rcode == Rcode.NXDOMAIN:
                raise NameNotFoundError(qname)
            if message.rcode != Rcode.NOERROR:
                raise ResolutionError(f"{name}: {rcodeToText(message.rcode)}")
            return [r for r in message.answers if r.rtype == rtype]

        return Deferred.fromCoroutine(ask())


@dataclass(frozen=True)
class MailHost:
    """
    One server to try for a domain.

    @ivar name: its name (the MX exchange, or the domain itself).
    @ivar address: an address of it.
    @ivar preference: the MX preference; lower is tried first.
    """

    name: str
    address: str
    preference: int


class MXDeliverer:
    """
    Delivers to a domain's mail exchangers, as an MTA relays mail (RFC 5321
    section 5.1): the queue's L{netref.smtp.queue.RemoteDeliverer}.

    @ivar port: the port of every mail exchanger (25 on the Internet; the
        lab's mail port in the lab, where every host listens on the same
        port, DESIGN.md).
    @ivar relayHost: when set, every message goes to this (host, port)
        instead, without DNS (Postfix's C{relayhost}).
    """

    def __init__(
        self,
        reactor: Any,
        lookup: DNSLookup | None,
        *,
        heloName: str,
        port: int = SMTP_PORT,
        relayHost: tuple[str, int] | None = None,
        tls: str = TLS_OPPORTUNISTIC,
        trustRoot: IOpenSSLTrustRoot | Certificate | None = None,
        timeout: float = REPLY_TIMEOUT,
        connectTimeout: float = CONNECT_TIMEOUT,
        trace: bool = False,
        bindAddress: str | None = None,
    ) -> None:
        if lookup is None and relayHost is None:
            raise ValueError("MX delivery needs a DNS lookup or a relay host")
        self.reactor = reactor
        self.lookup = lookup
        self.heloName = heloName
        self.port = port
        self.relayHost = relayHost
        self.tls = tls
        self.trustRoot = trustRoot
        self.timeout = timeout
        self.connectTimeout = connectTimeout
        self.trace = trace
        self.bindAddress = bindAddress

    async def mailHosts(self, domain: str) -> list[MailHost]:
        """
        The servers for C{domain}, in the order to try them (RFC 5321
        section 5.1): its MX records by preference (equal ones shuffled),
        each exchange's addresses; without MX records, the domain's own
        address (the "implicit MX").

        @raise DeliveryError: permanent for a domain that does not exist
            or a null MX (RFC 7505); temporary when DNS fails.
        """
        from netref.dns.iterative import NameNotFoundError, ResolutionError
        from netref.dns.rdata import MX, RRType

        assert self.lookup is not None
        try:
            records = await self.lookup.lookup(domain, RRType.MX)
            exchanges = [
                (r.rdata.preference, r.rdata.exchange.toText().rstrip("."))
                for r in records
                if isinstance(r.rdata, MX)
            ]
            if not exchanges:
                exchanges = [(0, domain)]
            if any(name == "" for _, name in exchanges) and len(exchanges) == 1:
                raise DeliveryError(
                    f"{domain} accepts no mail (null MX, RFC 7505)",
                    permanent=True,
                    statusCode="5.1.10",
                )
            random.shuffle(exchanges)
            exchanges.sort(key=lambda pair: pair[0])
            hosts: list[MailHost] = []
            for preference, name in exchanges:
                if isIPAddress(name) or isIPv6Address(name):
                    hosts.append(MailHost(name, name, preference))
                    continue
                try:
                    addresses = await self.lookup.lookup(name, RRType.A)
                except NameNotFoundError:
                    continue
                hosts += [MailHost(name, a.rdata.address, preference) for a in addresses]
        except NameNotFoundError:
            raise DeliveryError(
                f"{domain}: no such domain", permanent=True, statusCode="5.1.2"
            ) from None
        except ResolutionError as e:
            raise DeliveryError(
                f"DNS lookup for {domain} failed: {e}", statusCode="4.4.3"
            ) from None
        if not hosts:
            raise DeliveryError(f"{domain}: no address for its mail servers", statusCode="4.4.4")
        return hosts

    def deliver(
        self, domain: str, mailFrom: str, recipients: Sequence[str], message: bytes
    ) -> Deferred[DeliveryResult]:
        """
        Try the domain's servers in order until one answers for the
        recipients.  A server that cannot be reached, or refuses to talk,
        sends us on to the next (RFC 5321 section 5.1); once one has
        answered, its replies are the result.
        """

        async def attempt() -> DeliveryResult:
            if self.relayHost is not None:
                targets = [(self.relayHost[0], self.relayHost[0], self.relayHost[1])]
            else:
                targets = [(h.address, h.name, self.port) for h in await self.mailHosts(domain)]
            last: DeliveryError | None = None
            for address, name, port in targets:
                try:
                    return await sendMail(
                        self.reactor,
                        address,
                        port,
                        mailFrom,
                        recipients,
                        message,
                        heloName=self.heloName,
                        tls=self.tls,
                        tlsHostname=name,
                        trustRoot=self.trustRoot,
                        trace=self.trace,
                        timeout=self.timeout,
                        connectTimeout=self.connectTimeout,
                        bindAddress=self.bindAddress,
                    )
                except DeliveryError as e:
                    _log.info(
                        "Delivery to {name} ({address}) failed: {e}",
                        name=name,
                        address=address,
                        e=e,
                    )
                    if e.permanent:
                        raise
                    last = e
            assert last is not None
            raise last

        return Deferred.fromCoroutine(attempt())
