"""What deleting a connected system would take with it, as JIM's deletion preview counts it.

The counts this service keeps are real: run profiles, partitions, containers, object types and the change
history's records. Those of JIM's sync engine (connector space objects, synchronisation rules, pending exports,
metaverse objects) are 0: nothing here holds them. Deleting keeps the change history, as JIM keeps it.
"""
from sqlalchemy import bindparam, func, select
from sqlalchemy.engine import Connection

from models import (
    change_records_table,
    containers_table,
    object_types_table,
    partitions_table,
    run_profiles_table,
)

# JIM's estimate: 100 connector space objects a second, and never less than a second.
ESTIMATED_DELETION_TIME = "00:00:01"
COUNTED = {"run_profile_count": run_profiles_table, "partition_count": partitions_table,
           "container_count": containers_table, "object_type_count": object_types_table,
           "activity_count": change_records_table}
COUNTS = select(*(select(func.count()).where(table.c.connected_system_id == bindparam("system_id"))
                  .scalar_subquery().label(name) for name, table in COUNTED.items()))


def preview(connection: Connection, system) -> dict:
    """JIM's ConnectedSystemDeletionPreview of ``system``, with its object types counted besides."""
    counts = connection.execute(COUNTS, {"system_id": system.id}).one()._asdict()
    return {"connected_system_id": system.id, "connected_system_name": system.name, **counts,
            "connected_system_object_count": 0, "sync_rule_count": 0, "pending_export_count": 0,
            "joined_mvo_count": 0, "mvos_with_other_connectors_count": 0, "mvos_with_deletion_rule_count": 0,
            "mvos_with_grace_period_count": 0,
            # JIM warns only of what its sync engine would lose (rules, joined and deleted metaverse objects,
            # pending exports, a running synchronisation), and nothing here holds any of it.
            "warnings": [],
            "estimated_deletion_time": ESTIMATED_DELETION_TIME, "will_run_as_background_job": False,
            "has_running_sync_operation": False}
