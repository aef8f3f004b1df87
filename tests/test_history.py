"""The change history: who changed what, when and why, written with the change, readable after a delete."""
import pytest

from conftest import SYSTEMS

SYSTEM = f"{SYSTEMS}/1"
HISTORY = f"{SYSTEM}/history"
PAGE_KEYS = {"items", "totalCount", "page", "pageSize", "totalPages", "hasNextPage", "hasPreviousPage"}
VALID_SETTINGS = {"1": {"stringValue": "ldap.example.com"}, "2": {"stringValue": "CN=JIM,DC=example,DC=com"},
                  "3": {"stringValue": "s3cur3p@ssw0rd"}}


def history(client, headers, url=HISTORY, **query):
    response = client.get(url, headers=headers, query_string=query)
    assert response.status_code == 200, response.json
    return response.json


def changes_of(record) -> dict:
    return {change["field"]: (change["oldValue"], change["newValue"]) for change in record["changes"]}


def test_create_is_recorded_with_who_and_why(client, admin, admin_key, reader):
    created = client.post(SYSTEMS, json={"name": "HR feed", "description": "Nightly", "connectorDefinitionId": 1,
                                         "changeReason": "Onboarding HR"}, headers=admin)
    page = history(client, reader, f"{SYSTEMS}/{created.json['id']}/history")
    assert set(page) == PAGE_KEYS and page["totalCount"] == 1
    record = page["items"][0]
    assert record["action"] == "Created"
    assert record["connectedSystemId"] == created.json["id"]
    assert record["actor"] == {"type": "ApiKey", "name": "test-administrator", "prefix": admin_key[:12]}
    assert record["changeReason"] == "Onboarding HR"
    assert record["timestamp"].endswith("Z")
    changes = changes_of(record)
    assert changes["name"] == (None, "HR feed")
    assert changes["description"] == (None, "Nightly")
    assert changes["connectorDefinitionId"] == (None, 1)
    assert changes["settingValues.102"] == (None, ",")  # a default the connector gave it


def test_an_update_records_each_changed_field_old_and_new(client, admin, ldap_system):
    client.put(SYSTEM, json={"name": "Corporate LDAP (Production)", "description": "Primary",
                             "maxExportParallelism": 4, "settingValues": {"4": {"intValue": 636}},
                             "changeReason": "Move to LDAPS"}, headers=admin)
    record = history(client, admin)["items"][0]
    assert record["action"] == "Updated"
    assert record["changeReason"] == "Move to LDAPS"
    assert changes_of(record) == {
        "name": ("Corporate LDAP", "Corporate LDAP (Production)"),
        "description": (None, "Primary"),
        "maxExportParallelism": (None, 4),
        "settingValues.4": (389, 636),
    }


def test_only_what_changed_is_recorded(client, admin, ldap_system):
    client.put(SYSTEM, json={"name": "Corporate LDAP", "description": "New"}, headers=admin)
    assert changes_of(history(client, admin)["items"][0]) == {"description": (None, "New")}


def test_a_secret_change_is_recorded_without_any_value(client, admin, ldap_system):
    client.put(SYSTEM, json={"settingValues": {"3": {"stringValue": "s3cur3p@ssw0rd"}}}, headers=admin)
    client.put(SYSTEM, json={"settingValues": {"3": {"stringValue": "n3wp@ss"}}}, headers=admin)
    client.delete(SYSTEM, headers=admin)
    page = client.get(HISTORY, headers=admin)
    assert "s3cur3p@ssw0rd" not in page.get_data(as_text=True) and "n3wp@ss" not in page.get_data(as_text=True)
    updates = [record for record in page.json["items"] if record["action"] == "Updated"]
    assert [record["changes"] for record in updates] == [
        [{"field": "settingValues.3", "oldValue": None, "newValue": None}]
    ] * 2
    deleted = page.json["items"][0]
    assert changes_of(deleted)["settingValues.3"] == (None, None)


@pytest.mark.parametrize(
    "body, headers",
    [
        ({"name": "Corporate LDAP"}, {}),  # the value it already has
        ({"settingValues": {"4": {"intValue": 389}}}, {}),
        ({"changeReason": "nothing else"}, {}),
        ({"name": "", "description": "would change"}, {}),  # rejected: nothing written
        ({"description": "would change"}, {"If-Match": '"0-0"'}),
    ],
)
def test_a_rejected_or_no_op_put_records_nothing(client, admin, ldap_system, body, headers):
    client.put(SYSTEM, json=body, headers={**admin, **headers})
    assert history(client, admin)["totalCount"] == 1


def test_a_validation_is_recorded_only_when_it_changes_setting_values_valid(client, admin, ldap_system):
    client.post(f"{SYSTEM}/validate-settings", headers=admin)  # invalid, as it already was
    assert history(client, admin)["totalCount"] == 1
    client.put(SYSTEM, json={"settingValues": VALID_SETTINGS}, headers=admin)
    client.post(f"{SYSTEM}/validate-settings", headers=admin)
    client.post(f"{SYSTEM}/validate-settings", headers=admin)
    client.put(SYSTEM, json={"settingValues": {"4": {"intValue": 636}}}, headers=admin)
    items = history(client, admin)["items"]
    assert [record["action"] for record in items] == ["Updated", "SettingsValidated", "Updated", "Created"]
    assert changes_of(items[1]) == {"settingValuesValid": (False, True)}
    assert changes_of(items[0]) == {"settingValues.4": (389, 636), "settingValuesValid": (True, False)}


def test_a_deleted_systems_history_stays_readable(client, admin, reader, ldap_system):
    client.put(SYSTEM, json={"description": "Going"}, headers=admin)
    assert client.delete(SYSTEM, headers=admin).status_code == 204
    assert client.get(SYSTEM, headers=reader).status_code == 404
    items = history(client, reader)["items"]
    assert [record["action"] for record in items] == ["Deleted", "Updated", "Created"]
    assert changes_of(items[0])["name"] == ("Corporate LDAP", None)
    assert changes_of(items[0])["description"] == ("Going", None)


@pytest.mark.parametrize("system_id", ["99", str(2**31), str(2**63 - 1)])
def test_the_history_of_a_system_that_never_existed_is_404(client, reader, ldap_system, system_id):
    response = client.get(f"{SYSTEMS}/{system_id}/history", headers=reader)
    assert response.status_code == 404
    assert response.json["code"] == "NOT_FOUND"


def test_a_rename_refused_as_a_conflict_records_nothing(client, admin, ldap_system):
    client.post(SYSTEMS, json={"name": "HR", "connectorDefinitionId": 1}, headers=admin)
    response = client.put(SYSTEM, json={"name": "hr", "description": "would change"}, headers=admin)
    assert response.status_code == 409
    assert history(client, admin)["totalCount"] == 1


def test_a_new_system_after_a_delete_has_a_history_of_its_own(client, admin, ldap_system):
    client.delete(SYSTEM, headers=admin)
    created = client.post(SYSTEMS, json={"name": "Corporate LDAP", "connectorDefinitionId": 3}, headers=admin).json
    assert [record["action"] for record in history(client, admin)["items"]] == ["Deleted", "Created"]
    own = history(client, admin, f"{SYSTEMS}/{created['id']}/history")
    assert [record["action"] for record in own["items"]] == ["Created"]


def test_history_is_paged_newest_first(client, admin, ldap_system):
    for number in range(1, 6):
        client.put(SYSTEM, json={"maxExportParallelism": number}, headers=admin)
    first = history(client, admin, pageSize=2)
    assert first["totalCount"] == 6 and first["totalPages"] == 3 and first["hasNextPage"] is True
    assert [changes_of(record)["maxExportParallelism"][1] for record in first["items"]] == [5, 4]
    last = history(client, admin, page=3, pagesize=2)
    assert [record["action"] for record in last["items"]] == ["Updated", "Created"]
    assert last["hasNextPage"] is False and last["hasPreviousPage"] is True
    ids = [record["id"] for record in history(client, admin)["items"]]
    assert ids == sorted(ids, reverse=True)


@pytest.mark.parametrize("query", [{"pageSize": 0}, {"pageSize": 101}, {"page": 0}, {"sortBy": "name"}])
def test_a_bad_history_query_is_a_validation_error(client, admin, ldap_system, query):
    response = client.get(HISTORY, headers=admin, query_string=query)
    assert response.status_code == 400
    assert response.json["code"] == "VALIDATION_ERROR"


def test_history_needs_a_key(client, ldap_system):
    assert client.get(HISTORY).status_code == 401
