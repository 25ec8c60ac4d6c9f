"""
Tests for C{twistd netref-ftp} (L{netref.ftp.tap}), the lab's FTP server,
the C{netref ftp} tool, and the embedding example of the docs.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from twisted.application.service import MultiService
from twisted.internet import defer, reactor
from twisted.internet.utils import getProcessOutputAndValue
from twisted.python import usage
from twisted.trial import unittest

from netref.ftp import sendfile, tap
from netref.ftp.client import FTPError, connectFTP
from netref.ftp.tap import Options, makeLabFTPServices, parsePortRange
from tests.support import docsPage, embeddingExample, freePort
from tests.test_ftp_loopback import LoopbackMixin

DOCS_PAGE = docsPage("ftp.rst")


class OptionsTests(unittest.TestCase):
    """
    The command line of C{twistd netref-ftp}.
    """

    def parse(self, *arguments: str) -> Options:
        options = Options()
        options.parseOptions(list(arguments))
        return options

    def test_rootRequired(self) -> None:
        self.assertRaises(usage.UsageError, self.parse, "--anonymous")

    def test_somebodyMustLogIn(self) -> None:
        root = self.mktemp()
        os.makedirs(root)
        self.assertRaises(usage.UsageError, self.parse, "--root", root)
        self.assertRaises(usage.UsageError, self.parse, "--root", root + "/no", "--anonymous")

    def test_defaults(self) -> None:
        root = self.mktemp()
        os.makedirs(root)
        options = self.parse("--root", root, "--user", "alice:secret")
        self.assertEqual(options.listenDescriptions(), ["tcp:2121:interface=127.0.0.1"])
        self.assertEqual(options["data-port"], 20 if os.geteuid() == 0 else 0)
        self.assertIsNone(options.tlsOptions)
        factory = tap.factoryFromOptions(options)
        self.assertTrue(factory.plaintextLogin)
        self.assertFalse(factory.anonymous)

    def test_passivePorts(self) -> None:
        self.assertEqual(parsePortRange("30000-30002"), [30000, 30001, 30002])
        self.assertEqual(parsePortRange("40000"), [40000])
        for bad in ["x", "30002-30000", "80-90", "1024-70000"]:
            self.assertRaises(usage.UsageError, parsePortRange, bad)

    def test_tlsAuto(self) -> None:
        """
        C{--tls auto} needs C{--state}; with it, AUTH TLS is offered and
        plaintext account logins are refused unless asked for.
        """
        root = self.mktemp()
        os.makedirs(root)
        self.assertRaises(
            usage.UsageError, self.parse, "--root", root, "--anonymous", "--tls", "auto"
        )
        options = self.parse(
            "--root", root, "--anonymous", "--tls", "auto", "--state", self.mktemp()
        )
        self.assertIsNotNone(options.tlsOptions)
        self.assertFalse(tap.factoryFromOptions(options).plaintextLogin)
        options = self.parse(
            "--root",
            root,
            "--anonymous",
            "--tls",
            "auto",
            "--state",
            self.mktemp(),
            "--plaintext-login",
        )
        self.assertTrue(tap.factoryFromOptions(options).plaintextLogin)

    def test_makeService(self) -> None:
        root = self.mktemp()
        os.makedirs(root)
        options = self.parse(
            "--root",
            root,
            "--anonymous",
            "--listen",
            "tcp:0:interface=127.0.0.1",
            "--passive-ports",
            "30000-30010",
            "--passive-address",
            "192.0.2.1",
        )
        service = tap.makeService(options)
        self.assertIsInstance(service, MultiService)
        self.assertEqual(len(list(service)), 1)

    def test_plugin(self) -> None:
        from twisted.plugins import netref_plugins

        self.assertEqual(netref_plugins.netrefFTP.tapname, "netref-ftp")
        self.assertEqual(netref_plugins.netrefFTP.module, "netref.ftp.tap")


class LabTests(unittest.TestCase):
    """
    The lab's ftp.someschool.edu: a user, and an anonymous area.
    """

    @defer.inlineCallbacks
    def test_labServer(self) -> Any:
        port = freePort()
        services = makeLabFTPServices("127.0.0.1", port)
        top = MultiService()
        for service in services:
            service.setServiceParent(top)
        top.startService()
        root = services[1].root  # type: ignore[attr-defined]
        try:
            self.assertTrue(os.path.exists(os.path.join(root, "pub", "sample.bin")))
            client = yield defer.ensureDeferred(connectFTP(reactor, "127.0.0.1", port))
            yield defer.ensureDeferred(client.login("alice", "wonderland"))
            names = yield defer.ensureDeferred(client.list(None, "NLST"))
            self.assertEqual(names.split(), [b"README", b"incoming", b"pub"])
            yield defer.ensureDeferred(client.quit())
            client = yield defer.ensureDeferred(connectFTP(reactor, "127.0.0.1", port))
            yield defer.ensureDeferred(client.login("anonymous", "me@"))
            names = yield defer.ensureDeferred(client.list(None, "NLST"))
            self.assertEqual(names.split(), [b"README", b"lines.txt", b"sample.bin"])
            try:
                yield defer.ensureDeferred(client.command("MKD", "x"))
            except FTPError as e:
                self.assertEqual(e.reply.code, 550)
            else:
                self.fail("anonymous could write")
            yield defer.ensureDeferred(client.quit())
        finally:
            yield top.stopService()
        self.assertFalse(os.path.exists(root))


class ToolTests(LoopbackMixin, unittest.TestCase):
    """
    C{netref ftp}, run as a program.
    """

    @defer.inlineCallbacks
    def netref(self, *arguments: str) -> Any:
        port = str(self.port.getHost().port)
        env = dict(os.environ, NETREF_FTP_PASSWORD="secret")
        result = yield getProcessOutputAndValue(
            sys.executable,
            [
                "-c",
                "from netref.core.cli import main; main()",
                "ftp",
                "--host",
                "127.0.0.1",
                "--port",
                port,
                *arguments,
            ],
            env=env,
            path=self.work,
        )
        return result

    def setUp(self) -> None:
        super().setUp()
        self.work = os.path.abspath(self.mktemp())
        os.makedirs(self.work)

    @defer.inlineCallbacks
    def test_lsGetPutResume(self) -> Any:
        out, err, code = yield self.netref("ls")
        self.assertEqual(code, 0, err)
        self.assertIn(b"hello.txt", out)
        out, err, code = yield self.netref("--trace", "--active", "get", "hello.txt")
        self.assertEqual(code, 0, err)
        self.assertIn(b"C: PORT 127,0,0,1,", out)
        self.assertIn(b"S: 226 Transfer complete", out)
        with open(os.path.join(self.work, "hello.txt"), "rb") as f:
            self.assertEqual(f.read(), b"hello\nworld\n")
        # An interrupted download: half the file is here; --resume fetches
        # the rest.
        with open(os.path.join(self.work, "hello.txt"), "wb") as f:
            f.write(b"hello\n")
        out, err, code = yield self.netref("--resume", "--trace", "get", "hello.txt")
        self.assertEqual(code, 0, err)
        self.assertIn(b"C: REST 6", out)
        with open(os.path.join(self.work, "hello.txt"), "rb") as f:
            self.assertEqual(f.read(), b"hello\nworld\n")
        with open(os.path.join(self.work, "up.txt"), "wb") as f:
            f.write(b"x" * 100000)
        out, err, code = yield self.netref("--user", "alice", "--progress", "put", "up.txt")
        self.assertEqual(code, 0, err)
        self.assertIn(b"100.0%", err)
        self.assertEqual(os.path.getsize(os.path.join(self.root, "up.txt")), 100000)

    @defer.inlineCallbacks
    def test_failure(self) -> Any:
        """
        A refused command is a one-line reason and exit status 1.
        """
        out, err, code = yield self.netref("get", "missing.txt")
        self.assertEqual(code, 1)
        self.assertIn(b"550", err)
        self.assertEqual(len(err.strip().splitlines()), 1)


class SendfileTests(LoopbackMixin, unittest.TestCase):
    """
    Plain binary downloads go out through C{os.sendfile}; TYPE A does not.
    """

    @defer.inlineCallbacks
    def test_sendfileUsed(self) -> Any:
        calls: list[int] = []
        real = os.sendfile

        def counting(*arguments: Any) -> int:
            calls.append(1)
            return real(*arguments)

        self.patch(sendfile.os, "sendfile", counting)
        with open(os.path.join(self.root, "big.bin"), "wb") as f:
            f.write(os.urandom(3_000_000))
        client = yield defer.ensureDeferred(self.connect())
        chunks: list[bytes] = []
        yield defer.ensureDeferred(client.retrieve("big.bin", chunks.append))
        self.assertEqual(len(b"".join(chunks)), 3_000_000)
        self.assertTrue(calls)
        calls.clear()
        yield defer.ensureDeferred(client.command("TYPE", "A"))
        yield defer.ensureDeferred(client.retrieve("hello.txt", chunks.append))
        self.assertEqual(calls, [])
        yield defer.ensureDeferred(client.quit())


class EmbeddingExampleTests(unittest.TestCase):
    """
    The docs page's embedding example runs and prints what the page says.
    """

    @defer.inlineCallbacks
    def test_embeddingExample(self) -> Any:
        code = embeddingExample(DOCS_PAGE)
        if code is None:
            raise unittest.SkipTest(f"{DOCS_PAGE} is not here (no source checkout)")
        out, err, status = yield getProcessOutputAndValue(
            sys.executable, ["-c", code], env=dict(os.environ)
        )
        self.assertEqual(status, 0, err)
        self.assertEqual(out.decode(), "['hello.txt']\nhello, world\n")
