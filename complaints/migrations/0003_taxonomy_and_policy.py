"""Seed the root-cause taxonomy of DOMAIN.md and a sensible default policy."""

from decimal import Decimal

from django.db import migrations

TAXONOMY = [
    (
        "product",
        "Product",
        "商品问题",
        [
            ("colour_difference", "Colour difference", "色差"),
            ("material", "Material", "材质问题"),
            ("size_fit", "Size / fit", "尺码不合"),
            ("not_as_described", "Style not as described", "款式与描述不符"),
            ("defect", "Defect", "质量瑕疵"),
            ("missing_parts", "Missing parts or quantity", "少件漏发"),
        ],
    ),
    (
        "promotion",
        "Promotion and fees",
        "促销与费用",
        [
            ("unclear_promotion", "Unclear promotion rules", "促销规则不清"),
            ("return_shipping_dispute", "Return shipping cost dispute", "退货运费纠纷"),
        ],
    ),
    (
        "logistics",
        "Logistics",
        "物流问题",
        [
            ("slow_delivery", "Too slow", "发货或配送太慢"),
            ("rude_courier", "Rude courier", "快递员态度差"),
            ("damaged_packaging", "Damaged packaging", "包装破损"),
            ("lost_parcel", "Lost parcel", "包裹丢失"),
        ],
    ),
    (
        "service",
        "Service",
        "服务问题",
        [
            ("agent_attitude", "Agent's attitude", "客服态度"),
            ("wrong_information", "Wrong information", "信息错误"),
            ("slow_reply", "Slow or no reply", "回复慢或不回复"),
            ("ignored_question", "Ignored question", "问题被忽略"),
            ("broken_promise", "Unkept promise", "承诺未兑现"),
        ],
    ),
]

DEFAULT_POLICY = [
    ("Apology", "apology", None, {}),
    ("Voucher up to ¥20", "voucher", None, {"max_amount": Decimal("20")}),
    ("Gift up to ¥15", "gift", None, {"max_amount": Decimal("15")}),
    (
        "Partial refund up to 30% of the order",
        "partial_refund",
        None,
        {"max_share_percent": Decimal("30")},
    ),
    ("Reship a missing item up to ¥50", "reship", "missing_parts", {"max_amount": Decimal("50")}),
    ("Return shipping up to ¥15", "return_shipping", None, {"max_amount": Decimal("15")}),
]


def seed(apps, schema_editor):
    Category = apps.get_model("complaints", "RootCauseCategory")
    PolicyRule = apps.get_model("complaints", "PolicyRule")
    for group_order, (code, name, name_zh, leaves) in enumerate(TAXONOMY, start=1):
        group = Category.objects.create(
            code=code, name=name, name_zh=name_zh, sort_order=group_order * 100
        )
        for leaf_order, (leaf_code, leaf_name, leaf_zh) in enumerate(leaves, start=1):
            Category.objects.create(
                code=leaf_code,
                name=leaf_name,
                name_zh=leaf_zh,
                parent=group,
                sort_order=group_order * 100 + leaf_order,
            )
    for name, kind, category_code, caps in DEFAULT_POLICY:
        category = Category.objects.get(code=category_code) if category_code else None
        PolicyRule.objects.create(
            name=name, kind=kind, category=category, active_from="2020-01-01T00:00:00Z", **caps
        )


def unseed(apps, schema_editor):
    apps.get_model("complaints", "PolicyRule").objects.all().delete()
    Category = apps.get_model("complaints", "RootCauseCategory")
    Category.objects.filter(parent__isnull=False).delete()
    Category.objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("complaints", "0002_roles")]

    operations = [migrations.RunPython(seed, unseed)]
