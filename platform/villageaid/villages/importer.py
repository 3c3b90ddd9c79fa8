"""Importing registered poor villages (建档立卡贫困村) from XLSX or CSV, all or nothing.

A curator (or the operator at the command line) imports a file with one village a row in the
template's columns. Every row is checked first — a 12-digit code whose county is in the division
table, a code not registered yet and not repeated in the file, sane numbers, known 致贫原因, and,
for a curator, a village inside the curator's region. If any row is bad nothing is written and
every bad row is reported with its row number and reason; a clean file imports every row, in one
transaction, as verified villages (a curator vouches for them), each with an audit event.

The web upload runs `run()` as a background job (jobs/villages.py) and shows its progress;
`flask --app villageaid villages import FILE` calls `import_file()` directly.
"""
import csv
import io
import os
import unicodedata
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from .. import queue
from ..audit.services import record
from ..errors import ServiceError
from ..extensions import db
from ..policy import curates
from ..regions.models import Level, Region
from ..timeutil import utcnow
from ..verification import VerificationStatus
from .models import POVERTY_CAUSES, ImportStatus, Village, VillageImport
from .services import validate_facts

CODE, NAME, HOUSEHOLDS, POOR_HOUSEHOLDS, POOR_POPULATION, CAUSES, INDUSTRIES = COLUMNS = (
    "区划代码", "村名", "户数", "贫困户数", "贫困人口", "致贫原因", "特色产业")
TOWNSHIP = "乡镇"  # optional: a township the platform does not know yet is created under this name
OPTIONAL_COLUMNS = (TOWNSHIP,)
REQUIRED_COLUMNS = (CODE, NAME, HOUSEHOLDS, POOR_HOUSEHOLDS, POOR_POPULATION)

EXTENSIONS = (".xlsx", ".csv")
MAX_ROWS = 20_000
MAX_BYTES = 10 * 1024 * 1024
MAX_COUNT = 100_000  # the registration form's bound on households and people
CAUSE_SEPARATORS = "、，,；;/ \u3000"
PROGRESS_EVERY = 500
WRITE_BATCH = 500


@dataclass(frozen=True)
class RowError:
    """One reason a row cannot be imported; row 1 is the header (a file-level problem)."""

    row: int
    column: str | None
    message: str

    def as_dict(self):
        return {"row": self.row, "column": self.column, "message": self.message}


class ImportRejected(ServiceError):
    """The file has bad rows (or cannot be read): nothing was imported."""

    def __init__(self, errors):
        errors = sorted(errors, key=lambda e: (e.row, COLUMNS.index(e.column) if e.column in COLUMNS else 99))
        super().__init__(_("有 %(n)s 处错误，未导入任何村。请改正后重新上传。", n=len(errors)))
        self.errors = errors


@dataclass
class Candidate:
    """A checked row, ready to become a village."""

    row: int
    code: str
    name: str
    households: int
    poor_households: int
    poor_population: int
    causes: list = field(default_factory=list)
    industries: str | None = None
    township: str | None = None


# The template --------------------------------------------------------------------------------

def column_labels():
    """Each column's name in the reader's language (the file itself always uses the Chinese headers)."""
    return {CODE: _("区划代码"), NAME: _("村名"), HOUSEHOLDS: _("户数"), POOR_HOUSEHOLDS: _("贫困户数"),
            POOR_POPULATION: _("贫困人口"), CAUSES: _("致贫原因"), INDUSTRIES: _("特色产业"), TOWNSHIP: _("乡镇")}


def instructions():
    """(column, what it must hold, the values it takes) for the template's instructions and the upload page.

    The values are written in the file as they are, in Chinese, whatever the reader's language.
    """
    return [
        (CODE, _("必填。12 位统计用区划代码（村级），前 6 位须为已有的区县代码，且尚未在平台登记。"), None),
        (NAME, _("必填，不超过 80 字。"), None),
        (HOUSEHOLDS, _("必填。总户数，1 到 100000 之间的整数。"), None),
        (POOR_HOUSEHOLDS, _("必填。建档立卡贫困户数，不能超过总户数。"), None),
        (POOR_POPULATION, _("必填。建档立卡贫困人口，不能少于贫困户数。"), None),
        (CAUSES, _("可选。多个原因之间用顿号分隔，每个须为下列之一："), "、".join(POVERTY_CAUSES)),
        (INDUSTRIES, _("可选，不超过 200 字，例如："), "花椒、核桃、乡村旅游"),
        (TOWNSHIP, _("可选。所属乡镇名称；平台尚无该乡镇时用它登记乡镇。"), None),
    ]


def template_xlsx():
    """The import template as XLSX bytes: a sheet to fill in and a sheet of instructions."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = "贫困村"
    sheet.append(list(COLUMNS) + list(OPTIONAL_COLUMNS))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    # Text, so that Excel keeps all 12 digits of a code instead of writing 5.13431E+11.
    for row in range(2, 2001):
        sheet.cell(row=row, column=1).number_format = "@"
    for column, width in zip("ABCDEFGH", (16, 14, 8, 10, 10, 24, 24, 14)):
        sheet.column_dimensions[column].width = width
    notes = book.create_sheet(_("填写说明"))
    notes.append([_("列"), _("要求")])
    for cell in notes[1]:
        cell.font = Font(bold=True)
    for column, rule, values in instructions():
        notes.append([column, f"{rule}{values}" if values else rule])
    notes.column_dimensions["A"].width = 12
    notes.column_dimensions["B"].width = 90
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def template_csv():
    """The import template as CSV (UTF-8 with a byte-order mark, so Excel opens it as Chinese)."""
    return ("\ufeff" + ",".join(COLUMNS + OPTIONAL_COLUMNS) + "\r\n").encode("utf-8")


# Reading a file ------------------------------------------------------------------------------

def _text(value):
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return unicodedata.normalize("NFKC", str(value)).strip()


def _header_name(value):
    return _text(value).replace("*", "").strip()


def _rows_from_table(table):
    """(row number, {column: text}) for every non-empty row under the header, checking the header."""
    header = next(table, None)
    if header is None:
        raise ImportRejected([RowError(1, None, _("文件是空的。"))])
    names = [_header_name(v) for v in header]
    missing = [c for c in REQUIRED_COLUMNS if c not in names]
    if missing:
        raise ImportRejected([RowError(1, None, _("缺少必填列：%(columns)s。请使用导入模板。", columns="、".join(missing)))])
    positions = {name: names.index(name) for name in COLUMNS + OPTIONAL_COLUMNS if name in names}
    rows = []
    for number, values in enumerate(table, start=2):
        values = list(values)
        row = {name: _text(values[i]) if i < len(values) else "" for name, i in positions.items()}
        if any(row.values()):
            rows.append((number, row))
            if len(rows) > MAX_ROWS:
                raise ImportRejected([RowError(number, None, _("一个文件最多 %(n)s 行，请分成几个文件导入。", n=MAX_ROWS))])
    return rows


def _xlsx_table(data):
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a file that is not a workbook
        raise ImportRejected([RowError(1, None, _("无法读取 XLSX 文件，请确认文件完好且为 Excel 2007 及以上格式。"))]) from exc
    sheet = book.worksheets[0]
    return sheet.iter_rows(values_only=True)


def _decode(data):
    for encoding in ("utf-8-sig", "gb18030"):  # Excel in China saves CSV as GBK unless told otherwise
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportRejected([RowError(1, None, _("无法识别 CSV 文件的编码，请另存为 UTF-8 编码的 CSV。"))])


def read_rows(data, filename):
    """The data rows of an uploaded file (`data` bytes; the format follows the file name's extension)."""
    extension = Path(filename or "").suffix.lower()
    if extension == ".xlsx":
        return _rows_from_table(_xlsx_table(data))
    if extension == ".csv":
        try:
            return _rows_from_table(iter(csv.reader(io.StringIO(_decode(data), newline=""))))
        except csv.Error as exc:
            raise ImportRejected([RowError(1, None, _("CSV 文件格式有误：%(error)s", error=str(exc)))]) from exc
    raise ImportRejected([RowError(1, None, _("只能导入 .xlsx 或 .csv 文件。"))])


# Checking ----------------------------------------------------------------------------------

def _count(row, column, errors, number):
    text = row.get(column, "").replace(",", "")
    if not text:
        errors.append(RowError(number, column, _("必填。")))
        return None
    if not text.isdigit():
        errors.append(RowError(number, column, _("应为不小于 0 的整数，而不是“%(value)s”。", value=text[:20])))
        return None
    value = int(text)
    if value > MAX_COUNT:
        errors.append(RowError(number, column, _("数值过大（最多 %(max)s）。", max=MAX_COUNT)))
        return None
    return value


def _causes(text):
    for separator in CAUSE_SEPARATORS:
        text = text.replace(separator, "\n")
    return list(dict.fromkeys(c.strip() for c in text.split("\n") if c.strip()))


FACT_COLUMNS = {"households": HOUSEHOLDS, "poor_households": POOR_HOUSEHOLDS, "poor_population": POOR_POPULATION}


def check(rows, actor=None, progress=None):
    """Check every row; returns (candidates, errors). Nothing is written.

    `actor` is the importing curator (None: the operator, any region); `progress(done, total)`
    is called every few hundred rows.
    """
    counties = set(db.session.scalars(select(Region.code).where(Region.level == Level.COUNTY)))
    codes = [row.get(CODE, "") for _number, row in rows]
    registered = set()
    wanted = sorted({c for c in codes if len(c) == 12 and c.isdigit()})
    for start in range(0, len(wanted), 500):
        registered.update(db.session.scalars(select(Village.code).where(Village.code.in_(wanted[start:start + 500]))))
    first_seen = {}
    candidates, errors = [], []
    for done, (number, row) in enumerate(rows, start=1):
        row_errors = []
        code = row.get(CODE, "")
        if not code:
            row_errors.append(RowError(number, CODE, _("必填。")))
        elif not (code.isdigit() and len(code) == 12):
            row_errors.append(RowError(number, CODE, _("应为 12 位数字，而不是“%(value)s”。", value=code[:20])))
        elif code[:6] + "000000" not in counties:
            row_errors.append(RowError(number, CODE, _("前 6 位 %(county)s 不是区划表中的区县。", county=code[:6])))
        elif code[6:] == "000000" or code[9:] == "000":
            row_errors.append(RowError(number, CODE, _("这是乡镇或区县的代码，不是村级代码。")))
        elif code in registered:
            row_errors.append(RowError(number, CODE, _("该村（%(code)s）已在平台登记。", code=code)))
        elif code in first_seen:
            row_errors.append(RowError(number, CODE, _("与第 %(row)s 行的区划代码重复。", row=first_seen[code])))
        elif actor is not None and not curates(actor, code):
            row_errors.append(RowError(number, CODE, _("该村不在您的审核范围内，不能导入。")))
        if code and code not in first_seen:
            first_seen[code] = number

        name = row.get(NAME, "")
        if not name:
            row_errors.append(RowError(number, NAME, _("必填。")))
        elif len(name) > 80:
            row_errors.append(RowError(number, NAME, _("不能超过 80 字。")))

        households = _count(row, HOUSEHOLDS, row_errors, number)
        poor_households = _count(row, POOR_HOUSEHOLDS, row_errors, number)
        poor_population = _count(row, POOR_POPULATION, row_errors, number)
        if None not in (households, poor_households, poor_population):
            for key, message in validate_facts(households, poor_households, poor_population).items():
                row_errors.append(RowError(number, FACT_COLUMNS[key], message))

        causes = _causes(row.get(CAUSES, ""))
        unknown = [c for c in causes if c not in POVERTY_CAUSES]
        if unknown:
            row_errors.append(RowError(number, CAUSES, _("未知的致贫原因：%(causes)s。可选：%(known)s",
                                                         causes="、".join(unknown), known="、".join(POVERTY_CAUSES))))
        industries = row.get(INDUSTRIES, "")
        if len(industries) > 200:
            row_errors.append(RowError(number, INDUSTRIES, _("不能超过 200 字。")))
        township = row.get(TOWNSHIP, "")
        if len(township) > 80:
            row_errors.append(RowError(number, TOWNSHIP, _("不能超过 80 字。")))

        if row_errors:
            errors.extend(row_errors)
        else:
            candidates.append(Candidate(number, code, name, households, poor_households, poor_population, causes,
                                        industries or None, township or None))
        if progress and done % PROGRESS_EVERY == 0:
            progress(done, len(rows))
    if progress:
        progress(len(rows), len(rows))
    return candidates, errors


# Writing -----------------------------------------------------------------------------------

def _townships(candidates):
    """Township code → name: the known ones from the division table, the rest from the file."""
    codes = sorted({c.code[:9] + "000" for c in candidates})
    known = {}
    for start in range(0, len(codes), 500):
        known.update(db.session.execute(select(Region.code, Region.name).where(Region.code.in_(codes[start:start + 500]))).all())
    named = {}
    for c in candidates:
        if c.township:
            named.setdefault(c.code[:9] + "000", c.township)
    return known, named


def _write(candidates, actor):
    """Add the villages (and the townships and village divisions they need); the caller commits."""
    known, named = _townships(candidates)
    counties = {r.code: r for r in db.session.scalars(
        select(Region).where(Region.code.in_(sorted({c.code[:6] + "000000" for c in candidates}))))}
    existing_regions = set()
    codes = [c.code for c in candidates]
    for start in range(0, len(codes), 500):
        existing_regions.update(db.session.scalars(select(Region.code).where(Region.code.in_(codes[start:start + 500]))))
    now = utcnow()
    villages = []
    for start in range(0, len(candidates), WRITE_BATCH):
        batch = []
        for c in candidates[start:start + WRITE_BATCH]:
            county = counties[c.code[:6] + "000000"]
            township_code = c.code[:9] + "000"
            if township_code not in known and township_code in named:
                db.session.add(Region(code=township_code, name=named[township_code], level=Level.TOWNSHIP,
                                      parent_code=county.code))
                known[township_code] = named[township_code]
            prefecture_code = county.parent_code  # a municipality's district hangs on the province
            village = Village(
                code=c.code, name=c.name, township_name=c.township or known.get(township_code, ""),
                province_code=c.code[:2] + "0000000000", prefecture_code=prefecture_code, county_code=county.code,
                households=c.households, poor_households=c.poor_households, poor_population=c.poor_population,
                poverty_causes=c.causes, industries=c.industries, status=VerificationStatus.VERIFIED.value,
                verified_at=now, created_by_id=getattr(actor, "id", None),
            )
            db.session.add(village)
            if c.code not in existing_regions:
                # A village with no known township hangs on its county in the division tree.
                parent = township_code if township_code in known else county.code
                db.session.add(Region(code=c.code, name=c.name, level=Level.VILLAGE, parent_code=parent))
            batch.append((c, village))
        db.session.flush()
        for c, village in batch:
            record(actor, village, "import", to_state=VerificationStatus.VERIFIED, public=True, data={"row": c.row})
        villages.extend(village for _c, village in batch)
    return villages


def import_rows(rows, actor=None, progress=None, before_commit=None):
    """Check `rows` and import them all, or raise ImportRejected listing every bad row. Commits.

    `before_commit(villages)` joins the transaction that writes them (the job records its outcome
    there: a worker killed just after the commit must not find the import unfinished and run it again).
    """
    candidates, errors = check(rows, actor, progress)
    if errors:
        raise ImportRejected(errors)
    if not candidates:
        raise ImportRejected([RowError(1, None, _("文件中没有数据行。"))])
    try:
        villages = _write(candidates, actor)
        if before_commit is not None:
            before_commit(villages)
        queue.commit()
    except IntegrityError:
        # A village registered meanwhile: find and report the rows it concerns, or fail as we are.
        db.session.rollback()
        errors = check(rows, actor)[1]
        if errors:
            raise ImportRejected(errors) from None
        raise
    return villages


def import_file(path, actor=None, progress=None):
    """Import the villages in the XLSX or CSV file at `path` (see `import_rows`)."""
    path = Path(path)
    return import_rows(read_rows(path.read_bytes(), path.name), actor, progress)


def count_villages(status=None):
    """How many villages are registered (in `status`, if given)."""
    from sqlalchemy import func

    query = select(func.count()).select_from(Village)
    if status:
        query = query.where(Village.status == status)
    return db.session.scalar(query)


# The web upload, as a job with progress ------------------------------------------------------

def _upload_dir():
    return Path(current_app.config["DATA_DIR"]) / "uploads" / "imports"


def start(actor, upload):
    """Keep an uploaded file and defer its import; returns the VillageImport to follow."""
    filename = os.path.basename(upload.filename or "")[-200:]
    extension = Path(filename).suffix.lower()
    if extension not in EXTENSIONS:
        raise ServiceError(_("只能导入 .xlsx 或 .csv 文件。"), fields={"file": _("只能导入 .xlsx 或 .csv 文件。")})
    data = upload.stream.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise ServiceError(_("文件超过 10 MB，请分成几个文件导入。"), fields={"file": _("文件超过 10 MB。")})
    if not data:
        raise ServiceError(_("文件是空的。"), fields={"file": _("文件是空的。")})
    stored = f"{uuid.uuid4().hex}{extension}"
    folder = _upload_dir()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / stored).write_bytes(data)
    run_row = VillageImport(uploaded_by_id=actor.id, filename=filename or stored, stored_name=stored)
    db.session.add(run_row)
    db.session.flush()
    record(actor, run_row, "upload_import", data={"filename": run_row.filename})
    queue.defer("jobs.villages.import_villages", run_row.id)
    queue.commit()
    return run_row


def run(import_id):
    """The job: import one uploaded file, recording progress and the outcome on its VillageImport.

    Idempotent: a finished import is left alone (a job that runs twice imports once).
    """
    job = db.session.get(VillageImport, import_id)
    if job is None or job.is_finished:
        return None
    job.status = ImportStatus.RUNNING.value
    job.started_at = job.started_at or utcnow()
    db.session.commit()
    actor = job.uploaded_by
    path = _upload_dir() / job.stored_name

    def progress(done, total):
        # Only called while checking, before anything is written: committing here commits progress alone.
        job.checked_rows, job.total_rows = done, total
        db.session.commit()

    with force_locale(actor.locale or "zh_CN"):
        try:
            rows = read_rows(path.read_bytes(), job.filename)
            job.total_rows = len(rows)
            db.session.commit()
            villages = import_rows(rows, actor, progress, before_commit=lambda written: _imported(job, written))
        except ImportRejected as exc:
            db.session.rollback()
            job.status, job.errors, job.message = ImportStatus.REJECTED.value, [e.as_dict() for e in exc.errors], str(exc)
        except Exception as exc:  # the curator must learn that it failed, whatever the cause
            db.session.rollback()
            current_app.logger.exception("village import %s failed", import_id)
            job.status = ImportStatus.FAILED.value
            job.message = _("导入失败：%(error)s。未导入任何村，请稍后重试或联系管理员。", error=type(exc).__name__)
        else:
            _imported(job, villages)
    job.finished_at = job.finished_at or utcnow()
    queue.commit()
    path.unlink(missing_ok=True)
    return job.status


def _imported(job, villages):
    job.status, job.imported, job.errors = ImportStatus.IMPORTED.value, len(villages), []
    job.message = _("已导入 %(n)s 个村。", n=len(villages))
    job.finished_at = utcnow()


def give_up(import_id, reason):
    """The job was given up (its worker died on every attempt, say): the curator sees the import failed."""
    job = db.session.get(VillageImport, import_id)
    if job is None or job.is_finished:
        return
    with force_locale(job.uploaded_by.locale or "zh_CN"):
        job.status = ImportStatus.FAILED.value
        job.message = _("导入失败：%(error)s。未导入任何村，请稍后重试或联系管理员。", error=reason)
    job.finished_at = utcnow()
    (_upload_dir() / job.stored_name).unlink(missing_ok=True)


queue.on_given_up("jobs.villages.import_villages", give_up)


def recent_imports(user, limit=10):
    query = select(VillageImport).order_by(VillageImport.id.desc()).limit(limit)
    if not user.is_admin:
        query = query.where(VillageImport.uploaded_by_id == user.id)
    return db.session.scalars(query).all()
