"""
Interop: Postfix's C{smtp-sink} as the next hop of netref's outgoing queue.

smtp-sink is Postfix's test SMTP server.  Its fault flags drive every path
of the queue against a server nobody here wrote:

  - no flag: the message is delivered (and dumped with C{-d}, envelope
    included, so the test sees what arrived);
  - C{-r RCPT} (soft, 450 4.3.0) and C{-Q DATA} (421 and hang up), C{-q
    MAIL} (hang up without a reply): temporary failures, retried;
  - C{-f RCPT} and C{-f .} (hard, 500 5.3.0): permanent failures,
    bounced to the sender with an RFC 3464 notification.

The queue runs on the real reactor with retries a fraction of a second
apart, so the retries happen while the test waits.
"""

from __future__ import annotations

import email
import os
import shutil
import socket
import tempfile
from collections.abc import Sequence
from typing import Any

from twisted.internet import defer, reactor, task
from twisted.trial.unittest import SkipTest, TestCase

from netref.smtp.client import TLS_OPPORTUNISTIC, MXDeliverer
from netref.smtp.queue import OutgoingQueue
from tests.processes import converse
from tests.support import freePort

SMTP_SINK = shutil.which("smtp-sink") or shutil.which(
    "smtp-sink", path="/usr/sbin:/usr/local/sbin"
)

MESSAGE = (
    b"From: alice@crepes.fr\r\nTo: bob@hamburger.edu\r\nSubject: ketchup\r\n\r\n"
    b"Do you like ketchup?\r\n.dot\r\n"
)


def sleep(seconds: float) -> defer.Deferred[None]:
    return task.deferLater(reactor, seconds, lambda: None)


class SmtpSinkTests(TestCase):
    def setUp(self) -> None:
        if SMTP_SINK is None:
            raise SkipTest("smtp-sink (Postfix) is not installed")
        self.port = freePort()
        # smtp-sink writes its dumps as "nobody" when run by root: a
        # directory it can reach, outside trial's private one.
        self.dumps = tempfile.mkdtemp(prefix="netref-sink-")
        os.chmod(self.dumps, 0o777)
        self.addCleanup(shutil.rmtree, self.dumps, True)
        self.bounces: list[tuple[str, tuple[str, ...], bytes]] = []

    async def startSink(self, *flags: str) -> None:
        arguments = list(flags)
        if os.geteuid() == 0:
            # smtp-sink refuses to run as root without giving up privileges.
            arguments = ["-u", "nobody", *arguments]
        arguments += ["-d", os.path.join(self.dumps, "%H%M%S."), f"127.0.0.1:{self.port}", "10"]
        self.sink = converse(reactor, SMTP_SINK, arguments, self)
        for _ in range(200):
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            await sleep(0.02)
        self.fail(f"smtp-sink did not start: {self.sink.errors!r}")

    def makeQueue(self) -> OutgoingQueue:
        deliverer = MXDeliverer(
            reactor,
            None,
            heloName="mail.crepes.fr",
            relayHost=("127.0.0.1", self.port),
            tls=TLS_OPPORTUNISTIC,
            timeout=10,
        )
        queue = OutgoingQueue(
            self.mktemp(),
            reactor,
            deliverer,
            hostname="mail.crepes.fr",
            firstRetry=0.2,
            maxBackoff=0.4,
        )

        def submit(
            mailFrom: str, recipients: Sequence[str], message: bytes
        ) -> defer.Deferred[None]:
            self.bounces.append((mailFrom, tuple(recipients), message))
            return defer.succeed(None)

        queue.submitBounce = submit
        queue.start()
        self.addCleanup(queue.stop)
        return queue

    async def until(self, condition: Any, what: str, seconds: float = 10.0) -> None:
        for _ in range(int(seconds / 0.02)):
            if condition():
                return
            await sleep(0.02)
        self.fail(f"timed out waiting for {what}")

    def dumped(self) -> list[bytes]:
        result = []
        for name in sorted(os.listdir(self.dumps)):
            with open(os.path.join(self.dumps, name), "rb") as f:
                result.append(f.read())
        return result

    async def test_delivered(self) -> None:
        """
        The queue delivers to smtp-sink: envelope and message arrive
        intact (the dot-stuffed line unstuffed), and the queue empties.
        """
        await self.startSink()
        queue = self.makeQueue()
        await queue.enqueue(
            "alice@crepes.fr", ["bob@hamburger.edu", "carol@hamburger.edu"], MESSAGE
        )
        await self.until(lambda: not queue.entries() and self.dumped(), "delivery")
        [dump] = self.dumped()
        self.assertIn(b"X-Mail-Args: <alice@crepes.fr>", dump)
        self.assertIn(b"X-Rcpt-Args: <bob@hamburger.edu>", dump)
        self.assertIn(b"X-Rcpt-Args: <carol@hamburger.edu>", dump)
        self.assertIn(b"X-Helo-Args: mail.crepes.fr", dump)
        self.assertIn(b"Do you like ketchup?\n.dot\n", dump.replace(b"\r\n", b"\n"))
        self.assertEqual(self.bounces, [])

    async def assertRetried(self, *flags: str, diagnostic: str) -> None:
        await self.startSink(*flags)
        queue = self.makeQueue()
        await queue.enqueue("alice@crepes.fr", ["bob@hamburger.edu"], MESSAGE)
        await self.until(
            lambda: queue.entries() and queue.entries()[0].recipients[0].attempts >= 3,
            "three attempts",
        )
        [entry] = queue.entries()
        recipient = entry.recipients[0]
        self.assertEqual(recipient.status, "pending")
        self.assertIn(diagnostic, recipient.diagnostic)
        self.assertEqual(self.bounces, [])
        self.assertEqual(self.dumped(), [])

    async def test_softRejectRcptIsRetried(self) -> None:
        await self.assertRetried("-r", "RCPT", diagnostic="450 4.3.0 Error: command failed")

    async def test_421IsRetried(self) -> None:
        await self.assertRetried("-Q", "DATA", diagnostic="421")

    async def test_hangUpIsRetried(self) -> None:
        await self.assertRetried("-q", "MAIL", diagnostic="connection lost")

    async def test_retriedThenDelivered(self) -> None:
        """
        A sink that fails softly, then is replaced by one that accepts:
        the queue's next retry delivers.
        """
        await self.startSink("-r", "RCPT")
        queue = self.makeQueue()
        await queue.enqueue("alice@crepes.fr", ["bob@hamburger.edu"], MESSAGE)
        await self.until(lambda: queue.entries()[0].recipients[0].attempts >= 1, "an attempt")
        await self.sink.stop()
        await self.startSink()
        await self.until(lambda: not queue.entries(), "delivery after retry")
        self.assertEqual(len(self.dumped()), 1)

    async def assertBounced(self, *flags: str) -> Any:
        await self.startSink(*flags)
        queue = self.makeQueue()
        await queue.enqueue("alice@crepes.fr", ["bob@hamburger.edu"], MESSAGE)
        await self.until(lambda: self.bounces and not queue.entries(), "a bounce")
        [(mailFrom, recipients, bounce)] = self.bounces
        self.assertEqual((mailFrom, recipients), ("", ("alice@crepes.fr",)))
        parsed = email.message_from_bytes(bounce)
        [status] = [p for p in parsed.walk() if p.get_content_type() == "message/delivery-status"]
        block = status.get_payload()[1]
        self.assertEqual(block["Final-Recipient"], "rfc822; bob@hamburger.edu")
        self.assertEqual(block["Action"], "failed")
        self.assertEqual(block["Status"], "5.3.0")
        self.assertIn("500 5.3.0 Error: command failed", block["Diagnostic-Code"])
        return block

    async def test_hardRejectRcptBounces(self) -> None:
        await self.assertBounced("-f", "RCPT")
        self.assertEqual(self.dumped(), [])

    async def test_hardRejectEndOfDataBounces(self) -> None:
        await self.assertBounced("-f", ".")
