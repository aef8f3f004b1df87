"""Connected systems: create, get, delete, the list, the connector catalog and validate-settings."""
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
    }
    assert {key: system["settingValues"][key] for key in LDAP_DEFAULTS} == LDAP_DEFAULTS
    assert system["settingValues"]["12"]["stringValue"] == "userAccountControl"


@pytest.mark.parametrize(
    "connector, defaults",
    [
        (1, {"101": None, "102": ",", "103": "|", "104": None, "105": False}),
        (2, {"201": None, "202": None, "203": None, "206": False, "207": 30}),
        (4, {"301": None, "302": "Bearer Token", "303": False, "304": 30, "305": 3}),
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
    assert response.status_code == 204 and response.get_data() == b""
    assert_error(client.get(f"{SYSTEMS}/1", headers=admin), 404, "NOT_FOUND")
    assert_error(client.delete(f"{SYSTEMS}/1", headers=admin), 404, "NOT_FOUND")
    assert_error(client.put(f"{SYSTEMS}/1", json={"name": "x"}, headers=admin), 404, "NOT_FOUND")
    assert setting_value_rows(app, 1) == 0
    assert client.get(f"{SYSTEMS}/{other['id']}", headers=admin).json == other
    assert setting_value_rows(app, other["id"]) == others_rows
    assert client.get(SYSTEMS, headers=admin).json["totalCount"] == 1


def test_a_deleted_name_is_free_again(client, admin, ldap_system):
    client.delete(f"{SYSTEMS}/1", headers=admin)
    assert create(client, admin, "CORPORATE LDAP")["id"] == 2


# --- the list ---------------------------------------------------------------------------------------------

def listing(client, headers, query=""):
    response = client.get(f"{SYSTEMS}?{query}", headers=headers)
    assert response.status_code == 200, response.json
    return response.json


def test_empty_list(client, reader):
    assert listing(client, reader) == {"items": [], "totalCount": 0, "page": 1, "pageSize": 25, "totalPages": 0,
                                       "hasNextPage": False, "hasPreviousPage": False}


def test_list_items_are_summaries(client, admin, ldap_system):
    item = listing(client, admin)["items"][0]
    assert item == {
        "id": 1, "name": "Corporate LDAP", "description": None, "created": ldap_system["created"],
        "lastUpdated": None, "status": "Active", "settingValuesValid": False, "connectorId": 3,
        "connectorName": "JIM LDAP Connector",
    }


@pytest.fixture
def five_systems(client, admin):
    return [create(client, admin, f"System {n}")["id"] for n in range(1, 6)]


# The list's tables are read-only over one set of systems, so each row is a subtest of one test per store.

PAGING = (
    # query, ids, page, pageSize, totalPages, hasNextPage, hasPreviousPage
    [
        ("", [1, 2, 3, 4, 5], 1, 25, 1, False, False),
        ("pageSize=1", [1], 1, 1, 5, True, False),
        ("pageSize=2", [1, 2], 1, 2, 3, True, False),
        ("pageSize=2&page=2", [3, 4], 2, 2, 3, True, True),
        ("pageSize=2&page=3", [5], 3, 2, 3, False, True),
        ("pageSize=2&page=4", [], 4, 2, 3, False, True),
        ("pageSize=4&page=2", [5], 2, 4, 2, False, True),
        ("pageSize=5", [1, 2, 3, 4, 5], 1, 5, 1, False, False),
        ("pageSize=6", [1, 2, 3, 4, 5], 1, 6, 1, False, False),
        ("pageSize=100", [1, 2, 3, 4, 5], 1, 100, 1, False, False),
        ("page=1000000", [], 1_000_000, 25, 1, False, True),
    ]
)


def test_paging(client, reader, five_systems, subtests):
    for query, ids, page, size, pages, has_next, has_previous in PAGING:
        with subtests.test(query):
            answer = listing(client, reader, query)
            assert [item["id"] for item in answer["items"]] == ids
            assert (answer["totalCount"], answer["page"], answer["pageSize"], answer["totalPages"]) == (
                5, page, size, pages)
            assert (answer["hasNextPage"], answer["hasPreviousPage"]) == (has_next, has_previous)


REFUSED_QUERIES = (
    # query, the parameter the answer names
    [
        ("page=0", "page"), ("page=-1", "page"), ("page=1000001", "page"), ("page=abc", "page"),
        ("page=1.5", "page"), ("page=", "page"), ("page=99999999999999999999", "page"),
        ("pageSize=0", "pageSize"), ("pageSize=101", "pageSize"), ("pageSize=-5", "pageSize"),
        ("pageSize=ten", "pageSize"), ("pageSize=", "pageSize"),
        ("sortBy=id", "sortBy"), ("sortBy=", "sortBy"), ("sortBy=name;drop", "sortBy"),
        ("sortDirection=up", "sortDirection"), ("sortDirection=", "sortDirection"),
        ("filter=" + "x" * 201, "filter"), ("filter=a%00b", "filter"),
        ("foo=1", "foo"), ("page_size=10", "page_size"), ("sort=name", "sort"),
    ]
)


def test_list_refuses(client, reader, five_systems, subtests):
    for query, field in REFUSED_QUERIES:
        with subtests.test(query):
            body = assert_error(client.get(f"{SYSTEMS}?{query}", headers=reader), 400, "VALIDATION_ERROR")
            assert set(body["validationErrors"]) == {field}


NAMES = ["beta", "Alpha", "gamma", "ALPHA two", "Delta"]  # ids 1-5, in that order; connectors below
CONNECTOR_OF = [3, 1, 4, 2, 3]  # LDAP, File, SCIM, SQL, LDAP


@pytest.fixture
def named_systems(client, admin):
    return [create(client, admin, name, connector)["id"] for name, connector in zip(NAMES, CONNECTOR_OF)]


ORDERS = (
    # query, ids in the order answered
    [
        ("", [2, 4, 1, 5, 3]),  # by name, ignoring case
        ("sortBy=name", [2, 4, 1, 5, 3]),
        ("sortBy=name&sortDirection=asc", [2, 4, 1, 5, 3]),
        ("sortBy=name&sortDirection=desc", [3, 5, 1, 4, 2]),
        ("sortBy=created", [1, 2, 3, 4, 5]),
        ("sortBy=created&sortDirection=desc", [5, 4, 3, 2, 1]),
        # File, LDAP, LDAP, SCIM, SQL; ties by id, in the direction asked
        ("sortBy=connectorName", [2, 1, 5, 3, 4]),
        ("sortBy=connectorName&sortDirection=desc", [4, 3, 5, 1, 2]),
        ("SORTBY=CONNECTORNAME&SortDirection=DESC", [4, 3, 5, 1, 2]),
        ("sortby=Created&sortdirection=Desc", [5, 4, 3, 2, 1]),
        ("sortBy=name&pageSize=2&page=2", [1, 5]),
        ("PAGESIZE=2&PAGE=3", [3]),
        ("pagesize=2&Page=1&sortBy=created", [1, 2]),
    ]
)


def test_sorting_and_parameter_names_in_any_case(client, reader, named_systems, subtests):
    for query, ids in ORDERS:
        with subtests.test(query):
            assert [item["id"] for item in listing(client, reader, query)["items"]] == ids


FILTERED_NAMES = ["Corporate LDAP", "ldap backup", "ÉCOLE Centrale", "Petite école", "Straße 1", "100% HR", "100 HR",
                  "HR_Feed", "HRxFeed", "back\\slash", "a/b"]

FILTERS = (
    # filter, the names it finds
    [
        ("ldap", ["Corporate LDAP", "ldap backup"]),
        ("LDAP", ["Corporate LDAP", "ldap backup"]),
        ("LdAp", ["Corporate LDAP", "ldap backup"]),
        ("école", ["ÉCOLE Centrale", "Petite école"]),
        ("ÉCOLE", ["ÉCOLE Centrale", "Petite école"]),
        ("STRASSE", ["Straße 1"]),
        ("%", ["100% HR"]),
        ("100%", ["100% HR"]),
        ("_", ["HR_Feed"]),
        ("r_f", ["HR_Feed"]),
        ("\\", ["back\\slash"]),
        ("/", ["a/b"]),
        ("nothing like it", []),
        ("", ["100 HR", "100% HR", "a/b", "back\\slash", "Corporate LDAP", "ÉCOLE Centrale", "HR_Feed", "HRxFeed",
              "ldap backup", "Petite école", "Straße 1"]),
    ]
)


def test_filter_is_case_insensitive_and_literal(client, admin, reader, subtests):
    for name in FILTERED_NAMES:
        create(client, admin, name)
    for filter_, names in FILTERS:
        with subtests.test(filter_):
            answer = client.get(SYSTEMS, query_string={"filter": filter_, "sortBy": "name"}, headers=reader).json
            assert sorted(item["name"] for item in answer["items"]) == sorted(names)
            assert answer["totalCount"] == len(names)


def test_filter_and_paging_together(client, admin, reader):
    for n in range(1, 8):
        create(client, admin, f"{'Match' if n % 2 else 'Other'} {n}")
    answer = listing(client, reader, "filter=match&pageSize=3&page=2")
    assert [item["name"] for item in answer["items"]] == ["Match 7"]
    assert (answer["totalCount"], answer["totalPages"], answer["hasNextPage"], answer["hasPreviousPage"]) == (
        4, 2, False, True)


# --- the connector catalog --------------------------------------------------------------------------------

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


@pytest.mark.parametrize("definition_id", ["0", "5", "99", "abc", "-1", "03"])
def test_unknown_connector_definition(client, reader, definition_id):
    assert_error(client.get(f"{DEFINITIONS}/{definition_id}", headers=reader), 404, "NOT_FOUND")


# --- validate-settings ------------------------------------------------------------------------------------

COMPLETE_LDAP = {
    "1": {"stringValue": "ldap://directory.example.com:389"},
    "2": {"stringValue": "CN=JIM,OU=Service,DC=example,DC=com"},
    "3": {"stringValue": "s3cur3p@ssw0rd"},
}


def validate(client, admin, system_id=1):
    response = client.post(f"{SYSTEMS}/{system_id}/validate-settings", headers=admin)
    assert response.status_code == 200, response.json
    assert set(response.json) == {"valid", "validationErrors", "connectedSystem"}
    assert response.json["connectedSystem"] == client.get(f"{SYSTEMS}/{system_id}", headers=admin).json
    assert response.json["connectedSystem"]["settingValuesValid"] is response.json["valid"]
    return response.json


def put_settings(client, admin, values, system_id=1):
    response = client.put(f"{SYSTEMS}/{system_id}", json={"settingValues": values}, headers=admin)
    assert response.status_code == 200, response.json
    return response.json


def test_new_system_is_missing_its_required_settings(client, admin, ldap_system):
    answer = validate(client, admin)
    assert answer["valid"] is False
    assert set(answer["validationErrors"]) == {"settingValues.1", "settingValues.2", "settingValues.3"}
    assert all(messages and all(isinstance(m, str) for m in messages)
               for messages in answer["validationErrors"].values())
    assert answer["connectedSystem"]["lastUpdated"] is None  # settingValuesValid stayed false: nothing changed


def test_complete_ldap_configuration_is_valid(client, admin, ldap_system):
    put_settings(client, admin, COMPLETE_LDAP)
    answer = validate(client, admin)
    assert (answer["valid"], answer["validationErrors"]) == (True, {})


@pytest.mark.parametrize(
    "values, problems",
    [
        ({"4": {"intValue": 70000}}, {"settingValues.4"}),
        ({"4": {"intValue": 65536}}, {"settingValues.4"}),
        ({"4": {"intValue": 0}}, {"settingValues.4"}),
        ({"4": {"intValue": -389}}, {"settingValues.4"}),
        ({"4": {"intValue": 65535}}, set()),
        ({"4": {"intValue": 1}}, set()),
        ({"4": {"intValue": None}}, {"settingValues.4"}),
        ({"6": {"intValue": 0}}, {"settingValues.6"}),
        ({"6": {"intValue": 1}}, set()),
        ({"7": {"stringValue": None}}, {"settingValues.7"}),
        ({"7": {"stringValue": "NTLM"}, "2": {"stringValue": "EXAMPLE\\jim"}}, set()),
        ({"2": {"stringValue": "jim"}}, {"settingValues.2"}),
        ({"2": {"stringValue": "jim@example.com"}}, set()),
        ({"1": {"stringValue": "directory.example.com"}}, set()),
        ({"1": {"stringValue": "ldaps://directory.example.com"}}, set()),
        ({"1": {"stringValue": "http://directory.example.com"}}, {"settingValues.1"}),
        ({"1": {"stringValue": "ldap://"}}, {"settingValues.1"}),
        ({"1": {"stringValue": "ldap://directory.example.com:99999"}}, {"settingValues.1"}),
        ({"1": {"stringValue": "not a host"}}, {"settingValues.1"}),
        ({"1": {"stringValue": ""}}, {"settingValues.1"}),
        ({"3": {"stringValue": None}}, {"settingValues.3"}),
        ({"11": {"stringValue": "Disable"}, "12": {"stringValue": None}}, {"settingValues.12"}),
        ({"11": {"stringValue": "Disable"}, "12": {"stringValue": ""}}, {"settingValues.12"}),
        ({"11": {"stringValue": "Disable"}}, set()),
        ({"11": {"stringValue": "Delete"}, "12": {"stringValue": None}}, set()),
        ({"13": {"intValue": 65}}, {"settingValues.13"}),
        ({"9": {"intValue": -1}, "10": {"intValue": -1}}, {"settingValues.9", "settingValues.10"}),
    ],
)
def test_ldap_checks(client, admin, ldap_system, values, problems):
    put_settings(client, admin, {**COMPLETE_LDAP, **values})
    answer = validate(client, admin)
    assert set(answer["validationErrors"]) == problems
    assert answer["valid"] is (not problems)


@pytest.mark.parametrize(
    "values, problems",
    [
        ({"301": {"stringValue": "https://scim.example.com/v2"}, "303": {"stringValue": "token"}}, set()),
        ({"301": {"stringValue": "http://localhost:8080/scim"}, "303": {"stringValue": "token"}}, set()),
        ({"301": {"stringValue": "not a url"}, "303": {"stringValue": "token"}}, {"settingValues.301"}),
        ({"301": {"stringValue": "scim.example.com"}, "303": {"stringValue": "token"}}, {"settingValues.301"}),
        ({"301": {"stringValue": "ftp://scim.example.com"}, "303": {"stringValue": "token"}}, {"settingValues.301"}),
        ({"301": {"stringValue": "https://"}, "303": {"stringValue": "token"}}, {"settingValues.301"}),
        ({"301": {"stringValue": "https://scim.example.com"}}, {"settingValues.303"}),
        ({"301": {"stringValue": "https://scim.example.com"}, "302": {"stringValue": "None"}}, set()),
        ({}, {"settingValues.301", "settingValues.303"}),
    ],
)
def test_scim_checks(client, admin, values, problems):
    system = create(client, admin, "SCIM", 4)
    if values:
        put_settings(client, admin, values, system["id"])
    answer = validate(client, admin, system["id"])
    assert set(answer["validationErrors"]) == problems
    assert answer["valid"] is (not problems)


def test_last_updated_moves_only_when_the_outcome_changes(client, admin, ldap_system):
    assert validate(client, admin)["connectedSystem"]["lastUpdated"] is None  # false, still false
    stamp = put_settings(client, admin, COMPLETE_LDAP)["lastUpdated"]
    assert validate(client, admin)["connectedSystem"]["lastUpdated"] is not None  # false to true
    valid_since = client.get(f"{SYSTEMS}/1", headers=admin).json["lastUpdated"]
    assert parse_time(valid_since) > parse_time(stamp)
    assert validate(client, admin)["connectedSystem"]["lastUpdated"] == valid_since  # true, still true
    put_settings(client, admin, {"4": {"intValue": 70000}})  # a change: false again
    changed = client.get(f"{SYSTEMS}/1", headers=admin).json
    assert changed["settingValuesValid"] is False
    assert validate(client, admin)["connectedSystem"]["lastUpdated"] == changed["lastUpdated"]  # false, still


def test_validation_outcome_is_stored(client, admin, ldap_system):
    put_settings(client, admin, COMPLETE_LDAP)
    validate(client, admin)
    assert client.get(f"{SYSTEMS}/1", headers=admin).json["settingValuesValid"] is True
    assert client.get(SYSTEMS, headers=admin).json["items"][0]["settingValuesValid"] is True
    put_settings(client, admin, COMPLETE_LDAP)  # the same values again: no change
    assert client.get(f"{SYSTEMS}/1", headers=admin).json["settingValuesValid"] is True
    put_settings(client, admin, {"4": {"intValue": 636}})
    assert client.get(f"{SYSTEMS}/1", headers=admin).json["settingValuesValid"] is False
