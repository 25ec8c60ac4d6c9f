"""
Who receives mail here: local domains, users and aliases.

A mail server must know which domains are its own, to deliver their mail
itself and relay nothing else for strangers (RFC 5321 section 3.6), and
which mailboxes exist in them, to refuse unknown recipients at RCPT time
(C{550 5.1.1}, RFC 3463) instead of accepting mail and bouncing it later.

L{MailAccounts} is that knowledge, as the L{IRecipientPolicy} the SMTP
server asks.  Passwords are not here: they live in a twisted.cred checker
(L{netref.core.auth}, built by
L{netref.core.service.AccountOptions.accountsChecker}); this module only
needs the users' names, which it can read from the same password file.

An address is local when its domain is one of the local domains; its local
part is then a user (compared without regard to case, as RFC 5321 section
2.4 advises, unless two users differ only in case), or an alias.  Aliases
work like C{/etc/aliases}::

    # alias: target, target
    postmaster: alice
    team: alice, bob
    info@hamburger.edu: bob

An alias applies in every local domain, unless written as a full address,
which applies in that domain only and wins over the plain form.  A target
is a user, another alias, or an address in a local domain.  Forwarding to
other domains is not supported: aliases name local mailboxes only.

The local part is taken literally: C{"bob@other.org"@hamburger.edu},
C{bob%other.org@hamburger.edu} and C{other.org!bob@hamburger.edu} are
local parts nobody has, never routes to somewhere else (the C{%} and C{!}
hacks of old are how open relays were abused, RFC 2505 section 2.6).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from zope.interface import implementer

from netref.smtp.interfaces import IRecipientPolicy
from netref.smtp.wire import splitAddress

__all__ = ["AliasError", "MailAccounts", "parseAliases", "userNamesFromPasswordFile"]

#: How deep an alias may refer to other aliases before it is taken for a loop.
MAX_ALIAS_DEPTH = 10


class AliasError(ValueError):
    """
    An aliases file or mapping is malformed: a bad line, a loop, or a
    target that is neither a user, an alias nor a local address.
    """


def parseAliases(text: str) -> dict[str, list[str]]:
    """
    Parse an aliases file: C{alias: target, target} per line, with blank
    lines and C{#} comments ignored.  Alias names are lower-cased.

    @raise AliasError: for a line without a colon or without targets, or
        an alias given twice.
    """
    aliases: dict[str, list[str]] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, colon, rest = line.partition(":")
        name = name.strip().lower()
        targets = [t.strip() for t in rest.split(",") if t.strip()]
        if not colon or not name or not targets:
            raise AliasError(f"line {number}: expected 'alias: target, target'")
        if name in aliases:
            raise AliasError(f"line {number}: alias {name!r} given twice")
        aliases[name] = targets
    return aliases


def userNamesFromPasswordFile(path: str) -> list[str]:
    """
    The user names of a password file (L{netref.core.auth}'s format,
    C{NAME:HASH} per line), without reading or checking the hashes.
    """
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    names = []
    for line in lines:
        content = line.strip()
        if content and not content.startswith("#"):
            names.append(line.partition(":")[0])
    return names


@implementer(IRecipientPolicy)
class MailAccounts:
    """
    The local domains, users and aliases of one mail server.
    """

    def __init__(
        self,
        domains: Iterable[str],
        users: Iterable[str],
        aliases: Mapping[str, Sequence[str]] = {},  # noqa: B006 (never mutated)
    ) -> None:
        """
        @param domains: the local domains (case-insensitive).
        @param users: the users, each with a mailbox.
        @param aliases: alias (a local part, or C{local@domain}) to its
            targets; see the module docstring.
        @raise AliasError: for an alias loop or a target that reaches no
            local mailbox.
        """
        self.domains = frozenset(d.lower().rstrip(".") for d in domains)
        self.users = tuple(users)
        self._exact = set(self.users)
        self._folded: dict[str, str | None] = {}
        for user in self.users:
            key = user.lower()
            # Two users differing only in case: only exact matches reach them.
            self._folded[key] = None if key in self._folded else user
        self.aliases = {name.lower(): tuple(targets) for name, targets in aliases.items()}
        for name in self.aliases:
            self._expand(name, "", 0)

    @classmethod
    def fromFiles(
        cls,
        domains: Iterable[str],
        usersFile: str | None = None,
        aliasesFile: str | None = None,
        users: Iterable[str] = (),
    ) -> MailAccounts:
        """
        Make accounts from a password file's names, more user names, and
        an aliases file.
        """
        names = list(users)
        if usersFile is not None:
            names.extend(userNamesFromPasswordFile(usersFile))
        aliases: dict[str, list[str]] = {}
        if aliasesFile is not None:
            with open(aliasesFile, encoding="utf-8") as f:
                aliases = parseAliases(f.read())
        return cls(domains, names, aliases)

    def isLocalDomain(self, domain: str) -> bool:
        """
        Whether C{domain} is one of ours.  An address literal such as
        C{[127.0.0.1]} is not (RFC 5321 section 4.1.3 lets a server decide).
        """
        return domain.lower().rstrip(".") in self.domains

    def _user(self, localPart: str) -> str | None:
        if localPart in self._exact:
            return localPart
        return self._folded.get(localPart.lower())

    def _expand(self, name: str, domain: str, depth: int) -> list[str] | None:
        """
        Resolve a local part (in C{domain}, or in any local domain when
        C{domain} is empty) to users, following aliases.
        """
        if depth > MAX_ALIAS_DEPTH:
            raise AliasError(f"alias loop through {name!r}")
        targets = None
        if domain:
            targets = self.aliases.get(f"{name.lower()}@{domain}")
        if targets is None:
            targets = self.aliases.get(name.lower())
        if targets is None:
            user = self._user(name)
            return None if user is None else [user]
        users: list[str] = []
        for target in targets:
            local, targetDomain = splitAddress(target)
            if targetDomain and not self.isLocalDomain(targetDomain):
                raise AliasError(f"alias {name!r}: {target!r} is not in a local domain")
            reached = self._expand(local, targetDomain, depth + 1)
            if reached is None:
                raise AliasError(f"alias {name!r}: {target!r} is no user or alias")
            users.extend(u for u in reached if u not in users)
        return users

    def localMailboxes(self, address: str) -> Sequence[str] | None:
        """
        The users C{address} reaches, or L{None} for no such local
        recipient.  C{"postmaster"} without a domain (RFC 5321 section
        4.1.1.3) is the postmaster of every local domain.
        """
        localPart, domain = splitAddress(address)
        if domain and not self.isLocalDomain(domain):
            return None
        if not domain and localPart.lower() != "postmaster":
            return None
        return self._expand(localPart, domain.rstrip("."), 0)
