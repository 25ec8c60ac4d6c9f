"""
The DNS stub client (RFC 1035 section 7) and the C{netref dig} tool.

A I{stub resolver} does not look names up itself: it sends one question to
a server it knows by address and waits for the answer.  L{query} is that
stub, written to the rules that keep a stub safe and useful on a real
network:

  - B{Spoofing.}  An off-path attacker who guesses where our answer will
    come from can send forged answers first.  Every query therefore gets a
    fresh random 16-bit ID (from L{secrets}) and a fresh UDP port (port 0:
    the kernel picks a free one, at random on Linux, RFC 6056), and a reply
    is accepted only if its source address and port, its ID and its
    question all match what was sent (RFC 5452 sections 4 and 9.1).
    Anything else, like a datagram that does not even parse, is ignored and
    we keep waiting.
  - B{Loss.}  UDP may lose the query or its answer (RFC 768 promises
    nothing), so a query that is not answered within C{timeout} seconds is
    tried again, each try going to the next server of the list in turn
    (RFC 1035 section 4.2.1, RFC 1536 section 1), until C{retries} more
    rounds over the list have been made.  Each try is a new query, with its
    own ID and port.  A server whose port is closed answers with an ICMP
    "port unreachable", which moves on to the next try at once.
  - B{Size.}  An answer too big for a UDP datagram comes back truncated
    (TC=1); we then ask the same server again over TCP, where every message
    is preceded by its length in two bytes (RFC 1035 section 4.2.2, RFC 7766
    section 5).
  - B{No merging.}  Two identical queries made at the same time are two
    queries on the wire, with different IDs and ports: merging them would
    let one forged answer poison both (RFC 5452 section 5).

The answer, whatever its RCODE (NXDOMAIN and SERVFAIL are answers too),
comes back as a L{Response}, with the server that gave it, the transport,
and the round-trip time measured on the reactor's clock.

C{netref dig} (L{Options}, L{run}) is the command-line face of L{query}:
dig's arguments, in any order (C{netref dig +norecurse gaia.cs.umass.edu
@127.2.1.1}), and dig's output, line for line, or the textbook's
(Name, Value, Type, TTL) view; L{netref.dns.presentation} does the
printing.  It exits 0 whenever a server answers, as dig does, and fails with
a one-line L{ToolError} when none does.

Embedding, in another Twisted program::

    from twisted.internet import defer, task
    from netref.dns.client import query
    from netref.dns.rdata import RRType

    async def main(reactor):
        response = await query(reactor, "gaia.cs.umass.edu", RRType.A,
                               servers=[("127.2.2.1", 10053)])
        for record in response.message.answers:
            print(record.toText())

    task.react(lambda reactor: defer.ensureDeferred(main(reactor)))
"""

from __future__ import annotations

import errno
import getopt
import ipaddress
import os
import secrets
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from twisted.internet import defer, error
from twisted.internet.abstract import isIPAddress, isIPv6Address
from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IConnector, IDelayedCall, ITCPTransport, IUDPTransport
from twisted.internet.protocol import ClientFactory, DatagramProtocol, Protocol, connectionDone
from twisted.python import usage
from twisted.python.failure import Failure

from netref.core.cli import ToolError
from netref.core.datagram import pendingError
from netref.core.trace import Transcript, startPrintingTranscripts, stopPrintingTranscripts
from netref.dns.name import ROOT, DNSError, Name, WireError
from netref.dns.presentation import (
    describeServer,
    formatFooter,
    formatMessage,
    formatShort,
    formatTextbook,
)
from netref.dns.rdata import RRClass, RRType, classFromText, typeFromText, typeToText
from netref.dns.wire import (
    EDNS,
    Message,
    MessageDeframer,
    Opcode,
    Question,
    Rcode,
    decodeMessage,
    encodeMessage,
    frameMessage,
)

#: netref's DNS port; the well-known port is 53.
DNS_PORT = 10053

#: Where L{query} asks when given no servers: a netref server on this host.
DEFAULT_SERVERS: tuple[tuple[str, int], ...] = (("127.0.0.1", DNS_PORT),)

#: Seconds to wait for the answer to each try.
DEFAULT_TIMEOUT = 2.0

#: How many more rounds over the server list after the first.
DEFAULT_RETRIES = 2

#: The largest UDP datagram we read.  A server may send up to the EDNS size
#: we announce (RFC 6891 section 6.2.3); a bigger buffer costs nothing, and a
#: smaller one would cut a datagram short without telling us.
MAX_UDP_REPLY = 65535

#: The EDNS parameters L{query} announces by default (RFC 6891): a UDP
#: payload of 1232 octets, which fits the IPv6 minimum MTU of 1280 without
#: fragmentation (the value of DNS Flag Day 2020).
DEFAULT_EDNS = EDNS(payloadSize=1232)

#: The names of the transports, as L{Response.transport} gives them.
UDP = "udp"
TCP = "tcp"


def _randomId() -> int:
    """
    @return: a random 16-bit DNS message ID from a cryptographic source, so
        it cannot be predicted from earlier ones (RFC 5452 section 4.3).
    """
    return secrets.randbelow(0x10000)


@dataclass(frozen=True)
class TryFailure:
    """
    Why one try of a query got no answer.

    @ivar server: the (address, port) asked.
    @ivar transport: L{UDP} or L{TCP}.
    @ivar reason: a few words: C{"timed out"}, C{"connection refused"}, ...
    @ivar refused: whether the server refused (an ICMP "port unreachable"
        for UDP, a reset for TCP): nothing listens there.
    """

    server: tuple[str, int]
    transport: str
    reason: str
    refused: bool = False


@dataclass(frozen=True)
class Response:
    """
    An accepted answer to a query.

    @ivar message: the decoded answer, whatever its RCODE.
    @ivar server: the (address, port) that answered.
    @ivar transport: L{UDP} or L{TCP}.
    @ivar rtt: seconds from sending the query (for TCP: from starting to
        connect) to receiving the answer, on the reactor's clock.
    @ivar size: the answer's size in bytes (without TCP's length prefix).
    @ivar query: the query this answers, as sent.
    @ivar truncated: whether a truncated UDP answer (TC=1) was received
        first, and this is the answer to asking again over TCP.
    @ivar failures: the tries that got no answer before this one.
    """

    message: Message
    server: tuple[str, int]
    transport: str
    rtt: float
    size: int
    query: Message
    truncated: bool = False
    failures: tuple[TryFailure, ...] = ()


class DNSQueryError(DNSError):
    """
    No server gave an acceptable answer.

    @ivar failures: what happened to each try, in order.
    """

    def __init__(self, message: str, failures: Sequence[TryFailure] = ()) -> None:
        super().__init__(message)
        self.failures = tuple(failures)


class DNSTimeoutError(DNSQueryError):
    """
    No server answered within the time given.
    """


class DNSConnectionRefusedError(DNSQueryError):
    """
    Every server asked refused: nothing listens at the addresses and ports
    given.
    """


def makeQuery(
    name: Name,
    rtype: int,
    rclass: int = RRClass.IN,
    id: int = 0,
    recursionDesired: bool = True,
    edns: EDNS | None = None,
) -> Message:
    """
    Build a standard query (RFC 1035 section 4.1.1): one question, no
    records but the EDNS OPT record if C{edns} is given (RFC 6891).

    @param name: the name asked about.
    @param rtype: the type asked for.
    @param rclass: the class, nearly always IN.
    @param id: the message ID.
    @param recursionDesired: the RD flag: whether the server should look the
        name up for us if it does not know it (RFC 1035 section 4.1.1).
    @param edns: the EDNS parameters to announce, or L{None} for a plain RFC
        1035 query.
    """
    return Message(
        id=id,
        qr=False,
        opcode=Opcode.QUERY,
        aa=False,
        tc=False,
        rd=recursionDesired,
        ra=False,
        ad=False,
        cd=False,
        rcode=Rcode.NOERROR,
        questions=(Question(name, rtype, rclass),),
        answers=(),
        authority=(),
        additional=(),
        edns=edns,
    )


def mismatch(reply: Message, sent: Message) -> str | None:
    """
    Check that C{reply} answers C{sent}: it is a response (QR=1) with the
    same ID, opcode and question, the name compared without regard to case
    (RFC 5452 section 9.1, RFC 4343).

    @return: L{None} if it does, else a few words on why not.
    """
    if not reply.qr:
        return "not a response (QR=0)"
    if reply.id != sent.id:
        return f"ID {reply.id}, not {sent.id}"
    if reply.opcode != sent.opcode:
        return f"opcode {reply.opcode}, not {sent.opcode}"
    if len(reply.questions) != 1:
        return f"{len(reply.questions)} questions, not 1"
    got, asked = reply.questions[0], sent.questions[0]
    if (got.name, got.rtype, got.rclass) != (asked.name, asked.rtype, asked.rclass):
        return "another question"
    return None


def _describe(message: Message, size: int) -> str:
    """
    A message's line in a transcript: the same summary as the server's
    (L{Message.summary}) and its size.
    """
    return f"{message.summary()} ({size} octets)"


def answerOrReason(data: bytes, sent: Message) -> Message | str:
    """
    Decide whether C{data}, received over UDP or TCP, answers the query
    C{sent}: it must decode, and its ID and question must match (RFC 5452
    section 9.1).  Anything else is ignored, not taken as an answer.

    @return: the decoded answer, or why C{data} is not one.
    """
    try:
        reply = decodeMessage(data)
    except WireError as e:
        return f"malformed ({e})"
    reason = mismatch(reply, sent)
    return reply if reason is None else reason


def _sameAddress(a: str, b: str) -> bool:
    try:
        return ipaddress.ip_address(a) == ipaddress.ip_address(b)
    except ValueError:
        return a == b


@dataclass
class _Outcome:
    """
    What one try came to: an answer (with its size and round-trip time) or a
    L{TryFailure}.
    """

    answer: Message | None = None
    size: int = 0
    rtt: float = 0.0
    failure: TryFailure | None = None


class _UDPTry(DatagramProtocol):
    """
    One query over UDP, on its own port, to one server.

    The port is I{connected} to the server: that sends nothing, but the
    kernel then delivers only the server's datagrams and reports an ICMP
    "port unreachable" to us.  We check the source of every datagram anyway:
    the rule is RFC 5452's, not the kernel's.

    @ivar outcome: fires with an L{_Outcome} once the port is closed again.
    """

    transport: IUDPTransport
    noisy = False

    def __init__(
        self,
        reactor: Any,
        server: tuple[str, int],
        query: Message,
        timeout: float,
        transcript: Transcript,
    ) -> None:
        self._reactor = reactor
        self._server = server
        self._query = query
        self._data = encodeMessage(query)
        self._timeout = timeout
        self._transcript = transcript
        self._timer: IDelayedCall | None = None
        self._sentAt = 0.0
        self._port: Any = None
        self._result: _Outcome | None = None
        self.outcome: Deferred[_Outcome] = Deferred(lambda d: self._cancel())

    def _cancel(self) -> None:
        if self._result is None:
            self._result = _Outcome(failure=TryFailure(self._server, UDP, "cancelled"))
        self._close()

    def start(self) -> Deferred[_Outcome]:
        """
        Open a fresh port and send the query.
        """
        interface = "::" if ":" in self._server[0] else ""
        self._reactor.listenUDP(0, self, interface=interface, maxPacketSize=MAX_UDP_REPLY)
        # Sent once the port is completely set up, so that an error on
        # sending can close it.
        self._send()
        return self.outcome

    def startProtocol(self) -> None:
        self._port = self.transport
        self.transport.connect(*self._server)

    def _send(self) -> None:
        if self._transcript.enabled:
            self._transcript.note(
                f"to {describeServer(self._server)} over UDP, "
                f"from port {self.transport.getHost().port}"
            )
            self._transcript.client(_describe(self._query, len(self._data)))
        self._sentAt = self._reactor.seconds()
        self._timer = self._reactor.callLater(self._timeout, self._timedOut)
        try:
            # An ICMP error left by an earlier datagram may make this call
            # connectionRefused at once.
            self.transport.write(self._data, self._server)
        except (OSError, error.MessageLengthError) as e:
            # No route to the server, say: this try is over.
            reason = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
            if self._transcript.enabled:
                self._transcript.note(f"cannot send: {reason}")
            self._finish(_Outcome(failure=TryFailure(self._server, UDP, reason)))

    def datagramReceived(self, datagram: bytes, addr: Any) -> None:
        if self._result is not None:
            return
        reason = self._check(datagram, addr)
        if isinstance(reason, str):
            if self._transcript.enabled:
                self._transcript.note(f"ignored a datagram from {describeServer(addr)}: {reason}")
            return
        if self._transcript.enabled:
            self._transcript.server(_describe(reason, len(datagram)))
        rtt = self._reactor.seconds() - self._sentAt
        self._finish(_Outcome(answer=reason, size=len(datagram), rtt=rtt))

    def _check(self, datagram: bytes, addr: Any) -> Message | str:
        """
        @return: the answer, if C{datagram} is one, else why it is not.
        """
        host, port = addr[0], addr[1]
        if port != self._server[1] or not _sameAddress(host, self._server[0]):
            return "not from the server asked"
        return answerOrReason(datagram, self._query)

    def _timedOut(self) -> None:
        self._timer = None
        if self._transcript.enabled:
            self._transcript.note(f"no answer within {self._timeout:g} s")
        self._finish(_Outcome(failure=TryFailure(self._server, UDP, "timed out")))

    def connectionRefused(self) -> None:
        """
        An ICMP "port unreachable" came back: nothing listens there.
        """
        if self._result is None:
            if self._transcript.enabled:
                self._transcript.note("connection refused")
            failure = TryFailure(self._server, UDP, "connection refused", refused=True)
            self._finish(_Outcome(failure=failure))

    def stopProtocol(self) -> None:
        """
        The port stopped.  If we did not stop it, an ICMP error did: poll and
        epoll reactors close a connected UDP port on one instead of calling
        L{connectionRefused} (Twisted issue #6467), and the socket still
        holds the error.
        """
        if self._result is not None:
            return
        code = pendingError(self._port)
        self._port = None
        if code == errno.ECONNREFUSED:
            self.connectionRefused()
        else:
            reason = os.strerror(code)
            self._finish(_Outcome(failure=TryFailure(self._server, UDP, reason)))

    def _finish(self, outcome: _Outcome) -> None:
        self._result = outcome
        d = self._close()
        d.addBoth(lambda _: None if self.outcome.called else self.outcome.callback(outcome))

    def _close(self) -> Deferred[None]:
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None
        port, self._port = self._port, None
        if port is None:
            return defer.succeed(None)
        return defer.maybeDeferred(port.stopListening)


class _TCPQueryProtocol(Protocol):
    """
    Sends one query over a TCP connection, each message preceded by its
    length in two bytes (RFC 1035 section 4.2.2), and reads messages until
    one answers it.
    """

    transport: ITCPTransport

    def __init__(self, owner: _TCPTry) -> None:
        self._owner = owner
        self._deframer = MessageDeframer()

    def connectionMade(self) -> None:
        self._owner.connected(self)
        self.transport.write(frameMessage(self._owner.data))

    def dataReceived(self, data: bytes) -> None:
        for message in self._deframer.feed(data):
            if self._owner.messageReceived(message):
                self._deframer.clear()
                self.transport.loseConnection()
                return

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self._owner.ended(reason)


class _TCPTry(ClientFactory):
    """
    One query over TCP to one server: connect, send, read the answer, close.

    @ivar outcome: fires with an L{_Outcome} once the connection is closed
        (or failed).
    """

    noisy = False

    def __init__(
        self,
        reactor: Any,
        server: tuple[str, int],
        query: Message,
        timeout: float,
        transcript: Transcript,
    ) -> None:
        self._reactor = reactor
        self._server = server
        self._query = query
        self.data = encodeMessage(query)
        self._timeout = timeout
        self._transcript = transcript
        self._timer: IDelayedCall | None = None
        self._startedAt = 0.0
        self._connector: IConnector | None = None
        self._protocol: _TCPQueryProtocol | None = None
        self._result: _Outcome | None = None
        self.outcome: Deferred[_Outcome] = Deferred(lambda d: self._abort())

    def start(self) -> Deferred[_Outcome]:
        """
        Start connecting.
        """
        if self._transcript.enabled:
            self._transcript.note(f"to {describeServer(self._server)} over TCP")
        self._startedAt = self._reactor.seconds()
        self._timer = self._reactor.callLater(self._timeout, self._timedOut)
        host, port = self._server
        self._connector = self._reactor.connectTCP(host, port, self, timeout=self._timeout)
        return self.outcome

    def buildProtocol(self, addr: Any) -> _TCPQueryProtocol:
        return _TCPQueryProtocol(self)

    def connected(self, protocol: _TCPQueryProtocol) -> None:
        self._protocol = protocol
        if self._transcript.enabled:
            self._transcript.client(_describe(self._query, len(self.data)))

    def messageReceived(self, data: bytes) -> bool:
        """
        @return: whether C{data} answers the query.
        """
        if self._result is not None:
            return True
        reply = answerOrReason(data, self._query)
        if isinstance(reply, str):
            if self._transcript.enabled:
                self._transcript.note(f"ignored a message: {reply}")
            return False
        if self._transcript.enabled:
            self._transcript.server(_describe(reply, len(data)))
        rtt = self._reactor.seconds() - self._startedAt
        self._decide(_Outcome(answer=reply, size=len(data), rtt=rtt))
        return True

    def _decide(self, outcome: _Outcome) -> None:
        if self._result is None:
            self._result = outcome
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None

    def _fire(self) -> None:
        assert self._result is not None
        if not self.outcome.called:
            self.outcome.callback(self._result)

    def _timedOut(self) -> None:
        self._timer = None
        if self._transcript.enabled:
            self._transcript.note(f"no answer within {self._timeout:g} s")
        self._decide(_Outcome(failure=TryFailure(self._server, TCP, "timed out")))
        self._abort()

    def _abort(self) -> None:
        if self._protocol is not None and self._protocol.transport is not None:
            self._protocol.transport.abortConnection()
        elif self._connector is not None:
            self._connector.stopConnecting()

    def clientConnectionFailed(self, connector: IConnector, reason: Failure) -> None:
        if reason.check(error.ConnectionRefusedError):
            failure = TryFailure(self._server, TCP, "connection refused", refused=True)
        else:
            failure = TryFailure(self._server, TCP, reason.getErrorMessage())
        if self._transcript.enabled and self._result is None:
            self._transcript.note(failure.reason)
        self._decide(_Outcome(failure=failure))
        self._fire()

    def ended(self, reason: Failure) -> None:
        """
        The connection is closed.
        """
        self._protocol = None
        if self._result is None and self._transcript.enabled:
            self._transcript.note("connection closed without an answer")
        failure = TryFailure(self._server, TCP, "connection closed without an answer")
        self._decide(_Outcome(failure=failure))
        self._fire()


def _failed(failures: Sequence[TryFailure], timeout: float) -> DNSQueryError:
    """
    @return: the error for a query whose every try failed.
    """
    servers: list[str] = []
    for f in failures:
        where = describeServer(f.server)
        if where not in servers:
            servers.append(where)
    where = ", ".join(servers)
    tries = f"{len(failures)} {'try' if len(failures) == 1 else 'tries'}"
    if all(f.refused for f in failures):
        return DNSConnectionRefusedError(f"{where}: connection refused ({tries})", failures)
    if any(f.reason == "timed out" for f in failures):
        return DNSTimeoutError(f"no answer from {where} ({tries}, {timeout:g} s each)", failures)
    reasons = "; ".join(f"{describeServer(f.server)}: {f.reason}" for f in failures)
    return DNSQueryError(f"no answer ({reasons})", failures)


def query(
    reactor: Any,
    name: str | Name,
    rtype: int = RRType.A,
    servers: Sequence[tuple[str, int]] = DEFAULT_SERVERS,
    timeout: float = DEFAULT_TIMEOUT,
    retries: int = DEFAULT_RETRIES,
    tcp: bool | None = None,
    recursionDesired: bool = True,
    edns: EDNS | None = DEFAULT_EDNS,
    rclass: int = RRClass.IN,
    idGenerator: Callable[[], int] = _randomId,
) -> Deferred[Response]:
    """
    Ask a DNS server one question and wait for its answer.

    Tries go to C{servers} in turn: the first server, the second, ..., then
    the first again, C{retries + 1} times round the list; each waits
    C{timeout} seconds, or less if the server refuses.  The whole query so
    takes at most C{timeout * len(servers) * (retries + 1)} seconds (plus one
    TCP try per truncated answer).

    @param reactor: provides C{IReactorUDP}, C{IReactorTCP} and
        C{IReactorTime}.
    @param name: the name asked about; a string is read as an absolute name
        (C{"gaia.cs.umass.edu"} is C{"gaia.cs.umass.edu."}).
    @param rtype: the type asked for (an L{RRType}, or any 16-bit number).
    @param servers: the servers' (IP address, port), IPv4 or IPv6.  A stub
        knows its servers by address (RFC 1035 section 7.1), so names are
        not accepted here.
    @param timeout: seconds to wait for the answer to each try.
    @param retries: how many more rounds over C{servers} after the first.
    @param tcp: L{None} (the default) for UDP, asking again over TCP when an
        answer is truncated; C{True} for TCP only; C{False} for UDP only,
        accepting a truncated answer as it is.
    @param recursionDesired: the RD flag (RFC 1035 section 4.1.1).
    @param edns: the EDNS parameters to announce (RFC 6891), or L{None} to
        send a plain RFC 1035 query (answers then fit in 512 bytes).
    @param rclass: the class asked about.
    @param idGenerator: returns a 16-bit message ID; cryptographically
        random by default (RFC 5452 section 4.3).  Tests replace it.
    @return: fires with the first acceptable L{Response} (whatever its
        RCODE), or fails with L{DNSTimeoutError},
        L{DNSConnectionRefusedError} or another L{DNSQueryError}.
        Cancelling it closes whatever port or connection is open.
    @raise ValueError: if C{servers} is empty, a server is not an IP
        address, or C{retries} is negative.
    """
    if not servers:
        raise ValueError("at least one server is needed")
    for host, port in servers:
        if not (isIPAddress(host) or isIPv6Address(host)):
            raise ValueError(f"a server must be an IP address, not {host!r}")
        if not 0 < port <= 65535:
            raise ValueError(f"port out of range: {port}")
    if retries < 0:
        raise ValueError("retries may not be negative")
    qname = name if isinstance(name, Name) else Name.fromText(name, ROOT)
    plan = [server for _ in range(retries + 1) for server in servers]
    transcript = Transcript()

    def newQuery() -> Message:
        return makeQuery(qname, rtype, rclass, idGenerator(), recursionDesired, edns)

    async def exchange() -> Response:
        failures: list[TryFailure] = []
        for server in plan:
            sent = newQuery()
            truncated = False
            if tcp:
                outcome = await _TCPTry(reactor, server, sent, timeout, transcript).start()
            else:
                outcome = await _UDPTry(reactor, server, sent, timeout, transcript).start()
                if outcome.answer is not None and outcome.answer.tc and tcp is None:
                    # RFC 7766 section 5: ask the same server again over TCP.
                    if transcript.enabled:
                        transcript.note("truncated (TC=1): asking again over TCP")
                    truncated = True
                    sent = newQuery()
                    outcome = await _TCPTry(reactor, server, sent, timeout, transcript).start()
            if outcome.answer is not None:
                return Response(
                    message=outcome.answer,
                    server=server,
                    transport=TCP if tcp or truncated else UDP,
                    rtt=outcome.rtt,
                    size=outcome.size,
                    query=sent,
                    truncated=truncated,
                    failures=tuple(failures),
                )
            assert outcome.failure is not None
            failures.append(outcome.failure)
        raise _failed(failures, timeout)

    return Deferred.fromCoroutine(exchange())


# netref dig ------------------------------------------------------------

#: dig's C{+} options that C{netref dig} understands: each sets an option of
#: L{Options} to a value.
_PLUS_FLAGS: dict[str, tuple[str, bool]] = {
    "recurse": ("norecurse", False),
    "rec": ("norecurse", False),
    "norecurse": ("norecurse", True),
    "norec": ("norecurse", True),
    "tcp": ("tcp", True),
    "vc": ("tcp", True),
    "notcp": ("tcp", False),
    "novc": ("tcp", False),
    "ignore": ("ignore", True),
    "noignore": ("ignore", False),
    "edns": ("noedns", False),
    "noedns": ("noedns", True),
    "short": ("short", True),
    "noshort": ("short", False),
    "textbook": ("textbook", True),
    "notextbook": ("textbook", False),
}

#: dig's C{+name=value} options that C{netref dig} understands.
_PLUS_VALUES: dict[str, tuple[str, Callable[[str], Any]]] = {
    "tries": ("tries", int),
    "retry": ("tries", lambda value: int(value) + 1),
    "time": ("timeout", float),
    "timeout": ("timeout", float),
    "bufsize": ("bufsize", int),
}


def parseServer(spec: str) -> tuple[str, int | None]:
    """
    Parse the C{SERVER[:PORT]} of dig's C{@SERVER}: C{127.2.1.1},
    C{127.2.1.1:10053}, C{localhost:10053}, C{::1}, C{[::1]:10053}.

    @return: the address or host name, and the port if one is given.
    @raise usage.UsageError: if C{spec} is malformed.
    """
    host, port = spec, None
    if spec.startswith("["):
        host, bracket, rest = spec[1:].partition("]")
        if not bracket or not isIPv6Address(host) or (rest and not rest.startswith(":")):
            raise usage.UsageError(f"bad server {spec!r}: use [IPv6]:PORT")
        port = rest[1:] if rest else None
    elif spec.count(":") == 1:
        host, port = spec.split(":")
    elif ":" in spec and not isIPv6Address(spec):
        raise usage.UsageError(f"bad server {spec!r}: write IPv6 with a port as [::1]:53")
    if not host:
        raise usage.UsageError(f"bad server {spec!r}")
    if port is None:
        return host, None
    if not (port.isascii() and port.isdigit() and 0 < int(port) <= 65535):
        raise usage.UsageError(f"bad port in {spec!r}")
    return host, int(port)


class Options(usage.Options):
    """
    Options of C{netref dig}.  Like dig, it takes its arguments in any
    order: C{@SERVER[:PORT]} (repeatable: the next server is asked when one
    does not answer), a type name, a class name, the name, and dig's
    C{+norecurse}, C{+tcp}, C{+short}, C{+tries=N}, ... as well as the
    C{--} options.
    """

    synopsis = "NAME [TYPE] [CLASS] [@SERVER[:PORT] ...] [+norecurse] [+tcp] [+short] ..."
    longdesc = (
        "A DNS stub client: asks a server one question and prints its answer as dig does. "
        "Arguments in any order, as dig's. NAME defaults to the root (type NS), TYPE to A, "
        f"SERVER to 127.0.0.1 on port {DNS_PORT} (DNS's well-known port is 53). Exits 0 "
        "whenever a server answers, whatever the answer's status (NXDOMAIN, SERVFAIL, "
        "REFUSED are answers, as for dig), and 1 when no server answers."
    )

    optFlags = [
        ["tcp", None, "Ask over TCP only (dig's +tcp)."],
        [
            "ignore",
            None,
            "Over UDP, take a truncated answer (TC) as it is instead of asking again "
            "over TCP (dig's +ignore).",
        ],
        [
            "norecurse",
            None,
            "Clear the RD flag: ask for what the server itself knows, as a resolver asks "
            "the root, TLD and authoritative servers (dig's +norecurse).",
        ],
        ["noedns", None, "Send a plain RFC 1035 query, without EDNS (dig's +noedns)."],
        ["short", None, "Print only the data of the answer records (dig's +short)."],
        [
            "textbook",
            None,
            "Print the records as the textbook's (Name, Value, Type, TTL) four-tuples.",
        ],
        ["trace", None, "Print a one-line summary of every message sent and received."],
    ]
    optParameters = [
        ["port", "p", DNS_PORT, "The port of servers given without one.", int],
        ["type", "t", None, "The type asked for, as the TYPE argument (dig's -t)."],
        ["class", "c", None, "The class asked about, as the CLASS argument (dig's -c)."],
        [
            "reverse",
            "x",
            None,
            "Ask for the name of an IPv4 or IPv6 address: a PTR query about its name in "
            "in-addr.arpa or ip6.arpa (RFC 1035 section 3.5, RFC 3596 section 2.5).",
        ],
        ["timeout", None, DEFAULT_TIMEOUT, "Seconds to wait for each try (dig's +time).", float],
        [
            "tries",
            None,
            DEFAULT_RETRIES + 1,
            "Rounds of tries over the servers (dig's +tries).",
            int,
        ],
        [
            "bufsize",
            None,
            DEFAULT_EDNS.payloadSize,
            "The UDP payload size announced with EDNS (dig's +bufsize).",
            int,
        ],
    ]

    def parseOptions(self, options: Sequence[str] | None = None) -> None:
        """
        Parse the command line, with C{--} options anywhere, as dig takes
        them (C{usage.Options} alone stops at the first argument).
        """
        if options is None:
            options = sys.argv[1:]
        try:
            found, args = getopt.gnu_getopt(list(options), self.shortOpt, self.longOpt)
        except getopt.error as e:
            raise usage.UsageError(str(e)) from None
        ordered = []
        for option, value in found:
            if option.startswith("--"):
                takesValue = option[2:] + "=" in self.longOpt
                ordered.append(f"{option}={value}" if takesValue else option)
            else:
                takesValue = option[1] + ":" in self.shortOpt
                ordered.append(option + value if takesValue else option)
        super().parseOptions([*ordered, "--", *args])

    def parseArgs(self, *args: str) -> None:
        self["name"] = None
        self["rtype"] = None
        self["rclass"] = None
        self["servers"] = []
        for arg in args:
            if arg.startswith("@"):
                self["servers"].append(parseServer(arg[1:]))
            elif arg.startswith("+"):
                self._plusOption(arg[1:])
            elif not self._typeOrClass(arg):
                if self["name"] is not None:
                    raise usage.UsageError(f"two names: {self['name']} and {arg}")
                try:
                    self["name"] = Name.fromText(arg, ROOT)
                except DNSError as e:
                    raise usage.UsageError(str(e)) from None

    def _typeOrClass(self, arg: str) -> bool:
        """
        Take C{arg} as the type or the class if it names one and none was
        given yet: the first C{"a"} of C{netref dig a a} is the type, the
        second the name.
        """
        if self["rtype"] is None and self["type"] is None:
            try:
                self["rtype"] = typeFromText(arg)
                return True
            except DNSError:
                pass
        if self["rclass"] is None and self["class"] is None:
            try:
                self["rclass"] = classFromText(arg)
                return True
            except DNSError:
                pass
        return False

    def _plusOption(self, option: str) -> None:
        key, equals, value = option.partition("=")
        if not equals and key in _PLUS_FLAGS:
            name, flag = _PLUS_FLAGS[key]
            self[name] = flag
        elif equals and key in _PLUS_VALUES:
            name, parse = _PLUS_VALUES[key]
            try:
                self[name] = parse(value)
            except ValueError:
                raise usage.UsageError(f"bad value in +{option}") from None
        else:
            raise usage.UsageError(f"unknown option +{option}")

    def postOptions(self) -> None:
        if "servers" not in self:
            self.parseArgs()
        try:
            if self["type"] is not None:
                self["rtype"] = typeFromText(self["type"])
            if self["class"] is not None:
                self["rclass"] = classFromText(self["class"])
        except DNSError as e:
            raise usage.UsageError(str(e)) from None
        if self["reverse"] is not None:
            if self["name"] is not None:
                raise usage.UsageError("-x takes the place of the name: give one or the other")
            try:
                address = ipaddress.ip_address(self["reverse"])
            except ValueError:
                reverse = self["reverse"]
                raise usage.UsageError(f"-x needs an IP address, not {reverse!r}") from None
            self["name"] = Name.fromText(address.reverse_pointer, ROOT)
            if self["rtype"] is None:
                self["rtype"] = RRType.PTR
        if self["name"] is None:
            # dig without a name asks for the root's servers.
            self["name"] = ROOT
            if self["rtype"] is None:
                self["rtype"] = RRType.NS
        if self["rtype"] is None:
            self["rtype"] = RRType.A
        if self["rclass"] is None:
            self["rclass"] = RRClass.IN
        if not 0 < self["port"] <= 65535:
            raise usage.UsageError(f"port out of range: {self['port']}")
        if not self["servers"]:
            self["servers"] = [("127.0.0.1", None)]
        self["servers"] = [
            (host, self["port"] if port is None else port) for host, port in self["servers"]
        ]
        if self["timeout"] <= 0:
            raise usage.UsageError("the timeout must be positive")
        if self["tries"] < 1:
            raise usage.UsageError("at least one try is needed")
        if not 512 <= self["bufsize"] <= 65535:
            raise usage.UsageError("the EDNS buffer size must be from 512 to 65535")
        if self["tcp"] and self["ignore"]:
            raise usage.UsageError("--tcp and --ignore contradict each other")


async def _resolveServers(
    reactor: Any, servers: Sequence[tuple[str, int]]
) -> list[tuple[tuple[str, int], str]]:
    """
    @return: each server's (address, port) and its name as the user gave
        it; names are resolved with the reactor's resolver.
    @raise ToolError: for a name that does not resolve.
    """
    resolved = []
    for host, port in servers:
        if isIPAddress(host) or isIPv6Address(host):
            address = host
        else:
            try:
                address = await reactor.resolve(host)
            except error.DNSLookupError:
                raise ToolError(f"{host}: no such host") from None
        resolved.append(((address, port), host))
    return resolved


def formatDig(response: Response, label: str | None = None, when: float | None = None) -> str:
    """
    What C{netref dig} prints for an answer, as dig does: a line for each
    try that failed first, the message, and the statistics.

    @param label: the answering server as the user named it.
    @param when: the time of the answer, for the C{WHEN} line.
    """
    lines = [
        f";; communications error to {describeServer(f.server)}: {f.reason}\n"
        for f in response.failures
    ]
    if response.truncated:
        lines.append(";; Truncated, retrying in TCP mode.\n")
    question = response.query.questions[0]
    lines.append(
        f"\n; <<>> netref dig <<>> {question.name.toText()} {typeToText(question.rtype)}"
        f" @{describeServer(response.server)}\n"
    )
    lines.append(";; Got answer:\n")
    footer = formatFooter(
        response.server, response.transport, response.rtt, response.size, label, when
    )
    return "".join(lines) + formatMessage(response.message) + footer


async def _dig(reactor: Any, options: Options) -> None:
    servers = await _resolveServers(reactor, options["servers"])
    labels = dict(servers)
    try:
        response = await query(
            reactor,
            options["name"],
            options["rtype"],
            servers=[server for server, _ in servers],
            timeout=options["timeout"],
            retries=options["tries"] - 1,
            tcp=True if options["tcp"] else (False if options["ignore"] else None),
            recursionDesired=not options["norecurse"],
            edns=None if options["noedns"] else EDNS(payloadSize=options["bufsize"]),
            rclass=options["rclass"],
        )
    except DNSQueryError as e:
        raise ToolError(str(e)) from None
    message = response.message
    if options["short"]:
        out = formatShort(message)
    elif options["textbook"]:
        label = labels.get(response.server)
        out = formatTextbook(message) + formatFooter(
            response.server, response.transport, response.rtt, response.size, label
        )
    else:
        out = formatDig(response, labels.get(response.server), reactor.seconds())
    sys.stdout.write(out)
    sys.stdout.flush()


def run(reactor: Any, options: Options) -> Deferred[None]:
    """
    Run C{netref dig}: ask the question and print the answer.

    @return: fires when the answer is printed, whatever its status, or
        fails with L{ToolError} when no server answered.
    """

    async def main() -> None:
        printer = startPrintingTranscripts(sys.stdout) if options["trace"] else None
        try:
            await _dig(reactor, options)
        finally:
            if printer is not None:
                stopPrintingTranscripts(printer)

    return Deferred.fromCoroutine(main())
