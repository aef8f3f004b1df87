"""A Redis database of the test's own for the task queue, a Redis server of its own, and a real worker process
consuming it.

Redis is shared with other checkouts and runs, and Huey's queue has one name in every database: a test claims
one of databases 1 to 15 (a key in database 0 says whose it is, for as long as the test runs), flushes it before
and after, and gives it back.
"""
import os
import shutil
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager

import pytest
import redis

from absent import absent
from conftest import REDIS_URL, TEST_ENCRYPTION_KEY, redis_or_skip
from servers import PROJECT, stopped

CLAIM_SECONDS = 900  # a claim left by a run that was killed lapses


@contextmanager
def redis_queue_url():
    """Yields ``redis://host:port/N`` for a database N no other test uses meanwhile, empty."""
    redis_or_skip()
    base = REDIS_URL.rsplit("/", 1)[0]
    claim = f"pid-{os.getpid()}-{uuid.uuid4().hex}"
    with redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2) as claims:
        number = next((n for n in range(1, 16)
                       if claims.set(f"jim-test-queue-db-{n}", claim, nx=True, ex=CLAIM_SECONDS)), None)
        if number is None:
            pytest.fail("every Redis database from 1 to 15 is claimed by another test", pytrace=False)
        own = redis.Redis.from_url(f"{base}/{number}", socket_connect_timeout=2)
        try:
            own.flushdb()
            yield f"{base}/{number}"
        finally:
            own.flushdb()
            own.close()
            if claims.get(f"jim-test-queue-db-{number}") == claim.encode():
                claims.delete(f"jim-test-queue-db-{number}")


@contextmanager
def redis_server(port: int, folder):
    """A Redis of the test's own on ``port``, keeping nothing on disk: one that a test may stop and start."""
    found = shutil.which("redis-server")
    if found is None:
        absent("redis-server is not installed (Debian's package redis-server)")
    process = subprocess.Popen([found, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly",
                                "no", "--dir", str(folder)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                with redis.Redis.from_url(url, socket_connect_timeout=1) as client:
                    client.ping()
                break
            except redis.ConnectionError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"redis-server did not start on port {port}") from None
                time.sleep(0.05)
        yield url
    finally:
        stopped(process)


def worker_process(app_config: dict, log_path, **environment) -> subprocess.Popen:
    """``flask --app app worker`` as the Procfile starts it, on the test's store and queue."""
    variables = {**os.environ, "DATABASE_URL": app_config["SQLALCHEMY_DATABASE_URI"],
                 "JIM_ENCRYPTION_KEY": TEST_ENCRYPTION_KEY, "JIM_TASK_QUEUE_URL": app_config["JIM_TASK_QUEUE_URL"],
                 "JIM_CONNECTOR_FILES_ROOT": app_config["JIM_CONNECTOR_FILES_ROOT"], "JIM_WORKER_THREADS": "1",
                 **environment}
    with open(log_path, "wb") as log:
        return subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "worker"], cwd=PROJECT,
                                env=variables, stdout=log, stderr=subprocess.STDOUT)
