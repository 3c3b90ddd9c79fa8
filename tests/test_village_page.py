"""The public village page: its pairing partners and a readable record of its verification."""
from villageaid.curation import services as curation
from villageaid.regions import pairing

from .factories import curator, organization, village

ZHAOJUE_PREFECTURE = "凉山彝族自治州"


def test_pairing_table_names_prefecture_partners_before_province_wide_ones(app):  # the table is in the database
    partners = pairing.partners_of("四川省", ZHAOJUE_PREFECTURE)
    assert partners, "Liangshan is paired in the 2016 table"
    assert all(p.helped_province == "四川省" for p in partners)
    assert all(p.helped_prefecture in (None, ZHAOJUE_PREFECTURE) for p in partners)
    assert pairing.partners_of("浙江省") == []  # an eastern province helps; nobody helps it


def test_village_page_lists_partners_with_verified_helpers_there(app, client):
    from villageaid.extensions import db

    place = village()
    row = pairing.partners_of(place.province.name, place.prefecture.name)[0]
    region = pairing.helper_region(row)
    assert region is not None, f"{row.helper_name} resolves to a region"
    province_code = region.code if region.parent_code is None else region.parent_code
    prefecture_code = None if region.parent_code is None else region.code
    helper = organization(province=province_code, prefecture=prefecture_code, name="结对帮扶测试有限公司")
    pending = organization(status="pending", province=province_code, prefecture=prefecture_code, name="尚未认证测试有限公司")
    db.session.commit()

    page = client.get(f"/villages/{place.id}").get_data(as_text=True)
    assert row.helper_name in page
    assert helper.name in page and f"/helpers/{helper.id}" in page
    assert pending.name not in page


def test_village_record_shows_decisions_in_words_not_codes(app, client):
    from villageaid.extensions import db

    place = village(status="pending")
    curation.decide(curator(), place, "verified")
    db.session.commit()
    page = client.get(f"/villages/{place.id}").get_data(as_text=True)
    assert "审核通过，已认证" in page
    assert "· verified" not in page
