"""The home page's lists of the latest verified villages and organisations, read as rows on both databases."""
from datetime import timedelta

from sqlalchemy import update

from tests import factories
from villageaid.extensions import db
from villageaid.organizations.models import Organization
from villageaid.regions.services import pad
from villageaid.timeutil import utcnow
from villageaid.villages.models import Village

WANZHOU = pad("500101")  # a district of 重庆: no prefecture between it and the municipality


def _verified_at(model, obj, minutes_ago):
    db.session.execute(update(model).where(model.id == obj.id).values(verified_at=utcnow() - timedelta(minutes=minutes_ago)))


def _section(page, heading):
    section = page[page.index(heading):]
    return section[:section.index("</ul>")]


def test_the_home_page_lists_the_six_latest_verified_villages_and_organisations(any_app):
    villages = [factories.village(name=f"第{n}村") for n in range(7)]
    chongqing = factories.village(county=WANZHOU, name="重庆的村")
    pending = factories.village(status="pending", name="待审的村")
    orgs = [factories.organization(name=f"第{n}号企业有限公司") for n in range(6)]
    no_prefecture = factories.organization(province=factories.GUANGDONG, prefecture=None, name="只填了省的企业")
    for minutes, village in enumerate([chongqing] + villages[::-1]):  # 重庆的村 newest, then 第6村 … 第0村
        _verified_at(Village, village, minutes)
    for minutes, org in enumerate([no_prefecture] + orgs[::-1]):
        _verified_at(Organization, org, minutes)
    db.session.commit()
    ids = {v.name: v.id for v in villages + [chongqing, pending]} | {o.name: o.id for o in orgs + [no_prefecture]}
    db.session.remove()

    page = any_app.test_client().get("/").get_data(as_text=True)
    shown = _section(page, "新近认证的贫困村")
    expected = ["重庆的村", "第6村", "第5村", "第4村", "第3村", "第2村"]
    assert [name for name in expected if name in shown] == expected
    assert shown.index("重庆的村") < shown.index("第6村") < shown.index("第2村")
    assert "第1村" not in shown and "待审的村" not in shown
    assert f'href="/villages/{ids["第6村"]}"' in shown
    assert "四川省凉山彝族自治州昭觉县测试镇" in shown
    assert "重庆市万州区测试镇" in shown  # no prefecture named twice, none missing

    shown = _section(page, "新近入驻的帮扶方")
    assert shown.index("只填了省的企业") < shown.index("第5号企业有限公司") < shown.index("第1号企业有限公司")
    assert "第0号企业有限公司" not in shown
    assert f'href="/helpers/{ids["第5号企业有限公司"]}"' in shown
    assert "浙江省杭州市" in shown and "广东省</span>" in shown
