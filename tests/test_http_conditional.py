"""
Tests for L{netref.http.conditional}: HTTP dates, entity tags, the
precondition order of RFC 9110 section 13.2.2, and ranges (section 14).
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.trial.unittest import SynchronousTestCase

from netref.http.conditional import (
    ANY,
    UNSATISFIABLE,
    ByteRange,
    EntityTag,
    Validators,
    contentRangeUnsatisfied,
    evaluatePreconditions,
    formatHTTPDate,
    ifRangeHolds,
    multipartByteranges,
    parseEntityTag,
    parseEntityTagList,
    parseHTTPDate,
    selectRanges,
)
from netref.http.wire import Headers

#: Sun, 06 Nov 1994 08:49:37 GMT, RFC 9110 section 5.6.7's example.
EXAMPLE = 784111777


class HTTPDateTests(SynchronousTestCase):
    """
    The three HTTP-date forms (RFC 9110 section 5.6.7).
    """

    def test_format(self) -> None:
        self.assertEqual(formatHTTPDate(EXAMPLE), "Sun, 06 Nov 1994 08:49:37 GMT")
        self.assertEqual(formatHTTPDate(EXAMPLE + 0.9), "Sun, 06 Nov 1994 08:49:37 GMT")

    def test_threeForms(self) -> None:
        for text in (
            "Sun, 06 Nov 1994 08:49:37 GMT",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
            "  Sun, 06 Nov 1994 08:49:37 GMT ",
        ):
            self.assertEqual(parseHTTPDate(text), EXAMPLE, text)

    def test_rfc850Century(self) -> None:
        """
        A two-digit year more than 50 years ahead is in the past century.
        """
        now = parseHTTPDate("Sun, 01 Jan 2026 00:00:00 GMT")
        self.assertEqual(
            parseHTTPDate("Tuesday, 01-Jan-80 00:00:00 GMT", now),
            parseHTTPDate("Tue, 01 Jan 1980 00:00:00 GMT"),
        )
        self.assertEqual(
            parseHTTPDate("Friday, 01-Jan-75 00:00:00 GMT", now),
            parseHTTPDate("Fri, 01 Jan 2075 00:00:00 GMT"),
        )
        self.assertEqual(
            parseHTTPDate("Thursday, 01-Jan-30 00:00:00 GMT", now),
            parseHTTPDate("Tue, 01 Jan 2030 00:00:00 GMT"),
        )

    def test_invalid(self) -> None:
        for text in (
            "",
            "yesterday",
            "Sun, 06 Nov 1994 08:49:37 UTC",
            "Sun, 31 Feb 1994 08:49:37 GMT",
            "Sun, 06 Foo 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 25:49:37 GMT",
            "Sun, 6 Nov 1994 08:49:37 GMT",
            "1994-11-06T08:49:37Z",
        ):
            self.assertIsNone(parseHTTPDate(text), text)

    @given(st.integers(min_value=0, max_value=253402300799))
    def test_roundTrip(self, seconds: int) -> None:
        self.assertEqual(parseHTTPDate(formatHTTPDate(seconds)), seconds)


class EntityTagTests(SynchronousTestCase):
    """
    Entity tags and their two comparisons (RFC 9110 section 8.8.3.2).
    """

    def test_parse(self) -> None:
        self.assertEqual(parseEntityTag('"xyzzy"'), EntityTag('"xyzzy"'))
        self.assertEqual(parseEntityTag('W/"xyzzy"'), EntityTag('"xyzzy"', weak=True))
        self.assertEqual(parseEntityTag('""'), EntityTag('""'))
        for bad in ("xyzzy", '"a"b', 'w/"a"', '"a""b"', '"a'):
            self.assertIsNone(parseEntityTag(bad), bad)

    def test_comparisons(self) -> None:
        """
        RFC 9110 section 8.8.3.2's table.
        """
        w1, w2, s1 = EntityTag('"1"', True), EntityTag('"2"', True), EntityTag('"1"')
        self.assertFalse(w1.strongMatch(w1))
        self.assertTrue(w1.weakMatch(w1))
        self.assertFalse(w1.strongMatch(w2))
        self.assertFalse(w1.weakMatch(w2))
        self.assertFalse(w1.strongMatch(s1))
        self.assertTrue(w1.weakMatch(s1))
        self.assertTrue(s1.strongMatch(s1))

    def test_list(self) -> None:
        self.assertEqual(parseEntityTagList("*"), ANY)
        self.assertEqual(parseEntityTagList(" * "), ANY)
        self.assertEqual(
            parseEntityTagList('"a", W/"b",,"c"'),
            [EntityTag('"a"'), EntityTag('"b"', True), EntityTag('"c"')],
        )
        self.assertEqual(parseEntityTagList('"a",'), [EntityTag('"a"')])
        self.assertIsNone(parseEntityTagList("a, b"))
        self.assertIsNone(parseEntityTagList(""))
        self.assertIsNone(parseEntityTagList('"a" "b"'))

    @given(st.text())
    def test_listNeverRaises(self, value: str) -> None:
        result = parseEntityTagList(value)
        self.assertTrue(result is None or result == ANY or isinstance(result, list))


CURRENT = Validators(EntityTag('"v2"'), EXAMPLE)
BEFORE = formatHTTPDate(EXAMPLE - 60)
AT = formatHTTPDate(EXAMPLE)
AFTER = formatHTTPDate(EXAMPLE + 60)


def evaluate(method: str, current: Validators | None = CURRENT, **fields: str) -> int | None:
    headers = Headers([(name.replace("_", "-"), value) for name, value in fields.items()])
    return evaluatePreconditions(method, headers, current)


class PreconditionTests(SynchronousTestCase):
    """
    L{evaluatePreconditions} follows RFC 9110 section 13.2.2.
    """

    def test_none(self) -> None:
        self.assertIsNone(evaluate("GET"))

    def test_ifMatch(self) -> None:
        """
        Section 13.1.1: strong comparison; C{*} needs a current
        representation; false -> 412, for any method.
        """
        self.assertIsNone(evaluate("PUT", If_Match='"v1", "v2"'))
        self.assertEqual(evaluate("PUT", If_Match='"v1"'), 412)
        self.assertEqual(evaluate("GET", If_Match='W/"v2"'), 412)
        self.assertIsNone(evaluate("PUT", If_Match="*"))
        self.assertEqual(evaluate("PUT", None, If_Match="*"), 412)
        self.assertEqual(evaluate("PUT", If_Match="garbage"), 412)
        noTag = Validators(None, EXAMPLE)
        self.assertEqual(evaluate("PUT", noTag, If_Match='"v2"'), 412)

    def test_ifUnmodifiedSince(self) -> None:
        self.assertEqual(evaluate("PUT", If_Unmodified_Since=BEFORE), 412)
        self.assertIsNone(evaluate("PUT", If_Unmodified_Since=AT))
        self.assertIsNone(evaluate("PUT", If_Unmodified_Since=AFTER))
        # An invalid date, or a resource without one: ignored.
        self.assertIsNone(evaluate("PUT", If_Unmodified_Since="not a date"))
        self.assertIsNone(
            evaluate("PUT", Validators(EntityTag('"x"'), None), If_Unmodified_Since=BEFORE)
        )

    def test_ifMatchBeforeIfUnmodifiedSince(self) -> None:
        """
        With If-Match present, If-Unmodified-Since is not evaluated (step
        2 runs only without If-Match).
        """
        self.assertIsNone(evaluate("PUT", If_Match='"v2"', If_Unmodified_Since=BEFORE))

    def test_ifNoneMatch(self) -> None:
        """
        Section 13.1.2: weak comparison; false -> 304 for GET/HEAD, 412
        for other methods.
        """
        self.assertEqual(evaluate("GET", If_None_Match='"v2"'), 304)
        self.assertEqual(evaluate("HEAD", If_None_Match='W/"v2"'), 304)
        self.assertEqual(evaluate("GET", If_None_Match="*"), 304)
        self.assertEqual(evaluate("PUT", If_None_Match="*"), 412)
        self.assertEqual(evaluate("DELETE", If_None_Match='"v2"'), 412)
        self.assertIsNone(evaluate("GET", If_None_Match='"v1"'))
        self.assertIsNone(evaluate("PUT", None, If_None_Match="*"))

    def test_ifMatchBeforeIfNoneMatch(self) -> None:
        self.assertEqual(evaluate("GET", If_Match='"v1"', If_None_Match='"v2"'), 412)

    def test_ifModifiedSince(self) -> None:
        """
        Section 13.1.3: not modified since the date -> 304; GET and HEAD
        only; invalid dates ignored.
        """
        self.assertEqual(evaluate("GET", If_Modified_Since=AT), 304)
        self.assertEqual(evaluate("HEAD", If_Modified_Since=AFTER), 304)
        self.assertIsNone(evaluate("GET", If_Modified_Since=BEFORE))
        self.assertIsNone(evaluate("PUT", If_Modified_Since=AT))
        self.assertIsNone(evaluate("GET", If_Modified_Since="garbage"))

    def test_ifNoneMatchTakesPrecedence(self) -> None:
        """
        If-Modified-Since is ignored when If-None-Match is present, either
        way.
        """
        self.assertIsNone(evaluate("GET", If_None_Match='"v1"', If_Modified_Since=AT))
        self.assertEqual(evaluate("GET", If_None_Match='"v2"', If_Modified_Since=BEFORE), 304)

    def test_ifUnmodifiedSinceBeforeIfNoneMatch(self) -> None:
        self.assertEqual(evaluate("GET", If_Unmodified_Since=BEFORE, If_None_Match='"v2"'), 412)


class IfRangeTests(SynchronousTestCase):
    """
    If-Range (RFC 9110 section 13.1.5).
    """

    def test_entityTag(self) -> None:
        self.assertTrue(ifRangeHolds('"v2"', CURRENT))
        self.assertFalse(ifRangeHolds('"v1"', CURRENT))
        self.assertFalse(ifRangeHolds('W/"v2"', CURRENT))
        self.assertFalse(ifRangeHolds('"v2"', Validators(EntityTag('"v2"', True), EXAMPLE)))

    def test_date(self) -> None:
        self.assertTrue(ifRangeHolds(AT, CURRENT))
        self.assertFalse(ifRangeHolds(AFTER, CURRENT))
        self.assertFalse(ifRangeHolds(BEFORE, CURRENT))
        self.assertFalse(ifRangeHolds("garbage", CURRENT))
        self.assertFalse(ifRangeHolds(AT, Validators(EntityTag('"v2"'), None)))


class SelectRangesTests(SynchronousTestCase):
    """
    L{selectRanges} reads the Range field (RFC 9110 section 14.1.2).
    """

    def test_intRange(self) -> None:
        self.assertEqual(selectRanges("bytes=0-499", 10000), [ByteRange(0, 499)])
        self.assertEqual(selectRanges("bytes=500-999", 10000), [ByteRange(500, 999)])
        self.assertEqual(selectRanges("bytes=9500-", 10000), [ByteRange(9500, 9999)])
        self.assertEqual(selectRanges("bytes=9500-20000", 10000), [ByteRange(9500, 9999)])

    def test_suffix(self) -> None:
        self.assertEqual(selectRanges("bytes=-500", 10000), [ByteRange(9500, 9999)])
        self.assertEqual(selectRanges("bytes=-20000", 10000), [ByteRange(0, 9999)])

    def test_caseAndSpaces(self) -> None:
        self.assertEqual(selectRanges("Bytes = 0-0 , -1", 10000), None)
        self.assertEqual(
            selectRanges("BYTES=0-0, ,-1", 10000), [ByteRange(0, 0), ByteRange(9999, 9999)]
        )

    def test_multipleInOrder(self) -> None:
        self.assertEqual(
            selectRanges("bytes=5000-5099,0-99", 10000),
            [ByteRange(5000, 5099), ByteRange(0, 99)],
        )

    def test_coalesce(self) -> None:
        """
        Overlapping and nearly adjacent ranges are merged (section 14.2).
        """
        self.assertEqual(selectRanges("bytes=0-99,50-199,250-300", 10000), [ByteRange(0, 300)])
        self.assertEqual(
            selectRanges("bytes=500-599,0-99,0-9", 10000),
            [ByteRange(0, 99), ByteRange(500, 599)],
        )

    def test_unsatisfiable(self) -> None:
        self.assertIs(selectRanges("bytes=10000-", 10000), UNSATISFIABLE)
        self.assertIs(selectRanges("bytes=-0", 10000), UNSATISFIABLE)
        self.assertIs(selectRanges("bytes=0-0", 0), UNSATISFIABLE)
        self.assertIs(selectRanges("bytes=-5", 0), UNSATISFIABLE)
        self.assertEqual(selectRanges("bytes=20000-,0-0", 10000), [ByteRange(0, 0)])
        self.assertEqual(contentRangeUnsatisfied(10000), "bytes */10000")

    def test_ignored(self) -> None:
        for value in (
            "bytes=500-100",
            "bytes=",
            "bytes=a-b",
            "bytes=1-2-3",
            "bytes=--5",
            "bytes=0-5,x",
            "pages=1-2",
            "bytes 0-5",
            "bytes=1 - 2",
            "bytes=" + "9" * 30 + "-",
        ):
            self.assertIsNone(selectRanges(value, 10000), value)

    def test_tooMany(self) -> None:
        many = "bytes=" + ",".join(f"{i * 1000}-{i * 1000}" for i in range(17))
        self.assertIsNone(selectRanges(many, 100000))
        sixteen = "bytes=" + ",".join(f"{i * 1000}-{i * 1000}" for i in range(16))
        result = selectRanges(sixteen, 100000)
        assert isinstance(result, list)
        self.assertEqual(len(result), 16)

    @settings(max_examples=500)
    @given(st.text(), st.integers(min_value=0, max_value=2**40))
    def test_anyStringNeverRaises(self, value: str, length: int) -> None:
        """
        Any header value gives a decision, never an exception; satisfiable
        ranges lie within the representation and never overlap.
        """
        self.assertRangesSane(selectRanges(value, length), length)

    @settings(max_examples=500)
    @given(
        st.lists(
            st.one_of(
                st.tuples(st.integers(0, 3000), st.one_of(st.none(), st.integers(0, 3000))),
                st.tuples(st.none(), st.integers(0, 3000)),
            ),
            min_size=1,
            max_size=20,
        ),
        st.integers(min_value=0, max_value=2500),
    )
    def test_wellFormedRanges(
        self, specs: list[tuple[int | None, int | None]], length: int
    ) -> None:
        """
        Well-formed range sets: the selected ranges cover exactly the bytes
        asked for (after clipping), or the decision is 416 when none is
        satisfiable.
        """
        texts = []
        wanted: set[int] = set()
        invalid = False
        for first, last in specs:
            if first is None:
                assert last is not None
                texts.append(f"-{last}")
                wanted.update(range(max(0, length - last), length) if last else ())
            else:
                texts.append(f"{first}-" + ("" if last is None else str(last)))
                if last is not None and last < first:
                    invalid = True
                end = length - 1 if last is None else min(last, length - 1)
                wanted.update(range(first, end + 1))
        result = selectRanges("bytes=" + ",".join(texts), length)
        if invalid or len(specs) > 16:
            self.assertIsNone(result)
            return
        self.assertRangesSane(result, length)
        if not wanted:
            self.assertIs(result, UNSATISFIABLE)
            return
        assert isinstance(result, list)
        covered: set[int] = set()
        for r in result:
            covered.update(range(r.first, r.last + 1))
        # Coalescing may fill small gaps, never go beyond what is asked
        # by more than the gap.
        self.assertTrue(wanted <= covered)
        self.assertTrue(min(covered) == min(wanted) and max(covered) == max(wanted))

    def assertRangesSane(self, result: object, length: int) -> None:
        if result is None or result is UNSATISFIABLE:
            return
        assert isinstance(result, list)
        self.assertTrue(1 <= len(result) <= 16)
        for r in result:
            self.assertIsInstance(r, ByteRange)
            self.assertTrue(0 <= r.first <= r.last < length, (r, length))
        ordered = sorted(result, key=lambda r: r.first)
        for earlier, later in zip(ordered, ordered[1:], strict=False):
            self.assertGreater(later.first, earlier.last)


class MultipartTests(SynchronousTestCase):
    """
    The multipart/byteranges layout (RFC 9110 section 14.6).
    """

    def test_layout(self) -> None:
        parts = list(
            multipartByteranges(
                [ByteRange(0, 50), ByteRange(500, 1000)], "image/gif", 1234, "THIS_STRING"
            )
        )
        self.assertEqual(
            parts,
            [
                b"--THIS_STRING\r\nContent-Type: image/gif\r\n"
                b"Content-Range: bytes 0-50/1234\r\n\r\n",
                ByteRange(0, 50),
                b"\r\n--THIS_STRING\r\nContent-Type: image/gif\r\n"
                b"Content-Range: bytes 500-1000/1234\r\n\r\n",
                ByteRange(500, 1000),
                b"\r\n--THIS_STRING--\r\n",
            ],
        )

    def test_parsedByEmail(self) -> None:
        """
        An independent MIME parser (the stdlib's email package) reads the
        body back into the parts.
        """
        import email.parser
        import email.policy

        data = bytes(range(65, 91)) * 40
        ranges = [ByteRange(10, 19), ByteRange(700, 703)]
        body = b"".join(
            p if isinstance(p, bytes) else data[p.first : p.last + 1]
            for p in multipartByteranges(ranges, "application/octet-stream", len(data), "b0und")
        )
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            b"Content-Type: multipart/byteranges; boundary=b0und\r\n\r\n" + body
        )
        parts = list(message.iter_parts())
        self.assertEqual(
            [p["Content-Range"] for p in parts], ["bytes 10-19/1040", "bytes 700-703/1040"]
        )
        self.assertEqual([p.get_payload(decode=True) for p in parts], [data[10:20], data[700:704]])
