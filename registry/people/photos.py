"""Holder photos (持证人照片): checked, stripped of all metadata by re-encoding, kept apart from the person row."""
import hashlib
import io
from dataclasses import dataclass

import sqlalchemy as sa
from PIL import Image, ImageOps, UnidentifiedImageError

from registry.core.roles import Role
from registry.core.audit import record_event
from registry.core.db import db
from registry.core.errors import Forbidden, InvalidInput
from registry.people.models import Person, PersonPhoto
from registry.people.scopes import readable_persons

MAX_BYTES = 2 * 1024 * 1024
MAX_SIDE = 4000
MIN_WIDTH, MIN_HEIGHT = 100, 120
CONTENT_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png"}
JPEG_QUALITY = 90


@dataclass(frozen=True)
class CleanPhoto:
    data: bytes
    content_type: str
    width: int
    height: int

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def clean_photo(raw: bytes) -> CleanPhoto:
    """Check an upload and re-encode it from bare pixels, so no EXIF, GPS, ICC or text chunk survives."""
    if not raw:
        raise InvalidInput("photo", "照片：请选择要上传的照片文件")
    if len(raw) > MAX_BYTES:
        raise InvalidInput("photo", f"照片：文件大小 {len(raw) / 1048576:.1f} MB，超过 {MAX_BYTES // 1048576} MB 上限")
    image = _open(raw)
    width, height = image.size
    # Checked from the header, before any pixel is decoded: a small file may unpack into a huge image.
    if width > MAX_SIDE or height > MAX_SIDE:
        raise InvalidInput("photo", f"照片：尺寸 {width}×{height} 像素，超过 {MAX_SIDE}×{MAX_SIDE} 上限")
    try:
        # A phone stores "rotate me" in EXIF; apply it now, since the EXIF is about to be dropped.
        upright = ImageOps.exif_transpose(image)
    except (OSError, SyntaxError, ValueError):
        raise InvalidInput("photo", "照片：图片文件已损坏，无法读取") from None
    if upright.width < MIN_WIDTH or upright.height < MIN_HEIGHT:
        raise InvalidInput("photo", f"照片：尺寸 {upright.width}×{upright.height} 像素，"
                                    f"小于 {MIN_WIDTH}×{MIN_HEIGHT}（宽×高）下限")
    pixels = _flatten(upright)
    # A new image from raw pixels carries no `info`, so the encoder has no metadata to copy over.
    bare = Image.frombytes(pixels.mode, pixels.size, pixels.tobytes())
    output = io.BytesIO()
    if image.format == "JPEG":
        bare.save(output, "JPEG", quality=JPEG_QUALITY)
    else:
        bare.save(output, "PNG", optimize=True)
    return CleanPhoto(output.getvalue(), CONTENT_TYPES[image.format], bare.width, bare.height)


def _open(raw: bytes) -> Image.Image:
    try:
        image = Image.open(io.BytesIO(raw))
    except Image.DecompressionBombError:
        raise InvalidInput("photo", f"照片：图片像素过多，超过 {MAX_SIDE}×{MAX_SIDE} 上限") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise InvalidInput("photo", "照片：文件不是 JPEG 或 PNG 图片") from None
    if image.format not in CONTENT_TYPES:
        raise InvalidInput("photo", f"照片：只接受 JPEG 或 PNG 格式，上传的是 {image.format}")
    return image


def _flatten(image: Image.Image) -> Image.Image:
    """RGB (or greyscale) on white: a certificate photo has no transparency, and the PDF needs none."""
    try:
        if image.mode in ("L", "RGB"):
            return image.copy()
        if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
            rgba = image.convert("RGBA")
            background = Image.new("RGB", rgba.size, "white")
            background.paste(rgba, mask=rgba.getchannel("A"))
            return background
        return image.convert("RGB")
    except (OSError, SyntaxError, ValueError):
        raise InvalidInput("photo", "照片：图片文件已损坏，无法读取") from None


def check_photo_writable(actor, person: Person) -> None:
    """The administrator, and an agency for its own candidates and certificate holders."""
    role = getattr(actor, "role", None)
    if actor is None or role is Role.ADMIN:
        return
    if role is Role.AGENCY and db.session.scalar(
            sa.select(sa.func.count(Person.id)).where(Person.id == person.id, readable_persons(actor))):
        return
    raise Forbidden("no write access to this person's photo")


def upload_photo(actor, person: Person, raw: bytes) -> PersonPhoto:
    check_photo_writable(actor, person)
    photo = clean_photo(raw)
    owner_id = db.session.scalar(sa.select(PersonPhoto.person_id).where(PersonPhoto.sha256 == photo.sha256))
    if owner_id == person.id:
        raise InvalidInput("photo", "照片：这张照片已经上传过")
    if owner_id is not None:
        raise InvalidInput("photo", "照片：这张照片已用于另一人员，请上传本人照片")
    row = PersonPhoto(person_id=person.id, sha256=photo.sha256, content_type=photo.content_type,
                      data=photo.data, width=photo.width, height=photo.height,
                      uploaded_by_id=getattr(actor, "id", None))
    db.session.add(row)
    db.session.flush()
    record_event(actor, "create", "person_photo", row.id, after={
        "person_id": person.id, "sha256": row.sha256, "content_type": row.content_type,
        "width": row.width, "height": row.height, "bytes": len(row.data)})
    return row


def current_photo(person_id: int) -> PersonPhoto | None:
    return db.session.scalars(
        sa.select(PersonPhoto).where(PersonPhoto.person_id == person_id)
        .order_by(PersonPhoto.uploaded_at.desc(), PersonPhoto.id.desc()).limit(1)
    ).first()


def photo_data(sha256: str) -> bytes | None:
    """The bytes a certificate snapshot names by hash (for rendering and reprints)."""
    return db.session.scalar(sa.select(PersonPhoto.data).where(PersonPhoto.sha256 == sha256))
