"""In a real browser (Debian's chromium through Playwright): an agent works a
case from the order to closed, an off-policy offer waits for a supervisor,
the Chinese UI, and the pages without JavaScript."""

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from complaints.models import Case

from .factories import OrderFactory, UserFactory

# Real transactions (the live server is another thread); seeded data restored.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("reference_data")]

PASSWORD = "pw-for-tests-only"


@pytest.fixture
def console_errors(page):
    errors = []

    def console(message):
        # Chromium says what it could not read in a response header (a
        # Permissions-Policy feature it does not know) as a warning.
        if message.type == "error" or message.text.startswith("Error with"):
            errors.append(message.text)

    page.on("console", console)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(
        "response",
        lambda response: (
            errors.append(f"{response.status} {response.url}") if response.status >= 400 else None
        ),
    )
    return errors


def log_in(page, username):
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.locator("main").get_by_role("button", name="Log in").click()
    expect(page.locator("h1")).to_be_visible()


def log_in_in_a_new_tab(page, where, username):
    """Follow the "Log in again in a new tab" link in ``where`` and log in
    there; return the new tab, on the page the log-in led to."""
    with page.context.expect_page() as opened:
        where.get_by_role("link", name="Log in again in a new tab").click()
    other = opened.value
    other.get_by_label("Username").fill(username)
    other.get_by_label("Password").fill(PASSWORD)
    other.locator("main").get_by_role("button", name="Log in").click()
    return other


def open_step(page, name):
    page.locator(f'#case-main [data-step="{name}"]').click()
    expect(page.locator(f'#step-form-card[data-step-form="{name}"]')).to_be_visible()


def submit_step(page, *, succeeds=True):
    page.locator("#step-form-card button[type=submit]").first.click()
    if succeeds:  # the case is redrawn without the form
        expect(page.locator("#step-form-card")).to_have_count(0)


def click_button_step(page, name):
    button = page.locator(f'#case-main [data-step="{name}"]')
    button.click()
    expect(button).to_have_count(0)  # the redrawn case no longer offers it


def expect_state(page, label):
    expect(page.locator("#case-main .state-badge").first).to_have_text(label)


def test_an_agent_works_a_voucher_case_from_the_order_to_closed(page, console_errors):
    UserFactory(username="xiaoyu", role="agent", first_name="小雨")
    order = OrderFactory(number="TB77001234")
    log_in(page, "xiaoyu")

    page.get_by_role("link", name="New case").first.click()
    page.get_by_label("Order number").fill("77001")
    page.get_by_role("link", name="Use this order").click()  # htmx filled the results
    expect(page.locator("#chosen-order")).to_contain_text("TB77001234")
    page.get_by_label("Source").select_option("chat")
    page.get_by_label("Summary").fill("连衣裙色差明显")
    page.get_by_label("Customer's demand").fill("希望补偿一张优惠券")
    page.get_by_role("button", name="Open the case").click()
    expect_state(page, "Confirming the issue")
    case = Case.objects.get(order=order)

    open_step(page, "confirm")
    submit_step(page)
    expect_state(page, "Analyzing")

    open_step(page, "analyze")
    page.get_by_label("Category").select_option(label="Product › Colour difference")
    page.get_by_label("Severity").select_option(label="Moderate")
    submit_step(page)
    expect(page.locator("#case-main")).to_contain_text("Colour difference")

    open_step(page, "propose_offer")
    page.get_by_label("Remedy").select_option("voucher")
    page.get_by_label("Amount (¥)").fill("20")
    page.get_by_label("Minimum spend (¥)").fill("100")
    expect(page.locator("#policy-check")).to_contain_text("Inside policy: no approval needed.")
    submit_step(page)
    expect(page.locator("#offers")).to_contain_text("Voucher ¥20.00")

    click_button_step(page, "propose")
    expect_state(page, "Proposing options")

    open_step(page, "accept")
    page.get_by_label("The customer chose").select_option(index=1)
    submit_step(page)
    expect_state(page, "Executing")

    open_step(page, "issue_voucher")
    submit_step(page)
    expect(page.locator("#offers code")).to_have_text(re.compile(r"^[A-Z0-9]{4}(-[A-Z0-9]{4}){3}$"))

    click_button_step(page, "mark_executed")
    expect_state(page, "Verifying satisfaction")

    open_step(page, "record_contact")
    page.get_by_label("Channel").select_option("phone")
    page.get_by_label("Outcome").select_option("reached")
    page.get_by_label("Notes").fill("回访：客户满意")
    submit_step(page)
    expect(page.locator(".timeline")).to_contain_text("回访：客户满意")

    open_step(page, "record_satisfaction")
    page.get_by_label("Satisfied", exact=True).check()
    page.get_by_label("Score (1–5)").select_option("5")
    submit_step(page)
    expect_state(page, "Recording the root cause")

    open_step(page, "record_root_cause")
    page.get_by_label("Root cause").select_option(label="Product › Colour difference")
    page.get_by_label("Corrective action").fill("重拍主图")
    submit_step(page)
    expect(page.locator("#case-main")).to_contain_text("重拍主图")

    click_button_step(page, "close")
    expect_state(page, "Closed")
    case.refresh_from_db()
    assert case.state == "closed"
    assert case.accepted_offer.voucher.value == 20
    assert console_errors == []


def test_an_off_policy_offer_waits_for_a_supervisor(page, console_errors):
    agent = UserFactory(username="zihao", role="agent")
    from . import flows

    case = flows.analyzing(agent, OrderFactory())
    log_in(page, "zihao")
    page.goto(case.get_absolute_url())
    open_step(page, "propose_offer")
    page.get_by_label("Remedy").select_option("voucher")
    page.get_by_label("Amount (¥)").fill("80")
    expect(page.locator("#policy-check")).to_contain_text("Goes to a supervisor for approval.")
    expect(page.locator("#policy-check")).to_contain_text("policy allows ¥20.00")
    submit_step(page)
    expect(page.locator("#offers")).to_contain_text("Waiting for a supervisor")

    click_button_step(page, "propose")
    expect_state(page, "Proposing options")
    open_step(page, "accept")
    options = page.get_by_label("The customer chose").locator("option")
    expect(options).to_have_count(1)  # only the empty choice: nothing to accept yet
    assert console_errors == []
    submit_step(page, succeeds=False)  # the browser may still send it: the server says no
    expect(page.locator("#step-form-card .errorlist")).to_be_visible()
    assert Case.objects.get(pk=case.pk).state == "proposing"
    assert [e for e in console_errors if not e.startswith("Failed to load resource")] == [
        f"400 {page.url.rstrip('/')}/step/accept/".replace("//step", "/step")
    ]


def test_the_chinese_ui_renders_the_case_page(browser, live_server, console_errors):
    agent = UserFactory(username="lin", role="agent")
    from . import flows

    case = flows.analyzing(agent, OrderFactory())
    context = browser.new_context(base_url=live_server.url, locale="zh-CN")
    page = context.new_page()
    page.goto("/accounts/login/")
    page.get_by_label("用户名").fill("lin")
    page.get_by_label("密码").fill(PASSWORD)
    page.locator("main").get_by_role("button", name="登录").click()
    expect(page.locator("h1")).to_have_text("我的工单")
    page.goto(case.get_absolute_url())
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect_state(page, "分析问题")
    expect(page.locator("#steps-heading")).to_have_text("下一步")
    expect(page.locator("#case-main")).to_contain_text("商品问题 › 色差")
    expect(page.locator('[data-step="propose_offer"]')).to_have_text("提出方案")
    context.close()


def test_without_javascript_steps_work_as_plain_pages(browser, live_server):
    agent = UserFactory(username="nojs", role="agent")
    from . import flows

    case = flows.opened(agent, OrderFactory())
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    log_in(page, "nojs")
    page.goto(case.get_absolute_url())
    page.locator('#case-main [data-step="add_note"]').click()
    expect(page).to_have_url(re.compile(r"/step/add_note/$"))
    page.get_by_label("Note", exact=True).fill("没有脚本也能记录")
    page.get_by_role("button", name="Add a note").click()
    expect(page).to_have_url(re.compile(re.escape(case.get_absolute_url()) + "$"))
    expect(page.locator(".timeline")).to_contain_text("没有脚本也能记录")
    context.close()


def test_the_queue_takes_a_case_with_one_click(page, console_errors):
    agent = UserFactory(username="taker", role="agent")
    supervisor = UserFactory(username="boss2", role="supervisor")
    from complaints import workflow

    from . import flows

    case = workflow.case_assign(
        case=flows.opened(agent, OrderFactory()), assignee=None, actor=supervisor
    )
    log_in(page, "taker")
    page.goto(reverse("complaints:queue", args=["unassigned"]))
    row = page.locator(f'tr[data-case="{case.number}"]')
    row.get_by_role("button", name="Assign to me").click()
    expect(page.locator("#messages")).to_contain_text(f"Case {case.number} is now yours.")
    assert Case.objects.get(pk=case.pk).assignee.username == "taker"
    assert console_errors == []


def test_a_refused_click_says_why_instead_of_doing_nothing(page, console_errors):
    """The case went to a colleague while the page was open: the step's link
    is refused (403), and the refusal's reason shows in the message area."""
    agent = UserFactory(username="slow", role="agent")
    colleague = UserFactory(username="quick", role="agent")
    supervisor = UserFactory(username="boss3", role="supervisor")
    from complaints import workflow

    from . import flows

    case = flows.analyzing(agent, OrderFactory())
    log_in(page, "slow")
    page.goto(case.get_absolute_url())
    workflow.case_assign(case=case, assignee=colleague, actor=supervisor)
    page.locator('#case-main [data-step="analyze"]').click()
    expect(page.locator('#messages [data-error="permission_denied"]')).to_have_text(
        "You may not take this step on this case."
    )
    expect(page.locator("#step-form-card")).to_have_count(0)
    step_url = reverse("complaints:step", args=[case.number, "analyze"])
    refused = f"403 {page.url.split('/cases/')[0]}{step_url}"
    # The one refusal, as the response and as the browser's console line; no
    # script error.
    assert sorted(console_errors) == [
        refused,
        "Failed to load resource: the server responded with a status of 403 (Forbidden)",
    ]


def test_no_answer_from_the_server_is_said_in_the_message_area(page):
    """The network drops, then a proxy answers 502 while the application is
    down: each click says so instead of doing nothing, and the case page
    stays as it was."""
    agent = UserFactory(username="roaming", role="agent")
    from . import flows

    case = flows.analyzing(agent, OrderFactory())
    log_in(page, "roaming")
    page.goto(case.get_absolute_url())
    step = f"**{reverse('complaints:step', args=[case.number, 'analyze'])}"
    messages = page.locator("#messages")

    page.route(step, lambda route: route.abort())
    page.locator('#case-main [data-step="analyze"]').click()
    expect(messages.locator('[data-error="unreachable"]')).to_have_text(
        "The server could not be reached, so nothing was sent. Check the connection and try again."
    )
    page.unroute(step)

    page.route(step, lambda route: route.fulfill(status=502, body="Bad Gateway"))
    page.locator('#case-main [data-step="analyze"]').click()
    expect(messages.locator('[data-error="failed"]')).to_contain_text(
        "The server did not answer (error 502)"
    )
    expect(messages.locator(".alert")).to_have_count(1)  # the newest problem only
    expect(page.locator("#case-main")).to_contain_text(case.number)
    expect(page.locator("#step-form-card")).to_have_count(0)


def test_a_session_that_ended_loses_nothing_typed(page):
    """A link clicked after the agent's session ended goes to the log-in
    page, which leads back to the case (not the log-in page drawn inside the
    case's panel). A form typed and sent after it ended says so and keeps
    the text; after logging in again in another tab the same form is sent."""
    from django.contrib.sessions.models import Session

    from . import flows

    agent = UserFactory(username="nightshift", role="agent")
    case = flows.analyzing(agent, OrderFactory())
    log_in(page, "nightshift")
    page.goto(case.get_absolute_url())
    Session.objects.all().delete()  # the session ended (expired, or logged out elsewhere)
    page.locator('#case-main [data-step="cancel"]').click()
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next="))
    expect(page.locator("#case-main")).to_have_count(0)  # the log-in page as a page
    page.get_by_label("Username").fill("nightshift")
    page.get_by_label("Password").fill(PASSWORD)
    page.locator("main").get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(re.escape(case.get_absolute_url()) + "$"))

    open_step(page, "cancel")
    page.get_by_label("Reason").fill("顾客撤回投诉，已电话确认")
    Session.objects.all().delete()
    page.locator("#step-form-card button[type=submit]").first.click()
    ended = page.locator('#messages [data-error="session_ended"]')
    expect(ended).to_contain_text("Your session has ended, so this was not sent")
    expect(page.get_by_label("Reason")).to_have_value("顾客撤回投诉，已电话确认")
    assert Case.objects.get(pk=case.pk).state == "analyzing"

    other = log_in_in_a_new_tab(page, ended, "nightshift")
    expect(other).to_have_url(re.compile(re.escape(case.get_absolute_url()) + "$"))
    other.close()

    page.locator("#step-form-card button[type=submit]").first.click()  # the same form again
    expect_state(page, "Cancelled")
    assert Case.objects.get(pk=case.pk).state == "cancelled"
    cancelled = Case.objects.get(pk=case.pk).events.get(transition="cancel")
    assert cancelled.payload["reason"] == "顾客撤回投诉，已电话确认"


def test_a_plain_form_sent_after_the_session_ended_is_sent_again_from_its_page(page, settings):
    """The new-case form is a plain form (no htmx): sent after the session
    ended, its page keeps what was typed; after logging in again in a new
    tab, "Send it again" opens the case with the new log-in's CSRF token,
    read from the cookie the settings name (as in production, not Django's
    default name)."""
    from django.contrib.sessions.models import Session

    settings.CSRF_COOKIE_NAME = "casetracker_csrf"

    UserFactory(username="lateshift", role="agent")
    order = OrderFactory(number="TB88002345")
    log_in(page, "lateshift")
    page.goto(reverse("complaints:new_case") + f"?order={order.pk}")
    page.get_by_label("Source").select_option("chat")
    page.get_by_label("Summary").fill("鞋码偏小，要求换货")
    Session.objects.all().delete()
    page.get_by_role("button", name="Open the case").click()
    expect(page.locator('[data-error="session_ended"]')).to_contain_text(
        "Your session had ended, so what you sent was not saved"
    )
    again = page.locator("#send-again")
    expect(again.get_by_label("Summary")).to_have_value("鞋码偏小，要求换货")
    expect(again.get_by_label("Source")).to_have_value("chat")  # the same choice
    assert not Case.objects.filter(order=order).exists()

    other = log_in_in_a_new_tab(page, page, "lateshift")
    expect(other.locator("h1")).to_have_text("New case")
    other.close()

    again.get_by_role("button", name="Send it again").click()
    expect_state(page, "Confirming the issue")
    case = Case.objects.get(order=order)
    assert (case.summary, case.source) == ("鞋码偏小，要求换货", "chat")


UNLABELLED = """() => Array.from(document.querySelectorAll(
    'input:not([type=hidden]), select, textarea, button'))
  .filter(el => el.offsetParent !== null)
  .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                && !(el.tagName === 'BUTTON' && el.textContent.trim()))
  .map(el => el.outerHTML.slice(0, 80))"""


def test_every_control_has_a_label_and_keyboard_focus_lands_in_the_form(page, console_errors):
    agent = UserFactory(username="a11y", role="agent")
    from . import flows

    case = flows.analyzing(agent, OrderFactory())
    log_in(page, "a11y")
    page.goto(reverse("complaints:queue", args=["mine"]))
    page.locator("summary").click()  # the filter form
    assert page.evaluate(UNLABELLED) == []
    page.goto(case.get_absolute_url())
    for step in ("analyze", "propose_offer", "record_contact", "add_evidence", "cancel"):
        open_step(page, step)
        assert page.evaluate(UNLABELLED) == [], step
        focused = page.evaluate("document.activeElement.closest('#step-panel') !== null")
        assert focused, step  # app.js moves focus into the opened form
    page.goto(reverse("complaints:new_case"))
    assert page.evaluate(UNLABELLED) == []
    assert console_errors == []


def test_off_policy_offer_approved_by_a_supervisor_then_accepted_and_executed(browser, live_server):
    agent = UserFactory(username="proposer", role="agent")
    UserFactory(username="boss", role="supervisor")
    from . import flows

    case = flows.analyzing(agent, OrderFactory())
    agent_page = browser.new_context(base_url=live_server.url).new_page()
    boss_page = browser.new_context(base_url=live_server.url).new_page()
    log_in(agent_page, "proposer")
    agent_page.goto(case.get_absolute_url())
    open_step(agent_page, "propose_offer")
    agent_page.get_by_label("Remedy").select_option("voucher")
    agent_page.get_by_label("Amount (¥)").fill("60")
    agent_page.get_by_label("Your reasoning (for the supervisor)").fill("老客户，第三次色差")
    submit_step(agent_page)
    expect(agent_page.locator("#offers")).to_contain_text("Waiting for a supervisor")

    log_in(boss_page, "boss")
    expect(boss_page.locator("#pending-approvals")).to_have_text("1")
    boss_page.get_by_role("link", name="Approvals").click()
    row = boss_page.locator(f'tr[data-offer="{case.offers.get().pk}"]')
    expect(row).to_contain_text("Voucher ¥60.00; policy allows ¥20.00")
    expect(row).to_contain_text("老客户，第三次色差")
    row.get_by_label("Note").fill("同意，下不为例")
    row.get_by_role("button", name="Approve").click()
    expect(boss_page.locator(f'tr[data-offer="{case.offers.get().pk}"]')).to_contain_text(
        "Approved"
    )
    expect(boss_page.locator("#pending-approvals")).to_have_text("")

    agent_page.reload()
    expect(agent_page.locator("#unread-count")).to_have_text("1")
    expect(agent_page.locator("#offers")).to_contain_text("Approved")
    click_button_step(agent_page, "propose")
    open_step(agent_page, "accept")
    agent_page.get_by_label("The customer chose").select_option(index=1)
    submit_step(agent_page)
    expect_state(agent_page, "Executing")
    open_step(agent_page, "issue_voucher")
    submit_step(agent_page)
    click_button_step(agent_page, "mark_executed")
    expect_state(agent_page, "Verifying satisfaction")
    case.refresh_from_db()
    assert case.accepted_offer.voucher.value == 60


def test_the_root_cause_chart_draws_and_a_bar_opens_its_cases(page, console_errors):
    from decimal import Decimal

    from complaints import workflow
    from complaints.models import RootCauseCategory

    from . import flows

    agent = UserFactory(username="rc_agent", role="agent")
    UserFactory(username="rc_boss", role="supervisor")
    for _ in range(2):
        case = flows.root_cause(agent, OrderFactory(), amount=Decimal("10"))
        workflow.case_record_root_cause(
            case=case, actor=agent, root_cause=RootCauseCategory.objects.get(code="defect")
        )
    log_in(page, "rc_boss")
    page.goto(reverse("complaints:root_causes"))
    canvas = page.locator('canvas[data-source="pareto-leaf"]')
    expect(canvas).to_be_visible()
    page.wait_for_function("document.querySelector('canvas.pareto').chart !== undefined")
    box = canvas.bounding_box()
    bar = page.evaluate(
        "() => { const c = document.querySelector('canvas.pareto').chart;"
        " const p = c.getDatasetMeta(0).data[0]; return {x: p.x, y: (p.y + p.base) / 2}; }"
    )
    page.mouse.click(box["x"] + bar["x"], box["y"] + bar["y"])
    expect(page).to_have_url(re.compile(r"/queue/all/\?root_cause="))
    expect(page.locator("#queue-table tbody tr")).to_have_count(2)
    assert console_errors == []


def test_a_supervisor_follows_a_breach_from_the_board_to_the_case(page, console_errors):
    from datetime import timedelta

    from django.utils import timezone

    from complaints.models import NotificationSettings
    from complaints.workflow.sla import sla_sweep

    from . import flows

    agent = UserFactory(username="late_agent", role="agent")
    supervisor = UserFactory(username="watcher", role="supervisor")
    case = flows.opened(agent, OrderFactory(), summary="迟到的回复")
    past = timezone.now() - timedelta(minutes=5)
    Case.objects.filter(pk=case.pk).update(
        first_response_due=past, first_response_warn_at=past - timedelta(minutes=5), due_at=past
    )
    assert sla_sweep().breaches == 1

    log_in(page, "watcher")
    page.get_by_role("link", name="Deadlines").click()
    row = page.locator(f'#deadline-table tr[data-case="{case.number}"]')
    expect(row.locator('[data-clock-state="breached"]')).to_contain_text("First response")
    expect(page.locator('[data-count="breached"]')).to_have_text("1")
    row.get_by_role("link", name=case.number).click()
    expect(page.locator('[data-clock="first_response"]')).to_contain_text("overdue by")
    expect(page.locator("#case-main")).to_contain_text("High")  # escalated from normal

    page.goto(reverse("complaints:notifications"))
    expect(page.locator("#notifications")).to_contain_text(f"{case.number}: First response")
    page.locator("#email-setting").get_by_role("button", name="Stop e-mails").click()
    expect(page.locator("#email-setting")).to_contain_text("E-mail copies are off.")
    assert NotificationSettings.wants_email(supervisor) is False
    assert console_errors == []


def test_the_api_docs_page_draws_from_local_assets(page, console_errors, live_server):
    UserFactory(username="integrator", role="agent")
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    log_in(page, "integrator")
    page.goto("/api/docs/")
    # Swagger UI parses a megabyte of script before drawing: on a busy
    # machine that took longer than the usual 5 s.
    expect(page.locator(".swagger-ui .title")).to_contain_text("casetracker API", timeout=20_000)
    expect(page.locator("#operations-cases-cases_transition")).to_be_visible()
    assert all(url.startswith(live_server.url) for url in requested), requested
    assert console_errors == []


def test_no_page_breaks_the_content_security_policy(page, live_server):
    """Every page a supervisor-admin opens, the admin's case page and the
    reports' charts included, runs under the policy without a violation."""
    from types import SimpleNamespace

    from complaints.models import Voucher

    from . import flows
    from .factories import ReviewFactory
    from .test_page_roles import PAGES, _page_request

    boss = UserFactory(username="boss", role="admin", is_staff=True, is_superuser=True)
    case = flows.opened(boss, OrderFactory())
    closed = flows.closed(boss, OrderFactory())
    world = {
        "case": case,
        "closed": closed,
        "voucher": Voucher.objects.get(offer__case=closed),
        "review": ReviewFactory(),
        "evidence": SimpleNamespace(pk=0),  # files are not pages
    }
    violations = []
    page.on(
        "console",
        lambda message: (
            violations.append(f"{page.url}: {message.text}")
            if "Content Security Policy" in message.text
            else None
        ),
    )
    log_in(page, "boss")
    paths = [
        _page_request(name, world)
        for name, (method, *_statuses) in PAGES.items()
        if method == "GET" and "evidence" not in name and name.startswith("complaints:")
    ]
    paths += [
        "/reports/root-causes/?from=2026-01-01&to=2026-12-31",
        "/admin/",
        f"/admin/complaints/case/{case.pk}/change/",
        f"/admin/complaints/case/{case.pk}/step/confirm/",
        "/admin/complaints/policyrule/add/",
        "/admin/complaints/slacalendar/add/",
        "/api/docs/",
    ]
    for path in paths:
        page.goto(path)
        page.wait_for_load_state("networkidle")
    assert len(paths) > 20
    assert violations == []


def test_two_step_log_in_from_setting_it_up_to_a_backup_code(page, console_errors):
    """An agent turns the two-step log-in on from the key the page shows (as
    an authenticator app reads it), keeps the backup codes, and the next
    log-in asks for a code; the QR code draws under the page's policy."""
    from base64 import b32decode

    from django_otp.oath import TOTP

    UserFactory(username="careful", role="agent")
    violations = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    log_in(page, "careful")
    page.goto(reverse("password_change"))
    page.locator("#account-tabs").get_by_role("link", name="Two-step log-in").click()
    page.get_by_role("link", name="Turn it on").click()
    expect(page.locator("#qr-code svg")).to_be_visible()
    secret = page.locator("#secret").inner_text().replace(" ", "")
    code = f"{TOTP(b32decode(secret)).token():06d}"  # what the phone's app shows
    page.get_by_role("textbox", name="Code").fill(code)
    page.locator("#setup-form").get_by_role("button", name="Turn it on").click()
    expect(page.locator("h1")).to_have_text("Your backup codes")
    codes = page.locator("#backup-codes li").all_inner_texts()
    assert len(codes) == 10
    page.get_by_role("link", name="I have kept them").click()
    expect(page.locator("h1")).not_to_have_text("Your backup codes")

    page.get_by_role("button", name="Log out").click()
    log_in(page, "careful")
    expect(page.locator("h1")).to_have_text("Enter your code")
    page.get_by_label("Code").fill(codes[0])
    page.locator("#verify-form").get_by_role("button", name="Log in").click()
    expect(page.locator("#messages")).to_contain_text(
        "You logged in with a backup code; 9 are left."
    )
    expect(page.locator("header")).to_contain_text("My cases")  # in, with the navigation
    assert violations == [] and console_errors == []
