"""read pages: sessions in start order (home, Find, the week of every site)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 12:00:00

Home and Find read the scheduled sessions from now on, soonest first. Without this index both
engines scan a year of sessions and sort them; with it they read the first rows in order. The
staff week of a network administrator (every site) reads a week of sessions by start time.
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
    op.create_index('ix_workshop_session_starts_at', 'workshop_session', ['starts_at'],
                    unique=False)


def downgrade():
    op.drop_index('ix_workshop_session_starts_at', table_name='workshop_session')
    op.drop_index('ix_workshop_session_status_start', table_name='workshop_session')
