The sans-IO DNS codec ``netref.dns.wire``: RFC 1035 messages with name compression and safe decompression, EDNS0, the textbook's record types and unknown types carried opaquely (RFC 3597).
