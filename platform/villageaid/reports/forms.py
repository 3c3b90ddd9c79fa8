"""Forms for filing a report and for curators handling a case."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from ..formutil import options
from .models import OUTCOME_LABELS, REASON_LABELS
from .services import TEXT_MAX


class ReportForm(FlaskForm):
    reason = RadioField(_l("举报原因"), choices=options((r.value, label) for r, label in REASON_LABELS.items()),
                        validators=[DataRequired(message=_l("请选择举报原因。"))])
    text = TextAreaField(_l("具体情况"), validators=[DataRequired(message=_l("请具体说明情况。")), Length(max=TEXT_MAX)],
                         description=_l("请写明时间、经过和您了解到的事实。请勿填写贫困户的姓名、电话等个人信息。"),
                         render_kw={"rows": 6})


class InvestigateForm(FlaskForm):
    note = TextAreaField(_l("内部备注（可选，不公开）"), validators=[Optional(), Length(max=2000)], render_kw={"rows": 2})


class CloseForm(FlaskForm):
    outcome = RadioField(_l("处理结果"), choices=options((o.value, label) for o, label in OUTCOME_LABELS.items()),
                         validators=[DataRequired(message=_l("请选择处理结果。"))])
    public_note = TextAreaField(_l("公开的处理说明"), validators=[DataRequired(message=_l("请填写公开的处理说明。")),
                                                              Length(max=2000)],
                                description=_l("将显示在该对象的页面上。不要写举报人的身份。"), render_kw={"rows": 3})
