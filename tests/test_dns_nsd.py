"""
Differential tests: netref's authoritative server against NSD (NLnet Labs'
authoritative server), serving the same zone files, asked the same
questions with dnspython.  Both answers must agree on the RCODE, the AA and
TC flags, EDNS, and each section as a set of records (order aside: netref
rotates address RRsets).

Where netref differs from NSD on purpose, the comparison says so, naming
the RFC:

  - NSD runs with C{minimal-responses: no}, the setting that keeps the
    additional data of MX, NS and SRV answers (RFC 1034 section 4.3.2 step
    6), which NSD's C{yes} drops.  But C{no} also adds the zone's NS RRset
    to the authority section of every positive answer, and its servers'
    addresses to the additional section; netref's positive answers are
    minimal, as RFC 1034 section 6.2.1's example is.  L{normalize} removes
    those extras from NSD's positive answers before comparing.
  - A truncated answer: NSD empties every section, netref keeps the RRsets
    that fit (RFC 2181 section 9 allows both); only the header is
    compared.
  - Malformed queries: NSD's FORMERR has no question and sometimes no RD;
    only the RCODE is compared.
  - Not compared, as documented in L{netref.dns.authority}: QCLASS ANY
    (NSD answers from IN, netref refuses), NOTIFY (NSD refuses it, netref
    has no NOTIFY: NOTIMP, RFC 1035 section 4.1.1) and AXFR over UDP (NSD
    NOTIMP, netref REFUSED on every transport); the CD bit (netref copies
    it, RFC 4035 section 3.1.6; NSD clears it); the EDE option of NSD's
    REFUSED answers (RFC 8914, which netref does not send).
"""

from __future__ import annotations

import os
import shutil
import socket
import struct
import subprocess
import tempfile
import time
from typing import Any

from twisted.internet import defer, reactor, threads
from twisted.internet.error import CannotListenError
from twisted.trial.unittest import SkipTest, TestCase

from netref.dns.authority import Authority
from netref.dns.server import DNSDatagramProtocol
from tests.support import findNSD, freePort, writeNSDConfig
from tests.test_dns_authority import DATA, ZONE_FILES, loadTestZones
from tests.test_dns_interop import TrackingFactory

try:
    import dns.edns
    import dns.flags
    import dns.message
    import dns.query
    import dns.rcode
    import dns.rdataclass
    import dns.rdatatype
except ImportError:  # pragma: no cover
    dns = None  # type: ignore[assignment]

#: Seconds any one exchange, or NSD's start, may take.
TIMEOUT = 10.0

#: What the differential test asks of NSD beyond the common configuration
#: (L{tests.support.writeNSDConfig}): no rate limiting, no rotation, the
#: same EDNS size and TCP timeout as netref's defaults.
NSD_OPTIONS = """\
    xfrdir: "{dir}"
    logfile: "{dir}/nsd.log"
    hide-version: yes
    hide-identity: yes
    minimal-responses: no
    refuse-any: no
    round-robin: no
    ipv4-edns-size: 1232
    tcp-timeout: 10
    rrl-ratelimit: 0
    rrl-whitelist-ratelimit: 0
"""
#: The zones' apexes: the owners of the NS RRsets NSD adds to positive answers.
APEXES = frozenset(name[: -len("zone")] for name in ZONE_FILES)


class NSD:
    """
    NSD running in the foreground on 127.0.0.1, with the test zones, in a
    directory of its own.
    """

    def __init__(self, program: str) -> None:
        self.directory = tempfile.mkdtemp(prefix="netref-nsd-")
        self.port = freePort()
        for name in ZONE_FILES:
            shutil.copy(os.path.join(DATA, name), self.directory)
        self.conf = writeNSDConfig(
            self.directory,
            self.port,
            [(name[: -len(".zone")], name) for name in ZONE_FILES],
            NSD_OPTIONS.format(dir=self.directory),
        )
        self.process = subprocess.Popen(
            [program, "-d", "-c", self.conf],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def waitUntilServing(self) -> None:
        """
        Ask NSD until it answers, for at most L{TIMEOUT} seconds.
        """
        deadline = time.monotonic() + TIMEOUT
        query = dns.message.make_query("example.com", "SOA")
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                dns.query.udp(query, "127.0.0.1", port=self.port, timeout=0.2)
                return
            except (OSError, dns.exception.Timeout):
                time.sleep(0.05)
        raise RuntimeError(f"NSD did not start; its log: {self.log()}")

    def log(self) -> str:
        try:
            with open(os.path.join(self.directory, "nsd.log")) as f:
                return f.read()
        except OSError:
            return "(none)"

    def stop(self) -> None:
        """
        End NSD, its children too, and remove its directory.
        """
        pids = [self.process.pid]
        try:
            with open(os.path.join(self.directory, "nsd.pid")) as f:
                pids.append(int(f.read().strip()))
        except (OSError, ValueError):
            pass
        self.process.terminate()
        try:
            self.process.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=TIMEOUT)
        # NSD's main process ends its children itself; give it a moment,
        # then make sure.
        for pid in pids[1:]:
            deadline = time.monotonic() + 2
            while isRunning(pid) and time.monotonic() < deadline:
                time.sleep(0.02)
            if isRunning(pid):
                try:
                    os.kill(pid, 9)
                except OSError:
                    pass
        shutil.rmtree(self.directory, ignore_errors=True)


def isRunning(pid: int) -> bool:
    """
    @return: whether process C{pid} exists and is not a zombie.
    """
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def records(section: list[Any]) -> set[str]:
    """
    @return: the records of a dnspython section as lower-cased text, one
        string per record: a set, as order does not matter.
    """
    out = set()
    for rrset in section:
        for line in rrset.to_text().splitlines():
            out.add(line.lower())
    return out


def owners(section: list[Any], rdtype: int) -> set[str]:
    return {str(rrset.name).lower() for rrset in section if rrset.rdtype == rdtype}


def targets(section: list[Any]) -> set[str]:
    """
    @return: the names additional section processing looks up for the MX,
        NS and SRV records of C{section} (RFC 1034 section 4.3.2 step 6).
    """
    names = set()
    for rrset in section:
        for rdata in rrset:
            if rrset.rdtype == dns.rdatatype.MX:
                names.add(str(rdata.exchange).lower())
            elif rrset.rdtype in (dns.rdatatype.NS, dns.rdatatype.SRV):
                names.add(str(rdata.target).lower())
    return names


def isReferral(response: Any) -> bool:
    return not response.flags & dns.flags.AA and any(
        rrset.rdtype == dns.rdatatype.NS for rrset in response.authority
    )


def normalize(response: Any, minimal: bool) -> dict[str, Any]:
    """
    What is compared of an answer.

    @param minimal: whether to remove what NSD's C{minimal-responses: no}
        adds to a positive answer: the zone's NS RRset in the authority
        section, and additional records for names that no MX, NS or SRV
        record left in the answer and authority sections points to.  (A
        CNAME chain that ends in a referral keeps the referral's NS RRset,
        which is not the zone's own.)
    """
    flags = response.flags
    summary: dict[str, Any] = {
        "rcode": dns.rcode.to_text(response.rcode()),
        "aa": bool(flags & dns.flags.AA),
        "tc": bool(flags & dns.flags.TC),
        "qr": bool(flags & dns.flags.QR),
        "rd": bool(flags & dns.flags.RD),
        "edns": response.edns,
        "payload": response.payload if response.edns >= 0 else None,
        "do": bool(response.ednsflags & dns.flags.DO) if response.edns >= 0 else None,
    }
    if summary["tc"]:
        return summary
    authority = list(response.authority)
    additional = list(response.additional)
    if minimal and response.answer and not isReferral(response):
        authority = [
            rrset
            for rrset in authority
            if not (rrset.rdtype == dns.rdatatype.NS and str(rrset.name).lower() in APEXES)
        ]
        wanted = targets(response.answer) | targets(authority)
        additional = [rrset for rrset in additional if str(rrset.name).lower() in wanted]
    summary["question"] = records(response.question)
    summary["answer"] = records(response.answer)
    summary["authority"] = records(authority)
    summary["additional"] = records(additional)
    return summary


class DifferentialTests(TestCase):
    """
    The same questions to NSD and to netref.
    """

    def setUp(self) -> defer.Deferred[None] | None:
        if dns is None:
            raise SkipTest("dnspython is not installed")
        program = findNSD()
        if program is None:
            raise SkipTest("nsd is not installed")
        if os.geteuid() != 0:
            raise SkipTest("nsd needs root here (it binds and drops privileges)")
        self.authority = Authority(loadTestZones())
        self.factory = TrackingFactory(self.authority)
        for _ in range(50):
            udp = reactor.listenUDP(  # type: ignore[attr-defined]
                0, DNSDatagramProtocol(self.authority), interface="127.0.0.1"
            )
            port = udp.getHost().port
            try:
                tcp = reactor.listenTCP(port, self.factory, interface="127.0.0.1")  # type: ignore[attr-defined]
            except CannotListenError:
                udp.stopListening()
                continue
            self.port = port
            self.addCleanup(udp.stopListening)
            self.addCleanup(tcp.stopListening)
            self.addCleanup(self.factory.closeAll)
            break
        else:
            raise RuntimeError("no port free for both UDP and TCP")
        self.nsd = NSD(program)
        self.addCleanup(threads.deferToThread, self.nsd.stop)
        return threads.deferToThread(self.nsd.waitUntilServing)

    def exchange(self, query: Any, port: int, tcp: bool) -> Any:
        if tcp:
            return dns.query.tcp(query, "127.0.0.1", port=port, timeout=TIMEOUT)
        return dns.query.udp(
            query, "127.0.0.1", port=port, timeout=TIMEOUT, raise_on_truncation=False
        )

    def both(self, query: Any, tcp: bool) -> tuple[Any, Any]:
        return self.exchange(query, self.nsd.port, tcp), self.exchange(query, self.port, tcp)

    async def compare(
        self, questions: list[tuple[str, str]], *, tcp: bool = False, **queryOptions: Any
    ) -> None:
        """
        Ask both servers each question; fail listing every difference.
        """
        differences = []
        for name, rdtype in questions:
            query = dns.message.make_query(name, rdtype, **queryOptions)
            query.flags &= ~dns.flags.RD
            theirs, ours = await threads.deferToThread(self.both, query, tcp)
            expected = normalize(theirs, minimal=True)
            actual = normalize(ours, minimal=False)
            if expected != actual:
                differences.append(
                    f"{name} {rdtype} ({'tcp' if tcp else 'udp'} {queryOptions}):\n"
                    f"  nsd:    {expected}\n  netref: {actual}\n"
                    f"--- nsd ---\n{theirs}\n--- netref ---\n{ours}"
                )
        if differences:
            self.fail("\n\n".join(differences))

    async def test_positive(self) -> None:
        await self.compare(
            [
                ("www.example.com", "A"),
                ("www.example.com", "AAAA"),
                ("WwW.ExAmPlE.CoM", "A"),
                ("text.example.com", "TXT"),
                ("example.com", "SOA"),
                ("example.com", "NS"),
                ("a.b.c.deep.example.com", "A"),
                ("host.example.net", "A"),
                ("example.net", "NS"),
                ("host.child.example.com", "A"),
                ("child.example.com", "NS"),
            ]
        )

    async def test_additional(self) -> None:
        await self.compare(
            [
                ("example.com", "MX"),
                ("mail.example.com", "MX"),
                ("_sip._tcp.example.com", "SRV"),
                ("mxalias.example.com", "MX"),
            ]
        )

    async def test_cname(self) -> None:
        await self.compare(
            [
                ("alias.example.com", "A"),
                ("alias.example.com", "CNAME"),
                ("chain1.example.com", "A"),
                ("cross.example.com", "A"),
                ("back.example.net", "A"),
                ("outside.example.com", "A"),
                ("intosub.example.com", "A"),
                ("dangling.example.com", "A"),
                ("loop1.example.com", "A"),
            ]
        )

    async def test_referrals(self) -> None:
        await self.compare(
            [
                ("sub.example.com", "A"),
                ("x.y.sub.example.com", "MX"),
                ("ns.sub.example.com", "A"),
                ("sub.example.com", "NS"),
                ("other.example.com", "A"),
                ("www.other.example.com", "AAAA"),
            ]
        )

    async def test_ds(self) -> None:
        """
        DS is answered on the parent side of a cut (RFC 4035 section
        3.1.4.1).
        """
        await self.compare(
            [
                ("sub.example.com", "DS"),
                ("child.example.com", "DS"),
                ("example.com", "DS"),
            ]
        )

    async def test_negative(self) -> None:
        await self.compare(
            [
                ("nope.example.com", "A"),
                ("www.example.com", "MX"),
                ("c.deep.example.com", "A"),
                ("b.c.deep.example.com", "TXT"),
                ("x.a.b.c.deep.example.com", "A"),
                ("nope.example.net", "A"),
                ("host.example.net", "MX"),
                ("nothing.child.example.com", "A"),
            ]
        )

    async def test_any(self) -> None:
        """
        Both give the minimal ANY answer of RFC 8482 section 4.1: the first
        RRset.
        """
        await self.compare(
            [
                ("example.com", "ANY"),
                ("www.example.com", "ANY"),
                ("mail.example.com", "ANY"),
                ("alias.example.com", "ANY"),
                ("nope.example.com", "ANY"),
                ("sub.example.com", "ANY"),
            ]
        )

    async def test_refused(self) -> None:
        await self.compare([("www.example.org", "A"), ("com", "NS"), (".", "NS")])
        await self.compare([("www.example.com", "A")], rdclass="CH")

    async def test_truncation(self) -> None:
        questions = [("many.example.com", "A"), ("big.example.com", "TXT")]
        await self.compare(questions, use_edns=False)
        await self.compare(questions, use_edns=0, payload=4096)
        await self.compare(questions, use_edns=0, payload=512)
        await self.compare(questions, use_edns=0, payload=100)

    async def test_edns(self) -> None:
        questions = [("www.example.com", "A"), ("nope.example.com", "A"), ("sub.example.com", "A")]
        await self.compare(questions, use_edns=False)
        await self.compare(questions, use_edns=0, want_dnssec=True)
        await self.compare(questions, use_edns=1)
        await self.compare(
            questions, use_edns=0, options=[dns.edns.GenericOption(65001, b"netref")]
        )

    async def test_tcp(self) -> None:
        await self.compare(
            [
                ("many.example.com", "A"),
                ("big.example.com", "TXT"),
                ("www.example.com", "A"),
                ("mail.example.com", "MX"),
                ("sub.example.com", "A"),
                ("nope.example.com", "A"),
                ("chain1.example.com", "A"),
                # Zone transfers are refused over TCP by both; over UDP NSD
                # says NOTIMP (see the module docstring).
                ("example.com", "AXFR"),
                ("example.com", "IXFR"),
            ],
            tcp=True,
        )

    async def test_malformed(self) -> None:
        """
        Both answer FORMERR to malformed queries with a readable header,
        and nothing to responses or runts.
        """
        good = dns.message.make_query("www.example.com", "A", use_edns=False)
        good.id = 0x1234
        wire = good.to_wire()
        cases = [
            ("no question", wire[:4] + b"\x00\x00" + wire[6:12]),
            ("two questions", wire[:4] + b"\x00\x02" + wire[6:] + wire[12:]),
            ("cut question", wire[:-3]),
            ("compression loop", wire[:12] + b"\xc0\x0c\x00\x01\x00\x01"),
            ("QR set", wire[:2] + bytes([wire[2] | 0x80]) + wire[3:]),
            ("short header", wire[:10]),
        ]

        def rcodes(port: int) -> list[int | None]:
            out: list[int | None] = []
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
                sock.settimeout(0.5)
                for _, datagram in cases:
                    sock.sendto(datagram, ("127.0.0.1", port))
                    try:
                        reply = sock.recv(4096)
                    except TimeoutError:
                        out.append(None)
                    else:
                        out.append(struct.unpack("!H", reply[2:4])[0] & 0xF)
            return out

        theirs = await threads.deferToThread(rcodes, self.nsd.port)
        ours = await threads.deferToThread(rcodes, self.port)
        self.assertEqual(
            list(zip([name for name, _ in cases], ours, strict=True)),
            list(zip([name for name, _ in cases], theirs, strict=True)),
        )
        self.assertEqual(theirs[:4], [1, 1, 1, 1])
