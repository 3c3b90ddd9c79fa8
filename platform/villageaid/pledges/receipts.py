"""捐赠凭证 — a PDF receipt for a verified funds delivery, made with WeasyPrint in Chinese.

The receipt says what the platform can vouch for: the pledger delivered this amount to this village
on this date, the village confirmed it and a curator verified it. It is not the receiving body's
official 公益事业捐赠票据, and says so.
"""
from flask import current_app, render_template, url_for
from flask_babel import force_locale

from ..errors import Conflict
from ..timeutil import local_date_today, to_local
from .models import DeliveryStatus, PledgeKind

DIGITS = "零壹贰叁肆伍陆柒捌玖"
SMALL_UNITS = ["", "拾", "佰", "仟"]
BIG_UNITS = ["", "万", "亿", "万亿"]


def _four_digits(n):
    """0 < n < 10000 in financial characters, with 零 for the gaps (e.g. 1005 → 壹仟零伍)."""
    text, zero = "", False
    for position in range(3, -1, -1):
        digit = n // 10 ** position % 10
        if digit == 0:
            zero = bool(text)
        else:
            if zero:
                text += "零"
                zero = False
            text += DIGITS[digit] + SMALL_UNITS[position]
    return text


def chinese_amount(fen):
    """An amount in fen in the financial capitals receipts use: 12,000.50 yuan → 人民币壹万贰仟元伍角整."""
    if fen < 0:
        raise ValueError("negative amount")
    yuan, jiao, cents = fen // 100, fen // 10 % 10, fen % 10
    groups, text = [], ""
    while yuan:
        groups.append(yuan % 10000)
        yuan //= 10000
    for index in range(len(groups) - 1, -1, -1):
        group = groups[index]
        if group == 0:
            if text and not text.endswith("零"):
                text += "零"
            continue
        if text and group < 1000 and not text.endswith("零"):
            text += "零"
        text += _four_digits(group) + BIG_UNITS[index]
    text = text.rstrip("零")
    if not text and not (jiao or cents):
        return "人民币零元整"
    result = "人民币" + (text + "元" if text else "")
    if jiao:
        result += DIGITS[jiao] + "角"
    elif cents and text:
        result += "零"
    if cents:
        result += DIGITS[cents] + "分"
    return result if cents else result + "整"


def receipt_number(delivery):
    return f"{delivery.pledge.code}-{delivery.id:05d}"


def render_pdf(delivery):
    """The receipt as PDF bytes (Chinese whatever the reader's language: it is a Chinese document)."""
    from weasyprint import HTML  # imported here: loading Pango costs a second nobody else should pay

    if delivery.status != DeliveryStatus.VERIFIED or delivery.pledge.kind != PledgeKind.FUNDS:
        raise Conflict("only verified funds deliveries have a donation receipt")
    pledge = delivery.pledge
    track_url = current_app.config["SITE_URL"].rstrip("/") + url_for("pledges.track", code=pledge.code)
    with force_locale("zh_CN"):
        html = render_template(
            "pledges/receipt.html", delivery=delivery, pledge=pledge, need=pledge.need, village=pledge.need.village,
            number=receipt_number(delivery), capitals=chinese_amount(delivery.quantity), track_url=track_url,
            verified_on=to_local(delivery.decided_at).date(), confirmed_on=to_local(delivery.confirmed_at).date()
            if delivery.confirmed_at else None, issued_on=local_date_today(),
        )
    return HTML(string=html, base_url=current_app.config["SITE_URL"]).write_pdf()
