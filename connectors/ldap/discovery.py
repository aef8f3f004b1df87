"""The LDAP connector's discovery: its settings read, the directory bound, and what it answers made JIM's.

``connectors.ldap`` imports this module (and ldap3 with it) when a discovery runs.
"""
from dataclasses import replace

import ldap3
from ldap3.protocol.rfc4512 import SchemaInfo
from ldap3.utils.dn import to_dn

from connectors import limits
from connectors.interface import (
    Deadline,
    DiscoveredDirectoryServer,
    DiscoveredHierarchy,
    DiscoveredSchema,
    Refused,
    Settings,
)
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
from connectors.ldap import ad_schema, password_policy, root_dse
from connectors.ldap.connection import Directory, bound, endpoint, texts
from connectors.ldap.hierarchy import (
    CONTAINER_FILTER,
    CROSS_REF_ATTRIBUTES,
    CROSS_REF_FILTER,
    ENTRY_ATTRIBUTES,
    domain_partitions,
    key,
    name_of,
    naming_contexts,
    partition,
)
from connectors.ldap.schema import object_types

SUBSCHEMA_ATTRIBUTES = ["objectClasses", "attributeTypes", "dITContentRules"]


def schema(settings: Settings, deadline: Deadline) -> DiscoveredSchema:
    """Active Directory's schema from its classSchema and attributeSchema entries, as AD defines it; any other
    directory's from its subschema (RFC 4512). With it, what the RootDSE says of the directory and, on AD, the
    domain's password policy, read last, so that a failure to read it fails nothing."""
    include_auxiliary_classes = settings[INCLUDE_AUXILIARY_CLASSES]
    with connected(settings, deadline) as directory:
        about = directory.read("", root_dse.ATTRIBUTES) or {}
        schema_dn = texts(about, "schemaNamingContext")
        if root_dse.is_active_directory(about) and schema_dn:
            found = ad_schema.object_types(*ad_schema.read(directory, schema_dn[0]), include_auxiliary_classes)
        else:
            found = object_types(subschema(directory, about), include_auxiliary_classes)
        policy, warnings = password_policy.read(directory, about)
    return replace(found, warnings=found.warnings + warnings, detected_capabilities=root_dse.capabilities(about),
                   password_policy=policy)


def hierarchy(settings: Settings, deadline: Deadline) -> DiscoveredHierarchy:
    partitions, count = [], 0
    with connected(settings, deadline) as directory:
        for context in partition_contexts(directory, directory.read("", root_dse.ATTRIBUTES) or {}):
            entry = directory.read(context, ENTRY_ATTRIBUTES) or {}
            # A directory too big to import is refused as soon as that is known, not after reading it all.
            most = settings.limits.containers
            containers = directory.search(context, CONTAINER_FILTER, ENTRY_ATTRIBUTES, most=most - count + 1)
            if len(containers) > most - count + 1:  # the naming context's own entry may be among them
                raise limits.too_big("containers", f"holds more than {most:,} containers", most)
            partitions.append(partition(context, entry, containers))
            count += len(containers)
    return DiscoveredHierarchy(tuple(partitions))


def directory_servers(settings: Settings, deadline: Deadline) -> tuple[DiscoveredDirectoryServer, ...]:
    """Active Directory's domain controllers: the nTDSDSA ("NTDS Settings") objects under CN=Sites of the
    configuration, each the child of its server (which holds its dNSHostName) in its site's CN=Servers."""
    with connected(settings, deadline) as directory:
        about = directory.read("", root_dse.ATTRIBUTES) or {}
        configuration = texts(about, "configurationNamingContext")
        if not root_dse.is_active_directory(about) or not configuration:
            raise Refused(f"{directory.where} is {root_dse.directory_type(about)}, not Active Directory or Samba "
                          f"AD: only a domain's directory has domain controllers to list.")
        sites = f"CN=Sites,{configuration[0]}"
        agents = directory.search(sites, "(objectClass=nTDSDSA)", ["objectClass"])
        servers = {key(dn): entry for dn, entry in directory.search(sites, "(objectClass=server)", ["dNSHostName"])}
    found = []
    for dn, _ in agents:
        # CN=NTDS Settings,CN=DC1,CN=Servers,CN=Default-First-Site-Name,CN=Sites,...
        rdns = to_dn(dn, remove_space=True)
        host = texts(servers.get(",".join(rdns[1:]).lower(), {}), "dNSHostName")
        if host:
            found.append(DiscoveredDirectoryServer(host[0], name_of(",".join(rdns[3:])) if len(rdns) > 3 else None))
    return tuple(sorted(found, key=lambda server: server.host_name.lower()))


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
