"""
HTTP benchmark: wrk against netref, twisted.web and nginx, in one run.

Each server serves the same 9 KB file from the same directory on
127.0.0.1, pinned to core 0 with taskset; wrk (C{-t1 -c50}) runs on core 1.
Two workloads: persistent connections (keep-alive), and a new connection
for every request (C{-H 'Connection: close'}).  The servers take turns for
several rounds, so a slow spell of the machine hits all of them alike; the
script prints every run, the median requests per second of each server and
the ratios to twisted.web (targets: netref at least 4x keep-alive, 2x
close).  It also prints each server's CPU time per request (from
C{/proc/PID/stat}), which other programs running on the machine disturb
less than requests per second.

    - netref:      twistd -n netref-http --root DIR --listen tcp:PORT:interface=127.0.0.1
    - twisted.web: twistd -n web --path DIR --listen tcp:PORT:interface=127.0.0.1
    - nginx:       one process (master_process off, so its CPU time is measured),
                   access_log off, sendfile on (a generated config)

Run it from the repository root, under the benchmark lock so that no other
benchmark runs at the same time:

    flock /tmp/netref-bench.lock python bench/http_wrk.py --rounds 2 --seconds 10

It needs wrk, nginx and taskset (Debian: wrk, nginx, util-linux); nginx is
skipped when missing.  Traffic goes only to 127.0.0.1; every run is bounded
by --seconds.
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

from common import cpuSeconds, freePort, pinnedServer

FILE_NAME = "file.bin"
FILE_SIZE = 9 * 1024


def answers(port: int) -> bool:
    """
    Whether something answers an HTTP GET for the file on 127.0.0.1:port.
    """
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
            s.sendall(
                f"GET /{FILE_NAME} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode()
            )
            return s.recv(16).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


@contextmanager
def running(command: list[str], port: int, workdir: str) -> Iterator[int]:
    with open(os.path.join(workdir, f"server-{port}.log"), "w") as log:
        with pinnedServer(command, lambda: answers(port), log=log, cwd=workdir) as pid:
            yield pid


def wrk(port: int, seconds: int, close: bool) -> tuple[float, int, str]:
    """
    @return: requests per second, the number of requests, and a note of
        errors if any.
    """
    command = ["taskset", "-c", "1", "wrk", "-t1", "-c50", f"-d{seconds}s"]
    if close:
        command += ["-H", "Connection: close"]
    command.append(f"http://127.0.0.1:{port}/{FILE_NAME}")
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    total = re.search(r"(\d+) requests in", out)
    if match is None or total is None:
        raise RuntimeError(f"no Requests/sec in wrk's output:\n{out}")
    notes = []
    for pattern in (r"Non-2xx or 3xx responses: \d+", r"Socket errors: [^\n]+"):
        found = re.search(pattern, out)
        if found:
            notes.append(found.group(0))
    return float(match.group(1)), int(total.group(1)), "; ".join(notes)


def nginxConfig(workdir: str, root: str, port: int) -> str:
    user = "user root;\n" if os.geteuid() == 0 else ""
    text = f"""{user}worker_processes 1;
master_process off;
daemon off;
pid {workdir}/nginx.pid;
error_log {workdir}/nginx-error.log;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    client_body_temp_path {workdir}/body;
    proxy_temp_path {workdir}/proxy;
    fastcgi_temp_path {workdir}/fastcgi;
    uwsgi_temp_path {workdir}/uwsgi;
    scgi_temp_path {workdir}/scgi;
    types {{ application/octet-stream bin; }}
    server {{
        listen 127.0.0.1:{port};
        root {root};
    }}
}}
"""
    path = os.path.join(workdir, "nginx.conf")
    with open(path, "w") as f:
        f.write(text)
    return path


def versions() -> None:
    import twisted

    print(f"Python {sys.version.split()[0]}, Twisted {twisted.__version__}")
    wrkVersion = subprocess.run(["wrk", "-v"], capture_output=True, text=True)
    print((wrkVersion.stdout + wrkVersion.stderr).splitlines()[0])
    if shutil.which("nginx"):
        nginxVersion = subprocess.run(["nginx", "-v"], capture_output=True, text=True)
        print(nginxVersion.stderr.strip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seconds", type=int, default=10)
    args = parser.parse_args()
    for tool in ("wrk", "taskset"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is not installed")
    twistd = os.path.join(os.path.dirname(sys.executable), "twistd")
    versions()
    workdir = tempfile.mkdtemp(prefix="netref-bench-http-")
    os.chmod(workdir, 0o755)
    root = os.path.join(workdir, "www")
    os.mkdir(root)
    with open(os.path.join(root, FILE_NAME), "wb") as f:
        f.write(os.urandom(FILE_SIZE))
    servers: dict[str, list[str] | None] = {}
    port = freePort()
    servers["netref"] = [
        twistd,
        "-n",
        "--pidfile=",
        "netref-http",
        "--root",
        root,
        "--listen",
        f"tcp:{port}:interface=127.0.0.1",
    ]
    ports = {"netref": port}
    port = freePort()
    servers["twisted.web"] = [
        twistd,
        "-n",
        "--pidfile=",
        "web",
        "--path",
        root,
        "--listen",
        f"tcp:{port}:interface=127.0.0.1",
    ]
    ports["twisted.web"] = port
    if shutil.which("nginx"):
        port = freePort()
        servers["nginx"] = ["nginx", "-c", nginxConfig(workdir, root, port)]
        ports["nginx"] = port
    else:
        print("nginx is not installed: skipped")
    results: dict[tuple[str, str], list[float]] = {}
    cpu: dict[tuple[str, str], list[float]] = {}
    print(
        f"file {FILE_SIZE} octets; wrk -t1 -c50 -d{args.seconds}s; server on core 0, wrk on core 1"
    )
    for round in range(1, args.rounds + 1):
        for name, command in servers.items():
            assert command is not None
            with running(command, ports[name], workdir) as pid:
                for mode, close in (("keep-alive", False), ("close", True)):
                    # The server's CPU time per request depends less on what
                    # else the machine runs than requests per second do.
                    before = cpuSeconds(pid)
                    rate, total, notes = wrk(ports[name], args.seconds, close)
                    perRequest = (cpuSeconds(pid) - before) / total * 1e6
                    results.setdefault((name, mode), []).append(rate)
                    cpu.setdefault((name, mode), []).append(perRequest)
                    extra = f" ({notes})" if notes else ""
                    print(
                        f"round {round} {name:12} {mode:10} {rate:10.0f} req/s "
                        f"{perRequest:7.1f} CPU us/request{extra}",
                        flush=True,
                    )
    print()
    print(
        f"{'server':12} {'mode':10} {'median req/s':>12}  {'x twisted.web':>13}"
        f"  {'CPU us/req':>10}  {'x twisted.web':>13}"
    )
    for mode in ("keep-alive", "close"):
        anchor = statistics.median(results[("twisted.web", mode)])
        anchorCPU = statistics.median(cpu[("twisted.web", mode)])
        for name in servers:
            median = statistics.median(results[(name, mode)])
            cost = statistics.median(cpu[(name, mode)])
            print(
                f"{name:12} {mode:10} {median:12.0f}  {median / anchor:12.2f}x"
                f"  {cost:10.1f}  {anchorCPU / cost:12.2f}x"
            )
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
