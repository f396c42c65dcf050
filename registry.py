"""Rules of the 口岸管理 registry: enterprises, users, announcements, site settings, catalogue lines.

rules.py's companion for the administrators' screens, under the same terms: plain values in, `rules.Refusal`s out,
no Flask and no SQLAlchemy. Kept in its own module so the admin console grows without crowding the application rules.
"""
from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date, datetime

import rules
from rules import N_, Message, Refusal

MIN_PASSWORD = 8
MAX_USERNAME = 64
_USERNAME = re.compile(r"[A-Za-z0-9_.@-]{1,64}")
_PHONE = re.compile(r"[0-9+() -]{0,30}")

ENTERPRISE_LABELS = {
    "customs_code": N_("海关编码"),
    "uscc": N_("统一社会信用代码"),
    "inspection_code": N_("检验检疫编码"),
    "name": N_("企业名称"),
    "credit_grade": N_("企业信用等级"),
    "qualified": N_("报关资质"),
}
ENTERPRISE_CSV_COLUMNS = ("customs_code", "uscc", "inspection_code", "name", "credit_grade", "qualified")
_YES = {"yes", "y", "true", "1", "是", "有"}
_NO = {"no", "n", "false", "0", "否", "无"}

# Site settings: key -> label. A setting left empty falls back to the neutral default (base.html).
SETTING_LABELS = {
    "site_name": N_("网站名称"),
    "site_name_en": N_("网站英文名称"),
    "port_name": N_("运营口岸名称"),
    "port_name_en": N_("运营口岸英文名称"),
    "contact_phone": N_("联系电话"),
}
DEFAULT_SITE_NAME = N_("预约通关")
MAX_SETTING = 200


def _refusal(text, field=None, code="invalid", **params):
    return Refusal(text=text, params=params, code=code, field=field)


def _label(name):
    return Message(text=ENTERPRISE_LABELS[name])


def credit_grade_code(typed) -> str | None:
    """The stored grade for a typed grade: its code (general_credit) or its Chinese label (一般信用企业)."""
    typed = (typed or "").strip()
    if typed in rules.CREDIT_GRADE_LABELS:
        return typed
    return next((code for code, label in rules.CREDIT_GRADE_LABELS.items() if label == typed), None)


def yes_no(typed) -> bool | None:
    """A typed yes/no (是/否, yes/no, 1/0), or None when it is neither."""
    typed = (typed or "").strip().lower()
    return True if typed in _YES else False if typed in _NO else None


@dataclass(frozen=True)
class EnterpriseEntry:
    """An enterprise as typed on the form or a CSV line, normalised (codes upper-case, grade as its code)."""

    customs_code: str
    uscc: str
    inspection_code: str
    name: str
    credit_grade: str
    qualified: bool | None

    @classmethod
    def from_values(cls, values: Mapping):
        text = {k: (values.get(k) or "").strip() for k in ENTERPRISE_CSV_COLUMNS if k != "qualified"}
        qualified = values.get("qualified")
        return cls(
            customs_code=text["customs_code"].upper(),
            uscc=text["uscc"].upper(),
            inspection_code=text["inspection_code"],
            name=text["name"],
            credit_grade=credit_grade_code(text["credit_grade"]) or text["credit_grade"],
            qualified=qualified if isinstance(qualified, bool) else yes_no(qualified),
        )


def check_enterprise(entry: EnterpriseEntry, customs_codes_taken: Collection[str],
                     usccs_taken: Collection[str]) -> list[Refusal]:
    """Why this enterprise cannot be stored: codes malformed or held by another enterprise, name or grade missing."""
    refusals = [_refusal(N_("请填写%(label)s。"), name, "required", label=_label(name))
                for name in ("customs_code", "uscc", "credit_grade") if not getattr(entry, name)]
    if not entry.customs_code:
        pass
    elif not rules.is_customs_code(entry.customs_code):
        refusals.append(_refusal(N_("海关编码 %(value)s 应为10位数字或大写字母，例如 130198004Y。"), "customs_code",
                                 value=entry.customs_code))
    elif entry.customs_code in customs_codes_taken:
        refusals.append(_refusal(N_("海关编码 %(value)s 已属于另一家企业，请核对。"), "customs_code", "taken",
                                 value=entry.customs_code))
    if not entry.uscc:
        pass
    elif not rules.is_uscc(entry.uscc):
        refusals.append(_refusal(
            N_("统一社会信用代码 %(value)s 无效：应为18位（数字和除I、O、S、V、Z外的大写字母），且校验位正确。"), "uscc",
            value=entry.uscc))
    elif entry.uscc in usccs_taken:
        refusals.append(_refusal(N_("统一社会信用代码 %(value)s 已属于另一家企业，请核对。"), "uscc", "taken",
                                 value=entry.uscc))
    if entry.inspection_code and not rules.is_inspection_code(entry.inspection_code):
        refusals.append(_refusal(N_("检验检疫编码 %(value)s 应为10位数字。"), "inspection_code",
                                 value=entry.inspection_code))
    if not entry.name:
        refusals.append(_refusal(N_("请填写%(label)s。"), "name", "required", label=_label("name")))
    elif len(entry.name) > 200:
        refusals.append(_refusal(N_("企业名称不能超过200个字符。"), "name"))
    if entry.credit_grade and entry.credit_grade not in rules.CREDIT_GRADE_LABELS:
        refusals.append(_refusal(
            N_("企业信用等级 %(value)s 无效，应为高级认证企业、一般认证企业、一般信用企业或失信企业之一。"),
            "credit_grade", value=entry.credit_grade))
    if entry.qualified is None:
        refusals.append(_refusal(N_("报关资质应填写“是”或“否”。"), "qualified"))
    return refusals


def line_refusal(line: int, refusals: list[Refusal]) -> Refusal:
    """One refusal naming a CSV line and every reason it was refused."""
    return Refusal(text=N_("第%(line)d行：%(reasons)s"), code="line", field=None,
                   params={"line": line, "reasons": _Joined(parts=tuple(refusals))})


@dataclass(frozen=True, kw_only=True)
class _Joined(Message):
    """Several messages shown as one, each translated."""

    text: str = ""
    parts: tuple = ()

    def render(self, gettext=None) -> str:
        return " ".join(part.render(gettext) for part in self.parts)


def check_enterprise_csv(rows: list[Mapping], existing_usccs: Mapping[str, str]) -> tuple[list[EnterpriseEntry], list[Refusal]]:
    """Check every line of an enterprise CSV (line 1 is the header): (entries, refusals naming each bad line).

    A line whose customs code exists updates that enterprise; its USCC may then be its own (``existing_usccs``
    maps each stored USCC to its holder's customs code). Codes repeated within
    the file are refused on the later line.
    """
    entries, refusals = [], []
    seen_customs, seen_uscc = set(), set()
    for line, row in enumerate(rows, start=2):
        if None in row:
            refusals.append(line_refusal(line, [_refusal(N_("列数多于表头的%(count)d列。"), count=len(ENTERPRISE_CSV_COLUMNS))]))
            continue
        entry = EnterpriseEntry.from_values(row)
        usccs_taken = {u for u, owner in existing_usccs.items() if owner != entry.customs_code} | seen_uscc
        problems = check_enterprise(entry, seen_customs, usccs_taken)
        if problems:
            refusals.append(line_refusal(line, problems))
        else:
            entries.append(entry)
        seen_customs.add(entry.customs_code)
        seen_uscc.add(entry.uscc)
    return entries, refusals


def missing_columns(header: Collection[str] | None, wanted: Collection[str]) -> list[Refusal]:
    """A refusal when a CSV's header lacks columns (the file's first line names them)."""
    missing = [c for c in wanted if c not in set(header or ())]
    if not missing:
        return []
    return [_refusal(N_("文件第1行应为表头，缺少列：%(columns)s。表头应为：%(header)s"), "file", "header",
                     columns=", ".join(missing), header=",".join(wanted))]


# Users

def check_new_user(username: str, role: str, password: str, enterprise_found: bool, port_codes: Collection[str],
                   username_taken: bool) -> list[Refusal]:
    """Why this user cannot be created: name malformed or taken, role unknown, enterprise or ports missing."""
    refusals = []
    if not _USERNAME.fullmatch(username or ""):
        refusals.append(_refusal(N_("用户名应为1至64位字母、数字或 _ . @ -。"), "username"))
    elif username_taken:
        refusals.append(_refusal(N_("用户名 %(value)s 已被使用，请换一个。"), "username", "taken", value=username))
    refusals += check_user_scope(role, enterprise_found, port_codes)
    refusals += check_new_password(password)
    return refusals


def check_user_scope(role: str, enterprise_found: bool, port_codes: Collection[str]) -> list[Refusal]:
    """An enterprise operator needs an enterprise; an officer or a port administrator needs at least one port."""
    roles = (rules.ROLE_ENTERPRISE, rules.ROLE_CUSTOMS, rules.ROLE_ADMIN, rules.ROLE_SITE_ADMIN)
    if role not in roles:
        return [_refusal(N_("请选择角色。"), "role", "required")]
    if role == rules.ROLE_ENTERPRISE and not enterprise_found:
        return [_refusal(N_("企业操作员须属于一家已登记的企业：请填写该企业的海关编码或统一社会信用代码。"), "enterprise")]
    if role in (rules.ROLE_CUSTOMS, rules.ROLE_ADMIN) and not port_codes:
        return [_refusal(N_("海关审核员和口岸管理员须至少选择一个口岸。"), "ports")]
    return []


def check_new_password(password: str) -> list[Refusal]:
    """A password an administrator gives must be at least MIN_PASSWORD characters."""
    if len(password or "") < MIN_PASSWORD:
        return [_refusal(N_("密码至少%(min)d个字符。"), "password", min=MIN_PASSWORD)]
    if "\x00" in password:
        # scrypt ignores trailing NUL bytes: "secret\0" would open "secret".
        return [_refusal(N_("密码不能包含空字符，请重新输入。"), "password")]
    return []


# Announcements

def parse_moment(typed) -> datetime | None | bool:
    """A typed date-time (YYYY-MM-DDTHH:MM or YYYY-MM-DD HH:MM or a date): the moment, None if blank, False if bad."""
    typed = (typed or "").strip().replace(" ", "T")
    if not typed:
        return None
    try:
        return datetime.fromisoformat(typed) if "T" in typed else datetime.combine(date.fromisoformat(typed), datetime.min.time())
    except ValueError:
        return False


def check_announcement(title: str, body: str, shown_from, shown_until, typed_from: str, typed_until: str) -> list[Refusal]:
    """Why an announcement cannot be saved: no title, a malformed time, or an end not after its start."""
    refusals = []
    if not (title or "").strip():
        refusals.append(_refusal(N_("请填写公告标题。"), "title", "required"))
    elif len(title) > 200:
        refusals.append(_refusal(N_("公告标题不能超过200个字符。"), "title"))
    if len(body or "") > 20000:
        refusals.append(_refusal(N_("公告内容不能超过20000个字符。"), "body"))
    for name, moment, typed in (("shown_from", shown_from, typed_from), ("shown_until", shown_until, typed_until)):
        if moment is False:
            refusals.append(_refusal(N_("时间 %(value)s 格式不正确，请按 YYYY-MM-DD HH:MM 填写。"), name, value=typed))
    if shown_from and shown_until and shown_until <= shown_from:
        refusals.append(_refusal(N_("结束展示时间应晚于开始展示时间。"), "shown_until"))
    return refusals


def announcement_state(shown_from, shown_until, withdrawn_at, now) -> str:
    """How an announcement stands now: withdrawn, scheduled, expired or live."""
    if withdrawn_at is not None:
        return "withdrawn"
    if shown_from and shown_from > now:
        return "scheduled"
    if shown_until and shown_until <= now:
        return "expired"
    return "live"


ANNOUNCEMENT_STATES = {
    "live": N_("展示中"),
    "scheduled": N_("待发布"),
    "expired": N_("已过期"),
    "withdrawn": N_("已撤回"),
}


# Site settings

def check_settings(values: Mapping[str, str]) -> list[Refusal]:
    """Names at most MAX_SETTING characters; a telephone of digits, spaces, +, -, parentheses."""
    refusals = [_refusal(N_("%(label)s不能超过%(max)d个字符。"), key, label=Message(text=label), max=MAX_SETTING)
                for key, label in SETTING_LABELS.items() if len(values.get(key) or "") > MAX_SETTING]
    if not _PHONE.fullmatch(values.get("contact_phone") or ""):
        refusals.append(_refusal(N_("联系电话只能包含数字、空格和 + - ( )，例如 023-12345678。"), "contact_phone"))
    return refusals


# Catalogue lines

HS_COLUMNS = ("code", "name", "note")
RECORD_COLUMNS = ("number", "consignee_code", "declaration_port", "entry_port", "direction", "declared_on")


def check_hs_line(code: str, name: str, note: str) -> list[Refusal]:
    """An HS catalogue line: a 10-digit code and a name, each within its column."""
    refusals = []
    if not rules.is_hs_code(code):
        refusals.append(_refusal(N_("商品编号 %(value)s 应为10位数字。"), value=code))
    if not name:
        refusals.append(_refusal(N_("缺少商品名称。")))
    elif len(name) > 500 or len(note) > 500:
        refusals.append(_refusal(N_("商品名称和备注各不能超过500个字符。")))
    return refusals


def check_record_line(row: Mapping[str, str]) -> tuple[dict | None, list[Refusal]]:
    """A declaration record line (R20's facts): the values to store, or the reasons it is refused."""
    number = row.get("number", "")
    refusals = []
    if not rules.is_declaration_number(number):
        refusals.append(_refusal(N_("报关单号 %(value)s 应为18位数字。"), value=number))
    if not rules.is_enterprise_code(row.get("consignee_code", "")):
        refusals.append(_refusal(N_("收发货人编码 %(value)s 应为10位海关编码或18位统一社会信用代码。"),
                                 value=row.get("consignee_code", "")))
    for name in ("declaration_port", "entry_port"):
        if not rules.is_port_code(row.get(name, "")):
            refusals.append(_refusal(N_("口岸代码 %(value)s 应为4位数字。"), value=row.get(name, "")))
    direction = {"I": rules.IMPORT, "E": rules.EXPORT, "进口": rules.IMPORT, "出口": rules.EXPORT}.get(row.get("direction", ""))
    if direction is None:
        refusals.append(_refusal(N_("进出口标识应为 I（进口）或 E（出口）。")))
    try:
        declared_on = date.fromisoformat(row.get("declared_on", ""))
    except ValueError:
        declared_on = None
        refusals.append(_refusal(N_("申报日期 %(value)s 应按 YYYY-MM-DD 填写。"), value=row.get("declared_on", "")))
    if refusals:
        return None, refusals
    return {"number": number, "consignee_code": row["consignee_code"].upper(), "declaration_port": row["declaration_port"],
            "entry_port": row["entry_port"], "direction": direction, "declared_on": declared_on}, []


# Operation timetables (seed 003): edited as a flat grid of rows, rebuilt into phases → groups → steps.

TIMETABLE_ROW_FIELDS = ("order", "phase", "group", "step", "units", "content", "time_limit", "note")
_HOURS = re.compile(r"([0-9]+(?:\.[0-9]+)?)\s*小时")


def timetable_grid(phases) -> list[dict]:
    """A timetable's phases as flat rows (a step's extra rows have no step name), numbered in order."""
    grid = []
    for phase in phases:
        for group in phase["groups"]:
            for step in group["steps"]:
                for index, part in enumerate([step] + step.get("rows", [])):
                    grid.append({
                        "order": str(len(grid) + 1), "phase": phase["name"], "group": group["name"],
                        "step": step["name"] if index == 0 else "", "units": part.get("units", ""),
                        "content": part.get("content", ""), "time_limit": part.get("time_limit", ""),
                        "note": part.get("note", ""),
                        "shares": ",".join(k for k in ("shares_limit_with", "shares_note_with", "shares_units_with")
                                           if part.get(k)),
                    })
    return grid


def _order(row):
    try:
        return float(row.get("order") or "inf")
    except ValueError:
        return float("inf")


def check_timetable_grid(rows: list[dict]) -> tuple[list[dict], list[Refusal]]:
    """The grid's non-blank rows in their 排序 order, or why it cannot be published (each row named by its 排序)."""
    kept = sorted((r for r in rows if any((r.get(k) or "").strip() for k in TIMETABLE_ROW_FIELDS[1:])), key=_order)
    refusals = []
    for number, row in enumerate(kept, start=1):
        missing = [label for key, label in (("phase", N_("主要环节")), ("group", N_("环节")), ("content", N_("主要作业内容")))
                   if not (row.get(key) or "").strip()]
        if missing:
            refusals.append(_refusal(N_("第%(row)d行缺少%(fields)s。"), "rows", "required", row=number,
                                     fields=_Joined(parts=tuple(Message(text=m) for m in missing))))
    if kept and not (kept[0].get("step") or "").strip():
        refusals.append(_refusal(N_("第1行须填写步骤名称（没有步骤名称的行接在上一步骤之下）。"), "rows", "required"))
    return kept, refusals


def timetable_phases(rows: list[dict]) -> list[dict]:
    """Rebuild phases → groups → steps from checked grid rows; steps are numbered 1, 2, … in order."""
    phases, number = [], 0
    for row in rows:
        text = {k: (row.get(k) or "").strip() for k in TIMETABLE_ROW_FIELDS}
        shares = {k: True for k in (row.get("shares") or "").split(",") if k}
        part = {"units": text["units"], "content": text["content"], "time_limit": text["time_limit"], "note": text["note"]}
        for key in shares:
            # A merged cell stays merged only while the row leaves that cell empty.
            cell = {"shares_limit_with": "time_limit", "shares_note_with": "note", "shares_units_with": "units"}[key]
            if not part[cell]:
                part[key] = number
        if not phases or phases[-1]["name"] != text["phase"]:
            phases.append({"name": text["phase"], "groups": []})
        groups = phases[-1]["groups"]
        if not groups or groups[-1]["name"] != text["group"] or text["step"] and not groups[-1]["steps"]:
            groups.append({"name": text["group"], "steps": []})
        steps = groups[-1]["steps"]
        if text["step"] or not steps:
            number += 1
            steps.append({"no": number, "name": text["step"], **part})
        else:
            steps[-1].setdefault("rows", []).append(part)
    return phases


def timetable_totals(typed: str) -> list[dict]:
    """合计用时 lines typed as "label | value", one a line; the hours are read from the value (e.g. 4小时内完成)."""
    totals = []
    for line in (typed or "").splitlines():
        if not line.strip():
            continue
        label, _, value = line.partition("|")
        hours = _HOURS.search(value)
        totals.append({"label": label.strip(), "value": value.strip(),
                       "hours": float(hours.group(1)) if hours and "." in hours.group(1) else int(hours.group(1)) if hours else None})
    return totals


def check_timetable_header(title: str, typed_date: str) -> tuple[date | None, list[Refusal]]:
    """A timetable needs a title and a notice date (公示日期)."""
    refusals = []
    if not (title or "").strip():
        refusals.append(_refusal(N_("请填写时间表标题。"), "title", "required"))
    try:
        published_on = date.fromisoformat((typed_date or "").strip())
    except ValueError:
        published_on = None
        refusals.append(_refusal(N_("公示日期 %(value)s 格式不正确，请按 YYYY-MM-DD 填写。"), "published_on", value=typed_date))
    return published_on, refusals
