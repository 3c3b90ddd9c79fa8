"""Verification of organisations and villages: curator scopes, decisions and what they leave behind,
who sees an application before it is verified, registration forms, invitations.
"""
import re

import pytest
from sqlalchemy import select

from tests import factories
from tests.conftest import csrf_token, login, post_form
from villageaid.accounts import services as accounts
from villageaid.accounts.models import Invitation, Role
from villageaid.audit.models import AuditEvent
from villageaid.curation import services as curation
from villageaid.errors import Conflict, PermissionDenied, ServiceError
from villageaid.extensions import db
from villageaid.mail import read_outbox
from villageaid.notifications.models import Notification
from villageaid.organizations import services as organizations
from villageaid.organizations.models import Membership, Organization
from villageaid.regions.models import Level, Region
from villageaid.villages import services as villages
from villageaid.villages.models import Village, VillageMember


def html(response):
    return response.get_data(as_text=True)


def mails_to(address, subject=""):
    return [m for _p, m in read_outbox() if m["To"] == address and subject in m["Subject"]]


def events(obj):
    return db.session.scalars(
        select(AuditEvent).where(AuditEvent.object_type == obj.__tablename__, AuditEvent.object_id == obj.id).order_by(AuditEvent.id)
    ).all()


def decide_url(obj):
    kind = "organizations" if isinstance(obj, Organization) else "villages"
    return f"/curate/{kind}/{obj.id}"


# The services, on SQLite and on PostgreSQL -------------------------------------------------

def test_an_organisation_applies_and_a_curator_verifies_it(any_app):
    owner = factories.user()
    org = organizations.register_organization(
        owner, kind="enterprise", name="杭州测试电子有限公司", credit_code="91330100799655058b", industry="C",
        province_code=factories.ZHEJIANG, prefecture_code=factories.HANGZHOU, size="large",
        contact_name="张三", contact_phone="0571-88886666",
    )
    assert org.status == "pending" and org.credit_code == "91330100799655058B"
    assert org.is_owner(owner) and owner.role_names() == ["donor", "enterprise_member"]
    (applied,) = events(org)
    assert (applied.action, applied.actor_id, applied.to_state) == ("apply", owner.id, "pending")

    curator = factories.curator(factories.ZHEJIANG)
    assert [o.id for o in curation.pending_organizations(curator)] == [org.id]
    curation.decide(curator, org, "verified")
    db.session.expire_all()
    org = db.session.get(Organization, org.id)
    assert org.status == "verified" and org.verified_at is not None
    decided = events(org)[-1]
    assert (decided.actor_id, decided.action, decided.from_state, decided.to_state, decided.public) == (
        curator.id, "verified", "pending", "verified", True)
    assert curation.pending_organizations(curator) == []
    (note,) = db.session.scalars(select(Notification).where(Notification.user_id == owner.id)).all()
    assert "已通过审核" in note.subject and note.link == f"/helpers/{org.id}"
    assert mails_to(owner.email, "已通过审核")


def test_the_same_credit_code_cannot_register_twice(any_app):
    factories.organization(name="甲公司")
    code = db.session.scalar(select(Organization.credit_code))
    with pytest.raises(ServiceError) as caught:
        organizations.register_organization(
            factories.user(), kind="enterprise", name="乙公司", credit_code=code.lower(), industry="C",
            province_code=factories.ZHEJIANG, prefecture_code=None, size="small", contact_name="李四", contact_phone="0571-1234567",
        )
    assert "已注册" in caught.value.fields["credit_code"]


def test_a_prefecture_outside_the_province_is_refused(any_app):
    with pytest.raises(ServiceError) as caught:
        organizations.register_organization(
            factories.user(), kind="ngo", name="基金会", credit_code=factories.credit_code(), industry="S",
            province_code=factories.ZHEJIANG, prefecture_code=factories.ZHAOTONG, size="small",
            contact_name="李四", contact_phone="0571-1234567",
        )
    assert set(caught.value.fields) == {"prefecture_code"}
    assert db.session.scalar(select(Organization.id)) is None


def test_a_village_registers_with_its_place_and_is_rejected_with_a_reason(any_app):
    leader = factories.user()
    village = villages.register_village(
        leader, county_code=factories.ZHAOJUE, township_name="竹核乡", name="火普村", code="513431104201",
        households=220, poor_households=60, poor_population=250, poverty_causes=["缺技术", "交通条件落后"],
        industries="花椒、苦荞", title="第一书记",
    )
    assert village.status == "pending"
    assert (village.province_code, village.prefecture_code, village.county_code) == (factories.SICHUAN, factories.LIANGSHAN, factories.ZHAOJUE)
    assert village.place_name == "四川省凉山彝族自治州昭觉县竹核乡"
    assert db.session.get(Region, "513431104000").level == Level.TOWNSHIP
    assert db.session.get(Region, "513431104201").parent_code == "513431104000"
    member = db.session.scalar(select(VillageMember).where(VillageMember.village_id == village.id))
    assert (member.user_id, member.title) == (leader.id, "第一书记")

    curator = factories.curator(factories.LIANGSHAN)  # a prefecture-level scope
    assert [v.id for v in curation.pending_villages(curator)] == [village.id]
    with pytest.raises(ServiceError) as caught:
        curation.decide(curator, village, "rejected", reason="  ")
    assert "reason" in caught.value.fields
    db.session.rollback()
    curation.decide(curator, village, "rejected", reason="户数与统计不符")
    db.session.expire_all()
    village = db.session.get(Village, village.id)
    assert (village.status, village.status_reason) == ("rejected", "户数与统计不符")
    last = events(village)[-1]
    assert (last.actor_id, last.from_state, last.to_state, last.reason) == (curator.id, "pending", "rejected", "户数与统计不符")
    (note,) = db.session.scalars(select(Notification).where(Notification.user_id == leader.id)).all()
    assert "未通过审核" in note.subject and "户数与统计不符" in note.body
    assert "户数与统计不符" in mails_to(leader.email, "未通过审核")[0].get_content()

    # The applicant corrects and resubmits; it is back in the queue.
    curation.resubmit(leader, village)
    assert db.session.get(Village, village.id).status == "pending"
    assert events(village)[-1].action == "resubmit"


def test_village_facts_and_code_are_checked(any_app):
    user = factories.user()
    with pytest.raises(ServiceError) as caught:
        villages.register_village(
            user, county_code=factories.ZHAOJUE, township_name="乡", name="村", code="530627101001",
            households=10, poor_households=11, poor_population=20, poverty_causes=["运气不好"],
        )
    assert set(caught.value.fields) == {"code", "poor_households", "poverty_causes"}
    assert "513431" in caught.value.fields["code"]
    db.session.rollback()
    assert db.session.scalar(select(Village.id)) is None


def test_scopes_and_transitions_are_enforced_by_the_service(any_app):
    village = factories.village(status="pending", county=factories.ZHENXIONG)
    sichuan = factories.curator(factories.SICHUAN)
    with pytest.raises(PermissionDenied):
        curation.decide(sichuan, village, "verified")
    donor = factories.user()
    with pytest.raises(PermissionDenied):
        curation.decide(donor, village, "verified")
    yunnan = factories.curator(factories.YUNNAN)
    curation.decide(yunnan, village, "verified")
    with pytest.raises(Conflict):
        curation.decide(yunnan, village, "verified")
    with pytest.raises(PermissionDenied):
        curation.resubmit(donor, village)


# The console -------------------------------------------------------------------------------

def test_the_console_is_for_curators_only(client):
    assert client.get("/curate").status_code == 302
    donor = factories.user()
    village = factories.village(status="pending")
    login(client, donor.email)
    assert client.get("/curate").status_code == 403
    response = post_form(client, decide_url(village), {"decision": "verified"}, page="/me")
    assert response.status_code == 403
    assert db.session.get(Village, village.id).status == "pending"


def test_a_regional_curator_sees_and_decides_only_their_region(client):
    sichuan_village = factories.village(status="pending", county=factories.ZHAOJUE, name="四川待审村")
    yunnan_village = factories.village(status="pending", county=factories.ZHENXIONG, name="云南待审村")
    zhejiang_org = factories.organization(status="pending", name="浙江待审企业有限公司")
    curator = factories.curator(factories.SICHUAN)
    login(client, curator.email)

    page = html(client.get("/curate"))
    assert "四川待审村" in page
    assert "云南待审村" not in page and "浙江待审企业有限公司" not in page

    response = post_form(client, decide_url(yunnan_village), {"decision": "verified"}, page="/curate")
    assert response.status_code == 403
    response = post_form(client, decide_url(zhejiang_org), {"decision": "verified"}, page="/curate")
    assert response.status_code == 403
    db.session.expire_all()
    assert db.session.get(Village, yunnan_village.id).status == "pending"
    assert db.session.get(Organization, zhejiang_org.id).status == "pending"

    response = post_form(client, decide_url(sichuan_village), {"decision": "verified"}, page="/curate")
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Village, sichuan_village.id).status == "verified"
    page = html(client.get("/curate"))
    assert "已通过：四川待审村" in page and 'data-queue="village"' not in page


def test_a_national_curator_sees_everything(client):
    factories.village(status="pending", county=factories.ZHAOJUE, name="四川待审村")
    factories.village(status="pending", county=factories.ZHENXIONG, name="云南待审村")
    factories.organization(status="pending", name="浙江待审企业有限公司")
    factories.organization(status="pending", province=factories.GUANGDONG, prefecture=None, name="广东待审企业有限公司")
    login(client, factories.curator().email)
    page = html(client.get("/curate"))
    for name in ("四川待审村", "云南待审村", "浙江待审企业有限公司", "广东待审企业有限公司"):
        assert name in page


def test_an_admin_can_curate_anywhere(client):
    org = factories.organization(status="pending", name="浙江待审企业有限公司")
    login(client, factories.admin().email)
    assert "浙江待审企业有限公司" in html(client.get("/curate"))
    assert post_form(client, decide_url(org), {"decision": "verified"}, page="/curate").status_code == 302
    assert db.session.get(Organization, org.id).status == "verified"


def test_a_decision_through_the_console_is_audited_notified_and_emailed(client):
    owner = factories.user(email="owner@example.cn")
    org = factories.organization(owner, status="pending", name="浙江待审企业有限公司")
    curator = factories.curator(factories.ZHEJIANG)
    login(client, curator.email)
    response = post_form(client, decide_url(org), {"decision": "rejected", "reason": "营业执照照片不清晰"}, page="/curate")
    assert response.status_code == 302
    assert "已驳回：浙江待审企业有限公司" in html(client.get("/curate"))

    db.session.expire_all()
    event = events(org)[-1]
    assert (event.actor_id, event.action, event.from_state, event.to_state, event.reason) == (
        curator.id, "rejected", "pending", "rejected", "营业执照照片不清晰")
    (note,) = db.session.scalars(select(Notification).where(Notification.user_id == owner.id)).all()
    assert "未通过审核" in note.subject and "营业执照照片不清晰" in note.body
    (mail,) = mails_to("owner@example.cn", "未通过审核")
    assert "营业执照照片不清晰" in mail.get_content()
    assert f"http://localhost/helpers/{org.id}" in mail.get_content()

    # The owner sees the reason on the page and in the inbox.
    owner_client = client.application.test_client()
    login(owner_client, owner.email)
    assert "营业执照照片不清晰" in html(owner_client.get(f"/helpers/{org.id}"))
    assert "未通过审核" in html(owner_client.get("/me/inbox"))


def test_rejecting_without_a_reason_is_refused_with_a_message(client):
    org = factories.organization(status="pending")
    login(client, factories.curator(factories.ZHEJIANG).email)
    response = post_form(client, decide_url(org), {"decision": "rejected", "reason": "   "}, page="/curate")
    assert response.status_code == 302
    assert "驳回时请填写理由。" in html(client.get("/curate"))
    db.session.expire_all()
    assert db.session.get(Organization, org.id).status == "pending"
    assert [e.action for e in events(org)] == ["apply"]
    assert db.session.scalar(select(Notification.id)) is None


def test_an_unknown_decision_is_a_bad_request(client):
    org = factories.organization(status="pending")
    login(client, factories.curator().email)
    assert post_form(client, decide_url(org), {"decision": "approved"}, page="/curate").status_code == 400
    assert post_form(client, "/curate/needs/1", {"decision": "verified"}, page="/curate").status_code == 404


# Who sees an application before it is verified ---------------------------------------------

@pytest.mark.parametrize("kind", ["organization", "village"])
def test_an_unverified_page_is_hidden_from_visitors(app, kind):
    member = factories.user()
    if kind == "organization":
        obj = factories.organization(member, status="pending", name="待审核的企业有限公司")
        url, right, wrong = f"/helpers/{obj.id}", factories.ZHEJIANG, factories.SICHUAN
    else:
        obj = factories.village(member, status="pending", name="待审核村")
        url, right, wrong = f"/villages/{obj.id}", factories.SICHUAN, factories.YUNNAN
    visitor = app.test_client()
    assert visitor.get(url).status_code == 404
    stranger = app.test_client()
    login(stranger, factories.user().email)
    assert stranger.get(url).status_code == 404
    elsewhere = app.test_client()
    login(elsewhere, factories.curator(wrong).email)
    assert elsewhere.get(url).status_code == 404

    for user in (member, factories.curator(right), factories.curator()):
        insider = app.test_client()
        login(insider, user.email)
        response = insider.get(url)
        assert response.status_code == 200, user
        assert obj.name in html(response)

    curation.decide(factories.curator(), obj, "verified")
    assert visitor.get(url).status_code == 200


def test_visitors_see_no_contact_details_and_a_suspended_page_is_hidden_again(app):
    owner = factories.user()
    org = factories.organization(owner, status="verified", name="曾通过的企业有限公司")
    visitor = app.test_client()
    page = html(visitor.get(f"/helpers/{org.id}"))
    assert "曾通过的企业有限公司" in page and "0571-88886666" not in page
    member = app.test_client()
    login(member, owner.email)
    assert "0571-88886666" in html(member.get(f"/helpers/{org.id}"))

    curation.decide(factories.curator(), org, "rejected", reason="虚假材料")
    assert visitor.get(f"/helpers/{org.id}").status_code == 404
    assert "虚假材料" in html(member.get(f"/helpers/{org.id}"))
    assert visitor.get("/helpers/999999").status_code == 404
    assert visitor.get("/villages/999999").status_code == 404


# Registration forms ------------------------------------------------------------------------

def org_form(**changes):
    data = {
        "kind": "enterprise", "name": "宁波海曙示范贸易有限公司", "credit_code": "91330100799655058A",
        "industry": "F", "province_code": factories.ZHEJIANG, "prefecture_code": factories.HANGZHOU,
        "size": "small", "contact_name": "陈女士", "contact_phone": "0574-87654321", "description": "外贸",
    }
    data.update(changes)
    return data


def test_org_registration_with_a_bad_credit_code_shows_the_error_and_keeps_the_input(client):
    login(client, factories.user().email)
    response = post_form(client, "/helpers/new", org_form())
    assert response.status_code == 200
    page = html(response)
    assert "统一社会信用代码无效" in page
    for typed in ('value="宁波海曙示范贸易有限公司"', 'value="91330100799655058A"', 'value="陈女士"', 'value="0574-87654321"'):
        assert typed in page
    assert re.search(rf'<option selected value="{factories.HANGZHOU}">|<option value="{factories.HANGZHOU}" selected', page)
    assert db.session.scalar(select(Organization.id)) is None


def test_org_registration_through_the_form(client):
    user = factories.user()
    login(client, user.email)
    response = post_form(client, "/helpers/new", org_form(credit_code="91330100799655058b"))
    assert response.status_code == 302
    org = db.session.scalar(select(Organization))
    assert response.headers["Location"] == f"/helpers/{org.id}"
    assert (org.status, org.credit_code, org.prefecture_code) == ("pending", "91330100799655058B", factories.HANGZHOU)
    assert db.session.scalar(select(Membership).where(Membership.organization_id == org.id)).user_id == user.id
    assert "待审核" in html(client.get(f"/helpers/{org.id}"))


def village_form(**changes):
    data = {
        "province_code": factories.SICHUAN, "prefecture_code": factories.LIANGSHAN, "county_code": factories.ZHAOJUE,
        "township_name": "竹核乡", "name": "火普村", "code": "513431104201", "title": "第一书记",
        "households": "220", "poor_households": "60", "poor_population": "250",
        "poverty_causes": ["缺技术", "缺资金"], "industries": "花椒", "description": "",
    }
    data.update(changes)
    return data


def test_village_registration_with_a_code_of_another_county_shows_the_error(client):
    login(client, factories.user().email)
    response = post_form(client, "/villages/new", village_form(code="530627101001"))
    assert response.status_code == 200
    page = html(response)
    assert "区划代码前 6 位应与所选区县（513431）一致。" in page
    assert 'value="火普村"' in page and 'value="530627101001"' in page and 'value="竹核乡"' in page
    assert db.session.scalar(select(Village.id)) is None


def test_village_registration_through_the_form(client):
    user = factories.user()
    login(client, user.email)
    response = post_form(client, "/villages/new", village_form())
    assert response.status_code == 302
    village = db.session.scalar(select(Village))
    assert response.headers["Location"] == f"/villages/{village.id}"
    assert (village.code, village.status, village.poverty_causes) == ("513431104201", "pending", ["缺技术", "缺资金"])
    assert village.is_member(user)
    # The same village cannot be registered twice.
    response = post_form(client, "/villages/new", village_form(name="另一个火普村"))
    assert response.status_code == 200 and "该村已注册" in html(response)


def test_the_position_is_suggested_in_the_page_language(client):
    login(client, factories.user().email)
    assert 'value="村委会主任"' in html(client.get("/villages/new?lang=zh_CN"))
    page = html(client.get("/villages/new?lang=en"))
    assert 'value="Village committee director"' in page and "村委会主任" not in page


# Invitations -------------------------------------------------------------------------------

def _invite(client, org, email):
    return post_form(client, f"/helpers/{org.id}/invite", {"email": email}, page=f"/helpers/{org.id}")


def test_an_owner_invites_a_newcomer_who_registers_and_accepts(app):
    owner = factories.user()
    org = factories.organization(owner, name="邀请测试有限公司")
    owner_client = app.test_client()
    login(owner_client, owner.email)
    response = _invite(owner_client, org, "Newcomer@Example.cn")
    assert response.status_code == 302
    assert "邀请已发送至" in html(owner_client.get(f"/helpers/{org.id}"))
    (mail,) = mails_to("newcomer@example.cn", "邀请您加入")
    link = re.search(r"http://localhost(/auth/invitation/\S+)", mail.get_content()).group(1)

    newcomer = app.test_client()
    response = newcomer.get(link)
    assert response.status_code == 302 and "/auth/login?next=" in response.headers["Location"]
    # Registers, comes back to the invitation and accepts it.
    response = post_form(newcomer, f"/auth/register?next={link}", {
        "name": "新同事", "email": "newcomer@example.cn", "password": "long-password-1", "confirm": "long-password-1",
    }, page="/auth/register")
    assert response.status_code == 302 and response.headers["Location"] == link
    assert "邀请测试有限公司" in html(newcomer.get(link))
    response = post_form(newcomer, link)
    assert response.status_code == 302
    assert "已加入 邀请测试有限公司" in html(newcomer.get("/me"))
    db.session.expire_all()
    invitee = accounts.find_by_email("newcomer@example.cn")
    assert org.is_member(invitee) and not org.is_owner(invitee)
    assert "enterprise_member" in invitee.role_names()
    assert db.session.scalar(select(Invitation.accepted_at)) is not None
    # The link is spent.
    assert "该邀请已被接受" in html(newcomer.get(link, follow_redirects=True))

    # A member who is not the owner cannot invite.
    assert _invite(newcomer, org, "third@example.cn").status_code == 403
    assert mails_to("third@example.cn") == []


def test_an_invitation_cannot_be_accepted_by_another_account(app):
    owner = factories.user()
    org = factories.organization(owner)
    _invitation, token = organizations.invite_member(owner, org, "meant@example.cn")
    someone = factories.user()
    client = app.test_client()
    login(client, someone.email)
    response = post_form(client, f"/auth/invitation/{token}")
    assert response.status_code == 302
    assert "该邀请发给 meant@example.cn" in html(client.get("/me"))
    db.session.expire_all()
    assert not db.session.get(Organization, org.id).is_member(someone)
    assert db.session.scalar(select(Invitation.accepted_at)) is None


def test_only_the_owner_invites(app):
    org = factories.organization()
    client = app.test_client()
    login(client, factories.user().email)
    assert client.get(f"/helpers/{org.id}").status_code == 200
    response = client.post(f"/helpers/{org.id}/invite", data={"email": "x@example.cn", "csrf_token": csrf_token(client, "/me")})
    assert response.status_code == 403
    with pytest.raises(PermissionDenied):
        organizations.invite_member(factories.user(), org, "x@example.cn")
    assert db.session.scalar(select(Invitation.id)) is None


def test_a_village_member_invites_a_colleague(app):
    leader = factories.user()
    village = factories.village(leader)
    _invitation, token = villages.invite_member(leader, village, "secretary@example.cn", title="第一书记")
    colleague = factories.user(email="secretary@example.cn")
    client = app.test_client()
    login(client, colleague.email)
    post_form(client, f"/auth/invitation/{token}")
    db.session.expire_all()
    member = db.session.scalar(select(VillageMember).where(VillageMember.user_id == colleague.id))
    assert (member.village_id, member.title) == (village.id, "第一书记")
    with pytest.raises(PermissionDenied):
        villages.invite_member(factories.user(), village, "y@example.cn")


def test_role_grant_is_unique_per_scope(app):
    user = factories.curator(factories.SICHUAN)
    accounts.grant(user, Role.CURATOR, factories.SICHUAN)
    accounts.grant(user, Role.CURATOR, factories.YUNNAN)
    db.session.commit()
    assert sorted(user.curator_scopes) == sorted([factories.SICHUAN, factories.YUNNAN])
