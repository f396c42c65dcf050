"""In real Chromium, with JavaScript on and off: login → home → logout, and a wrong password."""
from tests.conftest import browser_login


def test_login_home_logout(page):
    browser_login(page, "demo-general")
    assert page.get_by_role("heading", name="系统公告").is_visible()
    assert page.get_by_role("link", name="预约申请").first.is_visible()
    assert page.locator("#header").inner_text().count("重庆渝丰进出口贸易有限公司") == 1
    page.get_by_role("button", name="退出").click()
    page.wait_for_url("**/login")
    assert page.get_by_label("用户名").is_visible()
    page.goto("/")
    assert "/login" in page.url


def test_wrong_password_says_so_without_saying_which_half(page):
    browser_login(page, "demo-general", "not-the-password")
    assert page.get_by_role("alert").filter(has_text="用户名或密码错误，请重新输入").is_visible()
    assert page.get_by_label("用户名").input_value() == "demo-general"
    assert "/login" in page.url


def test_language_switch(page):
    browser_login(page, "demo-advanced")
    page.get_by_role("button", name="English").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="Announcements").is_visible()
    page.get_by_role("button", name="中文").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="系统公告").is_visible()
