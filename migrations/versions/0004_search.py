"""search: folded search text of workshops and courses

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 18:00:00

"""
import re
import unicodedata

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

# The folding of portal/folding.py as it was when this migration was written: a migration
# must give the same result whatever the code becomes later.
_JOINERS = re.compile(r"[-\u2010\u2011\u00ad]")
_NOT_A_LETTER = re.compile(r"[^0-9a-z]+")
_LIGATURES = str.maketrans({"œ": "oe", "æ": "ae", "ø": "o", "ł": "l", "đ": "d"})


def _fold(text):
    decomposed = unicodedata.normalize("NFKD", (text or "").casefold().translate(_LIGATURES))
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _NOT_A_LETTER.sub(" ", _JOINERS.sub("", bare)).strip()


def _searchable(*parts):
    return " " + " ".join(word for part in parts for word in _fold(part).split()) + " "


def upgrade():
    for table in ('workshop', 'course'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('search_text', sa.Text(), nullable=False,
                                          server_default=' '))
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column('search_text', server_default=None)
        rows = sa.table(table, sa.column('id', sa.Integer), sa.column('title', sa.String),
                        sa.column('description', sa.Text), sa.column('objectives', sa.Text),
                        sa.column('search_text', sa.Text))
        connection = op.get_bind()
        for row in connection.execute(sa.select(rows.c.id, rows.c.title, rows.c.description,
                                                rows.c.objectives)).all():
            connection.execute(rows.update().where(rows.c.id == row.id).values(
                search_text=_searchable(row.title, row.description, row.objectives)))


def downgrade():
    for table in ('course', 'workshop'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('search_text')
