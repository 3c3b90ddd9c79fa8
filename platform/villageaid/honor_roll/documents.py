"""The roll's documents: a 荣誉证书 (certificate) PDF per published entry, and the XLSX of a whole roll.

Certificates are Chinese documents whatever the reader's language, rendered by WeasyPrint with the
installed CJK font (fonts-noto-cjk; NOTES.md: without one it prints boxes). Each carries its entry's
verification code and the public address it resolves to. Workbooks write every text as a string:
a name or citation beginning with "=" stays text, never a formula.
"""
from io import BytesIO

from flask import current_app, render_template, url_for
from flask_babel import force_locale
from openpyxl import Workbook

from ..money import fen_to_yuan
from ..timeutil import local_date_today, to_local
from ..xlsx import text_row
from . import public, scoring

MIMETYPE_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def entry_url(entry):
    return current_app.config["SITE_URL"].rstrip("/") + url_for("honor_roll.entry", code=entry.code)


def certificate_pdf(entry):
    """The certificate of one published entry, as PDF bytes."""
    from weasyprint import HTML  # loading Pango costs a second nobody else should pay

    revision = entry.revision
    with force_locale("zh_CN"):
        html = render_template("honor_roll/certificate.html", entry=entry, revision=revision, url=entry_url(entry),
                               points=scoring.points(entry.score), issued_on=to_local(revision.published_at).date())
    return HTML(string=html, base_url=current_app.config["SITE_URL"]).write_pdf()


HEADERS = ["类别", "名次", "名称", "类型", "资金（元）", "就业岗位（人）", "其中3个月后在岗（人）", "帮扶贫困村（个）",
           "建档立卡贫困人口（人）", "核实交付（笔）", "得分", "事迹", "证书编号"]
DELIVERY_HEADERS = ["证书编号", "名称", "交付编号", "认捐追踪码", "需求编号", "需求", "贫困村", "单位", "数量",
                    "3个月后在岗", "交付日期", "核实时间（北京时间）"]
UNIT_NAMES = {"cny_fen": "元", "jobs": "人", "goods": "件", "volunteer_hours": "小时"}


def roll_xlsx(the_roll):
    """The whole roll (and the deliveries behind every figure) as XLSX bytes."""
    workbook = Workbook(write_only=True)
    edition, revision = the_roll.edition, the_roll.revision
    about = workbook.create_sheet("说明")
    status = f"第 {revision.number} 版，发布于 {to_local(revision.published_at):%Y-%m-%d %H:%M}" if revision \
        else "公示稿（尚未发布）"
    for line in ([edition.title], [status],
                 [f"统计期：{edition.period_start.isoformat()} 至 {edition.period_end.isoformat()}（北京时间，按核实时间）"],
                 [f"得分 = 每万元资金 {edition.weight_funds} 分 + 每个岗位 {edition.weight_jobs} 分（3个月后仍在岗计满分，"
                  f"其余计一半）+ 每个帮扶村 {edition.weight_villages} 分 + 每名建档立卡贫困人口 {edition.weight_beneficiaries} 分"],
                 ["同分时依次比较：资金、岗位、帮扶村数（多者在前），首笔核实时间（早者在前），平台注册先后。"],
                 [f"SHA-256：{revision.digest}" if revision else "公示稿随审核调整而变化，以发布版本为准。"],
                 [f"导出日期：{local_date_today().isoformat()}"]):
        about.append(text_row(about, line))
    sheet = workbook.create_sheet("光荣榜")
    sheet.append(HEADERS)
    details = workbook.create_sheet("交付明细")
    details.append(DELIVERY_HEADERS)
    for section, row in the_roll.rows:
        sheet.append(text_row(sheet, [section.name, row.rank, row.name, str(row.kind_label), fen_to_yuan(row.funds_fen),
                                      row.jobs_filled, row.jobs_retained, row.villages_helped, row.beneficiaries,
                                      row.deliveries_count, row.score / 100, row.citation or "", row.code or ""]))
        for d in deliveries_of(the_roll, row):
            quantity = fen_to_yuan(d.quantity) if d.unit == "cny_fen" else d.quantity
            details.append(text_row(details, [row.code or "", row.name, d.delivery_id, d.tracking_code, d.need_id,
                                              d.need_title, d.village_name, UNIT_NAMES.get(d.unit, d.unit), quantity,
                                              d.retained_3m, d.delivered_on,
                                              f"{to_local(d.verified_at):%Y-%m-%d %H:%M}"]))
    out = BytesIO()
    workbook.save(out)
    return out.getvalue()


def deliveries_of(the_roll, row):
    if row.code:
        return public.entry_deliveries(public.entry_by_code(row.code))
    from ..extensions import db
    from .models import HonorRollCandidate

    return public.candidate_deliveries(db.session.get(HonorRollCandidate, row.candidate_id))


def xlsx_filename(the_roll):
    suffix = f"第{the_roll.revision.number}版" if the_roll.revision else "公示稿"
    return f"光荣榜-{the_roll.edition.year}-{suffix}.xlsx"
