"""
Durable files: what netref writes before it says "done".

DESIGN.md's rule: durable data is written atomically (to a temporary name,
fsync, rename) before the protocol acknowledges it.  A reader, or the same
program after a crash, then sees either the old file or the new one, never a
mixture.  Password files, TLS keys, and later mail queues, leases and zone
state all go through L{writeAtomically}.
"""

from __future__ import annotations

import os

from twisted.python.filepath import FilePath


def fsyncDirectory(directory: str) -> None:
    """
    Make a rename in C{directory} durable: a rename is a change to the
    directory, which has its own data to flush.  File systems that cannot
    fsync a directory are let be.
    """
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def writeAtomically(
    path: str | os.PathLike[str] | FilePath[str], content: bytes, private: bool = False
) -> None:
    """
    Replace the file at C{path} with C{content} in one step: write a
    temporary sibling, fsync it, rename it over C{path}, fsync the directory.

    @param path: the file to create or replace.
    @param content: its new bytes.
    @param private: whether the file is readable by its owner only (mode
        0600), as a private key or a password file must be.  Other files get
        0644, less what the umask takes away.
    @raise OSError: if any step fails; C{path} is then untouched and the
        temporary file removed.
    """
    target = os.fspath(path.path if isinstance(path, FilePath) else path)
    directory = os.path.dirname(os.path.abspath(target))
    temporary = FilePath(target).temporarySibling(".tmp").path
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600 if private else 0o644)
    try:
        try:
            if private:
                # The umask can only take bits away; make the mode exact.
                os.fchmod(fd, 0o600)
            view = memoryview(content)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temporary, target)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise
    fsyncDirectory(directory)
