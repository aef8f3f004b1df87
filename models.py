"""The stored state: API keys, the catalog's copy, and the connected-system aggregate's tables.

API keys and the catalog are ORM entities. A connected system and everything that belongs to it (setting
values, history, object types and attributes, partitions and containers) are plain tables, read and written
only by ``systems`` with Core statements: no identity map or unit of work between a request and its rows.
"""
import uuid
from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from connectors import CONNECTORS
from connectors.interface import ContainerScopeKind
from database import db
from encryption import EncryptedSecret

# Every id is an INTEGER column: 32 bits on PostgreSQL, which refuses a larger number even in a comparison.
# The one statement of an id's range: the routes and the reads derive theirs from it.
ID_MAX = 2**31 - 1
ID_DIGITS = len(str(ID_MAX))  # the longest id a path or a JSON key may spell


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """A point in time, always handed back aware and in UTC: SQLite keeps no zone, so it is stored as UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class UnresolvedReferenceHandling(StrEnum):
    """What an import makes of a reference it cannot resolve, as JIM names it (JIM's default: Error)."""

    ERROR = "Error"
    WARN = "Warn"
    IGNORE = "Ignore"


class Role(StrEnum):
    ADMINISTRATOR = "Administrator"
    READER = "Reader"

    @property
    def id(self) -> int:
        """JIM's role id (Administrator is JIM's first role); JIM has no Reader: it is this service's."""
        return ROLE_IDS[self]


ROLE_IDS = {Role.ADMINISTRATOR: 1, Role.READER: 2}


def new_public_id() -> str:
    return str(uuid.uuid4())


class ApiKey(db.Model):
    """An API key, kept only as its SHA-256 hash and a short display prefix.

    ``public_id`` is its id over the API (a GUID, as JIM's and its module's are); ``role`` None is a key with no
    role, which authenticates and may do nothing but ask who it is. A revoked key (``api-key revoke``) stays
    revoked; a disabled one (``isEnabled`` false) may be enabled again.
    """

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(36), unique=True, default=new_public_id)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(String(1000))
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str | None] = mapped_column(String(20))
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # The key JIM_INFRASTRUCTURE_API_KEY names: its environment manages it, not the API.
    is_infrastructure: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    def status(self, now: datetime) -> str:
        return key_status(self.revoked_at, self.enabled, self.expires_at, now)


def key_status(revoked_at: datetime | None, enabled: bool, expires_at: datetime | None, now: datetime) -> str:
    """Whether a key works, the one rule for a key's row (authentication) and its entity (``api-key list``)."""
    if revoked_at is not None:
        return "revoked"
    if not enabled:
        return "disabled"
    if expires_at is not None and expires_at <= now:
        return "expired"
    return "active"


class ConnectorDefinition(db.Model):
    """The database's copy of a catalog connector, so that connected systems can reference it."""

    __tablename__ = "connector_definitions"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)


class ConnectorSetting(db.Model):
    """The database's copy of a catalog setting, so that stored values can reference it."""

    __tablename__ = "connector_settings"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    connector_definition_id: Mapped[int] = mapped_column(ForeignKey("connector_definitions.id"))
    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(30))
    required: Mapped[bool] = mapped_column(Boolean)


def seed_catalog():
    """Copy the catalog into its tables; merging by id makes a second run change nothing."""
    for connector in CONNECTORS.values():
        db.session.merge(ConnectorDefinition(id=connector.id, name=connector.name, description=connector.description))
        for setting in connector.settings:
            db.session.merge(
                ConnectorSetting(
                    id=setting.id,
                    connector_definition_id=connector.id,
                    name=setting.name,
                    type=str(setting.type),
                    required=setting.required,
                )
            )
    db.session.commit()


def ids() -> Column:
    return Column("id", Integer, primary_key=True)


# Ids are never reused (SQLite would otherwise hand a deleted row's id to the next one), so a deleted
# system's history and an old ETag can never be mistaken for a new system's.
NEVER_REUSED = {"sqlite_autoincrement": True}

connected_systems_table = Table(
    "connected_systems",
    db.metadata,
    ids(),
    Column("name", String(200), nullable=False),
    # The case-folded name: one spelling per name whatever its case, and the list's case-insensitive filter.
    Column("name_key", Text, nullable=False, unique=True),
    Column("description", String(1000)),
    Column("connector_definition_id", ForeignKey("connector_definitions.id"), nullable=False),
    Column("created", UTCDateTime, nullable=False),
    Column("last_updated", UTCDateTime),
    Column("setting_values_valid", Boolean, nullable=False),
    Column("max_export_parallelism", Integer),
    # JIM's password and reference settings of a system, stored and shown; nothing here acts on them yet.
    # initial_password_time_to_live is a .NET TimeSpan in its canonical text ("7.00:00:00"); null: JIM's 7 days.
    Column("require_secure_transport", Boolean, nullable=False, server_default=false()),
    Column("initial_password_time_to_live", String(30)),
    Column("unresolved_reference_handling", String(10), nullable=False,
           server_default=UnresolvedReferenceHandling.ERROR.value),
    # Counts the changes; the ETag is made from it.
    Column("version", Integer, nullable=False),
    **NEVER_REUSED,
)

# A row exists only while a system holds a value for the setting; only the setting's own column is set.
setting_values_table = Table(
    "connected_system_setting_values",
    db.metadata,
    Column("connected_system_id", ForeignKey("connected_systems.id", ondelete="CASCADE"), primary_key=True),
    Column("setting_id", ForeignKey("connector_settings.id"), primary_key=True),
    Column("string_value", Text),
    Column("int_value", Integer),
    Column("checkbox_value", Boolean),
    Column("secret_value", EncryptedSecret),
)

# One entry of a connected system's history, written in the transaction of the change it records.
# connected_system_id has no foreign key on purpose: the history outlives the system, and stays readable
# under the id it had. A nulling foreign key would keep the rows but lose whose they are.
change_records_table = Table(
    "connected_system_changes",
    db.metadata,
    ids(),
    Column("connected_system_id", Integer, nullable=False),
    Column("changed_at", UTCDateTime, nullable=False),
    # Who, copied as it was then: renaming or revoking the key later does not rewrite the history.
    Column("actor_type", String(20), nullable=False),
    Column("actor_name", String(200), nullable=False),
    Column("actor_prefix", String(16), nullable=False),
    Column("action", String(30), nullable=False),
    Column("change_reason", Text),
    # [{"field", "old", "new"}, ...]: one entry per ``history.Change``.
    Column("changes", JSON, nullable=False),
    # The system's version this change made it (its ETag's number), JIM's change version; the activity's id as
    # JIM names a change; and the whole configuration as the change left it (``systems.snapshots``), none for a
    # deletion or a record older than snapshots.
    Column("version", Integer),
    Column("activity_id", String(36)),
    Column("snapshot", JSON),
    Index("ix_connected_system_changes_system", "connected_system_id", "id"),
    Index("ix_connected_system_changes_version", "connected_system_id", "version"),
)

# What a schema import found: object types, matched on re-import by their case-folded name, so that ids and
# selections survive it.
object_types_table = Table(
    "connected_system_object_types",
    db.metadata,
    ids(),
    Column("connected_system_id", ForeignKey("connected_systems.id", ondelete="CASCADE"), nullable=False),
    Column("name", Text, nullable=False),
    Column("name_key", Text, nullable=False),
    Column("created", UTCDateTime, nullable=False),
    Column("selected", Boolean, nullable=False),
    Column("remove_contributed_attributes_on_obsoletion", Boolean, nullable=False),
    UniqueConstraint("connected_system_id", "name_key"),
    **NEVER_REUSED,
)

attributes_table = Table(
    "connected_system_attributes",
    db.metadata,
    ids(),
    Column("object_type_id", ForeignKey("connected_system_object_types.id", ondelete="CASCADE"), nullable=False),
    Column("name", Text, nullable=False),
    Column("name_key", Text, nullable=False),
    Column("description", Text),
    Column("class_name", Text),
    Column("created", UTCDateTime, nullable=False),
    Column("type", String(20), nullable=False),
    Column("attribute_plurality", String(20), nullable=False),
    Column("writability", String(20), nullable=False),
    Column("selected", Boolean, nullable=False),
    Column("is_external_id", Boolean, nullable=False),
    Column("is_secondary_external_id", Boolean, nullable=False),
    UniqueConstraint("object_type_id", "name_key"),
    **NEVER_REUSED,
)

# What a hierarchy import found: partitions (an LDAP directory's naming contexts) and their trees of
# containers. external_id is the system's name for each (a DN); stable_id the id that survives a rename or a
# move (entryUUID, objectGUID), by which they are matched on re-import when the system has one.
partitions_table = Table(
    "connected_system_partitions",
    db.metadata,
    ids(),
    Column("connected_system_id", ForeignKey("connected_systems.id", ondelete="CASCADE"), nullable=False,
           index=True),
    Column("external_id", Text, nullable=False),
    Column("stable_id", Text),
    Column("name", Text, nullable=False),
    Column("selected", Boolean, nullable=False),
    **NEVER_REUSED,
)

containers_table = Table(
    "connected_system_containers",
    db.metadata,
    ids(),
    Column("connected_system_id", ForeignKey("connected_systems.id", ondelete="CASCADE"), nullable=False),
    # Indexed, so that deleting a partition or a container finds what refers to it without a scan of the table.
    Column("partition_id", ForeignKey("connected_system_partitions.id", ondelete="CASCADE"), nullable=False,
           index=True),
    Column("parent_id", ForeignKey("connected_system_containers.id", ondelete="CASCADE"), index=True),
    Column("external_id", Text, nullable=False),
    Column("stable_id", Text),
    Column("name", Text, nullable=False),
    Column("description", Text),
    Column("hidden", Boolean, nullable=False),
    Column("selected", Boolean, nullable=False),
    # Container scope, as JIM's: an excluded container (and its subtree) is left out of a selected ancestor's
    # scope; a selected one's scope is its whole subtree or its own level only.
    Column("excluded", Boolean, nullable=False, server_default=false()),
    Column("scope", String(20), nullable=False, server_default=ContainerScopeKind.SUBTREE.value),
    # A system's containers, and one of them by its external id: a hierarchy import finds the parent of a
    # container new in the same write by it, once per container, so without it an import is quadratic.
    Index("ix_connected_system_containers_system_external_id", "connected_system_id", "external_id"),
    **NEVER_REUSED,
)


# A connected system's run profiles: what its synchronisation runs will do. Executing one is not here yet.
# A profile that targets a partition the system no longer has targets none, as JIM's foreign key does.
run_profiles_table = Table(
    "connected_system_run_profiles",
    db.metadata,
    ids(),
    Column("connected_system_id", ForeignKey("connected_systems.id", ondelete="CASCADE"), nullable=False,
           index=True),
    Column("name", String(200), nullable=False),
    Column("run_type", String(30), nullable=False),
    Column("page_size", Integer, nullable=False),
    Column("partition_id", ForeignKey("connected_system_partitions.id", ondelete="SET NULL"), index=True),
    Column("file_path", String(500)),
    Column("verify_import_content_hashes", Boolean, nullable=False),
    Column("created", UTCDateTime, nullable=False),
    **NEVER_REUSED,
)


# --- The connector space and the activities (Full Import) -----------------------------------------------------
# What a Full Import read from the connected system: one row per object, its values as one canonical JSON
# document (``connector_space.encoded``) and that document's digest, so that a re-import finds an unchanged
# object by comparing digests and writes nothing. An object no longer seen is kept, Obsolete, as JIM's.
connector_space_objects_table = Table(
    "connector_space_objects",
    db.metadata,
    Column("id", String(36), primary_key=True),  # a UUID, as JIM's object ids are
    Column("connected_system_id", ForeignKey("connected_systems.id", ondelete="CASCADE"), nullable=False),
    Column("object_type_id", ForeignKey("connected_system_object_types.id", ondelete="CASCADE"), nullable=False,
           index=True),
    # The partition it was read from (LDAP), so that a run of one partition marks only its own as Obsolete.
    Column("partition_id", ForeignKey("connected_system_partitions.id", ondelete="SET NULL"), index=True),
    Column("external_id", Text, nullable=False),
    Column("secondary_external_id", Text),
    Column("display_name", Text),
    Column("attribute_values", Text, nullable=False),
    Column("values_digest", String(32), nullable=False),
    Column("status", String(20), nullable=False),
    Column("created", UTCDateTime, nullable=False),
    Column("last_updated", UTCDateTime),
    # A batch of an import looks its objects up by external id; the list pages a system's objects.
    UniqueConstraint("connected_system_id", "object_type_id", "external_id"),
    Index("ix_connector_space_objects_system_created", "connected_system_id", "created", "id"),
)

# How many objects (not Obsolete) each system's connector space holds: the Connected System object's
# objectCount, kept by each batch that changes it, so that a GET counts nothing.
connector_space_counts_table = Table(
    "connector_space_counts",
    db.metadata,
    Column("connected_system_id", ForeignKey("connected_systems.id", ondelete="CASCADE"), primary_key=True),
    Column("object_count", Integer, nullable=False),
)

# A run of a run profile, as JIM's Activity. connected_system_id has no foreign key, as the history's has none:
# an activity outlives its system. The worker that runs it (host and process) and when it last said so tell
# whether a run InProgress is still running (``activities.seen``).
activities_table = Table(
    "activities",
    db.metadata,
    Column("id", String(36), primary_key=True),
    Column("task_id", String(36), nullable=False),
    Column("connected_system_id", Integer, nullable=False),
    Column("run_profile_id", Integer, nullable=False),
    Column("run_type", String(30), nullable=False),
    Column("target_name", String(200), nullable=False),
    Column("target_context", String(200), nullable=False),
    Column("status", String(30), nullable=False),
    Column("message", Text),
    Column("warning_message", Text),
    Column("error_message", Text),
    Column("initiated_by_type", String(20), nullable=False),
    Column("initiated_by_name", String(200)),
    Column("created", UTCDateTime, nullable=False),
    Column("executed", UTCDateTime),
    Column("completed", UTCDateTime),
    Column("objects_to_process", Integer, nullable=False),
    Column("objects_processed", Integer, nullable=False),
    Column("total_added", Integer, nullable=False),
    Column("total_updated", Integer, nullable=False),
    Column("total_unchanged", Integer, nullable=False),
    Column("total_deleted", Integer, nullable=False),
    Column("total_errors", Integer, nullable=False),
    Column("total_object_types", Integer, nullable=False),
    Column("configuration_version", Integer),  # the system's version the run read its configuration at
    Column("worker", String(300)),
    Column("heartbeat", UTCDateTime),
    Index("ix_activities_created", "created", "id"),
    Index("ix_activities_system_status", "connected_system_id", "status"),
)

# One object's outcome in an activity (JIM's run profile execution item): added, updated, deleted, or an error.
# An unchanged object has none. ``position`` orders them; the id shown is derived from it (``activities``).
activity_items_table = Table(
    "activity_items",
    db.metadata,
    Column("activity_id", ForeignKey("activities.id", ondelete="CASCADE"), primary_key=True),
    Column("position", Integer, primary_key=True, autoincrement=False),
    Column("object_id", String(36)),
    Column("external_id", Text),
    Column("display_name", Text),
    Column("object_type", Text),
    Column("change_type", String(30), nullable=False),
    Column("error_type", String(60)),
    Column("outcome_summary", Text),
)

# What a connected system told of itself at its last schema import (JIM's detected capabilities and the
# password policy it read), kept apart from the system's configuration: it is no change of the system, and
# moves neither its version nor its history. A system that has told nothing has no row.
discovered_facts_table = Table(
    "connected_system_discovered_facts",
    db.metadata,
    Column("connected_system_id", ForeignKey("connected_systems.id", ondelete="CASCADE"), primary_key=True),
    # [{"name", "value"}, ...] in the connector's order.
    Column("capabilities", JSON, nullable=False),
    # The policy's fields by JIM's names, with "discovered" (an ISO 8601 UTC time); null when none was read.
    Column("password_policy", JSON),
)
