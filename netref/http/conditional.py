"""
Conditional requests (RFC 9110 section 13) and range requests (section 14).

Validators -- an entity tag and a modification date -- let a client that
holds a copy ask "send it only if it changed" (the textbook's conditional GET
and C{304 Not Modified}, section 2.2.5) or "change it only if nobody else
did" (C{412 Precondition Failed}).  Ranges let it ask for part of a
representation: the rest of an interrupted download, or the segment of a
video it is about to play.

Nothing here knows about files, sockets or Twisted: the static file handler
uses it today, and the web cache and the streaming server reuse it.  The
functions take header values as C{str} (or C{None} when the field is absent)
so that any header container can feed them.
"""

from __future__ import annotations

import calendar
import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Final, Protocol

# ---------------------------------------------------------------------------
# HTTP dates (RFC 9110 section 5.6.7)

_DAYS: Final = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS: Final = (
    "Jan",
    "Feb",
    "Mar",
    "Apr",
    "May",
    "Jun",
    "Jul",
    "Aug",
    "Sep",
    "Oct",
    "Nov",
    "Dec",
)
_MONTH_NUMBERS: Final = {name: number for number, name in enumerate(_MONTHS, 1)}

_IMF_FIXDATE = re.compile(
    r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\d\d) ([A-Z][a-z]{2}) (\d{4}) "
    r"(\d\d):(\d\d):(\d\d) GMT\Z"
)
_RFC850_DATE = re.compile(
    r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), "
    r"(\d\d)-([A-Z][a-z]{2})-(\d\d) (\d\d):(\d\d):(\d\d) GMT\Z"
)
_ASCTIME_DATE = re.compile(
    r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) ([A-Z][a-z]{2}) ([ \d]\d) "
    r"(\d\d):(\d\d):(\d\d) (\d{4})\Z"
)


def formatHTTPDate(seconds: float) -> str:
    """
    Format a time as an IMF-fixdate, the one form RFC 9110 section 5.6.7
    lets a sender generate: C{Sun, 06 Nov 1994 08:49:37 GMT}.

    @param seconds: seconds since the epoch; the fraction is dropped.
    """
    t = time.gmtime(int(seconds))
    return (
        f"{_DAYS[t.tm_wday]}, {t.tm_mday:02d} {_MONTHS[t.tm_mon - 1]} {t.tm_year:04d} "
        f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} GMT"
    )


def _toSeconds(year: int, month: int, day: int, hour: int, minute: int, second: int) -> int | None:
    if not (1 <= day <= 31 and hour <= 23 and minute <= 59 and second <= 60):
        return None
    if year < 1 or day > calendar.monthrange(year, month)[1]:
        # No 31 February.
        return None
    return calendar.timegm((year, month, day, hour, minute, min(second, 59), 0, 0, 0))


def parseHTTPDate(value: str, now: float | None = None) -> int | None:
    """
    Parse an HTTP-date in any of the three forms a recipient must accept
    (RFC 9110 section 5.6.7): IMF-fixdate, the obsolete RFC 850 form and
    C{asctime()}'s form.

    @param value: the field value (surrounding whitespace is ignored).
    @param now: the current time, for the RFC 850 form's two-digit year: a
        year that would be more than 50 years in the future is taken to be
        in the past century, as section 5.6.7 says.
    @return: seconds since the epoch, or L{None} when C{value} is not a
        valid HTTP-date.
    """
    value = value.strip()
    match = _IMF_FIXDATE.match(value)
    if match:
        day, monthName, year, hour, minute, second = match.groups()
    else:
        match = _ASCTIME_DATE.match(value)
        if match:
            monthName, day, hour, minute, second, year = match.groups()
        else:
            match = _RFC850_DATE.match(value)
            if not match:
                return None
            day, monthName, shortYear, hour, minute, second = match.groups()
            thisYear = time.gmtime(time.time() if now is None else now).tm_year
            fullYear = thisYear - thisYear % 100 + int(shortYear)
            if fullYear > thisYear + 50:
                fullYear -= 100
            year = str(fullYear)
    month = _MONTH_NUMBERS.get(monthName)
    if month is None:
        return None
    return _toSeconds(int(year), month, int(day), int(hour), int(minute), int(second))


# ---------------------------------------------------------------------------
# Entity tags (RFC 9110 section 8.8.3)

#: etagc = "!" / %x23-7E / obs-text (section 8.8.3).
_ETAG = re.compile(r'\s*(W/)?("[\x21\x23-\x7e\x80-\xff]*")\s*')


@dataclass(frozen=True, slots=True)
class EntityTag:
    """
    An entity tag: an opaque validator, quoted on the wire, and weak when
    prefixed with C{W/} (RFC 9110 section 8.8.3).

    @ivar opaque: the tag with its double quotes, as on the wire.
    @ivar weak: whether it is a weak validator.
    """

    opaque: str
    weak: bool = False

    def __str__(self) -> str:
        return ("W/" if self.weak else "") + self.opaque

    def strongMatch(self, other: EntityTag) -> bool:
        """
        Strong comparison (section 8.8.3.2): both strong and the same.
        Used by If-Match and If-Range.
        """
        return not self.weak and not other.weak and self.opaque == other.opaque

    def weakMatch(self, other: EntityTag) -> bool:
        """
        Weak comparison (section 8.8.3.2): the same opaque tags, whether
        either is weak or not.  Used by If-None-Match.
        """
        return self.opaque == other.opaque


def parseEntityTag(value: str) -> EntityTag | None:
    """
    @return: the one entity tag in C{value}, or L{None} if C{value} is not
        exactly one.
    """
    match = _ETAG.fullmatch(value)
    if not match:
        return None
    return EntityTag(match.group(2), bool(match.group(1)))


#: The C{*} of If-Match and If-None-Match: "any current representation".
ANY: Final = "*"


def parseEntityTagList(value: str) -> list[EntityTag] | str | None:
    """
    Parse the value of If-Match or If-None-Match: C{"*"} or a list of entity
    tags (RFC 9110 sections 13.1.1 and 13.1.2; empty list elements are
    allowed, section 5.6.1).

    @return: L{ANY}, the list of tags, or L{None} if the value is malformed.
    """
    stripped = value.strip()
    if stripped == "*":
        return ANY
    tags: list[EntityTag] = []
    position = 0
    length = len(value)
    while position < length:
        match = _ETAG.match(value, position)
        if match:
            tags.append(EntityTag(match.group(2), bool(match.group(1))))
            position = match.end()
        if position < length:
            if value[position] != ",":
                return None
            position += 1
            while position < length and value[position] in " \t,":
                position += 1
    return tags if tags else None


# ---------------------------------------------------------------------------
# Preconditions (RFC 9110 section 13.2)


class HeaderSource(Protocol):
    """
    What the evaluation needs of a request's header fields: the combined
    value of a field, or L{None} (L{netref.http.wire.Headers} is one).
    """

    def get(self, name: str) -> bytes | None: ...


@dataclass(frozen=True, slots=True)
class Validators:
    """
    The validators of the selected representation (RFC 9110 section 8.8).

    @ivar etag: its entity tag, or L{None} if it has none.
    @ivar lastModified: its modification time in whole seconds since the
        epoch, or L{None}.
    """

    etag: EntityTag | None = None
    lastModified: int | None = None


def _text(headers: HeaderSource, name: str) -> str | None:
    raw = headers.get(name)
    return None if raw is None else raw.decode("latin-1")


def evaluatePreconditions(
    method: str, headers: HeaderSource, current: Validators | None
) -> int | None:
    """
    Evaluate a request's preconditions in the order of RFC 9110 section
    13.2.2.

     1. C{If-Match} (section 13.1.1), strong comparison; false -> 412.
     2. Else C{If-Unmodified-Since} (13.1.4), ignored when the date is
        invalid or the resource has no date; false -> 412.
     3. C{If-None-Match} (13.1.2), weak comparison; false -> 304 for GET
        and HEAD, 412 for other methods.
     4. Else, for GET and HEAD only, C{If-Modified-Since} (13.1.3), ignored
        when the date is invalid; false -> 304.

    Step 5, C{If-Range}, belongs to range handling: L{ifRangeHolds}.

    Section 13.2.1 says a server must ignore the conditions when it would
    answer other than 2xx or 412 without them: the caller evaluates them
    only for a request it would otherwise serve (a missing file gets its
    404; a PUT creating one passes C{current=None}).

    @param method: the request method.
    @param headers: the request's header fields.
    @param current: the validators of the current representation, or
        L{None} when the target resource has none (it does not exist).
    @return: L{None} to go on with the request, or the status to answer
        instead: 304 or 412.
    """
    safe = method in ("GET", "HEAD")
    ifMatch = _text(headers, "if-match")
    if ifMatch is not None:
        if not _ifMatchHolds(ifMatch, current):
            return 412
    else:
        ifUnmodifiedSince = _text(headers, "if-unmodified-since")
        if ifUnmodifiedSince is not None and current is not None:
            date = parseHTTPDate(ifUnmodifiedSince)
            if (
                date is not None
                and current.lastModified is not None
                and current.lastModified > date
            ):
                return 412
    ifNoneMatch = _text(headers, "if-none-match")
    if ifNoneMatch is not None:
        if not _ifNoneMatchHolds(ifNoneMatch, current):
            return 304 if safe else 412
    elif safe and current is not None and current.lastModified is not None:
        ifModifiedSince = _text(headers, "if-modified-since")
        if ifModifiedSince is not None:
            date = parseHTTPDate(ifModifiedSince)
            if date is not None and current.lastModified <= date:
                return 304
    return None


def _ifMatchHolds(value: str, current: Validators | None) -> bool:
    """
    RFC 9110 section 13.1.1: C{*} holds when a current representation
    exists; a list holds when one of its tags matches strongly.  A
    malformed value holds for nothing.
    """
    tags = parseEntityTagList(value)
    if current is None:
        return False
    if tags == ANY:
        return True
    if tags is None or current.etag is None:
        return False
    assert isinstance(tags, list)
    return any(tag.strongMatch(current.etag) for tag in tags)


def _ifNoneMatchHolds(value: str, current: Validators | None) -> bool:
    """
    RFC 9110 section 13.1.2: C{*} fails when a current representation
    exists; a list fails when one of its tags matches weakly.  A malformed
    value fails nothing.
    """
    tags = parseEntityTagList(value)
    if current is None:
        return True
    if tags == ANY:
        return False
    if tags is None or current.etag is None:
        return True
    assert isinstance(tags, list)
    return not any(tag.weakMatch(current.etag) for tag in tags)


def ifRangeHolds(value: str, current: Validators) -> bool:
    """
    RFC 9110 section 13.1.5: the range applies only if the representation
    is still the one the client has part of.  An entity tag must match
    strongly (a weak tag never does); a date must equal the
    C{Last-Modified} exactly.  Anything else sends the whole representation.

    @param value: the C{If-Range} field value.
    @param current: the representation's validators.
    """
    value = value.strip()
    if value.startswith(('"', "W/")):
        tag = parseEntityTag(value)
        return tag is not None and current.etag is not None and tag.strongMatch(current.etag)
    date = parseHTTPDate(value)
    return date is not None and current.lastModified is not None and date == current.lastModified


# ---------------------------------------------------------------------------
# Ranges (RFC 9110 section 14)


@dataclass(frozen=True, slots=True)
class ByteRange:
    """
    A satisfiable range of a representation: bytes C{first} to C{last},
    both included, as in C{Content-Range} (RFC 9110 section 14.4).
    """

    first: int
    last: int

    @property
    def length(self) -> int:
        return self.last - self.first + 1

    def contentRange(self, completeLength: int) -> str:
        """
        @return: the C{Content-Range} value for this range, e.g.
            C{bytes 0-499/1234}.
        """
        return f"bytes {self.first}-{self.last}/{completeLength}"


class _Unsatisfiable:
    """
    The type of L{UNSATISFIABLE}.
    """

    def __repr__(self) -> str:
        return "UNSATISFIABLE"


#: The answer to a valid C{Range} no range of which overlaps the
#: representation: C{416} with C{Content-Range: bytes */LENGTH}
#: (RFC 9110 section 15.5.17).
UNSATISFIABLE: Final = _Unsatisfiable()

#: More ranges than this in one request and the C{Range} field is ignored
#: (the whole representation is sent with 200): RFC 9110 section 14.2
#: allows it, as many ranges are a sign of a broken client or an attack.
MAX_RANGES: Final = 16

#: Ranges closer than this many bytes are merged into one part (section
#: 14.2: a gap smaller than the overhead of a part of multipart/byteranges).
COALESCE_GAP: Final = 80

_INT_RANGE = re.compile(r"(\d+)-(\d*)\Z")
_SUFFIX_RANGE = re.compile(r"-(\d+)\Z")
#: Positions longer than this are absurd for any file; refusing them keeps
#: int() linear (Python limits int conversion of long strings anyway).
_MAX_DIGITS: Final = 18


def contentRangeUnsatisfied(completeLength: int) -> str:
    """
    @return: the C{Content-Range} of a 416 answer, C{bytes */LENGTH}
        (RFC 9110 section 14.4).
    """
    return f"bytes */{completeLength}"


def selectRanges(
    value: str, completeLength: int, maxRanges: int = MAX_RANGES
) -> list[ByteRange] | _Unsatisfiable | None:
    """
    Decide what a C{Range} field asks of a representation of
    C{completeLength} bytes (RFC 9110 section 14.1.2 syntax, 14.2 rules).

    C{ranges-specifier = range-unit "=" range-set}; only the C{bytes} unit
    is known (case-insensitive); C{range-set = 1#range-spec}, each an
    C{int-range} (C{first-last} or C{first-}) or a C{suffix-range}
    (C{-N}, the last N bytes).  A C{last} before C{first} makes the whole
    field invalid.  An C{int-range} is satisfiable when C{first} is within
    the representation; a C{suffix-range} when N > 0.  C{last} beyond the
    end is cut to the end.

    Abuse defence (section 14.2 allows ignoring or coalescing): a field of
    more than C{maxRanges} ranges is ignored; when the satisfiable ranges
    overlap or lie closer than L{COALESCE_GAP} bytes they are sorted and
    merged, so the answer is never larger than the representation plus
    the part headers.

    @return: L{None} to ignore the field (invalid syntax, another unit, too
        many ranges) and send the whole representation with 200;
        L{UNSATISFIABLE} for a 416; else the ranges to send, in the order
        asked (or ascending, after merging), at least one.
    """
    unit, equals, rangeSet = value.partition("=")
    if not equals or unit.lower() != "bytes":
        return None
    specs = [spec.strip(" \t") for spec in rangeSet.split(",")]
    specs = [spec for spec in specs if spec]
    if not specs or len(specs) > maxRanges:
        return None
    ranges: list[ByteRange] = []
    for spec in specs:
        match = _INT_RANGE.match(spec)
        if match:
            firstText, lastText = match.groups()
            if len(firstText) > _MAX_DIGITS or len(lastText) > _MAX_DIGITS:
                return None
            first = int(firstText)
            if lastText:
                last = int(lastText)
                if last < first:
                    return None
            else:
                last = completeLength - 1
            if first < completeLength:
                ranges.append(ByteRange(first, min(last, completeLength - 1)))
            continue
        match = _SUFFIX_RANGE.match(spec)
        if match:
            if len(match.group(1)) > _MAX_DIGITS:
                return None
            suffix = int(match.group(1))
            if suffix > 0 and completeLength > 0:
                ranges.append(ByteRange(max(0, completeLength - suffix), completeLength - 1))
            continue
        return None
    if not ranges:
        return UNSATISFIABLE
    return _coalesce(ranges)


def _coalesce(ranges: list[ByteRange]) -> list[ByteRange]:
    """
    Merge overlapping or nearly adjacent ranges (RFC 9110 section 14.2);
    ranges far apart keep the order the client asked for them in.
    """
    if len(ranges) == 1:
        return ranges
    ordered = sorted(ranges, key=lambda r: r.first)
    close = any(
        later.first - earlier.last - 1 < COALESCE_GAP
        for earlier, later in zip(ordered, ordered[1:], strict=False)
    )
    if not close:
        return ranges
    merged = [ordered[0]]
    for current in ordered[1:]:
        previous = merged[-1]
        if current.first - previous.last - 1 < COALESCE_GAP:
            merged[-1] = ByteRange(previous.first, max(previous.last, current.last))
        else:
            merged.append(current)
    return merged


def multipartByteranges(
    ranges: Sequence[ByteRange], contentType: str, completeLength: int, boundary: str
) -> Iterator[bytes | ByteRange]:
    """
    Lay out a C{multipart/byteranges} body (RFC 9110 section 14.6, the
    multipart syntax of RFC 2046 section 5.1.1): for each range, a
    delimiter, the part's C{Content-Type} and C{Content-Range}, an empty
    line and the bytes; then the close delimiter.

    The bytes themselves are not read here: the iterator yields the
    framing as C{bytes} and each range as a L{ByteRange}, for the caller
    to turn into data (a slice of a cached body, or a part of a file the
    server streams).

    @param boundary: the boundary, which must not occur in the data; the
        response's type is C{multipart/byteranges; boundary=BOUNDARY}.
    """
    delimiter = b"--" + boundary.encode("ascii")
    for index, byteRange in enumerate(ranges):
        yield (
            (b"\r\n" if index else b"")
            + delimiter
            + b"\r\nContent-Type: "
            + contentType.encode("latin-1")
            + b"\r\nContent-Range: "
            + byteRange.contentRange(completeLength).encode("ascii")
            + b"\r\n\r\n"
        )
        yield byteRange
    yield b"\r\n" + delimiter + b"--\r\n"
