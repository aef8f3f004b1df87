"""API keys and roles: who is calling, and may they do this.

A new key is JIM's format, ``jim_ak_`` and 64 hexadecimal characters (256 random bits); keys made before,
``jim_`` and 43 URL-safe characters, keep working. Only its SHA-256 hash and a short display prefix are
stored, so the key itself exists only with its owner.
"""
import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from functools import wraps

from flask import g, request
from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError

from database import db
from errors import Forbidden, Unauthorised
from models import ApiKey, Role, key_status, utcnow

KEY_PREFIX = "jim_ak_"  # JIM's
DISPLAY_PREFIX_LENGTH = 12  # "jim_" and eight characters: enough to tell keys apart, useless to an attacker
# Every key this service has made: JIM's format, and the jim_ and 43 URL-safe characters it made before.
# fullmatch: "$" would let a trailing newline through.
KEY_SHAPE = re.compile(r"jim_[A-Za-z0-9_-]{43,200}")

KEYS = ApiKey.__table__
# Built once, with a bound parameter: every request runs it, and building it each time would cost more than it.
KEY_BY_HASH = select(
    KEYS.c.id, KEYS.c.name, KEYS.c.prefix, KEYS.c.role, KEYS.c.expires_at, KEYS.c.revoked_at, KEYS.c.enabled
).where(KEYS.c.key_hash == bindparam("key_hash"))


@dataclass(frozen=True)
class Principal:
    """The caller, as the rest of the request needs it; plain data, so it outlives the session."""

    key_id: int
    name: str
    prefix: str
    role: Role | None  # None: a key with no role, which may only ask who it is


def generate_key() -> str:
    return KEY_PREFIX + secrets.token_hex(32)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(name: str, role: Role | None, expires_at: datetime | None = None, key: str | None = None,
               description: str | None = None, is_infrastructure: bool = False) -> tuple[ApiKey, str]:
    """Store a new key and return it with its plaintext, which is not kept anywhere."""
    key = key or generate_key()
    api_key = ApiKey(
        name=name,
        description=description,
        prefix=key[:DISPLAY_PREFIX_LENGTH],
        key_hash=hash_key(key),
        role=None if role is None else str(role),
        created=utcnow(),
        expires_at=expires_at,
        is_infrastructure=is_infrastructure,
    )
    db.session.add(api_key)
    db.session.commit()
    return api_key, key


def ensure_infrastructure_key(key: str | None):
    """Make JIM_INFRASTRUCTURE_API_KEY an Administrator key, so a fresh deployment can be driven at once."""
    if not key:
        return
    if not KEY_SHAPE.fullmatch(key):
        raise ValueError(
            "JIM_INFRASTRUCTURE_API_KEY must be 'jim_' and at least 43 URL-safe characters; make one with: "
            "python -c \"import secrets; print('jim_ak_' + secrets.token_hex(32))\""
        )
    existing = db.session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_key(key)))
    if existing is not None:
        if not existing.is_infrastructure:  # a key made otherwise, named the infrastructure key since
            existing.is_infrastructure = True
            db.session.commit()
        return
    try:
        create_key("infrastructure", Role.ADMINISTRATOR, key=key, is_infrastructure=True)
    except IntegrityError:
        db.session.rollback()  # another worker created it at the same moment


def identify() -> Principal | None:
    """The caller if the request's key is valid, else None; looked up once per request.

    The rate limits need this before the view runs (a key that does not authenticate counts against the
    client's address), and the view's ``requires`` then reuses it.
    """
    if "caller" not in g:
        g.caller = lookup(request.headers.get("X-Api-Key", ""))
    return g.caller


def caller() -> Principal | None:
    """Who this request was identified as, without looking anything up: None before ``identify`` (or when
    the key is not valid). A view behind ``requires`` always has one."""
    return g.get("caller")


def lookup(key: str) -> Principal | None:
    """The key's one row, read afresh on every request, so that a revocation or an expiry applies at once.

    A plain Core row, not an entity, read on the session's connection: it is read on every request, and the
    ORM's loading would cost several times the query.
    """
    if not KEY_SHAPE.fullmatch(key):
        return None
    row = db.session.connection().execute(KEY_BY_HASH, {"key_hash": hash_key(key)}).one_or_none()
    if row is None or key_status(row.revoked_at, row.enabled, row.expires_at, utcnow()) != "active":
        return None
    return Principal(row.id, row.name, row.prefix, None if row.role is None else Role(row.role))


def authenticate() -> Principal:
    if not request.headers.get("X-Api-Key", ""):
        raise Unauthorised("Authentication required: send an API key in the X-Api-Key header.")
    principal = identify()
    # One answer for unknown, revoked, disabled and expired keys: a caller learns nothing about which keys exist.
    if principal is None:
        raise Unauthorised("The API key is not valid: it is unknown, revoked, disabled or expired.")
    return principal


def requires(role: Role | None):
    """The view needs a valid key; an Administrator may do everything, a Reader only read, a key with no role
    only what needs no role (``None``: who is calling)."""

    def decorator(view):
        @wraps(view)
        def guarded(*args, **kwargs):
            principal = authenticate()
            if role is not None and principal.role is None:
                raise Forbidden("This API key has no role: give it Administrator or Reader.")
            if role is Role.ADMINISTRATOR and principal.role is not Role.ADMINISTRATOR:
                raise Forbidden("This needs an API key with the Administrator role.")
            return view(*args, **kwargs)

        return guarded

    return decorator
