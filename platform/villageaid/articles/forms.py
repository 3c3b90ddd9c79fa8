"""The article form."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from .services import BODY_MAX, SUMMARY_MAX, TITLE_MAX


class ArticleForm(FlaskForm):
    title = StringField(_l("标题"), validators=[DataRequired(message=_l("请填写标题。")), Length(max=TITLE_MAX)])
    summary = TextAreaField(_l("摘要（可选）"), validators=[Optional(), Length(max=SUMMARY_MAX)], render_kw={"rows": 2},
                            description=_l("显示在政策宣传列表中；不填则取正文开头。"))
    body = TextAreaField(_l("正文"), validators=[DataRequired(message=_l("请填写正文。")), Length(max=BODY_MAX)],
                         render_kw={"rows": 16},
                         description=_l("支持 Markdown：## 小标题、**加粗**、列表、[链接](https://…)。不支持图片和 HTML。"))
    slug = StringField(_l("网址（可选）"), validators=[Optional(), Length(max=80)],
                       description=_l("小写字母、数字和连字符，如 1017-campaign；不填则自动生成。"))


class ActionForm(FlaskForm):
    """Publish or withdraw: the CSRF token is all it carries."""
