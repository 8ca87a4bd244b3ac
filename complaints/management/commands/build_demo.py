"""Play a small apparel shop's after-sales month through the workflow.

Runs on an empty database (``make demo-fixture`` gives it a throwaway one and
dumps the result to fixtures/demo.json). Every case gets where it is through
the same workflow functions the pages use, with the clock moved by
time-machine, so its events, offers and vouchers are what real work leaves.
"""

import random
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from complaints import workflow
from complaints.management.demo_catalogue import (
    ANCHOR,
    COMPLAINTS,
    COURIERS,
    CUSTOMERS,
    MARKETPLACES,
    PRODUCTS,
    REVIEW_TEXTS,
)
from complaints.models import (
    Case,
    CaseEvent,
    Customer,
    Order,
    OrderItem,
    Review,
    RootCauseCategory,
    VoucherStatus,
)

DEMO_PASSWORD = "demo12345"
USERS = [
    ("agent1", "agent", "林", "小雨"),
    ("agent2", "agent", "周", "子豪"),
    ("supervisor1", "supervisor", "王", "主管"),
    ("admin1", "admin", "陈", "店长"),
]

# Where each demo case ends up, and with which remedy (kind, amount, min spend).
SCENARIOS = [
    # target, complaint, offer, extra
    ("confirming", 0, None, {}),
    ("confirming", 5, None, {"demand": ""}),
    ("confirming", 12, None, {"source": "phone"}),
    ("confirming", None, None, {"review_rating": 2}),
    ("confirming", None, None, {"review_rating": 1}),
    ("analyzing", 1, None, {}),
    ("analyzing", 4, ("voucher", "60", "0"), {"source": "dispute"}),  # waits for approval
    ("analyzing", 10, ("full_refund", None, "0"), {}),  # waits for approval
    ("analyzing", None, ("gift", "10", "0"), {"review_rating": 2}),
    ("proposing", 2, ("partial_refund", "20", "0"), {"alternative": ("voucher", "15", "99")}),
    ("proposing", 6, ("voucher", "50", "200"), {"approve": True}),
    ("proposing", 8, ("return_shipping", "12", "0"), {}),
    ("proposing", 13, ("apology", None, "0"), {"alternative": ("voucher", "10", "0")}),
    ("executing", 0, ("voucher", "20", "100"), {}),
    ("executing", 3, ("reship", "45", "0"), {}),
    ("executing", 9, ("partial_refund", "30", "0"), {}),
    ("executing", 7, ("voucher", "80", "0"), {"approve": True, "issue": True}),
    ("verifying", 11, ("reship", "40", "0"), {"category": "missing_parts"}),
    ("verifying", 1, ("voucher", "20", "150"), {}),
    ("verifying", None, ("apology", None, "0"), {"review_rating": 3}),
    ("root_cause", 5, ("voucher", "20", "0"), {}),
    ("root_cause", 2, ("partial_refund", "40", "0"), {"unsatisfied_first": True}),
    ("root_cause", None, ("voucher", "15", "99"), {"review_rating": 2, "revision": "revised"}),
    ("closed", 0, ("voucher", "20", "100"), {"voucher_status": VoucherStatus.REDEEMED}),
    ("closed", 4, ("voucher", "20", "0"), {"voucher_status": VoucherStatus.EXPIRED, "age": 55}),
    ("closed", 6, ("voucher", "100", "300"), {"approve": True, "voucher_status": "void"}),
    ("closed", 3, ("reship", "50", "0"), {"category": "missing_parts"}),
    ("closed", 8, ("return_shipping", "10", "0"), {}),
    ("closed", 10, ("gift", "15", "0"), {}),
    ("closed", None, ("voucher", "20", "0"), {"review_rating": 1, "revision": "declined"}),
    ("closed", 13, ("apology", None, "0"), {"reopen": True}),
    ("cancelled", 7, None, {"reason": "客户已撤回投诉"}),
    ("cancelled", 0, None, {"reason": "与 C-2026 重复的工单"}),
    ("cancelled", 11, ("gift", "10", "0"), {"reason": "疑似恶意索赔，已核实无问题"}),
]

SERIAL_CUSTOMER = "芒果布丁"


class Command(BaseCommand):
    help = "Build the demo shop through the workflow on an empty database."

    def handle(self, *args, **options):
        if Case.objects.exists() or Customer.objects.exists():
            raise CommandError("build_demo needs an empty database (see make demo-fixture).")
        import time_machine

        # The demo's notifications are real; their e-mails go nowhere.
        settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.dummy.EmailBackend"}}
        self.rng = random.Random(2026)
        self.issued = {}  # scenario index -> its voucher
        self.current = None
        with time_machine.travel(ANCHOR - timedelta(days=75), tick=False) as clock:
            self.clock = clock
            with transaction.atomic():
                self.users = self.make_users()
                self.customers = self.make_customers()
                self.orders = self.make_orders()
                self.reviews = self.make_reviews()
                self.play_serial_complainant()
                for index, scenario in enumerate(SCENARIOS):
                    self.play(index, *scenario)
                self.settle_vouchers()
                if CaseEvent.objects.filter(created_at__gt=ANCHOR).exists():
                    raise CommandError("The demo ran past its anchor: lengthen the ages.")
        self.stdout.write(
            f"Demo shop built: {Customer.objects.count()} customers, "
            f"{Order.objects.count()} orders, {Review.objects.count()} reviews, "
            f"{Case.objects.count()} cases."
        )

    # Time --------------------------------------------------------------

    def at(self, when):
        self.clock.move_to(when)

    def later(self, minutes_low=5, minutes_high=240):
        step = timedelta(minutes=self.rng.randint(minutes_low, minutes_high))
        # Nothing happens after the demo's "today".
        self.clock.move_to(min(timezone.now() + step, ANCHOR - timedelta(minutes=5)))

    # People and goods -------------------------------------------------

    def make_users(self):
        User = get_user_model()
        users = {}
        for username, role, last, first in USERS:
            user = User.objects.create_user(
                username=username,
                password=DEMO_PASSWORD,
                email=f"{username}@demo-shop.example",
                first_name=first,
                last_name=last,
                is_staff=role == "admin",
                is_superuser=role == "admin",
            )
            user.groups.add(Group.objects.get(name=role))
            users[username] = user
        return users

    def make_customers(self):
        customers = []
        for n, (buyer, name, motive, temperament, tags, notes) in enumerate(CUSTOMERS):
            customers.append(
                Customer.objects.create(
                    marketplace=MARKETPLACES[n % len(MARKETPLACES)],
                    buyer_id=buyer,
                    display_name=name,
                    phone=f"13{self.rng.randint(100000000, 999999999)}",
                    motive=motive,
                    temperament=temperament,
                    tags=tags,
                    notes=notes,
                )
            )
        return customers

    def make_orders(self):
        orders = []
        serial = next(c for c in self.customers if c.buyer_id == SERIAL_CUSTOMER)
        for n in range(86):
            customer = serial if n in (40, 70) else self.customers[n % len(self.customers)]
            paid_at = ANCHOR - timedelta(days=85 - n, hours=self.rng.randint(0, 12))
            items = self.rng.sample(PRODUCTS, self.rng.choice([1, 1, 1, 2, 3]))
            lines = [
                (sku, title, Decimal(price), supplier, self.rng.choice([1, 1, 2]))
                for sku, title, price, supplier in items
            ]
            delivered = paid_at + timedelta(days=self.rng.randint(2, 6))
            order = Order.objects.create(
                marketplace=customer.marketplace,
                number=f"{customer.marketplace[:2].upper()}{3900000000 + n * 7919}",
                customer=customer,
                paid_total=sum(price * qty for _s, _t, price, _su, qty in lines),
                paid_at=paid_at,
                shipped_at=paid_at + timedelta(hours=self.rng.randint(6, 40)),
                delivered_at=delivered if delivered < ANCHOR else None,
                courier=self.rng.choice(COURIERS),
                tracking_number=f"{self.rng.randint(10**11, 10**12 - 1)}",
            )
            for sku, title, price, supplier, qty in lines:
                OrderItem.objects.create(
                    order=order,
                    sku=sku,
                    title=title,
                    quantity=qty,
                    unit_price=price,
                    supplier=supplier,
                )
            orders.append(order)
        return orders

    def make_reviews(self):
        reviews = {rating: [] for rating in range(1, 6)}
        ratings = [1] * 8 + [2] * 8 + [3] * 8 + [4] * 10 + [5] * 12
        for n, rating in enumerate(ratings):
            order = self.orders[(n * 7) % len(self.orders)]
            item = order.items.first()
            review = Review.objects.create(
                marketplace=order.marketplace,
                external_id=f"RV{880000 + n}",
                order=order,
                customer=order.customer,
                sku=item.sku,
                rating=rating,
                text=self.rng.choice(REVIEW_TEXTS[rating]),
                has_photos=rating <= 2 and n % 2 == 0,
                posted_at=(order.delivered_at or order.paid_at) + timedelta(days=1),
            )
            reviews[rating].append(review)
        return reviews

    # Cases ------------------------------------------------------------

    def agent_for(self, index):
        # The best agent (agent1) carries more than the others: a visible imbalance.
        return [
            self.users["agent1"],
            self.users["agent1"],
            self.users["agent2"],
            self.users["supervisor1"],
        ][index % 4]

    def open_case(self, index, agent, complaint, extra, *, claim=True):
        rating = extra.get("review_rating")
        if rating:
            review = self.reviews[rating].pop(0)
            self.at(max(review.posted_at + timedelta(hours=2), self.now()))
            case = workflow.case_open_from_review(review=review, actor=None)
            if not claim:  # still waiting in the unassigned queue
                return case, None
            self.later(10, 90)
            return workflow.case_assign(case=case, assignee=agent, actor=agent), None
        summary, demand, _category, _party = COMPLAINTS[complaint]
        # An order the customer has had for a few days already.
        delivered = [o for o in self.orders if o.paid_at < self.now() - timedelta(days=4)]
        order = delivered[-1 - (index * 5) % min(len(delivered), 30)]
        case = workflow.case_open(
            actor=agent,
            customer=order.customer,
            order=order,
            source=extra.get("source", self.rng.choice(["chat", "chat", "phone", "email"])),
            summary=summary,
            demand=extra.get("demand", demand),
            priority=self.rng.choice([1, 2, 2, 2, 3, 4]),
        )
        return case, COMPLAINTS[complaint]

    def now(self):
        return timezone.now()

    def play(self, index, target, complaint, offer, extra):
        self.current = index
        agent = self.agent_for(index)
        supervisor = self.users["supervisor1"]
        approver = self.users["admin1"] if agent == supervisor else supervisor
        # Open cases are recent (their clocks still run); finished ones older.
        if target in ("closed", "cancelled", "root_cause"):
            age = extra.get("age", self.rng.randint(12, 45))
        else:
            age = self.rng.randint(0, 4)
        self.at(ANCHOR - timedelta(days=age, hours=self.rng.randint(1, 20)))
        case, details = self.open_case(index, agent, complaint, extra, claim=target != "confirming")
        if case.assignee_id is None:
            return
        self.later(1, 20)
        workflow.case_record_contact(
            case=case,
            actor=agent,
            channel="chat",
            outcome="reached",
            notes="已致歉，了解情况中",
        )
        if target == "cancelled":
            self.later()
            workflow.case_cancel(case=case, actor=agent, reason=extra["reason"])
            return
        if target == "confirming":
            return
        self.later()
        case = workflow.case_confirm(case=case, actor=agent, demand=case.demand or "希望得到补偿")
        code = extra.get("category") or (details[2] if details else "colour_difference")
        party = details[3] if details else "supplier"
        case = workflow.case_analyze(
            case=case,
            actor=agent,
            category=RootCauseCategory.objects.get(code=code),
            severity=self.rng.choice([1, 2, 2, 3]),
            responsible_party=party,
        )
        if offer is None:
            return
        main = self.propose(case, agent, offer)
        if extra.get("alternative"):
            self.propose(case, agent, extra["alternative"])
        if main.approval_status == "pending":
            if not extra.get("approve"):
                return  # waits in the supervisor's queue
            self.later(20, 300)
            main = workflow.offer_approve(offer=main, actor=approver, note="老客户，同意")
        if target == "analyzing":
            return
        self.later()
        case = workflow.case_propose(case=case, actor=agent)
        if target == "proposing":
            return
        self.later(30, 600)
        case = workflow.case_accept_offer(case=case, offer=main, actor=agent)
        if target == "executing" and not extra.get("issue"):
            return
        self.carry_out(case, agent, main)
        if target == "executing":
            return
        case = workflow.case_mark_executed(case=case, actor=agent)
        if target == "verifying":
            return
        if extra.get("unsatisfied_first"):
            case = self.follow_up(case, agent, satisfied=False)
            second = self.propose(case, agent, ("voucher", "20", "0"))
            case = workflow.case_propose(case=case, actor=agent)
            case = workflow.case_accept_offer(case=case, offer=second, actor=agent)
            self.carry_out(case, agent, second)
            case = workflow.case_mark_executed(case=case, actor=agent)
        case = self.follow_up(case, agent, satisfied=True)
        if extra.get("revision"):
            self.later()
            workflow.case_request_review_revision(case=case, actor=agent, channel="chat")
            self.later(600, 2000)
            workflow.case_record_revision_outcome(
                case=case,
                actor=agent,
                outcome=extra["revision"],
                revised_rating=5 if extra["revision"] == "revised" else None,
            )
        if target == "root_cause":
            return
        self.later()
        order = case.order
        item = order.items.first() if order else None
        case = workflow.case_record_root_cause(
            case=case,
            actor=agent,
            root_cause=case.category,
            sku=item.sku if item else "",
            courier=order.courier if order else "",
            supplier=item.supplier if item else "",
            party=case.responsible_party,
            corrective_action=self.rng.choice(
                [
                    "重拍主图并标注色差说明",
                    "更换快递合作方",
                    "与供应商沟通加强质检",
                    "客服话术培训",
                    "详情页补充尺码表",
                ]
            ),
        )
        case = workflow.case_close(case=case, actor=agent)
        if extra.get("reopen"):
            self.later(600, 3000)
            workflow.case_reopen(case=case, actor=agent, reason="客户再次联系，问题未彻底解决")

    def propose(self, case, agent, offer):
        kind, amount, min_spend = offer
        if kind == "full_refund":
            amount = case.order.paid_total
        self.later(5, 60)
        return workflow.offer_propose(
            case=case,
            actor=agent,
            kind=kind,
            amount=amount,
            min_spend=min_spend,
            reasoning="客户情绪较大，先安抚" if kind != "apology" else "",
        )

    def carry_out(self, case, agent, offer):
        self.later(30, 900)
        if offer.kind == "voucher":
            self.issued[self.current] = workflow.voucher_issue(case=case, actor=agent)
        elif offer.kind != "apology":
            workflow.offer_record_execution(
                case=case, actor=agent, reference=f"REF{self.rng.randint(10**9, 10**10)}"
            )

    def follow_up(self, case, agent, *, satisfied):
        self.later(600, 2880)
        workflow.case_record_contact(
            case=case,
            actor=agent,
            channel="phone",
            outcome="reached",
            notes="回访：客户表示满意" if satisfied else "回访：客户仍不满意",
        )
        return workflow.case_record_satisfaction(
            case=case,
            actor=agent,
            satisfied=satisfied,
            score=5 if satisfied else 2,
            comment="" if satisfied else "希望再补偿一些",
        )

    def play_serial_complainant(self):
        """Three compensated cases in a few weeks, then a fourth that needs approval."""
        customer = next(c for c in self.customers if c.buyer_id == SERIAL_CUSTOMER)
        agent = self.users["agent2"]
        orders = [o for o in self.orders if o.customer == customer]
        for n, order in enumerate(orders[:4]):
            self.at(order.paid_at + timedelta(days=4))
            case = workflow.case_open(
                actor=agent,
                customer=customer,
                order=order,
                source="chat",
                summary="收到的衣服有瑕疵",
                demand="要求补偿",
            )
            case = workflow.case_confirm(case=case, actor=agent)
            case = workflow.case_analyze(
                case=case,
                actor=agent,
                category=RootCauseCategory.objects.get(code="defect"),
                severity=1,
            )
            offer = self.propose(case, agent, ("voucher", "20", "0"))
            if n == 3:
                return  # the fourth offer waits: serial complainant
            case = workflow.case_propose(case=case, actor=agent)
            case = workflow.case_accept_offer(case=case, offer=offer, actor=agent)
            self.carry_out(case, agent, offer)
            case = workflow.case_mark_executed(case=case, actor=agent)
            case = self.follow_up(case, agent, satisfied=True)
            case = workflow.case_record_root_cause(
                case=case, actor=agent, root_cause=case.category, party="supplier"
            )
            workflow.case_close(case=case, actor=agent)

    def settle_vouchers(self):
        """Give the closed cases' vouchers the later lives vouchers have,
        through the ledger's workflow: redeemed, voided, expired by the sweep."""
        for index, (_target, _c, _o, extra) in enumerate(SCENARIOS):
            status = extra.get("voucher_status")
            voucher = self.issued.get(index)
            if not status or voucher is None:
                continue
            if status == VoucherStatus.REDEEMED:
                self.at(voucher.issued_at + timedelta(days=5))
                order = Order.objects.filter(customer=voucher.customer).latest("paid_at")
                workflow.voucher_redeem(
                    voucher=voucher,
                    actor=self.users["agent1"],
                    order=order,
                    amount=voucher.min_spend + Decimal("58"),
                )
            elif status == VoucherStatus.VOID:
                self.at(voucher.issued_at + timedelta(days=2))
                workflow.voucher_void(
                    voucher=voucher,
                    actor=self.users["supervisor1"],
                    reason="客户改为全额退款，券作废",
                )
        self.at(ANCHOR - timedelta(minutes=1))
        workflow.vouchers_expire()
