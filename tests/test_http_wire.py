"""
Tests for L{netref.http.wire}: HTTP/1.1 messages, sans-IO (RFC 9112, RFC
9110).  One test class per rule family; the smuggling catalogue is in
C{test_http_wire_smuggling}, the property tests in
C{test_http_wire_properties}, the comparison with h11 in
C{test_http_wire_h11}.
"""

from __future__ import annotations

import contextlib
import io

from twisted.trial.unittest import SkipTest, SynchronousTestCase

from netref.http.wire import (
    REASONS,
    ClientConnection,
    ConnectionClosed,
    Data,
    EndOfMessage,
    Event,
    Headers,
    HTTPError,
    Limits,
    Request,
    Response,
    ServerConnection,
    expectsContinue,
    serializeRequestHead,
    serializeResponseHead,
    unsupportedExpectation,
)
from tests.support import docsPage, embeddingExample

GET = b"GET /index.html HTTP/1.1\r\nHost: example.com\r\n\r\n"


def kinds(events: list[Event]) -> list[str]:
    return [type(e).__name__ for e in events]


def body(events: list[Event]) -> bytes:
    return b"".join(e.data for e in events if isinstance(e, Data))


class HeadersTests(SynchronousTestCase):
    """
    L{Headers}: ordered fields, names compared case-insensitively (RFC 9110
    section 5.1), values combined with commas (section 5.3).
    """

    def test_caseInsensitive(self) -> None:
        """
        Lookups ignore the case of names, and names keep their case.
        """
        h = Headers([(b"Content-Type", b"text/html")])
        self.assertEqual(h.get("content-type"), b"text/html")
        self.assertEqual(h.get(b"CONTENT-TYPE"), b"text/html")
        self.assertIn("Content-type", h)
        self.assertEqual(list(h), [(b"Content-Type", b"text/html")])

    def test_combined(self) -> None:
        """
        C{get} joins the values of repeated fields with C{", "}; C{getAll}
        keeps them apart (for Set-Cookie).
        """
        h = Headers([("Accept", "a"), ("X", "1"), ("accept", "b")])
        self.assertEqual(h.get("accept"), b"a, b")
        self.assertEqual(h.getAll("ACCEPT"), [b"a", b"b"])
        self.assertIsNone(h.get("missing"))
        self.assertEqual(h.get("missing", b"d"), b"d")
        self.assertEqual(h.getAll("missing"), [])

    def test_addSetRemove(self) -> None:
        """
        C{add} appends, C{set} replaces every field of a name, C{remove}
        drops them all.
        """
        h = Headers()
        h.add("A", "1")
        h.add("b", "2")
        h.add("a", "3")
        self.assertEqual(len(h), 3)
        h.set("A", "4")
        self.assertEqual(list(h), [(b"b", b"2"), (b"A", b"4")])
        h.remove("a")
        self.assertEqual(list(h), [(b"b", b"2")])
        h.remove("nothing")
        self.assertEqual(len(h), 1)
        self.assertNotIn("a", h)
        self.assertNotIn(3, h)

    def test_owsTrimmed(self) -> None:
        """
        Values lose the OWS around them (RFC 9110 section 5.5).
        """
        self.assertEqual(Headers([("A", " \t x y \t")]).get("a"), b"x y")

    def test_equality(self) -> None:
        """
        Headers are equal when their fields are, names compared without case.
        """
        self.assertEqual(Headers([("A", "1")]), Headers([(b"a", b"1")]))
        self.assertNotEqual(Headers([("A", "1")]), Headers([("A", "2")]))
        self.assertNotEqual(Headers([("A", "1"), ("B", "2")]), Headers([("B", "2"), ("A", "1")]))
        self.assertNotEqual(Headers(), [])

    def test_copy(self) -> None:
        """
        C{copy} gives an independent copy.
        """
        h = Headers([("A", "1")])
        c = h.copy()
        c.add("B", "2")
        self.assertEqual(len(h), 1)
        self.assertEqual(len(c), 2)

    def test_refusesBadNames(self) -> None:
        """
        A name that is not a token is refused (RFC 9110 section 5.1).
        """
        for name in ["", "A B", "A:", "A\r\nB", "Ä"]:
            self.assertRaises(ValueError, Headers, [(name, "v")])

    def test_refusesInjection(self) -> None:
        """
        Values with CR, LF, NUL or other controls are refused, so a header
        cannot be injected (RFC 9110 section 5.5).
        """
        for value in ["a\r\nSet-Cookie: x=1", "a\nb", "a\rb", "a\x00b", "a\x7f", "\u20ac"]:
            self.assertRaises(ValueError, Headers, [("X", value)])
        h = Headers()
        self.assertRaises(ValueError, h.add, "X", "a\r\nb")
        self.assertRaises(ValueError, h.set, "X", "a\r\nb")
        self.assertEqual(len(h), 0)

    def test_obsText(self) -> None:
        """
        obs-text and HTAB are allowed in values.
        """
        self.assertEqual(Headers([("X", b"caf\xe9\tau lait")]).get("x"), b"caf\xe9\tau lait")


class RequestLineTests(SynchronousTestCase):
    """
    The request line (RFC 9112 section 3).
    """

    def parse(self, line: bytes, rest: bytes = b"Host: a\r\n\r\n") -> Request:
        events = ServerConnection().receiveData(line + b"\r\n" + rest)
        request = events[0]
        assert isinstance(request, Request)
        return request

    def refused(self, line: bytes, status: int, rest: bytes = b"Host: a\r\n\r\n") -> None:
        with self.assertRaises(HTTPError) as caught:
            ServerConnection().receiveData(line + b"\r\n" + rest)
        self.assertEqual(caught.exception.status, status)

    def test_originForm(self) -> None:
        """
        method SP origin-form SP HTTP/1.1.
        """
        r = self.parse(b"GET /a/b?c=d&e HTTP/1.1")
        self.assertEqual((r.method, r.target, r.version), (b"GET", b"/a/b?c=d&e", b"1.1"))
        self.assertEqual(r.headers.get("host"), b"a")

    def test_methodIsCaseSensitiveToken(self) -> None:
        """
        Any token is a method, kept as sent (RFC 9110 section 9.1).
        """
        self.assertEqual(self.parse(b"get / HTTP/1.1").method, b"get")
        self.assertEqual(self.parse(b"M-SEARCH / HTTP/1.1").method, b"M-SEARCH")
        self.refused(b"GE{T / HTTP/1.1", 400)

    def test_absoluteForm(self) -> None:
        """
        absolute-form, as sent to proxies (RFC 9112 section 3.2.2).
        """
        self.assertEqual(
            self.parse(b"GET http://example.com/x HTTP/1.1").target, b"http://example.com/x"
        )

    def test_authorityForm(self) -> None:
        """
        authority-form, for CONNECT only (RFC 9112 section 3.2.3).
        """
        self.assertEqual(
            self.parse(b"CONNECT example.com:443 HTTP/1.1").target, b"example.com:443"
        )
        self.refused(b"CONNECT example.com HTTP/1.1", 400)
        self.refused(b"CONNECT /x HTTP/1.1", 400)
        self.refused(b"GET example.com:443 HTTP/1.1", 400)

    def test_asteriskForm(self) -> None:
        """
        asterisk-form, for OPTIONS only (RFC 9112 section 3.2.4).
        """
        self.assertEqual(self.parse(b"OPTIONS * HTTP/1.1").target, b"*")
        self.refused(b"GET * HTTP/1.1", 400)

    def test_targetCharacters(self) -> None:
        """
        No whitespace, controls or raw non-ASCII in the target.
        """
        for target in [b"/a b", b"/a\tb", b"/a\x01", b"/\xff"]:
            self.refused(b"GET " + target + b" HTTP/1.1", 400)

    def test_versions(self) -> None:
        """
        HTTP/1.0 and 1.1; a later 1.x is taken as 1.1 (RFC 9110 section
        2.5); a major version other than 1 is 505; anything else 400.
        """
        self.assertEqual(self.parse(b"GET / HTTP/1.0").version, b"1.0")
        self.assertEqual(self.parse(b"GET / HTTP/1.2").version, b"1.1")
        for version in [b"HTTP/2.0", b"HTTP/0.9", b"HTTP/3.0"]:
            self.refused(b"GET / " + version, 505)
        for version in [b"http/1.1", b"HTTP/1", b"HTTP/1.1.1", b"HTTP/11", b"HTTP/a.b"]:
            self.refused(b"GET / " + version, 400)
        self.refused(b"GET /", 400)

    def test_separators(self) -> None:
        """
        Exactly one SP between the three parts.
        """
        self.refused(b"GET  / HTTP/1.1", 400)
        self.refused(b" GET / HTTP/1.1", 400)
        self.refused(b"GET / HTTP/1.1 ", 400)

    def test_emptyLinesBefore(self) -> None:
        """
        Empty lines before a request line are ignored (RFC 9112 section
        2.2), also when they arrive alone.
        """
        connection = ServerConnection()
        self.assertEqual(connection.receiveData(b"\r\n\r\n"), [])
        self.assertEqual(connection.receiveData(b"\r"), [])
        events = connection.receiveData(b"\n" + GET)
        self.assertEqual(kinds(events), ["Request", "EndOfMessage"])

    def test_tooLong(self) -> None:
        """
        A request line longer than C{maxRequestLine} is 414, whether it is
        complete or still arriving.
        """
        limits = Limits(maxRequestLine=100)
        with self.assertRaises(HTTPError) as caught:
            ServerConnection(limits).receiveData(b"GET /" + b"a" * 100 + b" HTTP/1.1\r\n\r\n")
        self.assertEqual(caught.exception.status, 414)
        with self.assertRaises(HTTPError) as caught:
            ServerConnection(limits).receiveData(b"GET /" + b"a" * 100)
        self.assertEqual(caught.exception.status, 414)
        ok = b"GET /" + b"a" * 86 + b" HTTP/1.1"
        self.assertEqual(len(ok), 100)
        self.assertEqual(
            kinds(ServerConnection(limits).receiveData(ok + b"\r\nHost: a\r\n\r\n")),
            ["Request", "EndOfMessage"],
        )

    def test_badLineRefusedEarly(self) -> None:
        """
        A bad request line is refused as soon as it is complete, without
        waiting for the header section.
        """
        with self.assertRaises(HTTPError) as caught:
            ServerConnection().receiveData(b"GET / HTTP/2.0\r\nHost: a\r\n")
        self.assertEqual(caught.exception.status, 505)


class FieldTests(SynchronousTestCase):
    """
    Header fields (RFC 9112 section 5, RFC 9110 section 5.5).
    """

    def parse(self, fields: bytes) -> Headers:
        request = ServerConnection().receiveData(
            b"GET / HTTP/1.1\r\nHost: a\r\n" + fields + b"\r\n"
        )[0]
        assert isinstance(request, Request)
        return request.headers

    def refused(self, fields: bytes, status: int = 400, limits: Limits | None = None) -> None:
        with self.assertRaises(HTTPError) as caught:
            ServerConnection(limits).receiveData(
                b"GET / HTTP/1.1\r\nHost: a\r\n" + fields + b"\r\n"
            )
        self.assertEqual(caught.exception.status, status)

    def test_ows(self) -> None:
        """
        OWS around values is trimmed; inside it is kept.
        """
        h = self.parse(b"A:x\r\nB: \t y z \t \r\nC:\r\nD:   \r\n")
        self.assertEqual([v for _, v in h], [b"a", b"x", b"y z", b"", b""])

    def test_orderAndCase(self) -> None:
        """
        Fields keep their order and their names' case.
        """
        h = self.parse(b"X-B: 1\r\nx-a: 2\r\nX-B: 3\r\n")
        self.assertEqual(list(h)[1:], [(b"X-B", b"1"), (b"x-a", b"2"), (b"X-B", b"3")])
        self.assertEqual(h.get("x-b"), b"1, 3")

    def test_obsText(self) -> None:
        """
        obs-text in values is kept as bytes.
        """
        self.assertEqual(self.parse(b"X: caf\xe9\r\n").get("x"), b"caf\xe9")

    def test_obsFold(self) -> None:
        """
        obs-fold is refused (RFC 9112 section 5.2).
        """
        self.refused(b"X: a\r\n b\r\n")
        self.refused(b"X: a\r\n\tb\r\n")

    def test_whitespaceBeforeColon(self) -> None:
        """
        Whitespace between a name and its colon is refused (RFC 9112
        section 5.1).
        """
        self.refused(b"X : a\r\n")
        self.refused(b"X\t: a\r\n")

    def test_badValues(self) -> None:
        """
        NUL, bare CR or LF and other controls in values are refused.
        """
        for value in [b"a\x00b", b"a\rb", b"a\nb", b"a\x01", b"\x1b[31m", b"a\x7f"]:
            self.refused(b"X: " + value + b"\r\n")

    def test_badNames(self) -> None:
        """
        Names must be tokens; a line without a colon is refused.
        """
        for line in [b"X Y: a", b"[X]: a", b": a", b"no colon", b"X\x00: a"]:
            self.refused(line + b"\r\n")

    def test_tooMany(self) -> None:
        """
        More than C{maxHeaders} fields is 431, complete or still arriving.
        """
        limits = Limits(maxHeaders=5)
        self.refused(b"X: a\r\n" * 5, 431, limits)
        with self.assertRaises(HTTPError) as caught:
            ServerConnection(limits).receiveData(b"GET / HTTP/1.1\r\n" + b"X: a\r\n" * 7)
        self.assertEqual(caught.exception.status, 431)
        request = ServerConnection(limits).receiveData(
            b"GET / HTTP/1.1\r\nHost: a\r\n" + b"X: a\r\n" * 4 + b"\r\n"
        )[0]
        assert isinstance(request, Request)
        self.assertEqual(len(request.headers), 5)

    def test_tooLarge(self) -> None:
        """
        A header section larger than C{maxHeaderBytes} is 431, complete or
        still arriving.
        """
        limits = Limits(maxHeaderBytes=200)
        self.refused(b"X: " + b"a" * 200 + b"\r\n", 431, limits)
        with self.assertRaises(HTTPError) as caught:
            ServerConnection(limits).receiveData(b"GET / HTTP/1.1\r\nX: " + b"a" * 300)
        self.assertEqual(caught.exception.status, 431)

    def test_longRunOfSpaces(self) -> None:
        """
        A huge run of spaces inside a value parses in linear time (no
        regular-expression blow-up) and is kept.
        """
        value = b"a" + b" " * 60000 + b"b"
        self.assertEqual(self.parse(b"X: " + value + b"\r\n").get("x"), value)
        self.refused(b"X: a" + b" " * 60000 + b"\x00\r\n")


class HostTests(SynchronousTestCase):
    """
    Host (RFC 9112 section 3.2, RFC 9110 section 7.2).
    """

    def refused(self, data: bytes) -> None:
        with self.assertRaises(HTTPError) as caught:
            ServerConnection().receiveData(data)
        self.assertEqual(caught.exception.status, 400)

    def test_required(self) -> None:
        """
        An HTTP/1.1 request without Host is 400; HTTP/1.0 may omit it.
        """
        self.refused(b"GET / HTTP/1.1\r\n\r\n")
        self.refused(b"GET / HTTP/1.1\r\nX-Host: a\r\n\r\n")
        events = ServerConnection().receiveData(b"GET / HTTP/1.0\r\n\r\n")
        self.assertEqual(kinds(events), ["Request", "EndOfMessage"])

    def test_once(self) -> None:
        """
        Two Host fields are 400, in either version.
        """
        self.refused(b"GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n")
        self.refused(b"GET / HTTP/1.0\r\nHost: a\r\nHOST: b\r\n\r\n")

    def test_syntax(self) -> None:
        """
        uri-host [":" port]: names, IPv4, IPv6 literals, empty; nothing
        else.
        """
        for host in [
            b"a",
            b"example.com:8080",
            b"127.0.0.1",
            b"[::1]:443",
            b"",
            b"a:",
            b"xn--d1a.b",
        ]:
            request = ServerConnection().receiveData(
                b"GET / HTTP/1.1\r\nHost: " + host + b"\r\n\r\n"
            )[0]
            assert isinstance(request, Request)
            self.assertEqual(request.headers.get("host"), host)
        for host in [b"a b", b"a/b", b"u@a", b"a:b", b"[::1", b"a:80:80", b"a?b"]:
            self.refused(b"GET / HTTP/1.1\r\nHost: " + host + b"\r\n\r\n")


class BodyTests(SynchronousTestCase):
    """
    Request bodies (RFC 9112 section 6): Content-Length, chunked, none.
    """

    def test_noBody(self) -> None:
        """
        A request without Content-Length or chunked has no body, even POST.
        """
        events = ServerConnection().receiveData(b"POST / HTTP/1.1\r\nHost: a\r\n\r\nGET")
        self.assertEqual(kinds(events), ["Request", "EndOfMessage"])

    def test_contentLength(self) -> None:
        """
        Content-Length bytes are the body, however they arrive.
        """
        c = ServerConnection()
        events = c.receiveData(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n0123")
        self.assertEqual(kinds(events), ["Request", "Data"])
        events += c.receiveData(b"456")
        events += c.receiveData(b"789" + GET)
        self.assertEqual(body(events), b"0123456789")
        self.assertEqual(
            kinds(events),
            ["Request", "Data", "Data", "Data", "EndOfMessage", "Request", "EndOfMessage"],
        )

    def test_contentLengthZero(self) -> None:
        """
        C{Content-Length: 0} ends the message at once; leading zeros are
        digits too.
        """
        events = ServerConnection().receiveData(
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 000\r\n\r\n"
        )
        self.assertEqual(kinds(events), ["Request", "EndOfMessage"])

    def test_chunked(self) -> None:
        """
        A chunked body is decoded; extensions are allowed and ignored;
        trailers are reported apart from the header section.
        """
        events = ServerConnection().receiveData(
            b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n"
            b"5;name=value;x\r\nhello\r\n"
            b'6 ; q="a \\" b"\r\n world\r\n'
            b"A\r\n0123456789\r\n"
            b"0\r\nX-Checksum: abc\r\nX-Other:  d \r\n\r\n"
        )
        self.assertEqual(body(events), b"hello world0123456789")
        end = events[-1]
        assert isinstance(end, EndOfMessage)
        self.assertEqual(end.trailers, Headers([("X-Checksum", "abc"), ("X-Other", "d")]))
        request = events[0]
        assert isinstance(request, Request)
        self.assertNotIn("x-checksum", request.headers)

    def test_chunkedPieceByPiece(self) -> None:
        """
        Chunk lines, data and trailers split anywhere parse the same.
        """
        data = (
            b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"3;e=1\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\nT: v\r\n\r\n"
        )
        c = ServerConnection()
        events: list[Event] = []
        for i in range(len(data)):
            events += c.receiveData(data[i : i + 1])
        self.assertEqual(body(events), b"abc0123456789abcdef")
        self.assertEqual(kinds(events)[-1], "EndOfMessage")

    def test_badChunks(self) -> None:
        """
        Malformed chunk lines and chunk data not followed by CRLF are 400.
        """
        head = b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
        for chunks in [
            b"0x3\r\nabc\r\n0\r\n\r\n",
            b"-3\r\nabc\r\n0\r\n\r\n",
            b"g\r\n",
            b"3\r\nabcX\r\n",
            b"3;\r\nabc\r\n",
            b"3;a=b c\r\nabc\r\n",
            b'3;a="b\r\nabc\r\n',
            b"3\r\nabc\r\n0\r\nBad Name: x\r\n\r\n",
            b"11111111111111111\r\n",
        ]:
            with self.assertRaises(HTTPError) as caught:
                ServerConnection().receiveData(head + chunks)
            self.assertEqual(caught.exception.status, 400, chunks)

    def test_codings(self) -> None:
        """
        A Transfer-Encoding other than a single chunked is 501 (RFC 9112
        section 6.1); with Content-Length, or in HTTP/1.0, 400.
        """
        cases = [
            (b"1.1", b"Transfer-Encoding: gzip\r\n", 501),
            (b"1.1", b"Transfer-Encoding: gzip, chunked\r\n", 501),
            (b"1.1", b"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n", 400),
            (b"1.0", b"Transfer-Encoding: chunked\r\n", 400),
        ]
        for version, fields, status in cases:
            with self.assertRaises(HTTPError) as caught:
                ServerConnection().receiveData(
                    b"POST / HTTP/" + version + b"\r\nHost: a\r\n" + fields + b"\r\n"
                )
            self.assertEqual(caught.exception.status, status, fields)

    def test_contentLengthSyntax(self) -> None:
        """
        Content-Length must be 1*DIGIT, once (stricter than RFC 9112 section
        6.3 on repeated identical values).
        """
        for fields in [
            b"Content-Length: +1\r\n",
            b"Content-Length: 1 \t1\r\n",
            b"Content-Length: 1,1\r\n",
            b"Content-Length: 1\r\nContent-Length: 1\r\n",
            b"Content-Length:\r\n",
        ]:
            with self.assertRaises(HTTPError) as caught:
                ServerConnection().receiveData(
                    b"POST / HTTP/1.1\r\nHost: a\r\n" + fields + b"\r\n"
                )
            self.assertEqual(caught.exception.status, 400, fields)

    def test_bodyLimit(self) -> None:
        """
        A body larger than C{maxBodyBytes} is 413: announced by
        Content-Length, or accumulated over chunks.
        """
        limits = Limits(maxBodyBytes=10)
        with self.assertRaises(HTTPError) as caught:
            ServerConnection(limits).receiveData(
                b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\n"
            )
        self.assertEqual(caught.exception.status, 413)
        c = ServerConnection(limits)
        events = c.receiveData(
            b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"5\r\nabcde\r\n5\r\nfghij\r\n"
        )
        self.assertEqual(body(events), b"abcdefghij")
        with self.assertRaises(HTTPError) as caught:
            c.receiveData(b"1\r\nk\r\n")
        self.assertEqual(caught.exception.status, 413)
        self.assertEqual(
            kinds(
                ServerConnection(limits).receiveData(
                    b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n0123456789"
                )
            ),
            ["Request", "Data", "EndOfMessage"],
        )

    def test_trailerLimits(self) -> None:
        """
        The trailer section has the header section's limits (431).
        """
        head = b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n"
        with self.assertRaises(HTTPError) as caught:
            ServerConnection(Limits(maxHeaders=2)).receiveData(head + b"A: 1\r\n" * 3 + b"\r\n")
        self.assertEqual(caught.exception.status, 431)
        with self.assertRaises(HTTPError) as caught:
            ServerConnection(Limits(maxHeaderBytes=100)).receiveData(head + b"A: " + b"x" * 200)
        self.assertEqual(caught.exception.status, 431)

    def test_endOfFile(self) -> None:
        """
        EOF between requests is L{ConnectionClosed}; inside one, 400.
        """
        c = ServerConnection()
        c.receiveData(GET)
        self.assertEqual(kinds(c.receiveData(b"")), ["ConnectionClosed"])
        self.assertEqual(c.receiveData(b""), [])
        for partial in [b"GET / HT", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nab"]:
            c = ServerConnection()
            c.receiveData(partial)
            with self.assertRaises(HTTPError) as caught:
                c.receiveData(b"")
            self.assertEqual(caught.exception.status, 400)


class ExpectTests(SynchronousTestCase):
    """
    Expect: 100-continue (RFC 9110 section 10.1.1).
    """

    head = b"PUT /f HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nExpect: 100-Continue\r\n\r\n"

    def test_requestBeforeBody(self) -> None:
        """
        The request comes before its body arrives, so the server can answer
        100 first.
        """
        c = ServerConnection()
        events = c.receiveData(self.head)
        self.assertEqual(kinds(events), ["Request"])
        request = events[0]
        assert isinstance(request, Request)
        self.assertTrue(c.expectsContinue(request))
        self.assertTrue(expectsContinue(request))
        self.assertFalse(unsupportedExpectation(request))
        self.assertEqual(c.sendInformational(), b"HTTP/1.1 100 Continue\r\n\r\n")
        events = c.receiveData(b"abc")
        self.assertEqual(body(events), b"abc")
        self.assertEqual(c.pendingRequests, 1)
        out = c.sendResponse(Response(201, Headers()))
        self.assertTrue(out.startswith(b"HTTP/1.1 201 Created\r\n"))
        self.assertTrue(c.keepAlive)

    def test_onlyHTTP11(self) -> None:
        """
        An HTTP/1.0 request cannot expect 100, and gets no 1xx.
        """
        c = ServerConnection()
        request = c.receiveData(self.head.replace(b"1.1", b"1.0"))[0]
        assert isinstance(request, Request)
        self.assertFalse(c.expectsContinue(request))
        self.assertEqual(c.sendInformational(), b"")

    def test_without(self) -> None:
        """
        No Expect, no expectation.
        """
        request = ServerConnection().receiveData(GET)[0]
        assert isinstance(request, Request)
        self.assertFalse(expectsContinue(request))
        self.assertFalse(unsupportedExpectation(request))

    def test_unknown(self) -> None:
        """
        An expectation other than 100-continue is for a 417.
        """
        request = Request(b"GET", b"/", Headers([("Host", "a"), ("Expect", "magic")]))
        self.assertFalse(expectsContinue(request))
        self.assertTrue(unsupportedExpectation(request))

    def test_answeredBeforeBody(self) -> None:
        """
        A final answer sent before the body arrived closes the connection:
        the client may or may not send the body.
        """
        c = ServerConnection()
        c.receiveData(self.head)
        out = c.sendResponse(Response(417, Headers()), b"no")
        self.assertIn(b"\r\nConnection: close\r\n", out)
        self.assertFalse(c.keepAlive)
        self.assertEqual(c.receiveData(b"abc" + GET), [])

    def test_informationalStatus(self) -> None:
        """
        Only 1xx statuses are informational.
        """
        c = ServerConnection()
        c.receiveData(GET)
        self.assertEqual(c.sendInformational(103), b"HTTP/1.1 103 \r\n\r\n")
        self.assertRaises(ValueError, c.sendInformational, 200)


class PersistenceTests(SynchronousTestCase):
    """
    Persistent connections (RFC 9112 section 9.3).
    """

    def answer(
        self, request: bytes, response: Response | None = None
    ) -> tuple[bytes, ServerConnection]:
        c = ServerConnection()
        c.receiveData(request)
        return c.sendResponse(response or Response(200, Headers()), b"ok"), c

    def test_http11Persists(self) -> None:
        """
        HTTP/1.1 persists by default, and the response says nothing about it.
        """
        out, c = self.answer(GET)
        self.assertTrue(c.keepAlive)
        self.assertNotIn(b"Connection", out)

    def test_requestClose(self) -> None:
        """
        C{Connection: close} in the request: the response says close, and
        nothing after the request is parsed.
        """
        c = ServerConnection()
        events = c.receiveData(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: Close\r\n\r\n" + GET)
        self.assertEqual(kinds(events), ["Request", "EndOfMessage"])
        out = c.sendResponse(Response(200, Headers()), b"ok")
        self.assertIn(b"\r\nConnection: close\r\n", out)
        self.assertFalse(c.keepAlive)
        self.assertEqual(c.pendingRequests, 0)

    def test_responseClose(self) -> None:
        """
        A handler's C{Connection: close} ends persistence, and is not
        repeated.
        """
        out, c = self.answer(GET, Response(200, Headers([("Connection", "close")])))
        self.assertFalse(c.keepAlive)
        self.assertEqual(out.count(b"Connection"), 1)

    def test_http10(self) -> None:
        """
        HTTP/1.0 persists only with keep-alive, and then the response says
        keep-alive.
        """
        out, c = self.answer(b"GET / HTTP/1.0\r\n\r\n")
        self.assertFalse(c.keepAlive)
        self.assertIn(b"\r\nConnection: close\r\n", out)
        out, c = self.answer(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        self.assertTrue(c.keepAlive)
        self.assertIn(b"\r\nConnection: keep-alive\r\n", out)

    def test_http10NoChunks(self) -> None:
        """
        A streamed response of unknown length to HTTP/1.0 is close-delimited,
        never chunked (RFC 9112 section 6.1).
        """
        c = ServerConnection()
        c.receiveData(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        head = c.startResponse(Response(200, Headers()))
        self.assertNotIn(b"chunked", head)
        self.assertIn(b"\r\nConnection: close\r\n", head)
        self.assertEqual(c.sendData(b"abc"), b"abc")
        self.assertEqual(c.endResponse(), b"")
        self.assertFalse(c.keepAlive)

    def test_errorCloses(self) -> None:
        """
        After an error response, the connection does not persist.
        """
        c = ServerConnection()
        with self.assertRaises(HTTPError) as caught:
            c.receiveData(b"GET / HTTP/1.1\r\n\r\n")
        out = c.errorResponse(caught.exception)
        self.assertFalse(c.keepAlive)
        self.assertEqual(
            out,
            b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\n"
            b"Content-Length: %d\r\nConnection: close\r\n\r\n%s\n"
            % (len(caught.exception.reason) + 1, caught.exception.reason.encode()),
        )


class PipeliningTests(SynchronousTestCase):
    """
    Pipelining (RFC 9112 section 9.3.2): several requests in one buffer,
    answered in order.
    """

    def test_inOrder(self) -> None:
        """
        Every request in the buffer is parsed; each response answers the
        oldest pending one (a HEAD among them gets no body).
        """
        c = ServerConnection()
        events = c.receiveData(
            GET
            + b"HEAD /h HTTP/1.1\r\nHost: a\r\n\r\n"
            + b"POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi"
        )
        self.assertEqual(
            [e.target for e in events if isinstance(e, Request)], [b"/index.html", b"/h", b"/p"]
        )
        self.assertEqual(c.pendingRequests, 3)
        first = c.sendResponse(Response(200, Headers()), b"one")
        second = c.sendResponse(Response(200, Headers()), b"twotwo")
        third = c.sendResponse(Response(200, Headers()), b"3")
        self.assertTrue(first.endswith(b"\r\n\r\none"))
        self.assertTrue(second.endswith(b"Content-Length: 6\r\n\r\n"))
        self.assertTrue(third.endswith(b"\r\n\r\n3"))
        self.assertEqual(c.pendingRequests, 0)
        self.assertRaises(RuntimeError, c.sendResponse, Response(200, Headers()))

    def test_errorKeepsEarlierRequests(self) -> None:
        """
        The requests parsed before a bad one ride on the error, for the
        server to answer before the error.
        """
        with self.assertRaises(HTTPError) as caught:
            ServerConnection().receiveData(GET + GET + b"BAD\r\n\r\n")
        self.assertEqual(kinds(caught.exception.events), ["Request", "EndOfMessage"] * 2)


class ServerFramingTests(SynchronousTestCase):
    """
    Framing responses (RFC 9112 section 6, RFC 9110 section 15).
    """

    def answer(self, request: bytes, response: Response, body: bytes = b"") -> bytes:
        c = ServerConnection()
        c.receiveData(request)
        return c.sendResponse(response, body)

    def test_contentLength(self) -> None:
        """
        The status line with its standard reason, the handler's fields, and
        Content-Length from the body; a handler's own Content-Length and
        Transfer-Encoding are replaced.
        """
        out = self.answer(
            GET,
            Response(
                200,
                Headers(
                    [
                        ("Content-Type", "text/html"),
                        ("Content-Length", "99"),
                        ("Transfer-Encoding", "chunked"),
                    ]
                ),
            ),
            b"<p>hi</p>",
        )
        self.assertEqual(
            out,
            b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 9\r\n\r\n<p>hi</p>",
        )

    def test_noContent(self) -> None:
        """
        204 has no Content-Length and no body.
        """
        out = self.answer(GET, Response(204, Headers([("Content-Length", "3")])), b"abc")
        self.assertEqual(out, b"HTTP/1.1 204 No Content\r\n\r\n")

    def test_notModified(self) -> None:
        """
        304 has no body and keeps a Content-Length only if the handler gave
        one.
        """
        out = self.answer(GET, Response(304, Headers([("ETag", '"x"')])), b"abc")
        self.assertEqual(out, b'HTTP/1.1 304 Not Modified\r\nETag: "x"\r\n\r\n')
        out = self.answer(GET, Response(304, Headers([("Content-Length", "10")])))
        self.assertEqual(out, b"HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n")

    def test_head(self) -> None:
        """
        An answer to HEAD has the Content-Length a GET would, and no body.
        """
        head = b"HEAD / HTTP/1.1\r\nHost: a\r\n\r\n"
        out = self.answer(head, Response(200, Headers()), b"abcdef")
        self.assertEqual(out, b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\n")
        out = self.answer(head, Response(200, Headers([("Content-Length", "1234")])))
        self.assertEqual(out, b"HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n")
        c = ServerConnection()
        c.receiveData(head)
        self.assertEqual(
            c.startResponse(Response(200, Headers()), 10),
            b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n",
        )
        self.assertEqual(c.sendData(b"0123456789"), b"")
        self.assertEqual(c.endResponse(), b"")
        self.assertTrue(c.keepAlive)

    def test_informational(self) -> None:
        """
        A 1xx sent with sendResponse is interim: the request is still
        pending, and it has no Content-Length.
        """
        c = ServerConnection()
        c.receiveData(GET)
        self.assertEqual(
            c.sendResponse(Response(103, Headers([("Link", "</s.css>; rel=preload")]))),
            b"HTTP/1.1 103 \r\nLink: </s.css>; rel=preload\r\n\r\n",
        )
        self.assertEqual(c.pendingRequests, 1)

    def test_reasons(self) -> None:
        """
        A given reason replaces the standard one; an unknown status has an
        empty one; a reason with CR or LF is refused.
        """
        self.assertTrue(
            self.answer(GET, Response(200, Headers(), b"Fine")).startswith(
                b"HTTP/1.1 200 Fine\r\n"
            )
        )
        self.assertTrue(
            self.answer(GET, Response(299, Headers())).startswith(b"HTTP/1.1 299 \r\n")
        )
        c = ServerConnection()
        c.receiveData(GET)
        self.assertRaises(ValueError, c.sendResponse, Response(200, Headers(), b"OK\r\nX: y"))
        self.assertEqual(c.pendingRequests, 1)
        self.assertRaises(ValueError, serializeResponseHead, Response(1000, Headers()))
        self.assertEqual(REASONS[404], "Not Found")

    def test_streamedChunked(self) -> None:
        """
        Without a length, a response to HTTP/1.1 is chunked, with trailers.
        """
        c = ServerConnection()
        c.receiveData(GET)
        self.assertEqual(
            c.startResponse(Response(200, Headers([("Content-Length", "5")]))),
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
        )
        self.assertEqual(c.sendData(b"hello"), b"5\r\nhello\r\n")
        self.assertEqual(c.sendData(b""), b"")
        self.assertEqual(c.sendData(b"x" * 26), b"1a\r\n" + b"x" * 26 + b"\r\n")
        self.assertEqual(c.endResponse(Headers([("X-Sum", "1")])), b"0\r\nX-Sum: 1\r\n\r\n")
        self.assertTrue(c.keepAlive)
        self.assertRaises(RuntimeError, c.sendData, b"late")

    def test_streamedLength(self) -> None:
        """
        With a length, Content-Length framing; more than announced is
        refused, less ends persistence.
        """
        c = ServerConnection()
        c.receiveData(GET + GET)
        self.assertIn(b"Content-Length: 4\r\n", c.startResponse(Response(200, Headers()), 4))
        self.assertRaises(RuntimeError, c.sendResponse, Response(200, Headers()))
        self.assertEqual(c.sendData(b"abc"), b"abc")
        self.assertRaises(ValueError, c.sendData, b"de")
        self.assertEqual(c.endResponse(), b"")
        self.assertFalse(c.keepAlive)

    def test_serializeHeads(self) -> None:
        """
        The head serializers write exactly what they are given.
        """
        self.assertEqual(
            serializeRequestHead(Request(b"GET", b"/x", Headers([("Host", "a"), ("X", "1")]))),
            b"GET /x HTTP/1.1\r\nHost: a\r\nX: 1\r\n\r\n",
        )
        self.assertEqual(
            serializeResponseHead(
                Response(404, Headers([("Content-Length", "0")]), version=b"1.0")
            ),
            b"HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n",
        )
        for bad in [
            Request(b"G T", b"/", Headers()),
            Request(b"GET", b"/a b", Headers()),
            Request(b"GET", b"/\r\nX: y", Headers()),
            Request(b"GET", b"", Headers()),
            Request(b"GET", b"/", Headers(), b"1.1\r\n"),
        ]:
            self.assertRaises(ValueError, serializeRequestHead, bad)


class ClientTests(SynchronousTestCase):
    """
    L{ClientConnection}: requests out, responses in.
    """

    def exchange(
        self, response: bytes, method: bytes = b"GET"
    ) -> tuple[list[Event], ClientConnection]:
        c = ClientConnection()
        c.sendRequest(Request(method, b"/", Headers([("Host", "a")])))
        return c.receiveData(response), c

    def test_sendRequest(self) -> None:
        """
        No body, no Content-Length; bytes, even empty, get one; a given
        Content-Length or Transfer-Encoding is replaced.
        """
        c = ClientConnection()
        h = Headers([("Host", "a"), ("Content-Length", "7"), ("Transfer-Encoding", "chunked")])
        self.assertEqual(
            c.sendRequest(Request(b"GET", b"/", h)), b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"
        )
        self.assertEqual(
            c.sendRequest(Request(b"POST", b"/", h), b""),
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n",
        )
        self.assertEqual(
            c.sendRequest(Request(b"PUT", b"/", h), b"abc"),
            b"PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc",
        )
        self.assertEqual(c.pendingResponses, 3)

    def test_hostRequired(self) -> None:
        """
        An HTTP/1.1 request needs exactly one Host.
        """
        c = ClientConnection()
        self.assertRaises(ValueError, c.sendRequest, Request(b"GET", b"/", Headers()))
        self.assertRaises(
            ValueError,
            c.sendRequest,
            Request(b"GET", b"/", Headers([("Host", "a"), ("Host", "b")])),
        )
        c.sendRequest(Request(b"GET", b"/", Headers(), b"1.0"))
        self.assertEqual(c.pendingResponses, 1)

    def test_chunkedUpload(self) -> None:
        """
        startRequest, sendData, endRequest frame a chunked body; not in
        HTTP/1.0.
        """
        c = ClientConnection()
        head = c.startRequest(Request(b"POST", b"/up", Headers([("Host", "a")])))
        self.assertEqual(
            head, b"POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        self.assertRaises(
            RuntimeError, c.sendRequest, Request(b"GET", b"/", Headers([("Host", "a")]))
        )
        self.assertEqual(c.sendData(b"abc"), b"3\r\nabc\r\n")
        self.assertEqual(c.endRequest(Headers([("T", "1")])), b"0\r\nT: 1\r\n\r\n")
        self.assertRaises(RuntimeError, c.sendData, b"x")
        self.assertRaises(ValueError, c.startRequest, Request(b"POST", b"/", Headers(), b"1.0"))

    def test_contentLength(self) -> None:
        """
        A Content-Length response, and the connection persists.
        """
        events, c = self.exchange(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")
        self.assertEqual(kinds(events), ["Response", "Data", "EndOfMessage"])
        response = events[0]
        assert isinstance(response, Response)
        self.assertEqual(
            (response.status, response.reason, response.version), (200, b"OK", b"1.1")
        )
        self.assertEqual(body(events), b"hello")
        self.assertTrue(c.keepAlive)
        self.assertEqual(c.pendingResponses, 0)

    def test_chunked(self) -> None:
        """
        A chunked response with trailers.
        """
        events, c = self.exchange(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nT: 1\r\n\r\n"
        )
        self.assertEqual(body(events), b"abc")
        end = events[-1]
        assert isinstance(end, EndOfMessage)
        self.assertEqual(end.trailers.get("t"), b"1")
        self.assertTrue(c.keepAlive)

    def test_closeDelimited(self) -> None:
        """
        Without Content-Length or chunked, the body runs to EOF, and the
        connection does not persist.
        """
        events, c = self.exchange(b"HTTP/1.1 200 OK\r\n\r\nsome")
        events += c.receiveData(b"thing")
        events += c.receiveData(b"")
        self.assertEqual(body(events), b"something")
        self.assertEqual(kinds(events)[-1], "EndOfMessage")
        self.assertFalse(c.keepAlive)

    def test_noBodyStatuses(self) -> None:
        """
        Answers to HEAD, 204 and 304 have no body whatever they announce.
        """
        events, c = self.exchange(b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n", b"HEAD")
        self.assertEqual(kinds(events), ["Response", "EndOfMessage"])
        self.assertTrue(c.keepAlive)
        for status in [b"204 No Content", b"304 Not Modified"]:
            events, c = self.exchange(b"HTTP/1.1 " + status + b"\r\nContent-Length: 5\r\n\r\n")
            self.assertEqual(kinds(events), ["Response", "EndOfMessage"])

    def test_interim(self) -> None:
        """
        1xx responses are interim: no body, and the final one follows.
        """
        events, c = self.exchange(
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
            b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
        )
        self.assertEqual(kinds(events), ["Response", "Response", "Response", "EndOfMessage"])
        self.assertEqual([e.status for e in events if isinstance(e, Response)], [100, 103, 200])

    def test_switchingProtocols(self) -> None:
        """
        After 101 the connection speaks another protocol: nothing more is
        parsed.
        """
        events, c = self.exchange(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n\x00\x01"
        )
        self.assertEqual(kinds(events), ["Response"])
        self.assertFalse(c.keepAlive)
        self.assertEqual(c.receiveData(b"more"), [])

    def test_pipelined(self) -> None:
        """
        Responses to pipelined requests come in order, each framed by its
        request (the HEAD's has no body).
        """
        c = ClientConnection()
        for method in [b"GET", b"HEAD", b"GET"]:
            c.sendRequest(Request(method, b"/", Headers([("Host", "a")])))
        events = c.receiveData(
            b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na"
            b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n"
            b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nc"
        )
        self.assertEqual(
            kinds(events),
            [
                "Response",
                "Data",
                "EndOfMessage",
                "Response",
                "EndOfMessage",
                "Response",
                "Data",
                "EndOfMessage",
            ],
        )
        self.assertEqual(c.pendingResponses, 0)

    def test_persistence(self) -> None:
        """
        Connection: close in the response, or an HTTP/1.0 response without
        keep-alive, ends persistence; bytes after it are not parsed.
        """
        for head in [b"HTTP/1.1 200 OK\r\nConnection: close\r\n", b"HTTP/1.0 200 OK\r\n"]:
            events, c = self.exchange(head + b"Content-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\n\r\n")
            self.assertEqual(kinds(events), ["Response", "EndOfMessage"])
            self.assertFalse(c.keepAlive)
        events, c = self.exchange(
            b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n"
        )
        self.assertTrue(c.keepAlive)
        c = ClientConnection()
        c.sendRequest(Request(b"GET", b"/", Headers([("Host", "a"), ("Connection", "close")])))
        c.receiveData(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        self.assertFalse(c.keepAlive)

    def test_endOfFile(self) -> None:
        """
        EOF between responses is L{ConnectionClosed}; inside one, an error.
        """
        c = ClientConnection()
        self.assertEqual(kinds(c.receiveData(b"")), ["ConnectionClosed"])
        for partial in [b"HTTP/1.1 200 OK\r\n", b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab"]:
            events, c = self.exchange(partial)
            with self.assertRaises(HTTPError):
                c.receiveData(b"")

    def test_refused(self) -> None:
        """
        Malformed or smuggling-shaped responses raise L{HTTPError}; so does
        a response nobody asked for.
        """
        with self.assertRaises(HTTPError):
            ClientConnection().receiveData(b"HTTP/1.1 200 OK\r\n\r\n")
        for response, status in [
            (b"HTTP/2.0 200 OK\r\n\r\n", 505),
            (b"HTTP/1.1 20 OK\r\n\r\n", 400),
            (b"HTTP/1.1 099 OK\r\n\r\n", 400),
            (b"HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n", 400),
            (b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
            (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", 400),
            (b"HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
            (b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n", 400),
            (b"HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n", 400),
            (b"HTTP/1.1 200 O\rK\r\n\r\n", 400),
        ]:
            with self.assertRaises(HTTPError) as caught:
                self.exchange(response)
            self.assertEqual(caught.exception.status, status, response)

    def test_statusLineLimit(self) -> None:
        """
        A status line longer than C{maxRequestLine} is refused (400).
        """
        c = ClientConnection(Limits(maxRequestLine=50))
        c.sendRequest(Request(b"GET", b"/", Headers([("Host", "a")])))
        with self.assertRaises(HTTPError) as caught:
            c.receiveData(b"HTTP/1.1 200 " + b"x" * 60)
        self.assertEqual(caught.exception.status, 400)

    def test_headerLimits(self) -> None:
        """
        A response's header section has the limits of a request's (431).
        """
        for limits, fields in [
            (Limits(maxHeaders=3), b"X: 1\r\n" * 4),
            (Limits(maxHeaderBytes=100), b"X: " + b"a" * 100 + b"\r\n"),
        ]:
            c = ClientConnection(limits)
            c.sendRequest(Request(b"GET", b"/", Headers([("Host", "a")])))
            with self.assertRaises(HTTPError) as caught:
                c.receiveData(b"HTTP/1.1 200 OK\r\n" + fields + b"\r\n")
            self.assertEqual(caught.exception.status, 431)

    def test_noReason(self) -> None:
        """
        A status line without a reason (with or without its SP) is taken.
        """
        for line in [b"HTTP/1.1 200", b"HTTP/1.1 200 "]:
            events, c = self.exchange(line + b"\r\nContent-Length: 0\r\n\r\n")
            response = events[0]
            assert isinstance(response, Response)
            self.assertEqual((response.status, response.reason), (200, b""))

    def test_connectTunnel(self) -> None:
        """
        A 2xx answer to CONNECT opens a tunnel: nothing more is parsed.
        """
        c = ClientConnection()
        c.sendRequest(Request(b"CONNECT", b"a:443", Headers([("Host", "a:443")])))
        events = c.receiveData(b"HTTP/1.1 200 Connection established\r\n\r\n\x16\x03\x01")
        self.assertEqual(kinds(events), ["Response"])
        self.assertEqual(c.receiveData(b"more"), [])

    def test_closedEvent(self) -> None:
        """
        EOF after a response that closed gives L{ConnectionClosed} once.
        """
        events, c = self.exchange(
            b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
        )
        self.assertEqual(c.receiveData(b""), [ConnectionClosed()])
        self.assertEqual(c.receiveData(b""), [])


class DocsTests(SynchronousTestCase):
    """
    The embedding example of C{docs/http-messages.rst}.
    """

    def test_embeddingExample(self) -> None:
        """
        The example runs and prints what the page says it prints.
        """
        page = docsPage("http-messages.rst")
        code = embeddingExample(page)
        if code is None:
            raise SkipTest(f"{page} is not here (no source checkout)")
        with open(page, encoding="utf-8") as f:
            text = f.read()
        shown = text.split("It prints (each line of the messages ends with CRLF)::\n\n", 1)[1]
        expected = []
        for line in shown.split("\n"):
            if line and not line.startswith("    "):
                break
            expected.append(line[4:])
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(code, page, "exec"), {"__name__": "example"})
        printed = out.getvalue()
        self.assertIn("\r\n", printed)
        self.assertEqual(printed.replace("\r\n", "\n"), "\n".join(expected).rstrip("\n") + "\n")
