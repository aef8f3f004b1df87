"""Logs as JSON lines on stdout: one line per request, and every other line carrying the request's id.

The request id is the client's ``X-Request-ID`` when it is sane (at most 128 safe characters), else a new
one; it is echoed on the answer so that a client can quote it. The per-request line holds the method, the
path without its query, the status, the duration and the key's display prefix: never a header, a key or
a body.
"""
import json
import logging
import re
import sys
import time
import uuid
from datetime import UTC, datetime

from flask import g, has_request_context, request

from auth import caller

REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")

log = logging.getLogger("jim.request")


class JSONFormatter(logging.Formatter):
    """A record as one JSON object on one line; a traceback is a field, so it cannot split the line."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds").replace(
                "+00:00", "Z"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if getattr(record, "request_id", None):
            line["requestId"] = record.request_id
        line.update(getattr(record, "fields", {}))
        if record.exc_info:
            line["traceback"] = self.formatException(record.exc_info)
        return json.dumps(line)  # ASCII, escapes included: a client's path cannot break the line or stdout


def make_record_with_request_id(make_record):
    """Every record made while a request is served carries its id, whichever handler formats it."""

    def make_record_with_id(*args, **kwargs):
        record = make_record(*args, **kwargs)
        record.request_id = g.get("request_id") if has_request_context() else None
        return record

    make_record_with_id.adds_request_id = True
    return make_record_with_id


def configure_logging(level: str):
    """Logs go to stdout, where gunicorn and PaaS platforms collect them."""
    if not getattr(logging.getLogRecordFactory(), "adds_request_id", False):
        logging.setLogRecordFactory(make_record_with_request_id(logging.getLogRecordFactory()))
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(JSONFormatter())
        root.addHandler(handler)
        root.setLevel(level)


def init_app(app):
    """Registered before every other extension, so the id and the clock cover all they do."""
    app.before_request(start)
    app.after_request(finish)


def start():
    g.request_started = time.perf_counter()
    supplied = request.headers.get("X-Request-ID", "")
    g.request_id = supplied if REQUEST_ID.fullmatch(supplied) else uuid.uuid4().hex


def finish(response):
    response.headers["X-Request-ID"] = g.request_id
    fields = {
        "method": request.method,
        "path": request.path,
        "status": response.status_code,
        "durationMs": round((time.perf_counter() - g.request_started) * 1000, 1),
    }
    identified = caller()  # once the request's key was looked up: no lookup of its own
    if identified is not None:
        fields["keyPrefix"] = identified.prefix
    log.info("request", extra={"fields": fields})
    return response
