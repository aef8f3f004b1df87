"""The JIM PowerShell module against this service: each cmdlet's requests as its .ps1 builds them (tests/cmdlets.py),
and what the cmdlet reads from the answers. The README's compatibility table names each cmdlet's test here, or
the reason it has none; ``test_the_compatibility_table_lists_every_cmdlet`` holds the table to the module.
"""
import re
from datetime import timedelta
from pathlib import Path

import pytest

from cmdlets import (
    MODULE_CMDLETS,
    CmdletError,
    approve_jim_connected_system_server_certificate,
    clear_jim_connected_system,
    connect_jim,
    convert_to_json,
    get_jim_api_key,
    get_jim_configuration_change_history,
    get_jim_connected_system,
    get_jim_connected_system_capability,
    get_jim_connected_system_container_scope_text,
    get_jim_connected_system_deletion_preview,
    get_jim_connected_system_directory_server,
    get_jim_connected_system_object,
    get_jim_connected_system_object_attribute_value,
    get_jim_connected_system_object_type,
    get_jim_connected_system_partition,
    get_jim_connected_system_password_policy,
    get_jim_connected_system_server_certificate,
    get_jim_connector_definition,
    get_jim_health,
    get_jim_run_profile,
    get_jim_user_info,
    get_jim_version,
    import_jim_connected_system_hierarchy,
    import_jim_connected_system_schema,
    new_jim_api_key,
    new_jim_connected_system,
    new_jim_run_profile,
    remove_jim_api_key,
    remove_jim_connected_system,
    remove_jim_run_profile,
    set_jim_api_key,
    set_jim_connected_system,
    set_jim_connected_system_attribute,
    set_jim_connected_system_container,
    set_jim_connected_system_container_scope_text,
    set_jim_connected_system_object_type,
    set_jim_connected_system_partition,
    set_jim_run_profile,
    start_jim_run_profile,
    test_jim_connection,
)
from importing import run_queued
from ldap_directory import SERVICE_DN, SERVICE_PASSWORD, SUFFIX
from models import utcnow
from servers import PROJECT

README = Path(PROJECT) / "README.md"
TABLE_ROW = re.compile(r"^\| `([A-Z][a-z]+-JIM[A-Za-z]*)` \|(.*)\|$", re.MULTILINE)


@pytest.fixture
def session(client, admin_key):
    return connect_jim(client, admin_key)[0]


@pytest.fixture
def reader_session(client, reader_key):
    return connect_jim(client, reader_key)[0]


@pytest.fixture
def files_root(tmp_path):
    root = tmp_path / "connector-files"
    root.mkdir()
    (root / "hr-users.csv").write_text("employeeId,displayName,mail\n1,Ada Lovelace,ada@example.com\n")
    return root


@pytest.fixture
def app_config(app_config, files_root):
    return {**app_config, "JIM_CONNECTOR_FILES_ROOT": str(files_root)}


def settings_by_name(definition: dict) -> dict:
    """``$connectorFull.settings | Where-Object { $_.name -eq ... }``, as JIM's scenarios find setting ids."""
    return {setting["name"]: setting for setting in definition["settings"]}


def test_the_compatibility_table_lists_every_cmdlet():
    """One row per cmdlet of the module's connected-system, API-key, connector-definition, run-profile, history,
    connection and system folders, each naming a test of this module that exists, or a reason."""
    rows = dict(TABLE_ROW.findall(README.read_text()))
    expected = {cmdlet for cmdlets in MODULE_CMDLETS.values() for cmdlet in cmdlets}
    assert set(rows) == expected
    tests = set(re.findall(r"^def (test_\w+)", Path(__file__).read_text(), re.MULTILINE))
    for cmdlet, row in rows.items():
        named = set(re.findall(r"`(test_\w+)`", row))
        assert named <= tests, (cmdlet, named - tests)
        assert named or re.search(r"not yet|not served", row), cmdlet


def test_convert_to_json_writes_as_powershell_does():
    body = {"name": "HR", "settingValues": {"4": {"intValue": 389}}, "roleIds": [], "isEnabled": False}
    assert convert_to_json(body) == (
        '{\n  "name": "HR",\n  "settingValues": {\n    "4": {\n      "intValue": 389\n    }\n  },\n'
        '  "roleIds": [],\n  "isEnabled": false\n}')
    nested = {"a": {"b": {"c": {"d": {"e": {"f": {"g": {"h": {"i": {"j": {"k": 1}}}}}}}}}}}
    assert '"j": "System.Collections.Hashtable"' in convert_to_json(nested)


def test_connect_and_test_connection(client, admin_key):
    session, shown = connect_jim(client, admin_key)
    assert shown["Status"] == "healthy"
    assert shown["ServerVersion"] == get_jim_version(client)["version"]
    assert shown["ApiKey"] == admin_key[:8] + "..." + admin_key[-4:]
    assert test_jim_connection(session) == {"Connected": True, "Status": "healthy",
                                            "Message": "Connection successful"}


def test_health_and_version_as_jims(client):
    assert get_jim_health(client)["status"] == "healthy"
    assert get_jim_health(client, live=True)["status"] == "alive"
    assert get_jim_health(client, ready=True)["status"] == "ready"
    for answer in (get_jim_health(client), get_jim_health(client, live=True), get_jim_health(client, ready=True)):
        assert answer["timestamp"].endswith("Z")
    version = get_jim_version(client)
    assert set(version) == {"product", "version"} and version["version"]


def test_get_connector_definitions_and_their_settings_by_name(session):
    definitions = get_jim_connector_definition(session)
    by_name = {definition["name"]: definition for definition in definitions}
    ldap = get_jim_connector_definition(session, id=by_name["JIM LDAP Connector"]["id"])
    settings = settings_by_name(ldap)
    assert (settings["Host"]["id"], settings["Username"]["id"], settings["Password"]["id"]) == (1, 2, 3)
    assert get_jim_connector_definition(session, name="JIM LDAP Connector") == ldap
    assert get_jim_connector_definition(session, name="JIM SCIM 2.0 Client Connector")["id"] == 4
    for missing in ({"id": 99}, {"name": "JIM SCIM Connector"}):
        with pytest.raises(CmdletError) as refused:
            get_jim_connector_definition(session, **missing)
        assert refused.value.status == 404
        assert str(refused.value).startswith("Resource not found: ")


def test_scenario_1_configures_its_directory_by_setting_name(session, ldap_directory):
    """Setup-Scenario1.ps1's step 5: every setting found by name, "Create containers as needed?" included (its
    script skips a setting it cannot find, so a missing one would go unnoticed there), then Export Concurrency
    and the parallelism."""
    ldap_definition = next(d for d in get_jim_connector_definition(session) if d["name"] == "JIM LDAP Connector")
    settings = settings_by_name(get_jim_connector_definition(session, id=ldap_definition["id"]))
    system = new_jim_connected_system(session, "Corporate LDAP", ldap_definition["id"],
                                      description=f"LDAP directory for integration testing ({ldap_directory.host})")
    values = {settings["Host"]["id"]: {"stringValue": ldap_directory.host},
              settings["Port"]["id"]: {"intValue": ldap_directory.port},
              settings["Username"]["id"]: {"stringValue": SERVICE_DN},
              settings["Password"]["id"]: {"stringValue": SERVICE_PASSWORD},
              settings["Use Secure Connection (LDAPS)?"]["id"]: {"checkboxValue": False},
              settings["Connection Timeout"]["id"]: {"intValue": 30},
              settings["Authentication Type"]["id"]: {"stringValue": "Simple"},
              settings["Create containers as needed?"]["id"]: {"checkboxValue": True}}
    set_jim_connected_system(session, system["id"], setting_values=values)
    set_jim_connected_system(session, system["id"],
                             setting_values={settings["Export Concurrency"]["id"]: {"intValue": 8}})
    set_jim_connected_system(session, system["id"], max_export_parallelism=4)
    stored = get_jim_connected_system(session, id=system["id"])
    shown = {value["name"]: value for value in stored["settingValues"].values()}
    assert shown["Create containers as needed?"]["checkboxValue"] is True
    assert (shown["Export Concurrency"]["intValue"], stored["maxExportParallelism"]) == (8, 4)
    assert shown["Password"] == {"name": "Password", "type": "StringEncrypted", "hasValue": True}
    assert import_jim_connected_system_hierarchy(session, system["id"])["success"] is True


def test_new_get_set_remove_connected_system(session):
    """Scenario 1's steps 3 to 5 for the HR file: create, find by name, set settings found by name, remove."""
    file_definition = next(d for d in get_jim_connector_definition(session) if d["name"] == "JIM File Connector")
    created = new_jim_connected_system(session, "HR CSV Source", file_definition["id"],
                                       description="HR system CSV export for integration testing")
    assert (created["name"], created["connector"]["id"]) == ("HR CSV Source", file_definition["id"])
    assert [s["id"] for s in get_jim_connected_system(session, name="hr csv*")] == [created["id"]]
    assert get_jim_connected_system(session, name="Nothing*") == []

    settings = settings_by_name(get_jim_connector_definition(session, id=file_definition["id"]))
    values = {settings["File Path"]["id"]: {"stringValue": "hr-users.csv"},
              settings["Delimiter"]["id"]: {"stringValue": ","},
              settings["Object Type"]["id"]: {"stringValue": "person"}}
    updated = set_jim_connected_system(session, created["id"], setting_values=values, description="",
                                       max_export_parallelism=4, change_reason="Scenario 1")
    assert updated["settingValues"][str(settings["File Path"]["id"])]["stringValue"] == "hr-users.csv"
    assert (updated["description"], updated["maxExportParallelism"]) == (None, 4)
    assert set_jim_connected_system(session, created["id"]) is None  # "No updates specified.": nothing sent
    assert get_jim_connected_system(session, id=created["id"]) == updated

    assert remove_jim_connected_system(session, created["id"])["outcome"] == "CompletedImmediately"
    with pytest.raises(CmdletError) as gone:
        get_jim_connected_system(session, id=created["id"])
    assert gone.value.status == 404


def test_preview_then_remove_a_connected_system_with_a_reason(session, reader_session):
    created = new_jim_connected_system(session, "HR CSV Source", 1)
    new_jim_run_profile(session, created["id"], "Full Import", "FullImport")
    preview = get_jim_connected_system_deletion_preview(reader_session, created["id"])
    assert preview == get_jim_connected_system(session, id=created["id"], deletion_preview=True)
    assert (preview["connectedSystemName"], preview["runProfileCount"], preview["activityCount"],
            preview["warnings"]) == ("HR CSV Source", 1, 2, [])
    removed = remove_jim_connected_system(session, created["id"], change_reason="Replaced by Workday")
    assert (removed["success"], removed["outcome"]) == (True, "CompletedImmediately")  # what -PassThru shows
    [record] = get_jim_configuration_change_history(session, created["id"], page_size=1)
    assert (record["operation"], record["reason"], record["activityId"]) == (
        "Delete", "Replaced by Workday", removed["activityId"])


def test_set_connected_system_password_and_reference_settings(session):
    """-RequireSecureTransport (a switch: :$false turns it off), -InitialPasswordTimeToLive (a TimeSpan, sent
    as ToString('c')), -UnresolvedReferenceHandling (ValidateSet, sent as typed)."""
    created = new_jim_connected_system(session, "Corporate LDAP", 3)
    assert (created["requireSecureTransport"], created["initialPasswordTimeToLive"],
            created["unresolvedReferenceHandling"]) == (False, None, "Error")
    updated = set_jim_connected_system(session, created["id"], require_secure_transport=True,
                                       initial_password_time_to_live="30.00:00:00",
                                       unresolved_reference_handling="ignore")
    assert (updated["requireSecureTransport"], updated["initialPasswordTimeToLive"],
            updated["unresolvedReferenceHandling"]) == (True, "30.00:00:00", "Ignore")
    off = set_jim_connected_system(session, created["id"], require_secure_transport=False,
                                   initial_password_time_to_live="01:30:00")
    assert (off["requireSecureTransport"], off["initialPasswordTimeToLive"]) == (False, "01:30:00")
    with pytest.raises(CmdletError) as refused:  # New-TimeSpan -Days 0: JIM would ignore it quietly
        set_jim_connected_system(session, created["id"], initial_password_time_to_live="00:00:00")
    assert "\n  - initialPasswordTimeToLive: Must be longer than zero" in str(refused.value)


def test_set_connected_system_shows_each_problem_as_the_cmdlet_does(session):
    created = new_jim_connected_system(session, "Corporate LDAP", 3)
    with pytest.raises(CmdletError) as refused:
        set_jim_connected_system(session, created["id"], name="Corporate LDAP",
                                 setting_values={4: {"intValue": "389"}, 99: {"stringValue": "x"}})
    message = str(refused.value)
    assert message.startswith("JIM API error (400): One or more fields are invalid.\n")
    assert "\n  - settingValues.4: " in message and "\n  - settingValues.99: " in message
    assert get_jim_connected_system(session, id=created["id"])["lastUpdated"] is None


def test_a_reader_may_read_but_not_write(session, reader_session):
    created = new_jim_connected_system(session, "HR", 1)
    assert get_jim_connected_system(reader_session, id=created["id"])["name"] == "HR"
    with pytest.raises(CmdletError) as refused:
        set_jim_connected_system(reader_session, created["id"], name="Renamed")
    assert refused.value.status == 403 and str(refused.value).startswith("Access denied.")


def test_import_schema_then_select_object_types_and_attributes(session):
    created = new_jim_connected_system(session, "HR CSV Source", 1)
    set_jim_connected_system(session, created["id"], setting_values={101: {"stringValue": "hr-users.csv"}})
    preview = import_jim_connected_system_schema(session, created["id"], preview=True)
    assert (preview["addedObjectTypes"], preview["hasChanges"]) == (["hr-users"], True)
    imported = import_jim_connected_system_schema(session, created["id"], disable_dependents=True)
    assert len(imported["objectTypes"]) == 1  # what the cmdlet counts
    assert imported["settingValuesValid"] is True

    [object_type] = get_jim_connected_system_object_type(session, created["id"])
    selected = set_jim_connected_system_object_type(session, created["id"], object_type["id"], selected=True)
    assert selected["selected"] is True
    assert set_jim_connected_system_object_type(session, created["id"], object_type["id"]) is None
    attributes = {a["name"]: a for a in object_type["attributes"]}
    anchor = set_jim_connected_system_attribute(session, created["id"], object_type["id"],
                                                attribute_id=attributes["employeeId"]["id"], is_external_id=True)
    assert (anchor["isExternalId"], anchor["selected"], anchor["selectionLocked"]) == (True, True, True)
    bulk = set_jim_connected_system_attribute(
        session, created["id"], object_type["id"],
        attribute_updates={attributes["displayName"]["id"]: {"selected": True},
                           attributes["mail"]["id"]: {"selected": True}})
    assert (bulk["updatedCount"], bulk["errors"]) == (2, None)  # the cmdlet warns of each entry of errors
    [stored] = get_jim_connected_system_object_type(session, created["id"])
    assert all(attribute["selected"] for attribute in stored["attributes"])


def test_set_attribute_type_is_refused(session):
    """-Type asks to change an attribute's type, which here is the connector's discovery, never a choice."""
    created = new_jim_connected_system(session, "HR CSV Source", 1)
    set_jim_connected_system(session, created["id"], setting_values={101: {"stringValue": "hr-users.csv"}})
    import_jim_connected_system_schema(session, created["id"])
    [object_type] = get_jim_connected_system_object_type(session, created["id"])
    attribute = object_type["attributes"][0]
    with pytest.raises(CmdletError) as refused:
        set_jim_connected_system_attribute(session, created["id"], object_type["id"], attribute_id=attribute["id"],
                                           type="Integer")
    assert refused.value.status == 400 and "type" in refused.value.body["validationErrors"]


def test_container_scope_by_container_and_as_text(session, ldap_directory):
    created = new_jim_connected_system(session, "Corporate LDAP", 3)
    set_jim_connected_system(session, created["id"], setting_values={
        1: {"stringValue": ldap_directory.url}, 2: {"stringValue": SERVICE_DN},
        3: {"stringValue": SERVICE_PASSWORD}})
    import_jim_connected_system_hierarchy(session, created["id"])
    [partition] = get_jim_connected_system_partition(session, created["id"])
    people = next(c for c in partition["containers"] if c["name"] == "People")
    contractors = next(c for c in people["childContainers"] if c["name"] == "Contractors")
    changed = set_jim_connected_system_container(session, created["id"], people["id"], selected=True,
                                                 scope="OneLevel")
    assert (changed["selected"], changed["excluded"], changed["scope"]) == (True, False, "OneLevel")
    excluded = set_jim_connected_system_container(session, created["id"], contractors["id"], excluded=True)
    assert excluded["excluded"] is True
    text = get_jim_connected_system_container_scope_text(session, created["id"])
    assert text == f"include one-level ou=People,{SUFFIX}\nexclude ou=Contractors,ou=People,{SUFFIX}"
    # The text as an administrator writes it in a file and pipes it: comments, shorthand, any case.
    applied = set_jim_connected_system_container_scope_text(
        session, created["id"], f"# scope\n+ ou=people,{SUFFIX}\n- OU=Contractors, OU=People, {SUFFIX}\n")
    assert applied == f"include ou=People,{SUFFIX}\nexclude ou=Contractors,ou=People,{SUFFIX}"
    assert get_jim_connected_system_container_scope_text(session, created["id"]) == applied
    with pytest.raises(CmdletError) as refused:
        set_jim_connected_system_container_scope_text(session, created["id"], f"include ou=Nowhere,{SUFFIX}")
    assert str(refused.value).startswith("JIM API error (400): One or more fields are invalid.\n"
                                         "  - text: line 1: No Container with the path")
    assert set_jim_connected_system_container_scope_text(session, created["id"], "") == ""


def test_get_configuration_change_history_in_all_its_connected_system_forms(session):
    created = new_jim_connected_system(session, "HR CSV Source", 1)
    set_jim_connected_system(session, created["id"], description="Nightly", change_reason="Documented")
    set_jim_connected_system(session, created["id"], max_export_parallelism=2)
    newest, middle, first = get_jim_configuration_change_history(session, created["id"])
    assert [item["version"] for item in (newest, middle, first)] == [3, 2, 1]
    assert (middle["operation"], middle["reason"], middle["summary"]) == ("Update", "Documented", "Updated: description")
    assert [item["version"] for item in get_jim_configuration_change_history(session, created["id"], page=2,
                                                                             page_size=2)] == [1]
    detail = get_jim_configuration_change_history(session, created["id"], version=2)
    assert detail["snapshot"]["objectName"] == "HR CSV Source" and detail["diff"]["modifiedCount"] == 0
    assert detail["diff"]["addedCount"] == 1  # the description had no value before
    diff = get_jim_configuration_change_history(session, created["id"], compare_from=1, compare_to=3)
    assert (diff["addedCount"], diff["hasChanges"]) == (2, True)  # -AsDiff formats diff.root
    with pytest.raises(CmdletError) as missing:
        get_jim_configuration_change_history(session, created["id"], version=9)
    assert missing.value.status == 404


def test_new_get_set_remove_run_profile(session, reader_session):
    created = new_jim_connected_system(session, "HR CSV Source", 1)
    full = new_jim_run_profile(session, created["id"], "Full Import", "fullimport", file_path="/data/hr.csv",
                               verify_import_content_hashes=True)
    assert (full["runType"], full["pageSize"], full["filePath"], full["verifyImportContentHashes"]) == (
        "FullImport", 100, "/data/hr.csv", True)
    export = new_jim_run_profile(session, created["id"], "Export", "Export", page_size=500)
    with pytest.raises(CmdletError) as refused:  # a file has no delta
        new_jim_run_profile(session, created["id"], "Delta Import", "DeltaImport")
    assert str(refused.value) == ("JIM API error (400): One or more fields are invalid.\n"
                                  "  - runType: The JIM File Connector cannot run a DeltaImport.")
    assert [p["name"] for p in get_jim_run_profile(reader_session, created["id"], name="full*")] == ["Full Import"]

    changed = set_jim_run_profile(session, created["id"], full["id"], page_size=1000, file_path="",
                                  verify_import_content_hashes=False)
    assert (changed["pageSize"], changed["filePath"], changed["verifyImportContentHashes"]) == (1000, None, False)
    assert set_jim_run_profile(session, created["id"], full["id"]) is None
    # Piped from Get-JIMRunProfile, the cmdlet reads connectedSystemId and id from the object.
    [piped] = get_jim_run_profile(session, created["id"], name="Export")
    renamed = set_jim_run_profile(session, piped["connectedSystemId"], piped["id"], name="Nightly Export")
    assert renamed["name"] == "Nightly Export"

    assert remove_jim_run_profile(session, created["id"], export["id"])["name"] == "Nightly Export"
    assert [p["id"] for p in get_jim_run_profile(session, created["id"])] == [full["id"]]
    with pytest.raises(CmdletError, match="Run Profile not found"):
        remove_jim_run_profile(session, created["id"], export["id"])
    with pytest.raises(CmdletError) as refused:
        new_jim_run_profile(reader_session, created["id"], "Full Import", "FullImport")
    assert refused.value.status == 403


def test_import_hierarchy_then_select_partitions_and_containers(session, ldap_directory):
    created = new_jim_connected_system(session, "Corporate LDAP", 3)
    set_jim_connected_system(session, created["id"], setting_values={
        1: {"stringValue": ldap_directory.url}, 2: {"stringValue": SERVICE_DN},
        3: {"stringValue": SERVICE_PASSWORD}})
    changes = import_jim_connected_system_hierarchy(session, created["id"])
    assert changes["success"] is True and changes["totalPartitions"] == 1
    [partition] = get_jim_connected_system_partition(session, created["id"])
    assert partition["name"] == SUFFIX
    assert set_jim_connected_system_partition(session, created["id"], partition["id"], selected=True)["selected"]
    assert set_jim_connected_system_partition(session, created["id"], partition["id"]) is None
    people = next(c for c in partition["containers"] if c["name"] == "People")
    container = set_jim_connected_system_container(session, created["id"], people["id"], selected=True)
    assert (container["id"], container["selected"]) == (people["id"], True)
    [partition] = get_jim_connected_system_partition(session, created["id"])
    assert partition["selected"] and next(c for c in partition["containers"] if c["name"] == "People")["selected"]


def test_read_and_approve_the_server_certificate(session, ldap_directory):
    """The cmdlets' second example: read what the directory presents, trust the authority that issued it (the
    choice that survives a renewal), and the import over LDAPS that was refused then works."""
    created = new_jim_connected_system(session, "Corporate LDAP", 3)
    set_jim_connected_system(session, created["id"], setting_values={
        1: {"stringValue": ldap_directory.url}, 2: {"stringValue": SERVICE_DN}, 3: {"stringValue": SERVICE_PASSWORD}})
    # Configuring LDAPS: the address entered, not saved yet.
    drafted = get_jim_connected_system_server_certificate(session, created["id"],
                                                          setting_values={1: ldap_directory.ldaps_url})
    assert drafted["certificate"]["failureReason"] == "UntrustedIssuer"
    set_jim_connected_system(session, created["id"], setting_values={1: {"stringValue": ldap_directory.ldaps_url}})
    with pytest.raises(CmdletError) as refused:
        import_jim_connected_system_schema(session, created["id"])
    assert refused.value.status == 502

    reading = get_jim_connected_system_server_certificate(session, created["id"])
    shown = reading["certificate"]
    assert (shown["host"], shown["subject"], shown["isSelfSigned"]) == ("127.0.0.1", "CN=localhost", False)
    assert approve_jim_connected_system_server_certificate(session, created["id"], shown["issuerThumbprint"],
                                                           change_reason="Unblocking the connection test.") is None
    assert len(import_jim_connected_system_schema(session, created["id"])["objectTypes"]) > 10
    again = approve_jim_connected_system_server_certificate(session, created["id"], shown["issuerThumbprint"],
                                                            pass_thru=True)
    assert again["outcome"] == "AlreadyTrusted"
    with pytest.raises(CmdletError) as mismatch:
        approve_jim_connected_system_server_certificate(session, created["id"], "7B" * 20)
    assert mismatch.value.status == 409
    assert str(mismatch.value).startswith("JIM API error (409): 127.0.0.1 is presenting a different certificate")


# API keys and who is calling (issue 20 part 7)


def test_api_key_cmdlets_create_find_change_and_remove_a_key(session, client):
    expires = utcnow() + timedelta(days=30)
    created = new_jim_api_key(session, "CI/CD Pipeline", description="For the build", role_ids=[1],
                              expires_at=expires)
    assert re.fullmatch(r"jim_ak_[0-9a-f]{64}", created["key"])  # -PassThru: the key, this once
    assert created["expiresAt"] == expires.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    assert [key["id"] for key in get_jim_api_key(session, name="ci*")] == [created["id"]]
    assert "key" not in get_jim_api_key(session, id=created["id"])
    pipeline = connect_jim(client, created["key"])[0]
    assert get_jim_user_info(pipeline)["name"] == "CI/CD Pipeline"

    disabled = set_jim_api_key(session, created["id"], disable=True)  # every field sent, as read
    assert (disabled["isEnabled"], disabled["description"], disabled["expiresAt"]) == (
        False, "For the build", created["expiresAt"])
    with pytest.raises(CmdletError) as refused:
        get_jim_user_info(pipeline)
    assert str(refused.value).startswith("Authentication failed.")
    changed = set_jim_api_key(session, created["id"], name="Nightly", role_ids=[2], expires_at=None, enable=True)
    assert (changed["name"], changed["roles"][0]["name"], changed["expiresAt"], changed["isEnabled"]) == (
        "Nightly", "Reader", None, True)

    assert remove_jim_api_key(session, created["id"], change_reason="Pipeline retired")["name"] == "Nightly"
    with pytest.raises(CmdletError) as gone:
        get_jim_api_key(session, id=created["id"])
    assert str(gone.value).startswith("Resource not found: ")


def test_new_api_key_without_roles_makes_a_key_that_may_only_ask_who_it_is(session, client):
    created = new_jim_api_key(session, "No role")  # -RoleIds defaults to @()
    assert created["roles"] == []
    nobody = connect_jim(client, created["key"])[0]
    me = get_jim_user_info(nobody)
    assert (me["authorised"], me["roles"], me["authMethod"]) == (False, [], "api_key")
    with pytest.raises(CmdletError) as refused:
        get_jim_connected_system(nobody)
    assert refused.value.status == 403


def test_user_info_of_an_administrator(session):
    me = get_jim_user_info(session)
    assert (me["authorised"], me["isAdministrator"], me["roles"]) == (True, True, ["Administrator"])


def test_set_api_key_cannot_disable_the_last_administrator_key(session):
    [mine] = get_jim_api_key(session, name="test-administrator")
    with pytest.raises(CmdletError) as refused:
        set_jim_api_key(session, mine["id"], disable=True)
    assert str(refused.value).startswith("JIM API error (409): This would leave no working Administrator key")
    with pytest.raises(CmdletError):
        remove_jim_api_key(session, mine["id"])
    assert get_jim_user_info(session)["isAdministrator"] is True


# What the connector learns of its system (issue 19), and clearing a system's connector space (issue 22)


def test_what_a_schema_import_learnt_of_the_directory(session, ldap_directory):
    """Capabilities and the password policy are what the last schema import read; asking for domain
    controllers of a directory that is not Active Directory shows the service's refusal."""
    created = new_jim_connected_system(session, "Corporate LDAP", 3)
    set_jim_connected_system(session, created["id"], setting_values={
        1: {"stringValue": ldap_directory.url}, 2: {"stringValue": SERVICE_DN}, 3: {"stringValue": SERVICE_PASSWORD}})
    import_jim_connected_system_schema(session, created["id"])
    capabilities = get_jim_connected_system_capability(session, created["id"])
    assert capabilities and all(set(capability) == {"name", "value"} for capability in capabilities)
    policy = get_jim_connected_system_password_policy(session, created["id"])
    assert policy["fineGrainedPolicySignal"] in ("Absent", "Present", "CouldNotDetermine")
    with pytest.raises(CmdletError) as refused:
        get_jim_connected_system_directory_server(session, created["id"])
    assert str(refused.value).startswith("JIM API error (400): ")


def test_clear_a_connected_system_keeping_or_deleting_its_history(session):
    created = new_jim_connected_system(session, "HR CSV Source", 1)
    assert clear_jim_connected_system(session, created["id"], keep_change_history=True) is None
    assert clear_jim_connected_system(session, created["id"]) is None
    assert get_jim_connected_system(session, id=created["id"])["name"] == "HR CSV Source"
    with pytest.raises(CmdletError) as missing:
        clear_jim_connected_system(session, created["id"] + 1)
    assert missing.value.status == 404


@pytest.fixture
def task_queue(app_config, tmp_path):
    """The service's task queue, whose tasks a test runs as the worker would (importing.run_queued)."""
    app_config["JIM_TASK_QUEUE_URL"] = f"sqlite:///{tmp_path / 'tasks.db'}"


def test_start_a_full_import_and_read_the_connector_space(session, task_queue, app):
    created = new_jim_connected_system(session, "HR CSV Source", 1)
    set_jim_connected_system(session, created["id"], setting_values={101: {"stringValue": "hr-users.csv"}})
    import_jim_connected_system_schema(session, created["id"])
    [person] = get_jim_connected_system_object_type(session, created["id"])
    set_jim_connected_system_object_type(session, created["id"], person["id"], selected=True)
    attributes = {attribute["name"]: attribute["id"] for attribute in person["attributes"]}
    set_jim_connected_system_attribute(session, created["id"], person["id"], attribute_id=attributes["employeeId"],
                                       is_external_id=True)
    set_jim_connected_system_attribute(session, created["id"], person["id"], attribute_updates={
        attributes["displayName"]: {"selected": True}, attributes["mail"]: {"selected": True}})
    profile = new_jim_run_profile(session, created["id"], "Full Import", "FullImport")

    queued = start_jim_run_profile(session, created["id"], profile["id"])
    assert queued["activityId"]
    run_queued(app)
    finished = start_jim_run_profile(session, created["id"], profile["id"], wait=True, worker=lambda: run_queued(app))
    assert finished["status"] == "Complete"

    [ada] = get_jim_connected_system_object(session, created["id"], search="Ada")
    assert get_jim_connected_system_object(session, created["id"], id=ada["id"])["id"] == ada["id"]
    assert get_jim_connected_system_object(session, created["id"], count=True, object_type_id=person["id"]) == 1
    values = get_jim_connected_system_object_attribute_value(session, created["id"], ada["id"], "mail")
    assert [(value["attributeName"], value["stringValue"]) for value in values] == [("mail", "ada@example.com")]
