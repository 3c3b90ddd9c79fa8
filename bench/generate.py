"""A campaign-scale synthetic data set, loaded with bulk INSERTs: `python bench/generate.py --scale small`.

    .venv/bin/python bench/generate.py --scale small|medium|campaign [--database-url URL] [--seed N]
    .venv/bin/python bench/generate.py --organizations 2000 --villages 3000 --needs 5000 --pledges 15000 --deliveries 15000

The database (default: DATABASE_URL, else the embedded SQLite in DATA_DIR) is upgraded through the
migrations and must hold no villages, organisations or needs yet. What is generated hangs together the
way the lifecycles would have left it, so every page, ledger, statistic and honor-roll computation
reads it as real data:

- organisations (80% enterprises, 20% NGOs) in the eastern provinces and cities of the 2016 East-West
  pairing table and elsewhere, with valid 统一社会信用代码 and one owner each; villages in the western
  provinces' real counties with 建档立卡 figures and one committee member each; individual donors
  (some consenting to be named, some pledging anonymously); a national curator.
- needs with titles and descriptions drawn from each category's vocabulary (the search benchmark's),
  in every status in realistic shares; a need's pledged, delivered and verified totals are the sums of
  its pledges and deliveries, and its pledged share never exceeds its target (the CHECK holds).
- pledges in every status, deliveries reported, confirmed, disputed, verified and rejected; a pledge's
  delivered/confirmed/verified sums equal its deliveries', jobs deliveries carry 3-month retention.

Scales (organisations, villages, needs, pledges, deliveries): small 2k/3k/5k/15k/15k; medium
20k/20k/50k/150k/150k; campaign 130k/140k/300k/1M/1M (the real campaign reached about 127,000
enterprises and 139,000 villages). The figures printed at the end are counted back from the database.
"""
import argparse
import os
import random
import string
import sys
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parent))

from sqlalchemy import func, insert, select, text  # noqa: E402
from tqdm import tqdm  # noqa: E402

from search_bench import CATEGORIES as TITLES, CRAFTS, GOODS, JOBS, PRODUCTS, SENTENCES, SKILLS, VOLUNTEER  # noqa: E402

SCALES = {
    "small": (2_000, 3_000, 5_000, 15_000, 15_000),
    "medium": (20_000, 20_000, 50_000, 150_000, 150_000),
    "campaign": (130_000, 140_000, 300_000, 1_000_000, 1_000_000),
}
BATCH = 10_000
EASTERN = ("11", "12", "13", "21", "31", "32", "33", "35", "37", "44")  # 北京 天津 河北 辽宁 上海 江苏 浙江 福建 山东 广东
WESTERN = ("15", "45", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65", "42", "43", "22")
CATEGORY_OF = {"产业": "industry", "就业": "employment", "公益": "charity", "技能": "skills", "消费": "consumption",
               "志愿": "volunteering"}
UNIT_OF = {"industry": "cny_fen", "employment": "jobs", "charity": "goods", "skills": "volunteer_hours",
           "consumption": "cny_fen", "volunteering": "volunteer_hours"}
# Need status → share of needs (per 100). Drafts, submissions and rejections never get pledges.
NEED_STATES = (["published"] * 55 + ["fully_pledged"] * 6 + ["in_delivery"] * 12 + ["completed"] * 12 +
               ["closed"] * 2 + ["expired"] * 4 + ["draft"] * 3 + ["submitted"] * 3 + ["rejected"] * 2 + ["withdrawn"])
INDUSTRIES = "ABCDEFGHIJKLMNOPQRST"
ORG_WORDS = "电子 食品 建设 纺织 物流 新材料 农业 医药 网络 电器 科技 贸易 环保 能源 文化 旅游".split()
NGO_WORDS = "乡村振兴基金会 慈善总会 扶贫基金会 公益促进会 志愿者协会".split()
SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗")
GIVEN = list("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚")
CAUSES = ["缺资金", "缺技术", "缺劳力", "因病", "因学", "交通落后", "自身发展动力不足"]
USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def main(argv=None):
    args = _arguments(argv)
    counts = dict(zip(("organizations", "villages", "needs", "pledges", "deliveries"), SCALES[args.scale]))
    for key in counts:
        if getattr(args, key) is not None:
            counts[key] = getattr(args, key)
    if args.database_url:
        os.environ["DATABASE_URL"] = args.database_url
    from flask_migrate import upgrade

    from villageaid import create_app

    app = create_app()
    with app.app_context():
        upgrade()
        from villageaid.extensions import db

        if _already_populated(db):
            sys.exit("generate: the database already holds villages, organisations or needs; use an empty one")
        started = time.perf_counter()
        Generator(db, random.Random(args.seed), counts).run()
        print(f"generated in {time.perf_counter() - started:.0f} s on {db.engine.dialect.name}:")
        for name, number in _counted(db).items():
            print(f"  {name:<14}{number:>10,}")
        problems = inconsistencies(db)
        if problems:
            sys.exit("generate: the data do not add up: " + "; ".join(problems))


def _arguments(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=SCALES, default="small")
    parser.add_argument("--database-url", help="default: DATABASE_URL, else SQLite in DATA_DIR")
    parser.add_argument("--seed", type=int, default=1017)
    for key in ("organizations", "villages", "needs", "pledges", "deliveries"):
        parser.add_argument(f"--{key}", type=int, help=f"override the scale's number of {key}")
    return parser.parse_args(argv)


def _already_populated(db):
    return any(db.session.execute(text(f"SELECT 1 FROM {table} LIMIT 1")).first()
               for table in ("village", "organization", "need"))


def _counted(db):
    from villageaid.needs.models import Need
    from villageaid.organizations.models import Organization
    from villageaid.pledges.models import Delivery, Pledge
    from villageaid.villages.models import Village

    return {name: db.session.scalar(select(func.count()).select_from(model)) for name, model in
            (("organizations", Organization), ("villages", Village), ("needs", Need), ("pledges", Pledge),
             ("deliveries", Delivery))}


INVARIANTS = {
    "a pledge's delivered is not the sum of its claiming deliveries":
        "SELECT count(*) FROM pledge p WHERE p.delivered != (SELECT coalesce(sum(d.quantity), 0) FROM delivery d "
        "WHERE d.pledge_id = p.id AND d.status != 'rejected')",
    "a pledge's confirmed is not the sum of its confirmed and verified deliveries":
        "SELECT count(*) FROM pledge p WHERE p.confirmed != (SELECT coalesce(sum(d.quantity), 0) FROM delivery d "
        "WHERE d.pledge_id = p.id AND d.status IN ('confirmed', 'verified'))",
    "a pledge's verified is not the sum of its verified deliveries":
        "SELECT count(*) FROM pledge p WHERE p.verified != (SELECT coalesce(sum(d.quantity), 0) FROM delivery d "
        "WHERE d.pledge_id = p.id AND d.status = 'verified')",
    "a need's pledged is not the sum of its live pledges":
        "SELECT count(*) FROM need n WHERE n.pledged != (SELECT coalesce(sum(p.quantity), 0) FROM pledge p "
        "WHERE p.need_id = n.id AND p.status NOT IN ('declined', 'cancelled', 'lapsed'))",
    "a need's delivered or verified is not the sum of its pledges'":
        "SELECT count(*) FROM need n WHERE n.delivered != (SELECT coalesce(sum(p.delivered), 0) FROM pledge p "
        "WHERE p.need_id = n.id) OR n.verified != (SELECT coalesce(sum(p.verified), 0) FROM pledge p WHERE p.need_id = n.id)",
    "a fully pledged, in-delivery or completed need has room left":
        "SELECT count(*) FROM need WHERE status IN ('fully_pledged', 'in_delivery', 'completed', 'closed') "
        "AND pledged != target",
}


def inconsistencies(db):
    """The invariants the lifecycles keep, checked over the whole data set: a list of what fails."""
    from villageaid.needs import tally
    from villageaid.pledges.services import stale_credited_facts, stale_village_helped

    problems = [f"{what} ({count:,} rows)" for what, sql in INVARIANTS.items()
                if (count := db.session.scalar(text(sql)))]
    stale = db.session.scalar(select(func.count()).select_from(stale_credited_facts().subquery()))
    if stale:
        problems.append(f"a delivery's copies of its pledge's and need's facts are not theirs ({stale:,} rows)")
    miscounted = db.session.scalar(select(func.count()).select_from(tally.mismatches().subquery()))
    if miscounted:
        problems.append(f"the need tally is not the need table's count ({miscounted:,} keys)")
    stale = db.session.scalar(select(func.count()).select_from(stale_village_helped().subquery()))
    if stale:
        problems.append(f"a need's village_helped is not what its village's pledges say ({stale:,} rows)")
    return problems


def uscc(rng, region6):
    """A 统一社会信用代码 with a valid GB 32100-2015 check character."""
    from villageaid.organizations.uscc import check_character

    first17 = "91" + region6 + "".join(rng.choice(USCC_CHARS) for _ in range(9))
    return first17 + check_character(first17)


def tracking_code(number):
    """WQ-2026-XXXXXX, distinct for distinct numbers (base 32 of the number)."""
    digits = []
    for _ in range(6):
        number, rest = divmod(number, 32)
        digits.append(CODE_ALPHABET[rest])
    return "WQ-2026-" + "".join(reversed(digits))


class Generator:
    def __init__(self, db, rng, counts):
        self.db, self.rng, self.counts = db, rng, counts
        self.now = datetime.now(timezone.utc).replace(microsecond=0)
        self.today = date.today()
        self.password_hash = self._password_hash()
        self.next_user = 1 + (db.session.scalar(text('SELECT max(id) FROM "user"')) or 0)

    def run(self):
        from villageaid.regions.models import Level, Region
        from villageaid.regions.services import load_national_divisions

        load_national_divisions()
        self.db.session.commit()
        counties = self.db.session.execute(select(Region.code, Region.parent_code).where(Region.level == Level.COUNTY)
                                           .order_by(Region.code)).all()
        prefectures = self.db.session.execute(select(Region.code, Region.parent_code)
                                              .where(Region.level == Level.PREFECTURE).order_by(Region.code)).all()
        self.curator_id = self._users([("bench-curator@gen.example.cn", "全国审核员", True)])[0]
        self._grant(self.curator_id, "curator")
        self.organizations = self._organizations(prefectures)
        self.villages = self._villages(counties)
        self.donors = self._donors(max(100, self.counts["pledges"] // 50))
        self._needs_pledges_deliveries()
        from villageaid.pledges.services import fill_village_helped

        fill_village_helped()  # the needs' copy of "the village has a live pledge", as the lifecycle keeps it
        self.db.session.commit()
        self._analyze()

    # -- people --------------------------------------------------------------------------------

    def _password_hash(self):
        from werkzeug.security import generate_password_hash

        return generate_password_hash("bench-pass-2026")  # one hash for all: hashing 270k would take an hour

    def _users(self, rows):
        """Insert users (email, name, consents to be named); returns their ids in order."""
        from villageaid.accounts.models import User

        ids = list(range(self.next_user, self.next_user + len(rows)))
        self.next_user += len(rows)
        batch = [{"id": i, "email": email, "name": name, "password_hash": self.password_hash,
                  "session_token": f"bench{i}", "email_verified_at": self.now, "public_name_consent": consent,
                  "active": True, "created_at": self.now} for i, (email, name, consent) in zip(ids, rows)]
        for start in range(0, len(batch), BATCH):
            self.db.session.execute(insert(User), batch[start:start + BATCH])
        return ids

    def _grant(self, user_id, role, region=None):
        from villageaid.accounts.models import RoleGrant

        self.db.session.execute(insert(RoleGrant), [{"user_id": user_id, "role": role, "region_code": region}])

    def _person(self):
        return self.rng.choice(SURNAMES) + "".join(self.rng.choice(GIVEN) for _ in range(self.rng.choice((1, 2))))

    def _organizations(self, prefectures):
        from villageaid.organizations.models import Membership, Organization

        rng, n = self.rng, self.counts["organizations"]
        eastern = [p for p in prefectures if p[0][:2] in EASTERN]
        others = [p for p in prefectures if p[0][:2] not in EASTERN]
        owners = self._users([(f"org{i}@gen.example.cn", self._person(), True) for i in range(n)])
        rows, seen = [], set()
        for i in tqdm(range(n), desc="organisations", unit="row", mininterval=1):
            prefecture, province = rng.choice(eastern) if rng.random() < 0.8 else rng.choice(others)
            ngo = rng.random() < 0.2
            code = uscc(rng, prefecture[:6])
            while code in seen:
                code = uscc(rng, prefecture[:6])
            seen.add(code)
            word = rng.choice(NGO_WORDS if ngo else ORG_WORDS)
            name = f"{''.join(rng.choice(string.ascii_uppercase) for _ in range(2))}{i}{word}" + ("" if ngo else "有限公司")
            status = "verified" if rng.random() < 0.95 else rng.choice(("pending", "rejected"))
            rows.append({"id": i + 1, "kind": "ngo" if ngo else "enterprise", "name": name, "credit_code": code,
                         "industry": rng.choice(INDUSTRIES), "province_code": province, "prefecture_code": prefecture,
                         "size": rng.choice(("micro", "small", "medium", "large")), "contact_name": self._person(),
                         "contact_phone": f"1{rng.randrange(30, 99)}{rng.randrange(10**8):08d}", "status": status,
                         "verified_at": self.now if status == "verified" else None, "created_at": self.now,
                         "created_by_id": owners[i]})
            if len(rows) == BATCH:
                self.db.session.execute(insert(Organization), rows)
                rows = []
        if rows:
            self.db.session.execute(insert(Organization), rows)
        for start in range(0, n, BATCH):
            self.db.session.execute(insert(Membership), [
                {"user_id": owners[i], "organization_id": i + 1, "is_owner": True, "joined_at": self.now}
                for i in range(start, min(n, start + BATCH))])
        self.db.session.commit()
        statuses = [r for r in self.db.session.execute(select(Organization.id, Organization.status, Organization.kind)
                                                       .order_by(Organization.id))]
        return [(org_id, owners[org_id - 1]) for org_id, status, _ in statuses if status == "verified"]

    def _villages(self, counties):
        from villageaid.villages.models import Village, VillageMember

        rng, n = self.rng, self.counts["villages"]
        western = [c for c in counties if c[0][:2] in WESTERN]
        members = self._users([(f"village{i}@gen.example.cn", self._person(), False) for i in range(n)])
        rows, per_county = [], {}
        for i in tqdm(range(n), desc="villages", unit="row", mininterval=1):
            county, prefecture = western[i % len(western)]
            k = per_county[county] = per_county.get(county, 0) + 1
            households = rng.randrange(120, 900)
            poor = rng.randrange(households // 10, households // 3)
            product = rng.choice(PRODUCTS)
            rows.append({"id": i + 1, "code": f"{county[:6]}{100 + k // 100:03d}{200 + k % 100:03d}",
                         "name": f"{rng.choice('三乐团红新和高龙石白青金马清松桃柳大小中')}{rng.choice('河安结星民平峰泉门云山沙鞍水林园树坪寨心')}{k}村",
                         "township_name": f"{rng.choice('东西南北中')}{k // 100 + 1}镇", "province_code": county[:2] + "0" * 10,
                         "prefecture_code": prefecture, "county_code": county, "households": households,
                         "poor_households": poor, "poor_population": poor * 3,
                         "poverty_causes": rng.sample(CAUSES, 2), "industries": f"{product}、{rng.choice(PRODUCTS)}",
                         "description": f"以{product}为主要产业。", "status": "verified", "verified_at": self.now,
                         "created_at": self.now, "created_by_id": members[i]})
            if len(rows) == BATCH:
                self.db.session.execute(insert(Village), rows)
                rows = []
        if rows:
            self.db.session.execute(insert(Village), rows)
        for start in range(0, n, BATCH):
            self.db.session.execute(insert(VillageMember), [
                {"user_id": members[i], "village_id": i + 1, "title": "村委会主任", "joined_at": self.now}
                for i in range(start, min(n, start + BATCH))])
        self.db.session.commit()
        places = self.db.session.execute(select(Village.id, Village.province_code, Village.prefecture_code,
                                                Village.county_code, Village.name).order_by(Village.id)).all()
        return [(row, members[row[0] - 1]) for row in places]

    def _donors(self, n):
        ids = self._users([(f"donor{i}@gen.example.cn", self._person(), self.rng.random() < 0.6) for i in range(n)])
        for start in range(0, n, BATCH):
            from villageaid.accounts.models import RoleGrant

            self.db.session.execute(insert(RoleGrant), [{"user_id": i, "role": "donor", "region_code": None}
                                                         for i in ids[start:start + BATCH]])
        self.db.session.commit()
        return ids

    # -- needs, pledges, deliveries ------------------------------------------------------------

    def _needs_pledges_deliveries(self):
        from villageaid.needs.models import Need
        from villageaid.pledges.models import Delivery, Pledge

        rng = self.rng
        n_needs, n_pledges, n_deliveries = self.counts["needs"], self.counts["pledges"], self.counts["deliveries"]
        statuses = [rng.choice(NEED_STATES) for _ in range(n_needs)]
        bearing = sum(s in ("published", "fully_pledged", "in_delivery", "completed", "closed") for s in statuses)
        per_need = max(1.0, n_pledges / max(1, bearing))
        # Deliveries per pledge that has any: spread so the total comes out near the asked number.
        delivering_share = 0.45  # measured: the share of pledges that come out with deliveries
        per_pledge = max(1.0, n_deliveries / max(1, n_pledges * delivering_share))
        needs, pledges, deliveries = [], [], []
        pledge_id = delivery_id = 0
        with tqdm(total=n_needs, desc="needs, pledges, deliveries", unit="need", mininterval=1) as bar:
            for need_id in range(1, n_needs + 1):
                status = statuses[need_id - 1]
                need, need_pledges, need_deliveries = self._need(need_id, status, per_need, per_pledge,
                                                                 pledge_id, delivery_id)
                needs.append(need)
                pledges += need_pledges
                deliveries += need_deliveries
                pledge_id += len(need_pledges)
                delivery_id += len(need_deliveries)
                if len(needs) >= BATCH:
                    self._flush(Need, needs, Pledge, pledges, Delivery, deliveries)
                    needs, pledges, deliveries = [], [], []
                bar.update(1)
        self._flush(Need, needs, Pledge, pledges, Delivery, deliveries)

    def _flush(self, Need, needs, Pledge, pledges, Delivery, deliveries):
        for model, rows in ((Need, needs), (Pledge, pledges), (Delivery, deliveries)):
            for start in range(0, len(rows), BATCH):
                self.db.session.execute(insert(model), rows[start:start + BATCH])
        self.db.session.commit()

    def _need(self, need_id, status, per_need, per_pledge, pledge_id, delivery_id):
        rng = self.rng
        (village_id, province, prefecture, county, village_name), member = rng.choice(self.villages)
        label = rng.choice(list(TITLES))
        category = CATEGORY_OF[label]
        unit = UNIT_OF[category]
        words = {"product": rng.choice(PRODUCTS), "craft": rng.choice(CRAFTS), "skill": rng.choice(SKILLS),
                 "job": rng.choice(JOBS), "goods": rng.choice(GOODS), "volunteer": rng.choice(VOLUNTEER),
                 "village": village_name, "county": "", "n": rng.randint(2, 200), "people": rng.randint(10, 900),
                 "wage": rng.choice((3500, 4000, 4500, 5000, 6000))}
        title = rng.choice(TITLES[label]).format(**words)[:120]
        body = ""
        while len(body) < 190:
            body += rng.choice(SENTENCES).format(**words)
        target = {"cny_fen": rng.randrange(10, 2000) * 1_000_00, "jobs": rng.randrange(2, 60),
                  "goods": rng.randrange(20, 2000), "volunteer_hours": rng.randrange(20, 600)}[unit]
        created = self.now - timedelta(days=rng.randrange(1, 700), minutes=rng.randrange(1440))
        people = rng.randrange(10, 1500)
        live = status not in ("draft", "submitted", "rejected")
        deadline = (self.today + timedelta(days=rng.randrange(1, 240)) if status in ("published", "fully_pledged")
                    else created.date() + timedelta(days=rng.randrange(30, 300)))
        need = {"id": need_id, "village_id": village_id, "province_code": province, "prefecture_code": prefecture,
                "county_code": county, "posted_by_id": member, "on_behalf": False, "category": category, "unit": unit,
                "title": title, "description": body, "target": target, "deadline": deadline,
                "households": people // 3, "people": people, "poor_people": people // 4, "status": status,
                "created_at": created, "updated_at": created, "submitted_at": created if status != "draft" else None,
                "published_at": created + timedelta(days=1) if live else None,
                "status_changed_at": created + timedelta(days=2), "reviewed_by_id": self.curator_id if live else None}
        if unit == "jobs":
            need.update(job_title=words["job"], wage_min_fen=words["wage"] * 100, wage_max_fen=words["wage"] * 120,
                        work_location="东莞市", job_start_date=deadline)
        elif unit == "goods":
            need["goods_item"] = words["goods"]
        pledges, deliveries = [], []
        if status in ("published", "fully_pledged", "in_delivery", "completed", "closed"):
            pledges, deliveries = self._pledges(need, status, per_need, per_pledge, pledge_id, delivery_id)
        live_pledges = [p for p in pledges if p["status"] not in ("declined", "cancelled", "lapsed")]
        need["pledged"] = sum(p["quantity"] for p in live_pledges)
        need["delivered"] = sum(p["delivered"] for p in pledges)
        need["verified"] = sum(p["verified"] for p in pledges)
        need["pledged_permille"] = need["pledged"] * 1000 // target
        return need, pledges, deliveries

    def _pledges(self, need, status, per_need, per_pledge, pledge_id, delivery_id):
        """Pledges that share the target as the need's status requires, and their deliveries."""
        rng, target = self.rng, need["target"]
        count = max(1, min(target, round(rng.expovariate(1 / per_need)) or 1))
        full = status != "published"
        share = target if full else rng.randrange(max(1, target // 10), target)  # published: room left
        shares = _split(rng, min(share, target), count)
        pledges, deliveries = [], []
        for quantity in shares:
            pledge_id += 1
            org = rng.random() < 0.75
            if org:
                organization_id, pledger = rng.choice(self.organizations)
            else:
                organization_id, pledger = None, rng.choice(self.donors)
            pstatus = _pledge_status(rng, status)
            created = need["published_at"] + timedelta(days=rng.randrange(1, 60))
            pledge = {"id": pledge_id, "code": tracking_code(pledge_id * 7919 % (32 ** 6)), "need_id": need["id"],
                      "village_id": need["village_id"], "pledger_id": pledger, "organization_id": organization_id,
                      "anonymous": not org and rng.random() < 0.3, "quantity": quantity,
                      "delivered": 0, "confirmed": 0, "verified": 0,
                      "promised_on": (created + timedelta(days=rng.randrange(15, 120))).date(), "note": "",
                      "status": pstatus, "created_at": created, "status_changed_at": created + timedelta(days=3),
                      "accepted_at": created + timedelta(days=2) if pstatus != "pledged" else None}
            if need["unit"] == "jobs":
                pledge.update(job_title=need["job_title"], wage_fen=need["wage_min_fen"], work_location="东莞市")
            kind = _kind(need)
            if kind == "project":
                pledge["plan"] = "分三期建设，每期完工后由村委会验收。"
            if pstatus in ("declined", "cancelled"):
                pledge["reason"] = "计划调整"
            made = self._deliveries(pledge, need, kind, per_pledge, delivery_id)
            if pledge["status"] == "delivering" and not pledge["delivered"]:
                pledge["status"] = "accepted"  # too small to be half delivered
            delivery_id += len(made)
            deliveries += made
            pledges.append(pledge)
        return pledges, deliveries

    def _deliveries(self, pledge, need, kind, per_pledge, delivery_id):
        """Deliveries whose sums make the pledge's status true (delivering: part; delivered…: all), each
        with the facts it copies from its pledge and need (as the lifecycle's report_delivery writes them)."""
        from villageaid.pledges.models import credited_facts

        rng, status = self.rng, pledge["status"]
        if status not in ("delivering", "delivered", "confirmed", "verified"):
            return []
        credited = credited_facts(SimpleNamespace(**pledge, need=SimpleNamespace(**need)))
        count = max(1, min(pledge["quantity"], round(rng.expovariate(1 / per_pledge)) or 1))
        total = pledge["quantity"] if status != "delivering" else max(1, pledge["quantity"] // 2)
        if status == "delivering" and total == pledge["quantity"]:
            return []  # a pledge of one unit cannot be half delivered: leave it accepted-looking
        parts = _split(rng, total, count)
        rows = []
        for number, quantity in enumerate(parts):
            if status == "verified":
                dstatus = "verified"
            elif status == "confirmed":
                dstatus = rng.choice(("confirmed", "verified"))
            elif status == "delivered":
                dstatus = rng.choice(("reported", "confirmed", "verified", "disputed"))
            else:
                dstatus = rng.choice(("reported", "confirmed", "verified"))
            on = pledge["created_at"].date() + timedelta(days=10 + number * 7)
            row = {"id": delivery_id + number + 1, "pledge_id": pledge["id"], "need_id": pledge["need_id"],
                   "quantity": quantity, "delivered_on": min(on, self.today), "note": "按计划交付",
                   "status": dstatus, "reported_by_id": pledge["pledger_id"], "created_at": self.now,
                   "status_changed_at": self.now, **credited}
            if dstatus in ("confirmed", "verified"):
                row.update(confirmed_at=self.now)
            if dstatus == "disputed":
                row["dispute_reason"] = "数量与清单不符"
            if dstatus == "verified":
                row.update(decided_by_id=self.curator_id, decided_at=self.now)
                if kind == "jobs":
                    row["retained_3m"] = rng.randrange(0, quantity + 1) if rng.random() < 0.8 else None
            if kind == "project":
                row.update(milestone=f"第{number + 1}期", completion_percent=min(100, (number + 1) * 100 // len(parts)))
            pledge["delivered"] += quantity
            pledge["confirmed"] += quantity if dstatus in ("confirmed", "verified") else 0
            pledge["verified"] += quantity if dstatus == "verified" else 0
            rows.append(row)
        # A handful rejected on top: they claim nothing, so the sums above stay as they are.
        if rng.random() < 0.02:
            rows.append({"id": delivery_id + len(rows) + 1, "pledge_id": pledge["id"], "need_id": pledge["need_id"],
                         "quantity": 1, "delivered_on": self.today, "note": "", "status": "rejected",
                         "reported_by_id": pledge["pledger_id"], "decided_by_id": self.curator_id,
                         "decided_at": self.now, "decision_note": "凭证不清", "created_at": self.now,
                         "status_changed_at": self.now, **credited})
        if pledge["status"] in ("delivered", "confirmed", "verified"):
            # The pledge's status follows from its sums, as the lifecycle would have set it.
            pledge["status"] = ("verified" if pledge["verified"] == pledge["quantity"] else
                                "confirmed" if pledge["confirmed"] == pledge["quantity"] else "delivered")
        return rows

    def _analyze(self):
        if self.db.engine.dialect.name != "postgresql":
            self.db.session.execute(text("ANALYZE"))
            self.db.session.commit()
            return
        for table in LOADED_TABLES[:-1]:  # explicit ids leave the sequences behind (need_tally has no id)
            self.db.session.execute(text(f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                                         f"(SELECT coalesce(max(id), 1) FROM \"{table}\"))"))
        self.db.session.commit()
        # A loaded table's pages are not yet marked all-visible, so an index-only scan still reads the
        # table for every row (the honor roll's aggregate took 3.4 s instead of 2): VACUUM marks them,
        # as autovacuum would in time on a server. It cannot run inside a transaction. Only the loaded
        # tables, by name: a database-wide VACUUM also locks every other schema's tables in turn, and
        # deadlocked with a parallel test's TRUNCATE of its own schema.
        tables = ", ".join(f'"{table}"' for table in LOADED_TABLES)
        with self.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text(f"VACUUM ANALYZE {tables}"))


# What the generator writes (need_tally by the need table's triggers), in the order it loads them.
LOADED_TABLES = ("user", "role_grant", "organization", "membership", "village", "village_member", "need", "pledge",
                 "delivery", "need_tally")


def _kind(need):
    """As pledges.models.kind_for: funds for industry needs are a project."""
    if need["unit"] == "cny_fen":
        return "project" if need["category"] == "industry" else "funds"
    return {"jobs": "jobs", "goods": "goods", "volunteer_hours": "volunteer"}[need["unit"]]


def _split(rng, total, count):
    """`count` positive integers summing to `total` (fewer when total is smaller)."""
    count = max(1, min(count, total))
    cuts = sorted(rng.sample(range(1, total), count - 1)) if count > 1 else []
    edges = [0] + cuts + [total]
    return [b - a for a, b in zip(edges, edges[1:])]


def _pledge_status(rng, need_status):
    if need_status == "published":
        return rng.choice(("pledged", "accepted", "accepted", "delivering", "verified", "declined", "cancelled"))
    if need_status == "fully_pledged":
        return rng.choice(("pledged", "accepted", "accepted"))
    if need_status == "in_delivery":
        return rng.choice(("delivering", "delivered", "confirmed", "verified", "accepted"))
    return "verified"  # completed, closed


if __name__ == "__main__":
    main()
