"""
C{twistd netref-ftp}: an FTP server for a directory.

By default it listens on port 2121 of 127.0.0.1 (FTP's well-known port is
21, with data port 20, which need root)::

    twistd -n netref-ftp --root /srv/ftp --user alice:secret --anonymous
    twistd -n netref-ftp --root /srv/ftp --users ftp.passwd --tls auto --state /var/lib/ftp \\
        --passive-ports 30000-30100 --passive-address 203.0.113.7
    twistd -n netref-ftp --root DIR --anonymous --listen tcp:21:interface=0.0.0.0

Users with accounts (C{--user NAME:PASSWORD}, repeatable, or C{--users
FILE}, a password file of scrypt hashes) see the whole root and may
change it; with C{--anonymous}, anonymous users (RFC 1635) may read the
C{--anonymous-root} (the root by default).  C{--tls auto} (with
C{--state DIR}) or C{--certificate}/C{--private-key} enable C{AUTH TLS}
(RFC 4217); then account passwords are accepted only under TLS, unless
C{--plaintext-login}.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from typing import Any

from twisted.application.service import IService, MultiService, Service
from twisted.internet.interfaces import IOpenSSLServerConnectionCreator
from twisted.python import usage

from netref.core.auth import MemoryPasswordChecker
from netref.core.service import (
    AccountOptions,
    ServiceOptions,
    listenOn,
    startTracingIfAsked,
    streamService,
)
from netref.core.tls import LOOPBACK_NAMES, DevCertificateAuthority, serverOptionsFromPEM
from netref.ftp.client import DEFAULT_PORT
from netref.ftp.server import (
    DATA_TIMEOUT,
    IDLE_TIMEOUT,
    MAX_CONNECTIONS,
    FTPServerFactory,
    makeServerFactory,
)
from netref.ftp.wire import FTP_DATA_PORT

#: The ALPN protocol id of FTP (IANA's registry): offered so that a client
#: that offers ALPN is not refused by the TLS layer.
ALPN_FTP = b"ftp"


def parsePortRange(text: str) -> list[int]:
    """
    Read C{--passive-ports}: C{FIRST-LAST} or a single port.

    @raise usage.UsageError: if it is not that, or out of 1024-65535.
    """
    first, dash, last = text.partition("-")
    try:
        low, high = int(first), int(last if dash else first)
    except ValueError:
        raise usage.UsageError(f"--passive-ports is FIRST-LAST: {text!r}") from None
    if not 1024 <= low <= high <= 65535:
        raise usage.UsageError(f"--passive-ports must lie within 1024-65535: {text!r}")
    return list(range(low, high + 1))


class Options(ServiceOptions, AccountOptions):
    """
    Options of C{twistd netref-ftp}.
    """

    synopsis = (
        "--root DIR [--user NAME:PASSWORD ...] [--users FILE] [--anonymous] "
        "[--listen DESCRIPTION ...] [--passive-ports FIRST-LAST] [--passive-address ADDR] "
        "[--data-port N] [--tls auto] [--trace] [--state DIR]"
    )
    longdesc = (
        "An FTP server (RFC 959, 2428, 3659, 4217) for the files under --root: a control "
        "connection per session, a data connection per transfer, active (PORT/EPRT) or "
        f"passive (PASV/EPSV). Listens on port {DEFAULT_PORT} of 127.0.0.1 unless --listen "
        "is given; the well-known port is 21 (data port 20)."
    )

    optFlags = [
        ["anonymous", None, "Let anonymous users (RFC 1635) read the anonymous root."],
        [
            "plaintext-login",
            None,
            "Accept account passwords before AUTH TLS even when TLS is available.",
        ],
    ]
    optParameters: list[list[Any]] = [
        ["root", None, None, "The directory users with accounts see (and may change)."],
        ["anonymous-root", None, None, "The directory anonymous users see (default: --root)."],
        ["passive-ports", None, None, "Ports for passive data connections, FIRST-LAST."],
        ["passive-address", None, None, "The address 227 replies name (a server behind NAT)."],
        [
            "data-port",
            None,
            None,
            "The local port of active data connections (default: 20 as root, else any).",
            int,
        ],
        ["certificate", None, None, "PEM certificate (chain) for AUTH TLS."],
        ["private-key", None, None, "PEM private key for AUTH TLS."],
        ["idle-timeout", None, IDLE_TIMEOUT, "Seconds a silent control connection lives.", float],
        ["data-timeout", None, DATA_TIMEOUT, "Seconds to wait for a data connection.", float],
        ["max-connections", None, MAX_CONNECTIONS, "Sessions served at once.", int],
    ]

    defaultListen = (f"tcp:{DEFAULT_PORT}:interface=127.0.0.1",)

    def __init__(self) -> None:
        ServiceOptions.__init__(self)
        self["user"] = []
        self.passivePorts: list[int] = []
        self.tlsOptions: IOpenSSLServerConnectionCreator | None = None

    def postOptions(self) -> None:
        super().postOptions()
        if self["root"] is None:
            raise usage.UsageError("--root DIR is required")
        for key in ("root", "anonymous-root"):
            if self[key] is not None and not os.path.isdir(self[key]):
                raise usage.UsageError(f"--{key}: not a directory: {self[key]}")
        if not self.hasAccounts() and not self["anonymous"]:
            raise usage.UsageError("give --user, --users or --anonymous: nobody could log in")
        if self["passive-ports"] is not None:
            self.passivePorts = parsePortRange(self["passive-ports"])
        if self["data-port"] is None:
            self["data-port"] = FTP_DATA_PORT if os.geteuid() == 0 else 0
        if not 0 <= self["data-port"] <= 65535:
            raise usage.UsageError("--data-port out of range")
        if self["idle-timeout"] <= 0 or self["data-timeout"] <= 0:
            raise usage.UsageError("timeouts must be positive")
        self.tlsOptions = self._tlsOptions()

    def _tlsOptions(self) -> IOpenSSLServerConnectionCreator | None:
        certificate, key = self["certificate"], self["private-key"]
        if (certificate is None) != (key is None):
            raise usage.UsageError("give --certificate and --private-key together")
        try:
            if certificate is not None:
                return serverOptionsFromPEM(certificate, key, acceptableProtocols=[ALPN_FTP])
            if self["tls"] is not None:
                if self["tls"].lower() != "auto":
                    raise usage.UsageError("--tls takes only 'auto'")
                state = self.stateDirectory()
                if state is None:
                    raise usage.UsageError("--tls auto keeps its certificates in --state DIR")
                names = list(LOOPBACK_NAMES)
                if self["passive-address"]:
                    names.append(self["passive-address"])
                return DevCertificateAuthority.forStateDirectory(state).serverOptions(
                    names, acceptableProtocols=[ALPN_FTP]
                )
        except ValueError as e:
            raise usage.UsageError(str(e)) from None
        return None


def factoryFromOptions(options: Options) -> FTPServerFactory:
    """
    @return: the server factory the options describe.
    """
    return makeServerFactory(
        options["root"],
        options.accountsChecker(),
        anonymous=options["anonymous"],
        anonymousRoot=options["anonymous-root"],
        tlsOptions=options.tlsOptions,
        passivePorts=options.passivePorts,
        passiveAddress=options["passive-address"],
        dataPort=options["data-port"],
        plaintextLogin=options["plaintext-login"] or options.tlsOptions is None,
        idleTimeout=options["idle-timeout"],
        dataTimeout=options["data-timeout"],
        maxConnections=options["max-connections"],
    )


def makeService(options: Options) -> MultiService:
    """
    @return: one listening service per C{--listen} description.
    """
    top = listenOn(options.listenDescriptions(), factoryFromOptions(options))
    startTracingIfAsked(options)
    return top


#: The lab's FTP account (the textbook's interactive access with
#: authorization), and the files its root starts with.
LAB_USER = ("alice", "wonderland")
LAB_README = (
    "Welcome to ftp.someschool.edu, netref's lab FTP server.\n\n"
    "Log in as alice (password wonderland) to read and write everything here,\n"
    "or as anonymous to read pub/.  Try active and passive mode, TYPE A and I,\n"
    "and watch the control and data connections with --trace.\n"
)


class _LabRootService(Service):
    """
    Removes the lab's temporary FTP root when the lab stops.
    """

    def __init__(self, root: str) -> None:
        self.root = root

    def stopService(self) -> None:
        super().stopService()
        shutil.rmtree(self.root, ignore_errors=True)


def makeLabRoot(directory: str | None = None) -> str:
    """
    Make the lab server's files: a README, a text file (for TYPE A) and a
    binary sample, and C{pub/} for anonymous users with their own README.

    @param directory: where; a fresh temporary directory by default.
    @return: the root directory.
    """
    root = directory or tempfile.mkdtemp(prefix="netref-lab-ftp-")
    os.makedirs(os.path.join(root, "pub"), exist_ok=True)
    os.makedirs(os.path.join(root, "incoming"), exist_ok=True)
    with open(os.path.join(root, "README"), "w") as f:
        f.write(LAB_README)
    with open(os.path.join(root, "pub", "README"), "w") as f:
        f.write("Anonymous area of ftp.someschool.edu: read-only.\n")
    with open(os.path.join(root, "pub", "lines.txt"), "w") as f:
        f.writelines(
            f"line {n}: text files change their line ends in TYPE A\n" for n in range(100)
        )
    with open(os.path.join(root, "pub", "sample.bin"), "wb") as f:
        f.write(bytes(range(256)) * 4096)
    return root


def makeLabFTPServices(host: str, port: int, root: str | None = None) -> list[IService]:
    """
    The FTP server of the lab's ftp.someschool.edu (or any program that
    composes services): user C{alice} (password C{wonderland}) owns the
    root, anonymous users read C{pub/}.  The root is a fresh temporary
    directory, made now and removed when the service stops, so every lab
    run starts from the same files; plaintext passwords are accepted, as
    the lab runs on loopback.

    @param host: the IPv4 or IPv6 address to listen on.
    @param port: the control port (21 when the lab runs as root: then active
        data connections come from port 20).
    @param root: use this directory instead (kept when the service stops).
    @return: the services, not yet started nor given a parent.
    """
    madeHere = root is None
    root = makeLabRoot(root)
    checker = MemoryPasswordChecker([LAB_USER])
    factory = makeServerFactory(
        root,
        checker,
        anonymous=True,
        anonymousRoot=os.path.join(root, "pub"),
        dataPort=FTP_DATA_PORT if port == 21 else 0,
        greeting="ftp.someschool.edu netref FTP server ready",
    )
    escaped = host.replace(":", "\\:")
    services: list[IService] = [streamService(f"tcp:{port}:interface={escaped}", factory)]
    if madeHere:
        services.append(_LabRootService(root))
    return services
