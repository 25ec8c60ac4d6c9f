"""
Property tests for L{netref.http.wire} (hypothesis): what the serializers
write parses back exactly, for requests and responses with Content-Length,
chunked with trailers, and close-delimited bodies; the events do not depend
on how the bytes are split into reads; and random or mutated bytes only
ever give events or L{HTTPError}.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from twisted.trial.unittest import SynchronousTestCase

from netref.http.wire import (
    ClientConnection,
    ConnectionClosed,
    Data,
    EndOfMessage,
    Event,
    Headers,
    HTTPError,
    Request,
    Response,
    ServerConnection,
)
from tests.http_strategies import (
    RawMessage,
    bodies,
    fieldLists,
    rawRequests,
    rawResponses,
    requests,
    responses,
    splits,
)

_EVENTS = (Request, Response, Data, EndOfMessage, ConnectionClosed)
_FRAMING = {b"content-length", b"transfer-encoding", b"connection"}


def merged(events: list[Event]) -> list[Event]:
    """
    C{events} with consecutive L{Data} joined: how a body is cut into
    events is not part of its meaning.
    """
    out: list[Event] = []
    for event in events:
        if isinstance(event, Data) and out and isinstance(out[-1], Data):
            out[-1] = Data(out[-1].data + event.data)
        elif isinstance(event, Data) and not event.data:
            continue
        else:
            out.append(event)
    return out


def feed(connection: ServerConnection | ClientConnection, pieces: list[bytes]) -> list[Event]:
    events: list[Event] = []
    for piece in pieces:
        events += connection.receiveData(piece)
    return events


def withoutFraming(headers: Headers) -> list[tuple[bytes, bytes]]:
    return [(n.lower(), v) for n, v in headers if n.lower() not in _FRAMING]


def bodyOf(events: list[Event]) -> bytes:
    return b"".join(e.data for e in events if isinstance(e, Data))


class RoundTripTests(SynchronousTestCase):
    """
    Serializer output parses back exactly.
    """

    @given(requests(), st.one_of(st.none(), bodies))
    @settings(max_examples=300)
    def test_requestContentLength(self, request: Request, body: bytes | None) -> None:
        """
        A request sent with sendRequest is received as sent.
        """
        data = ClientConnection().sendRequest(request, body)
        events = merged(ServerConnection().receiveData(data))
        received = events[0]
        assert isinstance(received, Request)
        self.assertEqual(
            (received.method, received.target, received.version),
            (request.method, request.target, request.version),
        )
        self.assertEqual(withoutFraming(received.headers), withoutFraming(request.headers))
        self.assertEqual(bodyOf(events), body or b"")
        self.assertIsInstance(events[-1], EndOfMessage)

    @given(requests(b"1.1"), st.lists(bodies), fieldLists)
    @settings(max_examples=300)
    def test_requestChunked(
        self, request: Request, pieces: list[bytes], trailers: list[tuple[bytes, bytes]]
    ) -> None:
        """
        A chunked upload with trailers is received as sent.
        """
        client = ClientConnection()
        data = client.startRequest(request)
        data += b"".join(client.sendData(p) for p in pieces)
        data += client.endRequest(Headers(trailers))
        events = merged(ServerConnection().receiveData(data))
        self.assertEqual(bodyOf(events), b"".join(pieces))
        end = events[-1]
        assert isinstance(end, EndOfMessage)
        self.assertEqual(end.trailers, Headers(trailers))

    @given(responses(), bodies)
    @settings(max_examples=300)
    def test_responseContentLength(self, response: Response, body: bytes) -> None:
        """
        A response framed by sendResponse is received as sent.
        """
        server = ServerConnection()
        server.receiveData(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        data = server.sendResponse(response, body)
        client = ClientConnection()
        client.sendRequest(Request(b"GET", b"/", Headers([("Host", "a")])))
        events = merged(client.receiveData(data))
        received = events[0]
        assert isinstance(received, Response)
        self.assertEqual(received.status, response.status)
        if response.reason:
            self.assertEqual(received.reason, response.reason)
        self.assertEqual(withoutFraming(received.headers), withoutFraming(response.headers))
        self.assertEqual(bodyOf(events), body)
        self.assertIsInstance(events[-1], EndOfMessage)
        self.assertEqual(client.keepAlive, server.keepAlive)

    @given(responses(), st.lists(bodies), fieldLists)
    @settings(max_examples=300)
    def test_responseChunked(
        self, response: Response, pieces: list[bytes], trailers: list[tuple[bytes, bytes]]
    ) -> None:
        """
        A streamed response to HTTP/1.1 (chunked, with trailers) is received
        as sent.
        """
        server = ServerConnection()
        server.receiveData(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        data = server.startResponse(response)
        data += b"".join(server.sendData(p) for p in pieces)
        data += server.endResponse(Headers(trailers))
        client = ClientConnection()
        client.sendRequest(Request(b"GET", b"/", Headers([("Host", "a")])))
        events = merged(client.receiveData(data))
        self.assertEqual(bodyOf(events), b"".join(pieces))
        end = events[-1]
        assert isinstance(end, EndOfMessage)
        self.assertEqual(end.trailers, Headers(trailers))
        self.assertTrue(client.keepAlive)

    @given(responses(), st.lists(bodies))
    @settings(max_examples=200)
    def test_responseCloseDelimited(self, response: Response, pieces: list[bytes]) -> None:
        """
        A streamed response to HTTP/1.0 is close-delimited: received whole
        at EOF.
        """
        server = ServerConnection()
        server.receiveData(b"GET / HTTP/1.0\r\n\r\n")
        data = server.startResponse(response)
        data += b"".join(server.sendData(p) for p in pieces)
        data += server.endResponse()
        self.assertFalse(server.keepAlive)
        client = ClientConnection()
        client.sendRequest(Request(b"GET", b"/", Headers(), b"1.0"))
        events = merged(client.receiveData(data) + client.receiveData(b""))
        self.assertEqual(bodyOf(events), b"".join(pieces))
        self.assertIsInstance(events[-1], EndOfMessage)
        self.assertFalse(client.keepAlive)


class SplitTests(SynchronousTestCase):
    """
    The events do not depend on where the bytes are cut into reads.
    """

    @given(st.lists(rawRequests(), min_size=1, max_size=3), st.data())
    @settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
    def test_requestsRandomSplits(self, messages: list[RawMessage], data: st.DataObject) -> None:
        """
        Pipelined requests parse the same at once and split at random.
        """
        stream = b"".join(m.data for m in messages)
        whole = merged(ServerConnection().receiveData(stream))
        pieces = data.draw(splits(stream))
        self.assertEqual(merged(feed(ServerConnection(), pieces)), whole)

    @given(rawRequests())
    @settings(max_examples=100)
    def test_requestEveryPoint(self, message: RawMessage) -> None:
        """
        A request parses the same split in two at every point, and as the
        strategy says it should.
        """
        whole = merged(ServerConnection().receiveData(message.data))
        self.assertEqual(whole[0], message.head)
        self.assertEqual(bodyOf(whole), message.body)
        end = whole[-1]
        assert isinstance(end, EndOfMessage)
        self.assertEqual(end.trailers, Headers(message.trailers))
        for i in range(1, len(message.data)):
            pieces = [message.data[:i], message.data[i:]]
            self.assertEqual(merged(feed(ServerConnection(), pieces)), whole, i)

    @given(st.lists(rawResponses(allowEOF=False), min_size=1, max_size=3), st.data())
    @settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
    def test_responsesRandomSplits(self, messages: list[RawMessage], data: st.DataObject) -> None:
        """
        Pipelined responses parse the same at once and split at random, and
        as the strategy says they should.
        """
        stream = b"".join(m.data for m in messages)

        def client() -> ClientConnection:
            c = ClientConnection()
            for _ in messages:
                c.sendRequest(Request(b"GET", b"/", Headers([("Host", "a")])))
            return c

        whole = merged(client().receiveData(stream))
        heads = [e for e in whole if isinstance(e, Response)]
        self.assertEqual(heads, [m.head for m in messages])
        pieces = data.draw(splits(stream))
        self.assertEqual(merged(feed(client(), pieces)), whole)

    @given(rawResponses())
    @settings(max_examples=100)
    def test_responseEveryPoint(self, message: RawMessage) -> None:
        """
        A response (close-delimited ones too) parses the same split in two
        at every point.
        """

        def parse(pieces: list[bytes]) -> list[Event]:
            c = ClientConnection()
            c.sendRequest(Request(b"GET", b"/", Headers([("Host", "a")])))
            return merged(feed(c, [*pieces, b""]))

        whole = parse([message.data])
        self.assertEqual(bodyOf(whole), message.body)
        for i in range(1, len(message.data)):
            self.assertEqual(parse([message.data[:i], message.data[i:]]), whole, i)


def _mutate(data: bytes, edits: list[tuple[int, int, bytes]]) -> bytes:
    out = bytearray(data)
    for kind, where, what in edits:
        if not out:
            out += what
            continue
        i = where % len(out)
        if kind == 0:
            out[i : i + 1] = what
        elif kind == 1:
            out[i:i] = what
        else:
            del out[i : i + len(what) + 1]
    return bytes(out)


_edits = st.lists(
    st.tuples(
        st.integers(0, 2),
        st.integers(0, 10**6),
        st.one_of(
            st.binary(min_size=1, max_size=3),
            st.sampled_from([b"\r", b"\n", b"\r\n", b" ", b"\t", b":", b"0", b";", b",", b"\x00"]),
        ),
    ),
    min_size=1,
    max_size=4,
)


class RobustnessTests(SynchronousTestCase):
    """
    Random and mutated bytes give events or L{HTTPError}, nothing else.
    """

    def survive(
        self, connection: ServerConnection | ClientConnection, pieces: list[bytes]
    ) -> None:
        try:
            for piece in pieces:
                for event in connection.receiveData(piece):
                    self.assertIsInstance(event, _EVENTS)
            connection.receiveData(b"")
        except HTTPError as e:
            self.assertIn(e.status, {400, 413, 414, 431, 501, 505})

    @given(st.binary(max_size=500), st.data())
    @settings(max_examples=500)
    def test_randomBytesServer(self, data: bytes, draw: st.DataObject) -> None:
        """
        The server side survives random bytes, whole or split.
        """
        self.survive(ServerConnection(), [data])
        self.survive(ServerConnection(), draw.draw(splits(data)))

    @given(st.binary(max_size=500))
    @settings(max_examples=500)
    def test_randomBytesClient(self, data: bytes) -> None:
        """
        The client side survives random bytes.
        """
        c = ClientConnection()
        c.sendRequest(Request(b"GET", b"/", Headers([("Host", "a")])))
        self.survive(c, [data])

    @given(rawRequests(), _edits, st.data())
    @settings(max_examples=1000)
    def test_mutatedRequests(
        self, message: RawMessage, edits: list[tuple[int, int, bytes]], draw: st.DataObject
    ) -> None:
        """
        Valid requests with bytes changed, inserted or removed.
        """
        data = _mutate(message.data, edits)
        self.survive(ServerConnection(), [data])
        self.survive(ServerConnection(), draw.draw(splits(data)))

    @given(rawResponses(), _edits)
    @settings(max_examples=1000)
    def test_mutatedResponses(
        self, message: RawMessage, edits: list[tuple[int, int, bytes]]
    ) -> None:
        """
        Valid responses with bytes changed, inserted or removed.
        """
        c = ClientConnection()
        c.sendRequest(Request(b"GET", b"/", Headers([("Host", "a")])))
        self.survive(c, [_mutate(message.data, edits)])
