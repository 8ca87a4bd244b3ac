"""Where a form goes back to after a POST."""

from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme


def back(request, default):
    """Redirect to the form's ``next`` when it is a page of this site, else to
    ``default`` (a URL name, a path or a model): a ``next`` pointing at
    another site is ignored, so no link can bounce a user off-site."""
    target = request.POST.get("next")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect(default)
