"""
The vocabulary of HTTP/1.1 messages that L{netref.http.wire} builds on: the
grammar (RFC 9110 section 5.6, RFC 9112), header fields (L{Headers}),
reason phrases (L{REASONS}) and the module's error (L{HTTPError}).

Import these names from L{netref.http.wire}, which re-exports them; this
module exists only to keep C{wire.py} a readable size.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from netref.http.wire import Event

__all__ = ["HTTPError", "Headers", "REASONS"]


class HTTPError(Exception):
    """
    The message layer's own parse and protocol error.  A server answers it
    with L{netref.http.wire.ServerConnection.errorResponse} (status
    C{status}) and closes.

    @ivar status: 400, 413, 414, 431, 501 or 505 (informative only on the
        client side).
    @ivar reason: one line for humans and logs.
    @ivar events: the events parsed before the error in the same
        C{receiveData} call (requests pipelined ahead of the bad one), in
        case the caller wants to answer them before the error.
    """

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(status, reason)
        self.status = status
        self.reason = reason
        self.events: list[Event] = []

    def __str__(self) -> str:
        return f"{self.status} {self.reason}"


# ---------------------------------------------------------------- grammar

#: tchar (RFC 9110 section 5.6.2).
TCHAR = rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]"

#: token = 1*tchar (RFC 9110 section 5.6.2): methods, field names, codings.
TOKEN = re.compile(TCHAR + rb"+")

#: What a field value must not hold: CTLs other than HTAB, so NUL, CR and
#: LF (RFC 9110 section 5.5).
BAD_VALUE = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")

#: One field line and its CRLF (RFC 9112 section 5): a token name right
#: before the colon, OWS, then a value of VCHAR, obs-text, SP and HTAB.  The
#: lookbehind pins every match to just after a CRLF and a value holds no CR
#: or LF, so each match is one whole line: a field section is valid exactly
#: when this finds one match per CRLF.  The value group ends on a visible
#: character, so the OWS around it is left out.
FIELD_LINE = re.compile(
    rb"(?<=\r\n)("
    + TCHAR
    + rb"+):[ \t]*((?:[\t\x20-\x7e\x80-\xff]*[\x21-\x7e\x80-\xff])?)[ \t]*\r\n"
)

#: request-line = method SP request-target SP HTTP-version (RFC 9112
#: section 3).  The target is VCHAR only (URI syntax: no whitespace, no
#: controls, no raw non-ASCII); HTTP-version = "HTTP/" DIGIT "." DIGIT,
#: case-sensitive (section 2.3).
REQUEST_LINE = re.compile(rb"(" + TCHAR + rb"+) ([\x21-\x7e]+) HTTP/([0-9])\.([0-9])")

#: status-line = HTTP-version SP status-code SP [ reason-phrase ] (RFC 9112
#: section 4).  A client tolerates the SP missing before an empty reason.
STATUS_LINE = re.compile(rb"HTTP/([0-9])\.([0-9]) ([0-9]{3})(?: ([\t\x20-\x7e\x80-\xff]*))?")

#: reason-phrase = *( HTAB / SP / VCHAR / obs-text ) (RFC 9112 section 4).
REASON = re.compile(rb"[\t\x20-\x7e\x80-\xff]*")
#: request-target characters (RFC 9112 section 3.2).
TARGET = re.compile(rb"[\x21-\x7e]+")
#: DIGIT "." DIGIT (RFC 9112 section 2.3).
VERSION = re.compile(rb"[0-9]\.[0-9]")
#: absolute-form begins with a URI scheme and an authority (RFC 3986
#: sections 3.1 and 3.2), which tells it from authority-form.
ABSOLUTE = re.compile(rb"[A-Za-z][A-Za-z0-9+\-.]*://")
_HOSTNAME = rb"(?:\[[0-9A-Za-z:.\-_~!$&'()*+,;=]+\]|[0-9A-Za-z\-._~!$&'()*+,;=%]*)"
#: Host = uri-host [ ":" port ] (RFC 9110 section 7.2; RFC 3986 section
#: 3.2.2); empty when the target URI has no authority (RFC 9112 section 3.2).
HOST = re.compile(_HOSTNAME + rb"(?::[0-9]*)?")
#: authority-form, for CONNECT only: uri-host ":" port (RFC 9112 section
#: 3.2.3).
AUTHORITY = re.compile(_HOSTNAME + rb":[0-9]+")
#: Content-Length = 1*DIGIT (RFC 9110 section 8.6).
DIGITS = re.compile(rb"[0-9]+")
_QUOTED = rb'"(?:[\t \x21\x23-\x5b\x5d-\x7e\x80-\xff]|\\[\t \x21-\x7e\x80-\xff])*+"'
#: chunk-size [ chunk-ext ] (RFC 9112 sections 7.1 and 7.1.1): chunk-size is
#: 1*HEXDIG, bounded here to 16 digits (64 bits); chunk-ext is *( BWS ";"
#: BWS ext-name [ BWS "=" BWS ext-val ] ), ext-val a token or a
#: quoted-string (RFC 9110 section 5.6.4).
CHUNK_LINE = re.compile(
    rb"([0-9A-Fa-f]{1,16})(?:[ \t]*+;[ \t]*+"
    + TCHAR
    + rb"++(?:[ \t]*+=[ \t]*+(?:"
    + TCHAR
    + rb"++|"
    + _QUOTED
    + rb"))?)*+"
)
#: A CR not followed by LF, or an LF not after a CR.  RFC 9112 section 2.2
#: lets a recipient take a bare LF as a line end, but two parsers that
#: disagree on line ends disagree on where a message ends (smuggling), so
#: netref refuses both.
BARE = re.compile(rb"\r(?=[^\n])|(?<!\r)\n")


def asBytes(s: bytes | str) -> bytes:
    """
    @return: C{s}, or C{s} encoded as ISO-8859-1 (RFC 9110 section 5.5:
        field values are octets, historically ISO-8859-1).
    @raise ValueError: for a string ISO-8859-1 cannot hold.
    """
    if isinstance(s, bytes):
        return s
    try:
        return s.encode("latin-1")
    except UnicodeEncodeError:
        raise ValueError(f"not representable in ISO-8859-1: {s!r}") from None


def tokens(value: bytes | None) -> list[bytes]:
    """
    @return: the lower-cased elements of a comma-separated list (RFC 9110
        section 5.6.1), empty elements dropped as the section asks.
    """
    if value is None:
        return []
    return [e for e in (p.strip(b" \t").lower() for p in value.split(b",")) if e]


def diagnoseFields(buf: bytes, start: int, end: int) -> str:
    """
    Why a field section that failed the checks is bad, for the error's
    reason (the slow path: only malformed input comes here).
    """
    for line in buf[start:end].split(b"\r\n"):
        if not line:
            continue
        if b"\r" in line or b"\n" in line:
            return "bare CR or LF in a field line (RFC 9112 section 2.2)"
        if line[:1] in (b" ", b"\t"):
            return "obsolete line folding (RFC 9112 section 5.2)"
        name, colon, value = line.partition(b":")
        if not colon:
            return "field line without a colon (RFC 9112 section 5)"
        if name != name.rstrip(b" \t"):
            return "whitespace between field name and colon (RFC 9112 section 5.1)"
        if TOKEN.fullmatch(name) is None:
            return "field name is not a token (RFC 9110 section 5.1)"
        if b"\x00" in value:
            return "NUL in a field value (RFC 9110 section 5.5)"
        if BAD_VALUE.search(value) is not None:
            return "control character in a field value (RFC 9110 section 5.5)"
    return "malformed field section (RFC 9112 section 5)"


# ---------------------------------------------------------------- header fields


class Headers:
    """
    Ordered header fields (RFC 9110 section 5).  Names compare
    case-insensitively and keep the case they were given in; values are
    bytes with the surrounding OWS trimmed.

    Names that are not tokens, and values holding NUL, CR, LF or another
    control character (RFC 9110 sections 5.1 and 5.5), are refused with
    L{ValueError} as they are added, so no serializer can emit them: this
    is what stops header injection (a value carrying C{"\\r\\nSet-Cookie:
    ..."}) in every message netref sends.
    """

    __slots__ = ("_pairs", "_keys")

    _pairs: list[tuple[bytes, bytes]]
    #: the lower-cased names, computed when first needed (parsed headers
    #: often are never searched)
    _keys: list[bytes] | None

    def __init__(self, fields: Iterable[tuple[bytes | str, bytes | str]] = ()) -> None:
        self._pairs = []
        self._keys = []
        for name, value in fields:
            self.add(name, value)

    @classmethod
    def fromParsed(cls, pairs: list[tuple[bytes, bytes]]) -> Headers:
        """
        Headers from fields a parser has already validated (no checks).
        """
        self = cls.__new__(cls)
        self._pairs = pairs
        self._keys = None
        return self

    def keys(self) -> list[bytes]:
        """
        @return: the lower-cased field names, in order.
        """
        keys = self._keys
        if keys is None:
            keys = self._keys = [n.lower() for n, _ in self._pairs]
        return keys

    @staticmethod
    def _checked(name: bytes | str, value: bytes | str) -> tuple[bytes, bytes]:
        n = asBytes(name)
        v = asBytes(value).strip(b" \t")
        if TOKEN.fullmatch(n) is None:
            raise ValueError(f"field name is not a token (RFC 9110 section 5.1): {n!r}")
        if BAD_VALUE.search(v) is not None:
            raise ValueError(
                f"field value holds NUL, CR, LF or a control (RFC 9110 section 5.5): {v!r}"
            )
        return n, v

    def get(self, name: bytes | str, default: bytes | None = None) -> bytes | None:
        """
        @return: the values of every field called C{name} joined by
            C{b", "} (RFC 9110 section 5.3), or C{default} if there is none.
        """
        key = asBytes(name).lower()
        keys = self.keys()
        if key not in keys:
            return default
        found = [p[1] for k, p in zip(keys, self._pairs, strict=True) if k == key]
        return found[0] if len(found) == 1 else b", ".join(found)

    def getAll(self, name: bytes | str) -> list[bytes]:
        """
        @return: the value of each field called C{name}, in order (what
            C{Set-Cookie} needs: its values cannot be combined, RFC 9110
            section 5.3).
        """
        key = asBytes(name).lower()
        return [p[1] for k, p in zip(self.keys(), self._pairs, strict=True) if k == key]

    def add(self, name: bytes | str, value: bytes | str) -> None:
        """
        Append a field.

        @raise ValueError: if the name is not a token or the value holds a
            control character.
        """
        pair = self._checked(name, value)
        keys = self.keys()
        self._pairs.append(pair)
        keys.append(pair[0].lower())

    def set(self, name: bytes | str, value: bytes | str) -> None:
        """
        Replace every field called C{name} by one field, at the end.

        @raise ValueError: as L{add}.
        """
        pair = self._checked(name, value)
        self.remove(pair[0])
        self.add(*pair)

    def remove(self, name: bytes | str) -> None:
        """
        Remove every field called C{name} (nothing happens if there is none).
        """
        key = asBytes(name).lower()
        keys = self.keys()
        if key in keys:
            kept = [(k, p) for k, p in zip(keys, self._pairs, strict=True) if k != key]
            self._keys = [k for k, _ in kept]
            self._pairs = [p for _, p in kept]

    def copy(self) -> Headers:
        """
        @return: an independent copy.
        """
        other = Headers.__new__(Headers)
        other._pairs = list(self._pairs)
        other._keys = None if self._keys is None else list(self._keys)
        return other

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, (bytes, str)):
            return False
        return asBytes(name).lower() in self.keys()

    def __iter__(self) -> Iterator[tuple[bytes, bytes]]:
        return iter(self._pairs)

    def __len__(self) -> int:
        return len(self._pairs)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Headers):
            return NotImplemented
        return self.keys() == other.keys() and [v for _, v in self._pairs] == [
            v for _, v in other._pairs
        ]

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Headers({self._pairs!r})"


def emptyHeaders() -> Headers:
    """
    @return: a new empty L{Headers}, quickly (the parser makes one for every
        message without trailers).
    """
    h = Headers.__new__(Headers)
    h._pairs = []
    h._keys = []
    return h


#: Standard reason phrases (RFC 9110 section 15).
REASONS: dict[int, str] = {
    100: "Continue",
    101: "Switching Protocols",
    200: "OK",
    201: "Created",
    202: "Accepted",
    203: "Non-Authoritative Information",
    204: "No Content",
    205: "Reset Content",
    206: "Partial Content",
    300: "Multiple Choices",
    301: "Moved Permanently",
    302: "Found",
    303: "See Other",
    304: "Not Modified",
    305: "Use Proxy",
    307: "Temporary Redirect",
    308: "Permanent Redirect",
    400: "Bad Request",
    401: "Unauthorized",
    402: "Payment Required",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    407: "Proxy Authentication Required",
    408: "Request Timeout",
    409: "Conflict",
    410: "Gone",
    411: "Length Required",
    412: "Precondition Failed",
    413: "Content Too Large",
    414: "URI Too Long",
    415: "Unsupported Media Type",
    416: "Range Not Satisfiable",
    417: "Expectation Failed",
    421: "Misdirected Request",
    422: "Unprocessable Content",
    426: "Upgrade Required",
    428: "Precondition Required",
    429: "Too Many Requests",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
    501: "Not Implemented",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
    505: "HTTP Version Not Supported",
}
