"""The certificate an LDAP connected system's directory presents over LDAPS: read (GET, and POST with unsaved
settings) and trusted (POST .../trust), through the API, against real slapd directories (tests/ldap_directory.py):
the run's, whose certificate a CA made for it signs, one whose certificate is self-signed, and one whose
certificate names another host. What the administrator is shown, what is stored afterwards (nothing, for a
read), and that an import over LDAPS that failed succeeds once the certificate is trusted.
"""
import datetime
import ipaddress
import json
import socketserver
import ssl
import threading
from contextlib import contextmanager

import pytest
import schemathesis
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from conftest import SYSTEMS
from envelope import assert_error
from importing import history
from ldap_directory import SERVICE_PASSWORD, require_slapd, running_directory
from leaks import shows
from servers import free_port
from test_ldap_import import configure, import_schema, seed_settings, setting_values


def certificate(client, headers, system_id: int, **draft):
    """GET server-certificate, or the POST with ``draft`` (setting name: value) as its unsaved settingValues."""
    if not draft:
        return client.get(f"{SYSTEMS}/{system_id}/server-certificate", headers=headers)
    return client.post(f"{SYSTEMS}/{system_id}/server-certificate", json={"settingValues": setting_values(**draft)},
                       headers=headers)


def trust(client, headers, system_id: int, thumbprint: str, **more):
    return client.post(f"{SYSTEMS}/{system_id}/server-certificate/trust", json={"thumbprint": thumbprint, **more},
                       headers=headers)


def documented(client, response, method: str, path: str):
    """The answer is as the OpenAPI document says (its status, headers and body): the fuzzer can reach these
    successes only over LDAPS, which it does not keep (test_fuzz.py)."""
    document = schemathesis.openapi.from_dict(client.get("/api/openapi.json").json)
    document[f"/synchronisation/connected-systems/{{connectedSystemId}}{path}"][method].validate_response(response)


def read_certificate(path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def thumbprint_of(certificate: x509.Certificate) -> str:
    return certificate.fingerprint(hashes.SHA1()).hex().upper()


def stored(client, headers, system_id: int):
    """What a GET shows of the system, and its ETag."""
    response = client.get(f"{SYSTEMS}/{system_id}", headers=headers)
    return response.json, response.headers["ETag"]


@pytest.fixture(scope="module")
def self_signed_directory(tmp_path_factory):
    """A second throwaway slapd, whose LDAPS certificate is self-signed."""
    require_slapd()
    with running_directory(tmp_path_factory.mktemp("self-signed"), self_signed=True) as directory:
        yield directory


# Reading: what the directory presents, and nothing stored.

def test_the_certificate_a_ca_signed_it_for_is_shown_untrusted_until_its_ca_is(client, admin, ldap_system,
                                                                                 ldap_directory):
    system_id = ldap_system["id"]
    configure(client, admin, system_id, **seed_settings(ldap_directory.ldaps_url))
    before = stored(client, admin, system_id)
    records = history(client, admin, system_id)

    response = certificate(client, admin, system_id)
    assert response.status_code == 200, response.json
    leaf, ca = read_certificate(ldap_directory.folder / "server.pem"), read_certificate(ldap_directory.folder / "ca.pem")
    shown = response.json["certificate"]
    assert shown == {
        "host": "127.0.0.1", "port": ldap_directory.ldaps_port, "failureReason": "UntrustedIssuer",
        "subject": "CN=localhost", "issuer": "CN=JIM test CA", "subjectAlternativeNames": ["localhost", "127.0.0.1"],
        "validFrom": leaf.not_valid_before_utc.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "validTo": leaf.not_valid_after_utc.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "thumbprint": thumbprint_of(leaf), "signatureAlgorithm": "sha256ECDSA", "isSelfSigned": False,
        "issuerThumbprint": thumbprint_of(ca), "isIssuerCertificateAvailable": True,
        "remediation": "The issuing certificate authority is not trusted. Trust it (server-certificate/trust with "
                       "its issuerThumbprint), or add it and any intermediates to Trusted CA Certificates.",
        "isExpired": False, "isNotYetValid": False,
    }
    assert response.json["readAt"].endswith("Z")
    documented(client, response, "GET", "/server-certificate")
    # A read stores nothing: not the outcome, not a history record.
    assert stored(client, admin, system_id) == before
    assert history(client, admin, system_id) == records

    configure(client, admin, system_id, TRUSTED_CA_CERTIFICATES=ldap_directory.ca_pem)
    shown = certificate(client, admin, system_id).json["certificate"]
    assert (shown["failureReason"], shown["remediation"]) == ("None", None)


def test_a_self_signed_certificate_has_no_issuer_to_offer(client, admin, ldap_system, self_signed_directory):
    system_id = ldap_system["id"]
    configure(client, admin, system_id, **seed_settings(self_signed_directory.ldaps_url))
    shown = certificate(client, admin, system_id).json["certificate"]
    own = read_certificate(self_signed_directory.folder / "server.pem")
    assert (shown["subject"], shown["issuer"], shown["thumbprint"]) == ("CN=localhost", "CN=localhost",
                                                                         thumbprint_of(own))
    assert shown["isSelfSigned"] is True
    assert (shown["issuerThumbprint"], shown["isIssuerCertificateAvailable"]) == (None, False)
    assert shown["failureReason"] == "UntrustedIssuer"
    assert shown["remediation"].startswith("The certificate is self-signed and not trusted.")


def test_a_certificate_for_another_name_is_a_name_mismatch_trusted_or_not(client, admin, ldap_system, tmp_path):
    require_slapd()
    with running_directory(tmp_path, certificate_names=("directory.example.com",)) as other:
        system_id = ldap_system["id"]
        configure(client, admin, system_id, **seed_settings(other.ldaps_url))
        # Untrusted as well: trusting it would not help, so the name is what the administrator is told first.
        shown = certificate(client, admin, system_id).json["certificate"]
        assert shown["failureReason"] == "NameMismatch"
        assert shown["subjectAlternativeNames"] == ["directory.example.com"]
        assert shown["remediation"] == ("The certificate was not issued for '127.0.0.1'. Trusting it will not help; "
                                        "connect using a name the certificate carries.")
        configure(client, admin, system_id, TRUSTED_CA_CERTIFICATES=other.ca_pem)
        assert certificate(client, admin, system_id).json["certificate"]["failureReason"] == "NameMismatch"


def test_unsaved_settings_are_read_over_and_never_stored(client, admin, ldap_system, ldap_directory):
    system_id = ldap_system["id"]
    configure(client, admin, system_id, **seed_settings(ldap_directory.url))  # plain LDAP, as stored
    before = stored(client, admin, system_id)
    records = history(client, admin, system_id)
    drafted = certificate(client, admin, system_id, HOST="127.0.0.1", PORT=ldap_directory.ldaps_port, USE_LDAPS=True,
                          PASSWORD="a-draft-password-9Xq", TRUSTED_CA_CERTIFICATES=ldap_directory.ca_pem)
    assert drafted.status_code == 200, drafted.json
    documented(client, drafted, "POST", "/server-certificate")
    assert drafted.json["certificate"]["failureReason"] == "None"
    assert drafted.json["certificate"]["port"] == ldap_directory.ldaps_port
    assert not shows(drafted.get_data(as_text=True), "a-draft-password-9Xq")
    assert stored(client, admin, system_id) == before
    assert history(client, admin, system_id) == records
    # No draft is the stored settings: plain LDAP, so there is no certificate to look at.
    for empty in ({}, {"settingValues": {}}):
        response = client.post(f"{SYSTEMS}/{system_id}/server-certificate", json=empty, headers=admin)
        assert assert_error(response, 400, "BAD_REQUEST")["message"] == (
            "The 'Corporate LDAP' Connected System is not configured to make an encrypted connection, so there is "
            "no server certificate to look at.")


def test_a_new_system_is_read_with_only_the_connection_settings_drafted(client, admin, ldap_system, ldap_directory):
    """Username and Password are required for an import, not for a read: a system not yet configured can look."""
    response = certificate(client, admin, ldap_system["id"], HOST=ldap_directory.ldaps_url)
    assert response.status_code == 200, response.json
    assert response.json["certificate"]["failureReason"] == "UntrustedIssuer"


@pytest.mark.parametrize("draft, field", [
    ({"PORT": 0}, "settingValues.4"),
    ({"HOST": "ldaps://"}, "settingValues.1"),
    ({"CONNECTION_TIMEOUT": 0}, "settingValues.6"),
], ids=["port", "host", "timeout"])
def test_drafts_that_fail_the_offline_checks_are_refused_without_connecting(client, admin, ldap_system, draft, field):
    response = certificate(client, admin, ldap_system["id"], **{"HOST": "ldaps://127.0.0.1:1", **draft})
    assert field in assert_error(response, 400, "VALIDATION_ERROR")["validationErrors"]


@pytest.mark.parametrize("body, field", [
    ({"settingValues": {"99": {"stringValue": "x"}}}, "settingValues.99"),
    ({"settingValues": {"4": {"stringValue": "636"}}}, "settingValues.4"),
    ({"settingValues": []}, "settingValues"),
    ({"host": "ldaps://elsewhere.example.com"}, "host"),
], ids=["unknown-setting", "wrong-type", "not-an-object", "unknown-field"])
def test_a_malformed_read_body_is_a_validation_error(client, admin, ldap_system, body, field):
    response = client.post(f"{SYSTEMS}/{ldap_system['id']}/server-certificate", json=body, headers=admin)
    assert field in assert_error(response, 400, "VALIDATION_ERROR")["validationErrors"]


def test_what_is_not_ldaps_has_no_certificate_to_look_at(client, admin, ldap_system, ldap_directory):
    configure(client, admin, ldap_system["id"], **seed_settings(ldap_directory.url))
    assert_error(certificate(client, admin, ldap_system["id"]), 400, "BAD_REQUEST")
    created = client.post(SYSTEMS, json={"name": "HR file", "connectorDefinitionId": 1}, headers=admin)
    response = certificate(client, admin, created.json["id"])
    assert assert_error(response, 400, "BAD_REQUEST")["message"] == (
        "The 'JIM File Connector' connector makes no LDAPS connection, so there is no server certificate to look at.")


def test_a_port_that_speaks_no_tls_presents_no_certificate(client, admin, ldap_system, ldap_directory):
    system_id = ldap_system["id"]
    configure(client, admin, system_id, **seed_settings(f"ldaps://127.0.0.1:{ldap_directory.port}"))
    response = certificate(client, admin, system_id)
    documented(client, response, "GET", "/server-certificate")
    shown = response.json["certificate"]
    assert shown["failureReason"] == "NoCertificatePresented"
    assert (shown["subject"], shown["thumbprint"], shown["subjectAlternativeNames"]) == (None, None, [])
    response = trust(client, admin, system_id, "00" * 20)
    assert assert_error(response, 502, "BAD_GATEWAY")["message"] == (
        f"127.0.0.1:{ldap_directory.port} offered no certificate, so there is nothing to trust.")


def test_a_directory_that_cannot_be_reached_is_a_bad_gateway(client, admin, ldap_system):
    system_id = ldap_system["id"]
    port = free_port()
    configure(client, admin, system_id, **seed_settings(f"ldaps://127.0.0.1:{port}"))
    message = f"Could not reach the directory at ldaps://127.0.0.1:{port}: it refused the connection."
    assert assert_error(certificate(client, admin, system_id), 502, "BAD_GATEWAY")["message"] == message
    assert assert_error(trust(client, admin, system_id, "00" * 20), 502, "BAD_GATEWAY")["message"] == message


def test_roles(client, admin, reader, ldap_system, ldap_directory):
    system_id = ldap_system["id"]
    configure(client, admin, system_id, **seed_settings(ldap_directory.ldaps_url))
    assert certificate(client, reader, system_id).status_code == 200  # a Reader keeps the GETs
    assert_error(certificate(client, reader, system_id, HOST=ldap_directory.ldaps_url), 403, "FORBIDDEN")
    assert_error(trust(client, reader, system_id, "00" * 20), 403, "FORBIDDEN")
    for path in ("server-certificate", "server-certificate/trust"):
        assert_error(client.post(f"{SYSTEMS}/{system_id}/{path}", json={}), 401, "UNAUTHORISED")
    assert_error(client.get(f"{SYSTEMS}/{system_id}/server-certificate"), 401, "UNAUTHORISED")
    assert_error(certificate(client, admin, 999), 404, "NOT_FOUND")
    assert_error(trust(client, admin, 999, "00" * 20), 404, "NOT_FOUND")


@contextmanager
def tls_listener(folder, valid_from: datetime.datetime, valid_to: datetime.datetime):
    """A loopback listener that completes TLS handshakes, and nothing more, with a self-signed certificate for
    127.0.0.1 valid from ``valid_from`` to ``valid_to``: a directory's certificate out of its dates, which slapd
    will not be given. Yields its port."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(valid_from).not_valid_after(valid_to)
                   .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                                  critical=False)
                   .sign(key, hashes.SHA256()))
    (folder / "listener.pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    (folder / "listener.key").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                            serialization.PrivateFormat.PKCS8,
                                                            serialization.NoEncryption()))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(folder / "listener.pem", folder / "listener.key")

    class Handshake(socketserver.BaseRequestHandler):
        def handle(self):
            try:
                context.wrap_socket(self.request, server_side=True).close()
            except (ssl.SSLError, OSError):
                pass  # the reader refused the certificate, as it may

    with socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handshake) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            yield server.server_address[1]
        finally:
            server.shutdown()


@pytest.mark.parametrize("days, failure", [((-3, -1), "Expired"), ((1, 3), "NotYetValid")],
                         ids=["expired", "not-yet-valid"])
def test_a_certificate_out_of_its_dates_says_so_first(client, admin, ldap_system, tmp_path, days, failure):
    """Trusted or not: trusting its issuer does not waive the dates, so they are what the administrator is told."""
    now = datetime.datetime.now(datetime.UTC)
    with tls_listener(tmp_path, now + datetime.timedelta(days=days[0]), now + datetime.timedelta(days=days[1])) as port:
        system_id = ldap_system["id"]
        configure(client, admin, system_id, HOST=f"ldaps://127.0.0.1:{port}")
        shown = certificate(client, admin, system_id).json["certificate"]
        assert shown["failureReason"] == failure
        assert (shown["isExpired"], shown["isNotYetValid"]) == (failure == "Expired", failure == "NotYetValid")
        configure(client, admin, system_id, TRUSTED_CA_CERTIFICATES=(tmp_path / "listener.pem").read_text())
        assert certificate(client, admin, system_id).json["certificate"]["failureReason"] == failure


# Trusting: the certificate named by its thumbprint joins Trusted CA Certificates, and the import then works.

def test_trusting_the_issuer_makes_the_failed_import_succeed(client, admin, admin_key, ldap_system, ldap_directory):
    system_id = ldap_system["id"]
    configure(client, admin, system_id, **seed_settings(ldap_directory.ldaps_url))
    assert_error(import_schema(client, admin_key, system_id), 502, "BAD_GATEWAY")
    shown = certificate(client, admin, system_id).json["certificate"]
    _, etag = stored(client, admin, system_id)

    # As quoted from elsewhere: lower case, colons between the pairs.
    quoted = ":".join(shown["issuerThumbprint"][i:i + 2] for i in range(0, 40, 2)).lower()
    response = trust(client, admin, system_id, quoted)
    assert response.status_code == 201, response.json
    documented(client, response, "POST", "/server-certificate/trust")
    ca = read_certificate(ldap_directory.folder / "ca.pem")
    answer = response.json
    added = answer.pop("certificate")
    assert answer == {"outcome": "Trusted", "message": None, "expectedThumbprint": shown["issuerThumbprint"],
                      "presentedThumbprint": shown["issuerThumbprint"]}
    assert {key: added[key] for key in ("name", "thumbprint", "subject", "issuer", "serialNumber", "isEnabled",
                                        "createdBy", "isExpired", "isExpiringSoon", "daysUntilExpiry")} == {
        "name": "JIM test CA", "thumbprint": thumbprint_of(ca), "subject": "CN=JIM test CA",
        "issuer": "CN=JIM test CA", "serialNumber": f"{ca.serial_number:X}", "isEnabled": True,
        "createdBy": "test-administrator", "isExpired": False, "isExpiringSoon": True, "daysUntilExpiry": 1}
    assert added["notes"] == (f"Trusted from the 'Corporate LDAP' Connected System, which 127.0.0.1:"
                              f"{ldap_directory.ldaps_port} presented it to.")

    # A change of settings: the CA's PEM in setting 15, unvalidated, a new ETag, a history record.
    system, new_etag = stored(client, admin, system_id)
    assert response.headers["ETag"] == new_etag != etag
    held = system["settingValues"]["15"]["stringValue"]
    assert [thumbprint_of(c) for c in x509.load_pem_x509_certificates(held.encode())] == [thumbprint_of(ca)]
    assert system["settingValuesValid"] is False
    record = history(client, admin, system_id)[0]
    assert record["action"] == "Updated"
    assert record["changeReason"] == (f"Trusted the certificate presented by 127.0.0.1:{ldap_directory.ldaps_port} "
                                      f"for the 'Corporate LDAP' Connected System.")
    assert [change["field"] for change in record["changes"]] == ["settingValues.15"]

    imported = import_schema(client, admin_key, system_id)
    assert imported.status_code == 200, imported.json
    assert imported.json["settingValuesValid"] is True
    assert certificate(client, admin, system_id).json["certificate"]["failureReason"] == "None"

    # Again: nothing to do, nothing written.
    records = history(client, admin, system_id)
    again = trust(client, admin, system_id, shown["issuerThumbprint"])
    assert again.status_code == 200, again.json
    documented(client, again, "POST", "/server-certificate/trust")
    assert again.json == {"outcome": "AlreadyTrusted", "message": "'JIM test CA' is already in Trusted CA Certificates.",
                          "certificate": None, "expectedThumbprint": shown["issuerThumbprint"],
                          "presentedThumbprint": shown["issuerThumbprint"]}
    assert history(client, admin, system_id) == records
    assert stored(client, admin, system_id)[0]["settingValuesValid"] is True


def test_trusting_a_self_signed_certificate_makes_the_import_succeed(client, admin, admin_key, ldap_system,
                                                                     self_signed_directory):
    system_id = ldap_system["id"]
    configure(client, admin, system_id, **seed_settings(self_signed_directory.ldaps_url))
    assert_error(import_schema(client, admin_key, system_id), 502, "BAD_GATEWAY")
    thumbprint = certificate(client, admin, system_id).json["certificate"]["thumbprint"]
    response = trust(client, admin, system_id, thumbprint, changeReason="Directory moved to LDAPS")
    assert response.status_code == 201, response.json
    assert response.json["certificate"]["subject"] == "CN=localhost"
    assert history(client, admin, system_id)[0]["changeReason"] == "Directory moved to LDAPS"
    assert import_schema(client, admin_key, system_id).status_code == 200


def test_trusting_the_server_certificate_itself_works_as_well(client, admin, admin_key, ldap_system, ldap_directory):
    """The leaf of a CA's chain, trusted alone: a certificate in Trusted CA Certificates is an anchor itself."""
    system_id = ldap_system["id"]
    configure(client, admin, system_id, **seed_settings(ldap_directory.ldaps_url))
    leaf = certificate(client, admin, system_id).json["certificate"]["thumbprint"]
    assert trust(client, admin, system_id, leaf.lower()).status_code == 201
    assert import_schema(client, admin_key, system_id).status_code == 200


def test_a_trust_through_unsaved_settings_keeps_only_the_trust(client, admin, ldap_system, ldap_directory):
    """Approve-...-SettingValues: the certificate is read where the drafts point; only the trust is stored."""
    system_id = ldap_system["id"]
    configure(client, admin, system_id, **seed_settings(ldap_directory.url))
    drafts = setting_values(HOST=ldap_directory.ldaps_url)
    shown = client.post(f"{SYSTEMS}/{system_id}/server-certificate", json={"settingValues": drafts},
                        headers=admin).json["certificate"]
    response = trust(client, admin, system_id, shown["issuerThumbprint"], settingValues=drafts)
    assert response.status_code == 201, response.json
    values = stored(client, admin, system_id)[0]["settingValues"]
    assert values["1"]["stringValue"] == ldap_directory.url
    assert values["15"]["stringValue"] == ldap_directory.ca_pem


def test_a_trust_keeps_what_the_setting_held(client, admin, ldap_system, ldap_directory, self_signed_directory):
    system_id = ldap_system["id"]
    configure(client, admin, system_id, **seed_settings(self_signed_directory.ldaps_url,
                                                        TRUSTED_CA_CERTIFICATES=ldap_directory.ca_pem))
    thumbprint = certificate(client, admin, system_id).json["certificate"]["thumbprint"]
    assert trust(client, admin, system_id, thumbprint).status_code == 201
    held = stored(client, admin, system_id)[0]["settingValues"]["15"]["stringValue"]
    assert held.startswith(ldap_directory.ca_pem.rstrip())
    assert [thumbprint_of(c) for c in x509.load_pem_x509_certificates(held.encode())] == [
        thumbprint_of(read_certificate(ldap_directory.folder / "ca.pem")), thumbprint]


def test_another_thumbprint_is_a_conflict_and_nothing_is_trusted(client, admin, ldap_system, ldap_directory):
    system_id = ldap_system["id"]
    configure(client, admin, system_id, **seed_settings(ldap_directory.ldaps_url))
    before = stored(client, admin, system_id)
    leaf = certificate(client, admin, system_id).json["certificate"]["thumbprint"]
    response = trust(client, admin, system_id, "AB" * 20)
    assert response.status_code == 409
    # The envelope, with JIM's TrustServerCertificateResponse fields as its details.
    body = response.json
    assert (body["code"], body["validationErrors"]) == ("CONFLICT", None)
    assert body["message"] == ("127.0.0.1 is presenting a different certificate from the one you confirmed, so nothing "
                               "has been trusted. This is expected if the certificate was renewed; investigate if it "
                               "was not.")
    assert body["details"] == {"outcome": "ThumbprintMismatch", "expectedThumbprint": "AB" * 20,
                               "presentedThumbprint": leaf}
    documented(client, response, "POST", "/server-certificate/trust")
    assert stored(client, admin, system_id) == before


def test_a_trust_that_would_overfill_the_setting_is_refused(client, admin, ldap_system, ldap_directory):
    system_id = ldap_system["id"]
    almost_full = ldap_directory.ca_pem + "# " + "x" * (4000 - len(ldap_directory.ca_pem) - 3) + "\n"
    configure(client, admin, system_id, **seed_settings(ldap_directory.ldaps_url,
                                                        TRUSTED_CA_CERTIFICATES=almost_full))
    before = stored(client, admin, system_id)
    leaf = certificate(client, admin, system_id).json["certificate"]["thumbprint"]
    response = trust(client, admin, system_id, leaf)
    assert assert_error(response, 409, "CONFLICT")["message"] == (
        "Trusted CA Certificates would hold more than 4000 characters with this certificate: remove one it no longer "
        "needs (settingValues.15), then trust again.")
    assert stored(client, admin, system_id) == before


def test_a_stale_if_match_trusts_nothing(client, admin, ldap_system, ldap_directory):
    system_id = ldap_system["id"]
    configure(client, admin, system_id, **seed_settings(ldap_directory.ldaps_url))
    _, etag = stored(client, admin, system_id)
    leaf = certificate(client, admin, system_id).json["certificate"]["thumbprint"]
    configure(client, admin, system_id, CONNECTION_TIMEOUT=5)
    before = stored(client, admin, system_id)
    response = trust(client, {**admin, "If-Match": etag}, system_id, leaf)
    assert_error(response, 412, "PRECONDITION_FAILED")
    assert stored(client, admin, system_id) == before


@pytest.mark.parametrize("body, field", [
    ({}, "thumbprint"),
    ({"thumbprint": ""}, "thumbprint"),
    ({"thumbprint": " : "}, "thumbprint"),
    ({"thumbprint": "not-a-thumbprint"}, "thumbprint"),
    ({"thumbprint": "AB" * 21}, "thumbprint"),
    ({"thumbprint": 42}, "thumbprint"),
    ({"thumbprint": "AB" * 20, "changeReason": "x" * 2001}, "changeReason"),
    ({"thumbprint": "AB" * 20, "settingValues": {"1": {"intValue": 1}}}, "settingValues.1"),
    ({"thumbprint": "AB" * 20, "trustEverything": True}, "trustEverything"),
], ids=["absent", "empty", "separators-only", "not-hex", "too-long", "number", "long-reason", "bad-draft",
        "unknown-field"])
def test_a_malformed_trust_is_a_validation_error_and_trusts_nothing(client, admin, ldap_system, ldap_directory,
                                                                    body, field):
    system_id = ldap_system["id"]
    configure(client, admin, system_id, **seed_settings(ldap_directory.ldaps_url))
    before = stored(client, admin, system_id)
    response = client.post(f"{SYSTEMS}/{system_id}/server-certificate/trust", json=body, headers=admin)
    assert field in assert_error(response, 400, "VALIDATION_ERROR")["validationErrors"]
    assert stored(client, admin, system_id) == before


def test_a_trust_body_must_be_json(client, admin, ldap_system):
    path = f"{SYSTEMS}/{ldap_system['id']}/server-certificate/trust"
    assert_error(client.post(path, data="{", headers={**admin, "Content-Type": "application/json"}), 400,
                 "BAD_REQUEST")
    assert_error(client.post(path, data=json.dumps({"thumbprint": "AB" * 20}),
                             headers={"X-Api-Key": admin["X-Api-Key"], "Content-Type": "text/plain"}),
                 415, "UNSUPPORTED_MEDIA_TYPE")


def test_no_answer_or_log_line_shows_the_password(client, admin, ldap_system, ldap_directory, caplog):
    system_id = ldap_system["id"]
    configure(client, admin, system_id, **seed_settings(ldap_directory.ldaps_url))
    answers = [certificate(client, admin, system_id)]
    answers.append(trust(client, admin, system_id, "AB" * 20))
    answers.append(trust(client, admin, system_id, answers[0].json["certificate"]["issuerThumbprint"]))
    for answer in answers:
        assert not shows(answer.get_data(as_text=True), SERVICE_PASSWORD)
    assert not shows(caplog.text, SERVICE_PASSWORD)
