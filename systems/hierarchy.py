"""A connected system's partitions and containers: what its hierarchy imports found (an LDAP directory's
naming contexts and the trees of organisational units under them), and what the administrator selected.

A hierarchy import is matched with what is stored by the directory's stable entry id where it has one, else
by the external id (the DN, ignoring case), so that a renamed or moved container keeps its id and its
selection. New ones arrive unselected; ones the directory no longer has are removed. The functions here
read, compare and compute; what they compute is a ``PartEdit`` that ``systems.save`` writes.
"""
from dataclasses import dataclass, field, replace

from sqlalchemy import Boolean, Integer, Text, bindparam, delete, false, func, insert, select, update
from sqlalchemy.engine import Connection

from connectors.interface import DiscoveredContainer, DiscoveredHierarchy, DiscoveredPartition
from errors import NotFound
from history import Change
from models import containers_table, partitions_table
from systems import PartEdit, in_range

PARTITIONS, CONTAINERS = partitions_table, containers_table


@dataclass(frozen=True)
class StoredContainer:
    id: int
    connected_system_id: int
    partition_id: int
    parent_id: int | None
    external_id: str
    stable_id: str | None
    name: str
    description: str | None
    hidden: bool
    selected: bool
    excluded: bool
    scope: str
    child_containers: tuple["StoredContainer", ...] = ()


@dataclass(frozen=True)
class StoredPartition:
    id: int
    connected_system_id: int
    external_id: str
    stable_id: str | None
    name: str
    selected: bool
    containers: tuple[StoredContainer, ...] = ()  # the top of its tree


def match_key(item) -> str:
    """How an item is recognised across imports: its stable id, else its external id ignoring case."""
    return f"id:{item.stable_id}" if item.stable_id else f"dn:{item.external_id.casefold()}"


def by_name(items) -> tuple:
    return tuple(sorted(items, key=lambda item: (item.name.casefold(), item.external_id.casefold(), item.id)))


# --- Reading ---------------------------------------------------------------------------------------------

PARTITIONS_OF_SYSTEM = select(PARTITIONS).where(PARTITIONS.c.connected_system_id == bindparam("system_id"))
CONTAINERS_OF_SYSTEM = select(CONTAINERS).where(CONTAINERS.c.connected_system_id == bindparam("system_id"))


def read_all(connection: Connection, system_id: int) -> list[StoredPartition]:
    """Every partition of the system, each with its tree of containers, sorted by name at every level."""
    rows = [StoredContainer(**row._mapping) for row in connection.execute(CONTAINERS_OF_SYSTEM, {"system_id": system_id})]
    children: dict[int | None, list[StoredContainer]] = {}
    for container in rows:
        children.setdefault(container.parent_id, []).append(container)

    def tree(container: StoredContainer) -> StoredContainer:
        return replace(container, child_containers=by_name(tree(child) for child in children.get(container.id, [])))

    tops: dict[int, list[StoredContainer]] = {}
    for container in children.get(None, []):
        tops.setdefault(container.partition_id, []).append(tree(container))
    partitions = [StoredPartition(**row._mapping) for row in connection.execute(PARTITIONS_OF_SYSTEM,
                                                                                 {"system_id": system_id})]
    return list(by_name(replace(partition, containers=by_name(tops.get(partition.id, [])))
                        for partition in partitions))


def read_partitions(connection: Connection, system_id: int) -> list[StoredPartition]:
    """The system's partitions alone, without their trees: what a run profile may target."""
    return [StoredPartition(**row._mapping) for row in connection.execute(PARTITIONS_OF_SYSTEM,
                                                                           {"system_id": system_id})]


def flattened(partitions: list[StoredPartition]) -> list[StoredContainer]:
    """Every container of every partition, parents before their children."""
    found, stack = [], [container for partition in partitions for container in partition.containers]
    while stack:
        container = stack.pop(0)
        found.append(container)
        stack.extend(container.child_containers)
    return found


def find_partition(partitions: list[StoredPartition], system_id: int, partition_id: int) -> StoredPartition:
    for partition in partitions if in_range(partition_id) else []:
        if partition.id == partition_id:
            return partition
    raise NotFound(f"Connected system {system_id} has no partition {partition_id}.")


def find_container(partitions: list[StoredPartition], system_id: int, container_id: int) -> StoredContainer:
    for container in flattened(partitions) if in_range(container_id) else []:
        if container.id == container_id:
            return container
    raise NotFound(f"Connected system {system_id} has no container {container_id}.")


# --- Comparing and merging a discovered hierarchy ---------------------------------------------------------

@dataclass(frozen=True)
class Item:
    """One item of the import's answer, as JIM shows it."""

    external_id: str
    name: str
    was_selected: bool
    item_type: str  # Partition or Container
    old_name: str | None = None
    new_name: str | None = None
    old_parent_external_id: str | None = None
    new_parent_external_id: str | None = None


@dataclass
class HierarchyChanges:
    """What a hierarchy import changed, as its answer shows it."""

    total_partitions: int = 0
    total_containers: int = 0
    added_partitions: list[Item] = field(default_factory=list)
    removed_partitions: list[Item] = field(default_factory=list)
    renamed_partitions: list[Item] = field(default_factory=list)
    added_containers: list[Item] = field(default_factory=list)
    removed_containers: list[Item] = field(default_factory=list)
    renamed_containers: list[Item] = field(default_factory=list)
    moved_containers: list[Item] = field(default_factory=list)

    @property
    def has_changes(self) -> bool:
        return any((self.added_partitions, self.removed_partitions, self.renamed_partitions, self.added_containers,
                    self.removed_containers, self.renamed_containers, self.moved_containers))

    @property
    def has_selected_items_removed(self) -> bool:
        return any(item.was_selected for item in self.removed_partitions + self.removed_containers)


NEW_PARTITION = insert(PARTITIONS)
SET_PARTITION = update(PARTITIONS).where(PARTITIONS.c.id == bindparam("partition_id"))
DELETE_PARTITION = delete(PARTITIONS).where(PARTITIONS.c.id == bindparam("partition_id"))


def by_external_id(table, name: str):
    """The id of the system's newest row of ``table`` with the external id bound as ``name``."""
    return select(table.c.id).where(
        table.c.connected_system_id == bindparam("system_id", type_=Integer),
        table.c.external_id == bindparam(name, type_=Text),
    ).order_by(table.c.id.desc()).limit(1).scalar_subquery()


# A container's partition and parent are bound by id when they are stored. One new in the same write is found
# by its external id, the newest row first: a stored one that this write removes may hold the same DN (an OU
# deleted and made again), and the new row must not go with it.
PARTITION_ID = func.coalesce(bindparam("stored_partition_id", type_=Integer),
                             by_external_id(PARTITIONS, "partition_external_id"))
PARENT_ID = func.coalesce(bindparam("stored_parent_id", type_=Integer),
                          by_external_id(CONTAINERS, "parent_external_id"))
NEW_CONTAINER = insert(CONTAINERS).from_select(
    ["connected_system_id", "partition_id", "parent_id", "external_id", "stable_id", "name", "description", "hidden",
     "selected"],
    select(bindparam("system_id", type_=Integer), PARTITION_ID, PARENT_ID,
           *(bindparam(name, type_=Text) for name in ("external_id", "stable_id", "name", "description")),
           bindparam("hidden", type_=Boolean), false()),
)
SET_CONTAINER = update(CONTAINERS).where(CONTAINERS.c.id == bindparam("container_id")).values(
    partition_id=PARTITION_ID, parent_id=PARENT_ID,
    **{column: bindparam(f"new_{column}", type_=Text) for column in ("external_id", "stable_id", "name",
                                                                     "description")},
    hidden=bindparam("new_hidden", type_=Boolean),
)
DELETE_CONTAINER = delete(CONTAINERS).where(CONTAINERS.c.id == bindparam("container_id"))


def discovered_containers(partition: DiscoveredPartition) -> list[tuple[DiscoveredContainer, DiscoveredContainer | None]]:
    """Every container of a discovered partition with its parent (None at the top), parents first."""
    found, queue = [], [(container, None) for container in partition.containers]
    while queue:
        container, parent = queue.pop(0)
        found.append((container, parent))
        queue.extend((child, container) for child in container.children)
    return found


def merged(system_id: int, stored: list[StoredPartition], discovered: DiscoveredHierarchy
           ) -> tuple[PartEdit, HierarchyChanges]:
    """The writes that make the stored hierarchy what was discovered, their history, and the import's answer."""
    answer = HierarchyChanges(total_partitions=len(discovered.partitions))
    statements, changes = [], []
    stored_partitions = {match_key(partition): partition for partition in stored}
    stored_containers = {match_key(container): container for container in flattened(stored)}
    by_id = {container.id: container for container in stored_containers.values()}
    partition_keys = {partition.id: match_key(partition) for partition in stored}
    seen_partitions, seen_containers = set(), set()

    for partition in discovered.partitions:
        key = match_key(partition)
        seen_partitions.add(key)
        old = stored_partitions.get(key)
        if old is None:
            statements.append((NEW_PARTITION, {"connected_system_id": system_id, "external_id": partition.external_id,
                                               "stable_id": partition.stable_id, "name": partition.name,
                                               "selected": False}))
            answer.added_partitions.append(Item(partition.external_id, partition.name, False, "Partition"))
            changes.append(Change(f"partitions.{partition.external_id}", None, {"name": partition.name}))
        elif (old.external_id, old.stable_id, old.name) != (partition.external_id, partition.stable_id, partition.name):
            statements.append((SET_PARTITION, {"partition_id": old.id, "external_id": partition.external_id,
                                               "stable_id": partition.stable_id, "name": partition.name}))
            if old.name != partition.name:
                answer.renamed_partitions.append(Item(partition.external_id, partition.name, old.selected, "Partition",
                                                      old_name=old.name, new_name=partition.name))
                changes.append(Change(f"partitions.{partition.external_id}.name", old.name, partition.name))

    # Parents before children, so that each container's parent already has its final external id.
    for partition in discovered.partitions:
        stored_partition = stored_partitions.get(match_key(partition))
        for container, parent in discovered_containers(partition):
            answer.total_containers += 1
            key = match_key(container)
            seen_containers.add(key)
            parent_external_id = parent.external_id if parent else None
            stored_parent = stored_containers.get(match_key(parent)) if parent else None
            row = {"system_id": system_id,
                   "stored_partition_id": stored_partition.id if stored_partition else None,
                   "partition_external_id": partition.external_id,
                   "stored_parent_id": stored_parent.id if stored_parent else None,
                   "parent_external_id": parent_external_id}
            old = stored_containers.get(key)
            if old is None:
                statements.append((NEW_CONTAINER, {**row, "external_id": container.external_id,
                                                   "stable_id": container.stable_id, "name": container.name,
                                                   "description": container.description, "hidden": container.hidden}))
                answer.added_containers.append(Item(container.external_id, container.name, False, "Container"))
                changes.append(Change(f"containers.{container.external_id}", None,
                                      {"name": container.name, "parentExternalId": parent_external_id}))
                continue
            old_parent = by_id.get(old.parent_id)
            old_parent_external_id = old_parent.external_id if old_parent else None
            # Moved: under another parent, or to the top of another partition; a renamed parent is no move.
            moved = (match_key(old_parent) if old_parent else partition_keys[old.partition_id]) != (
                match_key(parent) if parent else match_key(partition))
            if (old.external_id, old.stable_id, old.name, old.description, old.hidden) != (
                    container.external_id, container.stable_id, container.name, container.description,
                    container.hidden) or moved:
                statements.append((SET_CONTAINER, {**row, "container_id": old.id,
                                                   "new_external_id": container.external_id,
                                                   "new_stable_id": container.stable_id, "new_name": container.name,
                                                   "new_description": container.description,
                                                   "new_hidden": container.hidden}))
            if old.name != container.name:
                answer.renamed_containers.append(Item(container.external_id, container.name, old.selected, "Container",
                                                      old_name=old.name, new_name=container.name))
                changes.append(Change(f"containers.{container.external_id}.name", old.name, container.name))
            if moved:
                answer.moved_containers.append(Item(
                    container.external_id, container.name, old.selected, "Container",
                    old_parent_external_id=old_parent_external_id, new_parent_external_id=parent_external_id))
                changes.append(Change(f"containers.{container.external_id}.parentExternalId",
                                      old_parent_external_id, parent_external_id))

    # Removals last: a container moved out of a removed one has its new parent by now, and is kept.
    for key, old in stored_containers.items():
        if key not in seen_containers:
            statements.append((DELETE_CONTAINER, {"container_id": old.id}))
            answer.removed_containers.append(Item(old.external_id, old.name, old.selected, "Container"))
            changes.append(Change(f"containers.{old.external_id}", {"name": old.name, "selected": old.selected}, None))
    for key, old in stored_partitions.items():
        if key not in seen_partitions:
            statements.append((DELETE_PARTITION, {"partition_id": old.id}))
            answer.removed_partitions.append(Item(old.external_id, old.name, old.selected, "Partition"))
            changes.append(Change(f"partitions.{old.external_id}", {"name": old.name, "selected": old.selected}, None))
    return PartEdit(tuple(statements), tuple(changes)), answer


def partition_selected(partition: StoredPartition, selected: bool) -> PartEdit:
    if partition.selected == selected:
        return PartEdit((), ())
    return PartEdit(((SET_PARTITION, {"partition_id": partition.id, "selected": selected}),),
                    (Change(f"partitions.{partition.external_id}.selected", partition.selected, selected),))


SELECT_CONTAINER = update(CONTAINERS).where(CONTAINERS.c.id == bindparam("container_id"))


def container_selected(container: StoredContainer, selected: bool) -> PartEdit:
    if container.selected == selected:
        return PartEdit((), ())
    return PartEdit(((SELECT_CONTAINER, {"container_id": container.id, "selected": selected}),),
                    (Change(f"containers.{container.external_id}.selected", container.selected, selected),))

