"""
C{twistd netref-dns}: an authoritative DNS server for the zones it is given.

By default it listens on UDP and TCP port 10053 of 127.0.0.1 (DNS's
well-known port is 53, which needs root)::

    twistd -n netref-dns --zone example.com.zone --zone example.net.zone
    twistd -n netref-dns --zones netref/lab/zones --trace
    twistd -n netref-dns --zone db.example:example.com \\
        --listen udp:53:interface=0.0.0.0 --listen tcp:53:interface=0.0.0.0

Where a zone's name comes from:

  - C{--zone FILE}: from the file: the owner of its SOA record, which the
    file must then give as an absolute name or after a C{$ORIGIN}.
  - C{--zone FILE:ORIGIN}: ORIGIN is the zone's name, and the origin of the
    file's relative names until a C{$ORIGIN} (for files written for BIND's
    C{zone "example.com" { file "db.example"; };}).  A FILE that exists as
    given, colon and all, is taken whole.
  - C{--zones DIR}: every C{*.zone} file of DIR, as C{--zone FILE} when the
    file names its zone itself, else as C{--zone FILE:NAME} with NAME the
    file's name without C{.zone} (C{root.zone} is the root zone).

A zone file with an error stops the server before it starts, with the file
and line of the error.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from twisted.application.service import IService, MultiService
from twisted.python import usage

from netref.core.service import (
    ServiceOptions,
    hostServices,
    listenOn,
    startTracingIfAsked,
)
from netref.dns.authority import CACHE_BYTES, MAX_UDP_SIZE, Authority, Zone, ZoneError
from netref.dns.name import ROOT, Name, TextError
from netref.dns.server import IDLE_TIMEOUT, MAX_CONNECTIONS, DNSDatagramProtocol, DNSServerFactory
from netref.dns.zonefile import ZoneData, ZoneFileError, loadZoneFile

#: netref's DNS port: unprivileged, unlike the well-known 53.
DNS_PORT = 10053

#: The suffix of zone files C{--zones} reads.
ZONE_SUFFIX = ".zone"


def _originFromText(text: str) -> Name:
    try:
        return Name.fromText(text, ROOT)
    except TextError as e:
        raise usage.UsageError(f"bad zone name {text!r}: {e}") from None


def splitZoneSpec(spec: str) -> tuple[str, Name | None]:
    """
    Read a C{--zone} value: C{FILE} or C{FILE:ORIGIN}.

    @return: the file and the zone's name, L{None} when the file gives it.
    @raise usage.UsageError: if the ORIGIN is not a name.
    """
    if os.path.exists(spec) or ":" not in spec:
        return spec, None
    path, _, origin = spec.rpartition(":")
    if not path or not origin:
        return spec, None
    return path, _originFromText(origin)


def loadZone(path: str, origin: Name | None = None) -> Zone:
    """
    Load one zone file for serving.

    @param origin: the zone's name, or L{None} to take it from the file.
    @raise usage.UsageError: if the file cannot be read or has an error; the
        message names the file and the line.
    """
    try:
        data = loadZoneFile(path, origin)
        return Zone.fromZoneData(data, path)
    except (TextError, ZoneError) as e:
        raise usage.UsageError(str(e)) from None


def loadZoneDirectory(directory: str) -> list[Zone]:
    """
    Load every C{*.zone} file of C{directory}, in the order of their names.

    A file that does not name its zone itself (relative names before any
    C{$ORIGIN}) is for the zone named by its file name without C{.zone};
    C{root.zone} is the root zone.

    @raise usage.UsageError: if the directory cannot be read, has no zone
        file, or a file has an error.
    """
    try:
        names = sorted(
            name
            for name in os.listdir(directory)
            if name.endswith(ZONE_SUFFIX) and len(name) > len(ZONE_SUFFIX)
        )
    except OSError as e:
        raise usage.UsageError(f"cannot read {directory}: {e.strerror or e}") from None
    if not names:
        raise usage.UsageError(f"no *{ZONE_SUFFIX} file in {directory}")
    zones = []
    for name in names:
        path = os.path.join(directory, name)
        stem = name[: -len(ZONE_SUFFIX)]
        try:
            data: ZoneData = loadZoneFile(path)
        except ZoneFileError as first:
            # Perhaps relative names with no origin to be relative to: the
            # file name gives the zone's name.  If that fails too, the error
            # further into the file is the one worth reporting.
            origin = ROOT if stem.lower() == "root" else _originFromText(stem)
            try:
                data = loadZoneFile(path, origin)
            except ZoneFileError as second:
                worse = first if first.lineNumber > second.lineNumber else second
                raise usage.UsageError(str(worse)) from None
        try:
            zones.append(Zone.fromZoneData(data, path))
        except ZoneError as e:
            raise usage.UsageError(str(e)) from None
    return zones


class Options(ServiceOptions):
    """
    Options of C{twistd netref-dns}.
    """

    synopsis = "(--zone FILE[:ORIGIN] ... | --zones DIR) [--listen DESCRIPTION ...] [--trace]"
    longdesc = (
        "An authoritative DNS server (RFC 1034, RFC 1035) for the zones of the given "
        "zone files, over UDP and TCP (RFC 7766). "
        f"Listens on UDP and TCP port {DNS_PORT} of 127.0.0.1 unless --listen is given "
        "(udp:PORT[:interface=ADDR], tcp:PORT[:interface=ADDR]); the well-known port is 53. "
        "--zone FILE takes the zone's name from the file's SOA record, --zone FILE:ORIGIN "
        "gives it; --zones DIR serves every *.zone file of DIR. "
        "--trace prints one line per query and per answer."
    )

    defaultListen = (
        f"udp:{DNS_PORT}:interface=127.0.0.1",
        f"tcp:{DNS_PORT}:interface=127.0.0.1",
    )

    optFlags = [
        [
            "no-rotate",
            None,
            "Keep the zone file's order of multi-address RRsets instead of rotating it "
            "on each answer.",
        ],
    ]
    optParameters: list[list[Any]] = [
        ["zones", None, None, "Serve every *.zone file of this directory."],
        [
            "max-udp-size",
            None,
            MAX_UDP_SIZE,
            "The largest UDP answer, announced in EDNS (512 to 65535).",
            int,
        ],
        [
            "idle-timeout",
            None,
            IDLE_TIMEOUT,
            "Seconds a TCP connection may go without a query (RFC 7766 section 6.2.3).",
            float,
        ],
        [
            "max-connections",
            None,
            MAX_CONNECTIONS,
            "The most TCP connections served at once.",
            int,
        ],
        [
            "answer-cache",
            None,
            CACHE_BYTES,
            "Octets of encoded answers kept for repeated questions; 0 turns the cache off.",
            int,
        ],
    ]

    def __init__(self) -> None:
        super().__init__()
        self["zone"] = []
        self.zones: list[Zone] = []

    def opt_zone(self, spec: str) -> None:
        """
        A zone file to serve, FILE or FILE:ORIGIN.  Repeatable.
        """
        self["zone"].append(spec)

    def postOptions(self) -> None:
        """
        Load every zone, so that an error in one is a usage error before
        anything starts.
        """
        super().postOptions()
        if not self["zone"] and self["zones"] is None:
            raise usage.UsageError("give at least one --zone FILE, or --zones DIR")
        if not 512 <= self["max-udp-size"] <= 65535:
            raise usage.UsageError("--max-udp-size must be from 512 to 65535")
        if self["idle-timeout"] <= 0:
            raise usage.UsageError("--idle-timeout must be positive")
        if self["max-connections"] < 1:
            raise usage.UsageError("--max-connections must be at least 1")
        if self["answer-cache"] < 0:
            raise usage.UsageError("--answer-cache must be 0 or more")
        zones = []
        if self["zones"] is not None:
            zones += loadZoneDirectory(self["zones"])
        for spec in self["zone"]:
            path, origin = splitZoneSpec(spec)
            zones.append(loadZone(path, origin))
        seen: dict[bytes, Zone] = {}
        for zone in zones:
            if zone.origin.key in seen:
                raise usage.UsageError(
                    f"the zone {zone.origin} is given twice: "
                    f"{seen[zone.origin.key].source} and {zone.source}"
                )
            seen[zone.origin.key] = zone
        self.zones = zones

    def authority(self) -> Authority:
        """
        @return: an L{Authority} for the loaded zones, as the options say.
        """
        return Authority(
            self.zones,
            rotate=not self["no-rotate"],
            maxUDPSize=self["max-udp-size"],
            cacheBytes=self["answer-cache"],
        )


def makeService(options: Options) -> MultiService:
    """
    @return: one listening service per C{--listen} description, all
        answering from the same zones.
    """
    authority = options.authority()
    factory = DNSServerFactory(
        authority,
        idleTimeout=options["idle-timeout"],
        maxConnections=options["max-connections"],
    )
    top = listenOn(options.listenDescriptions(), factory, lambda: DNSDatagramProtocol(authority))
    startTracingIfAsked(options)
    return top


def makeDNSServices(
    interface: str, port: int, zoneFiles: Sequence[str], rotate: bool = True
) -> list[IService]:
    """
    The DNS server of one host, for the lab (or any program that composes
    services).

    @param interface: the IPv4 or IPv6 address to listen on.
    @param port: the UDP and TCP port.
    @param zoneFiles: the zone files to serve, each naming its zone itself.
    @param rotate: whether multi-address RRsets rotate.
    @return: a UDP and a TCP service, not yet started nor given a parent.
    @raise usage.UsageError: if a zone file has an error.
    """
    authority = Authority([loadZone(path) for path in zoneFiles], rotate=rotate)
    stream, datagram = hostServices(
        interface, port, DNSServerFactory(authority), lambda: DNSDatagramProtocol(authority)
    )
    return [datagram, stream]
