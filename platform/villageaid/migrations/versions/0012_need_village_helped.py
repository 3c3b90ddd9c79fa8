"""a need carries whether its village has a live pledge (village_helped), filled from the pledges, and the
recommendation indexes lead with what the ranking seeks on (status, [province], category, deadline) and cover it

Revision ID: 0012_need_village_helped
Revises: 0011_need_tally
Create Date: 2026-12-07 00:30:00

The recommendations' fairness tier (该村尚无帮扶方) was an EXISTS over the village's pledges for every
candidate need; with the copy on the need row a tier reads one index alone. The pledge lifecycle keeps
it exact (`pledges.services.sync_village_helped` when a pledge is made or given back), filled here by
the same rule: some pledge of the village is not declined, cancelled or lapsed.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012_need_village_helped'
down_revision = '0011_need_tally'
branch_labels = None
depends_on = None

FILL = """
UPDATE need SET village_helped = EXISTS (
    SELECT 1 FROM pledge WHERE pledge.village_id = need.village_id
    AND pledge.status NOT IN ('cancelled', 'declined', 'lapsed'))
"""

RANKED = ['prefecture_code', 'unit', 'pledged_permille', 'village_helped', 'pledged', 'target', 'village_id', 'id']
OLD_RANKED = ['prefecture_code', 'category', 'unit', 'pledged_permille', 'pledged', 'target', 'village_id', 'id']


def upgrade():
    # A plain ADD COLUMN with a constant default on both databases (no table rebuild on SQLite).
    op.add_column('need', sa.Column('village_helped', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.execute(FILL)
    op.drop_index('ix_need_recommend', table_name='need')
    op.drop_index('ix_need_recommend_region', table_name='need')
    op.create_index('ix_need_recommend', 'need', ['status', 'category', 'deadline', 'province_code', *RANKED])
    op.create_index('ix_need_recommend_region', 'need', ['status', 'province_code', 'category', 'deadline', *RANKED])
    # SQLite plans with sqlite_stat1, which has no rows for a new index: it then takes the index for
    # very selective and chose it for /needs (status = ?, a sort of every open need: 1 s a page at
    # campaign scale instead of 5 ms). ANALYZE gives the new indexes their real figures.
    op.execute('ANALYZE need')


def downgrade():
    op.drop_index('ix_need_recommend_region', table_name='need')
    op.drop_index('ix_need_recommend', table_name='need')
    op.create_index('ix_need_recommend', 'need', ['status', 'deadline', 'province_code', *OLD_RANKED])
    op.create_index('ix_need_recommend_region', 'need', ['status', 'province_code', 'deadline', *OLD_RANKED])
    with op.batch_alter_table('need', schema=None) as batch_op:
        batch_op.drop_column('village_helped')
