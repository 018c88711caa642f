"""Month totals beside the day totals (coverage_months), filled from the day totals already kept.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 13:05:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

MEASURES = ("holders", "level_1", "level_2", "level_3", "level_4", "level_5", "certificates_valid",
            "certificates_revoked", "enrolments", "completions", "subsidised_enrolments", "rural_enrolments")


def upgrade():
    op.create_table('coverage_months',
    sa.Column('county_code', sa.String(length=6), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    *[sa.Column(measure, sa.Integer(), nullable=False) for measure in MEASURES],
    sa.PrimaryKeyConstraint('county_code', 'month', name=op.f('pk_coverage_months'))
    )
    if op.get_bind().dialect.name == "postgresql":
        month = "CAST(date_trunc('month', day) AS DATE)"
    else:
        month = "date(day, 'start of month')"
    columns = ", ".join(MEASURES)
    sums = ", ".join(f"SUM({measure})" for measure in MEASURES)
    op.execute(f"INSERT INTO coverage_months (county_code, month, {columns}) "
               f"SELECT county_code, {month}, {sums} FROM coverage_days GROUP BY county_code, {month}")


def downgrade():
    op.drop_table('coverage_months')
