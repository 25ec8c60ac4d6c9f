"""Plumbing shared by every netref protocol: TLS, auth, transcripts, link emulation, CLI."""
