"""
Tests for L{netref.sockets.wire}: upper-casing bytes, sans-IO.
"""

from __future__ import annotations

import string
import sys

from hypothesis import given
from hypothesis import strategies as st
from twisted.trial.unittest import SynchronousTestCase

from netref.sockets.wire import (
    ERROR_PREFIX,
    GROWTH,
    MAX_DATAGRAM,
    MAX_SENTENCE,
    ReplyReader,
    ReplyTooLongError,
    SentenceTooLongError,
    ServerError,
    UpperCaser,
    datagramReply,
    decodeReply,
    encodeSentence,
    errorLine,
    isErrorReply,
    upper,
)


def feedAll(caser: UpperCaser, pieces: list[bytes]) -> bytes:
    """
    Feed C{pieces} to C{caser} one by one, then end the stream.
    """
    return b"".join(caser.feed(piece) for piece in pieces) + caser.end()


def splitAt(data: bytes, cuts: list[int]) -> list[bytes]:
    """
    Cut C{data} at the given offsets (any order, any value in range).
    """
    points = sorted({0, len(data), *cuts})
    return [data[a:b] for a, b in zip(points, points[1:], strict=False)]


class UpperTests(SynchronousTestCase):
    """
    L{upper} does what the textbook's C{message.decode().upper()} does, and
    never raises.
    """

    def test_ascii(self) -> None:
        self.assertEqual(upper(b"hello, world 12000!\n"), b"HELLO, WORLD 12000!\n")

    def test_nonAscii(self) -> None:
        """
        Non-ASCII letters are upper-cased, and may grow: 'ß' is 'SS'.
        """
        self.assertEqual(upper("straße café".encode()), "STRASSE CAFÉ".encode())
        self.assertEqual(upper("приве́т 你好".encode()), "ПРИВЕ́Т 你好".encode())

    def test_sameAsTextbook(self) -> None:
        """
        On UTF-8 text, the result is the textbook's.
        """
        message = "Input lowercase sentence: ǆ ﬃ ΐ".encode()
        self.assertEqual(upper(message), message.decode().upper().encode())

    def test_garbagePassesThrough(self) -> None:
        """
        Bytes that are not UTF-8 come back unchanged; ASCII letters among
        them are still upper-cased.
        """
        self.assertEqual(upper(b"\xff\xfeab\xc3(\x80"), b"\xff\xfeAB\xc3(\x80")

    def test_emptyMessage(self) -> None:
        self.assertEqual(upper(b""), b"")

    @given(st.binary())
    def test_neverRaises(self, data: bytes) -> None:
        """
        Any bytes at all give bytes back.
        """
        self.assertIsInstance(upper(data), bytes)

    @given(st.binary())
    def test_noLowercaseAscii(self, data: bytes) -> None:
        """
        An answer never contains an ASCII lowercase letter, whatever came in:
        so lowercase error lines can't be mistaken for answers.
        """
        self.assertFalse(set(upper(data)) & set(string.ascii_lowercase.encode()))

    @given(st.text())
    def test_textRoundTrip(self, text: str) -> None:
        """
        On valid UTF-8, the answer is exactly the textbook's.
        """
        self.assertEqual(upper(text.encode()), text.upper().encode())


class UnicodeFactsTests(SynchronousTestCase):
    """
    The two facts about C{str.upper} the module relies on, checked for every
    code point of this Python's Unicode database.
    """

    def test_growthAndNoLowercase(self) -> None:
        lowercase = set(string.ascii_lowercase)
        worst = 0.0
        for codePoint in range(sys.maxunicode + 1):
            if 0xD800 <= codePoint <= 0xDFFF:
                continue
            char = chr(codePoint)
            result = char.upper()
            worst = max(worst, len(result.encode()) / len(char.encode()))
            self.assertFalse(lowercase & set(result), f"U+{codePoint:04X}")
        self.assertLessEqual(worst, GROWTH)


class UpperCaserTests(SynchronousTestCase):
    """
    L{UpperCaser} upper-cases a TCP byte stream as it arrives.
    """

    def test_ascii(self) -> None:
        caser = UpperCaser()
        self.assertEqual(caser.feed(b"hello\n"), b"HELLO\n")
        self.assertEqual(caser.feed(b"world"), b"WORLD")
        self.assertEqual(caser.end(), b"")

    def test_splitMultibyteCharacter(self) -> None:
        """
        A character split across two segments is held back, then upper-cased
        whole: 'ß' (C3 9F) gives 'SS'.
        """
        caser = UpperCaser()
        self.assertEqual(caser.feed(b"stra\xc3"), b"STRA")
        self.assertEqual(caser.feed(b"\x9fe"), b"SSE")

    def test_splitFourByteCharacter(self) -> None:
        caser = UpperCaser()
        data = "𐐨x".encode()  # DESERET SMALL LETTER LONG I, 4 bytes
        self.assertEqual(feedAll(caser, [data[:1], data[1:2], data[2:3], data[3:]]), upper(data))
        self.assertEqual(upper(data), "𐐀X".encode())

    def test_incompleteCharacterAtEnd(self) -> None:
        """
        Bytes of a character that never completes come back unchanged when
        the stream ends.
        """
        caser = UpperCaser()
        self.assertEqual(caser.feed(b"ab\xe2\x82"), b"AB")
        self.assertEqual(caser.end(), b"\xe2\x82")

    def test_garbage(self) -> None:
        caser = UpperCaser()
        self.assertEqual(caser.feed(b"\xff\x00a"), b"\xff\x00A")

    def test_longestSentence(self) -> None:
        """
        A sentence of exactly the limit is fine, over several pieces too.
        """
        caser = UpperCaser(maxSentence=10)
        self.assertEqual(caser.feed(b"abcde"), b"ABCDE")
        self.assertEqual(caser.feed(b"fghij\nklmnopqrst\n"), b"FGHIJ\nKLMNOPQRST\n")

    def test_sentenceTooLong(self) -> None:
        """
        One byte over the limit (without the newline) ends the dialogue: the
        answer goes up to the limit, then comes the error line.
        """
        caser = UpperCaser(maxSentence=10)
        self.assertEqual(caser.feed(b"ok\nabcdef"), b"OK\nABCDEF")
        with self.assertRaises(SentenceTooLongError) as raised:
            caser.feed(b"ghijkl\n")
        self.assertEqual(raised.exception.limit, 10)
        self.assertEqual(
            raised.exception.reply, b"GHIJ" + b"error: sentence longer than 10 bytes\n"
        )
        self.assertTrue(isErrorReply(raised.exception.reply))

    def test_afterTooLong(self) -> None:
        """
        Once failed, L{UpperCaser} has nothing more to say.
        """
        caser = UpperCaser(maxSentence=3)
        self.assertRaises(SentenceTooLongError, caser.feed, b"abcd")
        with self.assertRaises(SentenceTooLongError) as raised:
            caser.feed(b"\n")
        self.assertEqual(raised.exception.reply, b"")
        self.assertEqual(caser.end(), b"")

    def test_defaultLimit(self) -> None:
        caser = UpperCaser()
        self.assertEqual(caser.maxSentence, MAX_SENTENCE)
        self.assertEqual(caser.feed(b"a" * MAX_SENTENCE), b"A" * MAX_SENTENCE)
        self.assertRaises(SentenceTooLongError, caser.feed, b"a")

    @given(st.binary(), st.lists(st.integers(min_value=0, max_value=200)))
    def test_anySplitSameAsWhole(self, data: bytes, cuts: list[int]) -> None:
        """
        However the stream is cut into segments, the answer is the same as
        upper-casing it whole.
        """
        pieces = splitAt(data, [c for c in cuts if c <= len(data)])
        self.assertEqual(feedAll(UpperCaser(), pieces), upper(data))

    @given(st.text(), st.lists(st.integers(min_value=0, max_value=400)))
    def test_anySplitOfText(self, text: str, cuts: list[int]) -> None:
        """
        Cutting UTF-8 text anywhere, even inside a character, gives the
        textbook's answer.
        """
        data = text.encode()
        pieces = splitAt(data, [c for c in cuts if c <= len(data)])
        self.assertEqual(feedAll(UpperCaser(), pieces), text.upper().encode())

    @given(
        st.binary(min_size=1, max_size=80),
        st.lists(st.integers(min_value=0, max_value=80)),
        st.integers(min_value=1, max_value=20),
    )
    def test_limitIndependentOfSplit(self, data: bytes, cuts: list[int], limit: int) -> None:
        """
        Whether and where a sentence is too long does not depend on how the
        stream was cut: the bytes sent before the connection closes are the
        same.
        """

        def run(pieces: list[bytes]) -> tuple[bytes, bool]:
            caser = UpperCaser(maxSentence=limit)
            sent = b""
            try:
                for piece in pieces:
                    sent += caser.feed(piece)
            except SentenceTooLongError as e:
                return sent + e.reply, True
            return sent + caser.end(), False

        whole = run([data])
        split = run(splitAt(data, [c for c in cuts if c <= len(data)]))
        tooLong = any(len(s) > limit for s in data.split(b"\n"))
        self.assertEqual(whole[1], tooLong)
        self.assertEqual(split[1], tooLong)
        if not tooLong:
            self.assertEqual(split, whole)
        else:
            # The error line comes after the answer up to the limit; an
            # incomplete character right at the cut is dropped either way.
            self.assertTrue(split[0].endswith(b"\n"))
            self.assertEqual(split[0], whole[0])


class ErrorLineTests(SynchronousTestCase):
    """
    Error replies are lowercase lines that L{decodeReply} turns into
    L{ServerError}.
    """

    def test_errorLine(self) -> None:
        self.assertEqual(errorLine("too long"), b"error: too long\n")
        self.assertTrue(errorLine("x").startswith(ERROR_PREFIX))

    def test_decodeReply(self) -> None:
        self.assertEqual(decodeReply(b"STRASSE"), "STRASSE")

    def test_decodeGarbageRoundTrips(self) -> None:
        reply = b"\xffAB"
        self.assertEqual(encodeSentence(decodeReply(reply)), reply)

    def test_decodeError(self) -> None:
        with self.assertRaises(ServerError) as raised:
            decodeReply(b"ABCerror: sentence longer than 3 bytes")
        self.assertEqual(str(raised.exception), "sentence longer than 3 bytes")

    def test_notAnError(self) -> None:
        self.assertFalse(isErrorReply(b"ERROR: SHOUTED"))


class ReplyReaderTests(SynchronousTestCase):
    """
    L{ReplyReader} finds the end of an answer: a newline, or the end of the
    stream.
    """

    def test_untilNewline(self) -> None:
        reader = ReplyReader()
        self.assertIsNone(reader.feed(b"HEL"))
        self.assertEqual(reader.feed(b"LO\nmore"), b"HELLO")

    def test_untilClose(self) -> None:
        """
        The textbook's server answers without a newline, then closes.
        """
        reader = ReplyReader()
        self.assertIsNone(reader.feed(b"HELLO"))
        self.assertEqual(reader.end(), b"HELLO")

    def test_nothing(self) -> None:
        self.assertIsNone(ReplyReader().end())

    def test_tooLong(self) -> None:
        reader = ReplyReader(maxReply=4)
        self.assertIsNone(reader.feed(b"ABCD"))
        self.assertRaises(ReplyTooLongError, reader.feed, b"E")

    def test_defaultAllowsLongestAnswer(self) -> None:
        """
        The answer to the longest sentence of the most growing characters,
        followed by an error line, fits the default.
        """
        reader = ReplyReader()
        sentence = "ΐ".encode() * (MAX_SENTENCE // 2)
        answer = upper(sentence)
        self.assertEqual(len(answer), GROWTH * MAX_SENTENCE)
        reply = answer + errorLine(f"sentence longer than {MAX_SENTENCE} bytes")
        self.assertEqual(reader.feed(reply), reply[:-1])


class DatagramReplyTests(SynchronousTestCase):
    """
    L{datagramReply} answers one UDP datagram.
    """

    def test_datagram(self) -> None:
        self.assertEqual(datagramReply(b"hello"), b"HELLO")

    def test_noNewlineAdded(self) -> None:
        self.assertEqual(datagramReply(b""), b"")

    def test_longest(self) -> None:
        self.assertEqual(datagramReply(b"a" * MAX_DATAGRAM), b"A" * MAX_DATAGRAM)

    def test_tooLong(self) -> None:
        reply = datagramReply(b"a" * (MAX_DATAGRAM + 1))
        self.assertEqual(reply, b"error: datagram longer than 2048 bytes\n")

    def test_answerFitsReadSize(self) -> None:
        """
        The longest answer fits Twisted's default UDP read size.
        """
        sentence = "ΐ".encode() * (MAX_DATAGRAM // 2)
        self.assertLessEqual(len(datagramReply(sentence)), 8192)
