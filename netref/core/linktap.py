"""
C{twistd netref-link}: the link emulator as a service.

    twistd -n netref-link --listen tcp:8081:interface=127.0.0.1 \\
        --connect tcp:host=127.0.0.1:port=8080 --rtt 100ms --rate 1.54Mbit

Clients connect to the C{--listen} address instead of the server's; each
connection is relayed to C{--connect} across a path with the given
round-trip time and bottleneck rate (see L{netref.core.link}).
"""

from __future__ import annotations

from typing import Any

from twisted.application import service
from twisted.internet.endpoints import clientFromString
from twisted.internet.interfaces import IReactorTime, IStreamClientEndpoint
from twisted.python import usage

from netref.core.link import LinkFactory, parseDuration, parseRate
from netref.core.service import (
    DEFAULT_INTERFACE,
    ServiceOptions,
    isDatagramListen,
    listenOn,
    startTracingIfAsked,
)

#: Where the emulator listens without C{--listen}: next to HTTP's 8080.
DEFAULT_LISTEN = f"tcp:8081:interface={DEFAULT_INTERFACE}"


def _reactor() -> Any:
    from twisted.internet import reactor

    return reactor


class Options(ServiceOptions):
    """
    Options of C{twistd netref-link}.

    After parsing, C{self["rtt"]} is in seconds, C{self["rate"]} in bits per
    second (or L{None} for no limit) and C{self["endpoint"]} is the
    C{IStreamClientEndpoint} for C{--connect}.
    """

    synopsis = "[--listen DESCRIPTION] --connect DESCRIPTION [--rtt TIME] [--rate RATE]"
    longdesc = (
        "A TCP relay that emulates a network path: every client connection is relayed to the "
        "--connect endpoint with the round-trip time --rtt added (half each way, plus one RTT "
        "for TCP's handshake before the client's first bytes go) and each direction limited "
        "to --rate bits per second, queued, not dropped. A non-persistent HTTP fetch through "
        f"it takes 2 RTT + transmission time, as in the textbook. Listens on {DEFAULT_LISTEN} "
        "by default."
    )
    defaultListen = (DEFAULT_LISTEN,)

    optParameters = [
        [
            "connect",
            None,
            None,
            "The server to relay to, as a Twisted client endpoint string, "
            "e.g. tcp:host=127.0.0.1:port=8080 (required).",
        ],
        ["rtt", None, "100ms", "Round-trip time to add: 100ms, 0.1s, 1s, 250us."],
        [
            "rate",
            None,
            "unlimited",
            "Bottleneck rate of each direction, in bits per second with SI prefixes: "
            "1.54Mbit, 10Mbit, 1Gbit, 56kbit, 1000bit, or unlimited.",
        ],
    ]

    def postOptions(self) -> None:
        for description in self.listenDescriptions():
            if isDatagramListen(description):
                raise usage.UsageError(
                    f"netref-link relays TCP streams; --listen {description!r} is a datagram "
                    "endpoint (use tcp:PORT or ssl:PORT)"
                )
        super().postOptions()
        try:
            self["rtt"] = parseDuration(self["rtt"])
            self["rate"] = parseRate(self["rate"])
        except ValueError as e:
            raise usage.UsageError(str(e)) from None
        if self["connect"] is None:
            raise usage.UsageError(
                "--connect is required: the server to relay to, "
                "e.g. --connect tcp:host=127.0.0.1:port=8080"
            )
        try:
            self["endpoint"] = clientFromString(_reactor(), self["connect"])
        except (ValueError, KeyError, TypeError) as e:
            raise usage.UsageError(
                f"bad --connect endpoint {self['connect']!r}: {e}; "
                "expected e.g. tcp:host=127.0.0.1:port=8080"
            ) from None


def makeService(options: Options) -> service.IService:
    """
    @return: a service with one listener per C{--listen}, all relaying over
        one shared emulated link to C{--connect}.
    """
    startTracingIfAsked(options)
    endpoint: IStreamClientEndpoint = options["endpoint"]
    clock: IReactorTime = _reactor()
    factory = LinkFactory(
        endpoint,
        rtt=options["rtt"],
        rate=options["rate"],
        clock=clock,
        target=options["connect"],
    )
    return listenOn(options.listenDescriptions(), factory)
