"""
The anchor of bench/smtp_source.py: a twisted.mail ESMTP server that accepts
every message and keeps none, the smallest server twisted.mail makes.

This measures twisted.mail; it is not part of netref.

    python bench/twisted_mail_sink.py PORT
"""

from __future__ import annotations

import sys

from twisted.internet import defer, reactor
from twisted.mail import smtp
from zope.interface import implementer


@implementer(smtp.IMessage)
class NullMessage:
    def lineReceived(self, line: bytes) -> None:
        pass

    def eomReceived(self) -> defer.Deferred[None]:
        return defer.succeed(None)

    def connectionLost(self) -> None:
        pass


@implementer(smtp.IMessageDelivery)
class NullDelivery:
    def receivedHeader(self, helo, origin, recipients) -> bytes:
        return b"Received: from " + helo[0] + b" by twisted.mail bench"

    def validateFrom(self, helo, origin):
        return origin

    def validateTo(self, user):
        return NullMessage


class QuietESMTP(smtp.ESMTP):
    """
    twisted.mail's ESMTP server without its one log message per message
    ("Receiving message for delivery: ..."): netref logs nothing per
    message unless asked to trace, so the anchor does not either.
    """

    noisy = False


class NullESMTPFactory(smtp.SMTPFactory):
    protocol = QuietESMTP

    def buildProtocol(self, addr):
        protocol = super().buildProtocol(addr)
        protocol.delivery = NullDelivery()
        protocol.host = b"twisted.mail.bench"
        return protocol


def main() -> None:
    port = int(sys.argv[1])
    reactor.listenTCP(port, NullESMTPFactory(), interface="127.0.0.1", backlog=512)
    reactor.run()


if __name__ == "__main__":
    main()
