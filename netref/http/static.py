"""
A tree of files served over HTTP: what the textbook's Web server does with
C{GET /someDepartment/home.index} (section 2.2).

L{StaticFiles} is an L{IHandler} that maps request paths to files under a
root directory and answers with RFC 9110's help:

  - C{Content-Type} from the extension (L{netref.http.mediatypes});
  - a directory's index file, a C{301} to C{path/} for a directory asked
    without its slash (so that relative links in its page resolve), or an
    HTML listing;
  - validators (C{ETag}, C{Last-Modified}, section 8.8) and conditional
    requests (section 13, L{netref.http.conditional}): the textbook's
    conditional GET and C{304 Not Modified};
  - ranges (section 14): C{206} with one part or C{multipart/byteranges};
  - with C{writable=True}, C{PUT} (atomic replacement) and C{DELETE}.

Confinement: no request reaches outside the root.  A path segment that
percent-decodes to C{.} or C{..}, that holds a C{/} (C{%2f}), a backslash
or a NUL, and a file whose real path (symbolic links resolved) is outside
the root, all get the same C{404} as a missing file, so that a probe
learns nothing.  Hidden names (starting with C{.}, such as C{.git} or
C{.htpasswd}) are neither served nor listed nor writable, except
C{.well-known} (RFC 8615).

Speed: a file of at most L{SMALL_FILE} octets is answered from memory,
cached by path with its device, inode, size and modification time; a
request costs one C{os.stat} to revalidate the entry.  Larger files are
returned as a L{FileBody}, which the server streams in blocks.

The handler's file operations block the reactor thread briefly (a
C{stat}, a small read, an atomic write of a PUT body the server has
already read into memory); they are local-disk operations.
"""

from __future__ import annotations

import errno
import html
import os
import secrets
import stat
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final
from urllib.parse import quote, unquote, urlsplit

from zope.interface import implementer

from netref.core.durable import fsyncDirectory, writeAtomically
from netref.http.conditional import (
    UNSATISFIABLE,
    ByteRange,
    EntityTag,
    Validators,
    contentRangeUnsatisfied,
    evaluatePreconditions,
    formatHTTPDate,
    ifRangeHolds,
    multipartByteranges,
    selectRanges,
)
from netref.http.handler import (
    BodyPart,
    FileBody,
    HTTPRequest,
    HTTPResponse,
    IHandler,
    textResponse,
)
from netref.http.mediatypes import MEDIA_TYPES, mediaTypeFor
from netref.http.wire import Headers

__all__ = ["SMALL_FILE", "StaticFiles"]

#: Files up to this size are kept in memory and sent as bytes.
SMALL_FILE: Final = 64 * 1024

#: Request fields that make the answer depend on more than the path: with
#: none of them present (the common case) the fast path skips their rules.
_CONDITIONAL_FIELDS: Final = frozenset(
    {
        b"if-match",
        b"if-none-match",
        b"if-modified-since",
        b"if-unmodified-since",
        b"range",
        b"if-range",
    }
)


@dataclass(slots=True)
class _Entry:
    """
    What the handler knows of one file: its identity when it was last
    looked at, its validators and headers, and its bytes if it is small.
    """

    identity: tuple[int, int, int, int]
    size: int
    contentType: str
    etag: EntityTag
    lastModified: int
    lastModifiedText: str
    body: bytes | None

    template: Headers | None = None

    @property
    def validators(self) -> Validators:
        return Validators(self.etag, self.lastModified)

    def headers(self) -> Headers:
        """
        The representation's fields: a copy of a template built once
        (the server adds to what it gets).
        """
        template = self.template
        if template is None:
            template = self.template = Headers(
                [
                    ("Content-Type", self.contentType),
                    ("ETag", str(self.etag)),
                    ("Last-Modified", self.lastModifiedText),
                    ("Accept-Ranges", "bytes"),
                ]
            )
        return template.copy()


class _NotFoundError(Exception):
    """
    The path names nothing this handler will serve.
    """


class _NotAFileError(Exception):
    """
    The path names a directory (or a device, a pipe...): PUT and DELETE
    refuse it.
    """


def _identity(st: os.stat_result) -> tuple[int, int, int, int]:
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def _etagFor(st: os.stat_result) -> EntityTag:
    """
    A strong entity tag (RFC 9110 section 8.8.3) from the file's inode,
    size and modification time in nanoseconds: any replacement (a new
    inode, by an atomic rename) or change (size, time) makes a new tag.
    """
    return EntityTag(f'"{st.st_ino:x}-{st.st_size:x}-{st.st_mtime_ns:x}"')


@implementer(IHandler)
class StaticFiles:
    """
    Serve the files under a directory.

    Routed at a prefix by L{netref.http.handler.Router}, which passes the
    whole path along: give the same prefix here so that C{/files/a.txt}
    means C{ROOT/a.txt}.

    @ivar allowedMethods: C{GET} and C{HEAD}, and C{PUT} and C{DELETE}
        when writable.  Wrap in L{netref.http.handler.BasicAuthHandler} to
        ask for a password before writing.
    """

    #: Most directory entries a listing shows.
    maxListing = 10000
    #: How many files the cache holds, and how many octets of small files.
    maxCacheEntries = 4096
    maxCacheBytes = 64 * 2**20

    def __init__(
        self,
        root: str,
        writable: bool = False,
        indexNames: Sequence[str] = ("index.html",),
        listDirectories: bool = True,
        *,
        prefix: str = "/",
        mediaTypes: Mapping[str, str] = MEDIA_TYPES,
    ) -> None:
        """
        @param root: the directory to serve.
        @param writable: whether C{PUT} and C{DELETE} are allowed.
        @param indexNames: the files that stand for their directory, in
            order of preference.
        @param listDirectories: whether a directory without an index file
            gets a listing (else C{403}).
        @param prefix: the path this handler is routed at.
        @param mediaTypes: extension to media type, for C{Content-Type}.
        """
        self.root = os.path.abspath(root)
        self._realRoot = os.path.realpath(root)
        self._rootPrefix = self._realRoot.rstrip(os.sep) + os.sep
        self.writable = writable
        self.indexNames = tuple(indexNames)
        self.listDirectories = listDirectories
        self.prefix = prefix.rstrip("/")
        self._prefixSegments = [s for s in self.prefix.split("/") if s]
        self.mediaTypes = mediaTypes
        self.allowedMethods: tuple[str, ...] = (
            ("GET", "HEAD", "PUT", "DELETE") if writable else ("GET", "HEAD")
        )
        self._cache: dict[str, _Entry] = {}
        #: request-target -> (file path, segments, raw path, trailing slash):
        #: mapping a target is pure, so it is done once per target.
        self._mapped: dict[str, tuple[str, list[str], str, bool]] = {}
        self._cacheBytes = 0

    # -- mapping paths to files ---------------------------------------------

    def _segments(self, target: str) -> tuple[list[str], str, bool]:
        """
        Split the request's path into decoded segments below the prefix.

        The raw target is split before percent-decoding so that C{%2f}
        cannot fake a separator (RFC 3986 section 2.2: an encoded reserved
        character is data, not a delimiter).

        @return: the segments, the path as sent (still encoded), and
            whether it ends with C{/}.
        @raise _NotFoundError: for any segment that could leave the root or
            name a hidden file.
        """
        if target.startswith("/"):
            rawPath = target.partition("?")[0]
        elif "://" in target:
            rawPath = urlsplit(target).path or "/"
        else:
            raise _NotFoundError()
        if not rawPath.isascii():
            # Octets above 0x7f sent unencoded: UTF-8, as the server reads them.
            try:
                rawPath = rawPath.encode("latin-1").decode("utf-8")
            except UnicodeError:
                raise _NotFoundError() from None
        segments: list[str] = []
        rawSegments = rawPath.split("/")
        for raw in rawSegments[1:]:
            if not raw:
                continue
            try:
                segment = unquote(raw, errors="strict")
            except UnicodeDecodeError:
                raise _NotFoundError() from None
            if (
                segment in (".", "..")
                or "/" in segment
                or "\\" in segment
                or "\x00" in segment
                or (segment.startswith(".") and segment != ".well-known")
            ):
                raise _NotFoundError()
            segments.append(segment)
        if segments[: len(self._prefixSegments)] != self._prefixSegments:
            raise _NotFoundError()
        del segments[: len(self._prefixSegments)]
        return segments, rawPath, rawPath.endswith("/")

    def _inside(self, path: str) -> bool:
        """
        Whether C{path}, with every symbolic link resolved, is the root or
        below it.
        """
        real = os.path.realpath(path)
        return real == self._realRoot or real.startswith(self._rootPrefix)

    def _entryFor(self, path: str, st: os.stat_result) -> _Entry:
        """
        The cache entry of a regular file, revalidated against C{st}.

        @raise _NotFoundError: if the file is outside the root.
        """
        identity = _identity(st)
        entry = self._cache.get(path)
        if entry is not None and entry.identity == identity:
            return entry
        if not self._inside(path):
            raise _NotFoundError()
        body = None
        if st.st_size <= SMALL_FILE:
            with open(path, "rb") as f:
                body = f.read(SMALL_FILE + 1)
                again = os.fstat(f.fileno())
            if len(body) != st.st_size or _identity(again) != identity:
                # It changed while we read it: stream it, cache nothing.
                return self._makeEntry(path, again, None)
        entry = self._makeEntry(path, st, body)
        self._remember(path, entry)
        return entry

    def _makeEntry(self, path: str, st: os.stat_result, body: bytes | None) -> _Entry:
        lastModified = int(st.st_mtime)
        return _Entry(
            identity=_identity(st),
            size=st.st_size,
            contentType=mediaTypeFor(path, self.mediaTypes),
            etag=_etagFor(st),
            lastModified=lastModified,
            lastModifiedText=formatHTTPDate(lastModified),
            body=body,
        )

    def _remember(self, path: str, entry: _Entry) -> None:
        old = self._cache.pop(path, None)
        if old is not None and old.body is not None:
            self._cacheBytes -= len(old.body)
        size = len(entry.body) if entry.body is not None else 0
        while self._cache and (
            len(self._cache) >= self.maxCacheEntries
            or self._cacheBytes + size > self.maxCacheBytes
        ):
            oldest = next(iter(self._cache))
            evicted = self._cache.pop(oldest)
            if evicted.body is not None:
                self._cacheBytes -= len(evicted.body)
        self._cache[path] = entry
        self._cacheBytes += size

    def _forget(self, path: str) -> None:
        old = self._cache.pop(path, None)
        if old is not None and old.body is not None:
            self._cacheBytes -= len(old.body)

    # -- answering -------------------------------------------------------------

    def handle(self, request: HTTPRequest) -> HTTPResponse:
        """
        Answer a request for a file or directory under the root.
        """
        target = request.target
        mapped = self._mapped.get(target)
        if mapped is None:
            try:
                segmentList, rawPath, slash = self._segments(target)
            except _NotFoundError:
                return _notFound()
            mapped = (os.path.join(self.root, *segmentList), segmentList, rawPath, slash)
            if len(target) <= 512:
                if len(self._mapped) >= self.maxCacheEntries:
                    self._mapped.clear()
                self._mapped[target] = mapped
        path, segments, rawPath, slash = mapped
        method = request.method
        try:
            if method in ("GET", "HEAD"):
                return self._get(request, path, segments, rawPath, slash)
            if method == "PUT" and self.writable:
                return self._put(request, path, segments, slash)
            if method == "DELETE" and self.writable:
                return self._delete(request, path, segments, slash)
        except _NotFoundError:
            return _notFound()
        except PermissionError:
            return textResponse(403, "The server may not read or write that.")
        return textResponse(
            405, f"{method} is not allowed here.", [("Allow", ", ".join(self.allowedMethods))]
        )

    def _get(
        self, request: HTTPRequest, path: str, segments: list[str], rawPath: str, slash: bool
    ) -> HTTPResponse:
        try:
            st = os.stat(path)
        except (FileNotFoundError, NotADirectoryError):
            raise _NotFoundError() from None
        except OSError as e:
            if isinstance(e, PermissionError):
                raise
            raise _NotFoundError() from None
        mode = st.st_mode
        if stat.S_ISDIR(mode):
            return self._directory(request, path, segments, rawPath, slash)
        if not stat.S_ISREG(mode) or slash:
            # Devices and pipes are not documents; "file.html/" names nothing.
            raise _NotFoundError()
        return self._file(request, path, st)

    def _file(self, request: HTTPRequest, path: str, st: os.stat_result) -> HTTPResponse:
        entry = self._entryFor(path, st)
        headers = entry.headers()
        requestHeaders = request.headers
        for name, _ in requestHeaders:
            if name.lower() in _CONDITIONAL_FIELDS:
                break
        else:
            # The fast path: no conditions, no ranges.
            return HTTPResponse(200, headers, _whole(path, entry))
        status = evaluatePreconditions(request.method, requestHeaders, entry.validators)
        if status == 304:
            # RFC 9110 section 15.4.5: the validators, no content.
            headers.remove("Content-Type")
            headers.remove("Accept-Ranges")
            return HTTPResponse(304, headers)
        if status == 412:
            return textResponse(412, "The precondition failed.")
        rangeValue = request.header("Range")
        if rangeValue is None or request.method != "GET":
            # Section 14.2: Range is defined for GET only.
            return HTTPResponse(200, headers, _whole(path, entry))
        ifRange = request.header("If-Range")
        if ifRange is not None and not ifRangeHolds(ifRange, entry.validators):
            return HTTPResponse(200, headers, _whole(path, entry))
        ranges = selectRanges(rangeValue, entry.size)
        if ranges is None:
            return HTTPResponse(200, headers, _whole(path, entry))
        if ranges is UNSATISFIABLE:
            return textResponse(
                416,
                "No part of the range is in the file.",
                [("Content-Range", contentRangeUnsatisfied(entry.size))],
            )
        assert isinstance(ranges, list)
        if len(ranges) == 1:
            only = ranges[0]
            headers.add("Content-Range", only.contentRange(entry.size))
            return HTTPResponse(206, headers, _part(path, entry, only))
        boundary = secrets.token_hex(12)
        parts: list[BodyPart] = []
        for item in multipartByteranges(ranges, entry.contentType, entry.size, boundary):
            parts.append(item if isinstance(item, bytes) else _part(path, entry, item))
        headers.set("Content-Type", f"multipart/byteranges; boundary={boundary}")
        return HTTPResponse(206, headers, parts)

    def _directory(
        self, request: HTTPRequest, path: str, segments: list[str], rawPath: str, slash: bool
    ) -> HTTPResponse:
        if not self._inside(path):
            raise _NotFoundError()
        if not slash:
            # Relative links in the directory's page resolve against the
            # URL, so it must end with "/" (RFC 3986 section 5.2).
            location = quote(rawPath, safe="/%:@!$&'()*+,;=-._~") + "/"
            if request.query:
                location += "?" + request.query
            return textResponse(301, f"The directory is at {location}", [("Location", location)])
        for name in self.indexNames:
            index = os.path.join(path, name)
            try:
                st = os.stat(index)
            except OSError:
                continue
            if stat.S_ISREG(st.st_mode):
                return self._file(request, index, st)
        if not self.listDirectories:
            return textResponse(403, "This directory has no index page.")
        return self._listing(request, path, segments)

    def _listing(self, request: HTTPRequest, path: str, segments: list[str]) -> HTTPResponse:
        """
        An HTML page listing the directory: names escaped for HTML, links
        percent-encoded (a name such as C{<script>.txt} or C{a b#c} stays a
        name).  Hidden names are left out.
        """
        entries: list[tuple[str, bool]] = []
        with os.scandir(path) as scan:
            for item in scan:
                if item.name.startswith("."):
                    continue
                try:
                    isDirectory = item.is_dir()
                except OSError:
                    isDirectory = False
                entries.append((item.name, isDirectory))
                if len(entries) >= self.maxListing:
                    break
        entries.sort()
        shown = "/" + "/".join(self._prefixSegments + segments)
        if segments:
            shown += "/"
        title = html.escape(f"Index of {shown}")
        lines = [
            "<!DOCTYPE html>",
            '<html lang="en">',
            '<head><meta charset="utf-8"><title>' + title + "</title></head>",
            "<body>",
            "<h1>" + title + "</h1>",
            "<ul>",
        ]
        if segments:
            lines.append('<li><a href="../">../</a></li>')
        for name, isDirectory in entries:
            suffix = "/" if isDirectory else ""
            href = quote(name, safe="") + suffix
            lines.append(
                f'<li><a href="{html.escape(href)}">{html.escape(name + suffix)}</a></li>'
            )
        lines += ["</ul>", "</body>", "</html>", ""]
        body = "\n".join(lines).encode("utf-8", "surrogateescape")
        headers = Headers([("Content-Type", "text/html; charset=utf-8")])
        return HTTPResponse(200, headers, body)

    # -- writing ---------------------------------------------------------------

    def _put(
        self, request: HTTPRequest, path: str, segments: list[str], slash: bool
    ) -> HTTPResponse:
        """
        Create or replace a file (RFC 9110 section 9.3.4), atomically: the
        new content goes to a temporary file in the same directory, is
        fsynced and renamed over the old one, so a reader sees the old file
        or the new one, never half of one.
        """
        if request.header("Content-Range") is not None:
            # Section 14.5: a partial PUT must be refused with 400.
            return textResponse(400, "PUT with Content-Range is not supported.")
        if not segments or slash:
            return textResponse(409, "A directory cannot be replaced by a file.")
        parent = os.path.dirname(path)
        try:
            parentStat = os.stat(parent)
        except (FileNotFoundError, NotADirectoryError):
            return textResponse(409, "The parent directory does not exist.")
        if not stat.S_ISDIR(parentStat.st_mode):
            return textResponse(409, "The parent is not a directory.")
        if not self._inside(parent):
            raise _NotFoundError()
        try:
            current = self._current(path)
        except _NotAFileError:
            return textResponse(409, "A directory cannot be replaced by a file.")
        status = evaluatePreconditions("PUT", request.headers, current)
        if status is not None:
            return textResponse(412, "The precondition failed.")
        try:
            writeAtomically(path, request.body)
        except OSError as e:
            if e.errno in (errno.ENOSPC, errno.EDQUOT):
                # RFC 4918 section 11.5, the status HTTP servers use for it.
                return textResponse(507, "There is no room for the file.")
            raise
        self._forget(path)
        st = os.stat(path)
        headers = Headers([("ETag", str(_etagFor(st)))])
        if current is None:
            headers.add("Location", request.target.partition("?")[0])
            return textResponse(201, "Created.", headers)
        return HTTPResponse(204, headers)

    def _delete(
        self, request: HTTPRequest, path: str, segments: list[str], slash: bool
    ) -> HTTPResponse:
        """
        Remove a file (RFC 9110 section 9.3.5).  Directories are refused
        with 409: removing a tree is not one file's business.
        """
        if not segments:
            return textResponse(409, "The root cannot be deleted.")
        try:
            current = self._current(path)
        except _NotAFileError:
            return textResponse(409, "Directories cannot be deleted.")
        if current is None:
            raise _NotFoundError()
        status = evaluatePreconditions("DELETE", request.headers, current)
        if status is not None:
            return textResponse(412, "The precondition failed.")
        os.unlink(path)
        self._forget(path)
        fsyncDirectory(os.path.dirname(path))
        return HTTPResponse(204)

    def _current(self, path: str) -> Validators | None:
        """
        @return: the validators of the file at C{path}, or L{None} if there
            is none.
        @raise _NotAFileError: if it is a directory or other non-file.
        @raise _NotFoundError: if it is a link to outside the root.
        """
        try:
            st = os.stat(path)
        except (FileNotFoundError, NotADirectoryError):
            if os.path.islink(path):
                # A dangling link: writing would follow it anywhere.
                raise _NotFoundError() from None
            return None
        if not self._inside(path):
            raise _NotFoundError()
        if not stat.S_ISREG(st.st_mode):
            raise _NotAFileError()
        return Validators(_etagFor(st), int(st.st_mtime))


def _whole(path: str, entry: _Entry) -> bytes | FileBody:
    """
    The whole file: from memory if small, else streamed by the server.
    """
    if entry.body is not None:
        return entry.body
    return FileBody(path, 0, entry.size)


def _part(path: str, entry: _Entry, byteRange: ByteRange) -> bytes | FileBody:
    if entry.body is not None:
        return entry.body[byteRange.first : byteRange.last + 1]
    return FileBody(path, byteRange.first, byteRange.length)


def _notFound() -> HTTPResponse:
    return textResponse(404, "Nothing is here.")
