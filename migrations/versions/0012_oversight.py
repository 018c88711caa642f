"""Oversight (#16): signal instances and their handling, sampling audits, supervision records, assessors and
batch assessors, signal thresholds; agencies.is_warned (警告 after supervision).

Revision ID: 0012_oversight
Revises: 0008_accounts
Create Date: 2026-12-04 19:00:00
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012_oversight'
down_revision = '0008_accounts'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('signal_settings',
    sa.Column('key', sa.String(length=40), nullable=False),
    sa.Column('value', sa.Double(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_signal_settings'))
    )
    op.create_table('assessors',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('document_masked', sa.String(length=40), nullable=False),
    sa.Column('document_hash', sa.String(length=64), nullable=False),
    sa.Column('certificate_number', sa.String(length=40), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_assessors_agency_id_agencies')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assessors')),
    sa.UniqueConstraint('agency_id', 'document_hash', name=op.f('uq_assessors_agency_id_document_hash'))
    )
    with op.batch_alter_table('assessors', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assessors_agency_id'), ['agency_id'], unique=False)

    op.create_table('assessor_scopes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('assessor_id', sa.Integer(), nullable=False),
    sa.Column('occupation_id', sa.Integer(), nullable=False),
    sa.Column('lowest_level', sa.Integer(), nullable=False),
    sa.Column('highest_level', sa.Integer(), nullable=False),
    sa.CheckConstraint('highest_level <= lowest_level', name=op.f('ck_assessor_scopes_level_order')),
    sa.CheckConstraint('highest_level BETWEEN 1 AND 5 AND lowest_level BETWEEN 1 AND 5', name=op.f('ck_assessor_scopes_level_digits')),
    sa.ForeignKeyConstraint(['assessor_id'], ['assessors.id'], name=op.f('fk_assessor_scopes_assessor_id_assessors')),
    sa.ForeignKeyConstraint(['occupation_id'], ['occupations.id'], name=op.f('fk_assessor_scopes_occupation_id_occupations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assessor_scopes'))
    )
    with op.batch_alter_table('assessor_scopes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assessor_scopes_assessor_id'), ['assessor_id'], unique=False)

    op.create_table('sampling_audits',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('county_code', sa.String(length=6), nullable=True),
    sa.Column('period_from', sa.Date(), nullable=False),
    sa.Column('period_to', sa.Date(), nullable=False),
    sa.Column('sample_size', sa.Integer(), nullable=False),
    sa.Column('seed', sa.BigInteger(), nullable=False),
    sa.Column('population', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('open', 'closed', name='auditstatus', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('summary', sa.String(length=2000), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('period_to >= period_from', name=op.f('ck_sampling_audits_period_order')),
    sa.CheckConstraint('sample_size > 0', name=op.f('ck_sampling_audits_sample_size_positive')),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_sampling_audits_agency_id_agencies')),
    sa.ForeignKeyConstraint(['county_code'], ['counties.code'], name=op.f('fk_sampling_audits_county_code_counties')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_sampling_audits_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sampling_audits'))
    )
    with op.batch_alter_table('sampling_audits', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sampling_audits_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sampling_audits_county_code'), ['county_code'], unique=False)

    op.create_table('signal_instances',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('signal', sa.String(length=40), nullable=False),
    sa.Column('subject_key', sa.String(length=120), nullable=False),
    sa.Column('county_code', sa.String(length=6), nullable=True),
    sa.Column('agency_id', sa.Integer(), nullable=True),
    sa.Column('institution_id', sa.Integer(), nullable=True),
    sa.Column('summary', sa.String(length=400), nullable=False),
    sa.Column('status', sa.Enum('open', 'explained', 'confirmed', 'dismissed', name='signalstatus', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('is_current', sa.Boolean(), nullable=False),
    sa.Column('first_found_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_found_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_signal_instances_agency_id_agencies')),
    sa.ForeignKeyConstraint(['county_code'], ['counties.code'], name=op.f('fk_signal_instances_county_code_counties')),
    sa.ForeignKeyConstraint(['institution_id'], ['training_institutions.id'], name=op.f('fk_signal_instances_institution_id_training_institutions')),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_signal_instances_owner_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_signal_instances')),
    sa.UniqueConstraint('signal', 'subject_key', name=op.f('uq_signal_instances_signal_subject_key'))
    )
    with op.batch_alter_table('signal_instances', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_signal_instances_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_signal_instances_county_code'), ['county_code'], unique=False)

    op.create_table('supervision_records',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('visited_on', sa.Date(), nullable=False),
    sa.Column('findings', sa.String(length=2000), nullable=False),
    sa.Column('correction_due_on', sa.Date(), nullable=True),
    sa.Column('outcome', sa.Enum('normal', 'warned', 'suspended', name='supervisionoutcome', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_supervision_records_agency_id_agencies')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_supervision_records_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supervision_records'))
    )
    with op.batch_alter_table('supervision_records', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_supervision_records_agency_id'), ['agency_id'], unique=False)

    op.create_table('batch_assessors',
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('assessor_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['assessor_id'], ['assessors.id'], name=op.f('fk_batch_assessors_assessor_id_assessors')),
    sa.ForeignKeyConstraint(['batch_id'], ['assessment_batches.id'], name=op.f('fk_batch_assessors_batch_id_assessment_batches')),
    sa.PrimaryKeyConstraint('batch_id', 'assessor_id', name=op.f('pk_batch_assessors'))
    )
    with op.batch_alter_table('batch_assessors', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_batch_assessors_assessor_id'), ['assessor_id'], unique=False)

    op.create_table('signal_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.Enum('open', 'explained', 'confirmed', 'dismissed', name='signalstatus', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.String(length=1000), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_signal_changes_actor_id_users')),
    sa.ForeignKeyConstraint(['instance_id'], ['signal_instances.id'], name=op.f('fk_signal_changes_instance_id_signal_instances')),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_signal_changes_owner_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_signal_changes'))
    )
    with op.batch_alter_table('signal_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_signal_changes_instance_id'), ['instance_id'], unique=False)

    op.create_table('audit_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('audit_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('certificate_id', sa.Integer(), nullable=False),
    sa.Column('finding', sa.Enum('conforming', 'problem', name='findingkind', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('finding_note', sa.String(length=1000), nullable=True),
    sa.Column('answer', sa.String(length=1000), nullable=True),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['audit_id'], ['sampling_audits.id'], name=op.f('fk_audit_items_audit_id_sampling_audits')),
    sa.ForeignKeyConstraint(['certificate_id'], ['certificates.id'], name=op.f('fk_audit_items_certificate_id_certificates')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_items')),
    sa.UniqueConstraint('audit_id', 'certificate_id', name=op.f('uq_audit_items_audit_id_certificate_id'))
    )
    with op.batch_alter_table('audit_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_items_audit_id'), ['audit_id'], unique=False)

    with op.batch_alter_table('agencies', schema=None) as batch_op:
        batch_op.add_column(sa.Column('is_warned', sa.Boolean(), server_default=sa.false(), nullable=False))



def downgrade():
    with op.batch_alter_table('agencies', schema=None) as batch_op:
        batch_op.drop_column('is_warned')

    with op.batch_alter_table('audit_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_items_audit_id'))

    op.drop_table('audit_items')
    with op.batch_alter_table('signal_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_signal_changes_instance_id'))

    op.drop_table('signal_changes')
    with op.batch_alter_table('batch_assessors', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_batch_assessors_assessor_id'))

    op.drop_table('batch_assessors')
    with op.batch_alter_table('supervision_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_supervision_records_agency_id'))

    op.drop_table('supervision_records')
    with op.batch_alter_table('signal_instances', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_signal_instances_county_code'))
        batch_op.drop_index(batch_op.f('ix_signal_instances_agency_id'))

    op.drop_table('signal_instances')
    with op.batch_alter_table('sampling_audits', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sampling_audits_county_code'))
        batch_op.drop_index(batch_op.f('ix_sampling_audits_agency_id'))

    op.drop_table('sampling_audits')
    with op.batch_alter_table('assessor_scopes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assessor_scopes_assessor_id'))

    op.drop_table('assessor_scopes')
    with op.batch_alter_table('assessors', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assessors_agency_id'))

    op.drop_table('assessors')
    op.drop_table('signal_settings')
