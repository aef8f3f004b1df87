"""Talking to a directory with ldap3: one simple bind, each step bounded, and its answers in the connector's terms.

The Connection Timeout bounds the connect, the TLS handshake and every read, and no step waits past the import's
deadline. What the directory refuses (its result code, as ``invalidCredentials (49)``) is ``Refused``; what keeps
it from answering (a refused connection, an unknown host, a timeout, TLS) is ``Unreachable``. No message names
the password.
"""
import math
import re
import socket
import ssl
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit

import ldap3
from ldap3.core.exceptions import (
    LDAPCommunicationError,
    LDAPInvalidPortError,
    LDAPInvalidServerError,
    LDAPSessionTerminatedByServerError,
)
from ldap3.utils.ciDict import CaseInsensitiveDict

from connectors.interface import Deadline, Refused, Unreachable
from connectors.ldap import bind_refusals
from connectors.ldap.entries import decode_entries_raw

# The longest LDAP message read: an entry, or the subschema entry with all its definitions (Active Directory's
# is some 2 MiB). A longer one is refused on its declared length, before it is read.
MAX_MESSAGE_BYTES = 16 * 1024 * 1024
LDAP_MESSAGE = 0x30  # every LDAPMessage is a BER SEQUENCE (RFC 4511 4.1.1)
PAGE_SIZE = 500  # entries a page of a search holds (RFC 2696); Active Directory answers at most 1,000
PAGED_RESULTS = "1.2.840.113556.1.4.319"
# Searches read the entries where they are, never what an alias names (ldap3 dereferences by default): an import
# reads only what lies in its containers, and a directory that dereferences re-reads its aliases for each page
# (slapd took fifteen times as long to answer a search of 100,000 entries).
ALIASES = ldap3.DEREF_NEVER
LIMITS_EXCEEDED = {3, 4, 11}  # timeLimitExceeded, sizeLimitExceeded, adminLimitExceeded (RFC 4511 4.1.9)
INVALID_CREDENTIALS = 49
# What OpenSSL said, within what ldap3 wraps around it: "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify
# failed: self-signed certificate in certificate chain (_ssl.c:1006)".
OPENSSL_REASON = re.compile(r"\[SSL: \w+\] (.+?) \(_ssl\.c")
# ldap3 hands OpenSSL's words on inside the repr of a tuple, which escapes their quotes ("not valid for
# \\'127.0.0.1\\'" in JSON); OpenSSL's own words hold no backslash, so every one before a quote goes.
ESCAPED_QUOTE, QUOTE = re.compile(r"\\+(['\"])"), r"\1"
SAID_CHARACTERS = 200


def texts(attributes: Mapping, name: str, entry: str | None = None) -> list[str]:
    """An attribute's values as text (a live directory's are bytes, an offline schema's are text); a value that
    is not UTF-8 (RFC 4517's strings are) is refused, naming the attribute and its ``entry``."""
    try:
        return [value.decode() if isinstance(value, bytes) else value for value in attributes.get(name) or []]
    except UnicodeDecodeError:
        of = f" of {brief(entry)}" if entry is not None else ""
        raise Refused(f"The directory answered a value of {name}{of} that is not UTF-8 text.") from None


def brief(text: str) -> str:
    """What a directory said, as one line of at most ``SAID_CHARACTERS``."""
    line = " ".join(text.split())
    return line if len(line) <= SAID_CHARACTERS else line[:SAID_CHARACTERS - 1] + "…"


@dataclass(frozen=True)
class Endpoint:
    host: str
    port: int
    tls: bool

    def __str__(self):
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'ldaps' if self.tls else 'ldap'}://{host}:{self.port}"


def endpoint(host: str, port: int, use_ldaps: bool) -> Endpoint:
    """Where to connect. A URL's scheme chooses TLS (as does ``use_ldaps``) and its port, when it names one,
    overrides ``port``; the offline checks have made sure that a URL is one."""
    if "://" not in host:
        return Endpoint(host.strip("[]"), port, use_ldaps)
    parts = urlsplit(host)
    return Endpoint(parts.hostname, port if parts.port is None else parts.port,
                    use_ldaps or parts.scheme.lower() == "ldaps")


def trusting(trusted_pem: str | None) -> ssl.SSLContext:
    """TLS that trusts the system's CAs and ``trusted_pem``, each certificate of it an anchor: a server's own
    certificate or an intermediate trusted there is trusted as itself (OpenSSL's partial chain, Python 3.13's
    default), as JIM trusts what its certificate store holds."""
    try:
        context = ssl.create_default_context(cadata=trusted_pem or None)
    except ssl.SSLError:
        raise Refused("Trusted CA Certificates holds no certificate that can be read: give PEM certificates, "
                      "each from -----BEGIN CERTIFICATE----- to -----END CERTIFICATE-----.") from None
    context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
    return context


class Metered:
    """A directory's socket as ldap3 reads it: each byte counted against the import's limit, and each LDAP
    message's declared length (its BER header) held to ``MAX_MESSAGE_BYTES`` before the message is read."""

    def __init__(self, connected: socket.socket, deadline: Deadline, where: Endpoint):
        self._socket = connected
        self._deadline = deadline
        self._where = where
        self._header = bytearray()  # of the message that starts next, as far as it has arrived
        self._left = 0  # bytes of the current message still to come

    def __getattr__(self, name):
        return getattr(self._socket, name)

    def recv(self, size: int) -> bytes:
        data = self._socket.recv(size)
        self._deadline.received(len(data))
        at = 0
        while at < len(data):
            if self._left:
                step = min(self._left, len(data) - at)
                self._left -= step
                at += step
                continue
            self._header.append(data[at])
            at += 1
            if self._header[0] != LDAP_MESSAGE:
                raise not_ldap(self._where)
            length = declared_length(self._header)
            if length is not None:
                if length > MAX_MESSAGE_BYTES:
                    raise Refused(f"The directory sent an LDAP message longer than {MAX_MESSAGE_BYTES // 2**20} "
                                  f"MiB, the longest this service reads; it was not read.")
                self._left = length
                self._header.clear()
        return data


def not_ldap(where: Endpoint) -> Unreachable:
    return Unreachable(f"{where} answered, but not in LDAP: is a directory listening on that port?")


def declared_length(header: bytes) -> int | None:
    """The length of a BER element's contents from its identifier and length octets (X.690 8.1.3), or None
    until they have all arrived."""
    if len(header) < 2:
        return None
    if header[1] < 0x80:
        return header[1]
    octets = header[1] & 0x7F  # 0 is BER's indefinite length, which LDAP forbids (RFC 4511 5.1): ldap3 decides
    if len(header) < 2 + octets:
        return None
    return int.from_bytes(header[2:2 + octets], "big")


class VerifiedTls(ldap3.Tls):
    """TLS verified by the standard library: the certificate against the trust store, and the host name.

    ldap3 2.9.1 turns the context's host name check off and does its own with ``ssl.match_hostname``, deprecated
    since Python 3.7 and removed in 3.12; the context's own check also matches IP addresses properly.
    """

    def __init__(self, host: str, trusted_pem: str | None):
        super().__init__()
        self.context = trusting(trusted_pem)
        self.host = host

    def wrap_socket(self, connection, do_handshake=False):
        connection.socket = self.context.wrap_socket(connection.socket, server_hostname=self.host,
                                                     do_handshake_on_connect=do_handshake)


class Directory:
    """A connection to ``where`` whose every request waits at most ``timeout`` seconds, and never past the deadline."""

    def __init__(self, where: Endpoint, connection: ldap3.Connection, deadline: Deadline, timeout: float,
                 account: str):
        self.where = where
        self.connection = connection
        self.deadline = deadline
        self.timeout = timeout
        self.account = account

    def read(self, dn: str, attributes: list[str],
             search_filter: str = "(objectClass=*)") -> CaseInsensitiveDict | None:
        """The entry's attributes (name to list of raw values), or None when the account may not see it."""
        entries = self.search(dn, search_filter, attributes, ldap3.BASE)
        return entries[0][1] if entries else None

    def search(self, base: str, search_filter: str, attributes: list[str],
               scope=ldap3.SUBTREE, most: int | None = None) -> list[tuple[str, CaseInsensitiveDict]]:
        """The (DN, attributes) of each entry found, read a page at a time; once more than ``most`` are read,
        what was read so far, and no more."""
        found = []
        for page in self.pages(base, search_filter, attributes, scope):
            found.extend((entry["dn"], CaseInsensitiveDict(entry["raw_attributes"])) for entry in page)
            if most is not None and len(found) > most:
                break
        return found

    def pages(self, base: str, search_filter: str, attributes: list[str], scope=ldap3.SUBTREE,
              each_step: bool = False) -> Iterator[list[dict]]:
        """ldap3's entries found (``dn``, ``raw_attributes``), a page at a time (RFC 2696), only one page held.
        With ``each_step``, each page has the deadline's whole time again (a long read is many steps)."""
        cookie = None
        while True:
            if each_step:
                self.deadline.restart()
            self.ask(f"search {base or 'the RootDSE'}", self.connection.search, base, search_filter, scope,
                     attributes=attributes, paged_size=PAGE_SIZE, paged_cookie=cookie, dereference_aliases=ALIASES)
            result = self.connection.result
            if result["result"] in LIMITS_EXCEEDED:  # entries came, but not all of them
                said = f" It said: {result['message']}" if result.get("message") else ""
                raise Refused(f"The directory stopped the search of {base} before its end: {result['description']} "
                              f"({result['result']}).{said} Raise the limit for {self.account}, or narrow the "
                              f"selected containers.")
            yield [entry for entry in self.connection.response if entry["type"] == "searchResEntry"]
            paging = (self.connection.result.get("controls") or {}).get(PAGED_RESULTS, {})
            cookie = paging.get("value", {}).get("cookie")
            if not cookie:
                return

    def ask(self, what: str, request, *args, **kwargs):
        """One request: what the directory refuses is ``Refused``, what keeps it from answering ``Unreachable``."""
        if self.connection.socket is not None:  # before the connect, the connect timeout applies
            self.connection.socket.settimeout(self.deadline.bound(self.timeout))
        try:
            answered = request(*args, **kwargs)
        except LDAPCommunicationError as error:
            cause = last_attempt(error)
            if isinstance(cause, TimeoutError):
                self.deadline.remaining()  # when the deadline is what ran out, says so
            raise Unreachable(f"Could not reach the directory at {self.where}: {reason(cause, self.timeout)}.") \
                from None
        except (KeyError, IndexError, ValueError):  # ldap3's decoder, given bytes that are not LDAP
            raise not_ldap(self.where) from None
        result = self.connection.result
        if answered is False and result["result"] != 0:
            said = f" It said: {result['message']}" if result.get("message") else ""
            why = bind_refusals.reason(result.get("message")) if result["result"] == INVALID_CREDENTIALS else None
            raise Refused(f"The directory refused to let {self.account} {what}: "
                          f"{result['description']} ({result['result']}){f': {why}' if why else ''}.{said}")


@contextmanager
def bound(where: Endpoint, trusted_pem: str | None, account: str, password: str, timeout: float,
          deadline: Deadline) -> Iterator[Directory]:
    """A ``Directory`` bound as ``account``; unbound when the block ends."""
    tls = VerifiedTls(where.host, trusted_pem) if where.tls else None
    try:
        server = ldap3.Server(where.host, port=where.port, use_ssl=where.tls, tls=tls, get_info=ldap3.NONE,
                              connect_timeout=deadline.bound(timeout))
    except (LDAPInvalidServerError, LDAPInvalidPortError):  # what the offline checks let by, as "[:]"
        raise Refused(f"{where} is not an address a directory can be reached at: check Host and Port.") from None
    # ldap3 takes the read timeout in whole seconds at the connect (for the handshake); each request sets its own.
    connection = ldap3.Connection(server, user=account, password=password, authentication=ldap3.SIMPLE,
                                  receive_timeout=math.ceil(deadline.bound(timeout)), read_only=True,
                                  raise_exceptions=False, auto_referrals=False)
    # Every read of the connector (an import's entries, a schema's thousands) is of raw values, which it types itself.
    decode_entries_raw(connection)
    directory = Directory(where, connection, deadline, timeout, account)
    try:
        directory.ask("connect", connection.open)  # the TLS handshake within it, bounded as a whole by the timeout
        deadline.cut_on_expiry(connection.socket)
        connection.socket = Metered(connection.socket, deadline, where)
        directory.ask("bind", connection.bind)
        yield directory
    finally:
        close(connection)


def close(connection: ldap3.Connection):
    try:
        connection.unbind()
    except LDAPCommunicationError:
        pass  # the connection is gone already: nothing is left to release
    if connection.socket is not None:
        connection.socket.close()  # ldap3 leaves open a socket that failed to connect


def last_attempt(error: LDAPCommunicationError) -> Exception:
    """What failed. ldap3 makes its exception a subclass of the socket's; when it tried several addresses of the
    host, it gives each one's in its second argument, and the last one's is told."""
    if len(error.args) > 1 and isinstance(error.args[1], list) and error.args[1]:
        return error.args[1][-1][0]
    return error


def reason(error: Exception, timeout: float) -> str:
    if isinstance(error, ConnectionRefusedError):
        return "it refused the connection"
    if isinstance(error, LDAPSessionTerminatedByServerError):
        return "it closed the connection without answering"
    if isinstance(error, TimeoutError):
        return f"it did not answer within {timeout:g} second{'' if timeout == 1 else 's'}"
    if isinstance(error, socket.gaierror) or "invalid server address" in str(error):
        return "its host name could not be resolved"
    if isinstance(error, ssl.SSLError):
        said = OPENSSL_REASON.search(str(error))
        return f"the TLS handshake failed ({ESCAPED_QUOTE.sub(QUOTE, said[1]) if said else 'no reason given'})"
    return str(error)
