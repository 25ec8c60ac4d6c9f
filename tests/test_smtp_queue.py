"""
Tests for L{netref.smtp.queue}: the durable outgoing queue, on a
L{task.Clock}, so five days of retries take milliseconds.
"""

from __future__ import annotations

import email
import os
from collections.abc import Sequence
from email.message import Message

from twisted.internet import defer, task
from twisted.internet.defer import Deferred
from twisted.trial.unittest import SynchronousTestCase

from netref.smtp.client import DeliveryError, DeliveryResult
from netref.smtp.queue import (
    ENVELOPE_SUFFIX,
    MAX_LIFETIME,
    MESSAGE_SUFFIX,
    OutgoingQueue,
    backoff,
)
from netref.smtp.wire import Reply

MESSAGE = (
    b"From: alice@crepes.fr\r\nTo: bob@hamburger.edu\r\nSubject: ketchup\r\n"
    b"Message-ID: <1@crepes.fr>\r\n\r\nDo you like ketchup?\r\n"
)


class FakeDeliverer:
    """
    A L{netref.smtp.queue.RemoteDeliverer} that records each attempt and
    answers as the test says: with a reply per recipient, with an error,
    or not yet (the test fires the Deferred).

    @ivar answer: a callable (domain, recipients) -> reply code, exception,
        or L{None} to leave the attempt hanging.
    """

    def __init__(self, clock: task.Clock, answer) -> None:
        self.clock = clock
        self.answer = answer
        self.attempts: list[tuple[float, str, str, tuple[str, ...], bytes]] = []
        self.hanging: list[Deferred[DeliveryResult]] = []

    def deliver(
        self, domain: str, mailFrom: str, recipients: Sequence[str], message: bytes
    ) -> Deferred[DeliveryResult]:
        self.attempts.append((self.clock.seconds(), domain, mailFrom, tuple(recipients), message))
        outcome = self.answer(domain, recipients)
        if outcome is None:
            d: Deferred[DeliveryResult] = Deferred()
            self.hanging.append(d)
            return d
        if isinstance(outcome, Exception):
            return defer.fail(outcome)
        replies = {r: outcome[r] if isinstance(outcome, dict) else outcome for r in recipients}
        return defer.succeed(DeliveryResult(f"mx.{domain}", replies))


def reply(code: int, text: str) -> Reply:
    return Reply(code, (text,))


OK = reply(250, "2.0.0 Ok: queued")
BUSY = reply(450, "4.2.1 mailbox busy")
UNKNOWN = reply(550, "5.1.1 no such user here")


class QueueTestCase(SynchronousTestCase):
    def setUp(self) -> None:
        self.clock = task.Clock()
        self.directory = self.mktemp()
        self.bounces: list[tuple[str, tuple[str, ...], bytes]] = []

    def makeQueue(self, answer, **kwargs) -> tuple[OutgoingQueue, FakeDeliverer]:
        deliverer = FakeDeliverer(self.clock, answer)
        queue = OutgoingQueue(
            self.directory, self.clock, deliverer, hostname="mail.crepes.fr", **kwargs
        )
        queue.start()
        self.addCleanup(queue.stop)
        return queue, deliverer

    def collectBounces(self, queue: OutgoingQueue) -> None:
        def submit(mailFrom: str, recipients: Sequence[str], message: bytes) -> Deferred[None]:
            self.bounces.append((mailFrom, tuple(recipients), message))
            return defer.succeed(None)

        queue.submitBounce = submit

    def files(self) -> list[str]:
        return sorted(os.listdir(self.directory))


def runUntilIdle(clock: task.Clock, limit: int = 10000) -> None:
    """
    Advance C{clock} to each timer in turn, exactly, until none is left.
    """
    for _ in range(limit):
        calls = clock.getDelayedCalls()
        if not calls:
            return
        clock.advance(max(0.0, min(c.getTime() for c in calls) - clock.seconds()))
    raise AssertionError("the clock never became idle")


def deliveryStatus(bounce: bytes) -> tuple[Message, list[Message]]:
    """
    @return: the notification parsed, and the blocks of its
        message/delivery-status part.
    """
    parsed = email.message_from_bytes(bounce)
    for part in parsed.walk():
        if part.get_content_type() == "message/delivery-status":
            return parsed, part.get_payload()
    raise AssertionError("no message/delivery-status part")


class DurabilityTests(QueueTestCase):
    def test_onDiskBeforeFiring(self) -> None:
        """
        When C{enqueue}'s Deferred fires, the message and its envelope are
        on disk; the first attempt is made right after.
        """
        queue, deliverer = self.makeQueue(lambda d, r: OK)
        queueId = self.successResultOf(
            queue.enqueue("alice@crepes.fr", ["bob@hamburger.edu"], MESSAGE)
        )
        self.assertEqual(self.files(), [queueId + ENVELOPE_SUFFIX, queueId + MESSAGE_SUFFIX])
        self.assertEqual(queue.messageBytes(queueId), MESSAGE)
        self.assertEqual(deliverer.attempts, [])
        self.clock.advance(0)
        self.assertEqual(
            deliverer.attempts,
            [(0.0, "hamburger.edu", "alice@crepes.fr", ("bob@hamburger.edu",), MESSAGE)],
        )
        # Delivered: nothing is left.
        self.assertEqual(self.files(), [])
        self.assertEqual(queue.entries(), [])


class RetryTests(QueueTestCase):
    def test_backoff(self) -> None:
        self.assertEqual(
            [backoff(n) for n in range(1, 8)], [300, 600, 1200, 2400, 4000, 4000, 4000]
        )
        self.assertEqual(backoff(3, firstRetry=10, maxBackoff=25), 25)

    def test_transientReplyRetryTiming(self) -> None:
        """
        A 4xx reply is retried after 5 minutes, then 10, 20, 40, then every
        4000 seconds (Postfix's maximal_backoff_time).
        """
        queue, deliverer = self.makeQueue(lambda d, r: BUSY)
        queue.enqueue("alice@crepes.fr", ["bob@hamburger.edu"], MESSAGE)
        self.clock.pump([0] + [100] * 200)
        times = [attempt[0] for attempt in deliverer.attempts]
        gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
        self.assertEqual(gaps[:7], [300, 600, 1200, 2400, 4000, 4000, 4000])
        [entry] = queue.entries()
        self.assertEqual(entry.recipients[0].status, "pending")
        self.assertIn("450 4.2.1 mailbox busy", entry.recipients[0].diagnostic)

    def test_connectionRefusedIsRetried(self) -> None:
        """
        A refused connection (no server answered) is a temporary failure:
        the message stays queued and is tried again, and delivered when the
        server is back.  (Twisted's relay manager strands such messages.)
        """
        up = []

        def answer(domain: str, recipients: Sequence[str]):
            if not up:
                return DeliveryError("127.2.3.3:2525: cannot connect (connection refused)")
            return OK

        queue, deliverer = self.makeQueue(answer)
        queue.enqueue("alice@crepes.fr", ["bob@hamburger.edu"], MESSAGE)
        self.clock.advance(0)
        self.assertEqual(len(deliverer.attempts), 1)
        self.assertIn("connection refused", queue.entries()[0].recipients[0].diagnostic)
        self.clock.advance(299)
        self.assertEqual(len(deliverer.attempts), 1)
        up.append(True)
        self.clock.advance(1)
        self.assertEqual(len(deliverer.attempts), 2)
        self.assertEqual(queue.entries(), [])
        self.assertEqual(self.files(), [])

    def test_perRecipientState(self) -> None:
        """
        One recipient delivered, another deferred: only the deferred one is
        tried again.
        """
        queue, deliverer = self.makeQueue(
            lambda d, r: (
                {"bob@hamburger.edu": OK, "carol@hamburger.edu": BUSY} if len(r) == 2 else OK
            )
        )
        queue.enqueue("alice@crepes.fr", ["bob@hamburger.edu", "carol@hamburger.edu"], MESSAGE)
        self.clock.advance(0)
        [entry] = queue.entries()
        self.assertEqual(
            [(r.address, r.status) for r in entry.recipients],
            [("bob@hamburger.edu", "delivered"), ("carol@hamburger.edu", "pending")],
        )
        self.clock.advance(300)
        self.assertEqual(deliverer.attempts[1][3], ("carol@hamburger.edu",))
        self.assertEqual(queue.entries(), [])

    def test_recipientsGroupedByDomain(self) -> None:
        """
        Recipients at one domain go in one transaction; each domain gets
        its own.
        """
        queue, deliverer = self.makeQueue(lambda d, r: OK)
        queue.enqueue(
            "alice@crepes.fr",
            ["bob@hamburger.edu", "carol@Hamburger.EDU", "dave@nyu.edu"],
            MESSAGE,
        )
        self.clock.advance(0)
        self.assertEqual(
            sorted((a[1], a[3]) for a in deliverer.attempts),
            [
                ("hamburger.edu", ("bob@hamburger.edu", "carol@Hamburger.EDU")),
                ("nyu.edu", ("dave@nyu.edu",)),
            ],
        )


class BounceTests(QueueTestCase):
    def test_permanentReplyBounces(self) -> None:
        """
        A 5xx reply is final: the sender gets an RFC 3464 delivery status
        notification, from the null sender, with the recipient, the status,
        the server's reply and the original header.
        """
        queue, deliverer = self.makeQueue(lambda d, r: UNKNOWN)
        self.collectBounces(queue)
        queue.enqueue("alice@crepes.fr", ["nobody@hamburger.edu"], MESSAGE)
        self.clock.advance(0)
        self.assertEqual(len(deliverer.attempts), 1)
        [(mailFrom, recipients, bounce)] = self.bounces
        self.assertEqual((mailFrom, recipients), ("", ("alice@crepes.fr",)))
        parsed, blocks = deliveryStatus(bounce)
        self.assertEqual(parsed.get_content_type(), "multipart/report")
        self.assertEqual(parsed.get_param("report-type"), "delivery-status")
        self.assertEqual(parsed["To"], "alice@crepes.fr")
        self.assertEqual(parsed["Auto-Submitted"], "auto-replied")
        self.assertEqual(blocks[0]["Reporting-MTA"], "dns; mail.crepes.fr")
        recipient = blocks[1]
        self.assertEqual(recipient["Final-Recipient"], "rfc822; nobody@hamburger.edu")
        self.assertEqual(recipient["Action"], "failed")
        self.assertEqual(recipient["Status"], "5.1.1")
        self.assertEqual(recipient["Remote-MTA"], "dns; mx.hamburger.edu")
        self.assertEqual(recipient["Diagnostic-Code"], "smtp; 550 5.1.1 no such user here")
        kinds = [part.get_content_type() for part in parsed.get_payload()]
        self.assertEqual(kinds, ["text/plain", "message/delivery-status", "text/rfc822-headers"])
        self.assertIn("Subject: ketchup", parsed.get_payload()[2].get_payload())
        self.assertIn(b"\r\n", bounce)
        self.assertNotIn(b"\n", bounce.replace(b"\r\n", b""))
        self.assertEqual(queue.entries(), [])
        self.assertEqual(self.files(), [])

    def test_bounceIsQueuedWithNullSender(self) -> None:
        """
        By default the bounce goes into the queue itself, with the null
        reverse-path, towards the sender's domain.
        """
        queue, deliverer = self.makeQueue(lambda d, r: UNKNOWN if d == "hamburger.edu" else OK)
        queue.enqueue("alice@crepes.fr", ["nobody@hamburger.edu"], MESSAGE)
        self.clock.advance(0)
        self.clock.advance(0)
        self.assertEqual(
            [(a[1], a[2], a[3]) for a in deliverer.attempts],
            [
                ("hamburger.edu", "alice@crepes.fr", ("nobody@hamburger.edu",)),
                ("crepes.fr", "", ("alice@crepes.fr",)),
            ],
        )
        self.assertIn(b"multipart/report", deliverer.attempts[1][4])

    def test_expiryBounce(self) -> None:
        """
        A message still deferred five days after it arrived is given up:
        the last try is made at the five days, and the bounce says 4.4.7
        (delivery time expired) with the last error.
        """
        queue, deliverer = self.makeQueue(lambda d, r: reply(421, "4.3.2 try again later"))
        self.collectBounces(queue)
        queue.enqueue("alice@crepes.fr", ["bob@hamburger.edu"], MESSAGE)
        runUntilIdle(self.clock)
        times = [a[0] for a in deliverer.attempts]
        self.assertEqual(times[-1], MAX_LIFETIME)
        self.assertEqual(times[:6], [0, 300, 900, 2100, 4500, 8500])
        [(_, recipients, bounce)] = self.bounces
        self.assertEqual(recipients, ("alice@crepes.fr",))
        _, blocks = deliveryStatus(bounce)
        self.assertEqual(blocks[1]["Status"], "4.4.7")
        self.assertEqual(blocks[1]["Action"], "failed")
        self.assertIn("421 4.3.2 try again later", blocks[1]["Diagnostic-Code"])
        self.assertEqual(queue.entries(), [])

    def test_nullSenderNeverBounced(self) -> None:
        """
        A message from the null sender (itself a bounce) that fails is
        dropped, never answered with another bounce (RFC 5321 section 6.1).
        """
        queue, deliverer = self.makeQueue(lambda d, r: UNKNOWN)
        self.collectBounces(queue)
        queue.enqueue("", ["nobody@hamburger.edu"], MESSAGE)
        self.clock.advance(0)
        self.assertEqual(len(deliverer.attempts), 1)
        self.assertEqual(self.bounces, [])
        self.assertEqual(queue.entries(), [])
        self.assertEqual(self.files(), [])

    def test_nullSenderExpiredNeverBounced(self) -> None:
        queue, deliverer = self.makeQueue(lambda d, r: BUSY)
        self.collectBounces(queue)
        queue.enqueue("", ["bob@hamburger.edu"], MESSAGE)
        self.clock.pump([0] + [5000.0] * 100)
        self.assertEqual(self.bounces, [])
        self.assertEqual(queue.entries(), [])

    def test_permanentDeliveryError(self) -> None:
        """
        A domain that does not exist is a permanent failure for all its
        recipients.
        """
        queue, deliverer = self.makeQueue(
            lambda d, r: DeliveryError(
                "nowhere.example: no such domain", permanent=True, statusCode="5.1.2"
            )
        )
        self.collectBounces(queue)
        queue.enqueue("alice@crepes.fr", ["x@nowhere.example"], MESSAGE)
        self.clock.advance(0)
        _, blocks = deliveryStatus(self.bounces[0][2])
        self.assertEqual(blocks[1]["Status"], "5.1.2")
        self.assertIn("no such domain", blocks[1]["Diagnostic-Code"])


class RestartTests(QueueTestCase):
    def test_restartResumes(self) -> None:
        """
        A new queue over the same directory picks up where the old one
        stopped, at the time the old one had planned.
        """
        queue, deliverer = self.makeQueue(lambda d, r: BUSY)
        queue.enqueue("alice@crepes.fr", ["bob@hamburger.edu", "carol@nyu.edu"], MESSAGE)
        self.clock.advance(0)
        queue.stop()
        self.assertEqual(len(deliverer.attempts), 2)
        # Remains of a crash: a message without an envelope (before its
        # 250) and a temporary file of an interrupted write.
        with open(os.path.join(self.directory, "deadbeef" + MESSAGE_SUFFIX), "wb") as f:
            f.write(b"half")
        with open(os.path.join(self.directory, "abc.tmp"), "wb") as f:
            f.write(b"half")
        self.clock.advance(100)
        second, again = self.makeQueue(lambda d, r: OK)
        [entry] = second.entries()
        self.assertEqual(entry.mailFrom, "alice@crepes.fr")
        self.assertEqual(len(self.files()), 2)
        self.clock.advance(199)
        self.assertEqual(again.attempts, [])
        self.clock.advance(1)
        self.assertEqual(
            sorted(a[3] for a in again.attempts), [("bob@hamburger.edu",), ("carol@nyu.edu",)]
        )
        self.assertEqual(again.attempts[0][4], MESSAGE)
        self.assertEqual(second.entries(), [])
        self.assertEqual(self.files(), [])

    def test_restartKeepsDeliveredRecipients(self) -> None:
        """
        The state of each recipient is on disk: after a restart, one
        already delivered is not sent again.
        """
        queue, _ = self.makeQueue(lambda d, r: OK if d == "hamburger.edu" else BUSY)
        queue.enqueue("alice@crepes.fr", ["bob@hamburger.edu", "carol@nyu.edu"], MESSAGE)
        self.clock.advance(0)
        queue.stop()
        second, again = self.makeQueue(lambda d, r: OK)
        self.clock.advance(300)
        self.assertEqual([a[3] for a in again.attempts], [("carol@nyu.edu",)])

    def test_stopCancelsAttempts(self) -> None:
        """
        Stopping cancels an attempt under way instead of waiting for it (a
        server may take minutes to answer); its recipient stays pending on
        disk, for the next start.
        """
        queue, deliverer = self.makeQueue(lambda d, r: None)
        queue.enqueue("alice@crepes.fr", ["bob@hamburger.edu"], MESSAGE)
        self.clock.advance(0)
        [attempt] = deliverer.hanging
        stopped = queue.stop()
        self.successResultOf(stopped)
        self.assertTrue(attempt.called)
        second, again = self.makeQueue(lambda d, r: OK)
        [entry] = second.entries()
        self.assertEqual(entry.recipients[0].status, "pending")
        runUntilIdle(self.clock)
        self.assertEqual(len(again.attempts), 1)
        self.assertEqual(second.entries(), [])


class ConcurrencyTests(QueueTestCase):
    def test_perDestinationLimit(self) -> None:
        """
        At most C{perDestinationLimit} attempts at once to one domain; the
        others wait their turn, and another domain is not held up.
        """
        queue, deliverer = self.makeQueue(lambda d, r: None, perDestinationLimit=2)
        for n in range(5):
            queue.enqueue("alice@crepes.fr", [f"u{n}@hamburger.edu"], MESSAGE)
        queue.enqueue("alice@crepes.fr", ["x@nyu.edu"], MESSAGE)
        self.clock.advance(0)
        domains = [a[1] for a in deliverer.attempts]
        self.assertEqual(domains.count("hamburger.edu"), 2)
        self.assertEqual(domains.count("nyu.edu"), 1)
        self.assertEqual(queue.activeConnections("hamburger.edu"), 2)
        deliverer.hanging[0].callback(DeliveryResult("mx", {"u0@hamburger.edu": OK}))
        self.assertEqual([a[1] for a in deliverer.attempts].count("hamburger.edu"), 3)
        self.assertEqual(queue.activeConnections("hamburger.edu"), 2)
        for d, attempt in zip(list(deliverer.hanging[1:]), deliverer.attempts[1:], strict=False):
            if not d.called:
                d.callback(DeliveryResult("mx", {attempt[3][0]: OK}))
        while any(not d.called for d in deliverer.hanging):
            for d, attempt in zip(deliverer.hanging, deliverer.attempts, strict=True):
                if not d.called:
                    d.callback(DeliveryResult("mx", {attempt[3][0]: OK}))
        self.assertEqual(len(deliverer.attempts), 6)
        self.assertEqual(queue.activeConnections("hamburger.edu"), 0)
        self.assertEqual(queue.entries(), [])
