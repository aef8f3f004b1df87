"""Inferring an attribute's type from the text values of a column, as the File connector reads them.

A column's type is the one kind all its non-empty values share, widened where one kind holds another: Number
within LongNumber within Decimal. Any other mix is Text, and so is a column with no value at all. The kinds:

- Number: an integer of 32 bits (optional sign, no leading zeros: "007" is an identifier, so Text);
  LongNumber: one of 64 bits; Decimal: a longer integer, or digits, a point and digits ("12.50"), no exponent
  and no thousands separators.
- Boolean: ``true`` or ``false`` in any case (spreadsheets write ``TRUE``); ``1``/``0`` and yes/no are not.
- DateTime: an ISO 8601 date (``2026-12-01``) or date and time (``T`` or a space between them, minutes or
  seconds with an optional fraction, then an optional ``Z`` or UTC offset) that is a real date; a time alone
  and the basic forms without separators (``20261201``) are not.
- Guid: 32 hexadecimal digits grouped 8-4-4-4-12, any case, optionally in braces as .NET writes them.

Values are compared with the white space around them removed.
"""
import re
from datetime import datetime

from connectors.interface import AttributeType as T

INTEGER = re.compile(r"[+-]?(0|[1-9][0-9]*)")
DECIMAL = re.compile(r"[+-]?[0-9]+\.[0-9]+")
DATE_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
                       r"([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}([.,][0-9]+)?)?(Z|[+-][0-9]{2}(:?[0-9]{2})?)?)?")
GUID = re.compile(r"(\{)?[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}(?(1)\})")
BOOLEANS = {"true", "false"}

INT32 = range(-2**31, 2**31)
INT64 = range(-2**63, 2**63)
INT64_DIGITS = len(str(2**63))
NUMERIC = (T.NUMBER, T.LONG_NUMBER, T.DECIMAL)  # each holds the ones before it


def kind_of(value: str) -> T:
    """The type of one non-empty value."""
    if INTEGER.fullmatch(value):
        if len(value.lstrip("+-")) > INT64_DIGITS:  # found without int(), which refuses over 4,300 digits
            return T.DECIMAL
        number = int(value)
        return T.NUMBER if number in INT32 else T.LONG_NUMBER if number in INT64 else T.DECIMAL
    if DECIMAL.fullmatch(value):
        return T.DECIMAL
    if value.lower() in BOOLEANS:
        return T.BOOLEAN
    if DATE_TIME.fullmatch(value):
        try:
            datetime.fromisoformat(value)
            return T.DATE_TIME
        except ValueError:  # the shape of a date, not a real one (2026-02-30)
            return T.TEXT
    if GUID.fullmatch(value):
        return T.GUID
    return T.TEXT


def widen(known: T | None, kind: T) -> T:
    """The type of a column whose values so far were ``known`` once it also holds a value of ``kind``."""
    if known is None or known == kind:
        return kind
    if known in NUMERIC and kind in NUMERIC:
        return max(known, kind, key=NUMERIC.index)
    return T.TEXT


class ColumnType:
    """The type of one column, inferred value by value, so that no column is held in memory."""

    def __init__(self):
        self.known: T | None = None

    def add(self, value: str):
        value = value.strip()
        if value and self.known is not T.TEXT:  # once Text, always Text: no need to look further
            self.known = widen(self.known, kind_of(value))

    @property
    def type(self) -> T:
        return self.known or T.TEXT
