"""Kept totals for the plan's rural-labour persons and apprenticeship enrolments (#17: /stats counted them from
the raw tables, ≈ 1.6 s of every cockpit page at 1.35M persons).

The new measures are zero in the totals of a registry that already has data; the migration marks it, and
`registry init-db` (registry.stats.rebuild.rebuild_if_missing) recounts the totals from the raw tables once.

Revision ID: 0020_plan_indicator_totals
Revises: 0019_list_indexes
Create Date: 2026-12-05 17:30:00
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0020_plan_indicator_totals'
down_revision = '0019_list_indexes'
branch_labels = None
depends_on = None

TABLES = ("coverage_entries", "coverage_days", "coverage_months")
MEASURES = ("apprentice_enrolments", "rural_trained", "rural_trained_once")
RECOUNT = "stats_recount_needed"  # registry.stats.rebuild.RECOUNT_NEEDED


def upgrade():
    for table in TABLES:
        for measure in MEASURES:
            op.add_column(table, sa.Column(measure, sa.Integer(), nullable=False, server_default="0"))
    op.execute(f"INSERT INTO settings (key, value) SELECT '{RECOUNT}', '{revision}' "
               "WHERE EXISTS (SELECT 1 FROM coverage_days)")


def downgrade():
    op.execute(f"DELETE FROM settings WHERE key = '{RECOUNT}'")
    for table in TABLES:
        with op.batch_alter_table(table) as batch_op:
            for measure in MEASURES:
                batch_op.drop_column(measure)
