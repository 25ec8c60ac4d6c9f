"""
What the SMTP server asks of the rest of the mail system.

The server (L{netref.smtp.server}) speaks the protocol and nothing else.
Two back ends decide what happens to mail:

  - an L{IRecipientPolicy} says which domains are this server's own and
    which local mailboxes an address reaches (after aliases); the server
    uses it for RCPT (RFC 5321 section 4.1.1.3) and for its relay rule;
  - an L{IDeliveryAgent} takes each accepted message with its
    L{Envelope} and makes it durable, in mailboxes or in the outgoing
    queue, before the server answers 250 (RFC 5321 section 6.1: once a
    server has said 250 it is responsible for the message).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from twisted.internet.defer import Deferred
from zope.interface import Interface

__all__ = ["Envelope", "IDeliveryAgent", "IRecipientPolicy"]


@dataclass(frozen=True)
class Envelope:
    """
    The envelope of one message: what the SMTP dialogue said about it, as
    opposed to its headers (RFC 5321 section 2.3.1).

    @ivar mailFrom: the reverse-path without angle brackets; C{""} is the
        null sender of bounces (section 4.5.5).
    @ivar recipients: the accepted forward-paths, in the order given.
    @ivar heloName: the name the client gave in HELO or EHLO.
    @ivar clientAddress: the client's IP address, such as C{"127.0.0.1"}.
    @ivar authenticatedAs: the user who authenticated with AUTH (RFC 4954),
        or L{None}.
    @ivar tls: whether the message came over TLS (STARTTLS or port 465).
    @ivar receivedAt: when the message was received, in the server clock's
        seconds.
    @ivar bodyType: C{"7BIT"} or C{"8BITMIME"} (the BODY parameter of MAIL,
        RFC 6152).
    """

    mailFrom: str
    recipients: tuple[str, ...]
    heloName: str
    clientAddress: str
    authenticatedAs: str | None
    tls: bool
    receivedAt: float
    bodyType: str = "7BIT"


class IDeliveryAgent(Interface):
    """
    Takes responsibility for accepted messages.
    """

    def deliver(envelope: Envelope, message: bytes) -> Deferred[None]:  # noqa: N805
        """
        Deliver one message to every recipient of C{envelope}.

        Called after the final dot, with the message unstuffed, its lines
        ending in CRLF, and the server's Received header (RFC 5321 section
        4.4) already prepended.

        @return: a Deferred that fires only when the message is durable
            (fsynced) for every recipient: the server sends 250 then, and
            451 4.3.0 if it fails.
        """


class IRecipientPolicy(Interface):
    """
    Knows this server's domains and mailboxes.
    """

    def isLocalDomain(domain: str) -> bool:  # noqa: N805
        """
        Whether mail for C{domain} is delivered here (case-insensitive).
        """

    def localMailboxes(address: str) -> Sequence[str] | None:  # noqa: N805
        """
        The local users an address reaches, after alias expansion.

        @param address: a mailbox as L{netref.smtp.wire.parseRcptTo}
            returns it (C{local@domain}, with the local part possibly
            quoted), or C{"postmaster"} alone.
        @return: user names, or L{None} when the address's domain is local
            but no such user or alias exists.
        """
