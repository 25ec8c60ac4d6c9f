"""
HTTP memory benchmark: what an idle persistent connection costs the server.

The script starts the server (pinned to core 0 with taskset), opens
C{--connections} connections to it, sends one request on each and reads
the answer, and leaves them all open and idle, as browsers leave theirs.
It reads the server's resident set size (C{VmRSS} in C{/proc/PID/status})
before and after, and prints the growth per connection (target for netref:
at most 20 KB).  twisted.web is measured the same way for comparison.

    flock /tmp/netref-bench.lock python bench/http_memory.py --connections 5000

The script raises its own limit of open files (RLIMIT_NOFILE), which the
servers inherit; it needs taskset (Debian: util-linux).  Traffic goes only
to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time

from common import freePort

FILE_NAME = "file.bin"
REQUEST = f"GET /{FILE_NAME} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()


def rssKiB(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def serverPid(launcher: subprocess.Popen[bytes]) -> int:
    """
    The server's own process id: taskset execs the server, so it is the
    launcher's.
    """
    return launcher.pid


def oneExchange(sock: socket.socket) -> None:
    """
    Send the request and read the whole answer (its head says how long the
    body is), leaving the connection open.
    """
    sock.sendall(REQUEST)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise RuntimeError("the server closed the connection")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise RuntimeError("the server closed the connection")
        body += chunk


def measure(name: str, command: list[str], port: int, count: int, workdir: str) -> float:
    log = open(os.path.join(workdir, f"{name}.log"), "w")
    process = subprocess.Popen(["taskset", "-c", "0", *command], stdout=log, stderr=log)
    sockets: list[socket.socket] = []
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                probe = socket.create_connection(("127.0.0.1", port), timeout=1)
                oneExchange(probe)
                probe.close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{name} did not start (see {log.name})") from None
                time.sleep(0.1)
        # Warm up: a few connections come and go, so that lazily made
        # structures (caches, the file's entry) exist before the baseline.
        for _ in range(50):
            with socket.create_connection(("127.0.0.1", port)) as s:
                oneExchange(s)
        time.sleep(0.5)
        pid = serverPid(process)
        before = rssKiB(pid)
        started = time.monotonic()
        for _ in range(count):
            s = socket.create_connection(("127.0.0.1", port))
            oneExchange(s)
            sockets.append(s)
        time.sleep(1.0)
        after = rssKiB(pid)
        perConnection = (after - before) * 1024 / count
        print(
            f"{name:12} {count} idle connections in {time.monotonic() - started:.1f} s: "
            f"RSS {before} KiB -> {after} KiB, {perConnection / 1024:.1f} KiB per connection",
            flush=True,
        )
        return perConnection
    finally:
        for s in sockets:
            s.close()
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--connections", type=int, default=5000)
    parser.add_argument("--no-anchor", action="store_true", help="Measure netref only.")
    args = parser.parse_args()
    if shutil.which("taskset") is None:
        sys.exit("taskset is not installed")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = args.connections * 2 + 1000
    if hard != resource.RLIM_INFINITY and hard < wanted:
        sys.exit(f"RLIMIT_NOFILE's hard limit {hard} is below the {wanted} needed")
    resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    import twisted

    print(f"Python {sys.version.split()[0]}, Twisted {twisted.__version__}")
    twistd = os.path.join(os.path.dirname(sys.executable), "twistd")
    workdir = tempfile.mkdtemp(prefix="netref-bench-httpmem-")
    root = os.path.join(workdir, "www")
    os.mkdir(root)
    with open(os.path.join(root, FILE_NAME), "wb") as f:
        f.write(os.urandom(9 * 1024))
    port = freePort()
    netref = measure(
        "netref",
        [
            twistd,
            "-n",
            "--pidfile=",
            "netref-http",
            "--root",
            root,
            "--listen",
            f"tcp:{port}:interface=127.0.0.1",
        ],
        port,
        args.connections,
        workdir,
    )
    if not args.no_anchor:
        port = freePort()
        anchor = measure(
            "twisted.web",
            [
                twistd,
                "-n",
                "--pidfile=",
                "web",
                "--path",
                root,
                "--listen",
                f"tcp:{port}:interface=127.0.0.1",
            ],
            port,
            args.connections,
            workdir,
        )
        print(f"netref / twisted.web per connection: {netref / anchor:.2f}")
    print(f"target: at most 20 KiB per connection: {'met' if netref <= 20 * 1024 else 'NOT met'}")
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
