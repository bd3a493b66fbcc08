"""documents: the régie de recettes settings of a site

Revision ID: 0002_documents
Revises: 0002
Create Date: 2026-11-27 09:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0002_documents'
down_revision = '0002'
branch_labels = None
depends_on = None

_SITE_TEXTS = (
    ('regie_mention', sa.Text()),
    ('regisseur_name', sa.String(length=120)),
    ('regisseur_role', sa.String(length=120)),
    ('receipt_signatory_role', sa.String(length=120)),
)


def upgrade():
    with op.batch_alter_table('site', schema=None) as batch_op:
        for name, type_ in _SITE_TEXTS:
            batch_op.add_column(sa.Column(name, type_, nullable=False, server_default=''))
    with op.batch_alter_table('site', schema=None) as batch_op:
        for name, _type in _SITE_TEXTS:
            batch_op.alter_column(name, server_default=None)


def downgrade():
    with op.batch_alter_table('site', schema=None) as batch_op:
        for name, _type in reversed(_SITE_TEXTS):
            batch_op.drop_column(name)
