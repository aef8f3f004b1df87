"""What a connector is: its settings, and the questions every connector answers about its system.

A connector module builds one ``Connector``. Its discovery functions take the system's ``Settings`` and a
``Deadline``, talk to the system, and return plain data (``DiscoveredSchema``, ``DiscoveredHierarchy``), or
raise ``Refused`` (the system answered, and said no) or ``Unreachable`` (it could not be reached, or did not
answer in time). Its reader (``read_objects``) takes the settings, a ``ReadScope`` (what a run imports) and a
``Deadline`` that bounds each step (a page, a fetch of rows), and yields an ``ImportedObject`` at a time. A connector knows nothing of HTTP, the database or the history; ``connectors.runner`` calls
it, bounds its time and keeps its secrets out of what comes back.
"""
import os
import socket
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path


class SettingType(StrEnum):
    STRING = "String"
    STRING_ENCRYPTED = "StringEncrypted"
    TEXT = "Text"
    INTEGER = "Integer"
    CHECKBOX = "CheckBox"
    DROPDOWN = "DropDown"
    FILE = "File"


class Category(StrEnum):
    """Where a setting belongs, as JIM groups them (ConnectedSystemSettingCategory)."""

    CONNECTIVITY = "Connectivity"
    GENERAL = "General"
    CAPABILITIES = "Capabilities"
    SCHEMA = "Schema"
    IMPORT = "Import"
    EXPORT = "Export"


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
    required_when: tuple["Setting", str] | None = None  # (another setting, its value) that makes this one required
    pattern: str | None = None  # a regular expression the value must contain a match of
    pattern_hint: str = ""  # what the pattern asks for, in words
    differs_from: int | None = None  # another setting whose value, default included, this one must not equal
    one_host: bool = False  # the value must name one host: a host name, an IPv4 or an IPv6 address
    category: Category = Category.GENERAL
    # False: JIM's setting, stored and shown, that nothing here reads yet (an export's, a sync run's); the
    # connector's definition says which.
    acted_on: bool = True

    @property
    def value_key(self) -> str:
        return VALUE_KEYS[self.type]

    @property
    def is_secret(self) -> bool:
        return self.type is SettingType.STRING_ENCRYPTED


def holds_value(value) -> bool:
    """Whether a setting's value is one: None and the empty string are none."""
    return value is not None and value != ""


def in_effect(setting: Setting, value):
    """What a connector uses: the value, or the setting's default when it holds none."""
    return value if holds_value(value) else setting.default


# The most one import reads from its system, all its answers together: some 20 times a large Active Directory's
# schema, or a tree of 100,000 containers. Each read is counted as it arrives, so a peer that streams without end
# is stopped here, not by the memory it fills.
MAX_IMPORT_BYTES = 64 * 1024 * 1024


def size_text(count: int) -> str:
    """A byte count as an operator would write it: in MiB when it is whole ones."""
    return f"{count // 2**20:,} MiB" if count % 2**20 == 0 else f"{count:,} bytes"


@dataclass(frozen=True)
class ImportLimits:
    """The most one import brings (``connectors.limits`` checks them): JIM_IMPORT_MAX_CONTAINERS,
    JIM_IMPORT_MAX_OBJECT_TYPES and JIM_IMPORT_MAX_ATTRIBUTES (of all object types together); and what it reads
    (``Deadline.received``)."""

    containers: int = 30_000
    object_types: int = 10_000
    attributes: int = 200_000
    bytes: int = MAX_IMPORT_BYTES  # read from the system in all (JIM_IMPORT_MAX_BYTES), or in a step of a read


class Settings:
    """A connected system's setting values as its connector reads them, for one call.

    Secrets are plaintext here, in memory only, so ``repr`` shows no value and ``secrets`` lists them for the
    runner to keep out of every message. A setting that holds no value reads as its default. ``files_root``
    is the one folder the service lets connectors read files from; ``private_paths`` the service's own folder
    and files (resolved), which they never read, whatever the root holds; ``limits`` how much one import may
    bring (``connectors.limits``), which a connector may stop reading at.
    """

    def __init__(self, values: Mapping[int, object], secrets: tuple[str, ...], files_root: Path,
                 private_paths: tuple[Path, ...] = (), limits: ImportLimits | None = None):
        self._values = dict(values)
        self.secrets = secrets
        self.files_root = files_root
        self.private_paths = private_paths
        self.limits = limits or ImportLimits()

    def __getitem__(self, setting: Setting):
        return in_effect(setting, self._values.get(setting.id))

    def __repr__(self):
        return f"Settings({sorted(self._values)})"


class ConnectorError(Exception):
    """What the connected system said or did, fit to show the administrator."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class Refused(ConnectorError):
    """The system answered and refused (bad credentials, an unknown database, a file that is not delimited):
    the settings, or the system, need changing."""


class Unreachable(ConnectorError):
    """The system could not be reached, or did not answer in time (refused, unresolvable, timed out, TLS)."""


class Deadline:
    """What an import may still spend: its time, and the bytes it reads from the system.

    Each step waits at most its own timeout, and never past the deadline. A timeout bounds each wait, not a
    peer that drips a byte a second, so every connection the connector opens is also registered with
    ``cut_on_expiry``: when the time is up, ``expire`` shuts it down under the connector, and whatever library
    was reading from it sees the connection end and returns.
    """

    def __init__(self, seconds: float, max_bytes: int = MAX_IMPORT_BYTES):
        self.seconds = seconds
        self.at = time.monotonic() + seconds
        self.max_bytes = max_bytes
        self.bytes_read = 0
        self._connections: list[socket.socket] = []
        self._expired = False
        self._lock = threading.Lock()  # the connector's thread registers, the runner's expires
        # A deadline dropped unexpired (a connector called without the runner) leaves the connections alone and
        # closes only its duplicates of them.
        weakref.finalize(self, close_all, self._connections)

    def remaining(self) -> float:
        """Seconds left; ``Unreachable`` once there are none, so a step past the deadline never starts."""
        left = self.at - time.monotonic()
        if left <= 0:
            raise Unreachable(f"The import did not finish within its time limit of {self.seconds:g} seconds.")
        return left

    def bound(self, step_seconds: float) -> float:
        """How long the next step may wait: its own timeout, or what is left of the deadline if less."""
        return min(step_seconds, self.remaining())

    def restart(self):
        """A new step begins, with the whole time and the whole byte limit again: a read of a million objects
        is many steps, each bounded."""
        self.at = time.monotonic() + self.seconds
        self.bytes_read = 0

    def received(self, count: int):
        """``count`` more bytes were read from the system: ``Refused`` once the import has read more than it may."""
        self.bytes_read += count
        if self.bytes_read > self.max_bytes:
            raise Refused(f"The connected system answered more than {size_text(self.max_bytes)}, the most one "
                          f"import reads; nothing was imported.")

    def cut_on_expiry(self, connection):
        """Shut ``connection`` (a socket, or a driver's connection: anything with ``fileno``) down when the time
        is up, or at once if it is up already. It is held by a duplicate of its descriptor, which a library's
        wrapping (TLS) or closing cannot take away, and which ``expire`` closes (or the deadline's end)."""
        duplicate = socket.socket(fileno=os.dup(connection.fileno()))
        with self._lock:
            if not self._expired:
                self._connections.append(duplicate)
                return
        cut(duplicate)

    def expire(self):
        """The call is over, in time or not: every connection registered is shut down, and any registered from
        now on is at once."""
        with self._lock:
            self._expired = True
            duplicates = self._connections[:]
            self._connections.clear()
        for duplicate in duplicates:
            cut(duplicate)


def close_all(duplicates: list[socket.socket]):
    for duplicate in duplicates:
        duplicate.close()


def cut(duplicate: socket.socket):
    """The connection ends for every holder of it (a shutdown acts on the connection, not on one descriptor)."""
    try:
        duplicate.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # never connected, or ended already
    duplicate.close()


class AttributeType(StrEnum):
    TEXT = "Text"
    NUMBER = "Number"
    LONG_NUMBER = "LongNumber"
    DECIMAL = "Decimal"
    DATE_TIME = "DateTime"
    BOOLEAN = "Boolean"
    GUID = "Guid"
    REFERENCE = "Reference"
    BINARY = "Binary"


class Plurality(StrEnum):
    SINGLE_VALUED = "SingleValued"
    MULTI_VALUED = "MultiValued"


class Writability(StrEnum):
    WRITABLE = "Writable"
    READ_ONLY = "ReadOnly"


@dataclass(frozen=True)
class DiscoveredAttribute:
    name: str
    type: AttributeType = AttributeType.TEXT
    plurality: Plurality = Plurality.SINGLE_VALUED
    writability: Writability = Writability.WRITABLE
    description: str | None = None
    class_name: str | None = None  # what contributes it: an LDAP object class, a SCIM schema, a SQL table


@dataclass(frozen=True)
class DiscoveredObjectType:
    name: str
    attributes: tuple[DiscoveredAttribute, ...]


@dataclass(frozen=True)
class DiscoveredPasswordPolicy:
    """The password policy a system enforces, as far as it lets an ordinary client read it: None is "could not
    be read", never "no such rule". Ages are in whole days."""

    minimum_length: int | None = None
    complexity_required: bool | None = None
    required_character_class_count: int | None = None
    recognised_character_classes: tuple[str, ...] = ()  # JIM's names: Uppercase, Lowercase, Digit, Symbol, ...
    password_history_length: int | None = None
    maximum_password_age_days: int | None = None
    minimum_password_age_days: int | None = None
    fine_grained_policy_signal: str = "CouldNotDetermine"  # or Absent, Present: policies for some accounts only


@dataclass(frozen=True)
class DiscoveredSchema:
    object_types: tuple[DiscoveredObjectType, ...]
    warnings: tuple[str, ...] = ()  # what was found but left out, and why
    # What the system told of itself (JIM's detected capabilities, not the connector's): (name, value), in order.
    detected_capabilities: tuple[tuple[str, str], ...] = ()
    password_policy: DiscoveredPasswordPolicy | None = None


@dataclass(frozen=True)
class DiscoveredDirectoryServer:
    host_name: str
    site: str | None = None


@dataclass(frozen=True)
class DiscoveredContainer:
    external_id: str  # the system's name for it, shown to the administrator (an LDAP DN)
    name: str
    stable_id: str | None = None  # an id that survives a rename or a move (entryUUID, objectGUID), if any
    description: str | None = None
    hidden: bool = False
    children: tuple["DiscoveredContainer", ...] = ()


@dataclass(frozen=True)
class DiscoveredPartition:
    external_id: str  # an LDAP naming context's DN
    name: str
    stable_id: str | None = None
    containers: tuple[DiscoveredContainer, ...] = ()


@dataclass(frozen=True)
class DiscoveredHierarchy:
    partitions: tuple[DiscoveredPartition, ...]


class CertificateFailure(StrEnum):
    """Which check a server's certificate fails, in JIM's words (``ServerCertificateFailureReason``)."""

    NONE = "None"
    UNTRUSTED_ISSUER = "UntrustedIssuer"
    NAME_MISMATCH = "NameMismatch"
    EXPIRED = "Expired"
    NOT_YET_VALID = "NotYetValid"
    NO_CERTIFICATE_PRESENTED = "NoCertificatePresented"
    UNKNOWN = "Unknown"


@dataclass(frozen=True)
class PresentedCertificates:
    """What a server presented in a TLS handshake, and the first check it fails with the system's trust."""

    host: str
    port: int
    read_at: datetime
    chain: tuple[bytes, ...]  # DER, as the server sent them: its own certificate first
    failure: CertificateFailure


@dataclass(frozen=True)
class CertificateReader:
    """How a connector that makes TLS connections reads its server's certificates, and where it keeps trust."""

    read: Callable[[Settings, Deadline], PresentedCertificates | None]  # None: the settings make no TLS connection
    uses: tuple[Setting, ...]  # the settings the read takes: their offline checks must pass before it
    trust: Setting  # the Text setting of PEM certificates the connector trusts, to which a trust adds one


class ContainerScopeKind(StrEnum):
    SUBTREE = "Subtree"  # the container and everything beneath it
    ONE_LEVEL = "OneLevel"  # the entries directly beneath it only


@dataclass(frozen=True)
class AttributeScope:
    """An attribute a run reads, and how its values are typed."""

    name: str
    type: AttributeType = AttributeType.TEXT
    multi_valued: bool = False


@dataclass(frozen=True)
class ObjectTypeScope:
    """A selected object type: its selected attributes (the external ids among them) and which is which."""

    name: str
    attributes: tuple[AttributeScope, ...]
    external_id: str
    secondary_external_id: str | None = None


@dataclass(frozen=True)
class ContainerScope:
    """A selected container (an LDAP DN), searched to its ``scope``, less the ``excluded`` containers within it."""

    external_id: str
    scope: ContainerScopeKind = ContainerScopeKind.SUBTREE
    excluded: tuple[str, ...] = ()


@dataclass(frozen=True)
class PartitionScope:
    """A selected partition; with no selected container, the whole of it (less ``excluded``) is read."""

    external_id: str
    containers: tuple[ContainerScope, ...] = ()
    excluded: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReadScope:
    """What a run reads: the selected object types, the selected partitions (LDAP), and a file in place of the
    File Path setting (a run profile's ``filePath``)."""

    object_types: tuple[ObjectTypeScope, ...]
    partitions: tuple[PartitionScope, ...] = ()
    file_path: str | None = None


@dataclass(frozen=True)
class ImportedObject:
    """One object as read: its type, external ids (as text) and values by attribute name, each typed as its
    attribute (int, Decimal, bool, datetime, UUID, bytes, or str; a Reference as the referenced external id or
    DN), a multi-valued one as a list. ``problems`` says which values could not be read as their type (they
    are left out); an object without an external id has ``external_id`` None and says so there."""

    object_type: str
    external_id: str | None
    secondary_external_id: str | None
    values: dict[str, object]
    problems: tuple[str, ...] = ()


class RunType(StrEnum):
    """What a run profile runs, as JIM names it."""

    FULL_IMPORT = "FullImport"
    DELTA_IMPORT = "DeltaImport"
    FULL_SYNCHRONISATION = "FullSynchronisation"
    DELTA_SYNCHRONISATION = "DeltaSynchronisation"
    EXPORT = "Export"


class SchemaStandard(StrEnum):
    """The vocabulary of a connector's attribute names, as JIM names it (AttributeStandard)."""

    NOT_SET = "NotSet"
    SCIM = "Scim"
    LDAP = "Ldap"


@dataclass(frozen=True)
class Capabilities:
    """What the connector can do, as JIM's connector of the same name declares it (its ``Supports*`` flags).

    They describe the connector, not this service: run profiles are refused for what the connector cannot do,
    and executing them is the sync engine's.
    """

    full_import: bool = True
    delta_import: bool = False
    export: bool = True
    partitions: bool = False
    partition_containers: bool = False
    secondary_external_id: bool = False
    user_selected_external_id: bool = False
    user_selected_attribute_types: bool = False
    auto_confirm_export: bool = False
    parallel_export: bool = False
    paging: bool = False
    file_paths: bool = False
    password_set: bool = False
    password_policy_discovery: bool = False


@dataclass(frozen=True)
class Connector:
    id: int
    name: str
    description: str
    settings: tuple[Setting, ...]
    discover_schema: Callable[[Settings, Deadline], DiscoveredSchema]
    # Only connectors whose systems have partitions and containers (LDAP) discover a hierarchy.
    discover_hierarchy: Callable[[Settings, Deadline], DiscoveredHierarchy] | None = None
    read_objects: Callable[[Settings, ReadScope, Deadline], Iterator[ImportedObject]] | None = None
    capabilities: Capabilities = Capabilities()
    schema_standard: SchemaStandard = SchemaStandard.NOT_SET
    # Only a directory that has domain controllers (LDAP, on Active Directory) lists them.
    discover_directory_servers: Callable[[Settings, Deadline], tuple[DiscoveredDirectoryServer, ...]] | None = None
    # Offline checks of several settings together, beyond each setting's own rules: the problems by setting id,
    # given the stored values by id (a secret's as True).
    offline_checks: Callable[[Mapping[int, object]], dict[int, list[str]]] | None = None
    # Only connectors that make TLS connections read a server's certificate (LDAP, over LDAPS).
    server_certificate: CertificateReader | None = None
    settings_by_id: dict[int, Setting] = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "settings_by_id", {setting.id: setting for setting in self.settings})

    def can_run(self, run_type: RunType) -> bool:
        """What its run profiles may run, as JIM's definition says (synchronisation runs need no connector)."""
        capable = self.capabilities
        return {RunType.FULL_IMPORT: capable.full_import, RunType.DELTA_IMPORT: capable.delta_import,
                RunType.EXPORT: capable.export}.get(run_type, True)

    @property
    def described(self) -> str:
        """The description, and which settings are stored and shown but not acted on here yet."""
        idle = [setting.name for setting in self.settings if not setting.acted_on]
        if not idle:
            return self.description
        return (f"{self.description} Stored and shown, but not acted on by this service yet (they are for JIM's "
                f"exports and synchronisation runs): {', '.join(idle)}.")
