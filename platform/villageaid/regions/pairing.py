"""东西部扶贫协作结对关系: which eastern province or city helps which western province or prefecture.

The table lives in the database (matching.models.PairingRule) so that admins can edit it as policy
changes; it starts as the 2016 arrangement (国务院办公厅《关于进一步加强东西部扶贫协作工作的指导意见》,
seed 001), shipped as data/east_west_pairing_2016.csv and loaded by the migration (`load_table()`).
A row with no helped prefecture pairs the whole helped province; a row with no helper city is the
helper province as a whole.
"""
import csv
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from ..extensions import db
from .models import Level, Region

PAIRING_CSV = Path(__file__).resolve().parents[1] / "data" / "east_west_pairing_2016.csv"
SOURCE_2016 = "国办发〔2016〕69号 东西部扶贫协作结对关系"


@dataclass(frozen=True)
class Pairing:
    helper_province: str
    helper_city: str | None
    helped_province: str
    helped_prefecture: str | None
    helper_code: str | None = None  # the helper city's code when named, else the province's

    @property
    def helper_name(self):
        return self.helper_city or self.helper_province


def csv_rows(path=PAIRING_CSV):
    """Every pairing in the shipped CSV, by name, in its order."""
    with open(path, encoding="utf-8") as handle:
        return [Pairing(r["helper_province"].strip(), r["helper_city"].strip() or None,
                        r["helped_province"].strip(), r["helped_prefecture"].strip() or None)
                for r in csv.DictReader(handle)]


def _rule_query():
    from ..matching.models import PairingRule

    return select(PairingRule).order_by(PairingRule.id)


def _as_pairing(rule):
    return Pairing(*rule.helper_names, *rule.helped_names, rule.helper_prefecture_code or rule.helper_province_code)


def rows():
    """Every pairing in the table, in the order it was entered."""
    return [_as_pairing(rule) for rule in db.session.scalars(_rule_query())]


def partners_of(province_name, prefecture_name=None):
    """The eastern partners of a western place: pairings of its prefecture first, then of its whole province."""
    matches = [p for p in rows() if p.helped_province == province_name
               and (p.helped_prefecture is None or p.helped_prefecture == prefecture_name)]
    return sorted(matches, key=lambda p: p.helped_prefecture is None)


def helper_region(pairing):
    """The Region row of a pairing's helper (the city when named, else the province), or None."""
    if pairing.helper_code:
        return db.session.get(Region, pairing.helper_code)
    province = db.session.scalars(select(Region).where(Region.name == pairing.helper_province,
                                                       Region.parent_code.is_(None))).first()
    if province is None or pairing.helper_city is None:
        return province
    return db.session.scalars(select(Region).where(Region.name == pairing.helper_city,
                                                   Region.parent_code == province.code)).first()


def resolve_codes(row, session=None):
    """(helper province, helper city or None, helped province, helped prefecture or None) codes of a
    named row, or None when a name is not in the division table."""
    session = session or db.session

    def province(name):
        return session.scalar(select(Region.code).where(Region.name == name, Region.level == Level.PROVINCE))

    def prefecture(name, parent):
        return session.scalar(select(Region.code).where(Region.name == name, Region.parent_code == parent))

    helper, helped = province(row.helper_province), province(row.helped_province)
    if helper is None or helped is None:
        return None
    city = prefecture(row.helper_city, helper) if row.helper_city else None
    target = prefecture(row.helped_prefecture, helped) if row.helped_prefecture else None
    if (row.helper_city and city is None) or (row.helped_prefecture and target is None):
        return None
    return helper, city, helped, target


def load_table(session=None, path=PAIRING_CSV):
    """Insert the shipped rows that are missing from the table; returns how many were added.

    Idempotent; a row an admin deleted comes back only if this is run again (the migration runs it once).
    """
    from ..matching.models import PairingRule

    session = session or db.session
    existing = {(r.helper_province_code, r.helper_prefecture_code, r.helped_province_code, r.helped_prefecture_code)
                for r in session.scalars(select(PairingRule))}
    added = 0
    for row in csv_rows(path):
        codes = resolve_codes(row, session)
        if codes is None or codes in existing:
            continue
        session.add(PairingRule(helper_province_code=codes[0], helper_prefecture_code=codes[1],
                                helped_province_code=codes[2], helped_prefecture_code=codes[3], source=SOURCE_2016))
        existing.add(codes)
        added += 1
    session.flush()
    return added
