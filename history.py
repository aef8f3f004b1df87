"""The change history of connected systems: what a record says, and the row that keeps it.

``systems.save`` writes a record in the transaction of every change it makes; ``systems.history_page`` reads
them back.
"""
import uuid
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


# Each action as JIM's ActivityTargetOperationType names the operation of a change.
OPERATIONS = {
    ChangeAction.CREATED: "Create", ChangeAction.UPDATED: "Update", ChangeAction.SETTINGS_VALIDATED: "Update",
    ChangeAction.SCHEMA_IMPORTED: "ImportSchema", ChangeAction.SCHEMA_IMPORT_FAILED: "ImportSchema",
    ChangeAction.HIERARCHY_IMPORTED: "ImportHierarchy", ChangeAction.HIERARCHY_IMPORT_FAILED: "ImportHierarchy",
    ChangeAction.DELETED: "Delete",
}
SUMMARY_FIELDS = 5  # the most a summary names
# The most changes a record lists; the rest are counted in one last change of this field. A first import of
# 20,000 containers would otherwise keep megabytes in its record, and answer them in every page of the history.
MOST_LISTED_CHANGES = 100
MORE_CHANGES = "moreChanges"


def summary(action: str, changes: list[dict]) -> str:
    """A record's one line: what was done, and to which fields (``settingValues.3``, ``runProfiles.2``); the
    changes a record does not list count as one field each."""
    named = list(dict.fromkeys(".".join(change["field"].split(".")[:2]) for change in changes
                               if change["field"] != MORE_CHANGES))
    more = len(named) - SUMMARY_FIELDS + sum(change["new"] for change in changes if change["field"] == MORE_CHANGES)
    shown = ", ".join(named[:SUMMARY_FIELDS]) + (f" and {more:,} more" if more > 0 else "")
    return f"{action}: {shown}" if shown else action


@dataclass(frozen=True)
class Change:
    """One field's change, named as in validationErrors. A secret's values are never kept."""

    field: str
    old: object
    new: object


def setting_field(setting_id: int) -> str:
    """How a setting is named in validationErrors and in the history."""
    return f"settingValues.{setting_id}"


def listed(changes: list[Change]) -> list[dict]:
    """The changes as a record keeps them: the first ``MOST_LISTED_CHANGES``, and how many more there were."""
    kept = [{"field": change.field, "old": change.old, "new": change.new} for change in changes[:MOST_LISTED_CHANGES]]
    if len(changes) > MOST_LISTED_CHANGES:
        kept.append({"field": MORE_CHANGES, "old": None, "new": len(changes) - MOST_LISTED_CHANGES})
    return kept


def record_row(system_id: int, version: int, action: ChangeAction, changes: list[Change], by: Principal,
               reason: str | None) -> dict:
    """The history row of a change, with who made it copied as they were then; ``systems.writing`` adds the
    snapshot of what it left."""
    return {
        "connected_system_id": system_id,
        "version": version,
        "activity_id": str(uuid.uuid4()),
        "changed_at": utcnow(),
        "actor_type": ACTOR_TYPE,
        "actor_name": by.name,
        "actor_prefix": by.prefix,
        "action": str(action),
        "change_reason": reason,
        "changes": listed(changes),  # plain JSON values: nothing to copy
    }
