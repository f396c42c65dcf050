"""In real Chromium, with JavaScript on and off: a site administrator publishes an announcement, registers an
enterprise and its operator; the operator must change the given password, then sees the home page and 预约申请."""
from tests.conftest import browser_login
from tests.test_admin_registry import valid_uscc


def test_announcement_enterprise_operator_first_login(page):
    browser_login(page, "demo-site-admin")
    page.goto("/admin/announcements/new")
    page.get_by_label("公告标题").fill("元旦期间预约通关安排")
    page.get_by_label("公告内容").fill("元旦期间照常受理预约通关申请。")
    page.get_by_role("button", name="发布").click()
    page.wait_for_url("**/admin/announcements")

    page.goto("/admin/enterprises/new")
    page.get_by_label("海关编码").fill("5001960988")
    page.get_by_label("统一社会信用代码").fill(valid_uscc("91500000MA5U7X8Q0"))
    page.get_by_label("检验检疫编码").fill("5000600088")
    page.get_by_label("企业名称", exact=True).fill("重庆浏览器测试贸易有限公司")
    page.get_by_label("企业信用等级").select_option(label="一般认证企业")
    page.get_by_role("button", name="保存").click()
    assert page.get_by_role("status").filter(has_text="已保存").is_visible()

    page.get_by_role("link", name="为该企业新增操作员").click()
    assert page.get_by_label("所属企业").input_value() == "5001960988"
    page.get_by_label("用户名").fill("op-browser")
    page.get_by_label("初始密码").fill("given-pass-1")
    page.get_by_role("button", name="创建").click()
    assert page.get_by_role("status").filter(has_text="首次登录时须修改密码").is_visible()
    page.get_by_role("button", name="退出").click()
    page.wait_for_url("**/login")

    browser_login(page, "op-browser", "given-pass-1")
    page.wait_for_url("**/password")
    page.goto("/apply/new")
    assert "/password" in page.url
    page.get_by_label("旧密码").fill("given-pass-1")
    page.get_by_label("新密码", exact=True).fill("my-own-pass-1")
    page.get_by_label("确认新密码").fill("my-own-pass-1")
    page.get_by_role("button", name="确认修改").click()
    page.wait_for_url("**/")
    assert page.locator("#announcements").get_by_text("元旦期间预约通关安排").is_visible()
    page.get_by_role("link", name="预约申请").first.click()
    page.wait_for_url("**/apply/new")
    assert page.locator("#header").get_by_text("重庆浏览器测试贸易有限公司").is_visible()
