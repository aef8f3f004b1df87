"""The change history of connected systems: written inside the transaction of each change, read newest first."""
from sqlalchemy import func, insert, select
from sqlalchemy.engine import Connection

from auth import Principal
from database import db
from models import ID_MAX, Change, ChangeAction, ChangeRecord, ConnectedSystem, utcnow
from systems import not_found

ACTOR_TYPE = "ApiKey"  # the only kind of caller this service has
# A Core insert, built once and run on the write's connection: a record is written with every change, and
# an entity would cost a flush.
RECORD = insert(ChangeRecord.__table__)


def record(
    connection: Connection,
    system_id: int,
    action: ChangeAction,
    changes: list[Change],
    by: Principal,
    reason: str | None = None,
):
    """Add the record to the write on ``connection``; a change that changed nothing is not recorded."""
    if not changes:
        return
    connection.execute(
        RECORD,
        {
            "connected_system_id": system_id,
            "changed_at": utcnow(),
            "actor_type": ACTOR_TYPE,
            "actor_name": by.name,
            "actor_prefix": by.prefix,
            "action": str(action),
            "change_reason": reason,
            "changes": [change.as_record() for change in changes],
        },
    )


def record_created(connection: Connection, system: ConnectedSystem, by: Principal, reason: str | None):
    changes = [Change(field, None, value) for field, value in system.stored_fields().items()]
    record(connection, system.id, ChangeAction.CREATED, changes, by, reason)


def record_deleted(connection: Connection, system: ConnectedSystem, by: Principal):
    """What the system held when it was deleted, so that the history says what went."""
    changes = [Change(field, value, None) for field, value in system.stored_fields().items()]
    record(connection, system.id, ChangeAction.DELETED, changes, by)


def page_of_changes(system_id: int, page: int, page_size: int) -> tuple[list[ChangeRecord], int]:
    """One page of the system's records, newest first, and how many there are; 404 if it never existed."""
    if system_id > ID_MAX:
        raise not_found(system_id)
    of_system = ChangeRecord.connected_system_id == system_id
    total = db.session.scalar(select(func.count()).select_from(ChangeRecord).where(of_system))
    if total == 0 and db.session.get(ConnectedSystem, system_id) is None:
        raise not_found(system_id)
    records = db.session.scalars(
        select(ChangeRecord).where(of_system).order_by(ChangeRecord.id.desc())
        .limit(page_size).offset((page - 1) * page_size)
    ).all()
    return records, total
