"""Schema and hierarchy import from an LDAP connected system, through the API, against a real OpenLDAP slapd
(tests/ldap_directory.py): what the administrator sees answered and stored, what the history records, and
that the password is in no answer and no log line. Active Directory has its own, against a throwaway Samba AD
domain controller (test_active_directory.py).
"""
import json
import logging
import socketserver
import threading
import time
from contextlib import contextmanager

import pytest
from cryptography.fernet import Fernet

from conftest import SYSTEMS
from connectors import ldap
from connectors.interface import Deadline, Refused, Settings, Unreachable
from envelope import assert_error
from importing import answered_while_held, failed, history, object_types
from ldap_directory import (
    ADMIN_DN,
    ADMIN_PASSWORD,
    NO_SCHEMA_DN,
    NO_SCHEMA_PASSWORD,
    SAMPLE_CLASS,
    SAMPLE_SYNTAXES,
    SERVICE_PASSWORD,
    SUFFIX,
    require_slapd,
    running_directory,
)
from leaks import shows
from relay import Relay
from servers import free_port
from silent import silent_server
from test_key_rotation import service_with_keys
from test_seed import SEED_SETTINGS

# The seed's bind account, as its curl gives it; the throwaway directory holds it with the seed's password.
SEED_ACCOUNT = "CN=JIM,OU=Service,DC=example,DC=com"
T, N, R, BIN = "Text", "Number", "Reference", "Binary"
SINGLE, MULTI, WRITABLE = "SingleValued", "MultiValued", "Writable"


def setting_values(**values) -> dict:
    """The settingValues of a PUT, by setting name: ``HOST="ldap://..."``, ``PORT=636``."""
    return {str(getattr(ldap, name).id): {getattr(ldap, name).value_key: value} for name, value in values.items()}


def configure(client, admin, system_id: int, **values):
    response = client.put(f"{SYSTEMS}/{system_id}", json={"settingValues": setting_values(**values)}, headers=admin)
    assert response.status_code == 200, response.json
    return response


def seed_settings(host: str, **more) -> dict:
    return {"HOST": host, "USERNAME": SEED_ACCOUNT, "PASSWORD": SERVICE_PASSWORD, **more}


def import_schema(client, admin_key, system_id: int):
    """As the seed's curl does it: a POST with no body and no Content-Type."""
    return client.post(f"{SYSTEMS}/{system_id}/import-schema", headers={"X-Api-Key": admin_key})


def import_hierarchy(client, admin_key, system_id: int):
    return client.post(f"{SYSTEMS}/{system_id}/import-hierarchy", headers={"X-Api-Key": admin_key})


def imported_types(client, admin, admin_key, system_id: int, **values) -> dict:
    configure(client, admin, system_id, **values)
    response = import_schema(client, admin_key, system_id)
    assert response.status_code == 200, response.json
    return object_types(client, admin, system_id)


# The seed, end to end.

def test_the_seed_end_to_end(client, admin, admin_key, reader, ldap_system, ldap_directory, caplog):
    caplog.set_level(logging.DEBUG)
    system_id = ldap_system["id"]
    answers = []
    # The seed's "Configure connector settings", byte for byte but for the throwaway directory's address.
    body = SEED_SETTINGS.replace("ldap://directory.example.com:389", ldap_directory.url)
    answers.append(client.put(f"{SYSTEMS}/{system_id}", data=body, headers=admin))
    assert answers[-1].status_code == 200 and answers[-1].json["settingValuesValid"] is False

    answers.append(import_schema(client, admin_key, system_id))
    assert answers[-1].status_code == 200, answers[-1].json
    imported = answers[-1].json
    assert imported["settingValuesValid"] is True
    assert imported["settingValues"]["3"] == {"name": "Password", "type": "StringEncrypted", "hasValue": True}
    names = [t["name"] for t in imported["objectTypes"]]
    assert names == sorted(names, key=str.casefold)
    assert {"inetOrgPerson", "groupOfNames", "posixGroup", "organizationalUnit"} <= set(names)
    by_name = {t["name"]: t for t in imported["objectTypes"]}
    assert by_name["inetOrgPerson"]["selected"] is False and by_name["inetOrgPerson"]["attributeCount"] > 40

    answers.append(client.get(f"{SYSTEMS}/{system_id}", headers=reader))
    assert answers[-1].json["settingValuesValid"] is True and answers[-1].json["objectTypes"] == imported["objectTypes"]
    answers.append(client.get(f"{SYSTEMS}/{system_id}/object-types", headers=reader))
    person = {a["name"]: a for a in next(t for t in answers[-1].json if t["name"] == "inetOrgPerson")["attributes"]}
    assert {key: person["sn"][key] for key in ("className", "type", "attributePlurality", "writability", "selected")} \
        == {"className": "person", "type": T, "attributePlurality": MULTI, "writability": WRITABLE, "selected": False}
    assert person["sn"]["description"] == "RFC2256: last (family) name(s) for which the entity is known by"

    records = history(client, reader, system_id)
    assert records[0]["action"] == "SchemaImported"
    for answer in answers:
        assert not shows(answer.get_data(as_text=True), SERVICE_PASSWORD)
    assert not shows(json.dumps(records), SERVICE_PASSWORD)
    assert caplog.records and not shows(caplog.text, SERVICE_PASSWORD)


def warnings_of(caplog) -> list[str]:
    """What the service logged at WARNING about imports."""
    return [record.getMessage() for record in caplog.records
            if record.levelno == logging.WARNING and record.name == "discovery"]


# What the schemas make of the directory's classes.

def test_object_types_are_the_structural_classes_less_the_directorys_own(client, admin, admin_key, ldap_system,
                                                                        ldap_directory):
    types = imported_types(client, admin, admin_key, ldap_system["id"], **seed_settings(ldap_directory.url))
    assert {"inetOrgPerson", "organizationalPerson", "person", "groupOfNames", "groupOfUniqueNames", "posixGroup",
            "organizationalUnit", "organization", "account", "device", "applicationProcess"} <= set(types)
    # Auxiliary and abstract classes are no object types; nor are the root DSE, subentries, referrals and cn=config.
    assert not {"posixAccount", "shadowAccount", "top", "OpenLDAProotDSE", "subentry", "subschema", "referral",
                "olcGlobal", "olcDatabaseConfig", "olcMdbConfig", "olcSchemaConfig"} & set(types)


def test_attributes_are_inherited_with_their_syntax_plurality_and_writability(client, admin, admin_key, ldap_system,
                                                                             ldap_directory):
    types = imported_types(client, admin, admin_key, ldap_system["id"], **seed_settings(ldap_directory.url))
    person = types["inetOrgPerson"]
    # cn and sn from person, telephoneNumber from organizationalPerson, objectClass from top; cn's syntax is
    # name's, which it inherits.
    assert person["cn"] == person["sn"] == (T, MULTI, WRITABLE)
    assert person["telephoneNumber"] == person["objectClass"] == (T, MULTI, WRITABLE)
    assert person["displayName"] == person["preferredLanguage"] == (T, SINGLE, WRITABLE)
    assert person["manager"] == (R, MULTI, WRITABLE)
    assert person["jpegPhoto"] == person["userCertificate"] == (BIN, MULTI, WRITABLE)
    assert "uidNumber" not in person and "homeDirectory" not in person  # posixAccount's, an auxiliary class
    # member has no syntax of its own: it inherits distinguishedName's, a DN.
    assert types["groupOfNames"]["member"] == (R, MULTI, WRITABLE)
    assert types["groupOfUniqueNames"]["uniqueMember"] == (R, MULTI, WRITABLE)
    assert types["posixGroup"]["gidNumber"] == (N, SINGLE, WRITABLE)
    assert types["posixGroup"]["memberUid"] == (T, MULTI, WRITABLE)


# The type each syntax maps to, for the attributes of SAMPLE_CLASS named after their syntax.
SYNTAX_TYPES = {"DN": R, "NameAndOptionalUID": R, "Integer": N, "Boolean": "Boolean", "GeneralizedTime": "DateTime",
                "UUID": "Guid", "OctetString": BIN, "Binary": BIN, "Audio": BIN, "Certificate": BIN,
                "CertificateList": BIN, "CertificatePair": BIN, "Fax": BIN, "JPEG": BIN, "SupportedAlgorithm": BIN,
                "DirectoryString": T}


def test_each_syntax_gives_its_type(client, admin, admin_key, ldap_system, ldap_directory):
    types = imported_types(client, admin, admin_key, ldap_system["id"], **seed_settings(ldap_directory.url))
    assert set(SYNTAX_TYPES) == set(SAMPLE_SYNTAXES)
    assert types[SAMPLE_CLASS] == {"cn": (T, MULTI, WRITABLE), "objectClass": (T, MULTI, WRITABLE),
                                   **{f"jim{syntax}": (expected, SINGLE, WRITABLE)
                                      for syntax, expected in SYNTAX_TYPES.items()}}


def test_auxiliary_classes_are_offered_on_structural_types_only_with_the_setting(client, admin, admin_key,
                                                                                ldap_system, ldap_directory):
    system_id = ldap_system["id"]
    plain = imported_types(client, admin, admin_key, system_id, **seed_settings(ldap_directory.url))
    types = imported_types(client, admin, admin_key, system_id, INCLUDE_AUXILIARY_CLASSES=True)
    assert set(types) == set(plain)  # still no type of their own
    person = types["inetOrgPerson"]
    assert person["uidNumber"] == person["gidNumber"] == (N, SINGLE, WRITABLE)  # posixAccount
    assert person["homeDirectory"] == person["loginShell"] == (T, SINGLE, WRITABLE)
    assert person["shadowExpire"] == (N, SINGLE, WRITABLE)  # shadowAccount
    assert person["macAddress"] == (T, MULTI, WRITABLE)  # ieee802Device: any auxiliary, as no rule limits them
    assert set(plain["inetOrgPerson"]) < set(person)
    # The directory's own auxiliaries bring nothing: no subschema attributes, no dynamic entries' time to live.
    assert not {"objectClasses", "attributeTypes", "entryTtl"} & set(person)
    # The directory's DIT content rule for account names only posixAccount and shadowAccount.
    assert {"uidNumber", "shadowExpire"} <= set(types["account"])
    assert "macAddress" not in types["account"] and "uidNumber" not in plain["account"]
    # Switched off again, a re-import removes what the auxiliaries brought.
    assert imported_types(client, admin, admin_key, system_id, INCLUDE_AUXILIARY_CLASSES=False) == plain


# Where the directory is, and how to reach it.

@pytest.mark.parametrize("host, more", [
    ("{url}", {"PORT": 1}),  # the URL's port, not the Port setting
    ("127.0.0.1", {"PORT": "{port}"}),
    ("ldap://127.0.0.1", {"PORT": "{port}"}),  # a URL without a port takes the Port setting
    ("{ldaps_url}", {"TRUSTED_CA_CERTIFICATES": "{ca}"}),
    ("127.0.0.1", {"PORT": "{ldaps_port}", "USE_LDAPS": True, "TRUSTED_CA_CERTIFICATES": "{ca}"}),
    ("ldap://127.0.0.1:{ldaps_port}", {"USE_LDAPS": True, "TRUSTED_CA_CERTIFICATES": "{ca}"}),
], ids=["url", "host-and-port", "url-without-port", "ldaps-url", "ldaps-setting", "ldap-url-with-ldaps-setting"])
def test_the_host_as_a_name_or_a_url(client, admin, admin_key, ldap_system, ldap_directory, host, more):
    given = {"url": ldap_directory.url, "ldaps_url": ldap_directory.ldaps_url, "ca": ldap_directory.ca_pem,
             "port": ldap_directory.port, "ldaps_port": ldap_directory.ldaps_port}
    filled = {name: int(value.format(**given)) if name == "PORT" and isinstance(value, str) else
              value.format(**given) if isinstance(value, str) else value for name, value in more.items()}
    configure(client, admin, ldap_system["id"], **seed_settings(host.format(**given), **filled))
    response = import_schema(client, admin_key, ldap_system["id"])
    assert response.status_code == 200, response.json
    assert "inetOrgPerson" in {t["name"] for t in response.json["objectTypes"]}


@contextmanager
def answering_server(answer: bytes):
    """A loopback server that reads what it is sent, answers ``answer`` and hangs up."""
    class Answer(socketserver.BaseRequestHandler):
        def handle(self):
            self.request.recv(4096)
            self.request.sendall(answer)

    with socketserver.ThreadingTCPServer(("127.0.0.1", 0), Answer) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield server.server_address[1]
        finally:
            server.shutdown()
            thread.join()


# What nginx answers bytes that are not HTTP.
NGINX_BAD_REQUEST = (b"HTTP/1.1 400 Bad Request\r\nServer: nginx\r\nDate: Tue, 01 Dec 2026 10:30:00 GMT\r\n"
                     b"Content-Type: text/html\r\nContent-Length: 150\r\nConnection: close\r\n\r\n<html>\r\n"
                     b"<head><title>400 Bad Request</title></head>\r\n<body>\r\n<center><h1>400 Bad Request</h1>"
                     b"</center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n")
WRONG_PASSWORD = "s3cur3p@ssw0rd-but-not-this-one"

# (case, its settings by name from the running directory, the status, what the message says)
FAILURES = [
    ("wrong-password", lambda d: seed_settings(d.url, PASSWORD=WRONG_PASSWORD), 400,
     f"The directory refused to let {SEED_ACCOUNT} bind: invalidCredentials (49)."),
    ("unknown-account", lambda d: seed_settings(d.url, USERNAME=f"cn=Nobody,{SUFFIX}"), 400,
     f"The directory refused to let cn=Nobody,{SUFFIX} bind: invalidCredentials (49)."),
    ("not-an-ipv6-address", lambda d: seed_settings("[:]"), 400,
     "ldap://[:]:389 is not an address a directory can be reached at: check Host and Port."),
    ("closed-port", lambda d: seed_settings(f"ldap://127.0.0.1:{free_port()}"), 502,
     "Could not reach the directory at ldap://127.0.0.1:{port}: it refused the connection."),
    ("unresolvable", lambda d: seed_settings("ldap://no-such-host.invalid:389"), 502,
     "Could not reach the directory at ldap://no-such-host.invalid:389: its host name could not be resolved."),
    ("untrusted-certificate", lambda d: seed_settings(d.ldaps_url), 502,
     "Could not reach the directory at {host}: the TLS handshake failed (certificate verify failed: self-signed "
     "certificate in certificate chain)."),
    ("unreadable-ca", lambda d: seed_settings(d.ldaps_url, TRUSTED_CA_CERTIFICATES="-----BEGIN CERTIFICATE-----\nx\n"),
     400, "Trusted CA Certificates holds no certificate that can be read: give PEM certificates, each from "
          "-----BEGIN CERTIFICATE----- to -----END CERTIFICATE-----."),
    ("tls-to-plain-port", lambda d: seed_settings(f"ldaps://127.0.0.1:{d.port}", TRUSTED_CA_CERTIFICATES=d.ca_pem),
     502, "Could not reach the directory at {host}: the TLS handshake failed"),
    ("ntlm", lambda d: seed_settings(d.url, AUTHENTICATION_TYPE="NTLM"), 400,
     "This service binds with Simple authentication only; set Authentication Type to Simple (over LDAPS, so that "
     "the password travels encrypted)."),
]


def expected_message(message: str, values: dict) -> str:
    host = values["HOST"]
    return message.format(host=host, port=host.rsplit(":", 1)[-1])


@pytest.mark.parametrize("import_path", ["import-schema", "import-hierarchy"])
@pytest.mark.parametrize("make, status, message", [case[1:] for case in FAILURES], ids=[case[0] for case in FAILURES])
def test_failures_say_what_the_directory_said_and_never_the_password(client, admin, admin_key, reader, ldap_system,
                                                                      ldap_directory, caplog, import_path, make,
                                                                      status, message):
    caplog.set_level(logging.DEBUG)
    system_id, values = ldap_system["id"], make(ldap_directory)
    configure(client, admin, system_id, **values)
    shown = failed(client, admin, system_id, status, import_path)
    assert shown.startswith(expected_message(message, values)), shown
    # The log says why, as the answer does.
    assert warnings_of(caplog) == [f"The {import_path.removeprefix('import-')} import of connected system "
                                   f"{system_id} failed: {shown}"]
    password = values["PASSWORD"]
    assert not shows(shown, password) and not shows(json.dumps(history(client, reader, system_id)), password)
    assert not shows(caplog.text, password)


@pytest.mark.parametrize("make, status, message", [case[1:] for case in FAILURES], ids=[case[0] for case in FAILURES])
def test_the_connectors_own_messages_hold_no_password(ldap_directory, make, status, message):
    """Before the runner scrubs anything: the connector itself never puts the password in a message."""
    values = make(ldap_directory)
    given = Settings({getattr(ldap, name).id: value for name, value in values.items()}, (values["PASSWORD"],), None)
    for discovery in (ldap.discover_schema, ldap.discover_hierarchy):
        with pytest.raises((Refused, Unreachable)) as raised:
            discovery(given, Deadline(20))
        assert raised.value.message.startswith(expected_message(message, values))
        assert not shows(raised.value.message, values["PASSWORD"])


@pytest.mark.parametrize("import_path, failed", [("import-schema", "SchemaImportFailed"),
                                                  ("import-hierarchy", "HierarchyImportFailed")])
def test_settings_the_directory_stops_accepting_are_recorded_as_not_valid(client, admin, admin_key, reader,
                                                                         ldap_system, ldap_directory, import_path,
                                                                         failed):
    system_id = ldap_system["id"]
    configure(client, admin, system_id, **seed_settings(ldap_directory.url))
    assert client.post(f"{SYSTEMS}/{system_id}/{import_path}", headers={"X-Api-Key": admin_key}).status_code == 200
    changed = f"dn: {SEED_ACCOUNT}\nchangetype: modify\nreplace: userPassword\nuserPassword: {WRONG_PASSWORD}\n"
    ldap_directory.tool("ldapmodify", changed)
    try:
        response = client.post(f"{SYSTEMS}/{system_id}/{import_path}", headers={"X-Api-Key": admin_key})
    finally:
        ldap_directory.tool("ldapmodify", changed.replace(WRONG_PASSWORD, SERVICE_PASSWORD))
    assert_error(response, 400, "BAD_REQUEST")
    assert client.get(f"{SYSTEMS}/{system_id}", headers=reader).json["settingValuesValid"] is False
    record = history(client, reader, system_id)[0]
    assert record["action"] == failed
    assert [(c["field"], c["oldValue"], c["newValue"]) for c in record["changes"]] == [
        ("settingValuesValid", True, False)]


@pytest.mark.parametrize("import_path, failed_action", [("import-schema", "SchemaImportFailed"),
                                                         ("import-hierarchy", "HierarchyImportFailed")])
def test_a_password_no_configured_key_can_read_fails_the_offline_checks_and_is_recorded(
        app_config, client, admin, admin_key, ldap_system, ldap_directory, caplog, import_path, failed_action):
    """The service restarted with another JIM_ENCRYPTION_KEY: the stored password is unreadable, and the import
    refuses, naming it, as validate-settings does; the settings no longer work, and that is recorded."""
    system_id = ldap_system["id"]
    configure(client, admin, system_id, **seed_settings(ldap_directory.url))
    assert client.post(f"{SYSTEMS}/{system_id}/{import_path}", headers={"X-Api-Key": admin_key}).status_code == 200
    with service_with_keys(app_config, Fernet.generate_key().decode()) as restarted:
        response = restarted.test_client().post(f"{SYSTEMS}/{system_id}/{import_path}",
                                                headers={"X-Api-Key": admin_key})
    body = assert_error(response, 400, "VALIDATION_ERROR")
    assert list(body["validationErrors"]) == [f"settingValues.{ldap.PASSWORD.id}"]
    assert warnings_of(caplog) == [f"The {import_path.removeprefix('import-')} import of connected system "
                                   f"{system_id} failed: settingValues.3: Password cannot be read with any "
                                   f"configured encryption key; set it again."]
    assert client.get(f"{SYSTEMS}/{system_id}", headers=admin).json["settingValuesValid"] is False
    record = history(client, admin, system_id)[0]
    assert (record["action"], record["changes"]) == (
        failed_action, [{"field": "settingValuesValid", "oldValue": True, "newValue": False}])


def test_an_account_that_may_not_read_the_schema_is_refused_not_given_an_empty_one(client, admin, admin_key, reader,
                                                                                  ldap_system, ldap_directory):
    system_id = ldap_system["id"]
    configure(client, admin, system_id, **seed_settings(ldap_directory.url, USERNAME=NO_SCHEMA_DN,
                                                        PASSWORD=NO_SCHEMA_PASSWORD))
    body = assert_error(import_schema(client, admin_key, system_id), 400, "BAD_REQUEST")
    assert body["message"] == (f"{NO_SCHEMA_DN} may not read the directory's schema (cn=Subschema): grant it read "
                               f"access to the subschema entry.")
    assert client.get(f"{SYSTEMS}/{system_id}", headers=reader).json["objectTypes"] == []
    # The containers, which it may read, it may import.
    assert import_hierarchy(client, admin_key, system_id).status_code == 200


@pytest.mark.parametrize("answer, message", [
    (NGINX_BAD_REQUEST, "{where} answered, but not in LDAP: is a directory listening on that port?"),
    (b"", "Could not reach the directory at {where}: it closed the connection without answering."),
], ids=["web-server", "hangs-up"])
def test_a_server_that_does_not_speak_ldap(client, admin, admin_key, ldap_system, answer, message):
    with answering_server(answer) as port:
        where = f"ldap://127.0.0.1:{port}"
        configure(client, admin, ldap_system["id"], **seed_settings(where))
        body = assert_error(import_schema(client, admin_key, ldap_system["id"]), 502, "BAD_GATEWAY")
    assert body["message"] == message.format(where=where)


def test_a_certificate_for_another_host_name_is_refused(client, admin, admin_key, ldap_system, tmp_path):
    require_slapd()
    with running_directory(tmp_path, certificate_names=("directory.example.com",)) as other:
        configure(client, admin, ldap_system["id"],
                  **seed_settings(other.ldaps_url, TRUSTED_CA_CERTIFICATES=other.ca_pem))
        body = assert_error(import_schema(client, admin_key, ldap_system["id"]), 502, "BAD_GATEWAY")
    assert body["message"] == (f"Could not reach the directory at {other.ldaps_url}: the TLS handshake failed "
                               f"(certificate verify failed: IP address mismatch, certificate is not valid for "
                               f"'127.0.0.1'.).")  # in plain words, without the escapes of a Python repr


@pytest.mark.parametrize("scheme", ["ldap", "ldaps"])
@pytest.mark.parametrize("timeout, deadline, message", [
    (1, 20, "Could not reach the directory at {where}: it did not answer within 1 second."),
    (10, 1.5, "time limit of 1.5 seconds."),  # the runner's words or the connector's, whichever stops first
], ids=["connection-timeout", "deadline"])
def test_a_server_that_never_answers_is_given_up_on_in_time(app_config, request, scheme, timeout, deadline,
                                                           message):
    app_config["JIM_CONNECTOR_TIMEOUT_SECONDS"] = deadline
    client, admin = request.getfixturevalue("client"), request.getfixturevalue("admin")
    admin_key, system_id = request.getfixturevalue("admin_key"), request.getfixturevalue("ldap_system")["id"]
    with silent_server() as (host, port):
        where = f"{scheme}://{host}:{port}"
        configure(client, admin, system_id, **seed_settings(where, CONNECTION_TIMEOUT=timeout))
        started = time.monotonic()
        body = assert_error(import_schema(client, admin_key, system_id), 502, "BAD_GATEWAY")
        waited = time.monotonic() - started
    assert message.format(where=where) in body["message"]
    assert min(timeout, deadline) - 0.1 < waited < min(timeout, deadline) + 1.5


# The hierarchy: naming contexts and their containers.

def tree_of(partitions: list[dict]) -> dict:
    """Each partition and container by external id: (id, name, description, parent's external id, selected)."""
    found = {}

    def walk(containers, parent):
        for container in containers:
            found[container["externalId"]] = (container["id"], container["name"], container["description"],
                                              parent, container["selected"])
            walk(container["childContainers"], container["externalId"])

    for partition in partitions:
        found[partition["externalId"]] = (partition["id"], partition["name"], None, None, partition["selected"])
        walk(partition["containers"], partition["externalId"])
    return found


def partitions(client, headers, system_id: int) -> dict:
    response = client.get(f"{SYSTEMS}/{system_id}/partitions", headers=headers)
    assert response.status_code == 200, response.json
    return tree_of(response.json)


def test_the_hierarchy_is_the_naming_contexts_and_their_containers_as_a_tree(client, admin, admin_key, reader,
                                                                            ldap_system, ldap_directory):
    """(Containers read over many pages: test_big_systems.py's 20,220 OUs, which slapd answers 500 a page.)"""
    system_id = ldap_system["id"]
    configure(client, admin, system_id, **seed_settings(ldap_directory.url))
    response = import_hierarchy(client, admin_key, system_id)
    assert response.status_code == 200, response.json
    people = f"ou=People,{SUFFIX}"
    assert response.json["totalPartitions"] == 1 and response.json["totalContainers"] == 5
    assert response.json["addedPartitions"] == [
        {"externalId": SUFFIX, "name": SUFFIX, "wasSelected": False, "itemType": "Partition"}]
    assert {item["externalId"] for item in response.json["addedContainers"]} == {
        people, f"ou=Contractors,{people}", f"ou=Sales\\2C EMEA,{people}", f"ou=Groups,{SUFFIX}",
        f"ou=Service,{SUFFIX}"}
    tree = partitions(client, reader, system_id)
    assert {dn: (name, description, parent, selected) for dn, (_, name, description, parent, selected)
            in tree.items()} == {
        SUFFIX: (SUFFIX, None, None, False),
        people: ("People", "Everyone employed", SUFFIX, False),
        f"ou=Contractors,{people}": ("Contractors", "Not on payroll", people, False),
        f"ou=Sales\\2C EMEA,{people}": ("Sales, EMEA", None, people, False),
        f"ou=Groups,{SUFFIX}": ("Groups", None, SUFFIX, False),
        f"ou=Service,{SUFFIX}": ("Service", None, SUFFIX, False),
    }
    assert history(client, reader, system_id)[0]["action"] == "HierarchyImported"
    assert client.get(f"{SYSTEMS}/{system_id}", headers=reader).json["settingValuesValid"] is True


def organizational_units(*dns: str) -> str:
    """LDIF adding an OU at each DN, parents first; each named by its DN's first value (no escapes)."""
    return "\n".join(f"dn: {dn}\nobjectClass: organizationalUnit\nou: {dn.split(',')[0].split('=')[1]}\n"
                     for dn in dns)


def test_a_renamed_and_moved_container_keeps_its_id_and_selection(client, admin, admin_key, reader, ldap_system,
                                                                  ldap_directory):
    system_id = ldap_system["id"]
    projects, apollo = f"ou=Projects,ou=People,{SUFFIX}", f"ou=Apollo,ou=Projects,ou=People,{SUFFIX}"
    programmes = f"ou=Programmes,ou=Groups,{SUFFIX}"
    configure(client, admin, system_id, **seed_settings(ldap_directory.url))
    ldap_directory.tool("ldapadd", organizational_units(projects, apollo))
    try:
        assert import_hierarchy(client, admin_key, system_id).status_code == 200
        before = partitions(client, reader, system_id)
        selected = client.put(f"{SYSTEMS}/{system_id}/containers/{before[projects][0]}", json={"selected": True},
                              headers=admin)
        assert selected.status_code == 200, selected.json
        ldap_directory.tool("ldapmodrdn", "", "-r", "-s", f"ou=Groups,{SUFFIX}", projects, "ou=Programmes")
        response = import_hierarchy(client, admin_key, system_id)
    finally:
        for dn in (programmes, projects):
            ldap_directory.tool("ldapdelete", "", "-r", dn, check=False)
    assert response.status_code == 200, response.json
    changes = response.json
    assert changes["addedContainers"] == changes["removedContainers"] == []
    assert changes["renamedContainers"] == [{"externalId": programmes, "name": "Programmes", "wasSelected": True,
                                             "itemType": "Container", "oldName": "Projects",
                                             "newName": "Programmes"}]
    assert changes["movedContainers"] == [{"externalId": programmes, "name": "Programmes", "wasSelected": True,
                                           "itemType": "Container", "oldParentExternalId": f"ou=People,{SUFFIX}",
                                           "newParentExternalId": f"ou=Groups,{SUFFIX}"}]
    after = partitions(client, reader, system_id)
    assert projects not in after and apollo not in after
    assert after[programmes] == (before[projects][0], "Programmes", None, f"ou=Groups,{SUFFIX}", True)
    assert after[f"ou=Apollo,{programmes}"] == (before[apollo][0], "Apollo", None, programmes, False)
    # Deleted from the directory, they go, and the answer says that a selected one went.
    removed = import_hierarchy(client, admin_key, system_id).json
    assert removed["removedContainers"] == [
        {"externalId": programmes, "name": "Programmes", "wasSelected": True, "itemType": "Container"},
        {"externalId": f"ou=Apollo,{programmes}", "name": "Apollo", "wasSelected": False, "itemType": "Container"}]
    assert removed["hasSelectedItemsRemoved"] is True
    assert programmes not in partitions(client, reader, system_id)


def test_a_container_deleted_and_made_again_is_a_new_one_with_its_children(client, admin, admin_key, reader,
                                                                         ldap_system, ldap_directory):
    system_id = ldap_system["id"]
    projects = f"ou=Projects,ou=People,{SUFFIX}"
    apollo, gemini = f"ou=Apollo,{projects}", f"ou=Gemini,{projects}"
    configure(client, admin, system_id, **seed_settings(ldap_directory.url))
    ldap_directory.tool("ldapadd", organizational_units(projects, apollo))
    try:
        assert import_hierarchy(client, admin_key, system_id).status_code == 200
        before = partitions(client, reader, system_id)
        # The same DN again, with a new entryUUID: another container, whose child is new too.
        ldap_directory.tool("ldapdelete", "", "-r", projects)
        ldap_directory.tool("ldapadd", organizational_units(projects, gemini))
        response = import_hierarchy(client, admin_key, system_id)
    finally:
        ldap_directory.tool("ldapdelete", "", "-r", projects, check=False)
    assert response.status_code == 200, response.json
    assert {item["externalId"] for item in response.json["addedContainers"]} == {projects, gemini}
    assert {item["externalId"] for item in response.json["removedContainers"]} == {projects, apollo}
    after = partitions(client, reader, system_id)
    assert apollo not in after
    assert after[projects][0] != before[projects][0]
    assert after[gemini][1:] == ("Gemini", None, projects, False)


def test_settings_changed_during_a_hierarchy_import_are_a_conflict(app, client, admin, admin_key, reader,
                                                                   ldap_system, ldap_directory):
    system_id = ldap_system["id"]
    relay = Relay((ldap_directory.host, ldap_directory.port))
    try:
        configure(client, admin, system_id, **seed_settings(f"ldap://127.0.0.1:{relay.port}"))

        def change_the_settings():
            configure(client, admin, system_id, CONNECTION_TIMEOUT=25)

        answer = answered_while_held(app, relay, admin_key, f"{SYSTEMS}/{system_id}/import-hierarchy",
                                     change_the_settings)
    finally:
        relay.close()
    assert "import again" in assert_error(answer, 409, "CONFLICT")["message"]
    assert partitions(client, reader, system_id) == {}
    assert [record["action"] for record in history(client, reader, system_id)] == ["Updated", "Updated", "Created"]


@pytest.mark.parametrize("import_path", ["import-schema", "import-hierarchy"])
def test_a_failure_of_settings_replaced_meanwhile_leaves_the_new_ones_validated(app, client, admin, admin_key,
                                                                                reader, ldap_system,
                                                                                ldap_directory, import_path):
    """An import with a wrong password fails after the password was set right and validated: the failure is
    the old settings', and the new ones stay valid."""
    system_id = ldap_system["id"]
    relay = Relay((ldap_directory.host, ldap_directory.port))
    try:
        configure(client, admin, system_id, **seed_settings(f"ldap://127.0.0.1:{relay.port}",
                                                            PASSWORD=WRONG_PASSWORD))

        def mend_the_password():
            configure(client, admin, system_id, PASSWORD=SERVICE_PASSWORD)
            validated = client.post(f"{SYSTEMS}/{system_id}/validate-settings", headers=admin)
            assert validated.json["valid"] is True

        answer = answered_while_held(app, relay, admin_key, f"{SYSTEMS}/{system_id}/{import_path}",
                                     mend_the_password)
    finally:
        relay.close()
    assert_error(answer, 400, "BAD_REQUEST")
    assert client.get(f"{SYSTEMS}/{system_id}", headers=reader).json["settingValuesValid"] is True
    assert history(client, reader, system_id)[0]["action"] == "SettingsValidated"


def test_a_naming_context_without_its_entry_is_refused(client, admin, admin_key, ldap_system, tmp_path):
    require_slapd()
    with running_directory(tmp_path, tree=False) as empty:
        configure(client, admin, ldap_system["id"], HOST=empty.url, USERNAME=ADMIN_DN, PASSWORD=ADMIN_PASSWORD)
        body = assert_error(import_hierarchy(client, admin_key, ldap_system["id"]), 400, "BAD_REQUEST")
    assert body["message"] == f"The directory refused to let {ADMIN_DN} search {SUFFIX}: noSuchObject (32)."


# What JIM learns from a directory that is not Active Directory (test_active_directory.py has AD's).

def test_openldap_tells_its_type_and_paging_and_publishes_no_password_policy(client, admin, admin_key, reader,
                                                                             ldap_system, ldap_directory):
    system_id = ldap_system["id"]
    configure(client, admin, system_id, **seed_settings(ldap_directory.url))
    assert import_schema(client, admin_key, system_id).status_code == 200
    assert client.get(f"{SYSTEMS}/{system_id}/capabilities", headers=reader).json == [
        {"name": "Directory Type", "value": "OpenLDAP"}, {"name": "Paging", "value": "Supported"}]
    policy = client.get(f"{SYSTEMS}/{system_id}/password-policy", headers=reader).json
    assert policy["discovered"] is None and policy["hasAnyDiscoveredConstraint"] is False
    assert policy["fineGrainedPolicySignal"] == "CouldNotDetermine"
    body = assert_error(client.get(f"{SYSTEMS}/{system_id}/directory-servers", headers=admin), 400, "BAD_REQUEST")
    assert body["message"] == (f"{ldap_directory.url} is OpenLDAP, not Active Directory or Samba AD: only a "
                               f"domain's directory has domain controllers to list.")
