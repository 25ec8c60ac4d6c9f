"""
The hosts of the textbook's little Internet.

Adding a host to the lab is adding one L{LabHost} line to L{HOSTS}: its
hostname as the textbook spells it, an address of its own in 127.2.0.0/16,
and the kinds of service it runs (names from L{netref.lab.kinds.KINDS}).
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
    """

    name: str
    address: str
    services: tuple[str, ...]
    role: str


#: The lab today.  Later protocols add their hosts here (www.someschool.edu
#: for HTTP, mail.crepes.fr and mail.hamburger.edu for mail, the DNS
#: hierarchy, ...).
HOSTS: tuple[LabHost, ...] = (
    LabHost(
        "gaia.cs.umass.edu",
        "127.2.0.10",
        ("upper",),
        "the server of the socket-programming section (2.7)",
    ),
)
