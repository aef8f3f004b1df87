"""The LDAP connector (id 3): a directory such as OpenLDAP or Active Directory, read with ldap3."""
from ldap3.protocol.rfc4512 import SchemaInfo

from connectors.interface import (
    Connector,
    Deadline,
    DiscoveredHierarchy,
    DiscoveredSchema,
    Refused,
    Setting,
    Settings,
)
from connectors.interface import SettingType as S
from connectors.ldap_connection import Directory, bound, endpoint, texts
from connectors.ldap_hierarchy import (
    CONTAINER_FILTER,
    ENTRY_ATTRIBUTES,
    ROOT_DSE_ATTRIBUTES,
    naming_contexts,
    partition,
)
from connectors.ldap_schema import object_types

HOST = Setting(1, "Host", S.STRING, True, "Host name, or an ldap:// or ldaps:// URL, of the directory server.",
               url_schemes=("ldap", "ldaps"))
USERNAME = Setting(2, "Username", S.STRING, True, "The account to bind as: a bind DN or DOMAIN\\user.",
                   pattern=r"=|\\|@", pattern_hint="a bind DN, DOMAIN\\user or user@domain")
PASSWORD = Setting(3, "Password", S.STRING_ENCRYPTED, True, "The bind account's password.")
PORT = Setting(4, "Port", S.INTEGER, True, "The directory server's port.", 389, minimum=1, maximum=65535)
USE_LDAPS = Setting(5, "Use Secure Connection (LDAPS)?", S.CHECKBOX, False, "Connect with TLS.", False)
CONNECTION_TIMEOUT = Setting(6, "Connection Timeout", S.INTEGER, True, "Seconds to wait for a connection.", 10,
                             minimum=1)
AUTHENTICATION_TYPE = Setting(7, "Authentication Type", S.DROPDOWN, True, "How to bind.", "Simple",
                              ("Simple", "NTLM"))
INCLUDE_AUXILIARY_CLASSES = Setting(14, "Include Auxiliary Classes", S.CHECKBOX, False,
                                    "Import auxiliary object classes.", False)
TRUSTED_CA_CERTIFICATES = Setting(15, "Trusted CA Certificates", S.TEXT, False,
                                  "PEM certificates to trust for LDAPS, one after another.")


SUBSCHEMA_ATTRIBUTES = ["objectClasses", "attributeTypes", "dITContentRules"]


def discover_schema(settings: Settings, deadline: Deadline) -> DiscoveredSchema:
    with connected(settings, deadline) as directory:
        schema = subschema(directory, directory.read("", ROOT_DSE_ATTRIBUTES) or {})
    return object_types(schema, settings[INCLUDE_AUXILIARY_CLASSES])


def discover_hierarchy(settings: Settings, deadline: Deadline) -> DiscoveredHierarchy:
    partitions = []
    with connected(settings, deadline) as directory:
        for context in naming_contexts(directory.read("", ROOT_DSE_ATTRIBUTES) or {}):
            entry = directory.read(context, ENTRY_ATTRIBUTES) or {}
            partitions.append(partition(context, entry, directory.search(context, CONTAINER_FILTER, ENTRY_ATTRIBUTES)))
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


CONNECTOR = Connector(
    3,
    "JIM LDAP Connector",
    "Imports from and exports to an LDAP directory such as Active Directory or OpenLDAP.",
    (
        HOST,
        USERNAME,
        PASSWORD,
        PORT,
        USE_LDAPS,
        CONNECTION_TIMEOUT,
        AUTHENTICATION_TYPE,
        Setting(8, "Search Timeout", S.INTEGER, False, "Seconds to wait for a search.", 300, minimum=1),
        Setting(9, "Maximum Retries", S.INTEGER, False, "Retries of a failed operation.", 3, minimum=0, maximum=100),
        Setting(10, "Retry Delay (ms)", S.INTEGER, False, "Milliseconds between retries.", 1000, minimum=0),
        Setting(11, "Delete Behaviour", S.DROPDOWN, False, "What an export does with a deleted object.", "Delete",
                ("Delete", "Disable")),
        Setting(12, "Disable Attribute", S.STRING, False, "The attribute that disables an object.",
                "userAccountControl", required_when=(11, "Disable")),
        Setting(13, "Export Concurrency", S.INTEGER, False, "Concurrent operations within one export batch.", 4,
                minimum=1, maximum=64),
        INCLUDE_AUXILIARY_CLASSES,
        TRUSTED_CA_CERTIFICATES,
    ),
    discover_schema,
    discover_hierarchy,
)
