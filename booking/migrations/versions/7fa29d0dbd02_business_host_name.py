"""business host name

Revision ID: 7fa29d0dbd02
Revises: 7427eab19abb
Create Date: 2026-11-22 05:08:35.639664

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7fa29d0dbd02'
down_revision = '7427eab19abb'
branch_labels = None
depends_on = None


def upgrade():
    # Existing businesses get no host: as the only (or default) business of a deployment
    # they answer on any host name, as before.
    with op.batch_alter_table('businesses', schema=None) as batch_op:
        batch_op.add_column(sa.Column('host', sa.String(length=253), nullable=True))
        batch_op.create_index(batch_op.f('ix_businesses_host'), ['host'], unique=True)


def downgrade():
    # Not in batch mode: on SQLite that would copy `businesses` into a new table and drop
    # the old one, which the foreign keys of its technicians and services refuse. SQLite
    # (3.35 and later) drops a column in place once no index names it.
    op.drop_index('ix_businesses_host', table_name='businesses')
    op.drop_column('businesses', 'host')
