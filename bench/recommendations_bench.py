"""Measure recommendations at campaign scale: `python bench/recommendations_bench.py [NEEDS] [ORGS] [DATABASE_URL]`.

Builds the /needs benchmark's villages and NEEDS needs (default 300,000; bench/needs_browse.py),
a live pledge for every need something is pledged to (so that the fairness tier has villages
both helped and not), ORGS verified organisations (default 20,000) spread over every province
and the 2016 East-West pairing table, then times:

- `recommend.needs_for(org)` — the page behind /me/recommendations and its API — for organisations
  whose first candidates come from different groups: a city helper (杭州), a province helper
  (浙江, 温州), one with stated preferences, a western organisation with no pairing (成都: its
  major region), one whose region has no needs at all (哈尔滨: the whole table), and page 5;
- `recommend.organizations_for(need)` — the need page's "推荐的帮扶方" — for needs in 四川, 恩施 and
  河南 (no pairing).

Median of 7 runs after one warm-up, milliseconds. Not a test: run it by hand.
"""
import random
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from sqlalchemy import insert, select, text  # noqa: E402

from needs_browse import build as build_needs  # noqa: E402
from villageaid import create_app  # noqa: E402
from villageaid.extensions import db  # noqa: E402
from villageaid.matching import recommend  # noqa: E402
from villageaid.matching.models import OrganizationPreference, PreferenceItem  # noqa: E402
from villageaid.needs.models import Need  # noqa: E402
from villageaid.organizations.models import Organization  # noqa: E402
from villageaid.pledges.models import Pledge  # noqa: E402
from villageaid.pledges.services import fill_village_helped  # noqa: E402
from villageaid.regions.models import Level, Region  # noqa: E402
from villageaid.regions.pairing import load_table  # noqa: E402

INDUSTRIES = "ABCDEFGHIJKLMNOPQRS"


def build_pledges(orgs):
    """One live pledge (by the bench user) for every need with something pledged, every third for an organisation."""
    rng = random.Random(1949)
    rows = db.session.execute(select(Need.id, Need.village_id, Need.pledged).where(Need.pledged > 0)).all()
    now, batch = datetime.now(timezone.utc), []
    for n, (need_id, village_id, pledged) in enumerate(rows):
        batch.append({"code": f"WQ-B-{n:010d}", "need_id": need_id, "village_id": village_id, "pledger_id": 1,
                      "organization_id": rng.randrange(1, orgs + 1) if n % 3 == 0 else None,
                      "anonymous": False, "quantity": pledged, "delivered": 0, "confirmed": 0, "verified": 0,
                      "promised_on": date.today() + timedelta(days=30), "note": "", "status": "accepted",
                      "created_at": now})
        if len(batch) == 20000:
            db.session.execute(insert(Pledge), batch)
            batch = []
    if batch:
        db.session.execute(insert(Pledge), batch)
    return len(rows)


def build_organizations(count):
    """Verified organisations in every province (more in the eastern helper provinces), with prefectures."""
    rng = random.Random(1017)
    prefectures = db.session.execute(select(Region.code, Region.parent_code).where(Region.level == Level.PREFECTURE)).all()
    by_province = {}
    for code, parent in prefectures:
        by_province.setdefault(parent, []).append(code)
    provinces = sorted(db.session.scalars(select(Region.code).where(Region.level == Level.PROVINCE)))
    eastern = [p for p in provinces if p[:2] in ("11", "12", "21", "31", "32", "33", "35", "37", "44")]
    now, batch = datetime.now(timezone.utc), []
    for n in range(count):
        province = rng.choice(eastern) if n % 3 else rng.choice(provinces)
        cities = by_province.get(province, [])
        batch.append({"kind": "ngo" if n % 10 == 0 else "enterprise", "name": f"企业{n}", "credit_code": f"B{n:017d}",
                      "industry": rng.choice(INDUSTRIES), "province_code": province,
                      "prefecture_code": rng.choice(cities) if cities and n % 4 else None, "size": "medium",
                      "contact_name": "张", "contact_phone": "0571-1", "status": "verified", "created_at": now})
    db.session.execute(insert(Organization), batch)


def organization(name, province, prefecture=None, industry="C"):
    org = Organization(kind="enterprise", name=name, credit_code=f"X{abs(hash(name)) % 10**17:017d}", industry=industry,
                       province_code=province, prefecture_code=prefecture, size="large", contact_name="张",
                       contact_phone="0571-1", status="verified")
    db.session.add(org)
    db.session.flush()
    return org


def timed(fn, repeat=7):
    """Median wall-clock and process CPU milliseconds (CPU time is the steadier figure on a busy machine;
    with PostgreSQL it leaves out the server's share)."""
    fn()
    wall, cpu = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    return statistics.median(wall), statistics.median(cpu)


def first_need_in(prefix):
    return db.session.scalar(select(Need).where(Need.county_code.startswith(prefix), Need.status == "published")
                             .order_by(Need.id).limit(1))


def main(needs=300_000, orgs=20_000, url=None):
    tmp = tempfile.mkdtemp()
    config = {"ENV_NAME": "test", "DATA_DIR": tmp, "SQLALCHEMY_DATABASE_URI": url or f"sqlite:///{tmp}/bench.sqlite"}
    app = create_app(config)
    with app.app_context(), app.test_request_context("/"):
        db.drop_all()
        db.create_all()
        start = time.perf_counter()
        build_needs(needs)
        load_table()
        build_organizations(orgs)
        pledges = build_pledges(orgs)
        fill_village_helped()  # the needs' copy of their villages' pledges, as the lifecycle keeps it
        cases = {
            "杭州 enterprise (city pairing: 恩施, 黔东南)": organization("杭州", "330000000000", "330100000000"),
            "温州 enterprise (province pairing: 四川)": organization("温州", "330000000000", "330300000000"),
            "广州 enterprise (city + province pairings)": organization("广州", "440000000000", "440100000000", "F"),
            "成都 enterprise (no pairing: 西南 region)": organization("成都", "510000000000", "510100000000"),
            "哈尔滨 enterprise (no pairing, no needs near)": organization("哈尔滨", "230000000000", "230100000000"),
        }
        with_prefs = organization("宁波", "330000000000", "330200000000", "H")
        db.session.add(OrganizationPreference(organization_id=with_prefs.id, budget_min_fen=1_000_000,
                                              budget_max_fen=30_000_000, follow_pairing=True))
        db.session.add_all([PreferenceItem(organization_id=with_prefs.id, kind="category", value="consumption"),
                            PreferenceItem(organization_id=with_prefs.id, kind="region", value="510000000000"),
                            PreferenceItem(organization_id=with_prefs.id, kind="job", value="厨师"),
                            PreferenceItem(organization_id=with_prefs.id, kind="job", value="服务员")])
        cases["宁波 enterprise with preferences"] = with_prefs
        db.session.commit()
        db.session.execute(text("ANALYZE"))
        db.session.commit()
        print(f"{db.engine.dialect.name}: {needs} needs, {pledges} pledges, {orgs} organisations built in "
              f"{time.perf_counter() - start:.0f} s")
        print("| recommendations for | first need's place | wall ms | CPU ms |")
        for label, org in cases.items():
            page = recommend.needs_for(org)
            first = page.items[0].need if page.items else None
            wall, cpu = timed(lambda org=org: recommend.needs_for(org))
            print(f"| {label} | {first.village.province.name if first else '—'} | {wall:.1f} | {cpu:.1f} |")
        org = cases["温州 enterprise (province pairing: 四川)"]
        wall, cpu = timed(lambda: recommend.needs_for(org, page=5))
        print(f"| 温州 enterprise, page 5 | | {wall:.1f} | {cpu:.1f} |")
        print("| organisations for a need in | first organisation's place | wall ms | CPU ms |")
        for label, prefix in (("四川 (浙江 helps)", "51"), ("恩施 (杭州 helps)", "4228"), ("河南 (no pairing)", "41")):
            need = first_need_in(prefix)
            if need is None:
                continue
            suggestions = recommend.organizations_for(need)
            first = suggestions[0].organization if suggestions else None
            wall, cpu = timed(lambda need=need: recommend.organizations_for(need))
            print(f"| {label} | {first.province.name if first else '—'} | {wall:.1f} | {cpu:.1f} |")
        db.session.remove()
        if url:
            db.drop_all()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 300_000, int(sys.argv[2]) if len(sys.argv) > 2 else 20_000,
         sys.argv[3] if len(sys.argv) > 3 else None)
