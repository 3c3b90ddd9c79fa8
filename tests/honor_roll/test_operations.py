"""The honor roll around its pages: the scheduler task that publishes at 10-17, spike mode for the
roll's pages, the operator commands, and a certificate of a corrected revision."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, update

from tests.honor_roll.builders import YEAR, World, china
from villageaid import pagecache, scheduling
from villageaid.extensions import db
from villageaid.honor_roll import lifecycle as roll
from villageaid.honor_roll.models import HonorRollEdition
from villageaid.queue import OutboxJob
from villageaid.timeutil import utcnow


@pytest.fixture
def world(app):
    return World()


def test_the_scheduler_runs_the_publication_every_minute(world):
    func, interval = scheduling.TASKS["honor-roll-publish"]
    assert func == "jobs.honor_roll.publish_due" and interval == timedelta(minutes=1)
    world.help(world.org)
    world.to_notice(china(YEAR, 10, 1))
    # a tick enqueues the job through the outbox; inline, it runs at once, on the real clock — long
    # past 2026-10-17 00:00 in China, the edition's publish_at — so it publishes
    started = scheduling.tick(datetime(YEAR, 10, 16, 16, 0, 30, tzinfo=timezone.utc))
    assert "honor-roll-publish" in started
    assert db.session.scalar(select(OutboxJob).where(OutboxJob.func == "jobs.honor_roll.publish_due")) is not None
    db.session.refresh(world.edition)
    assert world.edition.status == "published" and roll.current_revision(world.edition).published_by_id is None


def test_the_roll_is_served_from_the_page_cache_and_refreshed_by_a_change(app, client, world):
    app.config["PAGE_CACHE_SECONDS"] = 10
    pagecache._down_until = 0.0
    world.help(world.helper(name="甲企业"), 2_000_000)
    world.to_notice(utcnow() - timedelta(days=8))
    db.session.execute(update(HonorRollEdition).values(notice_ends_at=utcnow() - timedelta(days=1)))
    db.session.commit()
    roll.publish(world.admin, world.edition)
    assert client.get("/honor-roll/2026").headers["X-Page-Cache"] == "miss"
    assert client.get("/honor-roll/2026").headers["X-Page-Cache"] == "hit"
    candidate = roll.honored(world.category("enterprise"))[0][1]
    roll.exclude(world.national, candidate, "公示后查实交付凭证造假")
    roll.publish_correction(world.admin, world.edition, "撤销甲企业的表彰。")
    page = client.get("/honor-roll/2026")
    assert page.headers["X-Page-Cache"] == "miss" and "撤销甲企业的表彰。" in page.text


def test_the_notice_page_with_its_form_is_never_cached(app, client, world):
    app.config["PAGE_CACHE_SECONDS"] = 10
    pagecache._down_until = 0.0
    world.help(world.org)
    world.to_notice(utcnow())
    client.get("/honor-roll/2026")
    assert client.get("/honor-roll/2026").headers.get("X-Page-Cache") != "hit"


def test_operators_list_publish_and_export_from_the_command_line(app, world, tmp_path):
    world.help(world.org)
    world.to_notice(utcnow() - timedelta(days=8))
    db.session.execute(update(HonorRollEdition).values(publish_at=utcnow() - timedelta(minutes=1)))
    db.session.commit()
    runner = app.test_cli_runner()
    assert "2026  notice" in runner.invoke(args=["honor-roll", "list"]).output
    assert "published: 2026" in runner.invoke(args=["honor-roll", "publish-due"]).output
    out = tmp_path / "roll.xlsx"
    result = runner.invoke(args=["honor-roll", "export", "2026", "--out", str(out)])
    assert result.exit_code == 0 and out.stat().st_size > 0
    assert runner.invoke(args=["honor-roll", "export", "2030", "--out", str(out)]).exit_code != 0


def test_an_entry_of_a_corrected_revision_says_so(client, world):
    world.help(world.helper(name="甲企业"), 2_000_000)
    first = world.publish()
    code = first.entries[0].code
    roll.set_citation(world.national, roll.honored(world.category("enterprise"))[0][1], "更正后的事迹。")
    roll.publish_correction(world.admin, world.edition, "更正事迹中的笔误。")
    page = client.get(f"/honor-roll/entries/{code}")
    assert page.status_code == 200 and "被第 2 版更正" in page.text and "更正事迹中的笔误。" in page.text
    assert client.get("/honor-roll/2026?revision=1").status_code == 200
    assert client.get("/honor-roll/2026?revision=9").status_code == 404
