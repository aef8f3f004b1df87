"""The connected-system aggregate: every read and every write of a connected system and what belongs to it.

Reads return plain frozen dataclasses. Every write is ``save(write, before, after, ...)``: the write paths
compute the system as they leave it (``created``, ``updated``, ``validated``; None for a delete) and any
writes to the parts that belong to it (object types, partitions: ``PartEdit``), and ``save`` writes only
what differs, moves the version and ``lastUpdated`` when anything did, keeps ``name_key`` in step, resets
``settingValuesValid`` when a setting value changed, and records the change in the history, all in the one
transaction that ``writing()`` holds.

Everything is SQLAlchemy Core, the statements of one system's reads and writes built once (the list's and
the history's pages are built per request, from their query): GET and PUT of one system are the service's
busy requests, and ORM entities cost them thousands of calls each (loading, the identity map, the unit of
work). A write's statements are sent when it commits (``database.commit_writes``), so that PostgreSQL
holds the system's row lock for as few round trips as it can.
"""
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy import bindparam, delete, exists, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Row
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql import Executable

from auth import Principal
from connectors import CONNECTORS
from connectors.checks import check_settings
from connectors.interface import Connector, Setting
from database import commit_writes, db, write_transaction
from encryption import Secret, UnreadableSecret
from errors import NameInUse, NotFound
from history import RECORD, Change, ChangeAction, record_row, setting_field
from models import (
    ID_MAX,
    UnresolvedReferenceHandling,
    ConnectorDefinition,
    attributes_table,
    change_records_table,
    connected_systems_table,
    connector_space_counts_table,
    object_types_table,
    setting_values_table,
    utcnow,
)

SYSTEM_COLUMNS = tuple(connected_systems_table.c.keys())
VALUE_COLUMNS = ("string_value", "int_value", "checkbox_value", "secret_value")
COLUMN_OF_VALUE_KEY = {"stringValue": "string_value", "intValue": "int_value", "checkboxValue": "checkbox_value"}
# The fields a client may change other than settings: as the contract and the history name them, and their column.
FIELDS = (("name", "name"), ("description", "description"), ("maxExportParallelism", "max_export_parallelism"),
          ("requireSecureTransport", "require_secure_transport"),
          ("initialPasswordTimeToLive", "initial_password_time_to_live"),
          ("unresolvedReferenceHandling", "unresolved_reference_handling"))
NAME_CONSTRAINT = "uq_connected_systems_name_key"


def column_for(setting: Setting) -> str:
    """The value column a setting's values are kept in; a secret's holds its sealed token."""
    return "secret_value" if setting.is_secret else COLUMN_OF_VALUE_KEY[setting.value_key]


def holds(setting: Setting, stored, value) -> bool:
    """Whether ``stored`` (what a setting holds; a ``Secret`` for a secret one) is ``value`` already.

    A secret is compared by its plaintext, so re-sending the stored password changes nothing; one that no
    configured key can read is never equal, so sending it again mends it.
    """
    if setting.is_secret:
        try:
            return stored.reveal() == value
        except UnreadableSecret:
            return False
    return type(stored) is type(value) and stored == value


@dataclass(frozen=True)
class ObjectTypeSummary:
    """An imported object type as the Connected System object lists it."""

    id: int
    name: str
    created: datetime
    selected: bool
    remove_contributed_attributes_on_obsoletion: bool
    attribute_count: int


@dataclass(frozen=True)
class SystemRow:
    """A connected system's own fields, as the list shows them."""

    id: int | None  # None until it is stored
    name: str
    name_key: str
    description: str | None
    connector_definition_id: int
    created: datetime
    last_updated: datetime | None
    setting_values_valid: bool
    max_export_parallelism: int | None
    require_secure_transport: bool
    initial_password_time_to_live: str | None
    unresolved_reference_handling: str
    version: int

    @property
    def connector(self) -> Connector:
        return CONNECTORS[self.connector_definition_id]


@dataclass(frozen=True)
class StoredSystem(SystemRow):
    """A whole connected system: its fields, its values by setting id (a secret's a ``Secret``) and what a
    schema import found."""

    values: dict[int, object] = field(default_factory=dict)
    object_types: tuple[ObjectTypeSummary, ...] = ()
    object_count: int = 0  # what its connector space holds, not Obsolete; kept by the imports that fill it

    def value_of(self, setting: Setting):
        return self.values.get(setting.id)


@dataclass(frozen=True)
class PartEdit:
    """Writes to what belongs to a system (its object types, its partitions), and the history's account of them."""

    statements: tuple[tuple[Executable, object], ...]
    changes: tuple[Change, ...]


def not_found(system_id: int) -> NotFound:
    return NotFound(f"Connected system {system_id} does not exist.")


def in_range(item_id: int) -> bool:
    """Whether an id could name a row: the routes take any id with as many digits as ``ID_MAX``, and one past it
    is found nowhere."""
    return item_id <= ID_MAX


# --- Reading ---------------------------------------------------------------------------------------------

SYSTEMS_T, VALUES_T, TYPES_T, ATTRIBUTES_T = (
    connected_systems_table, setting_values_table, object_types_table, attributes_table)

# The statements are built once, with bound parameters: a request neither builds nor cache-keys them.
VERSION_OF_SYSTEM = select(SYSTEMS_T.c.id, SYSTEMS_T.c.connector_definition_id, SYSTEMS_T.c.version).where(
    SYSTEMS_T.c.id == bindparam("id")
)
# The row and its values in one statement, so that even without a transaction a reader sees one state:
# one result row per value held, or one with the value columns null when none is. It also says whether the
# system has object types: until its first schema import it has none, and a read of them is a round trip
# and a planned join for nothing (a third of a GET's time on PostgreSQL).
SYSTEM_WITH_VALUES = (
    select(SYSTEMS_T, VALUES_T.c.setting_id, *(VALUES_T.c[column] for column in VALUE_COLUMNS),
           exists().where(TYPES_T.c.connected_system_id == bindparam("id")).label("has_object_types"),
           select(connector_space_counts_table.c.object_count)
           .where(connector_space_counts_table.c.connected_system_id == bindparam("id"))
           .scalar_subquery().label("object_count"))
    .outerjoin(VALUES_T, VALUES_T.c.connected_system_id == SYSTEMS_T.c.id)
    .where(SYSTEMS_T.c.id == bindparam("id"))
)
# SQLite has no row locks and leaves FOR UPDATE out: its BEGIN IMMEDIATE already holds the write lock.
# FOR NO KEY UPDATE, as a write never changes a system's id: it excludes the other writers all the same, but
# not the FOR KEY SHARE that PostgreSQL takes on the system for each row an import inserts that refers to it,
# so that a PUT does not wait for an import's batch.
LOCKED_SYSTEM_WITH_VALUES = SYSTEM_WITH_VALUES.with_for_update(of=SYSTEMS_T, key_share=True)
OBJECT_TYPE_SUMMARIES = (
    select(TYPES_T.c.id, TYPES_T.c.name, TYPES_T.c.name_key, TYPES_T.c.created, TYPES_T.c.selected,
           TYPES_T.c.remove_contributed_attributes_on_obsoletion, func.count(ATTRIBUTES_T.c.id).label("attribute_count"))
    .outerjoin(ATTRIBUTES_T, ATTRIBUTES_T.c.object_type_id == TYPES_T.c.id)
    .where(TYPES_T.c.connected_system_id == bindparam("id"))
    .group_by(TYPES_T.c.id)
)


@dataclass(frozen=True)
class Rows:
    """Rows as the database driver gives them, unconverted (a SQLite boolean is 0 or 1), with their columns'
    names and each column's conversion to its value (None when the driver's value is it): for the big reads,
    where building SQLAlchemy's Row objects costs more than all else."""

    columns: list[str]
    rows: list[tuple]
    converts: dict[str, object]

    def position(self, column: str) -> int:
        return self.columns.index(column)


def raw_rows(connection: Connection, statement, parameters: dict) -> Rows:
    result = connection.execute(statement, parameters)
    dialect = connection.dialect
    columns = list(result.keys())
    converts = {name: column.type.dialect_impl(dialect).result_processor(dialect, None)
                for name, column in zip(columns, statement.selected_columns)}
    try:
        return Rows(columns, result.cursor.fetchall(), converts)
    finally:
        result.close()


def peek(system_id: int) -> Row:
    """The system's id, connector and version, read without a lock.

    Enough to validate a body before a write takes the lock (a system's connector never changes) and to
    refuse a stale ``If-Match`` early; the write checks ``If-Match`` again under the lock.
    """
    connection = db.session.connection()
    row = connection.execute(VERSION_OF_SYSTEM, {"id": system_id}).one_or_none() if in_range(system_id) else None
    if row is None:
        raise not_found(system_id)
    return row


def read(system_id: int) -> StoredSystem:
    """The whole system, as last committed."""
    return fetch(db.session.connection(), SYSTEM_WITH_VALUES, system_id)


def read_locked(connection: Connection, system_id: int, object_types: bool = True) -> StoredSystem:
    """The whole system, read on a write's connection and locked against other writers until it ends.
    Without ``object_types``, its summaries of them are left out: a write to a part of the system has no use
    for them, and on a schema of 2,000 tables they cost it a count of 50,000 rows."""
    return fetch(connection, LOCKED_SYSTEM_WITH_VALUES, system_id, object_types)


def fetch(connection: Connection, statement, system_id: int, object_types: bool = True) -> StoredSystem:
    rows = connection.execute(statement, {"id": system_id}).all() if in_range(system_id) else []
    if not rows:
        raise not_found(system_id)
    fields = dict(zip(SYSTEM_COLUMNS, rows[0]))
    settings = CONNECTORS[fields["connector_definition_id"]].settings_by_id
    values = {
        row.setting_id: getattr(row, column_for(settings[row.setting_id])) for row in rows if row.setting_id is not None
    }
    types = connection.execute(OBJECT_TYPE_SUMMARIES, {"id": system_id}).all() if (
        object_types and rows[0].has_object_types) else []
    object_types = tuple(
        ObjectTypeSummary(row.id, row.name, row.created, row.selected,
                          row.remove_contributed_attributes_on_obsoletion, row.attribute_count)
        for row in sorted(types, key=lambda row: (row.name_key, row.id))
    )
    return StoredSystem(**fields, values=values, object_types=object_types, object_count=rows[0].object_count or 0)


LIST_SORT_COLUMNS = {
    "name": SYSTEMS_T.c.name_key,
    "created": SYSTEMS_T.c.created,
    "connectorName": ConnectorDefinition.__table__.c.name,
}


def list_page(filter_text: str | None, sort_by: str, descending: bool, page: int, page_size: int
              ) -> tuple[list[SystemRow], int]:
    """One page of systems whose case-folded name holds ``filter_text``, and how many there are; ties by id."""
    statement = select(SYSTEMS_T).join(ConnectorDefinition.__table__)
    if filter_text:
        statement = statement.where(SYSTEMS_T.c.name_key.contains(filter_text.casefold(), autoescape=True))
    connection = db.session.connection()
    total = connection.execute(select(func.count()).select_from(statement.subquery())).scalar_one()
    column = LIST_SORT_COLUMNS[sort_by]
    order = (column.desc(), SYSTEMS_T.c.id.desc()) if descending else (column.asc(), SYSTEMS_T.c.id.asc())
    rows = connection.execute(statement.order_by(*order).limit(page_size).offset((page - 1) * page_size))
    return [SystemRow(**row._mapping) for row in rows], total


def history_page(system_id: int, page: int, page_size: int) -> tuple[list[Row], int]:
    """One page of the system's history, newest first, and how many records there are.

    A deleted system's history stays readable under its id; one that never existed is a 404.
    """
    records = change_records_table
    of_system = records.c.connected_system_id == system_id
    connection = db.session.connection()
    total = connection.execute(select(func.count()).where(of_system)).scalar_one() if in_range(system_id) else 0
    if total == 0:
        peek(system_id)
    rows = connection.execute(
        select(records).where(of_system).order_by(records.c.id.desc()).limit(page_size).offset((page - 1) * page_size)
    ).all()
    return rows, total


# --- Computing a change ----------------------------------------------------------------------------------

def created(name: str, description: str | None, connector: Connector) -> StoredSystem:
    """A new system, holding its connector's default values."""
    return StoredSystem(
        id=None, name=name, name_key=name.casefold(), description=description, connector_definition_id=connector.id,
        created=utcnow(), last_updated=None, setting_values_valid=False, max_export_parallelism=None,
        require_secure_transport=False, initial_password_time_to_live=None,
        unresolved_reference_handling=UnresolvedReferenceHandling.ERROR.value, version=1,
        values={setting.id: sealed(setting, setting.default) for setting in connector.settings
                if setting.default is not None},
    )


def updated(system: StoredSystem, fields: dict, values: dict[int, object]) -> StoredSystem:
    """The system with ``fields`` (by column) and setting ``values`` (by id; None clears) as a PUT gives them.

    A value that is what the setting already holds is kept as it is stored, so that it is no change.
    """
    held = dict(system.values)
    for setting_id, value in values.items():
        setting = system.connector.settings_by_id[setting_id]
        if value is None:
            held.pop(setting_id, None)
        elif setting_id not in held or not holds(setting, held[setting_id], value):
            held[setting_id] = sealed(setting, value)
    return replace(system, **fields, values=held)


def validated(system: StoredSystem, valid: bool) -> StoredSystem:
    """The system with the outcome of a validation or an import recorded."""
    return replace(system, setting_values_valid=valid)


def settings_problems(system: StoredSystem) -> dict[str, list[str]]:
    """The connector's offline checks of the stored values, and each secret that no configured encryption
    key can read, by field (``settingValues.<id>``)."""
    values = {setting.id: system.value_of(setting) for setting in system.connector.settings}
    # A check sees a secret only as held or not: True, never its plaintext.
    for_checks = {setting_id: True if isinstance(value, Secret) else value for setting_id, value in values.items()}
    problems = check_settings(system.connector, for_checks)
    for setting_id, value in values.items():
        if isinstance(value, Secret) and not value.is_readable():
            setting = system.connector.settings_by_id[setting_id]
            problems.setdefault(setting_id, []).append(
                f"{setting.name} cannot be read with any configured encryption key; set it again."
            )
    return {setting_field(setting_id): messages for setting_id, messages in problems.items()}


def sealed(setting: Setting, value):
    """A value as the system holds it: a secret sealed at once, so its plaintext goes no further."""
    return Secret.seal(value) if setting.is_secret else value


def held_fields(system: StoredSystem) -> list[tuple[str, object]]:
    """Every field holding a value, named as in validationErrors; a secret with None, never its value."""
    fields = [("name", system.name), ("description", system.description),
              ("connectorDefinitionId", system.connector_definition_id),
              *((name, getattr(system, column)) for name, column in FIELDS[2:])]
    held = [(name, value) for name, value in fields if value is not None]
    for setting in system.connector.settings:
        value = system.value_of(setting)
        if value is not None:
            held.append((setting_field(setting.id), None if setting.is_secret else value))
    return held


def changed_settings(before: StoredSystem | None, after: StoredSystem | None) -> list[Setting]:
    """The settings whose value differs between two states, in the connector's order. A value a write path
    keeps is the same object as before (a Secret's plaintext is not at hand to compare), so identity comes
    first; a value equal to the one before is no change either."""
    old, new = (before.values if before else {}), (after.values if after else {})
    differing = {setting_id for setting_id in old.keys() | new.keys()
                 if old.get(setting_id) is not new.get(setting_id) and old.get(setting_id) != new.get(setting_id)}
    return [setting for setting in (after or before).connector.settings if setting.id in differing]


def differences(before: StoredSystem | None, after: StoredSystem | None, settings: list[Setting]) -> list[Change]:
    """What differs between two states of a system (``settings``: those whose value differs); a created or
    deleted one differs in every field it holds. A secret's change is named without either value."""
    if before is None:
        return [Change(name, None, value) for name, value in held_fields(after)]
    if after is None:
        return [Change(name, value, None) for name, value in held_fields(before)]
    changes = [Change(name, getattr(before, column), getattr(after, column))
               for name, column in FIELDS if getattr(before, column) != getattr(after, column)]
    for setting in settings:
        shown = (None, None) if setting.is_secret else (before.values.get(setting.id), after.values.get(setting.id))
        changes.append(Change(setting_field(setting.id), *shown))
    if before.setting_values_valid != after.setting_values_valid:
        changes.append(Change("settingValuesValid", before.setting_values_valid, after.setting_values_valid))
    return changes


# --- Writing ---------------------------------------------------------------------------------------------

INSERT_SYSTEM = insert(SYSTEMS_T).returning(SYSTEMS_T.c.id)
# SET takes the columns each execution is given.
UPDATE_SYSTEM = update(SYSTEMS_T).where(SYSTEMS_T.c.id == bindparam("system_id"))
DELETE_SYSTEM = delete(SYSTEMS_T).where(SYSTEMS_T.c.id == bindparam("system_id"))
DELETE_VALUE = delete(VALUES_T).where(
    VALUES_T.c.connected_system_id == bindparam("system_id"), VALUES_T.c.setting_id == bindparam("cleared_id")
)


def upsert(insert_of_dialect):
    """A setting's value inserted, or replacing the one it holds: each store spells it with its own insert."""
    statement = insert_of_dialect(VALUES_T)
    return statement.on_conflict_do_update(
        index_elements=[VALUES_T.c.connected_system_id, VALUES_T.c.setting_id],
        set_={column: statement.excluded[column] for column in VALUE_COLUMNS},
    )


UPSERT_VALUE = {"sqlite": upsert(sqlite.insert), "postgresql": upsert(postgresql.insert)}


class Write:
    """One write of the aggregate: its connection, for reads under its lock, and the statements it sends
    when it commits."""

    def __init__(self, connection: Connection):
        self.connection = connection
        self.statements: list[tuple[Executable, object]] = []
        self.new_name: str | None = None  # the name it gives a system, if any: a conflict on it is NameInUse
        # The history record of the change, written last, with the snapshot of what the write left; and the
        # secret settings the change set, which the snapshot marks as set by this version.
        self.record: dict | None = None
        self.secrets_set: set[int] = set()
        self.after: StoredSystem | None = None  # the system as the change leaves it; None: deleted

    def add(self, statement: Executable, parameters):
        self.statements.append((statement, parameters))


def is_name_conflict(error: IntegrityError) -> bool:
    """Whether the unique index of names refused the write (and not some other constraint: that is a bug)."""
    diagnostics = getattr(error.orig, "diag", None)  # psycopg names the constraint
    if diagnostics is not None:
        return diagnostics.constraint_name == NAME_CONSTRAINT
    return "connected_systems.name_key" in str(error.orig)  # SQLite names the column


@contextmanager
def writing() -> Iterator[Write]:
    """One write transaction of the aggregate: begun (and, on SQLite, the write lock taken) on entry,
    its statements sent and committed when the block ends, everything rolled back on any error.

    The unique index of names decides whether a name is free, so two writers racing for one name cannot
    both get it: the loser's write is NameInUse.
    """
    write = None
    try:
        with write_transaction() as connection:
            write = Write(connection)
            yield write
            if write.record is None:
                commit_writes(connection, write.statements)
            else:
                from systems import snapshots  # noqa: PLC0415  (it reads through this package's parts)

                # The snapshot is taken in the change's transaction, under its lock. The parts the change touched
                # are read after its own statements; when it touched none (a PUT), the statements, the record and
                # the commit still go in one round trip.
                plan = snapshots.planned(connection, write.record, write.after)
                if plan.reads:
                    for statement, parameters in write.statements:
                        connection.execute(statement, parameters)
                    write.statements = []
                write.record["snapshot"] = snapshots.taken(connection, plan, write.record, write.secrets_set,
                                                           write.after)
                commit_writes(connection, [*write.statements, (RECORD, write.record)])
    except IntegrityError as error:
        if write is None or write.new_name is None or not is_name_conflict(error):
            raise
        raise NameInUse(write.new_name) from None


def save(write: Write, before: StoredSystem | None, after: StoredSystem | None, action: ChangeAction,
         by: Principal | None, reason: str | None = None, parts: tuple[PartEdit, ...] = ()) -> StoredSystem | None:
    """The one write of a connected system: ``before`` as read under the write's lock (None: a new system),
    ``after`` as the write path leaves it (None: deleted), ``parts`` the writes to what belongs to it.

    Writes only what differs, and nothing at all when nothing does. A setting value that changed makes the
    settings unvalidated again. Any change moves the version (the ETag) and ``lastUpdated``, and is recorded
    in the history as ``action`` by ``by`` (an operator command has no caller, and records nothing).
    Returns the system as written.
    """
    settings = changed_settings(before, after)
    if before is not None and after is not None and settings and after.setting_values_valid:
        after = replace(after, setting_values_valid=False)
    changes = differences(before, after, settings) + [change for part in parts for change in part.changes]
    if not changes:
        return before
    if after is None:
        write.add(DELETE_SYSTEM, {"system_id": before.id})
    elif before is None:
        write.new_name = after.name
        row = {column: getattr(after, column) for column in SYSTEM_COLUMNS if column != "id"}
        after = replace(after, id=write.connection.execute(INSERT_SYSTEM, row).scalar_one())
        write_values(write, after, settings)
    else:
        after = replace(after, name_key=after.name.casefold(), version=before.version + 1, last_updated=utcnow())
        old, new = vars(before), vars(after)
        columns = {column: new[column] for column in SYSTEM_COLUMNS if new[column] != old[column]}
        if "name" in columns:
            write.new_name = after.name
        write.add(UPDATE_SYSTEM, {"system_id": after.id, **columns})
        write_values(write, after, settings)
    for part in parts:
        write.statements.extend(part.statements)
    if by is not None:
        version = after.version if after is not None else before.version + 1
        write.record = record_row((after or before).id, version, action, changes, by, reason)
        write.after = after
        write.secrets_set = {setting.id for setting in settings if setting.is_secret}
    return after


def write_values(write: Write, after: StoredSystem, settings: list[Setting]):
    """The values of ``settings``, which differ from what is stored: each held one upserted, each cleared one
    deleted."""
    upserted, cleared = [], []
    for setting in settings:
        new = after.values.get(setting.id)
        if new is None:
            cleared.append({"system_id": after.id, "cleared_id": setting.id})
        else:
            columns = dict.fromkeys(VALUE_COLUMNS)
            columns[column_for(setting)] = new
            upserted.append({"connected_system_id": after.id, "setting_id": setting.id, **columns})
    if upserted:
        write.add(UPSERT_VALUE[write.connection.dialect.name], upserted)
    if cleared:
        write.add(DELETE_VALUE, cleared)


STORED_SECRETS = (
    select(VALUES_T.c.connected_system_id, VALUES_T.c.setting_id, VALUES_T.c.secret_value)
    .where(VALUES_T.c.secret_value.is_not(None))
    .with_for_update()
)
REPLACE_SECRET = update(VALUES_T).where(
    VALUES_T.c.connected_system_id == bindparam("system_id"), VALUES_T.c.setting_id == bindparam("secret_id")
)


def reencrypt_secrets(write: Write) -> tuple[int, list[str]]:
    """Every stored secret rewritten under the first configured key: how many, and which ones no configured
    key can read (then none is rewritten). The plaintext is unchanged, so no version moves and the history
    records nothing: a client sees no change."""
    rewritten, unreadable = [], []
    for row in write.connection.execute(STORED_SECRETS):
        try:
            rewritten.append({"system_id": row.connected_system_id, "secret_id": row.setting_id,
                              "secret_value": row.secret_value.rotated()})
        except UnreadableSecret:
            unreadable.append(f"connected system {row.connected_system_id} setting {row.setting_id}")
    if not unreadable and rewritten:
        write.add(REPLACE_SECRET, rewritten)
    return len(rewritten), unreadable
