"""
A user's view of the server's files: a root directory that nothing escapes.

The control connection names files by paths relative to the user's root
(L{netref.ftp.wire.resolvePath} has already removed C{..} and made them
absolute).  L{UserFilesystem} maps such a path onto the real directory
tree, and refuses any path whose real location, after symbolic links,
lies outside the root: a link in an upload area pointing at C{/etc} must
not let a user read or write there.

The operations are plain, blocking system calls on the local disk, as a
C server makes them; each raises L{FilesystemError} with the FTP reply
code that fits (RFC 959 section 4.2: 550 for a missing or forbidden file,
553 for a bad name, 452 for a full disk).
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass
from typing import IO

from netref.ftp.wire import ReplyCode, unique


class FilesystemError(Exception):
    """
    A file operation failed.

    @ivar code: the FTP reply code to answer with.
    """

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


def _errorFor(e: OSError, path: str) -> FilesystemError:
    """
    @return: the L{FilesystemError} for an C{OSError} on the virtual C{path}.
    """
    if e.errno in (errno.ENOSPC, errno.EDQUOT):
        return FilesystemError(ReplyCode.INSUFFICIENT_STORAGE, f"{path}: no space left")
    if e.errno == errno.ENAMETOOLONG:
        return FilesystemError(ReplyCode.BAD_FILE_NAME, f"{path}: name too long")
    reason = {
        errno.ENOENT: "no such file or directory",
        errno.EEXIST: "already exists",
        errno.EACCES: "permission denied",
        errno.EPERM: "permission denied",
        errno.ENOTDIR: "not a directory",
        errno.EISDIR: "is a directory",
        errno.ENOTEMPTY: "directory not empty",
    }.get(e.errno or 0, e.strerror or "failed")
    return FilesystemError(ReplyCode.FILE_UNAVAILABLE, f"{path}: {reason}")


@dataclass(frozen=True)
class Entry:
    """
    One file or directory, as listings show it.

    @ivar name: its name (the last part of its path).
    @ivar stat: its C{os.stat} result (following symbolic links).
    """

    name: str
    stat: os.stat_result

    @property
    def isDirectory(self) -> bool:
        return stat.S_ISDIR(self.stat.st_mode)

    @property
    def isFile(self) -> bool:
        return stat.S_ISREG(self.stat.st_mode)


class UserFilesystem:
    """
    The files one user sees: everything below C{root}.

    @ivar root: the real path of the root directory.
    @ivar writable: whether the user may change anything.
    """

    def __init__(self, root: str, writable: bool) -> None:
        """
        @param root: the directory that is C{/} to the user.
        @param writable: whether uploads, deletes, renames and new
            directories are allowed.
        """
        self.root = os.path.realpath(root)
        self.writable = writable

    def realPath(self, path: str) -> str:
        """
        The real path of the virtual C{path}, checked to lie within the root.

        The last component need not exist (an upload's target); everything
        before it is resolved through symbolic links, and so is the last
        one when it exists.

        @param path: an absolute virtual path from L{resolvePath}.
        @raise FilesystemError: 550 if it leads outside the root.
        """
        parts = [p for p in path.split("/") if p]
        real = os.path.realpath(os.path.join(self.root, *parts))
        if real != self.root and not real.startswith(self.root + os.sep):
            raise FilesystemError(ReplyCode.FILE_UNAVAILABLE, f"{path}: outside your root")
        return real

    def _checkWritable(self, path: str) -> None:
        if not self.writable:
            raise FilesystemError(ReplyCode.FILE_UNAVAILABLE, f"{path}: permission denied")

    def stat(self, path: str) -> os.stat_result:
        """
        @raise FilesystemError: 550 if it does not exist.
        """
        try:
            return os.stat(self.realPath(path))
        except OSError as e:
            raise _errorFor(e, path) from None

    def entry(self, path: str) -> Entry:
        """
        @return: the L{Entry} for C{path}.
        """
        name = path.rstrip("/").rsplit("/", 1)[-1] or "/"
        return Entry(name, self.stat(path))

    def isDirectory(self, path: str) -> bool:
        """
        @return: whether C{path} is a directory one may enter.
        """
        try:
            return stat.S_ISDIR(self.stat(path).st_mode)
        except FilesystemError:
            return False

    def list(self, path: str) -> list[Entry]:
        """
        The entries of directory C{path}, sorted by name; entries that lead
        outside the root, or vanish while listed, are left out.

        @raise FilesystemError: 550 if it is not a readable directory.
        """
        real = self.realPath(path)
        try:
            names = sorted(os.listdir(real))
        except OSError as e:
            raise _errorFor(e, path) from None
        entries = []
        for name in names:
            child = os.path.join(real, name)
            target = os.path.realpath(child)
            if target != self.root and not target.startswith(self.root + os.sep):
                continue
            try:
                entries.append(Entry(name, os.stat(child)))
            except OSError:
                continue
        return entries

    def openForReading(self, path: str) -> IO[bytes]:
        """
        @return: the regular file C{path}, open for reading.
        @raise FilesystemError: 550 if it is missing or not a regular file.
        """
        real = self.realPath(path)
        try:
            f = open(real, "rb")  # noqa: SIM115 - the transfer closes it
        except OSError as e:
            raise _errorFor(e, path) from None
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            f.close()
            raise FilesystemError(ReplyCode.FILE_UNAVAILABLE, f"{path}: not a plain file")
        return f

    def openForWriting(self, path: str, offset: int = 0, append: bool = False) -> IO[bytes]:
        """
        Open C{path} to receive an upload.

        @param offset: with C{REST}: keep the first C{offset} bytes and
            write from there (RFC 3659 section 5.5); 0 replaces the file.
        @param append: C{APPE}: write at the end (RFC 959 section 4.1.3).
        @raise FilesystemError: 550 if the user may not write there.
        """
        self._checkWritable(path)
        real = self.realPath(path)
        try:
            if os.path.isdir(real):
                raise FilesystemError(ReplyCode.FILE_UNAVAILABLE, f"{path}: is a directory")
            if append:
                return open(real, "ab")  # noqa: SIM115
            if offset:
                f = open(real, "r+b")  # noqa: SIM115
                f.truncate(offset)
                f.seek(offset)
                return f
            return open(real, "wb")  # noqa: SIM115
        except OSError as e:
            raise _errorFor(e, path) from None

    def uniqueName(self, directory: str, base: str = "upload") -> str:
        """
        @return: a path in C{directory} that names no file yet (C{STOU}).
        """
        names = [e.name for e in self.list(directory)]
        return directory.rstrip("/") + "/" + unique(names, base)

    def makeDirectory(self, path: str) -> None:
        """
        C{MKD}.
        """
        self._checkWritable(path)
        try:
            os.mkdir(self.realPath(path))
        except OSError as e:
            raise _errorFor(e, path) from None

    def removeDirectory(self, path: str) -> None:
        """
        C{RMD}: the root itself cannot go.
        """
        self._checkWritable(path)
        real = self.realPath(path)
        if real == self.root:
            raise FilesystemError(ReplyCode.FILE_UNAVAILABLE, "/: cannot remove the root")
        try:
            os.rmdir(real)
        except OSError as e:
            raise _errorFor(e, path) from None

    def remove(self, path: str) -> None:
        """
        C{DELE}: files only.
        """
        self._checkWritable(path)
        real = self.realPath(path)
        if os.path.isdir(real):
            raise FilesystemError(ReplyCode.FILE_UNAVAILABLE, f"{path}: is a directory")
        try:
            os.remove(real)
        except OSError as e:
            raise _errorFor(e, path) from None

    def rename(self, source: str, target: str) -> None:
        """
        C{RNFR}/C{RNTO}: the root cannot be moved.
        """
        self._checkWritable(target)
        realSource, realTarget = self.realPath(source), self.realPath(target)
        if realSource == self.root:
            raise FilesystemError(ReplyCode.FILE_UNAVAILABLE, "/: cannot rename the root")
        try:
            os.rename(realSource, realTarget)
        except OSError as e:
            raise _errorFor(e, target) from None
