"""
The FTP server: the control connection's protocol, data connections in
active and passive mode, and transfers (RFC 959, 2428, 3659, 4217).

The textbook's picture (section 2.3): the client opens a I{control
connection} to port 21 and keeps it for the whole session; every file
transfer, and every directory listing, gets a fresh I{data connection}.
Who opens it depends on the mode:

  - B{active} (C{PORT}, C{EPRT}): the client listens and names its
    address; the server connects to it, from its port 20 (the default data
    port of RFC 959 section 3.2) or the configured one;
  - B{passive} (C{PASV}, C{EPSV}): the server listens on a fresh port and
    names it; the client connects.  This is what works through a client's
    NAT, so it is what clients do by default.

L{FTPControlProtocol} feeds each command line to the sans-IO
L{netref.ftp.wire.Session} and carries out the L{Action}s it returns:
logging in through twisted.cred, file commands on the user's
L{UserFilesystem}, and transfers on L{DataConnection}s.

Security rules, each with its reason (RFC 2577 is the FTP security
considerations):

  - C{PORT}/C{EPRT} may name only the control connection's own address,
    and a port of 1024 or above: otherwise a client could make the server
    connect to a third party ("bounce attack", RFC 2577 section 3);
  - a passive port accepts a connection only from the control connection's
    address, so no one else can steal the data ("port stealing", RFC 2577
    section 8), and it waits only L{DATA_TIMEOUT} seconds;
  - paths never leave the user's root (L{netref.ftp.wire.resolvePath},
    L{UserFilesystem.realPath}); CR, LF and NUL in arguments are refused;
  - a failed login is answered after a delay that grows with each
    failure, and the connection is closed after L{MAX_LOGIN_FAILURES}
    (RFC 2577 section 5);
  - idle control connections are closed (L{IDLE_TIMEOUT}, reply 421), and
    so are sessions that send L{MAX_ERRORS} bad commands;
  - with C{PROT P}, a data connection must be TLS: the server starts TLS
    on it at once, so a client that does not fails the transfer.  That is
    what I{tied to the control session} means here: the data connection
    comes from the control connection's address, is accepted only while
    that session waits for it, and is encrypted with the server's
    certificate; vsftpd's C{require_ssl_reuse}, which also requires the
    data connection's TLS session to resume the control connection's, is
    not done (pyOpenSSL does not tell whether a session was resumed, and
    Python's ftplib does not resume sessions, so it would lock it out).
"""

from __future__ import annotations

import os
import random
import socket
from collections import deque
from collections.abc import Callable, Sequence
from typing import IO, Any

from twisted.cred import credentials
from twisted.cred.checkers import AllowAnonymousAccess, ICredentialsChecker
from twisted.cred.error import UnauthorizedLogin
from twisted.cred.portal import IRealm, Portal
from twisted.internet import defer, error
from twisted.internet.defer import Deferred
from twisted.internet.interfaces import (
    IDelayedCall,
    IHandshakeListener,
    IListeningPort,
    IOpenSSLServerConnectionCreator,
    IReactorTCP,
    IReactorTime,
    ITCPTransport,
    ITLSTransport,
)
from twisted.internet.protocol import (
    ClientFactory,
    Factory,
    Protocol,
    ServerFactory,
    connectionDone,
)
from twisted.internet.tcp import makeBinding
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import Interface, implementer

from netref.core.stream import GuardedStreamProtocol
from netref.core.tls import startTLS, tlsActive
from netref.core.trace import Transcript, describeAddress
from netref.ftp.filesystem import FilesystemError, UserFilesystem
from netref.ftp.listing import factsLine, factTime, listLine
from netref.ftp.sendfile import FileProducer, SendfileWriter, sendfileUsable
from netref.ftp.wire import (
    Abort,
    Action,
    ASCIIDecoder,
    ASCIIEncoder,
    Command,
    CommandSyntaxError,
    EnterActive,
    EnterPassive,
    FileCommand,
    LineBuffer,
    LineTooLongError,
    LogIn,
    Quit,
    Reply,
    ReplyCode,
    Session,
    StartTLS,
    Transfer,
    formatPortArgument,
    parseCommand,
    quotePath,
)

_log = Logger()

#: Seconds a control connection may stay silent (outside transfers).
IDLE_TIMEOUT = 300.0

#: Seconds to wait for a data connection to be made, and for a made one to
#: be used by a transfer command.
DATA_TIMEOUT = 30.0

#: Failed logins before the connection is closed, and the delay, in
#: seconds, added before each failure's reply (times the failures so far).
MAX_LOGIN_FAILURES = 3
LOGIN_FAILURE_DELAY = 1.0

#: Bad commands (syntax errors, unknown commands) before the server gives up
#: on a session with 421.
MAX_ERRORS = 50

#: Commands held while a transfer runs or a login is checked.
MAX_QUEUED = 32

#: Sessions served at once.
MAX_CONNECTIONS = 512

#: The lowest port PORT/EPRT may name (RFC 2577 section 3).
LOWEST_CLIENT_PORT = 1024

#: Commands answered at once while a transfer runs (RFC 959 section 4.1.3).
_DURING_TRANSFER = frozenset({"ABOR", "STAT", "NOOP", "QUIT"})


class IFTPUser(Interface):
    """
    The avatar of a logged-in FTP user: a L{UserFilesystem}.
    """


@implementer(IRealm)
class FTPRealm:
    """
    Gives each user the files they may see: accounts get the root,
    writable; anonymous users get the anonymous root, read-only.
    """

    def __init__(self, root: str, anonymousRoot: str | None = None) -> None:
        """
        @param root: the directory of users with accounts.
        @param anonymousRoot: the directory of anonymous users (the root by
            default).
        """
        self.root = root
        self.anonymousRoot = anonymousRoot or root

    def requestAvatar(
        self, avatarId: bytes | tuple[()], mind: object, *interfaces: Any
    ) -> tuple[Any, UserFilesystem, Callable[[], None]]:
        if IFTPUser not in interfaces:
            raise NotImplementedError("only IFTPUser")
        if avatarId == ():
            return IFTPUser, UserFilesystem(self.anonymousRoot, writable=False), lambda: None
        return IFTPUser, UserFilesystem(self.root, writable=True), lambda: None


def makePortal(realm: FTPRealm, checker: ICredentialsChecker | None, anonymous: bool) -> Portal:
    """
    @return: a portal with the account checker and, when C{anonymous},
        one for anonymous users (RFC 1635).
    """
    checkers: list[ICredentialsChecker] = []
    if checker is not None:
        checkers.append(checker)
    if anonymous:
        checkers.append(AllowAnonymousAccess())
    return Portal(realm, checkers)


# Data connections.


@implementer(IHandshakeListener)
class DataProtocol(Protocol):
    """
    One data connection.  It reads nothing until a transfer takes it (so a
    client's early upload bytes wait in the kernel), and reports its end.

    @ivar closeReason: why the connection was lost, once it was.
    @ivar received: bytes received so far.
    """

    # A TCP connection, also a push producer (pause/resume its reading).
    transport: Any

    def __init__(self, onConnect: Callable[[DataProtocol], None]) -> None:
        """
        @param onConnect: called once the connection is made.
        """
        self.closeReason: Failure | None = None
        self._waiters: list[Deferred[None]] = []
        self.sink: Callable[[bytes], None] | None = None
        self.received = 0
        self._onConnect = onConnect
        self.handshakeTimer: IDelayedCall | None = None

    def connectionMade(self) -> None:
        self.transport.pauseProducing()
        self._onConnect(self)

    def handshakeCompleted(self) -> None:
        """
        The TLS handshake on this data connection (C{PROT P}) is done.
        """
        if self.handshakeTimer is not None and self.handshakeTimer.active():
            self.handshakeTimer.cancel()
        self.handshakeTimer = None

    def receiveInto(self, sink: Callable[[bytes], None]) -> None:
        """
        Start reading: every byte goes to C{sink}.
        """
        self.sink = sink
        self.transport.resumeProducing()

    def dataReceived(self, data: bytes) -> None:
        self.received += len(data)
        if self.sink is not None:
            self.sink(data)

    @property
    def isClosed(self) -> bool:
        return self.closeReason is not None

    def whenClosed(self) -> Deferred[None]:
        """
        @return: fires once the connection is closed cleanly, or fails with
            the reason it was lost otherwise.
        """
        d: Deferred[None] = Deferred()
        if self.closeReason is None:
            self._waiters.append(d)
        else:
            _fireClosed(d, self.closeReason)
        return d

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self.handshakeCompleted()
        self.closeReason = reason
        waiters, self._waiters = self._waiters, []
        for d in waiters:
            _fireClosed(d, reason)


def _fireClosed(d: Deferred[None], reason: Failure) -> None:
    if reason.check(error.ConnectionDone):
        d.callback(None)
    else:
        d.errback(reason)


class DataChannel:
    """
    How the next transfer gets its data connection: passively (the server
    listened, L{PassiveChannel}) or actively (L{ActiveChannel}).
    """

    description = ""

    def connect(self) -> Deferred[DataProtocol]:
        """
        @return: fires with the data connection, or fails (reply 425).
        """
        raise NotImplementedError()

    @property
    def alreadyOpen(self) -> bool:
        """
        Whether the connection is made already (reply 125 rather than 150).
        """
        return False

    @property
    def usable(self) -> bool:
        """
        Whether a transfer may still use it (not timed out or closed).
        """
        return True

    def close(self) -> None:
        """
        Give up: stop listening, drop an unused connection.
        """


class _PassiveFactory(Factory):
    """
    Accepts the one data connection of a passive channel, from the control
    connection's peer only.
    """

    noisy = False

    def __init__(self, channel: PassiveChannel) -> None:
        self.channel = channel

    def buildProtocol(self, addr: Any) -> Protocol | None:
        return self.channel.accepted(addr)


class PassiveChannel(DataChannel):
    """
    A port the server listens on for one data connection (C{PASV},
    C{EPSV}).
    """

    def __init__(
        self,
        control: FTPControlProtocol,
        reactor: Any,
        clock: IReactorTime,
        interface: str,
        ports: Sequence[int],
        allowedHost: str,
        timeout: float,
    ) -> None:
        self._control = control
        self._clock = clock
        self._allowedHost = allowedHost
        self._connection: DataProtocol | None = None
        self._waiting: Deferred[DataProtocol] | None = None
        self._port: IListeningPort | None = None
        self._timeout = timeout
        candidates = list(ports) or [0]
        random.shuffle(candidates)
        lastError: Exception | None = None
        for number in candidates:
            try:
                self._port = reactor.listenTCP(
                    number, _PassiveFactory(self), backlog=1, interface=interface
                )
                break
            except error.CannotListenError as e:
                lastError = e
        if self._port is None:
            raise error.CannotListenError(interface, 0, lastError)
        self.portNumber: int = getattr(self._port.getHost(), "port", 0)
        self._timer: IDelayedCall | None = clock.callLater(timeout, self._timedOut)
        self.description = f"passive, port {self.portNumber}"

    def accepted(self, addr: Any) -> DataProtocol | None:
        """
        A connection arrived: take it if it comes from the control
        connection's peer and is the first; refuse it otherwise.
        """
        host = getattr(addr, "host", None)
        if host != self._allowedHost or self._port is None:
            self._control.note(
                f"refused a data connection from {describeAddress(addr)}: "
                f"only {self._allowedHost} may connect (RFC 2577 section 8)"
            )
            return None
        self._stopListening()
        self._control.note(f"data connection from {describeAddress(addr)} (passive)")
        return DataProtocol(self._made)

    def _made(self, protocol: DataProtocol) -> None:
        self._connection = protocol
        if self._waiting is not None:
            waiting, self._waiting = self._waiting, None
            self._cancelTimer()
            waiting.callback(protocol)
        else:
            # Made, but no transfer yet: it too may wait only so long.
            self._resetTimer()

    def _stopListening(self) -> None:
        if self._port is not None:
            port, self._port = self._port, None
            port.stopListening()

    def _cancelTimer(self) -> None:
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None

    def _resetTimer(self) -> None:
        self._cancelTimer()
        self._timer = self._clock.callLater(self._timeout, self._timedOut)

    def _timedOut(self) -> None:
        self._timer = None
        self.close()
        if self._waiting is not None:
            waiting, self._waiting = self._waiting, None
            waiting.errback(Failure(error.TimeoutError("no data connection came")))

    @property
    def alreadyOpen(self) -> bool:
        return self._connection is not None

    @property
    def usable(self) -> bool:
        if self._connection is not None:
            return not self._connection.isClosed
        return self._port is not None

    def connect(self) -> Deferred[DataProtocol]:
        if self._connection is not None:
            self._cancelTimer()
            return defer.succeed(self._connection)
        if self._port is None:
            return defer.fail(error.ConnectError("the passive port is closed"))
        self._waiting = Deferred()
        return self._waiting

    def close(self) -> None:
        self._cancelTimer()
        self._stopListening()
        if self._connection is not None and self._connection.transport is not None:
            if not self._connection.isClosed:
                self._connection.transport.abortConnection()
        if self._waiting is not None:
            waiting, self._waiting = self._waiting, None
            waiting.errback(Failure(error.ConnectionAborted("data connection given up")))


class _ActiveFactory(ClientFactory):
    """
    Makes the protocol of an active data connection.
    """

    noisy = False

    def __init__(self, channel: ActiveChannel) -> None:
        self.channel = channel

    def buildProtocol(self, addr: Any) -> Protocol:
        return self.channel.protocol

    def clientConnectionFailed(self, connector: Any, reason: Failure) -> None:
        self.channel.failed(reason)


class ActiveChannel(DataChannel):
    """
    The client's address for the next data connection (C{PORT}, C{EPRT}):
    the server connects when the transfer starts.
    """

    def __init__(
        self,
        control: FTPControlProtocol,
        reactor: IReactorTCP,
        host: str,
        port: int,
        localHost: str,
        dataPort: int,
        timeout: float,
    ) -> None:
        self._control = control
        self._reactor = reactor
        self.host = host
        self.port = port
        self._localHost = localHost
        self._dataPort = dataPort
        self._timeout = timeout
        self.protocol = DataProtocol(self._made)
        self._waiting: Deferred[DataProtocol] | None = None
        self._connector: Any = None
        self.description = f"active, to {describeAddress((host, port))}"

    def connect(self) -> Deferred[DataProtocol]:
        waiting: Deferred[DataProtocol] = Deferred()
        self._waiting = waiting
        # RFC 959 section 3.2: the server's data port is L-1 (20); bound
        # with SO_REUSEADDR so that consecutive transfers can use it while
        # the last connection is in TIME_WAIT.
        binding: Any = makeBinding(self._localHost, self._dataPort, reuseAddress=True)
        self._connector = self._reactor.connectTCP(
            self.host,
            self.port,
            _ActiveFactory(self),
            timeout=int(self._timeout),
            bindAddress=binding,
        )
        return waiting

    def _made(self, protocol: DataProtocol) -> None:
        local = protocol.transport.getHost()
        self._control.note(
            f"data connection {describeAddress(local)} -> "
            f"{describeAddress((self.host, self.port))} (active)"
        )
        if self._waiting is not None:
            waiting, self._waiting = self._waiting, None
            waiting.callback(protocol)

    def failed(self, reason: Failure) -> None:
        if self._waiting is not None:
            waiting, self._waiting = self._waiting, None
            waiting.errback(reason)

    def close(self) -> None:
        if self.protocol.transport is not None and not self.protocol.isClosed:
            self.protocol.transport.abortConnection()
        elif self._connector is not None and self._waiting is not None:
            self._connector.stopConnecting()
            self.failed(Failure(error.ConnectionAborted("data connection given up")))


class RunningTransfer:
    """
    A transfer in progress, for C{ABOR} and C{STAT}.
    """

    def __init__(self, action: Transfer, name: str, channel: DataChannel) -> None:
        self.action = action
        self.name = name
        self.channel = channel
        self.data: DataProtocol | None = None
        self.sender: SendfileWriter | FileProducer | None = None
        self.listed = 0
        self.aborted = False

    @property
    def bytes(self) -> int:
        if self.sender is not None:
            return self.sender.sent
        if self.listed:
            return self.listed
        if self.data is not None:
            return self.data.received
        return 0

    def abort(self) -> None:
        self.aborted = True
        if isinstance(self.sender, SendfileWriter):
            self.sender.stop()
        if self.data is not None and self.data.transport is not None:
            self.data.transport.abortConnection()
        else:
            self.channel.close()


class FTPControlProtocol(GuardedStreamProtocol):
    """
    One control connection: the session of one client.
    """

    factory: FTPServerFactory
    transport: ITCPTransport

    def __init__(self) -> None:
        self._lines = LineBuffer()
        self._transcript = Transcript()
        self.session = Session()
        self.filesystem: UserFilesystem | None = None
        self._logout: Callable[[], None] | None = None
        self._channel: DataChannel | None = None
        self._transfer: RunningTransfer | None = None
        self._queue: deque[bytes] = deque()
        self._busy = False
        self._quitting = False
        self._errors = 0
        self._loginFailures = 0
        self._counted = False
        self._delayed: IDelayedCall | None = None

    # The connection.

    def connectionMade(self) -> None:
        factory = self.factory
        peer = self.transport.getPeer()
        if self._transcript.enabled:
            self._transcript.note(
                f"control connection from {describeAddress(peer)} "
                f"to {describeAddress(self.transport.getHost())}"
            )
        if factory.connections >= factory.maxConnections:
            self.transport.write(
                Reply.of(ReplyCode.SERVICE_NOT_AVAILABLE, "Too many users, try later").encode()
            )
            self.closeConnection()
            return
        factory.connections += 1
        self._counted = True
        handle = getattr(self.transport, "getHandle", lambda: None)()
        if isinstance(handle, socket.socket):
            # Clients send ABOR's Telnet Synch as urgent data (RFC 959
            # section 4.1.3, Python's ftplib): keep it in the stream.
            handle.setsockopt(socket.SOL_SOCKET, socket.SO_OOBINLINE, 1)
        self.session = Session(
            tlsAvailable=factory.tlsOptions is not None,
            anonymousAllowed=factory.anonymous,
            plaintextLogin=factory.plaintextLogin,
            tls=tlsActive(self.transport),
        )
        self.startGuarding()
        self.reply(Reply.of(ReplyCode.SERVICE_READY, factory.greeting))

    def note(self, text: str) -> None:
        """
        Note something that is not on the control connection in the
        transcript (data connections).
        """
        if self._transcript.enabled:
            self._transcript.note(text)

    def reply(self, reply: Reply) -> None:
        """
        Write one reply.
        """
        if self.closing:
            return
        self._traceReply(reply)
        self.transport.write(reply.encode())

    def _traceReply(self, reply: Reply) -> None:
        if self._transcript.enabled:
            for line in reply.encode().split(b"\r\n")[:-1]:
                self._transcript.server(line)

    def idleTimedOut(self) -> None:
        if not self.paused:
            self.reply(
                Reply.of(
                    ReplyCode.SERVICE_NOT_AVAILABLE,
                    f"No command for {self.factory.idleTimeout:g} seconds: closing",
                )
            )
        super().idleTimedOut()

    def _closeWith(self, reply: Reply) -> None:
        """
        Send the last reply (221 to QUIT, or a 421) and close.
        """
        if self.closing:
            return
        self._traceReply(reply)
        self.closeConnection(reply.encode())

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        super().connectionLost(reason)
        if self._counted:
            self._counted = False
            self.factory.connections -= 1
        if self._delayed is not None and self._delayed.active():
            self._delayed.cancel()
        if self._transfer is not None:
            self._transfer.abort()
        if self._channel is not None:
            self._channel.close()
            self._channel = None
        if self._logout is not None:
            self._logout()
            self._logout = None
        self.note(f"control connection closed: {reason.getErrorMessage()}")

    # Reading commands.

    def _discard(self) -> bytes:
        held = self._lines.clear()
        queued = b"".join(line + b"\r\n" for line in self._queue)
        self._queue.clear()
        return queued + held

    def dataReceived(self, data: bytes) -> None:
        if self.closing:
            return
        try:
            lines = self._lines.feed(data)
        except LineTooLongError as e:
            self._closeWith(Reply.of(ReplyCode.SYNTAX_ERROR, f"{e}: closing"))
            return
        for line in lines:
            if self.closing:
                return
            self.resetIdle()
            if self._busy:
                if self._transfer is not None and _verbOf(line) in _DURING_TRANSFER:
                    self._handleLine(line)
                    continue
                if len(self._queue) >= MAX_QUEUED:
                    self._closeWith(
                        Reply.of(ReplyCode.SERVICE_NOT_AVAILABLE, "Too many queued commands")
                    )
                    return
                self._queue.append(line)
                continue
            self._handleLine(line)
        if self._transfer is not None:
            self.stopIdle()

    def _runQueue(self) -> None:
        while self._queue and not self._busy and not self.closing:
            self._handleLine(self._queue.popleft())

    def _setBusy(self, busy: bool) -> None:
        self._busy = busy
        if not busy:
            if not self.closing:
                self.resetIdle()
            self._runQueue()

    def _handleLine(self, line: bytes) -> None:
        try:
            command = parseCommand(line)
        except CommandSyntaxError as e:
            if self._transcript.enabled:
                self._transcript.client(line)
            self._badCommand(Reply.of(ReplyCode.SYNTAX_ERROR, f"Syntax error: {e}"))
            return
        if self._transcript.enabled:
            shown = "PASS ********" if command.verb == "PASS" else line
            self._transcript.client(shown)
        if self._transfer is not None and command.verb in _DURING_TRANSFER:
            self._duringTransfer(command)
            return
        result = self.session.receive(command)
        if isinstance(result, Reply):
            if result.code in (ReplyCode.SYNTAX_ERROR, ReplyCode.NOT_IMPLEMENTED):
                self._badCommand(result)
            else:
                self.reply(result)
            return
        self._act(result)

    def _badCommand(self, reply: Reply) -> None:
        self._errors += 1
        if self._errors >= self.factory.maxErrors:
            self._closeWith(
                Reply.of(ReplyCode.SERVICE_NOT_AVAILABLE, f"{self._errors} bad commands: closing")
            )
            return
        self.reply(reply)

    def _duringTransfer(self, command: Command) -> None:
        transfer = self._transfer
        assert transfer is not None
        if command.verb == "ABOR":
            # RFC 959 section 4.1.3: 426 for the transfer, then 226.
            transfer.abort()
            return
        if command.verb == "STAT":
            self.reply(
                Reply.of(
                    ReplyCode.FILE_STATUS,
                    f"Status: {transfer.action.verb} {transfer.name}, "
                    f"{transfer.bytes} bytes so far",
                )
            )
            return
        if command.verb == "NOOP":
            self.reply(Reply.of(ReplyCode.OK, "NOOP ok"))
            return
        # QUIT: the server closes once the transfer has ended (RFC 959
        # section 4.1.1).
        self._quitting = True

    # Carrying out actions.

    def _act(self, action: Action) -> None:
        if isinstance(action, LogIn):
            self._logIn(action)
        elif isinstance(action, Quit):
            self._closeWith(Reply.of(ReplyCode.CLOSING_CONTROL, "Goodbye"))
        elif isinstance(action, StartTLS):
            self._startTLS()
        elif isinstance(action, EnterPassive):
            self._enterPassive(action)
        elif isinstance(action, EnterActive):
            self._enterActive(action)
        elif isinstance(action, FileCommand):
            self._fileCommand(action)
        elif isinstance(action, Transfer):
            self._startTransfer(action)
        elif isinstance(action, Abort):
            self._abortWithoutTransfer()

    def _logIn(self, action: LogIn) -> None:
        if action.anonymous:
            creds: Any = credentials.Anonymous()
        else:
            creds = credentials.UsernamePassword(
                action.user.encode("utf-8", "surrogateescape"),
                action.password.encode("utf-8", "surrogateescape"),
            )
        self._setBusy(True)
        d = self.factory.portal.login(creds, None, IFTPUser)
        d.addCallbacks(self._loggedIn, self._loginFailed)
        d.addErrback(lambda f: _log.failure("login", f))

    def _loggedIn(self, result: tuple[Any, UserFilesystem, Callable[[], None]]) -> None:
        _, filesystem, logout = result
        if self.closing:
            logout()
            return
        self.filesystem = filesystem
        self._logout = logout
        self.reply(self.session.loggedIn(filesystem.writable))
        self._setBusy(False)

    def _loginFailed(self, failure: Failure) -> None:
        if not failure.check(UnauthorizedLogin):
            _log.failure("checking a login", failure)
        self._loginFailures += 1
        reply = self.session.loginFailed()
        delay = self.factory.loginFailureDelay * self._loginFailures

        def answer() -> None:
            self._delayed = None
            if self._loginFailures >= self.factory.maxLoginFailures:
                self._closeWith(
                    Reply.of(
                        ReplyCode.SERVICE_NOT_AVAILABLE,
                        f"{self._loginFailures} failed logins: closing",
                    )
                )
                return
            self.reply(reply)
            self._setBusy(False)

        # RFC 2577 section 5: slow down password guessing.
        self._delayed = self.factory.clock.callLater(delay, answer)

    def _startTLS(self) -> None:
        options = self.factory.tlsOptions
        assert options is not None
        self.reply(Reply.of(ReplyCode.AUTH_OK, "AUTH TLS successful"))
        startTLS(self.transport, options, self._discard, self._transcript)
        self.session.tlsStarted()

    def _enterPassive(self, action: EnterPassive) -> None:
        if self._channel is not None:
            self._channel.close()
            self._channel = None
        local = self.transport.getHost()
        peer = self.transport.getPeer()
        advertised = self.factory.passiveAddress or local.host
        if not action.extended and ":" in advertised:
            self.reply(Reply.of(ReplyCode.CANT_OPEN_DATA, "PASV is for IPv4: use EPSV"))
            return
        try:
            channel = PassiveChannel(
                self,
                self.factory.reactor,
                self.factory.clock,
                local.host,
                self.factory.passivePorts,
                peer.host,
                self.factory.dataTimeout,
            )
        except error.CannotListenError:
            self.reply(Reply.of(ReplyCode.CANT_OPEN_DATA, "No free passive port"))
            return
        self._channel = channel
        self.note(f"listening for a data connection on port {channel.portNumber}")
        if action.extended:
            self.reply(
                Reply.of(
                    ReplyCode.ENTERING_EXTENDED_PASSIVE,
                    f"Entering Extended Passive Mode (|||{channel.portNumber}|)",
                )
            )
        else:
            self.reply(
                Reply.of(
                    ReplyCode.ENTERING_PASSIVE,
                    "Entering Passive Mode "
                    f"({formatPortArgument(advertised, channel.portNumber)})",
                )
            )

    def _enterActive(self, action: EnterActive) -> None:
        if self._channel is not None:
            self._channel.close()
            self._channel = None
        peer = self.transport.getPeer()
        if action.host != peer.host:
            # RFC 2577 section 3: the bounce attack.
            self.reply(
                Reply.of(
                    ReplyCode.ARGUMENT_ERROR,
                    "Data connections only to your own address (RFC 2577)",
                )
            )
            return
        if action.port < LOWEST_CLIENT_PORT:
            self.reply(
                Reply.of(ReplyCode.ARGUMENT_ERROR, "Data connections only to ports above 1023")
            )
            return
        local = self.transport.getHost()
        self._channel = ActiveChannel(
            self,
            self.factory.reactor,
            action.host,
            action.port,
            local.host,
            self.factory.dataPort,
            self.factory.dataTimeout,
        )
        verb = "EPRT" if action.extended else "PORT"
        self.reply(Reply.of(ReplyCode.OK, f"{verb} command successful"))

    def _abortWithoutTransfer(self) -> None:
        if self._channel is not None:
            self._channel.close()
            self._channel = None
            self.reply(Reply.of(ReplyCode.CLOSING_DATA, "ABOR: data connection closed"))
            return
        self.reply(Reply.of(ReplyCode.DATA_OPEN_NO_TRANSFER, "ABOR: no transfer in progress"))

    # File commands.

    def _fileCommand(self, action: FileCommand) -> None:
        filesystem = self.filesystem
        if action.verb == "STAT" and action.path is None:
            self.reply(self._systemStatus())
            return
        assert filesystem is not None and action.path is not None
        path = action.path
        try:
            if action.verb == "CWD":
                if not filesystem.isDirectory(path):
                    raise FilesystemError(ReplyCode.FILE_UNAVAILABLE, f"{path}: not a directory")
                self.reply(self.session.changedDirectory(path))
            elif action.verb == "MKD":
                filesystem.makeDirectory(path)
                self.reply(Reply.of(ReplyCode.PATH_CREATED, f"{quotePath(path)} created"))
            elif action.verb == "RMD":
                filesystem.removeDirectory(path)
                self.reply(Reply.of(ReplyCode.FILE_ACTION_OK, f"{path} removed"))
            elif action.verb == "DELE":
                filesystem.remove(path)
                self.reply(Reply.of(ReplyCode.FILE_ACTION_OK, f"{path} deleted"))
            elif action.verb == "RNFR":
                filesystem.stat(path)
                self.reply(self.session.renameFromAccepted(path))
            elif action.verb == "RNTO":
                assert action.source is not None
                filesystem.rename(action.source, path)
                self.reply(Reply.of(ReplyCode.FILE_ACTION_OK, f"Renamed to {path}"))
            elif action.verb == "SIZE":
                entry = filesystem.entry(path)
                if not entry.isFile:
                    raise FilesystemError(ReplyCode.FILE_UNAVAILABLE, f"{path}: not a plain file")
                if not self.session.binary:
                    # RFC 3659 section 4: the size in the current TYPE,
                    # which in TYPE A means converting the whole file.
                    raise FilesystemError(
                        ReplyCode.FILE_UNAVAILABLE, "SIZE is only given in TYPE I"
                    )
                self.reply(Reply.of(ReplyCode.FILE_STATUS, str(entry.stat.st_size)))
            elif action.verb == "MDTM":
                entry = filesystem.entry(path)
                self.reply(Reply.of(ReplyCode.FILE_STATUS, factTime(entry.stat.st_mtime)))
            elif action.verb == "MLST":
                entry = filesystem.entry(path)
                facts = factsLine(entry, filesystem.writable).split(" ", 1)[0]
                self.reply(
                    Reply.of(
                        ReplyCode.FILE_ACTION_OK, "Listing " + path, f" {facts} {path}", "End"
                    )
                )
            elif action.verb == "STAT":
                lines = self._listLines(path, "l")
                self.reply(
                    Reply.of(ReplyCode.DIRECTORY_STATUS, "Status of " + path, *lines, "End")
                )
        except FilesystemError as e:
            self.reply(Reply.of(e.code, str(e)))

    def _systemStatus(self) -> Reply:
        peer = self.transport.getPeer()
        session = self.session
        lines = [
            "netref FTP server status:",
            f"Connected from {describeAddress(peer)}",
            f"Logged in as {session.user}" if session.user else "Not logged in",
            f"TYPE: {'I' if session.binary else 'A'}, STRU: F, MODE: S",
            f"Control connection: {'TLS' if session.tls else 'plain'}; "
            f"data connections: {'TLS' if session.protected else 'plain'}",
            "End of status",
        ]
        return Reply.of(ReplyCode.SYSTEM_STATUS, *lines)

    def _listLines(self, path: str, options: str) -> list[str]:
        filesystem = self.filesystem
        assert filesystem is not None
        now = self.factory.clock.seconds()
        if filesystem.isDirectory(path):
            entries = filesystem.list(path)
        else:
            entries = [filesystem.entry(path)]
        showHidden = "a" in options
        return [listLine(e, now) for e in entries if showHidden or not e.name.startswith(".")]

    # Transfers.

    def _startTransfer(self, action: Transfer) -> None:
        filesystem = self.filesystem
        assert filesystem is not None
        channel, self._channel = self._channel, None
        if channel is None or not channel.usable:
            self.reply(Reply.of(ReplyCode.CANT_OPEN_DATA, "Use PORT, EPRT, PASV or EPSV first"))
            return
        path = action.path
        file: IO[bytes] | None = None
        payload = b""
        name = path
        try:
            if action.verb == "RETR":
                file = filesystem.openForReading(path)
            elif action.verb in ("STOR", "APPE"):
                file = filesystem.openForWriting(
                    path, offset=action.offset, append=action.verb == "APPE"
                )
            elif action.verb == "STOU":
                name = filesystem.uniqueName(path)
                file = filesystem.openForWriting(name)
            else:
                payload = self._listing(action)
        except FilesystemError as e:
            channel.close()
            self.reply(Reply.of(e.code, str(e)))
            return
        transfer = RunningTransfer(action, name, channel)
        self._transfer = transfer
        self._setBusy(True)
        self.stopIdle()
        if action.verb == "STOU":
            # RFC 1123 section 4.1.2.9: "150 FILE: name".
            preliminary = f"FILE: {name.rsplit('/', 1)[-1]}"
        else:
            what = {"RETR": "Sending", "STOR": "Receiving", "APPE": "Appending to"}.get(
                action.verb, "Listing"
            )
            mode = "BINARY" if action.binary else "ASCII"
            preliminary = f"{what} {path} ({mode} mode, {channel.description})"
        if channel.alreadyOpen:
            self.reply(Reply.of(ReplyCode.DATA_ALREADY_OPEN, preliminary))
        else:
            self.reply(Reply.of(ReplyCode.FILE_STATUS_OK, preliminary))
        d = channel.connect()
        d.addCallback(self._connected, transfer, file, payload, channel)
        d.addCallbacks(
            lambda _: self._transferDone(transfer, file, None),
            lambda f: self._transferDone(transfer, file, f),
        )
        d.addErrback(lambda f: _log.failure("transfer", f))

    def _listing(self, action: Transfer) -> bytes:
        filesystem = self.filesystem
        assert filesystem is not None
        path = action.path
        if action.verb == "LIST":
            lines = self._listLines(path, action.listOptions)
        elif action.verb == "NLST":
            if filesystem.isDirectory(path):
                lines = [e.name for e in filesystem.list(path) if not e.name.startswith(".")]
            else:
                filesystem.stat(path)
                lines = [path.rsplit("/", 1)[-1]]
        else:
            if not filesystem.isDirectory(path):
                filesystem.stat(path)
                raise FilesystemError(ReplyCode.FILE_UNAVAILABLE, f"{path}: not a directory")
            lines = [factsLine(filesystem.entry(path), filesystem.writable, "cdir")]
            lines[0] = lines[0].rsplit(" ", 1)[0] + " ."
            lines += [factsLine(e, filesystem.writable) for e in filesystem.list(path)]
        return "".join(line + "\r\n" for line in lines).encode("utf-8", "surrogateescape")

    def _connected(
        self,
        data: DataProtocol,
        transfer: RunningTransfer,
        file: IO[bytes] | None,
        payload: bytes,
        channel: DataChannel,
    ) -> Deferred[Any]:
        transfer.data = data
        if transfer.aborted:
            data.transport.abortConnection()
            return defer.fail(error.ConnectionAborted("transfer aborted"))
        action = transfer.action
        transport = data.transport
        transport.resumeProducing()
        if action.protected:
            options = self.factory.tlsOptions
            assert options is not None
            # RFC 4217 section 7: the FTP server is the TLS server on data
            # connections, whichever side opened them.
            tlsTransport: Any = ITLSTransport(transport)
            tlsTransport.startTLS(options, isinstance(channel, PassiveChannel))
            self.note("data connection: starting TLS (PROT P)")
            # A client that does not speak TLS on it would leave both sides
            # waiting: the handshake has the data timeout to finish.
            data.handshakeTimer = self.factory.clock.callLater(
                self.factory.dataTimeout, transport.abortConnection
            )
        verb = action.verb
        if verb in ("STOR", "APPE", "STOU"):
            assert file is not None
            return self._receive(data, file, action.binary)
        if verb == "RETR":
            assert file is not None
            if action.binary and not action.protected and sendfileUsable(transport):
                writer = SendfileWriter(self.factory.reactor, transport, file, action.offset)
                transfer.sender = writer
                sending = writer.start()
            else:
                encoder = None if action.binary else ASCIIEncoder().feed
                producer = FileProducer(file, action.offset, encoder)
                transfer.sender = producer
                sending = producer.start(transport)
        else:
            transport.write(payload)
            transfer.listed = len(payload)
            sending = defer.succeed(len(payload))

        def sent(_: object) -> Deferred[None]:
            transport.loseConnection()
            return data.whenClosed()

        return sending.addCallback(sent)

    def _receive(self, data: DataProtocol, file: IO[bytes], binary: bool) -> Deferred[None]:
        decoder = None if binary else ASCIIDecoder()

        def write(chunk: bytes) -> None:
            file.write(chunk if decoder is None else decoder.feed(chunk))

        data.receiveInto(write)

        def closed(_: None) -> None:
            if decoder is not None:
                file.write(decoder.flush())
            # The upload is on disk before the 226 acknowledges it.
            file.flush()
            os.fsync(file.fileno())

        return data.whenClosed().addCallback(closed)

    def _transferDone(
        self, transfer: RunningTransfer, file: IO[bytes] | None, failure: Failure | None
    ) -> None:
        if file is not None:
            try:
                file.close()
            except OSError:
                pass
        self._transfer = None
        if failure is None:
            self.note(f"transfer done: {transfer.bytes} bytes")
            self.reply(Reply.of(ReplyCode.CLOSING_DATA, "Transfer complete"))
        elif transfer.aborted:
            self.reply(Reply.of(ReplyCode.TRANSFER_ABORTED, "Transfer aborted"))
            self.reply(Reply.of(ReplyCode.CLOSING_DATA, "ABOR successful"))
        elif transfer.data is None:
            self.reply(
                Reply.of(
                    ReplyCode.CANT_OPEN_DATA,
                    f"Cannot open data connection: {failure.getErrorMessage()}",
                )
            )
        else:
            self.reply(
                Reply.of(
                    ReplyCode.TRANSFER_ABORTED,
                    f"Connection closed; transfer aborted: {failure.getErrorMessage()}",
                )
            )
        if self._quitting:
            self._closeWith(Reply.of(ReplyCode.CLOSING_CONTROL, "Goodbye"))
            return
        self._setBusy(False)


def _verbOf(line: bytes) -> str:
    return line.split(b" ", 1)[0].decode("ascii", "replace").upper()


class FTPServerFactory(ServerFactory[FTPControlProtocol]):
    """
    Makes an L{FTPControlProtocol} for every control connection, and holds
    the server's configuration.

    @ivar portal: checks logins and gives each user a L{UserFilesystem}.
    @ivar tlsOptions: the server's TLS options for C{AUTH TLS}, or L{None}.
    @ivar passivePorts: the ports C{PASV}/C{EPSV} may listen on (empty:
        any).
    @ivar passiveAddress: the address a C{227} reply names (for a server
        behind NAT); by default the control connection's local address.
    @ivar dataPort: the local port active data connections come from (20
        in RFC 959; 0: any).
    """

    protocol = FTPControlProtocol

    def __init__(
        self,
        portal: Portal,
        anonymous: bool = False,
        tlsOptions: IOpenSSLServerConnectionCreator | None = None,
        passivePorts: Sequence[int] = (),
        passiveAddress: str | None = None,
        dataPort: int = 0,
        plaintextLogin: bool = True,
        greeting: str = "netref FTP server ready",
        idleTimeout: float = IDLE_TIMEOUT,
        dataTimeout: float = DATA_TIMEOUT,
        maxConnections: int = MAX_CONNECTIONS,
        maxLoginFailures: int = MAX_LOGIN_FAILURES,
        loginFailureDelay: float = LOGIN_FAILURE_DELAY,
        maxErrors: int = MAX_ERRORS,
        reactor: Any = None,
    ) -> None:
        if reactor is None:
            from twisted.internet import reactor as globalReactor

            reactor = globalReactor
        self.portal = portal
        self.anonymous = anonymous
        self.tlsOptions = tlsOptions
        self.passivePorts = list(passivePorts)
        self.passiveAddress = passiveAddress
        self.dataPort = dataPort
        self.plaintextLogin = plaintextLogin
        self.greeting = greeting
        self.idleTimeout = idleTimeout
        self.dataTimeout = dataTimeout
        self.maxConnections = maxConnections
        self.maxLoginFailures = maxLoginFailures
        self.loginFailureDelay = loginFailureDelay
        self.maxErrors = maxErrors
        self.reactor = reactor
        self.clock: IReactorTime = reactor
        self.connections = 0


def makeServerFactory(
    root: str,
    checker: ICredentialsChecker | None = None,
    anonymous: bool = False,
    anonymousRoot: str | None = None,
    **kwargs: Any,
) -> FTPServerFactory:
    """
    An FTP server for the files under C{root}: what an embedding program
    calls.

    @param root: the directory users with accounts see, writable.
    @param checker: checks account names and passwords
        (L{netref.core.auth.MemoryPasswordChecker}, ...), or L{None} for no
        accounts.
    @param anonymous: whether anonymous users may log in, read-only.
    @param anonymousRoot: their directory (C{root} by default).
    @param kwargs: the other arguments of L{FTPServerFactory}.
    """
    portal = makePortal(FTPRealm(root, anonymousRoot), checker, anonymous)
    return FTPServerFactory(portal, anonymous=anonymous, **kwargs)
