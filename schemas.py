"""Every rule of the contract for what comes in (``load``) and the shape of what goes out (``dump``)."""
import functools
import operator
import re
import unicodedata
from datetime import UTC, timedelta

from marshmallow import (
    Schema,
    ValidationError,
    fields,
    missing,
    post_load,
    pre_load,
    validate,
    validates_schema,
)

from connectors import CONNECTORS
from connectors.interface import (
    VALUE_KEYS,
    Category,
    CertificateFailure,
    Connector,
    ContainerScopeKind,
    RunType,
    SchemaStandard,
    Setting,
    SettingType,
)
from models import ID_DIGITS, ID_MAX, Role, UnresolvedReferenceHandling, utcnow

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
SETTING_STRING_MAX = 4000
ONE_DAY = timedelta(days=1)
EXPIRING_SOON = timedelta(days=30)  # JIM's TrustedCertificate.IsExpiringSoon

NUL = "\x00"
SURROGATE = re.compile("[\ud800-\udfff]")
# Character classes written as regular-expression escapes, which JSON Schema (ECMA 262) reads as Python does,
# so the OpenAPI document states the same rule.
CONTROL_CHARACTERS = r"\x00-\x1f\x7f-\x9f"
CONTROL_CHARACTERS_EXCEPT_LINE_BREAKS = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
CONTROL = re.compile(f"[{CONTROL_CHARACTERS}]")
CONTROL_EXCEPT_LINE_BREAKS = re.compile(f"[{CONTROL_CHARACTERS_EXCEPT_LINE_BREAKS}]")
# Unicode's Bidi_Control characters. The embeddings, overrides and isolates reorder the text after them, so
# that a name shows other than it reads ("Trojan Source"); the marks (U+061C, U+200E, U+200F) only sway their
# neighbours, but in a one-line value that is all they can do, besides making two names look alike.
BIDI_CONTROLS = r"\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
BIDI_CONTROL = re.compile(f"[{BIDI_CONTROLS}]")
# What a name needs at least one of to be seen: a letter, number, punctuation mark or symbol (a joiner or a
# variation selector may ride along), but not a Hangul filler, a letter that shows as blank.
VISIBLE_CATEGORIES = ("L", "N", "P", "S")
BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0")


def string_problems(value: str, max_length: int, multiline: bool) -> list[str]:
    """What keeps a string from being stored as it is: one rule for every string the API takes."""
    if SURROGATE.search(value):
        return ["Must be valid Unicode text."]
    if NUL in value:
        return ["Must not contain NUL characters."]
    if (CONTROL_EXCEPT_LINE_BREAKS if multiline else CONTROL).search(value):
        if multiline:
            return ["Must not contain control characters other than line breaks and tabs."]
        return ["Must not contain control characters, line breaks or tabs."]
    if not multiline and BIDI_CONTROL.search(value):
        return ["Must not contain bidirectional controls (such as U+202E), which change how text is shown."]
    if len(value) > max_length:
        return [f"Must be at most {max_length} characters."]
    return []


def allowed_characters(multiline: bool) -> str:
    """The characters a string may hold, as the OpenAPI document states them (string_problems' rule)."""
    return f"^[^{CONTROL_CHARACTERS_EXCEPT_LINE_BREAKS if multiline else CONTROL_CHARACTERS + BIDI_CONTROLS}]*$"


def is_visible(character: str) -> bool:
    return unicodedata.category(character)[0] in VISIBLE_CATEGORIES and character not in BLANK_LETTERS


class CleanString(fields.String):
    """A string the store can hold as it is: valid Unicode, no NUL, line breaks only where text is multi-line."""

    def __init__(self, *, max_length: int, multiline: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.max_length = max_length
        self.multiline = multiline

    @property
    def pattern(self) -> str:
        return allowed_characters(self.multiline)

    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs)
        problems = string_problems(value, self.max_length, self.multiline)
        if problems:
            raise ValidationError(problems)
        return value


class Name(CleanString):
    def __init__(self, **kwargs):
        super().__init__(max_length=200, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs)
        if not value.strip():
            raise ValidationError("Must not be empty or only white space.")
        if not any(map(is_visible, value)):
            raise ValidationError("Must hold a visible character, not only invisible ones such as U+200B.")
        return value


class Description(CleanString):
    """Up to 1000 characters; empty means none, stored and shown as null."""

    def __init__(self, **kwargs):
        super().__init__(max_length=1000, multiline=True, allow_none=True, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        return super()._deserialize(value, attr, data, **kwargs) or None


class StrictInteger(fields.Integer):
    """A JSON integer: not a boolean, a string or a number with a fraction."""

    def __init__(self, **kwargs):
        super().__init__(strict=True, **kwargs)

    def _validated(self, value):
        if isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return super()._validated(value)


class StrictBoolean(fields.Boolean):
    """A JSON boolean: not 1, "true" or "yes"."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


class AnyCaseChoice(fields.String):
    """One of an enumeration's values, in any case (PowerShell's ValidateSet passes a value on as typed), loaded
    in its own spelling."""

    def __init__(self, enumeration, **kwargs):
        super().__init__(**kwargs)
        self.choices = tuple(member.value for member in enumeration)

    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs)
        for choice in self.choices:
            if value.casefold() == choice.casefold():
                return choice
        raise ValidationError(f"Must be one of: {', '.join(self.choices)}.")


# A .NET TimeSpan in its constant ("c") format, as PowerShell's ToString('c') writes one: [-][d.]hh:mm:ss[.fffffff].
TIMESPAN = re.compile(r"(-)?(?:([0-9]{1,8})\.)?([0-9]{1,2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{1,7}))?")
TICKS_PER_SECOND, TIMESPAN_MAX_TICKS = 10**7, 2**63 - 1


def timespan_text(ticks: int) -> str:
    """A positive duration in 100 ns ticks as TimeSpan's constant format writes it: 7.00:00:00, 01:30:00."""
    seconds, fraction = divmod(ticks, TICKS_PER_SECOND)
    minutes, second = divmod(seconds, 60)
    hours, minute = divmod(minutes, 60)
    days, hour = divmod(hours, 24)
    return (f"{days}." if days else "") + f"{hour:02}:{minute:02}:{second:02}" + (f".{fraction:07}" if fraction else "")


class TimeSpan(fields.String):
    """A duration as a .NET TimeSpan string, loaded in its canonical form (``7.00:00:00``); longer than zero,
    where JIM would quietly read zero or less as its default."""

    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs)
        found = TIMESPAN.fullmatch(value)
        if found is None or int(found[3]) > 23 or int(found[4]) > 59 or int(found[5]) > 59:
            raise ValidationError("Must be a TimeSpan as [d.]hh:mm:ss[.fffffff], such as 7.00:00:00 (seven days) "
                                  "or 01:30:00.")
        sign, days, hours, minutes, seconds, fraction = found.groups()
        ticks = ((((int(days or 0) * 24 + int(hours)) * 60 + int(minutes)) * 60 + int(seconds)) * TICKS_PER_SECOND
                 + int((fraction or "").ljust(7, "0")))
        if sign or ticks == 0:
            raise ValidationError("Must be longer than zero; null sets JIM's default of seven days.")
        if ticks > TIMESPAN_MAX_TICKS:
            raise ValidationError(f"Must be at most {timespan_text(TIMESPAN_MAX_TICKS)}.")
        return timespan_text(ticks)


def canonical_id(key: str) -> int | None:
    """A decimal id given as a JSON object's key (``"4"``, not ``"04"`` or ``" 4"``), or None."""
    if 0 < len(key) <= ID_DIGITS and key.isascii() and key.isdigit() and str(int(key)) == key:
        return int(key)
    return None


def parse_setting_value(connector: Connector, key: str, item) -> tuple[int, object]:
    """One entry of settingValues, checked against the connector's setting of that id."""
    setting_id = canonical_id(key)
    if setting_id is None:
        raise ValidationError("Setting ids are decimal integers, such as \"1\".")
    setting = connector.settings_by_id.get(setting_id)
    if setting is None:
        raise ValidationError(f"{connector.name} has no setting {key}.")
    expected = f"{setting.name} ({setting.type}) takes an object holding only \"{setting.value_key}\"."
    if not isinstance(item, dict) or set(item) != {setting.value_key}:
        raise ValidationError(expected)
    return setting.id, setting_value(setting, item[setting.value_key])


def setting_value(setting: Setting, value):
    if value is None or (setting.is_secret and value == ""):
        # Clears the setting. An empty secret holds nothing: kept, it would pass as a password given and bind
        # as no one.
        return None
    if setting.type is SettingType.INTEGER:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValidationError(f"{setting.name} takes a whole number.")
        if not INT32_MIN <= value <= INT32_MAX:
            raise ValidationError(f"{setting.name} must be between {INT32_MIN} and {INT32_MAX}.")
        return value
    if setting.type is SettingType.CHECKBOX:
        if not isinstance(value, bool):
            raise ValidationError(f"{setting.name} takes true or false.")
        return value
    if not isinstance(value, str):
        raise ValidationError(f"{setting.name} takes a string.")
    problems = string_problems(value, SETTING_STRING_MAX, multiline=setting.type is SettingType.TEXT)
    if problems:
        raise ValidationError([f"{setting.name}: {problem}" for problem in problems])
    if setting.allowed_values and value not in setting.allowed_values:
        raise ValidationError(f"{setting.name} must be one of: {', '.join(setting.allowed_values)}.")
    return value


class SettingValues(fields.Field):
    """``settingValues``: setting id to value, checked against the connector of the schema being loaded.

    Each problem is reported under its setting id, so the envelope names it ``settingValues.<id>``.
    """

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, dict):
            raise ValidationError("Must be an object keyed by setting id.")
        values, problems = {}, {}
        for key, item in value.items():
            try:
                setting_id, parsed = parse_setting_value(self.parent.connector, key, item)
            except ValidationError as error:
                problems[key] = error.messages
            else:
                values[setting_id] = parsed
        if problems:
            raise ValidationError(problems)
        return values


class ChangeReason(CleanString):
    """Why, in the requester's words, kept with the change in the history."""

    def __init__(self, **kwargs):
        super().__init__(data_key="changeReason", max_length=2000, multiline=True, allow_none=True, **kwargs)


class ConnectedSystemUpdateSchema(Schema):
    """The PUT body: every field optional, absent means unchanged, anything unknown refused.

    Loads as ``{"fields": {column: value}, "setting_values": {id: value}, "change_reason": ...}``: the
    system's own fields by column, as ``systems.updated`` takes them.
    """

    name = Name()
    description = Description()
    setting_values = SettingValues(data_key="settingValues")
    max_export_parallelism = StrictInteger(
        data_key="maxExportParallelism", allow_none=True, validate=validate.Range(1, 16)
    )
    require_secure_transport = StrictBoolean(data_key="requireSecureTransport")
    initial_password_time_to_live = TimeSpan(data_key="initialPasswordTimeToLive", allow_none=True)
    unresolved_reference_handling = AnyCaseChoice(UnresolvedReferenceHandling, data_key="unresolvedReferenceHandling")
    change_reason = ChangeReason()

    FIELDS = ("name", "description", "max_export_parallelism", "require_secure_transport",
              "initial_password_time_to_live", "unresolved_reference_handling")

    def __init__(self, connector: Connector, **kwargs):
        super().__init__(**kwargs)
        self.connector = connector

    @post_load
    def by_part(self, data, **kwargs):
        data["fields"] = {name: data.pop(name) for name in self.FIELDS if name in data}
        return data


class ConnectedSystemCreateSchema(Schema):
    name = Name(required=True)
    description = Description()
    connector_definition_id = StrictInteger(
        data_key="connectorDefinitionId", required=True, validate=validate.OneOf(sorted(CONNECTORS))
    )
    change_reason = ChangeReason()


class QuerySchema(Schema):
    """A query string. Parameter names match in any case, as JIM's own API binds them."""

    # Values that match their choices in any case; each is loaded in the spelling its choices list.
    CASE_INSENSITIVE_VALUES: dict[str, tuple[str, ...]] = {}

    @pre_load
    def canonical_names(self, data, **kwargs):
        canonical = {field.data_key or name: field.data_key or name for name, field in self.fields.items()}
        by_lower = {name.lower(): name for name in canonical}
        named = {by_lower.get(key.lower(), key): value for key, value in data.items()}
        for key, choices in self.CASE_INSENSITIVE_VALUES.items():
            if isinstance(named.get(key), str):
                named[key] = {choice.lower(): choice for choice in choices}.get(named[key].lower(), named[key])
        return named


class PageQuerySchema(QuerySchema):
    """A paged list's query string."""

    page = fields.Integer(load_default=1, validate=validate.Range(1, 1_000_000))
    page_size = fields.Integer(data_key="pageSize", load_default=25, validate=validate.Range(1, 100))


class PartitionsQuerySchema(QuerySchema):
    """What a client may ask of a system's partitions, to be given less of a big directory."""

    selected = fields.Boolean(load_default=None, metadata={
        "description": "true: only the selected partitions; false: only the others"})


class ObjectTypesQuerySchema(QuerySchema):
    """What a client may ask of a system's object types, to be given less of a big schema."""

    selected = fields.Boolean(load_default=None, metadata={
        "description": "true: only the selected object types; false: only the others"})
    include_attributes = fields.Boolean(data_key="includeAttributes", load_default=True, metadata={
        "description": "false: each object type without its attributes (attributeCount still counts them)"})


class ListQuerySchema(PageQuerySchema):
    """The connected systems list's query string."""

    SORT_COLUMNS = ("name", "created", "connectorName")
    SORT_DIRECTIONS = ("asc", "desc")

    sort_by = fields.String(data_key="sortBy", load_default="name", validate=validate.OneOf(
        SORT_COLUMNS, error=f"Must be one of: {', '.join(SORT_COLUMNS)}."))
    sort_direction = fields.String(data_key="sortDirection", load_default="asc", validate=validate.OneOf(
        SORT_DIRECTIONS, error=f"Must be one of: {', '.join(SORT_DIRECTIONS)}."))
    filter = CleanString(max_length=200, load_default=None)

    CASE_INSENSITIVE_VALUES = {"sortBy": SORT_COLUMNS, "sortDirection": SORT_DIRECTIONS}


class UTCTimestamp(fields.Field):
    """ISO 8601 in UTC with a trailing Z."""

    def _serialize(self, value, attr, obj, **kwargs):
        return self.text(value)

    @staticmethod
    def text(value):
        return None if value is None else value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class ConnectorReferenceSchema(Schema):
    id = fields.Integer()
    name = fields.String()


def dump_setting_value(setting: Setting, value) -> dict:
    """A setting's current value as the wire shows it; a secret shows only whether it holds one."""
    shown = {"name": setting.name, "type": setting.type.value}
    if setting.is_secret:
        shown["hasValue"] = value is not None
    else:
        shown[setting.value_key] = value
    return shown


class ShownSettingValueSchema(Schema):
    """One setting in an answer: only the value key its type takes; a secret shows only ``hasValue``.

    Documents the shape for the OpenAPI document; ``dump_setting_value`` makes it.
    """

    name = fields.String()
    type = fields.Enum(SettingType, by_value=True)
    string_value = fields.String(data_key="stringValue", allow_none=True)
    int_value = fields.Integer(data_key="intValue", allow_none=True)
    checkbox_value = fields.Boolean(data_key="checkboxValue", allow_none=True)
    has_value = fields.Boolean(data_key="hasValue")


class ShownSettingValues(fields.Dict):
    """``settingValues`` in an answer: every setting of the system's connector, keyed by id as a string.

    Each value is made in its wire shape by ``dump_setting_value``, which leaves out the value keys a type does
    not take; that is what a nested schema would do, at a tenth of its calls in the busiest answers.
    """

    def __init__(self, **kwargs):
        super().__init__(keys=fields.String(), values=fields.Nested(ShownSettingValueSchema), **kwargs)

    def get_value(self, obj, attr, accessor=None, default=missing):
        settings = obj.connector.settings
        return {str(setting.id): dump_setting_value(setting, obj.value_of(setting)) for setting in settings}

    def _serialize(self, value, attr, obj, **kwargs):
        return value  # already in its wire shape


class ConnectedSystemFieldsSchema(Schema):
    """What the list's summary and the whole object both begin with.

    ``allow_none`` marks what an answer may show as null: dumping ignores it, the OpenAPI document states it.
    """

    id = fields.Integer()
    name = fields.String()
    description = fields.String(allow_none=True)
    created = UTCTimestamp()
    last_updated = UTCTimestamp(data_key="lastUpdated", allow_none=True)
    status = fields.Constant("Active")
    setting_values_valid = fields.Boolean(data_key="settingValuesValid")


class ConnectedSystemSummarySchema(ConnectedSystemFieldsSchema):
    """A connected system in the list."""

    connector_id = fields.Integer(attribute="connector.id", data_key="connectorId")
    connector_name = fields.String(attribute="connector.name", data_key="connectorName")


class ObjectTypeSummarySchema(Schema):
    """An imported object type, as the Connected System object lists it."""

    id = fields.Integer()
    name = fields.String()
    created = UTCTimestamp()
    selected = fields.Boolean()
    remove_contributed_attributes_on_obsoletion = fields.Boolean(data_key="removeContributedAttributesOnObsoletion")
    attribute_count = fields.Integer(data_key="attributeCount")


class AttributeSchema(Schema):
    """An attribute of an imported object type."""

    id = fields.Integer()
    name = fields.String()
    description = fields.String(allow_none=True)
    class_name = fields.String(data_key="className", allow_none=True)
    created = UTCTimestamp()
    type = fields.String()
    attribute_plurality = fields.String(data_key="attributePlurality")
    selected = fields.Boolean()
    is_external_id = fields.Boolean(data_key="isExternalId")
    is_secondary_external_id = fields.Boolean(data_key="isSecondaryExternalId")
    selection_locked = fields.Boolean(data_key="selectionLocked")
    writability = fields.String()


class ObjectTypeSchema(ObjectTypeSummarySchema):
    """An imported object type with its attributes, sorted by name."""

    attributes = fields.Nested(AttributeSchema, many=True)


class ConnectedSystemSchema(ConnectedSystemFieldsSchema):
    """The Connected System object, as every endpoint that answers with one shows it."""

    connector = fields.Nested(ConnectorReferenceSchema)
    object_types = fields.Nested(ObjectTypeSummarySchema, many=True, data_key="objectTypes")
    object_count = fields.Integer(data_key="objectCount")
    pending_export_count = fields.Constant(0, data_key="pendingExportCount")
    max_export_parallelism = fields.Integer(data_key="maxExportParallelism", allow_none=True)
    initial_password_time_to_live = fields.String(data_key="initialPasswordTimeToLive", allow_none=True)
    require_secure_transport = fields.Boolean(data_key="requireSecureTransport")
    unresolved_reference_handling = fields.String(data_key="unresolvedReferenceHandling")
    setting_values = ShownSettingValues(data_key="settingValues")


class PageSchema(Schema):
    """The list envelope, around items dumped by the schema given."""

    items = fields.Method("dump_items")
    total_count = fields.Integer(data_key="totalCount")
    page = fields.Integer()
    page_size = fields.Integer(data_key="pageSize")
    total_pages = fields.Integer(data_key="totalPages")
    has_next_page = fields.Boolean(data_key="hasNextPage")
    has_previous_page = fields.Boolean(data_key="hasPreviousPage")

    def __init__(self, item_schema: Schema, **kwargs):
        super().__init__(**kwargs)
        self.item_schema = item_schema

    def dump_items(self, page) -> list:
        return self.item_schema.dump(page["items"], many=True)


def paged(items: list, total_count: int, page: int, page_size: int) -> dict:
    """One page of a list, as ``PageSchema`` dumps it."""
    total_pages = -(-total_count // page_size)
    return {
        "items": items,
        "total_count": total_count,
        "page": page,
        "page_size": page_size,
        "total_pages": total_pages,
        "has_next_page": page < total_pages,
        "has_previous_page": page > 1,
    }


def typed_default(setting_type: SettingType):
    """A setting's default under JIM's name for its type's default (defaultStringValue, ...), else None."""
    value_key = VALUE_KEYS[setting_type]

    def default(setting: Setting):
        return setting.default if setting.value_key == value_key else None

    return default


class ConnectorSettingSchema(Schema):
    """A setting as JIM's ConnectorDefinitionSettingDto shows it, and as this service always has (``default``,
    ``allowedValues``)."""

    id = fields.Integer()
    name = fields.String()
    description = fields.String()
    category = fields.Enum(Category, by_value=True)
    type = fields.Enum(SettingType, by_value=True)
    default_checkbox_value = fields.Function(typed_default(SettingType.CHECKBOX), data_key="defaultCheckboxValue",
                                             allow_none=True)
    default_string_value = fields.Function(typed_default(SettingType.STRING), data_key="defaultStringValue",
                                           allow_none=True)
    default_int_value = fields.Function(typed_default(SettingType.INTEGER), data_key="defaultIntValue",
                                        allow_none=True)
    drop_down_values = fields.Function(lambda setting: list(setting.allowed_values) or None,
                                       data_key="dropDownValues", allow_none=True)
    required = fields.Boolean()
    required_group = fields.Constant(None, data_key="requiredGroup", allow_none=True)
    required_group_cardinality = fields.Constant("AtLeastOne", data_key="requiredGroupCardinality")
    required_when_setting = fields.Function(lambda setting: setting.required_when and setting.required_when[0].name,
                                            data_key="requiredWhenSetting", allow_none=True)
    required_when_value = fields.Function(lambda setting: setting.required_when and setting.required_when[1],
                                          data_key="requiredWhenValue", allow_none=True)
    default = fields.Raw(allow_none=True)
    allowed_values = fields.List(fields.String(), data_key="allowedValues")


class ConnectorDefinitionSchema(Schema):
    """A connector as JIM's ConnectorDefinitionDto shows it: built in, no files, its ``supports*`` flags."""

    id = fields.Integer()
    name = fields.String()
    description = fields.String(attribute="described")
    url = fields.Constant("https://github.com/TetronIO/JIM")
    built_in = fields.Constant(True, data_key="builtIn")
    settings = fields.Nested(ConnectorSettingSchema, many=True)
    files = fields.Constant([])
    supports_full_import = fields.Boolean(attribute="capabilities.full_import", data_key="supportsFullImport")
    supports_delta_import = fields.Boolean(attribute="capabilities.delta_import", data_key="supportsDeltaImport")
    supports_export = fields.Boolean(attribute="capabilities.export", data_key="supportsExport")
    supports_partitions = fields.Boolean(attribute="capabilities.partitions", data_key="supportsPartitions")
    supports_partition_containers = fields.Boolean(attribute="capabilities.partition_containers",
                                                   data_key="supportsPartitionContainers")
    supports_secondary_external_id = fields.Boolean(attribute="capabilities.secondary_external_id",
                                                    data_key="supportsSecondaryExternalId")
    supports_user_selected_external_id = fields.Boolean(attribute="capabilities.user_selected_external_id",
                                                        data_key="supportsUserSelectedExternalId")
    supports_user_selected_attribute_types = fields.Boolean(attribute="capabilities.user_selected_attribute_types",
                                                            data_key="supportsUserSelectedAttributeTypes")
    supports_auto_confirm_export = fields.Boolean(attribute="capabilities.auto_confirm_export",
                                                  data_key="supportsAutoConfirmExport")
    supports_parallel_export = fields.Boolean(attribute="capabilities.parallel_export",
                                              data_key="supportsParallelExport")
    supports_paging = fields.Boolean(attribute="capabilities.paging", data_key="supportsPaging")
    supports_file_paths = fields.Boolean(attribute="capabilities.file_paths", data_key="supportsFilePaths")
    supports_password_set = fields.Boolean(attribute="capabilities.password_set", data_key="supportsPasswordSet")
    supports_password_policy_discovery = fields.Boolean(attribute="capabilities.password_policy_discovery",
                                                        data_key="supportsPasswordPolicyDiscovery")
    schema_standard = fields.Enum(SchemaStandard, by_value=True, data_key="schemaStandard")


class ImportOptionsSchema(Schema):
    """The body of import-schema, when there is one: the JIM module's switches. Nothing depends on a schema
    here, so they change nothing; asking for both is a contradiction all the same."""

    disable_dependents = StrictBoolean(data_key="disableDependents")
    remove_dependents = StrictBoolean(data_key="removeDependents")

    @validates_schema
    def one_or_the_other(self, data, **kwargs):
        if data.get("disable_dependents") and data.get("remove_dependents"):
            raise ValidationError("disableDependents and removeDependents cannot both be true.", "removeDependents")


class NoOptionsSchema(Schema):
    """The body of an operation that takes none: nothing, an empty body or ``{}``."""


class ObjectTypeUpdateSchema(Schema):
    """An object type's PUT: each field optional, absent means unchanged."""

    selected = StrictBoolean()
    remove_contributed_attributes_on_obsoletion = StrictBoolean(data_key="removeContributedAttributesOnObsoletion")


class AttributeUpdateSchema(Schema):
    """An attribute's PUT: each field optional, absent means unchanged."""

    selected = StrictBoolean()
    is_external_id = StrictBoolean(data_key="isExternalId")
    is_secondary_external_id = StrictBoolean(data_key="isSecondaryExternalId")


class AttributeEdits(fields.Field):
    """The bulk PUT's ``attributes``: attribute id (a decimal string) to an attribute's PUT, each problem
    named ``attributes.<id>``."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, dict):
            raise ValidationError("Must be an object keyed by attribute id.")
        edits, problems = {}, {}
        for key, item in value.items():
            attribute_id = canonical_id(key)
            if attribute_id is None:
                problems[key] = ["Attribute ids are decimal integers, such as \"12\"."]
                continue
            if not isinstance(item, dict):
                problems[key] = ["Must be an object of the attribute's fields."]
                continue
            try:
                edits[attribute_id] = attribute_update_schema.load(item)
            except ValidationError as error:
                problems[key] = error.messages
        if problems:
            raise ValidationError(problems)
        return edits


class BulkAttributesUpdateSchema(Schema):
    """The bulk PUT of a type's attributes: all or nothing."""

    attributes = AttributeEdits(required=True)


class BulkAttributesResultSchema(Schema):
    updated_count = fields.Function(lambda result: len(result["updated_attributes"]), data_key="updatedCount")
    updated_attributes = fields.Nested(AttributeSchema, many=True, data_key="updatedAttributes")
    errors = fields.Constant(None, allow_none=True)


class AttributeChangeSchema(Schema):
    attribute_name = fields.String(attribute="attribute", data_key="attributeName")
    aspect = fields.String()
    old_value = fields.Raw(attribute="old", data_key="oldValue", allow_none=True)
    new_value = fields.Raw(attribute="new", data_key="newValue", allow_none=True)


class ChangedAttributes(fields.Dict):
    """Attribute changes grouped by the object type they belong to."""

    def __init__(self, **kwargs):
        super().__init__(keys=fields.String(), values=fields.List(fields.Nested(AttributeChangeSchema)), **kwargs)

    def _serialize(self, value, attr, obj, **kwargs):
        grouped = {}
        for change in value:
            grouped.setdefault(change.object_type, []).append(change)
        return super()._serialize(grouped, attr, obj, **kwargs)


class SchemaPreviewSchema(Schema):
    """What an import would change; an import that fails answers its error instead."""

    success = fields.Constant(True)
    error_message = fields.Constant(None, data_key="errorMessage", allow_none=True)
    total_object_types = fields.Integer(data_key="totalObjectTypes")
    total_attributes = fields.Integer(data_key="totalAttributes")
    added_object_types = fields.List(fields.String(), data_key="addedObjectTypes")
    removed_object_types = fields.List(fields.String(), data_key="removedObjectTypes")
    updated_object_types = fields.List(fields.String(), data_key="updatedObjectTypes")
    added_attributes = fields.Dict(keys=fields.String(), values=fields.List(fields.String()),
                                   data_key="addedAttributes")
    removed_attributes = fields.Dict(keys=fields.String(), values=fields.List(fields.String()),
                                     data_key="removedAttributes")
    changed_attributes = ChangedAttributes(data_key="changedAttributes")
    has_changes = fields.Boolean(data_key="hasChanges")
    has_removals_or_definition_changes = fields.Boolean(data_key="hasRemovalsOrDefinitionChanges")
    discovery_warnings = fields.List(fields.String(), data_key="discoveryWarnings")


class SelectionUpdateSchema(Schema):
    """A partition's PUT."""

    selected = StrictBoolean()


class ContainerUpdateSchema(SelectionUpdateSchema):
    """A container's PUT: each field optional, absent means unchanged."""

    excluded = StrictBoolean()
    scope = AnyCaseChoice(ContainerScopeKind)


class ContainerScopeTextSchema(Schema):
    """The container scope as text, in a PUT and in the answers."""

    text = CleanString(required=True, max_length=5_000_000, multiline=True)


class ContainerSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    external_id = fields.String(data_key="externalId")
    description = fields.String(allow_none=True)
    hidden = fields.Boolean()
    selected = fields.Boolean()
    excluded = fields.Boolean()
    scope = fields.String()
    partition_id = fields.Integer(data_key="partitionId")
    connected_system_id = fields.Integer(data_key="connectedSystemId")
    child_containers = fields.List(fields.Nested(lambda: ContainerSchema()), data_key="childContainers")


class PartitionSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    external_id = fields.String(data_key="externalId")
    selected = fields.Boolean()
    connected_system_id = fields.Integer(data_key="connectedSystemId")
    containers = fields.Nested(ContainerSchema, many=True)


def row_shaper(schema: Schema, nested: str | None = None):
    """``schema``'s dump of rows as the database driver gives them, made without marshmallow's work per field
    or SQLAlchemy's per row: for the big reads, a directory's 20,000 containers or a schema's 50,000
    attributes, where that work is most of the answer's time. The fields and their order are the schema's;
    ``nested``, its last field, is given by the caller, already shaped.

    Returns ``over(columns, converts)``: for rows of those columns (by name; each column's conversion of the
    driver's value, or None), the function that shapes a row (and the nested value, if any)."""
    names = list(schema.dump_fields)
    if nested is not None and names[-1] != nested:
        raise TypeError(f"{type(schema).__name__}.{nested} is not its last field")
    keys, attributes, times = [], [], set()
    for name in names[:-1] if nested else names:
        field = schema.dump_fields[name]
        if not isinstance(field, (fields.Integer, fields.String, fields.Boolean, UTCTimestamp)):
            raise TypeError(f"{type(schema).__name__}.{name}: a {type(field).__name__} has no row shape")
        keys.append(field.data_key or name)
        attributes.append(field.attribute or name)
        if isinstance(field, UTCTimestamp):
            times.add(len(keys) - 1)
    nested_key = (schema.dump_fields[nested].data_key or nested) if nested else None

    def over(columns: list[str], converts: dict):
        read = operator.itemgetter(*(columns.index(attribute) for attribute in attributes))
        fixes = []  # (index, conversion) of each field whose driver value is not yet the value
        for index, attribute in enumerate(attributes):
            convert = converts.get(attribute)
            if index in times:
                # The rows of one import share their time: each is converted and formatted once.
                convert = functools.lru_cache(maxsize=256)(
                    lambda raw, convert=convert: UTCTimestamp.text(convert(raw) if convert else raw))
            if convert is not None:
                fixes.append((index, convert))

        def shaped(row: tuple, given=None) -> dict:
            values = read(row)
            if fixes:
                values = list(values)
                for index, convert in fixes:
                    values[index] = convert(values[index])
            answer = dict(zip(keys, values))
            if nested_key is not None:
                answer[nested_key] = given
            return answer

        return shaped

    return over


class HierarchyItemSchema(Schema):
    external_id = fields.String(data_key="externalId")
    name = fields.String()
    was_selected = fields.Boolean(data_key="wasSelected")
    item_type = fields.String(data_key="itemType")


class RenamedItemSchema(HierarchyItemSchema):
    old_name = fields.String(data_key="oldName")
    new_name = fields.String(data_key="newName")


class MovedItemSchema(HierarchyItemSchema):
    old_parent_external_id = fields.String(data_key="oldParentExternalId", allow_none=True)
    new_parent_external_id = fields.String(data_key="newParentExternalId", allow_none=True)


class HierarchyImportSchema(Schema):
    """What a hierarchy import changed."""

    success = fields.Constant(True)
    error_message = fields.Constant(None, data_key="errorMessage", allow_none=True)
    total_partitions = fields.Integer(data_key="totalPartitions")
    total_containers = fields.Integer(data_key="totalContainers")
    added_partitions = fields.Nested(HierarchyItemSchema, many=True, data_key="addedPartitions")
    removed_partitions = fields.Nested(HierarchyItemSchema, many=True, data_key="removedPartitions")
    renamed_partitions = fields.Nested(RenamedItemSchema, many=True, data_key="renamedPartitions")
    added_containers = fields.Nested(HierarchyItemSchema, many=True, data_key="addedContainers")
    removed_containers = fields.Nested(HierarchyItemSchema, many=True, data_key="removedContainers")
    renamed_containers = fields.Nested(RenamedItemSchema, many=True, data_key="renamedContainers")
    moved_containers = fields.Nested(MovedItemSchema, many=True, data_key="movedContainers")
    has_changes = fields.Boolean(data_key="hasChanges")
    has_selected_items_removed = fields.Boolean(data_key="hasSelectedItemsRemoved")


class SettingsValidationSchema(Schema):
    valid = fields.Boolean()
    validation_errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()), data_key="validationErrors")
    connected_system = fields.Nested(ConnectedSystemSchema, data_key="connectedSystem")


class Thumbprint(CleanString):
    """A SHA-1 thumbprint: 40 hexadecimal digits, any case, spaces or colons between the pairs ignored (as JIM
    ignores them, since a thumbprint is quoted either way); loaded as JIM writes it, upper case, unseparated."""

    REQUIRED = "A thumbprint is required: this service will not trust whatever a server happens to be presenting."

    def __init__(self, **kwargs):
        super().__init__(max_length=200, required=True, error_messages={"required": self.REQUIRED}, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs)
        digits = re.sub(r"[\s:]", "", value)
        if not digits:
            raise ValidationError(self.REQUIRED)
        if not re.fullmatch(r"[0-9A-Fa-f]{40}", digits):
            raise ValidationError("Must be a SHA-1 thumbprint: 40 hexadecimal digits, as the server-certificate "
                                  "read shows it.")
        return digits.upper()


class ServerCertificateReadSchema(Schema):
    """The POST of server-certificate: unsaved setting values laid over the stored ones, for this read only."""

    setting_values = SettingValues(data_key="settingValues")

    def __init__(self, connector: Connector, **kwargs):
        super().__init__(**kwargs)
        self.connector = connector


class ServerCertificateTrustSchema(ServerCertificateReadSchema):
    thumbprint = Thumbprint()
    change_reason = ChangeReason()


class CertificateDiagnosticSchema(Schema):
    """What a server presented and the check it fails: JIM's ``ServerCertificateDiagnostic``."""

    host = fields.String()
    port = fields.Integer()
    failure_reason = fields.Enum(CertificateFailure, by_value=True, data_key="failureReason")
    subject = fields.String(allow_none=True)
    issuer = fields.String(allow_none=True)
    subject_alternative_names = fields.List(fields.String(), data_key="subjectAlternativeNames")
    valid_from = UTCTimestamp(data_key="validFrom", allow_none=True)
    valid_to = UTCTimestamp(data_key="validTo", allow_none=True)
    thumbprint = fields.String(allow_none=True)
    signature_algorithm = fields.String(data_key="signatureAlgorithm", allow_none=True)
    is_self_signed = fields.Boolean(data_key="isSelfSigned")
    issuer_thumbprint = fields.String(data_key="issuerThumbprint", allow_none=True)
    is_issuer_certificate_available = fields.Boolean(data_key="isIssuerCertificateAvailable")
    remediation = fields.String(allow_none=True)
    is_expired = fields.Boolean(data_key="isExpired")
    is_not_yet_valid = fields.Boolean(data_key="isNotYetValid")


class ServerCertificateSchema(Schema):
    """JIM's ``ServerCertificateResponse``."""

    certificate = fields.Nested(CertificateDiagnosticSchema)
    read_at = UTCTimestamp(data_key="readAt")


class TrustedCertificateSchema(Schema):
    """The certificate trusted, in the fields of JIM's ``TrustedCertificateDetailDto`` that a certificate kept in
    a setting has (no id, source or file: it is text in Trusted CA Certificates)."""

    name = fields.String(attribute="certificate.common_name")
    thumbprint = fields.String(attribute="certificate.thumbprint")
    subject = fields.String(attribute="certificate.subject")
    issuer = fields.String(attribute="certificate.issuer")
    serial_number = fields.String(attribute="certificate.serial_number", data_key="serialNumber")
    valid_from = UTCTimestamp(attribute="certificate.valid_from", data_key="validFrom")
    valid_to = UTCTimestamp(attribute="certificate.valid_to", data_key="validTo")
    is_enabled = fields.Constant(True, data_key="isEnabled")
    created_at = UTCTimestamp(data_key="createdAt")
    created_by = fields.String(data_key="createdBy")
    notes = fields.String()
    is_expired = fields.Function(lambda trust: trust.certificate.valid_to < trust.created_at, data_key="isExpired")
    is_expiring_soon = fields.Function(
        lambda trust: trust.created_at <= trust.certificate.valid_to < trust.created_at + EXPIRING_SOON,
        data_key="isExpiringSoon")
    days_until_expiry = fields.Function(lambda trust: int((trust.certificate.valid_to - trust.created_at) / ONE_DAY),
                                        data_key="daysUntilExpiry")


class TrustResultSchema(Schema):
    """JIM's ``TrustServerCertificateResponse``: ``certificate`` only when it was trusted now."""

    outcome = fields.String()
    message = fields.String(allow_none=True)
    certificate = fields.Nested(TrustedCertificateSchema, attribute="added", allow_none=True)
    expected_thumbprint = fields.String(data_key="expectedThumbprint")
    presented_thumbprint = fields.String(attribute="certificate.thumbprint", data_key="presentedThumbprint")


class ChangeSchema(Schema):
    """One field's change; a secret's has no value on either side."""

    field = fields.String()
    old_value = fields.Raw(attribute="old", data_key="oldValue")
    new_value = fields.Raw(attribute="new", data_key="newValue")


class ActorSchema(Schema):
    type = fields.String(attribute="actor_type")
    name = fields.String(attribute="actor_name")
    prefix = fields.String(attribute="actor_prefix")


class ChangeRecordSchema(Schema):
    """One entry of a connected system's history."""

    id = fields.Integer()
    connected_system_id = fields.Integer(data_key="connectedSystemId")
    timestamp = UTCTimestamp(attribute="changed_at")
    actor = fields.Function(lambda record: actor_schema.dump(record))
    action = fields.String()
    change_reason = fields.String(data_key="changeReason", allow_none=True)
    changes = fields.Nested(ChangeSchema, many=True)


# --- Run profiles ---------------------------------------------------------------------------------------

class Unchangeable(fields.Field):
    """A field that a PUT may not send at all, refused with a message saying why."""

    def __init__(self, message: str, **kwargs):
        super().__init__(**kwargs)
        self.message = message

    def deserialize(self, value, attr=None, data=None, **kwargs):
        if value is missing:
            return missing
        raise ValidationError(self.message)


class RunProfileFields(Schema):
    """What a run profile's POST and PUT both take. An empty filePath means none."""

    name = Name()
    page_size = StrictInteger(data_key="pageSize", validate=validate.Range(1, 10000))
    partition_id = StrictInteger(data_key="partitionId", allow_none=True)
    file_path = CleanString(data_key="filePath", max_length=500, allow_none=True)
    verify_import_content_hashes = StrictBoolean(data_key="verifyImportContentHashes")


class RunProfileCreateSchema(RunProfileFields):
    """A new run profile, with JIM's defaults; loads as its columns."""

    name = Name(required=True)
    run_type = AnyCaseChoice(RunType, data_key="runType", required=True)
    page_size = StrictInteger(data_key="pageSize", load_default=100, validate=validate.Range(1, 10000))
    partition_id = StrictInteger(data_key="partitionId", allow_none=True, load_default=None)
    file_path = CleanString(data_key="filePath", max_length=500, allow_none=True, load_default=None)
    verify_import_content_hashes = StrictBoolean(data_key="verifyImportContentHashes", load_default=False)

    @post_load
    def no_empty_path(self, data, **kwargs):
        data["file_path"] = data["file_path"] or None
        return data


class RunProfileUpdateSchema(RunProfileFields):
    """A run profile's PUT: absent or null leaves a field as it is (JIM's rule); loads as the columns to change."""

    name = Name(allow_none=True)
    page_size = StrictInteger(data_key="pageSize", allow_none=True, validate=validate.Range(1, 10000))
    verify_import_content_hashes = StrictBoolean(data_key="verifyImportContentHashes", allow_none=True)
    run_type = Unchangeable("A run profile's runType cannot change: create another run profile.",
                            data_key="runType")

    @post_load
    def changes_only(self, data, **kwargs):
        changes = {column: value for column, value in data.items() if value is not None}
        if changes.get("file_path") == "":
            changes["file_path"] = None
        return changes


class RunProfileSchema(Schema):
    """JIM's RunProfileDto, and the partition's id beside its name."""

    id = fields.Integer()
    name = fields.String()
    connected_system_id = fields.Integer(data_key="connectedSystemId")
    run_type = fields.String(data_key="runType")
    page_size = fields.Integer(data_key="pageSize")
    partition_id = fields.Integer(data_key="partitionId", allow_none=True)
    partition_name = fields.String(data_key="partitionName", allow_none=True)
    targets_deselected_partition = fields.Boolean(data_key="targetsDeselectedPartition")
    file_path = fields.String(data_key="filePath", allow_none=True)
    verify_import_content_hashes = fields.Boolean(data_key="verifyImportContentHashes")


class RoleIds(fields.List):
    """JIM's ``roleIds``: the roles of a key, by id; loaded as the one role they give (Administrator includes
    Reader), or None for none."""

    def __init__(self, **kwargs):
        super().__init__(StrictInteger(), **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        ids = super()._deserialize(value, attr, data, **kwargs)
        roles = {role.id: role for role in Role}
        unknown = sorted(set(ids) - set(roles))
        if unknown:
            known = ", ".join(f"{role.id} ({role.value})" for role in Role)
            raise ValidationError(f"No role has the id {', '.join(map(str, unknown))}; the roles are {known}.")
        given = {roles[role_id] for role_id in ids}
        return next((role for role in Role if role in given), None)  # Role lists the strongest first


class ExpiresAt(fields.AwareDateTime):
    """A moment in ISO 8601 (.NET's round-trip form included: seven fractional digits), UTC when it names no
    offset, in the years a store can hold; loaded in UTC."""

    def __init__(self, **kwargs):
        super().__init__(default_timezone=UTC, allow_none=True, data_key="expiresAt", **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        moment = super()._deserialize(value, attr, data, **kwargs)
        try:
            moment = moment.astimezone(UTC)
        except OverflowError:
            raise ValidationError("Must be a moment between the years 2000 and 9999.") from None
        if not 2000 <= moment.year < 9999:
            raise ValidationError("Must be a moment between the years 2000 and 9999.")
        return moment


def key_change_reason() -> CleanString:
    """Why, as JIM's API-key requests take it (at most 1000 characters); logged with the change."""
    return CleanString(data_key="changeReason", max_length=1000, multiline=True, allow_none=True)


class ApiKeyCreateSchema(Schema):
    """JIM's ApiKeyCreateRequestDto."""

    name = Name(required=True)
    description = Description()
    role = RoleIds(data_key="roleIds", load_default=None)
    expires_at = ExpiresAt()
    change_reason = key_change_reason()

    @validates_schema
    def expires_later(self, data, **kwargs):
        if data.get("expires_at") is not None and data["expires_at"] <= utcnow():
            raise ValidationError("Must be in the future: a key that has expired already would never work.",
                                  "expiresAt")


class ApiKeyUpdateSchema(Schema):
    """JIM's ApiKeyUpdateRequestDto, which the module sends whole; here each field is optional and absent means
    unchanged (JIM's would take an absent isEnabled as false and disable the key)."""

    name = Name()
    description = Description()
    role = RoleIds(data_key="roleIds")
    expires_at = ExpiresAt()
    enabled = StrictBoolean(data_key="isEnabled")
    change_reason = key_change_reason()


class ApiKeyDeleteQuerySchema(QuerySchema):
    change_reason = key_change_reason()


class RoleSchema(Schema):
    """A role as JIM's RoleDto names it."""

    id = fields.Integer()
    name = fields.String(attribute="value")
    built_in = fields.Constant(True, data_key="builtIn")


class ApiKeySchema(Schema):
    """JIM's ApiKeyDto; never the key itself. When and where a key was last used is not recorded here (it
    would make every request a write): always null."""

    id = fields.String(attribute="public_id")
    name = fields.String()
    description = fields.String(allow_none=True)
    key_prefix = fields.String(attribute="prefix", data_key="keyPrefix")
    created_at = UTCTimestamp(attribute="created", data_key="createdAt")
    expires_at = UTCTimestamp(data_key="expiresAt", allow_none=True)
    last_used_at = fields.Constant(None, data_key="lastUsedAt", allow_none=True)
    last_used_from_ip = fields.Constant(None, data_key="lastUsedFromIp", allow_none=True)
    is_enabled = fields.Boolean(data_key="isEnabled")
    is_infrastructure_key = fields.Boolean(attribute="is_infrastructure", data_key="isInfrastructureKey")
    roles = fields.Nested(RoleSchema, many=True)


class ApiKeyCreatedSchema(ApiKeySchema):
    """The answer to a create: the key itself, shown this once."""

    key = fields.String()


class UserInfoSchema(Schema):
    """JIM's userinfo, for the key calling: JIM answers a key as unauthorised, with no roles, whatever it may
    do, because a key is no metaverse identity; here a key with a role is authorised, with its role."""

    authorised = fields.Function(lambda caller: caller.role is not None)
    is_administrator = fields.Function(lambda caller: caller.role is Role.ADMINISTRATOR,
                                       data_key="isAdministrator")
    name = fields.String()
    auth_method = fields.Constant("api_key", data_key="authMethod")
    metaverse_object_id = fields.Constant(None, data_key="metaverseObjectId", allow_none=True)
    roles = fields.Function(lambda caller: [] if caller.role is None else [caller.role.value])
    message = fields.Function(lambda caller: None if caller.role else NO_ROLE, allow_none=True)


NO_ROLE = "This API key has no role: it may only ask who it is. Give it Administrator or Reader."


# --- Change history at JIM's paths: versions, snapshots, diffs ---------------------------------------------

class SnapshotNodeSchema(Schema):
    """JIM's ConfigurationSnapshotNode. The snapshot and diff trees are built in their wire names
    (``systems.snapshots``), so their fields read them by those."""

    key = fields.String()
    label = fields.String(allow_none=True)
    node_type = fields.String(data_key="nodeType", attribute="nodeType")
    value = fields.String(allow_none=True)
    display_value = fields.String(data_key="displayValue", attribute="displayValue", allow_none=True)
    is_secret = fields.Boolean(data_key="isSecret", attribute="isSecret")
    item_id = fields.Integer(data_key="itemId", attribute="itemId", allow_none=True)
    children = fields.List(fields.Nested(lambda: SnapshotNodeSchema()), allow_none=True)


class SnapshotSchema(Schema):
    """JIM's ConfigurationSnapshot: the whole configuration as a version left it."""

    schema_version = fields.Integer(data_key="schemaVersion", attribute="schemaVersion")
    object_type = fields.String(data_key="objectType", attribute="objectType")
    object_id = fields.Integer(data_key="objectId", attribute="objectId")
    object_guid_id = fields.Constant(None, data_key="objectGuidId", attribute="objectGuidId", allow_none=True)
    object_key = fields.Constant(None, data_key="objectKey", attribute="objectKey", allow_none=True)
    object_name = fields.String(data_key="objectName", attribute="objectName", allow_none=True)
    root = fields.Nested(SnapshotNodeSchema)


class DiffNodeSchema(Schema):
    """JIM's ConfigurationDiffNode."""

    key = fields.String()
    label = fields.String(allow_none=True)
    node_type = fields.String(data_key="nodeType", attribute="nodeType")
    change_type = fields.String(data_key="changeType", attribute="changeType")
    old_value = fields.String(data_key="oldValue", attribute="oldValue", allow_none=True)
    new_value = fields.String(data_key="newValue", attribute="newValue", allow_none=True)
    old_display_value = fields.String(data_key="oldDisplayValue", attribute="oldDisplayValue", allow_none=True)
    new_display_value = fields.String(data_key="newDisplayValue", attribute="newDisplayValue", allow_none=True)
    is_secret = fields.Boolean(data_key="isSecret", attribute="isSecret")
    item_id = fields.Integer(data_key="itemId", attribute="itemId", allow_none=True)
    children = fields.List(fields.Nested(lambda: DiffNodeSchema()), allow_none=True)


class DiffSchema(Schema):
    """JIM's ConfigurationDiff of two versions."""

    object_type = fields.String(data_key="objectType", attribute="objectType")
    object_id = fields.Integer(data_key="objectId", attribute="objectId")
    object_guid_id = fields.Constant(None, data_key="objectGuidId", attribute="objectGuidId", allow_none=True)
    object_name = fields.String(data_key="objectName", attribute="objectName", allow_none=True)
    old_version = fields.Integer(data_key="oldVersion", attribute="oldVersion", allow_none=True)
    new_version = fields.Integer(data_key="newVersion", attribute="newVersion", allow_none=True)
    root = fields.Nested(DiffNodeSchema)
    added_count = fields.Integer(data_key="addedCount", attribute="addedCount")
    removed_count = fields.Integer(data_key="removedCount", attribute="removedCount")
    modified_count = fields.Integer(data_key="modifiedCount", attribute="modifiedCount")
    has_changes = fields.Boolean(data_key="hasChanges", attribute="hasChanges")


class ChangeHistoryItemSchema(Schema):
    """JIM's ConfigurationChangeHistoryItem: one version, with its diff against the one before."""

    activity_id = fields.String(data_key="activityId", allow_none=True)
    version = fields.Integer(allow_none=True)
    operation = fields.String()
    initiated_by_type = fields.String(data_key="initiatedByType")
    initiated_by_id = fields.Constant(None, data_key="initiatedById", allow_none=True)
    initiated_by_name = fields.String(data_key="initiatedByName", allow_none=True)
    when = UTCTimestamp()
    reason = fields.String(allow_none=True)
    summary = fields.String()
    diff = fields.Nested(DiffSchema, allow_none=True)


class ChangeDetailSchema(Schema):
    """JIM's ConfigurationChangeDetail: one version's snapshot, and its diff against the one before."""

    activity_id = fields.String(data_key="activityId", allow_none=True)
    version = fields.Integer(allow_none=True)
    operation = fields.String()
    initiated_by_type = fields.String(data_key="initiatedByType")
    initiated_by_name = fields.String(data_key="initiatedByName", allow_none=True)
    when = UTCTimestamp()
    reason = fields.String(allow_none=True)
    snapshot = fields.Nested(SnapshotSchema, allow_none=True)
    diff = fields.Nested(DiffSchema, allow_none=True)


class CompareQuerySchema(QuerySchema):
    """change-history/compare's query: the two versions, any two."""
    from_version = fields.Integer(data_key="fromVersion", required=True, validate=validate.Range(1, ID_MAX))
    to_version = fields.Integer(data_key="toVersion", required=True, validate=validate.Range(1, ID_MAX))


# --- Deleting a connected system ---------------------------------------------------------------------------

class DeletionPreviewSchema(Schema):
    """JIM's ConnectedSystemDeletionPreview, and the object types it would take besides."""

    connected_system_id = fields.Integer(data_key="connectedSystemId")
    connected_system_name = fields.String(data_key="connectedSystemName")
    connected_system_object_count = fields.Integer(data_key="connectedSystemObjectCount")
    sync_rule_count = fields.Integer(data_key="syncRuleCount")
    run_profile_count = fields.Integer(data_key="runProfileCount")
    partition_count = fields.Integer(data_key="partitionCount")
    container_count = fields.Integer(data_key="containerCount")
    object_type_count = fields.Integer(data_key="objectTypeCount")
    pending_export_count = fields.Integer(data_key="pendingExportCount")
    activity_count = fields.Integer(data_key="activityCount")
    joined_mvo_count = fields.Integer(data_key="joinedMvoCount")
    mvos_with_other_connectors_count = fields.Integer(data_key="mvosWithOtherConnectorsCount")
    mvos_with_deletion_rule_count = fields.Integer(data_key="mvosWithDeletionRuleCount")
    mvos_with_grace_period_count = fields.Integer(data_key="mvosWithGracePeriodCount")
    warnings = fields.List(fields.String())
    estimated_deletion_time = fields.String(data_key="estimatedDeletionTime")
    will_run_as_background_job = fields.Boolean(data_key="willRunAsBackgroundJob")
    has_running_sync_operation = fields.Boolean(data_key="hasRunningSyncOperation")


class DeleteQuerySchema(QuerySchema):
    """DELETE's query, as JIM takes it: a reason for the history, and whether to delete the connector space's
    object history (there is none here to delete)."""

    change_reason = CleanString(data_key="changeReason", max_length=2000, multiline=True, load_default=None)
    delete_change_history = fields.Boolean(data_key="deleteChangeHistory", load_default=False)


class DeletionResultSchema(Schema):
    """JIM's ConnectedSystemDeletionResult: a deletion here always completes at once."""

    success = fields.Constant(True)
    outcome = fields.Constant("CompletedImmediately")
    error_message = fields.Constant(None, data_key="errorMessage", allow_none=True)
    worker_task_id = fields.Constant(None, data_key="workerTaskId", allow_none=True)
    activity_id = fields.String(data_key="activityId")


class HealthSchema(Schema):
    """A health check's answer, as JIM's: what it found and when."""

    status = fields.String()
    timestamp = UTCTimestamp()


class VersionSchema(Schema):
    product = fields.String()
    version = fields.String()


class ErrorSchema(Schema):
    """The one envelope of every error."""

    code = fields.String()
    message = fields.String()
    details = fields.Raw(allow_none=True)
    validation_errors = fields.Dict(
        keys=fields.String(), values=fields.List(fields.String()), data_key="validationErrors", allow_none=True
    )
    timestamp = UTCTimestamp()


# What a directory told of itself (JIM's ConnectorCapabilityDto, ConnectedSystemDirectoryServerDto and
# ConnectedSystemPasswordPolicyResponse).

class CapabilitySchema(Schema):
    """A fact the connector detected about the system at its last schema import."""

    name = fields.String()
    value = fields.String()


class DirectoryServerSchema(Schema):
    """A domain controller of the system's directory, and its Active Directory site."""

    host_name = fields.String(data_key="hostName")
    site = fields.String(allow_none=True)


class PasswordPolicySchema(Schema):
    """The password policy the last schema import read: null is "could not be read", never "no such rule"."""

    discovered = UTCTimestamp(allow_none=True)
    minimum_length = fields.Integer(data_key="minimumLength", allow_none=True)
    complexity_required = fields.Boolean(data_key="complexityRequired", allow_none=True)
    required_character_class_count = fields.Integer(data_key="requiredCharacterClassCount", allow_none=True)
    recognised_character_classes = fields.List(fields.String(), data_key="recognisedCharacterClasses")
    password_history_length = fields.Integer(data_key="passwordHistoryLength", allow_none=True)
    maximum_password_age_days = fields.Integer(data_key="maximumPasswordAgeDays", allow_none=True)
    minimum_password_age_days = fields.Integer(data_key="minimumPasswordAgeDays", allow_none=True)
    fine_grained_policy_signal = fields.String(data_key="fineGrainedPolicySignal",
                                               validate=validate.OneOf(["Absent", "Present", "CouldNotDetermine"]))
    has_any_discovered_constraint = fields.Boolean(data_key="hasAnyDiscoveredConstraint")


# Every schema is built once, here. Building one deep-copies its declared fields (hundreds of calls), while
# load and dump keep nothing between calls, so all requests can share one instance.
connector_definition_schema = ConnectorDefinitionSchema()
connected_system_schema = ConnectedSystemSchema()
create_schema = ConnectedSystemCreateSchema()
# One update schema per connector: its settingValues field checks against that schema's connector.
update_schemas = {connector.id: ConnectedSystemUpdateSchema(connector) for connector in CONNECTORS.values()}
list_query_schema = ListQuerySchema()
page_query_schema = PageQuerySchema()
partitions_query_schema = PartitionsQuerySchema()
object_types_query_schema = ObjectTypesQuerySchema()
summary_page_schema = PageSchema(ConnectedSystemSummarySchema())
history_page_schema = PageSchema(ChangeRecordSchema())
settings_validation_schema = SettingsValidationSchema()
import_options_schema = ImportOptionsSchema()
no_options_schema = NoOptionsSchema()
schema_preview_schema = SchemaPreviewSchema()
object_type_schema = ObjectTypeSchema()
object_type_update_schema = ObjectTypeUpdateSchema()
attribute_schema = AttributeSchema()
attribute_update_schema = AttributeUpdateSchema()
bulk_attributes_update_schema = BulkAttributesUpdateSchema()
bulk_attributes_result_schema = BulkAttributesResultSchema()
selection_update_schema = SelectionUpdateSchema()
container_update_schema = ContainerUpdateSchema()
container_scope_text_schema = ContainerScopeTextSchema()
partition_schema = PartitionSchema()
container_schema = ContainerSchema()
shown_object_types = {"object_type": row_shaper(object_type_schema, nested="attributes"),
                      "attribute": row_shaper(attribute_schema), "summary": row_shaper(ObjectTypeSummarySchema())}
shown_hierarchy = {"partition": row_shaper(partition_schema, nested="containers"),
                   "container": row_shaper(container_schema, nested="child_containers")}
hierarchy_import_schema = HierarchyImportSchema()
actor_schema = ActorSchema()
certificate_read_schemas = {connector.id: ServerCertificateReadSchema(connector) for connector in CONNECTORS.values()}
certificate_trust_schemas = {connector.id: ServerCertificateTrustSchema(connector) for connector in CONNECTORS.values()}
server_certificate_schema = ServerCertificateSchema()
trust_result_schema = TrustResultSchema()
error_schema = ErrorSchema()
run_profile_schema = RunProfileSchema()
run_profile_create_schema = RunProfileCreateSchema()
run_profile_update_schema = RunProfileUpdateSchema()
health_schema = HealthSchema()
deletion_preview_schema = DeletionPreviewSchema()
delete_query_schema = DeleteQuerySchema()
deletion_result_schema = DeletionResultSchema()
change_history_page_schema = PageSchema(ChangeHistoryItemSchema())
change_detail_schema = ChangeDetailSchema()
diff_schema = DiffSchema()
compare_query_schema = CompareQuerySchema()
capability_schema = CapabilitySchema()
directory_server_schema = DirectoryServerSchema()
password_policy_schema = PasswordPolicySchema()
api_key_schema = ApiKeySchema()
api_key_created_schema = ApiKeyCreatedSchema()
api_key_create_schema = ApiKeyCreateSchema()
api_key_update_schema = ApiKeyUpdateSchema()
api_key_delete_query_schema = ApiKeyDeleteQuerySchema()
user_info_schema = UserInfoSchema()
version_schema = VersionSchema()


# --- Full Import: execute, activities, the connector space (JIM's DTOs) ------------------------------------

def time_span(seconds: float | None) -> str | None:
    """A duration as .NET writes a TimeSpan: [d.]hh:mm:ss.fffffff."""
    if seconds is None:
        return None
    ticks = round(seconds * 10_000_000)
    whole, fraction = divmod(ticks, 10_000_000)
    minutes, second = divmod(whole, 60)
    hours, minute = divmod(minutes, 60)
    days, hour = divmod(hours, 24)
    return f"{f'{days}.' if days else ''}{hour:02}:{minute:02}:{second:02}.{fraction:07}"


class ConnectorSpaceQuerySchema(PageQuerySchema):
    """The connector space list's query string, as JIM's: newest first unless sortDescending is false."""

    page_size = fields.Integer(data_key="pageSize", load_default=50, validate=validate.Range(1, 100))
    search = CleanString(max_length=200, load_default=None)
    sort_descending = fields.Boolean(data_key="sortDescending", load_default=True)
    object_type_id = fields.Integer(data_key="objectTypeId", validate=validate.Range(1, INT32_MAX))


class ConnectorSpaceCountQuerySchema(QuerySchema):
    object_type_id = fields.Integer(data_key="objectTypeId", validate=validate.Range(1, INT32_MAX))


class AttributeValuesQuerySchema(PageQuerySchema):
    page_size = fields.Integer(data_key="pageSize", load_default=50, validate=validate.Range(1, 100))
    search = CleanString(max_length=200, load_default=None)


class ClearQuerySchema(QuerySchema):
    delete_change_history = fields.Boolean(data_key="deleteChangeHistory", load_default=True)


class ActivitiesQuerySchema(PageQuerySchema):
    search = CleanString(max_length=200, load_default=None)
    connected_system_id = fields.Integer(data_key="connectedSystemId", validate=validate.Range(1, INT32_MAX))


class RunProfileExecutionSchema(Schema):
    """JIM's RunProfileExecutionResponse."""

    activity_id = fields.String(data_key="activityId")
    task_id = fields.String(data_key="taskId")
    message = fields.String()
    warnings = fields.List(fields.String())


class ActivityHeaderSchema(Schema):
    """JIM's ActivityHeader, from an activity's row: the synchronisation and export counts are zero here."""

    id = fields.String()
    created = UTCTimestamp()
    executed = UTCTimestamp(allow_none=True)
    status = fields.String()
    target_type = fields.Constant("ConnectedSystemRunProfile", data_key="targetType")
    target_operation_type = fields.Constant("Execute", data_key="targetOperationType")
    target_name = fields.String(data_key="targetName")
    target_context = fields.String(data_key="targetContext")
    message = fields.String(allow_none=True)
    initiated_by_type = fields.String(data_key="initiatedByType")
    initiated_by_id = fields.Constant(None, data_key="initiatedById")
    initiated_by_name = fields.String(data_key="initiatedByName", allow_none=True)
    objects_to_process = fields.Integer(data_key="objectsToProcess")
    objects_processed = fields.Integer(data_key="objectsProcessed")
    execution_time = fields.Method("dump_execution_time", data_key="executionTime", allow_none=True)
    total_activity_time = fields.Method("dump_total_time", data_key="totalActivityTime", allow_none=True)
    connected_system_run_type = fields.String(attribute="run_type", data_key="connectedSystemRunType")
    total_added = fields.Integer(data_key="totalAdded")
    total_updated = fields.Integer(data_key="totalUpdated")
    total_deleted = fields.Integer(data_key="totalDeleted")
    total_projected = fields.Constant(0, data_key="totalProjected")
    total_joined = fields.Constant(0, data_key="totalJoined")
    total_attribute_flows = fields.Constant(0, data_key="totalAttributeFlows")
    total_disconnected = fields.Constant(0, data_key="totalDisconnected")
    total_exported = fields.Constant(0, data_key="totalExported")
    total_deprovisioned = fields.Constant(0, data_key="totalDeprovisioned")
    total_created = fields.Constant(0, data_key="totalCreated")
    total_pending_exports = fields.Constant(0, data_key="totalPendingExports")
    total_errors = fields.Integer(data_key="totalErrors")
    child_activity_count = fields.Constant(0, data_key="childActivityCount")

    def dump_execution_time(self, row):
        return time_span((row.completed - row.executed).total_seconds()) if row.completed and row.executed else None

    def dump_total_time(self, row):
        return time_span((row.completed - row.created).total_seconds()) if row.completed else None


class ActivityStatsSchema(Schema):
    """JIM's ActivityRunProfileExecutionStatsDto of an import."""

    total_objects_processed = fields.Integer(attribute="objects_processed", data_key="totalObjectsProcessed")
    total_object_change_count = fields.Method("dump_changes", data_key="totalObjectChangeCount")
    total_unchanged = fields.Integer(data_key="totalUnchanged")
    total_object_errors = fields.Integer(attribute="total_errors", data_key="totalObjectErrors")
    total_object_types = fields.Integer(data_key="totalObjectTypes")
    total_cso_adds = fields.Integer(attribute="total_added", data_key="totalCsoAdds")
    total_cso_updates = fields.Integer(attribute="total_updated", data_key="totalCsoUpdates")
    total_cso_deletes = fields.Integer(attribute="total_deleted", data_key="totalCsoDeletes")
    total_projections = fields.Constant(0, data_key="totalProjections")
    total_joins = fields.Constant(0, data_key="totalJoins")
    total_attribute_flows = fields.Constant(0, data_key="totalAttributeFlows")
    total_disconnections = fields.Constant(0, data_key="totalDisconnections")
    total_exported = fields.Constant(0, data_key="totalExported")
    total_deprovisioned = fields.Constant(0, data_key="totalDeprovisioned")
    total_pending_exports = fields.Constant(0, data_key="totalPendingExports")
    total_created = fields.Constant(0, data_key="totalCreated")
    entries_discarded = fields.Constant({}, data_key="entriesDiscardedByExcludedContainer")
    total_discarded = fields.Constant(0, data_key="totalEntriesDiscardedByExclusion")

    def dump_changes(self, row):
        return row.total_added + row.total_updated + row.total_deleted


class ActivityDetailSchema(ActivityHeaderSchema):
    """JIM's ActivityDetailDto, and the configuration version the run read its configuration at."""

    parent_activity_id = fields.Constant(None, data_key="parentActivityId")
    warning_message = fields.String(data_key="warningMessage", allow_none=True)
    error_message = fields.String(data_key="errorMessage", allow_none=True)
    error_stack_trace = fields.Constant(None, data_key="errorStackTrace")
    connected_system_id = fields.Integer(data_key="connectedSystemId")
    connected_system_run_profile_id = fields.Integer(attribute="run_profile_id",
                                                     data_key="connectedSystemRunProfileId")
    execution_stats = fields.Function(lambda row: ActivityStatsSchema().dump(row), data_key="executionStats")
    phases = fields.Constant([])
    configuration_version = fields.Integer(data_key="configurationVersion", allow_none=True)


class ActivityProgressSchema(Schema):
    """JIM's ActivityProgressDto: what Start-JIMRunProfile -Wait polls. ``row`` and ``now`` are given."""

    id = fields.Function(lambda given: given["row"].id)
    status = fields.Function(lambda given: given["row"].status)
    message = fields.Function(lambda given: given["row"].message, allow_none=True)
    objects_processed = fields.Function(lambda given: given["row"].objects_processed, data_key="objectsProcessed")
    objects_to_process = fields.Function(lambda given: given["row"].objects_to_process, data_key="objectsToProcess")
    percent_complete = fields.Method("dump_percent", data_key="percentComplete", allow_none=True)
    elapsed_seconds = fields.Function(lambda given: round(given["elapsed"], 3), data_key="elapsedSeconds")
    objects_per_second = fields.Method("dump_rate", data_key="objectsPerSecond", allow_none=True)
    estimated_seconds_remaining = fields.Constant(None, data_key="estimatedSecondsRemaining")
    target_type = fields.Constant("ConnectedSystemRunProfile", data_key="targetType")
    run_type = fields.Function(lambda given: given["row"].run_type, data_key="runType")
    operation_counts = fields.Function(lambda given: {
        "Added": given["row"].total_added, "Updated": given["row"].total_updated,
        "Deleted": given["row"].total_deleted, "Unchanged": given["row"].total_unchanged},
        data_key="operationCounts")
    total_errors = fields.Function(lambda given: given["row"].total_errors, data_key="totalErrors")
    retrieved_at = fields.Function(lambda given: UTCTimestamp.text(given["now"]), data_key="retrievedAt")
    phases = fields.Constant([])
    current_phase = fields.Constant(None, data_key="currentPhase")
    current_phase_number = fields.Constant(None, data_key="currentPhaseNumber")
    total_phases = fields.Constant(0, data_key="totalPhases")

    def dump_percent(self, given):
        row = given["row"]
        if row.objects_to_process <= 0:
            return None
        return round(min(100.0, max(0.0, row.objects_processed / row.objects_to_process * 100)), 1)

    def dump_rate(self, given):
        return round(given["row"].objects_processed / given["elapsed"], 1) if given["elapsed"] > 0 else None


class ActivityItemSchema(Schema):
    """JIM's ActivityRunProfileExecutionItemHeader, and the object it concerns."""

    id = fields.String()
    external_id_value = fields.String(attribute="external_id", data_key="externalIdValue", allow_none=True)
    display_name = fields.String(data_key="displayName", allow_none=True)
    connected_system_object_type = fields.String(attribute="object_type", data_key="connectedSystemObjectType",
                                                 allow_none=True)
    object_change_type = fields.String(attribute="change_type", data_key="objectChangeType")
    error_type = fields.String(data_key="errorType", allow_none=True)
    outcome_summary = fields.String(data_key="outcomeSummary", allow_none=True)
    connected_system_object_id = fields.String(attribute="object_id", data_key="connectedSystemObjectId",
                                               allow_none=True)


class ConnectorSpaceObjectSchema(Schema):
    """JIM's ConnectedSystemObjectHeader, from a row with its type's name and id attributes' names."""

    id = fields.String()
    connected_system_id = fields.Integer(data_key="connectedSystemId")
    display_name = fields.String(data_key="displayName", allow_none=True)
    external_id_value = fields.String(attribute="external_id", data_key="externalIdValue")
    external_id_attribute_name = fields.String(data_key="externalIdAttributeName", allow_none=True)
    secondary_external_id_value = fields.String(attribute="secondary_external_id",
                                                data_key="secondaryExternalIdValue", allow_none=True)
    secondary_external_id_attribute_name = fields.String(data_key="secondaryExternalIdAttributeName",
                                                         allow_none=True)
    created = UTCTimestamp()
    last_updated = UTCTimestamp(data_key="lastUpdated", allow_none=True)
    type_id = fields.Integer(attribute="object_type_id", data_key="typeId")
    type_name = fields.String(data_key="typeName")
    status = fields.String()
    join_type = fields.Constant("NotJoined", data_key="joinType")
    date_joined = fields.Constant(None, data_key="dateJoined")
    pending_display_name = fields.Constant(None, data_key="pendingDisplayName")
    pending_external_id = fields.Constant(None, data_key="pendingExternalId")
    pending_secondary_external_id = fields.Constant(None, data_key="pendingSecondaryExternalId")
    has_pending_export = fields.Constant(False, data_key="hasPendingExport")
    pending_export_id = fields.Constant(None, data_key="pendingExportId")


class AttributeValueSchema(Schema):
    """JIM's ConnectedSystemObjectAttributeValueDto: the one field of the attribute's type set. A Reference is
    kept as the referenced object's external id or DN (stringValue); referenceValueId stays null."""

    id = fields.String()
    attribute_id = fields.Integer(data_key="attributeId")
    attribute_name = fields.String(data_key="attributeName")
    string_value = fields.String(data_key="stringValue", load_default=None, dump_default=None, allow_none=True)
    date_time_value = fields.String(data_key="dateTimeValue", dump_default=None, allow_none=True)
    int_value = fields.Integer(data_key="intValue", dump_default=None, allow_none=True)
    long_value = fields.Integer(data_key="longValue", dump_default=None, allow_none=True)
    decimal_value = fields.Float(data_key="decimalValue", dump_default=None, allow_none=True)
    byte_value = fields.String(data_key="byteValue", dump_default=None, allow_none=True)
    guid_value = fields.String(data_key="guidValue", dump_default=None, allow_none=True)
    bool_value = fields.Boolean(data_key="boolValue", dump_default=None, allow_none=True)
    reference_value_id = fields.Constant(None, data_key="referenceValueId")


class AttributeValueSummarySchema(Schema):
    attribute_name = fields.String(data_key="attributeName")
    total_count = fields.Integer(data_key="totalCount")
    returned_count = fields.Integer(data_key="returnedCount")
    has_more = fields.Boolean(data_key="hasMore")


class ConnectorSpaceObjectDetailSchema(Schema):
    """JIM's ConnectedSystemObjectDetailDto: each multi-valued attribute's values capped, its summary saying so."""

    id = fields.String()
    created = UTCTimestamp()
    last_updated = UTCTimestamp(data_key="lastUpdated", allow_none=True)
    status = fields.String()
    join_type = fields.Constant("NotJoined", data_key="joinType")
    date_joined = fields.Constant(None, data_key="dateJoined")
    display_name = fields.Method("dump_name", data_key="displayName", allow_none=True)
    connected_system_id = fields.Integer(data_key="connectedSystemId")
    connected_system_name = fields.String(data_key="connectedSystemName")
    type_id = fields.Integer(attribute="object_type_id", data_key="typeId")
    type_name = fields.String(data_key="typeName")
    metaverse_object_id = fields.Constant(None, data_key="metaverseObjectId")
    metaverse_object_display_name = fields.Constant(None, data_key="metaverseObjectDisplayName")
    attribute_values = fields.Nested(AttributeValueSchema, many=True, data_key="attributeValues")
    attribute_value_summaries = fields.Nested(AttributeValueSummarySchema, many=True,
                                              data_key="attributeValueSummaries", allow_none=True)

    def dump_name(self, shown):
        return shown["display_name"] or shown["external_id"]  # JIM's NameOrId


connector_space_query_schema = ConnectorSpaceQuerySchema()
connector_space_count_query_schema = ConnectorSpaceCountQuerySchema()
attribute_values_query_schema = AttributeValuesQuerySchema()
clear_query_schema = ClearQuerySchema()
activities_query_schema = ActivitiesQuerySchema()
run_profile_execution_schema = RunProfileExecutionSchema()
activity_page_schema = PageSchema(ActivityHeaderSchema())
activity_detail_schema = ActivityDetailSchema()
activity_progress_schema = ActivityProgressSchema()
activity_stats_schema = ActivityStatsSchema()
activity_items_page_schema = PageSchema(ActivityItemSchema())
connector_space_page_schema = PageSchema(ConnectorSpaceObjectSchema())
connector_space_object_schema = ConnectorSpaceObjectDetailSchema()
attribute_values_page_schema = PageSchema(AttributeValueSchema())
