"""Evidence files of deliveries (转账凭证, 收据, 照片): the need photos' upload rules (content checked,
size-capped, re-encoded without EXIF/GPS), stored under DATA_DIR/uploads/deliveries, with a content
hash so that one file used for two deliveries is flagged to the curator.
"""
import hashlib
import io
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from ..extensions import db
from ..needs import photos
from .models import Evidence


@dataclass
class PreparedEvidence:
    photo: photos.PreparedPhoto
    sha256: str  # of the bytes as uploaded: the same file twice has the same hash


class _Upload:
    """The uploaded bytes again, for photos.prepare (which reads a stream)."""

    def __init__(self, filename, data):
        self.filename, self.stream = filename, io.BytesIO(data)


def prepare_all(uploads, errors):
    """Check and re-encode each upload; problems go to errors["evidence"] (one sentence per file)."""
    if not uploads or "evidence" in errors:
        return []
    prepared, problems, seen = [], [], set()
    limit = photos.max_bytes()
    for upload in uploads:
        raw = upload.stream.read(limit + 1)
        digest = hashlib.sha256(raw).hexdigest()
        try:
            photo = photos.prepare(_Upload(upload.filename, raw))
        except photos.PhotoError as exc:
            problems.append(str(exc))
            continue
        if digest not in seen:  # the same file twice in one report is stored once
            seen.add(digest)
            prepared.append(PreparedEvidence(photo, digest))
    if problems:
        errors["evidence"] = " ".join(problems)
        return []
    return prepared


def folder(delivery_id):
    return Path(current_app.config["DATA_DIR"]) / "uploads" / "deliveries" / str(delivery_id)


def path_of(evidence):
    return folder(evidence.delivery_id) / evidence.filename


def write_file(path, data):
    """Write `data` to `path` through a temporary file (also used for spot checks' evidence)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".part")
    tmp.write_bytes(data)
    os.replace(tmp, path)  # readers never see half a file


def store_all(delivery, prepared, actor):
    """Write the files and add their rows; a hash already seen on another delivery is flagged."""
    for item in prepared:
        filename = f"{uuid.uuid4().hex}.jpg"
        write_file(folder(delivery.id) / filename, item.photo.data)
        earlier = db.session.scalar(
            select(Evidence.id).where(Evidence.sha256 == item.sha256, Evidence.delivery_id != delivery.id)
            .order_by(Evidence.id).limit(1))
        delivery.evidence.append(Evidence(
            filename=filename, width=item.photo.width, height=item.photo.height, size_bytes=len(item.photo.data),
            sha256=item.sha256, duplicate_of_id=earlier, uploaded_by_id=getattr(actor, "id", None)))
    db.session.flush()
