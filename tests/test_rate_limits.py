"""Rate limits: per key for valid keys, per address for everyone else, never on the health checks.

Each test runs with the default storage (a SQLite file shared by the workers) and with Redis, each under
a key prefix of its own, since Redis is shared.
"""
import sqlite3
from contextlib import closing

import pytest
import redis

from edge import rate_limits
from conftest import REDIS_URL, SYSTEMS, make_key, redis_or_skip
from models import Role

BAD_KEY = "jim_" + "x" * 43


@pytest.fixture(params=["default", "redis"])
def limit_storage(request, tmp_path):
    """The storage URI: the default's kind of file, or Redis; "late" is a file whose folder is not there yet."""
    if request.param == "redis":
        redis_or_skip()
        return REDIS_URL
    if request.param == "late":
        return f"jim-sqlite:///{tmp_path / 'later' / 'rate-limits.db'}"
    return f"jim-sqlite:///{tmp_path / 'rate-limits.db'}"


@pytest.fixture
def trusted_proxies():
    return []


@pytest.fixture
def enabled():
    return True


@pytest.fixture
def app_config(app_config, limit_storage, key_prefix, trusted_proxies, enabled):
    return {
        **app_config,
        "JIM_RATE_LIMIT_ENABLED": enabled,
        "JIM_TRUSTED_PROXIES": trusted_proxies,
        "JIM_RATE_LIMIT_STORAGE_URI": limit_storage,
        "JIM_RATE_LIMIT_KEY_PREFIX": key_prefix,
        "JIM_RATE_LIMIT_AUTHENTICATED_PER_MINUTE": 5,
        "JIM_RATE_LIMIT_UNAUTHENTICATED_PER_MINUTE": 3,
    }


def assert_too_many(response):
    assert response.status_code == 429
    assert response.json["code"] == "TOO_MANY_REQUESTS"
    assert 1 <= int(response.headers["Retry-After"]) <= 60


def test_each_key_has_its_own_limit(client, reader_key, app):
    other_key = make_key(app, Role.READER)
    for _ in range(5):
        assert client.get(SYSTEMS, headers={"X-Api-Key": reader_key}).status_code == 200
    assert_too_many(client.get(SYSTEMS, headers={"X-Api-Key": reader_key}))
    # Every route counts against the same limit, and another key is unaffected.
    assert_too_many(client.get(f"{SYSTEMS}/1", headers={"X-Api-Key": reader_key}))
    assert client.get(SYSTEMS, headers={"X-Api-Key": other_key}).status_code == 200


def test_failed_authentications_count_against_the_address(client, reader_key):
    for headers in ({"X-Api-Key": BAD_KEY}, {}, {"X-Api-Key": "not-a-key"}):
        assert client.get(SYSTEMS, headers=headers).status_code == 401
    assert_too_many(client.get(SYSTEMS, headers={"X-Api-Key": BAD_KEY}))
    assert_too_many(client.get(SYSTEMS))
    assert_too_many(client.get("/no/such/route"))
    # A valid key is counted by the key, not by the address.
    assert client.get(SYSTEMS, headers={"X-Api-Key": reader_key}).status_code == 200


def test_health_routes_are_never_limited(client):
    for _ in range(4):
        client.get(SYSTEMS)
    for path in ("/api/v1/health", "/api/v1/health/live", "/api/v1/health/ready", "/api/v1/health/version"):
        for _ in range(4):
            assert client.get(path, headers={"X-Api-Key": BAD_KEY}).status_code == 200


def test_the_limit_is_stored_under_the_prefix_never_the_key(client, reader_key, limit_storage, key_prefix):
    client.get(SYSTEMS, headers={"X-Api-Key": reader_key})
    if limit_storage.startswith("redis"):
        with redis.Redis.from_url(REDIS_URL) as connection:
            stored = [key.decode() for key in connection.scan_iter(f"*{key_prefix}*")]
    else:
        with closing(sqlite3.connect(limit_storage.removeprefix("jim-sqlite:///"))) as connection:
            stored = [key for (key,) in connection.execute("SELECT key FROM counters")]
    assert len(stored) == 1
    assert reader_key[:12] in stored[0] and reader_key not in stored[0]


@pytest.mark.parametrize("trusted_proxies", [["127.0.0.0/8"]])  # the test client's address
def test_a_trusted_proxy_names_the_client(client):
    for _ in range(3):
        client.get(SYSTEMS, headers={"X-Forwarded-For": "198.51.100.1"})
    assert_too_many(client.get(SYSTEMS, headers={"X-Forwarded-For": "198.51.100.1"}))
    assert client.get(SYSTEMS, headers={"X-Forwarded-For": "198.51.100.2"}).status_code == 401


def test_an_untrusted_peer_cannot_choose_its_address(client):
    for number in range(3):
        client.get(SYSTEMS, headers={"X-Forwarded-For": f"198.51.100.{number}"})
    assert_too_many(client.get(SYSTEMS, headers={"X-Forwarded-For": "198.51.100.99"}))


@pytest.mark.parametrize("limit_storage", ["redis://127.0.0.1:1/0"], indirect=False)
def test_an_unreachable_storage_falls_back_to_memory(client, reader_key):
    """The API stays up, and each process keeps counting on its own until the storage answers again."""
    for _ in range(5):
        assert client.get(SYSTEMS, headers={"X-Api-Key": reader_key}).status_code == 200
    assert_too_many(client.get(SYSTEMS, headers={"X-Api-Key": reader_key}))


@pytest.mark.parametrize("limit_storage", ["late"], indirect=True)
def test_counting_goes_back_to_the_storage_once_it_answers(client, limit_storage, tmp_path, monkeypatch):
    monkeypatch.setattr(rate_limits, "STORAGE_RETRY_SECONDS", 0)  # try the storage again on every request
    for _ in range(3):
        assert client.get(SYSTEMS).status_code == 401
    assert_too_many(client.get(SYSTEMS))  # counted in memory: the file cannot be opened
    (tmp_path / "later").mkdir()
    assert client.get(SYSTEMS).status_code == 401  # counted afresh in the file
    with closing(sqlite3.connect(limit_storage.removeprefix("jim-sqlite:///"))) as connection:
        assert connection.execute("SELECT count FROM counters").fetchall() == [(1,)]


@pytest.mark.parametrize("limit_storage", ["late"], indirect=True)
def test_a_failed_storage_is_left_alone_for_a_while(client, tmp_path):
    """A storage that failed is not tried again on every request: a Redis that hangs would hold each one."""
    for _ in range(3):
        client.get(SYSTEMS)
    (tmp_path / "later").mkdir()
    assert_too_many(client.get(SYSTEMS))  # still counted in memory
    assert not (tmp_path / "later" / "rate-limits.db").exists()


@pytest.mark.parametrize("enabled", [False])
def test_limits_can_be_turned_off(client, reader_key):
    for _ in range(8):
        assert client.get(SYSTEMS, headers={"X-Api-Key": reader_key}).status_code == 200
        assert client.get(SYSTEMS).status_code == 401
