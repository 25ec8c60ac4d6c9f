"""
Tests for L{netref.smtp.wire}: SMTP replies, commands, paths and data
framing, sans-IO.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from twisted.trial.unittest import SynchronousTestCase

from netref.smtp.wire import (
    MAX_COMMAND_LINE,
    MAX_PATH,
    MAX_TEXT_LINE,
    AddressError,
    Command,
    CommandReader,
    DataProblem,
    DataReader,
    LineEndingError,
    LineTooLongError,
    Reply,
    ReplyParser,
    SMTPProtocolError,
    dotStuff,
    normalizeLineEndings,
    parseCommand,
    parseMailFrom,
    parseRcptTo,
    splitAddress,
    unquoteLocalPart,
)


def splitAt(data: bytes, cuts: list[int]) -> list[bytes]:
    """
    Cut C{data} at the given offsets (any order, any value in range).
    """
    points = sorted({0, len(data), *(c % (len(data) + 1) for c in cuts)})
    return [data[a:b] for a, b in zip(points, points[1:], strict=False)]


def readData(pieces: list[bytes], maxSize: int = 10**6) -> tuple[DataReader, bytes]:
    """
    Feed C{pieces} to a new L{DataReader} until it finishes.

    @return: the reader and the bytes after the end of data.
    """
    reader = DataReader(maxSize)
    rest = b""
    for index, piece in enumerate(pieces):
        finished, rest = reader.feed(piece)
        if finished:
            rest += b"".join(pieces[index + 1 :])
            break
    return reader, rest


class ReplyTests(SynchronousTestCase):
    """
    L{Reply} serializes as RFC 5321 section 4.2 says and classifies codes.
    """

    def test_singleLine(self) -> None:
        self.assertEqual(Reply.of(220, "hamburger.edu").serialize(), b"220 hamburger.edu\r\n")

    def test_multiLine(self) -> None:
        """
        Every line but the last has a hyphen after the code.
        """
        reply = Reply.of(250, "hamburger.edu", "PIPELINING", "8BITMIME")
        self.assertEqual(
            reply.serialize(), b"250-hamburger.edu\r\n250-PIPELINING\r\n250 8BITMIME\r\n"
        )

    def test_enhancedPrefixesEveryLine(self) -> None:
        """
        RFC 2034 section 3: the enhanced code starts each line's text.
        """
        reply = Reply.of(550, "no", "really", enhanced="5.7.1")
        self.assertEqual(reply.serialize(), b"550-5.7.1 no\r\n550 5.7.1 really\r\n")
        self.assertEqual(reply.enhanced, "5.7.1")

    def test_noEnhanced(self) -> None:
        self.assertIsNone(Reply.of(250, "ok").enhanced)
        self.assertIsNone(Reply.of(250, "2.0.0x").enhanced)

    def test_classes(self) -> None:
        self.assertTrue(Reply.of(250).isPositive())
        self.assertTrue(Reply.of(354).isPositive())
        self.assertTrue(Reply.of(354).isIntermediate())
        self.assertFalse(Reply.of(250).isIntermediate())
        self.assertTrue(Reply.of(451).isTransient())
        self.assertFalse(Reply.of(451).isPositive())
        self.assertTrue(Reply.of(550).isPermanent())
        self.assertFalse(Reply.of(550).isTransient())

    def test_emptyText(self) -> None:
        self.assertEqual(Reply(250, ()).serialize(), b"250 \r\n")

    def test_invalid(self) -> None:
        self.assertRaises(ValueError, Reply.of, 199, "x")
        self.assertRaises(ValueError, Reply.of, 250, "a\r\n250 injected")
        self.assertRaises(ValueError, Reply.of, 250, "a\n250 injected")
        self.assertRaises(ValueError, Reply.of, 250, "ok", "bare\rCR")
        self.assertRaises(ValueError, Reply.of, 250, "bare\nLF", "ok")
        self.assertRaises(ValueError, Reply, 250, ("\r",))

    def test_valueSemantics(self) -> None:
        """
        The bytes computed when a reply is made take no part in equality,
        hashing or its C{repr}: a reply is its code and lines.
        """
        made = Reply.of(250, "a", "b")
        parsed = ReplyParser().feed(made.serialize())[0]
        self.assertEqual(parsed, made)
        self.assertEqual(hash(parsed), hash(made))
        self.assertEqual(repr(made), "Reply(code=250, lines=('a', 'b'))")


class ReplyParserTests(SynchronousTestCase):
    """
    L{ReplyParser} reassembles replies from any split of the bytes.
    """

    def test_single(self) -> None:
        self.assertEqual(
            ReplyParser().feed(b"220 hamburger.edu ESMTP\r\n"),
            [Reply(220, ("hamburger.edu ESMTP",))],
        )

    def test_multiLineJoined(self) -> None:
        parser = ReplyParser()
        self.assertEqual(parser.feed(b"250-hamburger.edu\r\n250-SIZE 100\r\n"), [])
        self.assertTrue(parser.pending)
        self.assertEqual(
            parser.feed(b"250 PIPELINING\r\n"),
            [Reply(250, ("hamburger.edu", "SIZE 100", "PIPELINING"))],
        )
        self.assertFalse(parser.pending)

    def test_severalInOneRead(self) -> None:
        """
        Pipelined replies arriving together come out in order.
        """
        replies = ReplyParser().feed(b"250 2.1.0 ok\r\n250 2.1.5 ok\r\n354 go\r\n")
        self.assertEqual([r.code for r in replies], [250, 250, 354])
        self.assertEqual(replies[1].enhanced, "2.1.5")

    def test_codeOnly(self) -> None:
        self.assertEqual(ReplyParser().feed(b"250\r\n"), [Reply(250, ("",))])

    def test_bareLF(self) -> None:
        """
        The client is liberal: a reply line may end with LF alone.
        """
        self.assertEqual(ReplyParser().feed(b"221 bye\n"), [Reply(221, ("bye",))])

    def test_garbage(self) -> None:
        self.assertRaises(SMTPProtocolError, ReplyParser().feed, b"HTTP/1.1 400 Bad\r\n")
        self.assertRaises(SMTPProtocolError, ReplyParser().feed, b"25 short\r\n")
        self.assertRaises(SMTPProtocolError, ReplyParser().feed, b"250_x\r\n")
        self.assertRaises(SMTPProtocolError, ReplyParser().feed, b"650 x\r\n")

    def test_codeChanges(self) -> None:
        self.assertRaises(SMTPProtocolError, ReplyParser().feed, b"250-a\r\n251 b\r\n")

    def test_tooLong(self) -> None:
        self.assertRaises(SMTPProtocolError, ReplyParser().feed, b"250 " + b"x" * 5000)
        self.assertRaises(SMTPProtocolError, ReplyParser().feed, b"250-x\r\n" * 300)

    @given(
        st.lists(
            st.tuples(
                st.integers(200, 599),
                st.lists(st.text(st.characters(min_codepoint=32, max_codepoint=126)), max_size=5),
            ),
            max_size=5,
        ),
        st.lists(st.integers(0, 10_000), max_size=6),
    )
    def test_roundTrip(self, specs: list[tuple[int, list[str]]], cuts: list[int]) -> None:
        """
        Serialized replies, cut anywhere, parse back to themselves.
        """
        replies = [Reply(code, tuple(lines)) for code, lines in specs]
        data = b"".join(r.serialize() for r in replies)
        parser = ReplyParser()
        parsed = []
        for piece in splitAt(data, cuts):
            parsed.extend(parser.feed(piece))
        self.assertEqual(parsed, replies)

    @given(st.binary(max_size=300))
    def test_onlyItsOwnError(self, data: bytes) -> None:
        """
        Any bytes either parse or raise L{SMTPProtocolError}.
        """
        try:
            ReplyParser().feed(data)
        except SMTPProtocolError:
            pass


class ParseCommandTests(SynchronousTestCase):
    """
    L{parseCommand} splits a command line into verb and argument.
    """

    def test_textbook(self) -> None:
        self.assertEqual(parseCommand(b"HELO crepes.fr\r\n"), Command("HELO", "crepes.fr"))

    def test_caseInsensitiveVerb(self) -> None:
        self.assertEqual(parseCommand(b"mail FROM:<a@b>"), Command("MAIL", "FROM:<a@b>"))

    def test_noArgument(self) -> None:
        self.assertEqual(parseCommand(b"QUIT"), Command("QUIT", ""))
        self.assertEqual(parseCommand(b"DATA  "), Command("DATA", ""))

    def test_bad(self) -> None:
        for line in [b"", b" HELO x", b"\xc3\xa9HLO", b"HELO a\x00b", b"12 x", b"HELO\x7f"]:
            self.assertRaises(SMTPProtocolError, parseCommand, line)

    def test_controlCharacters(self) -> None:
        """
        Every C0 control character but TAB, and DEL, is refused in a
        command line; TAB is white space in an argument.
        """
        self.assertEqual(parseCommand(b"NOOP a\tb"), Command("NOOP", "a\tb"))
        for code in [*range(0, 9), *range(10, 32), 127]:
            line = b"NOOP a" + bytes([code]) + b"b"
            self.assertRaises(SMTPProtocolError, parseCommand, line)

    def test_errorMessages(self) -> None:
        """
        A control character is named as the fault wherever it is, even in
        a line that is bad anyway; any other bad line is a syntax error.
        """
        for line in [b"NOOP a\x01b", b"NO\x7fOP", b"\x00", b" x\x1b"]:
            error = self.assertRaises(SMTPProtocolError, parseCommand, line)
            self.assertEqual(str(error), "control character in command")
        for line in [b"", b"NOOP\tx", b"1NOOP", b" NOOP"]:
            error = self.assertRaises(SMTPProtocolError, parseCommand, line)
            self.assertEqual(str(error), "syntax error, command unrecognized")

    @given(st.binary(max_size=100))
    def test_onlyItsOwnError(self, line: bytes) -> None:
        try:
            command = parseCommand(line)
        except SMTPProtocolError:
            return
        self.assertEqual(command.verb, command.verb.upper())


class PathTests(SynchronousTestCase):
    """
    L{parseMailFrom} and L{parseRcptTo} follow RFC 5321 section 4.1.2.
    """

    def test_mailFrom(self) -> None:
        self.assertEqual(parseMailFrom("FROM:<alice@crepes.fr>"), ("alice@crepes.fr", {}))

    def test_spaceAfterColon(self) -> None:
        """
        The textbook writes C{MAIL FROM: <alice@crepes.fr>}; it is accepted.
        """
        self.assertEqual(parseMailFrom("FROM: <alice@crepes.fr>"), ("alice@crepes.fr", {}))

    def test_keywordCase(self) -> None:
        self.assertEqual(parseMailFrom("from:<a@b.c>"), ("a@b.c", {}))

    def test_nullSender(self) -> None:
        self.assertEqual(parseMailFrom("FROM:<>"), ("", {}))

    def test_parameters(self) -> None:
        self.assertEqual(
            parseMailFrom("FROM:<a@b.c> size=1000 BODY=8BITMIME SMTPUTF8"),
            ("a@b.c", {"SIZE": "1000", "BODY": "8BITMIME", "SMTPUTF8": None}),
        )

    def test_badParameters(self) -> None:
        for argument in [
            "FROM:<a@b.c> SIZE=1 SIZE=2",
            "FROM:<a@b.c> =x",
            "FROM:<a@b.c> A=b=c",
            "FROM:<a@b.c>SIZE=1",
        ]:
            self.assertRaises(SMTPProtocolError, parseMailFrom, argument)

    def test_sourceRouteIgnored(self) -> None:
        """
        RFC 5321 appendix C: the route is accepted and ignored.
        """
        self.assertEqual(parseRcptTo("TO:<@a.org,@b.org:user@c.org>"), ("user@c.org", {}))

    def test_quotedLocalPart(self) -> None:
        address, _ = parseRcptTo('TO:<"user@other"@hamburger.edu>')
        self.assertEqual(address, '"user@other"@hamburger.edu')
        self.assertEqual(splitAddress(address), ("user@other", "hamburger.edu"))

    def test_quotedWithBracket(self) -> None:
        address, params = parseRcptTo('TO:<"a>b"@x.org> NOTIFY=NEVER')
        self.assertEqual((address, params), ('"a>b"@x.org', {"NOTIFY": "NEVER"}))

    def test_percentAndBang(self) -> None:
        """
        C{%} and C{!} are ordinary characters of a local part.
        """
        self.assertEqual(splitAddress(parseRcptTo("TO:<u%o.org@h.edu>")[0]), ("u%o.org", "h.edu"))
        self.assertEqual(splitAddress(parseRcptTo("TO:<o!u@h.edu>")[0]), ("o!u", "h.edu"))

    def test_addressLiteral(self) -> None:
        self.assertEqual(parseRcptTo("TO:<u@[127.0.0.1]>")[0], "u@[127.0.0.1]")
        self.assertEqual(parseRcptTo("TO:<u@[IPv6:::1]>")[0], "u@[IPv6:::1]")

    def test_postmaster(self) -> None:
        self.assertEqual(parseRcptTo("TO:<Postmaster>"), ("postmaster", {}))

    def test_badPaths(self) -> None:
        for argument in [
            "TO:u@h.edu",
            "TO:<u@h.edu",
            "TO:<>",
            "TO:<u>",
            "TO:<u@@h.edu>",
            "TO:<u@-h.edu>",
            "TO:<u..v@h.edu>",
            'TO:<"unterminated@h.edu>',
            "TO:<u@h.edu\x01>",
            "TO:<" + "u" * 65 + "@h.edu>",
            "TO:<u@" + "h" * (MAX_PATH) + ".edu>",
        ]:
            self.assertRaises(AddressError, parseRcptTo, argument)

    def test_wrongKeyword(self) -> None:
        self.assertRaises(SMTPProtocolError, parseRcptTo, "FROM:<u@h.edu>")
        self.assertRaises(SMTPProtocolError, parseMailFrom, "<u@h.edu>")

    def test_unquote(self) -> None:
        self.assertEqual(unquoteLocalPart('"a\\"b"'), 'a"b')
        self.assertEqual(unquoteLocalPart("plain"), "plain")
        self.assertEqual(splitAddress("postmaster"), ("postmaster", ""))
        self.assertEqual(splitAddress("Bob@Hamburger.EDU"), ("Bob", "hamburger.edu"))

    @given(st.text(max_size=80))
    def test_onlyItsOwnError(self, argument: str) -> None:
        for parse in (parseMailFrom, parseRcptTo):
            try:
                parse(argument)
            except SMTPProtocolError:
                pass


class CommandReaderTests(SynchronousTestCase):
    """
    L{CommandReader} cuts lines at CRLF and only there.
    """

    def test_lines(self) -> None:
        reader = CommandReader()
        reader.feed(b"HELO crepes.fr\r\nMAIL FR")
        self.assertEqual(reader.nextLine(), b"HELO crepes.fr")
        self.assertIsNone(reader.nextLine())
        reader.feed(b"OM:<a@b>\r\n")
        self.assertEqual(reader.nextLine(), b"MAIL FROM:<a@b>")

    def test_bareLF(self) -> None:
        reader = CommandReader()
        reader.feed(b"NOOP\nRSET\r\n")
        self.assertRaises(LineEndingError, reader.nextLine)
        self.assertEqual(reader.nextLine(), b"RSET")

    def test_bareCR(self) -> None:
        reader = CommandReader()
        reader.feed(b"NOOP\rRSET\r\nQUIT\r\n")
        self.assertRaises(LineEndingError, reader.nextLine)
        self.assertEqual(reader.nextLine(), b"QUIT")

    def test_bareLineEndingAlone(self) -> None:
        """
        A line of a bare LF alone, or of a CR before a bare LF, is refused;
        a line of CRLF alone is an empty line.
        """
        reader = CommandReader()
        reader.feed(b"\n\r\r\n\r\nQUIT\r\n")
        self.assertRaises(LineEndingError, reader.nextLine)
        self.assertRaises(LineEndingError, reader.nextLine)
        self.assertEqual(reader.nextLine(), b"")
        self.assertEqual(reader.nextLine(), b"QUIT")
        self.assertEqual(reader.buffered, 0)

    def test_feedAfterPartialLine(self) -> None:
        """
        Bytes fed while part of a line waits are added to it.
        """
        reader = CommandReader()
        reader.feed(b"NOOP\r\nRS")
        self.assertEqual(reader.nextLine(), b"NOOP")
        reader.feed(b"ET\r")
        self.assertIsNone(reader.nextLine())
        reader.feed(b"\n")
        self.assertEqual(reader.nextLine(), b"RSET")

    def test_tooLongSkipped(self) -> None:
        """
        A line beyond the limit is reported once and skipped to its end.
        """
        reader = CommandReader()
        reader.feed(b"X" * MAX_COMMAND_LINE)
        self.assertRaises(LineTooLongError, reader.nextLine)
        reader.feed(b"Y" * 100)
        self.assertIsNone(reader.nextLine())
        reader.feed(b"Z\r\nQUIT\r\n")
        self.assertEqual(reader.nextLine(), b"QUIT")

    def test_tooLongComplete(self) -> None:
        reader = CommandReader(maxLength=10)
        reader.feed(b"0123456789\r\nQUIT\r\n")
        self.assertRaises(LineTooLongError, reader.nextLine)
        self.assertEqual(reader.nextLine(), b"QUIT")

    @given(
        st.lists(st.binary(max_size=30).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b""))),
        st.lists(st.integers(0, 10_000), max_size=8),
    )
    def test_anyCut(self, lines: list[bytes], cuts: list[int]) -> None:
        """
        Lines come out whole and in order, however the bytes are cut.
        """
        reader = CommandReader()
        out = []
        for piece in splitAt(b"".join(line + b"\r\n" for line in lines), cuts):
            reader.feed(piece)
            while (line := reader.nextLine()) is not None:
                out.append(line)
        self.assertEqual((out, reader.buffered), (lines, 0))

    def test_takeBuffered(self) -> None:
        reader = CommandReader()
        reader.feed(b"DATA\r\nSubject: x\r\n")
        self.assertEqual(reader.nextLine(), b"DATA")
        self.assertEqual(reader.takeBuffered(), b"Subject: x\r\n")
        self.assertIsNone(reader.nextLine())


class DataReaderTests(SynchronousTestCase):
    """
    L{DataReader} ends the data at CRLF "." CRLF only, unstuffs dots and
    enforces the limits.
    """

    def test_simple(self) -> None:
        reader, rest = readData([b"Subject: hi\r\n\r\nDo you like ketchup?\r\n.\r\nQUIT\r\n"])
        self.assertTrue(reader.finished)
        self.assertIsNone(reader.problem)
        self.assertEqual(reader.message, b"Subject: hi\r\n\r\nDo you like ketchup?\r\n")
        self.assertEqual(rest, b"QUIT\r\n")

    def test_empty(self) -> None:
        reader, rest = readData([b".\r\n"])
        self.assertTrue(reader.finished)
        self.assertEqual(reader.message, b"")

    def test_unstuffing(self) -> None:
        """
        RFC 5321 section 4.5.2: the first dot of a line is removed.
        """
        reader, _ = readData([b"..\r\n...x\r\n.y\r\nz.\r\n.\r\n"])
        self.assertEqual(reader.message, b".\r\n..x\r\ny\r\nz.\r\n")

    def test_unstuffingAcrossReads(self) -> None:
        reader, _ = readData([b"a\r\n", b"..b\r\n", b".", b".c\r\n.", b"\r\n"])
        self.assertEqual(reader.message, b"a\r\n.b\r\n.c\r\n")

    def test_smugglingEndings(self) -> None:
        """
        C{\\n.\\n}, C{\\r.\\r}, C{\\r\\n.\\n} and C{\\n.\\r\\n} do not end the
        data: what follows is still the message, which is refused.
        """
        for fake in [b"\n.\n", b"\r.\r", b"\r\n.\n", b"\n.\r\n", b"\r.\r\n"]:
            data = b"a" + fake + b"MAIL FROM:<evil@x.org>\r\n" + b"\r\n.\r\nQUIT\r\n"
            reader, rest = readData([data])
            self.assertTrue(reader.finished, fake)
            self.assertEqual(reader.problem, DataProblem.BARE_LINE_ENDING, fake)
            self.assertEqual(rest, b"QUIT\r\n", fake)

    def test_bareLFLine(self) -> None:
        reader, _ = readData([b"a\nb\r\n.\r\n"])
        self.assertEqual(reader.problem, DataProblem.BARE_LINE_ENDING)

    def test_bareCRAcrossReads(self) -> None:
        reader, _ = readData([b"a\r", b"b\r\n.\r\n"])
        self.assertEqual(reader.problem, DataProblem.BARE_LINE_ENDING)

    def test_endAcrossReads(self) -> None:
        reader, rest = readData([b"a\r\n", b".", b"\r", b"\nRSET\r\n"])
        self.assertTrue(reader.finished)
        self.assertIsNone(reader.problem)
        self.assertEqual((reader.message, rest), (b"a\r\n", b"RSET\r\n"))

    def test_lineLimit(self) -> None:
        ok = b"x" * (MAX_TEXT_LINE - 2) + b"\r\n"
        reader, _ = readData([ok + b".\r\n"])
        self.assertIsNone(reader.problem)
        reader, _ = readData([b"x" + ok + b".\r\n"])
        self.assertEqual(reader.problem, DataProblem.LINE_TOO_LONG)

    @given(
        st.lists(st.integers(0, 2 * MAX_TEXT_LINE), min_size=1, max_size=8),
        st.lists(st.integers(0, 10_000), max_size=4),
    )
    def test_lineLimitAnyLengths(self, lengths: list[int], cuts: list[int]) -> None:
        """
        Lines of any lengths, however cut: the message is refused exactly
        when one of them, with its CRLF, is longer than L{MAX_TEXT_LINE}.
        """
        lines = [b"x" * n + b"\r\n" for n in lengths]
        reader, _ = readData(splitAt(b"".join(lines) + b".\r\n", cuts))
        tooLong = max(map(len, lines)) > MAX_TEXT_LINE
        self.assertEqual(reader.problem == DataProblem.LINE_TOO_LONG, tooLong)
        if not tooLong:
            self.assertEqual(reader.message, b"".join(lines))

    def test_lineLimitStreamed(self) -> None:
        """
        A long line arriving in small reads is caught without keeping it,
        and the end of data is still found.
        """
        pieces = [b"y" * 100] * 50 + [b".\r\n.\r\nNOOP\r\n"]
        reader, rest = readData(pieces)
        self.assertEqual(reader.problem, DataProblem.LINE_TOO_LONG)
        self.assertEqual(rest, b"NOOP\r\n")

    def test_longLineEndingWithDot(self) -> None:
        """
        A long line whose last byte is a dot does not end the data.
        """
        reader = DataReader(10**6)
        reader.feed(b"y" * 2000 + b".")
        finished, _ = reader.feed(b"\r\n")
        self.assertFalse(finished)
        finished, _ = reader.feed(b".\r\n")
        self.assertTrue(finished)

    def test_sizeLimit(self) -> None:
        reader, rest = readData([b"a" * 50 + b"\r\n", b"b" * 60 + b"\r\n.\r\n"], maxSize=100)
        self.assertEqual(reader.problem, DataProblem.TOO_BIG)
        self.assertEqual(reader.message, b"")
        self.assertEqual(reader.size, 114)

    @given(st.binary(max_size=300), st.lists(st.integers(0, 10_000), max_size=6))
    def test_dotStuffRoundTrip(self, message: bytes, cuts: list[int]) -> None:
        """
        What L{dotStuff} sends, L{DataReader} reads back as the normalized
        message, however it is cut.
        """
        wire = dotStuff(message)
        reader, rest = readData(splitAt(wire, cuts))
        self.assertTrue(reader.finished)
        self.assertEqual(rest, b"")
        self.assertIsNone(reader.problem)
        expected = normalizeLineEndings(message)
        if expected and not expected.endswith(b"\r\n"):
            expected += b"\r\n"
        self.assertEqual(reader.message, expected)

    @given(st.binary(max_size=300), st.lists(st.integers(0, 10_000), max_size=6))
    def test_neverEndsEarly(self, message: bytes, cuts: list[int]) -> None:
        """
        However cut, the data ends at the first CRLF "." CRLF (or a leading
        "." CRLF) and nowhere else.
        """
        data = message + b"\r\n.\r\n"
        probe = b"\r\n" + data
        expectedEnd = probe.find(b"\r\n.\r\n") - 2 + 5
        reader, rest = readData(splitAt(data, cuts))
        self.assertTrue(reader.finished)
        self.assertEqual(rest, data[expectedEnd:])

    @given(
        st.lists(st.sampled_from([b"a", b".", b"\r", b"\n", b"\r\n"]), max_size=60),
        st.lists(st.integers(0, 10_000), max_size=6),
    )
    def test_bareLineEndingsFound(self, pieces: list[bytes], cuts: list[int]) -> None:
        """
        A message is refused for a bare line ending exactly when, up to its
        end of data, some CR is not followed by LF or some LF does not follow
        a CR (RFC 5321 section 2.3.8), however the bytes are cut.
        """
        data = b"".join(pieces) + b"\r\n.\r\n"
        end = (b"\r\n" + data).find(b"\r\n.\r\n")
        text = data[:end]
        bare = any(
            (byte == 13 and text[i + 1 : i + 2] != b"\n")
            or (byte == 10 and (i == 0 or text[i - 1] != 13))
            for i, byte in enumerate(text)
        )
        reader, rest = readData(splitAt(data, cuts))
        self.assertTrue(reader.finished)
        self.assertEqual(reader.problem == DataProblem.BARE_LINE_ENDING, bare)


class DotStuffTests(SynchronousTestCase):
    """
    L{dotStuff} and L{normalizeLineEndings} prepare messages for DATA.
    """

    def test_stuffing(self) -> None:
        self.assertEqual(dotStuff(b".a\r\nb\r\n..c\r\n"), b"..a\r\nb\r\n...c\r\n.\r\n")

    def test_addsFinalCRLF(self) -> None:
        self.assertEqual(dotStuff(b"a"), b"a\r\n.\r\n")

    def test_empty(self) -> None:
        self.assertEqual(dotStuff(b""), b".\r\n")

    def test_normalize(self) -> None:
        self.assertEqual(normalizeLineEndings(b"a\nb\rc\r\nd"), b"a\r\nb\r\nc\r\nd")
        self.assertEqual(normalizeLineEndings(b"a\r\r\n"), b"a\r\n\r\n")
        self.assertEqual(normalizeLineEndings(b"plain\r\n"), b"plain\r\n")

    def test_smugglingNeutralized(self) -> None:
        """
        A message holding C{\\n.\\n} is sent with it as CRLF "." "." CRLF.
        """
        self.assertEqual(dotStuff(b"a\n.\nb"), b"a\r\n..\r\nb\r\n.\r\n")
