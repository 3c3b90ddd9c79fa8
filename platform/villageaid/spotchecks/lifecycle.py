"""The spot check's and its items' lifecycles: one transition table each, one `transition()`, one function per action.

    Spot check: open (drawn) → closed (every sampled delivery has its result)
    Item:       pending → confirmed (核实无误) | discrepancy (发现出入, with notes)

A discrepancy reopens the delivery in the same transaction (`pledges.lifecycle.reopen`: verified →
reopened): it stops counting — the pledge's and the need's verified sums drop, the pledge and the need
step back — until a curator of the region verifies it again or rejects it through the usual delivery
queue. Only curators of the check's region (and admins) draw, record and close; each action writes
an audit event and commits with `queue.commit()`. Statuses move by conditional UPDATEs, so of two
curators recording the same visit at once exactly one wins, and a check closes only when no item is
pending at that moment (the UPDATE's own NOT EXISTS), whatever else is happening.
"""
import uuid
from pathlib import Path

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, func, select, update

from .. import queue
from ..audit.services import record
from ..errors import Conflict, PermissionDenied, ServiceError
from ..extensions import db
from ..pledges import evidence as evidence_files
from ..pledges import lifecycle as pledges_lifecycle
from ..pledges.models import DeliveryStatus
from ..policy import curates
from ..timeutil import utcnow
from . import services
from .models import (CHECK_STATUS_LABELS, ITEM_STATUS_LABELS, CheckStatus, ItemStatus, SpotCheck, SpotCheckEvidence,
                     SpotCheckItem)

C, I = CheckStatus, ItemStatus

CHECK_ALLOWED = {
    C.OPEN: {C.CLOSED},
    C.CLOSED: set(),
}

ITEM_ALLOWED = {
    I.PENDING: {I.CONFIRMED, I.DISCREPANCY},
    I.CONFIRMED: set(),
    I.DISCREPANCY: set(),
}

# model → (status enum, table, labels)
MACHINES = {
    SpotCheck: (CheckStatus, CHECK_ALLOWED, CHECK_STATUS_LABELS),
    SpotCheckItem: (ItemStatus, ITEM_ALLOWED, ITEM_STATUS_LABELS),
}


class TransitionError(Conflict):
    """A status change the check's or the item's table does not allow (HTTP 409)."""

    def __init__(self, model, current, target):
        status_enum, _table, labels = MACHINES[model]
        current, target = status_enum(current), status_enum(target)
        message = (_l("该抽查当前为“%(status)s”，不能执行此操作。", status=labels[current]) if model is SpotCheck
                   else _l("该交付的走访结果已登记为“%(status)s”，不能再次登记。", status=labels[current]))
        super().__init__(message)
        self.model, self.current, self.target = model, current, target


def check(model, current, target):
    """Raise TransitionError unless `model`'s table allows current → target."""
    status_enum, table, _labels = MACHINES[model]
    if status_enum(target) not in table[status_enum(current)]:
        raise TransitionError(model, current, target)


def transition(obj, target, actor, *, action, reason=None, values=None, condition=None, data=None, public=True):
    """Move a check or an item to `target` with a conditional UPDATE (setting `values` too) and write the
    audit event; the caller commits. With a `condition` that no longer holds, nothing moves and None is
    returned; a status someone else changed first raises TransitionError."""
    model = type(obj)
    status_enum = MACHINES[model][0]
    current, target = status_enum(obj.status), status_enum(target)
    check(model, current, target)
    query = update(model).where(model.id == obj.id, model.status == current.value)
    if condition is not None:
        query = query.where(condition)
    result = db.session.execute(query.values(status=target.value, status_changed_at=utcnow(), **(values or {}))
                                .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        db.session.refresh(obj)
        if condition is None or status_enum(obj.status) != current:  # someone else moved it first
            raise TransitionError(model, obj.status, target)
        return None
    db.session.refresh(obj)
    record(actor, obj, action, from_state=current, to_state=target, reason=reason, public=public, data=data)
    return obj


def _require_curator(actor, region_code):
    if not curates(actor, region_code):
        raise PermissionDenied(_l("只有该地区的审核员可以抽查这里的交付。"))


# Drawing ---------------------------------------------------------------------------------------

def draw(actor, region_code, period_start, period_end, sample_size, seed=None):
    """抽取 — draw a reproducible random sample of the region's verified deliveries of the period.

    `seed` None draws a fresh one; either way it is recorded on the check, with the number of
    candidates and their digest, so the same draw can be made again (see services).
    """
    region = services.get_region(region_code)
    if region is not None:
        _require_curator(actor, region.code)
    elif not getattr(actor, "is_curator", False):
        raise PermissionDenied(_l("只有审核员可以抽查交付。"))
    errors = services.draw_errors(region, period_start, period_end, sample_size, seed)
    if errors:
        raise ServiceError(_l("请更正标出的项目。"), fields=errors)
    seed = services.new_seed() if seed is None else seed
    ids = services.candidate_ids(region.code, period_start, period_end)
    if not ids:
        message = _l("%(region)s 在这段时间内没有已核实的交付，无从抽查。", region=region.name)
        raise ServiceError(message, fields={"region": message})
    sample = services.draw_sample(ids, seed, sample_size)
    spot_check = SpotCheck(region_code=region.code, period_start=period_start, period_end=period_end,
                           sample_size=sample_size, seed=seed, candidate_count=len(ids),
                           candidates_digest=services.digest(ids), status=C.OPEN.value, created_by_id=actor.id,
                           status_changed_at=utcnow())
    spot_check.items = [SpotCheckItem(position=n, delivery_id=delivery_id, status=I.PENDING.value)
                        for n, delivery_id in enumerate(sample, start=1)]
    db.session.add(spot_check)
    db.session.flush()
    record(actor, spot_check, "draw_spot_check", to_state=C.OPEN, public=True,
           data={"region": region.code, "period": [period_start.isoformat(), period_end.isoformat()],
                 "seed": seed, "candidates": len(ids), "digest": spot_check.candidates_digest, "sample": sample})
    queue.commit()
    return spot_check


# Recording a visit ------------------------------------------------------------------------------

def evidence_folder(item_id):
    return Path(current_app.config["DATA_DIR"]) / "uploads" / "spotchecks" / str(item_id)


def evidence_path(evidence):
    return evidence_folder(evidence.item_id) / evidence.filename


def _store_evidence(item, prepared, actor):
    """Write the re-encoded photos (pledges.evidence prepared them) and add their rows."""
    for photo in prepared:
        filename = f"{uuid.uuid4().hex}.jpg"
        evidence_files.write_file(evidence_folder(item.id) / filename, photo.photo.data)
        item.evidence.append(SpotCheckEvidence(
            filename=filename, width=photo.photo.width, height=photo.photo.height, size_bytes=len(photo.photo.data),
            sha256=photo.sha256, uploaded_by_id=getattr(actor, "id", None)))
    db.session.flush()


def record_result(actor, item, result, notes=None, visited_on=None, uploads=()):
    """登记走访结果 — what the visit found: confirmed, or a discrepancy (notes required, public), with
    optional photos. A discrepancy reopens the delivery if it is still verified (another check may
    have reopened it already, or a curator rejected it since the draw)."""
    spot_check = item.check
    _require_curator(actor, spot_check.region_code)
    result = (result or "").strip()
    notes = (notes or "").strip() or None
    uploads = [u for u in uploads if u is not None and getattr(u, "filename", None)]
    errors = services.result_errors(spot_check, result, notes, visited_on, uploads=len(uploads))
    prepared = evidence_files.prepare_all(uploads, errors)  # re-encoded without EXIF/GPS, or an error
    if errors:
        raise ServiceError(_l("请更正标出的项目。"), fields=errors)
    target = I(result)
    if not item.is_pending:
        raise TransitionError(SpotCheckItem, item.status, target)
    delivery = item.delivery
    reopens = target == I.DISCREPANCY and delivery.status == DeliveryStatus.VERIFIED
    transition(item, target, actor, action=f"spot_check_{target.value}", reason=notes,
               values={"notes": notes, "visited_on": visited_on, "recorded_by_id": actor.id,
                       "recorded_at": utcnow(), "reopened": reopens},
               data={"spot_check": spot_check.id, "delivery": delivery.id, "photos": len(prepared)})
    if reopens:
        pledges_lifecycle.reopen(actor, delivery, notes, data={"spot_check": spot_check.id, "item": item.id})
    _store_evidence(item, prepared, actor)
    queue.commit()
    return item


# Closing -------------------------------------------------------------------------------------

def close(actor, spot_check):
    """结束抽查 — every sampled delivery has its result; the check and its summary stay public."""
    _require_curator(actor, spot_check.region_code)
    check(SpotCheck, spot_check.status, C.CLOSED)
    tally = services.tallies([spot_check.id])[spot_check.id]
    nothing_pending = ~exists().where(SpotCheckItem.spot_check_id == spot_check.id,
                                      SpotCheckItem.status == I.PENDING.value)
    closed = transition(spot_check, C.CLOSED, actor, action="close_spot_check", condition=nothing_pending,
                        values={"closed_at": utcnow(), "closed_by_id": actor.id},
                        data={"confirmed": tally["confirmed"], "discrepancy": tally["discrepancy"]})
    if closed is None:
        pending = db.session.scalar(select(func.count()).select_from(SpotCheckItem).where(
            SpotCheckItem.spot_check_id == spot_check.id, SpotCheckItem.status == I.PENDING.value))
        raise Conflict(_l("还有 %(n)s 笔抽中的交付没有登记走访结果，不能结束抽查。", n=pending))
    queue.commit()
    return spot_check
