"""JIM's requireSecureTransport, initialPasswordTimeToLive and unresolvedReferenceHandling on a connected system

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 07:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN, never batch mode: on SQLite that rebuilds the table and loses its AUTOINCREMENT.
    op.add_column('connected_systems',
                  sa.Column('require_secure_transport', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column('connected_systems', sa.Column('initial_password_time_to_live', sa.String(length=30), nullable=True))
    op.add_column('connected_systems',
                  sa.Column('unresolved_reference_handling', sa.String(length=10), server_default='Error',
                            nullable=False))


def downgrade():
    # ALTER TABLE ... DROP COLUMN, never batch mode: on SQLite that rebuilds the table, and dropping the old one
    # cascades to the rows that refer to it.
    op.drop_column('connected_systems', 'unresolved_reference_handling')
    op.drop_column('connected_systems', 'initial_password_time_to_live')
    op.drop_column('connected_systems', 'require_secure_transport')
