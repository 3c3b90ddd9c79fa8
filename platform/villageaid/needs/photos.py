"""Need photos: checked by content, size-capped, re-encoded without metadata (EXIF/GPS), stored
under DATA_DIR/uploads; thumbnails are made by a job after commit.

Re-encoding is what strips the metadata: the pixels are decoded and written into a new JPEG with
no EXIF, XMP or comments, so a phone's GPS position never reaches the site (DESIGN §7).
"""
import io
import os
import uuid
import warnings
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from .. import queue
from .models import NeedPhoto

ACCEPTED_FORMATS = {"JPEG", "PNG", "WEBP"}
MAX_PIXELS = 40_000_000   # decoded size; a small file can expand into gigabytes (a decompression bomb)
MAX_EDGE = 2000           # stored photos are at most this wide or high
THUMB_EDGE = 480
DEFAULT_MAX_BYTES = 8 * 1024 * 1024


class PhotoError(Exception):
    """An upload that is not accepted; the message says why, naming the file."""


@dataclass
class PreparedPhoto:
    data: bytes
    width: int
    height: int


def max_bytes():
    return current_app.config.get("NEED_PHOTO_MAX_BYTES", DEFAULT_MAX_BYTES)


def prepare(upload):
    """Check and re-encode one uploaded file (a werkzeug FileStorage or anything with .stream/.filename)."""
    name = os.path.basename(upload.filename or "") or _("（未命名）")
    limit = max_bytes()
    raw = upload.stream.read(limit + 1)
    if len(raw) > limit:
        size = f"{limit // (1024 * 1024)} MB" if limit >= 1024 * 1024 else f"{limit // 1024} KB"
        raise PhotoError(_("“%(name)s”超过 %(size)s，请压缩后再上传。", name=name, size=size))
    if not raw:
        raise PhotoError(_("“%(name)s”是空文件。", name=name))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(raw))
            if image.format not in ACCEPTED_FORMATS:
                raise PhotoError(_("“%(name)s”不是 JPEG、PNG 或 WebP 图片。", name=name))
            if image.width * image.height > MAX_PIXELS:
                raise PhotoError(_("“%(name)s”的像素过多，请缩小后再上传。", name=name))
            image.load()
    except PhotoError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning, OSError,
            SyntaxError, ValueError) as exc:
        raise PhotoError(_("“%(name)s”不是可识别的图片（只接受 JPEG、PNG 或 WebP）。", name=name)) from exc
    return PreparedPhoto(*_reencode(image, MAX_EDGE))


def _reencode(image, edge):
    """(JPEG bytes, width, height): upright, RGB, within `edge`, and with no metadata at all."""
    image = ImageOps.exif_transpose(image)  # keep the picture upright once the orientation tag is gone
    if image.mode in ("RGBA", "LA", "P"):
        image = image.convert("RGBA")
        background = Image.new("RGB", image.size, (255, 255, 255))
        background.paste(image, mask=image.getchannel("A"))
        image = background
    elif image.mode != "RGB":
        image = image.convert("RGB")
    image.thumbnail((edge, edge), Image.Resampling.LANCZOS)
    clean = Image.new("RGB", image.size)
    clean.paste(image)  # a fresh image carries no info/exif from the original
    out = io.BytesIO()
    clean.save(out, "JPEG", quality=85, optimize=True, progressive=True)
    return out.getvalue(), clean.width, clean.height


def folder(need_id):
    return Path(current_app.config["DATA_DIR"]) / "uploads" / "needs" / str(need_id)


def path_of(photo, thumbnail=False):
    name = photo.thumbnail if thumbnail and photo.thumbnail else photo.filename
    return folder(photo.need_id) / name


def _write(path, data):
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".part")
    tmp.write_bytes(data)
    os.replace(tmp, path)  # readers never see half a file


def store_all(need, prepared, actor):
    """Write prepared photos for `need` and add their rows; thumbnails are deferred to a job."""
    start = max((p.position for p in need.photos), default=-1) + 1
    for offset, item in enumerate(prepared):
        filename = f"{uuid.uuid4().hex}.jpg"
        _write(folder(need.id) / filename, item.data)
        photo = NeedPhoto(filename=filename, width=item.width, height=item.height, size_bytes=len(item.data),
                          position=start + offset, uploaded_by_id=getattr(actor, "id", None))
        need.photos.append(photo)
        from ..extensions import db

        db.session.flush()
        queue.defer("jobs.needs.make_thumbnail", photo.id)


def make_thumbnail(photo):
    """Write the photo's thumbnail next to it (idempotent); the caller commits."""
    source = path_of(photo)
    if not source.exists():
        return False
    name = source.stem + "-thumb.jpg"
    with Image.open(source) as image:
        data, _w, _h = _reencode(image, THUMB_EDGE)
    _write(source.with_name(name), data)
    photo.thumbnail = name
    return True


def delete_files(photos):
    """Remove the files of photos whose rows were deleted (after the commit)."""
    for photo in photos:
        for name in filter(None, (photo.filename, photo.thumbnail)):
            try:
                (folder(photo.need_id) / name).unlink()
            except FileNotFoundError:
                pass
