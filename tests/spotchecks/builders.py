"""Verified deliveries to spot-check, and spot checks, built through the same lifecycle functions people use."""
import io
from datetime import timedelta

from PIL import ExifTags, Image
from sqlalchemy import update
from werkzeug.datastructures import FileStorage

from tests import factories
from tests.pledges import builders as pledge_builders
from tests.pledges.builders import D, P, S, bring, delivery_in  # noqa: F401  (re-exported for the tests)
from villageaid.extensions import db
from villageaid.pledges.models import Delivery
from villageaid.spotchecks import lifecycle
from villageaid.timeutil import local_date_today

YEAR_AGO = timedelta(days=365)


class World(pledge_builders.World):
    """The pledges world (a village in 昭觉县, Sichuan, its member, a Sichuan curator, an enterprise and a
    donor) plus a village in 镇雄县, Yunnan, with its own member and a Yunnan curator."""

    def __init__(self):
        super().__init__()
        self.far_member = factories.user("镇雄村委会主任")
        self.far_village = factories.village(self.far_member, county=factories.ZHENXIONG)
        self.far_curator = factories.curator(factories.YUNNAN)
        self._big_need = None

    def big_need(self):
        """One published ¥900,000 need of the Sichuan village that many pledges fit into."""
        if self._big_need is None:
            self._big_need = self.published(target=90_000_000, title="村集体产业发展资金")
        return self._big_need

    def verified(self, n=1, *, need=None, quantity=100_000, days_ago=0):
        """`n` verified deliveries, one pledge each, delivered `days_ago` days ago (set-up: a backdate)."""
        need = need or self.big_need()
        deliveries = [delivery_in(self, D.VERIFIED, self.pledge(need, quantity)) for _ in range(n)]
        if days_ago:
            backdate(deliveries, days_ago)
        return deliveries

    def far_verified(self, n=1, quantity=100_000):
        """`n` verified deliveries to the Yunnan village (its own need, its own curator)."""
        from tests.needs import builders as need_builders

        need = need_builders.services.create_need(self.far_member, self.far_village,
                                                  need_builders.values(title="镇雄村小学取暖", target=9_000_000))
        need_builders.lifecycle.submit(self.far_member, need)
        need_builders.lifecycle.approve(self.far_curator, need)
        out = []
        for _ in range(n):
            pledge = self.pledge(need, quantity)
            pledge_builders.lifecycle.accept(self.far_member, pledge)
            delivery = self.deliver(pledge)
            pledge_builders.lifecycle.confirm(self.far_member, delivery)
            pledge_builders.lifecycle.verify(self.far_curator, delivery)
            out.append(delivery)
        return out

    def draw(self, size=5, seed=20261017, region=factories.SICHUAN, by=None, start=None, end=None):
        today = local_date_today()
        return lifecycle.draw(by or self.curator, region, start or today - YEAR_AGO, end or today, size, seed)


def backdate(deliveries, days):
    """Move deliveries' dates into the past (as time passing would)."""
    ids = [d.id for d in deliveries]
    db.session.execute(update(Delivery).where(Delivery.id.in_(ids))
                       .values(delivered_on=local_date_today() - timedelta(days=days)))
    db.session.commit()
    for delivery in deliveries:
        db.session.refresh(delivery)


def gps_photo(name="走访.jpg"):
    """A JPEG carrying a camera model and a GPS position in its EXIF, as a phone's photo does."""
    image = Image.new("RGB", (300, 200), (30, 120, 60))
    exif = image.getexif()
    exif[ExifTags.Base.Model] = "VillagePhone 3"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef], gps[ExifTags.GPS.GPSLatitude] = "N", (28.0, 1.0, 12.5)
    raw = io.BytesIO()
    image.save(raw, "JPEG", exif=exif)
    assert b"VillagePhone" in raw.getvalue()
    raw.seek(0)
    return FileStorage(stream=raw, filename=name, content_type="image/jpeg")


def spot_check_of(world):
    """The security matrix's spot check: the Sichuan curator draws one of the verified deliveries of
    the matrix's published need (made verified here first)."""
    from sqlalchemy import select

    from villageaid.spotchecks.models import SpotCheck

    existing = db.session.scalar(select(SpotCheck))
    if existing is not None:
        return existing
    delivery = pledge_builders.delivery_of(world, D.CONFIRMED)
    pledge_builders.lifecycle.verify(world.user("curator"), delivery)
    today = local_date_today()
    return lifecycle.draw(world.user("curator"), factories.SICHUAN, today - YEAR_AGO, today, 3, 7)


def item_of(world):
    return spot_check_of(world).items[0]


def draw_form(**overrides):
    today = local_date_today()
    return {"province": factories.SICHUAN, "prefecture": "", "county": "", "period_start": (today - YEAR_AGO).isoformat(),
            "period_end": today.isoformat(), "sample_size": "3", "seed": "42", **overrides}


def result_form(**overrides):
    return {"result": "discrepancy", "visited_on": local_date_today().isoformat(),
            "notes": "走访核对：村集体账户只收到一半款项。", **overrides}


def draw_url(world):
    """The draw form's URL, once the security matrix's world has a verified delivery to draw."""
    if not db.session.scalar(select_verified()):
        delivery = pledge_builders.delivery_of(world, D.CONFIRMED)
        pledge_builders.lifecycle.verify(world.user("curator"), delivery)
    return "/curate/spot-checks/new"


def select_verified():
    from sqlalchemy import select

    return select(Delivery.id).where(Delivery.status == D.VERIFIED.value).limit(1)


def recorded_check_of(world):
    """The matrix's spot check with every visit recorded (found as recorded), ready to close."""
    spot_check = spot_check_of(world)
    for item in spot_check.items:
        if item.is_pending:
            lifecycle.record_result(world.user("curator"), item, "confirmed", None, local_date_today())
    return spot_check

