"""/api/v1/needs: the page's filters and the same lifecycle rules, with JSON errors 400/401/403/404/409."""
from datetime import timedelta

import pytest

from tests import factories
from tests.needs.builders import S, World, force
from villageaid.accounts.services import issue_api_token
from villageaid.extensions import db
from villageaid.needs.models import Need
from villageaid.timeutil import local_date_today


def bearer(user):
    return {"Authorization": f"Bearer {issue_api_token(user)}"}


def error(response, status):
    assert response.status_code == status, response.get_data(as_text=True)[:800]
    body = response.get_json()["error"]
    assert set(body) == {"code", "message", "fields"} and body["message"]
    return body


def body(**overrides):
    data = {"category": "employment", "unit": "jobs", "title": "扶贫车间缝纫工",
            "description": "家门口就业，计件工资，需要企业提供订单和技术指导。", "target": 20,
            "deadline": (local_date_today() + timedelta(days=30)).isoformat(),
            "households": 20, "people": 20, "poor_people": 12,
            "job": {"title": "缝纫工", "wage_min_fen": 260000, "wage_max_fen": 350000, "location": "本村扶贫车间",
                    "start_date": (local_date_today() + timedelta(days=40)).isoformat()}}
    data.update(overrides)
    return data


@pytest.fixture
def world(app):
    return World()


def test_post_submit_approve_and_read(world, client):
    village_token = bearer(world.member)
    response = client.post("/api/v1/needs", json=body(village_id=world.village.id), headers=village_token)
    assert response.status_code == 201, response.get_json()
    need = response.get_json()
    assert need["status"] == "draft" and need["target"] == 20 and need["job"]["wage_max_fen"] == 350000
    assert need["village"] == {"id": world.village.id, "name": world.village.name}
    need_id = need["id"]
    # Not public yet: a visitor gets 404, the village (with its token) sees it.
    error(client.get(f"/api/v1/needs/{need_id}"), 404)
    assert client.get(f"/api/v1/needs/{need_id}", headers=village_token).status_code == 200
    assert client.post(f"/api/v1/needs/{need_id}/submit", headers=village_token).get_json()["status"] == "submitted"
    curator_token = bearer(world.curator)
    # The village cannot approve its own need; the curator can.
    error(client.post(f"/api/v1/needs/{need_id}/approve", headers=village_token), 403)
    approved = client.post(f"/api/v1/needs/{need_id}/approve", headers=curator_token).get_json()
    assert approved["status"] == "published"
    public = client.get(f"/api/v1/needs/{need_id}").get_json()
    assert public["province"] == {"code": "510000000000", "name": "四川省"}
    assert public["prefecture"] == {"code": "513400000000", "name": "凉山彝族自治州"}
    assert {k: public[k] for k in ("unit", "target", "pledged", "delivered", "verified")} == \
        {"unit": "jobs", "target": 20, "pledged": 0, "delivered": 0, "verified": 0}
    assert public["review_note"] is None and public["flags"] == []
    # Wrong state: 409.
    error(client.post(f"/api/v1/needs/{need_id}/approve", headers=curator_token), 409)
    error(client.post(f"/api/v1/needs/{need_id}/submit", headers=village_token), 409)


def test_money_is_integer_fen_and_submit_at_once(world, client):
    response = client.post("/api/v1/needs", headers=bearer(world.member), json=body(
        village_id=world.village.id, category="charity", unit="cny_fen", target=3_600_050, job=None, submit=True))
    assert response.status_code == 201
    assert response.get_json()["status"] == "submitted"
    assert db.session.get(Need, response.get_json()["id"]).target == 3_600_050
    error(client.post("/api/v1/needs", headers=bearer(world.member),
                      json=body(village_id=world.village.id, unit="cny_fen", target=12.5)), 400)


def test_bad_input_is_a_400_with_fields(world, client):
    token = bearer(world.member)
    err = error(client.post("/api/v1/needs", headers=token, json={"village_id": world.village.id}), 400)
    assert {"category", "unit", "title"} <= set(err["fields"])
    err = error(client.post("/api/v1/needs", headers=token, json=body(village_id=world.village.id, people=5,
                                                                       households=10)), 400)
    assert list(err["fields"]) == ["people"] and isinstance(err["fields"]["people"], list)
    err = error(client.post("/api/v1/needs", headers=token, json=body(village_id=world.village.id, submit=True,
                                                                       job={"title": "缝纫工"})), 400)
    assert {"work_location", "job_start_date", "wage_min_fen"} <= set(err["fields"])
    err = error(client.post("/api/v1/needs", headers=token, json=body(village_id=987654)), 400)
    assert "village_id" in err["fields"]


def test_reject_needs_a_reason_and_send_back_and_withdraw(world, client):
    need = world.need(S.SUBMITTED)
    curator = bearer(world.curator)
    err = error(client.post(f"/api/v1/needs/{need.id}/reject", headers=curator, json={}), 400)
    assert "reason" in err["fields"]
    sent = client.post(f"/api/v1/needs/{need.id}/send_back", headers=curator, json={"reason": "请补充预算明细"})
    assert sent.get_json()["status"] == "draft" and sent.get_json()["review_note"] == "请补充预算明细"
    village = bearer(world.member)
    assert client.get(f"/api/v1/needs/{need.id}", headers=village).get_json()["review_note"] == "请补充预算明细"
    assert client.post(f"/api/v1/needs/{need.id}/withdraw", headers=village, json={"reason": "已自筹"}).get_json()["status"] == "withdrawn"
    other = world.need(S.SUBMITTED, title="村卫生室设备采购")
    assert client.post(f"/api/v1/needs/{other.id}/reject", headers=curator, json={"reason": "重复"}).get_json()["status"] == "rejected"


def test_authentication_and_permission(world, client):
    need = world.need(S.DRAFT)
    error(client.post("/api/v1/needs", json=body(village_id=world.village.id)), 401)
    error(client.post(f"/api/v1/needs/{need.id}/submit"), 401)
    error(client.get(f"/api/v1/needs/{need.id}", headers={"Authorization": "Bearer nope"}), 401)
    stranger = bearer(factories.user())
    error(client.post("/api/v1/needs", headers=stranger, json=body(village_id=world.village.id)), 403)
    error(client.post(f"/api/v1/needs/{need.id}/submit", headers=stranger), 404)  # a draft is invisible to them
    published = world.need(S.PUBLISHED, title="村道太阳能路灯")
    error(client.post(f"/api/v1/needs/{published.id}/withdraw", headers=stranger), 403)
    far = bearer(factories.curator(factories.ZHEJIANG))
    error(client.post(f"/api/v1/needs/{published.id}/withdraw", headers=far), 403)
    # A curator of the region posts on the village's behalf.
    response = client.post("/api/v1/needs", headers=bearer(world.curator), json=body(village_id=world.village.id))
    assert response.status_code == 201 and response.get_json()["on_behalf"] is True


def test_list_with_the_page_filters(world, client):
    yunnan_member = factories.user()
    yunnan = factories.village(yunnan_member, county=factories.ZHENXIONG)
    from villageaid.needs import services

    for i in range(3):
        force(world.need(S.DRAFT, title=f"四川公益需求{i}"), S.PUBLISHED)
    force(services.create_need(yunnan_member, yunnan, {"category": "employment", "unit": "jobs", "title": "云南岗位需求",
                                                        "target": 5, "deadline": local_date_today() + timedelta(days=9)}), S.PUBLISHED)
    world.need(S.SUBMITTED, title="待审核的需求")
    page = client.get("/api/v1/needs").get_json()
    assert (page["total"], page["page"], len(page["items"])) == (4, 1, 4)
    page = client.get("/api/v1/needs?province=四川省&category=charity&per_page=2").get_json()
    assert page["total"] == 3 and len(page["items"]) == 2 and page["next"]
    rest = client.get(f"/api/v1/needs?province=四川省&category=charity&per_page=2&page=2&after={page['next']}").get_json()
    assert len(rest["items"]) == 1 and rest["page"] == 2 and rest["next"] is None
    assert {i["id"] for i in page["items"]} | {i["id"] for i in rest["items"]} == \
        {n.id for n in db.session.query(Need).filter(Need.title.like("四川公益需求%"))}
    assert [i["title"] for i in client.get("/api/v1/needs?province=530000&unit=jobs").get_json()["items"]] == ["云南岗位需求"]
    err = error(client.get("/api/v1/needs?sort=sideways&province=火星省"), 400)
    assert set(err["fields"]) == {"sort", "province"}


def test_the_openapi_document_lists_the_needs_endpoints(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert {"/api/v1/needs", "/api/v1/needs/{need_id}", "/api/v1/needs/{need_id}/{action}"} <= set(paths)
