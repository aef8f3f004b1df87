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

from connectors.interface import (
    Capabilities,
    Category,
    Connector,
    Deadline,
    DiscoveredSchema,
    ImportedObject,
    ReadScope,
    Setting,
    Settings,
)
from connectors.interface import SettingType as S

C = Category
# JIM's spellings of the two databases it supports; PostgreSQL and MySQL are this service's.
SQL_SERVER, ORACLE = "Microsoft SQL Server", "Oracle Database"
DATABASE_TYPE = Setting(201, "Database Type", S.DROPDOWN, True, "The kind of database.", None,
                        (SQL_SERVER, "PostgreSQL", "MySQL", ORACLE), category=C.CONNECTIVITY)
HOST = Setting(202, "Host", S.STRING, True, "The database server's host name.", one_host=True,
               category=C.CONNECTIVITY)
PORT = Setting(203, "Port", S.INTEGER, False, "The database server's port; the database type's own when empty.",
               minimum=1, maximum=65535, category=C.CONNECTIVITY)
DATABASE_NAME = Setting(204, "Database Name", S.STRING, True, "The database to connect to.",
                        category=C.CONNECTIVITY)
USERNAME = Setting(205, "Username", S.STRING, True, "The account to connect as.", category=C.CONNECTIVITY)
PASSWORD = Setting(206, "Password", S.STRING_ENCRYPTED, True, "The account's password.", category=C.CONNECTIVITY)
CONNECTION_TIMEOUT = Setting(207, "Connection Timeout", S.INTEGER, False, "Seconds to wait for a connection.", 30,
                             minimum=1, category=C.CONNECTIVITY)
SCHEMA = Setting(208, "Schema", S.STRING, False,
                 "The schema whose tables and views are imported; the database's default schema when empty. This "
                 "service's own: JIM reads the Object Types document instead.", category=C.SCHEMA)
# Settings 209 on are JIM's, stored and shown, not acted on here yet: this service imports from neither SQL
# Server nor Oracle, and reads a schema's tables rather than an Object Types document.
ORACLE_IDENTIFIED_BY = Setting(209, "Oracle Database Identified By", S.DROPDOWN, False,
                               "How the Oracle database is addressed: by service name, or by SID.", None,
                               ("Service Name", "SID"), required_when=(DATABASE_TYPE, ORACLE),
                               category=C.CONNECTIVITY, acted_on=False)
ORACLE_SERVICE_NAME = Setting(210, "Oracle Service Name", S.STRING, False,
                              "The Oracle service name, such as HRPROD.example.com.",
                              required_when=(ORACLE_IDENTIFIED_BY, "Service Name"), category=C.CONNECTIVITY,
                              acted_on=False)
JIMS_OTHER_SETTINGS = (
    ORACLE_IDENTIFIED_BY,
    ORACLE_SERVICE_NAME,
    Setting(211, "Oracle SID", S.STRING, False, "The Oracle System Identifier (SID), such as HRPROD.",
            required_when=(ORACLE_IDENTIFIED_BY, "SID"), category=C.CONNECTIVITY, acted_on=False),
    Setting(212, "Encrypt Connection", S.CHECKBOX, False, "Microsoft SQL Server: encrypt the connection.", True,
            category=C.CONNECTIVITY, acted_on=False),
    Setting(213, "Oracle Encryption", S.DROPDOWN, False, "How the connection to Oracle Database is protected.",
            "Native Network Encryption", ("Native Network Encryption", "TCPS (TLS)", "None"),
            category=C.CONNECTIVITY, acted_on=False),
    # JIM requires it; its default stands in when it is empty.
    Setting(214, "Database Time Zone", S.STRING, False,
            "The time zone of date and time columns that carry no offset: UTC, or an IANA name such as "
            "Europe/London.", "UTC", acted_on=False),
    Setting(215, "Treat NUMBER(1) Columns as Boolean", S.CHECKBOX, False,
            "Oracle Database: import NUMBER(1) columns as booleans.", False, acted_on=False),
    Setting(216, "Treat RAW(16) Columns as Guid", S.CHECKBOX, False,
            "Oracle Database: import RAW(16) columns as GUIDs.", False, acted_on=False),
    Setting(217, "Object Types", S.TEXT, False,
            "JIM's document of the object types to import, their tables and columns; JIM requires it.",
            category=C.SCHEMA, acted_on=False),
    Setting(218, "Delta Import Mode", S.DROPDOWN, False, "How a delta import finds what changed.", None,
            ("Change-Log Table", "Watermark Column"), category=C.SCHEMA, acted_on=False),
)


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
    "Imports from and exports to a relational database: this service imports from PostgreSQL and MySQL "
    "(MariaDB); JIM's SQL connector speaks Microsoft SQL Server and Oracle Database.",
    (DATABASE_TYPE, HOST, PORT, DATABASE_NAME, USERNAME, PASSWORD, CONNECTION_TIMEOUT, SCHEMA, *JIMS_OTHER_SETTINGS),
    discover_schema,
    read_objects=read_objects,
    capabilities=Capabilities(full_import=True, delta_import=True, export=True, user_selected_external_id=True,
                              user_selected_attribute_types=True, auto_confirm_export=True, paging=True),
)
