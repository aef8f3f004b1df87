"""Log records as JSON lines on stdout, each carrying the id of the request it belongs to.

gunicorn's own logging configuration names ``JSONFormatter`` here, so this module imports nothing of the
service: a gunicorn master (and the benchmark's floor) loads it without loading the service.
"""
import json
import logging
import sys
from datetime import UTC, datetime

from flask import g, has_request_context


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
