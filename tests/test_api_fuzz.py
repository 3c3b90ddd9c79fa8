"""Schemathesis against /api/v1/openapi.json: for every operation, generated requests (schema-valid
and schema-breaking, the boundary cases of the coverage phase, then Hypothesis's) as an anonymous
caller and with the bearer tokens of people who may act, against a database of real objects — needs in
every state, pledges and deliveries in every state, a verified enterprise, an NGO and a person, the
2026 honor roll published and the 2027 one in notice. No 5xx, and every response's status code,
media type and body as the document says.

Hypothesis and function-scoped fixtures do not mix: the data is built once (once per session, even
across xdist workers: the first builds, the others copy) and every example starts from a copy of that
database (a file copy, a few milliseconds), so no example depends on what an earlier one did and a
failure replays and shrinks exactly, in any order, on any worker. The search index is not put back:
like a lagging index in production it may list an object the database no longer has, which the API
must survive. The seed is fixed (derandomize) so CI is reproducible.

The OpenAPI document is read once at import from an app without a database (it is generated from
the schemas, not from data), so pytest lists one test per operation and caller; requests go to the
fixture's app in-process (WSGI), never to the network. The document schemathesis loads is the one
clients download.
"""
import fcntl
import json
import os
import shutil
import sqlite3
import tempfile
from datetime import date, timedelta
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.generation.meta import TestPhase
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import make_app
from tests.factories import PASSWORD
from villageaid.extensions import db, limiter
from villageaid.timeutil import local_date_today

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          response_headers_conformance]
# Not positive_data_acceptance: the business rules (a deadline ahead, a title of four characters, a
# quantity still open) refuse schema-valid requests with a 400 by design. Not negative_data_rejection:
# the hooks below put real ids and plausible bodies into generated requests, so a case generated to
# break the schema may arrive valid.
CALLERS = ["anonymous", "admin", "owner", "member", "curator"]
SCHEMA_BREAKER = "owner"  # the caller who sends the coverage phase's schema-breaking cases
# Generated per operation and caller, after the schema's boundary (coverage) cases; more for a deeper run.
EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", "6"))
BUILD = "api-fuzz-world"  # a directory of the session's base temp, shared by xdist workers


def _openapi_document():
    with tempfile.TemporaryDirectory() as tmp:
        app = make_app(Path(tmp), "sqlite://")
        return app.test_client().get("/api/v1/openapi.json").get_json()


schema = schemathesis.openapi.from_dict(_openapi_document())

# The ids of real objects, filled by the `fuzz` fixture before any example is drawn.
REAL = {}


def _real(name, value):
    """Three times in four a real object (so requests reach the objects), else the generated value."""
    wanted = str if name == "code" else int
    if not REAL.get(name) or type(value) is not wanted:
        return st.just(value)
    return st.integers(0, 3).flatmap(lambda i: st.sampled_from(REAL[name]) if i else st.just(value))


@schema.hook
def flatmap_path_parameters(_context, path_parameters):
    names = sorted(path_parameters or {})
    if not names:
        return st.just(path_parameters)
    return st.tuples(*[_real(n, path_parameters[n]) for n in names]).map(lambda v: dict(zip(names, v)))


BODY_IDS = {"village_id": "village_id", "on_behalf_of_organization": "org_id"}


def _plausible(operation):
    """Bodies the business rules accept (random ones almost never pass them: a deadline in the
    future, people no fewer than households, a quantity still open), so the creating operations
    also answer with what they created; None for an operation without them."""
    today = local_date_today()
    future = st.dates(today + timedelta(days=1), today + timedelta(days=300)).map(date.isoformat)
    note = st.sampled_from(["", "尽快安排", "已转账，请查收"])
    bodies = {
        "POST /api/v1/auth/token": st.fixed_dictionaries({
            "email": st.sampled_from(REAL["email"]), "password": st.sampled_from([PASSWORD, "wrong-password"])}),
        "POST /api/v1/needs": st.fixed_dictionaries({
            "village_id": st.sampled_from(REAL["village_id"]),
            "category": st.sampled_from(["charity", "industry", "skills", "consumption", "volunteering"]),
            "unit": st.sampled_from(["cny_fen", "goods", "volunteer_hours"]),
            "title": st.sampled_from(["村小学冬季取暖用煤", "花椒烘干设备", "留守儿童课后辅导"]),
            "description": st.just("为村里 120 名群众解决实际困难。"),
            "target": st.integers(1, 3_000_000), "deadline": future, "households": st.integers(0, 50),
            "people": st.integers(50, 120), "poor_people": st.integers(0, 50), "goods_item": st.just("棉被"),
            "submit": st.booleans()}),
        "POST /api/v1/needs/{need_id}/pledges": st.fixed_dictionaries({
            "quantity": st.integers(1, 10) | st.integers(10_000, 300_000), "note": note,
            "on_behalf_of_organization": st.sampled_from([None, *REAL["org_id"]]), "anonymous": st.booleans()}),
        "POST /api/v1/pledges/{pledge_id}/deliveries": st.fixed_dictionaries({
            "quantity": st.integers(1, 5) | st.integers(10_000, 100_000), "delivered_on": st.just(today.isoformat()),
            "note": note}),
    }
    return bodies.get(operation.label)


@schema.hook
def flatmap_body(context, body):
    present = sorted(k for k in BODY_IDS if k in body) if isinstance(body, dict) else []
    mapped = st.tuples(*[_real(BODY_IDS[k], body[k]) for k in present]).map(
        lambda v: {**body, **dict(zip(present, v))}) if present else st.just(body)
    plausible = _plausible(context.operation)
    return mapped if plausible is None else st.one_of(mapped, plausible)


# The world ------------------------------------------------------------------------------------

def _build_world():
    """Real objects of every kind and state; returns the ids to aim at and the callers' tokens."""
    from tests import factories
    from tests.honor_roll.builders import World
    from tests.needs import builders as needs
    from tests.pledges import builders as pledges
    from villageaid.accounts.services import issue_api_token
    from villageaid.honor_roll import lifecycle as roll
    from villageaid.pledges.models import Pledge
    from villageaid.timeutil import utcnow

    S, P, D = needs.S, pledges.P, pledges.D
    world = World()  # a verified village, its member, a Sichuan curator, a verified enterprise, an admin
    big = world.need(S.PUBLISHED, target=50_000_000, title="村集体经济花椒加工厂", households=200, people=600,
                     poor_people=150)
    jobs = world.need(S.PUBLISHED, unit="jobs", category="employment", target=20, title="扶贫车间缝纫工",
                      job_title="缝纫工", wage_min_fen=300_000, wage_max_fen=400_000, work_location="西昌市",
                      job_start_date=local_date_today() + timedelta(days=30))
    others = [world.need(status) for status in S if status != S.PUBLISHED]

    by_status = {status: pledges.bring(world, world.pledge(big, 100_000), status)
                 for status in (P.PLEDGED, P.ACCEPTED, P.DELIVERING, P.DELIVERED, P.CONFIRMED, P.VERIFIED,
                                P.DECLINED, P.CANCELLED, P.LAPSED)}
    deliveries = {status: pledges.delivery_in(world, status, pledge=world.pledge(big, 100_000)) for status in D}
    world.pledge(big, 50_000, org=False, anonymous=True)
    hires = world.pledge(jobs, 5, job_title="缝纫工", wage_fen=320_000, work_location="西昌市")
    pledges.delivery_in(world, D.VERIFIED, pledge=hires)

    # The 2026 roll published, the 2027 one in notice (公示): enterprises, an NGO and a person.
    a, b = world.helper(name="甲企业"), world.helper(kind="ngo", name="乙基金会")
    world.help(a, 2_000_000, need=big)
    world.help(b, 500_000, need=big)
    world.help(world.person("李善人"), 300_000, need=big)
    world.to_notice(utcnow() - timedelta(days=world.edition.notice_days + 1))
    roll.publish(world.admin, world.edition)
    world.edition, world.year = roll.create_edition(world.admin, 2027), 2027
    world.help(a, 800_000, need=big, verified_at=utcnow() - timedelta(days=1))
    world.to_notice(utcnow())

    pending_org = factories.organization(world.owner, status="pending")
    pending_village = factories.village(status="pending")
    all_pledges = db.session.scalars(db.select(Pledge).order_by(Pledge.id)).all()
    # Every object, after those a caller can act on (the open needs, the pledges waiting for an answer
    # or a delivery, the deliveries waiting for the village or a curator) listed twice to come up more.
    actionable = {
        "need_id": [big.id, jobs.id] * 2,
        "pledge_id": [by_status[s].id for s in (P.PLEDGED, P.ACCEPTED, P.DELIVERING)] * 2,
        "delivery_id": [deliveries[s].id for s in (D.REPORTED, D.CONFIRMED)] * 2,
    }
    real = {
        "need_id": actionable["need_id"] + [big.id, jobs.id] + [n.id for n in others],
        "pledge_id": actionable["pledge_id"] + [p.id for p in all_pledges],
        "delivery_id": actionable["delivery_id"] + [d.id for p in all_pledges for d in p.deliveries],
        "code": [p.code for p in all_pledges],
        "org_id": [world.org.id, a.id, b.id, pending_org.id],
        "village_id": [world.village.id, pending_village.id],
        "year": [2026, 2027],
    }
    people = {"admin": world.admin, "owner": world.owner, "member": world.member, "curator": world.curator}
    real["email"] = [u.email for u in people.values()]
    return real, {who: issue_api_token(user) for who, user in people.items()}


def _built(tmp_path_factory, sqlite_template, worker_id):
    """The built data directory, made once per session: under xdist, by whichever worker comes first."""
    base = tmp_path_factory.getbasetemp()
    root = base.parent if worker_id != "master" else base  # the session's directory, shared by its workers
    built = root / BUILD
    with open(root / f"{BUILD}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (built / "world.json").exists():
            shutil.rmtree(built, ignore_errors=True)
            built.mkdir()
            shutil.copyfile(sqlite_template, built / "build.sqlite")
            app = make_app(built, f"sqlite:///{built / 'build.sqlite'}", DATA_DIR=str(built / "data"))
            with app.app_context():
                real, tokens = _build_world()
                db.session.remove()
                db.engine.dispose()
            with sqlite3.connect(built / "build.sqlite") as source, sqlite3.connect(built / "snapshot.sqlite") as copy:
                source.backup(copy)
            (built / "world.json").write_text(json.dumps({"real": real, "tokens": tokens}))
    return built


class Fuzz:
    def __init__(self, app, live, snapshot, tokens):
        self.app, self.live, self.snapshot, self.tokens = app, live, snapshot, tokens

    def restore(self):
        """The database as it was built, and the login throttle's counts forgotten."""
        with self.app.app_context():
            db.session.remove()
            db.engine.dispose()
            for suffix in ("-wal", "-shm"):
                Path(f"{self.live}{suffix}").unlink(missing_ok=True)
            shutil.copyfile(self.snapshot, self.live)
            limiter.reset()

    def headers(self, who):
        return {} if who == "anonymous" else {"Authorization": f"Bearer {self.tokens[who]}"}


@pytest.fixture(scope="module")
def fuzz(tmp_path_factory, sqlite_template, worker_id):
    built = _built(tmp_path_factory, sqlite_template, worker_id)
    world = json.loads((built / "world.json").read_text())
    here = tmp_path_factory.mktemp("api_fuzz")
    shutil.copytree(built / "data", here / "data")
    app = make_app(here, f"sqlite:///{here / 'live.sqlite'}")
    REAL.update(world["real"])
    fuzz = Fuzz(app, here / "live.sqlite", built / "snapshot.sqlite", world["tokens"])
    fuzz.restore()
    yield fuzz
    REAL.clear()
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.mark.parametrize("who", CALLERS)
@schema.parametrize()
@settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
          # conftest's autouse `_fresh_g_per_request` is function-scoped: it only clears `g` as each
          # request starts, which holds for every example alike (the database is put back per example).
          suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_every_operation_answers_as_documented(case, who, fuzz):
    if case.meta and case.meta.phase == TestPhase.COVERAGE and case.meta.generation.mode.is_negative \
            and who != SCHEMA_BREAKER:
        return  # the same boundary cases for every caller, answered before anyone is looked at: sent once
    fuzz.restore()
    case.call_and_validate(app=fuzz.app, headers=fuzz.headers(who), checks=CHECKS)
