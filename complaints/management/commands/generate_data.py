"""Synthetic data at scale for benchmarks and load tests.

    python manage.py generate_data --cases 1000000

Writes customers (some complain repeatedly), orders with items, reviews for
the cases that came from one (most answered with a published reply), one
content review of four or five stars per case that opened no case, and
cases across the routine: 80% closed, the rest spread over the open states,
each with the events of the steps it went through (about ten per closed
case), its offer, voucher and contacts. Vouchers live on after issue: about
half redeemed, a few voided, the rest expired once past their date or still
outstanding. One closed case in ten records a corrective action, most of
them done. Most satisfied reviewers were asked to revise their review, and
about half of those did. The load is skewed across --agents agents (a few
carry much more than others).

Rows are written in batches with explicit ids: PostgreSQL gets them through
COPY (psycopg), other databases through bulk inserts. The rows are plausible
but do not go through the workflow: use them to measure, never as a demo.
"""

import random
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from complaints.models import (
    Case,
    CaseEvent,
    Contact,
    Customer,
    Offer,
    Order,
    OrderItem,
    Review,
    ReviewReply,
    RootCauseCategory,
    Voucher,
)

SKUS = [f"SKU-{n:03d}" for n in range(60)]
COURIERS = ["中通快递", "圆通速递", "顺丰速运", "韵达快递", "申通快递", "京东物流"]
TRACKING_PREFIXES = dict(zip(COURIERS, ["ZTO", "YT", "SF", "YD", "STO", "JDV"], strict=True))
SURNAMES = "王李张刘陈杨黄赵吴周徐孙"
GIVEN_NAMES = ["小明", "丽", "伟", "芳", "静", "磊", "晓燕", "军", "婷", "强"]
SUPPLIERS = ["杭州织造", "广州棉品", "东莞牛仔厂", "宁波毛纺", "桐乡针织"]
CORRECTIVE = ["更换包装供应商", "更新商品色卡照片", "调整尺码表", "与快递协商赔付流程"]
PRAISE = ["质量很好，颜色和图片一样", "物流很快，包装完好", "尺码合适，穿着舒服", "客服态度好", ""]
SUMMARIES = ["颜色与图片不符", "尺码偏小", "快递太慢", "包裹破损", "少发配件", "质量问题"]
# The routine's steps: (transition, from, to). A case in state S went through
# the steps up to S; closed cases through all of them.
ROUTINE = [
    ("confirm", "confirming", "analyzing"),
    ("propose", "analyzing", "proposing"),
    ("accept", "proposing", "executing"),
    ("mark_executed", "executing", "verifying"),
    ("satisfied", "verifying", "root_cause"),
    ("close", "root_cause", "closed"),
]
# What a reviewer asked to revise did ("": no answer recorded yet)
REVISION_OUTCOMES = ["revised", "appended", "declined", "no_answer", ""]
REVISION_WEIGHTS = [40, 10, 20, 20, 10]
OPEN_SPREAD = ["confirming"] * 4 + ["analyzing"] * 3 + ["proposing", "executing", "verifying"]
MODELS = [
    Customer, Order, OrderItem, Review, ReviewReply, Case, Offer, Voucher, Contact, CaseEvent,
]  # fmt: skip


class Loader:
    """Append rows (dicts of attname -> value) to tables, with explicit ids."""

    def __init__(self):
        self.copy = connection.vendor == "postgresql"
        self.next_id = {}
        for model in MODELS:
            top = model.objects.aggregate(top=Max("pk"))["top"] or 0
            self.next_id[model] = top + 1
        self.columns = {
            model: [f for f in model._meta.concrete_fields if not f.primary_key] for model in MODELS
        }
        # COPY takes Python values as they are, except JSON (psycopg's Jsonb).
        self.adapt = {
            model: [f.get_db_prep_save if f.get_internal_type() == "JSONField" else None
                    for f in self.columns[model]]
            for model in MODELS
        }  # fmt: skip
        self.defaults = {
            model: {f.attname: f.get_default() for f in self.columns[model]} for model in MODELS
        }

    def new_id(self, model):
        value = self.next_id[model]
        self.next_id[model] += 1
        return value

    def write(self, model, rows):
        if not rows:
            return
        fields = self.columns[model]
        if self.copy:
            names = ", ".join(connection.ops.quote_name(f.column) for f in fields)
            table = connection.ops.quote_name(model._meta.db_table)
            sql = f"COPY {table} (id, {names}) FROM STDIN"
            pairs = list(zip([f.attname for f in fields], self.adapt[model], strict=True))
            defaults = self.defaults[model]
            with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
                for row in rows:
                    values = defaults | row
                    copy.write_row(
                        [row["id"]]
                        + [
                            adapt(values[name], connection) if adapt else values[name]
                            for name, adapt in pairs
                        ]
                    )
        else:
            model.objects.bulk_create(
                [model(**(self.defaults[model] | row)) for row in rows], batch_size=2000
            )

    def finish(self):
        if self.copy:  # the id sequences continue after the explicit ids
            with connection.cursor() as cursor:
                for model in MODELS:
                    table = model._meta.db_table
                    cursor.execute(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"
                    )
                    cursor.execute(f"ANALYZE {table}")


class Command(BaseCommand):
    help = "Generate N synthetic cases with customers, orders, reviews and events."

    def add_arguments(self, parser):
        parser.add_argument("--cases", type=int, default=10_000)
        parser.add_argument("--agents", type=int, default=200)
        parser.add_argument("--days", type=int, default=365, help="Spread over this many days.")
        parser.add_argument("--closed", type=float, default=0.8, help="Share of closed cases.")
        parser.add_argument("--batch", type=int, default=5000)
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument("--no-progress", action="store_true")
        parser.add_argument(
            "--supervisors", type=int, default=5, help="bench_supervisor0.. (the load test's)"
        )

    def handle(self, *args, **options):
        from tqdm import tqdm

        self.rng = random.Random(options["seed"])
        self.options = options
        self.agents = self._agents(options["agents"])
        self.supervisors = self._supervisors(options["supervisors"])
        # Skewed load: agent k gets a share proportional to 1 / (k + 1) ** 0.7.
        self.weights = [1 / (rank + 1) ** 0.7 for rank in range(len(self.agents))]
        self.leaves = list(RootCauseCategory.objects.leaves().values_list("pk", flat=True))
        self.now = timezone.now()
        loader = Loader()
        start = Case.objects.filter(number__startswith="S-").count()
        total = options["cases"]
        bar = tqdm(total=total, unit="cases", disable=options["no_progress"], smoothing=0.1)
        for first in range(start, start + total, options["batch"]):
            size = min(options["batch"], start + total - first)
            with transaction.atomic():
                self._batch(loader, first, size)
            bar.update(size)
        bar.close()
        loader.finish()
        self.stdout.write(f"{total} synthetic cases written ({start + total} in all).")

    def _agents(self, count):
        from django.contrib.auth.hashers import make_password

        group = Group.objects.get(name="agent")
        User = get_user_model()
        password = make_password("bench-password")  # the load test logs in with it
        existing = {u.username: u for u in User.objects.filter(username__startswith="bench_agent")}
        agents = []
        for n in range(count):
            user = existing.get(f"bench_agent{n}")
            if user is None:
                user = User.objects.create(username=f"bench_agent{n}", password=password)
                user.groups.add(group)
            agents.append(user.pk)
        return agents

    def _supervisors(self, count):
        """Supervisors with the bench password: the load test's supervisors log
        in as them (approvals, the team, the deadlines)."""
        from django.contrib.auth.hashers import make_password

        group = Group.objects.get(name="supervisor")
        User = get_user_model()
        password = make_password("bench-password")
        supervisors = []
        for n in range(count):
            user, created = User.objects.get_or_create(
                username=f"bench_supervisor{n}", defaults={"password": password}
            )
            if created:
                user.groups.add(group)
            supervisors.append(user.pk)
        return supervisors

    def _batch(self, loader, first, size):
        rng, now, days = self.rng, self.now, self.options["days"]
        rows = {model: [] for model in MODELS}
        customers = []
        for n in range(size):
            # About one case in five comes from a customer seen before.
            if customers and rng.random() < 0.2:
                customer_id = rng.choice(customers)
            else:
                customer_id = loader.new_id(Customer)
                customers.append(customer_id)
                rows[Customer].append(
                    {
                        "id": customer_id,
                        "marketplace": "taobao",
                        "buyer_id": f"bench_buyer_{first + n}",
                        "display_name": SURNAMES[n % len(SURNAMES)]
                        + GIVEN_NAMES[n // len(SURNAMES) % len(GIVEN_NAMES)],
                        "phone": f"139{first + n:08d}"[-11:],
                        "created_at": now - timedelta(days=days + 30),
                    }
                )
            opened = now - timedelta(minutes=rng.randint(60, days * 1440))
            closed = rng.random() < self.options["closed"]
            state = "closed" if closed else rng.choice(OPEN_SPREAD)
            agent = rng.choices(self.agents, self.weights)[0]
            if state == "confirming" and rng.random() < 0.25:
                agent = None  # new, waiting in the unassigned queue
            order_id = loader.new_id(Order)
            paid = Decimal(rng.randint(50, 900))
            courier = rng.choice(COURIERS)
            rows[Order].append(
                {
                    "id": order_id,
                    "marketplace": "taobao",
                    "number": f"BENCH{first + n:09d}",
                    "customer_id": customer_id,
                    "paid_total": paid,
                    "paid_at": opened - timedelta(days=5),
                    "shipped_at": opened - timedelta(days=4),
                    "delivered_at": opened - timedelta(days=2),
                    "courier": courier,
                    "tracking_number": f"{TRACKING_PREFIXES[courier]}{first + n:013d}",
                    "created_at": opened - timedelta(days=5),
                }
            )
            sku = rng.choice(SKUS)
            rows[OrderItem].append(
                {
                    "id": loader.new_id(OrderItem),
                    "order_id": order_id,
                    "sku": sku,
                    "title": "商品",
                    "quantity": 1,
                    "unit_price": paid,
                    "supplier": rng.choice(SUPPLIERS),
                }
            )
            source = rng.choice(["chat", "chat", "phone", "review"])
            review_id = None
            if source == "review":
                review_id = loader.new_id(Review)
                rows[Review].append(
                    {
                        "id": review_id,
                        "marketplace": "taobao",
                        "external_id": f"BR{first + n:09d}",
                        "order_id": order_id,
                        "customer_id": customer_id,
                        "sku": sku,
                        "rating": rng.choice([1, 2, 2, 3]),
                        "text": "不太满意",
                        "posted_at": opened,
                    }
                )
            self._case(loader, rows, first + n, opened, state, agent, customer_id, order_id,
                       review_id, courier, sku, source)  # fmt: skip
            self._happy_review(loader, rows, first + n, customer_id)
        for model in MODELS:
            loader.write(model, rows[model])

    def _happy_review(self, loader, rows, n, customer_id):
        """A review of four or five stars that opened no case, one per case:
        most of a shop's reviews are content, and the inbox lists them all
        after the ones waiting for a reply. Their orders are not among the
        generated ones (those are the complaints'); one in ten is thanked."""
        rng = self.rng
        review_id = loader.new_id(Review)
        posted = self.now - timedelta(minutes=rng.randint(60, self.options["days"] * 1440))
        replied = None
        if rng.random() < 0.1:
            replied = self._past(posted + timedelta(minutes=rng.randint(30, 2880)))
            rows[ReviewReply].append(
                {
                    "id": loader.new_id(ReviewReply),
                    "review_id": review_id,
                    "text": "感谢您的好评，欢迎再次光临！",
                    "status": "published",
                    "author_id": rng.choices(self.agents, self.weights)[0],
                    "published_at": replied,
                    "updated_at": replied,
                }
            )
        rows[Review].append(
            {
                "id": review_id,
                "marketplace": "taobao",
                "external_id": f"BP{n:09d}",
                "customer_id": customer_id,
                "sku": rng.choice(SKUS),
                "rating": rng.choice([4, 5, 5, 5]),
                "text": rng.choice(PRAISE),
                "posted_at": posted,
                "replied_at": replied,
            }
        )

    def _case(self, loader, rows, n, opened, state, agent, customer_id, order_id, review_id,
              courier, sku, source):  # fmt: skip
        rng = self.rng
        case_id = loader.new_id(Case)
        leaf = rng.choice(self.leaves)
        steps = ROUTINE if state == "closed" else ROUTINE[: [s[1] for s in ROUTINE].index(state)]
        clock = opened
        events = [("opened", "", "", "", {})]
        satisfied = rng.random() < 0.85 if state == "closed" else None
        # A satisfied reviewer is often asked to revise the review (followup)
        revision = (
            rng.choices(REVISION_OUTCOMES, REVISION_WEIGHTS)[0]
            if review_id and satisfied and rng.random() < 0.6
            else None
        )
        for transition, source_state, target in steps:
            if transition == "propose":
                events.append(("offer_proposed", "", "", "", {"kind": "voucher"}))
            if transition == "accept":
                events.append(("voucher_issued", "", "", "", {}))
            if transition == "satisfied":
                events.append(("contact", "", "", "", {"channel": "phone"}))
            if transition == "close":
                if revision is not None:
                    events.append(("revision_requested", "", "", "", {"channel": "chat"}))
                if revision:
                    events.append(("revision_outcome", "", "", "", {"outcome": revision}))
                events.append(("root_cause", "", "", "", {}))
            events.append(("transition", transition, source_state, target, {}))
        if len(events) < 4:
            events.append(("note", "", "", "", {"text": "已联系客户"}))
        # Five minutes to ten hours between steps, squeezed when they would
        # run past now: a case opened an hour ago has taken its steps within
        # that hour (left as drawn, 0.5% of the cases closed in the coming
        # days, with their events, offers and vouchers).
        gaps = [rng.randint(5, 600) for _ in events]
        room = (self.now - opened) / timedelta(minutes=1)
        squeeze = min(1.0, room / sum(gaps))
        times = []
        for gap in gaps:
            clock += timedelta(minutes=gap * squeeze)
            times.append(self._past(clock))  # not a rounding past now
        closed_at = times[-1] if state == "closed" else None
        due = opened + timedelta(hours=48)
        compensation = Decimal(rng.choice([5, 10, 20])) if len(steps) >= 3 else Decimal("0")
        analysed = len(steps) >= 1
        corrective, corrective_done = "", None
        if state == "closed" and rng.random() < 0.1:
            corrective = rng.choice(CORRECTIVE)
            if rng.random() < 0.7:
                corrective_done = self._past(closed_at + timedelta(days=rng.randint(1, 20)))
        if review_id and agent and (len(steps) >= 1 or rng.random() < 0.2):
            replied = self._past(opened + timedelta(minutes=rng.randint(30, 1440)))
            rows[Review][-1]["replied_at"] = replied  # this case's review, written just before
            rows[ReviewReply].append(
                {
                    "id": loader.new_id(ReviewReply),
                    "review_id": review_id,
                    "text": "非常抱歉给您带来不便，我们已联系您处理。",
                    "status": "published",
                    "author_id": agent,
                    "published_at": replied,
                    "updated_at": replied,
                }
            )
        if revision is not None:
            asked = self._past(times[[e[0] for e in events].index("revision_requested")])
            rows[Review][-1].update(
                revision_requested_at=asked,
                revision_requested_by_id=agent,
                revision_request_channel="chat",
                revision_outcome=revision,
                revised_rating=rng.choice([4, 5, 5]) if revision == "revised" else None,
                revised_at=self._past(asked + timedelta(days=1)) if revision == "revised" else None,
            )
        rows[Case].append(
            {
                "id": case_id,
                "number": f"S-{n:09d}",
                "source": source,
                "state": state,
                "customer_id": customer_id,
                "order_id": order_id,
                "review_id": review_id,
                "summary": rng.choice(SUMMARIES),
                "demand": "希望补偿",
                "category_id": leaf if analysed else None,
                "severity": 2 if analysed else None,
                "root_cause_id": leaf if state == "closed" else None,
                "root_cause_sku": sku if state == "closed" else "",
                "root_cause_courier": courier if state == "closed" else "",
                "root_cause_supplier": rng.choice(SUPPLIERS) if state == "closed" else "",
                "priority": rng.choice([1, 2, 2, 2, 3, 4]),
                "assignee_id": agent,
                "created_at": opened,
                "updated_at": times[-1],
                "first_response_at": times[1] if len(times) > 1 else None,
                "first_response_due": opened + timedelta(hours=4),
                "resolution_due": due,
                "due_at": None if state == "closed" else due,
                "closed_at": closed_at,
                "customer_satisfied": satisfied,
                "satisfaction_score": rng.randint(2, 5) if state == "closed" else None,
                "compensation_cost": compensation,
                "corrective_action": corrective,
                "corrective_action_done_at": corrective_done,
            }
        )
        if len(steps) >= 2:  # an offer was proposed
            offer_id = loader.new_id(Offer)
            executed = len(steps) >= 3
            rows[Offer].append(
                {
                    "id": offer_id,
                    "case_id": case_id,
                    "kind": "voucher",
                    "amount": compensation or Decimal("10"),
                    "min_spend": Decimal("0"),
                    "approval_status": "not_needed",
                    "proposed_by_id": agent,
                    "proposed_at": times[2],
                    "updated_at": times[2],
                    "outcome": "accepted" if executed else "",
                    "accepted_at": times[3] if executed else None,
                    "executed_at": times[3] if executed else None,
                }
            )
            if executed:
                rows[Voucher].append(
                    {
                        "id": loader.new_id(Voucher),
                        "offer_id": offer_id,
                        "customer_id": customer_id,
                        "code": f"B{n:09d}-{rng.randrange(16**6):06X}",
                        "value": compensation or Decimal("10"),
                        "min_spend": Decimal("0"),
                        "valid_from": times[3],
                        "valid_until": times[3] + timedelta(days=30),
                        "issued_at": times[3],
                        **self._voucher_fate(times[3], compensation or Decimal("10")),
                    }
                )
        if len(steps) >= 5 and agent:
            rows[Contact].append(
                {
                    "id": loader.new_id(Contact),
                    "case_id": case_id,
                    "channel": "phone",
                    "outcome": "reached",
                    "agent_id": agent,
                    "contacted_at": times[-3],
                    "notes": "回访",
                }
            )
        for (kind, transition, from_state, to_state, payload), when in zip(
            events, times, strict=True
        ):
            rows[CaseEvent].append(
                {
                    "id": loader.new_id(CaseEvent),
                    "case_id": case_id,
                    "actor_id": agent,
                    "kind": kind,
                    "transition": transition,
                    "from_state": from_state,
                    "to_state": to_state,
                    "payload": payload,
                    "created_at": when,
                }
            )

    def _past(self, moment):
        """``moment``, or now if it has not come yet."""
        return min(moment, self.now)

    def _voucher_fate(self, issued, value) -> dict:
        """What became of a voucher issued at ``issued``: about half are
        redeemed within their 30 days, 3% voided, the rest expired once past
        their date (as the nightly sweep marks them) or still outstanding."""
        rng, until = self.rng, issued + timedelta(days=30)
        fate = rng.random()
        if fate < 0.03 and self.supervisors:
            return {
                "status": "void",
                "voided_at": self._past(issued + timedelta(hours=rng.randint(1, 48))),
                "voided_by_id": rng.choice(self.supervisors),
                "void_reason": "重复发放",
            }
        redeemed = issued + timedelta(minutes=rng.randint(60, 30 * 1440 - 60))
        if fate < 0.5 and redeemed < self.now:
            return {
                "status": "redeemed",
                "redeemed_at": redeemed,
                "redeemed_amount": value + Decimal(rng.randint(50, 300)),
            }
        return {"status": "expired" if until <= self.now else "issued"}
