"""
DNS benchmark: dnsperf against netref, twisted.names and NSD, in one run.

Each server serves the same zone on 127.0.0.1, pinned to core 0 with
taskset; dnsperf runs on core 1 with the same query file and duration.  The
servers take turns for several rounds, so a slow spell of the machine hits
all of them alike; the script prints every run, the median queries per
second of each server, the lost queries, and the ratios.

Run it from the repository root, as root for NSD (NSD is skipped otherwise):

    python bench/dns_dnsperf.py --rounds 3 --seconds 10

It needs dnsperf, nsd and taskset (Debian: dnsperf, nsd, util-linux).
Traffic goes only to 127.0.0.1; every run is bounded by --seconds.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

from common import freePort, pinnedServer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ZONE = os.path.join(ROOT, "tests", "dns_server_data", "example.com.zone")
QUERIES = [
    "www.example.com A",
    "mail.example.com MX",
    "nope.example.com A",
    "www.example.com AAAA",
    "sub.example.com A",
    "chain1.example.com A",
    "example.com SOA",
    "text.example.com TXT",
]


def answers(port: int) -> bool:
    """
    Whether something answers a DNS query on 127.0.0.1:port.
    """
    query = (
        bytes.fromhex("abcd01000001000000000000")
        + b"\x03www\x07example\x03com\x00\x00\x01\x00\x01"
    )
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(0.2)
        try:
            s.sendto(query, ("127.0.0.1", port))
            return s.recv(2048)[:2] == b"\xab\xcd"
        except OSError:
            return False


@contextmanager
def running(command: list[str], port: int, workdir: str) -> Iterator[None]:
    with open(os.path.join(workdir, f"server-{port}.log"), "w") as log:
        with pinnedServer(command, lambda: answers(port), log=log, cwd=workdir):
            yield


def dnsperf(port: int, queryFile: str, seconds: int) -> tuple[float, int, int]:
    """
    @return: queries per second, queries sent, queries lost.
    """
    out = subprocess.run(
        [
            "taskset",
            "-c",
            "1",
            "dnsperf",
            "-s",
            "127.0.0.1",
            "-p",
            str(port),
            "-d",
            queryFile,
            "-l",
            str(seconds),
            "-c",
            "1",
            "-q",
            "100",
        ],
        capture_output=True,
        text=True,
        timeout=seconds + 60,
        check=True,
    ).stdout
    qps = float(re.search(r"Queries per second:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    sent = int(re.search(r"Queries sent:\s+(\d+)", out).group(1))  # type: ignore[union-attr]
    lost = int(re.search(r"Queries lost:\s+(\d+)", out).group(1))  # type: ignore[union-attr]
    return qps, sent, lost


def nsdConfig(workdir: str, port: int) -> str:
    path = os.path.join(workdir, "nsd.conf")
    with open(path, "w") as f:
        f.write(
            "server:\n"
            f"  ip-address: 127.0.0.1@{port}\n"
            '  username: ""\n  chroot: ""\n'
            f'  zonesdir: "{workdir}"\n'
            f'  pidfile: "{workdir}/nsd.pid"\n'
            '  database: ""\n'
            f'  zonelistfile: "{workdir}/zone.list"\n'
            f'  xfrdfile: "{workdir}/xfrd.state"\n'
            "  server-count: 1\n  verbosity: 0\n  hide-version: yes\n"
            "  rrl-ratelimit: 0\n  rrl-whitelist-ratelimit: 0\n"
            "remote-control:\n  control-enable: no\n"
            f"zone:\n  name: example.com\n  zonefile: {ZONE}\n"
        )
    return path


def servers(workdir: str, python: str) -> dict[str, tuple[list[str], int]]:
    twistd = [
        python,
        "-c",
        "import sys; from twisted.scripts.twistd import run; sys.argv[0] = 'twistd'; run()",
    ]
    found: dict[str, tuple[list[str], int]] = {}
    port = freePort()
    found["netref"] = (
        [
            *twistd,
            "-n",
            "--pidfile=",
            "netref-dns",
            "--zone",
            ZONE,
            "--listen",
            f"udp:{port}:interface=127.0.0.1",
        ],
        port,
    )
    port = freePort()
    found["netref, no cache"] = (
        [
            *twistd,
            "-n",
            "--pidfile=",
            "netref-dns",
            "--zone",
            ZONE,
            "--answer-cache",
            "0",
            "--listen",
            f"udp:{port}:interface=127.0.0.1",
        ],
        port,
    )
    port = freePort()
    found["twisted.names"] = (
        [
            *twistd,
            "-n",
            "--pidfile=",
            "dns",
            "--bindzone",
            ZONE,
            "--port",
            str(port),
            "--interface",
            "127.0.0.1",
        ],
        port,
    )
    if shutil.which("nsd") and os.geteuid() == 0:
        port = freePort()
        found["NSD"] = (["nsd", "-d", "-c", nsdConfig(workdir, port)], port)
    else:
        print("NSD left out: it needs root and the nsd program", file=sys.stderr)
    return found


def versions(python: str) -> str:
    import twisted

    nsd = subprocess.run(["nsd", "-v"], capture_output=True, text=True).stderr.splitlines()
    perf = subprocess.run(
        ["dpkg-query", "-W", "-f", "${Version}", "dnsperf"], capture_output=True, text=True
    ).stdout
    return (
        f"Python {sys.version.split()[0]}, Twisted {twisted.__version__}, "
        f"{nsd[0] if nsd else 'no NSD'}, dnsperf {perf or '?'}, {os.cpu_count()} cores"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10)
    args = parser.parse_args()
    for program in ["dnsperf", "taskset"]:
        if not shutil.which(program):
            sys.exit(f"{program} is not installed")
    python = sys.executable
    print(versions(python))
    results: dict[str, list[tuple[float, int, int]]] = {}
    with tempfile.TemporaryDirectory() as workdir:
        queryFile = os.path.join(workdir, "queries.txt")
        with open(queryFile, "w") as f:
            f.write("\n".join(QUERIES) + "\n")
        table = servers(workdir, python)
        for round in range(1, args.rounds + 1):
            for name, (command, port) in table.items():
                with running(command, port, workdir):
                    qps, sent, lost = dnsperf(port, queryFile, args.seconds)
                results.setdefault(name, []).append((qps, sent, lost))
                print(f"round {round}  {name:16} {qps:10.0f} q/s  sent {sent:8}  lost {lost}")
    print()
    medians = {name: statistics.median(q for q, _, _ in runs) for name, runs in results.items()}
    for name, runs in results.items():
        lost = sum(each[2] for each in runs)
        sent = sum(each[1] for each in runs)
        print(f"{name:16} median {medians[name]:10.0f} q/s   lost {lost} of {sent}")
    base = medians["twisted.names"]
    for name, median in medians.items():
        print(f"{name:16} {median / base:5.2f} x twisted.names")


if __name__ == "__main__":
    main()
