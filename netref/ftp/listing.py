"""
Directory listings: the C{ls -l} lines of C{LIST}, the bare names of
C{NLST}, and the machine-readable facts of C{MLSD} and C{MLST}.

RFC 959 leaves the format of C{LIST} to the server ("the information on a
file may vary widely from system to system"); clients parse the C{ls -l}
form Unix servers send, so that is what is written.  RFC 3659 section 7
defined C{MLSD}/C{MLST} to fix that: one line of C{fact=value;} pairs, a
space, and the name.  C{MDTM} and the C{modify} fact use the
C{YYYYMMDDHHMMSS} time of RFC 3659 section 2.3, in UTC.
"""

from __future__ import annotations

import stat
import time

from netref.ftp.filesystem import Entry

#: Six months, the age at which C{ls -l} shows the year instead of the time.
_SIX_MONTHS = 182 * 24 * 3600


def listLine(entry: Entry, now: float) -> str:
    """
    One C{LIST} line for C{entry}, as C{ls -l} writes it.  The owner and
    group are shown as C{ftp}: the server's account names are none of the
    client's business.

    @param now: the current time, to choose between time and year.
    """
    st = entry.stat
    mode = stat.filemode(st.st_mode)
    when = time.gmtime(st.st_mtime)
    if abs(now - st.st_mtime) < _SIX_MONTHS:
        date = time.strftime("%b %d %H:%M", when)
    else:
        date = time.strftime("%b %d  %Y", when)
    return f"{mode} {st.st_nlink:3d} ftp      ftp      {st.st_size:>12d} {date} {entry.name}"


def factTime(seconds: float) -> str:
    """
    @return: C{YYYYMMDDHHMMSS} in UTC (RFC 3659 section 2.3).
    """
    return time.strftime("%Y%m%d%H%M%S", time.gmtime(seconds))


def factsLine(entry: Entry, writable: bool, kind: str | None = None) -> str:
    """
    The facts of C{entry} as C{MLSD} and C{MLST} write them (RFC 3659
    section 7.5): C{type}, C{size}, C{modify}, C{perm} and C{unix.mode}.

    @param writable: whether the user may change it, for the C{perm} fact
        (section 7.5.5).
    @param kind: C{"cdir"} or C{"pdir"} for the listed directory itself
        and its parent; otherwise from the entry.
    """
    st = entry.stat
    if entry.isDirectory:
        kind = kind or "dir"
        perm = "el" + ("cmpf" if writable else "")
    else:
        kind = kind or "file"
        perm = "r" + ("adfw" if writable else "")
    facts = [
        f"type={kind}",
        f"size={st.st_size}",
        f"modify={factTime(st.st_mtime)}",
        f"perm={perm}",
        f"unix.mode=0{stat.S_IMODE(st.st_mode):o}",
    ]
    return ";".join(facts) + "; " + entry.name
