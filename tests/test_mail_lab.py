"""
The textbook's mail story (section 2.3) in the lab, end to end:

  1. Alice's user agent (C{netref mail send}) submits her message to her
     mail server, mail.crepes.fr, with STARTTLS and AUTH;
  2. mail.crepes.fr queues it, finds hamburger.edu's mail exchanger by an
     iterative lookup from the lab's root DNS server (root, then edu, then
     dns.hamburger.edu), and relays it to mail.hamburger.edu over SMTP;
  3. Bob's Maildir on mail.hamburger.edu holds the message.

The lab here is built from the DNS hosts of L{netref.lab.hosts.HOSTS} and
the two mail hosts, every kind on a free port of its own, so the test does
not collide with a lab running on the default ports.
"""

from __future__ import annotations

import dataclasses
import email
import io
import os
import sys
from typing import Any

from twisted.internet import reactor, task
from twisted.trial.unittest import TestCase

from netref.core.auth import parseUserSpec
from netref.lab.hosts import HOSTS, LabHost
from netref.lab.kinds import KINDS, ServiceKind
from netref.lab.lab import Lab, LabService
from netref.mail import agent
from netref.mail.tap import makeLabMailServices
from tests.support import freePort

CREPES = next(host for host in HOSTS if host.name == "mail.crepes.fr")

#: The shipped lab's users, as its map prints them.
USERS = {"crepes.fr": [("alice", "wonderland")], "hamburger.edu": [("bob", "ketchup")]}


class TextbookMailTests(TestCase):
    timeout = 60

    def setUp(self) -> None:
        self.dnsPort = freePort()
        self.smtpPort = freePort()
        self.submissionPort = freePort()
        self.state = os.path.abspath(self.mktemp())

        def buildMail(host: LabHost, port: int, state: str) -> list[Any]:
            domain = host.name.split(".", 1)[1]
            self.assertEqual([parseUserSpec(spec) for spec in host.users], USERS[domain])
            return makeLabMailServices(
                host.address,
                port,
                domain=domain,
                users=USERS[domain],
                dnsRoot=("127.2.1.1", self.dnsPort),
                stateDirectory=os.path.join(self.state, domain),
                submissionPort=self.submissionPort,
            )

        kinds = {
            "dns": dataclasses.replace(KINDS["dns"], defaultPort=self.dnsPort),
            "mail": ServiceKind(
                name="mail",
                summary="mail server: SMTP, submission (section 2.3)",
                transports="tcp",
                defaultPort=self.smtpPort,
                wellKnownPort=25,
                build=buildMail,
                tryCommands=(),
            ),
        }
        # The shipped lab's DNS servers and mail servers, on free ports.
        hosts = [h for h in HOSTS if {"dns", "mail"} & set(h.services)]
        self.assertEqual(
            [h.name for h in hosts if "mail" in h.services],
            ["mail.crepes.fr", "mail.hamburger.edu"],
        )
        self.lab = LabService(Lab(hosts, kinds=kinds, stateDirectory=self.mktemp()), None)
        self.lab.startService()
        self.addCleanup(self.lab.stopService)

    def bobsMessages(self) -> list[bytes]:
        new = os.path.join(self.state, "hamburger.edu", "mail", "bob", "new")
        if not os.path.isdir(new):
            return []
        messages = []
        for name in os.listdir(new):
            with open(os.path.join(new, name), "rb") as f:
                messages.append(f.read())
        return messages

    async def test_aliceToBob(self) -> None:
        password = os.path.join(self.state, "alice-password")
        with open(password, "w") as f:
            f.write("wonderland\n")
        out = io.StringIO()
        self.patch(sys, "stdout", out)
        options = agent.Options()
        options.parseOptions(
            [
                "send",
                "--server", f"{CREPES.address}:{self.submissionPort}",
                "--starttls",
                "--cacert", os.path.join(self.state, "crepes.fr", "tls", "ca.pem"),
                "--user", "alice",
                "--password-file", password,
                "--helo", "crepes.fr",
                "--from", "Alice <alice@crepes.fr>",
                "--to", "Bob <bob@hamburger.edu>",
                "--subject", "Ketchup?",
                "--body", "Do you like ketchup?\nHow about pickles?",
            ]
        )  # fmt: skip
        await agent.run(reactor, options)
        self.assertIn("bob@hamburger.edu: accepted", out.getvalue())
        queue = os.path.join(self.state, "crepes.fr", "queue")
        for _ in range(500):
            # Bob's copy is written before Alice's queue hears the 250.
            if self.bobsMessages() and not os.listdir(queue):
                break
            await task.deferLater(reactor, 0.02, lambda: None)
        [stored] = self.bobsMessages()
        message = email.message_from_bytes(stored)
        self.assertEqual(message["Return-Path"], "<alice@crepes.fr>")
        self.assertEqual(message["Subject"], "Ketchup?")
        self.assertIn("Do you like ketchup?", message.get_payload())
        received = message.get_all("Received")
        # Two hops: Bob's server received it from Alice's, which received it
        # from Alice's agent.
        self.assertEqual(len(received), 2)
        self.assertIn("by mail.hamburger.edu", received[0])
        # Alice's server connects from its own lab address.
        self.assertIn(f"from mail.crepes.fr ([{CREPES.address}])", received[0])
        self.assertIn("mail.crepes.fr", received[1])
        # Alice's queue is empty: delivered, not waiting for a retry.
        self.assertEqual(os.listdir(queue), [])
