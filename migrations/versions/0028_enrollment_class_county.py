"""A county's trainee list at city scale (#17): each enrolment stores its class's county (class_county_code),
indexed with the list's order, so a county's list and its count walk one index instead of testing every
enrolment of the city against the county's classes.

Added as a nullable column (SQLite adds it in place, keeping the table's row-count triggers of 0026), filled from
the classes; every writer fills it from then on (registry/training/operations.py, roster.py, demo_data.py) and
`registry stats rebuild --check` reports an enrolment whose stored county differs from its class's.

Revision ID: 0028_enrollment_class_county
Revises: 0027_name_trigrams_sqlite
Create Date: 2026-12-06 23:50:00
"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0028_enrollment_class_county'
down_revision = '0027_name_trigrams_sqlite'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('enrollments', sa.Column('class_county_code', sa.String(length=6), nullable=True))
    op.execute("UPDATE enrollments SET class_county_code = "
               "(SELECT county_code FROM training_classes WHERE training_classes.id = enrollments.class_id)")
    op.create_index('ix_enrollments_class_county', 'enrollments',
                    ['class_county_code', 'enrolled_on', 'id'], unique=False)


def downgrade():
    op.drop_index('ix_enrollments_class_county', table_name='enrollments')
    # In place on both engines (SQLite 3.35+): a batch copy would drop the table's row-count triggers.
    op.execute("ALTER TABLE enrollments DROP COLUMN class_county_code")
