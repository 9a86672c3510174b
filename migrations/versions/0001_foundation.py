"""Foundation: jurisdictions, standard addresses, accounts, audit log.

Revision ID: 0001
Revises: 
Create Date: 2026-11-21 22:34:36.201289
"""
import sqlalchemy as sa
from alembic import op


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('bureau',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bureau')),
    sa.UniqueConstraint('code', name=op.f('uq_bureau_code'))
    )
    op.create_table('station',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('bureau_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['bureau_id'], ['bureau.id'], name=op.f('fk_station_bureau_id_bureau')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_station')),
    sa.UniqueConstraint('code', name=op.f('uq_station_code'))
    )
    with op.batch_alter_table('station', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_station_bureau_id'), ['bureau_id'], unique=False)

    op.create_table('beat',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('station_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['station_id'], ['station.id'], name=op.f('fk_beat_station_id_station')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_beat')),
    sa.UniqueConstraint('code', name=op.f('uq_beat_code'))
    )
    with op.batch_alter_table('beat', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_beat_station_id'), ['station_id'], unique=False)

    op.create_table('address',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('division_code', sa.String(length=6), nullable=False),
    sa.Column('division_name', sa.String(length=60), nullable=False),
    sa.Column('township', sa.String(length=60), nullable=False),
    sa.Column('road', sa.String(length=60), nullable=False),
    sa.Column('door_no', sa.String(length=20), nullable=False),
    sa.Column('community', sa.String(length=60), nullable=False),
    sa.Column('building', sa.String(length=20), nullable=False),
    sa.Column('unit', sa.String(length=20), nullable=False),
    sa.Column('room', sa.String(length=20), nullable=False),
    sa.Column('level', sa.Enum('door_plate', 'building', 'room', name='addresslevel', native_enum=False, length=16), nullable=False),
    sa.Column('beat_id', sa.Integer(), nullable=False),
    sa.Column('door_key', sa.String(length=20), nullable=False),
    sa.Column('building_key', sa.String(length=20), nullable=False),
    sa.Column('unit_key', sa.String(length=20), nullable=False),
    sa.Column('room_key', sa.String(length=20), nullable=False),
    sa.Column('search_text', sa.String(length=400), nullable=False),
    sa.ForeignKeyConstraint(['beat_id'], ['beat.id'], name=op.f('fk_address_beat_id_beat')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_address')),
    sa.UniqueConstraint('code', name=op.f('uq_address_code')),
    sa.UniqueConstraint('division_code', 'township', 'road', 'door_no', 'community', 'building', 'unit', 'room', name='uq_address_components')
    )
    with op.batch_alter_table('address', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_address_beat_id'), ['beat_id'], unique=False)
        batch_op.create_index('ix_address_door_key', ['door_key'], unique=False)
        batch_op.create_index('ix_address_room_key', ['room_key', 'building_key'], unique=False)

    op.create_table('user_account',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('role', sa.Enum('landlord', 'employer', 'officer', 'admin', 'auditor', name='role', native_enum=False, length=16), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('id_number', sa.String(length=18), nullable=True),
    sa.Column('password_hash', sa.String(length=200), nullable=False),
    sa.Column('must_change_password', sa.Boolean(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('locale', sa.String(length=16), nullable=True),
    sa.Column('station_id', sa.Integer(), nullable=True),
    sa.Column('beat_id', sa.Integer(), nullable=True),
    sa.Column('totp_secret', sa.String(length=64), nullable=True),
    sa.Column('totp_confirmed', sa.Boolean(), nullable=False),
    sa.Column('last_totp_step', sa.Integer(), nullable=True),
    sa.Column('failed_logins', sa.Integer(), nullable=False),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('session_version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("role != 'officer' OR station_id IS NOT NULL OR beat_id IS NOT NULL", name=op.f('ck_user_account_officer_has_jurisdiction')),
    sa.ForeignKeyConstraint(['beat_id'], ['beat.id'], name=op.f('fk_user_account_beat_id_beat')),
    sa.ForeignKeyConstraint(['station_id'], ['station.id'], name=op.f('fk_user_account_station_id_station')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_account')),
    sa.UniqueConstraint('phone', name=op.f('uq_user_account_phone'))
    )
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_account_beat_id'), ['beat_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_user_account_station_id'), ['station_id'], unique=False)

    op.create_table('audit_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_role', sa.String(length=16), nullable=True),
    sa.Column('ip', sa.String(length=64), nullable=True),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('object_type', sa.String(length=40), nullable=True),
    sa.Column('object_id', sa.String(length=40), nullable=True),
    sa.Column('outcome', sa.String(length=20), nullable=False),
    sa.Column('request_id', sa.String(length=40), nullable=True),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['user_account.id'], name=op.f('fk_audit_event_actor_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_event'))
    )
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.create_index('ix_audit_event_actor', ['actor_id', 'at'], unique=False)
        batch_op.create_index('ix_audit_event_at', ['at'], unique=False)




def downgrade() -> None:

    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_event_at')
        batch_op.drop_index('ix_audit_event_actor')

    op.drop_table('audit_event')
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_account_station_id'))
        batch_op.drop_index(batch_op.f('ix_user_account_beat_id'))

    op.drop_table('user_account')
    with op.batch_alter_table('address', schema=None) as batch_op:
        batch_op.drop_index('ix_address_room_key')
        batch_op.drop_index('ix_address_door_key')
        batch_op.drop_index(batch_op.f('ix_address_beat_id'))

    op.drop_table('address')
    with op.batch_alter_table('beat', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_beat_station_id'))

    op.drop_table('beat')
    with op.batch_alter_table('station', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_station_bureau_id'))

    op.drop_table('station')
    op.drop_table('bureau')

