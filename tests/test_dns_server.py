"""
Tests for L{netref.dns.server}: the DNS server's UDP and TCP protocols over
fake transports, with time on a L{Clock}.
"""

from __future__ import annotations

import os
import struct
from typing import Any

from twisted.application.internet import StreamServerEndpointService, UDPServer
from twisted.application.service import IService
from twisted.internet.address import IPv4Address
from twisted.internet.error import ConnectionDone
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.python.failure import Failure
from twisted.python.usage import UsageError
from twisted.trial.unittest import SynchronousTestCase

from netref.core import service as serviceModule
from netref.dns import tap
from netref.dns.authority import Authority
from netref.dns.rdata import RRType
from netref.dns.server import (
    IDLE_TIMEOUT,
    MAX_CONNECTIONS,
    DNSDatagramProtocol,
    DNSServerFactory,
    DNSStreamProtocol,
    describeWire,
)
from netref.dns.wire import EDNS, Message, Rcode, decodeMessage, encodeMessage
from tests.test_dns_authority import DATA, loadTestZones, makeQuery
from tests.test_sockets_server import traceLines


def frame(message: bytes) -> bytes:
    """
    @return: C{message} with TCP's two-octet length prefix (RFC 1035 section
        4.2.2).
    """
    return struct.pack("!H", len(message)) + message


def unframe(stream: bytes) -> list[Message]:
    """
    @return: the messages of a TCP stream, decoded.
    """
    messages = []
    while stream:
        (length,) = struct.unpack("!H", stream[:2])
        body = stream[2 : 2 + length]
        assert len(body) == length, "a message cut short"
        messages.append(decodeMessage(body))
        stream = stream[2 + length :]
    return messages


def query(name: str, rtype: int = RRType.A, **kwargs: Any) -> bytes:
    return encodeMessage(makeQuery(name, rtype, **kwargs))


class FakeDatagramTransport:
    """
    Records what a L{DNSDatagramProtocol} sends; can be made to fail.
    """

    def __init__(self) -> None:
        self.written: list[tuple[bytes, Any]] = []
        self.error: Exception | None = None

    def write(self, datagram: bytes, addr: Any = None) -> None:
        if self.error is not None:
            raise self.error
        self.written.append((datagram, addr))


class DatagramTests(SynchronousTestCase):
    """
    L{DNSDatagramProtocol} answers every query datagram with one datagram,
    to its source.
    """

    client = ("127.0.0.1", 40000)

    def setUp(self) -> None:
        self.authority = Authority(loadTestZones())
        self.protocol = DNSDatagramProtocol(self.authority)
        self.transport = FakeDatagramTransport()
        self.protocol.transport = self.transport  # type: ignore[assignment]

    def answers(self) -> list[Message]:
        for _, addr in self.transport.written:
            self.assertEqual(addr, self.client)
        return [decodeMessage(data) for data, _ in self.transport.written]

    def test_answer(self) -> None:
        self.protocol.datagramReceived(query("www.example.com", id=77), self.client)
        [response] = self.answers()
        self.assertEqual(response.id, 77)
        self.assertTrue(response.aa)
        self.assertEqual(len(response.answers), 3)

    def test_several(self) -> None:
        for ident in range(5):
            self.protocol.datagramReceived(
                query("mail.example.com", RRType.MX, id=ident), self.client
            )
        self.assertEqual([response.id for response in self.answers()], list(range(5)))

    def test_truncated(self) -> None:
        """
        An answer longer than 512 octets is cut, with TC (RFC 1035 section
        4.2.1); with EDNS it may be longer.
        """
        self.protocol.datagramReceived(query("many.example.com"), self.client)
        self.protocol.datagramReceived(query("many.example.com", edns=EDNS(4096)), self.client)
        first, second = self.answers()
        self.assertTrue(first.tc)
        self.assertFalse(second.tc)
        self.assertEqual(len(second.answers), 40)
        self.assertLessEqual(len(self.transport.written[0][0]), 512)

    def test_noAnswer(self) -> None:
        """
        Responses (QR set) and datagrams without a header get nothing.
        """
        good = query("www.example.com")
        self.protocol.datagramReceived(good[:2] + bytes([good[2] | 0x80]) + good[3:], self.client)
        self.protocol.datagramReceived(b"\x00\x01\x02", self.client)
        self.protocol.datagramReceived(b"", self.client)
        self.assertEqual(self.transport.written, [])

    def test_malformed(self) -> None:
        """
        A malformed query with a readable header gets FORMERR with its ID.
        """
        self.protocol.datagramReceived(query("www.example.com", id=99)[:-2], self.client)
        [response] = self.answers()
        self.assertEqual((response.id, response.rcode), (99, Rcode.FORMERR))

    def test_writeFails(self) -> None:
        """
        A full socket buffer loses the answer, as the network might: the
        protocol carries on.
        """
        self.transport.error = OSError(105, "No buffer space available")
        self.protocol.datagramReceived(query("www.example.com"), self.client)
        self.transport.error = None
        self.protocol.datagramReceived(query("www.example.com"), self.client)
        self.assertEqual(len(self.answers()), 1)

    def test_trace(self) -> None:
        """
        With tracing on, one line for the query and one for the answer.
        """
        lines = traceLines(self)
        self.protocol.datagramReceived(query("www.example.com", id=4660, rd=True), self.client)
        self.protocol.datagramReceived(b"\x00\x01", self.client)
        [client, server, client2, server2] = lines()
        self.assertRegex(
            client, r"^\[c\d+\] C: 127\.0\.0\.1:40000 id 4660 QUERY rd www\.example\.com\. IN A"
        )
        self.assertRegex(
            server,
            r"^\[c\d+\] S: id 4660 QUERY NOERROR qr aa rd .*"
            r"answer 3 authority 0 additional 0 \(\d+ octets\)",
        )
        self.assertIn("malformed message of 2 octets", client2)
        self.assertIn("(no answer)", server2)

    def test_noTraceByDefault(self) -> None:
        lines = traceLines(self)
        from netref.core.trace import setTracing

        setTracing(False)
        self.protocol.datagramReceived(query("www.example.com"), self.client)
        self.assertEqual(lines(), [])


class DescribeWireTests(SynchronousTestCase):
    def test_none(self) -> None:
        self.assertEqual(describeWire(None), "(no answer)")

    def test_message(self) -> None:
        data = query("www.example.com", id=5)
        self.assertEqual(
            describeWire(data), f"id 5 QUERY www.example.com. IN A ({len(data)} octets)"
        )


class StreamTestCase(SynchronousTestCase):
    """
    Connects L{DNSStreamProtocol}s to L{StringTransport}s, with time on a
    L{Clock}.
    """

    def setUp(self) -> None:
        self.clock = Clock()
        self.authority = Authority(loadTestZones())
        self.factory = DNSServerFactory(self.authority, clock=self.clock)
        self.protocol, self.transport = self.connect()

    def connect(self) -> tuple[DNSStreamProtocol, StringTransport]:
        peer = IPv4Address("TCP", "127.0.0.1", 51234)
        protocol = self.factory.buildProtocol(peer)
        assert isinstance(protocol, DNSStreamProtocol)
        transport = StringTransport(peerAddress=peer)
        protocol.makeConnection(transport)
        return protocol, transport

    def lose(self, protocol: DNSStreamProtocol) -> None:
        protocol.connectionLost(Failure(ConnectionDone()))

    def answers(self) -> list[Message]:
        return unframe(self.transport.value())


class StreamTests(StreamTestCase):
    """
    L{DNSStreamProtocol}: length-prefixed messages, several per connection
    (RFC 7766).
    """

    def test_defaults(self) -> None:
        factory = DNSServerFactory(self.authority)
        self.assertEqual(factory.idleTimeout, IDLE_TIMEOUT)
        self.assertEqual(factory.maxConnections, MAX_CONNECTIONS)
        self.assertEqual(IDLE_TIMEOUT, 10.0)

    def test_oneQuery(self) -> None:
        self.protocol.dataReceived(frame(query("www.example.com", id=3)))
        [response] = self.answers()
        self.assertEqual(response.id, 3)
        self.assertEqual(len(response.answers), 3)
        self.assertFalse(self.transport.disconnecting)

    def test_oneWritePerAnswer(self) -> None:
        """
        The length and the message leave in one write (RFC 7766 section 8).
        """
        writes: list[bytes] = []
        self.transport.write = writes.append  # type: ignore[method-assign]
        self.protocol.dataReceived(frame(query("www.example.com")) * 2)
        self.assertEqual(len(writes), 2)
        self.assertEqual(len(unframe(writes[0])), 1)

    def test_pipelined(self) -> None:
        """
        Several queries in one segment are all answered, in order (RFC 7766
        section 6.2.1.1).
        """
        data = b"".join(
            frame(query(name, id=ident))
            for ident, name in enumerate(
                ["www.example.com", "nope.example.com", "sub.example.com"]
            )
        )
        self.protocol.dataReceived(data)
        responses = self.answers()
        self.assertEqual([response.id for response in responses], [0, 1, 2])
        self.assertEqual(
            [response.rcode for response in responses],
            [Rcode.NOERROR, Rcode.NXDOMAIN, Rcode.NOERROR],
        )
        self.assertFalse(responses[2].aa)

    def test_split(self) -> None:
        """
        A message may arrive in pieces, even its length prefix (RFC 7766
        section 8).
        """
        data = frame(query("www.example.com", id=8)) + frame(query("www.example.com", id=9))
        for index in range(len(data)):
            self.protocol.dataReceived(data[index : index + 1])
            if index == len(data) // 2:
                self.assertEqual(len(self.answers()), 1)
        self.assertEqual([response.id for response in self.answers()], [8, 9])

    def test_bigAnswer(self) -> None:
        """
        Over TCP the answer is whole, however long.
        """
        self.protocol.dataReceived(frame(query("big.example.com", RRType.TXT)))
        [response] = self.answers()
        self.assertFalse(response.tc)
        self.assertEqual(len(response.answers), 12)

    def test_malformedCarriesOn(self) -> None:
        """
        A malformed message gets FORMERR and the connection carries on: the
        length prefix keeps the stream in step.
        """
        self.protocol.dataReceived(frame(query("www.example.com", id=5)[:-3]))
        self.protocol.dataReceived(frame(query("www.example.com", id=6)))
        first, second = self.answers()
        self.assertEqual((first.id, first.rcode), (5, Rcode.FORMERR))
        self.assertEqual((second.id, second.rcode), (6, Rcode.NOERROR))
        self.assertFalse(self.transport.disconnecting)

    def test_noHeaderCloses(self) -> None:
        """
        A message too short for a header means the peer does not speak DNS:
        the connection is closed.
        """
        self.protocol.dataReceived(frame(b"\x00\x01\x02") + frame(query("www.example.com")))
        self.assertEqual(self.transport.value(), b"")
        self.assertTrue(self.transport.disconnecting)
        self.protocol.dataReceived(frame(query("www.example.com")))
        self.assertEqual(self.transport.value(), b"")

    def test_emptyMessageCloses(self) -> None:
        self.protocol.dataReceived(b"\x00\x00")
        self.assertTrue(self.transport.disconnecting)

    def test_responseIgnored(self) -> None:
        good = query("www.example.com", id=1)
        self.protocol.dataReceived(frame(good[:2] + bytes([good[2] | 0x80]) + good[3:]))
        self.protocol.dataReceived(frame(query("www.example.com", id=2)))
        [response] = self.answers()
        self.assertEqual(response.id, 2)
        self.assertFalse(self.transport.disconnecting)

    def test_halfClose(self) -> None:
        """
        A client that half-closes after its queries has its answers, and the
        connection is closed.
        """
        self.protocol.dataReceived(frame(query("www.example.com")))
        self.protocol.readConnectionLost()
        self.assertEqual(len(self.answers()), 1)
        self.assertTrue(self.transport.disconnecting)

    def test_trace(self) -> None:
        lines = traceLines(self)
        protocol, transport = self.connect()
        protocol.dataReceived(frame(query("nope.example.com", id=12)))
        self.lose(protocol)
        text = "\n".join(lines())
        self.assertIn("*: connection from 127.0.0.1:51234", text)
        self.assertIn("C: id 12 QUERY nope.example.com. IN A", text)
        self.assertIn("S: id 12 QUERY NXDOMAIN qr aa", text)
        self.assertIn("*: connection closed", text)


class IdleTests(StreamTestCase):
    """
    A connection without a complete query for the idle timeout is closed
    (RFC 7766 section 6.2.3), on the reactor's clock.
    """

    def test_idle(self) -> None:
        self.clock.advance(IDLE_TIMEOUT - 0.1)
        self.assertFalse(self.transport.disconnecting)
        self.clock.advance(0.2)
        self.assertTrue(self.transport.disconnecting)
        self.assertFalse(self.transport.disconnected)

    def test_queryResets(self) -> None:
        self.clock.advance(IDLE_TIMEOUT - 1)
        self.protocol.dataReceived(frame(query("www.example.com")))
        self.clock.advance(IDLE_TIMEOUT - 1)
        self.assertFalse(self.transport.disconnecting)
        self.clock.advance(2)
        self.assertTrue(self.transport.disconnecting)

    def test_hugeLengthThenStall(self) -> None:
        """
        A peer that announces 65535 octets and sends a few, now and then, is
        cut off: only whole messages reset the timer.
        """
        self.protocol.dataReceived(b"\xff\xff" + b"x" * 100)
        for _ in range(9):
            self.clock.advance(1)
            self.protocol.dataReceived(b"x")
        self.assertFalse(self.transport.disconnecting)
        self.clock.advance(1)
        self.assertTrue(self.transport.disconnecting)

    def test_connectionLostStopsTimer(self) -> None:
        self.lose(self.protocol)
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_pausedIsAborted(self) -> None:
        """
        A client that reads nothing (the transport paused us) is aborted:
        a graceful close would wait for it forever.
        """
        self.protocol.pauseProducing()
        self.assertEqual(self.transport.producerState, "paused")
        self.clock.advance(IDLE_TIMEOUT)
        self.assertTrue(self.transport.disconnected)

    def test_resume(self) -> None:
        self.protocol.pauseProducing()
        self.protocol.resumeProducing()
        self.assertEqual(self.transport.producerState, "producing")
        self.clock.advance(IDLE_TIMEOUT)
        self.assertTrue(self.transport.disconnecting)
        self.assertFalse(self.transport.disconnected)
        self.assertIsNone(self.transport.producer)

    def test_customTimeout(self) -> None:
        factory = DNSServerFactory(self.authority, idleTimeout=2.5, clock=self.clock)
        protocol = factory.buildProtocol(IPv4Address("TCP", "127.0.0.1", 1))
        assert protocol is not None
        transport = StringTransport()
        protocol.makeConnection(transport)
        self.clock.advance(2.5)
        self.assertTrue(transport.disconnecting)


class ConnectionLimitTests(StreamTestCase):
    """
    At most C{maxConnections} connections at once (RFC 7766 section 6.2.2).
    """

    def setUp(self) -> None:
        super().setUp()
        self.factory.maxConnections = 2

    def test_limit(self) -> None:
        second, secondTransport = self.connect()
        third, thirdTransport = self.connect()
        self.assertEqual(self.factory.connections, 2)
        self.assertTrue(thirdTransport.disconnected)
        third.dataReceived(frame(query("www.example.com")))
        self.assertEqual(thirdTransport.value(), b"")
        self.lose(third)
        self.assertEqual(self.factory.connections, 2)
        self.lose(second)
        self.assertEqual(self.factory.connections, 1)
        fourth, fourthTransport = self.connect()
        self.assertFalse(fourthTransport.disconnecting)
        fourth.dataReceived(frame(query("www.example.com")))
        self.assertEqual(len(unframe(fourthTransport.value())), 1)
        self.lose(fourth)
        self.lose(self.protocol)
        self.assertEqual(self.factory.connections, 0)


class OptionsTests(SynchronousTestCase):
    """
    C{twistd netref-dns}'s options: zone files, limits, listening.
    """

    def parse(self, *arguments: str) -> tap.Options:
        options = tap.Options()
        options.parseOptions(list(arguments))
        return options

    def origins(self, options: tap.Options) -> list[str]:
        return [zone.origin.toText() for zone in options.zones]

    def test_defaults(self) -> None:
        options = self.parse("--zone", os.path.join(DATA, "example.com.zone"))
        self.assertEqual(
            options.listenDescriptions(),
            ["udp:10053:interface=127.0.0.1", "tcp:10053:interface=127.0.0.1"],
        )
        self.assertEqual(self.origins(options), ["example.com."])
        authority = options.authority()
        self.assertTrue(authority.rotate)
        self.assertEqual(authority.maxUDPSize, 1232)

    def test_needsZones(self) -> None:
        error = self.assertRaises(UsageError, self.parse)
        self.assertIn("--zone", str(error))

    def test_severalZones(self) -> None:
        options = self.parse(
            "--zone",
            os.path.join(DATA, "example.com.zone"),
            "--zone",
            os.path.join(DATA, "example.net.zone"),
            "--no-rotate",
            "--max-udp-size",
            "4096",
        )
        self.assertEqual(self.origins(options), ["example.com.", "example.net."])
        authority = options.authority()
        self.assertFalse(authority.rotate)
        self.assertEqual(authority.maxUDPSize, 4096)

    def test_zoneWithOrigin(self) -> None:
        """
        C{--zone FILE:ORIGIN} names the zone of a file with relative names
        and no C{$ORIGIN}.
        """
        path = self.mktemp()
        with open(path, "w") as f:
            f.write("@ 60 IN SOA ns hm 1 1 1 1 1\n@ 60 IN NS ns\nns 60 IN A 192.0.2.1\n")
        self.assertEqual(self.origins(self.parse("--zone", f"{path}:bare.test")), ["bare.test."])
        error = self.assertRaises(UsageError, self.parse, "--zone", path)
        self.assertIn(path, str(error))

    def test_zonesDirectory(self) -> None:
        self.assertEqual(
            self.origins(self.parse("--zones", DATA)),
            ["child.example.com.", "example.com.", "example.net."],
        )

    def test_zonesDirectoryNamesFromFiles(self) -> None:
        """
        A file of C{--zones DIR} that does not name its zone is named by its
        file name; C{root.zone} is the root.
        """
        directory = self.mktemp()
        os.mkdir(directory)
        body = "@ 60 IN SOA ns.root-servers.test. hm.test. 1 1 1 1 1\n@ 60 IN NS ns.test.\n"
        for name in ("root.zone", "bare.test.zone", "ignored.txt"):
            with open(os.path.join(directory, name), "w") as f:
                f.write(body)
        self.assertEqual(self.origins(self.parse("--zones", directory)), ["bare.test.", "."])

    def test_labZones(self) -> None:
        """
        The lab's zone directory loads whole.
        """
        here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        origins = self.origins(self.parse("--zones", os.path.join(here, "netref", "lab", "zones")))
        self.assertIn(".", origins)
        self.assertIn("umass.edu.", origins)

    def test_errorNamesFileAndLine(self) -> None:
        path = self.mktemp()
        with open(path, "w") as f:
            f.write(
                "$ORIGIN bad.test.\n@ 60 IN SOA ns hm 1 1 1 1 1\n@ 60 IN NS ns\nwww IN MX 10\n"
            )
        error = self.assertRaises(UsageError, self.parse, "--zone", path)
        self.assertIn(f"{path}:4:", str(error))

    def test_zonesDirectoryError(self) -> None:
        """
        An error in a file of C{--zones DIR} is reported with its file and
        line, whether or not the file names its zone.
        """
        directory = self.mktemp()
        os.mkdir(directory)
        path = os.path.join(directory, "bad.test.zone")
        for text, line in (
            ("$ORIGIN bad.test.\n@ 60 IN SOA ns hm 1 1 1 1 1\n@ 60 IN NS ns\nx IN MX 10\n", 4),
            ("@ 60 IN SOA ns hm 1 1 1 1 1\n@ 60 IN NS ns\n\nx IN MX 10\n", 4),
        ):
            with open(path, "w") as f:
                f.write(text)
            error = self.assertRaises(UsageError, self.parse, "--zones", directory)
            self.assertIn(f"{path}:{line}:", str(error))

    def test_missingFile(self) -> None:
        error = self.assertRaises(UsageError, self.parse, "--zone", "/nonexistent/x.zone")
        self.assertIn("/nonexistent/x.zone", str(error))
        self.assertRaises(UsageError, self.parse, "--zones", "/nonexistent")
        empty = self.mktemp()
        os.mkdir(empty)
        self.assertRaises(UsageError, self.parse, "--zones", empty)

    def test_sameZoneTwice(self) -> None:
        path = os.path.join(DATA, "example.com.zone")
        error = self.assertRaises(UsageError, self.parse, "--zone", path, "--zones", DATA)
        self.assertIn("example.com.", str(error))

    def test_limits(self) -> None:
        path = os.path.join(DATA, "example.com.zone")
        for arguments in (
            ["--max-udp-size", "100"],
            ["--idle-timeout", "0"],
            ["--max-connections", "0"],
            ["--listen", "udp:dns"],
        ):
            self.assertRaises(UsageError, self.parse, "--zone", path, *arguments)

    def test_help(self) -> None:
        text = str(tap.Options())
        self.assertIn("10053", text)
        self.assertIn("--zones", text)
        self.assertIn("--no-rotate", text)


class MakeServiceTests(SynchronousTestCase):
    """
    L{tap.makeService} builds one service per C{--listen}, all answering
    from the same zones.
    """

    def test_defaultServices(self) -> None:
        options = tap.Options()
        options.parseOptions(["--zones", DATA, "--idle-timeout", "3", "--max-connections", "7"])
        top = tap.makeService(options)
        datagram, stream = list(top)
        assert isinstance(datagram, UDPServer)
        assert isinstance(stream, StreamServerEndpointService)
        self.assertEqual(datagram.args[0], 10053)
        self.assertEqual(datagram.kwargs, {"interface": "127.0.0.1"})
        protocol = datagram.args[1]
        factory = stream.factory
        assert isinstance(protocol, DNSDatagramProtocol)
        assert isinstance(factory, DNSServerFactory)
        self.assertIs(protocol.authority, factory.authority)
        self.assertEqual((factory.idleTimeout, factory.maxConnections), (3.0, 7))

    def test_trace(self) -> None:
        started: list[object] = []
        self.patch(serviceModule, "startPrintingTranscripts", started.append)
        options = tap.Options()
        options.parseOptions(["--zones", DATA, "--trace"])
        tap.makeService(options)
        self.assertEqual(len(started), 1)

    def test_makeDNSServices(self) -> None:
        datagram, stream = tap.makeDNSServices(
            "127.2.2.1", 10053, [os.path.join(DATA, "example.com.zone")]
        )
        assert isinstance(datagram, UDPServer)
        self.assertEqual(datagram.kwargs, {"interface": "127.2.2.1"})
        self.assertTrue(IService.providedBy(stream))
