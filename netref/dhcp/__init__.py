"""
DHCP (RFC 2131, RFC 2132, RFC 3046): packets and options, a server with its
lease store, a client, and a relay agent.
"""
