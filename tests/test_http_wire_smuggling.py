"""
A catalogue of request-smuggling shapes (CL.TE, TE.CL, TE.TE obfuscations,
Content-Length tricks, bare CR/LF line ends, chunk-line tricks, obs-fold,
Host and version tricks), each fed to L{netref.http.wire.ServerConnection}:
each must raise L{HTTPError} with the exact status, whether it arrives at
once or a byte at a time, and nothing after it may be parsed (a request
placed behind it never appears).
"""

from __future__ import annotations

from collections.abc import Callable

from twisted.trial.unittest import SynchronousTestCase

from netref.http.wire import HTTPError, Limits, Request, ServerConnection

#: A valid request put behind every payload: it must never be parsed.
SMUGGLED = b"GET /smuggled HTTP/1.1\r\nHost: victim\r\n\r\n"

_GET = b"GET / HTTP/1.1\r\nHost: example.com\r\n"
_POST = b"POST /upload HTTP/1.1\r\nHost: example.com\r\n"

#: (name, payload, status).  The names say what each shape is.
CASES: list[tuple[str, bytes, int]] = [
    # CL.TE and TE.CL: both framings at once (RFC 9112 section 6.3).
    ("cl_te", _POST + b"Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nX", 400),
    (
        "te_cl",
        _POST
        + b"Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n8\r\nSMUGGLED\r\n0\r\n\r\n",
        400,
    ),
    (
        "te_cl_zero",
        _POST + b"Transfer-Encoding: chunked\r\nContent-Length: 0\r\n\r\n0\r\n\r\n",
        400,
    ),
    # TE.TE: obfuscated Transfer-Encoding (section 6.1).
    ("te_xchunked", _POST + b"Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n", 501),
    ("te_chunkedx", _POST + b"Transfer-Encoding: chunkedx\r\n\r\n0\r\n\r\n", 501),
    ("te_space_before_colon", _POST + b"Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n", 400),
    ("te_tab_before_colon", _POST + b"Transfer-Encoding\t: chunked\r\n\r\n0\r\n\r\n", 400),
    (
        "te_chunked_then_x",
        _POST + b"Transfer-Encoding: chunked\r\nTransfer-Encoding: x\r\n\r\n0\r\n\r\n",
        501,
    ),
    (
        "te_x_then_chunked",
        _POST + b"Transfer-Encoding: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        501,
    ),
    ("te_chunked_chunked", _POST + b"Transfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n", 501),
    ("te_identity", _POST + b"Transfer-Encoding: identity\r\n\r\n0\r\n\r\n", 501),
    ("te_gzip", _POST + b"Transfer-Encoding: gzip\r\n\r\n0\r\n\r\n", 501),
    ("te_gzip_chunked", _POST + b"Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 501),
    ("te_quoted", _POST + b'Transfer-Encoding: "chunked"\r\n\r\n0\r\n\r\n', 501),
    ("te_parameter", _POST + b"Transfer-Encoding: chunked;q=1\r\n\r\n0\r\n\r\n", 501),
    ("te_vertical_tab", _POST + b"Transfer-Encoding: \x0bchunked\r\n\r\n0\r\n\r\n", 400),
    ("te_form_feed", _POST + b"Transfer-Encoding:\x0cchunked\r\n\r\n0\r\n\r\n", 400),
    ("te_nul", _POST + b"Transfer-Encoding: chunked\x00\r\n\r\n0\r\n\r\n", 400),
    ("te_obs_fold", _POST + b"Transfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n", 400),
    ("te_obs_fold_tab", _POST + b"X: y\r\n\tTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
    ("te_empty", _POST + b"Transfer-Encoding: \r\n\r\n0\r\n\r\n", 400),
    ("te_http10", b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
    (
        "te_leading_whitespace_line",
        b"POST / HTTP/1.1\r\n Transfer-Encoding: chunked\r\nHost: a\r\n\r\n0\r\n\r\n",
        400,
    ),
    # Content-Length that is not exactly 1*DIGIT, or repeated (RFC 9110
    # section 8.6, RFC 9112 section 6.3).
    ("cl_plus", _POST + b"Content-Length: +1\r\n\r\nX", 400),
    ("cl_minus", _POST + b"Content-Length: -1\r\n\r\nX", 400),
    ("cl_hex", _POST + b"Content-Length: 0x1\r\n\r\nX", 400),
    ("cl_hex_10", _POST + b"Content-Length: 0x10\r\n\r\nX", 400),
    ("cl_inner_space", _POST + b"Content-Length: 1 2\r\n\r\nX", 400),
    ("cl_list_same", _POST + b"Content-Length: 1,1\r\n\r\nX", 400),
    ("cl_list_spaced", _POST + b"Content-Length: 1, 1\r\n\r\nX", 400),
    ("cl_list_different", _POST + b"Content-Length: 1, 2\r\n\r\nXY", 400),
    ("cl_empty", _POST + b"Content-Length: \r\n\r\nX", 400),
    ("cl_decimal", _POST + b"Content-Length: 1.0\r\n\r\nX", 400),
    ("cl_duplicate_same", _POST + b"Content-Length: 1\r\nContent-Length: 1\r\n\r\nX", 400),
    ("cl_duplicate_different", _POST + b"Content-Length: 1\r\nContent-Length: 2\r\n\r\nXY", 400),
    ("cl_space_before_colon", _POST + b"Content-Length : 1\r\n\r\nX", 400),
    ("cl_huge", _POST + b"Content-Length: 99999999999999999999999999\r\n\r\nX", 413),
    ("cl_over_limit", _POST + b"Content-Length: 10485761\r\n\r\nX", 413),
    # Bare LF or CR where CRLF is required (RFC 9112 section 2.2).
    ("bare_lf_request_line", b"GET / HTTP/1.1\nHost: a\r\n\r\n", 400),
    ("bare_lf_everywhere", b"GET / HTTP/1.1\nHost: a\n\n", 400),
    ("bare_lf_between_fields", b"GET / HTTP/1.1\r\nHost: a\nContent-Length: 5\r\n\r\nXXXXX", 400),
    ("bare_lf_end_of_head", b"GET / HTTP/1.1\r\nHost: a\r\n\n", 400),
    ("bare_cr_request_line", b"GET / HTTP/1.1\rHost: a\r\n\r\n", 400),
    ("bare_cr_between_fields", b"GET / HTTP/1.1\r\nHost: a\rContent-Length: 5\r\n\r\nXXXXX", 400),
    ("bare_cr_in_value", b"GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n", 400),
    ("bare_lf_in_value", b"GET / HTTP/1.1\r\nHost: a\r\nX: a\nb\r\n\r\n", 400),
    # Chunk lines (RFC 9112 section 7.1).
    ("chunk_bare_lf_size", _POST + b"Transfer-Encoding: chunked\r\n\r\n3\nabc\r\n0\r\n\r\n", 400),
    ("chunk_bare_cr_size", _POST + b"Transfer-Encoding: chunked\r\n\r\n3\rabc\r\n0\r\n\r\n", 400),
    (
        "chunk_bare_lf_after_data",
        _POST + b"Transfer-Encoding: chunked\r\n\r\n3\r\nabc\n0\r\n\r\n",
        400,
    ),
    (
        "chunk_data_overrun",
        _POST + b"Transfer-Encoding: chunked\r\n\r\n3\r\nabcd\r\n0\r\n\r\n",
        400,
    ),
    ("chunk_data_short", _POST + b"Transfer-Encoding: chunked\r\n\r\n5\r\nabc\r\n0\r\n\r\n", 400),
    (
        "chunk_cr_in_extension",
        _POST + b"Transfer-Encoding: chunked\r\n\r\n3;a=\rb\r\nabc\r\n0\r\n\r\n",
        400,
    ),
    (
        "chunk_lf_in_extension",
        _POST + b"Transfer-Encoding: chunked\r\n\r\n3;a=\nb\r\nabc\r\n0\r\n\r\n",
        400,
    ),
    ("chunk_size_0x", _POST + b"Transfer-Encoding: chunked\r\n\r\n0x3\r\nabc\r\n0\r\n\r\n", 400),
    (
        "chunk_size_negative",
        _POST + b"Transfer-Encoding: chunked\r\n\r\n-3\r\nabc\r\n0\r\n\r\n",
        400,
    ),
    ("chunk_size_plus", _POST + b"Transfer-Encoding: chunked\r\n\r\n+3\r\nabc\r\n0\r\n\r\n", 400),
    (
        "chunk_size_leading_space",
        _POST + b"Transfer-Encoding: chunked\r\n\r\n 3\r\nabc\r\n0\r\n\r\n",
        400,
    ),
    (
        "chunk_size_trailing_space",
        _POST + b"Transfer-Encoding: chunked\r\n\r\n3 \r\nabc\r\n0\r\n\r\n",
        400,
    ),
    ("chunk_size_empty", _POST + b"Transfer-Encoding: chunked\r\n\r\n\r\nabc\r\n0\r\n\r\n", 400),
    (
        "chunk_size_17_digits",
        _POST + b"Transfer-Encoding: chunked\r\n\r\n10000000000000003\r\nabc\r\n0\r\n\r\n",
        400,
    ),
    (
        "chunk_size_over_limit",
        _POST + b"Transfer-Encoding: chunked\r\n\r\nffffffff\r\nabc\r\n0\r\n\r\n",
        413,
    ),
    ("chunk_last_bare_lf", _POST + b"Transfer-Encoding: chunked\r\n\r\n0\n\r\n", 400),
    ("chunk_trailer_bare_lf", _POST + b"Transfer-Encoding: chunked\r\n\r\n0\r\nX: y\n\r\n", 400),
    (
        "chunk_trailer_obs_fold",
        _POST + b"Transfer-Encoding: chunked\r\n\r\n0\r\nX: y\r\n z\r\n\r\n",
        400,
    ),
    # Field lines (RFC 9112 section 5, RFC 9110 section 5.5).
    ("obs_fold", _GET + b"X: a\r\n b\r\n\r\n", 400),
    ("nul_in_value", _GET + b"X: a\x00b\r\n\r\n", 400),
    ("del_in_value", _GET + b"X: a\x7fb\r\n\r\n", 400),
    ("field_without_colon", _GET + b"Content-Length 5\r\n\r\nXXXXX", 400),
    ("field_name_not_token", _GET + b"Content/Length: 5\r\n\r\nXXXXX", 400),
    ("field_name_empty", _GET + b": 5\r\n\r\n", 400),
    # Host (RFC 9112 section 3.2).
    ("host_missing", b"GET / HTTP/1.1\r\nX: y\r\n\r\n", 400),
    ("host_duplicate", b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
    ("host_duplicate_http10", b"GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n", 400),
    ("host_space_before_colon", b"GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400),
    ("host_with_path", b"GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400),
    ("host_with_userinfo", b"GET / HTTP/1.1\r\nHost: user@a\r\n\r\n", 400),
    ("host_with_space", b"GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400),
    # Request lines and versions (RFC 9112 sections 2.3, 3).
    ("http2_version", b"GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505),
    ("http2_preface", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505),
    ("http09_version", b"GET / HTTP/0.9\r\nHost: a\r\n\r\n", 505),
    ("http09_simple_request", b"GET /\r\n\r\n", 400),
    ("version_lowercase", b"GET / http/1.1\r\nHost: a\r\n\r\n", 400),
    ("version_two_digits", b"GET / HTTP/1.10\r\nHost: a\r\n\r\n", 400),
    ("version_trailing_space", b"GET / HTTP/1.1 \r\nHost: a\r\n\r\n", 400),
    ("request_line_double_space", b"GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400),
    ("request_line_tab", b"GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n", 400),
    ("target_with_space", b"GET /a b HTTP/1.1\r\nHost: a\r\n\r\n", 400),
    ("target_with_nul", b"GET /a\x00 HTTP/1.1\r\nHost: a\r\n\r\n", 400),
    ("target_not_ascii", b"GET /\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n", 400),
    ("target_relative", b"GET a HTTP/1.1\r\nHost: a\r\n\r\n", 400),
    ("target_asterisk_get", b"GET * HTTP/1.1\r\nHost: a\r\n\r\n", 400),
    ("target_connect_origin_form", b"CONNECT / HTTP/1.1\r\nHost: a\r\n\r\n", 400),
    ("method_not_token", b"G(ET / HTTP/1.1\r\nHost: a\r\n\r\n", 400),
]


def _error(connection: ServerConnection, pieces: list[bytes]) -> HTTPError | None:
    """
    Feed C{pieces} and return the error raised, checking that no request
    behind the payload was ever parsed.
    """
    seen: list[object] = []
    for piece in pieces:
        try:
            seen.extend(connection.receiveData(piece))
        except HTTPError as e:
            seen.extend(e.events)
            for event in seen:
                assert not (isinstance(event, Request) and event.target == b"/smuggled")
            return e
    return None


class SmugglingCatalogueTests(SynchronousTestCase):
    """
    Every shape of the catalogue, at once and a byte at a time.
    """

    def test_catalogueIsLarge(self) -> None:
        """
        The catalogue has at least 40 named shapes, with distinct names.
        """
        names = [name for name, _, _ in CASES]
        self.assertGreaterEqual(len(names), 40)
        self.assertEqual(len(names), len(set(names)))

    def check(self, payload: bytes, status: int) -> None:
        connection = ServerConnection()
        error = _error(connection, [payload + SMUGGLED])
        self.assertIsNotNone(error, "no error raised")
        assert error is not None
        self.assertEqual(error.status, status, error.reason)
        # The connection is dead: a further, valid request is not parsed.
        self.assertEqual(connection.receiveData(SMUGGLED), [])
        self.assertFalse(connection.keepAlive)
        # Byte by byte, the same answer.
        slow = ServerConnection()
        error = _error(slow, [bytes([b]) for b in payload + SMUGGLED])
        self.assertIsNotNone(error, "no error raised byte by byte")
        assert error is not None
        self.assertEqual(error.status, status, "byte by byte: " + error.reason)


def _makeTest(payload: bytes, status: int) -> Callable[[SmugglingCatalogueTests], None]:
    def test(self: SmugglingCatalogueTests) -> None:
        self.check(payload, status)

    test.__doc__ = f"C{{{payload[:60]!r}}} is refused with {status}."
    return test


for _name, _payload, _status in CASES:
    setattr(SmugglingCatalogueTests, "test_" + _name, _makeTest(_payload, _status))


class SmallLimitsTests(SynchronousTestCase):
    """
    Shapes that rely on sizes, refused by the limits.
    """

    def test_longChunkLine(self) -> None:
        """
        A chunk-size line padded with extensions past C{maxChunkLine} is
        refused (400) before its end arrives.
        """
        connection = ServerConnection(Limits(maxChunkLine=64))
        connection.receiveData(_POST + b"Transfer-Encoding: chunked\r\n\r\n")
        with self.assertRaises(HTTPError) as caught:
            connection.receiveData(b"3" + b";a=b" * 40)
        self.assertEqual(caught.exception.status, 400)

    def test_pipelinedAfterClose(self) -> None:
        """
        Bytes after a request with C{Connection: close} are not parsed, even
        a whole valid request.
        """
        connection = ServerConnection()
        events = connection.receiveData(_GET + b"Connection: close\r\n\r\n" + SMUGGLED)
        self.assertEqual([type(e).__name__ for e in events], ["Request", "EndOfMessage"])
        self.assertEqual(connection.receiveData(SMUGGLED), [])
