"""The SCIM connector (id 4): a SCIM 2.0 service provider (RFC 7643, RFC 7644).

Its schema is read from the provider's discovery endpoints: each resource type is an object type; the
attributes of its schema and of its schema extensions are its attributes. JIM's attributes hold values of
one type, so a complex attribute is no attribute of its own: each of its sub-attributes is one, named
``parent.child``. An extension's attributes are named as SCIM itself addresses them, after the extension's
schema URN (``urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber``): a core name
holds no colon, so none can collide with them, and the name is the path a later export writes to.
"""
from collections.abc import Iterator

from connectors.interface import Connector, Deadline, DiscoveredSchema, ImportedObject, ReadScope, Setting, Settings
from connectors.interface import SettingType as S

BASE_URL = Setting(301, "Base URL", S.STRING, True, "The service provider's SCIM base URL.",
                   url_schemes=("http", "https"))
AUTHENTICATION_METHOD = Setting(302, "Authentication Method", S.DROPDOWN, True, "How to authenticate.",
                                "Bearer Token", ("Bearer Token", "None"))
BEARER_TOKEN = Setting(303, "Bearer Token", S.STRING_ENCRYPTED, False, "The token sent as Authorization: Bearer.",
                       required_when=(302, "Bearer Token"))
CONNECTION_TIMEOUT = Setting(304, "Connection Timeout", S.INTEGER, False, "Seconds to wait for a response.", 30,
                             minimum=1)

def discover_schema(settings: Settings, deadline: Deadline) -> DiscoveredSchema:
    # scim2-models (and pydantic under it) costs a process a second and 18 MiB when imported: a worker pays
    # that on its first SCIM import, not each time it starts.
    from connectors.scim import discovery  # noqa: PLC0415

    base = settings[BASE_URL].rstrip("/")
    token = settings[BEARER_TOKEN] if settings[AUTHENTICATION_METHOD] == "Bearer Token" else None
    return discovery.discover(base, token, settings[CONNECTION_TIMEOUT], deadline)


def read_objects(settings: Settings, scope: ReadScope, deadline: Deadline) -> Iterator[ImportedObject]:
    from connectors.scim import objects  # noqa: PLC0415

    base = settings[BASE_URL].rstrip("/")
    token = settings[BEARER_TOKEN] if settings[AUTHENTICATION_METHOD] == "Bearer Token" else None
    return objects.read_objects(base, token, settings[CONNECTION_TIMEOUT], scope, deadline)


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
    read_objects=read_objects,
)
