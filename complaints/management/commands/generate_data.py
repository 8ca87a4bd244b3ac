"""Synthetic data at scale for benchmarks: customers, orders, cases with root
causes, executed offers and first contacts, written with bulk inserts.

The rows are plausible but do not go through the workflow (no audit events):
use them to measure queries and exports, never as a demo.
"""

import random
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from complaints.models import (
    Case,
    Contact,
    Customer,
    Offer,
    Order,
    OrderItem,
    RootCauseCategory,
)

BATCH = 5000
SKUS = [f"SKU-{n:03d}" for n in range(60)]
COURIERS = ["中通快递", "圆通速递", "顺丰速运", "韵达快递", "申通快递", "京东物流"]
SUPPLIERS = ["杭州织造", "广州棉品", "东莞牛仔厂", "宁波毛纺", "桐乡针织"]


class Command(BaseCommand):
    help = "Generate N synthetic closed cases (with orders, offers, contacts) for benchmarks."

    def add_arguments(self, parser):
        parser.add_argument("--cases", type=int, default=10_000)
        parser.add_argument("--days", type=int, default=365, help="Spread over this many days.")
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, **options):
        from tqdm import tqdm

        rng = random.Random(options["seed"])
        total = options["cases"]
        agents = self._agents()
        leaves = list(RootCauseCategory.objects.leaves())
        now = timezone.now()
        start = Case.objects.filter(number__startswith="S-").count()
        bar = tqdm(total=total, unit="cases", disable=options["no_progress"])
        for first in range(start, start + total, BATCH):
            size = min(BATCH, start + total - first)
            with transaction.atomic():
                self._batch(rng, first, size, agents, leaves, now, options["days"])
            bar.update(size)
        bar.close()
        self.stdout.write(f"{total} synthetic cases written ({start + total} in all).")

    def _agents(self):
        group = Group.objects.get(name="agent")
        agents = []
        for n in range(8):
            user, created = get_user_model().objects.get_or_create(username=f"bench_agent{n}")
            if created:
                user.set_unusable_password()
                user.save()
                user.groups.add(group)
            agents.append(user)
        return agents

    def _batch(self, rng, first, size, agents, leaves, now, days):
        customers = Customer.objects.bulk_create(
            Customer(marketplace="taobao", buyer_id=f"bench_buyer_{first + n}") for n in range(size)
        )
        opened = [now - timedelta(minutes=rng.randint(60, days * 1440)) for _ in range(size)]
        orders = Order.objects.bulk_create(
            Order(
                marketplace="taobao", number=f"BENCH{first + n:09d}", customer=customer,
                paid_total=Decimal(rng.randint(50, 900)), paid_at=when - timedelta(days=5),
                delivered_at=when - timedelta(days=2), courier=rng.choice(COURIERS),
            )
            for n, (customer, when) in enumerate(zip(customers, opened, strict=True))
        )  # fmt: skip
        OrderItem.objects.bulk_create(
            OrderItem(order=order, sku=rng.choice(SKUS), title="商品", quantity=1,
                      unit_price=order.paid_total, supplier=rng.choice(SUPPLIERS))
            for order in orders
        )  # fmt: skip
        cases = []
        for n, (order, when) in enumerate(zip(orders, opened, strict=True)):
            leaf = rng.choice(leaves)
            paid = Decimal(rng.choice([5, 10, 20]))
            cases.append(
                Case(
                    number=f"S-{first + n:09d}",
                    source=rng.choice(["chat", "phone", "review"]),
                    customer_id=order.customer_id,
                    order=order,
                    summary="synthetic",
                    demand="synthetic",
                    category=leaf,
                    root_cause=leaf,
                    root_cause_sku=rng.choice(SKUS),
                    root_cause_courier=order.courier,
                    root_cause_supplier=rng.choice(SUPPLIERS),
                    priority=2,
                    assignee=rng.choice(agents),
                    created_at=when,
                    first_response_at=when + timedelta(seconds=rng.randint(10, 7200)),
                    closed_at=when + timedelta(hours=rng.randint(2, 200)),
                    customer_satisfied=rng.random() < 0.85,
                    satisfaction_score=rng.randint(2, 5),
                    compensation_cost=paid,
                )
            )
        cases = Case.objects.bulk_create(cases)
        Case.objects.filter(pk__in=[case.pk for case in cases]).update(state="closed")
        Offer.objects.bulk_create(
            Offer(case=case, kind="voucher", amount=case.compensation_cost,
                  approval_status="not_needed", proposed_by=case.assignee,
                  outcome="accepted", executed_at=case.closed_at)
            for case in cases
        )  # fmt: skip
        Contact.objects.bulk_create(
            Contact(case=case, channel="chat", outcome="reached", agent=case.assignee,
                    contacted_at=case.first_response_at)
            for case in cases
        )  # fmt: skip
