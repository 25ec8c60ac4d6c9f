"""
Small helpers the test modules share.
"""

from __future__ import annotations

import os
import socket

#: The repository's docs directory (present only in a source checkout).
DOCS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "docs")


def freePort() -> int:
    """
    @return: a port number free for both TCP and UDP on 127.0.0.1 just now,
        for a program that will bind both (a DNS server, the uppercase
        servers) and whose port the test must know beforehand.
    """
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
            tcp.bind(("127.0.0.1", 0))
            number = int(tcp.getsockname()[1])
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
                try:
                    udp.bind(("127.0.0.1", number))
                except OSError:
                    continue
                return number


def docsPage(name: str) -> str:
    """
    @return: the path of C{docs/NAME}.
    """
    return os.path.join(DOCS, name)


def embeddingExample(page: str) -> str | None:
    """
    The embedding example of a protocol's docs page: the first
    C{.. code-block:: python} after the "From Python" heading, which DESIGN.md
    asks a test to run.

    @param page: the path of the page.
    @return: the program, or L{None} without a source checkout.
    """
    if not os.path.exists(page):
        return None
    with open(page, encoding="utf-8") as f:
        text = f.read()
    section = text.split("\nFrom Python\n", 1)[1]
    block = section.split(".. code-block:: python\n", 1)[1]
    lines = []
    for line in block.split("\n"):
        if line and not line.startswith(" "):
            break
        lines.append(line[4:])
    return "\n".join(lines).strip() + "\n"


def findNSD() -> str | None:
    """
    @return: the path of NSD's server program, or L{None} when it is not
        installed (Debian puts it in C{/usr/sbin}, which a user's C{PATH} may
        lack).
    """
    import shutil

    return shutil.which("nsd") or shutil.which("nsd", path="/usr/sbin:/usr/local/sbin")


def writeNSDConfig(
    directory: str, port: int, zones: list[tuple[str, str]], serverOptions: str = ""
) -> str:
    """
    Write a configuration that runs NSD in the foreground as the current
    user, on 127.0.0.1 only, with every file of its own in C{directory}.

    @param directory: NSD's working directory; the zone files are in it.
    @param port: the UDP and TCP port.
    @param zones: C{(zone name, zone file name)} pairs.
    @param serverOptions: more lines for the C{server:} clause, each
        indented by four spaces.
    @return: the path of the configuration file.
    """
    lines = [
        "server:",
        f"    ip-address: 127.0.0.1@{port}",
        '    username: ""',
        '    chroot: ""',
        f'    zonesdir: "{directory}"',
        f'    pidfile: "{directory}/nsd.pid"',
        '    database: ""',
        f'    zonelistfile: "{directory}/zone.list"',
        f'    xfrdfile: "{directory}/xfrd.state"',
        "    server-count: 1",
        "    verbosity: 1",
    ]
    text = "\n".join(lines) + "\n" + serverOptions
    text += "remote-control:\n    control-enable: no\n"
    for name, fileName in zones:
        text += f"zone:\n    name: {name}\n    zonefile: {fileName}\n"
    path = os.path.join(directory, "nsd.conf")
    with open(path, "w") as f:
        f.write(text)
    return path
