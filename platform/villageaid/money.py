"""Money is integer fen (分); yuan appear only at the edges, as Decimal, never as float."""
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation


def yuan_to_fen(text):
    """Parse a yuan amount typed by a person ("1,250.5") into integer fen, or raise ValueError."""
    cleaned = str(text).replace(",", "").replace("，", "").replace("¥", "").replace("￥", "").strip()
    try:
        amount = Decimal(cleaned)
    except InvalidOperation as exc:
        raise ValueError("not an amount") from exc
    if not amount.is_finite() or amount.as_tuple().exponent < -2:
        raise ValueError("at most two decimals")
    return int((amount * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def fen_to_yuan(fen):
    """Integer fen as a Decimal yuan amount with two places."""
    return (Decimal(int(fen)) / 100).quantize(Decimal("0.01"))


def format_fen(fen):
    """¥1,250,000.50 — for pages and exports."""
    yuan = fen_to_yuan(fen)
    return f"¥{yuan:,.2f}"
