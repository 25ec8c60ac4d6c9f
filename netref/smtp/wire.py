"""
SMTP's dialogue (RFC 5321), sans-IO: replies, commands, paths and the
message data, as bytes in and values out.

The textbook's section 2.3.1 shows the whole protocol in one transcript::

    S: 220 hamburger.edu
    C: HELO crepes.fr
    S: 250 Hello crepes.fr, pleased to meet you
    C: MAIL FROM: <alice@crepes.fr>
    ...
    C: DATA
    S: 354 Enter mail, end with "." on a line by itself
    C: Do you like ketchup?
    C: .
    S: 250 Message accepted for delivery

This module holds everything in it that is about bytes, for both sides:

  - L{Reply} and L{ReplyParser}: a reply is a three-digit code and one or
    more lines of text (RFC 5321 section 4.2); a multi-line reply uses
    C{"250-"} on every line but the last.
  - L{Command}, L{parseCommand}, L{parseMailFrom}, L{parseRcptTo}: a
    command is a verb and an argument (section 4.1.1); the paths of MAIL
    and RCPT follow the grammar of section 4.1.2, including quoted local
    parts and the source routes that servers must accept and ignore
    (appendix C).
  - L{CommandReader} and L{DataReader}: the framing.  Only CRLF ends a
    line (section 2.3.8) and only CRLF "." CRLF ends the data (section
    4.1.1.4).  A bare CR or LF is never taken as a line ending: mistaking
    one for the other is how "SMTP smuggling" (CVE-2023-51764) hides a
    second message inside the first.
  - L{dotStuff}: the sender's half of the transparency procedure of
    section 4.5.2.

No sockets and no Twisted: L{netref.smtp.server} and the client feed these.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import NamedTuple

__all__ = [
    "MAX_COMMAND_LINE",
    "MAX_LOCAL_PART",
    "MAX_DOMAIN",
    "MAX_PATH",
    "MAX_REPLY_LINE",
    "MAX_TEXT_LINE",
    "AddressError",
    "Command",
    "CommandReader",
    "DataProblem",
    "DataReader",
    "LineEndingError",
    "LineTooLongError",
    "Reply",
    "ReplyParser",
    "SMTPProtocolError",
    "dotStuff",
    "normalizeLineEndings",
    "parseCommand",
    "parseMailFrom",
    "parseRcptTo",
    "splitAddress",
    "unquoteLocalPart",
]

#: The longest command line accepted, including its CRLF.  RFC 5321 section
#: 4.5.3.1.4 sets 512 octets "and SMTP extensions may be used to increase
#: this limit"; RFC 4954 section 4 requires a server to accept an AUTH
#: command line (with its initial response) of up to 12288 octets.
MAX_COMMAND_LINE = 12288

#: The longest line of message text, including its CRLF (RFC 5321 section
#: 4.5.3.1.6; RFC 5322 section 2.1.1 says the same as 998 characters).
MAX_TEXT_LINE = 1000

#: The longest reply line the client accepts, including its CRLF.  RFC 5321
#: section 4.5.3.1.5 sets 512 octets; real servers' texts are longer now and
#: then, so the client allows eight times that before calling it garbage.
MAX_REPLY_LINE = 4096

#: The most lines in one reply the client accepts (a large EHLO reply has
#: about twenty).
MAX_REPLY_LINES = 256

#: Longest local part, domain and path, in octets (RFC 5321 sections
#: 4.5.3.1.1, 4.5.3.1.2 and 4.5.3.1.3; the path counts its punctuation).
MAX_LOCAL_PART = 64
MAX_DOMAIN = 255
MAX_PATH = 256


class SMTPProtocolError(Exception):
    """
    The peer sent something that is not SMTP: a malformed reply, command,
    path or parameter.  The message says what was wrong, briefly enough to
    put in a reply.
    """


class AddressError(SMTPProtocolError):
    """
    A reverse-path or forward-path does not follow RFC 5321 section 4.1.2,
    or is longer than section 4.5.3.1 allows.  The server answers it with
    501 and X.1.7 (bad sender) or X.1.3 (bad destination), RFC 3463.
    """


class LineTooLongError(SMTPProtocolError):
    """
    A command line is longer than L{MAX_COMMAND_LINE}: RFC 5321 section
    4.5.3.1.10 suggests C{"500 Line too long"}.
    """


class LineEndingError(SMTPProtocolError):
    """
    A command line ends with, or contains, a bare CR or a bare LF, which
    RFC 5321 section 2.3.8 forbids.
    """


# Replies -------------------------------------------------------------------

_ENHANCED = re.compile(r"([245])\.(\d{1,3})\.(\d{1,3})(?: |$)")


@dataclass(frozen=True)
class Reply:
    """
    An SMTP reply (RFC 5321 section 4.2): a three-digit code and its lines.

    @ivar code: the reply code, 200 to 599.  Its first digit says how it
        went (section 4.2.1): 2 done, 3 go on, 4 failed for now, 5 failed
        for good.
    @ivar lines: the text of each line, without the code and the separator.
        With ENHANCEDSTATUSCODES (RFC 2034) each line starts with the
        enhanced code, e.g. C{"5.7.1 relaying denied"}.
    """

    code: int
    lines: tuple[str, ...]
    _wire: bytes = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        code = self.code
        lines = self.lines
        if not 200 <= code <= 599:
            raise ValueError(f"reply code out of range: {code}")
        if not lines:
            lines = ("",)
            object.__setattr__(self, "lines", lines)
        # A reply is immutable: its bytes (section 4.2: a hyphen after the
        # code on every line but the last, a space on the last) are
        # computed once, here.  Most replies have one line: it is
        # formatted without the join.
        if len(lines) == 1:
            last = lines[0]
            text = f"{code} {last}\r\n"
        else:
            *first, last = lines
            text = "".join(f"{code}-{line}\r\n" for line in first) + f"{code} {last}\r\n"
        # Each line brings exactly one CR and one LF, its own CRLF.
        if text.count("\r") != len(lines) or text.count("\n") != len(lines):
            raise ValueError("reply text must not contain CR or LF")
        object.__setattr__(self, "_wire", text.encode("utf-8"))

    @classmethod
    def of(cls, code: int, *lines: str, enhanced: str | None = None) -> Reply:
        """
        Make a reply, prefixing every line with C{enhanced} when given
        (RFC 2034 section 3: each line of a multi-line reply carries it).
        """
        if enhanced is not None:
            lines = tuple([f"{enhanced} {line}" if line else enhanced for line in lines])
        return cls(code, lines)

    def serialize(self) -> bytes:
        """
        The reply on the wire: C{"250-first\\r\\n250 last\\r\\n"} (section
        4.2: a hyphen after the code on every line but the last, a space on
        the last).

        The bytes are computed when the reply is made: a server that keeps
        its constant replies (the greeting, 354, 221, ...) as L{Reply}
        values serializes them once, not once per session.
        """
        return self._wire

    @property
    def text(self) -> str:
        """
        All lines joined with newlines, for messages to people.
        """
        return "\n".join(self.lines)

    @property
    def enhanced(self) -> str | None:
        """
        The enhanced status code (RFC 3463) at the start of the first line,
        such as C{"5.7.1"}, or L{None}.
        """
        match = _ENHANCED.match(self.lines[0])
        return f"{match[1]}.{match[2]}.{match[3]}" if match else None

    def isPositive(self) -> bool:
        """
        2yz (completion) or 3yz (intermediate, e.g. 354 after DATA).
        """
        return 200 <= self.code < 400

    def isIntermediate(self) -> bool:
        """
        3yz: the server waits for more (354 after DATA, 334 during AUTH).
        """
        return 300 <= self.code < 400

    def isTransient(self) -> bool:
        """
        4yz: transient negative completion; try again later (section 4.2.1).
        """
        return 400 <= self.code < 500

    def isPermanent(self) -> bool:
        """
        5yz: permanent negative completion; do not repeat as is.
        """
        return 500 <= self.code < 600


_REPLY_LINE = re.compile(rb"([2-5][0-9][0-9])(?:([ -])(.*))?\Z", re.DOTALL)


class ReplyParser:
    """
    The client's reading of the server's replies (RFC 5321 section 4.2).

    Bytes go in as they arrive, complete replies come out.  The client is
    liberal in what it accepts (section 4.5.3.1.5 aside): a line may end
    with a bare LF, and a line of just the code (C{"250"}) is a last line.
    Anything else that is not a reply raises L{SMTPProtocolError}, after
    which the parser should not be fed again.
    """

    def __init__(self) -> None:
        self._buffer = b""
        self._code: int | None = None
        self._lines: list[str] = []

    def feed(self, data: bytes) -> list[Reply]:
        """
        Add received bytes; return the replies they complete, in order.

        @raise SMTPProtocolError: a line that is not a reply line, a
            multi-line reply whose lines have different codes, a line
            longer than L{MAX_REPLY_LINE} or a reply longer than
            L{MAX_REPLY_LINES}.
        """
        buffer = self._buffer + data
        start = 0
        replies: list[Reply] = []
        try:
            while True:
                end = buffer.find(b"\n", start)
                if end < 0:
                    if len(buffer) - start > MAX_REPLY_LINE:
                        raise SMTPProtocolError("reply line too long")
                    return replies
                line = buffer[start:end]
                start = end + 1
                if len(line) + 1 > MAX_REPLY_LINE:
                    raise SMTPProtocolError("reply line too long")
                if line.endswith(b"\r"):
                    line = line[:-1]
                reply = self._line(line)
                if reply is not None:
                    replies.append(reply)
        finally:
            self._buffer = buffer[start:]

    def _line(self, line: bytes) -> Reply | None:
        match = _REPLY_LINE.match(line)
        if match is None:
            raise SMTPProtocolError(f"not an SMTP reply line: {line[:40]!r}")
        code = int(match[1])
        if self._code is not None and code != self._code:
            raise SMTPProtocolError(
                f"reply code changed within a multi-line reply: {self._code} then {code}"
            )
        self._code = code
        self._lines.append((match[3] or b"").decode("utf-8", "replace"))
        if len(self._lines) > MAX_REPLY_LINES:
            raise SMTPProtocolError("reply has too many lines")
        if match[2] == b"-":
            return None
        reply = Reply(code, tuple(self._lines))
        self._code = None
        self._lines = []
        return reply

    @property
    def pending(self) -> bool:
        """
        Whether part of a reply has been received but not all of it.
        """
        return bool(self._buffer) or self._code is not None


# Commands ------------------------------------------------------------------


class Command(NamedTuple):
    """
    A command line (RFC 5321 section 4.1.1): a verb and its argument.

    @ivar verb: the command verb, upper-cased (verbs are case-insensitive,
        section 2.4), such as C{"MAIL"}.
    @ivar argument: everything after the space that follows the verb, with
        trailing spaces removed; C{""} when there is none.
    """

    verb: str
    argument: str


#: A verb, then a space and the argument, which holds no control character
#: (C0 but TAB, and DEL).
_COMMAND = re.compile(r"([A-Za-z][A-Za-z0-9-]*)(?: ([^\x00-\x08\x0a-\x1f\x7f]*))?\Z")

#: The control characters a command line must not hold (C0 but TAB, and DEL).
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def parseCommand(line: bytes) -> Command:
    """
    Parse one command line, with or without its CRLF.

    Commands are ASCII (RFC 5321 section 2.4; without SMTPUTF8, RFC 6531,
    which netref does not offer, an address is ASCII too).

    @raise SMTPProtocolError: an empty line, a line that does not start
        with a verb, or bytes that are not printable ASCII.
    """
    if line.endswith(b"\r\n"):
        line = line[:-2]
    try:
        text = line.decode("ascii")
    except UnicodeDecodeError:
        raise SMTPProtocolError("command is not ASCII") from None
    match = _COMMAND.match(text)
    if match is None:
        # Say why: the control character first, as it is the worse fault.
        if _CONTROL.search(text) is not None:
            raise SMTPProtocolError("control character in command")
        raise SMTPProtocolError("syntax error, command unrecognized")
    return Command(match[1].upper(), (match[2] or "").rstrip(" "))


# Paths ---------------------------------------------------------------------

# RFC 5321 section 4.1.2 (atext from RFC 5322 section 3.2.3).
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_DOT_STRING = rf"{_ATOM}(?:\.{_ATOM})*"
_QUOTED_STRING = r'"(?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\[\x20-\x7e])*"'
_LOCAL_PART = rf"(?:{_DOT_STRING}|{_QUOTED_STRING})"
_SUB_DOMAIN = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_DOMAIN = rf"{_SUB_DOMAIN}(?:\.{_SUB_DOMAIN})*"
_IPV4 = r"\d{1,3}(?:\.\d{1,3}){3}"
_ADDRESS_LITERAL = (
    rf"\[(?:{_IPV4}|IPv6:[0-9A-Fa-f:.]+|[A-Za-z0-9-]*[A-Za-z0-9]:[\x21-\x5a\x5e-\x7e]+)\]"
)
_MAILBOX = rf"({_LOCAL_PART})@({_DOMAIN}|{_ADDRESS_LITERAL})"
_AT_DOMAIN = rf"@{_DOMAIN}"
_ROUTE = rf"{_AT_DOMAIN}(?:,{_AT_DOMAIN})*:"
_PATH = re.compile(rf"<(?:{_ROUTE})?{_MAILBOX}>")
_PARAMETER = re.compile(r"([A-Za-z0-9][A-Za-z0-9-]*)(?:=([\x21-\x3c\x3e-\x7e]+))?\Z")


def _parseParameters(text: str) -> dict[str, str | None]:
    """
    Parse C{esmtp-param *(SP esmtp-param)} (RFC 5321 section 4.1.2):
    C{KEYWORD} or C{KEYWORD=value}.  Keywords come back upper-cased.
    """
    parameters: dict[str, str | None] = {}
    for word in text.split(" "):
        if not word:
            continue
        match = _PARAMETER.match(word)
        if match is None:
            raise SMTPProtocolError(f"bad parameter: {word[:40]}")
        keyword = match[1].upper()
        if keyword in parameters:
            raise SMTPProtocolError(f"parameter given twice: {keyword}")
        parameters[keyword] = match[2]
    return parameters


def _parsePathArgument(argument: str, keyword: str) -> tuple[str, str]:
    """
    Split C{"FROM:<path> params"} into the path and the parameters.

    Section 4.1.1.2 writes C{"MAIL FROM:<path>"} with no space after the
    colon; many clients (and the textbook's transcript) put one there, and
    netref accepts it.
    """
    prefix = keyword + ":"
    if argument[: len(prefix)].upper() != prefix:
        raise SMTPProtocolError(f"syntax error: expected {prefix}<address>")
    rest = argument[len(prefix) :].lstrip(" ")
    if not rest.startswith("<"):
        raise AddressError("address must be in angle brackets")
    end = _pathEnd(rest)
    if end < 0:
        raise AddressError("no closing angle bracket")
    path, parameters = rest[: end + 1], rest[end + 1 :]
    if parameters and not parameters.startswith(" "):
        raise SMTPProtocolError("a space must follow the address")
    return path, parameters


def _pathEnd(text: str) -> int:
    """
    The index of the C{">"} that closes the path at the start of C{text},
    skipping quoted strings (a quoted local part may contain C{">"}).
    """
    if '"' not in text:
        # Nothing quoted (the usual case): the first ">" closes the path.
        return text.find(">")
    quoted = False
    escaped = False
    for index, char in enumerate(text):
        if escaped:
            escaped = False
        elif quoted and char == "\\":
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == ">" and not quoted:
            return index
    return -1


def _parseMailbox(path: str) -> str:
    """
    Check a C{<[route:]mailbox>} path and return the mailbox, without the
    route: RFC 5321 appendix C says servers SHOULD accept a source route
    and MAY ignore it, and section 3.6.1 says relaying on it is not
    required.  netref ignores it, so C{<@a,@b:user@c>} is C{user@c} and
    the relay policy judges C{c} alone.
    """
    if len(path) > MAX_PATH:
        raise AddressError("path too long")
    match = _PATH.fullmatch(path)
    if match is None:
        raise AddressError("address syntax error")
    localPart, domain = match[1], match[2]
    if len(localPart) > MAX_LOCAL_PART:
        raise AddressError("local part too long")
    if len(domain) > MAX_DOMAIN:
        raise AddressError("domain too long")
    return f"{localPart}@{domain}"


def parseMailFrom(argument: str) -> tuple[str, dict[str, str | None]]:
    """
    Parse the argument of MAIL: C{"FROM:<reverse-path> [parameters]"}
    (RFC 5321 section 4.1.1.2).

    @return: the sender's mailbox (C{""} for the null reverse-path C{<>}
        of bounces, section 4.5.5) and the parameters (keyword upper-cased
        to value, or L{None} for a keyword without a value).
    @raise AddressError: a bad path.
    @raise SMTPProtocolError: a bad argument or parameter.
    """
    path, rest = _parsePathArgument(argument, "FROM")
    address = "" if path == "<>" else _parseMailbox(path)
    return address, _parseParameters(rest)


def parseRcptTo(argument: str) -> tuple[str, dict[str, str | None]]:
    """
    Parse the argument of RCPT: C{"TO:<forward-path> [parameters]"}
    (RFC 5321 section 4.1.1.3).  C{<Postmaster>} without a domain is
    allowed (it must be accepted, section 4.5.1) and comes back as
    C{"postmaster"}.

    @raise AddressError: a bad path, or the null path C{<>}.
    @raise SMTPProtocolError: a bad argument or parameter.
    """
    path, rest = _parsePathArgument(argument, "TO")
    if path.lower() == "<postmaster>":
        address = "postmaster"
    elif path == "<>":
        raise AddressError("a recipient cannot be the null path")
    else:
        address = _parseMailbox(path)
    return address, _parseParameters(rest)


def unquoteLocalPart(localPart: str) -> str:
    """
    The local part as its owner means it: a quoted string loses its quotes
    and backslashes (RFC 5321 section 4.1.2), so C{'"alice"'} is C{alice}
    and C{'"bob@other"'} is the literal local part C{bob@other}.
    """
    if len(localPart) >= 2 and localPart[0] == '"' and localPart[-1] == '"':
        return re.sub(r"\\(.)", r"\1", localPart[1:-1])
    return localPart


def splitAddress(address: str) -> tuple[str, str]:
    """
    Split a mailbox from L{parseMailFrom} or L{parseRcptTo} into its
    unquoted local part and its domain (lower-cased; domains are
    case-insensitive, section 2.4).  The split is at the last C{"@"}, as a
    quoted local part may contain one.  An address with no domain (only
    C{"postmaster"}) has C{""} as its domain.
    """
    localPart, at, domain = address.rpartition("@")
    if not at:
        return address, ""
    return unquoteLocalPart(localPart), domain.lower()


# Framing -------------------------------------------------------------------


class CommandReader:
    """
    Split the client's bytes into command lines (RFC 5321 section 2.3.8:
    a line ends with CRLF and nothing else).

    L{feed} bytes, then call L{nextLine} until it returns L{None}.  When
    the server switches to reading message data (after 354) or to TLS (after
    220 to STARTTLS), L{takeBuffered} hands over, or lets it discard, what
    the client sent beyond the last line taken.
    """

    def __init__(self, maxLength: int = MAX_COMMAND_LINE) -> None:
        self._maxLength = maxLength
        # Lines are taken by moving an offset, not by slicing the buffer
        # again for every line: a read full of short pipelined commands
        # then costs linear time, not quadratic.
        self._buffer = b""
        self._start = 0
        self._discarding = False

    def _compact(self) -> None:
        if self._start:
            self._buffer = self._buffer[self._start :]
            self._start = 0

    def feed(self, data: bytes) -> None:
        """
        Add received bytes.
        """
        if self._start == len(self._buffer):
            # Every line so far has been taken (the usual case): no copy.
            self._buffer = data
            self._start = 0
        else:
            self._compact()
            self._buffer += data

    def nextLine(self) -> bytes | None:
        """
        Take the next complete line, without its CRLF.

        @return: the line, or L{None} until a whole line has arrived.
        @raise LineTooLongError: the line is longer than the limit.  It is
            skipped up to its end; reading may go on.
        @raise LineEndingError: the line ended with a bare LF, or held a
            bare CR.  It has been consumed; reading may go on.
        """
        while True:
            buffer = self._buffer
            start = self._start
            end = buffer.find(b"\n", start)
            if end < 0:
                if start == len(buffer):
                    # Every line taken, nothing left over: the usual case.
                    return None
                self._compact()
                if len(self._buffer) >= self._maxLength and not self._discarding:
                    self._discarding = True
                    self._buffer = self._buffer[-1:]
                    raise LineTooLongError("line too long")
                if self._discarding:
                    self._buffer = self._buffer[-1:]
                return None
            self._start = end + 1
            if self._discarding:
                self._discarding = False
                continue
            if end + 1 - start > self._maxLength:
                raise LineTooLongError("line too long")
            # The line must end with CRLF, and hold no other CR.
            if end == start or buffer.find(b"\r", start, end) != end - 1:
                raise LineEndingError("bare CR or LF in command")
            return buffer[start : end - 1]

    @property
    def buffered(self) -> int:
        """
        How many octets have been received but not yet taken as lines.
        """
        return len(self._buffer) - self._start

    def takeBuffered(self) -> bytes:
        """
        Return and forget whatever has been received but not taken as a
        line.
        """
        self._compact()
        data, self._buffer = self._buffer, b""
        self._discarding = False
        return data


class DataProblem:
    """
    Why a message received by L{DataReader} must be refused, as constants.
    """

    #: A bare CR or LF in the data (RFC 5321 section 2.3.8).
    BARE_LINE_ENDING = "bare-line-ending"
    #: A line longer than L{MAX_TEXT_LINE} (section 4.5.3.1.6).
    LINE_TOO_LONG = "line-too-long"
    #: More than the size limit (RFC 1870 section 6).
    TOO_BIG = "too-big"


class DataReader:
    """
    Read the message data after 354, up to the line C{"."} (RFC 5321
    section 4.1.1.4), undoing the sender's dot-stuffing (section 4.5.2).

    Only CRLF "." CRLF ends the data.  C{"\\n.\\n"}, C{"\\r.\\r"} or
    C{"\\r\\n.\\n"} do not: whatever follows them is still the message,
    which is then refused because it holds a bare CR or LF.  This is the
    defence against SMTP smuggling (CVE-2023-51764): a message that another
    server would end early cannot carry a second, forged message past this
    one.

    The reader keeps going to the end of the data even when the message is
    already refused (too big, a line too long), storing nothing more, so
    the dialogue stays in step with the client.

    @ivar problem: L{None}, or the L{DataProblem} that refuses the message.
    """

    def __init__(self, maxSize: int, maxLineLength: int = MAX_TEXT_LINE) -> None:
        """
        @param maxSize: the largest message to keep, in octets (after
            unstuffing).
        @param maxLineLength: the longest line, including its CRLF.
        """
        self._maxSize = maxSize
        self._maxLine = maxLineLength
        self._parts: list[bytes] = []
        self._size = 0
        self._buffer = b""
        # Whether the buffer starts at the start of a line that follows a
        # CRLF (or the DATA command's CRLF): only then is "." CRLF the end.
        self._cleanStart = True
        # Whether the buffer starts in the middle of a line, after the
        # start of an over-long line was dropped.
        self._midLine = False
        self.problem: str | None = None
        self.finished = False

    @property
    def size(self) -> int:
        """
        How many octets of message have been received so far (after
        unstuffing), including any beyond the size limit.
        """
        return self._size

    def feed(self, data: bytes) -> tuple[bool, bytes]:
        """
        Add received bytes.

        @return: C{(finished, rest)}: whether the end of the data has been
            seen, and (if so) the bytes received after it, which are the
            client's next commands (RFC 2920 allows them to be pipelined).
        """
        if self.finished:
            raise RuntimeError("the data has ended already")
        buffer = self._buffer + data
        if not self._midLine and self._cleanStart and buffer.startswith(b".\r\n"):
            end = 0
        else:
            found = buffer.find(b"\r\n.\r\n")
            end = found + 2 if found >= 0 else -1
        if end >= 0:
            self._lines(buffer[:end])
            self._buffer = b""
            self.finished = True
            return True, buffer[end + 3 :]
        lastNewline = buffer.rfind(b"\n")
        self._lines(buffer[: lastNewline + 1])
        self._buffer = buffer[lastNewline + 1 :]
        if lastNewline >= 0:
            self._midLine = False
        if len(self._buffer) >= self._maxLine:
            self._problem(DataProblem.LINE_TOO_LONG)
            self._size += len(self._buffer) - 1
            # Keep the last byte: it may be the CR of the line's CRLF.
            self._buffer = self._buffer[-1:]
            self._midLine = True
        return False, b""

    def _problem(self, problem: str) -> None:
        if self.problem is None:
            self.problem = problem
        self._parts = []

    def _lines(self, region: bytes) -> None:
        """
        Take a run of complete lines (it ends with LF, or is empty).
        """
        if not region:
            return
        # Without a bare CR or LF, there are as many CRLFs as CRs and as
        # LFs.
        crlf = region.count(b"\r\n")
        if region.count(b"\n") != crlf or region.count(b"\r") != crlf:
            self._problem(DataProblem.BARE_LINE_ENDING)
        elif len(region) >= self._maxLine and _longestLineExceeds(region, self._maxLine):
            self._problem(DataProblem.LINE_TOO_LONG)
        if region.startswith(b".") and not self._midLine and self._cleanStart:
            region = region[1:]
        region = region.replace(b"\r\n.", b"\r\n")
        self._cleanStart = region.endswith(b"\r\n")
        self._size += len(region)
        if self._size > self._maxSize:
            self._problem(DataProblem.TOO_BIG)
        if self.problem is None:
            self._parts.append(region)

    @property
    def message(self) -> bytes:
        """
        The message received, unstuffed, ending with CRLF (or empty); only
        meaningful when L{finished} and L{problem} is L{None}.
        """
        return b"".join(self._parts)


def _longestLineExceeds(region: bytes, limit: int) -> bool:
    """
    Whether a run of complete lines (ending with LF) holds a line longer
    than C{limit} octets, its CRLF included.

    It leaps from line end to line end, each time to the last LF within
    C{limit} octets: a few searches for a region of short lines, instead of
    one per line.
    """
    start = 0
    end = len(region)
    while end - start > limit:
        newline = region.rfind(b"\n", start, start + limit)
        if newline < 0:
            return True
        start = newline + 1
    return False


# The sender's side ----------------------------------------------------------

_ANY_LINE_ENDING = re.compile(rb"\r\n|\r|\n")


def normalizeLineEndings(message: bytes) -> bytes:
    """
    Make every line ending CRLF: a bare LF or bare CR becomes CRLF (RFC
    5321 section 2.3.8 lets only CRLF through).
    """
    crlf = message.count(b"\r\n")
    if message.count(b"\n") == crlf and message.count(b"\r") == crlf:
        return message
    return _ANY_LINE_ENDING.sub(b"\r\n", message)


def dotStuff(message: bytes) -> bytes:
    """
    Prepare a message for DATA (RFC 5321 section 4.5.2): normalize line
    endings to CRLF, end the last line with CRLF, double the dot that
    starts any line, and append the end of data C{".\\r\\n"}.

    @return: the bytes to send after the 354 reply, ending with
        C{"\\r\\n.\\r\\n"} (or C{".\\r\\n"} for an empty message).
    """
    message = normalizeLineEndings(message)
    if message and not message.endswith(b"\r\n"):
        message += b"\r\n"
    if message.startswith(b"."):
        message = b"." + message
    return message.replace(b"\r\n.", b"\r\n..") + b".\r\n"
