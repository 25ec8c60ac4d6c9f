"""
An ESMTP server (RFC 5321): the receiving half of the textbook's section
2.3.1, for mail transfer (port 25), submission (RFC 6409, port 587) and
submission over implicit TLS (RFC 8314, port 465).

The dialogue of the textbook, as this server speaks it::

    S: 220 hamburger.edu ESMTP netref
    C: HELO crepes.fr
    S: 250 hamburger.edu Hello crepes.fr, pleased to meet you
    C: MAIL FROM: <alice@crepes.fr>
    S: 250 2.1.0 <alice@crepes.fr>... Sender ok
    C: RCPT TO: <bob@hamburger.edu>
    S: 250 2.1.5 <bob@hamburger.edu>... Recipient ok
    C: DATA
    S: 354 Enter mail, end with "." on a line by itself
    C: Do you like ketchup?
    C: How about pickles?
    C: .
    S: 250 2.0.0 Message accepted for delivery
    C: QUIT
    S: 221 2.0.0 hamburger.edu closing connection

Commands: HELO, EHLO, MAIL, RCPT, DATA, RSET, NOOP, VRFY (always 252:
RFC 5321 section 3.5.3 lets a server decline to confirm mailboxes, and
confirming them helps spammers harvest addresses), HELP, QUIT, and the
extensions' STARTTLS (RFC 3207) and AUTH (RFC 4954, mechanisms PLAIN, RFC
4616, and LOGIN).  EHLO also announces SIZE (RFC 1870), 8BITMIME (RFC
6152), PIPELINING (RFC 2920) and ENHANCEDSTATUSCODES (RFC 2034; the codes
are RFC 3463's).

The rules it enforces, each with the reply it gives:

  - I{order} (RFC 5321 section 4.1.4): HELO or EHLO before MAIL, MAIL
    before RCPT, a recipient before DATA; otherwise C{503 5.5.1}.
  - I{relaying} (section 3.6; RFC 5068): mail for a local domain is taken
    from anyone, if the mailbox exists (else C{550 5.1.1}); mail for any
    other domain only from a client that has authenticated, else
    C{550 5.7.1 relaying denied}.  Source routes are ignored (appendix C),
    and C{%}, C{!} and quoted local parts are local parts, never routes
    (see L{netref.mail.accounts}).
  - I{framing} (L{netref.smtp.wire}): only CRLF ends a line, only
    CRLF "." CRLF ends the data, and a message with a bare CR or LF is
    refused (C{554 5.6.0}), which defeats SMTP smuggling.  Command lines
    are limited to L{MAX_COMMAND_LINE} octets (C{500 5.5.2}), text lines
    to 1000 (C{554 5.6.0}), messages to the SIZE limit (C{552 5.3.4}).
  - I{TLS}: STARTTLS throws away anything the client sent after it in the
    clear (L{netref.core.tls.startTLS}) and forgets the session (RFC 3207
    section 4.2).
  - I{AUTH}: plaintext mechanisms are neither offered nor accepted before
    TLS (RFC 4954 section 4: a server SHOULD NOT offer them without TLS)
    unless the factory allows it; AUTH then gets C{538 5.7.11 Encryption
    required} (RFC 4954 section 6).  Secrets never reach the transcript.
  - I{durability} (section 6.1): 250 after the data only once the
    delivery agent says the message is on disk; C{451 4.3.0} if not.

Embedding, without twistd::

    from twisted.internet import reactor
    from netref.mail.accounts import MailAccounts
    from netref.smtp.server import NullDelivery, SMTPFactory

    accounts = MailAccounts(["hamburger.edu"], ["bob"])
    factory = SMTPFactory("hamburger.edu", accounts, NullDelivery())
    reactor.listenTCP(2525, factory, interface="127.0.0.1")
    reactor.run()
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import format_datetime
from functools import cached_property, lru_cache
from typing import Any, cast

from twisted.cred.checkers import ICredentialsChecker
from twisted.cred.credentials import UsernamePassword
from twisted.internet import defer
from twisted.internet.interfaces import IOpenSSLServerConnectionCreator, IReactorTime
from twisted.internet.protocol import ServerFactory, connectionDone
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import implementer

from netref.core.stream import GuardedStreamProtocol, writeNow
from netref.core.tls import startTLS, tlsActive
from netref.core.trace import Transcript, describeAddress
from netref.smtp.interfaces import Envelope, IDeliveryAgent, IRecipientPolicy
from netref.smtp.wire import (
    MAX_COMMAND_LINE,
    AddressError,
    CommandReader,
    DataProblem,
    DataReader,
    LineEndingError,
    LineTooLongError,
    Reply,
    SMTPProtocolError,
    parseCommand,
    parseMailFrom,
    parseRcptTo,
    splitAddress,
)

__all__ = ["IDLE_TIMEOUT", "MAX_RECIPIENTS", "NullDelivery", "SMTPFactory", "SMTPServerProtocol"]

_log = Logger()

#: Seconds a client may stay silent: RFC 5321 section 4.5.3.2.7 asks a
#: server to wait at least five minutes for the next command.
IDLE_TIMEOUT = 300.0

#: Recipients per message: RFC 5321 section 4.5.3.1.8 requires at least 100;
#: more get C{452 4.5.3} (section 4.5.3.1.10), and the client sends them in
#: another transaction.
MAX_RECIPIENTS = 100

#: Bad commands a client may send before the server gives up on it with 421.
MAX_ERRORS = 20

#: Default message size limit, in octets (announced with SIZE, RFC 1870).
MAX_MESSAGE_SIZE = 10 * 2**20

#: How many octets of pipelined commands may wait while the server waits for
#: a delivery or a password check.
MAX_PENDING = 256 * 1024

_HELO_NAME = re.compile(r"[A-Za-z0-9.:\[\]_-]+\Z")


def _reply(code: int, enhanced: str | None, *lines: str) -> Reply:
    return Reply.of(code, *lines, enhanced=enhanced)


# The replies whose text never changes, made (and serialized) once.
_GO_AHEAD = Reply.of(354, 'Enter mail, end with "." on a line by itself')
_ACCEPTED = _reply(250, "2.0.0", "Message accepted for delivery")
_NOT_ACCEPTED = _reply(451, "4.3.0", "local error in processing, try again later")
_OK = _reply(250, "2.0.0", "OK")
_CANNOT_VRFY = _reply(
    252, "2.5.0", "cannot VRFY user, but will accept message and attempt delivery"
)


@lru_cache(maxsize=4)
def _receivedDate(second: int) -> str:
    """
    The date-time of a Received field (RFC 5322 section 3.3) for a POSIX
    time in whole seconds.  A busy server receives many messages within the
    same second: it formats the date once for them all.
    """
    return format_datetime(datetime.fromtimestamp(second, UTC))


@implementer(IDeliveryAgent)
class NullDelivery:
    """
    A delivery agent that takes every message and keeps none of it: for
    benchmarks and tests.

    @ivar messages: how many messages it has been given.
    @ivar octets: their total size.
    @ivar last: the last envelope and message, for tests.
    """

    def __init__(self) -> None:
        self.messages = 0
        self.octets = 0
        self.last: tuple[Envelope, bytes] | None = None

    def deliver(self, envelope: Envelope, message: bytes) -> defer.Deferred[None]:
        """
        Count the message and drop it.
        """
        self.messages += 1
        self.octets += len(message)
        self.last = (envelope, message)
        return defer.succeed(None)


class _Mode:
    COMMAND = "command"
    DATA = "data"
    AUTH = "auth"


class SMTPServerProtocol(GuardedStreamProtocol):
    """
    One SMTP session, from the greeting to QUIT.

    Bytes go to L{CommandReader} or, after 354, to L{DataReader}; each
    command line is handled at once, in order, which is all PIPELINING (RFC
    2920) needs: replies to a group of commands sent together come back
    together, in order.  While a delivery or a password check is under way
    the server reads on, but handles nothing more until it has answered.
    """

    factory: SMTPFactory

    def __init__(self) -> None:
        self._transcript = Transcript()
        self._reader = CommandReader(MAX_COMMAND_LINE)
        self._dataReader: DataReader | None = None
        self._mode = _Mode.COMMAND
        self._waiting = False
        self._processing = False
        self._errors = 0
        self._messageCount = 0
        self._clientAddress = ""
        self.heloName: str | None = None
        self.esmtp = False
        self.tls = False
        self.authenticatedAs: str | None = None
        self._resetTransaction()
        self._auth: _AuthExchange | None = None

    # Session state --------------------------------------------------------------

    def _resetTransaction(self) -> None:
        """
        Forget the mail transaction (RFC 5321 section 4.1.1.5, RSET).
        """
        self.mailFrom: str | None = None
        self.recipients: list[str] = []
        self.bodyType = "7BIT"

    def connectionMade(self) -> None:
        """
        Greet the client (RFC 5321 section 4.3.1).
        """
        peer = self.transport.getPeer()
        self._clientAddress = str(getattr(peer, "host", ""))
        self.tls = self.factory.implicitTLS or tlsActive(self.transport)
        if self._transcript.enabled:
            self._transcript.note(f"connection from {describeAddress(peer)}")
        self.startGuarding()
        self._send(self.factory.greetingReply)

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        """
        The session is over.
        """
        super().connectionLost(reason)
        if self._transcript.enabled:
            self._transcript.note(f"connection closed: {reason.getErrorMessage()}")

    def idleTimedOut(self) -> None:
        """
        Say why before closing (RFC 5321 section 3.8: 421 before closing).
        """
        if not self.paused:
            self._send(_reply(421, "4.4.2", f"{self.factory.hostname} idle timeout, closing"))
        super().idleTimedOut()

    # Output -----------------------------------------------------------------------

    def _send(self, reply: Reply) -> None:
        self._write(reply.serialize())

    def _sendLine(self, code: int, text: str) -> None:
        """
        Send a one-line reply whose text is made for this command, such as
        C{250 2.1.0 <a@crepes.fr>... Sender ok}: its bytes directly, without
        making a L{Reply} used once.  (The text is made of the server's
        name, checked by the greeting, and parts of a parsed command line,
        which holds no CR or LF: L{parseCommand} refuses control
        characters.)
        """
        self._write(f"{code} {text}\r\n".encode())

    def _write(self, data: bytes) -> None:
        if self._transcript.enabled:
            self._traceServer(data)
        writeNow(self.transport, data)

    def _traceServer(self, data: bytes) -> None:
        if self._transcript.enabled:
            for line in data.split(b"\r\n")[:-1]:
                self._transcript.server(line)

    def _sendAndClose(self, reply: Reply) -> None:
        """
        Send the last reply of the session, and close (RFC 5321 section
        3.8: 221 or 421, then the server closes).
        """
        data = reply.serialize()
        self._traceServer(data)
        self.closeConnection(data)

    def _error(self, reply: Reply) -> None:
        """
        Answer a bad command, and give up on a client that keeps sending
        them.
        """
        self._send(reply)
        self._errors += 1
        if self._errors >= self.factory.maxErrors:
            self._sendAndClose(_reply(421, "4.7.0", f"{self.factory.hostname} too many errors"))

    # Input ------------------------------------------------------------------------

    def dataReceived(self, data: bytes) -> None:
        """
        Feed what arrived to the reader of the current mode, and handle
        every complete line.
        """
        if self.closing:
            return
        self.resetIdle()
        if self._mode == _Mode.DATA:
            self._feedData(data)
        else:
            self._reader.feed(data)
            if self._waiting and self._reader.buffered > MAX_PENDING:
                self._sendAndClose(_reply(421, "4.7.0", "too much pipelined input"))
                return
        self._process()

    def _process(self) -> None:
        """
        Handle buffered lines until more input, or an answer from a back
        end, is needed.  Not re-entered: a back end that answers at once
        lets the loop already running go on.
        """
        if self._processing:
            return
        self._processing = True
        try:
            while not (self._waiting or self._closing or self._mode == _Mode.DATA):
                try:
                    line = self._reader.nextLine()
                except (LineTooLongError, LineEndingError) as e:
                    # A bad line also ends an AUTH exchange under way.
                    self._endAuth()
                    if isinstance(e, LineTooLongError):
                        self._traceClient("<line too long>")
                        self._error(_reply(500, "5.5.2", "line too long"))
                    else:
                        self._traceClient("<line with a bare CR or LF>")
                        text = "bare CR or LF: lines end with CRLF (RFC 5321 2.3.8)"
                        self._error(_reply(500, "5.5.2", text))
                    continue
                if line is None:
                    return
                if self._mode == _Mode.AUTH:
                    self._authResponse(line)
                else:
                    self._command(line)
        finally:
            self._processing = False

    def _traceClient(self, line: bytes | str) -> None:
        if self._transcript.enabled:
            self._transcript.client(line)

    def _command(self, line: bytes) -> None:
        try:
            command = parseCommand(line)
        except SMTPProtocolError as e:
            self._traceClient(line)
            self._error(_reply(500, "5.5.2", f"syntax error: {e}"))
            return
        if self._transcript.enabled:
            if command.verb == "AUTH":
                mechanism = command.argument.split(" ", 1)[0]
                hidden = " <credentials>" if " " in command.argument else ""
                self._traceClient(f"AUTH {mechanism}{hidden}")
            else:
                self._traceClient(line)
        handler = getattr(self, "smtp_" + command.verb, None)
        if handler is None:
            self._error(_reply(500, "5.5.1", "command unrecognized"))
            return
        handler(command.argument)

    # Commands ---------------------------------------------------------------------

    def _extensions(self) -> list[str]:
        """
        The EHLO keywords this session offers now.
        """
        factory = self.factory
        keywords = [f"SIZE {factory.maxMessageSize}", "8BITMIME", "PIPELINING"]
        keywords.append("ENHANCEDSTATUSCODES")
        if factory.tlsOptions is not None and not self.tls:
            keywords.append("STARTTLS")
        if self._authOffered():
            keywords.append("AUTH PLAIN LOGIN")
        return keywords

    def _authOffered(self) -> bool:
        """
        Whether AUTH is offered: with a checker, over TLS or when plaintext
        is allowed (RFC 4954 section 4), and not once authenticated.
        """
        return (
            self.factory.checker is not None
            and (self.tls or self.factory.allowPlaintextAuth)
            and self.authenticatedAs is None
        )

    def _greet(self, argument: str, extended: bool) -> None:
        name = argument.split(" ", 1)[0]
        if not name:
            self._error(_reply(501, None, f"{'EHLO' if extended else 'HELO'} needs a domain"))
            return
        self.heloName = name[:255]
        self.esmtp = extended
        # HELO and EHLO start the session afresh (RFC 5321 section 4.1.4).
        self._resetTransaction()
        first = f"{self.factory.hostname} Hello {self.heloName}, pleased to meet you"
        if extended:
            self._send(Reply(250, (first, *self._extensions())))
        else:
            self._sendLine(250, first)

    def smtp_HELO(self, argument: str) -> None:
        """
        HELO (RFC 5321 section 4.1.1.1): plain SMTP, no extensions.
        """
        self._greet(argument, False)

    def smtp_EHLO(self, argument: str) -> None:
        """
        EHLO (RFC 5321 section 4.1.1.1): the reply lists the extensions.
        """
        self._greet(argument, True)

    def smtp_MAIL(self, argument: str) -> None:
        """
        MAIL FROM (RFC 5321 section 4.1.1.2) starts a transaction.
        """
        factory = self.factory
        if self.heloName is None:
            self._error(_reply(503, "5.5.1", "send HELO or EHLO first"))
            return
        if self.mailFrom is not None:
            self._error(_reply(503, "5.5.1", "nested MAIL command"))
            return
        if factory.requireAuth and self.authenticatedAs is None:
            # RFC 4954 section 6.
            self._error(_reply(530, "5.7.0", "authentication required"))
            return
        try:
            sender, parameters = parseMailFrom(argument)
        except AddressError as e:
            self._error(_reply(501, "5.1.7", f"bad sender address: {e}"))
            return
        except SMTPProtocolError as e:
            self._error(_reply(501, "5.5.4", f"syntax error: {e}"))
            return
        bodyType = "7BIT"
        for keyword, value in parameters.items():
            if not self.esmtp:
                self._error(_reply(555, "5.5.4", f"{keyword} needs EHLO"))
                return
            if keyword == "SIZE":
                if value is None or not value.isdigit() or len(value) > 20:
                    self._error(_reply(501, "5.5.4", "SIZE needs a number"))
                    return
                if int(value) > factory.maxMessageSize:
                    # RFC 1870 section 6.
                    self._send(
                        _reply(552, "5.3.4", f"message size exceeds {factory.maxMessageSize}")
                    )
                    return
            elif keyword == "BODY":
                if value is None or value.upper() not in ("7BIT", "8BITMIME"):
                    self._error(_reply(501, "5.5.4", "BODY is 7BIT or 8BITMIME"))
                    return
                bodyType = value.upper()
            elif keyword == "AUTH":
                # RFC 4954 section 5: an identity for relays; accepted and
                # not trusted.
                continue
            else:
                self._error(_reply(555, "5.5.4", f"parameter {keyword} not supported"))
                return
        self.mailFrom = sender
        self.bodyType = bodyType
        self._sendLine(250, f"2.1.0 <{sender}>... Sender ok")

    def smtp_RCPT(self, argument: str) -> None:
        """
        RCPT TO (RFC 5321 section 4.1.1.3): one recipient, judged by the
        relay rule.
        """
        if self.mailFrom is None:
            self._error(_reply(503, "5.5.1", "need MAIL before RCPT"))
            return
        try:
            address, parameters = parseRcptTo(argument)
        except AddressError as e:
            self._error(_reply(501, "5.1.3", f"bad recipient address: {e}"))
            return
        except SMTPProtocolError as e:
            self._error(_reply(501, "5.5.4", f"syntax error: {e}"))
            return
        if parameters:
            keyword = next(iter(parameters))
            self._error(_reply(555, "5.5.4", f"parameter {keyword} not supported"))
            return
        if len(self.recipients) >= self.factory.maxRecipients:
            self._send(_reply(452, "4.5.3", "too many recipients"))
            return
        policy = self.factory.policy
        _, domain = splitAddress(address)
        if not domain or policy.isLocalDomain(domain):
            if not policy.localMailboxes(address):
                self._send(_reply(550, "5.1.1", f"<{address}>... User unknown"))
                return
        elif self.authenticatedAs is None:
            self._send(_reply(550, "5.7.1", f"<{address}>... relaying denied"))
            return
        self.recipients.append(address)
        self._sendLine(250, f"2.1.5 <{address}>... Recipient ok")

    def smtp_DATA(self, argument: str) -> None:
        """
        DATA (RFC 5321 section 4.1.1.4): 354, then the message.
        """
        if argument:
            self._error(_reply(501, "5.5.4", "DATA takes no argument"))
            return
        if self.mailFrom is None:
            self._error(_reply(503, "5.5.1", "need MAIL before DATA"))
            return
        if not self.recipients:
            self._error(_reply(554, "5.5.1", "no valid recipients"))
            return
        self._send(_GO_AHEAD)
        self._dataReader = DataReader(self.factory.maxMessageSize)
        self._mode = _Mode.DATA
        self._feedData(self._reader.takeBuffered())

    def _feedData(self, data: bytes) -> None:
        reader = self._dataReader
        assert reader is not None
        if not data:
            return
        finished, rest = reader.feed(data)
        if self._transcript.enabled:
            # What follows the final dot is commands, traced as they run.
            for line in data[: len(data) - len(rest)].splitlines():
                self._transcript.client(line)
        if finished:
            self._mode = _Mode.COMMAND
            self._dataReader = None
            self._reader.feed(rest)
            self._endOfData(reader)

    def _endOfData(self, reader: DataReader) -> None:
        """
        The final dot: refuse the message, or hand it to the delivery agent
        and answer when it is durable.
        """
        factory = self.factory
        problem = reader.problem
        if problem is not None:
            self._resetTransaction()
            if problem == DataProblem.TOO_BIG:
                text = f"message too big (limit {factory.maxMessageSize} octets)"
                self._send(_reply(552, "5.3.4", text))
            elif problem == DataProblem.LINE_TOO_LONG:
                text = "message refused: a line is longer than 1000 octets (RFC 5321 4.5.3.1.6)"
                self._send(_reply(554, "5.6.0", text))
            else:
                text = "message refused: bare CR or LF, lines end with CRLF (RFC 5321 2.3.8)"
                self._send(_reply(554, "5.6.0", text))
            return
        assert self.mailFrom is not None and self.heloName is not None
        self._messageCount += 1
        now = factory.clock.seconds()
        envelope = Envelope(
            mailFrom=self.mailFrom,
            recipients=tuple(self.recipients),
            heloName=self.heloName,
            clientAddress=self._clientAddress,
            authenticatedAs=self.authenticatedAs,
            tls=self.tls,
            receivedAt=now,
            bodyType=self.bodyType,
        )
        message = self._receivedHeader(envelope) + reader.message
        self._resetTransaction()
        d = self._askBackEnd(factory.delivery.deliver, envelope, message)
        d.addCallbacks(self._delivered, self._deliveryFailed)

    def _receivedHeader(self, envelope: Envelope) -> bytes:
        """
        The trace field this server adds (RFC 5321 section 4.4; the
        C{with} keywords are RFC 3848's: ESMTP, plus S for TLS and A for
        AUTH).
        """
        helo = envelope.heloName
        if not _HELO_NAME.match(helo):
            helo = "unknown"
        protocol = "ESMTP" if self.esmtp else "SMTP"
        if self.esmtp:
            protocol += ("S" if envelope.tls else "") + ("A" if envelope.authenticatedAs else "")
        date = _receivedDate(int(envelope.receivedAt))
        recipient = ""
        if len(envelope.recipients) == 1:
            # Only for one recipient: others' addresses stay private
            # (section 7.2).
            recipient = f"\r\n\tfor <{envelope.recipients[0]}>"
        field = (
            f"Received: from {helo} ([{envelope.clientAddress}])\r\n"
            f"\tby {self.factory.hostname} (netref) with {protocol}"
            f" id {self._transcript.connectionId}.{self._messageCount}"
            f"{recipient}; {date}\r\n"
        )
        return field.encode("utf-8")

    def _delivered(self, result: object) -> None:
        self._send(_ACCEPTED)
        self._resume()

    def _deliveryFailed(self, failure: Failure) -> None:
        _log.failure("Delivery failed", failure)
        self._send(_NOT_ACCEPTED)
        self._resume()

    def _askBackEnd(self, call: Callable[..., object], *args: object) -> defer.Deferred[Any]:
        """
        Call a back end (delivery, password check), and handle no more
        input until it answers.  While it works the idle timer stops too:
        the silence is the server's, not the client's.  (A back end that
        answers at once, as L{NullDelivery} does, leaves the timer alone: it
        is reset when the reply goes out.)
        """
        self._waiting = True
        d = defer.maybeDeferred(call, *args)
        if not d.called:
            self.stopIdle()
        return d

    def _resume(self) -> None:
        self._waiting = False
        if not self.closing:
            self.resetIdle()
            self._process()

    def smtp_RSET(self, argument: str) -> None:
        """
        RSET (RFC 5321 section 4.1.1.5): abort the transaction.
        """
        if argument:
            self._error(_reply(501, "5.5.4", "RSET takes no argument"))
            return
        self._resetTransaction()
        self._send(_OK)

    def smtp_NOOP(self, argument: str) -> None:
        """
        NOOP (RFC 5321 section 4.1.1.9): its argument is ignored.
        """
        self._send(_OK)

    def smtp_VRFY(self, argument: str) -> None:
        """
        VRFY (RFC 5321 section 3.5.3): 252, neither yes nor no.
        """
        if not argument:
            self._error(_reply(501, "5.5.4", "VRFY needs an argument"))
            return
        self._send(_CANNOT_VRFY)

    def smtp_EXPN(self, argument: str) -> None:
        """
        EXPN (RFC 5321 section 3.5.2) is not offered: lists stay private.
        """
        self._error(_reply(502, "5.5.1", "EXPN not implemented"))

    def smtp_HELP(self, argument: str) -> None:
        """
        HELP (RFC 5321 section 4.1.1.8).
        """
        commands = "HELO EHLO MAIL RCPT DATA RSET NOOP VRFY HELP QUIT"
        if self.factory.tlsOptions is not None and not self.tls:
            commands += " STARTTLS"
        if self.factory.checker is not None:
            commands += " AUTH"
        self._send(_reply(214, "2.0.0", f"commands: {commands}", "see RFC 5321"))

    def smtp_QUIT(self, argument: str) -> None:
        """
        QUIT (RFC 5321 section 4.1.1.10): 221, then close.
        """
        self._sendAndClose(self.factory.closingReply)

    def smtp_STARTTLS(self, argument: str) -> None:
        """
        STARTTLS (RFC 3207): 220, then the handshake; what the client sent
        after the command in the clear is discarded, and the session starts
        again (section 4.2: a new EHLO, no AUTH state).
        """
        factory = self.factory
        if factory.tlsOptions is None:
            self._error(_reply(502, "5.5.1", "STARTTLS not available"))
            return
        if self.tls:
            self._error(_reply(503, "5.5.1", "TLS already active"))
            return
        if argument:
            self._error(_reply(501, "5.5.4", "syntax error (no parameters allowed)"))
            return
        self._send(_reply(220, "2.0.0", "Ready to start TLS"))
        startTLS(self.transport, factory.tlsOptions, self._reader.takeBuffered, self._transcript)
        self.tls = True
        self.heloName = None
        self.esmtp = False
        self.authenticatedAs = None
        self._resetTransaction()

    def smtp_AUTH(self, argument: str) -> None:
        """
        AUTH (RFC 4954 section 4), with PLAIN (RFC 4616) or LOGIN.
        """
        factory = self.factory
        if factory.checker is None:
            self._error(_reply(502, "5.5.1", "AUTH not available"))
            return
        if not self.esmtp:
            self._error(_reply(503, "5.5.1", "send EHLO first"))
            return
        if self.authenticatedAs is not None:
            self._error(_reply(503, "5.5.1", "already authenticated"))
            return
        if self.mailFrom is not None:
            self._error(_reply(503, "5.5.1", "AUTH not permitted during a mail transaction"))
            return
        words = argument.split(" ")
        mechanism = words[0].upper()
        if not mechanism or len(words) > 2:
            self._error(_reply(501, "5.5.4", "syntax: AUTH mechanism [initial-response]"))
            return
        if mechanism not in ("PLAIN", "LOGIN"):
            self._error(_reply(504, "5.5.4", "unrecognized authentication type"))
            return
        if not (self.tls or factory.allowPlaintextAuth):
            self._error(
                _reply(538, "5.7.11", "encryption required for requested authentication mechanism")
            )
            return
        self._auth = _AuthExchange(mechanism)
        self._mode = _Mode.AUTH
        if len(words) == 2:
            self._authResponse(words[1].encode("ascii"), initial=True)
        else:
            self._send(Reply.of(334, self._auth.challenge()))

    def _authResponse(self, line: bytes, initial: bool = False) -> None:
        """
        One client response in the AUTH exchange (RFC 4954 section 4).
        """
        exchange = self._auth
        assert exchange is not None
        if not initial:
            self._traceClient("<credentials>" if line != b"*" else "*")
        if line == b"*":
            self._endAuth()
            self._error(_reply(501, "5.0.0", "authentication cancelled"))
            return
        if line == b"=" and initial:
            decoded = b""
        else:
            try:
                decoded = base64.b64decode(line, validate=True)
            except (binascii.Error, ValueError):
                self._endAuth()
                self._error(_reply(501, "5.5.2", "cannot decode base64 response"))
                return
        try:
            done = exchange.respond(decoded)
        except ValueError as e:
            self._endAuth()
            self._error(_reply(501, "5.5.2", str(e)))
            return
        if not done:
            self._send(Reply.of(334, exchange.challenge()))
            return
        self._endAuth()
        credentials = UsernamePassword(exchange.username, exchange.password)
        checker = self.factory.checker
        assert checker is not None
        d = self._askBackEnd(checker.requestAvatarId, credentials)
        d.addCallbacks(self._authenticated, self._authFailed)

    def _endAuth(self) -> None:
        self._auth = None
        self._mode = _Mode.COMMAND

    def _authenticated(self, avatarId: Any) -> None:
        name = avatarId.decode("utf-8") if isinstance(avatarId, bytes) else str(avatarId)
        self.authenticatedAs = name
        if self._transcript.enabled:
            self._transcript.note(f"authenticated as {name}")
        self._send(_reply(235, "2.7.0", "authentication successful"))
        self._resume()

    def _authFailed(self, failure: Failure) -> None:
        self._send(_reply(535, "5.7.8", "authentication credentials invalid"))
        self._errors += 1
        self._resume()


class _AuthExchange:
    """
    The server's side of one SASL exchange: PLAIN (RFC 4616, one message
    C{authzid NUL authcid NUL passwd}) or LOGIN (the user name, then the
    password, each after a 334 prompt).
    """

    def __init__(self, mechanism: str) -> None:
        self.mechanism = mechanism
        self.username = b""
        self.password = b""
        self._step = 0

    def challenge(self) -> str:
        """
        The base64 text of the next 334 reply.
        """
        if self.mechanism == "PLAIN":
            return ""
        prompt = b"Username:" if self._step == 0 else b"Password:"
        return base64.b64encode(prompt).decode("ascii")

    def respond(self, data: bytes) -> bool:
        """
        Take one decoded response.

        @return: whether the exchange is complete.
        @raise ValueError: a malformed response.
        """
        if self.mechanism == "PLAIN":
            parts = data.split(b"\x00")
            if len(parts) != 3 or not parts[1]:
                raise ValueError("malformed PLAIN response")
            authzid, self.username, self.password = parts
            if authzid and authzid != self.username:
                # RFC 4616 section 2: acting for another identity is not
                # allowed here; refuse by failing the check.
                self.password = b""
            return True
        if self._step == 0:
            self.username = data
            self._step = 1
            return False
        self.password = data
        return True


class SMTPFactory(ServerFactory[SMTPServerProtocol]):
    """
    Makes an L{SMTPServerProtocol} for every connection.  One factory per
    role: with its defaults, an MTA (port 25, here 2525); with
    C{requireAuth}, submission (port 587, here 2587); with
    C{implicitTLS}, on an C{ssl:} endpoint, submission over TLS (port 465,
    here 2465).
    """

    protocol = SMTPServerProtocol

    def __init__(
        self,
        hostname: str,
        policy: IRecipientPolicy,
        delivery: IDeliveryAgent,
        *,
        checker: ICredentialsChecker | None = None,
        tlsOptions: IOpenSSLServerConnectionCreator | None = None,
        requireAuth: bool = False,
        implicitTLS: bool = False,
        allowPlaintextAuth: bool = False,
        maxMessageSize: int = MAX_MESSAGE_SIZE,
        maxRecipients: int = MAX_RECIPIENTS,
        maxErrors: int = MAX_ERRORS,
        clock: IReactorTime | None = None,
        idleTimeout: float = IDLE_TIMEOUT,
    ) -> None:
        """
        @param hostname: the server's name, in the greeting and the
            Received field.
        @param policy: local domains and mailboxes.
        @param delivery: takes accepted messages.
        @param checker: checks AUTH credentials; without one AUTH is not
            offered.
        @param tlsOptions: server TLS options; with them STARTTLS is
            offered (unless C{implicitTLS}).
        @param requireAuth: refuse MAIL before AUTH (C{530 5.7.0}): the
            submission port (RFC 6409 section 4.3).
        @param implicitTLS: the connection is TLS from its first byte
            (listen on an C{ssl:} endpoint): STARTTLS is not offered.
        @param allowPlaintextAuth: offer and accept AUTH before TLS (a lab
            on loopback); RFC 4954 section 4 says a server SHOULD NOT.
        @param maxMessageSize: the SIZE limit, in octets.
        @param maxRecipients: recipients per message.
        @param maxErrors: bad commands before the server closes.
        @param clock: the idle timer's clock and the Received time; the
            reactor by default.
        @param idleTimeout: seconds of silence before the server closes.
        """
        if clock is None:
            from twisted.internet import reactor

            clock = cast(IReactorTime, reactor)
        self.hostname = hostname
        self.policy = policy
        self.delivery = delivery
        self.checker = checker
        self.tlsOptions = tlsOptions
        self.requireAuth = requireAuth
        self.implicitTLS = implicitTLS
        self.allowPlaintextAuth = allowPlaintextAuth
        self.maxMessageSize = maxMessageSize
        self.maxRecipients = maxRecipients
        self.maxErrors = maxErrors
        self.clock = clock
        self.idleTimeout = idleTimeout

    @cached_property
    def greetingReply(self) -> Reply:
        """
        The 220 greeting (RFC 5321 section 4.3.1), the same for every
        session.
        """
        return Reply.of(220, f"{self.hostname} ESMTP netref")

    @cached_property
    def closingReply(self) -> Reply:
        """
        The 221 reply to QUIT (RFC 5321 section 4.1.1.10).
        """
        return _reply(221, "2.0.0", f"{self.hostname} closing connection")
