"""
C{twistd netref-http}: a Web server for a directory.

By default it listens on port 8080 of 127.0.0.1 (HTTP's well-known port is
80, HTTPS's 443; both need root)::

    twistd -n netref-http --root ~/www
    twistd -n netref-http --root ~/www --access-log - --trace
    twistd -n netref-http --root ~/www --writable --user alice:secret
    twistd -n netref-http --root ~/www --state ~/.netref-http --tls auto \\
        --listen tcp:8080:interface=127.0.0.1 --listen ssl:8443:interface=127.0.0.1

The files of C{--root} are served with conditional requests and ranges
(L{netref.http.static.StaticFiles}); C{/visits} is the textbook's cookie
example (L{netref.http.sessions.VisitTracker}), whose sessions are kept in
C{sessions.sqlite3} in the C{--state} directory, or in memory without one.
With C{--writable}, C{PUT} and C{DELETE} change the files, for users named
by C{--user NAME:PASSWORD} or C{--users FILE}, who log in with HTTP Basic
authentication (RFC 7617): over HTTPS, or from a loopback address, unless
C{--plaintext-auth} accepts passwords in the clear from anywhere.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any

from twisted.application.service import IService, MultiService
from twisted.python import usage

from netref.core.service import (
    AccountOptions,
    ServiceOptions,
    listenOn,
    startTracingIfAsked,
    streamService,
)
from netref.http.server import (
    IDLE_TIMEOUT,
    REQUEST_TIMEOUT,
    BasicAuthHandler,
    HTTPFactory,
    Router,
    printAccessLog,
)

#: netref's HTTP port: unprivileged, unlike the well-known 80.
HTTP_PORT = 8080
#: netref's HTTPS port: unprivileged, unlike the well-known 443.
HTTPS_PORT = 8443
#: The realm of the Basic authentication for uploads.
REALM = "netref"
#: Where the visit tracker keeps its sessions, in the --state directory.
SESSIONS_FILE = "sessions.sqlite3"


class Options(ServiceOptions, AccountOptions):
    """
    Options of C{twistd netref-http}.
    """

    synopsis = (
        "--root DIR [--writable --user NAME:PASSWORD ...] [--listen DESCRIPTION ...] "
        "[--tls auto] [--access-log FILE|-] [--trace]"
    )
    longdesc = (
        "An HTTP/1.1 server (RFC 9110, RFC 9112) for the files of a directory, with "
        "persistent connections, pipelining, conditional requests and ranges. "
        f"Listens on tcp:{HTTP_PORT}:interface=127.0.0.1 unless --listen is given; the "
        f"well-known ports are 80 (HTTP) and 443 (HTTPS; netref's default {HTTPS_PORT}). "
        "HTTPS: --listen ssl:8443:interface=127.0.0.1 --tls auto --state DIR. "
        "/visits is the textbook's cookie example. --writable lets the users of --user or "
        "--users PUT and DELETE files, with HTTP Basic authentication."
    )

    defaultListen = (f"tcp:{HTTP_PORT}:interface=127.0.0.1",)

    optFlags = [
        ["writable", None, "Accept PUT and DELETE from authenticated users."],
        ["allow-trace", None, "Answer TRACE (it echoes requests, credentials included)."],
        [
            "plaintext-auth",
            None,
            "With --writable, accept passwords over plain HTTP from anywhere "
            "(by default only over HTTPS, or from loopback addresses).",
        ],
    ]
    optParameters: list[list[Any]] = [
        ["root", None, None, "The directory to serve."],
        [
            "access-log",
            None,
            None,
            "Write a Common Log Format line per response to FILE ('-': standard output).",
        ],
        [
            "idle-timeout",
            None,
            IDLE_TIMEOUT,
            "Seconds a connection may have nothing to do.",
            float,
        ],
        [
            "request-timeout",
            None,
            REQUEST_TIMEOUT,
            "Seconds a request's head may take to arrive, and its body may stall.",
            float,
        ],
    ]

    def postOptions(self) -> None:
        """
        Check the options, so that a mistake is a usage error before
        anything starts.
        """
        super().postOptions()
        root = self["root"]
        if root is None:
            raise usage.UsageError("give the directory to serve: --root DIR")
        if not os.path.isdir(root):
            raise usage.UsageError(f"--root {root}: not a directory")
        if self["writable"] and not self.hasAccounts():
            raise usage.UsageError(
                "--writable needs accounts: --user NAME:PASSWORD or --users FILE"
            )
        if self["idle-timeout"] <= 0 or self["request-timeout"] <= 0:
            raise usage.UsageError("timeouts must be positive")
        self.checker = self.accountsChecker()


def makeHandler(
    root: str,
    writable: bool = False,
    checker: Any = None,
    sessions: str = ":memory:",
    plaintextAuth: bool = False,
) -> Router:
    """
    The handler of a C{netref-http} server: the files of C{root} at C{/},
    the visit tracker at C{/visits}.

    @param writable: accept C{PUT} and C{DELETE}, for users C{checker}
        accepts.
    @param checker: a C{twisted.cred} checker of user names and passwords.
    @param sessions: the SQLite file of the visit tracker's sessions.
    @param plaintextAuth: accept passwords over plain HTTP from any
        address, not only over HTTPS or from loopback.
    """
    from twisted.internet import reactor

    from netref.http.sessions import SessionStore, VisitTracker
    from netref.http.static import StaticFiles

    files: Any = StaticFiles(root, writable=writable)
    if writable:
        files = BasicAuthHandler(
            files, checker, REALM, methods=("PUT", "DELETE"), requireSecure=not plaintextAuth
        )
    router = Router()
    router.route("/", files)
    router.route("/visits", VisitTracker(SessionStore(sessions, reactor)))
    return router


def _accessLog(destination: str | None) -> Callable[[str], None] | None:
    if destination is None:
        return None
    if destination == "-":
        return printAccessLog(sys.stdout)
    try:
        out = open(destination, "a", encoding="utf-8")  # noqa: SIM115 - the server's lifetime
    except OSError as e:
        raise usage.UsageError(f"--access-log {destination}: {e.strerror}") from None
    return printAccessLog(out)


def makeService(options: Options) -> MultiService:
    """
    @return: one listening service per C{--listen} description, all serving
        the same files.
    """
    state = options.stateDirectory()
    sessions = state.child(SESSIONS_FILE).path if state is not None else ":memory:"
    handler = makeHandler(
        options["root"],
        options["writable"],
        options.checker,
        sessions,
        plaintextAuth=options["plaintext-auth"],
    )
    factory = HTTPFactory(
        handler,
        idleTimeout=options["idle-timeout"],
        requestTimeout=options["request-timeout"],
        accessLog=_accessLog(options["access-log"]),
        allowTrace=options["allow-trace"],
    )
    top = listenOn(options.listenDescriptions(), factory)
    startTracingIfAsked(options)
    return top


def makeHTTPServices(interface: str, port: int, root: str) -> list[IService]:
    """
    The Web server of one host, for the lab (or any program that composes
    services): the files of C{root}, read-only, and C{/visits}.

    @param interface: the IPv4 or IPv6 address to listen on.
    @param port: the TCP port.
    @return: one TCP service, not yet started nor given a parent.
    """
    escaped = interface.replace(":", "\\:")
    factory = HTTPFactory(makeHandler(root))
    return [streamService(f"tcp:{port}:interface={escaped}", factory)]
