"""individual help: the anonymous person's attributes, the referral, the last change

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 01:45:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('accompaniment', schema=None) as batch_op:
        batch_op.add_column(sa.Column(
            'gender', sa.Enum('male', 'female', 'undisclosed', name='gender', native_enum=False,
                              create_constraint=True, length=19), nullable=True))
        batch_op.add_column(sa.Column('age_bracket', sa.String(length=12), nullable=True))
        batch_op.add_column(sa.Column(
            'social_status', sa.Enum('retired', 'unemployed', 'employed', 'student',
                                     'undisclosed', name='social_status', native_enum=False,
                                     create_constraint=True, length=19), nullable=True))
        batch_op.add_column(sa.Column('commune', sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column('postcode', sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column('referred', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.add_column(sa.Column('referred_to', sa.String(length=200), nullable=False,
                                      server_default=''))
        batch_op.add_column(sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('accompaniment', schema=None) as batch_op:
        batch_op.alter_column('referred', server_default=None)
        batch_op.alter_column('referred_to', server_default=None)


def downgrade():
    with op.batch_alter_table('accompaniment', schema=None) as batch_op:
        batch_op.drop_column('updated_at')
        batch_op.drop_column('referred_to')
        batch_op.drop_column('referred')
        batch_op.drop_column('postcode')
        batch_op.drop_column('commune')
        batch_op.drop_constraint(batch_op.f('ck_accompaniment_social_status'), type_='check')
        batch_op.drop_column('social_status')
        batch_op.drop_column('age_bracket')
        batch_op.drop_constraint(batch_op.f('ck_accompaniment_gender'), type_='check')
        batch_op.drop_column('gender')
