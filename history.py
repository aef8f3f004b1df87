"""The change history of connected systems: what a record says, and the row that keeps it.

``systems.save`` writes a record in the transaction of every change it makes; ``systems.history_page`` reads
them back.
"""
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import insert

from auth import Principal
from models import change_records_table, utcnow

ACTOR_TYPE = "ApiKey"  # the only kind of caller this service has
RECORD = insert(change_records_table)


class ChangeAction(StrEnum):
    CREATED = "Created"
    UPDATED = "Updated"
    SETTINGS_VALIDATED = "SettingsValidated"
    SCHEMA_IMPORTED = "SchemaImported"
    SCHEMA_IMPORT_FAILED = "SchemaImportFailed"
    HIERARCHY_IMPORTED = "HierarchyImported"
    HIERARCHY_IMPORT_FAILED = "HierarchyImportFailed"
    DELETED = "Deleted"


@dataclass(frozen=True)
class Change:
    """One field's change, named as in validationErrors. A secret's values are never kept."""

    field: str
    old: object
    new: object


def setting_field(setting_id: int) -> str:
    """How a setting is named in validationErrors and in the history."""
    return f"settingValues.{setting_id}"


def record_row(system_id: int, action: ChangeAction, changes: list[Change], by: Principal, reason: str | None) -> dict:
    """The history row of a change, with who made it copied as they were then."""
    return {
        "connected_system_id": system_id,
        "changed_at": utcnow(),
        "actor_type": ACTOR_TYPE,
        "actor_name": by.name,
        "actor_prefix": by.prefix,
        "action": str(action),
        "change_reason": reason,
        # Plain JSON values: nothing to copy.
        "changes": [{"field": change.field, "old": change.old, "new": change.new} for change in changes],
    }
