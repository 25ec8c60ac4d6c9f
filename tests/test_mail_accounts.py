"""
Tests for L{netref.mail.accounts}: local domains, users and aliases, the
recipient policy of the SMTP server.
"""

from __future__ import annotations

from twisted.trial.unittest import SynchronousTestCase
from zope.interface.verify import verifyObject

from netref.core import auth
from netref.mail.accounts import (
    AliasError,
    MailAccounts,
    parseAliases,
    userNamesFromPasswordFile,
)
from netref.smtp.interfaces import IRecipientPolicy

FAST = auth.ScryptParameters(n=16, r=1, p=1)


def accounts() -> MailAccounts:
    return MailAccounts(
        ["hamburger.edu", "Mail.Hamburger.EDU."],
        ["bob", "alice", "Carol"],
        {
            "postmaster": ["bob"],
            "team": ["bob", "alice", "bob"],
            "all": ["team", "carol@hamburger.edu"],
            "info@mail.hamburger.edu": ["alice"],
        },
    )


class PolicyTests(SynchronousTestCase):
    """
    L{MailAccounts} as an L{IRecipientPolicy}.
    """

    def test_interface(self) -> None:
        self.assertTrue(verifyObject(IRecipientPolicy, accounts()))

    def test_localDomains(self) -> None:
        policy = accounts()
        self.assertTrue(policy.isLocalDomain("hamburger.edu"))
        self.assertTrue(policy.isLocalDomain("HAMBURGER.edu."))
        self.assertTrue(policy.isLocalDomain("mail.hamburger.edu"))
        self.assertFalse(policy.isLocalDomain("crepes.fr"))
        self.assertFalse(policy.isLocalDomain("[127.0.0.1]"))

    def test_users(self) -> None:
        policy = accounts()
        self.assertEqual(policy.localMailboxes("bob@hamburger.edu"), ["bob"])
        self.assertEqual(policy.localMailboxes("BOB@Hamburger.EDU"), ["bob"])
        self.assertEqual(policy.localMailboxes("carol@mail.hamburger.edu"), ["Carol"])
        self.assertIsNone(policy.localMailboxes("nobody@hamburger.edu"))
        self.assertIsNone(policy.localMailboxes("bob@crepes.fr"))

    def test_aliases(self) -> None:
        policy = accounts()
        self.assertEqual(policy.localMailboxes("team@hamburger.edu"), ["bob", "alice"])
        self.assertEqual(policy.localMailboxes("all@hamburger.edu"), ["bob", "alice", "Carol"])
        self.assertEqual(policy.localMailboxes("Postmaster@hamburger.edu"), ["bob"])

    def test_domainAlias(self) -> None:
        """
        An alias written as a full address applies in its domain only.
        """
        policy = accounts()
        self.assertEqual(policy.localMailboxes("info@mail.hamburger.edu"), ["alice"])
        self.assertIsNone(policy.localMailboxes("info@hamburger.edu"))

    def test_postmasterWithoutDomain(self) -> None:
        """
        RFC 5321 section 4.1.1.3: C{<Postmaster>} alone.
        """
        self.assertEqual(accounts().localMailboxes("postmaster"), ["bob"])
        self.assertIsNone(accounts().localMailboxes("bob"))

    def test_literalLocalParts(self) -> None:
        """
        Quoted, C{%} and C{!} local parts are taken literally, never as
        routes; a quoted user name is that user.
        """
        policy = accounts()
        for address in [
            '"bob@crepes.fr"@hamburger.edu',
            "bob%crepes.fr@hamburger.edu",
            "crepes.fr!bob@hamburger.edu",
        ]:
            self.assertIsNone(policy.localMailboxes(address), address)
        self.assertEqual(policy.localMailboxes('"bob"@hamburger.edu'), ["bob"])

    def test_usersDifferingInCase(self) -> None:
        policy = MailAccounts(["x.org"], ["ann", "Ann"])
        self.assertEqual(policy.localMailboxes("Ann@x.org"), ["Ann"])
        self.assertEqual(policy.localMailboxes("ann@x.org"), ["ann"])
        self.assertIsNone(policy.localMailboxes("ANN@x.org"))


class AliasTests(SynchronousTestCase):
    """
    The aliases file and its checks.
    """

    def test_parse(self) -> None:
        text = "# comment\n\npostmaster: bob\nTeam: bob, alice ,\n"
        self.assertEqual(parseAliases(text), {"postmaster": ["bob"], "team": ["bob", "alice"]})

    def test_parseErrors(self) -> None:
        for text in ["no colon\n", "x:\n", ": bob\n", "a: b\na: c\n"]:
            self.assertRaises(AliasError, parseAliases, text)

    def test_loop(self) -> None:
        self.assertRaises(AliasError, MailAccounts, ["x.org"], ["u"], {"a": ["b"], "b": ["a"]})

    def test_unknownTarget(self) -> None:
        self.assertRaises(AliasError, MailAccounts, ["x.org"], ["u"], {"a": ["nobody"]})

    def test_remoteTarget(self) -> None:
        self.assertRaises(AliasError, MailAccounts, ["x.org"], ["u"], {"a": ["u@y.org"]})


class FileTests(SynchronousTestCase):
    """
    L{MailAccounts.fromFiles}: users from a password file, aliases from a
    file.
    """

    def test_fromFiles(self) -> None:
        users = self.mktemp()
        auth.addUser(users, "bob", "secret", FAST)
        auth.addUser(users, "alice", "secret2", FAST)
        with open(users, "a") as f:
            f.write("# a comment\n\n")
        aliases = self.mktemp()
        with open(aliases, "w") as f:
            f.write("postmaster: bob\nfriends: alice, carol\n")
        self.assertEqual(userNamesFromPasswordFile(users), ["bob", "alice"])
        policy = MailAccounts.fromFiles(["hamburger.edu"], users, aliases, users=["carol"])
        self.assertEqual(policy.localMailboxes("friends@hamburger.edu"), ["alice", "carol"])
        self.assertEqual(sorted(policy.users), ["alice", "bob", "carol"])
