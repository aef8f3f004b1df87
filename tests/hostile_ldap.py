"""A loopback LDAP peer of the tests' own, for what no real directory does: it accepts any bind, then answers
each search as the test scripts it (entries of its choosing, garbage, a stream that never ends), at full speed
or dripped a byte at a time.

It speaks just enough BER (X.690) to frame the requests it is sent and to build the answers it gives.
"""
import socketserver
import threading
import time
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field

BIND_REQUEST, UNBIND_REQUEST, SEARCH_REQUEST = 0x60, 0x42, 0x63
BIND_RESPONSE, SEARCH_ENTRY, SEARCH_DONE = 0x61, 0x64, 0x65
SEQUENCE, SET, INTEGER, OCTET_STRING, ENUMERATED = 0x30, 0x31, 0x02, 0x04, 0x0A
BASE, SUBTREE = 0, 2


def ber(tag: int, content: bytes) -> bytes:
    """One BER element: its tag, its length (short or long form) and its content."""
    if len(content) < 0x80:
        return bytes([tag, len(content)]) + content
    length = len(content).to_bytes((len(content).bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(length)]) + length + content


def octets(value: bytes | str) -> bytes:
    return ber(OCTET_STRING, value.encode() if isinstance(value, str) else value)


def message(message_id: int, operation: bytes) -> bytes:
    return ber(SEQUENCE, ber(INTEGER, message_id.to_bytes(4, "big")) + operation)


def result(tag: int, message_id: int, code: int = 0) -> bytes:
    return message(message_id, ber(tag, ber(ENUMERATED, bytes([code])) + octets("") + octets("")))


def entry(message_id: int, dn: bytes | str, attributes: dict[str, list[bytes | str]]) -> bytes:
    """A searchResultEntry: ``dn`` and each attribute's values, given as they are to be sent."""
    listed = b"".join(ber(SEQUENCE, octets(name) + ber(SET, b"".join(octets(value) for value in values)))
                      for name, values in attributes.items())
    return message(message_id, ber(SEARCH_ENTRY, octets(dn) + ber(SEQUENCE, listed)))


def done(message_id: int, code: int = 0) -> bytes:
    return result(SEARCH_DONE, message_id, code)


@dataclass(frozen=True)
class Search:
    message_id: int
    base: str
    scope: int
    attributes: tuple[str, ...] = ()  # the attributes asked for, as asked


def parse(element: bytes, at: int = 0) -> tuple[int, bytes, int]:
    """The tag and content of the BER element at ``at``, and where the next one starts."""
    tag, first = element[at], element[at + 1]
    if first < 0x80:
        start, length = at + 2, first
    else:
        octet_count = first & 0x7F
        start, length = at + 2 + octet_count, int.from_bytes(element[at + 2:at + 2 + octet_count], "big")
    return tag, element[start:start + length], start + length


def attributes(listed: bytes) -> tuple[str, ...]:
    """The octet strings of a SEQUENCE OF, as text."""
    found, at = [], 0
    while at < len(listed):
        _, value, at = parse(listed, at)
        found.append(value.decode())
    return tuple(found)


def read_message(reader) -> bytes | None:
    """One whole LDAPMessage from the stream, or None when the client has gone."""
    head = reader.read(2)
    if len(head) < 2:
        return None
    extra = reader.read(head[1] & 0x7F) if head[1] & 0x80 else b""
    length = int.from_bytes(extra, "big") if extra else head[1]
    return head + extra + reader.read(length)


@dataclass
class Peer:
    url: str
    searches: list[Search] = field(default_factory=list)  # in the order they came
    hung_up: threading.Event = field(default_factory=threading.Event)  # a client left while it was answered


# What the peer answers a search: the byte strings to send, one after another.
Script = Callable[[Search], Iterable[bytes]]


@contextmanager
def hostile_directory(script: Script, drip_seconds: float = 0):
    """Yields a ``Peer`` that binds anyone and answers each search with what ``script`` gives; with
    ``drip_seconds``, a byte at a time, that many seconds apart."""
    peer = Peer("")

    class Handler(socketserver.StreamRequestHandler):
        def handle(self):
            try:
                while request := read_message(self.rfile):
                    _, body, _ = parse(request)
                    _, identifier, after = parse(body)
                    message_id = int.from_bytes(identifier, "big")
                    tag, operation, _ = parse(body, after)
                    if tag == BIND_REQUEST:
                        self.send(result(BIND_RESPONSE, message_id))
                    elif tag == SEARCH_REQUEST:
                        _, base, after = parse(operation)
                        _, scope, after = parse(operation, after)
                        for _ in range(5):  # derefAliases, sizeLimit, timeLimit, typesOnly, filter
                            _, _, after = parse(operation, after)
                        _, asked, _ = parse(operation, after)
                        search = Search(message_id, base.decode(), scope[0], attributes(asked))
                        peer.searches.append(search)
                        for answer in script(search):
                            self.send(answer, drip_seconds)
                    elif tag == UNBIND_REQUEST:
                        return
            except OSError:  # the client cut the connection while it was being answered
                peer.hung_up.set()

        def send(self, data: bytes, drip_seconds: float = 0):
            if not drip_seconds:
                self.wfile.write(data)
                return
            for at in range(len(data)):
                self.wfile.write(data[at:at + 1])
                time.sleep(drip_seconds)

    class Server(socketserver.ThreadingTCPServer):
        daemon_threads = True
        allow_reuse_address = True

    server = Server(("127.0.0.1", 0), Handler)
    peer.url = f"ldap://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield peer
    finally:
        server.shutdown()
        server.server_close()


NAMING_CONTEXT = "dc=example,dc=com"


def directory_of(containers: Callable[[int], Iterable[bytes]]) -> Script:
    """A directory whose one naming context is ``NAMING_CONTEXT``, its subtree search answered by
    ``containers(message_id)`` (the search's done is the script's to send, if it ever does)."""
    def script(search: Search):
        if search.base == "":
            yield entry(search.message_id, "", {"namingContexts": [NAMING_CONTEXT]})
        elif search.scope == BASE:
            yield entry(search.message_id, NAMING_CONTEXT, {"entryUUID": ["f81d4fae-7dec-11d0-a765-00a0c91e6bf6"]})
        else:
            yield from containers(search.message_id)
            return
        yield done(search.message_id)
    return script

