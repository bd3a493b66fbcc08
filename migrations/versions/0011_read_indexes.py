"""read pages: scheduled sessions in start order (home, Find, a course's sessions)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 12:00:00

Home and Find read the scheduled sessions from now on, soonest first. Without this index both
engines scan a year of sessions and sort them; with it they read the first rows in order.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_workshop_session_status_start', 'workshop_session',
                    ['status', 'starts_at'], unique=False)


def downgrade():
    op.drop_index('ix_workshop_session_status_start', table_name='workshop_session')
