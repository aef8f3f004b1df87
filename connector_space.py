"""The connector space: what Full Imports read from each connected system, one row per object.

An object's values are kept as one canonical JSON document (``encoded``) and a digest of it with its other
fields, so that a re-import finds an unchanged object by its digest and writes nothing for it. Values are
encoded by their type (a Decimal, a time, a GUID as text; bytes as base64) and decoded by the attribute's type
when shown, as JIM's typed value fields (``stringValue``, ``intValue``, ``longValue``, ...).

Writes come in batches (``apply``), each its own short transaction, so that no import holds the store's write
lock for longer than a batch. Reads page by creation time and id, newest first, as JIM's list is sorted.
"""
import base64
import hashlib
import json
import random
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Integer, bindparam, delete, func, insert, literal, or_, select, text, update
from sqlalchemy.engine import Connection

from connectors.interface import AttributeType, ImportedObject
from database import insert_json_rows
from models import (
    UTCDateTime,
    attributes_table,
    connector_space_counts_table,
    connector_space_objects_table,
    object_types_table,
)

OBJECTS, COUNTS, TYPES, ATTRIBUTES = (connector_space_objects_table, connector_space_counts_table,
                                      object_types_table, attributes_table)
NORMAL, OBSOLETE = "Normal", "Obsolete"
NUL, REPLACEMENT = "\x00", "\ufffd"
# The attributes an object's display name is taken from, the first one it has a value of.
DISPLAY_NAME_ATTRIBUTES = ("displayname", "cn", "name", "username")
VERSION_AND_VARIANT, VERSION_7 = 0xF << 76 | 0x3 << 62, 0x7 << 76 | 0x2 << 62  # RFC 9562's bits of a UUIDv7
DETAIL_VALUES = 100  # values of one attribute an object's detail shows; the values endpoint pages the rest


def encoded_value(value):
    """A value JSON has no type for, as JSON holds it (``json.dumps`` asks only of those)."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    return str(value)  # a GUID, a time of day


# One encoder for every object: json.dumps with options makes a new one each call, which costs more than the encoding.
CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=encoded_value)


def encoded(values: dict) -> str:
    """An object's values as one canonical JSON document: the same values always make the same text."""
    return CANONICAL.encode(values)


def display_attribute(names) -> str | None:
    """Which of an object type's attributes names its objects: the first of ``DISPLAY_NAME_ATTRIBUTES`` it has."""
    by_key = {name.lower(): name for name in names}
    return next((by_key[key] for key in DISPLAY_NAME_ATTRIBUTES if key in by_key), None)


def display_name(values: dict, attribute: str | None) -> str | None:
    value = values.get(attribute) if attribute is not None else None
    if isinstance(value, list):
        value = value[0] if value else None
    return None if value is None else keepable(str(value))


def keepable(text: str) -> str:
    """Text as the store can keep it: a NUL, which PostgreSQL's text refuses and SQLite's JSON functions end a
    string at, as U+FFFD. An object's values keep theirs, escaped in its JSON document."""
    return text.replace(NUL, REPLACEMENT)


@dataclass(frozen=True)
class Prepared:
    """An imported object as it is stored."""

    object_type_id: int
    partition_id: int | None
    external_id: str
    secondary_external_id: str | None
    display_name: str | None
    attribute_values: str
    values_digest: str

    @classmethod
    def of(cls, found: ImportedObject, object_type_id: int, partition_id: int | None,
           display: str | None) -> "Prepared":
        text = encoded(found.values)
        name = display_name(found.values, display)
        fields = (text, found.secondary_external_id or "", name or "", str(partition_id))
        digest = hashlib.blake2b("\0".join(fields).encode(), digest_size=16).hexdigest()
        return cls(object_type_id, partition_id, found.external_id, found.secondary_external_id, name, text, digest)


@dataclass(frozen=True)
class Outcome:
    """What a batch did to one object, for the activity's items."""

    object_id: str
    prepared: Prepared
    change_type: str  # Added or Updated


EXISTING = (
    select(OBJECTS.c.id, OBJECTS.c.external_id, OBJECTS.c.values_digest, OBJECTS.c.status)
    .where(OBJECTS.c.connected_system_id == bindparam("system_id"),
           OBJECTS.c.object_type_id == bindparam("object_type_id"),
           OBJECTS.c.external_id.in_(bindparam("external_ids", expanding=True)))
)
# PostgreSQL plans the IN above on a table an import is filling with statistics of when it was empty: it takes
# the index for the system and type only and filters every row of them by the list, so that each batch costs
# more than the last. One index probe per external id, which a LATERAL with LIMIT keeps it from flattening,
# costs a batch the same whatever the table holds (the external id is unique within its system and type).
EXISTING_POSTGRESQL = text(
    "SELECT found.id, found.external_id, found.values_digest, found.status"
    " FROM unnest(CAST(:external_ids AS text[])) AS wanted(external_id)"
    " CROSS JOIN LATERAL (SELECT id, external_id, values_digest, status FROM connector_space_objects"
    " WHERE connected_system_id = :system_id AND object_type_id = :object_type_id"
    " AND external_id = wanted.external_id LIMIT 1) AS found")
# A batch's new objects in one statement, their fields (``NEW_OBJECT_FIELDS``, in order) one JSON array each:
# with one INSERT a row, a batch held SQLite's write lock for 20 to 70 ms, and every PUT waited for it.
NEW_OBJECT_FIELDS = ("id", "object_type_id", "partition_id", "external_id", "secondary_external_id", "display_name",
                     "attribute_values", "values_digest")
INSERT_OBJECTS = insert_json_rows(OBJECTS, NEW_OBJECT_FIELDS, connected_system_id=bindparam("system_id", type_=Integer),
                                  status=literal(NORMAL), created=bindparam("created", type_=UTCDateTime()))
UPDATE_OBJECT = (update(OBJECTS).where(OBJECTS.c.id == bindparam("object_id"))
                 .values(partition_id=bindparam("partition"), secondary_external_id=bindparam("secondary"), display_name=bindparam("name"),
                         attribute_values=bindparam("text"), values_digest=bindparam("digest"),
                         status=NORMAL, last_updated=bindparam("now")))
MARK_OBSOLETE = (update(OBJECTS).where(OBJECTS.c.id == bindparam("object_id"))
                 .values(status=OBSOLETE, last_updated=bindparam("now")))


def new_id() -> str:
    """A version 7 UUID (RFC 9562): the time in milliseconds first, so that a batch's new objects go to one
    place in the index of ids, not one page each (random ids made each batch of a million-object import
    write some 500 pages of it, and its cost grow with the table); the rest from the process's random
    generator: an object's id is no secret, and the operating system's, which uuid4 asks each time, costs
    more than the rest of the object's insert."""
    value = (time.time_ns() // 1_000_000) << 80 | random.getrandbits(80)
    return str(uuid.UUID(int=value & ~VERSION_AND_VARIANT | VERSION_7))


def existing(connection: Connection, system_id: int, batch: list[Prepared]) -> dict[tuple[int, str], object]:
    """The stored rows of the batch's objects, by (object type id, external id)."""
    found = {}
    by_type: dict[int, list[str]] = {}
    for prepared in batch:
        by_type.setdefault(prepared.object_type_id, []).append(prepared.external_id)
    statement = EXISTING_POSTGRESQL if connection.dialect.name == "postgresql" else EXISTING
    for object_type_id, external_ids in by_type.items():
        for row in connection.execute(statement, {"system_id": system_id, "object_type_id": object_type_id,
                                                 "external_ids": external_ids}).all():
            found[object_type_id, row.external_id] = row
    return found


def changes(system_id: int, batch: list[Prepared], stored: dict, now: datetime):
    """The batch's inserts, updates and outcomes, and how many objects it adds to the count; an unchanged
    object has none."""
    inserts, updates, outcomes, counted = [], [], [], 0
    for prepared in batch:
        row = stored.get((prepared.object_type_id, prepared.external_id))
        if row is None:
            object_id = new_id()
            inserts.append((object_id, prepared.object_type_id, prepared.partition_id, prepared.external_id,
                            prepared.secondary_external_id, prepared.display_name, prepared.attribute_values,
                            prepared.values_digest))
            outcomes.append(Outcome(object_id, prepared, "Added"))
            counted += 1
        elif row.values_digest != prepared.values_digest or row.status != NORMAL:
            updates.append({"object_id": row.id, "partition": prepared.partition_id,
                            "secondary": prepared.secondary_external_id,
                            "name": prepared.display_name, "text": prepared.attribute_values,
                            "digest": prepared.values_digest, "now": now})
            outcomes.append(Outcome(row.id, prepared, "Added" if row.status != NORMAL else "Updated"))
            counted += row.status != NORMAL
    return inserts, updates, outcomes, counted


def write(connection: Connection, system_id: int, inserts: list, updates: list, obsolete: list, counted: int,
          now: datetime):
    """A batch's writes, on the write's connection; the count moves with them."""
    if inserts:
        connection.execute(INSERT_OBJECTS, {"system_id": system_id, "created": now,
                                            "rows": json.dumps(inserts, ensure_ascii=False)})
    if updates:
        connection.execute(UPDATE_OBJECT, updates)
    if obsolete:
        connection.execute(MARK_OBSOLETE, [{"object_id": object_id, "now": now} for object_id in obsolete])
    if counted:
        add_to_count(connection, system_id, counted)


def add_to_count(connection: Connection, system_id: int, difference: int):
    moved = connection.execute(update(COUNTS).where(COUNTS.c.connected_system_id == system_id)
                               .values(object_count=COUNTS.c.object_count + difference))
    if moved.rowcount == 0:
        connection.execute(insert(COUNTS).values(connected_system_id=system_id, object_count=max(difference, 0)))


def normal_objects(connection: Connection, system_id: int, object_type_id: int,
                   partition_ids: Iterable[int] | None, after: str | None, limit: int) -> list:
    """The next ``limit`` objects not Obsolete of the type (and, if given, the partitions), in external id order
    after ``after``: the order of the unique index that finds them, so that no page sorts them all (paged by
    id, SQLite sorted every object of the type for each page: a million objects' sweep took hours)."""
    statement = (select(OBJECTS.c.id, OBJECTS.c.object_type_id, OBJECTS.c.external_id, OBJECTS.c.display_name)
                 .where(OBJECTS.c.connected_system_id == system_id, OBJECTS.c.object_type_id == object_type_id,
                        OBJECTS.c.status == NORMAL)
                 .order_by(OBJECTS.c.external_id).limit(limit))
    if partition_ids is not None:
        statement = statement.where(OBJECTS.c.partition_id.in_(list(partition_ids)))
    if after is not None:
        statement = statement.where(OBJECTS.c.external_id > after)
    return connection.execute(statement).all()


# --- Reading, for the API ---------------------------------------------------------------------------------

LISTED = (select(OBJECTS, TYPES.c.name.label("type_name"))
          .join(TYPES, TYPES.c.id == OBJECTS.c.object_type_id))


def filtered(statement, system_id: int, object_type_id: int | None, search: str | None):
    statement = statement.where(OBJECTS.c.connected_system_id == system_id)
    if object_type_id is not None:
        statement = statement.where(OBJECTS.c.object_type_id == object_type_id)
    if search:
        pattern = "%" + search.lower().replace("\\", "\\\\").replace("_", "\\_").replace("%", "\\%") + "%"
        statement = statement.where(or_(func.lower(OBJECTS.c.external_id).like(pattern, escape="\\"),
                                        func.lower(OBJECTS.c.display_name).like(pattern, escape="\\"),
                                        func.lower(OBJECTS.c.secondary_external_id).like(pattern, escape="\\")))
    return statement


def page(connection: Connection, system_id: int, object_type_id: int | None, search: str | None,
         page_number: int, page_size: int, newest_first: bool) -> tuple[list, int]:
    total = connection.execute(filtered(select(func.count()).select_from(OBJECTS), system_id, object_type_id,
                                        search)).scalar_one()
    order = ((OBJECTS.c.created.desc(), OBJECTS.c.id.desc()) if newest_first
             else (OBJECTS.c.created.asc(), OBJECTS.c.id.asc()))
    rows = connection.execute(filtered(LISTED, system_id, object_type_id, search).order_by(*order)
                              .limit(page_size).offset((page_number - 1) * page_size)).all()
    return rows, total


def count(connection: Connection, system_id: int, object_type_id: int | None) -> int:
    statement = select(func.count()).select_from(OBJECTS).where(OBJECTS.c.connected_system_id == system_id)
    if object_type_id is not None:
        statement = statement.where(OBJECTS.c.object_type_id == object_type_id)
    return connection.execute(statement).scalar_one()


def find(connection: Connection, system_id: int, object_id: str):
    return connection.execute(LISTED.where(OBJECTS.c.connected_system_id == system_id,
                                           OBJECTS.c.id == object_id)).one_or_none()


def attributes_of(connection: Connection, object_type_id: int) -> dict[str, object]:
    """The object type's attributes by name: their ids and types, to show values by."""
    rows = connection.execute(select(ATTRIBUTES.c.id, ATTRIBUTES.c.name, ATTRIBUTES.c.type)
                              .where(ATTRIBUTES.c.object_type_id == object_type_id))
    return {row.name: row for row in rows}


VALUE_FIELDS = {
    AttributeType.TEXT: "string_value", AttributeType.REFERENCE: "string_value",
    AttributeType.NUMBER: "int_value", AttributeType.LONG_NUMBER: "long_value",
    AttributeType.DECIMAL: "decimal_value", AttributeType.DATE_TIME: "date_time_value",
    AttributeType.BINARY: "byte_value", AttributeType.GUID: "guid_value", AttributeType.BOOLEAN: "bool_value",
}


def values_of(row, attributes: dict) -> list[dict]:
    """Every value of the object, in attribute order, as JIM's attribute values: one field set by its type.

    A value's id is derived from the object's, the attribute and the value's position: the same value of the
    same object has the same id on every read."""
    shown = []
    document = json.loads(row.attribute_values)
    for name in sorted(document, key=str.lower):
        shown.extend(attribute_values(row.id, name, document[name], attributes.get(name)))
    return shown


def attribute_values(object_id: str, name: str, value, attribute) -> list[dict]:
    items = value if isinstance(value, list) else [value]
    attribute_type = AttributeType(attribute.type) if attribute is not None else AttributeType.TEXT
    field = VALUE_FIELDS[attribute_type]
    if attribute_type is AttributeType.DATE_TIME and not all(len(str(item)) > 10 and str(item)[4] == "-"
                                                             for item in items):
        field = "string_value"  # a time of day, kept as the system wrote it
    return [{"id": uuid.uuid5(uuid.UUID(object_id), f"{name}\0{position}"),
             "attribute_id": attribute.id if attribute is not None else 0, "attribute_name": name,
             field: shown_value(field, item)}
            for position, item in enumerate(items)]


def id_attribute_names(connection: Connection, object_type_ids: set[int]) -> dict[int, dict]:
    """Each object type's external id attributes' names, as the list shows them beside the values."""
    names: dict[int, dict] = {type_id: {"external_id_attribute_name": None,
                                        "secondary_external_id_attribute_name": None} for type_id in object_type_ids}
    if not object_type_ids:
        return names
    rows = connection.execute(select(ATTRIBUTES.c.object_type_id, ATTRIBUTES.c.name, ATTRIBUTES.c.is_external_id,
                                     ATTRIBUTES.c.is_secondary_external_id)
                              .where(ATTRIBUTES.c.object_type_id.in_(list(object_type_ids)),
                                     ATTRIBUTES.c.is_external_id | ATTRIBUTES.c.is_secondary_external_id))
    for row in rows:
        key = "external_id_attribute_name" if row.is_external_id else "secondary_external_id_attribute_name"
        names[row.object_type_id][key] = row.name
    return names


def detail(connection: Connection, row) -> dict:
    """The object as its detail shows it: each multi-valued attribute's first ``DETAIL_VALUES`` values, and a
    summary of each one's count, so that a group of 100,000 members is not one answer."""
    attributes = attributes_of(connection, row.object_type_id)
    shown, summaries = [], []
    document = json.loads(row.attribute_values)
    for name in sorted(document, key=str.lower):
        values = attribute_values(row.id, name, document[name], attributes.get(name))
        shown.extend(values[:DETAIL_VALUES])
        if isinstance(document[name], list):
            summaries.append({"attribute_name": name, "total_count": len(values),
                              "returned_count": min(len(values), DETAIL_VALUES),
                              "has_more": len(values) > DETAIL_VALUES})
    return {**row._mapping, "attribute_values": shown, "attribute_value_summaries": summaries or None}


def values_named(connection: Connection, row, attribute_name: str, search: str | None) -> list[dict]:
    """Every value of one attribute of the object (named in any case), those holding ``search`` if given."""
    document = json.loads(row.attribute_values)
    name = next((stored for stored in document if stored.lower() == attribute_name.lower()), None)
    if name is None:
        return []
    values = attribute_values(row.id, name, document[name], attributes_of(connection, row.object_type_id).get(name))
    if search:
        wanted = search.lower()
        values = [value for value in values
                  if any(wanted in str(value[field]).lower() for field in VALUE_FIELDS.values() if field in value)]
    return values


def shown_value(field: str, item):
    if field == "string_value":
        return str(item)
    if field == "decimal_value":
        return Decimal(item)
    return item


def clear(connection: Connection, system_id: int) -> int:
    """Every object of the system removed, and its count with them; how many there were."""
    removed = connection.execute(delete(OBJECTS).where(OBJECTS.c.connected_system_id == system_id)).rowcount
    connection.execute(delete(COUNTS).where(COUNTS.c.connected_system_id == system_id))
    return removed


def object_count(connection: Connection, system_id: int) -> int:
    return connection.execute(select(COUNTS.c.object_count)
                              .where(COUNTS.c.connected_system_id == system_id)).scalar_one_or_none() or 0

