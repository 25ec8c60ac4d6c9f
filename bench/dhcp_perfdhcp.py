"""
DHCP benchmark: Kea's perfdhcp against netref's server and Kea's own
(kea-dhcp4), in one run.

perfdhcp plays a relay agent: it binds port 67, sets C{giaddr} to its own
address and unicasts DISCOVER/REQUEST to the server, which must answer to
C{giaddr}.  So it runs in a network namespace of its own, joined to the
server's namespace by a veth pair::

    nrbperf (10.70.0.2/16, perfdhcp, core 1) === nrbsrv (10.70.0.1/16, server, core 0)

Each server serves the same /16 (a pool of 65,000 addresses, so no run
exhausts it), leases of an hour, for the same perfdhcp command: four-way
exchanges (DORA) at each target rate of C{--rates} for C{--seconds}, with
C{--clients} distinct clients.  perfdhcp reports the exchanges completed
per second, and the DISCOVERs and REQUESTs that got no answer in time
(drops).  The servers take turns for C{--rounds}
rounds; each run starts a fresh server with an empty lease database.  The
script prints every run (exchanges per second, drops of each exchange),
the medians and the ratio netref/Kea.

Kea keeps leases in its memfile (a CSV file it appends to); netref writes
its lease file atomically with fsync before each DHCPACK (one write per
reactor turn, see L{netref.dhcp.server}).  C{netref-mem} is netref without
C{--state}: leases in memory only, for the cost of the durability.

Run it as root from the repository root, under the shared benchmark lock::

    flock /tmp/netref-bench.lock python bench/dhcp_perfdhcp.py --rounds 2 --rates 1000,2000,4000

It needs perfdhcp and kea-dhcp4 (Debian: kea-admin, kea-dhcp4-server),
taskset and ip.  Traffic stays inside the two namespaces it makes, and
deletes, itself.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager

SERVER_NS = "nrbsrv"
PERF_NS = "nrbperf"
SERVER_IF = "nrbs0"
PERF_IF = "nrbp0"
SERVER_ADDR = "10.70.0.1"
PERF_ADDR = "10.70.0.2"
SUBNET = "10.70.0.0/16"
POOL = "10.70.1.0-10.70.254.254"


def ip(*arguments: str, namespace: str | None = None) -> None:
    command = ["ip", *arguments]
    if namespace is not None:
        command = ["ip", "netns", "exec", namespace, *command]
    subprocess.run(command, check=True, capture_output=True, timeout=20)


@contextmanager
def namespaces() -> Iterator[None]:
    """
    The two namespaces and their veth pair, deleted on the way out.
    """
    for name in (SERVER_NS, PERF_NS):
        subprocess.run(["ip", "netns", "del", name], capture_output=True, check=False)
    try:
        ip("netns", "add", SERVER_NS)
        ip("netns", "add", PERF_NS)
        ip("link", "add", SERVER_IF, "netns", SERVER_NS, "type", "veth",
           "peer", "name", PERF_IF, "netns", PERF_NS)  # fmt: skip
        ip("addr", "add", f"{SERVER_ADDR}/16", "dev", SERVER_IF, namespace=SERVER_NS)
        ip("addr", "add", f"{PERF_ADDR}/16", "dev", PERF_IF, namespace=PERF_NS)
        for namespace, name in ((SERVER_NS, SERVER_IF), (PERF_NS, PERF_IF)):
            ip("link", "set", name, "up", namespace=namespace)
            ip("link", "set", "lo", "up", namespace=namespace)
        yield
    finally:
        for name in (SERVER_NS, PERF_NS):
            subprocess.run(["ip", "netns", "del", name], capture_output=True, check=False)


def keaConfig(workdir: str) -> str:
    config = {
        "Dhcp4": {
            "interfaces-config": {"interfaces": [SERVER_IF], "dhcp-socket-type": "udp"},
            "lease-database": {
                "type": "memfile",
                "persist": True,
                "name": os.path.join(workdir, "kea-leases4.csv"),
                "lfc-interval": 0,
            },
            "valid-lifetime": 3600,
            "subnet4": [{"id": 1, "subnet": SUBNET, "pools": [{"pool": POOL}]}],
            "loggers": [
                {
                    "name": "kea-dhcp4",
                    "output_options": [{"output": os.path.join(workdir, "kea.log")}],
                    "severity": "WARN",
                }
            ],
        }
    }
    path = os.path.join(workdir, "kea.json")
    with open(path, "w") as f:
        json.dump(config, f)
    return path


def servers(workdir: str, python: str) -> dict[str, tuple[list[str], dict[str, str], bytes]]:
    """
    @return: name to (command, extra environment, what its log says when it
        is ready).
    """
    twistd = os.path.join(os.path.dirname(python), "twistd")
    netref = [
        twistd, "-n", "--pidfile=", "-l", "-", "netref-dhcp",
        "--interface", SERVER_IF, "--subnet", SUBNET, "--pool", POOL, "--lease-time", "3600",
    ]  # fmt: skip
    return {
        "netref": (
            [*netref, "--state", os.path.join(workdir, "netref-state")],
            {},
            b"starting on 67",
        ),
        "netref-mem": (netref, {}, b"starting on 67"),
        "kea": (
            [shutil.which("kea-dhcp4") or "/usr/sbin/kea-dhcp4", "-c", keaConfig(workdir)],
            {"KEA_LOCKFILE_DIR": workdir, "KEA_PIDFILE_DIR": workdir},
            b"",
        ),
    }


@contextmanager
def running(
    name: str, command: list[str], env: dict[str, str], ready: bytes, workdir: str
) -> Iterator[None]:
    """
    Run a server in its namespace on core 0 until the block ends.
    """
    for stale in ("kea-leases4.csv", "kea-leases4.csv.2", "netref-state"):
        path = os.path.join(workdir, stale)
        if os.path.isdir(path):
            shutil.rmtree(path)
        elif os.path.exists(path):
            os.unlink(path)
    logPath = os.path.join(workdir, f"{name}.out")
    with open(logPath, "wb") as log:
        process = subprocess.Popen(
            ["ip", "netns", "exec", SERVER_NS, "taskset", "-c", "0", *command],
            stdout=log,
            stderr=log,
            env=dict(os.environ, **env),
        )
    try:
        deadline = time.monotonic() + 20
        while True:
            with open(logPath, "rb") as f:
                if ready in f.read():
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                with open(logPath, "rb") as f:
                    raise SystemExit(f"{name} did not start:\n{f.read().decode()}")
            time.sleep(0.2)
        time.sleep(1.0)  # Kea prints nothing when ready at WARN; give it a second.
        yield
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def perfdhcp(rate: int, clients: int, seconds: int) -> tuple[float, dict[str, str], str]:
    """
    Run perfdhcp on core 1 as a relay agent in its own namespace.

    @return: four-way exchanges per second, drops per exchange, the output.
    """
    command = [
        "ip", "netns", "exec", PERF_NS, "taskset", "-c", "1",
        shutil.which("perfdhcp") or "/usr/sbin/perfdhcp",
        "-4", "-l", PERF_IF, "-r", str(rate), "-R", str(clients), "-p", str(seconds),
        SERVER_ADDR,
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    out = done.stdout + done.stderr
    match = re.search(r"Rate:\s*([\d.]+)\s*4-way exchanges/second", out)
    if match is None:
        raise SystemExit(f"perfdhcp printed no rate:\n{out}")
    drops = {}
    for exchange, dropped in re.findall(
        r"\*\*\*Statistics for: (\S+?)\*\*\*.*?drops: (\d+)", out, re.S
    ):
        drops[exchange] = dropped
    return float(match.group(1)), drops, out


def versions(python: str) -> str:
    kea = subprocess.run(["kea-dhcp4", "-v"], capture_output=True, text=True).stdout.strip()
    perf = subprocess.run(["perfdhcp", "-v"], capture_output=True, text=True).stdout.strip()
    twisted = subprocess.run(
        [python, "-c", "import twisted, sys; print(twisted.__version__, sys.version.split()[0])"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    perfVersion = perf.splitlines()[0] if perf else "?"
    return f"kea-dhcp4 {kea}; perfdhcp {perfVersion}; twisted/python {twisted}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument(
        "--rates",
        default="1000,2000,4000",
        help="DORA exchanges started per second, comma-separated: one series of runs each",
    )
    parser.add_argument("--clients", type=int, default=20000)
    parser.add_argument("--servers", default="netref,netref-mem,kea")
    parser.add_argument("--python", default=sys.executable)
    arguments = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("run as root: the benchmark makes network namespaces")
    for program in ("perfdhcp", "kea-dhcp4", "taskset", "ip"):
        if shutil.which(program) is None:
            raise SystemExit(f"{program} is not installed")
    print(versions(arguments.python))
    rates = [int(r) for r in arguments.rates.split(",")]
    names = [n.strip() for n in arguments.servers.split(",")]
    results: dict[tuple[int, str], list[float]] = {}
    with tempfile.TemporaryDirectory() as workdir, namespaces():
        table = servers(workdir, arguments.python)
        for round in range(1, arguments.rounds + 1):
            for target in rates:
                for name in names:
                    command, env, ready = table[name]
                    with running(name, command, env, ready, workdir):
                        rate, drops, _ = perfdhcp(target, arguments.clients, arguments.seconds)
                    results.setdefault((target, name), []).append(rate)
                    dropText = ", ".join(f"{k} drops {v}" for k, v in drops.items())
                    print(
                        f"round {round} rate {target:5d} {name:10s} {rate:8.1f} exchanges/s"
                        f"  ({dropText})",
                        flush=True,
                    )
    print()
    for target in rates:
        medians = {name: statistics.median(results[(target, name)]) for name in names}
        for name, median in medians.items():
            print(f"rate {target:5d} median {name:10s} {median:8.1f} exchanges/s")
        if medians.get("kea"):
            for name in names:
                if name != "kea":
                    print(
                        f"rate {target:5d} ratio {name}/kea {medians[name] / medians['kea']:.2f}"
                    )


if __name__ == "__main__":
    main()
