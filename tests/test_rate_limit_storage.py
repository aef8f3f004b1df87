"""The jim-sqlite storage that ``limits`` uses by default: counts per key, windows that expire, logs of a
moving window, and one count across processes."""
import multiprocessing

import pytest
from limits import RateLimitItemPerMinute
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter

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


def test_a_moving_window_allows_what_left_the_last_minute(uri, clock):
    storage = storage_from_string(uri)
    start = clock[0]
    for offset in (0, 10, 20):
        clock[0] = start + offset
        assert storage.acquire_entry("a", 3, 60)
    assert not storage.acquire_entry("a", 3, 60)  # refused requests are not logged
    assert storage.get_moving_window("a", 3, 60) == (start, 3)
    clock[0] = start + 60
    assert not storage.acquire_entry("a", 3, 60)  # the first still counts at the very instant it expires
    clock[0] = start + 60.5
    assert storage.acquire_entry("a", 3, 60)
    assert storage.get_moving_window("a", 3, 60) == (start + 10, 3)
    assert storage.get_moving_window("b", 3, 60) == (clock[0], 0)


def test_a_moving_window_takes_several_at_once(uri, clock):
    storage = storage_from_string(uri)
    assert storage.acquire_entry("a", 5, 60, amount=3)
    assert not storage.acquire_entry("a", 5, 60, amount=3)
    assert storage.acquire_entry("a", 5, 60, amount=2)
    assert storage.get_moving_window("a", 5, 60) == (clock[0], 5)


def test_clear_reset_and_check(uri, clock):
    storage = storage_from_string(uri)
    storage.incr("a", 60)
    storage.incr("b", 60)
    storage.acquire_entry("a", 5, 60)
    storage.clear("a")
    assert (storage.get("a"), storage.get("b"), storage.get_moving_window("a", 5, 60)[1]) == (0, 1, 0)
    storage.acquire_entry("c", 5, 60)
    assert storage.reset() == 2 and storage.get("b") == 0 and storage.get_moving_window("c", 5, 60)[1] == 0
    assert storage.check()


def test_expired_counters_and_entries_are_purged(uri, clock):
    storage = storage_from_string(uri)
    storage.incr("old", 1)
    storage.acquire_entry("old", 5, 1)
    clock[0] += rate_limit_storage.PURGE_INTERVAL_SECONDS
    storage.incr("new", 60)
    storage.acquire_entry("new", 5, 60)
    connection = storage.connection()
    assert [key for (key,) in connection.execute("SELECT key FROM counters UNION ALL SELECT key FROM entries")] == [
        "new", "new"
    ]


def hit_many(uri: str, strategy: type, times: int) -> int:
    limiter = strategy(storage_from_string(uri))
    return sum(limiter.hit(RateLimitItemPerMinute(50), "shared") for _ in range(times))


@pytest.mark.parametrize("strategy", [FixedWindowRateLimiter, MovingWindowRateLimiter])
def test_processes_share_one_count(uri, strategy):
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        allowed = pool.starmap(hit_many, [(uri, strategy, 25)] * 4)
    assert sum(allowed) == 50
