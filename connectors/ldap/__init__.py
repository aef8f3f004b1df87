"""The LDAP connector (id 3): a directory such as OpenLDAP or Active Directory, read with ldap3."""
from collections.abc import Iterator

from connectors.interface import (
    CertificateReader,
    Connector,
    Deadline,
    DiscoveredHierarchy,
    DiscoveredSchema,
    ImportedObject,
    PresentedCertificates,
    ReadScope,
    Setting,
    Settings,
)
from connectors.interface import SettingType as S

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


def discover_schema(settings: Settings, deadline: Deadline) -> DiscoveredSchema:
    # ldap3 costs a process some 5 MiB and 50 ms when imported: a worker pays that on its first LDAP import,
    # not each time it starts.
    from connectors.ldap import discovery  # noqa: PLC0415

    return discovery.schema(settings, deadline)


def discover_hierarchy(settings: Settings, deadline: Deadline) -> DiscoveredHierarchy:
    from connectors.ldap import discovery  # noqa: PLC0415

    return discovery.hierarchy(settings, deadline)


def read_objects(settings: Settings, scope: ReadScope, deadline: Deadline) -> Iterator[ImportedObject]:
    from connectors.ldap import objects  # noqa: PLC0415

    return objects.read_objects(settings, scope, deadline)


def read_server_certificate(settings: Settings, deadline: Deadline) -> PresentedCertificates | None:
    from connectors.ldap import certificate  # noqa: PLC0415

    return certificate.read(settings, deadline)


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
    read_objects,
    server_certificate=CertificateReader(read_server_certificate,
                                         (HOST, PORT, USE_LDAPS, CONNECTION_TIMEOUT, TRUSTED_CA_CERTIFICATES),
                                         TRUSTED_CA_CERTIFICATES),
)
