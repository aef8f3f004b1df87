"""Operator commands: init-db and api-key create, list and revoke, as an operator runs them."""
import hashlib
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from conftest import SYSTEMS, empty_store
from connectors import CONNECTORS
from database import db
from envelope import assert_error
from leaks import shows
from models import ApiKey, ConnectorDefinition, ConnectorSetting, connected_systems_table, utcnow

KEY = re.compile(r"jim_[A-Za-z0-9_-]{43,}")
CATALOG = {"ConnectorDefinition": len(CONNECTORS),
           "ConnectorSetting": sum(len(connector.settings) for connector in CONNECTORS.values())}


def run(runner, *args):
    result = runner.invoke(args=list(args))
    assert result.exit_code == 0, result.output
    return result.output


def counts(app) -> dict:
    with app.app_context():
        return {name: db.session.scalar(select(func.count()).select_from(table)) for name, table in (
            ("ConnectorDefinition", ConnectorDefinition), ("ConnectorSetting", ConnectorSetting),
            ("ConnectedSystem", connected_systems_table), ("ApiKey", ApiKey))}


# --- init-db ----------------------------------------------------------------------------------------------

def test_init_db_twice_is_safe(app, runner, client, admin, ldap_system):
    before = counts(app)
    assert (before["ConnectorDefinition"], before["ConnectorSetting"]) == (4, CATALOG["ConnectorSetting"])
    definitions = client.get("/api/v1/synchronisation/connector-definitions", headers=admin).json
    for _ in range(2):
        assert "Database ready" in run(runner, "init-db")
    assert counts(app) == before
    assert client.get("/api/v1/synchronisation/connector-definitions", headers=admin).json == definitions
    assert client.get(f"{SYSTEMS}/1", headers=admin).json == ldap_system


def test_init_db_on_an_empty_store(app, runner):
    with app.app_context():
        empty_store()
    run(runner, "init-db")
    assert counts(app) == {**CATALOG, "ConnectedSystem": 0, "ApiKey": 0}


def test_init_db_with_example_creates_one_system_once(app, runner, client, admin):
    output = run(runner, "init-db", "--with-example")
    assert "Created example connected system 1" in output
    assert "Created example" not in run(runner, "init-db", "--with-example")
    systems = client.get(SYSTEMS, headers=admin).json
    assert systems["totalCount"] == 1
    assert (systems["items"][0]["name"], systems["items"][0]["connectorId"]) == ("Corporate LDAP", 3)


def test_init_db_with_example_leaves_a_store_that_has_systems(runner, client, admin):
    client.post(SYSTEMS, json={"name": "Mine", "connectorDefinitionId": 1}, headers=admin)
    assert "Created example" not in run(runner, "init-db", "--with-example")
    assert [item["name"] for item in client.get(SYSTEMS, headers=admin).json["items"]] == ["Mine"]


# --- api-key create ---------------------------------------------------------------------------------------

def stored_keys(app):
    with app.app_context():
        with db.engine.connect() as connection:
            return [dict(row._mapping) for row in connection.execute(text("SELECT * FROM api_keys ORDER BY id"))]


@pytest.mark.parametrize("role", ["Administrator", "Reader", "administrator", "READER"])
def test_create_prints_the_key_alone_on_the_last_line(app, runner, role):
    output = run(runner, "api-key", "create", "--name", "deploy bot", "--role", role)
    key = output.rstrip("\n").splitlines()[-1]
    assert KEY.fullmatch(key), output
    assert len(key) - len("jim_") >= 43
    assert output.count(key) == 1  # shown once, nowhere else in the output
    (row,) = stored_keys(app)
    assert row["key_hash"] == hashlib.sha256(key.encode()).hexdigest()
    assert row["prefix"] == key[:12] and len(row["prefix"]) == 12
    assert row["name"] == "deploy bot" and row["role"] == role.capitalize()
    assert row["expires_at"] is None and row["revoked_at"] is None
    assert not any(shows(str(value), key[12:]) for value in row.values())  # the prefix is stored


def test_created_keys_work_with_their_role(runner, client, ldap_system):
    admin_key = run(runner, "api-key", "create", "--name", "a", "--role", "Administrator").splitlines()[-1]
    reader_key = run(runner, "api-key", "create", "--name", "r", "--role", "Reader").splitlines()[-1]
    assert admin_key != reader_key
    assert client.put(f"{SYSTEMS}/1", json={"name": "Renamed"}, headers={"X-Api-Key": admin_key}).status_code == 200
    assert client.get(f"{SYSTEMS}/1", headers={"X-Api-Key": reader_key}).json["name"] == "Renamed"
    assert_error(client.delete(f"{SYSTEMS}/1", headers={"X-Api-Key": reader_key}), 403, "FORBIDDEN")


def test_longest_name(app, runner):
    run(runner, "api-key", "create", "--name", "x" * 200, "--role", "Reader")
    assert [row["name"] for row in stored_keys(app)] == ["x" * 200]


def test_every_key_is_new(runner):
    keys = {run(runner, "api-key", "create", "--name", f"k{n}", "--role", "Reader").splitlines()[-1] for n in range(5)}
    assert len(keys) == 5 and len({key[:12] for key in keys}) == 5


@pytest.mark.parametrize("days", [1, 30, 3650])
def test_create_with_expiry(app, runner, client, days):
    key = run(runner, "api-key", "create", "--name", "temp", "--role", "Reader", "--expires-in-days", str(days))
    key = key.splitlines()[-1]
    (row,) = stored_keys(app)
    with app.app_context():
        expires_at = db.session.scalar(select(ApiKey.expires_at))
    assert abs(expires_at - (utcnow() + timedelta(days=days))) < timedelta(minutes=1)
    assert row["expires_at"] is not None
    assert client.get(SYSTEMS, headers={"X-Api-Key": key}).status_code == 200


@pytest.mark.parametrize(
    "args",
    [
        ["--name", "x", "--role", "Owner"],
        ["--name", "x"],
        ["--role", "Reader"],
        ["--name", "x", "--role", "Reader", "--expires-in-days", "0"],
        ["--name", "x", "--role", "Reader", "--expires-in-days", "-1"],
        ["--name", "x", "--role", "Reader", "--expires-in-days", "3651"],
        ["--name", "x", "--role", "Reader", "--expires-in-days", "soon"],
        ["--name", "", "--role", "Reader"],
        ["--name", "   ", "--role", "Reader"],
        ["--name", "x" * 201, "--role", "Reader"],
    ],
)
def test_create_refuses(app, runner, args):
    result = runner.invoke(args=["api-key", "create", *args])
    assert result.exit_code != 0
    assert not KEY.search(result.output)
    assert stored_keys(app) == []


# --- api-key list and revoke ------------------------------------------------------------------------------

@pytest.fixture
def three_keys(runner):
    return [
        run(runner, "api-key", "create", "--name", name, "--role", role).splitlines()[-1]
        for name, role in (("first", "Administrator"), ("second", "Reader"), ("third", "Reader"))
    ]


def test_list_shows_prefixes_and_never_keys(runner, three_keys):
    run(runner, "api-key", "revoke", "2")
    lines = run(runner, "api-key", "list").splitlines()
    assert len(lines) == 3
    for line, key, name, role, status in zip(
        lines, three_keys, ("first", "second", "third"), ("Administrator", "Reader", "Reader"),
        ("active", "revoked", "active"),
    ):
        assert key[:12] in line and not shows(line, key[12:])
        assert name in line and role in line and status in line


@pytest.mark.parametrize("how", ["id", "prefix", "prefix..."])
def test_revoke(app, runner, client, three_keys, how):
    revoked = three_keys[1]
    name = {"id": "2", "prefix": revoked[:12], "prefix...": revoked[:12] + "..."}[how]
    assert client.get(SYSTEMS, headers={"X-Api-Key": revoked}).status_code == 200
    assert "Revoked API key 2" in run(runner, "api-key", "revoke", name)
    assert_error(client.get(SYSTEMS, headers={"X-Api-Key": revoked}), 401, "UNAUTHORISED")
    for key in (three_keys[0], three_keys[2]):
        assert client.get(SYSTEMS, headers={"X-Api-Key": key}).status_code == 200
    run(runner, "api-key", "revoke", name)  # again: still revoked, no error
    assert_error(client.get(SYSTEMS, headers={"X-Api-Key": revoked}), 401, "UNAUTHORISED")


@pytest.mark.parametrize("name", ["99", "jim_nothing1", "", "2147483648", "9223372036854775808", "99999999999999999999999", "0",
                                  "²"])
def test_revoke_names_no_key(app, runner, client, three_keys, name):
    result = runner.invoke(args=["api-key", "revoke", name])
    assert result.exit_code != 0
    assert "No keys match" in result.output
    assert all(client.get(SYSTEMS, headers={"X-Api-Key": key}).status_code == 200 for key in three_keys)
