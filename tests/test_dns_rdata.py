"""
Tests for L{netref.dns.rdata}: types, classes and record data in wire and
presentation form.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.trial.unittest import SynchronousTestCase

from netref.dns.name import ROOT, Name, TextError, WireError, WireReader, WireWriter
from netref.dns.rdata import (
    AAAA,
    CNAME,
    MX,
    NS,
    PTR,
    SOA,
    SRV,
    TXT,
    A,
    Rdata,
    RRClass,
    RRType,
    UnknownRdata,
    classFromText,
    classToText,
    decodeRdata,
    parseRdata,
    rdataClassFor,
    tokenize,
    ttlFromText,
    typeFromText,
    typeToText,
)
from tests.dns_strategies import KNOWN_TYPES, names, rdatas

ORIGIN = Name.fromText("umass.edu.")


def n(text: str) -> Name:
    return Name.fromText(text)


def parse(rtype: int, text: str, origin: Name = ORIGIN) -> Rdata:
    return parseRdata(rtype, tokenize(text), origin)


def wire(rdata: Rdata) -> bytes:
    writer = WireWriter()
    rdata.encode(writer)
    return bytes(writer.buf)


def decode(rtype: int, data: bytes, rclass: int = RRClass.IN) -> Rdata:
    reader = WireReader(data)
    rdata = decodeRdata(rtype, reader, len(data), rclass)
    assert reader.pos == len(data)
    return rdata


class TypeAndClassTextTests(SynchronousTestCase):
    """
    Mnemonics, and the generic C{TYPEnnn}/C{CLASSnnn} of RFC 3597 section 5.
    """

    def test_typeFromText(self) -> None:
        self.assertEqual(typeFromText("MX"), 15)
        self.assertEqual(typeFromText("aaaa"), 28)
        self.assertEqual(typeFromText("TYPE65280"), 65280)
        self.assertEqual(typeFromText("type1"), RRType.A)
        self.assertEqual(typeFromText("CAA"), 257)

    def test_typeFromTextErrors(self) -> None:
        for text in ["FOO", "TYPE", "TYPE65536", "TYPE-1", "TYPEx", "TYPE 1", "", "TYPE١"]:
            self.assertRaises(TextError, typeFromText, text)

    def test_typeToText(self) -> None:
        self.assertEqual(typeToText(15), "MX")
        self.assertEqual(typeToText(RRType.SRV), "SRV")
        self.assertEqual(typeToText(65280), "TYPE65280")

    def test_classes(self) -> None:
        self.assertEqual(classFromText("in"), 1)
        self.assertEqual(classFromText("CH"), 3)
        self.assertEqual(classFromText("CLASS3"), 3)
        self.assertEqual(classFromText("CLASS32769"), 32769)
        self.assertEqual(classToText(1), "IN")
        self.assertEqual(classToText(254), "NONE")
        self.assertEqual(classToText(32769), "CLASS32769")
        for text in ["XX", "CLASS", "CLASS65536", "MX"]:
            self.assertRaises(TextError, classFromText, text)


class TTLTests(SynchronousTestCase):
    def test_seconds(self) -> None:
        self.assertEqual(ttlFromText("3600"), 3600)
        self.assertEqual(ttlFromText("0"), 0)

    def test_units(self) -> None:
        self.assertEqual(ttlFromText("1h"), 3600)
        self.assertEqual(ttlFromText("15m"), 900)
        self.assertEqual(ttlFromText("1w"), 604800)
        self.assertEqual(ttlFromText("1H30m"), 5400)
        self.assertEqual(ttlFromText("2d3h4m5s"), 2 * 86400 + 3 * 3600 + 4 * 60 + 5)

    def test_limits(self) -> None:
        self.assertEqual(ttlFromText("2147483647"), 2**31 - 1)
        self.assertRaises(TextError, ttlFromText, "2147483648")
        self.assertEqual(ttlFromText("4294967295", 2**32 - 1), 2**32 - 1)
        self.assertEqual(ttlFromText("0000000000003600"), 3600)

    def test_hugeNumbers(self) -> None:
        """
        Numbers longer than Python converts are still a L{TextError}.
        """
        self.assertRaises(TextError, ttlFromText, "9" * 5000)
        self.assertRaises(TextError, ttlFromText, "9" * 5000 + "s")
        self.assertRaises(TextError, parse, RRType.MX, "9" * 5000 + " mail")
        self.assertRaises(TextError, parse, 65280, "\\# " + "9" * 5000)

    def test_errors(self) -> None:
        for text in ["", "h", "1x", "1h1h", "h1", "1h2", "-1", "1.5h", "١"]:
            self.assertRaises(TextError, ttlFromText, text)


class TokenizeTests(SynchronousTestCase):
    """
    L{tokenize}: tokens are the exact characters of each field, quotes and
    escapes included.
    """

    def test_words(self) -> None:
        self.assertEqual(tokenize("  10\tmail.umass.edu.  "), ["10", "mail.umass.edu."])

    def test_quoted(self) -> None:
        self.assertEqual(tokenize('"a b" "" x'), ['"a b"', '""', "x"])

    def test_escapes(self) -> None:
        self.assertEqual(tokenize('a\\ b "c\\"d" \\#'), ["a\\ b", '"c\\"d"', "\\#"])

    def test_unterminated(self) -> None:
        self.assertRaises(TextError, tokenize, '"abc')
        self.assertRaises(TextError, tokenize, '"abc\\"')

    def test_empty(self) -> None:
        self.assertEqual(tokenize(""), [])


class AddressTests(SynchronousTestCase):
    def test_a(self) -> None:
        rdata = parse(RRType.A, "128.119.245.12")
        self.assertEqual(rdata, A("128.119.245.12"))
        self.assertEqual(wire(rdata), b"\x80\x77\xf5\x0c")
        self.assertEqual(decode(RRType.A, b"\x80\x77\xf5\x0c"), rdata)
        self.assertEqual(rdata.toText(), "128.119.245.12")

    def test_aErrors(self) -> None:
        for text in ["1.2.3", "01.2.3.4", "256.1.1.1", "::1", "1.2.3.4 5"]:
            self.assertRaises(TextError, parse, RRType.A, text)
        self.assertRaises(ValueError, A, 16909060)
        self.assertRaises(WireError, decode, RRType.A, b"\x01\x02\x03")
        self.assertRaises(WireError, decode, RRType.A, b"\x01\x02\x03\x04\x05")

    def test_aaaa(self) -> None:
        rdata = parse(RRType.AAAA, "2001:DB8:0:0:0:0:0:1")
        self.assertEqual(rdata.toText(), "2001:db8::1")
        self.assertEqual(rdata, AAAA("2001:db8::1"))
        self.assertEqual(wire(rdata), bytes.fromhex("20010db8000000000000000000000001"))
        self.assertEqual(decode(RRType.AAAA, wire(rdata)), rdata)

    def test_aaaaMapped(self) -> None:
        """
        The lab's IPv4-mapped address, in any form, is the same address.
        """
        self.assertEqual(AAAA("::ffff:127.2.0.10"), AAAA("::ffff:7f02:a"))

    def test_aaaaMappedText(self) -> None:
        """
        An IPv4-mapped address is written in mixed notation, as RFC 5952
        section 5 recommends and dig prints it, whether it came from text or
        from the wire.
        """
        self.assertEqual(AAAA("::ffff:7f02:a").toText(), "::ffff:127.2.0.10")
        fromWire = decode(RRType.AAAA, bytes.fromhex("00000000000000000000ffff7f02000a"))
        self.assertEqual(fromWire.toText(), "::ffff:127.2.0.10")
        self.assertEqual(AAAA("::1").toText(), "::1")

    def test_aaaaErrors(self) -> None:
        for text in ["1.2.3.4", "fe80::1%eth0", "::g", "1::2::3"]:
            self.assertRaises(TextError, parse, RRType.AAAA, text)
        self.assertRaises(WireError, decode, RRType.AAAA, b"\x00" * 15)


class NameDataTests(SynchronousTestCase):
    """
    NS, CNAME, PTR, MX, SOA: compressible names (RFC 1035 section 4.1.4).
    """

    def test_singleNames(self) -> None:
        for cls in (NS, CNAME, PTR):
            rdata = parse(cls.rtype, "dns")
            self.assertEqual(rdata, cls(n("dns.umass.edu.")))
            self.assertEqual(rdata.toText(), "dns.umass.edu.")
            self.assertEqual(wire(rdata), n("dns.umass.edu.").wire)
        self.assertNotEqual(NS(ORIGIN), CNAME(ORIGIN))

    def test_compressedInMessage(self) -> None:
        """
        A name in NS data points to a suffix written before it.
        """
        writer = WireWriter()
        writer.writeName(ORIGIN)
        NS(n("dns.umass.edu.")).encode(writer)
        self.assertEqual(bytes(writer.buf), b"\x05umass\x03edu\x00\x03dns\xc0\x00")

    def test_decompressed(self) -> None:
        data = b"\x05umass\x03edu\x00\x03dns\xc0\x00"
        reader = WireReader(data, 11)
        self.assertEqual(decodeRdata(RRType.NS, reader, 6), NS(n("dns.umass.edu.")))

    def test_nameBeyondLength(self) -> None:
        """
        A name running past RDLENGTH is malformed, even when the message
        goes on; one that ends early too.
        """
        data = n("dns.umass.edu.").wire
        reader = WireReader(data + b"\x00\x00")
        self.assertRaises(WireError, decodeRdata, RRType.NS, reader, len(data) - 1)
        reader = WireReader(data + b"\x00\x00")
        self.assertRaises(WireError, decodeRdata, RRType.NS, reader, len(data) + 1)

    def test_mx(self) -> None:
        rdata = parse(RRType.MX, "10 mail")
        self.assertEqual(rdata, MX(10, n("mail.umass.edu.")))
        self.assertEqual(rdata.toText(), "10 mail.umass.edu.")
        self.assertEqual(wire(rdata), b"\x00\x0a" + n("mail.umass.edu.").wire)
        self.assertEqual(decode(RRType.MX, wire(rdata)), rdata)

    def test_mxErrors(self) -> None:
        for text in ["65536 mail", "-1 mail", "ten mail", "10", "10 mail extra", '10 "mail"']:
            self.assertRaises(TextError, parse, RRType.MX, text)
        self.assertRaises(ValueError, MX, 65536, ORIGIN)
        self.assertRaises(TypeError, MX, 10, "mail.umass.edu.")

    def test_soa(self) -> None:
        """
        The SOA of the lab's umass.edu zone, timers with units.
        """
        rdata = parse(RRType.SOA, "dns.umass.edu. hostmaster.umass.edu. 2026112101 1h 15m 1w 5m")
        self.assertEqual(
            rdata,
            SOA(
                n("dns.umass.edu."), n("hostmaster.umass.edu."), 2026112101, 3600, 900, 604800, 300
            ),
        )
        self.assertEqual(
            rdata.toText(), "dns.umass.edu. hostmaster.umass.edu. 2026112101 3600 900 604800 300"
        )
        encoded = wire(rdata)
        # rname points to mname's suffix.
        self.assertEqual(encoded[15:28], b"\x0ahostmaster\xc0\x04")
        self.assertEqual(decode(RRType.SOA, encoded), rdata)

    def test_soaErrors(self) -> None:
        for text in [
            "a. b. 1 2 3 4",
            "a. b. 4294967296 2 3 4 5",
            "a. b. 1h 2 3 4 5",
            "a. b. 1 2 3 4 5 6",
        ]:
            self.assertRaises(TextError, parse, RRType.SOA, text)
        self.assertRaises(WireError, decode, RRType.SOA, b"\x00\x00" + b"\x00" * 19)


class TXTTests(SynchronousTestCase):
    def test_strings(self) -> None:
        rdata = parse(RRType.TXT, '"v=spf1 -all" bare ""')
        self.assertEqual(rdata, TXT((b"v=spf1 -all", b"bare", b"")))
        self.assertEqual(rdata.toText(), '"v=spf1 -all" "bare" ""')
        self.assertEqual(wire(rdata), b"\x0bv=spf1 -all\x04bare\x00")
        self.assertEqual(decode(RRType.TXT, wire(rdata)), rdata)

    def test_escapes(self) -> None:
        rdata = parse(RRType.TXT, '"say \\"hi\\" \\\\ \\009" a\\ b')
        self.assertEqual(rdata, TXT((b'say "hi" \\ \t', b"a b")))
        self.assertEqual(rdata.toText(), '"say \\"hi\\" \\\\ \\009" "a b"')

    def test_nonAscii(self) -> None:
        self.assertEqual(parse(RRType.TXT, '"é"'), TXT((b"\xc3\xa9",)))
        self.assertEqual(TXT((b"\xc3\xa9",)).toText(), '"\\195\\169"')

    def test_limits(self) -> None:
        parse(RRType.TXT, "x" * 255)
        self.assertRaises(TextError, parse, RRType.TXT, "x" * 256)
        self.assertRaises(TextError, parse, RRType.TXT, "")
        self.assertRaises(ValueError, TXT, ())
        self.assertRaises(ValueError, TXT, (b"x" * 256,))
        self.assertRaises(ValueError, TXT, [b"x"])

    def test_badQuotes(self) -> None:
        for token in ['"', '"abc', '"abc\\"']:
            self.assertRaises(TextError, parseRdata, RRType.TXT, [token], ORIGIN)

    def test_wireErrors(self) -> None:
        """
        No string at all, or a string longer than what is left.
        """
        self.assertRaises(WireError, decode, RRType.TXT, b"")
        self.assertRaises(WireError, decode, RRType.TXT, b"\x05abc")


class SRVTests(SynchronousTestCase):
    def test_srv(self) -> None:
        rdata = parse(RRType.SRV, "0 5 5060 sipserver.example.com.")
        self.assertEqual(rdata, SRV(0, 5, 5060, n("sipserver.example.com.")))
        self.assertEqual(rdata.toText(), "0 5 5060 sipserver.example.com.")
        self.assertEqual(decode(RRType.SRV, wire(rdata)), rdata)

    def test_targetNotCompressed(self) -> None:
        """
        RFC 2782: the target is never compressed.
        """
        target = n("sip.umass.edu.")
        writer = WireWriter()
        writer.writeName(target)
        SRV(1, 2, 3, target).encode(writer)
        self.assertEqual(
            bytes(writer.buf), target.wire + b"\x00\x01\x00\x02\x00\x03" + target.wire
        )

    def test_compressedTargetAccepted(self) -> None:
        """
        RFC 3597 section 4: decoders SHOULD decompress SRV targets, which
        RFC 2052 servers compressed.
        """
        data = ORIGIN.wire + b"\x00\x01\x00\x02\x00\x03\x03sip\xc0\x00"
        reader = WireReader(data, len(ORIGIN.wire))
        self.assertEqual(decodeRdata(RRType.SRV, reader, 12), SRV(1, 2, 3, n("sip.umass.edu.")))

    def test_errors(self) -> None:
        for text in ["1 2 65536 a.", "1 2 3", "1 2 3 a. b."]:
            self.assertRaises(TextError, parse, RRType.SRV, text)


class GenericTests(SynchronousTestCase):
    """
    RFC 3597: unknown types carried opaquely, the generic text form.
    """

    def test_unknown(self) -> None:
        rdata = parse(65280, "\\# 4 0A000001")
        self.assertEqual(rdata, UnknownRdata(65280, b"\x0a\x00\x00\x01"))
        self.assertEqual(rdata.toText(), "\\# 4 0A000001")
        self.assertEqual(wire(rdata), b"\x0a\x00\x00\x01")
        self.assertEqual(decode(65280, b"\x0a\x00\x00\x01"), rdata)

    def test_hexInPieces(self) -> None:
        self.assertEqual(parse(65280, "\\# 4 0a 00 0001"), UnknownRdata(65280, b"\n\x00\x00\x01"))

    def test_empty(self) -> None:
        rdata = parse(65280, "\\# 0")
        self.assertEqual(rdata, UnknownRdata(65280, b""))
        self.assertEqual(rdata.toText(), "\\# 0")

    def test_knownTypeInGenericForm(self) -> None:
        """
        RFC 3597 section 5: a known type in the generic form is that type.
        """
        self.assertEqual(parse(RRType.A, "\\# 4 0A000001"), A("10.0.0.1"))
        mx = MX(10, n("mail.umass.edu."))
        self.assertEqual(parse(RRType.MX, mx.toGenericText()), mx)
        self.assertEqual(A("10.0.0.1").toGenericText(), "\\# 4 0A000001")

    def test_knownTypeGenericErrors(self) -> None:
        """
        The data must be valid for the type, and its names uncompressed.
        """
        self.assertRaises(TextError, parse, RRType.A, "\\# 3 0A0000")
        self.assertRaises(TextError, parse, RRType.MX, "\\# 4 000AC000")
        self.assertRaises(TextError, parse, RRType.MX, "\\# 4 000A0000")

    def test_genericErrors(self) -> None:
        for text in ["\\#", "\\# 3 0A0000FF", "\\# 2 0A0", "\\# 1 zz", "\\# x 00", "\\# 1 é0"]:
            self.assertRaises(TextError, parse, 65280, text)

    def test_unknownNeedsGeneric(self) -> None:
        self.assertRaises(TextError, parse, 65280, "10.0.0.1")
        self.assertRaises(TextError, parse, RRType.CAA, '0 issue "ca.example"')

    def test_opt(self) -> None:
        """
        OPT is no record data (RFC 6891 section 6.1.1): L{Message.edns}.
        """
        self.assertRaises(TextError, parse, RRType.OPT, "\\# 0")
        self.assertRaises(ValueError, UnknownRdata, RRType.OPT, b"")
        self.assertRaises(WireError, decode, RRType.OPT, b"")

    def test_unknownFromTextNeedsType(self) -> None:
        self.assertRaises(TextError, UnknownRdata.fromText, ["\\#", "0"])

    def test_updateDeletions(self) -> None:
        """
        RFC 2136 section 2.5.2: with class ANY or NONE, empty data of a known
        type is allowed.
        """
        self.assertEqual(decode(RRType.A, b"", RRClass.ANY), UnknownRdata(RRType.A, b""))
        self.assertEqual(decode(RRType.MX, b"", RRClass.NONE), UnknownRdata(RRType.MX, b""))
        self.assertRaises(WireError, decode, RRType.A, b"", RRClass.IN)

    def test_classFor(self) -> None:
        self.assertIs(rdataClassFor(RRType.MX), MX)
        self.assertIs(rdataClassFor(65280), UnknownRdata)

    def test_pastEnd(self) -> None:
        reader = WireReader(b"\x01\x02")
        self.assertRaises(WireError, decodeRdata, 65280, reader, 3)


class PropertyTests(SynchronousTestCase):
    """
    Every record data reads back from its wire and text forms.
    """

    @given(rdatas)
    @settings(max_examples=400)
    def test_textRoundTrip(self, rdata: Rdata) -> None:
        self.assertEqual(parseRdata(rdata.rtype, tokenize(rdata.toText()), ROOT), rdata)

    @given(rdatas, names)
    @settings(max_examples=200)
    def test_relativeTextRoundTrip(self, rdata: Rdata, origin: Name) -> None:
        """
        Absolute names in the text ignore the origin.
        """
        self.assertEqual(parseRdata(rdata.rtype, tokenize(rdata.toText()), origin), rdata)

    @given(rdatas)
    @settings(max_examples=300)
    def test_genericTextRoundTrip(self, rdata: Rdata) -> None:
        self.assertEqual(parseRdata(rdata.rtype, tokenize(rdata.toGenericText()), ROOT), rdata)

    @given(st.lists(names, max_size=3), rdatas)
    @settings(max_examples=400)
    def test_wireRoundTrip(self, before: list[Name], rdata: Rdata) -> None:
        """
        Record data written after some names (so compression has something
        to point to) decodes to the same data.
        """
        writer = WireWriter()
        for name in before:
            writer.writeName(name)
        start = len(writer.buf)
        rdata.encode(writer)
        reader = WireReader(bytes(writer.buf), start)
        self.assertEqual(decodeRdata(rdata.rtype, reader, len(writer.buf) - start), rdata)
        self.assertEqual(reader.pos, len(writer.buf))

    @given(st.sampled_from(KNOWN_TYPES), st.binary(max_size=80), st.integers(0, 80))
    @settings(max_examples=500)
    def test_randomDataOnlyWireError(self, rtype: int, data: bytes, length: int) -> None:
        """
        Random data of a known type decodes or raises L{WireError}, itself
        and not from some other exception.
        """
        reader = WireReader(data)
        try:
            decodeRdata(rtype, reader, length)
        except WireError as e:
            self.assertIsNone(e.__cause__)


_tokenText = st.text(alphabet=st.sampled_from('0123456789abcdefxyzABZ.\\"@#;:()- \t\u00e9\ud800'))


class TextFuzzTests(SynchronousTestCase):
    """
    Any text at all gives record data or a L{TextError}, nothing else: the
    zone-file parser relies on it.
    """

    @given(
        st.sampled_from([*KNOWN_TYPES, 65280, RRType.OPT]),
        st.lists(st.one_of(_tokenText, st.text(max_size=20)), max_size=8),
    )
    @settings(max_examples=500)
    def test_tokens(self, rtype: int, tokens: list[str]) -> None:
        try:
            parseRdata(rtype, tokens, ORIGIN)
        except TextError:
            pass

    @given(st.sampled_from([*KNOWN_TYPES, 65280]), st.lists(_tokenText, max_size=8))
    @settings(max_examples=300)
    def test_generic(self, rtype: int, tokens: list[str]) -> None:
        try:
            parseRdata(rtype, ["\\#", *tokens], ORIGIN)
        except TextError:
            pass

    @given(st.one_of(_tokenText, st.text()))
    @settings(max_examples=500)
    def test_tokenizeAndTypes(self, text: str) -> None:
        for function in (tokenize, typeFromText, classFromText, ttlFromText):
            try:
                function(text)
            except TextError:
                pass
