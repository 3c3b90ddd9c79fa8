"""Needs built through the same services and lifecycle functions people use."""
from datetime import timedelta

from sqlalchemy import update

from tests import factories
from villageaid.extensions import db
from villageaid.needs import lifecycle, screening, services
from villageaid.needs.models import Need, NeedStatus, pledged_values
from villageaid.timeutil import local_date_today

S = NeedStatus


def values(**overrides):
    """A complete 公益 funds need (¥30,000 for 120 people: under every cap)."""
    base = {
        "category": "charity", "unit": "cny_fen", "title": "村小学冬季取暖用煤",
        "description": "为村小学 120 名学生购买冬季取暖用煤，保障学生冬季正常上课。",
        "target": 3_000_000, "deadline": local_date_today() + timedelta(days=30),
        "households": 60, "people": 120, "poor_people": 40,
    }
    base.update(overrides)
    return base


class World:
    """A verified village in 昭觉县 (四川), its committee member and a Sichuan curator."""

    def __init__(self):
        screening.install_default_rules()
        db.session.commit()
        self.member = factories.user("村委会主任")
        self.village = factories.village(self.member)
        self.curator = factories.curator(factories.SICHUAN)

    def need(self, status=S.DRAFT, **overrides):
        return build(self, status, **overrides)


def build(world, status, **overrides):
    """A need of `world.village` brought to `status` through the lifecycle."""
    status = NeedStatus(status)
    need = services.create_need(world.member, world.village, values(**overrides))
    if status == S.DRAFT:
        return need
    if status == S.WITHDRAWN:
        return lifecycle.withdraw(world.member, need)
    lifecycle.submit(world.member, need)
    if status == S.SUBMITTED:
        return need
    if status == S.REJECTED:
        return lifecycle.reject(world.curator, need, "不符合帮扶政策")
    lifecycle.approve(world.curator, need)
    if status == S.PUBLISHED:
        return need
    if status == S.EXPIRED:
        backdate(need)
        return lifecycle.expire(need)
    if status == S.FULLY_PLEDGED:
        set_pledged(need, need.target)
        lifecycle.on_pledged_total_changed(need)
        db.session.commit()
        return need
    lifecycle.on_delivery_started(need)
    db.session.commit()
    if status == S.IN_DELIVERY:
        return need
    lifecycle.on_completed(need)
    db.session.commit()
    if status == S.COMPLETED:
        return need
    return lifecycle.close(world.curator, need)


def force(need, status):
    """Put a need straight into `status` (test set-up only: the lifecycle never does this)."""
    from villageaid.timeutil import utcnow

    status = NeedStatus(status)
    published = status not in (S.DRAFT, S.SUBMITTED, S.REJECTED, S.WITHDRAWN)
    db.session.execute(update(Need).where(Need.id == need.id).values(
        status=status.value, published_at=utcnow() if published else None))
    db.session.commit()
    db.session.refresh(need)
    return need


def set_pledged(need, amount):
    """What the pledges feature will do: a conditional UPDATE of the total."""
    db.session.execute(update(Need).where(Need.id == need.id).values(**pledged_values(amount)))


def backdate(need, days=1):
    """Move the deadline into the past (as time passing would)."""
    db.session.execute(update(Need).where(Need.id == need.id).values(deadline=local_date_today() - timedelta(days=days)))
    db.session.commit()
    db.session.refresh(need)
