"""Schema import as the API shows it, through the File connector on files the tests write: the merge by
name that keeps ids and selections, the preview that writes nothing, the selections and their rules, the
ETag and history of each change, and the import's bodies and failures."""
import socket
from pathlib import Path

import pytest
from sqlalchemy import text

from conftest import SYSTEMS
from database import db
from envelope import assert_error
from importing import answered_while_held, history
from relay import Relay
from sql_servers import POSTGRES, postgres_database

SYSTEM = f"{SYSTEMS}/1"
PEOPLE = "id,mail,groups,age,active\n1,a@example.com,staff|admins,41,true\n2,b@example.com,staff,29,false\n"


@pytest.fixture
def app_config(app_config, tmp_path):
    """The service reads connector files from a folder of this test's own."""
    (tmp_path / "connector-files").mkdir()
    return {**app_config, "JIM_CONNECTOR_FILES_ROOT": str(tmp_path / "connector-files")}


@pytest.fixture
def files_root(app):
    return Path(app.config["JIM_CONNECTOR_FILES_ROOT"])


@pytest.fixture
def file_system(files_root, client, admin):
    """System 1: the File connector reading people.csv, which holds PEOPLE."""
    (files_root / "people.csv").write_text(PEOPLE)
    created = client.post(SYSTEMS, json={"name": "HR", "connectorDefinitionId": 1}, headers=admin)
    assert created.status_code == 201, created.json
    answer = client.put(SYSTEM, json={"settingValues": {"101": {"stringValue": "people.csv"},
                                                        "104": {"stringValue": "person"}}}, headers=admin)
    assert answer.status_code == 200, answer.json
    return files_root


def import_schema(client, headers, **kwargs):
    response = client.post(f"{SYSTEM}/import-schema", headers=headers, **kwargs)
    assert response.status_code == 200, response.json
    return response


def object_types(client, headers) -> dict:
    response = client.get(f"{SYSTEM}/object-types", headers=headers)
    assert response.status_code == 200, response.json
    return {object_type["name"]: object_type for object_type in response.json}


def attributes_of(object_type) -> dict:
    return {attribute["name"]: attribute for attribute in object_type["attributes"]}


def test_an_import_shows_the_object_types_and_validates_the_settings(client, admin, reader, file_system):
    before = client.get(SYSTEM, headers=reader)
    assert before.json["settingValuesValid"] is False and before.json["objectTypes"] == []
    answer = import_schema(client, {"X-Api-Key": admin["X-Api-Key"]})  # no body, no Content-Type
    assert answer.json["settingValuesValid"] is True
    [summary] = answer.json["objectTypes"]
    assert set(summary) == {"id", "name", "created", "selected", "removeContributedAttributesOnObsoletion",
                            "attributeCount"}
    assert (summary["name"], summary["selected"], summary["attributeCount"]) == ("person", False, 5)
    assert answer.headers["ETag"] != before.headers["ETag"]
    assert client.get(SYSTEM, headers=reader).json == answer.json
    person = object_types(client, reader)["person"]
    assert {name: (a["type"], a["attributePlurality"], a["writability"], a["selected"], a["selectionLocked"])
            for name, a in attributes_of(person).items()} == {
        "id": ("Number", "SingleValued", "Writable", False, False),
        "mail": ("Text", "SingleValued", "Writable", False, False),
        "groups": ("Text", "MultiValued", "Writable", False, False),
        "age": ("Number", "SingleValued", "Writable", False, False),
        "active": ("Boolean", "SingleValued", "Writable", False, False),
    }
    assert list(attributes_of(person)) == ["active", "age", "groups", "id", "mail"]  # by name
    one = client.get(f"{SYSTEM}/object-types/{person['id']}", headers=reader)
    assert one.status_code == 200 and one.json == person
    [record, *_] = history(client, admin, 1)
    assert record["action"] == "SchemaImported"
    assert {change["field"]: (change["oldValue"], change["newValue"]) for change in record["changes"]} == {
        "objectTypes.person": (None, ["active", "age", "groups", "id", "mail"]),
        "settingValuesValid": (False, True),
    }


def test_a_reimport_keeps_ids_and_selections_and_follows_the_file(client, admin, file_system):
    first = import_schema(client, admin).json["objectTypes"][0]
    person = object_types(client, admin)["person"]
    mail = attributes_of(person)["mail"]
    assert client.put(f"{SYSTEM}/object-types/{person['id']}", json={"selected": True}, headers=admin).status_code == 200
    assert client.put(f"{SYSTEM}/object-types/{person['id']}/attributes/{mail['id']}", json={"isExternalId": True},
                      headers=admin).status_code == 200
    # The file changes: age becomes text, active goes, manager arrives; MAIL is mail in another case.
    (file_system / "people.csv").write_text("id,MAIL,groups,age,manager\n1,a@example.com,staff|admins,forty,2\n")
    preview = client.post(f"{SYSTEM}/import-schema/preview", headers=admin)
    assert preview.status_code == 200, preview.json
    assert preview.json == {
        "success": True, "errorMessage": None, "totalObjectTypes": 1, "totalAttributes": 5,
        "addedObjectTypes": [], "removedObjectTypes": [], "updatedObjectTypes": ["person"],
        "addedAttributes": {"person": ["manager"]}, "removedAttributes": {"person": ["active"]},
        "changedAttributes": {"person": [
            {"attributeName": "age", "aspect": "type", "oldValue": "Number", "newValue": "Text"},
            {"attributeName": "MAIL", "aspect": "name", "oldValue": "mail", "newValue": "MAIL"},
        ]},
        "hasChanges": True, "hasRemovalsOrDefinitionChanges": True, "discoveryWarnings": [],
    }
    answer = import_schema(client, admin).json
    assert answer["objectTypes"][0]["id"] == first["id"] and answer["objectTypes"][0]["selected"] is True
    after = attributes_of(object_types(client, admin)["person"])
    assert set(after) == {"id", "MAIL", "groups", "age", "manager"}
    assert (after["MAIL"]["id"], after["MAIL"]["isExternalId"], after["MAIL"]["selected"]) == (mail["id"], True, True)
    assert after["age"]["type"] == "Text" and after["age"]["id"] == attributes_of(person)["age"]["id"]
    assert after["manager"]["selected"] is False
    [record, *_] = history(client, admin, 1)
    changes = {change["field"]: (change["oldValue"], change["newValue"]) for change in record["changes"]}
    assert changes == {
        "objectTypes.person.attributes.MAIL.name": ("mail", "MAIL"),
        "objectTypes.person.attributes.age.type": ("Number", "Text"),
        "objectTypes.person.attributes.manager": (None, {"type": "Number", "attributePlurality": "SingleValued",
                                                         "writability": "Writable"}),
        "objectTypes.person.attributes.active": ({"type": "Boolean", "attributePlurality": "SingleValued",
                                                  "writability": "Writable"}, None),
    }


def test_names_with_capitals_are_matched_ignoring_case_on_a_reimport(client, admin, file_system):
    """The stored name keeps its capitals; a re-import of the same names is the same type and attributes."""
    (file_system / "staff.csv").write_text("employeeNumber,displayName\n1,Ada\n")
    client.put(SYSTEM, json={"settingValues": {"101": {"stringValue": "staff.csv"}, "104": {"stringValue": "Staff"}}},
               headers=admin)
    import_schema(client, admin)
    staff = object_types(client, admin)["Staff"]
    number = attributes_of(staff)["employeeNumber"]
    assert client.put(f"{SYSTEM}/object-types/{staff['id']}", json={"selected": True}, headers=admin).status_code == 200
    assert client.put(f"{SYSTEM}/object-types/{staff['id']}/attributes/{number['id']}", json={"isExternalId": True},
                      headers=admin).status_code == 200
    before = client.get(SYSTEM, headers=admin)
    records = len(history(client, admin, 1))
    preview = client.post(f"{SYSTEM}/import-schema/preview", headers=admin).json
    assert (preview["hasChanges"], preview["updatedObjectTypes"], preview["changedAttributes"]) == (False, [], {})
    again = import_schema(client, admin)
    assert (again.json, again.headers["ETag"]) == (before.json, before.headers["ETag"])
    after = object_types(client, admin)["Staff"]
    assert (after["id"], after["selected"]) == (staff["id"], True)
    kept = attributes_of(after)["employeeNumber"]
    assert (kept["id"], kept["isExternalId"], kept["selected"]) == (number["id"], True, True)
    assert len(history(client, admin, 1)) == records
    # A change of case is taken, as a new name, and keeps the id and the selection.
    client.put(SYSTEM, json={"settingValues": {"104": {"stringValue": "STAFF"}}}, headers=admin)
    renamed = import_schema(client, admin).json["objectTypes"]
    assert [(t["id"], t["name"], t["selected"]) for t in renamed] == [(staff["id"], "STAFF", True)]
    assert {"field": "objectTypes.STAFF.name", "oldValue": "Staff", "newValue": "STAFF"} in \
        history(client, admin, 1)[0]["changes"]


def test_a_type_the_system_no_longer_has_is_removed(client, admin, file_system):
    import_schema(client, admin)
    client.put(SYSTEM, json={"settingValues": {"104": {"stringValue": "employee"}}}, headers=admin)
    answer = import_schema(client, admin).json
    assert [object_type["name"] for object_type in answer["objectTypes"]] == ["employee"]
    changes = {change["field"] for change in history(client, admin, 1)[0]["changes"]}
    assert changes == {"objectTypes.person", "objectTypes.employee", "settingValuesValid"}


def test_a_reimport_that_finds_what_is_stored_changes_nothing(client, admin, file_system):
    first = import_schema(client, admin)
    records = len(history(client, admin, 1))
    again = import_schema(client, admin)
    assert again.headers["ETag"] == first.headers["ETag"]
    assert again.json == first.json
    assert len(history(client, admin, 1)) == records


def test_a_preview_writes_nothing(client, admin, file_system):
    before = client.get(SYSTEM, headers=admin)
    records = len(history(client, admin, 1))
    preview = client.post(f"{SYSTEM}/import-schema/preview", headers=admin)
    assert preview.status_code == 200
    assert preview.json["addedObjectTypes"] == ["person"] and preview.json["totalAttributes"] == 5
    assert preview.json["addedAttributes"] == {} and preview.json["hasChanges"] is True
    after = client.get(SYSTEM, headers=admin)
    assert (after.json, after.headers["ETag"]) == (before.json, before.headers["ETag"])
    assert len(history(client, admin, 1)) == records


def test_a_failed_preview_changes_nothing_either(client, admin, file_system):
    import_schema(client, admin)
    (file_system / "people.csv").unlink()
    before = client.get(SYSTEM, headers=admin)
    assert_error(client.post(f"{SYSTEM}/import-schema/preview", headers=admin), 400, "BAD_REQUEST")
    after = client.get(SYSTEM, headers=admin)
    assert (after.json, after.headers["ETag"]) == (before.json, before.headers["ETag"])
    assert after.json["settingValuesValid"] is True


def test_a_failed_import_keeps_the_schema_and_unvalidates_the_settings(client, admin, file_system):
    imported = import_schema(client, admin).json
    (file_system / "people.csv").write_bytes(b"\x00\x01binary")
    body = assert_error(client.post(f"{SYSTEM}/import-schema", headers=admin), 400, "BAD_REQUEST")
    assert "not a delimited text file" in body["message"]
    after = client.get(SYSTEM, headers=admin).json
    assert after["objectTypes"] == imported["objectTypes"]
    assert after["settingValuesValid"] is False
    [record, *_] = history(client, admin, 1)
    assert record["action"] == "SchemaImportFailed"
    assert record["changes"] == [{"field": "settingValuesValid", "oldValue": True, "newValue": False}]


def test_settings_that_fail_the_offline_checks_are_named_and_nothing_is_tried(client, admin):
    """A directory whose Username is no account's name: each import names it, and nothing connects to the Host."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.setblocking(False)
        created = client.post(SYSTEMS, json={"name": "Directory", "connectorDefinitionId": 3}, headers=admin)
        assert created.status_code == 201
        where = {"1": {"stringValue": f"ldap://127.0.0.1:{listener.getsockname()[1]}"},
                 "2": {"stringValue": "jim"}, "3": {"stringValue": "never-sent-Pw9"}}
        assert client.put(SYSTEM, json={"settingValues": where}, headers=admin).status_code == 200
        for path in ("import-schema", "import-schema/preview", "import-hierarchy"):
            body = assert_error(client.post(f"{SYSTEM}/{path}", headers=admin), 400, "VALIDATION_ERROR")
            assert body["validationErrors"] == {
                "settingValues.2": ["Username must be a bind DN, DOMAIN\\user or user@domain."]}
        with pytest.raises(BlockingIOError):  # no connection waits to be accepted: none was made
            listener.accept()
    assert client.get(SYSTEM, headers=admin).json["objectTypes"] == []


def test_a_later_change_of_settings_unvalidates_them_and_keeps_the_schema(client, admin, file_system):
    imported = import_schema(client, admin).json
    changed = client.put(SYSTEM, json={"settingValues": {"102": {"stringValue": ";"}}}, headers=admin).json
    assert changed["settingValuesValid"] is False
    assert changed["objectTypes"] == imported["objectTypes"]


@pytest.mark.parametrize("body, content_type", [
    ("", None),
    ("", "text/plain"),
    ("{}", "application/json"),
    ('{"disableDependents": true}', "application/json"),
    ('{"removeDependents": true, "disableDependents": false}', "application/json"),
])
def test_import_takes_no_body_or_the_modules_switches(client, admin, file_system, body, content_type):
    """The switches change nothing here (nothing depends on a schema yet): the import is made as without them."""
    headers = {"X-Api-Key": admin["X-Api-Key"], **({"Content-Type": content_type} if content_type else {})}
    answer = import_schema(client, headers, data=body).json
    assert (answer["settingValuesValid"], [t["name"] for t in answer["objectTypes"]]) == (True, ["person"])
    assert answer["objectTypes"][0]["attributeCount"] == 5
    assert history(client, admin, 1)[0]["action"] == "SchemaImported"


@pytest.mark.parametrize("body, content_type, status, code", [
    ('{"disableDependents": true, "removeDependents": true}', "application/json", 400, "VALIDATION_ERROR"),
    ('{"disableDependents": "yes"}', "application/json", 400, "VALIDATION_ERROR"),
    ('{"dependents": true}', "application/json", 400, "VALIDATION_ERROR"),
    ("[]", "application/json", 400, "BAD_REQUEST"),
    ("{", "application/json", 400, "BAD_REQUEST"),
    ('{"disableDependents": true}', "text/plain", 415, "UNSUPPORTED_MEDIA_TYPE"),
])
def test_a_bad_import_body_is_refused_before_anything_is_tried(client, admin, file_system, body, content_type,
                                                               status, code):
    for path in ("import-schema", "import-schema/preview"):
        response = client.post(f"{SYSTEM}/{path}", data=body, headers={**admin, "Content-Type": content_type})
        assert_error(response, status, code)
    assert client.get(SYSTEM, headers=admin).json["objectTypes"] == []


def test_import_honours_if_match(client, admin, file_system):
    etag = client.get(SYSTEM, headers=admin).headers["ETag"]
    client.put(SYSTEM, json={"description": "changed"}, headers=admin)
    assert_error(client.post(f"{SYSTEM}/import-schema", headers={**admin, "If-Match": etag}), 412,
                 "PRECONDITION_FAILED")
    assert client.get(SYSTEM, headers=admin).json["objectTypes"] == []
    current = client.get(SYSTEM, headers=admin).headers["ETag"]
    import_schema(client, {**admin, "If-Match": current})


def test_only_a_directory_has_a_hierarchy(client, admin, file_system):
    body = assert_error(client.post(f"{SYSTEM}/import-hierarchy", headers=admin), 400, "BAD_REQUEST")
    assert "JIM File Connector" in body["message"]
    partitions = client.get(f"{SYSTEM}/partitions", headers=admin)
    assert partitions.status_code == 200 and partitions.json == []


# --- Selections ------------------------------------------------------------------------------------------

@pytest.fixture
def person(client, admin, file_system):
    import_schema(client, admin)
    return object_types(client, admin)["person"]


def put_attribute(client, headers, person, name, body):
    attribute = attributes_of(person)[name]
    return client.put(f"{SYSTEM}/object-types/{person['id']}/attributes/{attribute['id']}", json=body, headers=headers)


def test_selecting_a_type_is_a_change_of_the_system(client, admin, person):
    before = client.get(SYSTEM, headers=admin)
    response = client.put(f"{SYSTEM}/object-types/{person['id']}",
                          json={"selected": True, "removeContributedAttributesOnObsoletion": False}, headers=admin)
    assert response.status_code == 200
    assert (response.json["selected"], response.json["removeContributedAttributesOnObsoletion"]) == (True, False)
    assert response.json["attributes"] == person["attributes"]
    after = client.get(SYSTEM, headers=admin)
    assert response.headers["ETag"] == after.headers["ETag"] != before.headers["ETag"]
    assert after.json["lastUpdated"] != before.json["lastUpdated"]
    assert after.json["objectTypes"][0]["selected"] is True
    [record, *_] = history(client, admin, 1)
    assert (record["action"], record["changes"]) == ("Updated", [
        {"field": "objectTypes.person.selected", "oldValue": False, "newValue": True},
        {"field": "objectTypes.person.removeContributedAttributesOnObsoletion", "oldValue": True, "newValue": False},
    ])


def test_selecting_what_is_selected_changes_nothing(client, admin, person):
    client.put(f"{SYSTEM}/object-types/{person['id']}", json={"selected": True}, headers=admin)
    before = client.get(SYSTEM, headers=admin).headers["ETag"]
    records = len(history(client, admin, 1))
    again = client.put(f"{SYSTEM}/object-types/{person['id']}", json={"selected": True}, headers=admin)
    assert again.status_code == 200 and again.headers["ETag"] == before
    assert put_attribute(client, admin, person, "mail", {"selected": False}).status_code == 200
    assert len(history(client, admin, 1)) == records


@pytest.mark.parametrize("role", ["isExternalId", "isSecondaryExternalId"])
def test_an_external_id_is_selected_locked_and_one_per_type(client, admin, person, role):
    mail = put_attribute(client, admin, person, "mail", {role: True})
    assert mail.status_code == 200
    assert (mail.json[role], mail.json["selected"], mail.json["selectionLocked"]) == (True, True, True)
    body = assert_error(put_attribute(client, admin, person, "mail", {"selected": False}), 400, "VALIDATION_ERROR")
    assert list(body["validationErrors"]) == ["selected"]
    moved = put_attribute(client, admin, person, "id", {role: True})
    assert moved.status_code == 200
    attributes = attributes_of(object_types(client, admin)["person"])
    assert [name for name, attribute in attributes.items() if attribute[role]] == ["id"]
    assert (attributes["mail"]["selected"], attributes["mail"]["selectionLocked"]) == (True, False)
    assert put_attribute(client, admin, person, "mail", {"selected": False}).status_code == 200
    changes = [change["field"] for change in history(client, admin, 1)[1]["changes"]]
    assert changes == ["objectTypes.person.attributes.id.selected", f"objectTypes.person.attributes.id.{role}",
                       f"objectTypes.person.attributes.mail.{role}"]


@pytest.mark.parametrize("body, field", [
    ({"isExternalId": True, "selected": False}, "selected"),
    ({"isExternalId": True, "isSecondaryExternalId": True}, "isSecondaryExternalId"),
    ({"selected": "yes"}, "selected"),
    ({"selected": 1}, "selected"),
    ({"isExternalId": None}, "isExternalId"),
    ({"selectionLocked": False}, "selectionLocked"),
    ({"name": "renamed"}, "name"),
])
def test_a_bad_attribute_put_is_refused_and_writes_nothing(client, admin, person, body, field):
    before = client.get(f"{SYSTEM}/object-types", headers=admin).json
    body = assert_error(put_attribute(client, admin, person, "mail", body), 400, "VALIDATION_ERROR")
    assert list(body["validationErrors"]) == [field]
    assert client.get(f"{SYSTEM}/object-types", headers=admin).json == before


def test_the_bulk_update_is_all_or_nothing(client, admin, person):
    ids = {name: attribute["id"] for name, attribute in attributes_of(person).items()}
    url = f"{SYSTEM}/object-types/{person['id']}/attributes"
    bad = {"attributes": {str(ids["mail"]): {"selected": True}, str(ids["id"]): {"isExternalId": True,
                                                                                 "selected": False}}}
    body = assert_error(client.put(url, json=bad, headers=admin), 400, "VALIDATION_ERROR")
    assert list(body["validationErrors"]) == [f"attributes.{ids['id']}.selected"]
    foreign = {"attributes": {str(ids["mail"]): {"selected": True}, "999999": {"selected": True}}}
    body = assert_error(client.put(url, json=foreign, headers=admin), 400, "VALIDATION_ERROR")
    assert list(body["validationErrors"]) == ["attributes.999999.attributeId"]
    assert attributes_of(object_types(client, admin)["person"])["mail"]["selected"] is False
    good = {"attributes": {str(ids["mail"]): {"selected": True}, str(ids["id"]): {"isExternalId": True}}}
    response = client.put(url, json=good, headers=admin)
    assert response.status_code == 200, response.json
    assert response.json["updatedCount"] == 2 and response.json["errors"] is None
    assert {a["name"]: (a["selected"], a["isExternalId"]) for a in response.json["updatedAttributes"]} == {
        "mail": (True, False), "id": (True, True)}
    assert response.headers["ETag"] == client.get(SYSTEM, headers=admin).headers["ETag"]


@pytest.mark.parametrize("body, field", [
    ({}, "attributes"),
    ({"attributes": []}, "attributes"),
    ({"attributes": {"01": {"selected": True}}}, "attributes.01"),
    ({"attributes": {"1": True}}, "attributes.1"),
    ({"attributes": {"1": {"selected": "no"}}}, "attributes.1.selected"),
])
def test_a_malformed_bulk_update_names_what_is_wrong(client, admin, person, body, field):
    response = client.put(f"{SYSTEM}/object-types/{person['id']}/attributes", json=body, headers=admin)
    assert field in assert_error(response, 400, "VALIDATION_ERROR")["validationErrors"]


@pytest.mark.parametrize("role", ["isExternalId", "isSecondaryExternalId"])
def test_two_external_ids_in_one_bulk_update_are_refused(client, admin, person, role):
    ids = [attribute["id"] for attribute in person["attributes"][:2]]
    body = {"attributes": {str(ids[0]): {role: True}, str(ids[1]): {role: True}}}
    response = client.put(f"{SYSTEM}/object-types/{person['id']}/attributes", json=body, headers=admin)
    assert list(assert_error(response, 400, "VALIDATION_ERROR")["validationErrors"]) == [f"attributes.{ids[1]}.{role}"]
    assert not any(attribute[role] for attribute in object_types(client, admin)["person"]["attributes"])


def test_selections_honour_if_match(client, admin, person):
    etag = client.get(SYSTEM, headers=admin).headers["ETag"]
    client.put(SYSTEM, json={"description": "moved on"}, headers=admin)
    stale = {**admin, "If-Match": etag}
    type_url = f"{SYSTEM}/object-types/{person['id']}"
    assert_error(client.put(type_url, json={"selected": True}, headers=stale), 412, "PRECONDITION_FAILED")
    assert_error(put_attribute(client, stale, person, "mail", {"selected": True}), 412, "PRECONDITION_FAILED")
    assert object_types(client, admin)["person"] == person


@pytest.mark.parametrize("path", ["object-types/{other}", "object-types/{other}/attributes/1",
                                  "object-types/{type}/attributes/{other}", "object-types/2147483648"])
def test_what_is_not_the_systems_is_not_found(client, admin, person, path):
    url = f"{SYSTEM}/" + path.format(other=person["id"] + 1000, type=person["id"])
    assert_error(client.get(url, headers=admin) if path.count("/") == 1 else client.put(
        url, json={"selected": True}, headers=admin), 404, "NOT_FOUND")


def test_a_deleted_system_takes_its_schema_with_it(client, admin, person):
    assert client.delete(SYSTEM, headers=admin).status_code == 200
    created = client.post(SYSTEMS, json={"name": "HR", "connectorDefinitionId": 1}, headers=admin).json
    assert_error(client.get(f"{SYSTEMS}/{created['id']}/object-types/{person['id']}", headers=admin), 404,
                 "NOT_FOUND")


# --- Talking while others write ---------------------------------------------------------------------------

@pytest.fixture
def held_database():
    """A PostgreSQL database behind a relay that holds the server's answers until the test releases them."""
    with postgres_database("CREATE TABLE people (id integer PRIMARY KEY, mail text)") as name:
        relay = Relay((POSTGRES["host"], POSTGRES["port"]))
        try:
            yield name, relay
        finally:
            relay.close()


def sql_system(client, admin, database: str, port: int):
    created = client.post(SYSTEMS, json={"name": "Payroll", "connectorDefinitionId": 2}, headers=admin)
    assert created.status_code == 201
    settings = {"201": {"stringValue": "PostgreSQL"}, "202": {"stringValue": "127.0.0.1"}, "203": {"intValue": port},
                "204": {"stringValue": database}, "205": {"stringValue": "postgres"},
                "206": {"stringValue": "not-needed-here"}}
    assert client.put(SYSTEM, json={"settingValues": settings}, headers=admin).status_code == 200


def transactions_left_open(app) -> int:
    """The service's connections to its store that sit in a transaction (PostgreSQL)."""
    with app.app_context():
        return db.session.scalar(text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            " AND state LIKE 'idle in transaction%'"))


def test_no_lock_is_held_while_talking_and_settings_changed_meanwhile_are_a_conflict(app, client, admin, store,
                                                                                   held_database):
    database, relay = held_database
    sql_system(client, admin, database, relay.port)

    def change_the_settings():
        if store == "postgresql":
            assert transactions_left_open(app) == 0
        changed = client.put(SYSTEM, json={"settingValues": {"207": {"intValue": 25}}}, headers=admin)
        assert changed.status_code == 200  # at once: the import holds no lock

    body = assert_error(answered_while_held(app, relay, admin["X-Api-Key"], f"{SYSTEM}/import-schema",
                                            change_the_settings), 409, "CONFLICT")
    assert "import again" in body["message"]
    after = client.get(SYSTEM, headers=admin).json
    assert (after["objectTypes"], after["settingValuesValid"], after["settingValues"]["207"]["intValue"]) == ([], False, 25)
    assert [record["action"] for record in history(client, admin, 1)] == ["Updated", "Updated", "Created"]
    assert import_schema(client, admin).json["objectTypes"][0]["name"] == "people"


def test_other_changes_meanwhile_do_not_stop_an_import(app, client, admin, held_database):
    database, relay = held_database
    sql_system(client, admin, database, relay.port)

    def rename():
        assert client.put(SYSTEM, json={"name": "Payroll (live)"}, headers=admin).status_code == 200

    answer = answered_while_held(app, relay, admin["X-Api-Key"], f"{SYSTEM}/import-schema", rename)
    assert answer.status_code == 200, answer.json
    assert (answer.json["name"], [t["name"] for t in answer.json["objectTypes"]]) == ("Payroll (live)", ["people"])
