"""Finding a connected system for a request: locked for a write or not, as an entity or as plain rows."""
from sqlalchemy import bindparam, select
from sqlalchemy.engine import Row

from database import db
from errors import NotFound
from models import ID_MAX, ConnectedSystem

SYSTEMS = ConnectedSystem.__table__

# Built once, with a bound parameter: a request neither builds nor cache-keys it.
PEEK = select(SYSTEMS.c.id, SYSTEMS.c.connector_definition_id, SYSTEMS.c.version).where(
    SYSTEMS.c.id == bindparam("id")
)


def not_found(system_id: int) -> NotFound:
    return NotFound(f"Connected system {system_id} does not exist.")


def find_system(system_id: int, for_update: bool = False) -> ConnectedSystem:
    """The system, locked against other writers until the transaction ends when ``for_update``."""
    statement = select(ConnectedSystem).where(ConnectedSystem.id == system_id)
    if for_update:
        # SQLite has no row locks: BEGIN IMMEDIATE already holds the lock. populate_existing: the locked row's
        # values win over any copy the session already holds (PostgreSQL's write continues the request's read).
        statement = statement.with_for_update().execution_options(populate_existing=True)
    system = db.session.scalar(statement) if system_id <= ID_MAX else None
    if system is None:
        raise not_found(system_id)
    return system


def peek_system(system_id: int) -> Row:
    """The system's id, connector and version, read without a lock.

    Enough to validate a body before a write takes the lock (a system's connector never changes) and to refuse
    a stale ``If-Match`` early; the write checks ``If-Match`` again under the lock.
    """
    row = db.session.execute(PEEK, {"id": system_id}).one_or_none() if system_id <= ID_MAX else None
    if row is None:
        raise not_found(system_id)
    return row
