"""Rate limits: per API key for a caller whose key is valid, per client address for everyone else.

Each request is counted before its view runs, the health checks excepted. Who is calling is settled first
(``auth.identify``), so a request whose key does not authenticate counts against its address: guessing
keys is as limited as any anonymous request. The limits are application-wide (one count across all
routes) and keyed by the key's display prefix, never the key itself. The client address is the one
``proxies`` settled on.

The counting is the ``limits`` library's fixed window, the engine of Flask-Limiter, called directly: the
service has just these two application-wide limits, and Flask-Limiter's resolution of per-route,
per-blueprint and default limits on every request cost a quarter of the time of a GET (bench/README.md).
"""
import math
import time

from flask import current_app, request
from limits import parse
from limits.errors import StorageError
from limits.storage import MemoryStorage, storage_from_string
from limits.strategies import FixedWindowRateLimiter

from edge import rate_limit_storage  # noqa: F401  registers the jim-sqlite scheme with limits
from auth import identify
from errors import TooManyRequests

HEALTH_ENDPOINTS = frozenset({"api.live", "api.ready", "api.version"})
# Redis answers at once or is treated as down, so a Redis outage never holds a request.
REDIS_OPTIONS = {"socket_timeout": 1, "socket_connect_timeout": 1}
# After the storage fails, each process counts in memory this long before it tries the storage again.
STORAGE_RETRY_SECONDS = 10


def storage_options(uri: str) -> dict:
    return REDIS_OPTIONS if uri.startswith("redis") else {}  # also rediss://


class RateLimits:
    """The two limits, counted in the configured storage, or in this process's memory while it fails."""

    def __init__(self, config):
        self.per_key = parse(f"{config['JIM_RATE_LIMIT_AUTHENTICATED_PER_MINUTE']} per minute")
        self.per_address = parse(f"{config['JIM_RATE_LIMIT_UNAUTHENTICATED_PER_MINUTE']} per minute")
        self.prefix = config["JIM_RATE_LIMIT_KEY_PREFIX"]
        uri = config["JIM_RATE_LIMIT_STORAGE_URI"]
        self.shared = FixedWindowRateLimiter(storage_from_string(uri, wrap_exceptions=True, **storage_options(uri)))
        self.in_memory = FixedWindowRateLimiter(MemoryStorage())
        self.shared_failed_at = -math.inf

    def count(self):
        """Count this request against its caller's limit; 429 when the limit is spent."""
        if request.endpoint in HEALTH_ENDPOINTS:  # they must answer while the database is down
            return
        caller = identify()
        if caller is not None:
            limit, key = self.per_key, "key:" + caller.prefix
        else:
            limit, key = self.per_address, "address:" + (request.remote_addr or "unknown")
        counter = self.counter()
        try:
            allowed = counter.hit(limit, self.prefix, key)
        except StorageError as error:
            current_app.logger.warning("rate limit storage failed, counting in memory: %s", error)
            self.shared_failed_at, counter = time.monotonic(), self.in_memory
            allowed = counter.hit(limit, self.prefix, key)
        if not allowed:
            raise TooManyRequests(self.seconds_left(counter, limit, key))

    def counter(self) -> FixedWindowRateLimiter:
        failed_recently = time.monotonic() - self.shared_failed_at < STORAGE_RETRY_SECONDS
        return self.in_memory if failed_recently else self.shared

    def seconds_left(self, counter: FixedWindowRateLimiter, limit, key: str) -> int:
        """Until the window that was exceeded ends, in whole seconds and at least one."""
        try:
            reset_at = counter.get_window_stats(limit, self.prefix, key).reset_time
        except StorageError:  # the storage failed since it counted this request: a whole window is safe
            return limit.get_expiry()
        return max(1, math.ceil(reset_at - time.time()))


def init_app(app):
    if app.config["JIM_RATE_LIMIT_ENABLED"]:
        app.before_request(RateLimits(app.config).count)
