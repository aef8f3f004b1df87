"""Fixtures: every storage-touching test runs once on SQLite and once on PostgreSQL, on a clean database.

PostgreSQL is 127.0.0.1:5432 as user postgres unless JIM_TEST_POSTGRES_URL names another server. With
CI=true an unreachable PostgreSQL fails the run; elsewhere its half of the tests is skipped with a message.
"""
import os
import shutil
import uuid

import psycopg
import pytest
import redis
from flask_migrate import upgrade
from sqlalchemy import inspect, text

from absent import absent
from app import create_app
from auth import create_key
from config import Config
from database import db
from ldap_directory import ldap_directory  # noqa: F401  the run's throwaway slapd, for any test module
from models import ConnectorDefinition, ConnectorSetting, Role, seed_catalog

TEST_ENCRYPTION_KEY = "iKkeFWfkB5RQYZVk2PJH-GCTR72bwxrL91foPhOsim4="
POSTGRES_SERVER = os.environ.get("JIM_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432")
# One database per run, so that runs side by side (several checkouts, CI) never drop each other's.
POSTGRES_DATABASE = f"jim_test_{os.getpid()}"
STORES = ["sqlite", "postgresql"]


def postgres_admin():
    return psycopg.connect(f"{POSTGRES_SERVER}/postgres", autocommit=True, connect_timeout=5)


@pytest.fixture(scope="session")
def postgres_url():
    """A database of this run's own, dropped when the run ends."""
    try:
        with postgres_admin() as connection:
            connection.execute(f"DROP DATABASE IF EXISTS {POSTGRES_DATABASE} WITH (FORCE)")
            connection.execute(f"CREATE DATABASE {POSTGRES_DATABASE}")
    except psycopg.OperationalError as error:
        absent(f"PostgreSQL is not reachable at {POSTGRES_SERVER}: {error}")
    yield f"{POSTGRES_SERVER}/{POSTGRES_DATABASE}"
    with postgres_admin() as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {POSTGRES_DATABASE} WITH (FORCE)")


@pytest.fixture(params=STORES)
def store(request):
    return request.param


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    """A SQLite store as init-db leaves it, built once and copied for each test."""
    path = tmp_path_factory.mktemp("template") / "jim.db"
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "JIM_ENCRYPTION_KEYS": [TEST_ENCRYPTION_KEY]})
    with app.app_context():
        build_schema()
        db.session.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))  # all of it in the file that is copied
        db.session.remove()
        db.engine.dispose()
    return path


@pytest.fixture
def database_url(store, request, tmp_path):
    if store == "sqlite":
        shutil.copy(request.getfixturevalue("sqlite_template"), tmp_path / "jim.db")
        return f"sqlite:///{tmp_path / 'jim.db'}"
    return request.getfixturevalue("postgres_url").replace("postgresql://", "postgresql+psycopg://", 1)


@pytest.fixture
def app_config(database_url):
    """What create_app is given; a test may change it before asking for ``app``."""
    return {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "JIM_ENCRYPTION_KEYS": [TEST_ENCRYPTION_KEY],
        "JIM_RATE_LIMIT_ENABLED": False,  # only the rate-limit tests turn it on
    }


@pytest.fixture
def limited(app_config, request):
    """The app with JIM_IMPORT_MAX_* lowered as the test's parameter (an environment) says, read as the service
    reads an operator's."""
    app_config.update({name: value for name, value in vars(Config(request.param)).items()
                       if name.startswith("JIM_IMPORT_MAX_")})


@pytest.fixture
def app(app_config):
    app = create_app(app_config)
    with app.app_context():
        reset_database()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def build_schema():
    """The schema as an operator gets it: the migrations, then the catalog."""
    upgrade()
    seed_catalog()


def empty_store():
    """No tables at all, not even the migrations' record: a store before its first init-db."""
    db.drop_all()
    db.session.execute(text("DROP TABLE IF EXISTS alembic_version"))
    db.session.commit()


CATALOG_TABLES = {ConnectorDefinition.__tablename__, ConnectorSetting.__tablename__}


def reset_database():
    """A migrated store holding only the catalog. SQLite stores are fresh copies; PostgreSQL is emptied."""
    if db.engine.dialect.name == "sqlite":
        return
    if not set(db.metadata.tables) | {"alembic_version"} <= set(inspect(db.engine).get_table_names()):
        empty_store()  # an earlier test dropped tables: build them again
        build_schema()
    data = ", ".join(table.name for table in db.metadata.sorted_tables if table.name not in CATALOG_TABLES)
    db.session.execute(text(f"TRUNCATE {data} RESTART IDENTITY CASCADE"))
    db.session.commit()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def make_key(app, role: Role, **kwargs) -> str:
    with app.app_context():
        return create_key(f"test-{role.value.lower()}", role, **kwargs)[1]


@pytest.fixture
def admin_key(app):
    return make_key(app, Role.ADMINISTRATOR)


@pytest.fixture
def reader_key(app):
    return make_key(app, Role.READER)


@pytest.fixture
def admin(admin_key):
    """Headers of an Administrator's JSON request."""
    return {"X-Api-Key": admin_key, "Content-Type": "application/json"}


@pytest.fixture
def reader(reader_key):
    return {"X-Api-Key": reader_key, "Content-Type": "application/json"}


SYSTEMS = "/api/v1/synchronisation/connected-systems"


@pytest.fixture
def ldap_system(client, admin):
    """A new LDAP connected system (id 1 in a clean database), as the API answers it."""
    response = client.post(SYSTEMS, json={"name": "Corporate LDAP", "connectorDefinitionId": 3}, headers=admin)
    assert response.status_code == 201, response.json
    return response.json


# Redis is shared (with other checkouts, other runs): every test counts under a key prefix of its own.
REDIS_URL = os.environ.get("JIM_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def redis_or_skip():
    try:
        with redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2) as client:
            client.ping()
    except redis.RedisError as error:
        absent(f"Redis is not reachable at {REDIS_URL}: {error}")


@pytest.fixture
def key_prefix():
    prefix = f"jim-test-{uuid.uuid4().hex}"
    yield prefix
    try:
        with redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2) as client:
            for key in client.scan_iter(f"*{prefix}*"):
                client.delete(key)
    except redis.RedisError:
        pass  # Redis is not there: nothing was stored
