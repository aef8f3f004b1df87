"""index the containers' references to their partition and parent

Deleting a system, a partition or a container cascades to the containers that refer to it; without these
indexes every deleted row costs a scan of the whole containers table.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 01:00:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('connected_system_containers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_connected_system_containers_partition_id'), ['partition_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_connected_system_containers_parent_id'), ['parent_id'], unique=False)


def downgrade():
    with op.batch_alter_table('connected_system_containers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_connected_system_containers_parent_id'))
        batch_op.drop_index(batch_op.f('ix_connected_system_containers_partition_id'))
