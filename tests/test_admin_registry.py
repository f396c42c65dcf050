"""口岸管理 registry: users, enterprises, announcements, site settings, timetables, catalogue uploads, 操作日志."""
import io
import json

import pytest
from sqlalchemy import func, select

from extensions import db
from models import Announcement, AuditEntry, DeclarationRecord, Enterprise, HSCode, Port, Timetable, User

NEW_FIRM = {"customs_code": "5001960999", "uscc": "91500000MA5U7X0Q0D", "inspection_code": "5000600099",
            "name": "重庆新登记贸易有限公司", "credit_grade": "general_credit", "qualified": "y"}
def valid_uscc(body):
    """Complete 17 characters with their GB 32100-2015 check character."""
    chars = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
    total = sum(chars.index(c) * w for c, w in zip(body, weights))
    return body + chars[(31 - total % 31) % 31]


# A valid USCC no demo enterprise holds.
FREE_USCC = valid_uscc("91500000MA5U7X1Q0")


def post(client, auth, path, data, page=None, **kwargs):
    """POST a form as a browser would, with the CSRF token of ``page`` (default: the same path)."""
    token = auth.csrf_token_from(page or path)
    return client.post(path, data={**data, "csrf_token": token}, **kwargs)


def audit_actions(app):
    with app.app_context():
        return [e.action for e in db.session.execute(select(AuditEntry).order_by(AuditEntry.id)).scalars()]


@pytest.fixture()
def site_admin(client, auth):
    auth.login("demo-site-admin")
    return client


@pytest.fixture()
def port_admin(client, auth):
    auth.login("demo-admin")
    return client


# Users

def test_site_admin_creates_an_operator_who_must_change_the_password_first(site_admin, auth, app, client):
    response = post(site_admin, auth, "/admin/users/new", {"username": "op-new", "role": "enterprise",
                                                           "enterprise": "5001960123", "password": "first-pass-1"})
    assert response.status_code == 303
    assert "user.create" in audit_actions(app)
    auth.logout()
    response = auth.login("op-new", "first-pass-1")
    assert response.status_code == 303 and response.location == "/password"
    # Every other page sends the user back to the password page until the password is changed.
    assert client.get("/apply/new").location == "/password"
    assert "请先修改为只有您知道的新密码" in client.get("/password").get_data(as_text=True)
    response = post(client, auth, "/password", {"old_password": "first-pass-1", "new_password": "my-own-pass",
                                                "confirm": "my-own-pass"})
    assert response.status_code == 303
    assert "预约申请" in client.get("/").get_data(as_text=True)
    with app.app_context():
        assert User.by_username("op-new").must_change_password is False


@pytest.mark.parametrize("data, message", [
    ({"username": "x y", "role": "enterprise", "enterprise": "5001960123", "password": "long-enough"}, "用户名应为"),
    ({"username": "demo-general", "role": "enterprise", "enterprise": "5001960123", "password": "long-enough"}, "已被使用"),
    ({"username": "op2", "role": "enterprise", "enterprise": "0000000000", "password": "long-enough"}, "企业操作员须属于"),
    ({"username": "op2", "role": "customs", "password": "long-enough"}, "至少选择一个口岸"),
    ({"username": "op2", "role": "admin", "ports": "0400", "password": "short"}, "密码至少8个字符"),
])
def test_a_refused_user_keeps_what_was_typed(site_admin, auth, app, data, message):
    response = post(site_admin, auth, "/admin/users/new", data)
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and message in page
    assert f'value="{data["username"]}"' in page
    assert "user.create" not in audit_actions(app)


def test_create_customs_officer_and_site_admin(site_admin, auth, app):
    post(site_admin, auth, "/admin/users/new", {"username": "officer-9", "role": "customs", "ports": ["0400", "8000"],
                                                "password": "officer-pass"})
    post(site_admin, auth, "/admin/users/new", {"username": "root-2", "role": "site_admin", "password": "root-pass-2"})
    with app.app_context():
        assert sorted(p.code for p in User.by_username("officer-9").ports) == ["0400", "8000"]
        assert User.by_username("root-2").role == "site_admin"


def test_disable_ends_sessions_and_reset_makes_the_user_change_it(site_admin, auth, app):
    with app.app_context():
        user_id = User.by_username("demo-customs").id
    response = post(site_admin, auth, f"/admin/users/{user_id}/active", {"active": "0"}, page=f"/admin/users/{user_id}")
    assert response.status_code == 303
    with app.app_context():
        assert User.by_username("demo-customs").active is False
    post(site_admin, auth, f"/admin/users/{user_id}/active", {"active": "1"}, page=f"/admin/users/{user_id}")
    response = post(site_admin, auth, f"/admin/users/{user_id}/password", {"password": "new-given-1"},
                    page=f"/admin/users/{user_id}")
    assert response.status_code == 303
    with app.app_context():
        user = User.by_username("demo-customs")
        assert user.active and user.must_change_password and user.check_password("new-given-1")
    assert audit_actions(app)[-3:] == ["user.disable", "user.enable", "user.reset_password"]


def test_flask_user_create_makes_the_first_site_admin(app, monkeypatch):
    monkeypatch.setenv("YUYUE_ADMIN_PASSWORD", "root-password")
    result = app.test_cli_runner().invoke(args=["user", "create", "--role", "site_admin", "root"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = User.by_username("root")
        assert user.role == "site_admin" and user.check_password("root-password")


def test_flask_user_create_asks_for_the_password(app, monkeypatch):
    monkeypatch.delenv("YUYUE_ADMIN_PASSWORD", raising=False)
    result = app.test_cli_runner().invoke(args=["user", "create", "--role", "site_admin", "root"],
                                          input="typed-pass\ntyped-pass\n")
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert User.by_username("root").check_password("typed-pass")


@pytest.mark.parametrize("path", ["/admin/users", "/admin/enterprises", "/admin/settings", "/admin/catalogue/hs"])
def test_registry_pages_are_for_site_administrators_only(port_admin, path):
    assert port_admin.get(path).status_code == 403


# Enterprises

def test_add_enterprise_and_change_its_grade_keeps_history(site_admin, auth, app):
    response = post(site_admin, auth, "/admin/enterprises/new", {**NEW_FIRM, "uscc": FREE_USCC})
    assert response.status_code == 303
    with app.app_context():
        firm = Enterprise.by_code("5001960999")
        assert firm.qualified and firm.credit_grade == "general_credit"
        firm_id = firm.id
    response = post(site_admin, auth, f"/admin/enterprises/{firm_id}",
                    {**NEW_FIRM, "uscc": FREE_USCC, "credit_grade": "advanced_certified"})
    assert response.status_code == 303
    page = site_admin.get(f"/admin/enterprises/{firm_id}").get_data(as_text=True)
    assert "信用等级变更记录" in page and "demo-site-admin" in page and "高级认证企业" in page
    with app.app_context():
        entry = db.session.execute(select(AuditEntry).where(AuditEntry.action == "enterprise.credit_grade")).scalar_one()
        assert json.loads(entry.before) == {"credit_grade": "general_credit"}
        assert json.loads(entry.after) == {"credit_grade": "advanced_certified"}


@pytest.mark.parametrize("change, message", [
    ({"uscc": "91500000MA5U7X0Q0A"}, "统一社会信用代码 91500000MA5U7X0Q0A 无效"),
    ({}, "已属于另一家企业"),  # NEW_FIRM's USCC is demo-general's
    ({"customs_code": "12"}, "应为10位数字或大写字母"),
    ({"name": ""}, "请填写企业名称"),
])
def test_a_refused_enterprise_keeps_what_was_typed(site_admin, auth, change, message):
    data = {**NEW_FIRM, **change}
    response = post(site_admin, auth, "/admin/enterprises/new", data)
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and message in page
    assert f'value="{data["inspection_code"]}"' in page


def test_enterprise_search(site_admin):
    page = site_admin.get("/admin/enterprises?q=渝丰").get_data(as_text=True)
    assert "5001960123" in page and "130198004Y" not in page


def csv_upload(text, name="data.csv"):
    return {"file": (io.BytesIO(text.encode("utf-8")), name)}


def test_enterprise_csv_with_one_bad_line_imports_nothing_and_names_it(site_admin, auth, app):
    good = valid_uscc("91500000MA5U7X2Q0")
    text = ("customs_code,uscc,inspection_code,name,credit_grade,qualified\n"
            f"5001960998,{good},5000600098,重庆甲公司,一般信用企业,是\n"
            f"5001960997,91500000MA5U7X0Q0A,5000600097,重庆乙公司,一般信用企业,是\n")
    response = post(site_admin, auth, "/admin/enterprises/import", csv_upload(text), page="/admin/enterprises/import",
                    content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "第3行" in page and "无效" in page and "第2行" not in page
    with app.app_context():
        assert Enterprise.by_code("5001960998") is None


def test_enterprise_csv_imports_and_updates(site_admin, auth, app):
    good = valid_uscc("91500000MA5U7X2Q0")
    text = ("customs_code,uscc,inspection_code,name,credit_grade,qualified\n"
            f"5001960998,{good},5000600098,重庆甲公司,高级认证企业,否\n"
            "5001960123,91500000MA5U7X0Q0D,5000600001,重庆渝丰进出口贸易有限公司,一般认证企业,是\n")
    response = post(site_admin, auth, "/admin/enterprises/import", csv_upload(text), page="/admin/enterprises/import",
                    content_type="multipart/form-data")
    assert response.status_code == 303
    with app.app_context():
        assert Enterprise.by_code("5001960998").qualified is False
        assert Enterprise.by_code("5001960123").credit_grade == "general_certified"
    assert "enterprise.credit_grade" in audit_actions(app)


# Announcements

def test_port_admin_publishes_a_pinned_announcement_shown_first_on_home(port_admin, auth, app, client):
    response = post(port_admin, auth, "/admin/announcements/new",
                    {"title": "春节期间值班安排", "body": "详见通知", "port_code": "8000", "pinned": "y"})
    assert response.status_code == 303
    rows = client.get("/").get_data(as_text=True).split('id="announcements"')[1]
    assert rows.index("春节期间值班安排") < rows.index("2027年口岸工作日历为暂定日历")
    with app.app_context():
        entry = db.session.execute(select(AuditEntry).where(AuditEntry.action == "announcement.create")).scalar_one()
        assert entry.port_code == "8000"


def test_scheduled_and_withdrawn_announcements_are_not_shown(port_admin, auth, app, client):
    post(port_admin, auth, "/admin/announcements/new",
         {"title": "明年的公告", "port_code": "8000", "shown_from": "2027-01-01T00:00"})
    post(port_admin, auth, "/admin/announcements/new", {"title": "将撤回的公告", "port_code": "8000"})
    assert "明年的公告" not in client.get("/").get_data(as_text=True)
    with app.app_context():
        withdrawn_id = db.session.execute(select(Announcement.id).where(Announcement.title == "将撤回的公告")).scalar()
    assert "将撤回的公告" in client.get("/").get_data(as_text=True)
    post(port_admin, auth, f"/admin/announcements/{withdrawn_id}/withdraw", {}, page="/admin/announcements")
    assert "将撤回的公告" not in client.get("/").get_data(as_text=True)


def test_refused_announcement_keeps_the_text(port_admin, auth):
    response = post(port_admin, auth, "/admin/announcements/new",
                    {"title": "标题", "body": "正文", "port_code": "8000", "shown_from": "2027-01-02T00:00",
                     "shown_until": "2027-01-01T00:00"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "结束展示时间应晚于开始展示时间" in page and "正文" in page


def test_port_admin_cannot_publish_site_wide_or_for_another_port(port_admin, auth, app):
    assert post(port_admin, auth, "/admin/announcements/new", {"title": "x", "port_code": ""}).status_code == 403
    assert post(port_admin, auth, "/admin/announcements/new", {"title": "x", "port_code": "4200"}).status_code == 403
    assert post(port_admin, auth, "/admin/announcements/new", {"title": "x", "port_code": "99"}).status_code == 404
    with app.app_context():
        site_wide = db.session.execute(select(Announcement.id).where(Announcement.port_code.is_(None))).scalars().first()
    assert port_admin.get(f"/admin/announcements/{site_wide}").status_code == 403


# Site settings

def test_site_settings_name_the_site_in_header_title_and_footer(site_admin, auth, client):
    page = client.get("/").get_data(as_text=True)
    assert "<title>首页 - 预约通关</title>" in page and "中国国际贸易单一窗口" not in page
    response = post(site_admin, auth, "/admin/settings", {"site_name": "重庆口岸预约通关", "port_name": "重庆关区",
                                                          "contact_phone": "023-12345678"})
    assert response.status_code == 303
    page = client.get("/").get_data(as_text=True)
    assert "<title>首页 - 重庆口岸预约通关 · 重庆关区</title>" in page
    assert 'class="brand-cn">重庆口岸预约通关<' in page and "023-12345678" in page.split('id="footer"')[1]


def test_site_settings_refuse_a_bad_telephone_keeping_the_names(site_admin, auth):
    response = post(site_admin, auth, "/admin/settings", {"site_name": "我的口岸", "contact_phone": "call me"})
    assert response.status_code == 400 and "联系电话只能包含" in response.get_data(as_text=True)
    assert 'value="我的口岸"' in response.get_data(as_text=True)


# Timetables

def _timetable_id(app, port="8000", mode="air", direction="import"):
    with app.app_context():
        return db.session.execute(select(Timetable.id).where(Timetable.port_code == port, Timetable.mode == mode,
                                                             Timetable.direction == direction)).scalar()


def _grid_form(page):
    """The timetable editor's fields as the browser would send them (inputs and textareas)."""
    import re

    data = dict(re.findall(r'<input type="(?:text|hidden|date)"[^>]*name="([^"]+)" value="([^"]*)"', page))
    data.update(re.findall(r'<textarea[^>]*name="([^"]+)"[^>]*>([^<]*)</textarea>', page))
    data.update(re.findall(r'<input type="(?:text|date)" id="([^"]+)" name="[^"]+" value="([^"]*)"', page))
    data.pop("csrf_token", None)
    return data


def test_port_admin_edits_a_step_and_the_public_page_shows_it(port_admin, auth, app, client):
    timetable_id = _timetable_id(app)
    path = f"/admin/ports/8000/timetables/{timetable_id}"
    data = _grid_form(port_admin.get(path).get_data(as_text=True))
    assert data["row-0-step"] == "舱单申报"
    data["row-0-content"] = "航班抵达前，航空公司发送舱单（已修订）。"
    response = post(port_admin, auth, path, data)
    assert response.status_code == 303, response.get_data(as_text=True)
    public = client.get("/timetables/8000").get_data(as_text=True)
    assert "航空公司发送舱单（已修订）" in public and "货物卸机" in public
    assert "timetable.update" in audit_actions(app)


def test_port_admin_adds_a_mode_and_direction(port_admin, auth, app):
    response = post(port_admin, auth, "/admin/ports/0400/timetables",
                    {"mode": "rail", "direction": "export", "title": "铁路口岸出口作业时间表"})
    assert response.status_code == 303
    assert _timetable_id(app, "0400", "rail", "export")


def test_another_ports_timetables_are_refused(client, auth, app):
    with app.app_context():
        admin = User(username="admin-0400", display_name="admin-0400", role="admin", ports=[db.session.get(Port, "0400")])
        admin.set_password("demo1234")
        db.session.add(admin)
        db.session.commit()
    auth.login("admin-0400")
    timetable_id = _timetable_id(app)
    assert client.get("/admin/ports/8000/timetables").status_code == 403
    assert client.get(f"/admin/ports/8000/timetables/{timetable_id}").status_code == 403
    assert client.get(f"/admin/ports/0400/timetables/{timetable_id}").status_code == 404
    assert client.get("/admin/ports/9999/timetables").status_code == 404
    response = post(client, auth, "/admin/announcements/new", {"title": "x", "port_code": "8000"})
    assert response.status_code == 403


# Catalogue uploads

def test_hs_upload_with_one_bad_line_imports_nothing_and_names_it(site_admin, auth, app):
    text = "code,name,note\n9999999901,新商品,\n12345,坏行,\n"
    response = post(site_admin, auth, "/admin/catalogue/hs", csv_upload(text), content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "第3行" in page and "12345" in page
    with app.app_context():
        assert db.session.get(HSCode, "9999999901") is None


def test_hs_upload_summarises_added_and_updated(site_admin, auth, app):
    text = "code,name,note\n9999999901,新商品,\n2006001000,蜜枣（更新）,\n"
    response = post(site_admin, auth, "/admin/catalogue/hs", csv_upload(text), content_type="multipart/form-data")
    assert response.status_code == 303
    assert "新增1条，更新1条" in site_admin.get(response.location).get_data(as_text=True)
    with app.app_context():
        assert db.session.get(HSCode, "2006001000").name == "蜜枣（更新）"
    assert "catalogue.hs.import" in audit_actions(app)


def test_declaration_records_upload(site_admin, auth, app):
    text = ("number,consignee_code,declaration_port,entry_port,direction,declared_on\n"
            "800020261000000001,5001960123,8000,8000,I,2026-11-20\n")
    response = post(site_admin, auth, "/admin/catalogue/records", csv_upload(text), content_type="multipart/form-data")
    assert response.status_code == 303
    with app.app_context():
        assert db.session.get(DeclarationRecord, "800020261000000001").direction == "I"


def test_hs_upload_of_ten_thousand_lines(site_admin, auth, app):
    text = "code,name,note\n" + "".join(f"0{n:09d},商品{n},\n" for n in range(10_000))
    response = post(site_admin, auth, "/admin/catalogue/hs", csv_upload(text), content_type="multipart/form-data")
    assert response.status_code == 303
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(HSCode).where(HSCode.name.startswith("商品"))).scalar() >= 10_000


# 操作日志

def test_audit_page_filters_and_port_admins_see_only_their_ports(site_admin, auth, app, client):
    post(site_admin, auth, "/admin/announcements/new", {"title": "全站公告", "port_code": ""})
    post(site_admin, auth, "/admin/announcements/new", {"title": "天津公告", "port_code": "4200"})
    post(site_admin, auth, "/admin/announcements/new", {"title": "重庆公告", "port_code": "8000"})
    page = client.get("/admin/audit?action=announcement").get_data(as_text=True)
    assert page.count("announcement.create") >= 3
    page = client.get("/admin/audit?port=8000").get_data(as_text=True)
    assert "重庆公告" in page and "天津公告" not in page
    assert client.get("/admin/audit?date_from=2026-13-01").status_code == 400
    auth.logout()
    auth.login("demo-admin")
    page = client.get("/admin/audit").get_data(as_text=True)
    assert "重庆公告" in page and "天津公告" not in page and "全站公告" not in page


# English names

def test_english_names_show_in_the_english_interface(site_admin, auth, app, client):
    response = post(site_admin, auth, "/admin/settings/names", {"port-8000": "Chongqing Customs", "mode-5": "Air"})
    assert response.status_code == 303
    token = auth.csrf_token_from("/")
    client.post("/lang", data={"lang": "en", "next": "/", "csrf_token": token})
    assert "Chongqing Customs" in client.get("/timetables").get_data(as_text=True)
    auth.logout()
    auth.login("demo-general")
    client.post("/lang", data={"lang": "en", "next": "/", "csrf_token": auth.csrf_token_from("/")})
    page = client.get("/apply/new").get_data(as_text=True)
    assert "8000 Chongqing Customs" in page and "5 Air" in page
    client.post("/lang", data={"lang": "zh_CN", "next": "/", "csrf_token": auth.csrf_token_from("/")})
    assert "8000 重庆关区" in client.get("/apply/new").get_data(as_text=True)
    assert "names.update" in audit_actions(app)
