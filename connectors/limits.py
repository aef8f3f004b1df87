"""How much one import may bring: what the service can merge, write and answer within the import's time.

An import answers before gunicorn gives up on the request whatever the system's size, so a system past one of
these limits is refused (``TooBig``, a 400 that names the limit) before anything is written. The figures are
bench/big_systems.py's on a busy 2-core machine: reading a directory's containers costs ldap3 about 0.3 ms
each (50,000 took 19 s of the import's 20 to read), merging and writing them a tenth of that; 30,000
import in 9 to 15 s. 2,000 tables of 25 columns (50,000 attributes) import in 5 s. Depth is bounded
for the clients: the answer nests two JSON levels a container, and parsers stop somewhere (Python's json near
1,000, PowerShell 7's ConvertFrom-Json at 1,024).
"""
from collections import deque

from connectors.interface import DiscoveredHierarchy, DiscoveredSchema, Refused

MOST_CONTAINERS = 30_000
MOST_DEPTH = 100  # containers from a partition down to the deepest, that one included
MOST_OBJECT_TYPES = 10_000
MOST_ATTRIBUTES = 200_000  # of all object types together


class TooBig(Refused):
    """The system holds more than one import can bring."""


def too_big(what: str, found: str, limit: int) -> TooBig:
    return TooBig(f"The connected system {found}; this service imports at most {limit:,} {what} in one import.")


def check_hierarchy(found: DiscoveredHierarchy):
    """``TooBig`` unless every limit holds; the trees are walked with a queue, whatever their depth."""
    count, deepest = 0, 0
    queue = deque((container, 1) for partition in found.partitions for container in partition.containers)
    while queue:
        container, depth = queue.popleft()
        count, deepest = count + 1, max(deepest, depth)
        queue.extend((child, depth + 1) for child in container.children)
    if count > MOST_CONTAINERS:
        raise too_big("containers", f"holds {count:,} containers", MOST_CONTAINERS)
    if deepest > MOST_DEPTH:
        raise too_big("levels of containers", f"nests containers {deepest:,} levels deep", MOST_DEPTH)


def check_schema(found: DiscoveredSchema):
    attributes = sum(len(object_type.attributes) for object_type in found.object_types)
    if len(found.object_types) > MOST_OBJECT_TYPES:
        raise too_big("object types", f"has {len(found.object_types):,} object types", MOST_OBJECT_TYPES)
    if attributes > MOST_ATTRIBUTES:
        raise too_big("attributes", f"has {attributes:,} attributes in all", MOST_ATTRIBUTES)
