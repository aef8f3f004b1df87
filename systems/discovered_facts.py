"""What a connected system told of itself at its last schema import: JIM's detected capabilities and the
password policy its connector read.

These are facts about the system, not its configuration: recording them moves neither the system's version
(its ETag) nor its history, and a re-import that finds the same writes nothing. They are written in the
import's own transaction, so a failed import leaves those of the last one that worked.
"""
from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from connectors.interface import DiscoveredPasswordPolicy, DiscoveredSchema
from models import discovered_facts_table, utcnow

FACTS = discovered_facts_table
FACTS_OF_SYSTEM = select(FACTS.c.capabilities, FACTS.c.password_policy).where(
    FACTS.c.connected_system_id == bindparam("system_id"))


@dataclass(frozen=True)
class Facts:
    capabilities: list[dict]  # [{"name", "value"}]
    password_policy: dict | None  # DiscoveredPasswordPolicy's fields, and "discovered" (ISO 8601)

    def shown_policy(self) -> dict:
        """The policy as JIM answers it: before one is read, every field null but the signal, undetermined."""
        policy = {**policy_fields(DiscoveredPasswordPolicy()), **(self.password_policy or {})}
        policy["discovered"] = datetime.fromisoformat(policy["discovered"]) if policy["discovered"] else None
        policy["has_any_discovered_constraint"] = any(policy[name] is not None for name in CONSTRAINTS)
        return policy


NOTHING = Facts([], None)
# What makes a policy say anything at all (JIM's HasAnyDiscoveredConstraint).
CONSTRAINTS = ("minimum_length", "complexity_required", "password_history_length", "maximum_password_age_days",
               "minimum_password_age_days")


def read(connection: Connection, system_id: int) -> Facts:
    row = connection.execute(FACTS_OF_SYSTEM, {"system_id": system_id}).one_or_none()
    return NOTHING if row is None else Facts(row.capabilities, row.password_policy)


def upsert(insert_of_dialect):
    statement = insert_of_dialect(FACTS)
    return statement.on_conflict_do_update(
        index_elements=[FACTS.c.connected_system_id],
        set_={column: statement.excluded[column] for column in ("capabilities", "password_policy")})


UPSERT_FACTS = {"sqlite": upsert(sqlite.insert), "postgresql": upsert(postgresql.insert)}


def record(write, system_id: int, discovered: DiscoveredSchema):
    """The import's facts, written with it when they differ from those stored (the policy's time aside)."""
    stored = read(write.connection, system_id)
    capabilities = [{"name": name, "value": value} for name, value in discovered.detected_capabilities]
    policy = policy_fields(discovered.password_policy)
    before = dict(stored.password_policy or {}, discovered=None) if stored.password_policy else None
    if (capabilities, policy) == (stored.capabilities, before):
        return
    if policy is not None:
        policy["discovered"] = utcnow().isoformat()
    write.add(UPSERT_FACTS[write.connection.dialect.name],
              {"connected_system_id": system_id, "capabilities": capabilities, "password_policy": policy})


def policy_fields(policy: DiscoveredPasswordPolicy | None) -> dict | None:
    if policy is None:
        return None
    fields = asdict(policy)
    fields["recognised_character_classes"] = list(policy.recognised_character_classes)
    return {**fields, "discovered": None}
