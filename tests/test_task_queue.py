"""The task queue on Redis (JIM_TASK_QUEUE_URL=redis://...): a real ``flask --app app worker`` process runs the
Full Import that execute queued, on both stores; a queue that cannot be reached is said so, at once, by execute
and by the worker, and never leaves a run InProgress or a request hanging.
"""
import secrets
import subprocess
import sys
import time
from urllib.parse import urlsplit

import pytest
import redis

from conftest import REDIS_URL, TEST_ENCRYPTION_KEY, redis_or_skip
from importing import run_queued
from servers import PROJECT, free_port, stopped
from silent import silent_server
from task_queues import redis_queue_url, redis_server, worker_process
from test_full_import import ACTIVITIES, PEOPLE_CSV, csv_system, execute, objects


@pytest.fixture
def app_config(app_config, tmp_path):
    files = tmp_path / "files"
    files.mkdir()
    with redis_queue_url() as url:
        yield {**app_config, "JIM_TASK_QUEUE_URL": url, "JIM_CONNECTOR_FILES_ROOT": str(files)}


def progress_until_finished(client, admin, activity_id: str, worker, log_path, seconds: float = 60) -> dict:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        progress = client.get(f"{ACTIVITIES}/{activity_id}/progress", headers=admin).json
        if progress["status"] != "InProgress":
            return progress
        assert worker.poll() is None, log_path.read_text()
        time.sleep(0.1)
    pytest.fail(f"the activity was still InProgress after {seconds} s: {log_path.read_text()}")


def test_a_worker_on_redis_runs_what_execute_queued(client, admin, app, app_config, tmp_path):
    system_id, _, profile_id = csv_system(client, admin, app, PEOPLE_CSV)
    answer = execute(client, admin, system_id, profile_id)
    assert answer.status_code == 202, answer.json
    activity_id = answer.json["activityId"]
    queued = client.get(f"{ACTIVITIES}/{activity_id}/progress", headers=admin).json
    assert queued["status"] == "InProgress" and queued["objectsProcessed"] == 0
    log_path = tmp_path / "worker.log"
    worker = worker_process(app_config, log_path)
    try:
        progress = progress_until_finished(client, admin, activity_id, worker, log_path)
        assert progress["status"] == "Complete" and progress["objectsProcessed"] == 3, progress
        assert set(objects(client, admin, system_id)) == {"1", "2", "3"}
        # The same worker takes the next run too.
        again = execute(client, admin, system_id, profile_id)
        assert again.status_code == 202
        rerun = progress_until_finished(client, admin, again.json["activityId"], worker, log_path)
        assert rerun["status"] == "Complete"
        stats = client.get(f"{ACTIVITIES}/{again.json['activityId']}/stats", headers=admin).json
        assert (stats["totalCsoAdds"], stats["totalUnchanged"]) == (0, 3)
    finally:
        stopped(worker)
    assert "RedisHuey" in log_path.read_text()


def test_a_worker_whose_redis_went_away_takes_the_next_run_once_it_is_back(request, store, tmp_path):
    port, log_path, worker = free_port(), tmp_path / "worker.log", None
    try:
        with redis_server(port, tmp_path) as url:
            config = request.getfixturevalue("app_config")
            config["JIM_TASK_QUEUE_URL"] = url
            app = request.getfixturevalue("app")
            client, admin = app.test_client(), request.getfixturevalue("admin")
            system_id, _, profile_id = csv_system(client, admin, app, PEOPLE_CSV)
            worker = worker_process(config, log_path)
            first = execute(client, admin, system_id, profile_id)
            assert progress_until_finished(client, admin, first.json["activityId"], worker, log_path)["status"] \
                == "Complete"
        time.sleep(2)  # its Redis gone, the worker fails to read its queue for a while
        assert worker.poll() is None, log_path.read_text()
        with redis_server(port, tmp_path):  # back, empty
            again = execute(client, admin, system_id, profile_id)
            assert again.status_code == 202, again.json
            done = progress_until_finished(client, admin, again.json["activityId"], worker, log_path)
        assert done["status"] == "Complete" and done["objectsProcessed"] == 3, done
    finally:
        if worker is not None:
            stopped(worker)


QUEUE_PASSWORD = "Queue-pw-" + secrets.token_hex(8)


def test_a_run_whose_task_the_queue_lost_fails_when_the_system_is_executed_again(client, admin, app, app_config):
    """Redis restarted without its data: the queued run would wait InProgress, and the system answer 409, for ever."""
    system_id, _, profile_id = csv_system(client, admin, app, PEOPLE_CSV)
    first = execute(client, admin, system_id, profile_id)
    assert first.status_code == 202
    assert execute(client, admin, system_id, profile_id).status_code == 409  # its task waits: it is not lost
    with redis.Redis.from_url(app_config["JIM_TASK_QUEUE_URL"]) as queue:
        queue.flushdb()
    again = execute(client, admin, system_id, profile_id)
    assert again.status_code == 202, again.json
    lost = client.get(f"{ACTIVITIES}/{first.json['activityId']}", headers=admin).json
    assert lost["status"] == "FailedWithError" and "no longer in the task queue" in lost["errorMessage"]
    assert run_queued(app) == 1
    done = client.get(f"{ACTIVITIES}/{again.json['activityId']}", headers=admin).json
    assert done["status"] == "Complete" and done["totalAdded"] == 3


@pytest.fixture(params=["refused", "silent", "wrong password", "no socket"])
def unreachable_queue(request, tmp_path):
    """A Redis URL nobody answers on: a port that refuses, a server that accepts and never replies, the
    machine's Redis, which asks for no password, given one (refused: never shown), or a Unix socket that is
    not there, its password given as redis-py reads it there, in the query (never shown either)."""
    if request.param == "refused":
        yield f"redis://127.0.0.1:{free_port()}/0"
    elif request.param == "no socket":
        yield f"unix://{tmp_path / 'redis.sock'}?db=0&password={QUEUE_PASSWORD}"
    elif request.param == "wrong password":
        redis_or_skip()
        yield f"redis://jim:{QUEUE_PASSWORD}@{urlsplit(REDIS_URL).netloc.rpartition('@')[2]}/0"
    else:
        with silent_server() as (host, port):
            yield f"redis://{host}:{port}/0"


def test_execute_on_an_unreachable_queue_is_refused_at_once_and_leaves_no_run(request, store, unreachable_queue,
                                                                               caplog):
    config = request.getfixturevalue("app_config")
    config["JIM_TASK_QUEUE_URL"] = unreachable_queue
    app = request.getfixturevalue("app")
    client, admin = app.test_client(), request.getfixturevalue("admin")
    system_id, _, profile_id = csv_system(client, admin, app, PEOPLE_CSV)
    started = time.monotonic()
    answer = execute(client, admin, system_id, profile_id)
    assert time.monotonic() - started < 15
    assert answer.status_code == 503, answer.json
    assert answer.json["code"] == "SERVICE_UNAVAILABLE"
    assert "task queue" in answer.json["message"] and "not queued" in answer.json["message"]
    [listed] = client.get(ACTIVITIES, headers=admin).json["items"]
    activity = client.get(f"{ACTIVITIES}/{listed['id']}", headers=admin).json
    assert activity["status"] == "FailedWithError" and "task queue" in activity["errorMessage"]
    assert execute(client, admin, system_id, profile_id).status_code == 503  # not 409: nothing runs
    assert QUEUE_PASSWORD[-8:] not in str(answer.json) + str(activity) + caplog.text


def test_a_worker_whose_queue_cannot_be_reached_says_so_and_stops(unreachable_queue, tmp_path):
    environment = {"PATH": "/usr/bin:/bin", "JIM_ENCRYPTION_KEY": TEST_ENCRYPTION_KEY,
                   "DATABASE_URL": f"sqlite:///{tmp_path / 'jim.db'}", "JIM_TASK_QUEUE_URL": unreachable_queue}
    started = time.monotonic()
    ended = subprocess.run([sys.executable, "-m", "flask", "--app", "app", "worker"], cwd=PROJECT, env=environment,
                           capture_output=True, text=True, timeout=60)
    assert time.monotonic() - started < 30
    assert ended.returncode != 0
    said = ended.stdout + ended.stderr
    where = urlsplit(unreachable_queue)
    shown = f"{where.hostname}:{where.port}" if where.hostname else where.path
    assert f"The task queue at {shown} cannot be reached" in said
    assert QUEUE_PASSWORD[-8:] not in said
