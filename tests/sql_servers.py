"""Databases of the tests' own on the machine's PostgreSQL and MariaDB, and a throwaway PostgreSQL cluster.

Every name holds the process id and a random part, so that runs side by side never meet; each is dropped
afterwards. The machine's PostgreSQL trusts every password, so a refused password is tested on MariaDB (a user
of the test's own) and on a cluster started for the purpose with scram-sha-256. A server that cannot be
reached skips its tests with a message, except with CI=true, where it fails them.
"""
import os
import shutil
import subprocess
import tempfile
import uuid
from contextlib import contextmanager
from glob import glob
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pymysql

from absent import absent
from conftest import POSTGRES_SERVER
from servers import free_port

# The server the store tests use too (JIM_TEST_POSTGRES_URL, or 127.0.0.1:5432 as postgres).
_SERVER = urlsplit(POSTGRES_SERVER)
POSTGRES = {"host": _SERVER.hostname, "port": _SERVER.port or 5432, "user": _SERVER.username or "postgres"}
MARIADB = {"host": "127.0.0.1", "port": 3306, "user": "root", "password": ""}


@contextmanager
def reachable(server: str):
    try:
        yield
    except (psycopg.OperationalError, pymysql.err.OperationalError) as error:
        absent(f"{server} is not reachable: {error}")


def unique_name(prefix: str) -> str:
    return f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"



def many_tables(tables: int, columns: int) -> str:
    """The statement that makes ``tables`` tables of ``columns`` columns each, as a big schema has them: the
    2,000-table schema of tests/test_big_systems.py and bench/big_systems.py. Fixed-width types and no key: no
    TOAST table or index per table, so the database is made in a second and dropped at once (text columns and a
    primary key take it to 4 s and 10 s on a busy machine)."""
    kinds = ("integer", "bigint", "timestamptz", "boolean", "uuid")
    typed = ", ".join(f"column_{number:02d} {kinds[number % 5]}" for number in range(1, columns))
    return "; ".join(f"CREATE TABLE table_{number:04d} (id integer, {typed})" for number in range(tables))

@contextmanager
def postgres_database(*statements: str):
    """A new database on the machine's PostgreSQL holding what ``statements`` create; yields its name."""
    name = unique_name("jim_sql")
    with reachable("PostgreSQL"), psycopg.connect(**POSTGRES, dbname="postgres", autocommit=True,
                                                  connect_timeout=5) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    try:
        with psycopg.connect(**POSTGRES, dbname=name, autocommit=True, connect_timeout=5) as connection:
            for statement in statements:
                connection.execute(statement)
        yield name
    finally:
        with psycopg.connect(**POSTGRES, dbname="postgres", autocommit=True, connect_timeout=5) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def mariadb(**options):
    return pymysql.connect(**MARIADB, autocommit=True, connect_timeout=5, **options)


@contextmanager
def mariadb_database(*statements: str):
    """A new database on the machine's MariaDB holding what ``statements`` create; yields its name."""
    name = unique_name("jim_sql")
    with reachable("MariaDB"), mariadb() as admin, admin.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE {name}")
    try:
        with mariadb(database=name) as connection, connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
        yield name
    finally:
        with mariadb() as admin, admin.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {name}")


@contextmanager
def mariadb_user(password: str, *grants: str):
    """A MariaDB account with ``password`` and ``grants`` (``GRANT ... ON x.* TO {user}``); yields its name."""
    user = unique_name("jim_user")
    with mariadb() as admin, admin.cursor() as cursor:
        cursor.execute(f"CREATE USER '{user}'@'%%' IDENTIFIED BY %s", (password,))
        try:
            for grant in grants:
                cursor.execute(grant.format(user=f"'{user}'@'%'"))
            yield user
        finally:
            cursor.execute(f"DROP USER IF EXISTS '{user}'@'%'")


@contextmanager
def scram_cluster(password: str):
    """A throwaway PostgreSQL cluster on a free loopback port that asks for passwords (scram-sha-256), its
    superuser ``postgres`` having ``password``; yields the port. Stopped and removed afterwards."""
    binaries = Path(sorted(glob("/usr/lib/postgresql/*/bin/initdb"))[-1]).parent
    folder = Path(tempfile.mkdtemp(prefix="jim-scram-"))
    shutil.chown(folder, "postgres", "postgres")
    data, password_file = folder / "data", folder / "password"
    password_file.write_text(password)
    shutil.chown(password_file, "postgres", "postgres")
    port = free_port()

    def as_postgres(*command: str):
        subprocess.run(["runuser", "-u", "postgres", "--", *command], check=True, capture_output=True, timeout=120)

    try:
        as_postgres(str(binaries / "initdb"), "-D", str(data), "-U", "postgres", "--auth=scram-sha-256",
                    f"--pwfile={password_file}")
        as_postgres(str(binaries / "pg_ctl"), "-D", str(data), "-w", "-l", str(folder / "log"), "start", "-o",
                    f"-p {port} -k {folder} -c listen_addresses=127.0.0.1")
        yield port
    finally:
        if (data / "postmaster.pid").exists():
            as_postgres(str(binaries / "pg_ctl"), "-D", str(data), "-w", "-m", "immediate", "stop")
        shutil.rmtree(folder, ignore_errors=True)
