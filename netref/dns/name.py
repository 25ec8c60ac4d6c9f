"""
Domain names (RFC 1035 section 3.1), their text and wire forms, and the
reader and writer that carry every DNS field on the wire, sans-IO.

A L{Name} is always absolute: its C{labels} run from the leftmost label to
the top-level domain, and the root label (the empty one) is implied, so the
root is the empty tuple, L{ROOT}.  Labels are bytes, any octets at all
(RFC 2181 section 11); names compare and hash ASCII case-insensitively
(RFC 4343 section 3) but keep the case they were written in.

The limits of RFC 1035 section 2.3.4 hold for every L{Name}: a label has 1 to
63 octets, and the whole name at most 255 octets in wire form (each label
with its length octet, plus the root's zero octet).

The wire form lives here too, because names are what make it hard: the
compression of RFC 1035 section 4.1.4.  L{WireWriter} compresses with a dict
from every name suffix already written to its offset; L{WireReader} follows
compression pointers under rules that make loops impossible (see
L{WireReader.readName}).

Errors: L{DNSError} is the base of every error of L{netref.dns};
L{WireError} means malformed wire data, L{TextError} malformed presentation
text (zone files, the command line).  Calling a constructor with values out
of range is a programming error and raises C{ValueError}.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = [
    "DNSError",
    "WireError",
    "TextError",
    "Name",
    "ROOT",
    "MAX_LABEL",
    "MAX_NAME",
    "MAX_POINTERS",
    "unescape",
    "WireReader",
    "WireWriter",
]

#: The longest label, in octets (RFC 1035 section 2.3.4).
MAX_LABEL = 63

#: The longest name in wire form, in octets, length octets and the root's
#: zero octet included (RFC 1035 section 2.3.4).
MAX_NAME = 255

#: The most compression pointers one name may follow.  Pointers must also
#: point strictly backwards (L{WireReader.readName}), which alone makes loops
#: impossible; this bound keeps the work per name small as well.  A name has
#: at most 127 labels, and an encoder needs at most one pointer per label.
MAX_POINTERS = 127


class DNSError(Exception):
    """
    Base class of the errors of L{netref.dns}.
    """


class WireError(DNSError):
    """
    Malformed DNS wire data: a server answers it with FORMERR (RFC 1035
    section 4.1.1).
    """


class TextError(DNSError):
    """
    Malformed DNS presentation text (RFC 1035 section 5.1): a zone file, a
    name or a type on the command line.
    """


# Octets a name's text form writes as themselves: the printable ASCII
# characters but the ones that are special in master files (RFC 1035
# section 5.1: "." between labels, "\\" escapes, '"' quotes, ";" comments,
# "()" group lines, "@" is the origin and "$" starts a control entry).
_NAME_SPECIAL = b'."\\;()@$'
_NAME_SAFE = bytes(b for b in range(0x21, 0x7F) if b not in _NAME_SPECIAL)


def _escapeOctet(octet: int) -> str:
    if octet in _NAME_SPECIAL:
        return "\\" + chr(octet)
    if 0x21 <= octet < 0x7F:
        return chr(octet)
    return f"\\{octet:03d}"


_NAME_ESCAPES = [_escapeOctet(octet) for octet in range(256)]


def _octets(text: str) -> bytes:
    """
    The UTF-8 octets of C{text}; surrogate escapes (from bytes decoded with
    C{surrogateescape}, as command-line arguments are) give back their
    octets.

    @raise TextError: for other lone surrogates, which have no octets.
    """
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        raise TextError(f"{text!r} is not valid Unicode text") from None


def unescape(text: str) -> bytes:
    """
    Turn the escapes of RFC 1035 section 5.1 into octets.

    C{\\DDD} (exactly three decimal digits, at most 255) is the octet DDD;
    C{\\X} for any other character X is X itself.  Characters outside ASCII
    stand for their UTF-8 octets.

    @param text: text with raw escapes.
    @return: the octets.
    @raise TextError: on a C{\\} at the end, or a C{\\DDD} above 255 or with
        fewer than three digits.
    """
    if "\\" not in text:
        return _octets(text)
    out = bytearray()
    index = 0
    length = len(text)
    while index < length:
        backslash = text.find("\\", index)
        if backslash < 0:
            out += _octets(text[index:])
            break
        out += _octets(text[index:backslash])
        if backslash + 1 >= length:
            raise TextError(f"{text!r}: a backslash at the end")
        following = text[backslash + 1]
        if following.isdigit():
            digits = text[backslash + 1 : backslash + 4]
            if len(digits) != 3 or not (digits.isascii() and digits.isdigit()):
                raise TextError(f"{text!r}: \\DDD needs three decimal digits")
            value = int(digits)
            if value > 255:
                raise TextError(f"{text!r}: \\{digits} is not an octet")
            out.append(value)
            index = backslash + 4
        else:
            out += _octets(following)
            index = backslash + 2
    return bytes(out)


class Name:
    """
    An absolute domain name: immutable and hashable, equal to the names that
    differ from it only in the case of ASCII letters (RFC 4343 section 3).

    The wire form is what a name is made of: the decoder slices it straight
    out of a message, the encoder copies it, and equality, hashing,
    L{parent} and L{isSubdomainOf} work on it.  A name decoded from a
    message builds its C{labels} tuple only when asked for.

    @ivar wire: the uncompressed wire form (RFC 1035 section 3.1), in the
        original case, ending with the root's zero octet.
    @ivar key: C{wire} with ASCII letters in lower case.  Equality and hash
        use it, and dicts keyed by names look it up; the wire form is
        unambiguous, unlike a text form with dots, since a label may contain
        a dot.
    """

    __slots__ = ("wire", "key", "_labels", "_suffixes")

    wire: bytes
    key: bytes
    _labels: tuple[bytes, ...] | None
    _suffixes: tuple[tuple[int, bytes], ...] | None

    def __init__(self, labels: Iterable[bytes] = ()) -> None:
        """
        @param labels: the labels, leftmost first, without the root label.
        @raise ValueError: if a label is empty or longer than L{MAX_LABEL}
            octets, or the name longer than L{MAX_NAME} octets (RFC 1035
            section 2.3.4).
        @raise TypeError: if a label is not bytes.
        """
        labels = tuple(labels)
        parts = []
        for label in labels:
            if type(label) is not bytes:
                raise TypeError(f"label {label!r} is not bytes")
            if not 0 < len(label) <= MAX_LABEL:
                raise ValueError(f"label {label!r} is not 1 to {MAX_LABEL} octets long")
            parts.append(bytes((len(label),)))
            parts.append(label)
        parts.append(b"\x00")
        wire = b"".join(parts)
        if len(wire) > MAX_NAME:
            raise ValueError(f"name longer than {MAX_NAME} octets in wire form")
        _setLabels(self, labels)
        _setWire(self, wire)
        _setKey(self, wire.lower())
        # Names made here are a zone's or a program's, and written in many
        # messages: prepare their compression keys once (see suffixes).
        _setSuffixes(self, None)
        self.suffixes()

    @property
    def labels(self) -> tuple[bytes, ...]:
        """
        The labels, leftmost first, without the root label.
        """
        labels = self._labels
        if labels is not None:
            return labels
        wire = self.wire
        parts = []
        pos = 0
        length = wire[0]
        while length:
            pos += 1
            parts.append(wire[pos : pos + length])
            pos += length
            length = wire[pos]
        labels = tuple(parts)
        _setLabels(self, labels)
        return labels

    @classmethod
    def fromLabels(cls, labels: Iterable[bytes | str]) -> Name:
        """
        @param labels: the labels, leftmost first; C{str} labels must be
            ASCII and are taken as they are, without escapes.
        @raise ValueError: as L{Name.__init__}, or for a non-ASCII C{str}.
        """
        return cls(label.encode("ascii") if isinstance(label, str) else label for label in labels)

    @classmethod
    def fromText(cls, text: str, origin: Name | None = None) -> Name:
        """
        Parse a name in presentation format (RFC 1035 section 5.1).

        A name ending in an unescaped dot is absolute; any other is relative
        to C{origin}, and C{"@"} alone is C{origin} itself.  C{\\.} is a dot
        inside a label and C{\\DDD} the octet DDD (L{unescape}).

        @param text: the name.
        @param origin: the origin of relative names, or L{None} to accept
            absolute names only.
        @raise TextError: on an empty label, a label or name that is too
            long, a bad escape, or a relative name without an origin.
        """
        if text == "@":
            if origin is None:
                raise TextError('"@" needs an origin')
            return origin
        if text == ".":
            return ROOT
        if not text:
            raise TextError("an empty name")
        if "\\" in text:
            labels, absolute = _splitEscaped(text)
        else:
            absolute = text.endswith(".")
            pieces = (text[:-1] if absolute else text).split(".")
            labels = [_octets(piece) for piece in pieces]
        if not absolute:
            if origin is None:
                raise TextError(f"{text!r} is relative and there is no origin")
            labels.extend(origin.labels)
        for label in labels:
            if not label:
                raise TextError(f"{text!r} has an empty label")
            if len(label) > MAX_LABEL:
                raise TextError(f"{text!r} has a label longer than {MAX_LABEL} octets")
        try:
            return cls(labels)
        except ValueError as e:
            raise TextError(f"{text!r}: {e}") from None

    def toText(self, origin: Name | None = None) -> str:
        """
        The presentation form (RFC 1035 section 5.1): absolute, with its
        trailing dot, special and non-printable octets escaped.

        @param origin: if given and this name is C{origin} or below it, the
            name is written relative to it instead (C{"@"} for C{origin}
            itself), as in a zone file.
        """
        labels = self.labels
        if origin is not None and self.isSubdomainOf(origin):
            count = len(labels) - len(origin.labels)
            if count == 0:
                return "@"
            return ".".join(_labelText(label) for label in labels[:count])
        if not labels:
            return "."
        return ".".join(_labelText(label) for label in labels) + "."

    def isSubdomainOf(self, other: Name) -> bool:
        """
        @return: whether this name is C{other} or a name below it.
        """
        # The keys are wire forms: other's must be a suffix of ours, and one
        # starting at a label boundary (a label may hold octets that look
        # like length octets).
        key = self.key
        suffix = other.key
        if not key.endswith(suffix):
            return False
        start = len(key) - len(suffix)
        pos = 0
        while pos < start:
            pos += key[pos] + 1
        return pos == start

    def parent(self) -> Name:
        """
        @return: the name without its leftmost label.
        @raise ValueError: for the root, which has no parent.
        """
        wire = self.wire
        if len(wire) == 1:
            raise ValueError("the root has no parent")
        return _fromWire(wire[wire[0] + 1 :])

    def child(self, label: bytes) -> Name:
        """
        @return: the name with C{label} added on the left.
        @raise ValueError: if the label or the result is too long.
        """
        return Name((label, *self.labels))

    def suffixes(self) -> tuple[tuple[int, bytes], ...]:
        """
        Where each suffix of the name starts in its wire form, and its key:
        C{(0, key)} for the name itself, then its parent's, up to but not
        including the root.  L{WireWriter} looks these up to compress.

        The tuple is kept, so that a name written in many messages slices
        and hashes its suffixes only once: names made by the constructor
        (a zone's) have it from the start; names decoded from a message
        (usually written once, if at all) only once this is called, and
        L{WireWriter} computes their suffixes on the fly instead.
        """
        suffixes = self._suffixes
        if suffixes is not None:
            return suffixes
        key = self.key
        pairs = []
        offset = 0
        length = key[0]
        while length:
            pairs.append((offset, key[offset:]))
            offset += length + 1
            length = key[offset]
        suffixes = tuple(pairs)
        _setSuffixes(self, suffixes)
        return suffixes

    @property
    def wireLength(self) -> int:
        """
        The length of the uncompressed wire form, in octets.
        """
        return len(self.wire)

    def _canonicalKey(self) -> tuple[bytes, ...]:
        return tuple(label.lower() for label in reversed(self.labels))

    def __lt__(self, other: object) -> bool:
        """
        The canonical order of RFC 4034 section 6.1: by labels from the
        right, each compared as lower-cased octets.
        """
        if not isinstance(other, Name):
            return NotImplemented
        return self._canonicalKey() < other._canonicalKey()

    def __le__(self, other: object) -> bool:
        if not isinstance(other, Name):
            return NotImplemented
        return self._canonicalKey() <= other._canonicalKey()

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, Name):
            return NotImplemented
        return self._canonicalKey() > other._canonicalKey()

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, Name):
            return NotImplemented
        return self._canonicalKey() >= other._canonicalKey()

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Name):
            return self.key == other.key
        return NotImplemented

    def __ne__(self, other: object) -> bool:
        if isinstance(other, Name):
            return self.key != other.key
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.key)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Name is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("Name is immutable")

    def __reduce__(self) -> tuple[Any, ...]:
        return (Name, (self.labels,))

    def __repr__(self) -> str:
        return f"Name({self.toText()!r})"

    def __str__(self) -> str:
        return self.toText()


def _labelText(label: bytes) -> str:
    if not label.translate(None, _NAME_SAFE):
        return label.decode("ascii")
    return "".join([_NAME_ESCAPES[octet] for octet in label])


def _splitEscaped(text: str) -> tuple[list[bytes], bool]:
    """
    Split a name's text at its unescaped dots.

    @return: the labels, unescaped (possibly empty ones, which the caller
        rejects), and whether the name is absolute.
    """
    labels: list[bytes] = []
    start = 0
    index = 0
    length = len(text)
    while index < length:
        char = text[index]
        if char == "\\":
            index += 2
        elif char == ".":
            labels.append(unescape(text[start:index]))
            start = index + 1
            index += 1
        else:
            index += 1
    if start < length:
        labels.append(unescape(text[start:]))
        return labels, False
    return labels, True


_setLabels = vars(Name)["_labels"].__set__
_setWire = vars(Name)["wire"].__set__
_setKey = vars(Name)["key"].__set__
_setSuffixes = vars(Name)["_suffixes"].__set__
_newObject = object.__new__


def _fromWire(wire: bytes) -> Name:
    """
    Make a name from an uncompressed wire form already checked, without
    checking it again.  Setting the slots through their descriptors skips
    L{Name.__setattr__}, which refuses every change.
    """
    self = _newObject(Name)
    _setWire(self, wire)
    _setKey(self, wire.lower())
    _setLabels(self, None)
    _setSuffixes(self, None)
    return self


#: The root name, C{"."}.
ROOT = Name()


class WireReader:
    """
    Reads DNS fields from a message (RFC 1035 section 4.1), never beyond
    C{end}.  Every method raises L{WireError}, and only L{WireError}, when
    the data is short or malformed.

    @ivar data: the whole message: compression pointers are offsets in it.
    @ivar pos: where the next field starts.
    @ivar end: the end of the readable data: the end of the message, or of
        the record data being read.
    @ivar pointers: whether names may contain compression pointers.  False
        for the record data of types whose names must not be compressed
        (RFC 3597 section 4), and for data with no message around it, as the
        generic text form of RFC 3597 section 5.
    """

    __slots__ = ("data", "pos", "end", "pointers")

    def __init__(self, data: bytes, pos: int = 0, end: int | None = None) -> None:
        self.data = data
        self.pos = pos
        self.end = len(data) if end is None else end
        self.pointers = True

    def take(self, count: int) -> int:
        """
        Skip C{count} octets.

        @return: where they start.
        @raise WireError: if fewer than C{count} octets are left.
        """
        pos = self.pos
        stop = pos + count
        if stop > self.end:
            raise WireError(f"{count} octets needed at offset {pos}, {self.end - pos} left")
        self.pos = stop
        return pos

    def readBytes(self, count: int) -> bytes:
        """
        @return: the next C{count} octets.
        @raise WireError: if fewer are left.
        """
        pos = self.take(count)
        return self.data[pos : pos + count]

    def readName(self) -> Name:
        """
        Read a name, following compression pointers (RFC 1035 section
        4.1.4).

        Stricter than RFC 1035, so that no packet can loop or make us work
        hard: the first pointer must point before the start of the name, and
        every further pointer before the place the previous one pointed to,
        so offsets only decrease; a name follows at most L{MAX_POINTERS}
        pointers.  Labels are at most 63 octets and the name at most 255
        (RFC 1035 section 2.3.4); the label types 0b01 and 0b10 are reserved
        (RFC 6891 section 5) and rejected.

        @raise WireError: if the name is malformed or runs past C{end}.
        """
        data = self.data
        end = self.end
        pos = start = limit = self.pos
        total = 1
        after = -1
        hops = 0
        pieces: list[bytes] = []
        while True:
            if pos >= end:
                raise WireError(f"name at offset {self.pos} runs past the end")
            length = data[pos]
            if length == 0:
                break
            if length <= MAX_LABEL:
                pos += length + 1
                total += length + 1
                if pos >= end:
                    raise WireError(f"label at offset {pos - length - 1} runs past the end")
                if total > MAX_NAME:
                    raise WireError(f"name at offset {self.pos} longer than {MAX_NAME} octets")
            elif length >= 0xC0:
                if not self.pointers:
                    raise WireError(f"compression pointer at offset {pos} where none may be")
                if pos + 1 >= end:
                    raise WireError(f"compression pointer at offset {pos} runs past the end")
                target = ((length & 0x3F) << 8) | data[pos + 1]
                if target >= limit:
                    raise WireError(f"compression pointer at offset {pos} does not point back")
                hops += 1
                if hops > MAX_POINTERS:
                    raise WireError(f"name at offset {self.pos} has too many pointers")
                if after < 0:
                    after = pos + 2
                pieces.append(data[start:pos])
                pos = start = limit = target
            else:
                raise WireError(f"reserved label type {length >> 6:#04b} at offset {pos}")
        if after < 0:
            self.pos = pos + 1
            if pos == start:
                return ROOT
            return _fromWire(data[start : pos + 1])
        self.pos = after
        pieces.append(data[start : pos + 1])
        return _fromWire(b"".join(pieces))


class WireWriter:
    """
    Builds a DNS message (RFC 1035 section 4.1), compressing names.

    The compression table maps the lower-cased wire form of every name
    suffix written so far (L{Name.key} slices) to its offset: one dict
    lookup per label finds the longest suffix already in the message.  A
    pointer repeats the case of the first occurrence, which RFC 4343 section
    4.1 allows.

    @ivar buf: the message so far.
    @ivar table: suffix key to offset, for offsets a pointer can reach
        (below 0x4000).
    @ivar compress: whether to compress at all.  Off for wire forms that
        stand alone, such as the generic text form of RFC 3597 section 5.
    """

    __slots__ = ("buf", "table", "compress")

    def __init__(self, compress: bool = True) -> None:
        self.buf = bytearray()
        self.table: dict[bytes, int] = {}
        self.compress = compress

    def writeName(self, name: Name, compress: bool = True) -> None:
        """
        Append C{name}.

        @param compress: whether it may end in a pointer to a suffix written
            before (RFC 1035 section 4.1.4), and be pointed to later.  False
            for names in record data that must stay uncompressed (RFC 2782,
            RFC 3597 section 4).
        """
        buf = self.buf
        if not (compress and self.compress):
            buf += name.wire
            return
        table = self.table
        base = len(buf)
        suffixes = name._suffixes
        if suffixes is not None:
            for offset, suffix in suffixes:
                pointer = table.get(suffix)
                if pointer is not None:
                    buf += name.wire[:offset]
                    buf.append(0xC0 | pointer >> 8)
                    buf.append(pointer & 0xFF)
                    return
                if base + offset < 0x4000:
                    table[suffix] = base + offset
        else:
            # The same walk, slicing the suffixes as it goes.
            key = name.key
            offset = 0
            length = key[0]
            while length:
                suffix = key[offset:]
                pointer = table.get(suffix)
                if pointer is not None:
                    buf += name.wire[:offset]
                    buf.append(0xC0 | pointer >> 8)
                    buf.append(pointer & 0xFF)
                    return
                if base + offset < 0x4000:
                    table[suffix] = base + offset
                offset += length + 1
                length = key[offset]
        buf += name.wire
