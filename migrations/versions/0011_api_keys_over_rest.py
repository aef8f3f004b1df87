"""API keys as JIM's REST API shows them: a GUID id, a description, enabled or not, the infrastructure key
marked, and keys without a role

Existing keys get a GUID each and stay enabled; nothing they authenticate with changes.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 07:10:00

"""
import uuid

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

KEYS = sa.table("api_keys", sa.column("id", sa.Integer), sa.column("public_id", sa.String))


def upgrade():
    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.add_column(sa.Column('public_id', sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column('description', sa.String(length=1000), nullable=True))
        batch_op.add_column(sa.Column('enabled', sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.add_column(sa.Column('is_infrastructure', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.alter_column('role', existing_type=sa.String(length=20), nullable=True)
    connection = op.get_bind()
    for key_id in connection.execute(sa.select(KEYS.c.id)).scalars().all():
        connection.execute(KEYS.update().where(KEYS.c.id == key_id).values(public_id=str(uuid.uuid4())))
    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.alter_column('public_id', existing_type=sa.String(length=36), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_api_keys_public_id'), ['public_id'])


def downgrade():
    # The older schema has neither keys without a role nor disabled keys: rather than let them work, they are
    # revoked (a role-less key gets a role it can no longer use).
    op.execute("UPDATE api_keys SET revoked_at = COALESCE(revoked_at, CURRENT_TIMESTAMP) "
               "WHERE role IS NULL OR NOT enabled")
    op.execute("UPDATE api_keys SET role = 'Reader' WHERE role IS NULL")
    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_api_keys_public_id'), type_='unique')
        batch_op.alter_column('role', existing_type=sa.String(length=20), nullable=False)
        batch_op.drop_column('is_infrastructure')
        batch_op.drop_column('enabled')
        batch_op.drop_column('description')
        batch_op.drop_column('public_id')
