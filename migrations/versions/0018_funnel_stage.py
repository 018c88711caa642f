"""The funnel's kept figures (#17): each enrolment's stage (funnel_stages, walked in order by the leak lists)
and its day and month totals per county, institution and stage, filled from the enrolments already recorded.

Revision ID: 0018_funnel_stage
Revises: 0017_share_links
Create Date: 2026-12-05 17:30:00
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0018_funnel_stage'
down_revision = '0017_share_links'
branch_labels = None
depends_on = None

# The stage as registry/stats/funnel.py defines it at this revision (0 enrolled … 4 certified): an
# assessment belongs to an enrolment through the batch's class, or, for a batch of no class, through the
# person, the class's occupation and an assessment on or after the enrolment day. Written out here so that
# this migration fills the same figures whatever later code says.
BELONGS = ("FROM assessment_results r JOIN assessment_batches b ON b.id = r.batch_id "
           "WHERE r.person_id = e.person_id AND (b.training_class_id = e.class_id "
           "OR (b.training_class_id IS NULL AND b.occupation_id = c.occupation_id "
           "AND b.assessed_on >= e.enrolled_on))")
STAGE = (f"CASE WHEN e.status <> 'completed' THEN 0 "
         f"WHEN EXISTS (SELECT 1 {BELONGS} AND r.is_passed "
         f"AND EXISTS (SELECT 1 FROM certificates k WHERE k.result_id = r.id)) THEN 4 "
         f"WHEN EXISTS (SELECT 1 {BELONGS} AND r.is_passed) THEN 3 "
         f"WHEN EXISTS (SELECT 1 {BELONGS}) THEN 2 ELSE 1 END")


def _totals(name: str, period: str) -> None:
    op.create_table(name,
    sa.Column('county_code', sa.String(length=6), nullable=False),
    sa.Column('institution_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('stage', sa.SmallInteger(), nullable=False),
    sa.Column('enrolments', sa.Integer(), nullable=False),
    sa.Column(period, sa.Date(), nullable=False),
    sa.PrimaryKeyConstraint('county_code', 'institution_id', 'stage', period, name=op.f(f'pk_{name}'))
    )


def upgrade():
    op.create_table('funnel_stages',
    sa.Column('enrollment_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('class_id', sa.Integer(), nullable=False),
    sa.Column('county_code', sa.String(length=6), nullable=False),
    sa.Column('institution_id', sa.Integer(), nullable=False),
    sa.Column('enrolled_on', sa.Date(), nullable=False),
    sa.Column('stage', sa.SmallInteger(), nullable=False),
    sa.PrimaryKeyConstraint('enrollment_id', name=op.f('pk_funnel_stages'))
    )
    _totals('funnel_days', 'day')
    _totals('funnel_months', 'month')
    op.execute("INSERT INTO funnel_stages (enrollment_id, person_id, class_id, county_code, institution_id, "
               f"enrolled_on, stage) SELECT e.id, e.person_id, e.class_id, c.county_code, c.institution_id, "
               f"e.enrolled_on, {STAGE} FROM enrollments e JOIN training_classes c ON c.id = e.class_id")
    with op.batch_alter_table('funnel_stages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_funnel_stages_person_id'), ['person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_funnel_stages_class_id'), ['class_id'], unique=False)
        batch_op.create_index('ix_funnel_stages_walk', ['stage', 'enrolled_on', 'enrollment_id'],
                              unique=False)
        batch_op.create_index('ix_funnel_stages_county_walk',
                              ['stage', 'county_code', 'enrolled_on', 'enrollment_id'], unique=False)
        batch_op.create_index('ix_funnel_stages_institution_walk',
                              ['stage', 'institution_id', 'enrolled_on', 'enrollment_id', 'county_code'],
                              unique=False)
    keys = "county_code, institution_id, stage"
    op.execute(f"INSERT INTO funnel_days ({keys}, day, enrolments) "
               f"SELECT {keys}, enrolled_on, COUNT(*) FROM funnel_stages GROUP BY {keys}, enrolled_on")
    if op.get_bind().dialect.name == "postgresql":
        month = "CAST(date_trunc('month', day) AS DATE)"
    else:
        month = "date(day, 'start of month')"
    op.execute(f"INSERT INTO funnel_months ({keys}, month, enrolments) "
               f"SELECT {keys}, {month}, SUM(enrolments) FROM funnel_days GROUP BY {keys}, {month}")


def downgrade():
    op.drop_table('funnel_months')
    op.drop_table('funnel_days')
    with op.batch_alter_table('funnel_stages', schema=None) as batch_op:
        for name in ('ix_funnel_stages_institution_walk', 'ix_funnel_stages_county_walk',
                     'ix_funnel_stages_walk', 'ix_funnel_stages_class_id', 'ix_funnel_stages_person_id'):
            batch_op.drop_index(name)
    op.drop_table('funnel_stages')
