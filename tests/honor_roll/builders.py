"""Honor-roll worlds: verified deliveries by enterprises, NGOs and individuals, placed in time."""
from datetime import datetime, timedelta, timezone

from sqlalchemy import update

from tests import factories
from tests.pledges.builders import World as PledgeWorld
from tests.pledges.builders import pledge_values
from villageaid.extensions import db
from villageaid.honor_roll import lifecycle as roll
from villageaid.needs.models import NeedStatus
from villageaid.pledges import lifecycle
from villageaid.pledges.models import Delivery
from villageaid.timeutil import SHANGHAI, local_date_today

YEAR = 2026
# Inside the 2026 edition's period (2025-10-17 .. 2026-10-16 in China).
IN_PERIOD = datetime(2026, 3, 1, 4, 0, tzinfo=timezone.utc)


def china(y, m, d, hh=0, mm=0, ss=0):
    """An instant given in China's time, as an aware datetime."""
    return datetime(y, m, d, hh, mm, ss, tzinfo=SHANGHAI)


class World(PledgeWorld):
    """The pledges world (village, Sichuan curator, verified enterprise and a donor) plus an admin,
    a national curator and the 2026 edition."""

    def __init__(self, year=YEAR):
        super().__init__()
        self.admin = factories.admin()
        self.national = factories.curator()
        self.edition = roll.create_edition(self.admin, year)
        self.year = year

    def category(self, kind):
        return next(c for c in self.edition.categories if c.honoree_kind == kind)

    def helper(self, kind="enterprise", status="verified", name=None):
        return factories.organization(factories.user(), kind=kind, status=status, name=name)

    def person(self, name, consent=True):
        user = factories.user(name)
        user.public_name_consent = consent
        db.session.commit()
        return user

    def help(self, who, quantity=1_000_000, *, verified_at=IN_PERIOD, unit="cny_fen", category="charity",
             poor_people=40, anonymous=False, retained_3m=None, need=None, status="verified"):
        """A delivery of `quantity` by `who` (an Organization or a User) to a fresh need, verified at `verified_at`."""
        if need is None:
            extra = {"unit": unit, "category": category, "poor_people": poor_people, "people": max(120, poor_people),
                     "target": max(quantity, 3_000_000) if unit == "cny_fen" else max(quantity, 20)}
            if unit == "jobs":
                extra.update(category="employment", job_title="缝纫工", wage_min_fen=300_000, wage_max_fen=400_000,
                             work_location="西昌市", title="扶贫车间缝纫工", job_start_date=local_date_today() + timedelta(days=30))
            if unit == "goods":
                extra.update(goods_item="棉被", title="过冬棉被")
            need = self.need(NeedStatus.PUBLISHED, **extra)
        if hasattr(who, "credit_code"):
            actor, values = who.memberships[0].user, {"organization_id": who.id}
            if unit == "jobs":
                values.update(job_title="缝纫工", wage_fen=320_000, work_location="西昌市")
        else:
            actor, values = who, {"anonymous": anonymous}
        pledge, _created = lifecycle.make_pledge(actor, need, pledge_values(quantity, **values))
        lifecycle.accept(self.member, pledge)
        # Delivered today (a delivery cannot predate its pledge); the verification instant is then placed in time.
        delivery = lifecycle.report_delivery(actor, pledge, {"quantity": quantity, "delivered_on": local_date_today(),
                                                             "note": "已交付"})
        if status in ("confirmed", "verified"):
            lifecycle.confirm(self.member, delivery)
        if status == "verified":
            lifecycle.verify(self.curator, delivery)
            at_(delivery, verified_at)
        if retained_3m is not None:
            db.session.execute(update(Delivery).where(Delivery.id == delivery.id).values(retained_3m=retained_3m))
            db.session.commit()
        return delivery

    def compute(self, by=None):
        """Run the candidates job (inline on the embedded default) and return the edition."""
        roll.start_computation(by or self.national, self.edition)
        db.session.refresh(self.edition)
        return self.edition

    def cite_all(self, by=None):
        for _category, rows in roll.standings(self.edition):
            for _rank, candidate in rows:
                if not candidate.citation:
                    roll.set_citation(by or self.national, candidate, f"{candidate.name}长期帮扶凉山州贫困村。")

    def to_notice(self, now):
        self.compute()
        self.cite_all()
        return roll.start_notice(self.national, self.edition, now=now)

    def publish(self, now=None):
        start = now or china(YEAR, 10, 1)
        self.to_notice(start)
        return roll.publish(self.admin, self.edition, now=start + timedelta(days=self.edition.notice_days))


def at_(delivery, instant):
    """Set when a delivery was verified (test set-up: time passing, not a lifecycle step)."""
    # In UTC, as the app stores every instant (SQLite keeps a datetime's digits, not its zone).
    db.session.execute(update(Delivery).where(Delivery.id == delivery.id)
                       .values(decided_at=instant.astimezone(timezone.utc)))
    db.session.commit()
    db.session.refresh(delivery)
