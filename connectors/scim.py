"""The SCIM connector (id 4): a SCIM 2.0 service provider (RFC 7643, RFC 7644).

Its schema is read from the provider's discovery endpoints: each resource type is an object type; the
attributes of its schema and of its schema extensions are its attributes. JIM's attributes hold values of
one type, so a complex attribute is no attribute of its own: each of its sub-attributes is one, named
``parent.child``. An extension's attributes are named as SCIM itself addresses them, after the extension's
schema URN (``urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber``): a core name
holds no colon, so none can collide with them, and the name is the path a later export writes to.
"""
from scim2_models import Attribute, ListResponse, Mutability, ResourceType, Schema, ServiceProviderConfig

from connectors import scim_http
from connectors.interface import (
    AttributeType,
    Connector,
    Deadline,
    DiscoveredAttribute,
    DiscoveredObjectType,
    DiscoveredSchema,
    Plurality,
    Setting,
    Settings,
    Writability,
)
from connectors.interface import SettingType as S

BASE_URL = Setting(301, "Base URL", S.STRING, True, "The service provider's SCIM base URL.",
                   url_schemes=("http", "https"))
AUTHENTICATION_METHOD = Setting(302, "Authentication Method", S.DROPDOWN, True, "How to authenticate.",
                                "Bearer Token", ("Bearer Token", "None"))
BEARER_TOKEN = Setting(303, "Bearer Token", S.STRING_ENCRYPTED, False, "The token sent as Authorization: Bearer.",
                       required_when=(302, "Bearer Token"))
CONNECTION_TIMEOUT = Setting(304, "Connection Timeout", S.INTEGER, False, "Seconds to wait for a response.", 30,
                             minimum=1)

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


def discover_schema(settings: Settings, deadline: Deadline) -> DiscoveredSchema:
    base = settings[BASE_URL].rstrip("/")
    token = settings[BEARER_TOKEN] if settings[AUTHENTICATION_METHOD] == "Bearer Token" else None

    with scim_http.client(token) as client:
        def fetch(endpoint, model):
            return scim_http.get(client, f"{base}/{endpoint}", model, settings[CONNECTION_TIMEOUT], deadline)

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


CONNECTOR = Connector(
    4,
    "JIM SCIM Connector",
    "Provisions to a SCIM 2.0 service provider.",
    (
        BASE_URL,
        AUTHENTICATION_METHOD,
        BEARER_TOKEN,
        CONNECTION_TIMEOUT,
        Setting(305, "Maximum Retries", S.INTEGER, False, "Retries of a failed request.", 3, minimum=0, maximum=100),
    ),
    discover_schema,
)
