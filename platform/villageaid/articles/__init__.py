"""政策宣传 — articles curators publish, and summaries of the policy documents the campaign rests on."""
from flask_babel import lazy_gettext as _l

from ..audit.labels import register as register_labels

register_labels({
    "create_article": _l("创建文章草稿"), "edit_article": _l("修改文章"), "publish_article": _l("发布文章"),
    "withdraw_article": _l("撤下文章"),
})
