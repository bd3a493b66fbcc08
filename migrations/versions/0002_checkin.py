"""check-in: reopening a closed session, cheque lookup by number

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 15:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('workshop_session', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reopened_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('reopened_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('reopen_reason', sa.String(length=300), nullable=False,
                                      server_default=''))
        batch_op.create_foreign_key(
            batch_op.f('fk_workshop_session_reopened_by_id_staff_member'), 'staff_member',
            ['reopened_by_id'], ['id'], ondelete='SET NULL')
    with op.batch_alter_table('workshop_session', schema=None) as batch_op:
        batch_op.alter_column('reopen_reason', server_default=None)
    with op.batch_alter_table('cheque', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cheque_number'), ['number'], unique=False)


def downgrade():
    with op.batch_alter_table('cheque', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cheque_number'))
    with op.batch_alter_table('workshop_session', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_workshop_session_reopened_by_id_staff_member'),
                                 type_='foreignkey')
        batch_op.drop_column('reopen_reason')
        batch_op.drop_column('reopened_by_id')
        batch_op.drop_column('reopened_at')
