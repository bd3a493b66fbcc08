"""schedule: closure days of a site; a session's series, note and last change

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 22:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'closure_day',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('site_id', sa.Integer(), nullable=False),
        sa.Column('first_day', sa.Date(), nullable=False),
        sa.Column('last_day', sa.Date(), nullable=False),
        sa.Column('label', sa.String(length=80), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.CheckConstraint('last_day >= first_day', name=op.f('ck_closure_day_period_ordered')),
        sa.CheckConstraint('length(label) > 0', name=op.f('ck_closure_day_label_present')),
        sa.ForeignKeyConstraint(['created_by_id'], ['staff_member.id'],
                                name=op.f('fk_closure_day_created_by_id_staff_member'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['site_id'], ['site.id'],
                                name=op.f('fk_closure_day_site_id_site'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_closure_day')),
    )
    with op.batch_alter_table('closure_day', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_closure_day_site_id'), ['site_id'], unique=False)
    with op.batch_alter_table('workshop_session', schema=None) as batch_op:
        batch_op.add_column(sa.Column('series_id', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('note', sa.String(length=500), nullable=False,
                                      server_default=''))
        batch_op.add_column(sa.Column('changed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('change_kinds', sa.String(length=40), nullable=False,
                                      server_default=''))
        batch_op.create_index(batch_op.f('ix_workshop_session_series_id'), ['series_id'],
                              unique=False)
    with op.batch_alter_table('workshop_session', schema=None) as batch_op:
        batch_op.alter_column('note', server_default=None)
        batch_op.alter_column('change_kinds', server_default=None)


def downgrade():
    with op.batch_alter_table('workshop_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_workshop_session_series_id'))
        batch_op.drop_column('change_kinds')
        batch_op.drop_column('changed_at')
        batch_op.drop_column('note')
        batch_op.drop_column('series_id')
    with op.batch_alter_table('closure_day', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_closure_day_site_id'))
    op.drop_table('closure_day')
