"""
What every benchmark script here needs: a free port, a server started on
core 0 (C{taskset}), waited for until it answers and stopped afterwards, and
the CPU time a process has used.

The scripts run as C{python bench/NAME.py}, so they import this module as
C{common}.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO


def freePort() -> int:
    """
    @return: a TCP port free on 127.0.0.1 just now.
    """
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpuSeconds(pid: int) -> float:
    """
    @return: the user plus system CPU time of process C{pid} so far
        (proc(5): fields 14 and 15 of /proc/PID/stat, in clock ticks).
    """
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def pinnedServer(
    command: list[str],
    ready: Callable[[], bool],
    *,
    log: IO[str] | IO[bytes] | int = subprocess.DEVNULL,
    cwd: str | None = None,
    timeout: float = 30.0,
) -> Iterator[int]:
    """
    Run C{command} on core 0 until the block ends.

    @param ready: answers whether the server serves yet; asked every 0.1 s.
    @param log: where the server's output goes.
    @return: the server's process id (taskset runs the server in its own
        process, so it is the one whose CPU time counts).
    @raise RuntimeError: if the server exits, or is not ready in C{timeout}
        seconds.
    """
    process = subprocess.Popen(["taskset", "-c", "0", *command], stdout=log, stderr=log, cwd=cwd)
    try:
        deadline = time.monotonic() + timeout
        while not ready():
            if process.poll() is not None or time.monotonic() > deadline:
                where = f" (see {log.name})" if hasattr(log, "name") else ""
                raise RuntimeError(f"server did not start: {' '.join(command)}{where}")
            time.sleep(0.1)
        yield process.pid
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
