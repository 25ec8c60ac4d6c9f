"""
The DHCP part of the lab: a lab of its own with the school's DHCP server
and the router's relay agent on loopback, and C{netref dhcp --relay}
getting a lease through them, as the lab's map tells a person to try.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from twisted.internet import defer
from twisted.internet.utils import getProcessOutputAndValue
from twisted.trial.unittest import SkipTest, SynchronousTestCase, TestCase

from netref.dhcp.relaytap import buildLabRelay, makeLabRelayServices
from netref.dhcp.tap import (
    LAB_RELAY_ADDRESS,
    LAB_RELAY_PORT,
    LAB_SERVER_ADDRESS,
    LAB_SERVER_PORT,
    buildLabServer,
    labRelayPort,
    makeLabDHCPServices,
)
from netref.lab.hosts import LabHost
from netref.lab.kinds import ServiceKind
from netref.lab.lab import DEFAULT_PORTS, Lab, LabService
from tests.support import docsPage, embeddingExample, freePort

SERVER_HOST = LabHost(
    "dhcp.someschool.edu", LAB_SERVER_ADDRESS, ("dhcp",), "the school's DHCP server"
)
RELAY_HOST = LabHost(
    "router.someschool.edu", LAB_RELAY_ADDRESS, ("dhcp-relay",), "the router's DHCP relay agent"
)
TRY_COMMAND = "netref dhcp --relay {addr[router.someschool.edu]}:{relayPort} --release"


def kinds(serverPort: int, relayPort: int) -> dict[str, ServiceKind]:
    """
    The two kinds, on the given ports (the lab's own are
    L{LAB_SERVER_PORT} and L{LAB_RELAY_PORT}).
    """
    server = ServiceKind(
        name="dhcp",
        summary="DHCP server, reached through the relay agent (section 4.4.2)",
        transports="udp",
        defaultPort=serverPort,
        wellKnownPort=67,
        build=lambda host, port, state: makeLabDHCPServices(
            host.address, port, relayPort, stateDirectory=state
        ),
        tryCommands=(TRY_COMMAND.replace("{relayPort}", str(relayPort)),),
    )
    relay = ServiceKind(
        name="dhcp-relay",
        summary="DHCP relay agent on the router",
        transports="udp",
        defaultPort=relayPort,
        wellKnownPort=67,
        build=lambda host, port, state: makeLabRelayServices(
            host.address, port, (LAB_SERVER_ADDRESS, serverPort)
        ),
        tryCommands=(),
    )
    return {"dhcp": server, "dhcp-relay": relay}


class LabPortsTests(SynchronousTestCase):
    """
    The proposed lab wiring: the relay beside the server, 67 for both as
    root.
    """

    def test_ports(self) -> None:
        self.assertEqual(labRelayPort(LAB_SERVER_PORT), LAB_RELAY_PORT)
        self.assertEqual(labRelayPort(67), 67)

    def test_buildFunctions(self) -> None:
        state = self.mktemp()
        [server] = buildLabServer(SERVER_HOST, LAB_SERVER_PORT, state)
        [relay] = buildLabRelay(RELAY_HOST, LAB_RELAY_PORT, state)
        # The server keeps its leases in the host's state directory.
        store = server.args[1].server.store  # type: ignore[attr-defined]
        self.assertEqual(store.path, os.path.join(state, "dhcp-leases.json"))
        self.assertEqual(server.args[0], LAB_SERVER_PORT)  # type: ignore[attr-defined]
        self.assertEqual(server.kwargs["interface"], LAB_SERVER_ADDRESS)  # type: ignore[attr-defined]
        self.assertEqual(relay.args[0], LAB_RELAY_PORT)  # type: ignore[attr-defined]
        self.assertEqual(relay.kwargs["interface"], LAB_RELAY_ADDRESS)  # type: ignore[attr-defined]


class LabTests(TestCase):
    """
    A lab with the DHCP hosts, and the try-command run for real.
    """

    timeout = 30

    @defer.inlineCallbacks
    def test_leaseThroughRelay(self) -> Any:
        serverPort, relayPort = freePort(), freePort()
        state = os.path.abspath(self.mktemp())
        lab = Lab([SERVER_HOST, RELAY_HOST], DEFAULT_PORTS, kinds(serverPort, relayPort), state)
        text = lab.mapText()
        command = f"netref dhcp --relay 127.2.4.2:{relayPort} --release"
        self.assertIn(command, text)
        service = LabService(lab, None)
        service.startService()
        self.addCleanup(service.stopService)
        out, err, code = yield getProcessOutputAndValue(
            sys.executable,
            ["-c", "from netref.core.cli import main; main()", *command.split()[1:]],
            env=dict(os.environ),
        )
        self.assertEqual(code, 0, err)
        lines = out.decode().splitlines()
        self.assertEqual(
            lines[0],
            "lease 127.2.4.100/24 from 127.2.4.1, lease 3600s (T1 1800s, T2 3150s), "
            "router 127.2.4.2, domain someschool.edu",
        )
        self.assertEqual(lines[1], "released 127.2.4.100")
        # The server wrote the binding, then its release, to its journal.
        journal = os.path.join(state, SERVER_HOST.name, "dhcp-leases.json.journal")
        with open(journal) as f:
            self.assertIn('"address": "127.2.4.100"', f.read())


DOCS_PAGE = docsPage("dhcp.rst")


class EmbeddingExampleTests(TestCase):
    """
    The docs page's program runs as printed.
    """

    timeout = 30

    @defer.inlineCallbacks
    def test_embeddingExample(self) -> Any:
        code = embeddingExample(DOCS_PAGE)
        if code is None:
            raise SkipTest(f"{DOCS_PAGE} is not here (no source checkout)")
        out, err, status = yield getProcessOutputAndValue(
            sys.executable, ["-c", code], env=dict(os.environ)
        )
        self.assertEqual(status, 0, err)
        self.assertEqual(
            out.decode(),
            "127.2.4.100/24 from 127.2.4.1, lease 3600s (T1 1800s, T2 3150s), "
            "router 127.2.4.2, domain someschool.edu\nbound\n",
        )
