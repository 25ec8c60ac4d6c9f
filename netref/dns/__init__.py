"""
The Domain Name System (textbook section 2.4; RFC 1034 and RFC 1035): the
messages, zone files, an authoritative server, a resolver and a stub client.

The rooms of the package, as in every netref protocol package (DESIGN.md):

  - L{netref.dns.name}: domain names, their text and wire forms, and the
    wire reader and writer that compress names; the package's errors
    (L{DNSError<netref.dns.name.DNSError>}, L{WireError<netref.dns.name.WireError>},
    L{TextError<netref.dns.name.TextError>});
  - L{netref.dns.rdata}: record types and classes, and the data of each
    record type in wire and presentation form (RFC 3597 for the others);
  - L{netref.dns.wire}: whole messages with EDNS, sans-IO: bytes in,
    L{Message<netref.dns.wire.Message>} out, and back, with truncation;
  - L{netref.dns.zonefile}: master files (RFC 1035 section 5);
  - L{netref.dns.server}, L{netref.dns.client}: the Twisted protocols over
    UDP and TCP;
  - L{netref.dns.tap}: C{twistd netref-dns}.

C{name}, C{rdata} and C{wire} import nothing from Twisted and touch no
socket: the property tests and fuzzers drive them directly.
"""
