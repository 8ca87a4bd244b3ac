"""Evidence uploads: type, size and content are checked before anything is stored."""

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from complaints import workflow
from complaints.models import CaseEvent, Evidence

from . import flows

pytestmark = pytest.mark.django_db


def png_bytes(size=(8, 8)):
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_a_photo_is_stored_with_its_metadata(agent, order):
    case = flows.opened(agent, order)
    evidence = workflow.case_add_evidence(
        case=case,
        actor=agent,
        description="包裹破损",
        file=SimpleUploadedFile("破损照片.PNG", png_bytes(), "image/png"),
    )
    evidence.refresh_from_db()
    assert evidence.kind == "image"
    assert evidence.original_name == "破损照片.PNG"
    assert evidence.file.name.endswith(".png")
    assert case.number in evidence.file.name
    assert evidence.file.read() == png_bytes()


@pytest.mark.parametrize(
    "name,content,code",
    [
        ("script.exe", b"MZ...", "file_type"),
        ("photo.jpg", b"not really a jpeg", "file_corrupt"),
        ("empty.pdf", b"", "file_empty"),
    ],
)
def test_bad_files_are_refused_and_nothing_is_written(agent, order, name, content, code):
    case = flows.opened(agent, order)
    events = CaseEvent.objects.filter(case=case).count()
    with pytest.raises(ValidationError) as info:
        workflow.case_add_evidence(case=case, actor=agent, file=SimpleUploadedFile(name, content))
    assert info.value.error_dict["file"][0].code == code
    assert not Evidence.objects.exists()
    assert CaseEvent.objects.filter(case=case).count() == events


def test_files_above_the_limit_are_refused(agent, order, settings):
    settings.CASETRACKER = {**settings.CASETRACKER, "EVIDENCE_MAX_BYTES": 1024}
    case = flows.opened(agent, order)
    with pytest.raises(ValidationError, match="larger than"):
        workflow.case_add_evidence(
            case=case, actor=agent, file=SimpleUploadedFile("big.pdf", b"%PDF" + b"0" * 2000)
        )
    assert not Evidence.objects.exists()
