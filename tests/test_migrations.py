"""Migrations: `flask db upgrade` on an empty store builds exactly the models' schema (`flask db check`
finds no drift), on SQLite and PostgreSQL; init-db builds on it and is safe to run again."""
import os
import subprocess

import pytest
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
        assert db.session.scalar(text("SELECT version_num FROM alembic_version")) == "0001"


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
