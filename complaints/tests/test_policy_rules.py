"""Policy rules in the admin, and the "what may I offer" panel."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from complaints import workflow
from complaints.models import PolicyRule, RootCauseCategory

from . import flows
from .factories import CustomerFactory, OrderFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, admin_user):
    admin_user.is_staff = True
    admin_user.save()
    client.force_login(admin_user)
    return client


def rule_form(**values):
    data = {
        "name": "Gift for lost parcels",
        "kind": "gift",
        "category": RootCauseCategory.objects.get(code="lost_parcel").pk,
        "max_amount": "30",
        "max_share_percent": "",
        "max_days_since_delivery": "",
        "active_from_0": "2026-01-01",
        "active_from_1": "00:00:00",
        "active_until_0": "",
        "active_until_1": "",
    }
    data.update(values)
    return data


ADD = reverse("admin:complaints_policyrule_add")


def test_an_admin_adds_a_rule_that_then_decides_offers(admin_client, agent):
    response = admin_client.post(ADD, rule_form())
    assert response.status_code == 302, response.content.decode()[:3000]
    case = flows.analyzing(agent, OrderFactory(), category="lost_parcel")
    offer = workflow.offer_propose(case=case, actor=agent, kind="gift", amount="25")
    assert offer.approval_status == "not_needed"
    assert offer.policy_rule.name == "Gift for lost parcels"


@pytest.mark.parametrize(
    "values,message",
    [
        ({"max_amount": "0"}, "The cap must be greater than zero."),
        ({"max_amount": "-5"}, "The cap must be greater than zero."),
        ({"max_amount": "", "max_share_percent": "120"}, "The share is between 0 and 100%."),
        ({"max_amount": "", "max_share_percent": ""}, "Give a maximum amount, a maximum share"),
        ({"active_until_0": "2025-01-01", "active_until_1": "00:00:00"}, "must end after"),
    ],
)
def test_invalid_rules_are_refused_with_a_clear_error(admin_client, values, message):
    response = admin_client.post(ADD, rule_form(**values))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not PolicyRule.objects.filter(name="Gift for lost parcels").exists()


def test_two_rules_in_force_for_the_same_remedy_and_category_contradict(admin_client):
    response = admin_client.post(
        ADD, rule_form(name="Voucher up to ¥30", kind="voucher", category="")
    )
    html = response.content.decode()
    assert "Another rule for this remedy and category is active at the same time" in html
    assert "Voucher up to ¥20" in html
    # After the old rule's end, a new one may start.
    old = PolicyRule.objects.get(name="Voucher up to ¥20")
    old.active_until = timezone.now()
    old.save()
    later = timezone.localtime() + timedelta(days=1)
    response = admin_client.post(
        ADD,
        rule_form(
            name="Voucher up to ¥30",
            kind="voucher",
            category="",
            active_from_0=later.date().isoformat(),
        ),
    )
    assert response.status_code == 302


def test_retiring_keeps_the_rule_for_the_offers_judged_by_it(admin_client, agent):
    case = flows.analyzing(agent, OrderFactory())
    offer = workflow.offer_propose(case=case, actor=agent, kind="voucher", amount="15")
    rule = offer.policy_rule
    response = admin_client.post(
        reverse("admin:complaints_policyrule_changelist"),
        {"action": "retire", "_selected_action": [rule.pk]},
        follow=True,
    )
    assert "1 rules retired." in response.content.decode()
    rule.refresh_from_db()
    assert rule.active_until is not None and rule.active_until <= timezone.now()
    offer.refresh_from_db()
    assert offer.policy_rule == rule  # history kept
    fresh = workflow.offer_propose(case=case, actor=agent, kind="voucher", amount="15")
    assert fresh.approval_status == "pending"  # no rule in force any more


def test_a_used_rule_keeps_its_caps(admin_client, agent):
    workflow.offer_propose(
        case=flows.analyzing(agent, OrderFactory()), actor=agent, kind="voucher", amount="15"
    )
    rule = PolicyRule.objects.get(name="Voucher up to ¥20")
    page = admin_client.get(reverse("admin:complaints_policyrule_change", args=[rule.pk]))
    html = page.content.decode()
    assert 'name="max_amount"' not in html  # read-only: retire and add a new rule instead
    assert 'name="active_until_0"' in html
    assert (
        admin_client.post(
            reverse("admin:complaints_policyrule_delete", args=[rule.pk]), {"post": "yes"}
        ).status_code
        == 403
    )


def test_supervisors_cannot_change_policy(client, supervisor):
    supervisor.is_staff = True
    supervisor.save()
    client.force_login(supervisor)
    assert client.post(ADD, rule_form()).status_code == 403


def test_what_may_i_offer_panel(client, agent, order):
    case = flows.analyzing(agent, order, category="missing_parts")
    client.force_login(agent)
    response = client.get(case.get_absolute_url())
    allowances = {item.kind: item for item in response.context["allowances"]}
    assert allowances["voucher"].allowance == Decimal("20")
    assert allowances["partial_refund"].allowance == Decimal("59.70")  # 30% of ¥199
    assert allowances["reship"].allowance == Decimal("50")  # the missing-item rule
    assert allowances["full_refund"].needs_approval
    assert not allowances["apology"].needs_approval
    html = response.content.decode()
    assert 'id="allowances"' in html and "up to ¥20" in html


def test_what_may_i_offer_for_a_serial_complainant(client, agent):
    customer = CustomerFactory()
    for _ in range(3):
        flows.verifying(agent, OrderFactory(customer=customer), amount=Decimal("10"))
    case = flows.analyzing(agent, OrderFactory(customer=customer))
    client.force_login(agent)
    allowances = client.get(case.get_absolute_url()).context["allowances"]
    assert all(item.needs_approval for item in allowances)


def test_the_admin_log_says_who_added_changed_and_retired_each_rule(
    admin_client, admin_user, client
):
    from django.contrib.admin.models import LogEntry

    assert admin_client.post(ADD, rule_form()).status_code == 302
    rule = PolicyRule.objects.get(name="Gift for lost parcels")
    change = reverse("admin:complaints_policyrule_change", args=[rule.pk])
    assert admin_client.post(change, rule_form(max_amount="40")).status_code == 302
    retired = PolicyRule.objects.get(name="Voucher up to ¥20")
    admin_client.post(
        reverse("admin:complaints_policyrule_changelist"),
        {"action": "retire", "_selected_action": [retired.pk]},
    )
    entries = LogEntry.objects.order_by("pk")
    said = [(e.user, e.object_repr, e.get_change_message()) for e in entries]
    assert said[0] == (admin_user, str(rule), "Added.")
    assert said[1][:2] == (admin_user, str(rule))
    assert said[1][2].startswith("Changed Maximum amount")
    assert said[2] == (admin_user, str(retired), "Changed Active until.")  # the action logs too
    log = admin_client.get(reverse("admin:admin_logentry_changelist"))
    html = log.content.decode()
    assert "Changed Active until." in html and admin_user.username in html
    assert f'href="{change}"' in html  # each entry leads to what it changed
    # Read-only for everyone, admins included: nobody rewrites the log.
    entry = entries.first()
    assert admin_client.get(reverse("admin:admin_logentry_add")).status_code == 403
    entry_url = reverse("admin:admin_logentry_change", args=[entry.pk])
    assert 'name="change_message"' not in admin_client.get(entry_url).content.decode()
    assert admin_client.post(entry_url, {"change_message": "nothing"}).status_code == 403
    delete = reverse("admin:admin_logentry_delete", args=[entry.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    assert LogEntry.objects.count() == 3
    chinese = admin_client.get(
        reverse("admin:admin_logentry_changelist"), HTTP_ACCEPT_LANGUAGE="zh-hans"
    )
    assert chinese.status_code == 200 and "<span>变更</span>" in chinese.content.decode()


def test_the_admin_log_and_token_lists_cost_the_same_queries_for_more_rows(
    admin_client, admin_user, agent, supervisor
):
    from django.contrib.admin.models import CHANGE, LogEntry
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from complaints.api.tokens import issue

    def queries(url):
        with CaptureQueriesContext(connection) as captured:
            assert admin_client.get(url).status_code == 200
        return len(captured)

    def more(count):
        for rule in PolicyRule.objects.all()[:count]:
            LogEntry.objects.log_actions(
                admin_user.pk, [rule], CHANGE, change_message="x", single_object=True
            )
        for user in (agent, supervisor)[: min(count, 2)]:
            issue(user)

    log, tokens = (
        reverse("admin:admin_logentry_changelist"),
        reverse("admin:knox_authtoken_changelist"),
    )
    more(1)
    few = queries(log), queries(tokens)
    more(5)
    assert (queries(log), queries(tokens)) == few  # each row's user and kind read with the list
