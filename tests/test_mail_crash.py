"""
Crash safety: a mail server that said 250 has the message, whatever
happens next (RFC 5321 section 6.1).

The test runs C{twistd -n netref-mail} as a separate process, sends it
messages from several concurrent netref clients, SIGKILLs it at random
moments (no clean shutdown, no flush: what a power cut or the OOM killer
does), restarts it over the same state directory, and after a few rounds
checks that every message that received its 250 is there: in bob's Maildir
for the local recipient, in the outgoing queue for the remote one (the next
hop never answers, so the queue keeps it).  Messages whose 250 never came
may or may not be there; both are correct.
"""

from __future__ import annotations

import email
import os
import random
import socket
import sys

from twisted.internet import defer, reactor, task
from twisted.logger import Logger
from twisted.trial.unittest import TestCase

from netref.smtp.client import TLS_NEVER, DeliveryError, sendMail
from netref.smtp.queue import ENVELOPE_SUFFIX, MESSAGE_SUFFIX, QueueEntry
from tests.processes import converse
from tests.support import freePort

TWISTD = os.path.join(os.path.dirname(sys.executable), "twistd")

#: Kill-and-restart rounds.
ROUNDS = 4
#: Concurrent clients.
CLIENTS = 8


def sleep(seconds: float) -> defer.Deferred[None]:
    return task.deferLater(reactor, seconds, lambda: None)


def makeMessage(number: int) -> bytes:
    body = f"message {number}\r\n" + ("x" * 78 + "\r\n") * 25 + f"end of {number}\r\n"
    return (
        f"From: alice@crepes.fr\r\nSubject: crash test {number}\r\n"
        f"X-Test-Number: {number}\r\n\r\n{body}"
    ).encode()


class CrashTests(TestCase):
    timeout = 60

    def setUp(self) -> None:
        self.state = os.path.abspath(self.mktemp())
        self.port = freePort()
        self.submissionPort = freePort()
        self.nextHop = freePort()  # nothing listens there
        self.random = random.Random()
        self.seed = self.random.randrange(2**32)
        self.random.seed(self.seed)

    async def startServer(self):
        arguments = [
            "-n",
            "--pidfile=",
            "--logfile",
            os.path.join(self.state + ".log"),
            "netref-mail",
            "--state",
            self.state,
            "--domain",
            "hamburger.edu",
            "--user",
            "bob:secret",
            "--smtp",
            f"tcp:{self.port}:interface=127.0.0.1",
            "--submission",
            f"tcp:{self.submissionPort}:interface=127.0.0.1",
            "--allow-plaintext-auth",
            "--relayhost",
            f"127.0.0.1:{self.nextHop}",
            "--first-retry",
            "3600",
            "--max-backoff",
            "3600",
        ]
        server = converse(reactor, TWISTD, arguments, self)
        for _ in range(500):
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                    return server
            if server.ended.called:
                break
            await sleep(0.02)
        self.fail(f"netref-mail did not start: {server.errors!r}")

    async def client(self, numbers, acked: dict[int, str], running: list[bool]) -> None:
        while running:
            number = next(numbers)
            # Local mail on the SMTP port; mail to relay, which needs AUTH
            # (a slow scrypt check per connection), on the submission port.
            local = number % 4 != 0
            recipient = "bob@hamburger.edu" if local else "carol@nyu.edu"
            login = {} if local else {"username": "bob", "password": "secret"}
            try:
                result = await sendMail(
                    reactor,
                    "127.0.0.1",
                    self.port if local else self.submissionPort,
                    "alice@crepes.fr",
                    [recipient],
                    makeMessage(number),
                    heloName="crepes.fr",
                    tls=TLS_NEVER,
                    allowPlaintextAuth=True,
                    **login,
                    timeout=5,
                    connectTimeout=1,
                )
            except DeliveryError:
                await sleep(0.01)
                continue
            if result.accepted == [recipient]:
                acked[number] = recipient

    async def test_killedServerLosesNothingAcknowledged(self) -> None:
        acked: dict[int, str] = {}
        numbers = iter(range(10**9))
        for _ in range(ROUNDS):
            server = await self.startServer()
            running = [True]
            clients = [
                defer.ensureDeferred(self.client(numbers, acked, running)) for _ in range(CLIENTS)
            ]
            await sleep(self.random.uniform(0.3, 1.2))
            server.transport.signalProcess("KILL")
            await server.ended
            running.clear()
            await defer.gatherResults(clients)
        # Look with a server that restarted over the state, then stopped.
        server = await self.startServer()
        server.transport.signalProcess("TERM")
        await server.ended
        remote = sum(1 for r in acked.values() if r == "carol@nyu.edu")
        self.assertGreater(len(acked) - remote, 50, "too few local messages to prove anything")
        self.assertGreater(remote, 5, "too few relayed messages to prove anything")
        inbox = self.maildirNumbers()
        queued = self.queuedNumbers()
        lost = sorted(
            number
            for number, recipient in acked.items()
            if number not in (inbox if recipient == "bob@hamburger.edu" else queued)
        )
        Logger().info(
            "crash test: {acked} acknowledged, {inbox} in the Maildir, {queued} queued, "
            "{rounds} kills, seed {seed}",
            acked=len(acked),
            inbox=len(inbox),
            queued=len(queued),
            rounds=ROUNDS,
            seed=self.seed,
        )
        self.assertEqual(lost, [], f"lost acknowledged messages (seed {self.seed})")

    def maildirNumbers(self) -> set[int]:
        found: set[int] = set()
        root = os.path.join(self.state, "mail", "bob")
        for sub in ("new", "cur"):
            directory = os.path.join(root, sub)
            if not os.path.isdir(directory):
                continue
            for name in os.listdir(directory):
                with open(os.path.join(directory, name), "rb") as f:
                    data = f.read()
                number = int(email.message_from_bytes(data)["X-Test-Number"])
                # Whole, never a torn write.
                self.assertIn(f"end of {number}".encode(), data)
                found.add(number)
        return found

    def queuedNumbers(self) -> set[int]:
        found: set[int] = set()
        directory = os.path.join(self.state, "queue")
        for name in os.listdir(directory):
            if not name.endswith(ENVELOPE_SUFFIX):
                continue
            queueId = name[: -len(ENVELOPE_SUFFIX)]
            with open(os.path.join(directory, name), "rb") as f:
                entry = QueueEntry.fromJSON(f.read())
            self.assertEqual(entry.mailFrom, "alice@crepes.fr")
            with open(os.path.join(directory, queueId + MESSAGE_SUFFIX), "rb") as f:
                data = f.read()
            number = int(email.message_from_bytes(data)["X-Test-Number"])
            self.assertIn(f"end of {number}".encode(), data)
            found.add(number)
        return found
