"""Finding and changing a connected system for a request.

A GET of one system and a PUT are the service's busy requests, so they read and write plain rows with
SQLAlchemy Core, executed on the session's connection: ORM entities cost them thousands of calls a request
(loading, the identity map, the unit of work), and even the session's own ``execute`` adds a hundred a
statement, much of it while a PUT holds the write lock. The other writes use the entity (``lock_system``).
"""
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Row

from connectors import CONNECTORS
from connectors.interface import Connector, Setting
from database import db
from errors import NotFound
from models import ID_MAX, Change, ConnectedSystem, SettingValue, holds, name_guarded, utcnow

SYSTEMS = ConnectedSystem.__table__
VALUES = SettingValue.__table__
SYSTEM_COLUMNS = tuple(SYSTEMS.c.keys())

# The statements are built once, with bound parameters: a request neither builds nor cache-keys them.
PEEK = select(SYSTEMS.c.id, SYSTEMS.c.connector_definition_id, SYSTEMS.c.version).where(
    SYSTEMS.c.id == bindparam("id")
)
# The row and its values in one statement, so that even without a transaction a reader sees one state:
# one result row per value held, or one with the value columns null when none is.
SYSTEM = (
    select(SYSTEMS, VALUES.c.setting_id, *(VALUES.c[column] for column in SettingValue.VALUE_COLUMNS))
    .outerjoin(VALUES, VALUES.c.connected_system_id == SYSTEMS.c.id)
    .where(SYSTEMS.c.id == bindparam("id"))
)
# SQLite has no row locks and leaves FOR UPDATE out: its BEGIN IMMEDIATE already holds the write lock.
LOCKED_SYSTEM = SYSTEM.with_for_update(of=SYSTEMS)
# SET takes the columns each execution is given; every change moves the version, from which the ETag is made.
UPDATE_SYSTEM = (
    update(SYSTEMS)
    .where(SYSTEMS.c.id == bindparam("system_id"))
    .values(version=SYSTEMS.c.version + 1)
    .returning(*SYSTEMS.c)
)
DELETE_VALUE = delete(VALUES).where(
    VALUES.c.connected_system_id == bindparam("system_id"), VALUES.c.setting_id == bindparam("cleared_id")
)


def upsert(insert):
    """A setting's value inserted, or replacing the one it holds: each store spells it with its own insert."""
    statement = insert(VALUES)
    return statement.on_conflict_do_update(
        index_elements=[VALUES.c.connected_system_id, VALUES.c.setting_id],
        set_={column: statement.excluded[column] for column in SettingValue.VALUE_COLUMNS},
    )


UPSERT_VALUE = {"sqlite": upsert(sqlite.insert), "postgresql": upsert(postgresql.insert)}

# The fields a PUT may change other than settings: as the contract and the history name them, and their column.
FIELDS = (("name", "name"), ("description", "description"), ("maxExportParallelism", "max_export_parallelism"))


@dataclass(frozen=True)
class StoredSystem:
    """A connected system as stored: its row's columns, and its values by setting id (a secret's a ``Secret``)."""

    id: int
    name: str
    name_key: str
    description: str | None
    connector_definition_id: int
    created: datetime
    last_updated: datetime | None
    setting_values_valid: bool
    max_export_parallelism: int | None
    version: int
    values: dict[int, object]

    @property
    def connector(self) -> Connector:
        return CONNECTORS[self.connector_definition_id]

    def value_of(self, setting: Setting):
        return self.values.get(setting.id)


def not_found(system_id: int) -> NotFound:
    return NotFound(f"Connected system {system_id} does not exist.")


def lock_system(system_id: int) -> ConnectedSystem:
    """The system as an entity, locked against other writers until the transaction ends.

    SQLite has no row locks: BEGIN IMMEDIATE already holds the lock. populate_existing: the locked row's values
    win over any copy the session already holds (PostgreSQL's write continues the request's read).
    """
    statement = (
        select(ConnectedSystem).where(ConnectedSystem.id == system_id)
        .with_for_update().execution_options(populate_existing=True)
    )
    system = db.session.scalar(statement) if system_id <= ID_MAX else None
    if system is None:
        raise not_found(system_id)
    return system


def peek_system(system_id: int) -> Row:
    """The system's id, connector and version, read without a lock.

    Enough to validate a body before a write takes the lock (a system's connector never changes) and to refuse
    a stale ``If-Match`` early; the write checks ``If-Match`` again under the lock.
    """
    row = db.session.connection().execute(PEEK, {"id": system_id}).one_or_none() if system_id <= ID_MAX else None
    if row is None:
        raise not_found(system_id)
    return row


def read_system(system_id: int) -> StoredSystem:
    """The system and its values, as last committed."""
    return fetch_system(db.session.connection(), SYSTEM, system_id)


def read_locked_system(connection: Connection, system_id: int) -> StoredSystem:
    """The system and its values, read on a write's connection and locked against other writers until it ends."""
    return fetch_system(connection, LOCKED_SYSTEM, system_id)


def fetch_system(connection: Connection, statement, system_id: int) -> StoredSystem:
    """The system as ``statement`` (``SYSTEM`` or ``LOCKED_SYSTEM``) reads it: its row, repeated beside each value."""
    rows = connection.execute(statement, {"id": system_id}).all() if system_id <= ID_MAX else []
    if not rows:
        raise not_found(system_id)
    fields = dict(zip(SYSTEM_COLUMNS, rows[0]))
    settings = CONNECTORS[fields["connector_definition_id"]].settings_by_id
    values = {
        row.setting_id: getattr(row, SettingValue.column_for(settings[row.setting_id]))
        for row in rows
        if row.setting_id is not None
    }
    return StoredSystem(**fields, values=values)


def apply_update(connection: Connection, system: StoredSystem, update: dict) -> tuple[StoredSystem, list[Change]]:
    """Write a validated partial update (``ConnectedSystemUpdateSchema``'s output) to ``system``, read locked
    on the write's ``connection``.

    Only what differs from what is stored is written; nothing at all when nothing differs. Returns the system
    as written, and what changed, for the history.
    """
    columns, changes = {}, []
    for field, column in FIELDS:
        if column in update and getattr(system, column) != update[column]:
            changes.append(Change(field, getattr(system, column), update[column]))
            columns[column] = update[column]

    values, upserted, cleared = dict(system.values), [], []
    for setting_id, value in update.get("setting_values", {}).items():
        setting, old = system.connector.settings_by_id[setting_id], system.values.get(setting_id)
        if value is None:  # clears the setting
            if old is None:
                continue
            cleared.append({"system_id": system.id, "cleared_id": setting_id})
            del values[setting_id]
        else:
            if old is not None and holds(setting, old, value):
                continue
            columns_of_value = SettingValue.columns_holding(setting, value)  # a secret sealed here
            upserted.append({"connected_system_id": system.id, "setting_id": setting_id, **columns_of_value})
            values[setting_id] = columns_of_value[SettingValue.column_for(setting)]
        field = f"settingValues.{setting_id}"
        # A secret's change is recorded without either value.
        changes.append(Change(field, None, None) if setting.is_secret else Change(field, old, value))
    if (upserted or cleared) and system.setting_values_valid:
        changes.append(Change("settingValuesValid", True, False))
        columns["setting_values_valid"] = False

    if not changes:
        return system, changes
    if "name" in columns:
        columns["name_key"] = columns["name"].casefold()
    columns["last_updated"] = utcnow()
    with name_guarded(columns.get("name")):
        row = connection.execute(UPDATE_SYSTEM, {"system_id": system.id, **columns}).one()
    if upserted:
        connection.execute(UPSERT_VALUE[connection.dialect.name], upserted)
    if cleared:
        connection.execute(DELETE_VALUE, cleared)
    return StoredSystem(**row._mapping, values=values), changes
