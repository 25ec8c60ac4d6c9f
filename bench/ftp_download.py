"""
FTP download benchmark: curl fetches a 1 GiB file over loopback from
netref, pyftpdlib, Twisted's own FTP server (C{twistd ftp}) and vsftpd.

Each server serves the same directory on 127.0.0.1, pinned to core 0 with
taskset; curl runs on core 1 (C{curl -o /dev/null}, passive mode, anonymous
login).  The servers take turns for several rounds, so a slow spell of the
machine hits all of them alike; the script prints every run, the median
throughput of each server, and the ratios against netref.

Run it from the repository root (vsftpd needs root; it is skipped
otherwise):

    flock /tmp/netref-bench.lock python bench/ftp_download.py --rounds 3

It needs curl, taskset and (optionally) vsftpd.  The file is generated once
in /tmp (1 GiB of pseudo-random blocks, so compression or sparse files play
no part) and reused.  Traffic goes only to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import os
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
PYTHON = sys.executable
TWISTD = os.path.join(os.path.dirname(PYTHON), "twistd")
SIZE = 1 << 30


def greets(port: int) -> bool:
    """
    Whether an FTP server greets on 127.0.0.1:port.
    """
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            return s.recv(100).startswith(b"220")
    except OSError:
        return False


def makeFile(directory: str) -> str:
    path = os.path.join(directory, "big.bin")
    if os.path.exists(path) and os.path.getsize(path) == SIZE:
        return path
    block = os.urandom(1 << 20)
    with open(path, "wb") as f:
        for i in range(SIZE >> 20):
            f.write(block[i % 997 :] + block[: i % 997])
    os.chmod(path, 0o644)
    return path


@contextmanager
def server(command: list[str], port: int, cwd: str | None = None) -> Iterator[int]:
    with pinnedServer(command, lambda: greets(port), cwd=cwd, timeout=20) as pid:
        yield pid


def vsftpdConfig(directory: str, port: int) -> str:
    empty = tempfile.mkdtemp(prefix="vsftpd-empty-")
    config = os.path.join(tempfile.mkdtemp(prefix="vsftpd-conf-"), "vsftpd.conf")
    with open(config, "w") as f:
        f.write(
            "\n".join(
                [
                    "listen=YES",
                    "listen_ipv6=NO",
                    "listen_address=127.0.0.1",
                    f"listen_port={port}",
                    "background=NO",
                    "anonymous_enable=YES",
                    f"anon_root={directory}",
                    "no_anon_password=YES",
                    "local_enable=NO",
                    "write_enable=NO",
                    f"secure_chroot_dir={empty}",
                    "seccomp_sandbox=NO",
                    "xferlog_enable=NO",
                    "check_shell=NO",
                    "",
                ]
            )
        )
    return config


def servers(directory: str) -> dict[str, tuple[list[str], int]]:
    """
    @return: the command line and port of each server under test.
    """
    found = {}
    port = freePort()
    found["netref"] = (
        [
            TWISTD,
            "-n",
            "--pidfile=",
            "netref-ftp",
            "--root",
            directory,
            "--anonymous",
            "--listen",
            f"tcp:{port}:interface=127.0.0.1",
        ],
        port,
    )
    port = freePort()
    found["pyftpdlib"] = (
        [PYTHON, "-m", "pyftpdlib", "-i", "127.0.0.1", "-p", str(port), "-d", directory],
        port,
    )
    port = freePort()
    found["twistd ftp"] = (
        [
            TWISTD,
            "-n",
            "--pidfile=",
            "ftp",
            "--root",
            directory,
            # twistd ftp takes a port number only, and binds every
            # interface; the traffic still goes to 127.0.0.1.
            "--port",
            str(port),
        ],
        port,
    )
    vsftpd = shutil.which("vsftpd") or shutil.which("vsftpd", path="/usr/sbin")
    if vsftpd is not None and os.geteuid() == 0:
        port = freePort()
        found["vsftpd"] = ([vsftpd, vsftpdConfig(directory, port)], port)
    return found


def download(port: int) -> float:
    """
    @return: the throughput of one curl download, in MB/s.
    """
    out = subprocess.run(
        [
            "taskset",
            "-c",
            "1",
            "curl",
            "-sS",
            "--max-time",
            "120",
            "-o",
            "/dev/null",
            "-w",
            "%{size_download} %{time_total}",
            f"ftp://127.0.0.1:{port}/big.bin",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    size, seconds = out.split()
    if int(size) != SIZE:
        raise RuntimeError(f"short download: {size} bytes")
    return SIZE / float(seconds) / 1e6


def versions() -> None:
    import pyftpdlib

    import twisted

    curl = subprocess.run(["curl", "--version"], capture_output=True, text=True).stdout
    print(f"python {sys.version.split()[0]}, twisted {twisted.__version__}, ", end="")
    print(f"pyftpdlib {pyftpdlib.__ver__}, {curl.splitlines()[0]}")
    if shutil.which("dpkg-query"):
        result = subprocess.run(
            ["dpkg-query", "-W", "-f=${Version}", "vsftpd"], capture_output=True, text=True
        )
        if result.returncode == 0:
            print(f"vsftpd {result.stdout.strip()} (Debian package)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--directory", default="/tmp/netref-bench-ftp")
    options = parser.parse_args()
    os.makedirs(options.directory, exist_ok=True)
    os.chmod(options.directory, 0o755)
    makeFile(options.directory)
    versions()
    table = servers(options.directory)
    results: dict[str, list[float]] = {name: [] for name in table}
    for round in range(options.rounds):
        for name, (command, port) in table.items():
            with server(command, port):
                download(port)  # warm the page cache and the server
                rate = download(port)
            results[name].append(rate)
            print(f"round {round + 1}: {name:12} {rate:8.0f} MB/s", flush=True)
    medians = {name: statistics.median(rates) for name, rates in results.items()}
    print("\nmedian MB/s: " + ", ".join(f"{n} {m:.0f}" for n, m in medians.items()))
    for name, median in medians.items():
        if name != "netref":
            print(f"netref / {name}: {medians['netref'] / median:.2f}x")


if __name__ == "__main__":
    main()
