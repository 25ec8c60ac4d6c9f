"""
Interop tests for L{netref.http.client}: netref's client against servers
nobody here wrote.

  - nginx (Debian's), started in the foreground with a generated
    configuration on 127.0.0.1: GET, HEAD, keep-alive reuse, pipelining,
    Range, conditional GET, chunked upload (WebDAV PUT), non-persistent
    connections, and C{netref get} itself.
  - Python's C{http.server}: an HTTP/1.0 server that closes every
    connection, and a handler that sends a close-delimited body (no
    Content-Length, RFC 9112 section 6.3 rule 8).

A missing program skips its tests, naming it.
"""

from __future__ import annotations

import io
import os
import shutil
import sys
from typing import Any

from twisted.internet import defer, reactor, task
from twisted.internet.endpoints import TCP4ClientEndpoint, connectProtocol
from twisted.internet.protocol import Protocol
from twisted.trial.unittest import SkipTest, TestCase

from netref.http import get
from netref.http.client import ClientResponse, HTTPClient
from tests.processes import Conversation, converse
from tests.support import freePort

PAGE = b"<html><head><title>someschool</title></head><body>" + b"x" * 500 + b"</body></html>\n"
#: Ten "images" of different sizes, as the textbook's page references.
IMAGES = {f"img{i}.jpg": bytes([i]) * (1000 + 317 * i) for i in range(10)}


def findNginx() -> str | None:
    """
    @return: nginx's path (Debian puts it in C{/usr/sbin}), or L{None}.
    """
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")


async def waitForPort(port: int, process: Conversation, seconds: float = 15) -> None:
    """
    Wait until something accepts connections on 127.0.0.1:C{port}: the
    interop tier's one unavoidable wait, for a real program to start.
    """
    endpoint = TCP4ClientEndpoint(reactor, "127.0.0.1", port)
    for _ in range(int(seconds / 0.05)):
        if process.ended.called:
            raise AssertionError(f"the server ended early: {process.errors!r}")
        try:
            protocol = await connectProtocol(endpoint, Protocol())
        except Exception:
            await task.deferLater(reactor, 0.05, lambda: None)
            continue
        assert protocol.transport is not None
        protocol.transport.loseConnection()
        return
    raise AssertionError(f"nothing listens on port {port} after {seconds} s")


def writeSite(directory: str) -> None:
    os.makedirs(directory)
    with open(os.path.join(directory, "index.html"), "wb") as f:
        f.write(PAGE)
    for name, data in IMAGES.items():
        with open(os.path.join(directory, name), "wb") as f:
            f.write(data)


class NginxTests(TestCase):
    """
    netref's client against nginx.
    """

    def setUp(self) -> defer.Deferred[None]:
        nginx = findNginx()
        if nginx is None:
            raise SkipTest("nginx is not installed")
        self.directory = os.path.abspath(self.mktemp())
        writeSite(os.path.join(self.directory, "www"))
        os.makedirs(os.path.join(self.directory, "dav"))
        self.port = freePort()
        conf = os.path.join(self.directory, "nginx.conf")
        d = self.directory
        userLine = "user root;\n" if os.geteuid() == 0 else ""
        with open(conf, "w") as f:
            f.write(
                f"{userLine}daemon off;\nmaster_process off;\nworker_processes 1;\n"
                f"pid {d}/nginx.pid;\nerror_log {d}/error.log;\n"
                "events { worker_connections 64; }\n"
                "http {\n"
                f"  access_log {d}/access.log;\n"
                f"  client_body_temp_path {d}/body; proxy_temp_path {d}/proxy;\n"
                f"  fastcgi_temp_path {d}/fastcgi; uwsgi_temp_path {d}/uwsgi;\n"
                f"  scgi_temp_path {d}/scgi;\n"
                "  types { text/html html; image/jpeg jpg; }\n"
                "  default_type application/octet-stream;\n"
                "  keepalive_requests 1000;\n"
                "  server {\n"
                f"    listen 127.0.0.1:{self.port};\n"
                f"    root {d}/www;\n"
                f"    location /dav/ {{ root {d}; dav_methods PUT; }}\n"
                "    location = /moved { return 301 /index.html; }\n"
                "  }\n"
                "}\n"
            )
        self.nginx = converse(reactor, nginx, ["-p", d, "-c", conf, "-e", f"{d}/error.log"], self)
        self.base = f"http://127.0.0.1:{self.port}"
        self.client = HTTPClient(reactor)
        self.addCleanup(self.client.close)
        return defer.Deferred.fromCoroutine(waitForPort(self.port, self.nginx))

    @defer.inlineCallbacks
    def test_getAndHead(self) -> Any:
        r: ClientResponse = yield self.client.get(self.base + "/index.html")
        self.assertEqual((r.status, r.body), (200, PAGE))
        self.assertEqual(r.header("server")[:5], "nginx")  # type: ignore[index]
        head: ClientResponse = yield self.client.request("HEAD", self.base + "/img3.jpg")
        self.assertEqual((head.status, head.body), (200, b""))
        self.assertEqual(head.header("content-length"), str(len(IMAGES["img3.jpg"])))
        self.assertTrue(head.connectionReused)

    @defer.inlineCallbacks
    def test_keepAliveReuse(self) -> Any:
        responses = []
        for name in ("index.html", "img1.jpg", "img2.jpg"):
            responses.append((yield self.client.get(f"{self.base}/{name}")))
        self.assertEqual([r.connectionReused for r in responses], [False, True, True])
        self.assertEqual(responses[2].body, IMAGES["img2.jpg"])
        self.assertEqual(self.client.connectionCount(), 1)

    @defer.inlineCallbacks
    def test_pipelining(self) -> Any:
        client = HTTPClient(reactor, pipelining=True, maxConnectionsPerOrigin=1)
        self.addCleanup(client.close)
        base = yield client.get(self.base + "/index.html")
        self.assertEqual(base.body, PAGE)
        responses = yield defer.gatherResults(
            [client.get(f"{self.base}/{name}") for name in IMAGES]
        )
        self.assertEqual([r.body for r in responses], list(IMAGES.values()))
        self.assertTrue(all(r.connectionReused for r in responses))
        # All ten went out before the first of their responses came back.
        last = max(r.timings.requestSent or 0 for r in responses)
        first = min(r.timings.firstByte or 0 for r in responses)
        self.assertLessEqual(last, first)

    @defer.inlineCallbacks
    def test_range(self) -> Any:
        r = yield self.client.get(self.base + "/img9.jpg", headers={"Range": "bytes=100-199"})
        self.assertEqual(r.status, 206)
        self.assertEqual(r.header("content-range"), f"bytes 100-199/{len(IMAGES['img9.jpg'])}")
        self.assertEqual(r.body, IMAGES["img9.jpg"][100:200])

    @defer.inlineCallbacks
    def test_conditional(self) -> Any:
        first = yield self.client.get(self.base + "/index.html")
        etag, modified = first.header("etag"), first.header("last-modified")
        byTag = yield self.client.get(self.base + "/index.html", headers={"If-None-Match": etag})
        self.assertEqual((byTag.status, byTag.body), (304, b""))
        byDate = yield self.client.get(
            self.base + "/index.html", headers={"If-Modified-Since": modified}
        )
        self.assertEqual((byDate.status, byDate.body), (304, b""))
        self.assertTrue(byDate.connectionReused)

    @defer.inlineCallbacks
    def test_chunkedUpload(self) -> Any:
        data = [os.urandom(5000) for _ in range(7)]
        r = yield self.client.request("PUT", self.base + "/dav/up.bin", body=iter(data))
        self.assertIn(r.status, (201, 204))
        with open(os.path.join(self.directory, "dav", "up.bin"), "rb") as f:
            self.assertEqual(f.read(), b"".join(data))
        with open(os.path.join(self.directory, "access.log")) as f:
            self.assertIn('"PUT /dav/up.bin HTTP/1.1" 201', f.read())

    @defer.inlineCallbacks
    def test_nonPersistent(self) -> Any:
        client = HTTPClient(reactor, persistent=False, maxConnectionsPerOrigin=1)
        self.addCleanup(client.close)
        responses = yield defer.gatherResults(
            [client.get(f"{self.base}/{name}") for name in ("index.html", "img0.jpg")]
        )
        self.assertEqual([r.connectionReused for r in responses], [False, False])
        self.assertEqual(responses[1].header("connection"), "close")

    @defer.inlineCallbacks
    def test_redirect(self) -> Any:
        r = yield self.client.get(self.base + "/moved")
        self.assertEqual((r.status, r.body), (200, PAGE))
        self.assertEqual([h.status for h in r.history], [301])

    @defer.inlineCallbacks
    def test_toolRangeAndConditional(self) -> Any:
        """
        C{netref get -r} and C{--if-modified-since} against nginx.
        """
        out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", newline="")
        self.patch(sys, "stdout", out)
        options = get.Options()
        options.parseOptions(["-i", "-r", "0-5", self.base + "/index.html"])
        yield get.run(reactor, options)
        options = get.Options()
        path = os.path.join(self.directory, "www", "index.html")
        options.parseOptions(["-i", "--if-modified-since", path, self.base + "/index.html"])
        yield get.run(reactor, options)
        out.flush()
        text = out.buffer.getvalue()  # type: ignore[attr-defined]
        self.assertIn(b"HTTP/1.1 206 Partial Content\r\n", text)
        self.assertIn(b"\r\n\r\n<html>HTTP/1.1 304 Not Modified\r\n", text)


CLOSE_DELIMITED = """
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        for i in range(100):
            self.wfile.write(b"line %d\\n" % i)
    def log_message(self, *args):
        pass

server = HTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
print("ready", flush=True)
server.serve_forever()
"""


class PythonHTTPServerTests(TestCase):
    """
    netref's client against Python's C{http.server}, an HTTP/1.0 server.
    """

    @defer.inlineCallbacks
    def test_http10Files(self) -> Any:
        """
        Every HTTP/1.0 response ends its connection: nothing is reused.
        """
        directory = os.path.abspath(self.mktemp())
        writeSite(directory)
        port = freePort()
        server = converse(
            reactor,
            sys.executable,
            [
                "-u",
                "-m",
                "http.server",
                "--bind",
                "127.0.0.1",
                "--directory",
                directory,
                str(port),
            ],
            self,
        )
        yield defer.Deferred.fromCoroutine(waitForPort(port, server))
        client = HTTPClient(reactor)
        self.addCleanup(client.close)
        first = yield client.get(f"http://127.0.0.1:{port}/index.html")
        second = yield client.get(f"http://127.0.0.1:{port}/img4.jpg")
        self.assertEqual((first.version, first.body), ("HTTP/1.0", PAGE))
        self.assertEqual(second.body, IMAGES["img4.jpg"])
        self.assertFalse(second.connectionReused)

    @defer.inlineCallbacks
    def test_closeDelimited(self) -> Any:
        """
        A body without Content-Length ends when the server closes.
        """
        port = freePort()
        server = converse(reactor, sys.executable, ["-u", "-c", CLOSE_DELIMITED, str(port)], self)
        yield server.untilOutput(b"ready")
        client = HTTPClient(reactor)
        self.addCleanup(client.close)
        r = yield client.get(f"http://127.0.0.1:{port}/")
        self.assertEqual(r.version, "HTTP/1.0")
        self.assertIsNone(r.header("content-length"))
        self.assertEqual(r.body, b"".join(b"line %d\n" % i for i in range(100)))
