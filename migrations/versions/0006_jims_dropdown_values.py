"""JIM's spellings of the drop-down values this service spelt its own way

SQL's Database Type `SQL Server` and `Oracle` become JIM's `Microsoft SQL Server` and `Oracle Database`; SCIM's
Authentication Method `Bearer Token` becomes JIM's `Static Bearer Token`. Stored values follow, so that a system
configured before keeps its meaning; the change history keeps the values as they were written.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 06:45:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

# (setting id, this service's old value, JIM's)
RENAMED = (
    (201, "SQL Server", "Microsoft SQL Server"),
    (201, "Oracle", "Oracle Database"),
    (302, "Bearer Token", "Static Bearer Token"),
)
VALUES = sa.table("connected_system_setting_values", sa.column("setting_id", sa.Integer),
                  sa.column("string_value", sa.Text))


def rename(old_index: int, new_index: int):
    for setting_id, *spellings in RENAMED:
        op.execute(VALUES.update()
                   .where(VALUES.c.setting_id == setting_id, VALUES.c.string_value == spellings[old_index])
                   .values(string_value=spellings[new_index]))


def upgrade():
    rename(0, 1)


def downgrade():
    rename(1, 0)
