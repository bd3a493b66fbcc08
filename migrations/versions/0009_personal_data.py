"""personal data: a site's retention period; the audit trail accepts one narrow redaction

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 05:00:00

The audit trail stays append-only, except for one change: an event's ``details`` (and its
``object_id``) may be rewritten once, to a value marked ``"redacted": true``, its address
(``ip``) emptied, every other column unchanged. ``services/personal_data.py`` uses it when a person is anonymised, so that
no earlier event keeps their name, phone or e-mail; the redaction is itself audited.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

SQLITE_KEEPS = " AND ".join(f"NEW.{c} IS OLD.{c}" for c in (
    "id", "at", "actor_kind", "actor_id", "action", "object_type", "site_id")) + \
    " AND (NEW.ip IS OLD.ip OR NEW.ip = '')"
REDACTION_SQLITE = [
    "DROP TRIGGER IF EXISTS audit_event_no_update",
    f"""CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event
       WHEN NOT coalesce({SQLITE_KEEPS}
                          AND json_extract(NEW.details, '$.redacted') = 1
                          AND json_extract(OLD.details, '$.redacted') IS NULL, 0)
       BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END""",
]
PG_KEEPS = " AND ".join(f"NEW.{c} IS NOT DISTINCT FROM OLD.{c}" for c in (
    "id", "at", "actor_kind", "actor_id", "action", "object_type", "site_id")) + \
    " AND (NEW.ip IS NOT DISTINCT FROM OLD.ip OR NEW.ip = '')"
REDACTION_POSTGRESQL = [
    f"""CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger
       LANGUAGE plpgsql AS $$
       BEGIN
         IF TG_OP = 'UPDATE' AND {PG_KEEPS}
            AND (NEW.details::jsonb ->> 'redacted') = 'true'
            AND (OLD.details::jsonb ->> 'redacted') IS NULL THEN
           RETURN NEW;
         END IF;
         RAISE EXCEPTION 'audit_event is append-only';
       END $$""",
]
STRICT_SQLITE = [
    "DROP TRIGGER IF EXISTS audit_event_no_update",
    """CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event
       BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END""",
]
STRICT_POSTGRESQL = [
    """CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN RAISE EXCEPTION 'audit_event is append-only'; END $$""",
]


def _run(sqlite, postgresql):
    statements = postgresql if op.get_bind().dialect.name == "postgresql" else sqlite
    for statement in statements:
        op.execute(statement)


def upgrade():
    with op.batch_alter_table('site', schema=None) as batch_op:
        batch_op.add_column(sa.Column('retention_months', sa.Integer(), nullable=False,
                                      server_default='12'))
        batch_op.create_check_constraint(op.f('ck_site_retention_range'),
                                         'retention_months BETWEEN 6 AND 60')
    with op.batch_alter_table('site', schema=None) as batch_op:
        batch_op.alter_column('retention_months', server_default=None)
    _run(REDACTION_SQLITE, REDACTION_POSTGRESQL)


def downgrade():
    _run(STRICT_SQLITE, STRICT_POSTGRESQL)
    with op.batch_alter_table('site', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_site_retention_range'), type_='check')
        batch_op.drop_column('retention_months')
