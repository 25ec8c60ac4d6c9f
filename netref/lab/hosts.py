"""
The hosts of the textbook's little Internet.

Adding a host to the lab is adding one L{LabHost} line to L{HOSTS}: its
hostname as the textbook spells it, an address of its own in 127.2.0.0/16,
and the kinds of service it runs (names from L{netref.lab.kinds.KINDS}).

The addresses follow a plan, so that a reader can tell a host's part from
its address:

  - 127.2.0.x: the socket-programming servers;
  - 127.2.1.x: the root and top-level-domain DNS servers;
  - 127.2.2.x: the authoritative DNS servers of the textbook's domains;
  - 127.2.3.x: the end hosts those domains name (www.someschool.edu,
    mail.crepes.fr, ...);
  - 127.2.4.x: the school network's own machinery: its DHCP server and the
    router that relays DHCP to it.

A DNS server's zones are files in C{netref/lab/zones/}; the names and
addresses in them must agree with this table, and a test checks that they do.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LabHost:
    """
    One host of the lab.

    @ivar name: the hostname, as in the textbook.
    @ivar address: its own loopback address; every service of the host binds it.
    @ivar services: the kinds of service it runs, by name.
    @ivar role: a few words on the host's part in the textbook's story.
    @ivar zones: for a DNS server, the zone files it is authoritative for
        (file names in C{netref/lab/zones/}).
    @ivar users: for a host that logs people in (mail, FTP), its accounts
        as C{NAME:PASSWORD}.  The lab is for learning on loopback: its
        passwords are printed in its map.
    """

    name: str
    address: str
    services: tuple[str, ...]
    role: str
    zones: tuple[str, ...] = ()
    users: tuple[str, ...] = ()


def _dns(name: str, address: str, role: str, *zones: str) -> LabHost:
    return LabHost(name, address, ("dns",), role, zones)


#: The lab today.
HOSTS: tuple[LabHost, ...] = (
    LabHost(
        "gaia.cs.umass.edu",
        "127.2.0.10",
        ("upper",),
        "the server of the socket-programming section (2.7)",
    ),
    # The DNS hierarchy of section 2.4.2: root, top-level-domain and
    # authoritative servers.
    _dns("a.root-servers.net", "127.2.1.1", "root DNS server", "root.zone"),
    _dns("a.edu-servers.net", "127.2.1.2", "TLD server for edu", "edu.zone"),
    _dns("a.gtld-servers.net", "127.2.1.3", "TLD server for com", "com.zone"),
    _dns("d.nic.fr", "127.2.1.4", "TLD server for fr", "fr.zone"),
    _dns("dns.umass.edu", "127.2.2.1", "authoritative for umass.edu", "umass.edu.zone"),
    _dns("dns.nyu.edu", "127.2.2.2", "authoritative for nyu.edu", "nyu.edu.zone"),
    _dns(
        "dns.someschool.edu",
        "127.2.2.3",
        "authoritative for someschool.edu",
        "someschool.edu.zone",
    ),
    _dns(
        "dns1.networkutopia.com",
        "127.2.2.4",
        "authoritative for networkutopia.com",
        "networkutopia.com.zone",
    ),
    _dns("dns.amazon.com", "127.2.2.5", "authoritative for amazon.com", "amazon.com.zone"),
    _dns("dns.crepes.fr", "127.2.2.6", "authoritative for crepes.fr", "crepes.fr.zone"),
    _dns(
        "dns.hamburger.edu",
        "127.2.2.7",
        "authoritative for hamburger.edu",
        "hamburger.edu.zone",
    ),
    _dns(
        "dns.enterprise.com",
        "127.2.2.8",
        "authoritative for enterprise.com",
        "enterprise.com.zone",
    ),
    # The Web (section 2.2) and FTP: the school's servers.
    LabHost(
        "www.someschool.edu",
        "127.2.3.1",
        ("http",),
        "the textbook's Web server: a base HTML file and 10 JPEG images",
    ),
    LabHost(
        "ftp.someschool.edu",
        "127.2.3.5",
        ("ftp",),
        "the school's FTP server; anonymous users read pub/",
        users=("alice:wonderland",),
    ),
    # Electronic mail (section 2.3): Alice's mail server and Bob's.
    LabHost(
        "mail.crepes.fr",
        "127.2.3.2",
        ("mail",),
        "Alice's mail server (alice@crepes.fr)",
        users=("alice:wonderland",),
    ),
    LabHost(
        "mail.hamburger.edu",
        "127.2.3.3",
        ("mail",),
        "Bob's mail server (bob@hamburger.edu)",
        users=("bob:ketchup",),
    ),
    # DHCP (section 4 of the notes): on loopback there is no broadcast, so
    # the lab's clients reach the server through the router's relay agent.
    LabHost("dhcp.someschool.edu", "127.2.4.1", ("dhcp",), "the school network's DHCP server"),
    LabHost(
        "router.someschool.edu",
        "127.2.4.2",
        ("dhcp-relay",),
        "the school network's router: a DHCP relay agent",
    ),
)
