"""
Tests for L{netref.mail.delivery.MailRouter}: local recipients into
Maildirs, others into the queue, bounces of the queue back to local
senders.
"""

from __future__ import annotations

import os
import threading

from twisted.internet import defer, task
from twisted.trial.unittest import SynchronousTestCase, TestCase
from zope.interface.verify import verifyObject

from netref.mail.accounts import MailAccounts
from netref.mail.delivery import MailRouter, UnknownLocalRecipientError
from netref.mail.maildir import MaildirStore
from netref.smtp.client import DeliveryResult
from netref.smtp.interfaces import Envelope, IDeliveryAgent
from netref.smtp.queue import OutgoingQueue
from netref.smtp.wire import Reply

MESSAGE = b"Received: from crepes.fr\r\nSubject: ketchup\r\n\r\nDo you like ketchup?\r\n"


def envelope(mailFrom: str, *recipients: str) -> Envelope:
    return Envelope(mailFrom, tuple(recipients), "crepes.fr", "127.0.0.1", None, False, 0.0)


class Remote:
    def __init__(self, code: int) -> None:
        self.code = code
        self.sent: list[tuple[str, str, tuple[str, ...]]] = []

    def deliver(self, domain, mailFrom, recipients, message):
        self.sent.append((domain, mailFrom, tuple(recipients)))
        return defer.succeed(
            DeliveryResult("mx", {r: Reply(self.code, ("5.1.1 no",)) for r in recipients})
        )


class MailRouterTests(SynchronousTestCase):
    def setUp(self) -> None:
        root = self.mktemp()
        self.clock = task.Clock()
        self.accounts = MailAccounts(
            ["crepes.fr"], ["alice", "carol"], {"team": ["alice", "carol"]}
        )
        self.store = MaildirStore(os.path.join(root, "mail"))
        self.remote = Remote(550)
        self.queue = OutgoingQueue(
            os.path.join(root, "queue"), self.clock, self.remote, hostname="mail.crepes.fr"
        )
        self.queue.start()
        self.addCleanup(self.queue.stop)
        self.router = MailRouter(
            self.accounts, self.store, self.queue, inThread=defer.maybeDeferred
        )

    def inbox(self, user: str) -> list[bytes]:
        folder = self.store.mailbox(user)
        return [folder.read(info.key) for info in folder.messages()]

    def test_interface(self) -> None:
        self.assertTrue(verifyObject(IDeliveryAgent, self.router))

    def test_localAndRemote(self) -> None:
        """
        Local users get the message (once each, aliases expanded) with a
        Return-Path; remote recipients are queued, durably, before the
        Deferred fires.
        """
        d = self.router.deliver(
            envelope("bob@hamburger.edu", "team@crepes.fr", "Alice@crepes.fr", "dave@nyu.edu"),
            MESSAGE,
        )
        self.successResultOf(d)
        for user in ("alice", "carol"):
            [stored] = self.inbox(user)
            self.assertTrue(stored.startswith(b"Return-Path: <bob@hamburger.edu>"))
            self.assertIn(b"Do you like ketchup?", stored)
        [entry] = self.queue.entries()
        self.assertEqual([r.address for r in entry.recipients], ["dave@nyu.edu"])
        self.assertEqual(self.queue.messageBytes(entry.queueId), MESSAGE)

    def test_bounceComesHome(self) -> None:
        """
        A message from alice that bob's server refuses comes back into
        alice's Maildir as a delivery status notification, not round the
        network.
        """
        self.successResultOf(
            self.router.deliver(envelope("alice@crepes.fr", "x@hamburger.edu"), MESSAGE)
        )
        self.clock.advance(0)
        self.assertEqual(
            self.remote.sent, [("hamburger.edu", "alice@crepes.fr", ("x@hamburger.edu",))]
        )
        [bounce] = self.inbox("alice")
        self.assertIn(b"Return-Path: <>", bounce)
        self.assertIn(b"multipart/report", bounce)
        self.assertIn(b"Final-Recipient: rfc822; x@hamburger.edu", bounce)
        self.assertEqual(self.queue.entries(), [])

    def test_unknownLocalRecipient(self) -> None:
        d = self.router.deliver(envelope("bob@hamburger.edu", "nobody@crepes.fr"), MESSAGE)
        self.failureResultOf(d, UnknownLocalRecipientError)

    def test_doubleBounceDropped(self) -> None:
        d = self.router.submit("", ["nobody@crepes.fr"], MESSAGE)
        self.successResultOf(d)


class ThreadedDeliveryTests(TestCase):
    """
    By default the Maildir copies are written in the reactor's thread pool,
    and the Deferred fires once they are on disk.
    """

    async def test_writtenInAThread(self) -> None:
        root = self.mktemp()
        store = MaildirStore(os.path.join(root, "mail"))
        queue = OutgoingQueue(os.path.join(root, "queue"), task.Clock(), Remote(250))
        router = MailRouter(MailAccounts(["crepes.fr"], ["alice"]), store, queue)
        threads = []
        deliver = store.deliver

        def recordingDeliver(user: str, message: bytes) -> str:
            threads.append(threading.current_thread())
            return deliver(user, message)

        self.patch(store, "deliver", recordingDeliver)
        await router.deliver(envelope("bob@hamburger.edu", "alice@crepes.fr"), MESSAGE)
        self.assertEqual(len(threads), 1)
        self.assertIsNot(threads[0], threading.main_thread())
        [info] = store.mailbox("alice").messages()
        self.assertIn(b"Do you like ketchup?", store.mailbox("alice").read(info.key))
