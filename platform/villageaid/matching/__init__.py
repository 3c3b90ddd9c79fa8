"""对接 — recommendations that follow the East-West pairing table, invitations to needs, and 村企结对 pairings."""
from flask_babel import lazy_gettext as _l

from ..audit.labels import register
from . import todos  # noqa: F401  (registers what matchmaking asks of people on /me)

register({
    "invite_organization": _l("邀请帮扶方"), "accept_need_invitation": _l("接受帮扶邀请"),
    "decline_need_invitation": _l("婉拒帮扶邀请"), "withdraw_need_invitation": _l("撤回帮扶邀请"),
    "propose_pairing": _l("提出结对"), "accept_pairing": _l("确认结对"), "decline_pairing": _l("婉拒结对"),
    "withdraw_pairing": _l("撤回结对申请"), "end_pairing": _l("结束结对"),
    "write_pairing_report": _l("填写年度帮扶报告"), "revise_pairing_report": _l("修改年度帮扶报告"),
    "update_preferences": _l("更新帮扶偏好"), "add_pairing_rule": _l("添加结对关系"),
    "delete_pairing_rule": _l("删除结对关系"),
})
