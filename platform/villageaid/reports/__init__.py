"""投诉举报 — anyone reports a need or an organisation; curators of its region investigate and publish the outcome."""
from flask_babel import lazy_gettext as _l

from ..audit.labels import register as register_labels
from . import todos  # noqa: F401  (registers the curators' open cases on /me)

register_labels({
    "file_report": _l("收到举报"), "investigate_report": _l("受理调查"),
    "close_report_upheld": _l("办结：举报属实"), "close_report_dismissed": _l("办结：举报不属实"),
})
