"""
Tests for L{netref.dns.iterative}: the iterative resolver, against the lab's
zones served by netref's DNS server on loopback, and against scripted
servers for the cases the lab does not have.
"""

from __future__ import annotations

from typing import Any

from twisted.internet import defer
from twisted.internet.defer import Deferred
from twisted.trial.unittest import TestCase

from netref.dns.client import DNSTimeoutError, Response
from netref.dns.iterative import MAX_QUERIES, NameNotFoundError, ResolutionError, resolve
from netref.dns.name import Name
from netref.dns.rdata import MX, NS, A, RRClass, RRType
from netref.dns.tap import makeDNSServices
from netref.dns.wire import Message, Question, ResourceRecord
from netref.lab.hosts import HOSTS
from netref.lab.kinds import zoneFile
from tests.support import freePort

ROOT_ADDRESS = "127.2.1.1"


def theReactor() -> Any:
    from twisted.internet import reactor

    return reactor


class LabResolutionTests(TestCase):
    """
    Every DNS host of the lab runs on its own address, on one free port;
    the resolver knows only the root.
    """

    def setUp(self) -> Deferred[None]:
        self.port = freePort()
        services = []
        for host in HOSTS:
            if "dns" in host.services:
                services += makeDNSServices(
                    host.address, self.port, [zoneFile(z) for z in host.zones]
                )
        for service in services:
            service.startService()
            self.addCleanup(service.stopService)
        return defer.succeed(None)

    def lookup(self, name: str, rtype: int) -> Deferred[list[ResourceRecord]]:
        return resolve(theReactor(), name, rtype, roots=[(ROOT_ADDRESS, self.port)])

    async def test_mailExchanger(self) -> None:
        """
        hamburger.edu's MX is found from the root: root, then edu, then
        dns.hamburger.edu (textbook 2.3 and 2.4.2).
        """
        records = await self.lookup("hamburger.edu", RRType.MX)
        self.assertEqual(
            [
                (r.rdata.preference, r.rdata.exchange.toText())
                for r in records
                if isinstance(r.rdata, MX)
            ],
            [(10, "mail.hamburger.edu.")],
        )

    async def test_address(self) -> None:
        records = await self.lookup("mail.crepes.fr", RRType.A)
        self.assertEqual([r.rdata.address for r in records], ["127.2.3.2"])

    async def test_alias(self) -> None:
        """
        www.enterprise.com is an alias: the CNAME comes first, then the
        canonical name's address.
        """
        records = await self.lookup("www.enterprise.com", RRType.A)
        self.assertEqual([r.rtype for r in records], [RRType.CNAME, RRType.A])
        self.assertEqual(records[-1].name, Name.fromText("relay1.west-coast.enterprise.com."))
        self.assertEqual(records[-1].rdata.address, "127.2.3.30")

    async def test_noSuchName(self) -> None:
        with self.assertRaises(NameNotFoundError) as caught:
            await self.lookup("nothere.hamburger.edu", RRType.MX)
        self.assertEqual(caught.exception.name, Name.fromText("nothere.hamburger.edu."))

    async def test_noData(self) -> None:
        """
        A name with no record of the type asked for: an empty answer, so a
        mailer falls back to the address (RFC 5321 section 5.1).
        """
        self.assertEqual(await self.lookup("mail.crepes.fr", RRType.MX), [])


def _name(text: str) -> Name:
    return Name.fromText(text)


class ScriptedServers:
    """
    A C{queryFunction} that answers from a table: (server address, name,
    type) to a message's sections.
    """

    def __init__(self, table: dict[tuple[str, str, int], dict[str, Any]]) -> None:
        self.table = table
        self.asked: list[tuple[str, str, int]] = []

    def __call__(self, reactor: Any, name: Name, rtype: int, **kwargs: Any) -> Deferred[Response]:
        server = kwargs["servers"][0]
        key = (server[0], name.toText(), rtype)
        self.asked.append(key)
        assert kwargs["recursionDesired"] is False
        if key not in self.table:
            return defer.fail(DNSTimeoutError("timed out"))
        sections = self.table[key]
        message = Message(
            id=1,
            qr=True,
            aa=sections.get("aa", False),
            rcode=sections.get("rcode", 0),
            questions=(Question(name, rtype),),
            answers=tuple(sections.get("answers", ())),
            authority=tuple(sections.get("authority", ())),
            additional=tuple(sections.get("additional", ())),
        )
        return defer.succeed(Response(message, server, "udp", 0.0, 0, message))


def _rr(name: str, rdata: Any) -> ResourceRecord:
    return ResourceRecord(_name(name), rdata.rtype, RRClass.IN, 3600, rdata)


class ScriptedResolutionTests(TestCase):
    """
    Referrals without glue, loops and silent servers.
    """

    def test_referralWithoutGlue(self) -> None:
        """
        A referral to a server whose name lies outside the delegated zone
        comes without glue: its address is found by a search of its own.
        """
        servers = ScriptedServers(
            {
                ("10.0.0.1", "example.org.", RRType.MX): {
                    "authority": [_rr("example.org.", NS(_name("ns.example.net.")))]
                },
                ("10.0.0.1", "ns.example.net.", RRType.A): {
                    "aa": True,
                    "answers": [_rr("ns.example.net.", A("10.0.0.2"))],
                },
                ("10.0.0.2", "example.org.", RRType.MX): {
                    "aa": True,
                    "answers": [_rr("example.org.", MX(5, _name("mx.example.org.")))],
                },
            }
        )
        d = resolve(None, "example.org", RRType.MX, [("10.0.0.1", 53)], queryFunction=servers)
        records = self.successResultOf(d)
        self.assertEqual(records[0].rdata.exchange, _name("mx.example.org."))
        self.assertEqual(len(servers.asked), 3)

    def test_referralLoopIsBounded(self) -> None:
        """
        Two servers that refer to each other forever: the search stops
        after L{MAX_QUERIES} queries with L{ResolutionError}.
        """
        table: dict[tuple[str, str, int], dict[str, Any]] = {}
        zones = ["org.", "example.org."]
        # Each answers with a referral to a zone the resolver has not seen
        # yet, and the names grow, so only the bound ends it.
        for depth in range(1, MAX_QUERIES + 5):
            zone = "x." * depth + "example.org."
            zones.append(zone)
        name = "x." * (MAX_QUERIES + 5) + "example.org."
        # A chain of referrals from the least specific zone to the most.
        for i, zone in enumerate(zones):
            server = f"10.1.{i // 250}.{i % 250 + 1}"
            following = f"10.1.{(i + 1) // 250}.{(i + 1) % 250 + 1}"
            table[(server, name, RRType.A)] = {
                "authority": [_rr(zone, NS(_name(f"ns.{zone}")))],
                "additional": [_rr(f"ns.{zone}", A(following))],
            }
        servers = ScriptedServers(table)
        d = resolve(None, name, RRType.A, [("10.1.0.1", 53)], queryFunction=servers)
        failure = self.failureResultOf(d, ResolutionError)
        self.assertIn("gave up", str(failure.value))
        self.assertEqual(len(servers.asked), MAX_QUERIES)

    def test_aliasLoop(self) -> None:
        """
        Two aliases that name each other end with L{ResolutionError}.
        """
        servers = ScriptedServers(
            {
                ("10.0.0.1", "a.example.", RRType.A): {
                    "aa": True,
                    "answers": [_rr("a.example.", _cname("b.example."))],
                },
                ("10.0.0.1", "b.example.", RRType.A): {
                    "aa": True,
                    "answers": [_rr("b.example.", _cname("a.example."))],
                },
            }
        )
        d = resolve(None, "a.example", RRType.A, [("10.0.0.1", 53)], queryFunction=servers)
        self.failureResultOf(d, ResolutionError)

    def test_silentServer(self) -> None:
        """
        No answer is a temporary failure, not NXDOMAIN.
        """
        d = resolve(
            None, "a.example", RRType.A, [("10.0.0.9", 53)], queryFunction=ScriptedServers({})
        )
        failure = self.failureResultOf(d, ResolutionError)
        self.assertNotIsInstance(failure.value, NameNotFoundError)

    def test_serverFailure(self) -> None:
        servers = ScriptedServers({("10.0.0.1", "a.example.", RRType.A): {"rcode": 2}})
        d = resolve(None, "a.example", RRType.A, [("10.0.0.1", 53)], queryFunction=servers)
        failure = self.failureResultOf(d, ResolutionError)
        self.assertIn("SERVFAIL", str(failure.value))


def _cname(target: str) -> Any:
    from netref.dns.rdata import CNAME

    return CNAME(_name(target))
