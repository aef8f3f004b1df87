"""A directory's naming contexts and containers, as JIM's partitions and their trees of containers.

Each is known by its DN and by the directory's stable id of the entry (``entryUUID``, RFC 4530, or Active
Directory's ``objectGUID``), which survives a rename or a move.
"""
import re
import uuid
from collections.abc import Mapping

from ldap3.core.exceptions import LDAPInvalidDnError
from ldap3.utils.dn import parse_dn, to_dn

from connectors.interface import DiscoveredContainer, DiscoveredPartition, Refused
from connectors.ldap.connection import brief, texts
from connectors.ldap.root_dse import OWN_CONTEXTS

CONTAINER_FILTER = "(|(objectClass=organizationalUnit)(objectClass=container))"
# showInAdvancedViewOnly: Active Directory's containers that its tools hide (CN=System, the GPO containers ...).
ENTRY_ATTRIBUTES = ["entryUUID", "objectGUID", "description", "showInAdvancedViewOnly"]
# Active Directory's partitions are its crossRef entries; a domain's carries FLAG_CR_NTDS_DOMAIN in systemFlags
# ([MS-ADTS] 6.1.1.2.1.1.5), which the configuration, schema and DNS application partitions do not.
CROSS_REF_FILTER = "(&(objectClass=crossRef)(systemFlags:1.2.840.113556.1.4.803:=2))"
CROSS_REF_ATTRIBUTES = ["nCName"]
ESCAPE = re.compile(rb"\\([0-9A-Fa-f]{2}|.)")
GUID_BYTES = 16


def naming_contexts(root_dse: Mapping) -> list[str]:
    """The naming contexts less those that hold the directory's own workings (OpenLDAP lists cn=config and
    cn=Monitor only when asked to, Active Directory its configuration and schema always)."""
    own = {key(dn) for name in OWN_CONTEXTS for dn in texts(root_dse, name)}
    return [dn for dn in texts(root_dse, "namingContexts") if key(dn) not in own]


def domain_partitions(root_dse: Mapping, cross_refs: list[tuple[str, Mapping]]) -> list[str]:
    """Active Directory's domain partitions that this domain controller holds (another domain of the forest is
    listed in CN=Partitions too, but only its own DCs can read it)."""
    held = {key(dn): dn for dn in texts(root_dse, "namingContexts")}
    domains = {key(dn) for _, entry in cross_refs for dn in texts(entry, "nCName")}
    return [dn for held_key, dn in held.items() if held_key in domains]


def key(dn: str) -> str:
    """A DN as compared: its RDNs without optional spaces, in one case, as directories compare names."""
    try:
        return ",".join(to_dn(dn, remove_space=True)).lower()
    except LDAPInvalidDnError:
        raise unreadable(dn) from None


def name_of(dn: str) -> str:
    """The first RDN's value without RFC 4514's escapes (``Sales\\, EMEA`` and ``Sales\\2C EMEA`` are one name)."""
    try:
        value = parse_dn(dn)[0][1]
        return ESCAPE.sub(lambda m: bytes.fromhex(m[1].decode()) if len(m[1]) == 2 else m[1],
                          value.encode()).decode()
    except (LDAPInvalidDnError, UnicodeDecodeError):  # escapes (\\ff) of bytes that are not UTF-8
        raise unreadable(dn) from None


def unreadable(dn: str) -> Refused:
    return Refused(f"The directory answered a DN that is not one (RFC 4514): {brief(dn)}.")


def stable_id(dn: str, attributes: Mapping) -> str | None:
    guid = attributes.get("objectGUID")
    if guid:
        if len(guid[0]) != GUID_BYTES:
            raise Refused(f"The directory answered an objectGUID of {len(guid[0])} bytes for {brief(dn)}; a GUID "
                          f"has {GUID_BYTES}.")
        return str(uuid.UUID(bytes_le=guid[0]))  # as Active Directory writes it
    found = texts(attributes, "entryUUID", dn)
    return found[0] if found else None


def partition(dn: str, entry: Mapping, containers: list[tuple[str, Mapping]]) -> DiscoveredPartition:
    """The naming context ``dn`` with its containers (their DNs and attributes, in any order) as a tree."""
    top, found = key(dn), {}
    for container_dn, attributes in containers:
        if key(container_dn) != top:
            found[key(container_dn)] = (container_dn, attributes)
    children: dict[str, list[str]] = {}
    for container_key, (container_dn, _) in found.items():
        children.setdefault(nearest_ancestor(container_dn, found, top), []).append(container_key)

    # Built bottom up, without recursion, so that a tree of any depth is built: each container after its
    # children, which a walk from the top lists before it in reverse.
    order, queue = [], [top]
    while queue:
        parent = queue.pop()
        order.append(parent)
        queue.extend(children.get(parent, ()))
    built: dict[str, tuple[DiscoveredContainer, ...]] = {}
    for parent in reversed(order):
        nodes = []
        for child in children.get(parent, ()):
            child_dn, attributes = found[child]
            description = texts(attributes, "description", child_dn)
            nodes.append(DiscoveredContainer(child_dn, name_of(child_dn), stable_id(child_dn, attributes),
                                             description[0] if description else None,
                                             hidden=texts(attributes, "showInAdvancedViewOnly", child_dn) == ["TRUE"],
                                             children=built.pop(child)))
        built[parent] = tuple(sorted(nodes, key=lambda node: (node.name.lower(), node.external_id)))
    return DiscoveredPartition(dn, dn, stable_id(dn, entry), built[top])


def nearest_ancestor(dn: str, found: Mapping, top: str) -> str:
    """The key of the closest container above ``dn``, or the partition's (``top``) when none is."""
    rdns = to_dn(dn, remove_space=True)[1:]
    while rdns:
        ancestor = ",".join(rdns).lower()
        if ancestor in found or ancestor == top:
            return ancestor
        rdns = rdns[1:]
    return top
