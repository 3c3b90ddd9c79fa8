"""Forms for posting a need, deciding on it and editing screening rules (they validate, never commit)."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (BooleanField, DateField, HiddenField, IntegerField, MultipleFileField, SelectField,
                     SelectMultipleField, StringField, TextAreaField)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from ..formutil import options
from ..money import yuan_to_fen
from .models import CATEGORY_LABELS, RULE_KIND_LABELS, UNIT_LABELS, Unit

CATEGORY_CHOICES = [(c.value, label) for c, label in CATEGORY_LABELS.items()]
UNIT_CHOICES = [(u.value, label) for u, label in UNIT_LABELS.items()]


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _count(label):
    return IntegerField(label, validators=[Optional(), NumberRange(min=0, max=1_000_000, message=_l("请输入 0 到 1000000 之间的整数。"))])


def _yuan(label):
    return StringField(label, validators=[Optional(), Length(max=20)], render_kw={"inputmode": "decimal"})


class NeedForm(FlaskForm):
    village_id = SelectField(_l("为哪个村发布"), choices=[], validate_choice=False, coerce=int)
    category = SelectField(_l("需求类别"), choices=options(CATEGORY_CHOICES))
    title = StringField(_l("标题"), validators=[DataRequired(message=_l("请输入标题。")), Length(max=120)],
                        description=_l("一句话说清需要什么，如：为村小学 120 名学生购买冬季取暖用煤"))
    description = TextAreaField(_l("需求说明"), validators=[Length(max=10000)], render_kw={"rows": 7},
                                description=_l("写明用途、受益对象和预算。支持 Markdown：**加粗**、- 列表、[链接](https://…)。"))
    unit = SelectField(_l("帮扶形式"), choices=options(UNIT_CHOICES))
    target = StringField(_l("目标数量"), validators=[Optional(), Length(max=20)],
                         description=_l("资金以元为单位，最多两位小数（如 30000.50）；岗位数、物资件数、志愿服务小时数为整数。"))
    job_title = StringField(_l("岗位名称"), validators=[Optional(), Length(max=80)])
    wage_min = _yuan(_l("月工资下限（元）"))
    wage_max = _yuan(_l("月工资上限（元）"))
    work_location = StringField(_l("工作地点"), validators=[Optional(), Length(max=120)])
    job_start_date = DateField(_l("到岗日期"), validators=[Optional()])
    goods_item = StringField(_l("物资名称和规格"), validators=[Optional(), Length(max=80)],
                             description=_l("如：加厚棉被（1.5 米）"))
    deadline = DateField(_l("截止日期"), validators=[Optional()], description=_l("北京时间，当天结束后截止"))
    households = _count(_l("受益户数"))
    people = _count(_l("受益人数"))
    poor_people = _count(_l("其中建档立卡贫困人口"))
    photos = MultipleFileField(_l("照片（最多 6 张）"), render_kw={"accept": "image/jpeg,image/png,image/webp"},
                               description=_l("JPEG、PNG 或 WebP，每张不超过 8 MB。上传时会去除拍摄地点等信息。"))
    remove_photos = MultiCheckboxField(_l("删除已有照片"), choices=[], coerce=int, validate_choice=False)
    action = HiddenField()

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        self.parsed_target = self._amount(self.target, money=self.unit.data == Unit.CNY_FEN)
        self.parsed_wage_min = self._amount(self.wage_min, money=True)
        self.parsed_wage_max = self._amount(self.wage_max, money=True)
        return ok and not any(f.errors for f in (self.target, self.wage_min, self.wage_max))

    @staticmethod
    def _amount(field, money):
        """Integer fen from yuan (two decimals at most), or a whole number; None when empty."""
        text = (field.data or "").strip()
        if not text:
            return None
        try:
            if money:
                return yuan_to_fen(text)
            number = int(text.replace(",", "").replace("，", ""))
        except ValueError:
            field.errors.append(_l("请输入金额，最多两位小数，如 30000 或 30000.50。") if money else _l("请输入整数。"))
            return None
        return number

    def values(self):
        """The typed values in the services' terms (see needs.services.FIELDS)."""
        return {
            "category": self.category.data, "unit": self.unit.data, "title": self.title.data,
            "description": self.description.data, "target": self.parsed_target,
            "job_title": self.job_title.data, "wage_min_fen": self.parsed_wage_min, "wage_max_fen": self.parsed_wage_max,
            "work_location": self.work_location.data, "job_start_date": self.job_start_date.data,
            "goods_item": self.goods_item.data, "deadline": self.deadline.data,
            "households": self.households.data, "people": self.people.data, "poor_people": self.poor_people.data,
        }

    # The services name money fields by their stored column; errors land on the field typed in.
    FIELD_FOR = {"wage_min_fen": "wage_min", "wage_max_fen": "wage_max"}

    def add_errors(self, fields):
        for name, message in fields.items():
            field = getattr(self, self.FIELD_FOR.get(name, name), None)
            if field is not None:
                field.errors = list(field.errors) + [message]

    @classmethod
    def for_need(cls, need, **kwargs):
        """A form filled from a saved need (amounts back in yuan)."""
        from ..money import fen_to_yuan

        def yuan(fen):
            return None if fen is None else str(fen_to_yuan(fen))

        target = yuan(need.target) if need.unit == Unit.CNY_FEN else (str(need.target) if need.target else None)
        return cls(
            data={"village_id": need.village_id, "category": need.category, "unit": need.unit, "title": need.title,
                  "description": need.description, "target": target, "job_title": need.job_title,
                  "wage_min": yuan(need.wage_min_fen), "wage_max": yuan(need.wage_max_fen),
                  "work_location": need.work_location, "job_start_date": need.job_start_date,
                  "goods_item": need.goods_item, "deadline": need.deadline, "households": need.households or None,
                  "people": need.people or None, "poor_people": need.poor_people or None},
            **kwargs,
        )


class DecisionForm(FlaskForm):
    """通过 / 驳回 / 退回修改 / 撤回 / 结项: the reason is required where the service says so."""

    reason = TextAreaField(_l("理由或修改意见"), validators=[Length(max=2000)], render_kw={"rows": 2})


class RuleForm(FlaskForm):
    kind = SelectField(_l("规则类型"), choices=options([(k.value, label) for k, label in RULE_KIND_LABELS.items()]))
    name = StringField(_l("名称"), validators=[InputRequired(message=_l("请输入规则名称。")), Length(max=80)])
    category = SelectField(_l("适用类别"), choices=options([("", _l("全部类别"))] + CATEGORY_CHOICES))
    unit = SelectField(_l("单位（人均上限规则）"), choices=options([("", _l("任意"))] + UNIT_CHOICES))
    words = TextAreaField(_l("关键词（每行一个）"), validators=[Length(max=5000)], render_kw={"rows": 4})
    cap = IntegerField(_l("人均上限（资金以分计，其余按单位）"), validators=[Optional(), NumberRange(min=1)])
    threshold = IntegerField(_l("标题相似度（%）"), validators=[Optional(), NumberRange(min=1, max=100)])
    reason = StringField(_l("提示理由（审核员可见）"), validators=[InputRequired(message=_l("请填写提示理由。")), Length(max=300)])
    active = BooleanField(_l("启用"), default=True)

    def values(self):
        return {"kind": self.kind.data, "name": self.name.data, "category": self.category.data or None,
                "unit": self.unit.data or None, "words": self.words.data, "cap": self.cap.data,
                "threshold": self.threshold.data, "reason": self.reason.data, "active": self.active.data}
