"""Orders and their items, as the marketplace reports them."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .common import ChoiceLabels, Marketplace, money_field, validate_plausible_year


class Order(ChoiceLabels, models.Model):
    """A paid marketplace order; the number is unique within its marketplace."""

    marketplace = models.CharField(_("marketplace"), max_length=20, choices=Marketplace.choices)
    number = models.CharField(_("order number"), max_length=64)
    customer = models.ForeignKey(
        "complaints.Customer",
        on_delete=models.PROTECT,
        related_name="orders",
        verbose_name=_("customer"),
    )
    paid_total = money_field(_("paid total"))
    paid_at = models.DateTimeField(_("paid"), validators=[validate_plausible_year])
    shipped_at = models.DateTimeField(
        _("shipped"), null=True, blank=True, validators=[validate_plausible_year]
    )
    delivered_at = models.DateTimeField(
        _("delivered"), null=True, blank=True, validators=[validate_plausible_year]
    )
    courier = models.CharField(_("courier"), max_length=50, blank=True)
    tracking_number = models.CharField(_("tracking number"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-paid_at"]
        # The order the lists read them in (the admin adds -id): without it,
        # the admin's order list sorted every order (450 ms at 1M).
        indexes = [
            models.Index(fields=["-paid_at", "-id"], name="order_paid_newest"),
            # The admin's courier filter lists the couriers along it
            # (admin.IndexedValuesFilter) instead of reading every order.
            models.Index(fields=["courier"], name="order_courier"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["marketplace", "number"], name="order_unique_number_per_marketplace"
            ),
            models.CheckConstraint(condition=Q(paid_total__gt=0), name="order_paid_total_positive"),
        ]

    def __str__(self):
        return f"{self.get_marketplace_display()} {self.number}"


class OrderItem(models.Model):
    """One line of an order: a SKU, how many and at what price."""

    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, related_name="items", verbose_name=_("order")
    )
    sku = models.CharField(_("SKU"), max_length=64, db_index=True)
    title = models.CharField(_("title"), max_length=200)
    quantity = models.PositiveIntegerField(_("quantity"))
    unit_price = money_field(_("unit price"))
    supplier = models.CharField(_("supplier"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("order item")
        verbose_name_plural = _("order items")
        # The admin's supplier filter lists the suppliers along it (as above).
        indexes = [models.Index(fields=["supplier"], name="orderitem_supplier")]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="orderitem_quantity_positive"),
            models.CheckConstraint(
                condition=Q(unit_price__gt=0), name="orderitem_unit_price_positive"
            ),
        ]

    def __str__(self):
        return f"{self.sku} × {self.quantity}"

    @property
    def line_total(self):
        return self.unit_price * self.quantity
