"""The load test: agents working cases, supervisors watching them (make load).

Each simulated agent logs in as one of generate_data's bench agents and then,
with think times of one to five seconds, opens their queue, follows it to the
next page, searches it, opens cases, adds notes and confirms new cases, as an
after-sales agent does all day. One user in ten is a supervisor
(generate_data's bench supervisors): the approvals, the team page, the
deadline board, the whole team's queue by priority and a search of every
case for a customer's order. Every request is checked: a wrong status or a page
without its content counts as a failure.
"""

import itertools
import random
import re
import time
from pathlib import Path

from locust import HttpUser, between, events, task

AGENTS = itertools.count()
ORDERS = 1_000_000  # generate_data's order numbers: BENCH000000000 on
SUPERVISORS = itertools.count()
# Two-character words as agents type them: some in generate_data's summaries
# (破损, 尺码, 质量), some in none (霉变, 异味, 褪色), which only an index finds fast.
WORDS = ["破损", "尺码", "质量", "快递", "霉变", "异味", "褪色", "漏液"]
CASE_LINK = re.compile(r'href="/cases/([A-Z]-[0-9-]+)/"')
NEXT_LINK = re.compile(r'rel="next" href="\?([^"]+)"')
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
TITLE = re.compile(r"<title>([^<]*)</title>")
FAILURES = Path(__file__).with_name("load_failures.log")


def fail(response, why):
    """Count the failure, and keep what came back to find its cause."""
    if response.status_code == 0:  # no answer at all: say why (reset, timeout...)
        why = f"no response: {response.error!r}"
    response.failure(why)
    chain = " -> ".join(f"{r.status_code} {r.url}" for r in [*response.history, response])
    title = TITLE.search(response.text or "")
    with FAILURES.open("a") as log:
        log.write(
            f"{time.strftime('%H:%M:%S')} {why}: {chain} ({len(response.content or b'')} bytes, "
            f"title {title.group(1).strip() if title else None!r})\n"
        )


@events.request.add_listener
def log_errors(request_type, name, response, exception, **kwargs):
    """Every failed request, with its status, in load_failures.log too."""
    if exception is not None:
        status = getattr(response, "status_code", None)
        with FAILURES.open("a") as log:
            when = time.strftime("%H:%M:%S")
            log.write(f"{when} {request_type} {name}: {status} {exception!r}\n")


def log_in(user, username):
    page = user.client.get("/accounts/login/", name="login page")
    token = CSRF.search(page.text).group(1)
    with user.client.post(
        "/accounts/login/",
        {"username": username, "password": "bench-password", "csrfmiddlewaretoken": token},
        name="log in",
        catch_response=True,
    ) as response:
        if "/accounts/login/" in response.url:
            fail(response, "login refused")


class Agent(HttpUser):
    weight = 9
    wait_time = between(1, 5)

    def on_start(self):
        self.username = f"bench_agent{next(AGENTS) % 200}"
        log_in(self, self.username)
        self.cases = []

    def _csrf(self):
        # Django's name over plain HTTP, the __Host- one behind HTTPS (settings)
        cookies = self.client.cookies
        return cookies.get("csrftoken") or cookies.get("__Host-csrftoken", "")

    @task(5)
    def my_queue(self):
        with self.client.get("/queue/mine/?sort=due", name="queue", catch_response=True) as page:
            if 'id="queue-table"' not in page.text:
                fail(page, "no queue table")
                return
            self.cases = CASE_LINK.findall(page.text) or self.cases
            following = NEXT_LINK.search(page.text)
        if following:
            self.client.get(
                "/queue/mine/?" + following.group(1).replace("&amp;", "&"), name="queue, next page"
            )

    @task(2)
    def search(self):
        """Look a case up in one's own queue: by its number, or by an order
        number the customer gives (most are not among one's open cases)."""
        if self.cases and random.random() < 0.5:
            term = random.choice(self.cases)
        else:
            term = f"BENCH{random.randrange(ORDERS):09d}"
        self._page_with_table(f"/queue/mine/?q={term}", "search, my queue")

    @task(1)
    def search_a_word(self):
        """Look for a word of two characters in one's own queue."""
        term = random.choice(WORDS)
        self._page_with_table(f"/queue/mine/?q={term}", "search, my queue, a word")

    def _page_with_table(self, url, name):
        with self.client.get(url, name=name, catch_response=True) as page:
            if 'id="queue-table"' not in page.text:
                fail(page, "no queue table")

    @task(2)
    def team_queue(self):
        self.client.get("/queue/unassigned/", name="unassigned queue")

    @task(1)
    def reviews(self):
        """The review inbox: the newest medium and negative reviews, and the
        recovery funnel of the last 30 days."""
        with self.client.get("/reviews/", name="review inbox", catch_response=True) as page:
            if 'id="funnel"' not in page.text:
                fail(page, "review inbox without its funnel")

    @task(5)
    def open_case(self):
        if not self.cases:
            return self.my_queue()
        number = random.choice(self.cases)
        with self.client.get(f"/cases/{number}/", name="case", catch_response=True) as page:
            if number not in page.text:
                fail(page, "case page without its number")

    @task(2)
    def add_note(self):
        if not self.cases:
            return
        number = random.choice(self.cases)
        page = self.client.get(f"/cases/{number}/step/add_note/", name="note form")
        state = re.search(r'name="expected_state" value="([a-z_]+)"', page.text)
        if not state:
            return  # the case is not open for notes any more
        self.client.post(
            f"/cases/{number}/step/add_note/",
            {"expected_state": state.group(1), "text": "客户来电询问进度，已告知处理中"},
            headers={"X-CSRFToken": self._csrf()},
            name="add note",
        )

    @task(1)
    def confirm_a_new_case(self):
        if not self.cases:
            return
        number = random.choice(self.cases)
        with self.client.post(
            f"/cases/{number}/step/confirm/",
            {"expected_state": "confirming", "demand": "希望补偿", "description": "load test"},
            headers={"X-CSRFToken": self._csrf()},
            name="confirm",
            catch_response=True,
        ) as response:
            if response.status_code == 409:  # not waiting for confirmation: expected
                response.success()


class Supervisor(HttpUser):
    weight = 1
    wait_time = between(2, 8)

    def on_start(self):
        log_in(self, f"bench_supervisor{next(SUPERVISORS) % 5}")

    def _page(self, url, name, marker):
        with self.client.get(url, name=name, catch_response=True) as page:
            if marker not in page.text:
                fail(page, f"{name} without {marker!r}")

    @task(3)
    def approvals(self):
        self._page("/approvals/", "approvals", "<h1")

    @task(2)
    def team(self):
        self._page("/team/", "team", "data-agent=")

    @task(1)
    def deadlines(self):
        self._page("/team/deadlines/", "deadlines", "<h1")

    @task(1)
    def voucher_ledger(self):
        self._page("/vouchers/", "voucher ledger", 'id="ledger-totals"')

    @task(2)
    def search_every_case(self):
        """Find a customer's order among all cases, open or closed."""
        order = f"BENCH{random.randrange(ORDERS):09d}"
        self._page(f"/queue/all/?q={order}", "search, all cases", 'id="queue-table"')

    @task(1)
    def search_every_case_for_a_word(self):
        """A word of two characters among all cases, open or closed."""
        term = random.choice(WORDS)
        self._page(f"/queue/all/?q={term}", "search, all cases, a word", 'id="queue-table"')

    @task(3)
    def open_queue_by_priority(self):
        self._page("/queue/open/?sort=priority", "open queue by priority", 'id="queue-table"')
