"""
Tests for L{netref.core.datagram}.
"""

import errno

from twisted.trial.unittest import SynchronousTestCase

from netref.core.datagram import pendingError


class _Socket:
    def __init__(self, code: int | None) -> None:
        self.code = code

    def getsockopt(self, level: int, option: int) -> int:
        if self.code is None:
            raise OSError(errno.EBADF, "closed")
        return self.code


class _Port:
    def __init__(self, sock: _Socket | None) -> None:
        self.socket = sock


class PendingErrorTests(SynchronousTestCase):
    """
    L{pendingError} reads the error a stopped UDP port's socket holds.
    """

    def test_refused(self) -> None:
        self.assertEqual(pendingError(_Port(_Socket(errno.ECONNREFUSED))), errno.ECONNREFUSED)

    def test_otherError(self) -> None:
        self.assertEqual(pendingError(_Port(_Socket(errno.EHOSTUNREACH))), errno.EHOSTUNREACH)

    def test_noErrorCountsAsRefused(self) -> None:
        self.assertEqual(pendingError(_Port(_Socket(0))), errno.ECONNREFUSED)

    def test_unreadableCountsAsRefused(self) -> None:
        self.assertEqual(pendingError(_Port(_Socket(None))), errno.ECONNREFUSED)
        self.assertEqual(pendingError(_Port(None)), errno.ECONNREFUSED)
        self.assertEqual(pendingError(object()), errno.ECONNREFUSED)
