"""Hostile uploads through the case page: files that lie about their type,
SVG with script, polyglots, a decompression bomb, an oversized file. Each is
refused cleanly with nothing stored, or stored in a form that cannot carry
the attack; stored files live outside the web root under random names."""

import io
import zlib

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from complaints.models import CaseEvent, Evidence

from . import flows
from .test_evidence import bomb_bytes, png_bytes

pytestmark = pytest.mark.django_db

SCRIPT = b"<script>alert(document.cookie)</script>"
SVG = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">'
    + SCRIPT
    + b"</svg>"
)
HTML = b"<!doctype html><html><body>" + SCRIPT + b"</body></html>"


def _zip_with(name, payload):
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(name, payload)
    return buffer.getvalue()


def _jpeg():
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 120, 200)).save(buffer, format="JPEG")
    return buffer.getvalue()


def _post_evidence(client, case, name, content):
    return client.post(
        f"/cases/{case.number}/step/add_evidence/",
        {
            "expected_state": case.state,
            "file": SimpleUploadedFile(name, content),
            "description": "客户发来的",
        },
    )


def _stored_files():
    root = settings.MEDIA_ROOT
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


@pytest.mark.parametrize(
    "name,content",
    [
        ("photo.png", SVG),  # SVG under an image name
        ("photo.svg", SVG),
        ("photo.jpg", HTML),  # HTML under an image name
        ("photo.jpg", b"MZ\x90\x00" + b"\x00" * 64),  # a Windows program
        ("photo.png", _zip_with("x.html", HTML)),  # an archive
        ("photo.png", zlib.compress(b"\x00" * 10_000_000)),  # compressed noise
        ("bomb.png", bomb_bytes()),  # 81 megapixels in a few kilobytes
        ("photo.png", png_bytes()[:40]),  # a truncated image
    ],
)
def test_hostile_files_are_refused_and_nothing_is_stored(client, agent, order, name, content):
    case = flows.opened(agent, order)
    events = CaseEvent.objects.filter(case=case).count()
    client.force_login(agent)
    response = _post_evidence(client, case, name, content)
    assert response.status_code == 400
    html = response.content.decode()
    assert "is-invalid" in html or "errorlist" in html  # a message on the file field
    assert "<script>alert" not in html
    assert not Evidence.objects.exists()
    assert CaseEvent.objects.filter(case=case).count() == events
    assert _stored_files() == []


def test_a_file_over_the_limit_is_refused_without_being_stored(client, agent, order, settings):
    settings.CASETRACKER = {**settings.CASETRACKER, "EVIDENCE_MAX_BYTES": 100_000}
    case = flows.opened(agent, order)
    client.force_login(agent)
    big = png_bytes() + b"\x00" * 200_000
    response = _post_evidence(client, case, "big.png", big)
    assert response.status_code == 400
    assert "larger than" in response.content.decode()
    assert not Evidence.objects.exists() and _stored_files() == []


@pytest.mark.parametrize(
    "carrier,fmt",
    [(png_bytes, "PNG"), (_jpeg, "JPEG")],
)
@pytest.mark.parametrize(
    "payload",
    [SCRIPT, HTML, _zip_with("evil.html", HTML)],  # image+HTML, image+ZIP (a "GIFAR")
)
def test_an_image_polyglot_is_stored_re_encoded_without_its_payload(
    client, agent, order, carrier, fmt, payload
):
    case = flows.opened(agent, order)
    client.force_login(agent)
    response = _post_evidence(client, case, "photo.img", carrier() + payload)
    assert response.status_code == 302
    evidence = Evidence.objects.get()
    stored = evidence.file.read()
    assert payload not in stored and b"<script" not in stored and b"PK\x03\x04" not in stored
    with Image.open(io.BytesIO(stored)) as image:
        assert image.format == fmt


def test_a_pdf_polyglot_is_served_as_a_pdf_that_cannot_run_script(client, agent, order):
    """A PDF is kept as sent; one that is also HTML is still only ever
    served as application/pdf, unsniffable, under the strict policy."""
    case = flows.opened(agent, order)
    client.force_login(agent)
    polyglot = b"%PDF-1.4\n" + HTML + b"\n%%EOF"
    assert _post_evidence(client, case, "invoice.html", polyglot).status_code == 302
    evidence = Evidence.objects.get()
    assert (evidence.kind, evidence.content_type) == ("document", "application/pdf")
    assert evidence.file.name.endswith(".pdf")  # not .html, whatever it was called
    response = client.get(f"/evidence/{evidence.pk}/")
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "script-src 'self'" in response["Content-Security-Policy"]


def test_stored_files_are_outside_the_web_root_under_random_names(client, agent, order, settings):
    case = flows.opened(agent, order)
    client.force_login(agent)
    for _ in range(2):
        assert _post_evidence(client, case, "../../etc/破损.png", png_bytes()).status_code == 302
    first, second = Evidence.objects.order_by("pk")
    assert first.file.name != second.file.name
    for evidence in (first, second):
        name = evidence.file.name
        assert ".." not in name and "etc" not in name and "破损" not in name
        assert len(evidence.token) == 16 and evidence.token in name
        path = settings.MEDIA_ROOT / name
        assert path.is_file() and settings.MEDIA_ROOT in path.parents
        assert client.get("/media/" + name).status_code == 404  # never served directly
        assert client.get("/static/" + name).status_code == 404
    # In the real settings the media root is neither the static root nor inside it.
    from casetracker import settings as real

    assert real.STATIC_ROOT not in [real.MEDIA_ROOT, *real.MEDIA_ROOT.parents]
    assert real.MEDIA_ROOT not in [real.STATIC_ROOT, *real.STATIC_ROOT.parents]
