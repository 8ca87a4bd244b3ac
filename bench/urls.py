"""The application's URLs plus the benchmark's floors: views that do nothing
but pass through the same middleware (sessions, authentication, CSRF, CSP...),
and the page shell every page is drawn in."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt


@csrf_exempt
def minimal(request):
    return HttpResponse(f"ok {request.user.pk}")  # loads the session and user like a page


@login_required
def shell(request):
    """Every page's fixed part: base.html with its navigation (the user's
    permissions, the badges) and nothing in it."""
    return render(request, "base.html", {})


urlpatterns = [
    path("bench/minimal/", minimal),
    path("bench/shell/", shell),
    path("", include("casetracker.urls")),
]
