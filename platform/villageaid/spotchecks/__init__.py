"""抽查 — curators draw a reproducible random sample of a region's verified deliveries, visit them and record what
they found; a discrepancy reopens the delivery (it stops counting) and shows on the public ledger."""
from flask_babel import lazy_gettext as _l

from ..audit.labels import register as register_labels
from . import todos  # noqa: F401  (registers the curators' open checks on /me)

register_labels({
    "draw_spot_check": _l("抽取抽查样本"), "close_spot_check": _l("结束抽查"),
    "spot_check_confirmed": _l("抽查走访：核实无误"), "spot_check_discrepancy": _l("抽查走访：发现出入"),
})
