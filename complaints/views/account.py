"""The logged-in user's own account: changing their password."""

import logging

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.urls import reverse
from django.utils.translation import gettext as _

from ..forms import PasswordChangeForm
from ..models.case_rules import may_list_queue
from ..security import client_ip

log = logging.getLogger("casetracker.access")


class PasswordChange(auth_views.PasswordChangeView):
    """Django's view (log-in required, CSRF, the passwords kept out of error
    reports) on the application's page. The browser that changed it stays
    logged in; every other log-in of the user ends at its next request, as
    Django checks each session against the password it was opened with."""

    form_class = PasswordChangeForm
    template_name = "registration/password_change.html"

    def form_valid(self, form):
        response = super().form_valid(form)
        log.info(
            "password changed by %s from %s",
            self.request.user.get_username(),
            client_ip(self.request) or "unknown",
        )
        messages.success(
            self.request,
            _(
                "Your password was changed. Anywhere else you were logged in, "
                "you are now logged out."
            ),
        )
        return response

    def get_success_url(self):
        if may_list_queue("mine", self.request.user):  # as home: a queue to start from
            return reverse("complaints:home")
        return reverse("password_change")  # no queue to go to: the page again, with the message
