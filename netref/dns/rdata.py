"""
Resource record types and classes, and record data (RDATA) in its wire and
presentation forms, sans-IO.

Every type netref understands is a frozen dataclass below L{Rdata}, equal by
value: L{A}, L{AAAA}, L{NS}, L{CNAME}, L{PTR}, L{MX}, L{SOA}, L{TXT},
L{SRV}.  Any other type is carried opaquely as L{UnknownRdata} (RFC 3597).
The OPT pseudo-record (RFC 6891) is no record data: L{netref.dns.wire} turns
it into L{EDNS<netref.dns.wire.EDNS>}.

Wire form
=========

C{rdata.encode(writer)} appends the data to a L{WireWriter}; names in NS,
CNAME, PTR, MX and SOA may be compressed (RFC 1035 section 4.1.4, RFC 3597
section 4), SRV's target never is (RFC 2782).  L{decodeRdata} reads the data
of any type from a L{WireReader} and checks it fills its RDLENGTH exactly.
Decoding follows compression pointers in every type with names, SRV
included: RFC 3597 section 4 says receivers SHOULD, because RFC 2052 once
required compressing SRV.

Presentation form: the token convention
=======================================

C{Rdata.fromText(tokens, origin)} and L{parseRdata} take the record data as
a sequence of tokens, and the zone-file parser hands them over this way.  A
token is a C{str} holding I{the exact characters of one field as written in
the file}:

  - escapes are left as they are: C{\\.}, C{\\"}, C{\\032} arrive as two or
    four characters, and this module interprets them (L{unescape});
  - a quoted string keeps its quotes: the TXT data C{"a b" ""} is the two
    tokens C{'"a b"'} and C{'""'}, so an empty string is a token, and a
    quoted string is told from a bare word by its first character;
  - parentheses and comments are the tokenizer's business and never reach
    this module;
  - characters outside ASCII stand for their UTF-8 octets.

Any sequence of any strings gives record data or a L{TextError}, never
another exception.

L{tokenize} splits one line of record data (without comments or parentheses)
this way; C{toText} writes text that L{tokenize} splits back into the same
tokens.  Quoted strings are accepted only where RFC 1035 section 5.1 has a
<character-string> (TXT); names and numbers must be bare.  Record data in the
generic form of RFC 3597 section 5, C{\\# 4 0A000001}, is accepted for every
type, and for a type known here decodes to its own class; C{toGenericText}
writes it for any data.

Values out of range raise C{ValueError} from the constructors, L{TextError}
from the text parsers and L{WireError} from the wire decoders.
"""

from __future__ import annotations

import binascii
import ipaddress
import struct
from collections.abc import Callable, Sequence
from dataclasses import MISSING, dataclass, field, fields
from enum import IntEnum
from typing import Any

from netref.dns.name import (
    ROOT,
    DNSError,
    Name,
    TextError,
    WireError,
    WireReader,
    WireWriter,
    unescape,
)

__all__ = [
    "RRType",
    "RRClass",
    "typeFromText",
    "typeToText",
    "classFromText",
    "classToText",
    "ttlFromText",
    "tokenize",
    "Rdata",
    "A",
    "AAAA",
    "NS",
    "CNAME",
    "PTR",
    "MX",
    "SOA",
    "TXT",
    "SRV",
    "UnknownRdata",
    "rdataClassFor",
    "parseRdata",
    "decodeRdata",
    "DNSError",
    "TextError",
    "WireError",
]


class RRType(IntEnum):
    """
    Resource record types (RFC 1035 section 3.2.2, and the IANA registry of
    RFC 6895), including the QTYPEs of RFC 1035 section 3.2.3.  Only some
    have a record data class here; the others travel as L{UnknownRdata}.
    """

    A = 1
    NS = 2
    MD = 3
    MF = 4
    CNAME = 5
    SOA = 6
    MB = 7
    MG = 8
    MR = 9
    NULL = 10
    WKS = 11
    PTR = 12
    HINFO = 13
    MINFO = 14
    MX = 15
    TXT = 16
    RP = 17
    AFSDB = 18
    SIG = 24
    KEY = 25
    AAAA = 28
    LOC = 29
    SRV = 33
    NAPTR = 35
    KX = 36
    CERT = 37
    DNAME = 39
    OPT = 41
    APL = 42
    DS = 43
    SSHFP = 44
    IPSECKEY = 45
    RRSIG = 46
    NSEC = 47
    DNSKEY = 48
    DHCID = 49
    NSEC3 = 50
    NSEC3PARAM = 51
    TLSA = 52
    SMIMEA = 53
    HIP = 55
    CDS = 59
    CDNSKEY = 60
    OPENPGPKEY = 61
    CSYNC = 62
    ZONEMD = 63
    SVCB = 64
    HTTPS = 65
    SPF = 99
    TKEY = 249
    TSIG = 250
    IXFR = 251
    AXFR = 252
    MAILB = 253
    MAILA = 254
    ANY = 255
    URI = 256
    CAA = 257


class RRClass(IntEnum):
    """
    Resource record classes (RFC 1035 section 3.2.4 and 3.2.5; NONE is
    RFC 2136 section 2.4).
    """

    IN = 1
    CH = 3
    HS = 4
    NONE = 254
    ANY = 255


_TYPE_NAMES = {int(member): member.name for member in RRType}
_TYPE_VALUES = {member.name: int(member) for member in RRType}
_CLASS_NAMES = {int(member): member.name for member in RRClass}
_CLASS_VALUES = {member.name: int(member) for member in RRClass}


def _generic(text: str, prefix: str, kind: str) -> int | None:
    """
    Parse C{TYPE123} or C{CLASS123} (RFC 3597 section 5).
    """
    upper = text.upper()
    if not upper.startswith(prefix):
        return None
    digits = upper[len(prefix) :]
    if not (digits.isascii() and digits.isdigit()) or len(digits) > 5:
        raise TextError(f"{text!r} is not a {kind}")
    value = int(digits)
    if value > 0xFFFF:
        raise TextError(f"{text!r}: {kind} numbers are 16 bits")
    return value


def typeFromText(text: str) -> int:
    """
    @param text: a type mnemonic such as C{"MX"} (any case), or the generic
        C{"TYPE65280"} of RFC 3597 section 5.
    @return: the type number.
    @raise TextError: if C{text} is neither.
    """
    value = _TYPE_VALUES.get(text.upper())
    if value is not None:
        return value
    value = _generic(text, "TYPE", "type")
    if value is None:
        raise TextError(f"unknown type {text!r}")
    return value


def typeToText(rtype: int) -> str:
    """
    @return: the mnemonic of C{rtype}, or C{"TYPE"} and its number when it
        has none (RFC 3597 section 5).
    """
    name = _TYPE_NAMES.get(rtype)
    return name if name is not None else f"TYPE{rtype}"


def classFromText(text: str) -> int:
    """
    @param text: a class mnemonic such as C{"IN"} (any case), or the generic
        C{"CLASS3"} of RFC 3597 section 5.
    @return: the class number.
    @raise TextError: if C{text} is neither.
    """
    value = _CLASS_VALUES.get(text.upper())
    if value is not None:
        return value
    value = _generic(text, "CLASS", "class")
    if value is None:
        raise TextError(f"unknown class {text!r}")
    return value


def classToText(rclass: int) -> str:
    """
    @return: the mnemonic of C{rclass}, or C{"CLASS"} and its number when it
        has none (RFC 3597 section 5).
    """
    name = _CLASS_NAMES.get(rclass)
    return name if name is not None else f"CLASS{rclass}"


_UNITS = {"S": 1, "M": 60, "H": 3600, "D": 86400, "W": 604800}


def ttlFromText(text: str, maximum: int = 0x7FFFFFFF) -> int:
    """
    Parse a time in seconds, as a TTL or an SOA timer.

    Besides plain seconds (RFC 1035 section 5.1), this takes the units BIND
    introduced and every zone file uses: C{1w2d3h4m5s} (weeks, days, hours,
    minutes, seconds, any case, each at most once, in any order).

    @param maximum: the largest value allowed: by default 2**31 - 1, the
        largest TTL (RFC 2181 section 8); SOA timers allow 2**32 - 1.
    @raise TextError: if C{text} is not a time or is above C{maximum}.
    """
    if text.isascii() and text.isdigit():
        value = _decimal(text, maximum, "time")
    else:
        value = 0
        number = ""
        seen = set()
        for char in text.upper():
            if char.isascii() and char.isdigit():
                number += char
            elif char in _UNITS and number and char not in seen:
                seen.add(char)
                value += _decimal(number, maximum, "time") * _UNITS[char]
                number = ""
            else:
                raise TextError(f"{text!r} is not a time")
        if number or not seen:
            raise TextError(f"{text!r} is not a time")
    if value > maximum:
        raise TextError(f"{text[:40]!r} is above {maximum}")
    return value


def tokenize(text: str) -> list[str]:
    """
    Split one line of record data into tokens, as the module docstring
    defines them: whitespace separates tokens, a backslash escapes the next
    character (which then separates nothing), and a token starting with
    C{'"'} runs to the next unescaped C{'"'}, quotes included.

    Comments and parentheses are not handled: this is for record data alone,
    as C{toText} writes it; the zone-file parser has its own tokenizer.

    @raise TextError: on an unterminated quoted string.
    """
    tokens = []
    index = 0
    length = len(text)
    while index < length:
        char = text[index]
        if char.isspace():
            index += 1
            continue
        start = index
        if char == '"':
            index += 1
            while index < length and text[index] != '"':
                index += 2 if text[index] == "\\" else 1
            if index >= length:
                raise TextError(f"unterminated quoted string in {text!r}")
            index += 1
        else:
            while index < length and not text[index].isspace():
                index += 2 if text[index] == "\\" else 1
        tokens.append(text[start:index])
    return tokens


def _expect(tokens: Sequence[str], count: int, what: str) -> None:
    if len(tokens) != count:
        raise TextError(f"{what} takes {count} fields, not {len(tokens)}: {' '.join(tokens)!r}")


def _decimal(digits: str, maximum: int, what: str) -> int:
    """
    The value of ASCII decimal C{digits}, at most C{maximum}.  Overlong
    strings are refused before C{int} sees them (Python refuses more than
    4300 digits with C{ValueError}, and converting long ones is slow).
    """
    if len(digits.lstrip("0")) > len(str(maximum)):
        raise TextError(f"{what} {digits[:20]!r}... is above {maximum}")
    value = int(digits)
    if value > maximum:
        raise TextError(f"{what} {digits!r} is above {maximum}")
    return value


def _number(token: str, maximum: int, what: str) -> int:
    if not (token.isascii() and token.isdigit()):
        raise TextError(f"{what} {token!r} is not a decimal number")
    return _decimal(token, maximum, what)


def _name(token: str, origin: Name) -> Name:
    if token.startswith('"'):
        raise TextError(f"a name is not quoted: {token!r}")
    return Name.fromText(token, origin)


def _characterString(token: str) -> bytes:
    """
    A <character-string> (RFC 1035 section 5.1): quoted or bare, escapes
    interpreted, at most 255 octets (RFC 1035 section 3.3).
    """
    if token.startswith('"'):
        inner = token[1:-1]
        if len(token) < 2 or not token.endswith('"') or _endsEscaped(inner):
            raise TextError(f"unterminated quoted string {token!r}")
    else:
        inner = token
    data = unescape(inner)
    if len(data) > 255:
        raise TextError(f"character-string longer than 255 octets: {token!r}")
    return data


def _endsEscaped(text: str) -> bool:
    """
    @return: whether C{text} ends with an odd number of backslashes, so
        that a quote after it would be escaped.
    """
    return (len(text) - len(text.rstrip("\\"))) % 2 == 1


# Octets written as themselves inside a quoted character-string: printable
# ASCII and the space, but the quote and the backslash.
_STRING_SAFE = bytes(b for b in range(0x20, 0x7F) if b not in b'"\\')


def _stringEscape(octet: int) -> str:
    if octet in b'"\\':
        return "\\" + chr(octet)
    if 0x20 <= octet < 0x7F:
        return chr(octet)
    return f"\\{octet:03d}"


_STRING_ESCAPES = [_stringEscape(octet) for octet in range(256)]


def _quote(data: bytes) -> str:
    """
    A <character-string> in presentation form: always quoted, so that empty
    strings and spaces survive.
    """
    if not data.translate(None, _STRING_SAFE):
        return '"' + data.decode("ascii") + '"'
    return '"' + "".join([_STRING_ESCAPES[octet] for octet in data]) + '"'


_H = struct.Struct("!H")
_HH = struct.Struct("!HH")
_HHH = struct.Struct("!HHH")
_SOA_NUMBERS = struct.Struct("!IIIII")
_setattr = object.__setattr__


def trustedConstructor(cls: type) -> Callable[..., Any]:
    """
    Build a function making instances of the frozen slots dataclass C{cls}
    from values already checked, positionally, as fast as Python allows.

    A frozen dataclass's C{__init__} sets each field through
    C{object.__setattr__} by name, and runs C{__post_init__}: about 100 ns
    a field.  The decoders build many small objects from values that are
    valid by construction, so they use this instead: it sets the slots
    through their descriptors, several times faster.  The function is
    generated, as C{dataclasses} generates C{__init__}.
    """
    names = [f.name for f in fields(cls) if f.init]
    namespace: dict[str, Any] = {"_new": object.__new__, "_cls": cls}
    lines = [f"def make({', '.join(names)}):", "    self = _new(_cls)"]
    for f in fields(cls):
        namespace[f"_set_{f.name}"] = getattr(cls, f.name).__set__
        if f.init:
            lines.append(f"    _set_{f.name}(self, {f.name})")
        elif f.default is not MISSING:
            namespace[f"_default_{f.name}"] = f.default
            lines.append(f"    _set_{f.name}(self, _default_{f.name})")
    lines.append("    return self")
    exec("\n".join(lines), namespace)
    make: Callable[..., Any] = namespace["make"]
    make.__qualname__ = f"trustedConstructor({cls.__name__})"
    return make


def _checkRange(value: int, maximum: int, what: str) -> None:
    if not isinstance(value, int) or not 0 <= value <= maximum:
        raise ValueError(f"{what} {value!r} is not an integer from 0 to {maximum}")


def _checkName(value: object, what: str) -> None:
    if not isinstance(value, Name):
        raise TypeError(f"{what} {value!r} is not a Name")


class Rdata:
    """
    The data of a resource record (RFC 1035 section 3.3).

    @cvar rtype: the type number; an instance attribute of L{UnknownRdata}.
    """

    __slots__ = ()

    rtype: int

    def encode(self, writer: WireWriter) -> None:
        """
        Append the wire form to C{writer}, compressing names where the type
        allows it.
        """
        raise NotImplementedError

    def toWire(self) -> bytes:
        """
        @return: the wire form on its own, names uncompressed: what the
            generic text form of RFC 3597 section 5 holds.
        """
        writer = WireWriter(compress=False)
        self.encode(writer)
        return bytes(writer.buf)

    def toGenericText(self) -> str:
        """
        @return: the generic text form of RFC 3597 section 5,
            C{\\# 4 0A000001}, which L{parseRdata} reads for any type.
        """
        data = self.toWire()
        if not data:
            return "\\# 0"
        return f"\\# {len(data)} {data.hex().upper()}"

    def fixedWire(self) -> bytes | None:
        """
        @return: the wire form when it is the same in every message (no
            names to compress), else L{None}.  L{netref.dns.wire} keeps it
            with the record, so that encoding a zone's records again and
            again costs one copy each.
        """
        return None

    @classmethod
    def decode(cls, reader: WireReader, length: int) -> Rdata:
        """
        Read the wire form, C{length} octets from C{reader.pos}, which the
        caller also set as C{reader.end}.  L{decodeRdata} calls this and checks
        that exactly C{length} octets were read.

        @raise WireError: if the data is malformed.
        """
        raise NotImplementedError

    def toText(self) -> str:
        """
        The presentation form (RFC 1035 section 5.1), names absolute.
        """
        raise NotImplementedError

    @classmethod
    def fromText(cls, tokens: Sequence[str], origin: Name = ROOT) -> Rdata:
        """
        Parse the presentation form: see the token convention in the module
        docstring.  The generic form C{\\# length hex} of RFC 3597 section 5
        is accepted too.

        @param origin: the origin of relative names.
        @raise TextError: if the text is malformed.
        """
        if tokens and tokens[0] == "\\#":
            return _fromGeneric(cls.rtype, cls, tokens)
        return cls._fromText(tokens, origin)

    @classmethod
    def _fromText(cls, tokens: Sequence[str], origin: Name) -> Rdata:
        raise NotImplementedError


def _fromGeneric(rtype: int, cls: type[Rdata], tokens: Sequence[str]) -> Rdata:
    """
    The generic form C{\\# length hex...} (RFC 3597 section 5), for any
    type: a known type's data is decoded as its wire form, without
    compression pointers.
    """
    if len(tokens) < 2:
        raise TextError("\\# needs a length")
    length = _number(tokens[1], 0xFFFF, "generic data length")
    digits = "".join(tokens[2:])
    if not digits.isascii():
        raise TextError(f"{digits!r} is not hexadecimal")
    try:
        data = binascii.unhexlify(digits)
    except (binascii.Error, ValueError):
        raise TextError(f"{digits!r} is not hexadecimal") from None
    if len(data) != length:
        raise TextError(f"generic data has {len(data)} octets, not {length}")
    if cls is UnknownRdata:
        try:
            return UnknownRdata(rtype, data)
        except ValueError as e:
            raise TextError(str(e)) from None
    reader = WireReader(data)
    reader.pointers = False
    try:
        return decodeRdata(rtype, reader, length)
    except WireError as e:
        raise TextError(f"generic data of {typeToText(rtype)}: {e}") from None


@dataclass(frozen=True, slots=True)
class A(Rdata):
    """
    An IPv4 address (RFC 1035 section 3.4.1).

    @ivar address: dotted-quad text, such as C{"128.119.245.12"}.
    """

    rtype = RRType.A

    address: str
    _packed: bytes = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        if not isinstance(self.address, str):
            raise ValueError(f"{self.address!r} is not an IPv4 address")
        try:
            packed = ipaddress.IPv4Address(self.address).packed
        except ipaddress.AddressValueError:
            raise ValueError(f"{self.address!r} is not an IPv4 address") from None
        _setattr(self, "_packed", packed)

    @classmethod
    def _fromPacked(cls, packed: bytes) -> A:
        self = object.__new__(cls)
        _setattr(self, "address", ".".join(map(str, packed)))
        _setattr(self, "_packed", packed)
        return self

    def encode(self, writer: WireWriter) -> None:
        writer.buf += self._packed

    def fixedWire(self) -> bytes:
        return self._packed

    @classmethod
    def decode(cls, reader: WireReader, length: int) -> A:
        return cls._fromPacked(reader.readBytes(4))

    def toText(self) -> str:
        return self.address

    @classmethod
    def _fromText(cls, tokens: Sequence[str], origin: Name) -> A:
        _expect(tokens, 1, "A")
        try:
            return cls(tokens[0])
        except ValueError as e:
            raise TextError(str(e)) from None


def _ipv6Text(address: ipaddress.IPv6Address) -> str:
    """
    @return: C{address} as RFC 5952 recommends writing it: compressed, and
        an IPv4-mapped address in mixed notation (section 5), as dig does.
    """
    mapped = address.ipv4_mapped
    if mapped is not None:
        return f"::ffff:{mapped}"
    return address.compressed


@dataclass(frozen=True, slots=True)
class AAAA(Rdata):
    """
    An IPv6 address (RFC 3596 section 2).

    @ivar address: the address in the recommended text form of RFC 5952:
        compressed (section 4), and an IPv4-mapped address with its IPv4
        part in dotted decimal, C{::ffff:127.2.0.10} (section 5); the
        constructor normalises any other form.
    """

    rtype = RRType.AAAA

    address: str
    _packed: bytes = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        if not isinstance(self.address, str) or "%" in self.address:
            raise ValueError(f"{self.address!r} is not an IPv6 address")
        try:
            address = ipaddress.IPv6Address(self.address)
        except ipaddress.AddressValueError:
            raise ValueError(f"{self.address!r} is not an IPv6 address") from None
        _setattr(self, "address", _ipv6Text(address))
        _setattr(self, "_packed", address.packed)

    @classmethod
    def _fromPacked(cls, packed: bytes) -> AAAA:
        self = object.__new__(cls)
        _setattr(self, "address", _ipv6Text(ipaddress.IPv6Address(packed)))
        _setattr(self, "_packed", packed)
        return self

    def encode(self, writer: WireWriter) -> None:
        writer.buf += self._packed

    def fixedWire(self) -> bytes:
        return self._packed

    @classmethod
    def decode(cls, reader: WireReader, length: int) -> AAAA:
        return cls._fromPacked(reader.readBytes(16))

    def toText(self) -> str:
        return self.address

    @classmethod
    def _fromText(cls, tokens: Sequence[str], origin: Name) -> AAAA:
        _expect(tokens, 1, "AAAA")
        try:
            return cls(tokens[0])
        except ValueError as e:
            raise TextError(str(e)) from None


@dataclass(frozen=True, slots=True)
class _SingleName(Rdata):
    """
    Record data that is one compressible name.
    """

    target: Name

    def __post_init__(self) -> None:
        _checkName(self.target, "target")

    def encode(self, writer: WireWriter) -> None:
        writer.writeName(self.target)

    @classmethod
    def decode(cls, reader: WireReader, length: int) -> _SingleName:
        make: Callable[[Name], _SingleName] = _MAKERS[cls]
        return make(reader.readName())

    def toText(self) -> str:
        return self.target.toText()

    @classmethod
    def _fromText(cls, tokens: Sequence[str], origin: Name) -> _SingleName:
        _expect(tokens, 1, typeToText(cls.rtype))
        return cls(_name(tokens[0], origin))


@dataclass(frozen=True, slots=True)
class NS(_SingleName):
    """
    An authoritative name server for the owner (RFC 1035 section 3.3.11).

    @ivar target: the server's name.
    """

    rtype = RRType.NS


@dataclass(frozen=True, slots=True)
class CNAME(_SingleName):
    """
    The canonical name of the owner, an alias (RFC 1035 section 3.3.1).

    @ivar target: the canonical name.
    """

    rtype = RRType.CNAME


@dataclass(frozen=True, slots=True)
class PTR(_SingleName):
    """
    A pointer to another place in the name space, as in reverse lookups
    (RFC 1035 section 3.3.12).

    @ivar target: the name pointed to.
    """

    rtype = RRType.PTR


@dataclass(frozen=True, slots=True)
class MX(Rdata):
    """
    A mail exchange for the owner (RFC 1035 section 3.3.9): lower
    preference first.
    """

    rtype = RRType.MX

    preference: int
    exchange: Name

    def __post_init__(self) -> None:
        _checkRange(self.preference, 0xFFFF, "preference")
        _checkName(self.exchange, "exchange")

    def encode(self, writer: WireWriter) -> None:
        writer.buf += _H.pack(self.preference)
        writer.writeName(self.exchange)

    @classmethod
    def decode(cls, reader: WireReader, length: int) -> MX:
        pos = reader.take(2)
        (preference,) = _H.unpack_from(reader.data, pos)
        return _makeMX(preference, reader.readName())

    def toText(self) -> str:
        return f"{self.preference} {self.exchange.toText()}"

    @classmethod
    def _fromText(cls, tokens: Sequence[str], origin: Name) -> MX:
        _expect(tokens, 2, "MX")
        return cls(_number(tokens[0], 0xFFFF, "preference"), _name(tokens[1], origin))


@dataclass(frozen=True, slots=True)
class SOA(Rdata):
    """
    The start of a zone of authority (RFC 1035 section 3.3.13; the meaning
    of C{minimum} is RFC 2308 section 4: the TTL of negative answers).

    @ivar mname: the primary name server.
    @ivar rname: the mailbox of the person responsible, as a name
        (C{hostmaster.umass.edu.} is hostmaster@umass.edu).
    """

    rtype = RRType.SOA

    mname: Name
    rname: Name
    serial: int
    refresh: int
    retry: int
    expire: int
    minimum: int

    def __post_init__(self) -> None:
        _checkName(self.mname, "mname")
        _checkName(self.rname, "rname")
        for what in ("serial", "refresh", "retry", "expire", "minimum"):
            _checkRange(getattr(self, what), 0xFFFFFFFF, what)

    def encode(self, writer: WireWriter) -> None:
        writer.writeName(self.mname)
        writer.writeName(self.rname)
        writer.buf += _SOA_NUMBERS.pack(
            self.serial, self.refresh, self.retry, self.expire, self.minimum
        )

    @classmethod
    def decode(cls, reader: WireReader, length: int) -> SOA:
        mname = reader.readName()
        rname = reader.readName()
        pos = reader.take(20)
        return _makeSOA(mname, rname, *_SOA_NUMBERS.unpack_from(reader.data, pos))

    def toText(self) -> str:
        return (
            f"{self.mname.toText()} {self.rname.toText()} {self.serial} "
            f"{self.refresh} {self.retry} {self.expire} {self.minimum}"
        )

    @classmethod
    def _fromText(cls, tokens: Sequence[str], origin: Name) -> SOA:
        _expect(tokens, 7, "SOA")
        timers = [ttlFromText(token, 0xFFFFFFFF) for token in tokens[3:]]
        return cls(
            _name(tokens[0], origin),
            _name(tokens[1], origin),
            _number(tokens[2], 0xFFFFFFFF, "serial"),
            *timers,
        )


@dataclass(frozen=True, slots=True)
class TXT(Rdata):
    """
    Text (RFC 1035 section 3.3.14): one or more <character-string>s, each at
    most 255 octets.
    """

    rtype = RRType.TXT

    strings: tuple[bytes, ...]

    def __post_init__(self) -> None:
        if not isinstance(self.strings, tuple) or not self.strings:
            raise ValueError("TXT needs a tuple of at least one string")
        for string in self.strings:
            if not isinstance(string, bytes) or len(string) > 255:
                raise ValueError(f"{string!r} is not bytes of at most 255 octets")

    def encode(self, writer: WireWriter) -> None:
        writer.buf += self.fixedWire()

    def fixedWire(self) -> bytes:
        return b"".join([bytes((len(string),)) + string for string in self.strings])

    @classmethod
    def decode(cls, reader: WireReader, length: int) -> TXT:
        if length == 0:
            raise WireError("TXT with no string")
        strings = []
        data = reader.data
        while reader.pos < reader.end:
            count = data[reader.pos]
            reader.pos += 1
            strings.append(reader.readBytes(count))
        return _makeTXT(tuple(strings))

    def toText(self) -> str:
        return " ".join([_quote(string) for string in self.strings])

    @classmethod
    def _fromText(cls, tokens: Sequence[str], origin: Name) -> TXT:
        if not tokens:
            raise TextError("TXT needs at least one string")
        return cls(tuple(_characterString(token) for token in tokens))


@dataclass(frozen=True, slots=True)
class SRV(Rdata):
    """
    The location of a service (RFC 2782): C{_sip._tcp.example.com.}.  The
    target is never compressed when writing (RFC 2782, "Target").
    """

    rtype = RRType.SRV

    priority: int
    weight: int
    port: int
    target: Name

    def __post_init__(self) -> None:
        _checkRange(self.priority, 0xFFFF, "priority")
        _checkRange(self.weight, 0xFFFF, "weight")
        _checkRange(self.port, 0xFFFF, "port")
        _checkName(self.target, "target")

    def encode(self, writer: WireWriter) -> None:
        writer.buf += self.fixedWire()

    def fixedWire(self) -> bytes:
        return _HHH.pack(self.priority, self.weight, self.port) + self.target.wire

    @classmethod
    def decode(cls, reader: WireReader, length: int) -> SRV:
        pos = reader.take(6)
        priority, weight, port = _HHH.unpack_from(reader.data, pos)
        return _makeSRV(priority, weight, port, reader.readName())

    def toText(self) -> str:
        return f"{self.priority} {self.weight} {self.port} {self.target.toText()}"

    @classmethod
    def _fromText(cls, tokens: Sequence[str], origin: Name) -> SRV:
        _expect(tokens, 4, "SRV")
        return cls(
            _number(tokens[0], 0xFFFF, "priority"),
            _number(tokens[1], 0xFFFF, "weight"),
            _number(tokens[2], 0xFFFF, "port"),
            _name(tokens[3], origin),
        )


@dataclass(frozen=True, slots=True)
class UnknownRdata(Rdata):
    """
    The data of a type this module has no class for, carried as opaque
    octets (RFC 3597 section 3): never compressed or decompressed, written
    in the generic text form C{\\# length hex} (RFC 3597 section 5).

    It also holds the empty data of a known type in the RFC 2136 update
    messages that delete RRsets (class ANY or NONE, RDLENGTH 0).

    @ivar rtype: the type number.
    @ivar data: the octets.
    """

    rtype: int
    data: bytes

    def __post_init__(self) -> None:
        _checkRange(self.rtype, 0xFFFF, "type")
        if self.rtype == RRType.OPT:
            raise ValueError("OPT is not record data: use Message.edns")
        if not isinstance(self.data, bytes) or len(self.data) > 0xFFFF:
            raise ValueError("data must be bytes of at most 65535 octets")

    def encode(self, writer: WireWriter) -> None:
        writer.buf += self.data

    def fixedWire(self) -> bytes:
        return self.data

    def toText(self) -> str:
        return self.toGenericText()

    @classmethod
    def fromText(cls, tokens: Sequence[str], origin: Name = ROOT) -> Rdata:
        raise TextError("UnknownRdata has no type: use parseRdata(rtype, tokens, origin)")


_CLASSES: dict[int, type[Rdata]] = {
    cls.rtype: cls for cls in (A, AAAA, NS, CNAME, PTR, MX, SOA, TXT, SRV)
}

# The decoders' constructors: the wire gives values in range by
# construction (16 or 32 bits, names checked by the reader).
_MAKERS: dict[type[Rdata], Callable[..., Any]] = {
    cls: trustedConstructor(cls) for cls in (NS, CNAME, PTR)
}
_makeMX = trustedConstructor(MX)
_makeSOA = trustedConstructor(SOA)
_makeTXT = trustedConstructor(TXT)
_makeSRV = trustedConstructor(SRV)
_makeUnknown = trustedConstructor(UnknownRdata)

_EMPTY_CLASSES = (RRClass.ANY, RRClass.NONE)


def rdataClassFor(rtype: int) -> type[Rdata]:
    """
    @return: the record data class of C{rtype}: L{UnknownRdata} for the
        types without one.
    """
    return _CLASSES.get(rtype, UnknownRdata)


def parseRdata(rtype: int, tokens: Sequence[str], origin: Name = ROOT) -> Rdata:
    """
    Parse record data of any type from tokens (see the token convention in
    the module docstring).

    Types without a class here need the generic form C{\\# length hex}; a
    known type may use it too and then gets its own class (RFC 3597
    section 5).

    @param origin: the origin of relative names.
    @raise TextError: if the text is malformed.
    """
    if rtype == RRType.OPT:
        raise TextError("OPT has no presentation form (RFC 6891 section 6.1.1)")
    cls = _CLASSES.get(rtype)
    if cls is not None:
        return cls.fromText(tokens, origin)
    if not tokens or tokens[0] != "\\#":
        raise TextError(
            f"type {typeToText(rtype)} needs the generic form \\# length hex (RFC 3597 section 5)"
        )
    return _fromGeneric(rtype, UnknownRdata, tokens)


def decodeRdata(rtype: int, reader: WireReader, length: int, rclass: int = RRClass.IN) -> Rdata:
    """
    Read C{length} octets of record data of type C{rtype} from C{reader}.

    @param rclass: the record's class: with ANY or NONE, empty data is
        allowed for every type (RFC 2136 sections 2.4.2, 2.5.2) and becomes
        an empty L{UnknownRdata}.
    @raise WireError: if the data runs past C{reader.end}, is malformed, or
        does not fill exactly C{length} octets.
    """
    start = reader.pos
    stop = start + length
    outer = reader.end
    if stop > outer:
        raise WireError(f"record data at offset {start} runs past the end")
    cls = _CLASSES.get(rtype)
    if cls is None or (length == 0 and rclass in _EMPTY_CLASSES):
        if rtype == RRType.OPT:
            raise WireError("an OPT record out of place")
        reader.pos = stop
        return _makeUnknown(rtype, reader.data[start:stop])
    reader.end = stop
    try:
        rdata = cls.decode(reader, length)
    finally:
        reader.end = outer
    if reader.pos != stop:
        raise WireError(
            f"{typeToText(rtype)} data at offset {start} is {reader.pos - start} octets,"
            f" RDLENGTH says {length}"
        )
    return rdata
