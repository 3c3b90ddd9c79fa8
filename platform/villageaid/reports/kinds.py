"""What can be reported: a registry of kinds, so a feature makes its objects reportable in one line.

    register("need", Need, _l("需求"), lambda n: path_for("needs.show", need_id=n.id),
             visible=lambda n: n.is_public, title=lambda n: n.title)

A kind says how to link to the object, whether the public can see it (only what the public can see
can be reported by the public), its title, and its region code (whose curators handle the case).
"""
from dataclasses import dataclass
from typing import Any, Callable

from flask import current_app, has_request_context, url_for
from flask_babel import lazy_gettext as _l

from ..extensions import db


@dataclass(frozen=True)
class ReportableKind:
    key: str
    model: Any
    label: Any  # lazy string: 需求, 帮扶方, 认捐 …
    url: Callable[[Any], str]
    visible: Callable[[Any], bool]
    title: Callable[[Any], str]
    region: Callable[[Any], str]

    def get(self, obj_id):
        """The object with `obj_id` if the public may see (and so report) it, else None."""
        obj = db.session.get(self.model, obj_id)
        return obj if obj is not None and self.visible(obj) else None


KINDS: dict[str, ReportableKind] = {}


def path_for(endpoint, **values):
    """The object's page as a path, inside a request or not (notifications are also sent by jobs)."""
    if has_request_context():
        return url_for(endpoint, **values)
    with current_app.test_request_context("/"):
        return url_for(endpoint, **values)


def register(key, model, label, url, *, visible=lambda obj: True, title=lambda obj: obj.name,
             region=lambda obj: obj.region_code):
    KINDS[key] = ReportableKind(key, model, label, url, visible, title, region)


def kind_of(obj):
    for kind in KINDS.values():
        if isinstance(obj, kind.model):
            return kind
    return None


def register_core_kinds():
    """Needs and organisations; pledges and deliveries add a line each once their pages exist."""
    from ..needs.models import Need
    from ..organizations.models import Organization

    register("need", Need, _l("需求"), lambda n: path_for("needs.show", need_id=n.id),
             visible=lambda n: n.is_public, title=lambda n: n.title)
    register("organization", Organization, _l("帮扶方"), lambda o: path_for("organizations.show", org_id=o.id),
             visible=lambda o: o.is_verified)
