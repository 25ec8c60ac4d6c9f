"""
Mailboxes as Maildirs, which mutt, Dovecot and Python's C{mailbox} module
can open.

The textbook's mail server keeps a mailbox per user (section 2.3).  netref
keeps each as a Maildir (D. J. Bernstein, U{https://cr.yp.to/proto/maildir.html}),
because a Maildir needs no locks: every message is its own file, and a file
appears in the mailbox in one atomic step.

Layout, under the store's root::

    ROOT/alice/             the user's Maildir: her INBOX
        tmp/ new/ cur/      messages being written, not yet seen, seen
        netref-uids         UIDVALIDITY, the next UID, and each message's UID
        .Sent/              a folder (Maildir++): a Maildir of its own, with
            maildirfolder   the empty marker file Maildir++ asks for
            tmp/ new/ cur/
            netref-uids
        .Archive.2024/      folder "Archive.2024": "." separates levels

Delivery (L{MaildirFolder.deliver}) follows the Maildir rules: write the
message under a unique name in C{tmp/}, fsync it, rename it into C{new/},
then fsync C{new/} so the rename itself survives a crash.  Only then does
the SMTP server say 250 (RFC 5321 section 6.1).  A crash midway leaves at
most a file in C{tmp/}, which no reader looks at.

A unique name is C{SECONDS.MmicrosecondsPpidQcounter.HOST}, the Maildir
spec's modern form, with C{"/"} and C{":"} in the host name written as
C{"\\057"} and C{"\\072"}.  netref adds C{",S=size,W=size"}, Dovecot's
extensions: the file's size, and its size with CRLF line endings, which is
what POP3 and IMAP count (so they need not read the file to say it).
Messages are stored with LF line endings, the Unix convention the Maildir
readers expect.  Once a message is in C{cur/} its flags are part of its
name, after C{":2,"}, in ASCII order: C{D}raft, C{F}lagged, C{P}assed,
C{R}eplied, C{S}een, C{T}rashed.

UIDs: POP3's UIDL (RFC 1939 section 7) and IMAP's UIDs (RFC 9051 section
2.3.1.1) must name a message the same way across sessions, and IMAP pairs
them with a UIDVALIDITY that changes if the UIDs ever start again.  A
Maildir file's name is stable but not a number, so each folder keeps
C{netref-uids} beside its C{cur/}: UIDs are handed out, in delivery order,
when the folder is listed (L{MaildirFolder.messages}), and the file is
rewritten atomically (L{netref.core.durable.writeAtomically}) whenever that
changes it.  If the file is lost, the folder gets a new UIDVALIDITY (the
current time, as Dovecot does), which tells IMAP clients to forget their
cache.

Folder names are given with C{"."} between levels, and non-ASCII names
are stored in IMAP's modified UTF-7 (RFC 9051 section 5.1.3), as Dovecot
does, so C{"已发送"} is the directory C{.&XfJT0ZAB-}.

Everything here is blocking file-system work, done on the caller's
thread; each call is short (one message).
"""

from __future__ import annotations

import base64
import errno
import fcntl
import itertools
import os
import re
import socket
import time
from dataclasses import dataclass

from netref.core.durable import fsyncDirectory, writeAtomically

__all__ = [
    "INBOX",
    "FolderError",
    "Maildir",
    "MaildirFolder",
    "MaildirStore",
    "MessageInfo",
    "decodeFolderName",
    "encodeFolderName",
    "uniqueName",
]

#: The name of the Maildir's root folder.
INBOX = "INBOX"

#: The file, in each folder, that holds its UIDs.
UIDS_FILE = "netref-uids"

#: The first line of L{UIDS_FILE} starts with this, then the format version.
_UIDS_MAGIC = "netref-uids"
_UIDS_VERSION = 1

#: The flags the Maildir spec defines (and Dovecot's lowercase keywords).
_FLAG = re.compile(r"[A-Za-z]*\Z")

_counter = itertools.count(1)

#: The clock of new UIDVALIDITY values (replaced by tests).
_now = time.time


class FolderError(ValueError):
    """
    A folder name that cannot be a Maildir++ folder, or a folder that does
    not exist (or already does).
    """


def _escapedHost() -> str:
    """
    This host's name, with C{"/"} and C{":"} escaped as the Maildir spec
    asks (they would end the name or start its flags).
    """
    return socket.gethostname().replace("/", "\\057").replace(":", "\\072")


def uniqueName(now: float | None = None) -> str:
    """
    A new unique file name: C{SECONDS.MmicrosecondsPpidQcounter.HOST}.

    Unique because no two deliveries on one host share a process and a
    counter value, and the time tells apart processes that reuse an id.
    """
    if now is None:
        now = time.time()
    seconds = int(now)
    micro = int((now - seconds) * 1_000_000)
    return f"{seconds}.M{micro}P{os.getpid()}Q{next(_counter)}.{_escapedHost()}"


# Modified UTF-7 (RFC 9051 section 5.1.3) --------------------------------------


def encodeFolderName(name: str) -> str:
    """
    Encode a folder name in modified UTF-7: printable ASCII stands for
    itself (C{"&"} as C{"&-"}); runs of other characters become C{"&"},
    their UTF-16BE in base64 with C{","} for C{"/"} and no padding, C{"-"}.
    """
    out: list[str] = []
    run: list[str] = []

    def flush() -> None:
        if run:
            raw = "".join(run).encode("utf-16-be")
            out.append("&" + base64.b64encode(raw).decode().rstrip("=").replace("/", ",") + "-")
            run.clear()

    for char in name:
        if 0x20 <= ord(char) <= 0x7E:
            flush()
            out.append("&-" if char == "&" else char)
        else:
            run.append(char)
    flush()
    return "".join(out)


def decodeFolderName(encoded: str) -> str:
    """
    The inverse of L{encodeFolderName}.

    @raise FolderError: for a malformed encoding.
    """

    def decodeRun(match: re.Match[str]) -> str:
        text = match[1]
        if not text:
            return "&"
        padded = text.replace(",", "/") + "=" * (-len(text) % 4)
        try:
            return base64.b64decode(padded, validate=True).decode("utf-16-be")
        except (ValueError, UnicodeDecodeError):
            raise FolderError(f"bad modified UTF-7: {encoded!r}") from None

    if re.search(r"&(?![A-Za-z0-9+,]*-)", encoded):
        raise FolderError(f"bad modified UTF-7: {encoded!r}")
    return re.sub(r"&([A-Za-z0-9+,]*)-", decodeRun, encoded)


def _checkFolderName(name: str) -> None:
    if name.upper() == INBOX:
        raise FolderError("INBOX is the Maildir itself, not a folder")
    if not name or "/" in name or name.startswith(".") or name.endswith(".") or ".." in name:
        raise FolderError(f"bad folder name: {name!r}")
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in name):
        raise FolderError(f"bad folder name: {name!r}")


# Messages ------------------------------------------------------------------------


@dataclass(frozen=True)
class MessageInfo:
    """
    One message of a folder, as listed.

    @ivar uid: its UID in the folder (stable while L{MaildirFolder.uidValidity}
        is unchanged).
    @ivar key: its unique name, without flags: the name to give the
        folder's other methods.
    @ivar flags: its Maildir flags, in ASCII order (C{""} while in C{new/}).
    @ivar path: the file.
    @ivar size: the file's size, in octets (LF line endings).
    @ivar recent: whether it is still in C{new/}: no reader has seen it.
    """

    uid: int
    key: str
    flags: str
    path: str
    size: int
    recent: bool


def _splitName(name: str) -> tuple[str, str]:
    """
    Split a file name into its key and its flags (C{""} if it has no
    C{":2,"} part).
    """
    key, _, info = name.partition(":")
    return key, info[2:] if info.startswith("2,") else ""


def _normalizeFlags(flags: str) -> str:
    if not _FLAG.match(flags):
        raise ValueError(f"bad Maildir flags: {flags!r}")
    return "".join(sorted(set(flags)))


def _timeOrder(key: str) -> tuple[int, str]:
    seconds, _, _ = key.partition(".")
    return (int(seconds) if seconds.isdigit() else 0, key)


def _toLF(message: bytes) -> bytes:
    return message.replace(b"\r\n", b"\n")


class MaildirFolder:
    """
    One Maildir (the INBOX or a Maildir++ folder): its messages, their
    flags and their UIDs.

    @ivar path: the directory holding C{tmp/}, C{new/} and C{cur/}.
    @ivar name: the folder's name (L{INBOX} for the root).
    """

    def __init__(self, path: str, name: str = INBOX) -> None:
        self.path = path
        self.name = name

    def exists(self) -> bool:
        """
        Whether the folder's three directories are there.
        """
        return all(os.path.isdir(os.path.join(self.path, d)) for d in ("tmp", "new", "cur"))

    def create(self) -> None:
        """
        Make the folder's directories (mode 0700: mail is private), if
        missing.
        """
        for sub in ("", "tmp", "new", "cur"):
            os.makedirs(os.path.join(self.path, sub), mode=0o700, exist_ok=True)

    # Delivery ----------------------------------------------------------------

    def _writeFile(self, path: str, data: bytes) -> None:
        """
        Create C{path} (it must not exist), write C{data}, fsync.
        """
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)

    def deliver(self, message: bytes, flags: str | None = None) -> str:
        """
        Add a message, atomically and durably: write it in C{tmp/}, fsync,
        rename into C{new/} (or into C{cur/} with C{flags}, for a message
        the user has already seen, such as a copy of sent mail), fsync
        that directory.

        @param message: the message, with CRLF or LF line endings; stored
            with LF.
        @param flags: L{None} to deliver as new mail; else its flags.
        @return: the message's key.
        @raise OSError: when the disk fails; nothing is then in C{new/} or
            C{cur/}, and the temporary file is removed if possible.
        """
        data = _toLF(message)
        virtual = len(data) + data.count(b"\n")
        key = f"{uniqueName()},S={len(data)},W={virtual}"
        temporary = os.path.join(self.path, "tmp", key)
        if flags is None:
            subdir, final = "new", key
        else:
            subdir, final = "cur", f"{key}:2,{_normalizeFlags(flags)}"
        try:
            self._writeFile(temporary, data)
            os.rename(temporary, os.path.join(self.path, subdir, final))
        except BaseException:
            try:
                os.unlink(temporary)
            except OSError:
                pass
            raise
        fsyncDirectory(os.path.join(self.path, subdir))
        return key

    def cleanTemporary(self, olderThan: float = 36 * 3600, now: float | None = None) -> int:
        """
        Remove files left in C{tmp/} by deliveries that crashed, once they
        are older than C{olderThan} seconds (the Maildir spec says 36
        hours: a delivery in progress is never that old).

        @return: how many files were removed.
        """
        if now is None:
            now = time.time()
        removed = 0
        directory = os.path.join(self.path, "tmp")
        for name in os.listdir(directory):
            path = os.path.join(directory, name)
            try:
                if now - os.stat(path).st_mtime > olderThan:
                    os.unlink(path)
                    removed += 1
            except FileNotFoundError:
                continue
        return removed

    # Listing and UIDs ----------------------------------------------------------

    def _scan(self) -> dict[str, tuple[str, str, str]]:
        """
        Key to C{(subdirectory, file name, flags)} for every message.
        """
        found: dict[str, tuple[str, str, str]] = {}
        for subdir in ("new", "cur"):
            for name in os.listdir(os.path.join(self.path, subdir)):
                if name.startswith("."):
                    continue
                key, flags = _splitName(name)
                found[key] = (subdir, name, flags if subdir == "cur" else "")
        return found

    def _readUIDs(self) -> tuple[int, int, dict[str, int]] | None:
        """
        The UID file's UIDVALIDITY, next UID and key-to-UID map, or L{None}
        if it is missing or unreadable.
        """
        try:
            with open(os.path.join(self.path, UIDS_FILE), encoding="utf-8") as f:
                lines = f.read().splitlines()
            magic, version, validity, uidNext = lines[0].split()
            if magic != _UIDS_MAGIC or int(version) != _UIDS_VERSION:
                return None
            uids: dict[str, int] = {}
            for line in lines[1:]:
                uid, key = line.split(" ", 1)
                uids[key] = int(uid)
            return int(validity), int(uidNext), uids
        except (OSError, ValueError, IndexError):
            return None

    def _writeUIDs(self, validity: int, uidNext: int, uids: dict[str, int]) -> None:
        lines = [f"{_UIDS_MAGIC} {_UIDS_VERSION} {validity} {uidNext}"]
        lines.extend(f"{uid} {key}" for key, uid in sorted(uids.items(), key=lambda i: i[1]))
        writeAtomically(os.path.join(self.path, UIDS_FILE), ("\n".join(lines) + "\n").encode())

    def _withLock(self) -> int:
        """
        Take the folder's UID lock (against another process listing at the
        same time); return the descriptor to close.
        """
        fd = os.open(os.path.join(self.path, UIDS_FILE + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
        return fd

    def _state(self) -> tuple[int, int, dict[str, int]]:
        """
        Read the UID state, creating it when missing, without assigning.
        """
        state = self._readUIDs()
        if state is None:
            state = (max(1, int(_now()) & 0x7FFFFFFF), 1, {})
            self._writeUIDs(*state)
        return state

    def messages(self) -> list[MessageInfo]:
        """
        List the folder's messages in UID order, giving UIDs to new ones
        (in the order they were delivered) and persisting them.
        """
        fd = self._withLock()
        try:
            validity, uidNext, uids = self._state()
            found = self._scan()
            changed = False
            for key in [k for k in uids if k not in found]:
                del uids[key]
                changed = True
            for key in sorted((k for k in found if k not in uids), key=_timeOrder):
                uids[key] = uidNext
                uidNext += 1
                changed = True
            if changed:
                self._writeUIDs(validity, uidNext, uids)
        finally:
            os.close(fd)
        infos = []
        for key, uid in uids.items():
            subdir, name, flags = found[key]
            path = os.path.join(self.path, subdir, name)
            try:
                size = os.stat(path).st_size
            except FileNotFoundError:
                continue
            infos.append(MessageInfo(uid, key, flags, path, size, subdir == "new"))
        infos.sort(key=lambda info: info.uid)
        return infos

    @property
    def uidValidity(self) -> int:
        """
        The folder's UIDVALIDITY (RFC 9051 section 2.3.1.1).
        """
        fd = self._withLock()
        try:
            return self._state()[0]
        finally:
            os.close(fd)

    @property
    def uidNext(self) -> int:
        """
        The UID the next message listed will get.
        """
        fd = self._withLock()
        try:
            return self._state()[1]
        finally:
            os.close(fd)

    # One message --------------------------------------------------------------

    def _locate(self, key: str) -> tuple[str, str]:
        """
        The subdirectory and file name of the message C{key}.

        @raise KeyError: no such message.
        """
        if "/" in key or ":" in key or key.startswith("."):
            raise KeyError(key)
        if os.path.exists(os.path.join(self.path, "new", key)):
            return "new", key
        for name in os.listdir(os.path.join(self.path, "cur")):
            if _splitName(name)[0] == key:
                return "cur", name
        raise KeyError(key)

    def messagePath(self, key: str) -> str:
        """
        The file of the message C{key}.

        @raise KeyError: no such message.
        """
        subdir, name = self._locate(key)
        return os.path.join(self.path, subdir, name)

    def read(self, key: str, crlf: bool = False) -> bytes:
        """
        The message C{key}, with LF line endings, or with CRLF for the
        wire (POP3 RETR, IMAP FETCH).

        @raise KeyError: no such message.
        """
        with open(self.messagePath(key), "rb") as f:
            data = f.read()
        return data.replace(b"\n", b"\r\n") if crlf else data

    def flags(self, key: str) -> str:
        """
        The flags of the message C{key}.
        """
        subdir, name = self._locate(key)
        return _splitName(name)[1] if subdir == "cur" else ""

    def setFlags(self, key: str, flags: str) -> None:
        """
        Set the message's flags, moving it to C{cur/} if it was new (it has
        now been seen by a reader, the Maildir spec's meaning of C{cur/}).
        """
        flags = _normalizeFlags(flags)
        subdir, name = self._locate(key)
        final = f"{key}:2,{flags}"
        if (subdir, name) != ("cur", final):
            os.rename(os.path.join(self.path, subdir, name), os.path.join(self.path, "cur", final))
            fsyncDirectory(os.path.join(self.path, "cur"))
            if subdir != "cur":
                fsyncDirectory(os.path.join(self.path, subdir))

    def addFlags(self, key: str, flags: str) -> None:
        """
        Add C{flags} to the message's flags.
        """
        self.setFlags(key, self.flags(key) + flags)

    def removeFlags(self, key: str, flags: str) -> None:
        """
        Remove C{flags} from the message's flags.
        """
        self.setFlags(key, "".join(f for f in self.flags(key) if f not in flags))

    def remove(self, key: str) -> None:
        """
        Delete the message C{key} (its UID is never given again).
        """
        subdir, name = self._locate(key)
        os.unlink(os.path.join(self.path, subdir, name))
        fsyncDirectory(os.path.join(self.path, subdir))


class Maildir(MaildirFolder):
    """
    A user's Maildir: the INBOX, and its Maildir++ folders.
    """

    def __init__(self, path: str) -> None:
        super().__init__(path, INBOX)

    def _folderPath(self, name: str) -> str:
        _checkFolderName(name)
        return os.path.join(self.path, "." + encodeFolderName(name))

    def folderNames(self) -> list[str]:
        """
        The names of the folders, sorted, without L{INBOX}.
        """
        names = []
        for entry in os.listdir(self.path):
            if not entry.startswith(".") or entry in (".", ".."):
                continue
            if not os.path.isdir(os.path.join(self.path, entry, "cur")):
                continue
            try:
                names.append(decodeFolderName(entry[1:]))
            except FolderError:
                continue
        return sorted(names)

    def folder(self, name: str) -> MaildirFolder:
        """
        The folder C{name} (C{"INBOX"}, case-insensitive, is this Maildir).

        @raise FolderError: a bad name, or no such folder.
        """
        if name.upper() == INBOX:
            return self
        folder = MaildirFolder(self._folderPath(name), name)
        if not folder.exists():
            raise FolderError(f"no such folder: {name!r}")
        return folder

    def createFolder(self, name: str) -> MaildirFolder:
        """
        Make the folder C{name}, with the C{maildirfolder} marker file of
        Maildir++.

        @raise FolderError: a bad name, or the folder exists.
        """
        path = self._folderPath(name)
        folder = MaildirFolder(path, name)
        if folder.exists():
            raise FolderError(f"folder exists: {name!r}")
        folder.create()
        with open(os.path.join(path, "maildirfolder"), "ab"):
            pass
        fsyncDirectory(self.path)
        return folder

    def deleteFolder(self, name: str) -> None:
        """
        Delete the folder C{name} and its messages.

        @raise FolderError: a bad name, or no such folder.
        """
        folder = self.folder(name)
        for sub in ("tmp", "new", "cur"):
            directory = os.path.join(folder.path, sub)
            for entry in os.listdir(directory):
                os.unlink(os.path.join(directory, entry))
            os.rmdir(directory)
        for entry in os.listdir(folder.path):
            os.unlink(os.path.join(folder.path, entry))
        os.rmdir(folder.path)
        fsyncDirectory(self.path)


class MaildirStore:
    """
    Every user's Maildir, under one root: C{ROOT/USER/}.
    """

    def __init__(self, root: str) -> None:
        self.root = root

    def _userPath(self, user: str) -> str:
        if not user or "/" in user or "\x00" in user or user.startswith("."):
            raise ValueError(f"user name cannot be a mailbox directory: {user!r}")
        return os.path.join(self.root, user)

    def mailbox(self, user: str) -> Maildir:
        """
        The user's Maildir, made if missing.
        """
        maildir = Maildir(self._userPath(user))
        if not maildir.exists():
            try:
                os.makedirs(self.root, mode=0o700, exist_ok=True)
                maildir.create()
            except OSError as e:  # pragma: no cover - a disk problem
                if e.errno != errno.EEXIST:
                    raise
        return maildir

    def deliver(self, user: str, message: bytes) -> str:
        """
        Deliver C{message} into the user's INBOX (see
        L{MaildirFolder.deliver}): durable when this returns.

        @return: the message's key.
        """
        return self.mailbox(user).deliver(message)
