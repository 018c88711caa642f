"""Kept valid certificates per level, so the level drill-down reads the kept totals (#17: it counted from the
raw tables, 2.7–6.4 s at 1.35M persons).

As in 0020, the new measures are zero in the totals of a registry that already has data; the migration marks
it, and `registry init-db` (registry.stats.rebuild.rebuild_if_missing) recounts the totals once.

Revision ID: 0021_level_certificate_totals
Revises: 0020_plan_indicator_totals
Create Date: 2026-12-06 01:45:00
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0021_level_certificate_totals'
down_revision = '0020_plan_indicator_totals'
branch_labels = None
depends_on = None

TABLES = ("coverage_entries", "coverage_days", "coverage_months")
MEASURES = tuple(f"certificates_level_{level}" for level in range(1, 6))
RECOUNT = "stats_recount_needed"  # registry.stats.rebuild.RECOUNT_NEEDED


def upgrade():
    for table in TABLES:
        for measure in MEASURES:
            op.add_column(table, sa.Column(measure, sa.Integer(), nullable=False, server_default="0"))
    # 0020 may have set the marker already (a registry upgraded across both): one recount covers both.
    op.execute(f"INSERT INTO settings (key, value) SELECT '{RECOUNT}', '{revision}' "
               f"WHERE EXISTS (SELECT 1 FROM coverage_days) "
               f"AND NOT EXISTS (SELECT 1 FROM settings WHERE key = '{RECOUNT}')")


def downgrade():
    for table in TABLES:
        with op.batch_alter_table(table) as batch_op:
            for measure in MEASURES:
                batch_op.drop_column(measure)
