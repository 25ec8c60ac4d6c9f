"""
The outgoing mail queue: what a mail server does with a message for another
domain after it has said C{250}.

Saying C{250} to the end of a message's data makes the server responsible
for it (RFC 5321 section 4.1.1.4: the receiver "accepts responsibility for
delivering or relaying the message").  The queue keeps that promise:

  - B{Durability.}  L{OutgoingQueue.enqueue} writes the message and its
    envelope with L{netref.core.durable.writeAtomically} (a temporary file,
    fsync, rename, fsync of the directory) before its Deferred fires, so
    the C{250} goes out only once the message would survive a crash.  The
    envelope file is written last: a message file without one is the
    remains of a crash before the C{250} and is removed at start-up.
  - B{Retries.}  A temporary failure (a C{4xx} reply, a refused or broken
    connection, a DNS lookup that fails) is retried with a back-off, as
    Postfix does: the first retry after 5 minutes, each wait double the
    one before, never more than 4000 seconds (Postfix's
    C{minimal_backoff_time} and C{maximal_backoff_time}); RFC 5321 section
    4.5.4.1 asks for at least 30 minutes between retries to one
    destination and allows shorter ones, such as the first.
  - B{Giving up.}  A C{5xx} reply is final for the recipient it concerns;
    a message still undelivered 5 days after it arrived expires (RFC 5321
    section 4.5.4.1: "at least 4-5 days").  Either way the sender gets a
    delivery status notification (RFC 3464, L{makeBounce}), unless the
    sender is the null reverse-path C{<>}: notifications are sent with a
    null sender and are never answered by another (RFC 5321 sections 4.5.5
    and 6.1), which is what keeps two servers from bouncing a bounce back
    and forth forever.
  - B{Recipients one by one.}  Each recipient has its own state: one may
    be delivered while another, at another domain or refused with a
    C{4xx}, waits for its retry.  Recipients at the same domain are sent
    together, in one transaction.
  - B{Politeness.}  At most L{OutgoingQueue.perDestinationLimit}
    connections at a time to one domain (Postfix's
    C{default_destination_concurrency_limit}).
  - B{Restarts.}  L{OutgoingQueue.start} reads the directory back and
    continues where the previous process stopped.

Time is an L{IReactorTime}: tests give a L{twisted.internet.task.Clock} and
cover five days in a few milliseconds.

Delivery itself is someone else's job, a L{RemoteDeliverer}: usually
L{netref.smtp.client.MXDeliverer}, which finds the domain's mail exchangers
and speaks SMTP to them.
"""

from __future__ import annotations

import json
import os
import secrets
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from email.message import Message
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import SMTP
from email.utils import formatdate, make_msgid
from typing import Any, Protocol

from twisted.internet.defer import Deferred, maybeDeferred, succeed
from twisted.internet.interfaces import IDelayedCall, IReactorTime
from twisted.logger import Logger
from twisted.python.failure import Failure

from netref.core.durable import writeAtomically
from netref.smtp.client import DeliveryError, DeliveryResult
from netref.smtp.wire import normalizeLineEndings

_log = Logger()

#: Seconds before the first retry (Postfix's C{minimal_backoff_time}).
FIRST_RETRY = 300.0

#: The longest wait between two tries (Postfix's C{maximal_backoff_time}).
MAX_BACKOFF = 4000.0

#: How long the queue tries before it gives up: 5 days (Postfix's
#: C{maximal_queue_lifetime}; RFC 5321 section 4.5.4.1).
MAX_LIFETIME = 5 * 24 * 3600.0

#: Connections at once to one destination domain.
PER_DESTINATION_LIMIT = 5

#: The states of one recipient.
PENDING = "pending"
DELIVERED = "delivered"
#: Failed for good, and the sender not yet told.
FAILED = "failed"
#: Failed for good, and the sender told (or not to be told: a null sender).
BOUNCED = "bounced"

#: Suffixes of the queue's files.
MESSAGE_SUFFIX = ".msg"
ENVELOPE_SUFFIX = ".env"


class RemoteDeliverer(Protocol):
    """
    What the queue needs of a mailer: one attempt to hand a message to a
    domain's servers.
    """

    def deliver(
        self, domain: str, mailFrom: str, recipients: Sequence[str], message: bytes
    ) -> Deferred[DeliveryResult]:
        """
        Try once to deliver C{message} to C{recipients}, all at C{domain}.

        @return: fires with the reply for each recipient, or fails with a
            L{DeliveryError} (or any exception, taken as temporary) when
            no server could be asked.
        """


#: Hands a new message (a bounce) to whoever routes mail:
#: C{(mailFrom, recipients, message)}, firing when it is durable.
Submitter = Callable[[str, Sequence[str], bytes], "Deferred[Any]"]


def domainOf(address: str) -> str:
    """
    @return: the domain of C{address}, lower-cased (RFC 5321 section 2.4:
        domains are case-insensitive).
    """
    return address.rpartition("@")[2].lower()


def backoff(
    attempts: int, firstRetry: float = FIRST_RETRY, maxBackoff: float = MAX_BACKOFF
) -> float:
    """
    The wait after the C{attempts}-th failed try: C{firstRetry}, then double
    the previous wait each time, at most C{maxBackoff}.

    @param attempts: the tries made so far, at least 1.
    """
    return min(firstRetry * 2 ** min(attempts - 1, 64), maxBackoff)


@dataclass
class RecipientState:
    """
    Where one recipient of a queued message stands.

    @ivar address: the forward-path.
    @ivar status: L{PENDING}, L{DELIVERED}, L{FAILED} or L{BOUNCED}.
    @ivar attempts: tries made for it.
    @ivar nextAttempt: the clock time of its next try.
    @ivar diagnostic: the last reply or error, as text: what a bounce quotes.
    @ivar statusCode: the RFC 3463 status of the last try (C{"4.4.1"}).
    @ivar remoteHost: the server that gave the last reply, if any.
    """

    address: str
    status: str = PENDING
    attempts: int = 0
    nextAttempt: float = 0.0
    diagnostic: str = ""
    statusCode: str = ""
    remoteHost: str | None = None
    lastAttempt: float | None = None


@dataclass
class QueueEntry:
    """
    One queued message: its envelope and its recipients' states.  This is
    what the C{.env} file holds, as JSON.

    @ivar queueId: the message's name in the queue directory.
    @ivar mailFrom: the reverse-path, C{""} for the null sender.
    @ivar arrival: the clock time it was queued.
    @ivar expires: when the queue gives up on it.
    """

    queueId: str
    mailFrom: str
    arrival: float
    expires: float
    recipients: list[RecipientState] = field(default_factory=list)

    def toJSON(self) -> bytes:
        return json.dumps(asdict(self), indent=1).encode("utf-8")

    @classmethod
    def fromJSON(cls, data: bytes) -> QueueEntry:
        raw = json.loads(data.decode("utf-8"))
        recipients = [RecipientState(**r) for r in raw.pop("recipients")]
        return cls(recipients=recipients, **raw)

    def pending(self) -> list[RecipientState]:
        return [r for r in self.recipients if r.status == PENDING]

    def finished(self) -> bool:
        return all(r.status in (DELIVERED, BOUNCED) for r in self.recipients)


@dataclass
class _Job:
    """
    One attempt to deliver some recipients of one entry to one domain.
    """

    entry: QueueEntry
    domain: str
    recipients: list[RecipientState]


@dataclass
class _Destination:
    """
    The jobs for one domain, and how many run now.
    """

    active: int = 0
    waiting: deque[_Job] = field(default_factory=deque)


class OutgoingQueue:
    """
    A durable queue of messages for other mail servers.

    @ivar directory: where the messages and envelopes are kept.
    @ivar hostname: this server's name, for the bounces it writes.
    @ivar firstRetry: seconds before the first retry.
    @ivar maxBackoff: the longest wait between tries.
    @ivar maxLifetime: seconds before an undelivered message expires.
    @ivar perDestinationLimit: connections at once to one domain.
    @ivar submitBounce: where bounces go: L{enqueue} unless a router (which
        knows local mailboxes) is set, see L{netref.mail.delivery.MailRouter}.
    """

    def __init__(
        self,
        directory: str,
        clock: IReactorTime,
        deliverer: RemoteDeliverer,
        *,
        hostname: str = "localhost",
        firstRetry: float = FIRST_RETRY,
        maxBackoff: float = MAX_BACKOFF,
        maxLifetime: float = MAX_LIFETIME,
        perDestinationLimit: int = PER_DESTINATION_LIMIT,
    ) -> None:
        if firstRetry <= 0 or maxBackoff < firstRetry or maxLifetime <= 0:
            raise ValueError("retry times must be positive, and maxBackoff >= firstRetry")
        if perDestinationLimit < 1:
            raise ValueError("perDestinationLimit must be at least 1")
        self.directory = directory
        self.clock = clock
        self.deliverer = deliverer
        self.hostname = hostname
        self.firstRetry = firstRetry
        self.maxBackoff = maxBackoff
        self.maxLifetime = maxLifetime
        self.perDestinationLimit = perDestinationLimit
        self.submitBounce: Submitter = self.enqueue
        self._entries: dict[str, QueueEntry] = {}
        self._timers: dict[str, IDelayedCall] = {}
        self._inFlight: dict[str, set[str]] = {}
        self._destinations: dict[str, _Destination] = {}
        self._bouncing: set[str] = set()
        self._idleWaiters: list[Deferred[None]] = []
        self._attempts: set[Deferred[DeliveryResult]] = set()
        self._running = False
        os.makedirs(directory, exist_ok=True)

    # Files.

    def _path(self, queueId: str, suffix: str) -> str:
        return os.path.join(self.directory, queueId + suffix)

    def _save(self, entry: QueueEntry) -> None:
        writeAtomically(self._path(entry.queueId, ENVELOPE_SUFFIX), entry.toJSON())

    def messageBytes(self, queueId: str) -> bytes:
        """
        @return: the queued message C{queueId}.
        """
        with open(self._path(queueId, MESSAGE_SUFFIX), "rb") as f:
            return f.read()

    def _remove(self, entry: QueueEntry) -> None:
        # The envelope first: without it the message file is an orphan
        # that start-up removes, never a message delivered twice.
        for suffix in (ENVELOPE_SUFFIX, MESSAGE_SUFFIX):
            try:
                os.unlink(self._path(entry.queueId, suffix))
            except FileNotFoundError:
                pass
        self._entries.pop(entry.queueId, None)
        self._cancelTimer(entry.queueId)

    # The life of the queue.

    def start(self) -> None:
        """
        Read the directory back (after a restart, everything a previous
        process left) and schedule every message.  Orphan message files and
        temporary files of interrupted writes are removed.
        """
        self._running = True
        names = sorted(os.listdir(self.directory))
        envelopes = {n[: -len(ENVELOPE_SUFFIX)] for n in names if n.endswith(ENVELOPE_SUFFIX)}
        for name in names:
            queueId, suffix = os.path.splitext(name)
            orphan = suffix == MESSAGE_SUFFIX and queueId not in envelopes
            if orphan or suffix not in (MESSAGE_SUFFIX, ENVELOPE_SUFFIX):
                try:
                    os.unlink(os.path.join(self.directory, name))
                except OSError:
                    pass
        for queueId in sorted(envelopes):
            if not os.path.exists(self._path(queueId, MESSAGE_SUFFIX)):
                os.unlink(self._path(queueId, ENVELOPE_SUFFIX))
                continue
            with open(self._path(queueId, ENVELOPE_SUFFIX), "rb") as f:
                entry = QueueEntry.fromJSON(f.read())
            self._entries[queueId] = entry
            _log.info("Resuming queued message {queueId}", queueId=queueId)
            self._settle(entry)

    def stop(self) -> Deferred[None]:
        """
        Stop trying: cancel the timers and the attempts under way (their
        recipients stay pending, on disk, and are tried again after a
        restart).

        @return: fires when no attempt is under way any more.
        """
        self._running = False
        for queueId in list(self._timers):
            self._cancelTimer(queueId)
        for attempt in list(self._attempts):
            attempt.cancel()
        if not self._destinations:
            return succeed(None)
        d: Deferred[None] = Deferred()
        self._idleWaiters.append(d)
        return d

    def _notifyIfIdle(self) -> None:
        if not self._destinations and self._idleWaiters:
            waiters, self._idleWaiters = self._idleWaiters, []
            for d in waiters:
                d.callback(None)

    def entries(self) -> list[QueueEntry]:
        """
        @return: the messages in the queue, oldest first.
        """
        return sorted(self._entries.values(), key=lambda e: (e.arrival, e.queueId))

    def enqueue(self, mailFrom: str, recipients: Sequence[str], message: bytes) -> Deferred[str]:
        """
        Take responsibility for a message: write it durably, then try to
        deliver it at once.

        @param mailFrom: the reverse-path, C{""} for the null sender.
        @param recipients: the forward-paths, at other domains.
        @param message: the message, headers (with C{Received}) and body.
        @return: fires with the queue id once the message and its envelope
            are on disk; fails with the C{OSError} if they cannot be.
        """
        now = self.clock.seconds()
        queueId = f"{int(now * 1000):012x}{secrets.token_hex(5)}"
        entry = QueueEntry(
            queueId=queueId,
            mailFrom=mailFrom,
            arrival=now,
            expires=now + self.maxLifetime,
            recipients=[RecipientState(address=r, nextAttempt=now) for r in recipients],
        )
        try:
            writeAtomically(self._path(queueId, MESSAGE_SUFFIX), message)
            self._save(entry)
        except OSError:
            for suffix in (MESSAGE_SUFFIX, ENVELOPE_SUFFIX):
                try:
                    os.unlink(self._path(queueId, suffix))
                except OSError:
                    pass
            raise
        self._entries[queueId] = entry
        if self._running:
            self._settle(entry)
        return succeed(queueId)

    def flush(self) -> None:
        """
        Try every pending recipient now, as C{postqueue -f} does.
        """
        now = self.clock.seconds()
        for entry in list(self._entries.values()):
            for recipient in entry.pending():
                recipient.nextAttempt = now
            self._settle(entry)

    # Scheduling.

    def _cancelTimer(self, queueId: str) -> None:
        timer = self._timers.pop(queueId, None)
        if timer is not None and timer.active():
            timer.cancel()

    def _settle(self, entry: QueueEntry) -> None:
        """
        After any change to C{entry}: tell the sender about failed
        recipients, remove a finished entry, and otherwise wake up for the
        next recipient due.
        """
        if any(r.status == FAILED for r in entry.recipients):
            self._bounce(entry)
            return
        if entry.finished():
            if not self._inFlight.get(entry.queueId):
                self._remove(entry)
            return
        if not self._running:
            return
        busy = self._inFlight.get(entry.queueId, set())
        due = [r.nextAttempt for r in entry.pending() if r.address not in busy]
        self._cancelTimer(entry.queueId)
        if due:
            delay = max(0.0, min(due) - self.clock.seconds())
            self._timers[entry.queueId] = self.clock.callLater(delay, self._wake, entry.queueId)

    def _wake(self, queueId: str) -> None:
        self._timers.pop(queueId, None)
        entry = self._entries.get(queueId)
        if entry is None:
            return
        now = self.clock.seconds()
        busy = self._inFlight.setdefault(queueId, set())
        byDomain: dict[str, list[RecipientState]] = {}
        for recipient in entry.pending():
            if recipient.address not in busy and recipient.nextAttempt <= now:
                byDomain.setdefault(domainOf(recipient.address), []).append(recipient)
        for domain, recipients in byDomain.items():
            busy.update(r.address for r in recipients)
            destination = self._destinations.setdefault(domain, _Destination())
            destination.waiting.append(_Job(entry, domain, recipients))
            self._pump(domain)
        self._settle(entry)

    def _pump(self, domain: str) -> None:
        destination = self._destinations.get(domain)
        if destination is None:
            return
        while destination.waiting and destination.active < self.perDestinationLimit:
            job = destination.waiting.popleft()
            destination.active += 1
            self._attempt(job)
        # An attempt that ends at once re-enters here; whichever call sees
        # the destination idle last removes it.
        if not destination.waiting and not destination.active:
            if self._destinations.get(domain) is destination:
                del self._destinations[domain]

    def activeConnections(self, domain: str) -> int:
        """
        @return: the attempts under way to C{domain} now.
        """
        destination = self._destinations.get(domain)
        return destination.active if destination is not None else 0

    # Attempts.

    def _attempt(self, job: _Job) -> None:
        try:
            message = self.messageBytes(job.entry.queueId)
        except OSError as e:
            d: Deferred[DeliveryResult] = Deferred()
            d.errback(DeliveryError(f"cannot read the queued message: {e}", permanent=False))
        else:
            d = maybeDeferred(
                self.deliverer.deliver,
                job.domain,
                job.entry.mailFrom,
                [r.address for r in job.recipients],
                message,
            )
        if not d.called:
            self._attempts.add(d)
            d.addBoth(self._forget, d)
        d.addCallbacks(self._delivered, self._failed, callbackArgs=(job,), errbackArgs=(job,))
        d.addErrback(lambda f: _log.failure("Queue bookkeeping failed", f))
        d.addBoth(lambda _: self._jobDone(job))

    def _forget(self, result: object, attempt: Deferred[DeliveryResult]) -> object:
        self._attempts.discard(attempt)
        return result

    def _jobDone(self, job: _Job) -> None:
        self._inFlight.get(job.entry.queueId, set()).difference_update(
            r.address for r in job.recipients
        )
        destination = self._destinations.get(job.domain)
        if destination is not None:
            destination.active -= 1
            self._pump(job.domain)
        if job.entry.queueId in self._entries:
            self._settle(job.entry)
        self._notifyIfIdle()

    def _delivered(self, result: DeliveryResult, job: _Job) -> None:
        now = self.clock.seconds()
        for recipient in job.recipients:
            reply = result.recipients.get(recipient.address)
            recipient.attempts += 1
            recipient.lastAttempt = now
            recipient.remoteHost = result.host
            if reply is None:
                self._deferRecipient(
                    job.entry, recipient, "the server gave no reply for this recipient", "4.4.2"
                )
                continue
            text = " ".join(f"{reply.code} {line}" for line in reply.lines) or str(reply.code)
            if 200 <= reply.code < 300:
                recipient.status = DELIVERED
                recipient.diagnostic = text
                _log.info(
                    "{queueId}: delivered to {rcpt} via {host}: {text}",
                    queueId=job.entry.queueId,
                    rcpt=recipient.address,
                    host=result.host,
                    text=text,
                )
            elif reply.code >= 500:
                self._failRecipient(recipient, text, reply.enhanced or "5.0.0")
            else:
                self._deferRecipient(job.entry, recipient, text, reply.enhanced or "4.0.0")
        self._saveOrLog(job.entry)

    def _failed(self, failure: Failure, job: _Job) -> None:
        now = self.clock.seconds()
        permanent = isinstance(failure.value, DeliveryError) and failure.value.permanent
        reason = failure.getErrorMessage() or repr(failure.value)
        code = getattr(failure.value, "statusCode", None)
        for recipient in job.recipients:
            recipient.attempts += 1
            recipient.lastAttempt = now
            recipient.remoteHost = getattr(failure.value, "host", None)
            if permanent:
                self._failRecipient(recipient, reason, code or "5.4.4")
            else:
                self._deferRecipient(job.entry, recipient, reason, code or "4.4.1")
        self._saveOrLog(job.entry)

    def _failRecipient(self, recipient: RecipientState, text: str, statusCode: str) -> None:
        recipient.status = FAILED
        recipient.diagnostic = text
        recipient.statusCode = statusCode
        _log.info("Delivery to {rcpt} failed for good: {text}", rcpt=recipient.address, text=text)

    def _deferRecipient(
        self, entry: QueueEntry, recipient: RecipientState, text: str, statusCode: str
    ) -> None:
        """
        A temporary failure: retry after the back-off, or give up when the
        message has been queued for longer than its lifetime.
        """
        now = self.clock.seconds()
        recipient.diagnostic = text
        recipient.statusCode = statusCode
        if now >= entry.expires:
            recipient.status = FAILED
            # RFC 3463: 4.4.7, "delivery time expired"; the last error is
            # the diagnostic.
            recipient.statusCode = "4.4.7"
            _log.info("Giving up on {rcpt}: expired ({text})", rcpt=recipient.address, text=text)
            return
        wait = backoff(recipient.attempts, self.firstRetry, self.maxBackoff)
        # The last try is made when the message expires, not after.
        recipient.nextAttempt = min(now + wait, entry.expires)
        _log.info(
            "Delivery to {rcpt} deferred ({text}); next try in {wait:.0f} s",
            rcpt=recipient.address,
            text=text,
            wait=recipient.nextAttempt - now,
        )

    def _saveOrLog(self, entry: QueueEntry) -> None:
        if entry.queueId not in self._entries:
            return
        try:
            self._save(entry)
        except OSError:
            # The state in memory still goes on; at worst a restart retries
            # a recipient already delivered (a duplicate, never a loss).
            _log.failure("Cannot save the state of {queueId}", queueId=entry.queueId)

    # Bounces.

    def _bounce(self, entry: QueueEntry) -> None:
        if entry.queueId in self._bouncing:
            return
        failed = [r for r in entry.recipients if r.status == FAILED]
        if not entry.mailFrom:
            # RFC 5321 section 6.1: a message with a null reverse-path is
            # never answered by a notification.
            _log.info(
                "{queueId}: not bouncing a message from the null sender", queueId=entry.queueId
            )
            self._markBounced(entry, failed)
            return
        try:
            original = self.messageBytes(entry.queueId)
        except OSError:
            original = b""
        bounce = makeBounce(self.hostname, entry, failed, original, self.clock.seconds())
        self._bouncing.add(entry.queueId)
        d = maybeDeferred(self.submitBounce, "", [entry.mailFrom], bounce)

        def submitted(_: object) -> None:
            self._bouncing.discard(entry.queueId)
            self._markBounced(entry, failed)

        def notSubmitted(failure: Failure) -> None:
            self._bouncing.discard(entry.queueId)
            _log.failure("Cannot queue the bounce for {queueId}", failure, queueId=entry.queueId)
            if self._running:
                self._cancelTimer(entry.queueId)
                self._timers[entry.queueId] = self.clock.callLater(
                    self.firstRetry, self._settle, entry
                )

        d.addCallbacks(submitted, notSubmitted)

    def _markBounced(self, entry: QueueEntry, failed: Iterable[RecipientState]) -> None:
        for recipient in failed:
            recipient.status = BOUNCED
        self._saveOrLog(entry)
        self._settle(entry)


def _dsnBlock(fields: Sequence[tuple[str, str]]) -> Message:
    block = Message()
    for name, value in fields:
        block[name] = value
    return block


def makeBounce(
    hostname: str,
    entry: QueueEntry,
    failed: Sequence[RecipientState],
    original: bytes,
    now: float,
) -> bytes:
    """
    A delivery status notification for the recipients that failed: a
    C{multipart/report} (RFC 6522) of a text for the sender, a
    C{message/delivery-status} part (RFC 3464 section 2) and the original
    message's header (C{text/rfc822-headers}).

    @param hostname: the reporting mail server (C{Reporting-MTA}).
    @param entry: the queued message.
    @param failed: its recipients that could not be delivered.
    @param original: the message, whose header is returned to the sender.
    @param now: the clock time, for the C{Date} field.
    @return: the notification, with CRLF line endings, ready to queue
        with a null sender.
    """
    lines = [
        f"This is the mail system at host {hostname}.",
        "",
        "I'm sorry to have to inform you that your message could not",
        "be delivered to one or more recipients.",
        "",
    ]
    for recipient in failed:
        where = f" (host {recipient.remoteHost})" if recipient.remoteHost else ""
        lines.append(f"<{recipient.address}>{where}: {recipient.diagnostic}")
    report = MIMEMultipart("report", report_type="delivery-status")
    report["From"] = f"Mail Delivery System <MAILER-DAEMON@{hostname}>"
    report["To"] = entry.mailFrom
    report["Subject"] = "Undelivered Mail Returned to Sender"
    report["Date"] = formatdate(now, localtime=False)
    report["Message-ID"] = make_msgid(domain=hostname)
    # RFC 3834 section 5: an automatic message says so.
    report["Auto-Submitted"] = "auto-replied"
    report.attach(MIMEText("\n".join(lines) + "\n", "plain", "utf-8"))
    blocks: list[Message | str] = [
        _dsnBlock(
            [
                ("Reporting-MTA", f"dns; {hostname}"),
                ("X-Netref-Queue-ID", entry.queueId),
                ("Arrival-Date", formatdate(entry.arrival, localtime=False)),
            ]
        )
    ]
    for recipient in failed:
        fields = [
            ("Final-Recipient", f"rfc822; {recipient.address}"),
            ("Action", "failed"),
            ("Status", recipient.statusCode or "5.0.0"),
        ]
        if recipient.remoteHost:
            fields.append(("Remote-MTA", f"dns; {recipient.remoteHost}"))
        if recipient.diagnostic:
            fields.append(("Diagnostic-Code", f"smtp; {recipient.diagnostic}"))
        if recipient.lastAttempt is not None:
            fields.append(
                ("Last-Attempt-Date", formatdate(recipient.lastAttempt, localtime=False))
            )
        blocks.append(_dsnBlock(fields))
    status = MIMEBase("message", "delivery-status")
    del status["MIME-Version"]
    status.set_payload(blocks)
    report.attach(status)
    # The original header as it was, byte for byte where it is ASCII (RFC
    # 6522 section 4: text/rfc822-headers).
    header = normalizeLineEndings(original).split(b"\r\n\r\n", 1)[0]
    returned = MIMEBase("text", "rfc822-headers")
    del returned["MIME-Version"]
    returned["Content-Transfer-Encoding"] = "7bit"
    returned.set_payload(header.decode("ascii", "replace").replace("\ufffd", "?") + "\r\n")
    report.attach(returned)
    return report.as_bytes(policy=SMTP)
