"""
Tests for L{netref.mail.mime}: composing and parsing messages, with
attachments and non-ASCII headers (RFC 2047), on the C{email} package.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.trial.unittest import SynchronousTestCase

from netref.mail.mime import asBytes, composeMessage, parseMessage
from netref.smtp.wire import DataReader, dotStuff


class ComposeTests(SynchronousTestCase):
    """
    L{composeMessage} and L{asBytes}.
    """

    def setUp(self) -> None:
        self.directory = self.mktemp()
        os.makedirs(self.directory)

    def attachment(self, name: str, data: bytes) -> str:
        path = os.path.join(self.directory, name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def compose(self, **kwargs: object) -> bytes:
        message = composeMessage(
            "Élodie Martin <elodie@crepes.fr>",
            ["李四 <lisi@hamburger.edu>", "bob@hamburger.edu"],
            "Réunion demain — 明天开会",
            "Bonjour Li,\n\n明天见！\n.\n",
            date=datetime(2026, 11, 22, 1, 2, 3, tzinfo=UTC),
            messageId="<1@crepes.fr>",
            **kwargs,  # type: ignore[arg-type]
        )
        return asBytes(message)

    def test_sevenBitCRLF(self) -> None:
        """
        The message is ASCII (RFC 2047 headers, base64 or quoted-printable
        bodies) with CRLF line endings and no bare CR or LF.
        """
        data = self.compose()
        data.decode("ascii")
        self.assertEqual(data.count(b"\n"), data.count(b"\r\n"))
        self.assertEqual(data.count(b"\r"), data.count(b"\r\n"))
        self.assertTrue(all(len(line) <= 998 for line in data.split(b"\r\n")))

    def test_encodedWords(self) -> None:
        data = self.compose()
        self.assertIn(b"From: =?utf-8?q?=C3=89lodie?= Martin <elodie@crepes.fr>\r\n", data)
        self.assertIn(b"=?utf-8?", data.split(b"\r\nSubject: ")[1].split(b"\r\n")[0])
        self.assertIn(b"Date: Sun, 22 Nov 2026 01:02:03 +0000\r\n", data)
        self.assertIn(b"Message-ID: <1@crepes.fr>\r\n", data)

    def test_roundTrip(self) -> None:
        parsed = parseMessage(self.compose(cc=["Zoë <zoe@crepes.fr>"]))
        self.assertEqual(parsed["From"], "Élodie Martin <elodie@crepes.fr>")
        self.assertEqual(parsed["To"], "李四 <lisi@hamburger.edu>, bob@hamburger.edu")
        self.assertEqual(parsed["Cc"], "Zoë <zoe@crepes.fr>")
        self.assertEqual(parsed["Subject"], "Réunion demain — 明天开会")
        self.assertEqual(parsed["From"].addresses[0].display_name, "Élodie Martin")
        self.assertEqual(parsed["To"].addresses[0].display_name, "李四")
        self.assertEqual(
            parsed.get_content().replace("\r\n", "\n"), "Bonjour Li,\n\n明天见！\n.\n"
        )

    def test_attachments(self) -> None:
        binary = bytes(range(256)) * 10
        paths = [
            self.attachment("报告.txt", "第一行\nligne deux\n".encode()),
            self.attachment("photo.png", binary),
            self.attachment("données.bin", b"\x00\x01"),
            self.attachment("latin1.txt", b"caf\xe9\n"),
        ]
        parsed = parseMessage(self.compose(attachments=paths))
        self.assertEqual(parsed.get_content_type(), "multipart/mixed")
        body = parsed.get_body(("plain",))
        assert body is not None
        self.assertIn("明天见", body.get_content())
        parts = list(parsed.iter_attachments())
        self.assertEqual(
            [(p.get_filename(), p.get_content_type()) for p in parts],
            [
                ("报告.txt", "text/plain"),
                ("photo.png", "image/png"),
                ("données.bin", "application/octet-stream"),
                ("latin1.txt", "application/octet-stream"),
            ],
        )
        self.assertEqual(parts[0].get_content().replace("\r\n", "\n"), "第一行\nligne deux\n")
        self.assertEqual(parts[1].get_content(), binary)
        self.assertEqual(parts[3].get_content(), b"caf\xe9\n")

    def test_throughSMTPFraming(self) -> None:
        """
        A composed message survives dot-stuffing and the server's reader
        unchanged (its body has a line with a lone dot).
        """
        data = asBytes(
            composeMessage("a@x.org", ["b@y.org"], "dots", ".\n..\n", messageId="<2@x.org>")
        )
        reader = DataReader(10**6)
        finished, rest = reader.feed(dotStuff(data))
        self.assertEqual((finished, rest, reader.problem), (True, b"", None))
        self.assertEqual(reader.message, data)

    def test_missingAttachment(self) -> None:
        self.assertRaises(OSError, self.compose, attachments=["/nonexistent/file"])


class ParseTests(SynchronousTestCase):
    """
    L{parseMessage} reads anything.
    """

    def test_foreignEncodedWords(self) -> None:
        """
        RFC 2047's own examples decode.
        """
        parsed = parseMessage(
            b"From: =?US-ASCII?Q?Keith_Moore?= <moore@cs.utk.edu>\r\n"
            b"To: =?ISO-8859-1?Q?Keld_J=F8rn_Simonsen?= <keld@dkuug.dk>\r\n"
            b"Subject: =?ISO-8859-1?B?SWYgeW91IGNhbiByZWFkIHRoaXMgeW8=?=\r\n"
            b" =?ISO-8859-2?B?dSB1bmRlcnN0YW5kIHRoZSBleGFtcGxlLg==?=\r\n\r\nbody\r\n"
        )
        self.assertEqual(parsed["From"], "Keith Moore <moore@cs.utk.edu>")
        self.assertEqual(parsed["To"], "Keld Jørn Simonsen <keld@dkuug.dk>")
        self.assertEqual(parsed["Subject"], "If you can read this you understand the example.")

    def test_malformed(self) -> None:
        parsed = parseMessage(b"\xff\xfe garbage: \x00\n\n=?x")
        self.assertTrue(parsed.defects)

    @settings(max_examples=200)
    @given(st.binary(max_size=400))
    def test_neverRaises(self, data: bytes) -> None:
        parsed = parseMessage(data)
        for name in parsed.keys():
            parsed.get_all(name)
