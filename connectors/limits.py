"""How much one import may bring: what the service can merge, write and answer within the import's time.

An import answers before gunicorn gives up on the request whatever the system's size, so a system past one of
these limits is refused (``TooBig``, a 400 that names the limit) before anything is written. The sizes
(``ImportLimits``) are the operator's (``JIM_IMPORT_MAX_*``); their defaults are what bench/big_systems.py
merges and writes well inside the request's budget on a busy 2-core machine: reading a directory's containers
costs ldap3 about 0.3 ms each (50,000 took 19 s of the import's 20 to read), merging and writing them a tenth
of that; 30,000 import in 9 to 15 s. 2,000 tables of 25 columns (50,000 attributes) import in 5 s. Depth is
bounded for the clients, and is no setting: the answer nests two JSON levels a container, and parsers stop
somewhere (Python's json near 1,000, PowerShell 7's ConvertFrom-Json at 1,024).
"""
from collections import deque

from connectors.interface import DiscoveredHierarchy, DiscoveredSchema, ImportLimits, Refused

MOST_DEPTH = 100  # containers from a partition down to the deepest, that one included


class TooBig(Refused):
    """The system holds more than one import can bring."""


def too_big(what: str, found: str, limit: int) -> TooBig:
    return TooBig(f"The connected system {found}; this service imports at most {limit:,} {what} in one import.")


def check_hierarchy(found: DiscoveredHierarchy, most: ImportLimits):
    """``TooBig`` unless every limit holds; the trees are walked with a queue, whatever their depth."""
    count, deepest = 0, 0
    queue = deque((container, 1) for partition in found.partitions for container in partition.containers)
    while queue:
        container, depth = queue.popleft()
        count, deepest = count + 1, max(deepest, depth)
        queue.extend((child, depth + 1) for child in container.children)
    if count > most.containers:
        raise too_big("containers", f"holds {count:,} containers", most.containers)
    if deepest > MOST_DEPTH:
        raise too_big("levels of containers", f"nests containers {deepest:,} levels deep", MOST_DEPTH)


def check_schema(found: DiscoveredSchema, most: ImportLimits):
    attributes = sum(len(object_type.attributes) for object_type in found.object_types)
    if len(found.object_types) > most.object_types:
        raise too_big("object types", f"has {len(found.object_types):,} object types", most.object_types)
    if attributes > most.attributes:
        raise too_big("attributes", f"has {attributes:,} attributes in all", most.attributes)
