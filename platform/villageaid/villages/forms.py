"""Village registration form."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import IntegerField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from ..formutil import options
from .models import POVERTY_CAUSES

CAUSE_LABELS = {
    "因病": _l("因病"), "因残": _l("因残"), "因学": _l("因学"), "因灾": _l("因灾"), "缺土地": _l("缺土地"),
    "缺水": _l("缺水"), "缺技术": _l("缺技术"), "缺劳力": _l("缺劳力"), "缺资金": _l("缺资金"),
    "交通条件落后": _l("交通条件落后"), "自身发展动力不足": _l("自身发展动力不足"),
}


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _count(label):
    return IntegerField(label, validators=[
        InputRequired(message=_l("请输入数字。")), NumberRange(min=0, max=100000, message=_l("请输入 0 到 100000 之间的整数。")),
    ])


class VillageForm(FlaskForm):
    province_code = SelectField(_l("省份"), choices=[], validate_choice=False, validators=[DataRequired(message=_l("请选择省份。"))])
    prefecture_code = SelectField(_l("地市"), choices=[], validate_choice=False, validators=[DataRequired(message=_l("请选择地市。"))],
                                  render_kw={"data-children-of": "#province_code", "data-blank": _l("请选择地市")})
    county_code = SelectField(_l("区县"), choices=[], validate_choice=False, validators=[DataRequired(message=_l("请选择区县。"))],
                              render_kw={"data-children-of": "#prefecture_code", "data-blank": _l("请选择区县")})
    township_name = StringField(_l("乡镇"), validators=[DataRequired(message=_l("请输入乡镇名称。")), Length(max=80)])
    name = StringField(_l("村名"), validators=[DataRequired(message=_l("请输入村名。")), Length(max=80)])
    code = StringField(_l("村级区划代码（12 位）"), validators=[DataRequired(message=_l("请输入区划代码。")), Length(max=12)],
                       description=_l("统计用区划代码，前 6 位为区县代码"))
    title = StringField(_l("您的职务"), default=_l("村委会主任"), validators=[DataRequired(), Length(max=40)])
    households = _count(_l("总户数"))
    poor_households = _count(_l("建档立卡贫困户数"))
    poor_population = _count(_l("建档立卡贫困人口"))
    poverty_causes = MultiCheckboxField(_l("主要致贫原因"), choices=options((c, CAUSE_LABELS[c]) for c in POVERTY_CAUSES), validators=[Optional()])
    industries = StringField(_l("特色产业"), validators=[Length(max=200)], description=_l("如：花椒、核桃、乡村旅游"))
    description = TextAreaField(_l("村情简介（可选）"), validators=[Length(max=4000)])


class ImportForm(FlaskForm):
    """批量导入 — a curator's file of registered villages."""

    file = FileField(_l("XLSX 或 CSV 文件"), validators=[FileRequired(message=_l("请选择要导入的文件。"))],
                     render_kw={"accept": ".xlsx,.csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet,text/csv"},
                     description=_l("使用导入模板的列；最多 20000 行、10 MB。"))
