"""StringEncrypted values: stored encrypted, and never shown in a response, a log line or the raw store."""
import json
import logging
import pickle
import stat
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
import sqlite_utils
from cryptography.fernet import Fernet
from sqlalchemy import event, inspect, select, text
from sqlalchemy.exc import StatementError

from app import create_app
from conftest import SYSTEMS, TEST_ENCRYPTION_KEY
from database import db
from edge.log_format import JSONFormatter
from encryption import KEY_FILE, EncryptionKeyError, Secret
from leaks import shows, shows_in_bytes
from models import setting_values_table
from servers import gunicorn

# Each connector's secret setting: LDAP's password, SQL's password, SCIM's bearer token.
SECRET_SETTINGS = [pytest.param(3, "3", id="ldap"), pytest.param(2, "206", id="sql"), pytest.param(4, "303", id="scim")]
SECRET = "s3cur3p@ssw0rd-Ω-7f3a9c"  # not only ASCII: a JSON answer would show it escaped


OTHER_SECRET = "another-Secret-Value-42"


def create_system(client, admin, connector, name="Secretive"):
    response = client.post(SYSTEMS, json={"name": name, "connectorDefinitionId": connector}, headers=admin)
    assert response.status_code == 201
    return response.json["id"]


def every_answer_about_a_secret(client, admin, system_id, setting, secret):
    """Every request that carries or could show the secret, good and bad; yields (what, response)."""
    path = f"{SYSTEMS}/{system_id}"
    value = {setting: {"stringValue": secret}}
    yield "put", client.put(path, json={"settingValues": value}, headers=admin)
    yield "put-again", client.put(path, json={"settingValues": value, "description": "same"}, headers=admin)
    yield "get", client.get(path, headers=admin)
    yield "list", client.get(SYSTEMS, headers=admin)
    yield "validate", client.post(f"{path}/validate-settings", headers=admin)
    bad_bodies = {
        "with-invalid-field": {"settingValues": value, "maxExportParallelism": 17, "name": ""},
        "with-unknown-setting": {"settingValues": {**value, "999": {"stringValue": "x"}}},
        "with-extra-key": {"settingValues": {setting: {"stringValue": secret, "intValue": 1}}},
        "wrong-key": {"settingValues": {setting: {"intValue": secret}}},
        "too-long": {"settingValues": {setting: {"stringValue": secret * 400}}},
        "with-nul": {"settingValues": {setting: {"stringValue": secret + "\x00"}}},
        "with-line-break": {"settingValues": {setting: {"stringValue": secret + "\n"}}},
    }
    for what, body in bad_bodies.items():
        yield what, client.put(path, json=body, headers=admin)
    raw = json.dumps({"settingValues": value})
    yield "not-json", client.put(path, data=raw[:-3] + ",,}", headers=admin)
    yield "duplicate-key", client.put(path, data=raw[:-1] + f', "settingValues": {json.dumps(value)}}}', headers=admin)
    yield "text-plain", client.put(path, data=raw, headers={**admin, "Content-Type": "text/plain"})
    yield "unknown-key", client.put(path, data=raw, headers={**admin, "X-Api-Key": "jim_" + "A" * 43})
    yield "create", client.post(SYSTEMS, json={"name": "x", "connectorDefinitionId": 3, "settingValues": value},
                                headers=admin)


@pytest.mark.parametrize("connector, setting", SECRET_SETTINGS)
def test_secret_is_in_no_answer_and_no_log(client, admin, caplog, connector, setting):
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="sqlalchemy")  # an operator debugging the store: statements and rows
    system_id = create_system(client, admin, connector)
    statuses = {}
    for what, response in every_answer_about_a_secret(client, admin, system_id, setting, SECRET):
        statuses[what] = response.status_code
        assert not shows(response.get_data(as_text=True), SECRET), what
    assert statuses["put"] == statuses["get"] == statuses["validate"] == 200
    assert {code for what, code in statuses.items() if what not in ("put", "put-again", "get", "list", "validate")} <= {
        400, 401, 413, 415}
    shown = client.get(f"{SYSTEMS}/{system_id}", headers=admin).json["settingValues"][setting]
    assert shown == {"name": shown["name"], "type": "StringEncrypted", "hasValue": True}
    assert caplog.records, "nothing was logged, so the check below proves nothing"
    assert "connected_system_setting_values" in caplog.text  # the writes were logged
    # As the handlers write the records: plain, and as the JSON lines of stdout (which escape non-ASCII).
    logged = caplog.text + "\n".join(JSONFormatter().format(record) for record in caplog.records)
    assert not shows(logged, SECRET)


@pytest.mark.parametrize("connector, setting", SECRET_SETTINGS)
def test_an_empty_secret_clears_the_setting(client, admin, connector, setting):
    system_id = create_system(client, admin, connector)
    path = f"{SYSTEMS}/{system_id}"
    stored = client.put(path, json={"settingValues": {setting: {"stringValue": SECRET}}}, headers=admin)
    assert stored.status_code == 200
    answer = client.put(path, json={"settingValues": {setting: {"stringValue": ""}}}, headers=admin)
    assert answer.status_code == 200
    assert answer.json["settingValues"][setting]["hasValue"] is False
    assert client.get(path, headers=admin).json["settingValues"][setting]["hasValue"] is False
    checked = client.post(f"{path}/validate-settings", headers=admin)
    assert checked.status_code == 200
    assert f"settingValues.{setting}" in checked.json["validationErrors"], checked.json


def raw_rows(app):
    """Every value of every table as the database holds it, read without the models' types."""
    with app.app_context():
        with db.engine.connect() as connection:
            for table in inspect(connection).get_table_names():
                for row in connection.execute(text(f'SELECT * FROM "{table}"')):
                    yield table, row


def stored_token(app, system_id, setting):
    with app.app_context():
        with db.engine.connect() as connection:
            return connection.execute(
                text("SELECT secret_value FROM connected_system_setting_values"
                     " WHERE connected_system_id = :system AND setting_id = :setting"),
                {"system": system_id, "setting": int(setting)},
            ).scalar_one()


@pytest.mark.parametrize("connector, setting", SECRET_SETTINGS)
def test_secret_is_stored_encrypted(app, client, admin, connector, setting):
    system_id = create_system(client, admin, connector)
    for secret in (OTHER_SECRET, SECRET):  # the second replaces the first
        assert client.put(f"{SYSTEMS}/{system_id}", json={"settingValues": {setting: {"stringValue": secret}}},
                          headers=admin).status_code == 200
    token = stored_token(app, system_id, setting)
    assert Fernet(TEST_ENCRYPTION_KEY).decrypt(token.encode()).decode() == SECRET
    rows = list(raw_rows(app))
    assert any(token in map(str, row) for _, row in rows)
    for table, row in rows:
        for value in row:
            for secret in (SECRET, OTHER_SECRET):
                if isinstance(value, bytes):
                    assert not shows_in_bytes(value, secret), table
                else:
                    assert not shows(str(value), secret), table


@pytest.mark.parametrize("store", ["sqlite"])  # the raw file is SQLite's
def test_secret_is_not_in_the_sqlite_files(app, client, admin, database_url):
    for connector, setting in ((3, "3"), (2, "206"), (4, "303")):
        system_id = create_system(client, admin, connector, f"System {connector}")
        for secret in (OTHER_SECRET, SECRET):
            client.put(f"{SYSTEMS}/{system_id}", json={"settingValues": {setting: {"stringValue": secret}}},
                       headers=admin)
    path = Path(database_url.removeprefix("sqlite:///"))
    tables = sqlite_utils.Database(path)
    scanned = 0
    for table in tables.table_names():
        for row in tables[table].rows:
            for column, value in row.items():
                scanned += 1
                assert not shows(str(value), SECRET) and not shows(str(value), OTHER_SECRET), (table, column)
    assert scanned > 0
    tables.close()
    files = [file for file in path.parent.iterdir() if file.name.startswith(path.name)]
    assert path in files
    for file in files:  # jim.db, jim.db-wal, jim.db-shm: whatever SQLite wrote
        content = file.read_bytes()
        for secret in (SECRET, OTHER_SECRET):
            assert not shows_in_bytes(content, secret), file.name


def test_secret_is_in_no_change_record(client, admin, ldap_system):
    answer = client.put(f"{SYSTEMS}/1", json={"settingValues": {"3": {"stringValue": SECRET}}, "description": "x"},
                        headers=admin)
    assert answer.status_code == 200
    history = client.get(f"{SYSTEMS}/1/history", headers=admin)
    changes = {change["field"]: change for change in history.json["items"][0]["changes"]}
    assert set(changes) == {"settingValues.3", "description"}
    assert changes["settingValues.3"]["oldValue"] is None and changes["settingValues.3"]["newValue"] is None
    assert not shows(history.get_data(as_text=True), SECRET)


def test_secret_hides_itself(app):
    with app.app_context():
        secret = Secret.seal(SECRET)
        assert secret.reveal() == SECRET
        for shown in (repr(secret), str(secret), f"{secret}", f"{secret!r}", str([secret]), str({"v": secret})):
            assert not shows(shown, SECRET)
            assert not shows(shown, secret.token)
        # Everything it holds, written out whole (a cache, a crash dump), is ciphertext, even once revealed.
        written = pickle.dumps(secret)
        assert not shows_in_bytes(written, SECRET)
        assert pickle.loads(written).reveal() == SECRET


@pytest.mark.parametrize("value", [SECRET, b"bytes", 42])
def test_encrypted_column_refuses_what_is_not_sealed(app, client, admin, ldap_system, value):
    with app.app_context():
        with pytest.raises(StatementError) as refused:
            db.session.execute(setting_values_table.insert(), {
                "connected_system_id": 1, "setting_id": 3, "secret_value": value})
        assert isinstance(refused.value.orig, TypeError)
        assert not shows(str(refused.value), SECRET)
        db.session.rollback()
    assert client.get(f"{SYSTEMS}/1", headers=admin).json["settingValues"]["3"]["hasValue"] is False
    assert not any(shows(str(row), SECRET) for _, row in raw_rows(app))


# --- the key ----------------------------------------------------------------------------------------------

@pytest.fixture
def no_key_in_environment(monkeypatch):
    monkeypatch.delenv("JIM_ENCRYPTION_KEY", raising=False)


def keyless_sqlite_app(tmp_path):
    instance = tmp_path / "instance"
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'jim.db'}"},
                     instance_path=str(instance))
    with app.app_context():
        db.create_all()
    return app


def test_sqlite_without_a_key_generates_one_in_the_instance_folder(no_key_in_environment, tmp_path):
    first = keyless_sqlite_app(tmp_path)
    key_file = tmp_path / "instance" / KEY_FILE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    key = key_file.read_text().strip()
    Fernet(key)  # a usable key
    assert [file.name for file in key_file.parent.iterdir()] == [KEY_FILE]  # no candidate left behind
    with first.app_context():
        sealed = Secret.seal(SECRET)
        assert Fernet(key).decrypt(sealed.token.encode()).decode() == SECRET
        db.engine.dispose()

    second = keyless_sqlite_app(tmp_path)  # a restart reuses the key, so what was sealed stays readable
    assert key_file.read_text().strip() == key
    with second.app_context():
        assert sealed.reveal() == SECRET
        db.engine.dispose()


def test_postgresql_without_a_key_refuses_to_start(no_key_in_environment, postgres_url, tmp_path):
    url = postgres_url.replace("postgresql://", "postgresql+psycopg://", 1)
    with pytest.raises(EncryptionKeyError) as refused:
        create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url}, instance_path=str(tmp_path))
    message = str(refused.value)
    assert "JIM_ENCRYPTION_KEY" in message and "Fernet.generate_key()" in message
    assert not (tmp_path / KEY_FILE).exists()


@pytest.mark.parametrize("keys", [["not-a-fernet-key-but-secret"], [TEST_ENCRYPTION_KEY, "not-a-fernet-key-but-secret"]])
def test_a_key_that_is_not_a_fernet_key_refuses_to_start(app_config, keys):
    with pytest.raises(EncryptionKeyError) as refused:
        create_app({**app_config, "JIM_ENCRYPTION_KEYS": keys})
    assert not shows(str(refused.value), "not-a-fernet-key-but-secret")
    assert "Fernet.generate_key()" in str(refused.value)


# --- a real server ----------------------------------------------------------------------------------------

def request(base, method, path, key, body=None):
    data = None if body is None else json.dumps(body).encode()
    call = urllib.request.Request(f"{base}{path}", data=data, method=method,
                                  headers={"X-Api-Key": key, "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(call, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


# Not a secret: the request log writes a request's path, so this one, sent as a path, must be seen in the output
# (escaped, since it is not ASCII). It proves that the check for SECRET can see a secret there.
SEEN_IN_THE_LOG = "kanärienvogel-Ω-path-1c4e"


@pytest.mark.slow
def test_secret_is_not_in_gunicorns_output(app, database_url, admin_key, ldap_system, tmp_path):
    log = tmp_path / "gunicorn.log"
    path = "/api/v1/synchronisation/connected-systems/1"
    value = {"settingValues": {"3": {"stringValue": SECRET}}}
    with gunicorn(database_url.replace("+psycopg", ""), TEST_ENCRYPTION_KEY, "--workers", "2",
                  env={"JIM_LOG_LEVEL": "DEBUG"}, log_path=log) as base:
        answers = [
            request(base, "GET", f"/api/v1/{urllib.parse.quote(SEEN_IN_THE_LOG)}", admin_key),
            request(base, "PUT", path, admin_key, value),
            request(base, "GET", path, admin_key),
            request(base, "POST", f"{path}/validate-settings", admin_key),
            request(base, "PUT", path, admin_key, {**value, "maxExportParallelism": 0}),
            request(base, "PUT", path, admin_key, {"settingValues": {"3": {"stringValue": SECRET + "\x00"}}}),
            request(base, "PUT", "/api/v1/synchronisation/connected-systems/2", admin_key, value),
        ]
    assert [status for status, _ in answers] == [404, 200, 200, 200, 400, 400, 404]
    assert not any(shows(body, SECRET) for _, body in answers)
    output = log.read_text()
    assert SEEN_IN_THE_LOG not in output and shows(output, SEEN_IN_THE_LOG)  # escaped, and seen all the same
    logged = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    assert any(  # the request log was really written
        entry.get("method") == "PUT" and entry.get("path") == "/api/v1/synchronisation/connected-systems/1"
        for entry in logged
    )
    assert not shows(output, SECRET)
    if database_url.startswith("sqlite"):
        database = Path(database_url.removeprefix("sqlite:///"))
        for file in database.parent.glob(database.name + "*"):
            assert not shows_in_bytes(file.read_bytes(), SECRET), file.name
    assert Fernet(TEST_ENCRYPTION_KEY).decrypt(stored_token(app, 1, "3").encode()).decode() == SECRET


def test_a_secret_reaches_the_database_only_sealed(app, client, admin, ldap_system):
    """No SQL statement or parameter ever holds the plaintext: it is sealed before anything is sent."""
    passwords = ("s3cur3p@ssw0rd", "n3wp@ss")
    sent = []

    def capture(connection, cursor, statement, parameters, context, executemany):
        sent.append(f"{statement} {parameters!r}")

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", capture)
    try:
        for password in (*passwords, passwords[-1]):  # set, change, send again
            answer = client.put(f"{SYSTEMS}/1", json={"settingValues": {"3": {"stringValue": password}}}, headers=admin)
            assert answer.status_code == 200
            assert answer.json["settingValues"]["3"]["hasValue"] is True
    finally:
        event.remove(engine, "before_cursor_execute", capture)

    assert any("connected_system_setting_values" in statement for statement in sent)
    assert not [statement for statement in sent for password in passwords if shows(statement, password)]
    with app.app_context():
        stored = db.session.scalar(
            select(setting_values_table.c.secret_value).where(setting_values_table.c.setting_id == 3))
        assert stored.reveal() == passwords[-1]
