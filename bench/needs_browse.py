"""Measure the /needs list at scale: `python bench/needs_browse.py [ROWS] [DATABASE_URL]`.

Builds villages in real counties and ROWS needs (default 300,000) with plain INSERTs, then times
browse.search() for typical filter and sort combinations, first page and deep pages (by cursor
and by OFFSET), with the count cache off so each run counts. Not a test: run it by hand.
"""
import random
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import insert, select, text

from villageaid import create_app
from villageaid.extensions import db
from villageaid.needs import browse
from villageaid.needs.models import Category, Need, Unit
from villageaid.regions.models import Level, Region
from villageaid.regions.services import load_national_divisions
from villageaid.villages.models import Village

STATES = ["published"] * 70 + ["fully_pledged"] * 5 + ["in_delivery"] * 5 + ["completed"] * 5 + ["expired"] * 5 + \
         ["draft"] * 4 + ["submitted"] * 3 + ["rejected"] * 2 + ["withdrawn"]


def build(rows, villages=6000):
    rng = random.Random(17)
    load_national_divisions()
    db.session.execute(insert(__import__("villageaid.accounts.models", fromlist=["User"]).User).values(
        id=1, email="bench@example.cn", name="bench", password_hash="x", session_token="x", active=True,
        public_name_consent=False, created_at=datetime.now(timezone.utc)))
    # Western provinces, as in the campaign: most villages are there.
    western = ("51", "52", "53", "54", "62", "63", "64", "65", "45", "50", "61", "43", "42", "36", "41", "15")
    counties = db.session.execute(select(Region.code, Region.parent_code).where(Region.level == Level.COUNTY)).all()
    counties = [c for c in counties if c[0][:2] in western]
    now = datetime.now(timezone.utc)
    vrows = []
    for i in range(villages):
        county, parent = counties[i % len(counties)]
        vrows.append({"id": i + 1, "code": county[:6] + f"{100 + i // len(counties):03d}{i % 1000:03d}", "name": f"村{i}",
                      "township_name": "镇", "province_code": county[:2] + "0" * 10, "prefecture_code": parent,
                      "county_code": county, "households": 300, "poor_households": 50, "poor_population": 150,
                      "poverty_causes": [], "status": "verified", "created_at": now})
    db.session.execute(insert(Village), vrows)
    categories, units = [c.value for c in Category], [u.value for u in Unit]
    batch = []
    for i in range(rows):
        v = vrows[rng.randrange(villages)]
        status = rng.choice(STATES)
        target = rng.randrange(1, 500) * 100000
        pledged = 0 if status in ("draft", "submitted", "rejected", "withdrawn") else rng.randrange(0, target + 1)
        if status == "fully_pledged":
            pledged = target
        published = None if status in ("draft", "submitted", "rejected") else now - timedelta(seconds=rng.randrange(30_000_000))
        people = rng.randrange(1, 2000)
        batch.append({
            "village_id": v["id"], "province_code": v["province_code"], "prefecture_code": v["prefecture_code"],
            "county_code": v["county_code"], "posted_by_id": 1, "on_behalf": False,
            "category": rng.choice(categories), "unit": rng.choice(units), "title": f"需求{i}", "description": "",
            "target": target, "pledged": pledged, "delivered": 0, "verified": 0,
            "pledged_permille": pledged * 1000 // target, "deadline": date.today() + timedelta(days=rng.randrange(1, 365)),
            "households": people // 3, "people": people, "poor_people": people // 4, "status": status,
            "created_at": now, "updated_at": now, "published_at": published,
        })
        if len(batch) == 20000:
            db.session.execute(insert(Need), batch)
            batch = []
    if batch:
        db.session.execute(insert(Need), batch)
    db.session.commit()
    if db.engine.dialect.name == "sqlite":
        db.session.execute(text("ANALYZE"))
    else:
        db.session.execute(text("ANALYZE need"))
    db.session.commit()


CASES = [
    ({}, "newest, no filter"),
    ({"sort": "deadline"}, "deadline"),
    ({"sort": "least_pledged"}, "least pledged"),
    ({"sort": "most_beneficiaries"}, "most beneficiaries"),
    ({"province": "四川省"}, "province by name"),
    ({"province": "四川省", "sort": "deadline", "category": "charity"}, "province+category, deadline"),
    ({"province": "四川省", "prefecture": "凉山彝族自治州"}, "prefecture"),
    ({"province": "四川省", "prefecture": "凉山彝族自治州", "county": "昭觉县", "sort": "least_pledged"}, "county, least pledged"),
    ({"category": "employment", "unit": "jobs"}, "category+unit"),
    ({"status": "all", "sort": "deadline"}, "all public states, deadline"),
    ({"status": "completed", "sort": "most_beneficiaries"}, "completed, most beneficiaries"),
    ({"page": "50"}, "page 50 by OFFSET"),
    ({"page": "500"}, "page 500 by OFFSET"),
]


def timed(fn, repeat=7):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main(rows=300_000, url=None):
    tmp = tempfile.mkdtemp()
    config = {"ENV_NAME": "test", "DATA_DIR": tmp, "SQLALCHEMY_DATABASE_URI": url or f"sqlite:///{tmp}/bench.sqlite"}
    app = create_app(config)
    with app.app_context(), app.test_request_context("/"):
        db.drop_all()
        db.create_all()
        start = time.perf_counter()
        build(rows)
        print(f"{db.engine.dialect.name}: {rows} needs built in {time.perf_counter() - start:.0f} s")
        for args, label in CASES:
            filters = browse.parse(args)
            page = browse.search(filters)
            first = timed(lambda: browse.search(browse.parse(args)))
            rows_only = timed(lambda: browse.search(browse.parse(args)) if False else _rows(args))
            # Page 100 by following "next" cursors from page 99's last row.
            deep = browse.parse(dict(args))
            cursor_page = page
            for _ in range(99 if "page" not in args else 0):
                if not cursor_page.next_cursor:
                    break
                deep = browse.parse(dict(args, after=cursor_page.next_cursor, page=str(cursor_page.page + 1)))
                cursor_page = browse.search(deep)
            by_cursor = timed(lambda: _rows(dict(args, after=cursor_page.prev_cursor or "", page="2")))
            print(f"  {label:<34} total={page.total:>7}  page+count {first:7.1f} ms   rows only {rows_only:6.1f} ms"
                  f"   cursor p{cursor_page.page} {by_cursor:6.1f} ms")
        db.session.remove()
        if url:
            db.drop_all()


def _rows(args):
    """The page alone (heads=True: the rows without their total's statement would be the same read now
    that totals come from the need tally: kept for the table's columns)."""
    return browse.search(browse.parse(args))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 300_000, sys.argv[2] if len(sys.argv) > 2 else None)
