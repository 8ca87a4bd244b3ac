"""The application's URLs plus the benchmark's floors: views that do nothing
but pass through the same middleware (sessions, authentication, CSRF, CSP...)."""

from django.http import HttpResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt


@csrf_exempt
def minimal(request):
    return HttpResponse(f"ok {request.user.pk}")  # loads the session and user like a page


urlpatterns = [
    path("bench/minimal/", minimal),
    path("", include("casetracker.urls")),
]
