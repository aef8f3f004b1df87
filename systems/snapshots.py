"""Versions of a connected system's configuration, as JIM keeps them: each change's record holds a snapshot of
the whole configuration it left (a tree of JIM's ``ConfigurationSnapshotNode``), and any two are compared as
JIM's ``ConfigurationDiff``.

A snapshot holds what an administrator configured: the system's fields, each setting holding a value, its run
profiles, its object types with their selected attributes, and its partitions with the containers that state
something (selected or excluded) and the containers on the way to them. A secret is a node with ``isSecret`` and
no value; its ``displayValue`` names the version that last set it, so that a changed password shows in a
comparison though neither value is anywhere.
"""
from dataclasses import dataclass

from sqlalchemy import bindparam, or_, select
from sqlalchemy.engine import Connection

from database import db
from errors import NotFound
from history import OPERATIONS, summary
from models import (
    attributes_table,
    change_records_table,
    containers_table,
    object_types_table,
)
from systems import history_page, in_range
from systems.hierarchy import read_partitions
from systems.run_profiles import read_all as read_run_profiles

OBJECT_TYPE = "ConnectedSystem"
SCALAR, OBJECT, COLLECTION = "Scalar", "Object", "Collection"
UNCHANGED, ADDED, REMOVED, MODIFIED = "Unchanged", "Added", "Removed", "Modified"

RECORDS = change_records_table
TYPES, ATTRIBUTES, CONTAINERS = object_types_table, attributes_table, containers_table

LAST_SNAPSHOT = (select(RECORDS.c.snapshot).where(RECORDS.c.connected_system_id == bindparam("system_id"))
                 .order_by(RECORDS.c.id.desc()).limit(1))
TYPES_OF_SYSTEM = select(TYPES).where(TYPES.c.connected_system_id == bindparam("system_id")).order_by(TYPES.c.id)
SELECTED_ATTRIBUTES = (select(ATTRIBUTES).join(TYPES, TYPES.c.id == ATTRIBUTES.c.object_type_id)
                       .where(TYPES.c.connected_system_id == bindparam("system_id"), ATTRIBUTES.c.selected)
                       .order_by(ATTRIBUTES.c.id))
STATING_CONTAINERS = select(CONTAINERS).where(CONTAINERS.c.connected_system_id == bindparam("system_id"),
                                              or_(CONTAINERS.c.selected, CONTAINERS.c.excluded))
CONTAINERS_BY_ID = select(CONTAINERS).where(CONTAINERS.c.id.in_(bindparam("ids", expanding=True)))


def node(key: str, label: str | None, node_type: str, value=None, display=None, secret=False, item_id=None,
         children=None) -> dict:
    return {"key": key, "label": label, "nodeType": node_type, "value": value, "displayValue": display,
            "isSecret": secret, "itemId": item_id, "children": children}


def rendered(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def scalars(fields) -> list[dict]:
    """Scalar nodes of (key, value, label[, display]); an empty value is not configuration, and is left out."""
    found = []
    for key, value, label, *display in fields:
        text = rendered(value)
        if text not in (None, ""):
            found.append(node(key, label, SCALAR, text, display[0] if display else None))
    return found


# Which part of a snapshot a change's fields touch (a run profile shows its partition's name): a part no field
# of the change touches is the previous version's, taken from its snapshot rather than read again.
PARTS = {"runProfiles": ("runProfiles.", "partitions."), "objectTypes": ("objectTypes.",),
         "partitions": ("partitions.", "containers.")}
SYSTEM_FIELDS = ("name", "description", "connectorDefinitionId", "unresolvedReferenceHandling",
                 "maxExportParallelism", "initialPasswordTimeToLive", "requireSecureTransport", "settingValues")


@dataclass(frozen=True)
class Plan:
    """What a version's snapshot takes from the one before it, and which parts it must read."""

    earlier: dict | None
    reads: frozenset[str]


def planned(connection: Connection, record: dict, after) -> Plan:
    """Read the previous snapshot (under the write's lock), and decide which parts the change touched. A field
    of no known part, or no earlier snapshot, makes every part read again."""
    if after is None:
        return Plan(None, frozenset())
    earlier = connection.execute(LAST_SNAPSHOT, {"system_id": after.id}).scalar_one_or_none()
    fields = [change["field"] for change in record["changes"]]
    known = all(field.split(".")[0] in SYSTEM_FIELDS or field == "settingValuesValid"
                or any(field.startswith(prefix) for prefixes in PARTS.values() for prefix in prefixes)
                for field in fields)
    if earlier is None or not known:
        return Plan(earlier, frozenset(PARTS))
    return Plan(earlier, frozenset(part for part, prefixes in PARTS.items()
                                   if any(field.startswith(prefixes) for field in fields)))


def taken(connection: Connection, plan: Plan, record: dict, secrets_set: set[int], after) -> dict | None:
    """The snapshot of the configuration as the record's change left it (None: the system is deleted): its
    fields and settings from ``after``, the system as written; its parts from the previous snapshot, or read on
    the write's connection after its statements (``plan.reads``)."""
    if after is None:
        return None
    connector = after.connector
    set_in = {item["itemId"]: item["displayValue"] for item in secret_nodes(plan.earlier)}
    settings = []
    for setting in connector.settings:
        value = after.value_of(setting)
        if value is None:
            continue
        if setting.is_secret:
            marker = f"Set in version {record['version']}" if setting.id in secrets_set else set_in.get(setting.id,
                                                                                                          "Set")
            settings.append(node("settingValue", setting.name, SCALAR, None, marker, True, setting.id))
        else:
            settings.extend({**item, "itemId": setting.id} for item in scalars([("settingValue", value, setting.name)]))
    children = scalars([
        ("name", after.name, "Name"), ("description", after.description, "Description"),
        ("connectorDefinitionId", after.connector_definition_id, "Connector", connector.name),
        ("unresolvedReferenceHandling", after.unresolved_reference_handling, "Unresolved reference handling"),
        ("maxExportParallelism", after.max_export_parallelism, "Max export parallelism"),
        ("initialPasswordTimeToLive", after.initial_password_time_to_live, "Initial password time to live"),
        ("requireSecureTransport", after.require_secure_transport, "Require secure transport"),
    ])
    children.append(node("settingValues", "Settings", COLLECTION, children=settings))
    earlier_parts = {child["key"]: child for child in plan.earlier["root"]["children"]} if plan.earlier else {}
    parameters = {"system_id": after.id}
    readers = {"runProfiles": lambda: run_profiles(connection, after.id),
               "objectTypes": lambda: object_types(connection, parameters),
               "partitions": lambda: partitions(connection, after.id, parameters)}
    for part, read in readers.items():
        children.append(read() if part in plan.reads or part not in earlier_parts else earlier_parts[part])
    return {"schemaVersion": 1, "objectType": OBJECT_TYPE, "objectId": after.id, "objectGuidId": None,
            "objectKey": None, "objectName": after.name,
            "root": node("connectedSystem", "Connected System", OBJECT, children=children)}


def secret_nodes(snapshot: dict | None) -> list[dict]:
    if not snapshot:
        return []
    settings = next((child for child in snapshot["root"]["children"] if child["key"] == "settingValues"), None)
    return [item for item in (settings or {}).get("children") or [] if item["isSecret"]]


def run_profiles(connection: Connection, system_id: int) -> dict:
    items = [node("runProfile", "Run Profile", OBJECT, item_id=profile.id, children=scalars([
        ("name", profile.name, "Name"), ("runType", profile.run_type, "Run type"),
        ("pageSize", profile.page_size, "Page size"), ("filePath", profile.file_path, "File path"),
        ("partitionId", profile.partition_id, "Partition", profile.partition_name),
        ("verifyImportContentHashes", profile.verify_import_content_hashes, "Verify import content hashes"),
    ])) for profile in read_run_profiles(connection, system_id)]
    return node("runProfiles", "Run Profiles", COLLECTION, children=items)


def object_types(connection: Connection, parameters: dict) -> dict:
    """Each object type, with only its selected attributes: the rest is discovered schema, not configuration."""
    attributes: dict[int, list[dict]] = {}
    for attribute in connection.execute(SELECTED_ATTRIBUTES, parameters):
        attributes.setdefault(attribute.object_type_id, []).append(node(
            "attribute", attribute.name, OBJECT, item_id=attribute.id, children=scalars([
                ("name", attribute.name, "Name"), ("type", attribute.type, "Type"),
                ("attributePlurality", attribute.attribute_plurality, "Plurality"),
                ("isExternalId", attribute.is_external_id, "External ID"),
                ("isSecondaryExternalId", attribute.is_secondary_external_id, "Secondary external ID"),
                ("writability", attribute.writability, "Writability")])))
    items = [node("objectType", "Object Type", OBJECT, item_id=row.id, children=[*scalars([
        ("name", row.name, "Name"), ("selected", row.selected, "Selected"),
        ("removeContributedAttributesOnObsoletion", row.remove_contributed_attributes_on_obsoletion,
         "Remove contributed attributes on obsoletion")]),
        node("attributes", "Attributes", COLLECTION, children=attributes.get(row.id, []))])
        for row in connection.execute(TYPES_OF_SYSTEM, parameters)]
    return node("objectTypes", "Object Types", COLLECTION, children=items)


def partitions(connection: Connection, system_id: int, parameters: dict) -> dict:
    """Each partition, with the containers that state something and those on the way to them: the rest of a
    discovered tree is the directory's, not configuration."""
    found = {row.id: row for row in connection.execute(STATING_CONTAINERS, parameters)}
    missing = {row.parent_id for row in found.values() if row.parent_id is not None} - found.keys()
    while missing:  # the ancestors, a level at a time
        parents = connection.execute(CONTAINERS_BY_ID, {"ids": sorted(missing)}).all()
        found.update((row.id, row) for row in parents)
        missing = {row.parent_id for row in parents if row.parent_id is not None} - found.keys()
    children: dict[object, list] = {}
    for row in sorted(found.values(), key=lambda row: row.id):
        children.setdefault(row.parent_id if row.parent_id is not None else ("partition", row.partition_id),
                            []).append(row)

    def containers(parent) -> dict:
        # Each level is shown before the one below; a tree deeper than the limits of an import is refused there.
        items = []
        for row in children.get(parent, []):
            stated = scalars([("name", row.name, "Name"), ("externalId", row.external_id, "External ID"),
                              ("hidden", row.hidden, "Hidden")])
            stated += scalars([("selected", True, "Selected")] if row.selected else [])
            stated += scalars([("excluded", True, "Excluded")] if row.excluded else [])
            stated += scalars([("scope", row.scope, "Scope")])
            items.append(node("container", row.name, OBJECT, item_id=row.id,
                              children=[*stated, containers(row.id)]))
        return node("containers", "Containers", COLLECTION, children=items)

    items = [node("partition", "Partition", OBJECT, item_id=partition.id, children=[*scalars([
        ("name", partition.name, "Name"), ("externalId", partition.external_id, "External ID"),
        ("selected", partition.selected, "Selected")]), containers(("partition", partition.id))])
        for partition in sorted(read_partitions(connection, system_id), key=lambda partition: partition.id)]
    return node("partitions", "Partitions", COLLECTION, children=items)


# --- Comparing -------------------------------------------------------------------------------------------

def compared(old: dict | None, new: dict | None, system_id: int, old_version: int | None,
             new_version: int | None) -> dict:
    """JIM's ConfigurationDiff of two snapshots (None: nothing, before a creation or after a deletion)."""
    counts = {ADDED: 0, REMOVED: 0, MODIFIED: 0}
    root = difference(old["root"] if old else None, new["root"] if new else None, counts, counted=True)
    name = (new or old or {}).get("objectName")
    return {"objectType": OBJECT_TYPE, "objectId": system_id, "objectGuidId": None, "objectName": name,
            "oldVersion": old_version, "newVersion": new_version, "root": root,
            "addedCount": counts[ADDED], "removedCount": counts[REMOVED], "modifiedCount": counts[MODIFIED],
            "hasChanges": any(counts.values())}


def difference(old: dict | None, new: dict | None, counts: dict, counted: bool) -> dict:
    """One node's difference, its children's within it. A node added or removed counts once, with all it holds;
    a scalar whose value changed counts as modified. A secret compares by the version that set it."""
    either = new or old
    if old is None or new is None:
        change = ADDED if old is None else REMOVED
        if counted:
            counts[change] += 1
    elif either["nodeType"] == SCALAR:
        change = MODIFIED if (old["value"], old["displayValue"]) != (new["value"], new["displayValue"]) else UNCHANGED
        if change == MODIFIED:
            counts[MODIFIED] += 1
    else:
        change = None
    children = None
    if either["nodeType"] != SCALAR:
        children = [difference(before, after, counts, counted and old is not None and new is not None)
                    for before, after in paired(old, new, either["nodeType"])]
        if change is None:
            change = MODIFIED if any(child["changeType"] != UNCHANGED for child in children) else UNCHANGED
    return {"key": either["key"], "label": either["label"], "nodeType": either["nodeType"], "changeType": change,
            "oldValue": old["value"] if old else None, "newValue": new["value"] if new else None,
            "oldDisplayValue": old["displayValue"] if old else None,
            "newDisplayValue": new["displayValue"] if new else None, "isSecret": either["isSecret"],
            "itemId": either["itemId"], "children": children}


def paired(old: dict | None, new: dict | None, node_type: str) -> list[tuple[dict | None, dict | None]]:
    """The children of two versions of a node, matched: an object's by key, a collection's items by item id."""
    def identity(child):
        return child["itemId"] if node_type == COLLECTION else child["key"]

    before = {identity(child): child for child in (old or {}).get("children") or []}
    after = {identity(child): child for child in (new or {}).get("children") or []}
    order = list(before) + [key for key in after if key not in before]
    return [(before.get(key), after.get(key)) for key in order]


# --- Reading the versions --------------------------------------------------------------------------------

OF_SYSTEM = RECORDS.c.connected_system_id == bindparam("system_id")
NEWEST_FIRST = select(RECORDS).where(OF_SYSTEM).order_by(RECORDS.c.id.desc())
ONE_VERSION = select(RECORDS).where(OF_SYSTEM, RECORDS.c.version == bindparam("version")).order_by(
    RECORDS.c.id.desc()).limit(1)
BEFORE = select(RECORDS.c.snapshot, RECORDS.c.version).where(OF_SYSTEM, RECORDS.c.id < bindparam("record_id")).order_by(
    RECORDS.c.id.desc()).limit(1)


def page(system_id: int, number: int, size: int) -> tuple[list[dict], int]:
    """One page of the system's versions, newest first, each with its diff against the one before; and how many
    there are. A deleted system's stay readable; one that never existed is a 404."""
    rows, total = history_page(system_id, number, size)
    connection = db.session.connection()
    older = connection.execute(BEFORE, {"system_id": system_id, "record_id": rows[-1].id}).one_or_none() \
        if rows else None
    items = []
    for position, row in enumerate(rows):
        before = rows[position + 1] if position + 1 < len(rows) else older
        items.append(item(row, before))
    return items, total


def item(row, before) -> dict:
    """A version as JIM's ConfigurationChangeHistoryItem shows it, with its diff against ``before`` (a row of
    the version before, or None for the first)."""
    diff = None
    if row.snapshot is not None or row.action == "Deleted":
        diff = compared(before.snapshot if before is not None else None, row.snapshot, row.connected_system_id,
                        before.version if before is not None else None, row.version)
    return {"activity_id": row.activity_id, "version": row.version, "operation": OPERATIONS.get(row.action, "Update"),
            "initiated_by_type": row.actor_type, "initiated_by_id": None, "initiated_by_name": row.actor_name,
            "when": row.changed_at, "reason": row.change_reason, "summary": summary(row.action, row.changes),
            "diff": diff, "snapshot": row.snapshot}


def version(system_id: int, number: int) -> dict:
    """One version, as JIM's ConfigurationChangeDetail: its snapshot, and its diff against the version before."""
    connection = db.session.connection()
    row = connection.execute(ONE_VERSION, {"system_id": system_id, "version": number}).one_or_none() \
        if in_range(system_id) and in_range(number) else None
    if row is None:
        raise NotFound(f"No change history found for Connected System {system_id} version {number}.")
    return item(row, connection.execute(BEFORE, {"system_id": system_id, "record_id": row.id}).one_or_none())


def comparison(system_id: int, from_version: int, to_version: int) -> dict:
    """Any two versions compared, the first as the old; a version without a snapshot cannot be."""
    connection = db.session.connection()
    found = [connection.execute(ONE_VERSION, {"system_id": system_id, "version": number}).one_or_none()
             if in_range(system_id) else None for number in (from_version, to_version)]
    if any(row is None or (row.snapshot is None and row.action != "Deleted") for row in found):
        raise NotFound(f"Could not compare versions {from_version} and {to_version} for Connected System "
                       f"{system_id}.")
    old, new = found
    return compared(old.snapshot, new.snapshot, system_id, from_version, to_version)
