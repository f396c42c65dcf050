"""预约通关查询, 口岸工作时间查询 and the operation timetables through their routes (R15, R21–R23)."""
import csv
import io
import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from extensions import db
from models import Application, Enterprise, User
from tests.conftest import ids_with_status
from tests.conftest import csrf_token
from rules import DRAFT, SUBMITTED

APPLIED = "applied_from=2026-11-09&applied_to=2026-11-23"


def add_drafts(app, count, declarant="5001960123", consignee="1201960456"):
    """Extra drafts of one enterprise, created a minute apart on 2026-11-20."""
    with app.app_context():
        firm, other = Enterprise.by_code(declarant), Enterprise.by_code(consignee)
        user = db.session.execute(select(User).where(User.enterprise_id == firm.id)).scalars().first()
        ids = []
        for i in range(count):
            application = Application.start_new(firm, user, datetime(2026, 11, 20, 9, 0) + timedelta(minutes=i))
            application.consignee, application.consignee_code = other, other.customs_code
            db.session.flush()
            ids.append(application.id)
        db.session.commit()
        return ids


def count(app):
    with app.app_context():
        return db.session.execute(select(func.count(Application.id))).scalar()


def result_numbers(page):
    return re.findall(r">(YTG\d{15})</a>", page)


def test_A_lists_what_my_enterprise_declared_newest_first(general, app):
    page = general.get(f"/query?category=A&{APPLIED}").get_data(as_text=True)
    numbers = result_numbers(page)
    assert len(numbers) == 8 and "总共 8 条记录" in page
    assert "石家庄冀通国际货运代理有限公司" not in page  # another enterprise's application
    assert "通关完成" in page and "已取消" in page and "退单" in page


def test_query_defaults_to_today(general):
    page = general.get("/query").get_data(as_text=True)
    assert 'value="2026-11-23"' in page


def test_R21_category_is_required(general):
    page = general.get(f"/query?category=&{APPLIED}").get_data(as_text=True)
    assert "企业类别必填" in page and not result_numbers(page)


def test_R21_B_needs_a_consignee_code(general):
    page = general.get(f"/query?category=B&{APPLIED}").get_data(as_text=True)
    assert "需输入收发货人代码" in page and not result_numbers(page)


def test_R21_B_naming_another_enterprise_is_refused(general):
    page = general.get(f"/query?category=B&consignee_code=1201960456&{APPLIED}").get_data(as_text=True)
    assert "须为本企业" in page and not result_numbers(page)
    assert 'value="1201960456"' in page  # the form keeps what was typed


@pytest.mark.parametrize("own_code", ["1201960456", "91120116MA05K3H209"])
def test_R21_B_lists_applications_where_i_am_the_consignee(client, auth, own_code):
    auth.login("demo-consignee")
    page = client.get(f"/query?category=B&consignee_code={own_code}&{APPLIED}").get_data(as_text=True)
    assert len(result_numbers(page)) == 6  # demo-general's 8 less its 2 drafts, which stay its own
    assert 'name="ids"' not in page
    assert "重庆渝丰进出口贸易有限公司" in page


@pytest.mark.parametrize("field, first, last, refused", [
    ("applied", "2026-11-01", "2026-11-16", False),
    ("applied", "2026-11-01", "2026-11-17", True),
    ("appointment", "2026-11-01", "2026-11-16", False),
    ("appointment", "2026-11-01", "2026-11-17", True),
])
def test_R22_ranges_at_most_15_days(general, field, first, last, refused):
    page = general.get(f"/query?category=A&{field}_from={first}&{field}_to={last}").get_data(as_text=True)
    message = "申请时间查询范围不能超过15天" if field == "applied" else "预约时间查询范围不能超过15天"
    assert (message in page) is refused
    assert f'value="{last}"' in page


def test_status_filter_computes_cleared_without_feedback(client, auth):
    auth.login("demo-overdue")
    page = client.get("/query?category=A&status=cleared_no_feedback&applied_from=2026-11-08&applied_to=2026-11-23").get_data(as_text=True)
    assert len(result_numbers(page)) == 1 and "通关完成未反馈" in page  # R17
    page = client.get("/query?category=A&status=approved&applied_from=2026-11-08&applied_to=2026-11-23").get_data(as_text=True)
    assert not result_numbers(page)


def test_paging_20_a_page_with_the_total(general, app):
    add_drafts(app, 25)
    first = general.get(f"/query?category=A&{APPLIED}").get_data(as_text=True)
    second = general.get(f"/query?category=A&{APPLIED}&page=2").get_data(as_text=True)
    assert len(result_numbers(first)) == 20 and len(result_numbers(second)) == 13
    assert "总共 33 条记录" in first and "第 2 / 2 页" in second
    assert not set(result_numbers(first)) & set(result_numbers(second))


def test_only_drafts_can_be_ticked(general, app):
    page = general.get(f"/query?category=A&{APPLIED}").get_data(as_text=True)
    boxes = re.findall(r'name="ids" value="(\d+)"', page)
    assert sorted(map(int, boxes)) == sorted(ids_with_status(app, DRAFT))


def test_R15_batch_delete_of_two_drafts(general, app):
    drafts = ids_with_status(app, DRAFT)
    before = count(app)
    response = general.post("/query/delete", data={"csrf_token": csrf_token(general, "/query"), "ids": drafts, "category": "A",
                                                    "applied_from": "2026-11-09", "applied_to": "2026-11-23",
                                                    "confirm": "yes"})
    assert response.status_code == 303 and "category=A" in response.location
    assert count(app) == before - 2
    assert "已删除2项暂存申请" in general.get(response.location).get_data(as_text=True)


@pytest.mark.parametrize("crafted", [SUBMITTED, "other enterprise's draft"])
def test_R15_crafted_batch_delete_deletes_nothing(general, app, crafted):
    drafts = ids_with_status(app, DRAFT)
    extra = ids_with_status(app, SUBMITTED) if crafted == SUBMITTED else add_drafts(app, 1, declarant="130198004Y")
    before = count(app)
    response = general.post("/query/delete", data={"csrf_token": csrf_token(general, "/query"), "ids": drafts + extra, "category": "A"})
    assert response.status_code == 303
    assert count(app) == before
    assert "未删除任何申请" in general.get(response.location).get_data(as_text=True)


def test_csv_export_opens_in_excel(general):
    response = general.get(f"/query/export.csv?category=A&{APPLIED}")
    assert response.mimetype == "text/csv"
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:])))
    assert rows[0] == ["预录入编号", "申报人名称", "收发货人名称", "申请时间", "预约时间", "状态"]
    assert len(rows) == 9 and {r[5] for r in rows[1:]} >= {"暂存", "申报", "预约成功"}


def test_htmx_asks_for_the_results_alone(general):
    response = general.get(f"/query?category=A&{APPLIED}", headers={"HX-Request": "true", "HX-Target": "query-page"})
    page = response.get_data(as_text=True)
    assert "<html" not in page and page.strip().startswith('<div id="query-page">')
    assert len(result_numbers(page)) == 8
    assert "HX-Request" in response.headers["Vary"]
    restore = general.get(f"/query?category=A&{APPLIED}", headers={"HX-Request": "true", "HX-Target": "query-page", "HX-History-Restore-Request": "true"})
    assert "<html" in restore.get_data(as_text=True)


def test_R23_port_hours_over_national_day(client):
    page = client.get("/port-hours?port_code=0400&date_from=2026-09-28&date_to=2026-10-12").get_data(as_text=True)
    rows = re.findall(r"(2026-\d\d-\d\d): 上班时间09:00--- 下班时间16:30", page)
    assert "2026-10-10" in rows and "2026-10-01" not in rows and "2026-10-11" not in rows
    assert f"总共 {len(rows)} 条记录" in page
    assert "石家庄关区" in page


def test_R23_more_than_15_days_is_refused(client):
    page = client.get("/port-hours?port_code=0400&date_from=2026-09-28&date_to=2026-10-14").get_data(as_text=True)
    assert "时间区间不得超过15天" in page and "2026-10-14" in page
    assert "上班时间09:00" not in page


def test_port_hours_nothing_found_asks_for_a_calendar_update(client):
    page = client.get("/port-hours?port_code=8000&date_from=2027-01-01&date_to=2027-01-10").get_data(as_text=True)
    assert "请联系口岸更新工作日历" in page and "总共 0 条记录" in page


def test_timetables_show_all_six_chongqing_tables(client):
    page = client.get("/timetables/8000").get_data(as_text=True)
    for title in ("航空口岸进口作业时间表", "铁路口岸进口作业时间表", "水运口岸进口作业时间表",
                  "航空口岸出口作业时间表", "铁路口岸出口作业时间表", "水运口岸出口作业时间表"):
        assert title in page
    assert "4小时内完成" in page and "重庆机场集团、重庆中航航空货站" in page and "2022-03-04" in page
    assert "1.舱单申报" in page and "13.货物装车出区" in page
    assert client.get("/timetables/0000").status_code == 404


def test_appointment_range_alone_finds_by_appointment_time(general):
    page = general.get("/query?category=A&appointment_from=2026-11-24&appointment_to=2026-12-02").get_data(as_text=True)
    shown = re.findall(r'<td class="nowrap">(2026-\d\d-\d\d) 18:00:00</td>', page)
    assert sorted(shown) == ["2026-11-25", "2026-11-26", "2026-11-27", "2026-11-28", "2026-11-29", "2026-12-02"]
    assert "总共 6 条记录" in page


@pytest.mark.parametrize("url", ["/query?category=A&applied_from=2026-11-01&applied_to=2026-13-01",
                                 "/port-hours?port_code=0400&date_from=2026/10/01&date_to=2026-10-05"])
def test_a_malformed_date_is_named_not_ignored(general, url):
    page = general.get(url).get_data(as_text=True)
    assert "格式不正确，请按 YYYY-MM-DD 填写" in page
    assert not result_numbers(page) and "上班时间09:00" not in page
