"""
FTP (textbook section 2.3 of the notes; RFC 959, 2428, 3659, 4217): the
control connection's commands and replies, the data connections in active
and passive mode, a server and a client.
"""
