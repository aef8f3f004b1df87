"""Activities: each run of a run profile, as JIM's, with its progress, its counts and its per-object items.

An activity is InProgress from the moment it is queued. The worker that runs it records who it is (its host and
process) and, with each batch, that it is still at work (``heartbeat``). A run whose worker is gone is found out
when the activity is seen again (``seen``): its process no longer runs on this host, or it has not been heard
from for ``STALE_SECONDS``. It is then FailedWithError, saying how far it got, never InProgress forever.
"""
import json
import os
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Text, bindparam, delete, func, insert, or_, select, update
from sqlalchemy.engine import Connection

from database import db, insert_json_rows, write_transaction
from models import activities_table, activity_items_table, utcnow

ACTIVITIES, ITEMS = activities_table, activity_items_table
IN_PROGRESS, COMPLETE, COMPLETE_WITH_ERROR, FAILED = "InProgress", "Complete", "CompleteWithError", "FailedWithError"
FINISHED = ("Complete", "CompleteWithWarning", "CompleteWithError", "FailedWithError", "Cancelled")
# A worker writes at least every batch, and a batch waits at most a step of its read: one not heard from for
# this long is gone, wherever it ran.
STALE_SECONDS = 120
TOTALS = ("total_added", "total_updated", "total_unchanged", "total_deleted", "total_errors")


def this_worker() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def created(system, profile, by_name: str | None) -> dict:
    """A new activity's row, queued: InProgress, as JIM's is from the moment it is queued."""
    return {
        "id": str(uuid.uuid4()), "task_id": str(uuid.uuid4()), "connected_system_id": system.id,
        "run_profile_id": profile.id, "run_type": profile.run_type, "target_name": profile.name,
        "target_context": system.name, "status": IN_PROGRESS, "message": "Queued: waiting for a worker.",
        "initiated_by_type": "ApiKey" if by_name is not None else "NotSet", "initiated_by_name": by_name,
        "created": utcnow(), "objects_to_process": 0, "objects_processed": 0, "total_object_types": 0,
        **dict.fromkeys(TOTALS, 0),
    }


INSERT_ACTIVITY = insert(ACTIVITIES)


def running_of(connection: Connection, system_id: int) -> str | None:
    """The id of the system's activity InProgress, if any (call ``seen`` first)."""
    return connection.execute(select(ACTIVITIES.c.id).where(ACTIVITIES.c.connected_system_id == system_id,
                                                            ACTIVITIES.c.status == IN_PROGRESS)).scalar()


def seen():
    """Fail each started activity whose worker is gone: its process no longer runs here, or it is silent."""
    host = socket.gethostname()
    stale_before = utcnow() - timedelta(seconds=STALE_SECONDS)
    rows = db.session.connection().execute(select(ACTIVITIES.c.id, ACTIVITIES.c.worker, ACTIVITIES.c.heartbeat,
                                     ACTIVITIES.c.objects_processed)
                              .where(ACTIVITIES.c.status == IN_PROGRESS, ACTIVITIES.c.worker.is_not(None))).all()
    for row in rows:
        worker_host, _, pid = row.worker.rpartition(":")
        gone = (worker_host == host and not process_runs(int(pid))) or row.heartbeat < stale_before
        if gone:
            with write_transaction() as connection:
                fail(connection, row.id, f"The worker running it stopped after {row.objects_processed:,} objects "
                                         f"({row.worker}); the connector space holds the batches it finished. "
                                         f"Run it again to converge.", started_by=row.worker)


LOST = ("Its task is no longer in the task queue (lost with a queue that restarted empty, or with a worker that "
        "stopped as it took it), so no worker will run it; execute the run profile again.")


def fail_lost(system_id: int, waiting: Callable[[str], bool]):
    """Fail the system's queued activity, which no worker has taken, if ``waiting(task_id)`` says its task is no
    longer in the queue: else it would stay InProgress, and every execute of the system 409, for ever."""
    row = db.session.connection().execute(
        select(ACTIVITIES.c.id, ACTIVITIES.c.task_id)
        .where(ACTIVITIES.c.connected_system_id == system_id, ACTIVITIES.c.status == IN_PROGRESS,
               ACTIVITIES.c.worker.is_(None))).one_or_none()
    db.session.rollback()  # no read held open while the queue is asked
    if row is None or waiting(row.task_id):
        return
    with write_transaction() as connection:  # only while still untaken: a worker that took it meanwhile runs it
        connection.execute(update(ACTIVITIES).where(ACTIVITIES.c.id == row.id, ACTIVITIES.c.status == IN_PROGRESS,
                                                    ACTIVITIES.c.worker.is_(None))
                           .values(status=FAILED, error_message=LOST, message=LOST, completed=utcnow()))


def process_runs(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it runs, as another user
        return True
    return True


def started(connection: Connection, activity_id: str, configuration_version: int, object_types: int) -> bool:
    """The worker takes the activity; False when it is no longer InProgress (failed, or taken)."""
    now = utcnow()
    taken = connection.execute(
        update(ACTIVITIES).where(ACTIVITIES.c.id == activity_id, ACTIVITIES.c.status == IN_PROGRESS,
                                 ACTIVITIES.c.worker.is_(None))
        .values(worker=this_worker(), heartbeat=now, executed=now, configuration_version=configuration_version,
                total_object_types=object_types, message="Reading objects from the connected system."))
    return taken.rowcount == 1


PROGRESS = (update(ACTIVITIES)
            .where(ACTIVITIES.c.id == bindparam("activity_id"), ACTIVITIES.c.status == IN_PROGRESS,
                   ACTIVITIES.c.worker == bindparam("by"))
            .values(objects_processed=bindparam("processed"), message=bindparam("said"), heartbeat=bindparam("now"),
                    **{total: bindparam(f"set_{total}") for total in TOTALS}))


class Abandoned(Exception):
    """The activity is no longer this worker's to run: it was failed as gone meanwhile."""


@dataclass
class Counts:
    processed: int = 0
    total_added: int = 0
    total_updated: int = 0
    total_unchanged: int = 0
    total_deleted: int = 0
    total_errors: int = 0


def progressed(connection: Connection, activity_id: str, counts: Counts, message: str):
    """The activity's counts as they are, in the write of the batch that made them: ``Abandoned`` (and the
    batch rolled back with it) when the activity is no longer this worker's."""
    moved = connection.execute(PROGRESS, {
        "activity_id": activity_id, "by": this_worker(), "processed": counts.processed, "said": message,
        "now": utcnow(),
        **{f"set_{total}": getattr(counts, total) for total in TOTALS}})
    if moved.rowcount != 1:
        raise Abandoned(activity_id)


def finished(connection: Connection, activity_id: str, counts: Counts, warnings: list[str]):
    status = COMPLETE_WITH_ERROR if counts.total_errors else ("CompleteWithWarning" if warnings else COMPLETE)
    message = (f"Imported {counts.processed:,} objects: {counts.total_added:,} added, {counts.total_updated:,} "
               f"updated, {counts.total_unchanged:,} unchanged, {counts.total_deleted:,} deleted, "
               f"{counts.total_errors:,} errors.")
    moved = connection.execute(
        update(ACTIVITIES).where(ACTIVITIES.c.id == activity_id, ACTIVITIES.c.status == IN_PROGRESS,
                                 ACTIVITIES.c.worker == this_worker())
        .values(status=status, message=message, completed=utcnow(), objects_processed=counts.processed,
                objects_to_process=counts.processed, warning_message="\n".join(warnings) or None,
                **{total: getattr(counts, total) for total in TOTALS}))
    if moved.rowcount != 1:
        raise Abandoned(activity_id)


def fail(connection: Connection, activity_id: str, message: str, started_by: str | None = None):
    """The activity FailedWithError with ``message`` (scrubbed of secrets by whoever made it); only while it is
    InProgress, and, with ``started_by``, only while that worker still has it."""
    condition = [ACTIVITIES.c.id == activity_id, ACTIVITIES.c.status == IN_PROGRESS]
    if started_by is not None:
        condition.append(ACTIVITIES.c.worker == started_by)
    connection.execute(update(ACTIVITIES).where(*condition)
                       .values(status=FAILED, error_message=message, message=message, completed=utcnow()))


# A batch's items in one statement, as connector_space inserts a batch's objects: each item its position and
# its ``ITEM_FIELDS``, one JSON array.
ITEM_FIELDS = ("object_id", "external_id", "display_name", "object_type", "change_type", "error_type",
               "outcome_summary")
INSERT_ITEMS = insert_json_rows(ITEMS, ("position", *ITEM_FIELDS), activity_id=bindparam("activity_id", type_=Text))


def add_items(connection: Connection, activity_id: str, first_position: int, items: list[dict]):
    """The items, the activity's from ``first_position`` on."""
    rows = [(position, *(item[field] for field in ITEM_FIELDS))
            for position, item in enumerate(items, start=first_position)]
    connection.execute(INSERT_ITEMS, {"activity_id": activity_id, "rows": json.dumps(rows, ensure_ascii=False)})


def forget_items(connection: Connection, system_id: int):
    """The per-object items of every run of the system, deleted: its objects' change history, as JIM's clear."""
    runs = select(ACTIVITIES.c.id).where(ACTIVITIES.c.connected_system_id == system_id).scalar_subquery()
    connection.execute(delete(ITEMS).where(ITEMS.c.activity_id.in_(runs)))


# --- Reading ----------------------------------------------------------------------------------------------

def find(connection: Connection, activity_id: str):
    return connection.execute(select(ACTIVITIES).where(ACTIVITIES.c.id == activity_id)).one_or_none()


def page(connection: Connection, page_number: int, page_size: int, connected_system_id: int | None,
         search: str | None) -> tuple[list, int]:
    """Newest first."""
    statement = select(ACTIVITIES)
    if connected_system_id is not None:
        statement = statement.where(ACTIVITIES.c.connected_system_id == connected_system_id)
    if search:
        pattern = "%" + search.lower().replace("\\", "\\\\").replace("_", "\\_").replace("%", "\\%") + "%"
        statement = statement.where(or_(func.lower(ACTIVITIES.c.target_name).like(pattern, escape="\\"),
                                        func.lower(ACTIVITIES.c.target_context).like(pattern, escape="\\")))
    total = connection.execute(select(func.count()).select_from(statement.subquery())).scalar_one()
    rows = connection.execute(statement.order_by(ACTIVITIES.c.created.desc(), ACTIVITIES.c.id.desc())
                              .limit(page_size).offset((page_number - 1) * page_size)).all()
    return rows, total


def items_page(connection: Connection, activity_id: str, page_number: int, page_size: int) -> tuple[list, int]:
    total = connection.execute(select(func.count()).select_from(ITEMS)
                               .where(ITEMS.c.activity_id == activity_id)).scalar_one()
    rows = connection.execute(select(ITEMS).where(ITEMS.c.activity_id == activity_id).order_by(ITEMS.c.position)
                              .limit(page_size).offset((page_number - 1) * page_size)).all()
    return rows, total


def item_id(activity_id: str, position: int) -> uuid.UUID:
    """An item's id, the same on every read: made from its activity's and its position."""
    return uuid.uuid5(uuid.UUID(activity_id), str(position))


def elapsed(row, now: datetime) -> float:
    start = row.executed or row.created
    end = row.completed or now
    return max(0.0, (end - start).total_seconds())
