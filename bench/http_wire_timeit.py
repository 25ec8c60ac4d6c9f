"""
Micro-benchmark of the HTTP/1.1 message layer, netref.http.wire, beside h11
(the sans-IO parser netref's design takes as its model), in one run.

It times, with timeit (best of several repeats), what the server's common
path costs:

  - parsing a wrk-style request, ``GET /file HTTP/1.1`` with only Host;
  - parsing a browser-like GET with six header fields;
  - framing a 200 response with three fields and a 9 KB body.

Each figure is microseconds per operation on a fresh connection object
reused across iterations where the library allows it.  Run it from the
repository root, pinned to a core, under the shared benchmark lock:

    flock /tmp/netref-bench.lock taskset -c 0 python bench/http_wire_timeit.py

It does no I/O at all.
"""

from __future__ import annotations

import argparse
import platform
import sys
import timeit
from collections.abc import Callable

import h11

import netref
from netref.http.wire import Headers, Response, ServerConnection

WRK = b"GET /file HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n"
BROWSER = (
    b"GET /file HTTP/1.1\r\n"
    b"Host: 127.0.0.1:8080\r\n"
    b"User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n"
    b"Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
    b"Accept-Language: en-US,en;q=0.5\r\n"
    b"Accept-Encoding: gzip, deflate\r\n"
    b"Connection: keep-alive\r\n"
    b"\r\n"
)
BODY = b"x" * 9000
FIELDS = [
    ("Content-Type", "text/html; charset=utf-8"),
    ("Date", "Sun, 22 Nov 2026 00:00:00 GMT"),
    ("Server", "netref"),
]


def netrefParse(data: bytes) -> Callable[[], object]:
    connection = ServerConnection()

    def run() -> object:
        events = connection.receiveData(data)
        connection.sendResponse(_EMPTY)  # answer it, so the next one is fresh
        return events

    return run


_EMPTY = Response(204, Headers())


def netrefParseOnly(data: bytes) -> Callable[[], object]:
    """
    Parsing alone: a new connection each time (its construction included).
    """

    def run() -> object:
        return ServerConnection().receiveData(data)

    return run


def netrefFrame() -> Callable[[], object]:
    connection = ServerConnection()
    headers = Headers(FIELDS)
    response = Response(200, headers)

    def run() -> object:
        connection.receiveData(WRK)
        return connection.sendResponse(response, BODY)

    return run


def h11Parse(data: bytes) -> Callable[[], object]:
    def run() -> object:
        c = h11.Connection(h11.SERVER)
        c.receive_data(data)
        return c.next_event(), c.next_event()

    return run


def h11Frame() -> Callable[[], object]:
    def run() -> object:
        c = h11.Connection(h11.SERVER)
        c.receive_data(WRK)
        c.next_event()
        c.next_event()
        return b"".join(
            [
                c.send(
                    h11.Response(
                        status_code=200, headers=FIELDS + [("Content-Length", str(len(BODY)))]
                    )
                )
                or b"",
                c.send(h11.Data(data=BODY)) or b"",
                c.send(h11.EndOfMessage()) or b"",
            ]
        )

    return run


def best(function: Callable[[], object], number: int, repeat: int) -> float:
    """
    @return: the best time of C{repeat} runs, in microseconds per call.
    """
    return min(timeit.repeat(function, number=number, repeat=repeat)) / number * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--number", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    print(
        f"python {platform.python_version()}, netref {netref.__version__}, h11 {h11.__version__}"
    )
    cases = [
        ("parse wrk GET (1 field)", netrefParseOnly(WRK), h11Parse(WRK)),
        ("parse browser GET (6 fields)", netrefParseOnly(BROWSER), h11Parse(BROWSER)),
        ("parse on a persistent connection, 1 field", netrefParse(WRK), None),
        ("parse on a persistent connection, 6 fields", netrefParse(BROWSER), None),
        ("frame 200 + 9 KB body (parse included)", netrefFrame(), h11Frame()),
    ]
    print(f"{'case':45} {'netref us':>10} {'h11 us':>10} {'ratio':>7}")
    for name, ours, theirs in cases:
        a = best(ours, args.number, args.repeat)
        if theirs is None:
            print(f"{name:45} {a:10.2f} {'':>10} {'':>7}")
            continue
        b = best(theirs, args.number, args.repeat)
        print(f"{name:45} {a:10.2f} {b:10.2f} {b / a:6.1f}x")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
