"""
Tests for L{netref.dhcp.leases}: the lease table and its file, which must
survive a C{kill -9} in the middle of a write.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys

from twisted.trial.unittest import SynchronousTestCase

from netref.dhcp.leases import BOUND, DECLINED, OFFERED, Lease, LeaseFileError, LeaseStore

#: A writer that binds one more address per round and says so after each
#: write; the test kills it at random rounds.
WRITER = r"""
import sys
from netref.dhcp.leases import BOUND, Lease, LeaseStore

def address(i):
    return "10.%d.%d.%d" % (i >> 16 & 255, i >> 8 & 255, i & 255)

store = LeaseStore(sys.argv[1], compactAfter=5)
start = len(store)
for i in range(start, start + 100000):
    store.put(Lease(address(i), "hw:1:%012x" % i, "", BOUND, 2e9), durable=False)
    # Two renewals too: the journal outgrows the table, so it compacts.
    for j in (i // 2, i // 3):
        old = store.byAddress(address(j))
        store.put(Lease(old.address, old.client, "", BOUND, 2e9 + i), durable=False)
    store.commit()
    print(i + 1, flush=True)
"""


class LeaseStoreTests(SynchronousTestCase):
    """
    The table in memory and on disk.
    """

    def test_saveAndLoad(self) -> None:
        path = self.mktemp()
        store = LeaseStore(path)
        store.put(Lease("10.0.0.5", "hw:1:020000000001", "02:00:00:00:00:01", BOUND, 5000.0))
        store.put(Lease("10.0.0.6", "", "", DECLINED, 6000.0))
        store.put(Lease("10.0.0.7", "hw:1:020000000002", "", OFFERED, 100.0), durable=False)
        loaded = LeaseStore(path)
        self.assertEqual(len(loaded), 2)
        self.assertEqual(loaded.byClient("hw:1:020000000001"), store.byAddress("10.0.0.5"))
        self.assertIsNone(loaded.byAddress("10.0.0.7"))
        # Until compaction, changes are in the journal, one line each.
        with open(path + ".journal") as f:
            self.assertEqual(len(f.readlines()), 2)
        loaded.compact()
        with open(path) as f:
            self.assertEqual(len(json.load(f)["leases"]), 2)
        with open(path + ".journal") as f:
            self.assertEqual(f.read(), "")
        self.assertEqual(len(LeaseStore(path)), 2)

    def test_removalJournaled(self) -> None:
        path = self.mktemp()
        store = LeaseStore(path)
        store.put(Lease("10.0.0.5", "a", "", BOUND, 5000.0))
        store.remove("10.0.0.5", durable=True)
        self.assertEqual(len(LeaseStore(path)), 0)

    def test_offersNotJournaled(self) -> None:
        """
        An offer lives in memory only: making one writes nothing, unless it
        replaces a record on disk, which is then removed.
        """
        path = self.mktemp()
        store = LeaseStore(path)
        store.put(Lease("10.0.0.5", "a", "", OFFERED, 100.0))
        self.assertFalse(os.path.exists(path + ".journal"))
        store.put(Lease("10.0.0.6", "b", "", BOUND, 5000.0))
        store.put(Lease("10.0.0.6", "c", "", OFFERED, 100.0))
        with open(path + ".journal") as f:
            # The bound record, then its removal: no line for either offer.
            self.assertEqual([next(iter(json.loads(line))) for line in f], ["put", "remove"])
        self.assertEqual(len(LeaseStore(path)), 0)

    def test_compactsWhenLong(self) -> None:
        """
        Renewals of one lease grow the journal, not the table: past
        C{compactAfter} lines the table becomes a new snapshot.
        """
        path = self.mktemp()
        store = LeaseStore(path, compactAfter=3)
        for i in range(5):
            store.put(Lease("10.0.0.5", "c", "", BOUND, 5000.0 + i))
        with open(path) as f:
            [entry] = json.load(f)["leases"]
        self.assertEqual(entry["expires"], 5003.0)
        with open(path + ".journal") as f:
            self.assertEqual(len(f.readlines()), 1)
        [lease] = LeaseStore(path)
        self.assertEqual(lease.expires, 5004.0)

    def test_tornJournalLine(self) -> None:
        """
        A half-written last line is dropped and cut off, so the next append
        starts on a line of its own.
        """
        path = self.mktemp()
        store = LeaseStore(path)
        store.put(Lease("10.0.0.5", "a", "", BOUND, 5000.0))
        store.close()
        with open(path + ".journal", "ab") as f:
            f.write(b'{"put": {"address": "10.0.0.6", "cli')
        again = LeaseStore(path)
        self.assertEqual(len(again), 1)
        again.put(Lease("10.0.0.7", "b", "", BOUND, 5000.0))
        self.assertEqual(
            sorted(lease.address for lease in LeaseStore(path)), ["10.0.0.5", "10.0.0.7"]
        )

    def test_oneAddressPerClient(self) -> None:
        store = LeaseStore()
        store.put(Lease("10.0.0.5", "c", "", BOUND, 1.0))
        store.put(Lease("10.0.0.6", "c", "", BOUND, 1.0))
        self.assertIsNone(store.byAddress("10.0.0.5"))
        self.assertEqual(len(store), 1)

    def test_expire(self) -> None:
        store = LeaseStore()
        store.put(Lease("10.0.0.5", "a", "", BOUND, 10.0))
        store.put(Lease("10.0.0.6", "b", "", BOUND, 20.0))
        self.assertEqual([lease.address for lease in store.expire(15.0)], ["10.0.0.5"])
        self.assertIsNone(store.byClient("a"))

    def test_corruptFile(self) -> None:
        path = self.mktemp()
        with open(path, "w") as f:
            f.write('{"format": 1, "leases": [{"address": ')
        self.assertRaises(LeaseFileError, LeaseStore, path)

    def test_leftoversRemoved(self) -> None:
        path = self.mktemp()
        store = LeaseStore(path)
        store.put(Lease("10.0.0.5", "a", "", BOUND, 10.0))
        store.compact()
        stray = path + "abc123.tmp"
        with open(stray, "w") as f:
            f.write("half a table")
        self.assertEqual(len(LeaseStore(path)), 1)
        self.assertFalse(os.path.exists(stray))


class KillTests(SynchronousTestCase):
    """
    A writer killed with SIGKILL at random moments (in an append, an fsync
    or a compaction: it compacts every five lines) leaves lease files that
    load, holding every lease the writer had reported written.
    """

    def test_killedWriter(self) -> None:
        path = os.path.abspath(self.mktemp())
        chooser = random.Random(7)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(sys.path)
        for _ in range(12):
            process = subprocess.Popen(
                [sys.executable, "-c", WRITER, path], stdout=subprocess.PIPE, env=env
            )
            assert process.stdout is not None
            target = chooser.randint(1, 40)
            first = confirmed = 0
            for line in process.stdout:
                confirmed = int(line)
                first = first or confirmed
                if confirmed - first + 1 >= target:
                    break
            # The writer is now somewhere inside its next write.
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=30)
            process.stdout.close()
            store = LeaseStore(path)
            # Everything reported written is there (the writer may have gone
            # on a little before the signal landed), and nothing torn: the
            # table is exactly the first N leases the writer made.
            self.assertGreaterEqual(len(store), confirmed)
            self.assertEqual(
                {lease.address for lease in store},
                {_address(i) for i in range(len(store))},
            )
            for lease in store:
                self.assertEqual(lease.state, BOUND)
        self.assertGreater(len(LeaseStore(path)), 12)


def _address(i: int) -> str:
    """
    The address the writer gives its C{i}th lease.
    """
    return f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}"
