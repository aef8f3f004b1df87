"""Connected systems: create, get and delete."""
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from conftest import SYSTEMS
from database import db
from envelope import assert_error
from models import setting_values_table

DEFINITIONS = "/api/v1/synchronisation/connector-definitions"


def create(client, admin, name, connector=3, **fields):
    response = client.post(SYSTEMS, json={"name": name, "connectorDefinitionId": connector, **fields}, headers=admin)
    assert response.status_code == 201, response.json
    return response.json


def parse_time(value: str) -> datetime:
    assert value.endswith("Z")
    return datetime.fromisoformat(value.removesuffix("Z")).replace(tzinfo=UTC)


# --- create -----------------------------------------------------------------------------------------------

LDAP_DEFAULTS = {
    "1": {"name": "Host", "type": "String", "stringValue": None},
    "2": {"name": "Username", "type": "String", "stringValue": None},
    "3": {"name": "Password", "type": "StringEncrypted", "hasValue": False},
    "4": {"name": "Port", "type": "Integer", "intValue": 389},
    "5": {"name": "Use Secure Connection (LDAPS)?", "type": "CheckBox", "checkboxValue": False},
    "6": {"name": "Connection Timeout", "type": "Integer", "intValue": 10},
    "7": {"name": "Authentication Type", "type": "DropDown", "stringValue": "Simple"},
}


def test_create_answers_the_new_object_with_its_connectors_defaults(client, admin):
    response = client.post(SYSTEMS, json={"name": "Corporate LDAP", "description": "Staff",
                                          "connectorDefinitionId": 3}, headers=admin)
    assert response.status_code == 201
    system = response.json
    assert response.headers["Location"].endswith(f"/api/v1/synchronisation/connected-systems/{system['id']}")
    assert client.get(response.headers["Location"], headers=admin).json == system
    assert abs(parse_time(system["created"]) - datetime.now(UTC)) < timedelta(minutes=1)
    assert {key: system[key] for key in system if key not in ("created", "settingValues")} == {
        "id": 1,
        "name": "Corporate LDAP",
        "description": "Staff",
        "lastUpdated": None,
        "status": "Active",
        "settingValuesValid": False,
        "connector": {"id": 3, "name": "JIM LDAP Connector"},
        "objectTypes": [],
        "objectCount": 0,
        "pendingExportCount": 0,
        "maxExportParallelism": None,
        # JIM's defaults: no initial password window of its own (JIM's seven days), no TLS demanded, an
        # unresolved reference an error.
        "initialPasswordTimeToLive": None,
        "requireSecureTransport": False,
        "unresolvedReferenceHandling": "Error",
    }
    assert {key: system["settingValues"][key] for key in LDAP_DEFAULTS} == LDAP_DEFAULTS
    assert system["settingValues"]["12"]["stringValue"] == "userAccountControl"


@pytest.mark.parametrize(
    "connector, defaults",
    [
        (1, {"101": None, "102": ",", "103": "|", "104": None, "105": False}),
        (2, {"201": None, "202": None, "203": None, "206": False, "207": 30}),
        (4, {"301": None, "302": "Static Bearer Token", "303": False, "304": 30, "305": 3}),
    ],
)
def test_create_for_each_connector(client, admin, connector, defaults):
    """Every setting that can hold a value is listed, keyed by its id; a secret shows only hasValue."""
    values = create(client, admin, "System", connector)["settingValues"]
    definition = client.get(f"{DEFINITIONS}/{connector}", headers=admin).json
    assert list(values) == [str(setting["id"]) for setting in definition["settings"]]
    shown = {key: next(v for k, v in values[key].items() if k not in ("name", "type")) for key in defaults}
    assert shown == defaults


@pytest.mark.parametrize("description", ["", None])
def test_empty_description_is_null(client, admin, description):
    assert create(client, admin, "System", description=description)["description"] is None


@pytest.mark.parametrize(
    "body, fields",
    [
        ({"connectorDefinitionId": 3}, {"name"}),
        ({"name": "x"}, {"connectorDefinitionId"}),
        ({"name": "x", "connectorDefinitionId": 99}, {"connectorDefinitionId"}),
        ({"name": "x", "connectorDefinitionId": 0}, {"connectorDefinitionId"}),
        ({"name": "x", "connectorDefinitionId": "3"}, {"connectorDefinitionId"}),
        ({"name": "x", "connectorDefinitionId": 3.0}, {"connectorDefinitionId"}),
        ({"name": "x", "connectorDefinitionId": True}, {"connectorDefinitionId"}),
        ({"name": "x", "connectorDefinitionId": None}, {"connectorDefinitionId"}),
        ({"name": "x", "connectorDefinitionId": 2**64}, {"connectorDefinitionId"}),
        ({"name": "", "connectorDefinitionId": 3}, {"name"}),
        ({"name": "   ", "connectorDefinitionId": 3}, {"name"}),
        ({"name": None, "connectorDefinitionId": 3}, {"name"}),
        ({"name": 5, "connectorDefinitionId": 3}, {"name"}),
        ({"name": "x" * 201, "connectorDefinitionId": 3}, {"name"}),
        ({"name": "a\nb", "connectorDefinitionId": 3}, {"name"}),
        ({"name": "a\x00b", "connectorDefinitionId": 3}, {"name"}),
        ({"name": "Payroll\u202e", "connectorDefinitionId": 3}, {"name"}),
        ({"name": "HR\u2066", "connectorDefinitionId": 3}, {"name"}),
        ({"name": "\u200b\u2060", "connectorDefinitionId": 3}, {"name"}),
        ({"name": "\ufeff", "connectorDefinitionId": 3}, {"name"}),
        ({"name": "x", "connectorDefinitionId": 3, "description": "d" * 1001}, {"description"}),
        ({"name": "x", "connectorDefinitionId": 3, "description": 5}, {"description"}),
        ({"name": "x", "connectorDefinitionId": 3, "extra": 1}, {"extra"}),
        ({"name": "x", "connectorDefinitionId": 3, "id": 7}, {"id"}),
        ({"name": "x", "connectorDefinitionId": 3, "settingValues": {}}, {"settingValues"}),
        ({}, {"name", "connectorDefinitionId"}),
    ],
)
def test_create_refuses(client, admin, body, fields):
    response = client.post(SYSTEMS, json=body, headers=admin)
    assert set(assert_error(response, 400, "VALIDATION_ERROR")["validationErrors"]) == fields
    assert client.get(SYSTEMS, headers=admin).json["totalCount"] == 0


@pytest.mark.parametrize(
    "body",
    [
        {"name": "x" * 200, "connectorDefinitionId": 3},
        {"name": "x", "connectorDefinitionId": 3, "description": "d" * 1000},
        {"name": "x", "connectorDefinitionId": 3, "description": "line one\nline two\ttabbed"},
        {"name": "Zürich 東京 ☃", "connectorDefinitionId": 3},
        {"name": "نرم\u200cافزار", "connectorDefinitionId": 3},
        {"name": "👨\u200d👩\u200d👧", "connectorDefinitionId": 3},
        {"name": "x", "connectorDefinitionId": 3, "changeReason": "new directory"},
    ],
)
def test_create_accepts_the_edges(client, admin, body):
    response = client.post(SYSTEMS, json=body, headers=admin)
    assert response.status_code == 201, response.json
    system = response.json
    assert system["name"] == body["name"]
    assert system["description"] == body.get("description")
    assert client.get(f"{SYSTEMS}/{system['id']}", headers=admin).json == system


# --- get and delete ---------------------------------------------------------------------------------------

def test_get_answers_what_create_answered(client, admin, ldap_system):
    assert client.get(f"{SYSTEMS}/1", headers=admin).json == ldap_system


def setting_value_rows(app, system_id) -> int:
    with app.app_context():
        return db.session.scalar(
            select(func.count()).where(setting_values_table.c.connected_system_id == system_id)
        )


def test_delete(app, client, admin, ldap_system):
    other = create(client, admin, "Other")
    client.put(f"{SYSTEMS}/1", json={"settingValues": {"1": {"stringValue": "dc1"}, "3": {"stringValue": "pw"}}},
               headers=admin)
    assert setting_value_rows(app, 1) > 0
    others_rows = setting_value_rows(app, other["id"])
    response = client.delete(f"{SYSTEMS}/1", headers=admin)
    # As JIM answers it, with the history's record of the deletion as its activity.
    assert response.status_code == 200
    assert response.json == {"success": True, "outcome": "CompletedImmediately", "errorMessage": None,
                             "workerTaskId": None, "activityId": response.json["activityId"]}
    assert client.get(f"{SYSTEMS}/1/change-history", headers=admin).json["items"][0]["activityId"] == \
        response.json["activityId"]
    assert_error(client.get(f"{SYSTEMS}/1", headers=admin), 404, "NOT_FOUND")
    assert_error(client.delete(f"{SYSTEMS}/1", headers=admin), 404, "NOT_FOUND")
    assert_error(client.put(f"{SYSTEMS}/1", json={"name": "x"}, headers=admin), 404, "NOT_FOUND")
    assert setting_value_rows(app, 1) == 0
    assert client.get(f"{SYSTEMS}/{other['id']}", headers=admin).json == other
    assert setting_value_rows(app, other["id"]) == others_rows
    assert client.get(SYSTEMS, headers=admin).json["totalCount"] == 1
