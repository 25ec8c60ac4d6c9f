"""
The DHCP client (RFC 2131 sections 3.1, 4.4) and the C{netref dhcp} tool.

L{DHCPClient} is the client's state machine, the one of RFC 2131 figure 5::

    INIT --DISCOVER--> SELECTING --OFFER/REQUEST--> REQUESTING --ACK--> BOUND
    BOUND --T1--> RENEWING (unicast REQUEST) --T2--> REBINDING (broadcast)
    RENEWING/REBINDING --ACK--> BOUND;   NAK, or the lease expires --> INIT

It does not touch sockets or the interface itself: it is given a C{send}
function, a clock, a conflict check and hooks that configure and remove the
address, so its timers run on a L{twisted.internet.task.Clock} in tests.

  - Every message carries the broadcast bit (RFC 2131 section 4.1): a
    client that has no address yet cannot receive a unicast reply from a
    server that has not filled its ARP table.
  - DISCOVER and REQUEST are retransmitted after 4, 8, 16, 32, 64 seconds,
    randomised by plus or minus one second (section 4.1).
  - Before it uses an offered address, the client checks nobody else does
    (section 4.4.1: "the client SHOULD perform a check on the suggested
    address to ensure that the address is not already in use", with ARP);
    if somebody does, it sends DHCPDECLINE and starts again after ten
    seconds (section 3.1, step 5).
  - At T1 (by default half the lease) it renews: a DHCPREQUEST unicast to
    the server that gave the lease, with C{ciaddr}; at T2 (87.5%) it
    rebinds: the same request broadcast to any server; retransmissions wait
    half the time left to T2 (or to the expiry), at least 60 seconds
    (section 4.4.5).
  - When the lease expires, the address is removed and the client starts
    again from INIT; a DHCPNAK does the same at once.
  - L{DHCPClient.release} sends DHCPRELEASE and removes the address
    (section 4.4.6).

C{netref dhcp} runs the exchange on a real interface (C{--interface}, with
a socket bound to that device on port 68, root needed) and configures the
address with C{ip addr add}; or, in the lab, through a relay agent on
loopback (C{--relay ADDR:PORT}), printing the lease without configuring
anything.
"""

from __future__ import annotations

import ipaddress
import os
import random
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from twisted.internet import defer, utils
from twisted.internet.interfaces import IDelayedCall, IReactorTime, IUDPTransport
from twisted.internet.protocol import DatagramProtocol
from twisted.logger import Logger
from twisted.python import usage

from netref.core.trace import Transcript
from netref.dhcp.wire import (
    BOOTREPLY,
    BOOTREQUEST,
    BROADCAST_FLAG,
    CLIENT_PORT,
    SERVER_PORT,
    ZERO,
    MessageType,
    Option,
    Packet,
    WireError,
    addressesValue,
    decodePacket,
    encodePacket,
)

__all__ = ["ClientLease", "DHCPClient", "DHCPClientError", "DHCPClientProtocol", "Options", "run"]

BROADCAST = "255.255.255.255"

# The states of RFC 2131 figure 5.
INIT = "INIT"
SELECTING = "SELECTING"
REQUESTING = "REQUESTING"
BOUND = "BOUND"
RENEWING = "RENEWING"
REBINDING = "REBINDING"
RELEASED = "RELEASED"

#: Retransmission delays of DISCOVER and REQUEST (RFC 2131 section 4.1).
RETRANSMIT = (4.0, 8.0, 16.0, 32.0, 64.0)

#: Seconds to wait after a DECLINE before starting again (section 3.1).
DECLINE_WAIT = 10.0

#: The least wait between REQUESTs while renewing or rebinding (4.4.5).
MIN_RENEW_WAIT = 60.0

#: What the client asks for (RFC 2132 section 9.8).
PARAMETERS = bytes(
    [
        Option.SUBNET_MASK,
        Option.ROUTER,
        Option.DOMAIN_NAME_SERVER,
        Option.DOMAIN_NAME,
        Option.LEASE_TIME,
        Option.RENEWAL_TIME,
        Option.REBINDING_TIME,
    ]
)

log = Logger(namespace="netref.dhcp.client")


class DHCPClientError(Exception):
    """
    No lease: no server answered, or every offer was refused.
    """


@dataclass(frozen=True)
class ClientLease:
    """
    A lease as the client holds it.

    @ivar address: the leased address (C{yiaddr} of the DHCPACK).
    @ivar server: the server identifier (option 54).
    @ivar start: when the request that got the lease was sent, on the
        client's clock: lease times count from there (section 4.4.1).
    @ivar leaseTime: seconds.
    @ivar renewalTime: T1, seconds from L{start}.
    @ivar rebindingTime: T2, seconds from L{start}.
    """

    address: str
    server: str
    start: float
    leaseTime: int
    renewalTime: float
    rebindingTime: float
    subnetMask: str | None = None
    routers: tuple[str, ...] = ()
    dnsServers: tuple[str, ...] = ()
    domainName: str | None = None

    @classmethod
    def fromAck(cls, ack: Packet, start: float) -> ClientLease:
        """
        Read a lease from a DHCPACK; T1 and T2 default to 0.5 and 0.875 of
        the lease (RFC 2131 section 4.4.5).
        """
        leaseTime = ack.leaseTime if ack.leaseTime is not None else 0xFFFFFFFF
        t1 = ack.renewalTime if ack.renewalTime is not None else leaseTime * 0.5
        t2 = ack.rebindingTime if ack.rebindingTime is not None else leaseTime * 0.875
        if not 0 < t1 < t2 <= leaseTime:
            t1, t2 = leaseTime * 0.5, leaseTime * 0.875
        return cls(
            address=ack.yiaddr,
            server=ack.serverIdentifier or ZERO,
            start=start,
            leaseTime=leaseTime,
            renewalTime=t1,
            rebindingTime=t2,
            subnetMask=ack.subnetMask,
            routers=tuple(ack.routers),
            dnsServers=tuple(ack.dnsServers),
            domainName=ack.domainName,
        )

    @property
    def prefixLength(self) -> int:
        """
        The network prefix length the subnet mask gives (32 without one).
        """
        if self.subnetMask is None:
            return 32
        return ipaddress.IPv4Network(f"0.0.0.0/{self.subnetMask}").prefixlen

    def describe(self) -> str:
        """
        @return: one line for people, such as C{10.0.0.100/24 from
            10.0.0.1, lease 3600s (T1 1800s, T2 3150s), router 10.0.0.1}.
        """
        text = (
            f"{self.address}/{self.prefixLength} from {self.server}, lease {self.leaseTime}s "
            f"(T1 {self.renewalTime:g}s, T2 {self.rebindingTime:g}s)"
        )
        if self.routers:
            text += ", router " + ",".join(self.routers)
        if self.dnsServers:
            text += ", dns " + ",".join(self.dnsServers)
        if self.domainName:
            text += f", domain {self.domainName}"
        return text


Hook = Callable[[ClientLease], "defer.Deferred[Any] | None"]
ConflictCheck = Callable[[str], "defer.Deferred[bool]"]


class DHCPClient:
    """
    The client's state machine (RFC 2131 figure 5).

    @ivar state: the current state (L{INIT}, L{SELECTING}, ...).
    @ivar lease: the lease held, or L{None}.
    @ivar history: every state change and decision, as text, for people
        and tests.
    """

    def __init__(
        self,
        chaddr: bytes,
        send: Callable[[Packet, str, int], None],
        clock: IReactorTime,
        conflictCheck: ConflictCheck | None = None,
        configure: Hook | None = None,
        deconfigure: Hook | None = None,
        via: tuple[str, int] | None = None,
        serverPort: int = SERVER_PORT,
        maxAttempts: int = len(RETRANSMIT),
        randomness: random.Random | None = None,
        jitter: float = 1.0,
    ) -> None:
        """
        @param chaddr: the client's hardware address.
        @param send: sends a packet to C{(host, port)}.
        @param conflictCheck: fires with whether an address is in use.
        @param configure: puts a new lease's address on the interface.
        @param deconfigure: takes an address off the interface.
        @param via: send every message to this address (a relay agent on
            loopback, in the lab) instead of broadcasting.
        @param serverPort: the servers' port, for unicast renewals.
        @param maxAttempts: DISCOVERs (and REQUESTs) sent before giving up.
        @param jitter: the most seconds a retransmission is moved by.
        """
        self.chaddr = chaddr
        self._send = send
        self.clock = clock
        self.conflictCheck = conflictCheck
        self.configure = configure
        self.deconfigure = deconfigure
        self.via = via
        self.serverPort = serverPort
        self.maxAttempts = maxAttempts
        self.random = randomness if randomness is not None else random.Random()
        self.jitter = jitter
        self.state = INIT
        self.lease: ClientLease | None = None
        self.history: list[str] = []
        self.onBound: list[Callable[[ClientLease], None]] = []
        self._xid = 0
        self._attempts = 0
        self._offer: Packet | None = None
        self._requestSent = 0.0
        self._retry: IDelayedCall | None = None
        self._timers: list[IDelayedCall] = []
        self._waiting: list[defer.Deferred[ClientLease]] = []

    # -- the public API -------------------------------------------------------

    def obtain(self) -> defer.Deferred[ClientLease]:
        """
        Get a lease: start from INIT unless one is held or being sought.

        @return: a Deferred that fires with the lease once BOUND, or fails
            with L{DHCPClientError} when no server gives one.
        """
        d: defer.Deferred[ClientLease] = defer.Deferred()
        if self.state == BOUND and self.lease is not None:
            d.callback(self.lease)
            return d
        self._waiting.append(d)
        if self.state in (INIT, RELEASED):
            self._startDiscovery()
        return d

    def release(self) -> defer.Deferred[None]:
        """
        Give the lease back (RFC 2131 section 4.4.6): DHCPRELEASE unicast to
        the server, then the address is removed.  Timers stop.
        """
        self._cancelAll()
        lease = self.lease
        self._enter(RELEASED)
        if lease is None:
            return defer.succeed(None)
        self.lease = None
        packet = self._packet(MessageType.RELEASE, ciaddr=lease.address, broadcast=False)
        packet = packet.withOption(Option.SERVER_IDENTIFIER, addressesValue([lease.server]))
        self._transmit(packet, *self._unicastTo(lease.server))
        return self._runHook(self.deconfigure, lease)

    def stop(self) -> None:
        """
        Stop every timer without telling anybody (the program is ending).
        """
        self._cancelAll()

    # -- sending ---------------------------------------------------------------

    def _enter(self, state: str, why: str = "") -> None:
        self.state = state
        self.history.append(f"{state}{': ' + why if why else ''}")
        log.info("DHCP client {state} {why}", state=state, why=why)

    def _packet(
        self,
        kind: MessageType,
        ciaddr: str = ZERO,
        broadcast: bool = True,
        options: tuple[tuple[int, bytes], ...] = (),
    ) -> Packet:
        base: tuple[tuple[int, bytes], ...] = (
            (Option.MESSAGE_TYPE, bytes([kind])),
            (Option.CLIENT_IDENTIFIER, bytes([1]) + self.chaddr),
        )
        if kind in (MessageType.DISCOVER, MessageType.REQUEST, MessageType.INFORM):
            base += ((Option.PARAMETER_REQUEST_LIST, PARAMETERS),)
        return Packet(
            op=BOOTREQUEST,
            xid=self._xid,
            chaddr=self.chaddr,
            flags=BROADCAST_FLAG if broadcast else 0,
            ciaddr=ciaddr,
            options=base + options,
        )

    def _broadcastTo(self) -> tuple[str, int]:
        return self.via if self.via is not None else (BROADCAST, self.serverPort)

    def _unicastTo(self, server: str) -> tuple[str, int]:
        return self.via if self.via is not None else (server, self.serverPort)

    def _transmit(self, packet: Packet, host: str, port: int) -> None:
        try:
            self._send(packet, host, port)
        except OSError as e:
            log.info("cannot send to {host}: {error}", host=host, error=e)

    def _later(self, delay: float, what: Callable[[], None]) -> IDelayedCall:
        call = self.clock.callLater(max(delay, 0.0), what)
        self._timers.append(call)
        return call

    def _cancelRetry(self) -> None:
        if self._retry is not None and self._retry.active():
            self._retry.cancel()
        self._retry = None

    def _cancelAll(self) -> None:
        for call in self._timers:
            if call.active():
                call.cancel()
        self._timers = []
        self._retry = None

    def _backoff(self) -> float:
        base = RETRANSMIT[min(self._attempts - 1, len(RETRANSMIT) - 1)]
        return base + self.random.uniform(-self.jitter, self.jitter)

    # -- INIT, SELECTING, REQUESTING ---------------------------------------------

    def _startDiscovery(self) -> None:
        self._cancelAll()
        self._xid = self.random.getrandbits(32)
        self._attempts = 0
        self._offer = None
        self._enter(SELECTING, "DHCPDISCOVER broadcast")
        self._sendDiscover()

    def _sendDiscover(self) -> None:
        if self.state != SELECTING:
            return
        self._attempts += 1
        if self._attempts > self.maxAttempts:
            self._giveUp(f"no DHCPOFFER after {self.maxAttempts} DHCPDISCOVERs")
            return
        # The retry is set before sending: an answer may come back at once.
        self._retry = self._later(self._backoff(), self._sendDiscover)
        self._transmit(self._packet(MessageType.DISCOVER), *self._broadcastTo())

    def _giveUp(self, reason: str) -> None:
        self._cancelAll()
        self._enter(INIT, reason)
        waiting, self._waiting = self._waiting, []
        for d in waiting:
            d.errback(DHCPClientError(reason))

    def _selectingRequest(self, offer: Packet) -> Packet:
        return self._packet(
            MessageType.REQUEST,
            options=(
                (Option.REQUESTED_ADDRESS, addressesValue([offer.yiaddr])),
                (Option.SERVER_IDENTIFIER, addressesValue([offer.serverIdentifier or ZERO])),
            ),
        )

    def _sendRequest(self) -> None:
        if self.state != REQUESTING or self._offer is None:
            return
        self._attempts += 1
        if self._attempts > self.maxAttempts:
            self._enter(INIT, "no DHCPACK: starting again")
            self._startDiscovery()
            return
        self._requestSent = self.clock.seconds()
        self._retry = self._later(self._backoff(), self._sendRequest)
        self._transmit(self._selectingRequest(self._offer), *self._broadcastTo())

    # -- receiving ---------------------------------------------------------------

    def packetReceived(self, packet: Packet) -> None:
        """
        A reply arrived: act on it if it is for this client's transaction.
        """
        if packet.op != BOOTREPLY or packet.xid != self._xid or packet.chaddr != self.chaddr:
            return
        kind = packet.messageType
        if kind == MessageType.OFFER and self.state == SELECTING:
            if packet.serverIdentifier is None or packet.yiaddr == ZERO:
                return
            # The first acceptable offer is taken (section 4.4.1 lets the
            # client choose; waiting for more only slows it down).
            self._cancelRetry()
            self._offer = packet
            self._attempts = 0
            self._enter(
                REQUESTING,
                f"DHCPOFFER of {packet.yiaddr} from {packet.serverIdentifier}; DHCPREQUEST",
            )
            self._sendRequest()
        elif kind == MessageType.ACK and self.state in (REQUESTING, RENEWING, REBINDING):
            if packet.yiaddr == ZERO:
                return
            self._cancelRetry()
            if self.state == REQUESTING:
                self._checkThenBind(packet)
            else:
                self._bind(packet, f"DHCPACK: lease of {packet.yiaddr} extended")
        elif kind == MessageType.NAK and self.state in (REQUESTING, RENEWING, REBINDING):
            self._cancelAll()
            lease, self.lease = self.lease, None
            reason = packet.option(Option.MESSAGE)
            self._enter(
                INIT, "DHCPNAK" + (f" ({reason.decode('ascii', 'replace')})" if reason else "")
            )
            d = self._runHook(self.deconfigure, lease) if lease else defer.succeed(None)
            d.addCallback(lambda _: self._startDiscovery())

    def _checkThenBind(self, ack: Packet) -> None:
        address = ack.yiaddr
        check = (
            self.conflictCheck(address) if self.conflictCheck is not None else defer.succeed(False)
        )

        def checked(inUse: bool) -> None:
            if self.state != REQUESTING or self._offer is None:
                return
            if inUse:
                self._decline(ack)
            else:
                self._bind(ack, f"DHCPACK: {address} is free; BOUND")

        def failed(failure: Any) -> None:
            log.failure("conflict check failed; using the address", failure)
            checked(False)

        check.addCallbacks(checked, failed)

    def _decline(self, ack: Packet) -> None:
        """
        The acknowledged address is in use: DHCPDECLINE it (RFC 2131 section
        4.4.1) and start again after L{DECLINE_WAIT} seconds.
        """
        decline = self._packet(
            MessageType.DECLINE,
            options=(
                (Option.REQUESTED_ADDRESS, addressesValue([ack.yiaddr])),
                (Option.SERVER_IDENTIFIER, addressesValue([ack.serverIdentifier or ZERO])),
            ),
        )
        self._transmit(decline, *self._broadcastTo())
        self._cancelAll()
        self._enter(INIT, f"{ack.yiaddr} is in use: DHCPDECLINE")
        self._later(DECLINE_WAIT, self._startDiscovery)

    def _bind(self, ack: Packet, why: str) -> None:
        previous = self.lease
        lease = ClientLease.fromAck(ack, self._requestSent)
        self.lease = lease
        self._cancelAll()
        self._enter(BOUND, why)
        now = self.clock.seconds()
        self._later(lease.start + lease.renewalTime - now, self._renew)
        self._later(lease.start + lease.rebindingTime - now, self._rebind)
        self._later(lease.start + lease.leaseTime - now, self._expire)
        if previous is not None and previous.address == lease.address:
            d: defer.Deferred[Any] = defer.succeed(None)
        else:
            if previous is not None:
                self._runHook(self.deconfigure, previous)
            d = self._runHook(self.configure, lease)

        def announce(_: object) -> None:
            for callback in list(self.onBound):
                callback(lease)
            waiting, self._waiting = self._waiting, []
            for w in waiting:
                w.callback(lease)

        d.addCallback(announce)

    def _runHook(self, hook: Hook | None, lease: ClientLease) -> defer.Deferred[None]:
        if hook is None:
            return defer.succeed(None)
        d = defer.maybeDeferred(hook, lease)

        def failed(failure: Any) -> None:
            log.failure("configuring the interface failed", failure)

        return d.addCallbacks(lambda _: None, failed)

    # -- BOUND, RENEWING, REBINDING -------------------------------------------

    def _renewalRequest(self, lease: ClientLease, broadcast: bool) -> Packet:
        # Section 4.3.2: ciaddr set, no server identifier, no requested
        # address.  The broadcast bit stays clear: the client has an address.
        return self._packet(MessageType.REQUEST, ciaddr=lease.address, broadcast=False)

    def _renew(self) -> None:
        """
        T1: ask the server that gave the lease, by unicast, to extend it.
        """
        if self.lease is None:
            return
        self._xid = self.random.getrandbits(32)
        self._enter(RENEWING, f"T1: DHCPREQUEST unicast to {self.lease.server}")
        self._sendRenewal()

    def _sendRenewal(self) -> None:
        lease = self.lease
        if lease is None or self.state != RENEWING:
            return
        self._requestSent = self.clock.seconds()
        left = lease.start + lease.rebindingTime - self.clock.seconds()
        wait = max(left / 2, MIN_RENEW_WAIT)
        if wait < left:
            self._retry = self._later(wait, self._sendRenewal)
        self._transmit(self._renewalRequest(lease, False), *self._unicastTo(lease.server))

    def _rebind(self) -> None:
        """
        T2: the server did not answer; ask any server, by broadcast.
        """
        if self.lease is None:
            return
        self._cancelRetry()
        self._enter(REBINDING, "T2: DHCPREQUEST broadcast")
        self._sendRebinding()

    def _sendRebinding(self) -> None:
        lease = self.lease
        if lease is None or self.state != REBINDING:
            return
        self._requestSent = self.clock.seconds()
        left = lease.start + lease.leaseTime - self.clock.seconds()
        wait = max(left / 2, MIN_RENEW_WAIT)
        if wait < left:
            self._retry = self._later(wait, self._sendRebinding)
        self._transmit(self._renewalRequest(lease, True), *self._broadcastTo())

    def _expire(self) -> None:
        """
        The lease ran out: stop using the address, start again.
        """
        lease, self.lease = self.lease, None
        self._cancelAll()
        self._enter(INIT, "lease expired: address removed")
        d = self._runHook(self.deconfigure, lease) if lease else defer.succeed(None)
        d.addCallback(lambda _: self._startDiscovery())


class DHCPClientProtocol(DatagramProtocol):
    """
    The client's socket: datagrams to L{DHCPClient.packetReceived}, and
    L{DHCPClient}'s packets to the wire.
    """

    transport: IUDPTransport

    def __init__(self) -> None:
        self.client: DHCPClient | None = None
        self.transcript = Transcript()

    def send(self, packet: Packet, host: str, port: int) -> None:
        """
        Send C{packet} to C{(host, port)}: what L{DHCPClient} is given.
        """
        if self.transcript.enabled:
            self.transcript.client(f"{packet.summary()} -> {host}:{port}")
        self.transport.write(encodePacket(packet), (host, port))

    def datagramReceived(self, datagram: bytes, addr: Any) -> None:
        try:
            packet = decodePacket(datagram)
        except WireError as e:
            log.info("dropped a malformed datagram: {error}", error=str(e))
            return
        if packet.op != BOOTREPLY:
            return
        if self.transcript.enabled:
            self.transcript.server(f"{addr[0]}:{addr[1]} {packet.summary()}")
        if self.client is not None:
            self.client.packetReceived(packet)


# -- configuring the interface, checking for conflicts ---------------------------


def _ip() -> str:
    return shutil.which("ip") or shutil.which("ip", path="/usr/sbin:/sbin") or "ip"


def ipCommandHooks(interface: str) -> tuple[Hook, Hook]:
    """
    Hooks that put a lease's address on C{interface} with C{ip addr add}
    (and a default route via its first router), and take it off with C{ip
    addr del}.
    """

    def run(*arguments: str) -> defer.Deferred[Any]:
        return utils.getProcessOutputAndValue(_ip(), arguments, env=dict(os.environ))

    def configure(lease: ClientLease) -> defer.Deferred[Any]:
        cidr = f"{lease.address}/{lease.prefixLength}"
        d = run("addr", "replace", cidr, "dev", interface)
        if lease.routers:
            d.addCallback(
                lambda _: run(
                    "route", "replace", "default", "via", lease.routers[0], "dev", interface
                )
            )
        return d

    def deconfigure(lease: ClientLease) -> defer.Deferred[Any]:
        return run("addr", "del", f"{lease.address}/{lease.prefixLength}", "dev", interface)

    return configure, deconfigure


def arpingCheck(interface: str) -> ConflictCheck | None:
    """
    A conflict check by ARP probe (RFC 5227 section 2.1.1: an ARP request
    from 0.0.0.0), with the C{arping} program on C{interface}; L{None} when
    C{arping} is not installed.  Both C{arping}s are understood: iputils'
    (C{-D}: exit 0 when the address is free) and Thomas Habets'
    (C{-0}: exit 0 when somebody answered).
    """
    program = shutil.which("arping") or shutil.which("arping", path="/usr/sbin:/sbin")
    if program is None:
        return None
    probe = subprocess.run([program, "--help"], capture_output=True, text=True, check=False)
    habets = "Habets" in probe.stdout + probe.stderr

    def check(address: str) -> defer.Deferred[bool]:
        if habets:
            arguments = ("-q", "-0", "-i", interface, "-c", "2", "-w", "2", address)
        else:
            arguments = ("-q", "-D", "-I", interface, "-c", "2", "-w", "2", address)
        d = utils.getProcessValue(program, arguments, env=dict(os.environ))
        return d.addCallback(lambda code: code == 0 if habets else code != 0)

    return check


def pingCheck(address: str) -> defer.Deferred[bool]:
    """
    A conflict check by ICMP echo: one ping, one second.  What a server
    does before an offer (RFC 2131 section 4.4.1: "the server SHOULD probe
    the reused address ... with an ICMP Echo Request"), and the client's
    fallback when there is no C{arping}.  Fires with whether the address
    answered.
    """
    program = shutil.which("ping") or shutil.which("ping", path="/usr/bin:/bin") or "ping"
    d = utils.getProcessValue(program, ("-c", "1", "-W", "1", address), env=dict(os.environ))
    return d.addCallback(lambda code: code == 0)


# -- the netref dhcp tool --------------------------------------------------------


class Options(usage.Options):
    """
    Options of C{netref dhcp}.
    """

    synopsis = "(--interface IF | --relay ADDR:PORT) [--release] [--hold] [--trace]"
    longdesc = (
        "Get a lease from a DHCP server (RFC 2131) and print it. "
        "--interface IF runs the client on that interface (UDP port 68, needs root), "
        "checks the address with an ARP probe, and configures it with 'ip addr add'. "
        "--relay ADDR:PORT sends every message to a relay agent (the lab, on loopback) "
        "and configures nothing. --release gives the lease back at once; --hold keeps it, "
        "renewing at T1 and rebinding at T2, until interrupted."
    )
    optFlags = [
        ["release", None, "Release the lease after printing it."],
        ["hold", None, "Keep the lease (renew, rebind) until interrupted; then release it."],
        ["no-configure", None, "Do not put the address on the interface."],
        ["no-check", None, "Do not probe the offered address with ARP."],
        ["trace", None, "Print every message sent and received."],
    ]
    optParameters = [
        ["interface", "i", None, "The interface to configure."],
        ["relay", None, None, "ADDR:PORT of a relay agent to send everything to (lab)."],
        ["mac", None, None, "The hardware address to use (default: the interface's)."],
        ["attempts", None, 4, "DHCPDISCOVERs before giving up.", int],
    ]

    def postOptions(self) -> None:
        if (self["interface"] is None) == (self["relay"] is None):
            raise usage.UsageError("give --interface IF or --relay ADDR:PORT")
        if self["relay"] is not None:
            host, sep, port = self["relay"].rpartition(":")
            try:
                self["relayAddress"] = (str(ipaddress.IPv4Address(host)), int(port))
            except ValueError:
                raise usage.UsageError(f"--relay wants ADDR:PORT, not {self['relay']!r}") from None
            if not sep:
                raise usage.UsageError("--relay wants ADDR:PORT")
        if self["mac"] is not None:
            from netref.dhcp.server import normalizeMAC

            try:
                self["mac"] = bytes.fromhex(normalizeMAC(self["mac"]).replace(":", ""))
            except ValueError as e:
                raise usage.UsageError(str(e)) from None
        if self["attempts"] < 1:
            raise usage.UsageError("--attempts must be at least 1")


async def _runTool(reactor: Any, options: Options) -> None:
    from netref.core.cli import ToolError
    from netref.core.trace import setTracing, startPrintingTranscripts
    from netref.dhcp import netif

    if options["trace"]:
        setTracing(True)
        startPrintingTranscripts(sys.stdout)
    protocol = DHCPClientProtocol()
    interface = options["interface"]
    chaddr: bytes | None = options["mac"]
    configure = deconfigure = None
    check = None
    try:
        if interface is not None:
            if chaddr is None:
                chaddr = netif.hardwareAddress(interface)
            port = netif.listenOnInterface(reactor, interface, CLIENT_PORT, protocol)
            if not options["no-configure"]:
                configure, deconfigure = ipCommandHooks(interface)
            if not options["no-check"]:
                check = arpingCheck(interface) or pingCheck
        else:
            if chaddr is None:
                chaddr = bytes([0x02]) + os.urandom(5)
            port = reactor.listenUDP(0, protocol, interface="127.0.0.1")
    except OSError as e:
        raise ToolError(f"cannot open the client's socket: {e}") from None
    client = DHCPClient(
        chaddr,
        protocol.send,
        reactor,
        conflictCheck=check,
        configure=configure,
        deconfigure=deconfigure,
        via=options.get("relayAddress"),
        maxAttempts=options["attempts"],
    )
    protocol.client = client
    try:
        try:
            lease = await client.obtain()
        except DHCPClientError as e:
            raise ToolError(str(e)) from None
        print(f"lease {lease.describe()}", flush=True)
        if options["hold"]:
            client.onBound.append(lambda held: print(f"bound {held.describe()}", flush=True))

            def releaseAtShutdown() -> defer.Deferred[None]:
                held = client.lease
                d = client.release()
                if held is not None:
                    d.addCallback(lambda _: print(f"released {held.address}", flush=True))
                return d

            reactor.addSystemEventTrigger("before", "shutdown", releaseAtShutdown)
            # Until interrupted: the trigger releases the lease on the way out.
            await defer.Deferred()
        elif options["release"]:
            await client.release()
            print(f"released {lease.address}", flush=True)
    finally:
        client.stop()
        await defer.maybeDeferred(port.stopListening)


def run(reactor: Any, options: Options) -> defer.Deferred[None]:
    """
    Run C{netref dhcp}: fires when the lease is printed (and released, if
    asked), or fails with L{netref.core.cli.ToolError}.
    """
    return defer.ensureDeferred(_runTool(reactor, options))
