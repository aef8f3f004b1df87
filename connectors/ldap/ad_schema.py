"""Active Directory's schema as AD defines it ([MS-ADTS] 3.1.1.2): the classSchema and attributeSchema entries of
its schema naming context, in JIM's terms, as JIM reads them.

AD's subschema entry tells less than these do: its DIT content rules name each class's own auxiliary classes but
not those its superior classes bring, and it does not say which attributes the DC constructs. So a class's
attributes here are its ``mustContain``, ``systemMustContain``, ``mayContain`` and ``systemMayContain``, those of
each class of its ``subClassOf`` chain, and those of every ``auxiliaryClass`` and ``systemAuxiliaryClass`` of
any of them, recursively: what the DC itself lists in a live entry's ``allowedAttributes``.
"""
from collections.abc import Mapping

from connectors.interface import (
    AttributeType,
    DiscoveredAttribute,
    DiscoveredObjectType,
    DiscoveredSchema,
    Plurality,
    Writability,
)
from connectors.ldap.connection import Directory
from connectors.ldap.schema import DIRECTORY_CLASSES

CLASS_ATTRIBUTES = ["lDAPDisplayName", "governsID", "objectClassCategory", "subClassOf", "mustContain",
                    "systemMustContain", "mayContain", "systemMayContain", "auxiliaryClass", "systemAuxiliaryClass",
                    "defaultHidingValue", "isDefunct"]
ATTRIBUTE_ATTRIBUTES = ["lDAPDisplayName", "attributeSyntax", "oMSyntax", "isSingleValued", "systemOnly",
                        "systemFlags", "linkID", "isDefunct", "description", "adminDescription"]
MEMBER_LISTS = ("mustContain", "systemMustContain", "mayContain", "systemMayContain")
AUXILIARY_LISTS = ("auxiliaryClass", "systemAuxiliaryClass")
STRUCTURAL, AUXILIARY = "1", "3"  # objectClassCategory (0 is the 1988 kind, 2 abstract)
CONSTRUCTED = 0x4  # systemFlags' FLAG_ATTR_IS_CONSTRUCTED: the DC computes the value (tokenGroups)

# AD's syntaxes by attributeSyntax ([MS-ADTS] 3.1.1.2.2.2); the rest (strings, OIDs, DN-Binary, DN-String) are
# Text, as the subschema path has them (DN-Binary's value is the pair, not a reference).
SYNTAXES = {
    "2.5.5.1": AttributeType.REFERENCE,  # DN
    "2.5.5.8": AttributeType.BOOLEAN,
    "2.5.5.9": AttributeType.NUMBER,  # Integer and Enumeration: 32 bits
    "2.5.5.10": AttributeType.BINARY,  # Octet String (objectGUID), and Replica-Link
    "2.5.5.11": AttributeType.DATE_TIME,  # UTC and Generalized Time
    "2.5.5.15": AttributeType.BINARY,  # NT Security Descriptor
    "2.5.5.16": AttributeType.LONG_NUMBER,  # Large Integer: 64 bits (pwdLastSet, accountExpires)
    "2.5.5.17": AttributeType.BINARY,  # SID
}


def read(directory: Directory, schema_dn: str) -> tuple[dict, dict]:
    """The classSchema and attributeSchema entries under ``schema_dn``, each by lower-cased lDAPDisplayName."""
    return (entries(directory, schema_dn, "(objectClass=classSchema)", CLASS_ATTRIBUTES),
            entries(directory, schema_dn, "(objectClass=attributeSchema)", ATTRIBUTE_ATTRIBUTES))


def entries(directory: Directory, schema_dn: str, search_filter: str, attributes: list[str]) -> dict:
    """Each entry as a plain dict, its attributes by lower-cased name (as the connection hands them) and their
    values as text: made once, as a schema's thousands of entries are read some 150,000 times."""
    found = {}
    for page in directory.pages(schema_dn, search_filter, attributes):
        for entry in page:
            plain = {name: [value.decode() for value in values] for name, values in entry["raw_attributes"].items()}
            if plain.get("ldapdisplayname"):
                found[plain["ldapdisplayname"][0].lower()] = plain
    return found


def texts(entry: Mapping, name: str) -> list[str]:
    return entry.get(name.lower()) or []


def first(entry: Mapping, name: str) -> str | None:
    found = entry.get(name.lower())
    return found[0] if found else None


def offered(entry: Mapping, include_auxiliary_classes: bool) -> bool:
    """Whether the class is an object type: structural, not defunct and not hidden by default (JIM's rule), or,
    with the setting, auxiliary (which has no entries of its own for defaultHidingValue to hide); never one of
    the directory's own."""
    if first(entry, "isDefunct") == "TRUE" or first(entry, "governsID") in DIRECTORY_CLASSES:
        return False
    category = first(entry, "objectClassCategory")
    if category == AUXILIARY:
        return include_auxiliary_classes
    return category == STRUCTURAL and first(entry, "defaultHidingValue") == "FALSE"


def object_types(classes: Mapping, attributes: Mapping, include_auxiliary_classes: bool) -> DiscoveredSchema:
    warnings: list[str] = []
    types = []
    definitions: dict[str, tuple | None] = {}  # by lower-cased name: an attribute is in many classes
    for entry in classes.values():
        if offered(entry, include_auxiliary_classes):
            name = first(entry, "lDAPDisplayName")
            members = allowed(classes, name, warnings)
            types.append(DiscoveredObjectType(name, described(attributes, definitions, members, name, warnings)))
    types.sort(key=lambda t: t.name.lower())
    return DiscoveredSchema(tuple(types), tuple(dict.fromkeys(warnings)))


def allowed(classes: Mapping, name: str, warnings: list[str]) -> dict[str, tuple[str, str]]:
    """The attributes an entry of class ``name`` may hold, by lower-cased name: (name, the class that names it).

    The class's own chain first (so ``cn`` is person's), then the auxiliaries of each class of it, recursively.
    """
    chain, seen = [], set()
    while name and name.lower() not in seen:
        entry = classes.get(name.lower())
        if entry is None:
            warnings.append(f"The schema names the class {name}, which it does not define; its attributes are "
                            f"left out.")
            break
        seen.add(name.lower())
        chain.append(entry)
        name = first(entry, "subClassOf")
    members: dict[str, tuple[str, str]] = {}
    for entry in chain:
        add_members(entry, members)
    pending = [auxiliary for entry in chain for field in AUXILIARY_LISTS for auxiliary in texts(entry, field)]
    while pending:
        auxiliary = pending.pop(0)
        if auxiliary.lower() in seen:
            continue
        seen.add(auxiliary.lower())
        entry = classes.get(auxiliary.lower())
        if entry is None:
            warnings.append(f"The schema names the auxiliary class {auxiliary}, which it does not define; its "
                            f"attributes are left out.")
            continue
        add_members(entry, members)
        pending.extend(more for field in AUXILIARY_LISTS for more in texts(entry, field))
    return members


def add_members(entry: Mapping, members: dict):
    owner = first(entry, "lDAPDisplayName")
    for field in MEMBER_LISTS:
        for attribute in texts(entry, field):
            members.setdefault(attribute.lower(), (attribute, owner))


def described(attributes: Mapping, definitions: dict, members: Mapping, type_name: str,
              warnings: list[str]) -> tuple[DiscoveredAttribute, ...]:
    found = []
    for key, (name, owner) in members.items():
        if key not in definitions:
            definitions[key] = definition(attributes.get(key))
        known = definitions[key]
        if known is None:
            if key not in attributes:
                warnings.append(f"Object class {owner} names the attribute {name}, which the schema does not "
                                f"define; it is left out of {type_name}.")
            continue
        found.append(DiscoveredAttribute(*known, class_name=owner))
    return tuple(sorted(found, key=lambda a: a.name.lower()))


def definition(entry: Mapping | None) -> tuple | None:
    """An attributeSchema entry's name, type, plurality, writability and description; None for one that is not
    defined or is defunct."""
    if entry is None or first(entry, "isDefunct") == "TRUE":
        return None
    return (first(entry, "lDAPDisplayName"),
            SYNTAXES.get(first(entry, "attributeSyntax"), AttributeType.TEXT),
            Plurality.SINGLE_VALUED if first(entry, "isSingleValued") == "TRUE" else Plurality.MULTI_VALUED,
            Writability.READ_ONLY if read_only(entry) else Writability.WRITABLE,
            first(entry, "description") or first(entry, "adminDescription"))


def read_only(entry: Mapping) -> bool:
    """Only the DC writes it: a system-only attribute, one it constructs, or a back-link (an odd linkID, such as
    memberOf's, which the DC keeps from the forward link)."""
    flags, link = first(entry, "systemFlags"), first(entry, "linkID")
    return (first(entry, "systemOnly") == "TRUE" or (flags is not None and int(flags) & CONSTRUCTED != 0)
            or (link is not None and int(link) % 2 == 1))
