"""Organisation registration and member invitation forms."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from ..formutil import options

INDUSTRIES = [
    ("A", _l("A 农、林、牧、渔业")), ("B", _l("B 采矿业")), ("C", _l("C 制造业")),
    ("D", _l("D 电力、热力、燃气及水生产和供应业")), ("E", _l("E 建筑业")), ("F", _l("F 批发和零售业")),
    ("G", _l("G 交通运输、仓储和邮政业")), ("H", _l("H 住宿和餐饮业")),
    ("I", _l("I 信息传输、软件和信息技术服务业")), ("J", _l("J 金融业")), ("K", _l("K 房地产业")),
    ("L", _l("L 租赁和商务服务业")), ("M", _l("M 科学研究和技术服务业")),
    ("N", _l("N 水利、环境和公共设施管理业")), ("O", _l("O 居民服务、修理和其他服务业")), ("P", _l("P 教育")),
    ("Q", _l("Q 卫生和社会工作")), ("R", _l("R 文化、体育和娱乐业")), ("S", _l("S 公共管理、社会保障和社会组织")),
    ("T", _l("T 国际组织")),
]
KINDS = [("enterprise", _l("民营企业")), ("ngo", _l("社会组织"))]
SIZES = [("micro", _l("微型")), ("small", _l("小型")), ("medium", _l("中型")), ("large", _l("大型"))]


class OrganizationForm(FlaskForm):
    kind = SelectField(_l("类型"), choices=options(KINDS))
    name = StringField(_l("名称"), validators=[DataRequired(message=_l("请输入名称。")), Length(max=120)])
    credit_code = StringField(_l("统一社会信用代码"), validators=[
        DataRequired(message=_l("请输入统一社会信用代码。")),
        Length(min=18, max=18, message=_l("统一社会信用代码应为 18 位。")),
    ], description=_l("18 位，见营业执照或登记证书"))
    industry = SelectField(_l("行业门类（国民经济行业分类）"), choices=options(INDUSTRIES))
    province_code = SelectField(_l("所在省份"), choices=[], validate_choice=False,
                                validators=[DataRequired(message=_l("请选择省份。"))])
    prefecture_code = SelectField(_l("所在地市"), choices=[], validate_choice=False, validators=[Optional()],
                                  render_kw={"data-children-of": "#province_code", "data-blank": _l("（省级，不选地市）")})
    size = SelectField(_l("规模"), choices=options(SIZES))
    contact_name = StringField(_l("联系人"), validators=[DataRequired(message=_l("请输入联系人。")), Length(max=40)])
    contact_phone = StringField(_l("联系电话"), validators=[
        DataRequired(message=_l("请输入联系电话。")),
        Regexp(r"^[0-9+\- ]{7,20}$", message=_l("电话号码格式不正确。")),
    ])
    description = TextAreaField(_l("简介（可选）"), validators=[Length(max=2000)])
