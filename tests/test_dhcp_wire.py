"""
Tests for L{netref.dhcp.wire}: the DHCP message and its options.
"""

from __future__ import annotations

import struct

from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.trial.unittest import SynchronousTestCase

from netref.dhcp.wire import (
    BOOTREPLY,
    BOOTREQUEST,
    BROADCAST_FLAG,
    FIXED_SIZE,
    MAGIC_COOKIE,
    MIN_PACKET_SIZE,
    MessageType,
    Option,
    Packet,
    WireError,
    addressesValue,
    decodePacket,
    decodeRelayAgentInformation,
    encodeOptionsLast,
    encodePacket,
    encodeRelayAgentInformation,
    secondsValue,
)

CHADDR = bytes.fromhex("00163e112233")

addresses = st.integers(0, 2**32 - 1).map(
    lambda n: ".".join(str((n >> s) & 255) for s in (24, 16, 8, 0))
)


def _optionValue(code: int) -> st.SearchStrategy[bytes]:
    """
    A valid value for option C{code}.
    """
    if code in (
        Option.SUBNET_MASK,
        Option.BROADCAST_ADDRESS,
        Option.REQUESTED_ADDRESS,
        Option.SERVER_IDENTIFIER,
    ):
        return st.binary(min_size=4, max_size=4)
    if code in (Option.ROUTER, Option.DOMAIN_NAME_SERVER):
        return st.integers(1, 20).flatmap(lambda n: st.binary(min_size=4 * n, max_size=4 * n))
    if code in (Option.LEASE_TIME, Option.RENEWAL_TIME, Option.REBINDING_TIME):
        return st.binary(min_size=4, max_size=4)
    if code == Option.MESSAGE_TYPE:
        return st.sampled_from(list(MessageType)).map(lambda t: bytes([t]))
    if code == Option.PARAMETER_REQUEST_LIST:
        return st.binary(min_size=1, max_size=255)
    if code == Option.CLIENT_IDENTIFIER:
        return st.binary(min_size=2, max_size=40)
    if code in (Option.DOMAIN_NAME, Option.HOST_NAME, Option.MESSAGE):
        return st.binary(min_size=1, max_size=300)
    if code == Option.RELAY_AGENT_INFORMATION:
        return st.lists(st.tuples(st.integers(0, 255), st.binary(max_size=30)), min_size=1).map(
            encodeRelayAgentInformation
        )
    return st.binary(max_size=300)


optionCodes = st.one_of(
    st.sampled_from(
        [
            int(c)
            for c in Option
            if c not in (Option.PAD, Option.END, Option.OVERLOAD, Option.MAX_MESSAGE_SIZE)
        ]
    ),
    st.integers(1, 254).filter(lambda c: c not in Option._value2member_map_),
)


@st.composite
def packets(draw: st.DrawFn) -> Packet:
    """
    Valid packets, options of every kind, some longer than 255 octets.
    """
    codes = draw(st.lists(optionCodes, unique=True, max_size=8))
    options = tuple((code, draw(_optionValue(code))) for code in codes)
    return Packet(
        op=draw(st.sampled_from([BOOTREQUEST, BOOTREPLY])),
        xid=draw(st.integers(0, 2**32 - 1)),
        chaddr=draw(st.binary(max_size=16)),
        htype=draw(st.integers(0, 255)),
        hops=draw(st.integers(0, 255)),
        secs=draw(st.integers(0, 65535)),
        flags=draw(st.integers(0, 65535)),
        ciaddr=draw(addresses),
        yiaddr=draw(addresses),
        siaddr=draw(addresses),
        giaddr=draw(addresses),
        sname=draw(st.binary(max_size=63).map(lambda b: b.replace(b"\0", b"x"))),
        file=draw(st.binary(max_size=127).map(lambda b: b.replace(b"\0", b"x"))),
        options=options,
    )


def discover(**changes: object) -> Packet:
    """
    A DHCPDISCOVER as a client sends it.
    """
    fields: dict[str, object] = dict(
        op=BOOTREQUEST,
        xid=0x3903F326,
        chaddr=CHADDR,
        flags=BROADCAST_FLAG,
        options=(
            (Option.MESSAGE_TYPE, bytes([MessageType.DISCOVER])),
            (Option.PARAMETER_REQUEST_LIST, bytes([1, 3, 6, 15])),
        ),
    )
    fields.update(changes)
    return Packet(**fields)  # type: ignore[arg-type]


def rawPacket(options: bytes, file: bytes = b"", sname: bytes = b"") -> bytes:
    """
    A BOOTREQUEST with the given raw options area (no END added).
    """
    fixed = struct.pack(
        "!BBBBIHH4s4s4s4s16s64s128s",
        1, 1, 6, 0, 1, 0, 0, b"\0" * 4, b"\0" * 4, b"\0" * 4, b"\0" * 4,
        CHADDR.ljust(16, b"\0"), sname.ljust(64, b"\0"), file.ljust(128, b"\0"),
    )  # fmt: skip
    return fixed + MAGIC_COOKIE + options


class EncodingTests(SynchronousTestCase):
    """
    The layout of RFC 2131 figure 1.
    """

    def test_layout(self) -> None:
        data = encodePacket(discover(ciaddr="10.0.0.5", giaddr="10.1.0.1", hops=1))
        self.assertEqual(data[0], BOOTREQUEST)
        self.assertEqual(data[1:4], bytes([1, 6, 1]))
        self.assertEqual(data[4:8], bytes.fromhex("3903f326"))
        self.assertEqual(data[10:12], b"\x80\x00")
        self.assertEqual(data[12:16], bytes([10, 0, 0, 5]))
        self.assertEqual(data[24:28], bytes([10, 1, 0, 1]))
        self.assertEqual(data[28:34], CHADDR)
        self.assertEqual(data[FIXED_SIZE : FIXED_SIZE + 4], bytes([99, 130, 83, 99]))
        self.assertEqual(data[240:243], bytes([53, 1, 1]))

    def test_paddedToMinimum(self) -> None:
        """
        RFC 1542 section 2.1: BOOTP messages are at least 300 octets.
        """
        self.assertEqual(len(encodePacket(discover())), MIN_PACKET_SIZE)

    def test_longOptionSplit(self) -> None:
        """
        RFC 3396: a value over 255 octets becomes several instances, which
        the decoder joins.
        """
        name = b"x" * 300
        packet = discover().withOption(Option.DOMAIN_NAME, name)
        data = encodePacket(packet)
        self.assertIn(bytes([15, 255]) + b"x" * 255 + bytes([15, 45]), data)
        self.assertEqual(decodePacket(data).domainName, "x" * 300)

    def test_overload(self) -> None:
        """
        Options that do not fit in 576 octets go to C{file} and C{sname}
        with the overload option (RFC 2132 section 9.3).
        """
        packet = discover(
            options=(
                (Option.MESSAGE_TYPE, bytes([MessageType.ACK])),
                (200, b"a" * 200),
                (201, b"b" * 100),
                (202, b"c" * 100),
                (203, b"d" * 50),
            )
        )
        data = encodePacket(packet)
        self.assertLessEqual(len(data), 576)
        self.assertIn(bytes([Option.OVERLOAD, 1, 3]), data)
        self.assertEqual(decodePacket(data), packet)

    def test_doesNotFit(self) -> None:
        packet = discover(options=tuple((200 + i, b"z" * 250) for i in range(6)))
        self.assertRaises(WireError, encodePacket, packet)

    def test_relayAgentInformation(self) -> None:
        value = encodeRelayAgentInformation([(1, b"eth0"), (2, b"router")])
        self.assertEqual(value, b"\x01\x04eth0\x02\x06router")
        self.assertEqual(decodeRelayAgentInformation(value), [(1, b"eth0"), (2, b"router")])
        packet = encodeOptionsLast(discover(), Option.RELAY_AGENT_INFORMATION, value)
        data = encodePacket(packet)
        # Last option, right before END (RFC 3046 section 2.1).
        self.assertIn(bytes([82, len(value)]) + value + bytes([255]), data)
        self.assertEqual(decodePacket(data).relayAgentInformation, [(1, b"eth0"), (2, b"router")])


class AccessorTests(SynchronousTestCase):
    """
    The typed views of the options.
    """

    def test_accessors(self) -> None:
        packet = Packet(
            op=BOOTREPLY,
            options=(
                (Option.MESSAGE_TYPE, bytes([MessageType.OFFER])),
                (Option.SERVER_IDENTIFIER, addressesValue(["10.0.0.1"])),
                (Option.SUBNET_MASK, addressesValue(["255.255.255.0"])),
                (Option.ROUTER, addressesValue(["10.0.0.1", "10.0.0.2"])),
                (Option.DOMAIN_NAME_SERVER, addressesValue(["10.0.0.53"])),
                (Option.DOMAIN_NAME, b"someschool.edu"),
                (Option.LEASE_TIME, secondsValue(3600)),
                (Option.RENEWAL_TIME, secondsValue(1800)),
                (Option.REBINDING_TIME, secondsValue(3150)),
                (Option.REQUESTED_ADDRESS, addressesValue(["10.0.0.7"])),
                (Option.CLIENT_IDENTIFIER, b"\x01" + CHADDR),
            ),
        )
        packet = decodePacket(encodePacket(packet))
        self.assertEqual(packet.messageType, MessageType.OFFER)
        self.assertEqual(packet.serverIdentifier, "10.0.0.1")
        self.assertEqual(packet.subnetMask, "255.255.255.0")
        self.assertEqual(packet.routers, ["10.0.0.1", "10.0.0.2"])
        self.assertEqual(packet.dnsServers, ["10.0.0.53"])
        self.assertEqual(packet.domainName, "someschool.edu")
        self.assertEqual(
            (packet.leaseTime, packet.renewalTime, packet.rebindingTime), (3600, 1800, 3150)
        )
        self.assertEqual(packet.requestedAddress, "10.0.0.7")
        self.assertEqual(packet.clientKey(), "id:01" + CHADDR.hex())
        self.assertIn("DHCPOFFER", packet.summary())
        self.assertIn("lease 3600s", packet.summary())

    def test_clientKeyWithoutIdentifier(self) -> None:
        self.assertEqual(discover().clientKey(), "hw:1:" + CHADDR.hex())

    def test_withOptionKeepsPlace(self) -> None:
        packet = discover().withOption(Option.MESSAGE_TYPE, bytes([MessageType.REQUEST]))
        self.assertEqual(packet.options[0][0], Option.MESSAGE_TYPE)
        self.assertEqual(packet.messageType, MessageType.REQUEST)

    def test_bootp(self) -> None:
        self.assertIsNone(Packet().messageType)
        self.assertTrue(Packet().summary().startswith("BOOTP"))


class MalformedTests(SynchronousTestCase):
    """
    Hostile and truncated packets raise L{WireError}, and only that.
    """

    def test_tooShort(self) -> None:
        self.assertRaises(WireError, decodePacket, encodePacket(discover())[:239])

    def test_noCookie(self) -> None:
        data = bytearray(encodePacket(discover()))
        data[236] = 0
        self.assertRaises(WireError, decodePacket, bytes(data))

    def test_badOp(self) -> None:
        data = bytearray(encodePacket(discover()))
        data[0] = 3
        self.assertRaises(WireError, decodePacket, bytes(data))

    def test_hardwareAddressTooLong(self) -> None:
        data = bytearray(encodePacket(discover()))
        data[2] = 17
        self.assertRaises(WireError, decodePacket, bytes(data))

    def test_optionPastTheEnd(self) -> None:
        self.assertRaises(WireError, decodePacket, rawPacket(bytes([53, 1, 1, 12, 200]) + b"ab"))

    def test_optionWithoutLength(self) -> None:
        self.assertRaises(WireError, decodePacket, rawPacket(bytes([53, 1, 1, 12])))

    def test_overloadLoop(self) -> None:
        """
        An overload option in C{file} would send the reader round again.
        """
        file = bytes([Option.OVERLOAD, 1, 1, 255])
        data = rawPacket(bytes([53, 1, 1, Option.OVERLOAD, 1, 1, 255]), file=file)
        self.assertRaises(WireError, decodePacket, data)

    def test_overloadTwice(self) -> None:
        data = rawPacket(bytes([53, 1, 1, 52, 1, 1, 52, 1, 2, 255]))
        self.assertRaises(WireError, decodePacket, data)

    def test_badOverloadValue(self) -> None:
        self.assertRaises(WireError, decodePacket, rawPacket(bytes([52, 1, 4, 255])))

    def test_giantParameterRequestList(self) -> None:
        """
        RFC 3396 concatenation could make a parameter request list of any
        size; more than 255 codes is refused.
        """
        options = bytes([55, 255]) + bytes(range(1, 256)) + bytes([55, 10]) + bytes(10)
        self.assertRaises(WireError, decodePacket, rawPacket(options + bytes([255])))

    def test_badFixedOptions(self) -> None:
        for options in (
            bytes([53, 1, 9]),  # no such message type
            bytes([53, 2, 1, 1]),
            bytes([54, 3, 1, 2, 3]),  # server identifier of 3 octets
            bytes([3, 5, 1, 2, 3, 4, 5]),  # router list not a multiple of 4
            bytes([51, 2, 0, 1]),  # lease time of 2 octets
            bytes([57, 2, 0, 1]),  # maximum message size under 576
            bytes([61, 1, 1]),  # client identifier of 1 octet
            bytes([82, 3, 1, 5, 0]),  # option 82 sub-option past its end
        ):
            self.assertRaises(WireError, decodePacket, rawPacket(options + bytes([255])))

    def test_tooLong(self) -> None:
        self.assertRaises(WireError, decodePacket, rawPacket(bytes(5000)))

    def test_noEndIsAccepted(self) -> None:
        """
        A missing END is tolerated: the options area simply ends.
        """
        packet = decodePacket(rawPacket(bytes([53, 1, 1])))
        self.assertEqual(packet.messageType, MessageType.DISCOVER)


_mutations = st.lists(
    st.tuples(st.integers(0, 600), st.integers(0, 255), st.integers(0, 2)), max_size=8
)


def mutate(data: bytes, mutations: list[tuple[int, int, int]]) -> bytes:
    """
    Change, insert or delete octets.
    """
    out = bytearray(data)
    for where, value, how in mutations:
        if not out:
            break
        i = where % len(out)
        if how == 0:
            out[i] = value
        elif how == 1:
            out.insert(i, value)
        else:
            del out[i]
    return bytes(out)


class PropertyTests(SynchronousTestCase):
    """
    Round trips are exact; any octets raise only L{WireError}.
    """

    def assertOnlyWireError(self, data: bytes) -> None:
        try:
            packet = decodePacket(data)
        except WireError:
            return
        # What decodes, encodes (with room to spare) and decodes the same.
        self.assertEqual(decodePacket(encodePacket(packet, maxSize=4096)), packet)
        packet.summary()

    @given(packets())
    @settings(max_examples=300)
    def test_roundTrip(self, packet: Packet) -> None:
        try:
            data = encodePacket(packet)
        except WireError:
            # Too many options for 576 octets even with overload, or file
            # and sname already in use: then a bigger message must do.
            data = encodePacket(packet, maxSize=4096)
        self.assertEqual(decodePacket(data), packet)

    @given(st.binary(max_size=700))
    @settings(max_examples=300)
    def test_randomBytes(self, data: bytes) -> None:
        self.assertOnlyWireError(data)

    @given(st.binary(max_size=400))
    @settings(max_examples=500)
    def test_randomOptions(self, options: bytes) -> None:
        """
        Random octets after a valid header and cookie, so that the option
        reader gets to work.
        """
        self.assertOnlyWireError(rawPacket(options))

    @given(packets(), _mutations)
    @settings(max_examples=300)
    def test_mutatedPackets(self, packet: Packet, mutations: list[tuple[int, int, int]]) -> None:
        self.assertOnlyWireError(mutate(encodePacket(packet, maxSize=4096), mutations))
