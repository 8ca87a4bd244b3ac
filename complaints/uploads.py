"""Evidence files: accepted by what they contain, not by their name.

Photos (JPEG, PNG, WebP, HEIC/HEIF) are decoded, turned upright, re-encoded
without their metadata (EXIF carries GPS positions and phone serials) and get
a thumbnail; PDFs are kept as sent. Anything else is refused.
"""

import io
import warnings
from dataclasses import dataclass
from pathlib import PurePath

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from .conf import setting

try:  # HEIC photos from phones, when the libheif plugin is installed
    import pillow_heif

    pillow_heif.register_heif_opener()
except ImportError:  # pragma: no cover - the plugin is a pinned dependency
    pillow_heif = None

THUMBNAIL_SIZE = (320, 320)
MAX_PIXELS = 50_000_000  # a decompression bomb beyond this is refused
# Pillow format -> (format to store, content type, suffix)
IMAGE_FORMATS = {
    "JPEG": ("JPEG", "image/jpeg", ".jpg"),
    "PNG": ("PNG", "image/png", ".png"),
    "WEBP": ("WEBP", "image/webp", ".webp"),
    "HEIF": ("JPEG", "image/jpeg", ".jpg"),  # browsers cannot show HEIC
}


@dataclass(frozen=True)
class CleanFile:
    content: ContentFile
    name: str
    content_type: str
    kind: str  # "image" or "document"
    thumbnail: ContentFile | None


def _refuse(message, code):
    return ValidationError({"file": ValidationError(message, code=code)})


def clean_evidence(upload) -> CleanFile:
    """Return the stored form of ``upload`` or raise ValidationError on ``file``."""
    limit = setting("EVIDENCE_MAX_BYTES")
    if upload.size == 0:
        raise _refuse(_("The file is empty."), "file_empty")
    if upload.size > limit:
        raise _refuse(_("The file is larger than %(mb)s MB.") % {"mb": limit // 2**20}, "file_size")
    stem = PurePath(upload.name or "evidence").stem[:80] or "evidence"
    upload.seek(0)
    head = upload.read(5)
    upload.seek(0)
    if head == b"%PDF-":
        return CleanFile(
            content=ContentFile(upload.read()),
            name=f"{stem}.pdf",
            content_type="application/pdf",
            kind="document",
            thumbnail=None,
        )
    return _clean_image(upload, stem)


def _clean_image(upload, stem) -> CleanFile:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(upload) as image:
                source_format = image.format
                if source_format not in IMAGE_FORMATS:
                    raise UnidentifiedImageError(source_format)
                if image.width * image.height > MAX_PIXELS:
                    raise Image.DecompressionBombError("too many pixels")
                image.load()
                upright = ImageOps.exif_transpose(image)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _refuse(_("The image is too large to process."), "file_too_many_pixels") from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise _refuse(_("Upload a photo (JPEG, PNG, WebP or HEIC) or a PDF."), "file_type") from exc
    finally:
        upload.seek(0)

    store_format, content_type, suffix = IMAGE_FORMATS[source_format]
    if store_format == "JPEG" and upright.mode not in ("RGB", "L"):
        upright = upright.convert("RGB")
    content = io.BytesIO()
    # A fresh encode from pixels only: no EXIF, no XMP, no ICC text comments.
    upright.save(content, format=store_format, **_encoder_options(store_format))

    thumb = upright.copy()
    thumb.thumbnail(THUMBNAIL_SIZE)
    if thumb.mode not in ("RGB", "L"):
        thumb = thumb.convert("RGB")
    thumbnail = io.BytesIO()
    thumb.save(thumbnail, format="JPEG", quality=80)
    return CleanFile(
        content=ContentFile(content.getvalue()),
        name=f"{stem}{suffix}",
        content_type=content_type,
        kind="image",
        thumbnail=ContentFile(thumbnail.getvalue()),
    )


def _encoder_options(store_format: str) -> dict:
    if store_format == "JPEG":
        return {"quality": 90}
    if store_format == "WEBP":
        return {"quality": 90}
    return {"optimize": True}
