"""
Tests for L{netref.ftp.wire}: command and reply syntax, the session's
state machine, paths, TYPE A conversion and host-port arguments.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from twisted.trial import unittest

from netref.ftp import wire
from netref.ftp.wire import (
    Abort,
    AddressError,
    ASCIIDecoder,
    ASCIIEncoder,
    Command,
    CommandSyntaxError,
    EnterActive,
    EnterPassive,
    FileCommand,
    LineBuffer,
    LineTooLongError,
    LogIn,
    LoginState,
    Quit,
    Reply,
    ReplyCode,
    ReplyParser,
    ReplySyntaxError,
    Session,
    StartTLS,
    Transfer,
)


class LineBufferTests(unittest.TestCase):
    """
    L{LineBuffer} splits the control stream into lines.
    """

    def test_crlfAndBareLF(self) -> None:
        """
        Lines end in CRLF (RFC 959 4.1.3), or a bare LF; pieces are joined.
        """
        lines = LineBuffer()
        self.assertEqual(lines.feed(b"USER a"), [])
        self.assertEqual(lines.feed(b"nn\r\nPASS x\nNO"), [b"USER ann", b"PASS x"])
        self.assertEqual(lines.feed(b"OP\r\n"), [b"NOOP"])

    def test_telnetStripped(self) -> None:
        """
        IAC IP IAC DM before ABOR (RFC 959 4.1.3) is removed; IAC IAC is a
        literal 0xFF; option negotiation takes three bytes.
        """
        lines = LineBuffer()
        self.assertEqual(lines.feed(b"\xff\xf4\xff\xf2ABOR\r\n"), [b"ABOR"])
        self.assertEqual(lines.feed(b"RETR a\xff\xffb\r\n"), [b"RETR a\xffb"])
        self.assertEqual(lines.feed(b"\xff\xfb\x01NOOP\r\n"), [b"NOOP"])

    def test_tooLong(self) -> None:
        """
        A line over the limit, finished or not, is an error.
        """
        lines = LineBuffer(maxLine=10)
        self.assertRaises(LineTooLongError, lines.feed, b"A" * 11)
        self.assertRaises(LineTooLongError, lines.feed, b"A" * 10 + b"\r\n")
        self.assertEqual(lines.feed(b"NOOP\r\n"), [b"NOOP"])

    def test_clear(self) -> None:
        """
        L{LineBuffer.clear} returns and forgets the unfinished rest.
        """
        lines = LineBuffer()
        lines.feed(b"NOOP\r\nUSER x")
        self.assertEqual(lines.clear(), b"USER x")
        self.assertEqual(lines.feed(b"\r\n"), [b""])


class CommandTests(unittest.TestCase):
    """
    L{parseCommand} and L{Command.toLine}.
    """

    def test_parse(self) -> None:
        """
        The verb is upper-cased; the argument is everything after the space.
        """
        self.assertEqual(wire.parseCommand(b"retr a b.txt"), Command("RETR", "a b.txt"))
        self.assertEqual(wire.parseCommand(b"PWD"), Command("PWD", None))
        self.assertEqual(wire.parseCommand(b"CWD "), Command("CWD", ""))

    def test_utf8Paths(self) -> None:
        """
        RFC 2640: paths are UTF-8; other bytes survive through
        surrogateescape.
        """
        self.assertEqual(wire.parseCommand("RETR é".encode()).argument, "é")
        command = wire.parseCommand(b"RETR \xe9")
        self.assertEqual(command.toLine(), b"RETR \xe9\r\n")

    def test_syntaxErrors(self) -> None:
        """
        Not a verb of 3 or 4 letters, or CR/LF/NUL inside the line: 500.
        """
        for line in [b"", b"AB", b"ABCDE x", b"12 x", b"RE-R x", b"RETR a\rDELE b", b"RETR a\0b"]:
            self.assertRaises(CommandSyntaxError, wire.parseCommand, line)

    def test_injectionRefusedOnSend(self) -> None:
        """
        A client never sends an argument with CR or LF in it.
        """
        self.assertRaises(CommandSyntaxError, Command("RETR", "a\r\nDELE b").toLine)

    @given(st.binary(max_size=60))
    def test_fuzz(self, line: bytes) -> None:
        """
        Any bytes parse or raise L{CommandSyntaxError}; what parses
        round-trips.
        """
        try:
            command = wire.parseCommand(line)
        except CommandSyntaxError:
            return
        self.assertEqual(wire.parseCommand(command.toLine()[:-2]), command)


class ReplyTests(unittest.TestCase):
    """
    L{Reply.encode} and L{ReplyParser} (RFC 959 section 4.2).
    """

    def test_singleLine(self) -> None:
        self.assertEqual(Reply.of(226, "Done").encode(), b"226 Done\r\n")

    def test_multiLine(self) -> None:
        """
        The first line has a hyphen, the last the code and a space; lines
        between that start with a digit are indented.
        """
        reply = Reply.of(211, "Status", "226 looks like a code", "End")
        self.assertEqual(reply.encode(), b"211-Status\r\n 226 looks like a code\r\n211 End\r\n")
        self.assertEqual(ReplyParser().feed(reply.encode())[0].code, 211)

    def test_newlinesInText(self) -> None:
        """
        A CR or LF from a file name cannot add a line to a reply.
        """
        self.assertEqual(Reply.of(550, "a\r\n226 b").encode(), b"550 a  226 b\r\n")

    def test_parserPieces(self) -> None:
        """
        Replies may come in pieces or several at once.
        """
        parser = ReplyParser()
        self.assertEqual(parser.feed(b"150 Op"), [])
        replies = parser.feed(b"ening\r\n211-A\r\n B\r\n211-C\r\n211 End\r\n226 Done\r\n")
        self.assertEqual(
            replies,
            [
                Reply(150, ("Opening",)),
                Reply(211, ("A", " B", "211-C", "End")),
                Reply(226, ("Done",)),
            ],
        )
        self.assertTrue(replies[0].isPreliminary)
        self.assertFalse(replies[2].isPreliminary)

    def test_parserRefusesGarbage(self) -> None:
        self.assertRaises(ReplySyntaxError, ReplyParser().feed, b"hello\r\n")
        self.assertRaises(ReplySyntaxError, ReplyParser().feed, b"22x ok\r\n")

    @given(st.integers(100, 599), st.lists(st.text(max_size=20), min_size=1, max_size=5))
    def test_roundTrip(self, code: int, lines: list[str]) -> None:
        """
        What L{Reply.encode} writes, L{ReplyParser} reads back as one reply
        with the same code and line count.
        """
        reply = Reply(code, tuple(lines))
        parsed = ReplyParser().feed(reply.encode())
        self.assertEqual(len(parsed), 1)
        self.assertEqual(parsed[0].code, code)
        self.assertEqual(len(parsed[0].lines), len(lines))


class AddressTests(unittest.TestCase):
    """
    Host-port arguments of PORT, PASV (RFC 959 4.1.2), EPRT and EPSV (RFC
    2428).
    """

    def test_port(self) -> None:
        self.assertEqual(wire.parsePortArgument("127,0,0,1,4,1"), ("127.0.0.1", 1025))
        self.assertEqual(wire.formatPortArgument("10.1.2.3", 1025), "10,1,2,3,4,1")
        for bad in ["1,2,3,4,5", "1,2,3,4,5,256", "a,b,c,d,e,f", ""]:
            self.assertRaises(AddressError, wire.parsePortArgument, bad)

    def test_passiveReply(self) -> None:
        """
        RFC 1123 4.1.2.6: scan the text for the numbers.
        """
        self.assertEqual(
            wire.parsePassiveReply("Entering Passive Mode (10,0,0,7,117,48)."),
            ("10.0.0.7", 30000),
        )
        self.assertRaises(AddressError, wire.parsePassiveReply, "Entering Passive Mode")

    def test_eprt(self) -> None:
        self.assertEqual(wire.parseExtendedPort("|1|132.235.1.2|6275|"), (1, "132.235.1.2", 6275))
        self.assertEqual(wire.parseExtendedPort("!2!::1!6275!"), (2, "::1", 6275))
        self.assertEqual(wire.formatExtendedPort("::1", 80), "|2|::1|80|")
        for bad in ["|1|::1|6275|", "|2|1.2.3.4|1|", "|3|1.2.3.4|1|", "|1|1.2.3.4|0|", "1.2.3.4"]:
            self.assertRaises(AddressError, wire.parseExtendedPort, bad)

    def test_epsvReply(self) -> None:
        self.assertEqual(
            wire.parseExtendedPassiveReply("Entering Extended Passive Mode (|||6446|)"), 6446
        )
        self.assertRaises(AddressError, wire.parseExtendedPassiveReply, "(|||x|)")


class PathTests(unittest.TestCase):
    """
    L{resolvePath}: no escape from the root.
    """

    def test_relativeAndAbsolute(self) -> None:
        self.assertEqual(wire.resolvePath("/pub", "a.txt"), "/pub/a.txt")
        self.assertEqual(wire.resolvePath("/pub", "/etc/x"), "/etc/x")
        self.assertEqual(wire.resolvePath("/pub", "./a/./b//c/"), "/pub/a/b/c")

    def test_dotDotStopsAtRoot(self) -> None:
        self.assertEqual(wire.resolvePath("/pub", "../../../etc/passwd"), "/etc/passwd")
        self.assertEqual(wire.resolvePath("/", ".."), "/")
        self.assertEqual(wire.resolvePath("/a/b", ".."), "/a")

    def test_nul(self) -> None:
        self.assertRaises(wire.PathError, wire.resolvePath, "/", "a\0b")

    @given(st.text(alphabet="ab./", max_size=30), st.text(alphabet="ab./", max_size=30))
    def test_alwaysUnderRoot(self, cwd: str, argument: str) -> None:
        """
        Whatever the input, the result is absolute, normalized, and has no
        C{..} or C{.} part.
        """
        base = wire.resolvePath("/", cwd)
        path = wire.resolvePath(base, argument)
        self.assertTrue(path.startswith("/"))
        parts = path.split("/")[1:]
        self.assertNotIn("..", parts)
        self.assertNotIn(".", parts)
        if path != "/":
            self.assertNotIn("", parts)

    def test_quotePath(self) -> None:
        """
        RFC 959 appendix II: quotes in names are doubled.
        """
        self.assertEqual(wire.quotePath('/a "b"'), '"/a ""b"""')
        self.assertEqual(wire.unquotePath('"/a ""b""" is current'), '/a "b"')


class ASCIITests(unittest.TestCase):
    """
    TYPE A end-of-line conversion (RFC 959 3.1.1.1).
    """

    def test_encode(self) -> None:
        self.assertEqual(ASCIIEncoder().feed(b"a\nb\r\nc\n"), b"a\r\nb\r\nc\r\n")

    def test_encodeSplitCRLF(self) -> None:
        """
        A CRLF split between chunks is not doubled.
        """
        encoder = ASCIIEncoder()
        self.assertEqual(encoder.feed(b"a\r") + encoder.feed(b"\nb"), b"a\r\nb")

    def test_decode(self) -> None:
        decoder = ASCIIDecoder()
        out = decoder.feed(b"a\r\nb\r") + decoder.feed(b"\nc\rd\r") + decoder.flush()
        self.assertEqual(out, b"a\nb\nc\rd\r")

    @given(st.text(alphabet="ab\n", max_size=50), st.integers(1, 7))
    def test_roundTrip(self, text: str, size: int) -> None:
        """
        A local file without CR is sent with CRLF and comes back the same,
        whatever the chunking.
        """
        data = text.encode("ascii")
        encoder, decoder = ASCIIEncoder(), ASCIIDecoder()
        sent = b"".join(encoder.feed(data[i : i + size]) for i in range(0, len(data), size))
        self.assertEqual(sent, data.replace(b"\n", b"\r\n"))
        back = b"".join(decoder.feed(sent[i : i + size]) for i in range(0, len(sent), size))
        self.assertEqual(back + decoder.flush(), data)


def loggedIn(**kwargs: object) -> Session:
    """
    @return: a session logged in as a writable user.
    """
    session = Session(**kwargs)  # type: ignore[arg-type]
    session.receive(Command("USER", "alice"))
    action = session.receive(Command("PASS", "pw"))
    assert isinstance(action, LogIn)
    session.loggedIn(writable=True)
    return session


class SessionLoginTests(unittest.TestCase):
    """
    Logging in (RFC 959 section 6; RFC 4217 section 4).
    """

    def test_userThenPass(self) -> None:
        session = Session()
        reply = session.receive(Command("USER", "alice"))
        assert isinstance(reply, Reply)
        self.assertEqual(reply.code, ReplyCode.NEED_PASSWORD)
        self.assertEqual(session.receive(Command("PASS", "pw")), LogIn("alice", "pw", False))
        self.assertEqual(session.loggedIn(True).code, ReplyCode.LOGGED_IN)
        self.assertIs(session.state, LoginState.LOGGED_IN)

    def test_passWithoutUser(self) -> None:
        reply = Session().receive(Command("PASS", "pw"))
        assert isinstance(reply, Reply)
        self.assertEqual(reply.code, ReplyCode.BAD_SEQUENCE)

    def test_loginFailed(self) -> None:
        """
        After a failure, USER is needed again.
        """
        session = Session()
        session.receive(Command("USER", "alice"))
        session.receive(Command("PASS", "bad"))
        self.assertEqual(session.loginFailed().code, ReplyCode.NOT_LOGGED_IN)
        reply = session.receive(Command("PASS", "bad"))
        assert isinstance(reply, Reply)
        self.assertEqual(reply.code, ReplyCode.BAD_SEQUENCE)

    def test_anonymous(self) -> None:
        """
        Anonymous (RFC 1635) only when allowed; its password may be empty.
        """
        reply = Session().receive(Command("USER", "anonymous"))
        assert isinstance(reply, Reply)
        self.assertEqual(reply.code, ReplyCode.NOT_LOGGED_IN)
        session = Session(anonymousAllowed=True)
        session.receive(Command("USER", "ftp"))
        self.assertEqual(session.receive(Command("PASS")), LogIn("ftp", "", True))

    def test_acct(self) -> None:
        session = Session()
        self.assertEqual(session.receive(Command("ACCT", "x")).code, ReplyCode.BAD_SEQUENCE)  # type: ignore[union-attr]
        self.assertEqual(loggedIn().receive(Command("ACCT", "x")).code, ReplyCode.NOT_NEEDED)  # type: ignore[union-attr]

    def test_loginRequired(self) -> None:
        """
        Anything touching files before login: 530.
        """
        session = Session()
        for verb in ["CWD", "RETR", "STOR", "LIST", "PASV", "PORT", "MKD", "SIZE", "TYPE", "REST"]:
            reply = session.receive(Command(verb, "x"))
            assert isinstance(reply, Reply)
            self.assertEqual(reply.code, ReplyCode.NOT_LOGGED_IN, verb)

    def test_plaintextRefusedWhenTLSOffered(self) -> None:
        """
        A server that offers TLS refuses a plaintext USER unless allowed.
        """
        session = Session(tlsAvailable=True, plaintextLogin=False)
        reply = session.receive(Command("USER", "alice"))
        assert isinstance(reply, Reply)
        self.assertEqual(reply.code, ReplyCode.NOT_LOGGED_IN)
        self.assertIsInstance(session.receive(Command("AUTH", "TLS")), StartTLS)
        session.tlsStarted()
        reply = session.receive(Command("USER", "alice"))
        assert isinstance(reply, Reply)
        self.assertEqual(reply.code, ReplyCode.NEED_PASSWORD)

    def test_quit(self) -> None:
        self.assertIsInstance(Session().receive(Command("QUIT")), Quit)


class SessionSecurityTests(unittest.TestCase):
    """
    AUTH, PBSZ, PROT (RFC 4217 sections 4, 8, 9; RFC 2228).
    """

    def code(self, session: Session, verb: str, argument: str | None = None) -> int:
        reply = session.receive(Command(verb, argument))
        assert isinstance(reply, Reply), reply
        return reply.code

    def test_authWithoutTLS(self) -> None:
        self.assertEqual(self.code(Session(), "AUTH", "TLS"), ReplyCode.SECURITY_RESOURCE)
        self.assertEqual(
            self.code(Session(tlsAvailable=True), "AUTH", "KERBEROS_V4"),
            ReplyCode.NOT_IMPLEMENTED_FOR_PARAMETER,
        )

    def test_authTwice(self) -> None:
        session = Session(tlsAvailable=True)
        session.tlsStarted()
        self.assertEqual(self.code(session, "AUTH", "TLS"), ReplyCode.BAD_SEQUENCE)

    def test_pbszBeforeProt(self) -> None:
        session = Session(tlsAvailable=True)
        self.assertEqual(self.code(session, "PBSZ", "0"), ReplyCode.BAD_SEQUENCE)
        session.tlsStarted()
        self.assertEqual(self.code(session, "PROT", "P"), ReplyCode.BAD_SEQUENCE)
        self.assertEqual(self.code(session, "PBSZ", "x"), ReplyCode.ARGUMENT_ERROR)
        self.assertEqual(self.code(session, "PBSZ", "0"), ReplyCode.OK)
        self.assertEqual(self.code(session, "PROT", "S"), ReplyCode.PROT_NOT_SUPPORTED)
        self.assertEqual(self.code(session, "PROT", "X"), ReplyCode.NOT_IMPLEMENTED_FOR_PARAMETER)
        self.assertEqual(self.code(session, "PROT", "P"), ReplyCode.OK)
        self.assertTrue(session.protected)
        self.assertEqual(self.code(session, "PROT", "C"), ReplyCode.OK)
        self.assertFalse(session.protected)

    def test_protectedTransfers(self) -> None:
        """
        PROT P marks every transfer as needing a TLS data connection.
        """
        session = Session(tlsAvailable=True)
        session.tlsStarted()
        session.receive(Command("USER", "a"))
        session.receive(Command("PASS", "b"))
        session.loggedIn(True)
        session.receive(Command("PBSZ", "0"))
        session.receive(Command("PROT", "P"))
        action = session.receive(Command("RETR", "f"))
        assert isinstance(action, Transfer)
        self.assertTrue(action.protected)


class SessionCommandTests(unittest.TestCase):
    """
    Every other command's reply or action.
    """

    def code(self, session: Session, verb: str, argument: str | None = None) -> int:
        reply = session.receive(Command(verb, argument))
        assert isinstance(reply, Reply), reply
        return reply.code

    def test_information(self) -> None:
        session = Session()
        self.assertEqual(self.code(session, "SYST"), ReplyCode.SYSTEM_TYPE)
        self.assertEqual(self.code(session, "NOOP"), ReplyCode.OK)
        self.assertEqual(self.code(session, "HELP"), ReplyCode.HELP)
        self.assertEqual(self.code(session, "HELP", "retr"), ReplyCode.HELP)
        self.assertEqual(self.code(session, "HELP", "XYZ"), ReplyCode.ARGUMENT_ERROR)
        self.assertEqual(self.code(session, "OPTS", "UTF8 ON"), ReplyCode.OK)
        self.assertEqual(self.code(session, "OPTS", "FOO"), ReplyCode.ARGUMENT_ERROR)
        feat = session.receive(Command("FEAT"))
        assert isinstance(feat, Reply)
        self.assertEqual(feat.code, ReplyCode.SYSTEM_STATUS)
        self.assertIn(" EPSV", feat.lines)
        self.assertIn(" AUTH TLS", feat.lines)

    def test_unknown(self) -> None:
        self.assertEqual(self.code(Session(), "XYZZ"), ReplyCode.NOT_IMPLEMENTED)
        self.assertEqual(
            self.code(loggedIn(), "SITE", "CHMOD 777 x"), ReplyCode.NOT_IMPLEMENTED_FOR_PARAMETER
        )

    def test_type(self) -> None:
        """
        TYPE A (format N) and I, and L 8 as I; E refused.
        """
        session = loggedIn()
        self.assertEqual(self.code(session, "TYPE", "I"), ReplyCode.OK)
        self.assertTrue(session.binary)
        self.assertEqual(self.code(session, "TYPE", "A N"), ReplyCode.OK)
        self.assertFalse(session.binary)
        self.assertEqual(self.code(session, "TYPE", "L 8"), ReplyCode.OK)
        self.assertTrue(session.binary)
        self.assertEqual(self.code(session, "TYPE", "E"), ReplyCode.NOT_IMPLEMENTED_FOR_PARAMETER)
        self.assertEqual(self.code(session, "TYPE", "Z"), ReplyCode.ARGUMENT_ERROR)

    def test_modeStruAllo(self) -> None:
        session = loggedIn()
        self.assertEqual(self.code(session, "MODE", "S"), ReplyCode.OK)
        self.assertEqual(self.code(session, "MODE", "B"), ReplyCode.NOT_IMPLEMENTED_FOR_PARAMETER)
        self.assertEqual(self.code(session, "MODE", "Q"), ReplyCode.ARGUMENT_ERROR)
        self.assertEqual(self.code(session, "STRU", "F"), ReplyCode.OK)
        self.assertEqual(self.code(session, "STRU", "R"), ReplyCode.NOT_IMPLEMENTED_FOR_PARAMETER)
        self.assertEqual(self.code(session, "STRU", "Q"), ReplyCode.ARGUMENT_ERROR)
        self.assertEqual(self.code(session, "ALLO", "100"), ReplyCode.NOT_NEEDED)

    def test_restBeforeTransfer(self) -> None:
        """
        REST holds for the next command only (RFC 3659 5.3), in TYPE I.
        """
        session = loggedIn()
        self.assertEqual(
            self.code(session, "REST", "100"), ReplyCode.NOT_IMPLEMENTED_FOR_PARAMETER
        )
        session.receive(Command("TYPE", "I"))
        self.assertEqual(self.code(session, "REST", "x"), ReplyCode.ARGUMENT_ERROR)
        self.assertEqual(self.code(session, "REST", "100"), ReplyCode.PENDING_INFORMATION)
        action = session.receive(Command("RETR", "f"))
        assert isinstance(action, Transfer)
        self.assertEqual(action.offset, 100)
        self.assertTrue(action.binary)
        action = session.receive(Command("RETR", "f"))
        assert isinstance(action, Transfer)
        self.assertEqual(action.offset, 0)
        session.receive(Command("REST", "5"))
        session.receive(Command("NOOP"))
        action = session.receive(Command("STOR", "f"))
        assert isinstance(action, Transfer)
        self.assertEqual(action.offset, 0)

    def test_rnfrBeforeRnto(self) -> None:
        """
        RNTO must immediately follow an accepted RNFR (RFC 959 4.1.3).
        """
        session = loggedIn()
        self.assertEqual(self.code(session, "RNTO", "b"), ReplyCode.BAD_SEQUENCE)
        self.assertEqual(session.receive(Command("RNFR", "a")), FileCommand("RNFR", "/a"))
        self.assertEqual(session.renameFromAccepted("/a").code, ReplyCode.PENDING_INFORMATION)
        self.assertEqual(session.receive(Command("RNTO", "b")), FileCommand("RNTO", "/b", "/a"))
        session.renameFromAccepted("/a")
        session.receive(Command("NOOP"))
        self.assertEqual(self.code(session, "RNTO", "b"), ReplyCode.BAD_SEQUENCE)

    def test_directories(self) -> None:
        session = loggedIn()
        self.assertEqual(self.code(session, "PWD"), ReplyCode.PATH_CREATED)
        self.assertEqual(session.receive(Command("CWD", "pub")), FileCommand("CWD", "/pub"))
        session.changedDirectory("/pub")
        self.assertEqual(
            session.receive(Command("XPWD")), Reply.of(257, '"/pub" is the current directory')
        )
        self.assertEqual(session.receive(Command("CDUP")), FileCommand("CWD", "/"))
        self.assertEqual(session.receive(Command("MKD", "x")), FileCommand("MKD", "/pub/x"))
        self.assertEqual(session.receive(Command("XRMD", "x")), FileCommand("RMD", "/pub/x"))
        self.assertEqual(session.receive(Command("DELE", "f")), FileCommand("DELE", "/pub/f"))
        self.assertEqual(session.receive(Command("SIZE", "f")), FileCommand("SIZE", "/pub/f"))
        self.assertEqual(session.receive(Command("MDTM", "f")), FileCommand("MDTM", "/pub/f"))
        self.assertEqual(session.receive(Command("MLST")), FileCommand("MLST", "/pub"))
        self.assertEqual(session.receive(Command("STAT")), FileCommand("STAT", None))
        self.assertEqual(session.receive(Command("STAT", "-l x")), FileCommand("STAT", "/pub/x"))
        self.assertEqual(self.code(session, "CWD"), ReplyCode.ARGUMENT_ERROR)

    def test_readOnly(self) -> None:
        """
        A read-only user (anonymous) may not change anything: 550.
        """
        session = Session(anonymousAllowed=True)
        session.receive(Command("USER", "anonymous"))
        session.receive(Command("PASS", "me@"))
        session.loggedIn(writable=False)
        for verb in ["STOR", "APPE", "STOU", "DELE", "MKD", "RMD", "RNFR"]:
            self.assertEqual(self.code(session, verb, "x"), ReplyCode.FILE_UNAVAILABLE, verb)
        self.assertIsInstance(session.receive(Command("RETR", "x")), Transfer)

    def test_dataConnections(self) -> None:
        session = loggedIn()
        self.assertEqual(session.receive(Command("PASV")), EnterPassive(False))
        self.assertEqual(session.receive(Command("EPSV")), EnterPassive(True))
        self.assertEqual(session.receive(Command("EPSV", "ALL")), EnterPassive(True))
        self.assertEqual(self.code(session, "EPSV", "3"), ReplyCode.NETWORK_PROTOCOL_NOT_SUPPORTED)
        self.assertEqual(
            session.receive(Command("PORT", "127,0,0,1,4,0")),
            EnterActive("127.0.0.1", 1024, False),
        )
        self.assertEqual(
            session.receive(Command("EPRT", "|2|::1|2000|")), EnterActive("::1", 2000, True)
        )
        self.assertEqual(self.code(session, "PORT", "1,2,3"), ReplyCode.ARGUMENT_ERROR)
        self.assertEqual(self.code(session, "EPRT", "|9|x|1|"), ReplyCode.ARGUMENT_ERROR)
        self.assertEqual(session.receive(Command("ABOR")), Abort())

    def test_transfers(self) -> None:
        session = loggedIn()
        self.assertEqual(session.receive(Command("STOR", "u")), Transfer("STOR", "/u"))
        self.assertEqual(session.receive(Command("APPE", "u")), Transfer("APPE", "/u"))
        self.assertEqual(session.receive(Command("STOU")), Transfer("STOU", "/"))
        self.assertEqual(
            session.receive(Command("LIST", "-la /pub")),
            Transfer("LIST", "/pub", listOptions="la"),
        )
        self.assertEqual(session.receive(Command("NLST")), Transfer("NLST", "/"))
        self.assertEqual(session.receive(Command("MLSD", "pub")), Transfer("MLSD", "/pub"))
        self.assertEqual(self.code(session, "RETR"), ReplyCode.ARGUMENT_ERROR)


class SessionFuzzTests(unittest.TestCase):
    """
    Any sequence of commands leaves the session answering, never raising.
    """

    @given(
        st.lists(
            st.tuples(
                st.sampled_from([*wire.KNOWN_VERBS, "XYZZ", "RNTO", "REST"]),
                st.one_of(st.none(), st.text(max_size=20)),
                st.booleans(),
            ),
            max_size=40,
        )
    )
    def test_neverRaises(self, steps: list[tuple[str, str | None, bool]]) -> None:
        session = Session(tlsAvailable=True, anonymousAllowed=True)
        for verb, argument, succeed in steps:
            result = session.receive(Command(verb, argument))
            self.assertIsInstance(result, (Reply, wire.Action))
            if isinstance(result, LogIn):
                if succeed:
                    session.loggedIn(writable=not result.anonymous)
                else:
                    session.loginFailed()
            elif isinstance(result, StartTLS):
                session.tlsStarted()
            self.assertTrue(session.cwd.startswith("/"))
