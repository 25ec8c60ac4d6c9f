"""
Sending files on data connections: with C{os.sendfile} when the bytes go
out unchanged, with a streaming producer otherwise.

A plain binary download is the case where a server can let the kernel do
all the work: C{sendfile(2)} copies from the page cache to the socket with
no trip through user space, which is what makes the C servers fast.
Twisted has no sendfile, so L{SendfileWriter} takes the data connection's
socket over for the length of the transfer:

  1. it checks that Twisted's own write buffer for the connection is
     empty (anything buffered there would otherwise go out after the
     file), and stops the transport reading (nothing is expected from the
     client on a download's data connection);
  2. it registers itself with the reactor as a writer for the socket's
     file descriptor, and each time the socket is writable calls
     C{os.sendfile} on it, non-blocking, until it would block (C{EAGAIN}:
     back to the reactor) or the file is sent;
  3. it unregisters and gives the socket back to the transport, which
     then closes it as usual.

A socket error (the client went away) ends the transfer with a failure
and aborts the connection.  Because it gives control back to the reactor
whenever the socket's buffer is full, the control connection is served
between two calls: C{ABOR} and C{STAT} work during a download.

Everything else, TLS-protected data connections and C{TYPE A}
conversion, goes through L{FileProducer}, a pull producer that reads one
chunk each time the transport has sent the last: the file is never read
into memory whole.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import IO, Any

from twisted.internet import error
from twisted.internet.defer import Deferred
from twisted.internet.interfaces import (
    IConsumer,
    IPullProducer,
    IReactorFDSet,
    ITransport,
    IWriteDescriptor,
)
from twisted.python.failure import Failure
from zope.interface import implementer

#: Bytes asked of one C{sendfile} call; the kernel sends what fits in the
#: socket's buffer.
SENDFILE_CHUNK = 1 << 24

#: C{sendfile} calls made for one writable event before returning to the
#: reactor, so that other connections get their turn.
SENDFILE_CALLS = 8

#: Bytes read per step by L{FileProducer}.
READ_CHUNK = 1 << 18


def sendfileUsable(transport: ITransport) -> bool:
    """
    Whether L{SendfileWriter} can send on C{transport}: a plain TCP
    connection (no TLS layer between the file and the socket) on a
    platform with C{os.sendfile}, whose write buffer is empty.
    """
    from twisted.internet.interfaces import ISSLTransport

    if not hasattr(os, "sendfile") or ISSLTransport.providedBy(transport):
        return False
    getHandle: Any = getattr(transport, "getHandle", None)
    if getHandle is None or not hasattr(getHandle(), "fileno"):
        return False
    return _bufferedBytes(transport) == 0 and hasattr(transport, "stopReading")


def _bufferedBytes(transport: object) -> int:
    """
    @return: how many bytes Twisted still holds for C{transport}
        (L{twisted.internet.abstract.FileDescriptor}'s two buffers).
    """
    data: Any = getattr(transport, "dataBuffer", b"")
    offset: int = getattr(transport, "offset", 0)
    temporary: int = getattr(transport, "_tempDataLen", 0)
    return len(data) - offset + temporary


@implementer(IWriteDescriptor)
class SendfileWriter:
    """
    Sends a file on a TCP connection with C{os.sendfile}.

    @ivar sent: bytes sent so far.
    """

    def __init__(
        self,
        reactor: IReactorFDSet,
        transport: Any,
        file: IO[bytes],
        offset: int = 0,
    ) -> None:
        """
        @param reactor: the reactor whose writer set it joins.
        @param transport: the data connection (see L{sendfileUsable}).
        @param file: the file, open for reading; not closed here.
        @param offset: where to start (C{REST}).
        """
        self._reactor = reactor
        self._transport: Any = transport
        self._socket: Any = self._transport.getHandle()
        self._file = file
        self._offset = offset
        self._end = os.fstat(file.fileno()).st_size
        self.sent = 0
        self._done: Deferred[int] | None = None
        self._registered = False

    def start(self) -> Deferred[int]:
        """
        Take the socket over and start sending.

        @return: fires with the bytes sent once the file is sent, or fails
            if the connection breaks or L{stop} is called.
        """
        if _bufferedBytes(self._transport) != 0:
            raise RuntimeError("the transport's write buffer must be empty")
        self._done = Deferred()
        self._transport.stopReading()
        self._fileno = self._socket.fileno()
        if self._offset >= self._end:
            self._finish()
        else:
            self._registered = True
            self._reactor.addWriter(self)
        return self._done

    def fileno(self) -> int:
        """
        @return: the socket's file descriptor, for the reactor.
        """
        return self._fileno

    def logPrefix(self) -> str:
        return "SendfileWriter"

    def doWrite(self) -> Failure | None:
        """
        The socket is writable: send until it would block or the file is
        sent.
        """
        for _ in range(SENDFILE_CALLS):
            try:
                count = os.sendfile(
                    self._fileno,
                    self._file.fileno(),
                    self._offset,
                    min(SENDFILE_CHUNK, self._end - self._offset),
                )
            except BlockingIOError:
                return None
            except OSError as e:
                return Failure(error.ConnectionLost(f"sendfile: {e.strerror}"))
            if count == 0:
                # The file shrank while it was sent: end at what it holds.
                self._end = self._offset
            self._offset += count
            self.sent += count
            if self._offset >= self._end:
                self._finish()
                return None
        return None

    def _unregister(self) -> None:
        if self._registered:
            self._registered = False
            self._reactor.removeWriter(self)

    def _finish(self) -> None:
        self._unregister()
        self._transport.startReading()
        done, self._done = self._done, None
        if done is not None:
            done.callback(self.sent)

    def connectionLost(self, reason: Failure) -> None:
        """
        The reactor dropped this writer after a socket error: fail the
        transfer and abort the connection.
        """
        self._registered = False
        done, self._done = self._done, None
        self._transport.startReading()
        self._transport.abortConnection()
        if done is not None:
            done.errback(reason)

    def stop(self) -> None:
        """
        Stop sending (C{ABOR}); the transfer fails with
        L{error.ConnectionAborted}.  The caller aborts the connection.
        """
        if self._done is None:
            return
        self._unregister()
        self._transport.startReading()
        done, self._done = self._done, None
        done.errback(Failure(error.ConnectionAborted("transfer aborted")))


@implementer(IPullProducer)
class FileProducer:
    """
    Streams a file to a consumer a chunk at a time, through an optional
    conversion (C{TYPE A}, L{netref.ftp.wire.ASCIIEncoder}).

    @ivar sent: bytes of the file read and sent so far.
    """

    def __init__(
        self,
        file: IO[bytes],
        offset: int = 0,
        convert: Callable[[bytes], bytes] | None = None,
    ) -> None:
        self._file = file
        self._file.seek(offset)
        self._convert = convert
        self._consumer: IConsumer | None = None
        self._done: Deferred[int] | None = None
        self.sent = 0

    def start(self, consumer: IConsumer) -> Deferred[int]:
        """
        Start streaming into C{consumer}.

        @return: fires with the bytes read once the file is sent (all of it
            handed to the consumer), or fails if L{stopProducing} is called.
        """
        self._consumer = consumer
        self._done = Deferred()
        consumer.registerProducer(self, False)
        return self._done

    def resumeProducing(self) -> None:
        """
        The consumer wants more: send one chunk, or finish.
        """
        if self._consumer is None or self._done is None:
            return
        chunk = self._file.read(READ_CHUNK)
        if not chunk:
            consumer, self._consumer = self._consumer, None
            consumer.unregisterProducer()
            done, self._done = self._done, None
            done.callback(self.sent)
            return
        self.sent += len(chunk)
        self._consumer.write(self._convert(chunk) if self._convert else chunk)

    def stopProducing(self) -> None:
        """
        The connection went away, or the transfer was aborted.
        """
        done, self._done = self._done, None
        if self._consumer is not None:
            consumer, self._consumer = self._consumer, None
            try:
                consumer.unregisterProducer()
            except Exception:
                pass
        if done is not None:
            done.errback(Failure(error.ConnectionAborted("transfer stopped")))
