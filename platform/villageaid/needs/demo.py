"""Demo needs for `flask demo seed`, made through the same services and lifecycle as real ones.

Idempotent: a need is looked up by (village, title) before it is created, and each step of its
path (submit, approve, …) runs only if the need has not got there yet.
"""
import io
from datetime import timedelta

from sqlalchemy import select, update
from werkzeug.datastructures import FileStorage

from ..accounts.models import Role, RoleGrant, User
from ..extensions import db
from ..timeutil import local_date_today
from ..villages.models import Village
from . import lifecycle, screening, services
from .models import Need, NeedStatus

S = NeedStatus
YUAN = 100

# (category, unit, title, target, extra fields, description). Targets are in the unit (fen for money).
TEMPLATES = [
    ("industry", "cny_fen", "花椒烘干房建设", 180_000 * YUAN, {},
     "全村 **126 户**种植花椒，旺季遇雨烘干不及时，每年损失约三成。建设一座 200 平方米烘干房，由村集体合作社运营，收益按股分红。"),
    ("industry", "cny_fen", "村集体合作社冷库", 260_000 * YUAN, {},
     "建设 300 立方米保鲜冷库，解决高山蔬菜集中上市时压价的问题。\n\n- 土建：12 万元\n- 制冷设备：14 万元"),
    ("industry", "cny_fen", "肉牛养殖圈舍改造", 96_000 * YUAN, {},
     "改造 8 户贫困户的肉牛圈舍，配套饲草粉碎机两台，带动每户年增收 6000 元以上。"),
    ("industry", "cny_fen", "茶园提质改造", 150_000 * YUAN, {},
     "对 300 亩老茶园进行品种改良和有机肥替代，合作社统一收购鲜叶。"),
    ("employment", "jobs", "电子厂普工招聘", 30, {"job_title": "电子装配普工", "wage_min_fen": 4200 * YUAN,
     "wage_max_fen": 5800 * YUAN, "work_location": "浙江省宁波市北仑区"},
     "包吃住，签订一年以上劳动合同，缴纳五险。优先招收建档立卡贫困家庭劳动力，统一组织乘车前往。"),
    ("employment", "jobs", "扶贫车间缝纫工", 20, {"job_title": "缝纫工", "wage_min_fen": 2600 * YUAN,
     "wage_max_fen": 3500 * YUAN, "work_location": "本村扶贫车间"},
     "家门口就业，计件工资，可照顾老人孩子。需要企业提供订单和技术指导。"),
    ("employment", "jobs", "物流分拣员", 15, {"job_title": "快递分拣员", "wage_min_fen": 4500 * YUAN,
     "wage_max_fen": 6000 * YUAN, "work_location": "广东省东莞市"},
     "18 至 45 岁，身体健康，提供集体宿舍。"),
    ("charity", "cny_fen", "村小学冬季取暖用煤", 36_000 * YUAN, {},
     "村小学 120 名学生，冬季最低气温零下 10 度，需要购买取暖用煤 40 吨。"),
    ("charity", "goods", "留守儿童过冬棉衣", 300, {"goods_item": "儿童加厚棉服（110–160 码）"},
     "为全村留守儿童每人准备一件过冬棉衣，尺码清单由村委会统计。"),
    ("charity", "cny_fen", "村卫生室基本医疗设备", 48_000 * YUAN, {},
     "购置心电图机、血糖仪、消毒柜等基本设备，方便村民就近看病。"),
    ("charity", "goods", "敬老院冬季棉被", 80, {"goods_item": "加厚棉被（1.5 米）"},
     "乡敬老院 40 位五保老人，每人两床棉被。"),
    ("charity", "cny_fen", "安全饮水管网延伸", 220_000 * YUAN, {},
     "将自来水管网延伸到山上三个村民小组，解决 86 户吃水难问题。"),
    ("skills", "cny_fen", "农村电商直播培训", 40_000 * YUAN, {},
     "培训 40 名返乡青年开展电商直播，销售本地农产品。需要企业提供讲师和实操场地。"),
    ("skills", "cny_fen", "中式烹调师技能培训", 30_000 * YUAN, {},
     "组织 30 人参加中式烹调师培训并考取职业资格证书，推荐到餐饮企业就业。"),
    ("skills", "volunteer_hours", "农技专家驻村指导", 400, {},
     "需要果树栽培、病虫害防治方面的农技专家，春秋两季驻村指导。"),
    ("consumption", "goods", "高山苹果认购", 4000, {"goods_item": "高山苹果（5 斤装）"},
     "今年苹果丰收，受运输条件限制销路不畅。欢迎企业食堂和工会认购。"),
    ("consumption", "goods", "土蜂蜜认购", 1500, {"goods_item": "土蜂蜜（500 克瓶装）"},
     "贫困户散养中华蜂所产土蜂蜜，合作社统一检测、包装。"),
    ("consumption", "cny_fen", "高山马铃薯产销对接", 120_000 * YUAN, {},
     "希望企业以保底价收购高山马铃薯 300 吨，款项直接结算给种植户。"),
    ("volunteering", "volunteer_hours", "暑期支教志愿者", 600, {},
     "村小学暑期开设英语、美术、科学兴趣课，需要 10 名志愿者各服务 60 小时。"),
    ("volunteering", "volunteer_hours", "巡回义诊", 120, {},
     "邀请医疗志愿者为村里老人开展慢性病筛查和义诊。"),
    ("volunteering", "volunteer_hours", "留守儿童陪伴计划", 300, {},
     "周末陪伴留守儿童读书、做作业，每次 3 小时。"),
]

# Submissions the screening rules should catch (the 2019 "奇葩需求" lesson).
FLAGGED = [
    ("consumption", "cny_fen", "为贫困户购买苹果手机", 60_000 * YUAN, {},
     "为 20 户贫困户每户购买一部苹果手机，用于开展电商销售。"),
    ("charity", "goods", "给留守儿童每人一部手机", 120, {"goods_item": "智能手机"},
     "方便留守儿童与外出务工的父母视频通话。"),
    ("charity", "cny_fen", "贫困户春节慰问金", 2_000_000 * YUAN, {},
     "春节前为贫困户发放慰问金。"),
]

ON_BEHALF = ("charity", "goods", "村级文化活动室图书角", 2000, {"goods_item": "少儿及农技类图书"},
             "村委会没有电脑，由县工商联代为发布：为村文化活动室配备图书 2000 册。")

# Path of each seeded need through the lifecycle, cycling over the templates.
PLAN = ([S.PUBLISHED] * 6 + [S.DRAFT, S.PUBLISHED, S.SUBMITTED, S.PUBLISHED, S.REJECTED, S.PUBLISHED, S.WITHDRAWN,
                              S.PUBLISHED, S.EXPIRED, S.PUBLISHED, S.DRAFT, S.SUBMITTED])


def _photo(seed, label):
    """A small generated picture (fields, sky and a sun) standing in for a village's photo."""
    from PIL import Image, ImageDraw

    colors = [((120, 170, 90), (170, 210, 240)), ((200, 160, 80), (150, 200, 235)), ((90, 140, 110), (210, 220, 235))]
    ground, sky = colors[seed % len(colors)]
    image = Image.new("RGB", (800, 600), sky)
    draw = ImageDraw.Draw(image)
    draw.rectangle([0, 330 + 20 * (seed % 3), 800, 600], fill=ground)
    for i in range(6):
        x = 40 + i * 130 + seed * 7 % 40
        draw.polygon([(x, 360), (x + 60, 250 + (i * 23 + seed) % 60), (x + 120, 360)], fill=(70, 110, 80))
    draw.ellipse([620, 60, 700, 140], fill=(250, 210, 90))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    out.seek(0)
    return FileStorage(stream=out, filename=f"{label}.jpg", content_type="image/jpeg")


def _curator_for(village, fallback):
    scope = village.code[:2].ljust(12, "0")
    user = db.session.scalar(select(User).join(RoleGrant).where(RoleGrant.role == Role.CURATOR,
                                                                RoleGrant.region_code == scope))
    return user or fallback


def _values(template, index):
    category, unit, title, target, extra, description = template
    today = local_date_today()
    values = {"category": category, "unit": unit, "title": title, "description": description, "target": target,
              "deadline": today + timedelta(days=12 + (index * 17) % 160),
              "households": 20 + (index * 7) % 60, "people": 0, "poor_people": 0}
    values["people"] = values["households"] * 3 + index % 5
    values["poor_people"] = values["people"] // 3
    values.update(extra)
    if unit == "jobs":
        values["job_start_date"] = today + timedelta(days=30 + index % 20)
    return values


def _bring(need, status, member, curator):
    """Move a need along its path until it reaches `status` (skipping steps already taken)."""
    if status == S.DRAFT or need.status == status:
        return
    if status == S.WITHDRAWN:
        if need.status == S.DRAFT:
            lifecycle.withdraw(member, need, "村里已自筹解决")
        return
    if need.status == S.DRAFT:
        lifecycle.submit(member, need)
    if status == S.SUBMITTED:
        return
    if status == S.REJECTED:
        if need.status == S.SUBMITTED:
            lifecycle.reject(curator, need, "已列入政府财政项目，请勿重复申报。")
        return
    if need.status == S.SUBMITTED:
        lifecycle.approve(curator, need)
    if status == S.EXPIRED and need.status == S.PUBLISHED:
        # Time passing, for the demo: the deadline moves into the past, then the sweep expires it.
        db.session.execute(update(Need).where(Need.id == need.id).values(deadline=local_date_today() - timedelta(days=3)))
        db.session.commit()
        db.session.refresh(need)
        lifecycle.expire(need)


def _ensure(village, member, curator, template, index, status, photos=0, actor=None):
    title = template[2]
    need = db.session.scalar(select(Need).where(Need.village_id == village.id, Need.title == title))
    if need is None:
        uploads = [_photo(index + k, f"{title}-{k}") for k in range(photos)]
        need = services.create_need(actor or member, village, _values(template, index), uploads=uploads)
    _bring(need, status, member, curator)
    return need


def seed_needs(national_curator):
    """At least 60 needs over the demo villages, in every category, unit and pre-pledge state."""
    screening.install_default_rules()
    db.session.commit()
    villages = db.session.scalars(select(Village).where(Village.status == "verified").order_by(Village.id)).all()
    if not villages:
        return 0
    index = 0
    rounds = max(1, -(-66 // len(villages)))
    for r in range(rounds):
        for v_index, village in enumerate(villages):
            member = village.members[0].user
            curator = _curator_for(village, national_curator)
            template = TEMPLATES[(v_index * 5 + r * 3) % len(TEMPLATES)]
            status = PLAN[index % len(PLAN)]
            _ensure(village, member, curator, template, index, status, photos=2 if index % 4 == 0 else 0)
            index += 1
            if index >= 66:
                break
        if index >= 66:
            break
    # Flagged submissions waiting for a curator, and a duplicate of an open need.
    for k, template in enumerate(FLAGGED):
        village = villages[k % len(villages)]
        _ensure(village, village.members[0].user, _curator_for(village, national_curator), template, 100 + k, S.SUBMITTED)
    first = villages[0]
    open_one = db.session.scalar(select(Need).where(Need.village_id == first.id, Need.status == S.PUBLISHED.value)
                                 .order_by(Need.id))
    if open_one is not None:
        duplicate = (open_one.category, open_one.unit, open_one.title + "（二期）", open_one.target or 1000, {},
                     open_one.description)
        _ensure(first, first.members[0].user, _curator_for(first, national_curator), duplicate, 200, S.SUBMITTED)
    # One posted by a curator on the village's behalf (代发布), approved by the national curator.
    village = villages[-1]
    curator = _curator_for(village, national_curator)
    _ensure(village, curator, national_curator, ON_BEHALF, 300, S.PUBLISHED, photos=1, actor=curator)
    return db.session.scalar(select(db.func.count()).select_from(Need))
