"""
Tests for L{netref.http.static} and L{netref.http.mediatypes}.

The handler is called directly with L{HTTPRequest} objects, as the server
would call it; the loopback tests at the end put it behind a real
L{HTTPFactory} and fetch with curl.
"""

from __future__ import annotations

import builtins
import errno
import os
import re
import shutil
import time
from collections.abc import Sequence

from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.internet import defer, reactor
from twisted.internet.utils import getProcessOutputAndValue
from twisted.trial.unittest import SkipTest, SynchronousTestCase, TestCase

from netref.http import static
from netref.http.conditional import formatHTTPDate
from netref.http.handler import FileBody, HTTPRequest, HTTPResponse
from netref.http.mediatypes import DEFAULT_TYPE, mediaTypeFor
from netref.http.server import splitTarget
from netref.http.static import SMALL_FILE, StaticFiles
from netref.http.wire import Headers


def makeRequest(
    method: str,
    target: str,
    headers: Sequence[tuple[str, str]] = (),
    body: bytes = b"",
) -> HTTPRequest:
    """
    A request as the server hands it to a handler.
    """
    try:
        path, query = splitTarget(target)
    except Exception:
        # The server answers 400 before a handler sees such a target; the
        # handler must refuse it on its own too.
        path, query = target, ""
    return HTTPRequest(
        method=method,
        target=target,
        path=path,
        query=query,
        version="HTTP/1.1",
        headers=Headers(list(headers)),
        body=body,
        client=None,
        secure=False,
    )


def bodyBytes(response: HTTPResponse) -> bytes:
    """
    The body a response stands for, with file parts read from disk.
    """
    body = response.body

    def read(part: bytes | FileBody) -> bytes:
        if isinstance(part, bytes):
            return part
        with open(part.path, "rb") as f:
            f.seek(part.offset)
            return f.read() if part.length is None else f.read(part.length)

    if isinstance(body, (bytes, FileBody)):
        return read(body)
    return b"".join(read(part) for part in body)


def header(response: HTTPResponse, name: str) -> str | None:
    value = response.headers.get(name)
    return None if value is None else value.decode("latin-1")


class MediaTypeTests(TestCase):
    """
    L{mediaTypeFor} answers from netref's own table.
    """

    def test_knownTypes(self) -> None:
        expected = {
            "a.html": "text/html; charset=utf-8",
            "style.css": "text/css; charset=utf-8",
            "app.js": "text/javascript; charset=utf-8",
            "x.json": "application/json",
            "notes.txt": "text/plain; charset=utf-8",
            "pic01.jpg": "image/jpeg",
            "PIC.JPEG": "image/jpeg",
            "p.png": "image/png",
            "g.gif": "image/gif",
            "i.svg": "image/svg+xml",
            "favicon.ico": "image/vnd.microsoft.icon",
            "paper.pdf": "application/pdf",
            "movie.mp4": "video/mp4",
            "seg-1.m4s": "video/iso.segment",
            "manifest.mpd": "application/dash+xml",
            "feed.xml": "application/xml",
            "m.wasm": "application/wasm",
            "a.zip": "application/zip",
            "a.tar.gz": "application/gzip",
            "home.index": "text/html; charset=utf-8",
        }
        for name, mediaType in expected.items():
            self.assertEqual(mediaTypeFor(name), mediaType, name)

    def test_unknownAndMissing(self) -> None:
        """
        No extension, an unknown one, or a dot-file name: octet-stream.
        """
        for name in ("README", "a.unknownext", ".profile", "dir.d/README"):
            self.assertEqual(mediaTypeFor(name), DEFAULT_TYPE, name)

    def test_ownTable(self) -> None:
        self.assertEqual(mediaTypeFor("a.foo", {"foo": "text/x-foo"}), "text/x-foo")


class StaticTestCase(TestCase):
    """
    A root directory with a few files.
    """

    def setUp(self) -> None:
        self.root = os.path.abspath(self.mktemp())
        os.makedirs(os.path.join(self.root, "sub", "deeper"))
        os.makedirs(os.path.join(self.root, "withindex"))
        os.makedirs(os.path.join(self.root, ".git"))
        self.write("hello.txt", b"Hello, world!\n")
        self.write("page.html", b"<p>page</p>")
        self.write("sub/pic.jpg", b"\xff\xd8\xff" + b"x" * 100)
        self.write("withindex/index.html", b"<h1>index</h1>")
        self.write(".git/config", b"secret")
        self.write(".hidden", b"secret")
        self.digits = bytes(range(48, 58)) * 100  # 1000 bytes
        self.write("digits.bin", self.digits)
        self.handler = StaticFiles(self.root)

    def write(self, name: str, data: bytes) -> str:
        path = os.path.join(self.root, name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def get(self, target: str, *headers: tuple[str, str], method: str = "GET") -> HTTPResponse:
        response = self.handler.handle(makeRequest(method, target, headers))
        assert isinstance(response, HTTPResponse)
        return response


class FileTests(StaticTestCase):
    """
    Files, directories and their headers.
    """

    def test_file(self) -> None:
        response = self.get("/hello.txt")
        self.assertEqual(response.status, 200)
        self.assertEqual(bodyBytes(response), b"Hello, world!\n")
        self.assertEqual(header(response, "Content-Type"), "text/plain; charset=utf-8")
        self.assertEqual(header(response, "Accept-Ranges"), "bytes")

    def test_contentTypeByExtension(self) -> None:
        self.assertEqual(
            header(self.get("/page.html"), "Content-Type"), "text/html; charset=utf-8"
        )
        self.assertEqual(header(self.get("/sub/pic.jpg"), "Content-Type"), "image/jpeg")
        self.assertEqual(header(self.get("/digits.bin"), "Content-Type"), DEFAULT_TYPE)

    def test_validators(self) -> None:
        """
        A strong ETag from inode, size and mtime_ns, and Last-Modified
        from the modification time (RFC 9110 section 8.8).
        """
        path = os.path.join(self.root, "hello.txt")
        os.utime(path, ns=(1_600_000_000_123_456_789, 1_600_000_000_123_456_789))
        st = os.stat(path)
        response = self.get("/hello.txt")
        self.assertEqual(
            header(response, "ETag"), f'"{st.st_ino:x}-{st.st_size:x}-{st.st_mtime_ns:x}"'
        )
        self.assertEqual(header(response, "Last-Modified"), "Sun, 13 Sep 2020 12:26:40 GMT")

    def test_changedFileNewValidators(self) -> None:
        """
        The small-file cache revalidates: a changed file is served anew
        with a new ETag.
        """
        first = self.get("/hello.txt")
        self.write("hello.txt", b"Changed, and longer.\n")
        second = self.get("/hello.txt")
        self.assertEqual(bodyBytes(second), b"Changed, and longer.\n")
        self.assertNotEqual(header(first, "ETag"), header(second, "ETag"))

    def test_smallFileFromMemory(self) -> None:
        """
        A small file is answered as bytes from the cache.
        """
        first = self.get("/hello.txt")
        second = self.get("/hello.txt")
        self.assertIsInstance(second.body, bytes)
        self.assertIs(first.body, second.body)

    def test_largeFileStreamed(self) -> None:
        """
        A file larger than L{SMALL_FILE} becomes a L{FileBody}: the handler
        never reads it.
        """
        big = self.write("big.mp4", b"v" * (SMALL_FILE + 1))
        opened: list[str] = []
        realOpen = open

        def spyOpen(file: str, *args: object, **kwargs: object) -> object:
            opened.append(file)
            return realOpen(file, *args, **kwargs)  # type: ignore[call-overload]

        self.patch(builtins, "open", spyOpen)
        response = self.get("/big.mp4")
        self.assertEqual(response.status, 200)
        self.assertEqual(response.body, FileBody(big, 0, SMALL_FILE + 1))
        self.assertEqual(header(response, "Content-Type"), "video/mp4")
        self.assertEqual(opened, [])
        self.get("/hello.txt")
        self.assertEqual(opened, [os.path.join(os.path.abspath(self.root), "hello.txt")])

    def test_missing(self) -> None:
        self.assertEqual(self.get("/nothere.txt").status, 404)
        self.assertEqual(self.get("/hello.txt/more").status, 404)
        self.assertEqual(self.get("/hello.txt/").status, 404)

    def test_notRegularFile(self) -> None:
        """
        A named pipe would block a reader: it is not served.
        """
        os.mkfifo(os.path.join(self.root, "pipe.txt"))
        self.assertEqual(self.get("/pipe.txt").status, 404)

    def test_unreadable(self) -> None:
        if os.getuid() == 0:
            raise SkipTest("root reads every file")
        os.chmod(self.write("locked.txt", b"x"), 0)
        self.assertEqual(self.get("/locked.txt").status, 403)

    def test_head(self) -> None:
        """
        HEAD gets the same fields as GET (the wire layer drops the body).
        """
        get = self.get("/hello.txt")
        head = self.get("/hello.txt", method="HEAD")
        self.assertEqual(head.status, 200)
        self.assertEqual(list(head.headers), list(get.headers))

    def test_percentEncodedNames(self) -> None:
        self.write("a b#c.txt", b"spaces")
        self.write("caf\u00e9.txt", b"accent")
        self.assertEqual(bodyBytes(self.get("/a%20b%23c.txt")), b"spaces")
        self.assertEqual(bodyBytes(self.get("/caf%C3%A9.txt")), b"accent")
        # Raw UTF-8 octets, as the server passes them (latin-1 decoded).
        raw = "/caf\u00e9.txt".encode().decode("latin-1")
        self.assertEqual(bodyBytes(self.get(raw)), b"accent")

    def test_queryIgnored(self) -> None:
        self.assertEqual(bodyBytes(self.get("/hello.txt?x=1")), b"Hello, world!\n")

    def test_absoluteForm(self) -> None:
        self.assertEqual(bodyBytes(self.get("http://example.com/hello.txt")), b"Hello, world!\n")

    def test_prefix(self) -> None:
        """
        Routed at a prefix, the handler maps the rest of the path.
        """
        self.handler = StaticFiles(self.root, prefix="/files")
        self.assertEqual(bodyBytes(self.get("/files/hello.txt")), b"Hello, world!\n")
        self.assertEqual(self.get("/hello.txt").status, 404)
        response = self.get("/files/sub")
        self.assertEqual(header(response, "Location"), "/files/sub/")

    def test_allowedMethods(self) -> None:
        self.assertEqual(tuple(StaticFiles(self.root).allowedMethods), ("GET", "HEAD"))
        self.assertEqual(
            tuple(StaticFiles(self.root, writable=True).allowedMethods),
            ("GET", "HEAD", "PUT", "DELETE"),
        )


class DirectoryTests(StaticTestCase):
    """
    Directories: index files, the trailing-slash redirect, listings.
    """

    def test_index(self) -> None:
        response = self.get("/withindex/")
        self.assertEqual(response.status, 200)
        self.assertEqual(bodyBytes(response), b"<h1>index</h1>")
        self.assertEqual(header(response, "Content-Type"), "text/html; charset=utf-8")

    def test_indexNames(self) -> None:
        self.write("sub/home.index", b"<p>home</p>")
        self.handler = StaticFiles(self.root, indexNames=("index.html", "home.index"))
        self.assertEqual(bodyBytes(self.get("/sub/")), b"<p>home</p>")

    def test_redirectToSlash(self) -> None:
        """
        A directory without its slash: 301 to the path with it, so relative
        links resolve; the query is kept.
        """
        response = self.get("/withindex")
        self.assertEqual(response.status, 301)
        self.assertEqual(header(response, "Location"), "/withindex/")
        response = self.get("/sub/deeper?x=1")
        self.assertEqual(header(response, "Location"), "/sub/deeper/?x=1")
        os.mkdir(os.path.join(self.root, "caf\u00e9"))
        response = self.get("/caf%C3%A9")
        self.assertEqual(header(response, "Location"), "/caf%C3%A9/")

    def test_listing(self) -> None:
        response = self.get("/sub/")
        self.assertEqual(response.status, 200)
        page = bodyBytes(response).decode()
        self.assertIn('<a href="deeper/">deeper/</a>', page)
        self.assertIn('<a href="pic.jpg">pic.jpg</a>', page)
        self.assertIn('<a href="../">../</a>', page)
        self.assertIn("<title>Index of /sub/</title>", page)

    def test_listingEscapes(self) -> None:
        """
        Names are HTML-escaped in text and percent-encoded in links.
        """
        self.write('<script>alert("x")<\\script>&#?.txt', b"")
        page = bodyBytes(self.get("/")).decode()
        self.assertNotIn("<script>", page)
        self.assertIn("&lt;script&gt;alert(&quot;x&quot;)&lt;\\script&gt;&amp;#?.txt</a>", page)
        self.assertIn('href="%3Cscript%3Ealert%28%22x%22%29%3C%5Cscript%3E%26%23%3F.txt"', page)

    def test_listingHidesHidden(self) -> None:
        page = bodyBytes(self.get("/")).decode()
        self.assertNotIn(".git", page)
        self.assertNotIn(".hidden", page)
        self.assertIn("hello.txt", page)

    def test_noListing(self) -> None:
        self.handler = StaticFiles(self.root, listDirectories=False)
        self.assertEqual(self.get("/sub/").status, 403)
        self.assertEqual(self.get("/withindex/").status, 200)


class ConfinementTests(StaticTestCase):
    """
    No request reaches outside the root: every attempt gets 404, as a
    missing file does.
    """

    def setUp(self) -> None:
        super().setUp()
        self.outside = os.path.abspath(self.mktemp())
        os.makedirs(self.outside)
        with open(os.path.join(self.outside, "secret.txt"), "wb") as f:
            f.write(b"secret")
        # The root's parent holds a file too.
        self.sibling = os.path.join(os.path.dirname(os.path.abspath(self.root)), "s.txt")

    def assertRefused(self, target: str, method: str = "GET") -> None:
        response = self.get(target, method=method)
        self.assertEqual(response.status, 404, target)
        self.assertNotIn(b"secret", bodyBytes(response), target)

    def test_dotDot(self) -> None:
        for target in (
            "/../secret.txt",
            "/sub/../../secret.txt",
            "/%2e%2e/secret.txt",
            "/%2E%2E/%2e%2e/etc/passwd",
            "/sub/%2e%2e/hello.txt",
            "/./hello.txt",
            "/sub/%2e/pic.jpg",
        ):
            self.assertRefused(target)

    def test_encodedSlash(self) -> None:
        """
        C{%2f} inside a segment is data (RFC 3986 section 2.2), and a name
        cannot hold a slash: refused.
        """
        self.assertRefused("/sub%2fpic.jpg")
        self.assertRefused("/..%2f..%2fetc%2fpasswd")

    def test_backslashAndNul(self) -> None:
        self.assertRefused("/sub\\pic.jpg")
        self.assertRefused("/sub%5cpic.jpg")
        self.assertRefused("/..%5c..%5csecret.txt")
        self.assertRefused("/hello.txt%00.jpg")

    def test_absolutePaths(self) -> None:
        self.assertRefused("//etc/passwd")
        self.assertRefused("/%2fetc%2fpasswd")
        self.assertRefused("etc/passwd")
        self.assertRefused("*")

    def test_symlinkOut(self) -> None:
        """
        A link to a file or directory outside the root is refused (its real
        path is checked); a link that stays inside is served.
        """
        os.symlink(os.path.join(self.outside, "secret.txt"), os.path.join(self.root, "out.txt"))
        os.symlink(self.outside, os.path.join(self.root, "outdir"))
        os.symlink("hello.txt", os.path.join(self.root, "in.txt"))
        self.assertRefused("/out.txt")
        self.assertRefused("/outdir/secret.txt")
        self.assertRefused("/outdir/")
        self.assertRefused("/outdir")
        self.assertEqual(bodyBytes(self.get("/in.txt")), b"Hello, world!\n")

    def test_symlinkSwappedAfterCaching(self) -> None:
        """
        A file served (and cached) once, then replaced by a link to
        outside: the cache's identity check notices, and the link is
        refused.
        """
        self.assertEqual(self.get("/hello.txt").status, 200)
        os.unlink(os.path.join(self.root, "hello.txt"))
        os.symlink(os.path.join(self.outside, "secret.txt"), os.path.join(self.root, "hello.txt"))
        self.assertRefused("/hello.txt")

    def test_hidden(self) -> None:
        self.assertRefused("/.hidden")
        self.assertRefused("/.git/config")
        self.assertRefused("/%2egit/config")
        os.makedirs(os.path.join(self.root, ".well-known"))
        self.write(".well-known/security.txt", b"Contact: x")
        self.assertEqual(bodyBytes(self.get("/.well-known/security.txt")), b"Contact: x")

    def test_writesConfined(self) -> None:
        self.handler = StaticFiles(self.root, writable=True)
        os.symlink(self.outside, os.path.join(self.root, "outdir"))
        os.symlink(os.path.join(self.outside, "new.txt"), os.path.join(self.root, "dangling"))
        for target in ("/../x.txt", "/outdir/x.txt", "/%2e%2e/x.txt", "/dangling", "/.htaccess"):
            response = self.handler.handle(makeRequest("PUT", target, body=b"written"))
            assert isinstance(response, HTTPResponse)
            self.assertEqual(response.status, 404, target)
        self.assertEqual(sorted(os.listdir(self.outside)), ["secret.txt"])
        response = self.handler.handle(makeRequest("DELETE", "/outdir/secret.txt"))
        assert isinstance(response, HTTPResponse)
        self.assertEqual(response.status, 404)
        self.assertTrue(os.path.exists(os.path.join(self.outside, "secret.txt")))


class ConfinementPropertyTests(SynchronousTestCase):
    """
    Whatever the target, the handler answers without an exception and
    never with a file from outside the root.
    """

    def setUp(self) -> None:
        base = os.path.abspath(self.mktemp())
        self.root = os.path.join(base, "root")
        os.makedirs(os.path.join(self.root, "sub"))
        with open(os.path.join(self.root, "sub", "in.txt"), "wb") as f:
            f.write(b"inside")
        with open(os.path.join(base, "secret.txt"), "wb") as f:
            f.write(b"SECRET")
        os.symlink(base, os.path.join(self.root, "up"))
        self.handler = StaticFiles(self.root)

    @settings(max_examples=300, deadline=None)
    @given(
        st.lists(
            st.sampled_from(
                [
                    "..",
                    ".",
                    "%2e%2e",
                    "%2E.",
                    "%2f",
                    "%5c",
                    "\\",
                    "sub",
                    "in.txt",
                    "up",
                    "secret.txt",
                    "",
                    "%00",
                    "%",
                    "%zz",
                    "%c3%28",
                    "\u00e9",
                    "?",
                    "#",
                ]
            ),
            max_size=8,
        ),
        st.booleans(),
    )
    def test_neverEscapes(self, segments: list[str], slash: bool) -> None:
        target = "/" + "/".join(segments) + ("/" if slash else "")
        response = self.handler.handle(makeRequest("GET", target))
        assert isinstance(response, HTTPResponse)
        self.assertIn(response.status, (200, 301, 403, 404), target)
        self.assertNotIn(b"SECRET", bodyBytes(response), target)


class ConditionalTests(StaticTestCase):
    """
    Conditional GET (RFC 9110 section 13) through the handler.
    """

    def setUp(self) -> None:
        super().setUp()
        os.utime(os.path.join(self.root, "hello.txt"), (1_600_000_000, 1_600_000_000))
        first = self.get("/hello.txt")
        self.etag = header(first, "ETag")
        self.lastModified = header(first, "Last-Modified")

    def test_ifNoneMatch304(self) -> None:
        """
        The textbook's conditional GET: 304, the validators, no body.
        """
        assert self.etag is not None
        response = self.get("/hello.txt", ("If-None-Match", self.etag))
        self.assertEqual(response.status, 304)
        self.assertEqual(response.body, b"")
        self.assertEqual(header(response, "ETag"), self.etag)
        self.assertEqual(header(response, "Last-Modified"), self.lastModified)
        self.assertIsNone(header(response, "Content-Type"))

    def test_ifNoneMatchOther(self) -> None:
        response = self.get("/hello.txt", ("If-None-Match", '"other", W/"x"'))
        self.assertEqual(response.status, 200)
        self.assertEqual(bodyBytes(response), b"Hello, world!\n")

    def test_ifModifiedSince(self) -> None:
        assert self.lastModified is not None
        self.assertEqual(
            self.get("/hello.txt", ("If-Modified-Since", self.lastModified)).status, 304
        )
        earlier = formatHTTPDate(1_600_000_000 - 1)
        self.assertEqual(self.get("/hello.txt", ("If-Modified-Since", earlier)).status, 200)

    def test_ifModifiedSinceLosesToIfNoneMatch(self) -> None:
        """
        If-None-Match takes precedence: a non-matching tag means 200 even
        with a date that would have given 304 (section 13.1.3).
        """
        assert self.lastModified is not None
        response = self.get(
            "/hello.txt",
            ("If-None-Match", '"other"'),
            ("If-Modified-Since", self.lastModified),
        )
        self.assertEqual(response.status, 200)

    def test_ifMatch412(self) -> None:
        assert self.etag is not None
        self.assertEqual(self.get("/hello.txt", ("If-Match", '"other"')).status, 412)
        self.assertEqual(self.get("/hello.txt", ("If-Match", self.etag)).status, 200)

    def test_ifUnmodifiedSince412(self) -> None:
        earlier = formatHTTPDate(1_600_000_000 - 1)
        self.assertEqual(self.get("/hello.txt", ("If-Unmodified-Since", earlier)).status, 412)

    def test_headConditional(self) -> None:
        assert self.etag is not None
        response = self.get("/hello.txt", ("If-None-Match", self.etag), method="HEAD")
        self.assertEqual(response.status, 304)

    def test_largeFile304(self) -> None:
        self.write("big.bin", b"b" * (SMALL_FILE + 10))
        etag = header(self.get("/big.bin"), "ETag")
        assert etag is not None
        response = self.get("/big.bin", ("If-None-Match", etag))
        self.assertEqual(response.status, 304)
        self.assertEqual(response.body, b"")


class RangeTests(StaticTestCase):
    """
    Range requests (RFC 9110 section 14) through the handler.
    """

    def test_single(self) -> None:
        response = self.get("/digits.bin", ("Range", "bytes=10-19"))
        self.assertEqual(response.status, 206)
        self.assertEqual(header(response, "Content-Range"), "bytes 10-19/1000")
        self.assertEqual(bodyBytes(response), self.digits[10:20])

    def test_suffixAndOpen(self) -> None:
        response = self.get("/digits.bin", ("Range", "bytes=-5"))
        self.assertEqual(header(response, "Content-Range"), "bytes 995-999/1000")
        self.assertEqual(bodyBytes(response), self.digits[-5:])
        response = self.get("/digits.bin", ("Range", "bytes=990-"))
        self.assertEqual(bodyBytes(response), self.digits[990:])
        response = self.get("/digits.bin", ("Range", "bytes=990-5000"))
        self.assertEqual(header(response, "Content-Range"), "bytes 990-999/1000")

    def test_multipart(self) -> None:
        """
        Several ranges: multipart/byteranges, each part with its type and
        range, parts in the order asked.
        """
        response = self.get("/digits.bin", ("Range", "bytes=500-509, 0-4"))
        self.assertEqual(response.status, 206)
        contentType = header(response, "Content-Type")
        assert contentType is not None
        match = re.fullmatch(r"multipart/byteranges; boundary=(\w+)", contentType)
        assert match is not None
        boundary = match.group(1).encode()
        self.assertIsNone(header(response, "Content-Range"))
        expected = (
            b"--" + boundary + b"\r\n"
            b"Content-Type: application/octet-stream\r\n"
            b"Content-Range: bytes 500-509/1000\r\n\r\n" + self.digits[500:510] + b"\r\n"
            b"--" + boundary + b"\r\n"
            b"Content-Type: application/octet-stream\r\n"
            b"Content-Range: bytes 0-4/1000\r\n\r\n" + self.digits[:5] + b"\r\n"
            b"--" + boundary + b"--\r\n"
        )
        self.assertEqual(bodyBytes(response), expected)
        self.assertNotIsInstance(response.body, (bytes, FileBody))

    def test_multipartLargeFileStreams(self) -> None:
        big = self.write("big.bin", bytes(range(256)) * 1000)
        response = self.get("/big.bin", ("Range", "bytes=0-9,200000-200009"))
        self.assertEqual(response.status, 206)
        assert isinstance(response.body, list)
        files = [part for part in response.body if isinstance(part, FileBody)]
        self.assertEqual(files, [FileBody(big, 0, 10), FileBody(big, 200000, 10)])

    def test_unsatisfiable(self) -> None:
        response = self.get("/digits.bin", ("Range", "bytes=1000-2000"))
        self.assertEqual(response.status, 416)
        self.assertEqual(header(response, "Content-Range"), "bytes */1000")

    def test_invalidIgnored(self) -> None:
        for value in ("bytes=20-10", "items=0-5", "bytes=abc", "bytes 0-5", "bytes=0-5;x"):
            response = self.get("/digits.bin", ("Range", value))
            self.assertEqual(response.status, 200, value)
            self.assertEqual(bodyBytes(response), self.digits, value)

    def test_tooManyRangesIgnored(self) -> None:
        value = "bytes=" + ",".join(f"{i * 50}-{i * 50}" for i in range(17))
        response = self.get("/digits.bin", ("Range", value))
        self.assertEqual(response.status, 200)

    def test_overlappingCoalesced(self) -> None:
        """
        Overlapping ranges are merged, never sent twice.
        """
        response = self.get("/digits.bin", ("Range", "bytes=0-99,50-149,0-149,10-20"))
        self.assertEqual(response.status, 206)
        self.assertEqual(header(response, "Content-Range"), "bytes 0-149/1000")
        self.assertEqual(bodyBytes(response), self.digits[:150])

    def test_ifRangeETag(self) -> None:
        etag = header(self.get("/digits.bin"), "ETag")
        assert etag is not None
        response = self.get("/digits.bin", ("Range", "bytes=0-9"), ("If-Range", etag))
        self.assertEqual(response.status, 206)
        response = self.get("/digits.bin", ("Range", "bytes=0-9"), ("If-Range", '"old"'))
        self.assertEqual(response.status, 200)
        self.assertEqual(bodyBytes(response), self.digits)
        # Weak tags never match strongly.
        response = self.get("/digits.bin", ("Range", "bytes=0-9"), ("If-Range", "W/" + etag))
        self.assertEqual(response.status, 200)

    def test_ifRangeDate(self) -> None:
        os.utime(os.path.join(self.root, "digits.bin"), (1_500_000_000, 1_500_000_000))
        date = formatHTTPDate(1_500_000_000)
        response = self.get("/digits.bin", ("Range", "bytes=0-9"), ("If-Range", date))
        self.assertEqual(response.status, 206)
        later = formatHTTPDate(1_500_000_001)
        response = self.get("/digits.bin", ("Range", "bytes=0-9"), ("If-Range", later))
        self.assertEqual(response.status, 200)

    def test_headIgnoresRange(self) -> None:
        response = self.get("/digits.bin", ("Range", "bytes=0-9"), method="HEAD")
        self.assertEqual(response.status, 200)

    def test_largeFileRange(self) -> None:
        big = self.write("big.bin", b"z" * (SMALL_FILE * 2))
        response = self.get("/big.bin", ("Range", "bytes=100-199"))
        self.assertEqual(response.body, FileBody(big, 100, 100))


class WriteTests(StaticTestCase):
    """
    PUT and DELETE on a writable tree.
    """

    def setUp(self) -> None:
        super().setUp()
        self.handler = StaticFiles(self.root, writable=True)

    def call(
        self, method: str, target: str, body: bytes = b"", *headers: tuple[str, str]
    ) -> HTTPResponse:
        response = self.handler.handle(makeRequest(method, target, headers, body))
        assert isinstance(response, HTTPResponse)
        return response

    def test_putCreates(self) -> None:
        response = self.call("PUT", "/sub/new.txt", b"new file")
        self.assertEqual(response.status, 201)
        self.assertEqual(header(response, "Location"), "/sub/new.txt")
        with open(os.path.join(self.root, "sub", "new.txt"), "rb") as f:
            self.assertEqual(f.read(), b"new file")
        self.assertEqual(header(response, "ETag"), header(self.get("/sub/new.txt"), "ETag"))

    def test_putReplaces(self) -> None:
        self.assertEqual(bodyBytes(self.get("/hello.txt")), b"Hello, world!\n")
        response = self.call("PUT", "/hello.txt", b"replaced")
        self.assertEqual(response.status, 204)
        self.assertEqual(bodyBytes(self.get("/hello.txt")), b"replaced")

    def test_putAtomic(self) -> None:
        """
        The new content goes through L{writeAtomically} (temporary file,
        fsync, rename).
        """
        calls: list[tuple[str, bytes]] = []

        def fakeWrite(path: str, data: bytes) -> None:
            calls.append((path, data))
            with open(path, "wb") as f:
                f.write(data)

        self.patch(static, "writeAtomically", fakeWrite)
        self.call("PUT", "/x.txt", b"data")
        self.assertEqual(calls, [(os.path.join(os.path.abspath(self.root), "x.txt"), b"data")])

    def test_putDirectory409(self) -> None:
        self.assertEqual(self.call("PUT", "/sub", b"x").status, 409)
        self.assertEqual(self.call("PUT", "/sub/", b"x").status, 409)
        self.assertEqual(self.call("PUT", "/", b"x").status, 409)
        self.assertTrue(os.path.isdir(os.path.join(self.root, "sub")))

    def test_putMissingParent409(self) -> None:
        self.assertEqual(self.call("PUT", "/nodir/x.txt", b"x").status, 409)
        self.assertEqual(self.call("PUT", "/hello.txt/x.txt", b"x").status, 409)

    def test_putDiskFull507(self) -> None:
        def full(path: str, data: bytes) -> None:
            raise OSError(errno.ENOSPC, "No space left on device")

        self.patch(static, "writeAtomically", full)
        self.assertEqual(self.call("PUT", "/x.txt", b"data").status, 507)

    def test_putContentRange400(self) -> None:
        response = self.call("PUT", "/hello.txt", b"x", ("Content-Range", "bytes 0-0/14"))
        self.assertEqual(response.status, 400)

    def test_putPreconditions(self) -> None:
        """
        C{If-None-Match: *} creates only; C{If-Match} replaces only the
        version the client saw (lost-update prevention, section 13.1.1).
        """
        self.assertEqual(self.call("PUT", "/hello.txt", b"x", ("If-None-Match", "*")).status, 412)
        self.assertEqual(self.call("PUT", "/fresh.txt", b"x", ("If-None-Match", "*")).status, 201)
        self.assertEqual(self.call("PUT", "/hello.txt", b"x", ("If-Match", '"stale"')).status, 412)
        self.assertEqual(self.call("PUT", "/none.txt", b"x", ("If-Match", "*")).status, 412)
        etag = header(self.get("/hello.txt"), "ETag")
        assert etag is not None
        self.assertEqual(self.call("PUT", "/hello.txt", b"y", ("If-Match", etag)).status, 204)

    def test_delete(self) -> None:
        self.get("/hello.txt")
        self.assertEqual(self.call("DELETE", "/hello.txt").status, 204)
        self.assertFalse(os.path.exists(os.path.join(self.root, "hello.txt")))
        self.assertEqual(self.get("/hello.txt").status, 404)
        self.assertEqual(self.call("DELETE", "/hello.txt").status, 404)

    def test_deleteDirectory409(self) -> None:
        self.assertEqual(self.call("DELETE", "/sub").status, 409)
        self.assertEqual(self.call("DELETE", "/sub/").status, 409)
        self.assertEqual(self.call("DELETE", "/").status, 409)
        self.assertTrue(os.path.isdir(os.path.join(self.root, "sub")))

    def test_deleteIfMatch(self) -> None:
        self.assertEqual(self.call("DELETE", "/hello.txt", b"", ("If-Match", '"x"')).status, 412)
        self.assertTrue(os.path.exists(os.path.join(self.root, "hello.txt")))

    def test_readOnlyRefuses(self) -> None:
        """
        Without C{writable}, PUT and DELETE are refused and nothing changes.
        """
        self.handler = StaticFiles(self.root)
        for method in ("PUT", "DELETE"):
            response = self.call(method, "/hello.txt", b"x")
            self.assertEqual(response.status, 405)
            self.assertEqual(header(response, "Allow"), "GET, HEAD")
        self.assertEqual(bodyBytes(self.get("/hello.txt")), b"Hello, world!\n")


class SpeedTests(StaticTestCase):
    """
    The small-file path stays lean (the figure is reported, not asserted
    against a wall-clock budget).
    """

    def test_oneStatPerCachedRequest(self) -> None:
        """
        A cached small file costs one C{os.stat} and no C{open} or
        C{realpath}.
        """
        self.write("nine.html", b"n" * 9000)
        self.get("/nine.html")
        calls: list[str] = []
        realStat = os.stat

        def countStat(path: str, *args: object, **kwargs: object) -> os.stat_result:
            calls.append("stat")
            return realStat(path, *args, **kwargs)  # type: ignore[arg-type]

        self.patch(static.os, "stat", countStat)

        def record(name: str) -> object:
            def call(*args: object, **kwargs: object) -> None:
                calls.append(name)

            return call

        self.patch(static.os.path, "realpath", record("realpath"))
        self.patch(builtins, "open", record("open"))
        response = self.get("/nine.html")
        self.assertEqual(len(bodyBytes(response)), 9000)
        self.assertEqual(calls, ["stat"])


def measureHandle(handler: StaticFiles, target: str, rounds: int = 20000) -> float:
    """
    @return: microseconds per C{handle()} call for C{target}.
    """
    request = makeRequest("GET", target, [("Host", "localhost"), ("User-Agent", "bench")])
    started = time.perf_counter()
    for _ in range(rounds):
        handler.handle(request)
    return (time.perf_counter() - started) / rounds * 1e6


class CurlTests(StaticTestCase):
    """
    Loopback: the handler behind netref's server, fetched by curl.
    """

    timeout = 30

    def setUp(self) -> None:
        super().setUp()
        if shutil.which("curl") is None:
            raise SkipTest("curl is not installed")
        from netref.http.server import HTTPFactory

        self.write("big.bin", bytes(range(256)) * 1024)
        self.port = reactor.listenTCP(
            0, HTTPFactory(StaticFiles(self.root)), interface="127.0.0.1"
        )
        self.addCleanup(self.port.stopListening)
        self.base = f"http://127.0.0.1:{self.port.getHost().port}"  # type: ignore[attr-defined]

    @defer.inlineCallbacks
    def curl(self, *args: str):
        out, err, status = yield getProcessOutputAndValue(
            "curl", ["-s", "-S", "--no-keepalive", *args], env=dict(os.environ)
        )
        self.assertEqual(status, 0, err)
        return out

    @defer.inlineCallbacks
    def test_conditionalGet(self):
        """
        curl's C{-z} sends If-Modified-Since; the server answers 304.
        """
        path = os.path.join(self.root, "hello.txt")
        os.utime(path, (1_600_000_000, 1_600_000_000))
        out = yield self.curl("-i", "-z", formatHTTPDate(1_600_000_000), self.base + "/hello.txt")
        self.assertTrue(out.startswith(b"HTTP/1.1 304 Not Modified\r\n"), out)
        self.assertIn(b"\r\nLast-Modified: Sun, 13 Sep 2020 12:26:40 GMT\r\n", out)
        out = yield self.curl("-i", "-z", formatHTTPDate(1_500_000_000), self.base + "/hello.txt")
        self.assertTrue(out.startswith(b"HTTP/1.1 200 OK\r\n"), out)
        self.assertTrue(out.endswith(b"\r\n\r\nHello, world!\n"), out)

    @defer.inlineCallbacks
    def test_multipartRanges(self):  # type: ignore[no-untyped-def]
        """
        curl asks for two ranges; the multipart/byteranges answer, with the
        parts streamed from the file, reads back with the stdlib's MIME
        parser.
        """
        import email.parser
        import email.policy

        data = bytes(range(256)) * 1024
        out = yield self.curl("-i", "-r", "0-9,200000-200009", self.base + "/big.bin")
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            out.split(b"\r\n", 1)[1]
        )
        self.assertEqual(message.get_content_type(), "multipart/byteranges")
        parts = list(message.iter_parts())  # type: ignore[attr-defined]
        self.assertEqual(
            [p["Content-Range"] for p in parts],
            ["bytes 0-9/262144", "bytes 200000-200009/262144"],
        )
        self.assertEqual(
            [p.get_payload(decode=True) for p in parts], [data[:10], data[200000:200010]]
        )

    @defer.inlineCallbacks
    def test_rangeAndResume(self):
        """
        curl's C{-r} and C{-C} (resume) get the parts asked for, of a file
        the server streams.
        """
        data = bytes(range(256)) * 1024
        out = yield self.curl("-r", "1000-1999", self.base + "/big.bin")
        self.assertEqual(out, data[1000:2000])
        partial = self.mktemp()
        with open(partial, "wb") as f:
            f.write(data[:100000])
        yield self.curl("-C", "-", "-o", partial, self.base + "/big.bin")
        with open(partial, "rb") as f:
            self.assertEqual(f.read(), data)


#: The lab's copy of the textbook's web site.
LAB_SITE = os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(static.__file__))),
    "lab",
    "www",
    "someschool.edu",
)


class LabPageTests(TestCase):
    """
    The lab's www.someSchool.edu: a base HTML file and 10 JPEG images
    (textbook section 2.2.1), served by L{StaticFiles}.
    """

    timeout = 30

    def setUp(self) -> None:
        self.handler = StaticFiles(LAB_SITE, indexNames=("index.html", "home.index"))

    def get(self, target: str) -> HTTPResponse:
        response = self.handler.handle(makeRequest("GET", target))
        assert isinstance(response, HTTPResponse)
        return response

    def test_homeIndex(self) -> None:
        """
        The textbook's URL is served as HTML, the same page as the
        directory's index.
        """
        home = self.get("/someDepartment/home.index")
        self.assertEqual(home.status, 200)
        self.assertEqual(header(home, "Content-Type"), "text/html; charset=utf-8")
        index = self.get("/someDepartment/")
        self.assertEqual(bodyBytes(home), bodyBytes(index))
        self.assertEqual(self.get("/someDepartment").status, 301)

    def test_rootLinksToDepartment(self) -> None:
        page = bodyBytes(self.get("/")).decode()
        self.assertIn('href="someDepartment/"', page)
        self.assertIn('href="someDepartment/home.index"', page)

    def test_tenImages(self) -> None:
        """
        The page references pic01.jpg ... pic10.jpg, each a real JPEG of
        20-60 KB.
        """
        page = bodyBytes(self.get("/someDepartment/home.index")).decode()
        sources = re.findall(r'<img src="([^"]+)"', page)
        self.assertEqual(sources, [f"pic{n:02d}.jpg" for n in range(1, 11)])
        for source in sources:
            response = self.get("/someDepartment/" + source)
            self.assertEqual(response.status, 200, source)
            self.assertEqual(header(response, "Content-Type"), "image/jpeg")
            data = bodyBytes(response)
            self.assertTrue(
                data.startswith(b"\xff\xd8\xff") and data.endswith(b"\xff\xd9"), source
            )
            self.assertTrue(20_000 <= len(data) <= 60_000, (source, len(data)))
            # Baseline or progressive frame header: 640x480.
            match = re.search(rb"\xff[\xc0\xc2]\x00\x11\x08(..)(..)", data, re.DOTALL)
            assert match is not None
            self.assertEqual(
                (int.from_bytes(match.group(2), "big"), int.from_bytes(match.group(1), "big")),
                (640, 480),
            )

    @defer.inlineCallbacks
    def test_elevenObjectsOneConnection(self):
        """
        curl fetches the eleven objects over one persistent connection
        (textbook section 2.2.2): one connect, ten reuses.
        """
        if shutil.which("curl") is None:
            raise SkipTest("curl is not installed")
        from netref.http.server import HTTPFactory

        port = reactor.listenTCP(0, HTTPFactory(self.handler), interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        base = f"http://127.0.0.1:{port.getHost().port}/someDepartment/"  # type: ignore[attr-defined]
        urls = [base + "home.index"] + [f"{base}pic{n:02d}.jpg" for n in range(1, 11)]
        args = ["-s", "-S"]
        for url in urls:
            args += [
                "-o",
                "/dev/null",
                "-w",
                "%{http_code} %{content_type} %{num_connects}\\n",
                url,
            ]
        out, err, status = yield getProcessOutputAndValue("curl", args, env=dict(os.environ))
        self.assertEqual(status, 0, err)
        lines = out.decode().splitlines()
        self.assertEqual(lines[0], "200 text/html; charset=utf-8 1")
        self.assertEqual(lines[1:], ["200 image/jpeg 0"] * 10)


class EmbeddingExampleTests(TestCase):
    """
    The docs page's program runs as printed.
    """

    timeout = 60

    @defer.inlineCallbacks
    def test_embeddingExample(self):
        import sys

        from tests.support import docsPage, embeddingExample

        page = docsPage("http-files.rst")
        code = embeddingExample(page)
        if code is None:
            raise SkipTest(f"{page} is not here (no source checkout)")
        out, err, status = yield getProcessOutputAndValue(
            sys.executable, ["-c", code], env=dict(os.environ)
        )
        self.assertEqual(status, 0, err)
        self.assertEqual(
            out.decode(),
            "200 text/html; charset=utf-8 b'<h1>someDepartment</h1>\\n'\n"
            "304 b''\n"
            "206 bytes 4-16/24 b'someDepartmen'\n"
            "3 visits\n",
        )
