"""Conditional requests: a connected system's strong ETag, ``If-Match`` on writes, ``If-None-Match`` on reads.

Each takes the system as ``systems`` reads it, or just its ``id`` and ``version`` (``systems.peek``).
"""
from flask import Response, abort, request
from werkzeug.http import quote_etag

from errors import BadRequest, PreconditionFailed


def tag_of(system) -> str:
    """The entity tag, unquoted. Ids are never reused, and ``version`` moves on every change and only then."""
    return f"{system.id}-{system.version}"


def tagged(system, headers: dict | None = None) -> dict:
    """An answer's headers, with the strong ETag of the system it carries."""
    return {**(headers or {}), "ETag": quote_etag(tag_of(system))}


def require_match(system):
    """Refuse the write unless ``If-Match``, when sent, names the current tag or is ``*``.

    Called with the system's row locked, so that no other write can slip in between this check and the commit.
    Weak tags never match, as RFC 9110 asks of ``If-Match``.
    """
    if "If-Match" not in request.headers:
        return
    if not request.if_match:
        # Most likely a script whose ETag variable was never set: saying the system changed would mislead.
        raise BadRequest("If-Match is empty: send the ETag that was read, or *.")
    if not request.if_match.contains(tag_of(system)):
        raise PreconditionFailed(
            f"Connected system {system.id} has changed since that ETag was read; read it again and retry."
        )


def stop_if_not_modified(system):
    """Answer 304 with no body when ``If-None-Match`` names the current tag (weakly) or is ``*``."""
    if request.if_none_match.contains_weak(tag_of(system)):
        abort(Response(status=304, headers=tagged(system)))
