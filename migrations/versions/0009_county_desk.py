"""Employed persons per county and year, with their source (county_employment): the denominator of the plan's
持证率 and 技能人才占比 on the county desk.

Revision ID: 0009_county_desk
Revises: 0008_accounts
Create Date: 2026-12-04 19:00:00
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009_county_desk'
down_revision = '0011_assessment_integrity'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('county_employment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('county_code', sa.String(length=6), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('employed_persons', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['county_code'], ['counties.code'], name=op.f('fk_county_employment_county_code_counties')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_county_employment')),
    sa.UniqueConstraint('county_code', 'year', name=op.f('uq_county_employment_county_code_year'))
    )


def downgrade():
    op.drop_table('county_employment')
