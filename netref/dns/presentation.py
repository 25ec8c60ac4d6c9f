"""
DNS messages for people: as C{dig} prints them, and as the textbook writes
resource records.

Two views of a L{Message} (the one-line summary of transcripts is
L{Message.summary}):

  - L{formatMessage}: dig's layout, so that what netref prints can be read
    (and diffed) beside what BIND's C{dig} prints: the header and flags
    lines, the OPT pseudo-section of EDNS (RFC 6891), then the question,
    answer, authority and additional sections.  Records are in zone-file
    form (RFC 1035 section 5.1) in dig's columns: the TTL at column 24, the
    class at 32, the type at 40 and the data at 48, reached with tabs (tab
    stops every 8 columns); see L{_columns} for long names.
  - L{formatTextbook}: the textbook's four-tuples (section 2.4.3): "a
    resource record is a four-tuple that contains the following fields:
    (Name, Value, Type, TTL)", one per record.

Nothing here touches the network: these functions only turn values into
text.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import Any

from netref.dns.rdata import classToText, typeToText
from netref.dns.wire import EDNS, Message, Question, ResourceRecord, opcodeToText, rcodeToText

__all__ = [
    "describeServer",
    "opcodeToText",
    "rcodeToText",
    "formatQuestion",
    "formatRecord",
    "formatMessage",
    "formatFooter",
    "formatShort",
    "textbookTuple",
    "formatTextbook",
]

#: dig's columns for the fields of a record line (and, from the class on,
#: of a question line).
TTL_COLUMN = 24
CLASS_COLUMN = 32
TYPE_COLUMN = 40
DATA_COLUMN = 48

_TAB = 8

#: EDNS option codes dig names (IANA "DNS EDNS0 Option Codes").
_NSID = 3
_COOKIE = 10


def describeServer(server: Sequence[Any]) -> str:
    """
    A server's address as dig writes it: C{"127.2.1.1#10053"}, C{"::1#53"}.

    @param server: C{(address, port)}, or a longer socket address tuple.
    """
    return f"{server[0]}#{server[1]}"


def _columns(first: str, fields: Iterable[tuple[int, str]], column: int | None = None) -> str:
    """
    Lay out a line as dig does.  Each field starts at its column, reached
    with tabs (stops every 8 columns); a line already at or past the column
    aims for the next one instead, so fields stay apart: a tab if that
    crosses a tab stop, else a space.

    @param first: the text at the start of the line.
    @param fields: (column, text) pairs, columns multiples of 8, in order.
    @param column: the column C{first} ends at: its length unless given.
    """
    parts = [first]
    if column is None:
        column = len(first)
    for target, text in fields:
        if column >= target:
            target = column + 1
        tabs = target // _TAB - column // _TAB
        if tabs > 0:
            parts.append("\t" * tabs + " " * (target % _TAB))
        else:
            parts.append(" " * (target - column))
        parts.append(text)
        column = target + len(text)
    return "".join(parts)


def formatQuestion(question: Question) -> str:
    """
    A question as dig prints it, commented out: C{";umass.edu.\t\t\tIN\tMX"}.
    The C{";"} does not count in the columns.
    """
    name = question.name.toText()
    return _columns(
        ";" + name,
        ((CLASS_COLUMN, classToText(question.rclass)), (TYPE_COLUMN, typeToText(question.rtype))),
        len(name),
    )


def formatRecord(record: ResourceRecord) -> str:
    """
    A record in zone-file form (RFC 1035 section 5.1), in dig's columns:
    C{"umass.edu.\\t\\t3600\\tIN\\tMX\\t10 mail.umass.edu."}.
    """
    return _columns(
        record.name.toText(),
        (
            (TTL_COLUMN, str(record.ttl)),
            (CLASS_COLUMN, classToText(record.rclass)),
            (TYPE_COLUMN, typeToText(record.rtype)),
            (DATA_COLUMN, record.rdata.toText()),
        ),
    )


def _printable(data: bytes) -> str:
    return "".join(chr(octet) if 0x20 <= octet < 0x7F else "." for octet in data)


def _formatOption(code: int, data: bytes) -> str:
    """
    An EDNS option (RFC 6891 section 6.1.2) as dig prints it: NSID (RFC
    5001) and COOKIE (RFC 7873) by name, the others by number, in hex.
    """
    spaced = " ".join(f"{octet:02x}" for octet in data)
    if code == _NSID:
        return f'; NSID: {spaced} ("{_printable(data)}")'
    if code == _COOKIE:
        return f"; COOKIE: {data.hex()}"
    if not data:
        return f"; OPT={code}"
    return f'; OPT={code}: {spaced} ("{_printable(data)}")'


def _formatEDNS(edns: EDNS) -> list[str]:
    flags = " do" if edns.dnssecOK else ""
    lines = [
        ";; OPT PSEUDOSECTION:",
        f"; EDNS: version: {edns.version}, flags:{flags}; udp: {edns.payloadSize}",
    ]
    lines += [_formatOption(code, data) for code, data in edns.options]
    return lines


def _formatHeader(message: Message) -> list[str]:
    flags = message.flagsText()
    lines = [
        f";; ->>HEADER<<- opcode: {opcodeToText(message.opcode)},"
        f" status: {rcodeToText(message.rcode)}, id: {message.id}",
        f";; flags:{' ' + flags if flags else ''}; QUERY: {len(message.questions)},"
        f" ANSWER: {len(message.answers)}, AUTHORITY: {len(message.authority)},"
        f" ADDITIONAL: {len(message.additional) + (message.edns is not None)}",
    ]
    if message.qr and message.rd and not message.ra:
        # RFC 1035 section 4.1.1: RA says whether the server recurses; an
        # authoritative-only server (the lab's) answers RD queries without.
        lines.append(";; WARNING: recursion requested but not available")
    return lines


_SECTIONS = ("ANSWER", "AUTHORITY", "ADDITIONAL")


def _sections(message: Message) -> Iterable[tuple[str, Sequence[ResourceRecord]]]:
    return zip(_SECTIONS, (message.answers, message.authority, message.additional), strict=True)


def formatMessage(message: Message) -> str:
    """
    A whole message as dig prints it, from the C{->>HEADER<<-} line to the
    blank line after the last section.  The counts of the flags line are
    the wire's: ADDITIONAL includes the OPT record.
    """
    lines = _formatHeader(message)
    lines.append("")
    if message.edns is not None:
        lines += _formatEDNS(message.edns)
    if message.questions:
        lines.append(";; QUESTION SECTION:")
        lines += [formatQuestion(question) for question in message.questions]
        lines.append("")
    for title, records in _sections(message):
        if records:
            lines.append(f";; {title} SECTION:")
            lines += [formatRecord(record) for record in records]
            lines.append("")
    return "\n".join(lines) + "\n"


def formatFooter(
    server: Sequence[Any],
    transport: str,
    rtt: float,
    size: int,
    label: str | None = None,
    when: float | None = None,
) -> str:
    """
    dig's statistics after a message::

        ;; Query time: 3 msec
        ;; SERVER: 127.2.2.1#10053(127.2.2.1) (UDP)
        ;; WHEN: Sat Nov 21 23:23:35 UTC 2026
        ;; MSG SIZE  rcvd: 62

    @param server: the (address, port) that answered.
    @param transport: C{"udp"} or C{"tcp"}.
    @param rtt: the round-trip time in seconds.
    @param size: the size of the answer in octets.
    @param label: the server as the user named it (in the parentheses);
        its address by default.
    @param when: the time of the answer (seconds since the epoch), shown in
        local time; no C{WHEN} line if L{None}.
    """
    lines = [
        f";; Query time: {round(rtt * 1000)} msec",
        f";; SERVER: {describeServer(server)}({label if label is not None else server[0]})"
        f" ({transport.upper()})",
    ]
    if when is not None:
        lines.append(f";; WHEN: {time.strftime('%a %b %d %H:%M:%S %Z %Y', time.localtime(when))}")
    lines.append(f";; MSG SIZE  rcvd: {size}")
    return "\n".join(lines) + "\n\n"


def formatShort(message: Message) -> str:
    """
    dig's C{+short}: the data of each answer record, one per line.
    """
    return "".join(record.rdata.toText() + "\n" for record in message.answers)


def _bare(text: str) -> str:
    """
    A name as the textbook writes it, without the final dot (but the root,
    C{"."}, stays).
    """
    return text[:-1] if text.endswith(".") and text != "." else text


def textbookTuple(record: ResourceRecord) -> str:
    """
    A record as the textbook's four-tuple (section 2.4.3):
    C{"(gaia.cs.umass.edu, 127.2.0.10, A, 3600)"}.

    The Value is the record data in zone-file form, and, as the textbook
    writes names, the final dot of the Name and of a Value that ends in a
    name (NS, CNAME, MX, PTR) is left out.  The class, nearly always IN, is
    not one of the four fields.
    """
    return (
        f"({_bare(record.name.toText())}, {_bare(record.rdata.toText())},"
        f" {typeToText(record.rtype)}, {record.ttl})"
    )


def formatTextbook(message: Message) -> str:
    """
    The message with its records as the textbook's (Name, Value, Type, TTL)
    four-tuples: dig's header, flags and question, then each non-empty
    section with one tuple per record.  The OPT pseudo-record is no resource
    record and is not shown.
    """
    lines = _formatHeader(message)
    lines.append("")
    if message.questions:
        lines.append(";; QUESTION SECTION:")
        lines += [formatQuestion(question) for question in message.questions]
        lines.append("")
    for title, records in _sections(message):
        if records:
            lines.append(f";; {title} SECTION:")
            lines += [textbookTuple(record) for record in records]
            lines.append("")
    return "\n".join(lines) + "\n"
