"""run profiles, and the containers' scope (excluded, Subtree or OneLevel)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 06:45:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('connected_system_run_profiles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('connected_system_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('run_type', sa.String(length=30), nullable=False),
    sa.Column('page_size', sa.Integer(), nullable=False),
    sa.Column('partition_id', sa.Integer(), nullable=True),
    sa.Column('file_path', sa.String(length=500), nullable=True),
    sa.Column('verify_import_content_hashes', sa.Boolean(), nullable=False),
    sa.Column('created', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['connected_system_id'], ['connected_systems.id'], name=op.f('fk_connected_system_run_profiles_connected_system_id'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['partition_id'], ['connected_system_partitions.id'], name=op.f('fk_connected_system_run_profiles_partition_id'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_connected_system_run_profiles')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('connected_system_run_profiles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_connected_system_run_profiles_connected_system_id'), ['connected_system_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_connected_system_run_profiles_partition_id'), ['partition_id'], unique=False)

    # Plain ADD COLUMN, never batch mode: on SQLite that rebuilds the table and loses its AUTOINCREMENT, so that
    # deleted containers' ids would be handed out again.
    op.add_column('connected_system_containers',
                  sa.Column('excluded', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column('connected_system_containers',
                  sa.Column('scope', sa.String(length=20), server_default='Subtree', nullable=False))


def downgrade():
    # ALTER TABLE ... DROP COLUMN, never batch mode: on SQLite that rebuilds the table, and dropping the old one
    # cascades to the rows that refer to it.
    op.drop_column('connected_system_containers', 'scope')
    op.drop_column('connected_system_containers', 'excluded')

    with op.batch_alter_table('connected_system_run_profiles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_connected_system_run_profiles_partition_id'))
        batch_op.drop_index(batch_op.f('ix_connected_system_run_profiles_connected_system_id'))

    op.drop_table('connected_system_run_profiles')
