"""The policy documents the platform is built on (shared/seeds/), summarised: title, issuer, date and
what each asks of the campaign. Data shipped in the package, listed on /policy beside curators' articles.

The summaries say only what the documents say. Where a seed copy lacks its title, issuer or date,
the entry says so (`note`) instead of guessing; a document number or issue date not printed in the
seed copy is given from the official publication and marked as such.
"""
from dataclasses import dataclass


@dataclass(frozen=True)
class Text:
    title: str
    issuer: str
    date: str
    note: str | None
    source: str
    summary: tuple
    points: tuple  # what the document asks of a platform like this one


@dataclass(frozen=True)
class PolicyDocument:
    slug: str
    seed: str  # the file in shared/seeds/ the summary was written from
    date_sort: str  # ISO date (or year) for ordering, newest first
    doc_number: str | None
    zh: Text
    en: Text

    def text(self, locale):
        return self.en if str(locale).startswith("en") else self.zh


DOCUMENTS = (
    PolicyDocument(
        slug="poverty-plan-13th-five-year",
        seed="000_a65ee4a3776c976a.txt",
        date_sort="2016-11-23",
        doc_number="国发〔2016〕64号",
        zh=Text(
            title="“十三五”脱贫攻坚规划（第九章 社会扶贫）",
            issuer="国务院",
            date="2016年11月23日印发",
            note="所收录的是第九章“社会扶贫”的节选；文号和印发日期据中国政府网公布的原件。",
            source="新华社、中国政府网；河北三下乡网 2016-12-07 转载",
            summary=(
                "第九章要求发挥东西部扶贫协作和中央单位定点帮扶的引领示范作用，凝聚国际国内社会各方面力量，"
                "提升贫困人口帮扶精准度和帮扶效果。",
                "东西部扶贫协作：以闽宁协作模式为样板，建立与建档立卡贫困村、贫困户的精准对接机制；东部省份逐步增加对口帮扶"
                "财政投入；启动“携手奔小康”行动，推动县与县精准对接，探索东西部乡镇、行政村之间结对帮扶；通过产业合作、"
                "劳务协作、职业培训和干部挂职推动人才、资金、技术向贫困地区流动，并建立考核评价机制。",
                "定点帮扶：各单位制定年度帮扶计划，选派干部挂职、担任贫困村第一书记；专栏13列出中央单位定点扶贫的牵头联系单位，"
                "其中中央统战部牵头联系民主党派中央和全国工商联。",
                "企业帮扶：强化国有企业帮扶责任（“百县万村”活动、“同舟工程”）；充分发挥工商联的桥梁纽带作用，"
                "组织开展“万企帮万村”精准扶贫行动，引导东部民营企业在东西部扶贫协作框架下结对帮扶西部贫困村；"
                "吸纳贫困人口就业的企业享受职业培训补贴和税收优惠；设立企业扶贫光荣榜，并向社会公告。",
                "专栏14“万企帮万村”精准扶贫行动：动员全国1万家以上民营企业，采取产业扶贫、就业扶贫、公益扶贫等方式，"
                "帮助1万个以上贫困村加快脱贫进程。",
            ),
            points=(
                "需求分为产业、就业、公益、技能、消费、志愿六类，前三类即专栏14所列的三种帮扶方式。",
                "东部民营企业在东西部扶贫协作框架下结对帮扶西部贫困村：平台推荐帮扶对象时优先考虑结对关系。",
            ),
        ),
        en=Text(
            title="The 13th Five-Year Plan for Poverty Alleviation (Chapter 9: Social Poverty Alleviation)",
            issuer="State Council",
            date="Issued 23 November 2016",
            note="The copy held is an excerpt of Chapter 9; the document number and issue date are those of the "
                 "official publication on gov.cn.",
            source="Xinhua and gov.cn, reposted by hbsxx.hebei.com.cn on 2016-12-07",
            summary=(
                "Chapter 9 asks the East-West cooperation and the designated assistance of central units to lead the way, "
                "and society as a whole to join in, so that help reaches poor people precisely and works.",
                "East-West cooperation: following the Fujian-Ningxia model, match the cooperation to registered poor "
                "villages and households; eastern provinces raise their budgets for paired assistance; the \"hand in "
                "hand towards prosperity\" drive pairs counties, and townships and villages may pair too; industry, "
                "labour cooperation, vocational training and secondments move people, funds and technology west, and "
                "the results are assessed.",
                "Designated assistance: every unit plans its help each year and sends cadres, including first "
                "secretaries of poor villages; Box 13 lists the lead units, among them the United Front Work "
                "Department for the democratic parties and the All-China Federation of Industry and Commerce.",
                "Enterprises: state-owned enterprises carry their share (the \"hundred counties, ten thousand "
                "villages\" drive and the Tongzhou project); the federations of industry and commerce organise the "
                "\"Ten Thousand Enterprises Help Ten Thousand Villages\" campaign, guiding private enterprises in the "
                "east to pair with poor villages in the west; enterprises that hire poor people receive training "
                "subsidies and tax relief; an honour roll of enterprises is set up and announced to the public.",
                "Box 14: mobilise more than 10,000 private enterprises to help more than 10,000 poor villages through "
                "industry, employment and charity.",
            ),
            points=(
                "Needs fall into six categories (industry, employment, charity, skills, consumption, volunteering); "
                "the first three are the forms of help in Box 14.",
                "Eastern enterprises pair with western villages: the platform's recommendations put those pairings "
                "first.",
            ),
        ),
    ),
    PolicyDocument(
        slug="east-west-cooperation-guidance-2016",
        seed="001_23a2519101a3b135.txt",
        date_sort="2016-12-07",
        doc_number=None,
        zh=Text(
            title="关于进一步加强东西部扶贫协作工作的指导意见",
            issuer="中共中央办公厅、国务院办公厅",
            date="新华社2016年12月7日发布",
            note=None,
            source="新华社北京12月7日电（全文）",
            summary=(
                "目标：健全东西部扶贫协作和对口支援机制，确保西部地区现行国家扶贫标准下的农村贫困人口到2020年实现脱贫，"
                "贫困县全部摘帽，解决区域性整体贫困。原则是党的领导与社会广泛参与、精准聚焦、优势互补、群众主体。",
                "结对关系：调整东西部扶贫协作结对关系，实现对民族自治州和西部贫困程度深的市州全覆盖。例如浙江省帮扶四川省，"
                "杭州市帮扶湖北省恩施州和贵州省黔东南州；上海市帮扶云南省和贵州省遵义市；广东省帮扶广西和四川省甘孜州，"
                "佛山市帮扶四川省凉山州，中山市和东莞市帮扶云南省昭通市。东部省份组织经济较发达的县（市、区）开展“携手奔小康”行动，"
                "探索乡镇之间、行政村之间结对帮扶。",
                "主要任务：产业合作（引进劳动密集型企业，建设贫困人口参与度高的特色产业基地）；劳务协作（摸清有就业意愿的"
                "建档立卡贫困人口，开展有组织的劳务对接，实现人岗对接、稳定就业）；人才支援（干部挂职原则上两到三年）；"
                "资金支持（列入年度预算，加强监管）；动员社会参与（利用全国扶贫日和中国社会扶贫网，积极组织民营企业参与"
                "“万企帮万村”精准扶贫行动，与被帮扶地区贫困村结对帮扶）。",
                "保障措施：双方建立高层联席会议制度；纳入国家脱贫攻坚考核，考核减贫成效、劳务协作、产业合作、人才支援、"
                "资金支持五个方面。",
            ),
            points=(
                "平台的东西部扶贫协作结对表即取自本文件（第四条），推荐帮扶方时按它排序并说明理由。",
                "就业需求以岗位计，写明岗位、月工资和工作地点，便于“人岗对接”。",
            ),
        ),
        en=Text(
            title="Guiding Opinions on Further Strengthening East-West Cooperation in Poverty Alleviation",
            issuer="General Office of the CPC Central Committee and General Office of the State Council",
            date="Published by Xinhua on 7 December 2016",
            note=None,
            source="Xinhua, Beijing, 7 December (full text)",
            summary=(
                "Goal: strengthen East-West cooperation and paired assistance so that by 2020 the rural poor of the "
                "western regions are lifted out of poverty under the current national standard and every poor county "
                "sheds its status. Principles: Party leadership with broad social participation, precise targeting, "
                "complementary strengths, and the poor as the main actors.",
                "Pairings: the East-West pairs are adjusted to cover every autonomous prefecture and the poorest "
                "western cities and prefectures. For example Zhejiang helps Sichuan; Hangzhou helps Enshi (Hubei) and "
                "Qiandongnan (Guizhou); Shanghai helps Yunnan and Zunyi; Guangdong helps Guangxi and Garze (Sichuan); "
                "Foshan helps Liangshan (Sichuan); Zhongshan and Dongguan help Zhaotong (Yunnan). Richer eastern "
                "counties pair with poor counties, and townships and villages may pair too.",
                "Tasks: industrial cooperation (labour-intensive firms, production bases that involve poor people); "
                "labour cooperation (know which registered poor people want work, organise matching and keep them in "
                "stable jobs); talent support (secondments of two to three years); funding (in annual budgets, under "
                "supervision); social participation (use National Poverty Alleviation Day and the China Social "
                "Poverty Alleviation Network, and bring private enterprises into the \"Ten Thousand Enterprises Help "
                "Ten Thousand Villages\" campaign, pairing with poor villages in the assisted regions).",
                "Safeguards: yearly high-level joint meetings; the cooperation is part of the national assessment, "
                "which looks at poverty reduction, labour cooperation, industrial cooperation, talent support and "
                "funding.",
            ),
            points=(
                "The platform's East-West pairing table comes from section 4 of this document; recommendations are "
                "ranked by it and say so.",
                "Employment needs are counted in positions and state the job, the monthly wage and the place of work, "
                "so that people are matched to jobs.",
            ),
        ),
    ),
    PolicyDocument(
        slug="decision-on-winning-the-fight-against-poverty",
        seed="002_384c575b4bb0bb54.txt",
        date_sort="2015-11-29",
        doc_number="中发〔2015〕34号",
        zh=Text(
            title="中共中央 国务院关于打赢脱贫攻坚战的决定",
            issuer="中共中央、国务院",
            date="2015年11月29日",
            note="文号见石家庄市实施意见（石发〔2016〕4号）的引用；日期据新华社发布的原件。",
            source="据新华社（2019-07-22 网络转载）",
            summary=(
                "总体目标：到2020年，稳定实现农村贫困人口不愁吃、不愁穿，义务教育、基本医疗和住房安全有保障；"
                "确保现行标准下农村贫困人口实现脱贫，贫困县全部摘帽，解决区域性整体贫困。",
                "精准扶贫方略：抓好精准识别、建档立卡，按扶持对象、项目安排、资金使用、措施到户、因村派人、脱贫成效"
                "“六个精准”施策，建立精准扶贫台账，实行有进有出的动态管理；评价成效既看数量更看质量，"
                "对弄虚作假搞“数字脱贫”的，要严肃追究责任。通过特色产业、劳务输出、易地搬迁、生态保护、教育、"
                "医疗保险和医疗救助、低保兜底、资产收益等途径脱贫。",
                "政策保障：加大财政、金融、用地、科技人才支持；贫困地区要建立扶贫公告公示制度，强化社会监督，"
                "保障资金在阳光下运行。",
                "社会力量（第二十四条）：鼓励支持民营企业、社会组织、个人参与扶贫开发，实现社会帮扶资源和精准扶贫有效对接；"
                "工商联系统组织民营企业开展“万企帮万村”精准扶贫行动；落实公益扶贫捐赠所得税税前扣除政策；"
                "发挥好“10·17”全国扶贫日社会动员作用；全面及时公开扶贫捐赠信息，提高社会扶贫公信力和美誉度；"
                "构建社会扶贫信息服务网络。第二十七条要求建立国家扶贫荣誉制度，表彰作出杰出贡献的组织和个人。",
            ),
            points=(
                "社会帮扶资源和精准扶贫有效对接：帮扶方按村里提出的具体需求认捐。",
                "全面及时公开扶贫捐赠信息：需求的目标和认捐进度公开显示。",
                "不搞“数字脱贫”：“10·17”活动页只统计经审核员核实的帮扶。",
            ),
        ),
        en=Text(
            title="Decision of the CPC Central Committee and the State Council on Winning the Fight against Poverty",
            issuer="CPC Central Committee and State Council",
            date="29 November 2015",
            note="The document number is as cited by Shijiazhuang's implementing opinions (Shi Fa [2016] No. 4); the "
                 "date is that of the official Xinhua release.",
            source="Xinhua (reposted online on 2019-07-22)",
            summary=(
                "Goal: by 2020 the rural poor reliably have enough food and clothing and are assured of compulsory "
                "education, basic medical care and safe housing; everyone poor under the current standard is lifted "
                "out of poverty and every poor county sheds its status.",
                "Targeted poverty alleviation: identify and register the poor, act precisely on six counts (who is "
                "helped, projects, use of funds, measures per household, staff per village, results), keep ledgers "
                "with people entering and leaving, judge results by quality as well as numbers, and hold to account "
                "anyone who fakes figures (\"poverty alleviation on paper\"). Routes out of poverty include local "
                "industries, labour migration, relocation, ecological jobs, education, health insurance and medical "
                "aid, the minimum living allowance and income from assets.",
                "Policy support: more fiscal, financial, land and talent support; poor areas publish their poverty "
                "funds and projects so that society can watch and the money \"runs in the sunlight\".",
                "Society (section 24): private enterprises, social organisations and individuals are encouraged to "
                "join, matching social resources to precise needs; the federations of industry and commerce organise "
                "the \"Ten Thousand Enterprises Help Ten Thousand Villages\" campaign; charitable donations are tax "
                "deductible; 17 October, National Poverty Alleviation Day, mobilises society; donation information is "
                "published fully and promptly; a social poverty-alleviation information network is built. Section 27 "
                "sets up national poverty-alleviation honours for outstanding organisations and people.",
            ),
            points=(
                "Match social resources to precise needs: helpers pledge against the specific needs villages post.",
                "Publish donation information fully and promptly: each need shows its target and how much is pledged.",
                "No figures on paper: the 10·17 campaign page counts only help verified by a curator.",
            ),
        ),
    ),
    PolicyDocument(
        slug="sichuan-social-poverty-alleviation",
        seed="003_7808f437783a1aee.txt",
        date_sort="2015",
        doc_number=None,
        zh=Text(
            title="四川省社会扶贫专项方案",
            issuer="四川省",
            date="2015年（据方案的进度安排）",
            note="收录的文本没有标题、发文机关和日期：标题据正文“特制定本方案”和内容拟定，年份据其进度安排。",
            source="方案全文（无出处页）",
            summary=(
                "方案落实《中共四川省委关于集中力量打赢扶贫开发攻坚战，确保同步全面建成小康社会的决定》，动员社会力量参与扶贫，"
                "形成专项扶贫、行业扶贫、社会扶贫三位一体的大扶贫格局。",
                "对象：秦巴山区、乌蒙山区、大小凉山彝区、高原藏区“四大片区”88个贫困县，全省建档立卡的11501个贫困村、"
                "168.48万户497.65万农村贫困人口。主体包括各级党政机关、民主党派、工商联、国有企业、高等学校、"
                "东西扶贫协作单位、部队，以及民营企业、社会组织和公民个人。",
                "目标和进度：对88个贫困县定点扶贫全覆盖，对11501个贫困村驻村帮扶全覆盖，每户贫困户都有帮扶责任人；"
                "2015年创新布局，2016—2019年深入推进，2020年巩固提升。",
                "措施：浙江省对口援助阿坝州和凉山州木里县、广东省援助甘孜州，珠海市对凉山州开展东西扶贫协作；"
                "民营企业扶贫由省工商联牵头，鼓励村企合作（含PPP）、技能培训、定向吸纳就业、订单收购和捐资扶贫；"
                "社会组织依法募捐，畅通社会公众对不良扶贫慈善行为的投诉举报渠道；每年组织“10·17”扶贫日活动，"
                "办好“四川爱心扶贫网”，提供扶贫需求、帮扶渠道、政策宣传、帮扶成效等信息；建立完善扶贫荣誉制度。",
            ),
            points=(
                "畅通投诉举报渠道：任何人都可以在需求和帮扶方页面上举报，处理结果公开。",
                "提供扶贫需求、帮扶渠道、政策宣传等信息：即本平台的需求、对接和政策页面。",
            ),
        ),
        en=Text(
            title="Sichuan Province: Special Programme for Social Poverty Alleviation",
            issuer="Sichuan Province",
            date="2015 (from the programme's schedule)",
            note="The copy held has no title, issuer or date: the title is drawn from the text (\"this programme is "
                 "formulated\") and its content, the year from its schedule.",
            source="Full text of the programme (no source page)",
            summary=(
                "The programme carries out the Sichuan Party Committee's decision to concentrate forces on winning "
                "the fight against poverty, mobilising society so that special, sectoral and social poverty "
                "alleviation work as one.",
                "Who is helped: 88 poor counties in the four contiguous areas (Qinba mountains, Wumeng mountains, the "
                "Yi areas of Greater and Lesser Liangshan, the Tibetan plateau) and the province's 11,501 registered "
                "poor villages with 1.6848 million households and 4.9765 million poor people. Who helps: Party and "
                "government bodies, democratic parties, the federation of industry and commerce, state enterprises, "
                "universities, East-West cooperation partners, the armed forces, private enterprises, social "
                "organisations and individuals.",
                "Targets and schedule: designated assistance for all 88 counties, a resident work team in every one "
                "of the 11,501 villages and a named helper for every poor household; 2015 lays out the work, "
                "2016–2019 deepens it, 2020 consolidates it.",
                "Measures: Zhejiang assists Aba and Muli county in Liangshan, Guangdong assists Garze, Zhuhai "
                "cooperates with Liangshan; private enterprises, led by the provincial federation of industry and "
                "commerce, invest in villages (including PPP), train, hire poor people, buy produce under contract "
                "and donate; social organisations raise funds lawfully and the public has channels to report bad "
                "charitable conduct; National Poverty Alleviation Day (17 October) is marked every year; the "
                "\"Sichuan Caring Poverty Alleviation Network\" publishes needs, ways to help, policies and results; "
                "honours recognise outstanding contributors.",
            ),
            points=(
                "Channels to report bad conduct: anyone can report from a need's or a helper's page, and the outcome "
                "is public.",
                "Needs, ways to help and policies: this platform's needs, matching and policy pages.",
            ),
        ),
    ),
    PolicyDocument(
        slug="shijiazhuang-implementing-opinions-2016",
        seed="004_28c21d049f7a00f5.txt",
        date_sort="2016",
        doc_number="石发〔2016〕4号",
        zh=Text(
            title="中共石家庄市委 石家庄市人民政府关于加大扶贫开发力度实现脱贫攻坚目标的实施意见",
            issuer="中共石家庄市委、石家庄市人民政府",
            date="2016年",
            note="收录的文本只载文号，未载印发日期；石家庄市民政局网站 2018-09-20 登载。",
            source="石家庄市民政局网站",
            summary=(
                "依据中发〔2015〕34号和冀发〔2015〕27号，以平山、赞皇、灵寿、行唐4个国家扶贫开发工作重点县为主战场。"
                "“十三五”期间全市完成24.3万人脱贫：2016—2018年集中攻坚，22.8万贫困人口稳定脱贫、584个贫困村出列、"
                "4个国定贫困县摘帽；2019—2020年巩固提升，解决剩余1.5万人脱贫。",
                "“七个一批”：发展产业、就业创业、易地搬迁、生态保护、发展教育、社保政策兜底、医疗保险和医疗救助各脱贫一批。"
                "“七大工程”：道路交通、水利、电力改造、美丽乡村、危房改造、“互联网+扶贫”（贫困村“一村一网店”）、"
                "贫困革命老区建设。",
                "政策支持：市级财政扶贫资金逐年增长，涉农资金切块到县打捆使用；每个贫困县设立资本金不少于1亿元的融资担保公司。",
                "组织领导：584个贫困村每村一个驻村工作队和一名第一书记；建立精准扶贫大数据平台；通过“一帮一”、结对帮扶、"
                "定向捐助等形式动员社会组织、工商企业和公民个人参与；坚决杜绝弄虚作假搞“数字脱贫”。",
            ),
            points=(
                "结对帮扶、定向捐助：帮扶方可以与村结对，也可以认捐某一项具体需求。",
                "杜绝“数字脱贫”：“10·17”活动页只统计经审核员核实的帮扶。",
            ),
        ),
        en=Text(
            title="Shijiazhuang: Implementing Opinions on Stepping up Poverty Alleviation to Meet the Targets",
            issuer="CPC Shijiazhuang Municipal Committee and Shijiazhuang Municipal People's Government",
            date="2016",
            note="The copy held gives the document number but not the date of issue; it was posted on the "
                 "Shijiazhuang Civil Affairs Bureau's website on 2018-09-20.",
            source="Shijiazhuang Civil Affairs Bureau website",
            summary=(
                "Based on the central decision (Zhong Fa [2015] No. 34) and Hebei's (Ji Fa [2015] No. 27), with the four "
                "national key counties Pingshan, Zanhuang, Lingshou and Xingtang as the main battlefield. Over the "
                "13th Five-Year Plan 243,000 people are to leave poverty: in 2016–2018, 228,000 people, 584 poor "
                "villages and the four counties; in 2019–2020 the remaining 15,000.",
                "Seven routes out of poverty: industry, jobs and enterprise, relocation, ecological protection, "
                "education, the social safety net, and health insurance with medical aid. Seven programmes: roads, "
                "water, power grids, beautiful villages, dangerous-housing renovation, \"Internet plus\" (an online "
                "shop in every poor village) and the old revolutionary base areas.",
                "Policy support: municipal poverty funds grow every year and agricultural funds are pooled at county "
                "level; every poor county sets up a financing guarantee company with at least 100 million yuan of "
                "capital.",
                "Leadership: a resident work team and a first secretary in each of the 584 poor villages; a big-data "
                "platform for targeted poverty alleviation; social organisations, businesses and individuals join "
                "through one-to-one help, pairing and directed donations; no faked figures.",
            ),
            points=(
                "Pairing and directed donations: helpers can pair with a village or pledge to one specific need.",
                "No faked figures: the 10·17 campaign page counts only help verified by a curator.",
            ),
        ),
    ),
)

BY_SLUG = {doc.slug: doc for doc in DOCUMENTS}


def documents():
    """The policy documents, newest first."""
    return sorted(DOCUMENTS, key=lambda d: d.date_sort, reverse=True)
