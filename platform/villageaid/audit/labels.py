"""What each audit action is called on a page. Features register their own actions here."""
from flask_babel import lazy_gettext as _l

ACTION_LABELS = {
    # accounts, organisations, villages, curation
    "register": _l("注册账号"), "verify_email": _l("验证邮箱"), "apply": _l("提交入驻申请"),
    "resubmit": _l("重新提交审核"), "verified": _l("审核通过，已认证"), "rejected": _l("未通过审核"),
    "pending": _l("待审核"), "invite": _l("发出邀请"), "accept_invitation": _l("接受邀请"),
    "grant_role": _l("授予角色"),
    # needs
    "create": _l("创建草稿"), "edit": _l("修改"), "submit": _l("提交审核"), "approve": _l("审核通过，公开发布"),
    "reject": _l("未通过审核"), "send_back": _l("退回修改"), "withdraw": _l("撤回"), "expire": _l("已过截止日期"),
    "fully_pledged": _l("认捐已满"), "reopened": _l("重新开放认捐"), "delivery_started": _l("开始交付"),
    "completed": _l("全部交付并确认"), "close": _l("结项"),
    "delivery_resumed": _l("有交付需重新核实或交付，回到交付中"),
    "create_rule": _l("新增筛查规则"), "update_rule": _l("修改筛查规则"),
}


def register(labels):
    """Add a feature's action labels ({action: lazy string})."""
    ACTION_LABELS.update(labels)


def action_label(action):
    """The reader's name for `action`; an unregistered action shows as itself rather than vanishing."""
    return ACTION_LABELS.get(action, action)
