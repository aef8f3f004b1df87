"""Active Directory's domain-wide password policy, read from the domain root as JIM reads it.

What is read is a floor, never a guarantee: fine-grained policies (msDS-PasswordSettings) may be stricter for
some accounts, and a DC's password filters are invisible over LDAP. Other directories publish no policy a
client can find, so none is read from them.
"""
from collections.abc import Mapping

import ldap3

from connectors.interface import ConnectorError, DiscoveredPasswordPolicy
from connectors.ldap.connection import Directory, texts
from connectors.ldap.root_dse import is_active_directory

ATTRIBUTES = ["minPwdLength", "pwdProperties", "pwdHistoryLength", "maxPwdAge", "minPwdAge"]
DOMAIN_PASSWORD_COMPLEX = 0x1  # pwdProperties
# AD's complexity rule, fixed in the product: three of these five kinds of character.
COMPLEXITY_CLASS_COUNT = 3
COMPLEXITY_CLASSES = ("Uppercase", "Lowercase", "Digit", "Symbol", "OtherUnicodeLetter")
NO_LIMIT = (0, -(2**63))  # what AD writes for an age with no limit
INTERVALS_PER_DAY = 864_000_000_000  # AD's intervals are of 100 ns, stored negative
FINE_GRAINED_FROM_LEVEL = 3  # domainFunctionality of Windows Server 2008, which brought fine-grained policies
PASSWORD_SETTINGS = "CN=Password Settings Container,CN=System"


def read(directory: Directory, root_dse: Mapping) -> tuple[DiscoveredPasswordPolicy | None, tuple[str, ...]]:
    """The domain's policy, and a warning when it could not be read (which never fails the import)."""
    domain = texts(root_dse, "defaultNamingContext")
    if not is_active_directory(root_dse) or not domain:
        return None, ()
    try:
        entry = directory.read(domain[0], ATTRIBUTES) or {}
        signal = fine_grained_signal(directory, root_dse, domain[0])
    except ConnectorError as error:
        return None, (f"The domain's password policy could not be read: {error.message}",)
    if not any(texts(entry, name) for name in ATTRIBUTES):
        # Every domain root holds them: none seen is an account denied them, and no policy read.
        return None, (f"The domain's password policy could not be read: {directory.account} may not read "
                      f"{', '.join(ATTRIBUTES)} of {domain[0]}.",)
    complexity = number(entry, "pwdProperties")
    complex_required = None if complexity is None else bool(complexity & DOMAIN_PASSWORD_COMPLEX)
    return DiscoveredPasswordPolicy(
        minimum_length=number(entry, "minPwdLength"),
        complexity_required=complex_required,
        required_character_class_count=COMPLEXITY_CLASS_COUNT if complex_required else None,
        recognised_character_classes=COMPLEXITY_CLASSES if complex_required else (),
        password_history_length=number(entry, "pwdHistoryLength"),
        maximum_password_age_days=days(number(entry, "maxPwdAge")),
        minimum_password_age_days=days(number(entry, "minPwdAge")),
        fine_grained_policy_signal=signal,
    ), ()


def number(entry: Mapping, name: str) -> int | None:
    found = texts(entry, name)
    try:
        return int(found[0]) if found else None
    except ValueError:
        return None


def days(interval: int | None) -> int | None:
    """An age in whole days, or None where AD sets no limit."""
    if interval is None or interval in NO_LIMIT:
        return None
    return abs(interval) // INTERVALS_PER_DAY


def fine_grained_signal(directory: Directory, root_dse: Mapping, domain: str) -> str:
    """Present when the account sees a fine-grained policy; Absent only where the domain's level predates them.
    An account without rights over the container sees none, as if there were none: so none seen is undetermined."""
    level = texts(root_dse, "domainFunctionality")
    if level and level[0].isdigit() and int(level[0]) < FINE_GRAINED_FROM_LEVEL:
        return "Absent"
    try:
        found = directory.search(f"{PASSWORD_SETTINGS},{domain}", "(objectClass=msDS-PasswordSettings)",
                                 ["objectClass"], ldap3.LEVEL, most=1)
    except ConnectorError:
        return "CouldNotDetermine"
    return "Present" if found else "CouldNotDetermine"
