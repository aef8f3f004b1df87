"""One log line per request, and the request id every other line carries (``log_format`` writes them).

The request id is the client's ``X-Request-ID`` when it is sane (at most 128 safe characters), else a new
one; it is echoed on the answer so that a client can quote it. The per-request line holds the method, the
path without its query, the status, the duration and the key's display prefix: never a header, a key or
a body.
"""
import logging
import re
import time
import uuid

from flask import g, request

from auth import caller

REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")

log = logging.getLogger("jim.request")


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
