"""
Tests for L{netref.lab}: the textbook's little Internet on loopback.
"""

from io import StringIO

from twisted.application.service import IService
from twisted.trial.unittest import SynchronousTestCase, TestCase

from netref.lab import lab as labModule
from netref.lab import tap
from netref.lab.hosts import HOSTS, LabHost
from netref.lab.kinds import KINDS
from netref.lab.lab import DEFAULT_PORTS, WELL_KNOWN_PORTS, Lab, LabService, choosePorts
from netref.sockets.client import upperTCP, upperUDP


def theReactor():
    """
    @return: the global reactor, for the client functions.
    """
    from twisted.internet import reactor

    return reactor


class LabTableTests(SynchronousTestCase):
    """
    L{Lab} checks the host table, so a mistake in it fails at start-up.
    """

    def test_shippedTableIsValid(self) -> None:
        Lab(HOSTS)
        self.assertIn("gaia.cs.umass.edu", [h.name for h in HOSTS])

    def test_duplicateName(self) -> None:
        a = LabHost("a.edu", "127.2.9.1", (), "")
        b = LabHost("a.edu", "127.2.9.2", (), "")
        self.assertRaises(ValueError, Lab, [a, b])

    def test_duplicateAddress(self) -> None:
        a = LabHost("a.edu", "127.2.9.1", (), "")
        b = LabHost("b.edu", "127.2.9.1", (), "")
        self.assertRaises(ValueError, Lab, [a, b])

    def test_notLoopback(self) -> None:
        self.assertRaises(ValueError, Lab, [LabHost("a.edu", "10.0.0.1", (), "")])

    def test_unknownKind(self) -> None:
        self.assertRaises(ValueError, Lab, [LabHost("a.edu", "127.2.9.1", ("gopher",), "")])


class PortsTests(SynchronousTestCase):
    """
    The well-known ports when root, the netref defaults otherwise.
    """

    def test_autoAsRoot(self) -> None:
        self.patch(labModule.os, "geteuid", lambda: 0)
        self.assertEqual(choosePorts("auto"), WELL_KNOWN_PORTS)

    def test_autoAsUser(self) -> None:
        self.patch(labModule.os, "geteuid", lambda: 1000)
        self.assertEqual(choosePorts("auto"), DEFAULT_PORTS)

    def test_explicit(self) -> None:
        self.assertEqual(choosePorts("default"), DEFAULT_PORTS)
        self.assertEqual(choosePorts("well-known"), WELL_KNOWN_PORTS)
        self.assertRaises(ValueError, choosePorts, "high")

    def test_portForKind(self) -> None:
        upper = KINDS["upper"]
        self.assertEqual(Lab(ports=DEFAULT_PORTS).portFor(upper), upper.defaultPort)
        self.assertEqual(Lab(ports=WELL_KNOWN_PORTS).portFor(upper), upper.wellKnownPort)

    def test_optionsRejectUnknown(self) -> None:
        from twisted.python.usage import UsageError

        self.assertRaises(UsageError, tap.Options().parseOptions, ["--ports", "high"])


class MapTests(SynchronousTestCase):
    """
    The map names every host, address and service, and commands to try.
    """

    def test_everyHostAndService(self) -> None:
        text = Lab().mapText()
        for host in HOSTS:
            self.assertIn(host.name, text)
            self.assertIn(f"{host.address}\t{host.name}", text)
            for kind in host.services:
                self.assertIn(kind, text)
        self.assertIn("netref upper --host 127.2.0.10 --port 12000", text)


class LabLoopbackTests(TestCase):
    """
    The lab really runs: each host answers on its own address, every host
    on the same port.
    """

    async def _startLab(self, lab: Lab) -> LabService:
        out = StringIO()
        service = LabService(lab, out)
        service.startService()
        self.addCleanup(service.stopService)
        self.assertEqual(out.getvalue(), lab.mapText())
        return service

    async def test_shippedLab(self) -> None:
        """
        C{makeService} of the plugin starts the shipped lab; gaia answers the
        textbook's uppercase exchange over TCP and UDP.
        """
        options = tap.Options()
        options.parseOptions(["--ports", "default", "--state", self.mktemp()])
        service = tap.makeService(options)
        self.assertTrue(IService.providedBy(service))
        service.startService()
        self.addCleanup(service.stopService)
        self.assertEqual(await upperTCP(theReactor(), "127.2.0.10", 12000, "hello"), "HELLO")
        self.assertEqual(await upperUDP(theReactor(), "127.2.0.10", 12000, "hello"), "HELLO")
        # www.someschool.edu serves the textbook's page and its ten images.
        from netref.http.client import HTTPClient

        client = HTTPClient(theReactor())
        try:
            base = "http://127.2.3.1:8080/someDepartment/"
            page = await client.get(base + "home.index")
            self.assertEqual(page.status, 200)
            images = [f"pic{n:02d}.jpg" for n in range(1, 11)]
            for image in images:
                self.assertIn(image.encode(), page.body)
                picture = await client.get(base + image)
                self.assertEqual(picture.headers.get("content-type"), b"image/jpeg")
                self.assertTrue(picture.body.startswith(b"\xff\xd8\xff"))
        finally:
            await client.close()

    async def test_sameHostPortDifferentAddresses(self) -> None:
        """
        Two hosts run the same service on the same port, told apart only by
        their addresses, as DESIGN.md's lab addressing requires.
        """
        hosts = [
            LabHost("crepes.fr", "127.2.200.1", ("upper",), ""),
            LabHost("hamburger.edu", "127.2.200.2", ("upper",), ""),
        ]
        await self._startLab(Lab(hosts, stateDirectory=self.mktemp()))
        for host in hosts:
            reply = await upperTCP(theReactor(), host.address, 12000, f"hi {host.name}")
            self.assertEqual(reply, f"HI {host.name.upper()}")


class LabZonesTests(SynchronousTestCase):
    """
    The lab's zone files agree with its host table: every lab host whose
    name lies in a lab zone has its address there, and every delegation's
    glue points at the lab host that serves the delegated zone.
    """

    def setUp(self) -> None:
        from netref.dns.zonefile import loadZoneFile
        from netref.lab.kinds import zoneFile

        self.zones = {name: loadZoneFile(zoneFile(name)) for host in HOSTS for name in host.zones}

    def _addresses(self) -> dict[str, set[str]]:
        from netref.dns.rdata import RRType

        found: dict[str, set[str]] = {}
        for data in self.zones.values():
            for record in data.records:
                if record.rtype == RRType.A:
                    name = record.name.toText().rstrip(".").lower()
                    found.setdefault(name, set()).add(record.rdata.address)
        return found

    def test_everyZoneLoads(self) -> None:
        self.assertEqual(len(self.zones), 12)

    def test_hostsHaveTheirAddresses(self) -> None:
        found = self._addresses()
        for host in HOSTS:
            with self.subTest(host=host.name):
                self.assertIn(host.address, found.get(host.name, set()))

    def test_everyServerServesWhatIsDelegatedToIt(self) -> None:
        """
        For every NS record, the server it names is a lab host, and that
        host is authoritative for the zone (the lab's own referrals lead
        somewhere).
        """
        from netref.dns.rdata import RRType

        byName = {host.name: host for host in HOSTS}
        for data in self.zones.values():
            for record in data.records:
                if record.rtype != RRType.NS:
                    continue
                zone = record.name.toText()
                server = record.rdata.target.toText().rstrip(".")
                with self.subTest(zone=zone, server=server):
                    self.assertIn(server, byName)
                    origins = {self.zones[f].origin.toText() for f in byName[server].zones}
                    self.assertIn(zone, origins)


class LabDNSTests(TestCase):
    """
    The textbook's iterative query for gaia.cs.umass.edu (section 2.4.2),
    asked of the running lab: root, then the edu TLD server, then umass.edu's
    authoritative server.
    """

    async def test_iterativeLookup(self) -> None:
        from netref.dns.client import query
        from netref.dns.rdata import RRType

        service = LabService(Lab(ports=DEFAULT_PORTS, stateDirectory=self.mktemp()), None)
        service.startService()
        self.addCleanup(service.stopService)
        reactor = theReactor()
        server = ("127.2.1.1", 10053)
        for expectedServer in ["a.edu-servers.net.", "dns.umass.edu."]:
            response = await query(
                reactor, "gaia.cs.umass.edu", RRType.A, [server], recursionDesired=False
            )
            message = response.message
            self.assertEqual(message.answers, ())
            self.assertFalse(message.aa, "a referral is not authoritative")
            [ns] = [r for r in message.authority if r.rtype == RRType.NS]
            self.assertEqual(ns.rdata.target.toText(), expectedServer)
            [glue] = [r for r in message.additional if r.name == ns.rdata.target]
            server = (glue.rdata.address, 10053)
        response = await query(
            reactor, "gaia.cs.umass.edu", RRType.A, [server], recursionDesired=False
        )
        self.assertTrue(response.message.aa)
        self.assertEqual([r.rdata.address for r in response.message.answers], ["127.2.0.10"])
