"""The SCIM connector (id 4): a SCIM 2.0 service provider (RFC 7643, RFC 7644)."""
from connectors.interface import Connector, Deadline, DiscoveredSchema, Refused, Setting, Settings
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
    raise Refused("The SCIM connector cannot import a schema yet.")


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
