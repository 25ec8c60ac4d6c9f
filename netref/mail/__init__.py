"""
Electronic mail's store (textbook section 2.3): users, domains and aliases,
a Maildir message store, MIME helpers, and the C{twistd netref-mail}
service that puts SMTP (L{netref.smtp}) in front of them.
"""
