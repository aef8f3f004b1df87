"""Reading and trusting the certificate a connected system's server presents (JIM's ``server-certificate``).

A read stores nothing: it connects with the stored settings, or with unsaved ``settingValues`` laid over
them, reads the chain the server presents and says which check it fails with the system's trust. A trust
reads it again, at the moment of the decision, and adds the certificate whose thumbprint the administrator
confirmed (the server's own or its issuer's) to the connector's trust setting (LDAP: Trusted CA
Certificates).

Trust lives in that setting, not in a certificate store as JIM's does: it is what an import trusts already;
it is the system's own, so trusting one directory's certificate widens no other system's trust; and it is
configuration like any other, so a trust is a change of settings (recorded in the history, moving the ETag,
unvalidated until the next import) that a PUT can read back and undo.
"""
import logging
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path

from flask import current_app
from marshmallow import ValidationError

import certificates
import systems
from certificates import Certificate
from connectors import runner
from connectors.checks import check_settings
from connectors.interface import CertificateFailure, PresentedCertificates, Settings, Unreachable, holds_value
from database import db
from errors import BadRequest, Conflict
from history import setting_field
from models import utcnow
from schemas import SETTING_STRING_MAX
from systems import StoredSystem

log = logging.getLogger(__name__)

SERVER = "directory server"  # what JIM's remediations call the far end of an LDAPS connection


class TrustOutcome(StrEnum):
    TRUSTED = "Trusted"
    ALREADY_TRUSTED = "AlreadyTrusted"


@dataclass(frozen=True)
class Reading:
    """What the server presented: its certificates as sent, the one that issued its own if it sent that, and
    JIM's diagnostic of them (``certificate`` in the answer)."""

    presented: PresentedCertificates
    chain: tuple[Certificate, ...]
    issuer: Certificate | None

    @property
    def leaf(self) -> Certificate | None:
        return self.chain[0] if self.chain else None

    @property
    def read_at(self) -> datetime:
        return self.presented.read_at

    @property
    def certificate(self) -> dict:
        leaf, failure = self.leaf, self.presented.failure
        now = utcnow()
        return {
            "host": self.presented.host,
            "port": self.presented.port,
            "failure_reason": failure,
            "subject": leaf and leaf.subject,
            "issuer": leaf and leaf.issuer,
            "subject_alternative_names": list(leaf.subject_alternative_names) if leaf else [],
            "valid_from": leaf and leaf.valid_from,
            "valid_to": leaf and leaf.valid_to,
            "thumbprint": leaf and leaf.thumbprint,
            "signature_algorithm": leaf and leaf.signature_algorithm,
            "is_self_signed": bool(leaf and leaf.is_self_signed),
            "issuer_thumbprint": self.issuer and self.issuer.thumbprint,
            "is_issuer_certificate_available": self.issuer is not None,
            "remediation": remediation(failure, self.presented.host, bool(leaf and leaf.is_self_signed)),
            "is_expired": bool(leaf and leaf.valid_to < now),
            "is_not_yet_valid": bool(leaf and leaf.valid_from > now),
        }


@dataclass(frozen=True)
class Trust:
    """A trust decided: the certificate, and the system as the trust leaves it (unchanged if already trusted)."""

    outcome: TrustOutcome
    certificate: Certificate
    expected_thumbprint: str
    after: StoredSystem
    message: str | None
    reason: str  # for the history, when the request gives none
    notes: str
    created_by: str
    created_at: datetime

    @property
    def added(self) -> "Trust | None":
        """Itself when the certificate was added now, as the answer's ``certificate`` shows it; else None."""
        return self if self.outcome is TrustOutcome.TRUSTED else None


def remediation(failure: CertificateFailure, host: str, self_signed: bool) -> str | None:
    """What to do about it, in JIM's words where they fit this service."""
    if failure is CertificateFailure.EXPIRED:
        return f"The certificate expired. Renew it on the {SERVER}; trusting its issuer does not waive the expiry date."
    if failure is CertificateFailure.NOT_YET_VALID:
        return (f"The certificate is not valid yet, which usually means the clocks on this service and the {SERVER} "
                "disagree.")
    if failure is CertificateFailure.NAME_MISMATCH:
        return (f"The certificate was not issued for '{host}'. Trusting it will not help; connect using a name the "
                "certificate carries.")
    if failure is CertificateFailure.UNTRUSTED_ISSUER and self_signed:
        return (f"The certificate is self-signed and not trusted. Trust it (server-certificate/trust with its "
                f"thumbprint) to trust this {SERVER}.")
    if failure is CertificateFailure.UNTRUSTED_ISSUER:
        return ("The issuing certificate authority is not trusted. Trust it (server-certificate/trust with its "
                "issuerThumbprint), or add it and any intermediates to Trusted CA Certificates.")
    if failure is CertificateFailure.NO_CERTIFICATE_PRESENTED:
        return f"The {SERVER} offered no certificate. Check that it is configured for LDAPS on this port."
    if failure is CertificateFailure.UNKNOWN:
        return "The certificate was refused for a reason this service could not narrow down."
    return None


def read(system: StoredSystem, drafts: dict[int, object]) -> Reading:
    """What the system's server presents, reached with its settings and ``drafts`` (setting id to value, None
    clears) laid over them; nothing is stored. No secret is revealed: reading a certificate needs none, so a
    secret among the drafts is neither used nor kept."""
    connector = system.connector
    reader = connector.server_certificate
    if reader is None:
        raise BadRequest(f"The '{connector.name}' connector makes no LDAPS connection, so there is no server "
                         "certificate to look at.")
    values = {setting_id: value for setting_id, value in system.values.items()
              if not connector.settings_by_id[setting_id].is_secret}
    for setting_id, value in drafts.items():
        if connector.settings_by_id[setting_id].is_secret:
            continue
        if value is None:
            values.pop(setting_id, None)
        else:
            values[setting_id] = value
    used = {setting.id for setting in reader.uses}
    problems = {setting_field(setting_id): messages
                for setting_id, messages in check_settings(connector, values).items() if setting_id in used}
    if problems:
        raise ValidationError(problems)
    settings = Settings(values, (), Path(current_app.config["JIM_CONNECTOR_FILES_ROOT"]))
    db.session.close()  # nothing of the store is held while the server takes its time
    presented = runner.run(reader.read, settings, current_app.config["JIM_CONNECTOR_TIMEOUT_SECONDS"])
    if presented is None:
        raise BadRequest(f"The '{system.name}' Connected System is not configured to make an encrypted connection, "
                         "so there is no server certificate to look at.")
    chain = tuple(certificates.read(der) for der in presented.chain)
    return Reading(presented, chain, certificates.issuer_in(chain) if chain else None)


def confirmed(reading: Reading, thumbprint: str) -> Certificate:
    """The certificate presented now whose thumbprint the administrator confirmed: the server's own or its
    issuer's. Anything else means the server presents other than what was shown, and nothing is trusted."""
    where = f"{reading.presented.host}:{reading.presented.port}"
    if reading.leaf is None:
        raise Unreachable(f"{where} offered no certificate, so there is nothing to trust.")
    for candidate in (reading.leaf, reading.issuer):
        if candidate is not None and candidate.thumbprint == thumbprint:
            return candidate
    log.warning("refused to trust a certificate: %s presents %s, not the confirmed %s", where,
                reading.leaf.thumbprint, thumbprint)
    raise Conflict(f"{reading.presented.host} is presenting a different certificate from the one you confirmed, so "
                   "nothing has been trusted. This is expected if the certificate was renewed; investigate if it was "
                   "not.", fields={"details": {"outcome": "ThumbprintMismatch", "expectedThumbprint": thumbprint,
                                               "presentedThumbprint": reading.leaf.thumbprint}})


def trusted(seen: StoredSystem, system: StoredSystem, reading: Reading, certificate: Certificate,
            by: str) -> Trust:
    """The system with ``certificate`` added to its trust setting, unless it holds it already. ``system`` is read
    under the write's lock; if its settings changed since ``seen`` was read for the reading, nothing is trusted."""
    if system.values != seen.values:
        raise Conflict(f"The settings of connected system {system.id} changed while its server's certificate was "
                       "being read; read it again.")
    trust = system.connector.server_certificate.trust
    held = system.value_of(trust)
    where = f"{reading.presented.host}:{reading.presented.port}"
    outcome = dict(certificate=certificate, expected_thumbprint=certificate.thumbprint,
                   reason=f"Trusted the certificate presented by {where} for the '{system.name}' Connected System.",
                   notes=f"Trusted from the '{system.name}' Connected System, which {where} presented it to.",
                   created_by=by, created_at=utcnow())
    if certificate.thumbprint in certificates.thumbprints_in(held):
        return Trust(TrustOutcome.ALREADY_TRUSTED, after=system, **outcome,
                     message=f"'{certificate.common_name}' is already in {trust.name}.")
    value = f"{held.rstrip()}\n{certificate.pem}" if holds_value(held) else certificate.pem
    if len(value) > SETTING_STRING_MAX:
        raise Conflict(f"{trust.name} would hold more than {SETTING_STRING_MAX} characters with this certificate: "
                       f"remove one it no longer needs ({setting_field(trust.id)}), then trust again.")
    return Trust(TrustOutcome.TRUSTED, after=systems.updated(system, {}, {trust.id: value}), **outcome, message=None)
