"""The worker: Full Imports run outside the web workers, on a Huey task queue.

The queue is Huey's SQLite storage in the instance folder by default (``scripts/serve`` then needs nothing
else), or Redis when ``JIM_TASK_QUEUE_URL`` names one (``redis://``), so that workers on several machines take
the work of web workers on others. The web app only enqueues (``enqueue``); ``flask --app app worker`` consumes,
each task in an app context of its own, with ``JIM_WORKER_THREADS`` threads.
"""
import logging
import sqlite3
import sys
from urllib.parse import urlsplit

import click
from flask import current_app
from flask.cli import with_appcontext

import activities
from database import db, write_transaction
from errors import ServiceUnavailable

log = logging.getLogger(__name__)
QUEUE_NAME = "jim"
# A Redis that accepts and never answers would hold an execute, or the worker, forever. Above the consumer's
# blocking read (Huey's one second), so that an idle queue is never taken for a silent one.
REDIS_TIMEOUT_SECONDS = 5
# On SQLite, how long a thread holds the interpreter while another waits for it (Python's default: 5 ms). An
# import's writing thread waits for it each time it comes back from the driver, the store's write lock held,
# while the reading thread decodes, and a PUT waits with it: the 99th percentile of PUTs during an import went
# from 29 ms to 21 with this (bench/full_import.py). On PostgreSQL, whose writers lock only their rows, it only
# cost the web workers CPU (their 99th percentile, 13 ms, became 16).
SWITCH_INTERVAL_SECONDS = 0.0002
REDIS_SCHEMES = ("redis://", "rediss://", "unix://")  # as redis-py's from_url reads them
NOT_QUEUED = "The task queue cannot be reached, so the run was not queued; try again shortly."


def queue_for(url: str):
    """The Huey instance for JIM_TASK_QUEUE_URL: Redis for redis:// and rediss://, else the SQLite file named."""
    # Imported here: huey's storage module loads psycopg when it is installed, which a web worker on SQLite
    # that never executes a run profile should not pay for.
    from huey import RedisHuey, SqliteHuey  # noqa: PLC0415
    from redis import ConnectionPool  # noqa: PLC0415

    if url.startswith(REDIS_SCHEMES):
        pool = ConnectionPool.from_url(url, socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
                                       socket_timeout=REDIS_TIMEOUT_SECONDS)
        return RedisHuey(QUEUE_NAME, connection_pool=pool, results=False)
    return SqliteHuey(QUEUE_NAME, filename=sqlite_file(url), results=False)


def sqlite_file(url: str) -> str:
    return url.removeprefix("sqlite:///")


def init_app(app):
    app.extensions["task_queue"] = TaskQueue(app)
    app.cli.add_command(worker)


class TaskQueue:
    """The app's queue and its one task, made when first used: a web worker that never executes a run profile
    opens no queue."""

    def __init__(self, app):
        self.app = app
        self._made = None

    def made(self):
        if self._made is None:
            queue = queue_for(self.app.config["JIM_TASK_QUEUE_URL"])
            app = self.app

            @queue.task(name="full_import")
            def full_import_task(activity_id: str):
                import full_import  # noqa: PLC0415  (the connectors and their drivers, loaded where they run)
                from database import db  # noqa: PLC0415

                with app.app_context():
                    try:
                        full_import.run(activity_id)
                    finally:
                        db.session.remove()

            self._made = (queue, full_import_task)
        return self._made


def queue_errors() -> tuple:
    """What the queue's storage raises when it cannot take or give a task."""
    from redis import RedisError  # noqa: PLC0415  (loaded with Huey, where the queue is made)

    return RedisError, sqlite3.Error, OSError


def location(url: str) -> str:
    """Where the queue is, for an operator: Redis's host and port or its Unix socket's path (never its
    password), or SQLite's file."""
    if not url.startswith(REDIS_SCHEMES):
        return sqlite_file(url)
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port or 6379}" if parts.hostname else parts.path


def enqueue(activity_id: str, task_id: str):
    """The activity's Full Import, queued under ``task_id``; a queue that cannot take it fails the activity, so
    that nothing waits InProgress for a task that was never queued, and raises ``ServiceUnavailable``."""
    queue, task = current_app.extensions["task_queue"].made()
    message = task.s(activity_id)
    message.id = task_id
    try:
        queue.enqueue(message)
    except queue_errors() as error:
        # The detail for the operator alone: an answer never names the service's own servers.
        log.error("activity %s was not queued: the task queue at %s: %s", activity_id,
                  location(current_app.config["JIM_TASK_QUEUE_URL"]), error)
        with write_transaction() as connection:
            activities.fail(connection, activity_id, NOT_QUEUED)
        raise ServiceUnavailable(NOT_QUEUED) from None


def waiting(task_id: str) -> bool:
    """Whether the task is in the queue, waiting for a worker; True when the queue cannot say (it is then not
    taken for lost)."""
    queue, _ = current_app.extensions["task_queue"].made()
    try:
        return any(task.id == task_id for task in queue.pending())
    except queue_errors() as error:
        log.warning("the task queue at %s could not list its tasks: %s",
                    location(current_app.config["JIM_TASK_QUEUE_URL"]), error)
        return True


@click.command("worker")
@with_appcontext
def worker():
    """Run the worker: take Full Imports from the task queue and run them, until stopped (SIGINT, SIGTERM)."""
    queue, _ = current_app.extensions["task_queue"].made()
    where = location(current_app.config["JIM_TASK_QUEUE_URL"])
    try:
        queue.pending_count()  # the consumer itself would only log each failed read, for ever
    except queue_errors() as error:
        raise click.ClickException(f"The task queue at {where} cannot be reached: {error}") from None
    threads = current_app.config["JIM_WORKER_THREADS"]
    if db.engine.dialect.name == "sqlite":
        sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)
    log.info("worker started: %d threads on %s", threads, type(queue).__name__)
    queue.create_consumer(workers=threads, worker_type="thread").run()
