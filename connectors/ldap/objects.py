"""Reading a directory's objects: paged searches of each selected container of each selected partition.

An entry is of the object type its structural class names (``structuralObjectClass``, or on Active Directory,
which has none, the last of its ``objectClass`` values, the most specific). Only the selected attributes and
the external ids are asked for; a big multi-valued attribute that the directory answers in ranges
(``member;range=0-1499``, Active Directory's) is read range by range. A DN is kept as the directory writes it.
"""
import re
import uuid
from collections.abc import Iterator
from dataclasses import replace

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
from connectors.ldap.entries import CaseInsensitive
from connectors.ldap.hierarchy import key
from connectors.values import from_text, imported

RANGED = re.compile(r"(?P<name>[^;]+);range=(?P<start>[0-9]+)-(?P<end>[0-9]+|\*)", re.IGNORECASE)
# Attributes that hold the entry's own DN: answered from the entry's name when the directory has no such attribute.
DN_ATTRIBUTES = {"dn", "distinguishedname", "entrydn"}
CLASS_ATTRIBUTES = ["objectClass", "structuralObjectClass"]
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
        for partition in scope.partitions:
            for base, search_scope, excluded in searches(partition):
                for page in directory.pages(base, search_filter, wanted, SEARCH_SCOPES[search_scope], each_step=True):
                    for entry in page:
                        if excluded and is_within(entry["dn"], excluded):
                            continue
                        object_type = types.get(structural_class(entry["raw_attributes"]))
                        if object_type is not None:
                            yield entry_object(directory, object_type, entry)


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
    attributes, problems = complete_ranges(directory, entry["dn"], entry["raw_attributes"])

    def found(attribute):
        values = attributes.get(attribute.name)
        if values is None and attribute.name.lower() in DN_ATTRIBUTES:
            return [entry["dn"]]
        if values and attribute.name.lower() == "objectguid":  # as Active Directory writes a GUID
            return [str(uuid.UUID(bytes_le=value)) if len(value) == 16 else value for value in values]
        return values or []

    found_object = imported(object_type, found, typed)
    return replace(found_object, problems=(*problems, *found_object.problems)) if problems else found_object


def typed(value, attribute_type: AttributeType):
    if attribute_type is AttributeType.BINARY:  # an objectGUID as its GUID is kept as that text
        return value
    # a DN from the entry's name, or an objectGUID as its GUID, is text already
    return from_text(value.decode() if isinstance(value, bytes) else value, attribute_type)


def complete_ranges(directory: Directory, dn: str, attributes) -> tuple[dict, list[str]]:
    """The entry's attributes with each one answered in ranges read whole, under its own name; and, for one whose
    next range the directory did not answer (or answered another), that only the values read are kept (told,
    never a silent loss)."""
    ranged = [name for name in attributes if ";" in name and RANGED.fullmatch(name)]
    if not ranged:
        return attributes, []
    attributes, problems = dict(attributes), []
    for name in ranged:
        part = RANGED.fullmatch(name)
        values = list(attributes.pop(name))
        end = part["end"]
        while end != "*":
            asked = f"{part['name']};range={int(end) + 1}-*"
            directory.deadline.restart()
            more = directory.read(dn, [asked]) or {}
            answered = next((RANGED.fullmatch(other) for other in more if RANGED.fullmatch(other)), None)
            if answered is None or int(answered["start"]) != int(end) + 1:  # else a peer could loop it for ever
                problems.append(f"The directory answered {part['name']} in ranges, but not the range a read of "
                                f"{asked} asks for; only its first {len(values):,} values were imported.")
                break
            values.extend(more[answered.string])
            end = answered["end"]
        attributes[part["name"]] = values
    return CaseInsensitive(attributes), problems
