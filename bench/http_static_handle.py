"""
Microbenchmark: microseconds per L{StaticFiles.handle} call for a 9 KB file.

The server's benchmark (tens of thousands of requests per second for a 9 KB
file) depends on the handler's small-file path: a cached body revalidated
with one C{os.stat}.  This script times C{handle()} alone, with no sockets,
against an anchor that does what a handler without a cache must do for each
request (C{stat}, C{open}, C{read}, C{close}), and prints both and the ratio.

Run it from the repository root, pinned to one core, while nothing else
benchmarks:

    flock /tmp/netref-bench.lock taskset -c 0 python bench/http_static_handle.py

It touches only a temporary directory and runs for a few seconds.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import twisted  # noqa: E402
from netref.http.handler import HTTPRequest  # noqa: E402
from netref.http.static import StaticFiles  # noqa: E402
from netref.http.wire import Headers  # noqa: E402


def request(target: str) -> HTTPRequest:
    headers = Headers([("Host", "127.0.0.1:8080"), ("User-Agent", "wrk"), ("Accept", "*/*")])
    return HTTPRequest("GET", target, target, "", "HTTP/1.1", headers, b"", None, False)


def timeNetref(handler: StaticFiles, rounds: int) -> float:
    r = request("/nine.html")
    handler.handle(r)
    started = time.perf_counter()
    for _ in range(rounds):
        handler.handle(r)
    return (time.perf_counter() - started) / rounds * 1e6


def timeAnchor(path: str, rounds: int) -> float:
    started = time.perf_counter()
    for _ in range(rounds):
        os.stat(path)
        with open(path, "rb") as f:
            f.read()
    return (time.perf_counter() - started) / rounds * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=100000)
    parser.add_argument("--runs", type=int, default=5)
    options = parser.parse_args()
    print(f"Python {platform.python_version()}, Twisted {twisted.__version__}")
    with tempfile.TemporaryDirectory() as root:
        path = os.path.join(root, "nine.html")
        with open(path, "wb") as f:
            f.write(b"x" * 9 * 1024)
        handler = StaticFiles(root)
        ours, theirs = [], []
        for run in range(options.runs):
            ours.append(timeNetref(handler, options.rounds))
            theirs.append(timeAnchor(path, options.rounds))
            print(
                f"run {run + 1}: StaticFiles.handle {ours[-1]:.2f} us, "
                f"stat+open+read {theirs[-1]:.2f} us"
            )
        a, b = statistics.median(ours), statistics.median(theirs)
        print(f"median: handle {a:.2f} us/call ({1e6 / a:,.0f}/s), anchor {b:.2f} us/call")
        print(f"ratio anchor/handle: {b / a:.2f}")


if __name__ == "__main__":
    main()
