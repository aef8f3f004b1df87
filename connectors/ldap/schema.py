"""A directory's subschema (RFC 4512), as ldap3 reads it, in JIM's terms: object types and their attributes.

``object_types`` takes ldap3's ``SchemaInfo``, whether read from a live directory or one of ldap3's offline
schemas (the Active Directory tests use ``OFFLINE_AD_2012_R2``), so the mapping is the same for both.
"""
from ldap3.protocol.rfc4512 import SchemaInfo

from connectors.interface import (
    AttributeType,
    DiscoveredAttribute,
    DiscoveredObjectType,
    DiscoveredSchema,
    Plurality,
    Writability,
)

# LDAP syntaxes by OID (RFC 4517, RFC 4530, Active Directory's [MS-ADTS] 3.1.1.2.2.2); any other is Text.
SYNTAXES = {
    "1.3.6.1.4.1.1466.115.121.1.12": AttributeType.REFERENCE,  # DN
    "1.3.6.1.4.1.1466.115.121.1.34": AttributeType.REFERENCE,  # Name and Optional UID: uniqueMember's DN
    "1.3.6.1.4.1.1466.115.121.1.27": AttributeType.NUMBER,  # Integer
    "1.2.840.113556.1.4.906": AttributeType.LONG_NUMBER,  # AD's Large Integer: 64 bits (pwdLastSet, accountExpires)
    "1.3.6.1.4.1.1466.115.121.1.7": AttributeType.BOOLEAN,
    "1.3.6.1.4.1.1466.115.121.1.24": AttributeType.DATE_TIME,  # Generalized Time
    "1.3.6.1.4.1.1466.115.121.1.53": AttributeType.DATE_TIME,  # UTC Time
    "1.3.6.1.1.16.1": AttributeType.GUID,  # UUID (entryUUID's)
    "1.3.6.1.4.1.1466.115.121.1.40": AttributeType.BINARY,  # Octet String (AD's objectGUID and objectSid too)
    "1.3.6.1.4.1.1466.115.121.1.5": AttributeType.BINARY,  # Binary
    "1.3.6.1.4.1.1466.115.121.1.4": AttributeType.BINARY,  # Audio
    "1.3.6.1.4.1.1466.115.121.1.8": AttributeType.BINARY,  # Certificate
    "1.3.6.1.4.1.1466.115.121.1.9": AttributeType.BINARY,  # Certificate List
    "1.3.6.1.4.1.1466.115.121.1.10": AttributeType.BINARY,  # Certificate Pair
    "1.3.6.1.4.1.1466.115.121.1.23": AttributeType.BINARY,  # Fax
    "1.3.6.1.4.1.1466.115.121.1.28": AttributeType.BINARY,  # JPEG
    "1.3.6.1.4.1.1466.115.121.1.49": AttributeType.BINARY,  # Supported Algorithm
    "1.2.840.113556.1.4.907": AttributeType.BINARY,  # AD's NT Security Descriptor
    # AD's DN-Binary and DN-String ("B:8:0A1B2C3D:CN=..."; wellKnownObjects, msDS-RevealedUsers) stay Text: the
    # value is the pair, and a Reference would keep the DN and lose the half that is the point of the attribute.
}

# The directory's own classes, which describe the directory rather than objects in it, so they are never object
# types nor auxiliaries offered on one: the root DSE, the subschema and other subentries (RFC 4512, RFC 3672),
# referrals (RFC 3296), dynamic entries' bookkeeping (RFC 2589), and Active Directory's schema definitions.
DIRECTORY_CLASSES = {
    "1.3.6.1.4.1.4203.1.4.1",  # OpenLDAProotDSE
    "2.5.20.1",  # subschema (subSchema on AD)
    "2.5.17.0",  # subentry
    "2.16.840.1.113730.3.2.6",  # referral
    "1.3.6.1.4.1.1466.101.119.2",  # dynamicObject
    "1.2.840.113556.1.3.9",  # dMD, AD's schema container
    "1.2.840.113556.1.3.13",  # classSchema
    "1.2.840.113556.1.3.14",  # attributeSchema
}
# OpenLDAP's cn=config classes (olcGlobal, olcDatabaseConfig, ...) all lie under this arc of OpenLDAP's.
CONFIGURATION_ARC = "1.3.6.1.4.1.4203.1.12.2."


def is_directory_class(object_class) -> bool:
    return object_class.oid in DIRECTORY_CLASSES or object_class.oid.startswith(CONFIGURATION_ARC)


def object_types(schema: SchemaInfo, include_auxiliary_classes: bool) -> DiscoveredSchema:
    """The structural object classes, less the directory's own, each with the attributes its entries may hold.

    Those are its MUST and MAY and its superior classes', and those of its DIT content rule (RFC 4512 4.1.6),
    which is where Active Directory lists what a class's built-in auxiliaries bring (user's sAMAccountName).
    With ``include_auxiliary_classes``, the auxiliary classes its entries may also belong to: those its content
    rule names, or, where the directory publishes no rule for it, every one (OpenLDAP's default).
    """
    warnings: list[str] = []
    classes = [schema.object_classes[name] for name in schema.object_classes]
    auxiliaries = [c for c in classes if c.kind == "AUXILIARY" and not is_directory_class(c)]
    rules = {rule.oid: rule for rule in (schema.dit_content_rules[name] for name in schema.dit_content_rules)}
    types = []
    for structural in classes:
        if structural.kind != "STRUCTURAL" or is_directory_class(structural):
            continue
        members = contributions(schema, [structural], warnings)
        rule = rules.get(structural.oid)
        if rule:
            # Credited to the auxiliary class the rule names that brings it (securityPrincipal), if one does.
            bringers = contributions(schema, [c for c in classes if named(c, rule.auxiliary_classes)], warnings)
            for attribute in (rule.must_contain or []) + (rule.may_contain or []):
                members.setdefault(attribute.lower(), bringers.get(attribute.lower(), (attribute, structural.name[0])))
        if include_auxiliary_classes:
            allowed = auxiliaries if rule is None else [c for c in auxiliaries if named(c, rule.auxiliary_classes)]
            for attribute, owner in contributions(schema, allowed, warnings).values():
                members.setdefault(attribute.lower(), (attribute, owner))
        for precluded in (rule.not_contains or []) if rule else []:
            members.pop(precluded.lower(), None)
        types.append(DiscoveredObjectType(structural.name[0], attributes(schema, members, structural, warnings)))
    types.sort(key=lambda t: t.name.lower())
    return DiscoveredSchema(tuple(types), tuple(dict.fromkeys(warnings)))


def named(object_class, names) -> bool:
    """Whether ``names`` (a rule's list of names and OIDs) holds the class."""
    wanted = {name.lower() for name in names or []}
    return object_class.oid in wanted or any(name.lower() in wanted for name in object_class.name)


def contributions(schema: SchemaInfo, classes, warnings: list[str]) -> dict[str, tuple[str, str]]:
    """The attributes the classes and their superior classes name, by lower-cased name: (name, the class naming it).

    The nearest class wins, so an attribute is credited to the class that brings it to the type.
    """
    members: dict[str, tuple[str, str]] = {}
    pending, seen = list(classes), set()
    while pending:
        object_class = pending.pop(0)
        if object_class.oid in seen:
            continue
        seen.add(object_class.oid)
        for attribute in (object_class.must_contain or []) + (object_class.may_contain or []):
            members.setdefault(attribute.lower(), (attribute, object_class.name[0]))
        for superior in object_class.superior or []:
            if superior in schema.object_classes:
                pending.append(schema.object_classes[superior])
            else:
                warnings.append(f"Object class {object_class.name[0]} names the superior class {superior}, "
                                f"which the schema does not define; its attributes are left out.")
    return members


def attributes(schema: SchemaInfo, members, structural, warnings: list[str]) -> tuple[DiscoveredAttribute, ...]:
    found: dict[str, DiscoveredAttribute] = {}
    for name, owner in members.values():
        if name not in schema.attribute_types:
            warnings.append(f"Object class {owner} names the attribute {name}, which the schema does not define; "
                            f"it is left out of {structural.name[0]}.")
            continue
        definition = schema.attribute_types[name]
        found.setdefault(definition.oid, DiscoveredAttribute(
            name=definition.name[0],
            type=SYNTAXES.get(syntax_of(schema, definition), AttributeType.TEXT),
            plurality=Plurality.SINGLE_VALUED if definition.single_value else Plurality.MULTI_VALUED,
            writability=Writability.READ_ONLY if definition.no_user_modification else Writability.WRITABLE,
            description=definition.description,
            class_name=owner,
        ))
    return tuple(sorted(found.values(), key=lambda a: a.name.lower()))


def syntax_of(schema: SchemaInfo, definition) -> str | None:
    """The attribute type's syntax, or the one it inherits from its superior type (cn's, from name)."""
    seen = set()
    while definition is not None and definition.oid not in seen:
        if definition.syntax:
            return definition.syntax
        seen.add(definition.oid)
        superiors = definition.superior or []
        definition = schema.attribute_types[superiors[0]] if superiors and superiors[0] in schema.attribute_types \
            else None
    return None
