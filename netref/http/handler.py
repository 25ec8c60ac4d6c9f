"""
What an HTTP handler sees and returns, and the small handlers every server
composes: a router by path and HTTP Basic authentication.

The server (L{netref.http.server}) reads a whole request off the wire,
turns it into an L{HTTPRequest} and asks an L{IHandler} for an
L{HTTPResponse}.  A handler never touches bytes on the wire: framing,
persistence and the order of pipelined answers are the server's and the
wire module's business (DESIGN.md: data flows one way).

The method rules of RFC 9110 section 9 live in L{dispatch}, so that the
server and the L{Router} apply the same ones: a method the handler does
not list gets C{405 Method Not Allowed} with an C{Allow} field (section
15.5.6); C{HEAD} is C{GET} without the body (section 9.3.2); C{OPTIONS}
answers with C{Allow} (section 9.3.7).

Every name here is importable from L{netref.http.server} too.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, cast
from urllib.parse import parse_qs

from twisted.cred.checkers import ICredentialsChecker
from twisted.cred.credentials import UsernamePassword
from twisted.cred.error import UnauthorizedLogin
from twisted.internet.defer import Deferred, maybeDeferred
from twisted.internet.interfaces import IAddress
from twisted.python.failure import Failure
from zope.interface import Attribute, Interface, implementer

from netref.http.wire import Headers

__all__ = [
    "BasicAuthHandler",
    "BodyPart",
    "FileBody",
    "HTTPRequest",
    "HTTPResponse",
    "IHandler",
    "Router",
    "allowHeader",
    "dispatch",
    "isLoopback",
    "parseBasicCredentials",
    "textResponse",
]


@dataclass(slots=True)
class HTTPRequest:
    """
    A whole request, as a handler sees it: the body is already read.

    @ivar method: the method, such as C{"GET"} (RFC 9110 section 9).
    @ivar target: the request-target as sent, latin-1 decoded (RFC 9112
        section 3.2).
    @ivar path: the target's path, percent-decoded as UTF-8 (RFC 3986
        section 2.1); a path that does not decode was answered with 400
        before any handler saw it.
    @ivar query: the query without its C{?}, still percent-encoded; C{""}
        if none.
    @ivar version: C{"HTTP/1.1"} or C{"HTTP/1.0"}.
    @ivar headers: the header fields.
    @ivar body: the content, de-chunked.
    @ivar client: the peer's address.
    @ivar secure: whether the request came over TLS.
    @ivar avatarId: who the client proved to be, set by L{BasicAuthHandler}.
    """

    method: str
    target: str
    path: str
    query: str
    version: str
    headers: Headers
    body: bytes
    client: IAddress | None
    secure: bool
    avatarId: str | None = None

    def header(self, name: str) -> str | None:
        """
        @return: the combined value of the fields called C{name} (RFC 9110
            section 5.3), latin-1 decoded, or L{None} if there is none.
        """
        value = self.headers.get(name)
        if value is None:
            return None
        return value.decode("latin-1")

    def queryArguments(self) -> dict[str, list[str]]:
        """
        @return: the query's C{name=value} pairs, decoded as an HTML form's
            (C{urllib.parse.parse_qs}).
        """
        return parse_qs(self.query)


@dataclass(slots=True)
class FileBody:
    """
    A body that is (part of) a file, which the server streams in blocks
    rather than reading it into memory.

    @ivar path: the file.
    @ivar offset: where the part starts.
    @ivar length: how many octets; L{None} for up to the end of the file,
        as long as it is when the response is sent.
    """

    path: str
    offset: int = 0
    length: int | None = None


#: One part of a body sent part by part (a C{multipart/byteranges} body,
#: RFC 9110 section 14.6).
BodyPart = bytes | FileBody


@dataclass(slots=True)
class HTTPResponse:
    """
    What a handler answers.

    The server adds C{Content-Length} (from the body; file lengths as they
    are when it is sent), C{Date} and C{Server}.

    @ivar status: the status code (RFC 9110 section 15).
    @ivar headers: the header fields.
    @ivar body: the content: bytes, a L{FileBody}, or a sequence of parts
        sent one after the other.
    """

    status: int = 200
    headers: Headers = field(default_factory=Headers)
    body: bytes | FileBody | Sequence[BodyPart] = b""


class IHandler(Interface):
    """
    Something that answers requests: a file tree, a router, an application.
    """

    allowedMethods = Attribute(
        "The methods handle() is called for (a sequence of str).  Others get "
        "405 with Allow; HEAD is served as GET unless listed; OPTIONS gets 204 "
        "with Allow unless listed."
    )

    def handle(request: HTTPRequest) -> HTTPResponse | Deferred[HTTPResponse]:  # noqa: N805
        """
        Answer C{request}, now or later.
        """


def textResponse(
    status: int, text: str, headers: Sequence[tuple[str, str]] | Headers = ()
) -> HTTPResponse:
    """
    A short C{text/plain} answer, such as an error's explanation.

    @param status: the status code.
    @param text: the body; a newline is added if missing.
    @param headers: more header fields.
    """
    fields = Headers(headers if isinstance(headers, Headers) else list(headers))
    fields.set("Content-Type", "text/plain; charset=utf-8")
    if not text.endswith("\n"):
        text += "\n"
    return HTTPResponse(status, fields, text.encode("utf-8"))


def allowHeader(handler: Any) -> str:
    """
    The C{Allow} value for a handler (RFC 9110 section 10.2.1): its methods,
    plus C{HEAD} when it serves C{GET} and C{OPTIONS}, which the server
    always answers.
    """
    methods = list(handler.allowedMethods)
    if "GET" in methods and "HEAD" not in methods:
        methods.insert(methods.index("GET") + 1, "HEAD")
    if "OPTIONS" not in methods:
        methods.append("OPTIONS")
    return ", ".join(methods)


def dispatch(handler: Any, request: HTTPRequest) -> HTTPResponse | Deferred[HTTPResponse]:
    """
    Apply the method rules of RFC 9110 section 9 and call the handler.

      - a method C{handler.allowedMethods} lists: C{handler.handle(request)};
      - C{HEAD} when only C{GET} is listed: the handler answers it as a
        C{GET}, and the wire layer drops the body but keeps the header
        fields, C{Content-Length} included (section 9.3.2);
      - C{OPTIONS} when not listed: C{204} with C{Allow} (section 9.3.7);
      - anything else: C{405} with C{Allow} (section 15.5.6).

    @param handler: an L{IHandler}.
    """
    method = request.method
    allowed = handler.allowedMethods
    if method in allowed:
        return cast("HTTPResponse | Deferred[HTTPResponse]", handler.handle(request))
    if method == "HEAD" and "GET" in allowed:
        return cast(
            "HTTPResponse | Deferred[HTTPResponse]",
            handler.handle(replace(request, method="GET")),
        )
    if method == "OPTIONS":
        return HTTPResponse(204, Headers([("Allow", allowHeader(handler))]))
    return textResponse(405, f"{method} is not allowed here.", [("Allow", allowHeader(handler))])


@implementer(IHandler)
class Router:
    """
    Hands each request to the handler routed at the longest prefix of its
    path, on segment boundaries: C{/files} matches C{/files} and
    C{/files/x}, not C{/filesx}.  C{/} matches every path.  A path no
    prefix matches gets 404.

    The routed handler sees the request unchanged (its path still begins
    with the prefix).  An C{OPTIONS *} request (RFC 9112 section 3.2.4)
    is answered with every method some route takes.
    """

    def __init__(self) -> None:
        self._routes: dict[str, Any] = {}
        self._order: list[str] = []
        self._methods: tuple[str, ...] | None = None

    @property
    def allowedMethods(self) -> Sequence[str]:
        """
        Every method some route takes, with C{HEAD} and C{OPTIONS}: the
        routed handler applies its own rules through L{dispatch}.  Worked
        out once per change of routes, as the server asks for every request.
        """
        if self._methods is None:
            self._methods = tuple(self._allMethods())
        return self._methods

    def _allMethods(self) -> list[str]:
        methods: list[str] = []
        for prefix in self._order:
            for method in self._routes[prefix].allowedMethods:
                if method not in methods:
                    methods.append(method)
        for method in ("HEAD", "OPTIONS"):
            if method not in methods:
                methods.append(method)
        return methods

    def route(self, prefix: str, handler: Any) -> None:
        """
        Send requests for C{prefix} and the paths below it to C{handler}.

        @param prefix: an absolute path, such as C{"/visits"}; a trailing
            C{/} is ignored (except in C{"/"}).
        @param handler: an L{IHandler}.
        @raise ValueError: if C{prefix} does not start with C{/}.
        """
        if not prefix.startswith("/"):
            raise ValueError(f"a route's prefix is an absolute path, not {prefix!r}")
        if prefix != "/":
            prefix = prefix.rstrip("/")
        if prefix not in self._routes:
            self._order.append(prefix)
        self._routes[prefix] = handler
        self._methods = None

    def handlerFor(self, path: str) -> Any | None:
        """
        @return: the handler routed at the longest prefix of C{path}, or
            L{None}.
        """
        routes = self._routes
        candidate = path
        while True:
            handler = routes.get(candidate)
            if handler is not None:
                return handler
            if candidate == "/" or not candidate:
                return None
            cut = candidate.rfind("/")
            candidate = candidate[:cut] if cut > 0 else "/"

    def handle(self, request: HTTPRequest) -> HTTPResponse | Deferred[HTTPResponse]:
        """
        Route C{request}.
        """
        if request.target == "*":
            return HTTPResponse(204, Headers([("Allow", ", ".join(self.allowedMethods))]))
        handler = self.handlerFor(request.path)
        if handler is None:
            return textResponse(404, f"Nothing is at {request.path}.")
        return dispatch(handler, request)


@implementer(IHandler)
class BasicAuthHandler:
    """
    Guards some methods of a handler with HTTP Basic authentication (RFC
    7617) against a C{twisted.cred} checker.

    A request with one of the guarded methods needs an C{Authorization:
    Basic} field whose user-id and password the checker accepts; then
    C{request.avatarId} is the user's name and the wrapped handler answers.
    Without credentials, or with wrong ones, the answer is C{401} with a
    C{WWW-Authenticate} challenge (RFC 9110 section 11.6.1; RFC 7617
    section 2, with C{charset="UTF-8"}, section 2.1).  A user the checker
    accepts but C{authorize} refuses gets C{403} (RFC 9110 section 15.5.4).

    Basic sends the password in the clear: C{requireSecure} refuses
    (C{403}) guarded requests that came neither over TLS nor from a
    loopback address (where nobody else can read them; DESIGN.md: plaintext
    credentials only over TLS unless explicitly allowed).
    """

    def __init__(
        self,
        handler: Any,
        checker: ICredentialsChecker,
        realm: str,
        methods: Sequence[str] = ("PUT", "DELETE"),
        authorize: Callable[[str, HTTPRequest], bool] | None = None,
        requireSecure: bool = False,
    ) -> None:
        """
        @param handler: the L{IHandler} to guard.
        @param checker: checks C{IUsernamePassword} credentials.
        @param realm: the protection space's name, shown to the user.
        @param methods: the methods that need credentials.
        @param authorize: C{(avatarId, request) -> bool}, whether an
            authenticated user may make the request; everyone may when
            L{None}.
        @param requireSecure: refuse guarded requests over plain TCP from
            anywhere but loopback.
        """
        self.handler = handler
        self.checker = checker
        self.realm = realm
        self.methods = frozenset(methods)
        self.authorize = authorize
        self.requireSecure = requireSecure
        quoted = realm.replace("\\", "\\\\").replace('"', '\\"')
        self._challenge = f'Basic realm="{quoted}", charset="UTF-8"'

    @property
    def allowedMethods(self) -> Sequence[str]:
        """
        The wrapped handler's methods.
        """
        return cast("Sequence[str]", self.handler.allowedMethods)

    def _unauthorized(self, why: str) -> HTTPResponse:
        return textResponse(401, why, [("WWW-Authenticate", self._challenge)])

    def handle(self, request: HTTPRequest) -> HTTPResponse | Deferred[HTTPResponse]:
        """
        Check the credentials of a guarded request, then pass it on.
        """
        if request.method not in self.methods:
            return dispatch(self.handler, request)
        if self.requireSecure and not request.secure and not isLoopback(request.client):
            return textResponse(403, "Credentials are accepted over HTTPS only.")
        credentials = parseBasicCredentials(request.header("Authorization"))
        if credentials is None:
            return self._unauthorized("This needs a user name and password.")
        username, password = credentials

        def accepted(avatarId: bytes | str) -> HTTPResponse | Deferred[HTTPResponse]:
            name = avatarId.decode("utf-8") if isinstance(avatarId, bytes) else str(avatarId)
            if self.authorize is not None and not self.authorize(name, request):
                return textResponse(403, f"{name} may not {request.method} here.")
            request.avatarId = name
            return dispatch(self.handler, request)

        def refused(failure: Failure) -> HTTPResponse:
            failure.trap(UnauthorizedLogin)
            return self._unauthorized("Wrong user name or password.")

        checked = maybeDeferred(self.checker.requestAvatarId, UsernamePassword(username, password))
        return cast("Deferred[HTTPResponse]", checked.addCallbacks(accepted, refused))


def isLoopback(address: IAddress | None) -> bool:
    """
    @return: whether C{address} is an IPv4 or IPv6 loopback address
        (127.0.0.0/8, C{::1}), whose traffic never leaves the host.
    """
    host = getattr(address, "host", None)
    if not isinstance(host, str):
        return False
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def parseBasicCredentials(value: str | None) -> tuple[bytes, bytes] | None:
    """
    Read C{Authorization: Basic <base64(user-id ":" password)>} (RFC 7617
    section 2).  The scheme name is case-insensitive (RFC 9110 section
    11.1); the user-id may not contain a colon, the password may.

    @return: the user-id and password as UTF-8 octets, or L{None} if
        C{value} is missing or not Basic credentials.
    """
    if value is None:
        return None
    scheme, _, token = value.strip().partition(" ")
    if scheme.lower() != "basic" or not token:
        return None
    try:
        decoded = base64.b64decode(token.strip().encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        return None
    username, colon, password = decoded.partition(b":")
    if not colon:
        return None
    return username, password
