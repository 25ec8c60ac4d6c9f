"""
The web site's side of cookies: a back-end database of visitors, and the
textbook's Amazon example as a handler.

Section 2.2.4 of the textbook: Susan visits Amazon for the first time; the
server makes up an identification number, 1678, puts an entry for it in its
back-end database and answers with C{Set-cookie: 1678}.  Her browser stores
it and sends C{Cookie: 1678} with every later request, and the server, which
is stateless by itself, recognises her.

L{SessionStore} is that database, on SQLite (the stdlib's C{sqlite3}): one
row per session with its id, when it was first and last seen, and how many
visits it made.  L{VisitTracker} is the page that sets and reads the cookie.

The store's calls block, briefly, on a local file: SQLite commits a row in
well under a millisecond on a local disk, which is acceptable on the reactor
thread for a teaching server.  A busy site would run them in a thread pool
(C{twisted.enterprise.adbapi}) instead.
"""

from __future__ import annotations

import html
import secrets
import sqlite3
from dataclasses import dataclass
from typing import Protocol

from zope.interface import implementer

from netref.http.conditional import formatHTTPDate
from netref.http.cookies import SetCookie, parseCookieHeader
from netref.http.handler import HTTPRequest, HTTPResponse, IHandler
from netref.http.wire import Headers

__all__ = ["Session", "SessionStore", "VisitTracker"]


class _Clock(Protocol):
    def seconds(self) -> float: ...


@dataclass(frozen=True)
class Session:
    """
    One visitor, as the back-end database knows them.

    @ivar id: the identification number the cookie carries.
    @ivar firstSeen: when the session began, in seconds since the epoch.
    @ivar lastSeen: the time of its latest visit.
    @ivar visits: how many requests it made, the first one included.
    """

    id: str
    firstSeen: float
    lastSeen: float
    visits: int


_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,
    firstSeen REAL NOT NULL,
    lastSeen REAL NOT NULL,
    visits INTEGER NOT NULL
)
"""


class SessionStore:
    """
    The sessions, in an SQLite database.

    Each change is committed before the method returns (DESIGN.md: durable
    before acknowledged), so a restarted server still knows its visitors.
    """

    def __init__(self, path: str, clock: _Clock) -> None:
        """
        @param path: the database file, created if missing; C{":memory:"}
            for one that lasts as long as the store.
        @param clock: where the times come from (C{seconds()}).
        """
        self.path = path
        self.clock = clock
        self._db = sqlite3.connect(path, isolation_level=None)
        self._db.execute(_SCHEMA)

    def close(self) -> None:
        """
        Close the database.
        """
        self._db.close()

    def create(self) -> Session:
        """
        Start a session with a new, unguessable id (128 random bits,
        C{secrets.token_urlsafe(16)}): a guessable id would let anyone pose
        as another visitor.
        """
        now = self.clock.seconds()
        while True:
            session = Session(secrets.token_urlsafe(16), now, now, 1)
            try:
                self._db.execute(
                    "INSERT INTO sessions (id, firstSeen, lastSeen, visits) VALUES (?, ?, ?, ?)",
                    (session.id, session.firstSeen, session.lastSeen, session.visits),
                )
            except sqlite3.IntegrityError:  # pragma: no cover - 2**-128
                continue
            return session

    def get(self, sessionId: str) -> Session | None:
        """
        @return: the session called C{sessionId}, or L{None}.
        """
        row = self._db.execute(
            "SELECT id, firstSeen, lastSeen, visits FROM sessions WHERE id = ?", (sessionId,)
        ).fetchone()
        if row is None:
            return None
        return Session(str(row[0]), float(row[1]), float(row[2]), int(row[3]))

    def visit(self, sessionId: str) -> Session | None:
        """
        Count a visit of a known session: one more visit, last seen now.

        @return: the session as it is after the visit, or L{None} if the id
            is unknown (made up, or from a database since wiped).
        """
        cursor = self._db.execute(
            "UPDATE sessions SET visits = visits + 1, lastSeen = ? WHERE id = ?",
            (self.clock.seconds(), sessionId),
        )
        if cursor.rowcount != 1:
            return None
        return self.get(sessionId)

    def expire(self, idleSeconds: float) -> int:
        """
        Forget sessions not seen for C{idleSeconds}.

        @return: how many were forgotten.
        """
        cursor = self._db.execute(
            "DELETE FROM sessions WHERE lastSeen < ?", (self.clock.seconds() - idleSeconds,)
        )
        return cursor.rowcount

    def __len__(self) -> int:
        row = self._db.execute("SELECT COUNT(*) FROM sessions").fetchone()
        return int(row[0])


_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
</head>
<body>
<h1>{title}</h1>
<p>Your identification number is <code>{id}</code>.</p>
<p>This is visit number <strong id="visits">{visits}</strong> of your session.</p>
<p>First seen: <time>{first}</time><br>
Last seen: <time>{last}</time></p>
<h2>What went over the wire</h2>
<p>Your browser sent: <code>{sent}</code></p>
<p>The server answered: <code>{answered}</code></p>
<p>This is the textbook's cookie example (section 2.2.4): the server keeps
the numbers in its back-end database, your browser keeps them in its cookie
file.</p>
</body>
</html>
"""


@implementer(IHandler)
class VisitTracker:
    """
    The textbook's Amazon example as an L{IHandler}: a page that recognises
    its visitors by a session cookie and counts their visits.

    A request without a C{session} cookie, or with an id the store does not
    know, starts a session and gets C{Set-Cookie: session=ID; Path=/;
    HttpOnly; SameSite=Lax} (RFC 6265 section 4.1; HttpOnly because no
    script needs it, Lax so that other sites cannot make the browser send
    it along with their requests).  A request with a known id counts one
    more visit.  The page shows the count, the times, and the C{Cookie} and
    C{Set-Cookie} lines that went over the wire.

    The page is personal: C{Cache-Control: no-store} keeps shared caches
    (the web cache of section 2.2.5) from handing it to someone else.
    """

    allowedMethods = ("GET", "HEAD")

    def __init__(
        self, store: SessionStore, cookieName: str = "session", title: str = "Welcome"
    ) -> None:
        """
        @param store: the back-end database.
        @param cookieName: the cookie that carries the session id.
        @param title: the page's title.
        """
        self.store = store
        self.cookieName = cookieName
        self.title = title

    def handle(self, request: HTTPRequest) -> HTTPResponse:
        """
        Recognise or greet the visitor, and answer the page.
        """
        sent = request.header("Cookie")
        session = None
        if sent is not None:
            sessionId = parseCookieHeader(sent).get(self.cookieName)
            if sessionId:
                session = self.store.visit(sessionId)
        headers = Headers(
            [
                ("Content-Type", "text/html; charset=utf-8"),
                ("Cache-Control", "no-store"),
            ]
        )
        answered = "(no Set-Cookie: the cookie already names you)"
        if session is None:
            session = self.store.create()
            setCookie = SetCookie(
                self.cookieName, session.id, path="/", httpOnly=True, sameSite="Lax"
            ).serialize()
            headers.add("Set-Cookie", setCookie)
            answered = "Set-Cookie: " + setCookie
        page = _PAGE.format(
            title=html.escape(self.title),
            id=html.escape(session.id),
            visits=session.visits,
            first=formatHTTPDate(session.firstSeen),
            last=formatHTTPDate(session.lastSeen),
            sent=html.escape("Cookie: " + sent if sent is not None else "(no Cookie line)"),
            answered=html.escape(answered),
        )
        return HTTPResponse(200, headers, page.encode("utf-8"))
