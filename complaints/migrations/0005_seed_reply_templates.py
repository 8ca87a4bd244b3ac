"""Give the roles their quick-reply permissions and seed a dozen quick replies."""

from django.db import migrations

REPLIES = [
    (
        "apology",
        "先致歉",
        "亲爱的{customer}，非常抱歉给您带来不好的体验！您反馈的问题我们已经记录（工单 {case}），会马上为您处理。",
    ),
    (
        "quality",
        "质量问题",
        "{customer}您好，看到您反馈的质量问题，真的很抱歉。麻烦您拍一张问题部位的照片发给我们，我们确认后第一时间给您解决。",
    ),
    (
        "size",
        "尺码不合适",
        "{customer}您好，尺码不合适可以为您免费换码。您平时穿什么尺码、身高体重多少？我们帮您推荐更合适的尺码。",
    ),
    (
        "price",
        "价格/补差价",
        "{customer}您好，您购买后本店有活动降价，我们为您补偿差价 ¥{amount}，感谢您对小店的支持！",
    ),
    (
        "shipping",
        "物流慢",
        "{customer}您好，订单 {order} 的物流我们已联系快递加急处理，有最新进展会第一时间告诉您，给您添麻烦了。",
    ),
    (
        "shipping",
        "包裹破损",
        "{customer}您好，包裹破损让您受委屈了。麻烦您拍一下外包装和商品照片，我们马上为您补发或补偿。",
    ),
    (
        "photos",
        "实物图",
        "{customer}您好，我们的商品都是实物拍摄，因显示器不同可能存在轻微色差。这是我们刚在自然光下拍的实物照片，您可以参考。",
    ),
    (
        "returns",
        "退货流程",
        "{customer}您好，您可以在订单 {order} 页面申请退货，退回运费由我们承担，收到退货后 24 小时内为您退款。",
    ),
    (
        "apology",
        "补偿券已发",
        "{customer}您好，为表歉意，我们给您发了一张优惠券，券码 {voucher_code}，下次购物可以直接使用。",
    ),
    (
        "follow_up",
        "回访",
        "{customer}您好，我是客服{agent}。之前您反馈的问题（工单 {case}）已经处理好了，想问问您现在还满意吗？",
    ),
    (
        "review",
        "邀请追评",
        "{customer}您好，问题解决后，如果您对我们的处理还满意，方便的时候可以帮我们追评一下吗？非常感谢！",
    ),
    ("review", "好评回复", "感谢亲的好评！您的满意是我们最大的动力，期待您再次光临～"),
]


def seed(apps, schema_editor):
    from complaints.roles import sync_role_permissions

    sync_role_permissions(apps)
    ReplyTemplate = apps.get_model("complaints", "ReplyTemplate")
    for order, (topic, title, body) in enumerate(REPLIES):
        ReplyTemplate.objects.create(topic=topic, title=title, body=body, sort_order=order)


def unseed(apps, schema_editor):
    apps.get_model("complaints", "ReplyTemplate").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("complaints", "0004_reply_templates_evidence_thumbnails")]

    operations = [migrations.RunPython(seed, unseed)]
