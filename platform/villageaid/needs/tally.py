"""How many needs there are per status, place, category and unit, kept exact by the database.

`/needs` shows the total of its filters on every page; COUNT(*) over the need table is what grows with
it (NOTES.md: PostgreSQL's list fell to 22 req/s with a count). The `need_tally` table holds the
counts instead, and triggers on `need` keep them exact on every INSERT, DELETE and UPDATE of a
counted column, whoever writes: the lifecycle, a job's bulk UPDATE, bench/generate.py, psql.

Each need is counted in 16 rows: its place at one level (province, prefecture or county, the other
two '' — or all three '', the whole country) × its category or '' (any) × its unit or '' (any). So
the total of any filter the list offers is one row per status; "published once" (the list's "all")
is `published` over every status. The rows of a status change only when a need changes status or
place or kind, so pledging (which updates `pledged`) never touches them; a status change updates
the same national rows as every other status change of that status until its transaction commits.
"""
from sqlalchemy import DDL, event, func, literal, or_, select, union_all

from ..extensions import db
from .models import Need, NeedTally

KEY = ("status", "published", "province_code", "prefecture_code", "county_code", "category", "unit")
PRIMARY_KEY = ("province_code", "prefecture_code", "county_code", "category", "unit", "status", "published")
COUNTED = ("status", "published_at", "province_code", "prefecture_code", "county_code", "category", "unit")


def _side(row, sign):
    """The 16 tally keys of trigger row `row` (OLD or NEW), each with `sign`."""
    places = (f"SELECT {row}.province_code AS p, '' AS pf, '' AS c UNION ALL SELECT '', {row}.prefecture_code, '' "
              f"UNION ALL SELECT '', '', {row}.county_code UNION ALL SELECT '', '', ''")
    kinds = (f"SELECT {row}.category AS cat, {row}.unit AS u UNION ALL SELECT {row}.category, '' "
             f"UNION ALL SELECT '', {row}.unit UNION ALL SELECT '', ''")
    return (f"SELECT {row}.status AS status, {row}.published_at IS NOT NULL AS published, r.p AS province_code, "
            f"r.pf AS prefecture_code, r.c AS county_code, k.cat AS category, k.u AS unit, {sign} AS delta "
            f"FROM ({places}) AS r CROSS JOIN ({kinds}) AS k")


def apply_sql(*sides):
    """One upsert of the tally for a trigger: the keys' changes summed (an UPDATE that moves a need
    within a row's key nets to nothing there), in key order, so two transactions changing the same rows
    lock them in the same order and cannot deadlock each other."""
    changes = " UNION ALL ".join(_side(row, sign) for row, sign in sides)
    key = ", ".join(KEY)
    return (f"INSERT INTO need_tally ({key}, needs) SELECT {key}, sum(delta) FROM ({changes}) AS change "
            f"GROUP BY {key} HAVING sum(delta) <> 0 ORDER BY {key} "
            f"ON CONFLICT ({', '.join(PRIMARY_KEY)}) DO UPDATE SET needs = need_tally.needs + excluded.needs")


def _changed(old="OLD", new="NEW"):
    tests = [f"{old}.{c} IS DISTINCT FROM {new}.{c}" for c in COUNTED if c != "published_at"]
    tests.append(f"({old}.published_at IS NULL) <> ({new}.published_at IS NULL)")
    return " OR ".join(tests)


def trigger_ddl(dialect):
    """The statements that create the tally's triggers on `dialect` ('sqlite' or 'postgresql')."""
    old, new = [("OLD", -1)], [("NEW", 1)]
    if dialect == "postgresql":
        return [
            "CREATE OR REPLACE FUNCTION need_tally_count() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n"
            f"  IF TG_OP = 'INSERT' THEN {apply_sql(*new)};\n"
            f"  ELSIF TG_OP = 'DELETE' THEN {apply_sql(*old)};\n"
            f"  ELSE {apply_sql(*old, *new)};\n"
            "  END IF;\n  RETURN NULL;\nEND $$",
            "CREATE OR REPLACE TRIGGER need_tally_insert_delete AFTER INSERT OR DELETE ON need "
            "FOR EACH ROW EXECUTE FUNCTION need_tally_count()",
            f"CREATE OR REPLACE TRIGGER need_tally_update AFTER UPDATE OF {', '.join(COUNTED)} ON need "
            f"FOR EACH ROW WHEN ({_changed()}) EXECUTE FUNCTION need_tally_count()",
        ]
    # SQLite spells IS DISTINCT FROM as IS NOT.
    return [
        f"CREATE TRIGGER IF NOT EXISTS need_tally_insert AFTER INSERT ON need BEGIN {apply_sql(*new)}; END",
        f"CREATE TRIGGER IF NOT EXISTS need_tally_delete AFTER DELETE ON need BEGIN {apply_sql(*old)}; END",
        f"CREATE TRIGGER IF NOT EXISTS need_tally_update AFTER UPDATE OF {', '.join(COUNTED)} ON need "
        f"WHEN {_changed().replace('IS DISTINCT FROM', 'IS NOT')} BEGIN {apply_sql(*old, *new)}; END",
    ]




def recount():
    """The tally as it should be, from the need table: a SELECT of KEY and `needs`, the 16 groupings
    of the need rows (the migration fills the table with the same grouping; the tests and
    bench/generate.py compare the two)."""
    published = Need.published_at.is_not(None)
    groupings = []
    for region in ("province_code", "prefecture_code", "county_code", None):
        for category in (True, False):
            for unit in (True, False):
                columns = [Need.status.label("status"), published.label("published")]
                for name in ("province_code", "prefecture_code", "county_code"):
                    columns.append((getattr(Need, name) if name == region else literal("")).label(name))
                columns.append((Need.category if category else literal("")).label("category"))
                columns.append((Need.unit if unit else literal("")).label("unit"))
                groupings.append(select(*columns, func.count().label("needs")).group_by(*columns[:7]))
    return union_all(*groupings).subquery("recount")


def mismatches():
    """A SELECT of the tally keys whose count is not the need table's (empty unless a trigger is missing)."""
    expected = recount()
    tally = NeedTally.__table__
    on = [getattr(tally.c, name) == getattr(expected.c, name) for name in KEY]
    missing = (select(*[getattr(expected.c, name) for name in KEY]).select_from(expected.outerjoin(tally, db.and_(*on)))
               .where(or_(tally.c.needs.is_(None), tally.c.needs != expected.c.needs)))
    present = select(expected.c.status).where(*on)
    extra = select(*[getattr(tally.c, name) for name in KEY]).where(tally.c.needs != 0, ~present.exists())
    return union_all(missing, extra)


def _create_triggers(target, connection, **_kw):
    for statement in trigger_ddl(connection.dialect.name):
        connection.execute(DDL(statement.replace("%", "%%")))


def _drop_function(target, connection, **_kw):
    if connection.dialect.name == "postgresql":  # the triggers went with the need table
        connection.execute(DDL("DROP FUNCTION IF EXISTS need_tally_count()"))


# With db.create_all (the tests' schema) as with the migration: after every table exists.
event.listen(db.metadata, "after_create", _create_triggers)
event.listen(db.metadata, "after_drop", _drop_function)
