"""
The FTP client, and the C{netref ftp} tool.

L{connectFTP} opens the control connection and returns an L{FTPClient},
whose methods each send the textbook's commands and return Deferreds (or
are coroutines): C{login}, C{list}, C{retrieve}, C{store}, C{size},
C{quit}.  Each transfer gets its own data connection, in passive mode
(C{EPSV}, or C{PASV} if the server does not know it) or active mode
(C{EPRT}/C{PORT}: the client listens and the server connects).

Two rules from RFC 2577 and practice:

  - the address in a C{227} reply is ignored: the client connects to the
    control connection's peer, whatever the reply says (a server behind
    NAT often names its private address, and a hostile one could name a
    third party);
  - in active mode, the client accepts a data connection only from the
    server's address.

With C{tls=True} the client sends C{AUTH TLS} before logging in, checks
the server's certificate against the name it was asked to connect to,
and protects every data connection (C{PBSZ 0}, C{PROT P}; RFC 4217).

Embedding, in another Twisted program::

    from twisted.internet import defer, task
    from netref.ftp.client import connectFTP

    async def main(reactor):
        ftp = await connectFTP(reactor, "127.0.0.1", 2121)
        await ftp.login("anonymous", "guest@example.com")
        print((await ftp.list("/")).decode())
        await ftp.quit()

    task.react(lambda reactor: defer.ensureDeferred(main(reactor)))
"""

from __future__ import annotations

import os
import sys
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any

from twisted.internet import defer, error
from twisted.internet.defer import Deferred
from twisted.internet.endpoints import HostnameEndpoint, connectProtocol
from twisted.internet.interfaces import IReactorTime
from twisted.internet.protocol import ClientFactory, Factory, Protocol, connectionDone
from twisted.python import usage
from twisted.python.failure import Failure

from netref.core.cli import ToolError
from netref.core.tls import clientOptions, startClientTLS, trustRootFromPEM
from netref.core.trace import (
    Transcript,
    describeAddress,
    startPrintingTranscripts,
    stopPrintingTranscripts,
)
from netref.ftp.sendfile import FileProducer
from netref.ftp.wire import (
    AddressError,
    Command,
    FTPWireError,
    Reply,
    ReplyCode,
    ReplyParser,
    formatExtendedPort,
    formatPortArgument,
    parseExtendedPassiveReply,
    parsePassiveReply,
)

#: netref's FTP port: unprivileged, unlike the well-known 21.
DEFAULT_PORT = 2121

#: Seconds to wait to connect, and for each reply.
TIMEOUT = 30.0


class FTPError(Exception):
    """
    The server refused a command.

    @ivar reply: its reply.
    """

    def __init__(self, command: str, reply: Reply) -> None:
        super().__init__(f"{command}: {reply.code} {reply.text}")
        self.reply = reply


class ControlProtocol(Protocol):
    """
    The client's end of the control connection: sends commands and matches
    each final reply (2yz to 5yz) to its command, in order; 1yz replies are
    handed to the command's C{preliminary} callback.

    @ivar greeting: fires with the server's first reply.
    """

    transport: Any

    def __init__(self, transcript: Transcript) -> None:
        self._parser = ReplyParser()
        self._transcript = transcript
        self._pending: deque[tuple[Deferred[Reply], Callable[[Reply], None] | None]] = deque()
        self.greeting: Deferred[Reply] = Deferred()
        self._pending.append((self.greeting, None))
        self.lost: Deferred[None] = Deferred()

    def connectionMade(self) -> None:
        if self._transcript.enabled:
            self._transcript.note(
                f"control connection {describeAddress(self.transport.getHost())} -> "
                f"{describeAddress(self.transport.getPeer())}"
            )

    def send(
        self, command: Command, preliminary: Callable[[Reply], None] | None = None
    ) -> Deferred[Reply]:
        """
        Send a command.

        @param preliminary: called with each 1yz reply to it.
        @return: fires with its final reply, whatever its code.
        """
        d: Deferred[Reply] = Deferred()
        self._pending.append((d, preliminary))
        if self._transcript.enabled:
            shown = "PASS ********" if command.verb == "PASS" else command.toLine()
            self._transcript.client(shown)
        self.transport.write(command.toLine())
        return d

    def dataReceived(self, data: bytes) -> None:
        try:
            replies = self._parser.feed(data)
        except FTPWireError as e:
            self._failAll(Failure(e))
            self.transport.abortConnection()
            return
        for reply in replies:
            if self._transcript.enabled:
                for line in reply.encode().split(b"\r\n")[:-1]:
                    self._transcript.server(line)
            if not self._pending:
                continue
            d, preliminary = self._pending[0]
            if reply.isPreliminary:
                if preliminary is not None:
                    preliminary(reply)
                continue
            self._pending.popleft()
            d.callback(reply)

    def discard(self) -> bytes:
        """
        Drop buffered reply bytes (before the TLS handshake).
        """
        return self._parser.clear()

    def _failAll(self, failure: Failure) -> None:
        while self._pending:
            d, _ = self._pending.popleft()
            d.errback(failure)

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self._failAll(reason)
        if self._transcript.enabled:
            self._transcript.note("control connection closed")
        self.lost.callback(None)


class DataReceiver(Protocol):
    """
    The client's end of one data connection.

    @ivar closed: fires when the connection is closed cleanly, or fails
        with the reason it was lost.
    """

    transport: Any

    def __init__(self, sink: Callable[[bytes], object] | None) -> None:
        self.sink = sink
        self.closed: Deferred[None] = Deferred()
        # Failing is how the transfer learns of it; nobody else needs to.
        self.closed.addErrback(self._keep)
        self.closeReason: Failure | None = None
        self.made: Deferred[DataReceiver] = Deferred()
        self.received = 0

    connector: Any = None

    def connectionMade(self) -> None:
        if not self.made.called:
            self.made.callback(self)

    def abort(self) -> None:
        """
        Give the connection up: abort it, or stop it being made.
        """
        if self.transport is not None:
            self.transport.abortConnection()
            return
        if self.connector is not None:
            self.connector.stopConnecting()
        if not self.made.called:
            self.made.errback(error.ConnectionAborted("data connection given up"))

    def dataReceived(self, data: bytes) -> None:
        self.received += len(data)
        if self.sink is not None:
            self.sink(data)

    def _keep(self, failure: Failure) -> None:
        self.closeReason = failure

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        if reason.check(error.ConnectionDone):
            self.closed.callback(None)
        else:
            self.closed.errback(reason)


class _ActiveListener(Factory):
    """
    Accepts the server's data connection in active mode, from the
    server's address only.
    """

    noisy = False

    def __init__(self, allowedHost: str, receiver: DataReceiver, note: Callable[[str], None]):
        self.allowedHost = allowedHost
        self.receiver = receiver
        self.note = note
        self.taken = False

    def buildProtocol(self, addr: Any) -> Protocol | None:
        if self.taken or getattr(addr, "host", None) != self.allowedHost:
            self.note(f"refused a data connection from {describeAddress(addr)}")
            return None
        self.taken = True
        self.note(f"data connection from {describeAddress(addr)} (active)")
        return self.receiver


class _PassiveConnector(ClientFactory):
    noisy = False

    def __init__(self, receiver: DataReceiver) -> None:
        self.receiver = receiver

    def buildProtocol(self, addr: Any) -> Protocol:
        return self.receiver

    def clientConnectionFailed(self, connector: Any, reason: Failure) -> None:
        if not self.receiver.made.called:
            self.receiver.made.errback(reason)


@dataclass
class Progress:
    """
    A progress bar on standard error, for long transfers.
    """

    name: str
    total: int | None
    clock: IReactorTime
    out: IO[str]
    start: float = 0.0
    last: float = 0.0
    done: int = 0

    def update(self, done: int, final: bool = False) -> None:
        now = self.clock.seconds()
        if not self.start:
            self.start = now
        self.done = done
        if not final and now - self.last < 0.2:
            return
        self.last = now
        rate = done / max(now - self.start, 1e-6)
        if self.total:
            fraction = min(done / self.total, 1.0)
            bar = "#" * int(fraction * 30)
            text = f"\r{self.name[:30]:30} [{bar:30}] {fraction * 100:5.1f}% "
        else:
            text = f"\r{self.name[:30]:30} {done:>14d} bytes "
        text += f"{rate / 1e6:8.1f} MB/s"
        self.out.write(text + ("\n" if final else ""))
        self.out.flush()


class FTPClient:
    """
    A logged-in (or logging-in) FTP session, for one user of the client.

    @ivar passive: whether data connections are passive (the default).
    @ivar protected: whether data connections are TLS (C{PROT P}).
    """

    def __init__(
        self,
        reactor: Any,
        control: ControlProtocol,
        hostname: str,
        passive: bool = True,
        trustRoot: Any = None,
        transcript: Transcript | None = None,
        timeout: float = TIMEOUT,
    ) -> None:
        self.reactor = reactor
        self.control = control
        self.hostname = hostname
        self.passive = passive
        self.trustRoot = trustRoot
        self.protected = False
        self.transcript = transcript or Transcript()
        self.timeout = timeout
        self._extendedPassive = True
        self._current: DataReceiver | None = None

    def note(self, text: str) -> None:
        if self.transcript.enabled:
            self.transcript.note(text)

    async def command(self, verb: str, argument: str | None = None, expect: int = 3) -> Reply:
        """
        Send a command and wait for its final reply.

        @param expect: the highest first digit that counts as success.
        @raise FTPError: for any other reply.
        """
        reply = await self.control.send(Command(verb, argument))
        if reply.code // 100 > expect:
            raise FTPError(verb if verb != "PASS" else "PASS ****", reply)
        return reply

    async def startTLS(self) -> None:
        """
        C{AUTH TLS} (RFC 4217 section 4), then C{PBSZ 0} and C{PROT P}
        once logged in (L{login} sends them).
        """
        reply = await self.command("AUTH", "TLS", expect=2)
        if reply.code != ReplyCode.AUTH_OK:
            raise FTPError("AUTH TLS", reply)
        startClientTLS(
            self.control.transport,
            self.hostname,
            self.control.discard,
            self.trustRoot,
            self.transcript,
        )
        self.protected = True

    async def login(self, user: str = "anonymous", password: str = "netref@") -> None:
        """
        C{USER}, C{PASS}, then C{TYPE I} (and with TLS, C{PBSZ}, C{PROT}).

        @raise FTPError: if the server refuses.
        """
        reply = await self.command("USER", user)
        if reply.code == ReplyCode.NEED_PASSWORD:
            await self.command("PASS", password, expect=2)
        if self.protected:
            await self.command("PBSZ", "0", expect=2)
            await self.command("PROT", "P", expect=2)
        await self.command("TYPE", "I", expect=2)

    async def quit(self) -> None:
        """
        C{QUIT}, and wait for the server to close the connection.
        """
        try:
            await self.command("QUIT", expect=2)
        except error.ConnectionDone:
            pass
        self.control.transport.loseConnection()
        await self.control.lost

    async def size(self, path: str) -> int | None:
        """
        @return: the size of C{path} (RFC 3659 section 4), or L{None} if the
            server does not say.
        """
        reply = await self.control.send(Command("SIZE", path))
        if reply.code == ReplyCode.FILE_STATUS and reply.text.strip().isdigit():
            return int(reply.text.strip())
        return None

    async def _openData(self, receiver: DataReceiver) -> Callable[[], Deferred[DataReceiver]]:
        """
        Arrange the data connection before the transfer command.

        @return: a function that, once the transfer command is sent,
            returns a Deferred firing when the connection is made.
        """
        peer: Any = self.control.transport.getPeer()
        local: Any = self.control.transport.getHost()
        if self.passive:
            port: int | None = None
            if self._extendedPassive:
                reply = await self.control.send(Command("EPSV"))
                if reply.code == ReplyCode.ENTERING_EXTENDED_PASSIVE:
                    port = parseExtendedPassiveReply(reply.text)
                elif reply.code // 100 == 5:
                    self._extendedPassive = False
                else:
                    raise FTPError("EPSV", reply)
            if port is None:
                reply = await self.command("PASV", expect=2)
                host, port = parsePassiveReply(reply.text)
                if host != peer.host:
                    # RFC 2577 / NAT: use the control connection's address.
                    self.note(f"ignoring the address {host} in the 227 reply; using {peer.host}")
            self.note(f"connecting the data connection to {describeAddress((peer.host, port))}")
            receiver.connector = self.reactor.connectTCP(
                peer.host, port, _PassiveConnector(receiver), timeout=int(self.timeout)
            )
            connecting = receiver.made
            return lambda: connecting
        listener = _ActiveListener(peer.host, receiver, self.note)
        listening = self.reactor.listenTCP(0, listener, backlog=1, interface=local.host)
        ourPort = listening.getHost().port
        try:
            if ":" in local.host:
                await self.command("EPRT", formatExtendedPort(local.host, ourPort), expect=2)
            else:
                await self.command("PORT", formatPortArgument(local.host, ourPort), expect=2)
        except BaseException:
            listening.stopListening()
            raise
        self.note(f"listening for the data connection on {describeAddress((local.host, ourPort))}")

        def made() -> Deferred[DataReceiver]:
            def timedOut() -> None:
                if not receiver.made.called:
                    receiver.made.errback(error.TimeoutError("no data connection came"))

            timer = self.reactor.callLater(self.timeout, timedOut)

            def stop(result: Any) -> Any:
                if timer.active():
                    timer.cancel()
                listening.stopListening()
                return result

            return receiver.made.addBoth(stop)

        return made

    def _protect(self, receiver: DataReceiver) -> None:
        if self.protected:
            options = clientOptions(self.hostname, self.trustRoot)
            transport: Any = receiver.transport
            # The client is the TLS client on data connections, whichever
            # side opened them (RFC 4217 section 7).
            transport.startTLS(options, self.passive)

    async def _transfer(
        self,
        verb: str,
        argument: str | None,
        receiver: DataReceiver,
        offset: int = 0,
        upload: Callable[[DataReceiver], Deferred[int]] | None = None,
    ) -> Reply:
        """
        One transfer: the data connection, the command, the data, and the
        final reply, which comes once the data connection is closed.
        """
        made = await self._openData(receiver)
        if offset:
            # RFC 3659 section 5.3: REST immediately before the transfer.
            await self.command("REST", str(offset))
        self._current = receiver
        final = self.control.send(Command(verb, argument))
        opened = made()
        # Whichever comes first: the data connection, or a final reply that
        # refuses the command (550, 425, ...).
        first: Deferred[Reply | None] = Deferred()

        def connected(result: DataReceiver) -> DataReceiver:
            if not first.called:
                first.callback(None)
            return result

        def notConnected(failure: Failure) -> None:
            if not first.called:
                first.errback(failure)

        def answered(reply: Reply) -> Reply:
            if not first.called:
                first.callback(reply)
            return reply

        opened.addCallbacks(connected, notConnected)
        final.addCallback(answered)
        try:
            refusal = await first
        except BaseException:
            self._current = None
            receiver.abort()
            raise
        if refusal is not None:
            self._current = None
            receiver.abort()
            raise FTPError(verb, refusal)
        if self.passive:
            self.note(
                f"data connection {describeAddress(receiver.transport.getHost())} -> "
                f"{describeAddress(receiver.transport.getPeer())} (passive)"
            )
        self._protect(receiver)
        if upload is not None:
            try:
                await upload(receiver)
            finally:
                receiver.transport.loseConnection()
        await receiver.closed
        reply = await final
        self._current = None
        if reply.code // 100 != 2:
            raise FTPError(verb, reply)
        lost = receiver.closeReason
        if upload is None and lost is not None:
            raise FTPError(verb, Reply.of(ReplyCode.TRANSFER_ABORTED, lost.getErrorMessage()))
        return reply

    async def abort(self) -> Reply:
        """
        C{ABOR} the transfer in progress (RFC 959 section 4.1.3): the
        server answers the transfer with 426 and this with 226.
        """
        reply = await self.control.send(Command("ABOR"))
        if self._current is not None and self._current.transport is not None:
            self._current.transport.abortConnection()
        return reply

    async def list(self, path: str | None = None, verb: str = "LIST") -> bytes:
        """
        @return: the listing of C{path} (C{LIST}, C{NLST} or C{MLSD}).
        """
        chunks: list[bytes] = []
        receiver = DataReceiver(chunks.append)
        await self._transfer(verb, path or None, receiver)
        return b"".join(chunks)

    async def retrieve(
        self,
        path: str,
        sink: Callable[[bytes], object],
        offset: int = 0,
        progress: Callable[[int], None] | None = None,
    ) -> int:
        """
        C{RETR path}, from C{offset} (C{REST}).

        @param sink: takes each chunk of the file.
        @param progress: called with the bytes received so far.
        @return: the bytes received.
        """

        def take(data: bytes) -> None:
            sink(data)
            if progress is not None:
                progress(receiver.received)

        receiver = DataReceiver(take)
        await self._transfer("RETR", path, receiver, offset)
        return receiver.received

    async def store(
        self,
        path: str,
        source: IO[bytes],
        offset: int = 0,
        append: bool = False,
        progress: Callable[[int], None] | None = None,
    ) -> int:
        """
        C{STOR path} (or C{APPE}), sending C{source} from C{offset}.

        @return: the bytes sent.
        """
        sent: list[int] = [0]

        def upload(receiver: DataReceiver) -> Deferred[int]:
            def counted(chunk: bytes) -> bytes:
                sent[0] += len(chunk)
                if progress is not None:
                    progress(offset + sent[0])
                return chunk

            producer = FileProducer(source, offset, counted)
            return producer.start(receiver.transport)

        receiver = DataReceiver(None)
        await self._transfer(
            "APPE" if append else "STOR", path, receiver, 0 if append else offset, upload
        )
        return sent[0]


async def connectFTP(
    reactor: Any,
    host: str,
    port: int = DEFAULT_PORT,
    tls: bool = False,
    trustRoot: Any = None,
    passive: bool = True,
    timeout: float = TIMEOUT,
) -> FTPClient:
    """
    Open a control connection and read the greeting.

    @param tls: send C{AUTH TLS} at once (RFC 4217), checking the server's
        certificate for C{host} against C{trustRoot}.
    @raise FTPError: if the server's greeting is not 220.
    """
    transcript = Transcript()
    control = ControlProtocol(transcript)
    endpoint = HostnameEndpoint(reactor, host, port, timeout=timeout)
    await connectProtocol(endpoint, control)
    greeting = await control.greeting
    client = FTPClient(reactor, control, host, passive, trustRoot, transcript, timeout)
    if greeting.code != ReplyCode.SERVICE_READY:
        control.transport.loseConnection()
        raise FTPError("connect", greeting)
    if tls:
        await client.startTLS()
    return client


# The netref ftp tool.


class Options(usage.Options):
    """
    Options of C{netref ftp}.
    """

    synopsis = (
        "[--host HOST] [--port PORT] [--user NAME] [--password PW] [--active] [--tls] "
        "(ls [PATH] | get REMOTE [LOCAL] | put LOCAL [REMOTE])"
    )
    longdesc = (
        "An FTP client (RFC 959): lists, downloads and uploads over a control connection "
        "and one data connection per transfer, passive unless --active. "
        "--resume continues an interrupted get or put (REST). "
        "The password is --password, or $NETREF_FTP_PASSWORD; the default user is "
        "anonymous. --tls sends AUTH TLS and protects data connections (RFC 4217)."
    )

    optFlags = [
        ["active", "a", "Active mode: the server connects to us (PORT/EPRT)."],
        ["tls", None, "AUTH TLS, and TLS on data connections (PROT P)."],
        ["resume", "r", "Resume an interrupted get or put where it stopped."],
        ["progress", None, "Show a progress bar even when standard error is not a terminal."],
        ["trace", None, "Print the control connection's transcript (C:/S: lines)."],
    ]
    optParameters = [
        ["host", None, "localhost", "The server's name or address."],
        ["port", "p", DEFAULT_PORT, "The server's port (FTP's well-known port is 21).", int],
        ["user", "u", "anonymous", "The user name."],
        ["password", None, None, "The password (else $NETREF_FTP_PASSWORD)."],
        ["cacert", None, None, "Trust the certificate authorities in this PEM file."],
        ["timeout", "t", TIMEOUT, "Seconds to wait to connect and for each reply.", float],
    ]

    def parseArgs(self, *words: str) -> None:
        if not words:
            raise usage.UsageError("an action is needed: ls, get or put")
        action, arguments = words[0], words[1:]
        if action not in ("ls", "get", "put"):
            raise usage.UsageError(f"unknown action {action!r}: ls, get or put")
        limits = {"ls": (0, 1), "get": (1, 2), "put": (1, 2)}[action]
        if not limits[0] <= len(arguments) <= limits[1]:
            raise usage.UsageError(f"wrong number of arguments for {action}")
        self["action"] = action
        self["arguments"] = list(arguments)

    def postOptions(self) -> None:
        if not 0 < self["port"] <= 65535:
            raise usage.UsageError(f"port out of range: {self['port']}")
        if self["password"] is None:
            self["password"] = os.environ.get("NETREF_FTP_PASSWORD", "netref@")


async def _runTool(reactor: Any, options: Options) -> None:
    trustRoot = trustRootFromPEM(options["cacert"]) if options["cacert"] else None
    client = await connectFTP(
        reactor,
        options["host"],
        options["port"],
        tls=options["tls"],
        trustRoot=trustRoot,
        passive=not options["active"],
        timeout=options["timeout"],
    )
    try:
        await client.login(options["user"], options["password"])
        action, arguments = options["action"], options["arguments"]
        showProgress = options["progress"] or sys.stderr.isatty()
        if action == "ls":
            listing = await client.list(arguments[0] if arguments else None)
            sys.stdout.write(listing.decode("utf-8", "replace").replace("\r\n", "\n"))
            sys.stdout.flush()
        elif action == "get":
            remote = arguments[0]
            local = arguments[1] if len(arguments) > 1 else os.path.basename(remote)
            offset = os.path.getsize(local) if options["resume"] and os.path.exists(local) else 0
            total = await client.size(remote)
            bar = Progress(remote, total, reactor, sys.stderr) if showProgress else None

            def shown(count: int) -> None:
                if bar is not None:
                    bar.update(offset + count)

            with open(local, "ab" if offset else "wb") as f:
                await client.retrieve(remote, f.write, offset, shown)
            if bar is not None:
                bar.update(os.path.getsize(local), final=True)
        else:
            local = arguments[0]
            remote = arguments[1] if len(arguments) > 1 else os.path.basename(local)
            offset = 0
            if options["resume"]:
                offset = await client.size(remote) or 0
            total = os.path.getsize(local)
            bar = Progress(local, total, reactor, sys.stderr) if showProgress else None
            with open(local, "rb") as source:
                await client.store(remote, source, offset, progress=bar.update if bar else None)
            if bar is not None:
                bar.update(total, final=True)
    finally:
        if client.control.transport.connected:
            await client.quit()


def run(reactor: Any, options: Options) -> Deferred[None]:
    """
    Run C{netref ftp}.

    @raise ToolError: (asynchronously) with a one-line reason on failure.
    """

    async def guarded() -> None:
        printer = startPrintingTranscripts(sys.stdout) if options["trace"] else None
        where = describeAddress((options["host"], options["port"]))
        try:
            await _runTool(reactor, options)
        except FTPError as e:
            raise ToolError(f"{where}: {e}") from None
        except (AddressError, FTPWireError) as e:
            raise ToolError(f"{where}: bad reply: {e}") from None
        except error.ConnectionRefusedError:
            raise ToolError(f"{where}: connection refused") from None
        except error.ConnectError as e:
            raise ToolError(f"{where}: {e}") from None
        except OSError as e:
            raise ToolError(str(e)) from None
        finally:
            if printer is not None:
                stopPrintingTranscripts(printer)

    return defer.ensureDeferred(guarded())
