"""A search's entries decoded from the bytes the directory sent, as the connector reads them: its DN and each
attribute's raw values, nothing more.

ldap3's own decoder, pure Python, builds a tuple of class, form, tag and value for every BER element of every
entry, then a dictionary of them, then formats each value by its syntax: most of a large read's time. An
entry (RFC 4511 4.5.2) has one shape, which is read here straight from the message; every other message (the
search's result and its paging cookie, a referral, a notice of disconnection) is ldap3's to decode, as before.
"""
from ldap3.strategy.base import RESPONSE_COMPLETE, SESSION_TERMINATED_BY_SERVER
from ldap3.utils.asn1 import decode_message_fast

INTEGER, OCTET_STRING, SEQUENCE, SET = 0x02, 0x04, 0x30, 0x31
SEARCH_RESULT_ENTRY = 0x64  # [APPLICATION 4], constructed
NOTICE_OF_DISCONNECTION = "1.3.6.1.4.1.1466.20036"  # RFC 4511 4.4.1
CONTINUED = ("searchResRef", "intermediateResponse")  # the answers after which more of the same search comes


class CaseInsensitive(dict):
    """An entry's attributes looked up by name in any case, as LDAP names them."""

    def __init__(self, attributes: dict):
        super().__init__((name.lower(), values) for name, values in attributes.items())

    def get(self, name, default=None):
        return super().get(name.lower(), default)


def decode_entries_raw(connection):
    """Have the ldap3 ``connection`` answer each entry as its ``dn`` and ``raw_attributes`` alone (names in
    lower case, values as bytes), decoded here; what ldap3 would do then with formatted values, which there are
    none of, is off (ranges are the reader's, and an attribute missing from an entry reads as no value)."""
    connection.auto_range = connection.empty_attributes = False
    strategy = connection.strategy

    def get_response(message_id, timeout):  # ldap3's SyncStrategy._get_response, with entries decoded here
        responses = []
        while True:
            messages = strategy.receiving()
            if not messages:
                return SESSION_TERMINATED_BY_SERVER
            for message in messages:
                answered_id, entry = search_result_entry(message)
                if entry is None:
                    decoded = decode_message_fast(message)
                    entry = strategy.decode_response_fast(decoded)
                    if answered_id == 0 and entry.get("responseName") == NOTICE_OF_DISCONNECTION:
                        return SESSION_TERMINATED_BY_SERVER
                if answered_id != message_id:  # no answer to this request: not a directory speaking LDAP
                    raise ValueError(f"an answer to message {answered_id} where {message_id} was asked")
                responses.append(entry)
                if entry["type"] != "searchResEntry" and entry["type"] not in CONTINUED:
                    responses.append(RESPONSE_COMPLETE)
                    return responses

    strategy._get_response = get_response


def search_result_entry(message: bytes) -> tuple[int, dict | None]:
    """The message's id, and the entry it holds as ldap3 answers one (None when it holds something else).
    Bytes that are not an LDAP message raise ``ValueError`` or ``IndexError``, as ldap3's decoder does."""
    _, at = length(message, 1)  # within the LDAPMessage SEQUENCE, whose framing is ldap3's
    size, at = expect(message, at, INTEGER)
    message_id = int.from_bytes(message[at:at + size], "big", signed=True)
    at += size
    if message[at] != SEARCH_RESULT_ENTRY:
        return message_id, None
    _, at = length(message, at + 1)
    size, at = expect(message, at, OCTET_STRING)
    dn = message[at:at + size].decode()
    size, at = expect(message, at + size, SEQUENCE)
    attributes, end = CaseInsensitive({}), at + size
    while at < end:
        _, at = expect(message, at, SEQUENCE)
        size, at = expect(message, at, OCTET_STRING)
        name = message[at:at + size].decode().lower()
        size, at = expect(message, at + size, SET)
        values, last = [], at + size
        while at < last:
            size, at = expect(message, at, OCTET_STRING)
            values.append(message[at:at + size])
            at += size
        dict.__setitem__(attributes, name, values)
    return message_id, {"type": "searchResEntry", "dn": dn, "raw_attributes": attributes}


def expect(message: bytes, at: int, tag: int) -> tuple[int, int]:
    """The length and start of the contents of the element at ``at``, which must be a ``tag``."""
    if message[at] != tag:
        raise ValueError(f"an element tagged {message[at]:#x} where {tag:#x} belongs")
    return length(message, at + 1)


def length(message: bytes, at: int) -> tuple[int, int]:
    """The length of the contents whose length octets start at ``at`` (X.690 8.1.3), and where they start."""
    first = message[at]
    if first < 0x80:
        return first, at + 1
    octets = first & 0x7F
    return int.from_bytes(message[at + 1:at + 1 + octets], "big"), at + 1 + octets
