"""
Tests for L{netref.core.auth}: password hashing, password files and the
C{twisted.cred} checkers built on them.

Most tests hash with L{FAST}, tiny scrypt parameters, so the suite stays
quick; the tests named C{...Defaults...} use L{auth.DEFAULT_PARAMETERS} once
each.  Checkers run their hashes through L{auth.runSynchronously}, so no test
waits on a thread or the clock, except L{PasswordFileCheckerTests.test_inThread},
which checks the default runner.
"""

from __future__ import annotations

import base64
import gc
import hashlib
import io
import os
import stat
import subprocess
import sys
import unicodedata
from collections.abc import Callable
from typing import Any, cast

from twisted.cred.checkers import ICredentialsChecker
from twisted.cred.credentials import IUsernameHashedPassword, UsernamePassword
from twisted.cred.error import UnauthorizedLogin
from twisted.cred.portal import IRealm, Portal
from twisted.internet.defer import Deferred
from twisted.logger import ILogObserver, LogLevel, formatEvent, globalLogPublisher
from twisted.trial.unittest import SkipTest, SynchronousTestCase, TestCase
from zope.interface import Interface, implementer
from zope.interface.verify import verifyObject

from netref.core import auth

#: Cheap parameters for tests: the format and the logic do not depend on cost.
FAST = auth.ScryptParameters(n=16, r=1, p=1)

#: A hash of "secret" made with FAST, for hand-written password files.
SECRET_HASH = auth.hashPassword("secret", FAST)


class _Recorder:
    """
    A hash runner that runs the check synchronously and counts the calls.
    """

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, f: Callable[[], bool]) -> Deferred[bool]:
        self.calls += 1
        return auth.runSynchronously(f)


def _recordScrypt(testCase: SynchronousTestCase) -> list[tuple[int, int, int]]:
    """
    Make L{hashlib.scrypt} record its (n, r, p) for the rest of the test.
    """
    calls: list[tuple[int, int, int]] = []
    real = hashlib.scrypt

    def scrypt(password: bytes, *, salt: bytes, n: int, r: int, p: int, **kw: Any) -> bytes:
        calls.append((n, r, p))
        return real(password, salt=salt, n=n, r=r, p=p, **kw)

    testCase.patch(hashlib, "scrypt", scrypt)
    return calls


def _reachable(root: object) -> list[object]:
    """
    Every object reachable from C{root} through containers and instance
    attributes (not through functions, classes or modules, which lead to the
    whole program).
    """
    seen: dict[int, object] = {}
    stack = [root]
    while stack:
        thing = stack.pop()
        if id(thing) in seen:
            continue
        seen[id(thing)] = thing
        if isinstance(thing, dict | list | tuple | set | frozenset):
            stack.extend(gc.get_referents(thing))
        elif hasattr(thing, "__dict__") and not isinstance(thing, type):
            if not callable(thing) and type(thing).__module__ != "builtins":
                stack.append(vars(thing))
    return list(seen.values())


class ScryptParametersTests(SynchronousTestCase):
    """
    L{auth.ScryptParameters} refuses values that scrypt rejects or that would
    need absurd amounts of memory.
    """

    def test_defaults(self) -> None:
        p = auth.DEFAULT_PARAMETERS
        self.assertEqual((p.n, p.r, p.p, p.saltLength, p.keyLength), (2**14, 8, 1, 16, 32))

    def test_nPowerOfTwo(self) -> None:
        for n in (0, 1, 3, 1000):
            self.assertRaises(ValueError, auth.ScryptParameters, n=n, r=8, p=1)

    def test_rAndP(self) -> None:
        self.assertRaises(ValueError, auth.ScryptParameters, n=16, r=0, p=1)
        self.assertRaises(ValueError, auth.ScryptParameters, n=16, r=1, p=0)
        self.assertRaises(ValueError, auth.ScryptParameters, n=16, r=1, p=auth.MAX_PARALLELISM + 1)

    def test_memoryLimit(self) -> None:
        exc = self.assertRaises(ValueError, auth.ScryptParameters, n=2**20, r=8, p=1)
        self.assertIn("memory", str(exc))

    def test_saltAndKeyLengths(self) -> None:
        self.assertRaises(ValueError, auth.ScryptParameters, n=16, r=1, p=1, saltLength=8)
        self.assertRaises(ValueError, auth.ScryptParameters, n=16, r=1, p=1, keyLength=8)
        self.assertRaises(ValueError, auth.ScryptParameters, n=16, r=1, p=1, keyLength=65)


class HashPasswordTests(SynchronousTestCase):
    """
    L{auth.hashPassword} and L{auth.verifyPassword}.
    """

    def test_roundTrip(self) -> None:
        stored = auth.hashPassword("secret", FAST)
        self.assertTrue(auth.verifyPassword("secret", stored))
        self.assertTrue(auth.verifyPassword(b"secret", stored))

    def test_wrongPassword(self) -> None:
        stored = auth.hashPassword("secret", FAST)
        for wrong in ("Secret", "secret ", "secre", "x"):
            self.assertFalse(auth.verifyPassword(wrong, stored), wrong)

    def test_defaultParameters(self) -> None:
        """
        With no parameters given, the hash uses the defaults, all of which are
        written in the string.
        """
        stored = auth.hashPassword("secret")
        scheme, n, r, p, salt, key = stored.split("$")
        self.assertEqual((scheme, n, r, p), ("scrypt", "16384", "8", "1"))
        self.assertEqual(len(base64.b64decode(salt)), 16)
        self.assertEqual(len(base64.b64decode(key)), 32)
        self.assertTrue(auth.verifyPassword("secret", stored))
        self.assertFalse(auth.verifyPassword("wrong", stored))

    def test_parametersStoredInHash(self) -> None:
        """
        Verification uses the parameters in the stored string, not the
        defaults, so they can be raised for new hashes.
        """
        stored = auth.hashPassword("secret", auth.ScryptParameters(n=32, r=2, p=2, keyLength=20))
        self.assertTrue(stored.startswith("scrypt$32$2$2$"))
        self.assertEqual(len(base64.b64decode(stored.split("$")[5])), 20)
        self.assertTrue(auth.verifyPassword("secret", stored))

    def test_salted(self) -> None:
        """
        The same password hashed twice gives different strings.
        """
        self.assertNotEqual(auth.hashPassword("secret", FAST), auth.hashPassword("secret", FAST))

    def test_emptyPassword(self) -> None:
        self.assertRaises(ValueError, auth.hashPassword, "", FAST)
        self.assertRaises(ValueError, auth.hashPassword, b"", FAST)
        self.assertFalse(auth.verifyPassword("", SECRET_HASH))

    def test_nulRefused(self) -> None:
        """
        Passwords with a NUL are refused: scrypt's HMAC pads short keys with
        NULs, so C{secret} and C{secret\\0} would otherwise be one password.
        """
        salt = b"s" * 16
        self.assertEqual(
            hashlib.scrypt(b"secret\0", salt=salt, n=16, r=1, p=1),
            hashlib.scrypt(b"secret", salt=salt, n=16, r=1, p=1),
        )
        exc = self.assertRaises(ValueError, auth.hashPassword, "a\0b", FAST)
        self.assertIn("NUL", str(exc))
        self.assertFalse(auth.verifyPassword(b"secret\0", SECRET_HASH))
        self.assertFalse(auth.verifyPassword(b"secret\0\0", SECRET_HASH))

    def test_textIsUTF8AsGiven(self) -> None:
        """
        Text passwords are UTF-8 encoded without normalisation: the same
        word in another Unicode normal form is another password.
        """
        composed = unicodedata.normalize("NFC", "p\u00e2t\u00e9")
        stored = auth.hashPassword(composed, FAST)
        self.assertTrue(auth.verifyPassword(composed.encode("utf-8"), stored))
        self.assertFalse(auth.verifyPassword(unicodedata.normalize("NFD", composed), stored))

    def test_malformedStored(self) -> None:
        salt = base64.b64encode(b"s" * 16).decode()
        key = base64.b64encode(b"k" * 32).decode()
        for stored in (
            "",
            "secret",
            f"md5$16$1$1${salt}${key}",
            f"scrypt$16$1${salt}${key}",
            f"scrypt$x$1$1${salt}${key}",
            f"scrypt$+16$1$1${salt}${key}",
            f"scrypt$15$1$1${salt}${key}",
            f"scrypt$16$1$1$!!!${key}",
            f"scrypt$16$1$1${salt}${key[:-1]}",
            f"scrypt$16$1$1${base64.b64encode(b's').decode()}${key}",
        ):
            self.assertRaises(ValueError, auth.verifyPassword, "secret", stored)


class ValidateUsernameTests(SynchronousTestCase):
    """
    L{auth.validateUsername}: what may be a user name.
    """

    def test_accepted(self) -> None:
        for name in ("alice", "bob@hamburger.edu", "\u00e9lodie", "john smith", "a#b"):
            auth.validateUsername(name)

    def test_refused(self) -> None:
        for name, why in (
            ("", "empty"),
            ("al:ice", "':'"),
            ("al\nice", "line break"),
            ("alice\r", "line break"),
            ("al\x00ice", "non-printable"),
            (" alice", "white space"),
            ("alice ", "white space"),
            ("#alice", "'#'"),
        ):
            exc = self.assertRaises(ValueError, auth.validateUsername, name)
            self.assertIn(why, str(exc))


class ParseUserSpecTests(SynchronousTestCase):
    """
    L{auth.parseUserSpec}: the value of C{--user NAME:PASSWORD}.
    """

    def test_simple(self) -> None:
        self.assertEqual(auth.parseUserSpec("alice:secret"), ("alice", "secret"))

    def test_passwordWithColons(self) -> None:
        self.assertEqual(auth.parseUserSpec("alice:a:b:"), ("alice", "a:b:"))

    def test_noColon(self) -> None:
        exc = self.assertRaises(ValueError, auth.parseUserSpec, "hunter2")
        self.assertIn("NAME:PASSWORD", str(exc))
        self.assertNotIn("hunter2", str(exc))

    def test_emptyName(self) -> None:
        exc = self.assertRaises(ValueError, auth.parseUserSpec, ":hunter2")
        self.assertIn("empty", str(exc))
        self.assertNotIn("hunter2", str(exc))

    def test_badName(self) -> None:
        exc = self.assertRaises(ValueError, auth.parseUserSpec, " alice:hunter2")
        self.assertNotIn("hunter2", str(exc))

    def test_emptyPassword(self) -> None:
        exc = self.assertRaises(ValueError, auth.parseUserSpec, "alice:")
        self.assertIn("'alice'", str(exc))
        self.assertIn("empty", str(exc))

    def test_nulInPassword(self) -> None:
        exc = self.assertRaises(ValueError, auth.parseUserSpec, "alice:hunter2\0")
        self.assertIn("NUL", str(exc))
        self.assertNotIn("hunter2", str(exc))


class AddUserTests(SynchronousTestCase):
    """
    L{auth.addUser} writes password files: hashed, atomically, mode 0600.
    """

    def setUp(self) -> None:
        self.directory = self.mktemp()
        os.makedirs(self.directory)
        self.path = os.path.join(self.directory, "passwords")

    def read(self) -> bytes:
        with open(self.path, "rb") as f:
            return f.read()

    def test_createsFile(self) -> None:
        self.assertFalse(auth.addUser(self.path, "alice", "correct horse", FAST))
        lines = self.read().decode("utf-8").splitlines()
        self.assertEqual(len(lines), 1)
        name, stored = lines[0].split(":")
        self.assertEqual(name, "alice")
        self.assertTrue(auth.verifyPassword("correct horse", stored))

    def test_noClearPassword(self) -> None:
        """
        The file never holds a clear password, in any encoding a reader
        might look for.
        """
        password = "correct horse battery staple"
        auth.addUser(self.path, "alice", password, FAST)
        auth.addUser(self.path, "bob", password.encode("utf-8"), FAST)
        contents = self.read()
        self.assertNotIn(password.encode("utf-8"), contents)
        self.assertNotIn(base64.b64encode(password.encode("utf-8")), contents)
        self.assertNotIn(password.encode("utf-8").hex().encode("ascii"), contents)

    def test_saltedPerUser(self) -> None:
        """
        Two users with the same password have different hashes.
        """
        auth.addUser(self.path, "alice", "secret", FAST)
        auth.addUser(self.path, "bob", "secret", FAST)
        hashes = [line.split(":")[1] for line in self.read().decode().splitlines()]
        self.assertEqual(len(hashes), 2)
        self.assertNotEqual(hashes[0], hashes[1])
        self.assertNotEqual(hashes[0].split("$")[4], hashes[1].split("$")[4])

    def test_mode0600(self) -> None:
        """
        The file is readable and writable by its owner only, whatever the
        umask and whatever the mode of the file it replaces.
        """
        with open(self.path, "w") as f:
            f.write("# users\n")
        os.chmod(self.path, 0o644)
        oldMask = os.umask(0)
        try:
            auth.addUser(self.path, "alice", "secret", FAST)
        finally:
            os.umask(oldMask)
        self.assertEqual(stat.S_IMODE(os.stat(self.path).st_mode), 0o600)

    def test_newFileMode0600(self) -> None:
        auth.addUser(self.path, "alice", "secret", FAST)
        self.assertEqual(stat.S_IMODE(os.stat(self.path).st_mode), 0o600)

    def test_replacesExistingUser(self) -> None:
        """
        Adding a user that exists gives it the new password in place; other
        lines, comments included, are kept as they were.
        """
        with open(self.path, "w") as f:
            f.write(f"# staff\nalice:{SECRET_HASH}\n\n  # more staff\nbob:{SECRET_HASH}\n")
        self.assertTrue(auth.addUser(self.path, "alice", "new secret", FAST))
        lines = self.read().decode().split("\n")
        self.assertEqual(lines[0], "# staff")
        self.assertEqual(lines[2:], ["", "  # more staff", f"bob:{SECRET_HASH}", ""])
        name, stored = lines[1].split(":")
        self.assertEqual(name, "alice")
        self.assertTrue(auth.verifyPassword("new secret", stored))
        self.assertFalse(auth.verifyPassword("secret", stored))

    def test_atomicReplace(self) -> None:
        """
        The file is replaced by renaming a new file over it, not rewritten in
        place, and no temporary file is left behind.
        """
        auth.addUser(self.path, "alice", "secret", FAST)
        before = os.stat(self.path)
        keep = open(self.path, "rb")
        self.addCleanup(keep.close)
        auth.addUser(self.path, "bob", "secret", FAST)
        self.assertNotEqual(os.stat(self.path).st_ino, before.st_ino)
        self.assertEqual(len(keep.read().splitlines()), 1)
        self.assertEqual(os.listdir(self.directory), ["passwords"])

    def test_fsync(self) -> None:
        """
        The new contents are flushed to the disk before the rename, and the
        directory after it.
        """
        synced: list[int] = []
        realFsync = os.fsync

        def fsync(fd: int) -> None:
            synced.append(os.fstat(fd).st_ino)
            realFsync(fd)

        self.patch(os, "fsync", fsync)
        auth.addUser(self.path, "alice", "secret", FAST)
        self.assertEqual(synced, [os.stat(self.path).st_ino, os.stat(self.directory).st_ino])

    def test_failedWriteKeepsOldFile(self) -> None:
        """
        If writing the new file fails, the old one is untouched and the
        temporary file is removed.
        """
        auth.addUser(self.path, "alice", "secret", FAST)
        before = self.read()

        def fsync(fd: int) -> None:
            raise OSError(28, "No space left on device")

        self.patch(os, "fsync", fsync)
        self.assertRaises(OSError, auth.addUser, self.path, "bob", "secret", FAST)
        self.assertEqual(self.read(), before)
        self.assertEqual(os.listdir(self.directory), ["passwords"])

    def test_refusesMalformedFile(self) -> None:
        """
        A malformed file is reported and left alone, not rewritten.
        """
        with open(self.path, "w") as f:
            f.write(f"alice:{SECRET_HASH}\nbob\n")
        exc = self.assertRaises(
            auth.PasswordFileError, auth.addUser, self.path, "carol", "secret", FAST
        )
        self.assertEqual(exc.lineNumber, 2)
        self.assertEqual(self.read(), f"alice:{SECRET_HASH}\nbob\n".encode())

    def test_badNameOrPassword(self) -> None:
        self.assertRaises(ValueError, auth.addUser, self.path, "al:ice", "secret", FAST)
        self.assertRaises(ValueError, auth.addUser, self.path, "al\nice", "secret", FAST)
        self.assertRaises(ValueError, auth.addUser, self.path, "", "secret", FAST)
        self.assertRaises(ValueError, auth.addUser, self.path, "alice", "", FAST)
        self.assertFalse(os.path.exists(self.path))


class PasswordFileFormatTests(SynchronousTestCase):
    """
    Reading password files: what is accepted, and clear errors, with the file
    and line number, for what is not.
    """

    def setUp(self) -> None:
        self.path = self.mktemp()

    def write(self, contents: str | bytes) -> None:
        data = contents.encode("utf-8") if isinstance(contents, str) else contents
        with open(self.path, "wb") as f:
            f.write(data)

    def checker(self) -> auth.PasswordFileChecker:
        return auth.PasswordFileChecker(self.path, runHash=auth.runSynchronously)

    def assertBadLine(self, badLine: str | bytes, lineNumber: int, reason: str) -> None:
        """
        A file whose line C{lineNumber} is C{badLine} is refused with
        C{reason} in the message.
        """
        good = f"alice:{SECRET_HASH}\n".encode()
        bad = badLine.encode("utf-8") if isinstance(badLine, str) else badLine
        self.write(b"# users\n" + good + bad + b"\n")
        exc = self.assertRaises(auth.PasswordFileError, self.checker)
        self.assertEqual((exc.path, exc.lineNumber), (self.path, lineNumber))
        self.assertIn(f"{self.path}, line {lineNumber}: ", str(exc))
        self.assertIn(reason, str(exc))

    def test_noColon(self) -> None:
        self.assertBadLine("bob", 3, "NAME:scrypt$N$R$P$SALT$HASH")

    def test_notAHash(self) -> None:
        self.assertBadLine("bob:secret", 3, "scrypt$N$R$P$SALT$HASH")

    def test_unknownScheme(self) -> None:
        self.assertBadLine("bob:md5$1$1$1$AAAA$AAAA", 3, "unknown hash scheme 'md5'")

    def test_badNumber(self) -> None:
        self.assertBadLine("bob:" + SECRET_HASH.replace("$16$", "$sixteen$"), 3, "decimal")

    def test_badParameters(self) -> None:
        self.assertBadLine("bob:" + SECRET_HASH.replace("$16$", "$17$"), 3, "power of two")

    def test_badBase64(self) -> None:
        self.assertBadLine("bob:" + SECRET_HASH[:-4] + "!!!!", 3, "base64")

    def test_badName(self) -> None:
        self.assertBadLine(f" bob:{SECRET_HASH}", 3, "white space")

    def test_emptyName(self) -> None:
        self.assertBadLine(f":{SECRET_HASH}", 3, "empty")

    def test_duplicate(self) -> None:
        self.assertBadLine(f"alice:{SECRET_HASH}", 3, "'alice' is already on line 2")

    def test_notUTF8(self) -> None:
        self.assertBadLine(b"b\xffb:" + SECRET_HASH.encode(), 3, "UTF-8")

    def test_missingFile(self) -> None:
        exc = self.assertRaises(auth.PasswordFileError, self.checker)
        self.assertIsNone(exc.lineNumber)
        self.assertIn(self.path, str(exc))
        self.assertIn("cannot read", str(exc))

    def test_commentsBlankLinesAndCRLF(self) -> None:
        """
        Comments, blank lines, CRLF line ends and a missing final line feed
        are all fine; an empty file holds no users.
        """
        self.write(f"# users\r\n\r\n   \n\t# indented\nalice:{SECRET_HASH}\r\nbob:{SECRET_HASH}")
        checker = self.checker()
        for name in (b"alice", b"bob"):
            d = checker.requestAvatarId(UsernamePassword(name, b"secret"))
            self.assertEqual(self.successResultOf(d), name)
        self.write("")
        d = self.checker().requestAvatarId(UsernamePassword(b"alice", b"secret"))
        self.failureResultOf(d, UnauthorizedLogin)

    def test_unicodeName(self) -> None:
        self.write(f"\u00e9lodie:{SECRET_HASH}\n")
        d = self.checker().requestAvatarId(UsernamePassword("\u00e9lodie".encode(), b"secret"))
        self.assertEqual(self.successResultOf(d), "\u00e9lodie".encode())


class PasswordFileCheckerTests(TestCase):
    """
    L{auth.PasswordFileChecker} as a C{twisted.cred} checker.
    """

    def setUp(self) -> None:
        self.path = self.mktemp()
        auth.addUser(self.path, "alice", "secret", FAST)
        auth.addUser(self.path, "bob", "hunter2", FAST)
        self.runner = _Recorder()
        self.checker = auth.PasswordFileChecker(self.path, runHash=self.runner)

    def login(self, name: bytes | str, password: bytes | str) -> Deferred[bytes | tuple[()]]:
        return self.checker.requestAvatarId(UsernamePassword(name, password))  # type: ignore[arg-type]

    def test_interface(self) -> None:
        """
        It is an L{ICredentialsChecker} for clear passwords only: a file of
        hashes cannot check an L{IUsernameHashedPassword}.
        """
        self.assertTrue(verifyObject(ICredentialsChecker, self.checker))
        self.assertNotIn(IUsernameHashedPassword, self.checker.credentialInterfaces)

    def test_rightPassword(self) -> None:
        self.assertEqual(self.successResultOf(self.login(b"alice", b"secret")), b"alice")
        self.assertEqual(self.successResultOf(self.login(b"bob", b"hunter2")), b"bob")

    def test_textCredentials(self) -> None:
        self.assertEqual(self.successResultOf(self.login("alice", "secret")), b"alice")

    def test_wrongPassword(self) -> None:
        for wrong in (b"hunter2", b"Secret", b"secret\n", b"secret\x00", b"secre", b"s"):
            self.failureResultOf(self.login(b"alice", wrong), UnauthorizedLogin)

    def test_namesAreCaseSensitive(self) -> None:
        self.failureResultOf(self.login(b"Alice", b"secret"), UnauthorizedLogin)

    def test_unknownUser(self) -> None:
        f = self.failureResultOf(self.login(b"mallory", b"secret"), UnauthorizedLogin)
        g = self.failureResultOf(self.login(b"alice", b"wrong"), UnauthorizedLogin)
        self.assertEqual(str(f.value), str(g.value))

    def test_unknownUserCostsAHash(self) -> None:
        """
        An unknown name is hashed, off the reactor thread, with the same
        parameters as a known one, so its timing does not tell it apart.
        """
        calls = _recordScrypt(self)
        self.failureResultOf(self.login(b"mallory", b"secret"), UnauthorizedLogin)
        self.failureResultOf(self.login(b"alice", b"wrong"), UnauthorizedLogin)
        self.assertEqual(calls, [(16, 1, 1), (16, 1, 1)])
        self.assertEqual(self.runner.calls, 2)

    def test_dummyUsesCommonParameters(self) -> None:
        """
        The dummy hash for unknown names uses the parameters most entries use.
        """
        slower = auth.ScryptParameters(n=64, r=2, p=1)
        auth.addUser(self.path, "alice", "secret", slower)
        auth.addUser(self.path, "carol", "secret", slower)
        calls = _recordScrypt(self)
        self.failureResultOf(self.login(b"mallory", b"secret"), UnauthorizedLogin)
        self.assertEqual(calls, [(64, 2, 1)])

    def test_emptyPassword(self) -> None:
        """
        An empty password, or one with a NUL, is refused without hashing, for
        any name.
        """
        for password in (b"", b"secret\0", b"\0"):
            self.failureResultOf(self.login(b"alice", password), UnauthorizedLogin)
            self.failureResultOf(self.login(b"mallory", password), UnauthorizedLogin)
        self.assertEqual(self.runner.calls, 0)

    def test_rereadsChangedFile(self) -> None:
        """
        Users added and passwords changed take effect at the next check, even
        within one tick of the file system's clock.
        """
        self.successResultOf(self.login(b"alice", b"secret"))
        auth.addUser(self.path, "carol", "pass1", FAST)
        self.assertEqual(self.successResultOf(self.login(b"carol", b"pass1")), b"carol")
        auth.addUser(self.path, "carol", "pass2", FAST)
        self.failureResultOf(self.login(b"carol", b"pass1"), UnauthorizedLogin)
        self.assertEqual(self.successResultOf(self.login(b"carol", b"pass2")), b"carol")

    def test_brokenFileFailsClosed(self) -> None:
        """
        If the file becomes malformed, every check fails with
        L{auth.PasswordFileError} (not L{UnauthorizedLogin}, so a protocol
        can report a temporary failure) until it is fixed.
        """
        events: list[dict[str, Any]] = []
        observer = cast(ILogObserver, events.append)
        globalLogPublisher.addObserver(observer)
        self.addCleanup(globalLogPublisher.removeObserver, observer)
        with open(self.path, "a") as f:
            f.write("oops\n")
        f1 = self.failureResultOf(self.login(b"alice", b"secret"), auth.PasswordFileError)
        self.assertEqual(f1.value.lineNumber, 3)
        self.assertIn(f"{self.path}, line 3", formatEvent(events[-1]))
        self.assertEqual(events[-1]["log_level"], LogLevel.error)
        self.failureResultOf(self.login(b"bob", b"hunter2"), auth.PasswordFileError)
        with open(self.path) as f:
            lines = f.readlines()
        with open(self.path, "w") as f:
            f.writelines(lines[:2])
        self.assertEqual(self.successResultOf(self.login(b"alice", b"secret")), b"alice")

    def test_removedFileFailsClosed(self) -> None:
        os.remove(self.path)
        self.failureResultOf(self.login(b"alice", b"secret"), auth.PasswordFileError)

    def test_inThread(self) -> Deferred[None]:
        """
        By default the hash runs in the reactor's thread pool.
        """
        checker = auth.PasswordFileChecker(self.path)
        d = checker.requestAvatarId(UsernamePassword(b"alice", b"secret"))
        return d.addCallback(lambda avatarId: self.assertEqual(avatarId, b"alice"))


class IMailbox(Interface):
    """
    The avatar interface of the example realm in docs/core-auth.rst.
    """


@implementer(IMailbox)
class Mailbox:
    def __init__(self, owner: str) -> None:
        self.owner = owner
        self.loggedOut = False

    def logout(self) -> None:
        self.loggedOut = True


@implementer(IRealm)
class MailboxRealm:
    """
    The example realm of docs/core-auth.rst.
    """

    def requestAvatar(
        self, avatarId: bytes | tuple[()], mind: object, *interfaces: Any
    ) -> tuple[Any, Mailbox, Callable[[], None]]:
        if IMailbox not in interfaces or not isinstance(avatarId, bytes):
            raise NotImplementedError("this realm only has mailboxes")
        mailbox = Mailbox(avatarId.decode("utf-8"))
        return IMailbox, mailbox, mailbox.logout


class PortalTests(SynchronousTestCase):
    """
    The checkers plug into a L{Portal} as a protocol uses them, here with the
    default parameters.
    """

    def test_portalWithDefaults(self) -> None:
        path = self.mktemp()
        auth.addUser(path, "alice", "secret")
        checker = auth.PasswordFileChecker(path, runHash=auth.runSynchronously)
        portal = Portal(MailboxRealm(), [checker])
        d = portal.login(UsernamePassword(b"alice", b"secret"), None, IMailbox)
        interface, mailbox, logout = self.successResultOf(d)
        self.assertIs(interface, IMailbox)
        assert isinstance(mailbox, Mailbox)
        self.assertEqual(mailbox.owner, "alice")
        logout()
        self.assertTrue(mailbox.loggedOut)
        d = portal.login(UsernamePassword(b"alice", b"wrong"), None, IMailbox)
        self.failureResultOf(d, UnauthorizedLogin)

    def test_memoryCheckerInPortal(self) -> None:
        checker = auth.MemoryPasswordChecker.fromUserSpecs(
            ["alice:secret"], FAST, runHash=auth.runSynchronously
        )
        portal = Portal(MailboxRealm(), [checker])
        d = portal.login(UsernamePassword(b"alice", b"secret"), None, IMailbox)
        mailbox = self.successResultOf(d)[1]
        assert isinstance(mailbox, Mailbox)
        self.assertEqual(mailbox.owner, "alice")


class DocumentationTests(SynchronousTestCase):
    """
    The examples of docs/core-auth.rst are true.
    """

    def test_exampleFileLine(self) -> None:
        """
        The example password file line is a real hash of C{secret}.
        """
        page = os.path.join(os.path.dirname(__file__), os.pardir, "docs", "core-auth.rst")
        if not os.path.exists(page):
            raise SkipTest("docs/core-auth.rst is not next to the tests")
        with open(page, encoding="utf-8") as f:
            lines = [line.strip() for line in f if line.strip().startswith("alice:scrypt$")]
        self.assertEqual(len(lines), 1)
        self.assertTrue(auth.verifyPassword("secret", lines[0].split(":", 1)[1]))


class MemoryPasswordCheckerTests(SynchronousTestCase):
    """
    L{auth.MemoryPasswordChecker}: users from C{--user NAME:PASSWORD}.
    """

    def setUp(self) -> None:
        self.runner = _Recorder()

    def checker(self, *specs: str) -> auth.MemoryPasswordChecker:
        return auth.MemoryPasswordChecker.fromUserSpecs(specs, FAST, runHash=self.runner)

    def test_interface(self) -> None:
        checker = self.checker("alice:secret")
        self.assertTrue(verifyObject(ICredentialsChecker, checker))
        self.assertNotIn(IUsernameHashedPassword, checker.credentialInterfaces)

    def test_rightAndWrong(self) -> None:
        checker = self.checker("alice:secret", "bob:a:b")
        d = checker.requestAvatarId(UsernamePassword(b"alice", b"secret"))
        self.assertEqual(self.successResultOf(d), b"alice")
        d = checker.requestAvatarId(UsernamePassword(b"bob", b"a:b"))
        self.assertEqual(self.successResultOf(d), b"bob")
        d = checker.requestAvatarId(UsernamePassword(b"alice", b"a:b"))
        self.failureResultOf(d, UnauthorizedLogin)

    def test_unknownUserCostsAHash(self) -> None:
        checker = self.checker("alice:secret")
        calls = _recordScrypt(self)
        d = checker.requestAvatarId(UsernamePassword(b"mallory", b"secret"))
        self.failureResultOf(d, UnauthorizedLogin)
        self.assertEqual(calls, [(16, 1, 1)])

    def test_emptyPassword(self) -> None:
        checker = self.checker("alice:secret")
        d = checker.requestAvatarId(UsernamePassword(b"alice", b""))
        self.failureResultOf(d, UnauthorizedLogin)
        self.assertEqual(self.runner.calls, 0)

    def test_pairs(self) -> None:
        checker = auth.MemoryPasswordChecker(
            [("alice", "secret"), ("bob", b"hunter2")], FAST, auth.runSynchronously
        )
        d = checker.requestAvatarId(UsernamePassword(b"bob", b"hunter2"))
        self.assertEqual(self.successResultOf(d), b"bob")

    def test_refused(self) -> None:
        self.assertRaises(ValueError, self.checker, "alice")
        self.assertRaises(ValueError, self.checker, "alice:")
        self.assertRaises(ValueError, self.checker, "al\nice:secret")
        exc = self.assertRaises(ValueError, self.checker, "alice:one", "alice:two")
        self.assertIn("twice", str(exc))
        self.assertRaises(ValueError, auth.MemoryPasswordChecker, [("alice", b"")], FAST)
        self.assertRaises(ValueError, auth.MemoryPasswordChecker, [("alice", "a\0")], FAST)

    def test_noClearPasswordKept(self) -> None:
        """
        No clear password is reachable from the checker: it keeps hashes only.
        """
        password = "correct horse battery staple"
        checker = auth.MemoryPasswordChecker([("alice", password)], FAST)
        for thing in _reachable(checker):
            if isinstance(thing, str | bytes):
                self.assertNotIn(password.encode(), thing if isinstance(thing, bytes) else b"")
                self.assertNotIn(password, thing if isinstance(thing, str) else "")


class MainTests(SynchronousTestCase):
    """
    C{python -m netref.core.auth add FILE NAME}.
    """

    def setUp(self) -> None:
        self.path = self.mktemp()
        self.stdout = io.StringIO()
        self.stderr = io.StringIO()

    def main(self, *argv: str, stdin: str = "secret\n") -> int:
        return auth.main(list(argv), io.StringIO(stdin), self.stdout, self.stderr)

    def stored(self) -> dict[str, str]:
        with open(self.path) as f:
            return dict(line.rstrip("\n").split(":", 1) for line in f)

    def test_addAndReplaceWithDefaults(self) -> None:
        self.assertEqual(self.main("add", self.path, "alice"), 0)
        self.assertEqual(self.stdout.getvalue(), "added alice\n")
        self.assertTrue(self.stored()["alice"].startswith("scrypt$16384$8$1$"))
        self.assertTrue(auth.verifyPassword("secret", self.stored()["alice"]))
        self.assertEqual(self.main("add", self.path, "alice", stdin="other\r\n"), 0)
        self.assertIn("changed the password of alice", self.stdout.getvalue())
        self.assertTrue(auth.verifyPassword("other", self.stored()["alice"]))
        self.assertEqual(stat.S_IMODE(os.stat(self.path).st_mode), 0o600)

    def test_badName(self) -> None:
        self.assertEqual(self.main("add", self.path, "al:ice"), 1)
        self.assertIn("':'", self.stderr.getvalue())
        self.assertEqual(self.stderr.getvalue().count("\n"), 1)
        self.assertFalse(os.path.exists(self.path))

    def test_emptyPassword(self) -> None:
        self.assertEqual(self.main("add", self.path, "alice", stdin="\n"), 1)
        self.assertIn("empty", self.stderr.getvalue())

    def test_malformedFile(self) -> None:
        with open(self.path, "w") as f:
            f.write("garbage\n")
        self.assertEqual(self.main("add", self.path, "alice"), 1)
        self.assertIn(f"{self.path}, line 1", self.stderr.getvalue())

    def test_terminalAsksTwice(self) -> None:
        """
        On a terminal, the password is asked twice without echo.
        """

        class Terminal(io.StringIO):
            def isatty(self) -> bool:
                return True

        answers = iter(["one", "two"])
        self.patch(auth.getpass, "getpass", lambda prompt: next(answers))
        status = auth.main(["add", self.path, "alice"], Terminal(), self.stdout, self.stderr)
        self.assertEqual(status, 1)
        self.assertIn("do not match", self.stderr.getvalue())

    def test_pythonDashM(self) -> None:
        """
        The module runs as C{python -m netref.core.auth}.
        """
        result = subprocess.run(
            [sys.executable, "-m", "netref.core.auth", "add", self.path, "alice"],
            input=b"secret\n",
            capture_output=True,
            check=False,
        )
        self.assertEqual((result.returncode, result.stderr), (0, b""))
        self.assertTrue(auth.verifyPassword("secret", self.stored()["alice"]))
