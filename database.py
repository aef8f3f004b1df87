"""The database: the Flask-SQLAlchemy extension, its migrations, per-store connection settings and write
transactions."""
import fcntl
import functools
import os
import sqlite3
import time
from contextlib import contextmanager, nullcontext

from flask import current_app
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import Integer, MetaData, Table, Text, bindparam, cast, event, insert, literal_column, select
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.sql import Executable
from sqlalchemy.sql.functions import FunctionElement

MIGRATIONS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "migrations")


class Base(DeclarativeBase):
    # Named constraints, so that a migration can name what it alters (SQLite's batch mode needs the names).
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s",  # PostgreSQL names hold 63 characters
            "pk": "pk_%(table_name)s",
        }
    )


# Objects stay readable after commit, so a response is dumped from what was just written instead of
# being re-read from the database.
db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})
# SQLite alters a table by copying it (batch mode); compare_type makes ``db check`` see type changes too.
migrate = Migrate(directory=MIGRATIONS, render_as_batch=True, compare_type=True)


def engine_options(url: str, timeout_seconds: float) -> dict:
    # hide_parameters keeps bound values out of every log line and exception message.
    if url.startswith("sqlite"):
        # The sqlite3 module's own timeout is SQLite's busy timeout: how long a writer waits for the lock.
        return {"hide_parameters": True, "connect_args": {"timeout": timeout_seconds}}
    return {
        "hide_parameters": True,
        "pool_pre_ping": True,
        "connect_args": {
            "connect_timeout": max(1, int(timeout_seconds)),
            # A connection whose peer vanished (a network partition, not a refusal) fails once data sent
            # stays unacknowledged this long, instead of waiting for the kernel's minutes of retries.
            "tcp_user_timeout": int(timeout_seconds * 1000),
            "keepalives": 1,
            "keepalives_idle": max(1, int(timeout_seconds)),
            "keepalives_interval": max(1, int(timeout_seconds)),
            "keepalives_count": 3,
            "options": f"-c statement_timeout={int(timeout_seconds * 1000)}"
            f" -c lock_timeout={int(timeout_seconds * 1000)}",
        },
    }


def init_app(app):
    app.config.setdefault(
        "SQLALCHEMY_ENGINE_OPTIONS",
        engine_options(app.config["SQLALCHEMY_DATABASE_URI"], app.config["JIM_DATABASE_TIMEOUT_SECONDS"]),
    )
    db.init_app(app)
    migrate.init_app(app, db)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            listen_sqlite(db.engine)


def listen_sqlite(engine):
    """Take over SQLite's transaction control, so that ``write_transaction`` can begin its own.

    A deferred transaction reads a WAL snapshot first and then cannot upgrade it to a write when another
    writer got there first ("database is locked"); a write's BEGIN IMMEDIATE waits for the lock instead, and
    two writers never read the same state.
    """

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # the driver begins nothing; "begin" below does
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")  # a 200 means the change survives a power cut
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection):
        connection.exec_driver_sql("BEGIN")


# How often a worker waiting for the writers' lock tries it again.
WRITER_POLL_SECONDS = 0.0002


@contextmanager
def writers_queue(database_path: str, timeout_seconds: float):
    """This machine's writers to one SQLite file, one at a time, the next one taking over at once.

    SQLite's own busy handler retries a locked BEGIN IMMEDIATE after sleeps of 1, 2, 5, 10 ms and longer,
    so a worker waiting for another's write sleeps on well after the lock is free, and the write lock sits
    idle. The workers queue on a file lock instead, tried again every WRITER_POLL_SECONDS; it is released
    when the file is closed, so a worker that dies holding it frees it. Writers outside the service (the
    operator commands) still meet SQLite's own lock, with its busy timeout.
    """
    lock = os.open(database_path + ".write-lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline = time.monotonic() + timeout_seconds
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:  # answered as SQLite's own busy timeout is: 503
                    raise OperationalError("BEGIN IMMEDIATE", None, sqlite3.OperationalError("database is locked"))
                time.sleep(WRITER_POLL_SECONDS)
        yield
    finally:
        os.close(lock)


@contextmanager
def write_transaction():
    """One write, all or nothing, on the request's connection, which it yields: committed when the block
    ends, rolled back on any error.

    On SQLite the request's read (authentication's) ends first, and BEGIN IMMEDIATE takes the write lock,
    once this machine's other writers are done (``writers_queue``). Both go to the driver on the same
    connection while the session's transaction stays open around them, so the connection is not given back
    to the pool and checked out again; the session's commit or rollback ends the write. On PostgreSQL the
    write continues the read: the writer's ``SELECT ... FOR UPDATE`` takes the lock, and under READ COMMITTED
    every statement sees what was committed before it, so ending the read would only cost round trips.
    """
    session = db.session
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        with committed(session):
            yield connection
        return
    connection.exec_driver_sql("ROLLBACK")
    path = connection.engine.url.database
    # An in-memory store belongs to one process: no other worker writes to it.
    queue = nullcontext() if path in (None, "", ":memory:") else writers_queue(
        path, current_app.config["JIM_DATABASE_TIMEOUT_SECONDS"]
    )
    with queue:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
        with committed(session):
            yield connection


@contextmanager
def committed(session):
    """The session's work committed when the block ends, rolled back on any error."""
    try:
        yield
        session.commit()
    except BaseException:
        session.rollback()
        raise


def commit_writes(connection: Connection, statements: list[tuple[Executable, object]]):
    """Send a write transaction's statements, in order, and commit it; each statement's parameters are a
    dict, or a list of dicts for one execution per dict.

    On PostgreSQL a write holds its system's row lock until it commits, and each statement sent one after
    another costs a round trip under it. So the statements and the COMMIT go in one psycopg pipeline, one
    round trip in all, on the driver connection SQLAlchemy hands out: SQLAlchemy cannot drive a pipeline
    itself (it closes each result before the pipeline syncs). SQLAlchemy still compiles each statement, once
    (``for_driver``), and its column types still convert the values (a ``Secret`` to its token, a time to
    UTC); psycopg adapts the rest. A driver error is raised as SQLAlchemy would raise it, so the write path
    maps it as any other (a lost connection is a 503, a name taken a 409). On SQLite, where the write lock
    is the whole store's and a statement costs no round trip, they are executed one after another, and
    the session's commit follows.
    """
    if connection.dialect.name != "postgresql":
        for statement, parameters in statements:
            connection.execute(statement, parameters)
        return
    import psycopg  # noqa: PLC0415  (loaded with the store's dialect; a SQLite worker has no use for its 9 MiB)

    driver = connection.connection.driver_connection
    cursor = driver.cursor()
    try:
        with driver.pipeline():
            for statement, parameters in statements:
                rows = parameters if isinstance(parameters, list) else [parameters]
                sql, convert = for_driver(statement, tuple(rows[0]), connection.dialect)
                cursor.executemany(sql, [convert(row) for row in rows])
            cursor.execute("COMMIT")
    except psycopg.Error as error:
        lost = connection.dialect.is_disconnect(error, driver, cursor)
        if lost:
            connection.invalidate(error)
        raise DBAPIError.instance(None, None, error, psycopg.Error, hide_parameters=True, connection_invalidated=lost,
                                  dialect=connection.dialect) from None
    finally:
        cursor.close()


@functools.cache
def for_driver(statement: Executable, keys: tuple[str, ...], dialect: Dialect):
    """The statement as the driver takes it, given parameters named ``keys``: its SQL, and the function that
    makes a row of parameters ready for the driver with the columns' own conversions."""
    compiled = statement.compile(dialect=dialect, column_keys=list(keys))
    processors = {
        key: processor
        for key, bind in compiled.binds.items()
        if (processor := bind.type.dialect_impl(dialect).bind_processor(dialect))
    }

    def convert(row: dict) -> dict:
        parameters = compiled.construct_params(row)
        for key, processor in processors.items():
            if key in parameters:
                parameters[key] = processor(parameters[key])
        return parameters

    return compiled.string, convert


class JsonArrayRows(FunctionElement):
    """The elements of a JSON array, one row each in a column ``value``: each store's own function for it."""

    inherit_cache = True


@compiles(JsonArrayRows, "postgresql")
def json_rows_on_postgresql(element, compiler, **kw):
    # A set-returning function's column takes its alias's name on PostgreSQL: a subquery names it ``value``.
    array = compiler.process(element.clauses, **kw)
    return f"(SELECT value FROM jsonb_array_elements(CAST({array} AS jsonb)) AS value)"


@compiles(JsonArrayRows, "sqlite")
def json_rows_on_sqlite(element, compiler, **kw):
    return f"json_each({compiler.process(element.clauses, **kw)})"


def insert_json_rows(table: Table, fields: tuple[str, ...], **constants):
    """An INSERT of many rows in one statement: each row a JSON array of its ``fields``' values, in order, and
    all of them one JSON array bound as ``rows``; ``constants`` give the other columns, the same in every row.
    One INSERT a row cost SQLAlchemy's and the driver's work for each, under the store's write lock, and the
    driver let go of the interpreter at each row, so that another thread took it and each row waited for it
    again. A value comes out of JSON as text: an integer column's is cast back."""
    rows = JsonArrayRows(bindparam("rows", type_=Text)).table_valued("value").alias("new_rows")

    def field(position: int, name: str):
        value = rows.c.value.op("->>")(literal_column(str(position)))
        return cast(value, Integer) if isinstance(table.c[name].type, Integer) else value

    return insert(table).from_select(
        [*fields, *constants],
        select(*(field(position, name) for position, name in enumerate(fields)), *constants.values())
        .select_from(rows))
