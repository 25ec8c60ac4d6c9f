"""
Tests for L{netref.core.tls}.

Certificates are made at run time, in C{self.mktemp()} directories: no key
is ever committed.  The loopback tests run a real TLS server and client on
127.0.0.1 and wait for C{connectionLost} on both sides before returning.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import stat
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID
from OpenSSL import SSL
from service_identity import VerificationError
from twisted.internet import reactor
from twisted.internet.defer import Deferred, inlineCallbacks
from twisted.internet.endpoints import (
    TCP4ClientEndpoint,
    connectProtocol,
    serverFromString,
    wrapClientTLS,
)
from twisted.internet.interfaces import (
    IOpenSSLClientConnectionCreator,
    IProtocolNegotiationFactory,
    ISSLTransport,
    ITLSTransport,
)
from twisted.internet.protocol import Factory, Protocol, connectionDone
from twisted.internet.ssl import Certificate, CertificateOptions
from twisted.internet.testing import StringTransport
from twisted.internet.utils import getProcessOutputAndValue
from twisted.protocols.basic import LineReceiver
from twisted.python import usage
from twisted.python.failure import Failure
from twisted.python.filepath import FilePath
from twisted.python.procutils import which
from twisted.trial import unittest
from zope.interface import directlyProvides, implementer

from netref.core.tls import (
    DevCertificateAuthority,
    TLSConfigurationError,
    clientOptions,
    resolveServerEndpoint,
    serverOptionsFromPEM,
    startClientTLS,
    startTLS,
    subjectAltName,
    tlsActive,
    trustRootFromPEM,
)
from netref.core.trace import NOTE, Transcript, setTracing, transcriptPublisher

# Helpers ------------------------------------------------------------------


def _load(path: FilePath[str]) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.getContent())


def _sanOf(path: FilePath[str]) -> set[x509.GeneralName]:
    certificate = _load(path)
    extension = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    return set(extension.value)


def _snapshot(authority: DevCertificateAuthority) -> dict[str, bytes]:
    return {child.basename(): child.getContent() for child in authority.directory.children()}


class _FixedClock:
    """
    A settable clock for certificate validity: no test waits for time.
    """

    def __init__(self, now: datetime.datetime) -> None:
        self.now = now

    def __call__(self) -> datetime.datetime:
        return self.now


@implementer(ITLSTransport)
class _TLSStringTransport(StringTransport):
    """
    A L{StringTransport} that records L{ITLSTransport.startTLS} calls, and
    what had been written when TLS started.
    """

    def __init__(self) -> None:
        super().__init__()
        self.tlsStarted: list[Any] = []
        self.writtenBeforeTLS: bytes | None = None

    def startTLS(self, contextFactory: Any, normal: bool = True) -> None:
        self.tlsStarted.append(contextFactory)
        self.writtenBeforeTLS = self.value()


class _ToyServer(LineReceiver):
    """
    A test-only line protocol: it answers C{OK <command>} to every command,
    and C{220 go ahead} to C{STARTTLS}, after which it switches to TLS with
    L{startTLS}.

    @ivar commands: every command it acted on.
    @ivar secure: for each command, whether TLS had started when it came.
    @ivar discarded: what L{startTLS} returned.
    @ivar lost: fires when the connection is lost.
    @ivar reason: why it was lost.
    """

    def __init__(
        self,
        options: Any,
        transcript: Transcript | None = None,
        vulnerable: bool = False,
    ) -> None:
        """
        @param vulnerable: discard nothing at the switch, as the servers of
            CVE-2011-0411 did: only to show what the discarding prevents.
        """
        self.options = options
        self.transcript = transcript
        self.vulnerable = vulnerable
        self.commands: list[bytes] = []
        self.secure: list[bool] = []
        self.discarded: bytes | None = None
        self.lost: Deferred[None] = Deferred()
        self.reason: Failure | None = None

    def lineReceived(self, line: bytes) -> None:
        self.commands.append(line)
        self.secure.append(ISSLTransport.providedBy(self.transport))
        if line == b"STARTTLS":
            self.sendLine(b"220 go ahead")
            self.discarded = startTLS(
                self.transport,
                self.options,
                (lambda: b"") if self.vulnerable else self.clearLineBuffer,
                self.transcript,
            )
        else:
            self.sendLine(b"OK " + line)

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self.reason = reason
        self.lost.callback(None)


class _ToyClient(LineReceiver):
    """
    The client of L{_ToyServer}: it sends C{firstWrite} in one write, and on
    C{220 go ahead} starts TLS and sends C{PING}; on C{OK PING} it hangs up.

    @ivar replies: every reply it acted on.
    @ivar discarded: what L{startClientTLS} returned.
    @ivar lost: fires when the connection is lost.
    @ivar reason: why it was lost.
    """

    def __init__(
        self,
        firstWrite: bytes,
        trustRoot: Certificate | None,
        startTLSOnGoAhead: bool = True,
        afterGoAhead: bytes = b"PING\r\n",
    ) -> None:
        self.firstWrite = firstWrite
        self.trustRoot = trustRoot
        self.startTLSOnGoAhead = startTLSOnGoAhead
        self.afterGoAhead = afterGoAhead
        self.replies: list[bytes] = []
        self.discarded: bytes | None = None
        self.lost: Deferred[None] = Deferred()
        self.reason: Failure | None = None

    def connectionMade(self) -> None:
        self.transport.write(self.firstWrite)

    def lineReceived(self, line: bytes) -> None:
        self.replies.append(line)
        if line == b"220 go ahead":
            if self.startTLSOnGoAhead:
                self.discarded = startClientTLS(
                    self.transport, "localhost", self.clearLineBuffer, self.trustRoot
                )
            self.transport.write(self.afterGoAhead)
        elif line == b"OK PING":
            self.transport.loseConnection()

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self.reason = reason
        self.lost.callback(None)


class _Peer(Protocol):
    """
    One side of a TLS loopback exchange: the client writes C{greeting} and
    hangs up when it comes back; the server echoes.

    @ivar received: everything that arrived.
    @ivar lost: fires when the connection is lost.
    @ivar reason: why it was lost.
    """

    def __init__(self, greeting: bytes | None = None) -> None:
        self.greeting = greeting
        self.received = b""
        self.negotiatedProtocol: bytes | None = None
        self.lost: Deferred[None] = Deferred()
        self.reason: Failure | None = None

    def connectionMade(self) -> None:
        if self.greeting is not None:
            self.transport.write(self.greeting)

    def dataReceived(self, data: bytes) -> None:
        self.received += data
        self.negotiatedProtocol = self.transport.negotiatedProtocol
        if self.greeting is None:
            self.transport.write(data)
        elif self.received == self.greeting:
            self.transport.loseConnection()

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self.reason = reason
        self.lost.callback(None)


class _RecordingFactory(Factory):
    """
    Builds protocols with C{make} and keeps them, so a test can wait for
    their C{lost} Deferreds.
    """

    def __init__(self, make: Any) -> None:
        self.make = make
        self.built: list[Any] = []

    def buildProtocol(self, addr: Any) -> Protocol:
        protocol: Protocol = self.make()
        protocol.factory = self
        self.built.append(protocol)
        return protocol


# Server options from PEM files ------------------------------------------------


class ServerOptionsFromPEMTests(unittest.TestCase):
    """
    L{serverOptionsFromPEM} loads a certificate, its key and its chain.
    """

    def setUp(self) -> None:
        self.authority = DevCertificateAuthority(FilePath(self.mktemp()))
        self.certPath, self.keyPath = self.authority.ensureLeaf(["localhost"])

    def test_loads(self) -> None:
        """
        A certificate and its key make server options with a usable context,
        and no chain.
        """
        options = serverOptionsFromPEM(self.certPath, self.keyPath)
        self.assertIsInstance(options, CertificateOptions)
        self.assertIsInstance(options.getContext(), SSL.Context)
        self.assertEqual(options.extraCertChain, [])

    def test_acceptsStrings(self) -> None:
        """
        Paths may be given as strings.
        """
        options = serverOptionsFromPEM(self.certPath.path, self.keyPath.path)
        self.assertIsInstance(options.getContext(), SSL.Context)

    def test_fullChainFile(self) -> None:
        """
        Certificates after the first in the certificate file are its chain.
        """
        fullChain = FilePath(self.mktemp())
        fullChain.setContent(
            self.certPath.getContent() + self.authority.caCertificatePath.getContent()
        )
        options = serverOptionsFromPEM(fullChain, self.keyPath)
        self.assertEqual(len(options.extraCertChain), 1)
        self.assertIsInstance(options.getContext(), SSL.Context)

    def test_chainFile(self) -> None:
        """
        The certificates in C{chainPath} are the chain.
        """
        options = serverOptionsFromPEM(
            self.certPath, self.keyPath, self.authority.caCertificatePath
        )
        self.assertEqual(len(options.extraCertChain), 1)

    def test_keyMismatch(self) -> None:
        """
        A key that does not belong to the certificate is refused.
        """
        exception = self.assertRaises(
            ValueError, serverOptionsFromPEM, self.certPath, self.authority.caKeyPath
        )
        self.assertIn("does not belong", str(exception))

    def test_noCertificate(self) -> None:
        """
        A certificate file without a certificate is refused, naming the file.
        """
        exception = self.assertRaises(ValueError, serverOptionsFromPEM, self.keyPath, self.keyPath)
        self.assertIn(self.keyPath.path, str(exception))

    def test_noKey(self) -> None:
        """
        A key file without a key is refused, naming the file.
        """
        exception = self.assertRaises(
            ValueError, serverOptionsFromPEM, self.certPath, self.certPath
        )
        self.assertIn(self.certPath.path, str(exception))


# The development certificate authority ----------------------------------------


class SubjectAltNameTests(unittest.TestCase):
    """
    L{subjectAltName} tells addresses from DNS names and normalizes them.
    """

    def test_addresses(self) -> None:
        """
        IPv4 and IPv6 addresses, bracketed or not, are C{iPAddress} entries.
        """
        self.assertEqual(
            subjectAltName("127.0.0.1"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))
        )
        self.assertEqual(subjectAltName("[::1]"), x509.IPAddress(ipaddress.ip_address("::1")))

    def test_dnsNames(self) -> None:
        """
        DNS names are lowercased, lose a trailing dot, and are written as
        A-labels; wildcards are kept.
        """
        self.assertEqual(subjectAltName("Mail.Crepes.FR."), x509.DNSName("mail.crepes.fr"))
        self.assertEqual(subjectAltName("bücher.example"), x509.DNSName("xn--bcher-kva.example"))
        self.assertEqual(subjectAltName("*.crepes.fr"), x509.DNSName("*.crepes.fr"))

    def test_notANames(self) -> None:
        """
        Anything else is a L{ValueError}.
        """
        for bad in ["", "two words", "a..b", "-bad.example", "x" * 64 + ".example"]:
            self.assertRaises(ValueError, subjectAltName, bad)


class DevCertificateAuthorityTests(unittest.TestCase):
    """
    L{DevCertificateAuthority} makes an authority and a server certificate
    once, and reuses them while they fit.
    """

    names = ["localhost", "127.0.0.1", "mail.crepes.fr"]

    def setUp(self) -> None:
        self.directory = FilePath(self.mktemp())
        self.authority = DevCertificateAuthority(self.directory)

    def test_filesCreated(self) -> None:
        """
        The first call makes the directory (mode 0700), the authority and
        the leaf, and returns the leaf's paths; no temporary file is left.
        """
        certPath, keyPath = self.authority.ensureLeaf(self.names)
        self.assertEqual(
            (certPath, keyPath),
            (self.directory.child("leaf.pem"), self.directory.child("leaf.key")),
        )
        self.assertEqual(
            sorted(self.directory.listdir()), ["ca.key", "ca.pem", "leaf.key", "leaf.pem"]
        )
        self.assertEqual(stat.S_IMODE(os.stat(self.directory.path).st_mode), 0o700)

    def test_keysPrivate(self) -> None:
        """
        Private key files have mode 0600.
        """
        self.authority.ensureLeaf(self.names)
        for key in [self.authority.caKeyPath, self.authority.leafKeyPath]:
            self.assertEqual(stat.S_IMODE(os.stat(key.path).st_mode), 0o600, key.path)

    def test_reused(self) -> None:
        """
        A second run (a new instance on the same directory) asking for the
        same names, or fewer, changes no byte.
        """
        self.authority.ensureLeaf(self.names)
        before = _snapshot(self.authority)
        again = DevCertificateAuthority(self.directory)
        again.ensureLeaf(self.names)
        again.ensureLeaf(["MAIL.crepes.fr"])
        self.assertEqual(_snapshot(again), before)

    def test_newHostname(self) -> None:
        """
        A name the leaf lacks gets a new leaf (and key) that covers the old
        names too, from the same authority.
        """
        self.authority.ensureLeaf(self.names)
        before = _snapshot(self.authority)
        DevCertificateAuthority(self.directory).ensureLeaf(["hamburger.edu"])
        after = _snapshot(self.authority)
        self.assertEqual(after["ca.pem"], before["ca.pem"])
        self.assertEqual(after["ca.key"], before["ca.key"])
        self.assertNotEqual(after["leaf.pem"], before["leaf.pem"])
        self.assertNotEqual(after["leaf.key"], before["leaf.key"])
        self.assertEqual(
            _sanOf(self.authority.leafCertificatePath),
            {subjectAltName(name) for name in [*self.names, "hamburger.edu"]},
        )

    def test_subjectAltNames(self) -> None:
        """
        The leaf names exactly the hosts asked for: DNS names and addresses.
        """
        self.authority.ensureLeaf(self.names)
        self.assertEqual(
            _sanOf(self.authority.leafCertificatePath),
            {
                x509.DNSName("localhost"),
                x509.DNSName("mail.crepes.fr"),
                x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
            },
        )

    def test_signedByAuthority(self) -> None:
        """
        The leaf is signed by the authority; the authority is a CA, the
        leaf a server certificate that is not.
        """
        self.authority.ensureLeaf(self.names)
        authority = _load(self.authority.caCertificatePath)
        leaf = _load(self.authority.leafCertificatePath)
        leaf.verify_directly_issued_by(authority)
        self.assertTrue(
            authority.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
        )
        self.assertFalse(leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
        self.assertEqual(
            list(leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value),
            [ExtendedKeyUsageOID.SERVER_AUTH],
        )
        self.assertIsInstance(leaf.public_key(), ec.EllipticCurvePublicKey)

    def test_keyMatchesLeaf(self) -> None:
        """
        The leaf's key file holds the key of the leaf certificate.
        """
        self.authority.ensureLeaf(self.names)
        key = serialization.load_pem_private_key(
            self.authority.leafKeyPath.getContent(), password=None
        )
        self.assertEqual(
            key.public_key().public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            ),
            _load(self.authority.leafCertificatePath)
            .public_key()
            .public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            ),
        )

    def test_expiringLeafRenewed(self) -> None:
        """
        A leaf within L{DevCertificateAuthority.renewBefore} of its end is
        replaced; the authority is kept.
        """
        clock = _FixedClock(datetime.datetime.now(datetime.UTC))
        DevCertificateAuthority(self.directory, clock).ensureLeaf(self.names)
        before = _snapshot(self.authority)
        clock.now += DevCertificateAuthority.leafLifetime - datetime.timedelta(days=10)
        DevCertificateAuthority(self.directory, clock).ensureLeaf(self.names)
        after = _snapshot(self.authority)
        self.assertEqual(after["ca.pem"], before["ca.pem"])
        self.assertNotEqual(after["leaf.pem"], before["leaf.pem"])
        self.assertGreater(
            _load(self.authority.leafCertificatePath).not_valid_after_utc - clock.now,
            datetime.timedelta(days=300),
        )

    def test_expiringAuthorityRenewed(self) -> None:
        """
        An authority that would expire before a new leaf does is replaced,
        and so is the leaf, which the new authority signs.
        """
        clock = _FixedClock(datetime.datetime.now(datetime.UTC))
        DevCertificateAuthority(self.directory, clock).ensureLeaf(self.names)
        before = _snapshot(self.authority)
        clock.now += DevCertificateAuthority.authorityLifetime - datetime.timedelta(days=100)
        DevCertificateAuthority(self.directory, clock).ensureLeaf(self.names)
        after = _snapshot(self.authority)
        self.assertNotEqual(after["ca.pem"], before["ca.pem"])
        self.assertNotEqual(after["leaf.pem"], before["leaf.pem"])
        _load(self.authority.leafCertificatePath).verify_directly_issued_by(
            _load(self.authority.caCertificatePath)
        )

    def test_newAuthorityNewLeaf(self) -> None:
        """
        A leaf from another authority (here: the authority's files were
        removed) is replaced by one the current authority signed.
        """
        self.authority.ensureLeaf(self.names)
        oldLeaf = self.authority.leafCertificatePath.getContent()
        self.authority.caCertificatePath.remove()
        self.authority.caKeyPath.remove()
        self.authority.ensureLeaf(self.names)
        self.assertNotEqual(self.authority.leafCertificatePath.getContent(), oldLeaf)
        _load(self.authority.leafCertificatePath).verify_directly_issued_by(
            _load(self.authority.caCertificatePath)
        )

    def test_damagedFilesReplaced(self) -> None:
        """
        A leaf certificate that does not parse, or a leaf key that does not
        match, gets a new leaf.
        """
        self.authority.ensureLeaf(self.names)
        self.authority.leafCertificatePath.setContent(b"not a certificate")
        self.authority.ensureLeaf(self.names)
        _load(self.authority.leafCertificatePath)

        before = self.authority.leafCertificatePath.getContent()
        self.authority.leafKeyPath.setContent(self.authority.caKeyPath.getContent())
        self.authority.ensureLeaf(self.names)
        self.assertNotEqual(self.authority.leafCertificatePath.getContent(), before)
        serverOptionsFromPEM(self.authority.leafCertificatePath, self.authority.leafKeyPath)

    def test_noNames(self) -> None:
        """
        A certificate for no name at all is refused.
        """
        self.assertRaises(ValueError, self.authority.ensureLeaf, [])

    def test_trustRoot(self) -> None:
        """
        L{DevCertificateAuthority.trustRoot} is the authority's certificate.
        """
        root = self.authority.trustRoot()
        self.assertIsInstance(root, Certificate)
        self.assertEqual(
            root.dumpPEM().strip(), self.authority.caCertificatePath.getContent().strip()
        )

    def test_forStateDirectory(self) -> None:
        """
        A state directory's authority lives in its C{tls} subdirectory.
        """
        stateDir = FilePath(self.mktemp())
        authority = DevCertificateAuthority.forStateDirectory(stateDir)
        self.assertEqual(authority.directory, stateDir.child("tls"))

    def test_serverOptions(self) -> None:
        """
        L{DevCertificateAuthority.serverOptions} are options for the leaf.
        """
        options = self.authority.serverOptions(self.names)
        self.assertIsInstance(options.getContext(), SSL.Context)
        self.assertTrue(self.authority.leafKeyPath.exists())


# Endpoint strings ------------------------------------------------------------


class ResolveServerEndpointTests(unittest.TestCase):
    """
    L{resolveServerEndpoint} fills in keys for C{ssl:} strings with
    C{--tls auto}, and explains what is missing otherwise.
    """

    def setUp(self) -> None:
        self.stateDir = FilePath(self.mktemp())
        self.stateDir.makedirs()

    def test_tcpUnchanged(self) -> None:
        """
        A C{tcp:} string is returned as it is, with or without C{--tls}.
        """
        for tls in [None, "auto"]:
            self.assertEqual(
                resolveServerEndpoint("tcp:2525:interface=127.0.0.1", tls, self.stateDir),
                "tcp:2525:interface=127.0.0.1",
            )

    def test_sslWithKeysUnchanged(self) -> None:
        """
        An C{ssl:} string that names its key is returned as it is.
        """
        description = "ssl:8443:privateKey=k.pem:certKey=c.pem"
        self.assertEqual(resolveServerEndpoint(description, None, None), description)
        self.assertEqual(resolveServerEndpoint(description, "auto", self.stateDir), description)

    def test_sslAuto(self) -> None:
        """
        With C{--tls auto}, an C{ssl:} string without keys names the leaf of
        the state directory's authority, which covers the loopback names,
        the given host names and the C{interface=} address.
        """
        description = resolveServerEndpoint(
            "ssl:0:interface=127.0.0.5", "auto", self.stateDir, ["mail.crepes.fr"]
        )
        authority = DevCertificateAuthority.forStateDirectory(self.stateDir)
        self.assertEqual(
            description,
            f"ssl:0:interface=127.0.0.5:privateKey={authority.leafKeyPath.path}"
            f":certKey={authority.leafCertificatePath.path}",
        )
        self.assertEqual(
            _sanOf(authority.leafCertificatePath),
            {
                subjectAltName(name)
                for name in ["localhost", "127.0.0.1", "::1", "mail.crepes.fr", "127.0.0.5"]
            },
        )

    def test_wildcardInterfaceNotNamed(self) -> None:
        """
        A wildcard C{interface=} is not an address to put in a certificate.
        """
        resolveServerEndpoint("ssl:0:interface=0.0.0.0", "auto", self.stateDir)
        authority = DevCertificateAuthority.forStateDirectory(self.stateDir)
        self.assertNotIn(subjectAltName("0.0.0.0"), _sanOf(authority.leafCertificatePath))

    def test_colonsInPathsQuoted(self) -> None:
        """
        Colons in the state directory's path are escaped, so Twisted's own
        parser finds the files.
        """
        stateDir = FilePath(self.mktemp()).child("a:b")
        stateDir.makedirs()
        description = resolveServerEndpoint("ssl:0:interface=127.0.0.1", "auto", stateDir)
        self.assertIn("a\\:b", description)
        serverFromString(reactor, description)

    def test_missingState(self) -> None:
        """
        C{--tls auto} without C{--state} is a usage error that says so.
        """
        exception = self.assertRaises(
            TLSConfigurationError, resolveServerEndpoint, "ssl:8443", "auto", None
        )
        self.assertIsInstance(exception, usage.UsageError)
        self.assertIsInstance(exception, ValueError)
        self.assertIn("--state", str(exception))

    def test_sslWithoutKeys(self) -> None:
        """
        An C{ssl:} string without keys and without C{--tls auto} is an error
        that names both ways out.
        """
        exception = self.assertRaises(
            TLSConfigurationError, resolveServerEndpoint, "ssl:8443", None, self.stateDir
        )
        self.assertIn("privateKey=", str(exception))
        self.assertIn("--tls auto", str(exception))

    def test_certKeyWithoutPrivateKey(self) -> None:
        """
        C{certKey=} without C{privateKey=} is an error: Twisted would look
        for the key in C{server.pem}.
        """
        self.assertRaises(
            TLSConfigurationError,
            resolveServerEndpoint,
            "ssl:8443:certKey=c.pem",
            "auto",
            self.stateDir,
        )

    def test_unknownTLSValue(self) -> None:
        """
        C{--tls} takes C{auto} only.
        """
        self.assertRaises(
            TLSConfigurationError, resolveServerEndpoint, "ssl:8443", "manual", self.stateDir
        )

    def test_badHostname(self) -> None:
        """
        A host name that cannot go in a certificate is a usage error.
        """
        self.assertRaises(
            TLSConfigurationError,
            resolveServerEndpoint,
            "ssl:8443",
            "auto",
            self.stateDir,
            ["not a name"],
        )


# TLS over loopback -------------------------------------------------------------


class TLSLoopbackTests(unittest.TestCase):
    """
    A real server and client over 127.0.0.1, with certificates from a
    L{DevCertificateAuthority}.
    """

    def setUp(self) -> None:
        self.stateDir = FilePath(self.mktemp())
        self.stateDir.makedirs()
        self.authority = DevCertificateAuthority.forStateDirectory(self.stateDir)

    @inlineCallbacks
    def _exchange(self, serverDescription: str, options: IOpenSSLClientConnectionCreator) -> Any:
        """
        Listen on C{serverDescription}, connect with C{options}, send a
        greeting the server echoes, and wait until both sides are gone.

        @return: a Deferred firing with the client, the server, and the
            reasons each side lost the connection.
        """
        factory = _RecordingFactory(_Peer)
        port = yield serverFromString(reactor, serverDescription).listen(factory)
        self.addCleanup(port.stopListening)
        endpoint = wrapClientTLS(
            options, TCP4ClientEndpoint(reactor, "127.0.0.1", port.getHost().port)
        )
        client = yield connectProtocol(endpoint, _Peer(b"hello, crepes.fr"))
        yield client.lost
        [server] = factory.built
        yield server.lost
        return client, server, client.reason, server.reason

    def _description(self) -> str:
        return resolveServerEndpoint(
            "ssl:0:interface=127.0.0.1", "auto", self.stateDir, ["localhost"]
        )

    @inlineCallbacks
    def test_verifiedExchange(self) -> Any:
        """
        A client that trusts the authority and asks for C{localhost} reaches
        a server listening on an endpoint from L{resolveServerEndpoint}.
        """
        description = self._description()
        client, server, _, _ = yield self._exchange(
            description, clientOptions("localhost", self.authority.trustRoot())
        )
        self.assertEqual(client.received, b"hello, crepes.fr")
        self.assertEqual(server.received, b"hello, crepes.fr")

    @inlineCallbacks
    def test_verifiedByAddress(self) -> Any:
        """
        A client that asks for C{127.0.0.1} checks it against the
        certificate's address entries, with the authority loaded from its
        PEM file as C{curl --cacert} does.
        """
        description = self._description()
        client, _, _, _ = yield self._exchange(
            description,
            clientOptions("127.0.0.1", trustRootFromPEM(self.authority.caCertificatePath)),
        )
        self.assertEqual(client.received, b"hello, crepes.fr")

    @inlineCallbacks
    def test_wrongHostname(self) -> Any:
        """
        A client that asks for a name the certificate lacks drops the
        connection with a verification error, before any data is exchanged.
        """
        description = self._description()
        client, server, clientReason, _ = yield self._exchange(
            description, clientOptions("wrong.example", self.authority.trustRoot())
        )
        self.assertTrue(clientReason.check(VerificationError), clientReason)
        self.assertEqual(client.received, b"")
        self.assertEqual(server.received, b"")

    @inlineCallbacks
    def test_untrustedAuthority(self) -> Any:
        """
        A client that trusts another authority drops the connection with an
        SSL error.
        """
        description = self._description()
        stranger = DevCertificateAuthority(FilePath(self.mktemp()))
        client, server, clientReason, _ = yield self._exchange(
            description, clientOptions("localhost", stranger.trustRoot())
        )
        self.assertTrue(clientReason.check(SSL.Error), clientReason)
        self.assertEqual(server.received, b"")

    @inlineCallbacks
    def _listenSSL(self, serverProtocols: list[bytes], clientProtocols: list[bytes]) -> Any:
        """
        Serve with options from L{serverOptionsFromPEM} on C{listenSSL},
        offering C{serverProtocols} over ALPN; connect offering
        C{clientProtocols}; exchange a greeting and wait until both sides
        are gone.

        @return: a Deferred firing with the client and the server.
        """
        certPath, keyPath = self.authority.ensureLeaf(["localhost"])
        options = serverOptionsFromPEM(certPath, keyPath, acceptableProtocols=serverProtocols)
        factory = _RecordingFactory(_Peer)
        port = reactor.listenSSL(0, factory, options, interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        endpoint = wrapClientTLS(
            clientOptions("localhost", self.authority.trustRoot(), clientProtocols),
            TCP4ClientEndpoint(reactor, "127.0.0.1", port.getHost().port),
        )
        client = yield connectProtocol(endpoint, _Peer(b"HELO crepes.fr"))
        yield client.lost
        [server] = factory.built
        yield server.lost
        return client, server

    @inlineCallbacks
    def test_serverOptionsFromPEM(self) -> Any:
        """
        Options from L{serverOptionsFromPEM} serve TLS with C{listenSSL}; a
        client that offers no ALPN id is served by a server that has some.
        """
        client, server = yield self._listenSSL([b"smtp"], [])
        self.assertEqual(client.received, b"HELO crepes.fr")
        self.assertEqual(server.negotiatedProtocol, None)

    @inlineCallbacks
    def test_alpn(self) -> Any:
        """
        Server and client agree on the ALPN id they share (RFC 7301 section
        3.2).
        """
        client, server = yield self._listenSSL([b"http/1.1"], [b"h2", b"http/1.1"])
        self.assertEqual(client.received, b"HELO crepes.fr")
        self.assertEqual(client.negotiatedProtocol, b"http/1.1")
        self.assertEqual(server.negotiatedProtocol, b"http/1.1")


@implementer(IProtocolNegotiationFactory)
class _HTTPFactory(_RecordingFactory):
    """
    A factory that says it speaks HTTP/1.1 over ALPN, as a netref HTTP
    server's factory does, so that clients offering ALPN ids are served.
    """

    def acceptableProtocols(self) -> list[bytes]:
        return [b"http/1.1"]


class _TinyHTTPResponder(Protocol):
    """
    Answers any request with a fixed HTTP/1.0 response and hangs up: just
    enough for curl.
    """

    def __init__(self) -> None:
        self.lost: Deferred[None] = Deferred()

    def dataReceived(self, data: bytes) -> None:
        if b"\r\n\r\n" in data:
            self.transport.write(b"HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nok\n")
            self.transport.loseConnection()

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self.lost.callback(None)


class CurlInteropTests(unittest.TestCase):
    """
    curl, which nobody here wrote, trusts the development authority's
    C{ca.pem} and accepts a C{--tls auto} server whose factory names its
    ALPN protocol.
    """

    def setUp(self) -> None:
        self.curl = which("curl")
        if not self.curl:
            raise unittest.SkipTest("curl is not installed")

    @inlineCallbacks
    def test_curlCacert(self) -> Any:
        """
        C{curl --cacert state/tls/ca.pem https://localhost:PORT/} works.
        """
        stateDir = FilePath(self.mktemp())
        stateDir.makedirs()
        description = resolveServerEndpoint("ssl:0:interface=127.0.0.1", "auto", stateDir)
        factory = _HTTPFactory(_TinyHTTPResponder)
        port = yield serverFromString(reactor, description).listen(factory)
        self.addCleanup(port.stopListening)
        caPath = DevCertificateAuthority.forStateDirectory(stateDir).caCertificatePath
        out, err, code = yield getProcessOutputAndValue(
            self.curl[0],
            [
                "--silent",
                "--show-error",
                "--noproxy",
                "*",
                "--cacert",
                caPath.path,
                "--resolve",
                f"localhost:{port.getHost().port}:127.0.0.1",
                f"https://localhost:{port.getHost().port}/",
            ],
            env={},
        )
        [server] = factory.built
        yield server.lost
        self.assertEqual((out, code), (b"ok\n", 0), err)


# STARTTLS ------------------------------------------------------------------------


class StartTLSTests(unittest.TestCase):
    """
    L{startTLS} switches to TLS and discards what the peer pipelined after
    the command, whichever side calls it.
    """

    def setUp(self) -> None:
        self.options = object()
        self.transport = _TLSStringTransport()

    def _server(self, **kwargs: Any) -> _ToyServer:
        server = _ToyServer(self.options, **kwargs)
        server.makeConnection(self.transport)
        return server

    def test_sameReadInjectionDiscarded(self) -> None:
        """
        A command that arrives in the same read as C{STARTTLS} is discarded,
        not acted on before TLS starts nor after.
        """
        server = self._server()
        server.dataReceived(b"STARTTLS\r\nINJECTED\r\n")
        self.assertEqual(server.commands, [b"STARTTLS"])
        self.assertEqual(server.discarded, b"INJECTED\r\n")
        self.assertEqual(self.transport.tlsStarted, [self.options])
        # What comes after the handshake is parsed from a clean buffer.
        server.dataReceived(b"PING\r\n")
        self.assertEqual(server.commands, [b"STARTTLS", b"PING"])

    def test_partialLineDiscarded(self) -> None:
        """
        A partial line buffered at the switch is not glued to the first
        line after it.
        """
        server = self._server()
        server.dataReceived(b"STARTTLS\r\nRCPT TO:<eve@")
        self.assertEqual(server.discarded, b"RCPT TO:<eve@")
        server.dataReceived(b"PING\r\n")
        self.assertEqual(server.commands, [b"STARTTLS", b"PING"])

    def test_withoutDiscardInjectionRuns(self) -> None:
        """
        What the discarding prevents: a server that keeps its buffer acts on
        the injected command after it has started TLS, and answers it inside
        the TLS session.
        """
        server = self._server(vulnerable=True)
        server.dataReceived(b"STARTTLS\r\nINJECTED\r\n")
        self.assertEqual(server.commands, [b"STARTTLS", b"INJECTED"])

    def test_replyInTheClear(self) -> None:
        """
        The go-ahead reply is written before TLS starts, so it goes out in
        the clear as the protocol requires.
        """
        self._server().dataReceived(b"STARTTLS\r\n")
        self.assertEqual(self.transport.writtenBeforeTLS, b"220 go ahead\r\n")

    def test_nothingToDiscard(self) -> None:
        """
        From a well-behaved client nothing is discarded.
        """
        server = self._server()
        server.dataReceived(b"STARTTLS\r\n")
        self.assertEqual(server.discarded, b"")

    def test_transcript(self) -> None:
        """
        The transcript notes the discarded bytes and the switch; when
        nothing is discarded, only the switch.
        """
        events: list[dict[str, Any]] = []
        transcriptPublisher.addObserver(events.append)
        self.addCleanup(transcriptPublisher.removeObserver, events.append)
        setTracing(True)
        self.addCleanup(setTracing, False)

        self._server(transcript=Transcript("t1")).dataReceived(b"STARTTLS\r\nINJECTED\r\n")
        notes = [e["netref_line"] for e in events if e["netref_side"] == NOTE]
        self.assertEqual(
            notes,
            ["discarded 10 bytes sent before the TLS handshake: INJECTED", "starting TLS"],
        )

        del events[:]
        server = _ToyServer(self.options, Transcript("t2"))
        server.makeConnection(_TLSStringTransport())
        server.dataReceived(b"STARTTLS\r\n")
        notes = [e["netref_line"] for e in events if e["netref_side"] == NOTE]
        self.assertEqual(notes, ["starting TLS"])

    def test_transportWithoutTLS(self) -> None:
        """
        A transport that cannot start TLS is a L{TypeError}, and the buffer
        is left alone.
        """
        called = []

        def discard() -> bytes:
            called.append(True)
            return b""

        self.assertRaises(TypeError, startTLS, StringTransport(), self.options, discard)
        self.assertEqual(called, [])

    def test_alreadySecure(self) -> None:
        """
        Starting TLS inside TLS is a L{ValueError}; L{tlsActive} tells a
        protocol beforehand.
        """
        self.assertFalse(tlsActive(self.transport))
        directlyProvides(self.transport, ISSLTransport)
        self.assertTrue(tlsActive(self.transport))
        self.assertRaises(ValueError, startTLS, self.transport, self.options, lambda: b"")
        self.assertEqual(self.transport.tlsStarted, [])

    def test_clientDiscardsServerBytes(self) -> None:
        """
        A client discards what the server sent after its go-ahead reply, and
        starts TLS with options that check the server's name.
        """
        client = _ToyClient(b"STARTTLS\r\n", None)
        client.makeConnection(self.transport)
        client.dataReceived(b"220 go ahead\r\nOK FORGED\r\n")
        self.assertEqual(client.replies, [b"220 go ahead"])
        self.assertEqual(client.discarded, b"OK FORGED\r\n")
        [options] = self.transport.tlsStarted
        self.assertTrue(IOpenSSLClientConnectionCreator.providedBy(options))


class StartTLSLoopbackTests(unittest.TestCase):
    """
    The STARTTLS switch over a real connection: a plaintext toy server and
    client on 127.0.0.1 that upgrade to TLS.
    """

    def setUp(self) -> None:
        self.authority = DevCertificateAuthority(FilePath(self.mktemp()))
        self.options = self.authority.serverOptions(["localhost"])

    @inlineCallbacks
    def _converse(self, client: _ToyClient) -> Any:
        """
        Connect C{client} to a toy server and wait until both sides are gone.

        @return: a Deferred firing with the server.
        """
        factory = _RecordingFactory(lambda: _ToyServer(self.options))
        port = reactor.listenTCP(0, factory, interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        yield connectProtocol(
            TCP4ClientEndpoint(reactor, "127.0.0.1", port.getHost().port), client
        )
        yield client.lost
        [server] = factory.built
        yield server.lost
        return server

    @inlineCallbacks
    def test_injectionDiscarded(self) -> Any:
        """
        C{STARTTLS} and an injected command in one write: the server acts on
        C{STARTTLS}, discards the injected command, and after the handshake
        acts on what the client sends over TLS, and only that.

        (On loopback one small write arrives in one read.  Were it split,
        the injected bytes would reach the TLS layer and fail the handshake:
        this test would fail, never pass wrongly.)
        """
        client = _ToyClient(b"STARTTLS\r\nINJECTED\r\n", self.authority.trustRoot())
        server = yield self._converse(client)
        self.assertEqual(server.commands, [b"STARTTLS", b"PING"])
        self.assertEqual(server.secure, [False, True])
        self.assertEqual(server.discarded, b"INJECTED\r\n")
        self.assertEqual(client.replies, [b"220 go ahead", b"OK PING"])
        self.assertEqual(client.discarded, b"")

    @inlineCallbacks
    def test_plaintextAfterGoAhead(self) -> Any:
        """
        Plaintext sent after the go-ahead reply, in a later read, reaches
        the TLS layer, which fails the handshake: it is never a command.
        """
        client = _ToyClient(
            b"STARTTLS\r\n",
            self.authority.trustRoot(),
            startTLSOnGoAhead=False,
            afterGoAhead=b"INJECTED\r\n",
        )
        server = yield self._converse(client)
        self.assertEqual(server.commands, [b"STARTTLS"])
        self.assertTrue(server.reason.check(SSL.Error), server.reason)
