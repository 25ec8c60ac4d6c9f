"""
An authoritative name server's data and its answers (RFC 1034 section
4.3.2), sans-IO: no reactor, no sockets, no Twisted.

A L{Zone} is the data of one zone (RFC 1034 section 4.2): every node, by the
lower-cased wire form of its name (L{Name.key}), with its RRsets by type.
Empty non-terminals, names that own no record but have descendants that do
(RFC 8499 section 7, RFC 8020), are nodes too, so that a question about one gets NODATA
rather than NXDOMAIN.  Delegation points (NS RRsets below the apex) are
marked: every node at or below a cut knows the cut above it, so one dict
lookup tells whether a name's data is authoritative or glue.

An L{Authority} holds several zones and answers queries, as bytes
(L{Authority.answerWire}, the server's hot path) or as L{Message}s
(L{Authority.respond}).  The answer algorithm is RFC 1034 section 4.3.2's:

  1. The zone nearest to QNAME among those held (step 2); none: REFUSED
     (RFC 1035 section 4.1.1, "for policy reasons"), AA clear.
  2. Down the zone towards QNAME.  A delegation at or above QNAME (step 3b)
     makes a I{referral}: no answer, the cut's NS RRset in the authority
     section, and the addresses of its servers found in the zone (glue) in
     the additional section; AA clear, as the data below a cut is not ours.
     A DS question about the cut itself is the exception: DS lives on the
     parent side (RFC 4035 section 3.1.4.1), so the parent zone answers it,
     authoritatively; a DS question about the apex of a zone goes to its
     parent zone too, when the server holds both.
  3. QNAME's node has the type asked for: those records, AA set (step 3a).
  4. It has a CNAME instead: the CNAME, and the search starts again at its
     target, in whichever zone holds it (step 3a, "change QNAME to the
     canonical name ... and go back to step 1").  The chain is followed
     through every zone held, stops at a name already seen (a loop, RFC 1034
     section 3.6.2 asks servers to detect them) or after L{MAX_CHAIN}
     CNAMEs; a target outside the zones held ends the answer, and the
     client's resolver carries on from it.  AA stays as the first name made
     it, and the RCODE is the last name's (RFC 6604 section 2).
  5. The node exists but has no such data: NODATA, NOERROR with no answer
     and the zone's SOA in the authority section (RFC 2308 section 2.2).
  6. No such node (step 3c): NXDOMAIN, the SOA in the authority section
     (RFC 2308 section 2.1).  The SOA of a negative answer carries the
     negative-caching TTL, the smaller of the SOA's own TTL and its MINIMUM
     field (RFC 2308 sections 3 and 4).
  7. Additional section processing (step 6): for MX, NS and SRV records in
     the answer, and NS records of a referral, the A and AAAA RRsets of
     their targets, from the zone those records came from.

Policies, where the RFCs leave a choice:

  - B{Minimal responses.}  A positive answer has an empty authority
    section, as RFC 1034 section 6.2's examples do; the zone's NS RRset is
    not repeated in every answer (NSD's C{minimal-responses: no} adds it).
    The additional section holds only what step 7 asks for, and only data
    of the same zone as the records that point to it: data of another zone
    would be out of bailiwick, and resolvers would discard it (RFC 2181
    section 5.4.1).
  - B{ANY} (QTYPE 255): the I{minimal} answer RFC 8482 section 4.1 allows,
    over UDP and TCP: one RRset of the node, the first one in the zone
    file.  A node with none gets NODATA.
  - B{Zone transfers} (AXFR, IXFR) are not offered: no client is authorized
    for them (RFC 5936 section 5), so they get REFUSED, whatever the
    transport.
  - B{Classes} other than IN, including QCLASS ANY: REFUSED: all the data
    is IN.
  - B{Opcodes} other than QUERY (IQUERY, NOTIFY, UPDATE, ...): NOTIMP (RFC
    1035 section 4.1.1).
  - B{Malformed queries}: a query that does not decode, or does not have
    exactly one question, gets FORMERR (RFC 1035 section 4.1.1) when its
    header is readable; a message with QR set, or shorter than a header,
    gets no answer at all (answering answers lets two servers bounce
    errors between them forever).
  - B{Rotation}: the order of every A and AAAA RRset of more than one
    record turns by one place on each answer to the same question, the
    textbook's load distribution among the addresses of a busy site
    (section 2.4.2), as BIND's C{rrset-order cyclic}; L{Authority} takes
    C{rotate=False} to keep the zone file's order.
  - B{Wildcards} (RFC 4592) and DNAME (RFC 6672) are not implemented: a
    C{*} label is a label like any other, and a DNAME record plain data.
    There is no DNSSEC (no signatures, NSEC or DO-driven processing), and
    no EDNS option is understood (RFC 6891 section 6.1.2: unknown options
    are ignored).

EDNS (RFC 6891): a response has an OPT record exactly when the query had one
(section 7), announcing the server's own UDP payload size (L{MAX_UDP_SIZE},
1232 by default, the DNS flag day 2020 value) and copying the DO bit (RFC
3225 section 3).  A query with an EDNS version above 0 gets BADVERS, with
an OPT record of version 0 (section 6.1.3).

Truncation (RFC 1035 section 4.2.1, RFC 2181 section 9, RFC 6891 section
6.2.5): over UDP an answer may be 512 octets long, or with EDNS the
requestor's payload size (taken as 512 if below) but no more than the
server's.  A longer one loses whole RRsets from its end and gets TC, as
L{encodeMessage} does, except that additional data alone is dropped
quietly; the glue of a referral that lies below the cut is not optional
(RFC 9471 section 3), so losing it sets TC too.  Over TCP, the limit is
65535 octets.

Speed: an answer does not depend on the query's ID, so L{answerWire} keeps
the encoded answers by the rest of the query's bytes; a repeated query costs
one dict lookup, and the ID is patched in.  A rotating answer has one cached
encoding per rotation step, made when first needed.  The answers that
rotate share their step through the L{Answer} they were made from, so
queries that differ only in letter case or EDNS rotate together.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import replace

from netref.dns.name import ROOT, DNSError, Name
from netref.dns.rdata import CNAME, MX, NS, SOA, SRV, Rdata, RRClass, RRType
from netref.dns.wire import (
    EDNS,
    HEADER_SIZE,
    MIN_UDP_PAYLOAD,
    Message,
    Opcode,
    Rcode,
    ResourceRecord,
    WireError,
    decodeMessage,
    encodeMessage,
    errorResponse,
    makeResponse,
)
from netref.dns.zonefile import ZoneData

__all__ = [
    "MAX_CHAIN",
    "MAX_UDP_SIZE",
    "MAX_TCP_SIZE",
    "ZoneError",
    "RRset",
    "Node",
    "Zone",
    "Answer",
    "Authority",
]

#: The most CNAME records one answer follows (RFC 1034 section 3.6.2 asks
#: for chains to be bounded; real ones are a few links long).
MAX_CHAIN = 16

#: The largest UDP answer the server sends, and announces in its OPT record,
#: unless told otherwise: the DNS flag day 2020 value, which fits the
#: smallest IPv6 MTU without fragments.
MAX_UDP_SIZE = 1232

#: The largest message TCP's two-octet length prefix can carry (RFC 1035
#: section 4.2.2).
MAX_TCP_SIZE = 65535

#: How many octets of encoded answers L{Authority.answerWire} keeps, by
#: default.
CACHE_BYTES = 16 * 1024 * 1024

#: The most rotation steps kept for one answer (see L{Answer.period}).
MAX_PERIOD = 64

#: One RRset: the records of one owner, type and class (RFC 2181 section 5).
RRset = tuple[ResourceRecord, ...]

#: The answer, authority and additional sections of a message.
Sections = tuple[RRset, RRset, RRset]

_ROOT_KEY = ROOT.key
_A = int(RRType.A)
_AAAA = int(RRType.AAAA)
_NS = int(RRType.NS)
_CNAME = int(RRType.CNAME)
_SOA = int(RRType.SOA)
_DS = int(RRType.DS)
_ANY = int(RRType.ANY)
_TRANSFERS = frozenset((int(RRType.AXFR), int(RRType.IXFR)))
_ADDRESS_TYPES = (_A, _AAAA)
# The types that may share a name with a CNAME: the DNSSEC records that
# sign it or prove what is absent (RFC 4035 section 2.5, RFC 2181 section
# 10.1).
_CNAME_NEIGHBOURS = frozenset((_CNAME, int(RRType.RRSIG), int(RRType.NSEC)))
_IN = int(RRClass.IN)
_TC_BIT = 0x02  # in the third octet of the header


class ZoneError(DNSError):
    """
    The data of a zone breaks a rule that the server relies on: no SOA, a
    record outside the zone, a CNAME beside other data, ...
    """


class Node:
    """
    One name of a zone and its data.

    @ivar name: the name, as first written in the zone.
    @ivar rrsets: the RRsets by type, in the order the zone file gave them.
    @ivar cut: the delegation point at or above this node (itself when the
        node is one), or L{None} when the node's data is the zone's own.
    """

    __slots__ = ("name", "rrsets", "cut")

    def __init__(self, name: Name) -> None:
        self.name = name
        self.rrsets: dict[int, RRset] = {}
        self.cut: Node | None = None

    def __repr__(self) -> str:
        return f"<Node {self.name} {sorted(self.rrsets)}>"


def _parentKey(key: bytes) -> bytes:
    """
    @return: the key of the parent of the name whose key is C{key} (not the
        root's).
    """
    return key[key[0] + 1 :]


def _targetOf(record: ResourceRecord) -> Name | None:
    """
    @return: the name whose addresses additional section processing adds for
        C{record} (RFC 1034 section 4.3.2 step 6; RFC 2782 for SRV), or
        L{None} for other types and for the root (a "null" MX or SRV target,
        RFC 7505, RFC 2782).
    """
    rdata = record.rdata
    if isinstance(rdata, MX):
        target = rdata.exchange
    elif isinstance(rdata, (NS, SRV)):
        target = rdata.target
    else:
        return None
    return None if target.key == _ROOT_KEY else target


class Zone:
    """
    The data of one zone (RFC 1034 section 4.2), ready for lookups.

    @ivar origin: the zone's apex, the owner of its SOA record.
    @ivar soa: the SOA record.
    @ivar negative: the SOA RRset of negative answers: the SOA with the TTL
        of RFC 2308 section 3, the smaller of its own TTL and MINIMUM.
    @ivar nodes: every node, empty non-terminals included, by L{Name.key}.
    @ivar source: where the data came from, for messages.
    """

    def __init__(
        self, origin: Name, records: Iterable[ResourceRecord], source: str | None = None
    ) -> None:
        """
        @param origin: the apex.
        @param records: the zone's records, in file order.
        @param source: where they came from (a file name), for errors.
        @raise ZoneError: if the data cannot be served: a record not of class
            IN or outside the zone, no SOA or more than one, an SOA anywhere
            but at the apex, a CNAME beside other data or two CNAMEs at one
            name (RFC 1034 section 3.6.2, RFC 2181 section 10.1).  Duplicate
            records are dropped (RFC 2181 section 5).
        """
        self.origin = origin
        self.source = source if source is not None else origin.toText()
        where = self.source
        nodes: dict[bytes, Node] = {}
        collected: dict[bytes, dict[int, list[ResourceRecord]]] = {}
        seen: set[tuple[bytes, int, Rdata]] = set()
        for record in records:
            name = record.name
            if record.rclass != _IN:
                raise ZoneError(f"{where}: {record.toText()}: only class IN is served")
            if not name.isSubdomainOf(origin):
                raise ZoneError(f"{where}: {name} is outside the zone {origin}")
            key = name.key
            if key not in nodes:
                nodes[key] = Node(name)
                collected[key] = {}
            # RFC 2181 section 5: an RRset holds no duplicate records.
            identity = (key, record.rtype, record.rdata)
            if identity not in seen:
                seen.add(identity)
                collected[key].setdefault(record.rtype, []).append(record)
        apex = nodes.get(origin.key)
        soas = collected[origin.key].get(_SOA, []) if apex is not None else []
        if len(soas) != 1:
            raise ZoneError(f"{where}: the zone {origin} needs exactly one SOA record at its apex")
        self.soa = soas[0]
        soaData = self.soa.rdata
        assert isinstance(soaData, SOA)
        for key, byType in collected.items():
            node = nodes[key]
            if _SOA in byType and key != origin.key:
                raise ZoneError(f"{where}: an SOA record at {node.name}, not at the apex")
            cname = byType.get(_CNAME)
            if cname is not None:
                if len(cname) > 1:
                    raise ZoneError(f"{where}: {node.name} has more than one CNAME")
                if not _CNAME_NEIGHBOURS.issuperset(byType):
                    raise ZoneError(f"{where}: {node.name} has a CNAME and other data")
            node.rrsets = {rtype: tuple(rrset) for rtype, rrset in byType.items()}
        self.negative: RRset = (
            ResourceRecord(
                self.soa.name,
                _SOA,
                _IN,
                min(self.soa.ttl, soaData.minimum),
                soaData,
            ),
        )
        # Empty non-terminals: every name between a node and the apex.
        for key in list(nodes):
            name = nodes[key].name
            while key != origin.key:
                key = _parentKey(key)
                if key in nodes:
                    break
                name = name.parent()
                nodes[key] = Node(name)
        # Delegations: NS RRsets below the apex.  Each node learns the
        # highest cut above it (data below a lower cut is glue all the same).
        for key, node in nodes.items():
            cut = None
            probe = key
            while probe != origin.key:
                candidate = nodes[probe]
                if _NS in candidate.rrsets:
                    cut = candidate
                probe = _parentKey(probe)
            node.cut = cut
        self.nodes = nodes

    @classmethod
    def fromZoneData(cls, data: ZoneData, source: str | None = None) -> Zone:
        """
        @param data: a zone as L{netref.dns.zonefile} reads it.
        @param source: where it came from (a file name), for errors.
        """
        return cls(data.origin, data.records, source)

    def closestEncloser(self, key: bytes) -> Node:
        """
        @param key: the key of a name at or below the apex.
        @return: the node of the longest ancestor of that name (or the name
            itself) that exists in the zone.
        """
        nodes = self.nodes
        while True:
            node = nodes.get(key)
            if node is not None:
                return node
            key = _parentKey(key)

    def __repr__(self) -> str:
        return f"<Zone {self.origin} ({len(self.nodes)} names) from {self.source}>"


class Answer:
    """
    The outcome of looking a question up (RFC 1034 section 4.3.2): what is
    the same in every answer to that question, whatever the query's ID,
    letter case or EDNS.

    @ivar rcode: NOERROR or NXDOMAIN.
    @ivar aa: whether the answer is authoritative (not a referral).
    @ivar answers: the answer section, as RRsets.
    @ivar authority: the authority section, as RRsets.
    @ivar additional: the additional section, as RRsets.
    @ivar requiredAdditional: how many records at the start of the
        additional section must not be dropped without setting TC: the glue
        below the cut of a referral (RFC 9471 section 3).
    @ivar period: how many distinct orders the rotation makes (1 when
        nothing rotates): the least common multiple of the sizes of the
        rotating RRsets, or the largest size if that is above
        L{MAX_PERIOD}.
    """

    __slots__ = (
        "rcode",
        "aa",
        "answers",
        "authority",
        "additional",
        "requiredAdditional",
        "period",
        "_turn",
        "_flat",
    )

    def __init__(
        self,
        rcode: int,
        aa: bool,
        answers: Sequence[RRset],
        authority: Sequence[RRset],
        additional: Sequence[RRset],
        requiredAdditional: int = 0,
        rotate: bool = True,
    ) -> None:
        self.rcode = rcode
        self.aa = aa
        self.answers = tuple(answers)
        self.authority = tuple(authority)
        self.additional = tuple(additional)
        self.requiredAdditional = requiredAdditional
        sizes = {
            len(rrset)
            for section in (self.answers, self.authority, self.additional)
            for rrset in section
            if len(rrset) > 1 and rrset[0].rtype in _ADDRESS_TYPES
        }
        period = 1
        if rotate and sizes:
            period = math.lcm(*sizes)
            if period > MAX_PERIOD:
                period = max(sizes)
        self.period = period
        self._turn = 0
        self._flat: Sections | None = None
        self._flat = self.sections(0)

    def nextTurn(self) -> int:
        """
        @return: the rotation step for the next answer, counting round from
            0 (the zone file's order) to C{period - 1}.
        """
        turn = self._turn
        following = turn + 1
        self._turn = following if following < self.period else 0
        return turn

    def sections(self, turn: int) -> Sections:
        """
        @param turn: a rotation step.
        @return: the answer, authority and additional sections as records,
            every A and AAAA RRset of several records turned by C{turn}.
        """
        if turn == 0 and self._flat is not None:
            return self._flat

        def flatten(section: tuple[RRset, ...]) -> tuple[ResourceRecord, ...]:
            records: list[ResourceRecord] = []
            for rrset in section:
                size = len(rrset)
                if turn and size > 1 and rrset[0].rtype in _ADDRESS_TYPES:
                    step = turn % size
                    records += rrset[step:]
                    records += rrset[:step]
                else:
                    records += rrset
            return tuple(records)

        return flatten(self.answers), flatten(self.authority), flatten(self.additional)


class _Variants:
    """
    The cached encodings of a rotating answer to one query: one per rotation
    step, made when first needed, each without its first two octets (the
    ID).
    """

    __slots__ = ("answer", "bodies", "authority", "query", "maxSize", "cached")

    def __init__(self, authority: Authority, query: Message, answer: Answer, maxSize: int) -> None:
        self.authority = authority
        self.query = query
        self.answer = answer
        self.maxSize = maxSize
        self.bodies: list[bytes | None] = [None] * answer.period
        #: Whether the entry is in the cache, whose size then counts it.
        self.cached = False

    def next(self) -> bytes:
        """
        @return: the encoding for the next rotation step, without its ID.
        """
        turn = self.answer.nextTurn()
        body = self.bodies[turn]
        if body is None:
            body = self.authority._encode(self.query, self.answer, turn, self.maxSize)[2:]
            self.bodies[turn] = body
            if self.cached:
                self.authority._cacheBytes += len(body)
        return body

    def size(self) -> int:
        """
        @return: the octets of the encodings made so far.
        """
        return sum(len(body) for body in self.bodies if body is not None)


class Authority:
    """
    The authoritative data of several zones, and the answers to queries
    about it.  See the module docstring for the algorithm and policies.

    @ivar zones: the zones, by the L{Name.key} of their apex.
    @ivar rotate: whether multi-address RRsets rotate.
    @ivar maxUDPSize: the largest UDP answer, announced in OPT records.
    """

    def __init__(
        self,
        zones: Iterable[Zone | ZoneData],
        rotate: bool = True,
        maxUDPSize: int = MAX_UDP_SIZE,
        cacheBytes: int = CACHE_BYTES,
    ) -> None:
        """
        @param zones: the zones to serve, as L{Zone}s or as
            L{netref.dns.zonefile} reads them.
        @param rotate: whether to rotate multi-address RRsets on each answer.
        @param maxUDPSize: the largest UDP answer (at least 512).
        @param cacheBytes: how many octets of encoded answers to keep; 0
            turns the cache off.
        @raise ValueError: if two zones have the same apex, or C{maxUDPSize}
            is out of range.
        """
        if not MIN_UDP_PAYLOAD <= maxUDPSize <= 65535:
            raise ValueError(f"maxUDPSize {maxUDPSize} is not from 512 to 65535")
        self.zones: dict[bytes, Zone] = {}
        for given in zones:
            zone = given if isinstance(given, Zone) else Zone.fromZoneData(given)
            if zone.origin.key in self.zones:
                other = self.zones[zone.origin.key]
                raise ValueError(
                    f"the zone {zone.origin} is given twice ({other.source}, {zone.source})"
                )
            self.zones[zone.origin.key] = zone
        self.rotate = rotate
        self.maxUDPSize = maxUDPSize
        self._edns = {False: EDNS(maxUDPSize), True: EDNS(maxUDPSize, dnssecOK=True)}
        self._answers: dict[tuple[bytes, int], Answer | None] = {}
        self._cacheLimit = cacheBytes
        self._cacheBytes = 0
        self._datagramCache: dict[bytes, bytes | _Variants] = {}
        self._streamCache: dict[bytes, bytes | _Variants] = {}

    # -- Lookups ------------------------------------------------------------

    def zoneFor(self, name: Name, qtype: int = _A) -> Zone | None:
        """
        @return: the zone nearest to C{name} among those held (RFC 1034
            section 4.3.2 step 2), or L{None}.  For a DS question about a
            zone's apex, the parent zone when it is held too (RFC 4035
            section 3.1.4.1).
        """
        return self._zoneFor(name.key, qtype)

    def _zoneFor(self, key: bytes, qtype: int) -> Zone | None:
        zones = self.zones
        probe = key
        fallback = None
        while True:
            zone = zones.get(probe)
            if zone is not None:
                if qtype == _DS and probe == key and probe != _ROOT_KEY:
                    fallback = zone
                else:
                    return zone
            if probe == _ROOT_KEY:
                return fallback
            probe = _parentKey(probe)

    def resolve(self, qname: Name, qtype: int) -> Answer | None:
        """
        Look a question (of class IN) up, as RFC 1034 section 4.3.2 does.

        @return: the answer, or L{None} when no zone held covers C{qname}
            (REFUSED).
        """
        cacheKey = (qname.key, qtype)
        answers = self._answers
        if cacheKey in answers:
            return answers[cacheKey]
        answer = self._resolve(qname, qtype)
        if len(answers) >= 65536:
            answers.clear()
        answers[cacheKey] = answer
        return answer

    def _resolve(self, qname: Name, qtype: int) -> Answer | None:
        key = qname.key
        zone = self._zoneFor(key, qtype)
        if zone is None:
            return None
        answers: list[RRset] = []
        authority: list[RRset] = []
        additional: list[RRset] = []
        present: set[tuple[bytes, int]] = set()
        required = 0
        rcode: int = Rcode.NOERROR
        aa = True
        first = True
        seen = {key}
        while True:
            node = zone.nodes.get(key)
            if node is None:
                encloser = zone.closestEncloser(_parentKey(key))
                if encloser.cut is not None:
                    required = self._referral(zone, encloser.cut, authority, additional)
                    aa = aa and not first
                else:
                    rcode = Rcode.NXDOMAIN
                    authority.append(zone.negative)
                break
            cut = node.cut
            if cut is not None and not (qtype == _DS and cut is node):
                required = self._referral(zone, cut, authority, additional)
                aa = aa and not first
                break
            rrsets = node.rrsets
            if qtype == _ANY:
                rrset = next(iter(rrsets.values()), None)
            else:
                rrset = rrsets.get(qtype)
            if rrset is not None:
                answers.append(rrset)
                present.add((key, rrset[0].rtype))
                self._addAdditional(zone, rrset, present, additional)
                break
            cname = rrsets.get(_CNAME)
            if cname is None:
                authority.append(zone.negative)
                break
            answers.append(cname)
            present.add((key, _CNAME))
            target = cname[0].rdata
            assert isinstance(target, CNAME)
            key = target.target.key
            if key in seen or len(answers) >= MAX_CHAIN:
                break
            seen.add(key)
            first = False
            nextZone = self._zoneFor(key, qtype)
            if nextZone is None:
                break
            zone = nextZone
        return Answer(rcode, aa, answers, authority, additional, required, self.rotate)

    def _addresses(
        self,
        zone: Zone,
        target: Name,
        glue: bool,
        present: set[tuple[bytes, int]],
        additional: list[RRset],
    ) -> int:
        """
        Add the A and AAAA RRsets of C{target}, from C{zone}, to the
        additional section, unless already in the message.

        @param glue: whether data below a cut may be used (for NS records).
        @return: how many records were added.
        """
        node = zone.nodes.get(target.key)
        if node is None or (node.cut is not None and not glue):
            return 0
        added = 0
        for rtype in _ADDRESS_TYPES:
            rrset = node.rrsets.get(rtype)
            if rrset is not None and (target.key, rtype) not in present:
                present.add((target.key, rtype))
                additional.append(rrset)
                added += len(rrset)
        return added

    def _addAdditional(
        self,
        zone: Zone,
        rrset: RRset,
        present: set[tuple[bytes, int]],
        additional: list[RRset],
    ) -> None:
        """
        Additional section processing (RFC 1034 section 4.3.2 step 6) for an
        answer RRset.
        """
        glue = rrset[0].rtype == _NS
        for record in rrset:
            target = _targetOf(record)
            if target is not None:
                self._addresses(zone, target, glue, present, additional)

    def _referral(
        self, zone: Zone, cut: Node, authority: list[RRset], additional: list[RRset]
    ) -> int:
        """
        Make a referral to the servers of the delegation C{cut} (RFC 1034
        section 4.3.2 step 3b): its NS RRset, and the addresses of those
        servers found in C{zone}, those below the cut first.

        @return: how many records of glue lie below the cut: a response
            that cannot hold them all must set TC (RFC 9471 section 3).
        """
        ns = cut.rrsets[_NS]
        authority.append(ns)
        present: set[tuple[bytes, int]] = set()
        required = 0
        targets = [target for target in map(_targetOf, ns) if target is not None]
        below = [target for target in targets if target.isSubdomainOf(cut.name)]
        for target in below:
            required += self._addresses(zone, target, True, present, additional)
        for target in targets:
            if not target.isSubdomainOf(cut.name):
                self._addresses(zone, target, True, present, additional)
        return required

    # -- Messages -----------------------------------------------------------

    def _responseEDNS(self, query: Message) -> EDNS | None:
        edns = query.edns
        if edns is None:
            return None
        return self._edns[edns.dnssecOK]

    def maxResponseSize(self, query: Message, stream: bool = False) -> int:
        """
        The longest answer C{query} may get (RFC 1035 section 4.2.1, RFC 6891
        section 6.2.5).

        @param stream: whether the query came over TCP.
        @return: 65535 over TCP; over UDP 512 without EDNS, else the
            requestor's payload size, at least 512 and at most
            L{maxUDPSize}.
        """
        if stream:
            return MAX_TCP_SIZE
        edns = query.edns
        if edns is None:
            return MIN_UDP_PAYLOAD
        return min(max(MIN_UDP_PAYLOAD, edns.payloadSize), self.maxUDPSize)

    def _outcome(self, query: Message) -> Message | Answer:
        """
        The checks of a query before its lookup, then the lookup.

        @return: an error response, or the L{Answer} to render.
        """
        questions = query.questions
        edns = query.edns
        if query.opcode != Opcode.QUERY:
            # RFC 1035 section 4.1.1: "the name server does not support the
            # requested kind of query".
            return self._error(query, Rcode.NOTIMP)
        if edns is not None and edns.version > 0:
            # RFC 6891 section 6.1.3.
            return self._error(query, Rcode.BADVERS)
        if len(questions) != 1:
            return self._error(query, Rcode.FORMERR)
        question = questions[0]
        if question.rclass != _IN or question.rtype in _TRANSFERS:
            return self._error(query, Rcode.REFUSED)
        answer = self.resolve(question.name, question.rtype)
        if answer is None:
            return self._error(query, Rcode.REFUSED)
        return answer

    def _error(self, query: Message, rcode: int) -> Message:
        """
        An error response without records (RFC 1035 section 4.1.1); the
        question is copied only when there is exactly one.
        """
        response = makeResponse(query, rcode, edns=self._responseEDNS(query))
        if len(query.questions) != 1:
            response = _withoutQuestions(response)
        return response

    def _render(self, query: Message, answer: Answer, turn: int) -> Message:
        answers, authority, additional = answer.sections(turn)
        return makeResponse(
            query,
            answer.rcode,
            aa=answer.aa,
            answers=answers,
            authority=authority,
            additional=additional,
            edns=self._responseEDNS(query),
        )

    def respond(self, query: Message) -> Message | None:
        """
        The whole response to C{query}, not yet cut to any size; each call
        counts as one answer for the rotation.

        @return: the response, or L{None} when C{query} gets none (QR set).
        """
        if query.qr:
            return None
        outcome = self._outcome(query)
        if isinstance(outcome, Message):
            return outcome
        return self._render(query, outcome, outcome.nextTurn())

    def _encode(self, query: Message, answer: Answer, turn: int, maxSize: int) -> bytes:
        """
        Encode the answer to C{query} at rotation step C{turn}, cut to
        C{maxSize}.
        """
        response = self._render(query, answer, turn)
        data = encodeMessage(response, maxSize)
        required = answer.requiredAdditional
        if required and not data[2] & _TC_BIT:
            # The codec drops additional data without TC; glue below the cut
            # is not optional (RFC 9471 section 3).
            kept = ((data[10] << 8) | data[11]) - (response.edns is not None)
            if kept < required:
                data = data[:2] + bytes((data[2] | _TC_BIT,)) + data[3:]
        return data

    def answerWire(self, data: bytes, stream: bool = False) -> bytes | None:
        """
        Answer a query given as bytes: the server's hot path.

        @param data: the query as received (without TCP's length prefix).
        @param stream: whether it came over TCP.
        @return: the encoded answer, or L{None} when the query gets none
            (shorter than a header, or QR set).
        """
        cache = self._streamCache if stream else self._datagramCache
        body = cache.get(data[2:])
        if body is not None:
            if isinstance(body, bytes):
                return data[:2] + body
            return data[:2] + body.next()
        return self._answerWire(data, stream, cache)

    def _answerWire(
        self, data: bytes, stream: bool, cache: dict[bytes, bytes | _Variants]
    ) -> bytes | None:
        if len(data) < HEADER_SIZE or data[2] & 0x80:
            return None
        try:
            query = decodeMessage(data)
        except WireError:
            return errorResponse(data)
        outcome = self._outcome(query)
        maxSize = self.maxResponseSize(query, stream)
        entry: bytes | _Variants
        if isinstance(outcome, Message):
            encoded = encodeMessage(outcome, maxSize)
            entry = encoded[2:]
        elif outcome.period == 1:
            encoded = self._encode(query, outcome, 0, maxSize)
            entry = encoded[2:]
        else:
            variants = _Variants(self, query, outcome, maxSize)
            encoded = data[:2] + variants.next()
            entry = variants
        if self._cacheLimit:
            self._remember(cache, data[2:], entry)
        return encoded

    def _remember(
        self, cache: dict[bytes, bytes | _Variants], key: bytes, entry: bytes | _Variants
    ) -> None:
        """
        Keep an answer, forgetting the oldest ones beyond the cache's size.
        """
        if isinstance(entry, bytes):
            self._cacheBytes += len(key) + len(entry)
        else:
            # The further encodings of a rotating answer count as they are
            # made.
            entry.cached = True
            self._cacheBytes += len(key) + entry.size()
        cache[key] = entry
        while self._cacheBytes > self._cacheLimit and cache:
            oldKey = next(iter(cache))
            old = cache.pop(oldKey)
            if isinstance(old, bytes):
                self._cacheBytes -= len(oldKey) + len(old)
            else:
                old.cached = False
                self._cacheBytes -= len(oldKey) + old.size()

    def clearCache(self) -> None:
        """
        Forget every cached lookup and encoded answer, as after the zones
        change.
        """
        self._answers.clear()
        self._datagramCache.clear()
        self._streamCache.clear()
        self._cacheBytes = 0


def _withoutQuestions(response: Message) -> Message:
    return replace(response, questions=())
