"""Hierarchies as big directories have them, imported from a real slapd through the API on both stores: odd ids
that must settle, trees as deep as the service takes and one deeper, and tens of thousands of containers in the
time an import has (marked ``big``: they run in CI, and take a few seconds each)."""
import subprocess

import psycopg
import pytest

from conftest import SYSTEMS
from connectors.limits import MOST_DEPTH
from envelope import assert_error
from importing import history, new_system
from sql_servers import POSTGRES, postgres_database
from ldap_directory import ADMIN_DN, ADMIN_PASSWORD, LDAP_TOOLS, SUFFIX
from test_ldap_import import configure, import_hierarchy, seed_settings
from test_sql_import import postgres_values

SHARED_UUID = "6a1e2b3c-0000-4000-8000-000000000001"


def add(directory, ldif: str):
    """ldapadd as the root DN with the Relax control, which lets it set entryUUID (a copied entry's, say)."""
    subprocess.run([f"{LDAP_TOOLS}/ldapadd", "-x", "-H", directory.url, "-D", ADMIN_DN, "-w", ADMIN_PASSWORD,
                    "-e", "relax"], input=ldif.encode(), check=True, capture_output=True, timeout=120)


def remove(directory, dn: str):
    directory.tool("ldapdelete", "", "-r", dn, check=False)


def ou(dn: str, *more: str) -> str:
    return "\n".join((f"dn: {dn}", "objectClass: organizationalUnit", f"ou: {dn.split(',')[0][3:]}", *more)) + "\n"


def state(client, reader, system_id: int) -> tuple:
    """What a client sees move when anything changes: the ETag, the history's length, the partitions."""
    system = client.get(f"{SYSTEMS}/{system_id}", headers=reader)
    listed = client.get(f"{SYSTEMS}/{system_id}/partitions", headers=reader)
    assert listed.status_code == 200, listed.json
    return system.headers["ETag"], len(history(client, reader, system_id)), listed.json


def test_entries_sharing_an_entry_uuid_settle_on_re_import(client, admin, admin_key, reader, ldap_system,
                                                          ldap_directory):
    system_id = ldap_system["id"]
    copies = [f"ou=Copy{number},{SUFFIX}" for number in range(3)]
    configure(client, admin, system_id, **seed_settings(ldap_directory.url))
    add(ldap_directory, "\n".join(ou(dn, f"entryUUID: {SHARED_UUID}") for dn in copies))
    try:
        first = import_hierarchy(client, admin_key, system_id)
        assert first.status_code == 200, first.json
        assert {item["externalId"] for item in first.json["addedContainers"]} >= set(copies)
        by_dn = {container["externalId"]: container for container in state(client, reader, system_id)[2][0]["containers"]}
        selected = client.put(f"{SYSTEMS}/{system_id}/containers/{by_dn[copies[1]]['id']}", json={"selected": True},
                              headers=admin)
        assert selected.status_code == 200, selected.json
        before = state(client, reader, system_id)
        again = [import_hierarchy(client, admin_key, system_id) for _ in range(2)]
    finally:
        for dn in copies:
            remove(ldap_directory, dn)
    for answer in again:
        assert answer.status_code == 200, answer.json
        assert answer.json["hasChanges"] is False
        assert answer.json["renamedContainers"] == answer.json["movedContainers"] == []
    assert state(client, reader, system_id) == before


def chain(levels: int) -> list[str]:
    """The DNs of OUs nested ``levels`` deep under the suffix, parents first."""
    dns, parent = [], SUFFIX
    for level in range(1, levels + 1):
        parent = f"ou=Level{level},{parent}"
        dns.append(parent)
    return dns


def test_a_tree_as_deep_as_the_limit_imports_and_one_level_more_is_refused(client, admin, admin_key, reader,
                                                                           ldap_system, ldap_directory):
    system_id = ldap_system["id"]
    dns = chain(MOST_DEPTH + 1)
    configure(client, admin, system_id, **seed_settings(ldap_directory.url))
    add(ldap_directory, "\n".join(ou(dn) for dn in dns[:-1]))
    try:
        assert import_hierarchy(client, admin_key, system_id).status_code == 200
        tag, records, (partition,) = state(client, reader, system_id)
        # Down the tree without recursion, as a client might walk it.
        deepest, depth = next(c for c in partition["containers"] if c["name"] == "Level1"), 1
        while deepest["childContainers"]:
            (deepest,), depth = deepest["childContainers"], depth + 1
        assert (depth, deepest["externalId"]) == (MOST_DEPTH, dns[-2])
        selected = client.put(f"{SYSTEMS}/{system_id}/containers/{deepest['id']}", json={"selected": True},
                              headers=admin)
        assert selected.status_code == 200 and selected.json["childContainers"] == []
        assert import_hierarchy(client, admin_key, system_id).json["hasChanges"] is False
        before = state(client, reader, system_id)[2]
        add(ldap_directory, ou(dns[-1]))
        refused = import_hierarchy(client, admin_key, system_id)
    finally:
        remove(ldap_directory, dns[0])
    body = assert_error(refused, 400, "BAD_REQUEST")
    assert body["message"] == (f"The connected system nests containers {MOST_DEPTH + 1} levels deep; this service "
                               f"imports at most {MOST_DEPTH} levels of containers in one import.")
    assert state(client, reader, system_id)[2] == before  # nothing written
    assert history(client, reader, system_id)[0]["action"] == "HierarchyImportFailed"


def stored(client, reader, system_id: int) -> tuple:
    """What an import writes, as a client reads it: the partitions and the object types."""
    path = f"{SYSTEMS}/{system_id}"
    return client.get(f"{path}/partitions", headers=reader).json, client.get(f"{path}/object-types", headers=reader).json


@pytest.mark.parametrize("limited", [{"JIM_IMPORT_MAX_CONTAINERS": "7"}], indirect=True)
def test_a_directory_grown_past_the_container_limit_is_refused_and_what_is_stored_stays(limited, client, admin,
                                                                                        admin_key, reader, ldap_system,
                                                                                        ldap_directory):
    system_id = ldap_system["id"]
    configure(client, admin, system_id, **seed_settings(ldap_directory.url))
    assert import_hierarchy(client, admin_key, system_id).status_code == 200  # its own 5
    before = stored(client, reader, system_id)
    grown = [f"ou=Grown{number},{SUFFIX}" for number in range(5)]
    add(ldap_directory, "\n".join(ou(dn) for dn in grown))
    try:
        refused = import_hierarchy(client, admin_key, system_id)
    finally:
        for dn in grown:
            remove(ldap_directory, dn)
    body = assert_error(refused, 400, "BAD_REQUEST")
    assert body["message"] == ("The connected system holds more than 7 containers; this service imports at most 7 "
                               "containers in one import.")
    assert stored(client, reader, system_id) == before
    assert [record["action"] for record in history(client, reader, system_id)[:2]] == [
        "HierarchyImportFailed", "HierarchyImported"]
    assert client.get(f"{SYSTEMS}/{system_id}", headers=reader).json["settingValuesValid"] is False


@pytest.mark.parametrize("limited", [{"JIM_IMPORT_MAX_ATTRIBUTES": "10"}], indirect=True)
def test_a_schema_past_the_attribute_limit_is_refused_before_anything_is_written(limited, client, admin, admin_key,
                                                                                 reader, ldap_system, ldap_directory):
    system_id = ldap_system["id"]
    configure(client, admin, system_id, **seed_settings(ldap_directory.url))
    answer = client.post(f"{SYSTEMS}/{system_id}/import-schema", headers={"X-Api-Key": admin_key})
    message = assert_error(answer, 400, "BAD_REQUEST")["message"]
    assert message.startswith("The connected system has ") and message.endswith(
        " attributes in all; this service imports at most 10 attributes in one import.")
    assert client.get(f"{SYSTEMS}/{system_id}/object-types", headers=reader).json == []


def tables(first: int, count: int) -> str:
    return "; ".join(f"CREATE TABLE table_{number:03d} (id integer, name text)" for number in range(first, count))


@pytest.mark.parametrize("limited", [{"JIM_IMPORT_MAX_OBJECT_TYPES": "30", "JIM_IMPORT_MAX_ATTRIBUTES": "70"}],
                         indirect=True)
def test_a_database_grown_past_the_limits_is_refused_and_what_is_stored_stays(limited, client, admin, admin_key, reader):
    def import_schema():
        return client.post(f"{SYSTEMS}/{system_id}/import-schema", headers={"X-Api-Key": admin_key})

    with postgres_database(tables(0, 30)) as name:  # 30 object types, 60 attributes
        system_id = new_system(client, admin, 2, postgres_values(name))
        assert import_schema().status_code == 200
        before = stored(client, reader, system_id)
        with psycopg.connect(**POSTGRES, dbname=name, autocommit=True) as database:
            database.execute(tables(30, 31))
            too_many_types = import_schema()
            database.execute("DROP TABLE table_030")
            database.execute("ALTER TABLE table_000 " + ", ".join(f"ADD COLUMN extra_{n} text" for n in range(11)))
            too_many_attributes = import_schema()
    assert assert_error(too_many_types, 400, "BAD_REQUEST")["message"] == (
        "The connected system has 31 object types; this service imports at most 30 object types in one import.")
    assert assert_error(too_many_attributes, 400, "BAD_REQUEST")["message"] == (
        "The connected system has 71 attributes in all; this service imports at most 70 attributes in one import.")
    assert stored(client, reader, system_id) == before
    # The second failure finds the settings recorded as failing already: nothing more to record.
    assert [record["action"] for record in history(client, reader, system_id)[:2]] == [
        "SchemaImportFailed", "SchemaImported"]


def test_an_import_of_many_containers_lists_the_first_hundred_in_its_record_and_counts_the_rest(
        client, admin, admin_key, reader, ldap_system, ldap_directory):
    system_id = ldap_system["id"]
    configure(client, admin, system_id, **seed_settings(ldap_directory.url))
    many = [f"ou=Many{number:03d},{SUFFIX}" for number in range(150)]
    add(ldap_directory, "\n".join(ou(dn) for dn in many))
    try:
        imported = import_hierarchy(client, admin_key, system_id)
    finally:
        for dn in many:
            remove(ldap_directory, dn)
    removed = import_hierarchy(client, admin_key, system_id)
    assert imported.status_code == removed.status_code == 200
    for answer, record in zip((removed, imported), history(client, reader, system_id)[:2], strict=True):
        changes = record["changes"]
        listed, (more,) = changes[:-1], changes[-1:]
        assert len(listed) == 100 and all(change["field"] != "moreChanges" for change in listed)
        assert (more["field"], more["oldValue"]) == ("moreChanges", None)
        made = [change for change in listed if change["field"].startswith(("containers.", "partitions."))]
        body = answer.json
        assert len(made) + more["newValue"] == sum(len(body[key]) for key in (
            "addedPartitions", "removedPartitions", "addedContainers", "removedContainers"))
    assert len(removed.json["removedContainers"]) == 150
    # The versions' summaries count what the records do not list.
    newest = client.get(f"{SYSTEMS}/{system_id}/change-history", headers=reader).json["items"][0]
    assert newest["summary"].startswith("HierarchyImported: containers.") and newest["summary"].endswith(" and 145 more")


def test_the_lists_built_from_rows_answer_as_the_single_reads_and_writes_do(client, admin, admin_key, reader,
                                                                           ldap_system, ldap_directory):
    system_id = ldap_system["id"]
    path = f"{SYSTEMS}/{system_id}"
    configure(client, admin, system_id, **seed_settings(ldap_directory.url))
    assert client.post(f"{path}/import-schema", headers={"X-Api-Key": admin_key}).status_code == 200
    assert import_hierarchy(client, admin_key, system_id).status_code == 200
    listed = client.get(f"{path}/object-types", headers=reader).json
    assert listed == [client.get(f"{path}/object-types/{found['id']}", headers=reader).json for found in listed]
    (partition,) = client.get(f"{path}/partitions", headers=reader).json
    people = next(container for container in partition["containers"] if container["name"] == "People")
    assert client.put(f"{path}/partitions/{partition['id']}", json={}, headers=admin).json == partition
    assert client.put(f"{path}/containers/{people['id']}", json={}, headers=admin).json == {
        **people, "childContainers": [{**child, "childContainers": []} for child in people["childContainers"]]}
    bare = client.get(f"{path}/object-types", headers=reader, query_string={"IncludeAttributes": "false"}).json
    assert bare == [{key: value for key, value in found.items() if key != "attributes"} for found in listed]
    assert_error(client.get(f"{path}/object-types", headers=reader, query_string={"selected": "maybe"}), 400,
                 "VALIDATION_ERROR")
    assert_error(client.get(f"{path}/partitions", headers=reader, query_string={"depth": "1"}), 400,
                 "VALIDATION_ERROR")
