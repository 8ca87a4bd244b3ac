"""Evidence uploads: accepted by content, re-encoded without metadata, refused
with a clear error otherwise, and nothing half-written."""

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from complaints import workflow
from complaints.models import CaseEvent, Evidence

from . import flows

pytestmark = pytest.mark.django_db

GPS_TAG = 0x8825
ORIENTATION_TAG = 0x0112


def png_bytes(size=(8, 8), colour=(200, 30, 30)):
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="PNG")
    return buffer.getvalue()


def jpeg_with_exif(size=(40, 20)):
    """A landscape JPEG whose EXIF says: rotate 90°, and here is where I was."""
    image = Image.new("RGB", size, (10, 120, 200))
    exif = Image.Exif()
    exif[ORIENTATION_TAG] = 6  # shown rotated 90° clockwise
    exif[GPS_TAG] = {1: "N", 2: (31.0, 14.0, 0.0)}
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif)
    return buffer.getvalue()


def upload(case, agent, name, content):
    return workflow.case_add_evidence(
        case=case, actor=agent, file=SimpleUploadedFile(name, content)
    )


def test_a_photo_is_stored_re_encoded_with_a_thumbnail(agent, order):
    case = flows.opened(agent, order)
    evidence = upload(case, agent, "破损照片.PNG", png_bytes((900, 600)))
    evidence.refresh_from_db()
    assert (evidence.kind, evidence.content_type) == ("image", "image/png")
    assert evidence.original_name == "破损照片.PNG"
    assert evidence.file.name.endswith(".png") and case.number in evidence.file.name
    with Image.open(evidence.file) as stored:
        assert stored.size == (900, 600)
        assert stored.getpixel((5, 5)) == (200, 30, 30)
    with Image.open(evidence.thumbnail) as thumb:
        assert max(thumb.size) == 320


def test_exif_is_stripped_and_the_photo_turned_upright(agent, order):
    case = flows.opened(agent, order)
    original = jpeg_with_exif()
    with Image.open(io.BytesIO(original)) as sent:
        assert GPS_TAG in sent.getexif()
    evidence = upload(case, agent, "IMG_0001.JPG", original)
    with Image.open(evidence.file) as stored:
        assert stored.format == "JPEG"
        assert dict(stored.getexif()) == {}
        assert stored.size == (20, 40)  # rotated as the camera meant it
    assert b"Exif" not in evidence.file.open("rb").read()


def test_a_heic_photo_from_a_phone_is_stored_as_jpeg(agent, order):
    case = flows.opened(agent, order)
    buffer = io.BytesIO()
    Image.new("RGB", (30, 30), (0, 200, 0)).save(buffer, format="HEIF")
    evidence = upload(case, agent, "IMG_4032.HEIC", buffer.getvalue())
    assert evidence.content_type == "image/jpeg"
    assert evidence.file.name.endswith(".jpg")


def test_a_pdf_is_kept_as_sent(agent, order):
    case = flows.opened(agent, order)
    content = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
    evidence = upload(case, agent, "快递签收单.pdf", content)
    assert (evidence.kind, evidence.content_type) == ("document", "application/pdf")
    assert evidence.file.open("rb").read() == content
    assert not evidence.thumbnail


def test_content_decides_not_the_name(agent, order):
    case = flows.opened(agent, order)
    evidence = upload(case, agent, "scan.pdf", png_bytes())  # a PNG called .pdf
    assert evidence.content_type == "image/png"
    with pytest.raises(ValidationError) as info:
        upload(case, agent, "photo.jpg", b"MZ\x90\x00 an executable")  # not an image
    assert info.value.error_dict["file"][0].code == "file_type"


def gif_bytes():
    buffer = io.BytesIO()
    Image.new("P", (4, 4)).save(buffer, format="GIF")
    return buffer.getvalue()


def bomb_bytes():
    buffer = io.BytesIO()
    Image.new("1", (9000, 9000)).save(buffer, format="PNG")  # 81 MP, a few KB
    return buffer.getvalue()


@pytest.mark.parametrize(
    "name,content,code",
    [
        ("script.exe", b"MZ...", "file_type"),
        ("photo.jpg", b"not really a jpeg", "file_type"),
        ("anim.gif", gif_bytes(), "file_type"),
        ("empty.pdf", b"", "file_empty"),
        ("bomb.png", bomb_bytes(), "file_too_many_pixels"),
    ],
)
def test_bad_files_are_refused_and_nothing_is_written(agent, order, name, content, code):
    case = flows.opened(agent, order)
    events = CaseEvent.objects.filter(case=case).count()
    with pytest.raises(ValidationError) as info:
        upload(case, agent, name, content)
    assert info.value.error_dict["file"][0].code == code
    assert str(info.value.error_dict["file"][0].message)
    assert not Evidence.objects.exists()
    assert CaseEvent.objects.filter(case=case).count() == events


def test_files_above_the_limit_are_refused(agent, order, settings):
    settings.CASETRACKER = {**settings.CASETRACKER, "EVIDENCE_MAX_BYTES": 1024}
    case = flows.opened(agent, order)
    with pytest.raises(ValidationError, match="larger than"):
        upload(case, agent, "big.pdf", b"%PDF-" + b"0" * 2000)
    assert not Evidence.objects.exists()
