"""
Tests for L{netref.dns.authority}: the answer algorithm of RFC 1034 section
4.3.2 and the rules around it, on the zones of C{tests/dns_server_data/}
and small zones written here.
"""

from __future__ import annotations

import os

from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.trial.unittest import SynchronousTestCase

from netref.dns.authority import (
    MAX_CHAIN,
    MAX_TCP_SIZE,
    MAX_UDP_SIZE,
    Authority,
    Zone,
    ZoneError,
)
from netref.dns.name import Name
from netref.dns.rdata import CNAME, SOA, TXT, A, RRClass, RRType
from netref.dns.wire import (
    EDNS,
    Message,
    Opcode,
    Question,
    Rcode,
    ResourceRecord,
    WireError,
    decodeMessage,
    encodeMessage,
)
from netref.dns.zonefile import loadZoneFile, parseZone

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "dns_server_data")
ZONE_FILES = ("example.com.zone", "example.net.zone", "child.example.com.zone")


def loadTestZones() -> list[Zone]:
    """
    @return: the zones of C{tests/dns_server_data/}.
    """
    return [Zone.fromZoneData(loadZoneFile(os.path.join(DATA, name)), name) for name in ZONE_FILES]


def zoneFromText(text: str, origin: str) -> Zone:
    """
    @return: a zone from master-file text.
    """
    return Zone.fromZoneData(parseZone(text, origin), origin)


def n(text: str) -> Name:
    return Name.fromText(text if text.endswith(".") else text + ".")


def makeQuery(
    name: str,
    rtype: int = RRType.A,
    *,
    rclass: int = RRClass.IN,
    id: int = 0x1234,
    rd: bool = False,
    edns: EDNS | None = None,
    opcode: int = Opcode.QUERY,
) -> Message:
    return Message(
        id=id,
        opcode=opcode,
        rd=rd,
        questions=(Question(n(name), rtype, rclass),),
        edns=edns,
    )


def texts(records: tuple[ResourceRecord, ...]) -> list[str]:
    """
    @return: the records as text, sorted: sections compared as sets.
    """
    return sorted(record.toText() for record in records)


def addresses(records: tuple[ResourceRecord, ...]) -> list[str]:
    """
    @return: the addresses of the A and AAAA records, in order.
    """
    return [record.rdata.toText() for record in records if record.rtype in (1, 28)]


class AuthorityTestCase(SynchronousTestCase):
    """
    Asks questions of an L{Authority} serving the test zones.
    """

    rotate = True

    def setUp(self) -> None:
        self.authority = Authority(loadTestZones(), rotate=self.rotate)

    def ask(self, name: str, rtype: int = RRType.A, **kwargs: object) -> Message:
        response = self.authority.respond(makeQuery(name, rtype, **kwargs))  # type: ignore[arg-type]
        assert response is not None
        return response

    def askWire(self, query: Message, stream: bool = False) -> Message:
        data = self.authority.answerWire(encodeMessage(query), stream)
        assert data is not None
        return decodeMessage(data)

    def assertNegative(self, response: Message, rcode: int, zone: str, ttl: int) -> None:
        """
        A negative answer (RFC 2308 section 2): authoritative, no answer
        unless a CNAME led there, the zone's SOA with the negative TTL in the
        authority section, nothing else.
        """
        self.assertEqual(response.rcode, rcode)
        self.assertTrue(response.aa)
        self.assertEqual(len(response.authority), 1)
        soa = response.authority[0]
        self.assertEqual(soa.rtype, RRType.SOA)
        self.assertEqual(soa.name, n(zone))
        self.assertEqual(soa.ttl, ttl)
        self.assertEqual(response.additional, ())


class PositiveAnswerTests(AuthorityTestCase):
    """
    Names with the data asked for (RFC 1034 section 4.3.2 step 3a).
    """

    def test_authoritative(self) -> None:
        """
        The answer is the RRset, with AA set; the authority section stays
        empty (minimal responses, as RFC 1034 section 6.2.1's example).
        """
        response = self.ask("www.example.com")
        self.assertEqual(response.rcode, Rcode.NOERROR)
        self.assertTrue(response.qr)
        self.assertTrue(response.aa)
        self.assertFalse(response.tc)
        self.assertFalse(response.ra)
        self.assertEqual(addresses(response.answers), ["192.0.2.1", "192.0.2.2", "192.0.2.3"])
        self.assertEqual(response.authority, ())
        self.assertEqual(response.additional, ())

    def test_copiesHeader(self) -> None:
        """
        ID, opcode, RD and the question, in the letter case it was asked in,
        are copied (RFC 1035 section 4.1.1).
        """
        query = makeQuery("WwW.ExAmple.COM", id=4321, rd=True)
        response = self.authority.respond(query)
        assert response is not None
        self.assertEqual(response.id, 4321)
        self.assertEqual(response.opcode, Opcode.QUERY)
        self.assertTrue(response.rd)
        self.assertEqual(response.questions[0].name.wire, query.questions[0].name.wire)
        self.assertFalse(self.ask("www.example.com", rd=False).rd)

    def test_caseInsensitive(self) -> None:
        """
        Names match whatever their case (RFC 4343 section 3).
        """
        response = self.ask("WWW.EXAMPLE.COM", RRType.AAAA)
        self.assertEqual(addresses(response.answers), ["2001:db8::1"])

    def test_otherTypes(self) -> None:
        self.assertEqual(
            [record.rdata.toText() for record in self.ask("text.example.com", RRType.TXT).answers],
            ['"hello world"'],
        )
        soa = self.ask("example.com", RRType.SOA).answers
        self.assertEqual([record.rtype for record in soa], [RRType.SOA])
        self.assertEqual(soa[0].ttl, 3600)

    def test_apexNS(self) -> None:
        """
        The zone's own NS RRset is an authoritative answer, with the
        addresses of the servers in the zone; the one in example.net is out
        of bailiwick and left out (RFC 2181 section 5.4.1).
        """
        response = self.ask("example.com", RRType.NS)
        self.assertTrue(response.aa)
        self.assertEqual(
            texts(response.answers),
            [
                "example.com.\t3600\tIN\tNS\tns1.example.com.",
                "example.com.\t3600\tIN\tNS\tns2.example.net.",
            ],
        )
        self.assertEqual(
            texts(response.additional),
            [
                "ns1.example.com.\t3600\tIN\tA\t192.0.2.53",
                "ns1.example.com.\t3600\tIN\tAAAA\t2001:db8::53",
            ],
        )


class AdditionalTests(AuthorityTestCase):
    """
    Additional section processing (RFC 1034 section 4.3.2 step 6): A and
    AAAA records of MX, NS and SRV targets.
    """

    def test_mx(self) -> None:
        response = self.ask("mail.example.com", RRType.MX)
        self.assertEqual(
            texts(response.answers), ["mail.example.com.\t3600\tIN\tMX\t10 mx1.example.com."]
        )
        self.assertEqual(
            texts(response.additional),
            [
                "mx1.example.com.\t3600\tIN\tA\t192.0.2.25",
                "mx1.example.com.\t3600\tIN\tAAAA\t2001:db8::25",
            ],
        )

    def test_mxSeveral(self) -> None:
        """
        Every target gets what it has: mx2 has no AAAA.
        """
        response = self.ask("example.com", RRType.MX)
        self.assertEqual(
            addresses(response.additional), ["192.0.2.25", "2001:db8::25", "192.0.2.26"]
        )

    def test_srv(self) -> None:
        response = self.ask("_sip._tcp.example.com", RRType.SRV)
        self.assertEqual(len(response.answers), 1)
        self.assertEqual(addresses(response.additional), ["192.0.2.60", "2001:db8::60"])

    def test_throughCNAME(self) -> None:
        """
        The MX reached through a CNAME gets its additional data too.
        """
        response = self.ask("mxalias.example.com", RRType.MX)
        self.assertEqual([record.rtype for record in response.answers], [RRType.CNAME, RRType.MX])
        self.assertEqual(addresses(response.additional), ["192.0.2.25", "2001:db8::25"])

    def test_nullTarget(self) -> None:
        """
        A "null MX" (RFC 7505) has no target to add.
        """
        zone = zoneFromText(
            "@ 60 IN SOA ns hm 1 1 1 1 1\n@ 60 IN NS ns\nns 60 IN A 192.0.2.1\n@ 60 IN MX 0 .\n",
            "null.test",
        )
        response = Authority([zone]).respond(makeQuery("null.test", RRType.MX))
        assert response is not None
        self.assertEqual(len(response.answers), 1)
        self.assertEqual(response.additional, ())

    def test_noDuplicates(self) -> None:
        """
        An RRset already in the answer is not repeated in the additional
        section (RFC 2181 section 5.5... and common sense).
        """
        zone = zoneFromText(
            "@ 60 IN SOA ns hm 1 1 1 1 1\n@ 60 IN NS ns\nns 60 IN A 192.0.2.1\n"
            "ns 60 IN MX 10 ns\n",
            "self.test",
        )
        authority = Authority([zone])
        response = authority.respond(makeQuery("ns.self.test", RRType.ANY))
        assert response is not None
        # ANY gives one RRset: the A, first in the file, and nothing else.
        self.assertEqual([record.rtype for record in response.answers], [RRType.A])
        response = authority.respond(makeQuery("ns.self.test", RRType.MX))
        assert response is not None
        self.assertEqual(addresses(response.additional), ["192.0.2.1"])


class ReferralTests(AuthorityTestCase):
    """
    Names at or below a delegation get a referral (RFC 1034 section 4.3.2
    step 3b).
    """

    expectedNS = [
        "sub.example.com.\t3600\tIN\tNS\tns.sub.example.com.",
        "sub.example.com.\t3600\tIN\tNS\tns2.example.net.",
    ]
    expectedGlue = [
        "ns.sub.example.com.\t3600\tIN\tA\t192.0.2.153",
        "ns.sub.example.com.\t3600\tIN\tAAAA\t2001:db8::153",
    ]

    def assertReferral(self, response: Message) -> None:
        self.assertEqual(response.rcode, Rcode.NOERROR)
        self.assertFalse(response.aa, "a referral is not authoritative")
        self.assertEqual(response.answers, ())
        self.assertEqual(texts(response.authority), self.expectedNS)
        self.assertEqual(texts(response.additional), self.expectedGlue)

    def test_atCut(self) -> None:
        self.assertReferral(self.ask("sub.example.com"))

    def test_belowCut(self) -> None:
        self.assertReferral(self.ask("x.y.sub.example.com", RRType.MX))

    def test_glueName(self) -> None:
        """
        The glue's own name is below the cut: its address is not ours to
        give as an answer.
        """
        self.assertReferral(self.ask("ns.sub.example.com"))

    def test_nsAtCut(self) -> None:
        """
        The NS RRset of the cut is the child's to give: a referral too.
        """
        self.assertReferral(self.ask("sub.example.com", RRType.NS))

    def test_any(self) -> None:
        self.assertReferral(self.ask("sub.example.com", RRType.ANY))

    def test_dsAtCut(self) -> None:
        """
        DS lives on the parent side of the cut (RFC 4035 section 3.1.4.1):
        the parent answers, here with NODATA.
        """
        self.assertNegative(
            self.ask("sub.example.com", RRType.DS), Rcode.NOERROR, "example.com", 300
        )

    def test_dsBelowCut(self) -> None:
        self.assertReferral(self.ask("x.sub.example.com", RRType.DS))

    def test_siblingGlue(self) -> None:
        """
        A server named in a sibling delegation gets its glue too.
        """
        response = self.ask("www.other.example.com")
        self.assertFalse(response.aa)
        self.assertEqual(
            texts(response.authority), ["other.example.com.\t3600\tIN\tNS\tns.sub.example.com."]
        )
        self.assertEqual(texts(response.additional), self.expectedGlue)

    def test_childZoneHeld(self) -> None:
        """
        When the server holds the child zone too, the nearest zone answers
        (RFC 1034 section 4.3.2 step 2): no referral.
        """
        response = self.ask("host.child.example.com")
        self.assertTrue(response.aa)
        self.assertEqual(addresses(response.answers), ["192.0.2.200"])
        response = self.ask("child.example.com", RRType.NS)
        self.assertTrue(response.aa)
        self.assertEqual(len(response.answers), 1)
        self.assertNegative(
            self.ask("nothing.child.example.com"), Rcode.NXDOMAIN, "child.example.com", 60
        )

    def test_childZoneDS(self) -> None:
        """
        The DS of a child zone held too comes from the parent (RFC 4035
        section 3.1.4.1).
        """
        self.assertNegative(
            self.ask("child.example.com", RRType.DS), Rcode.NOERROR, "example.com", 300
        )

    def test_dsOfApexWithoutParent(self) -> None:
        """
        Without the parent zone, the zone itself says it has no DS.
        """
        self.assertNegative(self.ask("example.com", RRType.DS), Rcode.NOERROR, "example.com", 300)

    def test_glueRequiredSetsTC(self) -> None:
        """
        Glue below the cut must fit, or TC is set (RFC 9471 section 3);
        other additional data is dropped without TC (RFC 2181 section 9).
        """
        lines = ["@ 60 IN SOA ns hm 1 1 1 1 1", "@ 60 IN NS ns", "ns 60 IN A 192.0.2.1"]
        for i in range(20):
            lines.append(f"big 60 IN NS ns{i:02d}.big")
            lines.append(f"ns{i:02d}.big 60 IN AAAA 2001:db8::{i + 1:x}")
        authority = Authority([zoneFromText("\n".join(lines) + "\n", "glue.test")])
        data = authority.answerWire(encodeMessage(makeQuery("www.big.glue.test")))
        assert data is not None
        response = decodeMessage(data)
        self.assertLessEqual(len(data), 512)
        self.assertEqual(len(response.authority), 20)
        self.assertLess(len(response.additional), 20)
        self.assertTrue(response.tc)
        data = authority.answerWire(encodeMessage(makeQuery("www.big.glue.test")), stream=True)
        assert data is not None
        response = decodeMessage(data)
        self.assertFalse(response.tc)
        self.assertEqual(len(response.additional), 20)


class NegativeAnswerTests(AuthorityTestCase):
    """
    NXDOMAIN and NODATA (RFC 2308), with the SOA and the negative TTL.
    """

    def test_nxdomain(self) -> None:
        """
        example.com's SOA has TTL 3600 and MINIMUM 300: the negative TTL is
        300 (RFC 2308 section 3).
        """
        response = self.ask("nope.example.com")
        self.assertNegative(response, Rcode.NXDOMAIN, "example.com", 300)
        self.assertEqual(response.answers, ())
        soa = response.authority[0].rdata
        assert isinstance(soa, SOA)
        self.assertEqual(soa.minimum, 300)

    def test_negativeTTLIsSOATTL(self) -> None:
        """
        example.net's SOA has TTL 600 and MINIMUM 3600: the negative TTL is
        600, the smaller.
        """
        self.assertNegative(self.ask("nope.example.net"), Rcode.NXDOMAIN, "example.net", 600)
        self.assertNegative(
            self.ask("host.example.net", RRType.MX), Rcode.NOERROR, "example.net", 600
        )

    def test_nodata(self) -> None:
        response = self.ask("www.example.com", RRType.MX)
        self.assertNegative(response, Rcode.NOERROR, "example.com", 300)
        self.assertEqual(response.answers, ())

    def test_emptyNonTerminal(self) -> None:
        """
        A name with no records but names below it exists: NODATA, not
        NXDOMAIN (RFC 8020).
        """
        self.assertNegative(self.ask("c.deep.example.com"), Rcode.NOERROR, "example.com", 300)
        self.assertNegative(
            self.ask("b.c.deep.example.com", RRType.ANY), Rcode.NOERROR, "example.com", 300
        )
        self.assertNegative(
            self.ask("x.a.b.c.deep.example.com"), Rcode.NXDOMAIN, "example.com", 300
        )
        self.assertEqual(addresses(self.ask("a.b.c.deep.example.com").answers), ["192.0.2.99"])

    def test_wildcardIsALabel(self) -> None:
        """
        Wildcards (RFC 4592) are not implemented: C{*} matches only itself.
        """
        zone = zoneFromText(
            "@ 60 IN SOA ns hm 1 1 1 1 1\n@ 60 IN NS ns\n* 60 IN A 192.0.2.9\n", "wild.test"
        )
        authority = Authority([zone])
        response = authority.respond(makeQuery("anything.wild.test"))
        assert response is not None
        self.assertEqual(response.rcode, Rcode.NXDOMAIN)
        response = authority.respond(makeQuery("*.wild.test"))
        assert response is not None
        self.assertEqual(addresses(response.answers), ["192.0.2.9"])


class CNAMETests(AuthorityTestCase):
    """
    CNAME chains are followed inside the zones held (RFC 1034 section 4.3.2
    step 3a), with AA and RCODE as RFC 6604 section 2 says.
    """

    def test_chain(self) -> None:
        response = self.ask("chain1.example.com")
        self.assertTrue(response.aa)
        self.assertEqual(
            [record.toText() for record in response.answers[:3]],
            [
                "chain1.example.com.\t3600\tIN\tCNAME\tchain2.example.com.",
                "chain2.example.com.\t3600\tIN\tCNAME\talias.example.com.",
                "alias.example.com.\t3600\tIN\tCNAME\twww.example.com.",
            ],
        )
        self.assertEqual(len(addresses(response.answers)), 3)
        self.assertEqual(response.authority, ())

    def test_acrossZones(self) -> None:
        response = self.ask("cross.example.com")
        self.assertTrue(response.aa)
        self.assertEqual(
            texts(response.answers),
            [
                "cross.example.com.\t3600\tIN\tCNAME\thost.example.net.",
                "host.example.net.\t86400\tIN\tA\t198.51.100.1",
            ],
        )
        response = self.ask("back.example.net")
        self.assertEqual(len(response.answers), 7)

    def test_cnameAsked(self) -> None:
        """
        A question for the CNAME itself gets only the CNAME.
        """
        response = self.ask("alias.example.com", RRType.CNAME)
        self.assertEqual(
            texts(response.answers), ["alias.example.com.\t3600\tIN\tCNAME\twww.example.com."]
        )

    def test_outsideZones(self) -> None:
        """
        A target outside the zones held ends the answer: NOERROR, AA, the
        CNAME alone; the client's resolver carries on.
        """
        response = self.ask("outside.example.com")
        self.assertEqual(response.rcode, Rcode.NOERROR)
        self.assertTrue(response.aa)
        self.assertEqual(len(response.answers), 1)
        self.assertEqual(response.authority, ())

    def test_dangling(self) -> None:
        """
        A chain ending at a name that does not exist: NXDOMAIN, the RCODE of
        the last name (RFC 6604 section 2.1), with the CNAME and the SOA.
        """
        response = self.ask("dangling.example.com")
        self.assertEqual(response.rcode, Rcode.NXDOMAIN)
        self.assertEqual(len(response.answers), 1)
        self.assertNegative(response, Rcode.NXDOMAIN, "example.com", 300)

    def test_intoDelegation(self) -> None:
        """
        A chain into a delegation ends in a referral; AA stays as the first
        name made it (RFC 1035 section 4.1.1).
        """
        response = self.ask("intosub.example.com")
        self.assertTrue(response.aa)
        self.assertEqual(len(response.answers), 1)
        self.assertEqual(texts(response.authority), ReferralTests.expectedNS)
        self.assertEqual(texts(response.additional), ReferralTests.expectedGlue)

    def test_loop(self) -> None:
        """
        A loop is cut where a name comes back (RFC 1034 section 3.6.2).
        """
        response = self.ask("loop1.example.com")
        self.assertEqual(response.rcode, Rcode.NOERROR)
        self.assertEqual(len(response.answers), 2)

    def test_longChainBounded(self) -> None:
        lines = ["@ 60 IN SOA ns hm 1 1 1 1 1", "@ 60 IN NS ns", "ns 60 IN A 192.0.2.1"]
        for i in range(40):
            lines.append(f"c{i} 60 IN CNAME c{i + 1}")
        lines.append("c40 60 IN A 192.0.2.40")
        authority = Authority([zoneFromText("\n".join(lines) + "\n", "long.test")])
        response = authority.respond(makeQuery("c0.long.test"))
        assert response is not None
        self.assertEqual(len(response.answers), MAX_CHAIN)
        self.assertTrue(all(record.rtype == RRType.CNAME for record in response.answers))


class AnyTests(AuthorityTestCase):
    """
    QTYPE ANY gets the minimal answer of RFC 8482 section 4.1: one RRset.
    """

    def test_apex(self) -> None:
        response = self.ask("example.com", RRType.ANY)
        self.assertTrue(response.aa)
        self.assertEqual([record.rtype for record in response.answers], [RRType.SOA])

    def test_firstRRset(self) -> None:
        response = self.ask("www.example.com", RRType.ANY)
        self.assertEqual(len(addresses(response.answers)), 3)
        response = self.ask("mail.example.com", RRType.ANY)
        self.assertEqual([record.rtype for record in response.answers], [RRType.MX])
        self.assertEqual(len(response.additional), 2)

    def test_cname(self) -> None:
        response = self.ask("alias.example.com", RRType.ANY)
        self.assertEqual([record.rtype for record in response.answers], [RRType.CNAME])


class RefusalTests(AuthorityTestCase):
    """
    Questions the server does not answer, and queries it does not accept.
    """

    def assertRcode(self, response: Message, rcode: int) -> None:
        self.assertEqual(response.rcode, rcode)
        self.assertFalse(response.aa)
        self.assertEqual((response.answers, response.authority, response.additional), ((), (), ()))

    def test_outsideZones(self) -> None:
        response = self.ask("www.example.org")
        self.assertRcode(response, Rcode.REFUSED)
        self.assertEqual(response.questions, (Question(n("www.example.org"), RRType.A),))
        self.assertRcode(self.ask("com", RRType.NS), Rcode.REFUSED)
        self.assertRcode(self.ask(".", RRType.NS), Rcode.REFUSED)

    def test_classes(self) -> None:
        for rclass in (RRClass.CH, RRClass.HS, RRClass.ANY, 42):
            self.assertRcode(self.ask("www.example.com", rclass=rclass), Rcode.REFUSED)

    def test_transfers(self) -> None:
        """
        Zone transfers are not offered: REFUSED (RFC 5936 section 5: no client is authorized).
        """
        for rtype in (RRType.AXFR, RRType.IXFR):
            self.assertRcode(self.ask("example.com", rtype), Rcode.REFUSED)

    def test_opcodes(self) -> None:
        """
        Only QUERY is implemented (RFC 1035 section 4.1.1); the opcode is
        copied.
        """
        for opcode in (Opcode.IQUERY, Opcode.STATUS, Opcode.NOTIFY, Opcode.UPDATE, 3, 15):
            response = self.ask("example.com", RRType.SOA, opcode=opcode)
            self.assertRcode(response, Rcode.NOTIMP)
            self.assertEqual(response.opcode, opcode)

    def test_questionCount(self) -> None:
        """
        A query must have exactly one question: FORMERR, without questions.
        """
        question = Question(n("www.example.com"), RRType.A)
        for questions in ((), (question, question)):
            response = self.authority.respond(Message(id=7, questions=questions))
            assert response is not None
            self.assertRcode(response, Rcode.FORMERR)
            self.assertEqual(response.questions, ())
            self.assertEqual(response.id, 7)

    def test_responseDropped(self) -> None:
        """
        A message with QR set is not answered: answering answers lets two
        servers bounce messages forever.
        """
        query = Message(id=1, qr=True, questions=(Question(n("www.example.com"), RRType.A),))
        self.assertIsNone(self.authority.respond(query))
        self.assertIsNone(self.authority.answerWire(encodeMessage(query)))


class EDNSTests(AuthorityTestCase):
    """
    EDNS(0) (RFC 6891).
    """

    def test_notAsked(self) -> None:
        """
        No OPT record in the query, none in the response (section 7).
        """
        self.assertIsNone(self.ask("www.example.com").edns)
        self.assertIsNone(self.ask("www.example.org").edns)

    def test_echo(self) -> None:
        """
        The response's OPT announces the server's payload size, version 0,
        and copies DO (RFC 3225 section 3); options are ignored.
        """
        response = self.ask(
            "www.example.com", edns=EDNS(4096, options=((65001, b"xx"), (10, b"12345678")))
        )
        self.assertEqual(response.edns, EDNS(MAX_UDP_SIZE, 0, False, ()))
        response = self.ask("www.example.com", edns=EDNS(512, dnssecOK=True))
        self.assertEqual(response.edns, EDNS(MAX_UDP_SIZE, 0, True, ()))

    def test_errorsToo(self) -> None:
        """
        Error responses to an EDNS query have an OPT record too (section 7).
        """
        for response in (
            self.ask("www.example.org", edns=EDNS()),
            self.ask("example.com", RRType.AXFR, edns=EDNS()),
            self.ask("example.com", opcode=Opcode.NOTIFY, edns=EDNS()),
        ):
            self.assertIsNotNone(response.edns)

    def test_badvers(self) -> None:
        """
        A version above 0: BADVERS, with an OPT of version 0 (section
        6.1.3), and no data.
        """
        response = self.ask("www.example.com", edns=EDNS(version=1))
        self.assertEqual(response.rcode, Rcode.BADVERS)
        self.assertFalse(response.aa)
        self.assertEqual(response.answers, ())
        self.assertEqual(response.edns, EDNS(MAX_UDP_SIZE, 0, False, ()))
        data = self.authority.answerWire(
            encodeMessage(makeQuery("www.example.com", edns=EDNS(version=3)))
        )
        assert data is not None
        self.assertEqual(decodeMessage(data).rcode, Rcode.BADVERS)

    def test_maxResponseSize(self) -> None:
        """
        512 without EDNS; with it, the requestor's size, at least 512 and at
        most the server's (RFC 6891 section 6.2.5); 65535 over TCP.
        """
        size = self.authority.maxResponseSize
        self.assertEqual(size(makeQuery("a.example.com")), 512)
        self.assertEqual(size(makeQuery("a.example.com", edns=EDNS(100))), 512)
        self.assertEqual(size(makeQuery("a.example.com", edns=EDNS(1000))), 1000)
        self.assertEqual(size(makeQuery("a.example.com", edns=EDNS(4096))), MAX_UDP_SIZE)
        self.assertEqual(size(makeQuery("a.example.com"), stream=True), MAX_TCP_SIZE)
        bigger = Authority(loadTestZones(), maxUDPSize=4096)
        self.assertEqual(
            bigger.maxResponseSize(makeQuery("a.example.com", edns=EDNS(65535))), 4096
        )

    def test_maxUDPSizeRange(self) -> None:
        self.assertRaises(ValueError, Authority, [], maxUDPSize=511)
        self.assertRaises(ValueError, Authority, [], maxUDPSize=65536)


class TruncationTests(AuthorityTestCase):
    """
    Answers longer than the transport allows lose whole RRsets and get TC
    (RFC 1035 section 4.2.1, RFC 2181 section 9).
    """

    def test_withoutEDNS(self) -> None:
        """
        Forty addresses (640 octets) do not fit in 512: the RRset goes
        whole, TC is set, the question stays.
        """
        query = makeQuery("many.example.com")
        data = self.authority.answerWire(encodeMessage(query))
        assert data is not None
        self.assertLessEqual(len(data), 512)
        response = decodeMessage(data)
        self.assertTrue(response.tc)
        self.assertTrue(response.aa)
        self.assertEqual(response.answers, ())
        self.assertEqual(response.questions, query.questions)

    def test_withEDNS(self) -> None:
        for payload in (1232, 4096):
            response = self.askWire(makeQuery("many.example.com", edns=EDNS(payload)))
            self.assertFalse(response.tc)
            self.assertEqual(len(response.answers), 40)
        response = self.askWire(makeQuery("many.example.com", edns=EDNS(100)))
        self.assertTrue(response.tc, "a payload size below 512 is 512")
        self.assertIsNotNone(response.edns)

    def test_overEDNS(self) -> None:
        """
        Twelve TXT records of 125 octets are more than 1232 octets: TC even
        with EDNS 4096, and the OPT record stays (RFC 6891 section 7).
        """
        data = self.authority.answerWire(
            encodeMessage(makeQuery("big.example.com", RRType.TXT, edns=EDNS(4096)))
        )
        assert data is not None
        self.assertLessEqual(len(data), MAX_UDP_SIZE)
        response = decodeMessage(data)
        self.assertTrue(response.tc)
        self.assertEqual(response.answers, ())
        self.assertIsNotNone(response.edns)
        bigger = Authority(loadTestZones(), maxUDPSize=4096)
        data = bigger.answerWire(
            encodeMessage(makeQuery("big.example.com", RRType.TXT, edns=EDNS(4096)))
        )
        assert data is not None
        response = decodeMessage(data)
        self.assertFalse(response.tc)
        self.assertEqual(len(response.answers), 12)
        self.assertEqual(response.edns, EDNS(4096))

    def test_tcp(self) -> None:
        """
        Over TCP the answer is whole.
        """
        response = self.askWire(makeQuery("big.example.com", RRType.TXT), stream=True)
        self.assertFalse(response.tc)
        self.assertEqual(len(response.answers), 12)
        response = self.askWire(makeQuery("many.example.com"), stream=True)
        self.assertEqual(len(response.answers), 40)

    def test_rrsetBoundary(self) -> None:
        """
        A CNAME that fits is kept, the A RRset after it that does not is
        dropped whole.
        """
        zone = zoneFromText(
            "@ 60 IN SOA ns hm 1 1 1 1 1\n@ 60 IN NS ns\nns 60 IN A 192.0.2.1\n"
            "alias 60 IN CNAME many\n"
            + "".join(f"many 60 IN A 10.0.0.{i}\n" for i in range(1, 41)),
            "cut.test",
        )
        authority = Authority([zone])
        data = authority.answerWire(encodeMessage(makeQuery("alias.cut.test")))
        assert data is not None
        response = decodeMessage(data)
        self.assertTrue(response.tc)
        self.assertEqual([record.rtype for record in response.answers], [RRType.CNAME])

    def test_additionalDroppedQuietly(self) -> None:
        """
        Additional data that does not fit is left out without TC (RFC 2181
        section 9).
        """
        zone = zoneFromText(
            "@ 60 IN SOA ns hm 1 1 1 1 1\n@ 60 IN NS ns\nns 60 IN A 192.0.2.1\n"
            "@ 60 IN MX 10 mx\n" + "".join(f"mx 60 IN A 10.0.0.{i}\n" for i in range(1, 41)),
            "mx.test",
        )
        authority = Authority([zone])
        data = authority.answerWire(encodeMessage(makeQuery("mx.test", RRType.MX)))
        assert data is not None
        response = decodeMessage(data)
        self.assertFalse(response.tc)
        self.assertEqual(len(response.answers), 1)
        self.assertEqual(response.additional, ())


class RotationTests(AuthorityTestCase):
    """
    The order of a multi-address RRset turns on each answer: the textbook's
    load distribution (section 2.4.2).
    """

    def test_respond(self) -> None:
        orders = [addresses(self.ask("www.example.com").answers) for _ in range(4)]
        self.assertEqual(
            orders,
            [
                ["192.0.2.1", "192.0.2.2", "192.0.2.3"],
                ["192.0.2.2", "192.0.2.3", "192.0.2.1"],
                ["192.0.2.3", "192.0.2.1", "192.0.2.2"],
                ["192.0.2.1", "192.0.2.2", "192.0.2.3"],
            ],
        )

    def test_wire(self) -> None:
        """
        The cached encodings rotate as well, with each query's own ID.
        """
        seen = []
        for ident in range(1, 7):
            response = self.askWire(makeQuery("www.example.com", id=ident))
            self.assertEqual(response.id, ident)
            seen.append(addresses(response.answers)[0])
        self.assertEqual(seen, ["192.0.2.1", "192.0.2.2", "192.0.2.3"] * 2)

    def test_sharedAcrossCase(self) -> None:
        """
        Queries that differ only in case or EDNS take turns on one counter.
        """
        first = addresses(self.askWire(makeQuery("www.example.com")).answers)[0]
        second = addresses(self.askWire(makeQuery("WWW.example.com", edns=EDNS())).answers)[0]
        self.assertEqual((first, second), ("192.0.2.1", "192.0.2.2"))

    def test_singleRecordsStay(self) -> None:
        answers = [self.ask("www.example.com", RRType.AAAA).answers for _ in range(3)]
        self.assertEqual(answers[0], answers[1])

    def test_chainRotates(self) -> None:
        """
        The addresses at the end of a CNAME chain rotate too; the CNAMEs
        keep their places.
        """
        first = self.ask("chain1.example.com").answers
        second = self.ask("chain1.example.com").answers
        self.assertEqual(first[:3], second[:3])
        self.assertEqual(addresses(first)[1:] + addresses(first)[:1], addresses(second))


class NoRotationTests(AuthorityTestCase):
    """
    C{rotate=False} keeps the zone file's order.
    """

    rotate = False

    def test_sameOrder(self) -> None:
        for _ in range(3):
            self.assertEqual(
                addresses(self.ask("www.example.com").answers),
                ["192.0.2.1", "192.0.2.2", "192.0.2.3"],
            )
            self.assertEqual(
                addresses(self.askWire(makeQuery("www.example.com")).answers),
                ["192.0.2.1", "192.0.2.2", "192.0.2.3"],
            )


class WireTests(AuthorityTestCase):
    """
    L{Authority.answerWire}: bytes in, bytes out, with the cache.
    """

    def test_idPatched(self) -> None:
        for ident in (0, 1, 0xBEEF, 0xFFFF):
            response = self.askWire(makeQuery("mail.example.com", RRType.MX, id=ident))
            self.assertEqual(response.id, ident)
            self.assertEqual(len(response.answers), 1)

    def test_transportsApart(self) -> None:
        """
        The same bytes get a truncated answer over UDP, a whole one over TCP.
        """
        query = encodeMessage(makeQuery("many.example.com"))
        for _ in range(2):
            udp = self.authority.answerWire(query)
            tcp = self.authority.answerWire(query, stream=True)
            assert udp is not None and tcp is not None
            self.assertTrue(decodeMessage(udp).tc)
            self.assertEqual(len(decodeMessage(tcp).answers), 40)

    def test_smallCache(self) -> None:
        """
        A cache too small for anything still gives right answers.
        """
        for cacheBytes in (0, 1, 300):
            authority = Authority(loadTestZones(), cacheBytes=cacheBytes)
            for _ in range(3):
                for name in ("www.example.com", "mail.example.com", "nope.example.com"):
                    data = authority.answerWire(encodeMessage(makeQuery(name, id=9)))
                    assert data is not None
                    response = decodeMessage(data)
                    self.assertEqual((response.id, response.aa), (9, True))
            cached = {**authority._datagramCache, **authority._streamCache}
            size = sum(
                len(key) + (len(entry) if isinstance(entry, bytes) else entry.size())
                for key, entry in cached.items()
            )
            self.assertEqual(authority._cacheBytes, size)
            self.assertLessEqual(size, cacheBytes + 200)
            if cacheBytes < 20:
                self.assertEqual(cached, {})

    def test_formerr(self) -> None:
        """
        A query that does not decode gets FORMERR with its ID, opcode and
        RD when the header is readable (RFC 1035 section 4.1.1).
        """
        good = encodeMessage(makeQuery("www.example.com", id=0xABCD, rd=True))
        for bad in (
            good[:-3],
            good[:12] + b"\xc0\x0c\x00\x01\x00\x01",  # a name that points at itself
            good + b"\x00",
            good[:4] + b"\x00\x02" + good[6:],
        ):
            data = self.authority.answerWire(bad)
            assert data is not None
            response = decodeMessage(data)
            self.assertEqual(response.id, 0xABCD)
            self.assertEqual(response.rcode, Rcode.FORMERR)
            self.assertTrue(response.rd)
            self.assertTrue(response.qr)

    def test_noHeader(self) -> None:
        for data in (b"", b"\x12", b"\x12\x34\x01\x00\x00\x01"):
            self.assertIsNone(self.authority.answerWire(data))
            self.assertIsNone(self.authority.answerWire(data, stream=True))

    def test_qrSetDropped(self) -> None:
        good = encodeMessage(makeQuery("www.example.com"))
        self.assertIsNone(self.authority.answerWire(good[:2] + bytes([good[2] | 0x80]) + good[3:]))

    @settings(max_examples=300, deadline=None)
    @given(st.binary(max_size=600))
    def test_anyBytes(self, data: bytes) -> None:
        """
        Whatever arrives, the answer is nothing or a response with the
        query's ID, and nothing raises.
        """
        answer = self.authority.answerWire(data)
        if answer is not None:
            response = decodeMessage(answer)
            self.assertEqual(response.id, int.from_bytes(data[:2], "big"))
            self.assertTrue(response.qr)

    @settings(max_examples=200, deadline=None)
    @given(st.data())
    def test_mutatedQueries(self, data: st.DataObject) -> None:
        """
        Good queries with random bytes changed decode or get FORMERR.
        """
        name = data.draw(st.sampled_from(["www.example.com", "sub.example.com", "x.example.org"]))
        good = bytearray(encodeMessage(makeQuery(name, edns=EDNS())))
        for _ in range(data.draw(st.integers(1, 4))):
            good[data.draw(st.integers(0, len(good) - 1))] = data.draw(st.integers(0, 255))
        answer = self.authority.answerWire(bytes(good))
        if answer is not None:
            try:
                decodeMessage(answer)
            except WireError as e:
                self.fail(f"undecodable answer {answer!r}: {e}")


class ZoneTests(SynchronousTestCase):
    """
    L{Zone} refuses data it cannot serve.
    """

    origin = n("z.test")
    soa = ResourceRecord(
        origin, RRType.SOA, RRClass.IN, 60, SOA(n("ns.z.test"), n("hm.z.test"), 1, 1, 1, 1, 30)
    )

    def test_negativeTTL(self) -> None:
        zone = Zone(self.origin, [self.soa])
        self.assertEqual(zone.negative[0].ttl, 30)
        self.assertEqual(zone.soa, self.soa)

    def test_noSOA(self) -> None:
        record = ResourceRecord(n("a.z.test"), RRType.A, RRClass.IN, 60, A("192.0.2.1"))
        self.assertRaises(ZoneError, Zone, self.origin, [record])

    def test_outside(self) -> None:
        record = ResourceRecord(n("a.y.test"), RRType.A, RRClass.IN, 60, A("192.0.2.1"))
        error = self.assertRaises(ZoneError, Zone, self.origin, [self.soa, record], "z.zone")
        self.assertIn("z.zone", str(error))

    def test_notIN(self) -> None:
        record = ResourceRecord(n("a.z.test"), RRType.TXT, RRClass.CH, 60, TXT((b"x",)))
        self.assertRaises(ZoneError, Zone, self.origin, [self.soa, record])

    def test_cnameAndData(self) -> None:
        name = n("a.z.test")
        cname = ResourceRecord(name, RRType.CNAME, RRClass.IN, 60, CNAME(n("b.z.test")))
        other = ResourceRecord(name, RRType.A, RRClass.IN, 60, A("192.0.2.1"))
        self.assertRaises(ZoneError, Zone, self.origin, [self.soa, cname, other])
        second = ResourceRecord(name, RRType.CNAME, RRClass.IN, 60, CNAME(n("c.z.test")))
        self.assertRaises(ZoneError, Zone, self.origin, [self.soa, cname, second])

    def test_duplicateZones(self) -> None:
        self.assertRaises(ValueError, Authority, [Zone(self.origin, [self.soa])] * 2)

    def test_emptyNonTerminals(self) -> None:
        record = ResourceRecord(n("a.b.c.z.test"), RRType.A, RRClass.IN, 60, A("192.0.2.1"))
        zone = Zone(self.origin, [self.soa, record])
        self.assertEqual(
            sorted(node.name.toText() for node in zone.nodes.values()),
            ["a.b.c.z.test.", "b.c.z.test.", "c.z.test.", "z.test."],
        )

    def test_zoneData(self) -> None:
        """
        An L{Authority} takes zones as L{netref.dns.zonefile} reads them too.
        """
        data = loadZoneFile(os.path.join(DATA, "example.net.zone"))
        authority = Authority([data])
        self.assertEqual(list(authority.zones), [n("example.net").key])
        response = authority.respond(makeQuery("host.example.net"))
        assert response is not None
        self.assertEqual(addresses(response.answers), ["198.51.100.1"])
