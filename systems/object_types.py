"""A connected system's object types and their attributes: what its schema imports found, and what the
administrator selected of them.

A schema import is merged into what is stored by name, ignoring case, so that ids and selections survive
it: new types and attributes arrive unselected, ones the system no longer has are removed, and an
attribute whose definition changed is updated in place. The functions here read, compare and compute;
what they compute is a ``PartEdit`` that ``systems.save`` writes with the rest of the change.
"""
import json
from dataclasses import dataclass, field
from datetime import datetime

from marshmallow import ValidationError
from sqlalchemy import Text, bindparam, delete, false, insert, literal, select, update
from sqlalchemy.engine import Connection

from connectors.interface import DiscoveredAttribute, DiscoveredObjectType, DiscoveredSchema
from database import JsonArrayRows
from errors import NotFound
from history import Change
from models import UTCDateTime, attributes_table, object_types_table, utcnow
from systems import OBJECT_TYPE_SUMMARIES, PartEdit, in_range, raw_rows

TYPES, ATTRIBUTES = object_types_table, attributes_table
# An attribute's definition, as a connector discovers it: what a re-import may change, and the preview names.
DEFINITION = (("name", "name"), ("type", "type"), ("attributePlurality", "attribute_plurality"),
              ("writability", "writability"), ("description", "description"), ("className", "class_name"))
# What a new object type starts with. Removing what a system contributed once its object is obsolete is the
# safe default: nothing stale is left behind in the identities it fed.
REMOVE_CONTRIBUTED_ATTRIBUTES_BY_DEFAULT = True


@dataclass(frozen=True)
class StoredAttribute:
    id: int
    object_type_id: int
    name: str
    name_key: str
    description: str | None
    class_name: str | None
    created: datetime
    type: str
    attribute_plurality: str
    writability: str
    selected: bool
    is_external_id: bool
    is_secondary_external_id: bool

    @property
    def selection_locked(self) -> bool:
        return selection_locked(self.is_external_id, self.is_secondary_external_id)


def selection_locked(is_external_id: bool, is_secondary_external_id: bool) -> bool:
    """An external id (primary or secondary) is always selected."""
    return is_external_id or is_secondary_external_id


@dataclass(frozen=True)
class StoredObjectType:
    id: int
    connected_system_id: int
    name: str
    name_key: str
    created: datetime
    selected: bool
    remove_contributed_attributes_on_obsoletion: bool
    attributes: tuple[StoredAttribute, ...] = ()

    @property
    def attribute_count(self) -> int:
        return len(self.attributes)


def by_name(items) -> list:
    return sorted(items, key=lambda item: (item.name_key, item.id))


# --- Reading ---------------------------------------------------------------------------------------------

TYPES_OF_SYSTEM = select(TYPES).where(TYPES.c.connected_system_id == bindparam("system_id"))
ATTRIBUTES_OF_SYSTEM = (
    select(ATTRIBUTES).join(TYPES, TYPES.c.id == ATTRIBUTES.c.object_type_id)
    .where(TYPES.c.connected_system_id == bindparam("system_id"))
)
# Those whose selected is as asked (GET object-types?selected=), the filter in the statement.
TYPES_SELECTED = TYPES_OF_SYSTEM.where(TYPES.c.selected == bindparam("selected"))
ATTRIBUTES_SELECTED = ATTRIBUTES_OF_SYSTEM.where(TYPES.c.selected == bindparam("selected"))
ONE_TYPE = TYPES_OF_SYSTEM.where(TYPES.c.id == bindparam("type_id"))
ATTRIBUTES_OF_TYPE = select(ATTRIBUTES).where(ATTRIBUTES.c.object_type_id == bindparam("type_id"))


def read_all(connection: Connection, system_id: int) -> list[StoredObjectType]:
    """Every object type of the system with its attributes, each sorted by name."""
    attributes: dict[int, list[StoredAttribute]] = {}
    # Each row's values zipped with the result's keys, read once: a Row's _mapping costs most of a big read.
    found = connection.execute(ATTRIBUTES_OF_SYSTEM, {"system_id": system_id})
    names = list(found.keys())
    for values in found:
        row = dict(zip(names, values))
        attributes.setdefault(row["object_type_id"], []).append(StoredAttribute(**row))
    return by_name(
        StoredObjectType(**row._mapping, attributes=tuple(by_name(attributes.get(row.id, []))))
        for row in connection.execute(TYPES_OF_SYSTEM, {"system_id": system_id})
    )


def shown_all(connection: Connection, system_id: int, shown: dict, selected: bool | None = None,
              with_attributes: bool = True) -> list[dict]:
    """Every object type of the system (only those whose ``selected`` is this, if given) as ``shown`` makes
    it from its row, with its attributes unless not ``with_attributes``; each sorted by name. Built from the
    driver's rows, without a dataclass or marshmallow's work per attribute: a schema may have 50,000."""
    if not with_attributes:
        types = raw_rows(connection, OBJECT_TYPE_SUMMARIES, {"id": system_id})
        show, at = shown["summary"](types.columns, types.converts), types.position("selected")
        return sorted((show(row) for row in types.rows if selected is None or bool(row[at]) == selected),
                      key=by_shown_name)
    parameters = {"system_id": system_id, "selected": selected}
    statements = (TYPES_OF_SYSTEM, ATTRIBUTES_OF_SYSTEM) if selected is None else (TYPES_SELECTED, ATTRIBUTES_SELECTED)
    found = raw_rows(connection, statements[1], parameters)
    # Each row with whether its selection is locked, which its flags decide.
    show_attribute = shown["attribute"]([*found.columns, "selection_locked"], found.converts)
    flags = [found.position(name) for name in ("is_external_id", "is_secondary_external_id")]
    type_of = found.position("object_type_id")
    attributes: dict[int, list[dict]] = {}
    for row in found.rows:
        locked = selection_locked(*(bool(row[at]) for at in flags))
        attributes.setdefault(row[type_of], []).append(show_attribute((*row, locked)))
    types = raw_rows(connection, statements[0], parameters)
    show_type = shown["object_type"]([*types.columns, "attribute_count"], types.converts)
    type_id = types.position("id")
    answer = []
    for row in types.rows:
        own = sorted(attributes.get(row[type_id], ()), key=by_shown_name)
        answer.append(show_type((*row, len(own)), own))
    return sorted(answer, key=by_shown_name)


def by_shown_name(item: dict) -> tuple:
    """An item's place in a list as shown: by name ignoring case, as ``by_name`` orders the stored ones."""
    return item["name"].casefold(), item["id"]


def read_one(connection: Connection, system_id: int, object_type_id: int) -> StoredObjectType:
    """One object type of the system with its attributes, or a 404 that says which."""
    parameters = {"system_id": system_id, "type_id": object_type_id}
    row = connection.execute(ONE_TYPE, parameters).one_or_none() if in_range(object_type_id) else None
    if row is None:
        raise NotFound(f"Connected system {system_id} has no object type {object_type_id}.")
    attributes = (StoredAttribute(**found._mapping) for found in connection.execute(ATTRIBUTES_OF_TYPE, parameters))
    return StoredObjectType(**row._mapping, attributes=tuple(by_name(attributes)))


def find_attribute(object_type: StoredObjectType, attribute_id: int) -> StoredAttribute:
    """One attribute of the object type, or a 404 that says which."""
    for attribute in object_type.attributes:
        if attribute.id == attribute_id:
            return attribute
    raise NotFound(f"Object type {object_type.id} has no attribute {attribute_id}.")


# --- Comparing a discovered schema with the stored one -----------------------------------------------------

@dataclass(frozen=True)
class AttributeChange:
    object_type: str
    attribute: str
    aspect: str  # as the wire names it: type, attributePlurality, ...
    old: object
    new: object


@dataclass
class Comparison:
    """What an import of ``discovered`` would change, as the preview answers it."""

    total_object_types: int = 0
    total_attributes: int = 0
    added_object_types: list[str] = field(default_factory=list)
    removed_object_types: list[str] = field(default_factory=list)
    updated_object_types: list[str] = field(default_factory=list)
    added_attributes: dict[str, list[str]] = field(default_factory=dict)
    removed_attributes: dict[str, list[str]] = field(default_factory=dict)
    changed_attributes: list[AttributeChange] = field(default_factory=list)
    discovery_warnings: list[str] = field(default_factory=list)

    @property
    def has_removals_or_definition_changes(self) -> bool:
        return bool(self.removed_object_types or self.removed_attributes or self.changed_attributes)

    @property
    def has_changes(self) -> bool:
        return bool(self.added_object_types or self.added_attributes or self.has_removals_or_definition_changes
                    or self.updated_object_types)


def unique_by_name(items, what: str, warnings: list[str]) -> dict:
    """Items by case-folded name; a name given twice (ignoring case) keeps its first, with a warning."""
    unique = {}
    for item in items:
        key = item.name.casefold()
        if key in unique:
            warnings.append(f"{what} {item.name!r} appears more than once, ignoring case; the first is kept.")
        else:
            unique[key] = item
    return unique


def definition_of(attribute: DiscoveredAttribute) -> dict:
    """A discovered attribute's definition, by column, as it is stored."""
    return {"name": attribute.name, "type": str(attribute.type), "attribute_plurality": str(attribute.plurality),
            "writability": str(attribute.writability), "description": attribute.description,
            "class_name": attribute.class_name}


def discovered_types(discovered: DiscoveredSchema, warnings: list[str]
                     ) -> dict[str, tuple[DiscoveredObjectType, dict[str, DiscoveredAttribute]]]:
    types = unique_by_name(discovered.object_types, "Object type", warnings)
    return {key: (object_type, unique_by_name(object_type.attributes, f"Attribute of {object_type.name}: ", warnings))
            for key, object_type in types.items()}


def compare(stored: list[StoredObjectType], discovered: DiscoveredSchema) -> Comparison:
    comparison = Comparison(discovery_warnings=list(discovered.warnings))
    found = discovered_types(discovered, comparison.discovery_warnings)
    comparison.total_object_types = len(found)
    comparison.total_attributes = sum(len(attributes) for _, attributes in found.values())
    stored_by_key = {object_type.name_key: object_type for object_type in stored}
    for key, (object_type, attributes) in sorted(found.items()):
        if key not in stored_by_key:
            comparison.added_object_types.append(object_type.name)
            continue
        before = stored_by_key[key]
        stored_attributes = {attribute.name_key: attribute for attribute in before.attributes}
        added = [attributes[name].name for name in sorted(attributes) if name not in stored_attributes]
        removed = [stored_attributes[name].name for name in sorted(stored_attributes) if name not in attributes]
        changed = [
            AttributeChange(object_type.name, attribute.name, aspect, getattr(stored_attributes[name], column),
                            definition_of(attribute)[column])
            for name, attribute in sorted(attributes.items()) if name in stored_attributes
            for aspect, column in DEFINITION
            if getattr(stored_attributes[name], column) != definition_of(attribute)[column]
        ]
        if added:
            comparison.added_attributes[object_type.name] = added
        if removed:
            comparison.removed_attributes[object_type.name] = removed
        comparison.changed_attributes.extend(changed)
        if added or removed or changed or before.name != object_type.name:
            comparison.updated_object_types.append(object_type.name)
    comparison.removed_object_types = [object_type.name for key, object_type in sorted(stored_by_key.items())
                                       if key not in found]
    return comparison


# --- Merging it ------------------------------------------------------------------------------------------

NEW_TYPE = insert(TYPES)
RENAME_TYPE = update(TYPES).where(TYPES.c.id == bindparam("type_id")).values(name=bindparam("new_name"))
DELETE_TYPE = delete(TYPES).where(TYPES.c.id == bindparam("type_id"))


# A schema import's new attributes, in one statement: their definitions as one JSON array (``rows``), each with
# its type's case-folded name, by which the type's id is looked up as they are inserted (the type may be new in
# the same write). One INSERT per attribute cost SQLAlchemy's and the driver's work for each row (0.5 s of a
# first import of AD's 5,431 attributes on PostgreSQL). On PostgreSQL the array is jsonb: json's ->> parses
# each element again for each field, ten times slower.
NEW_ATTRIBUTE_COLUMNS = ("name", "name_key", "description", "class_name", "type", "attribute_plurality",
                         "writability")
NEW_ROWS = JsonArrayRows(bindparam("rows", type_=Text)).table_valued("value").alias("new_rows")
NEW_ATTRIBUTES = insert(ATTRIBUTES).from_select(
    ["object_type_id", *NEW_ATTRIBUTE_COLUMNS[:4], "created", *NEW_ATTRIBUTE_COLUMNS[4:], "selected",
     "is_external_id", "is_secondary_external_id"],
    select(
        select(TYPES.c.id).where(TYPES.c.connected_system_id == bindparam("system_id"),
                                 TYPES.c.name_key == NEW_ROWS.c.value.op("->>")(literal("type_key")))
        .scalar_subquery(),
        *(NEW_ROWS.c.value.op("->>")(literal(name)) for name in NEW_ATTRIBUTE_COLUMNS[:4]),
        bindparam("created", type_=UTCDateTime()),
        *(NEW_ROWS.c.value.op("->>")(literal(name)) for name in NEW_ATTRIBUTE_COLUMNS[4:]),
        false(), false(), false(),
    ).select_from(NEW_ROWS),
)
REDEFINE_ATTRIBUTE = update(ATTRIBUTES).where(ATTRIBUTES.c.id == bindparam("attribute_id")).values(
    **{column: bindparam(f"new_{column}") for _, column in DEFINITION}
)
DELETE_ATTRIBUTE = delete(ATTRIBUTES).where(ATTRIBUTES.c.id == bindparam("attribute_id"))


def type_field(object_type: str, *rest: str) -> str:
    """How the history names an object type, or something of it: ``objectTypes.User.attributes.mail``."""
    return ".".join(("objectTypes", object_type, *rest))


def shown_definition(attribute: DiscoveredAttribute) -> dict:
    return {"type": str(attribute.type), "attributePlurality": str(attribute.plurality),
            "writability": str(attribute.writability)}


def merged(system_id: int, stored: list[StoredObjectType], discovered: DiscoveredSchema) -> PartEdit:
    """The writes that make the stored schema what was discovered, keeping ids and selections by name, and the
    history's account of them: each type added or removed (with its attributes' names), each attribute added
    or removed (with its definition), each aspect of a definition that changed."""
    found = discovered_types(discovered, [])
    stored_by_key = {object_type.name_key: object_type for object_type in stored}
    statements, changes = [], []
    new_types, renamed_types, removed_types = [], [], []
    new_attributes, redefined, removed_attributes = [], [], []
    now = utcnow()

    def add_attribute(type_key: str, attribute: DiscoveredAttribute):
        new_attributes.append({"type_key": type_key, "name_key": attribute.name.casefold(), **definition_of(attribute)})

    for key, (object_type, attributes) in sorted(found.items()):
        before = stored_by_key.get(key)
        if before is None:
            new_types.append({"connected_system_id": system_id, "name": object_type.name, "name_key": key,
                              "created": now, "selected": False,
                              "remove_contributed_attributes_on_obsoletion": REMOVE_CONTRIBUTED_ATTRIBUTES_BY_DEFAULT})
            changes.append(Change(type_field(object_type.name), None, sorted(a.name for a in attributes.values())))
            for attribute in attributes.values():
                add_attribute(key, attribute)
            continue
        if before.name != object_type.name:
            renamed_types.append({"type_id": before.id, "new_name": object_type.name})
            changes.append(Change(type_field(object_type.name, "name"), before.name, object_type.name))
        stored_attributes = {attribute.name_key: attribute for attribute in before.attributes}
        for name, attribute in sorted(attributes.items()):
            old = stored_attributes.get(name)
            if old is None:
                add_attribute(key, attribute)
                changes.append(Change(type_field(object_type.name, "attributes", attribute.name), None,
                                      shown_definition(attribute)))
                continue
            definition = definition_of(attribute)
            differing = [(aspect, column) for aspect, column in DEFINITION if getattr(old, column) != definition[column]]
            if differing:
                redefined.append({"attribute_id": old.id, **{f"new_{column}": definition[column] for _, column in DEFINITION}})
                changes.extend(Change(type_field(object_type.name, "attributes", attribute.name, aspect),
                                      getattr(old, column), definition[column]) for aspect, column in differing)
        for name, old in sorted(stored_attributes.items()):
            if name not in attributes:
                removed_attributes.append({"attribute_id": old.id})
                changes.append(Change(type_field(object_type.name, "attributes", old.name),
                                      {"type": old.type, "attributePlurality": old.attribute_plurality,
                                       "writability": old.writability}, None))
    for key, before in sorted(stored_by_key.items()):
        if key not in found:
            removed_types.append({"type_id": before.id})
            changes.append(Change(type_field(before.name), [attribute.name for attribute in before.attributes], None))

    # Removals first, so that a removed and re-added name never meets itself; new types before their attributes.
    for statement, rows in ((DELETE_ATTRIBUTE, removed_attributes), (DELETE_TYPE, removed_types),
                            (RENAME_TYPE, renamed_types), (NEW_TYPE, new_types), (REDEFINE_ATTRIBUTE, redefined),
                            (NEW_ATTRIBUTES, new_attributes and {"system_id": system_id, "created": now,
                                                                  "rows": json.dumps(new_attributes)})):
        if rows:
            statements.append((statement, rows))
    return PartEdit(tuple(statements), tuple(changes))


# --- Selections ------------------------------------------------------------------------------------------

SET_TYPE = update(TYPES).where(TYPES.c.id == bindparam("type_id"))
SET_ATTRIBUTE = update(ATTRIBUTES).where(ATTRIBUTES.c.id == bindparam("attribute_id"))
TYPE_FLAGS = (("selected", "selected"),
              ("removeContributedAttributesOnObsoletion", "remove_contributed_attributes_on_obsoletion"))
ATTRIBUTE_FLAGS = (("selected", "selected"), ("isExternalId", "is_external_id"),
                   ("isSecondaryExternalId", "is_secondary_external_id"))


def type_selected(object_type: StoredObjectType, flags: dict[str, bool]) -> PartEdit:
    """The write of an object type's PUT (flags by column), one UPDATE of what changed, and its history."""
    changed = [(aspect, column) for aspect, column in TYPE_FLAGS
               if column in flags and flags[column] != getattr(object_type, column)]
    if not changed:
        return PartEdit((), ())
    values = {column: flags[column] for _, column in changed}
    return PartEdit(((SET_TYPE, {"type_id": object_type.id, **values}),),
                    tuple(Change(type_field(object_type.name, aspect), getattr(object_type, column), flags[column])
                          for aspect, column in changed))


def attribute_selected(object_type: StoredObjectType, attribute_id: int, flags: dict[str, bool]
                       ) -> tuple[PartEdit, StoredAttribute]:
    """The writes of one attribute's PUT (flags by column), and the attribute as it leaves it; a 404 if the
    type has no such attribute."""
    find_attribute(object_type, attribute_id)
    part, updated, problems = selections(object_type, {attribute_id: flags})
    if problems:
        raise ValidationError(problems[attribute_id])
    return part, updated[0]


def attributes_selected(object_type: StoredObjectType, edits: dict[int, dict[str, bool]]
                        ) -> tuple[PartEdit, list[StoredAttribute]]:
    """The writes of a bulk PUT (attribute id to flags by column), all or nothing, and the attributes as it
    leaves them. An attribute that is not the type's, or a rule broken anywhere, refuses it all, each problem
    named ``attributes.<id>.<field>``."""
    problems = {attribute_id: {"attributeId": [f"Object type {object_type.id} has no attribute {attribute_id}."]}
                for attribute_id in edits if attribute_id not in {attribute.id for attribute in object_type.attributes}}
    if not problems:
        part, updated, problems = selections(object_type, edits)
    if problems:
        raise ValidationError({"attributes": {str(attribute_id): found for attribute_id, found in problems.items()}})
    return part, updated


def selections(object_type: StoredObjectType, edits: dict[int, dict[str, bool]]
               ) -> tuple[PartEdit, list[StoredAttribute], dict[int, dict[str, list[str]]]]:
    """The attributes' flags as ``edits`` leave them, the writes and history of what differs, and the
    problems by attribute id and field.

    Making an attribute an external id (primary or secondary) takes that role from the type's other
    attributes and selects it; an external id cannot be deselected while it is one, and one attribute cannot
    be both.
    """
    by_id = {attribute.id: attribute for attribute in object_type.attributes}
    after = {attribute_id: dict(vars(attribute)) for attribute_id, attribute in by_id.items()}
    problems: dict[int, dict[str, list[str]]] = {}
    for aspect, column in ATTRIBUTE_FLAGS[1:]:
        claimed = [attribute_id for attribute_id, flags in edits.items() if flags.get(column)]
        for attribute_id in claimed[1:]:
            problems.setdefault(attribute_id, {})[aspect] = [
                f"Only one attribute of an object type can be its {EXTERNAL_ID_NAMES[column]}."]
        if claimed:
            for state in after.values():
                state[column] = False
    for attribute_id, flags in edits.items():
        after[attribute_id].update(flags)
        state = after[attribute_id]
        if state["is_external_id"] and state["is_secondary_external_id"]:
            problems.setdefault(attribute_id, {})["isSecondaryExternalId"] = [
                "An attribute cannot be both the external id and the secondary external id."]
        if state["is_external_id"] or state["is_secondary_external_id"]:
            if flags.get("selected") is False:
                problems.setdefault(attribute_id, {})["selected"] = [
                    "An external id is always selected: make another attribute the external id first."]
            state["selected"] = True
    statements, changes = [], []
    for attribute_id, before in by_id.items():
        state = after[attribute_id]
        differing = [(aspect, column) for aspect, column in ATTRIBUTE_FLAGS if state[column] != getattr(before, column)]
        if differing:
            statements.append((SET_ATTRIBUTE, {"attribute_id": attribute_id,
                                               **{column: state[column] for _, column in differing}}))
            changes.extend(Change(type_field(object_type.name, "attributes", before.name, aspect),
                                  getattr(before, column), state[column]) for aspect, column in differing)
    updated = [StoredAttribute(**after[attribute_id]) for attribute_id in edits]
    return PartEdit(tuple(statements), tuple(changes)), updated, problems


EXTERNAL_ID_NAMES = {"is_external_id": "external id", "is_secondary_external_id": "secondary external id"}
