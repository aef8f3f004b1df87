"""Imports from systems that misbehave on purpose, through the API: the tests' own LDAP peer (tests/hostile_ldap.py)
answering the bind and then odd data, garbage, a stream that never ends or a byte at a time, a SCIM provider that
drips its headers, and a PostgreSQL query held on a lock.

What a user must see: a 400 or 502 in the contract's envelope, in time, the failure recorded; and behind it, the
service's own: no thread left reading, the worker's memory back where it was.
"""
import logging
import select
import socket
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest

from conftest import SYSTEMS, TEST_ENCRYPTION_KEY
from connectors import ldap, scim, sql
from connectors.interface import MAX_IMPORT_BYTES
from connectors.ldap.connection import MAX_MESSAGE_BYTES
from envelope import assert_error
from hostile_ldap import NAMING_CONTEXT, directory_of, done, entry, hostile_directory
from importing import failed, import_schema, new_system
from leaks import shows
from loopback import call
from servers import gunicorn_server
from sql_servers import POSTGRES, postgres_database

PASSWORD = "Hostile-peer-pa55word"
ACCOUNT = f"cn=admin,{NAMING_CONTEXT}"


def ldap_system(client, admin, url: str, timeout: int = 10) -> int:
    return new_system(client, admin, ldap.CONNECTOR.id, {ldap.HOST.id: url, ldap.USERNAME.id: ACCOUNT,
                                                         ldap.PASSWORD.id: PASSWORD,
                                                         ldap.CONNECTION_TIMEOUT.id: timeout})


def connector_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == "connector" and thread.is_alive()]


def resident_bytes(pid: int) -> int:
    """A process's resident memory, as the kernel counts it."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmRSS in /proc/{pid}/status")


def thread_count(pid: int) -> int:
    return len(list(Path(f"/proc/{pid}/task").iterdir()))


def settles(condition, seconds: float = 2) -> bool:
    """Whether ``condition`` holds within ``seconds``: a thread Python has joined leaves the kernel's list a
    moment later."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def containers(*answers):
    """A subtree search answered with ``answers(message_id)``, then done."""
    def answer(message_id):
        for make in answers:
            yield make(message_id)
        yield done(message_id)
    return directory_of(answer)


def container(dn, **attributes):
    return lambda message_id: entry(message_id, dn, attributes)


# Odd data: each a 400 that says what was wrong, recorded as a failed import, nothing written.

GUID = "f81d4fae-7dec-11d0-a765-00a0c91e6bf7"


@pytest.mark.parametrize("script, message", [
    (containers(container(f"ou=Sales,,{NAMING_CONTEXT}", entryUUID=[GUID])),
     f"The directory answered a DN that is not one (RFC 4514): ou=Sales,,{NAMING_CONTEXT}."),
    (containers(container(f"ou=\\ff\\fe,{NAMING_CONTEXT}", entryUUID=[GUID])),
     f"The directory answered a DN that is not one (RFC 4514): ou=\\ff\\fe,{NAMING_CONTEXT}."),
    (containers(container(f"ou=Sales,{NAMING_CONTEXT}", objectGUID=[b"\x01\x02\x03"])),
     f"The directory answered an objectGUID of 3 bytes for ou=Sales,{NAMING_CONTEXT}; a GUID has 16."),
    (containers(container(f"ou=Sales,{NAMING_CONTEXT}", entryUUID=[GUID], description=[b"caf\xe9"])),
     f"The directory answered a value of description of ou=Sales,{NAMING_CONTEXT} that is not UTF-8 text."),
    (containers(container(f"ou=Sales,{NAMING_CONTEXT}", entryUUID=[b"\xff" * 36])),
     f"The directory answered a value of entryUUID of ou=Sales,{NAMING_CONTEXT} that is not UTF-8 text."),
], ids=["dn-that-does-not-parse", "dn-of-bytes-that-are-not-utf8", "guid-of-3-bytes", "description-not-utf8",
        "entry-uuid-not-utf8"])
def test_odd_directory_data_is_a_400_recorded_as_a_failed_import(client, admin, script, message):
    with hostile_directory(script) as peer:
        system_id = ldap_system(client, admin, peer.url)
        assert failed(client, admin, system_id, 400, "import-hierarchy") == message


SCHEMA_CONTEXT = f"CN=Schema,CN=Configuration,{NAMING_CONTEXT}"


def subschema_ldap3_cannot_parse(search):
    if search.base == "":
        yield entry(search.message_id, "", {"subschemaSubentry": ["cn=Subschema"]})
    else:  # an object class whose definition never ends
        yield entry(search.message_id, "cn=Subschema", {"objectClasses": [f"( 2.5.6.0 NAME 'top' MUST {PASSWORD} ("],
                                                        "attributeTypes": ["( 2.5.4.0 NAME 'objectClass' )"]})
    yield done(search.message_id)


def active_directory_with_a_flag_that_is_not_a_number(search):
    """Active Directory by its capabilities, whose one attribute's systemFlags holds the password."""
    if search.base == "":
        yield entry(search.message_id, "", {"supportedCapabilities": ["1.2.840.113556.1.4.800"],
                                            "schemaNamingContext": [SCHEMA_CONTEXT]})
    else:  # both searches of the schema (classSchema, then attributeSchema) answered alike
        yield entry(search.message_id, f"CN=User,{SCHEMA_CONTEXT}", {
            "lDAPDisplayName": ["user"], "governsID": ["1.2.840.113556.1.5.9"], "objectClassCategory": ["1"],
            "defaultHidingValue": ["FALSE"], "mayContain": ["notes"]})
        yield entry(search.message_id, f"CN=Notes,{SCHEMA_CONTEXT}", {
            "lDAPDisplayName": ["notes"], "attributeSyntax": ["2.5.5.12"], "systemFlags": [PASSWORD]})
    yield done(search.message_id)


@pytest.mark.parametrize("script, said", [
    (subschema_ldap3_cannot_parse, "LDAPSchemaError: malformed schema definition"),
    (active_directory_with_a_flag_that_is_not_a_number, "ValueError: invalid literal for int() with base 10: '**"),
], ids=["a-subschema-ldap3-cannot-parse", "an-ad-flag-holding-the-password"])
def test_an_answer_no_code_foresaw_is_a_502_without_the_password(client, admin, caplog, script, said):
    """What the connector did not foresee (ldap3 choking on a schema, a flag that is not a number) is a 502 that
    says briefly what, recorded like any other failure, never a 500; what it quotes is scrubbed of the password,
    as the traceback in the log is."""
    caplog.set_level(logging.DEBUG)
    with hostile_directory(script) as peer:
        system_id = ldap_system(client, admin, peer.url)
        message = failed(client, admin, system_id, 502)
    assert message.startswith(f"The connector could not make sense of what the connected system answered ({said}")
    assert message.endswith("); the service's log has the details.")
    assert "Traceback" in caplog.text
    assert not shows(message, PASSWORD) and not shows(caplog.text, PASSWORD)


# Garbage, and answers without end: stopped by their size.

def test_a_message_longer_than_any_directory_sends_is_refused_unread(client, admin):
    def script(search):
        yield b"\x30\x84\x7f\xff\xff\xff" + b"\x00" * 1024  # an LDAPMessage of 2 GiB, by its header

    with hostile_directory(script) as peer:
        system_id = ldap_system(client, admin, peer.url)
        started = time.monotonic()
        message = failed(client, admin, system_id, 400)
    assert time.monotonic() - started < 2
    assert message == (f"The directory sent an LDAP message longer than {MAX_MESSAGE_BYTES // 2**20} MiB, the "
                       f"longest this service reads; it was not read.")
    assert connector_threads() == []


def test_garbage_after_the_bind_is_a_502(client, admin):
    with hostile_directory(lambda search: [bytes(range(256)) * 4]) as peer:
        system_id = ldap_system(client, admin, peer.url)
        message = failed(client, admin, system_id, 502)
    assert message == f"{peer.url} answered, but not in LDAP: is a directory listening on that port?"


@pytest.mark.slow
def test_an_endless_search_is_stopped_at_the_import_limit_and_its_memory_given_back(client, admin, database_url):
    """Measured in a real gunicorn worker, the process that serves imports: the test process's own memory
    depends on every test that ran before it in the session."""
    def endless(message_id):
        # Entries of some 2 KB: ldap3 decodes 64 MiB of them in seconds (of 300-byte ones, in 15 s).
        block = b"".join(entry(message_id, f"ou=Unit {number},{NAMING_CONTEXT}",
                               {"entryUUID": [GUID], "description": ["x" * 2000]}) for number in range(100))
        while True:
            yield block

    key = admin["X-Api-Key"]
    with hostile_directory(directory_of(endless)) as peer, hostile_directory(containers()) as empty, \
            gunicorn_server(database_url, TEST_ENCRYPTION_KEY, "--workers", "1") as server:
        system_id, warm_up = ldap_system(client, admin, peer.url), ldap_system(client, admin, empty.url)
        assert client.post(f"{SYSTEMS}/{system_id}/validate-settings", headers=admin).json["valid"] is True
        # ldap3 loaded, and its code run, in the worker before the count
        assert call(server.base, "POST", f"{SYSTEMS}/{warm_up}/import-hierarchy", key).status == 200
        (worker,) = server.worker_pids()
        before, threads_before, after = resident_bytes(worker), thread_count(worker), []
        for _ in range(2):
            started = time.monotonic()
            answer = call(server.base, "POST", f"{SYSTEMS}/{system_id}/import-hierarchy", key)
            assert time.monotonic() - started < 15
            after.append(resident_bytes(worker))
        assert peer.hung_up.wait(5), "the peer was never left"
        assert settles(lambda: thread_count(worker) == threads_before), "a connector's thread is still reading"
    assert (answer.status, answer.json["message"]) == (400, (
        f"The connected system answered more than {MAX_IMPORT_BYTES // 2**20} MiB, the most one import reads; "
        f"nothing was imported."))
    assert client.get(f"{SYSTEMS}/{system_id}", headers=admin).json["settingValuesValid"] is False
    grown = (max(after) - before) / 2**20
    assert grown < 16, f"{grown:.1f} MiB more after the imports"


def import_hierarchy_of(client, admin, system_id: int):
    answer = client.post(f"{SYSTEMS}/{system_id}/import-hierarchy", headers={"X-Api-Key": admin["X-Api-Key"]})
    assert answer.status_code == 200, answer.json


# A peer that drips: only the deadline stops it, and the cut ends the thread that was reading.

def assert_cut_in_time(answer, started: float, deadline: float, peer_left: threading.Event):
    waited = time.monotonic() - started
    assert deadline - 0.2 < waited < deadline + 1.5, waited
    assert connector_threads() == [], "a connector's thread is still reading"
    assert peer_left.wait(5), "the connection to the peer was never cut"


@pytest.mark.parametrize("path", ["import-schema", "import-hierarchy"])
def test_a_directory_that_drips_its_answer_is_cut_at_the_deadline(app, client, admin, path):
    app.config["JIM_CONNECTOR_TIMEOUT_SECONDS"] = 2
    # Each byte well within the Connection Timeout: no read ever times out.
    with hostile_directory(containers(container(f"ou=Sales,{NAMING_CONTEXT}", entryUUID=[GUID])),
                           drip_seconds=0.3) as peer:
        system_id = ldap_system(client, admin, peer.url, timeout=5)
        started = time.monotonic()
        message = failed(client, admin, system_id, 502, path)
        assert_cut_in_time(message, started, 2, peer.hung_up)
    assert message == "The connected system did not answer within the import's time limit of 2 seconds."


@contextmanager
def dripping_server(first: bytes, then: bytes, speaks_first: bool = False):
    """A server that answers each connection ``first`` once it has spoken (at once if the server ``speaks_first``,
    as MySQL's do), then ``then`` a byte every 0.3 s, over and over. Yields its port and an event set once a client
    has left it: its end of the connection shut (what the peer reads as the end) or reset. A shut connection is
    read as left at once; a write into it fails only once every descriptor of the client's is closed, whenever a
    collector gets to it."""
    listener = socket.create_server(("127.0.0.1", 0))
    left = threading.Event()

    def serve(connection: socket.socket):
        with connection:
            if not speaks_first:
                connection.recv(65536)
            try:
                connection.sendall(first)
                while True:
                    for at in range(len(then)):
                        connection.sendall(then[at:at + 1])
                        readable, _, _ = select.select([connection], [], [], 0.3)
                        if readable and not connection.recv(65536):
                            left.set()
                            return
            except OSError:
                left.set()

    def accept():
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=serve, args=(connection,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield listener.getsockname()[1], left
    finally:
        listener.close()


def test_a_directory_that_drips_its_tls_handshake_is_given_up_on_at_the_deadline(app, client, admin):
    """Python bounds a handshake as a whole by the socket's timeout, which the connect sets to at most what is
    left of the deadline: the thread ends with it."""
    app.config["JIM_CONNECTOR_TIMEOUT_SECONDS"] = 2
    # The start of a TLS record (a handshake of 16 KiB), whose bytes never stop coming.
    with dripping_server(b"", b"\x16\x03\x03\x40\x00" + b"\x02" * 64) as (port, left):
        system_id = ldap_system(client, admin, f"ldaps://127.0.0.1:{port}", timeout=5)
        started = time.monotonic()
        message = failed(client, admin, system_id, 502)
        assert_cut_in_time(message, started, 2, left)
    assert message == "The connected system did not answer within the import's time limit of 2 seconds."


def test_a_scim_provider_that_drips_its_headers_is_cut_at_the_deadline(app, client, admin):
    app.config["JIM_CONNECTOR_TIMEOUT_SECONDS"] = 2
    with dripping_server(b"HTTP/1.1 200 OK\r\n", b"X-Drip: 1\r\n") as (port, left):
        system_id = new_system(client, admin, scim.CONNECTOR.id, {
            scim.BASE_URL.id: f"http://127.0.0.1:{port}/scim/v2", scim.AUTHENTICATION_METHOD.id: "None",
            scim.CONNECTION_TIMEOUT.id: 5})
        started = time.monotonic()
        message = failed(client, admin, system_id, 502)
        assert_cut_in_time(message, started, 2, left)
    assert message == "The connected system did not answer within the import's time limit of 2 seconds."


def test_a_mysql_server_that_drips_its_greeting_is_cut_at_the_deadline(app, client, admin):
    """PyMySQL's timeouts bound each read of its login, not the login: a greeting of 16 MiB, a byte at a time."""
    app.config["JIM_CONNECTOR_TIMEOUT_SECONDS"] = 2
    with dripping_server(b"\xff\xff\xff\x00", b"\x0a", speaks_first=True) as (port, left):
        system_id = new_system(client, admin, sql.CONNECTOR.id, {
            sql.DATABASE_TYPE.id: "MySQL", sql.HOST.id: "127.0.0.1", sql.PORT.id: port, sql.DATABASE_NAME.id: "hr",
            sql.USERNAME.id: "jim", sql.PASSWORD.id: PASSWORD, sql.CONNECTION_TIMEOUT.id: 5})
        started = time.monotonic()
        message = failed(client, admin, system_id, 502)
        assert_cut_in_time(message, started, 2, left)
    assert message == "The connected system did not answer within the import's time limit of 2 seconds."


def test_a_postgres_query_held_past_the_deadline_is_cut(app, client, admin):
    """The server's statement_timeout is the Connection Timeout (30 s): the deadline, 2 s, is what ends it."""
    app.config["JIM_CONNECTOR_TIMEOUT_SECONDS"] = 2
    with postgres_database() as database, psycopg.connect(**POSTGRES, dbname=database) as locker:
        system_id = new_system(client, admin, sql.CONNECTOR.id, {
            sql.DATABASE_TYPE.id: "PostgreSQL", sql.HOST.id: POSTGRES["host"], sql.PORT.id: POSTGRES["port"],
            sql.DATABASE_NAME.id: database, sql.USERNAME.id: POSTGRES["user"], sql.PASSWORD.id: PASSWORD,
            sql.CONNECTION_TIMEOUT.id: 30})
        validated = client.post(f"{SYSTEMS}/{system_id}/validate-settings", headers=admin)
        assert validated.json["valid"] is True
        locker.execute("LOCK TABLE pg_catalog.pg_description IN ACCESS EXCLUSIVE MODE")
        started = time.monotonic()
        body = assert_error(import_schema(client, admin, system_id), 502, "BAD_GATEWAY")
        waited = time.monotonic() - started
        threads = connector_threads()
        locker.rollback()
    assert body["message"] == "The connected system did not answer within the import's time limit of 2 seconds."
    assert 1.8 < waited < 3.5
    assert threads == [], "the connector's thread is still waiting on PostgreSQL"
