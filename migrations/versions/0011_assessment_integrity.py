"""Issuing as a background job (certificate_issue_jobs); the audited reason for a repeat award
(assessment_results.repeat_reason); eligibility rules per level (eligibility_rules) and the audited exception
(assessment_results.eligibility_exception).

Revision ID: 0011_assessment_integrity
Revises: 0008_accounts
Create Date: 2026-12-04 19:00:00
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011_assessment_integrity'
down_revision = '0010_clerk_ux'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('certificate_issue_jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('issued_on', sa.Date(), nullable=False),
    sa.Column('first_serial', sa.Integer(), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('running', 'done', 'failed', name='issuejobstatus', native_enum=False,
                                create_constraint=True, length=32), nullable=False),
    sa.Column('message', sa.String(length=300), nullable=False),
    sa.Column('refused', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['batch_id'], ['assessment_batches.id'],
                            name=op.f('fk_certificate_issue_jobs_batch_id_assessment_batches')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_certificate_issue_jobs_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_certificate_issue_jobs')),
    sa.UniqueConstraint('batch_id', name=op.f('uq_certificate_issue_jobs_batch_id'))
    )
    with op.batch_alter_table('assessment_results', schema=None) as batch_op:
        batch_op.add_column(sa.Column('repeat_reason', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('eligibility_exception', sa.String(length=200), nullable=True))
    op.create_table('eligibility_rules',
    sa.Column('level', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('previous_level_years', sa.Integer(), nullable=True),
    sa.Column('work_years', sa.Integer(), nullable=True),
    sa.Column('education', sa.String(length=200), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('level BETWEEN 1 AND 5', name=op.f('ck_eligibility_rules_level_digit')),
    sa.PrimaryKeyConstraint('level', name=op.f('pk_eligibility_rules'))
    )


def downgrade():
    op.drop_table('eligibility_rules')
    with op.batch_alter_table('assessment_results', schema=None) as batch_op:
        batch_op.drop_column('eligibility_exception')
        batch_op.drop_column('repeat_reason')
    op.drop_table('certificate_issue_jobs')
