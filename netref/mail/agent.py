"""
C{netref mail send}: a user agent that composes a message and submits it,
as Alice's agent does in the textbook (section 2.3): it hands the message
to I{her own} mail server (submission, RFC 6409), which relays it to Bob's.

Two ways to use it:

  - compose and submit::

        netref mail send --server mail.crepes.fr:2587 --starttls \\
            --cacert STATE/tls/ca.pem --user alice --password-file pw \\
            --from alice@crepes.fr --to bob@hamburger.edu \\
            --subject "Ketchup?" --body "Do you like ketchup?" --trace

    The message is written with L{netref.mail.mime.composeMessage} (RFC
    2047 for non-ASCII headers, attachments as MIME parts); Bcc
    recipients get it without appearing in the header.  With
    C{--starttls} (or C{--ssl} for port 465) the server's certificate must
    name the host given in C{--server}; a password is never sent in the
    clear unless C{--insecure-auth} says so.

  - C{--raw}: speak SMTP yourself, like the textbook's C{telnet
    hamburger.edu 25} session: every line you type (or every line of
    C{--commands FILE}) is sent as it is, and every reply printed.  After
    C{DATA}'s 354 the lines are the message, up to the line C{"."}.

With C{--trace} the dialogue is printed as the textbook prints it
(C{S: 220 ...}, C{C: HELO ...}); C{--raw} always prints it.
"""

from __future__ import annotations

import getpass
import socket
import sys
from typing import Any

from twisted.internet import defer, error, stdio
from twisted.internet.defer import Deferred, DeferredQueue
from twisted.internet.endpoints import HostnameEndpoint, wrapClientTLS
from twisted.internet.protocol import Factory, Protocol, connectionDone
from twisted.protocols.basic import LineOnlyReceiver
from twisted.python import usage
from twisted.python.failure import Failure

from netref.core.cli import CommandOptions, ToolError
from netref.core.tls import clientOptions, trustRootFromPEM
from netref.core.trace import Transcript, startPrintingTranscripts, stopPrintingTranscripts
from netref.dns.client import parseServer
from netref.mail.mime import asBytes, composeMessage
from netref.smtp.client import (
    TLS_IMPLICIT,
    TLS_NEVER,
    TLS_REQUIRED,
    DeliveryError,
    sendMail,
)
from netref.smtp.wire import ReplyParser, SMTPProtocolError

#: Submission's port in netref (the well-known one is 587, RFC 6409).
SUBMISSION_PORT = 2587
#: Submission over implicit TLS (the well-known one is 465, RFC 8314).
SUBMISSIONS_PORT = 2465


class SendOptions(usage.Options):
    """
    Options of C{netref mail send}.
    """

    synopsis = "--from ADDRESS --to ADDRESS [...] [--subject TEXT] [--body TEXT] [...]"
    longdesc = (
        "Compose a message and submit it to a mail server (default localhost, port "
        f"{SUBMISSION_PORT}, or {SUBMISSIONS_PORT} with --ssl; the well-known ports are 587 and "
        "465), or with --raw speak SMTP by hand as in the textbook's telnet session."
    )
    optFlags = [
        ["starttls", None, "Upgrade to TLS with STARTTLS, checking the server's certificate."],
        ["ssl", None, "TLS from the first byte (SMTPS, port 465)."],
        ["insecure-auth", None, "Send the password even without TLS (a lab on loopback)."],
        ["raw", None, "Send the lines you type (or --commands FILE) and print the replies."],
        ["trace", None, "Print the SMTP dialogue (C:/S: lines)."],
    ]
    optParameters = [
        ["server", "s", "localhost", "The mail server, HOST[:PORT]."],
        ["from", "f", None, "The sender: the From field and MAIL FROM."],
        ["subject", None, "", "The Subject."],
        ["body", None, None, "The text of the message (default: read standard input)."],
        ["body-file", None, None, "Read the text of the message from this file."],
        ["user", "u", None, "Log in (AUTH) as this user."],
        ["password-file", None, None, "Read the password from this file (else it is asked)."],
        ["cacert", None, None, "Trust the certificate authorities in this PEM file."],
        ["helo", None, None, "The name to give in EHLO (default: this host's name)."],
        ["commands", None, None, "With --raw: read the lines to send from this file."],
        ["timeout", None, 60.0, "Seconds to wait for each reply.", float],
    ]

    def __init__(self) -> None:
        super().__init__()
        self["to"] = []
        self["cc"] = []
        self["bcc"] = []
        self["attach"] = []

    def opt_to(self, address: str) -> None:
        """A recipient (To).  Repeatable."""
        self["to"].append(address)

    def opt_cc(self, address: str) -> None:
        """A recipient (Cc).  Repeatable."""
        self["cc"].append(address)

    def opt_bcc(self, address: str) -> None:
        """A recipient not shown in the header (Bcc).  Repeatable."""
        self["bcc"].append(address)

    def opt_attach(self, path: str) -> None:
        """A file to attach.  Repeatable."""
        self["attach"].append(path)

    def postOptions(self) -> None:
        if self["starttls"] and self["ssl"]:
            raise usage.UsageError("--starttls and --ssl contradict each other")
        host, port = parseServer(self["server"])
        if port is None:
            port = SUBMISSIONS_PORT if self["ssl"] else SUBMISSION_PORT
        self["host"], self["port"] = host, port
        if self["helo"] is None:
            self["helo"] = socket.getfqdn() or "localhost"
        if self["raw"]:
            return
        if self["from"] is None:
            raise usage.UsageError("--from is needed")
        if not (self["to"] or self["cc"] or self["bcc"]):
            raise usage.UsageError("at least one --to, --cc or --bcc is needed")
        if self["body"] is not None and self["body-file"] is not None:
            raise usage.UsageError("give --body or --body-file, not both")

    @property
    def tls(self) -> str:
        if self["ssl"]:
            return TLS_IMPLICIT
        return TLS_REQUIRED if self["starttls"] else TLS_NEVER


class Options(CommandOptions):
    """
    Options of C{netref mail}.
    """

    synopsis = "COMMAND [options]"
    subCommands = [
        ["send", None, SendOptions, "Compose and send a message, or speak SMTP by hand (--raw)."]
    ]

    def postOptions(self) -> None:
        if self.subCommand is None:
            raise usage.UsageError("a command is needed: send")


def _bareAddress(address: str) -> str:
    from email.utils import parseaddr

    return parseaddr(address)[1] or address


def _password(options: SendOptions) -> str | None:
    if options["user"] is None:
        return None
    if options["password-file"] is not None:
        try:
            with open(options["password-file"], encoding="utf-8") as f:
                return f.readline().rstrip("\r\n")
        except OSError as e:
            raise ToolError(f"cannot read {options['password-file']}: {e.strerror}") from None
    return getpass.getpass(f"Password for {options['user']}: ")


def _body(options: SendOptions) -> str:
    if options["body"] is not None:
        return str(options["body"]).replace("\\n", "\n")
    if options["body-file"] is not None:
        try:
            with open(options["body-file"], encoding="utf-8") as f:
                return f.read()
        except OSError as e:
            raise ToolError(f"cannot read {options['body-file']}: {e.strerror}") from None
    return sys.stdin.read()


def _trustRoot(options: SendOptions) -> Any:
    if options["cacert"] is None:
        return None
    try:
        return trustRootFromPEM(options["cacert"])
    except (OSError, ValueError) as e:
        raise ToolError(f"--cacert: {e}") from None


async def send(reactor: Any, options: SendOptions) -> None:
    """
    Compose the message and submit it; print one line per recipient.

    @raise ToolError: when the server could not be reached, refused us, or
        refused any recipient.
    """
    try:
        message = composeMessage(
            options["from"],
            options["to"],
            options["subject"],
            _body(options),
            cc=options["cc"],
            attachments=options["attach"],
        )
    except OSError as e:
        raise ToolError(f"cannot attach {e.filename}: {e.strerror}") from None
    recipients = [_bareAddress(a) for a in (*options["to"], *options["cc"], *options["bcc"])]
    password = _password(options)
    try:
        result = await sendMail(
            reactor,
            options["host"],
            options["port"],
            _bareAddress(options["from"]),
            recipients,
            asBytes(message),
            heloName=options["helo"],
            tls=options.tls,
            username=options["user"],
            password=password,
            allowPlaintextAuth=options["insecure-auth"],
            trustRoot=_trustRoot(options),
            timeout=options["timeout"],
        )
    except DeliveryError as e:
        raise ToolError(str(e)) from None
    for recipient, reply in result.recipients.items():
        verdict = "accepted" if 200 <= reply.code < 300 else "refused"
        print(f"{recipient}: {verdict} ({reply.code} {' '.join(reply.lines)})")
    if result.refused:
        raise ToolError(
            "refused: "
            + "; ".join(
                f"{r} ({reply.code} {' '.join(reply.lines)})"
                for r, reply in result.refused.items()
            )
        )


class _RawProtocol(Protocol):
    """
    The connection of C{--raw}: prints every reply, hands them to the
    driver.
    """

    def __init__(self, transcript: Transcript) -> None:
        self.transcript = transcript
        self.parser = ReplyParser()
        self.replies: DeferredQueue[Any] = DeferredQueue()
        self.lost: Deferred[None] = Deferred()

    def dataReceived(self, data: bytes) -> None:
        try:
            replies = self.parser.feed(data)
        except SMTPProtocolError as e:
            self.transcript.note(f"not SMTP: {e}")
            assert self.transport is not None
            self.transport.loseConnection()
            return
        for reply in replies:
            for line in reply.serialize().split(b"\r\n")[:-1]:
                self.transcript.server(line)
            self.replies.put(reply)

    def send(self, line: str) -> None:
        self.transcript.client(line)
        assert self.transport is not None
        self.transport.write(line.encode("utf-8") + b"\r\n")

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self.transcript.note("connection closed")
        self.replies.put(None)
        self.lost.callback(None)


class _StandardInput(LineOnlyReceiver):
    delimiter = b"\n"

    def __init__(self, lines: DeferredQueue[str | None]) -> None:
        self.lines = lines

    def lineReceived(self, line: bytes) -> None:
        self.lines.put(line.decode("utf-8", "replace").rstrip("\r"))

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self.lines.put(None)


async def raw(reactor: Any, options: SendOptions) -> None:
    """
    The textbook's telnet session: send each line, print each reply.
    Waits for the reply to every command; after C{DATA} and 354, sends
    lines without waiting until the line C{"."}.
    """
    lines: DeferredQueue[str | None] = DeferredQueue()
    if options["commands"] is not None:
        try:
            with open(options["commands"], encoding="utf-8") as f:
                for commandLine in f.read().splitlines():
                    lines.put(commandLine)
        except OSError as e:
            raise ToolError(f"cannot read {options['commands']}: {e.strerror}") from None
        lines.put(None)
    else:
        stdio.StandardIO(_StandardInput(lines), reactor=reactor)
    transcript = Transcript()
    endpoint: Any = HostnameEndpoint(reactor, options["host"], options["port"], timeout=30)
    if options["ssl"]:
        endpoint = wrapClientTLS(clientOptions(options["host"], _trustRoot(options)), endpoint)
    factory = Factory.forProtocol(lambda: _RawProtocol(transcript))
    try:
        protocol: _RawProtocol = await endpoint.connect(factory)
    except (error.ConnectError, error.DNSLookupError, defer.TimeoutError) as e:
        raise ToolError(f"{options['host']}:{options['port']}: cannot connect ({e})") from None
    if await protocol.replies.get() is None:
        raise ToolError("the server closed the connection")
    inData = False
    while True:
        line = await lines.get()
        if line is None:
            break
        protocol.send(line)
        if inData and line != ".":
            continue
        inData = False
        reply = await protocol.replies.get()
        if reply is None:
            return
        if line.upper().startswith("DATA") and reply.code == 354:
            inData = True
    assert protocol.transport is not None
    protocol.transport.loseConnection()
    await protocol.lost


def run(reactor: Any, options: Options) -> Deferred[None]:
    """
    Run C{netref mail send}.
    """
    sendOptions = options.subOptions
    assert isinstance(sendOptions, SendOptions)

    async def main() -> None:
        printing = sendOptions["trace"] or sendOptions["raw"]
        printer = startPrintingTranscripts(sys.stdout) if printing else None
        try:
            if sendOptions["raw"]:
                await raw(reactor, sendOptions)
            else:
                await send(reactor, sendOptions)
        finally:
            if printer is not None:
                stopPrintingTranscripts(printer)

    return Deferred.fromCoroutine(main())
