"""
The textbook's HTTP experiment (section 2.2.2): fetch a Web page -- a base
HTML file and the ten JPEG images it references -- three ways, across a
path with a 100 ms round-trip time, and compare the measured times with
the model's.

  1. Non-persistent: one TCP connection per object, one after the other.
     Each object costs 2 RTT (TCP's handshake, then request and response)
     plus its transmission time.
  2. Persistent, without pipelining: one connection; after the first
     object, each costs about one RTT plus its transmission time.
  3. Persistent, with pipelining: once the base file is in, the ten image
     requests go back to back and the ten responses come back in about one
     RTT plus their transmission time.

netref's server (C{twistd netref-http}) serves the page; netref's link
emulator (C{twistd netref-link}, L{netref.core.link}) sits in front of it
with the RTT and a bottleneck rate; both are pinned to core 0 with taskset.
The "browser" is netref's client (L{netref.http.client.HTTPClient}, one
connection per origin), in this process, pinned to core 1.  Run from the
repository root:

    flock /tmp/netref-bench.lock python bench/http_textbook_experiment.py

Options: C{--rtt 100ms}, C{--rate 10Mbit}, C{--runs 3} (each way, in
turns), C{--site DIR} (default C{netref/lab/www/someschool.edu}, or
stand-in files of the same shape made in a temporary directory when it is
not there).

The model is the emulator's (see docs/core-link.rst), with M{R} the rate,
M{Q} the size of a request and M{F_i} of each response (head and body, as
measured here), and times counted from the first connection attempt to the
last byte of the last image::

    non-persistent   sum over objects of (2 RTT + 8 Q/R + 8 F_i/R)
    persistent       2 RTT + 8 (Q + F_0)/R  +  sum over images of (RTT + 8 (Q + F_i)/R)
    pipelined        2 RTT + 8 (Q + F_0)/R  +  RTT + 8 Q/R + sum over images of 8 F_i/R

Traffic goes only to 127.0.0.1, and every run is bounded (the client gives
up on a request after 60 s).
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from twisted.internet import defer, task  # noqa: E402

from netref.core.link import parseDuration, parseRate  # noqa: E402
from netref.http.client import ClientResponse, HTTPClient  # noqa: E402
from netref.http.get import formatHead  # noqa: E402

LAB_SITE = os.path.join(ROOT, "netref", "lab", "www", "someschool.edu")

#: The three ways, in the order the textbook tells them.
MODES = ("non-persistent", "persistent", "pipelined")


def freePort() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def waitForPort(port: int, process: subprocess.Popen[bytes], seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"a server ended early: {process.args}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"nothing listens on port {port}")


def standInSite(directory: str) -> str:
    """
    Make a page of the textbook's shape: a base HTML file referencing ten
    JPEG images (bytes that start as a JPEG does), of 8 to 26 KB.
    """
    images = []
    for i in range(10):
        name = f"img{i}.jpg"
        size = 8 * 1024 + i * 2 * 1024
        with open(os.path.join(directory, name), "wb") as f:
            f.write(b"\xff\xd8\xff\xe0" + os.urandom(size - 4))
        images.append(name)
    tags = "\n".join(
        f'<p><img src="{name}" alt="picture {i}"></p>' for i, name in enumerate(images)
    )
    html = (
        "<!DOCTYPE html>\n<html><head><title>someSchool.edu - someDepartment</title></head>\n"
        f"<body><h1>someDepartment</h1>\n{tags}\n</body></html>\n"
    )
    with open(os.path.join(directory, "index.html"), "w") as f:
        f.write(html)
    return directory


def basePage(site: str) -> str:
    """
    @return: the base HTML file's path within C{site}: of the HTML files
        (C{.html}, C{.htm}, or the textbook's C{home.index}), the one that
        references the most images (the shortest path on a tie).
    """
    best: tuple[int, int, str] | None = None
    for directory, _, files in sorted(os.walk(site)):
        for name in sorted(files):
            if not name.endswith((".html", ".htm", ".index")):
                continue
            path = os.path.join(directory, name)
            with open(path, "rb") as f:
                count = len(referencedObjects(f.read(), "http://x/"))
            relative = "/" + os.path.relpath(path, site)
            candidate = (-count, len(relative), relative)
            if best is None or candidate < best:
                best = candidate
    if best is None or best[0] == 0:
        raise SystemExit(f"no HTML file in {site} references any image")
    return best[2]


def referencedObjects(html: bytes, base: str) -> list[str]:
    """
    @return: the URLs of the images the base file references, in order.
    """
    from urllib.parse import urljoin

    sources = re.findall(rb"""<img[^>]*\ssrc\s*=\s*["']?([^"' >]+)""", html, re.I)
    return [urljoin(base, s.decode()) for s in sources]


@contextmanager
def servers(site: str, rtt: str, rate: str) -> Iterator[int]:
    """
    Run netref's server on C{site} and the link emulator in front of it,
    both on core 0; yield the emulator's port.
    """
    twistd = os.path.join(os.path.dirname(sys.executable), "twistd")
    server, link = freePort(), freePort()
    pin = ["taskset", "-c", "0"] if (os.cpu_count() or 1) > 1 else []
    processes = [
        subprocess.Popen(
            [
                *pin,
                twistd,
                "-n",
                "--pidfile=",
                "-l",
                "/dev/null",
                "netref-http",
                "--root",
                site,
                "--listen",
                f"tcp:{server}:interface=127.0.0.1",
            ],
            stdout=subprocess.DEVNULL,
        )
    ]
    try:
        waitForPort(server, processes[0])
        command = [
            *pin,
            twistd,
            "-n",
            "--pidfile=",
            "-l",
            "/dev/null",
            "netref-link",
            "--listen",
            f"tcp:{link}:interface=127.0.0.1",
            "--connect",
            f"tcp:host=127.0.0.1:port={server}",
            "--rtt",
            rtt,
            "--rate",
            rate,
        ]
        processes.append(subprocess.Popen(command, stdout=subprocess.DEVNULL, cwd=ROOT))
        waitForPort(link, processes[1])
        yield link
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(10)


def clientFor(reactor: Any, mode: str) -> HTTPClient:
    """
    The textbook's browser for one way: one connection at a time.
    """
    return HTTPClient(
        reactor,
        persistent=mode != "non-persistent",
        pipelining=mode == "pipelined",
        maxConnectionsPerOrigin=1,
        timeout=60,
        idleTimeout=None,
    )


async def fetchPage(reactor: Any, mode: str, url: str) -> tuple[float, list[ClientResponse]]:
    """
    Fetch the base file, then every image it references, the way C{mode}
    says.

    @return: seconds from the first connection attempt to the last byte of
        the last object, and every response.
    """
    client = clientFor(reactor, mode)
    try:
        base = await client.get(url)
        images = referencedObjects(base.body, url)
        responses = await defer.gatherResults([client.get(u) for u in images])
    finally:
        await client.close()
    everything = [base, *responses]
    start = base.timings.connectStart or base.timings.queued
    end = max(r.timings.lastByte or 0 for r in everything)
    return end - start, everything


def requestSize(url: str, mode: str) -> int:
    """
    The bytes of the request the client sends for C{url} (as built by
    L{HTTPClient}: request line, Host, User-Agent, and Connection: close
    when non-persistent).
    """
    from netref.http.client import USER_AGENT, splitURL

    origin, target = splitURL(url)
    head = f"GET {target} HTTP/1.1\r\nHost: {origin.hostHeader()}\r\nUser-Agent: {USER_AGENT}\r\n"
    if mode == "non-persistent":
        head += "Connection: close\r\n"
    return len(head) + 2


def responseSize(response: ClientResponse) -> int:
    return len(formatHead(response)) + len(response.body)


def predict(mode: str, rtt: float, rate: float | None, q: int, sizes: list[int]) -> float:
    """
    The model's time for the page (see the module's docstring).

    @param q: a request's size in bytes.
    @param sizes: the response sizes, base file first.
    """

    def tx(nbytes: int) -> float:
        return 0.0 if rate is None else 8 * nbytes / rate

    first, images = sizes[0], sizes[1:]
    if mode == "non-persistent":
        return sum(2 * rtt + tx(q) + tx(f) for f in sizes)
    base = 2 * rtt + tx(q) + tx(first)
    if mode == "persistent":
        return base + sum(rtt + tx(q) + tx(f) for f in images)
    return base + rtt + tx(q) + sum(tx(f) for f in images)


def textbookCount(mode: str, n: int, rtt: float) -> str:
    """
    The textbook's RTT count, without transmission times.
    """
    if mode == "non-persistent":
        return f"{2 * (n + 1)} RTT = {2 * (n + 1) * rtt * 1000:.0f} ms"
    if mode == "persistent":
        return f"{2 + n} RTT = {(2 + n) * rtt * 1000:.0f} ms"
    return f"3 RTT = {3 * rtt * 1000:.0f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rtt", default="100ms")
    parser.add_argument(
        "--rate",
        default="10Mbit",
        help="the bottleneck: 10 Mbit/s makes a 10 KB image take 8 ms, small next to the RTT",
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--site", default=None)
    args = parser.parse_args()
    rtt, rate = parseDuration(args.rtt), parseRate(args.rate)

    if (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {1})
    temporary = None
    site = args.site
    if site is None:
        if os.path.isdir(LAB_SITE):
            site = LAB_SITE
        else:
            temporary = tempfile.TemporaryDirectory()
            site = standInSite(temporary.name)
            print(f"{LAB_SITE} is not there: stand-in files in {site}")
    page = basePage(site)

    with servers(site, args.rtt, args.rate) as port:
        url = f"http://127.0.0.1:{port}{page}"

        async def experiment(reactor: Any) -> None:
            results: dict[str, list[float]] = {mode: [] for mode in MODES}
            sizes: list[int] = []
            for run in range(args.runs):
                for mode in MODES:
                    seconds, responses = await fetchPage(reactor, mode, url)
                    statuses = {r.status for r in responses}
                    if statuses != {200}:
                        raise SystemExit(f"unexpected statuses {statuses}")
                    reused = sum(r.connectionReused for r in responses)
                    print(
                        f"run {run + 1} {mode:<15} {seconds * 1000:8.1f} ms  "
                        f"({len(responses)} objects, {reused} on a reused connection)",
                        flush=True,
                    )
                    results[mode].append(seconds)
                    sizes = [responseSize(r) for r in responses]
            report(results, sizes, url, rtt, rate, args)

        task.react(lambda reactor: defer.ensureDeferred(experiment(reactor)))


def report(
    results: dict[str, list[float]],
    sizes: list[int],
    url: str,
    rtt: float,
    rate: float | None,
    args: argparse.Namespace,
) -> None:
    """
    Print the table: measured (median and every run) beside the model.
    """
    images = len(sizes) - 1
    total = sum(sizes)
    print()
    print(
        f"page: {url.rsplit('/', 1)[-1]} ({sizes[0]} bytes with its head) and {images} images, "
        f"{total} bytes in all; RTT {args.rtt}, rate {args.rate}; "
        f"transmission of everything {0 if rate is None else 8 * total / rate * 1000:.0f} ms"
    )
    print("times from the first connect to the last byte, in ms")
    header = f"{'way':<16}{'textbook count':>20}{'model':>12}{'measured':>12}{'ratio':>8}  runs"
    print(header)
    print("-" * (len(header) + 30))
    for mode in MODES:
        q = requestSize(url, mode)
        model = predict(mode, rtt, rate, q, sizes)
        measured = statistics.median(results[mode])
        runs = ", ".join(f"{t * 1000:.0f}" for t in results[mode])
        print(
            f"{mode:<16}{textbookCount(mode, images, rtt):>20}{model * 1000:>9.0f} ms"
            f"{measured * 1000:>9.0f} ms{measured / model:>8.3f}  {runs}"
        )


if __name__ == "__main__":
    main()
