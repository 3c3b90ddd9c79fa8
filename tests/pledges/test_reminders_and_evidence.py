"""The reminder job (reminders, lapses, idempotent across runs) and delivery evidence (upload rules, duplicates)."""
from datetime import timedelta

import pytest
from PIL import Image
from sqlalchemy import func, select, update

from tests.pledges.builders import D, P, S, World, backdate_promise, bring, photo
from villageaid import scheduling
from villageaid.errors import ServiceError
from villageaid.extensions import db
from villageaid.notifications.models import Notification
from villageaid.pledges import evidence, reminders, services
from villageaid.pledges.models import Delivery, Pledge, Reminder
from villageaid.timeutil import local_date_today, utcnow


def subjects(user):
    return db.session.scalars(select(Notification.subject).where(Notification.user_id == user.id)
                              .order_by(Notification.id)).all()


def test_due_overdue_and_lapse_in_order_each_once(app):
    world = World()
    need = world.published(target=3_000_000)
    pledge = bring(world, world.pledge(need, 3_000_000), P.ACCEPTED)
    assert need.status == S.FULLY_PLEDGED
    today = local_date_today()
    promised = pledge.promised_on

    # Nothing is due three weeks ahead.
    assert reminders.sweep(today=today)["due"] == 0
    # Three days before the promised date: the pledger is reminded, once however often the job runs.
    for _ in range(2):
        reminders.sweep(today=promised - timedelta(days=3))
    assert subjects(world.owner).count(f"交付日期临近：{need.title}") == 1

    # The day after: overdue, the pledger and the village hear of it, with the day it will lapse.
    day_after = promised + timedelta(days=1)
    result = reminders.sweep(today=day_after)
    assert result["overdue"] == 1 and result["lapse"] == 0
    inbox = db.session.scalars(select(Notification).where(Notification.user_id == world.owner.id)).all()
    lapse_day = (promised + timedelta(days=15)).isoformat()
    assert any(n.subject == f"认捐已逾期：{need.title}" and lapse_day in n.body for n in inbox)
    assert f"认捐逾期未交付：{need.title}" in subjects(world.member)

    # After the grace period, but the overdue reminder is fresh (the job was down): not yet.
    late = promised + timedelta(days=20)
    assert reminders.sweep(today=late)["lapse"] == 0
    # Three days after the reminder: it lapses and the need reopens.
    result = reminders.sweep(today=late, now=utcnow() + timedelta(days=4))
    assert result["lapse"] == 1
    db.session.refresh(pledge)
    db.session.refresh(need)
    assert (pledge.status, need.pledged, need.status) == (P.LAPSED, 0, S.PUBLISHED)
    assert f"认捐已逾期失效：{need.title}" in subjects(world.owner)
    assert reminders.sweep(today=late, now=utcnow() + timedelta(days=5))["lapse"] == 0
    assert db.session.scalar(select(func.count()).select_from(Reminder)) == 2  # due, overdue


def test_a_pledge_with_a_delivery_never_lapses(app):
    world = World()
    pledge = bring(world, world.pledge(quantity=1_000_000), P.DELIVERING)
    backdate_promise(pledge, 60)
    result = reminders.sweep(now=utcnow() + timedelta(days=10))
    reminders.sweep(now=utcnow() + timedelta(days=20))
    db.session.refresh(pledge)
    assert result["overdue"] == 1 and pledge.status == P.DELIVERING


def test_the_village_is_reminded_to_accept_and_to_confirm(app):
    world = World()
    waiting = world.pledge(quantity=500_000)
    delivered = bring(world, world.pledge(quantity=500_000), P.DELIVERED)
    assert reminders.sweep()["accept"] == 0
    later = utcnow() + timedelta(days=4)
    result = reminders.sweep(now=later)
    assert (result["accept"], result["confirm"]) == (1, 1)
    assert reminders.sweep(now=later + timedelta(days=1))["accept"] == 0
    title = waiting.need.title
    assert f"认捐待您处理：{title}" in subjects(world.member) and f"交付待确认：{title}" in subjects(world.member)
    assert delivered.deliveries[0].status == D.REPORTED


def test_employers_are_asked_for_retention_after_three_and_six_months(app):
    world = World()
    jobs = world.published(category="employment", unit="jobs", title="扶贫车间缝纫工", target=10,
                           job_title="缝纫工", work_location="昭觉县", wage_min_fen=300_000, wage_max_fen=400_000,
                           job_start_date=local_date_today() + timedelta(days=30))
    pledge = bring(world, world.pledge(jobs, 4, job_title="缝纫工", wage_fen=320_000, work_location="昭觉县"),
                   P.DELIVERED)
    hires = pledge.deliveries[0]
    today = local_date_today()
    assert reminders.sweep(today=today + timedelta(days=80))["retention"] == 0
    assert reminders.sweep(today=today + timedelta(days=95))["retention"] == 1
    assert reminders.sweep(today=today + timedelta(days=96))["retention"] == 0
    db.session.execute(update(Delivery).where(Delivery.id == hires.id).values(retained_3m=4))
    assert reminders.sweep(today=today + timedelta(days=190))["retention"] == 1
    assert subjects(world.owner).count(f"请登记在岗情况：{jobs.title}") == 2


def test_expired_needs_with_deliveries_go_in_delivery(app):
    from villageaid.needs import lifecycle as needs_lifecycle
    from tests.needs.builders import backdate

    world = World()
    need = world.published(target=3_000_000)
    bring(world, world.pledge(need, 1_000_000), P.DELIVERED)
    assert need.status == S.PUBLISHED  # room left: still open
    backdate(need)
    needs_lifecycle.expire(need)
    assert reminders.sweep()["in_delivery"] == 1
    db.session.refresh(need)
    assert need.status == S.IN_DELIVERY


def test_the_job_runs_from_the_scheduler_in_process(app):
    world = World()
    pledge = bring(world, world.pledge(quantity=500_000), P.ACCEPTED)
    db.session.execute(update(Pledge).where(Pledge.id == pledge.id)
                       .values(promised_on=local_date_today() + timedelta(days=1)))
    db.session.commit()
    started = scheduling.tick()
    assert "pledge-reminders" in started
    assert f"交付日期临近：{pledge.need.title}" in subjects(world.owner)


# Evidence -------------------------------------------------------------------------------------

def test_evidence_is_reencoded_without_metadata(app, tmp_path):
    import io

    world = World()
    pledge = bring(world, world.pledge(quantity=1_000_000), P.ACCEPTED)
    from PIL import ExifTags

    image = Image.new("RGB", (300, 200), (200, 30, 30))
    exif = image.getexif()
    exif[ExifTags.Base.Model] = "VillagePhone 3"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef], gps[ExifTags.GPS.GPSLatitude] = "N", (28.0, 1.0, 12.5)
    raw = io.BytesIO()
    image.save(raw, "JPEG", exif=exif)
    assert b"VillagePhone" in raw.getvalue()
    raw.seek(0)
    from werkzeug.datastructures import FileStorage

    delivery = world.deliver(pledge, uploads=[FileStorage(stream=raw, filename="转账.jpg")])
    stored = delivery.evidence[0]
    with Image.open(evidence.path_of(stored)) as saved:
        assert not saved.getexif() and (saved.width, saved.height) == (300, 200)
    assert len(stored.sha256) == 64 and stored.duplicate_of_id is None


def test_bad_files_and_too_many_are_refused_with_the_file_named(app):
    from io import BytesIO

    from werkzeug.datastructures import FileStorage

    world = World()
    pledge = bring(world, world.pledge(quantity=1_000_000), P.ACCEPTED)
    with pytest.raises(ServiceError) as info:
        world.deliver(pledge, uploads=[FileStorage(stream=BytesIO(b"%PDF-1.4 not an image"), filename="回单.pdf")])
    assert "回单.pdf" in str(info.value.fields["evidence"])
    db.session.rollback()
    with pytest.raises(ServiceError) as info:
        world.deliver(pledge, uploads=[photo(i, f"{i}.jpg") for i in range(7)])
    assert "evidence" in info.value.fields
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Delivery)) == 0


def test_the_same_file_for_two_deliveries_is_flagged_to_the_curator(app):
    world = World()
    need = world.published(target=9_000_000)
    first = bring(world, world.pledge(need, 1_000_000), P.ACCEPTED)
    second = bring(world, world.pledge(need, 1_000_000, org=False), P.ACCEPTED)
    original = world.deliver(first, uploads=[photo(7, "回单.jpg"), photo(8, "照片.jpg")])
    assert not original.flagged_evidence
    reused = world.deliver(second, uploads=[photo(7, "我的回单.jpg")])  # the same bytes, another name
    assert [e.duplicate_of_id for e in reused.evidence] == [original.evidence[0].id]
    queue = services.curator_queue(world.curator)
    assert [d.id for d in queue["flagged"]] == [reused.id]
    assert services.curator_counts(world.curator)["flagged"] == 1
    assert f"交付凭证疑似重复：{second.code}" in subjects(world.curator)
    # Verifying it is still the curator's call; the audit trail says the evidence was flagged.
    from villageaid.audit.models import AuditEvent
    from villageaid.pledges import lifecycle

    lifecycle.confirm(world.member, reused)
    lifecycle.verify(world.curator, reused, "已电话核实，两笔为同一次转账的两部分")
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "verify_delivery")).one()
    assert event.data == {"flagged_evidence": 1}
    assert services.curator_queue(world.curator)["flagged"] == []
