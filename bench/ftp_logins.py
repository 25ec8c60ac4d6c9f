"""
FTP login benchmark: 300 clients log in at once, against netref and
pyftpdlib.

Each server runs on 127.0.0.1 pinned to core 0 with taskset; the load
generator (this script, re-run as a child on core 1) opens 300 control
connections at once, and on each reads the 220 greeting, sends USER and
PASS, waits for 230, sends QUIT and waits for 221.  It prints the time from
the first connect to the last 221, and the server's resident memory (VmRSS
before, VmHWM: the peak) from /proc.

Two kinds of login are measured:

  - anonymous (both servers compare no password);
  - an account: netref checks an scrypt hash (RFC 7914, tens of
    milliseconds of work on purpose, in a thread), pyftpdlib compares
    the password in clear text.  This shows what hashed passwords cost.

Run it from the repository root:

    flock /tmp/netref-bench.lock python bench/ftp_logins.py --rounds 2

Traffic goes only to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time

from common import freePort

PYTHON = sys.executable
TWISTD = os.path.join(os.path.dirname(PYTHON), "twistd")


async def oneClient(port: int, user: str, password: str) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)

    async def reply() -> bytes:
        while True:
            line = await reader.readline()
            if not line:
                raise ConnectionError("closed")
            if line[3:4] == b" ":
                return line

    assert (await reply()).startswith(b"220")
    writer.write(f"USER {user}\r\n".encode())
    await writer.drain()
    assert (await reply()).startswith(b"331")
    writer.write(f"PASS {password}\r\n".encode())
    await writer.drain()
    answer = await reply()
    assert answer.startswith(b"230"), answer
    writer.write(b"QUIT\r\n")
    await writer.drain()
    assert (await reply()).startswith(b"221")
    writer.close()


async def loadAsync(port: int, clients: int, user: str, password: str) -> str:
    """
    @return: the seconds until every client is done, and how many failed
        (an error, or no 221 within 60 seconds).
    """
    start = time.perf_counter()
    results = await asyncio.gather(
        *(asyncio.wait_for(oneClient(port, user, password), 60) for _ in range(clients)),
        return_exceptions=True,
    )
    failed = sum(1 for r in results if isinstance(r, BaseException))
    return f"{time.perf_counter() - start} {failed}"


def memory(pid: int) -> dict[str, int]:
    values = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0])
    return values


def waitForGreeting(port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                if s.recv(100).startswith(b"220"):
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"no FTP server on port {port}")


def measure(command: list[str], port: int, clients: int, user: str, password: str) -> str:
    process = subprocess.Popen(
        ["taskset", "-c", "0", *command], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        waitForGreeting(port)
        time.sleep(0.5)
        before = memory(process.pid)
        out = subprocess.run(
            [
                "taskset",
                "-c",
                "1",
                PYTHON,
                __file__,
                "--client",
                str(port),
                str(clients),
                user,
                password,
            ],
            capture_output=True,
            text=True,
            timeout=300,
        )
        if out.returncode != 0:
            raise RuntimeError(out.stderr.strip().splitlines()[-1])
        after = memory(process.pid)
        secondsText, failed = out.stdout.split()
        seconds = float(secondsText)
        return (
            f"{seconds:6.2f} s  {failed} failed  RSS {before['VmRSS'] / 1024:6.1f} MiB before, "
            f"peak {after['VmHWM'] / 1024:6.1f} MiB"
        )
    finally:
        process.terminate()
        process.wait(10)


def main() -> None:
    if sys.argv[1:2] == ["--client"]:
        port, clients, user, password = sys.argv[2:6]
        print(asyncio.run(loadAsync(int(port), int(clients), user, password)))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--clients", type=int, default=300)
    options = parser.parse_args()
    directory = tempfile.mkdtemp(prefix="netref-bench-ftp-logins-")
    import pyftpdlib

    import twisted

    print(
        f"twisted {twisted.__version__}, pyftpdlib {pyftpdlib.__ver__}, {options.clients} clients"
    )
    times: dict[str, list[str]] = {}
    for round in range(options.rounds):
        cases = []
        port = freePort()
        netref = [TWISTD, "-n", "--pidfile=", "netref-ftp", "--root", directory]
        listen = ["--listen", f"tcp:{port}:interface=127.0.0.1:backlog=512"]
        cases.append(("netref anonymous", [*netref, "--anonymous", *listen], port, "anonymous"))
        port = freePort()
        pyftpd = [PYTHON, "-m", "pyftpdlib", "-i", "127.0.0.1", "-d", directory]
        cases.append(("pyftpdlib anonymous", [*pyftpd, "-p", str(port)], port, "anonymous"))
        port = freePort()
        listen = ["--listen", f"tcp:{port}:interface=127.0.0.1:backlog=512"]
        cases.append(
            ("netref scrypt user", [*netref, "--user", "bob:pw12345", *listen], port, "bob")
        )
        port = freePort()
        pyftpdUser = [*pyftpd, "-p", str(port), "-u", "bob", "-P", "pw12345"]
        cases.append(("pyftpdlib plain user", pyftpdUser, port, "bob"))
        for name, command, port, user in cases:
            password = "pw12345" if user == "bob" else "guest@"
            result = measure(command, port, options.clients, user, password)
            times.setdefault(name, []).append(result)
            print(f"round {round + 1}: {name:22} {result}", flush=True)


if __name__ == "__main__":
    main()
