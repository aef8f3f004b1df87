"""A write holds the system's lock only to read, diff, write and commit: what can be answered without it is; and
what it checks under the lock (If-Match) is the state it writes over."""
import fcntl
import os
import sqlite3
import threading
import time
from contextlib import contextmanager

import psycopg
import pytest
from sqlalchemy import event, select, text

from app import create_app
from conftest import SYSTEMS, TEST_ENCRYPTION_KEY, build_schema, make_key
from database import db
from envelope import assert_error
from models import Role, connected_systems_table

URL = f"{SYSTEMS}/1"


@pytest.fixture
def lock_timeout():
    # A PUT that waited for the lock would answer 503 after a second, not hang the run.
    return 1


@pytest.fixture
def app_config(app_config, lock_timeout):
    return {**app_config, "JIM_DATABASE_TIMEOUT_SECONDS": lock_timeout}


@pytest.fixture
def lock_held(app, ldap_system):
    """Another writer holds system 1's write lock (SQLite's database lock, PostgreSQL's row lock)."""
    with app.app_context(), db.engine.connect() as other:
        if other.dialect.name == "sqlite":
            other.exec_driver_sql("ROLLBACK")  # the deferred BEGIN of every transaction, made a write
            other.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            other.execute(select(connected_systems_table.c.id).where(connected_systems_table.c.id == 1)
                          .with_for_update())
        yield
        other.rollback()


@pytest.mark.parametrize("body, status", [
    ({"name": ""}, 400),
    ({"settingValues": {"101": {"stringValue": "a setting of another connector"}}}, 400),
    ("not json", 400),
])
def test_a_bad_body_is_refused_without_waiting_for_the_lock(client, admin, lock_held, body, status):
    response = client.put(URL, data=body, headers=admin) if isinstance(body, str) else \
        client.put(URL, json=body, headers=admin)
    assert response.status_code == status


def test_a_stale_if_match_is_refused_without_waiting_for_the_lock(client, admin, lock_held):
    response = client.put(URL, json={"name": "x"}, headers={**admin, "If-Match": '"1-0"'})
    assert response.status_code == 412


def test_a_missing_system_is_404_without_waiting_for_the_lock(client, admin, lock_held):
    assert client.put(f"{SYSTEMS}/2", json={"name": "x"}, headers=admin).status_code == 404


def test_a_good_body_waits_for_the_lock(client, admin, lock_held):
    """The write itself does take the lock: here it runs out of time (503) and writes nothing."""
    assert client.put(URL, json={"name": "Renamed"}, headers=admin).status_code == 503
    assert client.get(URL, headers=admin).json["name"] == "Corporate LDAP"


@contextmanager
def another_writer(database_url):
    """Another writer's transaction, on a connection of its own, holding system 1's write lock until the block
    ends, when it commits; yields its connection. SQLite: BEGIN IMMEDIATE on the file; PostgreSQL: the row's lock."""
    if database_url.startswith("sqlite"):
        connection = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)
        try:
            connection.execute("BEGIN IMMEDIATE")
            yield connection
            connection.execute("COMMIT")
        finally:
            connection.close()
    else:
        with psycopg.connect(database_url.replace("+psycopg", "")) as connection:
            connection.execute("SELECT id FROM connected_systems WHERE id = 1 FOR UPDATE")
            yield connection


@contextmanager
def waiting_for_the_lock(app, database_url, holder):
    """Yields a function that returns once a request of ``app`` waits for the lock that ``holder`` holds.

    SQLite has no view of who waits: the app's BEGIN IMMEDIATE, sent to the driver, is the sign. PostgreSQL's
    lock table says who waits for whom.
    """
    if database_url.startswith("sqlite"):
        sent = threading.Event()

        def note_begin_immediate(connection, cursor, statement, *args):
            if statement.strip().upper().startswith("BEGIN IMMEDIATE"):
                sent.set()

        with app.app_context():
            engine = db.engine
        event.listen(engine, "before_cursor_execute", note_begin_immediate)
        try:
            yield lambda: sent.wait(timeout=30)
        finally:
            event.remove(engine, "before_cursor_execute", note_begin_immediate)
        return
    holder_pid = holder.info.backend_pid
    with psycopg.connect(database_url.replace("+psycopg", ""), autocommit=True) as observer:
        def blocked() -> bool:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                waiting = observer.execute(
                    "SELECT count(*) FROM pg_locks WHERE NOT granted AND %s = ANY(pg_blocking_pids(pid))",
                    (holder_pid,),
                ).fetchone()[0]
                if waiting:
                    return True
                time.sleep(0.01)
            return False

        yield blocked


@pytest.mark.parametrize("lock_timeout", [30])  # the PUT waits while this test commits; a slow machine is no 503
def test_if_match_is_checked_under_the_lock(app, client, admin, database_url, ldap_system):
    """A PUT that passed its early If-Match check waits for the lock while another writer changes the system:
    under the lock it sees that change, and answers 412 without writing."""
    read = client.get(URL, headers=admin)
    answers = []
    put = threading.Thread(target=lambda: answers.append(
        client.put(URL, json={"name": "Not written"}, headers={**admin, "If-Match": read.headers["ETag"]})))
    with another_writer(database_url) as writer:
        with waiting_for_the_lock(app, database_url, writer) as wait:
            put.start()
            assert wait(), "the PUT never waited for the write lock"
        writer.execute("UPDATE connected_systems SET description = 'changed meanwhile', version = version + 1"
                       " WHERE id = 1")
    put.join(timeout=30)
    assert not put.is_alive()
    assert_error(answers[0], 412, "PRECONDITION_FAILED")
    after = client.get(URL, headers=admin)
    assert (after.json["name"], after.json["description"]) == ("Corporate LDAP", "changed meanwhile")
    assert client.get(f"{URL}/history", headers=admin).json["totalCount"] == 1  # the PUT recorded nothing


@pytest.fixture
def sqlite_writers_lock(app, ldap_system):
    """The lock on which the service's writers to this SQLite file queue, held as another worker would."""
    with app.app_context():
        lock = os.open(db.engine.url.database + ".write-lock", os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(lock, fcntl.LOCK_EX)
    yield lock
    os.close(lock)


# SQLite only: PostgreSQL's writers wait on the row's lock, which its server hands over.
@pytest.mark.parametrize("store", ["sqlite"])
def test_a_writer_waits_its_turn_behind_another_workers_write(client, admin, sqlite_writers_lock):
    """Queued behind another worker's write, a PUT goes ahead as soon as that write ends."""
    answers = []
    writer = threading.Thread(target=lambda: answers.append(client.put(URL, json={"name": "Next"}, headers=admin)))
    writer.start()
    writer.join(timeout=0.3)
    assert writer.is_alive() and not answers  # still waiting its turn
    fcntl.flock(sqlite_writers_lock, fcntl.LOCK_UN)
    writer.join(timeout=5)
    assert answers[0].status_code == 200
    assert client.get(URL, headers=admin).json["name"] == "Next"


@pytest.mark.parametrize("store", ["sqlite"])
def test_a_writer_queued_past_the_timeout_gets_503_and_writes_nothing(client, admin, sqlite_writers_lock):
    assert_error(client.put(URL, json={"name": "Too late"}, headers=admin), 503, "SERVICE_UNAVAILABLE")
    assert client.get(URL, headers=admin).json["name"] == "Corporate LDAP"


def test_an_in_memory_sqlite_store_has_no_writers_queue():
    """``sqlite://`` belongs to one process, so its writes queue on nothing: they simply work."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "JIM_ENCRYPTION_KEYS": [TEST_ENCRYPTION_KEY],
                      "JIM_RATE_LIMIT_ENABLED": False})
    with app.app_context():
        build_schema()
        key = make_key(app, Role.ADMINISTRATOR)
        client = app.test_client()
        created = client.post(SYSTEMS, json={"name": "In memory", "connectorDefinitionId": 3},
                              headers={"X-Api-Key": key})
        assert created.status_code == 201
        renamed = client.put(f"{SYSTEMS}/{created.json['id']}", json={"name": "Still in memory"},
                             headers={"X-Api-Key": key})
        assert renamed.status_code == 200 and renamed.json["name"] == "Still in memory"
        db.engine.dispose()


@pytest.fixture
def value_row_held(app, ldap_system):
    """Another writer holds the row of system 1's Port value: a write's statements are sent in one pipeline
    after the system's own lock is taken, so this is where a PUT of the Port waits."""
    with app.app_context(), db.engine.connect() as other:
        other.execute(text("SELECT 1 FROM connected_system_setting_values WHERE connected_system_id = 1"
                           " AND setting_id = 4 FOR UPDATE"))
        yield
        other.rollback()


# PostgreSQL's alone: SQLite has no row locks, its write lock is the whole store's, taken before the write reads.
@pytest.mark.parametrize("store", ["postgresql"])
def test_a_write_that_fails_in_its_pipeline_answers_503_and_writes_nothing(client, admin, value_row_held):
    before = client.get(URL, headers=admin).json
    body = {"name": "Renamed", "settingValues": {"4": {"intValue": 636}}}
    # The UPDATE of the system goes through; the upsert of the Port waits past the lock timeout.
    assert_error(client.put(URL, json=body, headers=admin), 503, "SERVICE_UNAVAILABLE")
    assert client.get(URL, headers=admin).json == before
    history = client.get(f"{URL}/history", headers=admin).json
    assert [record["action"] for record in history["items"]] == ["Created"]
    # The connection is usable again: the next write, of something else, goes through.
    assert client.put(URL, json={"name": "Renamed"}, headers=admin).json["name"] == "Renamed"
