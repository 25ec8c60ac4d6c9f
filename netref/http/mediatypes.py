"""
Media types by file-name extension, for the C{Content-Type} of static files.

RFC 9110 section 8.3: a sender that knows the media type of the content
should send C{Content-Type}; a recipient may otherwise sniff, which is what
makes a browser render a page as text or run a script it should not.  The
table here is netref's own and small on purpose: the stdlib's C{mimetypes}
reads C{/etc/mime.types}, so its answers change from one machine to the next,
and a reference server must answer the same everywhere.

Textual types carry C{charset=utf-8} (RFC 9110 section 8.3.2): the files the
lab serves are UTF-8, and a browser must not guess.
"""

from __future__ import annotations

from collections.abc import Mapping

#: The type of a file whose extension the table does not know (RFC 9110
#: section 8.3: "application/octet-stream" when the type is unknown).
DEFAULT_TYPE = "application/octet-stream"

#: Extension (lower case, without the dot) to media type.
MEDIA_TYPES: Mapping[str, str] = {
    # Documents and code a browser renders or runs.
    "html": "text/html; charset=utf-8",
    "htm": "text/html; charset=utf-8",
    # The textbook's page is www.someSchool.edu/someDepartment/home.index
    # (section 2.2.1): served as HTML so that the book's URL works.
    "index": "text/html; charset=utf-8",
    "css": "text/css; charset=utf-8",
    "js": "text/javascript; charset=utf-8",
    "mjs": "text/javascript; charset=utf-8",
    "json": "application/json",
    "txt": "text/plain; charset=utf-8",
    "md": "text/markdown; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
    "xml": "application/xml",
    "wasm": "application/wasm",
    # Images.
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "gif": "image/gif",
    "svg": "image/svg+xml",
    "ico": "image/vnd.microsoft.icon",
    "webp": "image/webp",
    # Documents and archives a browser downloads.
    "pdf": "application/pdf",
    "zip": "application/zip",
    "gz": "application/gzip",
    "tar": "application/x-tar",
    # Video: progressive download and DASH (RFC 4337, ISO/IEC 23009-1).
    "mp4": "video/mp4",
    "m4s": "video/iso.segment",
    "mpd": "application/dash+xml",
    "webm": "video/webm",
    "mp3": "audio/mpeg",
    # Web fonts (RFC 8081).
    "woff": "font/woff",
    "woff2": "font/woff2",
}


def mediaTypeFor(name: str, table: Mapping[str, str] = MEDIA_TYPES) -> str:
    """
    The media type of a file, from the extension of its name.

    @param name: a file name or path; only the part after the last dot of
        its last segment counts, in any case (C{PIC01.JPG} is a JPEG).
    @param table: the extension table; L{MEDIA_TYPES} unless a caller has
        types of its own.
    @return: the media type, with a charset for text; L{DEFAULT_TYPE} when
        the name has no extension or an unknown one.
    """
    base = name.rpartition("/")[2]
    stem, dot, extension = base.rpartition(".")
    if not dot or not stem:
        # "README" has no extension, and ".profile" is a name, not one.
        return DEFAULT_TYPE
    return table.get(extension.lower(), DEFAULT_TYPE)
