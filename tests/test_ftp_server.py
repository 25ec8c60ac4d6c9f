"""
Tests for L{netref.ftp.server} over L{StringTransport} and
L{MemoryReactorClock}: every command's reply, transfers, and the security
rules (no bounce, no port stealing, no escape from the root, login delays
and limits, idle timeouts, bad input).
"""

from __future__ import annotations

import os
from typing import Any

from twisted.internet import error
from twisted.internet.address import IPv4Address
from twisted.internet.testing import MemoryReactorClock, StringTransport
from twisted.python.failure import Failure
from twisted.trial import unittest

from netref.core.auth import MemoryPasswordChecker, ScryptParameters, runSynchronously
from netref.ftp import server
from netref.ftp.filesystem import FilesystemError, UserFilesystem
from netref.ftp.server import DataProtocol, FTPControlProtocol, makeServerFactory
from netref.ftp.wire import Reply, ReplyCode, ReplyParser

FAST = ScryptParameters(n=16, r=1, p=1)
CLIENT = IPv4Address("TCP", "127.0.0.1", 40000)
SERVER = IPv4Address("TCP", "127.0.0.1", 2121)


class DataTransport(StringTransport):
    """
    A data connection's transport that, as a real one, stops its producer
    and tells its protocol when it closes.
    """

    protocol: Any = None

    def _close(self, reason: Exception) -> None:
        if self.disconnecting:
            return
        super().loseConnection()
        if self.producer is not None:
            self.producer.stopProducing()
        if self.protocol is not None:
            self.protocol.connectionLost(Failure(reason))

    def loseConnection(self) -> None:
        self._close(error.ConnectionDone())

    def abortConnection(self) -> None:
        self._close(error.ConnectionAborted())


class Harness:
    """
    A server with a root of a few files, a reactor that records listening
    and connecting, and one control connection.
    """

    def __init__(self, testCase: unittest.TestCase, **kwargs: Any) -> None:
        self.root = testCase.mktemp()
        os.makedirs(os.path.join(self.root, "pub"))
        with open(os.path.join(self.root, "hello.txt"), "wb") as f:
            f.write(b"line one\nline two\n")
        with open(os.path.join(self.root, "data.bin"), "wb") as f:
            f.write(bytes(range(256)) * 1000)
        self.reactor = MemoryReactorClock()
        checker = MemoryPasswordChecker([("alice", "secret")], FAST, runSynchronously)
        self.factory = makeServerFactory(
            self.root, checker, anonymous=True, reactor=self.reactor, **kwargs
        )
        self.protocol, self.transport = self.connect()

    def connect(self, peer: IPv4Address = CLIENT) -> tuple[FTPControlProtocol, StringTransport]:
        protocol = self.factory.buildProtocol(peer)
        assert protocol is not None
        transport = StringTransport(hostAddress=SERVER, peerAddress=peer)
        protocol.makeConnection(transport)
        return protocol, transport

    def replies(self) -> list[Reply]:
        value = self.transport.value()
        self.transport.clear()
        return ReplyParser().feed(value)

    def send(self, line: bytes | str) -> list[Reply]:
        if isinstance(line, str):
            line = line.encode()
        self.protocol.dataReceived(line + b"\r\n")
        return self.replies()

    def codes(self, line: bytes | str) -> list[int]:
        return [r.code for r in self.send(line)]

    def login(self) -> None:
        self.replies()
        assert self.codes("USER alice") == [331]
        assert self.codes("PASS secret") == [230]

    def passiveConnection(self, peer: str = "127.0.0.1") -> tuple[DataProtocol, DataTransport]:
        """
        Enter passive mode and connect to the recorded listening port.
        """
        assert self.codes("PASV") == [ReplyCode.ENTERING_PASSIVE]
        factory = self.reactor.tcpServers[-1][1]
        protocol = factory.buildProtocol(IPv4Address("TCP", peer, 50000))
        assert protocol is not None
        transport = DataTransport(hostAddress=SERVER, peerAddress=IPv4Address("TCP", peer, 50000))
        transport.protocol = protocol
        protocol.makeConnection(transport)
        return protocol, transport


def drain(transport: StringTransport) -> None:
    """
    Pull everything a pull producer registered on C{transport} has.
    """
    for _ in range(10000):
        producer = transport.producer
        if producer is None:
            return
        producer.resumeProducing()
    raise AssertionError("the producer never finished")


class GreetingAndLimitsTests(unittest.TestCase):
    """
    The greeting, the connection limit, bad input, idle timeouts.
    """

    def test_greeting(self) -> None:
        h = Harness(self)
        self.assertEqual([r.code for r in h.replies()], [ReplyCode.SERVICE_READY])

    def test_maxConnections(self) -> None:
        """
        Past the limit, a client gets 421 and is closed.
        """
        h = Harness(self, maxConnections=1)
        protocol, transport = h.connect()
        self.assertEqual(ReplyParser().feed(transport.value())[0].code, 421)
        self.assertTrue(transport.disconnecting)

    def test_thousandMalformedCommands(self) -> None:
        """
        1,000 malformed commands get 500s, then 421 and a closed
        connection; the server serves the next client as before.
        """
        h = Harness(self)
        h.replies()
        garbage = [b"\x01\x02", b"12345", b"R\xffTR", b"A" * 7, b"RETR a\rDELE b", b"X Y Z W"]
        data = b"".join(garbage[i % len(garbage)] + b"\r\n" for i in range(1000))
        h.protocol.dataReceived(data)
        codes = [r.code for r in h.replies()]
        self.assertEqual(codes[: server.MAX_ERRORS - 1], [500] * (server.MAX_ERRORS - 1))
        self.assertEqual(codes[-1], 421)
        self.assertEqual(len(codes), server.MAX_ERRORS)
        self.assertTrue(h.transport.disconnecting)
        h.protocol.connectionLost()
        self.assertEqual(h.factory.connections, 0)
        h.protocol, h.transport = h.connect()
        h.login()
        self.assertEqual(h.codes("PWD"), [257])

    def test_lineTooLong(self) -> None:
        h = Harness(self)
        h.replies()
        h.protocol.dataReceived(b"RETR " + b"a" * 10000)
        self.assertEqual([r.code for r in h.replies()], [500])
        self.assertTrue(h.transport.disconnecting)

    def test_crlfInjection(self) -> None:
        """
        A CR inside a command line (a name with CRLF copied into it) is
        refused, not split into two commands.
        """
        h = Harness(self)
        h.login()
        self.assertEqual(h.codes("DELE hello.txt\rDELE data.bin"), [500])
        self.assertTrue(os.path.exists(os.path.join(h.root, "hello.txt")))
        self.assertEqual(h.codes(b"RETR a\0b"), [500])

    def test_idleTimeout(self) -> None:
        """
        A silent client gets 421 and is closed after the idle timeout.
        """
        h = Harness(self, idleTimeout=10)
        h.replies()
        h.reactor.advance(9)
        h.send("NOOP")
        h.reactor.advance(9)
        self.assertFalse(h.transport.disconnecting)
        h.reactor.advance(2)
        self.assertEqual([r.code for r in h.replies()], [421])
        self.assertTrue(h.transport.disconnecting)


class LoginTests(unittest.TestCase):
    """
    Logging in through twisted.cred, with delays and a limit on failures.
    """

    def test_account(self) -> None:
        h = Harness(self)
        h.login()
        self.assertTrue(h.protocol.filesystem is not None and h.protocol.filesystem.writable)

    def test_anonymousReadOnly(self) -> None:
        h = Harness(self)
        h.replies()
        self.assertEqual(h.codes("USER anonymous"), [331])
        self.assertEqual(h.codes("PASS me@example.com"), [230])
        self.assertEqual(h.codes("MKD x"), [550])
        self.assertEqual(h.codes("DELE hello.txt"), [550])

    def test_failureDelayedAndLimited(self) -> None:
        """
        A wrong password is answered after a delay growing with each
        failure (RFC 2577 section 5); the third closes the connection.
        """
        h = Harness(self, loginFailureDelay=2.0)
        h.replies()
        h.send("USER alice")
        self.assertEqual(h.codes("PASS wrong"), [])
        h.reactor.advance(1.9)
        self.assertEqual(h.replies(), [])
        h.reactor.advance(0.2)
        self.assertEqual([r.code for r in h.replies()], [530])
        h.send("USER alice")
        h.send("PASS wrong")
        h.reactor.advance(4.1)
        self.assertEqual([r.code for r in h.replies()], [530])
        h.send("USER nobody")
        h.send("PASS wrong")
        h.reactor.advance(6.1)
        self.assertEqual([r.code for r in h.replies()], [421])
        self.assertTrue(h.transport.disconnecting)

    def test_commandsWaitForLogin(self) -> None:
        """
        Commands pipelined behind PASS wait for the check's verdict.
        """
        h = Harness(self, loginFailureDelay=1.0)
        h.replies()
        h.protocol.dataReceived(b"USER alice\r\nPASS bad\r\nPWD\r\n")
        self.assertEqual([r.code for r in h.replies()], [331])
        h.reactor.advance(1.1)
        self.assertEqual([r.code for r in h.replies()], [530, 530])

    def test_authWithoutTLS(self) -> None:
        h = Harness(self)
        h.replies()
        self.assertEqual(h.codes("AUTH TLS"), [431])


class FileCommandTests(unittest.TestCase):
    """
    Commands on files and directories, and the root nobody escapes.
    """

    def setUp(self) -> None:
        self.h = Harness(self)
        self.h.login()

    def test_directories(self) -> None:
        h = self.h
        self.assertEqual(h.codes("CWD pub"), [250])
        self.assertEqual(h.send("PWD")[0].text, '"/pub" is the current directory')
        self.assertEqual(h.codes("CDUP"), [250])
        self.assertEqual(h.codes("CWD hello.txt"), [550])
        self.assertEqual(h.codes("CWD nowhere"), [550])
        self.assertEqual(h.codes("MKD new"), [257])
        self.assertTrue(os.path.isdir(os.path.join(h.root, "new")))
        self.assertEqual(h.codes("MKD new"), [550])
        self.assertEqual(h.codes("RMD new"), [250])
        self.assertEqual(h.codes("RMD /"), [550])
        self.assertEqual(h.codes("CWD ../../.."), [250])
        self.assertEqual(h.send("PWD")[0].text, '"/" is the current directory')

    def test_deleteRename(self) -> None:
        h = self.h
        self.assertEqual(h.codes("RNFR missing"), [550])
        self.assertEqual(h.codes("RNFR hello.txt"), [350])
        self.assertEqual(h.codes("RNTO pub/moved.txt"), [250])
        self.assertTrue(os.path.exists(os.path.join(h.root, "pub", "moved.txt")))
        self.assertEqual(h.codes("RNTO again.txt"), [503])
        self.assertEqual(h.codes("DELE pub/moved.txt"), [250])
        self.assertEqual(h.codes("DELE pub/moved.txt"), [550])
        self.assertEqual(h.codes("DELE pub"), [550])

    def test_sizeMdtmMlst(self) -> None:
        h = self.h
        self.assertEqual(h.codes("SIZE data.bin"), [550])  # TYPE A
        h.send("TYPE I")
        self.assertEqual(h.send("SIZE data.bin")[0], Reply.of(213, "256000"))
        self.assertEqual(h.codes("SIZE pub"), [550])
        mdtm = h.send("MDTM hello.txt")[0]
        self.assertEqual(mdtm.code, 213)
        self.assertRegex(mdtm.text, r"^\d{14}$")
        mlst = h.send("MLST data.bin")[0]
        self.assertEqual(mlst.code, 250)
        self.assertIn("type=file;size=256000;", mlst.lines[1])
        self.assertTrue(mlst.lines[1].endswith(" /data.bin"))

    def test_stat(self) -> None:
        h = self.h
        status = h.send("STAT")[0]
        self.assertEqual(status.code, 211)
        self.assertIn("Logged in as alice", status.text)
        listing = h.send("STAT /")[0]
        self.assertEqual(listing.code, 212)
        self.assertTrue(any(line.endswith(" hello.txt") for line in listing.lines))

    def test_symlinkOutOfRoot(self) -> None:
        """
        A symbolic link leading out of the root is neither followed nor
        listed.
        """
        h = self.h
        outside = self.mktemp()
        os.makedirs(outside)
        with open(os.path.join(outside, "secret"), "w") as f:
            f.write("secret")
        os.symlink(outside, os.path.join(h.root, "escape"))
        os.symlink(os.path.join(outside, "secret"), os.path.join(h.root, "secret-link"))
        self.assertEqual(h.codes("CWD escape"), [550])
        h.send("TYPE I")
        self.assertEqual(h.codes("SIZE secret-link"), [550])
        self.assertEqual(h.codes("SIZE escape/secret"), [550])
        self.assertNotIn("escape", h.send("STAT /")[0].text)
        fs = UserFilesystem(h.root, writable=True)
        self.assertRaises(FilesystemError, fs.openForReading, "/escape/secret")
        self.assertRaises(FilesystemError, fs.openForWriting, "/escape/new")


class ActiveModeTests(unittest.TestCase):
    """
    PORT and EPRT: only to the client's own address (no bounce attack).
    """

    def setUp(self) -> None:
        self.h = Harness(self, dataPort=2120)
        self.h.login()

    def test_bounceRefused(self) -> None:
        """
        RFC 2577 section 3: PORT to a third party is refused, and nothing is
        connected to.
        """
        h = self.h
        self.assertEqual(h.codes("PORT 10,0,0,9,0,25"), [501])
        self.assertEqual(h.codes("PORT 10,0,0,9,40,0"), [501])
        self.assertEqual(h.codes("EPRT |1|192.0.2.1|8000|"), [501])
        self.assertEqual(h.codes("RETR hello.txt"), [425])
        self.assertEqual(h.reactor.tcpClients, [])
        self.assertEqual(h.codes("NOOP"), [200])

    def test_lowPortRefused(self) -> None:
        self.assertEqual(self.h.codes("PORT 127,0,0,1,0,25"), [501])

    def test_connectsFromDataPort(self) -> None:
        """
        The server connects to the client from the configured data port
        (20 by RFC 959), on the control connection's local address.
        """
        h = self.h
        self.assertEqual(h.codes("PORT 127,0,0,1,156,64"), [200])
        self.assertEqual([r.code for r in h.send("RETR hello.txt")], [150])
        host, port, factory, timeout, bindAddress = h.reactor.tcpClients[-1]
        self.assertEqual((host, port), ("127.0.0.1", 40000))
        self.assertEqual((bindAddress._address, bindAddress._port), ("127.0.0.1", 2120))
        self.assertTrue(bindAddress._reuseAddress)
        protocol = factory.buildProtocol(IPv4Address("TCP", "127.0.0.1", 40000))
        transport = DataTransport(hostAddress=SERVER, peerAddress=CLIENT)
        transport.protocol = protocol
        protocol.makeConnection(transport)
        drain(transport)
        self.assertEqual(transport.value(), b"line one\r\nline two\r\n")
        self.assertEqual([r.code for r in h.replies()], [226])

    def test_connectFails(self) -> None:
        h = self.h
        h.send("EPRT |1|127.0.0.1|40000|")
        h.send("RETR hello.txt")
        factory = h.reactor.tcpClients[-1][2]
        from twisted.internet import error
        from twisted.python.failure import Failure

        factory.clientConnectionFailed(None, Failure(error.ConnectionRefusedError()))
        self.assertEqual([r.code for r in h.replies()], [425])


class PassiveModeTests(unittest.TestCase):
    """
    PASV and EPSV, and transfers on their connections.
    """

    def setUp(self) -> None:
        self.h = Harness(self, passivePorts=[30000, 30001], dataTimeout=5)
        self.h.login()

    def test_pasvReply(self) -> None:
        h = self.h
        reply = h.send("PASV")[0]
        self.assertEqual(reply.code, 227)
        port = h.reactor.tcpServers[-1][0]
        self.assertIn(port, (30000, 30001))
        self.assertIn(f"(127,0,0,1,{port >> 8},{port & 255})", reply.text)
        self.assertEqual(h.reactor.tcpServers[-1][3], "127.0.0.1")
        epsv = h.send("EPSV")[0]
        self.assertEqual(epsv.code, 229)
        self.assertIn("(|||", epsv.text)

    def test_advertisedAddress(self) -> None:
        """
        Behind NAT, the 227 reply names the configured address.
        """
        h = Harness(self, passiveAddress="203.0.113.7")
        h.login()
        self.assertIn("(203,0,113,7,", h.send("PASV")[0].text)

    def test_portStealingRefused(self) -> None:
        """
        RFC 2577 section 8: a connection from another address is refused,
        and the real client still gets its connection.
        """
        h = self.h
        h.send("PASV")
        factory = h.reactor.tcpServers[-1][1]
        self.assertIsNone(factory.buildProtocol(IPv4Address("TCP", "10.9.9.9", 1234)))
        self.assertIsInstance(factory.buildProtocol(CLIENT), DataProtocol)

    def test_unusedDataConnection(self) -> None:
        """
        A data connection opened and never used is closed after the data
        timeout, and the session goes on.
        """
        h = self.h
        data, transport = h.passiveConnection()
        h.reactor.advance(6)
        self.assertTrue(transport.disconnecting)
        self.assertEqual(h.codes("RETR hello.txt"), [425])
        for _ in range(50):
            self.assertEqual(h.codes("PASV"), [227])
        self.assertEqual(h.codes("NOOP"), [200])

    def test_nobodyConnects(self) -> None:
        """
        A transfer whose data connection never comes fails with 425.
        """
        h = self.h
        h.send("PASV")
        self.assertEqual(h.codes("RETR hello.txt"), [150])
        h.reactor.advance(6)
        self.assertEqual([r.code for r in h.replies()], [425])

    def test_retrAscii(self) -> None:
        """
        TYPE A sends CRLF line ends (RFC 959 3.1.1.1); 125 when the data
        connection is already open.
        """
        h = self.h
        data, transport = h.passiveConnection()
        self.assertEqual(h.codes("RETR hello.txt"), [125])
        drain(transport)
        self.assertEqual(transport.value(), b"line one\r\nline two\r\n")
        self.assertEqual([r.code for r in h.replies()], [226])

    def test_retrBinaryWithRest(self) -> None:
        h = self.h
        h.send("TYPE I")
        data, transport = h.passiveConnection()
        self.assertEqual(h.codes("REST 255990"), [350])
        h.send("RETR data.bin")
        drain(transport)
        self.assertEqual(transport.value(), bytes(range(246, 256)))

    def test_retrMissing(self) -> None:
        h = self.h
        data, transport = h.passiveConnection()
        self.assertEqual(h.codes("RETR missing"), [550])
        self.assertTrue(transport.disconnecting)

    def test_storAscii(self) -> None:
        """
        TYPE A uploads have CRLF turned into LF; the file is on disk when
        226 is sent.
        """
        h = self.h
        data, transport = h.passiveConnection()
        self.assertEqual(h.codes("STOR up.txt"), [125])
        data.dataReceived(b"a\r\nb\r")
        data.dataReceived(b"\nc\r\n")
        transport.loseConnection()
        self.assertEqual([r.code for r in h.replies()], [226])
        with open(os.path.join(h.root, "up.txt"), "rb") as f:
            self.assertEqual(f.read(), b"a\nb\nc\n")

    def test_storRestAndAppe(self) -> None:
        h = self.h
        h.send("TYPE I")
        data, transport = h.passiveConnection()
        h.send("REST 4")
        h.send("STOR hello.txt")
        data.dataReceived(b"XY")
        transport.loseConnection()
        self.assertEqual([r.code for r in h.replies()], [226])
        data, transport = h.passiveConnection()
        h.send("APPE hello.txt")
        data.dataReceived(b"Z")
        transport.loseConnection()
        h.replies()
        with open(os.path.join(h.root, "hello.txt"), "rb") as f:
            self.assertEqual(f.read(), b"lineXYZ")

    def test_stou(self) -> None:
        """
        STOU picks a new name and says it (RFC 1123 4.1.2.9).
        """
        h = self.h
        for expected in ["upload", "upload.1"]:
            data, transport = h.passiveConnection()
            reply = h.send("STOU")[0]
            self.assertEqual(reply.code, 125)
            self.assertEqual(reply.text, f"FILE: {expected}")
            data.dataReceived(b"x")
            transport.loseConnection()
            self.assertEqual([r.code for r in h.replies()], [226])

    def test_listings(self) -> None:
        h = self.h
        data, transport = h.passiveConnection()
        h.send("LIST")
        text = transport.value().decode()
        self.assertRegex(
            text, r"-rw\S+ +1 ftp +ftp +18 \w{3} \d\d +(\d\d:\d\d|\d{4}) hello.txt\r\n"
        )
        self.assertIn(" pub\r\n", text)
        data, transport = h.passiveConnection()
        h.send("NLST")
        self.assertEqual(transport.value(), b"data.bin\r\nhello.txt\r\npub\r\n")
        data, transport = h.passiveConnection()
        h.send("MLSD")
        lines = transport.value().decode().split("\r\n")
        self.assertTrue(lines[0].startswith("type=cdir;") and lines[0].endswith(" ."))
        self.assertIn("type=dir;", lines[3])
        data, transport = h.passiveConnection()
        self.assertEqual(h.codes("MLSD hello.txt"), [550])

    def test_abortDuringTransfer(self) -> None:
        """
        ABOR in the middle of a download: 426 for the transfer, then 226
        (RFC 959 4.1.3); STAT is answered during the transfer, other
        commands wait for its end.
        """
        h = self.h
        h.send("TYPE I")
        data, transport = h.passiveConnection()
        self.assertEqual(h.codes("RETR data.bin"), [125])
        transport.producer.resumeProducing()
        stat = h.send("STAT")[0]
        self.assertEqual(stat.code, 213)
        self.assertIn("bytes so far", stat.text)
        self.assertEqual(h.codes("PWD"), [])
        self.assertEqual(h.codes(b"\xff\xf4\xff\xf2ABOR"), [426, 226, 257])
        self.assertTrue(transport.disconnecting)

    def test_abortWithoutTransfer(self) -> None:
        h = self.h
        self.assertEqual(h.codes("ABOR"), [225])
        h.send("PASV")
        self.assertEqual(h.codes("ABOR"), [226])

    def test_quitDuringTransfer(self) -> None:
        """
        QUIT during a transfer closes once it has ended (RFC 959 4.1.1).
        """
        h = self.h
        data, transport = h.passiveConnection()
        h.send("RETR hello.txt")
        self.assertEqual(h.codes("QUIT"), [])
        drain(transport)
        self.assertEqual([r.code for r in h.replies()], [226, 221])
        self.assertTrue(h.transport.disconnecting)
