"""
Tests for L{netref.http.sessions}: the back-end database and the
textbook's Amazon example.
"""

from __future__ import annotations

import email.message
import http.cookiejar
import re
import urllib.request

from twisted.internet import task
from twisted.trial.unittest import SynchronousTestCase

from netref.http.conditional import formatHTTPDate
from netref.http.cookies import CookieJar
from netref.http.handler import HTTPResponse
from netref.http.sessions import SessionStore, VisitTracker
from netref.http.wire import Headers
from tests.test_http_static import makeRequest

#: 2026-11-22 00:00:00 UTC
NOW = 1795305600.0


class SessionStoreTests(SynchronousTestCase):
    """
    L{SessionStore} keeps id, first seen, last seen and visits in SQLite.
    """

    def setUp(self) -> None:
        self.clock = task.Clock()
        self.clock.advance(NOW)

    def test_createAndVisit(self) -> None:
        store = SessionStore(":memory:", self.clock)
        session = store.create()
        self.assertEqual((session.firstSeen, session.lastSeen, session.visits), (NOW, NOW, 1))
        self.assertGreaterEqual(len(session.id), 22)
        self.clock.advance(60)
        again = store.visit(session.id)
        assert again is not None
        self.assertEqual(
            (again.id, again.firstSeen, again.lastSeen, again.visits),
            (session.id, NOW, NOW + 60, 2),
        )
        self.assertEqual(store.get(session.id), again)

    def test_unknown(self) -> None:
        store = SessionStore(":memory:", self.clock)
        self.assertIsNone(store.visit("1678"))
        self.assertIsNone(store.get("1678"))
        self.assertEqual(len(store), 0)

    def test_idsDiffer(self) -> None:
        store = SessionStore(":memory:", self.clock)
        ids = {store.create().id for _ in range(50)}
        self.assertEqual(len(ids), 50)

    def test_reopen(self) -> None:
        """
        The sessions outlive the store: a server restarted on the same file
        still knows its visitors.
        """
        path = self.mktemp()
        store = SessionStore(path, self.clock)
        session = store.create()
        store.visit(session.id)
        store.close()
        self.clock.advance(3600)
        reopened = SessionStore(path, self.clock)
        self.addCleanup(reopened.close)
        visited = reopened.visit(session.id)
        assert visited is not None
        self.assertEqual(visited.visits, 3)
        self.assertEqual(visited.firstSeen, NOW)
        self.assertEqual(visited.lastSeen, NOW + 3600)
        self.assertEqual(len(reopened), 1)

    def test_expire(self) -> None:
        store = SessionStore(":memory:", self.clock)
        old = store.create()
        self.clock.advance(100)
        fresh = store.create()
        self.assertEqual(store.expire(50), 1)
        self.assertIsNone(store.get(old.id))
        self.assertIsNotNone(store.get(fresh.id))


def visitsOn(response: HTTPResponse) -> int:
    assert isinstance(response.body, bytes)
    match = re.search(rb'<strong id="visits">(\d+)</strong>', response.body)
    assert match is not None
    return int(match.group(1))


class VisitTrackerTests(SynchronousTestCase):
    """
    L{VisitTracker}: the Amazon example, driven by real cookie jars.
    """

    def setUp(self) -> None:
        self.clock = task.Clock()
        self.clock.advance(NOW)
        self.store = SessionStore(":memory:", self.clock)
        self.tracker = VisitTracker(self.store)

    def get(self, cookie: str | None) -> HTTPResponse:
        headers = [("Host", "www.amazon.com")]
        if cookie is not None:
            headers.append(("Cookie", cookie))
        response = self.tracker.handle(makeRequest("GET", "/", headers))
        self.assertIsInstance(response, HTTPResponse)
        return response

    def test_firstVisit(self) -> None:
        response = self.get(None)
        self.assertEqual(response.status, 200)
        setCookie = response.headers.getAll("Set-Cookie")
        self.assertEqual(len(setCookie), 1)
        match = re.fullmatch(rb"session=([\w-]+); Path=/; HttpOnly; SameSite=Lax", setCookie[0])
        assert match is not None
        sessionId = match.group(1).decode()
        self.assertEqual(response.headers.get("Content-Type"), b"text/html; charset=utf-8")
        self.assertEqual(response.headers.get("Cache-Control"), b"no-store")
        assert isinstance(response.body, bytes)
        page = response.body.decode()
        self.assertIn(f"<code>{sessionId}</code>", page)
        self.assertEqual(visitsOn(response), 1)
        self.assertIn("(no Cookie line)", page)
        self.assertIn(f"First seen: <time>{formatHTTPDate(NOW)}</time>", page)

    def test_unknownIdGetsNewSession(self) -> None:
        response = self.get("session=1678")
        self.assertEqual(len(response.headers.getAll("Set-Cookie")), 1)
        self.assertEqual(visitsOn(response), 1)
        self.assertEqual(len(self.store), 1)
        self.assertIsNone(self.store.get("1678"))

    def test_returnVisit(self) -> None:
        first = self.get(None)
        cookie = first.headers.getAll("Set-Cookie")[0].decode().split(";")[0]
        self.clock.advance(86400)
        second = self.get("lang=en; " + cookie)
        self.assertEqual(second.headers.getAll("Set-Cookie"), [])
        self.assertEqual(visitsOn(second), 2)
        assert isinstance(second.body, bytes)
        page = second.body.decode()
        self.assertIn(f"Last seen: <time>{formatHTTPDate(NOW + 86400)}</time>", page)
        self.assertIn(f"First seen: <time>{formatHTTPDate(NOW)}</time>", page)
        self.assertIn(f"Cookie: lang=en; {cookie}", page)

    def test_pageEscapes(self) -> None:
        response = self.get("x=<script>")
        assert isinstance(response.body, bytes)
        self.assertNotIn(b"<script>", response.body)
        self.assertIn(b"x=&lt;script&gt;", response.body)

    def test_netrefCookieJar(self) -> None:
        """
        Many requests through L{CookieJar}: one session, counted.
        """
        jar = CookieJar(self.clock)
        url = "http://www.amazon.com/"
        for visit in range(1, 6):
            response = self.get(jar.cookieHeaderFor(url))
            jar.setCookiesFrom(url, response.headers)
            self.assertEqual(visitsOn(response), visit)
            self.clock.advance(10)
        self.assertEqual(len(self.store), 1)
        # Another browser is another visitor.
        other = CookieJar(self.clock)
        response = self.get(other.cookieHeaderFor(url))
        self.assertEqual(visitsOn(response), 1)
        self.assertEqual(len(self.store), 2)

    def test_stdlibCookieJar(self) -> None:
        """
        An independent user agent, Python's C{http.cookiejar}, keeps the
        session too.
        """
        jar = http.cookiejar.CookieJar()
        for visit in range(1, 5):
            request = urllib.request.Request("http://www.amazon.com/books")
            jar.add_cookie_header(request)
            response = self.get(request.get_header("Cookie"))
            self.assertEqual(visitsOn(response), visit)

            class Reply:
                def __init__(self, headers: Headers) -> None:
                    self.headers = headers

                def info(self) -> email.message.Message:
                    message = email.message.Message()
                    for name, value in self.headers:
                        message[name.decode()] = value.decode()
                    return message

            jar.extract_cookies(Reply(response.headers), request)  # type: ignore[arg-type]
        self.assertEqual([cookie.name for cookie in jar], ["session"])
        self.assertEqual(len(self.store), 1)
