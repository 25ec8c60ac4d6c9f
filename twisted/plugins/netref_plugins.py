"""
twistd plugins for every netref service.

This directory must not have an C{__init__.py}: C{twisted.plugins} is a
namespace that Twisted extends with every C{twisted/plugins} directory on
C{sys.path}.  Each L{ServiceMaker} names its C{tap} module lazily, so
C{twistd --help} does not import every protocol.
"""

from twisted.application.service import ServiceMaker

netrefUpper = ServiceMaker(
    "netref uppercase servers",
    "netref.sockets.tap",
    "The textbook's TCP and UDP uppercase servers (section 2.7), port 12000.",
    "netref-upper",
)

netrefLink = ServiceMaker(
    "netref link emulator",
    "netref.core.linktap",
    "A TCP relay that adds round-trip time and a bandwidth bottleneck.",
    "netref-link",
)

netrefLab = ServiceMaker(
    "netref lab",
    "netref.lab.tap",
    "The textbook's little Internet on loopback, every host with its own address.",
    "netref-lab",
)

netrefDNS = ServiceMaker(
    "netref DNS server",
    "netref.dns.tap",
    "An authoritative DNS server for zone files, UDP and TCP (RFC 7766), port 10053.",
    "netref-dns",
)
