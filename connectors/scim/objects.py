"""Reading a service provider's resources: each selected resource type's endpoint, paged with ``startIndex`` and
``count`` (RFC 7644 3.4.2.4), asking for the selected attributes only.

The names are those discovery gives (``connectors.scim``): ``name.givenName`` is the sub-attribute of a
complex attribute (one value from each element of a multi-valued one, as ``emails.value``), and an
extension's attributes are named after its schema's URN, under which a resource holds them. A page is read as
JSON, not validated as a whole resource: only the values asked for are read, each as its attribute's type.
"""
from collections.abc import Iterator

from scim2_models import ListResponse, ResourceType

from connectors.interface import AttributeScope, Deadline, ImportedObject, ReadScope, Refused
from connectors.scim import documents
from connectors.values import from_native, imported

PAGE_SIZE = 100
LIST_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:ListResponse"


def read_objects(base: str, token: str | None, step_seconds: float, scope: ReadScope,
                 deadline: Deadline) -> Iterator[ImportedObject]:
    with documents.client(token) as client:
        deadline.restart()
        listed = documents.get(client, f"{base}/ResourceTypes", ListResponse[ResourceType], step_seconds, deadline)
        endpoints = {resource_type.name.casefold(): resource_type.endpoint
                     for resource_type in listed.resources or [] if resource_type.name and resource_type.endpoint}
        for object_type in scope.object_types:
            endpoint = endpoints.get(object_type.name.casefold())
            if endpoint is None:
                raise Refused(f"The service provider no longer has the resource type {object_type.name}: import "
                              f"its schema again.")
            url = f"{base}/{endpoint.lstrip('/')}"
            asked = ",".join(attribute.name for attribute in object_type.attributes if attribute.name != "id")
            start = 1
            while True:
                deadline.restart()
                params = {"startIndex": start, "count": PAGE_SIZE, **({"attributes": asked} if asked else {})}
                page = documents.get(client, url, LIST_RESPONSE, step_seconds, deadline, params)
                resources = page.get("Resources") or []
                if not isinstance(resources, list):
                    raise Refused(f"GET {url} answered a list whose Resources is not a list.")
                for resource in resources:
                    if isinstance(resource, dict):
                        yield imported(object_type, lambda attribute, r=resource: values_of(r, attribute),
                                       from_native)
                total = page.get("totalResults")
                start += len(resources)
                if not resources or not isinstance(total, int) or start > total:
                    break


def member(document: dict, name: str):
    """A SCIM attribute by name: its names are case-insensitive (RFC 7643 2.1)."""
    if name in document:
        return document[name]
    folded = name.casefold()
    return next((value for key, value in document.items() if key.casefold() == folded), None)


def values_of(resource: dict, attribute: AttributeScope) -> list:
    name, holder = attribute.name, resource
    if name.lower().startswith("urn:"):
        urn, _, name = name.rpartition(":")
        holder = member(resource, urn)
        if not isinstance(holder, dict):
            return []
    parent, _, child = name.partition(".")
    value = member(holder, parent)
    if child:
        elements = value if isinstance(value, list) else [value]
        value = [member(element, child) for element in elements if isinstance(element, dict)]
    found = value if isinstance(value, list) else [value]
    return [item for item in found if item is not None and not isinstance(item, (dict, list))]
