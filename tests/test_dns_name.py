"""
Tests for L{netref.dns.name}: domain names in text and wire form, and the
wire reader and writer with their compression rules.
"""

from __future__ import annotations

import copy
import pickle

from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.trial.unittest import SynchronousTestCase

from netref.dns.name import (
    MAX_POINTERS,
    ROOT,
    DNSError,
    Name,
    TextError,
    WireError,
    WireReader,
    WireWriter,
    unescape,
)
from tests.dns_strategies import names


def n(text: str) -> Name:
    return Name.fromText(text)


class NameTests(SynchronousTestCase):
    """
    L{Name}: immutable labels, case-insensitive equality, the limits of RFC
    1035 section 2.3.4.
    """

    def test_labels(self) -> None:
        name = Name([b"gaia", b"cs", b"umass", b"edu"])
        self.assertEqual(name.labels, (b"gaia", b"cs", b"umass", b"edu"))
        self.assertEqual(name.wire, b"\x04gaia\x02cs\x05umass\x03edu\x00")
        self.assertEqual(name.wireLength, 19)

    def test_root(self) -> None:
        self.assertEqual(ROOT.labels, ())
        self.assertEqual(ROOT.wire, b"\x00")
        self.assertEqual(Name(), ROOT)
        self.assertEqual(ROOT.toText(), ".")

    def test_fromLabels(self) -> None:
        self.assertEqual(Name.fromLabels(["www", b"example", "com"]), n("www.example.com."))

    def test_caseInsensitive(self) -> None:
        """
        Names differing only in ASCII case are equal and hash alike (RFC
        4343 section 3), but keep their case.
        """
        upper, lower = n("WWW.Example.COM."), n("www.example.com.")
        self.assertEqual(upper, lower)
        self.assertEqual(hash(upper), hash(lower))
        self.assertEqual({upper: 1}[lower], 1)
        self.assertEqual(upper.toText(), "WWW.Example.COM.")
        self.assertFalse(upper != lower)

    def test_nonAsciiNotFolded(self) -> None:
        """
        Only ASCII letters fold (RFC 4343 section 3): octets above 127 are
        compared as they are.
        """
        self.assertNotEqual(Name([b"\xc3\xa9"]), Name([b"\xc3\x89"]))

    def test_notEqualToOtherTypes(self) -> None:
        self.assertNotEqual(n("a."), "a.")
        self.assertNotEqual(n("a."), (b"a",))

    def test_immutable(self) -> None:
        name = n("a.b.")
        self.assertRaises(AttributeError, setattr, name, "wire", b"\x00")
        self.assertRaises(AttributeError, delattr, name, "key")

    def test_pickleAndCopy(self) -> None:
        name = n("Mail.Example.com.")
        for clone in (pickle.loads(pickle.dumps(name)), copy.copy(name), copy.deepcopy(name)):
            self.assertEqual(clone, name)
            self.assertEqual(clone.labels, name.labels)

    def test_labelLimit(self) -> None:
        Name([b"x" * 63])
        self.assertRaises(ValueError, Name, [b"x" * 64])
        self.assertRaises(ValueError, Name, [b""])
        self.assertRaises(TypeError, Name, ["text"])

    def test_nameLimit(self) -> None:
        """
        255 octets in wire form is the most (RFC 1035 section 2.3.4).
        """
        fits = [b"x" * 63] * 3 + [b"x" * 61]
        self.assertEqual(Name(fits).wireLength, 255)
        self.assertRaises(ValueError, Name, [b"x" * 63] * 3 + [b"x" * 62])

    def test_isSubdomainOf(self) -> None:
        name = n("gaia.cs.umass.edu.")
        self.assertTrue(name.isSubdomainOf(n("umass.edu.")))
        self.assertTrue(name.isSubdomainOf(n("UMASS.edu.")))
        self.assertTrue(name.isSubdomainOf(name))
        self.assertTrue(name.isSubdomainOf(ROOT))
        self.assertTrue(ROOT.isSubdomainOf(ROOT))
        self.assertFalse(name.isSubdomainOf(n("mass.edu.")))
        self.assertFalse(n("umass.edu.").isSubdomainOf(name))
        self.assertFalse(ROOT.isSubdomainOf(n("edu.")))

    def test_isSubdomainOfLabelBoundary(self) -> None:
        """
        A label holding octets that look like a length octet does not make
        a suffix of the wire form a subdomain.
        """
        tricky = Name([b"q\x01a", b"b"])
        self.assertTrue(tricky.wire.endswith(n("a.b.").wire))
        self.assertFalse(tricky.isSubdomainOf(n("a.b.")))
        self.assertTrue(tricky.isSubdomainOf(n("b.")))

    def test_parent(self) -> None:
        self.assertEqual(n("gaia.cs.umass.edu.").parent(), n("cs.umass.edu."))
        self.assertEqual(n("edu.").parent(), ROOT)
        self.assertEqual(n("A.b.").parent().labels, (b"b",))
        self.assertRaises(ValueError, ROOT.parent)

    def test_child(self) -> None:
        self.assertEqual(n("umass.edu.").child(b"cs"), n("cs.umass.edu."))
        self.assertRaises(ValueError, Name([b"x" * 63] * 3 + [b"x" * 61]).child, b"a")

    def test_canonicalOrder(self) -> None:
        """
        The example of RFC 4034 section 6.1, in canonical order.
        """
        ordered = [
            Name.fromText(text)
            for text in [
                "example.",
                "a.example.",
                "yljkjljk.a.example.",
                "Z.a.example.",
                "zABC.a.EXAMPLE.",
                "z.example.",
                "\\001.z.example.",
                "*.z.example.",
                "\\200.z.example.",
            ]
        ]
        self.assertEqual(sorted(reversed(ordered)), ordered)
        self.assertTrue(ordered[0] < ordered[1] <= ordered[1])
        self.assertTrue(ordered[2] > ordered[1] >= ordered[1])

    def test_repr(self) -> None:
        self.assertEqual(repr(n("a.b.")), "Name('a.b.')")
        self.assertEqual(str(n("a.b.")), "a.b.")

    def test_errorsAreDNSErrors(self) -> None:
        self.assertTrue(issubclass(WireError, DNSError))
        self.assertTrue(issubclass(TextError, DNSError))


class FromTextTests(SynchronousTestCase):
    """
    L{Name.fromText}: the presentation format of RFC 1035 section 5.1.
    """

    origin = Name.fromText("umass.edu.")

    def test_absolute(self) -> None:
        self.assertEqual(n("gaia.cs.umass.edu.").labels, (b"gaia", b"cs", b"umass", b"edu"))
        self.assertEqual(Name.fromText("a.b.", self.origin), n("a.b."))

    def test_relative(self) -> None:
        self.assertEqual(Name.fromText("gaia.cs", self.origin), n("gaia.cs.umass.edu."))

    def test_relativeNeedsOrigin(self) -> None:
        self.assertRaises(TextError, Name.fromText, "gaia.cs")
        self.assertRaises(TextError, Name.fromText, "@")

    def test_at(self) -> None:
        self.assertEqual(Name.fromText("@", self.origin), self.origin)

    def test_root(self) -> None:
        self.assertEqual(n("."), ROOT)
        self.assertEqual(Name.fromText(".", self.origin), ROOT)

    def test_escapedDot(self) -> None:
        name = n("first\\.last.example.")
        self.assertEqual(name.labels, (b"first.last", b"example"))
        self.assertEqual(name.toText(), "first\\.last.example.")

    def test_decimalEscape(self) -> None:
        self.assertEqual(n("a\\032b\\255.").labels, (b"a b\xff",))
        self.assertEqual(n("\\065.").labels, (b"A",))

    def test_escapedBackslashBeforeDot(self) -> None:
        """
        C{\\\\.} is an escaped backslash, then a dot that ends the label.
        """
        self.assertEqual(n("a\\\\.b.").labels, (b"a\\", b"b"))

    def test_escapedFinalDotIsRelative(self) -> None:
        self.assertEqual(Name.fromText("a\\.", self.origin).labels, (b"a.", b"umass", b"edu"))

    def test_badEscapes(self) -> None:
        for text in ["a\\", "a\\25", "a\\256.", "a\\2x5."]:
            self.assertRaises(TextError, Name.fromText, text, self.origin)

    def test_emptyLabels(self) -> None:
        for text in ["", "a..b.", ".a.", "..", "a.b.."]:
            self.assertRaises(TextError, Name.fromText, text, self.origin)

    def test_labelTooLong(self) -> None:
        n("x" * 63 + ".")
        self.assertRaises(TextError, n, "x" * 64 + ".")
        self.assertRaises(TextError, n, "\\120" * 64 + ".")

    def test_nameTooLong(self) -> None:
        longest = ".".join(["x" * 63] * 3 + ["x" * 61]) + "."
        self.assertEqual(n(longest).wireLength, 255)
        self.assertRaises(TextError, n, "y." + longest)
        self.assertRaises(TextError, Name.fromText, "a." + "x" * 63, Name.fromText(longest[64:]))

    def test_nonAscii(self) -> None:
        """
        Characters outside ASCII stand for their UTF-8 octets.
        """
        self.assertEqual(n("é.").labels, (b"\xc3\xa9",))

    def test_toTextEscapes(self) -> None:
        name = Name([b'a.b\\c"d;e(f)g@h$i j\x00\x7f\xff'])
        self.assertEqual(name.toText(), 'a\\.b\\\\c\\"d\\;e\\(f\\)g\\@h\\$i\\032j\\000\\127\\255.')
        self.assertEqual(n(name.toText()).labels, name.labels)

    def test_toTextRelative(self) -> None:
        self.assertEqual(n("gaia.cs.umass.edu.").toText(self.origin), "gaia.cs")
        self.assertEqual(self.origin.toText(self.origin), "@")
        self.assertEqual(n("example.com.").toText(self.origin), "example.com.")

    @given(names)
    @settings(max_examples=300)
    def test_textRoundTrip(self, name: Name) -> None:
        """
        The text form reads back as the same labels, octet for octet.
        """
        text = name.toText()
        self.assertTrue(text.isascii())
        self.assertEqual(n(text).labels, name.labels)

    @given(names, names)
    @settings(max_examples=200)
    def test_relativeTextRoundTrip(self, name: Name, origin: Name) -> None:
        self.assertEqual(Name.fromText(name.toText(origin), origin), name)

    @given(names, names)
    @settings(max_examples=200)
    def test_subdomainMatchesLabels(self, name: Name, other: Name) -> None:
        """
        L{Name.isSubdomainOf} on wire forms agrees with comparing labels.
        """
        count = len(other.labels)
        expected = count <= len(name.labels) and [
            label.lower() for label in name.labels[len(name.labels) - count :]
        ] == [label.lower() for label in other.labels]
        self.assertEqual(name.isSubdomainOf(other), expected)
        self.assertTrue(name.isSubdomainOf(name.parent() if name.labels else ROOT))

    @given(st.text(alphabet=st.sampled_from("ab.\\0129@ \u00e9\ud800\udcff")) | st.text())
    @settings(max_examples=500)
    def test_anyTextOnlyTextError(self, text: str) -> None:
        """
        Any text is a name or a L{TextError}.
        """
        for origin in (None, self.origin):
            try:
                Name.fromText(text, origin)
            except TextError:
                pass


class UnescapeTests(SynchronousTestCase):
    def test_unescape(self) -> None:
        self.assertEqual(unescape("plain"), b"plain")
        self.assertEqual(unescape('\\"q\\"\\\\\\009'), b'"q"\\\t')
        self.assertRaises(TextError, unescape, "x\\")
        self.assertRaises(TextError, unescape, "\\99")


def message(*parts: bytes) -> bytes:
    """
    A buffer with 12 octets standing for a header before C{parts}.
    """
    return b"\xab" * 12 + b"".join(parts)


class ReaderTests(SynchronousTestCase):
    """
    L{WireReader.readName}: compression pointers (RFC 1035 section 4.1.4)
    that can only point backwards, and every malformed name a L{WireError}.
    """

    def read(self, data: bytes, pos: int = 12) -> tuple[Name, int]:
        reader = WireReader(data, pos)
        name = reader.readName()
        return name, reader.pos

    def test_plain(self) -> None:
        name, end = self.read(message(b"\x01a\x02bc\x00", b"rest"))
        self.assertEqual(name.labels, (b"a", b"bc"))
        self.assertEqual(end, 12 + 6)

    def test_root(self) -> None:
        self.assertEqual(self.read(message(b"\x00")), (ROOT, 13))

    def test_pointer(self) -> None:
        """
        The example of RFC 1035 section 4.1.4: F.ISI.ARPA, then FOO pointing
        to it, then a pointer to ARPA.
        """
        data = message(b"\x01F\x03ISI\x04ARPA\x00", b"\x03FOO\xc0\x0c", b"\xc0\x12")
        self.assertEqual(self.read(data), (n("F.ISI.ARPA."), 24))
        foo, end = self.read(data, 24)
        self.assertEqual(foo.labels, (b"FOO", b"F", b"ISI", b"ARPA"))
        self.assertEqual(end, 30)
        self.assertEqual(self.read(data, 30), (n("ARPA."), 32))

    def test_pointerChain(self) -> None:
        """
        A pointer may lead to a name that itself ends in a pointer further
        back.
        """
        data = message(b"\x03edu\x00", b"\x05umass\xc0\x0c", b"\x02cs\xc0\x11")
        name, end = self.read(data, 25)
        self.assertEqual(name, n("cs.umass.edu."))
        self.assertEqual(name.wire, b"\x02cs\x05umass\x03edu\x00")
        self.assertEqual(end, 30)

    def test_pointerToSelf(self) -> None:
        self.assertRaises(WireError, self.read, message(b"\xc0\x0c"))

    def test_forwardPointer(self) -> None:
        self.assertRaises(WireError, self.read, message(b"\xc0\x0e\x00\x00"))

    def test_pointerIntoOwnLabels(self) -> None:
        """
        A pointer back to the start of the name it ends is a loop.
        """
        self.assertRaises(WireError, self.read, message(b"\x01a\xc0\x0c"))

    def test_twoPointerLoop(self) -> None:
        """
        Two pointers pointing at each other: the second one does not point
        before the first one's target.
        """
        data = message(b"\xc0\x0e", b"\xc0\x0c")
        self.assertRaises(WireError, self.read, data, 14)
        self.assertRaises(WireError, self.read, data, 12)

    def test_longPointerLoop(self) -> None:
        data = message(b"\x01a\xc0\x12", b"\x01b\xc0\x0c", b"\x01c\xc0\x10")
        for start in (12, 16, 20):
            self.assertRaises(WireError, self.read, data, start)

    def test_tooManyPointers(self) -> None:
        """
        A chain of pointers, each to the one before: backwards all the way,
        but more than L{MAX_POINTERS} of them.
        """
        # The root at 12, then pointers at 13, 15, 17...: the first to the
        # root, each other one to the pointer before it.
        targets = [12] + [13 + 2 * index for index in range(MAX_POINTERS)]
        chain = b"\x00" + b"".join(bytes((0xC0 | t >> 8, t & 0xFF)) for t in targets)
        data = message(chain)
        # From the pointer at 13 + 2k, a name follows k + 1 pointers.
        self.assertEqual(self.read(data, 13 + 2 * (MAX_POINTERS - 1))[0], ROOT)
        self.assertRaises(WireError, self.read, data, 13 + 2 * MAX_POINTERS)

    def test_labelTooLong(self) -> None:
        """
        A length octet of 64 has the reserved type 0b01, and is rejected;
        63 is the longest label.
        """
        self.assertEqual(self.read(message(b"\x3f" + b"x" * 63 + b"\x00"))[1], 12 + 65)
        self.assertRaises(WireError, self.read, message(b"\x40" + b"x" * 64 + b"\x00"))

    def test_reservedLabelTypes(self) -> None:
        """
        0b01 (the extended labels of RFC 6891 section 5) and 0b10 are
        reserved.
        """
        for first in (0x40, 0x41, 0x7F, 0x80, 0xBF):
            self.assertRaises(WireError, self.read, message(bytes((first,)) + b"x" * 80 + b"\x00"))

    def test_nameTooLong(self) -> None:
        longest = (b"\x3f" + b"x" * 63) * 3 + b"\x3d" + b"x" * 61 + b"\x00"
        self.assertEqual(self.read(message(longest))[0].wireLength, 255)
        tooLong = (b"\x3f" + b"x" * 63) * 3 + b"\x3e" + b"x" * 62 + b"\x00"
        self.assertRaises(WireError, self.read, message(tooLong))

    def test_nameTooLongThroughPointers(self) -> None:
        """
        The 255-octet limit counts the labels reached through pointers.
        """
        first = (b"\x3f" + b"x" * 63) * 3 + b"\x00"
        data = message(first, b"\x3f" + b"y" * 63 + b"\xc0\x0c")
        self.assertRaises(WireError, self.read, data, 12 + len(first))

    def test_truncated(self) -> None:
        for data in [b"", b"\x03ab", b"\x03abc", b"\x01a\xc0"]:
            self.assertRaises(WireError, self.read, message(data))

    def test_endLimitsReading(self) -> None:
        """
        Reading stops at C{end} even when the data goes on.
        """
        reader = WireReader(message(b"\x01a\x00"), 12, 14)
        self.assertRaises(WireError, reader.readName)

    def test_noPointersWhenForbidden(self) -> None:
        reader = WireReader(message(b"\x00", b"\xc0\x0c"), 13)
        reader.pointers = False
        self.assertRaises(WireError, reader.readName)

    def test_take(self) -> None:
        reader = WireReader(b"abcdef", 1, 4)
        self.assertEqual(reader.take(2), 1)
        self.assertEqual(reader.readBytes(1), b"d")
        self.assertRaises(WireError, reader.take, 1)


class WriterTests(SynchronousTestCase):
    """
    L{WireWriter.writeName} compresses with pointers to earlier suffixes.
    """

    def test_rfc1035Example(self) -> None:
        """
        The example of RFC 1035 section 4.1.4, its offsets shifted to start
        at 12.
        """
        writer = WireWriter()
        writer.buf += b"\xab" * 12
        writer.writeName(n("F.ISI.ARPA."))
        writer.writeName(n("FOO.F.ISI.ARPA."))
        writer.writeName(n("ARPA."))
        writer.writeName(ROOT)
        self.assertEqual(
            bytes(writer.buf[12:]),
            b"\x01F\x03ISI\x04ARPA\x00" + b"\x03FOO\xc0\x0c" + b"\xc0\x12" + b"\x00",
        )

    def test_caseOfFirstOccurrence(self) -> None:
        """
        A later name in another case points to the first one (RFC 4343
        section 4.1 allows it).
        """
        writer = WireWriter()
        writer.writeName(n("Example.COM."))
        writer.writeName(n("www.example.com."))
        self.assertEqual(bytes(writer.buf), b"\x07Example\x03COM\x00\x03www\xc0\x00")

    def test_uncompressed(self) -> None:
        writer = WireWriter()
        writer.writeName(n("a.b."))
        writer.writeName(n("c.a.b."), compress=False)
        writer.writeName(n("c.a.b."))
        self.assertEqual(bytes(writer.buf), b"\x01a\x01b\x00\x01c\x01a\x01b\x00\x01c\xc0\x00")

    def test_noPointersBeyondReach(self) -> None:
        """
        Pointers have 14 bits: names written beyond offset 0x3FFF are not
        pointed to.
        """
        writer = WireWriter()
        writer.buf += b"\x00" * 0x4000
        writer.writeName(n("far.example."))
        writer.writeName(n("far.example."))
        self.assertEqual(bytes(writer.buf[0x4000:]), n("far.example.").wire * 2)

    @given(names, names, names)
    @settings(max_examples=300)
    def test_roundTrip(self, first: Name, second: Name, third: Name) -> None:
        """
        Names written with compression read back the same, case included,
        wherever they start.
        """
        writer = WireWriter()
        starts = []
        for name in (first, second, third):
            starts.append(len(writer.buf))
            writer.writeName(name)
        data = bytes(writer.buf)
        for name, start in zip((first, second, third), starts, strict=True):
            reader = WireReader(data, start)
            self.assertEqual(reader.readName(), name)
        self.assertEqual(WireReader(data).readName().labels, first.labels)

    @given(names, names, names)
    @settings(max_examples=200)
    def test_decodedNamesCompressAlike(self, first: Name, second: Name, third: Name) -> None:
        """
        Names decoded from a message (whose suffix keys are computed on the
        fly) compress exactly as names made by the constructor (whose keys
        are kept).
        """
        writer = WireWriter()
        starts = []
        for name in (first, second, third):
            starts.append(len(writer.buf))
            writer.writeName(name)
        data = bytes(writer.buf)
        decoded = [WireReader(data, start).readName() for start in starts]
        again = WireWriter()
        for name in decoded:
            again.writeName(name)
        self.assertEqual(bytes(again.buf), data)
