"""A system's container scope as text, JIM's Advanced Mode: one statement per line, ``include`` (or ``+``) or
``exclude`` (or ``-``), an optional ``one-level``, then the container's path (its DN, in any case, with or
without spaces after the commas); blank lines and whole-line ``#`` comments say nothing.

The text edits the containers' ``selected``, ``excluded`` and ``scope``, resolved against the stored hierarchy
when it is applied, never kept as paths: a container renamed or moved later keeps what was said of it. Applying
replaces the whole scope (a container the text does not name states nothing, so empty text clears it), selects
each partition holding a named container, and is all or nothing: every line that cannot apply is reported with
its number, and then nothing changes. The canonical text (``project``) applied back changes nothing.
"""
import re
from dataclasses import dataclass, replace

from marshmallow import ValidationError

from connectors.interface import ContainerScopeKind
from systems import PartEdit
from systems.hierarchy import StoredContainer, StoredPartition, partition_selected, scoped

INCLUDE, EXCLUDE, ONE_LEVEL = "include", "exclude", "one-level"
DIRECTIVES = {INCLUDE: INCLUDE, "+": INCLUDE, EXCLUDE: EXCLUDE, "-": EXCLUDE}
# A space after an unescaped comma is RFC 4514's optional space, not part of the name.
SPACE_AFTER_SEPARATOR = re.compile(r"(?<!\\),\s+")


@dataclass(frozen=True)
class Statement:
    line: int
    directive: str  # INCLUDE or EXCLUDE
    scope: ContainerScopeKind
    path: str


def normalised(path: str) -> str:
    """How a path is compared: no optional spaces after its separators, case folded."""
    return SPACE_AFTER_SEPARATOR.sub(",", path.strip()).casefold()


def parsed(text: str) -> tuple[list[Statement], list[str]]:
    """The statements the text makes, and what is wrong with the lines that make none (as ``line N: ...``)."""
    statements, errors = [], []
    for number, line in enumerate(text.split("\n"), start=1):
        line = line.strip()
        # Whole-line comments only: a DN may hold an unescaped '#' in a value.
        if not line or line.startswith("#"):
            continue
        if line[0] in "+-":
            directive, rest = line[0], line[1:].strip()
        else:
            directive, _, rest = line.partition(" ")
            rest = rest.strip()
        if directive.lower() not in DIRECTIVES:
            errors.append(f"line {number}: '{directive}' is not something a Container Scope statement can say. "
                          f"Every line begins with {INCLUDE} (or +) or {EXCLUDE} (or -).")
            continue
        # A leading modifier, standing alone: a DN may end in anything, and may begin "one-level=".
        modifier, _, path = rest.partition(" ")
        scope = ContainerScopeKind.SUBTREE
        if path and modifier.lower() == ONE_LEVEL:
            scope, rest = ContainerScopeKind.ONE_LEVEL, path.strip()
        if not rest:
            errors.append(f"line {number}: '{directive}' names no Container. Follow it with the Container's path, "
                          f"for example: {directive} OU=Corp,DC=example,DC=com")
            continue
        statements.append(Statement(number, DIRECTIVES[directive.lower()], scope, rest))
    return statements, errors


def by_name(item) -> tuple:
    return item.name.casefold(), item.external_id.casefold(), item.id


def hierarchy_order(partitions: list[StoredPartition], containers: list[StoredContainer]) -> list[StoredContainer]:
    """Every container, partition by partition, each before its children, siblings by name: the text's order."""
    children: dict[object, list[StoredContainer]] = {}
    for container in containers:
        parent = container.parent_id if container.parent_id is not None else ("partition", container.partition_id)
        children.setdefault(parent, []).append(container)
    order = []
    for partition in sorted(partitions, key=by_name):
        stack = sorted(children.get(("partition", partition.id), ()), key=by_name, reverse=True)
        while stack:  # depth first, without recursion: a directory may nest deeply
            container = stack.pop()
            order.append(container)
            stack.extend(sorted(children.get(container.id, ()), key=by_name, reverse=True))
    return order


def project(partitions: list[StoredPartition], containers: list[StoredContainer]) -> str:
    """The canonical text of the stored scope: one line per container that states something, in hierarchy order."""
    lines = []
    for container in hierarchy_order(partitions, containers):
        if container.selected or container.excluded:
            modifier = f" {ONE_LEVEL}" if container.scope == ContainerScopeKind.ONE_LEVEL else ""
            lines.append(f"{INCLUDE if container.selected else EXCLUDE}{modifier} {container.external_id}")
    return "\n".join(lines)


def applied(text: str, partitions: list[StoredPartition], containers: list[StoredContainer]
            ) -> tuple[PartEdit, str]:
    """The writes that make the stored scope what ``text`` states with their history, and the canonical text of
    the scope they leave; or, when any line cannot
    apply (it does not parse, names no container, names one twice, or restates what an ancestor's statement
    already says), a ``ValidationError`` of ``text`` listing every such line."""
    statements, errors = parsed(text)
    by_path: dict[str, StoredContainer] = {}
    for container in containers:
        by_path.setdefault(normalised(container.external_id), container)
    stated: dict[int, Statement] = {}
    for statement in statements:
        container = by_path.get(normalised(statement.path))
        if container is None:
            errors.append(f"line {statement.line}: No Container with the path '{statement.path}' was found. Check "
                          "the path, or import the hierarchy again if the Container is new since.")
        elif container.id in stated:
            errors.append(f"line {statement.line}: '{statement.path}' is already stated on line "
                          f"{stated[container.id].line}. A Container states one thing about itself, so it cannot "
                          "appear twice.")
        else:
            stated[container.id] = statement
    by_id = {container.id: container for container in containers}
    for container_id, statement in stated.items():
        decider = deciding(by_id[container_id], stated, by_id)
        if decider is not None and decider.directive == statement.directive:
            errors.append(f"line {statement.line}: '{statement.path}' is already covered by the statement on line "
                          f"{decider.line} ('{decider.path}'), so this line changes nothing. Remove it, or narrow "
                          f"line {decider.line} to {ONE_LEVEL}.")
    if errors:
        raise ValidationError(sorted(errors, key=line_number), "text")

    new = {}
    for container in containers:
        statement = stated.get(container.id)
        if statement is None:  # states nothing now; how far it would reach is kept for when it does
            new[container.id] = (container, {"selected": False, "excluded": False, "scope": container.scope})
        else:
            new[container.id] = (container, {"selected": statement.directive == INCLUDE,
                                             "excluded": statement.directive == EXCLUDE,
                                             "scope": statement.scope.value})
    edit = scoped(new)
    # A container cannot be in scope while its partition is not: naming one selects its partition. A partition
    # the text names nothing in keeps its selection: the text states container scope, not partition scope.
    holding = {by_id[container_id].partition_id for container_id in stated}
    partition_edits = [partition_selected(partition, True) for partition in partitions if partition.id in holding]
    edits = (edit, *partition_edits)
    after = [replace(container, **fields) for container, fields in new.values()]
    return (PartEdit(tuple(s for e in edits for s in e.statements), tuple(c for e in edits for c in e.changes)),
            project(partitions, after))


def deciding(container: StoredContainer, stated: dict[int, Statement], by_id: dict[int, StoredContainer]
             ) -> Statement | None:
    """The statement that decides a container's fate from above: its nearest ancestor's that reaches its whole
    subtree. A one-level statement reaches only the entries directly beneath it, not its child containers."""
    parent_id = container.parent_id
    while parent_id is not None:
        statement = stated.get(parent_id)
        if statement is not None and statement.scope is ContainerScopeKind.SUBTREE:
            return statement
        parent_id = by_id[parent_id].parent_id
    return None


def line_number(error: str) -> int:
    return int(error.split(":", 1)[0].removeprefix("line "))
