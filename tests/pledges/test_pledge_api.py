"""/api/v1 pledges and deliveries: the same rules as the pages, JSON errors 400/401/403/404/409, idempotency keys."""
import pytest
from sqlalchemy import func, select

from tests import factories
from tests.pledges.builders import D, P, S, World, bring, photo
from villageaid.accounts.services import issue_api_token
from villageaid.extensions import db
from villageaid.pledges.models import Pledge
from villageaid.timeutil import local_date_today


def bearer(user):
    return {"Authorization": f"Bearer {issue_api_token(user)}"}


def error(response, status):
    assert response.status_code == status, response.get_data(as_text=True)[:800]
    body = response.get_json()["error"]
    assert set(body) == {"code", "message", "fields"} and body["message"]
    return body


@pytest.fixture
def world(app):
    return World()


def test_pledge_accept_deliver_confirm_verify(world, client):
    need = world.published(target=3_000_000)
    owner, member, curator = bearer(world.owner), bearer(world.member), bearer(world.curator)
    response = client.post(f"/api/v1/needs/{need.id}/pledges", headers=owner,
                           json={"quantity": 3_000_000, "on_behalf_of_organization": world.org.id, "note": "一次到位"})
    assert response.status_code == 201, response.get_json()
    pledge = response.get_json()
    assert pledge["status"] == "pledged" and pledge["pledger"] == world.org.name and pledge["kind"] == "funds"
    assert pledge["code"].startswith("WQ-") and pledge["track_url"].endswith(f"/track/{pledge['code']}")
    assert pledge["promised_on"] >= local_date_today().isoformat()
    assert client.get(f"/api/v1/needs/{need.id}").get_json()["status"] == "fully_pledged"

    error(client.post(f"/api/v1/pledges/{pledge['id']}/accept", headers=owner), 403)  # not the pledger's to accept
    assert client.post(f"/api/v1/pledges/{pledge['id']}/accept", headers=member).get_json()["status"] == "accepted"
    error(client.post(f"/api/v1/pledges/{pledge['id']}/accept", headers=member), 409)

    response = client.post(f"/api/v1/pledges/{pledge['id']}/deliveries", headers=owner, data={
        "quantity": "3000000", "delivered_on": local_date_today().isoformat(), "note": "银行转账",
        "evidence": [photo(5, "回单.jpg")]}, content_type="multipart/form-data")
    assert response.status_code == 201, response.get_json()
    delivery = response.get_json()
    assert delivery["status"] == "reported" and delivery["evidence_count"] == 1
    assert delivery["evidence"][0]["url"].endswith(f"/deliveries/{delivery['id']}/evidence/{delivery['evidence'][0]['id']}")
    error(client.post(f"/api/v1/deliveries/{delivery['id']}/verify", headers=curator), 409)  # not confirmed yet
    assert client.post(f"/api/v1/deliveries/{delivery['id']}/confirm", headers=member).get_json()["status"] == "confirmed"
    error(client.post(f"/api/v1/deliveries/{delivery['id']}/verify", headers=member), 403)
    verified = client.post(f"/api/v1/deliveries/{delivery['id']}/verify", headers=curator, json={"reason": "已核对"})
    assert verified.get_json()["status"] == "verified" and verified.get_json()["decision_note"] == "已核对"
    detail = client.get(f"/api/v1/pledges/{pledge['id']}", headers=owner).get_json()
    assert detail["status"] == "verified" and detail["verified"] == 3_000_000
    assert detail["deliveries"][0]["receipt_url"].endswith(f"/deliveries/{delivery['id']}/receipt.pdf")
    public = client.get(f"/api/v1/needs/{need.id}").get_json()
    assert (public["status"], public["delivered"], public["verified"]) == ("completed", 3_000_000, 3_000_000)
    # Public views: the need's pledge list and the tracking code, without the personal fields.
    listed = client.get(f"/api/v1/needs/{need.id}/pledges").get_json()
    assert listed["total"] == 1 and "note" not in listed["items"][0] and "pledger_name" not in listed["items"][0]
    tracked = client.get(f"/api/v1/track/{pledge['code'].lower()}").get_json()
    assert tracked["code"] == pledge["code"] and tracked["deliveries"][0]["status"] == "verified"
    error(client.get("/api/v1/track/WQ-2026-ZZZZZZ"), 404)


def test_over_pledging_is_a_409_saying_what_remains_and_a_retry_with_the_key_pledges_once(world, client):
    need = world.published(target=3_000_000)
    token = bearer(world.donor)
    headers = {**token, "Idempotency-Key": "mini-program-42"}
    first = client.post(f"/api/v1/needs/{need.id}/pledges", headers=headers, json={"quantity": 2_000_000})
    again = client.post(f"/api/v1/needs/{need.id}/pledges", headers=headers, json={"quantity": 2_000_000})
    assert first.status_code == again.status_code == 201
    assert first.get_json()["id"] == again.get_json()["id"]
    assert (first.headers["Idempotent-Replayed"], again.headers["Idempotent-Replayed"]) == ("false", "true")
    assert db.session.scalar(select(func.count()).select_from(Pledge)) == 1
    body = error(client.post(f"/api/v1/needs/{need.id}/pledges", headers=token, json={"quantity": 1_500_000}), 409)
    assert body["code"] == "conflict" and "¥10,000.00" in body["message"] and "quantity" in body["fields"]


def test_bad_input_unknown_objects_and_strangers(world, client):
    need = world.published()
    token = bearer(world.donor)
    body = error(client.post(f"/api/v1/needs/{need.id}/pledges", headers=token, json={"quantity": 12.5}), 400)
    assert "quantity" in body["fields"]
    body = error(client.post(f"/api/v1/needs/{need.id}/pledges", headers=token,
                             json={"quantity": 10_000, "promised_on": "2001-01-01"}), 400)
    assert "promised_on" in body["fields"]
    error(client.post(f"/api/v1/needs/{need.id}/pledges", json={"quantity": 10_000}), 401)
    error(client.post("/api/v1/needs/999999/pledges", headers=token, json={"quantity": 10_000}), 404)
    error(client.post(f"/api/v1/needs/{need.id}/pledges", headers=bearer(world.member), json={"quantity": 10_000}), 403)
    error(client.post(f"/api/v1/needs/{need.id}/pledges", headers=token,
                      json={"quantity": 10_000, "on_behalf_of_organization": world.org.id}), 403)
    draft = world.need(S.DRAFT)
    error(client.post(f"/api/v1/needs/{draft.id}/pledges", headers=token, json={"quantity": 10_000}), 404)
    pledge = bring(world, world.pledge(), P.ACCEPTED)
    stranger = bearer(factories.user())
    error(client.get(f"/api/v1/pledges/{pledge.id}", headers=stranger), 404)
    error(client.post(f"/api/v1/pledges/{pledge.id}/cancel", headers=stranger), 404)
    owner = bearer(world.owner)
    body = error(client.post(f"/api/v1/pledges/{pledge.id}/deliveries", headers=owner,
                             json={"quantity": 1_000_000}), 400)
    assert "delivered_on" in body["fields"]
    body = error(client.post(f"/api/v1/pledges/{pledge.id}/deliveries", headers=owner,
                             json={"quantity": 2_000_000, "delivered_on": local_date_today().isoformat()}), 400)
    assert "quantity" in body["fields"]
    error(client.post(f"/api/v1/pledges/{pledge.id}/deliveries", headers=bearer(world.member),
                      json={"quantity": 1000, "delivered_on": local_date_today().isoformat()}), 403)
    body = error(client.post(f"/api/v1/pledges/{pledge.id}/decline", headers=bearer(world.member)), 409)
    assert body["code"] == "conflict"


def test_a_dispute_needs_a_reason_and_goes_to_the_curator(world, client):
    pledge = bring(world, world.pledge(), P.DELIVERED)
    delivery = pledge.deliveries[0]
    member = bearer(world.member)
    body = error(client.post(f"/api/v1/deliveries/{delivery.id}/dispute", headers=member, json={}), 400)
    assert "reason" in body["fields"]
    disputed = client.post(f"/api/v1/deliveries/{delivery.id}/dispute", headers=member, json={"reason": "只收到一半"})
    assert disputed.get_json()["dispute_reason"] == "只收到一半"
    rejected = client.post(f"/api/v1/deliveries/{delivery.id}/reject", headers=bearer(world.curator),
                           json={"reason": "村里只收到一半，请按实际到账重新登记"}).get_json()
    assert rejected["status"] == D.REJECTED
    db.session.refresh(pledge)
    assert pledge.status == P.DELIVERING and pledge.delivered == 0


def test_the_openapi_document_lists_the_pledge_endpoints(client):
    import schemathesis

    doc = client.get("/api/v1/openapi.json").get_json()
    schemathesis.openapi.from_dict(doc).validate()
    for path, method in (("/api/v1/needs/{need_id}/pledges", "post"), ("/api/v1/pledges/{pledge_id}/{action}", "post"),
                         ("/api/v1/pledges/{pledge_id}/deliveries", "post"),
                         ("/api/v1/deliveries/{delivery_id}/{action}", "post"), ("/api/v1/pledges/{pledge_id}", "get"),
                         ("/api/v1/deliveries/{delivery_id}", "get"), ("/api/v1/track/{code}", "get")):
        assert method in doc["paths"][path], path
    upload = doc["paths"]["/api/v1/pledges/{pledge_id}/deliveries"]["post"]["requestBody"]["content"]
    assert {"application/json", "multipart/form-data"} <= set(upload)
