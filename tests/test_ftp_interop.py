"""
Interop: curl, lftp and Python's ftplib (plain and C{FTP_TLS}) against
netref's FTP server; netref's FTP client against vsftpd.

Each test skips, naming the program, when the program is missing.
"""

from __future__ import annotations

import ftplib
import hashlib
import io
import os
import re
import shutil
import ssl
import subprocess
from typing import Any

from twisted.internet import defer, reactor, threads, utils
from twisted.python.filepath import FilePath
from twisted.trial import unittest

from netref.core.tls import DevCertificateAuthority
from netref.ftp.client import connectFTP
from tests.processes import converse
from tests.support import freePort
from tests.test_ftp_loopback import LoopbackMixin, fileDigest, makeLargeFile


def needs(program: str) -> str:
    """
    @return: the path of C{program}, or skip the test naming it.
    """
    path = shutil.which(program) or shutil.which(program, path="/usr/sbin:/usr/local/sbin")
    if path is None:
        raise unittest.SkipTest(f"{program} is not installed")
    return path


def curlVersion(curl: str) -> tuple[int, int]:
    out = subprocess.run([curl, "--version"], capture_output=True, text=True).stdout
    match = re.match(r"curl (\d+)\.(\d+)", out)
    return (int(match.group(1)), int(match.group(2))) if match else (0, 0)


async def run(executable: str, *arguments: str) -> tuple[bytes, bytes, int]:
    """
    Run a program to its end without blocking the reactor (the server
    under test runs in it).
    """
    out, err, code = await utils.getProcessOutputAndValue(
        executable, arguments, env=dict(os.environ), reactor=reactor
    )
    return out, err, code


class ServerMixin(LoopbackMixin):
    """
    netref's server with TLS (a development CA whose certificate the
    programs trust), and a few files.
    """

    tls = False

    def setUp(self) -> None:
        super().setUp()
        testCase: Any = self
        # The programs check the certificate themselves: give the server
        # one, and keep the CA's file for --cacert.
        caDir = FilePath(testCase.mktemp())
        authority = DevCertificateAuthority(caDir)
        self.factory.tlsOptions = authority.serverOptions(
            ["localhost", "127.0.0.1"], acceptableProtocols=[b"ftp"]
        )
        self.factory.plaintextLogin = True
        self.caFile = authority.caCertificatePath.path
        self.portNumber = self.port.getHost().port
        self.digest = makeLargeFile(os.path.join(self.root, "big.bin"), 8 * 1024 * 1024)
        self.tmp = testCase.mktemp()
        os.makedirs(self.tmp)


class CurlTests(ServerMixin, unittest.TestCase):
    """
    curl against netref's server.
    """

    def setUp(self) -> None:
        self.curl = needs("curl")
        super().setUp()

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"ftp://{host}:{self.portNumber}/{path}"

    @defer.inlineCallbacks
    def test_passive(self) -> Any:
        """
        An anonymous passive download (EPSV), and a large binary one.
        """
        out, err, code = yield defer.ensureDeferred(
            run(self.curl, "-sS", "--max-time", "30", self.url("hello.txt"))
        )
        self.assertEqual((code, out), (0, b"hello\nworld\n"), err)
        target = os.path.join(self.tmp, "big.bin")
        out, err, code = yield defer.ensureDeferred(
            run(self.curl, "-sS", "--max-time", "30", "-o", target, self.url("big.bin"))
        )
        self.assertEqual(code, 0, err)
        self.assertEqual(fileDigest(target), self.digest)

    @defer.inlineCallbacks
    def test_active(self) -> Any:
        """
        C{-P -}: active mode (EPRT), the server connects to curl.
        """
        target = os.path.join(self.tmp, "big.bin")
        out, err, code = yield defer.ensureDeferred(
            run(self.curl, "-sS", "--max-time", "30", "-P", "-", "-o", target, self.url("big.bin"))
        )
        self.assertEqual(code, 0, err)
        self.assertEqual(fileDigest(target), self.digest)

    @defer.inlineCallbacks
    def test_uploadAndList(self) -> Any:
        source = os.path.join(self.tmp, "up.txt")
        with open(source, "wb") as f:
            f.write(b"from curl\n")
        out, err, code = yield defer.ensureDeferred(
            run(
                self.curl,
                "-sS",
                "--max-time",
                "30",
                "-u",
                "alice:secret",
                "-T",
                source,
                self.url("pub/"),
            )
        )
        self.assertEqual(code, 0, err)
        with open(os.path.join(self.root, "pub", "up.txt"), "rb") as f:
            self.assertEqual(f.read(), b"from curl\n")
        out, err, code = yield defer.ensureDeferred(
            run(self.curl, "-sS", "--max-time", "30", "-l", self.url("pub/"))
        )
        self.assertEqual(out.split(), [b"up.txt"])

    @defer.inlineCallbacks
    def test_tlsPassive(self) -> Any:
        """
        C{--ssl-reqd}: AUTH TLS, PBSZ, PROT P, a TLS data connection; the
        certificate checked against C{--cacert}.
        """
        target = os.path.join(self.tmp, "big.bin")
        out, err, code = yield defer.ensureDeferred(
            run(
                self.curl,
                "-sS",
                "--max-time",
                "30",
                "--ssl-reqd",
                "--cacert",
                self.caFile,
                "-u",
                "alice:secret",
                "-o",
                target,
                self.url("big.bin", "localhost"),
            )
        )
        self.assertEqual(code, 0, err)
        self.assertEqual(fileDigest(target), self.digest)

    @defer.inlineCallbacks
    def test_tlsActive(self) -> Any:
        """
        C{--ssl-reqd -P -}: TLS on an active data connection.
        """
        if (7, 87) <= curlVersion(self.curl) <= (7, 88):
            raise unittest.SkipTest(
                "curl 7.87 and 7.88 hang on active FTPS data connections (curl issue 10666)"
            )
        out, err, code = yield defer.ensureDeferred(
            run(
                self.curl,
                "-sS",
                "--max-time",
                "30",
                "--ssl-reqd",
                "--cacert",
                self.caFile,
                "-P",
                "-",
                "-u",
                "alice:secret",
                self.url("hello.txt", "localhost"),
            )
        )
        self.assertEqual((code, out), (0, b"hello\nworld\n"), err)

    @defer.inlineCallbacks
    def test_resume(self) -> Any:
        """
        C{-C -}: curl resumes a partial download with REST.
        """
        target = os.path.join(self.tmp, "big.bin")
        with open(os.path.join(self.root, "big.bin"), "rb") as f:
            head = f.read(3_000_000)
        with open(target, "wb") as f:
            f.write(head)
        out, err, code = yield defer.ensureDeferred(
            run(self.curl, "-sS", "--max-time", "30", "-C", "-", "-o", target, self.url("big.bin"))
        )
        self.assertEqual(code, 0, err)
        self.assertEqual(fileDigest(target), self.digest)


class LftpTests(ServerMixin, unittest.TestCase):
    """
    lftp against netref's server; its retries and timeouts lowered so that
    a failure cannot hang the run.
    """

    def setUp(self) -> None:
        self.lftp = needs("lftp")
        super().setUp()

    def script(self, *commands: str, tls: bool = False, passive: bool = True) -> str:
        settings = [
            "set net:max-retries 1",
            "set net:timeout 10",
            "set net:reconnect-interval-base 1",
            f"set ftp:passive-mode {'on' if passive else 'off'}",
            "set cmd:fail-exit yes",
        ]
        if tls:
            settings += [
                "set ftp:ssl-force true",
                "set ftp:ssl-protect-data true",
                f"set ssl:ca-file {self.caFile}",
                "set ssl:verify-certificate yes",
            ]
        else:
            settings.append("set ftp:ssl-allow no")
        host = "localhost" if tls else "127.0.0.1"
        opening = f"open -u alice,secret -p {self.portNumber} {host}"
        return "; ".join([*settings, opening, *commands])

    @defer.inlineCallbacks
    def check(self, tls: bool, passive: bool) -> Any:
        source = os.path.join(self.tmp, "put.txt")
        with open(source, "wb") as f:
            f.write(b"from lftp\n" * 100)
        target = os.path.join(self.tmp, "big.bin")
        script = self.script(
            "cls -1",
            f"get big.bin -o {target}",
            f"put {source} -o pub/put.txt",
            "mkdir pub/made",
            "rm pub/put.txt",
            tls=tls,
            passive=passive,
        )
        out, err, code = yield defer.ensureDeferred(run(self.lftp, "-c", script))
        self.assertEqual(code, 0, err)
        self.assertIn(b"big.bin", out)
        self.assertEqual(fileDigest(target), self.digest)
        self.assertTrue(os.path.isdir(os.path.join(self.root, "pub", "made")))
        self.assertFalse(os.path.exists(os.path.join(self.root, "pub", "put.txt")))

    def test_passive(self) -> Any:
        return self.check(tls=False, passive=True)

    def test_active(self) -> Any:
        return self.check(tls=False, passive=False)

    def test_tlsPassive(self) -> Any:
        return self.check(tls=True, passive=True)

    def test_tlsActive(self) -> Any:
        return self.check(tls=True, passive=False)


class FtplibTests(ServerMixin, unittest.TestCase):
    """
    Python's ftplib (in a thread, as it blocks) against netref's server.
    """

    def session(self, client: ftplib.FTP, passive: bool) -> list[Any]:
        client.connect("localhost", self.portNumber, timeout=10)
        client.login("alice", "secret")
        if isinstance(client, ftplib.FTP_TLS):
            client.prot_p()
        client.set_pasv(passive)
        results: list[Any] = [client.nlst()]
        buffer = io.BytesIO()
        client.retrbinary("RETR big.bin", buffer.write)
        results.append(hashlib.sha256(buffer.getvalue()).hexdigest())
        client.storbinary("STOR pub/ftplib.bin", io.BytesIO(b"\x00\xff" * 50000))
        results.append(client.size("pub/ftplib.bin"))
        lines: list[str] = []
        client.retrlines("RETR hello.txt", lines.append)
        results.append(lines)
        client.rename("pub/ftplib.bin", "pub/renamed.bin")
        results.append(client.pwd())
        # ABOR in the middle of a download: ftplib sends it as urgent data.
        connection = client.transfercmd("RETR big.bin")
        connection.recv(65536)
        aborted = client.abort()[:3]
        if aborted == "426":
            # RFC 959 4.1.3: 426 answers the RETR, then 226 the ABOR.
            aborted += " " + client.getresp()[:3]
        results.append(aborted)
        connection.close()
        results.append(client.voidcmd("NOOP")[:3])
        client.quit()
        return results

    @defer.inlineCallbacks
    def check(self, client: ftplib.FTP, passive: bool) -> Any:
        results = yield threads.deferToThread(self.session, client, passive)
        nlst, digest, size, lines, pwd, aborted, noop = results
        self.assertEqual(sorted(nlst), ["big.bin", "hello.txt", "pub"])
        self.assertEqual(digest, self.digest)
        self.assertEqual(size, 100000)
        self.assertEqual(lines, ["hello", "world"])
        self.assertEqual(pwd, "/")
        self.assertEqual(aborted, "426 226")
        self.assertEqual(noop, "200")
        self.assertTrue(os.path.exists(os.path.join(self.root, "pub", "renamed.bin")))

    def test_passive(self) -> Any:
        return self.check(ftplib.FTP(), True)

    def test_active(self) -> Any:
        return self.check(ftplib.FTP(), False)

    def tlsClient(self) -> ftplib.FTP_TLS:
        context = ssl.create_default_context(cafile=self.caFile)
        return ftplib.FTP_TLS(context=context)

    def test_tlsPassive(self) -> Any:
        return self.check(self.tlsClient(), True)

    def test_tlsActive(self) -> Any:
        return self.check(self.tlsClient(), False)


VSFTPD_CONFIG = """\
listen=YES
listen_ipv6=NO
listen_address=127.0.0.1
listen_port={port}
background=NO
anonymous_enable=YES
anon_root={root}
no_anon_password=YES
local_enable=NO
write_enable=NO
secure_chroot_dir={empty}
seccomp_sandbox=NO
pasv_enable=YES
pasv_min_port={pasvLow}
pasv_max_port={pasvHigh}
port_enable=YES
connect_from_port_20=NO
pasv_promiscuous=NO
port_promiscuous=NO
xferlog_enable=NO
vsftpd_log_file={logFile}
dual_log_enable=NO
check_shell=NO
run_as_launching_user={asUser}
"""


class VsftpdTests(unittest.TestCase):
    """
    netref's client against vsftpd, run in the foreground from the test.
    """

    @defer.inlineCallbacks
    def setUp(self) -> Any:
        vsftpd = needs("vsftpd")
        work = os.path.abspath(self.mktemp())
        self.root = os.path.join(work, "root")
        empty = os.path.join(work, "empty")
        for directory in (self.root, empty):
            os.makedirs(directory)
        os.chmod(work, 0o755)
        os.chmod(self.root, 0o755)
        with open(os.path.join(self.root, "hello.txt"), "wb") as f:
            f.write(b"hello from vsftpd\n")
        os.chmod(os.path.join(self.root, "hello.txt"), 0o644)
        self.digest = makeLargeFile(os.path.join(self.root, "big.bin"), 4 * 1024 * 1024)
        os.chmod(os.path.join(self.root, "big.bin"), 0o644)
        self.portNumber = freePort()
        pasvLow = freePort()
        config = os.path.join(work, "vsftpd.conf")
        with open(config, "w") as f:
            f.write(
                VSFTPD_CONFIG.format(
                    port=self.portNumber,
                    root=self.root,
                    empty=empty,
                    pasvLow=pasvLow,
                    pasvHigh=min(pasvLow + 20, 65535),
                    logFile=os.path.join(work, "vsftpd.log"),
                    asUser="NO" if os.geteuid() == 0 else "YES",
                )
            )
        self.vsftpd = converse(reactor, vsftpd, [config], self)
        # vsftpd prints nothing when ready: wait until it answers.
        for _ in range(100):
            try:
                client = yield defer.ensureDeferred(
                    connectFTP(reactor, "127.0.0.1", self.portNumber, timeout=2)
                )
            except Exception:
                if self.vsftpd.ended.called:
                    reason = self.vsftpd.errors.decode(errors="replace")
                    raise unittest.SkipTest(f"vsftpd did not start: {reason}") from None
                yield deferLater(0.05)
                continue
            yield defer.ensureDeferred(client.quit())
            return
        raise unittest.SkipTest("vsftpd did not start listening")

    @defer.inlineCallbacks
    def check(self, passive: bool) -> Any:
        client = yield defer.ensureDeferred(
            connectFTP(reactor, "127.0.0.1", self.portNumber, passive=passive, timeout=10)
        )
        yield defer.ensureDeferred(client.login("anonymous", "netref@"))
        listing = yield defer.ensureDeferred(client.list())
        self.assertIn(b"hello.txt", listing)
        self.assertIn(b"big.bin", listing)
        chunks: list[bytes] = []
        yield defer.ensureDeferred(client.retrieve("hello.txt", chunks.append))
        self.assertEqual(b"".join(chunks), b"hello from vsftpd\n")
        digest = hashlib.sha256()
        yield defer.ensureDeferred(client.retrieve("big.bin", digest.update))
        self.assertEqual(digest.hexdigest(), self.digest)
        # Resume from the middle (REST).
        tail = hashlib.sha256()
        count = yield defer.ensureDeferred(client.retrieve("big.bin", tail.update, 1_000_000))
        self.assertEqual(count, 4 * 1024 * 1024 - 1_000_000)
        size = yield defer.ensureDeferred(client.size("big.bin"))
        self.assertEqual(size, 4 * 1024 * 1024)
        yield defer.ensureDeferred(client.quit())

    def test_passive(self) -> Any:
        return self.check(passive=True)

    def test_active(self) -> Any:
        return self.check(passive=False)


def deferLater(seconds: float) -> defer.Deferred[None]:
    from twisted.internet import task

    return task.deferLater(reactor, seconds, lambda: None)
