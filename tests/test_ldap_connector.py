"""The LDAP connector where the API cannot reach it: the subschema path's syntaxes, content rules and naming
contexts on ldap3's offline copy of a Windows Server 2012 R2 subschema (a live AD is read from its classSchema
and crossRefs instead: test_active_directory.py), a subschema that names what it does not define,
the deadline kept by the connector itself once the runner has stopped waiting, and ldap3 left unimported until
a worker's first LDAP import. Everything an OpenLDAP directory shows is tested through the API
(test_ldap_import.py).
"""
import time

import pytest
from ldap3 import OFFLINE_AD_2012_R2, Server
from ldap3.protocol.rfc4512 import SchemaInfo

from connectors import ldap
from connectors.interface import Deadline, Settings, Unreachable
from connectors.ldap.hierarchy import naming_contexts
from connectors.ldap.schema import object_types
from silent import silent_server

T, N, L, D, R, BIN = "Text", "Number", "LongNumber", "DateTime", "Reference", "Binary"
SINGLE, MULTI, WRITABLE, READ_ONLY = "SingleValued", "MultiValued", "Writable", "ReadOnly"


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
    assert types["meeting"]["meetingStartTime"] == (D, MULTI, WRITABLE)  # UTC Time, which slapd does not have
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


def test_naming_contexts_leave_out_configuration_and_schema(active_directory):
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


def test_the_connector_itself_keeps_to_the_deadline_when_the_runner_has_given_up():
    """The runner stops waiting at the deadline; the call it abandons must not linger long after it."""
    with silent_server() as (host, port):
        given = Settings({ldap.HOST.id: f"ldap://{host}:{port}", ldap.USERNAME.id: "cn=JIM,dc=example,dc=com",
                          ldap.PASSWORD.id: "s3cur3p@ssw0rd", ldap.CONNECTION_TIMEOUT.id: 10}, ("s3cur3p@ssw0rd",), None)
        started = time.monotonic()
        with pytest.raises(Unreachable) as raised:
            ldap.discover_schema(given, Deadline(1.2))
        waited = time.monotonic() - started
    assert raised.value.message == "The import did not finish within its time limit of 1.2 seconds."
    assert 1.1 < waited < 1.7  # not the 2 seconds of ldap3's whole-second read timeout
