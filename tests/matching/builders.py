"""Places, needs and organisations for the matching tests, built through the same services people use."""
from datetime import timedelta

from sqlalchemy import update

from tests import factories
from tests.needs.builders import values
from villageaid.extensions import db
from villageaid.needs import lifecycle, screening, services
from villageaid.needs.models import Need, pledged_values
from villageaid.regions.services import pad
from villageaid.timeutil import local_date_today

# Counties in the western places of the 2016 table, and one outside it.
ZHAOJUE = factories.ZHAOJUE        # 四川省凉山彝族自治州昭觉县 (浙江省 helps 四川省; 佛山市 helps 凉山)
ENSHI = pad("422801")              # 湖北省恩施土家族苗族自治州恩施市 (杭州市 helps 恩施)
KAILI = pad("522601")              # 贵州省黔东南苗族侗族自治州凯里市 (杭州市 helps 黔东南)
ZHENXIONG = factories.ZHENXIONG    # 云南省昭通市镇雄县 (上海市 helps 云南省; 中山、东莞 help 昭通)
YANJI = pad("222401")              # 吉林省延边朝鲜族自治州延吉市 (宁波市 helps 延边)
HUOQIU = pad("341522")             # 安徽省六安市霍邱县 (华东, not in the table)


def job_fields(**overrides):
    """What an employment need for 20 sewing jobs adds to `values()`."""
    fields = {"category": "employment", "unit": "jobs", "title": "扶贫车间缝纫工", "target": 20,
              "description": "家门口就业，计件工资，需要企业提供订单和技术指导。", "job_title": "缝纫工",
              "work_location": "本村扶贫车间", "wage_min_fen": 260_000, "wage_max_fen": 350_000,
              "job_start_date": local_date_today() + timedelta(days=30)}
    fields.update(overrides)
    return fields


class Places:
    """Verified villages in several places, each with its committee member, and a national curator."""

    def __init__(self):
        screening.install_default_rules()
        db.session.commit()
        self.curator = factories.curator()  # national
        self.villages = {}

    def village(self, county, name=None):
        key = (county, name)
        if key not in self.villages:
            member = factories.user()
            self.villages[key] = factories.village(member, county=county, name=name)
        return self.villages[key]

    def need(self, county, *, village_name=None, days=60, pledged=0, **overrides):
        """A published need in a village of `county`, `days` before its deadline, with `pledged` already pledged."""
        village = self.village(county, village_name)
        member = village.members[0].user
        need = services.create_need(member, village, values(deadline=local_date_today() + timedelta(days=days), **overrides))
        lifecycle.submit(member, need)
        lifecycle.approve(self.curator, need)
        if pledged:
            db.session.execute(update(Need).where(Need.id == need.id).values(**pledged_values(pledged)))
            db.session.commit()
            db.session.refresh(need)
        return need


# For the security matrix: objects of its World (a village in 昭觉县, its published need, an organisation) --

PLAN = "每年为村里提供 20 个就业岗位，并采购村合作社的花椒和核桃。"


def invitation_of(world):
    """The world's organisation invited to its published need (made once per world)."""
    from villageaid.matching import lifecycle as matching

    if not hasattr(world, "invitation"):
        world.invitation = matching.invite(world.user("village_member"), world.published, world.org)
    return world.invitation


def pairing_of(world, status="proposed"):
    """A pairing the world's organisation proposed to its village, brought to `status` (made once per world)."""
    from villageaid.matching import lifecycle as matching

    if not hasattr(world, "pairing"):
        world.pairing = matching.propose_pairing(world.user("org_owner"), world.org, world.village, plan=PLAN,
                                                 start_date=local_date_today())
        if status == "active":
            matching.accept_pairing(world.user("village_member"), world.pairing)
    return world.pairing
