"""
Transcripts: the textbook's way of showing a protocol at work.

The textbook prints an application-layer dialogue as lines prefixed with the
side that sent them::

    S: 220 hamburger.edu
    C: HELO crepes.fr
    S: 250 Hello crepes.fr, pleased to meet you

Every netref line protocol reports each line it sends or receives to a
L{Transcript}; binary protocols (DNS, DHCP, BitTorrent) report a one-line
summary of each message.  Transcripts are C{twisted.logger} events in the
L{TRACE_NAMESPACE} namespace, published on their own L{transcriptPublisher}
rather than the global one: twistd copies every global event into its log
file, and a transcript line should be printed once, plainly, not again with a
timestamp.  Tests and tools observe them by adding an observer to
L{transcriptPublisher}.  A service run with C{--trace} adds a
L{TranscriptPrinter}, which writes them as::

    [c1] C: HELO crepes.fr

where C{c1} is a short id that tells concurrent connections apart.

Tracing costs almost nothing when it is off: L{Transcript.enabled} is a plain
attribute that protocol code may test before building a line.
"""

from __future__ import annotations

import itertools
from typing import IO, Any

from twisted.logger import ILogObserver, Logger, LogLevel, LogPublisher
from zope.interface import implementer

TRACE_NAMESPACE = "netref.trace"

#: The sides of a dialogue, as the textbook labels them.
CLIENT = "C"
SERVER = "S"
#: A remark that is not on the wire (connection opened, TLS started, ...).
NOTE = "*"

#: Where transcript events are published; observers of transcripts add
#: themselves here.
transcriptPublisher = LogPublisher()

# Module level, not a class attribute: a Logger on a class is a descriptor
# that renames its namespace after the class.
_log = Logger(namespace=TRACE_NAMESPACE, observer=transcriptPublisher)

_connectionIds = itertools.count(1)


def newConnectionId() -> str:
    """
    @return: a short, process-unique id for a connection, such as C{"c7"}.
    """
    return f"c{next(_connectionIds)}"


def displayLine(line: bytes | str) -> str:
    """
    Render one line of a dialogue for a human.

    The line ending is dropped, text is decoded as UTF-8, and anything that
    would disturb a terminal (control characters, undecodable bytes) is shown
    as a Python escape, so a transcript never hides what was on the wire.

    @param line: the line as sent or received, with or without its CRLF.
    @return: a single printable line.
    """
    if isinstance(line, bytes):
        text = line.decode("utf-8", "backslashreplace")
    else:
        text = line
    if text.endswith("\r\n"):
        text = text[:-2]
    elif text.endswith("\n"):
        text = text[:-1]
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text)


def describeAddress(address: object) -> str:
    """
    @return: C{"127.0.0.1:51234"} for an IPv4 or IPv6 address object or a
        C{(host, port)} tuple, else the address's C{repr}.
    """
    if isinstance(address, tuple):
        host, port = address
    else:
        maybeHost = getattr(address, "host", None)
        maybePort = getattr(address, "port", None)
        if not isinstance(maybeHost, str) or not isinstance(maybePort, int):
            return repr(address)
        host, port = maybeHost, maybePort
    if ":" in host:
        return f"[{host}]:{port}"
    return f"{host}:{port}"


def setTracing(enabled: bool) -> None:
    """
    Turn the emission of transcript events on or off for the whole process.

    @param enabled: whether L{Transcript} methods emit events.
    """
    Transcript.enabled = enabled


class Transcript:
    """
    The transcript of one connection (or one datagram endpoint).

    @ivar connectionId: the short id printed before each line.
    @cvar enabled: whether lines given to any transcript are emitted: the
        process-wide switch that L{setTracing} sets, a plain class
        attribute so that testing it costs one attribute lookup.
    """

    enabled = False

    def __init__(self, connectionId: str | None = None) -> None:
        """
        @param connectionId: an id for this connection; a fresh one from
            L{newConnectionId} when not given.
        """
        self.connectionId = connectionId if connectionId is not None else newConnectionId()

    def line(self, side: str, line: bytes | str) -> None:
        """
        Record one line sent by C{side}.

        @param side: L{CLIENT}, L{SERVER} or L{NOTE}.
        @param line: the line, as on the wire.
        """
        if Transcript.enabled:
            _log.emit(
                LogLevel.info,
                "{netref_connection} {netref_side}: {netref_line}",
                netref_connection=self.connectionId,
                netref_side=side,
                netref_line=displayLine(line),
            )

    def client(self, line: bytes | str) -> None:
        """
        Record a line the client sent (C{C:}).
        """
        self.line(CLIENT, line)

    def server(self, line: bytes | str) -> None:
        """
        Record a line the server sent (C{S:}).
        """
        self.line(SERVER, line)

    def note(self, text: str) -> None:
        """
        Record a remark that is not on the wire, such as a new connection.
        """
        self.line(NOTE, text)


def formatTranscriptEvent(event: dict[str, Any]) -> str | None:
    """
    Format a transcript event as the textbook prints a dialogue.

    @param event: a C{twisted.logger} event.
    @return: C{"[c1] C: HELO crepes.fr"}, or L{None} if C{event} is not a
        transcript event.
    """
    if event.get("log_namespace") != TRACE_NAMESPACE or "netref_line" not in event:
        return None
    return f"[{event['netref_connection']}] {event['netref_side']}: {event['netref_line']}"


@implementer(ILogObserver)
class TranscriptPrinter:
    """
    A log observer that prints transcript events, one per line, and ignores
    every other event.
    """

    def __init__(self, out: IO[str]) -> None:
        """
        @param out: where the lines go, usually standard output.
        """
        self._out = out

    def __call__(self, event: dict[str, Any]) -> None:
        text = formatTranscriptEvent(event)
        if text is not None:
            self._out.write(text + "\n")
            self._out.flush()


def startPrintingTranscripts(out: IO[str]) -> TranscriptPrinter:
    """
    Turn tracing on and print every transcript line to C{out}: what
    C{--trace} does.

    @param out: the stream for the lines.
    @return: the observer, for L{stopPrintingTranscripts}.
    """
    printer = TranscriptPrinter(out)
    transcriptPublisher.addObserver(printer)
    setTracing(True)
    return printer


def stopPrintingTranscripts(printer: TranscriptPrinter) -> None:
    """
    Undo L{startPrintingTranscripts}.
    """
    transcriptPublisher.removeObserver(printer)
    setTracing(False)
