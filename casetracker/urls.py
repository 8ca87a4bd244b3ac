from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from complaints import health
from complaints.forms import LoginForm
from complaints.views.account import (
    PasswordChange,
    TwoFactorAccount,
    TwoFactorSetup,
    TwoFactorVerify,
)

urlpatterns = [
    path("admin/", admin.site.urls),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(authentication_form=LoginForm),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", PasswordChange.as_view(), name="password_change"),
    path("accounts/verify/", TwoFactorVerify.as_view(), name="two_factor_verify"),
    path("accounts/two-factor/", TwoFactorAccount.as_view(), name="two_factor"),
    path("accounts/two-factor/setup/", TwoFactorSetup.as_view(), name="two_factor_setup"),
    path("health/", health.web, name="health"),
    path("health/worker/", health.worker, name="health_worker"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/", include("complaints.api.urls")),
    path("", include("complaints.urls")),
]

# Error pages in the application's layout and the user's language, with the
# reason the code gave (complaints/views/errors.py).
handler400 = "complaints.views.errors.bad_request"
handler403 = "complaints.views.errors.permission_denied"
handler404 = "complaints.views.errors.not_found"
handler500 = "complaints.views.errors.server_error"
