"""The LDAP connector against a real Active Directory: a throwaway Samba AD domain controller (tests/samba_dc.py),
through the API, as an AD administrator would use it: LDAPS with the DC's CA, a service account, and what the DC
itself says its entries may hold.
"""
from datetime import UTC, datetime

import ldap3
import pytest
from ldap3.protocol.formatters.formatters import format_sid
from ldap3.protocol.microsoft import security_descriptor_control

from conftest import SYSTEMS
from connectors import ldap
from envelope import assert_error
from importing import history
from leaks import shows
from samba_dc import (  # noqa: F401  samba_dc: the session's DC
    ADMIN,
    ADMIN_PASSWORD,
    BASE,
    DISABLED_DN,
    DISABLED_PASSWORD,
    ENTRIES,
    HOST_NAME,
    REALM,
    SERVICE_DN,
    SERVICE_PASSWORD,
    samba_dc,
)
from servers import free_port

T, N, L, B, D, R, BIN = "Text", "Number", "LongNumber", "Boolean", "DateTime", "Reference", "Binary"
SINGLE, MULTI, WRITABLE, READ_ONLY = "SingleValued", "MultiValued", "Writable", "ReadOnly"


def configure(client, admin, system_id: int, **values):
    body = {"settingValues": {str(getattr(ldap, name).id): {getattr(ldap, name).value_key: value}
                              for name, value in values.items()}}
    response = client.put(f"{SYSTEMS}/{system_id}", json=body, headers=admin)
    assert response.status_code == 200, response.json
    return response


def dc_settings(dc, **more) -> dict:
    """The service account over LDAPS, trusting the DC's CA (setting 15)."""
    return {"HOST": dc.ldaps_url, "USERNAME": SERVICE_DN, "PASSWORD": SERVICE_PASSWORD,
            "TRUSTED_CA_CERTIFICATES": dc.ca_pem, **more}


def post(client, admin, system_id: int, what: str):
    return client.post(f"{SYSTEMS}/{system_id}/{what}", headers={"X-Api-Key": admin["X-Api-Key"]})


@pytest.fixture
def ad_system(client, admin, ldap_system, samba_dc):
    """The LDAP system, configured for the DC."""
    configure(client, admin, ldap_system["id"], **dc_settings(samba_dc))
    return ldap_system["id"]


def test_a_schema_import_over_ldaps_with_the_dcs_ca(client, admin, ad_system):
    response = post(client, admin, ad_system, "import-schema")
    assert response.status_code == 200, response.json
    assert response.json["settingValuesValid"] is True
    assert {"user", "group", "computer", "contact", "organizationalUnit"} <= {
        t["name"] for t in response.json["objectTypes"]}
    assert not shows(response.get_data(as_text=True), SERVICE_PASSWORD)


def test_a_simple_bind_without_tls_is_refused_as_the_dc_refuses_it(client, admin, ad_system, samba_dc):
    configure(client, admin, ad_system, HOST=samba_dc.url)
    body = assert_error(post(client, admin, ad_system, "import-schema"), 400, "BAD_REQUEST")
    assert body["message"] == (f"The directory refused to let {SERVICE_DN} bind: strongerAuthRequired (8). "
                               f"It said: BindSimple: Transport encryption required.")


# AD's schema, read as AD defines it.

def imported_types(client, admin, system_id: int) -> dict:
    """{object type: {attribute: (type, plurality, writability, className)}} after a schema import."""
    response = post(client, admin, system_id, "import-schema")
    assert response.status_code == 200, response.json
    listed = client.get(f"{SYSTEMS}/{system_id}/object-types", headers=admin)
    assert listed.status_code == 200, listed.json
    return {t["name"]: {a["name"]: (a["type"], a["attributePlurality"], a["writability"], a["className"])
                        for a in t["attributes"]} for t in listed.json}


def allowed_attributes(samba_dc) -> dict[str, set[str]]:
    """What the DC itself says a live entry of each class may hold: its constructed allowedAttributes."""
    connection = samba_dc.connect()
    try:
        found = {}
        for object_class, dn in ENTRIES.items():
            connection.search(dn, "(objectClass=*)", ldap3.BASE, attributes=["allowedAttributes"])
            found[object_class] = {value.decode() for value in connection.response[0]["raw_attributes"]
                                   ["allowedAttributes"]}
        return found
    finally:
        connection.unbind()


@pytest.mark.parametrize("include_auxiliary_classes", [False, True], ids=["structural", "with-auxiliaries"])
def test_each_class_holds_what_the_dc_allows_on_a_live_entry_of_it(client, admin, ad_system, samba_dc,
                                                                  include_auxiliary_classes):
    configure(client, admin, ad_system, INCLUDE_AUXILIARY_CLASSES=include_auxiliary_classes)
    types = imported_types(client, admin, ad_system)
    for object_class, allowed in allowed_attributes(samba_dc).items():
        assert set(types[object_class]) == allowed, object_class
    # What the issue found missing: a computer's required attributes, from its superiors' auxiliaries.
    assert {"objectSid", "sAMAccountName", "sAMAccountType", "altSecurityIdentities",
            "msDS-KeyVersionNumber"} <= set(types["computer"])


def test_object_types_are_the_structural_classes_the_dc_does_not_hide(client, admin, ad_system, samba_dc):
    types = imported_types(client, admin, ad_system)
    connection = samba_dc.connect()
    try:
        # JIM's own query for them, asked of the DC.
        shown = connection.extend.standard.paged_search(
            f"CN=Schema,CN=Configuration,{BASE}",
            "(&(objectClass=classSchema)(objectClassCategory=1)(defaultHidingValue=FALSE)(!(isDefunct=TRUE)))",
            attributes=["lDAPDisplayName"], generator=False)
        expected = {entry["raw_attributes"]["lDAPDisplayName"][0].decode() for entry in shown
                    if entry["type"] == "searchResEntry"}
    finally:
        connection.unbind()
    assert set(types) == expected
    assert {"user", "group", "computer", "contact", "organizationalUnit", "inetOrgPerson",
            "msDS-ManagedServiceAccount"} <= set(types)
    # Hidden by default (the DC's own containers, its schema), abstract and auxiliary classes are no object types.
    assert not {"container", "classSchema", "attributeSchema", "dMD", "top", "person", "securityPrincipal",
                "mailRecipient"} & set(types)


def test_types_plurality_and_what_only_the_dc_writes(client, admin, ad_system):
    user = imported_types(client, admin, ad_system)["user"]
    assert user["tokenGroups"] == (BIN, MULTI, READ_ONLY, "securityPrincipal")  # constructed
    assert user["msDS-User-Account-Control-Computed"] == (N, SINGLE, READ_ONLY, "user")  # constructed
    assert user["memberOf"] == (R, MULTI, READ_ONLY, "top")  # member's back-link
    assert user["objectGUID"] == (BIN, SINGLE, READ_ONLY, "top")  # system-only
    assert user["whenCreated"] == (D, SINGLE, READ_ONLY, "top")
    assert user["sAMAccountName"] == (T, SINGLE, WRITABLE, "securityPrincipal")
    assert user["pwdLastSet"] == user["accountExpires"] == (L, SINGLE, WRITABLE, "user")
    assert user["userAccountControl"] == (N, SINGLE, WRITABLE, "user")
    assert user["isCriticalSystemObject"] == (B, SINGLE, WRITABLE, "top")
    assert user["manager"] == (R, SINGLE, WRITABLE, "user")
    assert user["cn"] == (T, SINGLE, WRITABLE, "person")
    assert user["wellKnownObjects"][0] == T  # DN-Binary: the pair, as it is
    assert user["nTSecurityDescriptor"][0] == BIN


def test_auxiliary_classes_become_object_types_of_their_own_with_the_setting(client, admin, ad_system):
    plain = imported_types(client, admin, ad_system)
    configure(client, admin, ad_system, INCLUDE_AUXILIARY_CLASSES=True)
    types = imported_types(client, admin, ad_system)
    assert {"securityPrincipal", "mailRecipient", "posixAccount", "shadowAccount"} <= set(types) - set(plain)
    assert {name: attributes for name, attributes in types.items() if name in plain} == plain
    assert {"objectSid", "sAMAccountName"} <= set(types["securityPrincipal"])
    assert "dynamicObject" not in types  # the directory's own


# AD's hierarchy.

def containers_of(client, admin, system_id: int) -> tuple[list[str], dict[str, bool]]:
    """The partitions' DNs, and each container's DN with its ``hidden``, as GET partitions shows them."""
    listed = client.get(f"{SYSTEMS}/{system_id}/partitions", headers=admin)
    assert listed.status_code == 200, listed.json
    found, pending = {}, [c for p in listed.json for c in p["containers"]]
    while pending:
        container = pending.pop()
        found[container["externalId"]] = container["hidden"]
        pending.extend(container["childContainers"])
    return [p["externalId"] for p in listed.json], found


def test_the_partitions_are_the_domains_and_containers_hidden_as_the_dcs_tools_hide_them(client, admin, ad_system,
                                                                                        samba_dc):
    response = post(client, admin, ad_system, "import-hierarchy")
    assert response.status_code == 200, response.json
    partitions, containers = containers_of(client, admin, ad_system)
    assert partitions == [BASE]  # not its DNS zones, configuration or schema
    connection = samba_dc.connect(SERVICE_DN, SERVICE_PASSWORD)
    try:
        seen = connection.extend.standard.paged_search(
            BASE, "(|(objectClass=organizationalUnit)(objectClass=container))",
            attributes=["showInAdvancedViewOnly"], generator=False)
        expected = {entry["dn"]: entry["raw_attributes"]["showInAdvancedViewOnly"] == [b"TRUE"]
                    for entry in seen if entry["type"] == "searchResEntry"}
    finally:
        connection.unbind()
    assert containers == expected
    assert containers[f"CN=System,{BASE}"] is True and containers[f"CN=Policies,CN=System,{BASE}"] is True
    assert containers[f"OU=People,{BASE}"] is False and containers[f"CN=Users,{BASE}"] is False
    assert sum(containers.values()) > len(containers) / 2


@pytest.mark.parametrize("what", ["import-schema", "import-hierarchy", "directory-servers", "validate-settings"])
@pytest.mark.parametrize("host, port, field", [("ldaps://{host}:3269", None, "1"), ("{host}", 3268, "4")],
                         ids=["3269-in-host", "3268-in-port"])
def test_a_global_catalog_is_refused_offline_with_the_port_to_use(client, admin, ad_system, samba_dc, what, host,
                                                                  port, field):
    configure(client, admin, ad_system, HOST=host.format(host=samba_dc.host), **({"PORT": port} if port else {}))
    call = client.get if what == "directory-servers" else client.post
    response = call(f"{SYSTEMS}/{ad_system}/{what}", headers={"X-Api-Key": admin["X-Api-Key"]})
    if what == "validate-settings":
        assert response.status_code == 200 and response.json["valid"] is False
        problems = response.json["validationErrors"]
    else:
        problems = assert_error(response, 400, "VALIDATION_ERROR")["validationErrors"]
    assert problems == {f"settingValues.{field}": [
        f"{port or 3269} is the port of Active Directory's global catalog, which holds part of every domain of the "
        f"forest in one tree: use the domain controller's LDAP port, 389 (636 for LDAPS)."]}
    assert client.get(f"{SYSTEMS}/{ad_system}/partitions", headers=admin).json == []


# Refusals that say why.

@pytest.mark.parametrize("account, password, why", [
    (SERVICE_DN, "s3cur3p@ssw0rd-not-this", "the password is wrong (Active Directory's sub-code 52e)"),
    (DISABLED_DN, DISABLED_PASSWORD, "the account is disabled (Active Directory's sub-code 533)"),
], ids=["wrong-password", "disabled"])
def test_a_refused_bind_says_why_in_words(client, admin, ad_system, caplog, account, password, why):
    configure(client, admin, ad_system, USERNAME=account, PASSWORD=password)
    response = post(client, admin, ad_system, "import-schema")
    body = assert_error(response, 400, "BAD_REQUEST")
    assert body["message"].startswith(f"The directory refused to let {account} bind: invalidCredentials (49): {why}. "
                                      f"It said: 80090308: LdapErr: "), body["message"]
    assert not shows(response.get_data(as_text=True), password) and not shows(caplog.text, password)


# What JIM learns from a directory.

def get(client, headers, system_id: int, what: str):
    return client.get(f"{SYSTEMS}/{system_id}/{what}", headers=headers)


NO_POLICY = {"discovered": None, "minimumLength": None, "complexityRequired": None,
             "requiredCharacterClassCount": None, "recognisedCharacterClasses": [], "passwordHistoryLength": None,
             "maximumPasswordAgeDays": None, "minimumPasswordAgeDays": None,
             "fineGrainedPolicySignal": "CouldNotDetermine", "hasAnyDiscoveredConstraint": False}


def test_capabilities_and_password_policy_are_what_the_last_schema_import_read(client, admin, reader, ad_system):
    assert get(client, reader, ad_system, "capabilities").json == []
    assert get(client, reader, ad_system, "password-policy").json == NO_POLICY
    started = datetime.now(UTC)
    assert post(client, admin, ad_system, "import-schema").status_code == 200
    assert get(client, reader, ad_system, "capabilities").json == [
        {"name": "Directory Type", "value": "Samba AD"},
        {"name": "Vendor", "value": "Samba Team (https://www.samba.org)"},
        {"name": "DNS Host Name", "value": f"{HOST_NAME}.{REALM.lower()}"},
        {"name": "Paging", "value": "Supported"}]
    policy = get(client, reader, ad_system, "password-policy").json
    discovered = datetime.fromisoformat(policy.pop("discovered").removesuffix("Z")).replace(tzinfo=UTC)
    assert started <= discovered <= datetime.now(UTC)
    # Samba's defaults: 7 characters, complexity, 24 remembered, 42 days at most (AD's 42.95), 1 at least.
    assert policy == {"minimumLength": 7, "complexityRequired": True, "requiredCharacterClassCount": 3,
                      "recognisedCharacterClasses": ["Uppercase", "Lowercase", "Digit", "Symbol",
                                                     "OtherUnicodeLetter"],
                      "passwordHistoryLength": 24, "maximumPasswordAgeDays": 42, "minimumPasswordAgeDays": 1,
                      "fineGrainedPolicySignal": "CouldNotDetermine",  # the service account may not see them
                      "hasAnyDiscoveredConstraint": True}


def test_a_changed_policy_is_read_again_and_an_unchanged_import_writes_nothing(client, admin, reader, ad_system,
                                                                              samba_dc):
    assert post(client, admin, ad_system, "import-schema").status_code == 200
    before = (get(client, reader, ad_system, "password-policy").json, client.get(f"{SYSTEMS}/{ad_system}",
                                                                                  headers=reader).headers["ETag"])
    records = len(history(client, reader, ad_system))
    assert post(client, admin, ad_system, "import-schema").status_code == 200
    assert (get(client, reader, ad_system, "password-policy").json,
            client.get(f"{SYSTEMS}/{ad_system}", headers=reader).headers["ETag"]) == before
    assert len(history(client, reader, ad_system)) == records
    samba_dc.samba_tool("domain", "passwordsettings", "set", "--min-pwd-length=12", "--history-length=5")
    try:
        assert post(client, admin, ad_system, "import-schema").status_code == 200
    finally:
        samba_dc.samba_tool("domain", "passwordsettings", "set", "--min-pwd-length=7", "--history-length=24")
    changed = get(client, reader, ad_system, "password-policy").json
    assert (changed["minimumLength"], changed["passwordHistoryLength"]) == (12, 5)
    assert changed["discovered"] > before[0]["discovered"]


def test_the_domain_controllers_are_listed_with_their_sites(client, admin, reader, ad_system):
    response = get(client, admin, ad_system, "directory-servers")
    assert response.status_code == 200, response.json
    assert response.json == [{"hostName": f"{HOST_NAME}.{REALM.lower()}", "site": "Default-First-Site-Name"}]
    assert_error(get(client, reader, ad_system, "directory-servers"), 403, "FORBIDDEN")
    assert_error(get(client, admin, 999, "directory-servers"), 404, "NOT_FOUND")
    assert client.get(f"{SYSTEMS}/{ad_system}", headers=reader).json["settingValuesValid"] is False  # no import


def test_directory_servers_of_a_dc_that_cannot_be_reached_or_a_connector_that_has_none(client, admin, ad_system):
    configure(client, admin, ad_system, HOST=f"ldaps://127.0.0.1:{free_port()}")
    body = assert_error(get(client, admin, ad_system, "directory-servers"), 502, "BAD_GATEWAY")
    assert body["message"].startswith("Could not reach the directory at ldaps://127.0.0.1:")
    files = client.post(SYSTEMS, json={"name": "HR file", "connectorDefinitionId": 1}, headers=admin).json["id"]
    body = assert_error(get(client, admin, files, "directory-servers"), 400, "BAD_REQUEST")
    assert body["message"] == "The 'JIM File Connector' connector does not support directory server discovery."
    assert get(client, admin, files, "capabilities").json == []
    assert get(client, admin, files, "password-policy").json == NO_POLICY


def test_a_fine_grained_policy_the_account_may_see_is_signalled_present(client, admin, reader, ad_system, samba_dc):
    configure(client, admin, ad_system, USERNAME=ADMIN, PASSWORD=ADMIN_PASSWORD)  # may read the container
    assert post(client, admin, ad_system, "import-schema").status_code == 200
    assert get(client, reader, ad_system, "password-policy").json["fineGrainedPolicySignal"] == "CouldNotDetermine"
    samba_dc.samba_tool("domain", "passwordsettings", "pso", "create", "jim-test-admins", "1", "--min-pwd-length=14")
    try:
        assert post(client, admin, ad_system, "import-schema").status_code == 200
    finally:
        samba_dc.samba_tool("domain", "passwordsettings", "pso", "delete", "jim-test-admins")
    policy = get(client, reader, ad_system, "password-policy").json
    # The domain's own figures stay the floor they are; the signal says some accounts have stricter ones.
    assert (policy["fineGrainedPolicySignal"], policy["minimumLength"]) == ("Present", 7)


@pytest.fixture
def policy_denied(samba_dc):
    """A deny ACE on the domain root for the service account: the DC then answers the root with none of its
    password attributes. The root's DACL is put back as it was afterwards."""
    connection = samba_dc.connect()
    dacl_only = security_descriptor_control(sdflags=0x04)  # the DACL, which a deny ACE is in
    try:
        connection.search(SERVICE_DN, "(objectClass=*)", ldap3.BASE, attributes=["objectSid"])
        sid = format_sid(connection.entries[0].objectSid.raw_values[0])
        connection.search(BASE, "(objectClass=*)", ldap3.BASE, attributes=["nTSecurityDescriptor"],
                          controls=dacl_only)
        before = connection.entries[0].nTSecurityDescriptor.raw_values[0]
        samba_dc.samba_tool("dsacl", "set", f"--objectdn={BASE}", f"--sddl=(D;;RP;;;{sid})")
        yield
        connection.modify(BASE, {"nTSecurityDescriptor": [(ldap3.MODIFY_REPLACE, [before])]}, controls=dacl_only)
    finally:
        connection.unbind()


def test_a_password_policy_the_account_may_not_read_fails_nothing(client, admin, reader, ad_system, policy_denied):
    preview = post(client, admin, ad_system, "import-schema/preview")
    assert preview.status_code == 200, preview.json
    assert (f"The domain's password policy could not be read: {SERVICE_DN} may not read minPwdLength, "
            f"pwdProperties, pwdHistoryLength, maxPwdAge, minPwdAge of {BASE}.") in preview.json["discoveryWarnings"]
    response = post(client, admin, ad_system, "import-schema")
    assert response.status_code == 200, response.json
    assert response.json["settingValuesValid"] is True
    assert {"user", "group"} <= {t["name"] for t in response.json["objectTypes"]}
    assert get(client, reader, ad_system, "password-policy").json == NO_POLICY  # not read, so nothing discovered
    assert get(client, reader, ad_system, "capabilities").json[0] == {"name": "Directory Type", "value": "Samba AD"}
