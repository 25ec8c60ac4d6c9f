"""
The command-line contract every netref service shares.

Every C{twistd netref-*} plugin takes C{--listen} (repeatable), C{--trace}
and C{--state}; L{ServiceOptions} holds them so each protocol's C{tap.py}
only adds its own options.  Stream services listen on Twisted endpoint
strings (C{tcp:8080:interface=127.0.0.1}, C{ssl:8443:...}); datagram
services take C{udp:PORT[:interface=ADDR]}, which L{parseDatagramListen}
reads, because Twisted has no endpoint strings for UDP.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from twisted.application import service, strports
from twisted.application.internet import UDPServer
from twisted.cred.checkers import ICredentialsChecker
from twisted.internet.interfaces import IProtocolFactory
from twisted.internet.protocol import DatagramProtocol
from twisted.python import usage
from twisted.python.filepath import FilePath

from netref.core.auth import MemoryPasswordChecker, PasswordFileChecker, PasswordFileError
from netref.core.tls import resolveServerEndpoint
from netref.core.trace import startPrintingTranscripts

#: The address netref services bind to unless told otherwise.
DEFAULT_INTERFACE = "127.0.0.1"


class BaseServiceOptions(usage.Options):
    """
    Options every netref service takes, even one that chooses its own
    addresses (the lab): C{--trace} and C{--state}.
    """

    optFlags = [
        ["trace", None, "Print the transcript of every connection (C:/S: lines)."],
    ]
    optParameters = [
        ["state", None, None, "Directory for anything the service keeps on disk."],
    ]

    def stateDirectory(self) -> FilePath[str] | None:
        """
        @return: the C{--state} directory, created if missing, or L{None}.
        """
        if self["state"] is None:
            return None
        path = FilePath(self["state"])
        if not path.isdir():
            path.makedirs(ignoreExistingDirectory=True)
        return path


class ServiceOptions(BaseServiceOptions):
    """
    Options common to every netref service that listens where it is told.

    Subclasses set L{defaultListen} to the endpoint strings used when no
    C{--listen} is given, and add their own options as C{usage.Options}
    subclasses do.

    With C{--tls auto}, every C{ssl:} endpoint that names no certificate
    gets one from a development certificate authority kept in the C{--state}
    directory (L{netref.core.tls.resolveServerEndpoint}), covering the
    loopback names, the endpoint's interface address and L{tlsHostnames}.

    @cvar defaultListen: endpoint strings for when C{--listen} is absent.
    @ivar tlsHostnames: extra names a C{--tls auto} certificate covers;
        a subclass sets them from its own options (a mail domain, say).
    """

    defaultListen: Sequence[str] = ()

    optParameters = [
        [
            "tls",
            None,
            None,
            "'auto': give ssl: endpoints without privateKey=/certKey= a certificate "
            "from a local development CA kept in the --state directory.",
        ],
    ]

    def __init__(self) -> None:
        super().__init__()
        self["listen"] = []

    def opt_listen(self, description: str) -> None:
        """
        Where to listen: a Twisted endpoint string such as
        tcp:8080:interface=127.0.0.1 (stream) or udp:PORT[:interface=ADDR]
        (datagram).  Repeatable.
        """
        self["listen"].append(description)

    def listenDescriptions(self) -> list[str]:
        """
        @return: the C{--listen} values, or L{defaultListen} if none were given.
        """
        return list(self["listen"]) or list(self.defaultListen)

    @property
    def tlsHostnames(self) -> Sequence[str]:
        return ()

    def postOptions(self) -> None:
        """
        Check every C{--listen} value, and complete C{ssl:} ones for
        C{--tls auto}, so that a mistake is a usage error before anything
        starts.
        """
        resolved = []
        for description in self.listenDescriptions():
            if isDatagramListen(description):
                parseDatagramListen(description)
                resolved.append(description)
            else:
                resolved.append(
                    resolveServerEndpoint(
                        description, self["tls"], self.stateDirectory(), self.tlsHostnames
                    )
                )
        self["listen"] = resolved


class AccountOptions(usage.Options):
    """
    C{--user NAME:PASSWORD} (repeatable) and C{--users FILE}: the accounts
    of a service that logs people in (mail, FTP, HTTP uploads).  Mix it
    into a service's options beside L{ServiceOptions}.

    The file is a password file of scrypt hashes (L{netref.core.auth});
    C{--user} passwords are hashed as the checker is made.  The two may not
    be combined, so there is one obvious place where a user's password
    lives.
    """

    optParameters = [
        ["users", None, None, "Password file of scrypt hashes (python -m netref.core.auth add)."],
    ]

    def __init__(self) -> None:
        super().__init__()
        self["user"] = []

    def opt_user(self, spec: str) -> None:
        """
        An account, NAME:PASSWORD.  Repeatable.
        """
        self["user"].append(spec)

    def hasAccounts(self) -> bool:
        """
        @return: whether C{--user} or C{--users} was given.
        """
        return bool(self["user"]) or self["users"] is not None

    def accountsChecker(self) -> ICredentialsChecker | None:
        """
        @return: a twisted.cred checker for the accounts, or L{None} when
            none were given.
        @raise usage.UsageError: for an unreadable or malformed password
            file, a malformed C{--user}, or both options at once.
        """
        if self["user"] and self["users"] is not None:
            raise usage.UsageError("give --user or --users, not both")
        try:
            if self["users"] is not None:
                return PasswordFileChecker(self["users"])
            if self["user"]:
                return MemoryPasswordChecker.fromUserSpecs(self["user"])
        except (PasswordFileError, ValueError) as e:
            raise usage.UsageError(str(e)) from e
        return None


@dataclass(frozen=True)
class DatagramListen:
    """
    Where a datagram service listens.

    @ivar port: the UDP port (0 for any free port).
    @ivar interface: the address to bind.
    """

    port: int
    interface: str = DEFAULT_INTERFACE


def isDatagramListen(description: str) -> bool:
    """
    @return: whether C{description} names a datagram (C{udp:}) endpoint.
    """
    return description.split(":", 1)[0].lower() == "udp"


def parseDatagramListen(description: str) -> DatagramListen:
    """
    Parse C{udp:PORT[:interface=ADDR]}.

    An IPv6 address may be written plainly (C{udp:53:interface=::1}) or with
    its colons escaped as in Twisted's endpoint strings
    (C{udp:53:interface=\\:\\:1}).

    @raise usage.UsageError: if the string is not of that form.
    """
    kind, _, rest = description.partition(":")
    portText, _, extra = rest.partition(":")
    if kind.lower() != "udp" or not portText:
        raise usage.UsageError(
            f"not a datagram endpoint (udp:PORT[:interface=ADDR]): {description!r}"
        )
    try:
        port = int(portText)
    except ValueError:
        raise usage.UsageError(f"bad UDP port in {description!r}") from None
    if not 0 <= port <= 65535:
        raise usage.UsageError(f"UDP port out of range in {description!r}")
    interface = DEFAULT_INTERFACE
    if extra:
        key, sep, value = extra.partition("=")
        if not sep or key != "interface" or not value:
            raise usage.UsageError(f"unknown UDP option {extra!r} in {description!r}")
        interface = value.replace("\\:", ":")
    return DatagramListen(port, interface)


def streamService(description: str, factory: IProtocolFactory) -> service.IService:
    """
    @return: a service listening on the endpoint string C{description}.
    """
    return strports.service(description, factory)


def datagramService(description: str, protocol: DatagramProtocol) -> service.IService:
    """
    @return: a service listening on C{udp:PORT[:interface=ADDR]}.
    """
    where = parseDatagramListen(description)
    return UDPServer(where.port, protocol, interface=where.interface)


def listenOn(
    descriptions: Sequence[str],
    streamFactory: IProtocolFactory | None = None,
    datagramProtocol: Callable[[], DatagramProtocol] | None = None,
) -> service.MultiService:
    """
    One listening service per C{--listen} description, as every C{tap.py}
    needs: stream endpoints get C{streamFactory}, C{udp:} ones a fresh
    protocol from C{datagramProtocol}.

    @param descriptions: C{options.listenDescriptions()}.
    @param streamFactory: the factory for stream connections, or L{None}
        for a datagram-only service.
    @param datagramProtocol: makes the protocol of each datagram port, or
        L{None} for a stream-only service.
    @raise usage.UsageError: for a description of a kind the service does
        not speak.
    """
    top = service.MultiService()
    for description in descriptions:
        child: service.IService
        if isDatagramListen(description):
            if datagramProtocol is None:
                raise usage.UsageError(f"{description!r}: this service does not speak UDP")
            child = datagramService(description, datagramProtocol())
        else:
            if streamFactory is None:
                raise usage.UsageError(f"{description!r}: this service speaks only UDP")
            child = streamService(description, streamFactory)
        child.setServiceParent(top)
    return top


def hostServices(
    interface: str,
    port: int,
    streamFactory: IProtocolFactory,
    datagramProtocol: Callable[[], DatagramProtocol],
) -> tuple[service.IService, service.IService]:
    """
    A service listening on TCP and UDP at one address and port: what one lab
    host runs for a protocol that speaks both.

    @param interface: the IPv4 or IPv6 address to listen on.
    @return: the stream service and the datagram service, not yet started
        nor given a parent.
    """
    escaped = interface.replace(":", "\\:")
    return (
        streamService(f"tcp:{port}:interface={escaped}", streamFactory),
        datagramService(f"udp:{port}:interface={interface}", datagramProtocol()),
    )


def startTracingIfAsked(options: BaseServiceOptions) -> None:
    """
    Print transcripts to standard output when the service runs with C{--trace}.

    Call it from C{makeService}: twistd replaces C{sys.stdout} with its log
    once the application is made, and transcripts should reach the real
    standard output, unadorned.
    """
    if options["trace"]:
        startPrintingTranscripts(sys.stdout)
