"""
Tests for L{netref.dns.wire}: whole DNS messages, sans-IO.
"""

from __future__ import annotations

import struct
from dataclasses import replace
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.trial.unittest import SynchronousTestCase

from netref.dns.name import Name, WireReader
from netref.dns.rdata import (
    AAAA,
    MX,
    NS,
    SOA,
    TXT,
    A,
    RRClass,
    RRType,
    UnknownRdata,
    decodeRdata,
)
from netref.dns.wire import (
    EDNS,
    HEADER_SIZE,
    Message,
    MessageDeframer,
    Opcode,
    Question,
    Rcode,
    ResourceRecord,
    WireError,
    decodeMessage,
    encodeMessage,
    errorResponse,
    frameMessage,
    makeResponse,
    peekHeader,
)
from tests.dns_strategies import ednsWith, knownRdatas, messages, records, u16

dnspython: Any
try:
    import dns.flags
    import dns.message
    import dns.name
    import dns.rrset
except ImportError:
    dnspython = None
else:
    dnspython = dns

SKIP_DNSPYTHON = "dnspython is not installed" if dnspython is None else None


def n(text: str) -> Name:
    return Name.fromText(text)


GAIA = n("gaia.cs.umass.edu.")
UMASS = n("umass.edu.")
DNS_UMASS = n("dns.umass.edu.")


def query(name: Name = GAIA, rtype: int = RRType.A, **kwargs: object) -> Message:
    return Message(id=0x1234, rd=True, questions=(Question(name, rtype),), **kwargs)  # type: ignore[arg-type]


def rr(
    name: Name, rdata: A | AAAA | NS | MX | SOA | TXT | UnknownRdata, ttl: int = 3600
) -> ResourceRecord:
    return ResourceRecord(name, rdata.rtype, RRClass.IN, ttl, rdata)


def answer(edns: EDNS | None = None) -> Message:
    """
    The textbook's answer for gaia.cs.umass.edu, with the authority and
    glue of dns.umass.edu.
    """
    return makeResponse(
        query(edns=edns),
        aa=True,
        answers=(rr(GAIA, A("128.119.245.12")),),
        authority=(rr(UMASS, NS(DNS_UMASS)),),
        additional=(rr(DNS_UMASS, A("128.119.40.186")),),
    )


def header(
    ident: int = 0x1234, flags: int = 0, qd: int = 0, an: int = 0, ns: int = 0, ar: int = 0
) -> bytes:
    return struct.pack("!6H", ident, flags, qd, an, ns, ar)


QUESTION = GAIA.wire + b"\x00\x01\x00\x01"


class HeaderTests(SynchronousTestCase):
    """
    The header of RFC 1035 section 4.1.1 (AD and CD: RFC 4035 section 3.2).
    """

    def test_flags(self) -> None:
        bits = {
            "qr": 0x8000,
            "aa": 0x0400,
            "tc": 0x0200,
            "rd": 0x0100,
            "ra": 0x0080,
            "ad": 0x0020,
            "cd": 0x0010,
        }
        for flag, bit in bits.items():
            message = Message(id=7, **{flag: True})  # type: ignore[arg-type]
            self.assertEqual(encodeMessage(message), header(7, bit))
            self.assertEqual(decodeMessage(header(7, bit)), message)

    def test_opcodeAndRcode(self) -> None:
        message = Message(id=1, opcode=Opcode.UPDATE, rcode=Rcode.NOTAUTH)
        self.assertEqual(encodeMessage(message), header(1, 5 << 11 | 9))
        self.assertEqual(decodeMessage(header(1, 5 << 11 | 9)), message)

    def test_zBitIgnored(self) -> None:
        self.assertEqual(decodeMessage(header(1, 0x0040)), Message(id=1))

    def test_shortHeader(self) -> None:
        for length in range(HEADER_SIZE):
            self.assertRaises(WireError, decodeMessage, header()[:length])

    def test_peekHeader(self) -> None:
        self.assertEqual(peekHeader(header(0xBEEF, 0x0100, 9, 9) + b"garbage"), (0xBEEF, 0x0100))
        self.assertIsNone(peekHeader(b"\x00" * 11))

    def test_bytearrayAndMemoryview(self) -> None:
        data = encodeMessage(answer())
        self.assertEqual(decodeMessage(bytearray(data)), answer())
        self.assertEqual(decodeMessage(memoryview(data)), answer())


class QueryTests(SynchronousTestCase):
    """
    The textbook's query, byte for byte.
    """

    def test_gaiaQuery(self) -> None:
        data = encodeMessage(query())
        self.assertEqual(data, header(0x1234, 0x0100, 1) + QUESTION)
        self.assertEqual(decodeMessage(data), query())

    def test_gaiaQueryAsDnspython(self) -> None:
        """
        The same bytes as dnspython's C{make_query}, with and without EDNS.
        """
        made = dnspython.message.make_query("gaia.cs.umass.edu.", "A", id=0x1234, use_edns=False)
        self.assertEqual(encodeMessage(query()), made.to_wire())
        made = dnspython.message.make_query(
            "gaia.cs.umass.edu.", "A", id=0x1234, use_edns=0, payload=1232, want_dnssec=True
        )
        self.assertEqual(
            encodeMessage(query(edns=EDNS(payloadSize=1232, dnssecOK=True))), made.to_wire()
        )
        self.assertEqual(
            decodeMessage(made.to_wire()), query(edns=EDNS(payloadSize=1232, dnssecOK=True))
        )

    test_gaiaQueryAsDnspython.skip = SKIP_DNSPYTHON  # type: ignore[attr-defined]

    def test_countsBeyondData(self) -> None:
        self.assertRaises(WireError, decodeMessage, header(qd=1))
        self.assertRaises(WireError, decodeMessage, header(qd=2) + QUESTION)
        self.assertRaises(WireError, decodeMessage, header(qd=0xFFFF) + QUESTION * 3)
        self.assertRaises(WireError, decodeMessage, header(qd=1) + QUESTION[:-1])
        self.assertRaises(WireError, decodeMessage, header(qd=1, an=1) + QUESTION)

    def test_trailingBytes(self) -> None:
        """
        Octets after the last record are malformed: a message is exactly a
        datagram or a TCP frame.
        """
        self.assertRaises(WireError, decodeMessage, header(qd=1) + QUESTION + b"\x00")
        self.assertRaises(WireError, decodeMessage, header() + b"x")


class CompressionTests(SynchronousTestCase):
    """
    Name compression in whole messages (RFC 1035 section 4.1.4).
    """

    def test_answerBytes(self) -> None:
        """
        Every name after the question points back into it or into an
        earlier record.
        """
        data = encodeMessage(answer())
        expected = (
            header(0x1234, 0x8500, 1, 1, 1, 1)
            + QUESTION
            # gaia.cs.umass.edu: the question's name, at 12.
            + b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x0e\x10\x00\x04\x80\x77\xf5\x0c"
            # umass.edu: inside the question's name, at 20.
            + b"\xc0\x14\x00\x02\x00\x01\x00\x00\x0e\x10\x00\x06"
            # dns.umass.edu in the NS data, at 63: "dns" then a pointer.
            + b"\x03dns\xc0\x14"
            + b"\xc0\x3f\x00\x01\x00\x01\x00\x00\x0e\x10\x00\x04\x80\x77\x28\xba"
        )
        self.assertEqual(data, expected)
        self.assertEqual(decodeMessage(data), answer())

    def test_unknownDataNotDecompressed(self) -> None:
        """
        The data of an unknown type is opaque (RFC 3597 section 4): octets
        that look like a pointer stay as they are.
        """
        message = Message(id=1, answers=(rr(GAIA, UnknownRdata(65280, b"\xc0\x0c")),))
        self.assertEqual(decodeMessage(encodeMessage(message)), message)

    def test_caseKept(self) -> None:
        """
        The question's case comes back as sent (a resolver may check it: the
        "0x20" trick), and answers may point into it.
        """
        mixed = n("GaIa.cS.UMass.eDu.")
        data = encodeMessage(makeResponse(query(mixed), answers=(rr(GAIA, A("10.0.0.1")),)))
        decoded = decodeMessage(data)
        self.assertEqual(decoded.questions[0].name.toText(), "GaIa.cS.UMass.eDu.")
        self.assertEqual(decoded.answers[0].name, GAIA)

    def test_pointerLoopInMessage(self) -> None:
        data = header(qd=1) + b"\xc0\x0c\x00\x01\x00\x01"
        self.assertRaises(WireError, decodeMessage, data)

    def test_forwardPointerInMessage(self) -> None:
        data = header(qd=1) + b"\xc0\x12\x00\x01\x00\x01" + b"\x00"
        self.assertRaises(WireError, decodeMessage, data)

    def test_reservedLabelInMessage(self) -> None:
        for first in (b"\x40", b"\x80"):
            data = header(qd=1) + first + b"\x00\x00\x01\x00\x01"
            self.assertRaises(WireError, decodeMessage, data)


class RecordTests(SynchronousTestCase):
    def test_rdlengthOverrun(self) -> None:
        record = UMASS.wire + struct.pack("!HHIH", 1, 1, 60, 5) + b"\x01\x02\x03\x04"
        self.assertRaises(WireError, decodeMessage, header(an=1) + record)

    def test_rdlengthMismatch(self) -> None:
        record = UMASS.wire + struct.pack("!HHIH", 1, 1, 60, 5) + b"\x01\x02\x03\x04\x05"
        self.assertRaises(WireError, decodeMessage, header(an=1) + record)

    def test_ttlHighBit(self) -> None:
        """
        RFC 2181 section 8: a TTL with the top bit set is read as zero.
        """
        record = UMASS.wire + struct.pack("!HHIH", 1, 1, 0x80000001, 4) + b"\x01\x02\x03\x04"
        decoded = decodeMessage(header(an=1) + record)
        self.assertEqual(decoded.answers[0].ttl, 0)

    def test_recordChecks(self) -> None:
        self.assertRaises(ValueError, ResourceRecord, UMASS, RRType.NS, 1, 60, A("1.2.3.4"))
        self.assertRaises(ValueError, ResourceRecord, UMASS, RRType.A, 1, 2**31, A("1.2.3.4"))
        self.assertRaises(ValueError, ResourceRecord, UMASS, RRType.A, 1, -1, A("1.2.3.4"))

    def test_toText(self) -> None:
        self.assertEqual(
            rr(GAIA, A("128.119.245.12")).toText(),
            "gaia.cs.umass.edu.\t3600\tIN\tA\t128.119.245.12",
        )
        self.assertEqual(
            ResourceRecord(GAIA, 65280, 3, 0, UnknownRdata(65280, b"")).toText(),
            "gaia.cs.umass.edu.\t0\tCH\tTYPE65280\t\\# 0",
        )
        self.assertEqual(Question(GAIA, RRType.MX).toText(), ";gaia.cs.umass.edu.\t\tIN\tMX")

    def test_encodeRangeErrors(self) -> None:
        self.assertRaises(ValueError, encodeMessage, Message(id=0x10000))
        self.assertRaises(ValueError, encodeMessage, Message(id=1, opcode=16))
        self.assertRaises(
            ValueError, encodeMessage, Message(id=1, questions=(Question(GAIA, 0x10000),))
        )
        tooLong = TXT((b"x" * 255,) * 300)
        self.assertRaises(ValueError, encodeMessage, Message(id=1, answers=(rr(GAIA, tooLong),)))

    def test_longestMessage(self) -> None:
        """
        A message never exceeds 65535 octets, TCP's limit (RFC 1035 section
        4.2.2): a longer one is truncated.
        """
        big = UnknownRdata(65280, b"x" * 0xFF00)
        message = Message(id=1, answers=(rr(GAIA, big), rr(UMASS, big)))
        decoded = decodeMessage(encodeMessage(message))
        self.assertTrue(decoded.tc)
        self.assertEqual(decoded.answers, message.answers[:1])
        self.assertEqual(encodeMessage(message, 100000), encodeMessage(message))


class EDNSTests(SynchronousTestCase):
    """
    The OPT pseudo-record (RFC 6891 section 6).
    """

    def test_encode(self) -> None:
        message = Message(
            id=1, edns=EDNS(payloadSize=4096, dnssecOK=True, options=((10, b"12345678"),))
        )
        data = encodeMessage(message)
        self.assertEqual(
            data,
            header(1, 0, 0, 0, 0, 1)
            + b"\x00\x00\x29\x10\x00\x00\x00\x80\x00\x00\x0c"
            + b"\x00\x0a\x00\x0812345678",
        )
        self.assertEqual(decodeMessage(data), message)

    def test_extendedRcode(self) -> None:
        """
        BADVERS (16): the low 4 bits in the header, the rest in the OPT
        record's TTL (RFC 6891 section 6.1.3).
        """
        message = Message(id=1, qr=True, rcode=Rcode.BADVERS, edns=EDNS())
        data = encodeMessage(message)
        self.assertEqual(data[3] & 0xF, 0)
        self.assertEqual(data[-6:-2], b"\x01\x00\x00\x00")
        self.assertEqual(decodeMessage(data), message)
        self.assertEqual(decodeMessage(data).rcode, 16)

    def test_extendedRcodeNeedsEDNS(self) -> None:
        self.assertRaises(ValueError, encodeMessage, Message(id=1, rcode=16))
        self.assertRaises(ValueError, encodeMessage, Message(id=1, rcode=4096, edns=EDNS()))
        self.assertRaises(ValueError, encodeMessage, Message(id=1, rcode=-1))

    def test_versionAndPayloadKept(self) -> None:
        message = Message(id=1, edns=EDNS(payloadSize=100, version=1))
        self.assertEqual(decodeMessage(encodeMessage(message)), message)
        self.assertRaises(ValueError, encodeMessage, Message(id=1, edns=EDNS(version=256)))
        self.assertRaises(ValueError, encodeMessage, Message(id=1, edns=EDNS(payloadSize=65536)))

    def test_otherFlagsIgnored(self) -> None:
        opt = b"\x00\x00\x29\x04\xd0\x00\x00\x7f\xff\x00\x00"
        decoded = decodeMessage(header(ar=1) + opt)
        self.assertEqual(decoded.edns, EDNS(dnssecOK=False))

    def opt(self, owner: bytes = b"\x00", rdata: bytes = b"") -> bytes:
        return owner + struct.pack("!HHIH", 41, 1232, 0, len(rdata)) + rdata

    def test_twoOpts(self) -> None:
        self.assertRaises(WireError, decodeMessage, header(ar=2) + self.opt() + self.opt())

    def test_optOutsideAdditional(self) -> None:
        self.assertRaises(WireError, decodeMessage, header(an=1) + self.opt())
        self.assertRaises(WireError, decodeMessage, header(ns=1) + self.opt())

    def test_optOwnerNotRoot(self) -> None:
        self.assertRaises(WireError, decodeMessage, header(ar=1) + self.opt(UMASS.wire))

    def test_optionOverrun(self) -> None:
        for rdata in [b"\x00", b"\x00\x0a\x00", b"\x00\x0a\x00\x05abcd"]:
            self.assertRaises(WireError, decodeMessage, header(ar=1) + self.opt(rdata=rdata))

    def test_optAmongAdditional(self) -> None:
        """
        The OPT record may be anywhere in the additional section; it is
        written last.
        """
        glue = UMASS.wire + struct.pack("!HHIH", 1, 1, 60, 4) + b"\x01\x02\x03\x04"
        decoded = decodeMessage(header(ar=2) + self.opt() + glue)
        self.assertEqual(decoded.edns, EDNS(payloadSize=1232))
        self.assertEqual(decoded.additional, (rr(UMASS, A("1.2.3.4"), 60),))
        self.assertTrue(encodeMessage(decoded).endswith(self.opt()))


class TruncationTests(SynchronousTestCase):
    """
    C{encodeMessage(message, maxSize)} drops whole RRsets from the end (RFC
    2181 section 9, RFC 1035 section 4.2.1).
    """

    def bigAnswer(self, edns: EDNS | None = None) -> Message:
        """
        An answer of 20 A records for one name (one RRset), then 2 TXT, 1 NS
        of authority and 5 glue records for 5 names.
        """
        answers = tuple(rr(GAIA, A(f"10.0.0.{index}")) for index in range(20))
        answers += (rr(GAIA, TXT((b"x" * 100,))), rr(GAIA, TXT((b"y" * 100,))))
        glue = tuple(rr(n(f"ns{index}.umass.edu."), A(f"10.1.0.{index}")) for index in range(5))
        return makeResponse(
            query(edns=edns),
            answers=answers,
            authority=(rr(UMASS, NS(DNS_UMASS)),),
            additional=glue,
        )

    def test_fits(self) -> None:
        message = self.bigAnswer()
        full = encodeMessage(message)
        self.assertEqual(encodeMessage(message, len(full)), full)

    def test_additionalDroppedWithoutTC(self) -> None:
        """
        Glue that does not fit is left out, TC clear (RFC 2181 section 9).
        """
        message = self.bigAnswer()
        full = encodeMessage(message)
        data = encodeMessage(message, len(full) - 1)
        self.assertLessEqual(len(data), len(full) - 1)
        decoded = decodeMessage(data)
        self.assertFalse(decoded.tc)
        self.assertEqual(decoded.answers, message.answers)
        self.assertEqual(decoded.authority, message.authority)
        self.assertEqual(decoded.additional, message.additional[:4])

    def test_answerRRsetDroppedWhole(self) -> None:
        """
        When the second TXT record does not fit, the whole TXT RRset goes,
        and TC is set.
        """
        message = self.bigAnswer()
        withoutTXT = replace(message, answers=message.answers[:20], authority=(), additional=())
        limit = len(encodeMessage(withoutTXT)) + 150
        decoded = decodeMessage(encodeMessage(message, limit))
        self.assertTrue(decoded.tc)
        self.assertEqual(decoded.answers, message.answers[:20])
        self.assertEqual((decoded.authority, decoded.additional), ((), ()))

    def test_authorityDroppedSetsTC(self) -> None:
        message = self.bigAnswer()
        withoutNS = replace(message, authority=(), additional=())
        decoded = decodeMessage(encodeMessage(message, len(encodeMessage(withoutNS)) + 5))
        self.assertTrue(decoded.tc)
        self.assertEqual(decoded.answers, message.answers)
        self.assertEqual(decoded.authority, ())

    def test_nothingFits(self) -> None:
        message = self.bigAnswer()
        data = encodeMessage(message, 512 - 400)
        decoded = decodeMessage(data)
        self.assertTrue(decoded.tc)
        self.assertEqual(decoded.questions, message.questions)
        self.assertEqual(decoded.answers, ())

    def test_optKept(self) -> None:
        """
        A truncated response still carries its OPT record (RFC 6891 section
        7), with the extended RCODE.
        """
        message = replace(self.bigAnswer(EDNS(payloadSize=512)), rcode=Rcode.BADCOOKIE)
        data = encodeMessage(message, 512)
        self.assertLessEqual(len(data), 512)
        decoded = decodeMessage(data)
        self.assertTrue(decoded.tc)
        self.assertEqual(decoded.edns, EDNS())
        self.assertEqual(decoded.rcode, Rcode.BADCOOKIE)

    def test_questionTooBig(self) -> None:
        self.assertRaises(ValueError, encodeMessage, query(), 20)
        self.assertRaises(
            ValueError, encodeMessage, query(edns=EDNS()), len(encodeMessage(query()))
        )

    def test_tcAlreadySet(self) -> None:
        message = replace(self.bigAnswer(), tc=True)
        full = encodeMessage(message)
        self.assertTrue(decodeMessage(encodeMessage(message, len(full) - 1)).tc)

    @given(messages(maxRecords=6), st.integers(0, 1500))
    @settings(max_examples=200)
    def test_truncationProperty(self, message: Message, extra: int) -> None:
        """
        For any message and any size that can hold its question and OPT
        record: the result fits, each section is a prefix of the original cut
        at an RRset boundary, and TC says whether answer or authority lost
        anything.
        """
        bare = replace(message, answers=(), authority=(), additional=())
        maxSize = len(encodeMessage(bare)) + extra
        data = encodeMessage(message, maxSize)
        self.assertLessEqual(len(data), maxSize)
        decoded = decodeMessage(data)
        self.assertEqual(decoded.questions, message.questions)
        self.assertEqual(decoded.edns, message.edns)
        self.assertEqual(decoded.rcode, message.rcode)
        kept = decoded.answers + decoded.authority + decoded.additional
        everything = message.answers + message.authority + message.additional
        self.assertEqual(kept, everything[: len(kept)])
        for section, original in [
            (decoded.answers, message.answers),
            (decoded.authority, message.authority),
            (decoded.additional, message.additional),
        ]:
            self.assertEqual(section, original[: len(section)])
            if 0 < len(section) < len(original):
                last, following = original[len(section) - 1], original[len(section)]
                self.assertNotEqual(
                    (last.name, last.rtype, last.rclass),
                    (following.name, following.rtype, following.rclass),
                )
        lost = len(decoded.answers) < len(message.answers) or len(decoded.authority) < len(
            message.authority
        )
        self.assertEqual(decoded.tc, message.tc or lost)


class ResponseTests(SynchronousTestCase):
    def test_makeResponse(self) -> None:
        """
        RFC 1035 section 4.1.1: ID, opcode, RD and question copied; CD too
        (RFC 4035 section 3.1.6).
        """
        question = replace(query(), cd=True, opcode=Opcode.NOTIFY)
        response = makeResponse(question, Rcode.NXDOMAIN, aa=True)
        self.assertEqual(
            response,
            Message(
                id=0x1234,
                qr=True,
                opcode=Opcode.NOTIFY,
                aa=True,
                rd=True,
                cd=True,
                rcode=Rcode.NXDOMAIN,
                questions=question.questions,
            ),
        )

    def test_ednsMirrored(self) -> None:
        """
        RFC 6891 section 7: an OPT record in the response exactly when the
        query had one.
        """
        self.assertIsNone(makeResponse(query(), edns=EDNS(4096)).edns)
        self.assertEqual(makeResponse(query(edns=EDNS(4096))).edns, EDNS())
        self.assertEqual(makeResponse(query(edns=EDNS()), edns=EDNS(4096)).edns, EDNS(4096))

    def test_doBitCopied(self) -> None:
        """
        RFC 3225 section 3: the DO bit of the query is copied.
        """
        withDO = query(edns=EDNS(dnssecOK=True))
        self.assertEqual(makeResponse(withDO).edns, EDNS(dnssecOK=True))
        self.assertEqual(makeResponse(withDO, edns=EDNS(4096)).edns, EDNS(4096, dnssecOK=True))
        self.assertEqual(makeResponse(query(edns=EDNS()), edns=EDNS(dnssecOK=True)).edns, EDNS())

    def test_errorResponse(self) -> None:
        garbage = header(0xBEEF, 0x0100 | 4 << 11, 1) + b"\xc0\x0c"
        self.assertRaises(WireError, decodeMessage, garbage)
        response = errorResponse(garbage)
        assert response is not None
        self.assertEqual(
            decodeMessage(response),
            Message(id=0xBEEF, qr=True, opcode=Opcode.NOTIFY, rd=True, rcode=Rcode.FORMERR),
        )

    def test_errorResponseRefusals(self) -> None:
        self.assertIsNone(errorResponse(b"\x12\x34"))
        self.assertIsNone(errorResponse(header(1, 0x8000)))
        self.assertRaises(ValueError, errorResponse, header(), Rcode.BADVERS)

    def test_text(self) -> None:
        text = answer(EDNS(dnssecOK=True)).toText()
        self.assertIn("flags: do;", text)
        self.assertIn(";; ->>HEADER<<- opcode: QUERY, status: NOERROR, id: 4660", text)
        self.assertIn(";; flags: qr aa rd; QUERY: 1, ANSWER: 1, AUTHORITY: 1, ADDITIONAL: 2", text)
        self.assertIn("; EDNS: version: 0, flags: do; udp: 1232", text)
        self.assertIn("umass.edu.\t3600\tIN\tNS\tdns.umass.edu.", text)
        self.assertEqual(
            answer().summary(),
            "id 4660 QUERY NOERROR qr aa rd gaia.cs.umass.edu. IN A"
            " answer 1 authority 1 additional 1",
        )
        self.assertEqual(query().summary(), "id 4660 QUERY rd gaia.cs.umass.edu. IN A")


def mutate(data: bytes, mutations: list[tuple[int, int, int]]) -> bytes:
    """
    Apply mutations: (kind, position, octet), kind 0 replaces an octet, 1
    inserts one, 2 deletes one, 3 truncates.
    """
    buf = bytearray(data)
    for kind, position, octet in mutations:
        if not buf:
            break
        index = position % len(buf)
        if kind == 0:
            buf[index] = octet
        elif kind == 1:
            buf.insert(index, octet)
        elif kind == 2:
            del buf[index]
        else:
            del buf[index:]
    return bytes(buf)


_mutations = st.lists(
    st.tuples(st.integers(0, 3), st.integers(0, 2**16), st.integers(0, 255)),
    min_size=1,
    max_size=4,
)


class PropertyTests(SynchronousTestCase):
    """
    Round trips, and nothing but L{WireError} from any input.
    """

    def assertOnlyWireError(self, data: bytes) -> Message | None:
        """
        Decode C{data}: a message, or a L{WireError} raised by the decoder
        itself, not converted from another exception by its safety net.
        Whatever decodes must encode again, to the same message.
        """
        try:
            message = decodeMessage(data)
        except WireError as e:
            self.assertIsNone(e.__cause__, f"{e!r} converted from {e.__cause__!r}")
            return None
        self.assertEqual(decodeMessage(encodeMessage(message)), message)
        return message

    @given(messages())
    @settings(max_examples=300)
    def test_roundTrip(self, message: Message) -> None:
        """
        Messages decode to what was encoded; the first question's name keeps
        its case octet for octet (later names may point into earlier ones
        in another case, which RFC 4343 section 4.1 allows).
        """
        decoded = decodeMessage(encodeMessage(message))
        self.assertEqual(decoded, message)
        if message.questions:
            self.assertEqual(decoded.questions[0].name.wire, message.questions[0].name.wire)

    @given(st.binary(max_size=600))
    @settings(max_examples=500)
    def test_randomBytes(self, data: bytes) -> None:
        self.assertOnlyWireError(data)

    @given(
        st.integers(0, 3),
        st.integers(0, 3),
        st.integers(0, 3),
        st.integers(0, 3),
        st.binary(max_size=400),
    )
    @settings(max_examples=500)
    def test_randomBodies(self, qd: int, an: int, ns: int, ar: int, body: bytes) -> None:
        """
        Random data after a header with small counts, so that the decoder
        gets further into it.
        """
        self.assertOnlyWireError(header(1, 0, qd, an, ns, ar) + body)

    @given(messages(), _mutations)
    @settings(max_examples=300)
    def test_mutatedMessages(
        self, message: Message, mutations: list[tuple[int, int, int]]
    ) -> None:
        self.assertOnlyWireError(mutate(encodeMessage(message), mutations))

    @given(st.lists(records(), min_size=1, max_size=6), _mutations)
    @settings(max_examples=300)
    def test_mutatedRecordsAfterHeader(
        self, answers: list[ResourceRecord], mutations: list[tuple[int, int, int]]
    ) -> None:
        """
        Mutations that spare the header hit the records.
        """
        data = encodeMessage(Message(id=1, answers=tuple(answers)))
        mutated = data[:HEADER_SIZE] + mutate(data[HEADER_SIZE:], mutations)
        self.assertOnlyWireError(mutated)


#: EDNS option codes dnspython 2.9 parses itself: NSID, ECS, COOKIE, EDE,
#: Report-Channel, and the EDE extra-text language and filtering options.
DNSPYTHON_PARSED_OPTIONS = frozenset({3, 8, 10, 15, 18, 22, 23, 24, 25})


class DnspythonInteropTests(SynchronousTestCase):
    """
    dnspython reads what we write, and we read what it writes.
    """

    skip = SKIP_DNSPYTHON

    def test_theyReadOurs(self) -> None:
        response = dnspython.message.from_wire(encodeMessage(answer(EDNS(dnssecOK=True))))
        self.assertEqual(response.id, 0x1234)
        self.assertTrue(response.flags & dnspython.flags.AA)
        self.assertEqual(response.edns, 0)
        self.assertTrue(response.ednsflags & dnspython.flags.DO)
        self.assertEqual(
            [rrset.to_text() for rrset in response.answer],
            ["gaia.cs.umass.edu. 3600 IN A 128.119.245.12"],
        )
        self.assertEqual(
            [rrset.to_text() for rrset in response.additional],
            ["dns.umass.edu. 3600 IN A 128.119.40.186"],
        )

    def test_weReadTheirs(self) -> None:
        made = dnspython.message.make_response(
            dnspython.message.make_query("umass.edu.", "MX", id=77, use_edns=0, payload=1400)
        )
        made.answer.append(
            dnspython.rrset.from_text(
                "umass.edu.", 300, "IN", "MX", "10 mail.umass.edu.", "20 mx2.umass.edu."
            )
        )
        made.answer.append(dnspython.rrset.from_text("umass.edu.", 300, "IN", "TXT", '"a b" "c"'))
        made.additional.append(
            dnspython.rrset.from_text("mail.umass.edu.", 300, "IN", "AAAA", "2001:db8::25")
        )
        decoded = decodeMessage(made.to_wire())
        self.assertEqual(decoded.id, 77)
        # dnspython writes the records of an RRset in no particular order.
        self.assertEqual(
            set(decoded.answers[:2]),
            {
                rr(UMASS, MX(10, n("mail.umass.edu.")), 300),
                rr(UMASS, MX(20, n("mx2.umass.edu.")), 300),
            },
        )
        self.assertEqual(decoded.answers[2:], (rr(UMASS, TXT((b"a b", b"c")), 300),))
        self.assertEqual(
            decoded.additional, (rr(n("mail.umass.edu."), AAAA("2001:db8::25"), 300),)
        )
        self.assertIsNotNone(decoded.edns)

    @given(
        messages(
            record=records(knownRdatas, st.just(int(RRClass.IN))),
            opcode=st.just(int(Opcode.QUERY)),
            extendedRcodes=False,
            edns=ednsWith(u16.filter(lambda code: code not in DNSPYTHON_PARSED_OPTIONS)),
        )
    )
    @settings(max_examples=200)
    def test_sameRecordsAsDnspython(self, message: Message) -> None:
        """
        dnspython sees the same header, names and record data in messages
        of the types we know.

        EDNS options are opaque to netref (RFC 6891 section 6.1.2), but
        dnspython parses some itself and refuses data that is not theirs
        (text that is not UTF-8 in EDE's extra-text language option, say):
        those option codes are left out here.
        """
        theirs = dnspython.message.from_wire(encodeMessage(message), one_rr_per_rrset=True)
        self.assertEqual(theirs.id, message.id)
        self.assertEqual(theirs.rcode(), message.rcode)
        for ourSection, theirSection in [
            (message.answers, theirs.answer),
            (message.authority, theirs.authority),
            (message.additional, theirs.additional),
        ]:
            self.assertEqual(len(ourSection), len(theirSection))
            for record, rrset in zip(ourSection, theirSection, strict=True):
                self.assertEqual(rrset.name.to_wire().lower(), record.name.key)
                self.assertEqual(rrset.rdtype, record.rtype)
                self.assertEqual(rrset.ttl, record.ttl)
                # Compression may give names in the data the case of an
                # earlier occurrence: compare after decoding, case-blind.
                data = rrset[0].to_wire()
                self.assertEqual(
                    decodeRdata(record.rtype, WireReader(data), len(data)), record.rdata
                )


class TCPFramingTests(SynchronousTestCase):
    """
    L{frameMessage} and L{MessageDeframer}: the two-octet length prefix of
    DNS over TCP (RFC 1035 section 4.2.2, RFC 7766 section 8).
    """

    def test_frame(self) -> None:
        self.assertEqual(frameMessage(b"abc"), b"\x00\x03abc")
        self.assertEqual(frameMessage(b""), b"\x00\x00")
        self.assertRaises(ValueError, frameMessage, b"x" * 65536)

    def test_piecesAndTogether(self) -> None:
        stream = frameMessage(b"first") + frameMessage(b"") + frameMessage(b"x" * 300)
        deframer = MessageDeframer()
        found = []
        for i in range(len(stream)):
            found += deframer.feed(stream[i : i + 1])
        self.assertEqual(found, [b"first", b"", b"x" * 300])
        self.assertEqual(MessageDeframer().feed(stream), [b"first", b"", b"x" * 300])

    def test_clear(self) -> None:
        deframer = MessageDeframer()
        self.assertEqual(deframer.feed(b"\x00\x05ab"), [])
        deframer.clear()
        self.assertEqual(deframer.feed(frameMessage(b"new")), [b"new"])
