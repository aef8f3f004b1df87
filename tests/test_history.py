"""The change history: who changed what, when and why, written with the change, readable after a delete.

Every request a test makes has its answer checked: a change that failed, or a no-op that answered an error,
must not pass for one that recorded nothing.
"""
import pytest

from conftest import SYSTEMS
from envelope import assert_error
from leaks import shows

SYSTEM = f"{SYSTEMS}/1"
HISTORY = f"{SYSTEM}/history"
PAGE_KEYS = {"items", "totalCount", "page", "pageSize", "totalPages", "hasNextPage", "hasPreviousPage"}
VALID_SETTINGS = {"1": {"stringValue": "ldap.example.com"}, "2": {"stringValue": "CN=JIM,DC=example,DC=com"},
                  "3": {"stringValue": "s3cur3p@ssw0rd"}}


def history(client, headers, url=HISTORY, **query):
    response = client.get(url, headers=headers, query_string=query)
    assert response.status_code == 200, response.json
    assert set(response.json) == PAGE_KEYS
    return response.json


def changes_of(record) -> dict:
    return {change["field"]: (change["oldValue"], change["newValue"]) for change in record["changes"]}


def created(client, admin, body) -> dict:
    response = client.post(SYSTEMS, json=body, headers=admin)
    assert response.status_code == 201, response.json
    return response.json


def updated(client, admin, body, url=SYSTEM) -> dict:
    """A PUT that must succeed; the answer is the system as a GET then shows it."""
    response = client.put(url, json=body, headers=admin)
    assert response.status_code == 200, response.json
    assert client.get(url, headers=admin).json == response.json
    return response.json


def validated(client, admin, valid: bool) -> dict:
    response = client.post(f"{SYSTEM}/validate-settings", headers=admin)
    assert response.status_code == 200, response.json
    assert response.json["valid"] is valid
    return response.json["connectedSystem"]


def deleted(client, admin, url=SYSTEM):
    response = client.delete(url, headers=admin)
    assert response.status_code == 200, response.json
    assert_error(client.get(url, headers=admin), 404, "NOT_FOUND")


def test_create_is_recorded_with_who_and_why(client, admin, admin_key, reader):
    system = created(client, admin, {"name": "HR feed", "description": "Nightly", "connectorDefinitionId": 1,
                                     "changeReason": "Onboarding HR"})
    page = history(client, reader, f"{SYSTEMS}/{system['id']}/history")
    assert page["totalCount"] == 1
    record = page["items"][0]
    assert record["action"] == "Created"
    assert record["connectedSystemId"] == system["id"]
    assert record["actor"] == {"type": "ApiKey", "name": "test-administrator", "prefix": admin_key[:12]}
    assert record["changeReason"] == "Onboarding HR"
    assert record["timestamp"].endswith("Z")
    changes = changes_of(record)
    assert changes["name"] == (None, "HR feed")
    assert changes["description"] == (None, "Nightly")
    assert changes["connectorDefinitionId"] == (None, 1)
    assert changes["settingValues.102"] == (None, ",")  # a default the connector gave it


def test_an_update_records_each_changed_field_old_and_new(client, admin, ldap_system):
    updated(client, admin, {"name": "Corporate LDAP (Production)", "description": "Primary",
                            "maxExportParallelism": 4, "settingValues": {"4": {"intValue": 636}},
                            "changeReason": "Move to LDAPS"})
    record = history(client, admin)["items"][0]
    assert record["action"] == "Updated"
    assert record["changeReason"] == "Move to LDAPS"
    assert changes_of(record) == {
        "name": ("Corporate LDAP", "Corporate LDAP (Production)"),
        "description": (None, "Primary"),
        "maxExportParallelism": (None, 4),
        "settingValues.4": (389, 636),
    }


def test_clearing_is_recorded_as_a_change_to_null(client, admin, ldap_system):
    updated(client, admin, {"description": "Primary", "maxExportParallelism": 4})
    updated(client, admin, {"description": None, "maxExportParallelism": None,
                            "settingValues": {"4": {"intValue": None}}})
    assert changes_of(history(client, admin)["items"][0]) == {
        "description": ("Primary", None),
        "maxExportParallelism": (4, None),
        "settingValues.4": (389, None),
    }


def test_only_what_changed_is_recorded(client, admin, ldap_system):
    updated(client, admin, {"name": "Corporate LDAP", "description": "New"})
    assert changes_of(history(client, admin)["items"][0]) == {"description": (None, "New")}


def test_a_secret_change_is_recorded_without_any_value(client, admin, ldap_system):
    passwords = ("s3cur3p@ssw0rd", "n3wp@ssw0rd-2")
    for password in passwords:
        updated(client, admin, {"settingValues": {"3": {"stringValue": password}}})
    deleted(client, admin)
    page = client.get(HISTORY, headers=admin)
    assert page.status_code == 200
    assert not any(shows(page.get_data(as_text=True), password) for password in passwords)
    updates = [record for record in page.json["items"] if record["action"] == "Updated"]
    assert [record["changes"] for record in updates] == [
        [{"field": "settingValues.3", "oldValue": None, "newValue": None}]
    ] * 2
    deleted_record = page.json["items"][0]
    assert changes_of(deleted_record)["settingValues.3"] == (None, None)


@pytest.mark.parametrize(
    "body, headers, status, code",
    [
        ({"name": "Corporate LDAP"}, {}, 200, None),  # the value it already has
        ({"settingValues": {"4": {"intValue": 389}}}, {}, 200, None),
        ({"settingValues": {"15": {"stringValue": None}}}, {}, 200, None),  # clears what holds nothing
        ({"changeReason": "nothing else"}, {}, 200, None),
        ({"name": "", "description": "would change"}, {}, 400, "VALIDATION_ERROR"),
        ({"description": "would change"}, {"If-Match": '"0-0"'}, 412, "PRECONDITION_FAILED"),
    ],
    ids=["same-name", "same-setting", "clear-nothing", "reason-only", "invalid", "stale-if-match"],
)
def test_a_rejected_or_no_op_put_records_nothing(client, admin, ldap_system, body, headers, status, code):
    response = client.put(SYSTEM, json=body, headers={**admin, **headers})
    if code is None:
        assert response.status_code == status, response.json
        assert response.json == ldap_system  # nothing changed, not even lastUpdated
    else:
        assert_error(response, status, code)
    assert client.get(SYSTEM, headers=admin).json == ldap_system
    assert history(client, admin)["totalCount"] == 1


def test_a_validation_is_recorded_only_when_it_changes_setting_values_valid(client, admin, ldap_system):
    validated(client, admin, False)  # invalid, as it already was
    assert history(client, admin)["totalCount"] == 1
    updated(client, admin, {"settingValues": VALID_SETTINGS})
    validated(client, admin, True)
    validated(client, admin, True)
    updated(client, admin, {"settingValues": {"4": {"intValue": 636}}})
    items = history(client, admin)["items"]
    assert [record["action"] for record in items] == ["Updated", "SettingsValidated", "Updated", "Created"]
    assert changes_of(items[1]) == {"settingValuesValid": (False, True)}
    assert changes_of(items[0]) == {"settingValues.4": (389, 636), "settingValuesValid": (True, False)}


def test_a_deleted_systems_history_stays_readable(client, admin, reader, ldap_system):
    updated(client, admin, {"description": "Going"})
    deleted(client, admin)
    items = history(client, reader)["items"]
    assert [record["action"] for record in items] == ["Deleted", "Updated", "Created"]
    assert changes_of(items[0])["name"] == ("Corporate LDAP", None)
    assert changes_of(items[0])["description"] == ("Going", None)


def test_a_rename_refused_as_a_conflict_records_nothing(client, admin, ldap_system):
    created(client, admin, {"name": "HR", "connectorDefinitionId": 1})
    response = client.put(SYSTEM, json={"name": "hr", "description": "would change"}, headers=admin)
    assert_error(response, 409, "CONFLICT")
    assert client.get(SYSTEM, headers=admin).json == ldap_system
    assert history(client, admin)["totalCount"] == 1


def test_a_new_system_after_a_delete_has_a_history_of_its_own(client, admin, ldap_system):
    deleted(client, admin)
    system = created(client, admin, {"name": "Corporate LDAP", "connectorDefinitionId": 3})
    assert [record["action"] for record in history(client, admin)["items"]] == ["Deleted", "Created"]
    own = history(client, admin, f"{SYSTEMS}/{system['id']}/history")
    assert [record["action"] for record in own["items"]] == ["Created"]


def test_history_is_paged_newest_first(client, admin, ldap_system):
    for number in range(1, 6):
        updated(client, admin, {"maxExportParallelism": number})
    first = history(client, admin, pageSize=2)
    assert first["totalCount"] == 6 and first["totalPages"] == 3 and first["hasNextPage"] is True
    assert [changes_of(record)["maxExportParallelism"][1] for record in first["items"]] == [5, 4]
    last = history(client, admin, page=3, pagesize=2)
    assert [record["action"] for record in last["items"]] == ["Updated", "Created"]
    assert last["hasNextPage"] is False and last["hasPreviousPage"] is True
    ids = [record["id"] for record in history(client, admin)["items"]]
    assert ids == sorted(ids, reverse=True)


@pytest.mark.parametrize("query, field", [({"pageSize": 0}, "pageSize"), ({"pageSize": 101}, "pageSize"),
                                          ({"page": 0}, "page"), ({"sortBy": "name"}, "sortBy")])
def test_a_bad_history_query_is_a_validation_error(client, admin, ldap_system, query, field):
    response = client.get(HISTORY, headers=admin, query_string=query)
    assert set(assert_error(response, 400, "VALIDATION_ERROR")["validationErrors"]) == {field}
