"""The stored state: API keys, the catalog's copy, connected systems, their setting values and their history."""
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, attribute_keyed_dict, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from connectors import CONNECTORS
from connectors.checks import check_settings
from connectors.interface import Connector, Setting
from database import db
from encryption import EncryptedSecret, Secret, UnreadableSecret


# Ids are INTEGER columns: 32 bits on PostgreSQL, which refuses a larger number even in a comparison.
ID_MAX = 2**31 - 1


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


class Role(StrEnum):
    ADMINISTRATOR = "Administrator"
    READER = "Reader"


class ApiKey(db.Model):
    """An API key, kept only as its SHA-256 hash and a short display prefix."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def status(self, now: datetime) -> str:
        return key_status(self.revoked_at, self.expires_at, now)


def key_status(revoked_at: datetime | None, expires_at: datetime | None, now: datetime) -> str:
    """Whether a key works, the one rule for a key's row (authentication) and its entity (``api-key list``)."""
    if revoked_at is not None:
        return "revoked"
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


class SettingValue(db.Model):
    """The value one connected system holds for one setting. A row exists only while a value is held."""

    __tablename__ = "connected_system_setting_values"

    connected_system_id: Mapped[int] = mapped_column(
        ForeignKey("connected_systems.id", ondelete="CASCADE"), primary_key=True
    )
    setting_id: Mapped[int] = mapped_column(ForeignKey("connector_settings.id"), primary_key=True)
    string_value: Mapped[str | None] = mapped_column(Text)
    int_value: Mapped[int | None] = mapped_column(Integer)
    checkbox_value: Mapped[bool | None] = mapped_column(Boolean)
    secret_value: Mapped[Secret | None] = mapped_column(EncryptedSecret)

    COLUMNS = {"stringValue": "string_value", "intValue": "int_value", "checkboxValue": "checkbox_value"}
    VALUE_COLUMNS = ("string_value", "int_value", "checkbox_value", "secret_value")

    @classmethod
    def column_for(cls, setting: Setting) -> str:
        return "secret_value" if setting.is_secret else cls.COLUMNS[setting.value_key]

    @classmethod
    def columns_holding(cls, setting: Setting, value) -> dict[str, object]:
        """The value columns of a row holding ``value``: only the setting's own column is set; a secret is sealed."""
        columns = dict.fromkeys(cls.VALUE_COLUMNS)
        columns[cls.column_for(setting)] = Secret.seal(value) if setting.is_secret else value
        return columns

    def read(self, setting: Setting):
        """The stored value: a ``Secret`` for a secret setting, the plain value otherwise."""
        return getattr(self, self.column_for(setting))


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
class Change:
    """One field's change, named as in validationErrors. A secret's values are never kept."""

    field: str
    old: object
    new: object

    def as_record(self) -> dict:
        """As the history stores it. The values are plain JSON values, so unlike ``asdict`` nothing is copied."""
        return {"field": self.field, "old": self.old, "new": self.new}


class NameInUse(Exception):
    """Another connected system already has this name."""

    def __init__(self, name: str):
        super().__init__(f"A connected system named {name!r} already exists.")


@contextmanager
def name_guarded(name: str | None):
    """A write that gives a system ``name`` (None: no new name), refused as NameInUse when another has it.

    The unique index on ``name_key`` decides, so two writers racing for one name cannot both get it.
    """
    try:
        yield
    except IntegrityError:
        if name is None:
            raise
        raise NameInUse(name) from None


class ConnectedSystem(db.Model):
    __tablename__ = "connected_systems"
    # Ids are never reused (SQLite would otherwise hand a deleted system's id to the next one), so a deleted
    # system's history and an old ETag can never be mistaken for a new system's.
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # The case-folded name: one spelling per name whatever its case, and the list's case-insensitive filter.
    name_key: Mapped[str] = mapped_column(Text, unique=True)
    description: Mapped[str | None] = mapped_column(String(1000))
    connector_definition_id: Mapped[int] = mapped_column(ForeignKey("connector_definitions.id"))
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_updated: Mapped[datetime | None] = mapped_column(UTCDateTime)
    setting_values_valid: Mapped[bool] = mapped_column(Boolean, default=False)
    max_export_parallelism: Mapped[int | None] = mapped_column(Integer)
    # Counts the changes; the ETag is made from it.
    version: Mapped[int] = mapped_column(Integer, default=1)

    setting_values: Mapped[dict[int, SettingValue]] = relationship(
        collection_class=attribute_keyed_dict("setting_id"),
        cascade="all, delete-orphan",
        passive_deletes=True,
        lazy="selectin",
    )

    @property
    def connector(self) -> Connector:
        return CONNECTORS[self.connector_definition_id]

    def value_of(self, setting: Setting):
        stored = self.setting_values.get(setting.id)
        return None if stored is None else stored.read(setting)

    @classmethod
    def create(cls, name: str, description: str | None, connector: Connector) -> "ConnectedSystem":
        """A new system holding its connector's default values, added to the session."""
        system = cls(
            name=name,
            name_key=name.casefold(),
            description=description,
            connector_definition_id=connector.id,
            created=utcnow(),
            setting_values_valid=False,
            version=1,
        )
        for setting in connector.settings:
            if setting.default is not None:
                system.setting_values[setting.id] = SettingValue(
                    setting_id=setting.id, **SettingValue.columns_holding(setting, setting.default)
                )
        db.session.add(system)
        with name_guarded(name):
            db.session.flush()
        return system

    def values_for_checks(self) -> dict[int, object]:
        """Each setting's value for the catalog's checks; a secret counts only as held (True) or not."""
        values = {}
        for setting in self.connector.settings:
            value = self.value_of(setting)
            values[setting.id] = True if setting.is_secret and value is not None else value
        return values

    def settings_problems(self) -> dict[int, list[str]]:
        """The connector's offline checks, and each secret that no configured encryption key can read."""
        problems = check_settings(self.connector, self.values_for_checks())
        for setting in self.connector.settings:
            secret = self.value_of(setting) if setting.is_secret else None
            if secret is not None and not secret.is_readable():
                problems.setdefault(setting.id, []).append(
                    f"{setting.name} cannot be read with any configured encryption key; set it again."
                )
        return problems

    def stored_fields(self) -> dict[str, object]:
        """Every field holding a value, named as in validationErrors; a secret with None, never its value."""
        fields = {
            "name": self.name,
            "description": self.description,
            "connectorDefinitionId": self.connector_definition_id,
            "maxExportParallelism": self.max_export_parallelism,
        }
        held = {field: value for field, value in fields.items() if value is not None}
        for setting in self.connector.settings:
            value = self.value_of(setting)
            if value is not None:
                held[f"settingValues.{setting.id}"] = None if setting.is_secret else value
        return held

    def record_validation(self, valid: bool) -> list[Change]:
        if valid == self.setting_values_valid:
            return []
        change = Change("settingValuesValid", self.setting_values_valid, valid)
        self.setting_values_valid = valid
        self.touch()
        return [change]

    def touch(self):
        self.last_updated = utcnow()
        self.version += 1


class ChangeAction(StrEnum):
    CREATED = "Created"
    UPDATED = "Updated"
    SETTINGS_VALIDATED = "SettingsValidated"
    DELETED = "Deleted"


class ChangeRecord(db.Model):
    """One entry of a connected system's history, written in the transaction of the change it records.

    ``connected_system_id`` has no foreign key on purpose: the history outlives the system, and stays readable
    under the id it had. A nulling foreign key would keep the rows but lose whose they are.
    """

    __tablename__ = "connected_system_changes"
    __table_args__ = (Index("ix_connected_system_changes_system", "connected_system_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    connected_system_id: Mapped[int] = mapped_column(Integer)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Who, copied as it was then: renaming or revoking the key later does not rewrite the history.
    actor_type: Mapped[str] = mapped_column(String(20))
    actor_name: Mapped[str] = mapped_column(String(200))
    actor_prefix: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(30))
    change_reason: Mapped[str | None] = mapped_column(Text)
    # [{"field", "old", "new"}, ...]: one entry per ``Change``.
    changes: Mapped[list] = mapped_column(JSON)
