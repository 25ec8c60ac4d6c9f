"""
A small iterative resolver: the textbook's iterative query (section 2.4.2)
done by a program.

A resolver that knows only the root servers finds any name by asking, in
turn, the servers that are ever closer to it: the root refers it to the
top-level-domain servers, these to the domain's authoritative servers, and
those answer.  RFC 1034 section 5.3.3 gives the algorithm; L{resolve} is
its simplest form:

  1. Ask the best servers known (at first the roots) with RD=0: we do the
     work, they only say what they know.
  2. An answer for the name ends the search.  An alias (CNAME) restarts it
     for the canonical name, unless the answer already holds the records
     of the canonical name.
  3. A referral (no answer, NS records in the authority section for a zone
     closer to the name than the one just asked) gives the next servers:
     their addresses come from the glue in the additional section, or, for
     a server whose name lies outside the referral, from a search of its
     own.
  4. NXDOMAIN is final; so is an answer without records of the type asked
     for (NODATA).

There is no cache: the lab is small, and each lookup starts at the roots.
The number of queries is bounded (L{MAX_QUERIES}), so a loop of referrals
or aliases ends with L{ResolutionError} instead of running forever.

Every server is asked on the port of the roots: in the lab every DNS
server listens on the same port (DESIGN.md, "The lab's addressing"), and
delegations carry only addresses.

The mail server uses it to find a domain's mail exchangers from the lab's
root (C{twistd netref-mail --dns-root 127.2.1.1:10053})::

    records = await resolve(reactor, "hamburger.edu", RRType.MX,
                            roots=[("127.2.1.1", 10053)])
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from twisted.internet.defer import Deferred

from netref.dns.client import DNSQueryError, Response, query
from netref.dns.name import ROOT, DNSError, Name
from netref.dns.rdata import CNAME, NS, A, RRType, typeToText
from netref.dns.wire import Rcode, ResourceRecord, rcodeToText

#: The most queries one resolution may send, referrals, aliases and
#: lookups of name servers' addresses included.
MAX_QUERIES = 40

#: The longest chain of aliases followed (RFC 1034 section 3.6.2 asks
#: resolvers to stop on a loop; a bound does that).
MAX_CNAMES = 8

#: What L{resolve} asks with: L{netref.dns.client.query}, or a fake.
QueryFunction = Callable[..., "Deferred[Response]"]


class ResolutionError(DNSError):
    """
    The search failed for a reason that may pass: no server answered, one
    answered with SERVFAIL or REFUSED, or the search went on too long.
    Mail delivery treats it as a temporary failure.
    """


class NameNotFoundError(ResolutionError):
    """
    An authoritative server said the name does not exist (NXDOMAIN, RFC
    1035 section 4.1.1): a final answer.

    @ivar name: the name that does not exist (the canonical name, after
        aliases).
    """

    def __init__(self, name: Name) -> None:
        super().__init__(f"{name.toText()}: no such domain (NXDOMAIN)")
        self.name = name


@dataclass
class _Budget:
    """
    The queries one resolution may still send, shared with the searches
    for name servers' addresses that it starts.
    """

    left: int = MAX_QUERIES
    trail: list[str] = field(default_factory=list)

    def spend(self, what: str) -> None:
        if self.left <= 0:
            raise ResolutionError(
                f"gave up after {MAX_QUERIES} queries: " + " -> ".join(self.trail[-6:])
            )
        self.left -= 1
        self.trail.append(what)


def _matching(records: Sequence[ResourceRecord], name: Name, rtype: int) -> list[ResourceRecord]:
    return [r for r in records if r.name == name and r.rtype == rtype]


class _Search:
    """
    One resolution: the state of the algorithm of RFC 1034 section 5.3.3.
    """

    def __init__(
        self,
        reactor: Any,
        roots: Sequence[tuple[str, int]],
        timeout: float,
        retries: int,
        queryFunction: QueryFunction,
        budget: _Budget,
    ) -> None:
        self.reactor = reactor
        self.roots = list(roots)
        self.port = roots[0][1]
        self.timeout = timeout
        self.retries = retries
        self.query = queryFunction
        self.budget = budget

    async def ask(self, servers: Sequence[tuple[str, int]], name: Name, rtype: int) -> Response:
        self.budget.spend(f"{name.toText()} {typeToText(rtype)} @{servers[0][0]}")
        try:
            return await self.query(
                self.reactor,
                name,
                rtype,
                servers=servers,
                timeout=self.timeout,
                retries=self.retries,
                recursionDesired=False,
            )
        except DNSQueryError as e:
            raise ResolutionError(f"{name.toText()}: {e}") from None

    async def addressesOf(self, server: Name) -> list[str]:
        """
        The addresses of a name server the referral gave no glue for: a
        search of its own, from the roots, on the same budget.
        """
        try:
            records = await self.find(server, RRType.A)
        except NameNotFoundError:
            return []
        return [r.rdata.address for r in records if isinstance(r.rdata, A)]

    async def find(self, name: Name, rtype: int) -> list[ResourceRecord]:
        """
        @return: the records of type C{rtype} of C{name}'s canonical name,
            the aliases that led there first; empty for NODATA.
        @raise NameNotFoundError: on NXDOMAIN.
        @raise ResolutionError: when the search fails.
        """
        chain: list[ResourceRecord] = []
        servers = self.roots
        zone = ROOT
        while True:
            response = await self.ask(servers, name, rtype)
            message = response.message
            if message.rcode == Rcode.NXDOMAIN:
                raise NameNotFoundError(name)
            if message.rcode != Rcode.NOERROR:
                raise ResolutionError(
                    f"{name.toText()}: {servers[0][0]} answered {rcodeToText(message.rcode)}"
                )
            found = _matching(message.answers, name, rtype)
            if found:
                return chain + found
            aliases = _matching(message.answers, name, RRType.CNAME)
            if aliases and rtype != RRType.CNAME:
                # RFC 1034 section 5.3.3 step 3c: follow the alias.  The
                # server may have added the canonical name's records.
                chain.append(aliases[0])
                if len(chain) > MAX_CNAMES:
                    raise ResolutionError(f"{name.toText()}: too many aliases")
                alias = aliases[0].rdata
                assert isinstance(alias, CNAME)
                name = alias.target
                found = _matching(message.answers, name, rtype)
                if found:
                    return chain + found
                servers, zone = self.roots, ROOT
                continue
            referral = [
                r
                for r in message.authority
                if r.rtype == RRType.NS
                and name.isSubdomainOf(r.name)
                and r.name != zone
                and r.name.isSubdomainOf(zone)
            ]
            if not referral or message.aa:
                # RFC 1034 section 5.3.3 step 3: an authoritative answer
                # without the type asked for (NODATA).
                return chain
            zone = referral[0].name
            targets: list[Name] = [r.rdata.target for r in referral if isinstance(r.rdata, NS)]
            glue: dict[Name, list[str]] = {t: [] for t in targets}
            for record in message.additional:
                if record.name in glue and isinstance(record.rdata, A):
                    glue[record.name].append(record.rdata.address)
            nextServers = [(address, self.port) for t in targets for address in glue[t]]
            if not nextServers:
                for target in targets:
                    if target.isSubdomainOf(zone):
                        # Glue was needed and missing: this server cannot
                        # be reached (RFC 1034 section 4.2.1).
                        continue
                    nextServers = [(a, self.port) for a in await self.addressesOf(target)]
                    if nextServers:
                        break
            if not nextServers:
                raise ResolutionError(
                    f"{name.toText()}: no address for any server of {zone.toText()}"
                )
            servers = nextServers


def resolve(
    reactor: Any,
    name: str | Name,
    rtype: int,
    roots: Sequence[tuple[str, int]],
    timeout: float = 2.0,
    retries: int = 1,
    queryFunction: QueryFunction = query,
) -> Deferred[list[ResourceRecord]]:
    """
    Find the records of type C{rtype} of C{name}, starting at C{roots}.

    @param reactor: for L{netref.dns.client.query}.
    @param name: the name; a string is read as an absolute name.
    @param rtype: the type asked for.
    @param roots: the root servers' (address, port); every server of the
        search is asked on this port.
    @param timeout: seconds to wait for each try of each query.
    @param retries: more rounds over a query's servers after the first.
    @param queryFunction: sends one query; tests replace it.
    @return: fires with the records found (any CNAME records that led to
        them first), an empty list when the name exists without records of
        that type; fails with L{NameNotFoundError} on NXDOMAIN and
        L{ResolutionError} when the search fails.
    """
    if not roots:
        raise ValueError("at least one root server is needed")
    qname = name if isinstance(name, Name) else Name.fromText(name, ROOT)
    search = _Search(reactor, roots, timeout, retries, queryFunction, _Budget())
    return Deferred.fromCoroutine(search.find(qname, rtype))
