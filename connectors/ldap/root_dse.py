"""What a directory says of itself in its RootDSE (RFC 4512 5.1): what kind of directory it is, and where its
schema, configuration and domain are."""
from collections.abc import Mapping

from connectors.ldap.connection import PAGED_RESULTS, texts

# The naming contexts that hold the directory's own workings: OpenLDAP's cn=config and cn=Monitor, Active
# Directory's configuration and schema partitions.
OWN_CONTEXTS = ("configContext", "monitorContext", "configurationNamingContext", "schemaNamingContext")
ATTRIBUTES = ["namingContexts", "subschemaSubentry", *OWN_CONTEXTS, "defaultNamingContext", "supportedCapabilities",
              "supportedControl", "vendorName", "dnsHostName", "objectClass", "domainFunctionality"]
# supportedCapabilities of Active Directory Domain Services and of AD LDS ([MS-ADTS] 3.1.1.3.4.3).
ACTIVE_DIRECTORY_CAPABILITIES = {"1.2.840.113556.1.4.800", "1.2.840.113556.1.4.1851"}
ACTIVE_DIRECTORY, SAMBA_AD, OPENLDAP, GENERIC = "Active Directory", "Samba AD", "OpenLDAP", "Generic"


def directory_type(root_dse: Mapping) -> str:
    if ACTIVE_DIRECTORY_CAPABILITIES & set(texts(root_dse, "supportedCapabilities")):
        return SAMBA_AD if any("samba" in vendor.lower() for vendor in texts(root_dse, "vendorName")) \
            else ACTIVE_DIRECTORY
    if "OpenLDAProotDSE" in texts(root_dse, "objectClass"):
        return OPENLDAP
    return GENERIC


def is_active_directory(root_dse: Mapping) -> bool:
    return directory_type(root_dse) in (ACTIVE_DIRECTORY, SAMBA_AD)


def pages(root_dse: Mapping) -> bool:
    """Whether it offers the paged results control (RFC 2696)."""
    return PAGED_RESULTS in texts(root_dse, "supportedControl")


def capabilities(root_dse: Mapping) -> tuple[tuple[str, str], ...]:
    """JIM's facts of a directory, in JIM's order: its type, vendor and host name when it names them, and
    whether it pages."""
    facts = [("Directory Type", directory_type(root_dse))]
    facts.extend(("Vendor", vendor) for vendor in texts(root_dse, "vendorName")[:1])
    facts.extend(("DNS Host Name", host) for host in texts(root_dse, "dnsHostName")[:1])
    facts.append(("Paging", "Supported" if pages(root_dse) else "Not Supported"))
    return tuple(facts)
