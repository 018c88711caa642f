"""A leak list's count from one stage's funnel totals (#17): the month and day totals gain an index on (stage,
period, enrolments), so summing one stage reads that stage's index entries alone instead of every total, which
grew with the registry (the month totals: 3,488 rows at 100k persons, 12,948 at 1.35M).

Revision ID: 0031_funnel_stage_indexes
Revises: 0030_scope_counts_by_county
Create Date: 2026-12-07 07:00:00
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0031_funnel_stage_indexes'
down_revision = '0030_scope_counts_by_county'
branch_labels = None
depends_on = None

INDEXES = {"funnel_days": "day", "funnel_months": "month"}


def upgrade():
    for table_name, period in INDEXES.items():
        op.create_index(f"ix_{table_name}_stage", table_name, ["stage", period, "enrolments"], unique=False)


def downgrade():
    for table_name in INDEXES:
        op.drop_index(f"ix_{table_name}_stage", table_name=table_name)
