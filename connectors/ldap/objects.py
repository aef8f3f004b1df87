"""Reading a directory's objects: paged searches of each selected container of each selected partition.

An entry is of the object type its structural class names (``structuralObjectClass``, or on Active Directory,
which has none, the last of its ``objectClass`` values, the most specific). Only the selected attributes and
the external ids are asked for; a big multi-valued attribute that the directory answers in ranges
(``member;range=0-1499``, Active Directory's) is read range by range. A DN is kept as the directory writes it.
"""
import re
import uuid
from collections.abc import Iterator

import ldap3
from ldap3.utils.conv import escape_filter_chars

from connectors.interface import (
    AttributeType,
    ContainerScopeKind,
    Deadline,
    ImportedObject,
    ObjectTypeScope,
    PartitionScope,
    ReadScope,
    Settings,
)
from connectors.ldap.connection import Directory
from connectors.ldap.discovery import connected
from connectors.ldap.hierarchy import key
from connectors.values import from_text, imported

RANGED = re.compile(r"(?P<name>[^;]+);range=(?P<start>[0-9]+)-(?P<end>[0-9]+|\*)", re.IGNORECASE)
# Attributes that hold the entry's own DN: answered from the entry's name when the directory has no such attribute.
DN_ATTRIBUTES = {"dn", "distinguishedname", "entrydn"}
CLASS_ATTRIBUTES = ["objectClass", "structuralObjectClass"]
SEARCH_RESULT_ENTRY = 4  # the protocolOp of a searchResEntry (RFC 4511 4.5.2)
SEARCH_SCOPES = {ContainerScopeKind.SUBTREE: ldap3.SUBTREE, ContainerScopeKind.ONE_LEVEL: ldap3.LEVEL}


def read_objects(settings: Settings, scope: ReadScope, deadline: Deadline) -> Iterator[ImportedObject]:
    types = {object_type.name.lower(): object_type for object_type in scope.object_types}
    if not types:
        return
    wanted = sorted({attribute.name for object_type in scope.object_types for attribute in object_type.attributes}
                    | set(CLASS_ATTRIBUTES), key=str.lower)
    classes = "".join(f"(objectClass={escape_filter_chars(name)})" for name in sorted(types))
    search_filter = f"(|{classes})" if len(types) > 1 else classes
    with connected(settings, deadline) as directory:
        entries_raw_only(directory)
        for partition in scope.partitions:
            for base, search_scope, excluded in searches(partition):
                for page in directory.pages(base, search_filter, wanted, SEARCH_SCOPES[search_scope], each_step=True):
                    for entry in page:
                        if excluded and is_within(entry["dn"], excluded):
                            continue
                        object_type = types.get(structural_class(entry["raw_attributes"]))
                        if object_type is not None:
                            yield entry_object(directory, object_type, entry)


def entries_raw_only(directory: Directory):
    """Have ldap3 hand each entry as its DN and raw values alone. Of its own it also formats every value by the
    attribute's syntax and keeps both in case-insensitive dictionaries: most of a large read's time, for values
    that ``typed`` types again from the raw ones."""
    connection = directory.connection
    # What ldap3 would do then with the formatted values, which there are none of: ranges are read here
    # (``complete_ranges``), and an attribute missing from an entry reads as no value.
    connection.auto_range = connection.empty_attributes = False
    strategy = connection.strategy
    decoded = strategy.decode_response_fast

    def decode(message):
        if message["protocolOp"] != SEARCH_RESULT_ENTRY:
            return decoded(message)
        name, found = message["payload"][0][3], message["payload"][1][3]
        attributes = CaseInsensitive({})
        for attribute in found:
            dict.__setitem__(attributes, bytes(attribute[3][0][3]).decode().lower(),
                             [bytes(value[3]) for value in attribute[3][1][3]])
        return {"type": "searchResEntry", "dn": bytes(name).decode(), "raw_attributes": attributes}

    strategy.decode_response_fast = decode


def searches(partition: PartitionScope) -> list[tuple[str, ContainerScopeKind, tuple[str, ...]]]:
    """Each search of a partition: its base, its scope and the keys of the containers left out beneath it. A
    container within another that is searched to its whole subtree is not searched again."""
    if not partition.containers:
        return [(partition.external_id, ContainerScopeKind.SUBTREE, tuple(key(dn) for dn in partition.excluded))]
    whole = [key(container.external_id) for container in partition.containers
             if container.scope is ContainerScopeKind.SUBTREE]
    found = []
    for container in partition.containers:
        own = key(container.external_id)
        if any(own.endswith("," + other) for other in whole):
            continue
        excluded = tuple(other for other in {key(dn) for dn in (*container.excluded, *partition.excluded)}
                         if other.endswith("," + own))  # only what lies beneath it can be left out of it
        found.append((container.external_id, container.scope, excluded))
    return found


def is_within(dn: str, excluded: tuple[str, ...]) -> bool:
    entry = key(dn)
    return any(entry == other or entry.endswith("," + other) for other in excluded)


def structural_class(attributes) -> str | None:
    found = attributes.get("structuralObjectClass") or attributes.get("objectClass")
    return found[-1].decode().lower() if found else None


def entry_object(directory: Directory, object_type: ObjectTypeScope, entry: dict) -> ImportedObject:
    attributes = complete_ranges(directory, entry["dn"], entry["raw_attributes"])

    def found(attribute):
        values = attributes.get(attribute.name)
        if values is None and attribute.name.lower() in DN_ATTRIBUTES:
            return [entry["dn"]]
        if values and attribute.name.lower() == "objectguid":  # as Active Directory writes a GUID
            return [str(uuid.UUID(bytes_le=value)) if len(value) == 16 else value for value in values]
        return values or []

    return imported(object_type, found, typed)


def typed(value, attribute_type: AttributeType):
    if isinstance(value, str):  # a DN from the entry's name, or an objectGUID as its GUID, which it is kept as
        return value if attribute_type is AttributeType.BINARY else from_text(value, attribute_type)
    if attribute_type is AttributeType.BINARY:
        return value
    return from_text(value.decode(), attribute_type)


def complete_ranges(directory: Directory, dn: str, attributes):
    """The entry's attributes with each one answered in ranges read whole, under its own name."""
    ranged = [name for name in attributes if ";" in name and RANGED.fullmatch(name)]
    if not ranged:
        return attributes
    attributes = dict(attributes)
    for name in ranged:
        part = RANGED.fullmatch(name)
        values = list(attributes.pop(name))
        end = part["end"]
        while end != "*":
            asked = f"{part['name']};range={int(end) + 1}-*"
            directory.deadline.restart()
            more = directory.read(dn, [asked]) or {}
            answered = next((RANGED.fullmatch(other) for other in more if RANGED.fullmatch(other)), None)
            if answered is None:
                break
            values.extend(more[answered.string])
            end = answered["end"]
        attributes[part["name"]] = values
    return CaseInsensitive(attributes)


class CaseInsensitive(dict):
    """An entry's attributes looked up by name in any case, as LDAP names them."""

    def __init__(self, attributes: dict):
        super().__init__((name.lower(), values) for name, values in attributes.items())

    def get(self, name, default=None):
        return super().get(name.lower(), default)
