"""
DNS messages (RFC 1035 section 4), sans-IO: bytes in, L{Message} out, and
back.

A L{Message} is a frozen dataclass holding the header flags and the four
sections; the EDNS pseudo-record (OPT, RFC 6891) is not a record in
C{additional} but the message's C{edns}, and its extended RCODE bits are
folded into C{Message.rcode}.

L{decodeMessage} raises L{WireError}, and nothing else, for any malformed
packet: a short header, counts beyond the data, bad names (see
L{WireReader.readName} for the rules that make compression loops
impossible), record data that does not fill its RDLENGTH exactly, an OPT
record that is duplicated, outside the additional section or not owned by
the root (RFC 6891 section 6.1.1), and bytes after the last record.  RFC
1035 does not forbid those trailing bytes, but a DNS message is exactly a
UDP payload or a TCP frame, so nothing legitimate puts them there.

L{encodeMessage} compresses names (RFC 1035 section 4.1.4) and, given a
C{maxSize}, truncates at RRset boundaries (RFC 2181 section 9).

No sockets and no Twisted here: L{netref.dns.server} and
L{netref.dns.client} carry these bytes.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field, replace
from enum import IntEnum

from netref.dns.name import (
    ROOT,
    DNSError,
    Name,
    TextError,
    WireError,
    WireReader,
    WireWriter,
)
from netref.dns.rdata import (
    Rdata,
    RRClass,
    RRType,
    classToText,
    decodeRdata,
    trustedConstructor,
    typeToText,
)

__all__ = [
    "DNSError",
    "WireError",
    "TextError",
    "Name",
    "ROOT",
    "Opcode",
    "Rcode",
    "frameMessage",
    "MessageDeframer",
    "opcodeToText",
    "rcodeToText",
    "Question",
    "ResourceRecord",
    "EDNS",
    "Message",
    "HEADER_SIZE",
    "MAX_TTL",
    "MAX_MESSAGE",
    "MIN_UDP_PAYLOAD",
    "encodeMessage",
    "decodeMessage",
    "peekHeader",
    "errorResponse",
    "makeResponse",
]

#: The size of the header (RFC 1035 section 4.1.1).
HEADER_SIZE = 12

#: The longest message: TCP frames messages with a 16-bit length (RFC 1035
#: section 4.2.2), and a UDP datagram is shorter still.
MAX_MESSAGE = 0xFFFF

#: The largest TTL (RFC 2181 section 8); larger ones are read as zero.
MAX_TTL = 0x7FFFFFFF

#: The UDP payload every DNS message may use, and the smallest an EDNS
#: requestor may announce (RFC 1035 section 4.2.1, RFC 6891 section 6.2.5).
MIN_UDP_PAYLOAD = 512


class Opcode(IntEnum):
    """
    The kind of query (RFC 1035 section 4.1.1; NOTIFY is RFC 1996, UPDATE
    RFC 2136, DSO RFC 8490).
    """

    QUERY = 0
    IQUERY = 1
    STATUS = 2
    NOTIFY = 4
    UPDATE = 5
    DSO = 6


class Rcode(IntEnum):
    """
    Response codes (RFC 1035 section 4.1.1; 6 to 10 are RFC 2136, 11 is RFC
    8490; from 16 on they need EDNS, RFC 6891 section 6.1.3).
    """

    NOERROR = 0
    FORMERR = 1
    SERVFAIL = 2
    NXDOMAIN = 3
    NOTIMP = 4
    REFUSED = 5
    YXDOMAIN = 6
    YXRRSET = 7
    NXRRSET = 8
    NOTAUTH = 9
    NOTZONE = 10
    DSOTYPENI = 11
    BADVERS = 16
    BADKEY = 17
    BADTIME = 18
    BADMODE = 19
    BADNAME = 20
    BADALG = 21
    BADTRUNC = 22
    BADCOOKIE = 23


_OPCODE_NAMES = {int(member): member.name for member in Opcode}
_RCODE_NAMES = {int(member): member.name for member in Rcode}


def opcodeToText(opcode: int) -> str:
    """
    @return: C{"QUERY"}, C{"NOTIFY"}, ..., or C{"OPCODE3"} for an opcode
        without a name.
    """
    return _OPCODE_NAMES.get(opcode, f"OPCODE{opcode}")


def rcodeToText(rcode: int) -> str:
    """
    @return: C{"NOERROR"}, C{"NXDOMAIN"}, ..., or C{"RCODE12"} for a code
        without a name.
    """
    return _RCODE_NAMES.get(rcode, f"RCODE{rcode}")


@dataclass(frozen=True, slots=True)
class Question:
    """
    An entry of the question section (RFC 1035 section 4.1.2).
    """

    name: Name
    rtype: int
    rclass: int = RRClass.IN

    def toText(self) -> str:
        """
        As dig writes it: C{";gaia.cs.umass.edu.  IN  A"}.
        """
        return f";{self.name.toText()}\t\t{classToText(self.rclass)}\t{typeToText(self.rtype)}"


@dataclass(frozen=True, slots=True)
class ResourceRecord:
    """
    A resource record (RFC 1035 section 4.1.3).

    @ivar rtype: the type; it must be C{rdata.rtype}.
    @ivar ttl: from 0 to L{MAX_TTL} (RFC 2181 section 8).
    """

    name: Name
    rtype: int
    rclass: int
    ttl: int
    rdata: Rdata
    # What follows the owner name on the wire, kept by encodeMessage: see
    # _recordTail.
    _tail: bytes = field(default=b"", init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        if self.rdata.rtype != self.rtype:
            raise ValueError(
                f"{typeToText(self.rtype)} record with {typeToText(self.rdata.rtype)} data"
            )
        if not 0 <= self.ttl <= MAX_TTL:
            raise ValueError(f"TTL {self.ttl} is not from 0 to {MAX_TTL}")

    def toText(self) -> str:
        """
        The record in zone-file form, tab-separated as dig writes it:
        C{"gaia.cs.umass.edu.  3600  IN  A  127.2.0.10"}.
        """
        return (
            f"{self.name.toText()}\t{self.ttl}\t{classToText(self.rclass)}\t"
            f"{typeToText(self.rtype)}\t{self.rdata.toText()}"
        )


@dataclass(frozen=True, slots=True)
class EDNS:
    """
    The EDNS parameters of a message: its OPT pseudo-record (RFC 6891
    section 6.1).

    @ivar payloadSize: the largest UDP payload the sender can receive (RFC
        6891 section 6.2.3).  Kept as received; a responder treats values
        below 512 as 512 (section 6.2.5).
    @ivar version: the EDNS version; only 0 is defined (section 6.1.3).
    @ivar dnssecOK: the DO bit (RFC 3225).  The other flag bits are zero
        when sending and ignored when receiving (section 6.1.4).
    @ivar options: (code, data) pairs, in order, opaque (section 6.1.2).
    """

    payloadSize: int = 1232
    version: int = 0
    dnssecOK: bool = False
    options: tuple[tuple[int, bytes], ...] = ()


@dataclass(frozen=True, slots=True)
class Message:
    """
    A DNS message (RFC 1035 section 4.1): header, the four sections, and
    EDNS.

    @ivar rcode: the whole response code: 4 bits without EDNS, 12 with it
        (RFC 6891 section 6.1.3).
    @ivar ad: authentic data, and C{cd} checking disabled (RFC 4035 section
        3.2).  The Z bit is always written as zero and ignored when read.
    @ivar additional: the additional section, without the OPT record, which
        is C{edns}.
    """

    id: int
    qr: bool = False
    opcode: int = Opcode.QUERY
    aa: bool = False
    tc: bool = False
    rd: bool = False
    ra: bool = False
    ad: bool = False
    cd: bool = False
    rcode: int = Rcode.NOERROR
    questions: tuple[Question, ...] = ()
    answers: tuple[ResourceRecord, ...] = ()
    authority: tuple[ResourceRecord, ...] = ()
    additional: tuple[ResourceRecord, ...] = ()
    edns: EDNS | None = None

    def flagsText(self) -> str:
        """
        The flags that are set, as dig lists them: C{"qr aa rd"}.
        """
        names = ("qr", "aa", "tc", "rd", "ra", "ad", "cd")
        values = (self.qr, self.aa, self.tc, self.rd, self.ra, self.ad, self.cd)
        return " ".join(name for name, value in zip(names, values, strict=True) if value)

    def summary(self) -> str:
        """
        One line for a trace (DESIGN.md, transcripts): id, opcode, rcode of
        responses, flags, the question and the section counts.
        """
        parts = [f"id {self.id}", opcodeToText(self.opcode)]
        if self.qr:
            parts.append(rcodeToText(self.rcode))
        flags = self.flagsText()
        if flags:
            parts.append(flags)
        for question in self.questions:
            parts.append(
                f"{question.name.toText()} {classToText(question.rclass)}"
                f" {typeToText(question.rtype)}"
            )
        if self.qr or self.answers or self.authority or self.additional:
            parts.append(
                f"answer {len(self.answers)} authority {len(self.authority)}"
                f" additional {len(self.additional)}"
            )
        if self.edns is not None:
            parts.append(f"edns udp {self.edns.payloadSize}")
        return " ".join(parts)

    def toText(self) -> str:
        """
        The whole message, roughly as dig prints it: a plain form for
        debugging and tests.  C{netref dig} prints the exact form, with
        dig's columns and warnings, through
        L{netref.dns.presentation.formatMessage}.
        """
        lines = [
            f";; ->>HEADER<<- opcode: {opcodeToText(self.opcode)},"
            f" status: {rcodeToText(self.rcode)}, id: {self.id}",
            f";; flags: {self.flagsText()}; QUERY: {len(self.questions)},"
            f" ANSWER: {len(self.answers)}, AUTHORITY: {len(self.authority)},"
            f" ADDITIONAL: {len(self.additional) + (self.edns is not None)}",
        ]
        if self.edns is not None:
            edns = self.edns
            flags = " do" if edns.dnssecOK else ""
            lines += [
                "",
                ";; OPT PSEUDOSECTION:",
                f"; EDNS: version: {edns.version}, flags:{flags}; udp: {edns.payloadSize}",
            ]
            for code, data in edns.options:
                lines.append(f"; OPTION {code}: {data.hex().upper()}")
        if self.questions:
            lines += ["", ";; QUESTION SECTION:"]
            lines += [question.toText() for question in self.questions]
        for title, records in (
            ("ANSWER", self.answers),
            ("AUTHORITY", self.authority),
            ("ADDITIONAL", self.additional),
        ):
            if records:
                lines += ["", f";; {title} SECTION:"]
                lines += [record.toText() for record in records]
        return "\n".join(lines) + "\n"


# The decoder's constructors (L{trustedConstructor}): what it reads is in
# range by construction.
_makeQuestion = trustedConstructor(Question)
_makeRecord = trustedConstructor(ResourceRecord)
_makeEDNS = trustedConstructor(EDNS)
_makeMessage = trustedConstructor(Message)

_HEADER = struct.Struct("!6H")
_FLAGS_COUNTS = struct.Struct("!5H")
_QUESTION = struct.Struct("!HH")
_RECORD = struct.Struct("!HHIH")
_TYPE_CLASS_TTL = struct.Struct("!HHI")
_U16 = struct.Struct("!H")
_OPTION = struct.Struct("!HH")
_OPT_HEADER = struct.Struct("!BHHIH")

_OPT = int(RRType.OPT)
_QR = 0x8000
_AA = 0x0400
_TC = 0x0200
_RD = 0x0100
_RA = 0x0080
_AD = 0x0020
_CD = 0x0010


def _flags(message: Message, tc: bool) -> int:
    """
    The second 16 bits of the header (RFC 1035 section 4.1.1, AD and CD
    from RFC 4035 section 3.2), with the low 4 bits of the RCODE.
    """
    opcode = message.opcode
    if not 0 <= opcode <= 15:
        raise ValueError(f"opcode {opcode} is not 4 bits")
    return (
        (_QR if message.qr else 0)
        | (opcode << 11)
        | (_AA if message.aa else 0)
        | (_TC if tc else 0)
        | (_RD if message.rd else 0)
        | (_RA if message.ra else 0)
        | (_AD if message.ad else 0)
        | (_CD if message.cd else 0)
        | (message.rcode & 0xF)
    )


_setTail = vars(ResourceRecord)["_tail"].__set__


def _recordTail(record: ResourceRecord) -> bytes:
    """
    What follows a record's owner name on the wire (RFC 1035 section
    4.1.3), kept on the record (a zone's records are encoded again and
    again): TYPE, CLASS and TTL, then RDLENGTH and RDATA when the data does
    not depend on the message (L{Rdata.fixedWire}).  So the tail is 8 octets
    long exactly when the data has names to compress, and the encoder must
    write RDLENGTH and RDATA itself.
    """
    fixed = record.rdata.fixedWire()
    if fixed is None:
        tail = _TYPE_CLASS_TTL.pack(record.rtype, record.rclass, record.ttl)
    else:
        tail = _RECORD.pack(record.rtype, record.rclass, record.ttl, len(fixed)) + fixed
    _setTail(record, tail)
    return tail


def _encodeOpt(edns: EDNS, rcode: int) -> bytes:
    """
    The OPT pseudo-record (RFC 6891 section 6.1.2): owner root, CLASS the
    payload size, TTL the extended RCODE, version and DO bit.
    """
    options = (
        b"".join([_OPTION.pack(code, len(data)) + data for code, data in edns.options])
        if edns.options
        else b""
    )
    if not 0 <= edns.version <= 0xFF:
        raise ValueError(f"EDNS version {edns.version} is not 8 bits")
    ttl = (rcode >> 4) << 24 | edns.version << 16 | (0x8000 if edns.dnssecOK else 0)
    return _OPT_HEADER.pack(0, RRType.OPT, edns.payloadSize, ttl, len(options)) + options


def encodeMessage(message: Message, maxSize: int | None = None) -> bytes:
    """
    Encode C{message}, compressing names (RFC 1035 section 4.1.4).

    With C{maxSize}, a message that would be longer loses whole RRsets from
    its end (a run of records of one section with the same owner, type and
    class): additional first, then authority, then answer.  TC is set when
    anything is dropped from the answer or authority section, not for the
    additional section alone (RFC 2181 section 9: "the TC bit should not be
    set merely because some extra information could have been included").
    The question and the OPT record (RFC 6891 section 7) always stay.

    No message is ever longer than L{MAX_MESSAGE}, 65535 octets: the most
    TCP's 16-bit length prefix can frame (RFC 1035 section 4.2.2), so a
    longer one is truncated the same way even without C{maxSize}.

    @param maxSize: the longest message wanted, such as 512 or the EDNS
        payload size of the query (RFC 1035 section 4.2.1, RFC 6891 section
        6.2.3).
    @return: the message, at most C{maxSize} octets long.
    @raise ValueError: if a field is out of range (an RCODE above 15 needs
        EDNS), or the header, question and OPT record alone exceed
        C{maxSize}.
    """
    rcode = message.rcode
    edns = message.edns
    if not 0 <= rcode <= (0xFFF if edns is not None else 0xF):
        raise ValueError(f"RCODE {rcode} does not fit" + (" without EDNS" if edns is None else ""))
    writer = WireWriter()
    buf = writer.buf
    questions = message.questions
    answers = message.answers
    authority = message.authority
    additional = message.additional
    try:
        buf += _HEADER.pack(
            message.id,
            _flags(message, message.tc),
            len(questions),
            len(answers),
            len(authority),
            len(additional) + (edns is not None),
        )
        writeName = writer.writeName
        for question in questions:
            writeName(question.name)
            buf += _QUESTION.pack(question.rtype, question.rclass)
        questionEnd = len(buf)
        ends: list[int] = []
        for section in (answers, authority, additional):
            for record in section:
                writeName(record.name)
                tail = record._tail or _recordTail(record)
                buf += tail
                if len(tail) == 8:
                    buf += b"\x00\x00"
                    start = len(buf)
                    record.rdata.encode(writer)
                    _U16.pack_into(buf, start - 2, len(buf) - start)
                ends.append(len(buf))
        opt = b"" if edns is None else _encodeOpt(edns, rcode)
    except struct.error as e:
        raise ValueError(f"a field is out of range: {e}") from None
    if maxSize is None or maxSize > MAX_MESSAGE:
        maxSize = MAX_MESSAGE
    if len(buf) + len(opt) <= maxSize:
        buf += opt
        return bytes(buf)
    return _truncated(message, buf, questionEnd, ends, opt, maxSize)


def _truncated(
    message: Message,
    buf: bytearray,
    questionEnd: int,
    ends: list[int],
    opt: bytes,
    maxSize: int,
) -> bytes:
    """
    Cut a message encoded in C{buf} at the last RRset boundary that leaves
    room for C{opt} within C{maxSize}.  Compression pointers only point
    backwards, so the bytes before any record boundary are a valid message
    once the header counts are fixed.
    """
    budget = maxSize - len(opt)
    if questionEnd > budget:
        raise ValueError(f"the header and question alone exceed {maxSize} octets")
    records = [
        (index, record)
        for index, section in enumerate((message.answers, message.authority, message.additional))
        for record in section
    ]
    keep = 0
    while keep < len(records) and ends[keep] <= budget:
        keep += 1
    # Back off to the start of the RRset the cut falls in.
    while 0 < keep < len(records):
        (sectionBefore, before), (sectionAfter, after) = records[keep - 1], records[keep]
        if not (
            sectionBefore == sectionAfter
            and before.rtype == after.rtype
            and before.rclass == after.rclass
            and before.name == after.name
        ):
            break
        keep -= 1
    counts = [0, 0, 0]
    for section, _ in records[:keep]:
        counts[section] += 1
    tc = message.tc or counts[0] < len(message.answers) or counts[1] < len(message.authority)
    cut = ends[keep - 1] if keep else questionEnd
    out = buf[:cut]
    _FLAGS_COUNTS.pack_into(
        out,
        2,
        _flags(message, tc),
        len(message.questions),
        counts[0],
        counts[1],
        counts[2] + (message.edns is not None),
    )
    out += opt
    return bytes(out)


def _decodeOpt(
    reader: WireReader, name: Name, rclass: int, ttl: int, length: int
) -> tuple[EDNS, int]:
    """
    Read the data of an OPT record (RFC 6891 section 6.1.2).

    @return: the EDNS parameters, and the extended RCODE bits (already
        shifted into place).
    """
    if name.wire != b"\x00":
        raise WireError("OPT record not owned by the root (RFC 6891 section 6.1.2)")
    start = reader.take(length)
    stop = start + length
    data = reader.data
    options = []
    pos = start
    while pos < stop:
        if pos + 4 > stop:
            raise WireError(f"EDNS option at offset {pos} runs past its record")
        code, size = _OPTION.unpack_from(data, pos)
        pos += 4
        if pos + size > stop:
            raise WireError(f"EDNS option at offset {pos - 4} runs past its record")
        options.append((code, data[pos : pos + size]))
        pos += size
    edns = _makeEDNS(rclass, (ttl >> 16) & 0xFF, bool(ttl & 0x8000), tuple(options))
    return edns, (ttl >> 24) << 4


def _decodeRecords(reader: WireReader, count: int) -> list[ResourceRecord]:
    records: list[ResourceRecord] = []
    data = reader.data
    append = records.append
    for _ in range(count):
        name = reader.readName()
        pos = reader.take(10)
        rtype, rclass, ttl, length = _RECORD.unpack_from(data, pos)
        if rtype == _OPT:
            raise WireError("OPT record outside the additional section (RFC 6891 section 6.1.1)")
        if ttl > MAX_TTL:
            # RFC 2181 section 8: treat as if zero.
            ttl = 0
        rdata = decodeRdata(rtype, reader, length, rclass)
        append(_makeRecord(name, rtype, rclass, ttl, rdata))
    return records


def _decode(data: bytes) -> Message:
    if len(data) < HEADER_SIZE:
        raise WireError(f"{len(data)} octets, shorter than a header")
    ident, flags, qdcount, ancount, nscount, arcount = _HEADER.unpack_from(data)
    reader = WireReader(data, HEADER_SIZE)
    readName = reader.readName
    take = reader.take
    questions = []
    for _ in range(qdcount):
        name = readName()
        rtype, rclass = _QUESTION.unpack_from(data, take(4))
        questions.append(_makeQuestion(name, rtype, rclass))
    answers = _decodeRecords(reader, ancount) if ancount else ()
    authority = _decodeRecords(reader, nscount) if nscount else ()
    additional = []
    edns = None
    rcode = flags & 0xF
    for _ in range(arcount):
        name = readName()
        rtype, rclass, ttl, length = _RECORD.unpack_from(data, take(10))
        if rtype == _OPT:
            if edns is not None:
                raise WireError("more than one OPT record (RFC 6891 section 6.1.1)")
            edns, extended = _decodeOpt(reader, name, rclass, ttl, length)
            rcode |= extended
            continue
        if ttl > MAX_TTL:
            ttl = 0
        rdata = decodeRdata(rtype, reader, length, rclass)
        additional.append(_makeRecord(name, rtype, rclass, ttl, rdata))
    if reader.pos != len(data):
        raise WireError(f"{len(data) - reader.pos} octets after the last record")
    return _makeMessage(
        ident,
        bool(flags & _QR),
        (flags >> 11) & 0xF,
        bool(flags & _AA),
        bool(flags & _TC),
        bool(flags & _RD),
        bool(flags & _RA),
        bool(flags & _AD),
        bool(flags & _CD),
        rcode,
        tuple(questions),
        tuple(answers),
        tuple(authority),
        tuple(additional),
        edns,
    )


def decodeMessage(data: bytes | bytearray | memoryview) -> Message:
    """
    Decode a whole message (RFC 1035 section 4.1).

    @param data: exactly one message: a UDP payload, or a TCP message
        without its length prefix.  A C{bytearray} or C{memoryview} is
        copied to C{bytes} first.
    @raise WireError: if C{data} is malformed in any way; never anything
        else.
    """
    if type(data) is not bytes:
        data = bytes(data)
    try:
        return _decode(data)
    except WireError:
        raise
    except (struct.error, IndexError, ValueError, TypeError, OverflowError) as e:
        # A safety net: the reader checks every bound itself, and the tests
        # check that no error ever comes through here (its __cause__).
        raise WireError(f"malformed message: {e}") from e


def frameMessage(message: bytes) -> bytes:
    """
    Prepare a message for TCP: over a stream, every DNS message is preceded
    by its length in two octets (RFC 1035 section 4.2.2, RFC 7766 section 8).

    @raise ValueError: if the message is longer than 65535 octets.
    """
    if len(message) > MAX_MESSAGE:
        raise ValueError(f"a DNS message of {len(message)} octets cannot be framed")
    return _U16.pack(len(message)) + message


class MessageDeframer:
    """
    Cuts a TCP byte stream back into DNS messages (RFC 1035 section 4.2.2).

    A message may arrive in pieces, and several may arrive together (RFC 7766
    section 8), so bytes are kept until a whole message is there.
    """

    def __init__(self) -> None:
        self._buffer = b""

    def feed(self, data: bytes) -> list[bytes]:
        """
        @param data: the bytes that just arrived.
        @return: every message now complete, in order, without its prefix.
        """
        buffer = self._buffer + data if self._buffer else data
        size = len(buffer)
        position = 0
        messages = []
        while size - position >= 2:
            end = position + 2 + ((buffer[position] << 8) | buffer[position + 1])
            if end > size:
                break
            messages.append(buffer[position + 2 : end])
            position = end
        self._buffer = buffer[position:]
        return messages

    def clear(self) -> None:
        """
        Forget any partial message, as when the connection is being closed.
        """
        self._buffer = b""


def peekHeader(data: bytes) -> tuple[int, int] | None:
    """
    Read the ID and the flags word of a message that may be malformed
    beyond its header, so that a server can still answer FORMERR with the
    right ID (RFC 1035 section 4.1.1).

    @return: C{(id, flags)}, or L{None} if C{data} is shorter than a header.
    """
    if len(data) < HEADER_SIZE:
        return None
    ident, flags = _QUESTION.unpack_from(data)
    return ident, flags


def errorResponse(data: bytes, rcode: int = Rcode.FORMERR) -> bytes | None:
    """
    A header-only error response to a query that could not be decoded: its
    ID, opcode and RD copied (RFC 1035 section 4.1.1), QR set, no sections.

    @param rcode: a 4-bit response code: without the query's OPT record no
        extended code can be sent.
    @return: the response, or L{None} when there must be none: C{data} is
        shorter than a header, or is itself a response (answering responses
        lets two servers bounce errors between them forever).
    """
    header = peekHeader(data)
    if header is None:
        return None
    ident, flags = header
    if flags & _QR:
        return None
    if not 0 <= rcode <= 0xF:
        raise ValueError(f"RCODE {rcode} needs EDNS")
    return _HEADER.pack(ident, _QR | (flags & (0x7800 | _RD)) | rcode, 0, 0, 0, 0)


def makeResponse(
    query: Message,
    rcode: int = Rcode.NOERROR,
    *,
    aa: bool = False,
    ra: bool = False,
    ad: bool = False,
    answers: tuple[ResourceRecord, ...] = (),
    authority: tuple[ResourceRecord, ...] = (),
    additional: tuple[ResourceRecord, ...] = (),
    edns: EDNS | None = None,
) -> Message:
    """
    The response to C{query}, with what RFC 1035 section 4.1.1 copies from
    it: the ID, the opcode, RD and the question; CD too (RFC 4035 section
    3.1.6).

    @param edns: the response's EDNS parameters.  A response carries an OPT
        record exactly when the query did (RFC 6891 section 7): C{edns} is
        ignored for a query without one, and defaults to L{EDNS}C{()} for a
        query with one.  Its DO bit is always the query's (RFC 3225 section
        3: it "MUST be copied in the response").
    """
    if query.edns is None:
        edns = None
    else:
        dnssecOK = query.edns.dnssecOK
        if edns is None:
            edns = _DEFAULT_EDNS[dnssecOK]
        elif edns.dnssecOK != dnssecOK:
            edns = replace(edns, dnssecOK=dnssecOK)
    # The fields in Message's order: a server calls this for every query,
    # and the trusted constructor is twice as fast as Message's __init__.
    return _makeMessage(
        query.id,
        True,
        query.opcode,
        aa,
        False,
        query.rd,
        ra,
        ad,
        query.cd,
        rcode,
        query.questions,
        answers,
        authority,
        additional,
        edns,
    )


# EDNS is immutable: every response can share these.
_DEFAULT_EDNS = {False: EDNS(), True: EDNS(dnssecOK=True)}
