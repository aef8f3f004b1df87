"""The connector catalog: each connector definition and its settings, as the contract lists them."""
import ast
import os
import subprocess
import sys

import pytest

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
        (1, "JIM File Connector"), (2, "JIM SQL Connector"), (3, "JIM LDAP Connector"), (4, "JIM SCIM Connector")]
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


@pytest.mark.parametrize(
    "connector, settings",
    [
        (1, {"File Path": ("File", True), "Delimiter": ("String", False), "Multi-Value Delimiter": ("String", False),
             "Object Type": ("String", False), "Stop On First Error": ("CheckBox", False)}),
        (2, {"Database Type": ("DropDown", True), "Host": ("String", True), "Port": ("Integer", False),
             "Database Name": ("String", True), "Username": ("String", True),
             "Password": ("StringEncrypted", True), "Connection Timeout": ("Integer", False),
             "Schema": ("String", False)}),
        (4, {"Base URL": ("String", True), "Authentication Method": ("DropDown", True),
             "Bearer Token": ("StringEncrypted", False), "Connection Timeout": ("Integer", False),
             "Maximum Retries": ("Integer", False)}),
    ],
)
def test_other_connectors(client, reader, connector, settings):
    definition = client.get(f"{DEFINITIONS}/{connector}", headers=reader).json
    assert {s["name"]: (s["type"], s["required"]) for s in definition["settings"]} == settings
    for setting in definition["settings"]:
        assert (setting["type"] == "DropDown") == bool(setting["allowedValues"])


def test_no_connectors_driver_is_loaded_by_the_service_starting(tmp_path):
    """A worker pays for ldap3, scim2-models, httpx and the SQL drivers on its first import of that kind: a
    service on SQLite that imports nothing loads none of them (they cost some 45 MiB a worker)."""
    start = ("import sys; from app import create_app; create_app(instance_path=sys.argv[1]);"
             " print(sorted({name.split('.')[0] for name in sys.modules}))")
    loaded = subprocess.run([sys.executable, "-c", start, str(tmp_path)], cwd=PROJECT, capture_output=True,
                            text=True, timeout=60, check=True, env={**os.environ, "DATABASE_URL": ""})
    drivers = {"ldap3", "scim2_models", "pydantic", "httpx", "pymysql", "psycopg"}
    assert drivers & set(ast.literal_eval(loaded.stdout.strip().splitlines()[-1])) == set()
