"""The worker: Full Imports run outside the web workers, on a Huey task queue.

The queue is Huey's SQLite storage in the instance folder by default (``scripts/serve`` then needs nothing
else), or Redis when ``JIM_TASK_QUEUE_URL`` names one (``redis://``), so that workers on several machines take
the work of web workers on others. The web app only enqueues (``enqueue``); ``flask --app app worker`` consumes,
each task in an app context of its own, with ``JIM_WORKER_THREADS`` threads.
"""
import logging

import click
from flask import current_app
from flask.cli import with_appcontext

log = logging.getLogger(__name__)
QUEUE_NAME = "jim"


def queue_for(url: str):
    """The Huey instance for JIM_TASK_QUEUE_URL: Redis for redis:// and rediss://, else the SQLite file named."""
    # Imported here: huey's storage module loads psycopg when it is installed, which a web worker on SQLite
    # that never executes a run profile should not pay for.
    from huey import RedisHuey, SqliteHuey  # noqa: PLC0415

    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisHuey(QUEUE_NAME, url=url, results=False)
    return SqliteHuey(QUEUE_NAME, filename=url.removeprefix("sqlite:///"), results=False)


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


def enqueue(activity_id: str, task_id: str):
    """The activity's Full Import, queued under ``task_id``."""
    queue, task = current_app.extensions["task_queue"].made()
    message = task.s(activity_id)
    message.id = task_id
    queue.enqueue(message)


@click.command("worker")
@with_appcontext
def worker():
    """Run the worker: take Full Imports from the task queue and run them, until stopped (SIGINT, SIGTERM)."""
    queue, _ = current_app.extensions["task_queue"].made()
    threads = current_app.config["JIM_WORKER_THREADS"]
    log.info("worker started: %d threads on %s", threads, type(queue).__name__)
    queue.create_consumer(workers=threads, worker_type="thread").run()
