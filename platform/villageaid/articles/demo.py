"""Demo articles for `flask demo seed`: guides to the platform itself, published by the national curator,
and a regional draft. Idempotent: an article is looked up by its slug."""
from ..extensions import db
from . import lifecycle, services
from .models import ArticleStatus

ARTICLES = [
    ("guide-posting-needs", "贫困村如何发布帮扶需求", "村委会成员登记贫困村、发布需求的步骤。", True, """\
## 一、登记贫困村

村委会成员或第一书记注册账号后，在“贫困村登记”页填写村名、12 位村级区划代码和建档立卡情况。所在地区的工商联审核员核实后，村就可以发布需求。

## 二、发布需求

每项需求只写一件具体的事，并选择类别（产业、就业、公益、技能、消费、志愿）和单位：

- 资金以元计；
- 就业以岗位计，写明岗位、月工资和工作地点；
- 物资以件计，写明物资名称。

需求提交后先经自动筛查，再由审核员审核，通过后公开发布。

## 三、注意保护隐私

需求说明中**不要**写贫困户的姓名、身份证号和电话。照片上传时会自动去除拍摄地点等信息。
"""),
    ("guide-reporting-abuse", "投诉举报须知", "发现虚假需求或违规行为，如何举报、如何处理。", True, """\
## 可以举报什么

需求信息不实、虚报数字、挪用或截留捐赠资金物资、以扶贫名义索要财物、泄露贫困户个人信息等。

## 怎样举报

在需求或帮扶方页面点击“举报”，选择原因并写明情况。登录与否都可以举报；登录后举报，办结时会收到通知。

## 怎样处理

同一对象在办结前收到的举报合并为一件，由该对象所在地区的审核员受理、调查和办结。处理结果（属实或不属实，以及处理说明）在该对象的页面公开，**不公开举报人的身份**。
"""),
]
REGIONAL_DRAFT = ("凉山州“10·17”扶贫日民营企业对接活动安排", """\
## 活动内容

各县工商联组织民营企业查看本州贫困村在平台上发布的需求，按东西部扶贫协作结对关系优先对接。

（草稿，待补充时间和地点。）
""")


def seed_articles(national_curator, regional_curator=None):
    """The demo articles; returns how many exist."""
    for slug, title, summary, publish, body in ARTICLES:
        article = services.by_slug(slug)
        if article is None:
            article = services.create_article(national_curator, {"slug": slug, "title": title, "summary": summary,
                                                                  "body": body})
        if publish and article.status == ArticleStatus.DRAFT:
            lifecycle.publish(national_curator, article)
    if regional_curator is not None and services.by_slug("liangshan-1017-draft") is None:
        title, body = REGIONAL_DRAFT
        services.create_article(regional_curator, {"slug": "liangshan-1017-draft", "title": title, "body": body})
    from sqlalchemy import func, select

    from .models import Article

    return db.session.scalar(select(func.count()).select_from(Article))
