"""a delivery carries what the honor roll reads of its pledge and need (honoree, village, the need's unit,
category and poor people), filled from them, with an index in the order the roll's aggregate groups by

Revision ID: 0010_delivery_credited_facts
Revises: 0009_spot_checks
Create Date: 2026-12-06 21:40:00

The honor roll aggregated the period's verified deliveries joined to their pledges and needs (2.1 s at
1M deliveries); with these copies it is one index-only scan of the delivery table. They are facts
that never change once the pledge is made (a need is edited only as a draft, a pledge never changes
hands), filled here by the rule of `pledges.models.credited_facts`: the honoree is the organisation
the pledge was made for, else the person who pledged unless they pledged anonymously.

On SQLite the NOT NULLs, foreign keys and CHECK rebuild the delivery table (copy, drop, rename), with
foreign key enforcement off as env.py has it around migrations. At 1M deliveries the whole
migration took about 2 min on PostgreSQL and 1 min on SQLite.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010_delivery_credited_facts'
down_revision = '0009_spot_checks'
branch_labels = None
depends_on = None

INDEX_COLUMNS = ['status', 'honoree_organization_id', 'honoree_user_id', 'village_id', 'need_id', 'need_unit',
                 'need_poor_people', 'decided_at', 'need_category', 'quantity', 'retained_3m']

# UPDATE … FROM: PostgreSQL, and SQLite since 3.33.
FILL = """
UPDATE delivery SET
    honoree_organization_id = pledge.organization_id,
    honoree_user_id = CASE WHEN pledge.organization_id IS NULL AND NOT pledge.anonymous THEN pledge.pledger_id END,
    village_id = pledge.village_id,
    need_unit = need.unit,
    need_category = need.category,
    need_poor_people = need.poor_people
FROM pledge, need
WHERE pledge.id = delivery.pledge_id AND need.id = delivery.need_id
"""


def upgrade():
    # Added as NULL (a quick ALTER on both databases), filled, then made NOT NULL with their constraints.
    with op.batch_alter_table('delivery', schema=None) as batch_op:
        batch_op.add_column(sa.Column('honoree_organization_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('honoree_user_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('village_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('need_unit', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('need_category', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('need_poor_people', sa.Integer(), nullable=True))
    op.execute(FILL)
    with op.batch_alter_table('delivery', schema=None) as batch_op:
        batch_op.alter_column('village_id', existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column('need_unit', existing_type=sa.String(length=20), nullable=False)
        batch_op.alter_column('need_category', existing_type=sa.String(length=20), nullable=False)
        batch_op.alter_column('need_poor_people', existing_type=sa.Integer(), nullable=False)
        batch_op.create_foreign_key(batch_op.f('fk_delivery_honoree_organization_id_organization'), 'organization',
                                    ['honoree_organization_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_delivery_honoree_user_id_user'), 'user', ['honoree_user_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_delivery_village_id_village'), 'village', ['village_id'], ['id'])
        batch_op.create_check_constraint(batch_op.f('ck_delivery_one_honoree'),
                                         'honoree_organization_id IS NULL OR honoree_user_id IS NULL')
        batch_op.create_index('ix_delivery_honor_roll', INDEX_COLUMNS, unique=False)
    # The planners' statistics for the new columns and index (SQLite's rebuild dropped the table's). On
    # PostgreSQL the fill left every page not all-visible, so until a VACUUM the planner would rather sort
    # a sequential scan than read the index only (it runs outside the migration's transaction).
    if op.get_bind().dialect.name == 'postgresql':
        with op.get_context().autocommit_block():
            op.execute('VACUUM ANALYZE delivery')
    else:
        op.execute('ANALYZE delivery')


def downgrade():
    with op.batch_alter_table('delivery', schema=None) as batch_op:
        batch_op.drop_index('ix_delivery_honor_roll')
        batch_op.drop_constraint(batch_op.f('ck_delivery_one_honoree'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_delivery_village_id_village'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_delivery_honoree_user_id_user'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_delivery_honoree_organization_id_organization'), type_='foreignkey')
        batch_op.drop_column('need_poor_people')
        batch_op.drop_column('need_category')
        batch_op.drop_column('need_unit')
        batch_op.drop_column('village_id')
        batch_op.drop_column('honoree_user_id')
        batch_op.drop_column('honoree_organization_id')
