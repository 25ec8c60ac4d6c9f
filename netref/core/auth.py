"""
Checking names and passwords: C{twisted.cred} checkers over salted, slow hashes.

Every netref service that asks for a name and a password (SMTP AUTH, POP3,
IMAP, FTP, webmail) builds a C{twisted.cred} L{Portal} from its own realm and
one of the checkers here:

  - L{PasswordFileChecker} reads a password file (C{--users FILE});
  - L{MemoryPasswordChecker} holds users given on the command line
    (C{--user NAME:PASSWORD}, read with L{parseUserSpec}).

Passwords are never stored, only their scrypt hashes (RFC 7914): scrypt is
slow on purpose and needs memory, so a stolen file is expensive to attack
guess by guess, and every entry has its own random salt, so two users with the
same password get different hashes and no table can be precomputed.  One line
of a password file holds one user::

    alice:scrypt$16384$8$1$<salt>$<hash>

that is the user name, a colon, and the hash in the form
C{scrypt$N$R$P$SALT$HASH}: the scrypt cost parameters N (CPU and memory cost,
a power of two), R (block size) and P (parallelism) in decimal, then the salt
and the derived key in standard base64 (RFC 4648 section 4, with padding).
The parameters live in each entry, so they can be raised for new passwords
without invalidating the old ones.  The file is UTF-8; blank lines and lines
whose first non-blank character is C{#} are ignored.  L{addUser} and
C{python -m netref.core.auth add FILE NAME} write it.

Names and passwords are compared as the bytes the client sent (text is UTF-8
encoded as given): this module does not apply the PRECIS profiles of RFC 8265
(no case mapping of names, no Unicode normalisation of either), so a client
must send a non-ASCII password in the same normal form it was set in.  Names are
case-sensitive.  A password may not be empty or contain a NUL character (see
L{_passwordProblem} for why).

Hashing takes tens of milliseconds with the default parameters, far too long
for the reactor thread, so the checkers run it through a I{hash runner}: by
default L{deferToThread}; tests and tools pass L{runSynchronously}.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import getpass
import hashlib
import hmac
import os
import re
import secrets
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import IO, TypeVar

from twisted.cred.checkers import ICredentialsChecker
from twisted.cred.credentials import IUsernamePassword
from twisted.cred.error import UnauthorizedLogin
from twisted.internet import defer
from twisted.internet.defer import Deferred
from twisted.internet.threads import deferToThread
from twisted.logger import Logger
from zope.interface import implementer

from netref.core.durable import writeAtomically

__all__ = [
    "DEFAULT_PARAMETERS",
    "HashRunner",
    "MemoryPasswordChecker",
    "PasswordFileChecker",
    "PasswordFileError",
    "ScryptParameters",
    "addUser",
    "hashPassword",
    "main",
    "parseUserSpec",
    "runSynchronously",
    "validateUsername",
    "verifyPassword",
]

_T = TypeVar("_T")

#: The name of the only hash scheme this module writes and reads.
SCHEME = "scrypt"

#: The most memory one hash may need (128 * R * (N + P + 2) bytes): a bound
#: that keeps a mistyped parameter in a password file from exhausting memory.
MAX_MEMORY = 256 * 1024 * 1024

#: Salt and key lengths accepted, in bytes.  The lower bound on the salt is
#: NIST SP 800-132's 128 bits.
MIN_SALT_LENGTH, MAX_SALT_LENGTH = 16, 64
MIN_KEY_LENGTH, MAX_KEY_LENGTH = 16, 64
#: An upper bound on P: beyond it, the cost is better raised through N.
MAX_PARALLELISM = 64

_DECIMAL = re.compile(r"[0-9]{1,10}")
_log = Logger()


@dataclass(frozen=True)
class ScryptParameters:
    """
    The cost parameters of scrypt (RFC 7914 section 2) and the sizes of the
    salt and of the derived key.

    @ivar n: the CPU and memory cost N, a power of two greater than 1.
    @ivar r: the block size R.
    @ivar p: the parallelism P.
    @ivar saltLength: the length of a fresh random salt, in bytes.
    @ivar keyLength: the length of the derived key, in bytes.
    """

    n: int
    r: int
    p: int
    saltLength: int = 16
    keyLength: int = 32

    def __post_init__(self) -> None:
        """
        @raise ValueError: if a parameter is out of range (see L{MAX_MEMORY},
            L{MAX_PARALLELISM} and the salt and key length bounds).
        """
        if self.n < 2 or self.n & (self.n - 1):
            raise ValueError(f"scrypt N must be a power of two greater than 1, not {self.n}")
        if self.r < 1:
            raise ValueError(f"scrypt R must be at least 1, not {self.r}")
        if not 1 <= self.p <= MAX_PARALLELISM:
            raise ValueError(f"scrypt P must be from 1 to {MAX_PARALLELISM}, not {self.p}")
        if self.memory() > MAX_MEMORY:
            raise ValueError(
                f"scrypt N={self.n}, R={self.r}, P={self.p} needs {self.memory()} bytes"
                f" of memory, more than the limit of {MAX_MEMORY}"
            )
        if not MIN_SALT_LENGTH <= self.saltLength <= MAX_SALT_LENGTH:
            raise ValueError(
                f"salt must be {MIN_SALT_LENGTH} to {MAX_SALT_LENGTH} bytes, not {self.saltLength}"
            )
        if not MIN_KEY_LENGTH <= self.keyLength <= MAX_KEY_LENGTH:
            raise ValueError(
                f"key must be {MIN_KEY_LENGTH} to {MAX_KEY_LENGTH} bytes, not {self.keyLength}"
            )

    def memory(self) -> int:
        """
        @return: the memory one hash needs, in bytes, as OpenSSL counts it
            (the C{maxmem} given to L{hashlib.scrypt}).
        """
        return 128 * self.r * (self.n + self.p + 2)


#: The parameters of new hashes: about 50 ms and 16 MiB per hash on a 2020s
#: machine, the interactive-login setting suggested with scrypt itself.
DEFAULT_PARAMETERS = ScryptParameters(n=2**14, r=8, p=1)


@dataclass(frozen=True)
class _StoredHash:
    """
    A parsed C{scrypt$N$R$P$SALT$HASH} string.
    """

    parameters: ScryptParameters
    salt: bytes
    key: bytes

    def matches(self, password: bytes) -> bool:
        """
        Hash C{password} with this entry's salt and parameters and compare the
        result with the stored key in constant time.  Slow on purpose.
        """
        p = self.parameters
        candidate = hashlib.scrypt(
            password,
            salt=self.salt,
            n=p.n,
            r=p.r,
            p=p.p,
            maxmem=p.memory() + 1024 * 1024,
            dklen=len(self.key),
        )
        return hmac.compare_digest(candidate, self.key)

    def format(self) -> str:
        """
        @return: the C{scrypt$N$R$P$SALT$HASH} form.
        """
        p = self.parameters
        salt = base64.b64encode(self.salt).decode("ascii")
        key = base64.b64encode(self.key).decode("ascii")
        return f"{SCHEME}${p.n}${p.r}${p.p}${salt}${key}"


def _decodeBase64(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error):
        raise ValueError(f"the {what} is not valid base64") from None


def _parseHash(stored: str) -> _StoredHash:
    """
    Parse C{scrypt$N$R$P$SALT$HASH}.

    @raise ValueError: with a reason fit for a person, if C{stored} is not of
        that form or its parameters are out of range.
    """
    fields = stored.split("$")
    if len(fields) != 6:
        raise ValueError("expected a hash of the form scrypt$N$R$P$SALT$HASH")
    scheme, n, r, p, salt, key = fields
    if scheme != SCHEME:
        raise ValueError(f"unknown hash scheme {scheme!r} (only {SCHEME!r} is supported)")
    for name, value in (("N", n), ("R", r), ("P", p)):
        if not _DECIMAL.fullmatch(value):
            raise ValueError(f"scrypt {name} must be a decimal number, not {value!r}")
    saltBytes = _decodeBase64(salt, "salt")
    keyBytes = _decodeBase64(key, "hash")
    parameters = ScryptParameters(
        int(n), int(r), int(p), saltLength=len(saltBytes), keyLength=len(keyBytes)
    )
    return _StoredHash(parameters, saltBytes, keyBytes)


def _utf8(password: str | bytes) -> bytes:
    """
    @return: C{password} as bytes: text is UTF-8 encoded as given, without
        normalisation (see the module docstring).
    """
    if isinstance(password, str):
        return password.encode("utf-8")
    return password


def _passwordProblem(password: bytes) -> str | None:
    """
    Say what makes C{password} unacceptable, if anything.

    An empty password is refused: accepting it would only hide a mistake.
    So is a password with a NUL byte, because scrypt's PBKDF2-HMAC-SHA256
    pads a short password with NULs (RFC 2104 section 2), so C{secret} and
    C{secret\\0} would hash alike; no legitimate password has one (SASL PLAIN,
    RFC 4616, cannot even carry it, and RFC 8265's PRECIS profile for
    passwords disallows control characters).

    @return: the reason, or L{None} if C{password} is acceptable.
    """
    if not password:
        return "is empty"
    if b"\0" in password:
        return "contains a NUL character"
    return None


def _newHash(password: bytes, parameters: ScryptParameters) -> _StoredHash:
    salt = secrets.token_bytes(parameters.saltLength)
    p = parameters
    key = hashlib.scrypt(
        password,
        salt=salt,
        n=p.n,
        r=p.r,
        p=p.p,
        maxmem=p.memory() + 1024 * 1024,
        dklen=p.keyLength,
    )
    return _StoredHash(parameters, salt, key)


def _dummyHash(parameters: ScryptParameters) -> _StoredHash:
    """
    @return: an entry that no password matches (its key is random, not
        derived), hashed against for unknown names so that they cost as
        much time as known ones.
    """
    return _StoredHash(
        parameters,
        secrets.token_bytes(parameters.saltLength),
        secrets.token_bytes(parameters.keyLength),
    )


def hashPassword(password: str | bytes, parameters: ScryptParameters = DEFAULT_PARAMETERS) -> str:
    """
    Hash a password with a fresh random salt.  Slow on purpose: do not call
    it in the reactor thread of a running server.

    @param password: the password; text is UTF-8 encoded as given.
    @param parameters: the scrypt parameters; the default suits interactive
        logins.
    @return: C{scrypt$N$R$P$SALT$HASH}, for a password file or
        L{verifyPassword}.
    @raise ValueError: if the password is empty or contains a NUL character,
        which no checker accepts (see L{_passwordProblem}).
    """
    secret = _utf8(password)
    problem = _passwordProblem(secret)
    if problem is not None:
        raise ValueError(f"the password {problem}")
    return _newHash(secret, parameters).format()


def verifyPassword(password: str | bytes, stored: str) -> bool:
    """
    Check a password against a hash made by L{hashPassword}, in constant time.
    Slow on purpose, like L{hashPassword}.

    @param password: the password to check; text is UTF-8 encoded as given.
    @param stored: C{scrypt$N$R$P$SALT$HASH}.
    @return: whether C{password} is the one C{stored} was made from; always
        C{False} for an empty password or one with a NUL character.
    @raise ValueError: if C{stored} is not a hash of that form: a broken
        configuration, not a wrong password.
    """
    entry = _parseHash(stored)
    secret = _utf8(password)
    if _passwordProblem(secret) is not None:
        return False
    return entry.matches(secret)


def validateUsername(name: str) -> None:
    """
    Check that C{name} can be a user in a password file or on the command
    line.

    A name may not be empty, contain C{:} (it ends the name on a line of the
    file and in C{NAME:PASSWORD}), contain line breaks or other characters
    that are not printable, begin or end with white space (invisible in a
    file, and surely a mistake), or begin with C{#} (such a line is a
    comment).

    @raise ValueError: saying which rule C{name} breaks.
    """
    if not name:
        raise ValueError("the user name is empty")
    if ":" in name:
        raise ValueError(f"user name {name!r} contains ':'")
    if not name.isprintable():
        raise ValueError(f"user name {name!r} contains a line break or a non-printable character")
    if name != name.strip():
        raise ValueError(f"user name {name!r} begins or ends with white space")
    if name.startswith("#"):
        raise ValueError(f"user name {name!r} begins with '#'")


def parseUserSpec(spec: str) -> tuple[str, str]:
    """
    Split the value of a C{--user NAME:PASSWORD} option.

    The name ends at the first colon; the password is the rest and may hold
    colons itself.  Error messages never repeat the password.

    @param spec: C{"alice:secret"}.
    @return: C{("alice", "secret")}.
    @raise ValueError: if there is no colon, the name is not valid (see
        L{validateUsername}) or the password is empty or contains a NUL
        character.
    """
    name, colon, password = spec.partition(":")
    if not colon:
        raise ValueError("a user must be given as NAME:PASSWORD (no ':' found)")
    validateUsername(name)
    problem = _passwordProblem(_utf8(password))
    if problem is not None:
        raise ValueError(f"the password of user {name!r} {problem}")
    return name, password


class PasswordFileError(ValueError):
    """
    A password file cannot be read or has a malformed line.

    @ivar path: the file.
    @ivar lineNumber: the line at fault, counted from 1, or L{None} when the
        fault is with the whole file (it cannot be read).
    @ivar reason: what is wrong.
    """

    def __init__(self, path: str, lineNumber: int | None, reason: str) -> None:
        self.path = path
        self.lineNumber = lineNumber
        self.reason = reason
        where = path if lineNumber is None else f"{path}, line {lineNumber}"
        super().__init__(f"{where}: {reason}")


@dataclass
class _ParsedFile:
    """
    A password file: its lines, kept so that L{addUser} can rewrite the file
    without touching comments, and its entries.

    @ivar lines: every line, decoded, without its line feed.
    @ivar entries: user name to the index of its line and its hash.
    """

    lines: list[str]
    entries: dict[str, tuple[int, _StoredHash]]


def _parsePasswordFile(data: bytes, path: str) -> _ParsedFile:
    """
    Parse the contents of a password file.

    @raise PasswordFileError: naming the first bad line.
    """
    rawLines = data.split(b"\n")
    if rawLines and rawLines[-1] == b"":
        rawLines.pop()
    lines: list[str] = []
    entries: dict[str, tuple[int, _StoredHash]] = {}
    for index, raw in enumerate(rawLines):
        lineNumber = index + 1
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise PasswordFileError(path, lineNumber, "not valid UTF-8") from None
        lines.append(line)
        content = line.strip()
        if not content or content.startswith("#"):
            continue
        # Trailing white space (a CR from a DOS editor) is harmless: neither a
        # hash nor a name can end with it.
        name, colon, stored = line.rstrip().partition(":")
        if not colon:
            raise PasswordFileError(
                path, lineNumber, "expected NAME:scrypt$N$R$P$SALT$HASH (no ':' found)"
            )
        try:
            validateUsername(name)
            entry = _parseHash(stored)
        except ValueError as e:
            raise PasswordFileError(path, lineNumber, str(e)) from None
        if name in entries:
            first = entries[name][0] + 1
            raise PasswordFileError(path, lineNumber, f"user {name!r} is already on line {first}")
        entries[name] = (index, entry)
    return _ParsedFile(lines, entries)


def _readPasswordFile(path: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as e:
        raise PasswordFileError(path, None, f"cannot read: {e.strerror}") from None


def addUser(
    path: str | os.PathLike[str],
    name: str,
    password: str | bytes,
    parameters: ScryptParameters = DEFAULT_PARAMETERS,
) -> bool:
    """
    Add a user to a password file, or give an existing user a new password.

    The file is created if missing.  Every other line, comments included, is
    kept as it was; a new user goes at the end.  The file is replaced
    atomically (see L{netref.core.durable.writeAtomically}) with mode 0600, so a running
    L{PasswordFileChecker} sees the old file or the new one.  Two programs
    changing the same file at once may lose one change: there is no locking.

    @param path: the password file.
    @param name: the user name (see L{validateUsername}).
    @param password: the new password; not empty, no NUL character.
    @param parameters: the scrypt parameters of the new hash.
    @return: C{True} if the user existed and was given a new password,
        C{False} if the user was added.
    @raise ValueError: if the name or the password is not acceptable.
    @raise PasswordFileError: if the existing file cannot be read or is
        malformed: it is left alone rather than rewritten.
    """
    where = os.fspath(path)
    validateUsername(name)
    line = f"{name}:{hashPassword(password, parameters)}"
    if os.path.exists(where):
        parsed = _parsePasswordFile(_readPasswordFile(where), where)
    else:
        parsed = _ParsedFile([], {})
    existing = parsed.entries.get(name)
    if existing is None:
        parsed.lines.append(line)
    else:
        parsed.lines[existing[0]] = line
    writeAtomically(
        where, "".join(f"{each}\n" for each in parsed.lines).encode("utf-8"), private=True
    )
    return existing is not None


#: Runs a slow, blocking check somewhere it does not stall the reactor and
#: gives its result as a Deferred: L{deferToThread}, L{runSynchronously}, or
#: for a chosen reactor and pool, C{lambda f: deferToThreadPool(reactor,
#: pool, f)}.
HashRunner = Callable[[Callable[[], bool]], Deferred[bool]]


def runSynchronously(f: Callable[[], _T]) -> Deferred[_T]:
    """
    A L{HashRunner} that calls C{f} at once, in the calling thread: for tests
    and command-line tools, where blocking is fine.

    @return: a Deferred that has already fired with C{f}'s result or failed
        with its exception.
    """
    try:
        result = f()
    except BaseException:
        return defer.fail()
    return defer.succeed(result)


_BAD_LOGIN = "bad user name or password"


class _ScryptChecker:
    """
    What both checkers share: taking credentials apart, hashing off the
    reactor thread, and treating unknown names like wrong passwords.
    """

    credentialInterfaces = (IUsernamePassword,)

    def __init__(self, runHash: HashRunner) -> None:
        self._runHash = runHash

    def _current(self) -> tuple[dict[bytes, _StoredHash], _StoredHash]:
        """
        @return: the entries, by UTF-8 name, and the dummy entry for
            unknown names.
        """
        raise NotImplementedError()

    def requestAvatarId(self, credentials: IUsernamePassword) -> Deferred[bytes | tuple[()]]:
        """
        Check a name and password.

        The hash runs through the checker's L{HashRunner}.  An unknown name
        is hashed against a dummy entry so that it takes as long as a wrong
        password; both fail with the same L{UnauthorizedLogin}.  An empty
        password, or one with a NUL character, fails at once without
        hashing: that reveals nothing about the name.

        @param credentials: an L{IUsernamePassword}; its C{username} and
            C{password} may be bytes or text (UTF-8 encoded as given).
        @return: a Deferred that fires with the user name as UTF-8 bytes (the
            avatar id) or fails with L{UnauthorizedLogin}, or with
            L{PasswordFileError} if a password file became unusable (a
            protocol should answer that with its temporary failure, such as
            SMTP's 454 4.7.0 of RFC 4954 section 6, not with "wrong
            password").
        """
        username = _utf8(credentials.username)
        password = _utf8(credentials.password)
        if _passwordProblem(password) is not None:
            return defer.fail(UnauthorizedLogin(_BAD_LOGIN))
        try:
            entries, dummy = self._current()
        except PasswordFileError:
            return defer.fail()
        entry = entries.get(username)

        def check() -> bool:
            if entry is None:
                dummy.matches(password)
                return False
            return entry.matches(password)

        def decide(matched: bool) -> bytes | tuple[()]:
            if not matched:
                raise UnauthorizedLogin(_BAD_LOGIN)
            return username

        return self._runHash(check).addCallback(decide)


@implementer(ICredentialsChecker)
class PasswordFileChecker(_ScryptChecker):
    """
    Checks L{IUsernamePassword} credentials against a password file (the
    format is in the module docstring).

    The file is read when the checker is made, so a service with a broken
    file fails as it starts, and again at every check; it is parsed again
    whenever its contents changed.  So L{addUser} and editing the file take
    effect at the next login, with no restart.  Comparing contents, rather
    than modification times, cannot miss two changes within one tick of the
    file system's clock, and reading a small file costs nothing beside the
    hash that follows.  If the file becomes unreadable or malformed, every
    check fails with L{PasswordFileError} (and it is logged) until it is
    fixed: an edit that broke the file must not leave a removed user able to
    log in.

    L{IUsernameHashedPassword} (CRAM-MD5, APOP, HTTP digest) is not
    supported: those mechanisms prove knowledge of the clear password or of
    a password-equivalent hash, and this file stores neither, by design.

    @ivar path: the password file.
    """

    def __init__(self, path: str | os.PathLike[str], runHash: HashRunner = deferToThread) -> None:
        """
        @param path: the password file.
        @param runHash: runs the hash; by default in the reactor's thread
            pool.
        @raise PasswordFileError: if the file cannot be read or is malformed.
        """
        super().__init__(runHash)
        self.path = os.fspath(path)
        self._contents: bytes | None = None
        self._entries: dict[bytes, _StoredHash] = {}
        self._dummy = _dummyHash(DEFAULT_PARAMETERS)
        self._load()

    def _load(self) -> None:
        """
        Read the file, and parse it if it changed since the last time.

        @raise PasswordFileError: if it cannot be read or is malformed; then
            no user is left.
        """
        try:
            contents = _readPasswordFile(self.path)
            if contents != self._contents:
                parsed = _parsePasswordFile(contents, self.path)
                self._entries = {
                    name.encode("utf-8"): entry for name, (_, entry) in parsed.entries.items()
                }
                self._dummy = _dummyHash(_commonParameters(self._entries.values()))
                self._contents = contents
        except PasswordFileError:
            self._contents = None
            self._entries = {}
            raise

    def _current(self) -> tuple[dict[bytes, _StoredHash], _StoredHash]:
        try:
            self._load()
        except PasswordFileError as e:
            _log.error("Refusing every login: {error}", error=str(e))
            raise
        return self._entries, self._dummy


def _commonParameters(entries: Iterable[_StoredHash]) -> ScryptParameters:
    """
    @return: the parameters that most entries use, or L{DEFAULT_PARAMETERS}
        if there are none, for the dummy hash: an unknown name then costs
        what most known names cost.  (Entries with other parameters, from
        before the parameters were raised, remain distinguishable by their
        timing; giving them new passwords fixes that.)
    """
    counts = Counter(entry.parameters for entry in entries)
    if not counts:
        return DEFAULT_PARAMETERS
    return counts.most_common(1)[0][0]


@implementer(ICredentialsChecker)
class MemoryPasswordChecker(_ScryptChecker):
    """
    Checks L{IUsernamePassword} credentials against users given in memory,
    such as C{--user NAME:PASSWORD} options.

    The passwords are hashed as the checker is made, and only the hashes are
    kept, so no clear password stays reachable from a running service
    through the checker.  (Python cannot wipe a string: the caller should
    drop its own references, such as the parsed options, once the checker is
    made.)  Hashing every user takes a moment at start-up with the default
    parameters.  As for L{PasswordFileChecker}, L{IUsernameHashedPassword}
    is not supported.
    """

    def __init__(
        self,
        users: Iterable[tuple[str, str | bytes]],
        parameters: ScryptParameters = DEFAULT_PARAMETERS,
        runHash: HashRunner = deferToThread,
    ) -> None:
        """
        @param users: C{(name, password)} pairs.
        @param parameters: the scrypt parameters for the hashes.
        @param runHash: runs the hash at each check; by default in the
            reactor's thread pool.
        @raise ValueError: if a name is invalid (see L{validateUsername}) or
            given twice, or a password is empty or contains a NUL
            character.
        """
        super().__init__(runHash)
        self._entries: dict[bytes, _StoredHash] = {}
        for name, password in users:
            validateUsername(name)
            key = name.encode("utf-8")
            if key in self._entries:
                raise ValueError(f"user {name!r} is given twice")
            secret = _utf8(password)
            problem = _passwordProblem(secret)
            if problem is not None:
                raise ValueError(f"the password of user {name!r} {problem}")
            self._entries[key] = _newHash(secret, parameters)
        self._dummy = _dummyHash(parameters)

    @classmethod
    def fromUserSpecs(
        cls,
        specs: Iterable[str],
        parameters: ScryptParameters = DEFAULT_PARAMETERS,
        runHash: HashRunner = deferToThread,
    ) -> MemoryPasswordChecker:
        """
        Make a checker from C{--user} values.

        @param specs: C{NAME:PASSWORD} strings (see L{parseUserSpec}).
        @raise ValueError: as L{parseUserSpec} and the constructor do.
        """
        return cls((parseUserSpec(spec) for spec in specs), parameters, runHash)

    def _current(self) -> tuple[dict[bytes, _StoredHash], _StoredHash]:
        return self._entries, self._dummy


def _readNewPassword(name: str, stdin: IO[str]) -> str:
    """
    Ask for a password twice, without echo, on a terminal; otherwise read
    one line (for scripts: C{echo secret | python -m netref.core.auth ...}).
    """
    if stdin.isatty():
        first = getpass.getpass(f"Password for {name}: ")
        if getpass.getpass("Again: ") != first:
            raise ValueError("the passwords do not match")
        return first
    line = stdin.readline()
    if line.endswith("\n"):
        line = line[:-1]
    if line.endswith("\r"):
        line = line[:-1]
    return line


def main(
    argv: Sequence[str] | None = None,
    stdin: IO[str] | None = None,
    stdout: IO[str] | None = None,
    stderr: IO[str] | None = None,
) -> int:
    """
    The command line: C{python -m netref.core.auth add FILE NAME} adds a user
    to a password file or gives it a new password, read from standard input
    (asked twice without echo on a terminal).

    @param argv: the arguments, without the program name.
    @return: the exit status: 0 on success, 1 with a one-line reason on
        standard error on failure.  Usage errors exit 2 through
        L{argparse}.
    """
    stdin = sys.stdin if stdin is None else stdin
    stdout = sys.stdout if stdout is None else stdout
    stderr = sys.stderr if stderr is None else stderr
    parser = argparse.ArgumentParser(
        prog="python -m netref.core.auth",
        description="Manage netref password files (NAME:scrypt$N$R$P$SALT$HASH lines).",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    add = commands.add_parser(
        "add", help="Add a user or give it a new password, read from standard input."
    )
    add.add_argument("file", help="The password file; created with mode 0600 if missing.")
    add.add_argument("name", help="The user name.")
    arguments = parser.parse_args(argv)
    try:
        validateUsername(arguments.name)
        password = _readNewPassword(arguments.name, stdin)
        replaced = addUser(arguments.file, arguments.name, password)
    except (ValueError, OSError) as e:
        stderr.write(f"netref.core.auth: {e}\n")
        return 1
    stdout.write(f"{'changed the password of' if replaced else 'added'} {arguments.name}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
