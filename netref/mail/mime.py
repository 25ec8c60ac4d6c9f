"""
Writing and reading messages (RFC 5322) with MIME (RFC 2045-2049), on the
standard library's C{email} package.

The textbook (section 2.3.4) shows a message as header lines, a blank
line, and a body of ASCII text; MIME adds the headers that let a body be
anything (C{Content-Type}, C{Content-Transfer-Encoding}), several parts in
one message (C{multipart/mixed} for attachments), and non-ASCII text in
headers as "encoded words" (RFC 2047), such as
C{=?utf-8?b?5p2O5Zub?=} for C{"李四"}.

Python's C{email} package does all of this well; these helpers only choose
its settings for mail that crosses SMTP:

  - composing uses a 7-bit policy, so bodies that are not ASCII go out
    quoted-printable or base64 and the message passes any server, with or
    without 8BITMIME (RFC 6152);
  - L{asBytes} writes CRLF line endings, as SMTP wants (RFC 5321 section
    2.3.8);
  - L{parseMessage} never raises: a message from the network may be
    anything, and the C{email} parser records what it could not
    understand in each part's C{defects} instead.
"""

from __future__ import annotations

import email.policy
import email.utils
import mimetypes
import os
from collections.abc import Sequence
from datetime import UTC, datetime
from email.message import EmailMessage
from email.parser import BytesParser

__all__ = ["COMPOSE_POLICY", "asBytes", "composeMessage", "parseMessage"]

#: The policy messages are composed with: RFC-conformant headers, CRLF line
#: endings, and only 7-bit content transfer encodings.
COMPOSE_POLICY = email.policy.SMTP.clone(cte_type="7bit")


def composeMessage(
    sender: str,
    to: Sequence[str],
    subject: str,
    body: str,
    *,
    cc: Sequence[str] = (),
    attachments: Sequence[str] = (),
    date: datetime | None = None,
    messageId: str | None = None,
) -> EmailMessage:
    """
    Compose a message.

    @param sender: the From address, optionally with a name:
        C{"Élodie Martin <elodie@crepes.fr>"}.
    @param to: the To addresses, in the same form.
    @param subject: the Subject (any text: RFC 2047 encodes what needs it).
    @param body: the text of the message (sent as C{text/plain; charset=utf-8}
        when not ASCII).
    @param cc: the Cc addresses.
    @param attachments: paths of files to attach, each as a part of the
        type its name suggests (C{application/octet-stream} when unknown),
        with its file name (RFC 2183; non-ASCII names are encoded as RFC
        2231 says).
    @param date: the Date (RFC 5322 section 3.6.1); now when not given.
    @param messageId: the Message-ID (section 3.6.4), with its angle
        brackets; a new one when not given.
    @return: the message: give it to L{asBytes} for the wire.
    @raise OSError: an attachment cannot be read.
    """
    message = EmailMessage(policy=COMPOSE_POLICY)
    message["From"] = sender
    message["To"] = ", ".join(to)
    if cc:
        message["Cc"] = ", ".join(cc)
    message["Subject"] = subject
    message["Date"] = email.utils.format_datetime(date or datetime.now(UTC))
    message["Message-ID"] = messageId or email.utils.make_msgid()
    message.set_content(body)
    for path in attachments:
        with open(path, "rb") as f:
            data = f.read()
        guessed, encoding = mimetypes.guess_type(path)
        if guessed is None or encoding is not None:
            guessed = "application/octet-stream"
        maintype, subtype = guessed.split("/", 1)
        filename = os.path.basename(path)
        if maintype == "text":
            try:
                message.add_attachment(data.decode("utf-8"), subtype=subtype, filename=filename)
                continue
            except UnicodeDecodeError:
                maintype, subtype = "application", "octet-stream"
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return message


def parseMessage(data: bytes) -> EmailMessage:
    """
    Parse a message as received, whatever it holds.  Never raises:
    malformed parts are recorded in their C{defects}.

    Headers come back decoded (RFC 2047 words turned into text) when read
    through the message's C{[]} access.
    """
    parser = BytesParser(policy=email.policy.default)
    try:
        message = parser.parsebytes(data)
    except Exception:  # pragma: no cover - the parser is meant not to raise
        message = EmailMessage(policy=email.policy.default)
        message.set_payload(data.decode("ascii", "surrogateescape"))
    assert isinstance(message, EmailMessage)
    return message


def asBytes(message: EmailMessage) -> bytes:
    """
    The message as bytes for SMTP: CRLF line endings, headers folded and
    encoded as RFC 5322 and RFC 2047 say.
    """
    return message.as_bytes(policy=message.policy.clone(linesep="\r\n"))
