"""认捐与交付 — pledges against needs, their deliveries with evidence, and the public tracking pages."""
from flask_babel import lazy_gettext as _l

from ..audit.labels import register as register_labels
from ..scheduling import every
from . import todos  # noqa: F401  (registers what pledges ask of people on /me)

# Reminders are counted in days: an hourly sweep sends each within the hour it falls due.
every(3600, "pledge-reminders", "jobs.pledges.remind_and_lapse")

register_labels({
    "pledge": _l("认捐"), "accept_pledge": _l("村里接受认捐"), "decline_pledge": _l("村里婉拒认捐"),
    "cancel_pledge": _l("认捐方取消认捐"), "lapse_pledge": _l("逾期未交付，认捐失效"),
    "all_delivered": _l("全部交付已登记"), "all_confirmed": _l("村里确认全部收到"),
    "all_verified": _l("全部交付已核实"), "delivery_reopened": _l("有交付未通过核实，待重新交付"),
    "report_delivery": _l("登记交付"), "confirm_delivery": _l("村里确认收到"), "dispute_delivery": _l("村里提出异议"),
    "verify_delivery": _l("审核员核实交付"), "reject_delivery": _l("交付未通过核实"),
    "report_retention": _l("登记在岗情况"),
    "reopen_delivery": _l("抽查发现出入，交付待重新核实"), "verification_reopened": _l("有交付经抽查待重新核实"),
})
