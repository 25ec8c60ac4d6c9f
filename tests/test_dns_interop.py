"""
Interop for L{netref.dns.server}: programs nobody here wrote (dig, kdig,
dnspython) ask a real netref server on 127.0.0.1, over UDP and TCP; and bad
input over real sockets leaves the server answering.

Each program runs in a thread (L{threads.deferToThread}), with a timeout, so
that the reactor keeps serving while it waits.
"""

from __future__ import annotations

import os
import random
import shutil
import socket
import struct
import subprocess
import time
from collections.abc import Callable
from typing import Any, TypeVar

from twisted.internet import defer, reactor, threads
from twisted.internet.error import CannotListenError
from twisted.trial.unittest import SkipTest, TestCase

from netref.dns.authority import Authority
from netref.dns.server import DNSDatagramProtocol, DNSServerFactory, DNSStreamProtocol
from tests.test_dns_authority import loadTestZones

try:
    import dns.edns
    import dns.exception
    import dns.flags
    import dns.message
    import dns.query
    import dns.rcode
    import dns.rdatatype
except ImportError:  # pragma: no cover
    dns = None  # type: ignore[assignment]

T = TypeVar("T")

#: Seconds any one exchange with a program may take.
TIMEOUT = 10


class TrackingFactory(DNSServerFactory):
    """
    A L{DNSServerFactory} that remembers its connections, so that a test
    can wait until every one is closed.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.protocols: list[tuple[DNSStreamProtocol, defer.Deferred[None]]] = []

    def buildProtocol(self, addr: Any) -> DNSStreamProtocol | None:
        protocol = super().buildProtocol(addr)
        assert isinstance(protocol, DNSStreamProtocol)
        lost: defer.Deferred[None] = defer.Deferred()
        original = protocol.connectionLost

        def connectionLost(reason: Any = None) -> None:
            original(reason)
            if not lost.called:
                lost.callback(None)

        protocol.connectionLost = connectionLost  # type: ignore[method-assign]
        self.protocols.append((protocol, lost))
        return protocol

    def closeAll(self) -> defer.Deferred[Any]:
        """
        Abort the connections still open.

        @return: fires when every connection ever made is closed.
        """
        for protocol, lost in self.protocols:
            if not lost.called and protocol.transport is not None:
                protocol.transport.abortConnection()
        return defer.gatherResults([lost for _, lost in self.protocols])


class ServerTestCase(TestCase):
    """
    Runs a netref DNS server for the test zones on 127.0.0.1, UDP and TCP on
    one free port.
    """

    idleTimeout = 10.0

    def setUp(self) -> defer.Deferred[None] | None:
        self.authority = Authority(loadTestZones())
        self.factory = TrackingFactory(self.authority, idleTimeout=self.idleTimeout)
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
            return None
        raise RuntimeError("no port free for both UDP and TCP")

    def inThread(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> defer.Deferred[T]:
        return threads.deferToThread(function, *args, **kwargs)


def needProgram(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise SkipTest(f"{name} is not installed")
    return path


def run(arguments: list[str]) -> str:
    """
    Run a program to completion, with a timeout.

    @return: its standard output.
    """
    result = subprocess.run(
        arguments, capture_output=True, text=True, timeout=TIMEOUT, check=False
    )
    return result.stdout + result.stderr


class DigTests(ServerTestCase):
    """
    BIND's C{dig} asks netref.
    """

    def dig(self, *arguments: str) -> defer.Deferred[str]:
        program = needProgram("dig")
        return self.inThread(
            run,
            [
                program,
                "@127.0.0.1",
                "-p",
                str(self.port),
                "+norec",
                "+tries=1",
                "+time=5",
                *arguments,
            ],
        )

    async def test_answer(self) -> None:
        output = await self.dig("www.example.com", "A")
        self.assertIn("status: NOERROR", output)
        self.assertIn("flags: qr aa;", output)
        self.assertIn("ANSWER: 3, AUTHORITY: 0, ADDITIONAL: 1", output)
        for address in ("192.0.2.1", "192.0.2.2", "192.0.2.3"):
            self.assertRegex(output, rf"www\.example\.com\.\s+3600\s+IN\s+A\s+{address}")
        self.assertIn("EDNS: version: 0, flags:; udp: 1232", output)

    async def test_noEDNS(self) -> None:
        output = await self.dig("+noedns", "www.example.com", "A")
        self.assertIn("ANSWER: 3, AUTHORITY: 0, ADDITIONAL: 0", output)
        self.assertNotIn("OPT PSEUDOSECTION", output)

    async def test_tcp(self) -> None:
        output = await self.dig("+tcp", "mail.example.com", "MX")
        self.assertIn("(TCP)", output)
        self.assertIn("flags: qr aa;", output)
        self.assertRegex(output, r"mail\.example\.com\.\s+3600\s+IN\s+MX\s+10 mx1\.example\.com\.")
        self.assertRegex(output, r"mx1\.example\.com\.\s+3600\s+IN\s+AAAA\s+2001:db8::25")

    async def test_truncatedRetriesOverTCP(self) -> None:
        """
        Forty addresses do not fit in 512 octets: dig sees TC and asks again
        over TCP.
        """
        output = await self.dig("+noedns", "many.example.com", "A")
        self.assertIn("Truncated, retrying in TCP mode", output)
        self.assertIn("ANSWER: 40,", output)
        output = await self.dig("+noedns", "+ignore", "many.example.com", "A")
        self.assertIn("flags: qr aa tc;", output)
        self.assertIn("ANSWER: 0,", output)

    async def test_referral(self) -> None:
        output = await self.dig("x.sub.example.com", "A")
        self.assertIn("flags: qr;", output)
        self.assertIn("ANSWER: 0, AUTHORITY: 2, ADDITIONAL: 3", output)
        self.assertRegex(output, r"ns\.sub\.example\.com\.\s+3600\s+IN\s+A\s+192\.0\.2\.153")

    async def test_nxdomain(self) -> None:
        output = await self.dig("nope.example.com", "A")
        self.assertIn("status: NXDOMAIN", output)
        self.assertRegex(output, r"example\.com\.\s+300\s+IN\s+SOA\s+ns1\.example\.com\.")

    async def test_refused(self) -> None:
        output = await self.dig("www.example.org", "A")
        self.assertIn("status: REFUSED", output)

    async def test_badvers(self) -> None:
        output = await self.dig("+edns=1", "+noednsneg", "www.example.com", "A")
        self.assertIn("status: BADVERS", output)
        self.assertIn("EDNS: version: 0", output)

    async def test_cnameChain(self) -> None:
        output = await self.dig("+tcp", "back.example.net", "A")
        self.assertIn("ANSWER: 7,", output)
        self.assertRegex(
            output, r"alias\.example\.com\.\s+3600\s+IN\s+CNAME\s+www\.example\.com\."
        )

    async def test_axfr(self) -> None:
        output = await self.dig("example.com", "AXFR")
        self.assertIn("Transfer failed", output)


class KdigTests(ServerTestCase):
    """
    Knot's C{kdig} asks netref.
    """

    def kdig(self, *arguments: str) -> defer.Deferred[str]:
        program = needProgram("kdig")
        return self.inThread(
            run,
            [
                program,
                "@127.0.0.1",
                "-p",
                str(self.port),
                "+norec",
                "+retry=0",
                "+time=5",
                *arguments,
            ],
        )

    async def test_udp(self) -> None:
        output = await self.kdig("www.example.com", "A")
        self.assertIn("status: NOERROR", output)
        self.assertIn("Flags: qr aa; QUERY: 1; ANSWER: 3; AUTHORITY: 0; ADDITIONAL: 0", output)
        self.assertIn("(UDP)", output)

    async def test_tcpEDNS(self) -> None:
        output = await self.kdig("+tcp", "+edns", "sub.example.com", "A")
        self.assertIn("(TCP)", output)
        self.assertIn("Flags: qr; QUERY: 1; ANSWER: 0; AUTHORITY: 2; ADDITIONAL: 3", output)
        self.assertIn("UDP size: 1232 B", output)

    async def test_truncated(self) -> None:
        output = await self.kdig("+notcp", "+ignore", "big.example.com", "TXT")
        self.assertIn("Flags: qr aa tc;", output)
        output = await self.kdig("big.example.com", "TXT")
        self.assertIn("ANSWER: 12;", output)

    async def test_nodata(self) -> None:
        output = await self.kdig("+edns", "c.deep.example.com", "A")
        self.assertIn("status: NOERROR", output)
        self.assertIn("ANSWER: 0; AUTHORITY: 1", output)


class DnspythonTests(ServerTestCase):
    """
    dnspython's C{dns.query} asks netref.
    """

    def setUp(self) -> defer.Deferred[None] | None:
        if dns is None:
            raise SkipTest("dnspython is not installed")
        return super().setUp()

    def udp(self, message: Any) -> defer.Deferred[Any]:
        return self.inThread(dns.query.udp, message, "127.0.0.1", port=self.port, timeout=TIMEOUT)

    def tcp(self, message: Any) -> defer.Deferred[Any]:
        return self.inThread(dns.query.tcp, message, "127.0.0.1", port=self.port, timeout=TIMEOUT)

    async def test_udp(self) -> None:
        query = dns.message.make_query("www.example.com", "A", use_edns=False)
        response = await self.udp(query)
        self.assertEqual(response.rcode(), dns.rcode.NOERROR)
        self.assertTrue(response.flags & dns.flags.AA)
        self.assertEqual(
            sorted(rdata.address for rdata in response.answer[0]),
            ["192.0.2.1", "192.0.2.2", "192.0.2.3"],
        )
        self.assertEqual(response.edns, -1)

    async def test_rotation(self) -> None:
        firsts = []
        for _ in range(3):
            response = await self.udp(dns.message.make_query("www.example.com", "A"))
            firsts.append(next(iter(response.answer[0])).address)
        self.assertEqual(sorted(firsts), ["192.0.2.1", "192.0.2.2", "192.0.2.3"])

    async def test_tcp(self) -> None:
        query = dns.message.make_query("big.example.com", "TXT", use_edns=0, payload=4096)
        response = await self.tcp(query)
        self.assertFalse(response.flags & dns.flags.TC)
        self.assertEqual(len(response.answer[0]), 12)
        self.assertEqual(response.payload, 1232)

    async def test_ednsDO(self) -> None:
        query = dns.message.make_query("mail.example.com", "MX", want_dnssec=True)
        response = await self.udp(query)
        self.assertTrue(response.ednsflags & dns.flags.DO)
        self.assertEqual(
            sorted(str(rrset.name) for rrset in response.additional), ["mx1.example.com."] * 2
        )

    async def test_truncatedWithEDNS(self) -> None:
        query = dns.message.make_query("big.example.com", "TXT", use_edns=0, payload=4096)
        response = await self.inThread(
            dns.query.udp,
            query,
            "127.0.0.1",
            port=self.port,
            timeout=TIMEOUT,
            raise_on_truncation=False,
        )
        self.assertTrue(response.flags & dns.flags.TC)
        self.assertEqual(response.edns, 0)

    async def test_severalQueriesOneConnection(self) -> None:
        """
        Pipelined queries on one TCP connection are all answered (RFC 7766
        section 6.2.1.1).
        """

        def exchange() -> list[Any]:
            with socket.create_connection(("127.0.0.1", self.port), timeout=TIMEOUT) as sock:
                queries = [
                    dns.message.make_query(name, "A")
                    for name in ("www.example.com", "nope.example.com", "host.example.net")
                ]
                sock.sendall(
                    b"".join(struct.pack("!H", len(w)) + w for w in (q.to_wire() for q in queries))
                )
                responses = []
                for query in queries:
                    response, _ = dns.query.receive_tcp(sock, time.time() + TIMEOUT)
                    self.assertTrue(query.is_response(response))
                    responses.append(response)
                return responses

        responses = await self.inThread(exchange)
        self.assertEqual(
            [response.rcode() for response in responses],
            [dns.rcode.NOERROR, dns.rcode.NXDOMAIN, dns.rcode.NOERROR],
        )


class BadInputTests(ServerTestCase):
    """
    Malformed datagrams and abusive TCP peers, over real sockets: the
    server answers FORMERR or nothing, and keeps serving everyone else.
    """

    idleTimeout = 1.0

    def setUp(self) -> defer.Deferred[None] | None:
        if dns is None:
            raise SkipTest("dnspython is not installed")
        return super().setUp()

    async def test_malformedDatagrams(self) -> None:
        good = dns.message.make_query("www.example.com", "A")
        good.id = 0x4242
        wire = good.to_wire()
        rng = random.Random(1035)
        bad = [
            b"",
            b"\x42",
            wire[:11],
            wire[:-3],
            wire[:12] + b"\xc0\x0c\x00\x01\x00\x01",
            wire[:2] + b"\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00" + b"\x3f" * 40,
            os.urandom(0) + bytes(rng.randrange(256) for _ in range(300)),
        ] + [bytes(rng.randrange(256) for _ in range(rng.randrange(1, 80))) for _ in range(50)]

        def exchange() -> tuple[list[bytes | None], Any]:
            # Each bad datagram is followed by a good query with its own ID:
            # the server answers in order, so whatever comes before the good
            # query's answer is the bad one's, and no wait is needed to know
            # there was none.
            replies: list[bytes | None] = []
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
                sock.settimeout(TIMEOUT)
                for index, datagram in enumerate(bad):
                    probe = dns.message.make_query("mail.example.com", "MX")
                    probe.id = index
                    sock.sendto(datagram, ("127.0.0.1", self.port))
                    sock.sendto(probe.to_wire(), ("127.0.0.1", self.port))
                    first = sock.recv(4096)
                    if first[:2] == struct.pack("!H", index) and first[4:6] == b"\x00\x01":
                        try:
                            if probe.is_response(dns.message.from_wire(first)):
                                replies.append(None)
                                continue
                        except dns.exception.DNSException:
                            pass
                    replies.append(first)
                    self.assertTrue(probe.is_response(dns.message.from_wire(sock.recv(4096))))
            response = dns.query.udp(good, "127.0.0.1", port=self.port, timeout=TIMEOUT)
            return replies, response

        replies, response = await self.inThread(exchange)
        for datagram, reply in zip(bad, replies, strict=True):
            if reply is not None:
                header = struct.unpack("!HH", reply[:4])
                self.assertEqual(header[0], struct.unpack("!H", datagram[:2])[0])
                self.assertTrue(header[1] & 0x8000)
        self.assertIsNone(replies[0])
        self.assertIsNone(replies[2])
        self.assertEqual(struct.unpack("!H", replies[3][2:4])[0] & 0xF, 1)  # type: ignore[index]
        self.assertEqual(response.rcode(), dns.rcode.NOERROR)
        self.assertEqual(len(response.answer[0]), 3)

    async def test_stallingPeer(self) -> None:
        """
        A peer that announces a 65535-octet message and stalls is closed by
        the idle timeout; another client is served meanwhile.
        """

        def exchange() -> tuple[Any, bytes, float]:
            with socket.create_connection(("127.0.0.1", self.port), timeout=TIMEOUT) as staller:
                staller.sendall(b"\xff\xff" + b"\x00" * 10)
                started = time.monotonic()
                query = dns.message.make_query("www.example.com", "A")
                response = dns.query.tcp(query, "127.0.0.1", port=self.port, timeout=TIMEOUT)
                closed = staller.recv(10)
                return response, closed, time.monotonic() - started

        response, closed, elapsed = await self.inThread(exchange)
        self.assertEqual(response.rcode(), dns.rcode.NOERROR)
        self.assertEqual(closed, b"")
        self.assertLess(elapsed, TIMEOUT / 2)
