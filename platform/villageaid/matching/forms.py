"""Forms for preferences, invitations, pairings, yearly reports and the pairing table (they validate, never commit)."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (BooleanField, DateField, HiddenField, IntegerField, SelectField, SelectMultipleField, StringField,
                     TextAreaField)
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from ..formutil import options
from ..money import fen_to_yuan, yuan_to_fen
from ..needs.forms import CATEGORY_CHOICES, MultiCheckboxField


def _yuan(label):
    return StringField(label, validators=[Optional(), Length(max=20)], render_kw={"inputmode": "decimal"})


class PreferencesForm(FlaskForm):
    categories = MultiCheckboxField(_l("关注的帮扶类别"), choices=options(CATEGORY_CHOICES))
    region_codes = SelectMultipleField(_l("关注的地区"), choices=[], validate_choice=False, render_kw={"size": 10},
                                       description=_l("可多选（按住 Ctrl 或 ⌘ 点选）。选省份即关注全省。"))
    budget_min = _yuan(_l("单项资金预算下限（元）"))
    budget_max = _yuan(_l("单项资金预算上限（元）"))
    job_types = TextAreaField(_l("可提供的岗位类型"), validators=[Optional(), Length(max=400)], render_kw={"rows": 2},
                              description=_l("用逗号或顿号分隔，如：普工、缝纫、分拣。与就业需求的岗位名称比对。"))
    follow_pairing = BooleanField(_l("优先推荐东西部扶贫协作结对地区的需求"), default=True)

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        self.parsed_min = self._fen(self.budget_min)
        self.parsed_max = self._fen(self.budget_max)
        return ok and not (self.budget_min.errors or self.budget_max.errors)

    @staticmethod
    def _fen(field):
        text = (field.data or "").strip()
        if not text:
            return None
        try:
            return yuan_to_fen(text)
        except ValueError:
            field.errors.append(_l("请输入金额，最多两位小数，如 30000 或 30000.50。"))
            return None

    def fill(self, pref):
        """Show the stored preferences (a GET)."""
        if pref is None:
            return
        self.categories.data = pref.categories
        self.region_codes.data = pref.region_codes
        self.budget_min.data = str(fen_to_yuan(pref.budget_min_fen)) if pref.budget_min_fen is not None else ""
        self.budget_max.data = str(fen_to_yuan(pref.budget_max_fen)) if pref.budget_max_fen is not None else ""
        self.job_types.data = "、".join(pref.job_types)
        self.follow_pairing.data = pref.follow_pairing


class InviteForm(FlaskForm):
    organization_id = IntegerField(validators=[InputRequired()])
    message = TextAreaField(_l("附言（可选）"), validators=[Optional(), Length(max=500)], render_kw={"rows": 2})


class ReplyForm(FlaskForm):
    reply = TextAreaField(_l("回复（可选）"), validators=[Optional(), Length(max=500)], render_kw={"rows": 2})


class PairingForm(FlaskForm):
    plan = TextAreaField(_l("帮扶计划"), validators=[DataRequired(message=_l("请写明帮扶计划。")), Length(max=5000)],
                         render_kw={"rows": 7},
                         description=_l("写明结对期间打算做什么：产业项目、就业岗位、技能培训、消费帮扶等，以及大致的时间安排。支持 Markdown。"))
    start_date = DateField(_l("开始日期"), validators=[InputRequired(message=_l("请选择开始日期。"))])
    side = HiddenField()


class EndPairingForm(FlaskForm):
    reason = TextAreaField(_l("结束原因（必填）"), validators=[DataRequired(message=_l("请填写结束结对的原因。")),
                                                          Length(max=500)], render_kw={"rows": 2})


class DeclinePairingForm(FlaskForm):
    reason = TextAreaField(_l("婉拒理由（可选）"), validators=[Optional(), Length(max=500)], render_kw={"rows": 2})


class ReportForm(FlaskForm):
    summary = TextAreaField(_l("这一年做了什么"), validators=[DataRequired(message=_l("请填写报告内容。")),
                                                          Length(max=5000)], render_kw={"rows": 8},
                            description=_l("写明项目进展、提供的岗位和培训、采购的农产品、资金和物资等。本年度结对期间的认捐和交付会列在报告下方。"))


class RuleForm(FlaskForm):
    helper_province = SelectField(_l("帮扶方省份"), choices=[], validate_choice=False,
                                  validators=[DataRequired(message=_l("请选择省份。"))])
    helper_prefecture = SelectField(_l("帮扶方城市（可选）"), choices=[], validate_choice=False, validators=[Optional()],
                                    render_kw={"data-children-of": "#helper_province", "data-blank": _l("（全省）")})
    helped_province = SelectField(_l("被帮扶省份"), choices=[], validate_choice=False,
                                  validators=[DataRequired(message=_l("请选择省份。"))])
    helped_prefecture = SelectField(_l("被帮扶地市（可选）"), choices=[], validate_choice=False, validators=[Optional()],
                                    render_kw={"data-children-of": "#helped_province", "data-blank": _l("（全省）")})
    source = StringField(_l("依据（文件名称和文号）"), validators=[Optional(), Length(max=200)])


class DeleteRuleForm(FlaskForm):
    reason = StringField(_l("删除原因"), validators=[Optional(), Length(max=200)])
