"""
Tests for L{netref.sockets.tap}: C{twistd netref-upper} and the services
the lab builds.
"""

from __future__ import annotations

from twisted.application.internet import StreamServerEndpointService, UDPServer
from twisted.application.service import IService, MultiService
from twisted.internet import reactor
from twisted.python.usage import UsageError
from twisted.trial.unittest import SynchronousTestCase, TestCase

from netref.core import service as serviceModule
from netref.sockets import tap
from netref.sockets.client import upperTCP, upperUDP
from netref.sockets.server import UpperTCPFactory, UpperUDPProtocol
from tests.support import freePort


class OptionsTests(SynchronousTestCase):
    """
    C{twistd netref-upper} takes the shared service options.
    """

    def test_defaults(self) -> None:
        options = tap.Options()
        options.parseOptions([])
        self.assertEqual(
            options.listenDescriptions(),
            ["tcp:12000:interface=127.0.0.1", "udp:12000:interface=127.0.0.1"],
        )
        self.assertFalse(options["trace"])

    def test_listen(self) -> None:
        options = tap.Options()
        options.parseOptions(["--listen", "tcp:2000", "--listen", "udp:2001:interface=127.0.0.2"])
        self.assertEqual(
            options.listenDescriptions(), ["tcp:2000", "udp:2001:interface=127.0.0.2"]
        )

    def test_badDatagramListen(self) -> None:
        self.assertRaises(UsageError, tap.Options().parseOptions, ["--listen", "udp:http"])

    def test_helpNamesLimits(self) -> None:
        text = str(tap.Options())
        self.assertIn("12000", text)
        self.assertIn("65536", text)
        self.assertIn("2048", text)


class MakeServiceTests(SynchronousTestCase):
    """
    L{tap.makeService} builds one service per C{--listen}.
    """

    def test_defaultServices(self) -> None:
        options = tap.Options()
        options.parseOptions([])
        top = tap.makeService(options)
        self.assertIsInstance(top, MultiService)
        stream, datagram = list(top)
        self.assertIsInstance(stream, StreamServerEndpointService)
        assert isinstance(stream, StreamServerEndpointService)
        self.assertIsInstance(stream.factory, UpperTCPFactory)
        self.assertIsInstance(datagram, UDPServer)
        self.assertEqual(datagram.args[0], 12000)
        self.assertIsInstance(datagram.args[1], UpperUDPProtocol)
        self.assertEqual(datagram.kwargs, {"interface": "127.0.0.1"})

    def test_trace(self) -> None:
        started = []
        self.patch(serviceModule, "startPrintingTranscripts", started.append)
        options = tap.Options()
        options.parseOptions(["--trace"])
        tap.makeService(options)
        self.assertEqual(len(started), 1)

    def test_upperServices(self) -> None:
        stream, datagram = tap.makeUpperServices("127.2.0.10", 12000)
        self.assertTrue(IService.providedBy(stream))
        self.assertIsInstance(datagram, UDPServer)
        assert isinstance(datagram, UDPServer)
        self.assertEqual(datagram.kwargs, {"interface": "127.2.0.10"})


class RunningServiceTests(TestCase):
    """
    The services really serve.
    """

    async def exchange(self, service: IService, port: int) -> None:
        service.startService()
        self.addCleanup(service.stopService)
        self.assertEqual(await upperTCP(reactor, "127.0.0.1", port, "over tcp"), "OVER TCP")
        self.assertEqual(await upperUDP(reactor, "127.0.0.1", port, "over udp"), "OVER UDP")

    async def test_makeService(self) -> None:
        port = freePort()
        options = tap.Options()
        options.parseOptions(
            [
                "--listen",
                f"tcp:{port}:interface=127.0.0.1",
                "--listen",
                f"udp:{port}:interface=127.0.0.1",
            ]
        )
        await self.exchange(tap.makeService(options), port)

    async def test_makeUpperServices(self) -> None:
        port = freePort()
        top = MultiService()
        for child in tap.makeUpperServices("127.0.0.1", port):
            child.setServiceParent(top)
        await self.exchange(top, port)
