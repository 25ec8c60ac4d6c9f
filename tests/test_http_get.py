"""
Tests for C{netref get}: its options, and the tool over loopback against
netref's own server (static files, plus small handlers that set cookies and
redirect): conditional GET, Range, uploads, cookies, redirects, several
URLs on one connection, and the C{--trace} output.
"""

from __future__ import annotations

import io
import os
import re
import sys
from typing import Any

from twisted.internet import defer, reactor
from twisted.internet.utils import getProcessOutputAndValue
from twisted.python import usage
from twisted.python.filepath import FilePath
from twisted.trial.unittest import SynchronousTestCase, TestCase

from netref.core.cli import ToolError
from netref.core.tls import DevCertificateAuthority
from netref.http import get
from netref.http.handler import HTTPRequest, HTTPResponse, Router, textResponse
from netref.http.server import HTTPFactory
from netref.http.static import StaticFiles
from netref.http.wire import Headers

PAGE = b"<html><body>the base HTML file</body></html>\n"
#: Not text: --trace shows its size, not its bytes.
IMAGE = bytes(range(256)) * 20


def options(*args: str) -> get.Options:
    parsed = get.Options()
    parsed.parseOptions(list(args))
    return parsed


class OptionsTests(SynchronousTestCase):
    """
    The command line, parsed as curl's.
    """

    def test_defaults(self) -> None:
        o = options("http://127.0.0.1:8080/")
        self.assertEqual(o["urls"], ["http://127.0.0.1:8080/"])
        self.assertFalse(o["location"])
        self.assertEqual(o["headers"], [])

    def test_optionsAfterURLs(self) -> None:
        """
        Options may follow the URLs, as curl's do; C{--} still ends them.
        """
        o = options("http://h/a", "-o", "a.out", "--range", "0-9", "-I", "http://h/b", "--trace")
        self.assertEqual(o["urls"], ["http://h/a", "http://h/b"])
        self.assertEqual(o["outputs"], ["a.out"])
        self.assertEqual(o["range"], "bytes=0-9")
        self.assertTrue(o["head"])
        self.assertTrue(o["trace"])
        self.assertRaises(usage.UsageError, options, "http://h/", "--", "-o")
        self.assertRaises(usage.UsageError, options, "http://h/", "--no-such-option")

    def test_headersRepeat(self) -> None:
        o = options("-H", "Accept-Language: fr", "--header", "X-A:1", "http://h/")
        self.assertEqual(o["headers"], [("Accept-Language", "fr"), ("X-A", "1")])

    def test_badHeader(self) -> None:
        self.assertRaises(usage.UsageError, options, "-H", "no colon", "http://h/")

    def test_range(self) -> None:
        self.assertEqual(options("-r", "0-99", "http://h/")["range"], "bytes=0-99")
        self.assertEqual(options("-r", "bytes=-5", "http://h/")["range"], "bytes=-5")

    def test_ifModifiedSince(self) -> None:
        date = "Wed, 09 Sep 2026 09:09:09 GMT"
        self.assertEqual(
            options("--if-modified-since", date, "http://h/")["if-modified-since"], date
        )
        path = self.mktemp()
        with open(path, "w") as f:
            f.write("x")
        os.utime(path, (0, 784111777))
        self.assertEqual(
            options("--if-modified-since", path, "http://h/")["if-modified-since"],
            "Sun, 06 Nov 1994 08:49:37 GMT",
        )
        self.assertRaises(
            usage.UsageError, options, "--if-modified-since", "yesterday", "http://h/"
        )

    def test_conflicts(self) -> None:
        self.assertRaises(usage.UsageError, options, "-d", "a", "--data-file", "f", "http://h/")
        self.assertRaises(usage.UsageError, options, "--pipeline", "--non-persistent", "http://h/")
        self.assertRaises(usage.UsageError, options)
        self.assertRaises(usage.UsageError, options, "ftp://h/")

    def test_registered(self) -> None:
        """
        C{netref get} is one of the C{netref} command's tools.
        """
        from netref.core.cli import TOOLS

        self.assertIn("netref.http.get", [module for _, module, _ in TOOLS])


class CookieHandler:
    """
    Sets a cookie on the first visit and says which cookie came back (the
    textbook's Amazon example, in miniature).
    """

    allowedMethods = ("GET",)

    def handle(self, request: HTTPRequest) -> HTTPResponse:
        cookie = request.header("cookie")
        headers = [] if cookie else [("Set-Cookie", "id=1678; Path=/; Max-Age=3600")]
        return textResponse(200, f"cookie: {cookie}", headers)


class RedirectHandler:
    """
    Answers every request with a redirect to C{/index.html}.
    """

    allowedMethods = ("GET", "POST")

    def handle(self, request: HTTPRequest) -> HTTPResponse:
        return HTTPResponse(302, Headers([("Location", "/index.html")]), b"")


class ToolTests(TestCase):
    """
    C{netref get} against netref's server on loopback.
    """

    def setUp(self) -> None:
        self.root = self.mktemp()
        os.makedirs(self.root)
        with open(os.path.join(self.root, "index.html"), "wb") as f:
            f.write(PAGE)
        with open(os.path.join(self.root, "pic.jpg"), "wb") as f:
            f.write(IMAGE)
        router = Router()
        router.route("/", StaticFiles(self.root, writable=True))
        router.route("/cookie", CookieHandler())
        router.route("/redirect", RedirectHandler())
        self.factory = HTTPFactory(router)
        self.port = reactor.listenTCP(0, self.factory, interface="127.0.0.1")  # type: ignore[attr-defined]
        self.addCleanup(self.port.stopListening)
        self.base = f"http://127.0.0.1:{self.port.getHost().port}"
        self.out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", newline="")
        self.patch(sys, "stdout", self.out)

    def output(self) -> bytes:
        self.out.flush()
        buffer = self.out.buffer
        assert isinstance(buffer, io.BytesIO)
        return buffer.getvalue()

    def text(self) -> str:
        return self.output().decode("utf-8")

    async def get(self, *args: str) -> None:
        await get.run(reactor, options(*args))

    def run_(self, *args: str) -> defer.Deferred[None]:
        return defer.Deferred.fromCoroutine(self.get(*args))

    @defer.inlineCallbacks
    def test_body(self) -> Any:
        yield self.run_(self.base + "/index.html")
        self.assertEqual(self.output(), PAGE)

    @defer.inlineCallbacks
    def test_head(self) -> Any:
        yield self.run_("-I", self.base + "/index.html")
        head = self.text()
        self.assertTrue(head.startswith("HTTP/1.1 200 OK\r\n"), head)
        self.assertIn(f"Content-Length: {len(PAGE)}\r\n", head)
        self.assertTrue(head.endswith("\r\n\r\n"))

    @defer.inlineCallbacks
    def test_conditionalETag(self) -> Any:
        """
        The textbook's conditional GET: with the ETag of the copy held, the
        server answers 304 with no body.
        """
        yield self.run_("-I", self.base + "/index.html")
        etag = re.search(r"ETag: (\S+)\r\n", self.text(), re.I)
        assert etag is not None
        self.out.truncate(0)
        self.out.seek(0)
        yield self.run_("-i", "--if-none-match", etag.group(1), self.base + "/index.html")
        answer = self.text()
        self.assertTrue(answer.startswith("HTTP/1.1 304 Not Modified\r\n"), answer)
        self.assertTrue(answer.endswith("\r\n\r\n"))

    @defer.inlineCallbacks
    def test_conditionalDate(self) -> Any:
        """
        C{--if-modified-since FILE} uses the file's time: the served file
        has not changed since, so 304; an older date gets the page.
        """
        path = os.path.join(self.root, "index.html")
        yield self.run_("-i", "--if-modified-since", path, self.base + "/index.html")
        self.assertIn("304 Not Modified", self.text())
        self.out.truncate(0)
        self.out.seek(0)
        yield self.run_(
            "--if-modified-since", "Sun, 06 Nov 1994 08:49:37 GMT", self.base + "/index.html"
        )
        self.assertEqual(self.output(), PAGE)

    @defer.inlineCallbacks
    def test_range(self) -> Any:
        yield self.run_("-i", "-r", "6-11", self.base + "/index.html")
        head, _, body = self.output().partition(b"\r\n\r\n")
        self.assertIn(b"206 Partial Content", head)
        self.assertIn(f"Content-Range: bytes 6-11/{len(PAGE)}".encode(), head)
        self.assertEqual(body, PAGE[6:12])

    @defer.inlineCallbacks
    def test_outputFile(self) -> Any:
        target = self.mktemp()
        yield self.run_("-o", target, self.base + "/pic.jpg")
        with open(target, "rb") as f:
            self.assertEqual(f.read(), IMAGE)
        self.assertEqual(self.output(), b"")

    @defer.inlineCallbacks
    def test_upload(self) -> Any:
        """
        C{-X PUT -d}, then C{--chunked --data-file}: both stored by the
        writable file tree.
        """
        yield self.run_("-X", "PUT", "-d", "plain upload", self.base + "/up.txt")
        with open(os.path.join(self.root, "up.txt"), "rb") as f:
            self.assertEqual(f.read(), b"plain upload")
        source = self.mktemp()
        data = os.urandom(100_000)
        with open(source, "wb") as f:
            f.write(data)
        yield self.run_("-X", "PUT", "--chunked", "--data-file", source, self.base + "/up.bin")
        with open(os.path.join(self.root, "up.bin"), "rb") as f:
            self.assertEqual(f.read(), data)

    @defer.inlineCallbacks
    def test_cookieJar(self) -> Any:
        """
        A cookie set in one run is saved to the jar and sent in the next.
        """
        jar = self.mktemp()
        yield self.run_("--cookie-jar", jar, self.base + "/cookie")
        self.assertEqual(self.text(), "cookie: None\n")
        with open(jar) as f:
            self.assertIn("\tid\t1678", f.read())
        self.out.truncate(0)
        self.out.seek(0)
        yield self.run_("--cookie-jar", jar, self.base + "/cookie")
        self.assertEqual(self.text(), "cookie: id=1678\n")

    @defer.inlineCallbacks
    def test_location(self) -> Any:
        yield self.run_(self.base + "/redirect")
        self.assertEqual(self.output(), b"")
        yield self.run_("-L", self.base + "/redirect")
        self.assertEqual(self.output(), PAGE)

    @defer.inlineCallbacks
    def test_fail(self) -> Any:
        yield self.run_(self.base + "/missing")
        self.assertIn(b"", self.output())
        error = yield self.assertFailure(self.run_("--fail", self.base + "/missing"), ToolError)
        self.assertIn("404", str(error))

    @defer.inlineCallbacks
    def test_refused(self) -> Any:
        port = reactor.listenTCP(0, self.factory, interface="127.0.0.1")  # type: ignore[attr-defined]
        number = port.getHost().port
        yield port.stopListening()
        error = yield self.assertFailure(self.run_(f"http://127.0.0.1:{number}/"), ToolError)
        self.assertIn(f"127.0.0.1:{number}", str(error))
        self.assertNotIn("\n", str(error))

    @defer.inlineCallbacks
    def test_pipelineFailureNamesURL(self) -> Any:
        port = reactor.listenTCP(0, self.factory, interface="127.0.0.1")  # type: ignore[attr-defined]
        number = port.getHost().port
        yield port.stopListening()
        dead = f"http://127.0.0.1:{number}/x"
        error = yield self.assertFailure(
            self.run_("--pipeline", self.base + "/index.html", dead), ToolError
        )
        self.assertIn(f"127.0.0.1:{number}", str(error))

    @defer.inlineCallbacks
    def test_trace(self) -> Any:
        """
        C{--trace} shows the request and response messages as the
        textbook's figures, a short text body, and each phase's time.
        """
        yield self.run_("--trace", self.base + "/index.html")
        text = self.text()
        lines = [re.sub(r"^\[c\d+\] ", "", line) for line in text.splitlines()]
        self.assertIn("C: GET /index.html HTTP/1.1", lines)
        self.assertIn(f"C: Host: 127.0.0.1:{self.port.getHost().port}", lines)
        self.assertIn("C: ", lines)
        self.assertIn("S: HTTP/1.1 200 OK", lines)
        self.assertIn(f"S: Content-Length: {len(PAGE)}", lines)
        self.assertIn("S: " + PAGE.decode().strip(), lines)
        summary = f"* GET {self.base}/index.html: 200 OK, {len(PAGE)} bytes, new connection"
        self.assertIn(summary, lines)
        for phase in ("connected", "request sent", "first byte", "last byte"):
            self.assertRegex(text, rf"\*   {phase} +\d+\.\d ms")
        # The body is shown in the message, not printed again.
        self.assertEqual(text.count("the base HTML file"), 1)

    @defer.inlineCallbacks
    def test_traceBinaryAndReuse(self) -> Any:
        """
        Several URLs share one persistent connection; a body that is not
        text is shown as its size.
        """
        yield self.run_("--trace", self.base + "/index.html", self.base + "/pic.jpg")
        text = self.text()
        self.assertIn(f"({len(IMAGE)} bytes of image/jpeg)", text)
        self.assertIn("/index.html: 200 OK, 45 bytes, new connection", text)
        self.assertIn(f"/pic.jpg: 200 OK, {len(IMAGE)} bytes, reused connection", text)
        self.assertNotIn("connected", text.split("/pic.jpg: 200")[1])

    @defer.inlineCallbacks
    def test_nonPersistent(self) -> Any:
        yield self.run_(
            "--trace", "--non-persistent", self.base + "/index.html", self.base + "/pic.jpg"
        )
        text = self.text()
        self.assertEqual(text.count("new connection"), 2)
        self.assertIn("C: Connection: close", text)

    @defer.inlineCallbacks
    def test_pipeline(self) -> Any:
        urls = [self.base + "/index.html"] + [self.base + "/pic.jpg"] * 3
        yield self.run_("--trace", "--pipeline", "--max-connections", "1", *urls)
        text = self.text()
        self.assertEqual(text.count("new connection"), 1)
        self.assertEqual(text.count("reused connection"), 3)


class HTTPSToolTests(TestCase):
    """
    C{netref get --cacert} against netref's server over TLS.
    """

    @defer.inlineCallbacks
    def test_cacert(self) -> Any:
        root = self.mktemp()
        os.makedirs(root)
        with open(os.path.join(root, "index.html"), "wb") as f:
            f.write(PAGE)
        authority = DevCertificateAuthority(FilePath(self.mktemp()))
        options_ = authority.serverOptions(["localhost"], acceptableProtocols=[b"http/1.1"])
        port = reactor.listenSSL(  # type: ignore[attr-defined]
            0, HTTPFactory(StaticFiles(root)), options_, interface="127.0.0.1"
        )
        self.addCleanup(port.stopListening)
        out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", newline="")
        self.patch(sys, "stdout", out)
        url = f"https://localhost:{port.getHost().port}/index.html"
        ca = authority.caCertificatePath.path
        yield get.run(reactor, options("--cacert", ca, "--trace", url))
        out.flush()
        text = out.buffer.getvalue().decode()  # type: ignore[attr-defined]
        self.assertIn("TLS handshake done, server certificate verified", text)
        self.assertRegex(text, r"\*   TLS done +\d+\.\d ms")
        self.assertIn("S: " + PAGE.decode().strip(), text)
        # Without the authority, the platform's roots do not know it.
        error = yield self.assertFailure(get.run(reactor, options(url)), ToolError)
        self.assertIn("certificate verify failed", str(error))


class CommandTests(TestCase):
    """
    C{netref get} as a program: exit statuses and one-line errors.
    """

    @defer.inlineCallbacks
    def test_exitStatus(self) -> Any:
        root = self.mktemp()
        os.makedirs(root)
        port = reactor.listenTCP(0, HTTPFactory(StaticFiles(root)), interface="127.0.0.1")  # type: ignore[attr-defined]
        self.addCleanup(port.stopListening)
        url = f"http://127.0.0.1:{port.getHost().port}/missing"
        program = "from netref.core.cli import main; main()"
        env = dict(os.environ)
        out, err, code = yield getProcessOutputAndValue(
            sys.executable, ["-c", program, "get", url], env=env
        )
        self.assertEqual(code, 0, err)
        out, err, code = yield getProcessOutputAndValue(
            sys.executable, ["-c", program, "get", "--fail", url], env=env
        )
        self.assertEqual(code, 1)
        self.assertEqual(err.decode().count("\n"), 1)
        self.assertTrue(err.startswith(b"netref get: "), err)
        self.assertIn(b"404", err)
