"""Screening before review (the 2019 "奇葩需求" lesson): rules flag, curators decide.

Rules are rows a curator or admin edits (/curate/screening); each one that matches a submission
adds a flag with the rule's reason and what matched. Nothing is ever rejected automatically.
"""
import difflib
import re
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..audit.services import record
from ..errors import PermissionDenied, ServiceError
from ..extensions import db
from ..money import format_fen
from .models import OPEN_STATES, Category, Need, RuleKind, ScreeningRule, Unit

# The rules a new site starts with (the migration inserts the same rows; `key` keeps them apart
# from rules curators add). Caps are per beneficiary, in the rule's unit (fen for money).
DEFAULT_RULES = [
    {"key": "brands-luxury", "kind": "keywords", "name": "品牌和奢侈品",
     "words": "茅台\n五粮液\n中华烟\n苹果手机\niPhone\niPad\nMacBook\n路易威登\nLouis Vuitton\n古驰\nGucci\n香奈儿\nChanel\n"
              "爱马仕\nHermès\n普拉达\nPrada\n劳力士\nRolex\n欧米茄\n奔驰\n宝马\n保时捷\n名表\n名牌\n奢侈品\n钻戒\n金条\n"
              "高尔夫\n进口红酒\n燕窝\n冬虫夏草",
     "reason": "出现品牌或奢侈品名称。帮扶应满足基本生产生活需要，请核实是否确有必要。"},
    {"key": "charity-personal-items", "kind": "keywords", "name": "公益需求中的个人物品", "category": "charity",
     "words": "手机\n平板电脑\n笔记本电脑\n游戏机\n化妆品\n护肤品\n香水\n首饰\n项链\n手表\n香烟\n白酒\n"
              "私家车\n轿车\n摩托车\n电动车\n名牌服装",
     "reason": "公益需求中出现个人消费品。公益帮扶面向集体和困难群众的基本需要，请核实用途和受益人。"},
    {"key": "cap-charity-funds", "kind": "cap", "name": "公益资金人均上限", "category": "charity", "unit": "cny_fen",
     "cap": 300000, "reason": "人均金额超过公益类上限，请核实受益人数和预算。"},
    {"key": "cap-industry-funds", "kind": "cap", "name": "产业资金人均上限", "category": "industry", "unit": "cny_fen",
     "cap": 2000000, "reason": "人均金额超过产业类上限，请核实项目预算和带动人数。"},
    {"key": "cap-employment-funds", "kind": "cap", "name": "就业资金人均上限", "category": "employment",
     "unit": "cny_fen", "cap": 500000, "reason": "人均金额超过就业类上限，请核实。"},
    {"key": "cap-skills-funds", "kind": "cap", "name": "技能培训资金人均上限", "category": "skills", "unit": "cny_fen",
     "cap": 500000, "reason": "人均培训费用超过上限，请核实培训内容和人数。"},
    {"key": "cap-consumption-funds", "kind": "cap", "name": "消费帮扶资金人均上限", "category": "consumption",
     "unit": "cny_fen", "cap": 1000000, "reason": "人均金额超过消费类上限，请核实。"},
    {"key": "cap-charity-goods", "kind": "cap", "name": "公益物资人均上限", "category": "charity", "unit": "goods",
     "cap": 20, "reason": "人均物资数量偏多，请核实受益人数和物资用途。"},
    {"key": "duplicate-open-need", "kind": "duplicate", "name": "与本村未结束的需求重复", "threshold": 80,
     "reason": "与本村一项尚未结束的需求标题相近，可能重复发布。"},
]


@dataclass
class Finding:
    rule: ScreeningRule | None
    reason: str
    detail: str | None = None


def install_default_rules():
    """Add the built-in rules that are missing (by key); returns how many. The caller commits."""
    existing = set(db.session.scalars(select(ScreeningRule.key).where(ScreeningRule.key.is_not(None))))
    added = 0
    for row in DEFAULT_RULES:
        if row["key"] not in existing:
            db.session.add(ScreeningRule(active=True, **row))
            added += 1
    db.session.flush()
    return added


def active_rules():
    return db.session.scalars(select(ScreeningRule).where(ScreeningRule.active.is_(True)).order_by(ScreeningRule.id)).all()


def all_rules():
    return db.session.scalars(select(ScreeningRule).order_by(ScreeningRule.kind, ScreeningRule.id)).all()


def screen(need):
    """Every finding of the active rules on `need` (not saved: lifecycle.submit stores them)."""
    findings = []
    for rule in active_rules():
        if rule.category and rule.category != need.category:
            continue
        check = {RuleKind.KEYWORDS: _keywords, RuleKind.CAP: _cap, RuleKind.DUPLICATE: _duplicate}[RuleKind(rule.kind)]
        detail = check(rule, need)
        if detail:
            findings.append(Finding(rule, rule.reason, detail))
    return findings


def _keywords(rule, need):
    text = " ".join(filter(None, [need.title, need.description, need.goods_item, need.job_title])).casefold()
    hits = [w for w in rule.word_list if w.casefold() in text]
    return "、".join(hits) if hits else None


def _cap(rule, need):
    if rule.unit != need.unit or not need.target:
        return None
    people = need.people or need.households
    if people <= 0 or need.target <= rule.cap * people:
        return None
    if need.unit == Unit.CNY_FEN:
        return f"{format_fen(need.target // people)}/人 > {format_fen(rule.cap)}/人"
    return f"{need.target / people:.1f}/人 > {rule.cap}/人"


def _normal(title):
    return re.sub(r"[\W_]+", "", title or "").casefold()


def _duplicate(rule, need):
    threshold = (rule.threshold or 80) / 100
    others = db.session.execute(
        select(Need.id, Need.title).where(Need.village_id == need.village_id, Need.id != need.id,
                                          Need.status.in_([s.value for s in OPEN_STATES]))
    ).all()
    mine = _normal(need.title)
    for other_id, title in others:
        if difflib.SequenceMatcher(None, mine, _normal(title)).ratio() >= threshold:
            return f"#{other_id} {title}"
    return None


# Editing the rules -----------------------------------------------------------------------

def _validated(values):
    errors = {}
    kind = values.get("kind")
    if kind not in RuleKind.__members__.values():
        errors["kind"] = _l("请选择规则类型。")
    name = (values.get("name") or "").strip()
    if not name:
        errors["name"] = _l("请输入规则名称。")
    reason = (values.get("reason") or "").strip()
    if not reason:
        errors["reason"] = _l("请填写提示理由，审核员会看到它。")
    category = values.get("category") or None
    if category and category not in Category.__members__.values():
        errors["category"] = _l("未知的类别。")
    unit = values.get("unit") or None
    if unit and unit not in Unit.__members__.values():
        errors["unit"] = _l("未知的单位。")
    words = (values.get("words") or "").strip() or None
    cap = values.get("cap")
    threshold = values.get("threshold")
    if kind == RuleKind.KEYWORDS and not words:
        errors["words"] = _l("请至少填写一个关键词。")
    if kind == RuleKind.CAP:
        if not unit:
            errors["unit"] = _l("人均上限规则须指定单位。")
        if not cap or cap <= 0:
            errors["cap"] = _l("请填写大于 0 的人均上限。")
    if kind == RuleKind.DUPLICATE and threshold is not None and not 1 <= threshold <= 100:
        errors["threshold"] = _l("相似度应在 1 到 100 之间。")
    if errors:
        raise ServiceError(_l("请更正标出的项目。"), fields=errors)
    return {"kind": kind, "name": name, "reason": reason, "category": category, "unit": unit, "words": words,
            "cap": cap if kind == RuleKind.CAP else None,
            "threshold": (threshold or 80) if kind == RuleKind.DUPLICATE else None,
            "active": bool(values.get("active", True))}


def save_rule(actor, rule, values):
    """Create (rule=None) or change a screening rule as a curator or admin; audited."""
    if actor is None or not actor.is_curator:
        raise PermissionDenied(_l("只有审核员和管理员可以修改筛查规则。"))
    clean = _validated(values)
    created = rule is None
    if created:
        rule = ScreeningRule()
        db.session.add(rule)
    before = {k: getattr(rule, k) for k in clean} if not created else None
    for key, value in clean.items():
        setattr(rule, key, value)
    rule.updated_by_id = actor.id
    db.session.flush()
    record(actor, rule, "create_rule" if created else "update_rule", data={"before": before, "after": clean})
    db.session.commit()
    return rule
