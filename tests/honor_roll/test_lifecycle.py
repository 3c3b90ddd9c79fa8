"""The edition's lifecycle: the transition table, curation and its permissions, 公示 and objections,
publishing by hand and at 10-17 00:00 in China, and corrections."""
from datetime import datetime, timedelta, timezone
from itertools import product

import pytest
from sqlalchemy import select

from tests import factories
from tests.honor_roll.builders import YEAR, World, china
from villageaid.audit.models import AuditEvent
from villageaid.errors import Conflict, PermissionDenied, ServiceError
from villageaid.extensions import db
from villageaid.honor_roll import lifecycle as roll
from villageaid.honor_roll.models import EditionStatus, HonorRollRevision

S = EditionStatus


@pytest.fixture
def world(app):
    return World()


def _pairs():
    return list(product(S, S))


@pytest.mark.parametrize("current,target", _pairs())
def test_the_transition_table_allows_exactly_its_pairs(current, target):
    allowed = target in roll.ALLOWED[current]
    if allowed:
        roll.check(current, target)
    else:
        with pytest.raises(roll.TransitionError):
            roll.check(current, target)
    assert (current, target) in {(S.DRAFT, S.NOTICE), (S.NOTICE, S.DRAFT), (S.NOTICE, S.PUBLISHED)} or not allowed


def test_an_edition_starts_with_the_campaign_year_and_the_default_categories(world):
    edition = world.edition
    assert edition.title == "2026年全国扶贫日 万企帮万村光荣榜"
    assert (edition.period_start.isoformat(), edition.period_end.isoformat()) == ("2025-10-17", "2026-10-16")
    assert edition.notice_days == 7 and edition.status == "draft"
    # 10-17 00:00 in China is 10-16 16:00 UTC
    assert edition.publish_at.replace(tzinfo=timezone.utc) == datetime(2026, 10, 16, 16, 0, tzinfo=timezone.utc)
    assert [(c.name, c.honoree_kind) for c in edition.categories] == [
        ("先进民营企业", "enterprise"), ("优秀社会组织", "ngo"), ("爱心个人", "individual")]
    with pytest.raises(Conflict):
        roll.create_edition(world.admin, YEAR)
    with pytest.raises(PermissionDenied):
        roll.create_edition(world.national, YEAR + 1)  # curators curate; admins create


def test_only_curators_of_the_region_curate_a_candidate(world):
    world.help(world.org)  # the pledges world's enterprise, registered in 杭州
    world.compute()
    (_rank, candidate), = roll.honored(world.category("enterprise"))
    sichuan = world.curator  # curates 四川省, not 浙江省 where the enterprise is
    with pytest.raises(PermissionDenied):
        roll.exclude(sichuan, candidate, "不在本辖区")
    with pytest.raises(PermissionDenied):
        roll.set_citation(factories.user(), candidate, "事迹")
    zhejiang = factories.curator(factories.ZHEJIANG)
    roll.set_citation(zhejiang, candidate, "在昭觉县援建幼儿园。")
    with pytest.raises(ServiceError) as info:
        roll.exclude(zhejiang, candidate, "  ")
    assert "reason" in info.value.fields
    roll.exclude(zhejiang, candidate, "存在未结清的举报")
    assert roll.honored(world.category("enterprise")) == []
    roll.restore(zhejiang, candidate)
    assert [c for _r, c in roll.honored(world.category("enterprise"))] == [candidate]
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.object_type == "honor_roll_edition")).all()
    assert {"exclude_honor_roll_candidate", "restore_honor_roll_candidate", "cite_honor_roll_candidate"} <= set(actions)
    with pytest.raises(PermissionDenied):
        roll.start_computation(zhejiang, world.edition)  # edition-wide work is national


def test_quota_decides_who_is_honored_after_exclusions(world):
    helpers = [world.helper(name=f"企业{n}") for n in range(4)]
    for n, org in enumerate(helpers):
        world.help(org, 1_000_000 * (4 - n))
    world.compute()
    category = world.category("enterprise")
    roll.set_quota(world.national, category, 2)
    assert [c.name for _r, c in roll.honored(category)] == ["企业0", "企业1"]
    roll.exclude(world.national, roll.honored(category)[0][1], "经核实存在虚报")
    assert [(r, c.name) for r, c in roll.honored(category)] == [(1, "企业1"), (2, "企业2")]
    with pytest.raises(ServiceError):
        roll.set_quota(world.national, category, 0)


def test_notice_needs_a_computed_roll_with_every_citation(world):
    world.help(world.org)
    with pytest.raises(Conflict):
        roll.start_notice(world.national, world.edition)  # not computed
    world.compute()
    with pytest.raises(Conflict) as info:
        roll.start_notice(world.national, world.edition)
    assert "事迹" in str(info.value)
    world.cite_all()
    start = china(YEAR, 10, 5, 9)
    roll.start_notice(world.national, world.edition, now=start)
    assert world.edition.status == "notice"
    assert world.edition.notice_ends_at.replace(tzinfo=timezone.utc) == start + timedelta(days=7)
    with pytest.raises(Conflict):
        roll.start_computation(world.national, world.edition)  # the public draft does not change under objections


def test_objections_during_notice_must_be_answered_before_publishing(world):
    world.help(world.org)
    start = china(YEAR, 10, 5, 9)
    world.to_notice(start)
    (_rank, candidate), = roll.honored(world.category("enterprise"))
    objection = roll.file_objection(None, world.edition, candidate_id=candidate.id, name="张群众",
                                    contact="13800000000", body="该企业 2026 年有拖欠工资记录。", now=start + timedelta(days=1))
    after = start + timedelta(days=8)
    assert roll.publish_problems(world.edition, after) == ["还有 1 条异议未答复。"]
    with pytest.raises(Conflict):
        roll.publish(world.admin, world.edition, now=after)
    with pytest.raises(ServiceError):
        roll.answer_objection(world.national, objection, outcome="dismissed", answer="")
    roll.answer_objection(world.national, objection, outcome="dismissed",
                          answer="经向当地人社部门核实，工资已于 2026 年 5 月结清，异议不成立。")
    with pytest.raises(Conflict):
        roll.answer_objection(world.national, objection, outcome="upheld", answer="改判")
    with pytest.raises(Conflict):  # too late to object
        roll.file_objection(None, world.edition, candidate_id=None, name="李", contact="x", body="迟到的异议", now=after)
    revision = roll.publish(world.admin, world.edition, now=after)
    assert revision.number == 1 and revision.sealed and world.edition.status == "published"


def test_publishing_waits_for_the_end_of_the_notice_period(world):
    world.help(world.org)
    start = china(YEAR, 10, 5, 9)
    world.to_notice(start)
    with pytest.raises(Conflict) as info:
        roll.publish(world.admin, world.edition, now=start + timedelta(days=6, hours=23))
    assert "公示期尚未结束" in str(info.value)
    with pytest.raises(PermissionDenied):
        roll.publish(world.national, world.edition, now=start + timedelta(days=8))  # admins publish by hand


def test_the_scheduled_publication_fires_at_10_17_midnight_in_china(world):
    world.help(world.org)
    world.to_notice(china(YEAR, 10, 1, 9))  # notice over on 10-08
    just_before = datetime(YEAR, 10, 16, 15, 59, 59, tzinfo=timezone.utc)  # 10-16 23:59:59 in China
    assert roll.publish_due(just_before) == []
    assert world.edition.status == "notice"
    midnight = datetime(YEAR, 10, 16, 16, 0, 0, tzinfo=timezone.utc)  # 10-17 00:00:00 in China
    assert roll.publish_due(midnight) == [YEAR]
    db.session.refresh(world.edition)
    assert world.edition.status == "published"
    revision = roll.current_revision(world.edition)
    assert revision.published_by_id is None  # the scheduled job
    assert revision.published_at.replace(tzinfo=timezone.utc) == midnight
    assert roll.publish_due(midnight + timedelta(minutes=1)) == []  # once


def test_a_scheduled_publication_is_held_while_objections_are_open(world):
    world.help(world.org)
    start = china(YEAR, 10, 1, 9)
    world.to_notice(start)
    roll.file_objection(None, world.edition, candidate_id=None, name="王", contact="wang@example.cn",
                        body="名单遗漏了本县捐款最多的企业。", now=start + timedelta(days=2))
    midnight = datetime(YEAR, 10, 16, 16, 0, tzinfo=timezone.utc)
    assert roll.publish_due(midnight) == []
    db.session.refresh(world.edition)
    assert world.edition.status == "notice" and world.edition.hold_reason == "还有 1 条异议未答复。"
    objection, = roll.open_objections(world.edition)
    roll.answer_objection(world.national, objection, outcome="dismissed", answer="该企业的交付尚未核实，不计入本届。")
    assert roll.publish_due(midnight + timedelta(minutes=3)) == [YEAR]


def test_a_notice_can_be_withdrawn_to_fix_the_roll(world):
    world.help(world.org)
    world.to_notice(china(YEAR, 10, 1))
    with pytest.raises(ServiceError):
        roll.withdraw_notice(world.national, world.edition, "")
    roll.withdraw_notice(world.national, world.edition, "发现统计口径错误，重新计算")
    assert world.edition.status == "draft" and world.edition.notice_ends_at is None
    world.compute()  # allowed again


def test_a_correction_is_a_new_revision_with_a_public_note(world):
    a, b = world.helper(name="甲企业"), world.helper(name="乙企业")
    world.help(a, 3_000_000)
    world.help(b, 1_000_000)
    first = world.publish()
    assert [e.name for e in first.entries if e.category_name == "先进民营企业"] == ["甲企业", "乙企业"]
    candidate = next(c for _r, c in roll.honored(world.category("enterprise")) if c.name == "甲企业")
    roll.exclude(world.national, candidate, "公示后查实其交付凭证造假")
    with pytest.raises(ServiceError):
        roll.publish_correction(world.admin, world.edition, " ")
    with pytest.raises(PermissionDenied):
        roll.publish_correction(world.national, world.edition, "更正")
    second = roll.publish_correction(world.admin, world.edition, "撤销甲企业的表彰：交付凭证造假。")
    assert second.number == 2 and second.change_note == "撤销甲企业的表彰：交付凭证造假。"
    assert [(e.rank, e.name) for e in second.entries if e.category_name == "先进民营企业"] == [(1, "乙企业")]
    db.session.expire_all()
    first = db.session.get(HonorRollRevision, first.id)
    assert [e.name for e in first.entries if e.category_name == "先进民营企业"] == ["甲企业", "乙企业"]
    assert roll.current_revision(world.edition).number == 2


def test_a_delivery_reopened_by_a_spot_check_stops_publication_until_recomputed(world):
    from villageaid.pledges import lifecycle as pledges

    a, b = world.helper(name="甲企业"), world.helper(name="乙企业")
    doubtful = world.help(a, 3_000_000)
    world.help(b, 1_000_000)
    start = china(YEAR, 10, 1, 9)
    world.to_notice(start)
    pledges.reopen(world.curator, doubtful, "抽查走访：村里只收到一半")
    after = start + timedelta(days=8)
    problems = roll.publish_problems(world.edition, after)
    assert any("不再是“已核实”" in p for p in problems)
    with pytest.raises(Conflict):
        roll.publish(world.admin, world.edition, now=after)
    roll.withdraw_notice(world.national, world.edition, "抽查发现交付有出入，重新计算")
    world.compute()
    assert [c.name for _r, c in roll.honored(world.category("enterprise"))] == ["乙企业"]
    world.cite_all()
    roll.start_notice(world.national, world.edition, now=after)
    revision = roll.publish(world.admin, world.edition, now=after + timedelta(days=8))
    assert [e.name for e in revision.entries] == ["乙企业"]
