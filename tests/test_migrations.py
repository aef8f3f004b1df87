"""Migrations: `flask db upgrade` on an empty store builds exactly the models' schema (`flask db check`
finds no drift), on SQLite and PostgreSQL; init-db builds on it and is safe to run again."""
import os
import subprocess

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from app import create_app
from conftest import POSTGRES_DATABASE, TEST_ENCRYPTION_KEY, postgres_admin
from database import db
from servers import PROJECT


@pytest.fixture
def empty_database_url(store, request, tmp_path):
    if store == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    server = request.getfixturevalue("postgres_url").rsplit("/", 1)[0]
    name = f"{POSTGRES_DATABASE}_migrations"
    with postgres_admin() as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        connection.execute(f"CREATE DATABASE {name}")
    yield f"{server}/{name}".replace("postgresql://", "postgresql+psycopg://", 1)
    with postgres_admin() as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def empty_app(empty_database_url):
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": empty_database_url,
            "JIM_ENCRYPTION_KEYS": [TEST_ENCRYPTION_KEY],
            "JIM_RATE_LIMIT_ENABLED": False,
        }
    )
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def flask(app, *args: str):
    """`flask --app app ARGS`; the real command line pushes an app context for every command, as here."""
    with app.app_context():
        return app.test_cli_runner().invoke(args=list(args))


def test_upgrade_builds_the_models_schema(empty_app):
    result = flask(empty_app, "db", "upgrade")
    assert result.exit_code == 0, result.output
    result = flask(empty_app, "db", "check")
    assert result.exit_code == 0, result.output
    with empty_app.app_context():
        tables = set(inspect(db.engine).get_table_names())
    assert {table.name for table in db.metadata.sorted_tables} | {"alembic_version"} == tables


def test_upgrade_and_downgrade_keep_ids_never_reused(empty_app, store):
    """On SQLite a table's ids are never reused only with AUTOINCREMENT, which a migration rebuilding the table
    in batch mode drops unless it says otherwise: every table the models mark so keeps it, up and down."""
    if store != "sqlite":
        pytest.skip("PostgreSQL's sequences never hand an id out twice")
    marked = {table.name for table in db.metadata.sorted_tables if table.kwargs.get("sqlite_autoincrement")}

    def autoincrementing() -> set[str]:
        with empty_app.app_context():
            return {name for name, sql in db.session.execute(text("SELECT name, sql FROM sqlite_master WHERE "
                                                                  "type = 'table'")) if "AUTOINCREMENT" in sql}

    assert flask(empty_app, "db", "upgrade").exit_code == 0
    assert autoincrementing() == marked
    with empty_app.app_context():
        head = ScriptDirectory.from_config(empty_app.extensions["migrate"].migrate.get_config()).get_current_head()
    for revision in range(int(head) - 1, 0, -1):
        assert flask(empty_app, "db", "downgrade", f"{revision:04}").exit_code == 0
        assert marked & set(inspect_tables(empty_app)) <= autoincrementing(), revision


def inspect_tables(app) -> list[str]:
    with app.app_context():
        return inspect(db.engine).get_table_names()


def test_check_sees_drift(empty_app):
    assert flask(empty_app, "db", "upgrade").exit_code == 0
    with empty_app.app_context():
        db.session.execute(text("DROP TABLE connected_system_setting_values"))
        db.session.commit()
    assert flask(empty_app, "db", "check").exit_code != 0


def test_init_db_upgrades_seeds_and_can_run_again(empty_app):
    for _ in range(2):
        result = flask(empty_app, "init-db", "--with-example")
        assert result.exit_code == 0, result.output
    assert flask(empty_app, "db", "check").exit_code == 0
    with empty_app.app_context():
        assert db.session.scalar(text("SELECT count(*) FROM connector_definitions")) == 4
        assert db.session.scalar(text("SELECT count(*) FROM connected_systems")) == 1
        current = db.session.scalar(text("SELECT version_num FROM alembic_version"))
        head = ScriptDirectory.from_config(empty_app.extensions["migrate"].migrate.get_config()).get_current_head()
    assert current == head


def test_an_upgrade_keeps_what_the_store_held(empty_app):
    """A store made by the first release (0001) is upgraded in place: its systems, values and keys stay."""
    assert flask(empty_app, "db", "upgrade", "0001").exit_code == 0
    with empty_app.app_context():
        db.session.execute(text("INSERT INTO connector_definitions (id, name, description) VALUES (3, 'LDAP', '')"))
        db.session.execute(text("INSERT INTO connector_settings (id, connector_definition_id, name, type, required)"
                                " VALUES (4, 3, 'Port', 'Integer', true)"))
        db.session.execute(text(
            "INSERT INTO connected_systems (id, name, name_key, connector_definition_id, created,"
            " setting_values_valid, version) VALUES (7, 'Kept', 'kept', 3, '2026-11-27 10:00:00', true, 3)"))
        db.session.execute(text("INSERT INTO connected_system_setting_values (connected_system_id, setting_id,"
                                " int_value) VALUES (7, 4, 636)"))
        db.session.commit()
    assert flask(empty_app, "init-db").exit_code == 0
    assert flask(empty_app, "db", "check").exit_code == 0
    with empty_app.app_context():
        row = db.session.execute(text("SELECT name, version, setting_values_valid FROM connected_systems")).one()
        assert tuple(row) == ("Kept", 3, True)
        assert db.session.scalar(text("SELECT int_value FROM connected_system_setting_values")) == 636


def test_the_procfiles_release_line_upgrades_an_empty_store(empty_app, empty_database_url):
    """Run as a PaaS runs it before each release: with sh, and the virtualenv's commands on the PATH."""
    [release] = [line.removeprefix("release:") for line in (PROJECT / "Procfile").read_text().splitlines()
                 if line.startswith("release:")]
    environ = {**os.environ, "DATABASE_URL": empty_database_url.replace("+psycopg", ""),
               "JIM_ENCRYPTION_KEY": TEST_ENCRYPTION_KEY,
               "PATH": f"{PROJECT / '.venv' / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run(["sh", "-c", release], cwd=PROJECT, env=environ, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert flask(empty_app, "db", "check").exit_code == 0
    with empty_app.app_context():
        assert db.session.scalar(text("SELECT count(*) FROM connector_definitions")) == 4


def test_the_drop_down_values_take_jims_spellings(empty_app):
    """0006: a SQL system's `SQL Server` is JIM's `Microsoft SQL Server`, a SCIM system's `Bearer Token` JIM's
    `Static Bearer Token`; other values, and other settings' values, stay as they were."""
    assert flask(empty_app, "db", "upgrade", "0005").exit_code == 0
    with empty_app.app_context():
        for definition, setting, name in ((2, 201, "Database Type"), (4, 302, "Authentication Method"),
                                          (4, 301, "Base URL")):
            db.session.execute(text("INSERT INTO connector_definitions (id, name, description) VALUES (:id, '', '')"
                                    " ON CONFLICT DO NOTHING"), {"id": definition})
            db.session.execute(text("INSERT INTO connector_settings (id, connector_definition_id, name, type,"
                                    " required) VALUES (:id, :definition, :name, 'DropDown', true)"),
                               {"id": setting, "definition": definition, "name": name})
        stored = [(1, 2, 201, "SQL Server"), (2, 2, 201, "Oracle"), (3, 2, 201, "PostgreSQL"),
                  (4, 4, 302, "Bearer Token"), (5, 4, 301, "Bearer Token")]
        for system_id, definition, setting, value in stored:
            db.session.execute(text(
                "INSERT INTO connected_systems (id, name, name_key, connector_definition_id, created,"
                " setting_values_valid, version) VALUES (:id, :name, :key, :definition, '2026-11-27 10:00:00',"
                " true, 1)"), {"id": system_id, "name": f"s{system_id}", "key": f"s{system_id}",
                               "definition": definition})
            db.session.execute(text("INSERT INTO connected_system_setting_values (connected_system_id, setting_id,"
                                    " string_value) VALUES (:id, :setting, :value)"),
                               {"id": system_id, "setting": setting, "value": value})
        db.session.commit()
    assert flask(empty_app, "db", "upgrade").exit_code == 0
    with empty_app.app_context():
        values = db.session.execute(text("SELECT string_value FROM connected_system_setting_values"
                                         " ORDER BY connected_system_id")).scalars().all()
    assert values == ["Microsoft SQL Server", "Oracle Database", "PostgreSQL", "Static Bearer Token", "Bearer Token"]
    assert flask(empty_app, "db", "downgrade", "0005").exit_code == 0
    with empty_app.app_context():
        values = db.session.execute(text("SELECT string_value FROM connected_system_setting_values"
                                         " ORDER BY connected_system_id")).scalars().all()
    assert values == ["SQL Server", "Oracle", "PostgreSQL", "Bearer Token", "Bearer Token"]


def test_older_change_records_get_their_versions(empty_app):
    """0009 numbers each system's records as versions, oldest first, each with an activity id of its own; none
    has a snapshot, which no one took."""
    assert flask(empty_app, "db", "upgrade", "0008").exit_code == 0
    with empty_app.app_context():
        for record_id, system_id in ((1, 7), (2, 8), (3, 7)):
            db.session.execute(text(
                "INSERT INTO connected_system_changes (id, connected_system_id, changed_at, actor_type, actor_name,"
                " actor_prefix, action, changes) VALUES (:id, :system, '2026-11-27 10:00:00', 'ApiKey', 'ops',"
                " 'jim_x', 'Updated', '[]')"), {"id": record_id, "system": system_id})
        db.session.commit()
    assert flask(empty_app, "db", "upgrade").exit_code == 0
    with empty_app.app_context():
        rows = db.session.execute(text("SELECT id, version, activity_id, snapshot FROM connected_system_changes"
                                       " ORDER BY id")).all()
    assert [(row.id, row.version, row.snapshot) for row in rows] == [(1, 1, None), (2, 1, None), (3, 2, None)]
    assert len({row.activity_id for row in rows}) == 3


def test_existing_api_keys_get_a_guid_each_and_keep_working(empty_app):
    """0011: every key gets its own GUID, stays enabled and keeps its role; a downgrade revokes the keys the
    older schema cannot hold as they are (without a role, or disabled) rather than let them work."""
    assert flask(empty_app, "db", "upgrade", "0010").exit_code == 0
    with empty_app.app_context():
        for key_id in (1, 2):
            db.session.execute(text(
                "INSERT INTO api_keys (id, name, prefix, key_hash, role, created) VALUES (:id, :name, 'jim_x', :hash,"
                " 'Administrator', '2026-11-27 10:00:00')"),
                {"id": key_id, "name": f"k{key_id}", "hash": str(key_id) * 64})
        db.session.commit()
    assert flask(empty_app, "db", "upgrade").exit_code == 0
    with empty_app.app_context():
        rows = db.session.execute(text("SELECT public_id, enabled, is_infrastructure, role FROM api_keys"
                                       " ORDER BY id")).all()
        assert len({row.public_id for row in rows}) == 2 and all(len(row.public_id) == 36 for row in rows)
        assert [(bool(row.enabled), bool(row.is_infrastructure), row.role) for row in rows] == [
            (True, False, "Administrator")] * 2
        db.session.execute(text("UPDATE api_keys SET role = NULL WHERE id = 1"))
        db.session.commit()
    assert flask(empty_app, "db", "downgrade", "0010").exit_code == 0
    with empty_app.app_context():
        rows = db.session.execute(text("SELECT role, revoked_at FROM api_keys ORDER BY id")).all()
    assert [(row.role, row.revoked_at is None) for row in rows] == [("Reader", False), ("Administrator", True)]
