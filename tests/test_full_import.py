"""A Full Import end to end through the API, on both stores: execute queues it, the worker (the real Huey
queue, its task run here, or a real ``flask worker`` process) reads the system into its connector space, and
the activity and the connector space show what happened.
"""
import os
import signal
import time

import pytest
from sqlalchemy import text

from conftest import SYSTEMS, TEST_ENCRYPTION_KEY
from hostile_ldap import BASE, NAMING_CONTEXT, Search, done, entry, hostile_directory
from importing import imported, new_system, run_queued, select_type, set_values
from ldap_directory import ADMIN_DN, SERVICE_DN, SERVICE_PASSWORD, SUFFIX, person
from database import db
from full_import import BATCH_OBJECTS
from servers import stopped
from task_queues import redis_queue_url, worker_process

PEOPLE = f"ou=People,{SUFFIX}"
ACTIVITIES = "/api/v1/activities"


@pytest.fixture
def task_queue_url(request, tmp_path):
    """Huey's SQLite file, or, for a test parametrised with "redis", a Redis database of the test's own."""
    if getattr(request, "param", "sqlite") == "redis":
        with redis_queue_url() as url:
            yield url
    else:
        yield f"sqlite:///{tmp_path / 'tasks.db'}"


@pytest.fixture
def app_config(app_config, tmp_path, task_queue_url):
    files = tmp_path / "files"
    files.mkdir()
    return {**app_config, "JIM_TASK_QUEUE_URL": task_queue_url, "JIM_CONNECTOR_FILES_ROOT": str(files)}


def execute(client, admin, system_id: int, profile_id: int):
    return client.post(f"{SYSTEMS}/{system_id}/run-profiles/{profile_id}/execute",
                       headers={"X-Api-Key": admin["X-Api-Key"]})


def full_import_profile(client, admin, system_id: int, **fields) -> int:
    made = client.post(f"{SYSTEMS}/{system_id}/run-profiles", headers=admin,
                       json={"name": "Full Import", "runType": "FullImport", **fields})
    assert made.status_code == 201, made.json
    return made.json["id"]


def ran(client, admin, app, system_id: int, profile_id: int) -> dict:
    """Execute, run the worker's task, and the activity as it then is."""
    answer = execute(client, admin, system_id, profile_id)
    assert answer.status_code == 202, answer.json
    assert run_queued(app) == 1
    activity = client.get(f"{ACTIVITIES}/{answer.json['activityId']}", headers=admin)
    assert activity.status_code == 200
    return activity.json


def csv_system(client, admin, app, text: str) -> tuple[int, int, int]:
    """A File system over people.csv holding ``text``, its schema imported and its type selected."""
    root = app.config["JIM_CONNECTOR_FILES_ROOT"]
    with open(os.path.join(root, "people.csv"), "w") as file:
        file.write(text)
    system_id = new_system(client, admin, 1, {101: "people.csv"})
    imported(client, admin, system_id)
    type_id = select_type(client, admin, system_id, "people", "id", ["name", "groups", "age"])
    return system_id, type_id, full_import_profile(client, admin, system_id)


def rewrite(app, text: str):
    with open(os.path.join(app.config["JIM_CONNECTOR_FILES_ROOT"], "people.csv"), "w") as file:
        file.write(text)


PEOPLE_CSV = "id,name,groups,age\n1,Ann,a|b,30\n2,Ben,c,41\n3,Cat,,52\n"


def newest_version(client, headers, system_id: int) -> int:
    history = client.get(f"{SYSTEMS}/{system_id}/change-history", headers=headers)
    assert history.status_code == 200, history.json
    return history.json["items"][0]["version"]


def objects(client, admin, system_id: int, **query) -> dict:
    listed = client.get(f"{SYSTEMS}/{system_id}/connector-space", headers=admin, query_string=query)
    assert listed.status_code == 200, listed.json
    return {item["externalIdValue"]: item for item in listed.json["items"]}


def test_a_full_import_fills_the_connector_space_and_the_activity_says_so(client, admin, reader, app):
    system_id, type_id, profile_id = csv_system(client, admin, app, PEOPLE_CSV)
    answer = execute(client, admin, system_id, profile_id)
    assert answer.status_code == 202
    assert set(answer.json) == {"activityId", "taskId", "message", "warnings"}
    assert answer.json["message"] == "Run Profile 'Full Import' has been queued for execution."
    queued = client.get(f"{ACTIVITIES}/{answer.json['activityId']}/progress", headers=reader).json
    assert queued["status"] == "InProgress" and queued["objectsProcessed"] == 0
    assert run_queued(app) == 1
    progress = client.get(f"{ACTIVITIES}/{answer.json['activityId']}/progress", headers=reader).json
    assert progress["status"] == "Complete" and progress["objectsProcessed"] == 3
    assert progress["percentComplete"] == 100.0 and progress["operationCounts"]["Added"] == 3
    stats = client.get(f"{ACTIVITIES}/{answer.json['activityId']}/stats", headers=reader).json
    assert (stats["totalCsoAdds"], stats["totalCsoUpdates"], stats["totalUnchanged"], stats["totalCsoDeletes"],
            stats["totalObjectErrors"]) == (3, 0, 0, 0, 0)
    activity = client.get(f"{ACTIVITIES}/{answer.json['activityId']}", headers=reader).json
    system = client.get(f"{SYSTEMS}/{system_id}", headers=reader).json
    assert activity["configurationVersion"] == newest_version(client, reader, system_id)
    assert activity["connectedSystemId"] == system_id and activity["connectedSystemRunType"] == "FullImport"
    assert system["objectCount"] == 3

    found = objects(client, reader, system_id)
    assert set(found) == {"1", "2", "3"}
    ann = found["1"]
    assert (ann["typeId"], ann["typeName"], ann["status"], ann["externalIdAttributeName"]) == (
        type_id, "people", "Normal", "id")
    assert ann["displayName"] == "Ann"
    detail = client.get(f"{SYSTEMS}/{system_id}/connector-space/{ann['id']}", headers=reader).json
    values = {(v["attributeName"], v["intValue"] if v["intValue"] is not None else v["stringValue"])
              for v in detail["attributeValues"]}
    assert values == {("id", 1), ("name", "Ann"), ("groups", "a"), ("groups", "b"), ("age", 30)}
    groups = client.get(f"{SYSTEMS}/{system_id}/connector-space/{ann['id']}/attributes/groups/values",
                        headers=reader, query_string={"pageSize": 1, "page": 2}).json
    assert groups["totalCount"] == 2 and [v["stringValue"] for v in groups["items"]] == ["b"]
    assert client.get(f"{SYSTEMS}/{system_id}/connector-space/count", headers=reader).json == 3
    assert set(objects(client, reader, system_id, search="BEN")) == {"2"}

    items = client.get(f"{ACTIVITIES}/{answer.json['activityId']}/items", headers=reader).json
    assert items["totalCount"] == 3
    assert {item["objectChangeType"] for item in items["items"]} == {"Added"}
    listed = client.get(ACTIVITIES, headers=reader).json
    assert listed["items"][0]["id"] == answer.json["activityId"] and listed["items"][0]["totalAdded"] == 3


def test_a_re_import_updates_what_changed_marks_what_went_and_leaves_the_rest_untouched(client, admin, app):
    system_id, _, profile_id = csv_system(client, admin, app, PEOPLE_CSV)
    ran(client, admin, app, system_id, profile_id)
    before = objects(client, admin, system_id)
    unchanged = ran(client, admin, app, system_id, profile_id)
    assert unchanged["status"] == "Complete"
    stats = unchanged["executionStats"]
    assert (stats["totalCsoAdds"], stats["totalCsoUpdates"], stats["totalUnchanged"]) == (0, 0, 3)
    assert client.get(f"{ACTIVITIES}/{unchanged['id']}/items", headers=admin).json["totalCount"] == 0
    assert objects(client, admin, system_id) == before  # not even lastUpdated moved

    rewrite(app, "id,name,groups,age\n1,Ann,a|b,30\n2,Benjamin,c,41\n4,Dan,d,23\n")
    changed = ran(client, admin, app, system_id, profile_id)
    stats = changed["executionStats"]
    assert (stats["totalCsoAdds"], stats["totalCsoUpdates"], stats["totalUnchanged"], stats["totalCsoDeletes"]) == (
        1, 1, 1, 1)
    after = objects(client, admin, system_id)
    assert after["1"] == before["1"]
    assert after["2"]["displayName"] == "Benjamin" and after["2"]["lastUpdated"] is not None
    assert after["3"]["status"] == "Obsolete" and after["4"]["status"] == "Normal"
    assert client.get(f"{SYSTEMS}/{system_id}", headers=admin).json["objectCount"] == 3
    items = client.get(f"{ACTIVITIES}/{changed['id']}/items", headers=admin).json["items"]
    assert sorted((item["externalIdValue"], item["objectChangeType"]) for item in items) == [
        ("2", "Updated"), ("3", "Deleted"), ("4", "Added")]


def test_bad_rows_are_items_with_errors_and_the_rest_imports(client, admin, app):
    system_id, _, profile_id = csv_system(client, admin, app, PEOPLE_CSV)  # age: a Number
    rewrite(app, "id,name,groups,age\n1,Ann,,thirty\n,Nobody,,1\n1,Again,,2\n2,Ben,,3\n")
    activity = ran(client, admin, app, system_id, profile_id)
    assert activity["status"] == "CompleteWithError" and activity["totalErrors"] == 3
    items = client.get(f"{ACTIVITIES}/{activity['id']}/items", headers=admin).json["items"]
    errors = sorted((item["externalIdValue"] or "", item["errorType"]) for item in items if item["errorType"])
    assert errors == [("", "MissingExternalIdAttributeValue"), ("1", "DuplicateObject"),
                      ("1", "ImportAttributeValueError")]
    assert set(objects(client, admin, system_id)) == {"1", "2"}


def test_objects_seen_are_told_apart_however_many_a_run_reads(client, admin, app, monkeypatch):
    """The keys of the objects seen leave their set for a sorted array every ``RECENT_KEYS``: here every 2, so
    that a duplicate and an unseen object are found across several merges, as in a run of millions."""
    import full_import  # noqa: PLC0415

    monkeypatch.setattr(full_import, "RECENT_KEYS", 2)
    rows = "".join(f"{n},Person {n},,{n}\n" for n in range(1, 10))
    system_id, _, profile_id = csv_system(client, admin, app, "id,name,groups,age\n" + rows)
    assert ran(client, admin, app, system_id, profile_id)["executionStats"]["totalCsoAdds"] == 9
    rewrite(app, "id,name,groups,age\n" + "".join(f"{n},Person {n},,{n}\n" for n in (9, 1, 2, 3, 5, 6, 7, 3)))
    activity = ran(client, admin, app, system_id, profile_id)
    stats = activity["executionStats"]
    assert (stats["totalUnchanged"], stats["totalCsoDeletes"], activity["totalErrors"]) == (7, 2, 1)
    items = client.get(f"{ACTIVITIES}/{activity['id']}/items", headers=admin).json["items"]
    assert sorted((item["externalIdValue"], item["objectChangeType"], item["errorType"]) for item in items) == [
        ("3", "NotSet", "DuplicateObject"), ("4", "Deleted", None), ("8", "Deleted", None)]


def test_execute_refuses_what_it_cannot_run(client, admin, app):
    system_id, type_id, profile_id = csv_system(client, admin, app, PEOPLE_CSV)
    # Another run type: refused as not supported yet.
    export = client.post(f"{SYSTEMS}/{system_id}/run-profiles", headers=admin,
                         json={"name": "Export", "runType": "Export"})
    assert export.status_code == 201, export.json
    refused = execute(client, admin, system_id, export.json["id"])
    assert refused.status_code == 400 and "not support Export runs yet" in refused.json["message"]
    # One at a time.
    assert execute(client, admin, system_id, profile_id).status_code == 202
    again = execute(client, admin, system_id, profile_id)
    assert again.status_code == 409 and again.json["code"] == "CONFLICT"
    cleared = client.post(f"{SYSTEMS}/{system_id}/clear", headers={"X-Api-Key": admin["X-Api-Key"]})
    assert cleared.status_code == 409
    run_queued(app)
    # No selected object type.
    assert client.put(f"{SYSTEMS}/{system_id}/object-types/{type_id}", json={"selected": False},
                      headers=admin).status_code == 200
    unselected = execute(client, admin, system_id, profile_id)
    assert unselected.status_code == 400 and "no selected object type" in unselected.json["message"]
    # Settings changed since the last schema import.
    set_values(client, admin, system_id, 1, {102: ";"})
    invalid = execute(client, admin, system_id, profile_id)
    assert invalid.status_code == 400 and "not valid" in invalid.json["message"]
    assert execute(client, admin, system_id, 999).status_code == 404
    past_the_largest_id = execute(client, admin, 2**31, profile_id)  # the fuzzer found a 500 there on PostgreSQL
    assert past_the_largest_id.status_code == 404 and past_the_largest_id.json["code"] == "NOT_FOUND"
    assert client.get(f"{ACTIVITIES}/5b1b8a5e-1111-4c4c-8d8d-000000000000", headers=admin).status_code == 404
    assert client.get(f"{ACTIVITIES}/not-a-guid", headers=admin).status_code == 404


def test_clear_empties_the_connector_space(client, admin, app):
    system_id, _, profile_id = csv_system(client, admin, app, PEOPLE_CSV)
    activity = ran(client, admin, app, system_id, profile_id)
    cleared = client.post(f"{SYSTEMS}/{system_id}/clear", headers={"X-Api-Key": admin["X-Api-Key"]},
                          query_string={"deleteChangeHistory": "true"})
    assert cleared.status_code == 200
    assert client.get(f"{SYSTEMS}/{system_id}/connector-space/count", headers=admin).json == 0
    assert client.get(f"{SYSTEMS}/{system_id}", headers=admin).json["objectCount"] == 0
    assert client.get(f"{ACTIVITIES}/{activity['id']}/items", headers=admin).json["totalCount"] == 0
    assert ran(client, admin, app, system_id, profile_id)["totalAdded"] == 3


def ldap_system(client, admin, directory) -> tuple[int, int]:
    system_id = new_system(client, admin, 3, {1: directory.url, 2: SERVICE_DN, 3: SERVICE_PASSWORD,
                                              4: directory.port})
    imported(client, admin, system_id)
    assert client.post(f"{SYSTEMS}/{system_id}/import-hierarchy",
                       headers={"X-Api-Key": admin["X-Api-Key"]}).status_code == 200
    partitions = client.get(f"{SYSTEMS}/{system_id}/partitions", headers=admin).json
    partition = next(p for p in partitions if p["externalId"].lower() == SUFFIX)
    assert client.put(f"{SYSTEMS}/{system_id}/partitions/{partition['id']}", json={"selected": True},
                      headers=admin).status_code == 200
    people = next(c for c in partition["containers"] if c["name"] == "People")
    assert client.put(f"{SYSTEMS}/{system_id}/containers/{people['id']}", json={"selected": True},
                      headers=admin).status_code == 200
    select_type(client, admin, system_id, "inetOrgPerson", "uid", ["cn", "mail", "sn"])
    return system_id, full_import_profile(client, admin, system_id)


def test_an_ldap_full_import_reads_the_selected_container(client, admin, app, ldap_directory, caplog):
    system_id, profile_id = ldap_system(client, admin, ldap_directory)
    # A person outside the container, and an alias of her inside it: the alias is not a person, and what it
    # names lies outside the scope.
    outside, alias = f"uid=erin,ou=Groups,{SUFFIX}", f"uid=erin,ou=People,{SUFFIX}"
    ldap_directory.tool("ldapadd", person("erin", f"ou=Groups,{SUFFIX}", 10005, "Erin", "Evans") + f"""
dn: {alias}
objectClass: alias
objectClass: extensibleObject
uid: erin
aliasedObjectName: {outside}
""")
    try:
        activity = ran(client, admin, app, system_id, profile_id)
    finally:
        ldap_directory.tool("ldapdelete", "", alias, outside)
    assert activity["status"] == "Complete", activity
    found = objects(client, admin, system_id)
    assert set(found) == {"alice", "bob", "carol"}
    detail = client.get(f"{SYSTEMS}/{system_id}/connector-space/{found['alice']['id']}", headers=admin).json
    assert {(v["attributeName"], v["stringValue"]) for v in detail["attributeValues"]} == {
        ("uid", "alice"), ("cn", "Alice Archer"), ("mail", "alice@example.com"), ("sn", "Archer")}
    assert found["alice"]["displayName"] == "Alice Archer"
    # The service account's password changed in the directory: the run fails, saying why, and holds no secret.
    changed = "Changed-pw-" + TEST_ENCRYPTION_KEY[:6]
    ldap_directory.tool("ldappasswd", "", "-s", changed, SERVICE_DN)
    try:
        failed = ran(client, admin, app, system_id, profile_id)
    finally:
        ldap_directory.tool("ldappasswd", "", "-s", SERVICE_PASSWORD, SERVICE_DN)
    assert failed["status"] == "FailedWithError" and "invalidCredentials" in failed["errorMessage"]
    shown = str(failed) + caplog.text
    assert SERVICE_PASSWORD not in shown and SERVICE_PASSWORD[:8] not in shown
    assert set(objects(client, admin, system_id)) == {"alice", "bob", "carol"}  # as before the failed run


@pytest.mark.parametrize("task_queue_url", ["sqlite", "redis"], indirect=True)
def test_a_worker_killed_mid_import_leaves_whole_batches_and_a_failed_activity(client, admin, app, app_config,
                                                                                tmp_path):
    rows = 60_000
    text = "id,name,groups,age\n" + "".join(f"{n},Person {n},g{n % 7}|h,{n % 90}\n" for n in range(1, rows + 1))
    system_id, _, profile_id = csv_system(client, admin, app, text)
    version = newest_version(client, admin, system_id)
    answer = execute(client, admin, system_id, profile_id)
    assert answer.status_code == 202
    activity_id = answer.json["activityId"]
    consumer = worker_process(app_config, tmp_path / "worker.log")
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            progress = client.get(f"{ACTIVITIES}/{activity_id}/progress", headers=admin).json
            if progress["objectsProcessed"] >= 1000:
                break
            assert consumer.poll() is None, (tmp_path / "worker.log").read_text()
            time.sleep(0.05)
        # A PUT of the system while the import writes its batches: answered at once, on either store, and
        # the run goes on with the configuration it started with.
        for number in range(3):
            started = time.monotonic()
            put = client.put(f"{SYSTEMS}/{system_id}", json={"description": f"during the import {number}"},
                             headers=admin)
            assert put.status_code == 200 and time.monotonic() - started < 2, put.json
        assert client.get(f"{ACTIVITIES}/{activity_id}/progress", headers=admin).json["status"] == "InProgress"
        consumer.send_signal(signal.SIGKILL)
        consumer.wait(timeout=10)
    finally:
        stopped(consumer)
    seen = client.get(f"{ACTIVITIES}/{activity_id}", headers=admin).json
    assert seen["status"] == "FailedWithError", seen
    assert seen["configurationVersion"] == version < newest_version(client, admin, system_id)
    assert "stopped after" in seen["errorMessage"]
    held = client.get(f"{SYSTEMS}/{system_id}/connector-space/count", headers=admin).json
    with app.app_context():
        batch = BATCH_OBJECTS[db.engine.dialect.name]
    assert 0 < held < rows and held % batch == 0  # whole batches, no half of one
    assert client.get(f"{SYSTEMS}/{system_id}", headers=admin).json["objectCount"] == held
    again = ran(client, admin, app, system_id, profile_id)
    assert again["status"] == "Complete" and again["totalAdded"] == rows - held
    assert client.get(f"{SYSTEMS}/{system_id}/connector-space/count", headers=admin).json == rows


@pytest.mark.parametrize("store", ["postgresql"])
def test_a_put_does_not_wait_for_an_import_batch_that_refers_to_its_system(client, admin, app):
    """An import's batch holds PostgreSQL's FOR KEY SHARE on the system its rows refer to; a PUT's lock must not
    wait for it. A PostgreSQL rule alone: on SQLite a write waits for the batch, which holds the store's one write
    lock for a moment (that a PUT during a real import answers at once, on both stores, the killed worker's test
    shows)."""
    system_id, _, _ = csv_system(client, admin, app, PEOPLE_CSV)
    with app.app_context(), db.engine.connect() as batch:
        batch.execute(text("INSERT INTO connector_space_counts (connected_system_id, object_count) VALUES (:id, 1)"),
                      {"id": system_id})  # not committed: as a batch in flight
        started = time.monotonic()
        answer = client.put(f"{SYSTEMS}/{system_id}", json={"description": "during a batch"}, headers=admin)
        waited = time.monotonic() - started
        batch.rollback()
    assert answer.status_code == 200 and waited < 2, (answer.status_code, waited)


GROUP_DN = f"cn=Staff,{NAMING_CONTEXT}"
MEMBERS = [f"uid=user{number},{NAMING_CONTEXT}" for number in range(5)]
SUBSCHEMA = {
    "objectClasses": ["( 2.5.6.0 NAME 'top' ABSTRACT MUST objectClass )",
                      "( 2.5.6.9 NAME 'groupOfNames' SUP top STRUCTURAL MUST ( member $ cn ) )"],
    "attributeTypes": ["( 2.5.4.0 NAME 'objectClass' SYNTAX 1.3.6.1.4.1.1466.115.121.1.38 )",
                       "( 2.5.4.3 NAME 'cn' SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 )",
                       "( 2.5.4.31 NAME 'member' SYNTAX 1.3.6.1.4.1.1466.115.121.1.12 )",
                       "( 1.3.6.1.1.16.4 NAME 'entryUUID' SYNTAX 1.3.6.1.1.16.1 SINGLE-VALUE )"],
}


def ranged_directory(continuations: dict[str, dict]):
    """A directory that, as Active Directory does, answers the group's ``member`` in a first range, and a base
    read of the group asking ``member;range=N-*`` with what ``continuations`` holds for it."""
    def script(search: Search):
        if search.base == "":
            yield entry(search.message_id, "", {"namingContexts": [NAMING_CONTEXT],
                                                "subschemaSubentry": ["cn=Subschema"]})
        elif search.base == "cn=Subschema":
            yield entry(search.message_id, "cn=Subschema", SUBSCHEMA)
        elif search.base == NAMING_CONTEXT and search.scope == BASE:
            yield entry(search.message_id, NAMING_CONTEXT, {"entryUUID": ["f81d4fae-7dec-11d0-a765-00a0c91e6bf6"]})
        elif search.base == GROUP_DN:
            (asked,) = search.attributes
            yield entry(search.message_id, GROUP_DN, continuations.get(asked, {}))
        elif "member" in search.attributes:  # the import's search, not the hierarchy's
            yield entry(search.message_id, GROUP_DN, {
                "objectClass": ["top", "groupOfNames"], "cn": ["Staff"],
                "member;range=0-1": MEMBERS[:2]})
        yield done(search.message_id)
    return script


def ranged_system(client, admin, peer) -> tuple[int, int]:
    port = int(peer.url.rsplit(":", 1)[1])
    system_id = new_system(client, admin, 3, {1: peer.url, 2: f"cn=admin,{NAMING_CONTEXT}", 3: "Ranged-pa55word",
                                              4: port})
    imported(client, admin, system_id)
    assert client.post(f"{SYSTEMS}/{system_id}/import-hierarchy",
                       headers={"X-Api-Key": admin["X-Api-Key"]}).status_code == 200
    (partition,) = client.get(f"{SYSTEMS}/{system_id}/partitions", headers=admin).json
    assert client.put(f"{SYSTEMS}/{system_id}/partitions/{partition['id']}", json={"selected": True},
                      headers=admin).status_code == 200
    select_type(client, admin, system_id, "groupOfNames", "cn", ["member"])
    return system_id, full_import_profile(client, admin, system_id)


def test_an_attribute_answered_in_ranges_is_imported_whole_asking_each_range_as_ad_does(client, admin, app):
    continuations = {"member;range=2-*": {"member;range=2-3": MEMBERS[2:4]},
                     "member;range=4-*": {"member;range=4-*": MEMBERS[4:]}}
    with hostile_directory(ranged_directory(continuations)) as peer:
        system_id, profile_id = ranged_system(client, admin, peer)
        activity = ran(client, admin, app, system_id, profile_id)
    assert activity["status"] == "Complete", activity
    assert [search.attributes for search in peer.searches if search.base == GROUP_DN] == [
        ("member;range=2-*",), ("member;range=4-*",)]
    group = objects(client, admin, system_id)["Staff"]
    members = client.get(f"{SYSTEMS}/{system_id}/connector-space/{group['id']}/attributes/member/values",
                         headers=admin, query_string={"pageSize": 100}).json
    assert [value["stringValue"] for value in members["items"]] == MEMBERS
    detail = client.get(f"{SYSTEMS}/{system_id}/connector-space/{group['id']}", headers=admin).json
    assert {value["attributeName"] for value in detail["attributeValues"]} == {"cn", "member"}


@pytest.mark.parametrize("answer_to_the_last", [{}, {"member;range=2-3": MEMBERS[2:4]}],
                         ids=["no range", "a range already read"])
def test_a_range_the_directory_stops_answering_fails_the_object_saying_what_was_kept(client, admin, app,
                                                                                    answer_to_the_last):
    continuations = {"member;range=2-*": {"member;range=2-3": MEMBERS[2:4]}, "member;range=4-*": answer_to_the_last}
    with hostile_directory(ranged_directory(continuations)) as peer:
        system_id, profile_id = ranged_system(client, admin, peer)
        activity = ran(client, admin, app, system_id, profile_id)
    assert activity["status"] == "CompleteWithError" and activity["totalErrors"] == 1, activity
    items = client.get(f"{ACTIVITIES}/{activity['id']}/items", headers=admin).json["items"]
    assert [(item["externalIdValue"], item["errorType"], item["outcomeSummary"]) for item in items
            if item["errorType"]] == [("Staff", "ImportAttributeValueError", (
                "The directory answered member in ranges, but not the range a read of member;range=4-* asks for; "
                "only its first 4 values were imported."))]
    group = objects(client, admin, system_id)["Staff"]
    members = client.get(f"{SYSTEMS}/{system_id}/connector-space/{group['id']}/attributes/member/values",
                         headers=admin, query_string={"pageSize": 100}).json
    assert [value["stringValue"] for value in members["items"]] == MEMBERS[:4]
