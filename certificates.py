"""What an X.509 certificate says, in the terms JIM shows it: read with ``cryptography``.

Names are written as .NET writes them (``CN=dc01.corp.local, O=Corp``: the most specific part first) and the
thumbprint as .NET's ``Thumbprint``: the SHA-1 of the DER, upper-case hex without separators.
"""
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID, SignatureAlgorithmOID

# .NET's friendly names: RSA_WITH_SHA256 is "sha256RSA", ECDSA_WITH_SHA384 "sha384ECDSA".
SIGNATURE_ALGORITHMS = {
    oid: (f"{name.split('_WITH_')[1].lower().replace('_', '-')}{name.split('_WITH_')[0]}" if "_WITH_" in name
          else name.replace("_", "-"))
    for name, oid in vars(SignatureAlgorithmOID).items() if isinstance(oid, x509.ObjectIdentifier)
}


@dataclass(frozen=True)
class Certificate:
    subject: str
    issuer: str
    common_name: str  # what an administrator knows it by: the subject's CN, else the whole subject
    subject_alternative_names: tuple[str, ...]  # its DNS names and IP addresses
    valid_from: datetime
    valid_to: datetime
    thumbprint: str
    serial_number: str
    signature_algorithm: str
    is_self_signed: bool
    pem: str
    parsed: x509.Certificate


def read(der: bytes) -> Certificate:
    certificate = x509.load_der_x509_certificate(der)
    common_names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    subject = distinguished_name(certificate.subject)
    return Certificate(
        subject=subject,
        issuer=distinguished_name(certificate.issuer),
        common_name=str(common_names[0].value) if common_names else subject,
        subject_alternative_names=alternative_names(certificate),
        valid_from=certificate.not_valid_before_utc,
        valid_to=certificate.not_valid_after_utc,
        thumbprint=thumbprint(certificate),
        serial_number=f"{certificate.serial_number:X}",
        signature_algorithm=SIGNATURE_ALGORITHMS.get(certificate.signature_algorithm_oid,
                                                     certificate.signature_algorithm_oid.dotted_string),
        is_self_signed=issued_by(certificate, certificate),
        pem=certificate.public_bytes(serialization.Encoding.PEM).decode(),
        parsed=certificate,
    )


def thumbprint(certificate: x509.Certificate) -> str:
    return certificate.fingerprint(hashes.SHA1()).hex().upper()  # noqa: S303 - the thumbprint JIM shows is SHA-1


def distinguished_name(name: x509.Name) -> str:
    return ", ".join(part.rfc4514_string() for part in reversed(name.rdns))


def alternative_names(certificate: x509.Certificate) -> tuple[str, ...]:
    try:
        names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return ()
    return (*names.get_values_for_type(x509.DNSName),
            *(str(address) for address in names.get_values_for_type(x509.IPAddress)))


def issued_by(certificate: x509.Certificate, issuer: x509.Certificate) -> bool:
    """Whether ``issuer`` names and signed ``certificate``."""
    try:
        certificate.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        return False
    return True


def issuer_in(chain: tuple[Certificate, ...]) -> Certificate | None:
    """The certificate of ``chain`` that issued its first, where the server sent it; a self-signed one has none
    apart from itself."""
    leaf = chain[0]
    return next((candidate for candidate in chain[1:]
                 if candidate.thumbprint != leaf.thumbprint and issued_by(leaf.parsed, candidate.parsed)), None)


def thumbprints_in(pem: str | None) -> set[str]:
    """The thumbprints of the PEM certificates ``pem`` holds (none, when it holds none that can be read)."""
    if not pem:
        return set()
    try:
        return {thumbprint(certificate) for certificate in x509.load_pem_x509_certificates(pem.encode())}
    except ValueError:
        return set()
