"""The funnel's all-time totals (#17): a row per county, institution and stage, kept beside the day and month
totals, for the funnel and its leak counts when no enrolment dates are chosen. Summing the month totals grew
with the months the registry spans (3,488 rows at 100k persons, 12,948 at 1.35M; /stats/funnel city-wide
2.06× on SQLite); the all-time rows are bounded by the counties and institutions (380 and 472). Filled from
the month totals.

Revision ID: 0032_funnel_all_time
Revises: 0031_funnel_stage_indexes
Create Date: 2026-12-07 13:20:00
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0032_funnel_all_time'
down_revision = '0031_funnel_stage_indexes'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('funnel_all_time',
    sa.Column('county_code', sa.String(length=6), nullable=False),
    sa.Column('institution_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('stage', sa.SmallInteger(), nullable=False),
    sa.Column('enrolments', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('county_code', 'institution_id', 'stage', name=op.f('pk_funnel_all_time'))
    )
    keys = "county_code, institution_id, stage"
    op.execute(f"INSERT INTO funnel_all_time ({keys}, enrolments) SELECT {keys}, SUM(enrolments) "
               f"FROM funnel_months GROUP BY {keys} HAVING SUM(enrolments) <> 0")


def downgrade():
    op.drop_table('funnel_all_time')
