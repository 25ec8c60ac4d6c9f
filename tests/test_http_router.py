"""
Tests for the handlers of L{netref.http.handler} (importable from
L{netref.http.server}): L{dispatch}, L{Router} and L{BasicAuthHandler}.
"""

from __future__ import annotations

import base64
from typing import Any

from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.defer import Deferred
from twisted.trial.unittest import SynchronousTestCase
from zope.interface import implementer
from zope.interface.verify import verifyObject

from netref.core.auth import MemoryPasswordChecker, ScryptParameters, runSynchronously
from netref.http.server import (
    BasicAuthHandler,
    HTTPRequest,
    HTTPResponse,
    IHandler,
    Router,
    allowHeader,
    dispatch,
    isLoopback,
    parseBasicCredentials,
    textResponse,
)
from netref.http.wire import Headers


def makeRequest(
    method: str = "GET",
    path: str = "/",
    headers: list[tuple[str, str]] | None = None,
    secure: bool = False,
) -> HTTPRequest:
    return HTTPRequest(
        method, path, path, "", "HTTP/1.1", Headers(headers or []), b"", None, secure
    )


def resolved(result: HTTPResponse | Deferred[HTTPResponse]) -> HTTPResponse:
    """
    @return: the response, waiting for a Deferred that has already fired.
    """
    if isinstance(result, HTTPResponse):
        return result
    answers: list[HTTPResponse] = []
    result.addCallback(answers.append)
    assert answers, "the Deferred has not fired"
    return answers[0]


@implementer(IHandler)
class Named:
    """
    Answers with its name, and records what it saw.
    """

    def __init__(self, name: str, methods: tuple[str, ...] = ("GET",)) -> None:
        self.name = name
        self.allowedMethods = methods
        self.seen: list[HTTPRequest] = []

    def handle(self, request: HTTPRequest) -> HTTPResponse:
        self.seen.append(request)
        return textResponse(200, self.name)


class DispatchTests(SynchronousTestCase):
    """
    The method rules of RFC 9110 section 9, in L{dispatch}.
    """

    def test_allowed(self) -> None:
        handler = Named("a", ("GET", "POST"))
        self.assertEqual(resolved(dispatch(handler, makeRequest("POST"))).body, b"a\n")

    def test_headAsGet(self) -> None:
        handler = Named("a")
        self.assertEqual(resolved(dispatch(handler, makeRequest("HEAD"))).status, 200)
        self.assertEqual(handler.seen[0].method, "GET")

    def test_headListed(self) -> None:
        handler = Named("a", ("GET", "HEAD"))
        dispatch(handler, makeRequest("HEAD"))
        self.assertEqual(handler.seen[0].method, "HEAD")

    def test_405(self) -> None:
        response = resolved(dispatch(Named("a"), makeRequest("DELETE")))
        self.assertEqual(response.status, 405)
        self.assertEqual(response.headers.get("Allow"), b"GET, HEAD, OPTIONS")

    def test_options(self) -> None:
        response = resolved(dispatch(Named("a", ("GET", "PUT")), makeRequest("OPTIONS")))
        self.assertEqual(response.status, 204)
        self.assertEqual(response.headers.get("Allow"), b"GET, HEAD, PUT, OPTIONS")

    def test_allowHeader(self) -> None:
        self.assertEqual(allowHeader(Named("a", ("POST",))), "POST, OPTIONS")
        self.assertEqual(allowHeader(Named("a", ("OPTIONS", "GET"))), "OPTIONS, GET, HEAD")


class RouterTests(SynchronousTestCase):
    """
    L{Router}: the longest prefix, on segment boundaries.
    """

    def setUp(self) -> None:
        self.router = Router()
        self.root = Named("root")
        self.files = Named("files", ("GET", "PUT"))
        self.deep = Named("deep")
        self.router.route("/", self.root)
        self.router.route("/files/", self.files)
        self.router.route("/files/a/b", self.deep)

    def nameFor(self, path: str, method: str = "GET") -> bytes:
        response = resolved(self.router.handle(makeRequest(method, path)))
        return response.body

    def test_provides(self) -> None:
        self.assertTrue(verifyObject(IHandler, self.router))

    def test_longestPrefix(self) -> None:
        self.assertEqual(self.nameFor("/"), b"root\n")
        self.assertEqual(self.nameFor("/other"), b"root\n")
        self.assertEqual(self.nameFor("/files"), b"files\n")
        self.assertEqual(self.nameFor("/files/"), b"files\n")
        self.assertEqual(self.nameFor("/files/x/y"), b"files\n")
        self.assertEqual(self.nameFor("/files/a/b"), b"deep\n")
        self.assertEqual(self.nameFor("/files/a/b/c"), b"deep\n")
        self.assertEqual(self.nameFor("/files/a/bc"), b"files\n")

    def test_segmentBoundary(self) -> None:
        """
        C{/files} does not match C{/filesx}: without a route at C{/}, that
        is 404.
        """
        router = Router()
        router.route("/files", self.files)
        self.assertEqual(resolved(router.handle(makeRequest("GET", "/filesx"))).status, 404)
        self.assertEqual(resolved(router.handle(makeRequest("GET", "/files/x"))).status, 200)

    def test_pathUnchanged(self) -> None:
        self.nameFor("/files/x")
        self.assertEqual(self.files.seen[0].path, "/files/x")

    def test_perRouteMethods(self) -> None:
        """
        Each route's own methods apply: PUT reaches C{/files}, and is 405
        at C{/} with that route's C{Allow}.
        """
        self.assertEqual(self.nameFor("/files/x", "PUT"), b"files\n")
        response = resolved(self.router.handle(makeRequest("PUT", "/x")))
        self.assertEqual(response.status, 405)
        self.assertEqual(response.headers.get("Allow"), b"GET, HEAD, OPTIONS")

    def test_allowedMethods(self) -> None:
        self.assertEqual(list(self.router.allowedMethods), ["GET", "PUT", "HEAD", "OPTIONS"])
        self.router.route("/more", Named("more", ("POST",)))
        self.assertIn("POST", self.router.allowedMethods)

    def test_optionsAsterisk(self) -> None:
        request = makeRequest("OPTIONS", "*")
        response = resolved(self.router.handle(request))
        self.assertEqual(response.status, 204)
        self.assertEqual(response.headers.get("Allow"), b"GET, PUT, HEAD, OPTIONS")

    def test_replace(self) -> None:
        other = Named("other")
        self.router.route("/files", other)
        self.assertEqual(self.nameFor("/files/x"), b"other\n")

    def test_badPrefix(self) -> None:
        self.assertRaises(ValueError, self.router.route, "files", self.files)


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


class BasicAuthTests(SynchronousTestCase):
    """
    L{BasicAuthHandler}: RFC 7617 against a cred checker.
    """

    def setUp(self) -> None:
        self.files = Named("files", ("GET", "PUT", "DELETE"))
        self.checker = MemoryPasswordChecker.fromUserSpecs(
            ["alice:wonder", "bob:builder"], ScryptParameters(n=16, r=1, p=1), runSynchronously
        )
        self.guard = BasicAuthHandler(self.files, self.checker, 'my "realm"')

    def answer(self, method: str, **kwargs: Any) -> HTTPResponse:
        return resolved(self.guard.handle(makeRequest(method, "/f", **kwargs)))

    def test_unguardedMethod(self) -> None:
        self.assertEqual(self.answer("GET").status, 200)
        self.assertIsNone(self.files.seen[0].avatarId)

    def test_noCredentials(self) -> None:
        response = self.answer("PUT")
        self.assertEqual(response.status, 401)
        self.assertEqual(
            response.headers.get("WWW-Authenticate"),
            b'Basic realm="my \\"realm\\"", charset="UTF-8"',
        )
        self.assertEqual(self.files.seen, [])

    def test_wrongPassword(self) -> None:
        response = self.answer("PUT", headers=[("Authorization", basic("alice", "nope"))])
        self.assertEqual(response.status, 401)
        self.assertEqual(self.files.seen, [])

    def test_notBasic(self) -> None:
        response = self.answer("DELETE", headers=[("Authorization", "Bearer abc")])
        self.assertEqual(response.status, 401)

    def test_accepted(self) -> None:
        response = self.answer("PUT", headers=[("Authorization", basic("alice", "wonder"))])
        self.assertEqual(response.status, 200)
        self.assertEqual(self.files.seen[0].avatarId, "alice")

    def test_forbidden(self) -> None:
        """
        A user the checker accepts but C{authorize} refuses gets 403.
        """
        guard = BasicAuthHandler(
            self.files, self.checker, "r", authorize=lambda user, request: user == "alice"
        )
        request = makeRequest("DELETE", "/f", [("Authorization", basic("bob", "builder"))])
        self.assertEqual(resolved(guard.handle(request)).status, 403)
        self.assertEqual(self.files.seen, [])

    def test_requireSecure(self) -> None:
        """
        With C{requireSecure}, credentials are refused over plain TCP from a
        remote address, and accepted over TLS or from loopback.
        """
        guard = BasicAuthHandler(self.files, self.checker, "r", requireSecure=True)
        headers = [("Authorization", basic("alice", "wonder"))]
        remote = makeRequest("PUT", "/f", headers)
        remote.client = IPv4Address("TCP", "192.0.2.7", 5000)
        self.assertEqual(resolved(guard.handle(remote)).status, 403)
        secure = makeRequest("PUT", "/f", headers, secure=True)
        secure.client = remote.client
        self.assertEqual(resolved(guard.handle(secure)).status, 200)
        for host in ("127.0.0.1", "127.3.2.1"):
            local = makeRequest("PUT", "/f", headers)
            local.client = IPv4Address("TCP", host, 5000)
            self.assertEqual(resolved(guard.handle(local)).status, 200)
        local6 = makeRequest("PUT", "/f", headers)
        local6.client = IPv6Address("TCP", "::1", 5000)
        self.assertEqual(resolved(guard.handle(local6)).status, 200)

    def test_isLoopback(self) -> None:
        self.assertTrue(isLoopback(IPv4Address("TCP", "127.0.0.1", 1)))
        self.assertTrue(isLoopback(IPv6Address("TCP", "::1", 1)))
        self.assertFalse(isLoopback(IPv4Address("TCP", "10.0.0.1", 1)))
        self.assertFalse(isLoopback(None))

    def test_allowedMethods(self) -> None:
        self.assertEqual(self.guard.allowedMethods, ("GET", "PUT", "DELETE"))

    def test_parse(self) -> None:
        self.assertEqual(parseBasicCredentials(basic("a", "b:c")), (b"a", b"b:c"))
        self.assertEqual(
            parseBasicCredentials("basic " + basic("é", "x")[6:]), ("é".encode(), b"x")
        )
        for bad in (None, "Basic", "Basic !!!", "Basic " + base64.b64encode(b"nocolon").decode()):
            self.assertIsNone(parseBasicCredentials(bad))
