"""Units (实有单位), employments and staff-list imports.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21 22:51:23.163912
"""
import sqlalchemy as sa
from alembic import op


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('unit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('uscc', sa.String(length=18), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('unit_type', sa.Enum('enterprise', 'individual_business', 'public_institution', 'social_organisation', name='unittype', native_enum=False, length=24), nullable=False),
    sa.Column('industry', sa.String(length=60), nullable=False),
    sa.Column('special_trade', sa.Enum('hotel', 'seal_engraving', 'locksmith', 'scrap_metal', 'pawn', 'used_vehicles', 'entertainment', name='specialtrade', native_enum=False, length=24), nullable=True),
    sa.Column('address_id', sa.Integer(), nullable=False),
    sa.Column('beat_id', sa.Integer(), nullable=False),
    sa.Column('legal_rep_name', sa.String(length=60), nullable=False),
    sa.Column('legal_rep_id_number', sa.String(length=18), nullable=False),
    sa.Column('contact_name', sa.String(length=60), nullable=False),
    sa.Column('contact_phone', sa.String(length=20), nullable=False),
    sa.Column('status', sa.Enum('pending', 'verified', 'rejected', 'superseded', 'withdrawn', 'ended', name='recordstatus', native_enum=False, length=24), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['address_id'], ['address.id'], name=op.f('fk_unit_address_id_address')),
    sa.ForeignKeyConstraint(['beat_id'], ['beat.id'], name=op.f('fk_unit_beat_id_beat')),
    sa.ForeignKeyConstraint(['owner_id'], ['user_account.id'], name=op.f('fk_unit_owner_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_unit')),
    sa.UniqueConstraint('owner_id', 'uscc', name=op.f('uq_unit_owner_id_uscc'))
    )
    with op.batch_alter_table('unit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_unit_beat_id'), ['beat_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_unit_owner_id'), ['owner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_unit_uscc'), ['uscc'], unique=False)

    op.create_table('staff_import',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('uploader_id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('content_digest', sa.String(length=64), nullable=False),
    sa.Column('full_list', sa.Boolean(), nullable=False),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.Column('valid', sa.Integer(), nullable=False),
    sa.Column('invalid', sa.Integer(), nullable=False),
    sa.Column('hires', sa.Integer(), nullable=False),
    sa.Column('departures', sa.Integer(), nullable=False),
    sa.Column('unchanged', sa.Integer(), nullable=False),
    sa.Column('errors', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_staff_import_unit_id_unit')),
    sa.ForeignKeyConstraint(['uploader_id'], ['user_account.id'], name=op.f('fk_staff_import_uploader_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_import'))
    )
    with op.batch_alter_table('staff_import', schema=None) as batch_op:
        batch_op.create_index('ix_staff_import_unit_digest', ['unit_id', 'content_digest'], unique=False)
        batch_op.create_index(batch_op.f('ix_staff_import_unit_id'), ['unit_id'], unique=False)

    op.create_table('employment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('submission_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.String(length=60), nullable=True),
    sa.Column('hire_date', sa.Date(), nullable=True),
    sa.Column('departure_date', sa.Date(), nullable=True),
    sa.Column('status', sa.Enum('pending', 'verified', 'rejected', 'superseded', 'withdrawn', 'ended', name='recordstatus', native_enum=False, length=24), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_employment_person_id_person')),
    sa.ForeignKeyConstraint(['submission_id'], ['submission.id'], name=op.f('fk_employment_submission_id_submission')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_employment_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_employment'))
    )
    with op.batch_alter_table('employment', schema=None) as batch_op:
        batch_op.create_index('ix_employment_person_active', ['person_id', 'departure_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_employment_submission_id'), ['submission_id'], unique=False)
        batch_op.create_index('ix_employment_unit_active', ['unit_id', 'departure_date'], unique=False)

    with op.batch_alter_table('submission', schema=None) as batch_op:
        batch_op.add_column(sa.Column('unit_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('employment_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('staff_import_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_submission_employment_id'), ['employment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_submission_staff_import_id'), ['staff_import_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_submission_unit_id'), ['unit_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_submission_staff_import_id_staff_import'), 'staff_import', ['staff_import_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_submission_employment_id_employment'), 'employment', ['employment_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_submission_unit_id_unit'), 'unit', ['unit_id'], ['id'])




def downgrade() -> None:

    with op.batch_alter_table('submission', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_submission_unit_id_unit'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_submission_employment_id_employment'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_submission_staff_import_id_staff_import'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_submission_unit_id'))
        batch_op.drop_index(batch_op.f('ix_submission_staff_import_id'))
        batch_op.drop_index(batch_op.f('ix_submission_employment_id'))
        batch_op.drop_column('staff_import_id')
        batch_op.drop_column('employment_id')
        batch_op.drop_column('unit_id')

    with op.batch_alter_table('employment', schema=None) as batch_op:
        batch_op.drop_index('ix_employment_unit_active')
        batch_op.drop_index(batch_op.f('ix_employment_submission_id'))
        batch_op.drop_index('ix_employment_person_active')

    op.drop_table('employment')
    with op.batch_alter_table('staff_import', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_import_unit_id'))
        batch_op.drop_index('ix_staff_import_unit_digest')

    op.drop_table('staff_import')
    with op.batch_alter_table('unit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_unit_uscc'))
        batch_op.drop_index(batch_op.f('ix_unit_owner_id'))
        batch_op.drop_index(batch_op.f('ix_unit_beat_id'))

    op.drop_table('unit')

