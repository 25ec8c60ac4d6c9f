"""
The server's lease store: which address is bound to which client, until
when, kept durably.

RFC 2131 section 2.2: a DHCP server must keep its record of allocated
addresses in persistent storage, so that a restarted server does not hand a
bound address to a second client.  netref keeps two files in the C{--state}
directory:

  - the I{snapshot}, C{dhcp-leases.json}: the whole table, replaced only
    with L{netref.core.durable.writeAtomically} (temporary file, fsync,
    rename), so it is always one complete table;
  - the I{journal}, C{dhcp-leases.json.journal}: one JSON line per change
    since the snapshot, appended and fsynced by L{LeaseStore.commit} before
    the server sends the DHCPACKs that depend on it.

A commit costs one append and one fsync however big the table is; once the
journal holds more lines than L{LeaseStore.compactAfter} and than twice the
table's leases, the table is written as a new snapshot and the journal
emptied.  Loading reads the
snapshot, then replays the journal.  A writer killed in the middle of an
append (even by C{kill -9}) leaves at most one torn last line, which
loading drops (and cuts off, so later appends start on a clean line); a
writer killed during compaction leaves the old or the new snapshot and the
whole journal, and replaying the journal over either gives the same table,
since every line records the final state of one address.

Offers are not written: an offer is held in memory only for
L{netref.dhcp.server.OFFER_HOLD} seconds (RFC 2131 section 4.3.1 lets a
server reserve an offered address, and does not ask it to survive a
restart).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

from netref.core.durable import fsyncDirectory, writeAtomically

#: The states of an address in the table.
OFFERED = "offered"
BOUND = "bound"
#: Declined by a client (RFC 2131 section 4.3.3) or found in use by the
#: conflict check: not offered again until the record expires.
DECLINED = "declined"

#: The name of the snapshot in a C{--state} directory; the journal is this
#: with L{JOURNAL_SUFFIX}.
LEASE_FILE = "dhcp-leases.json"
JOURNAL_SUFFIX = ".journal"

#: The format version written in the snapshot.
FORMAT = 1

#: Journal lines after which the table is written as a new snapshot (at
#: least; a big table allows twice its size).
COMPACT_AFTER = 10000


class LeaseFileError(Exception):
    """
    The lease file exists but cannot be read as a lease table.
    """


@dataclass
class Lease:
    """
    What the server knows about one address.

    @ivar address: the leased IPv4 address.
    @ivar client: the client's key (L{netref.dhcp.wire.Packet.clientKey}),
        empty for a declined address.
    @ivar chaddr: the client's hardware address, as text, for people.
    @ivar state: L{OFFERED}, L{BOUND} or L{DECLINED}.
    @ivar expires: when the record ends, in seconds since the epoch.
    """

    address: str
    client: str
    chaddr: str
    state: str
    expires: float


class LeaseStore:
    """
    The lease table, indexed by address and by client.

    @ivar path: the snapshot file, or L{None} to keep the table in memory
        only (tests, and the lab's throw-away server).
    @ivar compactAfter: journal lines that trigger a new snapshot.
    """

    def __init__(self, path: str | None = None, compactAfter: int = COMPACT_AFTER) -> None:
        self.path = path
        self.compactAfter = compactAfter
        self._byAddress: dict[str, Lease] = {}
        self._byClient: dict[str, Lease] = {}
        self._changed: dict[str, Lease | None] = {}
        self._journalLines = 0
        self._journal: Any = None
        if path is not None:
            self._removeLeftovers(path)
            if os.path.exists(path):
                self._loadSnapshot(path)
            self._replayJournal(path + JOURNAL_SUFFIX)
            self._changed.clear()

    # -- loading ----------------------------------------------------------------

    @staticmethod
    def _removeLeftovers(path: str) -> None:
        """
        Remove temporary files a writer killed in mid-snapshot left beside
        the snapshot (L{writeAtomically} names them after it, ending in
        C{.tmp}); the snapshot itself is whole.
        """
        directory, name = os.path.split(os.path.abspath(path))
        try:
            names = os.listdir(directory)
        except OSError:
            return
        for other in names:
            if other.startswith(name) and other.endswith(".tmp") and other != name:
                try:
                    os.unlink(os.path.join(directory, other))
                except OSError:
                    pass

    def _loadSnapshot(self, path: str) -> None:
        try:
            with open(path, encoding="utf-8") as f:
                data = json.load(f)
            if data.get("format") != FORMAT:
                raise LeaseFileError(f"{path}: unknown format {data.get('format')!r}")
            for entry in data["leases"]:
                self._index(Lease(**entry))
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise LeaseFileError(f"{path}: {e}") from e

    def _replayJournal(self, journal: str) -> None:
        try:
            with open(journal, "rb") as f:
                content = f.read()
        except FileNotFoundError:
            return
        except OSError as e:
            raise LeaseFileError(f"{journal}: {e}") from e
        good = 0
        for line in content.splitlines(keepends=True):
            if not line.endswith(b"\n"):
                break  # Torn by a crash in mid-append.
            try:
                entry = json.loads(line)
                if "remove" in entry:
                    self.remove(str(entry["remove"]))
                else:
                    self._index(Lease(**entry["put"]))
            except (ValueError, KeyError, TypeError):
                break
            good += len(line)
            self._journalLines += 1
        if good != len(content):
            with open(journal, "r+b") as f:
                f.truncate(good)
                os.fsync(f.fileno())

    # -- the table ----------------------------------------------------------------

    def _index(self, lease: Lease) -> None:
        self.remove(lease.address)
        self._byAddress[lease.address] = lease
        if lease.state != OFFERED:
            self._noteChange(lease.address, lease)
        if lease.client and lease.state != DECLINED:
            old = self._byClient.get(lease.client)
            if old is not None and old.address != lease.address:
                # One address per client: the older record goes.
                del self._byAddress[old.address]
                if old.state != OFFERED:
                    self._noteChange(old.address, None)
            self._byClient[lease.client] = lease

    def _noteChange(self, address: str, lease: Lease | None) -> None:
        """
        Remember that the durable record of C{address} changed (to
        C{lease}, or to none), for the next commit.  Offers are never on
        disk, so making or dropping one is not a change, unless it replaced
        a durable record.
        """
        if self.path is not None:
            self._changed[address] = lease

    def __iter__(self) -> Iterator[Lease]:
        return iter(list(self._byAddress.values()))

    def __len__(self) -> int:
        return len(self._byAddress)

    def byAddress(self, address: str) -> Lease | None:
        """
        @return: the record of C{address}, or L{None}.
        """
        return self._byAddress.get(address)

    def byClient(self, client: str) -> Lease | None:
        """
        @return: the record of the client's address, or L{None}.
        """
        return self._byClient.get(client)

    def put(self, lease: Lease, durable: bool = True) -> None:
        """
        Record C{lease}, replacing any record of its address and any other
        record of its client.

        @param durable: whether to commit before returning; the server
            passes C{False} and commits once for several changes.
        """
        self._index(lease)
        if durable:
            self.commit()

    def remove(self, address: str, durable: bool = False) -> Lease | None:
        """
        Forget the record of C{address}.

        @return: the record, or L{None} if there was none.
        """
        lease = self._byAddress.pop(address, None)
        if lease is not None:
            if self._byClient.get(lease.client) is lease:
                del self._byClient[lease.client]
            if lease.state != OFFERED:
                self._noteChange(address, None)
        if durable and lease is not None:
            self.commit()
        return lease

    def expire(self, now: float) -> list[Lease]:
        """
        Forget every record that ended before C{now}.

        @return: the records forgotten.
        """
        gone = [lease for lease in self._byAddress.values() if lease.expires <= now]
        for lease in gone:
            self.remove(lease.address)
        return gone

    # -- writing --------------------------------------------------------------------

    def commit(self) -> None:
        """
        Make every change since the last commit durable: append it to the
        journal and fsync; write a new snapshot when the journal is long.

        @raise OSError: if the disk refuses; the changes stay pending.
        """
        if self.path is None or not self._changed:
            return
        lines = []
        for address, lease in self._changed.items():
            if lease is None:
                lines.append(json.dumps({"remove": address}))
            else:
                lines.append(json.dumps({"put": asdict(lease)}))
        if self._journal is None:
            self._journal = open(self.path + JOURNAL_SUFFIX, "ab")
            fsyncDirectory(os.path.dirname(os.path.abspath(self.path)))
        self._journal.write(("\n".join(lines) + "\n").encode("utf-8"))
        self._journal.flush()
        os.fsync(self._journal.fileno())
        self._changed.clear()
        self._journalLines += len(lines)
        if self._journalLines > max(self.compactAfter, 2 * len(self._byAddress)):
            self.compact()

    #: The old name of L{commit}.
    save = commit

    def compact(self) -> None:
        """
        Write the whole table as a new snapshot, atomically, then empty the
        journal.
        """
        if self.path is None:
            return
        entries = [asdict(lease) for lease in self._byAddress.values() if lease.state != OFFERED]
        entries.sort(key=lambda entry: tuple(int(part) for part in entry["address"].split(".")))
        content = json.dumps({"format": FORMAT, "leases": entries}, indent=0) + "\n"
        writeAtomically(self.path, content.encode("utf-8"))
        if self._journal is not None:
            self._journal.close()
            self._journal = None
        with open(self.path + JOURNAL_SUFFIX, "wb") as f:
            os.fsync(f.fileno())
        self._journalLines = 0

    def close(self) -> None:
        """
        Close the journal (a later commit opens it again).
        """
        if self._journal is not None:
            self._journal.close()
            self._journal = None
