"""Charts drawn on the server as SVG: no script, no internet, nothing the CSP has to allow.

Each chart is paired in the template with a table of the same figures for screen readers; the SVG
itself carries a title and `role="img"` with a description.
"""
from markupsafe import Markup, escape

WIDTH = 640
BAR = 22
GAP = 8
LABEL = 150
COLOR = "#b3261e"


def bars(rows, title, value_format=str):
    """Horizontal bars: `rows` is a list of (label, value); the longest bar is the largest value."""
    rows = list(rows)
    top = max((value for _, value in rows), default=0) or 1
    height = max(1, len(rows)) * (BAR + GAP) + GAP
    span = WIDTH - LABEL - 110
    parts = [f'<svg class="va-chart" viewBox="0 0 {WIDTH} {height}" width="100%" role="img" '
             f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>']
    for index, (label, value) in enumerate(rows):
        y = GAP + index * (BAR + GAP)
        width = round(span * value / top) if value else 0
        parts.append(
            f'<text x="{LABEL - 8}" y="{y + BAR * 0.7:.1f}" text-anchor="end" font-size="13">{escape(label)}</text>'
            f'<rect x="{LABEL}" y="{y}" width="{width}" height="{BAR}" rx="3" fill="{COLOR}" data-value="{value}"/>'
            f'<text x="{LABEL + width + 6}" y="{y + BAR * 0.7:.1f}" font-size="12">{escape(value_format(value))}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def columns(rows, title, value_format=str):
    """Vertical columns over time: `rows` is a list of (label, value), oldest first."""
    rows = list(rows)
    top = max((value for _, value in rows), default=0) or 1
    height, base, left = 240, 200, 10
    step = (WIDTH - 2 * left) / max(1, len(rows))
    parts = [f'<svg class="va-chart" viewBox="0 0 {WIDTH} {height}" width="100%" role="img" '
             f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>',
             f'<line x1="{left}" y1="{base}" x2="{WIDTH - left}" y2="{base}" stroke="#999" stroke-width="1"/>']
    for index, (label, value) in enumerate(rows):
        x = left + index * step + step * 0.15
        column = round(170 * value / top) if value else 0
        parts.append(
            f'<rect x="{x:.1f}" y="{base - column}" width="{step * 0.7:.1f}" height="{column}" rx="2" fill="{COLOR}" '
            f'data-value="{value}"><title>{escape(label)}: {escape(value_format(value))}</title></rect>'
            f'<text x="{x + step * 0.35:.1f}" y="{base + 16}" text-anchor="middle" font-size="11">{escape(label[-5:])}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
