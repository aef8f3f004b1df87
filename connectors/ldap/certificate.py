"""The certificate chain a directory presents over LDAPS, and the first check it fails.

One handshake trusts nothing, only to read the chain the server sends. Another judges it with the trust an
import would have (``connection.trusting``). When that finds the issuer untrusted, a third trusts what was
presented, to tell whether trusting it would be enough or the name is wrong as well. The order is JIM's: a
certificate out of its validity period, then one issued for another name, then an untrusted issuer, since
trusting the certificate mends only the last.

``connectors.ldap`` imports this module (and ldap3 with it) when a certificate is read.
"""
import socket
import ssl
from datetime import UTC, datetime

from cryptography import x509

from connectors.interface import CertificateFailure, Deadline, PresentedCertificates, Settings, Unreachable
from connectors.ldap import CONNECTION_TIMEOUT, HOST, PORT, TRUSTED_CA_CERTIFICATES, USE_LDAPS
from connectors.ldap.connection import Endpoint, endpoint, reason, trusting

# OpenSSL's verification codes (X509_V_ERR_*) that name a check of JIM's; any other is Unknown.
FAILURES = {
    9: CertificateFailure.NOT_YET_VALID,
    10: CertificateFailure.EXPIRED,
    62: CertificateFailure.NAME_MISMATCH,  # host name
    64: CertificateFailure.NAME_MISMATCH,  # IP address
    # A chain that ends at no trusted certificate: an issuer not found (2, 20, 21), self-signed (18, 19),
    # or not trusted for this purpose (27).
    **dict.fromkeys((2, 18, 19, 20, 21, 27), CertificateFailure.UNTRUSTED_ISSUER),
}


def read(settings: Settings, deadline: Deadline) -> PresentedCertificates | None:
    """What the directory presents over LDAPS, judged with its settings' trust; None when they say plain LDAP."""
    where = endpoint(settings[HOST], settings[PORT], settings[USE_LDAPS])
    if not where.tls:
        return None
    return presented(where, settings[TRUSTED_CA_CERTIFICATES], settings[CONNECTION_TIMEOUT], deadline)


def presented(where: Endpoint, trusted_pem: str | None, timeout: float, deadline: Deadline) -> PresentedCertificates:
    judged_by = trusting(trusted_pem)  # settings that hold no readable certificate are refused before any talking
    read_at = datetime.now(UTC)
    looking = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    looking.check_hostname = False
    looking.verify_mode = ssl.CERT_NONE
    try:
        with handshake(where, looking, timeout, deadline) as tls:
            # The chain as sent. Python 3.11 has it only as the internal method that 3.13 made public
            # (SSLSocket.get_unverified_chain wraps it), so no other TLS library is needed to read it.
            chain = tuple(certificate.public_bytes(ssl._ssl.ENCODING_DER)
                          for certificate in tls._sslobj.get_unverified_chain() or ())
    except (ssl.SSLError, ConnectionError):  # it took the connection, but would not (or could not) speak TLS
        chain = ()
    if not chain:
        return PresentedCertificates(where.host, where.port, read_at, (), CertificateFailure.NO_CERTIFICATE_PRESENTED)
    return PresentedCertificates(where.host, where.port, read_at, chain, failure(where, chain, judged_by, timeout,
                                                                                 deadline))


def failure(where: Endpoint, chain: tuple[bytes, ...], judged_by: ssl.SSLContext, timeout: float,
            deadline: Deadline) -> CertificateFailure:
    leaf = x509.load_der_x509_certificate(chain[0])
    now = datetime.now(UTC)
    if leaf.not_valid_after_utc < now:
        return CertificateFailure.EXPIRED
    if leaf.not_valid_before_utc > now:
        return CertificateFailure.NOT_YET_VALID
    found = verdict(where, judged_by, timeout, deadline)
    if found is CertificateFailure.UNTRUSTED_ISSUER:
        # Were it trusted, would the name still be wrong?
        trusting_it = ssl.create_default_context(cadata=b"".join(chain))
        trusting_it.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
        if verdict(where, trusting_it, timeout, deadline) is CertificateFailure.NAME_MISMATCH:
            return CertificateFailure.NAME_MISMATCH
    return found


def verdict(where: Endpoint, context: ssl.SSLContext, timeout: float, deadline: Deadline) -> CertificateFailure:
    """The check a handshake verified by ``context`` fails, or NONE."""
    try:
        with handshake(where, context, timeout, deadline):
            return CertificateFailure.NONE
    except ssl.SSLCertVerificationError as error:
        return FAILURES.get(error.verify_code, CertificateFailure.UNKNOWN)
    except (ssl.SSLError, ConnectionError):
        return CertificateFailure.UNKNOWN


def handshake(where: Endpoint, context: ssl.SSLContext, timeout: float, deadline: Deadline) -> ssl.SSLSocket:
    """A TLS connection to ``where``, each step waiting at most ``timeout`` and never past the deadline; what
    keeps it from being made at all is ``Unreachable``."""
    try:
        raw = socket.create_connection((where.host, where.port), timeout=deadline.bound(timeout))
    except OSError as error:
        raise unreachable(where, error, timeout, deadline) from None
    try:
        raw.settimeout(deadline.bound(timeout))
        return context.wrap_socket(raw, server_hostname=where.host)
    except TimeoutError as error:
        raw.close()
        raise unreachable(where, error, timeout, deadline) from None
    except BaseException:
        raw.close()
        raise


def unreachable(where: Endpoint, error: OSError, timeout: float, deadline: Deadline) -> Unreachable:
    if isinstance(error, TimeoutError):
        deadline.remaining()  # when the deadline is what ran out, says so
    return Unreachable(f"Could not reach the directory at {where}: {reason(error, timeout)}.")
