"""schema and hierarchy import: object types, attributes, partitions and containers

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 21:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('connected_system_object_types',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('connected_system_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('name_key', sa.Text(), nullable=False),
    sa.Column('created', sa.DateTime(timezone=True), nullable=False),
    sa.Column('selected', sa.Boolean(), nullable=False),
    sa.Column('remove_contributed_attributes_on_obsoletion', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['connected_system_id'], ['connected_systems.id'], name=op.f('fk_connected_system_object_types_connected_system_id'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_connected_system_object_types')),
    sa.UniqueConstraint('connected_system_id', 'name_key', name=op.f('uq_connected_system_object_types_connected_system_id')),
    sqlite_autoincrement=True
    )
    op.create_table('connected_system_attributes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('object_type_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('name_key', sa.Text(), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('class_name', sa.Text(), nullable=True),
    sa.Column('created', sa.DateTime(timezone=True), nullable=False),
    sa.Column('type', sa.String(length=20), nullable=False),
    sa.Column('attribute_plurality', sa.String(length=20), nullable=False),
    sa.Column('writability', sa.String(length=20), nullable=False),
    sa.Column('selected', sa.Boolean(), nullable=False),
    sa.Column('is_external_id', sa.Boolean(), nullable=False),
    sa.Column('is_secondary_external_id', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['object_type_id'], ['connected_system_object_types.id'], name=op.f('fk_connected_system_attributes_object_type_id'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_connected_system_attributes')),
    sa.UniqueConstraint('object_type_id', 'name_key', name=op.f('uq_connected_system_attributes_object_type_id')),
    sqlite_autoincrement=True
    )
    op.create_table('connected_system_partitions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('connected_system_id', sa.Integer(), nullable=False),
    sa.Column('external_id', sa.Text(), nullable=False),
    sa.Column('stable_id', sa.Text(), nullable=True),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('selected', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['connected_system_id'], ['connected_systems.id'], name=op.f('fk_connected_system_partitions_connected_system_id'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_connected_system_partitions')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('connected_system_partitions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_connected_system_partitions_connected_system_id'), ['connected_system_id'], unique=False)

    op.create_table('connected_system_containers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('connected_system_id', sa.Integer(), nullable=False),
    sa.Column('partition_id', sa.Integer(), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('external_id', sa.Text(), nullable=False),
    sa.Column('stable_id', sa.Text(), nullable=True),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('hidden', sa.Boolean(), nullable=False),
    sa.Column('selected', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['connected_system_id'], ['connected_systems.id'], name=op.f('fk_connected_system_containers_connected_system_id'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['parent_id'], ['connected_system_containers.id'], name=op.f('fk_connected_system_containers_parent_id'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['partition_id'], ['connected_system_partitions.id'], name=op.f('fk_connected_system_containers_partition_id'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_connected_system_containers')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('connected_system_containers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_connected_system_containers_connected_system_id'), ['connected_system_id'], unique=False)


def downgrade():
    with op.batch_alter_table('connected_system_containers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_connected_system_containers_connected_system_id'))

    op.drop_table('connected_system_containers')
    with op.batch_alter_table('connected_system_partitions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_connected_system_partitions_connected_system_id'))

    op.drop_table('connected_system_partitions')
    op.drop_table('connected_system_attributes')
    op.drop_table('connected_system_object_types')
