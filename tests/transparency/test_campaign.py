"""The 10·17 campaign page: the campaign year, the countdown, and verified totals that match the database."""
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select, update

from tests.needs.builders import S, World
from villageaid.campaign import services
from villageaid.extensions import db
from villageaid.needs.models import Need, Unit
from villageaid.timeutil import SHANGHAI, as_utc


@pytest.mark.parametrize("today,year,start,end", [
    (date(2026, 10, 16), 2026, date(2025, 10, 17), date(2026, 10, 16)),
    (date(2026, 10, 17), 2027, date(2026, 10, 17), date(2027, 10, 16)),
    (date(2027, 1, 1), 2027, date(2026, 10, 17), date(2027, 10, 16)),
    (date(2026, 12, 31), 2027, date(2026, 10, 17), date(2027, 10, 16)),
])
def test_the_campaign_year_runs_from_17_october_to_16_october(today, year, start, end):
    period = services.campaign_year(today)
    assert (period.year, period.start, period.end) == (year, start, end)
    # Boundaries are midnight in Beijing, i.e. 16:00 UTC the day before.
    assert period.start_utc == datetime(start.year, start.month, start.day, tzinfo=SHANGHAI).astimezone(timezone.utc)
    assert period.start_utc.hour == 16 and period.end_utc - period.start_utc >= timedelta(days=365)


@pytest.mark.parametrize("now,day,days", [
    (datetime(2026, 10, 16, 23, 59, tzinfo=SHANGHAI), date(2026, 10, 17), 1),
    (datetime(2026, 10, 17, 0, 0, tzinfo=SHANGHAI), date(2026, 10, 17), 0),
    (datetime(2026, 10, 17, 15, 59, tzinfo=timezone.utc), date(2026, 10, 17), 0),  # 23:59 in Beijing: still the day
    (datetime(2026, 10, 17, 16, 0, tzinfo=timezone.utc), date(2027, 10, 17), 364),  # 10-18 00:00 in Beijing
    (datetime(2027, 1, 1, 12, 0, tzinfo=SHANGHAI), date(2027, 10, 17), 289),
])
def test_the_countdown_counts_chinese_days(now, day, days):
    next_day, left, starts_at = services.countdown(now)
    assert (next_day, left) == (day, days)
    assert starts_at == datetime(day.year, day.month, day.day, tzinfo=SHANGHAI)


def _verify(need, amount, published_at):
    """What verified deliveries will do to the denormalised totals, plus a publication date (set-up only)."""
    db.session.execute(update(Need).where(Need.id == need.id).values(delivered=amount, verified=amount,
                                                                    published_at=published_at))
    db.session.commit()


def _expected(period):
    """The totals computed the slow way, row by row in Python."""
    by_unit, needs, villages, people = {u.value: 0 for u in Unit}, 0, set(), 0
    for need in db.session.scalars(select(Need)):
        if need.published_at is None or need.verified <= 0:
            continue
        if not (period.start_utc <= as_utc(need.published_at) < period.end_utc):
            continue
        by_unit[need.unit] += need.verified
        needs += 1
        villages.add(need.village_id)
        people += need.people
    return by_unit, needs, len(villages), people


def test_verified_totals_match_the_database(any_app):
    world = World()
    period = services.campaign_year(date(2026, 5, 1))  # 2025-10-17 .. 2026-10-16
    inside = datetime(2026, 3, 1, 4, 0, tzinfo=timezone.utc)
    first_minute = period.start_utc  # 2025-10-17 00:00 in Beijing
    last_minute = period.end_utc - timedelta(minutes=1)
    funds = [world.need(S.PUBLISHED, title=f"资金需求{i}") for i in range(3)]
    _verify(funds[0], 1_250_050, inside)
    _verify(funds[1], 800_000, first_minute)
    _verify(funds[2], 500_000, last_minute)
    jobs = world.need(S.PUBLISHED, category="employment", unit="jobs", title="扶贫车间缝纫工", target=10, job_title="缝纫工",
                      work_location="昭觉县扶贫车间", job_start_date=date.today() + timedelta(days=40),
                      wage_min_fen=300_000, wage_max_fen=400_000, people=10, households=10, poor_people=5)
    _verify(jobs, 4, inside)
    goods = world.need(S.PUBLISHED, unit="goods", goods_item="棉被", target=200, title="过冬棉被")
    _verify(goods, 150, inside)
    before = world.need(S.PUBLISHED, title="去年的需求")
    _verify(before, 999_900, period.start_utc - timedelta(seconds=1))   # the previous campaign year
    after = world.need(S.PUBLISHED, title="明年的需求")
    _verify(after, 777_700, period.end_utc)                              # 10-17 00:00: the next one
    world.need(S.PUBLISHED, title="尚未核实")                               # nothing verified: not counted

    totals = services.verified_totals(period)
    by_unit, needs, villages, people = _expected(period)
    assert totals.by_unit == by_unit
    assert (totals.needs, totals.villages, totals.people) == (needs, villages, people)
    assert totals["cny_fen"] == 1_250_050 + 800_000 + 500_000 and totals["jobs"] == 4 and totals["goods"] == 150
    assert totals["volunteer_hours"] == 0 and totals.needs == 5 and totals.villages == 1


def test_the_page_counts_down_and_shows_this_years_totals(app, client):
    world = World()
    need = world.need(S.PUBLISHED)
    _verify(need, 1_250_050, datetime.now(timezone.utc) - timedelta(minutes=5))
    period = services.campaign_year()
    html = client.get("/campaign").get_data(as_text=True)
    day, days_left, _starts = services.countdown()
    assert day.isoformat() in html
    assert (f"{days_left} 天" in html) or ("今天是全国扶贫日" in html)
    assert f"{period.start.isoformat()} 至 {period.end.isoformat()}" in html
    assert 'data-total="cny_fen">¥12,500.50<' in html
    assert 'data-count="villages">1<' in html and f'data-count="people">{need.people}<' in html
    assert "campaign.js" in html and "<script>" not in html  # no inline script (CSP)


def test_counts_are_written_with_thousands_separators(app, client):
    need = World().need(S.PUBLISHED, unit="goods", goods_item="棉被", title="过冬棉被", target=20_000)
    _verify(need, 12_345, datetime.now(timezone.utc) - timedelta(minutes=5))
    assert 'data-total="goods">12,345 件<' in client.get("/campaign").get_data(as_text=True)
