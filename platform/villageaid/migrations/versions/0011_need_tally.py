"""the need tally: how many needs per status, published-once, place, category and unit, kept by triggers

Revision ID: 0011_need_tally
Revises: 0010_delivery_credited_facts
Create Date: 2026-12-07 00:50:00

`/needs` counted its total with COUNT(*) over the need table on every uncached page (0.043 of
hello-world at campaign scale on SQLite). The tally holds those counts; triggers on `need` keep them
exact on INSERT, DELETE and UPDATE of a counted column (needs/tally.py has the design; the trigger SQL
below is that module's, frozen as it was at this revision). Filled here from the need table, by one
GROUP BY per level of place and kind.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011_need_tally'
down_revision = '0010_delivery_credited_facts'
branch_labels = None
depends_on = None

KEY = 'status, published, province_code, prefecture_code, county_code, category, unit'
PRIMARY_KEY = 'province_code, prefecture_code, county_code, category, unit, status, published'
COUNTED = ('status', 'published_at', 'province_code', 'prefecture_code', 'county_code', 'category', 'unit')


def _side(row, sign):
    places = (f"SELECT {row}.province_code AS p, '' AS pf, '' AS c UNION ALL SELECT '', {row}.prefecture_code, '' "
              f"UNION ALL SELECT '', '', {row}.county_code UNION ALL SELECT '', '', ''")
    kinds = (f"SELECT {row}.category AS cat, {row}.unit AS u UNION ALL SELECT {row}.category, '' "
             f"UNION ALL SELECT '', {row}.unit UNION ALL SELECT '', ''")
    return (f"SELECT {row}.status AS status, {row}.published_at IS NOT NULL AS published, r.p AS province_code, "
            f"r.pf AS prefecture_code, r.c AS county_code, k.cat AS category, k.u AS unit, {sign} AS delta "
            f"FROM ({places}) AS r CROSS JOIN ({kinds}) AS k")


def _apply(*sides):
    changes = ' UNION ALL '.join(_side(row, sign) for row, sign in sides)
    return (f"INSERT INTO need_tally ({KEY}, needs) SELECT {KEY}, sum(delta) FROM ({changes}) AS change "
            f"GROUP BY {KEY} HAVING sum(delta) <> 0 ORDER BY {KEY} "
            f"ON CONFLICT ({PRIMARY_KEY}) DO UPDATE SET needs = need_tally.needs + excluded.needs")


def _changed(distinct):
    tests = [f"OLD.{c} {distinct} NEW.{c}" for c in COUNTED if c != 'published_at']
    tests.append("(OLD.published_at IS NULL) <> (NEW.published_at IS NULL)")
    return ' OR '.join(tests)


OLD, NEW = [('OLD', -1)], [('NEW', 1)]
POSTGRESQL_TRIGGERS = [
    "CREATE OR REPLACE FUNCTION need_tally_count() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n"
    f"  IF TG_OP = 'INSERT' THEN {_apply(*NEW)};\n"
    f"  ELSIF TG_OP = 'DELETE' THEN {_apply(*OLD)};\n"
    f"  ELSE {_apply(*OLD, *NEW)};\n"
    "  END IF;\n  RETURN NULL;\nEND $$",
    "CREATE OR REPLACE TRIGGER need_tally_insert_delete AFTER INSERT OR DELETE ON need "
    "FOR EACH ROW EXECUTE FUNCTION need_tally_count()",
    f"CREATE OR REPLACE TRIGGER need_tally_update AFTER UPDATE OF {', '.join(COUNTED)} ON need "
    f"FOR EACH ROW WHEN ({_changed('IS DISTINCT FROM')}) EXECUTE FUNCTION need_tally_count()",
]
SQLITE_TRIGGERS = [
    f"CREATE TRIGGER IF NOT EXISTS need_tally_insert AFTER INSERT ON need BEGIN {_apply(*NEW)}; END",
    f"CREATE TRIGGER IF NOT EXISTS need_tally_delete AFTER DELETE ON need BEGIN {_apply(*OLD)}; END",
    f"CREATE TRIGGER IF NOT EXISTS need_tally_update AFTER UPDATE OF {', '.join(COUNTED)} ON need "
    f"WHEN {_changed('IS NOT')} BEGIN {_apply(*OLD, *NEW)}; END",
]


def _fill():
    """One GROUP BY per place level × category or any × unit or any, all in one INSERT … SELECT."""
    groupings = []
    for place in ('province_code', 'prefecture_code', 'county_code', None):
        for category in ('category', "''"):
            for unit in ('unit', "''"):
                places = [name if name == place else "''" for name in ('province_code', 'prefecture_code', 'county_code')]
                columns = ['status', 'published_at IS NOT NULL', *places, category, unit]
                grouped = [c for c in columns if c != "''"]
                groupings.append(f"SELECT {', '.join(columns)}, count(*) FROM need GROUP BY {', '.join(grouped)}")
    return f"INSERT INTO need_tally ({KEY}, needs) " + ' UNION ALL '.join(groupings)


def upgrade():
    op.create_table('need_tally',
                    sa.Column('province_code', sa.String(length=12), nullable=False),
                    sa.Column('prefecture_code', sa.String(length=12), nullable=False),
                    sa.Column('county_code', sa.String(length=12), nullable=False),
                    sa.Column('category', sa.String(length=20), nullable=False),
                    sa.Column('unit', sa.String(length=20), nullable=False),
                    sa.Column('status', sa.String(length=20), nullable=False),
                    sa.Column('published', sa.Boolean(), nullable=False),
                    sa.Column('needs', sa.Integer(), nullable=False),
                    sa.PrimaryKeyConstraint('province_code', 'prefecture_code', 'county_code', 'category', 'unit',
                                            'status', 'published', name=op.f('pk_need_tally')))
    # The triggers and the fill in one transaction (PostgreSQL) or under the migration's write lock
    # (SQLite): no need changes between the count and the first trigger.
    for statement in (POSTGRESQL_TRIGGERS if op.get_bind().dialect.name == 'postgresql' else SQLITE_TRIGGERS):
        op.execute(statement)
    op.execute(_fill())
    op.execute('ANALYZE need_tally')


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP TRIGGER IF EXISTS need_tally_update ON need')
        op.execute('DROP TRIGGER IF EXISTS need_tally_insert_delete ON need')
        op.execute('DROP FUNCTION IF EXISTS need_tally_count()')
    else:
        for name in ('insert', 'delete', 'update'):
            op.execute(f'DROP TRIGGER IF EXISTS need_tally_{name}')
    op.drop_table('need_tally')
