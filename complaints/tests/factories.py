"""factory_boy factories for the domain; users get their role through groups."""

from datetime import timedelta
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from complaints.models import (
    Case,
    CaseSource,
    Customer,
    Marketplace,
    Order,
    OrderItem,
    Review,
)
from complaints.models.cases import allocate_case_number


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@shop.example")
    password = factory.django.Password("pw-for-tests-only")

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if create and extracted:
            self.groups.add(Group.objects.get(name=extracted))


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    marketplace = Marketplace.TAOBAO
    buyer_id = factory.Sequence(lambda n: f"买家{n:04d}")
    display_name = factory.Faker("name", locale="zh_CN")
    phone = "13800138000"


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Order
        skip_postgeneration_save = True

    marketplace = Marketplace.TAOBAO
    number = factory.Sequence(lambda n: f"TB{20260000000 + n}")
    customer = factory.SubFactory(CustomerFactory)
    paid_total = Decimal("199.00")
    paid_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=6))
    shipped_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=5))
    delivered_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=2))
    courier = "中通快递"
    tracking_number = factory.Sequence(lambda n: f"ZT{7000000000 + n}")

    @factory.post_generation
    def items(self, create, extracted, **kwargs):
        if create:
            OrderItem.objects.create(
                order=self,
                sku="DRESS-RED-M",
                title="碎花连衣裙 红色 M",
                quantity=1,
                unit_price=self.paid_total,
                supplier="杭州织造",
            )


class ReviewFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Review

    marketplace = Marketplace.TAOBAO
    external_id = factory.Sequence(lambda n: f"R{900000 + n}")
    order = factory.SubFactory(OrderFactory)
    customer = factory.SelfAttribute("order.customer")
    sku = "DRESS-RED-M"
    rating = 2
    text = "颜色和图片差太多了，失望"
    posted_at = factory.LazyFunction(timezone.now)


class CaseFactory(factory.django.DjangoModelFactory):
    """A case in its first state, made directly (tests of the workflow use case_open)."""

    class Meta:
        model = Case

    number = factory.LazyFunction(allocate_case_number)
    source = CaseSource.CHAT
    order = factory.SubFactory(OrderFactory)
    customer = factory.SelfAttribute("order.customer")
    summary = "裙子颜色与图片不符"
    demand = "希望退一部分钱"
