"""
Tests for C{netref dig}: its command line, the dig-style and textbook
output of L{netref.dns.presentation}, the tool on a fake network, and the
tool against NSD, its output compared line by line with BIND's own C{dig}.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import sys
from typing import Any

from twisted.internet import defer, reactor
from twisted.internet.defer import Deferred
from twisted.internet.utils import getProcessOutputAndValue
from twisted.python.usage import UsageError
from twisted.trial.unittest import SkipTest, SynchronousTestCase, TestCase

from netref.core.cli import ToolError
from netref.dns import client
from netref.dns.client import Options, Response, TryFailure, formatDig, parseServer
from netref.dns.name import ROOT, Name
from netref.dns.presentation import (
    describeServer,
    formatFooter,
    formatMessage,
    formatQuestion,
    formatRecord,
    formatShort,
    formatTextbook,
    rcodeToText,
    textbookTuple,
)
from netref.dns.rdata import CNAME, MX, NS, SOA, TXT, A, RRClass, RRType, UnknownRdata
from netref.dns.wire import EDNS, Message, Opcode, Question, Rcode, ResourceRecord, encodeMessage
from tests.test_dns_client import FakeReactor, answer, startNSD


def name(text: str) -> Name:
    return Name.fromText(text, ROOT)


def record(owner: str, ttl: int, rdata: Any) -> ResourceRecord:
    return ResourceRecord(name(owner), rdata.rtype, RRClass.IN, ttl, rdata)


GAIA = name("gaia.cs.umass.edu")

#: The edu TLD server's referral for gaia.cs.umass.edu (textbook 2.4.2).
REFERRAL = Message(
    id=4242,
    qr=True,
    questions=(Question(GAIA, RRType.A),),
    authority=(record("umass.edu", 172800, NS(name("dns.umass.edu"))),),
    additional=(record("dns.umass.edu", 172800, A("127.2.2.1")),),
    edns=EDNS(1232),
)

#: dig's output for L{REFERRAL}, from the header line on.
REFERRAL_TEXT = (
    ";; ->>HEADER<<- opcode: QUERY, status: NOERROR, id: 4242\n"
    ";; flags: qr; QUERY: 1, ANSWER: 0, AUTHORITY: 1, ADDITIONAL: 2\n"
    "\n"
    ";; OPT PSEUDOSECTION:\n"
    "; EDNS: version: 0, flags:; udp: 1232\n"
    ";; QUESTION SECTION:\n"
    ";gaia.cs.umass.edu.\t\tIN\tA\n"
    "\n"
    ";; AUTHORITY SECTION:\n"
    "umass.edu.\t\t172800\tIN\tNS\tdns.umass.edu.\n"
    "\n"
    ";; ADDITIONAL SECTION:\n"
    "dns.umass.edu.\t\t172800\tIN\tA\t127.2.2.1\n"
    "\n"
)

#: dns.umass.edu's answer: authoritative, with an MX too.
ANSWER = Message(
    id=7,
    qr=True,
    aa=True,
    rd=True,
    rcode=Rcode.NOERROR,
    questions=(Question(name("umass.edu"), RRType.MX),),
    answers=(record("umass.edu", 3600, MX(10, name("mail.umass.edu"))),),
    additional=(record("mail.umass.edu", 3600, A("127.2.0.11")),),
)


class ColumnTests(SynchronousTestCase):
    """
    Records and questions in dig's columns.  The expected lines are what
    dig 9.18 prints for the same records (see L{DigComparisonTests}, which
    checks many more against dig itself).
    """

    def test_records(self) -> None:
        cases = [
            ("umass.edu.", 3600, A("127.0.0.1"), "umass.edu.\t\t3600\tIN\tA\t127.0.0.1"),
            (
                "dns.cs.umass.edu.",
                3600,
                A("127.2.2.9"),
                "dns.cs.umass.edu.\t3600\tIN\tA\t127.2.2.9",
            ),
            # At or past a column: the next column, with a tab if that is
            # a tab stop, else with a space.
            (
                "xxxxxxxxxxxxx.umass.edu.",
                7,
                A("127.0.0.1"),
                "xxxxxxxxxxxxx.umass.edu. 7\tIN\tA\t127.0.0.1",
            ),
            (
                "xxxxxxxxxxxxxxxxxxxx.umass.edu.",
                7,
                A("127.0.0.1"),
                "xxxxxxxxxxxxxxxxxxxx.umass.edu.\t7 IN\tA\t127.0.0.1",
            ),
            (
                "a-rather-long-host-name-for-the-columns.umass.edu.",
                3600,
                A("127.2.0.12"),
                "a-rather-long-host-name-for-the-columns.umass.edu. 3600\tIN A 127.2.0.12",
            ),
        ]
        for owner, ttl, rdata, expected in cases:
            self.assertEqual(formatRecord(record(owner, ttl, rdata)), expected)

    def test_questions(self) -> None:
        """
        In a question line, the C{";"} does not count in the columns.
        """
        cases = [
            ("umass.edu.", ";umass.edu.\t\t\tIN\tA"),
            ("xxxx.umass.edu.", ";xxxx.umass.edu.\t\t\tIN\tA"),
            ("gaia.cs.umass.edu.", ";gaia.cs.umass.edu.\t\tIN\tA"),
            ("xxxxxxxxxxxxxxxxxxxx.umass.edu.", ";xxxxxxxxxxxxxxxxxxxx.umass.edu.\tIN\tA"),
            (
                "averyveryverylongname-abcdefghij.umass.edu.",
                ";averyveryverylongname-abcdefghij.umass.edu. IN A",
            ),
        ]
        for owner, expected in cases:
            self.assertEqual(formatQuestion(Question(name(owner), RRType.A)), expected)

    def test_unknownTypeAndClass(self) -> None:
        """
        Types and classes without a mnemonic are written as RFC 3597 says.
        """
        rr = ResourceRecord(name("x.umass.edu"), 65280, 3, 60, UnknownRdata(65280, b"\x0a"))
        self.assertEqual(formatRecord(rr), "x.umass.edu.\t\t60\tCH\tTYPE65280 \\# 1 0A")
        self.assertEqual(
            formatQuestion(Question(name("x.umass.edu"), 65280, 99)),
            ";x.umass.edu.\t\t\tCLASS99\tTYPE65280",
        )


class MessageFormatTests(SynchronousTestCase):
    """
    Whole messages as dig prints them.
    """

    def test_referral(self) -> None:
        self.assertEqual(formatMessage(REFERRAL), REFERRAL_TEXT)

    def test_answerWithoutEDNS(self) -> None:
        """
        An authoritative answer to a query with RD: dig's warning line, no
        OPT pseudo-section, empty sections left out.
        """
        self.assertEqual(
            formatMessage(ANSWER),
            ";; ->>HEADER<<- opcode: QUERY, status: NOERROR, id: 7\n"
            ";; flags: qr aa rd; QUERY: 1, ANSWER: 1, AUTHORITY: 0, ADDITIONAL: 1\n"
            ";; WARNING: recursion requested but not available\n"
            "\n"
            ";; QUESTION SECTION:\n"
            ";umass.edu.\t\t\tIN\tMX\n"
            "\n"
            ";; ANSWER SECTION:\n"
            "umass.edu.\t\t3600\tIN\tMX\t10 mail.umass.edu.\n"
            "\n"
            ";; ADDITIONAL SECTION:\n"
            "mail.umass.edu.\t\t3600\tIN\tA\t127.2.0.11\n"
            "\n",
        )

    def test_statusAndFlags(self) -> None:
        """
        The status is the RCODE's name (extended ones too), the opcode's
        name, and a message without flags has an empty flags list.
        """
        message = Message(id=1, opcode=Opcode.NOTIFY, rcode=Rcode.BADVERS, edns=EDNS())
        lines = formatMessage(message).splitlines()
        self.assertEqual(lines[0], ";; ->>HEADER<<- opcode: NOTIFY, status: BADVERS, id: 1")
        self.assertEqual(lines[1], ";; flags:; QUERY: 0, ANSWER: 0, AUTHORITY: 0, ADDITIONAL: 1")
        self.assertEqual(rcodeToText(12), "RCODE12")

    def test_ednsOptions(self) -> None:
        """
        The DO flag, and EDNS options: NSID and COOKIE by name, others by
        number.
        """
        edns = EDNS(4096, dnssecOK=True, options=((3, b"ns1"), (10, b"\x01\x02"), (65001, b"")))
        lines = formatMessage(Message(id=1, qr=True, edns=edns)).splitlines()
        self.assertEqual(
            lines[3:],
            [
                ";; OPT PSEUDOSECTION:",
                "; EDNS: version: 0, flags: do; udp: 4096",
                '; NSID: 6e 73 31 ("ns1")',
                "; COOKIE: 0102",
                "; OPT=65001",
            ],
        )

    def test_footer(self) -> None:
        self.assertEqual(
            formatFooter(("127.2.2.1", 10053), "udp", 0.0123, 62),
            ";; Query time: 12 msec\n"
            ";; SERVER: 127.2.2.1#10053(127.2.2.1) (UDP)\n"
            ";; MSG SIZE  rcvd: 62\n\n",
        )
        footer = formatFooter(("::1", 53), "tcp", 0, 62, "localhost", when=0.0)
        self.assertIn(";; SERVER: ::1#53(localhost) (TCP)\n", footer)
        self.assertRegex(footer, r";; WHEN: \w{3} \w{3} \d\d \d\d:\d\d:\d\d \w* ?19[67]\d\n")

    def test_short(self) -> None:
        answers = (
            record("www.umass.edu", 60, CNAME(GAIA)),
            record("gaia.cs.umass.edu", 60, A("127.2.0.10")),
        )
        message = Message(id=1, qr=True, answers=answers, authority=REFERRAL.authority)
        self.assertEqual(formatShort(message), "gaia.cs.umass.edu.\n127.2.0.10\n")

    def test_describeServer(self) -> None:
        self.assertEqual(describeServer(("127.2.2.1", 10053)), "127.2.2.1#10053")
        self.assertEqual(describeServer(("::1", 53, 0, 0)), "::1#53")


class TextbookTests(SynchronousTestCase):
    """
    The textbook's (Name, Value, Type, TTL) view (section 2.4.3).
    """

    def test_tuples(self) -> None:
        """
        Names lose their final dot, as the textbook writes them; values are
        the record data in zone-file form.
        """
        cases = [
            (record("relay1.bar.foo.com", 3600, A("145.37.93.126")), "A"),
            (record("foo.com", 3600, NS(name("dns.foo.com"))), "NS"),
            (record("foo.com", 3600, CNAME(name("relay1.bar.foo.com"))), "CNAME"),
            (record("foo.com", 3600, MX(10, name("mail.bar.foo.com"))), "MX"),
        ]
        self.assertEqual(
            [textbookTuple(rr) for rr, _ in cases],
            [
                "(relay1.bar.foo.com, 145.37.93.126, A, 3600)",
                "(foo.com, dns.foo.com, NS, 3600)",
                "(foo.com, relay1.bar.foo.com, CNAME, 3600)",
                "(foo.com, 10 mail.bar.foo.com, MX, 3600)",
            ],
        )
        root = ResourceRecord(ROOT, RRType.NS, RRClass.IN, 518400, NS(name("a.root-servers.net")))
        self.assertEqual(textbookTuple(root), "(., a.root-servers.net, NS, 518400)")
        soa = record(
            "umass.edu",
            300,
            SOA(name("dns.umass.edu"), name("hostmaster.umass.edu"), 1, 2, 3, 4, 5),
        )
        self.assertEqual(
            textbookTuple(soa),
            "(umass.edu, dns.umass.edu. hostmaster.umass.edu. 1 2 3 4 5, SOA, 300)",
        )
        txt = record("big.umass.edu", 60, TXT((b"a b", b"c")))
        self.assertEqual(textbookTuple(txt), '(big.umass.edu, "a b" "c", TXT, 60)')

    def test_message(self) -> None:
        self.assertEqual(
            formatTextbook(REFERRAL),
            ";; ->>HEADER<<- opcode: QUERY, status: NOERROR, id: 4242\n"
            ";; flags: qr; QUERY: 1, ANSWER: 0, AUTHORITY: 1, ADDITIONAL: 2\n"
            "\n"
            ";; QUESTION SECTION:\n"
            ";gaia.cs.umass.edu.\t\tIN\tA\n"
            "\n"
            ";; AUTHORITY SECTION:\n"
            "(umass.edu, dns.umass.edu, NS, 172800)\n"
            "\n"
            ";; ADDITIONAL SECTION:\n"
            "(dns.umass.edu, 127.2.2.1, A, 172800)\n"
            "\n",
        )


class ServerSpecTests(SynchronousTestCase):
    """
    L{parseServer}: the C{SERVER[:PORT]} of C{@SERVER}.
    """

    def test_forms(self) -> None:
        cases = {
            "127.2.1.1": ("127.2.1.1", None),
            "127.2.1.1:53": ("127.2.1.1", 53),
            "localhost:10053": ("localhost", 10053),
            "::1": ("::1", None),
            "2001:db8::35": ("2001:db8::35", None),
            "[::1]": ("::1", None),
            "[::1]:10053": ("::1", 10053),
        }
        for spec, expected in cases.items():
            self.assertEqual(parseServer(spec), expected, spec)

    def test_bad(self) -> None:
        for spec in (
            "",
            ":53",
            "127.0.0.1:",
            "127.0.0.1:0",
            "1.2.3.4:65536",
            "[::1",
            "[x]:5",
            "[::1]53",
            "::1:x:",
            "host:port",
        ):
            self.assertRaises(UsageError, parseServer, spec)


class OptionsTests(SynchronousTestCase):
    """
    The command line of C{netref dig}: dig's, in any order.
    """

    def parse(self, *args: str) -> Options:
        options = Options()
        options.parseOptions(list(args))
        return options

    def test_defaults(self) -> None:
        options = self.parse("gaia.cs.umass.edu")
        self.assertEqual(options["name"], GAIA)
        self.assertEqual(options["rtype"], RRType.A)
        self.assertEqual(options["rclass"], RRClass.IN)
        self.assertEqual(options["servers"], [("127.0.0.1", 10053)])
        self.assertEqual((options["timeout"], options["tries"]), (2.0, 3))
        for flag in ("tcp", "ignore", "norecurse", "noedns", "short", "textbook", "trace"):
            self.assertFalse(options[flag], flag)

    def test_noName(self) -> None:
        """
        As dig: no name asks for the root's NS records; a type alone asks
        about the root.
        """
        options = self.parse()
        self.assertEqual((options["name"], options["rtype"]), (ROOT, RRType.NS))
        options = self.parse("SOA")
        self.assertEqual((options["name"], options["rtype"]), (ROOT, RRType.SOA))

    def test_anyOrder(self) -> None:
        """
        Server, type, class, name and options come in any order; C{--}
        options may follow the name.
        """
        for args in (
            ("@127.2.1.2:53", "MX", "umass.edu", "+norec", "--tcp"),
            ("umass.edu", "--tcp", "mx", "@127.2.1.2:53", "+norecurse"),
            ("+norec", "IN", "MX", "@127.2.1.2", "-p", "53", "umass.edu", "+tcp"),
            ("--port=53", "--norecurse", "umass.edu", "--tcp", "MX", "@127.2.1.2"),
        ):
            options = self.parse(*args)
            self.assertEqual(options["name"], name("umass.edu"), args)
            self.assertEqual(options["rtype"], RRType.MX, args)
            self.assertEqual(options["servers"], [("127.2.1.2", 53)], args)
            self.assertTrue(options["norecurse"], args)
            self.assertTrue(options["tcp"], args)

    def test_typeThenName(self) -> None:
        """
        A word that names a type is the type, unless the type is already
        given: then it is the name.
        """
        options = self.parse("a", "a")
        self.assertEqual((options["rtype"], options["name"]), (RRType.A, name("a")))
        options = self.parse("ns", "ch", "TXT")
        self.assertEqual(options["rtype"], RRType.NS)
        self.assertEqual(options["rclass"], RRClass.CH)
        self.assertEqual(options["name"], name("TXT"))
        self.assertEqual(self.parse("TYPE65280", "x")["rtype"], 65280)

    def test_dashOptions(self) -> None:
        """
        dig's C{-t TYPE}, C{-c CLASS} and C{-x ADDRESS}; with C{-t}, a word
        that names a type is the name.
        """
        options = self.parse("-t", "MX", "a")
        self.assertEqual((options["rtype"], options["name"]), (RRType.MX, name("a")))
        self.assertEqual(self.parse("-c", "ch", "x")["rclass"], RRClass.CH)
        options = self.parse("-x", "127.2.0.10")
        self.assertEqual(options["name"], name("10.0.2.127.in-addr.arpa"))
        self.assertEqual(options["rtype"], RRType.PTR)
        options = self.parse("-x", "2001:db8::1", "-t", "ANY")
        self.assertEqual(options["name"], name("1." + "0." * 23 + "8.b.d.0.1.0.0.2.ip6.arpa"))
        self.assertEqual(options["rtype"], RRType.ANY)

    def test_servers(self) -> None:
        """
        Several servers are tried in turn; C{--port} is the port of those
        given without one.
        """
        options = self.parse("x", "@127.2.1.1", "@[::1]:53", "@localhost", "-p", "5353")
        self.assertEqual(
            options["servers"], [("127.2.1.1", 5353), ("::1", 53), ("localhost", 5353)]
        )

    def test_plusOptions(self) -> None:
        options = self.parse("x", "+short", "+noedns", "+tries=5", "+time=1.5", "+bufsize=4096")
        self.assertTrue(options["short"])
        self.assertTrue(options["noedns"])
        self.assertEqual(options["tries"], 5)
        self.assertEqual(options["timeout"], 1.5)
        self.assertEqual(options["bufsize"], 4096)
        self.assertEqual(self.parse("x", "+retry=0")["tries"], 1)
        options = self.parse("x", "+tcp", "+notcp", "+norec", "+rec", "+textbook", "+ignore")
        self.assertFalse(options["tcp"])
        self.assertFalse(options["norecurse"])
        self.assertTrue(options["textbook"])
        self.assertTrue(options["ignore"])

    def test_errors(self) -> None:
        for args in (
            ("one.example", "two.example"),
            ("x", "+frobnicate"),
            ("x", "+tries=many"),
            ("x", "+tries=0"),
            ("x", "--timeout", "0"),
            ("x", "--port", "0"),
            ("x", "+bufsize=100"),
            ("x", "--tcp", "--ignore"),
            ("x", "@"),
            ("bad..name",),
            ("x", "--no-such-option"),
            ("x", "-t", "NOSUCHTYPE"),
            ("x", "-c", "NOSUCHCLASS"),
            ("x", "-x", "127.0.0.1"),
            ("-x", "gaia.cs.umass.edu"),
        ):
            self.assertRaises(UsageError, self.parse, *args)


class RunTests(SynchronousTestCase):
    """
    L{client.run} on a fake network: what C{netref dig} prints.
    """

    def setUp(self) -> None:
        self.reactor = FakeReactor()
        self.out = io.StringIO()
        self.patch(sys, "stdout", self.out)
        ids = iter(range(100, 0x10000))
        self.patch(client.secrets, "randbelow", lambda n: next(ids))

    def dig(self, *args: str) -> list[Any]:
        options = Options()
        options.parseOptions(list(args))
        results: list[Any] = []
        client.run(self.reactor, options).addBoth(results.append)
        return results

    def reply(
        self,
        message: Message | None = None,
        records: tuple[ResourceRecord, ...] = (),
        **kwargs: Any,
    ) -> None:
        """
        Answer the last query: with C{message}, or with C{records} and
        L{answer}'s C{kwargs}.
        """
        port = self.reactor.udpPorts[-1]
        sent = port.sentQuery()
        response = answer(sent, *records, **kwargs) if message is None else message
        port.deliver(encodeMessage(response), port.connectedTo)

    def test_digOutput(self) -> None:
        results = self.dig("umass.edu", "MX", "@127.2.2.1")
        sent = self.reactor.udpPorts[0].sentQuery()
        self.assertEqual(sent.edns, EDNS(1232))
        self.reactor.advance(0.003)
        mx = record("umass.edu", 3600, MX(10, name("mail.umass.edu")))
        self.reply(answer(sent, mx))
        self.assertEqual(results, [None])
        output = self.out.getvalue()
        head, footer = output.split(";; Query time")
        self.assertEqual(
            head,
            "\n"
            "; <<>> netref dig <<>> umass.edu. MX @127.2.2.1#10053\n"
            ";; Got answer:\n"
            ";; ->>HEADER<<- opcode: QUERY, status: NOERROR, id: 100\n"
            ";; flags: qr aa rd; QUERY: 1, ANSWER: 1, AUTHORITY: 0, ADDITIONAL: 1\n"
            ";; WARNING: recursion requested but not available\n"
            "\n"
            ";; OPT PSEUDOSECTION:\n"
            "; EDNS: version: 0, flags:; udp: 1232\n"
            ";; QUESTION SECTION:\n"
            ";umass.edu.\t\t\tIN\tMX\n"
            "\n"
            ";; ANSWER SECTION:\n"
            "umass.edu.\t\t3600\tIN\tMX\t10 mail.umass.edu.\n"
            "\n",
        )
        lines = footer.splitlines()
        self.assertEqual(lines[0], ": 3 msec")
        self.assertEqual(lines[1], ";; SERVER: 127.2.2.1#10053(127.2.2.1) (UDP)")
        self.assertTrue(lines[2].startswith(";; WHEN: "))
        self.assertEqual(lines[3], f";; MSG SIZE  rcvd: {len(encodeMessage(answer(sent, mx)))}")

    def test_nxdomainIsSuccess(self) -> None:
        """
        NXDOMAIN is an answer: printed, and the tool succeeds, as dig does.
        """
        results = self.dig("nothere.umass.edu", "@127.2.2.1")
        self.reply(rcode=Rcode.NXDOMAIN)
        self.assertEqual(results, [None])
        self.assertIn("status: NXDOMAIN", self.out.getvalue())

    def test_norecurseNoEDNS(self) -> None:
        self.dig("gaia.cs.umass.edu", "+norec", "+noedns", "@127.2.1.1")
        sent = self.reactor.udpPorts[0].sentQuery()
        self.assertFalse(sent.rd)
        self.assertIsNone(sent.edns)

    def test_failuresBeforeAnswer(self) -> None:
        """
        Tries that failed before the answer are reported first, as dig does.
        """
        self.dig("gaia.cs.umass.edu", "@127.2.2.9", "@127.2.2.1")
        self.reactor.udpPorts[0].protocol.connectionRefused()
        self.reply()
        self.assertTrue(
            self.out.getvalue().startswith(
                ";; communications error to 127.2.2.9#10053: connection refused\n\n; <<>> "
            )
        )

    def test_short(self) -> None:
        self.dig("gaia.cs.umass.edu", "+short")
        self.reply(records=(record("gaia.cs.umass.edu", 60, A("127.2.0.10")),))
        self.assertEqual(self.out.getvalue(), "127.2.0.10\n")

    def test_textbook(self) -> None:
        self.dig("gaia.cs.umass.edu", "--textbook", "@127.2.2.1")
        self.reply(records=(record("gaia.cs.umass.edu", 60, A("127.2.0.10")),))
        output = self.out.getvalue()
        self.assertIn(";; ANSWER SECTION:\n(gaia.cs.umass.edu, 127.2.0.10, A, 60)\n", output)
        self.assertIn(";; SERVER: 127.2.2.1#10053(127.2.2.1) (UDP)\n", output)

    def test_noAnswer(self) -> None:
        """
        No answer from any server: L{ToolError} with one line, and nothing
        printed.
        """
        results = self.dig("gaia.cs.umass.edu", "@127.2.2.1", "+tries=2", "+time=1")
        self.reactor.advance(1)
        self.reactor.advance(1)
        [failure] = results
        failure.trap(ToolError)
        self.assertEqual(str(failure.value), "no answer from 127.2.2.1#10053 (2 tries, 1 s each)")
        self.assertEqual(self.out.getvalue(), "")

    def test_serverName(self) -> None:
        """
        A server given by name is resolved by the reactor; its name is
        shown in the SERVER line.
        """
        asked: list[str] = []

        def resolve(host: str) -> Deferred[str]:
            asked.append(host)
            return defer.succeed("127.0.0.1")

        self.reactor.resolve = resolve  # type: ignore[attr-defined]
        self.dig("gaia.cs.umass.edu", "@localhost")
        self.assertEqual(asked, ["localhost"])
        self.assertEqual(self.reactor.udpPorts[0].connectedTo, ("127.0.0.1", 10053))
        self.reply()
        self.assertIn(";; SERVER: 127.0.0.1#10053(localhost) (UDP)", self.out.getvalue())

    def test_unknownServerName(self) -> None:
        from twisted.internet.error import DNSLookupError

        self.reactor.resolve = lambda host: defer.fail(DNSLookupError(host))  # type: ignore
        results = self.dig("gaia.cs.umass.edu", "@nowhere.invalid")
        results[0].trap(ToolError)
        self.assertEqual(str(results[0].value), "nowhere.invalid: no such host")

    def test_trace(self) -> None:
        self.dig("gaia.cs.umass.edu", "--trace", "+short")
        self.reply()
        lines = self.out.getvalue().splitlines()
        self.assertEqual(len(lines), 3)
        self.assertRegex(lines[0], r"^\[c\d+\] \*: to 127.0.0.1#10053 over UDP, from port 40000$")
        self.assertRegex(lines[1], r"^\[c\d+\] C: id 100 QUERY rd gaia.cs.umass.edu. IN A edns")
        self.assertRegex(
            lines[2], r"^\[c\d+\] S: id 100 QUERY NOERROR qr aa rd gaia.cs.umass.edu."
        )

    def test_formatDigTruncated(self) -> None:
        """
        An answer that came over TCP after a truncated one says so first.
        """
        response = Response(
            message=REFERRAL,
            server=("127.2.1.2", 53),
            transport="tcp",
            rtt=0.001,
            size=100,
            query=client.makeQuery(GAIA, RRType.A, id=4242),
            truncated=True,
            failures=(TryFailure(("127.2.1.9", 53), "udp", "timed out"),),
        )
        text = formatDig(response)
        self.assertTrue(
            text.startswith(
                ";; communications error to 127.2.1.9#53: timed out\n"
                ";; Truncated, retrying in TCP mode.\n"
                "\n; <<>> netref dig <<>> gaia.cs.umass.edu. A @127.2.1.2#53\n"
                ";; Got answer:\n" + REFERRAL_TEXT + ";; Query time: 1 msec\n"
            )
        )
        self.assertIn(";; SERVER: 127.2.1.2#53(127.2.1.2) (TCP)\n", text)


def comparable(output: str) -> list[str]:
    """
    dig's output, or netref dig's, without what differs by nature: the
    banner lines, the message ID, the query time and the date.
    """
    lines = []
    for line in output.splitlines():
        if line.startswith(("; <<>>", "; (", ";; global options", ";; Query time", ";; WHEN")):
            continue
        lines.append(re.sub(r", id: \d+$", ", id: ID", line))
    return lines


class DigComparisonTests(TestCase):
    """
    C{netref dig} against NSD, its output compared line by line with what
    BIND's C{dig} prints for the same questions.
    """

    timeout = 60

    async def runNetrefDig(self, *args: str) -> str:
        out = io.StringIO()
        self.patch(sys, "stdout", out)
        try:
            options = Options()
            options.parseOptions(list(args))
            await client.run(reactor, options)
        finally:
            self.patch(sys, "stdout", sys.__stdout__)
        return out.getvalue()

    async def runDig(self, dig: str, *args: str) -> str:
        out, err, code = await getProcessOutputAndValue(dig, ["+nocookie", *args])
        self.assertEqual(code, 0, err)
        return out.decode("utf-8")

    @defer.inlineCallbacks
    def test_sameAsDig(self):
        dig = shutil.which("dig")
        if dig is None:
            raise SkipTest("dig (bind9-dnsutils) is not installed")
        host, port = yield Deferred.fromCoroutine(startNSD(self))
        server = f"@{host}"
        questions = [
            ["gaia.cs.umass.edu"],
            ["umass.edu", "MX"],
            ["umass.edu", "SOA", "+noedns"],
            ["umass.edu", "NS", "+tcp"],
            ["nothere.umass.edu", "+norec"],
            ["gaia.cs.umass.edu", "AAAA"],
            ["www.umass.edu"],
            ["www.cs-dept.umass.edu", "+norecurse"],
            ["big.umass.edu", "TXT"],
            ["a-rather-long-host-name-for-the-columns.umass.edu"],
            ["umass.edu", "MX", "+short"],
            ["www.umass.edu", "+short"],
        ]
        # Names of many lengths, for the columns.
        questions += [["x" * n + ".umass.edu"] for n in (4, 12, 13, 20, 21, 26, 33)]
        for question in questions:
            args = [*question, server, "-p", str(port)]
            mine = yield Deferred.fromCoroutine(self.runNetrefDig(*args))
            theirs = yield Deferred.fromCoroutine(self.runDig(dig, *args))
            self.assertEqual(comparable(mine), comparable(theirs), question)


class CommandTests(TestCase):
    """
    C{netref dig} as a user runs it: the C{netref} command, its output and
    its exit status, against netref's own server.
    """

    timeout = 30

    def setUp(self) -> None:
        from netref.core.cli import TOOLS

        if "dig" not in [tool for tool, _, _ in TOOLS]:
            raise SkipTest("netref dig is not in netref.core.cli.TOOLS yet")

    def netref(self, *args: str) -> Deferred[tuple[bytes, bytes, int]]:
        return getProcessOutputAndValue(
            sys.executable,
            ["-c", "from netref.core.cli import main; main()", *args],
            env=dict(os.environ),
        )

    def serve(self) -> int:
        from netref.dns.authority import Authority, Zone
        from netref.dns.server import DNSDatagramProtocol
        from netref.dns.zonefile import parseZone
        from tests.test_dns_client import ZONE

        authority = Authority([Zone.fromZoneData(parseZone(ZONE, "umass.edu"))])
        port = reactor.listenUDP(0, DNSDatagramProtocol(authority), interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        return port.getHost().port

    @defer.inlineCallbacks
    def test_answer(self):
        port = self.serve()
        out, err, code = yield self.netref("dig", "gaia.cs.umass.edu", f"@127.0.0.1:{port}")
        self.assertEqual((code, err), (0, b""))
        self.assertIn(b"\ngaia.cs.umass.edu.\t3600\tIN\tA\t127.2.0.10\n", out)
        out, err, code = yield self.netref(
            "dig", "+short", "nothere.umass.edu", "-p", str(port), "@127.0.0.1"
        )
        self.assertEqual((out, err, code), (b"", b"", 0))

    @defer.inlineCallbacks
    def test_noAnswer(self):
        from tests.test_dns_client import freePort

        port = freePort()
        out, err, code = yield self.netref("dig", "gaia.cs.umass.edu", f"@127.0.0.1:{port}")
        self.assertEqual(code, 1)
        self.assertEqual(out, b"")
        self.assertEqual(
            err.decode(), f"netref dig: 127.0.0.1#{port}: connection refused (3 tries)\n"
        )

    @defer.inlineCallbacks
    def test_usage(self):
        out, err, code = yield self.netref("dig", "+frobnicate")
        self.assertEqual(code, 2)
        self.assertIn(b"unknown option +frobnicate", err)
