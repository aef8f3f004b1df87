"""what a connected system told of itself at its last schema import: capabilities and password policy

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 07:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('connected_system_discovered_facts',
    sa.Column('connected_system_id', sa.Integer(), nullable=False),
    sa.Column('capabilities', sa.JSON(), nullable=False),
    sa.Column('password_policy', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['connected_system_id'], ['connected_systems.id'], name=op.f('fk_connected_system_discovered_facts_connected_system_id'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('connected_system_id', name=op.f('pk_connected_system_discovered_facts'))
    )


def downgrade():
    op.drop_table('connected_system_discovered_facts')
