"""Administrative divisions, keyed by their 12-digit 统计用区划代码."""
import enum

from sqlalchemy import Enum, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db


class Level(enum.IntEnum):
    PROVINCE = 1
    PREFECTURE = 2
    COUNTY = 3
    TOWNSHIP = 4
    VILLAGE = 5


# How many leading digits of a 12-digit code identify a division at each level.
PREFIX_LENGTH = {Level.PROVINCE: 2, Level.PREFECTURE: 4, Level.COUNTY: 6, Level.TOWNSHIP: 9, Level.VILLAGE: 12}


class Region(db.Model):
    __tablename__ = "region"

    code: Mapped[str] = mapped_column(String(12), primary_key=True)
    name: Mapped[str] = mapped_column(String(80), index=True)
    level: Mapped[Level] = mapped_column(Enum(Level, name="region_level", native_enum=False, validate_strings=True))
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("region.code"), index=True)

    @property
    def prefix(self):
        return self.code[: PREFIX_LENGTH[self.level]]

    def contains(self, code):
        """Whether the division with 12-digit `code` lies within this one."""
        return bool(code) and code.startswith(self.prefix)

    def __repr__(self):
        return f"<Region {self.code} {self.name}>"
