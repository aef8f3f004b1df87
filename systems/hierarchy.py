"""A connected system's partitions and containers: what its hierarchy imports found (an LDAP directory's
naming contexts and the trees of organisational units under them), and what the administrator selected.

A hierarchy import is matched with what is stored by the directory's stable entry id where it has one, else
by the external id (the DN, ignoring case), so that a renamed or moved container keeps its id and its
selection. New ones arrive unselected; ones the directory no longer has are removed. The functions here
read, compare and compute; what they compute is a ``PartEdit`` that ``systems.save`` writes.

A directory may hold tens of thousands of containers, so everything here is linear in their number: trees are
walked with a queue, never by recursion, the writes are one batch per kind of statement, and a read for an
answer builds plain dicts straight from the rows.
"""
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

from marshmallow import ValidationError
from sqlalchemy import Boolean, Integer, Text, bindparam, delete, false, func, insert, select, update
from sqlalchemy.engine import Connection

from connectors.interface import DiscoveredContainer, DiscoveredHierarchy, DiscoveredPartition
from errors import NotFound
from history import Change
from models import containers_table, partitions_table
from systems import PartEdit, Rows, in_range, raw_rows

PARTITIONS, CONTAINERS = partitions_table, containers_table


@dataclass(frozen=True, slots=True)
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
    scope: str  # a ContainerScopeKind


@dataclass(frozen=True, slots=True)
class StoredPartition:
    id: int
    connected_system_id: int
    external_id: str
    stable_id: str | None
    name: str
    selected: bool


def sort_key(item) -> tuple:
    """The order of partitions and of each container's children: by name, ignoring case."""
    return item["name"].casefold(), item["externalId"].casefold(), item["id"]


# --- Reading ---------------------------------------------------------------------------------------------

PARTITIONS_OF_SYSTEM = select(PARTITIONS).where(PARTITIONS.c.connected_system_id == bindparam("system_id"))
CONTAINERS_OF_SYSTEM = select(CONTAINERS).where(CONTAINERS.c.connected_system_id == bindparam("system_id"))
ONE_PARTITION = PARTITIONS_OF_SYSTEM.where(PARTITIONS.c.id == bindparam("partition_id"))
ONE_CONTAINER = CONTAINERS_OF_SYSTEM.where(CONTAINERS.c.id == bindparam("container_id"))
CHILDREN_OF_CONTAINER = select(CONTAINERS).where(CONTAINERS.c.parent_id == bindparam("container_id"))
CONTAINERS_OF_PARTITION = select(CONTAINERS).where(CONTAINERS.c.partition_id == bindparam("partition_id"))


def columns_of(table, stored) -> list:
    return [table.c[name] for name in stored.__slots__]


# What a merge compares, in the order of the dataclasses' fields.
STORED_PARTITIONS = select(*columns_of(PARTITIONS, StoredPartition)).where(
    PARTITIONS.c.connected_system_id == bindparam("system_id"))
STORED_CONTAINERS = select(*columns_of(CONTAINERS, StoredContainer)).where(
    CONTAINERS.c.connected_system_id == bindparam("system_id"))


def read_all(connection: Connection, system_id: int) -> tuple[list[StoredPartition], list[StoredContainer]]:
    """Every partition and every container of the system, as stored rows (a container names its parent)."""
    return (read_partitions(connection, system_id),
            [StoredContainer(*row) for row in connection.execute(STORED_CONTAINERS, {"system_id": system_id})])


def read_partitions(connection: Connection, system_id: int) -> list[StoredPartition]:
    """The system's partitions alone, as stored rows."""
    return [StoredPartition(*row) for row in connection.execute(STORED_PARTITIONS, {"system_id": system_id})]


def no_partition(system_id: int, partition_id: int) -> NotFound:
    return NotFound(f"Connected system {system_id} has no partition {partition_id}.")


def no_container(system_id: int, container_id: int) -> NotFound:
    return NotFound(f"Connected system {system_id} has no container {container_id}.")


def read_partition(connection: Connection, system_id: int, partition_id: int) -> StoredPartition:
    """One partition of the system, or a 404 that says which."""
    parameters = {"system_id": system_id, "partition_id": partition_id}
    row = connection.execute(ONE_PARTITION, parameters).one_or_none() if in_range(partition_id) else None
    if row is None:
        raise no_partition(system_id, partition_id)
    return StoredPartition(*(row._mapping[name] for name in StoredPartition.__slots__))


def read_container(connection: Connection, system_id: int, container_id: int) -> StoredContainer:
    """One container of the system, or a 404 that says which."""
    parameters = {"system_id": system_id, "container_id": container_id}
    row = connection.execute(ONE_CONTAINER, parameters).one_or_none() if in_range(container_id) else None
    if row is None:
        raise no_container(system_id, container_id)
    return StoredContainer(*(row._mapping[name] for name in StoredContainer.__slots__))


def trees(connection: Connection, system_id: int, shown: dict, selected: bool | None = None) -> list[dict]:
    """The system's partitions, each as ``shown`` makes its row, with its containers as trees, sorted by name
    at every level; only those whose ``selected`` is this, if given."""
    partitions = raw_rows(connection, PARTITIONS_OF_SYSTEM, {"system_id": system_id})
    if selected is not None:
        at = partitions.position("selected")
        partitions = replace(partitions, rows=[row for row in partitions.rows if bool(row[at]) == selected])
    return assembled(partitions, raw_rows(connection, CONTAINERS_OF_SYSTEM, {"system_id": system_id}), shown)


def tree(connection: Connection, system_id: int, partition_id: int, shown: dict) -> dict:
    """One partition as ``shown`` makes it, with its tree (as JIM answers its PUT)."""
    partitions = raw_rows(connection, ONE_PARTITION, {"system_id": system_id, "partition_id": partition_id})
    if not partitions.rows:  # removed by an import since it was written
        raise no_partition(system_id, partition_id)
    (found,) = assembled(partitions, raw_rows(connection, CONTAINERS_OF_PARTITION, {"partition_id": partition_id}),
                         shown)
    return found


def with_children(connection: Connection, system_id: int, container_id: int, shown: dict) -> dict:
    """A container as ``shown`` makes it, with its children: one level of them, as JIM answers its PUT."""
    found = raw_rows(connection, ONE_CONTAINER, {"system_id": system_id, "container_id": container_id})
    if not found.rows:  # removed by an import since it was written
        raise no_container(system_id, container_id)
    show = shown["container"](found.columns, found.converts)
    children = raw_rows(connection, CHILDREN_OF_CONTAINER, {"container_id": container_id}).rows
    return show(found.rows[0], sorted((show(child, []) for child in children), key=sort_key))


def assembled(partitions: Rows, containers: Rows, shown: dict) -> list[dict]:
    """Rows made trees, bottom up and without recursion: each container's children are shown before it is."""
    show_partition = shown["partition"](partitions.columns, partitions.converts)
    show_container = shown["container"](containers.columns, containers.converts)
    own_id, parent_id, partition_id = (containers.position(name) for name in ("id", "parent_id", "partition_id"))
    children: dict[int | None, list[tuple]] = {}
    for row in containers.rows:
        children.setdefault(row[parent_id], []).append(row)
    # Parents before children, by a walk from the tops; then made in reverse, so every child is ready.
    order, queue = [], deque(children.get(None, ()))
    while queue:
        row = queue.popleft()
        order.append(row)
        queue.extend(children.get(row[own_id], ()))
    made: dict[int, list[dict]] = {}  # each container's children, shown, by its id
    tops: dict[int, list[dict]] = {}  # the same of each partition
    for row in reversed(order):
        node = show_container(row, sorted(made.pop(row[own_id], ()), key=sort_key))
        if row[parent_id] is None:
            tops.setdefault(row[partition_id], []).append(node)
        else:
            made.setdefault(row[parent_id], []).append(node)
    at = partitions.position("id")
    return sorted((show_partition(row, sorted(tops.get(row[at], ()), key=sort_key)) for row in partitions.rows),
                  key=sort_key)


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


def matches(stored: list, discovered: list) -> dict[int, object]:
    """Which stored item each discovered one is (by position in ``discovered``), the same whatever order
    either comes in.

    First by stable id, where it names one item on each side. Then by external id, ignoring case, unless both
    have stable ids of their own that differ: that is another entry made at the same DN. A stable id that
    several entries share (a directory restored badly, a copied entry) identifies none of them, so those are
    matched by DN, and a re-import of an unchanged directory changes nothing.
    """
    def unique_ids(items) -> dict[str, object]:
        counts: dict[str, int] = {}
        for item in items:
            if item.stable_id:
                counts[item.stable_id] = counts.get(item.stable_id, 0) + 1
        return {item.stable_id: item for item in items if item.stable_id and counts[item.stable_id] == 1}

    stored_ids, discovered_ids = unique_ids(stored), unique_ids(discovered)
    found, taken = {}, set()
    for position, item in enumerate(discovered):
        old = stored_ids.get(item.stable_id) if item.stable_id in discovered_ids else None
        if old is not None:
            found[position] = old
            taken.add(old.id)
    by_dn: dict[str, deque] = {}
    for old in sorted(stored, key=lambda old: old.id):
        if old.id not in taken:
            by_dn.setdefault(old.external_id.casefold(), deque()).append(old)
    for position, item in enumerate(discovered):
        if position in found:
            continue
        candidates = by_dn.get(item.external_id.casefold())
        if not candidates:
            continue
        old = candidates[0]
        if old.stable_id in stored_ids and item.stable_id in discovered_ids and old.stable_id != item.stable_id:
            continue  # another entry at the same DN: the old one goes, this one is new
        found[position] = candidates.popleft()
    return found


NEW_PARTITION = insert(PARTITIONS)
SET_PARTITION = update(PARTITIONS).where(PARTITIONS.c.id == bindparam("partition_id"))
DELETE_PARTITION = delete(PARTITIONS).where(PARTITIONS.c.id == bindparam("partition_id"))


def by_external_id(table, name: str):
    """The id of the system's newest row of ``table`` with the external id bound as ``name`` (an index lookup:
    migration 0004)."""
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


def discovered_containers(partition: DiscoveredPartition
                          ) -> Iterable[tuple[DiscoveredContainer, DiscoveredContainer | None, int]]:
    """Every container of a discovered partition with its parent (None at the top) and its depth (1 at the
    top), parents first."""
    queue = deque((container, None, 1) for container in partition.containers)
    while queue:
        container, parent, depth = queue.popleft()
        yield container, parent, depth
        queue.extend((child, container, depth + 1) for child in container.children)


def merged(system_id: int, stored: tuple[list[StoredPartition], list[StoredContainer]],
           discovered: DiscoveredHierarchy) -> tuple[PartEdit, HierarchyChanges]:
    """The writes that make the stored hierarchy what was discovered, their history, and the import's answer.

    Each kind of write is one batch, in an order that keeps every reference good: new partitions, new
    containers (parents first, so a new child finds its new parent), changed ones, then removals (a container
    moved out of a removed one has its new parent by then, and is kept).
    """
    stored_partitions, stored_containers = stored
    answer = HierarchyChanges(total_partitions=len(discovered.partitions))
    changes = []
    new_partitions, set_partitions, new_containers, set_containers = [], [], [], []

    partition_match = matches(stored_partitions, list(discovered.partitions))
    for position, partition in enumerate(discovered.partitions):
        old = partition_match.get(position)
        if old is None:
            new_partitions.append({"connected_system_id": system_id, "external_id": partition.external_id,
                                   "stable_id": partition.stable_id, "name": partition.name, "selected": False})
            answer.added_partitions.append(Item(partition.external_id, partition.name, False, "Partition"))
            changes.append(Change(f"partitions.{partition.external_id}", None, {"name": partition.name}))
        elif (old.external_id, old.stable_id, old.name) != (partition.external_id, partition.stable_id, partition.name):
            set_partitions.append({"partition_id": old.id, "external_id": partition.external_id,
                                   "stable_id": partition.stable_id, "name": partition.name})
            if old.name != partition.name:
                answer.renamed_partitions.append(Item(partition.external_id, partition.name, old.selected, "Partition",
                                                      old_name=old.name, new_name=partition.name))
                changes.append(Change(f"partitions.{partition.external_id}.name", old.name, partition.name))

    found = [(found_in, *entry) for found_in in discovered.partitions for entry in discovered_containers(found_in)]
    answer.total_containers = len(found)
    container_match = matches(stored_containers, [container for _, container, _, _ in found])
    stored_of = {id(found[position][1]): old for position, old in container_match.items()}
    stored_partition_of = {id(partition): old for position, partition in enumerate(discovered.partitions)
                           if (old := partition_match.get(position)) is not None}
    by_id = {old.id: old for old in stored_containers}
    kept = set()
    for partition, container, parent, _ in found:
        old, stored_partition = stored_of.get(id(container)), stored_partition_of.get(id(partition))
        stored_parent = stored_of.get(id(parent)) if parent is not None else None
        parent_external_id = parent.external_id if parent is not None else None
        row = {"system_id": system_id,
               "stored_partition_id": stored_partition.id if stored_partition else None,
               "partition_external_id": partition.external_id,
               "stored_parent_id": stored_parent.id if stored_parent else None,
               "parent_external_id": parent_external_id}
        if old is None:
            new_containers.append({**row, "external_id": container.external_id, "stable_id": container.stable_id,
                                   "name": container.name, "description": container.description,
                                   "hidden": container.hidden})
            answer.added_containers.append(Item(container.external_id, container.name, False, "Container"))
            changes.append(Change(f"containers.{container.external_id}", None,
                                  {"name": container.name, "parentExternalId": parent_external_id}))
            continue
        kept.add(old.id)
        # Moved: under another parent, or to the top of another partition; a renamed parent is no move.
        if parent is None:
            moved = old.parent_id is not None or stored_partition is None or old.partition_id != stored_partition.id
        else:
            moved = stored_parent is None or old.parent_id != stored_parent.id
        if moved or (old.external_id, old.stable_id, old.name, old.description, old.hidden) != (
                container.external_id, container.stable_id, container.name, container.description, container.hidden):
            set_containers.append({**row, "container_id": old.id, "new_external_id": container.external_id,
                                   "new_stable_id": container.stable_id, "new_name": container.name,
                                   "new_description": container.description, "new_hidden": container.hidden})
        if old.name != container.name:
            answer.renamed_containers.append(Item(container.external_id, container.name, old.selected, "Container",
                                                  old_name=old.name, new_name=container.name))
            changes.append(Change(f"containers.{container.external_id}.name", old.name, container.name))
        if moved:
            old_parent = by_id.get(old.parent_id)
            old_parent_external_id = old_parent.external_id if old_parent else None
            answer.moved_containers.append(Item(
                container.external_id, container.name, old.selected, "Container",
                old_parent_external_id=old_parent_external_id, new_parent_external_id=parent_external_id))
            changes.append(Change(f"containers.{container.external_id}.parentExternalId",
                                  old_parent_external_id, parent_external_id))

    removed_containers = []
    for old in parents_first(stored_containers):
        if old.id not in kept:
            removed_containers.append({"container_id": old.id})
            answer.removed_containers.append(Item(old.external_id, old.name, old.selected, "Container"))
            changes.append(Change(f"containers.{old.external_id}", {"name": old.name, "selected": old.selected}, None))
    matched_partitions = {old.id for old in partition_match.values()}
    removed_partitions = []
    for old in stored_partitions:
        if old.id not in matched_partitions:
            removed_partitions.append({"partition_id": old.id})
            answer.removed_partitions.append(Item(old.external_id, old.name, old.selected, "Partition"))
            changes.append(Change(f"partitions.{old.external_id}", {"name": old.name, "selected": old.selected}, None))
    statements = tuple((statement, rows) for statement, rows in (
        (NEW_PARTITION, new_partitions), (SET_PARTITION, set_partitions), (NEW_CONTAINER, new_containers),
        (SET_CONTAINER, set_containers), (DELETE_CONTAINER, removed_containers),
        (DELETE_PARTITION, removed_partitions)) if rows)
    return PartEdit(statements, tuple(changes)), answer


def parents_first(containers: list[StoredContainer]) -> list[StoredContainer]:
    """Stored containers as their trees list them: each level by name, parents before their children."""
    children: dict[int | None, list[StoredContainer]] = {}
    for container in sorted(containers, key=lambda item: (item.name.casefold(), item.external_id.casefold(),
                                                          item.id)):
        children.setdefault(container.parent_id, []).append(container)
    order, queue = [], deque(children.get(None, ()))
    while queue:
        container = queue.popleft()
        order.append(container)
        queue.extend(children.get(container.id, ()))
    return order


def partition_selected(partition: StoredPartition, selected: bool) -> PartEdit:
    if partition.selected == selected:
        return PartEdit((), ())
    return PartEdit(((SET_PARTITION, {"partition_id": partition.id, "selected": selected}),),
                    (Change(f"partitions.{partition.external_id}.selected", partition.selected, selected),))


# A container's scope: what it states about itself (selected, excluded) and how far a selection reaches.
SCOPE_FIELDS = ("selected", "excluded", "scope")
SCOPE_CONTAINER = update(CONTAINERS).where(CONTAINERS.c.id == bindparam("container_id")).values(
    selected=bindparam("new_selected"), excluded=bindparam("new_excluded"), scope=bindparam("new_scope"))


def scoped(containers: dict[int, tuple[StoredContainer, dict]]) -> PartEdit:
    """The writes, one batch, that give each container (by id) its new scope fields (as ``SCOPE_FIELDS``
    name them), and their history; a container whose fields are as stored is left alone."""
    rows, changes = [], []
    for container, new in containers.values():
        differing = [name for name in SCOPE_FIELDS if getattr(container, name) != new[name]]
        if differing:
            rows.append({"container_id": container.id, **{f"new_{name}": new[name] for name in SCOPE_FIELDS}})
            changes.extend(Change(f"containers.{container.external_id}.{name}", getattr(container, name), new[name])
                           for name in differing)
    return PartEdit(((SCOPE_CONTAINER, rows),) if rows else (), tuple(changes))


def container_changed(container: StoredContainer, flags: dict) -> PartEdit:
    """A container's PUT: ``flags`` (selected, excluded, scope; each optional) over what is stored. A container
    states one thing about itself, so one left both selected and excluded is refused, as JIM refuses it."""
    new = {name: flags.get(name, getattr(container, name)) for name in SCOPE_FIELDS}
    if new["selected"] and new["excluded"]:
        raise ValidationError({name: [
            f"Container with ID {container.id} cannot be both selected and excluded. Send selected as false in the "
            "same request to replace the selection with an exclusion, or excluded as false to replace the "
            "exclusion with a selection."] for name in ("selected", "excluded") if name in flags})
    return scoped({container.id: (container, new)})
