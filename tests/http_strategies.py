"""
Hypothesis strategies for L{netref.http}: the pieces of HTTP/1.1 messages
(RFC 9112), valid by construction, and whole messages written out byte by
byte with the freedom the grammar allows (OWS around values, the case of
names, chunk extensions, trailers), each with the events a parser must
produce from them.  The HTTP test modules share them (wire, h11
differential, server, client).

The framing fields (C{Host}, C{Content-Length}, C{Transfer-Encoding},
C{Connection}, C{Expect}, C{Upgrade}, C{TE}, C{Trailer}) never come out of
L{fieldNames}: the message strategies put them in themselves, so that the
messages mean what they say.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import strategies as st

from netref.http.wire import Headers, Request, Response

__all__ = [
    "TCHARS",
    "tokens",
    "methods",
    "fieldNames",
    "fieldValues",
    "ows",
    "fieldLists",
    "headerses",
    "originTargets",
    "targets",
    "hosts",
    "bodies",
    "statuses",
    "reasons",
    "requests",
    "responses",
    "chunkSplits",
    "chunkExtensions",
    "RawMessage",
    "rawRequests",
    "rawResponses",
    "splits",
]

#: tchar (RFC 9110 section 5.6.2).
TCHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

#: Names a message strategy sets itself.
RESERVED = frozenset(
    [
        b"host",
        b"content-length",
        b"transfer-encoding",
        b"connection",
        b"expect",
        b"upgrade",
        b"te",
        b"trailer",
        b"keep-alive",
        b"proxy-connection",
    ]
)

tokens = st.text(alphabet=TCHARS, min_size=1, max_size=12).map(str.encode)

methods = st.one_of(
    st.sampled_from([b"GET", b"POST", b"PUT", b"DELETE", b"OPTIONS", b"PATCH", b"HEAD"]),
    tokens.filter(lambda t: t not in (b"CONNECT", b"HEAD")),
)

_COMMON_NAMES = [
    b"Accept",
    b"accept-language",
    b"User-Agent",
    b"X-Custom",
    b"Cookie",
    b"Set-Cookie",
    b"cache-control",
    b"If-None-Match",
    b"Date",
    b"Server",
    b"Content-Type",
]
fieldNames = st.one_of(st.sampled_from(_COMMON_NAMES), tokens).filter(
    lambda n: n.lower() not in RESERVED
)

#: VCHAR and obs-text (RFC 9110 section 5.5).
_VCHAR_OBS = [c for c in range(0x21, 0x7F)] + [c for c in range(0x80, 0x100)]
_words = st.lists(st.sampled_from(_VCHAR_OBS), min_size=1, max_size=10).map(bytes)
_gaps = st.text(alphabet=" \t", min_size=1, max_size=3).map(str.encode)


@st.composite
def fieldValues(draw: st.DrawFn) -> bytes:
    """
    A field value as a parser returns it: VCHAR and obs-text with SP and HTAB
    inside only (RFC 9110 section 5.5), possibly empty.
    """
    words = draw(st.lists(_words, max_size=5))
    if not words:
        return b""
    out = words[0]
    for w in words[1:]:
        out += draw(_gaps) + w
    return out


#: OWS (RFC 9110 section 5.6.3).
ows = st.text(alphabet=" \t", max_size=3).map(str.encode)

fieldLists = st.lists(st.tuples(fieldNames, fieldValues()), max_size=8)


def headerses(extra: list[tuple[bytes, bytes]] | None = None) -> st.SearchStrategy[Headers]:
    """
    L{Headers} of random fields, C{extra} first.
    """
    return fieldLists.map(lambda fields: Headers((extra or []) + fields))


_PATH_CHARS = [c for c in range(0x21, 0x7F)]
originTargets = st.lists(st.sampled_from(_PATH_CHARS), max_size=30).map(
    lambda cs: b"/" + bytes(cs)
)
targets = st.one_of(
    originTargets,
    st.tuples(st.sampled_from([b"http", b"https"]), originTargets).map(
        lambda t: t[0] + b"://example.com" + t[1]
    ),
)

hosts = st.one_of(
    st.sampled_from([b"127.0.0.1:8080", b"localhost", b"gaia.cs.umass.edu", b"[::1]:8443", b""]),
    st.from_regex(rb"\A[a-z0-9][a-z0-9.-]{0,20}(:[0-9]{1,5})?\Z", fullmatch=True),
)

bodies = st.binary(max_size=300)

#: Final statuses that carry a body.
statuses = st.integers(200, 599).filter(lambda s: s not in (204, 304))
reasons = st.one_of(
    st.just(b""),
    st.lists(st.sampled_from([c for c in range(0x20, 0x7F)] + [9]), max_size=20).map(bytes),
)


@st.composite
def requests(draw: st.DrawFn, version: bytes | None = None) -> Request:
    """
    A request head with a Host (RFC 9112 section 3.2) and random fields.
    """
    v = version or draw(st.sampled_from([b"1.1", b"1.0"]))
    headers = Headers([(draw(st.sampled_from([b"Host", b"host", b"HOST"])), draw(hosts))])
    for n, val in draw(fieldLists):
        headers.add(n, val)
    return Request(draw(methods), draw(targets), headers, v)


@st.composite
def responses(draw: st.DrawFn, version: bytes = b"1.1") -> Response:
    """
    A final response head with random fields.
    """
    return Response(draw(statuses), draw(headerses()), draw(reasons), version)


def chunkSplits(body: bytes) -> st.SearchStrategy[list[bytes]]:
    """
    C{body} cut into non-empty chunks.
    """
    if len(body) < 2:
        return st.just([body] if body else [])
    return st.lists(st.integers(1, len(body) - 1), max_size=6, unique=True).map(
        lambda cuts: [
            body[a:b] for a, b in zip([0, *sorted(cuts)], [*sorted(cuts), len(body)], strict=True)
        ]
    )


_quoted = st.lists(
    st.sampled_from([b"a", b" ", b'\\"', b"\\\\", b",", b"=", b"\t", b"\xe9"]), max_size=5
).map(lambda parts: b'"' + b"".join(parts) + b'"')


def chunkExtensions(bws: bool = True) -> st.SearchStrategy[bytes]:
    """
    chunk-ext (RFC 9112 section 7.1.1): *( BWS ";" BWS name [ BWS "=" BWS
    value ] ), with BWS before the semicolon only if C{bws}.
    """
    return st.lists(
        st.tuples(ows if bws else st.just(b""), tokens, st.one_of(st.none(), tokens, _quoted)),
        max_size=3,
    ).map(
        lambda exts: b"".join(
            sp + b";" + name + (b"" if value is None else b"=" + value) for sp, name, value in exts
        )
    )


@dataclass
class RawMessage:
    """
    A message as bytes, and what parsing it must give.

    @ivar data: the bytes.
    @ivar head: the expected L{Request} or L{Response}.
    @ivar body: the expected body, transfer coding removed.
    @ivar trailers: the expected trailer fields.
    @ivar framing: C{"length"}, C{"chunked"}, C{"none"} or (responses)
        C{"eof"}.
    """

    data: bytes
    head: Request | Response
    body: bytes
    trailers: list[tuple[bytes, bytes]] = field(default_factory=list)
    framing: str = "none"


def _fieldBytes(draw: st.DrawFn, fields: list[tuple[bytes, bytes]]) -> bytes:
    return b"".join(n + b":" + draw(ows) + v + draw(ows) + b"\r\n" for n, v in fields)


@st.composite
def _bodyFraming(
    draw: st.DrawFn, version: bytes, allowEOF: bool, allowNone: bool, bws: bool = True
) -> tuple[str, bytes, list[tuple[bytes, bytes]], bytes, list[tuple[bytes, bytes]]]:
    """
    @return: (framing, body, framing fields, encoded body, trailers).
    """
    choices = ["length"]
    if version == b"1.1":
        choices.append("chunked")
    if allowEOF:
        choices.append("eof")
    if allowNone:
        choices.append("none")
    framing = draw(st.sampled_from(choices))
    body = draw(bodies)
    if framing == "none":
        return framing, b"", [], b"", []
    if framing == "length":
        return framing, body, [(b"Content-Length", b"%d" % len(body))], body, []
    if framing == "eof":
        return framing, body, [], body, []
    encoded = b""
    for piece in draw(chunkSplits(body)):
        size = b"%x" % len(piece)
        if draw(st.booleans()):
            size = size.upper()
        encoded += size + draw(chunkExtensions(bws)) + b"\r\n" + piece + b"\r\n"
    trailers = draw(fieldLists)
    encoded += b"0" + draw(chunkExtensions(bws)) + b"\r\n" + _fieldBytes(draw, trailers) + b"\r\n"
    coding = draw(st.sampled_from([b"chunked", b"Chunked", b"CHUNKED"]))
    return framing, body, [(b"Transfer-Encoding", coding)], encoded, trailers


@st.composite
def rawRequests(draw: st.DrawFn, bws: bool = True) -> RawMessage:
    """
    A valid request written out with random OWS, name case, chunk extensions
    (with BWS before their semicolons if C{bws}) and trailers.
    """
    version = draw(st.sampled_from([b"1.1", b"1.0"]))
    method = draw(methods)
    target = draw(targets)
    fields = [(draw(st.sampled_from([b"Host", b"host"])), draw(hosts))]
    fields += draw(fieldLists)
    framing, body, framingFields, encoded, trailers = draw(_bodyFraming(version, False, True, bws))
    position = draw(st.integers(0, len(fields)))
    fields[position:position] = framingFields
    if version == b"1.0":
        fields.append((b"Connection", b"keep-alive"))
    data = b"%s %s HTTP/%s\r\n" % (method, target, version) + _fieldBytes(draw, fields) + b"\r\n"
    return RawMessage(
        data + encoded, Request(method, target, Headers(fields), version), body, trailers, framing
    )


@st.composite
def rawResponses(draw: st.DrawFn, allowEOF: bool = True, bws: bool = True) -> RawMessage:
    """
    A valid final response (to a GET) written out with random OWS, name
    case, chunk extensions and trailers; C{"eof"} framing means the body
    runs to the end of the connection.
    """
    status = draw(statuses)
    reason = draw(reasons)
    fields = draw(fieldLists)
    framing, body, framingFields, encoded, trailers = draw(
        _bodyFraming(b"1.1", allowEOF, False, bws)
    )
    position = draw(st.integers(0, len(fields)))
    fields[position:position] = framingFields
    data = b"HTTP/1.1 %d %s\r\n" % (status, reason) + _fieldBytes(draw, fields) + b"\r\n"
    return RawMessage(
        data + encoded, Response(status, Headers(fields), reason, b"1.1"), body, trailers, framing
    )


def splits(data: bytes) -> st.SearchStrategy[list[bytes]]:
    """
    C{data} cut into pieces at random points (empty pieces excluded: an
    empty read means EOF).
    """
    if len(data) < 2:
        return st.just([data] if data else [])
    return st.lists(st.integers(1, len(data) - 1), max_size=12, unique=True).map(
        lambda cuts: [
            data[a:b] for a, b in zip([0, *sorted(cuts)], [*sorted(cuts), len(data)], strict=True)
        ]
    )
