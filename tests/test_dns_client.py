"""
Tests for L{netref.dns.client}: the stub client over fake UDP ports and
fake TCP connections on a clock, then on loopback against netref's own
server and against NSD, a server nobody here wrote.
"""

from __future__ import annotations

import errno
import os
import shutil
import sys
import tempfile
from typing import Any

from twisted.internet import defer, error, reactor
from twisted.internet.address import IPv4Address
from twisted.internet.defer import CancelledError, Deferred
from twisted.internet.task import deferLater
from twisted.internet.testing import MemoryReactorClock, StringTransport
from twisted.internet.utils import getProcessOutputAndValue
from twisted.python.failure import Failure
from twisted.trial.unittest import SkipTest, SynchronousTestCase, TestCase

from netref.core.trace import formatTranscriptEvent, setTracing, transcriptPublisher
from netref.dns import client
from netref.dns.client import (
    DEFAULT_EDNS,
    TCP,
    UDP,
    DNSConnectionRefusedError,
    DNSQueryError,
    DNSTimeoutError,
    Response,
    makeQuery,
    mismatch,
    query,
)
from netref.dns.name import Name
from netref.dns.rdata import TXT, A, RRClass, RRType
from netref.dns.wire import (
    EDNS,
    Message,
    Question,
    Rcode,
    ResourceRecord,
    decodeMessage,
    encodeMessage,
    makeResponse,
)
from tests.support import docsPage, embeddingExample, findNSD, freePort, writeNSDConfig

SERVER = ("127.2.2.1", 10053)
OTHER = ("127.2.2.2", 10053)
GAIA = Name.fromText("gaia.cs.umass.edu.")
GAIA_A = ResourceRecord(GAIA, RRType.A, RRClass.IN, 3600, A("127.2.0.10"))


class FakeSocket:
    """
    Stands in for a UDP socket that holds a pending error.
    """

    def __init__(self, code: int) -> None:
        self.code = code

    def getsockopt(self, level: int, option: int) -> int:
        return self.code


class FakeUDPPort:
    """
    A UDP port that records what is sent and lets a test deliver datagrams.

    @ivar number: the port number the "kernel" gave it.
    """

    def __init__(self, protocol: Any, number: int, interface: str, maxPacketSize: int) -> None:
        self.protocol = protocol
        self.number = number
        self.interface = interface
        self.maxPacketSize = maxPacketSize
        self.written: list[tuple[bytes, Any]] = []
        self.connectedTo: tuple[str, int] | None = None
        self.stopped = False
        self.socket: FakeSocket | None = None
        self.sendError: Exception | str | None = None

    def connect(self, host: str, port: int) -> None:
        self.connectedTo = (host, port)

    def getHost(self) -> IPv4Address:
        return IPv4Address("UDP", "0.0.0.0", self.number)

    def write(self, datagram: bytes, addr: Any = None) -> None:
        self.written.append((datagram, addr))
        if self.sendError == "refused":
            # What a connected port does with an ICMP error left by an
            # earlier datagram.
            self.protocol.connectionRefused()
        elif self.sendError is not None:
            raise self.sendError

    def stopListening(self) -> None:
        if not self.stopped:
            self.stopped = True
            self.protocol.doStop()

    def deliver(self, datagram: bytes, addr: tuple[str, int]) -> None:
        """
        A datagram arrives from C{addr}, unless the port is closed.
        """
        if not self.stopped:
            self.protocol.datagramReceived(datagram, addr)

    def sentQuery(self) -> Message:
        """
        @return: the one query sent on this port.
        """
        assert len(self.written) == 1, self.written
        return decodeMessage(self.written[0][0])


class FakeReactor(MemoryReactorClock):
    """
    A memory reactor with a clock that can also "listen" on UDP.
    """

    def __init__(self) -> None:
        super().__init__()
        self.udpPorts: list[FakeUDPPort] = []
        #: What writing to the next ports does: raise this exception, or
        #: call connectionRefused for C{"refused"}.
        self.sendError: Exception | str | None = None

    def listenUDP(
        self, port: int, protocol: Any, interface: str = "", maxPacketSize: int = 8192
    ) -> FakeUDPPort:
        assert port == 0, "a fresh port for every query"
        fake = FakeUDPPort(protocol, 40000 + len(self.udpPorts), interface, maxPacketSize)
        fake.sendError = self.sendError
        self.udpPorts.append(fake)
        protocol.makeConnection(fake)
        return fake


def sequentialIds(start: int = 1000):
    """
    @return: an ID generator giving start, start + 1, ...
    """
    ids = iter(range(start, 0x10000))
    return lambda: next(ids)


def answer(sent: Message, *records: ResourceRecord, **kwargs: Any) -> Message:
    """
    @return: an authoritative answer to C{sent} with C{records}.
    """
    kwargs.setdefault("aa", True)
    return makeResponse(sent, answers=records, **kwargs)


def traceLines(test: SynchronousTestCase):
    events: list[dict[str, Any]] = []
    transcriptPublisher.addObserver(events.append)
    test.addCleanup(transcriptPublisher.removeObserver, events.append)
    setTracing(True)
    test.addCleanup(setTracing, False)
    return lambda: [formatTranscriptEvent(e).split(" ", 1)[1] for e in events]


class MakeQueryTests(SynchronousTestCase):
    """
    L{makeQuery} and L{mismatch}.
    """

    def test_query(self) -> None:
        """
        A standard query: QR clear, opcode QUERY, one question, RD as asked,
        no records, EDNS as given.
        """
        sent = makeQuery(GAIA, RRType.MX, id=7, recursionDesired=False, edns=EDNS())
        self.assertEqual(sent.id, 7)
        self.assertFalse(sent.qr)
        self.assertFalse(sent.rd)
        self.assertEqual(sent.questions, (Question(GAIA, RRType.MX, RRClass.IN),))
        self.assertEqual((sent.answers, sent.authority, sent.additional), ((), (), ()))
        self.assertEqual(sent.edns, EDNS())
        self.assertEqual(decodeMessage(encodeMessage(sent)), sent)

    def test_match(self) -> None:
        sent = makeQuery(GAIA, RRType.A, id=7)
        self.assertIsNone(mismatch(answer(sent, GAIA_A), sent))

    def test_nameCaseInsensitive(self) -> None:
        """
        The question's name is compared without regard to ASCII case (RFC
        4343): a server may echo it in another case.
        """
        sent = makeQuery(GAIA, RRType.A, id=7)
        reply = makeQuery(Name.fromText("GAIA.cs.UMass.EDU."), RRType.A, id=7)
        self.assertIsNone(mismatch(answer(reply), sent))

    def test_mismatches(self) -> None:
        """
        A reply with another ID, question (name, type or class), opcode, or
        no QR bit does not answer the query (RFC 5452 section 9.1).
        """
        sent = makeQuery(GAIA, RRType.A, id=7)
        others = {
            "ID": makeQuery(GAIA, RRType.A, id=8),
            "name": makeQuery(Name.fromText("www.umass.edu."), RRType.A, id=7),
            "type": makeQuery(GAIA, RRType.AAAA, id=7),
            "class": makeQuery(GAIA, RRType.A, RRClass.CH, id=7),
        }
        for what, other in others.items():
            self.assertIsNotNone(mismatch(answer(other), sent), what)
        self.assertIsNotNone(mismatch(sent, sent), "QR clear")
        self.assertIsNotNone(mismatch(Message(id=7, qr=True), sent), "no question")
        notify = Message(id=7, qr=True, opcode=4, questions=sent.questions)
        self.assertIsNotNone(mismatch(notify, sent), "opcode")


class UDPQueryTests(SynchronousTestCase):
    """
    L{query} over UDP, on fake ports and a clock.
    """

    def setUp(self) -> None:
        self.reactor = FakeReactor()

    def ask(self, **kwargs: Any) -> list[Any]:
        kwargs.setdefault("servers", [SERVER])
        kwargs.setdefault("idGenerator", sequentialIds())
        results: list[Any] = []
        query(self.reactor, kwargs.pop("name", "gaia.cs.umass.edu"), **kwargs).addBoth(
            results.append
        )
        return results

    def test_sends(self) -> None:
        """
        The query goes out on a fresh port (port 0), connected to the
        server, with the ID from the generator, RD set and EDNS announcing
        1232 octets.
        """
        self.ask()
        [port] = self.reactor.udpPorts
        self.assertEqual(port.connectedTo, SERVER)
        self.assertEqual(port.written[0][1], SERVER)
        sent = port.sentQuery()
        self.assertEqual(sent, makeQuery(GAIA, RRType.A, id=1000, edns=DEFAULT_EDNS))
        self.assertEqual(sent.edns, EDNS(payloadSize=1232))

    def test_answer(self) -> None:
        """
        The answer fires the result with the message, the server, the
        transport, the round-trip time on the reactor's clock and the size;
        the port is closed.
        """
        results = self.ask()
        [port] = self.reactor.udpPorts
        self.reactor.advance(0.25)
        sent = port.sentQuery()
        data = encodeMessage(answer(sent, GAIA_A))
        port.deliver(data, SERVER)
        [response] = results
        self.assertIsInstance(response, Response)
        self.assertEqual(response.message.answers, (GAIA_A,))
        self.assertEqual(response.server, SERVER)
        self.assertEqual(response.transport, UDP)
        self.assertEqual(response.rtt, 0.25)
        self.assertEqual(response.size, len(data))
        self.assertEqual(response.query, sent)
        self.assertFalse(response.truncated)
        self.assertEqual(response.failures, ())
        self.assertTrue(port.stopped)
        self.assertEqual(self.reactor.getDelayedCalls(), [])

    def test_rcodesAreAnswers(self) -> None:
        """
        NXDOMAIN, SERVFAIL, REFUSED are answers, not errors: the caller
        decides what they mean.
        """
        for rcode in (Rcode.NXDOMAIN, Rcode.SERVFAIL, Rcode.REFUSED):
            results = self.ask()
            port = self.reactor.udpPorts[-1]
            port.deliver(encodeMessage(answer(port.sentQuery(), rcode=rcode)), SERVER)
            self.assertEqual(results[0].message.rcode, rcode)

    def test_stringName(self) -> None:
        """
        A name given as a string is absolute, with or without its dot, and a
        L{Name} is taken as it is.
        """
        for name in ("gaia.cs.umass.edu", "gaia.cs.umass.edu.", GAIA):
            self.ask(name=name)
            self.assertEqual(self.reactor.udpPorts[-1].sentQuery().questions[0].name, GAIA)

    def test_options(self) -> None:
        """
        Type, class, RD and EDNS are as asked; without EDNS there is no OPT.
        """
        self.ask(rtype=RRType.MX, rclass=RRClass.CH, recursionDesired=False, edns=None)
        sent = self.reactor.udpPorts[0].sentQuery()
        self.assertEqual(sent.questions, (Question(GAIA, RRType.MX, RRClass.CH),))
        self.assertFalse(sent.rd)
        self.assertIsNone(sent.edns)

    def test_freshIdAndPortPerQuery(self) -> None:
        """
        Two identical queries at the same time are not merged: two ports,
        two IDs, two datagrams (RFC 5452 sections 4 and 5).  Each answer
        goes to its own query.
        """
        ids = sequentialIds()
        first = self.ask(idGenerator=ids)
        second = self.ask(idGenerator=ids)
        port1, port2 = self.reactor.udpPorts
        self.assertIsNot(port1, port2)
        self.assertNotEqual(port1.number, port2.number)
        query1, query2 = port1.sentQuery(), port2.sentQuery()
        self.assertNotEqual(query1.id, query2.id)
        self.assertEqual(query1.questions, query2.questions)
        # The answer to the second query, on the first query's port, is not
        # taken.
        port1.deliver(encodeMessage(answer(query2, GAIA_A)), SERVER)
        self.assertEqual(first, [])
        port2.deliver(encodeMessage(answer(query2, GAIA_A)), SERVER)
        port1.deliver(encodeMessage(answer(query1, GAIA_A)), SERVER)
        self.assertEqual(first[0].query, query1)
        self.assertEqual(second[0].query, query2)

    def test_randomIds(self) -> None:
        """
        By default IDs come from L{secrets}, uniformly over 16 bits.
        """
        calls: list[int] = []

        def randbelow(n: int) -> int:
            calls.append(n)
            return 4242

        self.patch(client.secrets, "randbelow", randbelow)
        results: list[Any] = []
        query(self.reactor, "gaia.cs.umass.edu", servers=[SERVER]).addBoth(results.append)
        self.assertEqual(calls, [0x10000])
        self.assertEqual(self.reactor.udpPorts[0].sentQuery().id, 4242)

    def test_randomIdsDiffer(self) -> None:
        """
        The real generator gives many different IDs.
        """
        ids = {client._randomId() for _ in range(200)}
        self.assertGreater(len(ids), 190)
        self.assertTrue(all(0 <= i <= 0xFFFF for i in ids))

    def test_spoofsIgnored(self) -> None:
        """
        Replies from another address or port, with another ID, with another
        question (name, type, class), that are no response, or that do not
        parse are ignored: the query keeps waiting, and takes the right
        answer when it comes (RFC 5452 section 9.1).
        """
        results = self.ask()
        [port] = self.reactor.udpPorts
        sent = port.sentQuery()
        good = encodeMessage(answer(sent, GAIA_A))
        spoofed = A("6.6.6.6")
        bad = ResourceRecord(GAIA, RRType.A, RRClass.IN, 3600, spoofed)
        forged = encodeMessage(answer(sent, bad))
        port.deliver(forged, ("127.2.2.9", 10053))
        port.deliver(forged, ("127.2.2.1", 10054))
        for other in (
            makeQuery(GAIA, RRType.A, id=sent.id + 1),
            makeQuery(Name.fromText("www.umass.edu."), RRType.A, id=sent.id),
            makeQuery(GAIA, RRType.AAAA, id=sent.id),
            makeQuery(GAIA, RRType.A, RRClass.CH, id=sent.id),
        ):
            port.deliver(encodeMessage(answer(other, bad)), SERVER)
        port.deliver(encodeMessage(sent), SERVER)
        port.deliver(b"\x00", SERVER)
        port.deliver(good[:-3], SERVER)
        self.assertEqual(results, [])
        self.assertFalse(port.stopped)
        port.deliver(good, SERVER)
        self.assertEqual(results[0].message.answers, (GAIA_A,))

    def test_ipv6(self) -> None:
        """
        An IPv6 server gets an IPv6 port, and its answer is recognized
        whatever the form of the address.
        """
        server = ("::1", 10053)
        results = self.ask(servers=[server])
        [port] = self.reactor.udpPorts
        self.assertEqual(port.interface, "::")
        self.assertEqual(port.connectedTo, server)
        port.deliver(encodeMessage(answer(port.sentQuery(), GAIA_A)), ("0:0::1", 10053))
        self.assertEqual(results[0].server, server)

    def test_bigDatagrams(self) -> None:
        """
        The port reads datagrams of any size, so no answer is cut short.
        """
        self.ask()
        self.assertEqual(self.reactor.udpPorts[0].maxPacketSize, 65535)

    def test_timeoutRetriesNextServer(self) -> None:
        """
        With no answer within the timeout, the next try goes to the next
        server, on a new port with a new ID; the earlier port is closed.
        """
        results = self.ask(servers=[SERVER, OTHER], timeout=2.0)
        [first] = self.reactor.udpPorts
        self.reactor.advance(1.9)
        self.assertEqual(len(self.reactor.udpPorts), 1)
        self.reactor.advance(0.1)
        second = self.reactor.udpPorts[1]
        self.assertTrue(first.stopped)
        self.assertEqual(second.connectedTo, OTHER)
        self.assertNotEqual(second.sentQuery().id, first.sentQuery().id)
        # The first server's late answer reaches a closed port.
        first.deliver(encodeMessage(answer(first.sentQuery(), GAIA_A)), SERVER)
        self.assertEqual(results, [])
        self.reactor.advance(1.5)
        second.deliver(encodeMessage(answer(second.sentQuery(), GAIA_A)), OTHER)
        [response] = results
        self.assertEqual(response.server, OTHER)
        self.assertEqual(response.rtt, 1.5)
        self.assertEqual(
            response.failures, (client.TryFailure(SERVER, UDP, "timed out", refused=False),)
        )

    def test_triesInTurn(self) -> None:
        """
        Tries go round the servers C{retries + 1} times, then the query
        fails with L{DNSTimeoutError}, every port closed.
        """
        results = self.ask(servers=[SERVER, OTHER], timeout=2.0, retries=2)
        for _ in range(10):
            self.reactor.advance(2.0)
        self.assertEqual(
            [port.connectedTo for port in self.reactor.udpPorts],
            [SERVER, OTHER, SERVER, OTHER, SERVER, OTHER],
        )
        self.assertTrue(all(port.stopped for port in self.reactor.udpPorts))
        self.assertEqual(len({port.sentQuery().id for port in self.reactor.udpPorts}), 6)
        [failure] = results
        self.assertIsInstance(failure, Failure)
        failure.trap(DNSTimeoutError)
        self.assertEqual(len(failure.value.failures), 6)
        self.assertEqual(
            str(failure.value),
            "no answer from 127.2.2.1#10053, 127.2.2.2#10053 (6 tries, 2 s each)",
        )
        self.assertEqual(self.reactor.getDelayedCalls(), [])

    def test_noRetries(self) -> None:
        results = self.ask(retries=0, timeout=1.0)
        self.reactor.advance(1.0)
        self.assertEqual(len(self.reactor.udpPorts), 1)
        self.assertIsInstance(results[0].value, DNSTimeoutError)
        self.assertEqual(str(results[0].value), "no answer from 127.2.2.1#10053 (1 try, 1 s each)")

    def test_refusedMovesOnAtOnce(self) -> None:
        """
        An ICMP "port unreachable" (C{connectionRefused}) ends the try at
        once; when every try is refused the query fails with
        L{DNSConnectionRefusedError}.
        """
        results = self.ask(servers=[SERVER, OTHER], retries=0)
        self.reactor.udpPorts[0].protocol.connectionRefused()
        self.assertEqual(len(self.reactor.udpPorts), 2)
        self.assertTrue(self.reactor.udpPorts[0].stopped)
        self.reactor.udpPorts[1].protocol.connectionRefused()
        [failure] = results
        failure.trap(DNSConnectionRefusedError)
        self.assertEqual(
            str(failure.value), "127.2.2.1#10053, 127.2.2.2#10053: connection refused (2 tries)"
        )
        self.assertTrue(all(f.refused for f in failure.value.failures))

    def test_refusedThenAnswer(self) -> None:
        """
        A refusing server is skipped for one that answers.
        """
        results = self.ask(servers=[SERVER, OTHER])
        self.reactor.udpPorts[0].protocol.connectionRefused()
        port = self.reactor.udpPorts[1]
        port.deliver(encodeMessage(answer(port.sentQuery(), GAIA_A)), OTHER)
        self.assertEqual(results[0].server, OTHER)
        self.assertEqual(results[0].failures[0].reason, "connection refused")

    def test_refusedAndTimedOut(self) -> None:
        """
        When some tries were refused and some timed out, it is a timeout.
        """
        results = self.ask(servers=[SERVER, OTHER], retries=0, timeout=1.0)
        self.reactor.udpPorts[0].protocol.connectionRefused()
        self.reactor.advance(1.0)
        results[0].trap(DNSTimeoutError)

    def test_portClosedByICMP(self) -> None:
        """
        Poll and epoll reactors close a connected UDP port on an ICMP error
        instead of calling C{connectionRefused} (Twisted #6467): the error
        is read from the socket.
        """
        results = self.ask(retries=0)
        port = self.reactor.udpPorts[0]
        port.socket = FakeSocket(errno.ECONNREFUSED)
        port.protocol.doStop()
        results[0].trap(DNSConnectionRefusedError)

    def test_portClosedByOtherError(self) -> None:
        results = self.ask(retries=0)
        port = self.reactor.udpPorts[0]
        port.socket = FakeSocket(errno.EHOSTUNREACH)
        port.protocol.doStop()
        results[0].trap(DNSQueryError)
        self.assertEqual(results[0].value.failures[0].reason, os.strerror(errno.EHOSTUNREACH))

    def test_refusedOnSending(self) -> None:
        """
        A refusal reported as the query is sent ends the try, and its port
        is closed.
        """
        self.reactor.sendError = "refused"
        results = self.ask(retries=1)
        self.assertEqual(len(self.reactor.udpPorts), 2)
        self.assertTrue(all(port.stopped for port in self.reactor.udpPorts))
        results[0].trap(DNSConnectionRefusedError)
        self.assertEqual(self.reactor.getDelayedCalls(), [])

    def test_cannotSend(self) -> None:
        """
        An error on sending (no route to the server) ends the try with its
        reason, and the port is closed.
        """
        self.reactor.sendError = OSError(errno.ENETUNREACH, os.strerror(errno.ENETUNREACH))
        results = self.ask(retries=0)
        self.assertTrue(self.reactor.udpPorts[0].stopped)
        results[0].trap(DNSQueryError)
        self.assertEqual(
            str(results[0].value),
            f"no answer (127.2.2.1#10053: {os.strerror(errno.ENETUNREACH)})",
        )

    def test_truncatedIgnored(self) -> None:
        """
        With C{tcp=False}, a truncated answer is taken as it is.
        """
        results = self.ask(tcp=False)
        port = self.reactor.udpPorts[0]
        truncated = makeResponse(port.sentQuery(), aa=True)
        data = encodeMessage(truncated)
        data = data[:2] + bytes([data[2] | 0x02]) + data[3:]
        port.deliver(data, SERVER)
        self.assertTrue(results[0].message.tc)
        self.assertEqual(results[0].transport, UDP)
        self.assertEqual(self.reactor.tcpClients, [])

    def test_cancel(self) -> None:
        """
        Cancelling the query closes its port and stops its timer.
        """
        d = query(self.reactor, "gaia.cs.umass.edu", servers=[SERVER])
        results: list[Any] = []
        d.addBoth(results.append)
        d.cancel()
        results[0].trap(CancelledError)
        self.assertTrue(self.reactor.udpPorts[0].stopped)
        self.assertEqual(self.reactor.getDelayedCalls(), [])

    def test_badArguments(self) -> None:
        """
        Servers are IP addresses with a port in range; there is at least
        one; retries are not negative.
        """
        for kwargs in (
            {"servers": []},
            {"servers": [("localhost", 53)]},
            {"servers": [("127.0.0.1", 0)]},
            {"servers": [("127.0.0.1", 65536)]},
            {"retries": -1},
        ):
            kwargs.setdefault("servers", [SERVER])
            self.assertRaises(ValueError, query, self.reactor, "gaia.cs.umass.edu", **kwargs)

    def test_trace(self) -> None:
        """
        With tracing on, each query and answer is a one-line summary, and
        what happens between them a note.
        """
        lines = traceLines(self)
        self.ask(servers=[SERVER, OTHER])
        self.reactor.advance(2.0)
        port = self.reactor.udpPorts[1]
        port.deliver(b"junk", OTHER)
        port.deliver(encodeMessage(answer(port.sentQuery(), GAIA_A)), OTHER)
        self.assertEqual(
            lines(),
            [
                "*: to 127.2.2.1#10053 over UDP, from port 40000",
                "C: id 1000 QUERY rd gaia.cs.umass.edu. IN A edns udp 1232 (46 octets)",
                "*: no answer within 2 s",
                "*: to 127.2.2.2#10053 over UDP, from port 40001",
                "C: id 1001 QUERY rd gaia.cs.umass.edu. IN A edns udp 1232 (46 octets)",
                "*: ignored a datagram from 127.2.2.2#10053: malformed "
                "(4 octets, shorter than a header)",
                "S: id 1001 QUERY NOERROR qr aa rd gaia.cs.umass.edu. IN A "
                "answer 1 authority 0 additional 0 edns udp 1232 (62 octets)",
            ],
        )


def truncatedAnswer(sent: Message) -> bytes:
    """
    @return: an answer to C{sent} with TC set and its records cut.
    """
    big = ResourceRecord(GAIA, RRType.TXT, RRClass.IN, 60, TXT((b"x" * 255,) * 4))
    return encodeMessage(answer(sent, big), maxSize=512)


class TCPQueryTests(SynchronousTestCase):
    """
    L{query} over TCP: after a truncated UDP answer, or when asked to.
    """

    def setUp(self) -> None:
        self.reactor = FakeReactor()

    def ask(self, **kwargs: Any) -> list[Any]:
        kwargs.setdefault("servers", [SERVER])
        kwargs.setdefault("idGenerator", sequentialIds())
        results: list[Any] = []
        query(self.reactor, "gaia.cs.umass.edu", **kwargs).addBoth(results.append)
        return results

    def connect(self, index: int = -1) -> tuple[Any, StringTransport]:
        """
        Complete the connection the client is making.

        @return: the client's protocol and its transport.
        """
        host, port, factory, timeout, bindAddress = self.reactor.tcpClients[index]
        address = IPv4Address("TCP", host, port)
        protocol = factory.buildProtocol(address)
        transport = StringTransport(peerAddress=address)
        protocol.makeConnection(transport)
        return protocol, transport

    def sentOverTCP(self, transport: StringTransport) -> Message:
        """
        @return: the query written, after checking its length prefix.
        """
        data = transport.value()
        self.assertEqual(int.from_bytes(data[:2], "big"), len(data) - 2)
        return decodeMessage(data[2:])

    def test_truncatedAsksAgainOverTCP(self) -> None:
        """
        A truncated UDP answer (TC=1) makes the client ask the same server
        again over TCP (RFC 7766 section 5), with a new ID, each message
        preceded by its length (RFC 1035 section 4.2.2); the answer may come
        in pieces.
        """
        results = self.ask(servers=[SERVER, OTHER])
        port = self.reactor.udpPorts[0]
        port.deliver(truncatedAnswer(port.sentQuery()), SERVER)
        self.assertTrue(port.stopped)
        [(host, portNumber, _, _, _)] = self.reactor.tcpClients
        self.assertEqual((host, portNumber), SERVER)
        self.reactor.advance(0.5)
        protocol, transport = self.connect()
        sent = self.sentOverTCP(transport)
        self.assertNotEqual(sent.id, port.sentQuery().id)
        self.assertEqual(sent.questions, port.sentQuery().questions)
        big = ResourceRecord(GAIA, RRType.TXT, RRClass.IN, 60, TXT((b"x" * 255,) * 4))
        data = encodeMessage(answer(sent, big))
        framed = len(data).to_bytes(2, "big") + data
        for piece in (framed[:1], framed[1:2], framed[2:100], framed[100:]):
            self.assertEqual(results, [])
            protocol.dataReceived(piece)
        self.assertTrue(transport.disconnecting)
        self.assertEqual(results, [])
        protocol.connectionLost(Failure(error.ConnectionDone()))
        [response] = results
        self.assertEqual(response.transport, TCP)
        self.assertTrue(response.truncated)
        self.assertEqual(response.server, SERVER)
        self.assertEqual(response.message.answers, (big,))
        self.assertEqual(response.size, len(data))
        self.assertEqual(response.rtt, 0.5)
        self.assertEqual(response.query, sent)
        self.assertEqual(self.reactor.getDelayedCalls(), [])

    def test_tcpOnly(self) -> None:
        """
        With C{tcp=True} no UDP is used; the round-trip time counts from
        the start of the connection.
        """
        results = self.ask(tcp=True)
        self.assertEqual(self.reactor.udpPorts, [])
        self.reactor.advance(0.1)
        protocol, transport = self.connect()
        self.reactor.advance(0.2)
        sent = self.sentOverTCP(transport)
        data = encodeMessage(answer(sent, GAIA_A))
        protocol.dataReceived(len(data).to_bytes(2, "big") + data)
        protocol.connectionLost(Failure(error.ConnectionDone()))
        self.assertEqual(results[0].transport, TCP)
        self.assertFalse(results[0].truncated)
        self.assertAlmostEqual(results[0].rtt, 0.3)

    def test_tcpIgnoresOthers(self) -> None:
        """
        Over TCP too, a message with another ID or question, or malformed,
        is skipped; the answer after it is taken.
        """
        results = self.ask(tcp=True)
        protocol, transport = self.connect()
        sent = self.sentOverTCP(transport)
        wrong = encodeMessage(answer(makeQuery(GAIA, RRType.A, id=sent.id ^ 1), GAIA_A))
        right = encodeMessage(answer(sent, GAIA_A))
        stream = b"".join(len(m).to_bytes(2, "big") + m for m in (wrong, b"\x00" * 5, right))
        protocol.dataReceived(stream)
        protocol.connectionLost(Failure(error.ConnectionDone()))
        self.assertEqual(results[0].message.id, sent.id)

    def test_tcpTimeoutWhileConnecting(self) -> None:
        """
        A connection not made within the timeout is given up, and the next
        try goes to the next server.
        """
        results = self.ask(tcp=True, servers=[SERVER, OTHER], timeout=1.0)
        factory = self.reactor.tcpClients[0][2]
        connector = self.reactor.connectors[0]
        self.reactor.advance(1.0)
        self.assertTrue(connector.stoppedConnecting)
        factory.clientConnectionFailed(connector, Failure(error.UserError()))
        self.assertEqual(self.reactor.tcpClients[1][:2], OTHER)
        self.assertEqual(results, [])

    def test_tcpTimeoutConnected(self) -> None:
        """
        A connection that brings no answer within the timeout is aborted.
        """
        results = self.ask(tcp=True, retries=0, timeout=1.0)
        protocol, transport = self.connect()
        self.reactor.advance(1.0)
        self.assertTrue(transport.disconnected)
        protocol.connectionLost(Failure(error.ConnectionAborted()))
        results[0].trap(DNSTimeoutError)
        self.assertEqual(results[0].value.failures[0].transport, TCP)

    def test_tcpRefused(self) -> None:
        results = self.ask(tcp=True, retries=0)
        factory = self.reactor.tcpClients[0][2]
        factory.clientConnectionFailed(
            self.reactor.connectors[0], Failure(error.ConnectionRefusedError())
        )
        results[0].trap(DNSConnectionRefusedError)

    def test_tcpClosedWithoutAnswer(self) -> None:
        """
        A server that closes the connection without answering fails the
        try, with a reason of its own.
        """
        results = self.ask(tcp=True, retries=0)
        protocol, transport = self.connect()
        protocol.dataReceived(b"\x00\x20partial")
        protocol.connectionLost(Failure(error.ConnectionDone()))
        results[0].trap(DNSQueryError)
        self.assertEqual(
            str(results[0].value),
            "no answer (127.2.2.1#10053: connection closed without an answer)",
        )

    def test_truncatedThenTCPFails(self) -> None:
        """
        If the TCP try after a truncated answer fails, the query goes on
        with the next server, over UDP again.
        """
        results = self.ask(servers=[SERVER, OTHER])
        port = self.reactor.udpPorts[0]
        port.deliver(truncatedAnswer(port.sentQuery()), SERVER)
        factory = self.reactor.tcpClients[0][2]
        factory.clientConnectionFailed(
            self.reactor.connectors[0], Failure(error.ConnectionRefusedError())
        )
        second = self.reactor.udpPorts[1]
        self.assertEqual(second.connectedTo, OTHER)
        second.deliver(encodeMessage(answer(second.sentQuery(), GAIA_A)), OTHER)
        self.assertEqual(results[0].server, OTHER)
        self.assertEqual(
            results[0].failures, (client.TryFailure(SERVER, TCP, "connection refused", True),)
        )

    def test_cancelTCP(self) -> None:
        d = query(self.reactor, "gaia.cs.umass.edu", servers=[SERVER], tcp=True)
        results: list[Any] = []
        d.addBoth(results.append)
        protocol, transport = self.connect()
        d.cancel()
        self.assertTrue(transport.disconnected)
        results[0].trap(CancelledError)
        protocol.connectionLost(Failure(error.ConnectionAborted()))


# Loopback and interop ---------------------------------------------------

ZONE = """\
$ORIGIN umass.edu.
$TTL 3600
@        IN SOA dns.umass.edu. hostmaster.umass.edu. 2026112101 3600 900 604800 300
         IN NS  dns.umass.edu.
         IN MX  10 mail.umass.edu.
dns      IN A   127.2.2.1
mail     IN A   127.2.0.11
gaia.cs  IN A   127.2.0.10
www      IN CNAME gaia.cs.umass.edu.
cs-dept  IN NS  dns.cs-dept.umass.edu.
dns.cs-dept IN A 127.2.2.9
a-rather-long-host-name-for-the-columns IN A 127.2.0.12
"""

#: A TXT RRset of about 2000 octets: too big for 1232-octet UDP answers.
BIG_TXT = "".join(f'big IN TXT "{chr(97 + i) * 250}"\n' for i in range(8))


async def startNSD(testCase: TestCase, zoneText: str = ZONE + BIG_TXT) -> tuple[str, int]:
    """
    Run NSD in the foreground on 127.0.0.1 with the zone umass.edu, and wait
    until it answers.  The test's clean-up kills it.

    @return: its (address, port).
    @raise SkipTest: when NSD is not installed or we are not root (NSD
        wants to be started as root even without dropping privileges).
    """
    from tests.processes import converse

    nsd = findNSD()
    if nsd is None:
        raise SkipTest("nsd is not installed")
    if os.getuid() != 0:
        raise SkipTest("nsd needs root")
    directory = tempfile.mkdtemp(prefix="netref-nsd-")
    testCase.addCleanup(shutil.rmtree, directory, True)
    with open(os.path.join(directory, "umass.edu.zone"), "w") as f:
        f.write(zoneText)
    port = freePort()
    config = writeNSDConfig(directory, port, [("umass.edu", "umass.edu.zone")])
    process = converse(reactor, nsd, ["-d", "-c", config], testCase)
    server = ("127.0.0.1", port)
    for _ in range(100):
        if process.ended.called:
            raise AssertionError(f"nsd ended: {process.errors!r} {process.output!r}")
        try:
            await query(reactor, "umass.edu", RRType.SOA, [server], timeout=0.1, retries=0)
        except DNSQueryError:
            await deferLater(reactor, 0.1, lambda: None)
        else:
            return server
    raise AssertionError(f"nsd does not answer: {process.errors!r} {process.output!r}")


class LoopbackMixin:
    """
    The client against a real server on loopback: the tests of both
    servers.
    """

    server: tuple[str, int]

    async def startServer(self) -> tuple[str, int]:
        raise NotImplementedError

    def ask(self, name: str, rtype: int = RRType.A, **kwargs: Any) -> Deferred[Response]:
        async def asking() -> Response:
            server = await self.startServer()
            return await query(reactor, name, rtype, [server], timeout=2.0, **kwargs)

        return Deferred.fromCoroutine(asking())

    @defer.inlineCallbacks
    def test_udp(self):
        response = yield self.ask("gaia.cs.umass.edu")
        self.assertEqual(response.transport, UDP)
        self.assertEqual(response.message.rcode, Rcode.NOERROR)
        self.assertTrue(response.message.aa)
        self.assertEqual(response.message.answers, (GAIA_A,))
        self.assertIsNotNone(response.message.edns)

    @defer.inlineCallbacks
    def test_nxdomain(self):
        response = yield self.ask("nothere.umass.edu", recursionDesired=False)
        self.assertEqual(response.message.rcode, Rcode.NXDOMAIN)
        self.assertEqual(response.message.authority[0].rtype, RRType.SOA)

    @defer.inlineCallbacks
    def test_referral(self):
        """
        A name below a delegation gets a referral: no answer, the NS records
        in the authority section and the glue in the additional section.
        """
        response = yield self.ask("www.cs-dept.umass.edu", recursionDesired=False)
        message = response.message
        self.assertEqual(message.answers, ())
        self.assertFalse(message.aa)
        self.assertEqual([r.rtype for r in message.authority], [RRType.NS])
        self.assertEqual([r.rdata.toText() for r in message.additional], ["127.2.2.9"])

    @defer.inlineCallbacks
    def test_tcp(self):
        response = yield self.ask("umass.edu", RRType.MX, tcp=True)
        self.assertEqual(response.transport, TCP)
        self.assertEqual(response.message.answers[0].rdata.toText(), "10 mail.umass.edu.")

    @defer.inlineCallbacks
    def test_truncatedFallsBackToTCP(self):
        """
        The big TXT RRset does not fit 1232 octets: the UDP answer is
        truncated and the client gets the whole RRset over TCP.
        """
        response = yield self.ask("big.umass.edu", RRType.TXT)
        self.assertTrue(response.truncated)
        self.assertEqual(response.transport, TCP)
        self.assertEqual(len(response.message.answers), 8)
        self.assertGreater(response.size, 1232)

    @defer.inlineCallbacks
    def test_truncatedWithoutEDNS(self):
        """
        Without EDNS the limit is 512 octets (RFC 1035 section 4.2.1).
        """
        response = yield self.ask("big.umass.edu", RRType.TXT, edns=None, tcp=False)
        self.assertTrue(response.message.tc)
        self.assertLessEqual(response.size, 512)
        self.assertIsNone(response.message.edns)

    @defer.inlineCallbacks
    def test_concurrent(self):
        """
        Many queries at once, identical and not, each get their own answer.
        """
        server = yield Deferred.fromCoroutine(self.startServer())
        names = ["gaia.cs.umass.edu", "mail.umass.edu", "dns.umass.edu"] * 5
        responses = yield defer.gatherResults(
            [query(reactor, name, RRType.A, [server]) for name in names]
        )
        for name, response in zip(names, responses, strict=True):
            self.assertEqual(response.message.answers[0].name, Name.fromText(name + "."))
        self.assertEqual(len({r.query.id for r in responses}), len(names))


class NSDInteropTests(LoopbackMixin, TestCase):
    """
    netref's client against NSD, an authoritative server nobody here wrote.
    """

    timeout = 30

    async def startServer(self) -> tuple[str, int]:
        return await startNSD(self)


class NetrefLoopbackTests(LoopbackMixin, TestCase):
    """
    netref's client against netref's server, on loopback.
    """

    timeout = 30

    async def startServer(self) -> tuple[str, int]:
        from netref.dns.authority import Authority, Zone
        from netref.dns.server import DNSDatagramProtocol, DNSServerFactory
        from netref.dns.zonefile import parseZone

        authority = Authority([Zone.fromZoneData(parseZone(ZONE + BIG_TXT, "umass.edu"))])
        udp = reactor.listenUDP(0, DNSDatagramProtocol(authority), interface="127.0.0.1")
        self.addCleanup(udp.stopListening)
        port = udp.getHost().port
        try:
            tcp = reactor.listenTCP(port, DNSServerFactory(authority), interface="127.0.0.1")
        except error.CannotListenError:
            raise SkipTest(f"TCP port {port} is taken") from None
        self.addCleanup(tcp.stopListening)
        return ("127.0.0.1", port)


class RefusedLoopbackTests(TestCase):
    """
    A real ICMP "port unreachable" on loopback.
    """

    timeout = 10

    @defer.inlineCallbacks
    def test_nobodyListening(self):
        port = freePort()
        d = query(reactor, "gaia.cs.umass.edu", servers=[("127.0.0.1", port)], timeout=5)
        with self.assertRaises(DNSConnectionRefusedError):
            yield d


DOCS_PAGE = docsPage("dns.rst")


class EmbeddingExampleTests(TestCase):
    """
    The docs page's program runs as printed.
    """

    timeout = 30

    @defer.inlineCallbacks
    def test_embeddingExample(self):
        code = embeddingExample(DOCS_PAGE)
        if code is None:
            raise SkipTest(f"{DOCS_PAGE} is not here (no source checkout)")
        out, err, status = yield getProcessOutputAndValue(
            sys.executable, ["-c", code], env=dict(os.environ)
        )
        self.assertEqual(status, 0, err)
        self.assertEqual(
            out.decode(),
            "gaia.cs.umass.edu NOERROR\n"
            "(gaia.cs.umass.edu, 127.2.0.10, A, 3600)\n"
            "nothere.umass.edu NXDOMAIN\n",
        )
