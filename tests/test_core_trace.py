"""
Tests for L{netref.core.trace}.
"""

from io import StringIO

from twisted.trial.unittest import SynchronousTestCase

from netref.core import trace


class DisplayLineTests(SynchronousTestCase):
    """
    L{trace.displayLine} shows a wire line to a human, hiding nothing.
    """

    def test_stripsLineEnding(self) -> None:
        self.assertEqual(trace.displayLine(b"HELO crepes.fr\r\n"), "HELO crepes.fr")
        self.assertEqual(trace.displayLine(b"HELO crepes.fr\n"), "HELO crepes.fr")
        self.assertEqual(trace.displayLine("250 OK"), "250 OK")

    def test_decodesUTF8(self) -> None:
        self.assertEqual(trace.displayLine("Grüße\r\n".encode()), "Grüße")

    def test_escapesControlCharacters(self) -> None:
        """
        A bare CR, a NUL or an escape inside a line is shown escaped, so a
        transcript shows smuggling attempts instead of hiding them.
        """
        self.assertEqual(trace.displayLine(b"DATA\rX\x00\x1b[2J\r\n"), "DATA\\rX\\x00\\x1b[2J")

    def test_escapesUndecodableBytes(self) -> None:
        self.assertEqual(trace.displayLine(b"\xff\xfeok"), "\\xff\\xfeok")


class TranscriptTests(SynchronousTestCase):
    """
    L{trace.Transcript} emits one event per line, only while tracing is on.
    """

    def setUp(self) -> None:
        self.events: list[dict] = []
        trace.transcriptPublisher.addObserver(self.events.append)
        self.addCleanup(trace.transcriptPublisher.removeObserver, self.events.append)
        self.addCleanup(trace.setTracing, False)

    def test_silentWhenOff(self) -> None:
        trace.setTracing(False)
        transcript = trace.Transcript("c1")
        self.assertFalse(transcript.enabled)
        transcript.client(b"HELO crepes.fr\r\n")
        self.assertEqual(self.events, [])

    def test_sidesAndFormat(self) -> None:
        trace.setTracing(True)
        transcript = trace.Transcript("c9")
        transcript.server(b"220 hamburger.edu\r\n")
        transcript.client(b"HELO crepes.fr\r\n")
        transcript.note("TLS started")
        self.assertEqual(
            [trace.formatTranscriptEvent(e) for e in self.events],
            [
                "[c9] S: 220 hamburger.edu",
                "[c9] C: HELO crepes.fr",
                "[c9] *: TLS started",
            ],
        )

    def test_freshIdsDiffer(self) -> None:
        self.assertNotEqual(trace.Transcript().connectionId, trace.Transcript().connectionId)
        self.assertRegex(trace.newConnectionId(), r"^c\d+$")

    def test_otherEventsAreNotTranscripts(self) -> None:
        self.assertIsNone(trace.formatTranscriptEvent({"log_namespace": "other"}))
        self.assertIsNone(trace.formatTranscriptEvent({"log_namespace": trace.TRACE_NAMESPACE}))


class PrinterTests(SynchronousTestCase):
    """
    L{trace.startPrintingTranscripts} is what C{--trace} does.
    """

    def test_printsLines(self) -> None:
        out = StringIO()
        printer = trace.startPrintingTranscripts(out)
        try:
            trace.Transcript("c2").client(b"GET /index.html HTTP/1.1\r\n")
        finally:
            trace.stopPrintingTranscripts(printer)
        trace.Transcript("c2").client(b"after stop\r\n")
        self.assertEqual(out.getvalue(), "[c2] C: GET /index.html HTTP/1.1\n")

    def test_ignoresOtherEvents(self) -> None:
        out = StringIO()
        trace.TranscriptPrinter(out)({"log_namespace": "twisted", "log_format": "hi"})
        self.assertEqual(out.getvalue(), "")
