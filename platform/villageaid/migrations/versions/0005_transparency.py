"""transparency: village imports, abuse reports (投诉举报) grouped into cases, policy articles

Revision ID: 0005_transparency
Revises: 0004_matching
Create Date: 2026-11-23 03:01:23.584772

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005_transparency'
down_revision = '0004_matching'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('article',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=80), nullable=False),
    sa.Column('title', sa.String(length=120), nullable=False),
    sa.Column('summary', sa.String(length=300), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('region_code', sa.String(length=12), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('status_changed_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status = 'draft' OR published_at IS NOT NULL", name=op.f('ck_article_published_once')),
    sa.CheckConstraint("status IN ('draft', 'published', 'withdrawn')", name=op.f('ck_article_status_valid')),
    sa.ForeignKeyConstraint(['author_id'], ['user.id'], name=op.f('fk_article_author_id_user')),
    sa.ForeignKeyConstraint(['region_code'], ['region.code'], name=op.f('fk_article_region_code_region')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_article')),
    sa.UniqueConstraint('slug', name=op.f('uq_article_slug'))
    )
    with op.batch_alter_table('article', schema=None) as batch_op:
        batch_op.create_index('ix_article_status_published', ['status', 'published_at'], unique=False)

    op.create_table('report_case',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('object_type', sa.String(length=20), nullable=False),
    sa.Column('object_id', sa.Integer(), nullable=False),
    sa.Column('region_code', sa.String(length=12), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('outcome', sa.String(length=20), nullable=True),
    sa.Column('public_note', sa.Text(), nullable=True),
    sa.Column('report_count', sa.Integer(), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_report_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status_changed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('handled_by_id', sa.Integer(), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("(status = 'closed') = (outcome IS NOT NULL AND public_note IS NOT NULL)", name=op.f('ck_report_case_closed_with_outcome')),
    sa.CheckConstraint("outcome IS NULL OR outcome IN ('upheld', 'dismissed')", name=op.f('ck_report_case_outcome_valid')),
    sa.CheckConstraint("status IN ('open', 'investigating', 'closed')", name=op.f('ck_report_case_status_valid')),
    sa.CheckConstraint('report_count >= 0', name=op.f('ck_report_case_count_nonnegative')),
    sa.ForeignKeyConstraint(['handled_by_id'], ['user.id'], name=op.f('fk_report_case_handled_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_case'))
    )
    with op.batch_alter_table('report_case', schema=None) as batch_op:
        batch_op.create_index('ix_report_case_live_object', ['object_type', 'object_id'], unique=True, sqlite_where=sa.text("status <> 'closed'"), postgresql_where=sa.text("status <> 'closed'"))
        batch_op.create_index('ix_report_case_object', ['object_type', 'object_id', 'status'], unique=False)
        batch_op.create_index('ix_report_case_region_status', ['region_code', 'status', 'last_report_at'], unique=False)

    op.create_table('village_import',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('stored_name', sa.String(length=80), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('total_rows', sa.Integer(), nullable=False),
    sa.Column('checked_rows', sa.Integer(), nullable=False),
    sa.Column('imported', sa.Integer(), nullable=False),
    sa.Column('errors', sa.JSON(), nullable=False),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('queued', 'running', 'imported', 'rejected', 'failed')", name=op.f('ck_village_import_status_valid')),
    sa.CheckConstraint('total_rows >= 0 AND checked_rows >= 0 AND imported >= 0', name=op.f('ck_village_import_counts_nonnegative')),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['user.id'], name=op.f('fk_village_import_uploaded_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_village_import'))
    )
    with op.batch_alter_table('village_import', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_village_import_uploaded_by_id'), ['uploaded_by_id'], unique=False)

    op.create_table('report',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=20), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('reporter_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("reason IN ('false_info', 'fake_figures', 'misuse', 'solicitation', 'privacy', 'inappropriate', 'other')", name=op.f('ck_report_reason_valid')),
    sa.ForeignKeyConstraint(['case_id'], ['report_case.id'], name=op.f('fk_report_case_id_report_case'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reporter_id'], ['user.id'], name=op.f('fk_report_reporter_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report'))
    )
    with op.batch_alter_table('report', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_report_reporter_id'), ['reporter_id'], unique=False)



def downgrade():
    with op.batch_alter_table('report', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_reporter_id'))
        batch_op.drop_index(batch_op.f('ix_report_case_id'))

    op.drop_table('report')
    with op.batch_alter_table('village_import', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_village_import_uploaded_by_id'))

    op.drop_table('village_import')
    with op.batch_alter_table('report_case', schema=None) as batch_op:
        batch_op.drop_index('ix_report_case_region_status')
        batch_op.drop_index('ix_report_case_object')
        batch_op.drop_index('ix_report_case_live_object', sqlite_where=sa.text("status <> 'closed'"), postgresql_where=sa.text("status <> 'closed'"))

    op.drop_table('report_case')
    with op.batch_alter_table('article', schema=None) as batch_op:
        batch_op.drop_index('ix_article_status_published')

    op.drop_table('article')
