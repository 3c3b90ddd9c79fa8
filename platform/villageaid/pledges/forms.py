"""Forms for pledging, reporting deliveries and deciding on them (they validate, never commit)."""
import uuid

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (BooleanField, DateField, HiddenField, IntegerField, MultipleFileField, SelectField, StringField,
                     TextAreaField)
from wtforms.validators import Length, NumberRange, Optional

from ..formutil import options
from ..money import fen_to_yuan, yuan_to_fen
from .models import MAX_EVIDENCE, RETENTION_MONTHS, PledgeKind


def _parse_amount(field, money):
    """Integer fen from yuan (two decimals at most), or a whole number; None when empty."""
    text = (field.data or "").strip()
    if not text:
        return None
    try:
        if money:
            return yuan_to_fen(text)
        return int(text.replace(",", "").replace("，", ""))
    except ValueError:
        field.errors.append(_l("请输入金额，最多两位小数，如 5000 或 5000.50。") if money else _l("请输入整数。"))
        return None


class FieldErrors:
    """Put a service's field errors on the fields people typed them in."""

    FIELD_FOR = {}

    def add_errors(self, fields):
        for name, message in fields.items():
            field = getattr(self, self.FIELD_FOR.get(name, name), None)
            if field is not None:
                field.errors = list(field.errors) + [message]


class PledgeForm(FieldErrors, FlaskForm):
    """认捐: the fields shown depend on the need's kind (set by `for_need`)."""

    organization_id = SelectField(_l("以谁的名义认捐"), choices=[], validate_choice=False)
    quantity = StringField(_l("认捐数量"), validators=[Length(max=20)])
    promised_on = DateField(_l("承诺交付日期"), validators=[Optional()],
                            description=_l("北京时间。逾期未交付会收到提醒，宽限期后认捐自动失效。"))
    anonymous = BooleanField(_l("匿名认捐（个人认捐时公开显示为“爱心人士”）"))
    job_title = StringField(_l("提供的岗位"), validators=[Optional(), Length(max=80)])
    wage = StringField(_l("月工资（元）"), validators=[Optional(), Length(max=20)], render_kw={"inputmode": "decimal"})
    work_location = StringField(_l("工作地点"), validators=[Optional(), Length(max=120)])
    plan = TextAreaField(_l("项目计划"), validators=[Length(max=5000)], render_kw={"rows": 4},
                         description=_l("建设内容、投资安排、带动贫困户的方式和时间表。"))
    note = TextAreaField(_l("给村里的留言（可选）"), validators=[Length(max=1000)], render_kw={"rows": 2})
    token = HiddenField()  # one pledge per form, however often it is submitted

    FIELD_FOR = {"wage_fen": "wage"}

    def setup(self, need, organizations):
        """Choices, labels and a fresh idempotency token for `need` and the user's organisations."""
        from .models import kind_for

        self.kind = kind_for(need)
        self.money = need.unit == "cny_fen"
        individual = [] if self.kind in (PledgeKind.JOBS, PledgeKind.PROJECT) else [("", _l("个人（爱心人士）"))]
        self.organization_id.choices = options(individual + [(str(o.id), o.name) for o in organizations])
        self.quantity.label.text = {
            PledgeKind.FUNDS: _l("认捐金额（元）"), PledgeKind.PROJECT: _l("投资金额（元）"),
            PledgeKind.JOBS: _l("提供岗位数（个）"), PledgeKind.GOODS: _l("物资数量（件）"),
            PledgeKind.VOLUNTEER: _l("志愿服务时长（小时）"),
        }[self.kind]
        if self.money:
            self.quantity.render_kw = {"inputmode": "decimal"}
        else:
            self.quantity.render_kw = {"inputmode": "numeric"}
        if not self.token.data:
            self.token.data = uuid.uuid4().hex
        return self

    def fill(self, values):
        """Defaults from the services (the need's job, a promised date)."""
        if self.promised_on.data is None:
            self.promised_on.data = values.get("promised_on")
        if self.kind == PledgeKind.JOBS:
            self.job_title.data = self.job_title.data or values.get("job_title")
            self.work_location.data = self.work_location.data or values.get("work_location")
            if not self.wage.data and values.get("wage_fen") is not None:
                self.wage.data = str(fen_to_yuan(values["wage_fen"]))
        self.anonymous.data = bool(values.get("anonymous"))

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        self.parsed_quantity = _parse_amount(self.quantity, money=self.money)
        self.parsed_wage = _parse_amount(self.wage, money=True)
        return ok and not (self.quantity.errors or self.wage.errors)

    def values(self):
        return {
            "quantity": self.parsed_quantity, "organization_id": self.organization_id.data or None,
            "anonymous": self.anonymous.data, "promised_on": self.promised_on.data, "note": self.note.data,
            "job_title": self.job_title.data, "wage_fen": self.parsed_wage, "work_location": self.work_location.data,
            "plan": self.plan.data,
        }


class DeliveryForm(FieldErrors, FlaskForm):
    """登记交付: quantity, date, note and evidence; milestones for projects."""

    quantity = StringField(_l("本次交付数量"), validators=[Length(max=20)])
    delivered_on = DateField(_l("交付日期"), validators=[Optional()])
    milestone = StringField(_l("完成的里程碑"), validators=[Optional(), Length(max=120)],
                            description=_l("如：烘干房主体完工、设备安装调试完成"))
    completion_percent = IntegerField(_l("项目总体完成（%）"), validators=[Optional(), NumberRange(
        min=1, max=100, message=_l("完成百分比应在 1 到 100 之间。"))])
    note = TextAreaField(_l("说明"), validators=[Length(max=1000)], render_kw={"rows": 3},
                         description=_l("如转账时间和收款账户、物资清单、招聘人员所在村民小组。请勿填写身份证号等个人信息。"))
    evidence = MultipleFileField(_l("凭证（转账回单、收据、照片，最多 %(n)s 个）", n=MAX_EVIDENCE),
                                 render_kw={"accept": "image/jpeg,image/png,image/webp"},
                                 description=_l("JPEG、PNG 或 WebP，每个不超过 8 MB。上传时会去除拍摄地点等信息，只有双方和审核员可见。"))

    def setup(self, pledge):
        self.kind = pledge.kind
        self.money = pledge.need.unit == "cny_fen"
        self.quantity.label.text = {
            PledgeKind.FUNDS: _l("本次交付金额（元）"), PledgeKind.PROJECT: _l("本阶段投资金额（元）"),
            PledgeKind.JOBS: _l("本次招聘本村人数"), PledgeKind.GOODS: _l("本次交付物资数量（件）"),
            PledgeKind.VOLUNTEER: _l("本次志愿服务时长（小时）"),
        }[self.kind]
        self.delivered_on.label.text = _l("到岗日期") if self.kind == PledgeKind.JOBS else _l("交付日期")
        return self

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        self.parsed_quantity = _parse_amount(self.quantity, money=self.money)
        return ok and not self.quantity.errors

    def values(self):
        return {"quantity": self.parsed_quantity, "delivered_on": self.delivered_on.data, "note": self.note.data,
                "milestone": self.milestone.data, "completion_percent": self.completion_percent.data}


class ReasonForm(FlaskForm):
    """接受 / 婉拒 / 取消 / 确认 / 异议 / 核实 / 驳回: the reason is required where the service says so."""

    reason = TextAreaField(_l("理由或说明"), validators=[Length(max=2000)], render_kw={"rows": 2})


class RetentionForm(FlaskForm):
    months = SelectField(_l("满几个月"), choices=options([(str(m), _l("%(n)s 个月", n=m)) for m in RETENTION_MONTHS]))
    retained = IntegerField(_l("仍在岗人数"), validators=[Optional(), NumberRange(min=0, max=100_000)])


class TrackForm(FlaskForm):
    """The lookup box on /track (a GET form: no CSRF needed)."""

    class Meta:
        csrf = False

    code = StringField(_l("认捐追踪码"), validators=[Length(max=30)], render_kw={"placeholder": "WQ-2026-7K3F9Q"})
