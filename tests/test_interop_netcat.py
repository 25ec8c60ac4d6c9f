"""
Interop: OpenBSD netcat (Debian C{netcat-openbsd}), a program nobody here
wrote, as the client of netref's uppercase servers.
"""

import shutil
import subprocess

from twisted.internet import reactor, threads
from twisted.trial.unittest import TestCase

from netref.sockets.server import UpperTCPFactory, UpperUDPProtocol

NC = shutil.which("nc")


def runNetcat(arguments: list[str], stdin: bytes) -> "subprocess.CompletedProcess[bytes]":
    """
    Run nc in a thread (the reactor keeps serving meanwhile), bounded in time.
    """
    assert NC is not None
    return subprocess.run([NC, *arguments], input=stdin, capture_output=True, timeout=30)


class NetcatTests(TestCase):
    """
    C{nc} talks to the uppercase servers over TCP and UDP on loopback.
    """

    skip = None if NC else "nc (Debian netcat-openbsd) is not installed"

    async def test_tcp(self) -> None:
        """
        C{nc -N} sends its standard input, half-closes, and prints what comes
        back until the server closes.
        """
        port = reactor.listenTCP(0, UpperTCPFactory(), interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        result = await threads.deferToThread(
            runNetcat,
            ["-N", "127.0.0.1", str(port.getHost().port)],
            "hello from crepes.fr, grüße\nsecond line\n".encode(),
        )
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout, "HELLO FROM CREPES.FR, GRÜSSE\nSECOND LINE\n".encode())

    async def test_udp(self) -> None:
        """
        C{nc -u} sends one datagram and prints the reply datagram.
        """
        port = reactor.listenUDP(0, UpperUDPProtocol(), interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        result = await threads.deferToThread(
            runNetcat, ["-u", "-w1", "127.0.0.1", str(port.getHost().port)], b"hello over udp"
        )
        self.assertEqual(result.stdout, b"HELLO OVER UDP")
