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

netrefMail = ServiceMaker(
    "netref mail server",
    "netref.mail.tap",
    "A mail server: SMTP 2525, submission 2587, SMTPS 2465, Maildirs, an outgoing queue.",
    "netref-mail",
)

netrefDHCP = ServiceMaker(
    "netref DHCP server",
    "netref.dhcp.tap",
    "A DHCP server (RFC 2131) on UDP 67 of each --interface, leases kept durably.",
    "netref-dhcp",
)

netrefDHCPRelay = ServiceMaker(
    "netref DHCP relay agent",
    "netref.dhcp.relaytap",
    "A DHCP relay agent (RFC 1542, RFC 3046 option 82) for the clients of --interface.",
    "netref-dhcp-relay",
)

netrefHTTP = ServiceMaker(
    "netref HTTP server",
    "netref.http.tap",
    "An HTTP/1.1 server for a directory (RFC 9110, RFC 9112), port 8080 (HTTPS 8443).",
    "netref-http",
)

netrefFTP = ServiceMaker(
    "netref FTP server",
    "netref.ftp.tap",
    "An FTP server for a directory: active and passive mode, AUTH TLS (RFC 959, 4217), port 2121.",
    "netref-ftp",
)
