"""Turning rows into plain search documents. Features register their searchable models here."""
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Callable

from sqlalchemy import select

from ..extensions import db


@dataclass(frozen=True)
class Source:
    kind: str
    model: Any
    to_document: Callable[[Any], dict]  # the document of a public row
    public: Callable[[], Any]  # SQL condition selecting the rows that belong in the index
    # kind → function(ids of that kind) → a SELECT of this kind's ids whose documents show those rows
    # (a need's document holds its village's name and industries: renaming the village re-indexes them)
    follows: dict = field(default_factory=dict)

    def is_public(self, obj):
        return bool(db.session.scalar(select(self.model.id).where(self.model.id == obj.id, self.public())))

    @property
    def dependents(self):
        """{kind: function(ids) → SELECT of that kind's ids} for the sources that follow this one."""
        return {s.kind: s.follows[self.kind] for s in SOURCES.values() if self.kind in s.follows}


SOURCES: dict[str, Source] = {}


def register(kind, model, to_document, public, follows=None):
    SOURCES[kind] = Source(kind, model, to_document, public, dict(follows or {}))


def kind_of(obj):
    for source in SOURCES.values():
        if isinstance(obj, source.model):
            return source.kind
    return None


def source_for_table(table):
    """The source whose model maps `table` (an UPDATE or DELETE statement's target), or None."""
    name = getattr(table, "name", None)
    for source in SOURCES.values():
        if source.model.__table__.name == name:
            return source
    return None


def with_stamp(doc):
    """Add a stamp that changes whenever the document does (what `search verify` compares)."""
    payload = json.dumps(doc, sort_keys=True, default=str, ensure_ascii=False)
    return {**doc, "stamp": hashlib.sha1(payload.encode()).hexdigest()[:16]}


def village_document(v):
    return {
        "doc_id": f"village:{v.id}", "kind": "village", "obj_id": v.id, "title": v.name,
        "body": " ".join(filter(None, [v.industries, v.description, v.township_name])),
        "place": v.place_names + [v.township_name, v.name],
        "province": v.province_code, "prefecture": v.prefecture_code, "county": v.county_code,
        "status": v.status, "created": v.created_at,
    }


def organization_document(o):
    return {
        "doc_id": f"organization:{o.id}", "kind": "organization", "obj_id": o.id, "title": o.name,
        "body": o.description or "", "place": o.place_names,
        "province": o.province_code, "prefecture": o.prefecture_code, "status": o.status,
        "created": o.created_at,
    }


def register_core_sources():
    from ..organizations.models import Organization
    from ..villages.models import Village

    register("village", Village, village_document, lambda: Village.status == "verified")
    register("organization", Organization, organization_document, lambda: Organization.status == "verified")
