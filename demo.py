"""The demo site for classes: `flask demo` seeds it, `flask demo --reset` brings it back."""
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy import delete

import clock
import rules
from extensions import db
from models import (
    ROLE_ADMIN,
    ROLE_CUSTOMS,
    ROLE_ENTERPRISE,
    ROLE_SITE_ADMIN,
    Announcement,
    Application,
    Counter,
    DeclarationNumber,
    DeclarationRecord,
    Enterprise,
    GoodsItem,
    Port,
    User,
)
from refdata import generate_calendar, load_reference_data

DEMO_PASSWORD = "demo1234"


@dataclass(frozen=True)
class DemoAccount:
    """A demo login: its role, its enterprise (a key of ENTERPRISES) and what a class shows with it."""

    role: str
    enterprise: str | None
    shows: str


# The one list of demo accounts: the seed creates them, the login page lists them in demo mode.
DEMO_ACCOUNTS = {
    "demo-general": DemoAccount(ROLE_ENTERPRISE, "general", rules.N_("一般信用企业：完整的申请流程，查询中有各状态的申请")),
    "demo-advanced": DemoAccount(ROLE_ENTERPRISE, "advanced", rules.N_("高级认证企业：更短的提交时限（R12）")),
    "demo-dishonest": DemoAccount(ROLE_ENTERPRISE, "dishonest", rules.N_("失信企业：不允许操作（R3）")),
    "demo-unqualified": DemoAccount(ROLE_ENTERPRISE, "unqualified", rules.N_("无报关资质：不能新增（R4）")),
    "demo-overdue": DemoAccount(ROLE_ENTERPRISE, "overdue", rules.N_("有通关完成未反馈的申请：不能新增（R6、R17）")),
    "demo-consignee": DemoAccount(ROLE_ENTERPRISE, "consignee", rules.N_("收发货人：按B-收发货人查询，只读查看")),
    "demo-customs": DemoAccount(ROLE_CUSTOMS, None, rules.N_("海关审核员：受理、预约成功、退单")),
    "demo-admin": DemoAccount(ROLE_ADMIN, None, rules.N_("口岸管理员：本口岸的工作日历、作业时间表、公告")),
    "demo-site-admin": DemoAccount(ROLE_SITE_ADMIN, None, rules.N_("系统管理员：所有口岸，企业、用户、商品归类表、站点设置")),
}
CALENDAR_PORTS = ("0100", "0200", "0400", "8000")
# 2027 is not in the holiday table yet: two ports publish a provisional calendar, Chongqing publishes none.
PROVISIONAL_2027_PORTS = ("0100", "0400")

ENTERPRISES = {
    "advanced": ("130198004Y", "9113000034801880XB", "1301111111", "河北省电子口岸发展股份有限公司", rules.ADVANCED_CERTIFIED, True),
    "general": ("5001960123", "91500000MA5U7X0Q0D", "5000600001", "重庆渝丰进出口贸易有限公司", rules.GENERAL_CREDIT, True),
    "consignee": ("1201960456", "91120116MA05K3H209", "1200600002", "天津华映光电股份有限公司", rules.GENERAL_CERTIFIED, True),
    "dishonest": ("1301960789", "91130100MA0CX8L21Y", "1300600003", "石家庄恒通商贸有限公司", rules.DISHONEST, True),
    "unqualified": ("5001960321", "91500112MA61B2C45W", "5000600004", "重庆两江鑫达物流有限公司", rules.GENERAL_CREDIT, False),
    "overdue": ("1301960654", "91130105MA0E7J8P6B", "1300600005", "石家庄冀通国际货运代理有限公司", rules.GENERAL_CERTIFIED, True),
}


def wipe():
    """Delete every row but the number sequences (pre-entry numbers stay unique across resets)."""
    for table in reversed(db.metadata.sorted_tables):
        if table.name != Counter.__tablename__:
            db.session.execute(delete(table))
    db.session.flush()


def _evening(base, days):
    """18:00 on the day ``days`` after ``base``: outside every port's working hours."""
    return datetime.combine(base.date() + timedelta(days=days), time(18, 0))


def new_application(declarant, consignee, user, at, **fields):
    """An application as the first 暂存 makes it, with these fields filled."""
    application = Application.start_new(declarant, user, at)
    application.consignee = consignee
    application.consignee_code = consignee.customs_code
    for name, value in fields.items():
        setattr(application, name, value)
    application.end = rules.appointment_end(application.start)
    return application


def seed():
    """Create ports with calendars, enterprises, users, applications in every status, records, announcements."""
    now = clock.now()
    load_reference_data()
    db.session.flush()
    for code in CALENDAR_PORTS:
        generate_calendar(code, 2026)
    for code in PROVISIONAL_2027_PORTS:
        generate_calendar(code, 2027, provisional=True)

    firms = {}
    for key, (customs_code, uscc, inspection, name, grade, qualified) in ENTERPRISES.items():
        firms[key] = Enterprise(
            customs_code=customs_code, uscc=uscc, inspection_code=inspection, name=name, credit_grade=grade, qualified=qualified
        )
        db.session.add(firms[key])

    users = {}
    ports = [db.session.get(Port, code) for code in CALENDAR_PORTS]
    for username, account in DEMO_ACCOUNTS.items():
        user = User(username=username, display_name=username, role=account.role,
                    enterprise=firms[account.enterprise] if account.enterprise else None,
                    ports=ports if account.enterprise is None else [])
        user.set_password(DEMO_PASSWORD)
        db.session.add(user)
        users[username.removeprefix("demo-")] = user
    db.session.flush()

    _seed_applications(now, firms, users)
    _seed_announcements(now)


# The moves that bring a new application to each demo status.
LIFECYCLE = {
    rules.DRAFT: [],
    rules.SUBMITTED: [rules.SUBMITTED],
    rules.ACCEPTED: [rules.SUBMITTED, rules.ACCEPTED],
    rules.APPROVED: [rules.SUBMITTED, rules.ACCEPTED, rules.APPROVED],
    rules.CLEARED: [rules.SUBMITTED, rules.ACCEPTED, rules.APPROVED, rules.CLEARED],
    rules.RETURNED: [rules.SUBMITTED, rules.RETURNED],
    rules.CANCELLED: [rules.SUBMITTED, rules.ACCEPTED, rules.APPROVED, rules.CANCELLED],
}


def walk(application, moves, created, operator, officer):
    """Make the moves half an hour apart, by the enterprise or by customs as in real life, with their audit trail."""
    for step, to_status in enumerate(moves, start=1):
        at = created + timedelta(minutes=30 * step)
        by_enterprise = rules.TRANSITIONS[(application.status, to_status)].by == rules.ROLE_ENTERPRISE
        note = application.return_reason if to_status == rules.RETURNED else ""
        application.move(to_status, operator if by_enterprise else officer, note=note, at=at)


def _seed_applications(now, firms, users):
    general, consignee, customs = firms["general"], firms["consignee"], users["customs"]
    common = dict(
        contact_name="张明",
        contact_mobile="13812345678",
        declaration_port="8000",
        entry_port="8000",
        transport_mode="5",
        reason_category="perishable",
        reason_text="进口冷冻罗非鱼，需当晚通关",
        direction=rules.IMPORT,
    )
    goods = [("冻罗非鱼", "0303230000")]

    def make(status, created_days_ago, start_days, **extra):
        created = now - timedelta(days=created_days_ago)
        application = new_application(
            general, consignee, users["general"], created, start=_evening(now, start_days), **{**common, **extra}
        )
        for position, (name, code) in enumerate(goods, start=1):
            application.goods.append(GoodsItem(position=position, name=name, hs_code=code))
        walk(application, LIFECYCLE[status], created, users["general"], customs)
        return application

    make(rules.DRAFT, 1, 9)
    make(rules.DRAFT, 0, 12, reason_text="")
    make(rules.SUBMITTED, 2, 6)
    make(rules.ACCEPTED, 3, 5)
    approved = make(rules.APPROVED, 4, 4)
    cleared = make(rules.CLEARED, 12, -7)
    cleared.declaration_numbers.append(DeclarationNumber(position=1, number="800020261000000101"))
    make(rules.RETURNED, 5, 3, return_reason="随附材料不清晰，请补充后重新申请")
    make(rules.CANCELLED, 6, 2)

    # R17: approved, appointment more than five days ago, nothing fed back: shown as 通关完成未反馈.
    overdue = new_application(
        firms["overdue"], firms["overdue"], users["overdue"], now - timedelta(days=14),
        start=_evening(now, -8), **{**common, "declaration_port": "0400", "entry_port": "0400"},
    )
    overdue.goods.append(GoodsItem(position=1, name="鲜或冷藏的番茄", hs_code="0702000000"))
    walk(overdue, LIFECYCLE[rules.APPROVED], overdue.created_at, users["overdue"], customs)

    # Declaration records for R20 checks of the approved application's feedback.
    declared = approved.start.date()
    db.session.add_all(
        [
            DeclarationRecord(number="800020261000000123", consignee_code=consignee.customs_code, declaration_port="8000",
                              entry_port="8000", direction=rules.IMPORT, declared_on=declared),
            DeclarationRecord(number="800020261000000456", consignee_code=firms["advanced"].customs_code,
                              declaration_port="8000", entry_port="8000", direction=rules.IMPORT, declared_on=declared),
            DeclarationRecord(number="800020261000000101", consignee_code=consignee.customs_code, declaration_port="8000",
                              entry_port="8000", direction=rules.IMPORT, declared_on=cleared.start.date()),
        ]
    )


def _seed_announcements(now):
    db.session.add_all(
        [
            Announcement(
                title="关于“互联网+预约通关”的公告（海关总署公告2018年第109号）",
                body="企业可在海关非工作时间预约通关。申报地海关与进出口海关不同的，应最迟在预约通关时间前的最后一个海关工作日"
                "下班前24小时提出预约申请，高级认证企业可放宽至8小时；相同的，应最迟在下班前8小时提出，高级认证企业可放宽至4小时。",
                publisher="海关总署",
                published_on=now.date() - timedelta(days=30),
            ),
            Announcement(
                title="2027年口岸工作日历为暂定日历",
                body="国务院尚未公布2027年节假日安排，北京关区、石家庄关区2027年工作日历暂按周一至周五编制，公布后将及时更新。",
                publisher="口岸管理员",
                published_on=now.date() - timedelta(days=3),
            ),
            Announcement(
                title="重庆口岸进出口作业时间表已公示",
                body="重庆口岸航空、铁路、水运进出口作业时间表可在“口岸作业时间公示”中查看。",
                publisher="重庆市人民政府口岸和物流办公室",
                published_on=now.date() - timedelta(days=1),
            ),
        ]
    )
