"""forget the postcode table's geocode answers

Revision ID: b41d5e2c9a10
Revises: 7fa29d0dbd02
Create Date: 2026-11-22 08:45:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b41d5e2c9a10'
down_revision = '7fa29d0dbd02'
branch_labels = None
depends_on = None


def upgrade():
    # The postcode table's answers are no longer cached (it is local and fast); the rows
    # stored before would never be read again, and they hold customers' streets.
    cache = sa.table('geocode_cache', sa.column('source', sa.String))
    op.execute(cache.delete().where(cache.c.source == 'postcode'))


def downgrade():
    # Nothing to restore: the cache fills itself again on use.
    pass
