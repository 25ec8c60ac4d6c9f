"""
SMTP (textbook section 2.3.1; RFC 5321): the dialogue, a server, the
outgoing queue with its retries, and a client.
"""
