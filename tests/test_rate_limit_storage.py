"""The jim-sqlite storage that ``limits`` uses by default: counts per key, windows that expire, and one
count across processes."""
import multiprocessing

import pytest
from limits import RateLimitItemPerMinute
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter

from edge import rate_limit_storage


@pytest.fixture
def clock(monkeypatch):
    now = [1_000_000.0]
    monkeypatch.setattr(rate_limit_storage.time, "time", lambda: now[0])
    return now


@pytest.fixture
def uri(tmp_path):
    return f"jim-sqlite:///{tmp_path / 'rate-limits.db'}"


def test_the_scheme_is_registered_with_limits(uri):
    assert isinstance(storage_from_string(uri), rate_limit_storage.SQLiteStorage)


def test_counts_expire_with_their_window(uri, clock):
    storage = storage_from_string(uri)
    assert [storage.incr("a", 60) for _ in range(3)] == [1, 2, 3]
    assert storage.incr("b", 60, amount=2) == 2
    assert (storage.get("a"), storage.get_expiry("a")) == (3, clock[0] + 60)
    clock[0] += 60
    assert (storage.get("a"), storage.get_expiry("a")) == (0, clock[0])
    assert storage.incr("a", 60) == 1  # a new window


def test_clear_reset_and_check(uri, clock):
    storage = storage_from_string(uri)
    storage.incr("a", 60)
    storage.incr("b", 60)
    storage.clear("a")
    assert (storage.get("a"), storage.get("b")) == (0, 1)
    assert storage.reset() == 1 and storage.get("b") == 0
    assert storage.check()


def test_expired_counters_are_purged(uri, clock):
    storage = storage_from_string(uri)
    storage.incr("old", 1)
    clock[0] += rate_limit_storage.PURGE_INTERVAL_SECONDS
    storage.incr("new", 60)
    assert [key for (key,) in storage.connection().execute("SELECT key FROM counters")] == ["new"]


def hit_many(uri: str, times: int) -> int:
    limiter = FixedWindowRateLimiter(storage_from_string(uri))
    return sum(limiter.hit(RateLimitItemPerMinute(50), "shared") for _ in range(times))


def test_processes_share_one_count(uri):
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        allowed = pool.starmap(hit_many, [(uri, 25)] * 4)
    assert sum(allowed) == 50
