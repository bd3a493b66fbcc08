"""documents: the régie de recettes settings of a site; pending documents (numbered, their
bytes stored after rendering, outside the numbering transaction)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 09:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003'
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
    with op.batch_alter_table('document', schema=None) as batch_op:
        batch_op.alter_column('pdf', existing_type=sa.LargeBinary(), nullable=True)
        batch_op.alter_column('sha256', existing_type=sa.String(length=64), nullable=True)
        batch_op.add_column(sa.Column('rendered_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('rendering_until', sa.DateTime(timezone=True),
                                      nullable=True))
        batch_op.create_check_constraint(op.f('ck_document_bytes_with_their_hash'),
                                         '(pdf IS NULL) = (sha256 IS NULL)')
    op.execute("UPDATE document SET rendered_at = issued_at WHERE sha256 IS NOT NULL")


def downgrade():
    op.execute("UPDATE cheque SET receipt_id = NULL WHERE receipt_id IN "
               "(SELECT id FROM document WHERE sha256 IS NULL)")
    op.execute("DELETE FROM document WHERE sha256 IS NULL")
    with op.batch_alter_table('document', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_document_bytes_with_their_hash'), type_='check')
        batch_op.drop_column('rendering_until')
        batch_op.drop_column('rendered_at')
        batch_op.alter_column('sha256', existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column('pdf', existing_type=sa.LargeBinary(), nullable=False)
    with op.batch_alter_table('site', schema=None) as batch_op:
        for name, _type in reversed(_SITE_TEXTS):
            batch_op.drop_column(name)
