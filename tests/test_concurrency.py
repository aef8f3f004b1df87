"""Many concurrent writers of one system through real gunicorn processes: nothing lost, nothing counted twice.

Two gunicorn instances of two workers each share one database (PostgreSQL, or one SQLite file), and writers
send their requests to both in turn. Unconditional writers each own one field; conditional writers increment a
shared counter with read, If-Match write, and retry on 412.
"""
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field

import pytest

from conftest import TEST_ENCRYPTION_KEY
from loopback import SYSTEMS_PATH, call
from servers import gunicorn

SYSTEM = f"{SYSTEMS_PATH}/1"
HISTORY = f"{SYSTEM}/history"
INSTANCES = 2
WORKERS_PER_INSTANCE = "2"
# Each unconditional writer owns one setting (Port, Connection Timeout, Search Timeout, Maximum Retries,
# Export Concurrency) and writes it WRITES_EACH times with a new value.
OWNED_SETTINGS = ["4", "6", "8", "9", "13"]
WRITES_EACH = 8
COUNTER_SETTING = "10"  # Retry Delay (ms): the shared counter
COUNTERS = 5
INCREMENTS_EACH = 4
MAX_ATTEMPTS_EACH = 400  # bounds the test should a bug make every conditional write fail


@pytest.fixture
def instances(app, database_url):
    """Two gunicorn instances over the test's database (its schema made by the ``app`` fixture)."""
    url = database_url.replace("+psycopg", "")
    with ExitStack() as stack:
        yield [
            stack.enter_context(gunicorn(url, TEST_ENCRYPTION_KEY, "--workers", WORKERS_PER_INSTANCE,
                                         env={"JIM_DATABASE_TIMEOUT_SECONDS": "60"}))
            for _ in range(INSTANCES)
        ]


@dataclass
class Tally:
    """What one writer saw: the status of each write, of each read, and the ETag of each write that landed."""

    writes: list[int] = field(default_factory=list)
    reads: list[int] = field(default_factory=list)
    etags: list[str] = field(default_factory=list)

    def wrote(self, answer):
        self.writes.append(answer.status)
        if answer.status == 200:
            self.etags.append(answer.etag)


def unconditional_writer(instances, key, setting_id, start) -> Tally:
    tally = Tally()
    start.wait()
    for step in range(1, WRITES_EACH + 1):
        body = {"settingValues": {setting_id: {"intValue": 1000 + step}}, "changeReason": f"writer {setting_id}"}
        tally.wrote(call(instances[step % INSTANCES], "PUT", SYSTEM, key, body))
    return tally


def conditional_counter(instances, key, number, start) -> Tally:
    """Increments the counter INCREMENTS_EACH times: read it and its ETag, write it plus one If-Match that ETag."""
    tally = Tally()
    start.wait()
    for attempt in range(MAX_ATTEMPTS_EACH):
        if tally.writes.count(200) == INCREMENTS_EACH:
            break
        base = instances[(number + attempt) % INSTANCES]
        read = call(base, "GET", SYSTEM, key)
        tally.reads.append(read.status)
        value = read.json["settingValues"][COUNTER_SETTING]["intValue"]
        body = {"settingValues": {COUNTER_SETTING: {"intValue": value + 1}}}
        tally.wrote(call(base, "PUT", SYSTEM, key, body, {"If-Match": read.etag}))
    return tally


@pytest.mark.slow
def test_concurrent_writers_lose_nothing_and_count_nothing_twice(store, instances, admin_key, ldap_system, capsys):
    reset = call(instances[0], "PUT", SYSTEM, admin_key, {"settingValues": {COUNTER_SETTING: {"intValue": 0}}})
    assert reset.status == 200
    writers = len(OWNED_SETTINGS) + COUNTERS
    start = threading.Barrier(writers)
    with ThreadPoolExecutor(writers) as pool:
        owned = [pool.submit(unconditional_writer, instances, admin_key, setting_id, start)
                 for setting_id in OWNED_SETTINGS]
        counted = [pool.submit(conditional_counter, instances, admin_key, number, start) for number in range(COUNTERS)]
        owned = [future.result() for future in owned]
        counted = [future.result() for future in counted]

    unconditional_statuses = [status for tally in owned for status in tally.writes]
    conditional_statuses = [status for tally in counted for status in tally.writes]
    reads = [status for tally in counted for status in tally.reads]
    increments = conditional_statuses.count(200)
    rejected = conditional_statuses.count(412)
    others = [status for status in unconditional_statuses + conditional_statuses if status not in (200, 412)]
    with capsys.disabled():
        print(f"\n[concurrency, {store}] writers={writers} (unconditional {len(OWNED_SETTINGS)}, conditional "
              f"{COUNTERS}) over {INSTANCES} instances x {WORKERS_PER_INSTANCE} workers; "
              f"writes={len(unconditional_statuses) + len(conditional_statuses)} reads={len(reads)}; "
              f"unconditional 200s={unconditional_statuses.count(200)}; conditional 200s={increments}, "
              f"412s (stale ETag, retried)={rejected}; any other status={len(others)}")

    assert set(unconditional_statuses) == {200}, "every unconditional write must succeed"
    assert set(reads) == {200}
    assert set(conditional_statuses) <= {200, 412}, "a conditional write either lands or is refused as stale"
    assert increments == COUNTERS * INCREMENTS_EACH, "a conditional writer gave up after too many 412s"

    final = call(instances[1], "GET", SYSTEM, admin_key).json
    for setting_id in OWNED_SETTINGS:  # no writer's last value was overwritten by another's stale state
        assert final["settingValues"][setting_id]["intValue"] == 1000 + WRITES_EACH
    assert final["settingValues"][COUNTER_SETTING]["intValue"] == increments, "an increment was lost or doubled"

    changes = len(unconditional_statuses) + increments
    # Every write that changed something made its own version: no two answers share an ETag.
    etags = [etag for tally in owned + counted for etag in tally.etags]
    assert len(set(etags)) == changes
    history = call(instances[0], "GET", HISTORY + "?pageSize=1", admin_key).json
    assert history["totalCount"] == 1 + 1 + changes  # Created, the counter's reset, and one record per change
