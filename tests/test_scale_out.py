"""Scale-out against real gunicorn: the workers of one instance share the default rate-limit storage, and
two instances behind a proxy, on one PostgreSQL, share their limits through Redis.

Per-process memory would let each worker (each instance) allow the whole limit again; these tests count
exactly the limit across all of them.
"""
import sqlite3
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing

import pytest

from conftest import REDIS_URL, SYSTEMS, TEST_ENCRYPTION_KEY, redis_or_skip
from proxy import PROXY_ADDRESS, round_robin
from servers import PROJECT, gunicorn

pytestmark = pytest.mark.slow


def status(url: str, headers: dict | None = None) -> int:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def statuses(url: str, count: int, headers: dict | None = None) -> Counter:
    """``count`` requests, four at a time, so that several workers serve them."""
    with ThreadPoolExecutor(4) as pool:
        return Counter(pool.map(lambda _: status(url, headers), range(count)))


def limits(key_prefix: str, **extra: str) -> dict:
    return {
        "JIM_RATE_LIMIT_ENABLED": "true",
        "JIM_RATE_LIMIT_KEY_PREFIX": key_prefix,
        "JIM_RATE_LIMIT_AUTHENTICATED_PER_MINUTE": "8",
        "JIM_RATE_LIMIT_UNAUTHENTICATED_PER_MINUTE": "5",
        **extra,
    }


@pytest.mark.parametrize("store", ["sqlite"])
def test_the_workers_of_an_instance_share_the_default_storage(app, database_url, admin_key, key_prefix):
    """No JIM_RATE_LIMIT_STORAGE_URI: the file in the instance folder, as a fresh install has it."""
    with gunicorn(database_url, TEST_ENCRYPTION_KEY, "--workers", "3", env=limits(key_prefix)) as base:
        assert statuses(f"{base}{SYSTEMS}", 12, {"X-Api-Key": admin_key}) == Counter({200: 8, 429: 4})
        assert statuses(f"{base}{SYSTEMS}", 8) == Counter({401: 5, 429: 3})
        assert statuses(f"{base}/api/v1/health/ready", 10) == Counter({200: 10})
    # The counts are in the instance folder (gunicorn's is the project's), under this test's prefix.
    with closing(sqlite3.connect(PROJECT / "instance" / "rate-limits.db")) as counts:
        assert counts.execute("SELECT count(*) FROM counters WHERE key LIKE ?", (f"%{key_prefix}%",)).fetchone()[0]


@pytest.mark.parametrize("store", ["postgresql"])
def test_two_instances_behind_a_proxy_share_limits_through_redis(app, database_url, admin_key, key_prefix):
    redis_or_skip()
    env = limits(key_prefix, JIM_RATE_LIMIT_STORAGE_URI=REDIS_URL, JIM_TRUSTED_PROXIES=PROXY_ADDRESS)
    url = database_url.replace("+psycopg", "")
    with (
        gunicorn(url, TEST_ENCRYPTION_KEY, "--workers", "2", env=env) as first,
        gunicorn(url, TEST_ENCRYPTION_KEY, "--workers", "2", env=env) as second,
        round_robin([first, second]) as proxy,
    ):
        assert statuses(f"{proxy.base}{SYSTEMS}", 12, {"X-Api-Key": admin_key}) == Counter({200: 8, 429: 4})
        assert min(proxy.served.values()) >= 6  # both instances served
        # Anonymous requests count against the client's address as the proxy forwarded it; a client's own
        # X-Forwarded-For is not believed, so it cannot escape with a made-up address.
        spoofed = {"X-Forwarded-For": "198.51.100.7"}
        assert statuses(f"{proxy.base}{SYSTEMS}", 8, spoofed) == Counter({401: 5, 429: 3})
        assert status(f"{first}{SYSTEMS}", spoofed) == 429  # directly: the header is ignored
        assert status(f"{second}/api/v1/health/live") == 200
