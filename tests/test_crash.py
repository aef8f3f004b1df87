"""kill -9 of a gunicorn worker in the middle of a stream of writes: every system is the result of one whole
request, never a mix of two, its history agrees with it, and the service goes on serving."""
import http.client
import os
import signal
import threading
import time

import pytest

from conftest import TEST_ENCRYPTION_KEY
from loopback import SYSTEMS_PATH, call
from servers import gunicorn_server

SYSTEMS = 3
KILLS = 2
WRITES_BETWEEN_KILLS = 2  # successful writes of every writer before each kill and after the last
PROGRESS_DEADLINE_SECONDS = 180  # a liveness bound for a loaded machine, not a measurement


def body_for(system_number: int, token: str) -> dict:
    """One request writes the token into two tables: the system's row (name, description) and a setting's row."""
    return {
        "name": f"System {system_number} {token}",
        "description": token,
        "settingValues": {"1": {"stringValue": f"host-{token}.example.com"}, "3": {"stringValue": token}},
    }


def tokens_of(system: dict) -> set[str]:
    return {
        system["name"].rsplit(" ", 1)[1],
        system["description"],
        system["settingValues"]["1"]["stringValue"].removeprefix("host-").removesuffix(".example.com"),
    }


class Writer(threading.Thread):
    """Rewrites one system again and again until stopped, noting which tokens were answered 200 and which lost."""

    def __init__(self, base, key, system_id, number, stop):
        super().__init__(daemon=True)
        self.base, self.key, self.system_id, self.number, self.stop = base, key, system_id, number, stop
        self.succeeded, self.lost, self.refused = [], [], []

    def run(self):
        sequence = 0
        while not self.stop.is_set():
            sequence += 1
            token = f"t{sequence}"
            try:
                answer = call(self.base, "PUT", f"{SYSTEMS_PATH}/{self.system_id}", self.key,
                              body_for(self.number, token))
            except (OSError, http.client.HTTPException):
                self.lost.append(token)  # the worker died under this request: its answer never came
                continue
            (self.succeeded if answer.status == 200 else self.refused).append((token, answer.status))


def wait_for_successes(writers, count):
    """Until every writer has had ``count`` more requests answered 200."""
    targets = [len(writer.succeeded) + count for writer in writers]
    deadline = time.monotonic() + PROGRESS_DEADLINE_SECONDS
    while any(len(writer.succeeded) < target for writer, target in zip(writers, targets)):
        assert time.monotonic() < deadline, "the service stopped making progress for a writer"
        time.sleep(0.05)


@pytest.mark.slow
def test_kill_9_of_a_worker_mid_stream_leaves_whole_requests_only(store, app, database_url, admin_key, capsys):
    url = database_url.replace("+psycopg", "")
    with gunicorn_server(url, TEST_ENCRYPTION_KEY, "--workers", "2",
                         env={"JIM_DATABASE_TIMEOUT_SECONDS": "60"}) as server:
        ids = []
        for number in range(SYSTEMS):
            created = call(server.base, "POST", SYSTEMS_PATH, admin_key,
                           {"name": f"System {number} t0", "connectorDefinitionId": 3})
            assert created.status == 201
            ids.append(created.json["id"])
        stop = threading.Event()
        writers = [Writer(server.base, admin_key, system_id, number, stop) for number, system_id in enumerate(ids)]
        for writer in writers:
            writer.start()
        killed = []
        try:
            for _ in range(KILLS):
                wait_for_successes(writers, WRITES_BETWEEN_KILLS)
                victim = server.worker_pids()[0]
                os.kill(victim, signal.SIGKILL)
                killed.append(victim)
            wait_for_successes(writers, WRITES_BETWEEN_KILLS)  # the service goes on serving after the kills
        finally:
            stop.set()
            for writer in writers:
                writer.join(timeout=2 * 120)

        with capsys.disabled():
            print(f"\n[crash, {store}] writers={len(writers)} kills={len(killed)} "
                  f"200s={sum(len(w.succeeded) for w in writers)} answers lost to a kill={sum(len(w.lost) for w in writers)} "
                  f"other statuses={sum(len(w.refused) for w in writers)}")
        assert [writer.refused for writer in writers] == [[]] * len(writers), "only a dead worker may fail a request"
        for writer, system_id in zip(writers, ids):
            system = call(server.base, "GET", f"{SYSTEMS_PATH}/{system_id}", admin_key)
            assert system.status == 200
            tokens = tokens_of(system.json)
            assert len(tokens) == 1, f"system {system_id} mixes requests: {tokens}"
            # It is the last answered request, or a later one whose answer was lost when its worker died.
            last_answered = writer.succeeded[-1][0]
            later_lost = [token for token in writer.lost if int(token[1:]) > int(last_answered[1:])]
            assert tokens <= {last_answered, *later_lost}
            # The history was written in the same transaction: its newest record is this very state.
            newest = call(server.base, "GET", f"{SYSTEMS_PATH}/{system_id}/history?pageSize=1", admin_key).json
            name_change = {c["field"]: c["newValue"] for c in newest["items"][0]["changes"]}["name"]
            assert name_change == system.json["name"]
            assert call(server.base, "PUT", f"{SYSTEMS_PATH}/{system_id}", admin_key,
                        body_for(writer.number, "after")).status == 200
