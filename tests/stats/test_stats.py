"""/stats and GET /api/v1/stats: the numbers match the database, verified only, refreshed by a job."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import update

from tests import factories
from tests.pledges.builders import D, P, World, bring, delivery_in
from villageaid.extensions import db
from villageaid.pledges.models import Delivery
from villageaid.stats import services
from villageaid.timeutil import local_date_today


@pytest.fixture
def world(any_app):
    services_cleared()
    return World()


def services_cleared():
    from villageaid import queue

    queue.redis_connection().delete(services.SNAPSHOT_KEY)


def test_only_verified_deliveries_count_and_the_sums_match(world):
    verified = bring(world, world.pledge(quantity=1_000_000), P.VERIFIED)           # ¥10,000 verified
    delivery_in(world, D.CONFIRMED, world.pledge(quantity=500_000))                # confirmed only
    delivery_in(world, D.REPORTED, world.pledge(quantity=200_000, org=False))      # reported only
    jobs_need = world.published(category="employment", unit="jobs", title="扶贫车间缝纫工", target=10,
                                job_title="缝纫工", work_location="昭觉县", wage_min_fen=300_000, wage_max_fen=400_000,
                                job_start_date=local_date_today() + timedelta(days=30))
    bring(world, world.pledge(jobs_need, 4, job_title="缝纫工", wage_fen=320_000, work_location="昭觉县"), P.VERIFIED)
    stats = services.compute()
    assert stats["verified"] == {"cny_fen": 1_000_000, "jobs": 4, "goods": 0, "volunteer_hours": 0}
    assert stats["pledged"]["cny_fen"] == 1_700_000 and stats["pledged"]["jobs"] == 4
    assert stats["deliveries_verified"] == 2 and stats["villages_helped"] == 1 and stats["organizations_helping"] == 1
    (sichuan,) = stats["by_province"]
    assert (sichuan["code"], sichuan["name"], sichuan["cny_fen"], sichuan["jobs"], sichuan["deliveries"]) == (
        factories.SICHUAN, "四川省", 1_000_000, 4, 2)
    by_category = {row["category"]: row for row in stats["by_category"]}
    assert by_category["charity"]["cny_fen"] == 1_000_000 and by_category["employment"]["jobs"] == 4
    assert sum(row["deliveries"] for row in stats["by_category"]) == 2
    assert len(stats["by_month"]) == 12 and sum(row["cny_fen"] for row in stats["by_month"]) == 1_000_000
    assert verified.verified == 1_000_000


def test_months_are_months_in_china(world):
    pledge = bring(world, world.pledge(quantity=300_000), P.VERIFIED)
    # Verified at 2026-10-31 17:00 UTC = 2026-11-01 01:00 in Beijing: a November figure.
    db.session.execute(update(Delivery).where(Delivery.pledge_id == pledge.id)
                       .values(decided_at=datetime(2026, 10, 31, 17, 0, tzinfo=timezone.utc)))
    db.session.commit()
    months = {row["month"]: row["cny_fen"] for row in services.compute(now=datetime(2026, 11, 20, tzinfo=timezone.utc))["by_month"]}
    assert months["2026-11"] == 300_000 and months["2026-10"] == 0
    assert list(months)[0] == "2025-12" and list(months)[-1] == "2026-11"


def test_the_page_serves_the_snapshot_the_job_refreshes(world, any_app):
    from jobs import stats as stats_job

    client = any_app.test_client()
    html = client.get("/stats").get_data(as_text=True)
    assert 'data-verified="cny_fen">¥0.00<' in html  # nothing verified yet (computed on the spot)
    bring(world, world.pledge(quantity=1_000_000), P.VERIFIED)
    assert 'data-verified="cny_fen">¥0.00<' in client.get("/stats").get_data(as_text=True)  # the snapshot
    stats_job.refresh()
    html = client.get("/stats").get_data(as_text=True)
    assert 'data-verified="cny_fen">¥10,000.00<' in html
    assert html.count("<svg") == 4 and 'data-province="510000000000"' in html
    body = client.get("/api/v1/stats").get_json()
    assert body["verified"]["cny_fen"] == 1_000_000 and body["by_province"][0]["name"] == "四川省"


def test_the_refresh_is_scheduled():
    from villageaid.scheduling import TASKS

    assert TASKS["stats-refresh"][0] == "jobs.stats.refresh"


def test_english_page(world, any_app):
    html = any_app.test_client().get("/stats?lang=en").get_data(as_text=True)
    assert "Statistics" in html and "帮扶统计" not in html
