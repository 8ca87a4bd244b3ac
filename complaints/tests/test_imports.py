"""Importing orders and reviews from CSV files."""

import tracemalloc

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from complaints.imports import import_orders, import_reviews
from complaints.models import Case, Customer, Order, OrderItem, Review

pytestmark = pytest.mark.django_db

SAMPLES = settings.BASE_DIR / "fixtures"
ORDER_HEADER = (
    "marketplace,order_number,buyer_id,buyer_name,phone,paid_total,paid_at,shipped_at,"
    "delivered_at,courier,tracking_number,sku,title,quantity,unit_price,supplier\n"
)
REVIEW_HEADER = "marketplace,review_id,order_number,buyer_id,sku,rating,text,has_photos,posted_at\n"


def write(tmp_path, name, text, *, bom=False):
    path = tmp_path / name
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return path


def test_the_sample_files_import_and_a_second_import_changes_nothing():
    first = import_orders(SAMPLES / "orders_sample.csv")
    assert first.committed and first.errors == []
    assert Order.objects.count() == 3 and OrderItem.objects.count() == 4
    coat = Order.objects.get(number="TM88800003")
    assert coat.marketplace == "tmall" and coat.items.count() == 2  # "天猫" understood
    assert coat.customer.display_name == "王珍妮"
    reviews = import_reviews(SAMPLES / "reviews_sample.csv")  # this one has a BOM
    assert reviews.committed and reviews.created == 3
    assert Review.objects.get(external_id="RV77000001").text == "颜色和图片差太多了，失望"
    assert reviews.cases_opened == 2  # ratings 2 and 3, not the 5
    again_orders = import_orders(SAMPLES / "orders_sample.csv")
    again_reviews = import_reviews(SAMPLES / "reviews_sample.csv")
    assert (again_orders.created, again_orders.updated, again_orders.skipped) == (0, 0, 4)
    assert (again_reviews.created, again_reviews.updated, again_reviews.skipped) == (0, 0, 3)
    assert Order.objects.count() == 3 and Review.objects.count() == 3
    assert Customer.objects.count() == 3
    assert Case.objects.count() == 2  # a negative review opens exactly one case


def test_a_changed_line_updates_the_row(tmp_path):
    import_orders(SAMPLES / "orders_sample.csv")
    text = (SAMPLES / "orders_sample.csv").read_text(encoding="utf-8")
    changed = write(tmp_path, "o.csv", text.replace(",YT9988776655,", ",YT0000000000,"))
    report = import_orders(changed)
    assert report.committed and report.updated == 0 and report.skipped == 4  # order fields only
    assert Order.objects.get(number="TB88800002").tracking_number == "YT0000000000"


BAD_REVIEWS = REVIEW_HEADER + (
    "taobao,R1,TB88800001,小鹿爱穿搭,S1,2,颜色不对,no,2026-11-05 20:11\n"
    "taobao,R2,TB88800001,小鹿爱穿搭,S1,4,不错,no,2026-13-05 20:11\n"  # wrong date
    "taobao,R3,NOPE,,S1,2,没收到,no,2026-11-05 20:11\n"  # unknown order
    "taobao,R4,TB88800001,,S1,7,超级好,no,2026-11-05 20:11\n"  # rating 7
    "taobao,R5,TB88800001,,S1,3,,no,2026-11-05 20:11\n"  # empty text
    "taobao,R1,TB88800001,,S1,1,重复,no,2026-11-05 20:11\n"  # duplicate id
    "taobao,R6,TB88800001,someone_else,S1,1,不是我的订单,no,2026-11-05 20:11\n"
)


def test_bad_lines_are_reported_and_nothing_is_imported(tmp_path):
    import_orders(SAMPLES / "orders_sample.csv")
    report = import_reviews(write(tmp_path, "r.csv", BAD_REVIEWS))
    assert not report.committed
    errors = dict(report.errors)
    assert sorted(errors) == [3, 4, 5, 6, 7, 8]
    assert "posted_at" in errors[3] and "not a date" in errors[3]
    assert "unknown order 'NOPE'" in errors[4]
    assert "rating: 7 is not between 1 and 5" in errors[5]
    assert "text: empty" in errors[6]
    assert "appears twice" in errors[7]
    assert "did not place order" in errors[8]
    assert not Review.objects.exists() and not Case.objects.exists()


def test_partial_imports_the_valid_lines(tmp_path):
    import_orders(SAMPLES / "orders_sample.csv")
    report = import_reviews(write(tmp_path, "r.csv", BAD_REVIEWS), partial=True)
    assert report.committed and report.created == 1 and len(report.errors) == 6
    assert list(Review.objects.values_list("external_id", flat=True)) == ["R1"]


def test_a_nul_character_is_a_line_error_on_every_database(tmp_path):
    """A NUL byte in a text cell (a broken export) is refused by line, as the
    forms and the API refuse it: PostgreSQL could not store it at all."""
    order = "taobao,TB1,buyer_1,王\x00五,,10.00,2026-11-01 10:00,,,,,S1,裙子,1,10.00,\n"
    orders = import_orders(write(tmp_path, "o.csv", ORDER_HEADER + order))
    assert not orders.committed and "buyer_name: contains a NUL character" in orders.errors[0][1]
    import_orders(SAMPLES / "orders_sample.csv")
    line = "taobao,RVX1,TB88800001,小鹿爱穿搭,SKU,2,差\x00评,no,2026-11-01 10:00\n"
    report = import_reviews(write(tmp_path, "r.csv", REVIEW_HEADER + line), partial=True)
    assert report.errors == [(2, "text: contains a NUL character")]
    assert not Review.objects.exists() and not Case.objects.exists()


def test_the_commands_report_errors_with_line_numbers(tmp_path, capsys):
    import_orders(SAMPLES / "orders_sample.csv")
    path = write(tmp_path, "r.csv", BAD_REVIEWS)
    with pytest.raises(CommandError, match="Nothing was imported"):
        call_command("import_reviews", str(path))
    out = capsys.readouterr()
    assert "line 5: rating: 7 is not between 1 and 5" in out.err
    assert "nothing imported: 0 created" in out.out
    call_command("import_reviews", str(path), "--partial")
    assert "imported: 1 created" in capsys.readouterr().out
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_orders", str(tmp_path / "missing.csv"))


def test_a_file_without_the_columns_is_refused(tmp_path):
    report = import_orders(write(tmp_path, "o.csv", "order,amount\nA1,10\n"))
    assert not report.committed
    assert "missing columns" in report.errors[0][1]


def test_an_amount_larger_than_the_books_hold_is_a_line_error(tmp_path):
    """99,999,999.99 is the most an amount column holds; more is refused
    on its line (SQLite would store it and fail reading it back)."""
    path = write(
        tmp_path,
        "o.csv",
        ORDER_HEADER
        + "taobao,T1,买家,,,99999999.99,2026-11-01,,,,,S1,裙子,1,99999999.99,\n"
        + "taobao,T2,买家,,,100000000,2026-11-01,,,,,S2,裙子,1,10,\n"
        + "taobao,T3,买家,,,10,2026-11-01,,,,,S3,裙子,1,0122044407,\n",
    )
    report = import_orders(path)
    errors = dict(report.errors)
    assert sorted(errors) == [3, 4] and not report.committed
    assert "paid_total: '100000000' is more than 99,999,999.99" in errors[3]
    assert "unit_price: '0122044407' is more than 99,999,999.99" in errors[4]
    assert not Order.objects.exists()


def test_a_non_utf8_file_is_refused(tmp_path):
    path = tmp_path / "gbk.csv"
    path.write_bytes(
        ORDER_HEADER.encode() + "taobao,T1,买家,,,10,2026-11-01,,,,,S,裙子,1,10,\n".encode("gbk")
    )
    report = import_orders(path)
    assert not report.committed and "not UTF-8" in report.errors[0][1]


def _order_lines(prefix, count):
    yield ORDER_HEADER
    for n in range(count):
        yield (
            f"jd,{prefix}{n // 2:08d},buyer{n % 5000},,,{20 + n % 7}.00,2026-10-01 08:00,,,,,"
            f"SKU-{n % 2},衬衫 {n % 2},1,{10 + n % 7}.00,\n"
        )


def _peak_of_importing(path):
    tracemalloc.start()
    try:
        report = import_orders(path)
        return report, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_file_five_times_longer_imports_in_the_same_memory(tmp_path):
    # Memory that grows with the file (lines, parsed rows or objects kept
    # past their chunk) would make the longer file's peak about five times
    # the shorter's; read in chunks, both peak at about one chunk.
    short = write(tmp_path, "short.csv", "".join(_order_lines("JS", 5_000)))
    long = write(tmp_path, "long.csv", "".join(_order_lines("JL", 25_000)))
    report, short_peak = _peak_of_importing(short)
    assert report.committed and report.errors == []
    report, long_peak = _peak_of_importing(long)
    assert report.committed and report.errors == []
    assert Order.objects.count() == 15_000 and OrderItem.objects.count() == 30_000
    assert report.created == 25_000, report.summary()  # lines
    assert long_peak < 1.5 * short_peak, f"{short_peak / 2**20:.1f} -> {long_peak / 2**20:.1f} MiB"
    assert long_peak < 40 * 2**20, f"peak {long_peak / 2**20:.1f} MiB"
