"""
TLS for every netref service: server and client contexts, a development
certificate authority, and the STARTTLS switch.

A netref server speaks TLS in one of two ways.  With I{implicit} TLS the
handshake is the first thing on the connection: HTTPS, SMTPS, POP3S and
IMAPS listen on C{ssl:} endpoint strings.  With I{STARTTLS} a line protocol
begins in the clear and upgrades the connection when the client asks (SMTP
C{STARTTLS}, POP3 C{STLS}, IMAP C{STARTTLS}, FTP C{AUTH TLS}); L{startTLS}
makes that switch for all of them, and refuses to carry plaintext across it.

Certificates come from PEM files (L{serverOptionsFromPEM}), or, with
C{--tls auto}, from a L{DevCertificateAuthority}: a throw-away certificate
authority kept in the service's state directory, which issues certificates
for the names the service answers to.  L{resolveServerEndpoint} turns an
C{ssl:} endpoint string without keys into one that uses them.

Clients verify the server's name against its certificate (RFC 6125, through
C{service_identity}) with L{clientOptions}; a client of a development
server trusts that server's certificate authority through L{trustRootFromPEM}
or L{DevCertificateAuthority.trustRoot}.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import re
from collections.abc import Callable, Iterable, Sequence
from typing import cast

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from OpenSSL import crypto

# IOpenSSLTrustRoot is the documented type of optionsForClientTLS's trustRoot,
# but Twisted exports it from this module only.
from twisted.internet._sslverify import IOpenSSLTrustRoot
from twisted.internet.endpoints import quoteStringArgument
from twisted.internet.interfaces import (
    IOpenSSLClientConnectionCreator,
    IOpenSSLServerConnectionCreator,
    ISSLTransport,
    ITLSTransport,
    ITransport,
)
from twisted.internet.ssl import (
    Certificate,
    CertificateOptions,
    TLSVersion,
    optionsForClientTLS,
    trustRootFromCertificates,
)
from twisted.logger import Logger
from twisted.python import usage
from twisted.python.filepath import FilePath

from netref.core.durable import writeAtomically
from netref.core.trace import Transcript, displayLine

_log = Logger()

#: The private key types the development certificate authority can sign with.
SigningKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey

#: What L{startTLS} accepts: server options on a server, client options on a
#: client.
ConnectionCreator = IOpenSSLServerConnectionCreator | IOpenSSLClientConnectionCreator

#: The names a C{--tls auto} certificate always covers, so that a development
#: server is reachable as C{localhost} however it is addressed.
LOOPBACK_NAMES: tuple[str, ...] = ("localhost", "127.0.0.1", "::1")

#: The oldest TLS version netref negotiates: RFC 8996 deprecates TLS 1.0
#: and 1.1.
MINIMUM_TLS_VERSION = TLSVersion.TLSv1_2


class TLSConfigurationError(usage.UsageError, ValueError):
    """
    The TLS settings of a service cannot work as given.

    It is a L{usage.UsageError}, so twistd reports it as a bad option with a
    one-line reason, and a L{ValueError} for callers outside twistd.
    """


# Server contexts from PEM files.


def _asFilePath(path: FilePath[str] | str) -> FilePath[str]:
    return path if isinstance(path, FilePath) else FilePath(path)


def _loadCertificates(path: FilePath[str]) -> list[x509.Certificate]:
    """
    @return: every certificate in the PEM file at C{path}, in file order.
    @raise ValueError: if the file holds no PEM certificate.
    """
    try:
        return x509.load_pem_x509_certificates(path.getContent())
    except ValueError:
        raise ValueError(f"no PEM certificate in {path.path}") from None


def _publicKeyBytes(key: x509.Certificate | SigningKey) -> bytes:
    publicKey = key.public_key()
    return publicKey.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _certificateOptions(
    key: SigningKey,
    certificate: x509.Certificate,
    chain: Sequence[x509.Certificate],
    acceptableProtocols: Sequence[bytes],
) -> CertificateOptions:
    """
    Server options for one certificate and its key.

    @param chain: the intermediate certificates between C{certificate} and a
        root, sent to clients after it (RFC 8446 section 4.4.2).
    @param acceptableProtocols: see L{serverOptionsFromPEM}.
    """
    # pyOpenSSL (24.3 and later) takes cryptography's keys and certificates
    # and deprecates its own PKey and X509.  CertificateOptions hands these
    # to pyOpenSSL untouched, though its annotations still name the old types.
    return CertificateOptions(
        privateKey=cast(crypto.PKey, key),
        certificate=cast(crypto.X509, certificate),
        extraCertChain=cast(list[crypto.X509], list(chain)),
        raiseMinimumTo=MINIMUM_TLS_VERSION,
        acceptableProtocols=list(acceptableProtocols) or None,
    )


def serverOptionsFromPEM(
    certPath: FilePath[str] | str,
    keyPath: FilePath[str] | str,
    chainPath: FilePath[str] | str | None = None,
    acceptableProtocols: Sequence[bytes] = (),
) -> CertificateOptions:
    """
    Server TLS options from PEM files, as a certificate authority (or
    L{DevCertificateAuthority}) hands them out.

    The certificate file may be a "full chain" file: certificates after the
    first are sent as its chain, followed by those in C{chainPath}.  TLS 1.0
    and 1.1 are refused (RFC 8996).

    @param certPath: the server's certificate, first in the file.
    @param keyPath: its private key, unencrypted.
    @param chainPath: intermediate certificates, if they are not in
        C{certPath}.
    @param acceptableProtocols: the ALPN protocol ids the server speaks, such
        as C{b"http/1.1"} (RFC 7301).  Give them: Twisted (26.10) answers a
        client that offers ALPN ids, as curl and browsers do, with a fatal
        alert unless one of them is here or is returned by the protocol
        factory's C{acceptableProtocols()} (see
        L{twisted.internet.interfaces.IProtocolNegotiationFactory}).  After
        STARTTLS there is no factory to ask, so only these count.  A client
        that offers no ALPN id is served either way.
    @return: options for C{listenSSL} or L{startTLS}.
    @raise ValueError: if a file holds no certificate or key, or the key
        does not belong to the certificate.
    """
    certFile, keyFile = _asFilePath(certPath), _asFilePath(keyPath)
    certificates = _loadCertificates(certFile)
    if chainPath is not None:
        certificates += _loadCertificates(_asFilePath(chainPath))
    key = _loadSigningKey(keyFile)
    if key is None:
        raise ValueError(f"no usable unencrypted PEM private key in {keyFile.path}")
    if _publicKeyBytes(key) != _publicKeyBytes(certificates[0]):
        raise ValueError(
            f"the private key in {keyFile.path} does not belong to "
            f"the certificate in {certFile.path}"
        )
    return _certificateOptions(key, certificates[0], certificates[1:], acceptableProtocols)


# Client contexts.


def clientOptions(
    hostname: str,
    trustRoot: IOpenSSLTrustRoot | Certificate | None = None,
    acceptableProtocols: Sequence[bytes] = (),
) -> IOpenSSLClientConnectionCreator:
    """
    Client TLS options that check the server is C{hostname}.

    The server's certificate must chain to C{trustRoot} and name C{hostname}
    in its subjectAltName, as a DNS name or, for an address such as
    C{127.0.0.1}, an IP address (RFC 6125 section 6; RFC 5280 section
    4.2.1.6).  The server name indication is sent for DNS names only (RFC
    6066 section 3).

    @param hostname: the name the user asked for, not one learned from the
        network (a DNS answer or a redirect could lie).
    @param trustRoot: the certificate authorities to trust: a
        L{Certificate} (such as L{DevCertificateAuthority.trustRoot}), the
        result of L{trustRootFromPEM}, or L{None} for the platform's.
    @param acceptableProtocols: ALPN protocol ids to offer, most preferred
        first (RFC 7301 section 3.1); none by default.
    @return: options for C{wrapClientTLS} or L{startTLS}.
    """
    return optionsForClientTLS(
        hostname, trustRoot=trustRoot, acceptableProtocols=list(acceptableProtocols) or None
    )


def trustRootFromPEM(path: FilePath[str] | str) -> IOpenSSLTrustRoot:
    """
    Trust the certificate authorities in a PEM bundle, as C{curl --cacert}.

    @param path: a file of one or more PEM certificates.
    @return: a trust root for L{clientOptions}.
    @raise ValueError: if the file holds no certificate.
    """
    certificates = _loadCertificates(_asFilePath(path))
    trustRoot: IOpenSSLTrustRoot = trustRootFromCertificates(
        [Certificate(crypto.X509.from_cryptography(c)) for c in certificates]
    )
    return trustRoot


def _keyPEM(key: SigningKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _loadSigningKey(path: FilePath[str]) -> SigningKey | None:
    """
    @return: the unencrypted PEM private key at C{path}, or L{None} if there
        is none, it cannot be read, or it is of a kind netref does not sign
        with.
    """
    try:
        key = serialization.load_pem_private_key(path.getContent(), password=None)
    except (OSError, ValueError, TypeError):
        return None
    if isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        return key
    return None


def _loadCertificate(path: FilePath[str]) -> x509.Certificate | None:
    """
    @return: the first PEM certificate at C{path}, or L{None}.
    """
    try:
        return x509.load_pem_x509_certificate(path.getContent())
    except (OSError, ValueError):
        return None


# Names in certificates.

_DNS_NAME = re.compile(
    r"^(\*\.)?[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*$"
)


def subjectAltName(name: str) -> x509.GeneralName:
    """
    The subjectAltName entry that makes a certificate valid for C{name}.

    Addresses become C{iPAddress} entries and everything else a C{dNSName}
    (RFC 5280 section 4.2.1.6): RFC 6125 section 6.2.1 has clients match an
    address against C{iPAddress} entries only.  DNS names are lowercased,
    lose a trailing dot, and internationalized names are written as
    A-labels (RFC 5280 section 7.2).

    @param name: a host name (C{mail.crepes.fr}, C{*.crepes.fr}) or an
        IPv4 or IPv6 address (brackets allowed).
    @raise ValueError: if C{name} is neither.
    """
    text = name.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    try:
        return x509.IPAddress(ipaddress.ip_address(text))
    except ValueError:
        pass
    try:
        ascii = text.rstrip(".").encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise ValueError(f"not a host name or an address: {name!r}") from None
    if not _DNS_NAME.match(ascii):
        raise ValueError(f"not a host name or an address: {name!r}")
    return x509.DNSName(ascii)


def _certificateNames(certificate: x509.Certificate) -> set[x509.GeneralName]:
    """
    @return: the DNS names and addresses in C{certificate}'s
        subjectAltName, normalized as L{subjectAltName} does.
    """
    try:
        extension = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return set()
    names: set[x509.GeneralName] = set()
    for entry in extension.value:
        if isinstance(entry, x509.DNSName):
            names.add(x509.DNSName(entry.value.lower()))
        elif isinstance(entry, x509.IPAddress):
            names.add(entry)
    return names


def _sortedNames(names: Iterable[x509.GeneralName]) -> list[x509.GeneralName]:
    """
    DNS names, then addresses, each sorted: a stable order for certificates.
    """

    def key(name: x509.GeneralName) -> tuple[int, str]:
        if isinstance(name, x509.DNSName):
            return (0, name.value)
        return (1, str(name.value))

    return sorted(names, key=key)


# The development certificate authority.


def _utcNow() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


class DevCertificateAuthority:
    """
    A throw-away certificate authority for development, behind
    C{--tls auto}.

    It lives in one directory: C{ca.pem} and C{ca.key} (the authority),
    C{leaf.pem} and C{leaf.key} (the server certificate it issued).  Both
    are made the first time they are needed and kept: a later run reuses
    them while they are valid, so a client told to trust C{ca.pem} (C{curl
    --cacert ca.pem}) keeps working.  The leaf is reissued when it does not
    name a host it is asked for (the new one names the old hosts too), when
    it is about to expire, or when the authority changed.  Files are written
    atomically; private keys are readable by their owner only.

    Keys are ECDSA P-256, which is fast to generate and every current TLS
    client accepts.

    The authority signs for any name, so trust it only where you run it:
    its key is as powerful, to the clients that trust it, as a public
    certificate authority's.

    @cvar authorityLifetime: how long a new authority is valid.
    @cvar leafLifetime: how long a new leaf is valid.  It stays within the
        825 days some platforms accept even from a private authority.
    @cvar renewBefore: a leaf this close to expiry is replaced.  An
        authority is replaced when it has less than C{leafLifetime +
        renewBefore} left, so that no leaf outlives its authority.
    @ivar directory: where the files are.
    @ivar caCertificatePath: the authority's certificate: what clients trust.
    @ivar caKeyPath: the authority's private key.
    @ivar leafCertificatePath: the server certificate.
    @ivar leafKeyPath: the server's private key.
    """

    authorityLifetime = datetime.timedelta(days=3650)
    leafLifetime = datetime.timedelta(days=365)
    renewBefore = datetime.timedelta(days=30)

    def __init__(
        self,
        directory: FilePath[str],
        clock: Callable[[], datetime.datetime] = _utcNow,
    ) -> None:
        """
        @param directory: the directory for the files; created (mode 0700)
            when first needed.
        @param clock: the current time, as an aware UTC datetime; tests
            replace it to see certificates expire.
        """
        self.directory = directory
        self._clock = clock
        self.caCertificatePath = directory.child("ca.pem")
        self.caKeyPath = directory.child("ca.key")
        self.leafCertificatePath = directory.child("leaf.pem")
        self.leafKeyPath = directory.child("leaf.key")

    @classmethod
    def forStateDirectory(cls, stateDir: FilePath[str]) -> DevCertificateAuthority:
        """
        The authority of a service's C{--state} directory: its C{tls}
        subdirectory, where L{resolveServerEndpoint} keeps it too.
        """
        return cls(stateDir.child("tls"))

    def _ensureDirectory(self) -> None:
        if not self.directory.isdir():
            os.makedirs(self.directory.path, mode=0o700, exist_ok=True)

    def _isCurrent(self, certificate: x509.Certificate, margin: datetime.timedelta) -> bool:
        """
        @return: whether C{certificate} is valid now and for C{margin} more.
        """
        now = self._clock()
        return (
            certificate.not_valid_before_utc <= now
            and certificate.not_valid_after_utc - now > margin
        )

    def _loadAuthority(self) -> tuple[SigningKey, x509.Certificate] | None:
        """
        @return: the stored authority, if it is usable for another leaf
            lifetime; otherwise L{None}.
        """
        key = _loadSigningKey(self.caKeyPath)
        certificate = _loadCertificate(self.caCertificatePath)
        if key is None or certificate is None:
            return None
        if _publicKeyBytes(key) != _publicKeyBytes(certificate):
            return None
        if not self._isCurrent(certificate, self.leafLifetime + self.renewBefore):
            return None
        return key, certificate

    def _newAuthority(self) -> tuple[SigningKey, x509.Certificate]:
        """
        Make and store a new authority.

        Its name carries a random tag, so that two development authorities
        (two state directories, or one renewed) are never mistaken for one
        another by a client that has trusted either.
        """
        now = self._clock()
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name(
            [
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "netref"),
                x509.NameAttribute(
                    NameOID.COMMON_NAME, f"netref development CA {os.urandom(4).hex()}"
                ),
            ]
        )
        keyIdentifier = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
        certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + self.authorityLifetime)
            # RFC 5280 section 4.2.1.9: a CA; it signs end-entity
            # certificates only.
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=False,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(keyIdentifier, critical=False)
            .sign(key, hashes.SHA256())
        )
        self._ensureDirectory()
        writeAtomically(self.caKeyPath, _keyPEM(key), private=True)
        writeAtomically(
            self.caCertificatePath,
            certificate.public_bytes(serialization.Encoding.PEM),
            private=False,
        )
        _log.info(
            "Made a development certificate authority; "
            "clients should trust {path} (curl --cacert {path}).",
            path=self.caCertificatePath.path,
        )
        return key, certificate

    def ensureAuthority(self) -> x509.Certificate:
        """
        Make the authority unless a usable one is stored.

        @return: the authority's certificate.
        """
        return self._authority()[1]

    def _authority(self) -> tuple[SigningKey, x509.Certificate]:
        return self._loadAuthority() or self._newAuthority()

    def _leafNames(self, authority: x509.Certificate) -> tuple[set[x509.GeneralName], bool]:
        """
        Inspect the stored leaf.

        @return: the names it covers (empty if there is none) and whether it
            is usable as it is: issued by C{authority}, current, and
            matching its key.
        """
        certificate = _loadCertificate(self.leafCertificatePath)
        if certificate is None:
            return set(), False
        names = _certificateNames(certificate)
        key = _loadSigningKey(self.leafKeyPath)
        if key is None or _publicKeyBytes(key) != _publicKeyBytes(certificate):
            return names, False
        try:
            certificate.verify_directly_issued_by(authority)
        except (ValueError, TypeError, InvalidSignature):
            return names, False
        return names, self._isCurrent(certificate, self.renewBefore)

    def _newLeaf(
        self,
        names: Iterable[x509.GeneralName],
        authorityKey: SigningKey,
        authority: x509.Certificate,
    ) -> None:
        """
        Issue and store a server certificate for C{names}.
        """
        now = self._clock()
        ordered = _sortedNames(names)
        key = ec.generate_private_key(ec.SECP256R1())
        # The subject is informative only: clients check subjectAltName
        # (RFC 6125 section 6.4.4).  A common name holds 64 characters.
        commonName = str(ordered[0].value)[:64]
        certificate = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, commonName)]))
            .issuer_name(authority.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(min(now + self.leafLifetime, authority.not_valid_after_utc))
            .add_extension(x509.SubjectAlternativeName(ordered), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
            )
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
            )
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(authorityKey.public_key()),
                critical=False,
            )
            .sign(authorityKey, hashes.SHA256())
        )
        self._ensureDirectory()
        writeAtomically(self.leafKeyPath, _keyPEM(key), private=True)
        writeAtomically(
            self.leafCertificatePath,
            certificate.public_bytes(serialization.Encoding.PEM),
            private=False,
        )
        _log.info(
            "Issued a development certificate for {names} in {path}.",
            names=", ".join(str(name.value) for name in ordered),
            path=self.leafCertificatePath.path,
        )

    def ensureLeaf(self, hostnames: Iterable[str]) -> tuple[FilePath[str], FilePath[str]]:
        """
        Make sure the stored server certificate covers C{hostnames}, issuing
        a new one (and a new authority) if needed.

        @param hostnames: host names and addresses, as L{subjectAltName}
            takes them.
        @return: the paths of the certificate and of its private key.
        @raise ValueError: if C{hostnames} is empty or holds something that
            is not a host name or an address.
        """
        wanted = {subjectAltName(name) for name in hostnames}
        if not wanted:
            raise ValueError("a certificate needs at least one host name or address")
        authorityKey, authority = self._authority()
        existing, usable = self._leafNames(authority)
        if not (usable and wanted <= existing):
            self._newLeaf(wanted | existing, authorityKey, authority)
        return self.leafCertificatePath, self.leafKeyPath

    def trustRoot(self) -> Certificate:
        """
        @return: the authority's certificate, for L{clientOptions}; the
            authority is made if there is none.
        """
        authority = self.ensureAuthority()
        return Certificate.loadPEM(authority.public_bytes(serialization.Encoding.PEM))

    def serverOptions(
        self, hostnames: Iterable[str], acceptableProtocols: Sequence[bytes] = ()
    ) -> CertificateOptions:
        """
        Server options with a certificate for C{hostnames}: what a service
        run with C{--tls auto} offers after STARTTLS.

        @param hostnames: as for L{ensureLeaf}.
        @param acceptableProtocols: as for L{serverOptionsFromPEM}.
        """
        certificatePath, keyPath = self.ensureLeaf(hostnames)
        return serverOptionsFromPEM(
            certificatePath, keyPath, acceptableProtocols=acceptableProtocols
        )


# Endpoint strings.


def _splitDescription(description: str) -> tuple[list[str], dict[str, str]]:
    """
    Split an endpoint string as Twisted's parser does: C{:} separates
    arguments, the first C{=} in an argument makes it a keyword, and a
    backslash escapes the character after it.

    @return: the positional arguments (the endpoint type first) and the
        keyword arguments.
    """
    positional: list[str] = []
    keywords: dict[str, str] = {}
    current: list[str] = []
    key: str | None = None

    def finish() -> None:
        value = "".join(current)
        if key is None:
            positional.append(value)
        else:
            keywords[key] = value

    characters = iter(description)
    for character in characters:
        if character == "\\":
            current.append(next(characters, ""))
        elif character == ":":
            finish()
            current, key = [], None
        elif character == "=" and key is None:
            key, current = "".join(current), []
        else:
            current.append(character)
    finish()
    return positional, keywords


def _specificAddress(interface: str) -> str | None:
    """
    @return: C{interface} if it is one particular address (not a wildcard
        such as C{0.0.0.0} or C{::}), else L{None}.
    """
    try:
        address = ipaddress.ip_address(interface)
    except ValueError:
        return None
    return None if address.is_unspecified else str(address)


def resolveServerEndpoint(
    description: str,
    tls: str | None,
    stateDir: FilePath[str] | None,
    hostnames: Sequence[str] = (),
) -> str:
    """
    Complete an C{ssl:} endpoint string that names no certificate.

    With C{tls="auto"}, C{ssl:8443} or C{ssl:8443:interface=127.0.0.2}
    gets C{privateKey=...:certKey=...} added, naming a certificate from the
    L{DevCertificateAuthority} in C{stateDir}.  The certificate covers
    C{hostnames}, the loopback names (L{LOOPBACK_NAMES}) and the address in
    C{interface=}, if any.  Strings that are not C{ssl:}, or that name a key
    already, come back unchanged.

    @param description: a Twisted server endpoint string, as given to
        C{--listen}.
    @param tls: the C{--tls} option: C{"auto"} or L{None}.
    @param stateDir: the C{--state} directory.
    @param hostnames: the names the service answers to, such as its
        C{--domain}.
    @return: an endpoint string for C{serverFromString}.
    @raise TLSConfigurationError: if an C{ssl:} string names no key and
        C{tls} is not C{"auto"}, if C{stateDir} is missing for
        C{tls="auto"}, or if a host name is not valid.
    """
    positional, keywords = _splitDescription(description)
    if positional[0].lower() != "ssl" or "privateKey" in keywords:
        return description
    if "certKey" in keywords:
        raise TLSConfigurationError(
            f"{description!r} names a certificate (certKey=) but not its key: add privateKey=FILE"
        )
    if tls is None:
        raise TLSConfigurationError(
            f"{description!r} names no certificate: add privateKey=FILE:certKey=FILE, "
            "or use --tls auto for a development certificate"
        )
    if tls.lower() != "auto":
        raise TLSConfigurationError(f"unknown --tls value {tls!r}: the only one is 'auto'")
    if stateDir is None:
        raise TLSConfigurationError(
            "--tls auto keeps its certificate authority on disk: give --state DIR"
        )
    names = [*hostnames, *LOOPBACK_NAMES]
    interface = _specificAddress(keywords.get("interface", ""))
    if interface is not None:
        names.append(interface)
    try:
        certificatePath, keyPath = DevCertificateAuthority.forStateDirectory(stateDir).ensureLeaf(
            names
        )
    except ValueError as error:
        raise TLSConfigurationError(str(error)) from None
    return (
        f"{description}:privateKey={quoteStringArgument(keyPath.path)}"
        f":certKey={quoteStringArgument(certificatePath.path)}"
    )


# STARTTLS.


def tlsActive(transport: ITransport) -> bool:
    """
    Whether a connection already runs over TLS, from the start (an C{ssl:}
    endpoint) or after STARTTLS.

    A server offers STARTTLS only while this is false: RFC 3207 section
    4.2 forbids advertising it after the handshake (and forbids a client
    to ask again), and a POP3 server may answer a second C{STLS} with
    C{-ERR} (RFC 2595 section 4).

    @param transport: the connection.
    """
    return ISSLTransport.providedBy(transport)


def startTLS(
    transport: ITransport,
    contextFactory: ConnectionCreator,
    discardBuffered: Callable[[], bytes],
    transcript: Transcript | None = None,
) -> bytes:
    """
    Switch a connection to TLS in the middle of a line protocol, throwing
    away whatever the peer sent after the command that asked for it.

    Call it at once when the switch is agreed, from the code that handled
    the command, before control returns to the protocol's parser: on a
    server, right after writing the go-ahead reply to C{STARTTLS} (SMTP,
    IMAP), C{STLS} (POP3) or C{AUTH TLS} (FTP); on a client, on reading
    that reply.  Bytes already written go out in the clear before the
    handshake, so the reply must be written first.

    The rule it enforces: bytes that arrived in the clear after the command,
    but before the handshake, are discarded, never acted on after TLS
    starts.  A client must not send anything after C{STARTTLS} until the
    handshake completes (RFC 3207 section 4, STARTTLS last in a pipelined
    group; RFC 2595 sections 3.1 and 4), so such bytes can only come from
    a broken client or from an attacker on the path who appended commands
    to the client's.  Were they parsed after the handshake, the server
    would run them as if they came over the protected channel (the
    "STARTTLS command injection" of CVE-2011-0411).  RFC 3207 section 4.2
    requires the server to "discard any knowledge obtained from the
    client" not obtained through TLS, and section 6 requires both sides to
    discard what they learnt before the handshake.  The same holds for a
    client: server replies read before the handshake are dropped too.

    The protocol's own buffer is cleared through C{discardBuffered}, so
    this works however the protocol parses.  For a L{LineReceiver} pass
    C{self.clearLineBuffer}: called from C{lineReceived}, it also stops
    C{dataReceived} from delivering lines that came in the same read as the
    command.  A protocol that feeds a sans-IO parser returns the parser's
    unconsumed bytes and drops any events it has not handled yet.  Bytes
    that arrive later go to the TLS layer, where plaintext fails the
    handshake.

    @param transport: the connection; it must provide L{ITLSTransport}.
    @param contextFactory: server options on a server (L{CertificateOptions},
        L{DevCertificateAuthority.serverOptions}); client options on a
        client (L{clientOptions}).
    @param discardBuffered: empties the protocol's receive buffer and
        returns what it held.
    @param transcript: where to note the switch and any discarded bytes.
    @return: the discarded bytes (empty from a well-behaved peer).
    @raise TypeError: if C{transport} cannot start TLS.
    @raise ValueError: if TLS is already active on C{transport}.
    """
    if tlsActive(transport):
        # RFC 3207 section 4.2: no STARTTLS inside TLS.  The protocol must
        # refuse the command (and, on a server, stop offering it).
        raise ValueError("TLS is already active on this connection")
    tlsTransport = ITLSTransport(transport, None)
    if tlsTransport is None:
        raise TypeError(f"{transport!r} cannot start TLS (it does not provide ITLSTransport)")
    discarded = discardBuffered()
    if discarded:
        _log.warn(
            "Discarded {count} bytes the peer sent before the TLS handshake "
            "(RFC 3207 section 4.2).",
            count=len(discarded),
        )
        if transcript is not None:
            transcript.note(
                f"discarded {len(discarded)} bytes sent before the TLS handshake: "
                f"{displayLine(discarded[:80])}"
            )
    if transcript is not None:
        transcript.note("starting TLS")
    tlsTransport.startTLS(contextFactory)
    return discarded


def startClientTLS(
    transport: ITransport,
    hostname: str,
    discardBuffered: Callable[[], bytes],
    trustRoot: IOpenSSLTrustRoot | Certificate | None = None,
    transcript: Transcript | None = None,
) -> bytes:
    """
    The client side of L{startTLS}: start TLS on reading the server's
    go-ahead reply, checking that the server is C{hostname}.

    @param hostname: the server the user asked for (see L{clientOptions}).
    @param trustRoot: as for L{clientOptions}.
    @return: the server's bytes that were discarded.
    """
    return startTLS(transport, clientOptions(hostname, trustRoot), discardBuffered, transcript)
