"""Orders and reviews from the marketplaces' CSV exports.

Every line is checked and its errors reported with the line number. All
valid lines go in one transaction, or nothing when any line is wrong (unless
``partial``). Lines are written in chunks (a few queries per thousand lines)
so large files import in bounded memory; importing the same file again
changes nothing (upsert by order number / review id).
"""

import csv
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from .conf import setting
from .models import Case, Customer, Marketplace, Order, OrderItem, Review
from .models.common import MONEY_MAX, validate_plausible_year

CHUNK = 1000
ORDER_COLUMNS = [
    "marketplace", "order_number", "buyer_id", "buyer_name", "phone", "paid_total", "paid_at",
    "shipped_at", "delivered_at", "courier", "tracking_number", "sku", "title", "quantity",
    "unit_price", "supplier",
]  # fmt: skip
REVIEW_COLUMNS = [
    "marketplace", "review_id", "order_number", "buyer_id", "sku", "rating", "text",
    "has_photos", "posted_at",
]  # fmt: skip
MARKETPLACE_NAMES = {
    **{choice.value: choice.value for choice in Marketplace},
    **{str(choice.label).lower(): choice.value for choice in Marketplace},
    "淘宝": "taobao", "天猫": "tmall", "京东": "jd", "拼多多": "pinduoduo", "抖音": "douyin",
    "自营商城": "own_shop", "其他": "other",
}  # fmt: skip


class LineError(ValueError):
    pass


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    skipped: int = 0  # unchanged lines
    cases_opened: int = 0
    errors: list = field(default_factory=list)  # (line number, message)
    committed: bool = False

    def summary(self) -> str:
        state = "imported" if self.committed else "nothing imported"
        return (
            f"{state}: {self.created} created, {self.updated} updated, "
            f"{self.skipped} unchanged, {len(self.errors)} lines with errors"
            + (f", {self.cases_opened} review cases opened" if self.cases_opened else "")
        )


class _Abort(Exception):
    """Rolls the transaction back when a line was wrong and partial is off."""


def _text(row, name, *, required=True, max_length=None):
    value = (row.get(name) or "").strip()
    if required and not value:
        raise LineError(f"{name}: empty")
    if "\x00" in value:  # PostgreSQL cannot store one; the forms refuse it too
        raise LineError(f"{name}: contains a NUL character")
    if max_length and len(value) > max_length:
        raise LineError(f"{name}: longer than {max_length} characters")
    return value


def _marketplace(row):
    value = _text(row, "marketplace")
    try:
        return MARKETPLACE_NAMES[value.lower()]
    except KeyError as exc:
        raise LineError(f"marketplace: unknown marketplace {value!r}") from exc


def _money(row, name):
    value = _text(row, name)
    try:
        amount = Decimal(value.replace(",", "").lstrip("¥"))
    except InvalidOperation as exc:
        raise LineError(f"{name}: {value!r} is not an amount") from exc
    if amount <= 0 or amount.as_tuple().exponent < -2:
        raise LineError(f"{name}: {value!r} must be positive with at most two decimals")
    if amount > MONEY_MAX:
        raise LineError(f"{name}: {value!r} is more than {MONEY_MAX:,}")
    return amount


# Every date of an order or a review has happened. A day's leeway: an export
# may carry another zone's wall-clock time without saying which.
FUTURE_TOLERANCE = timedelta(days=1)


def _when(row, name, *, required=True) -> datetime | None:
    value = _text(row, name, required=required)
    if not value:
        return None
    try:
        parsed = parse_datetime(value.replace("/", "-"))
        if parsed is None and len(value) == 10:
            parsed = parse_datetime(value.replace("/", "-") + " 00:00")
    except ValueError:
        parsed = None
    if parsed is None:
        raise LineError(f"{name}: {value!r} is not a date and time (YYYY-MM-DD HH:MM)")
    try:
        validate_plausible_year(parsed)
    except ValidationError as error:
        raise LineError(f"{name}: {value!r}: {error.messages[0]}") from error
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)  # the shop's time zone (Asia/Shanghai)
    if parsed > timezone.now() + FUTURE_TOLERANCE:
        raise LineError(f"{name}: {value!r} is in the future")
    return parsed


def _int(row, name, low, high):
    value = _text(row, name)
    try:
        number = int(value)
    except ValueError as exc:
        raise LineError(f"{name}: {value!r} is not a whole number") from exc
    if not low <= number <= high:
        raise LineError(f"{name}: {number} is not between {low} and {high}")
    return number


def _rows(handle, columns) -> Iterator[tuple[int, dict]]:
    reader = csv.DictReader(handle)
    missing = [name for name in columns if name not in (reader.fieldnames or [])]
    if missing:
        raise LineError(f"line 1: missing columns: {', '.join(missing)}")
    for row in reader:
        yield reader.line_num, row  # the physical line, right for quoted newlines too


def _chunks(rows: Iterable, size: int = CHUNK):
    chunk = []
    for item in rows:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def upsert_orders(lines: list[dict]) -> ImportReport:
    """Upsert one order from in-memory lines (one per item, the CSV's
    columns as text): all or nothing, as an import of those lines would."""
    return _run_lines(lines, _write_orders)


def upsert_reviews(lines: list[dict]) -> ImportReport:
    """Upsert reviews from in-memory lines (the CSV's columns as text)."""
    return _run_lines(lines, lambda chunk, report: _write_reviews(chunk, report, set()))


def _run_lines(lines, write_chunk) -> ImportReport:
    try:
        return _write_lines(lines, write_chunk)
    except IntegrityError:
        # A concurrent request inserted the same order, customer or review
        # between our read and our insert: the second attempt finds it.
        return _write_lines(lines, write_chunk)


def _write_lines(lines, write_chunk) -> ImportReport:
    report = ImportReport()
    try:
        with transaction.atomic():
            write_chunk(list(enumerate(lines, start=1)), report)
            if report.errors:
                raise _Abort
            report.committed = True
    except _Abort:
        report.created = report.updated = report.skipped = report.cases_opened = 0
    return report


def _run(path, columns, write_chunk, *, partial, progress) -> ImportReport:
    report = ImportReport()
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle, transaction.atomic():
            for chunk in _chunks(_rows(handle, columns)):
                write_chunk(chunk, report)
                if progress:
                    progress(len(chunk))
            if report.errors and not partial:
                raise _Abort
            report.committed = True
    except _Abort:
        report.created = report.updated = report.skipped = report.cases_opened = 0
    except LineError as error:
        report.errors.append((1, str(error).removeprefix("line 1: ")))
    except UnicodeDecodeError:
        report.errors.append((0, "the file is not UTF-8 text"))
    return report


def import_orders(path, *, partial=False, progress: Callable | None = None) -> ImportReport:
    """Upsert orders (one line per item) by marketplace and order number."""
    return _run(path, ORDER_COLUMNS, _write_orders, partial=partial, progress=progress)


def import_reviews(path, *, partial=False, progress: Callable | None = None) -> ImportReport:
    """Upsert reviews by marketplace and review id; a medium or negative
    review opens a case once (never again, even after its case closed)."""
    seen: set = set()

    def write(chunk, report):
        _write_reviews(chunk, report, seen)

    return _run(path, REVIEW_COLUMNS, write, partial=partial, progress=progress)


# Orders ---------------------------------------------------------------------


def _parse_order_line(row):
    return {
        "marketplace": _marketplace(row),
        "number": _text(row, "order_number", max_length=64),
        "buyer_id": _text(row, "buyer_id", max_length=100),
        "buyer_name": _text(row, "buyer_name", required=False, max_length=100),
        "phone": _text(row, "phone", required=False, max_length=30),
        "paid_total": _money(row, "paid_total"),
        "paid_at": _when(row, "paid_at"),
        "shipped_at": _when(row, "shipped_at", required=False),
        "delivered_at": _when(row, "delivered_at", required=False),
        "courier": _text(row, "courier", required=False, max_length=50),
        "tracking_number": _text(row, "tracking_number", required=False, max_length=64),
        "sku": _text(row, "sku", max_length=64),
        "title": _text(row, "title", max_length=200),
        "quantity": _int(row, "quantity", 1, 100_000),
        "unit_price": _money(row, "unit_price"),
        "supplier": _text(row, "supplier", required=False, max_length=100),
    }


ORDER_FIELDS = (
    "customer_id", "paid_total", "paid_at", "shipped_at", "delivered_at", "courier",
    "tracking_number",
)  # fmt: skip


def _write_orders(chunk, report):
    lines = []
    for number, row in chunk:
        try:
            lines.append((number, _parse_order_line(row)))
        except LineError as error:
            report.errors.append((number, str(error)))
    if not lines:
        return
    customers = _customers({(line["marketplace"], line["buyer_id"]): line for _, line in lines})
    keys = {(line["marketplace"], line["number"]) for _, line in lines}
    existing = {
        (order.marketplace, order.number): order
        for order in Order.objects.filter(number__in={number for _, number in keys})
        if (order.marketplace, order.number) in keys
    }
    orders, new, changed = {}, [], {}
    for _number, line in lines:
        key = (line["marketplace"], line["number"])
        values = {
            "customer_id": customers[(line["marketplace"], line["buyer_id"])].pk,
            **{name: line[name] for name in ORDER_FIELDS if name != "customer_id"},
        }
        order = orders.get(key) or existing.get(key)
        if order is None:
            order = Order(marketplace=key[0], number=key[1], **values)
            new.append(order)
        elif any(getattr(order, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(order, name, value)
            if order.pk:
                changed[order.pk] = order
        orders[key] = order
    Order.objects.bulk_create(new)
    Order.objects.bulk_update(list(changed.values()), list(ORDER_FIELDS))
    _write_items(lines, orders, report, new_orders={id(order) for order in new})


def _write_items(lines, orders, report, *, new_orders):
    order_ids = {order.pk for order in orders.values()}
    items = {
        (item.order_id, item.sku): item for item in OrderItem.objects.filter(order__in=order_ids)
    }
    new, changed = [], {}
    for _number, line in lines:
        order = orders[(line["marketplace"], line["number"])]
        values = {name: line[name] for name in ("title", "quantity", "unit_price", "supplier")}
        item = items.get((order.pk, line["sku"]))
        if item is None:
            item = OrderItem(order=order, sku=line["sku"], **values)
            items[(order.pk, line["sku"])] = item
            new.append(item)
            report.created += 1 if id(order) in new_orders else 0
            report.updated += 0 if id(order) in new_orders else 1
        elif any(getattr(item, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(item, name, value)
            if item.pk:
                changed[item.pk] = item
            report.updated += 1
        else:
            report.skipped += 1
    OrderItem.objects.bulk_create(new)
    OrderItem.objects.bulk_update(
        list(changed.values()), ["title", "quantity", "unit_price", "supplier"]
    )


def _customers(by_key: dict) -> dict:
    """Return Customer rows for (marketplace, buyer id) keys, creating missing ones."""
    found = {
        (customer.marketplace, customer.buyer_id): customer
        for customer in Customer.objects.filter(buyer_id__in={buyer for _, buyer in by_key})
        if (customer.marketplace, customer.buyer_id) in by_key
    }
    missing = [
        Customer(
            marketplace=marketplace,
            buyer_id=buyer,
            display_name=line.get("buyer_name", ""),
            phone=line.get("phone", ""),
        )
        for (marketplace, buyer), line in by_key.items()
        if (marketplace, buyer) not in found
    ]
    for customer in Customer.objects.bulk_create(missing):
        found[(customer.marketplace, customer.buyer_id)] = customer
    return found


# Reviews ---------------------------------------------------------------------


def _parse_review_line(row):
    has_photos = _text(row, "has_photos", required=False).lower()
    if has_photos not in ("", "0", "1", "yes", "no", "true", "false", "是", "否"):
        raise LineError(f"has_photos: {has_photos!r} is not yes or no")
    return {
        "marketplace": _marketplace(row),
        "external_id": _text(row, "review_id", max_length=64),
        "order_number": _text(row, "order_number", max_length=64),
        "buyer_id": _text(row, "buyer_id", required=False, max_length=100),
        "sku": _text(row, "sku", required=False, max_length=64),
        "rating": _int(row, "rating", 1, 5),
        "text": _text(row, "text"),
        "has_photos": has_photos in ("1", "yes", "true", "是"),
        "posted_at": _when(row, "posted_at"),
    }


REVIEW_FIELDS = ("order_id", "customer_id", "sku", "rating", "text", "has_photos", "posted_at")


def _write_reviews(chunk, report, seen):
    lines = []
    for number, row in chunk:
        try:
            line = _parse_review_line(row)
            key = (line["marketplace"], line["external_id"])
            if key in seen:
                raise LineError(f"review_id: {line['external_id']!r} appears twice in the file")
            seen.add(key)
            lines.append((number, line))
        except LineError as error:
            report.errors.append((number, str(error)))
    orders = {
        (order.marketplace, order.number): order
        for order in Order.objects.filter(
            number__in={line["order_number"] for _, line in lines}
        ).select_related("customer")
    }
    keys = {(line["marketplace"], line["external_id"]) for _, line in lines}
    existing = {
        (review.marketplace, review.external_id): review
        for review in Review.objects.filter(external_id__in={key[1] for key in keys})
        if (review.marketplace, review.external_id) in keys
    }
    new, changed, negative = [], [], []
    threshold = setting("NEGATIVE_REVIEW_MAX_RATING")
    for number, line in lines:
        order = orders.get((line["marketplace"], line["order_number"]))
        if order is None:
            report.errors.append(
                (
                    number,
                    f"order_number: unknown order {line['order_number']!r} on "
                    f"{line['marketplace']} (import the orders first)",
                )
            )
            continue
        if line["buyer_id"] and line["buyer_id"] != order.customer.buyer_id:
            report.errors.append(
                (
                    number,
                    f"buyer_id: {line['buyer_id']!r} did not place order "
                    f"{order.number} ({order.customer.buyer_id!r} did)",
                )
            )
            continue
        values = {
            "order_id": order.pk, "customer_id": order.customer_id, "sku": line["sku"],
            "rating": line["rating"], "text": line["text"], "has_photos": line["has_photos"],
            "posted_at": line["posted_at"],
        }  # fmt: skip
        review = existing.get((line["marketplace"], line["external_id"]))
        if review is None:
            review = Review(
                marketplace=line["marketplace"], external_id=line["external_id"], **values
            )
            new.append(review)
            report.created += 1
        elif any(getattr(review, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(review, name, value)
            changed.append(review)
            report.updated += 1
        else:
            report.skipped += 1
            continue
        if review.rating <= threshold:
            negative.append(review)
    Review.objects.bulk_create(new)
    Review.objects.bulk_update(changed, list(REVIEW_FIELDS))
    report.cases_opened += _open_review_cases(negative)


def _open_review_cases(reviews) -> int:
    """Open a review case for each medium or negative review that never had one.

    Once only: a review sent again (changed or not) after its case closed or
    was cancelled does not open another; the agent reopens the case.
    """
    from .workflow import case_open_from_review

    with_case = set(
        Case.objects.filter(review__in=[review.pk for review in reviews]).values_list(
            "review_id", flat=True
        )
    )
    opened = 0
    for review in reviews:
        if review.pk not in with_case:
            case_open_from_review(review=review, actor=None)
            with_case.add(review.pk)
            opened += 1
    return opened
