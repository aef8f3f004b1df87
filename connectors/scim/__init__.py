"""The SCIM connector (id 4): a SCIM 2.0 service provider (RFC 7643, RFC 7644).

Its schema is read from the provider's discovery endpoints: each resource type is an object type; the
attributes of its schema and of its schema extensions are its attributes. JIM's attributes hold values of
one type, so a complex attribute is no attribute of its own: each of its sub-attributes is one, named
``parent.child``. An extension's attributes are named as SCIM itself addresses them, after the extension's
schema URN (``urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber``): a core name
holds no colon, so none can collide with them, and the name is the path a later export writes to.
"""
from collections.abc import Iterator

from connectors.interface import (
    Capabilities,
    Category,
    Connector,
    Deadline,
    DiscoveredSchema,
    ImportedObject,
    ReadScope,
    Refused,
    SchemaStandard,
    Setting,
    Settings,
)
from connectors.interface import SettingType as S

C = Category
OAUTH, BASIC, STATIC_BEARER_TOKEN, CUSTOM_HEADER, NO_AUTHENTICATION = (
    "OAuth 2.0 Client Credentials", "HTTP Basic", "Static Bearer Token", "Custom Header", "None")
# What this service can authenticate with so far; JIM's other methods are stored and shown.
AUTHENTICATES_WITH = (STATIC_BEARER_TOKEN, NO_AUTHENTICATION)
BASE_URL = Setting(301, "Base URL", S.STRING, True, "The service provider's SCIM base URL.",
                   url_schemes=("http", "https"), category=C.CONNECTIVITY)
# JIM's default is OAuth 2.0 Client Credentials, which this service cannot use yet: its default is the token.
AUTHENTICATION_METHOD = Setting(
    302, "Authentication Method", S.DROPDOWN, True,
    f"How to authenticate. This service authenticates with {' or '.join(AUTHENTICATES_WITH)} so far "
    f"({NO_AUTHENTICATION} is its own, for a provider that asks for nothing).", STATIC_BEARER_TOKEN,
    (OAUTH, BASIC, STATIC_BEARER_TOKEN, CUSTOM_HEADER, NO_AUTHENTICATION), category=C.CONNECTIVITY)
BEARER_TOKEN = Setting(303, "Bearer Token", S.STRING_ENCRYPTED, False, "The token sent as Authorization: Bearer.",
                       required_when=(AUTHENTICATION_METHOD, STATIC_BEARER_TOKEN), category=C.CONNECTIVITY)
CONNECTION_TIMEOUT = Setting(304, "Connection Timeout", S.INTEGER, False, "Seconds to wait for a response.", 30,
                             minimum=1, category=C.CONNECTIVITY)
# Settings 306 on are JIM's, stored and shown, not acted on here yet.
JIMS_OTHER_SETTINGS = (
    Setting(306, "Token Endpoint URL", S.STRING, False, "The OAuth 2.0 token endpoint of the Client Credentials "
            "flow.", url_schemes=("https", "http"), required_when=(AUTHENTICATION_METHOD, OAUTH),
            category=C.CONNECTIVITY, acted_on=False),
    Setting(307, "Client ID", S.STRING, False, "The OAuth 2.0 client identifier.",
            required_when=(AUTHENTICATION_METHOD, OAUTH), category=C.CONNECTIVITY, acted_on=False),
    Setting(308, "Client Secret", S.STRING_ENCRYPTED, False, "The OAuth 2.0 client secret.",
            required_when=(AUTHENTICATION_METHOD, OAUTH), category=C.CONNECTIVITY, acted_on=False),
    Setting(309, "OAuth Scope", S.STRING, False, "OAuth 2.0 scopes to request, separated by spaces.",
            category=C.CONNECTIVITY, acted_on=False),
    Setting(310, "Username", S.STRING, False, "The username of HTTP Basic authentication.",
            required_when=(AUTHENTICATION_METHOD, BASIC), category=C.CONNECTIVITY, acted_on=False),
    Setting(311, "Password", S.STRING_ENCRYPTED, False, "The password of HTTP Basic authentication.",
            required_when=(AUTHENTICATION_METHOD, BASIC), category=C.CONNECTIVITY, acted_on=False),
    Setting(312, "Authentication Header Name", S.STRING, False,
            "The HTTP header the provider authenticates with, such as X-Api-Key.",
            required_when=(AUTHENTICATION_METHOD, CUSTOM_HEADER), category=C.CONNECTIVITY, acted_on=False),
    Setting(313, "Authentication Header Value", S.STRING_ENCRYPTED, False, "The value sent in that header.",
            required_when=(AUTHENTICATION_METHOD, CUSTOM_HEADER), category=C.CONNECTIVITY, acted_on=False),
    Setting(314, "Certificate Validation", S.DROPDOWN, False, "How to validate the provider's TLS certificate.",
            "Full Validation", ("Full Validation", "Skip Validation (Insecure)"), category=C.CONNECTIVITY,
            acted_on=False),
    Setting(315, "Minimum TLS Version", S.DROPDOWN, False, "The oldest TLS version to accept.", "TLS 1.2",
            ("TLS 1.2", "TLS 1.3"), category=C.CONNECTIVITY, acted_on=False),
    Setting(316, "Pagination Mode", S.DROPDOWN, False, "How to page through resources.", "Auto-detect",
            ("Auto-detect", "Index-based", "Cursor-based"), acted_on=False),
    Setting(317, "Excluded Attributes", S.STRING, False,
            "SCIM attributes the provider is asked not to return, separated by commas.", acted_on=False),
    Setting(318, "Change Detection", S.DROPDOWN, False, "How a delta import finds what changed.", "Auto-detect",
            ("Auto-detect", "Last Modified Filter", "Full Scan"), acted_on=False),
    Setting(319, "Retry Delay (ms)", S.INTEGER, False, "Milliseconds before the first retry, doubling after.", 1000,
            minimum=0, acted_on=False),
    Setting(320, "Use Bulk Operations", S.CHECKBOX, False,
            "Send exports in batches through the provider's Bulk endpoint.", False, category=C.EXPORT,
            acted_on=False),
)


def discover_schema(settings: Settings, deadline: Deadline) -> DiscoveredSchema:
    # scim2-models (and pydantic under it) costs a process a second and 18 MiB when imported: a worker pays
    # that on its first SCIM import, not each time it starts.
    from connectors.scim import discovery  # noqa: PLC0415

    return discovery.discover(settings[BASE_URL].rstrip("/"), bearer_token(settings), settings[CONNECTION_TIMEOUT],
                              deadline)


def read_objects(settings: Settings, scope: ReadScope, deadline: Deadline) -> Iterator[ImportedObject]:
    from connectors.scim import objects  # noqa: PLC0415

    return objects.read_objects(settings[BASE_URL].rstrip("/"), bearer_token(settings),
                                settings[CONNECTION_TIMEOUT], scope, deadline)


def bearer_token(settings: Settings) -> str | None:
    """The token to send, or None; refused before anything is sent for a method this service cannot use yet,
    rather than going out unauthenticated."""
    method = settings[AUTHENTICATION_METHOD]
    if method not in AUTHENTICATES_WITH:
        raise Refused(f"This service cannot authenticate with {method} yet; it authenticates to a SCIM provider "
                      f"with {' or '.join(AUTHENTICATES_WITH)}.")
    return settings[BEARER_TOKEN] if method == STATIC_BEARER_TOKEN else None


CONNECTOR = Connector(
    4,
    "JIM SCIM 2.0 Client Connector",
    "Provisions to a SCIM 2.0 service provider.",
    (
        BASE_URL,
        AUTHENTICATION_METHOD,
        BEARER_TOKEN,
        CONNECTION_TIMEOUT,
        Setting(305, "Maximum Retries", S.INTEGER, False, "Retries of a failed request.", 3, minimum=0, maximum=100,
                acted_on=False),
        *JIMS_OTHER_SETTINGS,
    ),
    discover_schema,
    read_objects=read_objects,
    capabilities=Capabilities(full_import=True, delta_import=True, export=True, parallel_export=True, paging=True),
    schema_standard=SchemaStandard.SCIM,
)
