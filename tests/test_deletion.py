"""Deleting a connected system as JIM does: its deletion preview (what it would take, the counts this service
keeps real, the sync engine's 0), and DELETE's query (changeReason, deleteChangeHistory) and answer. The
module's Get-JIMConnectedSystemDeletionPreview and Remove-JIMConnectedSystem are in test_cmdlets."""
from conftest import SYSTEMS
from envelope import assert_error
from importing import imported_hierarchy

SYSTEM = f"{SYSTEMS}/1"
SYNC_ENGINE_COUNTS = ("connectedSystemObjectCount", "syncRuleCount", "pendingExportCount", "joinedMvoCount",
                      "mvosWithOtherConnectorsCount", "mvosWithDeletionRuleCount", "mvosWithGracePeriodCount")


def counted(containers: list[dict]) -> int:
    return sum(1 + counted(container["childContainers"]) for container in containers)


def test_the_preview_counts_what_the_system_holds(client, admin, reader, ldap_system, ldap_directory):
    [partition] = imported_hierarchy(client, admin, 1, ldap_directory)
    for name, run_type in (("Full Import", "FullImport"), ("Export", "Export")):
        client.post(f"{SYSTEM}/run-profiles", json={"name": name, "runType": run_type}, headers=admin)
    response = client.get(f"{SYSTEM}/deletion-preview", headers=reader)
    assert response.status_code == 200, response.json
    preview = response.json
    history = client.get(f"{SYSTEM}/history", headers=reader).json["totalCount"]
    assert {key: preview[key] for key in ("connectedSystemId", "connectedSystemName", "runProfileCount",
                                          "partitionCount", "containerCount", "objectTypeCount", "activityCount")} \
        == {"connectedSystemId": 1, "connectedSystemName": "Corporate LDAP", "runProfileCount": 2,
            "partitionCount": 1, "containerCount": counted(partition["containers"]), "objectTypeCount": 0,
            "activityCount": history}
    assert all(preview[key] == 0 for key in SYNC_ENGINE_COUNTS)
    assert (preview["warnings"], preview["estimatedDeletionTime"], preview["willRunAsBackgroundJob"],
            preview["hasRunningSyncOperation"]) == ([], "00:00:01", False, False)
    assert response.headers["ETag"] == client.get(SYSTEM, headers=reader).headers["ETag"]
    # Nothing changed by looking.
    assert client.get(f"{SYSTEM}/history", headers=reader).json["totalCount"] == history


def test_delete_records_its_reason_and_answers_as_jim(client, admin, reader, ldap_system):
    response = client.delete(SYSTEM, headers=admin,
                             query_string={"changeReason": "Replaced by\nWorkday", "deleteChangeHistory": "true"})
    assert response.status_code == 200, response.json
    assert (response.json["success"], response.json["outcome"], response.json["errorMessage"],
            response.json["workerTaskId"]) == (True, "CompletedImmediately", None, None)
    assert_error(client.get(f"{SYSTEM}/deletion-preview", headers=reader), 404, "NOT_FOUND")
    # The configuration history is kept, as JIM keeps it: deleteChangeHistory is about objects' histories.
    record = client.get(f"{SYSTEM}/change-history", headers=reader).json["items"][0]
    assert (record["operation"], record["reason"], record["activityId"]) == (
        "Delete", "Replaced by\nWorkday", response.json["activityId"])
    assert client.get(f"{SYSTEM}/history", headers=reader).json["totalCount"] == 2


def test_a_bad_query_deletes_nothing(client, admin, ldap_system):
    for query in ({"changeReason": "x" * 2001}, {"deleteChangeHistory": "maybe"}, {"force": "true"},
                  {"changeReason": "a\x00b"}):
        envelope = assert_error(client.delete(SYSTEM, headers=admin, query_string=query), 400, "VALIDATION_ERROR")
        assert list(envelope["validationErrors"]) == list(query)
    assert client.get(SYSTEM, headers=admin).json == ldap_system
    assert_error(client.delete(f"{SYSTEMS}/9", headers=admin, query_string={"force": "true"}), 404, "NOT_FOUND")
