"""Run profiles: JIM's RunProfileDto and rules, and that a run profile is part of the system's configuration
(its ETag, its history). The module's cmdlets for them are in test_cmdlets. Partitions come from a hierarchy
import of the run's slapd.
"""
import pytest

from conftest import SYSTEMS
from envelope import assert_error
from importing import imported_hierarchy
from ldap_directory import SUFFIX


def call(client, key: str, path: str, method: str = "GET", body: dict | None = None):
    return client.open(f"{SYSTEMS}/{path}", method=method, json=body, headers={"X-Api-Key": key})


def create(client, key, system_id, name, run_type, **more):
    return call(client, key, f"{system_id}/run-profiles", "POST", {"name": name, "runType": run_type, **more})


def update(client, key, system_id, run_profile_id, **given):
    return call(client, key, f"{system_id}/run-profiles/{run_profile_id}", "PUT", given)


def listed(client, key, system_id) -> list[dict]:
    response = call(client, key, f"{system_id}/run-profiles")
    assert response.status_code == 200, response.json
    return response.json


def new_system(client, admin, name: str, connector_id: int) -> int:
    response = client.post(SYSTEMS, json={"name": name, "connectorDefinitionId": connector_id}, headers=admin)
    assert response.status_code == 201, response.json
    return response.json["id"]


def etag(client, key, system_id) -> str:
    return client.get(f"{SYSTEMS}/{system_id}", headers={"X-Api-Key": key}).headers["ETag"]


def history(client, key, system_id) -> list[dict]:
    return client.get(f"{SYSTEMS}/{system_id}/history", headers={"X-Api-Key": key}).json["items"]


@pytest.fixture
def partitions(client, admin, ldap_system, ldap_directory) -> dict:
    """The LDAP system's partitions by name, after a hierarchy import of the run's directory."""
    return {partition["name"]: partition
            for partition in imported_hierarchy(client, admin, ldap_system["id"], ldap_directory)}


def test_a_new_run_profile_with_jims_defaults(client, admin_key, reader_key, ldap_system):
    system_id = ldap_system["id"]
    before = etag(client, admin_key, system_id)
    response = create(client, admin_key, system_id, "Full Import", "FullImport")
    assert response.status_code == 201, response.json
    assert response.json == {"id": response.json["id"], "name": "Full Import", "connectedSystemId": system_id,
                             "runType": "FullImport", "pageSize": 100, "partitionId": None, "partitionName": None,
                             "targetsDeselectedPartition": False, "filePath": None,
                             "verifyImportContentHashes": False}
    assert response.headers["Location"].endswith(f"{SYSTEMS}/{system_id}/run-profiles")
    # Part of the configuration: the system's ETag moved, and the answer carries the new one.
    assert response.headers["ETag"] == etag(client, admin_key, system_id) != before
    assert listed(client, reader_key, system_id) == [response.json]
    record = history(client, reader_key, system_id)[0]
    assert record["changes"] == [{"field": f"runProfiles.{response.json['id']}", "oldValue": None, "newValue": {
        "name": "Full Import", "runType": "FullImport", "pageSize": 100, "partitionId": None, "filePath": None,
        "verifyImportContentHashes": False}}]


def test_every_run_type_and_page_size_as_given(client, admin_key, ldap_system):
    system_id = ldap_system["id"]
    # PowerShell's ValidateSet takes -RunType in any case and passes it on as typed.
    for run_type, sent in (("FullImport", "fullimport"), ("DeltaImport", "DELTAIMPORT"),
                           ("FullSynchronisation", "FullSynchronisation"),
                           ("DeltaSynchronisation", "deltaSynchronisation"), ("Export", "Export")):
        response = create(client, admin_key, system_id, run_type, sent, pageSize=10000,
                          filePath="/data/export.csv")
        assert response.status_code == 201, response.json
        assert (response.json["runType"], response.json["pageSize"], response.json["filePath"]) == (
            run_type, 10000, "/data/export.csv")
    assert [p["runType"] for p in listed(client, admin_key, system_id)] == [
        "FullImport", "DeltaImport", "FullSynchronisation", "DeltaSynchronisation", "Export"]


def test_a_bad_body_names_every_field_and_writes_nothing(client, admin_key, ldap_system):
    system_id = ldap_system["id"]
    before = etag(client, admin_key, system_id)
    body = {"name": " ", "runType": "NotSet", "pageSize": 10001, "partitionId": "1", "filePath": "x" * 501,
            "verifyImportContentHashes": "true", "schedule": "daily"}
    envelope = assert_error(call(client, admin_key, f"{system_id}/run-profiles", "POST", body),
                            400, "VALIDATION_ERROR")
    assert set(envelope["validationErrors"]) == set(body)
    assert envelope["validationErrors"]["runType"] == [
        "Must be one of: FullImport, DeltaImport, FullSynchronisation, DeltaSynchronisation, Export."]
    for body in ({"name": "Export"}, {"runType": "Export"}):
        envelope = assert_error(call(client, admin_key, f"{system_id}/run-profiles", "POST", body),
                                400, "VALIDATION_ERROR")
        assert set(envelope["validationErrors"]) == {"name", "runType"} - set(body)
    assert listed(client, admin_key, system_id) == []
    assert etag(client, admin_key, system_id) == before


def test_a_run_type_the_connector_cannot_run_is_refused(client, admin, admin_key):
    file_system = new_system(client, admin, "HR file", 1)
    envelope = assert_error(create(client, admin_key, file_system, "Delta", "DeltaImport"),
                            400, "VALIDATION_ERROR")
    assert envelope["validationErrors"] == {"runType": ["The JIM File Connector cannot run a DeltaImport."]}
    assert create(client, admin_key, file_system, "Full", "FullImport",
                  filePath="hr.csv").status_code == 201
    assert [p["name"] for p in listed(client, admin_key, file_system)] == ["Full"]


def test_verification_mode_only_on_a_full_import(client, admin_key, ldap_system):
    system_id = ldap_system["id"]
    envelope = assert_error(create(client, admin_key, system_id, "Delta", "DeltaImport", verifyImportContentHashes=True),
                            400, "VALIDATION_ERROR")
    assert envelope["validationErrors"] == {
        "verifyImportContentHashes": ["VerifyImportContentHashes can only be enabled on a Full Import Run Profile."]}
    full = create(client, admin_key, system_id, "Full", "FullImport", verifyImportContentHashes=True).json
    delta = create(client, admin_key, system_id, "Delta", "DeltaImport").json
    assert full["verifyImportContentHashes"] is True
    # Set-JIMRunProfile -VerifyImportContentHashes $true on the Delta Import: its stored run type decides.
    assert_error(update(client, admin_key, system_id, delta["id"], verifyImportContentHashes=True),
                 400, "VALIDATION_ERROR")
    response = update(client, admin_key, system_id, full["id"], verifyImportContentHashes=False)
    assert response.status_code == 200 and response.json["verifyImportContentHashes"] is False
    assert [p["verifyImportContentHashes"] for p in listed(client, admin_key, system_id)] == [False,
                                                                                                         False]


def test_set_jim_run_profile_changes_only_what_it_sends(client, admin_key, reader_key, ldap_system):
    system_id = ldap_system["id"]
    created = create(client, admin_key, system_id, "Export", "Export", pageSize=50,
                     filePath="/out/a.csv").json
    before = etag(client, admin_key, system_id)
    response = update(client, admin_key, system_id, created["id"], name="Nightly Export", pageSize=500)
    assert response.status_code == 200, response.json
    assert response.json == {**created, "name": "Nightly Export", "pageSize": 500}
    assert response.headers["ETag"] == etag(client, admin_key, system_id) != before
    assert history(client, reader_key, system_id)[0]["changes"] == [
        {"field": f"runProfiles.{created['id']}.name", "oldValue": "Export", "newValue": "Nightly Export"},
        {"field": f"runProfiles.{created['id']}.pageSize", "oldValue": 50, "newValue": 500}]
    # null leaves a field as it is (JIM's rule); -FilePath '' clears the path.
    response = update(client, admin_key, system_id, created["id"], name=None, pageSize=None,
                                   filePath="")
    assert response.json == {**created, "name": "Nightly Export", "pageSize": 500, "filePath": None}
    # Sending what is stored changes nothing: no new version, no history record.
    unchanged_tag, records = etag(client, admin_key, system_id), len(history(client, reader_key, system_id))
    assert update(client, admin_key, system_id, created["id"], pageSize=500).status_code == 200
    assert etag(client, admin_key, system_id) == unchanged_tag
    assert len(history(client, reader_key, system_id)) == records


def test_the_run_type_never_changes(client, admin_key, ldap_system):
    system_id = ldap_system["id"]
    created = create(client, admin_key, system_id, "Full", "FullImport").json
    envelope = assert_error(update(client, admin_key, system_id, created["id"], runType="Export",
                                                pageSize=0), 400, "VALIDATION_ERROR")
    assert set(envelope["validationErrors"]) == {"runType", "pageSize"}
    assert listed(client, admin_key, system_id) == [created]


def test_a_partition_must_be_the_systems(client, admin, admin_key, ldap_system, partitions):
    system_id = ldap_system["id"]
    partition = partitions[SUFFIX]
    response = create(client, admin_key, system_id, "Full", "FullImport", partitionId=partition["id"])
    assert response.status_code == 201, response.json
    # JIM's flag: a profile on a partition that is not selected cannot run.
    assert (response.json["partitionId"], response.json["partitionName"],
            response.json["targetsDeselectedPartition"]) == (partition["id"], SUFFIX, True)
    selected = client.put(f"{SYSTEMS}/{system_id}/partitions/{partition['id']}", json={"selected": True},
                          headers=admin)
    assert selected.status_code == 200
    assert listed(client, admin_key, system_id)[0]["targetsDeselectedPartition"] is False

    other = new_system(client, admin, "Another directory", 3)
    envelope = assert_error(create(client, admin_key, other, "Full", "FullImport",
                                                partitionId=partition["id"]), 400, "VALIDATION_ERROR")
    assert envelope["validationErrors"] == {"partitionId": [f"Partition with ID {partition['id']} not found."]}
    assert listed(client, admin_key, other) == []
    envelope = assert_error(update(client, admin_key, system_id, response.json["id"],
                                                partitionId=partition["id"] + 1000), 400, "VALIDATION_ERROR")
    assert list(envelope["validationErrors"]) == ["partitionId"]
    assert listed(client, admin_key, system_id)[0]["partitionId"] == partition["id"]


def test_delete_a_run_profile(client, admin, admin_key, reader_key, ldap_system):
    system_id = ldap_system["id"]
    kept = create(client, admin_key, system_id, "Full", "FullImport").json
    removed = create(client, admin_key, system_id, "Delta", "DeltaImport").json
    before = etag(client, admin_key, system_id)
    response = call(client, admin_key, f"{system_id}/run-profiles/{removed['id']}", "DELETE")
    assert response.status_code == 204 and response.get_data() == b""
    assert response.headers["ETag"] == etag(client, admin_key, system_id) != before
    assert listed(client, reader_key, system_id) == [kept]
    assert history(client, reader_key, system_id)[0]["changes"][0]["field"] == f"runProfiles.{removed['id']}"
    assert_error(call(client, admin_key, f"{system_id}/run-profiles/{removed['id']}", "DELETE"),
                 404, "NOT_FOUND")
    # Another system's profile is not found under this one, for any method.
    other = new_system(client, admin, "Another directory", 3)
    for method in ("PUT", "DELETE"):
        assert_error(call(client, admin_key, f"{other}/run-profiles/{kept['id']}", method,
                            {"name": "x"} if method == "PUT" else None), 404, "NOT_FOUND")
    assert listed(client, reader_key, system_id) == [kept]


def test_a_system_with_run_profiles_is_deleted_with_them(client, admin, admin_key, ldap_system):
    system_id = ldap_system["id"]
    create(client, admin_key, system_id, "Full", "FullImport")
    assert client.delete(f"{SYSTEMS}/{system_id}", headers=admin).status_code == 200
    assert_error(call(client, admin_key, f"{system_id}/run-profiles"), 404, "NOT_FOUND")


def test_a_reader_sees_them_and_changes_none(client, admin_key, reader_key, ldap_system):
    system_id = ldap_system["id"]
    created = create(client, admin_key, system_id, "Full", "FullImport").json
    assert listed(client, reader_key, system_id) == [created]
    assert_error(create(client, reader_key, system_id, "Export", "Export"), 403, "FORBIDDEN")
    assert_error(update(client, reader_key, system_id, created["id"], name="x"), 403, "FORBIDDEN")
    assert_error(call(client, reader_key, f"{system_id}/run-profiles/{created['id']}", "DELETE"),
                 403, "FORBIDDEN")
    assert listed(client, admin_key, system_id) == [created]


def test_a_stale_if_match_writes_nothing(client, admin, admin_key, ldap_system):
    system_id = ldap_system["id"]
    stale = etag(client, admin_key, system_id)
    created = create(client, admin_key, system_id, "Full", "FullImport").json
    path = f"{SYSTEMS}/{system_id}/run-profiles"
    stale_admin = {**admin, "If-Match": stale}
    assert_error(client.post(path, json={"name": "Export", "runType": "Export"}, headers=stale_admin),
                 412, "PRECONDITION_FAILED")
    assert_error(client.put(f"{path}/{created['id']}", json={"name": "x"}, headers=stale_admin),
                 412, "PRECONDITION_FAILED")
    assert_error(client.delete(f"{path}/{created['id']}", headers=stale_admin), 412, "PRECONDITION_FAILED")
    assert listed(client, admin_key, system_id) == [created]
    current = {**admin, "If-Match": etag(client, admin_key, system_id)}
    assert client.put(f"{path}/{created['id']}", json={"name": "x"}, headers=current).status_code == 200
