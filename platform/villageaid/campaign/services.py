"""The campaign year and its verified totals.

A campaign year runs from 17 October (全国扶贫日) to the next 16 October, in China's dates: the year
that ends on 16 October 2027 is "the 2027 campaign". Its totals count only verified help.

For now they come from the totals denormalised on each need (`need.verified`, by unit), for needs
first published within the campaign year. Once verified deliveries carry their own verification
dates (the pledges feature), `verified_totals()` sums those deliveries by their verification date
instead — the one place to change; the page and its tests keep their shape.
"""
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import distinct, func, select

from ..extensions import db
from ..needs.models import Need, Unit
from ..timeutil import SHANGHAI, local_date_today
from ..web import next_poverty_day


@dataclass(frozen=True)
class CampaignYear:
    year: int    # the year whose 17 October closes it
    start: date  # 17 October of the year before
    end: date    # 16 October, inclusive

    @property
    def start_utc(self):
        """The instant the year begins, 17 October 00:00 in China, in UTC (as the database stores time)."""
        return datetime.combine(self.start, time.min, SHANGHAI).astimezone(timezone.utc)

    @property
    def end_utc(self):
        """The instant the year ends (exclusive): the next 17 October 00:00 in China, in UTC."""
        return datetime.combine(self.end + timedelta(days=1), time.min, SHANGHAI).astimezone(timezone.utc)


def campaign_year(today=None):
    """The campaign year `today` (a Chinese date) belongs to; 17 October opens a new one."""
    today = today or local_date_today()
    year = today.year + 1 if (today.month, today.day) >= (10, 17) else today.year
    return CampaignYear(year, date(year - 1, 10, 17), date(year, 10, 16))


def countdown(now=None):
    """(the next 17 October, whole days to go, the instant it begins as an aware datetime)."""
    now = (now or datetime.now(SHANGHAI)).astimezone(SHANGHAI)
    day = next_poverty_day(now.date())
    return day, (day - now.date()).days, datetime.combine(day, time.min, SHANGHAI)


@dataclass(frozen=True)
class Totals:
    by_unit: dict  # unit value → verified total in that unit (fen, positions, pieces, hours)
    needs: int     # needs with verified help
    villages: int  # villages with verified help
    people: int    # beneficiaries of those needs

    def __getitem__(self, unit):
        return self.by_unit.get(Unit(unit).value, 0)


def verified_totals(period):
    """Verified help in `period` (a CampaignYear), by unit, straight from the database.

    Needs first published within the year, with their denormalised `verified` totals. Verified
    deliveries will take over here: SUM(delivery quantity) by unit WHERE delivery verified within
    [period.start_utc, period.end_utc).
    """
    in_year = (Need.published_at >= period.start_utc, Need.published_at < period.end_utc, Need.verified > 0)
    rows = db.session.execute(select(Need.unit, func.sum(Need.verified)).where(*in_year).group_by(Need.unit)).all()
    by_unit = {unit.value: 0 for unit in Unit}
    by_unit.update({unit: int(total) for unit, total in rows})
    needs, villages, people = db.session.execute(
        select(func.count(), func.count(distinct(Need.village_id)), func.coalesce(func.sum(Need.people), 0))
        .where(*in_year)).one()
    return Totals(by_unit, needs, villages, int(people))
