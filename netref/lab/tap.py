"""
C{twistd netref-lab}: the textbook's little Internet on loopback.
"""

from __future__ import annotations

import sys

from twisted.application.service import IService
from twisted.python import usage

from netref.core.service import BaseServiceOptions, startTracingIfAsked
from netref.lab.lab import Lab, LabService, choosePorts


class Options(BaseServiceOptions):
    """
    Options of C{twistd netref-lab}.  Every host's address comes from the
    lab's own table (L{netref.lab.hosts}), so there is no C{--listen}.
    """

    synopsis = "[--ports auto|default|well-known] [--trace] [--state DIR]"
    longdesc = (
        "Start the textbook's little Internet on loopback: every host gets its own "
        "127.x.y.z address and runs its services on the same port as the others. "
        "A map of hosts, addresses and commands to try is printed at start-up."
    )
    optParameters = [
        [
            "ports",
            None,
            "auto",
            "Which ports every host uses: 'default' (netref's unprivileged defaults), "
            "'well-known' (25, 53, 80, ...; needs root) or 'auto' (well-known when root).",
        ],
    ]

    def postOptions(self) -> None:
        try:
            self["ports"] = choosePorts(self["ports"])
        except ValueError as e:
            raise usage.UsageError(str(e)) from None


def makeService(options: Options) -> IService:
    """
    @return: the lab's services, which print its map when started.
    """
    startTracingIfAsked(options)
    return LabService(Lab(ports=options["ports"], stateDirectory=options["state"]), out=sys.stdout)
