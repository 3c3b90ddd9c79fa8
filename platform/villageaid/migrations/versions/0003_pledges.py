"""pledges: pledges, their deliveries, evidence files and sent reminders

Revision ID: 0003_pledges
Revises: 0002_needs
Create Date: 2026-11-23 02:38:29.794215

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003_pledges'
down_revision = '0002_needs'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('pledge',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('need_id', sa.Integer(), nullable=False),
    sa.Column('village_id', sa.Integer(), nullable=False),
    sa.Column('pledger_id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=True),
    sa.Column('anonymous', sa.Boolean(), nullable=False),
    sa.Column('quantity', sa.BigInteger(), nullable=False),
    sa.Column('delivered', sa.BigInteger(), nullable=False),
    sa.Column('confirmed', sa.BigInteger(), nullable=False),
    sa.Column('verified', sa.BigInteger(), nullable=False),
    sa.Column('promised_on', sa.Date(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('job_title', sa.String(length=80), nullable=True),
    sa.Column('wage_fen', sa.BigInteger(), nullable=True),
    sa.Column('work_location', sa.String(length=120), nullable=True),
    sa.Column('plan', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('idempotency_key', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('status_changed_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('pledged', 'accepted', 'delivering', 'delivered', 'confirmed', 'verified', 'declined', 'cancelled', 'lapsed')", name=op.f('ck_pledge_status_valid')),
    sa.CheckConstraint('0 <= verified AND verified <= confirmed AND confirmed <= delivered AND delivered <= quantity', name=op.f('ck_pledge_totals_in_order')),
    sa.CheckConstraint('NOT (anonymous AND organization_id IS NOT NULL)', name=op.f('ck_pledge_anonymous_individual')),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_pledge_quantity_positive')),
    sa.ForeignKeyConstraint(['need_id'], ['need.id'], name=op.f('fk_pledge_need_id_need')),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], name=op.f('fk_pledge_organization_id_organization')),
    sa.ForeignKeyConstraint(['pledger_id'], ['user.id'], name=op.f('fk_pledge_pledger_id_user')),
    sa.ForeignKeyConstraint(['village_id'], ['village.id'], name=op.f('fk_pledge_village_id_village')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pledge')),
    sa.UniqueConstraint('code', name=op.f('uq_pledge_code')),
    sa.UniqueConstraint('pledger_id', 'idempotency_key', name='uq_pledge_pledger_key')
    )
    with op.batch_alter_table('pledge', schema=None) as batch_op:
        batch_op.create_index('ix_pledge_need_status', ['need_id', 'status'], unique=False)
        batch_op.create_index('ix_pledge_organization_status', ['organization_id', 'status'], unique=False)
        batch_op.create_index('ix_pledge_pledger', ['pledger_id', 'id'], unique=False)
        batch_op.create_index('ix_pledge_status_promised', ['status', 'promised_on'], unique=False)
        batch_op.create_index('ix_pledge_village_status', ['village_id', 'status'], unique=False)

    op.create_table('delivery',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pledge_id', sa.Integer(), nullable=False),
    sa.Column('need_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.BigInteger(), nullable=False),
    sa.Column('delivered_on', sa.Date(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('milestone', sa.String(length=120), nullable=True),
    sa.Column('completion_percent', sa.Integer(), nullable=True),
    sa.Column('retained_3m', sa.Integer(), nullable=True),
    sa.Column('retained_6m', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('reported_by_id', sa.Integer(), nullable=False),
    sa.Column('confirmed_by_id', sa.Integer(), nullable=True),
    sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('dispute_reason', sa.Text(), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decision_note', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status_changed_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('reported', 'confirmed', 'disputed', 'verified', 'rejected')", name=op.f('ck_delivery_status_valid')),
    sa.CheckConstraint('completion_percent IS NULL OR (completion_percent BETWEEN 0 AND 100)', name=op.f('ck_delivery_completion_range')),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_delivery_quantity_positive')),
    sa.CheckConstraint('retained_3m IS NULL OR (retained_3m BETWEEN 0 AND quantity)', name=op.f('ck_delivery_retained_3m_range')),
    sa.CheckConstraint('retained_6m IS NULL OR (retained_6m BETWEEN 0 AND quantity)', name=op.f('ck_delivery_retained_6m_range')),
    sa.ForeignKeyConstraint(['confirmed_by_id'], ['user.id'], name=op.f('fk_delivery_confirmed_by_id_user')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['user.id'], name=op.f('fk_delivery_decided_by_id_user')),
    sa.ForeignKeyConstraint(['need_id'], ['need.id'], name=op.f('fk_delivery_need_id_need')),
    sa.ForeignKeyConstraint(['pledge_id'], ['pledge.id'], name=op.f('fk_delivery_pledge_id_pledge')),
    sa.ForeignKeyConstraint(['reported_by_id'], ['user.id'], name=op.f('fk_delivery_reported_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_delivery'))
    )
    with op.batch_alter_table('delivery', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_delivery_need_id'), ['need_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_delivery_pledge_id'), ['pledge_id'], unique=False)
        batch_op.create_index('ix_delivery_status_need', ['status', 'need_id'], unique=False)

    op.create_table('delivery_evidence',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('delivery_id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=80), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('duplicate_of_id', sa.Integer(), nullable=True),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['delivery_id'], ['delivery.id'], name=op.f('fk_delivery_evidence_delivery_id_delivery'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['duplicate_of_id'], ['delivery_evidence.id'], name=op.f('fk_delivery_evidence_duplicate_of_id_delivery_evidence'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['user.id'], name=op.f('fk_delivery_evidence_uploaded_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_delivery_evidence'))
    )
    with op.batch_alter_table('delivery_evidence', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_delivery_evidence_delivery_id'), ['delivery_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_delivery_evidence_sha256'), ['sha256'], unique=False)

    op.create_table('pledge_reminder',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=80), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('pledge_id', sa.Integer(), nullable=False),
    sa.Column('delivery_id', sa.Integer(), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['delivery_id'], ['delivery.id'], name=op.f('fk_pledge_reminder_delivery_id_delivery'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['pledge_id'], ['pledge.id'], name=op.f('fk_pledge_reminder_pledge_id_pledge'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pledge_reminder')),
    sa.UniqueConstraint('key', name=op.f('uq_pledge_reminder_key'))
    )
    with op.batch_alter_table('pledge_reminder', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pledge_reminder_delivery_id'), ['delivery_id'], unique=False)
        batch_op.create_index('ix_pledge_reminder_pledge_kind', ['pledge_id', 'kind'], unique=False)


def downgrade():
    with op.batch_alter_table('pledge_reminder', schema=None) as batch_op:
        batch_op.drop_index('ix_pledge_reminder_pledge_kind')
        batch_op.drop_index(batch_op.f('ix_pledge_reminder_delivery_id'))

    op.drop_table('pledge_reminder')
    with op.batch_alter_table('delivery_evidence', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_delivery_evidence_sha256'))
        batch_op.drop_index(batch_op.f('ix_delivery_evidence_delivery_id'))

    op.drop_table('delivery_evidence')
    with op.batch_alter_table('delivery', schema=None) as batch_op:
        batch_op.drop_index('ix_delivery_status_need')
        batch_op.drop_index(batch_op.f('ix_delivery_pledge_id'))
        batch_op.drop_index(batch_op.f('ix_delivery_need_id'))

    op.drop_table('delivery')
    with op.batch_alter_table('pledge', schema=None) as batch_op:
        batch_op.drop_index('ix_pledge_village_status')
        batch_op.drop_index('ix_pledge_status_promised')
        batch_op.drop_index('ix_pledge_pledger')
        batch_op.drop_index('ix_pledge_organization_status')
        batch_op.drop_index('ix_pledge_need_status')

    op.drop_table('pledge')
