"""Posting, editing and reviewing needs through the pages: who may, what is kept, what is shown."""
import io
import re
from datetime import timedelta

import pytest
from PIL import ExifTags, Image
from sqlalchemy import select

from tests import factories
from tests.conftest import login, post_form
from tests.needs.builders import S, World
from villageaid.errors import PermissionDenied
from villageaid.extensions import db
from villageaid.needs import photos, services
from villageaid.needs.models import Need, NeedPhoto
from villageaid.timeutil import local_date_today


def form_data(**overrides):
    data = {
        "category": "charity", "unit": "cny_fen", "title": "村小学冬季取暖用煤",
        "description": "为村小学 120 名学生购买冬季取暖用煤，保障冬季正常上课。", "target": "36000.50",
        "deadline": (local_date_today() + timedelta(days=40)).isoformat(),
        "households": "60", "people": "120", "poor_people": "40", "action": "save",
    }
    data.update(overrides)
    return data


def jpeg(size=(64, 48), gps=False, orientation=None, fmt="JPEG"):
    image = Image.new("RGB", size, (200, 30, 30))
    exif = image.getexif()
    exif[ExifTags.Base.Model] = "VillagePhone 3"
    if orientation:
        exif[ExifTags.Base.Orientation] = orientation
    if gps:
        ifd = exif.get_ifd(ExifTags.IFD.GPSInfo)
        ifd[ExifTags.GPS.GPSLatitudeRef] = "N"
        ifd[ExifTags.GPS.GPSLatitude] = (28.0, 1.0, 12.5)
        ifd[ExifTags.GPS.GPSLongitudeRef] = "E"
        ifd[ExifTags.GPS.GPSLongitude] = (102.0, 50.0, 44.0)
    out = io.BytesIO()
    image.save(out, fmt, exif=exif)
    return out.getvalue()


@pytest.fixture
def world(app):
    return World()


def test_village_saves_a_draft_in_yuan_and_submits_it(world, client):
    login(client, world.member.email)
    response = post_form(client, "/needs/new", form_data())
    assert response.status_code == 302
    need = db.session.scalar(select(Need))
    assert (need.status, need.target, need.on_behalf) == (S.DRAFT, 3_600_050, False)
    assert client.get(f"/needs/{need.id}").status_code == 200
    response = post_form(client, f"/needs/{need.id}/edit", form_data(title="村小学冬季取暖用煤 40 吨", action="submit"))
    assert response.status_code == 302
    db.session.refresh(need)
    assert need.status == S.SUBMITTED and need.title == "村小学冬季取暖用煤 40 吨"
    # Submitted: no longer editable.
    assert client.get(f"/needs/{need.id}/edit").status_code == 403


@pytest.mark.parametrize(("overrides", "field_text"), [
    ({"target": "12.345"}, "最多两位小数"),
    ({"target": "abc"}, "请输入金额"),
    ({"unit": "jobs", "target": "3.5"}, "请输入整数"),
    ({"people": "10", "households": "20"}, "受益人数不能少于受益户数"),
    ({"deadline": local_date_today().isoformat()}, "截止日期应晚于今天"),
    ({"unit": "jobs", "target": "5", "wage_min": "5000", "wage_max": "3000"}, "最高工资不能低于最低工资"),
])
def test_bad_values_are_reported_by_their_field(world, client, overrides, field_text):
    login(client, world.member.email)
    response = post_form(client, "/needs/new", form_data(**overrides))
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and field_text in html
    assert 'value="村小学冬季取暖用煤"' in html  # what was typed is kept
    assert db.session.scalar(select(Need)) is None


def test_submitting_an_incomplete_draft_saves_it_and_says_what_is_missing(world, client):
    login(client, world.member.email)
    response = post_form(client, "/needs/new", form_data(unit="jobs", target="10", action="submit"))
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "草稿已保存，但还不能提交" in html and "请填写岗位名称" in html and "请填写工作地点" in html
    need = db.session.scalar(select(Need))
    assert need.status == S.DRAFT and f'action="/needs/{need.id}/edit"' in html


def test_only_the_village_or_a_curator_of_its_region_edits(world, client):
    draft = world.need(S.DRAFT)
    published = world.need(S.PUBLISHED, title="村道太阳能路灯")
    stranger = factories.user()
    other_member = factories.village().members[0].user
    far_curator = factories.curator(factories.ZHEJIANG)
    for user in (stranger, other_member, far_curator):
        login(client, user.email)
        assert client.get(f"/needs/{draft.id}/edit").status_code == 404  # a draft is not even visible
        assert client.get(f"/needs/{published.id}/edit").status_code == 403
        with pytest.raises(PermissionDenied):
            services.update_need(user, draft, services.current_values(draft))
        client.post("/auth/logout", data={"csrf_token": ""})
        client.delete_cookie("session")
    login(client, world.curator.email)
    response = post_form(client, f"/needs/{draft.id}/edit", form_data(title="村小学取暖用煤（审核员修改）"))
    assert response.status_code == 302
    db.session.refresh(draft)
    assert draft.title == "村小学取暖用煤（审核员修改）"


def test_curator_posts_on_behalf_of_a_village(world, client):
    login(client, world.curator.email)
    page = f"/needs/new?village={world.village.id}"
    html = client.get(page).get_data(as_text=True)
    assert world.village.name in html and "代发布" in html
    response = post_form(client, page, form_data(village_id=str(world.village.id)))
    assert response.status_code == 302
    need = db.session.scalar(select(Need))
    assert need.on_behalf and need.posted_by_id == world.curator.id
    assert "代发布" in client.get(f"/needs/{need.id}").get_data(as_text=True)
    # A curator elsewhere cannot.
    far = factories.curator(factories.ZHEJIANG)
    client.delete_cookie("session")
    login(client, far.email)
    assert client.get(page).status_code == 403


def test_someone_without_a_village_is_told_how_to_post(app, client):
    user = factories.user()
    login(client, user.email)
    response = client.get("/needs/new")
    assert response.status_code == 403 and "贫困村登记" in response.get_data(as_text=True)


# Photos ------------------------------------------------------------------------------------

def test_upload_strips_exif_and_gps_and_makes_a_thumbnail(world, client):
    original = jpeg(size=(80, 40), gps=True, orientation=6)
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(ExifTags.IFD.GPSInfo)  # the test image has GPS
    login(client, world.member.email)
    response = post_form(client, "/needs/new", form_data(photos=[(io.BytesIO(original), "IMG_0001.jpg")]))
    assert response.status_code == 302
    photo = db.session.scalar(select(NeedPhoto))
    stored = photos.path_of(photo)
    data = stored.read_bytes()
    with Image.open(stored) as image:
        assert image.format == "JPEG"
        assert not image.getexif() and "exif" not in image.info
        assert image.size == (40, 80)  # turned upright before the orientation tag was dropped
    assert b"Exif" not in data and b"VillagePhone" not in data
    # The thumbnail job ran after the commit (in-process on the embedded default).
    db.session.refresh(photo)
    assert photo.thumbnail and photos.path_of(photo, thumbnail=True).exists()
    # Served through the need's visibility check: the member sees the draft's photo, a visitor does not.
    need_id = photo.need_id
    with client.get(f"/needs/{need_id}/photos/{photo.id}") as served:
        assert served.status_code == 200 and served.mimetype == "image/jpeg" and b"Exif" not in served.data
        assert served.headers["Cache-Control"] == "private, no-store"
    with client.get(f"/needs/{need_id}/photos/{photo.id}/thumb") as served:
        assert served.status_code == 200
    client.delete_cookie("session")
    assert client.get(f"/needs/{need_id}/photos/{photo.id}").status_code == 404


@pytest.mark.parametrize(("payload", "name", "message"), [
    (b"%PDF-1.4 not a picture at all", "scan.jpg", "不是可识别的图片"),
    (b"GIF89a" + b"\x00" * 40, "anim.gif", "不是可识别的图片"),
    (None, "photo.bmp", "不是 JPEG、PNG 或 WebP 图片"),
])
def test_non_images_are_refused_by_content_and_the_form_is_kept(world, client, payload, name, message):
    if payload is None:
        payload = jpeg(fmt="BMP")
    login(client, world.member.email)
    response = post_form(client, "/needs/new", form_data(title="村卫生室设备", photos=[(io.BytesIO(payload), name)]))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert message in html and name in html
    assert 'value="村卫生室设备"' in html and "为村小学 120 名学生" in html
    assert db.session.scalar(select(Need)) is None and db.session.scalar(select(NeedPhoto)) is None


def test_oversize_files_are_refused(world, client, app):
    # A small cap keeps the upload under the test client's 500 KB spooling threshold (it leaks that temp file).
    app.config["NEED_PHOTO_MAX_BYTES"] = 100 * 1024
    big = Image.effect_noise((300, 300), 120).convert("RGB")
    out = io.BytesIO()
    big.save(out, "PNG")
    assert 100 * 1024 < out.tell() < 500 * 1024
    login(client, world.member.email)
    response = post_form(client, "/needs/new", form_data(photos=[(io.BytesIO(out.getvalue()), "huge.png")]))
    assert response.status_code == 200 and "超过 100 KB" in response.get_data(as_text=True)
    assert db.session.scalar(select(Need)) is None


def test_at_most_six_photos_and_removing_some(world, client):
    login(client, world.member.email)
    files = [(io.BytesIO(jpeg()), f"p{i}.jpg") for i in range(7)]
    response = post_form(client, "/needs/new", form_data(photos=files))
    assert "最多 6 张照片" in response.get_data(as_text=True)
    response = post_form(client, "/needs/new", form_data(photos=[(io.BytesIO(jpeg()), f"p{i}.jpg") for i in range(6)]))
    need = db.session.scalar(select(Need))
    assert len(need.photos) == 6
    gone = need.photos[0]
    gone_path = photos.path_of(gone)
    response = post_form(client, f"/needs/{need.id}/edit", form_data(remove_photos=[str(gone.id)],
                                                                     photos=[(io.BytesIO(jpeg()), "new.jpg")]))
    assert response.status_code == 302
    db.session.refresh(need)
    assert len(need.photos) == 6 and gone.id not in [p.id for p in need.photos] and not gone_path.exists()


# What the page shows -------------------------------------------------------------------------

def test_a_description_with_script_renders_inert(world, client):
    need = world.need(S.PUBLISHED, description="**粗体** <script>alert('x')</script> [点我](javascript:alert(1)) "
                                               "<img src=x onerror=alert(2)> [官网](https://example.cn)")
    html = client.get(f"/needs/{need.id}").get_data(as_text=True)
    body = html.split('class="va-description', 1)[1].split("</div>", 1)[0]
    assert "<strong>粗体</strong>" in body
    assert "<script>alert" not in body and "&lt;script&gt;" in body
    assert "javascript:" not in re.sub(r"\[点我\]\(javascript:alert\(1\)\)", "", body)
    assert "<img" not in body and 'href="https://example.cn"' in body and 'rel="nofollow noopener noreferrer"' in body
    assert "<script>alert" not in html


def test_visitors_see_published_needs_only(world, client):
    draft, submitted = world.need(S.DRAFT), world.need(S.SUBMITTED, title="村卫生室设备")
    rejected = world.need(S.REJECTED, title="村道硬化工程")
    published = world.need(S.PUBLISHED, title="村道太阳能路灯")
    for need in (draft, submitted, rejected):
        assert client.get(f"/needs/{need.id}").status_code == 404
    html = client.get(f"/needs/{published.id}").get_data(as_text=True)
    assert "村道太阳能路灯" in html and "审核通过，公开发布" in html and "提交审核" not in html
    assert "分享链接" in html and f"http://localhost/needs/{published.id}" in html
    assert 'data-action="' not in html  # a visitor has no buttons


def test_review_from_the_queue(world, client):
    flagged = world.need(S.SUBMITTED, title="为贫困户购买苹果手机", category="consumption")
    plain = world.need(S.SUBMITTED, title="村卫生室基本医疗设备")
    login(client, world.curator.email)
    html = client.get("/curate/needs").get_data(as_text=True)
    assert html.count('data-queue="need"') == 2 and "出现品牌或奢侈品名称" in html and "苹果手机" in html
    response = post_form(client, f"/needs/{flagged.id}/reject", {"reason": "", "next": "review"}, page="/curate/needs",
                         follow=True)
    assert "请填写理由" in response.get_data(as_text=True)
    post_form(client, f"/needs/{flagged.id}/send-back", {"reason": "请不要指定品牌，写明用途", "next": "review"},
              page="/curate/needs")
    post_form(client, f"/needs/{plain.id}/approve", {"next": "review"}, page="/curate/needs")
    db.session.refresh(flagged)
    db.session.refresh(plain)
    assert (flagged.status, plain.status) == (S.DRAFT, S.PUBLISHED)
    # The village sees the outcome and the comment.
    client.delete_cookie("session")
    login(client, world.member.email)
    html = client.get(f"/needs/{flagged.id}").get_data(as_text=True)
    assert "审核员的修改意见" in html and "请不要指定品牌，写明用途" in html
    assert "请不要指定品牌，写明用途" in client.get(f"/needs/{flagged.id}/edit").get_data(as_text=True)
    inbox = client.get("/me/inbox").get_data(as_text=True)
    assert "需求需要修改" in inbox and "需求已发布" in inbox


def test_the_review_queue_is_for_curators_of_the_region(world, client):
    world.need(S.SUBMITTED)
    member = factories.user()
    login(client, member.email)
    assert client.get("/curate/needs").status_code == 403
    client.delete_cookie("session")
    far = factories.curator(factories.ZHEJIANG)
    login(client, far.email)
    assert 'data-queue="need"' not in client.get("/curate/needs").get_data(as_text=True)
    need = db.session.scalar(select(Need))
    assert post_form(client, f"/needs/{need.id}/approve", {}, page="/curate/needs").status_code == 404


def test_village_withdraws_from_the_page(world, client):
    need = world.need(S.PUBLISHED)
    login(client, world.member.email)
    response = post_form(client, f"/needs/{need.id}/withdraw", {"reason": "村里已自筹解决"}, page=f"/needs/{need.id}",
                         follow=True)
    assert "需求已撤回" in response.get_data(as_text=True)
    db.session.refresh(need)
    assert need.status == S.WITHDRAWN
    # Wrong state: a second withdrawal is refused with the reason, not a crash.
    response = post_form(client, f"/needs/{need.id}/withdraw", {}, page=f"/needs/{need.id}", follow=True)
    assert "不能执行此操作" in response.get_data(as_text=True)


def test_screening_rules_page(world, client):
    login(client, world.curator.email)
    html = client.get("/curate/screening").get_data(as_text=True)
    assert "品牌和奢侈品" in html and "公益资金人均上限" in html
    response = post_form(client, "/curate/screening", {"kind": "keywords", "name": "保健品", "category": "",
                                                       "unit": "", "words": "保健品\n营养品", "reason": "出现保健品",
                                                       "active": "y"})
    assert response.status_code == 302
    need = world.need(S.SUBMITTED, title="给老人购买保健品", category="consumption")
    assert [f.reason for f in need.flags] == ["出现保健品"]
    client.delete_cookie("session")
    login(client, world.member.email)
    assert client.get("/curate/screening").status_code == 403
