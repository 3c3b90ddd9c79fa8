"""The honor-roll pages through the test client (CSRF on): the public roll in notice and published,
objections, entries with the deliveries behind each figure, certificates, the export, the API, and
the curators' workbench from computing to publishing."""
import io
import re
import subprocess
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, update

from tests.conftest import csrf_token, login, post_form
from tests.honor_roll.builders import World, china
from villageaid.extensions import db
from villageaid.honor_roll import lifecycle as roll
from villageaid.honor_roll.models import HonorRollEdition, HonorRollObjection
from villageaid.timeutil import utcnow


@pytest.fixture
def world(app):
    return World()


def _noticed(world):
    """The 2026 edition in notice, started now (so objections are open)."""
    a, b = world.helper(name="甲企业"), world.helper(kind="ngo", name="乙基金会")
    world.help(a, 2_000_000)
    world.help(a, 6, unit="jobs", retained_3m=5)
    world.help(b, 500_000)
    world.to_notice(utcnow())
    return a, b


def _published(world):
    _noticed(world)
    db.session.execute(update(HonorRollEdition).where(HonorRollEdition.id == world.edition.id)
                       .values(notice_ends_at=utcnow() - timedelta(minutes=1)))
    db.session.commit()
    return roll.publish(world.admin, world.edition)


def test_without_any_public_roll_the_page_says_when_it_comes(client, world):
    page = client.get("/honor-roll")
    assert page.status_code == 200 and "目前还没有公示或发布的光荣榜" in page.text
    assert client.get("/honor-roll/2026").status_code == 404  # a draft is the curators' own
    assert client.get("/api/v1/honor-rolls/2026").status_code == 404


def test_the_notice_draft_is_public_and_takes_objections(client, world):
    _noticed(world)
    page = client.get("/honor-roll")
    assert page.status_code == 200 and "公示名单" in page.text and "甲企业" in page.text and "乙基金会" in page.text
    assert "荣誉证书" not in page.text  # certificates come with publication
    candidate = roll.honored(world.category("enterprise"))[0][1]
    # bad input: a clear message, and nothing typed is lost
    bad = post_form(client, "/honor-roll/2026/objections", {"candidate_id": str(candidate.id), "body": "",
                                                              "name": "张群众", "contact": "13800000000"},
                    page="/honor-roll/2026")
    assert bad.status_code == 400 and "请写明异议的事实和理由" in bad.text and 'value="13800000000"' in bad.text
    done = post_form(client, "/honor-roll/2026/objections", {"candidate_id": str(candidate.id),
                                                               "body": "该企业的岗位未达到三个月。", "name": "张群众",
                                                               "contact": "13800000000"}, page="/honor-roll/2026",
                     follow=True)
    assert done.status_code == 200 and "异议已提交" in done.text and "该企业的岗位未达到三个月。" in done.text
    assert "13800000000" not in done.text and "张群众" not in done.text  # the objector stays private
    objection = db.session.scalar(select(HonorRollObjection))
    assert objection.candidate_id == candidate.id and objection.objector_contact == "13800000000"
    # a candidate's page lists the deliveries behind its figures
    detail = client.get(f"/honor-roll/2026/candidates/{candidate.id}")
    assert detail.status_code == 200 and detail.text.count('data-delivery="') >= 2


def test_the_published_roll_links_every_figure_to_its_deliveries(client, world):
    revision = _published(world)
    page = client.get("/honor-roll/2026")
    assert page.status_code == 200 and "发布于" in page.text and "公示名单" not in page.text
    assert '<meta property="og:title" content="2026年全国扶贫日 万企帮万村光荣榜">' in page.text  # shared on the day
    entry = next(e for e in revision.entries if e.name == "甲企业")
    for figure in ("funds", "jobs", "villages", "beneficiaries"):
        assert f'href="/honor-roll/entries/{entry.code}#{figure}"' in page.text
    detail = client.get(f"/honor-roll/entries/{entry.code}")
    assert detail.status_code == 200
    for d in entry.deliveries:
        assert f"/track/{d.pledge_code}" in detail.text
    assert "¥20,000.00" in detail.text
    assert client.get("/honor-roll").text.count("甲企业") >= 1
    assert client.get(f"/honor-roll/verify?code={entry.code.lower()}").headers["Location"].endswith(
        f"/honor-roll/entries/{entry.code}")
    assert client.get("/honor-roll/entries/HR2026-NOPE00").status_code == 404


def test_the_certificate_names_the_honoree_in_real_chinese_text(client, world, tmp_path):
    revision = _published(world)
    entry = next(e for e in revision.entries if e.name == "甲企业")
    response = client.get(f"/honor-roll/entries/{entry.code}/certificate.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    path = tmp_path / "certificate.pdf"
    path.write_bytes(response.data)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    flat = re.sub(r"\s+", "", text)
    assert "荣誉证书" in flat and "甲企业" in flat and entry.code in flat and "先进民营企业" in flat
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    assert "CJK" in fonts and " yes " in fonts  # a real CJK font, embedded


def test_the_roll_exports_to_xlsx(client, world):
    revision = _published(world)
    response = client.get("/honor-roll/2026/roll.xlsx")
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.data))
    rows = list(workbook["光荣榜"].iter_rows(values_only=True))
    assert rows[0][:3] == ("类别", "名次", "名称")
    names = [r[2] for r in rows[1:]]
    assert names == [e.name for e in revision.entries]
    details = list(workbook["交付明细"].iter_rows(values_only=True))[1:]
    assert len(details) == sum(len(e.deliveries) for e in revision.entries)


def test_the_api_lists_and_returns_rolls_with_their_deliveries(client, world):
    _noticed(world)
    listed = client.get("/api/v1/honor-rolls").get_json()
    assert [(i["year"], i["status"]) for i in listed["items"]] == [(2026, "notice")]
    draft = client.get("/api/v1/honor-rolls/2026").get_json()
    assert all(e["certificate_url"] is None for e in draft["entries"])
    db.session.execute(update(HonorRollEdition).values(notice_ends_at=utcnow() - timedelta(minutes=1)))
    db.session.commit()
    roll.publish(world.admin, world.edition)
    assert client.get("/api/v1/honor-rolls?status=notice").get_json()["items"] == []
    data = client.get("/api/v1/honor-rolls/2026").get_json()
    assert data["status"] == "published" and data["revision"] == 1 and len(data["digest"]) == 64
    # Instants in UTC with their offset (RFC 3339), as the document's date-time says.
    assert all(data[k].endswith("+00:00") for k in ("publish_at", "published_at", "notice_ends_at"))
    assert all(d["verified_at"].endswith("+00:00") for e in data["entries"] for d in e["deliveries"])
    leader = next(e for e in data["entries"] if e["name"] == "甲企业")
    assert leader["organization"]["name"] == "甲企业" and leader["rank"] == 1
    assert leader["funds_fen"] == sum(d["quantity"] for d in leader["deliveries"] if d["unit"] == "cny_fen")
    assert leader["jobs_filled"] == 6 and leader["jobs_retained"] == 5
    assert leader["certificate_url"].endswith(f"/honor-roll/entries/{leader['verification_code']}/certificate.pdf")
    assert client.get("/api/v1/honor-rolls?year=2025").get_json()["items"] == []


def test_the_curators_flow_through_the_workbench(client, world):
    world.help(world.helper(name="甲企业"), 2_000_000)
    world.help(world.helper(name="乙企业"), 1_000_000)
    login(client, world.national.email)
    assert client.get("/curate/honor-roll").status_code == 200
    computed = post_form(client, "/curate/honor-roll/2026/compute", {}, page="/curate/honor-roll/2026", follow=True)
    assert computed.status_code == 200 and "计算完成" in computed.text
    bench = client.get("/curate/honor-roll/2026")
    assert "甲企业" in bench.text and "还没有事迹" in bench.text
    headings = [re.sub(r"<[^>]+>|\s+", " ", h).split() for h in
                re.findall(r"<h3[^>]*data-category-heading>(.*?)</h3>", bench.text, re.S)]
    assert ["先进民营企业", "民营企业"] in headings and ["爱心个人"] in headings, headings  # a kind named once
    first, second = [c for _r, c in roll.honored(world.category("enterprise"))]
    refused = post_form(client, f"/curate/honor-roll/candidates/{first.id}/exclude", {"reason": ""},
                        page="/curate/honor-roll/2026")
    assert refused.status_code == 400 and "请填写理由" in refused.text
    post_form(client, f"/curate/honor-roll/candidates/{first.id}/exclude", {"reason": "交付凭证存疑"},
              page="/curate/honor-roll/2026")
    post_form(client, f"/curate/honor-roll/candidates/{second.id}/citation", {"citation": "援建昭觉县幼儿园。"},
              page="/curate/honor-roll/2026")
    noticed = post_form(client, "/curate/honor-roll/2026/notice", {}, page="/curate/honor-roll/2026", follow=True)
    assert "名单已进入公示" in noticed.text
    db.session.refresh(world.edition)
    assert world.edition.status == "notice"
    public = client.get("/honor-roll/2026").text
    assert "乙企业" in public and "甲企业" not in public  # the exclusion shows at once
    assert client.post("/curate/honor-roll/2026/publish").status_code in (400, 403)  # curators do not publish
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/me")})
    login(client, world.admin.email)
    early = post_form(client, "/curate/honor-roll/2026/publish", {}, page="/curate/honor-roll/2026", follow=True)
    assert "公示期尚未结束" in early.text
    db.session.execute(update(HonorRollEdition).values(notice_ends_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    published = post_form(client, "/curate/honor-roll/2026/publish", {}, page="/curate/honor-roll/2026", follow=True)
    assert "光荣榜已发布" in published.text
    assert "荣誉证书" in client.get("/honor-roll/2026").text


def test_an_organisation_page_shows_its_places_on_published_rolls(client, world):
    a, _b = _noticed(world)
    assert "data-honors" not in client.get(f"/helpers/{a.id}").text  # a roll in 公示 is not an honor yet
    db.session.execute(update(HonorRollEdition).where(HonorRollEdition.id == world.edition.id)
                       .values(notice_ends_at=utcnow() - timedelta(minutes=1)))
    db.session.commit()
    revision = roll.publish(world.admin, world.edition)
    roll.publish_correction(world.admin, world.edition, "更正一处笔误")
    page = client.get(f"/helpers/{a.id}").text
    codes = re.findall(r'data-honor="([^"]+)"', page)
    latest = roll.current_revision(world.edition)
    assert latest.number == revision.number + 1
    # One place per edition, from the latest revision, linking to the entry's page.
    assert codes == [e.code for e in latest.entries if e.organization_id == a.id]
    assert f'href="/honor-roll/entries/{codes[0]}"' in page and "第 1 名" in page
    assert "Honor roll" in client.get(f"/helpers/{a.id}?lang=en").text


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_a_section_names_the_kind_only_where_the_category_does_not(client, world, lang):
    world.help(world.person("王爱心"), 300_000)
    _published(world)
    headings = re.findall(r"<h2 class=\"h4[^\"]*\">(.*?)</h2>", client.get(f"/honor-roll/2026?lang={lang}").text, re.S)
    individuals = [h for h in headings if ("爱心" if lang == "zh_CN" else "Caring") in h]
    assert len(individuals) == 1, headings
    assert "<span" not in individuals[0], individuals[0]  # 爱心个人 is its kind: said once, not twice


def test_english_pages_read_as_english(client, world):
    _published(world)
    page = client.get("/honor-roll/2026?lang=en")
    assert page.status_code == 200 and "Honor roll" in page.text or "honor roll" in page.text.lower()
