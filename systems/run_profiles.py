"""A connected system's run profiles: what each of its synchronisation runs does (JIM's run types), on which
partition, with what page size and file.

A run profile is part of the system's configuration: creating, changing or deleting one moves the system's
version (its ETag) and is recorded in its history, in the write that ``systems.save`` makes. The functions
here read and compute; the rules that need the stored state (the connector can run the type, the partition is
the system's, Verification Mode only on a Full Import) are checked here, and fail as the envelope's
``validationErrors`` naming the field. Executing a run profile is not part of this service yet.
"""
from dataclasses import dataclass, replace
from datetime import datetime

from marshmallow import ValidationError
from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.engine import Connection

from connectors.interface import Connector, RunType
from errors import NotFound
from history import Change
from models import partitions_table, run_profiles_table, utcnow
from systems import PartEdit, in_range
from systems.hierarchy import StoredPartition

PROFILES, PARTITIONS = run_profiles_table, partitions_table
# The fields a client sets, as the wire and the history name them, and their column.
FIELDS = (("name", "name"), ("runType", "run_type"), ("pageSize", "page_size"), ("partitionId", "partition_id"),
          ("filePath", "file_path"), ("verifyImportContentHashes", "verify_import_content_hashes"))
VERIFICATION_NEEDS_FULL_IMPORT = "VerifyImportContentHashes can only be enabled on a Full Import Run Profile."


@dataclass(frozen=True)
class StoredRunProfile:
    id: int
    connected_system_id: int
    name: str
    run_type: str
    page_size: int
    partition_id: int | None
    file_path: str | None
    verify_import_content_hashes: bool
    created: datetime
    partition_name: str | None = None
    partition_selected: bool | None = None

    @property
    def targets_deselected_partition(self) -> bool:
        """JIM's flag: a profile on a partition that is not selected cannot run. One on no partition can."""
        return self.partition_id is not None and not self.partition_selected


PROFILES_OF_SYSTEM = (
    select(PROFILES, PARTITIONS.c.name.label("partition_name"), PARTITIONS.c.selected.label("partition_selected"))
    .outerjoin(PARTITIONS, PARTITIONS.c.id == PROFILES.c.partition_id)
    .where(PROFILES.c.connected_system_id == bindparam("system_id"))
    .order_by(PROFILES.c.id)
)


def read_all(connection: Connection, system_id: int) -> list[StoredRunProfile]:
    """The system's run profiles, oldest first."""
    return [StoredRunProfile(**row._mapping) for row in connection.execute(PROFILES_OF_SYSTEM,
                                                                           {"system_id": system_id})]


def find(profiles: list[StoredRunProfile], system_id: int, run_profile_id: int) -> StoredRunProfile:
    for profile in profiles if in_range(run_profile_id) else []:
        if profile.id == run_profile_id:
            return profile
    raise NotFound(f"Connected system {system_id} has no run profile {run_profile_id}.")


def shown(profile: StoredRunProfile) -> dict:
    """A profile's fields as the history keeps them."""
    return {name: getattr(profile, column) for name, column in FIELDS}


def checked(profile: StoredRunProfile, connector: Connector, partitions: list[StoredPartition]) -> StoredRunProfile:
    """The profile with its partition's name and selection, once it keeps every rule that needs more than its
    body: the connector can run its type, its partition is the system's, Verification Mode only on a Full
    Import. Every broken rule is reported at once, each under its field."""
    problems = {}
    run_type = RunType(profile.run_type)
    if not connector.can_run(run_type):
        problems["runType"] = [f"The {connector.name} cannot run a {run_type}."]
    if profile.verify_import_content_hashes and run_type is not RunType.FULL_IMPORT:
        problems["verifyImportContentHashes"] = [VERIFICATION_NEEDS_FULL_IMPORT]
    partition = next((partition for partition in partitions if partition.id == profile.partition_id), None)
    if profile.partition_id is not None and partition is None:
        problems["partitionId"] = [f"Partition with ID {profile.partition_id} not found."]
    if problems:
        raise ValidationError(problems)
    return replace(profile, partition_name=partition.name if partition else None,
                   partition_selected=partition.selected if partition else None)


INSERT_PROFILE = insert(PROFILES).returning(PROFILES.c.id)
UPDATE_PROFILE = update(PROFILES).where(PROFILES.c.id == bindparam("run_profile_id"))
DELETE_PROFILE = delete(PROFILES).where(PROFILES.c.id == bindparam("run_profile_id"))


def create(connection: Connection, system_id: int, connector: Connector, partitions: list[StoredPartition],
           fields: dict) -> tuple[StoredRunProfile, PartEdit]:
    """A new run profile, inserted on the write's connection (its id is the answer's), and its history."""
    profile = checked(StoredRunProfile(id=0, connected_system_id=system_id, created=utcnow(), **fields),
                      connector, partitions)
    row = {column: getattr(profile, column) for column in PROFILES.c.keys() if column != "id"}
    profile = replace(profile, id=connection.execute(INSERT_PROFILE, row).scalar_one())
    return profile, PartEdit((), (Change(f"runProfiles.{profile.id}", None, shown(profile)),))


def changed(profile: StoredRunProfile, connector: Connector, partitions: list[StoredPartition], fields: dict
            ) -> tuple[StoredRunProfile, PartEdit]:
    """The profile with ``fields`` (by column) applied, the write of what differs, and its history."""
    after = checked(replace(profile, **fields), connector, partitions)
    differing = [(name, column) for name, column in FIELDS if getattr(profile, column) != getattr(after, column)]
    if not differing:
        return after, PartEdit((), ())
    values = {column: getattr(after, column) for _, column in differing}
    changes = tuple(Change(f"runProfiles.{profile.id}.{name}", getattr(profile, column), getattr(after, column))
                    for name, column in differing)
    return after, PartEdit(((UPDATE_PROFILE, {"run_profile_id": profile.id, **values}),), changes)


def deleted(profile: StoredRunProfile) -> PartEdit:
    return PartEdit(((DELETE_PROFILE, {"run_profile_id": profile.id}),),
                    (Change(f"runProfiles.{profile.id}", shown(profile), None),))
