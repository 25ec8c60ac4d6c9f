"""
C{netref get URL...}: fetch URLs with L{netref.http.client.HTTPClient} and
print the responses, as C{curl} does.

    netref get http://127.0.0.1:8080/index.html
    netref get -I http://127.0.0.1:8080/index.html
    netref get --trace http://127.0.0.1:8080/a.jpg http://127.0.0.1:8080/b.jpg

The body goes to standard output (or to C{-o FILE}); with C{-I} the
response's head does.  Several URLs in one run share the client's pool of
connections, which is how persistence shows: the second request to an
origin goes over the first one's connection, unless C{--non-persistent}.
With C{--pipeline} the requests are all made at once, and after the first
response has shown the server keeps its connections, written back to back
(RFC 9112 section 9.3.2).

C{--trace} prints each request and response message as the textbook's
figures do (request line, header lines, the empty line, and the body only
if it is short text), and when each phase of the exchange happened:
connection set-up, TLS, request sent, first byte and last byte of the
response, in milliseconds from the moment the request was made.

C{netref get} exits 0 for any HTTP response, as curl does, unless
C{--fail} is given and a status is 400 or more; a request that gets no
response at all ends it with a one-line reason and status 1.
"""

from __future__ import annotations

import email.utils
import os
import sys
from collections.abc import Iterator
from typing import IO, Any

from twisted.internet import error
from twisted.internet.defer import Deferred, FirstError, gatherResults
from twisted.python import usage

from netref.core.cli import InterspersedOptions, ToolError
from netref.core.trace import startPrintingTranscripts, stopPrintingTranscripts
from netref.http.client import (
    DEFAULT_TIMEOUT,
    ClientResponse,
    HTTPClient,
    HTTPClientError,
    splitURL,
)
from netref.http.cookies import CookieJar
from netref.http.wire import Headers

#: Bytes read from a data file at a time for a chunked upload.
CHUNK_SIZE = 16 * 1024

#: The names of the phases C{--trace} prints, for people.
PHASE_NAMES = {
    "connectStart": "connect start",
    "connectDone": "connected",
    "tlsDone": "TLS done",
    "requestSent": "request sent",
    "firstByte": "first byte",
    "lastByte": "last byte",
}


class Options(InterspersedOptions):
    """
    Options of C{netref get}, named after curl's where curl has one.
    """

    synopsis = "[options] URL [URL ...]"
    longdesc = (
        "Fetch one or more http:// or https:// URLs over HTTP/1.1 and print each body (or, "
        "with -I, each response head) as curl does. URLs of one origin share a persistent "
        "connection unless --non-persistent; --pipeline sends them back to back. --trace "
        "prints the messages as the textbook shows them and the time of each phase. Exits 0 "
        "for any HTTP response unless --fail; 1 when a request got no response."
    )

    optFlags = [
        ["head", "I", "Send HEAD and print the response's status line and header fields."],
        ["include", "i", "Print the response's head before its body."],
        ["location", "L", "Follow redirects (301, 302, 303, 307, 308)."],
        ["chunked", None, "Send the request body chunked (Transfer-Encoding: chunked)."],
        [
            "non-persistent",
            None,
            "One connection per request, each with Connection: close (the textbook's "
            "non-persistent HTTP).",
        ],
        [
            "pipeline",
            None,
            "Make all the requests at once and pipeline them on persistent connections.",
        ],
        [
            "trace",
            None,
            "Print each request and response message and the timing of each phase.",
        ],
        ["verbose", "v", "Print each request and response message on standard error."],
        ["fail", "f", "Exit 1 if a response's status is 400 or more."],
    ]
    optParameters = [
        ["method", "X", None, "The request method (default GET, or POST with a body)."],
        ["data", "d", None, "Send this text as the request body."],
        ["data-file", None, None, "Send this file's content as the request body; - for stdin."],
        ["range", "r", None, "Ask for part of the content: 0-99, 100-, -500 (RFC 9110 §14)."],
        [
            "if-modified-since",
            None,
            None,
            "Conditional GET: an HTTP date, or a file whose modification time to use "
            "(RFC 9110 §13.1.3).",
        ],
        [
            "if-none-match",
            None,
            None,
            'Conditional GET: an entity tag, such as "abc" or W/"abc" (RFC 9110 §13.1.2).',
        ],
        ["cookie-jar", None, None, "Read cookies from and save them to this file."],
        ["cacert", None, None, "Trust the certificate authorities in this PEM file for HTTPS."],
        ["max-redirects", None, 10, "Follow at most this many redirects.", int],
        ["max-connections", None, 6, "At most this many connections per origin.", int],
        ["timeout", None, DEFAULT_TIMEOUT, "Seconds each request may take.", float],
    ]

    def __init__(self) -> None:
        super().__init__()
        self["headers"] = []
        self["outputs"] = []

    def opt_header(self, value: str) -> None:
        """
        Add a header field, "Name: value" (repeatable).
        """
        name, colon, fieldValue = value.partition(":")
        if not colon or not name.strip():
            raise usage.UsageError(f"a header is 'Name: value', not {value!r}")
        self["headers"].append((name.strip(), fieldValue.strip()))

    opt_H = opt_header

    def opt_output(self, path: str) -> None:
        """
        Write the body to this file, not standard output (one per URL, in order).
        """
        self["outputs"].append(path)

    opt_o = opt_output

    def parseArgs(self, *urls: str) -> None:
        if not urls:
            raise usage.UsageError("at least one URL is required")
        for url in urls:
            try:
                splitURL(url)
            except HTTPClientError as e:
                raise usage.UsageError(str(e)) from None
        self["urls"] = list(urls)

    def postOptions(self) -> None:
        if self["data"] is not None and self["data-file"] is not None:
            raise usage.UsageError("give --data or --data-file, not both")
        if self["non-persistent"] and self["pipeline"]:
            raise usage.UsageError("--pipeline needs persistent connections")
        if self["if-modified-since"] is not None:
            self["if-modified-since"] = _httpDate(self["if-modified-since"])
        if self["range"] is not None:
            value = self["range"]
            self["range"] = value if value.startswith("bytes=") else "bytes=" + value
        if len(self["outputs"]) > len(self["urls"]):
            raise usage.UsageError("more -o files than URLs")
        if self["max-connections"] < 1:
            raise usage.UsageError("--max-connections must be at least 1")


def _httpDate(value: str) -> str:
    """
    An C{If-Modified-Since} value: C{value} itself if it is an HTTP date,
    else the modification time of the file it names, as an IMF-fixdate
    (RFC 9110 section 5.6.7).
    """
    if os.path.exists(value):
        return email.utils.formatdate(os.stat(value).st_mtime, usegmt=True)
    try:
        email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        raise usage.UsageError(
            f"--if-modified-since takes an HTTP date (Sun, 06 Nov 1994 08:49:37 GMT) or a "
            f"file, not {value!r}"
        ) from None
    return value


def _fileChunks(f: IO[bytes]) -> Iterator[bytes]:
    while True:
        piece = f.read(CHUNK_SIZE)
        if not piece:
            return
        yield piece


def _body(options: Options) -> Any:
    """
    The request body the options ask for: L{None}, bytes, or, with
    C{--chunked}, an iterator of pieces.
    """
    if options["data"] is not None:
        data = options["data"].encode("utf-8")
        return [data] if options["chunked"] else data
    path = options["data-file"]
    if path is None:
        return [] if options["chunked"] else None
    try:
        f: IO[bytes] = sys.stdin.buffer if path == "-" else open(path, "rb")
    except OSError as e:
        raise ToolError(f"cannot read {path}: {e.strerror}") from None
    if options["chunked"]:
        return _fileChunks(f)
    with f:
        return f.read()


def _headers(options: Options) -> Headers:
    headers = Headers()
    for name, value in options["headers"]:
        headers.add(name, value)
    if options["range"] is not None and "range" not in headers:
        headers.add("Range", options["range"])
    if options["if-modified-since"] is not None and "if-modified-since" not in headers:
        headers.add("If-Modified-Since", options["if-modified-since"])
    if options["if-none-match"] is not None and "if-none-match" not in headers:
        headers.add("If-None-Match", options["if-none-match"])
    return headers


def formatHead(response: ClientResponse) -> str:
    """
    @return: the status line and header fields of C{response}, with the
        empty line, as C{curl -I} prints them.
    """
    lines = [f"{response.version} {response.status} {response.reason}".rstrip()]
    for name, value in response.headers:
        lines.append(f"{name.decode('latin-1')}: {value.decode('latin-1')}")
    return "\r\n".join(lines) + "\r\n\r\n"


def formatTimings(response: ClientResponse) -> list[str]:
    """
    The lines C{--trace} prints after a response: what was fetched and when
    each phase happened, in milliseconds from the moment it was asked for.
    """
    how = "reused connection" if response.connectionReused else "new connection"
    lines = [
        f"* {response.method} {response.url}: {response.status} {response.reason}, "
        f"{len(response.body)} bytes, {how}"
    ]
    for phase, ms in response.timings.phases():
        lines.append(f"*   {PHASE_NAMES[phase]:<14}{ms:10.1f} ms")
    return lines


class _Printer:
    """
    Writes what the options ask for, for each response, in request order.
    """

    def __init__(self, options: Options, out: IO[bytes]) -> None:
        self.options = options
        self.out = out

    def write(self, index: int, response: ClientResponse) -> None:
        options = self.options
        text = sys.stdout
        if options["trace"]:
            for redirect in response.history:
                for line in formatTimings(redirect):
                    print(line, file=text)
            for line in formatTimings(response):
                print(line, file=text)
            text.flush()
        if options["head"] or options["include"]:
            if not options["trace"]:
                self.out.write(formatHead(response).encode("latin-1"))
        if options["head"]:
            self.out.flush()
            return
        outputs = options["outputs"]
        if index < len(outputs):
            try:
                with open(outputs[index], "wb") as f:
                    f.write(response.body)
            except OSError as e:
                raise ToolError(f"cannot write {outputs[index]}: {e.strerror}") from None
        elif not options["trace"]:
            self.out.write(response.body)
            self.out.flush()


def _describeFailure(url: str, e: BaseException) -> str:
    if isinstance(e, HTTPClientError):
        return str(e)
    if isinstance(e, error.ConnectError):
        return f"{url}: {e.__class__.__name__}: {e}"
    return f"{url}: {e}"


def run(reactor: Any, options: Options) -> Deferred[None]:
    """
    Run C{netref get}: fetch every URL and print the responses.

    @return: fires when every response is printed, or fails with
        L{ToolError} when a request got no response (or, with C{--fail}, an
        error status).
    """

    async def main() -> None:
        printer = None
        if options["trace"]:
            printer = startPrintingTranscripts(sys.stdout)
        elif options["verbose"]:
            printer = startPrintingTranscripts(sys.stderr)
        try:
            await _get(reactor, options)
        finally:
            if printer is not None:
                stopPrintingTranscripts(printer)

    return Deferred.fromCoroutine(main())


async def _get(reactor: Any, options: Options) -> None:
    jar = None
    jarPath = options["cookie-jar"]
    if jarPath is not None:
        jar = CookieJar(clock=reactor)
        if os.path.exists(jarPath):
            try:
                jar.load(jarPath)
            except (OSError, ValueError) as e:
                raise ToolError(f"cannot read the cookie jar {jarPath}: {e}") from None
    try:
        client = HTTPClient(
            reactor,
            persistent=not options["non-persistent"],
            pipelining=options["pipeline"],
            maxConnectionsPerOrigin=options["max-connections"],
            trustRoot=options["cacert"],
            cookieJar=jar,
            followRedirects=options["location"],
            maxRedirects=options["max-redirects"],
            timeout=options["timeout"],
        )
    except (OSError, ValueError) as e:
        raise ToolError(f"cannot use --cacert {options['cacert']}: {e}") from None
    method = options["method"]
    if method is None:
        if options["head"]:
            method = "HEAD"
        elif options["data"] is not None or options["data-file"] is not None:
            method = "POST"
        else:
            method = "GET"
    printer = _Printer(options, sys.stdout.buffer)
    urls: list[str] = options["urls"]
    failed: list[str] = []

    def check(url: str, response: ClientResponse) -> None:
        if options["fail"] and response.status >= 400:
            failed.append(f"{url}: {response.status} {response.reason}")

    try:
        if options["pipeline"]:
            requests = [
                client.request(method, url, _headers(options), _body(options)) for url in urls
            ]
            try:
                responses = await gatherResults(requests, consumeErrors=True)
            except FirstError as e:
                url = urls[e.index]
                reason = e.subFailure.value
                assert reason is not None
                raise ToolError(_describeFailure(url, reason)) from None
            for index, (url, response) in enumerate(zip(urls, responses, strict=True)):
                printer.write(index, response)
                check(url, response)
        else:
            for index, url in enumerate(urls):
                try:
                    response = await client.request(method, url, _headers(options), _body(options))
                except ToolError:
                    raise
                except Exception as e:
                    raise ToolError(_describeFailure(url, e)) from None
                printer.write(index, response)
                check(url, response)
    finally:
        await client.close()
        if jar is not None:
            try:
                jar.save(jarPath)
            except OSError as e:
                raise ToolError(f"cannot write the cookie jar {jarPath}: {e.strerror}") from None
    if failed:
        raise ToolError("; ".join(failed))
