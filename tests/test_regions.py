"""Place names come from the division package the region table is loaded from, without a query or a join."""
from sqlalchemy import event, select

from tests import factories
from villageaid.extensions import db
from villageaid.organizations.models import Organization
from villageaid.regions.models import Level, Region
from villageaid.regions.services import division_name
from villageaid.villages.models import Village


def test_every_division_is_named_as_the_region_table_names_it(app):
    table = dict(db.session.execute(select(Region.code, Region.name).where(
        Region.level.in_([Level.PROVINCE, Level.PREFECTURE, Level.COUNTY]))).all())
    assert len(table) > 3000
    assert {code: division_name(code) for code in table} == table
    assert division_name(None) is None and division_name("") is None


def test_a_division_the_package_lacks_is_read_from_the_table(app):
    db.session.add(Region(code="513431100000", name="测试镇", level=Level.TOWNSHIP, parent_code="513431000000"))
    db.session.flush()
    assert division_name("513431100000") == "测试镇"
    assert division_name("999999000000") is None


def test_a_loaded_village_and_organisation_name_their_places_without_a_query(any_app):
    village = factories.village()
    chongqing = factories.village(county="500101000000")
    org = factories.organization()
    db.session.commit()
    ids = village.id, chongqing.id, org.id
    db.session.expunge_all()
    village, chongqing = db.session.get(Village, ids[0]), db.session.get(Village, ids[1])
    org = db.session.get(Organization, ids[2])
    statements = []
    listen = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listen)
    try:
        names = (village.place_name, village.place_names, chongqing.place_name, chongqing.place_names,
                 chongqing.province_name, chongqing.prefecture_name, org.place_name, org.place_names)
    finally:
        event.remove(db.engine, "before_cursor_execute", listen)
    assert statements == []
    assert names[0] == "四川省凉山彝族自治州昭觉县" + village.township_name
    assert names[1] == ["四川省", "凉山彝族自治州", "昭觉县"]
    # A municipality's districts hang from it: 重庆市 is named once.
    assert names[2] == "重庆市万州区" + chongqing.township_name and names[3] == ["重庆市", "万州区"]
    assert (names[4], names[5]) == ("重庆市", None)
    assert names[6] == "浙江省杭州市" and names[7] == ["浙江省", "杭州市"]
