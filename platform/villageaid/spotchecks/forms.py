"""Forms for drawing a spot check and recording a visit (they validate, never commit)."""
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, MultipleFileField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from ..formutil import options
from ..timeutil import local_date_today
from .models import ITEM_STATUS_LABELS, MAX_NOTES, MAX_SAMPLE, ItemStatus


class DrawForm(FlaskForm):
    """抽取: the region as province → prefecture → county (the deepest chosen), the period, size and seed."""

    province = SelectField(_l("省份"), choices=[], validate_choice=False)
    prefecture = SelectField(_l("地市（可选）"), choices=[], validate_choice=False,
                             render_kw={"data-children-of": "#province", "data-blank": _l("全省")})
    county = SelectField(_l("区县（可选）"), choices=[], validate_choice=False,
                         render_kw={"data-children-of": "#prefecture", "data-blank": _l("全地市")})
    period_start = DateField(_l("交付日期从"), validators=[Optional()])
    period_end = DateField(_l("交付日期到"), validators=[Optional()], description=_l("北京时间，含首尾两天。"))
    sample_size = IntegerField(_l("抽查数量"), default=10, validators=[Optional()],
                               render_kw={"min": 1, "max": MAX_SAMPLE, "inputmode": "numeric"},
                               description=_l("候选交付少于该数量时全部抽中。"))
    seed = StringField(_l("随机种子（可选）"), validators=[Optional(), Length(max=24)],
                       render_kw={"inputmode": "numeric", "autocomplete": "off"},
                       description=_l("留空则由系统生成。可填写公开摇号得到的数字，便于各方复核。"))

    def setup(self, province_rows, prefecture_rows, county_rows):
        """The selects' options: (code, name) rows for the chosen province and prefecture."""
        from flask_babel import gettext as _

        self.province.choices = options([("", _("请选择省份"))] + province_rows)
        self.prefecture.choices = options([("", _("全省"))] + prefecture_rows)
        self.county.choices = options([("", _("全地市"))] + county_rows)
        if self.period_end.data is None and self.period_start.data is None:
            today = local_date_today()
            self.period_start.data, self.period_end.data = today - timedelta(days=365), today
        return self

    @property
    def region_code(self):
        return self.county.data or self.prefecture.data or self.province.data or None

    @property
    def region(self):
        """Where a service's "region" error is shown (`formutil.report_service_error`)."""
        return self.province


class ResultForm(FlaskForm):
    """登记走访结果 for one sampled delivery."""

    result = RadioField(_l("走访结果"), choices=options(
        (status.value, ITEM_STATUS_LABELS[status]) for status in (ItemStatus.CONFIRMED, ItemStatus.DISCREPANCY)),
        validate_choice=False)
    visited_on = DateField(_l("走访日期"), validators=[Optional()], default=local_date_today)
    notes = TextAreaField(_l("说明（发现出入时必填，将公开显示）"), validators=[Length(max=MAX_NOTES)],
                          render_kw={"rows": 3},
                          description=_l("写明核对了什么、与登记的交付有何出入。不要写贫困户的姓名、电话等个人信息。"))
    evidence = MultipleFileField(_l("走访照片（可选）"), render_kw={"accept": "image/jpeg,image/png,image/webp"},
                                 description=_l("最多 6 张；上传时去除位置等元数据。照片只有审核员可见。"))


class CloseForm(FlaskForm):
    """结束抽查: a button (CSRF only)."""
