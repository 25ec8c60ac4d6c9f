"""
HTTP/1.1 messages (RFC 9112) with RFC 9110 semantics, sans-IO: bytes in,
events out; events in, bytes out.

The textbook's HTTP message is a start line (the I{request line} or the
I{status line}), I{header lines}, a blank line and an optional I{entity
body}.  This module parses and frames exactly that, for both ends of a
connection:

  - L{ServerConnection} turns what a client sends into L{Request}, L{Data}
    and L{EndOfMessage} events, and frames responses (C{Content-Length},
    chunked or close-delimited bodies, C{Connection}), keeping the
    persistence and pipelining rules of RFC 9112 section 9.
  - L{ClientConnection} frames requests and turns what a server sends into
    L{Response}, L{Data} and L{EndOfMessage} events, knowing which request
    each response answers (an answer to HEAD has no body; 1xx are interim).

Parsing is strict wherever leniency would let two parsers disagree about
where a message ends (I{request smuggling}; C{docs/http-messages.rst} lists
the shapes): bare CR or LF line ends, obs-fold, whitespace before a field's
colon, a Content-Length that is not exactly 1*DIGIT or comes twice,
Transfer-Encoding with Content-Length or in HTTP/1.0, codings other than a
single C{chunked}, malformed chunk lines.  Each raises L{HTTPError}, after
which nothing more is parsed.  Every size is bounded by L{Limits}.

No sockets and no Twisted here: L{netref.http.server} and
L{netref.http.client} carry these bytes.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from netref.http.headers import (
    ABSOLUTE,
    AUTHORITY,
    BARE,
    CHUNK_LINE,
    DIGITS,
    FIELD_LINE,
    HOST,
    REASON,
    REASONS,
    REQUEST_LINE,
    STATUS_LINE,
    TARGET,
    TOKEN,
    VERSION,
    Headers,
    HTTPError,
    diagnoseFields,
    emptyHeaders,
    tokens,
)

__all__ = [
    "HTTPError",
    "Headers",
    "Limits",
    "Request",
    "Response",
    "Data",
    "EndOfMessage",
    "ConnectionClosed",
    "Event",
    "ServerConnection",
    "ClientConnection",
    "serializeRequestHead",
    "serializeResponseHead",
    "expectsContinue",
    "unsupportedExpectation",
    "REASONS",
]


@dataclass(frozen=True)
class Limits:
    """
    Every size limit of the message layer: DESIGN.md wants each explicit,
    documented and tested.  Immutable, so one instance can serve many
    connections.
    """

    #: A longer request line -> 414 (a longer status line: 400).
    maxRequestLine: int = 8192
    #: A larger header (or trailer) section -> 431.
    maxHeaderBytes: int = 65536
    #: More fields in a header (or trailer) section -> 431.
    maxHeaders: int = 100
    #: A larger request body, announced or accumulated chunks -> 413
    #: (server side only: a client reads responses of any size).
    maxBodyBytes: int = 10 * 2**20
    #: A longer chunk-size line, extensions included -> 400.
    maxChunkLine: int = 4096


_DEFAULT_LIMITS = Limits()


# ---------------------------------------------------------------- events


@dataclass(slots=True)
class Request:
    """
    A request head: the server receives it, the client sends it.

    @ivar method: C{b"GET"}: a token, case-sensitive (RFC 9110 section 9.1).
    @ivar target: the request-target as sent (RFC 9112 section 3.2).
    @ivar version: C{b"1.1"} or C{b"1.0"}; a received HTTP/1.x with x > 1
        is taken as C{b"1.1"} (RFC 9110 section 2.5).
    """

    method: bytes
    target: bytes
    headers: Headers
    version: bytes = b"1.1"


@dataclass(slots=True)
class Response:
    """
    A response head, final or interim (1xx): the client receives it, the
    server sends it.

    @ivar reason: the reason phrase; empty means the standard one from
        L{REASONS} when serialized (a client ignores it: RFC 9112 section 4).
    """

    status: int
    headers: Headers
    reason: bytes = b""
    version: bytes = b"1.1"


@dataclass(slots=True)
class Data:
    """
    A piece of a message body, transfer coding removed.
    """

    data: bytes


@dataclass(slots=True)
class EndOfMessage:
    """
    The end of a message, with its trailer section (RFC 9112 section 7.1.2;
    empty if none).  Trailer fields are never merged into the header
    section (RFC 9110 section 6.5.2).
    """

    trailers: Headers = field(default_factory=Headers)


@dataclass(slots=True)
class ConnectionClosed:
    """
    The peer closed the connection cleanly between messages.
    """


Event = Request | Response | Data | EndOfMessage | ConnectionClosed


# ---------------------------------------------------------------- expectations


def expectsContinue(request: Request) -> bool:
    """
    @return: whether C{request} is HTTP/1.1 and carries C{Expect:
        100-continue}, so its client waits for 100 (Continue) before sending
        the body (RFC 9110 section 10.1.1; an HTTP/1.0 client cannot mean
        it, and must not be sent a 1xx, section 15.2).
    """
    if request.version != b"1.1":
        return False
    return tokens(request.headers.get(b"expect")) == [b"100-continue"]


def unsupportedExpectation(request: Request) -> bool:
    """
    @return: whether C{request} carries an C{Expect} other than
        C{100-continue}, which a server answers with 417 (Expectation
        Failed) without running the request (RFC 9110 section 10.1.1).
    """
    value = request.headers.get(b"expect")
    if value is None:
        return False
    return tokens(value) != [b"100-continue"]


# ---------------------------------------------------------------- serializing

_REASON_BYTES = {code: text.encode("ascii") for code, text in REASONS.items()}
_STATUS_LINES: dict[tuple[bytes, int], bytes] = {}
_FRAMING = frozenset([b"content-length", b"transfer-encoding"])


def _statusLine(version: bytes, status: int, reason: bytes) -> bytes:
    """
    A status line (RFC 9112 section 4); the ones with standard reasons are
    cached.

    @raise ValueError: for a status outside 100-999, a version that is not
        DIGIT.DIGIT, or a reason holding CR, LF or a control (response
        splitting).
    """
    if not reason:
        line = _STATUS_LINES.get((version, status))
        if line is not None:
            return line
    if not 100 <= status <= 999:
        raise ValueError(f"status code is not three digits (RFC 9110 section 15): {status}")
    if VERSION.fullmatch(version) is None:
        raise ValueError(f"HTTP-version is not DIGIT.DIGIT (RFC 9112 section 2.3): {version!r}")
    if not reason:
        line = b"HTTP/%s %d %s\r\n" % (version, status, _REASON_BYTES.get(status, b""))
        _STATUS_LINES[(version, status)] = line
        return line
    if REASON.fullmatch(reason) is None:
        raise ValueError(
            f"reason phrase holds CR, LF or a control (RFC 9112 section 4): {reason!r}"
        )
    return b"HTTP/%s %d %s\r\n" % (version, status, reason)


def _requestLine(request: Request) -> bytes:
    """
    A request line (RFC 9112 section 3).

    @raise ValueError: for a method that is not a token, a target with
        whitespace or controls (request splitting), or a bad version.
    """
    if TOKEN.fullmatch(request.method) is None:
        raise ValueError(f"method is not a token (RFC 9110 section 9.1): {request.method!r}")
    if TARGET.fullmatch(request.target) is None:
        raise ValueError(
            f"request-target holds whitespace or controls (RFC 9112 section 3.2): "
            f"{request.target!r}"
        )
    if VERSION.fullmatch(request.version) is None:
        raise ValueError(
            f"HTTP-version is not DIGIT.DIGIT (RFC 9112 section 2.3): {request.version!r}"
        )
    return b"%s %s HTTP/%s\r\n" % (request.method, request.target, request.version)


def _fieldLines(headers: Headers, skip: frozenset[bytes] | None = None) -> list[bytes]:
    """
    Field lines (RFC 9112 section 5), those named in C{skip} left out.
    """
    if skip is None:
        return [b"%s: %s\r\n" % p for p in headers._pairs]
    return [
        b"%s: %s\r\n" % p
        for k, p in zip(headers.keys(), headers._pairs, strict=True)
        if k not in skip
    ]


def serializeRequestHead(request: Request) -> bytes:
    """
    The request line, the header fields and the empty line, exactly as
    given: no framing decisions (L{ClientConnection} makes those).

    @raise ValueError: for a start line that cannot be sent (L{Headers}
        already refuses bad fields).
    """
    return b"".join([_requestLine(request), *_fieldLines(request.headers), b"\r\n"])


def serializeResponseHead(response: Response) -> bytes:
    """
    The status line, the header fields and the empty line, exactly as given.

    @raise ValueError: for a status line that cannot be sent.
    """
    line = _statusLine(response.version, response.status, response.reason)
    return b"".join([line, *_fieldLines(response.headers), b"\r\n"])


def _chunk(data: bytes) -> bytes:
    """
    One chunk (RFC 9112 section 7.1); nothing for empty data, which would
    read as the last chunk.
    """
    if not data:
        return b""
    return b"%x\r\n%s\r\n" % (len(data), data)


def _lastChunk(trailers: Headers | None) -> bytes:
    """
    The last chunk, the trailer section and the final CRLF (RFC 9112
    section 7.1).
    """
    if not trailers:
        return b"0\r\n\r\n"
    return b"".join([b"0\r\n", *_fieldLines(trailers), b"\r\n"])


# ---------------------------------------------------------------- parsing

#: The fields that decide framing and persistence (and Host), by their
#: lengths, which differ, and their lower-cased names.
_SPECIAL_LENGTHS = frozenset([4, 10, 14, 17])
_SPECIAL = frozenset([b"host", b"connection", b"content-length", b"transfer-encoding"])

# Parser states.
_HEAD = 0  # awaiting a start line
_BODY = 1  # a Content-Length body, _remaining bytes to go
_CHUNK_SIZE = 2  # awaiting a chunk-size line
_CHUNK_DATA = 3  # chunk data, _remaining bytes to go
_CHUNK_END = 4  # the CRLF after chunk data
_TRAILERS = 5  # the trailer section after the last chunk
_TO_EOF = 6  # a close-delimited response body
_DONE = 7  # the connection will close: nothing more is parsed
_ERROR = 8  # an HTTPError was raised: nothing more is parsed
_CLOSED = 9  # the peer closed


class _Exchange:
    """
    What a connection remembers of one request until its response ends.
    """

    __slots__ = ("head", "connect", "http10", "close", "complete")

    def __init__(self, head: bool, connect: bool, http10: bool, close: bool) -> None:
        #: a HEAD request: the response has no body (RFC 9110 section 9.3.2)
        self.head = head
        #: a CONNECT request: a 2xx answer opens a tunnel (section 9.3.6)
        self.connect = connect
        #: an HTTP/1.0 request: never chunked, persistent only on request
        self.http10 = http10
        #: the connection closes after this exchange (RFC 9112 section 9.3)
        self.close = close
        #: the whole request has been received (server side)
        self.complete = False


class _Connection:
    """
    What both ends share: the buffer, the body and chunked-body states, the
    field-section parser, framing rules and limits.
    """

    #: the largest body accepted, or None for no limit
    _bodyLimit: int | None = None

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits if limits is not None else _DEFAULT_LIMITS
        self._buf = b""
        self._state = _HEAD
        self._remaining = 0
        self._bodyBytes = 0
        self._scanned = 0
        self._exchanges: deque[_Exchange] = deque()
        self._keepAlive = True

    def _receive(self, data: bytes) -> list[Event]:
        """
        The parsing loop: run the state machine over the buffer.
        """
        state = self._state
        if state >= _DONE:
            if not data and state == _DONE:
                self._state = _CLOSED
                self._keepAlive = False
                return [ConnectionClosed()]
            return []
        events: list[Event] = []
        if not data:
            try:
                self._endOfFile(events)
            except HTTPError as e:
                self._fail(e, events)
            self._state = _CLOSED
            self._keepAlive = False
            self._buf = b""
            return events
        buf = self._buf + data if self._buf else data
        pos = 0
        end = len(buf)
        try:
            while pos < end:
                state = self._state
                if state == _HEAD:
                    nxt = self._head(buf, pos, events)
                    if nxt < 0:
                        break
                    pos = nxt
                elif state == _BODY or state == _CHUNK_DATA:
                    n = min(self._remaining, end - pos)
                    events.append(Data(buf if n == end else buf[pos : pos + n]))
                    pos += n
                    self._remaining -= n
                    if not self._remaining:
                        if state == _BODY:
                            self._endMessage(events, None)
                        else:
                            self._state = _CHUNK_END
                elif state == _CHUNK_SIZE:
                    nxt = self._chunkSize(buf, pos)
                    if nxt < 0:
                        break
                    pos = nxt
                elif state == _CHUNK_END:
                    # RFC 9112 section 7.1: chunk-data CRLF, exactly.
                    if buf[pos] != 13 or (end - pos > 1 and buf[pos + 1] != 10):
                        raise HTTPError(
                            400, "chunk data not followed by CRLF (RFC 9112 section 7.1)"
                        )
                    if end - pos < 2:
                        break
                    pos += 2
                    self._state = _CHUNK_SIZE
                elif state == _TRAILERS:
                    nxt = self._trailers(buf, pos, events)
                    if nxt < 0:
                        break
                    pos = nxt
                elif state == _TO_EOF:
                    events.append(Data(buf if pos == 0 else buf[pos:]))
                    pos = end
                else:  # _DONE: what follows is not parsed
                    break
        except HTTPError as e:
            self._fail(e, events)
        self._buf = buf[pos:] if pos < end and self._state < _DONE else b""
        return events

    def _fail(self, error: HTTPError, events: list[Event]) -> None:
        self._state = _ERROR
        self._keepAlive = False
        self._buf = b""
        error.events = events
        raise error

    # -- heads

    def _incompleteHead(self, buf: bytes, pos: int, lineLimit: int, lineStatus: int) -> int:
        """
        A head that has not ended yet: refuse it early if it is already
        over a limit, has a bare CR or LF, or a bad start line; remember how
        far it was searched.

        @return: -1 (more is needed).
        """
        limits = self.limits
        lineEnd = buf.find(b"\r\n", pos)
        if lineEnd < 0:
            if len(buf) - pos > lineLimit:
                raise HTTPError(lineStatus, "start line too long")
        else:
            if lineEnd - pos > lineLimit:
                raise HTTPError(lineStatus, "start line too long")
            if len(buf) - lineEnd - 2 > limits.maxHeaderBytes:
                raise HTTPError(431, "header section too large")
            if buf.count(b"\r\n", lineEnd + 2) > limits.maxHeaders:
                raise HTTPError(431, "too many header fields")
            self._startLine(buf, pos, lineEnd)
        if BARE.search(buf, pos + max(self._scanned - 1, 0)) is not None:
            raise HTTPError(400, "bare CR or LF where CRLF is required (RFC 9112 section 2.2)")
        self._scanned = max(len(buf) - pos - 3, 0)
        return -1

    def _startLine(self, buf: bytes, pos: int, lineEnd: int) -> tuple[bytes, bytes, bytes]:
        raise NotImplementedError

    def _fields(self, buf: bytes, start: int, end: int) -> list[tuple[bytes, bytes]]:
        """
        Parse a field section (RFC 9112 section 5, RFC 9110 section 5.5):
        the bytes from C{start}, just after a CRLF, to C{end}, just after
        the last field line's CRLF.

        @return: the (name, value) pairs, values without their OWS.
        """
        limits = self.limits
        if end - start > limits.maxHeaderBytes:
            raise HTTPError(431, "header section too large")
        lines = buf.count(b"\r\n", start, end)
        if lines > limits.maxHeaders:
            raise HTTPError(431, "too many header fields")
        pairs: list[tuple[bytes, bytes]] = FIELD_LINE.findall(buf, start, end)
        # One match per CRLF: every line is a valid field line.
        if len(pairs) != lines:
            raise HTTPError(400, diagnoseFields(buf, start, end))
        return pairs

    def _head(self, buf: bytes, pos: int, events: list[Event]) -> int:
        raise NotImplementedError

    # -- bodies

    def _startBody(self, chunked: bool, length: int, events: list[Event]) -> None:
        self._bodyBytes = 0
        if chunked:
            self._state = _CHUNK_SIZE
        elif length:
            self._state = _BODY
            self._remaining = length
        else:
            self._endMessage(events, None)

    def _chunkSize(self, buf: bytes, pos: int) -> int:
        """
        Parse a chunk-size line (RFC 9112 section 7.1).
        """
        limit = self.limits.maxChunkLine
        i = buf.find(b"\r\n", pos, pos + limit + 2)
        if i < 0:
            if len(buf) - pos > limit:
                raise HTTPError(400, "chunk-size line too long")
            if BARE.search(buf, pos) is not None:
                raise HTTPError(400, "bare CR or LF in a chunk-size line (RFC 9112 section 2.2)")
            return -1
        m = CHUNK_LINE.fullmatch(buf, pos, i)
        if m is None:
            raise HTTPError(400, "malformed chunk-size line (RFC 9112 section 7.1)")
        size = int(m[1], 16)
        if self._bodyLimit is not None:
            self._bodyBytes += size
            if self._bodyBytes > self._bodyLimit:
                raise HTTPError(413, "request body too large")
        if size:
            self._state = _CHUNK_DATA
            self._remaining = size
        else:
            self._state = _TRAILERS
        return i + 2

    def _trailers(self, buf: bytes, pos: int, events: list[Event]) -> int:
        """
        Parse the trailer section after the last chunk (RFC 9112 section
        7.1.2) with the rules and limits of a header section.
        """
        if buf.startswith(b"\r\n", pos):
            self._endMessage(events, None)
            return pos + 2
        end = buf.find(b"\r\n\r\n", pos)
        if end < 0:
            if len(buf) - pos > self.limits.maxHeaderBytes:
                raise HTTPError(431, "trailer section too large")
            if buf.count(b"\r\n", pos) > self.limits.maxHeaders:
                raise HTTPError(431, "too many trailer fields")
            if BARE.search(buf, pos) is not None:
                raise HTTPError(400, "bare CR or LF in the trailer section (RFC 9112 section 2.2)")
            return -1
        if pos < 2:
            # The chunk line's CRLF went with an earlier read: the field
            # parser needs to see a line start.
            pairs = self._fields(b"\r\n" + buf[pos : end + 2], 2, end + 4 - pos)
        else:
            pairs = self._fields(buf, pos, end + 2)
        self._endMessage(events, Headers.fromParsed(pairs))
        return end + 4

    def _endMessage(self, events: list[Event], trailers: Headers | None) -> None:
        raise NotImplementedError

    def _endOfFile(self, events: list[Event]) -> None:
        raise NotImplementedError

    # -- framing

    @staticmethod
    def _framing(
        special: list[tuple[bytes, bytes]], http10: bool, request: bool
    ) -> tuple[bool, int | None, bool]:
        """
        How the body is delimited (RFC 9112 section 6.3), and whether the
        message says C{Connection: close} (or, in HTTP/1.0, lacks
        C{keep-alive}: section 9.3).

        The rules, and where netref chooses:

          - Transfer-Encoding with Content-Length: 400 (sections 6.1 and
            6.3: "ought to be handled as an error"), never "chunked wins";
          - Transfer-Encoding in HTTP/1.0: 400 (section 6.1);
          - Transfer-Encoding other than exactly one C{chunked} (C{gzip},
            C{identity}, C{chunked, chunked}, unknown codings): 501 for a
            request, as section 6.1 says a server SHOULD (netref's issue
            asked for 400; the RFC wins); 400 for a response, since netref's
            client never offers other codings;
          - Content-Length must be 1*DIGIT (RFC 9110 section 8.6), so C{+1},
            C{0x10}, C{1 2}, C{1, 1} and an empty value are 400;
          - more than one Content-Length field, even with identical values,
            is 400: stricter than section 6.3, which lets a recipient
            accept identical repeats;
          - a Content-Length of more than 18 digits is 413 in a request
            (over any body limit) and 400 in a response.

        @param special: the fields named in L{_SPECIAL} (Host is ignored).
        @return: C{(chunked, length, close)}; C{length} is L{None} without
            a Content-Length.
        @raise HTTPError: as listed.
        """
        te: list[bytes] = []
        cl: list[bytes] = []
        conn: list[bytes] = []
        for name, value in special:
            # The names differ in length: Host, Connection, Content-Length,
            # Transfer-Encoding.
            n = len(name)
            if n == 14:
                cl.append(value)
            elif n == 17:
                te.append(value)
            elif n == 10:
                conn.append(value)
        options = tokens(b",".join(conn)) if conn else []
        if http10:
            close = b"keep-alive" not in options or b"close" in options
        else:
            close = b"close" in options
        if te:
            # RFC 9112 section 6.1: Transfer-Encoding is HTTP/1.1; in a 1.0
            # message the framing is faulty.
            if http10:
                raise HTTPError(
                    400, "Transfer-Encoding in an HTTP/1.0 message (RFC 9112 section 6.1)"
                )
            # Sections 6.1 and 6.3: both at once is a smuggling attempt.
            if cl:
                raise HTTPError(
                    400, "both Transfer-Encoding and Content-Length (RFC 9112 section 6.3)"
                )
            codings = tokens(b",".join(te))
            if not codings:
                raise HTTPError(400, "empty Transfer-Encoding (RFC 9112 section 6.1)")
            if codings != [b"chunked"]:
                # Section 6.1: a server SHOULD answer a coding it does not
                # know with 501; chunked not last, or twice, is refused too.
                raise HTTPError(
                    501 if request else 400,
                    "transfer coding other than one chunked (RFC 9112 section 6.1)",
                )
            return True, None, close
        if cl:
            if len(cl) > 1:
                # Stricter than RFC 9112 section 6.3, which lets a recipient
                # accept repeated identical values: no honest sender needs
                # to repeat it, and a front end may have kept the other.
                raise HTTPError(400, "more than one Content-Length (RFC 9112 section 6.3)")
            value = cl[0]
            if DIGITS.fullmatch(value) is None:
                raise HTTPError(400, "Content-Length is not 1*DIGIT (RFC 9110 section 8.6)")
            if len(value) > 18:
                if request:
                    raise HTTPError(413, "request body too large")
                raise HTTPError(400, "implausible Content-Length")
            return False, int(value), close
        return False, None, close


# ---------------------------------------------------------------- the server's end


class ServerConnection(_Connection):
    """
    The server's side of one connection: parses requests, frames responses,
    and keeps the persistence and pipelining rules (RFC 9112 section 9).

    Requests pipelined in one buffer are all parsed, in order (section
    9.3.2); responses must be sent in request order, each answering the
    oldest request not yet answered.  After a request that ends the
    connection (C{Connection: close}, or HTTP/1.0 without keep-alive), after
    an error and after a response that closes, nothing more is parsed.

    A final response sent before its request's body has been received in
    full closes the connection: the client may or may not still send that
    body (RFC 9110 section 10.1.1), so no later byte could be trusted.
    """

    # Streaming modes of a response body.
    _NO_BODY, _LENGTH, _CHUNKED, _TO_CLOSE = range(4)

    def __init__(self, limits: Limits | None = None) -> None:
        super().__init__(limits)
        self._bodyLimit = self.limits.maxBodyBytes
        self._sending: int | None = None
        self._sendRemaining = 0
        self._current: _Exchange | None = None

    # -- parsing

    def receiveData(self, data: bytes) -> list[Event]:
        """
        Parse what the client sent.  All the pipelined requests C{data}
        completes are parsed: C{[Request, Data..., EndOfMessage, Request,
        EndOfMessage, ...]}.  A L{Request} comes as soon as its head is
        complete, before its body (what C{Expect: 100-continue} needs).

        @param data: the next bytes; C{b""} means the client closed (EOF):
            L{ConnectionClosed} between requests, L{HTTPError} inside one.
        @raise HTTPError: for malformed, over-limit or smuggling-shaped
            input; the caller sends L{errorResponse} and closes.  Later calls
            return nothing.
        """
        return self._receive(data)

    def expectsContinue(self, request: Request) -> bool:
        """
        @return: L{expectsContinue}C{(request)}: whether to answer
            L{sendInformational} before reading its body.
        """
        return expectsContinue(request)

    def _startLine(self, buf: bytes, pos: int, lineEnd: int) -> tuple[bytes, bytes, bytes]:
        """
        Parse and check a request line (RFC 9112 section 3).

        @return: C{(method, target, version)}.
        """
        if lineEnd - pos > self.limits.maxRequestLine:
            raise HTTPError(414, "request line too long")
        m = REQUEST_LINE.fullmatch(buf, pos, lineEnd)
        if m is None:
            raise HTTPError(400, "malformed request line (RFC 9112 section 3)")
        method, target, major, minor = m.groups()
        if major != b"1":
            raise HTTPError(505, "only HTTP/1.x is spoken here (RFC 9110 section 2.5)")
        if target[0] != 47 or method == b"CONNECT":
            self._checkTarget(method, target)
        return method, target, (b"1.0" if minor == b"0" else b"1.1")

    @staticmethod
    def _checkTarget(method: bytes, target: bytes) -> None:
        """
        The four forms of request-target (RFC 9112 section 3.2): origin-form
        (C{/path?query}), absolute-form (C{http://host/path}),
        authority-form (C{host:port}, for CONNECT and only CONNECT) and
        asterisk-form (C{*}, for OPTIONS only).
        """
        if method == b"CONNECT":
            if AUTHORITY.fullmatch(target) is None:
                raise HTTPError(
                    400, "CONNECT needs the authority-form host:port (RFC 9112 section 3.2.3)"
                )
        elif target == b"*":
            if method != b"OPTIONS":
                raise HTTPError(400, "asterisk-form is for OPTIONS (RFC 9112 section 3.2.4)")
        # absolute-form is scheme "://" authority ...: an http or https
        # target URI always has an authority (RFC 9110 section 4.2).
        elif target[0] != 47 and ABSOLUTE.match(target) is None:
            raise HTTPError(
                400, "request-target is not in origin, absolute or asterisk form (RFC 9112 3.2)"
            )

    def _head(self, buf: bytes, pos: int, events: list[Event]) -> int:
        # The server's hot path: written out here rather than through the
        # shared helpers, as each call costs.
        end = len(buf)
        # RFC 9112 section 2.2: empty lines before a request line are ignored.
        while buf[pos] == 13 and buf.startswith(b"\r\n", pos):
            pos += 2
            if pos == end:
                return pos
        stop = buf.find(b"\r\n\r\n", pos + self._scanned)
        if stop < 0:
            return self._incompleteHead(buf, pos, self.limits.maxRequestLine, 414)
        self._scanned = 0
        lineEnd = buf.find(b"\r\n", pos)
        m = REQUEST_LINE.fullmatch(buf, pos, lineEnd)
        if m is None or lineEnd - pos > self.limits.maxRequestLine:
            self._startLine(buf, pos, lineEnd)  # raises the right error
        assert m is not None
        method, target, major, minor = m.groups()
        if major != b"1":
            raise HTTPError(505, "only HTTP/1.x is spoken here (RFC 9110 section 2.5)")
        if target[0] != 47 or method == b"CONNECT":
            self._checkTarget(method, target)
        http10 = minor == b"0"
        version = b"1.0" if http10 else b"1.1"
        headers = Headers.__new__(Headers)
        headers._keys = None
        hosts = 0
        framing: list[tuple[bytes, bytes]] = []
        if lineEnd == stop:
            headers._pairs = []
        else:
            headers._pairs = pairs = self._fields(buf, lineEnd + 2, stop + 2)
            for pair in pairs:
                name = pair[0]
                if len(name) in _SPECIAL_LENGTHS and name.lower() in _SPECIAL:
                    if len(name) == 4:
                        # RFC 9112 section 3.2, RFC 9110 section 7.2.
                        hosts += 1
                        if HOST.fullmatch(pair[1]) is None:
                            raise HTTPError(400, "malformed Host (RFC 9110 section 7.2)")
                    else:
                        framing.append(pair)
        # RFC 9112 section 3.2: exactly one Host in HTTP/1.1, never two.
        if hosts != 1 and (hosts or not http10):
            raise HTTPError(400, "an HTTP/1.1 request needs exactly one Host (RFC 9112 3.2)")
        if framing:
            chunked, length, close = self._framing(framing, http10, True)
            if length is not None and length > self.limits.maxBodyBytes:
                raise HTTPError(413, "request body too large")
        else:
            chunked, length, close = False, None, http10
        exchange = _Exchange(method == b"HEAD", method == b"CONNECT", http10, close)
        self._exchanges.append(exchange)
        events.append(Request(method, target, headers, version))
        if chunked or length:
            self._current = exchange
            self._startBody(chunked, length or 0, events)
        else:
            events.append(EndOfMessage(emptyHeaders()))
            exchange.complete = True
            if close:
                self._state = _DONE
        return stop + 4

    def _endMessage(self, events: list[Event], trailers: Headers | None) -> None:
        events.append(EndOfMessage(emptyHeaders() if trailers is None else trailers))
        exchange = self._current
        assert exchange is not None
        exchange.complete = True
        self._current = None
        self._state = _DONE if exchange.close else _HEAD

    def _endOfFile(self, events: list[Event]) -> None:
        if self._state == _HEAD and not self._buf.strip(b"\r\n"):
            events.append(ConnectionClosed())
            return
        raise HTTPError(400, "the client closed in the middle of a request")

    # -- sending

    def sendInformational(self, status: int = 100) -> bytes:
        """
        A 1xx interim response to the oldest pending request, such as
        C{HTTP/1.1 100 Continue} (RFC 9110 section 15.2).  Nothing for an
        HTTP/1.0 request, which must not be sent a 1xx.
        """
        if not 100 <= status <= 199:
            raise ValueError(f"not an informational status: {status}")
        if not self._exchanges or self._exchanges[0].http10:
            return b""
        return _statusLine(b"1.1", status, b"") + b"\r\n"

    def _begin(self, headers: Headers) -> tuple[_Exchange, bool, list[bytes]]:
        """
        Take the oldest pending request, for a response with C{headers}.

        @return: it, whether the connection closes after this response, and
            the response's own connection options.
        """
        if self._sending is not None:
            raise RuntimeError("the previous response is still being streamed")
        if not self._exchanges:
            raise RuntimeError("no request is waiting for a response")
        exchange = self._exchanges.popleft()
        options = tokens(headers.get(b"connection")) if b"connection" in headers.keys() else []
        close = (
            exchange.close or not exchange.complete or self._state >= _ERROR or b"close" in options
        )
        return exchange, close, options

    def _persistence(self, exchange: _Exchange, close: bool, options: list[bytes]) -> bytes:
        """
        The Connection field persistence needs (RFC 9112 section 9.6:
        C{close} when the server will close; C{keep-alive} to an HTTP/1.0
        client that asked for it, section 9.3), and the connection's state.

        @param options: the connection options the response already has.
        """
        if close:
            self._keepAlive = False
            if self._state < _DONE:
                self._state = _DONE
                self._buf = b""
            return b"" if b"close" in options else b"Connection: close\r\n"
        self._keepAlive = True
        if exchange.http10 and b"keep-alive" not in options:
            return b"Connection: keep-alive\r\n"
        return b""

    def sendResponse(self, response: Response, body: bytes = b"") -> bytes:
        """
        The whole response to the oldest unanswered request, as one bytes
        object.

        Framing (RFC 9112 section 6.3; RFC 9110 sections 8.6, 9.3.2, 15.3.5,
        15.4.5): C{Content-Length} comes from C{body}; 1xx and 204 have
        neither C{Content-Length} nor body; 304 has no body and keeps a
        C{Content-Length} only if the handler gave one; an answer to HEAD
        has the fields a GET would (C{Content-Length} from C{body}, or the
        handler's own when C{body} is empty) and no body.  A
        C{Transfer-Encoding} the handler set is dropped.  C{Connection:
        close} is added when the connection will not persist.

        A 1xx response is interim: it does not answer the request.
        """
        status = response.status
        headers = response.headers
        if status < 200:
            line = _statusLine(response.version, status, response.reason)
            return b"".join([line, *_fieldLines(headers, _FRAMING), b"\r\n"])
        lines = [_statusLine(response.version, status, response.reason)]
        exchange, close, options = self._begin(headers)
        keys = headers.keys()
        given = None
        if b"content-length" in keys or b"transfer-encoding" in keys:
            for k, pair in zip(keys, headers._pairs, strict=True):
                if k == b"content-length":
                    given = pair[1]
                elif k != b"transfer-encoding":
                    lines.append(b"%s: %s\r\n" % pair)
            if given is not None and DIGITS.fullmatch(given) is None:
                given = None
        else:
            lines += [b"%s: %s\r\n" % pair for pair in headers._pairs]
        if status == 204:
            body = b""
        elif status == 304 or exchange.head:
            if given is not None and (status == 304 or not body):
                lines.append(b"Content-Length: %s\r\n" % given)
            elif status != 304:
                lines.append(b"Content-Length: %d\r\n" % len(body))
            body = b""
        else:
            lines.append(b"Content-Length: %d\r\n" % len(body))
        lines.append(self._persistence(exchange, close, options))
        lines.append(b"\r\n")
        if body:
            lines.append(body)
        return b"".join(lines)

    def startResponse(self, response: Response, length: int | None = None) -> bytes:
        """
        The head of a streamed response; its body follows through
        L{sendData} and L{endResponse}.

        With C{length} the body is C{Content-Length} framed; without, it is
        chunked to an HTTP/1.1 client and close-delimited (with C{Connection:
        close}) to an HTTP/1.0 one, which cannot read chunked (RFC 9112
        sections 6.1 and 6.3).  1xx are interim, as in L{sendResponse}; 204,
        304 and answers to HEAD send no body (HEAD and 304 keep the
        C{Content-Length} that C{length} gives).
        """
        status = response.status
        if status < 200:
            return self.sendResponse(response)
        lines = [_statusLine(response.version, status, response.reason)]
        exchange, close, options = self._begin(response.headers)
        lines += _fieldLines(response.headers, _FRAMING)
        if status == 204 or status == 304 or exchange.head:
            self._sending = self._NO_BODY
            if length is not None and status != 204:
                lines.append(b"Content-Length: %d\r\n" % length)
        elif length is not None:
            self._sending = self._LENGTH
            self._sendRemaining = length
            lines.append(b"Content-Length: %d\r\n" % length)
        elif not exchange.http10:
            self._sending = self._CHUNKED
            lines.append(b"Transfer-Encoding: chunked\r\n")
        else:
            self._sending = self._TO_CLOSE
            close = True
        lines.append(self._persistence(exchange, close, options))
        lines.append(b"\r\n")
        return b"".join(lines)

    def sendData(self, data: bytes) -> bytes:
        """
        Frame a piece of the streamed body: a chunk when chunked, nothing
        when the response has no body.

        @raise ValueError: for more than the announced C{Content-Length}.
        """
        mode = self._sending
        if mode is None:
            raise RuntimeError("no response is being streamed")
        if mode == self._CHUNKED:
            return _chunk(data)
        if mode == self._LENGTH:
            if len(data) > self._sendRemaining:
                raise ValueError("more body than the Content-Length announced")
            self._sendRemaining -= len(data)
            return data
        if mode == self._TO_CLOSE:
            return data
        return b""

    def endResponse(self, trailers: Headers | None = None) -> bytes:
        """
        End the streamed body: the last chunk and C{trailers} when chunked
        (RFC 9112 section 7.1.2), else nothing.  A C{Content-Length} body
        that fell short can no longer be delimited, so the connection will
        not persist (L{keepAlive} turns false).
        """
        mode = self._sending
        if mode is None:
            raise RuntimeError("no response is being streamed")
        self._sending = None
        if mode == self._CHUNKED:
            return _lastChunk(trailers)
        if mode == self._LENGTH and self._sendRemaining:
            self._keepAlive = False
            self._state = max(self._state, _DONE)
        return b""

    def errorResponse(self, error: HTTPError) -> bytes:
        """
        A minimal answer to L{HTTPError}: C{HTTP/1.1 <status> <reason>}, a
        one-line C{text/plain; charset=utf-8} body and C{Connection: close}.
        The connection is finished after it.
        """
        body = (" ".join(error.reason.split()) + "\n").encode("utf-8")
        self._keepAlive = False
        self._state = max(self._state, _DONE)
        self._exchanges.clear()
        self._sending = None
        return b"".join(
            [
                _statusLine(b"1.1", error.status, b""),
                b"Content-Type: text/plain; charset=utf-8\r\n",
                b"Content-Length: %d\r\n" % len(body),
                b"Connection: close\r\n\r\n",
                body,
            ]
        )

    @property
    def keepAlive(self) -> bool:
        """
        Whether the connection may persist after the response just finished:
        HTTP/1.1 unless C{Connection: close} on either side, HTTP/1.0 only
        with C{keep-alive}; never after a close-delimited body, an error or
        the client's EOF (RFC 9112 section 9.3).
        """
        return self._keepAlive

    @property
    def pendingRequests(self) -> int:
        """
        Requests received (their heads at least) but not yet answered.
        """
        return len(self._exchanges)


# ---------------------------------------------------------------- the client's end


class ClientConnection(_Connection):
    """
    The client's side of one connection: frames requests and parses
    responses knowing which request each answers (answers to HEAD, 204 and
    304 have no body; 1xx are interim: RFC 9112 section 6.3), with the
    persistence rules (section 9.3).  Several requests may be sent before
    their responses arrive (pipelining, section 9.3.2).

    A 101 (Switching Protocols) response, or a 2xx answer to CONNECT, ends
    HTTP on the connection: its L{Response} is the last event.
    """

    def __init__(self, limits: Limits | None = None) -> None:
        super().__init__(limits)
        self._uploading = False
        self._responseClose = False
        self._toEOF = False

    # -- sending

    def _record(self, request: Request) -> None:
        if self._uploading:
            raise RuntimeError("the previous request's body is still being sent")
        if request.version == b"1.1" and len(request.headers.getAll(b"host")) != 1:
            raise ValueError("an HTTP/1.1 request needs exactly one Host (RFC 9112 section 3.2)")
        http10 = request.version == b"1.0"
        options = tokens(request.headers.get(b"connection"))
        close = b"close" in options or (http10 and b"keep-alive" not in options)
        self._exchanges.append(
            _Exchange(request.method == b"HEAD", request.method == b"CONNECT", http10, close)
        )

    def sendRequest(self, request: Request, body: bytes | None = None) -> bytes:
        """
        The whole request.  With C{body} L{None} no body and no
        C{Content-Length} is sent; with bytes, even empty, C{Content-Length}
        frames them (RFC 9112 section 6.2).  A C{Content-Length} or
        C{Transfer-Encoding} in the headers is replaced.

        @raise ValueError: for an HTTP/1.1 request without exactly one
            C{Host} (RFC 9112 section 3.2), or a start line that cannot be
            sent.
        """
        line = _requestLine(request)
        self._record(request)
        lines = [line, *_fieldLines(request.headers, _FRAMING)]
        if body is not None:
            lines.append(b"Content-Length: %d\r\n" % len(body))
        lines.append(b"\r\n")
        if body:
            lines.append(body)
        return b"".join(lines)

    def startRequest(self, request: Request) -> bytes:
        """
        The head of a request whose body follows chunked (RFC 9112 section
        7.1), through L{sendData} and L{endRequest}.

        @raise ValueError: for an HTTP/1.0 request, which cannot be chunked
            (RFC 9112 section 6.1).
        """
        if request.version != b"1.1":
            raise ValueError("only an HTTP/1.1 request can have a chunked body")
        line = _requestLine(request)
        self._record(request)
        self._uploading = True
        fields = _fieldLines(request.headers, _FRAMING)
        return b"".join([line, *fields, b"Transfer-Encoding: chunked\r\n\r\n"])

    def sendData(self, data: bytes) -> bytes:
        """
        One chunk of the request body (nothing for empty C{data}).
        """
        if not self._uploading:
            raise RuntimeError("no chunked request is being sent")
        return _chunk(data)

    def endRequest(self, trailers: Headers | None = None) -> bytes:
        """
        The last chunk and the trailer section.
        """
        if not self._uploading:
            raise RuntimeError("no chunked request is being sent")
        self._uploading = False
        return _lastChunk(trailers)

    # -- parsing

    def receiveData(self, data: bytes) -> list[Event]:
        """
        Parse what the server sent.

        @param data: the next bytes; C{b""} means the server closed (EOF),
            which ends a close-delimited body (L{EndOfMessage}), gives
            L{ConnectionClosed} between responses (requests still pending
            were not answered), and raises L{HTTPError} inside a response.
        @return: events; a 1xx L{Response} has no L{Data} or
            L{EndOfMessage} after it.
        @raise HTTPError: for a malformed or smuggling-shaped response
            (C{status} is only informative); later calls return nothing.
        """
        return self._receive(data)

    def _startLine(self, buf: bytes, pos: int, lineEnd: int) -> tuple[bytes, bytes, bytes]:
        """
        Parse a status line (RFC 9112 section 4).

        @return: C{(version, status, reason)}, the status as digits.
        """
        if lineEnd - pos > self.limits.maxRequestLine:
            raise HTTPError(400, "status line too long")
        m = STATUS_LINE.fullmatch(buf, pos, lineEnd)
        if m is None:
            raise HTTPError(400, "malformed status line (RFC 9112 section 4)")
        major, minor, status, reason = m.groups()
        if major != b"1":
            raise HTTPError(505, "only HTTP/1.x is spoken here (RFC 9110 section 2.5)")
        if status[0] == 48:  # "0"
            raise HTTPError(400, "status code below 100 (RFC 9110 section 15)")
        return (b"1.0" if minor == b"0" else b"1.1"), status, reason or b""

    def _head(self, buf: bytes, pos: int, events: list[Event]) -> int:
        if not self._exchanges:
            raise HTTPError(400, "a response when no request is waiting for one")
        end = buf.find(b"\r\n\r\n", pos + self._scanned)
        if end < 0:
            return self._incompleteHead(buf, pos, self.limits.maxRequestLine, 400)
        self._scanned = 0
        lineEnd = buf.find(b"\r\n", pos)
        version, digits, reason = self._startLine(buf, pos, lineEnd)
        status = int(digits)
        if lineEnd == end:
            pairs = []
        else:
            pairs = self._fields(buf, lineEnd + 2, end + 2)
        headers = Headers.fromParsed(pairs)
        events.append(Response(status, headers, reason, version))
        exchange = self._exchanges[0]
        if status < 200:
            if status == 101:
                # RFC 9110 section 15.2.2: the connection now speaks another
                # protocol.
                self._exchanges.popleft()
                self._state = _DONE
                self._keepAlive = False
            return end + 4
        if exchange.connect and status < 300:
            # RFC 9110 section 9.3.6: a tunnel from here on.
            self._exchanges.popleft()
            self._state = _DONE
            self._keepAlive = False
            return end + 4
        special = [p for p in pairs if p[0].lower() in _SPECIAL]
        chunked, length, self._responseClose = self._framing(special, version == b"1.0", False)
        self._toEOF = False
        # RFC 9112 section 6.3, in order: answers to HEAD, 1xx, 204 and 304
        # have no body; then chunked; then Content-Length; otherwise the
        # body runs to the end of the connection.
        if exchange.head or status == 204 or status == 304:
            self._startBody(False, 0, events)
        elif chunked or length is not None:
            self._startBody(chunked, length or 0, events)
        else:
            self._toEOF = True
            self._state = _TO_EOF
        return end + 4

    def _endMessage(self, events: list[Event], trailers: Headers | None) -> None:
        events.append(EndOfMessage(emptyHeaders() if trailers is None else trailers))
        exchange = self._exchanges.popleft()
        keep = not (exchange.close or self._responseClose or self._toEOF)
        self._keepAlive = keep
        self._state = _HEAD if keep else _DONE

    def _endOfFile(self, events: list[Event]) -> None:
        if self._state == _TO_EOF:
            self._endMessage(events, None)
        elif self._state == _HEAD and not self._buf:
            events.append(ConnectionClosed())
        else:
            raise HTTPError(400, "the server closed before the response ended")

    @property
    def keepAlive(self) -> bool:
        """
        Whether the connection may carry more requests after the response
        just finished (RFC 9112 section 9.3).
        """
        return self._keepAlive

    @property
    def pendingResponses(self) -> int:
        """
        Requests sent whose final response has not yet ended.
        """
        return len(self._exchanges)
