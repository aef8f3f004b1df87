"""A Full Import, as the worker runs it: the system read through its connector into its connector space.

The configuration is read once, when the run starts, and the run records the system's version it read it at:
a change made meanwhile is the next run's. Objects are applied a batch at a time (``BATCH_OBJECTS``), each
batch one short write transaction that also records the activity's progress, so that the store's write lock is
never held for longer than a batch, a run that stops leaves whole batches, and a re-run converges. An object
whose values did not change writes nothing. Once the whole scope is read, the objects of its types (and
partitions) that were not seen are marked Obsolete, as JIM's deleted objects are.

Secrets are revealed for the connector's call alone (``discovery.settings_for``); what it raises is scrubbed of
them by ``connectors.runner`` before it reaches the activity or a log line.
"""
import gc
import logging
import threading
import time
from array import array
from bisect import bisect_left
from contextlib import contextmanager
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select

import activities
import connector_space
import systems
from activities import Abandoned, Counts
from connectors import runner
from connectors.interface import (
    AttributeScope,
    AttributeType,
    ConnectorError,
    ContainerScope,
    ContainerScopeKind,
    ImportedObject,
    ObjectTypeScope,
    PartitionScope,
    ReadScope,
)
from database import db, write_transaction
from discovery import settings_for
from errors import ApiError
from models import activities_table, containers_table, utcnow
from systems import object_types, run_profiles
from systems.hierarchy import read_partitions

log = logging.getLogger(__name__)
# Objects a write applies, by store. SQLite's write lock is the whole store's: a PUT waits for the batch being
# written, and 500 objects held it some 13 ms, 25 at the 99th percentile (measured: bench/full_import.py);
# 100, about 3. PostgreSQL's writers lock only the rows they write.
BATCH_OBJECTS = {"sqlite": 100, "postgresql": 500}
PROGRESS_SECONDS = 1.0  # how often a run of unchanged objects, which writes nothing else, says how far it is
SWEEP_OBJECTS = 2000  # stored objects read at a time when looking for those not seen
RECENT_KEYS = 65536  # keys of objects seen held in a set before they join the sorted array: about 6 MB
SWEEPING = "Marking the objects no longer in the connected system as deleted."


class CannotRun(Exception):
    """The stored configuration cannot be imported: the reason, for the activity and the execute answer."""


@dataclass(frozen=True)
class Plan:
    """What a run reads: one scope per partition (LDAP) or one for the whole system, and the ids it needs."""

    scopes: tuple[tuple[int | None, ReadScope], ...]
    type_ids: dict[str, int]  # by the object type's name, case-folded
    display: dict[str, str | None]  # the attribute that names each type's objects, by the type's name case-folded
    partition_ids: tuple[int, ...] | None  # the partitions read, when the system has them


def plan(connection, system, profile) -> Plan:
    """The run's scope from the stored configuration, or ``CannotRun`` saying why there is none."""
    if not system.setting_values_valid:
        raise CannotRun(f"The settings of connected system {system.id} are not valid: import its schema "
                        f"successfully since their last change, then run it again.")
    types = [stored for stored in object_types.read_all(connection, system.id) if stored.selected]
    if not types:
        raise CannotRun(f"Connected system {system.id} has no selected object type: select the types to import.")
    scopes = tuple(type_scope(stored) for stored in types)
    type_ids = {stored.name.casefold(): stored.id for stored in types}
    display = {scope.name.casefold(): connector_space.display_attribute([a.name for a in scope.attributes])
               for scope in scopes}
    if system.connector.discover_hierarchy is None:
        return Plan(((None, ReadScope(scopes, file_path=profile.file_path)),), type_ids, display, None)
    partitions = [partition for partition in read_partitions(connection, system.id)
                  if (partition.id == profile.partition_id if profile.partition_id else partition.selected)]
    if profile.partition_id and not any(partition.selected for partition in partitions):
        raise CannotRun(f"Run profile {profile.id} targets a partition that is not selected.")
    if not partitions:
        raise CannotRun(f"Connected system {system.id} has no selected partition: import its hierarchy and select "
                        f"the partitions to import.")
    containers = connection.execute(select(containers_table.c.partition_id, containers_table.c.external_id,
                                           containers_table.c.selected, containers_table.c.excluded,
                                           containers_table.c.scope)
                                    .where(containers_table.c.connected_system_id == system.id)).all()
    read = []
    for partition in partitions:
        own = [row for row in containers if row.partition_id == partition.id]
        selected = tuple(ContainerScope(row.external_id, ContainerScopeKind(row.scope))
                         for row in own if row.selected and not row.excluded)
        excluded = tuple(row.external_id for row in own if row.excluded)
        read.append((partition.id, ReadScope(scopes, (PartitionScope(partition.external_id, selected, excluded),))))
    return Plan(tuple(read), type_ids, display, tuple(partition.id for partition in partitions))


def type_scope(stored) -> ObjectTypeScope:
    attributes = [attribute for attribute in stored.attributes if attribute.selected or attribute.is_external_id
                  or attribute.is_secondary_external_id]
    external = next((attribute.name for attribute in attributes if attribute.is_external_id), None)
    if external is None:
        raise CannotRun(f"The object type {stored.name} has no external id attribute: choose one of its attributes "
                        f"as its external id.")
    secondary = next((attribute.name for attribute in attributes if attribute.is_secondary_external_id), None)
    return ObjectTypeScope(stored.name, tuple(
        AttributeScope(attribute.name, AttributeType(attribute.type), attribute.attribute_plurality == "MultiValued")
        for attribute in attributes), external, secondary)


def configuration(system_id: int, run_profile_id: int):
    """The system and its run profile as stored now."""
    connection = db.session.connection()
    system = systems.read(system_id)
    profile = run_profiles.find(run_profiles.read_all(connection, system_id), system_id, run_profile_id)
    return connection, system, profile


def run(activity_id: str):
    """The activity's Full Import, start to finish; whatever happens, the activity says how it ended."""
    activities.seen()
    activity = db.session.connection().execute(
        select(activities_table).where(activities_table.c.id == activity_id)).one_or_none()
    if activity is None or activity.status != activities.IN_PROGRESS or activity.worker is not None:
        db.session.rollback()
        return  # failed meanwhile, or another worker has it
    try:
        connection, system, profile = configuration(activity.connected_system_id, activity.run_profile_id)
        read_plan = plan(connection, system, profile)
        settings = settings_for(system)
    except (CannotRun, ApiError) as error:  # the configuration cannot be run, or the system or profile is gone
        reason = str(error) if isinstance(error, CannotRun) else error.message
        db.session.rollback()
        with write_transaction() as connection:
            activities.fail(connection, activity_id, reason)
        return
    with write_transaction() as connection:
        if not activities.started(connection, activity_id, system.version, len(read_plan.type_ids)):
            return
    importer = Importer(activity_id, system.id, read_plan)
    try:
        with long_lived_unscanned():
            for partition_id, scope in read_plan.scopes:
                objects = runner.read_objects(system.connector, settings, scope,
                                              current_app.config["JIM_CONNECTOR_TIMEOUT_SECONDS"], importer.may_read)
                importer.read(objects, partition_id)
            importer.sweep()
        with write_transaction() as connection:
            activities.finished(connection, activity_id, importer.counts, importer.warnings)
    except Abandoned:
        log.warning("full import %s was failed as gone while it ran; it stopped", activity_id)
    except ConnectorError as error:  # already scrubbed of the settings' secrets
        log.warning("full import %s failed: %s", activity_id, error.message)
        failed(activity_id, f"{error.message} {importer.how_far()}")
    except Exception:
        log.exception("full import %s failed", activity_id)
        failed(activity_id, f"The import failed unexpectedly. {importer.how_far()}")


@contextmanager
def long_lived_unscanned():
    """What is alive as a run starts (the app, its modules, the drivers) left out of the garbage collector's
    passes over its oldest objects until the run ends. A run makes objects fast enough to set off such a pass
    every couple of thousand objects, and each one went over all of them again: 60 passes of 70-80 ms in a
    100,000-object run, half of its time, some of it with the store's write lock held."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def failed(activity_id: str, message: str):
    db.session.rollback()
    with write_transaction() as connection:
        activities.fail(connection, activity_id, message, started_by=activities.this_worker())


class SeenKeys:
    """The 64-bit keys of the objects a run has read, in 8 bytes each whatever the run's size: a sorted array,
    and the newest (at most ``RECENT_KEYS``) in a set until they are merged into it. A Python set of them took
    some 55 bytes each, 55 MB for a million objects."""

    def __init__(self):
        self.merged = array("q")
        self.recent: set[int] = set()

    def __contains__(self, key: int) -> bool:
        if key in self.recent:
            return True
        at = bisect_left(self.merged, key)
        return at < len(self.merged) and self.merged[at] == key

    def add(self, key: int):
        self.recent.add(key)
        if len(self.recent) >= RECENT_KEYS:
            self.merge()

    def merge(self):
        merged, at = array("q"), 0
        for key in sorted(self.recent):
            to = bisect_left(self.merged, key, at)
            merged.extend(self.merged[at:to])
            merged.append(key)
            at = to
        merged.extend(self.merged[at:])
        self.merged, self.recent = merged, set()


class Importer:
    """One run's application of what is read: batches, counts, items and the objects seen."""

    def __init__(self, activity_id: str, system_id: int, read_plan: Plan):
        self.activity_id = activity_id
        self.system_id = system_id
        self.plan = read_plan
        self.counts = Counts()
        self.warnings: list[str] = []
        self.items = 0
        self.seen = SeenKeys()  # a hash of each (type, external id) read; 64 bits make a clash negligible
        self.batch_objects = BATCH_OBJECTS[db.engine.dialect.name]
        self.reported = time.monotonic()
        # While a batch holds SQLite's write lock, which is the whole store's, the reading thread waits: each
        # time it took the interpreter it held the lock longer, and a PUT of any system waited with it. The
        # other system's PUTs during an import went from 19-21 ms at the 99th percentile to 14-15 with it
        # waiting (bench/full_import.py). PostgreSQL's writers lock only their rows, so its reading goes on.
        self.may_read = threading.Event()
        self.may_read.set()
        self.pauses_reading = db.engine.dialect.name == "sqlite"

    def how_far(self) -> str:
        return (f"{self.counts.processed:,} objects were read and applied in whole batches before it stopped; "
                f"run it again to converge.")

    def read(self, objects, partition_id: int | None):
        batch: list[ImportedObject] = []
        for found in objects:
            batch.append(found)
            if len(batch) >= self.batch_objects:
                self.apply(batch, partition_id)
                batch = []
        if batch:
            self.apply(batch, partition_id)

    def apply(self, batch: list[ImportedObject], partition_id: int | None):
        prepared, items = [], []
        for found in batch:
            self.counts.processed += 1
            type_id = self.plan.type_ids[found.object_type.casefold()]
            if found.external_id is None:
                self.counts.total_errors += 1
                items.append(error_item(found, "MissingExternalIdAttributeValue"))
                continue
            if connector_space.NUL in found.external_id + (found.secondary_external_id or ""):
                self.counts.total_errors += 1
                items.append(error_item(found, "ImportAttributeValueError",
                                        "Its external id or secondary external id holds a NUL character, which no "
                                        "object's id may hold; it was left out."))
                continue
            key = hash((type_id, found.external_id))
            if key in self.seen:
                self.counts.total_errors += 1
                items.append(error_item(found, "DuplicateObject",
                                        f"Another object of {found.object_type} has the external id "
                                        f"{found.external_id}; this one was left out."))
                continue
            self.seen.add(key)
            if found.problems:
                self.counts.total_errors += 1
                items.append(error_item(found, "ImportAttributeValueError"))
            prepared.append(connector_space.Prepared.of(found, type_id, partition_id,
                                                        self.plan.display[found.object_type.casefold()]))
        now = utcnow()
        stored = connector_space.existing(db.session.connection(), self.system_id, prepared)
        inserts, updates, outcomes, counted = connector_space.changes(self.system_id, prepared, stored, now)
        for outcome in outcomes:
            if outcome.change_type == "Added":
                self.counts.total_added += 1
            else:
                self.counts.total_updated += 1
            items.append({"object_id": outcome.object_id, "external_id": outcome.prepared.external_id,
                          "display_name": outcome.prepared.display_name,
                          "object_type": type_name(self.plan, outcome.prepared.object_type_id),
                          "change_type": outcome.change_type, "error_type": None, "outcome_summary": None})
        self.counts.total_unchanged += len(prepared) - len(outcomes)
        self.write(inserts, updates, [], counted, items, now, "Reading objects from the connected system.")

    def write(self, inserts, updates, obsolete, counted, items, now, message: str):
        """One batch's writes and the activity's progress, in one short transaction; nothing at all when the
        batch changed nothing and progress was said less than ``PROGRESS_SECONDS`` ago."""
        if not (inserts or updates or obsolete or items) and time.monotonic() - self.reported < PROGRESS_SECONDS:
            db.session.rollback()  # the read's snapshot, released
            return
        if self.pauses_reading:
            self.may_read.clear()
        try:
            with write_transaction() as connection:
                connector_space.write(connection, self.system_id, inserts, updates, obsolete, counted, now)
                if items:
                    activities.add_items(connection, self.activity_id, self.items, items)
                activities.progressed(connection, self.activity_id, self.counts, message)
        finally:
            self.may_read.set()
        self.items += len(items)
        self.reported = time.monotonic()

    def sweep(self):
        """Each stored object of the run's types (and partitions) that the read did not see, marked Obsolete."""
        for type_id in self.plan.type_ids.values():
            self.sweep_type(type_id)
        db.session.rollback()

    def sweep_type(self, type_id: int):
        after = None
        while True:
            rows = connector_space.normal_objects(db.session.connection(), self.system_id, type_id,
                                                  self.plan.partition_ids, after, SWEEP_OBJECTS)
            if not rows:
                return
            after = rows[-1].external_id
            gone = [row for row in rows if hash((row.object_type_id, row.external_id)) not in self.seen]
            if not gone:  # says it is still at work, as a read of unchanged objects does
                self.write([], [], [], 0, [], utcnow(), SWEEPING)
            for start in range(0, len(gone), self.batch_objects):
                chunk = gone[start:start + self.batch_objects]
                self.counts.total_deleted += len(chunk)
                items = [{"object_id": row.id, "external_id": row.external_id, "display_name": row.display_name,
                          "object_type": type_name(self.plan, row.object_type_id), "change_type": "Deleted",
                          "error_type": None, "outcome_summary": None} for row in chunk]
                self.write([], [], [row.id for row in chunk], -len(chunk), items, utcnow(), SWEEPING)


def type_name(read_plan: Plan, type_id: int) -> str:
    return next(scope.name for _, read in read_plan.scopes[:1] for scope in read.object_types
                if read_plan.type_ids[scope.name.casefold()] == type_id)


def error_item(found: ImportedObject, error_type: str, summary: str | None = None) -> dict:
    external_id = None if found.external_id is None else connector_space.keepable(found.external_id)
    return {"object_id": None, "external_id": external_id, "display_name": None,
            "object_type": found.object_type, "change_type": "NotSet", "error_type": error_type,
            "outcome_summary": summary or " ".join(found.problems) or None}
