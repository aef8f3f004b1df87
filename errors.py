"""Every error the service answers, as the contract's one envelope.

Views and the layers below raise; only this module turns an exception into a response.
"""
import logging

from flask import jsonify
from marshmallow import ValidationError
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException

from connectors.interface import Refused, Unreachable
from models import utcnow
from schemas import error_schema

log = logging.getLogger(__name__)

# The contract's code for each status, for errors that Flask and Werkzeug raise themselves.
CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHORISED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    409: "CONFLICT",
    412: "PRECONDITION_FAILED",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    429: "TOO_MANY_REQUESTS",
    500: "INTERNAL_ERROR",
    502: "BAD_GATEWAY",
    503: "SERVICE_UNAVAILABLE",
}

MESSAGES = {
    400: "The request could not be understood.",
    404: "There is nothing at this address.",
    405: "This address does not serve that method.",
    413: "The body is larger than this service accepts.",
    415: "The body must be JSON, sent with Content-Type: application/json.",
    429: "Too many requests; wait for the seconds in the Retry-After header before trying again.",
    500: "Something went wrong on our side; it has been logged.",
    503: "The database is unavailable; try again shortly.",
}


class ApiError(Exception):
    """An error with its status, the contract's code and a message fit for the client."""

    status = 500

    def __init__(self, message: str, *, headers: dict | None = None, fields: dict | None = None):
        super().__init__(message)
        self.message = message
        self.headers = headers or {}
        self.fields = fields or {}  # beside the envelope's own, for a reader that expects JIM's body


class BadRequest(ApiError):
    status = 400


class Unauthorised(ApiError):
    status = 401

    def __init__(self, message: str):
        super().__init__(message, headers={"WWW-Authenticate": 'ApiKey header="X-Api-Key"'})


class Forbidden(ApiError):
    status = 403


class NotFound(ApiError):
    status = 404


class Conflict(ApiError):
    status = 409


class NameInUse(Conflict):
    """Another connected system already has this name, whatever its case."""

    def __init__(self, name: str):
        super().__init__(f"A connected system named {name!r} already exists.")


class PreconditionFailed(ApiError):
    status = 412


class UnsupportedMediaType(ApiError):
    status = 415


class TooManyRequests(ApiError):
    status = 429

    def __init__(self, retry_after_seconds: int):
        super().__init__(MESSAGES[429], headers={"Retry-After": str(retry_after_seconds)})


class ServiceUnavailable(ApiError):
    status = 503

    def __init__(self, message: str = MESSAGES[503], fields: dict | None = None):
        super().__init__(message, headers={"Retry-After": "5"}, fields=fields)


class NotReady(ServiceUnavailable):
    """/health/ready's 503: the envelope, and JIM's ``status`` and ``reason`` beside it (its ``timestamp`` is
    the envelope's). Unlike JIM's, no exception text: a driver's can name the database's host and user."""

    def __init__(self, reason: str):
        super().__init__(fields={"status": "not_ready", "reason": reason})


def envelope(status: int, message: str, validation_errors: dict | None = None, headers: dict | None = None,
             fields: dict | None = None):
    body = error_schema.dump(
        {
            "code": "VALIDATION_ERROR" if validation_errors else CODES.get(status, "INTERNAL_ERROR"),
            "message": message,
            "details": None,
            "validation_errors": validation_errors,
            "timestamp": utcnow(),
        }
    )
    response = jsonify({**body, **(fields or {})})
    response.status_code = status
    response.headers.update(headers or {})
    return response


def flatten(messages: dict, prefix: str = "") -> dict[str, list[str]]:
    """marshmallow's nested messages as the envelope's flat names: ``settingValues.4``."""
    flat = {}
    for key, value in messages.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict):
            flat.update(flatten(value, name))
        else:
            flat[name] = list(value)
    return flat


def is_unreachable(error: DBAPIError) -> bool:
    """A lost or refused connection, a timeout or a lock wait that ran out: the store, not the request."""
    return isinstance(error, OperationalError) or error.connection_invalidated


def init_app(app):
    @app.errorhandler(ApiError)
    def api_error(error: ApiError):
        return envelope(error.status, error.message, headers=error.headers, fields=error.fields)

    @app.errorhandler(Refused)
    def refused(error: Refused):
        """The connected system answered and refused: the settings (or the system) need changing."""
        return envelope(400, error.message)

    @app.errorhandler(Unreachable)
    def unreachable(error: Unreachable):
        return envelope(502, error.message)

    @app.errorhandler(ValidationError)
    def validation_error(error: ValidationError):
        return envelope(400, "One or more fields are invalid.", flatten(error.normalized_messages()))

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        headers = {}
        if error.code == 405 and getattr(error, "valid_methods", None):
            headers["Allow"] = ", ".join(error.valid_methods)
        return envelope(error.code, MESSAGES.get(error.code, error.description), headers=headers)

    @app.errorhandler(DBAPIError)
    def database_error(error: DBAPIError):
        if is_unreachable(error):
            # Only the class: a driver's message can quote the statement's parameters.
            log.error("database unavailable: %s", type(error.orig).__name__)
            return api_error(ServiceUnavailable())
        return unexpected_error(error)

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception):
        log.exception("unexpected error")
        return envelope(500, MESSAGES[500])
