"""
Tests for L{netref.mail.maildir}: atomic delivery, unique names, flags,
Maildir++ folders and stable UIDs, checked also with Python's C{mailbox}.
"""

from __future__ import annotations

import mailbox
import os
import re
import sys
import time
from collections.abc import Generator
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from twisted.internet import defer
from twisted.internet.utils import getProcessOutputAndValue
from twisted.trial.unittest import SkipTest, SynchronousTestCase, TestCase

from netref.mail import maildir
from netref.mail.maildir import (
    INBOX,
    UIDS_FILE,
    FolderError,
    Maildir,
    MaildirStore,
    decodeFolderName,
    encodeFolderName,
    uniqueName,
)
from tests.support import docsPage, embeddingExample

MESSAGE = b"From: alice@crepes.fr\r\nSubject: hi\r\n\r\nDo you like ketchup?\r\n"


class StoreTestCase(SynchronousTestCase):
    def setUp(self) -> None:
        self.root = self.mktemp()
        self.store = MaildirStore(self.root)

    def listing(self, *parts: str) -> list[str]:
        return sorted(os.listdir(os.path.join(self.root, *parts)))


class DeliveryTests(StoreTestCase):
    """
    L{MaildirStore.deliver} and L{MaildirFolder.deliver}.
    """

    def test_layout(self) -> None:
        """
        A user's Maildir has tmp, new and cur; a message lands in new.
        """
        key = self.store.deliver("bob", MESSAGE)
        self.assertEqual(self.listing("bob", "new"), [key])
        self.assertEqual(self.listing("bob", "tmp"), [])
        self.assertEqual(self.listing("bob", "cur"), [])
        self.assertEqual(os.stat(os.path.join(self.root, "bob")).st_mode & 0o777, 0o700)

    def test_storedWithLF(self) -> None:
        key = self.store.deliver("bob", MESSAGE)
        with open(os.path.join(self.root, "bob", "new", key), "rb") as f:
            self.assertEqual(f.read(), MESSAGE.replace(b"\r\n", b"\n"))
        self.assertEqual(self.store.mailbox("bob").read(key, crlf=True), MESSAGE)

    def test_uniqueName(self) -> None:
        """
        C{SECONDS.MusecPpidQcounter.HOST,S=size,W=size}.
        """
        key = self.store.deliver("bob", MESSAGE)
        lf = MESSAGE.replace(b"\r\n", b"\n")
        match = re.fullmatch(r"(\d+)\.M(\d+)P(\d+)Q(\d+)\.([^,/:]+),S=(\d+),W=(\d+)", key)
        assert match is not None, key
        self.assertLess(abs(int(match[1]) - time.time()), 5)
        self.assertEqual(int(match[3]), os.getpid())
        self.assertEqual((int(match[6]), int(match[7])), (len(lf), len(MESSAGE)))
        self.assertNotEqual(self.store.deliver("bob", MESSAGE), key)

    def test_hostEscaped(self) -> None:
        """
        The Maildir spec: C{/} and C{:} in the host name are escaped.
        """
        self.patch(maildir.socket, "gethostname", lambda: "odd/host:name")
        self.assertTrue(uniqueName(1.5).endswith(".odd\\057host\\072name"))
        self.assertTrue(uniqueName(1.5).startswith("1.M500000P"))

    def test_nothingInNewUntilComplete(self) -> None:
        """
        While the message is being written, it is only in tmp.
        """
        folder = self.store.mailbox("bob")
        seen: list[tuple[list[str], list[str]]] = []
        original = folder._writeFile

        def watch(path: str, data: bytes) -> None:
            original(path, data)
            seen.append((self.listing("bob", "tmp"), self.listing("bob", "new")))

        folder._writeFile = watch  # type: ignore[method-assign]
        key = folder.deliver(MESSAGE)
        self.assertEqual(seen, [([key], [])])
        self.assertEqual(self.listing("bob", "new"), [key])

    def test_failedWrite(self) -> None:
        """
        A write that fails leaves nothing in new/ and removes its tmp file.
        """
        folder = self.store.mailbox("bob")

        def broken(path: str, data: bytes) -> None:
            with open(path, "wb") as f:
                f.write(data[:5])
            raise OSError(28, "No space left on device")

        folder._writeFile = broken  # type: ignore[method-assign]
        self.assertRaises(OSError, folder.deliver, MESSAGE)
        self.assertEqual(self.listing("bob", "new"), [])
        self.assertEqual(self.listing("bob", "tmp"), [])
        self.assertEqual(folder.messages(), [])

    def test_crash(self) -> None:
        """
        A process killed in the middle of a delivery leaves only a partial
        file in tmp/, which no listing shows and cleaning removes once old.
        """
        folder = self.store.mailbox("bob")
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child
            try:

                def dies(path: str, data: bytes) -> None:
                    with open(path, "wb") as f:
                        f.write(data[:10])
                    os._exit(0)

                folder._writeFile = dies  # type: ignore[method-assign]
                folder.deliver(MESSAGE)
            finally:
                os._exit(1)
        _, status = os.waitpid(pid, 0)
        self.assertEqual(os.waitstatus_to_exitcode(status), 0)
        self.assertEqual(self.listing("bob", "new"), [])
        [junk] = self.listing("bob", "tmp")
        self.assertEqual(os.path.getsize(os.path.join(self.root, "bob", "tmp", junk)), 10)
        self.assertEqual(folder.messages(), [])
        self.assertEqual(folder.cleanTemporary(), 0)
        self.assertEqual(folder.cleanTemporary(now=time.time() + 37 * 3600), 1)
        self.assertEqual(self.listing("bob", "tmp"), [])

    def test_deliverWithFlags(self) -> None:
        folder = self.store.mailbox("bob")
        key = folder.deliver(MESSAGE, flags="SF")
        self.assertEqual(self.listing("bob", "cur"), [f"{key}:2,FS"])
        self.assertEqual(folder.flags(key), "FS")

    def test_badUser(self) -> None:
        for user in ["", "../etc", "a/b", ".hidden"]:
            self.assertRaises(ValueError, self.store.mailbox, user)


class UIDTests(StoreTestCase):
    """
    UIDs and UIDVALIDITY: stable across reopening, given in delivery order.
    """

    def test_assignedWhenListed(self) -> None:
        folder = self.store.mailbox("bob")
        keys = [folder.deliver(MESSAGE + bytes([65 + i])) for i in range(3)]
        infos = folder.messages()
        self.assertEqual([(i.uid, i.key) for i in infos], list(zip([1, 2, 3], keys, strict=True)))
        self.assertTrue(all(i.recent and i.flags == "" for i in infos))
        self.assertEqual(folder.uidNext, 4)

    def test_stableAcrossReopen(self) -> None:
        folder = self.store.mailbox("bob")
        for _ in range(3):
            folder.deliver(MESSAGE)
        first = [(i.uid, i.key) for i in folder.messages()]
        validity = folder.uidValidity
        again = Maildir(os.path.join(self.root, "bob"))
        self.assertEqual([(i.uid, i.key) for i in again.messages()], first)
        self.assertEqual(again.uidValidity, validity)

    def test_neverReused(self) -> None:
        """
        A removed message's UID is not given again; new mail gets the next.
        """
        folder = self.store.mailbox("bob")
        keys = [folder.deliver(MESSAGE) for _ in range(3)]
        folder.messages()
        folder.remove(keys[2])
        folder.remove(keys[0])
        new = folder.deliver(MESSAGE)
        self.assertEqual([(i.uid, i.key) for i in folder.messages()], [(2, keys[1]), (4, new)])
        reopened = MaildirStore(self.root).mailbox("bob")
        self.assertEqual([i.uid for i in reopened.messages()], [2, 4])

    def test_flagsKeepUID(self) -> None:
        folder = self.store.mailbox("bob")
        keys = [folder.deliver(MESSAGE) for _ in range(2)]
        folder.messages()
        folder.setFlags(keys[0], "S")
        infos = folder.messages()
        self.assertEqual(
            [(i.uid, i.flags, i.recent) for i in infos], [(1, "S", False), (2, "", True)]
        )

    def test_lostFileNewValidity(self) -> None:
        """
        Without its UID file a folder starts over with a new UIDVALIDITY.
        """
        self.patch(maildir, "_now", lambda: 1_000_000)
        folder = self.store.mailbox("bob")
        folder.deliver(MESSAGE)
        folder.messages()
        self.assertEqual(folder.uidValidity, 1_000_000)
        os.unlink(os.path.join(folder.path, UIDS_FILE))
        self.patch(maildir, "_now", lambda: 1_000_050)
        self.assertEqual([i.uid for i in folder.messages()], [1])
        self.assertEqual(folder.uidValidity, 1_000_050)

    def test_corruptFile(self) -> None:
        folder = self.store.mailbox("bob")
        folder.deliver(MESSAGE)
        with open(os.path.join(folder.path, UIDS_FILE), "w") as f:
            f.write("garbage\n")
        self.assertEqual([i.uid for i in folder.messages()], [1])

    def test_fileFormat(self) -> None:
        self.patch(maildir, "_now", lambda: 1234)
        folder = self.store.mailbox("bob")
        key = folder.deliver(MESSAGE)
        folder.messages()
        with open(os.path.join(folder.path, UIDS_FILE)) as f:
            self.assertEqual(f.read(), f"netref-uids 1 1234 2\n1 {key}\n")


class FlagTests(StoreTestCase):
    """
    Flags live in the file name, after C{:2,}, in ASCII order.
    """

    def test_setAddRemove(self) -> None:
        folder = self.store.mailbox("bob")
        key = folder.deliver(MESSAGE)
        folder.setFlags(key, "SR")
        self.assertEqual(self.listing("bob", "cur"), [f"{key}:2,RS"])
        self.assertEqual(self.listing("bob", "new"), [])
        folder.addFlags(key, "F")
        self.assertEqual(folder.flags(key), "FRS")
        folder.removeFlags(key, "R")
        self.assertEqual(self.listing("bob", "cur"), [f"{key}:2,FS"])
        self.assertEqual(folder.read(key), MESSAGE.replace(b"\r\n", b"\n"))

    def test_badFlags(self) -> None:
        folder = self.store.mailbox("bob")
        key = folder.deliver(MESSAGE)
        self.assertRaises(ValueError, folder.setFlags, key, "S:2")

    def test_unknownKey(self) -> None:
        folder = self.store.mailbox("bob")
        self.assertRaises(KeyError, folder.read, "nope")
        self.assertRaises(KeyError, folder.read, "../../etc/passwd")


class FolderTests(StoreTestCase):
    """
    Maildir++ folders.
    """

    def test_create(self) -> None:
        box = self.store.mailbox("bob")
        sent = box.createFolder("Sent")
        self.assertEqual(sent.path, os.path.join(self.root, "bob", ".Sent"))
        self.assertTrue(os.path.exists(os.path.join(sent.path, "maildirfolder")))
        self.assertEqual(self.listing("bob", ".Sent"), ["cur", "maildirfolder", "new", "tmp"])
        self.assertEqual(box.folderNames(), ["Sent"])
        self.assertRaises(FolderError, box.createFolder, "Sent")

    def test_nestedAndNonASCII(self) -> None:
        box = self.store.mailbox("bob")
        box.createFolder("Archive.2024")
        box.createFolder("已发送")
        box.createFolder("Brouillons & Été")
        self.assertIn(".&XfJT0ZAB-", self.listing("bob"))
        self.assertEqual(box.folderNames(), ["Archive.2024", "Brouillons & Été", "已发送"])
        self.assertEqual(box.folder("已发送").name, "已发送")

    def test_separateUIDs(self) -> None:
        box = self.store.mailbox("bob")
        sent = box.createFolder("Sent")
        box.deliver(MESSAGE)
        box.deliver(MESSAGE)
        sent.deliver(MESSAGE, flags="S")
        self.assertEqual([i.uid for i in box.messages()], [1, 2])
        self.assertEqual([(i.uid, i.flags) for i in box.folder("Sent").messages()], [(1, "S")])

    def test_inbox(self) -> None:
        box = self.store.mailbox("bob")
        self.assertIs(box.folder("inbox"), box)
        self.assertEqual(box.name, INBOX)
        self.assertRaises(FolderError, box.createFolder, "INBOX")

    def test_badNames(self) -> None:
        box = self.store.mailbox("bob")
        for name in ["", "a/b", ".x", "x.", "a..b", "tab\there"]:
            self.assertRaises(FolderError, box.createFolder, name)
        self.assertRaises(FolderError, box.folder, "Missing")

    def test_delete(self) -> None:
        box = self.store.mailbox("bob")
        box.createFolder("Trash").deliver(MESSAGE)
        box.folder("Trash").messages()
        box.deleteFolder("Trash")
        self.assertEqual(box.folderNames(), [])
        self.assertEqual(self.listing("bob"), ["cur", "new", "tmp"])


class ModifiedUTF7Tests(SynchronousTestCase):
    """
    Folder names in IMAP's modified UTF-7 (RFC 9051 section 5.1.3).
    """

    def test_rfcExample(self) -> None:
        self.assertEqual(
            encodeFolderName("~peter/mail/台北/日本語"), "~peter/mail/&U,BTFw-/&ZeVnLIqe-"
        )

    def test_ampersand(self) -> None:
        self.assertEqual(encodeFolderName("A&B"), "A&-B")
        self.assertEqual(decodeFolderName("A&-B"), "A&B")

    def test_bad(self) -> None:
        self.assertRaises(FolderError, decodeFolderName, "&U,BTFw")
        self.assertRaises(FolderError, decodeFolderName, "&!-")

    @given(st.text(max_size=30))
    def test_roundTrip(self, name: str) -> None:
        encoded = encodeFolderName(name)
        self.assertTrue(all(0x20 <= ord(c) <= 0x7E for c in encoded))
        self.assertEqual(decodeFolderName(encoded), name)


class PythonMailboxTests(StoreTestCase):
    """
    What netref writes, Python's C{mailbox.Maildir} (a reader nobody here
    wrote) reads: messages, flags and Maildir++ folders.
    """

    def test_readsDelivery(self) -> None:
        box = self.store.mailbox("bob")
        key = box.deliver(MESSAGE)
        box.deliver(b"Subject: second\r\n\r\n2\r\n")
        box.setFlags(key, "RS")
        box.createFolder("Sent").deliver(b"Subject: sent\r\n\r\nsent\r\n", flags="S")
        python = mailbox.Maildir(box.path, factory=None, create=False)
        messages = {m["Subject"]: m for m in python}
        self.assertEqual(sorted(messages), ["hi", "second"])
        self.assertEqual(messages["hi"].get_payload(), "Do you like ketchup?\n")
        self.assertEqual(messages["hi"].get_flags(), "RS")
        self.assertEqual(messages["second"].get_subdir(), "new")
        self.assertEqual(python.list_folders(), ["Sent"])
        [sent] = list(python.get_folder("Sent"))
        self.assertEqual((sent["Subject"], sent.get_flags()), ("sent", "S"))


class EmbeddingExampleTests(TestCase):
    """
    The "From Python" program of C{docs/mail-store.rst} runs and prints
    what the page says.
    """

    @defer.inlineCallbacks
    def test_embeddingExample(self) -> Generator[Any, Any, None]:
        page = docsPage("mail-store.rst")
        code = embeddingExample(page)
        if code is None:
            raise SkipTest(f"{page} is not here (no source checkout)")
        out, err, status = yield getProcessOutputAndValue(
            sys.executable, ["-c", code], env=dict(os.environ)
        )
        self.assertEqual(status, 0, err)
        self.assertEqual(out.decode("utf-8"), "1 Réunion — 会议 from Élodie Martin\nflags: S\n")
