"""
Tests for L{netref.http.cookies}: both sides of RFC 6265.
"""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st
from twisted.internet import task
from twisted.internet.utils import getProcessOutputAndValue
from twisted.trial.unittest import SkipTest, SynchronousTestCase, TestCase

from netref.http.conditional import parseHTTPDate
from netref.http.cookies import (
    CookieJar,
    SetCookie,
    defaultPath,
    domainMatch,
    parseCookieDate,
    parseCookieHeader,
    parseSetCookie,
    pathMatch,
)
from netref.http.wire import Headers

#: 2026-11-22 00:00:00 UTC
NOW = 1795305600.0


class CookieHeaderTests(SynchronousTestCase):
    """
    The server reads C{Cookie} (RFC 6265 section 4.2).
    """

    def test_pairs(self) -> None:
        self.assertEqual(
            parseCookieHeader("SID=31d4d96e407aad42; lang=en-US"),
            {"SID": "31d4d96e407aad42", "lang": "en-US"},
        )

    def test_lenient(self) -> None:
        self.assertEqual(
            parseCookieHeader(" a = 1 ;b=2;;novalue; =x; c=d=e"), {"a": "1", "b": "2", "c": "d=e"}
        )
        self.assertEqual(parseCookieHeader(""), {})

    def test_firstWins(self) -> None:
        """
        The first of two cookies of one name is the more specific (longer
        path first, section 5.4).
        """
        self.assertEqual(parseCookieHeader("id=deep; id=shallow"), {"id": "deep"})

    def test_quotedValueKept(self) -> None:
        self.assertEqual(parseCookieHeader('q="a b"'), {"q": '"a b"'})


class SetCookieTests(SynchronousTestCase):
    """
    The server writes C{Set-Cookie} (RFC 6265 section 4.1).
    """

    def test_minimal(self) -> None:
        self.assertEqual(SetCookie("SID", "31d4d96e407aad42").serialize(), "SID=31d4d96e407aad42")

    def test_allAttributes(self) -> None:
        cookie = SetCookie(
            "SID",
            "31d4",
            expires=parseHTTPDate("Wed, 09 Jun 2021 10:18:14 GMT"),
            maxAge=3600,
            domain="example.com",
            path="/docs",
            secure=True,
            httpOnly=True,
            sameSite="strict",
        )
        self.assertEqual(
            cookie.serialize(),
            "SID=31d4; Expires=Wed, 09 Jun 2021 10:18:14 GMT; Max-Age=3600; "
            "Domain=example.com; Path=/docs; Secure; HttpOnly; SameSite=Strict",
        )

    def test_expiresDatetime(self) -> None:
        when = datetime(2021, 6, 9, 10, 18, 14, tzinfo=UTC)
        self.assertEqual(
            SetCookie("a", "b", expires=when).serialize(),
            "a=b; Expires=Wed, 09 Jun 2021 10:18:14 GMT",
        )

    def test_deletion(self) -> None:
        self.assertEqual(
            SetCookie("a", "", maxAge=0, path="/").serialize(), "a=; Max-Age=0; Path=/"
        )

    def test_quotedValue(self) -> None:
        self.assertEqual(SetCookie("a", '"xyz"').serialize(), 'a="xyz"')

    def test_invalidRefused(self) -> None:
        for cookie in (
            SetCookie("", "x"),
            SetCookie("a b", "x"),
            SetCookie("a;b", "x"),
            SetCookie("a=b", "x"),
            SetCookie("a", "x y"),
            SetCookie("a", "x;y"),
            SetCookie("a", "x,y"),
            SetCookie("a", 'x"y'),
            SetCookie("a", "x\\y"),
            SetCookie("a", "caf\u00e9"),
            SetCookie("a", "x\r\nSet-Cookie: evil=1"),
            SetCookie("a", "x", path="/a;b"),
            SetCookie("a", "x", path="rel"),
            SetCookie("a", "x", domain="exa mple.com"),
            SetCookie("a", "x", maxAge=-1),
            SetCookie("a", "x", sameSite="Maybe"),
            SetCookie("a", "x", sameSite="None"),
        ):
            self.assertRaises(ValueError, cookie.serialize)

    @given(
        st.text(alphabet="!#$%&'*+-.^_`|~abcXYZ0129", min_size=1),
        st.text(alphabet="!#$%&'()*+-./:<=>?@[]^_`{|}~aZ09"),
    )
    def test_roundTrip(self, name: str, value: str) -> None:
        """
        What L{SetCookie.serialize} writes, L{parseSetCookie} reads back.
        """
        cookie = SetCookie(name, value, maxAge=60, path="/p", secure=True, httpOnly=True)
        parsed = parseSetCookie(cookie.serialize(), "example.com", "/")
        self.assertEqual(parsed, cookie)


class CookieDateTests(SynchronousTestCase):
    """
    The lenient cookie-date algorithm (RFC 6265 section 5.1.1).
    """

    def test_formats(self) -> None:
        expected = parseHTTPDate("Wed, 09 Jun 2021 10:18:14 GMT")
        for text in (
            "Wed, 09 Jun 2021 10:18:14 GMT",
            "Wednesday, 09-Jun-21 10:18:14 GMT",
            "Wed Jun  9 10:18:14 2021",
            "09 June 2021 10:18:14",
            "Wed, 09-Jun-2021 10:18:14 UTC",
            "2021 Jun 09 10:18:14",
        ):
            self.assertEqual(parseCookieDate(text), expected, text)

    def test_twoDigitYears(self) -> None:
        self.assertEqual(parseCookieDate("1 Jan 70 00:00:00"), 0)
        self.assertEqual(
            parseCookieDate("1 Jan 69 00:00:00"), parseHTTPDate("Tue, 01 Jan 2069 00:00:00 GMT")
        )

    def test_invalid(self) -> None:
        for text in (
            "",
            "tomorrow",
            "Wed, 31 Feb 2021 10:18:14 GMT",
            "09 Jun 2021",
            "Wed, 09 Jun 1600 10:18:14 GMT",
            "Wed, 09 Jun 2021 24:00:00 GMT",
        ):
            self.assertIsNone(parseCookieDate(text), text)

    @given(st.text())
    def test_neverRaises(self, text: str) -> None:
        result = parseCookieDate(text)
        self.assertTrue(result is None or isinstance(result, float))


class MatchingTests(SynchronousTestCase):
    """
    Domain and path matching (RFC 6265 sections 5.1.3 and 5.1.4).
    """

    def test_domainMatch(self) -> None:
        self.assertTrue(domainMatch("example.com", "example.com"))
        self.assertTrue(domainMatch("www.example.com", "example.com"))
        self.assertFalse(domainMatch("badexample.com", "example.com"))
        self.assertFalse(domainMatch("example.com", "www.example.com"))
        self.assertFalse(domainMatch("1.2.3.4", "2.3.4"))
        self.assertTrue(domainMatch("1.2.3.4", "1.2.3.4"))

    def test_defaultPath(self) -> None:
        self.assertEqual(defaultPath(""), "/")
        self.assertEqual(defaultPath("x"), "/")
        self.assertEqual(defaultPath("/"), "/")
        self.assertEqual(defaultPath("/a"), "/")
        self.assertEqual(defaultPath("/a/b"), "/a")
        self.assertEqual(defaultPath("/a/b/"), "/a/b")

    def test_pathMatch(self) -> None:
        self.assertTrue(pathMatch("/docs", "/docs"))
        self.assertTrue(pathMatch("/docs/web", "/docs"))
        self.assertTrue(pathMatch("/docs/web", "/docs/"))
        self.assertTrue(pathMatch("/anything", "/"))
        self.assertFalse(pathMatch("/docsx", "/docs"))
        self.assertFalse(pathMatch("/doc", "/docs"))


class ParseSetCookieTests(SynchronousTestCase):
    """
    The user agent's parsing algorithm (RFC 6265 section 5.2).
    """

    def parse(
        self, value: str, host: str = "www.example.com", path: str = "/a/b"
    ) -> SetCookie | None:
        return parseSetCookie(value, host, path)

    def test_basic(self) -> None:
        self.assertEqual(self.parse("SID=31d4"), SetCookie("SID", "31d4", path="/a"))

    def test_whitespaceAndCase(self) -> None:
        cookie = self.parse("  lang = en-US ; PATH=/ ; secure; HTTPONLY; samesite=lax")
        self.assertEqual(
            cookie,
            SetCookie("lang", "en-US", path="/", secure=True, httpOnly=True, sameSite="Lax"),
        )

    def test_ignoredWholly(self) -> None:
        for value in ("noequals", "=value", " =x; Path=/", ""):
            self.assertIsNone(self.parse(value), value)

    def test_emptyValue(self) -> None:
        self.assertEqual(self.parse("a="), SetCookie("a", "", path="/a"))

    def test_lastAttributeWins(self) -> None:
        cookie = self.parse("a=1; Path=/x; Path=/y; Max-Age=5; Max-Age=10")
        assert cookie is not None
        self.assertEqual((cookie.path, cookie.maxAge), ("/y", 10))

    def test_maxAge(self) -> None:
        for text, expected in (
            ("100", 100),
            ("-1", -1),
            ("0", 0),
            ("1e3", None),
            ("+5", None),
            ("", None),
            ("12x", None),
        ):
            cookie = self.parse(f"a=1; Max-Age={text}")
            assert cookie is not None
            self.assertEqual(cookie.maxAge, expected, text)

    def test_expires(self) -> None:
        cookie = self.parse("a=1; Expires=Wed, 09 Jun 2021 10:18:14 GMT")
        assert cookie is not None
        self.assertEqual(cookie.expires, parseHTTPDate("Wed, 09 Jun 2021 10:18:14 GMT"))
        cookie = self.parse("a=1; Expires=garbage")
        assert cookie is not None
        self.assertIsNone(cookie.expires)

    def test_invalidPathDefaults(self) -> None:
        for attribute in ("Path=", "Path=relative", ""):
            cookie = self.parse(f"a=1; {attribute}")
            assert cookie is not None
            self.assertEqual(cookie.path, "/a", attribute)

    def test_domain(self) -> None:
        cookie = self.parse("a=1; Domain=.Example.COM")
        assert cookie is not None
        self.assertEqual(cookie.domain, "example.com")
        self.assertIsNone(self.parse("a=1; Domain=other.com"))
        self.assertIsNone(self.parse("a=1; Domain=sub.www.example.com"))
        cookie = self.parse("a=1; Domain=")
        assert cookie is not None
        self.assertIsNone(cookie.domain)

    def test_topLevelDomainRefused(self) -> None:
        """
        A bare top-level name would set a cookie for a whole TLD.
        """
        self.assertIsNone(self.parse("a=1; Domain=com"))
        cookie = self.parse("a=1; Domain=localhost", host="localhost")
        assert cookie is not None
        self.assertIsNone(cookie.domain)

    def test_unknownAttributesIgnored(self) -> None:
        self.assertEqual(
            self.parse("a=1; Comment=hi; Version=1; Priority=High"), SetCookie("a", "1", path="/a")
        )

    @given(st.text(), st.text(), st.text())
    def test_neverRaises(self, value: str, host: str, path: str) -> None:
        cookie = parseSetCookie(value, host, path)
        if cookie is not None:
            self.assertTrue(cookie.name)
            assert cookie.path is not None
            self.assertTrue(cookie.path.startswith("/"))


class CookieJarTests(SynchronousTestCase):
    """
    The storage model (RFC 6265 section 5.3) and the Cookie field (5.4),
    with time from a L{task.Clock}.
    """

    def setUp(self) -> None:
        self.clock = task.Clock()
        self.clock.advance(NOW)
        self.jar = CookieJar(self.clock)

    def test_textbookExample(self) -> None:
        """
        Susan's first visit to Amazon: the server sets 1678, every later
        request carries it.
        """
        self.assertIsNone(self.jar.cookieHeaderFor("http://www.amazon.com/"))
        self.jar.setCookiesFrom("http://www.amazon.com/", Headers([("Set-Cookie", "id=1678")]))
        self.assertEqual(self.jar.cookieHeaderFor("http://www.amazon.com/books"), "id=1678")
        self.assertIsNone(self.jar.cookieHeaderFor("http://www.ebay.com/"))

    def test_setCookiesFromEveryField(self) -> None:
        headers = Headers(
            [("Set-Cookie", "a=1"), ("Set-Cookie", "b=2; Expires=Wed, 09 Jun 2100 10:18:14 GMT")]
        )
        self.jar.setCookiesFrom("http://x.example/", headers)
        self.assertEqual(self.jar.cookieHeaderFor("http://x.example/"), "a=1; b=2")
        self.jar.setCookiesFrom("http://x.example/", ["c=3"])
        self.assertEqual(len(self.jar), 3)

    def test_hostOnly(self) -> None:
        """
        Without Domain, a cookie goes back to its host only, not to
        subdomains (host-only flag).
        """
        self.jar.setCookie("http://example.com/", "a=1")
        self.assertEqual(self.jar.cookieHeaderFor("http://example.com/"), "a=1")
        self.assertIsNone(self.jar.cookieHeaderFor("http://www.example.com/"))

    def test_domainCookie(self) -> None:
        self.jar.setCookie("http://www.example.com/", "a=1; Domain=example.com")
        for url in ("http://example.com/", "http://www.example.com/", "http://a.b.example.com/"):
            self.assertEqual(self.jar.cookieHeaderFor(url), "a=1", url)
        self.assertIsNone(self.jar.cookieHeaderFor("http://badexample.com/"))
        self.assertIsNone(self.jar.cookieHeaderFor("http://example.org/"))

    def test_foreignDomainRefused(self) -> None:
        self.assertIsNone(self.jar.setCookie("http://evil.com/", "a=1; Domain=bank.com"))
        self.assertIsNone(self.jar.cookieHeaderFor("http://bank.com/"))
        self.assertEqual(len(self.jar), 0)

    def test_caseInsensitiveHost(self) -> None:
        self.jar.setCookie("http://WWW.Example.COM/", "a=1")
        self.assertEqual(self.jar.cookieHeaderFor("http://www.example.com/"), "a=1")

    def test_paths(self) -> None:
        """
        Default path from the request (5.1.4), and path matching.
        """
        self.jar.setCookie("http://h.example/docs/page.html", "d=1")
        self.jar.setCookie("http://h.example/", "r=1; Path=/")
        self.assertEqual(self.jar.cookieHeaderFor("http://h.example/docs/x"), "d=1; r=1")
        self.assertEqual(self.jar.cookieHeaderFor("http://h.example/docs"), "d=1; r=1")
        self.assertEqual(self.jar.cookieHeaderFor("http://h.example/docsx"), "r=1")
        self.assertEqual(self.jar.cookieHeaderFor("http://h.example/"), "r=1")

    def test_orderLongerPathsFirstThenOlder(self) -> None:
        self.jar.setCookie("http://h.example/", "old=1; Path=/")
        self.clock.advance(1)
        self.jar.setCookie("http://h.example/", "deep=1; Path=/a/b")
        self.clock.advance(1)
        self.jar.setCookie("http://h.example/", "new=1; Path=/")
        self.clock.advance(1)
        self.jar.setCookie("http://h.example/", "mid=1; Path=/a")
        self.assertEqual(
            self.jar.cookieHeaderFor("http://h.example/a/b/c"), "deep=1; mid=1; old=1; new=1"
        )

    def test_replacementKeepsCreation(self) -> None:
        """
        Same name, domain and path: replaced, keeping its place (creation
        time) in the order.
        """
        self.jar.setCookie("http://h.example/", "a=1; Path=/")
        self.clock.advance(1)
        self.jar.setCookie("http://h.example/", "b=1; Path=/")
        self.clock.advance(1)
        self.jar.setCookie("http://h.example/", "a=2; Path=/")
        self.assertEqual(self.jar.cookieHeaderFor("http://h.example/"), "a=2; b=1")
        self.assertEqual(len(self.jar), 2)
        # A different path is a different cookie.
        self.jar.setCookie("http://h.example/", "a=3; Path=/x")
        self.assertEqual(self.jar.cookieHeaderFor("http://h.example/x"), "a=3; a=2; b=1")

    def test_expires(self) -> None:
        self.jar.setCookie("http://h.example/", "a=1; Expires=Sun, 22 Nov 2026 01:00:00 GMT")
        self.assertEqual(self.jar.cookieHeaderFor("http://h.example/"), "a=1")
        self.clock.advance(3599)
        self.assertEqual(self.jar.cookieHeaderFor("http://h.example/"), "a=1")
        self.clock.advance(1)
        self.assertIsNone(self.jar.cookieHeaderFor("http://h.example/"))
        self.assertEqual(len(self.jar), 0)

    def test_maxAgeOverExpires(self) -> None:
        """
        Max-Age wins over Expires, in either order (section 5.3 step 3).
        """
        self.jar.setCookie(
            "http://h.example/", "a=1; Max-Age=10; Expires=Wed, 09 Jun 2100 10:18:14 GMT"
        )
        self.jar.setCookie(
            "http://h.example/", "b=1; Expires=Wed, 09 Jun 2000 10:18:14 GMT; Max-Age=100"
        )
        self.assertEqual(self.jar.cookieHeaderFor("http://h.example/"), "a=1; b=1")
        self.clock.advance(10)
        self.assertEqual(self.jar.cookieHeaderFor("http://h.example/"), "b=1")
        self.clock.advance(90)
        self.assertIsNone(self.jar.cookieHeaderFor("http://h.example/"))

    def test_deletion(self) -> None:
        """
        A Set-Cookie that is already expired removes the stored cookie.
        """
        self.jar.setCookie("http://h.example/", "a=1")
        self.jar.setCookie("http://h.example/", "a=; Max-Age=0")
        self.assertIsNone(self.jar.cookieHeaderFor("http://h.example/"))
        self.jar.setCookie("http://h.example/", "b=1")
        self.jar.setCookie("http://h.example/", "b=; Expires=Thu, 01 Jan 1970 00:00:00 GMT")
        self.assertEqual(len(self.jar), 0)

    def test_secure(self) -> None:
        self.jar.setCookie("https://h.example/", "s=1; Secure")
        self.jar.setCookie("https://h.example/", "p=1")
        self.assertEqual(self.jar.cookieHeaderFor("https://h.example/"), "s=1; p=1")
        self.assertEqual(self.jar.cookieHeaderFor("http://h.example/"), "p=1")

    def test_sessionCookies(self) -> None:
        self.jar.setCookie("http://h.example/", "session=1")
        self.jar.setCookie("http://h.example/", "kept=1; Max-Age=1000")
        self.jar.clearSessionCookies()
        self.assertEqual(self.jar.cookieHeaderFor("http://h.example/"), "kept=1")

    def test_ipHost(self) -> None:
        self.jar.setCookie("http://127.0.0.1:8080/", "a=1")
        self.assertEqual(self.jar.cookieHeaderFor("http://127.0.0.1:9090/x"), "a=1")
        self.assertIsNone(self.jar.setCookie("http://127.0.0.1/", "b=1; Domain=0.0.1"))

    def test_otherSchemesIgnored(self) -> None:
        self.assertIsNone(self.jar.setCookie("ftp://h.example/", "a=1"))
        self.assertIsNone(self.jar.cookieHeaderFor("ftp://h.example/"))

    def test_lastAccessUpdated(self) -> None:
        stored = self.jar.setCookie("http://h.example/", "a=1")
        assert stored is not None
        self.clock.advance(5)
        self.jar.cookieHeaderFor("http://h.example/")
        self.assertEqual(stored.lastAccess, NOW + 5)
        self.assertEqual(stored.creation, NOW)


class CookieFileTests(TestCase):
    """
    L{CookieJar.save} and L{CookieJar.load}: the Netscape cookie file.
    """

    def setUp(self) -> None:
        self.clock = task.Clock()
        self.clock.advance(NOW)

    def test_roundTrip(self) -> None:
        jar = CookieJar(self.clock)
        jar.setCookie("http://www.example.com/", "host=1")
        jar.setCookie(
            "http://www.example.com/", "dom=2; Domain=example.com; Path=/p; Max-Age=3600"
        )
        jar.setCookie("https://www.example.com/", "sec=3; Secure; HttpOnly; Max-Age=60")
        path = self.mktemp()
        jar.save(path)
        self.assertEqual(os.stat(path).st_mode & 0o777, 0o600)
        with open(path) as f:
            lines = f.read().splitlines()
        self.assertEqual(lines[0], "# Netscape HTTP Cookie File")
        self.assertIn("www.example.com\tFALSE\t/\tFALSE\t0\thost\t1", lines)
        self.assertIn(f".example.com\tTRUE\t/p\tFALSE\t{int(NOW) + 3600}\tdom\t2", lines)
        self.assertIn(f"#HttpOnly_www.example.com\tFALSE\t/\tTRUE\t{int(NOW) + 60}\tsec\t3", lines)
        again = CookieJar(self.clock)
        again.load(path)
        self.assertEqual(
            again.cookieHeaderFor("https://www.example.com/p/x"), "dom=2; host=1; sec=3"
        )
        self.assertEqual(again.cookieHeaderFor("http://example.com/p"), "dom=2")
        self.assertIsNone(again.cookieHeaderFor("http://sub.www.example.com/"))
        self.assertEqual([c.httpOnly for c in again.cookies() if c.name == "sec"], [True])

    def test_loadSkipsExpiredAndMalformed(self) -> None:
        path = self.mktemp()
        with open(path, "w") as f:
            f.write(
                "# Netscape HTTP Cookie File\n"
                "\n"
                f"h.example\tFALSE\t/\tFALSE\t{int(NOW) - 1}\told\t1\n"
                "h.example\tFALSE\t/\tFALSE\tsoon\tbad\t1\n"
                "h.example\tFALSE\t/\n"
                f"h.example\tFALSE\t/\tFALSE\t{int(NOW) + 1}\tok\t1\n"
            )
        jar = CookieJar(self.clock)
        jar.load(path)
        self.assertEqual(jar.cookieHeaderFor("http://h.example/"), "ok=1")
        jar.load(self.mktemp())
        self.assertEqual(len(jar), 1)

    def test_curlReadsOurFile(self):
        """
        curl sends the cookies of a file L{CookieJar.save} wrote (C{-b}),
        to a server of ours that echoes its Cookie field.
        """
        if shutil.which("curl") is None:
            raise SkipTest("curl is not installed")
        from twisted.internet import reactor

        from netref.http.handler import HTTPResponse
        from netref.http.server import HTTPFactory

        class Echo:
            allowedMethods = ("GET",)

            def handle(self, request):
                headers = Headers([("Set-Cookie", "fromServer=yes; Path=/; Max-Age=600")])
                return HTTPResponse(200, headers, (request.header("Cookie") or "").encode())

        port = reactor.listenTCP(0, HTTPFactory(Echo()), interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        url = f"http://127.0.0.1:{port.getHost().port}/x"  # type: ignore[attr-defined]
        jar = CookieJar()
        jar.setCookie(url, "a=1; Max-Age=600")
        jar.setCookie(url, "b=2; Path=/x")
        ours = self.mktemp()
        jar.save(ours)
        theirs = os.path.abspath(self.mktemp())

        def check(result):
            out, err, status = result
            self.assertEqual(status, 0, err)
            self.assertEqual(out, b"b=2; a=1")
            # And we read the file curl wrote back (-c).
            back = CookieJar()
            back.load(theirs)
            header = back.cookieHeaderFor(url)
            assert header is not None
            # The longer path first; the order of the others is the file's.
            self.assertEqual(header.split("; ")[0], "b=2")
            self.assertEqual(sorted(header.split("; ")), ["a=1", "b=2", "fromServer=yes"])

        d = getProcessOutputAndValue(
            "curl", ["-s", "-S", "-b", ours, "-c", theirs, url], env=dict(os.environ)
        )
        return d.addCallback(check)
