"""Screening before review: the rules flag the right submissions, with reasons, and never reject."""
import pytest
from sqlalchemy import select

from tests import factories
from tests.needs.builders import S, World
from villageaid.audit.models import AuditEvent
from villageaid.errors import PermissionDenied, ServiceError
from villageaid.extensions import db
from villageaid.needs import lifecycle, screening
from villageaid.needs.models import ScreeningRule


def flags_of(need):
    return {f.rule.key for f in need.flags if f.rule is not None}


@pytest.mark.parametrize(("overrides", "expected"), [
    ({}, set()),
    ({"title": "为贫困户购买苹果手机", "category": "consumption"}, {"brands-luxury"}),
    ({"description": "慰问品：茅台酒两箱，用于春节慰问村里的老人和五保户。"}, {"brands-luxury"}),
    ({"title": "给留守儿童每人一部手机"}, {"charity-personal-items"}),
    ({"title": "给留守儿童每人一部手机", "category": "skills"}, set()),  # personal items only matter in 公益
    ({"unit": "goods", "goods_item": "名牌手表", "target": 50}, {"brands-luxury", "charity-personal-items"}),
    ({"target": 120 * 300000 + 100}, {"cap-charity-funds"}),   # ¥3,000.01 a head
    ({"target": 120 * 300000}, set()),                          # exactly the cap is fine
    ({"category": "industry", "target": 120 * 2_000_000}, set()),
    ({"category": "industry", "target": 120 * 2_000_000 + 120}, {"cap-industry-funds"}),
    ({"unit": "goods", "goods_item": "棉被", "target": 120 * 21}, {"cap-charity-goods"}),
    ({"unit": "volunteer_hours", "target": 100000}, set()),     # no cap on hours
])
def test_rules_flag_the_right_submissions(app, overrides, expected):
    world = World()
    need = world.need(S.SUBMITTED, **overrides)
    assert need.status == S.SUBMITTED  # flagged or not, it waits for the curator
    assert flags_of(need) == expected
    for flag in need.flags:
        assert flag.reason == flag.rule.reason and flag.detail


def test_cap_detail_says_by_how_much(app):
    world = World()
    need = world.need(S.SUBMITTED, target=120 * 500000)
    assert [f.detail for f in need.flags] == ["¥5,000.00/人 > ¥3,000.00/人"]


def test_duplicate_of_an_open_need_of_the_same_village(app):
    world = World()
    world.need(S.PUBLISHED, title="村小学冬季取暖用煤")
    closed = world.need(S.REJECTED, title="修建村级文化活动室")
    del closed
    similar = world.need(S.SUBMITTED, title="村小学冬季取暖用煤（第二批）")
    assert flags_of(similar) == {"duplicate-open-need"}
    assert "村小学冬季取暖用煤" in similar.flags[0].detail
    # A rejected need is not open: the same title again is not a duplicate of it.
    again = world.need(S.SUBMITTED, title="修建村级文化活动室")
    assert flags_of(again) == set()
    # Another village's need with the same title is not a duplicate either.
    other = World()
    assert flags_of(other.need(S.SUBMITTED, title="村小学冬季取暖用煤")) == set()


def test_resubmission_is_screened_again(app):
    world = World()
    need = world.need(S.SUBMITTED, title="为贫困户购买苹果手机", category="consumption")
    assert flags_of(need) == {"brands-luxury"}
    lifecycle.send_back(world.curator, need, "请不要指定品牌")
    from villageaid.needs import services

    services.update_need(world.member, need, {**services.current_values(need), "title": "为贫困户购买智能手机用于电商销售"})
    lifecycle.submit(world.member, need)
    assert flags_of(need) == set()


def test_rules_are_data_curators_edit(app):
    world = World()
    rule = db.session.scalar(select(ScreeningRule).where(ScreeningRule.key == "brands-luxury"))
    screening.save_rule(world.curator, rule, {"kind": "keywords", "name": rule.name, "reason": rule.reason,
                                              "words": rule.words + "\n金银花茶礼盒", "active": True})
    need = world.need(S.SUBMITTED, title="采购金银花茶礼盒作为慰问品", category="consumption")
    assert flags_of(need) == {"brands-luxury"}
    screening.save_rule(world.curator, rule, {"kind": "keywords", "name": rule.name, "reason": rule.reason,
                                              "words": rule.words, "active": False})
    assert flags_of(world.need(S.SUBMITTED, title="采购金银花茶礼盒（二）作为慰问品", category="consumption")) \
        <= {"duplicate-open-need"}
    added = screening.save_rule(world.curator, None, {"kind": "cap", "name": "志愿时长人均上限", "reason": "人均时长过多",
                                                      "category": "volunteering", "unit": "volunteer_hours", "cap": 10})
    need = world.need(S.SUBMITTED, category="volunteering", unit="volunteer_hours", target=2000, title="暑期支教志愿者")
    assert [f.rule_id for f in need.flags] == [added.id]
    events = db.session.scalars(select(AuditEvent.action).where(AuditEvent.object_type == "screening_rule")).all()
    assert events == ["update_rule", "update_rule", "create_rule"]


def test_rule_editing_is_for_curators_and_validated(app):
    world = World()
    with pytest.raises(PermissionDenied):
        screening.save_rule(world.member, None, {"kind": "keywords", "name": "x", "reason": "y", "words": "z"})
    with pytest.raises(ServiceError) as info:
        screening.save_rule(world.curator, None, {"kind": "cap", "name": "上限", "reason": "太多"})
    assert {"unit", "cap"} <= set(info.value.fields)
    with pytest.raises(ServiceError) as info:
        screening.save_rule(world.curator, None, {"kind": "keywords", "name": "", "reason": "", "words": ""})
    assert {"name", "reason", "words"} <= set(info.value.fields)


def test_default_rules_install_once(app):
    assert screening.install_default_rules() == len(screening.DEFAULT_RULES)
    assert screening.install_default_rules() == 0
    factories.user()  # the session is still usable
