"""A county's certificate list from two index walks (#17): ix_certificates_batch_county gains the holder's county
as its last column, so the list's second part (assessed in the county, holder from elsewhere) and its count
read the index alone.

Revision ID: 0025_batch_county_covering
Revises: 0024_person_name_indexes
Create Date: 2026-12-06 19:30:00
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0025_batch_county_covering'
down_revision = '0024_person_name_indexes'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.drop_index('ix_certificates_batch_county')
        batch_op.create_index('ix_certificates_batch_county',
                              ['batch_county_code', 'issued_on', 'id', 'holder_county_code'], unique=False)


def downgrade():
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.drop_index('ix_certificates_batch_county')
        batch_op.create_index('ix_certificates_batch_county', ['batch_county_code', 'issued_on', 'id'], unique=False)
