"""flexible windows: the window's kind and the flexibility discount of an appointment

Revision ID: a3f1c2d4e5b6
Revises: 5893cc854a97
Create Date: 2026-11-23 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a3f1c2d4e5b6'
down_revision = '5893cc854a97'
branch_labels = None
depends_on = None


def upgrade():
    # Server defaults fill the rows booked before: every one was a 2-hour slot without a
    # flexibility discount, so "slot" and 0 are their true values, not placeholders.
    with op.batch_alter_table('appointments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('window_kind', sa.String(length=16), server_default='slot', nullable=False))
        batch_op.add_column(sa.Column('price_flexibility_cents', sa.Integer(), server_default='0', nullable=False))


def downgrade():
    with op.batch_alter_table('appointments', schema=None) as batch_op:
        batch_op.drop_column('price_flexibility_cents')
        batch_op.drop_column('window_kind')
