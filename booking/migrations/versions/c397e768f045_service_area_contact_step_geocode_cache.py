"""service area, intro text, access hints, consent time, and the geocoding cache

Revision ID: c397e768f045
Revises: c252546a9cd4
Create Date: 2026-11-23 14:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c397e768f045'
down_revision = 'c252546a9cd4'
branch_labels = None
depends_on = None


def upgrade():
    # Existing businesses keep serving every address (no radius, no postcodes) and have no
    # intro yet; existing appointments have no access hints and no recorded consent time
    # (NULL: the time was not stored then, which is the truth).
    with op.batch_alter_table('businesses', schema=None) as batch_op:
        batch_op.add_column(sa.Column('service_radius_km', sa.Double(), nullable=True))
        batch_op.add_column(sa.Column('service_postcodes', sa.JSON(), server_default='[]', nullable=False))
        batch_op.add_column(sa.Column('intro_de', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('intro_en', sa.Text(), server_default='', nullable=False))
    with op.batch_alter_table('appointments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('access_hints', sa.String(length=200), server_default='', nullable=False))
        batch_op.add_column(sa.Column('consent_at', sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        'geocode_cache',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('source', sa.String(length=16), nullable=False),
        sa.Column('query', sa.String(length=400), nullable=False),
        sa.Column('found', sa.Boolean(), nullable=False),
        sa.Column('lat', sa.Double(), nullable=True),
        sa.Column('lon', sa.Double(), nullable=True),
        sa.Column('precision', sa.String(length=16), nullable=True),
        sa.Column('postcode', sa.String(length=20), nullable=False),
        sa.Column('city', sa.String(length=200), nullable=False),
        sa.Column('label', sa.String(length=400), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('source', 'query'),
    )


def downgrade():
    # Plain ALTER TABLE ... DROP COLUMN (SQLite >= 3.35), not batch mode's copy of the
    # table, which fails while other rows refer to `businesses` (foreign keys enforced).
    op.drop_table('geocode_cache')
    with op.batch_alter_table('appointments', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('consent_at')
        batch_op.drop_column('access_hints')
    with op.batch_alter_table('businesses', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('intro_en')
        batch_op.drop_column('intro_de')
        batch_op.drop_column('service_postcodes')
        batch_op.drop_column('service_radius_km')
