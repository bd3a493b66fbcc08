"""team: invitations of new colleagues; indexes of the audit trail viewer's filters

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 01:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'staff_invitation',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('staff_id', sa.Integer(), nullable=False),
        sa.Column('site_id', sa.Integer(), nullable=False),
        sa.Column('role', sa.Enum('reception', 'animateur', 'admin', name='staff_role',
                                  native_enum=False, create_constraint=True, length=17),
                  nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('code_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['created_by_id'], ['staff_member.id'],
                                name=op.f('fk_staff_invitation_created_by_id_staff_member'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['site_id'], ['site.id'],
                                name=op.f('fk_staff_invitation_site_id_site'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['staff_id'], ['staff_member.id'],
                                name=op.f('fk_staff_invitation_staff_id_staff_member'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_invitation')),
        sa.UniqueConstraint('code_hash', name=op.f('uq_staff_invitation_code_hash')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_staff_invitation_token_hash')),
    )
    with op.batch_alter_table('staff_invitation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_invitation_site_id'), ['site_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_staff_invitation_staff_id'), ['staff_id'],
                              unique=False)
    # Plain CREATE INDEX: batch mode would copy audit_event, whose triggers refuse changes.
    op.create_index(op.f('ix_audit_event_actor_id'), 'audit_event', ['actor_id'], unique=False)
    op.create_index(op.f('ix_audit_event_site_id'), 'audit_event', ['site_id'], unique=False)
    op.create_index('ix_audit_event_object', 'audit_event', ['object_type', 'object_id'],
                    unique=False)


def downgrade():
    op.drop_index('ix_audit_event_object', table_name='audit_event')
    op.drop_index(op.f('ix_audit_event_site_id'), table_name='audit_event')
    op.drop_index(op.f('ix_audit_event_actor_id'), table_name='audit_event')
    with op.batch_alter_table('staff_invitation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_invitation_staff_id'))
        batch_op.drop_index(batch_op.f('ix_staff_invitation_site_id'))
    op.drop_table('staff_invitation')
