"""
The textbook's uppercase clients (section 2.7), and the C{netref upper} tool.

The textbook's C{TCPClient} connects, sends its sentence and prints what one
C{recv(1024)} returns; its C{UDPClient} sends one datagram and waits in
C{recvfrom(2048)}, forever if the datagram or its answer is lost.  netref's
clients return Deferreds and never wait forever:

  - L{upperTCP} sends the sentence and a C{"\\n"}, and reads the answer up
    to the first C{"\\n"}, or, from a server like the textbook's that
    answers without one, up to the closing of the connection.
  - L{upperUDP} sends the sentence as one datagram and, as UDP may lose it
    (RFC 768 promises no delivery), sends it again if no answer comes within
    C{timeout} seconds, C{retries} times, then gives up with L{NoReplyError}.

Embedding, in another Twisted program::

    from twisted.internet import defer, task
    from netref.sockets.client import upperTCP, upperUDP

    async def main(reactor):
        print(await upperTCP(reactor, "localhost", 12000, "hello"))
        print(await upperUDP(reactor, "127.0.0.1", 12000, "hello"))

    task.react(lambda reactor: defer.ensureDeferred(main(reactor)))
"""

from __future__ import annotations

import errno
import os
import sys
from collections.abc import Iterator
from typing import Any

from twisted.internet import defer, error
from twisted.internet.abstract import isIPAddress, isIPv6Address
from twisted.internet.defer import Deferred
from twisted.internet.endpoints import HostnameEndpoint, connectProtocol, wrapClientTLS
from twisted.internet.interfaces import (
    IDelayedCall,
    IOpenSSLClientConnectionCreator,
    IReactorTime,
    IStreamClientEndpoint,
    ITCPTransport,
    IUDPTransport,
)
from twisted.internet.protocol import DatagramProtocol, Protocol, connectionDone
from twisted.internet.threads import deferToThreadPool
from twisted.python import usage
from twisted.python.failure import Failure

from netref.core.cli import ToolError
from netref.core.datagram import pendingError
from netref.core.trace import (
    Transcript,
    describeAddress,
    startPrintingTranscripts,
    stopPrintingTranscripts,
)
from netref.sockets.wire import (
    MAX_DATAGRAM,
    MAX_SENTENCE,
    SERVER_PORT,
    ReplyReader,
    ReplyTooLongError,
    ServerError,
    UpperError,
    decodeReply,
    encodeSentence,
)

#: Seconds L{upperTCP} waits to connect, and then for the answer.
TCP_TIMEOUT = 10.0

#: Seconds L{upperUDP} waits for an answer before sending its datagram again.
UDP_TIMEOUT = 1.0

#: How many times L{upperUDP} sends its datagram again before giving up.
UDP_RETRIES = 2

#: The textbook's prompt, shown when C{netref upper} reads from a terminal.
PROMPT = "Input lowercase sentence:"


class NoReplyError(UpperError):
    """
    The server did not answer in time, or closed the connection without
    answering.
    """


class UpperTCPClientProtocol(Protocol):
    """
    Sends one sentence over a TCP connection and collects the answer.

    @ivar finished: fires with the answer (bytes, without its C{"\\n"}) once
        the connection is closed, or fails with L{NoReplyError} or
        L{ReplyTooLongError}.
    """

    transport: ITCPTransport

    def __init__(self, sentence: bytes, clock: IReactorTime, timeout: float = TCP_TIMEOUT) -> None:
        """
        @param sentence: the sentence, without a C{"\\n"}.
        @param clock: for the timeout.
        @param timeout: seconds to wait for the answer once connected.
        """
        self._sentence = sentence
        self._clock = clock
        self._timeout = timeout
        self._reader = ReplyReader()
        self._reply: bytes | None = None
        self._failure: Failure | None = None
        self._timer: IDelayedCall | None = None
        self._transcript = Transcript()
        self.finished: Deferred[bytes] = Deferred(self._cancel)

    def connectionMade(self) -> None:
        if self._transcript.enabled:
            self._transcript.note(f"connected to {describeAddress(self.transport.getPeer())}")
            self._transcript.client(self._sentence)
        self._timer = self._clock.callLater(self._timeout, self._timedOut)
        self.transport.write(self._sentence + b"\n")

    def _timedOut(self) -> None:
        self._timer = None
        self._fail(NoReplyError(f"no answer within {self._timeout:g} seconds"))

    def _fail(self, reason: Exception) -> None:
        if self._failure is None and self._reply is None:
            self._failure = Failure(reason)
        self.transport.abortConnection()

    def _cancel(self, finished: Deferred[bytes]) -> None:
        if self.transport is not None:
            self.transport.abortConnection()

    def _done(self, reply: bytes) -> None:
        self._reply = reply
        if self._transcript.enabled:
            self._transcript.server(reply)

    def dataReceived(self, data: bytes) -> None:
        if self._reply is not None or self._failure is not None:
            return
        try:
            reply = self._reader.feed(data)
        except ReplyTooLongError as e:
            self._fail(e)
            return
        if reply is not None:
            self._done(reply)
            self.transport.loseConnection()

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None
        if self._reply is None and self._failure is None:
            # The textbook's server answers without a newline, then closes.
            reply = self._reader.end()
            if reply is None:
                self._failure = Failure(NoReplyError("connection closed without an answer"))
            else:
                self._done(reply)
        if self.finished.called:
            return
        if self._failure is not None:
            self.finished.errback(self._failure)
        else:
            assert self._reply is not None
            self.finished.callback(self._reply)


def _checkSentence(sentence: str, limit: int, what: str) -> bytes:
    data = encodeSentence(sentence)
    if b"\n" in data:
        raise ValueError("a sentence is one line: it may not contain a newline")
    if len(data) > limit:
        raise ValueError(f"sentence longer than the {what} limit of {limit} bytes")
    return data


def upperTCP(
    reactor: Any,
    host: str,
    port: int,
    sentence: str,
    timeout: float = TCP_TIMEOUT,
    tls: IOpenSSLClientConnectionCreator | None = None,
) -> Deferred[str]:
    """
    Ask a TCP uppercase server to upper-case one sentence.

    @param reactor: provides C{IReactorTCP}, C{IReactorTime} and name
        resolution (the global reactor does).
    @param host: the server's name or address.
    @param port: its port (the textbook's is L{SERVER_PORT}).
    @param sentence: one line of text.
    @param timeout: seconds to wait to connect, and then for the answer.
    @param tls: to talk to a server on an C{ssl:} endpoint: client TLS
        options, such as L{netref.core.tls.clientOptions} for C{host}.
    @return: fires with the answer, or fails with C{ConnectError} (refused,
        unreachable, C{DNSLookupError}, C{TimeoutError}), L{NoReplyError},
        L{ServerError} or L{ReplyTooLongError}.
    @raise ValueError: if C{sentence} has a newline or is longer than
        L{MAX_SENTENCE} bytes.
    """
    data = _checkSentence(sentence, MAX_SENTENCE, "TCP sentence")
    endpoint: IStreamClientEndpoint = HostnameEndpoint(reactor, host, port, timeout=timeout)
    if tls is not None:
        endpoint = wrapClientTLS(tls, endpoint)
    protocol = UpperTCPClientProtocol(data, reactor, timeout)

    async def exchange() -> str:
        await connectProtocol(endpoint, protocol)
        return decodeReply(await protocol.finished)

    return Deferred.fromCoroutine(exchange())


class UpperUDPClientProtocol(DatagramProtocol):
    """
    Sends one datagram, again after each timeout, until an answer comes.

    The port is I{connected} to the server: that sends nothing (UDP has no
    connection), but the kernel then only delivers datagrams from the server,
    and reports an ICMP "port unreachable" as C{connectionRefused}, so
    nobody listening is an error at once rather than a timeout.

    @ivar finished: fires with the answer datagram, or fails with
        L{NoReplyError} or C{ConnectionRefusedError}.
    @ivar sent: how many times the datagram has been sent.
    """

    transport: IUDPTransport

    def __init__(
        self,
        datagram: bytes,
        server: tuple[str, int],
        clock: IReactorTime,
        timeout: float = UDP_TIMEOUT,
        retries: int = UDP_RETRIES,
    ) -> None:
        """
        @param datagram: what to send.
        @param server: the server's (IP address, port).
        @param clock: for the timeouts.
        @param timeout: seconds to wait for an answer to each datagram.
        @param retries: how many times to send again.
        """
        self._datagram = datagram
        self._server = server
        self._clock = clock
        self._timeout = timeout
        self._retries = retries
        self._timer: IDelayedCall | None = None
        # Kept for stopProtocol, which runs after the transport is unset.
        self._port: IUDPTransport | None = None
        self._transcript = Transcript()
        self.sent = 0
        self.finished: Deferred[bytes] = Deferred(lambda d: self._stopTimer())

    def startProtocol(self) -> None:
        if self._transcript.enabled:
            self._transcript.note(f"datagrams to {describeAddress(self._server)}")
        self._port = self.transport
        self.transport.connect(*self._server)
        self._send()

    def _send(self) -> None:
        self.sent += 1
        if self._transcript.enabled:
            self._transcript.client(self._datagram)
        self._timer = self._clock.callLater(self._timeout, self._timedOut)
        # With a connected port, an earlier "port unreachable" may make this
        # call connectionRefused at once.
        self.transport.write(self._datagram, self._server)

    def _stopTimer(self) -> None:
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None

    def _timedOut(self) -> None:
        self._timer = None
        if self.sent <= self._retries:
            self._send()
        else:
            self._fail(
                NoReplyError(
                    f"no answer from {describeAddress(self._server)} after "
                    f"{self.sent} datagrams, {self._timeout:g} seconds apart"
                )
            )

    def _fail(self, reason: Exception) -> None:
        self._stopTimer()
        if not self.finished.called:
            self.finished.errback(Failure(reason))

    def datagramReceived(self, datagram: bytes, addr: Any) -> None:
        if self.finished.called:
            return
        self._stopTimer()
        if self._transcript.enabled:
            self._transcript.server(datagram)
        self.finished.callback(datagram)

    def stopProtocol(self) -> None:
        """
        The port stopped.  If we did not stop it, an ICMP error did: poll and
        epoll reactors close a connected UDP port on one (such as "port
        unreachable") instead of calling L{connectionRefused} (Twisted issue
        #6467).  The socket still holds the error, so we report that.
        """
        if self.finished.called:
            return
        code = pendingError(self._port)
        if code == errno.ECONNREFUSED:
            self.connectionRefused()
        else:
            self._fail(error.getConnectError((code, os.strerror(code))))

    def connectionRefused(self) -> None:
        """
        An ICMP "port unreachable" came back: nothing listens there.
        """
        where = describeAddress(self._server)
        self._fail(error.ConnectionRefusedError(string=f"nothing listens at {where}"))


def upperUDP(
    reactor: Any,
    host: str,
    port: int,
    sentence: str,
    timeout: float = UDP_TIMEOUT,
    retries: int = UDP_RETRIES,
) -> Deferred[str]:
    """
    Ask a UDP uppercase server to upper-case one sentence.

    @param reactor: provides C{IReactorUDP}, C{IReactorTime} and, if C{host}
        is a name, C{resolve}.
    @param host: the server's name or IP address.
    @param port: its port (the textbook's is L{SERVER_PORT}).
    @param sentence: the text, sent as one datagram, as the textbook does.
    @param timeout: seconds to wait for each answer.
    @param retries: how many times to send the datagram again; the whole
        exchange takes at most C{timeout * (retries + 1)} seconds.
    @return: fires with the answer, or fails with L{NoReplyError},
        C{ConnectionRefusedError}, C{DNSLookupError} or L{ServerError}.
    @raise ValueError: if C{sentence} is longer than L{MAX_DATAGRAM} bytes.
    """
    data = encodeSentence(sentence)
    if len(data) > MAX_DATAGRAM:
        raise ValueError(f"sentence longer than the datagram limit of {MAX_DATAGRAM} bytes")

    async def exchange() -> str:
        if isIPAddress(host) or isIPv6Address(host):
            address = host
        else:
            address = await reactor.resolve(host)
        protocol = UpperUDPClientProtocol(data, (address, port), reactor, timeout, retries)
        # Port 0: any free port, as the textbook's client socket gets.
        listening = reactor.listenUDP(0, protocol, interface="::" if ":" in address else "")
        try:
            reply = await protocol.finished
        finally:
            await defer.maybeDeferred(listening.stopListening)
        return decodeReply(reply)

    return Deferred.fromCoroutine(exchange())


class Options(usage.Options):
    """
    Options of C{netref upper}.
    """

    synopsis = "[--udp] [--host HOST] [--port PORT] [SENTENCE ...]"
    longdesc = (
        "The textbook's uppercase client (section 2.7): sends each SENTENCE to "
        "an uppercase server (twistd netref-upper) and prints the answer. "
        "Without a SENTENCE, reads one per line from standard input. "
        "TCP unless --udp is given."
    )

    optFlags = [
        ["udp", "u", "Use UDP (one datagram per sentence) instead of TCP."],
        ["trace", None, "Print the transcript (C:/S: lines)."],
    ]
    optParameters = [
        ["host", None, "localhost", "The server's name or address."],
        ["port", "p", SERVER_PORT, "The server's port.", int],
        [
            "timeout",
            "t",
            None,
            f"Seconds to wait: for TCP, to connect and then for the answer "
            f"(default {TCP_TIMEOUT:g}); for UDP, for each datagram's answer "
            f"(default {UDP_TIMEOUT:g}).",
            float,
        ],
        ["retries", None, UDP_RETRIES, "UDP: how many times to send a datagram again.", int],
    ]

    def parseArgs(self, *sentences: str) -> None:
        self["sentences"] = list(sentences)

    def postOptions(self) -> None:
        if not 0 < self["port"] <= 65535:
            raise usage.UsageError(f"port out of range: {self['port']}")
        if self["timeout"] is None:
            self["timeout"] = UDP_TIMEOUT if self["udp"] else TCP_TIMEOUT
        if self["timeout"] <= 0:
            raise usage.UsageError("the timeout must be positive")
        if self["retries"] < 0:
            raise usage.UsageError("retries may not be negative")


def _readSentences() -> Iterator[str]:
    """
    Read sentences from standard input, one per line, until its end; with the
    textbook's prompt when a person is typing.
    """
    interactive = sys.stdin.isatty()
    while True:
        if interactive:
            try:
                line = input(PROMPT)
            except EOFError:
                return
        else:
            line = sys.stdin.readline()
            if not line:
                return
        yield line.rstrip("\r\n")


def _display(reply: str) -> str:
    """
    @return: C{reply}, with any bytes that were not UTF-8 shown as escapes.
    """
    return encodeSentence(reply).decode("utf-8", "backslashreplace")


async def _exchange(reactor: Any, options: Options, sentence: str) -> str:
    host, port = options["host"], options["port"]
    where = describeAddress((host, port))
    try:
        if options["udp"]:
            return await upperUDP(
                reactor, host, port, sentence, options["timeout"], options["retries"]
            )
        return await upperTCP(reactor, host, port, sentence, options["timeout"])
    except ValueError as e:
        raise ToolError(str(e)) from None
    except error.ConnectionRefusedError:
        raise ToolError(f"{where}: connection refused") from None
    except error.DNSLookupError:
        raise ToolError(f"{host}: no such host") from None
    except error.TimeoutError:
        raise ToolError(f"{where}: timed out connecting") from None
    except error.ConnectError as e:
        raise ToolError(f"{where}: {e}") from None
    except ServerError as e:
        raise ToolError(f"{where}: server error: {e}") from None
    except UpperError as e:
        raise ToolError(f"{where}: {e}") from None


async def _run(reactor: Any, options: Options) -> None:
    printer = startPrintingTranscripts(sys.stdout) if options["trace"] else None
    try:
        if options["sentences"]:
            for sentence in options["sentences"]:
                print(_display(await _exchange(reactor, options, sentence)), flush=True)
        else:
            # Reading a line blocks until the person types it: do it in a
            # thread, so the reactor stays free meanwhile.
            lines = _readSentences()
            pool = reactor.getThreadPool()
            while (line := await deferToThreadPool(reactor, pool, next, lines, None)) is not None:
                print(_display(await _exchange(reactor, options, line)), flush=True)
    finally:
        if printer is not None:
            stopPrintingTranscripts(printer)


def run(reactor: Any, options: Options) -> Deferred[None]:
    """
    Run C{netref upper}: print the answer to every sentence, one per line.

    @raise ToolError: (asynchronously) with a one-line reason when an
        exchange fails.
    """
    return Deferred.fromCoroutine(_run(reactor, options))
