"""The offline checks of a connector's settings: what can be found wrong without reaching the system.

Each setting declares its rules (required, a range, URL schemes, a pattern, required when another setting
holds a value, different from another's), and a connector may add checks of its own (``offline_checks``);
``check_settings`` applies them, for validate-settings and before every import.
"""
import ipaddress
import re
from urllib.parse import urlsplit

from connectors.interface import Connector, Setting, SettingType, holds_value, in_effect

HOST_NAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$|^\[[0-9A-Fa-f:.]+\]$")
# A DNS name's label (RFC 1123): letters, digits and hyphens, at most 63, no hyphen at either end.
LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")
# An IPv6 address's zone (``fe80::1%eth0``): an interface's name or number, never a list or a path.
ZONE = re.compile(r"[A-Za-z0-9_.-]+")


def check_settings(connector: Connector, values: dict[int, object]) -> dict[int, list[str]]:
    """The problems that can be found without reaching the remote system, by setting id.

    ``values`` holds each setting's stored value; a secret's value is True when it holds one.
    """
    problems: dict[int, list[str]] = {}
    for setting in connector.settings:
        value = values.get(setting.id)
        messages = problems.setdefault(setting.id, [])
        if setting.differs_from is not None:
            other = connector.settings_by_id[setting.differs_from]
            if in_effect(setting, value) == in_effect(other, values.get(other.id)):
                messages.append(f"{setting.name} must differ from the {other.name}.")
        if not holds_value(value):
            if setting.required:
                messages.append(f"{setting.name} is required.")
            elif setting.required_when:
                other, trigger = setting.required_when
                if values.get(other.id) == trigger:
                    messages.append(f"{setting.name} is required when {other.name} is {trigger}.")
            continue
        if setting.type is SettingType.INTEGER:
            if setting.minimum is not None and value < setting.minimum:
                messages.append(f"{setting.name} must be at least {setting.minimum}.")
            if setting.maximum is not None and value > setting.maximum:
                messages.append(f"{setting.name} must be at most {setting.maximum}.")
        elif setting.one_host and not is_one_host(value):
            messages.append(f"{setting.name} must be a host name, an IPv4 address or an IPv6 address, and nothing "
                            f"else (no port, list of hosts or socket path).")
        elif setting.url_schemes and isinstance(value, str):
            messages.extend(address_problems(setting, value))
        elif setting.pattern and not re.search(setting.pattern, value):
            messages.append(f"{setting.name} must be {setting.pattern_hint}.")
    if connector.offline_checks is not None:  # what only a combination of the connector's settings shows
        for setting_id, messages in connector.offline_checks(values).items():
            problems.setdefault(setting_id, []).extend(messages)
    return {setting_id: messages for setting_id, messages in problems.items() if messages}


def is_one_host(value: str) -> bool:
    """A host name (of at most 253 characters, a final dot allowed), an IPv4 or an IPv6 address."""
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        name = value.removesuffix(".")
        return 0 < len(name) <= 253 and all(LABEL.fullmatch(label) for label in name.split("."))
    zone = getattr(address, "scope_id", None)
    return zone is None or bool(ZONE.fullmatch(zone))


def address_problems(setting: Setting, value: str) -> list[str]:
    """A URL with one of the setting's schemes, or (where a bare host is allowed) a host name."""
    if "://" not in value:
        if setting.url_schemes[0] in ("http", "https"):
            return [f"{setting.name} must be a URL starting with {' or '.join(s + '://' for s in setting.url_schemes)}."]
        return [] if HOST_NAME.match(value) else [f"{setting.name} must be a host name or a URL."]
    try:
        parts = urlsplit(value)
        port = parts.port  # raises ValueError for a port that is not a number in range
    except ValueError:
        return [f"{setting.name} is not a valid URL."]
    if port == 0:  # no server listens on it: a client asked for it connects to a default port, or nowhere
        return [f"{setting.name} names port 0; a port is from 1 to 65535 (or leave the port out)."]
    if parts.scheme.lower() not in setting.url_schemes:
        return [f"{setting.name} must use {' or '.join(setting.url_schemes)}."]
    if not parts.hostname:
        return [f"{setting.name} must name a host."]
    return []
