"""A database column's JIM type, from the SQL type SQLAlchemy reflected.

As the contract says, with these decisions where it is silent: an unsigned MySQL INT passes 32 bits
(LongNumber) and an unsigned BIGINT passes 64 (Decimal); MySQL's YEAR is a Number; MySQL's BIT(1) is a
Boolean as TINYINT(1) is, and a wider BIT is Binary; a PostgreSQL array is multi-valued, of its element's
type; intervals, money, JSON, enumerations and network addresses are Text.
"""
from sqlalchemy.dialects import mysql
from sqlalchemy.sql import sqltypes
from sqlalchemy.types import TypeEngine

from connectors.interface import AttributeType, Plurality


def attribute_type(column_type: TypeEngine, reference: bool) -> tuple[AttributeType | None, Plurality]:
    """The type (None for one SQLAlchemy did not recognise) and plurality. A foreign key's column is a Reference."""
    plurality = Plurality.SINGLE_VALUED
    if isinstance(column_type, sqltypes.ARRAY):
        column_type, plurality = column_type.item_type, Plurality.MULTI_VALUED
    if reference:
        return AttributeType.REFERENCE, plurality
    if isinstance(column_type, sqltypes.NullType):
        return None, plurality
    return scalar_type(column_type), plurality


def scalar_type(column_type: TypeEngine) -> AttributeType:
    if isinstance(column_type, sqltypes.Boolean) or is_flag(column_type):
        return AttributeType.BOOLEAN
    if isinstance(column_type, sqltypes.Integer):
        unsigned = getattr(column_type, "unsigned", False)
        if isinstance(column_type, sqltypes.BigInteger):
            return AttributeType.DECIMAL if unsigned else AttributeType.LONG_NUMBER
        if unsigned and isinstance(column_type, mysql.INTEGER):
            return AttributeType.LONG_NUMBER
        return AttributeType.NUMBER
    if isinstance(column_type, mysql.YEAR):
        return AttributeType.NUMBER
    if isinstance(column_type, sqltypes.NumericCommon):  # numeric, decimal, real, double, float
        return AttributeType.DECIMAL
    if isinstance(column_type, (sqltypes.Date, sqltypes.DateTime, sqltypes.Time)):
        return AttributeType.DATE_TIME
    if isinstance(column_type, sqltypes.Uuid):
        return AttributeType.GUID
    if isinstance(column_type, (sqltypes.LargeBinary, sqltypes.BINARY, sqltypes.VARBINARY, mysql.BIT)):
        return AttributeType.BINARY
    return AttributeType.TEXT


def is_flag(column_type: TypeEngine) -> bool:
    """MySQL's boolean: TINYINT(1), as BOOLEAN is stored, or a single BIT."""
    return (isinstance(column_type, mysql.TINYINT) and column_type.display_width == 1) or (
        isinstance(column_type, mysql.BIT) and column_type.length == 1)
