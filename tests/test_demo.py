"""`flask demo seed` builds a living demo site, idempotently; `demo accounts --json` lists who to be.

Seeding is the slow part (seconds, even with the tests' fast password hashing), so one seeded
database is shared by this module; the tests only read it, except the re-seed, which must change nothing.
"""
import json
import shutil

import pytest
from sqlalchemy import func, select

from tests.conftest import make_app
from villageaid.accounts.models import Role, User
from villageaid.demo import seed as demo
from villageaid.extensions import db
from villageaid.organizations.models import Organization
from villageaid.villages.models import Village

# One worker runs the module, so the seeded database (its module fixture, most of a minute) is built once.
pytestmark = pytest.mark.xdist_group("demo")

# Province code prefixes: the western provinces of 西部大开发 and the eastern helper provinces of the pairing.
WEST = {"15", "45", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65"}
EAST = {"11", "12", "21", "31", "32", "33", "35", "37", "44"}


@pytest.fixture(scope="module")
def seeded(tmp_path_factory, sqlite_template):
    folder = tmp_path_factory.mktemp("demo")
    path = folder / "demo.sqlite"
    shutil.copy(sqlite_template, path)
    app = make_app(folder, f"sqlite:///{path}")
    with app.app_context():
        summary = demo.seed()
        yield app, summary
        db.session.remove()
        db.engine.dispose()


def table_counts():
    return {t.name: db.session.scalar(select(func.count()).select_from(t)) for t in db.metadata.sorted_tables}


def test_seed_builds_villages_in_the_west_and_helpers_in_the_east(seeded):
    _app, summary = seeded
    villages = db.session.scalars(select(Village)).all()
    western = [v for v in villages if v.status == "verified" and v.province_code[:2] in WEST]
    assert len(western) >= 30
    assert len({v.province_code for v in western}) >= 4
    assert all(v.members for v in villages)  # every village has a committee member who can act for it

    orgs = db.session.scalars(select(Organization)).all()
    eastern = [o for o in orgs if o.status == "verified" and o.province_code[:2] in EAST]
    assert len(eastern) >= 20
    assert len({o.province_code for o in eastern}) >= 5
    assert {o.kind.value for o in eastern} == {"enterprise", "ngo"}
    statuses = [o.status for o in orgs]
    assert statuses.count("pending") == 1 and statuses.count("rejected") == 1
    rejected = next(o for o in orgs if o.status == "rejected")
    assert rejected.status_reason
    names = [o.name for o in orgs]
    assert len(names) == len(set(names)), "two demo helpers share a name"

    assert summary["villages"] == len(villages) and summary["organizations"] == len(orgs)


def test_seed_creates_curators_national_and_regional_and_an_admin(seeded):
    users = db.session.scalars(select(User)).all()
    assert any(u.is_admin for u in users)
    scopes = [s for u in users for s in u.curator_scopes]
    assert "" in scopes  # national
    regional = {s[:2] for s in scopes if s}
    assert len(regional & WEST) >= 3 and regional & EAST
    # Every demo account can sign in without an e-mail round trip.
    assert all(u.email_verified_at is not None for u in users)
    # The regional curators' queues contain only their regions.
    from villageaid.curation.services import pending_organizations

    zhejiang = next(u for u in users if u.curator_scopes == ["330000000000"])
    assert [o.province_code for o in pending_organizations(zhejiang)] == ["330000000000"]
    sichuan = next(u for u in users if u.curator_scopes == ["510000000000"])
    assert pending_organizations(sichuan) == []
    assert Role.CURATOR in {g.role for g in sichuan.grants}


def test_seeding_again_changes_nothing(seeded):
    app, summary = seeded
    before = table_counts()
    again = demo.seed()
    assert again == summary
    assert table_counts() == before
    # And the CLI's --if-empty is a no-op on a seeded site.
    result = app.test_cli_runner().invoke(args=["demo", "seed", "--if-empty"])
    assert result.exit_code == 0 and "skipped" in result.output
    assert table_counts() == before


def test_demo_accounts_json_says_who_can_do_what(seeded):
    app, _summary = seeded
    result = app.test_cli_runner().invoke(args=["demo", "accounts", "--json"])
    assert result.exit_code == 0, result.output
    accounts = json.loads(result.output)
    assert len(accounts) == db.session.scalar(select(func.count()).select_from(User).where(User.email.like("%@demo.villageaid.cn")))
    for row in accounts:
        assert {"email", "password", "roles", "organization_id", "village_ids"} <= set(row)
        assert row["password"] and isinstance(row["roles"], list) and isinstance(row["village_ids"], list)
    by_email = {row["email"]: row for row in accounts}
    assert "admin" in by_email["admin@demo.villageaid.cn"]["roles"]
    assert "curator" in by_email["curator@demo.villageaid.cn"]["roles"]
    owners = [r for r in accounts if r["organization_id"]]
    leaders = [r for r in accounts if r["village_ids"]]
    assert len(owners) >= 20 and len(leaders) >= 30
    assert all({"enterprise_member", "ngo_member"} & set(r["roles"]) for r in owners)
    assert all("village_committee" in r["roles"] for r in leaders)

    # What it says is true: the account signs in with that password and the API agrees.
    leader = leaders[0]
    client = app.test_client()
    response = client.post("/api/v1/auth/token", json={"email": leader["email"], "password": leader["password"]})
    assert response.status_code == 201
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {response.get_json()['token']}"}).get_json()
    assert me["roles"] == leader["roles"] and me["village_ids"] == leader["village_ids"]
    assert me["organization_id"] == leader["organization_id"]
