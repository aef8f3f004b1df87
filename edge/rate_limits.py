"""Rate limits: per API key for a caller whose key is valid, per client address for everyone else.

Each request is counted before its view runs, the health checks excepted. Who is calling is settled first
(``auth.identify``), so a request whose key does not authenticate counts against its address: guessing
keys is as limited as any anonymous request. The limits are application-wide (one count across all
routes) and keyed by the key's id, never the key itself nor its display prefix, which two keys can share. The client address is the one
``proxies`` settled on. The infrastructure key (``JIM_INFRASTRUCTURE_API_KEY``) is trusted automation and,
as in JIM, is never limited.

As in JIM, a key's limit is a moving window: no key is allowed more than its limit in any 60 seconds, and a
refused request learns exactly when the next one will be allowed. The counting storages keep a log of each
key's allowed requests for that (a fixed window would let a key send twice its limit across a window's
end); ``limits``' sliding window counter would only approximate the rule. Anonymous clients, as in JIM,
have a fixed window: one counter per address.

The counting is the ``limits`` library's, the engine of Flask-Limiter, called directly: the service has
just these two application-wide limits, and Flask-Limiter's resolution of per-route, per-blueprint and
default limits on every request cost a quarter of the time of a GET (bench/README.md).
"""
import hmac
import math
import time
from dataclasses import dataclass

from flask import current_app, request
from limits import RateLimitItem, parse
from limits.errors import StorageError
from limits.storage import MemoryStorage, storage_from_string
from limits.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter, RateLimiter

from auth import identify
from edge import rate_limit_storage  # noqa: F401  registers the jim-sqlite scheme with limits
from errors import TooManyRequests

HEALTH_ENDPOINTS = frozenset({"api.health", "api.live", "api.ready", "api.version"})
# Redis answers at once or is treated as down, so a Redis outage never holds a request.
REDIS_OPTIONS = {"socket_timeout": 1, "socket_connect_timeout": 1}
# After the storage fails, each process counts in memory this long before it tries the storage again.
STORAGE_RETRY_SECONDS = 10


def storage_options(uri: str) -> dict:
    return REDIS_OPTIONS if uri.startswith("redis") else {}  # also rediss://


@dataclass(frozen=True)
class Limit:
    """A limit and its strategy, counted in the configured storage or, while that fails, in memory."""

    item: RateLimitItem
    shared: RateLimiter
    in_memory: RateLimiter


class RateLimits:
    """The two limits, counted in the configured storage, or in this process's memory while it fails."""

    def __init__(self, config):
        uri = config["JIM_RATE_LIMIT_STORAGE_URI"]
        shared = storage_from_string(uri, wrap_exceptions=True, **storage_options(uri))
        memory = MemoryStorage()
        self.per_key = Limit(
            parse(f"{config['JIM_RATE_LIMIT_AUTHENTICATED_PER_MINUTE']} per minute"),
            MovingWindowRateLimiter(shared),
            MovingWindowRateLimiter(memory),
        )
        self.per_address = Limit(
            parse(f"{config['JIM_RATE_LIMIT_UNAUTHENTICATED_PER_MINUTE']} per minute"),
            FixedWindowRateLimiter(shared),
            FixedWindowRateLimiter(memory),
        )
        self.prefix = config["JIM_RATE_LIMIT_KEY_PREFIX"]
        self.infrastructure_key = config["JIM_INFRASTRUCTURE_API_KEY"]
        self.shared_failed_at = -math.inf

    def count(self):
        """Count this request against its caller's limit; 429 when the limit is spent."""
        if request.endpoint in HEALTH_ENDPOINTS:  # they must answer while the database is down
            return
        caller = identify()
        if caller is not None:
            if self.is_infrastructure_key():
                return
            limit, key = self.per_key, f"key:{caller.key_id}"
        else:
            limit, key = self.per_address, "address:" + (request.remote_addr or "unknown")
        limiter = self.limiter(limit)
        try:
            allowed = limiter.hit(limit.item, self.prefix, key)
        except StorageError as error:
            current_app.logger.warning("rate limit storage failed, counting in memory: %s", error)
            self.shared_failed_at, limiter = time.monotonic(), limit.in_memory
            allowed = limiter.hit(limit.item, self.prefix, key)
        if not allowed:
            raise TooManyRequests(self.seconds_until_allowed(limiter, limit.item, key))

    def is_infrastructure_key(self) -> bool:
        """Whether the request's key, already found valid, is the configured infrastructure key.

        The key itself is compared, in constant time: a display prefix or a key's name could be shared.
        """
        sent = request.headers.get("X-Api-Key", "")
        return self.infrastructure_key is not None and hmac.compare_digest(sent, self.infrastructure_key)

    def limiter(self, limit: Limit) -> RateLimiter:
        failed_recently = time.monotonic() - self.shared_failed_at < STORAGE_RETRY_SECONDS
        return limit.in_memory if failed_recently else limit.shared

    def seconds_until_allowed(self, limiter: RateLimiter, item: RateLimitItem, key: str) -> int:
        """The whole seconds after which the next request is allowed: the first second past the moment.

        That moment is when the oldest request in the key's log leaves the 60 seconds, or when the address's
        window ends. A request still counts at that very moment, so the answer is strictly past it.
        """
        try:
            reset_at = limiter.get_window_stats(item, self.prefix, key).reset_time
        except StorageError:  # the storage failed since it counted this request: a whole window is safe
            return item.get_expiry()
        return max(1, math.floor(reset_at - time.time()) + 1)


def init_app(app):
    if app.config["JIM_RATE_LIMIT_ENABLED"]:
        app.before_request(RateLimits(app.config).count)
