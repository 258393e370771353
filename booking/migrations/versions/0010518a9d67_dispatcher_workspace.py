"""dispatcher workspace: pins, absences, proposals, audit log, appointment source

Revision ID: 0010518a9d67
Revises: c397e768f045
Create Date: 2026-11-22 02:16:49.252401

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010518a9d67'
down_revision = 'c397e768f045'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('business_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('subject', sa.String(length=120), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['business_id'], ['businesses.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_log_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_log_business_id'), ['business_id'], unique=False)

    op.create_table('plan_proposals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('business_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('base_version', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('plan', sa.JSON(), nullable=False),
    sa.Column('summary', sa.JSON(), nullable=False),
    sa.Column('message', sa.Text(), server_default='', nullable=False),
    sa.Column('created_appointment_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['business_id'], ['businesses.id'], ),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['created_appointment_id'], ['appointments.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('plan_proposals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plan_proposals_business_id'), ['business_id'], unique=False)

    op.create_table('technician_absences',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('technician_id', sa.Integer(), nullable=False),
    sa.Column('first_day', sa.Date(), nullable=False),
    sa.Column('last_day', sa.Date(), nullable=False),
    sa.Column('reason', sa.String(length=200), server_default='', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['technician_id'], ['technicians.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('technician_absences', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_technician_absences_technician_id'), ['technician_id'], unique=False)

    # Existing appointments were all booked online; existing stops are not pinned.
    with op.batch_alter_table('appointments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source', sa.String(length=16), server_default='online', nullable=False))

    with op.batch_alter_table('route_stops', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pinned', sa.Boolean(), server_default=sa.false(), nullable=False))



def downgrade():
    with op.batch_alter_table('route_stops', schema=None) as batch_op:
        batch_op.drop_column('pinned')

    with op.batch_alter_table('appointments', schema=None) as batch_op:
        batch_op.drop_column('source')

    with op.batch_alter_table('technician_absences', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_technician_absences_technician_id'))

    op.drop_table('technician_absences')
    with op.batch_alter_table('plan_proposals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plan_proposals_business_id'))

    op.drop_table('plan_proposals')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_log_business_id'))
        batch_op.drop_index(batch_op.f('ix_audit_log_at'))

    op.drop_table('audit_log')
