"""The security matrix: every route declares its gate, and every role is checked against every
object-level action.

Roles, relative to the objects under test (a village in 昭觉县, Sichuan, its needs, and a helper
organisation): a visitor, a donor, a member of another organisation, a member of another village,
a curator of another region, a curator of the region, an admin, and the object's own people (the
village's committee member, the organisation's owner). A role without the right gets 403 or 404
(a visitor is sent to log in); a role with it gets neither.

When a feature adds a route, `test_every_route_declares_its_gate` fails until the route is placed
in GATES — and, if it acts on one object, in ACTIONS below.
"""
import shutil

import pytest
from sqlalchemy import select, text

from tests import factories
from tests.conftest import csrf_token, make_app
from tests.honor_roll import matrix as honor
from tests.matching.builders import PLAN, invitation_of, pairing_of
from tests.needs.builders import S, values
from tests.transparency.builders import article_form, article_of, import_of, report_case_of, report_form
from tests.pledges.builders import D, delivery_of, pledge_of, today
from tests.spotchecks.builders import draw_form, draw_url, item_of, recorded_check_of, result_form, spot_check_of
from villageaid.accounts import services as accounts
from villageaid.extensions import db
from villageaid.needs import lifecycle, screening, services as needs
from villageaid.timeutil import local_date_today

PUBLIC = "public"        # anyone, signed in or not
SIGNED_IN = "signed-in"  # any signed-in user (their own data only)
CURATOR = "curator"      # curators and admins
OBJECT = "object"        # depends on the object: see ACTIONS
TOKEN = "token"          # public auth endpoints (form or API login, reset links)
ADMIN = "admin"          # admins only

GATES = {
    "static": PUBLIC, "bootstrap.static": PUBLIC, "main.home": PUBLIC, "main.healthz": PUBLIC, "main.ping": PUBLIC,
    "stats.page": PUBLIC, "api_stats.StatsResource": PUBLIC,
    "ledger.export_page": CURATOR, "ledger.export_status": OBJECT, "ledger.export_progress": OBJECT,
    "ledger.export_download": OBJECT, "ledger.region": PUBLIC,
    "spotchecks.index": CURATOR, "spotchecks.new": CURATOR, "spotchecks.show": OBJECT, "spotchecks.record": OBJECT,
    "spotchecks.close": OBJECT, "spotchecks.evidence_file": OBJECT, "spotchecks.public_index": PUBLIC,
    "spotchecks.public_show": PUBLIC,
    "search.search_page": PUBLIC, "regions.children": PUBLIC, "needs.index": PUBLIC,
    "api-docs.openapi_json": PUBLIC, "api_search.Search": PUBLIC,
    "accounts.login": TOKEN, "accounts.register": TOKEN, "accounts.forgot_password": TOKEN,
    "accounts.reset_password": TOKEN, "accounts.verify_email": TOKEN, "accounts.accept_invitation": TOKEN,
    "api_auth.Token": TOKEN,
    "accounts.logout": SIGNED_IN, "accounts.change_password": SIGNED_IN, "accounts.resend_verification": SIGNED_IN,
    "accounts.me": SIGNED_IN, "accounts.inbox_page": SIGNED_IN, "api_auth.Me": SIGNED_IN,
    "needs.mine": SIGNED_IN, "needs.new": SIGNED_IN, "organizations.register": SIGNED_IN,
    "villages.register": SIGNED_IN,
    "curation.console": CURATOR, "needs.review": CURATOR, "needs.rules": CURATOR,
    "curation.decide": OBJECT, "needs.show": OBJECT, "needs.edit": OBJECT, "needs.decide": OBJECT,
    "needs.photo": OBJECT, "villages.show": OBJECT, "villages.invite": OBJECT, "organizations.show": OBJECT,
    "organizations.invite": OBJECT, "api_needs.Needs": OBJECT, "api_needs.NeedResource": OBJECT,
    "api_needs.NeedAction": OBJECT,
    "pledges.new": OBJECT, "pledges.show": OBJECT, "pledges.act": OBJECT, "pledges.report": OBJECT,
    "pledges.decide": OBJECT, "pledges.retention": OBJECT, "pledges.evidence_file": OBJECT, "pledges.receipt": OBJECT,
    "pledges.incoming": OBJECT, "pledges.mine": SIGNED_IN, "pledges.curate": CURATOR,
    "pledges.track_lookup": PUBLIC, "pledges.track": PUBLIC,
    "api_pledges.NeedPledges": OBJECT, "api_pledges.PledgeResource": OBJECT, "api_pledges.PledgeAction": OBJECT,
    "api_pledges.PledgeDeliveries": OBJECT, "api_pledges.DeliveryResource": OBJECT,
    "api_pledges.DeliveryAction": OBJECT, "api_pledges.DeliveryRetention": OBJECT, "api_pledges.Track": PUBLIC,
    "matching.recommendations": SIGNED_IN, "matching.my_pairings": SIGNED_IN, "matching.preferences": OBJECT,
    "matching.invite": OBJECT, "matching.answer_invitation": OBJECT, "matching.propose": OBJECT,
    "matching.show_pairing": OBJECT, "matching.decide_pairing": OBJECT, "matching.report": OBJECT,
    "matching.rules": ADMIN, "matching.delete_rule": ADMIN, "api_matching.Recommendations": OBJECT,
    "reports.new": OBJECT, "reports.queue": CURATOR, "reports.case": OBJECT, "reports.decide": OBJECT,
    "articles.index": PUBLIC, "articles.show": OBJECT, "articles.manage": CURATOR, "articles.new": CURATOR,
    "articles.edit": OBJECT, "articles.decide": OBJECT, "campaign.page": PUBLIC,
    "villages.import_upload": CURATOR, "villages.import_template": CURATOR, "villages.import_status": OBJECT,
    "villages.import_progress": OBJECT, "villages.import_errors": OBJECT,
    "honor_roll.current": PUBLIC, "honor_roll.edition": PUBLIC, "honor_roll.object_": PUBLIC,
    "honor_roll.candidate": PUBLIC, "honor_roll.entry": PUBLIC, "honor_roll.verify": PUBLIC,
    "honor_roll.certificate": PUBLIC, "honor_roll.export": PUBLIC,
    "api_honor_roll.HonorRolls": PUBLIC, "api_honor_roll.HonorRollResource": PUBLIC,
    "honor_roll_curate.editions": CURATOR, "honor_roll_curate.workbench": CURATOR,
    "honor_roll_curate.settings": ADMIN, "honor_roll_curate.add_category": ADMIN,
    "honor_roll_curate.quota": OBJECT, "honor_roll_curate.start_computation": OBJECT,
    "honor_roll_curate.computation": OBJECT, "honor_roll_curate.computation_progress": OBJECT,
    "honor_roll_curate.exclude": OBJECT, "honor_roll_curate.restore": OBJECT, "honor_roll_curate.citation": OBJECT,
    "honor_roll_curate.start_notice": OBJECT, "honor_roll_curate.withdraw_notice": OBJECT,
    "honor_roll_curate.answer": OBJECT, "honor_roll_curate.publish": ADMIN, "honor_roll_curate.correct": ADMIN,
}

ROLES = ["visitor", "donor", "other_org_member", "other_village_member", "other_curator", "curator", "admin",
         "village_member", "org_owner"]


def test_every_route_declares_its_gate(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    undeclared = sorted(endpoints - GATES.keys())
    assert not undeclared, f"declare the access gate of {undeclared} in tests/security/test_matrix.py"
    gone = sorted(GATES.keys() - endpoints)
    assert not gone, f"GATES names endpoints that no longer exist: {gone}"


class World:
    def __init__(self):
        screening.install_default_rules()
        db.session.commit()
        self.users = {
            "village_member": factories.user("本村村委会成员"),
            "other_village_member": factories.user("外村村委会成员"),
            "org_owner": factories.user("本企业负责人"),
            "other_org_member": factories.user("外企业成员"),
            "donor": factories.user("爱心人士"),
            "curator": factories.curator(factories.SICHUAN),
            "other_curator": factories.curator(factories.YUNNAN),
            "admin": factories.admin(),
        }
        u = self.users
        self.village = factories.village(u["village_member"])
        self.other_village = factories.village(u["other_village_member"], county=factories.ZHENXIONG)
        self.org = factories.organization(u["org_owner"])
        self.other_org = factories.organization(u["other_org_member"])
        self.pending_village = factories.village(status="pending")
        self.pending_org = factories.organization(status="pending", province=factories.SICHUAN,
                                                  prefecture=factories.LIANGSHAN)
        member = u["village_member"]
        self.draft = needs.create_need(member, self.village, values(title="草稿需求"))
        self.submitted = needs.create_need(member, self.village, values(title="待审需求"))
        lifecycle.submit(member, self.submitted)
        self.published = needs.create_need(member, self.village, values(title="已发布需求"))
        lifecycle.submit(member, self.published)
        lifecycle.approve(u["curator"], self.published)
        db.session.commit()

    OBJECTS = {"village": "Village", "other_village": "Village", "pending_village": "Village", "org": "Organization",
               "other_org": "Organization", "pending_org": "Organization", "draft": "Need", "submitted": "Need",
               "published": "Need"}

    def ids(self):
        return {"users": {role: user.id for role, user in self.users.items()},
                **{name: getattr(self, name).id for name in self.OBJECTS}}

    @classmethod
    def restore(cls, ids):
        """The same world, loaded from a copy of the database it was built in."""
        from villageaid import models

        world = cls.__new__(cls)
        world.users = {role: db.session.get(models.User, user_id) for role, user_id in ids["users"].items()}
        for name, model in cls.OBJECTS.items():
            setattr(world, name, db.session.get(getattr(models, model), ids[name]))
        return world

    def user(self, role):
        return self.users.get(role)


@pytest.fixture(scope="session")
def world_template(sqlite_template, tmp_path_factory):
    """The World built once per test process on a copy of the schema template; each test then copies
    the file (milliseconds) instead of building the world again through the services (1–2 s each,
    for some 300 tests)."""
    folder = tmp_path_factory.mktemp("matrix")
    path = folder / "world.sqlite"
    shutil.copy(sqlite_template, path)
    app = make_app(folder, f"sqlite:///{path}")
    with app.app_context():
        ids = World().ids()
        db.session.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        db.session.remove()
        db.engine.dispose()
    return path, ids


@pytest.fixture
def world_app(world_template, tmp_path):
    """(app, world): a fresh copy of the built world, as `app` is a fresh copy of the bare schema."""
    path, ids = world_template
    copy = tmp_path / "world.sqlite"
    shutil.copy(path, copy)
    app = make_app(tmp_path, f"sqlite:///{copy}")
    with app.app_context():
        yield app, World.restore(ids)
        db.session.remove()
        db.engine.dispose()


INSIDERS = {"village_member", "curator", "admin"}
REVIEWERS = {"curator", "admin"}
EVERYONE = set(ROLES)

# (name, method, path(world), form data, roles allowed, api?)
ACTIONS = [
    ("read a draft need", "GET", lambda w: f"/needs/{w.draft.id}", None, INSIDERS, False),
    ("read a published need", "GET", lambda w: f"/needs/{w.published.id}", None, EVERYONE, False),
    ("edit a draft need", "GET", lambda w: f"/needs/{w.draft.id}/edit", None, INSIDERS, False),
    ("submit a draft", "POST", lambda w: f"/needs/{w.draft.id}/submit", {}, INSIDERS, False),
    ("approve a submission", "POST", lambda w: f"/needs/{w.submitted.id}/approve", {}, REVIEWERS, False),
    ("reject a submission", "POST", lambda w: f"/needs/{w.submitted.id}/reject", {"reason": "不符合政策"}, REVIEWERS, False),
    ("send a submission back", "POST", lambda w: f"/needs/{w.submitted.id}/send-back", {"reason": "请补充预算"}, REVIEWERS, False),
    ("withdraw a published need", "POST", lambda w: f"/needs/{w.published.id}/withdraw", {}, INSIDERS, False),
    ("invite to a village", "POST", lambda w: f"/villages/{w.village.id}/invite", {"email": "new@example.cn"}, {"village_member"}, False),
    ("invite to an organisation", "POST", lambda w: f"/helpers/{w.org.id}/invite", {"email": "new@example.cn"}, {"org_owner"}, False),
    ("read a pending village", "GET", lambda w: f"/villages/{w.pending_village.id}", None, REVIEWERS, False),
    ("read a pending organisation", "GET", lambda w: f"/helpers/{w.pending_org.id}", None, REVIEWERS, False),
    ("verify a village", "POST", lambda w: f"/curate/villages/{w.pending_village.id}", {"decision": "verified"}, REVIEWERS, False),
    ("verify an organisation", "POST", lambda w: f"/curate/organizations/{w.pending_org.id}", {"decision": "verified"}, REVIEWERS, False),
    ("open the curator console", "GET", lambda w: "/curate", None, {"curator", "other_curator", "admin"}, False),
    ("open the need review queue", "GET", lambda w: "/curate/needs", None, {"curator", "other_curator", "admin"}, False),
    ("open the screening rules", "GET", lambda w: "/curate/screening", None, {"curator", "other_curator", "admin"}, False),
    ("set an organisation's preferences", "POST", lambda w: f"/helpers/{w.org.id}/preferences",
     {"categories": "charity", "follow_pairing": "y"}, {"org_owner"}, False),
    ("invite an organisation to a need", "POST", lambda w: f"/needs/{w.published.id}/invitations",
     lambda w: {"organization_id": w.org.id}, INSIDERS, False),
    ("accept an invitation", "POST", lambda w: f"/invitations/{invitation_of(w).id}/accept", {}, {"org_owner"}, False),
    ("withdraw an invitation", "POST", lambda w: f"/invitations/{invitation_of(w).id}/withdraw", {}, INSIDERS, False),
    ("propose a pairing", "POST", lambda w: f"/pairings/new?org={w.org.id}&village={w.village.id}",
     {"plan": PLAN, "start_date": local_date_today().isoformat()}, {"org_owner", "village_member"}, False),
    ("read a proposed pairing", "GET", lambda w: f"/pairings/{pairing_of(w).id}", None,
     {"org_owner", "village_member", "curator", "admin"}, False),
    ("accept a pairing", "POST", lambda w: f"/pairings/{pairing_of(w).id}/accept", {}, {"village_member"}, False),
    ("withdraw a pairing proposal", "POST", lambda w: f"/pairings/{pairing_of(w).id}/withdraw", {}, {"org_owner"}, False),
    ("end a pairing", "POST", lambda w: f"/pairings/{pairing_of(w, 'active').id}/end", {"reason": "帮扶计划已完成"},
     {"org_owner", "village_member", "curator", "admin"}, False),
    ("write a yearly pairing report", "POST",
     lambda w: f"/pairings/{pairing_of(w, 'active').id}/reports/{local_date_today().year}",
     {"summary": "本年度提供就业岗位 12 个，采购花椒 3 吨。"}, {"org_owner", "village_member"}, False),
    ("edit the pairing table", "POST", lambda w: "/curate/pairing-rules",
     {"helper_province": "330000000000", "helped_province": "530000000000"}, {"admin"}, False),
    ("API: read an organisation's recommendations", "GET", lambda w: f"/api/v1/organizations/{w.org.id}/recommendations",
     None, {"org_owner"}, True),
    ("pledge for an organisation", "POST", lambda w: f"/needs/{w.published.id}/pledge",
     lambda w: {"organization_id": w.org.id, "quantity": "1000", "promised_on": today()},
     {"org_owner"}, False),
    ("read a pledge", "GET", lambda w: f"/pledges/{pledge_of(w).id}", None,
     {"org_owner", "village_member", "curator", "admin"}, False),
    ("accept a pledge", "POST", lambda w: f"/pledges/{pledge_of(w).id}/accept", {}, {"village_member"}, False),
    ("cancel a pledge", "POST", lambda w: f"/pledges/{pledge_of(w).id}/cancel", {}, {"org_owner"}, False),
    ("report a delivery", "POST", lambda w: f"/pledges/{pledge_of(w, 'accepted').id}/deliveries/new",
     lambda w: {"quantity": "1000", "delivered_on": today()}, {"org_owner"}, False),
    ("confirm a delivery", "POST", lambda w: f"/deliveries/{delivery_of(w).id}/confirm", {}, {"village_member"}, False),
    ("verify a delivery", "POST", lambda w: f"/deliveries/{delivery_of(w, D.CONFIRMED).id}/verify", {},
     {"curator", "admin"}, False),
    ("open the village's pledge inbox", "GET", lambda w: "/me/incoming", None,
     {"village_member", "other_village_member"}, False),
    ("open the delivery queue", "GET", lambda w: "/curate/deliveries", None, {"curator", "other_curator", "admin"}, False),
    ("report a published need", "POST", lambda w: f"/report/need/{w.published.id}", report_form(), EVERYONE, False),
    ("report a draft need", "POST", lambda w: f"/report/need/{w.draft.id}", report_form(), set(), False),
    ("open the report queue", "GET", lambda w: "/curate/reports", None, {"curator", "other_curator", "admin"}, False),
    ("read a report case", "GET", lambda w: f"/curate/reports/{report_case_of(w).id}", None, REVIEWERS, False),
    ("investigate a report", "POST", lambda w: f"/curate/reports/{report_case_of(w).id}/investigate", {},
     REVIEWERS, False),
    ("close a report", "POST", lambda w: f"/curate/reports/{report_case_of(w).id}/close",
     {"outcome": "dismissed", "public_note": "经核查，举报情况不属实。"}, REVIEWERS, False),
    ("open the spot checks", "GET", lambda w: "/curate/spot-checks", None, {"curator", "other_curator", "admin"}, False),
    ("draw a spot check", "POST", draw_url, draw_form(), REVIEWERS, False),
    ("read a spot check", "GET", lambda w: f"/curate/spot-checks/{spot_check_of(w).id}", None, REVIEWERS, False),
    ("record a spot-check result", "POST",
     lambda w: f"/curate/spot-checks/{spot_check_of(w).id}/items/{item_of(w).id}", result_form(), REVIEWERS, False),
    ("close a spot check", "POST", lambda w: f"/curate/spot-checks/{recorded_check_of(w).id}/close", {},
     REVIEWERS, False),
    ("open the village import", "GET", lambda w: "/curate/villages/import", None,
     {"curator", "other_curator", "admin"}, False),
    ("follow someone's village import", "GET", lambda w: f"/curate/villages/import/{import_of(w).id}", None,
     REVIEWERS, False),
    ("write an article", "POST", lambda w: "/curate/articles/new", article_form(),
     {"curator", "other_curator", "admin"}, False),
    ("read a draft article", "GET", lambda w: f"/policy/{article_of(w).slug}", None, REVIEWERS, False),
    ("edit a region's article", "POST", lambda w: f"/curate/articles/{article_of(w).id}/edit",
     article_form(title="凉山州扶贫日活动安排（修订）"), REVIEWERS, False),
    ("publish a region's article", "POST", lambda w: f"/curate/articles/{article_of(w).id}/publish", {},
     REVIEWERS, False),
    ("API: pledge for an organisation", "POST", lambda w: f"/api/v1/needs/{w.published.id}/pledges",
     lambda w: {"quantity": 100_000, "on_behalf_of_organization": w.org.id}, {"org_owner"}, True),
    ("API: read a pledge", "GET", lambda w: f"/api/v1/pledges/{pledge_of(w).id}", None,
     {"org_owner", "village_member", "curator", "admin"}, True),
    ("API: accept a pledge", "POST", lambda w: f"/api/v1/pledges/{pledge_of(w).id}/accept", {}, {"village_member"}, True),
    ("API: report a delivery", "POST", lambda w: f"/api/v1/pledges/{pledge_of(w, 'accepted').id}/deliveries",
     lambda w: {"quantity": 1000, "delivered_on": today()}, {"org_owner"}, True),
    ("API: verify a delivery", "POST", lambda w: f"/api/v1/deliveries/{delivery_of(w, D.CONFIRMED).id}/verify", {},
     {"curator", "admin"}, True),
    ("API: read a draft need", "GET", lambda w: f"/api/v1/needs/{w.draft.id}", None, INSIDERS, True),
    ("API: approve a submission", "POST", lambda w: f"/api/v1/needs/{w.submitted.id}/approve", {}, REVIEWERS, True),
    ("API: withdraw a published need", "POST", lambda w: f"/api/v1/needs/{w.published.id}/withdraw", {}, INSIDERS, True),
    ("API: post a need for a village", "POST", lambda w: "/api/v1/needs",
     lambda w: {**_api_values(), "village_id": w.village.id}, INSIDERS, True),
    # The honor roll: edition-wide work is national (admins here); a candidate is curated in its region.
    ("open the honor-roll workbench", "GET", lambda w: f"/curate/honor-roll/{honor.edition_of(w).year}", None,
     {"curator", "other_curator", "admin"}, False),
    ("create an honor-roll edition", "POST", lambda w: "/curate/honor-roll", {"year": "2031"}, {"admin"}, False),
    ("change an honor roll's settings", "POST", lambda w: f"/curate/honor-roll/{honor.edition_of(w).year}/settings",
     lambda w: honor.settings_form(honor.edition_of(w)), {"admin"}, False),
    ("compute an honor roll", "POST", lambda w: f"/curate/honor-roll/{honor.edition_of(w).year}/compute", {},
     {"admin"}, False),
    ("follow an honor-roll computation", "GET", lambda w: f"/curate/honor-roll/computations/{honor.computation_of(w).id}",
     None, {"admin"}, False),
    ("set an honor-roll quota", "POST",
     lambda w: f"/curate/honor-roll/categories/{honor.candidate_of(w).category_id}/quota", {"quota": "5"},
     {"admin"}, False),
    ("exclude an honor-roll candidate", "POST", lambda w: f"/curate/honor-roll/candidates/{honor.candidate_of(w).id}/exclude",
     {"reason": "交付凭证存疑"}, REVIEWERS, False),
    ("cite an honor-roll candidate", "POST", lambda w: f"/curate/honor-roll/candidates/{honor.candidate_of(w).id}/citation",
     {"citation": "援建村级幼儿园。"}, REVIEWERS, False),
    ("put an honor roll on notice", "POST", lambda w: f"/curate/honor-roll/{honor.edition_of(w).year}/notice", {},
     {"admin"}, False),
    ("object to an honor roll on notice", "POST", lambda w: f"/honor-roll/{honor.in_notice(w).year}/objections",
     {"candidate_id": "", "body": "名单遗漏了本县的企业。", "name": "群众", "contact": "13800000000"}, EVERYONE, False),
    ("answer an honor-roll objection", "POST",
     lambda w: f"/curate/honor-roll/objections/{honor.objection_of(w).id}/answer",
     {"outcome": "dismissed", "answer": "经核查，异议不成立。"}, REVIEWERS, False),
    ("withdraw an honor roll's notice", "POST", lambda w: f"/curate/honor-roll/{honor.in_notice(w).year}/withdraw-notice",
     {"reason": "重新计算"}, {"admin"}, False),
    ("publish an honor roll", "POST", lambda w: f"/curate/honor-roll/{honor.in_notice(w).year}/publish", {}, {"admin"},
     False),
]


def _api_values():
    data = values()
    data["deadline"] = data["deadline"].isoformat()
    return {k: v for k, v in data.items() if v is not None}


def _denied(response, role, api):
    if role == "visitor" and not api and response.status_code == 302:
        return "/auth/login" in response.headers["Location"]
    if role == "visitor" and api:
        return response.status_code in (401, 404)
    return response.status_code in (403, 404)


def _attempt(app, world, role, method, url, payload, api):
    """Make the request as `role`, with a fresh client (a browser of its own)."""
    client = app.test_client()
    user = world.user(role)
    if api:
        headers = {"Authorization": f"Bearer {accounts.issue_api_token(user)}"} if user else {}
        return client.open(url, method=method, json=payload if method == "POST" else None, headers=headers)
    if user is not None:
        client.post("/auth/login", data={"email": user.email, "password": factories.PASSWORD,
                                         "csrf_token": csrf_token(client, "/auth/login")})
    if method == "GET":
        return client.get(url)
    token = csrf_token(client, "/auth/login" if user is None else "/me")
    return client.post(url, data={**payload, "csrf_token": token})


def _audit_count():
    from sqlalchemy import func

    from villageaid.audit.models import AuditEvent

    return db.session.scalar(select(func.count()).select_from(AuditEvent))


@pytest.mark.parametrize("name,method,path,data,allowed,api", ACTIONS, ids=[a[0] for a in ACTIONS])
def test_roles_without_the_right_are_refused_and_change_nothing(world_app, name, method, path, data, allowed, api):
    app, world = world_app
    url = path(world)
    payload = data(world) if callable(data) else data
    before = _audit_count()
    for role in [r for r in ROLES if r not in allowed]:
        response = _attempt(app, world, role, method, url, payload, api)
        assert _denied(response, role, api), f"{role} must not {name}: got {response.status_code}"
    if method == "POST":  # a refusal leaves no trace but the tokens the roles were given
        from villageaid.audit.models import AuditEvent

        acted = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id).offset(before)).all()
        assert set(acted) <= {"issue_api_token"}, f"a refused {name} left a trace: {acted}"


@pytest.mark.parametrize("name,method,path,data,allowed,api,role",
                         [(*a, role) for a in ACTIONS for role in ROLES if role in a[4]],
                         ids=[f"{a[0]}-{role}" for a in ACTIONS for role in ROLES if role in a[4]])
def test_roles_with_the_right_may_act(world_app, name, method, path, data, allowed, api, role):
    app, world = world_app
    payload = data(world) if callable(data) else data
    response = _attempt(app, world, role, method, path(world), payload, api)
    assert response.status_code < 400, \
        f"{role} may {name}: got {response.status_code} {response.get_data(as_text=True)[:300]}"
