"""The LDAP connector's discovery: its settings read, the directory bound, and what it answers made JIM's.

``connectors.ldap`` imports this module (and ldap3 with it) when a discovery runs.
"""
import ldap3
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
from connectors.ldap import ad_schema, root_dse
from connectors.ldap.connection import Directory, bound, endpoint, texts
from connectors.ldap.hierarchy import (
    CONTAINER_FILTER,
    CROSS_REF_ATTRIBUTES,
    CROSS_REF_FILTER,
    ENTRY_ATTRIBUTES,
    domain_partitions,
    naming_contexts,
    partition,
)
from connectors.ldap.schema import object_types

SUBSCHEMA_ATTRIBUTES = ["objectClasses", "attributeTypes", "dITContentRules"]
GLOBAL_CATALOG_PORTS = (3268, 3269)  # Active Directory's global catalog, plain and over TLS


def schema(settings: Settings, deadline: Deadline) -> DiscoveredSchema:
    """Active Directory's schema from its classSchema and attributeSchema entries, as AD defines it; any other
    directory's from its subschema (RFC 4512)."""
    include_auxiliary_classes = settings[INCLUDE_AUXILIARY_CLASSES]
    with connected(settings, deadline) as directory:
        about = directory.read("", root_dse.ATTRIBUTES) or {}
        schema_dn = texts(about, "schemaNamingContext")
        if root_dse.is_active_directory(about) and schema_dn:
            return ad_schema.object_types(*ad_schema.read(directory, schema_dn[0]), include_auxiliary_classes)
        found = subschema(directory, about)
    return object_types(found, include_auxiliary_classes)


def hierarchy(settings: Settings, deadline: Deadline) -> DiscoveredHierarchy:
    partitions, count = [], 0
    with connected(settings, deadline) as directory:
        for context in partition_contexts(directory, directory.read("", root_dse.ATTRIBUTES) or {}):
            entry = directory.read(context, ENTRY_ATTRIBUTES) or {}
            # A directory too big to import is refused as soon as that is known, not after reading it all.
            most = limits.MOST_CONTAINERS
            containers = directory.search(context, CONTAINER_FILTER, ENTRY_ATTRIBUTES, most=most - count + 1)
            if len(containers) > most - count + 1:  # the naming context's own entry may be among them
                raise limits.too_big("containers", f"holds more than {most:,} containers", most)
            partitions.append(partition(context, entry, containers))
            count += len(containers)
    return DiscoveredHierarchy(tuple(partitions))


def partition_contexts(directory: Directory, about) -> list[str]:
    """Active Directory's domain partitions (not its DNS zones), as JIM offers them; any other directory's naming
    contexts less its own."""
    configuration = texts(about, "configurationNamingContext")
    if root_dse.is_active_directory(about) and configuration:
        cross_refs = directory.search(f"CN=Partitions,{configuration[0]}", CROSS_REF_FILTER, CROSS_REF_ATTRIBUTES,
                                      ldap3.LEVEL)
        return domain_partitions(about, cross_refs)
    return naming_contexts(about)


def connected(settings: Settings, deadline: Deadline):
    if settings[AUTHENTICATION_TYPE] != "Simple":
        raise Refused(f"This service binds with Simple authentication only; set {AUTHENTICATION_TYPE.name} to Simple "
                      f"(over LDAPS, so that the password travels encrypted).")
    where = endpoint(settings[HOST], settings[PORT], settings[USE_LDAPS])
    if where.port in GLOBAL_CATALOG_PORTS:
        raise Refused(f"{where} is a global catalog, which holds part of every domain of the forest in one tree: "
                      f"use the domain controller's LDAP port, 389 (636 for LDAPS).")
    return bound(where, settings[TRUSTED_CA_CERTIFICATES],
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
