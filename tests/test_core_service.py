"""
Tests for L{netref.core.service}, the options every service shares.
"""

import os

from twisted.application.internet import StreamServerEndpointService, UDPServer
from twisted.cred.credentials import UsernamePassword
from twisted.cred.error import UnauthorizedLogin
from twisted.internet.protocol import DatagramProtocol, Factory, Protocol
from twisted.python import usage
from twisted.trial.unittest import SynchronousTestCase, TestCase

from netref.core import service


class _Options(service.ServiceOptions):
    defaultListen = ("tcp:12000:interface=127.0.0.1",)


class ServiceOptionsTests(SynchronousTestCase):
    """
    L{service.ServiceOptions}: C{--listen} (repeatable), C{--trace}, C{--state}.
    """

    def test_defaults(self) -> None:
        options = _Options()
        options.parseOptions([])
        self.assertEqual(options.listenDescriptions(), ["tcp:12000:interface=127.0.0.1"])
        self.assertFalse(options["trace"])
        self.assertIsNone(options.stateDirectory())

    def test_listenRepeatable(self) -> None:
        options = _Options()
        options.parseOptions(["--listen", "tcp:1:interface=::1", "--listen", "udp:2"])
        self.assertEqual(options.listenDescriptions(), ["tcp:1:interface=::1", "udp:2"])

    def test_badDatagramListenIsUsageError(self) -> None:
        options = _Options()
        self.assertRaises(usage.UsageError, options.parseOptions, ["--listen", "udp:nope"])

    def test_stateDirectoryCreated(self) -> None:
        where = self.mktemp()
        options = _Options()
        options.parseOptions(["--state", where])
        path = options.stateDirectory()
        assert path is not None
        self.assertTrue(os.path.isdir(where))
        self.assertEqual(path.path, os.path.abspath(where))


class DatagramListenTests(SynchronousTestCase):
    """
    L{service.parseDatagramListen} reads C{udp:PORT[:interface=ADDR]}.
    """

    def test_portOnly(self) -> None:
        self.assertEqual(
            service.parseDatagramListen("udp:10053"),
            service.DatagramListen(10053, "127.0.0.1"),
        )

    def test_interface(self) -> None:
        self.assertEqual(
            service.parseDatagramListen("UDP:0:interface=127.2.0.10"),
            service.DatagramListen(0, "127.2.0.10"),
        )

    def test_ipv6Interface(self) -> None:
        for written in ["udp:53:interface=::1", "udp:53:interface=\\:\\:1"]:
            with self.subTest(written=written):
                self.assertEqual(
                    service.parseDatagramListen(written), service.DatagramListen(53, "::1")
                )

    def test_errors(self) -> None:
        for bad in [
            "udp",
            "udp:",
            "udp:x",
            "udp:70000",
            "udp:53:iface=1.2.3.4",
            "udp:53:interface=",
            "tcp:53",
        ]:
            with self.subTest(bad=bad):
                self.assertRaises(usage.UsageError, service.parseDatagramListen, bad)

    def test_isDatagram(self) -> None:
        self.assertTrue(service.isDatagramListen("udp:53"))
        self.assertFalse(service.isDatagramListen("tcp:53"))
        self.assertFalse(service.isDatagramListen("ssl:8443"))


class ServiceBuildersTests(SynchronousTestCase):
    """
    The builders turn descriptions into (unstarted) Twisted services.
    """

    def test_stream(self) -> None:
        built = service.streamService("tcp:0:interface=127.0.0.1", Factory.forProtocol(Protocol))
        self.assertIsInstance(built, StreamServerEndpointService)

    def test_datagram(self) -> None:
        built = service.datagramService("udp:0:interface=127.0.0.3", DatagramProtocol())
        self.assertIsInstance(built, UDPServer)
        self.assertEqual(built.kwargs, {"interface": "127.0.0.3"})

    def test_traceFlagStartsPrinting(self) -> None:
        options = _Options()
        options.parseOptions(["--trace"])
        observers = []
        self.patch(service, "startPrintingTranscripts", observers.append)
        service.startTracingIfAsked(options)
        self.assertEqual(len(observers), 1)


class TLSAutoTests(SynchronousTestCase):
    """
    C{--tls auto} completes C{ssl:} endpoints with a development certificate.
    """

    def test_sslCompleted(self) -> None:
        state = self.mktemp()
        options = _Options()
        options.parseOptions(
            ["--listen", "ssl:0:interface=127.0.0.1", "--tls", "auto", "--state", state]
        )
        [description] = options.listenDescriptions()
        self.assertTrue(description.startswith("ssl:0:interface=127.0.0.1:"), description)
        self.assertIn("privateKey=", description)
        self.assertIn("certKey=", description)

    def test_otherEndpointsUntouched(self) -> None:
        options = _Options()
        options.parseOptions(["--listen", "tcp:0", "--listen", "udp:0", "--tls", "auto"])
        self.assertEqual(options.listenDescriptions(), ["tcp:0", "udp:0"])

    def test_sslWithoutCertificateIsUsageError(self) -> None:
        self.assertRaises(usage.UsageError, _Options().parseOptions, ["--listen", "ssl:0"])

    def test_autoWithoutStateIsUsageError(self) -> None:
        self.assertRaises(
            usage.UsageError, _Options().parseOptions, ["--listen", "ssl:0", "--tls", "auto"]
        )


class ListenOnTests(SynchronousTestCase):
    """
    L{service.listenOn} and L{service.hostServices} build the listeners of a
    tap from its descriptions.
    """

    def test_oneServicePerDescription(self) -> None:
        made: list[DatagramProtocol] = []

        def datagram() -> DatagramProtocol:
            made.append(DatagramProtocol())
            return made[-1]

        top = service.listenOn(
            ["tcp:0:interface=127.0.0.1", "udp:0", "udp:0:interface=127.0.0.2"],
            Factory.forProtocol(Protocol),
            datagram,
        )
        children = list(top)
        self.assertIsInstance(children[0], StreamServerEndpointService)
        self.assertIsInstance(children[1], UDPServer)
        self.assertIsInstance(children[2], UDPServer)
        self.assertEqual(len(made), 2, "every datagram port gets its own protocol")

    def test_kindNotSpoken(self) -> None:
        self.assertRaises(
            usage.UsageError, service.listenOn, ["udp:53"], Factory.forProtocol(Protocol)
        )
        self.assertRaises(usage.UsageError, service.listenOn, ["tcp:53"], None, DatagramProtocol)

    def test_hostServicesIPv6(self) -> None:
        stream, datagram = service.hostServices(
            "::1", 0, Factory.forProtocol(Protocol), DatagramProtocol
        )
        self.assertIsInstance(stream, StreamServerEndpointService)
        assert isinstance(datagram, UDPServer)
        self.assertEqual(datagram.kwargs, {"interface": "::1"})


class _AccountServiceOptions(service.ServiceOptions, service.AccountOptions):
    pass


class AccountOptionsTests(TestCase):
    """
    C{--user} and C{--users} give a service a twisted.cred checker.
    """

    def _checkerFor(self, *args: str) -> object:
        options = _AccountServiceOptions()
        options.parseOptions(list(args))
        return options.accountsChecker()

    def test_none(self) -> None:
        """
        Without either option there are no accounts and no checker.
        """
        options = _AccountServiceOptions()
        options.parseOptions([])
        self.assertFalse(options.hasAccounts())
        self.assertIsNone(options.accountsChecker())

    async def test_users(self) -> None:
        """
        Repeated C{--user} values make a checker that knows each user.
        """
        options = _AccountServiceOptions()
        options.parseOptions(["--user", "alice:wonder", "--user", "bob:builder"])
        self.assertTrue(options.hasAccounts())
        checker = options.accountsChecker()
        assert checker is not None
        avatarId = await checker.requestAvatarId(UsernamePassword(b"bob", b"builder"))
        self.assertEqual(avatarId, b"bob")
        with self.assertRaises(UnauthorizedLogin):
            await checker.requestAvatarId(UsernamePassword(b"bob", b"wonder"))

    def test_badUser(self) -> None:
        """
        A C{--user} without a password is a usage error.
        """
        self.assertRaises(usage.UsageError, self._checkerFor, "--user", "alice")

    def test_badFile(self) -> None:
        """
        A missing or malformed password file is a usage error, not a traceback.
        """
        missing = self.mktemp()
        self.assertRaises(usage.UsageError, self._checkerFor, "--users", missing)
        malformed = self.mktemp()
        with open(malformed, "w") as f:
            f.write("alice no-hash-here\n")
        self.assertRaises(usage.UsageError, self._checkerFor, "--users", malformed)

    def test_both(self) -> None:
        """
        C{--user} and C{--users} together are refused.
        """
        path = self.mktemp()
        self.assertRaises(
            usage.UsageError, self._checkerFor, "--users", path, "--user", "alice:wonder"
        )
