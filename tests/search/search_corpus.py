"""A fixed corpus of realistic documents for the search tests, with the expected place codes."""

from __future__ import annotations

import datetime as dt

SICHUAN, GUIZHOU, HUBEI, YUNNAN, GANSU, ZHEJIANG, GUANGDONG = (
    "510000000000", "520000000000", "420000000000", "530000000000",
    "620000000000", "330000000000", "440000000000",
)
LIANGSHAN, QIANDONGNAN, ENSHI, NUJIANG, DINGXI = (
    "513400000000", "522600000000", "422800000000", "533300000000", "621100000000",
)
ZHAOJUE, BUTUO, LEISHAN, LICHUAN, FUGONG, WEIYUAN = (
    "513431000000", "513429000000", "522634000000", "422802000000",
    "533323000000", "621123000000",
)

ZHAOJUE_PLACE = ["四川省", "凉山彝族自治州", "昭觉县"]
LEISHAN_PLACE = ["贵州省", "黔东南苗族侗族自治州", "雷山县"]
LICHUAN_PLACE = ["湖北省", "恩施土家族苗族自治州", "利川市"]
FUGONG_PLACE = ["云南省", "怒江傈僳族自治州", "福贡县"]
WEIYUAN_PLACE = ["甘肃省", "定西市", "渭源县"]


def _need(n, title, body, place, province, prefecture, county, category, unit,
          created, deadline=None, progress=0, status="published"):
    return {
        "doc_id": f"need:{n}", "kind": "need", "obj_id": n, "title": title, "body": body,
        "place": place, "province": province, "prefecture": prefecture, "county": county,
        "category": category, "status": status, "unit": unit,
        "created": dt.datetime(*created), "deadline": dt.date(*deadline) if deadline else None,
        "progress": progress, "people": 10 * n, "stamp": f"need-{n}-v1",
    }


def _village(n, title, body, place, province, prefecture, county, created):
    return {
        "doc_id": f"village:{n}", "kind": "village", "obj_id": n, "title": title, "body": body,
        "place": place, "province": province, "prefecture": prefecture, "county": county,
        "created": dt.datetime(*created), "stamp": f"village-{n}-v1",
    }


def _org(n, title, body, place, province, created):
    return {
        "doc_id": f"organization:{n}", "kind": "organization", "obj_id": n, "title": title,
        "body": body, "place": place, "province": province, "status": "verified",
        "created": dt.datetime(*created), "stamp": f"organization-{n}-v1",
    }


CORPUS = [
    _need(1, "昭觉县花椒销售帮扶",
          "三河村种植花椒1200亩，今年丰收约8万斤，受物流限制滞销。希望企业以购代捐，"
          "通过消费扶贫帮助建档立卡户增收。",
          ZHAOJUE_PLACE + ["三河村"], SICHUAN, LIANGSHAN, ZHAOJUE, "消费", "goods",
          (2026, 3, 1), (2026, 6, 30), 3500),
    _need(2, "黔东南州苗绣技能培训",
          "西江村计划开展苗绣技能培训，培训绣娘60人，需要服装设计师和电商讲师，"
          "帮助苗绣产品进入城市市场。",
          LEISHAN_PLACE + ["西江村"], GUIZHOU, QIANDONGNAN, LEISHAN, "技能", "volunteer_hours",
          (2026, 3, 5), (2026, 9, 1), 1000),
    _need(3, "恩施州茶叶消费扶贫",
          "毛坝村高山云雾茶叶品质好，今年春茶产量3万斤，欢迎企业工会采购茶叶作为职工福利。",
          LICHUAN_PLACE + ["毛坝村"], HUBEI, ENSHI, LICHUAN, "消费", "goods",
          (2026, 3, 10), (2026, 5, 31), 8000),
    _need(4, "电子厂普工招聘 20 人",
          "为福贡县脱贫户提供电子厂普工岗位20个，包吃住，月薪4500元以上，签订劳动合同。",
          FUGONG_PLACE + ["老姆登村"], YUNNAN, NUJIANG, FUGONG, "就业", "jobs",
          (2026, 3, 12), (2026, 4, 30), 5000),
    _need(5, "渭源县马铃薯滞销求助",
          "元古堆村马铃薯丰收，冷库容量不足，需要企业采购马铃薯并提供仓储支持。",
          WEIYUAN_PLACE + ["元古堆村"], GANSU, DINGXI, WEIYUAN, "消费", "goods",
          (2026, 3, 15), (2026, 4, 15), 0),
    _need(6, "村小学图书室捐建",
          "布拖县乐安村小学有留守儿童120名，需要儿童图书3000册和书架20个。",
          ["四川省", "凉山彝族自治州", "布拖县", "乐安村"], SICHUAN, LIANGSHAN, BUTUO,
          "公益", "cny_fen", (2026, 2, 20), (2026, 7, 1), 6000),
    _need(7, "iPhone 捐赠用于远程教学",
          "西江村教学点需要二手 iPhone 10 部，用于远程直播课堂。",
          LEISHAN_PLACE + ["西江村"], GUIZHOU, QIANDONGNAN, LEISHAN, "公益", "goods",
          (2026, 3, 20), None, 2000),
    _need(8, "农产品电商 APP 开发志愿者",
          "需要懂 Python 和小程序开发的志愿者，帮助合作社开发农产品销售 APP。",
          LICHUAN_PLACE + ["毛坝村"], HUBEI, ENSHI, LICHUAN, "志愿", "volunteer_hours",
          (2026, 3, 22), (2026, 8, 31), 1500),
    _need(9, "精准扶贫项目：核桃深加工设备",
          "我们要把精准扶贫落到实处，为核桃合作社购置烘干和剥壳设备。",
          FUGONG_PLACE, YUNNAN, NUJIANG, FUGONG, "产业", "cny_fen",
          (2026, 1, 10), (2026, 5, 1), 9500),
    _need(10, "扶贫车间缝纫设备",
          "精准识别困难家庭后，村里的扶贫车间需要缝纫机30台。",
          WEIYUAN_PLACE, GANSU, DINGXI, WEIYUAN, "产业", "goods",
          (2026, 1, 15), (2026, 5, 20), 4000),
    _need(11, "昭觉县核桃苗采购",
          "三河村计划新种核桃500亩，需要优质核桃苗2万株。",
          ZHAOJUE_PLACE + ["三河村"], SICHUAN, LIANGSHAN, ZHAOJUE, "产业", "goods",
          (2026, 2, 1), (2026, 4, 20), 7000),
    _need(12, "猕猴桃冷链物流支持",
          "雷山县猕猴桃即将上市，需要冷链运输车辆和物流企业对接。",
          LEISHAN_PLACE, GUIZHOU, QIANDONGNAN, LEISHAN, "产业", "cny_fen",
          (2026, 2, 5), (2026, 9, 15), 2500),
    _need(13, "茶叶加工厂技术指导",
          "雷山县银球茶加工厂需要制茶师傅现场指导，提升茶叶品质。",
          LEISHAN_PLACE, GUIZHOU, QIANDONGNAN, LEISHAN, "技能", "volunteer_hours",
          (2026, 2, 8), None, 500),
    _need(14, "恩施州富硒茶叶包装设计",
          "为毛坝村茶叶设计礼盒包装，已由设计公司完成。",
          LICHUAN_PLACE + ["毛坝村"], HUBEI, ENSHI, LICHUAN, "消费", "goods",
          (2025, 11, 1), (2026, 1, 31), 10000, status="completed"),
    _need(15, "蜂蜜<script>alert(1)</script>销售",
          "百花蜂蜜 <b>纯天然</b> & 无添加，欢迎采购蜂蜜。",
          WEIYUAN_PLACE, GANSU, DINGXI, WEIYUAN, "消费", "goods",
          (2026, 3, 25), (2026, 6, 1), 1200),
    _need(16, "留守儿童暑期支教 volunteer",
          "招募 volunteer 大学生暑期支教，辅导留守儿童功课。",
          ["四川省", "凉山彝族自治州", "布拖县", "乐安村"], SICHUAN, LIANGSHAN, BUTUO,
          "志愿", "volunteer_hours", (2026, 3, 28), (2026, 7, 10), 300),
    _need(17, "2026年春季劳务输出 50 人",
          "渭源县组织50名脱贫劳动力赴浙江务工，需要企业提供岗位。",
          WEIYUAN_PLACE, GANSU, DINGXI, WEIYUAN, "就业", "jobs",
          (2026, 1, 5), (2026, 3, 1), 6500),
    _need(18, "万企帮万村光荣榜宣传片拍摄",
          "为万企帮万村行动拍摄宣传片，记录东西部扶贫协作成果。",
          ZHAOJUE_PLACE, SICHUAN, LIANGSHAN, ZHAOJUE, "志愿", "volunteer_hours",
          (2026, 3, 30), (2026, 10, 17), 0),
    _village(101, "三河村",
             "三河村位于昭觉县，海拔2500米，主要产业为花椒、马铃薯和养殖。",
             "四川省凉山彝族自治州昭觉县三河村", SICHUAN, LIANGSHAN, ZHAOJUE, (2025, 6, 1)),
    _village(102, "西江村",
             "西江千户苗寨所在地，苗绣和银饰手工艺闻名，旅游业发达。",
             "贵州省黔东南苗族侗族自治州雷山县西江村", GUIZHOU, QIANDONGNAN, LEISHAN, (2025, 6, 2)),
    _village(103, "毛坝村",
             "毛坝村以茶叶种植为主，建有茶叶专业合作社。",
             "湖北省恩施土家族苗族自治州利川市毛坝村", HUBEI, ENSHI, LICHUAN, (2025, 6, 3)),
    _village(104, "元古堆村",
             "元古堆村曾是深度贫困村，现发展马铃薯种植和乡村旅游。",
             "甘肃省定西市渭源县元古堆村", GANSU, DINGXI, WEIYUAN, (2025, 6, 4)),
    _village(105, "乐安村",
             "乐安村地处大凉山腹地，留守儿童较多。",
             "四川省凉山彝族自治州布拖县乐安村", SICHUAN, LIANGSHAN, BUTUO, (2025, 6, 5)),
    _village(106, "老姆登村",
             "老姆登村位于怒江大峡谷，种植高山茶叶和咖啡。",
             "云南省怒江傈僳族自治州福贡县老姆登村", YUNNAN, NUJIANG, FUGONG, (2025, 6, 6)),
    _org(201, "杭州某某电子科技有限公司",
         "专注消费电子产品制造，参与万企帮万村行动，与昭觉县结对帮扶，提供就业岗位。",
         "浙江省杭州市", ZHEJIANG, (2025, 5, 1)),
    _org(202, "广州某某茶业有限公司",
         "长期收购恩施州和雷山县茶叶，开展消费扶贫。",
         "广东省广州市", GUANGDONG, (2025, 5, 2)),
    _org(203, "深圳某某软件有限公司",
         "提供 APP 开发和 Python 培训志愿服务，帮助合作社建设电商平台。",
         "广东省深圳市", GUANGDONG, (2025, 5, 3)),
    _org(204, "宁波某某服装有限公司",
         "在渭源县设立扶贫车间，吸纳脱贫户就业。",
         "浙江省宁波市", ZHEJIANG, (2025, 5, 4)),
    _org(205, "成都某某农业发展有限公司",
         "收购凉山州花椒和核桃，建设冷链仓储。",
         "四川省成都市", SICHUAN, (2025, 5, 5)),
    _org(206, "苏州某某食品有限公司",
         "以购代捐采购马铃薯和蜂蜜，参与东西部扶贫协作。",
         "江苏省苏州市", "320000000000", (2025, 5, 6)),
]

CORPUS_IDS = {doc["doc_id"] for doc in CORPUS}
