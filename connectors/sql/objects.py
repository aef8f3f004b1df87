"""Reading a database's rows: each selected table or view, its selected columns, ordered by the external id,
through a server-side cursor (PostgreSQL's named cursor, MySQL's unbuffered one), a fetch of rows at a time.

On PostgreSQL each fetch is a statement that ``statement_timeout`` bounds; on MySQL each read is bounded by
PyMySQL's read timeout: a step never waits longer than the Connection Timeout.
"""
from collections.abc import Iterator

from sqlalchemy import column, exc, select, table

from connectors.interface import Deadline, ImportedObject, ReadScope, Refused, Settings
from connectors.sql import DATABASE_TYPE, SCHEMA
from connectors.sql.discovery import DRIVERS, driver_errors, engine_for
from connectors.values import from_native, imported

FETCH_ROWS = 1000
# The SQLSTATEs of a table and of a column that are not there, PostgreSQL's and MySQL's: the database changed
# since its schema was imported, and running again will not mend that.
NOT_THERE = {"42P01", "42703", "42S02", "42S22"}


def read_objects(settings: Settings, scope: ReadScope, deadline: Deadline) -> Iterator[ImportedObject]:
    database_type = settings[DATABASE_TYPE]
    if database_type not in DRIVERS:
        raise Refused(f"This service cannot import from {database_type} databases yet; it imports from "
                      f"PostgreSQL and MySQL (MariaDB).")
    engine = engine_for(settings, database_type, deadline, "JIM full import")
    schema = (settings[SCHEMA] or "").strip() or None
    try:
        with driver_errors(), engine.connect() as connection:
            for object_type in scope.object_types:
                names = [attribute.name for attribute in object_type.attributes]
                rows = table(object_type.name, *(column(name) for name in names), schema=schema)
                statement = select(*rows.c).order_by(rows.c[object_type.external_id])
                deadline.restart()
                try:
                    result = connection.execution_options(stream_results=True,
                                                          yield_per=FETCH_ROWS).execute(statement)
                except exc.DBAPIError as error:
                    if getattr(error.orig, "sqlstate", None) in NOT_THERE:
                        raise Refused(f"The database no longer has the table or view {object_type.name}, or one of "
                                      f"its selected columns: import its schema again.") from None
                    raise
                for fetched in result.partitions():
                    for row in fetched:
                        by_name = dict(zip(names, row))
                        yield imported(object_type, lambda attribute: listed(by_name[attribute.name],
                                                                             attribute.multi_valued), from_native)
                    deadline.restart()
    finally:
        engine.dispose()


def listed(value, multi_valued: bool) -> list:
    """A column's values: an array's elements for a multi-valued attribute (a NULL among them is no value), else
    the one value (a JSON array in a single-valued column is one value, not several)."""
    if value is None:
        return []
    if multi_valued and isinstance(value, list):
        return [item for item in value if item is not None]
    return [value]
