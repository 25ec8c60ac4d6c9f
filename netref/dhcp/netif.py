"""
Per-interface UDP sockets, for DHCP's broadcasts.

A DHCP server must know which network a broadcast DHCPDISCOVER came from
(RFC 2131 section 4.3.1: "the server ... determines the subnet from which
the message was received"), but a socket bound to C{0.0.0.0:67} receives
the broadcasts of every interface and Twisted's C{datagramReceived} does not
say which one.  The Linux answer is one socket per interface, each bound to
its device with C{SO_BINDTODEVICE}: a datagram read from it came in on that
device, and a broadcast written to it goes out on that device.  Each socket
also gets C{SO_BROADCAST} (to send to 255.255.255.255) and C{SO_REUSEADDR}
(several sockets share port 67), is bound to C{0.0.0.0} (a broadcast's
destination is no interface's address), and is handed to the reactor with
C{adoptDatagramPort}.

A client uses the same socket on port 68: bound to its device it can send
from C{0.0.0.0} before it has an address, and receive the broadcast replies.

Binding to a device and to ports below 1024 needs root (or
C{CAP_NET_RAW} and C{CAP_NET_BIND_SERVICE}).
"""

from __future__ import annotations

import fcntl
import ipaddress
import socket
import struct
from typing import Any

from twisted.internet.interfaces import IListeningPort, IReactorSocket
from twisted.internet.protocol import DatagramProtocol

__all__ = ["interfaceAddress", "listenOnInterface", "openInterfaceSocket"]

# From <linux/sockios.h>.
_SIOCGIFADDR = 0x8915
_SIOCGIFNETMASK = 0x891B
_SIOCGIFHWADDR = 0x8927


def _ifreq(name: str) -> bytes:
    return struct.pack("256s", name.encode("ascii")[:15])


def interfaceAddress(name: str) -> ipaddress.IPv4Interface | None:
    """
    The IPv4 address and prefix of interface C{name} (its first address).

    @return: the address with its network, or L{None} when the interface
        has no IPv4 address.
    @raise OSError: if there is no such interface.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            address = fcntl.ioctl(s.fileno(), _SIOCGIFADDR, _ifreq(name))[20:24]
            mask = fcntl.ioctl(s.fileno(), _SIOCGIFNETMASK, _ifreq(name))[20:24]
        except OSError as e:
            if e.errno == 99:  # EADDRNOTAVAIL: the interface has no address.
                return None
            raise
    return ipaddress.IPv4Interface(f"{socket.inet_ntoa(address)}/{socket.inet_ntoa(mask)}")


def hardwareAddress(name: str) -> bytes:
    """
    @return: the hardware (MAC) address of interface C{name}.
    @raise OSError: if there is no such interface.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        info = fcntl.ioctl(s.fileno(), _SIOCGIFHWADDR, _ifreq(name))
    return info[18:24]


#: The receive buffer asked for: DHCP traffic comes in bursts (a building
#: powering up at once), and a burst larger than the kernel's default
#: buffer (about 200 KiB, some 250 requests) is lost while the server is
#: busy.  4 MiB holds several thousand requests.
RECEIVE_BUFFER = 4 * 1024 * 1024


def _enlargeReceiveBuffer(sock: socket.socket) -> None:
    """
    Ask for L{RECEIVE_BUFFER} octets of receive buffer: with
    C{SO_RCVBUFFORCE} as root (past C{net.core.rmem_max}), else as much as
    C{SO_RCVBUF} allows.
    """
    force = getattr(socket, "SO_RCVBUFFORCE", None)
    try:
        if force is not None:
            sock.setsockopt(socket.SOL_SOCKET, force, RECEIVE_BUFFER)
            return
    except OSError:
        pass
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER)
    except OSError:
        pass


def openInterfaceSocket(name: str, port: int) -> socket.socket:
    """
    A non-blocking UDP socket on C{0.0.0.0:port} that sees only interface
    C{name}'s traffic and may broadcast, with a large receive buffer.

    @raise OSError: without the privilege, or for an unknown interface.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        _enlargeReceiveBuffer(sock)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, name.encode("ascii") + b"\0")
        sock.bind(("0.0.0.0", port))
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


def openAddressSocket(address: str, port: int) -> socket.socket:
    """
    A non-blocking UDP socket bound to C{address:port} that shares the port
    with per-interface sockets (C{SO_REUSEADDR}): what a relay agent uses to
    talk to servers, whose replies come to its C{giaddr}.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
        sock.bind((address, port))
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


def adopt(reactor: Any, sock: socket.socket, protocol: DatagramProtocol) -> IListeningPort:
    """
    Hand C{sock} to the reactor, which reads it for C{protocol}.  The
    reactor keeps its own copy of the descriptor; C{sock} is closed.
    """
    try:
        port: IListeningPort = IReactorSocket(reactor).adoptDatagramPort(
            sock.fileno(), socket.AF_INET, protocol, 8192
        )
    finally:
        sock.close()
    return port


def listenOnInterface(
    reactor: Any, name: str, port: int, protocol: DatagramProtocol
) -> IListeningPort:
    """
    Listen on UDP C{port} of interface C{name} only (see the module's
    docstring).

    @return: the listening port; C{stopListening} closes it.
    @raise OSError: without the privilege, or for an unknown interface.
    """
    return adopt(reactor, openInterfaceSocket(name, port), protocol)
