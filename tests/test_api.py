"""The JSON API's foundation: bearer tokens, /me, JSON errors, the OpenAPI document."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests import factories
from tests.conftest import login
from villageaid.accounts.models import ApiToken
from villageaid.extensions import db
from villageaid.timeutil import utcnow

TOKEN_URL = "/api/v1/auth/token"


def get_token(client, user, password=factories.PASSWORD):
    response = client.post(TOKEN_URL, json={"email": user.email, "password": password})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["token"]


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def assert_error(response, status, code):
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "fields"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    return body["error"]


def test_a_token_for_email_and_password_and_me_with_it(client):
    user = factories.user(email="api@example.cn", name="接口用户")
    org = factories.organization(user)
    village = factories.village(user)
    response = client.post(TOKEN_URL, json={"email": "API@example.cn", "password": factories.PASSWORD})
    assert response.status_code == 201
    token = response.get_json()["token"]
    assert token.startswith("va_") and len(token) > 40
    # Only a hash is stored.
    assert db.session.scalar(select(ApiToken.token_hash)) != token

    me = client.get("/api/v1/me", headers=bearer(token))
    assert me.status_code == 200
    body = me.get_json()
    assert body["id"] == user.id and body["email"] == "api@example.cn" and body["name"] == "接口用户"
    assert body["roles"] == ["donor", "enterprise_member", "village_committee"]
    assert body["organization_id"] == org.id and body["organization_ids"] == [org.id]
    assert body["village_ids"] == [village.id]
    assert body["curator_scopes"] == []
    assert db.session.scalar(select(ApiToken.revoked_at)) is None


def test_me_for_a_plain_donor_and_a_curator(client):
    donor = factories.user()
    body = client.get("/api/v1/me", headers=bearer(get_token(client, donor))).get_json()
    assert (body["roles"], body["organization_id"], body["village_ids"]) == (["donor"], None, [])
    curator = factories.curator(factories.SICHUAN)
    body = client.get("/api/v1/me", headers=bearer(get_token(client, curator))).get_json()
    assert body["roles"] == ["curator", "donor"] and body["curator_scopes"] == [factories.SICHUAN]


def test_a_wrong_password_is_a_json_401(client):
    user = factories.user()
    error = assert_error(client.post(TOKEN_URL, json={"email": user.email, "password": "wrong-password"}), 401, "unauthorized")
    assert error["message"] == "邮箱或密码不正确。" and error["fields"] == {}
    assert_error(client.post(TOKEN_URL, json={"email": "nobody@example.cn", "password": "wrong-password"}), 401, "unauthorized")
    assert db.session.scalar(select(ApiToken.id)) is None


def test_missing_and_malformed_fields_are_a_400_naming_them(client):
    error = assert_error(client.post(TOKEN_URL, json={}), 400, "bad_request")
    assert set(error["fields"]) == {"email", "password"}
    error = assert_error(client.post(TOKEN_URL, json={"email": "not-an-email", "password": "x"}), 400, "bad_request")
    assert set(error["fields"]) == {"email"}
    assert_error(client.post(TOKEN_URL, data="email=x", content_type="application/x-www-form-urlencoded"), 400, "bad_request")


def test_deleting_the_token_revokes_it(client):
    user = factories.user()
    token, other = get_token(client, user), get_token(client, user)
    response = client.delete(TOKEN_URL, headers=bearer(token))
    assert response.status_code == 204
    assert_error(client.get("/api/v1/me", headers=bearer(token)), 401, "unauthorized")
    assert_error(client.delete(TOKEN_URL, headers=bearer(token)), 401, "unauthorized")
    # The user's other token is untouched.
    assert client.get("/api/v1/me", headers=bearer(other)).status_code == 200


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer ", "Token va_x", "Basic dXNlcjpwYXNz", "Bearer va_not_a_real_token"])
def test_missing_or_bad_authorization_is_a_401(client, header):
    headers = {"Authorization": header} if header is not None else {}
    assert_error(client.get("/api/v1/me", headers=headers), 401, "unauthorized")


def test_the_bearer_scheme_is_case_insensitive(client):
    token = get_token(client, factories.user())
    assert client.get("/api/v1/me", headers={"Authorization": f"bearer {token}"}).status_code == 200


def test_an_expired_token_and_a_deactivated_user_are_refused(client):
    user = factories.user()
    token = get_token(client, user)
    row = db.session.scalar(select(ApiToken))
    row.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert_error(client.get("/api/v1/me", headers=bearer(token)), 401, "unauthorized")

    token = get_token(client, user)
    user.active = False
    db.session.commit()
    assert_error(client.get("/api/v1/me", headers=bearer(token)), 401, "unauthorized")
    assert_error(client.post(TOKEN_URL, json={"email": user.email, "password": factories.PASSWORD}), 401, "unauthorized")


def test_session_cookies_do_not_authenticate_api_calls(client):
    user = factories.user()
    login(client, user.email)
    assert client.get("/me").status_code == 200  # the browser session works for pages
    assert_error(client.get("/api/v1/me"), 401, "unauthorized")
    assert_error(client.delete(TOKEN_URL), 401, "unauthorized")


def test_the_api_needs_no_csrf_token(app):
    # CSRF is on in tests; the JSON API is exempt because it never trusts cookies.
    assert app.config.get("WTF_CSRF_ENABLED", True)
    user = factories.user()
    client = app.test_client()
    assert client.post(TOKEN_URL, json={"email": user.email, "password": factories.PASSWORD}).status_code == 201


def test_unknown_api_paths_and_methods_are_json_errors(client):
    assert_error(client.get("/api/v1/xyz"), 404, "not_found")
    assert_error(client.post("/api/v1/xyz/1/approve", json={}), 404, "not_found")
    assert_error(client.put("/api/v1/me"), 405, "method_not_allowed")
    # A page outside the API stays an HTML page.
    response = client.get("/no-such-page")
    assert response.status_code == 404 and response.mimetype == "text/html"


def test_token_requests_are_throttled_per_account(client):
    user = factories.user()
    for _ in range(5):
        assert client.post(TOKEN_URL, json={"email": user.email, "password": "wrong-password"}).status_code == 401
    assert_error(client.post(TOKEN_URL, json={"email": user.email, "password": factories.PASSWORD}), 429, "rate_limited")


def test_the_openapi_document_is_valid_and_lists_the_auth_endpoints(client):
    import schemathesis

    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    doc = response.get_json()
    assert doc["openapi"].startswith("3.")
    assert doc["info"]["title"] and doc["info"]["version"]
    schemathesis.openapi.from_dict(doc).validate()  # raises on a document that breaks the OpenAPI 3 schema
    assert {"post", "delete"} <= set(doc["paths"]["/api/v1/auth/token"])
    assert "get" in doc["paths"]["/api/v1/me"]
    assert doc["components"]["securitySchemes"]["bearerAuth"] == {"type": "http", "scheme": "bearer"}
    assert doc["paths"]["/api/v1/me"]["get"]["security"] == [{"bearerAuth": []}]
    me_schema = doc["components"]["schemas"]["MeResponse"]["properties"]
    assert {"roles", "organization_id", "village_ids"} <= set(me_schema)


# What the schemathesis run (tests/test_api_fuzz.py) found, pinned down -------------------------

def test_a_body_that_is_not_json_is_a_400_naming_it(client):
    for body in (b"\x80", b"{", b"email=x"):
        error = assert_error(client.post(TOKEN_URL, data=body, content_type="application/json"), 400, "bad_request")
        assert error["fields"] == {"json": ["Invalid JSON body."]}


@pytest.mark.parametrize("body", [[1, 2], "email", 7, None])
def test_a_token_request_that_is_not_an_object_leaves_the_throttle_on_its_storage(client, caplog, body):
    # The per-account key is read from the body; an error there made Flask-Limiter take its storage for
    # down and count in a per-process fallback from then on.
    with caplog.at_level("WARNING"):
        assert_error(client.post(TOKEN_URL, json=body), 400, "bad_request")
    assert "falling back" not in caplog.text and "Failed to rate limit" not in caplog.text


def test_ids_past_any_object_are_a_404_or_a_400_not_a_database_error(client):
    headers = bearer(get_token(client, factories.user()))
    huge = 2**70
    for url in (f"/api/v1/needs/{huge}", f"/api/v1/needs/{huge}/pledges", f"/api/v1/pledges/{huge}",
                f"/api/v1/deliveries/{huge}", f"/api/v1/organizations/{huge}/recommendations",
                f"/api/v1/honor-rolls/{huge}", "/api/v1/needs/2147483648"):
        assert_error(client.get(url, headers=headers), 404, "not_found")
    need = {"category": "charity", "unit": "cny_fen", "title": "村小学冬季取暖用煤"}
    for village_id in (-huge, huge, 0):
        error = assert_error(client.post("/api/v1/needs", headers=headers, json={**need, "village_id": village_id}),
                             400, "bad_request")
        assert set(error["fields"]) == {"village_id"}


def test_text_the_database_cannot_hold_is_a_400_naming_the_field(any_app):
    """NUL characters, text longer than its column and wages past any wage: on PostgreSQL each was a 500."""
    from tests.pledges.builders import World
    from villageaid.accounts.services import issue_api_token
    from villageaid.timeutil import local_date_today

    world = World()
    jobs = world.need("published", unit="jobs", category="employment", target=20, title="扶贫车间缝纫工",
                      job_title="缝纫工", wage_min_fen=300_000, wage_max_fen=400_000, work_location="西昌市",
                      job_start_date=local_date_today() + timedelta(days=30))
    client = any_app.test_client()
    member = {"Authorization": f"Bearer {issue_api_token(world.member)}"}
    owner = {"Authorization": f"Bearer {issue_api_token(world.owner)}"}
    need = {"village_id": world.village.id, "category": "employment", "unit": "jobs", "title": "扶贫车间缝纫工"}
    for body, field in (({**need, "title": "村小学\x00取暖用煤"}, "title"),
                        ({**need, "job": {"title": "长" * 81}}, "job"), ({**need, "job": {"location": "长" * 121}}, "job"),
                        ({**need, "job": {"wage_min_fen": 2**70}}, "job"),
                        ({**need, "unit": "goods", "category": "charity", "goods_item": "长" * 81}, "goods_item")):
        error = assert_error(client.post("/api/v1/needs", headers=member, json=body), 400, "bad_request")
        assert set(error["fields"]) == {field}, error
    pledge = {"quantity": 1, "on_behalf_of_organization": world.org.id}
    for body, field in (({**pledge, "note": "尽快\x00安排"}, "note"), ({**pledge, "job": {"title": "长" * 81}}, "job"),
                        ({**pledge, "job": {"location": "长" * 121}}, "job")):
        error = assert_error(client.post(f"/api/v1/needs/{jobs.id}/pledges", headers=owner, json=body), 400, "bad_request")
        assert set(error["fields"]) == {field}, error
    error = assert_error(client.get("/api/v1/needs?province=%00", headers=member), 400, "bad_request")
    assert set(error["fields"]) == {"province"}
    assert client.post(f"/api/v1/needs/{jobs.id}/pledges", headers=owner,
                       json={**pledge, "job": {"title": "长" * 80}}).status_code == 201


def test_the_document_describes_the_errors_the_api_sends(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["components"]["schemas"]["ApiError"]["required"] == ["error"]
    assert set(doc["components"]["schemas"]["ApiErrorDetail"]["properties"]) == {"code", "message", "fields"}
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            if method == "parameters":
                continue
            responses = operation["responses"]
            # Bad input is a 400 (not webargs' 422); no catch-all: every status is listed where it can happen.
            assert "422" not in responses and "default" not in responses, (method, path)
            if operation.get("security"):
                assert "401" in responses, (method, path)
            for status, response in responses.items():
                if int(status) >= 400:
                    schema = (response.get("content") or {}).get("application/json", {}).get("schema") \
                        or doc["components"]["responses"][response["$ref"].split("/")[-1]]["content"][
                            "application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/ApiError"}, (method, path, status)
    need_id = doc["paths"]["/api/v1/needs/{need_id}"]["parameters"][0]
    assert need_id["schema"]["maximum"] == 2**31 - 1
