"""专项职业能力 issued in the app: the item catalogue (special_items), agencies filed for items
(agency_special_items), batches of an item without occupation or level (assessment_batches.special_item_id),
and the item on its certificates (certificates.special_item_id).

Revision ID: 0015_certificate_kinds
Revises: 0009_county_desk
Create Date: 2026-12-05 07:40:00
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015_certificate_kinds'
down_revision = '0009_county_desk'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('special_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('source', sa.String(length=300), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_special_items')),
    sa.UniqueConstraint('code', name=op.f('uq_special_items_code'))
    )
    op.create_table('agency_special_items',
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('special_item_id', sa.Integer(), nullable=False),
    sa.Column('filed_on', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_agency_special_items_agency_id_agencies')),
    sa.ForeignKeyConstraint(['special_item_id'], ['special_items.id'],
                            name=op.f('fk_agency_special_items_special_item_id_special_items')),
    sa.PrimaryKeyConstraint('agency_id', 'special_item_id', name=op.f('pk_agency_special_items'))
    )
    with op.batch_alter_table('assessment_batches', schema=None) as batch_op:
        batch_op.add_column(sa.Column('special_item_id', sa.Integer(), nullable=True))
        batch_op.alter_column('occupation_id', existing_type=sa.Integer(), nullable=True)
        batch_op.alter_column('level', existing_type=sa.Integer(), nullable=True)
        batch_op.drop_constraint(op.f('ck_assessment_batches_level_digit'), type_='check')
        batch_op.create_check_constraint('level_digit', 'level IS NULL OR level BETWEEN 1 AND 5')
        batch_op.create_check_constraint(
            'occupation_or_item',
            '(special_item_id IS NULL AND occupation_id IS NOT NULL AND level IS NOT NULL)'
            ' OR (special_item_id IS NOT NULL AND occupation_id IS NULL AND level IS NULL)')
        batch_op.create_foreign_key(batch_op.f('fk_assessment_batches_special_item_id_special_items'),
                                    'special_items', ['special_item_id'], ['id'])
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.add_column(sa.Column('special_item_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_certificates_special_item_id_special_items'),
                                    'special_items', ['special_item_id'], ['id'])


def downgrade():
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_certificates_special_item_id_special_items'), type_='foreignkey')
        batch_op.drop_column('special_item_id')
    with op.batch_alter_table('assessment_batches', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_assessment_batches_special_item_id_special_items'),
                                 type_='foreignkey')
        batch_op.drop_constraint(op.f('ck_assessment_batches_occupation_or_item'), type_='check')
        batch_op.drop_constraint(op.f('ck_assessment_batches_level_digit'), type_='check')
        batch_op.create_check_constraint('level_digit', 'level BETWEEN 1 AND 5')
        batch_op.alter_column('level', existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column('occupation_id', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column('special_item_id')
    op.drop_table('agency_special_items')
    op.drop_table('special_items')
