"""
Tests for L{netref.core.durable}.
"""

import os
import stat

from twisted.python.filepath import FilePath
from twisted.trial.unittest import SynchronousTestCase

from netref.core.durable import writeAtomically


class WriteAtomicallyTests(SynchronousTestCase):
    """
    L{writeAtomically} replaces a file in one step, durably.
    """

    def setUp(self) -> None:
        self.directory = FilePath(self.mktemp())
        self.directory.makedirs()
        self.target = self.directory.child("file")

    def test_createsAndReplaces(self) -> None:
        writeAtomically(self.target.path, b"first")
        inode = os.stat(self.target.path).st_ino
        writeAtomically(self.target, b"second")
        self.assertEqual(self.target.getContent(), b"second")
        self.assertNotEqual(os.stat(self.target.path).st_ino, inode)
        self.assertEqual(self.directory.listdir(), ["file"])

    def test_privateMode(self) -> None:
        writeAtomically(self.target, b"secret", private=True)
        self.assertEqual(stat.S_IMODE(os.stat(self.target.path).st_mode), 0o600)

    def test_fsyncsFileThenDirectory(self) -> None:
        synced: list[str] = []
        realFsync = os.fsync

        def fsync(fd: int) -> None:
            synced.append("dir" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file")
            realFsync(fd)

        self.patch(os, "fsync", fsync)
        writeAtomically(self.target, b"data")
        self.assertEqual(synced, ["file", "dir"])

    def test_failureKeepsOldFile(self) -> None:
        """
        If the rename fails, the old content is intact and the temporary
        file is gone.
        """
        self.target.setContent(b"old")

        def failingReplace(source: str, destination: str) -> None:
            raise OSError("disk on fire")

        self.patch(os, "replace", failingReplace)
        self.assertRaises(OSError, writeAtomically, self.target, b"new", True)
        self.assertEqual(self.target.getContent(), b"old")
        self.assertEqual(self.directory.listdir(), ["file"])
