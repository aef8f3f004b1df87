"""Each connector's reader against its real system: slapd, PostgreSQL, MariaDB, files, scim2-server.

A reader yields the objects in a run's scope, typed as their attributes, through ``connectors.runner``, which
bounds each step and scrubs secrets from what fails. No store is involved: these run once.
"""
import secrets
import threading
import time
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from connectors import CONNECTORS, runner
from connectors.interface import (
    AttributeScope,
    AttributeType,
    ContainerScope,
    ContainerScopeKind,
    ObjectTypeScope,
    PartitionScope,
    ReadScope,
    Refused,
    Settings,
    Unreachable,
)
from hostile_ldap import NAMING_CONTEXT, directory_of, done, entry, hostile_directory, octets
from ldap_directory import SERVICE_DN, SERVICE_PASSWORD, SUFFIX, running_directory
from scim_provider import scim_provider
from silent import silent_server
from sql_servers import MARIADB, POSTGRES, mariadb_database, mariadb_user, postgres_database

T, N, R, B, D, G = (AttributeType.TEXT, AttributeType.NUMBER, AttributeType.REFERENCE, AttributeType.BOOLEAN,
                    AttributeType.DATE_TIME, AttributeType.GUID)
PEOPLE = f"ou=People,{SUFFIX}"
CONTRACTORS = f"ou=Contractors,{PEOPLE}"


def read(connector_id: int, values: dict, scope: ReadScope, secret_ids=(), step_seconds: float = 10,
         files_root: Path = Path("/nonexistent")) -> list:
    settings = Settings(values, tuple(values[i] for i in secret_ids), files_root)
    return list(runner.read_objects(CONNECTORS[connector_id], settings, scope, step_seconds))


def ldap_values(directory, password=SERVICE_PASSWORD, **more) -> dict:
    return {1: directory.url, 2: SERVICE_DN, 3: password, 4: directory.port, 6: 2, **more}


PERSON = ObjectTypeScope("inetOrgPerson", (
    AttributeScope("uid", T, True), AttributeScope("cn", T, True), AttributeScope("mail", T, True),
    AttributeScope("uidNumber", N), AttributeScope("entryDN", R),
), external_id="uid", secondary_external_id="entryDN")
GROUP = ObjectTypeScope("groupOfNames", (AttributeScope("cn", T, True), AttributeScope("member", R, True),
                                         AttributeScope("entryUUID", G)), external_id="entryUUID")


def ldap_read(directory, *containers: ContainerScope, types=(PERSON,), excluded=()) -> dict:
    scope = ReadScope(types, (PartitionScope(SUFFIX, containers, excluded),))
    return {found.external_id: found for found in read(3, ldap_values(directory), scope, secret_ids=(3,))}


def test_ldap_subtree_of_a_container_yields_its_entries_typed(ldap_directory):
    found = ldap_read(ldap_directory, ContainerScope(PEOPLE))
    assert set(found) == {"alice", "bob", "carol"}
    alice = found["alice"]
    assert alice.object_type == "inetOrgPerson" and alice.secondary_external_id == f"uid=alice,{PEOPLE}"
    assert alice.values == {"uid": ["alice"], "cn": ["Alice Archer"], "mail": ["alice@example.com"],
                            "uidNumber": 10001, "entryDN": f"uid=alice,{PEOPLE}"}
    assert alice.problems == ()


def test_ldap_one_level_and_excluded_containers_leave_entries_out(ldap_directory):
    assert set(ldap_read(ldap_directory, ContainerScope(PEOPLE, ContainerScopeKind.ONE_LEVEL))) == {"alice", "bob"}
    assert set(ldap_read(ldap_directory, ContainerScope(PEOPLE, excluded=(CONTRACTORS,)))) == {"alice", "bob"}
    assert set(ldap_read(ldap_directory, ContainerScope(CONTRACTORS))) == {"carol"}
    # A container within one searched whole is not searched again: carol once.
    both = read(3, ldap_values(ldap_directory), ReadScope((PERSON,), (PartitionScope(
        SUFFIX, (ContainerScope(PEOPLE), ContainerScope(CONTRACTORS))),)), secret_ids=(3,))
    assert sorted(found.external_id for found in both) == ["alice", "bob", "carol"]


def test_ldap_a_partition_without_containers_is_read_whole_by_structural_class(ldap_directory):
    found = ldap_read(ldap_directory, types=(PERSON, GROUP), excluded=(f"ou=Service,{SUFFIX}",))
    people = {key for key, value in found.items() if value.object_type == "inetOrgPerson"}
    groups = [value for value in found.values() if value.object_type == "groupOfNames"]
    assert people == {"alice", "bob", "carol"}
    # posixGroup "developers" and the service accounts are of no selected class.
    assert [group.values["cn"] for group in groups] == [["Staff"]]
    staff = groups[0]
    assert staff.values["member"] == [f"uid=alice,{PEOPLE}", f"uid=bob,{PEOPLE}"]
    assert isinstance(staff.values["entryUUID"], uuid.UUID) and staff.external_id == str(staff.values["entryUUID"])


def test_ldap_a_type_whose_superclass_is_selected_is_not_taken_for_it(ldap_directory):
    person = ObjectTypeScope("person", (AttributeScope("cn", T, True),), external_id="cn")
    assert ldap_read(ldap_directory, ContainerScope(PEOPLE), types=(person,)) == {}


def test_ldap_wrong_password_is_refused_and_a_silent_server_unreachable_within_a_step(ldap_directory):
    scope = ReadScope((PERSON,), (PartitionScope(SUFFIX),))
    with pytest.raises(Refused) as refused:
        read(3, ldap_values(ldap_directory, password="wrong-password-Xy9"), scope, secret_ids=(3,))
    assert "invalidCredentials" in refused.value.message and "Xy9" not in refused.value.message
    with silent_server() as (host, port):
        started = time.monotonic()
        with pytest.raises(Unreachable):
            read(3, {**ldap_values(ldap_directory), 1: host, 4: port, 6: 1}, scope, secret_ids=(3,), step_seconds=1)
        assert time.monotonic() - started < 5


ACCOUNTS = """CREATE TABLE accounts (id integer PRIMARY KEY, login text NOT NULL, tags text[], active boolean,
                                     born date, balance numeric(10, 2), token uuid)"""


def sql_values(database_type: str, server: dict, database: str, user: str | None = None, password: str = "") -> dict:
    return {201: database_type, 202: server["host"], 203: server["port"], 204: database,
            205: user or server["user"], 206: password, 207: 5}


ACCOUNT_TYPE = ObjectTypeScope("accounts", (
    AttributeScope("id", N), AttributeScope("login", T), AttributeScope("tags", T, True),
    AttributeScope("active", B), AttributeScope("born", D), AttributeScope("balance", AttributeType.DECIMAL),
    AttributeScope("token", G)), external_id="id", secondary_external_id="login")


def test_sql_postgresql_rows_stream_in_external_id_order_typed():
    rows = ("INSERT INTO accounts SELECT n, 'user' || n, ARRAY['a', 'b'], n % 2 = 0, DATE '2026-01-02', 12.5, "
            "gen_random_uuid() FROM generate_series(2500, 1, -1) AS n")
    with postgres_database(ACCOUNTS, rows) as database:
        found = read(2, sql_values("PostgreSQL", POSTGRES, database), ReadScope((ACCOUNT_TYPE,)), secret_ids=(206,))
    assert [int(found.external_id) for found in found] == list(range(1, 2501))  # more than one fetch, in order
    first = found[0]
    assert first.secondary_external_id == "user1"
    assert first.values["tags"] == ["a", "b"] and first.values["active"] is False
    assert first.values["born"] == datetime(2026, 1, 2, tzinfo=UTC) and first.values["balance"] == Decimal("12.50")
    assert isinstance(first.values["token"], uuid.UUID)


def test_sql_mariadb_reads_its_booleans_as_booleans():
    table = ("CREATE TABLE accounts (id int PRIMARY KEY, login varchar(50), active tinyint(1), "
             "born datetime, balance decimal(10,2))")
    with mariadb_database(table, "INSERT INTO accounts VALUES (2, 'b', 0, NULL, 1.5), (1, 'a', 1, "
                                 "'2026-05-06 07:08:09', NULL)") as database:
        kind = ObjectTypeScope("accounts", (*ACCOUNT_TYPE.attributes[:2], ACCOUNT_TYPE.attributes[3],
                                            ACCOUNT_TYPE.attributes[4], ACCOUNT_TYPE.attributes[5]), "id")
        found = read(2, sql_values("MySQL", MARIADB, database), ReadScope((kind,)), secret_ids=(206,))
    assert [(o.external_id, o.values) for o in found] == [
        ("1", {"id": 1, "login": "a", "active": True, "born": datetime(2026, 5, 6, 7, 8, 9, tzinfo=UTC)}),
        ("2", {"id": 2, "login": "b", "active": False, "balance": Decimal("1.50")}),
    ]


@pytest.mark.parametrize("database_type", ["PostgreSQL", "MySQL"])
@pytest.mark.parametrize("gone", ["table", "column"])
def test_sql_a_table_or_column_dropped_since_the_schema_import_asks_for_it_again(database_type, gone):
    made = ("CREATE TABLE accounts (id integer PRIMARY KEY, login text)" if gone == "column"
            else "CREATE TABLE others (id integer PRIMARY KEY)")
    databases, server = ((postgres_database, POSTGRES) if database_type == "PostgreSQL"
                         else (mariadb_database, MARIADB))
    kind = ObjectTypeScope("accounts", ACCOUNT_TYPE.attributes[:3], "id")  # tags: the column not there
    with databases(made) as database, pytest.raises(Refused) as refused:  # an empty password: nothing to hide
        read(2, sql_values(database_type, server, database), ReadScope((kind,)), secret_ids=(206,))
    assert refused.value.message == ("The database no longer has the table or view accounts, or one of its "
                                     "selected columns: import its schema again.")


def test_sql_errors_are_scrubbed_of_the_password():
    password = "Pw-" + secrets.token_hex(12)
    # The server quotes the database it refuses: here, one named as the password is.
    with mariadb_user(password) as user, pytest.raises(Refused) as refused:
        read(2, sql_values("MySQL", MARIADB, password, user, password), ReadScope((ACCOUNT_TYPE,)),
             secret_ids=(206,))
    assert password[:8] not in refused.value.message and password[-8:] not in refused.value.message
    assert "********" in refused.value.message


PEOPLE_CSV = "id,name,groups,age\n1,Ann,a|b,30\n2,Ben,,forty\n,Nobody,c,1\n"
FILE_TYPE = ObjectTypeScope("people", (AttributeScope("id", N), AttributeScope("name", T),
                                       AttributeScope("groups", T, True), AttributeScope("age", N)), "id")


def test_file_rows_are_read_one_by_one_and_the_run_may_name_its_own_file(tmp_path):
    (tmp_path / "people.csv").write_text(PEOPLE_CSV)
    (tmp_path / "other.csv").write_text("id,name,groups,age\n9,Zed,z,9\n")
    values = {101: "people.csv", 102: ",", 103: "|"}
    found = read(1, values, ReadScope((FILE_TYPE,)), files_root=tmp_path)
    assert [(o.external_id, o.values) for o in found] == [
        ("1", {"id": 1, "name": "Ann", "groups": ["a", "b"], "age": 30}),
        ("2", {"id": 2, "name": "Ben", "groups": []}),
        (None, {"name": "Nobody", "groups": ["c"], "age": 1}),
    ]
    assert found[0].problems == ()
    assert found[1].problems == ("A value of age is not a Number and was left out.",)
    assert found[2].problems == ("It has no value of its external id, id.",)
    other = read(1, values, ReadScope((FILE_TYPE,), file_path="other.csv"), files_root=tmp_path)
    assert [o.external_id for o in other] == ["9"]
    with pytest.raises(Refused, match="outside the connector files folder"):
        read(1, values, ReadScope((FILE_TYPE,), file_path="../escape.csv"), files_root=tmp_path)


def test_the_reading_thread_takes_no_object_while_its_caller_asks_it_to_wait(tmp_path):
    (tmp_path / "many.csv").write_text("id,name,groups,age\n" + "".join(f"{n},P{n},,1\n" for n in range(2000)))
    settings = Settings({101: "many.csv", 102: ","}, (), tmp_path)
    may_read, taken = threading.Event(), []
    objects = runner.read_objects(CONNECTORS[1], settings, ReadScope((FILE_TYPE,)), 10, may_read)
    consumer = threading.Thread(target=lambda: taken.extend(found.external_id for found in objects))
    consumer.start()
    time.sleep(runner.HANDOVER_SECONDS * 3)  # long enough for it to hand over a batch, were it reading
    assert taken == []
    may_read.set()
    consumer.join(10)
    assert taken == [str(n) for n in range(2000)]


SCIM_TOKEN = "scim-" + secrets.token_urlsafe(24)
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


def test_scim_resources_are_paged_with_only_the_selected_attributes(monkeypatch):
    monkeypatch.setattr("connectors.scim.objects.PAGE_SIZE", 2)
    user = ObjectTypeScope("User", (
        AttributeScope("id", T), AttributeScope("userName", T), AttributeScope("emails.value", T, True),
        AttributeScope("name.givenName", T), AttributeScope(f"{ENTERPRISE}:employeeNumber", T),
        AttributeScope("active", B)), external_id="id", secondary_external_id="userName")
    with scim_provider(SCIM_TOKEN) as base:
        headers = {"Authorization": f"Bearer {SCIM_TOKEN}", "Content-Type": "application/scim+json"}
        for number in range(5):
            httpx.post(f"{base}/Users", headers=headers, json={
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE],
                "userName": f"user{number}", "name": {"givenName": f"Given{number}", "familyName": "F"},
                "emails": [{"value": f"u{number}@example.com"}, {"value": f"alt{number}@example.com"}],
                "active": True, "title": "not selected", ENTERPRISE: {"employeeNumber": f"E{number}"},
            }).raise_for_status()
        found = read(4, {301: base, 302: "Static Bearer Token", 303: SCIM_TOKEN, 304: 5}, ReadScope((user,)),
                     secret_ids=(303,))
    assert sorted(o.secondary_external_id for o in found) == [f"user{n}" for n in range(5)]
    first = next(o for o in found if o.secondary_external_id == "user0")
    assert first.values == {"id": first.external_id, "userName": "user0",
                            "emails.value": ["u0@example.com", "alt0@example.com"], "name.givenName": "Given0",
                            f"{ENTERPRISE}:employeeNumber": "E0", "active": True}


def test_scim_a_wrong_token_is_refused_without_it():
    user = ObjectTypeScope("User", (AttributeScope("id", T),), external_id="id")
    wrong = "wrong-" + secrets.token_urlsafe(24)
    with scim_provider(SCIM_TOKEN) as base, pytest.raises(Refused) as refused:
        read(4, {301: base, 302: "Static Bearer Token", 303: wrong, 304: 5}, ReadScope((user,)), secret_ids=(303,))
    assert wrong[-8:] not in refused.value.message


def test_ldap_a_search_the_server_stops_at_its_size_limit_is_refused(tmp_path):
    with running_directory(tmp_path, limits=f'dn.exact="{SERVICE_DN}" size=2') as directory:
        with pytest.raises(Refused) as refused:
            read(3, ldap_values(directory), ReadScope((PERSON,), (PartitionScope(SUFFIX),)), secret_ids=(3,))
    assert "sizeLimitExceeded" in refused.value.message and "before its end" in refused.value.message


@pytest.mark.parametrize("answer", [
    lambda message_id: entry(message_id, f"uid=ann,{NAMING_CONTEXT}", {"uid": [b"ann"]})[:-3],
    lambda message_id: entry(message_id, f"uid=ann,{NAMING_CONTEXT}", {"uid": [b"ann"]}).replace(
        octets(b"ann"), bytes([0x02, 0x03]) + b"ann"),
    lambda message_id: entry(message_id + 1, f"uid=ann,{NAMING_CONTEXT}", {"uid": [b"ann"]}),
], ids=["cut-short", "a-value-that-is-no-octet-string", "another-search's-entry"])
def test_ldap_an_entry_that_is_not_ldap_is_refused_as_such(answer):
    def answered(message_id):
        yield answer(message_id)
        yield done(message_id)

    person = ObjectTypeScope("inetOrgPerson", (AttributeScope("uid", T),), external_id="uid")
    with hostile_directory(directory_of(answered)) as peer:
        port = int(peer.url.rsplit(":", 1)[1])
        values = {1: peer.url, 2: f"cn=admin,{NAMING_CONTEXT}", 3: "Hostile-pa55word", 4: port, 6: 2}
        with pytest.raises(Unreachable) as unreachable:
            read(3, values, ReadScope((person,), (PartitionScope(NAMING_CONTEXT),)), secret_ids=(3,))
    assert unreachable.value.message == f"{peer.url} answered, but not in LDAP: is a directory listening on that port?"
