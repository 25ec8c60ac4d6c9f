"""
The uppercase service of the textbook's section 2.7, sans-IO.

The textbook's servers answer every message with::

    modifiedMessage = message.decode().upper()

This module is that one line, made robust enough to face a network:

  - Bytes are decoded as UTF-8 with C{errors="surrogateescape"}, so bytes
    that are not UTF-8 come back unchanged instead of raising
    C{UnicodeDecodeError} (the textbook's server dies on them).
  - Over TCP a character may arrive split across two segments (TCP delivers
    a byte stream, not messages: section 3.5).  L{UpperCaser} decodes
    incrementally, so C{"\\xc3"} then C{"\\x9f"} still becomes C{"SS"}.
  - Every limit is explicit: a TCP sentence (the bytes up to C{"\\n"}) is at
    most L{MAX_SENTENCE} bytes, a UDP datagram at most L{MAX_DATAGRAM}.

No sockets and no Twisted here: bytes in, bytes out.  L{netref.sockets.server}
and L{netref.sockets.client} connect this to the network.

Two facts about C{str.upper} shape the design, and the tests check both
over every code point:

  - It may make text longer (C{"ß"} becomes C{"SS"}), up to L{GROWTH} times
    the UTF-8 bytes (C{"ΐ"}: 2 bytes, 3 code points, 6 bytes).  So an answer
    is not the same length as its question, and readers allow for it.
  - Its result never contains an ASCII lowercase letter, and neither does
    anything L{upper} returns.  netref's error replies are therefore written
    in lowercase (C{"error: ..."}): no answer can be mistaken for one.
"""

from __future__ import annotations

import codecs

#: The textbook's C{serverPort}: both uppercase servers listen on it.
SERVER_PORT = 12000

#: The longest TCP sentence accepted, in bytes, not counting its C{"\\n"}.
MAX_SENTENCE = 64 * 1024

#: The longest UDP datagram accepted, in bytes: the buffer size of the
#: textbook's C{recvfrom(2048)}.  Its answer (at most L{GROWTH} times longer)
#: still fits Twisted's default UDP read size of 8192 bytes.
MAX_DATAGRAM = 2048

#: How many times longer than its UTF-8 input the output of C{str.upper} can
#: be, in UTF-8 bytes.
GROWTH = 3

#: Where an error reply starts.  It is lowercase on purpose: see the module
#: docstring.
ERROR_PREFIX = b"error: "

_ENCODING = "utf-8"
_ERRORS = "surrogateescape"


class UpperError(Exception):
    """
    Base class of the errors of the uppercase service.
    """


class SentenceTooLongError(UpperError):
    """
    A TCP sentence grew beyond its limit.

    @ivar limit: the limit that was exceeded, in bytes.
    @ivar reply: everything to send before closing the connection: the
        answer to the data up to the limit, then L{errorLine}.
    """

    def __init__(self, limit: int, reply: bytes) -> None:
        super().__init__(f"sentence longer than {limit} bytes")
        self.limit = limit
        self.reply = reply


class ReplyTooLongError(UpperError):
    """
    A reply grew beyond what any answer to our sentence could be.
    """


class ServerError(UpperError):
    """
    The server answered with an error line (L{ERROR_PREFIX}).
    """


def upper(data: bytes) -> bytes:
    """
    Upper-case one whole message, as the textbook's servers do.

    @param data: any bytes; UTF-8 text is upper-cased, other bytes are
        returned as they are.
    @return: the upper-cased message.  Never raises.
    """
    return data.decode(_ENCODING, _ERRORS).upper().encode(_ENCODING, _ERRORS)


def errorLine(reason: str) -> bytes:
    """
    @param reason: what went wrong, in lowercase ASCII.
    @return: the error reply line, such as
        C{b"error: sentence longer than 65536 bytes\\n"}.
    """
    return ERROR_PREFIX + reason.encode("ascii") + b"\n"


class UpperCaser:
    """
    The server side of the TCP uppercase service: upper-cases a byte stream
    piece by piece, as it arrives.

    Feeding the stream in any number of pieces, then calling L{end}, gives
    the same bytes as L{upper} on the whole stream, because C{str.upper} maps each character
    on its own and the decoder keeps an incomplete UTF-8 character until the
    rest of it arrives.

    The stream is a sequence of sentences ending in C{"\\n"}; one that grows
    beyond C{maxSentence} bytes (without its C{"\\n"}) ends the dialogue with
    L{SentenceTooLongError}.
    """

    def __init__(self, maxSentence: int = MAX_SENTENCE) -> None:
        """
        @param maxSentence: the longest sentence accepted, in bytes.
        """
        self.maxSentence = maxSentence
        self._decoder = codecs.getincrementaldecoder(_ENCODING)(_ERRORS)
        self._sentenceLength = 0
        self._failed = False

    def _upper(self, data: bytes, final: bool = False) -> bytes:
        text = self._decoder.decode(data, final)
        return text.upper().encode(_ENCODING, _ERRORS)

    def _cut(self, data: bytes) -> int | None:
        """
        Find where C{data} makes a sentence too long.

        @return: the index in C{data} of the first byte beyond the limit, or
            L{None} if every sentence fits; updates the length of the current
            sentence in the second case.
        """
        length = self._sentenceLength
        start = 0
        while True:
            newline = data.find(b"\n", start)
            end = len(data) if newline < 0 else newline
            if length + (end - start) > self.maxSentence:
                return start + (self.maxSentence - length)
            if newline < 0:
                self._sentenceLength = length + (end - start)
                return None
            length = 0
            start = newline + 1

    def feed(self, data: bytes) -> bytes:
        """
        Upper-case the next piece of the stream.

        @param data: the bytes that just arrived.
        @return: the bytes to send back now.  An incomplete UTF-8 character
            at the end of C{data} is held back until the rest of it arrives.
        @raise SentenceTooLongError: if a sentence grows beyond the limit.  Its
            C{reply} holds the answer up to the limit and the error line; the
            caller sends it and closes the connection.  Every later call
            raises again, with nothing more to send.
        """
        if self._failed:
            raise SentenceTooLongError(self.maxSentence, b"")
        cut = self._cut(data)
        if cut is None:
            return self._upper(data)
        self._failed = True
        reply = self._upper(data[:cut]) + errorLine(
            f"sentence longer than {self.maxSentence} bytes"
        )
        raise SentenceTooLongError(self.maxSentence, reply)

    def end(self) -> bytes:
        """
        The stream has ended: flush what the decoder still holds.

        @return: the last bytes to send, the unchanged bytes of an incomplete
            UTF-8 character at the very end of the stream (usually nothing).
        """
        if self._failed:
            return b""
        return self._upper(b"", final=True)


def isErrorReply(reply: bytes) -> bool:
    """
    @return: whether C{reply} holds an error line.  The error may follow the
        answer to the beginning of an overlong sentence, on the same line; an
        answer cannot contain C{"error: "}, so this is never a false alarm.
    """
    return ERROR_PREFIX in reply


def decodeReply(reply: bytes) -> str:
    """
    Turn a reply into text for the caller of a client.

    @param reply: an answer, without its line ending.
    @return: the answer, decoded as UTF-8 with C{surrogateescape} (so
        C{reply} can be recovered exactly by encoding the same way).
    @raise ServerError: if C{reply} is an error line.
    """
    index = reply.find(ERROR_PREFIX)
    if index >= 0:
        reason = reply[index + len(ERROR_PREFIX) :].rstrip(b"\r\n")
        raise ServerError(reason.decode(_ENCODING, "backslashreplace"))
    return reply.decode(_ENCODING, _ERRORS)


def encodeSentence(sentence: str) -> bytes:
    """
    @param sentence: text from the user; strings that came from decoding
        bytes with C{surrogateescape} (command-line arguments, L{decodeReply})
        get their original bytes back.
    @return: the bytes to send.
    """
    return sentence.encode(_ENCODING, _ERRORS)


class ReplyReader:
    """
    The client side of the TCP uppercase service: collects the answer to one
    sentence.

    netref's client sends its sentence with a C{"\\n"}, so the answer is
    complete at the first C{"\\n"}.  The textbook's server answers without one
    and closes the connection instead, so the end of the stream also ends the
    answer (L{end}).
    """

    def __init__(self, maxReply: int = GROWTH * MAX_SENTENCE + len(ERROR_PREFIX) + 80) -> None:
        """
        @param maxReply: the longest reply accepted, in bytes, without its
            C{"\\n"}.  The default allows for the longest answer to the
            longest sentence, or an error line after it.
        """
        self.maxReply = maxReply
        self._buffer = b""

    def feed(self, data: bytes) -> bytes | None:
        """
        @param data: the bytes that just arrived.
        @return: the whole reply, without its C{"\\n"}, once the C{"\\n"} has
            arrived; else L{None}.  Anything after the C{"\\n"} is ignored.
        @raise ReplyTooLongError: if the reply exceeds C{maxReply}.
        """
        self._buffer += data
        line, newline, _ = self._buffer.partition(b"\n")
        if len(line) > self.maxReply:
            raise ReplyTooLongError(f"reply longer than {self.maxReply} bytes")
        if newline:
            return line
        return None

    def end(self) -> bytes | None:
        """
        The stream ended before a C{"\\n"}.

        @return: what arrived, as the whole reply, or L{None} if nothing did.
        """
        return self._buffer or None


def datagramReply(datagram: bytes, maxDatagram: int = MAX_DATAGRAM) -> bytes:
    """
    The server side of the UDP uppercase service: the answer to one datagram.

    A datagram is a whole message (RFC 768 delivers it whole or not at all),
    so no line ending is needed or added.

    @param datagram: the datagram received.
    @param maxDatagram: the longest datagram accepted.
    @return: the reply datagram: L{upper} of C{datagram}, or an error line if
        C{datagram} is too long.
    """
    if len(datagram) > maxDatagram:
        return errorLine(f"datagram longer than {maxDatagram} bytes")
    return upper(datagram)
