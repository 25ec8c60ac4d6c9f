"""
Network namespaces for tests: little private networks of veth pairs, made
for one test and always deleted by its clean-up.

Needs root and a working C{ip netns}; L{netnsUnavailable} says why not, for
the skip reason.  Names are unique per process and per call (a counter and
the process id), so concurrent test runs never collide, and interface
names stay under Linux's 15 characters.
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
from collections.abc import Sequence
from typing import Any

_counter = itertools.count(1)
_unavailable: list[str | None] = []


def ipProgram() -> str | None:
    """
    @return: the path of C{ip}, or L{None}.
    """
    return shutil.which("ip") or shutil.which("ip", path="/usr/sbin:/sbin")


def netnsUnavailable() -> str | None:
    """
    @return: why network namespaces cannot be used here (for a skip
        reason), or L{None} when they can.  Tried once per process.
    """
    if _unavailable:
        return _unavailable[0]
    reason: str | None = None
    ip = ipProgram()
    if os.geteuid() != 0:
        reason = "network namespaces need root"
    elif ip is None:
        reason = "ip (iproute2) is not installed"
    else:
        name = f"nrprobe{os.getpid()}"
        made = subprocess.run([ip, "netns", "add", name], capture_output=True, check=False)
        if made.returncode != 0:
            reason = f"ip netns add fails: {made.stderr.decode(errors='replace').strip()}"
        else:
            subprocess.run([ip, "netns", "del", name], capture_output=True, check=False)
    _unavailable.append(reason)
    return reason


class Network:
    """
    Namespaces and veth pairs for one test; everything is deleted by the
    test's clean-up (namespaces last, after the processes in them, since
    clean-ups run in reverse order).
    """

    def __init__(self, testCase: Any) -> None:
        self.testCase = testCase
        self.tag = f"{os.getpid() % 100000}x{next(_counter)}"
        ip = ipProgram()
        assert ip is not None
        self.ip = ip

    def run(self, *arguments: str, namespace: str | None = None) -> str:
        """
        Run a command (in C{namespace}, if given), with a timeout.

        @return: its standard output.
        @raise subprocess.CalledProcessError: if it fails.
        """
        command = list(arguments)
        if namespace is not None:
            command = [self.ip, "netns", "exec", namespace, *command]
        done = subprocess.run(command, capture_output=True, timeout=20, check=True, text=True)
        return done.stdout

    def namespace(self, role: str) -> str:
        """
        Make a namespace, its loopback up.

        @return: its name.
        """
        name = f"nr{role}{self.tag}"
        self.run(self.ip, "netns", "add", name)
        self.testCase.addCleanup(self._delete, name)
        self.run(self.ip, "link", "set", "lo", "up", namespace=name)
        return name

    def _delete(self, name: str) -> None:
        subprocess.run([self.ip, "netns", "del", name], capture_output=True, check=False)

    def link(
        self, left: str, right: str, leftAddress: str | None, rightAddress: str | None
    ) -> tuple[str, str]:
        """
        Join two namespaces with a veth pair, both ends up.

        @param leftAddress: C{ADDR/PREFIX} for the left end, or L{None}.
        @param rightAddress: C{ADDR/PREFIX} for the right end, or L{None}.
        @return: the names of the left and right interfaces.
        """
        n = next(_counter)
        leftName, rightName = f"va{self.tag}{n}"[:15], f"vb{self.tag}{n}"[:15]
        self.run(
            self.ip, "link", "add", leftName, "netns", left,
            "type", "veth", "peer", "name", rightName, "netns", right,
        )  # fmt: skip
        for namespace, name, address in (
            (left, leftName, leftAddress),
            (right, rightName, rightAddress),
        ):
            if address is not None:
                self.run(self.ip, "addr", "add", address, "dev", name, namespace=namespace)
            self.run(self.ip, "link", "set", name, "up", namespace=namespace)
        return leftName, rightName

    def addresses(self, namespace: str, interface: str) -> list[str]:
        """
        @return: the IPv4 addresses on C{interface}, as C{ADDR/PREFIX}.
        """
        out = self.run(self.ip, "-4", "-o", "addr", "show", "dev", interface, namespace=namespace)
        return [line.split()[3] for line in out.splitlines() if " inet " in line]

    def command(self, namespace: str, arguments: Sequence[str]) -> list[str]:
        """
        @return: C{arguments} prefixed to run in C{namespace}.
        """
        return [self.ip, "netns", "exec", namespace, *arguments]
