"""Every page of the URLconf as every role: one table of expected statuses.

The API has its own table (test_api_roles.py); together they cover every
named URL, and a test below fails when a URL is added without a row. The
admin site's URLs are generated from its registry: one row per model says
what each role may do there.

Users are as a shop sets them up: the agent owns the case under test, the
other agent works in the same team, and agents, supervisors and admins are
all staff here, so the admin answers by each role's model permissions and
not merely by the staff flag. POSTs carry harmless bodies (nothing valid to
act on): an allowed POST answers with its refusal of the input, and a test
checks that the whole run changed no case, offer or voucher.
"""

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from complaints import tasks, workflow
from complaints.models import Case, CaseEvent, Offer, Voucher

from . import flows
from .factories import OrderFactory, ReviewFactory

ROLES = ("anonymous", "outsider", "agent", "other_agent", "supervisor", "admin")

# row: (method, expected status for each role in ROLES order). 302 for an
# anonymous visitor is the login page; a signed-in user without the role gets
# 403. The case under test belongs to "agent" and waits to be confirmed.
PAGES = {
    "login": ("GET", 200, 200, 200, 200, 200, 200),
    "login+post": ("POST", 200, 200, 200, 200, 200, 200),  # the empty form's errors
    "logout": ("POST", 302, 302, 302, 302, 302, 302),
    "logout+get": ("GET", 405, 405, 405, 405, 405, 405),
    # Each user's own password, whatever their role.
    "password_change": ("GET", 302, 200, 200, 200, 200, 200),
    "password_change+post": ("POST", 302, 200, 200, 200, 200, 200),  # the empty form's errors
    # Each user's own two-step log-in (off for all of them here): the page,
    # setting it up, and the code page, which has nothing to ask (to home).
    "two_factor": ("GET", 302, 200, 200, 200, 200, 200),
    "two_factor+post": ("POST", 302, 302, 302, 302, 302, 302),  # off: nothing to change
    "two_factor_setup": ("GET", 302, 200, 200, 200, 200, 200),
    "two_factor_setup+post": ("POST", 302, 200, 200, 200, 200, 200),  # the empty form's errors
    "two_factor_verify": ("GET", 302, 302, 302, 302, 302, 302),
    "two_factor_verify+post": ("POST", 302, 302, 302, 302, 302, 302),
    "set_language": ("POST", 302, 302, 302, 302, 302, 302),
    # For load balancers and monitoring: open to all, naming only checks.
    "health": ("GET", 200, 200, 200, 200, 200, 200),
    "health_worker": ("GET", 200, 200, 200, 200, 200, 200),
    "complaints:home": ("GET", 302, 403, 302, 302, 302, 302),  # to the role's queue
    "complaints:queue": ("GET", 302, 403, 200, 200, 200, 200),
    "complaints:new_case": ("GET", 302, 403, 200, 200, 200, 200),
    "complaints:new_case+post": ("POST", 302, 403, 400, 400, 400, 400),
    "complaints:case": ("GET", 302, 403, 200, 200, 200, 200),  # the team sees every case
    # Taking a closed case: supervisors are refused with a message on the case
    # page; agents may not take a case someone else holds.
    "complaints:take": ("POST", 302, 403, 403, 403, 302, 302),
    # Confirming is for the case's agent (and supervisors, who may step in).
    "complaints:step": ("GET", 302, 403, 200, 403, 200, 200),
    "complaints:step+post": ("POST", 302, 403, 409, 403, 409, 409),  # no expected_state
    "complaints:offer_check": ("POST", 302, 403, 200, 200, 200, 200),
    "complaints:bulk": ("POST", 302, 403, 403, 403, 302, 302),  # nothing selected
    "complaints:reviews": ("GET", 302, 403, 200, 200, 200, 200),
    "complaints:review": ("GET", 302, 403, 200, 200, 200, 200),
    "complaints:review+post": ("POST", 302, 403, 400, 400, 400, 400),
    "complaints:approvals": ("GET", 302, 403, 403, 403, 200, 200),
    "complaints:decide": ("POST", 302, 403, 403, 403, 404, 404),  # an unknown offer
    "complaints:team": ("GET", 302, 403, 403, 403, 200, 200),
    "complaints:deadlines": ("GET", 302, 403, 403, 403, 200, 200),
    "complaints:root_causes": ("GET", 302, 403, 403, 403, 200, 200),
    "complaints:export_root_causes": ("GET", 302, 403, 403, 403, 403, 400),  # no period
    "complaints:performance": ("GET", 302, 403, 403, 403, 200, 200),
    "complaints:corrective_done": ("POST", 302, 403, 403, 403, 302, 302),  # none pending
    "complaints:vouchers": ("GET", 302, 403, 200, 200, 200, 200),
    "complaints:voucher": ("GET", 302, 403, 200, 200, 200, 200),
    "complaints:voucher_redeem": ("POST", 302, 403, 400, 400, 400, 400),
    "complaints:voucher_void": ("POST", 302, 403, 403, 403, 400, 400),  # no reason
    "complaints:notifications": ("GET", 302, 200, 200, 200, 200, 200),
    "complaints:notifications_read": ("POST", 302, 302, 302, 302, 302, 302),
    "complaints:notification_settings": ("POST", 302, 400, 400, 400, 400, 400),
    "complaints:evidence": ("GET", 302, 403, 200, 200, 200, 200),
    "complaints:evidence_thumbnail": ("GET", 302, 403, 200, 200, 200, 200),
}


def test_the_tables_cover_every_url_of_the_urlconf():
    from .test_api_roles import MATRIX as API

    pages = {name.split("+")[0] for name in PAGES}
    api = {f"api:{name.split('+')[0]}" for name in API}
    admin_names = {f"admin:{name}" for name in _admin_rows()}
    assert pages | api | admin_names == set(_named_urls()), "a URL without a row"
    assert not pages & api and not pages & admin_names


def _named_urls(patterns=None, namespace=""):
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            inner = pattern.namespace or ""
            prefix = f"{namespace}:{inner}" if namespace and inner else namespace or inner
            yield from _named_urls(pattern.url_patterns, prefix)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield f"{namespace}:{pattern.name}" if namespace else pattern.name


# The admin site: what each staff role may do per model, as letters for
# agent, other agent, supervisor and admin: v (open the list, an object and
# its history; read-only or editable), a (add), d (delete). Anonymous users
# and signed-in users who are not staff are sent to its login (302).
NOTHING = ("", "", "", "")
ADMIN_MODELS = {
    "auth.Group": ("", "", "", "v"),
    "auth.User": ("", "", "", "va"),
    "django_tasks_database.DBTaskResult": ("", "", "", "v"),
    "knox.AuthToken": ("", "", "", "vad"),  # API tokens: made (the key shown once), revoked
    "axes.AccessAttempt": ("", "", "", "vd"),  # deleting one unlocks that login
    "axes.AccessLog": ("", "", "", "v"),
    "axes.AccessFailureLog": ("", "", "", "v"),
    # Two-step log-in keys: listed, and removed when a phone is lost.
    "complaints.AuthenticatorKey": ("", "", "", "vd"),
    "otp_static.StaticDevice": ("", "", "", "v"),  # removed with its key
    "admin.LogEntry": ("", "", "", "v"),  # who changed what in the admin: read, never rewritten
    "complaints.Customer": ("va", "va", "va", "va"),
    "complaints.Order": ("va", "va", "va", "va"),
    "complaints.OrderItem": ("va", "va", "va", "va"),
    "complaints.Review": ("va", "va", "va", "va"),
    "complaints.Case": ("va", "va", "va", "va"),  # opened and stepped through the workflow
    "complaints.Offer": ("v", "v", "v", "v"),
    "complaints.Voucher": ("v", "v", "v", "v"),
    "complaints.CaseEvent": ("v", "v", "v", "v"),  # the audit trail: nobody edits it
    "complaints.Contact": ("v", "v", "v", "v"),
    "complaints.Evidence": ("v", "v", "v", "v"),
    "complaints.ReviewReply": ("v", "v", "v", "v"),
    "complaints.ReplyEdit": ("v", "v", "v", "v"),
    "complaints.PolicyRule": ("v", "v", "v", "va"),
    "complaints.RootCauseCategory": ("v", "v", "v", "va"),
    "complaints.ReplyTemplate": ("v", "v", "v", "vad"),
    "complaints.MarketplaceSettings": ("v", "v", "v", "va"),
    "complaints.SlaCalendar": ("v", "v", "v", "va"),
    "complaints.SlaPolicy": ("v", "v", "v", "va"),
    "complaints.SlaAlert": ("", "", "v", "v"),
    "complaints.ExportRecord": ("", "", "", "v"),  # who carried data out of the shop
    "complaints.WebhookEndpoint": ("", "", "", "va"),
    "complaints.WebhookDelivery": ("", "", "", "v"),
    # Internal bookkeeping: superusers only.
    "complaints.Notification": NOTHING,
    "complaints.NotificationSettings": NOTHING,
    "complaints.CaseNumberCounter": NOTHING,
    "complaints.IdempotencyKey": NOTHING,
}

# The admin site's own pages: (method, status for each role in ROLES order).
STAFF = (200, 200, 200, 200)
ADMIN_SITE = {
    "index": ("GET", 302, 302, *STAFF),
    "login": ("GET", 200, 200, 302, 302, 302, 302),  # staff signed in: to the index
    "logout": ("POST", 302, 302, 302, 302, 302, 302),
    "password_change": ("GET", 302, 302, *STAFF),
    "password_change_done": ("GET", 302, 302, *STAFF),
    "autocomplete": ("GET", 302, 302, 403, 403, 403, 403),  # no field named
    "jsi18n": ("GET", 302, 302, *STAFF),
    "view_on_site": ("GET", 302, 302, 302, 302, 302, 302),  # to the case page
    "app_list": ("GET", 302, 302, *STAFF),
    "complaints_case_step": ("GET", 302, 302, 200, 403, 200, 200),  # as on the page
    "auth_user_password_change": ("GET", 302, 302, 403, 403, 403, 200),
}


def test_the_admin_table_names_every_registered_model():
    assert set(ADMIN_MODELS) == {model._meta.label for model in admin.site._registry}


def _admin_rows():
    rows = dict(ADMIN_SITE)
    for model, model_admin in admin.site._registry.items():
        prefix = f"{model._meta.app_label}_{model._meta.model_name}_"
        for pattern in model_admin.get_urls():
            if pattern.name and pattern.name not in rows:
                kind = pattern.name.removeprefix(prefix)
                rows[pattern.name] = _admin_model_row(model._meta.label, kind)
    return rows


def _admin_model_row(label, kind):
    def status(letters):
        allowed = {
            "changelist": "v" in letters or "c" in letters,
            "change": "v" in letters or "c" in letters,
            "history": "v" in letters or "c" in letters,
            "add": "a" in letters,
            "delete": "d" in letters,
        }.get(kind)
        if allowed is None:  # a model admin's own view: listed in ADMIN_SITE
            raise KeyError(f"{label} {kind}")
        return 200 if allowed else 403

    return ("GET", 302, 302, *(status(letters) for letters in ADMIN_MODELS[label]))


@pytest.fixture
def world(agent, agent2, supervisor, admin_user, outsider, settings, tmp_path):
    """One object of every kind a URL can name, made through the workflow."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from complaints.api.tokens import issue
    from complaints.models import (
        ExportRecord,
        IdempotencyKey,
        MarketplaceSettings,
        NotificationSettings,
        WebhookDelivery,
        WebhookEndpoint,
    )
    from complaints.workflow.sla import sla_sweep

    from .conftest import DATABASE_TASKS
    from .test_evidence import png_bytes

    for user in (agent, agent2, supervisor, admin_user):
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    case = flows.opened(agent, OrderFactory(), demand="补偿")
    evidence = workflow.case_add_evidence(
        case=case, actor=agent, file=SimpleUploadedFile("破损.png", png_bytes())
    )
    closed = flows.closed(agent, OrderFactory())  # offer, voucher, contact, root cause
    review = ReviewFactory(rating=1)
    reply = workflow.review_reply_save(review=review, actor=agent, text="抱歉", publish=True)
    workflow.review_reply_save(review=review, actor=agent, text="抱歉，已补发")  # a ReplyEdit
    Case.objects.filter(pk=case.pk).update(first_response_due="2020-01-01T00:00:00Z")
    sla_sweep()  # an SLA alert and notifications
    NotificationSettings.objects.get_or_create(user=agent)
    MarketplaceSettings.objects.get_or_create(marketplace="taobao")
    ExportRecord.objects.create(user=admin_user, kind="root_causes", file_format="csv", row_count=1)
    IdempotencyKey.objects.create(user=agent, key="k-1", fingerprint="0" * 64)
    endpoint = WebhookEndpoint.objects.create(
        name="ERP", url="https://erp.shop.example/hook", events=["case.opened"], active=False
    )
    WebhookDelivery.objects.create(
        endpoint=endpoint, event_type="case.opened", event_id="e-1", payload={}
    )
    issue(agent)
    # A two-step log-in key and backup codes, of a user not among the roles'
    # (theirs would owe a code first).
    from django.contrib.auth import get_user_model

    from complaints import two_factor
    from complaints.models import AuthenticatorKey

    owner = get_user_model().objects.create_user("phone_owner")
    two_factor.turn_on(owner, AuthenticatorKey.objects.create(user=owner, confirmed=False))
    login = Client()  # a failed and a good login: django-axes' records
    login.post("/accounts/login/", {"username": "nobody", "password": "wrong"})
    login.post("/accounts/login/", {"username": agent.username, "password": "pw-for-tests-only"})
    settings.TASKS = DATABASE_TASKS
    tasks.expire_vouchers.enqueue()  # a task row for the admin's task list
    voucher = Voucher.objects.get(offer__case=closed)
    from django.contrib.admin.models import CHANGE, LogEntry

    LogEntry.objects.log_actions(  # a line of the admin's log
        admin_user.pk, [voucher], CHANGE, change_message="Changed nothing.", single_object=True
    )
    return {
        "case": case,
        "closed": closed,
        "voucher": voucher,
        "evidence": evidence,
        "review": review,
        "reply": reply,
    }


def _clients(world, agent, agent2, supervisor, admin_user, outsider):
    clients = {"anonymous": Client()}
    users = (outsider, agent, agent2, supervisor, admin_user)
    for role, user in zip(ROLES[1:], users, strict=True):
        clients[role] = Client()
        clients[role].force_login(user)
    return clients, dict(zip(ROLES[1:], users, strict=True))


def _page_request(name, world):
    """(path, POST data or None) for a PAGES row."""
    base = name.split("+")[0]
    case = world["case"]
    kwargs = {
        "complaints:queue": {"name": "mine"},
        "complaints:case": {"number": case.number},
        "complaints:take": {"number": world["closed"].number},  # refused: closed
        "complaints:step": {"number": case.number, "step_name": "confirm"},
        "complaints:offer_check": {"number": case.number},
        "complaints:review": {"pk": world["review"].pk},
        "complaints:decide": {"pk": 999999, "decision": "approve"},
        "complaints:corrective_done": {"number": case.number},  # none to complete
        "complaints:voucher": {"code": world["voucher"].code},
        "complaints:voucher_redeem": {"code": world["voucher"].code},
        "complaints:voucher_void": {"code": world["voucher"].code},
        "complaints:evidence": {"pk": world["evidence"].pk},
        "complaints:evidence_thumbnail": {"pk": world["evidence"].pk},
    }.get(base, {})
    return reverse(base, kwargs=kwargs)


def _admin_request(name, world):
    from django.contrib.contenttypes.models import ContentType

    site = {
        "app_list": {"app_label": "complaints"},
        "view_on_site": {
            "content_type_id": ContentType.objects.get_for_model(Case).pk,
            "object_id": world["case"].pk,
        },
        "complaints_case_step": {"object_id": world["case"].pk, "step_name": "confirm"},
        "auth_user_password_change": {"id": world["case"].assignee_id},
    }
    if name in site:
        return reverse(f"admin:{name}", kwargs=site[name])
    for model, _model_admin in admin.site._registry.items():
        prefix = f"{model._meta.app_label}_{model._meta.model_name}_"
        if name.startswith(prefix):
            kind = name.removeprefix(prefix)
            if kind in ("changelist", "add"):
                return reverse(f"admin:{name}")
            obj = model._default_manager.order_by("pk").first()
            assert obj is not None, f"the world holds no {model._meta.label}"
            return reverse(f"admin:{name}", args=[obj.pk])
    return reverse(f"admin:{name}")


def _sweep(table, locate, world, clients, users):
    """Request every row as every role; return the rows that differ from the table."""
    differ = {}
    for name, (method, *expected) in table.items():
        path = locate(name, world)
        statuses = []
        for role in ROLES:
            client = clients[role]
            response = client.post(path, {}) if method == "POST" else client.get(path)
            statuses.append(response.status_code)
            if "logout" in name and role in users:
                client.force_login(users[role])  # signed in again for the next rows
        if statuses != expected:
            differ[f"{name} {method} {path}"] = {"table": expected, "got": statuses}
    return differ


def test_every_page_answers_each_role_as_the_table_says(
    world, agent, agent2, supervisor, admin_user, outsider
):
    clients, users = _clients(world, agent, agent2, supervisor, admin_user, outsider)
    before = _state()
    assert _sweep(PAGES, _page_request, world, clients, users) == {}
    assert _state() == before  # no request changed a case, an offer or a voucher


def test_every_admin_url_answers_each_role_as_the_table_says(
    world, agent, agent2, supervisor, admin_user, outsider
):
    clients, users = _clients(world, agent, agent2, supervisor, admin_user, outsider)
    before = _state()
    assert _sweep(_admin_rows(), _admin_request, world, clients, users) == {}
    assert _state() == before


def _state():
    return (
        list(Case.objects.order_by("pk").values_list("pk", "state", "assignee_id", "updated_at")),
        CaseEvent.objects.count(),
        list(
            Offer.objects.order_by("pk").values_list(
                "pk", "approval_status", "outcome", "executed_at"
            )
        ),
        list(Voucher.objects.order_by("pk").values_list("pk", "status")),
    )
