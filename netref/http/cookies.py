"""
HTTP cookies (RFC 6265), for both sides: the server's C{Set-Cookie} and the
browser's cookie file and C{Cookie} field.

The textbook (section 2.2.4) names cookie technology's four components:
 1. a C{Set-Cookie} header line in the HTTP response (L{SetCookie});
 2. a C{Cookie} header line in the next requests (L{parseCookieHeader} on
    the server, L{CookieJar.cookieHeaderFor} on the client);
 3. a cookie file kept by the user's browser (L{CookieJar}, with
    L{CookieJar.save} and L{CookieJar.load});
 4. a back-end database at the web site (L{netref.http.sessions}).

Servers generate the strict syntax of RFC 6265 section 4; user agents parse
with the lenient algorithms of section 5, as browsers do, because real
servers send all sorts of things.
"""

from __future__ import annotations

import calendar
import ipaddress
import os
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final, Protocol
from urllib.parse import urlsplit

from netref.core.durable import writeAtomically
from netref.http.conditional import formatHTTPDate

__all__ = [
    "CookieJar",
    "SetCookie",
    "StoredCookie",
    "defaultPath",
    "domainMatch",
    "parseCookieDate",
    "parseCookieHeader",
    "parseSetCookie",
    "pathMatch",
]

# ---------------------------------------------------------------------------
# Server side: generating Set-Cookie (RFC 6265 section 4.1) and reading
# Cookie (section 4.2)

#: cookie-name = token (RFC 6265 section 4.1.1; tchar of RFC 9110 5.6.2).
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z")
#: cookie-value = *cookie-octet / ( DQUOTE *cookie-octet DQUOTE ), where
#: cookie-octet excludes CTLs, whitespace, DQUOTE, comma, semicolon and
#: backslash (section 4.1.1).
_COOKIE_VALUE = re.compile(
    r'(?:[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*|"[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*")\Z'
)
#: av-octet: any CHAR except CTLs or ";" (section 4.1.1), for Path.
_AV_VALUE = re.compile(r"[\x20-\x3a\x3c-\x7e]*\Z")
#: A domain attribute: letters, digits, hyphens and dots (section 4.1.2.3
#: refers to RFC 1034's subdomain syntax).
_DOMAIN = re.compile(r"\.?[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?\Z")

_SAME_SITE: Final = {"strict": "Strict", "lax": "Lax", "none": "None"}


def parseCookieHeader(value: str) -> dict[str, str]:
    """
    Read a C{Cookie} field (RFC 6265 section 4.2.1: C{cookie-pair *( ";" SP
    cookie-pair )}) the way servers must in practice: pairs without C{=}
    are skipped, whitespace around names and values is dropped.

    A user agent sends cookies with longer paths first (section 5.4), so
    when a name appears twice the first, most specific one is kept.

    @return: cookie names to values.
    """
    cookies: dict[str, str] = {}
    for pair in value.split(";"):
        name, equals, cookieValue = pair.partition("=")
        name = name.strip()
        if not equals or not name or name in cookies:
            continue
        cookies[name] = cookieValue.strip()
    return cookies


@dataclass
class SetCookie:
    """
    One C{Set-Cookie} field: a name, a value and the attributes of RFC 6265
    section 4.1.2.

    @ivar expires: C{Expires}, seconds since the epoch (or a C{datetime}).
    @ivar maxAge: C{Max-Age}, seconds from when the user agent receives it;
        it takes precedence over C{Expires} (section 4.1.2.2).  C{0} asks
        the user agent to delete the cookie.
    @ivar domain: C{Domain}: send the cookie to this host and its
        subdomains too; L{None} for the origin host only.
    @ivar path: C{Path}: send it only for request paths under this one.
    @ivar secure: C{Secure}: send it only over secure channels (HTTPS).
    @ivar httpOnly: C{HttpOnly}: keep it from scripts.
    @ivar sameSite: C{SameSite} (RFC 6265bis): C{"Strict"}, C{"Lax"} or
        C{"None"}.
    """

    name: str
    value: str
    expires: float | datetime | None = None
    maxAge: int | None = None
    domain: str | None = None
    path: str | None = None
    secure: bool = False
    httpOnly: bool = False
    sameSite: str | None = None

    def serialize(self) -> str:
        """
        Generate the field value with the syntax of RFC 6265 section 4.1.1:
        C{name=value}, then each attribute after C{"; "}, C{Expires} as an
        IMF-fixdate (C{sane-cookie-date}).

        @raise ValueError: for a name that is not a token, a value with
            characters a cookie-value cannot carry (encode it first), an
            attribute value with a C{;} or control character, or
            C{SameSite=None} without C{Secure} (which browsers reject).
        """
        if not _TOKEN.match(self.name):
            raise ValueError(f"a cookie name must be a token: {self.name!r}")
        if not _COOKIE_VALUE.match(self.value):
            raise ValueError(f"not a valid cookie value: {self.value!r}")
        parts = [f"{self.name}={self.value}"]
        if self.expires is not None:
            expires = self.expires
            seconds = expires.timestamp() if isinstance(expires, datetime) else expires
            parts.append(f"Expires={formatHTTPDate(seconds)}")
        if self.maxAge is not None:
            if self.maxAge < 0:
                raise ValueError(f"Max-Age must not be negative: {self.maxAge}")
            parts.append(f"Max-Age={int(self.maxAge)}")
        if self.domain is not None:
            if not _DOMAIN.match(self.domain):
                raise ValueError(f"not a valid cookie domain: {self.domain!r}")
            parts.append(f"Domain={self.domain}")
        if self.path is not None:
            if not _AV_VALUE.match(self.path) or not self.path.startswith("/"):
                raise ValueError(f"not a valid cookie path: {self.path!r}")
            parts.append(f"Path={self.path}")
        if self.secure:
            parts.append("Secure")
        if self.httpOnly:
            parts.append("HttpOnly")
        if self.sameSite is not None:
            sameSite = _SAME_SITE.get(self.sameSite.lower())
            if sameSite is None:
                raise ValueError(f"SameSite is Strict, Lax or None, not {self.sameSite!r}")
            if sameSite == "None" and not self.secure:
                raise ValueError("SameSite=None needs Secure")
            parts.append(f"SameSite={sameSite}")
        return "; ".join(parts)


# ---------------------------------------------------------------------------
# User agent side: parsing Set-Cookie (RFC 6265 section 5)

#: delimiter = %x09 / %x20-2F / %x3B-40 / %x5B-60 / %x7B-7E (section 5.1.1)
_DATE_DELIMITERS = re.compile(r"[\x09\x20-\x2f\x3b-\x40\x5b-\x60\x7b-\x7e]+")
_TIME_TOKEN = re.compile(r"(\d{1,2}):(\d{1,2}):(\d{1,2})(?:\D.*)?\Z", re.DOTALL)
_DAY_TOKEN = re.compile(r"(\d{1,2})(?:\D.*)?\Z", re.DOTALL)
_YEAR_TOKEN = re.compile(r"(\d{2,4})(?:\D.*)?\Z", re.DOTALL)
_MONTHS: Final = (
    "jan",
    "feb",
    "mar",
    "apr",
    "may",
    "jun",
    "jul",
    "aug",
    "sep",
    "oct",
    "nov",
    "dec",
)


def parseCookieDate(value: str) -> float | None:
    """
    The cookie-date algorithm of RFC 6265 section 5.1.1: split the string
    into tokens at delimiters and take the first token that looks like a
    time, a day of the month, a month and a year, in that order of
    preference.  This reads every date format servers have ever sent
    (C{Wed, 09 Jun 2021 10:18:14 GMT}, C{Wednesday, 09-Jun-21 ...}, ...).

    @return: seconds since the epoch, or L{None} when the string holds no
        valid date.
    """
    hms: tuple[int, int, int] | None = None
    day: int | None = None
    month: int | None = None
    year: int | None = None
    for token in _DATE_DELIMITERS.split(value):
        if not token:
            continue
        if hms is None:
            match = _TIME_TOKEN.match(token)
            if match:
                hms = (int(match.group(1)), int(match.group(2)), int(match.group(3)))
                continue
        if day is None:
            match = _DAY_TOKEN.match(token)
            if match:
                day = int(match.group(1))
                continue
        if month is None and token[:3].lower() in _MONTHS:
            month = _MONTHS.index(token[:3].lower()) + 1
            continue
        if year is None:
            match = _YEAR_TOKEN.match(token)
            if match:
                year = int(match.group(1))
                continue
    if hms is None or day is None or month is None or year is None:
        return None
    if 70 <= year <= 99:
        year += 1900
    elif 0 <= year <= 69:
        year += 2000
    hour, minute, second = hms
    if not 1 <= day <= 31 or year < 1601 or hour > 23 or minute > 59 or second > 59:
        return None
    if day > calendar.monthrange(year, month)[1]:
        return None
    return float(calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0)))


def defaultPath(requestPath: str) -> str:
    """
    The default-path of a cookie (RFC 6265 section 5.1.4): the request
    path up to, not including, its last C{/}; C{/} when that leaves nothing.
    """
    if not requestPath.startswith("/"):
        return "/"
    cut = requestPath.rfind("/")
    if cut == 0:
        return "/"
    return requestPath[:cut]


def pathMatch(requestPath: str, cookiePath: str) -> bool:
    """
    Path-match (RFC 6265 section 5.1.4): the paths are the same, or the
    cookie path is a prefix of the request path ending at a C{/} boundary
    (C{/docs} matches C{/docs/web}, not C{/docsx}).
    """
    if requestPath == cookiePath:
        return True
    if not requestPath.startswith(cookiePath):
        return False
    return cookiePath.endswith("/") or requestPath[len(cookiePath)] == "/"


def _isAddress(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def domainMatch(host: str, domain: str) -> bool:
    """
    Domain-match (RFC 6265 section 5.1.3), on canonicalized (lower-case)
    names: identical, or C{domain} is a suffix of C{host} just after a dot,
    and C{host} is a host name, not an IP address.
    """
    if host == domain:
        return True
    return host.endswith("." + domain) and not _isAddress(host)


def _canonicalHost(host: str) -> str:
    """
    Canonicalize a host name (RFC 6265 section 5.1.2): lower case, and
    internationalized names in their A-label (punycode) form.
    """
    host = host.lower().rstrip(".")
    if host.isascii():
        return host
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return host


def parseSetCookie(value: str, requestHost: str, requestPath: str) -> SetCookie | None:
    """
    Parse a C{Set-Cookie} field with the algorithm of RFC 6265 section 5.2,
    as a user agent receiving it for C{requestHost} and C{requestPath}.

      - The name and value are what precedes the first C{;}, split at the
        first C{=}, whitespace stripped; no C{=} or an empty name: ignore
        the whole field.
      - Attribute names are case-insensitive; unknown ones and invalid
        values are ignored; the last of each kind wins.
      - C{Expires} is read with L{parseCookieDate}; C{Max-Age} must be
        digits, maybe after a C{-} (section 5.2.2).
      - C{Domain} loses a leading dot and is lowered (5.2.3); if
        C{requestHost} does not domain-match it the cookie is refused
        (section 5.3 step 6), as is a C{Domain} that is a bare top-level
        name such as C{com} (step 5: netref approximates the public suffix
        list by refusing names without a dot, unless it is the request
        host itself, which makes the cookie host-only).
      - C{Path} missing, empty or not starting with C{/}: the default path
        (5.2.4, 5.1.4).

    @return: the cookie, or L{None} when a user agent must ignore it.
    """
    host = _canonicalHost(requestHost)
    nameValue, _, unparsed = value.partition(";")
    name, equals, cookieValue = nameValue.partition("=")
    if not equals:
        return None
    name = name.strip(" \t")
    if not name:
        return None
    cookie = SetCookie(name, cookieValue.strip(" \t"))
    for attribute in unparsed.split(";") if unparsed else ():
        attributeName, _, attributeValue = attribute.partition("=")
        attributeName = attributeName.strip(" \t").lower()
        attributeValue = attributeValue.strip(" \t")
        if attributeName == "expires":
            expiry = parseCookieDate(attributeValue)
            if expiry is not None:
                cookie.expires = expiry
        elif attributeName == "max-age":
            digits = attributeValue[1:] if attributeValue[:1] == "-" else attributeValue
            if digits.isdigit() and digits.isascii() and len(digits) <= 12:
                cookie.maxAge = int(attributeValue)
        elif attributeName == "domain":
            if attributeValue:
                cookie.domain = _canonicalHost(attributeValue.removeprefix("."))
        elif attributeName == "path":
            cookie.path = attributeValue if attributeValue.startswith("/") else None
        elif attributeName == "secure":
            cookie.secure = True
        elif attributeName == "httponly":
            cookie.httpOnly = True
        elif attributeName == "samesite":
            sameSite = _SAME_SITE.get(attributeValue.lower())
            if sameSite is not None:
                cookie.sameSite = sameSite
    if cookie.domain is not None:
        if "." not in cookie.domain:
            if cookie.domain != host:
                return None
            cookie.domain = None
        elif not domainMatch(host, cookie.domain):
            return None
    if cookie.path is None:
        cookie.path = defaultPath(requestPath)
    return cookie


# ---------------------------------------------------------------------------
# The cookie file (RFC 6265 section 5.3 storage model, 5.4 Cookie header)


class _Clock(Protocol):
    def seconds(self) -> float: ...


class _WallClock:
    def seconds(self) -> float:
        return time.time()


class _SetCookieSource(Protocol):
    def getAll(self, name: str) -> list[bytes]: ...


@dataclass
class StoredCookie:
    """
    A cookie in the jar, with the fields of RFC 6265 section 5.3.

    @ivar expiry: seconds since the epoch; L{None} for a session
        (non-persistent) cookie, which lives until the jar is discarded.
    @ivar hostOnly: sent to C{domain} only, not to its subdomains (no
        C{Domain} attribute was given).
    """

    name: str
    value: str
    domain: str
    path: str
    expiry: float | None
    creation: float
    lastAccess: float
    hostOnly: bool = True
    secureOnly: bool = False
    httpOnly: bool = False
    sameSite: str | None = None
    _order: int = field(default=0, repr=False, compare=False)

    @property
    def persistent(self) -> bool:
        return self.expiry is not None


#: The first line of a Netscape/curl cookie file.
_FILE_HEADER = "# Netscape HTTP Cookie File\n"
_HTTP_ONLY_PREFIX = "#HttpOnly_"


class CookieJar:
    """
    A user agent's cookie store: the storage model of RFC 6265 section 5.3
    and the C{Cookie} field of section 5.4.

    Time comes from a clock (an C{IReactorTime}, or a
    C{twisted.internet.task.Clock} in tests), so expiry is testable without
    waiting.  Cookies are replaced when a new one has the same name, domain
    and path (keeping the old creation time, which orders the C{Cookie}
    field); expired cookies are evicted whenever the jar is touched.

    The file format of L{save} and L{load} is the Netscape cookie file that
    curl (C{-b}/C{-c}) and wget read and write.
    """

    def __init__(self, clock: _Clock | None = None) -> None:
        """
        @param clock: the time source; the wall clock when L{None}.
        """
        self.clock: _Clock = clock if clock is not None else _WallClock()
        self._cookies: dict[tuple[str, str, str], StoredCookie] = {}
        self._counter = 0

    def __len__(self) -> int:
        self._evictExpired()
        return len(self._cookies)

    def cookies(self) -> list[StoredCookie]:
        """
        @return: the unexpired cookies, oldest first.
        """
        self._evictExpired()
        return sorted(self._cookies.values(), key=lambda c: (c.creation, c._order))

    def clear(self) -> None:
        """
        Forget every cookie.
        """
        self._cookies.clear()

    def clearSessionCookies(self) -> None:
        """
        Forget the session cookies, as a browser does when it closes
        (section 5.3: non-persistent cookies end with the session).
        """
        for key, cookie in list(self._cookies.items()):
            if not cookie.persistent:
                del self._cookies[key]

    def _evictExpired(self) -> None:
        now = self.clock.seconds()
        expired = [
            key
            for key, cookie in self._cookies.items()
            if cookie.expiry is not None and cookie.expiry <= now
        ]
        for key in expired:
            del self._cookies[key]

    def setCookiesFrom(self, url: str, headers: _SetCookieSource | Iterable[str]) -> None:
        """
        Store the cookies a response sets.

        @param url: the request's URL.
        @param headers: the response's header fields (every C{Set-Cookie}
            field, never combined, RFC 6265 section 3), or the field values.
        """
        if hasattr(headers, "getAll"):
            values: Iterable[str] = [raw.decode("latin-1") for raw in headers.getAll("set-cookie")]
        else:
            values = headers
        for value in values:
            self.setCookie(url, value)

    def setCookie(self, url: str, value: str) -> StoredCookie | None:
        """
        Store one C{Set-Cookie} field received for C{url}: RFC 6265 section
        5.3's steps.

        @return: the stored cookie, or L{None} if it was ignored (or
            expired at once, which deletes a cookie of that name, domain
            and path).
        """
        parts = urlsplit(url)
        host = _canonicalHost(parts.hostname or "")
        if not host or parts.scheme not in ("http", "https"):
            return None
        parsed = parseSetCookie(value, host, parts.path or "/")
        if parsed is None:
            return None
        now = self.clock.seconds()
        # Steps 3: Max-Age wins over Expires; neither: a session cookie.
        expiry: float | None
        if parsed.maxAge is not None:
            expiry = now + parsed.maxAge if parsed.maxAge > 0 else float("-inf")
        elif parsed.expires is not None:
            expires = parsed.expires
            expiry = expires.timestamp() if isinstance(expires, datetime) else float(expires)
        else:
            expiry = None
        assert parsed.path is not None
        self._counter += 1
        cookie = StoredCookie(
            name=parsed.name,
            value=parsed.value,
            domain=parsed.domain if parsed.domain is not None else host,
            path=parsed.path,
            expiry=expiry,
            creation=now,
            lastAccess=now,
            hostOnly=parsed.domain is None,
            secureOnly=parsed.secure,
            httpOnly=parsed.httpOnly,
            sameSite=parsed.sameSite,
            _order=self._counter,
        )
        # Step 11: a cookie with the same name, domain and path is
        # replaced, and the new one keeps the old one's creation time.
        key = (cookie.domain, cookie.path, cookie.name)
        old = self._cookies.pop(key, None)
        if old is not None:
            cookie.creation = old.creation
            cookie._order = old._order
        if expiry is not None and expiry <= now:
            return None
        self._cookies[key] = cookie
        return cookie

    def cookiesFor(self, url: str) -> list[StoredCookie]:
        """
        The cookies a request to C{url} carries (RFC 6265 section 5.4):
        host-only cookies for their exact host, others for every host that
        domain-matches; path-matching; secure-only ones over HTTPS only.
        Ordered with longer paths first, then earlier creation first.
        Their last-access time is updated.
        """
        parts = urlsplit(url)
        host = _canonicalHost(parts.hostname or "")
        path = parts.path or "/"
        secure = parts.scheme == "https"
        self._evictExpired()
        chosen = [
            cookie
            for cookie in self._cookies.values()
            if (cookie.domain == host if cookie.hostOnly else domainMatch(host, cookie.domain))
            and pathMatch(path, cookie.path)
            and (secure or not cookie.secureOnly)
        ]
        chosen.sort(key=lambda c: (-len(c.path), c.creation, c._order))
        now = self.clock.seconds()
        for cookie in chosen:
            cookie.lastAccess = now
        return chosen

    def cookieHeaderFor(self, url: str) -> str | None:
        """
        @return: the C{Cookie} field value for a request to C{url}
            (C{name=value} pairs joined by C{"; "}, section 5.4), or
            L{None} when no cookie applies.
        """
        chosen = self.cookiesFor(url)
        if not chosen:
            return None
        return "; ".join(f"{cookie.name}={cookie.value}" for cookie in chosen)

    def save(self, path: str, includeSession: bool = True) -> None:
        """
        Write the jar as a Netscape cookie file, the format of curl's
        C{--cookie-jar}: one line per cookie, tab-separated C{domain,
        include-subdomains, path, secure, expiry (0 for a session cookie),
        name, value}; C{#HttpOnly_} before the domain of an HttpOnly
        cookie.  The file is replaced atomically and readable by its owner
        only (cookies are credentials).

        @param includeSession: whether to keep session cookies too, as
            curl does.
        """
        lines = [_FILE_HEADER]
        for cookie in self.cookies():
            if not cookie.persistent and not includeSession:
                continue
            domain = cookie.domain if cookie.hostOnly else "." + cookie.domain
            if cookie.httpOnly:
                domain = _HTTP_ONLY_PREFIX + domain
            expiry = 0 if cookie.expiry is None else int(cookie.expiry)
            fields = (
                domain,
                "FALSE" if cookie.hostOnly else "TRUE",
                cookie.path,
                "TRUE" if cookie.secureOnly else "FALSE",
                str(expiry),
                cookie.name,
                cookie.value,
            )
            lines.append("\t".join(fields) + "\n")
        writeAtomically(path, "".join(lines).encode("utf-8"), private=True)

    def load(self, path: str) -> None:
        """
        Add the cookies of a Netscape cookie file (written by L{save}, curl
        or wget).  Malformed lines and expired cookies are skipped; a
        missing file is an empty jar.
        """
        if not os.path.exists(path):
            return
        now = self.clock.seconds()
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                line = line.rstrip("\r\n")
                httpOnly = line.startswith(_HTTP_ONLY_PREFIX)
                if httpOnly:
                    line = line[len(_HTTP_ONLY_PREFIX) :]
                elif line.startswith("#") or not line.strip():
                    continue
                fields = line.split("\t")
                if len(fields) != 7:
                    continue
                domain, subdomains, cookiePath, secure, expiryText, name, value = fields
                try:
                    expiryNumber = int(expiryText)
                except ValueError:
                    continue
                expiry = None if expiryNumber == 0 else float(expiryNumber)
                if expiry is not None and expiry <= now:
                    continue
                hostOnly = subdomains.upper() != "TRUE"
                domain = _canonicalHost(domain.removeprefix("."))
                if not domain or not name or not cookiePath.startswith("/"):
                    continue
                self._counter += 1
                self._cookies[(domain, cookiePath, name)] = StoredCookie(
                    name=name,
                    value=value,
                    domain=domain,
                    path=cookiePath,
                    expiry=expiry,
                    creation=now,
                    lastAccess=now,
                    hostOnly=hostOnly,
                    secureOnly=secure.upper() == "TRUE",
                    httpOnly=httpOnly,
                    _order=self._counter,
                )
