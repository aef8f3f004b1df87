"""Rate limits: per API key for a caller whose key is valid, per client address for everyone else.

Flask-Limiter counts each request before its view runs, the health checks excepted. Who is calling is
settled first (``auth.identify``), so a request whose key does not authenticate counts against its address:
guessing keys is as limited as any anonymous request. The limits are application-wide (one count across
all routes) and keyed by the key's display prefix, never the key itself. The client address is the one
``proxies`` settled on.
"""
import math
import time

from flask import current_app, request
from flask_limiter import ApplicationLimit, Limiter

import rate_limit_storage  # noqa: F401  registers the jim-sqlite scheme with limits
from auth import identify

HEALTH_ENDPOINTS = frozenset({"api.live", "api.ready", "api.version"})
# Redis answers at once or is treated as down, so a Redis outage never holds a request.
REDIS_OPTIONS = {"socket_timeout": 1, "socket_connect_timeout": 1}


def is_health_check() -> bool:
    return request.endpoint in HEALTH_ENDPOINTS


def identify_caller():
    if not is_health_check():  # the health checks must answer while the database is down
        identify()


def authenticated() -> bool:
    return identify() is not None


def caller_key() -> str:
    return "key:" + identify().prefix


def client_address() -> str:
    return "address:" + (request.remote_addr or "unknown")


def per_minute(setting: str):
    return lambda: f"{current_app.config[setting]} per minute"


def storage_options(uri: str) -> dict:
    return REDIS_OPTIONS if uri.startswith("redis") else {}  # also rediss://


def init_app(app):
    if not app.config["JIM_RATE_LIMIT_ENABLED"]:
        return
    uri = app.config["JIM_RATE_LIMIT_STORAGE_URI"]
    limiter = Limiter(
        client_address,
        application_limits=[
            ApplicationLimit(
                per_minute("JIM_RATE_LIMIT_AUTHENTICATED_PER_MINUTE"),
                key_function=caller_key,
                exempt_when=lambda: not authenticated(),
            ),
            ApplicationLimit(
                per_minute("JIM_RATE_LIMIT_UNAUTHENTICATED_PER_MINUTE"),
                key_function=client_address,
                exempt_when=authenticated,
            ),
        ],
        storage_uri=uri,
        storage_options=storage_options(uri),
        strategy="fixed-window",
        key_prefix=app.config["JIM_RATE_LIMIT_KEY_PREFIX"],
        # Requests to no route count against the address as well.
        request_identifier=lambda: request.endpoint or "unrouted",
        # If the storage fails, each process counts in memory until it answers again: limits stay on and
        # the API stays up.
        in_memory_fallback_enabled=True,
        swallow_errors=True,
    )
    limiter.request_filter(is_health_check)
    app.before_request(identify_caller)  # before the limiter's own check, which needs the caller
    limiter.init_app(app)

    @app.after_request
    def retry_after(response):
        """A 429 says, in whole seconds and at least one, when the window that was exceeded ends."""
        limit = limiter.current_limit
        if response.status_code == 429 and limit is not None:
            try:
                seconds = math.ceil(limit.window.reset_time - time.time())
            except Exception:  # the storage failed since it counted this request: a whole window is safe
                seconds = limit.limit.get_expiry()
            response.headers["Retry-After"] = str(max(1, seconds))
        return response
