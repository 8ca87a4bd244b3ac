"""Evidence files are served only to logged-in users who may see cases."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404

from ..models import Evidence


@login_required
def evidence_file(request, pk, variant="file"):
    if not request.user.has_perm("complaints.view_evidence"):
        raise PermissionDenied
    evidence = get_object_or_404(Evidence, pk=pk)
    stored = evidence.thumbnail if variant == "thumbnail" else evidence.file
    if not stored:
        raise Http404
    try:
        handle = stored.open("rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    response = FileResponse(
        handle,
        content_type="image/jpeg"
        if variant == "thumbnail"
        else evidence.content_type or "application/octet-stream",
        as_attachment=evidence.kind != "image" and request.GET.get("download") == "1",
        filename=evidence.original_name,
    )
    response["Cache-Control"] = "private, max-age=3600"
    return response
