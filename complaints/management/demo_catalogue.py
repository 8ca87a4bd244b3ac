"""The demo apparel shop's people, products and words (used by build_demo)."""

from datetime import datetime
from zoneinfo import ZoneInfo

# The demo's "today": fixed, so the fixture is the same on every rebuild;
# load_demo moves every time in it so that this moment becomes now.
ANCHOR = datetime(2026, 11, 20, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))

CUSTOMERS = [
    # buyer id, display name, motive, temperament, tags, notes
    ("小鹿爱穿搭", "王晓丽", "taste", "perfectionist", ["VIP"], "偏爱真丝面料"),
    ("tb_zhang88", "张伟", "economy", "bargain_hunter", [], ""),
    ("阿珍的衣橱", "陈珍", "taste", "talkative", ["老客户"], "女儿生日 6 月 12 日"),
    ("momo妈妈", "刘敏", "convenience", "hot_tempered", ["宝妈"], "宝宝 2026 年 3 月出生"),
    ("静静不说话", "李静", "convenience", "silent", [], ""),
    ("lucky_yang", "杨洋", "economy", "pleads_poverty", ["学生"], ""),
    ("秋天的风", "赵秋", "taste", "proud", [], ""),
    ("大橙子", "黄橙", "economy", "contrary", [], ""),
    ("sunny晴天", "周晴", "convenience", "indecisive", [], "只收顺丰"),
    ("爱买买买", "吴佳", "economy", "bargain_hunter", ["大促用户"], ""),
    ("老李头", "李建国", "convenience", "distrustful", [], "电话沟通更好"),
    ("小猫咪", "孙萌", "taste", "talkative", [], ""),
    ("jenny_w", "王珍妮", "taste", "perfectionist", ["VIP"], ""),
    ("不吃香菜", "郑洁", "convenience", "silent", [], ""),
    ("棉花糖", "冯甜", "economy", "indecisive", [], ""),
    ("远方的信", "何远", "taste", "proud", [], ""),
    ("快乐小胖", "许乐", "economy", "talkative", [], ""),
    ("夏天的雨", "林夏", "convenience", "hot_tempered", [], "工作日白天不方便接电话"),
    ("mr_chen", "陈明", "convenience", "distrustful", [], ""),
    ("花花世界", "谢花", "taste", "contrary", [], ""),
    ("小确幸", "宋欣", "economy", "pleads_poverty", [], ""),
    ("追风少年", "唐风", "convenience", "indecisive", [], ""),
    ("白开水", "韩清", "convenience", "silent", [], ""),
    ("芒果布丁", "曹芒", "economy", "bargain_hunter", ["差评常客"], "近期多次索要补偿"),
    ("雨后彩虹", "邓虹", "taste", "perfectionist", [], ""),
    ("星星点灯", "彭星", "taste", "talkative", [], ""),
    ("橘子汽水", "曾橘", "economy", "contrary", [], ""),
    ("安静的猫", "萧安", "convenience", "silent", [], ""),
    ("阳光男孩", "田阳", "convenience", "hot_tempered", [], ""),
    ("绿豆糕", "董豆", "economy", "indecisive", [], ""),
    ("一颗柠檬", "袁柠", "taste", "proud", [], ""),
    ("风吹麦浪", "潘麦", "convenience", "distrustful", [], ""),
]

PRODUCTS = [
    # sku, title, price, supplier
    ("DRS-FLORAL-RED-M", "碎花连衣裙 红色 M", "199.00", "杭州织造"),
    ("DRS-FLORAL-RED-L", "碎花连衣裙 红色 L", "199.00", "杭州织造"),
    ("DRS-SILK-NAVY-S", "真丝衬衫裙 藏青 S", "459.00", "苏州丝绸坊"),
    ("TEE-COTTON-WHT-M", "纯棉短袖T恤 白色 M", "69.00", "广州棉品"),
    ("TEE-COTTON-BLK-L", "纯棉短袖T恤 黑色 L", "69.00", "广州棉品"),
    ("JNS-SLIM-BLU-28", "修身牛仔裤 蓝色 28", "239.00", "东莞牛仔厂"),
    ("JNS-WIDE-BLK-27", "阔腿牛仔裤 黑色 27", "259.00", "东莞牛仔厂"),
    ("CT-WOOL-CAMEL-M", "双面羊毛大衣 驼色 M", "899.00", "宁波毛纺"),
    ("KNT-CARDI-BEI-F", "针织开衫 米色 均码", "159.00", "桐乡针织"),
    ("SKT-PLEAT-GRN-S", "百褶半身裙 墨绿 S", "179.00", "杭州织造"),
    ("HD-FLEECE-GRY-XL", "加绒卫衣 灰色 XL", "189.00", "广州棉品"),
    ("SCF-CASH-RED-F", "羊绒围巾 酒红 均码", "299.00", "宁波毛纺"),
]

COURIERS = ["中通快递", "圆通速递", "顺丰速运", "韵达快递", "申通快递", "京东物流"]

MARKETPLACES = ["taobao", "taobao", "tmall", "tmall", "jd", "pinduoduo", "douyin", "own_shop"]

REVIEW_TEXTS = {
    1: [
        "颜色和图片差太多了，完全不是一个颜色，失望",
        "等了十天才到，生日都过了，礼物没送出去",
        "少发了一件，客服也不回消息",
        "面料起球严重，洗一次就变形了",
    ],
    2: [
        "尺码偏小一号，穿着很紧",
        "包装破了，衣服上有污渍",
        "快递员态度很差，直接扔在门口",
        "说好的赠品没有收到",
    ],
    3: [
        "衣服还行，就是有点色差",
        "质量一般，对得起这个价格吧",
        "物流有点慢，衣服还可以",
    ],
    4: ["挺好看的，面料舒服，就是发货慢了点", "整体满意，尺码标准"],
    5: ["非常喜欢，颜色正，版型好，会回购", "质量超好，客服态度也好", "物超所值，推荐"],
}

COMPLAINTS = [
    # summary, demand, category, party
    ("连衣裙颜色与主图差别大", "希望退一部分差价", "colour_difference", "marketing"),
    ("牛仔裤尺码偏小", "想换大一号", "size_fit", "supplier"),
    ("T恤洗后起球", "要求退款", "material", "supplier"),
    ("大衣少发一条腰带", "尽快补发腰带", "missing_parts", "warehouse"),
    ("包裹破损衣服弄脏", "要求补偿", "damaged_packaging", "courier"),
    ("快递十天未到", "给个说法，想要补偿", "slow_delivery", "courier"),
    ("快递员态度恶劣", "投诉快递员并要求道歉", "rude_courier", "courier"),
    ("满减活动规则没看懂，多付了钱", "退回多付的钱", "unclear_promotion", "marketing"),
    ("退货运费谁出有争议", "要求店铺承担运费", "return_shipping_dispute", "service"),
    ("客服说明天发货结果一周没发", "要求兑现承诺并补偿", "broken_promise", "service"),
    ("针织衫有破洞", "换一件新的", "defect", "supplier"),
    ("包裹显示签收但没收到", "要求重新发货", "lost_parcel", "courier"),
    ("客服回复很慢", "希望有个道歉", "slow_reply", "service"),
    ("款式和描述不符", "退货退款", "not_as_described", "marketing"),
]
