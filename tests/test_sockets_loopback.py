"""
Loopback tests for L{netref.sockets}: netref's uppercase clients against
netref's uppercase servers on 127.0.0.1, bad input included, and the
C{netref upper} tool.
"""

from __future__ import annotations

import io
import socket
import sys
from typing import Any

from twisted.internet import error, reactor
from twisted.internet.defer import Deferred, gatherResults, maybeDeferred
from twisted.internet.endpoints import TCP4ClientEndpoint, connectProtocol, serverFromString
from twisted.internet.interfaces import IListeningPort
from twisted.internet.protocol import DatagramProtocol, Protocol
from twisted.internet.task import deferLater
from twisted.python.failure import Failure
from twisted.python.filepath import FilePath
from twisted.trial.unittest import TestCase

from netref.core.cli import ToolError
from netref.core.tls import DevCertificateAuthority, clientOptions, resolveServerEndpoint
from netref.sockets import client
from netref.sockets.client import upperTCP, upperUDP
from netref.sockets.server import UpperTCPFactory, UpperTCPProtocol, UpperUDPProtocol
from netref.sockets.wire import MAX_DATAGRAM, MAX_SENTENCE, ServerError, upper


class TrackingFactory(UpperTCPFactory):
    """
    An L{UpperTCPFactory} that tells when each of its connections is lost,
    so a test can wait for the server side too.
    """

    def __init__(self) -> None:
        super().__init__()
        self.lost: list[Deferred[None]] = []
        self.paused: list[Deferred[None]] = []

    def buildProtocol(self, addr: Any) -> UpperTCPProtocol:
        protocol = super().buildProtocol(addr)
        assert protocol is not None
        lost: Deferred[None] = Deferred()
        paused: Deferred[None] = Deferred()
        self.lost.append(lost)
        self.paused.append(paused)
        originalLost = protocol.connectionLost
        originalPause = protocol.pauseProducing

        def connectionLost(reason: Failure) -> None:
            originalLost(reason)
            lost.callback(None)

        def pauseProducing() -> None:
            originalPause()
            if not paused.called:
                paused.callback(None)

        protocol.connectionLost = connectionLost  # type: ignore[method-assign]
        protocol.pauseProducing = pauseProducing  # type: ignore[method-assign]
        return protocol


class RawClient(Protocol):
    """
    Sends bytes as they are, then half-closes, aborts (RST) or waits, and
    collects everything until the connection is gone.
    """

    def __init__(self, data: bytes, then: str) -> None:
        self.data = data
        self.then = then
        self.received = b""
        self.lost: Deferred[bytes] = Deferred()

    def connectionMade(self) -> None:
        if self.then == "neverRead":
            self.transport.getHandle().setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            self.transport.pauseProducing()
        self.transport.write(self.data)
        if self.then == "halfClose":
            self.transport.loseWriteConnection()
        elif self.then == "abort":
            self.transport.abortConnection()

    def dataReceived(self, data: bytes) -> None:
        self.received += data

    def connectionLost(self, reason: Failure) -> None:
        self.lost.callback(self.received)


class RawDatagrams(DatagramProtocol):
    """
    Sends datagrams as they are and collects the answers.
    """

    def __init__(self) -> None:
        self.waiting: list[Deferred[bytes]] = []

    def ask(self, datagram: bytes, server: tuple[str, int]) -> Deferred[bytes]:
        answer: Deferred[bytes] = Deferred()
        self.waiting.append(answer)
        self.transport.write(datagram, server)
        return answer

    def datagramReceived(self, datagram: bytes, addr: Any) -> None:
        self.waiting.pop(0).callback(datagram)


class TCPLoopbackTests(TestCase):
    """
    L{upperTCP} against L{UpperTCPFactory} on 127.0.0.1.
    """

    def setUp(self) -> None:
        self.factory = TrackingFactory()
        self.port: IListeningPort = reactor.listenTCP(0, self.factory, interface="127.0.0.1")
        self.portNumber = self.port.getHost().port

    async def tearDown(self) -> None:
        await gatherResults(self.factory.lost)
        await self.port.stopListening()

    async def raw(self, data: bytes, then: str) -> bytes:
        """
        Run a L{RawClient} against the server.
        """
        rawClient = RawClient(data, then)
        endpoint = TCP4ClientEndpoint(reactor, "127.0.0.1", self.portNumber)
        await connectProtocol(endpoint, rawClient)
        return await rawClient.lost

    async def assertStillServing(self) -> None:
        reply = await upperTCP(reactor, "127.0.0.1", self.portNumber, "still there?")
        self.assertEqual(reply, "STILL THERE?")

    async def test_exchange(self) -> None:
        reply = await upperTCP(reactor, "127.0.0.1", self.portNumber, "hello, straße")
        self.assertEqual(reply, "HELLO, STRASSE")

    async def test_localhost(self) -> None:
        """
        The name C{localhost}, as in the textbook, finds the server (whether
        it resolves to ::1 first or not).
        """
        reply = await upperTCP(reactor, "localhost", self.portNumber, "hello")
        self.assertEqual(reply, "HELLO")

    async def test_manyClients(self) -> None:
        """
        The reactor serves many connection sockets at once.
        """
        sentences = [f"client number {n}" for n in range(20)]
        replies = await gatherResults(
            [upperTCP(reactor, "127.0.0.1", self.portNumber, s) for s in sentences]
        )
        self.assertEqual(replies, [s.upper() for s in sentences])

    async def test_longestSentence(self) -> None:
        sentence = "a" * MAX_SENTENCE
        reply = await upperTCP(reactor, "127.0.0.1", self.portNumber, sentence)
        self.assertEqual(reply, sentence.upper())

    async def test_severalSentencesHalfClose(self) -> None:
        """
        One connection carries several sentences; after a half-close the
        server sends the rest and closes.
        """
        received = await self.raw(b"one\ntwo\nthree", "halfClose")
        self.assertEqual(received, b"ONE\nTWO\nTHREE")

    async def test_oversizedLine(self) -> None:
        """
        An overlong sentence gets an error line and a closed connection; the
        server serves the next client.
        """
        received = await self.raw(b"x" * (MAX_SENTENCE + 10) + b"\n", "wait")
        self.assertTrue(received.startswith(b"XXXX"))
        self.assertTrue(received.endswith(b"error: sentence longer than 65536 bytes\n"))
        self.assertEqual(
            len(received), MAX_SENTENCE + len(b"error: sentence longer than 65536 bytes\n")
        )
        await self.assertStillServing()

    async def test_binaryGarbage(self) -> None:
        garbage = bytes(range(256)) * 4 + b"\xc3\n\xe2\x82"
        received = await self.raw(garbage, "halfClose")
        self.assertEqual(received, upper(garbage))
        await self.assertStillServing()

    async def test_abruptDisconnect(self) -> None:
        """
        A client that resets the connection in the middle of a sentence (and
        of a character) leaves the server unharmed.
        """
        await self.raw(b"half a sentence, half a \xc3", "abort")
        await self.assertStillServing()

    async def test_clientNeverReads(self) -> None:
        """
        A client that sends and sends but never reads its answers is no
        longer read from (the server's memory does not fill with answers),
        and the server goes on serving others.
        """
        flooder = RawClient(b"a" * 1023 + b"\n", "neverRead")
        endpoint = TCP4ClientEndpoint(reactor, "127.0.0.1", self.portNumber)
        await connectProtocol(endpoint, flooder)
        while not self.factory.paused[0].called:
            flooder.transport.write(b"flood, flood, flood\n" * 100_000)
            await deferLater(reactor, 0, lambda: None)
        await self.assertStillServing()
        flooder.transport.abortConnection()
        await flooder.lost

    async def test_refused(self) -> None:
        await self.port.stopListening()
        with self.assertRaises(error.ConnectionRefusedError):
            await upperTCP(reactor, "127.0.0.1", self.portNumber, "hello")
        self.port = reactor.listenTCP(0, self.factory, interface="127.0.0.1")


class TLSLoopbackTests(TestCase):
    """
    L{upperTCP} with TLS against L{UpperTCPFactory} on an C{ssl:} endpoint
    with a C{--tls auto} certificate.
    """

    async def test_exchange(self) -> None:
        state = FilePath(self.mktemp())
        state.makedirs()
        description = resolveServerEndpoint("ssl:0:interface=127.0.0.1", "auto", state)
        factory = TrackingFactory()
        port = await serverFromString(reactor, description).listen(factory)
        trust = DevCertificateAuthority.forStateDirectory(state).trustRoot()
        reply = await upperTCP(
            reactor,
            "127.0.0.1",
            port.getHost().port,
            "hello over tls",
            tls=clientOptions("127.0.0.1", trust),
        )
        self.assertEqual(reply, "HELLO OVER TLS")
        await gatherResults(factory.lost)
        await port.stopListening()


class UDPLoopbackTests(TestCase):
    """
    L{upperUDP} against L{UpperUDPProtocol} on 127.0.0.1.
    """

    def setUp(self) -> None:
        self.port = reactor.listenUDP(0, UpperUDPProtocol(), interface="127.0.0.1")
        self.server = ("127.0.0.1", self.port.getHost().port)

    async def tearDown(self) -> None:
        await self.port.stopListening()

    async def raw(self, datagram: bytes) -> bytes:
        rawClient = RawDatagrams()
        port = reactor.listenUDP(0, rawClient, interface="127.0.0.1")
        try:
            return await rawClient.ask(datagram, self.server)
        finally:
            await port.stopListening()

    async def assertStillServing(self) -> None:
        self.assertEqual(await upperUDP(reactor, *self.server, "still there?"), "STILL THERE?")

    async def test_exchange(self) -> None:
        self.assertEqual(await upperUDP(reactor, *self.server, "hello, straße"), "HELLO, STRASSE")

    async def test_localhost(self) -> None:
        self.assertEqual(await upperUDP(reactor, "localhost", self.server[1], "hi"), "HI")

    async def test_longestDatagram(self) -> None:
        sentence = "ΐ" * (MAX_DATAGRAM // 2)
        self.assertEqual(await upperUDP(reactor, *self.server, sentence), sentence.upper())

    async def test_oversizedDatagram(self) -> None:
        """
        Datagrams longer than the limit, even longer than Twisted reads, get
        an error datagram; the server goes on.
        """
        for size in (MAX_DATAGRAM + 1, 10000):
            answer = await self.raw(b"a" * size)
            self.assertEqual(answer, b"error: datagram longer than 2048 bytes\n")
        await self.assertStillServing()

    async def test_binaryGarbage(self) -> None:
        garbage = bytes(range(256))
        self.assertEqual(await self.raw(garbage), upper(garbage))
        await self.assertStillServing()

    async def test_serverError(self) -> None:
        """
        L{upperUDP} reports an error datagram as L{ServerError}.
        """
        await self.port.stopListening()
        self.port = reactor.listenUDP(0, UpperUDPProtocol(maxDatagram=3), interface="127.0.0.1")
        with self.assertRaises(ServerError):
            await upperUDP(reactor, "127.0.0.1", self.port.getHost().port, "hello")

    async def test_refused(self) -> None:
        """
        Nobody listening: the ICMP "port unreachable" makes it an error at
        once, not a timeout.
        """
        probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
        probe.close()
        with self.assertRaises(error.ConnectionRefusedError):
            await upperUDP(reactor, "127.0.0.1", free, "hello", timeout=10, retries=0)


class ToolTests(TestCase):
    """
    C{netref upper}'s C{run}, against loopback servers, printing to a
    captured standard output.
    """

    def setUp(self) -> None:
        self.factory = TrackingFactory()
        self.tcp = reactor.listenTCP(0, self.factory, interface="127.0.0.1")
        self.udp = reactor.listenUDP(0, UpperUDPProtocol(), interface="127.0.0.1")
        self.out = io.StringIO()
        self.patch(sys, "stdout", self.out)

    async def tearDown(self) -> None:
        await gatherResults(self.factory.lost)
        await maybeDeferred(self.tcp.stopListening)
        await maybeDeferred(self.udp.stopListening)

    async def runTool(self, *argv: str) -> str:
        options = client.Options()
        options.parseOptions(["--host", "127.0.0.1", *argv])
        await client.run(reactor, options)
        return self.out.getvalue()

    async def test_tcp(self) -> None:
        port = str(self.tcp.getHost().port)
        self.assertEqual(await self.runTool("-p", port, "hello", "straße"), "HELLO\nSTRASSE\n")

    async def test_udp(self) -> None:
        port = str(self.udp.getHost().port)
        self.assertEqual(await self.runTool("--udp", "-p", port, "hello"), "HELLO\n")

    async def test_stdin(self) -> None:
        """
        Without sentences, lines come from standard input.
        """
        self.patch(sys, "stdin", io.StringIO("one\ntwo\n"))
        port = str(self.tcp.getHost().port)
        self.assertEqual(await self.runTool("-p", port), "ONE\nTWO\n")

    async def test_trace(self) -> None:
        port = str(self.udp.getHost().port)
        lines = (await self.runTool("--trace", "--udp", "-p", port, "hi")).splitlines()
        # The server, in the same process, traces too: keep the client's.
        clientId = lines[0].split(" ", 1)[0]
        self.assertEqual(
            [line.split(" ", 1)[1] for line in lines if line.startswith(clientId)],
            [f"*: datagrams to 127.0.0.1:{port}", "C: hi", "S: HI"],
        )
        self.assertEqual(lines[-1], "HI")

    async def test_refused(self) -> None:
        """
        Failures are a L{ToolError} with a one-line reason.
        """
        port = self.tcp.getHost().port
        await self.tcp.stopListening()
        with self.assertRaises(ToolError) as raised:
            await self.runTool("-p", str(port), "hello")
        self.assertEqual(str(raised.exception), f"127.0.0.1:{port}: connection refused")

    async def test_badSentence(self) -> None:
        with self.assertRaises(ToolError) as raised:
            await self.runTool("-p", str(self.tcp.getHost().port), "a\nb")
        self.assertIn("newline", str(raised.exception))
