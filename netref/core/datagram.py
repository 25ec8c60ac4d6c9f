"""
Working around how Twisted's reactors report ICMP errors on UDP.

A UDP client that C{connect()}s its port learns of an ICMP "port
unreachable" (RFC 792, RFC 1122 section 4.1.3.3) as ECONNREFUSED on its
socket.  Twisted's select reactor then calls the protocol's
C{connectionRefused}; the poll and epoll reactors instead close the port,
calling only C{stopProtocol} (Twisted issues #6467 and #5377).  Every netref
UDP client reads the error the closed port's socket still holds, with
L{pendingError}, to tell "nobody listens there" from a port it stopped
itself.
"""

from __future__ import annotations

import errno
import socket


def pendingError(port: object) -> int:
    """
    The error a connected UDP port's socket holds, as an C{errno} number.

    Call it from C{stopProtocol} when the protocol did not stop the port
    itself.

    @param port: the Twisted UDP port (its C{socket} attribute is read, if
        it has one).
    @return: the socket's C{SO_ERROR}; C{ECONNREFUSED} when it holds none
        or cannot be read, as a reactor closes a port unasked only on an ICMP
        error, and "port unreachable" is by far the likeliest.
    """
    sock = getattr(port, "socket", None)
    code = 0
    if sock is not None:
        try:
            code = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        except OSError:
            pass
    return code or errno.ECONNREFUSED
