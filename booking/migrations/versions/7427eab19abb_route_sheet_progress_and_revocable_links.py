"""route sheet progress and revocable links

Revision ID: 7427eab19abb
Revises: 0010518a9d67
Create Date: 2026-11-22 03:17:16.642132

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7427eab19abb'
down_revision = '0010518a9d67'
branch_labels = None
depends_on = None


def upgrade():
    # Progress lives on the appointment, not on its route stop: stops are deleted and
    # re-created whenever a plan is saved. Existing appointments have no reports yet
    # ("planned", no times); existing technicians start at sheet key 0, which is what
    # links signed before this revision carry implicitly, so they stay valid until revoked.
    with op.batch_alter_table('appointments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('progress', sa.String(length=16), server_default='planned', nullable=False))
        batch_op.add_column(sa.Column('on_the_way_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('arrived_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('done_at', sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table('technicians', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sheet_key', sa.Integer(), server_default='0', nullable=False))

    # What to take along for a job type, shown per stop on the route sheet; none known yet.
    with op.batch_alter_table('service_types', schema=None) as batch_op:
        batch_op.add_column(sa.Column('materials', sa.Text(), server_default='', nullable=False))


def downgrade():
    with op.batch_alter_table('service_types', schema=None) as batch_op:
        batch_op.drop_column('materials')

    with op.batch_alter_table('technicians', schema=None) as batch_op:
        batch_op.drop_column('sheet_key')

    with op.batch_alter_table('appointments', schema=None) as batch_op:
        batch_op.drop_column('done_at')
        batch_op.drop_column('arrived_at')
        batch_op.drop_column('on_the_way_at')
        batch_op.drop_column('progress')
