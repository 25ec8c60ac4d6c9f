"""
Loopback tests: netref's FTP client against netref's FTP server on
127.0.0.1, in passive and active mode, with and without TLS, with large
files that never sit in memory, resumed transfers and ABOR.
"""

from __future__ import annotations

import hashlib
import os
from typing import Any

from twisted.internet import defer, reactor
from twisted.internet.defer import Deferred
from twisted.python.failure import Failure
from twisted.python.filepath import FilePath
from twisted.trial import unittest

from netref.core.auth import MemoryPasswordChecker, ScryptParameters, runSynchronously
from netref.core.tls import DevCertificateAuthority
from netref.ftp.client import FTPClient, FTPError, connectFTP
from netref.ftp.server import FTPControlProtocol, FTPServerFactory, makeServerFactory

FAST = ScryptParameters(n=16, r=1, p=1)

#: The size of the large file: tens of megabytes.
LARGE = 40 * 1024 * 1024


class TrackedControl(FTPControlProtocol):
    """
    A control protocol that tells the test when it is gone.
    """

    def connectionLost(self, reason: Failure) -> None:  # type: ignore[override]
        super().connectionLost(reason)
        self.factory.lost.append(self)  # type: ignore[attr-defined]
        waiting = self.factory.waiting  # type: ignore[attr-defined]
        if self.factory.connections == 0:
            self.factory.waiting = []  # type: ignore[attr-defined]
            for d in waiting:
                d.callback(None)


def makeLargeFile(path: str, size: int) -> str:
    """
    Write C{size} bytes of varied content a megabyte at a time.

    @return: the SHA-256 of the content.
    """
    digest = hashlib.sha256()
    block = os.urandom(1 << 20)
    with open(path, "wb") as f:
        for i in range(size >> 20):
            chunk = block[i % 256 :] + block[: i % 256]
            f.write(chunk)
            digest.update(chunk)
    return digest.hexdigest()


def fileDigest(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


class LoopbackMixin:
    """
    A netref FTP server on 127.0.0.1 port 0, cleaned up after each test.
    """

    tls = False
    dataTimeout = 10.0

    def setUp(self) -> None:
        testCase: Any = self
        self.root = testCase.mktemp()
        os.makedirs(os.path.join(self.root, "pub"))
        with open(os.path.join(self.root, "hello.txt"), "wb") as f:
            f.write(b"hello\nworld\n")
        self.trustRoot = None
        tlsOptions = None
        if self.tls:
            authority = DevCertificateAuthority(FilePath(testCase.mktemp()))
            tlsOptions = authority.serverOptions(["localhost", "127.0.0.1"])
            self.trustRoot = authority.trustRoot()
        checker = MemoryPasswordChecker([("alice", "secret")], FAST, runSynchronously)
        self.factory: FTPServerFactory = makeServerFactory(
            self.root, checker, anonymous=True, tlsOptions=tlsOptions, dataTimeout=self.dataTimeout
        )
        self.factory.protocol = TrackedControl
        self.factory.lost = []  # type: ignore[attr-defined]
        self.factory.waiting = []  # type: ignore[attr-defined]
        self.port = reactor.listenTCP(0, self.factory, interface="127.0.0.1")  # type: ignore[attr-defined]
        testCase.addCleanup(self._stop)

    def _stop(self) -> Deferred[Any]:
        stopped = defer.maybeDeferred(self.port.stopListening)
        if self.factory.connections == 0:
            return stopped
        d: Deferred[None] = Deferred()
        self.factory.waiting.append(d)  # type: ignore[attr-defined]
        return defer.gatherResults([stopped, d])

    async def connect(self, passive: bool = True, user: str = "alice") -> FTPClient:
        client = await connectFTP(
            reactor,
            "127.0.0.1",
            self.port.getHost().port,
            tls=self.tls,
            trustRoot=self.trustRoot,
            passive=passive,
            timeout=10,
        )
        await client.login(user, "secret")
        return client


class TransferTestsMixin(LoopbackMixin):
    """
    Transfers in one mode; subclasses choose passive or active, TLS or not.
    """

    passive = True

    @defer.inlineCallbacks
    def test_listGetPut(self) -> Any:
        """
        List, download, upload and download again.
        """
        testCase: Any = self
        client = yield defer.ensureDeferred(self.connect(self.passive))
        listing = yield defer.ensureDeferred(client.list())
        testCase.assertIn(b"hello.txt", listing)
        names = yield defer.ensureDeferred(client.list(None, "NLST"))
        testCase.assertEqual(names, b"hello.txt\r\npub\r\n")
        chunks: list[bytes] = []
        yield defer.ensureDeferred(client.retrieve("hello.txt", chunks.append))
        testCase.assertEqual(b"".join(chunks), b"hello\nworld\n")
        source = os.path.join(testCase.mktemp())
        with open(source, "wb") as f:
            f.write(b"uploaded " * 1000)
        with open(source, "rb") as f:
            sent = yield defer.ensureDeferred(client.store("pub/up.bin", f))
        testCase.assertEqual(sent, 9000)
        size = yield defer.ensureDeferred(client.size("pub/up.bin"))
        testCase.assertEqual(size, 9000)
        yield defer.ensureDeferred(client.quit())

    @defer.inlineCallbacks
    def test_asciiTransfer(self) -> Any:
        """
        TYPE A: CRLF on the wire, LF on disk, both ways.
        """
        testCase: Any = self
        client = yield defer.ensureDeferred(self.connect(self.passive))
        yield defer.ensureDeferred(client.command("TYPE", "A"))
        chunks: list[bytes] = []
        yield defer.ensureDeferred(client.retrieve("hello.txt", chunks.append))
        testCase.assertEqual(b"".join(chunks), b"hello\r\nworld\r\n")
        source = testCase.mktemp()
        with open(source, "wb") as f:
            f.write(b"one\r\ntwo\r\n")
        with open(source, "rb") as f:
            yield defer.ensureDeferred(client.store("lines.txt", f))
        with open(os.path.join(self.root, "lines.txt"), "rb") as f:
            testCase.assertEqual(f.read(), b"one\ntwo\n")
        yield defer.ensureDeferred(client.quit())

    @defer.inlineCallbacks
    def test_largeFile(self) -> Any:
        """
        A 40 MB file goes down into a file on disk and comes back, equal.
        """
        testCase: Any = self
        digest = makeLargeFile(os.path.join(self.root, "large.bin"), LARGE)
        client = yield defer.ensureDeferred(self.connect(self.passive))
        target = testCase.mktemp()
        with open(target, "wb") as f:
            received = yield defer.ensureDeferred(client.retrieve("large.bin", f.write))
        testCase.assertEqual(received, LARGE)
        testCase.assertEqual(fileDigest(target), digest)
        with open(target, "rb") as f:
            yield defer.ensureDeferred(client.store("copy.bin", f))
        testCase.assertEqual(fileDigest(os.path.join(self.root, "copy.bin")), digest)
        yield defer.ensureDeferred(client.quit())

    @defer.inlineCallbacks
    def test_resumeDownload(self) -> Any:
        """
        A download broken off midway resumes with REST where it stopped.
        """
        testCase: Any = self
        size = 8 * 1024 * 1024
        digest = makeLargeFile(os.path.join(self.root, "big.bin"), size)
        client = yield defer.ensureDeferred(self.connect(self.passive))
        target = testCase.mktemp()
        out = open(target, "wb")

        def sink(data: bytes) -> None:
            out.write(data)
            if out.tell() > size // 3 and client._current is not None:
                # The connection breaks: the data connection dies.
                client._current.transport.abortConnection()

        try:
            yield defer.ensureDeferred(client.retrieve("big.bin", sink))
        except FTPError as e:
            testCase.assertEqual(e.reply.code, 426)
        else:
            testCase.fail("the broken transfer succeeded")
        out.close()
        partial = os.path.getsize(target)
        testCase.assertTrue(0 < partial < size)
        with open(target, "ab") as f:
            yield defer.ensureDeferred(client.retrieve("big.bin", f.write, partial))
        testCase.assertEqual(fileDigest(target), digest)
        yield defer.ensureDeferred(client.quit())

    @defer.inlineCallbacks
    def test_resumeUpload(self) -> Any:
        """
        An upload resumes from the size the server has (SIZE, REST, STOR).
        """
        testCase: Any = self
        source = testCase.mktemp()
        digest = makeLargeFile(source, 4 * 1024 * 1024)
        with open(source, "rb") as f:
            head = f.read(1_000_000)
        with open(os.path.join(self.root, "part.bin"), "wb") as f:
            f.write(head)
        client = yield defer.ensureDeferred(self.connect(self.passive))
        offset = yield defer.ensureDeferred(client.size("part.bin"))
        testCase.assertEqual(offset, 1_000_000)
        with open(source, "rb") as f:
            sent = yield defer.ensureDeferred(client.store("part.bin", f, offset))
        testCase.assertEqual(sent, 4 * 1024 * 1024 - 1_000_000)
        testCase.assertEqual(fileDigest(os.path.join(self.root, "part.bin")), digest)
        yield defer.ensureDeferred(client.quit())

    @defer.inlineCallbacks
    def test_abort(self) -> Any:
        """
        ABOR in the middle of a large download: 426 for the RETR, 226 for
        the ABOR, and the session goes on.
        """
        testCase: Any = self
        makeLargeFile(os.path.join(self.root, "large.bin"), 32 * 1024 * 1024)
        client = yield defer.ensureDeferred(self.connect(self.passive))
        aborting: list[Deferred[Any]] = []
        received = [0]

        def sink(data: bytes) -> None:
            received[0] += len(data)
            if received[0] > 1_000_000 and not aborting:
                aborting.append(defer.ensureDeferred(client.abort()))

        try:
            yield defer.ensureDeferred(client.retrieve("large.bin", sink))
        except FTPError as e:
            testCase.assertEqual(e.reply.code, 426)
        else:
            testCase.fail("the aborted transfer succeeded")
        reply = yield aborting[0]
        testCase.assertEqual(reply.code, 226)
        testCase.assertLess(received[0], 32 * 1024 * 1024)
        listing = yield defer.ensureDeferred(client.list())
        testCase.assertIn(b"large.bin", listing)
        yield defer.ensureDeferred(client.quit())

    @defer.inlineCallbacks
    def test_anonymousCannotWrite(self) -> Any:
        testCase: Any = self
        client = yield defer.ensureDeferred(self.connect(self.passive, user="anonymous"))
        source = testCase.mktemp()
        with open(source, "wb") as f:
            f.write(b"x")
        with open(source, "rb") as f:
            try:
                yield defer.ensureDeferred(client.store("x", f))
            except FTPError as e:
                testCase.assertEqual(e.reply.code, 550)
            else:
                testCase.fail("anonymous could write")
        yield defer.ensureDeferred(client.quit())


class PassiveTests(TransferTestsMixin, unittest.TestCase):
    passive = True


class ActiveTests(TransferTestsMixin, unittest.TestCase):
    passive = False


class PassiveTLSTests(TransferTestsMixin, unittest.TestCase):
    passive = True
    tls = True


class ActiveTLSTests(TransferTestsMixin, unittest.TestCase):
    passive = False
    tls = True


class NATTests(LoopbackMixin, unittest.TestCase):
    """
    A server behind NAT names another address in its 227 reply.
    """

    @defer.inlineCallbacks
    def test_pasvAddressIgnored(self) -> Any:
        """
        The client connects to the control connection's address, not the
        one a 227 reply names (RFC 2577), and the transfer works.
        """
        self.factory.passiveAddress = "192.0.2.1"
        client = yield defer.ensureDeferred(self.connect())
        client._extendedPassive = False  # as against a server without EPSV
        notes: list[str] = []
        client.note = notes.append  # type: ignore[method-assign]
        chunks: list[bytes] = []
        yield defer.ensureDeferred(client.retrieve("hello.txt", chunks.append))
        self.assertEqual(b"".join(chunks), b"hello\nworld\n")
        self.assertIn("ignoring the address 192.0.2.1 in the 227 reply; using 127.0.0.1", notes)
        yield defer.ensureDeferred(client.quit())


class TLSRulesTests(LoopbackMixin, unittest.TestCase):
    """
    Data connections must be TLS once PROT P is in force (RFC 4217).
    """

    tls = True
    dataTimeout = 1.0

    @defer.inlineCallbacks
    def test_plainDataRefused(self) -> Any:
        """
        A client that says PROT P but opens a plain data connection gets no
        data: the transfer fails, and the session goes on.
        """
        client = yield defer.ensureDeferred(self.connect())
        client.protected = False  # the client "forgets" TLS on data
        chunks: list[bytes] = []
        try:
            yield defer.ensureDeferred(client.retrieve("hello.txt", chunks.append))
        except FTPError as e:
            self.assertEqual(e.reply.code, 426)
        else:
            self.fail("plain data connection accepted under PROT P")
        self.assertNotIn(b"hello", b"".join(chunks))
        client.protected = True
        chunks = []
        yield defer.ensureDeferred(client.retrieve("hello.txt", chunks.append))
        self.assertEqual(b"".join(chunks), b"hello\nworld\n")
        yield defer.ensureDeferred(client.quit())
