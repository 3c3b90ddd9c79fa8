"""spot checks (抽查): checks, their sampled deliveries and visit photos; a delivery may be reopened

Revision ID: 0009_spot_checks
Revises: 0008_honor_roll
Create Date: 2026-12-01 18:40:00

The delivery's status CHECK gains 'reopened' (verified → reopened when a spot check finds a
discrepancy). On SQLite that rebuilds the delivery table (copy, drop, rename): env.py turns foreign
key enforcement off around migrations there, or dropping the table would cascade to its evidence.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009_spot_checks'
down_revision = '0008_honor_roll'
branch_labels = None
depends_on = None

DELIVERY_STATUSES = "status IN ('reported', 'confirmed', 'disputed', 'verified', 'rejected', 'reopened')"
DELIVERY_STATUSES_0003 = "status IN ('reported', 'confirmed', 'disputed', 'verified', 'rejected')"


def _delivery_statuses(condition):
    with op.batch_alter_table('delivery', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_delivery_status_valid'), type_='check')
        batch_op.create_check_constraint(op.f('ck_delivery_status_valid'), condition)


def upgrade():
    _delivery_statuses(DELIVERY_STATUSES)

    op.create_table('spot_check',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('region_code', sa.String(length=12), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('sample_size', sa.Integer(), nullable=False),
    sa.Column('seed', sa.BigInteger(), nullable=False),
    sa.Column('candidate_count', sa.Integer(), nullable=False),
    sa.Column('candidates_digest', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status_changed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_by_id', sa.Integer(), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("(status = 'closed') = (closed_at IS NOT NULL)", name=op.f('ck_spot_check_closed_when_closed')),
    sa.CheckConstraint("status IN ('open', 'closed')", name=op.f('ck_spot_check_status_valid')),
    sa.CheckConstraint('candidate_count > 0', name=op.f('ck_spot_check_has_candidates')),
    sa.CheckConstraint('period_start <= period_end', name=op.f('ck_spot_check_period_in_order')),
    sa.CheckConstraint('sample_size BETWEEN 1 AND 200', name=op.f('ck_spot_check_sample_size_range')),
    sa.CheckConstraint('seed BETWEEN 0 AND 999999999999999999', name=op.f('ck_spot_check_seed_range')),
    sa.ForeignKeyConstraint(['closed_by_id'], ['user.id'], name=op.f('fk_spot_check_closed_by_id_user')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_spot_check_created_by_id_user')),
    sa.ForeignKeyConstraint(['region_code'], ['region.code'], name=op.f('fk_spot_check_region_code_region')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_spot_check'))
    )
    with op.batch_alter_table('spot_check', schema=None) as batch_op:
        batch_op.create_index('ix_spot_check_region_status', ['region_code', 'status', 'id'], unique=False)

    op.create_table('spot_check_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('spot_check_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('delivery_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('visited_on', sa.Date(), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('reopened', sa.Boolean(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('status_changed_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("(status = 'pending') = (recorded_at IS NULL)", name=op.f('ck_spot_check_item_recorded_when_decided')),
    sa.CheckConstraint("(status = 'pending') = (visited_on IS NULL)", name=op.f('ck_spot_check_item_visited_when_decided')),
    sa.CheckConstraint("status <> 'discrepancy' OR (notes IS NOT NULL AND notes <> '')", name=op.f('ck_spot_check_item_discrepancy_noted')),
    sa.CheckConstraint("status IN ('pending', 'confirmed', 'discrepancy')", name=op.f('ck_spot_check_item_status_valid')),
    sa.CheckConstraint('position > 0', name=op.f('ck_spot_check_item_position_positive')),
    sa.ForeignKeyConstraint(['delivery_id'], ['delivery.id'], name=op.f('fk_spot_check_item_delivery_id_delivery')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['user.id'], name=op.f('fk_spot_check_item_recorded_by_id_user')),
    sa.ForeignKeyConstraint(['spot_check_id'], ['spot_check.id'], name=op.f('fk_spot_check_item_spot_check_id_spot_check'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_spot_check_item')),
    sa.UniqueConstraint('spot_check_id', 'delivery_id', name='uq_spot_check_item_delivery'),
    sa.UniqueConstraint('spot_check_id', 'position', name='uq_spot_check_item_position')
    )
    with op.batch_alter_table('spot_check_item', schema=None) as batch_op:
        batch_op.create_index('ix_spot_check_item_delivery_status', ['delivery_id', 'status'], unique=False)

    op.create_table('spot_check_evidence',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=80), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['spot_check_item.id'], name=op.f('fk_spot_check_evidence_item_id_spot_check_item'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['user.id'], name=op.f('fk_spot_check_evidence_uploaded_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_spot_check_evidence'))
    )
    with op.batch_alter_table('spot_check_evidence', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_spot_check_evidence_item_id'), ['item_id'], unique=False)


def downgrade():
    with op.batch_alter_table('spot_check_evidence', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_spot_check_evidence_item_id'))

    op.drop_table('spot_check_evidence')
    with op.batch_alter_table('spot_check_item', schema=None) as batch_op:
        batch_op.drop_index('ix_spot_check_item_delivery_status')

    op.drop_table('spot_check_item')
    with op.batch_alter_table('spot_check', schema=None) as batch_op:
        batch_op.drop_index('ix_spot_check_region_status')

    op.drop_table('spot_check')
    # A reopened delivery counts as delivered only, as a disputed one does: it waits for a curator either way.
    op.execute("UPDATE delivery SET status = 'disputed' WHERE status = 'reopened'")
    _delivery_statuses(DELIVERY_STATUSES_0003)
