"""
Interop for L{netref.sockets}: the textbook's own socket programs (section
2.7, plain C{socket} module, copied in C{tests/sockets_textbook_*.py}) against
netref's servers, netref's clients against the textbook's servers, and the
C{netref upper} and C{twistd netref-upper} commands as a user runs them.
"""

from __future__ import annotations

import os
import re
import sys

from twisted.internet import reactor
from twisted.internet.defer import Deferred
from twisted.internet.error import ProcessDone, ProcessTerminated
from twisted.internet.protocol import ProcessProtocol
from twisted.python.failure import Failure
from twisted.trial.unittest import SkipTest, TestCase

from netref.sockets.client import upperTCP, upperUDP
from netref.sockets.server import UpperTCPFactory, UpperUDPProtocol
from tests.support import docsPage, embeddingExample

HERE = os.path.dirname(os.path.abspath(__file__))
DOCS_PAGE = docsPage("sockets.rst")


def script(name: str) -> str:
    """
    @return: the path of the textbook program C{tests/sockets_textbook_NAME.py}.
    """
    return os.path.join(HERE, f"sockets_textbook_{name}.py")


class Program(ProcessProtocol):
    """
    A child process: its standard input is given up front, its output is
    collected, and a test can wait for something to appear in it.

    @ivar ended: fires with the exit code.
    """

    def __init__(self, stdin: bytes | None = None) -> None:
        self.stdin = stdin
        self.out = b""
        self.err = b""
        self.ended: Deferred[int | None] = Deferred()
        self._waiting: list[tuple[re.Pattern[bytes], Deferred[re.Match[bytes]]]] = []

    def waitFor(self, pattern: bytes) -> Deferred[re.Match[bytes]]:
        """
        @return: fires with the match once C{pattern} matches the standard
            output so far; fails if the program ends first.
        """
        found: Deferred[re.Match[bytes]] = Deferred()
        self._waiting.append((re.compile(pattern), found))
        self._check()
        return found

    def _check(self) -> None:
        for item in list(self._waiting):
            match = item[0].search(self.out)
            if match is not None:
                self._waiting.remove(item)
                item[1].callback(match)

    def connectionMade(self) -> None:
        if self.stdin is not None:
            self.transport.write(self.stdin)
            self.transport.closeStdin()

    def outReceived(self, data: bytes) -> None:
        self.out += data
        self._check()

    def errReceived(self, data: bytes) -> None:
        self.err += data

    def processEnded(self, reason: Failure) -> None:
        waiting, self._waiting = self._waiting, []
        for pattern, found in waiting:
            found.errback(RuntimeError(f"ended before {pattern.pattern!r}: {self.err!r}"))
        value = reason.value
        code = value.exitCode if isinstance(value, ProcessDone | ProcessTerminated) else None
        self.ended.callback(code)


def start(test: TestCase, argv: list[str], stdin: bytes | None = None) -> Program:
    """
    Start C{argv} with this Python; it is killed (if still running) and
    waited for when the test ends.
    """
    program = Program(stdin)
    env = dict(os.environ, PYTHONIOENCODING="utf-8", PYTHONUNBUFFERED="1")
    reactor.spawnProcess(program, sys.executable, [sys.executable, *argv], env=env)

    async def stop() -> None:
        if not program.ended.called:
            program.transport.signalProcess("KILL")
        await program.ended

    test.addCleanup(lambda: Deferred.fromCoroutine(stop()))
    return program


async def runToEnd(test: TestCase, argv: list[str], stdin: bytes | None = None) -> Program:
    program = start(test, argv, stdin)
    code = await program.ended
    test.assertEqual(code, 0, program.err.decode(errors="replace"))
    return program


class TextbookClientTests(TestCase):
    """
    The textbook's C{TCPClient} and C{UDPClient} against netref's servers.
    """

    async def test_tcpClient(self) -> None:
        """
        The textbook's client sends its sentence with no newline and prints
        what one C{recv(1024)} brings: netref answers it at once.
        """
        port = reactor.listenTCP(0, UpperTCPFactory(), interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        program = await runToEnd(
            self,
            [script("tcpclient"), str(port.getHost().port)],
            "hello from crepes.fr, grüße\n".encode(),
        )
        self.assertEqual(
            program.out.decode(),
            "Input lowercase sentence:From Server: HELLO FROM CREPES.FR, GRÜSSE\n",
        )

    async def test_udpClient(self) -> None:
        port = reactor.listenUDP(0, UpperUDPProtocol(), interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        program = await runToEnd(
            self, [script("udpclient"), str(port.getHost().port)], "hello, straße\n".encode()
        )
        self.assertEqual(program.out.decode(), "Input lowercase sentence:HELLO, STRASSE\n")


class TextbookServerTests(TestCase):
    """
    netref's clients against the textbook's C{TCPServer} and C{UDPServer}.
    """

    async def startServer(self, name: str) -> int:
        program = start(self, [script(name), "0"])
        match = await program.waitFor(rb"The server is ready to receive on port (\d+)\n")
        return int(match.group(1))

    async def test_tcpServer(self) -> None:
        """
        The textbook's server answers without a newline and closes: the end
        of the connection ends the answer.  It serves one client after
        another.
        """
        port = await self.startServer("tcpserver")
        self.assertEqual(await upperTCP(reactor, "127.0.0.1", port, "hello"), "HELLO")
        self.assertEqual(await upperTCP(reactor, "127.0.0.1", port, "straße"), "STRASSE")

    async def test_udpServer(self) -> None:
        port = await self.startServer("udpserver")
        self.assertEqual(await upperUDP(reactor, "127.0.0.1", port, "hello"), "HELLO")
        self.assertEqual(await upperUDP(reactor, "127.0.0.1", port, "straße"), "STRASSE")


#: Runs C{netref} with this Python, as the console script does.
NETREF = "from netref.core.cli import main; main()"

#: Runs C{twistd} with this Python.
TWISTD = "import sys; from twisted.scripts.twistd import run; sys.argv[0] = 'twistd'; run()"


class CommandTests(TestCase):
    """
    The commands of the docs page, run as a user runs them.
    """

    async def test_netrefUpper(self) -> None:
        """
        C{netref upper} prints the answer and exits 0.
        """
        port = reactor.listenUDP(0, UpperUDPProtocol(), interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        program = await runToEnd(
            self,
            [
                "-c",
                NETREF,
                "upper",
                "--udp",
                "--host",
                "127.0.0.1",
                "-p",
                str(port.getHost().port),
            ],
            b"hello\nworld\n",
        )
        self.assertEqual(program.out, b"HELLO\nWORLD\n")

    async def test_netrefUpperRefused(self) -> None:
        """
        A failure is exit status 1 and one line on standard error.
        """
        port = reactor.listenTCP(0, UpperTCPFactory(), interface="127.0.0.1")
        number = port.getHost().port
        await port.stopListening()
        program = start(
            self, ["-c", NETREF, "upper", "--host", "127.0.0.1", "-p", str(number), "x"]
        )
        self.assertEqual(await program.ended, 1)
        self.assertEqual(program.out, b"")
        self.assertEqual(
            program.err.decode(), f"netref upper: 127.0.0.1:{number}: connection refused\n"
        )

    async def test_embeddingExample(self) -> None:
        """
        The embedding example of the docs page runs as printed.
        """
        code = embeddingExample(DOCS_PAGE)
        if code is None:
            raise SkipTest(f"{DOCS_PAGE} is not here (no source checkout)")
        program = await runToEnd(self, ["-c", code])
        self.assertEqual(program.out, b"HELLO OVER TCP\nHELLO OVER UDP\n")

    async def test_twistdAndTextbookClients(self) -> None:
        """
        C{twistd -n netref-upper} serves the textbook's clients over TCP and
        UDP, and traces the dialogues.
        """
        program = start(
            self,
            [
                "-c",
                TWISTD,
                "-n",
                "--pidfile=",
                "--logfile=-",
                "netref-upper",
                "--trace",
                "--listen",
                "tcp:0:interface=127.0.0.1",
                "--listen",
                "udp:0:interface=127.0.0.1",
            ],
        )
        ports = {}
        for kind in ("TCP", "UDP"):
            match = await program.waitFor(rb"Upper%s\w+ starting on (\d+)" % kind.encode())
            ports[kind] = int(match.group(1))
        tcp = await runToEnd(self, [script("tcpclient"), str(ports["TCP"])], b"hello tcp\n")
        self.assertEqual(tcp.out, b"Input lowercase sentence:From Server: HELLO TCP\n")
        udp = await runToEnd(self, [script("udpclient"), str(ports["UDP"])], b"hello udp\n")
        self.assertEqual(udp.out, b"Input lowercase sentence:HELLO UDP\n")
        await program.waitFor(rb"\] C: hello tcp\n")
        await program.waitFor(rb"\] S: HELLO UDP\n")
