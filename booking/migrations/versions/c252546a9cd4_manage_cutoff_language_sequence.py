"""manage link: a business's cut-off, an appointment's language and calendar sequence

Revision ID: c252546a9cd4
Revises: a3f1c2d4e5b6
Create Date: 2026-11-23 12:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c252546a9cd4'
down_revision = 'a3f1c2d4e5b6'
branch_labels = None
depends_on = None


def upgrade():
    # Server defaults fill existing rows with their true values: every business gets the
    # default cut-off of 24 hours; every appointment so far was booked through German
    # pages (English emails did not exist) and has had no calendar file yet (sequence 0).
    with op.batch_alter_table('businesses', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cancel_cutoff_hours', sa.Integer(), server_default='24', nullable=False))
    with op.batch_alter_table('appointments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=8), server_default='de', nullable=False))
        batch_op.add_column(sa.Column('calendar_sequence', sa.Integer(), server_default='0', nullable=False))


def downgrade():
    # Plain ALTER TABLE ... DROP COLUMN (SQLite >= 3.35), not batch mode's copy of the
    # table: dropping and renaming `businesses` fails while rows of other tables refer to
    # it and foreign keys are enforced (the app switches them on).
    with op.batch_alter_table('appointments', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('calendar_sequence')
        batch_op.drop_column('language')
    with op.batch_alter_table('businesses', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('cancel_cutoff_hours')
