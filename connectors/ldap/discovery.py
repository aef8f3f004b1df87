"""The LDAP connector's discovery: its settings read, the directory bound, and what it answers made JIM's.

``connectors.ldap`` imports this module (and ldap3 with it) when a discovery runs.
"""
from ldap3.protocol.rfc4512 import SchemaInfo

from connectors import limits
from connectors.interface import Deadline, DiscoveredHierarchy, DiscoveredSchema, Refused, Settings
from connectors.ldap import (
    AUTHENTICATION_TYPE,
    CONNECTION_TIMEOUT,
    HOST,
    INCLUDE_AUXILIARY_CLASSES,
    PASSWORD,
    PORT,
    TRUSTED_CA_CERTIFICATES,
    USE_LDAPS,
    USERNAME,
)
from connectors.ldap.connection import Directory, bound, endpoint, texts
from connectors.ldap.hierarchy import (
    CONTAINER_FILTER,
    ENTRY_ATTRIBUTES,
    ROOT_DSE_ATTRIBUTES,
    naming_contexts,
    partition,
)
from connectors.ldap.schema import object_types

SUBSCHEMA_ATTRIBUTES = ["objectClasses", "attributeTypes", "dITContentRules"]


def schema(settings: Settings, deadline: Deadline) -> DiscoveredSchema:
    with connected(settings, deadline) as directory:
        found = subschema(directory, directory.read("", ROOT_DSE_ATTRIBUTES) or {})
    return object_types(found, settings[INCLUDE_AUXILIARY_CLASSES])


def hierarchy(settings: Settings, deadline: Deadline) -> DiscoveredHierarchy:
    partitions, count = [], 0
    with connected(settings, deadline) as directory:
        for context in naming_contexts(directory.read("", ROOT_DSE_ATTRIBUTES) or {}):
            entry = directory.read(context, ENTRY_ATTRIBUTES) or {}
            # A directory too big to import is refused as soon as that is known, not after reading it all.
            most = limits.MOST_CONTAINERS
            containers = directory.search(context, CONTAINER_FILTER, ENTRY_ATTRIBUTES, most=most - count + 1)
            if len(containers) > most - count + 1:  # the naming context's own entry may be among them
                raise limits.too_big("containers", f"holds more than {most:,} containers", most)
            partitions.append(partition(context, entry, containers))
            count += len(containers)
    return DiscoveredHierarchy(tuple(partitions))


def connected(settings: Settings, deadline: Deadline):
    if settings[AUTHENTICATION_TYPE] != "Simple":
        raise Refused(f"This service binds with Simple authentication only; set {AUTHENTICATION_TYPE.name} to Simple "
                      f"(over LDAPS, so that the password travels encrypted).")
    return bound(endpoint(settings[HOST], settings[PORT], settings[USE_LDAPS]), settings[TRUSTED_CA_CERTIFICATES],
                 settings[USERNAME], settings[PASSWORD], settings[CONNECTION_TIMEOUT], deadline)


def subschema(directory: Directory, root_dse) -> SchemaInfo:
    """The subschema entry the RootDSE names (RFC 4512 4.4, 5.1); an account that may not read it is refused."""
    found = texts(root_dse, "subschemaSubentry")
    where = found[0] if found else None
    entry = directory.read(where, SUBSCHEMA_ATTRIBUTES, "(objectClass=subschema)") if where else None
    if not entry or not entry.get("objectClasses"):
        raise Refused(f"{directory.account} may not read the directory's schema"
                      f"{f' ({where})' if where else ''}: grant it read access to the subschema entry.")
    definitions = {name: texts(entry, name) for name in SUBSCHEMA_ATTRIBUTES}
    return SchemaInfo(where, definitions, entry)
