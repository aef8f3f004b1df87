"""The connector catalog: each connector definition and its settings, as the contract lists them."""
import ast
import os
import subprocess
import sys

from urllib.parse import quote

import pytest

from envelope import assert_error
from servers import PROJECT

DEFINITIONS = "/api/v1/synchronisation/connector-definitions"


LDAP_SETTINGS = [
    # id, name, type, required, default, allowed values
    (1, "Host", "String", True, None, []),
    (2, "Username", "String", True, None, []),
    (3, "Password", "StringEncrypted", True, None, []),
    (4, "Port", "Integer", True, 389, []),
    (5, "Use Secure Connection (LDAPS)?", "CheckBox", False, False, []),
    (6, "Connection Timeout", "Integer", True, 10, []),
    (7, "Authentication Type", "DropDown", True, "Simple", ["Simple", "NTLM"]),
]

FURTHER_LDAP_SETTINGS = {
    "Search Timeout": ("Integer", 300, []),
    "Maximum Retries": ("Integer", 3, []),
    "Retry Delay (ms)": ("Integer", 1000, []),
    "Delete Behaviour": ("DropDown", "Delete", ["Delete", "Disable"]),
    "Disable Attribute": ("String", "userAccountControl", []),
    "Export Concurrency": ("Integer", 4, []),
}


def test_connector_definitions_list(client, reader):
    response = client.get(DEFINITIONS, headers=reader)
    assert response.status_code == 200
    assert isinstance(response.json, list)
    assert [(c["id"], c["name"]) for c in response.json] == [
        (1, "JIM File Connector"), (2, "JIM SQL Connector"), (3, "JIM LDAP Connector"),
        (4, "JIM SCIM 2.0 Client Connector")]
    for connector in response.json:
        assert connector == client.get(f"{DEFINITIONS}/{connector['id']}", headers=reader).json
        assert len({setting["id"] for setting in connector["settings"]}) == len(connector["settings"])


@pytest.mark.parametrize("setting_id, name, type_, required, default, allowed", LDAP_SETTINGS)
def test_ldap_settings_1_to_7_as_the_contract_lists_them(client, reader, setting_id, name, type_, required, default,
                                                        allowed):
    settings = {s["id"]: s for s in client.get(f"{DEFINITIONS}/3", headers=reader).json["settings"]}
    setting = settings[setting_id]
    assert (setting["name"], setting["type"], setting["required"], setting["default"], setting["allowedValues"]) == (
        name, type_, required, default, allowed)
    assert setting["description"]


def test_further_ldap_settings(client, reader):
    settings = client.get(f"{DEFINITIONS}/3", headers=reader).json["settings"]
    assert [s["id"] for s in settings][:7] == [1, 2, 3, 4, 5, 6, 7]
    by_name = {s["name"]: (s["type"], s["default"], s["allowedValues"]) for s in settings}
    assert {name: by_name.get(name) for name in FURTHER_LDAP_SETTINGS} == FURTHER_LDAP_SETTINGS


# JIM's whole catalog of each connector's settings that hold a value, as (name, type, required), in id order;
# JIM's names, and this service's own settings (LDAP's Trusted CA Certificates, SQL's Schema) where they are.
CATALOGS = {
    1: [("File Path", "File", True), ("Delimiter", "String", False), ("Multi-Value Delimiter", "String", False),
        ("Object Type", "String", False), ("Stop On First Error", "CheckBox", False), ("Mode", "DropDown", False),
        ("Object Type Column", "String", False), ("Culture", "String", False)],
    2: [("Database Type", "DropDown", True), ("Host", "String", True), ("Port", "Integer", False),
        ("Database Name", "String", True), ("Username", "String", True), ("Password", "StringEncrypted", True),
        ("Connection Timeout", "Integer", False), ("Schema", "String", False),
        ("Oracle Database Identified By", "DropDown", False), ("Oracle Service Name", "String", False),
        ("Oracle SID", "String", False), ("Encrypt Connection", "CheckBox", False),
        ("Oracle Encryption", "DropDown", False), ("Database Time Zone", "String", False),
        ("Treat NUMBER(1) Columns as Boolean", "CheckBox", False), ("Treat RAW(16) Columns as Guid", "CheckBox", False),
        ("Object Types", "Text", False), ("Delta Import Mode", "DropDown", False)],
    3: [("Host", "String", True), ("Username", "String", True), ("Password", "StringEncrypted", True),
        ("Port", "Integer", True), ("Use Secure Connection (LDAPS)?", "CheckBox", False),
        ("Connection Timeout", "Integer", True), ("Authentication Type", "DropDown", True),
        ("Search Timeout", "Integer", False), ("Maximum Retries", "Integer", False),
        ("Retry Delay (ms)", "Integer", False), ("Delete Behaviour", "DropDown", False),
        ("Disable Attribute", "String", False), ("Export Concurrency", "Integer", False),
        ("Include Auxiliary Classes", "CheckBox", False), ("Trusted CA Certificates", "Text", False),
        ("Preferred Domain Controller", "String", False), ("Import Concurrency", "Integer", False),
        ("Create containers as needed?", "CheckBox", False), ("Skip Hidden Partitions", "CheckBox", False),
        ("Modify Batch Size", "Integer", False), ("Group Placeholder Member DN", "String", False)],
    4: [("Base URL", "String", True), ("Authentication Method", "DropDown", True),
        ("Bearer Token", "StringEncrypted", False), ("Connection Timeout", "Integer", False),
        ("Maximum Retries", "Integer", False), ("Token Endpoint URL", "String", False), ("Client ID", "String", False),
        ("Client Secret", "StringEncrypted", False), ("OAuth Scope", "String", False), ("Username", "String", False),
        ("Password", "StringEncrypted", False), ("Authentication Header Name", "String", False),
        ("Authentication Header Value", "StringEncrypted", False), ("Certificate Validation", "DropDown", False),
        ("Minimum TLS Version", "DropDown", False), ("Pagination Mode", "DropDown", False),
        ("Excluded Attributes", "String", False), ("Change Detection", "DropDown", False),
        ("Retry Delay (ms)", "Integer", False), ("Use Bulk Operations", "CheckBox", False)],
}
# What JIM's ConnectorDefinitionSettingDto shows, and this service's own default and allowedValues.
SETTING_FIELDS = ["id", "name", "description", "category", "type", "defaultCheckboxValue", "defaultStringValue",
                  "defaultIntValue", "dropDownValues", "required", "requiredGroup", "requiredGroupCardinality",
                  "requiredWhenSetting", "requiredWhenValue", "default", "allowedValues"]
SUPPORTS = {
    # full import, delta import, export, partitions, partition containers, secondary external id, user-selected
    # external id, user-selected attribute types, auto-confirm export, parallel export, paging, file paths,
    # password set, password policy discovery: as JIM's connector of each name declares them
    1: (True, False, True, False, False, False, True, True, True, False, False, True, False, False),
    2: (True, True, True, False, False, False, True, True, True, False, True, False, False, False),
    3: (True, True, True, True, True, True, False, False, False, True, True, False, True, True),
    4: (True, True, True, False, False, False, False, False, False, True, True, False, False, False),
}
SUPPORTS_FIELDS = ["supportsFullImport", "supportsDeltaImport", "supportsExport", "supportsPartitions",
                   "supportsPartitionContainers", "supportsSecondaryExternalId", "supportsUserSelectedExternalId",
                   "supportsUserSelectedAttributeTypes", "supportsAutoConfirmExport", "supportsParallelExport",
                   "supportsPaging", "supportsFilePaths", "supportsPasswordSet", "supportsPasswordPolicyDiscovery"]


@pytest.mark.parametrize("connector", CATALOGS)
def test_each_connector_carries_jims_catalog(client, reader, connector):
    definition = client.get(f"{DEFINITIONS}/{connector}", headers=reader).json
    assert [(s["name"], s["type"], s["required"]) for s in definition["settings"]] == CATALOGS[connector]
    ids = [s["id"] for s in definition["settings"]]
    assert ids == sorted(ids)
    for setting in definition["settings"]:
        assert (setting["type"] == "DropDown") == bool(setting["allowedValues"])


@pytest.mark.parametrize("connector", CATALOGS)
def test_settings_as_jims_dto_shows_them(client, reader, connector):
    """The default under its type's name, the drop-down's values, and the setting that makes one required by
    name, as JIM's module and scripts read them."""
    definition = client.get(f"{DEFINITIONS}/{connector}", headers=reader).json
    by_name = {setting["name"]: setting for setting in definition["settings"]}
    typed = {"CheckBox": "defaultCheckboxValue", "Integer": "defaultIntValue"}
    for setting in definition["settings"]:
        assert list(setting) == SETTING_FIELDS
        assert setting["category"] in ("Connectivity", "General", "Capabilities", "Schema", "Import", "Export")
        defaults = {key: setting[key] for key in ("defaultCheckboxValue", "defaultStringValue", "defaultIntValue")}
        own = typed.get(setting["type"], "defaultStringValue")
        assert defaults == {key: setting["default"] if key == own else None for key in defaults}, setting["name"]
        assert setting["dropDownValues"] == (setting["allowedValues"] or None)
        if setting["requiredWhenSetting"] is not None:
            other = by_name[setting["requiredWhenSetting"]]
            assert setting["requiredWhenValue"] in other["allowedValues"]
        assert (setting["requiredGroup"], setting["requiredGroupCardinality"]) == (None, "AtLeastOne")


@pytest.mark.parametrize("connector", CATALOGS)
def test_definitions_as_jims_dto_shows_them(client, reader, connector):
    definition = client.get(f"{DEFINITIONS}/{connector}", headers=reader).json
    assert tuple(definition[field] for field in SUPPORTS_FIELDS) == SUPPORTS[connector]
    assert definition["schemaStandard"] == {3: "Ldap", 4: "Scim"}.get(connector, "NotSet")
    assert (definition["builtIn"], definition["files"]) == (True, [])
    assert definition["url"] == "https://github.com/TetronIO/JIM"


def test_the_description_names_the_settings_nothing_here_acts_on(client, reader):
    ldap_definition = client.get(f"{DEFINITIONS}/3", headers=reader).json
    idle = ldap_definition["description"].split("not acted on by this service yet")[1]
    assert "Create containers as needed?" in idle and "Export Concurrency" in idle
    assert "Host" not in idle and "Trusted CA Certificates" not in idle


@pytest.mark.parametrize("name, connector", [("JIM File Connector", 1), ("JIM SQL Connector", 2),
                                             ("JIM LDAP Connector", 3), ("JIM SCIM 2.0 Client Connector", 4)])
def test_a_definition_by_its_name(client, reader, name, connector):
    response = client.get(f"{DEFINITIONS}/by-name/{quote(name)}", headers=reader)
    assert response.status_code == 200
    assert response.json == client.get(f"{DEFINITIONS}/{connector}", headers=reader).json


@pytest.mark.parametrize("name", ["JIM SCIM Connector", "jim ldap connector", "JIM LDAP Connector ", "%00"])
def test_a_name_the_catalog_does_not_spell_so_is_not_found(client, reader, name):
    body = assert_error(client.get(f"{DEFINITIONS}/by-name/{quote(name)}", headers=reader), 404, "NOT_FOUND")
    assert body["message"].startswith("There is no connector definition named ")


def test_no_connectors_driver_is_loaded_by_the_service_starting(tmp_path):
    """A worker pays for ldap3, scim2-models, httpx and the SQL drivers on its first import of that kind: a
    service on SQLite that imports nothing loads none of them (they cost some 45 MiB a worker)."""
    start = ("import sys; from app import create_app; create_app(instance_path=sys.argv[1]);"
             " print(sorted({name.split('.')[0] for name in sys.modules}))")
    loaded = subprocess.run([sys.executable, "-c", start, str(tmp_path)], cwd=PROJECT, capture_output=True,
                            text=True, timeout=60, check=True, env={**os.environ, "DATABASE_URL": ""})
    drivers = {"ldap3", "scim2_models", "pydantic", "httpx", "pymysql", "psycopg"}
    assert drivers & set(ast.literal_eval(loaded.stdout.strip().splitlines()[-1])) == set()
