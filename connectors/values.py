"""An attribute's values as its type holds them, from what a system gives: text (a file's cells, LDAP's
values) or a driver's own Python values (SQL's rows, SCIM's JSON).

The types: Text and Reference ``str``; Number and LongNumber ``int``; Decimal ``Decimal``; Boolean ``bool``;
DateTime ``datetime`` in UTC (a value without a zone is taken as UTC, a date as its midnight); Guid
``uuid.UUID``; Binary ``bytes`` (base64 in text). A value that is not one of its type raises ``ValueError``.
"""
import base64
import binascii
import json
import re
import uuid
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation

from connectors.interface import AttributeType as T
from connectors.interface import ImportedObject, ObjectTypeScope

INTEGER = re.compile(r"[+-]?[0-9]+")
# LDAP's Generalized Time (RFC 4517 3.3.13) as directories write it: 20261203062100Z, 20261203062100.5+0100.
GENERALIZED_TIME = re.compile(r"([0-9]{4})([0-9]{2})([0-9]{2})([0-9]{2})([0-9]{2})?([0-9]{2})?([.,][0-9]+)?"
                              r"(Z|[+-][0-9]{4})?")
BOOLEANS = {"true": True, "false": False}


def from_text(text: str, attribute_type: T):
    """The value ``text`` spells, as ``attribute_type`` holds it."""
    if attribute_type in (T.TEXT, T.REFERENCE):
        return text
    value = text.strip()
    if attribute_type in (T.NUMBER, T.LONG_NUMBER):
        if not INTEGER.fullmatch(value) or len(value) > 20:  # no int() of 4,300 digits; 20 spell any 64 bits
            raise ValueError("not an integer")
        return int(value)
    if attribute_type is T.DECIMAL:
        return decimal(value)
    if attribute_type is T.BOOLEAN:
        if value.lower() not in BOOLEANS:
            raise ValueError("not true or false")
        return BOOLEANS[value.lower()]
    if attribute_type is T.DATE_TIME:
        return date_time(value)
    if attribute_type is T.GUID:
        return uuid.UUID(value)
    if attribute_type is T.BINARY:
        try:
            return base64.b64decode(value, validate=True)
        except binascii.Error:
            raise ValueError("not base64") from None
    raise ValueError(f"no type {attribute_type}")


def decimal(value: str) -> Decimal:
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise ValueError("not a number") from None
    if not number.is_finite():
        raise ValueError("not a finite number")
    return number


def date_time(value: str) -> datetime:
    found = GENERALIZED_TIME.fullmatch(value)
    if found:
        year, month, day, hour, minute, second, fraction, zone = found.groups()
        moment = datetime(int(year), int(month), int(day), int(hour), int(minute or 0), int(second or 0),
                          round(float("0." + fraction[1:]) * 1_000_000) if fraction else 0)
        if zone and zone != "Z":
            return datetime.fromisoformat(moment.isoformat() + zone[:3] + ":" + zone[3:]).astimezone(UTC)
        return moment.replace(tzinfo=UTC)
    return in_utc(datetime.fromisoformat(value))


def in_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def from_native(value, attribute_type: T):
    """A driver's value (or JSON's) as ``attribute_type`` holds it."""
    if isinstance(value, str):
        return from_text(value, attribute_type)
    if attribute_type is T.BOOLEAN and isinstance(value, int):  # MySQL's TINYINT(1), a BIT(1) read as 0/1
        return bool(value)
    if attribute_type is T.BOOLEAN and isinstance(value, bytes) and len(value) == 1:
        return value != b"\x00"
    if attribute_type in (T.NUMBER, T.LONG_NUMBER) and isinstance(value, int) and not isinstance(value, bool):
        return value
    if attribute_type is T.DECIMAL and isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return value if isinstance(value, Decimal) else decimal(str(value))
    if attribute_type is T.DATE_TIME:
        if isinstance(value, datetime):
            return in_utc(value)
        if isinstance(value, date):
            return datetime(value.year, value.month, value.day, tzinfo=UTC)
        if isinstance(value, time):  # a time of day is no point in time: kept as it is written
            return value.isoformat()
    if attribute_type is T.GUID and isinstance(value, uuid.UUID):
        return value
    if attribute_type is T.BINARY and isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    if attribute_type in (T.TEXT, T.REFERENCE) and isinstance(value, (dict, list)):  # a JSON column, as JSON
        return json.dumps(value, ensure_ascii=False)
    if attribute_type in (T.TEXT, T.REFERENCE):
        return value if isinstance(value, str) else str(value)
    raise ValueError(f"a {type(value).__name__}, not a {attribute_type}")


def external_id_text(value) -> str:
    """An external id as the connector space keys it: text (a GUID in its usual form, bytes as hexadecimal)."""
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def imported(object_type: ObjectTypeScope, found, convert) -> ImportedObject:
    """The object of ``object_type`` whose raw values ``found(attribute)`` gives (a list, empty when none),
    each made its attribute's type by ``convert(value, type)``; what cannot be is left out, and told."""
    values, problems = {}, []
    for attribute in object_type.attributes:
        raw_values = found(attribute)
        try:
            typed = [convert(raw, attribute.type) for raw in raw_values]
        except (ValueError, TypeError, OverflowError):  # told value by value, the others kept
            typed = []
            for raw in raw_values:
                try:
                    typed.append(convert(raw, attribute.type))
                except (ValueError, TypeError, OverflowError):
                    problems.append(f"A value of {attribute.name} is not a {attribute.type} and was left out.")
        if attribute.multi_valued:
            values[attribute.name] = typed
        elif typed:
            values[attribute.name] = typed[0]
            if len(typed) > 1:
                problems.append(f"{attribute.name} is single-valued and has {len(typed)} values; the first was kept.")
    external_id = values.get(object_type.external_id)
    if isinstance(external_id, list):
        external_id = external_id[0] if external_id else None
    secondary = values.get(object_type.secondary_external_id) if object_type.secondary_external_id else None
    if isinstance(secondary, list):
        secondary = secondary[0] if secondary else None
    if external_id is None:
        problems.append(f"It has no value of its external id, {object_type.external_id}.")
    return ImportedObject(object_type.name, None if external_id is None else external_id_text(external_id),
                          None if secondary is None else external_id_text(secondary), values, tuple(problems))
