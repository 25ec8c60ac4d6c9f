"""
Interop tests for netref's HTTP server: curl, Python's C{http.client} and
C{urllib.request}, Twisted's own C{Agent}, h2load and httplint, all
clients nobody here wrote.  A missing program skips its tests, with the
program's name in the reason.
"""

from __future__ import annotations

import glob
import http.client
import os
import shutil
import sys
import urllib.request
from typing import Any

from twisted.internet import reactor
from twisted.internet.defer import inlineCallbacks
from twisted.internet.threads import deferToThread
from twisted.internet.utils import getProcessOutputAndValue
from twisted.trial.unittest import SkipTest, TestCase

from netref.core.auth import MemoryPasswordChecker, ScryptParameters
from netref.http import tap
from netref.http.server import HTTPServerProtocol
from tests.support import freePort
from tests.test_http_loopback import TrackedFactory, TrackedProtocol
from tests.test_http_server import parseResponses

#: A file of about the benchmark's size.
CONTENT = bytes(range(256)) * 36


def program(name: str) -> str:
    """
    @return: the path of C{name}, in C{PATH} or beside this Python.
    @raise SkipTest: naming the program when it is missing.
    """
    found = shutil.which(name) or shutil.which(name, path=os.path.dirname(sys.executable))
    if found is None:
        raise SkipTest(f"{name} is not installed")
    return found


class ServerMixin:
    """
    Runs a netref server for C{root} on a loopback port in the test's
    reactor, as C{twistd netref-http} would.
    """

    def makeRoot(self: Any) -> str:
        root = self.mktemp()
        os.makedirs(os.path.join(root, "dir"))
        with open(os.path.join(root, "file.bin"), "wb") as f:
            f.write(CONTENT)
        with open(os.path.join(root, "index.html"), "wb") as f:
            f.write(b"<!DOCTYPE html><title>t</title><p>hello</p>\n")
        for name in ("a", "bb", "ccc"):
            with open(os.path.join(root, name + ".txt"), "wb") as f:
                f.write(name.encode() * 100)
        return root

    def startServer(self: Any, root: str, writable: bool = False) -> str:
        checker = None
        if writable:
            checker = MemoryPasswordChecker.fromUserSpecs(
                ["alice:secret"], ScryptParameters(n=16, r=1, p=1)
            )
        self.factory = TrackedFactory(tap.makeHandler(root, writable, checker))
        port = reactor.listenTCP(0, self.factory, interface="127.0.0.1")
        self.addCleanup(self.factory.allClosed)
        self.addCleanup(port.stopListening)
        return f"http://127.0.0.1:{port.getHost().port}"


class CurlTests(ServerMixin, TestCase):
    """
    curl against the server.
    """

    def setUp(self) -> None:
        self.curl = program("curl")
        self.root = self.makeRoot()
        self.base = self.startServer(self.root, writable=True)

    @inlineCallbacks
    def curlOutput(self, *args: str) -> Any:
        out, err, code = yield getProcessOutputAndValue(
            self.curl, ["-sS", *args], env=dict(os.environ)
        )
        self.assertEqual(code, 0, err)
        return out

    @inlineCallbacks
    def test_keepAlive(self) -> Any:
        """
        Two URLs on one command line share one connection: curl makes one
        connection for the first and none for the second.
        """
        out = yield self.curlOutput(
            "-o",
            "/dev/null",
            "-o",
            "/dev/null",
            "-w",
            "%{num_connects} %{http_code}\\n",
            f"{self.base}/file.bin",
            f"{self.base}/a.txt",
        )
        self.assertEqual(out.split(b"\n")[:2], [b"1 200", b"0 200"])
        self.assertEqual(len(self.factory.made), 1)

    @inlineCallbacks
    def test_head(self) -> Any:
        out = yield self.curlOutput("-I", f"{self.base}/file.bin")
        [response] = parseResponses(out, heads=frozenset([0]))
        self.assertEqual(response.status, 200)
        self.assertEqual(response.header("content-length"), str(len(CONTENT)))

    @inlineCallbacks
    def test_range(self) -> Any:
        out = yield self.curlOutput("-r", "100-299", "-i", f"{self.base}/file.bin")
        [response] = parseResponses(out)
        self.assertEqual(response.status, 206)
        self.assertEqual(response.body, CONTENT[100:300])
        self.assertEqual(response.header("content-range"), f"bytes 100-299/{len(CONTENT)}")

    @inlineCallbacks
    def test_ifModifiedSince(self) -> Any:
        """
        C{-z FILE} sends If-Modified-Since with the file's time: the
        server's copy is no newer, so 304.
        """
        out = yield self.curlOutput(
            "-z",
            os.path.join(self.root, "file.bin"),
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            f"{self.base}/file.bin",
        )
        self.assertEqual(out, b"304")

    @inlineCallbacks
    def test_ifNoneMatch(self) -> Any:
        head = yield self.curlOutput("-I", f"{self.base}/file.bin")
        [response] = parseResponses(head, heads=frozenset([0]))
        etag = response.header("etag")
        assert etag is not None
        out = yield self.curlOutput("-H", f"If-None-Match: {etag}", "-i", f"{self.base}/file.bin")
        [conditional] = parseResponses(out)
        self.assertEqual(conditional.status, 304)
        self.assertEqual(conditional.body, b"")
        self.assertEqual(conditional.header("etag"), etag)

    @inlineCallbacks
    def test_chunkedUpload(self) -> Any:
        """
        C{curl -T -} with C{Transfer-Encoding: chunked} uploads standard
        input to a writable server, with Basic credentials; without them
        it gets 401.
        """
        target = f"{self.base}/up.txt"
        refused = yield self.curlOutput(
            "-T",
            os.path.join(self.root, "a.txt"),
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            target,
        )
        self.assertEqual(refused, b"401")
        source = os.path.join(self.root, "..", "upload-source")
        payload = b"uploaded through a pipe\n" * 1000
        with open(source, "wb") as f:
            f.write(payload)
        script = (
            f"exec {self.curl} -sS -T - -H 'Transfer-Encoding: chunked' -u alice:secret "
            f"-o /dev/null -w '%{{http_code}}' {target} < {source}"
        )
        out, err, code = yield getProcessOutputAndValue("/bin/sh", ["-c", script])
        self.assertEqual(code, 0, err)
        self.assertIn(out, (b"201", b"204"))
        with open(os.path.join(self.root, "up.txt"), "rb") as f:
            self.assertEqual(f.read(), payload)

    @inlineCallbacks
    def test_http10(self) -> Any:
        out = yield self.curlOutput("--http1.0", "-i", f"{self.base}/file.bin")
        [response] = parseResponses(out)
        self.assertEqual((response.status, response.body), (200, CONTENT))
        self.assertEqual(response.header("connection"), "close")


class HTTPSCurlTests(TestCase):
    """
    curl over HTTPS, against C{twistd netref-http --tls auto}'s
    development certificate authority.
    """

    @inlineCallbacks
    def test_https(self) -> Any:
        curl = program("curl")
        root = self.mktemp()
        os.mkdir(root)
        with open(os.path.join(root, "file.bin"), "wb") as f:
            f.write(CONTENT)
        state = self.mktemp()
        port = freePort()
        options = tap.Options()
        options.parseOptions(
            [
                "--root",
                root,
                "--state",
                state,
                "--tls",
                "auto",
                "--listen",
                f"ssl:{port}:interface=127.0.0.1",
            ]
        )
        top = tap.makeService(options)
        [child] = list(top)
        factory = child.factory  # type: ignore[attr-defined]
        factory.protocol = TrackedProtocol
        factory.made, factory.lost, factory.waiting = [], [], []
        original = factory.buildProtocol

        def build(addr: Any) -> HTTPServerProtocol:
            protocol = original(addr)
            factory.made.append(protocol)
            return protocol  # type: ignore[no-any-return]

        factory.buildProtocol = build
        top.startService()
        self.addCleanup(TrackedFactory.allClosed, factory)
        self.addCleanup(top.stopService)
        [ca] = glob.glob(os.path.join(state, "**", "ca.pem"), recursive=True)
        out, err, code = yield getProcessOutputAndValue(
            curl,
            [
                "-sS",
                "--cacert",
                ca,
                "-w",
                "\\n%{http_version} %{ssl_verify_result}",
                f"https://localhost:{port}/file.bin",
            ],
            env=dict(os.environ),
        )
        self.assertEqual(code, 0, err)
        body, _, summary = out.rpartition(b"\n")
        self.assertEqual(body, CONTENT)
        self.assertEqual(summary, b"1.1 0")


class PythonClientTests(ServerMixin, TestCase):
    """
    Python's C{http.client} and C{urllib.request}, in a thread.
    """

    def setUp(self) -> None:
        self.base = self.startServer(self.makeRoot())
        self.port = int(self.base.rsplit(":", 1)[1])

    @inlineCallbacks
    def test_httpClient(self) -> Any:
        """
        GET, HEAD and GET again on one persistent connection.
        """

        def talk() -> list[tuple[int, bytes, str | None]]:
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
            results = []
            try:
                for method, path in (("GET", "/file.bin"), ("HEAD", "/a.txt"), ("GET", "/a.txt")):
                    connection.request(method, path)
                    response = connection.getresponse()
                    results.append(
                        (response.status, response.read(), response.getheader("Content-Length"))
                    )
            finally:
                connection.close()
            return results

        results = yield deferToThread(talk)
        self.assertEqual(
            results,
            [(200, CONTENT, str(len(CONTENT))), (200, b"", "100"), (200, b"a" * 100, "100")],
        )
        self.assertEqual(len(self.factory.made), 1)

    @inlineCallbacks
    def test_urllib(self) -> Any:
        def fetch() -> tuple[int, bytes, str]:
            with urllib.request.urlopen(f"{self.base}/dir", timeout=10) as response:
                return response.status, response.read(), response.geturl()

        status, body, url = yield deferToThread(fetch)
        self.assertEqual(status, 200)
        self.assertEqual(url, f"{self.base}/dir/")
        self.assertIn(b"<", body)


class AgentTests(ServerMixin, TestCase):
    """
    Twisted's own HTTP client, C{twisted.web.client.Agent}: an independent
    implementation.
    """

    @inlineCallbacks
    def test_agent(self) -> Any:
        from twisted.web.client import Agent, HTTPConnectionPool, readBody

        base = self.startServer(self.makeRoot())
        pool = HTTPConnectionPool(reactor, persistent=True)
        agent = Agent(reactor, pool=pool)
        try:
            bodies = []
            for path in ("/file.bin", "/bb.txt", "/missing"):
                response = yield agent.request(b"GET", f"{base}{path}".encode())
                body = yield readBody(response)
                bodies.append((response.code, body))
        finally:
            yield pool.closeCachedConnections()
        self.assertEqual(bodies[0], (200, CONTENT))
        self.assertEqual(bodies[1], (200, b"bb" * 100))
        self.assertEqual(bodies[2][0], 404)
        self.assertEqual(len(self.factory.made), 1)


class H2loadTests(ServerMixin, TestCase):
    """
    h2load's HTTP/1.1 mode pipelines requests (C{-m 10}) for distinct
    paths of distinct sizes.
    """

    @inlineCallbacks
    def test_pipelined(self) -> Any:
        h2load = program("h2load")
        base = self.startServer(self.makeRoot())
        urls = [f"{base}/{name}" for name in ("a.txt", "bb.txt", "ccc.txt", "file.bin")]
        out, err, code = yield getProcessOutputAndValue(
            h2load, ["--h1", "-n", "400", "-c", "4", "-m", "10", *urls], env=dict(os.environ)
        )
        self.assertEqual(code, 0, err)
        text = out.decode()
        self.assertIn("400 succeeded, 0 failed, 0 errored, 0 timeout", text)
        self.assertIn("status codes: 400 2xx", text)


class HttplintTests(ServerMixin, TestCase):
    """
    httplint finds nothing wrong in the server's responses.
    """

    @inlineCallbacks
    def exchange(self, request: bytes) -> Any:
        from tests.test_http_loopback import rawExchange

        port = int(self.base.rsplit(":", 1)[1])
        _, done = rawExchange(port, request)
        data = yield done
        return data

    def lint(self, request: bytes, data: bytes, head: bool = False) -> list[str]:
        import time

        from httplint.message import HttpRequestLinter, HttpResponseLinter

        [response] = parseResponses(data, heads=frozenset([0]) if head else frozenset())
        lines = request.rstrip(b"\r\n").split(b"\r\n")
        method, target, _ = lines[0].split(b" ")
        requestLinter = HttpRequestLinter()
        requestLinter.process_request_topline(method, target, b"1.1")
        requestLinter.process_headers(
            [tuple(line.split(b": ", 1)) for line in lines[1:]]  # type: ignore[misc]
        )
        linter = HttpResponseLinter(start_time=time.time(), _related=requestLinter)
        linter.is_head_response = head
        status = str(response.status).encode()
        linter.process_response_topline(b"1.1", status, response.reason.encode())
        fields = [
            (name.encode(), value.encode())
            for name, values in response.headers.items()
            for value in values
        ]
        linter.process_headers(fields)
        linter.feed_content(response.body)
        linter.finish_content(True, [])
        return [
            f"[{note.level.name}] {note.summary}"
            for note in linter.notes
            if note.level.name == "BAD"
        ]

    @inlineCallbacks
    def test_responses(self) -> Any:
        """
        200, 206, 304, 404, a directory listing and a HEAD: no BAD note.
        """
        program("httplint")
        root = self.makeRoot()
        self.base = self.startServer(root)
        first = yield self.exchange(
            b"GET /file.bin HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
        )
        etag = parseResponses(first)[0].header("etag")
        cases = [
            (b"GET /file.bin HTTP/1.1\r\nHost: 127.0.0.1\r\n", 200, False),
            (b"GET /file.bin HTTP/1.1\r\nHost: 127.0.0.1\r\nRange: bytes=0-9\r\n", 206, False),
            (
                b"GET /file.bin HTTP/1.1\r\nHost: 127.0.0.1\r\nIf-None-Match: "
                + (etag or "").encode()
                + b"\r\n",
                304,
                False,
            ),
            (b"GET /nothing HTTP/1.1\r\nHost: 127.0.0.1\r\n", 404, False),
            (b"GET /dir/ HTTP/1.1\r\nHost: 127.0.0.1\r\n", 200, False),
            (b"HEAD /file.bin HTTP/1.1\r\nHost: 127.0.0.1\r\n", 200, True),
        ]
        for request, status, head in cases:
            data = yield self.exchange(request + b"Connection: close\r\n\r\n")
            self.assertEqual(
                parseResponses(data, frozenset([0]) if head else frozenset())[0].status, status
            )
            self.assertEqual(self.lint(request, data, head), [], request)
