"""The demo shop's queue and case page in English and Chinese, on a laptop and
a tablet. ``make screenshots`` keeps them in docs/screenshots for the README;
otherwise they go to a temporary folder and the test checks the pages only."""

import os
from pathlib import Path

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from complaints.models import Case

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("reference_data")]

SIZES = {"laptop": (1366, 900), "tablet": (820, 1180)}


@pytest.fixture
def demo_shop(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    call_command("load_demo")


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_screenshots_of_the_queue_and_the_case_page(
    browser, live_server, demo_shop, tmp_path, language
):
    folder = Path(os.environ.get("SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    case = Case.objects.filter(state="executing", offers__approval_status="approved").first()
    for size, (width, height) in SIZES.items():
        context = browser.new_context(
            base_url=live_server.url,
            viewport={"width": width, "height": height},
            locale="zh-CN" if language == "zh-hans" else "en-US",
        )
        page = context.new_page()
        errors = []
        page.on("console", lambda m, errors=errors: m.type == "error" and errors.append(m.text))
        page.goto("/accounts/login/")
        page.locator("#id_username").fill("supervisor1")
        page.locator("#id_password").fill("demo12345")
        page.locator("main button[type=submit]").click()
        expect(page.locator("#queue-table")).to_be_visible()
        suffix = "" if size == "laptop" else "-tablet"
        page.screenshot(path=folder / f"queue-{language}{suffix}.png")
        page.goto(case.get_absolute_url())
        expect(page.locator("#case-main")).to_be_visible()
        page.screenshot(path=folder / f"case-{language}{suffix}.png", full_page=True)
        # Nothing spills sideways on a tablet: the page is as wide as the screen.
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        assert errors == []
        context.close()
    assert (folder / f"case-{language}.png").stat().st_size > 10_000
