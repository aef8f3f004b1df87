"""How the SQL connector reads a database's schema: SQLAlchemy's inspector over the driver, every wait bounded,
and the driver's errors told as a connector tells them (``connectors.sql`` says what is imported).

The catalog's answer is bounded in bytes as it is read, as every import's is (``Deadline.received``): on
PostgreSQL its text values are counted as psycopg loads them, from a server-side cursor that fetches a batch of
rows at a time, and a value longer than ``MAX_VALUE_BYTES`` is refused; on MySQL each packet is counted from
its header, before it is read. (MySQL bounds a catalog row itself: a comment holds at most 1,024 characters.)"""
import math
import re
import socket
import warnings
from contextlib import contextmanager

import psycopg
import pymysql
from psycopg.types.string import TextLoader
from pymysql.constants import CR
from sqlalchemy import create_engine, event, exc, inspect
from sqlalchemy.engine import URL, Engine, Inspector
from sqlalchemy.engine.reflection import ObjectKind
from sqlalchemy.pool import NullPool

from connectors.interface import (
    AttributeType,
    Deadline,
    DiscoveredAttribute,
    DiscoveredObjectType,
    DiscoveredSchema,
    Refused,
    Settings,
    Unreachable,
    Writability,
)
from connectors.sql import (
    CONNECTION_TIMEOUT,
    DATABASE_NAME,
    DATABASE_TYPE,
    HOST,
    PASSWORD,
    PORT,
    SCHEMA,
    USERNAME,
    column_types,
)

DRIVERS = {"PostgreSQL": "postgresql+psycopg", "MySQL": "mysql+pymysql"}
# No name, type, default or comment in a schema this service imports is this long: a catalog that holds one is
# refused as soon as it is read, with nothing imported.
MAX_VALUE_BYTES = 1024 * 1024
CATALOG_TEXT_TYPES = ("text", "name", "varchar", "bpchar")


def discover_schema(settings: Settings, deadline: Deadline) -> DiscoveredSchema:
    database_type = settings[DATABASE_TYPE]
    if database_type not in DRIVERS:
        raise Refused(f"This service cannot import from {database_type} databases yet; it imports from "
                      f"PostgreSQL and MySQL (MariaDB).")
    engine = engine_for(settings, database_type, deadline, bytes_counted=True)
    cursors = []  # a read refused midway leaves its server-side cursor open; closed below, once the connection is
    event.listen(engine, "before_cursor_execute", lambda _, cursor, *__: cursors.append(cursor))
    try:
        with driver_errors(), warnings.catch_warnings():
            # A type SQLAlchemy does not know is reflected as NullType, with a warning; read_schema reports it.
            # (catch_warnings saves and restores the process's filters: when imports overlap, at worst this
            # one filter outlives them, or another thread's warning is hidden meanwhile.)
            warnings.filterwarnings("ignore", "Did not recognize type", exc.SAWarning)
            with engine.connect() as connection:
                # A batch of the catalog's rows at a time, counted as they come, not all of it before any is.
                connection = connection.execution_options(stream_results=database_type == "PostgreSQL")
                return read_schema(inspect(connection), (settings[SCHEMA] or "").strip(), deadline)
    finally:
        engine.dispose()
        for cursor in cursors:
            cursor.close()


def engine_for(settings: Settings, database_type: str, deadline: Deadline,
               application_name: str = "JIM schema import", bytes_counted: bool = False) -> Engine:
    """An engine of no pool whose every wait is bounded by the Connection Timeout and the deadline, and, if
    ``bytes_counted``, every answer by the deadline's byte limit (the module's docstring says how)."""
    seconds = deadline.bound(settings[CONNECTION_TIMEOUT])
    url = URL.create(DRIVERS[database_type], username=settings[USERNAME], password=settings[PASSWORD],
                     host=settings[HOST], port=settings[PORT], database=settings[DATABASE_NAME])
    if database_type == "PostgreSQL":
        milliseconds = math.ceil(seconds * 1000)
        timeouts = {
            "connect_timeout": max(2, math.ceil(seconds)),  # whole seconds; libpq takes less than 2 as 2
            "options": f"-c statement_timeout={milliseconds}",
            "tcp_user_timeout": milliseconds,
            "application_name": application_name,
        }
    else:
        timeouts = {"connect_timeout": seconds, "read_timeout": seconds, "write_timeout": seconds}
    engine = create_engine(url, poolclass=NullPool, connect_args=timeouts)
    # A server that took a query and went silent, or drips its answer, is bounded by the deadline alone: each
    # connection is cut when it passes. psycopg's connect_timeout bounds its whole login, so its connection is
    # registered once made; PyMySQL's timeouts bound each read of its login, so its socket is made here, to be
    # registered before the server's first byte.
    if database_type == "PostgreSQL":
        event.listen(engine, "connect", lambda connection, _: postgres_connected(connection, deadline, bytes_counted))
    else:
        event.listen(engine, "do_connect",
                     lambda _, __, cargs, cparams: mysql_connect(cparams, seconds, deadline, bytes_counted))
    return engine


def postgres_connected(connection: psycopg.Connection, deadline: Deadline, bytes_counted: bool):
    deadline.cut_on_expiry(connection)
    if bytes_counted:
        loader = counting_loader(deadline)
        for type_name in CATALOG_TEXT_TYPES:
            connection.adapters.register_loader(type_name, loader)


def counting_loader(deadline: Deadline) -> type[TextLoader]:
    """psycopg's text loader, each value counted against the deadline's byte limit and ``MAX_VALUE_BYTES``."""

    class CountingTextLoader(TextLoader):
        def load(self, data):
            if len(data) > MAX_VALUE_BYTES:
                raise Refused(f"The database's catalog holds a value (a name, a type, a default or a comment) "
                              f"longer than {MAX_VALUE_BYTES // 2**20} MiB, more than any schema needs; nothing was "
                              f"imported.")
            deadline.received(len(data))
            return super().load(data)

    return CountingTextLoader


class CountedMySQLConnection(pymysql.connections.Connection):
    """PyMySQL's connection, each packet counted against the deadline's byte limit before it is read."""

    def __init__(self, *args, deadline: Deadline, **kwargs):
        self._deadline = deadline
        super().__init__(*args, **kwargs)

    def _read_bytes(self, num_bytes):
        self._deadline.received(num_bytes)
        return super()._read_bytes(num_bytes)


def mysql_connect(parameters: dict, seconds: float, deadline: Deadline, bytes_counted: bool) -> pymysql.Connection:
    """PyMySQL's connection over a socket cut at the deadline; failing to connect as PyMySQL itself fails."""
    connection = (CountedMySQLConnection(**parameters, defer_connect=True, deadline=deadline) if bytes_counted
                  else pymysql.connect(**parameters, defer_connect=True))
    try:
        sock = socket.create_connection((connection.host, connection.port), seconds)
    except OSError as error:
        raise pymysql.err.OperationalError(CR.CR_CONN_HOST_ERROR,
                                           f"Can't connect to MySQL server on {connection.host!r} ({error})") from None
    deadline.cut_on_expiry(sock)
    connection.connect(sock)
    return connection


def read_schema(inspector: Inspector, wanted: str, deadline: Deadline) -> DiscoveredSchema:
    deadline.remaining()
    if wanted and wanted not in inspector.get_schema_names():
        raise Refused(f"The database has no schema {wanted!r}, or this account may not see it.")
    schema = wanted or None  # the connection's default schema
    reads = {}
    for name, call, kind in (
        ("tables", inspector.get_multi_columns, ObjectKind.TABLE),
        ("views", inspector.get_multi_columns, ObjectKind.VIEW | ObjectKind.MATERIALIZED_VIEW),
        ("foreign keys", inspector.get_multi_foreign_keys, ObjectKind.TABLE),
    ):
        deadline.remaining()
        reads[name] = call(schema=schema, kind=kind)
    notes: list[str] = []
    keys = sorted([*reads["tables"], *reads["views"]], key=lambda key: (key[1].casefold(), key[1]))
    object_types = []
    for key in keys:
        table, view = key[1], key in reads["views"]
        referencing = {column for foreign_key in reads["foreign keys"].get(key, ())
                       for column in foreign_key["constrained_columns"]}
        attributes = tuple(attribute(table, column, view, column["name"] in referencing, notes)
                           for column in reads["views" if view else "tables"][key])
        object_types.append(DiscoveredObjectType(table, attributes))
    if not object_types:
        notes.append(f"The schema {wanted or inspector.default_schema_name!r} has no tables or views.")
    return DiscoveredSchema(tuple(object_types), tuple(notes))


def attribute(table: str, column: dict, view: bool, reference: bool, notes: list[str]) -> DiscoveredAttribute:
    attribute_type, plurality = column_types.attribute_type(column["type"], reference)
    if attribute_type is None:
        notes.append(f"Column {column['name']!r} of {table!r} has a type this service does not recognise; "
                     f"it is imported as Text.")
        attribute_type = AttributeType.TEXT
    # A view's columns, a generated column, and an identity column the database always fills are never written.
    identity = column.get("identity") or {}
    read_only = view or column.get("computed") or identity.get("always")
    return DiscoveredAttribute(column["name"], attribute_type, plurality,
                               Writability.READ_ONLY if read_only else Writability.WRITABLE,
                               column.get("comment"), table)


SERVER_SAID = re.compile(r"\b(?:FATAL|ERROR):\s+")  # libpq's prefix when the server, not the network, answered


@contextmanager
def driver_errors():
    """The driver's errors as ``Refused`` (the server answered and said no) or ``Unreachable``, with its reason
    and not the SQL: the DBAPI error's own message, never SQLAlchemy's, which quotes the statement."""
    try:
        yield
    except exc.DBAPIError as error:
        if isinstance(error.orig, psycopg.Error):
            raise postgres_failure(error.orig) from None
        if isinstance(error.orig, pymysql.err.Error):
            raise mysql_failure(error.orig) from None
        raise


def postgres_failure(error: psycopg.Error) -> Exception:
    if isinstance(error, (psycopg.errors.ConnectionTimeout, psycopg.errors.QueryCanceled)):
        return Unreachable(sentence(f"PostgreSQL did not answer in time: {error}"))
    if error.sqlstate:  # an error the server sent after the connection was made
        return Refused(sentence(f"PostgreSQL refused: {error.diag.message_primary or error}"))
    said = SERVER_SAID.split(str(error), maxsplit=1)
    if len(said) == 2:
        return Refused(sentence(f"PostgreSQL refused the connection: {said[1]}"))
    return Unreachable(sentence(f"PostgreSQL could not be reached: {str(error).removeprefix('connection failed: ')}"))


def mysql_failure(error: pymysql.err.Error) -> Exception:
    # PyMySQL's errors are (code, message); the few of its own without a code are (message,) or ().
    code = error.args[0] if len(error.args) > 1 else None
    reason = error.args[-1] if error.args and error.args[-1] else type(error).__name__
    if isinstance(code, int) and 0 < code < 2000:  # a server error; 2000 and up are the client's own (CR_*)
        return Refused(sentence(f"MySQL refused: {reason}"))
    return Unreachable(sentence(f"MySQL could not be reached: {reason}"))


def sentence(text: str) -> str:
    """One line, ending as a sentence ends: drivers' messages span lines and end as they please."""
    text = " ".join(text.split())
    return text if text.endswith((".", "?", "!")) else text + "."
