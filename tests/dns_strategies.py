"""
Hypothesis strategies for L{netref.dns}: names, record data, records and
whole messages, valid by construction.  The DNS test modules share them
(name, rdata, wire, zone files, server, client).

Names are drawn partly from a small vocabulary in mixed case, so that
messages have suffixes in common (compression has work to do) and names that
differ only in case (RFC 4343 equality is exercised), and partly from any
octets at all (RFC 2181 section 11).
"""

from __future__ import annotations

from hypothesis import strategies as st

from netref.dns.name import MAX_NAME, Name
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
    rdataClassFor,
)
from netref.dns.wire import EDNS, MAX_TTL, Message, Question, ResourceRecord

__all__ = [
    "labels",
    "names",
    "rdatas",
    "rdataOf",
    "KNOWN_TYPES",
    "unknownTypes",
    "records",
    "rclasses",
    "knownRdatas",
    "questions",
    "ednses",
    "messages",
    "u16",
    "u32",
    "ttls",
]

u16 = st.integers(0, 0xFFFF)
u32 = st.integers(0, 0xFFFFFFFF)
ttls = st.integers(0, MAX_TTL)

_WORDS = [b"www", b"WWW", b"mail", b"ns1", b"Ns1", b"gaia", b"cs", b"a", b"_sip", b"_tcp", b"*"]
_BASES = [
    (),
    (b"edu",),
    (b"umass", b"edu"),
    (b"cs", b"UMass", b"edu"),
    (b"example", b"com"),
    (b"EXAMPLE", b"com"),
]

#: Any label: a word of the vocabulary, a hostname-like label in mixed case,
#: or any octets (escapes, dots, length-like octets inside labels).
labels = st.one_of(
    st.sampled_from(_WORDS),
    st.from_regex(rb"\A[a-zA-Z0-9-]{1,63}\Z"),
    st.binary(min_size=1, max_size=63),
)


def _fit(parts: list[bytes]) -> Name:
    """
    Drop labels from the left until the name fits in 255 octets.
    """
    while sum(len(part) + 1 for part in parts) + 1 > MAX_NAME:
        parts = parts[1:]
    return Name(parts)


@st.composite
def _relatedNames(draw: st.DrawFn) -> Name:
    prefix = draw(st.lists(st.sampled_from(_WORDS), max_size=3))
    return Name([*prefix, *draw(st.sampled_from(_BASES))])


#: Names: mostly related ones (common suffixes, case variants), some of any
#: octets and length, up to the limits of RFC 1035 section 2.3.4.
names = st.one_of(
    _relatedNames(),
    st.lists(labels, max_size=8).map(_fit),
    st.lists(st.binary(min_size=1, max_size=63), min_size=3, max_size=6).map(_fit),
)

_A = st.ip_addresses(v=4).map(lambda address: A(str(address)))
_AAAA = st.ip_addresses(v=6).map(lambda address: AAAA(str(address)))
_MX = st.builds(MX, u16, names)
_SOA = st.builds(SOA, names, names, u32, u32, u32, u32, u32)
_TXT = st.lists(st.binary(max_size=255), min_size=1, max_size=4).map(
    lambda strings: TXT(tuple(strings))
)
_SRV = st.builds(SRV, u16, u16, u16, names)

#: The types with a class of their own.
KNOWN_TYPES = (
    RRType.A,
    RRType.AAAA,
    RRType.NS,
    RRType.CNAME,
    RRType.PTR,
    RRType.MX,
    RRType.SOA,
    RRType.TXT,
    RRType.SRV,
)

#: Type numbers carried as L{UnknownRdata}: any but the known ones and OPT.
unknownTypes = u16.filter(lambda rtype: rdataClassFor(rtype) is UnknownRdata and rtype != 41)

_UNKNOWN = st.builds(UnknownRdata, unknownTypes, st.binary(max_size=300))

_BY_TYPE: dict[int, st.SearchStrategy[Rdata]] = {
    RRType.A: _A,
    RRType.AAAA: _AAAA,
    RRType.NS: st.builds(NS, names),
    RRType.CNAME: st.builds(CNAME, names),
    RRType.PTR: st.builds(PTR, names),
    RRType.MX: _MX,
    RRType.SOA: _SOA,
    RRType.TXT: _TXT,
    RRType.SRV: _SRV,
}


def rdataOf(rtype: int) -> st.SearchStrategy[Rdata]:
    """
    @return: record data of type C{rtype} (any data for unknown types).
    """
    strategy = _BY_TYPE.get(rtype)
    if strategy is not None:
        return strategy
    return st.binary(max_size=300).map(lambda data: UnknownRdata(rtype, data))


#: Record data of every type, unknown ones included.
rdatas: st.SearchStrategy[Rdata] = st.one_of(*_BY_TYPE.values(), _UNKNOWN)

_classes = st.one_of(
    st.just(int(RRClass.IN)),
    st.sampled_from([int(member) for member in RRClass]),
    u16,
)


#: Record classes: mostly IN, any at all sometimes.
rclasses = _classes

#: Record data of the types with a class of their own.
knownRdatas: st.SearchStrategy[Rdata] = st.one_of(*_BY_TYPE.values())


@st.composite
def records(
    draw: st.DrawFn,
    rdata: st.SearchStrategy[Rdata] = rdatas,
    rclass: st.SearchStrategy[int] = rclasses,
) -> ResourceRecord:
    """
    Resource records of any type, class and TTL, or of the given data and
    classes.
    """
    data = draw(rdata)
    return ResourceRecord(draw(names), data.rtype, draw(rclass), draw(ttls), data)


questions = st.builds(Question, names, u16, _classes)


def ednsWith(optionCodes: st.SearchStrategy[int]) -> st.SearchStrategy[EDNS]:
    """
    @return: OPT pseudo-records whose options have codes from
        C{optionCodes} and opaque data (RFC 6891 section 6.1.2).
    """
    return st.builds(
        EDNS,
        payloadSize=u16,
        version=st.integers(0, 255),
        dnssecOK=st.booleans(),
        options=st.lists(st.tuples(optionCodes, st.binary(max_size=40)), max_size=3).map(tuple),
    )


ednses = ednsWith(u16)


_opcodes = st.integers(0, 15)


@st.composite
def messages(
    draw: st.DrawFn,
    maxRecords: int = 4,
    record: st.SearchStrategy[ResourceRecord] | None = None,
    opcode: st.SearchStrategy[int] = _opcodes,
    extendedRcodes: bool = True,
    edns: st.SearchStrategy[EDNS] = ednses,
) -> Message:
    """
    Whole messages: any flags, up to 3 questions, up to C{maxRecords}
    records a section, EDNS or not (and a 12-bit RCODE only with EDNS).

    @param record: the records, L{records}C{()} by default.
    @param opcode: the opcodes, any by default.
    @param extendedRcodes: whether RCODEs above 15 may come with EDNS.
    @param edns: the OPT records, when there is one.
    """
    opt = draw(st.none() | edns)
    sections = st.lists(records() if record is None else record, max_size=maxRecords).map(tuple)
    return Message(
        id=draw(u16),
        qr=draw(st.booleans()),
        opcode=draw(opcode),
        aa=draw(st.booleans()),
        tc=draw(st.booleans()),
        rd=draw(st.booleans()),
        ra=draw(st.booleans()),
        ad=draw(st.booleans()),
        cd=draw(st.booleans()),
        rcode=draw(st.integers(0, 0xFFF if opt is not None and extendedRcodes else 0xF)),
        questions=tuple(draw(st.lists(questions, max_size=3))),
        answers=draw(sections),
        authority=draw(sections),
        additional=draw(sections),
        edns=opt,
    )
