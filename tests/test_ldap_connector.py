"""The LDAP connector against a real OpenLDAP slapd (tests/ldap_directory.py), and ldap3's offline Active
Directory schema for what no OpenLDAP has: each call as the service makes it, through the runner, with what
an administrator would see asserted.
"""
import socketserver
import threading
import time
import uuid
from contextlib import contextmanager

import pytest
from ldap3 import OFFLINE_AD_2012_R2, Server
from ldap3.protocol.rfc4512 import SchemaInfo

from connectors import ldap, ldap_connection
from connectors.interface import AttributeType, Deadline, Refused, Settings, Unreachable
from connectors.ldap_connection import PAGE_SIZE
from connectors.ldap_hierarchy import naming_contexts
from connectors.ldap_schema import object_types
from connectors.runner import run
from ldap_directory import (
    ADMIN_DN,
    ADMIN_PASSWORD,
    NO_SCHEMA_DN,
    NO_SCHEMA_PASSWORD,
    SERVICE_DN,
    SERVICE_PASSWORD,
    SUFFIX,
    require_slapd,
    running_directory,
)
from leaks import shows
from servers import free_port
from silent import silent_server

DEADLINE_SECONDS = 20
T, N, L, B, D, R, BIN = ("Text", "Number", "LongNumber", "Boolean", "DateTime", "Reference", "Binary")
SINGLE, MULTI, WRITABLE, READ_ONLY = "SingleValued", "MultiValued", "Writable", "ReadOnly"


def settings(host: str, username: str = SERVICE_DN, password: str = SERVICE_PASSWORD, **more) -> Settings:
    """The LDAP settings as the service hands them to the connector; ``more`` by setting name, as ``PORT=636``."""
    values = {ldap.HOST.id: host, ldap.USERNAME.id: username, ldap.PASSWORD.id: password}
    values.update({getattr(ldap, name).id: value for name, value in more.items()})
    return Settings(values, (password,), None)


def schema_of(given: Settings) -> dict:
    """What an administrator sees of each object type: {type: {attribute: (type, plurality, writability)}}."""
    schema = run(ldap.CONNECTOR.discover_schema, given, DEADLINE_SECONDS)
    return {t.name: {a.name: (a.type, a.plurality, a.writability) for a in t.attributes} for t in schema.object_types}


def error_of(discovery, given: Settings, deadline: float = DEADLINE_SECONDS):
    with pytest.raises((Refused, Unreachable)) as raised:
        run(discovery, given, deadline)
    return raised.value


# The OpenLDAP schemas: the core, cosine, inetorgperson and nis schemas as Debian ships them.

def test_object_types_are_the_structural_classes_less_the_directorys_own(ldap_directory):
    types = schema_of(settings(ldap_directory.url))
    assert {"inetOrgPerson", "organizationalPerson", "person", "groupOfNames", "groupOfUniqueNames", "posixGroup",
            "organizationalUnit", "organization", "account", "device", "applicationProcess"} <= set(types)
    # Auxiliary and abstract classes are no object types; nor are the root DSE, subentries, referrals and cn=config.
    assert not {"posixAccount", "shadowAccount", "top", "OpenLDAProotDSE", "subentry", "subschema", "referral",
                "olcGlobal", "olcDatabaseConfig", "olcMdbConfig", "olcSchemaConfig"} & set(types)


def test_attributes_are_inherited_with_their_syntax_plurality_and_writability(ldap_directory):
    types = schema_of(settings(ldap_directory.url))
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


def test_auxiliary_classes_are_offered_on_structural_types_only_with_the_setting(ldap_directory):
    plain = schema_of(settings(ldap_directory.url))
    types = schema_of(settings(ldap_directory.url, INCLUDE_AUXILIARY_CLASSES=True))
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


# Active Directory's syntaxes, from ldap3's offline copy of a Windows Server 2012 R2 schema.

@pytest.fixture(scope="module")
def active_directory():
    return Server("offline", get_info=OFFLINE_AD_2012_R2)


def ad_types(active_directory, include_auxiliary_classes=False) -> dict:
    schema = object_types(active_directory.schema, include_auxiliary_classes)
    return {t.name: {a.name: (a.type, a.plurality, a.writability) for a in t.attributes} for t in schema.object_types}


def test_active_directory_syntaxes(active_directory):
    types = ad_types(active_directory)
    user = types["user"]
    assert user["pwdLastSet"] == user["accountExpires"] == (L, SINGLE, WRITABLE)  # Large Integer
    assert user["lastLogonTimestamp"] == (L, SINGLE, WRITABLE)
    assert user["userAccountControl"] == (N, SINGLE, WRITABLE)
    assert user["objectGUID"] == user["objectSid"] == (BIN, SINGLE, READ_ONLY)  # octet strings, set by the DC
    assert user["nTSecurityDescriptor"] == (BIN, SINGLE, WRITABLE)
    assert user["whenCreated"] == (D, SINGLE, READ_ONLY)
    assert user["memberOf"] == (R, MULTI, READ_ONLY)
    assert user["manager"] == (R, SINGLE, WRITABLE)
    assert user["wellKnownObjects"] == (T, MULTI, READ_ONLY)  # DN-Binary: the pair, as it is
    # sAMAccountName comes with securityPrincipal, which AD's content rule for user names.
    assert user["sAMAccountName"] == (T, SINGLE, WRITABLE)
    assert types["group"]["member"] == (R, MULTI, WRITABLE)
    assert {"user", "group", "computer", "organizationalUnit", "container"} <= set(types)
    assert not {"classSchema", "attributeSchema", "subSchema", "dMD", "top", "securityPrincipal"} & set(types)


def test_active_directory_auxiliary_classes_follow_its_content_rules(active_directory):
    assert "memberUid" not in ad_types(active_directory)["user"]
    assert ad_types(active_directory, True)["user"]["memberUid"] == (T, MULTI, WRITABLE)  # posixGroup


def test_active_directory_partitions_leave_out_configuration_and_schema(active_directory):
    assert naming_contexts(active_directory.info.raw) == [
        "DC=AD2012,DC=LAB", "DC=DomainDnsZones,DC=AD2012,DC=LAB", "DC=ForestDnsZones,DC=AD2012,DC=LAB"]


def test_what_a_schema_names_but_does_not_define_is_left_out_with_a_warning():
    schema = SchemaInfo("cn=Subschema", {
        "objectClasses": ["( 1.3.6.1.4.1.99999.1 NAME 'badge' SUP ( top $ missingClass ) STRUCTURAL "
                          "MUST cn MAY missingAttribute )",
                          "( 2.5.6.0 NAME 'top' ABSTRACT MUST objectClass )"],
        "attributeTypes": ["( 2.5.4.3 NAME 'cn' SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 )",
                           "( 2.5.4.0 NAME 'objectClass' SYNTAX 1.3.6.1.4.1.1466.115.121.1.38 )"]}, {})
    found = object_types(schema, False)
    assert [(t.name, [a.name for a in t.attributes]) for t in found.object_types] == [("badge", ["cn", "objectClass"])]
    assert found.warnings == (
        "Object class badge names the superior class missingClass, which the schema does not define; "
        "its attributes are left out.",
        "Object class badge names the attribute missingAttribute, which the schema does not define; "
        "it is left out of badge.")


# Where the directory is, and how to reach it.

@pytest.mark.parametrize("host, more", [
    ("{url}", {"PORT": 1}),  # the URL's port, not the Port setting
    ("127.0.0.1", {"PORT": "{port}"}),
    ("ldap://127.0.0.1", {"PORT": "{port}"}),  # a URL without a port takes the Port setting
    ("{ldaps_url}", {"TRUSTED_CA_CERTIFICATES": "{ca}"}),
    ("127.0.0.1", {"PORT": "{ldaps_port}", "USE_LDAPS": True, "TRUSTED_CA_CERTIFICATES": "{ca}"}),
    ("ldap://127.0.0.1:{ldaps_port}", {"USE_LDAPS": True, "TRUSTED_CA_CERTIFICATES": "{ca}"}),
], ids=["url", "host-and-port", "url-without-port", "ldaps-url", "ldaps-setting", "ldap-url-with-ldaps-setting"])
def test_the_host_as_a_name_or_a_url(ldap_directory, host, more):
    given = {"url": ldap_directory.url, "ldaps_url": ldap_directory.ldaps_url, "ca": ldap_directory.ca_pem,
             "port": ldap_directory.port, "ldaps_port": ldap_directory.ldaps_port}
    filled = {name: int(value.format(**given)) if name == "PORT" and isinstance(value, str) else
              value.format(**given) if isinstance(value, str) else value for name, value in more.items()}
    assert "inetOrgPerson" in schema_of(settings(host.format(**given), **filled))


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

# (case, its settings made from the running directory, the error, what its message says)
FAILURES = [
    ("wrong-password", lambda d: settings(d.url, password=WRONG_PASSWORD), Refused,
     f"The directory refused to let {SERVICE_DN} bind: invalidCredentials (49)."),
    ("unknown-account", lambda d: settings(d.url, f"cn=Nobody,{SUFFIX}"), Refused, "invalidCredentials (49)"),
    ("closed-port", lambda d: settings(f"ldap://127.0.0.1:{free_port()}"), Unreachable,
     ": it refused the connection."),
    ("unresolvable", lambda d: settings("ldap://no-such-host.invalid:389"), Unreachable,
     "Could not reach the directory at ldap://no-such-host.invalid:389: its host name could not be resolved."),
    ("untrusted-certificate", lambda d: settings(d.ldaps_url), Unreachable,
     "the TLS handshake failed (certificate verify failed: self-signed certificate in certificate chain)."),
    ("unreadable-ca", lambda d: settings(d.ldaps_url, TRUSTED_CA_CERTIFICATES="-----BEGIN CERTIFICATE-----\nnot one\n"),
     Refused, "Trusted CA Certificates holds no certificate that can be read"),
    ("tls-to-plain-port", lambda d: settings(f"ldaps://127.0.0.1:{d.port}", TRUSTED_CA_CERTIFICATES=d.ca_pem),
     Unreachable, "the TLS handshake failed"),
    ("ntlm", lambda d: settings(d.url, AUTHENTICATION_TYPE="NTLM"), Refused,
     "This service binds with Simple authentication only; set Authentication Type to Simple"),
]


@pytest.mark.parametrize("discovery", ["discover_schema", "discover_hierarchy"])
@pytest.mark.parametrize("make, error, message", [case[1:] for case in FAILURES], ids=[case[0] for case in FAILURES])
def test_failures_say_what_the_directory_said_and_never_the_password(ldap_directory, discovery, make, error,
                                                                      message):
    given = make(ldap_directory)
    raised = error_of(getattr(ldap.CONNECTOR, discovery), given)
    assert type(raised) is error and message in raised.message
    # The connector's own message holds no part of the password, before the runner scrubs anything.
    with pytest.raises(error) as direct:
        getattr(ldap, discovery)(given, Deadline(DEADLINE_SECONDS))
    assert direct.value.message == raised.message
    assert not shows(direct.value.message, given.secrets[0])


def test_an_account_that_may_not_read_the_schema_is_refused_not_given_an_empty_one(ldap_directory):
    given = settings(ldap_directory.url, NO_SCHEMA_DN, NO_SCHEMA_PASSWORD)
    raised = error_of(ldap.CONNECTOR.discover_schema, given)
    assert type(raised) is Refused
    assert raised.message == (f"{NO_SCHEMA_DN} may not read the directory's schema (cn=Subschema): grant it read "
                              f"access to the subschema entry.")
    assert f"ou=People,{SUFFIX}" in tree_of(given)  # the containers it may read


@pytest.mark.parametrize("answer, message", [
    (NGINX_BAD_REQUEST, "{where} answered, but not in LDAP: is a directory listening on that port?"),
    (b"", "Could not reach the directory at {where}: it closed the connection without answering."),
], ids=["web-server", "hangs-up"])
def test_a_server_that_does_not_speak_ldap(answer, message):
    with answering_server(answer) as port:
        raised = error_of(ldap.CONNECTOR.discover_schema, settings(f"ldap://127.0.0.1:{port}"))
    assert type(raised) is Unreachable
    assert raised.message == message.format(where=f"ldap://127.0.0.1:{port}")


def test_a_certificate_for_another_host_name_is_refused(tmp_path):
    require_slapd()
    with running_directory(tmp_path, certificate_names=("directory.example.com",)) as other:
        raised = error_of(ldap.CONNECTOR.discover_schema,
                          settings(other.ldaps_url, TRUSTED_CA_CERTIFICATES=other.ca_pem))
    assert type(raised) is Unreachable
    assert "the TLS handshake failed (certificate verify failed: IP address mismatch" in raised.message


@pytest.mark.parametrize("scheme", ["ldap", "ldaps"])
@pytest.mark.parametrize("timeout, deadline, message", [
    (1, DEADLINE_SECONDS, "it did not answer within 1 second."),
    (10, 1.5, "The connected system did not answer within the import's time limit of 1.5 seconds."),
], ids=["connection-timeout", "deadline"])
def test_a_server_that_never_answers_is_given_up_on_in_time(scheme, timeout, deadline, message):
    with silent_server() as (host, port):
        started = time.monotonic()
        raised = error_of(ldap.CONNECTOR.discover_schema,
                          settings(f"{scheme}://{host}:{port}", CONNECTION_TIMEOUT=timeout), deadline)
        waited = time.monotonic() - started
    assert type(raised) is Unreachable and message in raised.message
    assert min(timeout, deadline) - 0.1 < waited < min(timeout, deadline) + 1.5


def test_the_connector_itself_keeps_to_the_deadline_when_the_runner_has_given_up():
    """The runner stops waiting at the deadline; the call it abandons must not linger long after it."""
    with silent_server() as (host, port):
        started = time.monotonic()
        with pytest.raises(Unreachable) as raised:
            ldap.discover_schema(settings(f"ldap://{host}:{port}", CONNECTION_TIMEOUT=10), Deadline(1.2))
        waited = time.monotonic() - started
    assert raised.value.message == "The import did not finish within its time limit of 1.2 seconds."
    assert 1.1 < waited < 1.7  # not the 2 seconds of ldap3's whole-second read timeout


# The hierarchy: naming contexts and their containers.

def tree_of(given: Settings) -> dict:
    """Each container by DN: (name, stable id, description, the DN of its parent container or partition)."""
    found = {}

    def walk(containers, parent):
        for container in containers:
            found[container.external_id] = (container.name, container.stable_id, container.description, parent)
            walk(container.children, container.external_id)

    hierarchy = run(ldap.CONNECTOR.discover_hierarchy, given, DEADLINE_SECONDS)
    for partition in hierarchy.partitions:
        found[partition.external_id] = (partition.name, partition.stable_id, None, None)
        walk(partition.containers, partition.external_id)
    return found


@pytest.mark.parametrize("page_size", [PAGE_SIZE, 2], ids=["one-page", "pages-of-two"])
def test_the_hierarchy_is_the_naming_contexts_and_their_containers_as_a_tree(ldap_directory, monkeypatch, page_size):
    monkeypatch.setattr(ldap_connection, "PAGE_SIZE", page_size)
    tree = tree_of(settings(ldap_directory.url))
    people = f"ou=People,{SUFFIX}"
    assert {dn: (name, description, parent) for dn, (name, _, description, parent) in tree.items()} == {
        SUFFIX: (SUFFIX, None, None),
        people: ("People", "Everyone employed", SUFFIX),
        f"ou=Contractors,{people}": ("Contractors", "Not on payroll", people),
        f"ou=Sales\\2C EMEA,{people}": ("Sales, EMEA", None, people),
        f"ou=Groups,{SUFFIX}": ("Groups", None, SUFFIX),
        f"ou=Service,{SUFFIX}": ("Service", None, SUFFIX),
    }
    stable_ids = [stable_id for _, stable_id, _, _ in tree.values()]
    assert len(set(stable_ids)) == len(tree) and all(uuid.UUID(stable_id) for stable_id in stable_ids)


def test_a_renamed_and_moved_container_keeps_its_stable_id(ldap_directory):
    projects, apollo = f"ou=Projects,ou=People,{SUFFIX}", f"ou=Apollo,ou=Projects,ou=People,{SUFFIX}"
    programmes = f"ou=Programmes,ou=Groups,{SUFFIX}"
    ldap_directory.tool("ldapadd", f"dn: {projects}\nobjectClass: organizationalUnit\nou: Projects\n\n"
                                   f"dn: {apollo}\nobjectClass: organizationalUnit\nou: Apollo\n")
    try:
        before = tree_of(settings(ldap_directory.url))
        ldap_directory.tool("ldapmodrdn", "", "-r", "-s", f"ou=Groups,{SUFFIX}", projects, "ou=Programmes")
        after = tree_of(settings(ldap_directory.url))
    finally:
        for dn in (programmes, projects):
            ldap_directory.tool("ldapdelete", "", "-r", dn, check=False)
    assert projects not in after and apollo not in after
    assert after[programmes] == ("Programmes", before[projects][1], None, f"ou=Groups,{SUFFIX}")
    assert after[f"ou=Apollo,{programmes}"] == ("Apollo", before[apollo][1], None, programmes)


def test_a_naming_context_without_its_entry_is_refused(tmp_path):
    require_slapd()
    with running_directory(tmp_path, tree=False) as empty:
        raised = error_of(ldap.CONNECTOR.discover_hierarchy, settings(empty.url, ADMIN_DN, ADMIN_PASSWORD))
    assert type(raised) is Refused
    assert raised.message == f"The directory refused to let {ADMIN_DN} search {SUFFIX}: noSuchObject (32)."
