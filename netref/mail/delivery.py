"""
Where an accepted message goes: the mail server's router.

The SMTP server hands every message it accepted to an
L{netref.smtp.interfaces.IDeliveryAgent} and answers C{250} only when that
agent says the message is safe.  L{MailRouter} is the agent of
C{twistd netref-mail}.  For each recipient it asks the
L{netref.mail.accounts.MailAccounts} (the server's
L{netref.smtp.interfaces.IRecipientPolicy}) whether the address is local:

  - a local address (after alias expansion) is delivered into the user's
    Maildir (L{netref.mail.maildir.MaildirStore}), with a C{Return-Path}
    field recording the envelope sender, as the final delivery must add
    (RFC 5321 section 4.4);
  - any other address goes into the outgoing queue
    (L{netref.smtp.queue.OutgoingQueue}), which relays it to the
    recipient's own server: Alice's server sending to Bob's in the
    textbook's story (section 2.3).

Both are written with fsync before the returned Deferred fires.  The
Maildir copies are written in a thread (the reactor's thread pool), so that
while the disk syncs one message the server goes on talking to its other
clients; the queue's copy is written on the reactor's thread (see
L{netref.smtp.queue}).  The router also takes the queue's bounces
(L{submit}), so a notification for a local sender lands in her mailbox
rather than going round the network.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from twisted.internet.defer import Deferred, maybeDeferred, succeed
from twisted.internet.threads import deferToThread
from twisted.logger import Logger
from zope.interface import implementer

from netref.mail.accounts import MailAccounts
from netref.mail.maildir import MaildirStore
from netref.smtp.interfaces import Envelope, IDeliveryAgent
from netref.smtp.queue import OutgoingQueue
from netref.smtp.wire import splitAddress

_log = Logger()


class UnknownLocalRecipientError(ValueError):
    """
    An address in a local domain reaches no mailbox.  The server refuses
    such recipients at RCPT time; here it means the accounts changed in
    between, and the message is not accepted (C{451}).
    """


@implementer(IDeliveryAgent)
class MailRouter:
    """
    Local recipients to their Maildirs, others to the outgoing queue.

    @ivar accounts: the local domains, users and aliases.
    @ivar store: the users' Maildirs.
    @ivar queue: the outgoing queue; its bounces come back through
        L{submit}.
    """

    def __init__(
        self,
        accounts: MailAccounts,
        store: MaildirStore,
        queue: OutgoingQueue,
        inThread: Callable[..., Deferred[Any]] = deferToThread,
    ) -> None:
        """
        @param inThread: runs a blocking call (the Maildir writes, with
            their fsyncs) away from the reactor's thread and returns a
            Deferred of its result: Twisted's C{deferToThread} by default;
            tests give one that runs it at once.
        """
        self.accounts = accounts
        self.store = store
        self.queue = queue
        self._inThread = inThread
        queue.submitBounce = self.submit

    def route(self, recipients: Sequence[str]) -> tuple[list[str], list[str], list[str]]:
        """
        Sort recipients.

        @return: the local users (each once, after aliases), the remote
            addresses, and the local addresses that reach nobody.
        """
        users: list[str] = []
        remote: list[str] = []
        unknown: list[str] = []
        for address in recipients:
            _, domain = splitAddress(address)
            if domain and not self.accounts.isLocalDomain(domain):
                if address not in remote:
                    remote.append(address)
                continue
            reached = self.accounts.localMailboxes(address)
            if reached is None:
                unknown.append(address)
                continue
            users.extend(user for user in reached if user not in users)
        return users, remote, unknown

    def deliver(self, envelope: Envelope, message: bytes) -> Deferred[None]:
        """
        Make C{message} durable for every recipient of C{envelope}.

        @return: fires when every local copy and the queue's copy are on
            disk; fails if any cannot be written (the server then answers
            C{451 4.3.0} and the client tries again later).
        """
        return maybeDeferred(self._deliver, envelope.mailFrom, envelope.recipients, message)

    def submit(self, mailFrom: str, recipients: Sequence[str], message: bytes) -> Deferred[None]:
        """
        Route a message made here (a bounce from the queue), as if it had
        been received.  A bounce for a local address nobody has is dropped:
        there is no one left to tell (a "double bounce").
        """
        return maybeDeferred(self._deliver, mailFrom, recipients, message)

    def _deliver(self, mailFrom: str, recipients: Sequence[str], message: bytes) -> Deferred[None]:
        users, remote, unknown = self.route(recipients)
        if unknown:
            if mailFrom:
                raise UnknownLocalRecipientError(f"no such local recipient: {', '.join(unknown)}")
            _log.warn(
                "Dropping a message from the null sender for {unknown}: no such mailbox",
                unknown=", ".join(unknown),
            )
        d: Deferred[Any] = succeed(None)
        if users:
            # RFC 5321 section 4.4: the server that makes the final delivery
            # records the reverse-path.
            local = f"Return-Path: <{mailFrom}>\r\n".encode() + message
            d = self._inThread(self._storeLocally, users, local)
        if remote:
            d.addCallback(lambda _: self.queue.enqueue(mailFrom, remote, message))
        return d.addCallback(lambda _: None)

    def _storeLocally(self, users: Sequence[str], message: bytes) -> None:
        """
        Deliver into each user's Maildir, durably (blocking: run in a
        thread).
        """
        for user in users:
            self.store.deliver(user, message)
