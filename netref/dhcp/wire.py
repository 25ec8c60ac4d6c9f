"""
The DHCP message, sans-IO: bytes in, a L{Packet} out, and back.

A DHCP message (RFC 2131 section 2, figure 1) is a BOOTP message (RFC 951)
whose C{vend} field became the C{options} field, starting with the magic
cookie 99.130.83.99 (RFC 2131 section 3; RFC 2132 section 2)::

    op htype hlen hops | xid | secs flags | ciaddr | yiaddr | siaddr | giaddr
    chaddr (16) | sname (64) | file (128) | magic cookie (4) | options ...

Options are code, length, value triplets, except PAD (0) and END (255),
which are one octet.  An option may appear several times: its values are
then concatenated (RFC 3396 section 5), which is also how this module
encodes an option longer than 255 octets.  When the options field is full,
the C{file} and C{sname} fields may carry more options, as the overload
option (52) says (RFC 2132 section 9.3); they are read options, then
C{file}, then C{sname} (RFC 2131 section 4.1).

L{decodePacket} checks everything a server or client relies on afterwards
(field sizes, the cookie, every option's length, the formats of the options
this module knows, overload loops) and raises L{WireError} otherwise, so a
L{Packet}'s typed accessors never fail.  L{encodePacket} is its inverse:
C{decodePacket(encodePacket(p)) == p} for every valid packet.

Nothing here knows about sockets or time.
"""

from __future__ import annotations

import enum
import socket
import struct
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace

__all__ = [
    "BOOTREQUEST",
    "BOOTREPLY",
    "BROADCAST_FLAG",
    "CLIENT_PORT",
    "MAGIC_COOKIE",
    "MAX_PARAMETER_REQUESTS",
    "MessageType",
    "Option",
    "Packet",
    "SERVER_PORT",
    "WireError",
    "ZERO",
    "decodePacket",
    "decodeRelayAgentInformation",
    "encodePacket",
    "encodeRelayAgentInformation",
]

#: The well-known ports (RFC 2131 section 4.1): servers and relay agents
#: listen on 67, clients on 68.
SERVER_PORT = 67
CLIENT_PORT = 68

#: C{op} values (RFC 951, RFC 2131 section 2).
BOOTREQUEST = 1
BOOTREPLY = 2

#: The broadcast bit of C{flags} (RFC 2131 section 2, figure 2).
BROADCAST_FLAG = 0x8000

#: The first four octets of the options field (RFC 2131 section 3).
MAGIC_COOKIE = bytes([99, 130, 83, 99])

#: The all-zero address, "no address" in C{ciaddr}, C{yiaddr}, C{giaddr}.
ZERO = "0.0.0.0"

#: Ethernet's hardware type and address length (RFC 1700).
HTYPE_ETHERNET = 1

#: The fixed part of the message, before the cookie (RFC 2131 figure 1).
FIXED_SIZE = 236
_FIXED = struct.Struct("!BBBBIHH4s4s4s4s16s64s128s")

#: The smallest message a BOOTP relay agent or client accepts (RFC 1542
#: section 2.1): replies are padded to it.
MIN_PACKET_SIZE = 300

#: The most octets of a parameter request list this module accepts.  There
#: are only 254 option codes worth asking for; a longer list is hostile.
MAX_PARAMETER_REQUESTS = 255

#: The most octets a decoded packet may have (an Ethernet frame's IP
#: payload less the IP and UDP headers is 1472; allow jumbo-ish relays).
MAX_PACKET_SIZE = 4096


class WireError(ValueError):
    """
    The bytes are not a valid DHCP message.
    """


class MessageType(enum.IntEnum):
    """
    The DHCP message types (RFC 2132 section 9.6).
    """

    DISCOVER = 1
    OFFER = 2
    REQUEST = 3
    DECLINE = 4
    ACK = 5
    NAK = 6
    RELEASE = 7
    INFORM = 8


class Option(enum.IntEnum):
    """
    The option codes this module knows (RFC 2132, RFC 3046).
    """

    PAD = 0
    SUBNET_MASK = 1  # section 3.3
    ROUTER = 3  # section 3.5
    DOMAIN_NAME_SERVER = 6  # section 3.8
    HOST_NAME = 12  # section 3.14
    DOMAIN_NAME = 15  # section 3.17
    BROADCAST_ADDRESS = 28  # section 5.3
    REQUESTED_ADDRESS = 50  # section 9.1
    LEASE_TIME = 51  # section 9.2
    OVERLOAD = 52  # section 9.3
    MESSAGE_TYPE = 53  # section 9.6
    SERVER_IDENTIFIER = 54  # section 9.7
    PARAMETER_REQUEST_LIST = 55  # section 9.8
    MESSAGE = 56  # section 9.9
    MAX_MESSAGE_SIZE = 57  # section 9.10
    RENEWAL_TIME = 58  # section 9.11, T1
    REBINDING_TIME = 59  # section 9.12, T2
    CLIENT_IDENTIFIER = 61  # section 9.14
    RELAY_AGENT_INFORMATION = 82  # RFC 3046
    END = 255


# The formats of the options whose values this module interprets: what is
# wrong with a value, or None.  Keyed by plain ints, looked up once per
# option, since decoding runs for every datagram.


def _oneAddress(value: bytes) -> str | None:
    return None if len(value) == 4 else f"must be 4 octets, not {len(value)}"


def _addressList(value: bytes) -> str | None:
    if value and not len(value) % 4:
        return None
    return f"must be a non-empty list of addresses, not {len(value)} octets"


def _nonEmpty(value: bytes) -> str | None:
    return None if value else "must not be empty"


def _messageType(value: bytes) -> str | None:
    if len(value) == 1 and value[0] in MessageType._value2member_map_:
        return None
    return f"bad message type {value.hex()}"


def _maxMessageSize(value: bytes) -> str | None:
    if len(value) == 2 and struct.unpack("!H", value)[0] >= 576:
        return None
    return "maximum message size must be 2 octets and at least 576"


def _parameterRequestList(value: bytes) -> str | None:
    if not value:
        return "empty parameter request list"
    if len(value) > MAX_PARAMETER_REQUESTS:
        return f"parameter request list of {len(value)} octets"
    return None


def _clientIdentifier(value: bytes) -> str | None:
    return None if len(value) >= 2 else "client identifier must be at least 2 octets"


def _agentInformation(value: bytes) -> str | None:
    decodeRelayAgentInformation(value)
    return None


_FORMATS: dict[int, Callable[[bytes], str | None]] = {
    int(Option.SUBNET_MASK): _oneAddress,
    int(Option.BROADCAST_ADDRESS): _oneAddress,
    int(Option.REQUESTED_ADDRESS): _oneAddress,
    int(Option.SERVER_IDENTIFIER): _oneAddress,
    int(Option.ROUTER): _addressList,
    int(Option.DOMAIN_NAME_SERVER): _addressList,
    int(Option.LEASE_TIME): _oneAddress,  # 32 bits, as an address
    int(Option.RENEWAL_TIME): _oneAddress,
    int(Option.REBINDING_TIME): _oneAddress,
    int(Option.HOST_NAME): _nonEmpty,
    int(Option.DOMAIN_NAME): _nonEmpty,
    int(Option.MESSAGE): _nonEmpty,
    int(Option.MESSAGE_TYPE): _messageType,
    int(Option.MAX_MESSAGE_SIZE): _maxMessageSize,
    int(Option.PARAMETER_REQUEST_LIST): _parameterRequestList,
    int(Option.CLIENT_IDENTIFIER): _clientIdentifier,
    int(Option.RELAY_AGENT_INFORMATION): _agentInformation,
}


def _checkOption(code: int, value: bytes) -> None:
    """
    Check the value of an option whose format RFC 2132 (or RFC 3046) fixes.

    @raise WireError: if it has the wrong length or a value out of range.
    """
    check = _FORMATS.get(code)
    if check is not None:
        problem = check(value)
        if problem is not None:
            raise WireError(f"option {code}: {problem}")


def _address(raw: bytes) -> str:
    # socket's C functions: the codec's hottest path, several times faster
    # than the ipaddress module.
    return socket.inet_ntoa(raw)


def _packAddress(text: str) -> bytes:
    try:
        # inet_pton, unlike inet_aton, takes only the dotted quad.
        return socket.inet_pton(socket.AF_INET, text)
    except (OSError, TypeError) as e:
        raise WireError(f"not an IPv4 address: {text!r}") from e


@dataclass(frozen=True)
class Packet:
    """
    One DHCP message (RFC 2131 section 2).

    Addresses are dotted-quad strings; C{chaddr} holds only the C{hlen}
    octets of the hardware address; C{sname} and C{file} are the fields'
    text without the trailing NULs.  C{options} are C{(code, value)} pairs in
    the order they appeared, one per code, without PAD, END and the
    overload option, which are framing rather than content.

    The accessors (L{messageType}, L{leaseTime}, ...) read the options.
    """

    op: int = BOOTREQUEST
    xid: int = 0
    chaddr: bytes = b"\0" * 6
    htype: int = HTYPE_ETHERNET
    hops: int = 0
    secs: int = 0
    flags: int = 0
    ciaddr: str = ZERO
    yiaddr: str = ZERO
    siaddr: str = ZERO
    giaddr: str = ZERO
    sname: bytes = b""
    file: bytes = b""
    options: tuple[tuple[int, bytes], ...] = field(default=())

    # -- options --------------------------------------------------------

    def option(self, code: int) -> bytes | None:
        """
        @return: the value of option C{code}, or L{None} if absent.
        """
        for c, value in self.options:
            if c == code:
                return value
        return None

    def withOption(self, code: int, value: bytes) -> Packet:
        """
        @return: a copy with option C{code} set to C{value} (replacing it
            where it was, else appended).
        """
        options = [(c, v) for c, v in self.options if c != code]
        for i, (c, _) in enumerate(self.options):
            if c == code:
                options.insert(i, (code, value))
                break
        else:
            options.append((code, value))
        return replace(self, options=tuple(options))

    def withoutOption(self, code: int) -> Packet:
        """
        @return: a copy without option C{code}.
        """
        return replace(self, options=tuple((c, v) for c, v in self.options if c != code))

    def _addressOption(self, code: int) -> str | None:
        value = self.option(code)
        return None if value is None else _address(value)

    def _addressListOption(self, code: int) -> list[str]:
        value = self.option(code) or b""
        return [_address(value[i : i + 4]) for i in range(0, len(value), 4)]

    def _secondsOption(self, code: int) -> int | None:
        value = self.option(code)
        return None if value is None else int(struct.unpack("!I", value)[0])

    @property
    def messageType(self) -> MessageType | None:
        """
        The DHCP message type (option 53), or L{None} for a plain BOOTP
        message.
        """
        value = self.option(Option.MESSAGE_TYPE)
        return None if value is None else MessageType(value[0])

    @property
    def requestedAddress(self) -> str | None:
        """Option 50, the address a client asks for (RFC 2132 section 9.1)."""
        return self._addressOption(Option.REQUESTED_ADDRESS)

    @property
    def serverIdentifier(self) -> str | None:
        """Option 54, the address that names a server (RFC 2132 section 9.7)."""
        return self._addressOption(Option.SERVER_IDENTIFIER)

    @property
    def subnetMask(self) -> str | None:
        """Option 1 (RFC 2132 section 3.3)."""
        return self._addressOption(Option.SUBNET_MASK)

    @property
    def routers(self) -> list[str]:
        """Option 3 (RFC 2132 section 3.5), most preferred first."""
        return self._addressListOption(Option.ROUTER)

    @property
    def dnsServers(self) -> list[str]:
        """Option 6 (RFC 2132 section 3.8), most preferred first."""
        return self._addressListOption(Option.DOMAIN_NAME_SERVER)

    @property
    def domainName(self) -> str | None:
        """Option 15 (RFC 2132 section 3.17)."""
        value = self.option(Option.DOMAIN_NAME)
        return None if value is None else value.decode("ascii", "replace")

    @property
    def leaseTime(self) -> int | None:
        """Option 51, seconds (RFC 2132 section 9.2); 0xffffffff is infinity."""
        return self._secondsOption(Option.LEASE_TIME)

    @property
    def renewalTime(self) -> int | None:
        """Option 58, T1 in seconds (RFC 2132 section 9.11)."""
        return self._secondsOption(Option.RENEWAL_TIME)

    @property
    def rebindingTime(self) -> int | None:
        """Option 59, T2 in seconds (RFC 2132 section 9.12)."""
        return self._secondsOption(Option.REBINDING_TIME)

    @property
    def clientIdentifier(self) -> bytes | None:
        """Option 61 (RFC 2132 section 9.14), type octet included."""
        return self.option(Option.CLIENT_IDENTIFIER)

    @property
    def parameterRequestList(self) -> bytes:
        """Option 55 (RFC 2132 section 9.8): the codes the client asks for."""
        return self.option(Option.PARAMETER_REQUEST_LIST) or b""

    @property
    def relayAgentInformation(self) -> list[tuple[int, bytes]] | None:
        """Option 82's sub-options (RFC 3046 section 2.0), or L{None}."""
        value = self.option(Option.RELAY_AGENT_INFORMATION)
        return None if value is None else decodeRelayAgentInformation(value)

    @property
    def broadcast(self) -> bool:
        """Whether the client asked for broadcast replies (RFC 2131 section 4.1)."""
        return bool(self.flags & BROADCAST_FLAG)

    @property
    def hardwareAddress(self) -> str:
        """C{chaddr} as text: C{"52:54:00:12:34:56"}."""
        return self.chaddr.hex(":")

    def clientKey(self) -> str:
        """
        How a server tells clients apart: the client identifier when there is
        one, else the hardware type and address (RFC 2131 section 4.2).
        """
        identifier = self.clientIdentifier
        if identifier is not None:
            return "id:" + identifier.hex()
        return f"hw:{self.htype}:{self.chaddr.hex()}"

    def summary(self) -> str:
        """
        A one-line description for transcripts, such as C{DHCPDISCOVER xid
        0x3903f326 chaddr 52:54:00:12:34:56 broadcast}.
        """
        kind = self.messageType
        parts = [f"DHCP{kind.name}" if kind is not None else "BOOTP"]
        parts.append(f"xid 0x{self.xid:08x} chaddr {self.hardwareAddress}")
        for name in ("ciaddr", "yiaddr", "giaddr"):
            value = getattr(self, name)
            if value != ZERO:
                parts.append(f"{name} {value}")
        if self.broadcast:
            parts.append("broadcast")
        if self.hops:
            parts.append(f"hops {self.hops}")
        for label, text in (
            ("requested", self.requestedAddress),
            ("server", self.serverIdentifier),
            ("mask", self.subnetMask),
        ):
            if text is not None:
                parts.append(f"{label} {text}")
        if self.routers:
            parts.append("router " + ",".join(self.routers))
        if self.dnsServers:
            parts.append("dns " + ",".join(self.dnsServers))
        if self.domainName is not None:
            parts.append(f"domain {self.domainName}")
        if self.leaseTime is not None:
            parts.append(f"lease {self.leaseTime}s")
        if self.renewalTime is not None:
            parts.append(f"T1 {self.renewalTime}s")
        if self.rebindingTime is not None:
            parts.append(f"T2 {self.rebindingTime}s")
        if self.option(Option.RELAY_AGENT_INFORMATION) is not None:
            parts.append("agent-info")
        message = self.option(Option.MESSAGE)
        if message is not None:
            parts.append(repr(message.decode("ascii", "replace")))
        return " ".join(parts)


# -- option framing ------------------------------------------------------


def _readOptions(data: bytes, where: str, into: dict[int, bytearray]) -> tuple[bool, int | None]:
    """
    Read one area of options (the options field, C{file} or C{sname}),
    concatenating repeated options (RFC 3396 section 5).

    @return: whether END was seen, and the overload option's value if this
        area carried one.
    @raise WireError: on an option that runs past the end of the area.
    """
    i = 0
    overload = None
    size = len(data)
    while i < size:
        code = data[i]
        if code == Option.PAD:
            i += 1
            continue
        if code == Option.END:
            return True, overload
        if i + 1 >= size:
            raise WireError(f"option {code} in {where} has no length octet")
        length = data[i + 1]
        end = i + 2 + length
        if end > size:
            raise WireError(f"option {code} in {where} runs past the end ({length} octets)")
        value = data[i + 2 : end]
        if code == Option.OVERLOAD:
            if length != 1 or value[0] not in (1, 2, 3):
                raise WireError("bad overload option")
            if overload is not None or into.get(Option.OVERLOAD) is not None:
                raise WireError("overload option given twice")
            overload = value[0]
            into[Option.OVERLOAD] = bytearray(value)
        else:
            into.setdefault(code, bytearray()).extend(value)
        i = end
    return False, overload


def _field(raw: bytes) -> bytes:
    return raw.split(b"\0", 1)[0]


def decodePacket(data: bytes) -> Packet:
    """
    Decode one DHCP (or plain BOOTP) message.

    @raise WireError: if C{data} is not a well-formed message: too short or
        too long, a hardware address length over 16, no magic cookie, an
        option running past the end of its area, an overload option in
        C{file} or C{sname} (a loop, RFC 2131 section 4.1 reads those areas
        once), or an option whose format RFC 2132 fixes with the wrong size.
    """
    if len(data) < FIXED_SIZE + len(MAGIC_COOKIE):
        raise WireError(f"message of {len(data)} octets is too short")
    if len(data) > MAX_PACKET_SIZE:
        raise WireError(f"message of {len(data)} octets is too long")
    (op, htype, hlen, hops, xid, secs, flags, ci, yi, si, gi, ch, sname, file) = (
        _FIXED.unpack_from(data)
    )
    if op not in (BOOTREQUEST, BOOTREPLY):
        raise WireError(f"bad op {op}")
    if hlen > 16:
        raise WireError(f"hardware address length {hlen} is over 16")
    if data[FIXED_SIZE : FIXED_SIZE + 4] != MAGIC_COOKIE:
        raise WireError("no DHCP magic cookie")
    found: dict[int, bytearray] = {}
    ended, overload = _readOptions(data[FIXED_SIZE + 4 :], "options", found)
    if overload is not None:
        # RFC 2131 section 4.1: options, then file, then sname; an overload
        # option there would be a loop.
        if overload & 1:
            _, again = _readOptions(file, "file", found)
            if again is not None:
                raise WireError("overload option inside the file field (a loop)")
            file = b""
        if overload & 2:
            _, again = _readOptions(sname, "sname", found)
            if again is not None:
                raise WireError("overload option inside the sname field (a loop)")
            sname = b""
    options: list[tuple[int, bytes]] = []
    for code, value in found.items():
        if code == Option.OVERLOAD:
            continue
        _checkOption(code, bytes(value))
        options.append((code, bytes(value)))
    return Packet(
        op=op,
        xid=xid,
        chaddr=ch[:hlen],
        htype=htype,
        hops=hops,
        secs=secs,
        flags=flags,
        ciaddr=_address(ci),
        yiaddr=_address(yi),
        siaddr=_address(si),
        giaddr=_address(gi),
        sname=_field(sname),
        file=_field(file),
        options=tuple(options),
    )


def _encodeOptions(options: Iterable[tuple[int, bytes]]) -> bytes:
    """
    Encode options, splitting values longer than 255 octets into several
    instances (RFC 3396 section 6).  No END.
    """
    out = bytearray()
    for code, value in options:
        if code in (Option.PAD, Option.END, Option.OVERLOAD) or not 0 < code < 255:
            raise WireError(f"option code {code} cannot be given as an option")
        if not value:
            out += bytes([code, 0])
        for i in range(0, len(value), 255):
            chunk = value[i : i + 255]
            out += bytes([code, len(chunk)]) + chunk
    return bytes(out)


def _splitEncoded(encoded: bytes, room: int) -> tuple[bytes, bytes]:
    """
    Cut encoded options at an option boundary so that the first part fits
    in C{room} octets.
    """
    i = 0
    while i < len(encoded):
        nextI = i + 2 + encoded[i + 1]
        if nextI > room:
            break
        i = nextI
    return encoded[:i], encoded[i:]


def encodePacket(packet: Packet, maxSize: int = 576) -> bytes:
    """
    Encode a packet, padded to L{MIN_PACKET_SIZE} octets (RFC 1542 section
    2.1).

    Options that do not fit in C{maxSize} octets go to the C{file} and then
    the C{sname} field, with the overload option (RFC 2132 section 9.3),
    when those fields are empty.

    @param maxSize: the largest message the receiver takes: 576 unless it
        said more with option 57 (RFC 2131 section 2).
    @raise WireError: if the packet cannot be encoded (bad address, fields
        too long, options that do not fit even with overload).
    """
    if len(packet.chaddr) > 16:
        raise WireError("hardware address longer than 16 octets")
    if len(packet.sname) > 63 or len(packet.file) > 127 or b"\0" in packet.sname + packet.file:
        raise WireError("sname or file too long, or with a NUL")
    for code, value in packet.options:
        _checkOption(code, value)
    encoded = _encodeOptions(packet.options)
    room = maxSize - FIXED_SIZE - len(MAGIC_COOKIE) - 1  # keep one octet for END
    sname = packet.sname
    file = packet.file
    overflow = b""
    if len(encoded) > room:
        # Make room for the overload option itself.
        inside, overflow = _splitEncoded(encoded, room - 3)
        if packet.file or packet.sname:
            raise WireError("options do not fit and file/sname are in use")
        fileArea, overflow = _splitEncoded(overflow, 127)
        snameArea, overflow = _splitEncoded(overflow, 63)
        if overflow or not fileArea:
            raise WireError("options do not fit even with overload")
        which = 3 if snameArea else 1
        encoded = inside + bytes([Option.OVERLOAD, 1, which])
        file = fileArea + bytes([Option.END])
        sname = snameArea + bytes([Option.END]) if snameArea else b""
    fixed = _FIXED.pack(
        packet.op,
        packet.htype,
        len(packet.chaddr),
        packet.hops,
        packet.xid,
        packet.secs,
        packet.flags,
        _packAddress(packet.ciaddr),
        _packAddress(packet.yiaddr),
        _packAddress(packet.siaddr),
        _packAddress(packet.giaddr),
        packet.chaddr.ljust(16, b"\0"),
        sname.ljust(64, b"\0"),
        file.ljust(128, b"\0"),
    )
    message = fixed + MAGIC_COOKIE + encoded + bytes([Option.END])
    return message.ljust(MIN_PACKET_SIZE, b"\0")


# -- option values ---------------------------------------------------------


def addressesValue(addresses: Sequence[str]) -> bytes:
    """
    @return: the value of an address-list option (RFC 2132 section 3.5).
    """
    return b"".join(_packAddress(a) for a in addresses)


def secondsValue(seconds: int) -> bytes:
    """
    @return: the value of a 32-bit time option (RFC 2132 section 9.2).
    """
    return struct.pack("!I", min(max(int(seconds), 0), 0xFFFFFFFF))


def decodeRelayAgentInformation(value: bytes) -> list[tuple[int, bytes]]:
    """
    Decode the sub-options of option 82 (RFC 3046 section 2.0): C{(code,
    value)} pairs, such as circuit id (1) and remote id (2).

    @raise WireError: if a sub-option runs past the end, or there is none.
    """
    if not value:
        raise WireError("empty relay agent information option")
    subOptions = []
    i = 0
    while i < len(value):
        if i + 1 >= len(value):
            raise WireError("relay agent sub-option without a length")
        code, length = value[i], value[i + 1]
        end = i + 2 + length
        if end > len(value):
            raise WireError("relay agent sub-option runs past the end")
        subOptions.append((code, value[i + 2 : end]))
        i = end
    return subOptions


def encodeRelayAgentInformation(subOptions: Sequence[tuple[int, bytes]]) -> bytes:
    """
    Encode option 82's sub-options (RFC 3046 section 2.0).
    """
    out = bytearray()
    for code, value in subOptions:
        if len(value) > 255:
            raise WireError("relay agent sub-option longer than 255 octets")
        out += bytes([code, len(value)]) + value
    return bytes(out)


#: Option 82's sub-option codes (RFC 3046 section 3).
AGENT_CIRCUIT_ID = 1
AGENT_REMOTE_ID = 2


def encodeOptionsLast(packet: Packet, code: int, value: bytes) -> Packet:
    """
    @return: a copy of C{packet} with option C{code} appended after every
        other option, as RFC 3046 section 2.1 wants option 82 placed.
    """
    return replace(packet, options=(*packet.withoutOption(code).options, (code, value)))
