"""
Talking to a real program from a test: start it, write to it, wait for what
it prints, and always end it.
"""

from __future__ import annotations

import os

from twisted.internet import defer, error, protocol
from twisted.python.failure import Failure


class Conversation(protocol.ProcessProtocol):
    """
    A child process a test converses with.

    @ivar output: everything the program wrote to standard output so far.
    @ivar errors: everything it wrote to standard error so far.
    @ivar ended: fires with the exit code when the process has ended.
    """

    def __init__(self) -> None:
        self.output = b""
        self.errors = b""
        self.ended: defer.Deferred[int] = defer.Deferred()
        self._waiting: list[tuple[bytes, defer.Deferred[bytes]]] = []

    def outReceived(self, data: bytes) -> None:
        self.output += data
        for pair in list(self._waiting):
            if pair[0] in self.output:
                self._waiting.remove(pair)
                pair[1].callback(self.output)

    def errReceived(self, data: bytes) -> None:
        self.errors += data

    def untilOutput(self, expected: bytes) -> defer.Deferred[bytes]:
        """
        @return: a Deferred that fires with all output once C{expected} has
            been printed, or fails if the process ends first.
        """
        d: defer.Deferred[bytes] = defer.Deferred()
        if expected in self.output:
            d.callback(self.output)
        elif self.ended.called:
            d.errback(AssertionError(f"process ended without printing {expected!r}"))
        else:
            self._waiting.append((expected, d))
        return d

    def processEnded(self, reason: Failure) -> None:
        code = reason.value.exitCode if isinstance(reason.value, error.ProcessTerminated) else 0
        for expected, d in self._waiting:
            d.errback(
                AssertionError(
                    f"process ended ({code}) without printing {expected!r}; "
                    f"stdout={self.output!r} stderr={self.errors!r}"
                )
            )
        self._waiting = []
        self.ended.callback(code if code is not None else -1)

    def stop(self) -> defer.Deferred[int]:
        """
        End the process if it still runs; fires when it has ended.
        """
        if not self.ended.called and self.transport is not None:
            try:
                self.transport.signalProcess("KILL")
            except error.ProcessExitedAlready:
                pass
        return self.ended


def converse(reactor, executable: str, arguments: list[str], testCase) -> Conversation:
    """
    Start C{executable} with C{arguments}; the test case's clean-up ends it.
    """
    conversation = Conversation()
    reactor.spawnProcess(conversation, executable, [executable, *arguments], env=dict(os.environ))
    testCase.addCleanup(conversation.stop)
    return conversation
