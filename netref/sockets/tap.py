"""
C{twistd netref-upper}: the textbook's TCP and UDP uppercase servers.

By default both listen on port 12000 of 127.0.0.1, the textbook's
C{serverPort}::

    twistd -n netref-upper
    twistd -n netref-upper --listen tcp:12000:interface=0.0.0.0 --listen udp:12000
"""

from __future__ import annotations

from twisted.application.service import IService, MultiService

from netref.core.service import (
    ServiceOptions,
    hostServices,
    listenOn,
    startTracingIfAsked,
)
from netref.sockets.server import UpperTCPFactory, UpperUDPProtocol
from netref.sockets.wire import MAX_DATAGRAM, MAX_SENTENCE, SERVER_PORT


class Options(ServiceOptions):
    """
    Options of C{twistd netref-upper}.
    """

    synopsis = "[--listen DESCRIPTION ...] [--trace]"
    longdesc = (
        "The textbook's uppercase servers (section 2.7): every sentence sent over "
        "TCP and every datagram sent over UDP comes back in upper case. "
        f"Listens on TCP and UDP port {SERVER_PORT} of 127.0.0.1 unless --listen "
        "is given (tcp:PORT[:interface=ADDR] or any stream endpoint, "
        "udp:PORT[:interface=ADDR]). "
        f"Limits: a TCP sentence (up to a newline) of {MAX_SENTENCE} bytes, "
        f"a UDP datagram of {MAX_DATAGRAM} bytes."
    )

    defaultListen = (
        f"tcp:{SERVER_PORT}:interface=127.0.0.1",
        f"udp:{SERVER_PORT}:interface=127.0.0.1",
    )


def makeService(options: Options) -> MultiService:
    """
    @return: one listening service per C{--listen} description.
    """
    top = listenOn(options.listenDescriptions(), UpperTCPFactory(), UpperUDPProtocol)
    startTracingIfAsked(options)
    return top


def makeUpperServices(interface: str, port: int = SERVER_PORT) -> list[IService]:
    """
    The uppercase servers of one host, for the lab (or any program that
    composes services).

    @param interface: the IPv4 or IPv6 address to listen on.
    @param port: the TCP and UDP port (the textbook's by default).
    @return: a TCP and a UDP service, not yet started nor given a parent.
    """
    stream, datagram = hostServices(interface, port, UpperTCPFactory(), UpperUDPProtocol)
    return [stream, datagram]
