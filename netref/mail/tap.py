"""
C{twistd netref-mail}: a mail server for some domains, as the textbook's
mail.crepes.fr or mail.hamburger.edu (section 2.3).

It listens for SMTP three ways (RFC 8314 section 3 and RFC 6409 give the
ports their roles):

  - C{--smtp} (default C{tcp:2525:interface=127.0.0.1}; the well-known
    port is 25): other servers relay mail for our domains here; STARTTLS
    when a certificate is at hand; no relaying for strangers;
  - C{--submission} (default C{tcp:2587:interface=127.0.0.1}; port 587):
    our users submit mail here, and must log in (AUTH) first;
  - C{--smtps} (off unless given, or C{ssl:2465:interface=127.0.0.1} with
    C{--tls auto}; port 465): submission over TLS from the first byte.

Accepted mail goes through L{netref.mail.delivery.MailRouter}: our users'
mail into Maildirs under C{STATE/mail/USER}, everyone else's into the
outgoing queue under C{STATE/queue}, which finds the recipient's server by
MX lookup and relays it.  MX lookups go to a recursive server
(C{--dns ADDR[:PORT]}), or start at a root server (C{--dns-root
ADDR[:PORT]}, what the lab uses, with L{netref.dns.iterative}), or are
skipped with C{--relayhost HOST[:PORT]}, which sends everything to one
server.

Examples::

    twistd -n netref-mail --state /tmp/crepes --domain crepes.fr \\
        --user alice:wonderland --tls auto --dns-root 127.2.1.1:10053 \\
        --mx-port 2525 --trace
    twistd -n netref-mail --state /tmp/sink --domain example.org \\
        --user bob:secret --relayhost 127.0.0.1:2526
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Sequence
from typing import Any

from twisted.application.service import IService, MultiService, Service
from twisted.internet.defer import Deferred
from twisted.python import usage
from twisted.python.filepath import FilePath

from netref.core.auth import MemoryPasswordChecker
from netref.core.service import (
    AccountOptions,
    ServiceOptions,
    startTracingIfAsked,
    streamService,
)
from netref.core.tls import LOOPBACK_NAMES, DevCertificateAuthority, resolveServerEndpoint
from netref.dns.client import parseServer
from netref.mail.accounts import MailAccounts, userNamesFromPasswordFile
from netref.mail.delivery import MailRouter
from netref.mail.maildir import MaildirStore
from netref.smtp.client import (
    SMTP_PORT,
    TLS_MODES,
    TLS_OPPORTUNISTIC,
    IterativeLookup,
    MXDeliverer,
    StubLookup,
)
from netref.smtp.queue import (
    FIRST_RETRY,
    MAX_BACKOFF,
    MAX_LIFETIME,
    PER_DESTINATION_LIMIT,
    OutgoingQueue,
)

#: netref's SMTP ports; the well-known ones are 25, 587 and 465.
SMTP_DEFAULT = "tcp:2525:interface=127.0.0.1"
SUBMISSION_DEFAULT = "tcp:2587:interface=127.0.0.1"
SMTPS_DEFAULT = "ssl:2465:interface=127.0.0.1"

#: The DNS port of servers given without one (netref's, see netref-dns).
DNS_PORT = 10053

#: Largest message accepted, in octets (the SIZE extension, RFC 1870).
MAX_MESSAGE_SIZE = 10 * 2**20

#: The lab's root DNS server, a.root-servers.net.
LAB_ROOT = "127.2.1.1"

#: What turns an endpoint option off.
NONE = "none"


def parseHostPort(spec: str, defaultPort: int, what: str) -> tuple[str, int]:
    """
    Read C{HOST[:PORT]} (C{[::1]:53} for IPv6).

    @raise usage.UsageError: if it is malformed.
    """
    host, port = parseServer(spec)
    if not host:
        raise usage.UsageError(f"{what}: no host in {spec!r}")
    return host, defaultPort if port is None else port


class QueueService(Service):
    """
    Runs an L{OutgoingQueue}: reads it back at start-up, stops its timers
    at shutdown.
    """

    def __init__(self, queue: OutgoingQueue) -> None:
        self.queue = queue

    def startService(self) -> None:
        super().startService()
        self.queue.start()

    def stopService(self) -> Deferred[None]:
        super().stopService()
        return self.queue.stop()


class Options(ServiceOptions, AccountOptions):
    """
    Options of C{twistd netref-mail}.
    """

    synopsis = (
        "--state DIR --domain NAME [--domain NAME ...] (--user NAME:PASSWORD ... | --users FILE)"
    )
    longdesc = (
        "A mail server (SMTP, RFC 5321) for the given domains: Maildirs for local users, "
        "an outgoing queue that relays other mail by MX lookup, with retries and bounces. "
        f"SMTP on {SMTP_DEFAULT} (well-known port 25), submission with AUTH on "
        f"{SUBMISSION_DEFAULT} (587), and with --tls auto SMTPS on {SMTPS_DEFAULT} (465) "
        "and STARTTLS everywhere. Give 'none' to turn an endpoint off. --listen adds "
        "more SMTP endpoints like --smtp."
    )

    optFlags = [
        [
            "allow-plaintext-auth",
            None,
            "Accept AUTH before TLS (for a lab on loopback; never on a network).",
        ],
    ]
    optParameters: list[list[Any]] = [
        ["smtp", None, SMTP_DEFAULT, "Endpoint for SMTP from other servers ('none': off)."],
        ["submission", None, SUBMISSION_DEFAULT, "Endpoint for submission, AUTH required."],
        [
            "smtps",
            None,
            None,
            f"Endpoint for submission over TLS ({SMTPS_DEFAULT} with --tls auto).",
        ],
        ["hostname", None, None, "This server's name (default: mail.FIRST-DOMAIN)."],
        ["aliases", None, None, "Aliases file: 'alias: target, target' lines."],
        ["dns", None, None, f"A recursive DNS server for MX lookups, ADDR[:PORT] ({DNS_PORT})."],
        ["dns-root", None, None, "Look MX records up iteratively from this root server."],
        ["relayhost", None, None, "Send all outgoing mail to HOST[:PORT] (25), without DNS."],
        ["mx-port", None, SMTP_PORT, "The port of other domains' mail servers.", int],
        [
            "relay-tls",
            None,
            TLS_OPPORTUNISTIC,
            "TLS when relaying: never, opportunistic, required.",
        ],
        ["source-address", None, None, "Connect to other servers from this local address."],
        ["first-retry", None, FIRST_RETRY, "Seconds before the first retry.", float],
        ["max-backoff", None, MAX_BACKOFF, "Longest wait between retries, seconds.", float],
        ["max-lifetime", None, MAX_LIFETIME, "Seconds before undelivered mail bounces.", float],
        [
            "destination-concurrency",
            None,
            PER_DESTINATION_LIMIT,
            "Connections at once to one domain.",
            int,
        ],
        ["max-message-size", None, MAX_MESSAGE_SIZE, "Largest message accepted (octets).", int],
    ]

    def __init__(self) -> None:
        super().__init__()
        self["domain"] = []

    def opt_domain(self, name: str) -> None:
        """
        A domain whose mail is delivered here.  Repeatable.
        """
        self["domain"].append(name.lower().rstrip("."))

    @property
    def tlsHostnames(self) -> Sequence[str]:
        return [self.get("hostname") or "", *self["domain"]]

    def postOptions(self) -> None:
        if not self["domain"]:
            raise usage.UsageError("give at least one --domain")
        if self["state"] is None:
            raise usage.UsageError("--state DIR is needed: mailboxes and the queue live there")
        if self["hostname"] is None:
            self["hostname"] = f"mail.{self['domain'][0]}"
        if sum(self[k] is not None for k in ("dns", "dns-root", "relayhost")) > 1:
            raise usage.UsageError("give one of --dns, --dns-root and --relayhost")
        if self["relay-tls"] not in TLS_MODES or self["relay-tls"] == "implicit":
            raise usage.UsageError("--relay-tls must be never, opportunistic or required")
        if self["first-retry"] <= 0 or self["max-backoff"] < self["first-retry"]:
            raise usage.UsageError("retry times must be positive, --max-backoff >= --first-retry")
        if self["max-lifetime"] <= 0 or self["destination-concurrency"] < 1:
            raise usage.UsageError("--max-lifetime and --destination-concurrency must be positive")
        if not 0 < self["mx-port"] < 65536:
            raise usage.UsageError("--mx-port out of range")
        super().postOptions()
        state = self.stateDirectory()
        assert state is not None
        if self["smtps"] is None and self["tls"] == "auto":
            self["smtps"] = SMTPS_DEFAULT
        for key in ("smtp", "submission", "smtps"):
            if self[key] is not None and self[key].lower() != NONE:
                self[key] = resolveServerEndpoint(self[key], self["tls"], state, self.tlsHostnames)
        self["checker"] = self.accountsChecker()
        self["accounts"] = self.mailAccounts()

    def userNames(self) -> list[str]:
        if self["users"] is not None:
            return userNamesFromPasswordFile(self["users"])
        return [spec.partition(":")[0] for spec in self["user"]]

    def mailAccounts(self) -> MailAccounts:
        try:
            return MailAccounts.fromFiles(self["domain"], None, self["aliases"], self.userNames())
        except (OSError, ValueError) as e:
            raise usage.UsageError(str(e)) from None


def makeMailService(
    reactor: Any,
    *,
    hostname: str,
    accounts: MailAccounts,
    checker: Any,
    state: FilePath[str],
    smtp: Sequence[str],
    submission: Sequence[str] = (),
    smtps: Sequence[str] = (),
    tlsAuto: bool = False,
    tlsNames: Sequence[str] = (),
    allowPlaintextAuth: bool = False,
    deliverer: MXDeliverer,
    firstRetry: float = FIRST_RETRY,
    maxBackoff: float = MAX_BACKOFF,
    maxLifetime: float = MAX_LIFETIME,
    perDestinationLimit: int = PER_DESTINATION_LIMIT,
    maxMessageSize: int = MAX_MESSAGE_SIZE,
) -> MultiService:
    """
    The whole mail server as one service: the queue and every listener.
    Used by L{makeService} and L{makeLabMailServices}, and by programs that
    embed a mail server.

    @param smtp: endpoint strings for SMTP (relay in, no AUTH needed).
    @param submission: endpoint strings for submission (AUTH required).
    @param smtps: endpoint strings for submission over implicit TLS.
    @param tlsAuto: offer STARTTLS with a certificate from the development
        certificate authority in C{state}.
    @param tlsNames: more names and addresses for that certificate.
    """
    from netref.smtp.server import SMTPFactory

    top = MultiService()
    queue = OutgoingQueue(
        state.child("queue").path,
        reactor,
        deliverer,
        hostname=hostname,
        firstRetry=firstRetry,
        maxBackoff=maxBackoff,
        maxLifetime=maxLifetime,
        perDestinationLimit=perDestinationLimit,
    )
    QueueService(queue).setServiceParent(top)
    router = MailRouter(accounts, MaildirStore(state.child("mail").path), queue)
    tlsOptions = None
    if tlsAuto:
        authority = DevCertificateAuthority.forStateDirectory(state)
        tlsOptions = authority.serverOptions(
            [hostname, *sorted(accounts.domains), *tlsNames, *LOOPBACK_NAMES]
        )

    def factory(**kwargs: Any) -> Any:
        return SMTPFactory(
            hostname,
            accounts,
            router,
            checker=checker,
            allowPlaintextAuth=allowPlaintextAuth,
            maxMessageSize=maxMessageSize,
            **kwargs,
        )

    for description in smtp:
        streamService(description, factory(tlsOptions=tlsOptions)).setServiceParent(top)
    for description in submission:
        streamService(
            description, factory(tlsOptions=tlsOptions, requireAuth=True)
        ).setServiceParent(top)
    for description in smtps:
        streamService(description, factory(implicitTLS=True, requireAuth=True)).setServiceParent(
            top
        )
    top.queue = queue  # type: ignore[attr-defined]
    top.router = router  # type: ignore[attr-defined]
    return top


def makeDeliverer(reactor: Any, options: Options) -> MXDeliverer:
    """
    @return: the queue's deliverer, as C{--dns}, C{--dns-root} or
        C{--relayhost} say.
    @raise usage.UsageError: when none of them is given.
    """
    lookup: Any = None
    relayHost = None
    if options["relayhost"] is not None:
        relayHost = parseHostPort(options["relayhost"], SMTP_PORT, "--relayhost")
    elif options["dns-root"] is not None:
        lookup = IterativeLookup(
            reactor, [parseHostPort(options["dns-root"], DNS_PORT, "--dns-root")]
        )
    elif options["dns"] is not None:
        lookup = StubLookup(reactor, [parseHostPort(options["dns"], DNS_PORT, "--dns")])
    else:
        raise usage.UsageError("give --dns, --dns-root or --relayhost, to find other servers")
    return MXDeliverer(
        reactor,
        lookup,
        heloName=options["hostname"],
        port=options["mx-port"],
        relayHost=relayHost,
        tls=options["relay-tls"],
        bindAddress=options["source-address"],
    )


def _endpoints(value: str | None) -> list[str]:
    return [] if value is None or value.lower() == NONE else [value]


def _interfaces(descriptions: Sequence[str]) -> list[str]:
    """
    @return: the specific addresses in the C{interface=} of endpoint
        strings, for the STARTTLS certificate (clients that connect by
        address check it against the certificate).
    """
    found = []
    for description in descriptions:
        match = re.search(r"(?:^|:)interface=((?:[^:\\]|\\.)+)", description)
        if match:
            address = match.group(1).replace("\\:", ":")
            if address not in ("0.0.0.0", "::") and address not in found:
                found.append(address)
    return found


def makeService(options: Options) -> MultiService:
    """
    @return: the mail server the options describe.
    """
    from twisted.internet import reactor

    state = options.stateDirectory()
    assert state is not None
    smtp = _endpoints(options["smtp"]) + list(options["listen"])
    submission = _endpoints(options["submission"])
    service = makeMailService(
        reactor,
        hostname=options["hostname"],
        accounts=options["accounts"],
        checker=options["checker"],
        state=state,
        smtp=smtp,
        submission=submission,
        smtps=_endpoints(options["smtps"]),
        tlsAuto=options["tls"] == "auto",
        tlsNames=_interfaces(smtp + submission),
        allowPlaintextAuth=options["allow-plaintext-auth"],
        deliverer=makeDeliverer(reactor, options),
        firstRetry=options["first-retry"],
        maxBackoff=options["max-backoff"],
        maxLifetime=options["max-lifetime"],
        perDestinationLimit=options["destination-concurrency"],
        maxMessageSize=options["max-message-size"],
    )
    startTracingIfAsked(options)
    return service


def makeLabMailServices(
    address: str,
    port: int,
    *,
    domain: str,
    users: Sequence[tuple[str, str]],
    dnsRoot: tuple[str, int] | None = None,
    stateDirectory: str | None = None,
    submissionPort: int | None = None,
    hostname: str | None = None,
) -> list[IService]:
    """
    The mail server of one lab host (mail.crepes.fr, mail.hamburger.edu),
    for L{netref.lab.kinds.ServiceKind.build}.

    SMTP listens on C{address:port} and other domains' servers are
    reached on the same port (DESIGN.md, "The lab's addressing"); MX
    records are looked up from the lab's root server.  Submission listens
    on C{address:submissionPort} (2587, or 587 with the well-known ports).
    STARTTLS is offered with a certificate from a development authority
    in C{stateDirectory}; AUTH is allowed before TLS, since the lab is on
    loopback.

    @param users: (name, password) of each local user.
    @param dnsRoot: the lab's root DNS server (address, port); by default
        a.root-servers.net (127.2.1.1) on port 53 when SMTP is on 25, else
        on 10053.
    @param stateDirectory: where Maildirs, the queue and the certificates
        go; a new temporary directory when not given (its certificate
        authority is logged at start-up).
    @return: one service, not yet started nor given a parent.
    """
    from twisted.internet import reactor

    wellKnown = port == SMTP_PORT
    if submissionPort is None:
        submissionPort = 587 if wellKnown else 2587
    if dnsRoot is None:
        dnsRoot = (LAB_ROOT, 53 if wellKnown else DNS_PORT)
    if stateDirectory is None:
        stateDirectory = tempfile.mkdtemp(prefix=f"netref-lab-{domain}-")
    name = hostname or f"mail.{domain}"
    state = FilePath(stateDirectory)
    state.makedirs(ignoreExistingDirectory=True)
    accounts = MailAccounts([domain], [user for user, _ in users])
    checker = MemoryPasswordChecker.fromUserSpecs([f"{u}:{p}" for u, p in users])
    deliverer = MXDeliverer(
        reactor, IterativeLookup(reactor, [dnsRoot]), heloName=name, port=port, bindAddress=address
    )
    service = makeMailService(
        reactor,
        hostname=name,
        accounts=accounts,
        checker=checker,
        state=state,
        smtp=[f"tcp:{port}:interface={address}"],
        submission=[f"tcp:{submissionPort}:interface={address}"],
        tlsAuto=True,
        tlsNames=[address],
        allowPlaintextAuth=True,
        deliverer=deliverer,
    )
    return [service]
