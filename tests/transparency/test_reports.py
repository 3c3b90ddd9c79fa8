"""投诉举报: filing (anyone, rate-limited), grouping into one live case per object, the case lifecycle
and who may act on it, and the public outcome on the object's page."""
import itertools

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from tests import factories
from tests.conftest import login, post_form
from tests.needs.builders import S, World
from villageaid.audit.models import AuditEvent
from villageaid.errors import PermissionDenied, ServiceError
from villageaid.extensions import db
from villageaid.notifications.models import Notification
from villageaid.reports import lifecycle, services
from villageaid.reports.lifecycle import ALLOWED, TransitionError
from villageaid.reports.models import CaseStatus, Report, ReportCase

STATES = list(CaseStatus)
TEXT = "该需求的受益人数与村里实际情况不符，村里只有三十多名学生。"


@pytest.fixture
def world(app):
    return World()


def _report(obj, reporter=None, reason="false_info", text=TEXT):
    return services.file_report(reporter, obj, reason, text)


def _count(model):
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize(("current", "target"), list(itertools.product(STATES, STATES)))
def test_transition_table(current, target):
    if target in ALLOWED[current]:
        lifecycle.check(current, target)
    else:
        with pytest.raises(TransitionError) as info:
            lifecycle.check(current, target)
        assert info.value.status == 409


def test_every_state_has_a_row_and_closed_is_final():
    assert set(ALLOWED) == set(STATES) and ALLOWED[CaseStatus.CLOSED] == set()


@pytest.mark.parametrize("current", STATES)
def test_transition_on_a_row_follows_the_table(world, current):
    case = _report(world.need(S.PUBLISHED)).case
    for target in STATES:
        values = {"status": current.value, "outcome": "dismissed" if current == CaseStatus.CLOSED else None,
                  "public_note": "核查" if current == CaseStatus.CLOSED else None}
        db.session.execute(update(ReportCase).where(ReportCase.id == case.id).values(**values))
        db.session.flush()
        db.session.refresh(case)
        extra = {"outcome": "upheld", "public_note": "属实"} if target == CaseStatus.CLOSED else {"outcome": None, "public_note": None}
        if target in ALLOWED[current]:
            lifecycle.transition(case, target, world.curator, action="test", values=extra)
            assert case.status == target
            event = db.session.scalars(select(AuditEvent).where(AuditEvent.object_type == "report_case")
                                       .order_by(AuditEvent.id.desc())).first()
            assert (event.from_state, event.to_state, event.action) == (current.value, target.value, "test")
        else:
            with pytest.raises(TransitionError):
                lifecycle.transition(case, target, world.curator, action="test", values=extra)
            assert case.status == current
        db.session.rollback()


def test_repeated_reports_about_one_object_are_one_case_until_it_closes(world):
    need = world.need(S.PUBLISHED)
    reporter = factories.user()
    first = _report(need)
    second = _report(need, reporter, reason="misuse", text="认捐的物资没有送到村小学，而是被挪作他用。")
    third = _report(need)
    assert first.case_id == second.case_id == third.case_id
    case = first.case
    db.session.refresh(case)
    assert case.report_count == 3 and case.status == CaseStatus.OPEN and case.region_code == world.village.code
    assert [r.reason for r in case.reports] == ["false_info", "misuse", "false_info"]
    assert second.reporter_id == reporter.id and first.reporter_id is None
    # Another object has its own case.
    other = _report(world.need(S.PUBLISHED, title="村卫生室药品"))
    assert other.case_id != case.id
    # Once closed, a new report opens a new case: new facts deserve a new look.
    lifecycle.close(world.curator, case, "dismissed", "经实地核查，受益人数与学校花名册一致。")
    fourth = _report(need)
    assert fourth.case_id != case.id and fourth.case.report_count == 1


def test_the_first_report_of_a_case_tells_the_regions_curators_once(world):
    need = world.need(S.PUBLISHED)
    outsider = factories.curator(factories.YUNNAN)
    _report(need)
    _report(need)
    inbox = db.session.scalars(select(Notification).where(Notification.subject.like("新的投诉举报%"))).all()
    assert [n.user_id for n in inbox] == [world.curator.id]
    assert outsider.id not in [n.user_id for n in inbox]


def test_one_live_case_per_object_is_enforced_by_the_database(any_app):
    world = World()
    need = world.need(S.PUBLISHED)
    _report(need)
    db.session.add(ReportCase(object_type="need", object_id=need.id, region_code=world.village.code))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()
    # A closed case does not count.
    case = db.session.scalar(select(ReportCase))
    lifecycle.close(world.curator, case, "upheld", "已责令村委会更正受益人数。")
    db.session.add(ReportCase(object_type="need", object_id=need.id, region_code=world.village.code))
    db.session.flush()


def test_a_closed_case_without_outcome_is_refused_by_the_database(any_app):
    world = World()
    case = _report(world.need(S.PUBLISHED)).case
    with pytest.raises(IntegrityError):
        db.session.execute(update(ReportCase).where(ReportCase.id == case.id).values(status="closed"))
        db.session.flush()
    db.session.rollback()


@pytest.mark.parametrize("reason,text,field", [("gossip", TEXT, "reason"), ("misuse", "太短", "text"),
                                               ("misuse", "很" * 2001, "text")])
def test_a_report_needs_a_known_reason_and_a_real_account(world, reason, text, field):
    need = world.need(S.PUBLISHED)
    with pytest.raises(ServiceError) as info:
        services.file_report(None, need, reason, text)
    assert field in info.value.fields
    assert _count(ReportCase) == _count(Report) == 0


def test_only_what_the_public_sees_can_be_reported(world):
    with pytest.raises(ServiceError):
        _report(world.need(S.DRAFT))
    with pytest.raises(ServiceError):
        _report(factories.organization(status="pending"))
    assert _count(ReportCase) == 0


def test_investigate_then_close_upheld_tells_signed_in_reporters_without_naming_anyone(world):
    need = world.need(S.PUBLISHED)
    reporter = factories.user("举报的村民")
    _report(need, reporter)
    case = _report(need).case
    lifecycle.investigate(world.curator, case, "已联系乡政府核实。")
    assert case.status == CaseStatus.INVESTIGATING and case.handled_by_id == world.curator.id
    with pytest.raises(TransitionError):
        lifecycle.investigate(world.curator, case)
    lifecycle.close(world.curator, case, "upheld", "经核查，受益学生为 36 人，已要求村委会更正需求。")
    assert (case.status, case.outcome, case.closed_at is not None) == ("closed", "upheld", True)
    told = db.session.scalars(select(Notification).where(Notification.user_id == reporter.id)).all()
    assert len(told) == 1 and "举报属实" in told[0].body and told[0].link == f"/needs/{need.id}"
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.object_type == "report_case")
                                 .order_by(AuditEvent.id)).all()
    assert actions == ["file_report", "file_report", "investigate_report", "close_report_upheld"]
    with pytest.raises(TransitionError):
        lifecycle.close(world.curator, case, "dismissed", "再次办结")


def test_closing_needs_an_outcome_and_a_public_note(world):
    case = _report(world.need(S.PUBLISHED)).case
    with pytest.raises(ServiceError) as info:
        lifecycle.close(world.curator, case, "maybe", "说明")
    assert "outcome" in info.value.fields
    with pytest.raises(ServiceError) as info:
        lifecycle.close(world.curator, case, "dismissed", "  ")
    assert "public_note" in info.value.fields
    assert case.status == CaseStatus.OPEN


@pytest.mark.parametrize("who", ["donor", "village_member", "other_curator"])
def test_only_curators_of_the_objects_region_handle_a_case(world, who):
    case = _report(world.need(S.PUBLISHED)).case
    actor = {"donor": factories.user(), "village_member": world.member,
             "other_curator": factories.curator(factories.YUNNAN)}[who]
    with pytest.raises(PermissionDenied):
        lifecycle.investigate(actor, case)
    with pytest.raises(PermissionDenied):
        lifecycle.close(actor, case, "dismissed", "不属实")
    assert case.status == CaseStatus.OPEN
    # A national curator and an admin may.
    lifecycle.investigate(factories.curator(), case)
    lifecycle.close(factories.admin(), case, "dismissed", "经核查不属实。")


def test_an_organisation_is_handled_in_its_own_region(app):
    org = factories.organization()  # 杭州, 浙江
    case = _report(org).case
    assert case.region_code == factories.HANGZHOU
    with pytest.raises(PermissionDenied):
        lifecycle.investigate(factories.curator(factories.SICHUAN), case)
    lifecycle.investigate(factories.curator(factories.ZHEJIANG), case)


# Pages ----------------------------------------------------------------------------------------

def test_a_visitor_reports_a_need_from_its_page_and_the_outcome_appears_there(world, client):
    need = world.need(S.PUBLISHED)
    page = client.get(f"/needs/{need.id}").get_data(as_text=True)
    assert f'href="/report/need/{need.id}"' in page and "data-report-outcomes" not in page
    response = post_form(client, f"/report/need/{need.id}", {"reason": "fake_figures", "text": TEXT})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/needs/{need.id}")
    case = db.session.scalar(select(ReportCase))
    assert case.report_count == 1 and case.reports[0].reporter_id is None
    assert "data-report-outcomes" not in client.get(f"/needs/{need.id}").get_data(as_text=True)  # nothing until closed
    lifecycle.close(world.curator, case, "upheld", "经核查，已要求村委会更正受益人数。")
    page = client.get(f"/needs/{need.id}").get_data(as_text=True)
    assert "data-report-outcomes" in page and "举报属实" in page and "已要求村委会更正受益人数" in page
    assert TEXT not in page  # the report itself is not published


def test_a_bad_report_keeps_what_was_typed(world, client):
    need = world.need(S.PUBLISHED)
    response = post_form(client, f"/report/need/{need.id}", {"reason": "misuse", "text": "太短了"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "太短了" in html and "至少 10 字" in html and _count(Report) == 0


def test_reporting_unseen_or_unknown_objects_is_404(world, client):
    draft = world.need(S.DRAFT)
    assert client.get(f"/report/need/{draft.id}").status_code == 404
    assert client.get("/report/village/1").status_code == 404
    assert client.get("/report/need/999999").status_code == 404


def test_an_organisation_page_links_to_its_report_form(app, client):
    org = factories.organization()
    page = client.get(f"/helpers/{org.id}").get_data(as_text=True)
    assert f'href="/report/organization/{org.id}"' in page
    assert client.get(f"/report/organization/{org.id}").status_code == 200


def test_reports_are_rate_limited_per_address(app_factory):
    app = app_factory(REPORT_LIMIT="2 per hour")
    with app.app_context():
        world = World()
        need = world.need(S.PUBLISHED)
        client = app.test_client()
        for _attempt in range(2):
            assert post_form(client, f"/report/need/{need.id}", {"reason": "other", "text": TEXT}).status_code == 302
        assert post_form(client, f"/report/need/{need.id}", {"reason": "other", "text": TEXT}).status_code == 429
        assert db.session.scalar(select(ReportCase.report_count)) == 2
        db.session.remove()


def test_the_queue_shows_each_curator_their_regions_cases(world, client):
    need = world.need(S.PUBLISHED)
    _report(need)
    _report(need)
    _report(factories.organization())  # 浙江: not Sichuan's
    login(client, world.curator.email)
    page = client.get("/curate/reports").get_data(as_text=True)
    assert page.count("data-case-id=") == 1 and "2 条举报" in page and need.title in page
    case = db.session.scalar(select(ReportCase).where(ReportCase.object_type == "need"))
    response = post_form(client, f"/curate/reports/{case.id}/investigate", {"note": "已联系乡政府"},
                         page=f"/curate/reports/{case.id}")
    assert response.status_code == 302 and db.session.get(ReportCase, case.id).status == "investigating"
    response = post_form(client, f"/curate/reports/{case.id}/close", {"outcome": "dismissed", "public_note": ""},
                         page=f"/curate/reports/{case.id}")
    assert response.status_code == 400 and "请填写公开的处理说明" in response.get_data(as_text=True)
    response = post_form(client, f"/curate/reports/{case.id}/close",
                         {"outcome": "dismissed", "public_note": "经核查，举报情况不属实。"}, page=f"/curate/reports/{case.id}")
    assert response.status_code == 302
    assert "data-case-id=" not in client.get("/curate/reports").get_data(as_text=True)
    assert f'data-case-id="{case.id}"' in client.get("/curate/reports?status=closed").get_data(as_text=True)
    # /me counts what awaits the curator.
    _report(need)
    assert "待处理的投诉举报" in client.get("/me").get_data(as_text=True)
