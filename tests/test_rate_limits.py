"""Rate limits: per key for valid keys, per address for everyone else, never on the health checks nor for
the infrastructure key.

Each test runs with the default storage (a SQLite file shared by the workers) and with Redis, each under
a key prefix of its own, since Redis is shared.
"""
import sqlite3
import time
from contextlib import closing

import limits.storage.memory
import limits.storage.redis
import pytest
import redis

from auth import create_key, ensure_infrastructure_key, generate_key
from conftest import REDIS_URL, SYSTEMS, make_key, redis_or_skip
from edge import rate_limit_storage, rate_limits
from leaks import shows
from models import Role

BAD_KEY = "jim_" + "x" * 43
INFRASTRUCTURE_KEY = generate_key()
UNREACHABLE = "redis://127.0.0.1:1/0"


@pytest.fixture(params=["default", "redis"])
def limit_storage(request, tmp_path):
    """The storage URI: the default's kind of file, or Redis; "late" is a file whose folder is not there yet."""
    if request.param == "redis":
        redis_or_skip()
        return REDIS_URL
    if request.param == "unreachable":  # each process counts in memory
        return UNREACHABLE
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
def per_key():
    return 5


@pytest.fixture
def app_config(app_config, limit_storage, key_prefix, trusted_proxies, enabled, per_key):
    return {
        **app_config,
        "JIM_INFRASTRUCTURE_API_KEY": INFRASTRUCTURE_KEY,
        "JIM_RATE_LIMIT_ENABLED": enabled,
        "JIM_TRUSTED_PROXIES": trusted_proxies,
        "JIM_RATE_LIMIT_STORAGE_URI": limit_storage,
        "JIM_RATE_LIMIT_KEY_PREFIX": key_prefix,
        "JIM_RATE_LIMIT_AUTHENTICATED_PER_MINUTE": per_key,
        "JIM_RATE_LIMIT_UNAUTHENTICATED_PER_MINUTE": 3,
    }


def assert_too_many(response):
    assert response.status_code == 429
    assert response.json["code"] == "TOO_MANY_REQUESTS"
    assert 1 <= int(response.headers["Retry-After"]) <= 60


def test_each_key_has_its_own_limit(client, reader_key, app):
    # A display prefix has only 20 random bits in JIM's format: two keys may well share one.
    other_key = reader_key[:12] + ("0" if reader_key[12] != "0" else "1") + reader_key[13:]
    make_key(app, Role.READER, key=other_key)
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


def test_the_limit_is_stored_under_the_keys_id_never_the_key(client, reader_key, limit_storage, key_prefix):
    client.get(SYSTEMS, headers={"X-Api-Key": reader_key})
    if limit_storage.startswith("redis"):
        with redis.Redis.from_url(REDIS_URL) as connection:
            stored = [key.decode() for key in connection.scan_iter(f"*{key_prefix}*")]
    else:
        with closing(sqlite3.connect(limit_storage.removeprefix("jim-sqlite:///"))) as connection:
            stored = [key for (key,) in connection.execute("SELECT DISTINCT key FROM entries")]
    assert len(stored) == 1
    assert not shows(stored[0], reader_key)


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


@pytest.mark.parametrize("limit_storage", ["unreachable"], indirect=True)
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


@pytest.mark.parametrize("per_key", [20])
@pytest.mark.parametrize("limit_storage", ["default", "redis", "unreachable"], indirect=True)
def test_the_infrastructure_key_is_never_limited(client, app):
    """Trusted automation bursts: a deployment script creating systems in bulk. Every other caller is limited."""
    with app.app_context():
        ensure_infrastructure_key(INFRASTRUCTURE_KEY)  # as each start does; the test's store was emptied since
    infrastructure = {"X-Api-Key": INFRASTRUCTURE_KEY}
    answers = [client.get(SYSTEMS, headers=infrastructure).status_code for _ in range(400)]
    for number in range(30):
        body = {"name": f"HR {number}", "connectorDefinitionId": 1}
        answers.append(client.post(SYSTEMS, json=body, headers=infrastructure).status_code)
    assert set(answers) == {200, 201} and len(answers) == 430
    # Another Administrator key, even one named as the infrastructure key is, keeps its limit of 20.
    with app.app_context():
        other = create_key("infrastructure", Role.ADMINISTRATOR)[1]
    assert [client.get(SYSTEMS, headers={"X-Api-Key": other}).status_code for _ in range(20)] == [200] * 20
    assert_too_many(client.get(SYSTEMS, headers={"X-Api-Key": other}))
    for _ in range(3):
        client.get(SYSTEMS)
    assert_too_many(client.get(SYSTEMS))
    assert client.get(SYSTEMS, headers=infrastructure).status_code == 200


class Clock:
    """time.time() as the test sets it; every other function of ``time`` as it is."""

    def __init__(self, now: float):
        self.now = now

    def time(self) -> float:
        return self.now

    def __getattr__(self, name):
        return getattr(time, name)


@pytest.fixture
def clock(monkeypatch):
    """The clock of the counting: ours, and the one ``limits`` reads to stamp Redis's and memory's entries."""
    clock = Clock(1_000_000.25)
    for module in (rate_limits, rate_limit_storage, limits.storage.redis, limits.storage.memory):
        monkeypatch.setattr(module, "time", clock)
    return clock


def test_a_burst_across_a_window_boundary_gets_no_more_than_the_limit(client, reader_key, clock):
    """A fixed window would allow 5 more at 61 s; the moving window allows what left the last 60 seconds."""
    start = clock.now
    reader = {"X-Api-Key": reader_key}

    def at(seconds: float):
        clock.now = start + seconds
        return client.get(SYSTEMS, headers=reader)

    assert [at(0).status_code for _ in range(2)] == [200, 200]
    assert [at(40).status_code for _ in range(3)] == [200, 200, 200]
    refused = at(40)
    assert_too_many(refused)
    assert refused.headers["Retry-After"] == "21"  # the two of 0 s leave the span at 60 s: allowed just past it
    assert_too_many(at(59.9))
    assert [at(61).status_code for _ in range(3)] == [200, 200, 429]  # the two of 0 s have left, not those of 40 s
    assert at(61).headers["Retry-After"] == "40"
    assert_too_many(at(100))  # those of 40 s count until 100 s, inclusive
    assert [at(101).status_code for _ in range(4)] == [200, 200, 200, 429]


def test_no_key_gets_more_than_its_limit_in_any_60_seconds(client, reader_key, clock):
    """A steady stream with bursts, against the rule itself: allowed exactly while fewer than 5 were allowed in
    the 60 seconds before, and Retry-After the whole seconds until the oldest of them leaves."""
    start = clock.now
    moments = sorted([7.0 * step for step in range(40)] + [55 + step / 2 for step in range(12)]
                     + [179.5 + step / 4 for step in range(12)])
    allowed = []
    for moment in moments:
        clock.now = start + moment
        response = client.get(SYSTEMS, headers={"X-Api-Key": reader_key})
        in_span = [earlier for earlier in allowed if earlier >= moment - 60]
        if len(in_span) < 5:
            assert response.status_code == 200, moment
            allowed.append(moment)
        else:
            assert response.status_code == 429, moment
            assert int(response.headers["Retry-After"]) == int(in_span[0] + 60 - moment) + 1, moment
    assert len(allowed) > 20
