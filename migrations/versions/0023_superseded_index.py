"""An index on certificates.superseded_by_id (#17): a certificate's page looks up the certificate it
replaced by this column, a scan of every certificate without it (≈ 250 ms at 1.35M persons).

Revision ID: 0023_superseded_index
Revises: 0022_breakdown_totals
Create Date: 2026-12-06 02:00:00
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0023_superseded_index'
down_revision = '0022_breakdown_totals'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(op.f('ix_certificates_superseded_by_id'), 'certificates', ['superseded_by_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_certificates_superseded_by_id'), table_name='certificates')
