"""
SMTP benchmark: Postfix's smtp-source against netref and its anchors, in
one run.

Every server listens on 127.0.0.1 pinned to core 0 with taskset;
smtp-source runs on core 1 and sends the same load to each:

    smtp-source -s 20 -m 5000 -l 2048 -f a@crepes.fr -t b@hamburger.edu 127.0.0.1:PORT

(20 parallel sessions, 5000 messages of 2 KB, a new connection per message).
The servers:

  - netref: netref.smtp.server.SMTPFactory with NullDelivery (accept, drop);
  - netref-maildir: the same with netref-mail's router, each message
    written durably (fsync) into b's Maildir before its 250;
  - twisted.mail: bench/twisted_mail_sink.py, an ESMTP server with a null
    IMessageDelivery and, like netref, no log line per message (the anchor:
    netref's target is 1.5x its rate);
  - aiosmtpd: python -m aiosmtpd with its Sink handler;
  - smtp-sink: Postfix's C test server (the ceiling).

The servers take turns for --rounds rounds, every other round in the
reverse order; the script prints every run, the median messages per second
of each, and the ratios to twisted.mail.

It also prints the CPU time the server process spent per message (user
plus system, from /proc/PID/stat, over the smtp-source run only, startup
excluded).  On a machine shared with other work the messages per second
follow the load; a server's CPU time per message follows it much less, so
its ratio is the steadier comparison of the servers' own costs.  (On a
loaded core it still grows somewhat: caches are shared.)

    flock /tmp/netref-bench.lock python bench/smtp_source.py --rounds 2

It needs smtp-source and smtp-sink (Debian: postfix) and taskset.
Traffic goes only to 127.0.0.1; every run is bounded by --timeout.
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
import time
from collections.abc import Iterator
from contextlib import contextmanager

from common import cpuSeconds, freePort, pinnedServer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SENDER = "a@crepes.fr"
RECIPIENT = "b@hamburger.edu"


def serveNetref(port: int, state: str | None) -> None:
    """
    Run netref's SMTP server (the --serve mode of this script).
    """
    sys.path.insert(0, ROOT)
    from twisted.internet import reactor

    from netref.mail.accounts import MailAccounts
    from netref.smtp.server import NullDelivery, SMTPFactory

    accounts = MailAccounts(["hamburger.edu"], ["b"])
    delivery: object
    if state is None:
        delivery = NullDelivery()
    else:
        from netref.mail.delivery import MailRouter
        from netref.mail.maildir import MaildirStore
        from netref.smtp.client import MXDeliverer
        from netref.smtp.queue import OutgoingQueue

        queue = OutgoingQueue(
            os.path.join(state, "queue"),
            reactor,
            MXDeliverer(reactor, None, heloName="x", relayHost=("127.0.0.1", 9)),
        )
        delivery = MailRouter(accounts, MaildirStore(os.path.join(state, "mail")), queue)
    factory = SMTPFactory("mail.hamburger.edu", accounts, delivery)  # type: ignore[arg-type]
    reactor.listenTCP(port, factory, interface="127.0.0.1", backlog=512)
    reactor.run()


def listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


@contextmanager
def running(command: list[str], port: int, workdir: str) -> Iterator[int]:
    with open(os.path.join(workdir, "server.log"), "ab") as log:
        with pinnedServer(command, lambda: listening(port), log=log, cwd=workdir) as pid:
            yield pid


def servers(workdir: str, python: str) -> dict[str, tuple[list[str], int]]:
    """
    @return: name to (command, port) for every server available.
    """
    result: dict[str, tuple[list[str], int]] = {}
    script = os.path.abspath(__file__)
    port = freePort()
    result["netref"] = ([python, script, "--serve", str(port)], port)
    port = freePort()
    state = tempfile.mkdtemp(prefix="maildir-", dir=workdir)
    result["netref-maildir"] = ([python, script, "--serve", str(port), "--state", state], port)
    port = freePort()
    result["twisted.mail"] = (
        [python, os.path.join(ROOT, "bench", "twisted_mail_sink.py"), str(port)],
        port,
    )
    port = freePort()
    result["aiosmtpd"] = (
        [
            python,
            "-m",
            "aiosmtpd",
            "-n",
            "-l",
            f"127.0.0.1:{port}",
            "-c",
            "aiosmtpd.handlers.Sink",
        ],
        port,
    )
    sink = shutil.which("smtp-sink") or shutil.which("smtp-sink", path="/usr/sbin")
    if sink:
        port = freePort()
        user = ["-u", "nobody"] if os.geteuid() == 0 else []
        result["smtp-sink"] = ([sink, *user, f"127.0.0.1:{port}", "256"], port)
    return result


def smtpSource(port: int, sessions: int, messages: int, length: int, timeout: float) -> float:
    """
    @return: seconds smtp-source took to send every message.
    @raise RuntimeError: if it failed.
    """
    source = shutil.which("smtp-source") or shutil.which("smtp-source", path="/usr/sbin")
    assert source is not None
    command = [
        "taskset", "-c", "1", source,
        "-s", str(sessions), "-m", str(messages), "-l", str(length),
        "-f", SENDER, "-t", RECIPIENT, f"127.0.0.1:{port}",
    ]  # fmt: skip
    started = time.monotonic()
    done = subprocess.run(command, capture_output=True, timeout=timeout)
    elapsed = time.monotonic() - started
    if done.returncode != 0 or done.stderr:
        raise RuntimeError(f"smtp-source failed ({done.returncode}): {done.stderr[-300:]!r}")
    return elapsed


def versions(python: str) -> str:
    code = (
        "import sys, twisted, aiosmtpd; "
        "print('Python', sys.version.split()[0], '| Twisted', twisted.__version__, "
        "'| aiosmtpd', aiosmtpd.__version__)"
    )
    out = subprocess.run([python, "-c", code], capture_output=True, text=True).stdout.strip()
    postfix = subprocess.run(
        ["dpkg-query", "-W", "-f=${Version}", "postfix"], capture_output=True, text=True
    ).stdout.strip()
    return f"{out} | postfix (smtp-source, smtp-sink) {postfix or '?'}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--length", type=int, default=2048)
    parser.add_argument("--timeout", type=float, default=300)
    parser.add_argument("--only", action="append", help="run only this server (repeatable)")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--state", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve is not None:
        serveNetref(args.serve, args.state)
        return
    for program in ("taskset", "smtp-source"):
        if not (shutil.which(program) or shutil.which(program, path="/usr/sbin")):
            sys.exit(f"{program} is needed")
    python = sys.executable
    print(versions(python))
    print(
        f"smtp-source -s {args.sessions} -m {args.messages} -l {args.length} "
        f"-f {SENDER} -t {RECIPIENT} 127.0.0.1:PORT  (server on core 0, smtp-source on core 1)"
    )
    rates: dict[str, list[float]] = {}
    costs: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="netref-bench-smtp-") as workdir:
        names = [n for n in servers(workdir, python) if not args.only or n in args.only]
        for round in range(1, args.rounds + 1):
            # Fresh ports every round, so that one round's connections cannot
            # meet the next's (the rounds print how many connections are in
            # TIME_WAIT: on this machine, almost none).
            table = servers(workdir, python)
            # Every other round in the reverse order, so that no server
            # always runs first, or always right after the same one.
            for name in names if round % 2 else names[::-1]:
                command, port = table[name]
                with running(command, port, workdir) as pid:
                    before = cpuSeconds(pid)
                    seconds = smtpSource(
                        port, args.sessions, args.messages, args.length, args.timeout
                    )
                    cost = (cpuSeconds(pid) - before) / args.messages * 1e6
                rate = args.messages / seconds
                rates.setdefault(name, []).append(rate)
                costs.setdefault(name, []).append(cost)
                print(
                    f"round {round}  {name:15} {seconds:7.2f} s  {rate:8.0f} msg/s"
                    f"  server CPU {cost:6.0f} us/msg  (load {_load()},"
                    f" {_timeWait()} in TIME_WAIT)",
                    flush=True,
                )
        if "netref-maildir" in names:
            stored = sum(len(os.listdir(os.path.join(root, "new"))) for root in _maildirs(workdir))
            print(f"netref-maildir stored {stored} messages durably in all")
    print()
    anchor = statistics.median(rates["twisted.mail"]) if "twisted.mail" in rates else None
    anchorCost = statistics.median(costs["twisted.mail"]) if "twisted.mail" in costs else None
    for name, values in rates.items():
        median = statistics.median(values)
        ratio = f"  {median / anchor:5.2f}x twisted.mail" if anchor else ""
        cost = statistics.median(costs[name])
        # How many messages per CPU second, relative to the anchor's.
        costRatio = f"  {anchorCost / cost:5.2f}x twisted.mail" if anchorCost else ""
        print(
            f"{name:15} median {median:8.0f} msg/s{ratio}"
            f"   server CPU {cost:6.0f} us/msg{costRatio}"
        )


def _timeWait() -> int:
    """
    @return: how many TCP connections are in TIME_WAIT on this machine.
    """
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                next(f)
                count += sum(1 for line in f if line.split()[3] == "06")
        except OSError:
            pass
    return count


def _load() -> str:
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def _maildirs(workdir: str) -> list[str]:
    found = []
    for directory, subdirectories, _ in os.walk(workdir):
        if "new" in subdirectories and "cur" in subdirectories:
            found.append(directory)
    return found


if __name__ == "__main__":
    main()
