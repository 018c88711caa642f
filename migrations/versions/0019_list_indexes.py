"""List pages at city scale (#17): the indexes every list order needs, and the certificate's two counties.

A county's certificate list read its scope through two correlated EXISTS (the holder's county, the batch's
county) for every certificate; the certificate now carries both counties, filled here for existing rows and
written with every new certificate. Each list order gets an index ending on the id the pager breaks ties
with, so a page's ids are found over the index (registry/core/listing.py).

Revision ID: 0019_list_indexes
Revises: 0018_funnel_stage
Create Date: 2026-12-05 17:30:00
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0019_list_indexes'
down_revision = '0018_funnel_stage'
branch_labels = None
depends_on = None

INDEXES = [
    ('certificates', 'ix_certificates_issued_on', ['issued_on', 'id']),
    ('certificates', 'ix_certificates_number_id', ['number', 'id']),
    ('certificates', 'ix_certificates_status', ['status', 'id']),
    ('certificates', 'ix_certificates_level', ['level', 'id']),
    ('certificates', 'ix_certificates_holder_county', ['holder_county_code', 'issued_on', 'id']),
    ('certificates', 'ix_certificates_batch_county', ['batch_county_code', 'issued_on', 'id']),
    ('certificates', 'ix_certificates_agency_issued', ['agency_id', 'issued_on', 'id']),
    ('enrollments', 'ix_enrollments_enrolled_on', ['enrolled_on', 'id']),
    ('enrollments', 'ix_enrollments_status', ['status', 'id']),
    ('enrollments', 'ix_enrollments_class_id', ['class_id', 'id']),
    ('training_classes', 'ix_training_classes_starts_on', ['starts_on', 'id']),
    ('training_classes', 'ix_training_classes_name', ['name', 'id']),
    ('training_classes', 'ix_training_classes_status', ['status', 'id']),
    ('assessment_batches', 'ix_assessment_batches_assessed_on', ['assessed_on', 'id']),
    ('assessment_batches', 'ix_assessment_batches_level', ['level', 'id']),
    ('assessment_batches', 'ix_assessment_batches_status', ['status', 'id']),
    ('audit_events', 'ix_audit_events_occurred_at', ['occurred_at', 'id']),
    ('audit_events', 'ix_audit_events_actor_name', ['actor_name', 'id']),
]


def upgrade():
    op.add_column('certificates', sa.Column('holder_county_code', sa.String(length=6), nullable=True))
    op.add_column('certificates', sa.Column('batch_county_code', sa.String(length=6), nullable=True))
    op.execute("UPDATE certificates SET"
               " holder_county_code = (SELECT county_code FROM persons WHERE persons.id = certificates.person_id),"
               " batch_county_code = (SELECT county_code FROM assessment_batches"
               " WHERE assessment_batches.id = certificates.batch_id)")
    # Replaced by (occurred_at, id): PostgreSQL's index holds no row id to break ties with.
    op.drop_index('ix_audit_events_occurred_at', table_name='audit_events')
    for table, name, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade():
    for table, name, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
    op.create_index('ix_audit_events_occurred_at', 'audit_events', ['occurred_at'], unique=False)
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.drop_column('batch_county_code')
        batch_op.drop_column('holder_county_code')
