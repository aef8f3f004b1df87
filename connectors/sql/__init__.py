"""The SQL connector (id 2): a relational database, read through SQLAlchemy's inspector.

PostgreSQL (psycopg 3) and MySQL or MariaDB (PyMySQL). Each table and view of the Schema setting's schema is an
object type, each column an attribute, typed from its SQL type (``column_types``). The inspector's ``get_multi_*``
calls read a whole schema in a few queries on PostgreSQL; on MySQL SQLAlchemy still reads one table at a time.

Connecting is bounded by each driver's connect timeout; then, on PostgreSQL, each statement by the server's
``statement_timeout`` and each unacknowledged send by ``tcp_user_timeout``, and on MySQL each read and write by
PyMySQL's timeouts. The runner's deadline bounds the whole, and alone bounds a PostgreSQL server that stops
answering after it has taken a query. No pool: one connection, closed after use.
"""
from collections.abc import Iterator

from connectors.interface import Connector, Deadline, DiscoveredSchema, ImportedObject, ReadScope, Setting, Settings
from connectors.interface import SettingType as S

DATABASE_TYPE = Setting(201, "Database Type", S.DROPDOWN, True, "The kind of database.", None,
                        ("SQL Server", "PostgreSQL", "MySQL", "Oracle"))
HOST = Setting(202, "Host", S.STRING, True, "The database server's host name.", one_host=True)
PORT = Setting(203, "Port", S.INTEGER, False, "The database server's port.", minimum=1, maximum=65535)
DATABASE_NAME = Setting(204, "Database Name", S.STRING, True, "The database to connect to.")
USERNAME = Setting(205, "Username", S.STRING, True, "The account to connect as.")
PASSWORD = Setting(206, "Password", S.STRING_ENCRYPTED, True, "The account's password.")
CONNECTION_TIMEOUT = Setting(207, "Connection Timeout", S.INTEGER, False, "Seconds to wait for a connection.", 30,
                             minimum=1)
SCHEMA = Setting(208, "Schema", S.STRING, False,
                 "The schema whose tables and views are imported; the database's default schema when empty.")



def discover_schema(settings: Settings, deadline: Deadline) -> DiscoveredSchema:
    # The drivers cost a process some 17 MiB (psycopg 9, PyMySQL 8) when imported: a worker pays that on its
    # first SQL import, not each time it starts.
    from connectors.sql import discovery  # noqa: PLC0415

    return discovery.discover_schema(settings, deadline)


def read_objects(settings: Settings, scope: ReadScope, deadline: Deadline) -> Iterator[ImportedObject]:
    from connectors.sql import objects  # noqa: PLC0415

    return objects.read_objects(settings, scope, deadline)


CONNECTOR = Connector(
    2,
    "JIM SQL Connector",
    "Imports from and exports to a relational database.",
    (DATABASE_TYPE, HOST, PORT, DATABASE_NAME, USERNAME, PASSWORD, CONNECTION_TIMEOUT, SCHEMA),
    discover_schema,
    read_objects=read_objects,
)
