"""
The FTP control connection, sans-IO: commands, replies and the session's
state machine (RFC 959, with RFC 2228, 2428, 3659 and 4217).

FTP keeps two kinds of connection (textbook section 2.3): one I{control
connection}, open for the whole session, on which the client sends
commands and the server answers with numbered replies, and one I{data
connection} per transfer.  This module is everything about the control
connection that needs no socket:

  - L{LineBuffer} splits the control stream into command lines, strips the
    Telnet commands a client may send before C{ABOR} (RFC 959 section
    4.1.3), and bounds a line's length;
  - L{parseCommand} reads one command line into a L{Command}, refusing a
    line that carries a CR, LF or NUL inside its argument (CRLF injection);
  - L{Reply} and L{ReplyParser} write and read replies, single and
    multi-line (RFC 959 section 4.2);
  - L{Session} is the server's state machine: it answers what needs no
    file system nor socket at once (C{TYPE}, C{REST}, C{PBSZ}, sequencing
    errors, ...) and turns the rest into L{Action} events for the server's
    I/O layer, which reports back through the session's methods;
  - L{resolvePath} turns a client's path into a normalized absolute path
    that never climbs above C{/}: the user's root;
  - L{ASCIIEncoder} and L{ASCIIDecoder} convert between the local end of
    line and the network's CRLF for C{TYPE A} (RFC 959 section 3.1.1.1);
  - the host-port arguments of C{PORT}, C{PASV}, C{EPRT} and C{EPSV}.

Nothing here imports Twisted: the tests drive it directly.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import Enum

#: The longest command line accepted, CRLF included.  RFC 959 sets no
#: limit; paths are what makes lines long, and PATH_MAX is 4096 on Linux.
MAX_LINE = 4200

#: The longest reply line a client accepts, and the most lines of one reply
#: it keeps (a listing sent over the control connection by STAT can be long).
MAX_REPLY_LINE = 8192
MAX_REPLY_LINES = 100_000

#: FTP's well-known control port, and its default data port in active mode
#: (RFC 959 section 3.2: L-1).
FTP_PORT = 21
FTP_DATA_PORT = 20

#: Telnet's "interpret as command" byte, and the commands a client sends
#: before ABOR (RFC 959 section 4.1.3, RFC 854).
_IAC = 0xFF


class FTPWireError(Exception):
    """
    Bytes on the control connection that do not follow the protocol.
    """


class LineTooLongError(FTPWireError):
    """
    A command or reply line is longer than the limit.
    """


class CommandSyntaxError(FTPWireError):
    """
    A command line that is not a command (RFC 959 section 5.3: reply 500).
    """


class ReplySyntaxError(FTPWireError):
    """
    A reply line that is not a reply (three digits, then a space or hyphen).
    """


# Command lines.


def stripTelnet(line: bytes) -> bytes:
    """
    Remove Telnet commands from a control line.

    Clients send Telnet C{IP} and C{Synch} (C{IAC IP IAC DM}) before C{ABOR}
    (RFC 959 section 4.1.3), and a literal 0xFF byte in a path is sent
    doubled (C{IAC IAC}, RFC 854).  Option negotiation (C{IAC WILL x} and
    its kind) takes a third byte.

    @param line: a line as received.
    @return: the line without Telnet commands.
    """
    if _IAC not in line:
        return line
    out = bytearray()
    i = 0
    while i < len(line):
        byte = line[i]
        if byte != _IAC:
            out.append(byte)
            i += 1
            continue
        command = line[i + 1] if i + 1 < len(line) else None
        if command == _IAC:
            out.append(_IAC)
            i += 2
        elif command is not None and 251 <= command <= 254:
            # WILL, WONT, DO, DONT take an option byte.
            i += 3
        else:
            i += 2
    return bytes(out)


class LineBuffer:
    """
    Splits the bytes of a control connection into lines.

    A line ends in CRLF (RFC 959 section 4.1.3: the Telnet end of line); a
    bare LF is accepted too, as many servers do, since some clients send
    one.  The end of line is not part of the lines returned.
    """

    def __init__(self, maxLine: int = MAX_LINE) -> None:
        """
        @param maxLine: the longest line accepted, end of line included.
        """
        self._buffer = b""
        self._maxLine = maxLine

    def feed(self, data: bytes) -> list[bytes]:
        """
        Take more bytes.

        @return: the lines they complete, without end of line or Telnet
            commands.
        @raise LineTooLongError: when a line (or the unfinished rest)
            passes the limit; the buffer is then emptied.
        """
        self._buffer += data
        lines = []
        while True:
            end = self._buffer.find(b"\n")
            if end < 0:
                break
            line = self._buffer[:end]
            self._buffer = self._buffer[end + 1 :]
            if len(line) + 1 > self._maxLine:
                self._buffer = b""
                raise LineTooLongError(f"a line of more than {self._maxLine} bytes")
            if line.endswith(b"\r"):
                line = line[:-1]
            lines.append(stripTelnet(line))
        if len(self._buffer) > self._maxLine:
            self._buffer = b""
            raise LineTooLongError(f"a line of more than {self._maxLine} bytes")
        return lines

    def clear(self) -> bytes:
        """
        Empty the buffer (before a TLS handshake, see
        L{netref.core.tls.startTLS}).

        @return: what it held.
        """
        held, self._buffer = self._buffer, b""
        return held


_VERB = re.compile(rb"^[A-Za-z]{3,4}$")


@dataclass(frozen=True)
class Command:
    """
    One command of the control connection (RFC 959 section 5.3).

    @ivar verb: the command, in upper case (C{"RETR"}).
    @ivar argument: what follows the space, or L{None}.  Text: RFC 2640
        makes paths UTF-8; bytes that are not UTF-8 are kept through
        C{surrogateescape}.
    """

    verb: str
    argument: str | None = None

    def toLine(self) -> bytes:
        """
        @return: the command as sent on the wire, with its CRLF.
        """
        if self.argument is None:
            return self.verb.encode("ascii") + b"\r\n"
        argument = self.argument.encode("utf-8", "surrogateescape")
        if any(c in argument for c in b"\r\n\0"):
            raise CommandSyntaxError("an argument may not hold CR, LF or NUL")
        return self.verb.encode("ascii") + b" " + argument + b"\r\n"


def parseCommand(line: bytes) -> Command:
    """
    Read one command line (without its end of line).

    RFC 959 section 5.3: a command is an alphabetic verb, case-insensitive,
    then optionally a space and an argument.  A CR, LF or NUL inside the
    argument is refused: it can only come from a client that copied a
    hostile name into a command (the "CRLF injection" of RFC 2577's era),
    and a server that passed it on to a file name or a reply would split
    one line into two.

    @raise CommandSyntaxError: for anything else.
    """
    if any(c in line for c in b"\r\n\0"):
        raise CommandSyntaxError("CR, LF or NUL inside a command line")
    verb, space, rest = line.partition(b" ")
    if not _VERB.match(verb):
        raise CommandSyntaxError("not a command")
    argument: str | None = None
    if space:
        argument = rest.decode("utf-8", "surrogateescape")
    return Command(verb.decode("ascii").upper(), argument)


# Replies.


class ReplyCode:
    """
    The reply codes used here, by their RFC 959 section 4.2.2 (and RFC
    2228, 2428, 3659, 4217) meanings.

    The first digit says how the command went (1 preliminary, 2 done, 3
    more needed, 4 transient failure, 5 permanent failure), the second
    what it is about (0 syntax, 1 information, 2 connections, 3
    authentication, 5 file system).
    """

    RESTART_MARKER = 110
    DATA_ALREADY_OPEN = 125
    FILE_STATUS_OK = 150
    OK = 200
    NOT_NEEDED = 202
    SYSTEM_STATUS = 211
    DIRECTORY_STATUS = 212
    FILE_STATUS = 213
    HELP = 214
    SYSTEM_TYPE = 215
    SERVICE_READY = 220
    CLOSING_CONTROL = 221
    DATA_OPEN_NO_TRANSFER = 225
    CLOSING_DATA = 226
    ENTERING_PASSIVE = 227
    ENTERING_EXTENDED_PASSIVE = 229
    LOGGED_IN = 230
    AUTH_OK = 234
    FILE_ACTION_OK = 250
    PATH_CREATED = 257
    NEED_PASSWORD = 331
    NEED_ACCOUNT = 332
    PENDING_INFORMATION = 350
    SERVICE_NOT_AVAILABLE = 421
    CANT_OPEN_DATA = 425
    TRANSFER_ABORTED = 426
    SECURITY_RESOURCE = 431
    FILE_UNAVAILABLE_TRANSIENT = 450
    LOCAL_ERROR = 451
    INSUFFICIENT_STORAGE = 452
    SYNTAX_ERROR = 500
    ARGUMENT_ERROR = 501
    NOT_IMPLEMENTED = 502
    BAD_SEQUENCE = 503
    NOT_IMPLEMENTED_FOR_PARAMETER = 504
    NETWORK_PROTOCOL_NOT_SUPPORTED = 522
    NOT_LOGGED_IN = 530
    NEED_ACCOUNT_TO_STORE = 532
    PROT_LEVEL_DENIED = 533
    PROT_NOT_SUPPORTED = 536
    FILE_UNAVAILABLE = 550
    PAGE_TYPE_UNKNOWN = 551
    EXCEEDED_STORAGE = 552
    BAD_FILE_NAME = 553


@dataclass(frozen=True)
class Reply:
    """
    One reply of the control connection (RFC 959 section 4.2).

    @ivar code: the three-digit code.
    @ivar lines: the text, one string per line (at least one).
    """

    code: int
    lines: tuple[str, ...] = ("",)

    @classmethod
    def of(cls, code: int, *lines: str) -> Reply:
        """
        @return: a reply with C{code} and the given lines.
        """
        return cls(code, tuple(lines) or ("",))

    @property
    def text(self) -> str:
        """
        The text of every line, joined by newlines.
        """
        return "\n".join(self.lines)

    @property
    def isPreliminary(self) -> bool:
        """
        Whether the reply is 1yz: another reply follows (RFC 959 4.2).
        """
        return 100 <= self.code < 200

    @property
    def isPositive(self) -> bool:
        """
        Whether the reply is 1yz, 2yz or 3yz.
        """
        return self.code < 400

    def encode(self) -> bytes:
        """
        The reply as sent: C{"226 Done\\r\\n"}, or for several lines the
        multi-line form of RFC 959 section 4.2::

            211-First line
             a line in between
            211 Last line

        A line in between that would begin with digits is indented by a
        space, so that a client cannot mistake it for the last line.  CR
        and LF inside a line (from a file name) become spaces: a reply
        never holds more lines than it says.
        """
        code = f"{self.code:03d}"
        clean = [_oneLine(line) for line in self.lines]
        if len(clean) == 1:
            return f"{code} {clean[0]}\r\n".encode("utf-8", "surrogateescape")
        out = [f"{code}-{clean[0]}"]
        for line in clean[1:-1]:
            out.append(" " + line if line[:1].isdigit() or not line.startswith(" ") else line)
        out.append(f"{code} {clean[-1]}")
        return ("\r\n".join(out) + "\r\n").encode("utf-8", "surrogateescape")


def _oneLine(text: str) -> str:
    return text.replace("\r", " ").replace("\n", " ").replace("\0", " ")


class ReplyParser:
    """
    Reads the replies of a server, for a client: C{"226 Done"} and the
    multi-line form (RFC 959 section 4.2), which ends at the first line
    that starts with the same code and a space.
    """

    def __init__(self) -> None:
        self._lines = LineBuffer(MAX_REPLY_LINE)
        self._code: int | None = None
        self._text: list[str] = []

    def clear(self) -> bytes:
        """
        Drop what is buffered (before a TLS handshake).
        """
        self._code = None
        self._text = []
        return self._lines.clear()

    def feed(self, data: bytes) -> list[Reply]:
        """
        @return: the replies C{data} completes.
        @raise ReplySyntaxError: for a line that is not a reply.
        @raise LineTooLongError: for a line or a reply over the limits.
        """
        replies = []
        for raw in self._lines.feed(data):
            line = raw.decode("utf-8", "surrogateescape")
            if self._code is None:
                if len(line) < 3 or not line[:3].isdigit() or line[3:4] not in ("", " ", "-"):
                    raise ReplySyntaxError(f"not a reply: {line[:40]!r}")
                code = int(line[:3])
                if line[3:4] == "-":
                    self._code = code
                    self._text = [line[4:]]
                else:
                    replies.append(Reply(code, (line[4:],)))
                continue
            if line[:3] == f"{self._code:03d}" and line[3:4] in (" ", ""):
                self._text.append(line[4:])
                replies.append(Reply(self._code, tuple(self._text)))
                self._code = None
                self._text = []
            else:
                if len(self._text) >= MAX_REPLY_LINES:
                    raise LineTooLongError(f"a reply of more than {MAX_REPLY_LINES} lines")
                self._text.append(line)
        return replies


# Host-port arguments.


class AddressError(FTPWireError):
    """
    A malformed host-port argument (reply 501).
    """


def parsePortArgument(text: str) -> tuple[str, int]:
    """
    Read the argument of C{PORT} and the address in a C{227} reply: six
    decimal numbers C{h1,h2,h3,h4,p1,p2} (RFC 959 section 4.1.2).

    @return: the IPv4 address and the port.
    @raise AddressError: if it is not that.
    """
    parts = text.strip().split(",")
    if len(parts) != 6 or not all(p.strip().isdigit() for p in parts):
        raise AddressError(f"not h1,h2,h3,h4,p1,p2: {text!r}")
    numbers = [int(p) for p in parts]
    if any(n > 255 for n in numbers):
        raise AddressError(f"a number above 255 in {text!r}")
    host = ".".join(str(n) for n in numbers[:4])
    return host, numbers[4] * 256 + numbers[5]


def formatPortArgument(host: str, port: int) -> str:
    """
    @return: C{host} and C{port} as C{PORT} and C{227} write them.
    """
    return ",".join(host.split(".")) + f",{port >> 8},{port & 0xFF}"


_PASV_NUMBERS = re.compile(r"(\d+,\d+,\d+,\d+,\d+,\d+)")


def parsePassiveReply(text: str) -> tuple[str, int]:
    """
    Read the address of a C{227 Entering Passive Mode (h1,h2,h3,h4,p1,p2)}
    reply.  RFC 959 does not fix where the numbers are; RFC 1123 section
    4.1.2.6 says to scan for them.

    @raise AddressError: if there are none.
    """
    match = _PASV_NUMBERS.search(text)
    if match is None:
        raise AddressError(f"no address in {text!r}")
    return parsePortArgument(match.group(1))


def parseExtendedPort(text: str) -> tuple[int, str, int]:
    """
    Read the argument of C{EPRT}: C{<d><proto><d><address><d><port><d>}
    (RFC 2428 section 2), protocol 1 for IPv4, 2 for IPv6.

    @return: the protocol number, the address and the port.
    @raise AddressError: if it is malformed, or the address does not fit
        the protocol.
    """
    if len(text) < 7:
        raise AddressError(f"too short for EPRT: {text!r}")
    delimiter = text[0]
    if not 33 <= ord(delimiter) <= 126:
        raise AddressError("the delimiter must be printable ASCII")
    parts = text.split(delimiter)
    if len(parts) != 5 or parts[0] or parts[4]:
        raise AddressError(f"not <d>proto<d>address<d>port<d>: {text!r}")
    protocolText, host, portText = parts[1:4]
    if not protocolText.isdigit() or not portText.isdigit():
        raise AddressError(f"not <d>proto<d>address<d>port<d>: {text!r}")
    protocol, port = int(protocolText), int(portText)
    if not 0 < port < 65536:
        raise AddressError(f"port out of range: {port}")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise AddressError(f"not an address: {host!r}") from None
    if protocol not in (1, 2) or address.version != {1: 4, 2: 6}[protocol]:
        raise AddressError(f"protocol {protocol} does not match {host!r}")
    return protocol, str(address), port


def formatExtendedPort(host: str, port: int) -> str:
    """
    @return: the C{EPRT} argument for C{host} and C{port}.
    """
    protocol = 2 if ":" in host else 1
    return f"|{protocol}|{host}|{port}|"


_EPSV_REPLY = re.compile(r"\((.)\1\1(\d+)\1\)")


def parseExtendedPassiveReply(text: str) -> int:
    """
    Read the port of a C{229 Entering Extended Passive Mode (|||6446|)}
    reply (RFC 2428 section 3): the address is the control connection's.

    @raise AddressError: if there is none.
    """
    match = _EPSV_REPLY.search(text)
    if match is None:
        raise AddressError(f"no port in {text!r}")
    port = int(match.group(2))
    if not 0 < port < 65536:
        raise AddressError(f"port out of range: {port}")
    return port


# Paths.


class PathError(FTPWireError):
    """
    A path argument that cannot name a file (reply 553 or 501).
    """


def resolvePath(cwd: str, argument: str) -> str:
    """
    The absolute path a client means, within its root.

    C{argument} is relative to C{cwd} unless it starts with C{/}; C{.} and
    C{..} are applied, and C{..} at the root stays at the root, so the
    result never names anything outside the user's root.  Repeated
    slashes collapse.

    @param cwd: the working directory, absolute and normalized.
    @param argument: the path the client gave.
    @return: an absolute normalized path, C{"/"} for the root.
    @raise PathError: for a NUL character.
    """
    if "\0" in argument:
        raise PathError("a NUL character in a path")
    base = [] if argument.startswith("/") else [p for p in cwd.split("/") if p]
    for part in argument.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if base:
                base.pop()
            continue
        base.append(part)
    return "/" + "/".join(base)


def quotePath(path: str) -> str:
    """
    A path as the C{257} reply writes it: in double quotes, with a quote in
    the name doubled (RFC 959 appendix II).
    """
    return '"' + path.replace('"', '""') + '"'


def unquotePath(text: str) -> str:
    """
    The path of a C{257} reply (RFC 959 appendix II).

    @raise PathError: if the text holds no quoted path.
    """
    start = text.find('"')
    if start < 0:
        raise PathError(f"no quoted path in {text!r}")
    out = []
    i = start + 1
    while i < len(text):
        if text[i] == '"':
            if text[i + 1 : i + 2] == '"':
                out.append('"')
                i += 2
                continue
            return "".join(out)
        out.append(text[i])
        i += 1
    raise PathError(f"unterminated quoted path in {text!r}")


# TYPE A: end-of-line conversion.


class ASCIIEncoder:
    """
    Converts a file to the network's ASCII form for C{TYPE A}: every line
    ends in CRLF (RFC 959 section 3.1.1.1).  Local files end lines in LF; a
    CRLF already in the file is kept as it is, so an encoded file decodes
    back to itself.  Works chunk by chunk: a CR at the end of one chunk is
    held until the next shows whether LF follows.
    """

    def __init__(self) -> None:
        self._lastWasCR = False

    def feed(self, chunk: bytes) -> bytes:
        """
        @return: C{chunk} with LF not preceded by CR turned into CRLF.
        """
        if not chunk:
            return b""
        out = chunk.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        if self._lastWasCR and chunk[:1] == b"\n":
            # The CR of a CRLF split between chunks was already sent.
            out = out[1:]
        self._lastWasCR = chunk[-1:] == b"\r"
        return out


class ASCIIDecoder:
    """
    Converts the network's ASCII form back to local lines for C{TYPE A}
    uploads: CRLF becomes LF (RFC 959 section 3.1.1.1); a CR followed by
    anything else is kept.  A CR at the end of a chunk is held until the
    next chunk, or L{flush}.
    """

    def __init__(self) -> None:
        self._heldCR = False

    def feed(self, chunk: bytes) -> bytes:
        """
        @return: the local form of what C{chunk} completes.
        """
        if self._heldCR:
            chunk = b"\r" + chunk
            self._heldCR = False
        if chunk.endswith(b"\r"):
            self._heldCR = True
            chunk = chunk[:-1]
        return chunk.replace(b"\r\n", b"\n")

    def flush(self) -> bytes:
        """
        @return: a CR held at the end of the last chunk: the file ended in it.
        """
        held = b"\r" if self._heldCR else b""
        self._heldCR = False
        return held


# The server's session state machine.


class LoginState(Enum):
    """
    Where a session is in logging in (RFC 959 section 6, the USER-PASS
    state diagram).
    """

    NEED_USER = "need user"
    NEED_PASSWORD = "need password"
    LOGGED_IN = "logged in"


#: The name RFC 1635 gives anonymous users, and its synonym.
ANONYMOUS_NAMES = frozenset({"anonymous", "ftp"})

#: Commands a session accepts before logging in.
_BEFORE_LOGIN = frozenset(
    {"USER", "PASS", "ACCT", "QUIT", "SYST", "FEAT", "HELP", "NOOP", "AUTH", "PBSZ", "PROT"}
    | {"OPTS", "STAT", "ABOR"}
)

#: Commands that transfer on a data connection.
TRANSFER_VERBS = frozenset({"RETR", "STOR", "APPE", "STOU", "LIST", "NLST", "MLSD"})

#: Commands that change the file system, refused to read-only users.
WRITE_VERBS = frozenset(
    {"STOR", "APPE", "STOU", "MKD", "XMKD", "RMD", "XRMD", "DELE", "RNFR", "RNTO"}
)

#: Every command the server knows, for HELP and the 502 reply.
KNOWN_VERBS: tuple[str, ...] = tuple(
    (
        "ABOR ACCT ALLO APPE AUTH CDUP CWD DELE EPRT EPSV FEAT HELP LIST MDTM MKD MLSD MLST "
        "MODE NLST NOOP OPTS PASS PASV PBSZ PORT PROT PWD QUIT REST RETR RMD RNFR RNTO SITE "
        "SIZE STAT STOR STOU STRU SYST TYPE USER XCUP XCWD XMKD XPWD XRMD"
    ).split()
)

#: The lines of the FEAT reply (RFC 2389 section 3.2): the extensions the
#: server implements beyond RFC 959.
FEATURES: tuple[str, ...] = (
    "AUTH TLS",
    "EPRT",
    "EPSV",
    "MDTM",
    "MLST type*;size*;modify*;perm*;unix.mode;",
    "PBSZ",
    "PROT",
    "REST STREAM",
    "SIZE",
    "TVFS",
    "UTF8",
)


@dataclass(frozen=True)
class Action:
    """
    Something the session asks of the server's I/O layer; the layer
    answers by writing a reply, and, for some actions, by calling back the
    session (L{Session.loggedIn}, L{Session.tlsStarted}, ...).
    """


@dataclass(frozen=True)
class LogIn(Action):
    """
    Check a user name and password (after C{PASS}).  The I/O layer calls
    L{Session.loggedIn} or L{Session.loginFailed}.

    @ivar anonymous: whether the name is an anonymous one (RFC 1635).
    """

    user: str
    password: str
    anonymous: bool


@dataclass(frozen=True)
class Quit(Action):
    """
    Say goodbye (221) and close the control connection once any transfer
    has ended (RFC 959 section 4.1.1).
    """


@dataclass(frozen=True)
class StartTLS(Action):
    """
    Reply 234 and start TLS on the control connection (RFC 4217 section 4);
    the I/O layer calls L{Session.tlsStarted}.
    """


@dataclass(frozen=True)
class EnterPassive(Action):
    """
    Listen for a data connection (C{PASV} or, with C{extended}, C{EPSV}).
    """

    extended: bool


@dataclass(frozen=True)
class EnterActive(Action):
    """
    Connect to the client for the next transfer (C{PORT} or C{EPRT}).  The
    address is checked by the I/O layer, which knows the control
    connection's peer.
    """

    host: str
    port: int
    extended: bool


@dataclass(frozen=True)
class FileCommand(Action):
    """
    A command on a path that needs the file system and no data connection:
    C{CWD MKD RMD DELE SIZE MDTM MLST STAT RNFR RNTO}.

    @ivar path: the absolute path (L{resolvePath}), or L{None} for commands
        without one (C{STAT}).
    @ivar source: for C{RNTO}, the path given to C{RNFR}.
    """

    verb: str
    path: str | None
    source: str | None = None


@dataclass(frozen=True)
class Transfer(Action):
    """
    A transfer on a data connection: C{RETR STOR APPE STOU LIST NLST MLSD}.

    @ivar path: the absolute path (the directory for listings).
    @ivar offset: where to start, from C{REST} (RFC 3659 section 5).
    @ivar binary: C{TYPE I} rather than C{TYPE A}.
    @ivar protected: C{PROT P}: the data connection must be TLS.
    @ivar listOptions: the options given to C{LIST}/C{NLST} (C{-a}, C{-l}).
    """

    verb: str
    path: str
    offset: int = 0
    binary: bool = False
    protected: bool = False
    listOptions: str = ""


@dataclass(frozen=True)
class Abort(Action):
    """
    C{ABOR}: abort the transfer in progress (RFC 959 section 4.1.3).
    """


@dataclass
class Session:
    """
    The server's view of one control connection, without I/O.

    Feed it each L{Command} with L{receive}: it returns either a L{Reply}
    to write at once, or an L{Action} for the I/O layer.  It enforces the
    orders RFC 959 and its extensions impose: C{USER} before C{PASS}
    (section 5.4), C{RNFR} immediately before C{RNTO} (section 4.1.3),
    C{REST} immediately before the transfer it restarts (RFC 3659 section
    5.3), C{AUTH} before C{PBSZ} before C{PROT} (RFC 4217 sections 8 and
    9), and logging in before anything touching files (reply 530).

    @ivar state: where the session is in logging in.
    @ivar user: the user name (known from C{USER} on).
    @ivar cwd: the working directory, an absolute path within the root.
    @ivar binary: C{TYPE I} (true) or C{TYPE A} (false, the default of RFC
        959 section 3.1.1.1).
    @ivar restOffset: the offset given to C{REST}, for the next command.
    @ivar renameFrom: the path given to C{RNFR}, for the next command.
    @ivar tls: whether the control connection runs TLS.
    @ivar tlsAvailable: whether the server can start TLS (C{AUTH TLS}).
    @ivar protectionBufferSet: whether C{PBSZ} was given (under TLS).
    @ivar protected: C{PROT P}: data connections must be TLS.
    @ivar anonymousAllowed: whether C{anonymous} may log in.
    @ivar plaintextLogin: whether a password may be sent before TLS when
        the server offers TLS.
    @ivar writable: whether the logged-in user may change files.
    """

    tlsAvailable: bool = False
    anonymousAllowed: bool = False
    plaintextLogin: bool = True
    state: LoginState = LoginState.NEED_USER
    user: str | None = None
    cwd: str = "/"
    binary: bool = False
    restOffset: int = 0
    renameFrom: str | None = None
    tls: bool = False
    protectionBufferSet: bool = False
    protected: bool = False
    writable: bool = False
    _pendingLogin: bool = field(default=False, repr=False)

    def receive(self, command: Command) -> Reply | Action:
        """
        Take one command.

        @return: the reply to write now, or the action to carry out.
        """
        verb = {"XCWD": "CWD", "XCUP": "CDUP", "XPWD": "PWD", "XMKD": "MKD", "XRMD": "RMD"}.get(
            command.verb, command.verb
        )
        argument = command.argument
        # REST and RNFR hold only for the very next command.
        offset, self.restOffset = self.restOffset, 0
        renameFrom, self.renameFrom = self.renameFrom, None
        if verb not in KNOWN_VERBS:
            return Reply.of(ReplyCode.NOT_IMPLEMENTED, f"{command.verb} not implemented")
        if self.state is not LoginState.LOGGED_IN and verb not in _BEFORE_LOGIN:
            return Reply.of(ReplyCode.NOT_LOGGED_IN, "Please log in with USER and PASS first")
        if verb == "RNTO":
            return self._rnto(argument, renameFrom)
        if verb in ("RETR", "STOR", "APPE"):
            return self._transfer(verb, argument, offset)
        handler = getattr(self, "_" + verb.lower(), None)
        if handler is None:
            return Reply.of(ReplyCode.NOT_IMPLEMENTED, f"{command.verb} not implemented")
        result: Reply | Action = handler(argument)
        return result

    # Logging in (RFC 959 sections 4.1.1 and 5.4; RFC 4217 section 4).

    def _user(self, argument: str | None) -> Reply:
        if not argument:
            return Reply.of(ReplyCode.ARGUMENT_ERROR, "USER needs a name")
        anonymous = argument.lower() in ANONYMOUS_NAMES
        if anonymous and not self.anonymousAllowed:
            self.state = LoginState.NEED_USER
            return Reply.of(ReplyCode.NOT_LOGGED_IN, "Anonymous access is not allowed here")
        if not anonymous and self.tlsAvailable and not self.tls and not self.plaintextLogin:
            self.state = LoginState.NEED_USER
            return Reply.of(
                ReplyCode.NOT_LOGGED_IN, "Log in over TLS: send AUTH TLS first (RFC 4217)"
            )
        self.state = LoginState.NEED_PASSWORD
        self.user = argument
        self.writable = False
        if anonymous:
            return Reply.of(
                ReplyCode.NEED_PASSWORD, "Anonymous login: send your e-mail as password"
            )
        return Reply.of(ReplyCode.NEED_PASSWORD, f"Password required for {argument}")

    def _pass(self, argument: str | None) -> Reply | Action:
        if self.state is LoginState.LOGGED_IN:
            return Reply.of(ReplyCode.NOT_NEEDED, "Already logged in")
        if self.state is not LoginState.NEED_PASSWORD or self.user is None:
            return Reply.of(ReplyCode.BAD_SEQUENCE, "Send USER first")
        if self._pendingLogin:
            return Reply.of(ReplyCode.BAD_SEQUENCE, "A login is already being checked")
        self._pendingLogin = True
        return LogIn(self.user, argument or "", self.user.lower() in ANONYMOUS_NAMES)

    def loggedIn(self, writable: bool) -> Reply:
        """
        The I/O layer accepted the L{LogIn}.

        @param writable: whether the user may change files.
        @return: the 230 reply.
        """
        self._pendingLogin = False
        self.state = LoginState.LOGGED_IN
        self.writable = writable
        self.cwd = "/"
        return Reply.of(ReplyCode.LOGGED_IN, f"User {self.user} logged in")

    def loginFailed(self) -> Reply:
        """
        The I/O layer refused the L{LogIn}: start again from C{USER}.

        @return: the 530 reply.
        """
        self._pendingLogin = False
        self.state = LoginState.NEED_USER
        self.user = None
        return Reply.of(ReplyCode.NOT_LOGGED_IN, "Login incorrect")

    def _acct(self, argument: str | None) -> Reply:
        # RFC 959 section 4.1.1: ACCT is needed by some systems; not here.
        if self.state is LoginState.LOGGED_IN:
            return Reply.of(ReplyCode.NOT_NEEDED, "No account needed")
        return Reply.of(ReplyCode.BAD_SEQUENCE, "Send USER and PASS; no account is needed")

    def _quit(self, argument: str | None) -> Action:
        return Quit()

    # Security (RFC 2228, RFC 4217).

    def _auth(self, argument: str | None) -> Reply | Action:
        mechanism = (argument or "").upper()
        if mechanism not in ("TLS", "TLS-C", "SSL"):
            return Reply.of(
                ReplyCode.NOT_IMPLEMENTED_FOR_PARAMETER, "AUTH TLS is the only mechanism"
            )
        if self.tls:
            return Reply.of(ReplyCode.BAD_SEQUENCE, "TLS is already active")
        if not self.tlsAvailable:
            return Reply.of(ReplyCode.SECURITY_RESOURCE, "TLS is not configured on this server")
        return StartTLS()

    def tlsStarted(self) -> None:
        """
        TLS started on the control connection: the client must log in again
        (RFC 4217 section 4: the security state is reset).
        """
        self.tls = True
        self.state = LoginState.NEED_USER
        self.user = None
        self.protectionBufferSet = False
        self.protected = False

    def _pbsz(self, argument: str | None) -> Reply:
        # RFC 4217 section 8: PBSZ after AUTH, argument 0 for TLS.
        if not self.tls:
            return Reply.of(ReplyCode.BAD_SEQUENCE, "PBSZ needs AUTH TLS first")
        if argument is None or not argument.isdigit():
            return Reply.of(ReplyCode.ARGUMENT_ERROR, "PBSZ needs a number")
        self.protectionBufferSet = True
        return Reply.of(ReplyCode.OK, "PBSZ=0")

    def _prot(self, argument: str | None) -> Reply:
        # RFC 4217 section 9; RFC 2228 section 3: levels C, S, E, P.
        if not self.tls:
            return Reply.of(ReplyCode.BAD_SEQUENCE, "PROT needs AUTH TLS first")
        if not self.protectionBufferSet:
            return Reply.of(ReplyCode.BAD_SEQUENCE, "PROT needs PBSZ first")
        level = (argument or "").upper()
        if level == "P":
            self.protected = True
            return Reply.of(ReplyCode.OK, "Data connections will be protected by TLS")
        if level == "C":
            self.protected = False
            return Reply.of(ReplyCode.OK, "Data connections will be in the clear")
        if level in ("S", "E"):
            return Reply.of(ReplyCode.PROT_NOT_SUPPORTED, f"PROT {level} is not supported")
        return Reply.of(ReplyCode.NOT_IMPLEMENTED_FOR_PARAMETER, "PROT is C or P")

    # Information and parameters.

    def _syst(self, argument: str | None) -> Reply:
        # RFC 959 section 4.1.3; "UNIX Type: L8" is what clients expect of
        # a server that lists like ls -l.
        return Reply.of(ReplyCode.SYSTEM_TYPE, "UNIX Type: L8")

    def _feat(self, argument: str | None) -> Reply:
        # RFC 2389 section 3.2: each feature on its own line, indented.
        return Reply.of(
            ReplyCode.SYSTEM_STATUS, "Extensions supported:", *[" " + f for f in FEATURES], "End"
        )

    def _opts(self, argument: str | None) -> Reply:
        # RFC 2389 section 4; RFC 2640 section 3.1 for UTF8.
        words = (argument or "").upper().split()
        if words[:1] == ["UTF8"] and words[1:] in ([], ["ON"]):
            return Reply.of(ReplyCode.OK, "UTF8 is always on")
        if words[:1] == ["MLST"]:
            return Reply.of(ReplyCode.OK, "MLST OPTS type;size;modify;perm;unix.mode;")
        return Reply.of(ReplyCode.ARGUMENT_ERROR, "Option not understood")

    def _noop(self, argument: str | None) -> Reply:
        return Reply.of(ReplyCode.OK, "NOOP ok")

    def _help(self, argument: str | None) -> Reply:
        if argument:
            verb = argument.upper().strip()
            if verb in KNOWN_VERBS:
                return Reply.of(ReplyCode.HELP, f"{verb} is implemented")
            return Reply.of(ReplyCode.ARGUMENT_ERROR, f"Unknown command {verb}")
        rows = [" " + " ".join(KNOWN_VERBS[i : i + 10]) for i in range(0, len(KNOWN_VERBS), 10)]
        return Reply.of(ReplyCode.HELP, "The following commands are recognized:", *rows, "Help OK")

    def _type(self, argument: str | None) -> Reply:
        # RFC 959 section 3.1.1: A (ASCII, format N only), I (image); E
        # and L other than 8 are not supported.
        words = (argument or "").upper().split()
        if words in (["A"], ["A", "N"]):
            self.binary = False
            return Reply.of(ReplyCode.OK, "Type set to A")
        if words in (["I"], ["L", "8"]):
            self.binary = True
            return Reply.of(ReplyCode.OK, "Type set to I")
        if words[:1] in (["A"], ["E"], ["L"]):
            return Reply.of(ReplyCode.NOT_IMPLEMENTED_FOR_PARAMETER, "Only TYPE A, I and L 8")
        return Reply.of(ReplyCode.ARGUMENT_ERROR, "TYPE is A or I")

    def _mode(self, argument: str | None) -> Reply:
        # RFC 959 section 3.4: stream mode only (block and compressed are
        # obsolete).
        mode = (argument or "").upper()
        if mode == "S":
            return Reply.of(ReplyCode.OK, "Mode set to S")
        if mode in ("B", "C"):
            return Reply.of(ReplyCode.NOT_IMPLEMENTED_FOR_PARAMETER, "Only MODE S")
        return Reply.of(ReplyCode.ARGUMENT_ERROR, "MODE is S, B or C")

    def _stru(self, argument: str | None) -> Reply:
        # RFC 959 section 3.1.2: file structure only.
        structure = (argument or "").upper()
        if structure == "F":
            return Reply.of(ReplyCode.OK, "Structure set to F")
        if structure in ("R", "P"):
            return Reply.of(ReplyCode.NOT_IMPLEMENTED_FOR_PARAMETER, "Only STRU F")
        return Reply.of(ReplyCode.ARGUMENT_ERROR, "STRU is F, R or P")

    def _allo(self, argument: str | None) -> Reply:
        # RFC 959 section 4.1.3: superfluous for servers that do not need
        # the size in advance.
        return Reply.of(ReplyCode.NOT_NEEDED, "ALLO is not needed")

    def _rest(self, argument: str | None) -> Reply:
        # RFC 3659 section 5.3: in stream mode the marker is a byte offset.
        if argument is None or not argument.isdigit() or len(argument) > 18:
            return Reply.of(ReplyCode.ARGUMENT_ERROR, "REST needs a byte offset")
        if not self.binary and int(argument) != 0:
            # RFC 3659 section 5: restarting in TYPE A needs the offset of
            # the converted form, which a server cannot compute cheaply.
            return Reply.of(ReplyCode.NOT_IMPLEMENTED_FOR_PARAMETER, "REST needs TYPE I")
        self.restOffset = int(argument)
        return Reply.of(
            ReplyCode.PENDING_INFORMATION,
            f"Restarting at {self.restOffset}; send RETR, STOR or APPE",
        )

    def _site(self, argument: str | None) -> Reply:
        return Reply.of(ReplyCode.NOT_IMPLEMENTED_FOR_PARAMETER, "No SITE commands here")

    # Directories (RFC 959 section 4.1.1).

    def _pwd(self, argument: str | None) -> Reply:
        return Reply.of(ReplyCode.PATH_CREATED, f"{quotePath(self.cwd)} is the current directory")

    def _cdup(self, argument: str | None) -> Reply | Action:
        return FileCommand("CWD", resolvePath(self.cwd, ".."))

    def changedDirectory(self, path: str) -> Reply:
        """
        The I/O layer found C{path} to be a directory: it is now the working
        directory.

        @return: the 250 reply.
        """
        self.cwd = path
        return Reply.of(ReplyCode.FILE_ACTION_OK, f"Directory changed to {path}")

    def _pathCommand(
        self, verb: str, argument: str | None, optional: bool = False
    ) -> Reply | Action:
        if argument is None or argument == "":
            if not optional:
                return Reply.of(ReplyCode.ARGUMENT_ERROR, f"{verb} needs a path")
            argument = "."
        try:
            path = resolvePath(self.cwd, argument)
        except PathError as e:
            return Reply.of(ReplyCode.BAD_FILE_NAME, str(e))
        if verb in WRITE_VERBS and not self.writable:
            return Reply.of(ReplyCode.FILE_UNAVAILABLE, "Permission denied (read-only)")
        return FileCommand(verb, path)

    def _cwd(self, argument: str | None) -> Reply | Action:
        return self._pathCommand("CWD", argument)

    def _mkd(self, argument: str | None) -> Reply | Action:
        return self._pathCommand("MKD", argument)

    def _rmd(self, argument: str | None) -> Reply | Action:
        return self._pathCommand("RMD", argument)

    def _dele(self, argument: str | None) -> Reply | Action:
        return self._pathCommand("DELE", argument)

    def _size(self, argument: str | None) -> Reply | Action:
        return self._pathCommand("SIZE", argument)

    def _mdtm(self, argument: str | None) -> Reply | Action:
        return self._pathCommand("MDTM", argument)

    def _mlst(self, argument: str | None) -> Reply | Action:
        return self._pathCommand("MLST", argument, optional=True)

    def _stat(self, argument: str | None) -> Reply | Action:
        if not argument:
            return FileCommand("STAT", None)
        if self.state is not LoginState.LOGGED_IN:
            return Reply.of(ReplyCode.NOT_LOGGED_IN, "Please log in with USER and PASS first")
        return self._pathCommand("STAT", _withoutListOptions(argument)[1] or ".", optional=True)

    def _rnfr(self, argument: str | None) -> Reply | Action:
        return self._pathCommand("RNFR", argument)

    def renameFromAccepted(self, path: str) -> Reply:
        """
        The I/O layer found the file C{RNFR} names: remember it for C{RNTO}.

        @return: the 350 reply (RFC 959 section 4.1.3).
        """
        self.renameFrom = path
        return Reply.of(ReplyCode.PENDING_INFORMATION, "Ready for RNTO")

    def _rnto(self, argument: str | None, renameFrom: str | None) -> Reply | Action:
        if renameFrom is None:
            return Reply.of(ReplyCode.BAD_SEQUENCE, "RNTO must follow RNFR")
        action = self._pathCommand("RNTO", argument)
        if isinstance(action, FileCommand):
            return FileCommand("RNTO", action.path, renameFrom)
        return action

    # Data connections (RFC 959 section 3.2; RFC 2428).

    def _port(self, argument: str | None) -> Reply | Action:
        try:
            host, port = parsePortArgument(argument or "")
        except AddressError as e:
            return Reply.of(ReplyCode.ARGUMENT_ERROR, str(e))
        return EnterActive(host, port, False)

    def _eprt(self, argument: str | None) -> Reply | Action:
        try:
            protocol, host, port = parseExtendedPort(argument or "")
        except AddressError as e:
            return Reply.of(ReplyCode.ARGUMENT_ERROR, str(e))
        return EnterActive(host, port, True)

    def _pasv(self, argument: str | None) -> Action:
        return EnterPassive(False)

    def _epsv(self, argument: str | None) -> Reply | Action:
        # RFC 2428 section 3: EPSV, EPSV 1/2, and EPSV ALL.
        if argument is None or argument.upper() == "ALL" or argument in ("1", "2"):
            return EnterPassive(True)
        return Reply.of(
            ReplyCode.NETWORK_PROTOCOL_NOT_SUPPORTED, "Network protocol not supported, use (1,2)"
        )

    def _abor(self, argument: str | None) -> Action:
        return Abort()

    # Transfers.

    def _transfer(self, verb: str, argument: str | None, offset: int) -> Reply | Action:
        action = self._pathCommand(verb, argument)
        if not isinstance(action, FileCommand):
            return action
        assert action.path is not None
        return Transfer(verb, action.path, offset, self.binary, self.protected)

    def _stou(self, argument: str | None) -> Reply | Action:
        # RFC 959 section 4.1.3: the server chooses a unique name in the
        # working directory (RFC 1123 4.1.2.9: argument ignored).
        if not self.writable:
            return Reply.of(ReplyCode.FILE_UNAVAILABLE, "Permission denied (read-only)")
        return Transfer("STOU", self.cwd, 0, self.binary, self.protected)

    def _listing(self, verb: str, argument: str | None) -> Reply | Action:
        options, rest = _withoutListOptions(argument or "")
        if verb == "MLSD":
            options, rest = "", argument or ""
        try:
            path = resolvePath(self.cwd, rest or ".")
        except PathError as e:
            return Reply.of(ReplyCode.BAD_FILE_NAME, str(e))
        return Transfer(verb, path, 0, False, self.protected, options)

    def _list(self, argument: str | None) -> Reply | Action:
        return self._listing("LIST", argument)

    def _nlst(self, argument: str | None) -> Reply | Action:
        return self._listing("NLST", argument)

    def _mlsd(self, argument: str | None) -> Reply | Action:
        return self._listing("MLSD", argument)


def _withoutListOptions(argument: str) -> tuple[str, str]:
    """
    Split the C{ls}-style options clients put before a path in C{LIST} and
    C{STAT} (C{"-la /pub"}): not in RFC 959, but sent by many clients.

    @return: the options (without dashes) and the rest.
    """
    options = []
    rest = argument.strip()
    while rest.startswith("-") and len(rest) > 1:
        word, _, rest = rest.partition(" ")
        options.append(word[1:])
        rest = rest.strip()
    return "".join(options), rest


def unique(names: Iterable[str], base: str) -> str:
    """
    A name for C{STOU} not among C{names}: C{base}, then C{base.1}, ...
    """
    taken = set(names)
    if base not in taken:
        return base
    n = 1
    while f"{base}.{n}" in taken:
        n += 1
    return f"{base}.{n}"


def featureLines() -> Sequence[str]:
    """
    @return: the features of L{FEATURES}, for a client to compare.
    """
    return FEATURES
