"""The public ledger by region: at every level the totals equal the sums of the deliveries behind them."""
import re

import pytest
from sqlalchemy import func, select

from tests import factories
from tests.pledges.builders import D, P, World, bring, delivery_in
from villageaid.extensions import db
from villageaid.ledger import public
from villageaid.pledges.models import Delivery
from villageaid.regions import services as regions


@pytest.fixture
def world(any_app):
    world = World()
    bring(world, world.pledge(quantity=1_000_000), P.VERIFIED)                      # ¥10,000 verified
    delivery_in(world, D.CONFIRMED, world.pledge(quantity=400_000))                 # ¥4,000 confirmed only
    world.pledge(quantity=250_000, org=False)                                      # ¥2,500 pledged only
    return world


def _delivery_sums(status_in):
    return db.session.scalar(select(func.coalesce(func.sum(Delivery.quantity), 0)).where(Delivery.status.in_(status_in)))


@pytest.mark.parametrize("code", [None, factories.SICHUAN, factories.LIANGSHAN, factories.ZHAOJUE])
def test_every_level_adds_up_to_its_deliveries(world, code):
    page = public.page(code)
    funds = page["totals"]["cny_fen"]
    assert funds["pledged"] == 1_650_000
    assert funds["delivered"] == _delivery_sums(["reported", "confirmed", "disputed", "verified"]) == 1_400_000
    assert funds["confirmed"] == _delivery_sums(["confirmed", "verified"]) == 1_400_000
    assert funds["verified"] == _delivery_sums(["verified"]) == 1_000_000
    (child,) = page["children"]  # one province, prefecture, county, then the village
    assert child["units"]["cny_fen"] == {"pledged": 1_650_000, "delivered": 1_400_000, "confirmed": 1_400_000,
                                         "verified": 1_000_000}
    assert child["pledges"] == 3
    assert [d.quantity for d in page["deliveries"]] == [1_000_000]


def test_the_pages_link_down_to_each_delivery_and_hide_other_regions(world, any_app):
    client = any_app.test_client()
    html = client.get("/ledger").get_data(as_text=True)
    assert 'href="/ledger/510000000000"' in html and "¥10,000.00" in html
    html = client.get(f"/ledger/{factories.ZHAOJUE}").get_data(as_text=True)
    assert f'href="/villages/{world.village.id}"' in html
    code = re.search(r'href="/track/(WQ-\d{4}-[0-9A-Z]{6})"', html).group(1)
    assert client.get(f"/track/{code}").status_code == 200
    assert world.owner.email not in html and world.donor.name not in html  # no personal data
    zhejiang = client.get("/ledger/330000000000").get_data(as_text=True)
    assert "本地区还没有认捐" in zhejiang and "¥10,000.00" not in zhejiang
    assert client.get("/ledger/12345").status_code == 404
    village = client.get(f"/villages/{world.village.id}").get_data(as_text=True)
    assert f'href="/ledger/{factories.ZHAOJUE}"' in village
