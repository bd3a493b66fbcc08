"""document files: a document's PDF bytes in a table of their own

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 12:00:00

Lists of documents read ``issued_at`` and ``snapshot``, stored after the bytes: SQLite read
through every stored PDF to reach them. The bytes move to ``document_file`` (one row per
complete document, deleted with it); ``document.sha256`` stays the "complete" marker. The old
CHECK ``(pdf IS NULL) = (sha256 IS NULL)`` cannot span two tables: the services that store and
remove bytes keep the two together (docs/architecture.md#document-bytes).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'document_file',
        sa.Column('document_id', sa.Integer(), nullable=False),
        sa.Column('pdf', sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(['document_id'], ['document.id'],
                                name=op.f('fk_document_file_document_id_document'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('document_id', name=op.f('pk_document_file')),
    )
    op.execute("INSERT INTO document_file (document_id, pdf) "
               "SELECT id, pdf FROM document WHERE pdf IS NOT NULL")
    with op.batch_alter_table('document', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_document_bytes_with_their_hash'), type_='check')
        batch_op.drop_column('pdf')


def downgrade():
    with op.batch_alter_table('document', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pdf', sa.LargeBinary(), nullable=True))
    op.execute("UPDATE document SET pdf = (SELECT document_file.pdf FROM document_file "
               "WHERE document_file.document_id = document.id)")
    with op.batch_alter_table('document', schema=None) as batch_op:
        batch_op.create_check_constraint(op.f('ck_document_bytes_with_their_hash'),
                                         '(pdf IS NULL) = (sha256 IS NULL)')
    op.drop_table('document_file')
