"""The built-in connector catalog: each connector's settings, with stable ids, and its offline checks.

This module is the catalog's one source. ``init-db`` copies it into the database so that stored setting
values can reference their settings; requests read it from here.
"""
import re
from dataclasses import dataclass, field
from enum import StrEnum
from urllib.parse import urlsplit


class SettingType(StrEnum):
    STRING = "String"
    STRING_ENCRYPTED = "StringEncrypted"
    TEXT = "Text"
    INTEGER = "Integer"
    CHECKBOX = "CheckBox"
    DROPDOWN = "DropDown"
    FILE = "File"


# The one key of a setting value's object that each type takes.
VALUE_KEYS = {
    SettingType.STRING: "stringValue",
    SettingType.STRING_ENCRYPTED: "stringValue",
    SettingType.TEXT: "stringValue",
    SettingType.DROPDOWN: "stringValue",
    SettingType.FILE: "stringValue",
    SettingType.INTEGER: "intValue",
    SettingType.CHECKBOX: "checkboxValue",
}


@dataclass(frozen=True)
class Setting:
    id: int
    name: str
    type: SettingType
    required: bool = False
    description: str = ""
    default: str | int | bool | None = None
    allowed_values: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None
    url_schemes: tuple[str, ...] = ()  # the value, when it names a scheme, must be a URL with one of these
    required_when: tuple[int, str] | None = None  # (other setting id, value) that makes this one required
    pattern: str | None = None  # a regular expression the value must contain a match of
    pattern_hint: str = ""  # what the pattern asks for, in words

    @property
    def value_key(self) -> str:
        return VALUE_KEYS[self.type]

    @property
    def is_secret(self) -> bool:
        return self.type is SettingType.STRING_ENCRYPTED


@dataclass(frozen=True)
class Connector:
    id: int
    name: str
    description: str
    settings: tuple[Setting, ...]
    settings_by_id: dict[int, Setting] = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "settings_by_id", {setting.id: setting for setting in self.settings})


S = SettingType

LDAP = Connector(
    3,
    "JIM LDAP Connector",
    "Imports from and exports to an LDAP directory such as Active Directory or OpenLDAP.",
    (
        Setting(1, "Host", S.STRING, True, "Host name, or an ldap:// or ldaps:// URL, of the directory server.",
                url_schemes=("ldap", "ldaps")),
        Setting(2, "Username", S.STRING, True, "The account to bind as: a bind DN or DOMAIN\\user.",
                pattern=r"=|\\|@", pattern_hint="a bind DN, DOMAIN\\user or user@domain"),
        Setting(3, "Password", S.STRING_ENCRYPTED, True, "The bind account's password."),
        Setting(4, "Port", S.INTEGER, True, "The directory server's port.", 389, minimum=1, maximum=65535),
        Setting(5, "Use Secure Connection (LDAPS)?", S.CHECKBOX, False, "Connect with TLS.", False),
        Setting(6, "Connection Timeout", S.INTEGER, True, "Seconds to wait for a connection.", 10, minimum=1),
        Setting(7, "Authentication Type", S.DROPDOWN, True, "How to bind.", "Simple", ("Simple", "NTLM")),
        Setting(8, "Search Timeout", S.INTEGER, False, "Seconds to wait for a search.", 300, minimum=1),
        Setting(9, "Maximum Retries", S.INTEGER, False, "Retries of a failed operation.", 3, minimum=0, maximum=100),
        Setting(10, "Retry Delay (ms)", S.INTEGER, False, "Milliseconds between retries.", 1000, minimum=0),
        Setting(11, "Delete Behaviour", S.DROPDOWN, False, "What an export does with a deleted object.", "Delete",
                ("Delete", "Disable")),
        Setting(12, "Disable Attribute", S.STRING, False, "The attribute that disables an object.",
                "userAccountControl", required_when=(11, "Disable")),
        Setting(13, "Export Concurrency", S.INTEGER, False, "Concurrent operations within one export batch.", 4,
                minimum=1, maximum=64),
        Setting(14, "Include Auxiliary Classes", S.CHECKBOX, False, "Import auxiliary object classes.", False),
        Setting(15, "Trusted CA Certificates", S.TEXT, False, "PEM certificates to trust for LDAPS, one after another."),
    ),
)

FILE = Connector(
    1,
    "JIM File Connector",
    "Imports from and exports to delimited text files.",
    (
        Setting(101, "File Path", S.FILE, True, "The path of the file to read or write."),
        Setting(102, "Delimiter", S.STRING, False, "The column delimiter.", ","),
        Setting(103, "Multi-Value Delimiter", S.STRING, False, "The delimiter between values of one column.", "|"),
        Setting(104, "Object Type", S.STRING, False, "The object type every row describes."),
        Setting(105, "Stop On First Error", S.CHECKBOX, False, "Stop an import at its first bad row.", False),
    ),
)

SQL = Connector(
    2,
    "JIM SQL Connector",
    "Imports from and exports to a relational database.",
    (
        Setting(201, "Database Type", S.DROPDOWN, True, "The kind of database.", None,
                ("SQL Server", "PostgreSQL", "MySQL", "Oracle")),
        Setting(202, "Host", S.STRING, True, "The database server's host name."),
        Setting(203, "Port", S.INTEGER, False, "The database server's port.", minimum=1, maximum=65535),
        Setting(204, "Database Name", S.STRING, True, "The database to connect to."),
        Setting(205, "Username", S.STRING, True, "The account to connect as."),
        Setting(206, "Password", S.STRING_ENCRYPTED, True, "The account's password."),
        Setting(207, "Connection Timeout", S.INTEGER, False, "Seconds to wait for a connection.", 30, minimum=1),
    ),
)

SCIM = Connector(
    4,
    "JIM SCIM Connector",
    "Provisions to a SCIM 2.0 service provider.",
    (
        Setting(301, "Base URL", S.STRING, True, "The service provider's SCIM base URL.", url_schemes=("http", "https")),
        Setting(302, "Authentication Method", S.DROPDOWN, True, "How to authenticate.", "Bearer Token",
                ("Bearer Token", "None")),
        Setting(303, "Bearer Token", S.STRING_ENCRYPTED, False, "The token sent as Authorization: Bearer.",
                required_when=(302, "Bearer Token")),
        Setting(304, "Connection Timeout", S.INTEGER, False, "Seconds to wait for a response.", 30, minimum=1),
        Setting(305, "Maximum Retries", S.INTEGER, False, "Retries of a failed request.", 3, minimum=0, maximum=100),
    ),
)

CONNECTORS: dict[int, Connector] = {connector.id: connector for connector in (FILE, SQL, LDAP, SCIM)}

HOST_NAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$|^\[[0-9A-Fa-f:.]+\]$")


def check_settings(connector: Connector, values: dict[int, object]) -> dict[int, list[str]]:
    """The problems that can be found without reaching the remote system, by setting id.

    ``values`` holds each setting's stored value; a secret's value is True when it holds one.
    """
    problems: dict[int, list[str]] = {}
    for setting in connector.settings:
        value = values.get(setting.id)
        messages = problems.setdefault(setting.id, [])
        if value is None or value == "":
            if setting.required:
                messages.append(f"{setting.name} is required.")
            elif setting.required_when:
                other_id, trigger = setting.required_when
                if values.get(other_id) == trigger:
                    other = connector.settings_by_id[other_id].name
                    messages.append(f"{setting.name} is required when {other} is {trigger}.")
            continue
        if setting.type is SettingType.INTEGER:
            if setting.minimum is not None and value < setting.minimum:
                messages.append(f"{setting.name} must be at least {setting.minimum}.")
            if setting.maximum is not None and value > setting.maximum:
                messages.append(f"{setting.name} must be at most {setting.maximum}.")
        elif setting.url_schemes and isinstance(value, str):
            messages.extend(address_problems(setting, value))
        elif setting.pattern and not re.search(setting.pattern, value):
            messages.append(f"{setting.name} must be {setting.pattern_hint}.")
    return {setting_id: messages for setting_id, messages in problems.items() if messages}


def address_problems(setting: Setting, value: str) -> list[str]:
    """A URL with one of the setting's schemes, or (where a bare host is allowed) a host name."""
    if "://" not in value:
        if setting.url_schemes[0] in ("http", "https"):
            return [f"{setting.name} must be a URL starting with {' or '.join(s + '://' for s in setting.url_schemes)}."]
        return [] if HOST_NAME.match(value) else [f"{setting.name} must be a host name or a URL."]
    try:
        parts = urlsplit(value)
        parts.port  # raises ValueError for a port that is not a number in range
    except ValueError:
        return [f"{setting.name} is not a valid URL."]
    if parts.scheme.lower() not in setting.url_schemes:
        return [f"{setting.name} must use {' or '.join(setting.url_schemes)}."]
    if not parts.hostname:
        return [f"{setting.name} must name a host."]
    return []
