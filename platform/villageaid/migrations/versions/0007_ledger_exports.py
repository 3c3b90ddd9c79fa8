"""ledger exports: 台账 workbooks requested by curators and built by a job

Revision ID: 0007_ledger_exports
Revises: 0006_perf_indexes
Create Date: 2026-11-23 06:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007_ledger_exports'
down_revision = '0006_perf_indexes'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('ledger_export',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=False),
    sa.Column('region_code', sa.String(length=12), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('total_rows', sa.Integer(), nullable=False),
    sa.Column('written_rows', sa.Integer(), nullable=False),
    sa.Column('stored_name', sa.String(length=80), nullable=True),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('queued', 'running', 'done', 'failed')", name=op.f('ck_ledger_export_status_valid')),
    sa.CheckConstraint('total_rows >= 0 AND written_rows >= 0', name=op.f('ck_ledger_export_counts_nonnegative')),
    sa.ForeignKeyConstraint(['region_code'], ['region.code'], name=op.f('fk_ledger_export_region_code_region')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['user.id'], name=op.f('fk_ledger_export_requested_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_export'))
    )
    with op.batch_alter_table('ledger_export', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ledger_export_requested_by_id'), ['requested_by_id'], unique=False)


def downgrade():
    with op.batch_alter_table('ledger_export', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ledger_export_requested_by_id'))
    op.drop_table('ledger_export')
