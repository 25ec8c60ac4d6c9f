"""
HTTP/1.1 (textbook section 2.2; RFC 9110 semantics, RFC 9112 messages):
messages, a server with a router, static files, cookies and sessions, and a
client with a connection pool.  The package's rooms are listed in its docs
page, C{docs/http.rst}.
"""
