"""gunicorn's settings for this service, chosen deliberately; each may be overridden on the command line.

gunicorn reads this file itself, so the variables here are gunicorn's (PORT, WEB_CONCURRENCY), not the app's.
"""
import multiprocessing
import os

from gunicorn.glogging import Logger
from gunicorn.http import wsgi as gunicorn_wsgi

bind = os.environ.get("GUNICORN_BIND", f"127.0.0.1:{os.environ.get('PORT', '8000')}")
# One per core, each with its own connection pool. A worker waits on the disk only for a commit's fsync, and
# writers of one system are serial anyway, so more workers only queue for the write lock: on 2 cores,
# bench/run.py measured 2 workers serving as many PUTs as 4 and as many GETs, with the SQLite PUT's
# p99/p50 at 1.3-1.9 instead of 6-13 (bench/README.md).
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count()))
worker_class = "sync"
# A worker silent for this long (a request stuck on a slow client or a hung call) is killed and replaced.
# Above the longest request the service makes: an import talks for at most JIM_CONNECTOR_TIMEOUT_SECONDS (20),
# then may wait JIM_DATABASE_TIMEOUT_SECONDS (10) for the write lock to record what it found; so an import
# and a database outage still answer, with a 502 or a 503.
timeout = 40
graceful_timeout = 20  # on a restart, requests in flight get this long to finish
keepalive = 5  # seconds an idle connection is kept; sync workers close each one, threaded workers use it
# Request-line and header limits: a request larger than a JIM client ever sends is refused before Flask.
limit_request_line = 4094
limit_request_fields = 60
limit_request_field_size = 8190
# The app logs one JSON line per request (edge/request_log.py); gunicorn's access log would be a second one.
accesslog = None


class LoggerWithoutAccessLog(Logger):
    """gunicorn's logger, with an access log only when one is asked for (--access-logfile).

    Given a logging configuration (below), gunicorn would format every request's access line and hand it to
    a logger with no handler: a twentieth of a GET's time, for nothing.
    """

    def access(self, resp, req, environ, request_time):
        if self.cfg.accesslog:
            super().access(resp, req, environ, request_time)


logger_class = LoggerWithoutAccessLog
# gunicorn's own lines (workers booting, requests it refused) as the app's: JSON on stdout. The root logger
# is left without handlers for the app to give it its own (edge.log_format.configure_logging).
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "root": {"handlers": []},
    "formatters": {"json": {"()": "edge.log_format.JSONFormatter"}},
    "handlers": {"json": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stdout"}},
    "loggers": {"gunicorn.error": {"level": "INFO", "handlers": ["json"], "propagate": False}},
}
# The app applies X-Forwarded-* from JIM_TRUSTED_PROXIES only (edge/proxies.py); gunicorn believes none itself.
forwarded_allow_ips = ""
secure_scheme_headers = {}
forwarder_headers = ""
control_socket_disable = True  # one control socket per user would clash between instances on one machine

# No "Server: gunicorn" banner: gunicorn has no setting for it, so its response writer is given one
# without that line. Its own error pages (a request over the limits above) carry no banner either.
_default_headers = gunicorn_wsgi.Response.default_headers


def _default_headers_without_banner(response):
    return [line for line in _default_headers(response) if not line.startswith("Server:")]


gunicorn_wsgi.Response.default_headers = _default_headers_without_banner
