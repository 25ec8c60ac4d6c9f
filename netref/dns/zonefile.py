"""
Master files (RFC 1035 section 5): the text form of a zone, as real zones are
written.

A master file is a sequence of entries, one a line (RFC 1035 section 5.1)::

    $ORIGIN someschool.edu.
    $TTL 1h
    @       IN  SOA dns hostmaster (
                    2026112101 ; serial
                    1h 15m 1w 5m )
            IN  NS  dns
    dns         A   127.2.2.3
    www     300 IN  A   127.2.3.1

L{parseZone} reads such text and L{loadZoneFile} a file; both return a
L{ZoneData}: the zone's origin and its records, checked as a whole.

The syntax
==========

  - Fields are separated by spaces and tabs.  C{;} starts a comment that runs
    to the end of the line.  C{(} and C{)} group the fields of one entry
    across several lines: inside them, line ends are ignored.  Parentheses do
    not nest.
  - A quoted string C{"..."} is one field, spaces, C{;} and C{(} included;
    C{\\"} is a quote inside it.  It must end on the line where it starts.
  - A backslash escapes the next character, in quoted strings and bare
    fields alike (C{\\;}, C{\\ }, C{\\.}), and C{\\DDD} is the octet with
    decimal value DDD.  Fields reach L{netref.dns.rdata} exactly as written,
    quotes and escapes included: that module's token convention.
  - A record is C{[owner] [ttl] [class] type rdata}, with TTL and class in
    either order.  A line that starts with a space or a tab has no owner: the
    record belongs to the previous record's owner.  C{@} is the current
    origin, and a name without a final dot is relative to it.
  - TTLs are seconds, or BIND's units, as every zone file uses them:
    C{1w}, C{2d}, C{1h30m}, C{45s}, in any case (L{ttlFromText}).  At most
    2**31 - 1 (RFC 2181 section 8).

The directives
==============

  - C{$ORIGIN name} sets the origin of relative names; a relative C{name} is
    relative to the current origin (RFC 1035 section 5.1), as in BIND (NSD
    wants it absolute, here and in C{$INCLUDE}).
  - C{$TTL ttl} sets the TTL of the records that give none (RFC 2308
    section 4).
  - C{$INCLUDE file [origin]} reads another file in place (RFC 1035 section
    5.1).  A relative path is relative to the directory of the including
    file.  The included file starts with C{origin}, if given (relative to
    the current origin), else with the current origin, and whatever origin
    it ends with does not leak back into the including file.  Everything
    else carries on as if the text were inline: the previous owner, TTL and
    class, and C{$TTL}.  Include loops are errors, as is nesting deeper than
    C{maxIncludeDepth}; C{allowInclude=False} forbids C{$INCLUDE} entirely,
    for text that must not read files.

The defaults
============

  - B{TTL}: a record without a TTL gets C{$TTL} if one came before it; else
    the previous record's TTL (RFC 1035 section 5.1: "the last explicitly
    stated values"); else, for the SOA record only, its MINIMUM field, as
    BIND 9 and dnspython do; otherwise it is an error.  (NSD uses 3600
    whenever there is no C{$TTL}.)
  - B{Class}: the previous record's class, IN for the first record.  Every
    record of a zone has the same class: mixing classes is an error.  Any
    class is accepted (C{CH} zones exist), where NSD takes only IN.

The checks on the whole zone
============================

  - Exactly one SOA record, at the zone's origin (RFC 1035 section 5.2).  A
    second SOA is an error even when it repeats the first, as in NSD.
  - At least one NS record at the origin (RFC 1034 section 4.2.1).  BIND's
    named-checkzone insists on this too; NSD does not.
  - Every record at or below the origin: data out of the zone is an error,
    as in NSD (C{out of zone data}), not silently dropped.
  - A name with a CNAME has no other data (RFC 1034 section 3.6.2, RFC 2181
    section 10.1) and only one CNAME; the DNSSEC types RRSIG and NSEC may
    sit beside it (RFC 4035 section 2.5).
  - Identical records are one record (RFC 2181 section 5): duplicates are
    dropped, silently.
  - The records of an RRset with different TTLs all get the lowest of them,
    as RFC 2181 section 5.2 tells receivers to do, and the zone keeps a
    warning (L{ZoneData.warnings}) for each record that disagreed.  (NSD
    warns and keeps them as written; BIND uses the first.)  RRSIG records
    are left alone: RRSIGs covering different types at one name form one
    RRset on the wire but may rightly have different TTLs (RFC 4034 section
    3).

Errors
======

Every problem raises L{ZoneFileError}, a L{TextError} that knows its file
and line (the line where the entry starts) and reads like a compiler's::

    someschool.edu.zone:18: MX takes 2 fields, not 1: '10'

Limits
======

Zone files may come from people we do not trust, so every resource has a
bound: a line (and the fields of one entry spread over several lines) is at
most C{maxLineLength} characters, a zone at most C{maxRecords} records,
C{$INCLUDE} nests at most C{maxIncludeDepth} files deep.  Files are read a
line at a time, so a huge line is refused before it is read whole.

No sockets and no Twisted here; L{netref.dns.server} serves what this reads.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace

from netref.dns.name import ROOT, Name, TextError, unescape
from netref.dns.rdata import (
    SOA,
    Rdata,
    RRClass,
    RRType,
    classFromText,
    classToText,
    parseRdata,
    ttlFromText,
    typeFromText,
    typeToText,
)
from netref.dns.wire import MAX_TTL, ResourceRecord

__all__ = [
    "MAX_LINE_LENGTH",
    "MAX_RECORDS",
    "MAX_INCLUDE_DEPTH",
    "ZoneFileError",
    "ZoneData",
    "parseZone",
    "loadZoneFile",
]

#: The longest line, in characters (octets, for a file), and the most
#: characters of fields one entry may have over all its lines.  The longest
#: record there can be, 65535 octets of data all written as C{\\DDD}, fits.
MAX_LINE_LENGTH = 1 << 19

#: The most records a zone may have, duplicates included.
MAX_RECORDS = 1_000_000

#: How deep C{$INCLUDE} may nest: the main file is at depth 0, a file it
#: includes at depth 1, and so on.
MAX_INCLUDE_DEPTH = 16

# What ends a bare field (RFC 1035 section 5.1).  A quote inside a bare field
# is refused: "a"b is more likely a typo than two fields.
_DELIMITERS = frozenset(' \t\r;()"')
_BLANKS = frozenset(" \t\r")

# The types that may share a name with a CNAME (RFC 4035 section 2.5).
_BESIDE_CNAME = frozenset({RRType.CNAME, RRType.RRSIG, RRType.NSEC})

# A stand-in origin that no zone uses: see _Parser._parseRdata.
_PROBE = Name((b"\x00netref-no-origin\x00",))


class ZoneFileError(TextError):
    """
    An error in a master file, with where it is.

    @ivar fileName: the file, as it was named to L{loadZoneFile} or
        L{parseZone}, or as C{$INCLUDE} made its path.
    @ivar lineNumber: the line, counting from 1, where the faulty entry
        starts.
    @ivar reason: the message without the place.
    """

    def __init__(self, reason: str, fileName: str, lineNumber: int) -> None:
        super().__init__(f"{fileName}:{lineNumber}: {reason}")
        self.reason = reason
        self.fileName = fileName
        self.lineNumber = lineNumber


@dataclass(frozen=True, slots=True)
class ZoneData:
    """
    A zone as a master file describes it, checked (see the module
    docstring).

    @ivar origin: the name at the top of the zone, where its SOA is.
    @ivar records: the records, in the order the file gives them, without
        duplicates, with one TTL per RRset.
    @ivar warnings: problems that did not stop the load, each as
        C{"file:line: message"}.
    """

    origin: Name
    records: tuple[ResourceRecord, ...]
    warnings: tuple[str, ...] = ()

    @property
    def soa(self) -> ResourceRecord:
        """
        The zone's SOA record (RFC 1035 section 5.2: there is exactly one).
        """
        for record in self.records:
            if record.rtype == RRType.SOA:
                return record
        raise ValueError("a zone without an SOA record")

    @property
    def rclass(self) -> int:
        """
        The class of every record of the zone.
        """
        return self.soa.rclass

    def toText(self) -> str:
        """
        The zone as a master file: one record a line, names absolute, that
        L{parseZone} reads back into an equal L{ZoneData}.
        """
        lines = [f"; zone {self.origin.toText()}"]
        lines.extend(record.toText() for record in self.records)
        return "\n".join(lines) + "\n"


@dataclass(frozen=True, slots=True)
class _Entry:
    """
    One entry of a master file: a directive or a record, its fields as
    written (L{netref.dns.rdata}'s token convention).

    @ivar blankOwner: whether the entry's line starts with a blank, so that
        a record has no owner field (RFC 1035 section 5.1).
    """

    lineNumber: int
    blankOwner: bool
    tokens: tuple[str, ...]


class _Tokenizer:
    """
    Splits the lines of a master file into L{_Entry}s: fields, comments,
    quoted strings, escapes and parentheses (RFC 1035 section 5.1).

    @ivar lineNumber: the number of the last line read.
    """

    def __init__(self, lines: Iterable[str], fileName: str, maxLineLength: int) -> None:
        self.lines = lines
        self.fileName = fileName
        self.maxLineLength = maxLineLength
        self.lineNumber = 0

    def _error(self, reason: str, lineNumber: int | None = None) -> ZoneFileError:
        return ZoneFileError(
            reason, self.fileName, self.lineNumber if lineNumber is None else lineNumber
        )

    def __iter__(self) -> Iterator[_Entry]:
        tokens: list[str] = []
        grouped = False
        start = 0
        openedAt = 0
        blankOwner = False
        size = 0
        limit = self.maxLineLength
        for line in self.lines:
            self.lineNumber += 1
            if len(line) > limit:
                raise self._error(f"line longer than {limit} characters")
            if not line.isascii():
                try:
                    line.encode("utf-8", "surrogateescape")
                except UnicodeEncodeError:
                    raise self._error("a character that is not text (a lone surrogate)") from None
            if not grouped:
                tokens = []
                start = self.lineNumber
                blankOwner = line[:1] in (" ", "\t")
                size = 0
            index = 0
            length = len(line)
            while index < length:
                char = line[index]
                if char in _BLANKS:
                    index += 1
                elif char == ";":
                    break
                elif char == "(":
                    if grouped:
                        raise self._error("nested parentheses")
                    grouped = True
                    openedAt = self.lineNumber
                    index += 1
                elif char == ")":
                    if not grouped:
                        raise self._error("')' without '('")
                    grouped = False
                    index += 1
                else:
                    end = self._fieldEnd(line, index)
                    size += end - index
                    if size > limit:
                        raise self._error(f"entry longer than {limit} characters", start)
                    tokens.append(line[index:end])
                    index = end
            if not grouped and tokens:
                yield _Entry(start, blankOwner, tuple(tokens))
        if grouped:
            raise self._error("'(' never closed", openedAt)

    def _fieldEnd(self, line: str, index: int) -> int:
        """
        @return: where the field starting at C{line[index]} ends.
        """
        length = len(line)
        if line[index] == '"':
            index += 1
            while index < length and line[index] != '"':
                index += 2 if line[index] == "\\" else 1
            if index >= length:
                raise self._error("a quoted string must end on the line where it starts")
            index += 1
            if index < length and line[index] not in _DELIMITERS:
                raise self._error("a space must follow a quoted string")
            return index
        while index < length and line[index] not in _DELIMITERS:
            index += 2 if line[index] == "\\" else 1
        if index > length:
            raise self._error("a backslash at the end of a line")
        if index < length and line[index] == '"':
            raise self._error('a quote inside a field: write it as \\"')
        return index


def _splitLines(text: str) -> Iterator[str]:
    """
    The lines of C{text}: ended by LF or CR LF.  Not C{str.splitlines},
    which would also break lines at form feeds and Unicode separators.
    """
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    for line in lines:
        yield line[:-1] if line.endswith("\r") else line


def _readLines(path: str, maxLineLength: int) -> Iterator[str]:
    """
    The lines of a file, read one at a time, never more than
    C{maxLineLength} octets at once.  Files are UTF-8 with the octets that
    are not kept as they are (C{surrogateescape}): names and strings get
    the octets the file has.

    @raise ZoneFileError: for a line longer than C{maxLineLength} octets.
    @raise OSError: if the file cannot be read.
    """
    with open(path, "rb") as stream:
        lineNumber = 0
        while True:
            line = stream.readline(maxLineLength + 2)
            if not line:
                return
            lineNumber += 1
            if line.endswith(b"\n"):
                line = line[:-1]
                if line.endswith(b"\r"):
                    line = line[:-1]
            if len(line) > maxLineLength:
                raise ZoneFileError(f"line longer than {maxLineLength} octets", path, lineNumber)
            yield line.decode("utf-8", "surrogateescape")


def _bareName(token: str, origin: Name | None) -> Name:
    """
    An owner or directive name (RFC 1035 section 5.1): bare, C{@} or relative
    to C{origin}.
    """
    if token.startswith('"'):
        raise TextError(f"a name is not quoted: {token}")
    return Name.fromText(token, origin)


def _isClass(token: str) -> bool:
    try:
        classFromText(token)
    except TextError:
        return False
    return True


@dataclass(slots=True)
class _Located:
    """
    A record and where it was written.
    """

    record: ResourceRecord
    fileName: str
    lineNumber: int

    def where(self) -> str:
        return f"{self.fileName}:{self.lineNumber}"

    def error(self, reason: str) -> ZoneFileError:
        return ZoneFileError(reason, self.fileName, self.lineNumber)


class _Parser:
    """
    Reads the entries of a master file and its included files into records.
    The state that carries from one record to the next lives here; the
    origin lives in each call of L{parseLines}, since it does not leave an
    included file (RFC 1035 section 5.1).
    """

    def __init__(
        self,
        allowInclude: bool,
        maxRecords: int,
        maxIncludeDepth: int,
        maxLineLength: int,
    ) -> None:
        self.allowInclude = allowInclude
        self.maxRecords = maxRecords
        self.maxIncludeDepth = maxIncludeDepth
        self.maxLineLength = maxLineLength
        self.located: list[_Located] = []
        self.defaultTtl: int | None = None
        self.lastTtl: int | None = None
        self.lastClass: int | None = None
        self.lastOwner: Name | None = None
        self.zoneClass: int | None = None
        self.including: list[str] = []

    def parseLines(
        self, lines: Iterable[str], fileName: str, origin: Name | None, depth: int
    ) -> int:
        """
        Read the entries of one file.

        @param depth: how many C{$INCLUDE}s deep the file is.
        @return: the number of lines of the file.
        """
        self.including.append(os.path.realpath(fileName))
        tokenizer = _Tokenizer(lines, fileName, self.maxLineLength)
        for entry in tokenizer:
            try:
                if not entry.blankOwner and entry.tokens[0].startswith("$"):
                    origin = self._directive(entry, fileName, origin, depth)
                else:
                    self._record(entry, fileName, origin)
            except ZoneFileError:
                raise
            except TextError as e:
                raise ZoneFileError(str(e), fileName, entry.lineNumber) from None
        self.including.pop()
        return tokenizer.lineNumber

    def _directive(
        self, entry: _Entry, fileName: str, origin: Name | None, depth: int
    ) -> Name | None:
        """
        Carry out a directive (RFC 1035 section 5.1, RFC 2308 section 4).

        @return: the origin from now on.
        """
        keyword, *arguments = entry.tokens
        directive = keyword.upper()
        if directive == "$ORIGIN":
            if len(arguments) != 1:
                raise TextError("$ORIGIN takes one name")
            return _bareName(arguments[0], origin)
        if directive == "$TTL":
            if len(arguments) != 1:
                raise TextError("$TTL takes one TTL")
            self.defaultTtl = ttlFromText(arguments[0])
            return origin
        if directive == "$INCLUDE":
            if not 1 <= len(arguments) <= 2:
                raise TextError("$INCLUDE takes a file name and an optional origin")
            included = origin
            if len(arguments) == 2:
                included = _bareName(arguments[1], origin)
            self._include(arguments[0], fileName, entry.lineNumber, included, depth)
            return origin
        raise TextError(f"unknown directive {keyword}")

    def _include(
        self, token: str, fileName: str, lineNumber: int, origin: Name | None, depth: int
    ) -> None:
        """
        Read an included file (RFC 1035 section 5.1).
        """
        if not self.allowInclude:
            raise TextError("$INCLUDE is not allowed here")
        if depth >= self.maxIncludeDepth:
            raise TextError(f"$INCLUDE nested more than {self.maxIncludeDepth} deep")
        if token.startswith('"'):
            if len(token) < 2 or not token.endswith('"'):
                raise TextError(f"unterminated file name {token}")
            token = token[1:-1]
        path = os.fsdecode(unescape(token))
        path = os.path.join(os.path.dirname(fileName), path)
        if os.path.realpath(path) in self.including:
            raise TextError(f"$INCLUDE loop: {path} is already being read")
        try:
            self.parseLines(_readLines(path, self.maxLineLength), path, origin, depth + 1)
        except OSError as e:
            raise ZoneFileError(
                f"cannot read {path}: {e.strerror or e}", fileName, lineNumber
            ) from None

    def _record(self, entry: _Entry, fileName: str, origin: Name | None) -> None:
        """
        Read a record: C{[owner] [ttl] [class] type rdata}, TTL and class in
        either order (RFC 1035 section 5.1).
        """
        tokens = entry.tokens
        if entry.blankOwner:
            if self.lastOwner is None:
                raise TextError("the first record needs an owner")
            owner = self.lastOwner
            index = 0
        else:
            owner = _bareName(tokens[0], origin)
            index = 1
        ttl: int | None = None
        rclass: int | None = None
        while index < len(tokens):
            token = tokens[index]
            if ttl is None and token[:1].isdigit():
                ttl = ttlFromText(token)
            elif rclass is None and _isClass(token):
                rclass = classFromText(token)
            else:
                break
            index += 1
        if index == len(tokens):
            raise TextError("a record needs a type")
        rtype = typeFromText(tokens[index])
        rdata = self._parseRdata(rtype, tokens[index + 1 :], origin)

        if rclass is None:
            rclass = RRClass.IN if self.lastClass is None else self.lastClass
        if self.zoneClass is None:
            self.zoneClass = rclass
        elif rclass != self.zoneClass:
            raise TextError(
                f"class {classToText(rclass)} in a zone of class {classToText(self.zoneClass)}"
            )
        if ttl is None:
            if self.defaultTtl is not None:
                ttl = self.defaultTtl
            elif self.lastTtl is not None:
                ttl = self.lastTtl
            elif isinstance(rdata, SOA):
                ttl = min(rdata.minimum, MAX_TTL)
            else:
                raise TextError(
                    "no TTL, no $TTL before it and no record before it to take one from"
                )

        if len(self.located) >= self.maxRecords:
            raise TextError(f"more than {self.maxRecords} records")
        record = ResourceRecord(owner, rtype, rclass, ttl, rdata)
        self.located.append(_Located(record, fileName, entry.lineNumber))
        self.lastOwner = owner
        self.lastTtl = ttl
        self.lastClass = rclass

    def _parseRdata(self, rtype: int, tokens: tuple[str, ...], origin: Name | None) -> Rdata:
        """
        Parse record data relative to C{origin}.

        Without an origin (L{loadZoneFile} was given none and no C{$ORIGIN}
        came yet), relative names are errors.  L{parseRdata} always needs
        an origin, so the data is read twice, relative to the root and to a
        name no zone has: a relative name would make the two differ.
        """
        if origin is not None:
            return parseRdata(rtype, tokens, origin)
        rdata = parseRdata(rtype, tokens, ROOT)
        try:
            probed = parseRdata(rtype, tokens, _PROBE)
        except TextError:
            probed = None
        if probed != rdata:
            raise TextError("a relative name and no origin: use $ORIGIN first")
        return rdata


def _check(located: list[_Located], origin: Name | None, fileName: str, lines: int) -> ZoneData:
    """
    Check the zone as a whole and make its L{ZoneData}: see the module
    docstring for the rules.

    @param origin: the zone's origin, or L{None} to take the SOA's owner.
    @param fileName: the main file, and C{lines} its length, for the errors
        that belong to no line.
    """
    soas = [each for each in located if each.record.rtype == RRType.SOA]
    if not soas:
        raise ZoneFileError("no SOA record", fileName, lines)
    apex = soas[0].record.name if origin is None else origin
    soa = soas[0]
    if soa.record.name != apex:
        raise soa.error(f"the SOA record must be at the zone's origin, {apex.toText()}")
    if len(soas) > 1:
        raise soas[1].error(f"a second SOA record (the first is at {soa.where()})")

    kept: list[_Located] = []
    seen: set[tuple[Name, int, Rdata]] = set()
    types: dict[Name, dict[int, _Located]] = {}
    rrsetTtls: dict[tuple[Name, int], int] = {}
    warnings: list[str] = []
    for each in located:
        record = each.record
        name = record.name
        if not name.isSubdomainOf(apex):
            raise each.error(f"{name.toText()} is outside the zone {apex.toText()}")
        key = (name, record.rtype, record.rdata)
        if record.rtype != RRType.RRSIG:
            rrset = (name, record.rtype)
            first = rrsetTtls.setdefault(rrset, record.ttl)
            if record.ttl != first:
                warnings.append(
                    f"{each.where()}: TTL {record.ttl} of {name.toText()} "
                    f"{typeToText(record.rtype)} differs from {first} before it: the RRset "
                    f"gets the lowest (RFC 2181 section 5.2)"
                )
                rrsetTtls[rrset] = min(first, record.ttl)
        if key in seen:
            continue
        seen.add(key)
        atName = types.setdefault(name, {})
        cname = atName.get(RRType.CNAME)
        if record.rtype == RRType.CNAME and cname is not None:
            raise each.error(
                f"a second CNAME at {name.toText()} (the first is at {cname.where()})"
            )
        if cname is not None and record.rtype not in _BESIDE_CNAME:
            raise each.error(
                f"{typeToText(record.rtype)} and CNAME at {name.toText()} "
                f"(RFC 1034 section 3.6.2; the CNAME is at {cname.where()})"
            )
        if record.rtype == RRType.CNAME:
            other = next(
                (where for rtype, where in atName.items() if rtype not in _BESIDE_CNAME), None
            )
            if other is not None:
                raise each.error(
                    f"CNAME and {typeToText(other.record.rtype)} at {name.toText()} "
                    f"(RFC 1034 section 3.6.2; the {typeToText(other.record.rtype)} is at "
                    f"{other.where()})"
                )
        atName.setdefault(record.rtype, each)
        kept.append(each)

    if RRType.NS not in types[apex]:
        raise soa.error(f"no NS record at the zone's origin, {apex.toText()}")

    records = []
    for each in kept:
        record = each.record
        ttl = rrsetTtls.get((record.name, record.rtype), record.ttl)
        records.append(record if ttl == record.ttl else replace(record, ttl=ttl))
    return ZoneData(apex, tuple(records), tuple(warnings))


def _originName(origin: Name | str | None) -> Name | None:
    """
    A zone origin given as text is absolute, with or without its final dot.
    """
    if origin is None or isinstance(origin, Name):
        return origin
    return Name.fromText(origin, ROOT)


def parseZone(
    text: str,
    origin: Name | str | None,
    fileName: str = "<string>",
    *,
    allowInclude: bool = True,
    maxRecords: int = MAX_RECORDS,
    maxIncludeDepth: int = MAX_INCLUDE_DEPTH,
    maxLineLength: int = MAX_LINE_LENGTH,
) -> ZoneData:
    """
    Read a zone from the text of a master file (RFC 1035 section 5).

    @param text: the text of the file.
    @param origin: the zone's name: the origin relative names start from,
        and the name every record must be at or below.  L{None} takes the
        zone's name from the owner of its SOA record; names before the first
        C{$ORIGIN} must then be absolute.  Text is taken as an absolute
        name, final dot or not.
    @param fileName: the name errors give the text; C{$INCLUDE} paths are
        relative to its directory (to the current directory for the
        default).
    @param allowInclude: whether C{$INCLUDE} may read files.  Pass C{False}
        for text from anyone who should not read our files.
    @param maxRecords: the most records the zone may have.
    @param maxIncludeDepth: how deep C{$INCLUDE} may nest.
    @param maxLineLength: the longest line, and entry, in characters.
    @raise ZoneFileError: for any error in the text, in an included file or
        in the zone as a whole.
    """
    start = _originName(origin)
    parser = _Parser(allowInclude, maxRecords, maxIncludeDepth, maxLineLength)
    lines = parser.parseLines(_splitLines(text), fileName, start, 0)
    return _check(parser.located, start, fileName, lines)


def loadZoneFile(
    path: str | os.PathLike[str],
    origin: Name | str | None = None,
    *,
    allowInclude: bool = True,
    maxRecords: int = MAX_RECORDS,
    maxIncludeDepth: int = MAX_INCLUDE_DEPTH,
    maxLineLength: int = MAX_LINE_LENGTH,
) -> ZoneData:
    """
    Read a zone from a master file (RFC 1035 section 5).

    The file is read a line at a time, as UTF-8; octets that are not UTF-8
    are kept as they are in names and strings.

    @param path: the file.
    @param origin: as for L{parseZone}; by default, the owner of the
        zone's SOA record, which suits files that start with C{$ORIGIN} or
        write the SOA's owner in full.
    @param allowInclude: as for L{parseZone}.
    @param maxRecords: as for L{parseZone}.
    @param maxIncludeDepth: as for L{parseZone}.
    @param maxLineLength: the longest line in octets, and entry in
        characters.
    @raise ZoneFileError: for any error in the file, in an included file or
        in the zone as a whole, and if the file cannot be read (line 0).
    """
    fileName = os.fspath(path)
    start = _originName(origin)
    parser = _Parser(allowInclude, maxRecords, maxIncludeDepth, maxLineLength)
    try:
        lines = parser.parseLines(_readLines(fileName, maxLineLength), fileName, start, 0)
    except OSError as e:
        raise ZoneFileError(f"cannot read the file: {e.strerror or e}", fileName, 0) from None
    return _check(parser.located, start, fileName, lines)
