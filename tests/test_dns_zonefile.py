"""
Tests for L{netref.dns.zonefile}: master files (RFC 1035 section 5), checked
against NSD's C{nsd-checkzone} and dnspython as independent oracles.
"""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.python.filepath import FilePath
from twisted.trial.unittest import SynchronousTestCase

from netref.dns.name import Name, TextError
from netref.dns.rdata import (
    SOA,
    TXT,
    RRClass,
    RRType,
    UnknownRdata,
    classFromText,
    parseRdata,
    tokenize,
    typeFromText,
    typeToText,
)
from netref.dns.wire import ResourceRecord
from netref.dns.zonefile import (
    MAX_INCLUDE_DEPTH,
    ZoneData,
    ZoneFileError,
    _Tokenizer,
    loadZoneFile,
    parseZone,
)
from tests.dns_strategies import KNOWN_TYPES, labels, names, rdataOf, ttls, unknownTypes

DATA = FilePath(__file__).sibling("dns_zonefile_data")
SERVER_DATA = FilePath(__file__).sibling("dns_server_data")
LAB_ZONES = FilePath(__file__).parent().parent().descendant(["netref", "lab", "zones"])

NSD_CHECKZONE = shutil.which("nsd-checkzone")
NO_NSD = None if NSD_CHECKZONE else "nsd-checkzone (Debian nsd) is not installed"

EXAMPLE = Name.fromText("example.")

# The smallest valid zone: the lines every test zone starts with.
HEADER = """\
$ORIGIN example.
$TTL 1h
@   IN  SOA ns hostmaster 1 2 3 4 5
    IN  NS  ns
"""


def rr(text: str) -> ResourceRecord:
    """
    A record from C{"name ttl class type rdata"}, made without the module
    under test: the expected values of the tests.
    """
    name, ttl, rclass, rtype, *rest = tokenize(text)
    number = typeFromText(rtype)
    return ResourceRecord(
        Name.fromText(name),
        number,
        classFromText(rclass),
        int(ttl),
        parseRdata(number, rest),
    )


def below(zone: ZoneData) -> list[ResourceRecord]:
    """
    The records of a zone made from L{HEADER} and more, without the
    header's SOA and NS.
    """
    return [
        record
        for record in zone.records
        if not (record.name == zone.origin and record.rtype in (RRType.SOA, RRType.NS))
    ]


def parseBody(body: str, **kwargs: Any) -> list[ResourceRecord]:
    """
    Parse L{HEADER} followed by C{body}, and return the records of the body.
    """
    return below(parseZone(HEADER + body, EXAMPLE, **kwargs))


class ZoneTestCase(SynchronousTestCase):
    """
    A test case with an assertion for the errors of the module.
    """

    def assertZoneError(
        self,
        text: str,
        lineNumber: int,
        fragment: str,
        fileName: str = "<string>",
        origin: Name | str | None = EXAMPLE,
        **kwargs: Any,
    ) -> ZoneFileError:
        """
        Parsing C{text} fails at C{fileName:lineNumber} with a message that
        contains C{fragment}.
        """
        try:
            parseZone(text, origin, fileName, **kwargs)
        except ZoneFileError as e:
            error = e
        else:
            raise self.failureException(f"no error for {text!r}")
        self.assertEqual((error.fileName, error.lineNumber), (fileName, lineNumber), str(error))
        self.assertIn(fragment, str(error))
        self.assertTrue(str(error).startswith(f"{fileName}:{lineNumber}: "))
        return error


def entries(text: str) -> list[tuple[int, bool, tuple[str, ...]]]:
    """
    The entries of C{text} as the tokenizer splits them.
    """
    tokenizer = _Tokenizer(text.split("\n"), "<string>", 1000)
    return [(entry.lineNumber, entry.blankOwner, entry.tokens) for entry in tokenizer]


class TokenizerTests(ZoneTestCase):
    """
    Fields, comments, parentheses, quotes and escapes (RFC 1035 section
    5.1), with fields kept as written for L{netref.dns.rdata}.
    """

    def test_fieldsAndComments(self) -> None:
        self.assertEqual(
            entries('www  IN\tA 192.0.2.1 ; a comment ( with " odd ; things\n; only a comment\n'),
            [(1, False, ("www", "IN", "A", "192.0.2.1"))],
        )

    def test_blankOwner(self) -> None:
        """
        A line that starts with a space or a tab has no owner field.
        """
        self.assertEqual(
            entries("a A 1.2.3.4\n A 1.2.3.5\n\tA 1.2.3.6\n   ; comment only\n"),
            [
                (1, False, ("a", "A", "1.2.3.4")),
                (2, True, ("A", "1.2.3.5")),
                (3, True, ("A", "1.2.3.6")),
            ],
        )

    def test_parentheses(self) -> None:
        """
        Line ends inside parentheses are ignored; the entry has the line
        number where it starts.
        """
        text = "x\n@ SOA ns hm (1 ; serial\n\n  2 3\n  4 5 )\ny A 1.2.3.4"
        self.assertEqual(
            entries(text),
            [
                (1, False, ("x",)),
                (2, False, ("@", "SOA", "ns", "hm", "1", "2", "3", "4", "5")),
                (6, False, ("y", "A", "1.2.3.4")),
            ],
        )

    def test_parenthesesAreDelimiters(self) -> None:
        self.assertEqual(entries("a TXT(b)c"), [(1, False, ("a", "TXT", "b", "c"))])

    def test_quotedStringsKeepQuotesAndEscapes(self) -> None:
        """
        A quoted string is one field, spaces, C{;} and C{(} included, quotes
        and escapes kept (the token convention of L{netref.dns.rdata}).
        """
        self.assertEqual(
            entries('t TXT "a b; (c" "say \\"hi\\"" "" "\\065"'),
            [(1, False, ("t", "TXT", '"a b; (c"', '"say \\"hi\\""', '""', '"\\065"'))],
        )

    def test_escapesInBareFields(self) -> None:
        """
        A backslash escapes the next character, which then delimits nothing.
        """
        self.assertEqual(
            entries('a\\ b\\;c\\(d TXT x\\"y\n'),
            [(1, False, ("a\\ b\\;c\\(d", "TXT", 'x\\"y'))],
        )

    def test_crlf(self) -> None:
        records = parseBody("a A 192.0.2.1\r\nb A 192.0.2.2\r\n")
        self.assertEqual(
            records, [rr("a.example. 3600 IN A 192.0.2.1"), rr("b.example. 3600 IN A 192.0.2.2")]
        )

    def test_formFeedIsNotALineEnd(self) -> None:
        """
        Only LF ends a line: C{str.splitlines} would also split at a form
        feed or U+2028, and move every later line number.
        """
        self.assertZoneError(HEADER + "a TXT x\x0cy\u2028z\nb BAD 1", 6, "unknown type 'BAD'")

    def test_unterminatedQuote(self) -> None:
        self.assertZoneError(HEADER + 't TXT "abc\n"', 5, "a quoted string must end")

    def test_nestedParentheses(self) -> None:
        self.assertZoneError(HEADER + "a TXT ( b ( c ) )", 5, "nested parentheses")

    def test_closeWithoutOpen(self) -> None:
        self.assertZoneError(HEADER + "a TXT b )", 5, "')' without '('")

    def test_neverClosed(self) -> None:
        self.assertZoneError(HEADER + "\na TXT ( b\n c\n\n", 6, "'(' never closed")

    def test_backslashAtEndOfLine(self) -> None:
        self.assertZoneError(HEADER + "a TXT b\\\n", 5, "backslash at the end")

    def test_quoteInsideField(self) -> None:
        self.assertZoneError(HEADER + 'a TXT b"c"', 5, "a quote inside a field")

    def test_textAfterQuote(self) -> None:
        self.assertZoneError(HEADER + 'a TXT "b"c', 5, "a space must follow a quoted string")

    def test_loneSurrogate(self) -> None:
        """
        A C{str} that no file could hold is refused, not passed on to
        C{encode}.
        """
        self.assertZoneError(HEADER + "a TXT \ud800", 5, "lone surrogate")


class DirectiveTests(ZoneTestCase):
    """
    C{$ORIGIN}, C{$TTL} (RFC 1035 section 5.1, RFC 2308 section 4).
    """

    def test_origin(self) -> None:
        records = parseBody(
            "$ORIGIN sub.example.\nwww A 192.0.2.1\n@ MX 10 mail\n$ORIGIN deeper\nx A 192.0.2.2\n"
        )
        self.assertEqual(
            records,
            [
                rr("www.sub.example. 3600 IN A 192.0.2.1"),
                rr("sub.example. 3600 IN MX 10 mail.sub.example."),
                rr("x.deeper.sub.example. 3600 IN A 192.0.2.2"),
            ],
        )

    def test_directivesIgnoreCase(self) -> None:
        records = parseBody("$origin sub.example.\n$ttl 2m\nwww A 192.0.2.1\n")
        self.assertEqual(records, [rr("www.sub.example. 120 IN A 192.0.2.1")])

    def test_ttl(self) -> None:
        records = parseBody("a A 192.0.2.1\n$TTL 1d\nb A 192.0.2.2\nc 5 A 192.0.2.3\nd A 1.2.3.4")
        self.assertEqual(
            [record.ttl for record in records],
            [3600, 86400, 5, 86400],
        )

    def test_originTakesOneName(self) -> None:
        self.assertZoneError(HEADER + "$ORIGIN a. b.\n", 5, "$ORIGIN takes one name")

    def test_ttlTakesOneTTL(self) -> None:
        self.assertZoneError(HEADER + "$TTL\n", 5, "$TTL takes one TTL")

    def test_badTTL(self) -> None:
        self.assertZoneError("$TTL 1x\n" + HEADER, 1, "'1x' is not a time")

    def test_unknownDirective(self) -> None:
        self.assertZoneError(
            HEADER + "$GENERATE 1-10 host$ A 192.0.2.$\n", 5, "unknown directive $GENERATE"
        )


class IncludeTests(ZoneTestCase):
    """
    C{$INCLUDE file [origin]} (RFC 1035 section 5.1).
    """

    def setUp(self) -> None:
        self.directory = FilePath(self.mktemp())
        self.directory.makedirs()

    def write(self, name: str, text: str) -> str:
        path = self.directory.preauthChild(name)
        path.parent().makedirs(ignoreExistingDirectory=True)
        path.setContent(text.encode())
        return path.path

    def test_include(self) -> None:
        """
        The included file's records join the zone, with the origin given on
        the C{$INCLUDE} line; the including file's origin comes back after
        it.  The path is relative to the including file's directory.
        """
        self.write("sub/hosts.inc", "pc1 A 192.0.2.1\n$ORIGIN elsewhere.example.\npc2 A 1.2.3.4\n")
        main = self.write(
            "main.zone", HEADER + "$INCLUDE sub/hosts.inc lab.example.\nafter A 192.0.2.9\n"
        )
        self.assertEqual(
            below(loadZoneFile(main)),
            [
                rr("pc1.lab.example. 3600 IN A 192.0.2.1"),
                rr("pc2.elsewhere.example. 3600 IN A 1.2.3.4"),
                rr("after.example. 3600 IN A 192.0.2.9"),
            ],
        )

    def test_includeWithoutOrigin(self) -> None:
        """
        Without an origin, the included file starts with the current one.
        A relative origin is relative to the current origin.
        """
        self.write("a.inc", "a A 192.0.2.1\n")
        main = self.write("main.zone", HEADER + "$ORIGIN sub\n$INCLUDE a.inc\n$INCLUDE a.inc x\n")
        self.assertEqual(
            below(loadZoneFile(main)),
            [
                rr("a.sub.example. 3600 IN A 192.0.2.1"),
                rr("a.x.sub.example. 3600 IN A 192.0.2.1"),
            ],
        )

    def test_quotedFileName(self) -> None:
        self.write("with space.inc", "a A 192.0.2.1\n")
        main = self.write("main.zone", HEADER + '$INCLUDE "with space.inc"\n')
        self.assertEqual(below(loadZoneFile(main)), [rr("a.example. 3600 IN A 192.0.2.1")])

    def test_ownerTTLAndClassCarryOver(self) -> None:
        """
        Everything but the origin carries across the C{$INCLUDE} both ways,
        as if the text were inline (as NSD does): the previous owner, C{$TTL}.
        """
        self.write("a.inc", " A 192.0.2.1\n$TTL 60\nb A 192.0.2.2\n")
        main = self.write("main.zone", HEADER + "a A 192.0.2.9\n$INCLUDE a.inc\n AAAA ::1\n")
        self.assertEqual(
            below(loadZoneFile(main)),
            [
                rr("a.example. 3600 IN A 192.0.2.9"),
                rr("a.example. 3600 IN A 192.0.2.1"),
                rr("b.example. 60 IN A 192.0.2.2"),
                rr("b.example. 60 IN AAAA ::1"),
            ],
        )

    def test_errorInIncludedFile(self) -> None:
        """
        An error in an included file names that file and its line.
        """
        path = self.write("a.inc", "; hosts\n\nbad A 300.1.2.3\n")
        main = self.write("main.zone", HEADER + "$INCLUDE a.inc\n")
        error = self.assertRaises(ZoneFileError, loadZoneFile, main)
        self.assertEqual((error.fileName, error.lineNumber), (path, 3))
        self.assertTrue(str(error).startswith(f"{path}:3: "), str(error))

    def test_missingFile(self) -> None:
        main = self.write("main.zone", HEADER + "\n$INCLUDE nothing.inc\n")
        error = self.assertRaises(ZoneFileError, loadZoneFile, main)
        self.assertEqual((error.fileName, error.lineNumber), (main, 6))
        self.assertIn("cannot read", str(error))
        self.assertIn("nothing.inc", str(error))

    def test_loop(self) -> None:
        """
        A file that includes itself, directly or not, is an error, not a
        recursion.
        """
        self.write("a.inc", "a A 192.0.2.1\n$INCLUDE b.inc\n")
        b = self.write("b.inc", "b A 192.0.2.2\n$INCLUDE ./a.inc\n")
        main = self.write("main.zone", HEADER + "$INCLUDE a.inc\n")
        error = self.assertRaises(ZoneFileError, loadZoneFile, main)
        self.assertEqual((error.fileName, error.lineNumber), (b, 2))
        self.assertIn("$INCLUDE loop", str(error))

    def test_selfInclude(self) -> None:
        main = self.write("main.zone", HEADER + "$INCLUDE main.zone\n")
        error = self.assertRaises(ZoneFileError, loadZoneFile, main)
        self.assertEqual(error.lineNumber, 5)
        self.assertIn("$INCLUDE loop", str(error))

    def test_sameFileTwiceIsNoLoop(self) -> None:
        self.write("a.inc", "$ORIGIN x.example.\na A 192.0.2.1\n")
        main = self.write("main.zone", HEADER + "$INCLUDE a.inc\n$INCLUDE a.inc y\n")
        self.assertEqual(len(below(loadZoneFile(main))), 1)

    def test_depth(self) -> None:
        """
        Includes nest at most C{maxIncludeDepth} deep.
        """
        for level in range(MAX_INCLUDE_DEPTH + 1):
            self.write(f"{level}.inc", f"l{level} A 192.0.2.1\n$INCLUDE {level + 1}.inc\n")
        self.write(f"{MAX_INCLUDE_DEPTH + 1}.inc", "last A 192.0.2.1\n")
        main = self.write("main.zone", HEADER + "$INCLUDE 1.inc\n")
        error = self.assertRaises(ZoneFileError, loadZoneFile, main)
        self.assertIn(f"nested more than {MAX_INCLUDE_DEPTH} deep", str(error))
        self.assertEqual(error.fileName, self.directory.child(f"{MAX_INCLUDE_DEPTH}.inc").path)
        self.assertEqual(len(below(loadZoneFile(main, maxIncludeDepth=MAX_INCLUDE_DEPTH + 1))), 17)

    def test_forbidden(self) -> None:
        """
        C{allowInclude=False} refuses C{$INCLUDE} without touching the file
        system.
        """
        self.write("a.inc", "a A 192.0.2.1\n")
        main = self.write("main.zone", HEADER + "$INCLUDE a.inc\n")
        error = self.assertRaises(ZoneFileError, loadZoneFile, main, allowInclude=False)
        self.assertEqual(error.lineNumber, 5)
        self.assertIn("$INCLUDE is not allowed", str(error))
        self.assertZoneError(
            HEADER + "$INCLUDE /etc/passwd\n", 5, "not allowed", allowInclude=False
        )

    def test_includeTakesAFile(self) -> None:
        self.assertZoneError(HEADER + "$INCLUDE\n", 5, "$INCLUDE takes a file name")

    def test_parseZoneIncludesRelativeToFileName(self) -> None:
        self.write("a.inc", "a A 192.0.2.1\n")
        zone = parseZone(HEADER + "$INCLUDE a.inc\n", EXAMPLE, self.directory.child("zone").path)
        self.assertEqual(below(zone), [rr("a.example. 3600 IN A 192.0.2.1")])


class RecordTests(ZoneTestCase):
    """
    C{[owner] [ttl] [class] type rdata} (RFC 1035 section 5.1).
    """

    def test_originAndRelativeNames(self) -> None:
        records = parseBody("@ MX 10 mail\nmail A 192.0.2.25\nx.y CNAME www.example.org.\n")
        self.assertEqual(
            records,
            [
                rr("example. 3600 IN MX 10 mail.example."),
                rr("mail.example. 3600 IN A 192.0.2.25"),
                rr("x.y.example. 3600 IN CNAME www.example.org."),
            ],
        )

    def test_blankOwner(self) -> None:
        """
        A record without an owner has the previous record's, across
        comments, blank lines and directives.
        """
        records = parseBody("www A 192.0.2.1\n; comment\n\n AAAA ::1\n$ORIGIN b.\n\tTXT x\n")
        self.assertEqual(
            records,
            [
                rr("www.example. 3600 IN A 192.0.2.1"),
                rr("www.example. 3600 IN AAAA ::1"),
                rr('www.example. 3600 IN TXT "x"'),
            ],
        )

    def test_firstRecordNeedsOwner(self) -> None:
        self.assertZoneError("$ORIGIN example.\n$TTL 1\n  SOA a b 1 2 3 4 5", 3, "needs an owner")

    def test_ttlAndClassInEitherOrder(self) -> None:
        records = parseBody(
            "a 300 IN A 192.0.2.1\nb IN 300 A 192.0.2.1\nc IN A 192.0.2.1\n"
            "d 300 A 192.0.2.1\ne A 192.0.2.1\n"
        )
        self.assertEqual([record.ttl for record in records], [300, 300, 3600, 300, 3600])
        self.assertEqual({record.rclass for record in records}, {RRClass.IN})

    def test_ttlUnits(self) -> None:
        records = parseBody(
            "a 45s A 192.0.2.1\nb 30m A 192.0.2.1\nc 1H A 192.0.2.1\nd 2d A 192.0.2.1\n"
            "e 1w A 192.0.2.1\nf 1h30m A 192.0.2.1\ng 1W2D3H4M5S A 192.0.2.1\n"
            "h 2147483647 A 192.0.2.1\n"
        )
        self.assertEqual(
            [record.ttl for record in records],
            [45, 1800, 3600, 172800, 604800, 5400, 788645, 2**31 - 1],
        )

    def test_ttlTooLarge(self) -> None:
        """
        TTLs are at most 2**31 - 1 (RFC 2181 section 8).
        """
        self.assertZoneError(HEADER + "a 2147483648 A 192.0.2.1", 5, "above 2147483647")
        self.assertZoneError(HEADER + "a 3551w A 192.0.2.1", 5, "above 2147483647")

    def test_ttlFromPreviousRecord(self) -> None:
        """
        Without C{$TTL}, a record without a TTL has the previous record's
        (RFC 1035 section 5.1), and the SOA without one its MINIMUM.
        """
        zone = parseZone(
            "$ORIGIN example.\n@ SOA ns hm 1 2 3 4 1h\n NS ns\nns 60 A 192.0.2.1\nx A 192.0.2.2\n",
            EXAMPLE,
        )
        self.assertEqual([record.ttl for record in zone.records], [3600, 3600, 60, 60])

    def test_noTTL(self) -> None:
        self.assertZoneError("$ORIGIN example.\nns A 192.0.2.1\n", 2, "no TTL, no $TTL")

    def test_classDefaults(self) -> None:
        """
        The class is the previous record's, IN at first; any class is
        accepted, but only one per zone.
        """
        zone = parseZone(
            "$TTL 0\nversion.bind. CH SOA a. b. 1 2 3 4 5\n NS a.\n TXT netref\n", None
        )
        self.assertEqual({record.rclass for record in zone.records}, {RRClass.CH})
        self.assertEqual(zone.rclass, RRClass.CH)
        self.assertZoneError(HEADER + "a CH TXT x", 5, "class CH in a zone of class IN")
        self.assertZoneError(HEADER + "a CLASS3 TXT x", 5, "class CH in a zone of class IN")
        self.assertEqual(parseBody("a CLASS1 TXT x")[0].rclass, RRClass.IN)

    def test_genericData(self) -> None:
        """
        The generic forms of RFC 3597 section 5: C{TYPE65280}, C{\\#} data
        for a known type and an unknown one.
        """
        records = parseBody(
            "a TYPE65280 \\# 4 0A000001\nb A \\# 4 C0000201\nc TYPE1 192.0.2.2\n"
            "d TYPE65281 \\# 0\ne TXT \\# ( 6 05 68656C6C6F )\n"
        )
        self.assertEqual(
            records,
            [
                ResourceRecord(
                    Name.fromText("a.example."), 65280, 1, 3600, UnknownRdata(65280, b"\n\0\0\1")
                ),
                rr("b.example. 3600 IN A 192.0.2.1"),
                rr("c.example. 3600 IN A 192.0.2.2"),
                ResourceRecord(
                    Name.fromText("d.example."), 65281, 1, 3600, UnknownRdata(65281, b"")
                ),
                rr('e.example. 3600 IN TXT "hello"'),
            ],
        )

    def test_txt(self) -> None:
        """
        TXT strings: quoted with spaces, semicolons and parentheses, with
        C{\\"} and C{\\DDD}; bare words; empty strings.
        """
        records = parseBody(
            't TXT "v=spf1 mx -all; (really)" bare "\\"q\\" \\065\\255" ""\n'
            'u TXT ( "one"\n  "two" ) ; comment\n'
        )
        self.assertEqual(
            [record.rdata for record in records],
            [
                TXT((b"v=spf1 mx -all; (really)", b"bare", b'"q" A\xff', b"")),
                TXT((b"one", b"two")),
            ],
        )

    def test_escapedOwner(self) -> None:
        records = parseBody("a\\.b\\032c A 192.0.2.1\n\\@ A 192.0.2.1\n")
        self.assertEqual(
            [record.name.labels for record in records],
            [(b"a.b c", b"example"), (b"@", b"example")],
        )

    def test_nonASCII(self) -> None:
        """
        Text outside ASCII stands for its UTF-8 octets.
        """
        records = parseBody('t TXT "grüße"\n')
        self.assertEqual(records[0].rdata, TXT(("grüße".encode(),)))

    def test_quotedOwner(self) -> None:
        self.assertZoneError(HEADER + '"a" A 192.0.2.1', 5, "a name is not quoted")

    def test_noType(self) -> None:
        self.assertZoneError(HEADER + "a 300 IN", 5, "a record needs a type")

    def test_rdataErrors(self) -> None:
        """
        Errors in record data come from L{netref.dns.rdata}, with the file
        and line added.
        """
        self.assertZoneError(HEADER + "\n\nmail MX 10\n", 7, "MX takes 2 fields")
        self.assertZoneError(HEADER + "a A 192.0.2.256", 5, "192.0.2.256")
        self.assertZoneError(HEADER + "a TYPE65280 1 2", 5, "needs the generic form")


class OriginTests(ZoneTestCase):
    """
    Where a zone's origin comes from.
    """

    def test_textOrigin(self) -> None:
        """
        An origin given as text is absolute, with or without its dot.
        """
        self.assertEqual(parseZone(HEADER, "example").origin, EXAMPLE)
        self.assertEqual(parseZone(HEADER, "Example.").origin, EXAMPLE)

    def test_originFromSOA(self) -> None:
        """
        Without an origin, the SOA's owner is the zone's origin.
        """
        zone = parseZone(
            "$TTL 1h\nexample.com. SOA ns.example.com. hm.example.com. 1 2 3 4 5\n"
            " NS ns.example.com.\n$ORIGIN example.com.\nns A 192.0.2.1\n",
            None,
        )
        self.assertEqual(zone.origin, Name.fromText("example.com."))
        self.assertEqual(len(zone.records), 3)

    def test_noOriginRelativeOwner(self) -> None:
        self.assertZoneError(
            "$TTL 1h\nwww A 192.0.2.1\n", 2, "relative and there is no origin", origin=None
        )
        self.assertZoneError("$TTL 1h\n@ A 192.0.2.1\n", 2, '"@" needs an origin', origin=None)

    def test_noOriginRelativeData(self) -> None:
        """
        A relative name in record data, without an origin, is an error too,
        not a name under the root.
        """
        self.assertZoneError(
            "$TTL 1h\nexample. SOA ns hm. 1 2 3 4 5\n",
            2,
            "relative name and no origin",
            origin=None,
        )
        self.assertZoneError(
            "$TTL 1h\nexample. SOA ns. hm. 1 2 3 4 5\nexample. MX 1 mx\n",
            3,
            "relative name and no origin",
            origin=None,
        )


class CheckTests(ZoneTestCase):
    """
    The checks on the zone as a whole.
    """

    def test_noSOA(self) -> None:
        """
        A zone has an SOA (RFC 1035 section 5.2); its absence belongs to the
        last line.
        """
        self.assertZoneError("$TTL 1h\n@ NS ns.example.\n; end\n", 3, "no SOA record")
        self.assertZoneError("", 0, "no SOA record")

    def test_twoSOAs(self) -> None:
        """
        Exactly one SOA (RFC 1035 section 5.2), even when the second repeats
        the first.
        """
        self.assertZoneError(HEADER + "@ SOA ns hm 2 2 3 4 5\n", 5, "a second SOA record")
        self.assertZoneError(HEADER + "@ SOA ns hostmaster 1 2 3 4 5\n", 5, "a second SOA")

    def test_soaNotAtOrigin(self) -> None:
        self.assertZoneError(
            "$ORIGIN example.\n$TTL 1h\nsub SOA ns hm 1 2 3 4 5\n", 3, "at the zone's origin"
        )

    def test_noNS(self) -> None:
        """
        A zone has NS records at its origin (RFC 1034 section 4.2.1), as
        BIND insists; NSD does not.
        """
        self.assertZoneError(
            "$ORIGIN example.\n$TTL 1h\n\n@ SOA ns hm 1 2 3 4 5\nsub NS ns\n",
            4,
            "no NS record at the zone's origin",
        )

    def test_outOfZone(self) -> None:
        """
        Data outside the zone is an error, as in NSD.
        """
        self.assertZoneError(HEADER + "a A 1.2.3.4\nwww.example.org. A 192.0.2.1\n", 6, "outside")
        self.assertZoneError(HEADER + "$ORIGIN org.\nexample A 192.0.2.1\n", 6, "outside")

    def test_cnameAndOtherData(self) -> None:
        """
        A name with a CNAME has no other data (RFC 1034 section 3.6.2, RFC
        2181 section 10.1), whichever comes first.
        """
        self.assertZoneError(
            HEADER + "www CNAME a\nwww A 192.0.2.1\n", 6, "A and CNAME at www.example."
        )
        error = self.assertZoneError(
            HEADER + "www TXT hello\n\nwww CNAME a\n", 7, "CNAME and TXT at www.example."
        )
        self.assertIn("the TXT is at <string>:5", str(error))
        self.assertZoneError(HEADER + "@ CNAME a\n", 5, "CNAME and SOA at example.")

    def test_twoCNAMEs(self) -> None:
        self.assertZoneError(HEADER + "www CNAME a\nwww CNAME b\n", 6, "a second CNAME")

    def test_cnameAndDNSSEC(self) -> None:
        """
        RRSIG and NSEC may share a name with a CNAME (RFC 4035 section 2.5).
        """
        records = parseBody("www CNAME a\nwww TYPE46 \\# 1 00\nwww TYPE47 \\# 1 00\n")
        self.assertEqual(len(records), 3)

    def test_duplicatesCollapsed(self) -> None:
        """
        Identical records are one (RFC 2181 section 5); names compare
        without regard to case.
        """
        records = parseBody("www A 192.0.2.1\nWWW A 192.0.2.1\nwww MX 10 mail\nwww MX 10 MAIL\n")
        self.assertEqual(
            records,
            [
                rr("www.example. 3600 IN A 192.0.2.1"),
                rr("www.example. 3600 IN MX 10 mail.example."),
            ],
        )

    def test_duplicateCNAME(self) -> None:
        records = parseBody("www CNAME a\nwww CNAME A\n")
        self.assertEqual(records, [rr("www.example. 3600 IN CNAME a.example.")])

    def test_differentTTLs(self) -> None:
        """
        The records of an RRset get the lowest TTL among them (RFC 2181
        section 5.2), with a warning for each that disagreed.
        """
        zone = parseZone(
            HEADER + "ns A 192.0.2.1\nns 300 A 192.0.2.2\nns 600 A 192.0.2.3\nns 60 TXT x\n",
            EXAMPLE,
        )
        self.assertEqual(
            below(zone),
            [
                rr("ns.example. 300 IN A 192.0.2.1"),
                rr("ns.example. 300 IN A 192.0.2.2"),
                rr("ns.example. 300 IN A 192.0.2.3"),
                rr('ns.example. 60 IN TXT "x"'),
            ],
        )
        self.assertEqual(len(zone.warnings), 2)
        self.assertTrue(zone.warnings[0].startswith("<string>:6: TTL 300 of ns.example. A"))
        self.assertIn("RFC 2181 section 5.2", zone.warnings[0])

    def test_duplicateWithLowerTTL(self) -> None:
        zone = parseZone(HEADER + "a A 192.0.2.1\na 5 A 192.0.2.1\n", EXAMPLE)
        self.assertEqual(below(zone), [rr("a.example. 5 IN A 192.0.2.1")])
        self.assertEqual(len(zone.warnings), 1)

    def test_zoneData(self) -> None:
        zone = parseZone(HEADER, EXAMPLE)
        self.assertEqual(
            zone.soa, rr("example. 3600 IN SOA ns.example. hostmaster.example. 1 2 3 4 5")
        )
        self.assertIsInstance(zone.soa.rdata, SOA)
        self.assertEqual(zone.warnings, ())
        self.assertEqual(parseZone(zone.toText(), EXAMPLE), zone)


class ErrorTests(ZoneTestCase):
    """
    Broken zones fail with the file name and the line of the faulty entry.
    """

    def test_errorIsTextError(self) -> None:
        error = self.assertZoneError(HEADER + "a BOGUS x", 5, "unknown type 'BOGUS'")
        self.assertIsInstance(error, TextError)
        self.assertEqual(error.reason, "unknown type 'BOGUS'")

    def test_fileName(self) -> None:
        self.assertZoneError(
            HEADER + "mail MX 10\n",
            5,
            "someschool.edu.zone:5: MX takes 2 fields",
            fileName="someschool.edu.zone",
        )

    def test_brokenZones(self) -> None:
        """
        A dozen ways to get a zone wrong, each found where it is.
        """
        cases = [
            (HEADER + "www A\n", 5, "A takes 1 field"),
            (HEADER + "www AAAA 192.0.2.1\n", 5, "192.0.2.1"),
            (HEADER + "www A 192.0.2.1 extra\n", 5, "A takes 1 field"),
            (HEADER + "www\n", 5, "a record needs a type"),
            (HEADER + "a..b A 192.0.2.1\n", 5, "empty label"),
            (HEADER + "a" * 64 + " A 192.0.2.1\n", 5, "longer than 63"),
            (HEADER + "_sip._tcp SRV 0 5 65536 sip\n", 5, "65536"),
            (HEADER + "t TXT " + '"' + "x" * 256 + '"\n', 5, "longer than 255"),
            (HEADER + "m MX ( 10\n\n  mail extra )\n", 5, "MX takes 2 fields"),
            (HEADER + "g TYPE65280 \\# 3 abcd\n", 5, "generic data has 2 octets, not 3"),
            (HEADER + "g TYPE65280 \\# 2 zz11\n", 5, "not hexadecimal"),
            ("$ORIGIN example.\n$TTL 1h\n@ SOA ns hm 1 2 3 4\n", 3, "SOA takes 7 fields"),
            (HEADER + "$ORIGIN a..b.\n", 5, "empty label"),
            (HEADER + "a 1x A 192.0.2.1\n", 5, "'1x' is not a time"),
            (HEADER + "a IN IN A 192.0.2.1\n", 5, "unknown type 'IN'"),
        ]
        for text, lineNumber, fragment in cases:
            self.assertZoneError(text, lineNumber, fragment)


class LimitTests(ZoneTestCase):
    """
    Every resource a hostile zone could take has an explicit bound.
    """

    def test_lineLength(self) -> None:
        self.assertZoneError(
            HEADER + "a TXT " + "x" * 100 + "\n", 5, "line longer than 100", maxLineLength=100
        )
        self.assertEqual(len(parseBody("a TXT " + "x" * 90 + "\n", maxLineLength=100)), 1)

    def test_entryLength(self) -> None:
        """
        An entry spread over lines in parentheses is bounded too, at the
        line where it starts.
        """
        text = HEADER + "\na TXT (\n" + ("xxxxxxxxx\n" * 20) + ")\n"
        self.assertZoneError(text, 6, "entry longer than 100", maxLineLength=100)

    def test_fileLineLength(self) -> None:
        """
        A file is read a line at a time, and a long line is refused after
        reading no more than the limit (in octets: non-ASCII counts double).
        """
        path = FilePath(self.mktemp())
        path.setContent((HEADER + "t TXT " + "é" * 60 + "\n").encode())
        error = self.assertRaises(ZoneFileError, loadZoneFile, path.path, maxLineLength=100)
        self.assertEqual(error.lineNumber, 5)
        self.assertIn("line longer than 100 octets", str(error))
        self.assertEqual(len(loadZoneFile(path.path, maxLineLength=130).records), 3)

    def test_records(self) -> None:
        body = "".join(f"h{index} A 192.0.2.1\n" for index in range(8))
        self.assertEqual(len(parseZone(HEADER + body, EXAMPLE, maxRecords=10).records), 10)
        self.assertZoneError(
            HEADER + body + "x A 192.0.2.1\n", 13, "more than 10 records", maxRecords=10
        )

    def test_unreadableFile(self) -> None:
        path = self.mktemp()
        error = self.assertRaises(ZoneFileError, loadZoneFile, path)
        self.assertEqual((error.fileName, error.lineNumber), (path, 0))
        self.assertIn("cannot read the file", str(error))


def nsdCheckzone(
    origin: str, path: str, printZone: bool = False
) -> subprocess.CompletedProcess[str]:
    """
    Run C{nsd-checkzone [-p] origin path} in the file's directory (NSD
    reads C{$INCLUDE} paths relative to its working directory), bounded in
    time.
    """
    assert NSD_CHECKZONE is not None
    arguments = [NSD_CHECKZONE, *(["-p"] if printZone else []), origin, path]
    return subprocess.run(
        arguments,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=os.path.dirname(os.path.abspath(path)),
    )


def dnspythonRecords(path: str, origin: str) -> set[ResourceRecord]:
    """
    The records of a zone file as dnspython reads it, each turned into a
    netref record through its presentation form.
    """
    import dns.zone

    zone = dns.zone.from_file(path, origin, relativize=False)
    result = set()
    for name, ttl, data in zone.iterate_rdatas():
        rtype = int(data.rdtype)
        result.add(
            ResourceRecord(
                Name.fromText(name.to_text()),
                rtype,
                int(data.rdclass),
                ttl,
                parseRdata(rtype, tokenize(data.to_text())),
            )
        )
    return result


try:
    import dns.zone  # noqa: F401
except ImportError:
    NO_DNSPYTHON: str | None = "dnspython is not installed"
else:
    NO_DNSPYTHON = None

# The zones the oracles read as well: (file, origin).
ORACLE_ZONES = [
    (DATA.child("someschool.edu.zone"), "someschool.edu."),
    (DATA.child("syntax.zone"), "example.com."),
    (DATA.child("main.zone"), "example.org."),
    *(
        (SERVER_DATA.child(name), name[: -len(".zone")] + ".")
        for name in ["example.com.zone", "example.net.zone", "child.example.com.zone"]
    ),
    *(
        (path, "." if path.basename() == "root.zone" else path.basename()[: -len("zone")])
        for path in sorted(LAB_ZONES.globChildren("*.zone"))
    ),
]


class RealisticZoneTests(SynchronousTestCase):
    """
    The textbook's university, someschool.edu, as a zone file.
    """

    def test_someschool(self) -> None:
        zone = loadZoneFile(DATA.child("someschool.edu.zone").path)
        self.assertEqual(zone.origin, Name.fromText("someschool.edu."))
        self.assertEqual(
            zone.records,
            tuple(
                rr(line)
                for line in [
                    "someschool.edu. 3600 IN SOA dns.someschool.edu. hostmaster.someschool.edu."
                    " 2026112101 3600 900 604800 300",
                    "someschool.edu. 3600 IN NS dns.someschool.edu.",
                    "someschool.edu. 3600 IN MX 10 mail.someschool.edu.",
                    'someschool.edu. 3600 IN TXT "v=spf1 mx -all"',
                    "dns.someschool.edu. 3600 IN A 128.119.40.1",
                    "www.someschool.edu. 3600 IN A 128.119.245.12",
                    "www.someschool.edu. 3600 IN AAAA 2001:db8:5c::12",
                    "mail.someschool.edu. 3600 IN A 128.119.40.25",
                    "mail.someschool.edu. 3600 IN MX 10 mail.someschool.edu.",
                    "web.someschool.edu. 7200 IN CNAME www.someschool.edu.",
                    "_http._tcp.someschool.edu. 3600 IN SRV 0 5 80 www.someschool.edu.",
                    'info.someschool.edu. 1800 IN TXT "Some School; founded 1863"'
                    ' "two \\"strings\\""',
                ]
            ),
        )
        soa = zone.soa.rdata
        assert isinstance(soa, SOA)
        self.assertEqual(soa.minimum, 300)
        self.assertEqual(zone.warnings, ())

    def test_samePathAndOrigin(self) -> None:
        """
        L{loadZoneFile} takes a path as text or path object, and an origin
        as a name or text.
        """
        path = DATA.child("someschool.edu.zone").path
        zone = loadZoneFile(path)
        self.assertEqual(loadZoneFile(pathlib.Path(path), "someschool.edu"), zone)
        self.assertEqual(loadZoneFile(path, Name.fromText("someschool.edu.")), zone)

    def test_wrongOrigin(self) -> None:
        path = DATA.child("someschool.edu.zone").path
        error = self.assertRaises(ZoneFileError, loadZoneFile, path, "otherschool.edu")
        self.assertEqual(error.lineNumber, 5)
        self.assertIn("must be at the zone's origin, otherschool.edu.", str(error))

    def test_labZones(self) -> None:
        """
        The lab's zones all load, with their own names as origins.
        """
        for path in LAB_ZONES.globChildren("*.zone"):
            zone = loadZoneFile(path.path)
            expected = "." if path.basename() == "root.zone" else path.basename()[:-4]
            self.assertEqual(zone.origin, Name.fromText(expected), path.path)
            self.assertEqual(zone.warnings, ())


class NSDTests(SynchronousTestCase):
    """
    NSD's C{nsd-checkzone}, a zone parser nobody here wrote, reads the same
    records from a zone as netref, and refuses the zones netref refuses.
    """

    skip = NO_NSD

    def assertSameAsNSD(self, path: str, origin: str) -> None:
        """
        NSD accepts the zone, and the records it prints (NSD's own master
        file text) are the ones netref reads from the file.
        """
        result = nsdCheckzone(origin, path, printZone=True)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertNotIn("warning", result.stderr)
        mine = loadZoneFile(path, origin)
        nsd = parseZone(result.stdout, origin, "nsd-checkzone output", allowInclude=False)
        self.assertEqual(set(mine.records), set(nsd.records))
        self.assertEqual(len(mine.records), len(nsd.records))

    def test_sameRecords(self) -> None:
        """
        The realistic zone, the one using every piece of syntax, the one
        with C{$INCLUDE}, and the zones of the server tests and the lab.
        """
        for path, origin in ORACLE_ZONES:
            self.assertSameAsNSD(path.path, origin)

    def test_duplicatesAndCase(self) -> None:
        """
        Duplicates are dropped, whatever the case of their names, by both.
        """
        path = FilePath(self.mktemp())
        path.setContent(
            (HEADER + "www A 192.0.2.1\nWWW.example. A 192.0.2.1\nx MX 1 a\nx MX 1 A\n").encode()
        )
        self.assertSameAsNSD(path.path, "example.")
        self.assertEqual(len(loadZoneFile(path.path).records), 4)

    def test_bothRefuse(self) -> None:
        """
        Zones NSD refuses, netref refuses too.
        """
        cases = {
            "cname and other data": HEADER + "www CNAME a\nwww A 192.0.2.1\n",
            "other data and cname": HEADER + "www A 192.0.2.1\nwww CNAME a\n",
            "two cnames": HEADER + "www CNAME a\nwww CNAME b\n",
            "two soas": HEADER + "@ SOA ns hostmaster 2 2 3 4 5\n",
            "no soa": "$ORIGIN example.\n$TTL 1h\n@ NS ns\nns A 192.0.2.1\n",
            "soa below the origin": "$ORIGIN example.\n$TTL 1h\nsub SOA ns hm 1 2 3 4 5\n",
            "out of zone": HEADER + "www.example.org. A 192.0.2.1\n",
            "nested parentheses": HEADER + "a TXT ( b ( c ) )\n",
            "bad address": HEADER + "a A 192.0.2.300\n",
            "unknown type": HEADER + "a BOGUS x\n",
            "too few fields": HEADER + "a MX 10\n",
            "label too long": HEADER + "a" * 64 + " A 192.0.2.1\n",
            "include loop": HEADER + "$INCLUDE loop.zone\n",
        }
        directory = FilePath(self.mktemp())
        directory.makedirs()
        for reason, text in cases.items():
            path = directory.child("loop.zone" if reason == "include loop" else "zone")
            path.setContent(text.encode())
            result = nsdCheckzone("example.", path.path)
            self.assertNotEqual(result.returncode, 0, f"NSD accepts: {reason}")
            self.assertRaises(ZoneFileError, loadZoneFile, path.path, "example.")

    def test_netrefStricter(self) -> None:
        """
        Zones NSD accepts and netref refuses, on purpose: a zone without NS
        records (BIND refuses it too), a C{(} never closed (NSD reads to the
        end of the file), a quoted string over two lines (NSD keeps the line
        end in the string), C{\\#} data whose length is not what it says
        (RFC 3597 section 5; NSD ignores the length).
        """
        cases = {
            "no NS": "$ORIGIN example.\n$TTL 1h\n@ SOA ns hm 1 2 3 4 5\n",
            "( never closed": HEADER + "a TXT ( b\nc A 192.0.2.1\n",
            "quote over two lines": HEADER + 'a TXT "b\nc"\n',
            "generic data shorter than its length": HEADER + "a TYPE65280 \\# 3 abcd\n",
        }
        for reason, text in cases.items():
            path = FilePath(self.mktemp())
            path.setContent(text.encode())
            result = nsdCheckzone("example.", path.path)
            self.assertEqual(result.returncode, 0, f"NSD refuses: {reason}: {result.stderr}")
            self.assertRaises(ZoneFileError, loadZoneFile, path.path, "example.")


class DnspythonTests(SynchronousTestCase):
    """
    dnspython, a second parser nobody here wrote, reads the same records.
    """

    skip = NO_DNSPYTHON

    def test_sameRecords(self) -> None:
        for path, origin in ORACLE_ZONES:
            if path.basename() == "main.zone":
                # dnspython reads $INCLUDE paths relative to the working
                # directory, not to the including file.
                continue
            self.assertEqual(
                set(loadZoneFile(path.path).records), dnspythonRecords(path.path, origin)
            )

    def test_differentTTLs(self) -> None:
        """
        dnspython gives an RRset the lowest of its TTLs (RFC 2181 section
        5.2), as netref does.
        """
        path = FilePath(self.mktemp())
        path.setContent((HEADER + "a A 192.0.2.1\na 60 A 192.0.2.2\na 600 A 192.0.2.3\n").encode())
        self.assertEqual(
            set(loadZoneFile(path.path).records), dnspythonRecords(path.path, "example.")
        )

    def test_ttlDefaults(self) -> None:
        """
        Without C{$TTL}, dnspython takes the SOA's TTL from its MINIMUM and
        later ones from the record before, as netref does (NSD differs).
        """
        path = FilePath(self.mktemp())
        path.setContent(
            b"$ORIGIN example.\n@ SOA ns hm 1 2 3 4 5\n NS ns\nns 300 A 192.0.2.1\nb A 192.0.2.2\n"
        )
        self.assertEqual(
            set(loadZoneFile(path.path).records), dnspythonRecords(path.path, "example.")
        )


# Characters that mean something in a master file, so that random text is
# mostly near-miss syntax rather than one long unknown owner name.
_SYNTAX = list(' \t\n\r;()"\\$@.0123456789') + [
    "IN",
    "CH",
    "A",
    "MX",
    "SOA",
    "TXT",
    "NS",
    "CNAME",
    "TYPE65280",
    "\\#",
    "$ORIGIN",
    "$TTL",
    "$INCLUDE",
    "1h",
    "example.",
    "www",
    "192.0.2.1",
]

randomText = st.lists(st.one_of(st.sampled_from(_SYNTAX), st.characters()), max_size=200).map(
    "".join
)

_SOMESCHOOL = DATA.child("someschool.edu.zone").getContent().decode()


@st.composite
def mutations(draw: st.DrawFn) -> str:
    """
    The realistic zone with a few characters deleted, replaced or inserted.
    """
    text = _SOMESCHOOL
    for _ in range(draw(st.integers(1, 4))):
        index = draw(st.integers(0, len(text)))
        cut = draw(st.integers(0, 3))
        insert = draw(st.lists(st.sampled_from(_SYNTAX), max_size=2))
        text = text[:index] + "".join(insert) + text[index + cut :]
    return text


@st.composite
def zones(draw: st.DrawFn) -> tuple[Name, list[ResourceRecord]]:
    """
    A zone's origin and records, valid by construction: an SOA and an NS at
    the origin, then records of any type at or below it, one TTL per RRset,
    at most one CNAME per name and nothing beside it.
    """
    origin = draw(names.filter(lambda name: name.wireLength < 200))
    soa = ResourceRecord(origin, RRType.SOA, RRClass.IN, draw(ttls), draw(rdataOf(RRType.SOA)))
    ns = ResourceRecord(origin, RRType.NS, RRClass.IN, draw(ttls), draw(rdataOf(RRType.NS)))
    result = [soa, ns]
    rrsetTtls: dict[tuple[Name, int], int] = {
        (origin, RRType.SOA): soa.ttl,
        (origin, RRType.NS): ns.ttl,
    }
    cnames: set[Name] = set()
    others: set[Name] = {origin}
    for _ in range(draw(st.integers(0, 12))):
        relative = draw(st.lists(labels, max_size=3))
        try:
            owner = Name([*relative, *origin.labels])
        except ValueError:
            owner = origin
        rtype: int = draw(
            st.sampled_from([t for t in KNOWN_TYPES if t != RRType.SOA]) | unknownTypes
        )
        if rtype == RRType.CNAME:
            if owner in others or owner in cnames:
                continue
            cnames.add(owner)
        elif owner in cnames:
            continue
        else:
            others.add(owner)
        ttl = rrsetTtls.setdefault((owner, rtype), draw(ttls))
        result.append(ResourceRecord(owner, rtype, RRClass.IN, ttl, draw(rdataOf(rtype))))
    unique: dict[tuple[Name, int, object], ResourceRecord] = {}
    for record in result:
        unique.setdefault((record.name, record.rtype, record.rdata), record)
    return origin, list(unique.values())


@st.composite
def writtenZones(draw: st.DrawFn) -> tuple[Name, list[ResourceRecord], str]:
    """
    A zone from L{zones}, written as people write master files: names
    relative to the origin, blank owners, TTL and class in either order or
    left out, record data spread over lines in parentheses, with comments.
    """
    origin, records = draw(zones())
    lines = [f"$ORIGIN {origin.toText()}"]
    previous: ResourceRecord | None = None
    for record in records:
        if previous is not None and previous.name == record.name and draw(st.booleans()):
            owner = ""
        elif draw(st.booleans()):
            owner = record.name.toText(origin)
        else:
            owner = record.name.toText()
        fields = [str(record.ttl), "IN"]
        if draw(st.booleans()):
            fields.reverse()
        if previous is not None and draw(st.booleans()):
            lines.append(f"$TTL {record.ttl}")
            fields.remove(str(record.ttl))
        if draw(st.booleans()):
            fields.remove("IN")
        data = tokenize(record.rdata.toText())
        if draw(st.booleans()) and data:
            data = ["(", *(f"{token} ; comment\n" for token in data), ")"]
        typeText = f"TYPE{record.rtype}" if draw(st.booleans()) else typeToText(record.rtype)
        lines.append(" ".join([owner or " ", *fields, typeText, *data]))
        previous = record
    return origin, records, "\n".join(lines) + "\n"


class PropertyTests(SynchronousTestCase):
    """
    Random and mutated text raises nothing but L{ZoneFileError}, and zones
    written out read back the same.
    """

    @settings(max_examples=300)
    @given(randomText, st.sampled_from([EXAMPLE, None]))
    def test_randomText(self, text: str, origin: Name | None) -> None:
        try:
            parseZone(text, origin, allowInclude=False)
        except ZoneFileError:
            pass

    @given(st.binary(max_size=300))
    def test_randomFile(self, data: bytes) -> None:
        """
        Any octets in a file, too.
        """
        path = FilePath(self.mktemp())
        path.setContent(data)
        try:
            loadZoneFile(path.path, allowInclude=False, maxLineLength=50)
        except ZoneFileError:
            pass

    @settings(max_examples=300)
    @given(mutations())
    def test_mutatedZone(self, text: str) -> None:
        try:
            parseZone(text, "someschool.edu.", allowInclude=False)
        except ZoneFileError:
            pass

    @given(zones())
    def test_roundTrip(self, zone: tuple[Name, list[ResourceRecord]]) -> None:
        """
        Records written with C{toText()}, one a line, read back the same.
        """
        origin, records = zone
        text = "".join(record.toText() + "\n" for record in records)
        parsed = parseZone(text, origin, allowInclude=False)
        self.assertEqual(list(parsed.records), records)
        self.assertEqual(parsed.warnings, ())
        self.assertEqual(parseZone(parsed.toText(), origin), parsed)

    @given(writtenZones())
    def test_writtenAsPeopleDo(self, zone: tuple[Name, list[ResourceRecord], str]) -> None:
        origin, records, text = zone
        self.assertEqual(list(parseZone(text, origin, allowInclude=False).records), records)
