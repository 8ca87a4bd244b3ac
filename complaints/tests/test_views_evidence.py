"""Evidence files are served only through the permission-checked view."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from complaints import workflow

from . import flows
from .test_evidence import png_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def evidence(agent, order):
    case = flows.opened(agent, order)
    return workflow.case_add_evidence(
        case=case, actor=agent, file=SimpleUploadedFile("破损.png", png_bytes((500, 400)))
    )


def test_agents_see_the_photo_and_its_thumbnail(client, agent2, evidence):
    client.force_login(agent2)
    photo = client.get(reverse("complaints:evidence", args=[evidence.pk]))
    assert photo.status_code == 200 and photo["Content-Type"] == "image/png"
    assert b"".join(photo.streaming_content).startswith(b"\x89PNG")
    thumb = client.get(reverse("complaints:evidence_thumbnail", args=[evidence.pk]))
    assert thumb.status_code == 200 and thumb["Content-Type"] == "image/jpeg"
    assert photo["X-Content-Type-Options"] == "nosniff"


def test_anonymous_users_and_users_without_a_role_get_nothing(client, outsider, evidence):
    url = reverse("complaints:evidence", args=[evidence.pk])
    response = client.get(url)
    assert response.status_code == 302 and "/accounts/login/" in response.url
    client.force_login(outsider)
    assert client.get(url).status_code == 403


def test_unknown_evidence_is_404(client, agent):
    client.force_login(agent)
    assert client.get(reverse("complaints:evidence", args=[424242])).status_code == 404


def test_media_files_are_not_served_directly(client, agent, evidence):
    client.force_login(agent)
    assert client.get("/media/" + evidence.file.name).status_code == 404
