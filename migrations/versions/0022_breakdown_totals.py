"""The drill-downs' kept breakdowns (#17): per occupation, key group, programme, agency and institution, what
each person and class adds (breakdown_sources) and its day and month totals per county (breakdown_days,
breakdown_months), so those drill-downs stop counting the raw tables (3–6 s city-wide at 1.35M persons).

A registry that already has data is marked, and `registry init-db` (registry.stats.rebuild.rebuild_if_missing)
fills them once from the raw tables, with the code's own definitions.

Revision ID: 0022_breakdown_totals
Revises: 0021_level_certificate_totals
Create Date: 2026-12-06 02:00:00
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0022_breakdown_totals'
down_revision = '0021_level_certificate_totals'
branch_labels = None
depends_on = None

MEASURES = ("holders", "certificates_valid", "certificates_revoked", "assessed", "passed", "enrolments",
            "completions", "subsidised", "classes")
RECOUNT = "stats_recount_needed"  # registry.stats.rebuild.RECOUNT_NEEDED


def _totals(name: str, period: str) -> None:
    op.create_table(name,
    sa.Column('dimension', sa.String(length=12), nullable=False),
    sa.Column('value', sa.String(length=40), nullable=False),
    sa.Column('county_code', sa.String(length=6), nullable=False),
    *[sa.Column(measure, sa.Integer(), nullable=False) for measure in MEASURES],
    sa.Column(period, sa.Date(), nullable=False),
    sa.PrimaryKeyConstraint('dimension', 'value', 'county_code', period, name=op.f(f'pk_{name}'))
    )


def upgrade():
    op.create_table('breakdown_sources',
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('source_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('contribution', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('source', 'source_id', name=op.f('pk_breakdown_sources'))
    )
    _totals('breakdown_days', 'day')
    _totals('breakdown_months', 'month')
    op.execute(f"INSERT INTO settings (key, value) SELECT '{RECOUNT}', '{revision}' "
               f"WHERE EXISTS (SELECT 1 FROM coverage_days) "
               f"AND NOT EXISTS (SELECT 1 FROM settings WHERE key = '{RECOUNT}')")


def downgrade():
    op.drop_table('breakdown_months')
    op.drop_table('breakdown_days')
    op.drop_table('breakdown_sources')
