"""A Full Import through the API from each kind of system but LDAP (test_full_import.py), on both stores:
PostgreSQL and MariaDB tables, scim2-server's resources, and the file a run profile names. What the user sees:
the activity's progress, stats and items, and the connector space's objects and typed values.
"""
import secrets

import httpx
import psycopg
import pytest

from conftest import SYSTEMS
from importing import imported, new_system, select_type
from scim_provider import scim_provider
from sql_servers import MARIADB, POSTGRES, mariadb, mariadb_database, mariadb_user, postgres_database
from test_full_import import (  # noqa: F401  (its fixtures: the files folder and the task queue)
    ACTIVITIES, app_config, execute, full_import_profile, objects, ran, task_queue_url)


def detail(client, admin, system_id: int, object_id: str) -> dict:
    answer = client.get(f"{SYSTEMS}/{system_id}/connector-space/{object_id}", headers=admin)
    assert answer.status_code == 200, answer.json
    return answer.json


def shown(values: list[dict]) -> dict:
    """{attribute: value or [values]} from JIM's typed value fields, each value the one field its type sets."""
    typed = {}
    for value in values:
        [(field, item)] = [(k, v) for k, v in value.items() if k.endswith("Value") and v is not None]
        typed.setdefault(value["attributeName"], []).append((field, item))
    return {name: found[0] if len(found) == 1 else found for name, found in typed.items()}


def changes(client, admin, activity: dict) -> list:
    items = client.get(f"{ACTIVITIES}/{activity['id']}/items", headers=admin, query_string={"pageSize": 100}).json
    return sorted((item["externalIdValue"], item["objectChangeType"]) for item in items["items"])


def counted(activity: dict) -> tuple:
    stats = activity["executionStats"]
    return (stats["totalCsoAdds"], stats["totalCsoUpdates"], stats["totalUnchanged"], stats["totalCsoDeletes"],
            stats["totalObjectErrors"])


POSTGRES_TABLES = (
    "CREATE TABLE departments (id integer PRIMARY KEY, name text)",
    """CREATE TABLE people (id integer PRIMARY KEY, login text NOT NULL, name text, tags text[], active boolean,
       born date, salary numeric(10, 2), token uuid, department_id integer REFERENCES departments (id),
       details jsonb, secret_notes text)""",
    "INSERT INTO departments VALUES (1, 'Sales')",
    """INSERT INTO people VALUES
       (2, 'bob', 'Bob', ARRAY['x'], false, NULL, 10.50, '00000000-0000-4000-8000-000000000002', NULL,
        '[1, 2]', 'hush'),
       (1, 'ann', 'Ann', ARRAY['a', NULL, 'b'], true, DATE '2001-02-03', 1234.56,
        '00000000-0000-4000-8000-000000000001', 1, '{"room": 7, "desk": "b"}', 'hush'),
       (3, 'cat', 'Cat', NULL, NULL, NULL, NULL, NULL, NULL, NULL, 'hush')""",
)
PEOPLE_COLUMNS = ["login", "name", "tags", "active", "born", "salary", "token", "department_id"]


PASSWORD = "Pw-" + secrets.token_hex(12)


def sql_system(client, admin, database_type: str, server: dict, database: str, user: str,
               columns: tuple = ()) -> tuple[int, int]:
    system_id = new_system(client, admin, 2, {201: database_type, 202: server["host"], 203: server["port"],
                                              204: database, 205: user, 206: PASSWORD, 207: 5})
    imported(client, admin, system_id)
    select_type(client, admin, system_id, "people", "id", [*PEOPLE_COLUMNS, *columns], secondary="login")
    return system_id, full_import_profile(client, admin, system_id)


def test_a_postgresql_table_imports_its_selected_columns_typed_and_a_re_import_converges(client, admin, app):
    with postgres_database(*POSTGRES_TABLES) as database:
        system_id, profile_id = sql_system(client, admin, "PostgreSQL", POSTGRES, database, POSTGRES["user"],
                                           ("details",))
        first = ran(client, admin, app, system_id, profile_id)
        assert first["status"] == "Complete", first
        assert counted(first) == (3, 0, 0, 0, 0)
        progress = client.get(f"{ACTIVITIES}/{first['id']}/progress", headers=admin).json
        assert progress["objectsProcessed"] == 3 and progress["percentComplete"] == 100.0
        found = objects(client, admin, system_id)
        assert set(found) == {"1", "2", "3"}
        ann = found["1"]
        assert (ann["secondaryExternalIdValue"], ann["displayName"], ann["typeName"]) == ("ann", "Ann", "people")
        values = shown(detail(client, admin, system_id, ann["id"])["attributeValues"])
        assert values == {
            "id": ("intValue", 1), "login": ("stringValue", "ann"), "name": ("stringValue", "Ann"),
            "tags": [("stringValue", "a"), ("stringValue", "b")],  # an array's NULL is no value
            "active": ("boolValue", True),
            "born": ("dateTimeValue", "2001-02-03T00:00:00Z"), "salary": ("decimalValue", 1234.56),
            "token": ("guidValue", "00000000-0000-4000-8000-000000000001"),
            "department_id": ("stringValue", "1"),  # a Reference: the referenced row's key
            "details": ("stringValue", '{"desk": "b", "room": 7}'),  # JSON, as the database writes it
        }  # secret_notes, not selected, is not read
        bob = shown(detail(client, admin, system_id, found["2"]["id"])["attributeValues"])
        assert bob["details"] == ("stringValue", "[1, 2]")  # a JSON array in a single-valued column: one value
        assert client.get(f"{ACTIVITIES}/{first['id']}/items", headers=admin).json["items"][0]["errorType"] is None
        assert shown(detail(client, admin, system_id, found["3"]["id"])["attributeValues"]) == {
            "id": ("intValue", 3), "login": ("stringValue", "cat"), "name": ("stringValue", "Cat")}

        with psycopg.connect(**POSTGRES, dbname=database, autocommit=True) as connection:
            connection.execute("UPDATE people SET name = 'Robert', tags = ARRAY['x', 'y'] WHERE id = 2")
            connection.execute("UPDATE people SET secret_notes = 'changed' WHERE id = 1")  # not selected
            connection.execute("DELETE FROM people WHERE id = 3")
            connection.execute("INSERT INTO people (id, login) VALUES (4, 'dan')")
        second = ran(client, admin, app, system_id, profile_id)
    assert second["status"] == "Complete" and counted(second) == (1, 1, 1, 1, 0)
    assert changes(client, admin, second) == [("2", "Updated"), ("3", "Deleted"), ("4", "Added")]
    after = objects(client, admin, system_id)
    assert after["1"] == ann and after["3"]["status"] == "Obsolete"
    assert after["2"]["displayName"] == "Robert"
    assert shown(detail(client, admin, system_id, after["2"]["id"])["attributeValues"])["tags"] == [
        ("stringValue", "x"), ("stringValue", "y")]
    assert client.get(f"{SYSTEMS}/{system_id}", headers=admin).json["objectCount"] == 3


def test_a_column_dropped_since_the_schema_import_fails_the_run_asking_for_the_schema_again(client, admin, app):
    with postgres_database(*POSTGRES_TABLES) as database:
        system_id, profile_id = sql_system(client, admin, "PostgreSQL", POSTGRES, database, POSTGRES["user"])
        assert ran(client, admin, app, system_id, profile_id)["status"] == "Complete"
        before = objects(client, admin, system_id)
        with psycopg.connect(**POSTGRES, dbname=database, autocommit=True) as connection:
            connection.execute("ALTER TABLE people DROP COLUMN tags")
        failed = ran(client, admin, app, system_id, profile_id)
    assert failed["status"] == "FailedWithError", failed
    assert failed["errorMessage"].startswith("The database no longer has the table or view people, or one of its "
                                             "selected columns: import its schema again.")
    assert objects(client, admin, system_id) == before

MARIADB_TABLES = (
    "CREATE TABLE departments (id int PRIMARY KEY, name varchar(50))",
    """CREATE TABLE people (id int PRIMARY KEY, login varchar(50) NOT NULL, name varchar(50), tags varchar(50),
       active tinyint(1), born datetime, salary decimal(10, 2), token uuid, department_id int,
       secret_notes text, FOREIGN KEY (department_id) REFERENCES departments (id))""",
    "INSERT INTO departments VALUES (1, 'Sales')",
    """INSERT INTO people VALUES
       (2, 'bob', 'Bob', NULL, 0, NULL, 10.50, '00000000-0000-4000-8000-000000000002', NULL, 'hush'),
       (1, 'ann', 'Ann', 'a', 1, '2001-02-03 04:05:06', 1234.56, '00000000-0000-4000-8000-000000000001', 1,
        'hush'),
       (3, 'cat', 'Cat', NULL, NULL, NULL, NULL, NULL, NULL, 'hush')""",
)


def test_a_mariadb_table_imports_its_selected_columns_typed_and_a_re_import_converges(client, admin, app, caplog):
    with mariadb_database(*MARIADB_TABLES) as database, \
            mariadb_user(PASSWORD, f"GRANT SELECT ON {database}.* TO {{user}}") as user:
        system_id, profile_id = sql_system(client, admin, "MySQL", MARIADB, database, user)
        first = ran(client, admin, app, system_id, profile_id)
        assert first["status"] == "Complete", first
        assert counted(first) == (3, 0, 0, 0, 0)
        found = objects(client, admin, system_id)
        assert set(found) == {"1", "2", "3"}
        ann, bob = found["1"], found["2"]
        assert (ann["secondaryExternalIdValue"], ann["displayName"]) == ("ann", "Ann")
        assert shown(detail(client, admin, system_id, ann["id"])["attributeValues"]) == {
            "id": ("intValue", 1), "login": ("stringValue", "ann"), "name": ("stringValue", "Ann"),
            "tags": ("stringValue", "a"), "active": ("boolValue", True),
            "born": ("dateTimeValue", "2001-02-03T04:05:06Z"), "salary": ("decimalValue", 1234.56),
            "token": ("guidValue", "00000000-0000-4000-8000-000000000001"), "department_id": ("stringValue", "1")}
        assert shown(detail(client, admin, system_id, bob["id"])["attributeValues"])["active"] == ("boolValue", False)

        with mariadb(database=database) as connection, connection.cursor() as cursor:
            cursor.execute("UPDATE people SET name = 'Robert' WHERE id = 2")
            cursor.execute("UPDATE people SET secret_notes = 'changed' WHERE id = 1")
            cursor.execute("DELETE FROM people WHERE id = 3")
            cursor.execute("INSERT INTO people (id, login) VALUES (4, 'dan')")
        second = ran(client, admin, app, system_id, profile_id)
        assert second["status"] == "Complete" and counted(second) == (1, 1, 1, 1, 0)
        assert changes(client, admin, second) == [("2", "Updated"), ("3", "Deleted"), ("4", "Added")]
        after = objects(client, admin, system_id)
        assert after["1"] == ann and after["2"]["displayName"] == "Robert" and after["3"]["status"] == "Obsolete"
        # The account's password changed in the database: the run fails saying why, holding no password.
        with mariadb() as connection, connection.cursor() as cursor:
            cursor.execute(f"ALTER USER '{user}'@'%%' IDENTIFIED BY %s", (PASSWORD + "-changed",))
        failed = ran(client, admin, app, system_id, profile_id)
    assert failed["status"] == "FailedWithError" and "Access denied" in failed["errorMessage"], failed
    assert PASSWORD[-8:] not in str(failed) + caplog.text
    assert objects(client, admin, system_id) == after


def test_a_nul_in_an_id_leaves_its_object_out_and_a_display_name_keeps_the_rest(client, admin, app):
    # MariaDB keeps a NUL in text; PostgreSQL's text cannot, and SQLite's JSON functions end a string at one.
    tables = (*MARIADB_TABLES[:3], """INSERT INTO people (id, login, name) VALUES
        (1, 'ann', 'Ann\\0Archer'), (2, 'b\\0b', 'Bob'), (3, 'cat', 'Cat')""")
    with mariadb_database(*tables) as database, \
            mariadb_user(PASSWORD, f"GRANT SELECT ON {database}.* TO {{user}}") as user:
        system_id, profile_id = sql_system(client, admin, "MySQL", MARIADB, database, user)
        activity = ran(client, admin, app, system_id, profile_id)
    assert activity["status"] == "CompleteWithError" and counted(activity) == (2, 0, 0, 0, 1), activity
    found = objects(client, admin, system_id)
    assert set(found) == {"1", "3"}
    assert found["1"]["displayName"] == "Ann\ufffdArcher"
    assert shown(detail(client, admin, system_id, found["1"]["id"])["attributeValues"])["name"] == (
        "stringValue", "Ann\x00Archer")
    items = client.get(f"{ACTIVITIES}/{activity['id']}/items", headers=admin).json["items"]
    [refused] = [item for item in items if item["errorType"] not in (None, "NotSet")]
    assert (refused["externalIdValue"], refused["errorType"]) == ("2", "ImportAttributeValueError")
    assert "NUL" in refused["outcomeSummary"]


SCIM_TOKEN = "scim-" + secrets.token_urlsafe(24)
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


def scim_user(number: int) -> dict:
    return {"schemas": [USER_SCHEMA, ENTERPRISE], "userName": f"user{number}", "displayName": f"User {number}",
            "title": "not selected", "active": number % 2 == 0,
            "emails": [{"value": f"u{number}@example.com"}, {"value": f"alt{number}@example.com"}],
            ENTERPRISE: {"employeeNumber": f"E{number}"}}


def test_scim_resource_types_are_paged_with_their_selected_attributes(client, admin, app, monkeypatch):
    monkeypatch.setattr("connectors.scim.objects.PAGE_SIZE", 2)  # five users: three pages
    with scim_provider(SCIM_TOKEN) as base:
        provider = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {SCIM_TOKEN}",
                                                        "Content-Type": "application/scim+json"})
        users = [provider.post("/Users", json=scim_user(n)).raise_for_status().json() for n in range(5)]
        provider.patch(f"/Users/{users[2]['id']}", json={
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "add", "path": f"{ENTERPRISE}:manager",
                            "value": {"value": users[0]["id"]}}]}).raise_for_status()
        group = provider.post("/Groups", json={
            "schemas": [GROUP_SCHEMA], "displayName": "Staff",
            "members": [{"value": user["id"], "type": "User"} for user in users[:3]]}).raise_for_status().json()
        system_id = new_system(client, admin, 4, {301: base, 302: "Static Bearer Token", 303: SCIM_TOKEN, 304: 5})
        types = imported(client, admin, system_id)
        assert types["Group"]["members.value"][:2] == ("Reference", "MultiValued")
        assert types["User"][f"{ENTERPRISE}:manager.value"][:2] == ("Reference", "SingleValued")
        select_type(client, admin, system_id, "User", "id",
                    ["userName", "displayName", "active", "emails.value", f"{ENTERPRISE}:employeeNumber",
                     f"{ENTERPRISE}:manager.value"], secondary="userName")
        select_type(client, admin, system_id, "Group", "id", ["displayName", "members.value"])
        profile_id = full_import_profile(client, admin, system_id)
        first = ran(client, admin, app, system_id, profile_id)
        assert first["status"] == "Complete", first
        assert counted(first) == (6, 0, 0, 0, 0)
        found = objects(client, admin, system_id, pageSize=100)
        assert set(found) == {user["id"] for user in users} | {group["id"]}
        zero = found[users[0]["id"]]
        assert (zero["typeName"], zero["secondaryExternalIdValue"], zero["displayName"]) == (
            "User", "user0", "User 0")
        assert shown(detail(client, admin, system_id, zero["id"])["attributeValues"]) == {
            "id": ("stringValue", users[0]["id"]), "userName": ("stringValue", "user0"),
            "displayName": ("stringValue", "User 0"), "active": ("boolValue", True),
            "emails.value": [("stringValue", "u0@example.com"), ("stringValue", "alt0@example.com")],
            f"{ENTERPRISE}:employeeNumber": ("stringValue", "E0")}  # title, not selected, is not read
        managed = shown(detail(client, admin, system_id, found[users[2]["id"]]["id"])["attributeValues"])
        assert managed[f"{ENTERPRISE}:manager.value"] == ("stringValue", users[0]["id"])
        staff = found[group["id"]]
        assert (staff["typeName"], staff["displayName"]) == ("Group", "Staff")
        members = client.get(f"{SYSTEMS}/{system_id}/connector-space/{staff['id']}/attributes/members.value/values",
                             headers=admin).json
        assert sorted(value["stringValue"] for value in members["items"]) == sorted(u["id"] for u in users[:3])
        groups = client.get(f"{SYSTEMS}/{system_id}/connector-space", headers=admin,
                            query_string={"objectTypeId": staff["typeId"]}).json
        assert [item["externalIdValue"] for item in groups["items"]] == [group["id"]]

        provider.delete(f"/Users/{users[4]['id']}").raise_for_status()
        provider.patch(f"/Users/{users[1]['id']}", json={
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "path": "displayName", "value": "Renamed"}]}).raise_for_status()
        second = ran(client, admin, app, system_id, profile_id)
    assert second["status"] == "Complete", second
    assert counted(second) == (0, 1, 4, 1, 0)
    assert changes(client, admin, second) == sorted([(users[1]["id"], "Updated"), (users[4]["id"], "Deleted")])
    after = objects(client, admin, system_id, pageSize=100)
    assert after[users[1]["id"]]["displayName"] == "Renamed" and after[users[4]["id"]]["status"] == "Obsolete"


def test_the_run_profiles_file_path_is_read_in_place_of_the_systems(client, admin, app):
    root = app.config["JIM_CONNECTOR_FILES_ROOT"]
    # Blank lines, and an empty value between two multi-value delimiters, are nothing (no error).
    for name, rows in (("people.csv", "1,Ann,a|b,30\n\n2,Ben,c,41\n\n"), ("joiners.csv", "7,Gil,g|| h,19\n")):
        with open(f"{root}/{name}", "w") as file:
            file.write("id,name,groups,age\n" + rows)
    system_id = new_system(client, admin, 1, {101: "people.csv"})
    imported(client, admin, system_id)
    select_type(client, admin, system_id, "people", "id", ["name", "groups", "age"])
    everyone = full_import_profile(client, admin, system_id)
    joiners = full_import_profile(client, admin, system_id, name="Joiners", filePath="joiners.csv")
    assert client.get(f"{SYSTEMS}/{system_id}/run-profiles", headers=admin).json[-1]["filePath"] == "joiners.csv"
    assert counted(ran(client, admin, app, system_id, everyone)) == (2, 0, 0, 0, 0)
    # The profile's file is the whole scope: what it does not hold is gone.
    activity = ran(client, admin, app, system_id, joiners)
    assert activity["status"] == "Complete" and counted(activity) == (1, 0, 0, 2, 0)
    found = objects(client, admin, system_id)
    assert {key: item["status"] for key, item in found.items()} == {"1": "Obsolete", "2": "Obsolete", "7": "Normal"}
    groups = client.get(f"{SYSTEMS}/{system_id}/connector-space/{found['7']['id']}/attributes/groups/values",
                        headers=admin).json
    assert [value["stringValue"] for value in groups["items"]] == ["g", "h"]
    # The system's file again: its objects back (added again, as they were gone), and the joiner gone.
    again = ran(client, admin, app, system_id, everyone)
    assert counted(again) == (2, 0, 0, 1, 0)
    assert client.get(f"{SYSTEMS}/{system_id}", headers=admin).json["objectCount"] == 2
    # A profile's path outside the files folder fails the run, saying so, and changes nothing.
    escape = full_import_profile(client, admin, system_id, name="Escape", filePath="../people.csv")
    failed = ran(client, admin, app, system_id, escape)
    assert failed["status"] == "FailedWithError" and "outside the connector files folder" in failed["errorMessage"]
    assert {key: item["status"] for key, item in objects(client, admin, system_id).items()} == {
        "1": "Normal", "2": "Normal", "7": "Obsolete"}
