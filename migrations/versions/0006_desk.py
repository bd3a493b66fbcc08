"""desk: a person's preferred channel, search columns (backfilled) and merged record

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 02:00:00

"""
import re
import unicodedata

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

# The folding of portal/folding.py as it was when this migration was written: a migration
# must give the same result whatever the code becomes later.
_JOINERS = re.compile(r"[-\u2010\u2011\u00ad]")
_NOT_A_LETTER = re.compile(r"[^0-9a-z]+")
_LIGATURES = str.maketrans({"œ": "oe", "æ": "ae", "ø": "o", "ł": "l", "đ": "d"})
_SOUNDS = (
    (re.compile(r"ph"), "f"), (re.compile(r"qu|ck|q"), "k"), (re.compile(r"sch|sh"), "ch"),
    (re.compile(r"c(?=[eiy])"), "s"), (re.compile(r"c(?!h)"), "k"),
    (re.compile(r"g(?=[eiy])"), "j"), (re.compile(r"gu(?=[eiy])"), "g"),
    (re.compile(r"(?<!c)h"), ""), (re.compile(r"y"), "i"), (re.compile(r"w"), "v"),
    (re.compile(r"eau|au"), "o"), (re.compile(r"ai|ei"), "e"), (re.compile(r"m(?=[bp])"), "n"),
    (re.compile(r"e(?=n)"), "a"), (re.compile(r"z"), "s"), (re.compile(r"(.)\1+"), r"\1"),
    (re.compile(r"(?<=.)[dtsxe]+$"), ""),
)


def _fold(text):
    decomposed = unicodedata.normalize("NFKD", (text or "").casefold().translate(_LIGATURES))
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _NOT_A_LETTER.sub(" ", _JOINERS.sub("", bare)).strip()


def _sound(word):
    if not word or word.isdigit():
        return word
    for pattern, replacement in _SOUNDS:
        word = pattern.sub(replacement, word)
    return word


def _phone_digits(phone):
    digits = "".join(ch for ch in phone or "" if ch.isdigit())
    for prefix in ("0033", "33"):
        if digits.startswith(prefix) and len(digits) == len(prefix) + 9:
            return "0" + digits[len(prefix):]
    return digits


def _search_text(first_name, last_name, email, phone):
    parts = (first_name, last_name, email, _phone_digits(phone))
    return " " + " ".join(word for part in parts for word in _fold(part).split()) + " "


def _search_key(first_name, last_name):
    sounds = " ".join(_sound(word) for word in _fold(f"{first_name} {last_name}").split())
    return f" {sounds} "[:200]


def upgrade():
    with op.batch_alter_table('beneficiary', schema=None) as batch_op:
        batch_op.add_column(sa.Column(
            'preferred_channel',
            sa.Enum('email', 'sms', 'paper', name='contact_channel', native_enum=False,
                    create_constraint=True, length=13),
            nullable=True))
        batch_op.add_column(sa.Column('search_text', sa.Text(), nullable=False,
                                      server_default=' '))
        batch_op.add_column(sa.Column('search_key', sa.String(length=200), nullable=False,
                                      server_default=' '))
        batch_op.add_column(sa.Column('merged_into_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_beneficiary_search_key'), ['search_key'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_beneficiary_merged_into_id'), ['merged_into_id'],
                              unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_beneficiary_merged_into_id_beneficiary'),
                                    'beneficiary', ['merged_into_id'], ['id'],
                                    ondelete='SET NULL')
    with op.batch_alter_table('beneficiary', schema=None) as batch_op:
        batch_op.alter_column('search_text', server_default=None)
        batch_op.alter_column('search_key', server_default=None)
    rows = sa.table('beneficiary', sa.column('id', sa.Integer),
                    sa.column('first_name', sa.String), sa.column('last_name', sa.String),
                    sa.column('email', sa.String), sa.column('phone', sa.String),
                    sa.column('search_text', sa.Text), sa.column('search_key', sa.String))
    connection = op.get_bind()
    for row in connection.execute(sa.select(rows.c.id, rows.c.first_name, rows.c.last_name,
                                            rows.c.email, rows.c.phone)).all():
        connection.execute(rows.update().where(rows.c.id == row.id).values(
            search_text=_search_text(row.first_name, row.last_name, row.email, row.phone),
            search_key=_search_key(row.first_name, row.last_name)))


def downgrade():
    with op.batch_alter_table('beneficiary', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_beneficiary_merged_into_id_beneficiary'),
                                 type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_beneficiary_merged_into_id'))
        batch_op.drop_index(batch_op.f('ix_beneficiary_search_key'))
        batch_op.drop_column('merged_into_id')
        batch_op.drop_column('search_key')
        batch_op.drop_column('search_text')
        batch_op.drop_constraint(batch_op.f('ck_beneficiary_contact_channel'), type_='check')
        batch_op.drop_column('preferred_channel')
