"""The configuration change history at JIM's paths: each change a version (its number the system's ETag's), with a
snapshot of the whole configuration it left and its diff against the one before; any two versions compared.
One store of versions: /history shows the same records. Get-JIMConfigurationChangeHistory is in test_cmdlets.
"""
import json

import pytest

from conftest import SYSTEMS
from envelope import assert_error
from importing import imported_hierarchy, set_values
from ldap_directory import SUFFIX

SYSTEM = f"{SYSTEMS}/1"
PASSWORD = "n0t-in-any-answer-Qx81"


@pytest.fixture
def files_root(tmp_path):
    root = tmp_path / "connector-files"
    root.mkdir()
    (root / "hr.csv").write_text("employeeId,displayName,mail\n1,Ada Lovelace,ada@example.com\n")
    return root


@pytest.fixture
def app_config(app_config, files_root):
    return {**app_config, "JIM_CONNECTOR_FILES_ROOT": str(files_root)}


def versions(client, headers, system_id=1, **query) -> dict:
    response = client.get(f"{SYSTEMS}/{system_id}/change-history", headers=headers, query_string=query)
    assert response.status_code == 200, response.json
    return response.json


def version(client, headers, number, system_id=1) -> dict:
    response = client.get(f"{SYSTEMS}/{system_id}/change-history/{number}", headers=headers)
    assert response.status_code == 200, response.json
    return response.json


def compare(client, headers, old, new, system_id=1):
    return client.get(f"{SYSTEMS}/{system_id}/change-history/compare", headers=headers,
                      query_string={"fromVersion": old, "toVersion": new})


def child(node: dict, key: str, item_id=None) -> dict:
    return next(c for c in node["children"] if c["key"] == key and (item_id is None or c["itemId"] == item_id))


def changed(node: dict, path: str = "") -> dict:
    """Every node of a diff that is not Unchanged, by its path, outermost first."""
    found = {}
    for item in node["children"] or []:
        name = f"{path}/{item['key']}" + (f"[{item['itemId']}]" if item["itemId"] is not None else "")
        if item["changeType"] != "Unchanged":
            found[name] = item["changeType"]
            if item["changeType"] == "Modified":
                found.update(changed(item, name))
    return found


def test_each_change_is_a_version_numbered_as_the_etag(client, admin, reader, ldap_system):
    put = client.put(SYSTEM, json={"name": "Corporate LDAP (Production)", "changeReason": "Go live"},
                     headers=admin)
    page = versions(client, reader)
    assert (page["totalCount"], page["page"], page["pageSize"]) == (2, 1, 25)
    newest, first = page["items"]
    assert put.headers["ETag"] == f'"1-{newest["version"]}"' and (newest["version"], first["version"]) == (2, 1)
    assert set(newest) == {"activityId", "version", "operation", "initiatedByType", "initiatedById",
                           "initiatedByName", "when", "reason", "summary", "diff"}
    assert (newest["operation"], newest["initiatedByType"], newest["initiatedByName"], newest["reason"]) == (
        "Update", "ApiKey", "test-administrator", "Go live")
    assert newest["summary"] == "Updated: name" and first["operation"] == "Create"
    assert newest["activityId"] != first["activityId"]
    diff = newest["diff"]
    assert (diff["oldVersion"], diff["newVersion"], diff["objectName"]) == (1, 2, "Corporate LDAP (Production)")
    assert changed(diff["root"]) == {"/name": "Modified"}
    assert (diff["modifiedCount"], diff["addedCount"], diff["removedCount"], diff["hasChanges"]) == (1, 0, 0, True)
    # The first version is all added: compared with nothing.
    assert first["diff"]["oldVersion"] is None and first["diff"]["addedCount"] > 0
    # One store: /history lists the same records.
    assert client.get(f"{SYSTEM}/history", headers=reader).json["totalCount"] == 2
    assert versions(client, reader, page=2, pageSize=1)["items"][0]["version"] == 1


def test_a_secret_shows_as_set_and_changed_never_its_value(client, admin, reader, ldap_system, caplog):
    set_values(client, admin, 1, 3, {3: PASSWORD})
    set_values(client, admin, 1, 3, {3: PASSWORD + "2"})
    answers = [client.get(f"{SYSTEM}/change-history", headers=reader), compare(client, reader, 2, 3),
               client.get(f"{SYSTEM}/change-history/3", headers=reader)]
    for answer in answers:
        assert answer.status_code == 200 and PASSWORD not in answer.get_data(as_text=True)
    assert PASSWORD not in caplog.text
    detail = answers[2].json
    secret = child(child(detail["snapshot"]["root"], "settingValues"), "settingValue", 3)
    assert (secret["isSecret"], secret["value"], secret["label"]) == (True, None, "Password")
    node = child(child(answers[1].json["root"], "settingValues"), "settingValue", 3)
    assert (node["changeType"], node["oldValue"], node["newValue"], node["isSecret"]) == ("Modified", None, None, True)
    assert detail["diff"]["modifiedCount"] == 1


def test_a_snapshot_holds_the_whole_configuration(client, admin, reader, ldap_system, ldap_directory):
    system_id = ldap_system["id"]
    [partition] = imported_hierarchy(client, admin, system_id, ldap_directory)
    people = next(c for c in partition["containers"] if c["name"] == "People")
    client.put(f"{SYSTEMS}/1/container-scope-text", headers=admin, json={
        "text": f"include ou=People,{SUFFIX}\nexclude ou=Contractors,ou=People,{SUFFIX}"})
    client.post(f"{SYSTEMS}/1/run-profiles", headers=admin,
                json={"name": "Full Import", "runType": "FullImport", "partitionId": partition["id"]})
    latest = versions(client, reader)["items"][0]["version"]
    root = version(client, reader, latest)["snapshot"]["root"]
    assert [c["key"] for c in root["children"]] == [
        "name", "connectorDefinitionId", "unresolvedReferenceHandling", "requireSecureTransport", "settingValues",
        "runProfiles", "objectTypes", "partitions"]
    [profile] = child(root, "runProfiles")["children"]
    assert {c["key"]: c["value"] for c in profile["children"]}["runType"] == "FullImport"
    [stored_partition] = child(root, "partitions")["children"]
    assert {c["key"]: c["value"] for c in stored_partition["children"] if c["nodeType"] == "Scalar"} == {
        "name": SUFFIX, "externalId": SUFFIX, "selected": "true"}
    # Only the containers that state something, and the way to them: Groups and Service say nothing.
    [stated] = child(stored_partition, "containers")["children"]
    assert (stated["itemId"], {c["key"]: c["value"] for c in stated["children"] if c["nodeType"] == "Scalar"}) == (
        people["id"], {"name": "People", "externalId": f"ou=People,{SUFFIX}", "hidden": "false", "selected": "true",
                       "scope": "Subtree"})
    [carved] = child(stated, "containers")["children"]
    assert {c["key"] for c in carved["children"]} >= {"excluded", "scope"}
    # A later change of a field keeps every part as it was.
    client.put(SYSTEM, json={"description": "Staff directory"}, headers=admin)
    later = version(client, reader, latest + 1)["snapshot"]["root"]
    assert [c for c in later["children"] if c["key"] != "description"] == root["children"]
    # The scope text's version, compared with the hierarchy import's: the two containers and the partition.
    scoped = compare(client, reader, latest - 2, latest - 1).json
    assert scoped["addedCount"] == 1 and scoped["modifiedCount"] == 1  # People's subtree added; the partition selected


def test_object_types_with_their_selected_attributes(client, admin, reader):
    created = client.post(SYSTEMS, json={"name": "HR", "connectorDefinitionId": 1}, headers=admin).json
    set_values(client, admin, created["id"], 1, {101: "hr.csv"})
    assert client.post(f"{SYSTEMS}/{created['id']}/import-schema", headers=admin).status_code == 200
    [object_type] = client.get(f"{SYSTEMS}/{created['id']}/object-types", headers=admin).json
    mail = next(a for a in object_type["attributes"] if a["name"] == "mail")
    client.put(f"{SYSTEMS}/{created['id']}/object-types/{object_type['id']}/attributes/{mail['id']}",
               json={"selected": True}, headers=admin)
    page = versions(client, reader, created["id"])
    root = version(client, reader, page["items"][0]["version"], created["id"])["snapshot"]["root"]
    [stored_type] = child(root, "objectTypes")["children"]
    assert [a["label"] for a in child(stored_type, "attributes")["children"]] == ["mail"]
    assert changed(page["items"][0]["diff"]["root"]) == {
        "/objectTypes": "Modified", f"/objectTypes/objectType[{object_type['id']}]": "Modified",
        f"/objectTypes/objectType[{object_type['id']}]/attributes": "Modified",
        f"/objectTypes/objectType[{object_type['id']}]/attributes/attribute[{mail['id']}]": "Added"}
    assert page["items"][1]["operation"] == "ImportSchema"


def test_any_two_versions_compare(client, admin, reader, ldap_system):
    for number in (1, 2, 3):
        client.put(SYSTEM, json={"maxExportParallelism": number}, headers=admin)
    forward = compare(client, reader, 2, 4).json
    node = child(forward["root"], "maxExportParallelism")
    assert (forward["oldVersion"], forward["newVersion"], node["oldValue"], node["newValue"]) == (2, 4, "1", "3")
    backward = child(compare(client, reader, 4, 2).json["root"], "maxExportParallelism")
    assert (backward["oldValue"], backward["newValue"]) == ("3", "1")
    same = compare(client, reader, 3, 3).json
    assert (same["hasChanges"], same["modifiedCount"]) == (False, 0)
    added = compare(client, reader, 1, 2).json  # parallelism had no value at version 1
    assert (child(added["root"], "maxExportParallelism")["changeType"], added["addedCount"]) == ("Added", 1)
    assert_error(compare(client, reader, 1, 9), 404, "NOT_FOUND")
    for query in ({"fromVersion": 1}, {"fromVersion": "x", "toVersion": 2}, {"fromVersion": 0, "toVersion": 2}):
        response = client.get(f"{SYSTEM}/change-history/compare", headers=reader, query_string=query)
        assert_error(response, 400, "VALIDATION_ERROR")
    assert_error(client.get(f"{SYSTEM}/change-history/9", headers=reader), 404, "NOT_FOUND")
    assert_error(client.get(f"{SYSTEMS}/7/change-history", headers=reader), 404, "NOT_FOUND")


def test_a_deleted_systems_versions_stay_readable(client, admin, reader, ldap_system):
    client.put(SYSTEM, json={"description": "Going"}, headers=admin)
    assert client.delete(SYSTEM, headers=admin).status_code == 200
    deleted, *_ = versions(client, reader)["items"]
    assert (deleted["operation"], deleted["version"]) == ("Delete", 3)
    assert deleted["diff"]["root"]["changeType"] == "Removed" and deleted["diff"]["removedCount"] == 1
    assert version(client, reader, 3)["snapshot"] is None
    assert compare(client, reader, 2, 3).json["root"]["changeType"] == "Removed"
    assert json.dumps(version(client, reader, 2)["snapshot"]).count("Going") == 1
