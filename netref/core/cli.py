"""
The C{netref} command: one subcommand per client tool.

Each client tool lives with its protocol (C{netref upper} in
L{netref.sockets.client}, later C{netref get}, C{netref dig}, ...) and is
listed in L{TOOLS}.  A tool module provides:

  - C{Options}, a C{usage.Options} subclass for its arguments, and
  - C{run(reactor, options)}, returning a Deferred (or None) that fires when
    the tool is done, or failing with L{ToolError} for a one-line reason.

C{netref} exits 0 on success and 1 with C{netref TOOL: reason} on standard
error on failure, so scripts can drive it.
"""

from __future__ import annotations

import getopt
import importlib
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import Any

from twisted.internet import defer, task
from twisted.python import usage
from twisted.python.failure import Failure

#: (subcommand, module, one-line help) for every client tool.
TOOLS: Sequence[tuple[str, str, str]] = (
    (
        "upper",
        "netref.sockets.client",
        "The textbook's uppercase client (section 2.7), TCP or UDP.",
    ),
    (
        "dig",
        "netref.dns.client",
        "Ask a DNS server one question and print the answer, as dig does.",
    ),
    (
        "mail",
        "netref.mail.agent",
        "Compose and send mail (netref mail send), as a user agent does.",
    ),
    (
        "ftp",
        "netref.ftp.client",
        "List, get and put files over FTP, active or passive, with TLS (RFC 959, 4217).",
    ),
    (
        "dhcp",
        "netref.dhcp.client",
        "Get a DHCP lease on an interface (or through a relay agent) and print it.",
    ),
    (
        "get",
        "netref.http.get",
        "Fetch URLs over HTTP/1.1 and print the response, as curl does.",
    ),
)


class ToolError(Exception):
    """
    A client tool failed for a reason worth one line to the user (connection
    refused, no answer, bad reply); C{netref} prints it and exits 1.
    """


class InterspersedOptions(usage.Options):
    """
    Options that may come after the arguments as well as before them, as
    curl's do (C{netref get URL -o FILE}).  Twisted's parser stops at the
    first argument, as POSIX C{getopt} does; this one reads the command
    line in GNU order, options first, then hands it on.
    """

    def parseOptions(self, options: Sequence[str] | None = None) -> None:
        if options is None:
            options = sys.argv[1:]
        try:
            found, arguments = getopt.gnu_getopt(list(options), self.shortOpt, self.longOpt)
        except getopt.error as e:
            raise usage.UsageError(str(e)) from None
        ordered: list[str] = []
        for option, value in found:
            if option.startswith("--"):
                takesValue = option[2:] + "=" in self.longOpt
                ordered.append(f"{option}={value}" if takesValue else option)
            else:
                letter = self.shortOpt.find(option[1])
                takesValue = self.shortOpt[letter + 1 : letter + 2] == ":"
                ordered += [option, value] if takesValue else [option]
        super().parseOptions([*ordered, "--", *arguments])


def _toolModule(name: str) -> ModuleType:
    for toolName, moduleName, _ in TOOLS:
        if toolName == name:
            return importlib.import_module(moduleName)
    raise KeyError(name)


class CommandOptions(usage.Options):
    """
    Options of a command made of subcommands (C{netref}, C{netref mail}).

    A subcommand's usage line starts with the names of the commands above
    it, as typed (C{netref mail send ...}), not with their own synopses, which
    Twisted would repeat (C{netref TOOL [options] mail send [options] send
    ...}).
    """

    def getSynopsis(self) -> str:
        if self.subCommand is None:
            return super().getSynopsis()
        if self.parent is None:
            return "netref"
        return f"{self.parent.getSynopsis()} {self.parent.subCommand}"


class Options(CommandOptions):
    """
    The top-level options of C{netref}.
    """

    synopsis = "netref TOOL [options]"
    longdesc = "Client tools of netref, the reference implementation of the application layer."

    def __init__(self) -> None:
        super().__init__()
        self.subCommands = [
            (name, None, _toolModule(name).Options, helpText) for name, _, helpText in TOOLS
        ]

    def opt_version(self) -> None:
        """
        Print the version and exit.
        """
        from netref import __version__

        print(f"netref {__version__}")
        sys.exit(0)

    def postOptions(self) -> None:
        if self.subCommand is None:
            raise usage.UsageError("a tool is required: " + ", ".join(n for n, _, _ in TOOLS))


def main(argv: Sequence[str] | None = None) -> None:
    """
    Run C{netref} with C{argv} (default: C{sys.argv[1:]}) and exit.
    """
    options = Options()
    try:
        options.parseOptions(list(sys.argv[1:] if argv is None else argv))
    except usage.UsageError as e:
        # The usage of the (sub)command that was being parsed.
        innermost: usage.Options = options
        while getattr(innermost, "subOptions", None) is not None:
            innermost = innermost.subOptions
        print(f"{innermost}\nnetref: {e}", file=sys.stderr)
        sys.exit(2)
    name = options.subCommand
    assert name is not None
    module = _toolModule(name)

    async def runTool(reactor: Any) -> None:
        try:
            await defer.maybeDeferred(module.run, reactor, options.subOptions)
        except ToolError as e:
            print(f"netref {name}: {e}", file=sys.stderr)
            raise SystemExit(1) from None

    def start(reactor: Any) -> defer.Deferred[None]:
        d = defer.ensureDeferred(runTool(reactor))

        def unexpected(failure: Failure) -> Failure:
            if failure.check(SystemExit):
                return failure
            # Anything else (refused connection, timeout, ...) is still a
            # one-line reason, never a traceback.
            print(f"netref {name}: {failure.getErrorMessage()}", file=sys.stderr)
            return Failure(SystemExit(1))

        return d.addErrback(unexpected)

    task.react(start)
