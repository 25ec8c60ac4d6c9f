"""
Interop: C{openssl s_client} (Debian C{openssl}), a TLS client nobody here
wrote, verifies a C{--tls auto} certificate and talks to a netref server.
"""

import shutil

from twisted.internet import reactor
from twisted.internet.endpoints import serverFromString
from twisted.trial.unittest import TestCase

from netref.core.tls import DevCertificateAuthority
from netref.sockets.server import UpperTCPFactory
from netref.sockets.tap import Options
from tests.processes import converse

OPENSSL = shutil.which("openssl")


class OpenSSLClientTests(TestCase):
    """
    The uppercase server on an C{ssl:} endpoint completed by C{--tls auto}.
    """

    skip = None if OPENSSL else "openssl (Debian openssl) is not installed"

    async def _serve(self) -> tuple[int, str]:
        state = self.mktemp()
        options = Options()
        options.parseOptions(
            ["--listen", "ssl:0:interface=127.0.0.1", "--tls", "auto", "--state", state]
        )
        [description] = options.listenDescriptions()
        port = await serverFromString(reactor, description).listen(UpperTCPFactory())
        self.addCleanup(port.stopListening)
        authority = DevCertificateAuthority.forStateDirectory(options.stateDirectory())
        return port.getHost().port, authority.caCertificatePath.path

    def _client(self, port: int, caFile: str, hostname: str):
        assert OPENSSL is not None
        arguments = ["s_client", "-connect", f"127.0.0.1:{port}", "-CAfile", caFile]
        arguments += ["-verify_hostname", hostname, "-verify_return_error", "-quiet"]
        return converse(reactor, OPENSSL, arguments, self)

    async def test_verifiedExchange(self) -> None:
        port, caFile = await self._serve()
        client = self._client(port, caFile, "localhost")
        client.transport.write(b"hello over tls\n")
        await client.untilOutput(b"HELLO OVER TLS\n")

    async def test_wrongHostnameRefused(self) -> None:
        """
        The certificate names localhost and the loopback addresses, not
        www.someschool.edu, so a client that checks the name refuses it.
        """
        port, caFile = await self._serve()
        client = self._client(port, caFile, "www.someschool.edu")
        code = await client.ended
        self.assertNotEqual(code, 0)
        self.assertIn(b"verify", client.errors.lower())
