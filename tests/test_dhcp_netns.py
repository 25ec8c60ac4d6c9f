"""
DHCP across network namespaces: netref's server and client, and the real
programs (busybox udhcpc and udhcpd, ISC dhclient, Kea), on veth pairs.

Every test makes its own namespaces (L{tests.netns.Network}) and deletes
them in its clean-up; every process is started with C{ip netns exec} and
killed in the clean-up.  They need root and C{ip netns}, and skip
otherwise; a missing program skips with its name in the reason.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sys
from typing import Any

from twisted.internet import defer, error, protocol, reactor
from twisted.python.failure import Failure
from twisted.trial.unittest import SkipTest, TestCase

from netref.dhcp.leases import LeaseStore
from tests.netns import Network, netnsUnavailable

TWISTD = os.path.join(os.path.dirname(sys.executable), "twistd")
NETREF = [sys.executable, "-c", "from netref.core.cli import main; main()"]
#: Seconds any one step may take before the test fails.
STEP = 30


def which(name: str) -> str | None:
    return shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin:/usr/bin:/bin")


class Process(protocol.ProcessProtocol):
    """
    A program in a namespace, whose output a test waits on.
    """

    def __init__(self) -> None:
        self.output = b""
        self.ended: defer.Deferred[int] = defer.Deferred()
        self._waiting: list[tuple[bytes, int, defer.Deferred[bytes]]] = []

    def _received(self, data: bytes) -> None:
        self.output += data
        for entry in list(self._waiting):
            expected, count, d = entry
            if self.output.count(expected) >= count:
                self._waiting.remove(entry)
                d.callback(self.output)

    outReceived = _received
    errReceived = _received

    def until(self, expected: bytes, count: int = 1) -> defer.Deferred[bytes]:
        """
        @return: fires once C{expected} was printed C{count} times; fails
            if the process ends first or after L{STEP} seconds.
        """
        d: defer.Deferred[bytes] = defer.Deferred()
        if self.output.count(expected) >= count:
            d.callback(self.output)
            return d
        if self.ended.called:
            d.errback(AssertionError(f"ended without {expected!r}:\n{self.output.decode()}"))
            return d
        self._waiting.append((expected, count, d))

        def timedOut(failure: Failure, timeout: float) -> Failure:
            raise AssertionError(f"no {expected!r} in {timeout}s:\n{self.output.decode()}")

        d.addTimeout(STEP, reactor, onTimeoutCancel=timedOut)  # type: ignore[arg-type]
        return d

    def processEnded(self, reason: Failure) -> None:
        code = reason.value.exitCode if isinstance(reason.value, error.ProcessTerminated) else 0
        for expected, _, d in self._waiting:
            if not d.called:
                d.errback(AssertionError(f"ended without {expected!r}:\n{self.output.decode()}"))
        self._waiting = []
        self.ended.callback(code if code is not None else -1)

    def signal(self, name: str) -> None:
        try:
            number = getattr(signal, "SIG" + name)
            self.transport.signalProcess(number)  # type: ignore[union-attr]
        except error.ProcessExitedAlready:
            pass

    def stop(self) -> defer.Deferred[int]:
        if not self.ended.called:
            self.signal("KILL")
        return self.ended


class NamespaceTestCase(TestCase):
    """
    Helpers: skip without namespaces, start programs in them.
    """

    timeout = 120

    def setUp(self) -> None:
        reason = netnsUnavailable()
        if reason is not None:
            raise SkipTest(reason)
        self.net = Network(self)

    def need(self, name: str) -> str:
        path = which(name)
        if path is None:
            raise SkipTest(f"{name} is not installed")
        return path

    def start(self, namespace: str, arguments: list[str]) -> Process:
        process = Process()
        command = self.net.command(namespace, arguments)
        reactor.spawnProcess(process, command[0], command, env=dict(os.environ))
        self.addCleanup(process.stop)
        return process

    @defer.inlineCallbacks
    def runToEnd(self, namespace: str, arguments: list[str]) -> Any:
        """
        Run a program to its end; fail if it takes over L{STEP} seconds.

        @return: (exit code, output).
        """
        process = self.start(namespace, arguments)
        ended = process.ended
        call = reactor.callLater(STEP, process.signal, "KILL")  # type: ignore[attr-defined]
        code = yield ended
        if call.active():
            call.cancel()
        return code, process.output.decode()

    def startNetrefServer(self, namespace: str, arguments: list[str]) -> defer.Deferred[bytes]:
        process = self.start(
            namespace,
            [TWISTD, "-n", "--pidfile=", "-l", "-", "netref-dhcp", "--trace", *arguments],
        )
        self.netrefServer = process
        return process.until(b"starting on 67")

    def _dir(self) -> str:
        path = os.path.abspath(self.mktemp())
        os.makedirs(path)
        return path

    def addressesOf(self, namespace: str, interface: str) -> list[str]:
        return self.net.addresses(namespace, interface)

    def twoHosts(self, serverAddress: str = "10.50.0.1/24") -> tuple[str, str, str, str]:
        """
        A server namespace and a client namespace on one veth pair; only
        the server's end has an address.

        @return: server namespace, client namespace, server interface,
            client interface.
        """
        server = self.net.namespace("s")
        client = self.net.namespace("c")
        serverIf, clientIf = self.net.link(server, client, serverAddress, None)
        return server, client, serverIf, clientIf


def udhcpcScript(directory: str) -> str:
    """
    The script busybox udhcpc runs at each event (its C{-s}): it prints the
    event and configures the address (C{$mask} is the prefix length).
    """
    path = os.path.join(directory, "udhcpc.script")
    with open(path, "w") as f:
        f.write(
            "#!/bin/sh\n"
            'case "$1" in\n'
            "  deconfig) ip -4 addr flush dev $interface ;;\n"
            "  bound|renew) ip addr replace $ip/$mask dev $interface ;;\n"
            "esac\n"
            # Printed last: when the test sees it, the address is set.
            'echo "udhcpc-event $1 ip=$ip mask=$mask router=$router lease=$lease"\n'
        )
    os.chmod(path, 0o755)
    return path


def dhclientScript(directory: str) -> str:
    """
    dhclient's script (its C{-sf}): Debian's C{/sbin/dhclient-script} would
    rewrite the host's C{/etc/resolv.conf} (a namespace shares the file
    system), so this one only prints the event and sets the address.
    """
    path = os.path.join(directory, "dhclient.script")
    with open(path, "w") as f:
        f.write(
            "#!/bin/sh\n"
            'case "$reason" in\n'
            "  BOUND|RENEW|REBIND|REBOOT)\n"
            "    ip addr replace $new_ip_address/$new_subnet_mask dev $interface ;;\n"
            "  EXPIRE|FAIL|RELEASE|STOP)\n"
            '    [ -n "$old_ip_address" ] && ip addr del $old_ip_address/$old_subnet_mask'
            " dev $interface ;;\n"
            "esac\n"
            'echo "dhclient-event $reason ip=$new_ip_address mask=$new_subnet_mask"\n'
            "exit 0\n"
        )
    os.chmod(path, 0o755)
    return path


class NetrefBothSidesTests(NamespaceTestCase):
    """
    netref's server and netref's client.
    """

    @defer.inlineCallbacks
    def test_lease(self) -> Any:
        server, client, serverIf, clientIf = self.twoHosts()
        state = os.path.abspath(self.mktemp())
        yield self.startNetrefServer(
            server,
            [
                "--interface", serverIf, "--pool", "10.50.0.100-10.50.0.120",
                "--router", "10.50.0.1", "--dns", "10.50.0.1", "--lease-time", "600",
                "--state", state,
            ],
        )  # fmt: skip
        code, out = yield self.runToEnd(client, [*NETREF, "dhcp", "--interface", clientIf])
        self.assertEqual(code, 0, out)
        self.assertIn("lease 10.50.0.100/24 from 10.50.0.1, lease 600s", out)
        self.assertEqual(self.addressesOf(client, clientIf), ["10.50.0.100/24"])
        leases = LeaseStore(os.path.join(state, "dhcp-leases.json"))
        self.assertEqual([(e.address, e.state) for e in leases], [("10.50.0.100", "bound")])
        # The trace shows the four messages.
        for kind in (b"DHCPDISCOVER", b"DHCPOFFER", b"DHCPREQUEST", b"DHCPACK"):
            self.assertIn(kind, self.netrefServer.output)
        # Releasing takes the address off the interface and frees the lease.
        code, out = yield self.runToEnd(
            client, [*NETREF, "dhcp", "--interface", clientIf, "--release", "--no-check"]
        )
        self.assertEqual(code, 0, out)
        self.assertIn("released 10.50.0.100", out)
        self.assertEqual(self.addressesOf(client, clientIf), [])
        yield self.netrefServer.until(b"DHCPRELEASE")


class RealClientTests(NamespaceTestCase):
    """
    Real clients against netref's server.
    """

    @defer.inlineCallbacks
    def test_udhcpc(self) -> Any:
        busybox = self.need("busybox")
        server, client, serverIf, clientIf = self.twoHosts()
        yield self.startNetrefServer(
            server,
            ["--interface", serverIf, "--pool", "10.50.0.100-10.50.0.120",
             "--router", "10.50.0.1", "--lease-time", "600"],
        )  # fmt: skip
        script = udhcpcScript(self._dir())
        udhcpc = self.start(
            client, [busybox, "udhcpc", "-f", "-i", clientIf, "-s", script, "-t", "5", "-T", "2"]
        )
        yield udhcpc.until(b"udhcpc-event bound")
        self.assertIn(b"ip=10.50.0.100 mask=24 router=10.50.0.1 lease=600", udhcpc.output)
        self.assertEqual(self.addressesOf(client, clientIf), ["10.50.0.100/24"])
        # SIGUSR1: renew now, by unicast to the server.
        udhcpc.signal("USR1")
        yield udhcpc.until(b"udhcpc-event renew")
        yield self.netrefServer.until(b"ciaddr 10.50.0.100")
        self.assertEqual(self.addressesOf(client, clientIf), ["10.50.0.100/24"])

    @defer.inlineCallbacks
    def test_dhclient(self) -> Any:
        dhclient = self.need("dhclient")
        server, client, serverIf, clientIf = self.twoHosts()
        yield self.startNetrefServer(
            server,
            ["--interface", serverIf, "--pool", "10.50.0.100-10.50.0.120",
             "--router", "10.50.0.1", "--lease-time", "600"],
        )  # fmt: skip
        directory = self._dir()
        config = os.path.join(directory, "dhclient.conf")
        with open(config, "w") as f:
            f.write("request subnet-mask, routers, domain-name-servers;\n")
        leases = os.path.join(directory, "dhclient.leases")
        process = self.start(
            client,
            [
                dhclient, "-d", "-1", "-v", "-cf", config, "-lf", leases,
                "-pf", os.path.join(directory, "dhclient.pid"),
                "-sf", dhclientScript(directory), clientIf,
            ],
        )  # fmt: skip
        yield process.until(b"dhclient-event BOUND")
        self.assertEqual(self.addressesOf(client, clientIf), ["10.50.0.100/24"])
        with open(leases) as f:
            self.assertIn("fixed-address 10.50.0.100;", f.read())


class RealServerTests(NamespaceTestCase):
    """
    netref's client against real servers.
    """

    @defer.inlineCallbacks
    def test_udhcpd(self) -> Any:
        busybox = self.need("busybox")
        server, client, serverIf, clientIf = self.twoHosts()
        directory = self._dir()
        config = os.path.join(directory, "udhcpd.conf")
        with open(config, "w") as f:
            f.write(
                "start 10.50.0.150\nend 10.50.0.160\nmax_leases 11\n"
                f"interface {serverIf}\n"
                f"lease_file {directory}/udhcpd.leases\npidfile {directory}/udhcpd.pid\n"
                "option subnet 255.255.255.0\noption router 10.50.0.1\noption lease 900\n"
            )
        udhcpd = self.start(server, [busybox, "udhcpd", "-f", config])
        yield udhcpd.until(b"started")
        code, out = yield self.runToEnd(client, [*NETREF, "dhcp", "--interface", clientIf])
        self.assertEqual(code, 0, out + udhcpd.output.decode())
        self.assertIn("lease 10.50.0.15", out)
        self.assertIn("lease 900s", out)
        [address] = self.addressesOf(client, clientIf)
        self.assertTrue(address.startswith("10.50.0.15") and address.endswith("/24"), address)

    @defer.inlineCallbacks
    def test_kea(self) -> Any:
        kea = self.need("kea-dhcp4")
        server, client, serverIf, clientIf = self.twoHosts()
        directory = self._dir()
        config = os.path.join(directory, "kea.json")
        with open(config, "w") as f:
            json.dump(keaConfig(directory, serverIf, "10.50.0.0/24", "10.50.0.170-10.50.0.180"), f)
        env = dict(os.environ, KEA_LOCKFILE_DIR=directory, KEA_PIDFILE_DIR=directory)
        process = Process()
        command = self.net.command(server, [kea, "-c", config])
        reactor.spawnProcess(process, command[0], command, env=env)
        self.addCleanup(process.stop)
        yield process.until(b"DHCP4_STARTED")
        code, out = yield self.runToEnd(client, [*NETREF, "dhcp", "--interface", clientIf])
        self.assertEqual(code, 0, out + process.output.decode())
        self.assertIn("lease 10.50.0.170/24 from 10.50.0.1, lease 700s", out)
        self.assertEqual(self.addressesOf(client, clientIf), ["10.50.0.170/24"])


def keaConfig(directory: str, interface: str, subnet: str, pool: str) -> dict[str, Any]:
    """
    A Kea DHCPv4 configuration that keeps every file in C{directory}.
    """
    return {
        "Dhcp4": {
            "interfaces-config": {"interfaces": [interface], "dhcp-socket-type": "raw"},
            "lease-database": {
                "type": "memfile",
                "persist": False,
                "lfc-interval": 0,
            },
            "valid-lifetime": 700,
            "subnet4": [
                {
                    "id": 1,
                    "subnet": subnet,
                    "pools": [{"pool": pool}],
                    "option-data": [{"name": "routers", "data": subnet.split("/")[0][:-1] + "1"}],
                }
            ],
            "loggers": [
                {"name": "kea-dhcp4", "output_options": [{"output": "stdout"}], "severity": "INFO"}
            ],
        }
    }


class RelayTests(NamespaceTestCase):
    """
    Client, relay agent and server in three namespaces, two subnets.
    """

    @defer.inlineCallbacks
    def test_relay(self) -> Any:
        client = self.net.namespace("c")
        router = self.net.namespace("r")
        server = self.net.namespace("s")
        clientIf, routerDown = self.net.link(client, router, None, "10.61.0.1/24")
        routerUp, serverIf = self.net.link(router, server, "10.62.0.1/24", "10.62.0.2/24")
        self.net.run(self.net.ip, "route", "add", "10.61.0.0/24", "via", "10.62.0.1",
                     namespace=server)  # fmt: skip
        yield self.startNetrefServer(
            server,
            [
                "--interface", serverIf, "--subnet", "10.61.0.0/24", "--subnet", "10.62.0.0/24",
                "--pool", "10.61.0.100-10.61.0.120", "--router", "10.61.0.1",
                "--lease-time", "600",
            ],
        )  # fmt: skip
        relay = self.start(
            router,
            [TWISTD, "-n", "--pidfile=", "-l", "-", "netref-dhcp-relay", "--trace",
             "--interface", routerDown, "--server", "10.62.0.2"],
        )  # fmt: skip
        yield relay.until(b"starting on 67", 2)
        code, out = yield self.runToEnd(client, [*NETREF, "dhcp", "--interface", clientIf])
        self.assertEqual(code, 0, out + relay.output.decode())
        self.assertIn("lease 10.61.0.100/24 from 10.62.0.2, lease 600s", out)
        self.assertIn("router 10.61.0.1", out)
        self.assertEqual(self.addressesOf(client, clientIf), ["10.61.0.100/24"])
        # The server saw giaddr and option 82; the relay stripped it going back.
        self.assertIn(b"giaddr 10.61.0.1 broadcast hops 1", self.netrefServer.output)
        self.assertIn(b"agent-info", self.netrefServer.output)
        self.assertIn(b"relayed DHCPACK", relay.output)

    @defer.inlineCallbacks
    def test_udhcpcThroughRelay(self) -> Any:
        """
        A real client, a netref relay, and a real server (Kea, which wants
        option 82 to be last and giaddr to pick the subnet).
        """
        busybox = self.need("busybox")
        kea = self.need("kea-dhcp4")
        client = self.net.namespace("c")
        router = self.net.namespace("r")
        server = self.net.namespace("s")
        clientIf, routerDown = self.net.link(client, router, None, "10.63.0.1/24")
        routerUp, serverIf = self.net.link(router, server, "10.64.0.1/24", "10.64.0.2/24")
        self.net.run(self.net.ip, "route", "add", "10.63.0.0/24", "via", "10.64.0.1",
                     namespace=server)  # fmt: skip
        directory = self._dir()
        config = keaConfig(directory, serverIf, "10.63.0.0/24", "10.63.0.50-10.63.0.60")
        with open(os.path.join(directory, "kea.json"), "w") as f:
            json.dump(config, f)
        env = dict(os.environ, KEA_LOCKFILE_DIR=directory, KEA_PIDFILE_DIR=directory)
        keaProcess = Process()
        command = self.net.command(server, [kea, "-c", os.path.join(directory, "kea.json")])
        reactor.spawnProcess(keaProcess, command[0], command, env=env)
        self.addCleanup(keaProcess.stop)
        yield keaProcess.until(b"DHCP4_STARTED")
        relay = self.start(
            router,
            [TWISTD, "-n", "--pidfile=", "-l", "-", "netref-dhcp-relay", "--trace",
             "--interface", routerDown, "--server", "10.64.0.2"],
        )  # fmt: skip
        yield relay.until(b"starting on 67", 2)
        udhcpc = self.start(
            client,
            [busybox, "udhcpc", "-f", "-q", "-i", clientIf, "-s", udhcpcScript(directory),
             "-t", "5", "-T", "2"],
        )  # fmt: skip
        yield udhcpc.until(b"udhcpc-event bound")
        self.assertIn(b"ip=10.63.0.50 mask=24", udhcpc.output)
        self.assertEqual(self.addressesOf(client, clientIf), ["10.63.0.50/24"])


class ConflictTests(NamespaceTestCase):
    """
    An address somebody already uses: the first of the pool is also on the
    server's own interface, so it answers ARP and ping.
    """

    @defer.inlineCallbacks
    def test_clientDeclines(self) -> Any:
        """
        netref's client finds the acknowledged address in use with its ARP
        probe, declines it, and ten seconds later gets the next one; the
        server marked the declined one bad.
        """
        self.need("arping")
        server, client, serverIf, clientIf = self.twoHosts()
        self.net.run(self.net.ip, "addr", "add", "10.50.0.100/24", "dev", serverIf,
                     namespace=server)  # fmt: skip
        state = self._dir()
        yield self.startNetrefServer(
            server,
            ["--interface", serverIf, "--pool", "10.50.0.100-10.50.0.120",
             "--lease-time", "600", "--state", state],
        )  # fmt: skip
        code, out = yield self.runToEnd(
            client, [*NETREF, "dhcp", "--interface", clientIf, "--trace"]
        )
        self.assertEqual(code, 0, out)
        self.assertIn("DHCPDECLINE", out)
        self.assertIn("lease 10.50.0.101/24", out)
        self.assertEqual(self.addressesOf(client, clientIf), ["10.50.0.101/24"])
        yield self.netrefServer.until(b"declined 10.50.0.100: marked bad")
        declined = LeaseStore(os.path.join(state, "dhcp-leases.json")).byAddress("10.50.0.100")
        assert declined is not None
        self.assertEqual(declined.state, "declined")

    @defer.inlineCallbacks
    def test_serverPingCheck(self) -> Any:
        """
        With C{--ping-check}, the server pings an address before offering
        it, and skips one that answers.
        """
        self.need("ping")
        server, client, serverIf, clientIf = self.twoHosts()
        self.net.run(self.net.ip, "addr", "add", "10.50.0.100/24", "dev", serverIf,
                     namespace=server)  # fmt: skip
        yield self.startNetrefServer(
            server,
            ["--interface", serverIf, "--pool", "10.50.0.100-10.50.0.120",
             "--lease-time", "600", "--ping-check"],
        )  # fmt: skip
        code, out = yield self.runToEnd(
            client, [*NETREF, "dhcp", "--interface", clientIf, "--no-check"]
        )
        self.assertEqual(code, 0, out)
        self.assertIn("lease 10.50.0.101/24", out)
        self.assertIn(b"10.50.0.100 answers a probe: marked bad", self.netrefServer.output)


class HoldTests(NamespaceTestCase):
    """
    C{netref dhcp --hold} keeps the lease until interrupted, then releases
    it.
    """

    @defer.inlineCallbacks
    def test_holdThenInterrupt(self) -> Any:
        server, client, serverIf, clientIf = self.twoHosts()
        yield self.startNetrefServer(
            server,
            ["--interface", serverIf, "--pool", "10.50.0.100-10.50.0.120",
             "--lease-time", "600"],
        )  # fmt: skip
        holder = self.start(client, [*NETREF, "dhcp", "--interface", clientIf, "--hold"])
        yield holder.until(b"lease 10.50.0.100/24")
        self.assertEqual(self.addressesOf(client, clientIf), ["10.50.0.100/24"])
        holder.signal("INT")
        code = yield holder.ended
        self.assertIn(b"released 10.50.0.100", holder.output)
        self.assertEqual(code, 0, holder.output)
        self.assertEqual(self.addressesOf(client, clientIf), [])
        yield self.netrefServer.until(b"DHCPRELEASE")
