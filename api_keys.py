"""API keys over the REST API (JIM's ``/apikeys``): read, create, change and delete them.

Two rules guard the writes. The infrastructure key belongs to its environment (``JIM_INFRASTRUCTURE_API_KEY``,
which the service ensures at start-up), so the API changes nothing of it. And no write may leave the service
without a working Administrator key: a key cannot disable, demote, expire or delete itself out of the last
Administrator access. The writes to keys are serialised (``FOR UPDATE`` on PostgreSQL, the write lock on
SQLite), so two Administrators disabling each other at once cannot both succeed.
"""
import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, or_, select, update

from auth import Principal, create_key
from database import db, write_transaction
from errors import Conflict, NotFound
from models import ApiKey, Role, utcnow

log = logging.getLogger(__name__)
KEYS = ApiKey.__table__


@dataclass(frozen=True)
class StoredKey:
    """A key as the API shows it: never the key itself."""

    public_id: str
    name: str
    description: str | None
    prefix: str
    created: datetime
    expires_at: datetime | None
    is_enabled: bool  # neither disabled nor revoked
    is_infrastructure: bool
    roles: tuple[Role, ...]


def shown(key) -> StoredKey:
    """A row of the table, or its entity, as the API shows it."""
    return StoredKey(key.public_id, key.name, key.description, key.prefix, key.created, key.expires_at,
                     key.enabled and key.revoked_at is None, key.is_infrastructure,
                     () if key.role is None else (Role(key.role),))


def read_all() -> list[StoredKey]:
    rows = db.session.connection().execute(select(KEYS).order_by(KEYS.c.created, KEYS.c.id))
    return [shown(row) for row in rows]


def read(public_id: str) -> StoredKey:
    return shown(find(db.session.connection(), public_id))


def find(connection, public_id: str):
    row = connection.execute(select(KEYS).where(KEYS.c.public_id == public_id)).one_or_none()
    if row is None:
        raise NotFound(f"There is no API key {public_id}.")
    return row


def create(fields: dict, by: Principal) -> tuple[StoredKey, str]:
    """A new key in JIM's format; returned with its plaintext, which is stored nowhere."""
    key, plaintext = create_key(fields["name"], fields["role"], fields.get("expires_at"),
                                description=fields.get("description"))
    record("created", key, by, fields.get("change_reason"))
    return shown(key), plaintext


def change(public_id: str, changes: dict, by: Principal) -> StoredKey:
    """Only the fields given change; refused, and nothing written, by either rule."""
    values = {name: value for name, value in changes.items() if name != "change_reason"}
    if values.get("role") is not None:
        values["role"] = str(values["role"])
    with write_transaction() as connection:
        key = locked_for_change(connection, public_id)
        if changes.get("enabled") and key.revoked_at is not None:
            raise Conflict(f"API key {public_id} was revoked (api-key revoke), and a revoked key is never enabled "
                           "again: create a new one.")
        if values:
            connection.execute(update(KEYS).where(KEYS.c.id == key.id).values(**values))
        require_an_administrator(connection)
    record("changed", key, by, changes.get("change_reason"))
    return read(public_id)


def remove(public_id: str, by: Principal, reason: str | None):
    with write_transaction() as connection:
        key = locked_for_change(connection, public_id)
        connection.execute(delete(KEYS).where(KEYS.c.id == key.id))
        require_an_administrator(connection)
    record("deleted", key, by, reason)


def locked_for_change(connection, public_id: str):
    """The key, every key's row locked (PostgreSQL; SQLite's write lock is held already); refused for the
    infrastructure key."""
    connection.execute(select(KEYS.c.id).with_for_update())
    key = find(connection, public_id)
    if key.is_infrastructure:
        raise Conflict("This is the infrastructure API key, which JIM_INFRASTRUCTURE_API_KEY manages: the API "
                       "changes nothing of it. Change or unset that setting instead.")
    return key


def require_an_administrator(connection):
    """After the write, some key still works as an Administrator; else the write is refused and rolled back.
    The caller is one (it is allowed to write), so only a change to its own key can take the last one."""
    now = utcnow()
    working = connection.scalar(select(func.count()).select_from(KEYS).where(
        KEYS.c.role == str(Role.ADMINISTRATOR), KEYS.c.enabled, KEYS.c.revoked_at.is_(None),
        or_(KEYS.c.expires_at.is_(None), KEYS.c.expires_at > now)))
    if not working:
        raise Conflict("This would leave no working Administrator key: the key you call with is the last one. "
                       "Create another Administrator key first.")


def record(what: str, key, by: Principal, reason: str | None):
    """API keys keep no change history here: their changes are logged, with the reason given."""
    log.info("API key %s %s (%s) %s by %s%s", key.public_id, key.prefix, key.name, what, by.prefix,
             f": {reason}" if reason else "")
