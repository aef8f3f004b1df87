"""each change record's version, activity id and snapshot of the whole configuration

Records older than this get their version (counted per system, oldest first) and an activity id; they hold no
snapshot, which no one took.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 07:30:00

"""
import uuid

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

RECORDS = sa.table("connected_system_changes", sa.column("id", sa.Integer),
                   sa.column("connected_system_id", sa.Integer), sa.column("version", sa.Integer),
                   sa.column("activity_id", sa.String))


def upgrade():
    # Plain ADD COLUMN: a batch rebuild on SQLite would lose the table's AUTOINCREMENT.
    op.add_column('connected_system_changes', sa.Column('version', sa.Integer(), nullable=True))
    op.add_column('connected_system_changes', sa.Column('activity_id', sa.String(length=36), nullable=True))
    op.add_column('connected_system_changes', sa.Column('snapshot', sa.JSON(), nullable=True))
    op.create_index('ix_connected_system_changes_version', 'connected_system_changes',
                    ['connected_system_id', 'version'], unique=False)
    connection = op.get_bind()
    counts: dict[int, int] = {}
    rows = connection.execute(sa.select(RECORDS.c.id, RECORDS.c.connected_system_id).order_by(RECORDS.c.id)).all()
    for record_id, system_id in rows:
        counts[system_id] = counts.get(system_id, 0) + 1
        connection.execute(RECORDS.update().where(RECORDS.c.id == record_id)
                           .values(version=counts[system_id], activity_id=str(uuid.uuid4())))


def downgrade():
    op.drop_index('ix_connected_system_changes_version', table_name='connected_system_changes')
    op.drop_column('connected_system_changes', 'snapshot')
    op.drop_column('connected_system_changes', 'activity_id')
    op.drop_column('connected_system_changes', 'version')
