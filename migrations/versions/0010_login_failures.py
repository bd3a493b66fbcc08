"""login failures: account lock-outs counted in the database

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 09:00:00

Failed logins per account used to be counted in the rate-limit storage (memory or Redis). They
now live here, so that a lock-out holds across processes and hosts, and never fails open when
Redis is down. Counting per address stays in the rate-limit storage.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'login_failure',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('account_key', sa.String(length=300), nullable=False),
        sa.Column('failed_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_login_failure')),
    )
    op.create_index('ix_login_failure_account_key_failed_at', 'login_failure',
                    ['account_key', 'failed_at'], unique=False)


def downgrade():
    op.drop_index('ix_login_failure_account_key_failed_at', table_name='login_failure')
    op.drop_table('login_failure')
