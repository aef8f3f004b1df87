"""How the SCIM connector reads a provider's schema: its discovery endpoints, validated with scim2-models,
and what their resource types and schemas become (``connectors.scim`` says how names are formed)."""
from scim2_models import Attribute, ListResponse, Mutability, ResourceType, Schema, ServiceProviderConfig

from connectors.scim import documents
from connectors.interface import (
    AttributeType,
    Deadline,
    DiscoveredAttribute,
    DiscoveredObjectType,
    DiscoveredSchema,
    Plurality,
    Writability,
)

TYPES = {
    Attribute.Type.reference: AttributeType.REFERENCE,
    Attribute.Type.binary: AttributeType.BINARY,
    Attribute.Type.date_time: AttributeType.DATE_TIME,
    Attribute.Type.integer: AttributeType.NUMBER,
    Attribute.Type.decimal: AttributeType.DECIMAL,
    Attribute.Type.boolean: AttributeType.BOOLEAN,
}
# What a $ref names when it points outside the provider (a photo's URL), not at one of its resources.
NOT_RESOURCES = {"external", "uri"}
# RFC 7643 §3.1: on every resource, and left out of /Schemas.
COMMON_ATTRIBUTES = (
    DiscoveredAttribute("id", writability=Writability.READ_ONLY,
                        description="The resource's unique identifier, assigned by the service provider."),
    DiscoveredAttribute("externalId", description="The resource's identifier as the provisioning client knows it."),
)


def discover(base: str, token: str | None, step_seconds: float, deadline: Deadline) -> DiscoveredSchema:
    """The provider's resource types as object types, read from its discovery endpoints under ``base``."""
    with documents.client(token) as client:
        def fetch(endpoint, model):
            return documents.get(client, f"{base}/{endpoint}", model, step_seconds, deadline)

        # Asked first because it is the one a provider may serve without credentials: a wrong Base URL shows
        # as such, before a token is doubted.
        fetch("ServiceProviderConfig", ServiceProviderConfig)
        resource_types = fetch("ResourceTypes", ListResponse[ResourceType])
        schemas = fetch("Schemas", ListResponse[Schema])
    return schema_of(resource_types, schemas)


def schema_of(resource_types: ListResponse, schemas: ListResponse) -> DiscoveredSchema:
    warnings = [*_unread(resource_types, "resource types"), *_unread(schemas, "schemas")]
    by_id = {schema.id: schema for schema in schemas.resources or [] if schema.id}
    object_types: dict[str, DiscoveredObjectType] = {}
    for resource_type in resource_types.resources or []:
        name = resource_type.name
        if not name or not resource_type.schema_:
            warnings.append("A resource type without a name or a schema was left out.")
        elif name.casefold() in object_types:
            warnings.append(f"The resource type {name} is listed twice; the second was left out.")
        elif resource_type.schema_ not in by_id:
            warnings.append(f"The resource type {name} was left out: /Schemas has no schema {resource_type.schema_}.")
        else:
            object_types[name.casefold()] = DiscoveredObjectType(name, _attributes(resource_type, by_id, warnings))
    return DiscoveredSchema(tuple(object_types.values()), tuple(warnings))


def _unread(listed: ListResponse, what: str) -> list[str]:
    """A provider that pages its discovery lists: what this import did not see."""
    read = len(listed.resources or [])
    if listed.total_results is not None and listed.total_results > read:
        return [f"The service provider has {listed.total_results} {what} and listed {read}; the rest were not read."]
    return []


def _attributes(resource_type: ResourceType, by_id: dict[str, Schema], warnings: list[str]):
    found = {attribute.name.casefold(): attribute for attribute in COMMON_ATTRIBUTES}
    contributions = [(by_id[resource_type.schema_], "")]
    for extension in resource_type.schema_extensions or []:
        if extension.schema_ in by_id:
            contributions.append((by_id[extension.schema_], f"{extension.schema_}:"))
        else:
            warnings.append(f"{resource_type.name}: the schema extension {extension.schema_} was left out: "
                            f"/Schemas does not have it.")
    for schema, prefix in contributions:
        for attribute in _flattened(schema, prefix, resource_type.name, warnings):
            key = attribute.name.casefold()
            if key not in found:
                found[key] = attribute
            elif key not in {common.name.casefold() for common in COMMON_ATTRIBUTES}:
                # A provider restating a common attribute is no news; two of one name are.
                warnings.append(f"{resource_type.name}: the attribute {attribute.name} is defined twice; "
                                f"the second was left out.")
    return tuple(found.values())


def _flattened(schema: Schema, prefix: str, type_name: str, warnings: list[str]):
    """The schema's attributes as JIM's: one per simple attribute and one per sub-attribute of a complex one."""
    for attribute in schema.attributes or []:
        if not attribute.name or not attribute.type:
            warnings.append(f"{type_name}: an attribute of {schema.id} without a name or a type was left out.")
        elif attribute.type is not Attribute.Type.complex:
            yield _discovered(attribute, prefix + attribute.name, schema.id)
        elif not attribute.sub_attributes:
            warnings.append(f"{type_name}: the complex attribute {prefix}{attribute.name} has no sub-attributes "
                            f"and was left out.")
        else:
            yield from _sub_attributes(attribute, prefix, schema.id, type_name, warnings)


def _sub_attributes(parent: Attribute, prefix: str, schema_id: str, type_name: str, warnings: list[str]):
    # RFC 7643 §2.4: beside a $ref to a resource, value holds that resource's id (a group's member, a manager).
    refers_to_resources = any(
        sub.name == "$ref" and sub.type is Attribute.Type.reference
        and set(sub.reference_types or ["uri"]) - NOT_RESOURCES
        for sub in parent.sub_attributes
    )
    for sub in parent.sub_attributes:
        name = f"{prefix}{parent.name}.{sub.name}"
        if not sub.name or not sub.type:
            warnings.append(f"{type_name}: a sub-attribute of {prefix}{parent.name} without a name or a type was "
                            f"left out.")
        elif sub.type is Attribute.Type.complex:  # RFC 7643 §2.3.8 allows none; there is no name for its parts
            warnings.append(f"{type_name}: the complex sub-attribute {name} was left out.")
        else:
            yield _discovered(
                sub, name, schema_id,
                type=AttributeType.REFERENCE if refers_to_resources and sub.name == "value" else None,
                multi_valued=parent.multi_valued,
                read_only=parent.mutability is Mutability.read_only,
            )


def _discovered(attribute: Attribute, name: str, schema_id: str, type: AttributeType | None = None,
                multi_valued: bool = False, read_only: bool = False) -> DiscoveredAttribute:
    return DiscoveredAttribute(
        name,
        type or TYPES.get(attribute.type, AttributeType.TEXT),
        Plurality.MULTI_VALUED if multi_valued or attribute.multi_valued else Plurality.SINGLE_VALUED,
        Writability.READ_ONLY if read_only or attribute.mutability is Mutability.read_only else Writability.WRITABLE,
        attribute.description,
        schema_id,
    )


