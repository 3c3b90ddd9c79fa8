"""Importing registered villages from XLSX or CSV: all or nothing, every bad row reported, by function,
command line and the curators' upload (a job with progress)."""
import csv
import io
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from tests import factories
from tests.conftest import login, post_form
from villageaid.audit.models import AuditEvent
from villageaid.extensions import db
from villageaid.regions.models import Level, Region
from villageaid.villages import importer
from villageaid.villages.importer import COLUMNS, ImportRejected
from villageaid.villages.models import ImportStatus, Village, VillageImport

HEADER = list(COLUMNS)
# 昭觉县 (513431) and 美姑县 (513436) in 凉山州, 四川; 镇雄县 (530627) in 昭通市, 云南. Township 201 is the tests' own.
GOOD = [
    ["513431201001", "阿并洛古村", "210", "60", "230", "缺技术、缺资金", "花椒、苦荞"],
    ["513431201002", "洒拉地坡村", "180", "45", "160", "因病", ""],
    ["513436201001", "依洛村", "95", "30", "120", "", "马铃薯"],
]


def _villages():
    return db.session.scalar(select(func.count()).select_from(Village))


def xlsx_bytes(rows, header=HEADER):
    book = Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def csv_bytes(rows, header=HEADER, encoding="utf-8-sig"):
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


FORMATS = {"xlsx": xlsx_bytes, "csv": csv_bytes}


def rows_of(fmt, rows, **kwargs):
    return importer.read_rows(FORMATS[fmt](rows, **kwargs), f"villages.{fmt}")


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_clean_file_imports_every_row_as_verified_villages_with_audit_events(app, fmt):
    curator = factories.curator(factories.SICHUAN)
    before = _villages()
    villages = importer.import_rows(rows_of(fmt, GOOD), curator)
    assert len(villages) == 3 and _villages() == before + 3
    village = db.session.scalar(select(Village).where(Village.code == "513431201001"))
    assert (village.name, village.households, village.poor_households, village.poor_population) == ("阿并洛古村", 210, 60, 230)
    assert village.poverty_causes == ["缺技术", "缺资金"] and village.industries == "花椒、苦荞"
    assert village.status == "verified" and village.verified_at is not None and village.created_by_id == curator.id
    assert (village.county_code, village.prefecture_code, village.province_code) == (
        factories.ZHAOJUE, factories.LIANGSHAN, factories.SICHUAN)
    assert db.session.scalar(select(Village.industries).where(Village.code == "513431201002")) is None
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.object_type == "village", AuditEvent.action == "import")).all()
    assert sorted(e.object_id for e in events) == sorted(v.id for v in villages)
    assert all(e.actor_id == curator.id and e.to_state == "verified" and e.public for e in events)
    # Each village joins the division tree (no township named: it hangs on its county).
    region = db.session.get(Region, "513431201001")
    assert region.level == Level.VILLAGE and region.parent_code == factories.ZHAOJUE


@pytest.mark.parametrize("fmt", FORMATS)
def test_any_bad_row_imports_nothing_and_every_bad_row_is_reported(app, fmt):
    curator = factories.curator(factories.SICHUAN)
    taken = factories.village(county=factories.ZHAOJUE)
    rows = GOOD + [
        ["51343120100", "短码村", "100", "10", "30", "", ""],                    # 5: not 12 digits
        ["999999201001", "无县村", "100", "10", "30", "", ""],                   # 6: no such county
        ["513431201001", "重复村", "100", "10", "30", "", ""],                   # 7: repeats row 2
        [taken.code, "已登记村", "100", "10", "30", "", ""],                     # 8: already registered
        ["513431201009", "多贫困户村", "100", "120", "300", "", ""],              # 9: poor > households
        ["513431201010", "少人口村", "100", "50", "20", "", ""],                  # 10: people < poor households
        ["513431201011", "原因村", "100", "10", "30", "因病、懒惰", ""],           # 11: unknown cause
        ["513431201012", "", "-5", "abc", "30", "", ""],                         # 12: no name, bad numbers
        ["530627201001", "云南村", "100", "10", "30", "", ""],                    # 13: outside the curator's region
    ]
    before = (_villages(), db.session.scalar(select(func.count()).select_from(AuditEvent)))
    with pytest.raises(ImportRejected) as info:
        importer.import_rows(rows_of(fmt, rows), curator)
    assert (_villages(), db.session.scalar(select(func.count()).select_from(AuditEvent))) == before
    assert db.session.scalar(select(Village.id).where(Village.code == "513431201001")) is None
    errors = info.value.errors
    by_row = {}
    for error in errors:
        by_row.setdefault(error.row, []).append(error)
    assert sorted(by_row) == list(range(5, 14)), [e.as_dict() for e in errors]
    assert all(e.message for e in errors)
    assert "12 位" in by_row[5][0].message
    assert "513431" not in by_row[6][0].message and "999999" in by_row[6][0].message
    assert "第 2 行" in by_row[7][0].message
    assert "已在平台登记" in by_row[8][0].message
    assert by_row[9][0].column == "贫困户数" and "不能超过总户数" in by_row[9][0].message
    assert by_row[10][0].column == "贫困人口"
    assert by_row[11][0].column == "致贫原因" and "懒惰" in by_row[11][0].message
    assert {e.column for e in by_row[12]} == {"村名", "户数", "贫困户数"}
    assert by_row[13][0].column == "区划代码" and "审核范围" in by_row[13][0].message


def test_after_fixing_the_file_it_imports(app):
    curator = factories.curator(factories.SICHUAN)
    with pytest.raises(ImportRejected):
        importer.import_rows(rows_of("xlsx", GOOD + [["513431201009", "多贫困户村", "100", "120", "300", "", ""]]), curator)
    assert len(importer.import_rows(rows_of("xlsx", GOOD), curator)) == 3


def test_the_operator_imports_anywhere_and_townships_are_named_from_the_file(app):
    header = HEADER + ["乡镇"]
    rows = [["530627201001", "云南村", "100", "10", "30", "缺水", "", "测试乡"],
            ["530627201002", "云南二村", "80", "10", "30", "", "", ""]]
    importer.import_rows(rows_of("csv", rows, header=header), None)
    township = db.session.get(Region, "530627201000")
    assert (township.name, township.level, township.parent_code) == ("测试乡", Level.TOWNSHIP, factories.ZHENXIONG)
    second = db.session.scalar(select(Village).where(Village.code == "530627201002"))
    assert second.township_name == "测试乡" and second.created_by_id is None
    assert db.session.get(Region, "530627201002").parent_code == "530627201000"
    assert "测试乡" in second.place_name


def test_xlsx_numbers_and_codes_typed_as_numbers_are_read(app):
    rows = importer.read_rows(xlsx_bytes([[513431201001, "数字村", 120, 30, 90.0, None, None]]), "v.xlsx")
    assert rows == [(2, {"区划代码": "513431201001", "村名": "数字村", "户数": "120", "贫困户数": "30", "贫困人口": "90",
                         "致贫原因": "", "特色产业": ""})]


def test_csv_saved_by_excel_in_gbk_is_read(app):
    rows = importer.read_rows(csv_bytes(GOOD, encoding="gbk"), "v.csv")
    assert rows[0][1]["村名"] == "阿并洛古村" and len(rows) == 3


def test_blank_rows_are_skipped_and_row_numbers_are_the_spreadsheets(app):
    rows = importer.read_rows(xlsx_bytes([GOOD[0], [None] * 7, GOOD[1]]), "v.xlsx")
    assert [number for number, _ in rows] == [2, 4]


@pytest.mark.parametrize("data,name,reason", [
    (xlsx_bytes(GOOD, header=["区划代码", "村名", "户数"]), "v.xlsx", "缺少必填列"),
    (b"not a workbook", "v.xlsx", "无法读取"),
    (b"a,b\n", "v.txt", ".xlsx"),
    (xlsx_bytes([]), "v.xlsx", "没有数据行"),
], ids=["missing-column", "not-a-workbook", "wrong-extension", "no-rows"])  # a workbook's bytes hold the time it was written
def test_an_unusable_file_is_reported_on_row_one(app, data, name, reason):
    with pytest.raises(ImportRejected) as info:
        importer.import_rows(importer.read_rows(data, name))
    assert info.value.errors[0].row == 1 and reason in info.value.errors[0].message


def test_the_templates_have_the_columns(app):
    book = load_workbook(io.BytesIO(importer.template_xlsx()))
    assert [c.value for c in book.worksheets[0][1]] == HEADER + ["乡镇"]
    assert book.worksheets[0]["A2"].number_format == "@"  # codes stay text in Excel
    assert len(book.worksheets) == 2 and book.worksheets[1].max_row == 1 + len(HEADER) + 1
    assert importer.template_csv().decode("utf-8-sig").strip() == ",".join(HEADER + ["乡镇"])
    # A filled-in template imports.
    sheet = book.worksheets[0]
    for row in GOOD:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    assert len(importer.import_rows(importer.read_rows(out.getvalue(), "t.xlsx"))) == 3


# The command line ------------------------------------------------------------------------------

def test_cli_imports_a_file_and_counts_villages(app, tmp_path):
    runner = app.test_cli_runner()
    path = tmp_path / "villages.xlsx"
    path.write_bytes(xlsx_bytes(GOOD))
    before = int(runner.invoke(args=["villages", "count"]).output)
    result = runner.invoke(args=["villages", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "imported 3 village(s)" in result.output
    assert int(runner.invoke(args=["villages", "count"]).output) == before + 3 == _villages()
    assert int(runner.invoke(args=["villages", "count", "--status", "pending"]).output) == 0


def test_cli_reports_every_bad_row_and_imports_nothing(app, tmp_path):
    runner = app.test_cli_runner()
    path = tmp_path / "villages.csv"
    path.write_bytes(csv_bytes(GOOD + [["513431201001", "重复村", "100", "10", "30", "", ""],
                                       ["513431201005", "多贫困户村", "100", "120", "300", "", ""]]))
    before = _villages()
    result = runner.invoke(args=["villages", "import", str(path)])
    assert result.exit_code == 1
    assert "row 5 [区划代码]" in result.output and "row 6 [贫困户数]" in result.output
    assert "2 error(s); nothing imported" in result.output
    assert _villages() == before


def test_cli_as_a_curator_keeps_to_their_region(app, tmp_path):
    curator = factories.curator(factories.YUNNAN)
    runner = app.test_cli_runner()
    path = tmp_path / "villages.xlsx"
    path.write_bytes(xlsx_bytes(GOOD))
    result = runner.invoke(args=["villages", "import", str(path), "--curator", curator.email])
    assert result.exit_code == 1 and result.output.count("审核范围") == 3
    donor = factories.user()
    result = runner.invoke(args=["villages", "import", str(path), "--curator", donor.email])
    assert result.exit_code != 0 and "not a curator" in result.output


# The upload page and its job -----------------------------------------------------------------

def _upload(client, data, name):
    return post_form(client, "/curate/villages/import", {"file": (io.BytesIO(data), name)})


def test_a_curator_uploads_a_file_and_follows_the_job_to_its_result(app, client):
    curator = factories.curator(factories.SICHUAN)
    login(client, curator.email)
    before = _villages()
    response = _upload(client, xlsx_bytes(GOOD), "凉山州贫困村.xlsx")
    assert response.status_code == 302
    url = response.headers["Location"]
    run = db.session.scalar(select(VillageImport).order_by(VillageImport.id.desc()))
    assert url.endswith(f"/curate/villages/import/{run.id}")
    # Without Redis the job ran inline once the upload committed.
    assert run.status == ImportStatus.IMPORTED and run.imported == 3 and run.checked_rows == run.total_rows == 3
    assert _villages() == before + 3
    progress = client.get(f"{url}/progress").get_json()
    assert progress == {"status": "imported", "finished": True, "total": 3, "checked": 3, "imported": 3, "errors": 0}
    page = client.get(url).get_data(as_text=True)
    assert 'data-import-result="imported"' in page and "已导入 3 个村" in page
    assert "凉山州贫困村.xlsx" in client.get("/curate/villages/import").get_data(as_text=True)
    assert not list((Path(app.config["DATA_DIR"]) / "uploads" / "imports").glob("*"))  # the upload is not kept


def test_an_upload_with_bad_rows_lists_them_and_offers_them_as_csv(app, client):
    curator = factories.curator(factories.SICHUAN)
    login(client, curator.email)
    before = _villages()
    bad = GOOD + [["513431201002", "重复村", "100", "10", "30", "", ""], ["=cmd|' /C calc'!A0", "公式村", "1", "0", "0", "", ""]]
    url = _upload(client, csv_bytes(bad), "bad.csv").headers["Location"]
    run = db.session.scalar(select(VillageImport).order_by(VillageImport.id.desc()))
    assert run.status == ImportStatus.REJECTED and run.imported == 0 and _villages() == before
    assert [e["row"] for e in run.errors] == [5, 6]
    page = client.get(url).get_data(as_text=True)
    assert 'data-import-result="rejected"' in page and "与第 3 行的区划代码重复" in page
    errors_csv = client.get(f"{url}/errors.csv")
    assert errors_csv.status_code == 200 and errors_csv.mimetype == "text/csv"
    lines = list(csv.reader(io.StringIO(errors_csv.get_data(as_text=True).lstrip("\ufeff"))))
    assert [line[0] for line in lines[1:]] == ["5", "6"]
    assert all(not cell.startswith("=") for line in lines for cell in line)


def test_the_upload_refuses_other_files_and_keeps_the_form(app, client):
    login(client, factories.curator(factories.SICHUAN).email)
    response = _upload(client, b"hello", "villages.txt")
    assert response.status_code == 200 and "只能导入 .xlsx 或 .csv 文件" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(VillageImport)) == 0


def test_the_job_is_idempotent_and_waits_for_its_file(app):
    curator = factories.curator(factories.SICHUAN)

    class Upload:
        filename = "v.xlsx"
        stream = io.BytesIO(xlsx_bytes(GOOD))

    run = importer.start(curator, Upload())
    assert run.status == ImportStatus.IMPORTED
    before = _villages()
    assert importer.run(run.id) is None  # a second run of a finished import does nothing
    assert _villages() == before


def test_an_import_is_recorded_done_in_the_transaction_that_writes_its_villages(app, monkeypatch):
    """A worker killed right after the villages are committed leaves the import done, so the retry does
    not find it unfinished and report every row as already registered."""
    curator = factories.curator(factories.SICHUAN)
    monkeypatch.setattr(importer.queue, "defer", lambda *args, **kwargs: None)  # the job runs by hand below

    class Upload:
        filename = "v.xlsx"
        stream = io.BytesIO(xlsx_bytes(GOOD))

    run = importer.start(curator, Upload())
    empty = _villages()
    commit = importer.queue.commit

    def killed_after_the_villages():
        commit()
        if _villages() != empty:
            raise SystemExit("worker killed")

    monkeypatch.setattr(importer.queue, "commit", killed_after_the_villages)
    with pytest.raises(SystemExit):
        importer.run(run.id)
    db.session.rollback()
    db.session.expire_all()
    found = db.session.get(VillageImport, run.id)
    assert found.status == ImportStatus.IMPORTED and found.imported == len(GOOD)
    before = _villages()
    monkeypatch.setattr(importer.queue, "commit", commit)
    assert importer.run(run.id) is None and _villages() == before


def test_only_curators_upload_and_only_the_uploader_follows_an_import(app, client):
    curator = factories.curator(factories.SICHUAN)
    other = factories.curator(factories.SICHUAN)
    donor = factories.user()

    class Upload:
        filename = "v.csv"
        stream = io.BytesIO(csv_bytes(GOOD))

    run = importer.start(curator, Upload())
    login(client, donor.email)
    assert client.get("/curate/villages/import").status_code == 403
    assert client.get("/curate/villages/import/template.xlsx").status_code == 403
    client.post("/auth/logout", data={})
    client2 = app.test_client()
    login(client2, other.email)
    assert client2.get(f"/curate/villages/import/{run.id}").status_code == 404
    assert client2.get(f"/curate/villages/import/{run.id}/progress").status_code == 404
    template = client2.get("/curate/villages/import/template.xlsx")
    assert template.status_code == 200 and load_workbook(io.BytesIO(template.data)).worksheets[0]["A1"].value == "区划代码"
