"""Honor-roll forms: they validate and report errors on their fields; the lifecycle decides."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, RadioField, SelectField, StringField, TextAreaField, TimeField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from ..formutil import options
from ..needs.models import CATEGORY_LABELS, Category
from .models import HONOREE_KIND_LABELS, HonoreeKind


class CreateEditionForm(FlaskForm):
    year = IntegerField(_l("年份（10 月 17 日所在年）"), validators=[InputRequired(_l("请填写年份。")),
                                                          NumberRange(2015, 2100, _l("请填写正确的年份。"))])
    title = StringField(_l("标题（留空使用默认标题）"), validators=[Optional(), Length(max=120)])


class SettingsForm(FlaskForm):
    title = StringField(_l("标题"), validators=[DataRequired(_l("请填写标题。")), Length(max=120)])
    period_start = DateField(_l("统计期开始（含）"), validators=[InputRequired(_l("请填写日期。"))])
    period_end = DateField(_l("统计期结束（含）"), validators=[InputRequired(_l("请填写日期。"))])
    notice_days = IntegerField(_l("公示天数"), validators=[InputRequired(_l("请填写天数。")),
                                                       NumberRange(1, 60, _l("公示期为 1 至 60 天。"))])
    publish_date = DateField(_l("发布日期（北京时间）"), validators=[InputRequired(_l("请填写日期。"))])
    publish_time = TimeField(_l("发布时刻（北京时间）"), validators=[InputRequired(_l("请填写时刻。"))])
    weight_funds = IntegerField(_l("每万元资金得分"), validators=[InputRequired(), NumberRange(0, 10_000)])
    weight_jobs = IntegerField(_l("每个岗位得分（3个月后在岗计满分，其余计一半）"),
                               validators=[InputRequired(), NumberRange(0, 10_000)])
    weight_villages = IntegerField(_l("每个帮扶村得分"), validators=[InputRequired(), NumberRange(0, 10_000)])
    weight_beneficiaries = IntegerField(_l("每名建档立卡贫困人口得分"), validators=[InputRequired(), NumberRange(0, 10_000)])


class CategoryForm(FlaskForm):
    name = StringField(_l("类别名称"), validators=[DataRequired(_l("请填写类别名称。")), Length(max=40)])
    honoree_kind = SelectField(_l("表彰对象"), choices=options([(k.value, HONOREE_KIND_LABELS[k]) for k in HonoreeKind]))
    need_category = SelectField(_l("只计入此类帮扶"), choices=options(
        [("", _l("全部帮扶"))] + [(c.value, CATEGORY_LABELS[c]) for c in Category]))
    quota = IntegerField(_l("表彰名额"), default=10, validators=[InputRequired(_l("请填写名额。")),
                                                           NumberRange(1, 500, _l("表彰名额为 1 至 500 名。"))])


class QuotaForm(FlaskForm):
    quota = IntegerField(_l("表彰名额"), validators=[InputRequired(_l("请填写名额。")),
                                                 NumberRange(1, 500, _l("表彰名额为 1 至 500 名。"))])


class ReasonForm(FlaskForm):
    reason = TextAreaField(_l("理由"), validators=[DataRequired(_l("请填写理由。")), Length(max=2000)])


class CitationForm(FlaskForm):
    citation = TextAreaField(_l("事迹"), validators=[DataRequired(_l("请填写事迹。")), Length(max=600)])


class ObjectionForm(FlaskForm):
    candidate_id = SelectField(_l("异议对象"), choices=[])
    body = TextAreaField(_l("异议的事实和理由"), validators=[DataRequired(_l("请写明异议的事实和理由。")), Length(max=2000)],
                         description=_l("请写明具体事实，可附可供核查的线索。异议内容和答复将公开，您的姓名和联系方式不公开。"))
    name = StringField(_l("您的姓名或单位"), validators=[DataRequired(_l("请填写您的姓名或单位。")), Length(max=80)])
    contact = StringField(_l("联系方式（电话或邮箱）"), validators=[DataRequired(_l("请留下联系方式，便于核实。")),
                                                          Length(max=120)])


class AnswerForm(FlaskForm):
    outcome = RadioField(_l("处理结果"), choices=options([("dismissed", _l("经核查，异议不成立")),
                                                      ("upheld", _l("异议成立，已更正名单"))]),
                         validators=[InputRequired(_l("请选择处理结果。"))])
    answer = TextAreaField(_l("公开答复"), validators=[DataRequired(_l("请填写公开答复。")), Length(max=2000)])


class CorrectionForm(FlaskForm):
    note = TextAreaField(_l("更正说明（将公开显示）"), validators=[DataRequired(_l("请填写更正说明，它将公开显示。")),
                                                       Length(max=2000)])


class ActionForm(FlaskForm):
    """A button with nothing to fill in: only the CSRF token."""
