"""
The textbook's socket programs (section 2.7): the TCP and UDP uppercase
servers and clients.

  - L{netref.sockets.wire}: upper-casing bytes, sans-IO, with its limits;
  - L{netref.sockets.server}: L{UpperTCPFactory<netref.sockets.server.UpperTCPFactory>}
    and L{UpperUDPProtocol<netref.sockets.server.UpperUDPProtocol>};
  - L{netref.sockets.client}: C{upperTCP}, C{upperUDP} and C{netref upper};
  - L{netref.sockets.tap}: C{twistd netref-upper}.
"""
