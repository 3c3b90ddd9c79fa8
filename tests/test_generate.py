"""bench/generate.py: the synthetic data set adds up the way the lifecycles would have left it, and the
site reads it as real data (on SQLite and PostgreSQL)."""
import random
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

import generate  # noqa: E402
from villageaid.extensions import db  # noqa: E402
from villageaid.needs.models import Need  # noqa: E402
from villageaid.organizations.uscc import is_valid  # noqa: E402
from villageaid.organizations.models import Organization  # noqa: E402
from villageaid.pledges.models import Delivery, Pledge  # noqa: E402

COUNTS = {"organizations": 60, "villages": 80, "needs": 200, "pledges": 600, "deliveries": 600}


@pytest.fixture
def generated(any_app):
    generate.Generator(db, random.Random(5), COUNTS).run()
    return any_app


def test_the_data_add_up_at_every_level(generated):
    assert generate.inconsistencies(db) == []
    counted = generate._counted(db)
    assert counted["organizations"] == 60 and counted["villages"] == 80 and counted["needs"] == 200
    assert 450 <= counted["pledges"] <= 750 and 400 <= counted["deliveries"] <= 800
    statuses = set(db.session.scalars(select(Pledge.status).distinct()))
    assert {"pledged", "accepted", "delivering", "verified", "declined"} <= statuses
    assert {"reported", "confirmed", "verified"} <= set(db.session.scalars(select(Delivery.status).distinct()))
    assert all(is_valid(code) for code in db.session.scalars(select(Organization.credit_code)))


def test_the_invariant_checks_catch_a_wrong_total(generated):
    need = db.session.scalars(select(Need).where(Need.pledged > 0, Need.status == "published").order_by(Need.id)).first()
    need.pledged -= 1
    need.pledged_permille = need.pledged * 1000 // need.target
    db.session.commit()
    assert generate.inconsistencies(db) == ["a need's pledged is not the sum of its live pledges (1 rows)"]


def test_the_invariant_checks_catch_a_delivery_whose_copies_drifted(generated):
    """A delivery's copies of its pledge's and need's facts (what the honor roll reads) are checked too."""
    delivery = db.session.scalars(select(Delivery).order_by(Delivery.id)).first()
    assert (delivery.village_id, delivery.need_poor_people) == (delivery.pledge.village_id,
                                                                delivery.pledge.need.poor_people)
    delivery.need_poor_people += 1
    db.session.commit()
    assert generate.inconsistencies(db) == [
        "a delivery's copies of its pledge's and need's facts are not theirs (1 rows)"]


def test_the_invariant_checks_catch_a_need_tally_that_drifted(generated):
    """The bulk load went through the tally's triggers; a tally row written around them is caught."""
    from villageaid.needs.models import NeedTally

    row = db.session.scalars(select(NeedTally).where(NeedTally.needs > 0, NeedTally.county_code != "")
                             .order_by(*NeedTally.__table__.primary_key.columns)).first()
    row.needs += 1
    db.session.commit()
    assert generate.inconsistencies(db) == ["the need tally is not the need table's count (1 keys)"]


def test_the_site_reads_the_generated_data(generated):
    client = generated.test_client()
    need = db.session.scalars(select(Need).where(Need.status == "in_delivery").order_by(Need.id)).first()
    pledge = db.session.scalars(select(Pledge).where(Pledge.need_id == need.id)).first()
    assert client.get("/needs?status=all").status_code == 200
    page = client.get(f"/needs/{need.id}").get_data(as_text=True)
    assert need.title in page
    assert client.get(f"/track/{pledge.code}").status_code == 200
    # New rows after the bulk load get fresh ids (PostgreSQL's sequences were moved past the explicit ones).
    from tests import factories

    assert factories.village(name="新来村").id > 80
    assert db.session.scalar(select(func.max(Need.id))) == 200
