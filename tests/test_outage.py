"""Database outages against real gunicorn: PostgreSQL is reached through a relay that the test cuts.

While it is cut, API calls answer 503 in the envelope within a few seconds, /health/ready 503 and
/health/live 200; once it is restored the service recovers with no restart. Starting while it is cut does
not crash the workers.
"""
import json
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from conftest import POSTGRES_SERVER, SYSTEMS, TEST_ENCRYPTION_KEY
from relay import Relay
from servers import gunicorn

pytestmark = [pytest.mark.slow, pytest.mark.parametrize("store", ["postgresql"])]


@pytest.fixture
def relay():
    server = urllib.parse.urlsplit(POSTGRES_SERVER)
    relay = Relay((server.hostname, server.port or 5432))
    yield relay
    relay.close()


def through(relay: Relay, database_url: str) -> str:
    path = urllib.parse.urlsplit(database_url).path
    return f"postgresql://postgres@127.0.0.1:{relay.port}{path}"


def get(url: str, key: str | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(url, headers={"X-Api-Key": key} if key else {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def assert_unavailable(base: str, key: str):
    started = time.monotonic()
    status, body = get(f"{base}{SYSTEMS}/1", key)
    assert (status, body["code"]) == (503, "SERVICE_UNAVAILABLE")
    assert time.monotonic() - started < 15  # JIM_DATABASE_TIMEOUT_SECONDS is 3; the machine may be slow
    assert get(f"{base}/api/v1/health/ready")[0] == 503
    assert get(f"{base}/api/v1/health/live")[0] == 200


def wait_for_recovery(base: str, key: str, seconds: float = 60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if get(f"{base}{SYSTEMS}/1", key)[0] == 200:
            break
        time.sleep(0.5)
    # Every worker recovers, not only the first to answer.
    assert [get(f"{base}{SYSTEMS}/1", key)[0] for _ in range(6)] == [200] * 6
    assert get(f"{base}/api/v1/health/ready")[0] == 200


@pytest.fixture
def env(key_prefix):
    # Rate limiting on, as deployed: it identifies the caller, which needs the database, before the view.
    return {
        "JIM_DATABASE_TIMEOUT_SECONDS": "3",
        "JIM_RATE_LIMIT_ENABLED": "true",
        "JIM_RATE_LIMIT_KEY_PREFIX": key_prefix,
    }


def test_an_outage_answers_503_and_the_service_recovers(app, database_url, admin_key, ldap_system, relay, env):
    with gunicorn(through(relay, database_url), TEST_ENCRYPTION_KEY, "--workers", "2", env=env) as base:
        assert [get(f"{base}{SYSTEMS}/1", admin_key)[0] for _ in range(4)] == [200] * 4
        relay.cut()
        for _ in range(3):
            assert_unavailable(base, admin_key)
        relay.restore()
        wait_for_recovery(base, admin_key)


def test_starting_during_an_outage_does_not_crash_the_workers(
    app, database_url, admin_key, ldap_system, relay, env
):
    relay.cut()
    env = {**env, "JIM_INFRASTRUCTURE_API_KEY": "jim_" + "i" * 43}  # ensured at start: it cannot be now
    with gunicorn(through(relay, database_url), TEST_ENCRYPTION_KEY, "--workers", "2", env=env) as base:
        assert_unavailable(base, admin_key)
        relay.restore()
        wait_for_recovery(base, admin_key)
