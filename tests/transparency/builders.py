"""Report cases, village imports and articles for a security-matrix World (tests/security/test_matrix.py)."""
import io

from sqlalchemy import select

from villageaid.articles import services as articles
from villageaid.articles.models import Article
from villageaid.extensions import db
from villageaid.reports import services as reports
from villageaid.villages import importer
from villageaid.villages.models import VillageImport

REPORT_TEXT = "该需求的受益人数与村里实际情况不符，请核查。"


def report_form():
    return {"reason": "false_info", "text": REPORT_TEXT}


def report_case_of(world):
    """The live case about the world's published need (opened by a visitor's report)."""
    case = reports.live_case("need", world.published.id)
    return case or reports.file_report(None, world.published, "false_info", REPORT_TEXT).case


def import_of(world):
    """A village import uploaded by the world's Sichuan curator."""
    run = db.session.scalar(select(VillageImport))
    if run is None:
        class Upload:
            filename = "villages.csv"
            stream = io.BytesIO(importer.template_csv())  # the bare template: rejected, nothing imported

        run = importer.start(world.users["curator"], Upload())
    return run


def article_of(world):
    """A draft article by the world's Sichuan curator."""
    article = db.session.scalar(select(Article))
    return article or articles.create_article(world.users["curator"], article_form())


def article_form(**overrides):
    return {"title": "凉山州“10·17”扶贫日活动安排", "summary": "", "slug": "",
            "body": "## 安排\n\n各县工商联组织民营企业对接贫困村需求。", **overrides}
