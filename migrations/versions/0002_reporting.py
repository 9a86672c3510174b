"""Reporting: houses, people, tenancies, submissions, decisions, drafts.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 22:47:17.704593
"""
import sqlalchemy as sa
from alembic import op


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('person',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('id_type', sa.Enum('resident_id', 'passport', 'hk_macau_permit', 'taiwan_permit', 'foreign_permanent_id', name='idtype', native_enum=False, length=24), nullable=False),
    sa.Column('id_number', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('sex', sa.String(length=1), nullable=True),
    sa.Column('birth_date', sa.Date(), nullable=True),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_person')),
    sa.UniqueConstraint('id_type', 'id_number', name=op.f('uq_person_id_type_id_number'))
    )
    op.create_table('draft',
    sa.Column('key', sa.String(length=43), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['owner_id'], ['user_account.id'], name=op.f('fk_draft_owner_id_user_account')),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_draft'))
    )
    with op.batch_alter_table('draft', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_draft_owner_id'), ['owner_id'], unique=False)

    op.create_table('house',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('address_id', sa.Integer(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('beat_id', sa.Integer(), nullable=False),
    sa.Column('use', sa.Enum('whole_rental', 'shared_rental', 'owner_occupied_rooms', 'vacant', 'business', name='houseuse', native_enum=False, length=24), nullable=False),
    sa.Column('max_occupants', sa.Integer(), nullable=False),
    sa.Column('certificate_no', sa.String(length=40), nullable=True),
    sa.Column('status', sa.Enum('pending', 'verified', 'rejected', 'superseded', 'withdrawn', 'ended', name='recordstatus', native_enum=False, length=24), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['address_id'], ['address.id'], name=op.f('fk_house_address_id_address')),
    sa.ForeignKeyConstraint(['beat_id'], ['beat.id'], name=op.f('fk_house_beat_id_beat')),
    sa.ForeignKeyConstraint(['owner_id'], ['user_account.id'], name=op.f('fk_house_owner_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_house')),
    sa.UniqueConstraint('address_id', 'owner_id', name=op.f('uq_house_address_id_owner_id'))
    )
    with op.batch_alter_table('house', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_house_address_id'), ['address_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_house_beat_id'), ['beat_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_house_owner_id'), ['owner_id'], unique=False)

    op.create_table('submission',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('house_registration', 'move_in', 'move_out', 'unit_registration', 'hire', 'departure', name='submissionkind', native_enum=False, length=24), nullable=False),
    sa.Column('status', sa.Enum('pending', 'confirmed', 'rejected', 'site_visit', 'superseded', 'withdrawn', name='submissionstatus', native_enum=False, length=16), nullable=False),
    sa.Column('reporter_id', sa.Integer(), nullable=False),
    sa.Column('beat_id', sa.Integer(), nullable=False),
    sa.Column('station_id', sa.Integer(), nullable=False),
    sa.Column('is_open', sa.Boolean(), nullable=False),
    sa.Column('house_id', sa.Integer(), nullable=True),
    sa.Column('tenancy_id', sa.Integer(), nullable=True),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('flags', sa.JSON(), nullable=False),
    sa.Column('flagged', sa.Boolean(), nullable=False),
    sa.Column('late', sa.Boolean(), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('receipt', sa.String(length=16), nullable=False),
    sa.Column('form_key', sa.String(length=64), nullable=True),
    sa.Column('supersedes_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['beat_id'], ['beat.id'], name=op.f('fk_submission_beat_id_beat')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['user_account.id'], name=op.f('fk_submission_decided_by_id_user_account')),
    sa.ForeignKeyConstraint(['house_id'], ['house.id'], name=op.f('fk_submission_house_id_house')),
    sa.ForeignKeyConstraint(['reporter_id'], ['user_account.id'], name=op.f('fk_submission_reporter_id_user_account')),
    sa.ForeignKeyConstraint(['station_id'], ['station.id'], name=op.f('fk_submission_station_id_station')),
    sa.ForeignKeyConstraint(['supersedes_id'], ['submission.id'], name=op.f('fk_submission_supersedes_id_submission')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_submission')),
    sa.UniqueConstraint('form_key', name=op.f('uq_submission_form_key')),
    sa.UniqueConstraint('receipt', name=op.f('uq_submission_receipt'))
    )
    with op.batch_alter_table('submission', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_submission_house_id'), ['house_id'], unique=False)
        batch_op.create_index('ix_submission_queue_beat', ['beat_id', 'is_open', 'submitted_at', 'id'], unique=False)
        batch_op.create_index('ix_submission_queue_station', ['station_id', 'is_open', 'submitted_at', 'id'], unique=False)
        batch_op.create_index('ix_submission_reporter', ['reporter_id', 'submitted_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_submission_tenancy_id'), ['tenancy_id'], unique=False)

    op.create_table('decision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('submission_id', sa.Integer(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=False),
    sa.Column('from_status', sa.String(length=16), nullable=False),
    sa.Column('to_status', sa.String(length=16), nullable=False),
    sa.Column('reason_code', sa.String(length=40), nullable=True),
    sa.Column('reason_text', sa.Text(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['user_account.id'], name=op.f('fk_decision_actor_id_user_account')),
    sa.ForeignKeyConstraint(['submission_id'], ['submission.id'], name=op.f('fk_decision_submission_id_submission')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_decision'))
    )
    with op.batch_alter_table('decision', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_decision_submission_id'), ['submission_id'], unique=False)

    op.create_table('tenancy',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('house_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('submission_id', sa.Integer(), nullable=False),
    sa.Column('move_in_date', sa.Date(), nullable=False),
    sa.Column('lease_end_date', sa.Date(), nullable=True),
    sa.Column('move_out_date', sa.Date(), nullable=True),
    sa.Column('relation', sa.String(length=40), nullable=True),
    sa.Column('occupation', sa.String(length=60), nullable=True),
    sa.Column('workplace', sa.String(length=100), nullable=True),
    sa.Column('status', sa.Enum('pending', 'verified', 'rejected', 'superseded', 'withdrawn', 'ended', name='recordstatus', native_enum=False, length=24), nullable=False),
    sa.ForeignKeyConstraint(['house_id'], ['house.id'], name=op.f('fk_tenancy_house_id_house')),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_tenancy_person_id_person')),
    sa.ForeignKeyConstraint(['submission_id'], ['submission.id'], name=op.f('fk_tenancy_submission_id_submission')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tenancy'))
    )
    with op.batch_alter_table('tenancy', schema=None) as batch_op:
        batch_op.create_index('ix_tenancy_house_active', ['house_id', 'move_out_date'], unique=False)
        batch_op.create_index('ix_tenancy_person_active', ['person_id', 'move_out_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_tenancy_submission_id'), ['submission_id'], unique=False)

    # submission.tenancy_id and tenancy.submission_id refer to each other: add this one last.
    with op.batch_alter_table('submission', schema=None) as batch_op:
        batch_op.create_foreign_key(op.f('fk_submission_tenancy_id_tenancy'), 'tenancy', ['tenancy_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('submission', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('fk_submission_tenancy_id_tenancy'), type_='foreignkey')

    with op.batch_alter_table('tenancy', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tenancy_submission_id'))
        batch_op.drop_index('ix_tenancy_person_active')
        batch_op.drop_index('ix_tenancy_house_active')

    op.drop_table('tenancy')
    with op.batch_alter_table('decision', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_decision_submission_id'))

    op.drop_table('decision')
    with op.batch_alter_table('submission', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_submission_tenancy_id'))
        batch_op.drop_index('ix_submission_reporter')
        batch_op.drop_index('ix_submission_queue_station')
        batch_op.drop_index('ix_submission_queue_beat')
        batch_op.drop_index(batch_op.f('ix_submission_house_id'))

    op.drop_table('submission')
    with op.batch_alter_table('house', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_house_owner_id'))
        batch_op.drop_index(batch_op.f('ix_house_beat_id'))
        batch_op.drop_index(batch_op.f('ix_house_address_id'))

    op.drop_table('house')
    with op.batch_alter_table('draft', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_draft_owner_id'))

    op.drop_table('draft')
    op.drop_table('person')

