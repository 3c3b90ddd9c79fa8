"""The matching pages: recommendations, preferences, the need page's suggestions and invitations, pairings
with their reports on the public pages, the admins' pairing table, and the API."""
import re

from sqlalchemy import select

from tests import factories
from tests.conftest import post_form
from tests.matching.builders import ENSHI, HUOQIU, PLAN, ZHAOJUE, Places
from villageaid.accounts import services as accounts
from villageaid.extensions import db
from villageaid.matching import lifecycle, recommend
from villageaid.matching.models import NeedInvitation, Pairing, PairingRule
from villageaid.notifications.models import Notification
from villageaid.regions import pairing as pairing_table
from villageaid.regions.services import pad
from villageaid.timeutil import local_date_today

WENZHOU = pad("330300")


def _need_ids(html):
    return [int(i) for i in re.findall(r'<li class="card shadow-sm mb-3" data-need-id="(\d+)"', html)]


def test_recommendations_page_ranks_needs_with_reasons(app, as_user):
    places = Places()
    anhui, sichuan = places.need(HUOQIU), places.need(ZHAOJUE)
    owner = factories.user()
    org = factories.organization(owner, province=factories.ZHEJIANG, prefecture=WENZHOU)
    html = as_user(owner).get("/me/recommendations").get_data(as_text=True)
    assert _need_ids(html) == [sichuan.id, anhui.id]
    assert "浙江省帮扶四川省 · 东西部扶贫协作" in html and "该村尚无帮扶方" in html and "同属华东地区" in html
    assert org.name in html


def test_a_member_of_several_organisations_chooses_which_one(app, as_user):
    places = Places()
    places.need(ZHAOJUE)
    enshi = places.need(ENSHI)
    owner = factories.user()
    factories.organization(owner, province=factories.ZHEJIANG, prefecture=WENZHOU, name="温州甲有限公司")
    hangzhou = factories.organization(owner, province=factories.ZHEJIANG, prefecture=factories.HANGZHOU,
                                      name="杭州乙有限公司")
    client = as_user(owner)
    assert "data-org-chooser" in client.get("/me/recommendations").get_data(as_text=True)
    html = client.get(f"/me/recommendations?org={hangzhou.id}").get_data(as_text=True)
    assert _need_ids(html)[0] == enshi.id
    other = factories.organization()
    assert client.get(f"/me/recommendations?org={other.id}").status_code == 404


def test_without_a_verified_organisation_the_page_says_how_to_get_one(app, as_user):
    owner = factories.user()
    factories.organization(owner, status="pending", name="待审甲有限公司")
    html = as_user(owner).get("/me/recommendations").get_data(as_text=True)
    assert "待审甲有限公司" in html and "data-recommendations" not in html


def test_english_reasons(app, as_user):
    from tests.test_i18n import chinese_left

    places = Places()
    need = places.need(ZHAOJUE)
    owner = factories.user()
    org = factories.organization(owner, province=factories.ZHEJIANG, prefecture=WENZHOU)
    html = as_user(owner).get("/me/recommendations?lang=en").get_data(as_text=True)
    section = html[html.index("data-recommendations"):html.index("</ol>")]
    names = {"四川省", "浙江省", need.title, need.village.name, need.village.place_name, org.name}
    assert 'data-reason="pairing"' in section and 'data-reason="fairness"' in section
    assert not chinese_left(section, names), chinese_left(section, names)


def test_preferences_keep_what_was_typed_on_error_and_save(app, as_user):
    owner = factories.user()
    org = factories.organization(owner)
    client = as_user(owner)
    url = f"/helpers/{org.id}/preferences"
    response = post_form(client, url, {"categories": ["employment"], "budget_min": "5000", "budget_max": "100",
                                       "job_types": "普工、缝纫", "follow_pairing": "y"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "预算上限不能低于下限" in html
    assert 'value="5000"' in html and "普工、缝纫" in html
    response = post_form(client, url, {"categories": ["employment"], "budget_min": "5000", "budget_max": "200000.50",
                                       "job_types": "普工、缝纫", "region_codes": [factories.SICHUAN]})
    assert response.status_code == 302
    from villageaid.matching.services import preference_of

    pref = preference_of(org)
    assert (pref.categories, pref.region_codes, pref.job_types) == (["employment"], [factories.SICHUAN], ["普工", "缝纫"])
    assert (pref.budget_min_fen, pref.budget_max_fen, pref.follow_pairing) == (500_000, 20_000_050, False)
    assert "200000.50" in client.get(url).get_data(as_text=True)


def test_the_village_invites_a_suggested_organisation_from_the_need_page(app, as_user, client):
    places = Places()
    need = places.need(ENSHI)
    member = need.village.members[0].user
    owner = factories.user()
    hangzhou = factories.organization(owner, province=factories.ZHEJIANG, prefecture=factories.HANGZHOU)
    assert "推荐的帮扶方" not in client.get(f"/needs/{need.id}").get_data(as_text=True)  # not for visitors

    page = as_user(member).get(f"/needs/{need.id}").get_data(as_text=True)
    assert "推荐的帮扶方" in page and f'data-suggested-org="{hangzhou.id}"' in page
    assert "杭州市帮扶恩施土家族苗族自治州 · 东西部扶贫协作" in page
    response = post_form(client, f"/needs/{need.id}/invitations", {"organization_id": hangzhou.id},
                         page=f"/needs/{need.id}")
    assert response.status_code == 302
    invitation = db.session.scalars(select(NeedInvitation)).one()
    assert (invitation.need_id, invitation.organization_id, invitation.status) == (need.id, hangzhou.id, "pending")
    page = client.get(f"/needs/{need.id}").get_data(as_text=True)
    assert f'data-invitation-id="{invitation.id}"' in page and f'data-suggested-org="{hangzhou.id}"' not in page

    # The organisation finds it in its inbox, on /me and first on its recommendations, with the reason 受邀.
    client.post("/auth/logout", data={"csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)})
    owner_client = as_user(owner)
    assert db.session.scalars(select(Notification).where(Notification.user_id == owner.id,
                                                         Notification.subject.contains(need.title))).one()
    assert "受邀帮扶、待回复的需求" in owner_client.get("/me").get_data(as_text=True)
    html = owner_client.get(f"/me/recommendations?org={hangzhou.id}").get_data(as_text=True)
    assert f'data-invitation-id="{invitation.id}"' in html
    assert _need_ids(html)[0] == need.id and 'data-reason="invited"' in html
    response = post_form(owner_client, f"/invitations/{invitation.id}/accept", {}, page="/me/recommendations")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/needs/{need.id}")
    assert db.session.get(NeedInvitation, invitation.id).status == "accepted"


def test_a_pairing_through_the_pages_shows_on_both_public_pages(app, as_user, client):
    places = Places()
    village = places.village(ZHAOJUE)
    member = village.members[0].user
    owner = factories.user()
    org = factories.organization(owner)
    org_client = as_user(owner)
    assert f"/pairings/new?org={org.id}&amp;village={village.id}" in org_client.get(f"/villages/{village.id}").get_data(as_text=True)
    url = f"/pairings/new?org={org.id}&village={village.id}"
    response = post_form(org_client, url, {"plan": "短", "start_date": local_date_today().isoformat()})
    assert response.status_code == 200 and "帮扶计划" in response.get_data(as_text=True)
    response = post_form(org_client, url, {"plan": PLAN, "start_date": local_date_today().isoformat()})
    pairing = db.session.scalars(select(Pairing)).one()
    assert response.headers["Location"].endswith(f"/pairings/{pairing.id}")
    anonymous = app.test_client()
    assert anonymous.get(f"/pairings/{pairing.id}").status_code == 404  # not public until accepted
    assert org.name not in anonymous.get(f"/villages/{village.id}").get_data(as_text=True).split("data-village-pairings")[1]

    lifecycle.accept_pairing(member, pairing)
    for path, name in ((f"/villages/{village.id}", org.name), (f"/helpers/{org.id}", village.name)):
        html = anonymous.get(path).get_data(as_text=True)
        assert f'data-pairing-id="{pairing.id}"' in html and name in html
    html = anonymous.get(f"/pairings/{pairing.id}").get_data(as_text=True)
    assert "每年为村里提供 20 个就业岗位" in html and "data-actions" not in html

    year = local_date_today().year
    response = post_form(org_client, f"/pairings/{pairing.id}/reports/{year}", {"summary": "本年度提供岗位 12 个。"})
    assert response.status_code == 302
    assert "本年度提供岗位 12 个。" in anonymous.get(f"/pairings/{pairing.id}/reports/{year}").get_data(as_text=True)
    assert anonymous.get(f"/pairings/{pairing.id}/reports/{year - 1}").status_code == 404

    response = post_form(org_client, f"/pairings/{pairing.id}/end", {"reason": ""}, page=f"/pairings/{pairing.id}")
    assert response.status_code == 302 and db.session.get(Pairing, pairing.id).status == "active"
    post_form(org_client, f"/pairings/{pairing.id}/end", {"reason": "帮扶计划已完成"}, page=f"/pairings/{pairing.id}")
    assert db.session.get(Pairing, pairing.id).status == "ended"
    assert "帮扶计划已完成" in anonymous.get(f"/pairings/{pairing.id}").get_data(as_text=True)


def test_proposals_and_missing_reports_are_to_dos(app, as_user):
    places = Places()
    village = places.village(ZHAOJUE)
    member = village.members[0].user
    owner = factories.user()
    org = factories.organization(owner)
    lifecycle.propose_pairing(owner, org, village, plan=PLAN, start_date=local_date_today())
    assert "待您确认的结对申请" in as_user(member).get("/me").get_data(as_text=True)
    html = as_user(member).get("/me/pairings").get_data(as_text=True)
    assert org.name in html and "待您确认" in html


def test_admins_edit_the_pairing_table_and_the_village_page_follows(app, as_user):
    places = Places()
    village = places.village(HUOQIU)  # 安徽省六安市: no partner in the 2016 table
    admin = factories.admin()
    client = as_user(admin)
    assert "本村所在地区不在东西部扶贫协作结对范围内" in client.get(f"/villages/{village.id}").get_data(as_text=True)
    response = post_form(client, "/curate/pairing-rules", {"helper_province": pad("320000"), "helper_prefecture": pad("320100"),
                                                            "helped_province": pad("340000"), "helped_prefecture": pad("341500"),
                                                            "source": "测试文件"})
    assert response.status_code == 302
    rule = db.session.scalars(select(PairingRule).where(PairingRule.helped_prefecture_code == pad("341500"))).one()
    assert [p.helper_name for p in pairing_table.partners_of("安徽省", "六安市")] == ["南京市"]
    assert "南京市" in client.get(f"/villages/{village.id}").get_data(as_text=True)
    response = post_form(client, "/curate/pairing-rules", {"helper_province": pad("320000"), "helper_prefecture": pad("320100"),
                                                            "helped_province": pad("340000"), "helped_prefecture": pad("341500")})
    assert "结对关系表中已有这一行" in response.get_data(as_text=True)
    post_form(client, f"/curate/pairing-rules/{rule.id}/delete", {"reason": "录入有误"}, page="/curate/pairing-rules")
    assert pairing_table.partners_of("安徽省", "六安市") == []


def test_api_recommendations(app, client):
    places = Places()
    sichuan = places.need(ZHAOJUE)
    owner = factories.user()
    org = factories.organization(owner, province=factories.ZHEJIANG, prefecture=WENZHOU)
    token = accounts.issue_api_token(owner)
    db.session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    body = client.get(f"/api/v1/organizations/{org.id}/recommendations", headers=headers).get_json()
    first = body["items"][0]
    assert first["rank"] == 1 and first["need"]["id"] == sichuan.id and first["tiers"]["pairing"] == 2
    assert {"code": "pairing", "text": "浙江省帮扶四川省 · 东西部扶贫协作"} in first["reasons"]
    english = client.get(f"/api/v1/organizations/{org.id}/recommendations?lang=en", headers=headers).get_json()
    assert english["items"][0]["reasons"][0]["text"] != first["reasons"][0]["text"]
    assert client.get(f"/api/v1/organizations/{org.id}/recommendations?per_page=500", headers=headers).status_code == 400
    stranger = accounts.issue_api_token(factories.user())
    db.session.commit()
    assert client.get(f"/api/v1/organizations/{org.id}/recommendations",
                      headers={"Authorization": f"Bearer {stranger}"}).status_code == 403
    assert client.get(f"/api/v1/organizations/{org.id}/recommendations").status_code == 401
    assert "/api/v1/organizations/{org_id}/recommendations" in client.get("/api/v1/openapi.json").get_json()["paths"]


def _statements_of(client, url):
    from sqlalchemy import event

    statements = []
    listen = lambda *args: statements.append(" ".join(args[2].split()))  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listen)
    try:
        response = client.get(url)
    finally:
        event.remove(db.engine, "before_cursor_execute", listen)
    assert response.status_code == 200
    return response.get_data(as_text=True), statements


def test_the_recommendations_page_reads_the_preference_and_invitations_once(app, as_user):
    places = Places()
    sichuan, enshi = places.need(ZHAOJUE), places.need(ENSHI)
    owner = factories.user()
    org = factories.organization(owner, province=factories.ZHEJIANG, prefecture=WENZHOU)
    client = as_user(owner)
    client.get("/me/recommendations")

    def reads(statements, table):
        return [s for s in statements if re.search(rf"\bFROM {table}\b", s)]

    html, statements = _statements_of(client, "/me/recommendations")
    # Ranking reads both; the page reuses them, and with no pending invitation it asks for none to show.
    assert len(reads(statements, "need_invitation")) == 1 and len(reads(statements, "organization_preference")) == 1
    assert "data-invitations" not in html and "设置帮扶偏好" in html
    assert not reads(statements, "region"), "a village's place is named without the region table"
    # Besides the ranked SELECTs (one per group read: here, with few needs, every group), which read the
    # first page's needs too: the user with roles and unread count, and the organisation's facts. A column
    # the page reads but did not load would add a statement per need.
    others = [s for s in statements if " AS direct," not in s]
    assert len(others) == 2, "\n".join(s[:120] for s in others)

    invitation = lifecycle.invite(enshi.village.members[0].user, enshi, org, message="请看看")
    db.session.commit()
    html, statements = _statements_of(client, "/me/recommendations")
    assert f'data-invitation-id="{invitation.id}"' in html and "请看看" in html
    assert _need_ids(html)[0] == enshi.id and sichuan.id in _need_ids(html)
    # A later page reads the ranking's ids, then its needs by id: the same order.
    pages = [recommend.needs_for(org, page=page, per_page=1, listed=True).items for page in (1, 2)]
    assert [r.need.id for r in pages[0] + pages[1]] == _need_ids(html)
    token = accounts.issue_api_token(owner)
    db.session.commit()
    body = client.get(f"/api/v1/organizations/{org.id}/recommendations",
                      headers={"Authorization": f"Bearer {token}"}).get_json()
    assert [(i["need"]["id"], i["invitation_id"]) for i in body["items"]] == [(enshi.id, invitation.id),
                                                                            (sichuan.id, None)]
