"""The LDAP connector (id 3): a directory such as OpenLDAP or Active Directory, read with ldap3."""
from collections.abc import Iterator, Mapping
from urllib.parse import urlsplit

from connectors.interface import (
    Capabilities,
    Category,
    CertificateReader,
    Connector,
    Deadline,
    DiscoveredDirectoryServer,
    DiscoveredHierarchy,
    DiscoveredSchema,
    ImportedObject,
    PresentedCertificates,
    ReadScope,
    SchemaStandard,
    Setting,
    Settings,
    in_effect,
)
from connectors.interface import SettingType as S

C = Category
HOST = Setting(1, "Host", S.STRING, True, "Host name, or an ldap:// or ldaps:// URL, of the directory server.",
               url_schemes=("ldap", "ldaps"), category=C.CONNECTIVITY)
USERNAME = Setting(2, "Username", S.STRING, True, "The account to bind as: a bind DN or DOMAIN\\user.",
                   pattern=r"=|\\|@", pattern_hint="a bind DN, DOMAIN\\user or user@domain", category=C.CONNECTIVITY)
PASSWORD = Setting(3, "Password", S.STRING_ENCRYPTED, True, "The bind account's password.", category=C.CONNECTIVITY)
PORT = Setting(4, "Port", S.INTEGER, True, "The directory server's port: 389 for LDAP, 636 for LDAPS.", 389,
               minimum=1, maximum=65535, category=C.CONNECTIVITY)
USE_LDAPS = Setting(5, "Use Secure Connection (LDAPS)?", S.CHECKBOX, False, "Connect with TLS.", False,
                    category=C.CONNECTIVITY)
CONNECTION_TIMEOUT = Setting(6, "Connection Timeout", S.INTEGER, True, "Seconds to wait for a connection.", 10,
                             minimum=1, category=C.CONNECTIVITY)
AUTHENTICATION_TYPE = Setting(7, "Authentication Type", S.DROPDOWN, True, "How to bind.", "Simple",
                              ("Simple", "NTLM"), category=C.CONNECTIVITY)
INCLUDE_AUXILIARY_CLASSES = Setting(14, "Include Auxiliary Classes", S.CHECKBOX, False,
                                    "Import auxiliary object classes.", False)
TRUSTED_CA_CERTIFICATES = Setting(15, "Trusted CA Certificates", S.TEXT, False,
                                  "PEM certificates to trust for LDAPS, one after another. This service's own: JIM "
                                  "keeps trusted certificates in its certificate store.", category=C.CONNECTIVITY)
DELETE_BEHAVIOUR = Setting(11, "Delete Behaviour", S.DROPDOWN, False, "What an export does with a deleted object.",
                           "Delete", ("Delete", "Disable"), category=C.EXPORT, acted_on=False)
# Settings 16 on are JIM's that this service had not: stored and shown, and not acted on yet.
PREFERRED_DOMAIN_CONTROLLER = Setting(
    16, "Preferred Domain Controller", S.STRING, False,
    "Active Directory and Samba AD: a domain controller to always connect to; when empty, the one the Host "
    "reaches.", category=C.CONNECTIVITY, acted_on=False)
CREATE_CONTAINERS_AS_NEEDED = Setting(18, "Create containers as needed?", S.CHECKBOX, False,
                                      "Create OUs as needed when provisioning new objects.", False, acted_on=False)
SKIP_HIDDEN_PARTITIONS = Setting(
    19, "Skip Hidden Partitions", S.CHECKBOX, False,
    "Skip hidden partitions (Configuration, Schema, DNS zones) when refreshing the hierarchy. This service "
    "imports only the domain partitions of an Active Directory whatever it holds.", True, acted_on=False)


def discover_schema(settings: Settings, deadline: Deadline) -> DiscoveredSchema:
    # ldap3 costs a process some 5 MiB and 50 ms when imported: a worker pays that on its first LDAP import,
    # not each time it starts.
    from connectors.ldap import discovery  # noqa: PLC0415

    return discovery.schema(settings, deadline)


def discover_hierarchy(settings: Settings, deadline: Deadline) -> DiscoveredHierarchy:
    from connectors.ldap import discovery  # noqa: PLC0415

    return discovery.hierarchy(settings, deadline)


GLOBAL_CATALOG_PORTS = (3268, 3269)  # Active Directory's global catalog, plain and over TLS


def offline_checks(values: Mapping[int, object]) -> dict[int, list[str]]:
    """The port in effect (Host's URL's, which wins, or Port's) must be one that can answer as asked: never a
    global catalog, which holds part of every domain of the forest in one tree, so its containers would be
    folded into one partition; and never an ``ldaps://`` Host on LDAP's own port 389 (the usual slip: Host
    changed to ``ldaps://`` while Port stays at its default), nor plain LDAP on LDAPS's 636. The LDAPS checkbox
    with Port 389 is left to the directory: the seed's own example sets it so."""
    host, port = in_effect(HOST, values.get(HOST.id)), in_effect(PORT, values.get(PORT.id))
    scheme, named_by = "", PORT
    if isinstance(host, str) and "://" in host:
        try:
            parts = urlsplit(host)
            in_url = parts.port
        except ValueError:
            return {}  # Host's own rules say what is wrong with it
        scheme = parts.scheme.lower()
        if in_url is not None:
            port, named_by = in_url, HOST
    if port in GLOBAL_CATALOG_PORTS:
        return {named_by.id: [f"{port} is the port of Active Directory's global catalog, which holds part of every "
                              f"domain of the forest in one tree: use the domain controller's LDAP port, 389 (636 "
                              f"for LDAPS)."]}
    if scheme == "ldaps" and port == 389:
        return {named_by.id: ["389 is LDAP's port without TLS, and this Host asks for LDAPS: use 636, or an "
                              "ldap:// Host."]}
    if scheme != "ldaps" and in_effect(USE_LDAPS, values.get(USE_LDAPS.id)) is not True and port == 636:
        return {named_by.id: ["636 is the port of LDAPS, and this connection asks for LDAP without TLS: use 389, or "
                              "use LDAPS (an ldaps:// Host, or Use Secure Connection)."]}
    return {}


def discover_directory_servers(settings: Settings, deadline: Deadline) -> tuple[DiscoveredDirectoryServer, ...]:
    from connectors.ldap import discovery  # noqa: PLC0415

    return discovery.directory_servers(settings, deadline)


def read_objects(settings: Settings, scope: ReadScope, deadline: Deadline) -> Iterator[ImportedObject]:
    from connectors.ldap import objects  # noqa: PLC0415

    return objects.read_objects(settings, scope, deadline)


def read_server_certificate(settings: Settings, deadline: Deadline) -> PresentedCertificates | None:
    from connectors.ldap import certificate  # noqa: PLC0415

    return certificate.read(settings, deadline)


CONNECTOR = Connector(
    3,
    "JIM LDAP Connector",
    "Imports from and exports to an LDAP directory such as Active Directory, OpenLDAP or Samba AD.",
    (
        HOST,
        USERNAME,
        PASSWORD,
        PORT,
        USE_LDAPS,
        CONNECTION_TIMEOUT,
        AUTHENTICATION_TYPE,
        Setting(8, "Search Timeout", S.INTEGER, False, "Seconds to wait for a search's results.", 300, minimum=1,
                acted_on=False),
        Setting(9, "Maximum Retries", S.INTEGER, False, "Retries of a failed operation.", 3, minimum=0, maximum=100,
                acted_on=False),
        Setting(10, "Retry Delay (ms)", S.INTEGER, False, "Milliseconds before the first retry, doubling after.",
                1000, minimum=0, acted_on=False),
        DELETE_BEHAVIOUR,
        Setting(12, "Disable Attribute", S.STRING, False,
                "The attribute set to disable an object (userAccountControl for AD), when Delete Behaviour is "
                "Disable.", "userAccountControl", required_when=(DELETE_BEHAVIOUR, "Disable"), category=C.EXPORT,
                acted_on=False),
        Setting(13, "Export Concurrency", S.INTEGER, False, "Concurrent LDAP operations during an export.", 4,
                minimum=1, maximum=64, category=C.EXPORT, acted_on=False),
        INCLUDE_AUXILIARY_CLASSES,
        TRUSTED_CA_CERTIFICATES,
        PREFERRED_DOMAIN_CONTROLLER,
        Setting(17, "Import Concurrency", S.INTEGER, False,
                "Parallel LDAP connections of a full import from OpenLDAP and other directories, one per "
                "container and object type; not used for Active Directory.", 4, minimum=1, maximum=64,
                acted_on=False),
        CREATE_CONTAINERS_AS_NEEDED,
        SKIP_HIDDEN_PARTITIONS,
        Setting(20, "Modify Batch Size", S.INTEGER, False,
                "The most values of a multi-valued attribute changed in one LDAP request; larger changes (a big "
                "group's members) are split.", 1000, minimum=1, category=C.EXPORT, acted_on=False),
        Setting(21, "Group Placeholder Member DN", S.STRING, False,
                "A member added to a group whose object class needs one (groupOfNames) while it has none, and "
                "left out on import; not for Active Directory.", "cn=placeholder", category=C.EXPORT,
                acted_on=False),
    ),
    discover_schema,
    discover_hierarchy,
    read_objects,
    Capabilities(full_import=True, delta_import=True, export=True, partitions=True, partition_containers=True,
                 secondary_external_id=True, parallel_export=True, paging=True, password_set=True,
                 password_policy_discovery=True),
    SchemaStandard.LDAP,
    discover_directory_servers=discover_directory_servers,
    offline_checks=offline_checks,
    server_certificate=CertificateReader(read_server_certificate,
                                         (HOST, PORT, USE_LDAPS, CONNECTION_TIMEOUT, TRUSTED_CA_CERTIFICATES),
                                         TRUSTED_CA_CERTIFICATES),
)
