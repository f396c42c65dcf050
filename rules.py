"""Business rules of appointment clearance (预约通关): plain data in, decisions out.

Rule IDs (R1-R23) refer to ../shared/DOMAIN.md. Nothing here knows about Flask, SQLAlchemy
or the request: the views hand over what the user typed and what the database holds, and
get back values, booleans or `Refusal`s to show.

All datetimes are naive wall-clock times in Asia/Shanghai; China has no daylight saving,
so plain arithmetic on them is exact.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta

import chinese_calendar
import lunardate
from stdnum.cn import uscc as _uscc


def N_(text):
    """Mark a zh_CN source string for extraction (babel keyword); translated later by the view."""
    return text


@dataclass(frozen=True, kw_only=True)
class Message:
    """Something to show the user: an N_-marked template and its named parameters."""

    text: str
    params: dict = field(default_factory=dict)

    def render(self, gettext=None) -> str:
        """Translate the template (and any Message parameters) and fill in the parameters."""
        translate = gettext or (lambda s: s)
        values = {k: v.render(gettext) if isinstance(v, Message) else v for k, v in self.params.items()}
        return translate(self.text) % values


@dataclass(frozen=True, kw_only=True)
class Refusal(Message):
    """A reason the requested action is refused, tied to a form field or to the whole form."""

    code: str
    field: str | None = None


# Notes the system itself writes into an application's history, stored by key (StatusChange.note_key) and worded
# in the reader's language when shown; what a person typed (a 退单 reason, a cancellation) is stored as typed.
SYSTEM_NOTES = {
    "statement_sent": N_("已发送情况说明"),
    "statement_read": N_("情况说明已阅"),
    "paper_entered": N_("纸质申请 %(reference)s，收单日期 %(day)s，由海关录入"),
    "paper_entered_exception": N_("纸质申请 %(reference)s，收单日期 %(day)s，由海关录入；例外受理：%(reason)s"),
}


@dataclass(frozen=True, kw_only=True)
class SystemNote(Message):
    """A history note the system writes: its key in SYSTEM_NOTES and its parameters (plain text, JSON-storable)."""

    key: str


def system_note(key: str, **params) -> SystemNote:
    """The system's note ``key`` (SYSTEM_NOTES) with these parameters."""
    return SystemNote(text=SYSTEM_NOTES[key], params=params, key=key)


def stored_note(key: str | None, params: Mapping | None) -> SystemNote | None:
    """A stored note's key and parameters as a SystemNote to word in the reader's language; None for a note typed
    by a person, or a key this version does not know (then the stored text is shown as it is)."""
    if not key or key not in SYSTEM_NOTES:
        return None
    return system_note(key, **dict(params or {}))


# A save from a form older than what is stored (another tab, another operator): refused, never merged.
STALE_DRAFT = Refusal(
    text=N_("该申请已在其他窗口或由其他操作员修改并保存，本次修改未保存。请先复制需要保留的内容，刷新页面后重新修改。"),
    code="stale",
)
# 提交 refused after the save before it: the draft is kept as saved.
KEPT_AS_DRAFT = Refusal(text=N_("申请未申报，已暂存。请按提示修改后再次提交。"), code="submit.kept_as_draft")


# Statuses: stored codes and the seed's labels.
DRAFT, SUBMITTED, ACCEPTED, APPROVED, CLEARED, RETURNED, CANCELLED, CLEARED_NO_FEEDBACK = (
    "draft", "submitted", "accepted", "approved", "cleared", "returned", "cancelled", "cleared_no_feedback")
STATUS_LABELS = {
    DRAFT: N_("暂存"),
    SUBMITTED: N_("申报"),
    ACCEPTED: N_("已受理"),
    APPROVED: N_("预约成功"),
    CLEARED: N_("通关完成"),
    RETURNED: N_("退单"),
    CANCELLED: N_("已取消"),
    CLEARED_NO_FEEDBACK: N_("通关完成未反馈"),
}

ADVANCED_CERTIFIED, GENERAL_CERTIFIED, GENERAL_CREDIT, DISHONEST = (
    "advanced_certified", "general_certified", "general_credit", "dishonest")
CREDIT_GRADE_LABELS = {
    ADVANCED_CERTIFIED: N_("高级认证企业"),
    GENERAL_CERTIFIED: N_("一般认证企业"),
    GENERAL_CREDIT: N_("一般信用企业"),
    DISHONEST: N_("失信企业"),
}
ADVANCED, GENERAL = "advanced", "general"
GRADE_CLASS_LABELS = {ADVANCED: N_("高级企业"), GENERAL: N_("一般企业"), DISHONEST: N_("失信企业")}
_GRADE_CLASS = {
    ADVANCED_CERTIFIED: ADVANCED,
    GENERAL_CERTIFIED: GENERAL,
    GENERAL_CREDIT: GENERAL,
    DISHONEST: DISHONEST,
}
_CLASS_RANK = {DISHONEST: 0, GENERAL: 1, ADVANCED: 2}

IMPORT, EXPORT = "I", "E"
DIRECTION_LABELS = {IMPORT: N_("进口"), EXPORT: N_("出口")}
# Digit 9 of a declaration number is the I/E flag (R19).
_DIRECTION_FLAG = {IMPORT: "1", EXPORT: "0"}

# The three kinds of goods of 海关总署公告2018年第109号.
REASON_CATEGORIES = {
    "relief": N_("紧急救灾救援物资、危险货物"),
    "perishable": N_("鲜活、冷冻、易变质腐烂货物"),
    "other": N_("其他经海关认可确需紧急验放的货物"),
}

QUERY_APPLICANT, QUERY_CONSIGNEE = "A", "B"
QUERY_CATEGORIES = {QUERY_APPLICANT: N_("A-申请企业"), QUERY_CONSIGNEE: N_("B-收发货人")}

WINDOW = timedelta(hours=2)
FEEDBACK_DAYS = 5
MAX_GOODS_NAME_CHARS = 4000
# Free text is stored as TEXT, so it has a limit of its own: what an officer reads on one page.
MAX_REASON_TEXT_BYTES = 2000  # 预约通关事由, counted as its "(N字节)" counter counts
MAX_STATEMENT_CHARS = 2000  # 情况说明
MAX_NOTE_CHARS = 500  # a 退单 reason, a cancel note
MAX_DECLARATION_NUMBERS = 50
MAX_ATTACHMENTS = 5
MAX_STATEMENT_ATTACHMENTS = 1
MAX_PDF_BYTES = 4 * 1024 * 1024
MAX_PDF_PAGE_BYTES = 200 * 1024
MAX_QUERY_DAYS = 15
PDF_TIME_BUDGET = 3.0
# Longer than any Chinese public holiday (Spring Festival is 9 days), so running out
# means the calendar itself is broken, not that the holiday is long.
MAX_WALK_BACK_DAYS = 60

FIELD_LABELS = {
    "consignee_code": N_("收发货人"),
    "contact_name": N_("联系人姓名"),
    "contact_mobile": N_("联系人手机"),
    "declaration_port": N_("预约申报口岸"),
    "entry_port": N_("预约进出口岸"),
    "transport_mode": N_("运输方式"),
    "start": N_("预约通关时间"),
    "reason_category": N_("预约通关事由类别"),
    "reason_text": N_("预约通关事由"),
    "direction": N_("进出口标识"),
    "goods": N_("商品名称及HS编码"),
    "declaration_numbers": N_("预约通关报关单号"),
    "attachments": N_("随附补充材料"),
    "statement": N_("情况说明"),
}
_CHOSEN_FIELDS = {"declaration_port", "entry_port", "transport_mode", "reason_category", "direction"}

DECLARANT_LABEL = N_("申报单位")
CONSIGNEE_LABEL = N_("收发货人")

PROVISIONAL_NOTE = Message(text=N_(
    "该年度口岸工作日历尚未公布，暂按周一至周五为工作日推算，节假日调整以海关公布为准。"))


def _required(field_name: str) -> Refusal:
    template = N_("请选择%(label)s。") if field_name in _CHOSEN_FIELDS else N_("请填写%(label)s。")
    return Refusal(text=template, params={"label": Message(text=FIELD_LABELS[field_name])},
                   code="required", field=field_name)


def _fmt_dt(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S" if moment.second else "%Y-%m-%d %H:%M")


def _fmt_time(moment: time) -> str:
    return moment.strftime("%H:%M")


def _naive(moment: datetime, name: str) -> datetime:
    # Comparing aware and naive datetimes raises deep inside a rule; fail where the mistake is.
    if moment.tzinfo is not None:
        raise ValueError(f"{name} must be a naive Asia/Shanghai wall-clock datetime")
    return moment


# Codes and their shapes. Character classes are spelled out because \d also matches
# full-width and other Unicode digits.

_CUSTOMS_CODE = re.compile(r"[0-9A-Z]{10}")
_DIGITS = {n: re.compile(r"[0-9]{%d}" % n) for n in (4, 10, 18)}
_MOBILE = re.compile(r"1[3-9][0-9]{9}")
_USCC_CHARS = set("0123456789ABCDEFGHJKLMNPQRTUWXY")
_DIGITS_ONLY = re.compile(r"[0-9]+")


def is_customs_code(s) -> bool:
    """True for a 10-character enterprise customs code of digits and capital letters."""
    return isinstance(s, str) and _CUSTOMS_CODE.fullmatch(s) is not None


def is_uscc(s) -> bool:
    """True for a valid 18-character unified social credit code (GB 32100-2015, check digit included)."""
    # stdnum forgives spaces, dashes and lower case; the form must hold the code exactly.
    return (isinstance(s, str) and len(s) == 18 and set(s) <= _USCC_CHARS
            and _uscc.is_valid(s))


def is_inspection_code(s) -> bool:
    """True for a 10-digit inspection code (检验检疫编码)."""
    return isinstance(s, str) and _DIGITS[10].fullmatch(s) is not None


def is_port_code(s) -> bool:
    """True for a 4-digit customs district / port code (关区代码)."""
    return isinstance(s, str) and _DIGITS[4].fullmatch(s) is not None


def is_mobile(s) -> bool:
    """True for an 11-digit mainland mobile number."""
    return isinstance(s, str) and _MOBILE.fullmatch(s) is not None


# The 商品列表 picker opens once this many digits of an HS code are typed, and lists this many lines at most.
HS_PREFIX_DIGITS = 4
HS_PICKER_LINES = 50


def hs_prefix(typed) -> str | None:
    """The HS prefix to look up in the catalogue for what was typed in 商品HS编码, or None (too short, not digits)."""
    prefix = (typed or "").strip()
    if len(prefix) < HS_PREFIX_DIGITS or len(prefix) > 10 or not _DIGITS_ONLY.fullmatch(prefix):
        return None
    return prefix


def is_hs_code(s) -> bool:
    """True for a 10-digit HS code."""
    return isinstance(s, str) and _DIGITS[10].fullmatch(s) is not None


def is_declaration_number(s) -> bool:
    """True for an 18-digit declaration number (报关单号)."""
    return isinstance(s, str) and _DIGITS[18].fullmatch(s) is not None


def is_enterprise_code(s) -> bool:
    """True for what the 收发货人 box accepts: a customs code or a USCC."""
    return is_customs_code(s) or is_uscc(s)


def pre_entry_number(year: int, sequence: int) -> str:
    """The pre-entry number (预录入编号): "YTG", the 4-digit year, the 11-digit sequence."""
    if not 1000 <= year <= 9999:
        raise ValueError(f"year {year} does not have 4 digits")
    if not 0 <= sequence < 10 ** 11:
        raise ValueError(f"sequence {sequence} does not fit in 11 digits")
    return f"YTG{year:04d}{sequence:011d}"


def byte_length(text) -> int:
    """What the "(N字节)" counter shows: the UTF-8 length of the text."""
    # surrogatepass: a stray surrogate from a broken client must count, not crash the page.
    return len((text or "").encode("utf-8", "surrogatepass"))


# Text as typed, checked before any rule reads it or anything is looked up or written. Control characters have no
# place in a form: PostgreSQL cannot store NUL, and the others (escape sequences, bidirectional overrides) hide or
# disguise what an officer reads. Tabs and line breaks are text only in a box that has lines.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_CONTROL_OR_LINE_BREAK = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
SHOWN_CHARS = 24


def control_characters(text: str, multiline: bool = False) -> list[str]:
    """The distinct control characters in typed text, as U+XXXX, in order of appearance."""
    found = (_CONTROL if multiline else _CONTROL_OR_LINE_BREAK).findall(text or "")
    return [f"U+{ord(c):04X}" for c in dict.fromkeys(found)]


def shown(value: str) -> str:
    """A typed value as a message may quote it: short, control characters made visible as U+FFFD."""
    value = _CONTROL_OR_LINE_BREAK.sub("\ufffd", value or "")
    return value if len(value) <= SHOWN_CHARS else value[:SHOWN_CHARS] + "…"


def check_control_characters(value: str, field_name: str, label: Message, multiline: bool = False) -> list[Refusal]:
    """No control characters in typed text (tabs and line breaks are text where ``multiline``)."""
    found = control_characters(value, multiline)
    if not found:
        return []
    return [Refusal(text=N_("%(label)s含有不可见的控制字符（%(chars)s），请删除后重新输入。"),
                    params={"label": label, "chars": "、".join(found[:5])}, code="typed.control", field=field_name)]


def check_typed_text(value: str, field_name: str, label: Message, limit: int, *, multiline: bool = False,
                     in_bytes: bool = False) -> list[Refusal]:
    """No control characters, at most ``limit`` characters (or UTF-8 bytes, as the "(N字节)" counter counts)."""
    control = check_control_characters(value, field_name, label, multiline)
    if control:
        return control
    size = byte_length(value) if in_bytes else len(value or "")
    if size > limit:
        text = (N_("%(label)s最多%(limit)s字节，当前为%(count)s字节，请精简后重新输入。") if in_bytes
                else N_("%(label)s最多%(limit)s个字符，当前为%(count)s个字符，请精简后重新输入。"))
        return [Refusal(text=text, params={"label": label, "limit": limit, "count": size}, code="typed.too_long",
                        field=field_name)]
    return []


# The dates anyone means on this site. Outside them a date is a slip of the keyboard, and at the very ends of the
# calendar "the day after" or "two hours later" cannot even be computed.
FIRST_DATE, LAST_DATE = date(2000, 1, 1), date(2099, 12, 31)


def check_date_in_range(day: date, field_name: str, label: Message | None = None) -> list[Refusal]:
    """A typed date between FIRST_DATE and LAST_DATE."""
    if FIRST_DATE <= day <= LAST_DATE:
        return []
    return [Refusal(text=N_("%(label)s %(value)s 超出可填写的范围，请填写 %(first)s 至 %(last)s 之间的日期。"),
                    params={"label": label or Message(text=N_("日期")), "value": day.isoformat(),
                            "first": FIRST_DATE.isoformat(), "last": LAST_DATE.isoformat()},
                    code="typed.date_range", field=field_name)]


def appointment_end(start: datetime) -> datetime:
    """The end of the appointment window, always two hours after its start (R7)."""
    return start + WINDOW


# Which published operation timetable (seed 003) an application follows: by transport mode and direction.
_TIMETABLE_MODES = {"5": "air", "3": "rail", "2": "water"}
_TIMETABLE_DIRECTIONS = {IMPORT: "import", EXPORT: "export"}


def timetable_key(transport_mode, direction) -> tuple[str, str] | None:
    """(mode, direction) of the timetable for 航空/铁路/水运 × 进口/出口, or None for other modes."""
    mode, way = _TIMETABLE_MODES.get(transport_mode), _TIMETABLE_DIRECTIONS.get(direction)
    return (mode, way) if mode and way else None


def grade_class(credit_grade) -> str:
    """The class of a credit grade: ADVANCED, GENERAL or DISHONEST (R1)."""
    try:
        return _GRADE_CLASS[credit_grade]
    except KeyError:
        raise ValueError(f"unknown credit grade {credit_grade!r}") from None


def _as_class(grade) -> str:
    return grade if grade in _CLASS_RANK else grade_class(grade)


def applicable_grade(declarant_grade, consignee_grade) -> str:
    """The class that applies to an application: the lower of the two parties' (R2).

    Accepts credit grades or classes.
    """
    return min(_as_class(declarant_grade), _as_class(consignee_grade), key=_CLASS_RANK.__getitem__)


@dataclass(frozen=True)
class EnterpriseInfo:
    """An enterprise as the registry knows it."""

    customs_code: str
    uscc: str
    inspection_code: str
    name: str
    credit_grade: str
    qualified: bool

    @property
    def codes(self) -> frozenset[str]:
        """The codes a user may type for this enterprise."""
        return frozenset(c for c in (self.customs_code, self.uscc) if c)


def application_grade(declarant: EnterpriseInfo, consignee: EnterpriseInfo | None) -> str:
    """The class R12 uses for an application (R2); an unknown consignee counts as general.

    General is the strictest class that may still apply, so a deadline shown before the
    consignee is known never turns out to be too generous.
    """
    return applicable_grade(declarant.credit_grade, consignee.credit_grade if consignee else GENERAL)


# Port working calendars.

DEFAULT_OPENS, DEFAULT_CLOSES = time(9, 0), time(16, 30)


@dataclass(frozen=True)
class OpeningHours:
    """One customs working day at a port and its office hours."""

    day: date
    opens: time
    closes: time


@dataclass(frozen=True)
class PortCalendar:
    """A port's published working calendar (口岸工作日历) for whole years."""

    port_code: str
    days: Mapping[date, OpeningHours]
    covered_years: frozenset[int]
    provisional_years: frozenset[int] = frozenset()

    def covers(self, day: date) -> bool:
        """True when the port has published its calendar for that day's year."""
        return day.year in self.covered_years

    def is_provisional(self, day: date) -> bool:
        """True when that day's year is only a Mon–Fri estimate, not the official calendar."""
        return day.year in self.provisional_years


class UnknownCalendarYear(Exception):
    """chinesecalendar has no holiday data for the year asked."""


def _lunar(year: int, month: int, day: int) -> date:
    return lunardate.LunarDate(year, month, day).to_solar_date()


def statutory_holidays(year: int) -> dict[date, str]:
    """The days off that the law itself fixes (全国年节及纪念日放假办法, as amended in 2024), by date.

    元旦 1-1; 春节 除夕 to 初三; 清明 (the solar term); 劳动节 5-1 and 5-2; 端午 (lunar 5-5); 中秋 (lunar 8-15);
    国庆 10-1 to 10-3. Lunar dates and 清明 are computed. The State Council's yearly notice adds bridging days
    and adjusted working weekends (调休) around these; those cannot be computed and are not guessed here.
    """
    new_year_eve = _lunar(year, 1, 1) - timedelta(days=1)  # 除夕 is the last day of the 12th month, 29th or 30th
    qingming = chinese_calendar.get_solar_terms(date(year, 4, 1), date(year, 4, 10))
    days = {date(year, 1, 1): "元旦"}
    days.update({new_year_eve + timedelta(days=n): "春节" for n in range(4)})
    days.update({day: "清明节" for day, name in qingming if name == "清明"})
    days.update({date(year, 5, 1): "劳动节", date(year, 5, 2): "劳动节"})
    days[_lunar(year, 5, 5)] = "端午节"
    days[_lunar(year, 8, 15)] = "中秋节"
    days.update({date(year, 10, n): "国庆节" for n in (1, 2, 3)})
    return days


def provisional_working_days(year: int, opens: time = DEFAULT_OPENS,
                             closes: time = DEFAULT_CLOSES) -> list[OpeningHours]:
    """A year not yet arranged by the State Council: Monday–Friday minus the statutory holidays (R11–R13 read it
    like any calendar; the caller marks the year provisional). No adjusted working weekend is guessed."""
    off = statutory_holidays(year)
    return [OpeningHours(day, opens, closes) for day in days_of_year(year) if day.weekday() < 5 and day not in off]


def days_of_year(year: int):
    """1 January to 31 December, day by day."""
    day = date(year, 1, 1)
    while day.year == year:
        yield day
        day += timedelta(days=1)


def generate_working_days(year: int, provisional: bool = False, opens: time = DEFAULT_OPENS,
                          closes: time = DEFAULT_CLOSES) -> list[OpeningHours]:
    """The working days of a year from the statutory holidays and adjusted weekends (调休).

    For a year chinesecalendar does not know, raise UnknownCalendarYear, or with provisional=True
    give provisional_working_days (the caller marks the year provisional).
    """
    first = date(year, 1, 1)
    try:
        chinese_calendar.is_workday(first)
        is_workday = chinese_calendar.is_workday
    except NotImplementedError as exc:
        if not provisional:
            raise UnknownCalendarYear(year) from exc
        return provisional_working_days(year, opens, closes)
    return [OpeningHours(day, opens, closes) for day in days_of_year(year) if is_workday(day)]


@dataclass(frozen=True)
class CalendarDay:
    """What a port's calendar says of one day: a working day with its hours (opens set) or a day off, and a note."""

    day: date
    opens: time | None = None
    closes: time | None = None
    note: str = ""

    @property
    def working(self) -> bool:
        return self.opens is not None


@dataclass(frozen=True)
class ArrangedDay:
    """One day of the State Council's arrangement (a holiday-cn entry): off (放假) or an adjusted working day (调休)."""

    day: date
    name: str
    off: bool


def arranged_year(year: int, arranged: Mapping[date, ArrangedDay], usual_hours=(DEFAULT_OPENS, DEFAULT_CLOSES),
                  kept_hours: Mapping[date, tuple[time, time]] | None = None) -> dict[date, CalendarDay]:
    """Every day of a year under an official arrangement: Mon–Fri working, an arranged day off is off, an arranged
    working day (调休, usually a weekend) is working. A day keeps the hours it had (kept_hours), else usual_hours;
    arranged days carry their holiday's name as the note."""
    days, kept_hours = {}, kept_hours or {}
    for day in days_of_year(year):
        entry = arranged.get(day)
        working = not entry.off if entry else day.weekday() < 5
        opens, closes = kept_hours.get(day, usual_hours) if working else (None, None)
        days[day] = CalendarDay(day, opens, closes, entry.name if entry else "")
    return days


def calendar_changes(before: Mapping[date, CalendarDay], after: Mapping[date, CalendarDay]):
    """The days whose state differs, in date order, as (before or None, after) pairs."""
    return [(before.get(day), after[day]) for day in sorted(after) if before.get(day) != after[day]]


HOURS_PATTERN = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
MAX_CALENDAR_NOTE_CHARS = 100
MAX_CALENDAR_RANGE_DAYS = 366


def parse_day_hours(opens_text: str, closes_text: str) -> tuple[time | None, time | None, list[Refusal]]:
    """上班时间/下班时间 typed as HH:MM: the times, or refusals naming the box at fault; opening before closing."""
    times, refusals = {}, []
    for name, label, text in (("opens", N_("上班时间"), opens_text), ("closes", N_("下班时间"), closes_text)):
        match = HOURS_PATTERN.match((text or "").strip())
        if match:
            times[name] = time(int(match.group(1)), int(match.group(2)))
        else:
            refusals.append(Refusal(text=N_("%(label)s “%(value)s” 格式不正确，请按 HH:MM 填写，例如 09:00。"),
                                    params={"label": Message(text=label), "value": text or ""},
                                    code="calendar.bad_time", field=name))
    if not refusals and times["opens"] >= times["closes"]:
        refusals.append(Refusal(text=N_("上班时间 %(opens)s 须早于下班时间 %(closes)s。"),
                                params={"opens": _fmt_time(times["opens"]), "closes": _fmt_time(times["closes"])},
                                code="calendar.closes_first", field="closes"))
    return times.get("opens"), times.get("closes"), refusals


def check_calendar_note(note: str) -> list[Refusal]:
    """A day's note (e.g. 国庆值班) is short text."""
    if len(note) > MAX_CALENDAR_NOTE_CHARS:
        return [Refusal(text=N_("备注最多 %(max)s 个字，现有 %(count)s 个字。"),
                        params={"max": MAX_CALENDAR_NOTE_CHARS, "count": len(note)}, code="calendar.note_long",
                        field="note")]
    return []


def check_calendar_range(first: date | None, last: date | None, covered_years: Collection[int]) -> list[Refusal]:
    """A range of days to change at once: both dates, in order, at most a year, in years the port has a calendar
    for (changing a day of a year without one would leave the rest of that year looking all off)."""
    if first is None or last is None:
        return [Refusal(text=N_("请填写起止日期（YYYY-MM-DD）。"), code="calendar.range_missing", field="last")]
    if last < first:
        return [Refusal(text=N_("结束日期 %(last)s 早于开始日期 %(first)s，请调换。"),
                        params={"first": first.isoformat(), "last": last.isoformat()}, code="calendar.range_order",
                        field="last")]
    if (last - first).days + 1 > MAX_CALENDAR_RANGE_DAYS:
        return [Refusal(text=N_("一次最多修改 %(max)s 天，请缩小日期范围。"), params={"max": MAX_CALENDAR_RANGE_DAYS},
                        code="calendar.range_long", field="last")]
    missing = sorted({year for year in range(first.year, last.year + 1)} - set(covered_years))
    if missing:
        return [Refusal(text=N_("该口岸尚未编制 %(year)s 年的工作日历，请先导入国务院节假日安排或生成暂定日历，再修改其中的日期。"),
                        params={"year": missing[0]}, code="calendar.year_missing", field="first")]
    return []


def build_port_calendar(port_code: str, years, provisional_years=(), opens: time = DEFAULT_OPENS,
                        closes: time = DEFAULT_CLOSES) -> PortCalendar:
    """A port calendar generated from chinesecalendar for the given years (and provisional ones)."""
    provisional_years = frozenset(provisional_years)
    days = {}
    for year in sorted(set(years) | provisional_years):
        for working_day in generate_working_days(year, provisional=year in provisional_years,
                                                 opens=opens, closes=closes):
            days[working_day.day] = working_day
    return PortCalendar(port_code, days, frozenset(years) | provisional_years, provisional_years)


def _no_calendar(calendar: PortCalendar, day: date) -> Refusal:
    # R13: the seed's message first, so people who know the old system recognise it.
    return Refusal(
        text=N_("获取该关区的工作时间表为空：口岸 %(port)s 尚未公布 %(day)s 的工作日历。"
                "请改约已公布工作日历的日期，或联系口岸更新工作日历。"),
        params={"port": calendar.port_code, "day": day.isoformat()},
        code="R13.no_calendar", field="start")


# R12 deadline.

# Hours before the closing time C, by (same port, grade class).
DEADLINE_HOURS = {
    (False, GENERAL): 24,
    (False, ADVANCED): 8,
    (True, GENERAL): 8,
    (True, ADVANCED): 4,
}
# One whole sentence per case so that each translates as a whole.
_DEADLINE_TEMPLATES = {
    (False, GENERAL): N_("最迟提交时间 %(latest)s（申报口岸与进出口岸不同，一般企业，"
                         "最后工作日 %(closes_at)s 下班前%(hours)s小时）"),
    (False, ADVANCED): N_("最迟提交时间 %(latest)s（申报口岸与进出口岸不同，高级企业，"
                          "最后工作日 %(closes_at)s 下班前%(hours)s小时）"),
    (True, GENERAL): N_("最迟提交时间 %(latest)s（申报口岸与进出口岸相同，一般企业，"
                        "最后工作日 %(closes_at)s 下班前%(hours)s小时）"),
    (True, ADVANCED): N_("最迟提交时间 %(latest)s（申报口岸与进出口岸相同，高级企业，"
                         "最后工作日 %(closes_at)s 下班前%(hours)s小时）"),
}


@dataclass(frozen=True)
class Deadline:
    """The latest moment an application for an appointment may be submitted (R12)."""

    latest: datetime
    last_working_day: date
    closes_at: datetime
    hours: int
    same_port: bool
    grade: str
    provisional: bool

    def explain(self) -> Message:
        """The deadline and how it was reached, as one sentence."""
        return Message(text=_DEADLINE_TEMPLATES[(self.same_port, self.grade)],
                       params={"latest": _fmt_dt(self.latest), "closes_at": _fmt_dt(self.closes_at),
                               "hours": self.hours})


def submission_deadline(start: datetime, declaration_calendar: PortCalendar, same_port: bool,
                        grade: str) -> Deadline | Refusal:
    """The R12 deadline for an appointment starting at `start`, or the R13 refusal.

    C is the closing time, at the declaration port, of the last working day that closes at
    or before the start; the deadline is C minus 24/8 h (different ports) or 8/4 h (same port).
    """
    _naive(start, "start")
    grade = _as_class(grade)
    if grade == DISHONEST:
        raise ValueError("a dishonest enterprise has no deadline: it may not apply at all (R3)")
    hours = DEADLINE_HOURS[(bool(same_port), grade)]
    provisional = False
    day = start.date()
    for _ in range(MAX_WALK_BACK_DAYS + 1):
        # R13: every day walked over must be published, or a missing holiday could hide a closer C.
        if not declaration_calendar.covers(day):
            return _no_calendar(declaration_calendar, day)
        provisional = provisional or declaration_calendar.is_provisional(day)
        working_day = declaration_calendar.days.get(day)
        if working_day is not None:
            closes_at = datetime.combine(day, working_day.closes)
            if closes_at <= start:
                return Deadline(latest=closes_at - timedelta(hours=hours), last_working_day=day,
                                closes_at=closes_at, hours=hours, same_port=bool(same_port),
                                grade=grade, provisional=provisional)
        day -= timedelta(days=1)
    return Refusal(
        text=N_("获取该关区的工作时间表为空：口岸 %(port)s 在 %(day)s 之前%(days)s天内没有任何工作日。"
                "请联系口岸更新工作日历。"),
        params={"port": declaration_calendar.port_code, "day": start.date().isoformat(),
                "days": MAX_WALK_BACK_DAYS},
        code="R13.no_working_day", field="start")


def _in_past(start: datetime, now: datetime) -> list[Refusal]:
    if start < now:  # R14
        return [Refusal(text=N_("预约通关时间 %(start)s 已经过去，请选择将来的时间。"),
                        params={"start": _fmt_dt(start)}, code="R14.past", field="start")]
    return []


def _not_on_hour(start: datetime) -> list[Refusal]:
    if (start.minute, start.second, start.microsecond) != (0, 0, 0):  # R7: given to the hour
        return [Refusal(text=N_("预约通关时间须为整点（年 月 日 时），请选择整点的开始时间；"
                                "结束时间由系统自动生成，为开始时间后2小时。"),
                        code="R7.not_on_hour", field="start")]
    return []


def _window_days(start: datetime, end: datetime) -> list[date]:
    # A window ending exactly at midnight only touches the next day, so that day is not needed.
    last = (end - timedelta(microseconds=1)).date()
    days, day = [], start.date()
    while day <= last:
        days.append(day)
        day += timedelta(days=1)
    return days


def _window_conflicts(start: datetime, calendar: PortCalendar) -> list[Refusal]:
    for day in _window_days(start, start + WINDOW):
        if not calendar.covers(day):  # R13
            return [_no_calendar(calendar, day)]
    return _working_hours_overlaps(start, start + WINDOW, calendar)


def _working_hours_overlaps(start: datetime, end: datetime, calendar: PortCalendar) -> list[Refusal]:
    refusals = []
    for day in _window_days(start, end):
        working_day = calendar.days.get(day)
        if working_day is None:
            continue
        opens = datetime.combine(day, working_day.opens)
        closes = datetime.combine(day, working_day.closes)
        # R11: touching an edge (ending at 09:00, starting at 16:30) is not overlapping.
        if start < closes and opens < end:
            refusals.append(Refusal(
                text=N_("预约通关时间必须是海关非工作时间：%(start)s 至 %(end)s 与口岸 %(port)s "
                        "%(day)s 的工作时间 %(opens)s—%(closes)s 重叠。请改约在上班前或下班后的时间。"),
                params={"start": _fmt_dt(start), "end": _fmt_dt(end), "port": calendar.port_code,
                        "day": day.isoformat(), "opens": _fmt_time(working_day.opens),
                        "closes": _fmt_time(working_day.closes)},
                code="R11.working_hours", field="start"))
    return refusals


def working_time_conflicts(start: datetime, end: datetime, calendars: Collection[PortCalendar]) -> list[Refusal]:
    """R11 alone: where a stored window [start, end) now overlaps working hours at any of these ports.

    For listing applications already submitted after a calendar changed; a day a calendar does not cover is
    not working time here (R13 judges a submission, not this list).
    """
    return [refusal for calendar in calendars for refusal in _working_hours_overlaps(start, end, calendar)]


def check_window(start: datetime, declaration_calendar: PortCalendar, entry_calendar: PortCalendar,
                 now: datetime) -> list[Refusal]:
    """Problems with the appointment window itself: R7 on the hour, R11 at both ports, R13, R14."""
    _naive(start, "start")
    _naive(now, "now")
    refusals = _in_past(start, now) + _not_on_hour(start)
    refusals += _window_conflicts(start, declaration_calendar)
    if entry_calendar.port_code != declaration_calendar.port_code:
        refusals += _window_conflicts(start, entry_calendar)
    return refusals


def check_deadline(start: datetime, now: datetime, declaration_calendar: PortCalendar,
                   same_port: bool, grade: str) -> list[Refusal]:
    """R12: refused when `now` is later than the deadline (exactly at the deadline is in time)."""
    _naive(now, "now")
    deadline = submission_deadline(start, declaration_calendar, same_port, grade)
    if isinstance(deadline, Refusal):
        return [deadline]
    if now > deadline.latest:
        return [Refusal(text=N_("预约时间不满足海关规定的时长，请重新修改时间！%(deadline)s"),
                        params={"deadline": deadline.explain()}, code="R12.too_late", field="start")]
    return []


# The application form.

@dataclass
class GoodsRow:
    """One row of 商品名称及HS编码."""

    name: str
    hs_code: str


@dataclass
class ApplicationInput:
    """What the application form holds; attribute names are the form's field names."""

    declarant: EnterpriseInfo
    consignee: EnterpriseInfo | None
    consignee_code: str
    contact_name: str
    contact_mobile: str
    declaration_port: str
    entry_port: str
    transport_mode: str
    start: datetime | None
    reason_category: str
    reason_text: str
    direction: str
    goods: list[GoodsRow]
    declaration_numbers: list[str]
    attachment_count: int


@dataclass
class SubmissionContext:
    """What submitting needs besides the form: the clock, calendars and code tables."""

    now: datetime
    calendars: Mapping[str, PortCalendar]
    port_codes: Collection[str]
    transport_modes: Collection[str]
    hs_codes: Collection[str] | None = None
    # R6 for both parties: the pre-entry numbers of their applications overdue for feedback (or a bare truth value).
    declarant_unfed: Collection[str] | bool = ()
    consignee_unfed: Collection[str] | bool = ()
    # R24: places per hour at the ports of the window, where they are limited (None: not looked up).
    load: HourLoad | None = None


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _dishonest(party_label: str, enterprise: EnterpriseInfo, field_name: str | None) -> Refusal:
    # R3: the seed's popup text first; the rest says who is dishonest.
    if field_name is None:
        text = N_("失信企业不允许操作：%(party)s %(name)s（%(code)s）为失信企业，不能办理预约通关。")
    else:
        text = N_("失信企业不允许操作：%(party)s %(name)s（%(code)s）为失信企业，不能办理预约通关。"
                  "请核对收发货人编码。")
    return Refusal(text=text, params={"party": Message(text=party_label), "name": enterprise.name,
                                      "code": enterprise.customs_code},
                   code="R3.dishonest", field=field_name)


def _unqualified(party_label: str, enterprise: EnterpriseInfo, field_name: str | None) -> Refusal:
    return Refusal(
        text=N_("%(party)s %(name)s（%(code)s）无报关资质，不允许新增预约操作。请先向海关办理报关资质。"),
        params={"party": Message(text=party_label), "name": enterprise.name, "code": enterprise.customs_code},
        code="R4.unqualified", field=field_name)


def _party_checks(a: ApplicationInput, qualification: bool) -> list[Refusal]:
    refusals = []
    if grade_class(a.declarant.credit_grade) == DISHONEST:
        refusals.append(_dishonest(DECLARANT_LABEL, a.declarant, None))
    if qualification and not a.declarant.qualified:
        refusals.append(_unqualified(DECLARANT_LABEL, a.declarant, None))
    code = a.consignee_code
    if _blank(code):
        return refusals
    if not is_enterprise_code(code):
        refusals.append(Refusal(
            text=N_("收发货人编码 %(code)s 格式不正确：应为10位海关编码（数字和大写字母）或18位统一社会信用代码，"
                    "请核对后重新输入。"),
            params={"code": code}, code="invalid.consignee_code", field="consignee_code"))
    elif a.consignee is not None:
        if grade_class(a.consignee.credit_grade) == DISHONEST:
            refusals.append(_dishonest(CONSIGNEE_LABEL, a.consignee, "consignee_code"))
        if qualification and not a.consignee.qualified:
            refusals.append(_unqualified(CONSIGNEE_LABEL, a.consignee, "consignee_code"))
    return refusals


def _check_goods_item(item_no: int, g: GoodsRow, hs_codes: Collection[str] | None,
                      complete: bool) -> list[Refusal]:
    refusals = []
    if complete and _blank(g.name):
        refusals.append(Refusal(text=N_("第%(item)s项商品缺少商品名称，请填写。"),
                                params={"item": item_no}, code="required.goods_name", field="goods"))
    if _blank(g.hs_code):
        if complete:
            refusals.append(Refusal(text=N_("第%(item)s项商品缺少商品HS编码，请填写。"),
                                    params={"item": item_no}, code="required.hs_code", field="goods"))
    elif not is_hs_code(g.hs_code):
        refusals.append(Refusal(
            text=N_("第%(item)s项商品的HS编码 %(hs_code)s 应为10位数字，请从商品列表中选择。"),
            params={"item": item_no, "hs_code": shown(g.hs_code)}, code="invalid.hs_code", field="goods"))
    elif hs_codes is not None and g.hs_code not in hs_codes:
        refusals.append(Refusal(
            text=N_("第%(item)s项商品的HS编码 %(hs_code)s 不在商品归类表中，请从商品列表中选择。"),
            params={"item": item_no, "hs_code": g.hs_code}, code="unknown.hs_code", field="goods"))
    return refusals


def _goods_names_limit(goods: list[GoodsRow]) -> list[Refusal]:
    total = sum(len(g.name or "") for g in goods)
    if total > MAX_GOODS_NAME_CHARS:  # R8
        return [Refusal(
            text=N_("商品名称所有字符长度相加不得超过%(limit)s字符，当前为%(count)s字符，请精简商品名称。"),
            params={"limit": MAX_GOODS_NAME_CHARS, "count": total}, code="R8.names_too_long", field="goods")]
    return []


def _check_goods(goods: list[GoodsRow], hs_codes: Collection[str] | None, complete: bool) -> list[Refusal]:
    refusals = []
    # A row left wholly blank is an unused entry line, not a goods item.
    rows = [(item_no, g) for item_no, g in enumerate(goods, 1) if not (_blank(g.name) and _blank(g.hs_code))]
    for item_no, g in rows:
        refusals += _check_goods_item(item_no, g, hs_codes, complete)
    refusals += _goods_names_limit([g for _, g in rows])
    if complete and not rows:
        refusals.append(Refusal(text=N_("请至少录入一项商品名称及HS编码。"), code="required", field="goods"))
    return refusals


def goods_cell_label(item_no: int, part: str) -> Message:
    """"第N项商品的商品名称" (or another part of the row), for a message about what was typed there."""
    return Message(text=N_("第%(item)s项商品的%(part)s"), params={"item": item_no, "part": Message(text=part)})


def check_goods_row(row: GoodsRow, goods: list[GoodsRow], hs_codes: Collection[str] | None = None) -> list[Refusal]:
    """Whether a goods row may be added (Enter on the entry line): name and HS code, and R8 with it included."""
    control = check_control_characters(row.name, "goods", goods_cell_label(len(goods) + 1, N_("商品名称")))
    return control or (_check_goods_item(len(goods) + 1, row, hs_codes, complete=True)
                       + _goods_names_limit([*goods, row]))


def _too_many_numbers(count: int) -> Refusal:
    return Refusal(text=N_("报关单票数不得超过%(limit)s票，当前为%(count)s票，请删除多余的报关单号。"),
                   params={"limit": MAX_DECLARATION_NUMBERS, "count": count},
                   code="R9.too_many", field="declaration_numbers")


def _duplicate_number(number: str) -> Refusal:
    return Refusal(text=N_("报关单号 %(number)s 重复录入，请删除重复的一条。"),
                   params={"number": number}, code="R9.duplicate", field="declaration_numbers")


def _malformed_number(number: str) -> Refusal:
    return Refusal(text=N_("报关单号 %(number)s 应为18位数字，请核对后重新输入。"),
                   params={"number": shown(number)}, code="R19.format", field="declaration_numbers")


def _check_number_list(numbers: list[str]) -> list[Refusal]:
    # R9, and R19's length check, which needs nothing else from the application.
    refusals = []
    if len(numbers) > MAX_DECLARATION_NUMBERS:
        refusals.append(_too_many_numbers(len(numbers)))
    seen, reported = set(), set()
    for number in numbers:
        if number in seen:
            if number not in reported:
                reported.add(number)
                refusals.append(_duplicate_number(number))
            continue
        seen.add(number)
        if not is_declaration_number(number):
            refusals.append(_malformed_number(number))
    return refusals


def check_number_entry(number: str, numbers: list[str]) -> list[Refusal]:
    """Whether a typed declaration number may be added to the list (Enter): R19 shape, R9 no duplicate, at most 50."""
    if _blank(number):
        return [Refusal(text=N_("请输入预约通关报关单号后再按回车添加。"), code="required",
                        field="declaration_numbers")]
    refusals = []
    if not is_declaration_number(number):
        refusals.append(_malformed_number(number))
    if number in numbers:
        refusals.append(_duplicate_number(number))
    if len(numbers) + 1 > MAX_DECLARATION_NUMBERS:
        refusals.append(_too_many_numbers(len(numbers) + 1))
    return refusals


def _too_many_attachments(count: int, limit: int, field_name: str, names: tuple[str, ...] = ()) -> Refusal:
    params = {"limit": limit, "count": count}
    if len(names) == 1:
        # The file refused is named, so the user knows which one to leave out (or which to delete first).
        text = N_("最多可上传%(limit)s个PDF文件，已有%(existing)s个，文件 %(name)s 未上传。请先删除不需要的文件，再重新选择上传。")
        params.update(existing=count - 1, name=names[0])
    elif names:
        text = N_("最多可上传%(limit)s个PDF文件，已有%(existing)s个，本次选择的 %(added)s 个文件 %(names)s 均未上传。"
                  "请删除不需要的文件或少选几个，再重新选择上传。")
        params.update(existing=count - len(names), added=len(names), names="、".join(names))
    else:
        text = N_("最多可上传%(limit)s个PDF文件，当前共%(count)s个，请删除多余的文件。")
    return Refusal(text=text, params=params, code="R10.too_many", field=field_name)


def _check_formats(a: ApplicationInput, complete: bool, hs_codes=None) -> list[Refusal]:
    refusals = []
    if not _blank(a.contact_mobile) and not is_mobile(a.contact_mobile):
        refusals.append(Refusal(text=N_("联系人手机 %(mobile)s 应为以1开头的11位手机号码，请核对后重新输入。"),
                                params={"mobile": a.contact_mobile}, code="invalid.contact_mobile",
                                field="contact_mobile"))
    for name in ("declaration_port", "entry_port"):
        value = getattr(a, name)
        if not _blank(value) and not is_port_code(value):
            refusals.append(Refusal(text=N_("%(label)s %(code)s 应为4位关区代码，请从列表中选择。"),
                                    params={"label": Message(text=FIELD_LABELS[name]), "code": value},
                                    code=f"invalid.{name}", field=name))
    if not _blank(a.reason_category) and a.reason_category not in REASON_CATEGORIES:
        refusals.append(Refusal(text=N_("请从列表中选择预约通关事由类别。"), code="invalid.reason_category",
                                field="reason_category"))
    if not _blank(a.direction) and a.direction not in DIRECTION_LABELS:
        refusals.append(Refusal(text=N_("进出口标识只能选择进口或出口。"), code="invalid.direction",
                                field="direction"))
    refusals += _check_goods(a.goods, hs_codes, complete)
    refusals += _check_number_list(a.declaration_numbers)
    if a.attachment_count > MAX_ATTACHMENTS:  # R10
        refusals.append(_too_many_attachments(a.attachment_count, MAX_ATTACHMENTS, "attachments"))
    return refusals


def validate_draft(a: ApplicationInput) -> list[Refusal]:
    """What must hold even to save a draft (暂存): filled fields well formed, R3, R7, R8, R9, R10 count."""
    refusals = _party_checks(a, qualification=False)
    if a.start is not None:
        _naive(a.start, "start")
        refusals += _not_on_hour(a.start)
    return refusals + _check_formats(a, complete=False)


def dedupe(refusals: list[Refusal]) -> list[Refusal]:
    """The refusals in order, each once."""
    unique = []
    for refusal in refusals:
        if refusal not in unique:
            unique.append(refusal)
    return unique


def validate_submission(a: ApplicationInput, ctx: SubmissionContext) -> list[Refusal]:
    """Every problem that stops submitting (提交), each tied to its field."""
    _naive(ctx.now, "now")
    refusals = _party_checks(a, qualification=True)
    required = ["consignee_code", "contact_name", "contact_mobile", "declaration_port", "entry_port",
                "transport_mode", "start", "reason_category", "reason_text", "direction"]
    refusals += [_required(name) for name in required if _blank(getattr(a, name))]
    if is_enterprise_code(a.consignee_code) and a.consignee is None:
        refusals.append(Refusal(
            text=N_("收发货人编码 %(code)s 未在企业名录中找到，请核对后重新输入。"),
            params={"code": a.consignee_code}, code="unknown.consignee", field="consignee_code"))

    known_ports = {}
    for name in ("declaration_port", "entry_port"):
        value = getattr(a, name)
        if is_port_code(value):
            if value in ctx.port_codes:
                known_ports[name] = value
            else:
                refusals.append(Refusal(text=N_("%(label)s %(code)s 不是已知的关区代码，请从列表中选择。"),
                                        params={"label": Message(text=FIELD_LABELS[name]), "code": value},
                                        code=f"unknown.{name}", field=name))
    if not _blank(a.transport_mode) and a.transport_mode not in ctx.transport_modes:
        refusals.append(Refusal(text=N_("运输方式 %(code)s 不在运输方式代码表中，请从列表中选择。"),
                                params={"code": a.transport_mode}, code="unknown.transport_mode",
                                field="transport_mode"))

    if a.start is not None:
        _naive(a.start, "start")
        if len(known_ports) == 2:
            def calendar(port):
                # A port that never published a calendar is R13 for every day.
                return ctx.calendars.get(port) or PortCalendar(port, {}, frozenset())
            declaration_calendar = calendar(known_ports["declaration_port"])
            window = check_window(a.start, declaration_calendar, calendar(known_ports["entry_port"]), ctx.now)
            refusals += window
            grade = application_grade(a.declarant, a.consignee)
            # A past start is already refused (R14) and a dishonest party may not apply at
            # all (R3); a deadline on top would only repeat that.
            if grade != DISHONEST and not any(r.code == "R14.past" for r in window):
                same_port = known_ports["declaration_port"] == known_ports["entry_port"]
                refusals += check_deadline(a.start, ctx.now, declaration_calendar, same_port, grade)
            if ctx.load is not None and not window:
                refusals += check_capacity(a.start, known_ports.values(), ctx.load, ctx.calendars)
        else:
            refusals += _in_past(a.start, ctx.now) + _not_on_hour(a.start)

    refusals += _check_formats(a, complete=True, hs_codes=ctx.hs_codes)
    return dedupe(refusals)


def consignee_warnings(consignee: EnterpriseInfo | None) -> list[Refusal]:
    """What the 收发货人 lookup says at once about the enterprise a typed code names, in 提交's words: R3's
    失信企业不允许操作 (the seed's popup on entry) and R4's missing qualification."""
    if consignee is None:
        return []
    refusals = []
    if grade_class(consignee.credit_grade) == DISHONEST:
        refusals.append(_dishonest(CONSIGNEE_LABEL, consignee, "consignee_code"))
    if not consignee.qualified:
        refusals.append(_unqualified(CONSIGNEE_LABEL, consignee, "consignee_code"))
    return refusals


def eligibility_to_start(declarant: EnterpriseInfo, consignee: EnterpriseInfo | None,
                         declarant_unfed, consignee_unfed) -> list[Refusal]:
    """Why a new application (新增) may not be started: R4 qualification, R5/R3 dishonest, R6 unfed.

    Each ``*_unfed`` is the pre-entry numbers of that party's applications overdue for feedback, which the R6
    refusal names, or a bare truth value where they are not known.
    """
    refusals = []
    parties = [(DECLARANT_LABEL, declarant, declarant_unfed, None)]
    if consignee is not None:
        parties.append((CONSIGNEE_LABEL, consignee, consignee_unfed, "consignee_code"))
    for label, enterprise, unfed, field_name in parties:
        if grade_class(enterprise.credit_grade) == DISHONEST:  # R5 via R3
            refusals.append(_dishonest(label, enterprise, field_name))
        if not enterprise.qualified:  # R4
            refusals.append(_unqualified(label, enterprise, field_name))
        if unfed and not isinstance(unfed, bool):  # R6, naming the applications at fault
            refusals.append(Refusal(
                text=N_("%(party)s %(name)s（%(code)s）存在通关完成未反馈的预约申请 %(numbers)s，不允许新增预约操作。"
                        "请先反馈报关单号或发送情况说明。"),
                params={"party": Message(text=label), "name": enterprise.name, "code": enterprise.customs_code,
                        "numbers": "、".join(unfed)},
                code="R6.unfed", field=field_name))
        elif unfed:  # R6
            refusals.append(Refusal(
                text=N_("%(party)s %(name)s（%(code)s）存在通关完成未反馈的预约申请，不允许新增预约操作。"
                        "请先反馈报关单号或发送情况说明。"),
                params={"party": Message(text=label), "name": enterprise.name, "code": enterprise.customs_code},
                code="R6.unfed", field=field_name))
    return refusals


def check_submission(a: ApplicationInput, ctx: SubmissionContext) -> list[Refusal]:
    """Every rule that stops 提交: R3–R6 for both parties, then the whole form (R2, R7–R14)."""
    return (eligibility_to_start(a.declarant, a.consignee, ctx.declarant_unfed, ctx.consignee_unfed)
            + validate_submission(a, ctx))


# Statuses and what may happen in each.

# Who acts on an application. A status change is made by the declarant enterprise, by customs, or by the
# clock alone (R17's overdue feedback is read from the time, never stored).
ROLE_ENTERPRISE, ROLE_CUSTOMS, ROLE_ADMIN = "enterprise", "customs", "admin"
# 系统管理员: everything a port administrator (ROLE_ADMIN, 口岸管理员) may do, for every port, and the registry.
ROLE_SITE_ADMIN = "site_admin"
ADMIN_ROLES = (ROLE_ADMIN, ROLE_SITE_ADMIN)


def may_administer_port(role, own_ports, port_code) -> bool:
    """A site administrator runs every port; a port administrator only the ports assigned to them."""
    return role == ROLE_SITE_ADMIN or (role == ROLE_ADMIN and port_code in set(own_ports))
BY_CLOCK = "clock"


@dataclass(frozen=True)
class Transition:
    """One status change: who may make it and which of the application's timestamps it sets."""

    by: str
    stamps: tuple[str, ...] = ()
    # 提交 gives the application its 申请编号, the pre-entry number it already has.
    numbers_application: bool = False


TRANSITIONS: Mapping[tuple[str, str], Transition] = {
    (DRAFT, SUBMITTED): Transition(ROLE_ENTERPRISE, ("submitted_at",), numbers_application=True),
    (SUBMITTED, ACCEPTED): Transition(ROLE_CUSTOMS, ("accepted_at",)),
    (SUBMITTED, RETURNED): Transition(ROLE_CUSTOMS),
    (ACCEPTED, APPROVED): Transition(ROLE_CUSTOMS, ("approved_at",)),
    (ACCEPTED, RETURNED): Transition(ROLE_CUSTOMS),
    (ACCEPTED, CANCELLED): Transition(ROLE_ENTERPRISE, ("cancelled_at",)),
    (APPROVED, CANCELLED): Transition(ROLE_ENTERPRISE, ("cancelled_at",)),
    (APPROVED, CLEARED): Transition(ROLE_ENTERPRISE),
    (APPROVED, CLEARED_NO_FEEDBACK): Transition(BY_CLOCK),
    # Feedback after the 5 days still clears the application (R17).
    (CLEARED_NO_FEEDBACK, CLEARED): Transition(ROLE_ENTERPRISE),
}


def _moves_by(*actors: str) -> dict[str, frozenset[str]]:
    moves: dict[str, set[str]] = {}
    for (from_status, to_status), transition in TRANSITIONS.items():
        if transition.by in actors:
            moves.setdefault(from_status, set()).add(to_status)
    return {from_status: frozenset(targets) for from_status, targets in moves.items()}


STATUS_MOVES = _moves_by(ROLE_ENTERPRISE, ROLE_CUSTOMS, BY_CLOCK)
CUSTOMS_MOVES = _moves_by(ROLE_CUSTOMS)


def transition(from_status, to_status, by: str) -> Transition:
    """The table's entry for a change made by `by`; a change the table does not give `by` is a programming error."""
    found = TRANSITIONS.get((from_status, to_status))
    if found is None or found.by != by:
        raise ValueError(f"{by} cannot move an application from {from_status} to {to_status}")
    return found


def overdue_before(now: datetime) -> datetime:
    """Approved appointments starting before this are overdue for feedback (R17)."""
    return _naive(now, "now") - timedelta(days=FEEDBACK_DAYS)


def current_status(status, start: datetime | None, now: datetime, statement_sent: bool) -> str:
    """The status as of `now` (R17): computed when asked, so no scheduled job is needed.

    An approved appointment more than 5 days past with no statement sent is 通关完成未反馈;
    a statement settles the missing feedback (R18), so it reads as approved again.
    """
    if status == APPROVED and not statement_sent and start is not None and start < overdue_before(now):
        return CLEARED_NO_FEEDBACK
    if status == CLEARED_NO_FEEDBACK and statement_sent:
        return APPROVED
    return status


# 复制为新申请: customs returned it, or it was cancelled; the declarant starts again from a copy, not from nothing.
COPYABLE_STATUSES = frozenset({RETURNED, CANCELLED})


def can_copy(status) -> bool:
    """Whether the declarant may copy the application as a new draft (复制为新申请)."""
    return status in COPYABLE_STATUSES


# Printouts: the 受理回执 once customs has accepted it; the calendar entry (.ics) only for a confirmed appointment.
RECEIPT_STATUSES = frozenset({ACCEPTED, APPROVED, CLEARED, CLEARED_NO_FEEDBACK})
CALENDAR_STATUSES = frozenset({APPROVED})


def can_print_receipt(status) -> bool:
    """Whether the 受理回执 / appointment confirmation can be printed (customs has accepted the application)."""
    return status in RECEIPT_STATUSES


def can_download_calendar(status) -> bool:
    """Whether the appointment can be downloaded as a calendar entry (.ics): only once approved (预约成功)."""
    return status in CALENDAR_STATUSES


# A draft is the declarant's own until it is submitted: the consignee does not see it.
DECLARANT_ONLY_STATUSES = frozenset({DRAFT})
READ, WRITE = "read", "write"


def enterprise_access(status, *, is_declarant: bool, is_consignee: bool) -> str | None:
    """What an enterprise may do with an application: its declarant writes, its consignee reads once submitted."""
    if is_declarant:
        return WRITE
    if is_consignee and status not in DECLARANT_ONLY_STATUSES:
        return READ
    return None


def officer_may_see(status, application_ports: Collection[str | None], officer_ports: Collection[str]) -> bool:
    """Customs sees a submitted application declared at, or entering through, one of the officer's ports."""
    return status != DRAFT and bool(set(application_ports) & set(officer_ports))


def can_edit(status) -> bool:
    """Only drafts can be changed (R15)."""
    return status == DRAFT


def can_delete(status) -> bool:
    """Only drafts can be deleted, singly or in bulk (R15)."""
    return status == DRAFT


def can_cancel(status, start: datetime | None, now: datetime) -> bool:
    """Cancelling is for accepted or approved appointments that have not started (R16)."""
    return status in (ACCEPTED, APPROVED) and start is not None and now < start


def can_feed_back(status) -> bool:
    """Declaration numbers can be fed back once approved, also after the 5 days (R17)."""
    return status in (APPROVED, CLEARED_NO_FEEDBACK)


def can_send_statement(status, was_approved: bool, statement_sent: bool) -> bool:
    """The situation statement: once, after approval, also when cancelled after approval (R18)."""
    if statement_sent:
        return False
    # Once cleared the numbers are in and there is nothing left to explain.
    return status in (APPROVED, CLEARED_NO_FEEDBACK) or (status == CANCELLED and was_approved)


def check_statement_text(text: str) -> list[Refusal]:
    """R18: a statement must say something (its PDF is optional)."""
    if _blank(text):
        return [Refusal(text=N_("请填写情况说明的内容。"), code="R18.empty", field="statement")]
    return check_typed_text(text, "statement", Message(text=FIELD_LABELS["statement"]), MAX_STATEMENT_CHARS,
                            multiline=True)


def check_note(text: str, field_name: str, label: str) -> list[Refusal]:
    """A 退单 reason, an officer's remark or a cancel note: free text of at most MAX_NOTE_CHARS."""
    return check_typed_text(text, field_name, Message(text=label), MAX_NOTE_CHARS, multiline=True)


def check_feedback_present(numbers: list[str]) -> list[Refusal]:
    """R17: feeding back means at least one declaration number."""
    if not [n for n in numbers if not _blank(n)]:
        return [Refusal(text=N_("请至少录入一个预约通关报关单号后再保存反馈。"), code="R17.none",
                        field="declaration_numbers")]
    return []


ACTIONS = frozenset({"new", "save", "delete", "cancel", "submit", "close", "feedback", "statement"})


def allowed_actions(status, start: datetime | None, now: datetime, was_approved: bool,
                    statement_sent: bool, *, is_declarant: bool = True, may_start: bool = True) -> frozenset[str]:
    """Which buttons are enabled; status None is a form not saved yet.

    Only the declarant acts on an application (the consignee reads it), and a new one needs R3–R6 to
    allow starting (`may_start`).
    """
    actions = {"new", "close"}
    if not is_declarant or (status is None and not may_start):
        return frozenset(actions)
    if status in (None, DRAFT):
        actions |= {"save", "submit"}
    if can_delete(status):
        actions.add("delete")
    current = current_status(status, start, now, statement_sent)
    if can_cancel(current, start, now):
        actions.add("cancel")
    if can_feed_back(current):
        actions.add("feedback")
    if can_send_statement(current, was_approved, statement_sent):
        actions.add("statement")
    return frozenset(actions)


def check_customs_move(from_status, to_status, reason: str = "", start: datetime | None = None,
                       now: datetime | None = None) -> Refusal | None:
    """An officer's decision: 受理 and 退单 from 申报, 预约成功 and 退单 from 已受理; 退单 needs its reason.

    Accepting or approving an appointment whose start has passed would only make it overdue (R17) at
    once, so after the start the officer can only return it.
    """
    if to_status not in CUSTOMS_MOVES.get(from_status, ()):
        return check_move(from_status, to_status) or Refusal(
            text=N_("申请状态为“%(from_status)s”，海关不能改为“%(to_status)s”。请刷新页面查看申请的当前状态。"),
            params={"from_status": Message(text=STATUS_LABELS.get(from_status, str(from_status))),
                    "to_status": Message(text=STATUS_LABELS.get(to_status, str(to_status)))},
            code="status.not_customs")
    if to_status == RETURNED and _blank(reason):
        return Refusal(text=N_("退单须填写退单原因，企业将看到该原因并据此修改。"), code="return.reason_required",
                       field="reason")
    if to_status in (ACCEPTED, APPROVED) and start is not None and now is not None and start <= now:
        return Refusal(text=N_("预约通关时间 %(start)s 已过，不能再受理或批准，请填写原因后退单。"),
                       params={"start": _fmt_dt(start)}, code="review.too_late", field="reason")
    return None


def check_move(from_status, to_status) -> Refusal | None:
    """Refuse a status change the status graph does not have."""
    if to_status in STATUS_MOVES.get(from_status, ()):
        return None
    return Refusal(
        text=N_("申请状态为“%(from_status)s”，不能改为“%(to_status)s”。请刷新页面查看申请的当前状态。"),
        params={"from_status": Message(text=STATUS_LABELS.get(from_status, str(from_status))),
                "to_status": Message(text=STATUS_LABELS.get(to_status, str(to_status)))},
        code="status.not_allowed")


# Declaration numbers fed back.

@dataclass(frozen=True)
class DeclarationFacts:
    """A customs declaration as the system knows it."""

    number: str
    consignee_code: str
    declaration_port: str
    entry_port: str
    declared_on: date


def check_declaration_numbers(numbers: list[str], direction: str, declaration_port: str, entry_port: str,
                              consignee_codes: Collection[str], submitted_at: datetime,
                              records: Mapping[str, DeclarationFacts]) -> list[Refusal]:
    """Each fed-back number against the application: R9 list limits, R19 shape, R20 known records."""
    refusals = _check_number_list(numbers)
    refused_format = {r.params["number"] for r in refusals if r.code == "R19.format"}
    expected_flag = _DIRECTION_FLAG.get(direction)
    submitted_on = _naive(submitted_at, "submitted_at").date()
    checked = set()
    for number in numbers:
        if number in refused_format or number in checked:
            continue
        checked.add(number)

        def mismatch(code, text, **params):
            refusals.append(Refusal(text=text, params={"number": number, **params}, code=code,
                                    field="declaration_numbers"))

        if expected_flag is not None and number[8] != expected_flag:
            mismatch("R19.direction",
                     N_("报关单号 %(number)s 第9位进出口标志为“%(flag)s”（1为进口，0为出口），"
                        "与预约申请的进出口标识“%(expected)s”不一致，请核对报关单号。"),
                     flag=number[8], expected=Message(text=DIRECTION_LABELS[direction]))
        if number[:4] != declaration_port:
            mismatch("R19.port",
                     N_("报关单号 %(number)s 前4位申报海关为 %(actual)s，与预约申报口岸 %(expected)s 不一致，"
                        "请核对报关单号。"),
                     actual=number[:4], expected=declaration_port)
        record = records.get(number)
        if record is None:
            continue
        if record.consignee_code not in consignee_codes:
            mismatch("R20.consignee",
                     N_("报关单 %(number)s 的收发货人为 %(actual)s，与预约申请的收发货人不一致，请核对报关单号。"),
                     actual=record.consignee_code)
        if record.declaration_port != declaration_port:
            mismatch("R20.declaration_port",
                     N_("报关单 %(number)s 的申报口岸为 %(actual)s，与预约申报口岸 %(expected)s 不一致，"
                        "请核对报关单号。"),
                     actual=record.declaration_port, expected=declaration_port)
        if record.entry_port != entry_port:
            mismatch("R20.entry_port",
                     N_("报关单 %(number)s 的进出口岸为 %(actual)s，与预约进出口岸 %(expected)s 不一致，"
                        "请核对报关单号。"),
                     actual=record.entry_port, expected=entry_port)
        # Records carry only a date, so a declaration lodged later on the submission day
        # cannot be told from one lodged earlier; the same day is accepted.
        if record.declared_on < submitted_on:
            mismatch("R20.declared_before_submission",
                     N_("报关单 %(number)s 的申报日期 %(actual)s 早于预约申请单提交日期 %(expected)s；"
                        "报关单申报日期要晚于预约申请单提交日期，请核对报关单号。"),
                     actual=record.declared_on.isoformat(), expected=submitted_on.isoformat())
    return refusals


# PDF attachments (R10).

# Attachment.filename is a String(255); PostgreSQL refuses anything longer.
MAX_FILENAME_CHARS = 255
DEFAULT_FILENAME_STEM = "附件"
# Far above any document an enterprise files with an appointment, far below what strains a reader.
MAX_PDF_PAGES = 500
# Old Internet Explorer sniffs the start of any download for HTML tags and may render it as a page; the
# offices this site serves still run it, so markup where the header lies refuses the file.
_MARKUP = re.compile(rb"<\s*(?:!doctype|html|head|body|script|iframe|svg|object|embed|img|meta|style)[\s>/]",
                     re.IGNORECASE)
# Category C (controls, formats such as the direction marks U+200E/F, U+202A-E, U+2066-9, surrogates,
# private use) and the line and paragraph separators: none belongs in a file name.
_NAME_DROPPED_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


@dataclass(frozen=True, kw_only=True)
class PdfFacts:
    """What reading one PDF found: pdfguard measures these in a worker process, `check_pdf` judges them."""

    readable: bool = True
    encrypted: bool = False
    # The page tree's own claims (/Count, the root's /Kids) and the pages found walking it, which stops
    # past MAX_PDF_PAGES.
    declared_pages: int = 0
    pages: int = 0
    # Each page written out alone as a PDF, in order, as far as measuring got.
    page_sizes: tuple[int, ...] = ()
    # PDF names of the scripts, automatic actions and embedded files found, e.g. ("/JavaScript", "/OpenAction").
    active_content: tuple[str, ...] = ()
    inflates_past_limit: bool = False
    # False: measuring stopped early (its time or memory ran out); the facts above are partial.
    complete: bool = True
    # True: never read, because the request's checking time was spent on the files before it.
    skipped: bool = False


def safe_filename(name: str | None) -> str:
    """R10: an uploaded file's name fit to keep and show to officers.

    No folders (``../``, ``\\``), control characters, NUL or direction marks (with U+202E,
    ``invoice[U+202E]fdp.exe`` shows as ``invoiceexe.pdf``); at most MAX_FILENAME_CHARS characters, keeping
    the extension when shortening. A name with nothing left before its extension becomes 附件 plus that
    extension (附件.pdf when there is none).
    """
    name = unicodedata.normalize("NFC", name or "")
    name = "".join(c for c in name if unicodedata.category(c) not in _NAME_DROPPED_CATEGORIES)
    # Browsers send only the base name, but old Internet Explorer sends the whole Windows path.
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = " ".join(name.split())
    stem, dot, extension = name.rpartition(".")
    if not dot or not extension or len(extension) > 16:
        stem, extension = name, ""
    suffix = f".{extension}" if extension else ""
    # Leading dots hide a file on Unix; trailing dots and spaces vanish on Windows.
    stem = stem.strip(" .")[:MAX_FILENAME_CHARS - len(suffix)].rstrip(" .")
    if not stem:
        return DEFAULT_FILENAME_STEM + (suffix or ".pdf")
    return stem + suffix


def _pdf_refusal(code: str, text: str, filename: str, field_name: str, **params) -> Refusal:
    return Refusal(text=text, params={"filename": filename, **params}, code=code, field=field_name)


def _kb(size: int) -> int:
    return math.ceil(size / 1024)


def check_pdf_bytes(filename: str, data: bytes, *, field: str = "attachments") -> Refusal | None:
    """R10 on the name and the raw bytes alone: a .pdf name, at most 4 MB, a PDF header with no web page around it."""
    if not (filename or "").lower().endswith(".pdf"):
        return _pdf_refusal("R10.not_pdf_name",
                            N_("只可上传后缀名为pdf的文件，%(filename)s 不是PDF文件，请选择PDF文件。"),
                            filename, field)
    if len(data) > MAX_PDF_BYTES:
        return _pdf_refusal("R10.too_large",
                            N_("文件 %(filename)s 大小为%(size_kb)sKB，单个文件大小不能超过4M（4096KB），"
                               "请压缩或拆分后重新上传。"),
                            filename, field, size_kb=_kb(len(data)))
    # The spec lets a little junk precede the header and follow %%EOF; readers allow 1 KB.
    start = data[:1024]
    if b"%PDF-" not in start:
        return _pdf_refusal("R10.not_pdf",
                            N_("文件 %(filename)s 不是PDF文件（只是后缀名为pdf），请导出为PDF后重新上传。"),
                            filename, field)
    if _MARKUP.search(start):
        return _pdf_refusal("R10.polyglot",
                            N_("文件 %(filename)s 在PDF内容之前或开头含有网页代码（HTML或脚本），不予接收；"
                               "请重新导出为PDF后上传。"),
                            filename, field)
    if b"%%EOF" not in data[-1024:]:
        return _unreadable(filename, field)
    return None


def _unreadable(filename: str, field: str) -> Refusal:
    return _pdf_refusal("R10.unreadable", N_("文件 %(filename)s 已损坏或不完整，无法读取，请重新导出为PDF后上传。"),
                        filename, field)


def check_pdf(filename: str, data: bytes, facts: PdfFacts, *, field: str = "attachments") -> Refusal | None:
    """R10 for one upload: a readable, unencrypted PDF of at most 4 MB, MAX_PDF_PAGES pages and no page
    over 200 KB, with no scripts, automatic actions, embedded files or compression bombs.

    `facts` are what pdfguard read from the file (in a worker process; `pdfguard.check_here` reads it in this
    one, for tests and scripts). A page's size is that page written out alone as a PDF.
    """
    refusal = check_pdf_bytes(filename, data, field=field)
    if refusal:
        return refusal
    if facts.skipped:
        return _pdf_refusal("R10.not_checked",
                            N_("文件 %(filename)s 未能检查：本次上传的文件合计检查时间已用完，"
                               "请分几次上传，每次少选几个文件。"),
                            filename, field)
    if not facts.readable:
        return _unreadable(filename, field)
    if facts.encrypted:
        return _pdf_refusal("R10.encrypted", N_("文件 %(filename)s 已加密或设有密码，请去除密码保护后重新上传。"),
                            filename, field)
    if max(facts.declared_pages, facts.pages) > MAX_PDF_PAGES:
        return _pdf_refusal("R10.too_many_pages", N_("文件 %(filename)s 超过%(limit)s页，请拆分为多个文件后上传。"),
                            filename, field, limit=MAX_PDF_PAGES)
    if facts.inflates_past_limit:
        return _pdf_refusal("R10.bomb",
                            N_("文件 %(filename)s 含有解压后异常巨大的数据（疑似压缩炸弹），不予接收；"
                               "请重新导出为PDF后上传。"),
                            filename, field)
    if facts.active_content:
        return _pdf_refusal("R10.active_content",
                            N_("文件 %(filename)s 含有脚本、自动执行的动作或嵌入的文件（%(found)s），为安全起见不予接收；"
                               "请用“打印为PDF”另存一份不含这些内容的文件后上传。"),
                            filename, field, found=" ".join(facts.active_content))
    for number, size in enumerate(facts.page_sizes, 1):
        if size > MAX_PDF_PAGE_BYTES:
            return _pdf_refusal("R10.page_too_large",
                                N_("文件 %(filename)s 第%(page)s页大小为%(size_kb)sKB，每页不能超过200KB，"
                                   "请降低该页图片的分辨率或拆分后重新上传。"),
                                filename, field, page=number, size_kb=_kb(size))
    if not facts.complete:
        return _pdf_refusal("R10.too_complex",
                            N_("文件 %(filename)s 结构过于复杂，无法在限定时间内完成检查，"
                               "请重新导出或拆分后上传。"),
                            filename, field)
    if facts.pages == 0:
        return _pdf_refusal("R10.no_pages", N_("文件 %(filename)s 没有任何页面，请检查后重新上传。"),
                            filename, field)
    return None


def check_attachment_count(existing: int, adding: int, limit: int = MAX_ATTACHMENTS, *,
                           field: str = "attachments", names: Collection[str] = ()) -> Refusal | None:
    """R10/R18: refuse an upload that would take the attachments over the limit, naming the files refused
    (``names``, the ``adding`` files' names, when known)."""
    if existing + adding > limit:
        return _too_many_attachments(existing + adding, limit, field, tuple(names) if len(names) == adding else ())
    return None


# Queries.

def _as_date(value):
    return value.date() if isinstance(value, datetime) else value


def _check_range(start, end, too_long: str, reversed_: str, incomplete: str, field_from: str,
                 field_to: str, kind: str) -> list[Refusal]:
    start, end = _as_date(start), _as_date(end)
    if start is None and end is None:
        return []
    if start is None or end is None:
        # Half a range is unbounded, which is what the limit exists to stop.
        return [Refusal(text=incomplete, code=f"{kind}.incomplete", field=field_from if start is None else field_to)]
    if start > end:
        return [Refusal(text=reversed_, code=f"{kind}.reversed", field=field_to)]
    if (end - start).days > MAX_QUERY_DAYS:
        return [Refusal(text=too_long, code=f"{kind}.too_long", field=field_to)]
    return []


def check_query(category, own_code, consignee_code, applied_from, applied_to, appointment_from,
                appointment_to) -> list[Refusal]:
    """The query form (预约查询): R21 category and consignee, R22 date ranges of at most 15 days.

    `own_code` is the logged-in enterprise's code, or a collection of its codes (customs code, USCC).
    """
    refusals = []
    own_codes = {own_code} if isinstance(own_code, str) else set(own_code or ())
    if category not in QUERY_CATEGORIES:
        refusals.append(Refusal(text=N_("企业类别必填，请选择A-申请企业或B-收发货人。"),
                                code="R21.category", field="category"))
    if _blank(consignee_code):
        if category == QUERY_CONSIGNEE:
            refusals.append(Refusal(text=N_("企业类别选择为收发货人时，需输入收发货人代码。"),
                                    code="R21.consignee_required", field="consignee_code"))
    elif not is_enterprise_code(consignee_code):
        refusals.append(Refusal(
            text=N_("收发货人代码 %(code)s 格式不正确：应为10位海关编码或18位统一社会信用代码，请核对后重新输入。"),
            params={"code": consignee_code}, code="invalid.consignee_code", field="consignee_code"))
    elif category == QUERY_CONSIGNEE and consignee_code not in own_codes:
        refusals.append(Refusal(
            text=N_("企业类别选择为收发货人时，收发货人代码须为本企业的海关编码或统一社会信用代码，请重新输入。"),
            params={"code": consignee_code}, code="R21.not_own", field="consignee_code"))
    refusals += _check_range(
        applied_from, applied_to,
        N_("申请时间查询范围不能超过15天，请缩小申请时间范围。"),
        N_("申请时间的开始日期晚于结束日期，请调整申请时间范围。"),
        N_("请同时填写申请时间的开始日期和结束日期。"),
        "applied_from", "applied_to", "R22.applied")
    refusals += _check_range(
        appointment_from, appointment_to,
        N_("预约时间查询范围不能超过15天，请缩小预约时间范围。"),
        N_("预约时间的开始日期晚于结束日期，请调整预约时间范围。"),
        N_("请同时填写预约时间的开始日期和结束日期。"),
        "appointment_from", "appointment_to", "R22.appointment")
    return refusals


def check_port_filter(code: str) -> list[Refusal]:
    """The port box of 口岸工作时间查询: blank (every port) or a 4-digit port code."""
    if _blank(code) or is_port_code(code):
        return []
    return [Refusal(text=N_("口岸编码 %(code)s 应为4位关区代码，请从列表中选择，或不填以查询全部口岸。"),
                    params={"code": shown(code)}, code="invalid.port_code", field="port_code")]


def check_port_hours_range(date_from, date_to) -> list[Refusal]:
    """The port working hours query (口岸工作时间查询): a working-date range of at most 15 days (R23)."""
    if date_from is None or date_to is None:
        missing = "date_from" if date_from is None else "date_to"
        return [Refusal(text=N_("请同时填写工作日期的开始日期和结束日期。"), code="R23.incomplete", field=missing)]
    return _check_range(
        date_from, date_to,
        N_("时间区间不得超过15天，请缩小工作日期范围。"),
        N_("工作日期的开始日期晚于结束日期，请调整工作日期范围。"),
        N_("请同时填写工作日期的开始日期和结束日期。"),
        "date_from", "date_to", "R23")


# The customs workspace: R24 capacity, R25 obligations, paper applications, statistics.

# R24: the statuses that hold a place in an hour once submitted, and those that hold a confirmed place (预约成功).
HOLDING_STATUSES = (SUBMITTED, ACCEPTED, APPROVED, CLEARED)
CONFIRMED_STATUSES = (APPROVED, CLEARED)
LOAD_VIEW_DAYS = 14
NEXT_FREE_SHOWN = 3
LOAD_FREE, LOAD_FEW, LOAD_FULL = "free", "few", "full"
LOAD_LABELS = {LOAD_FREE: N_("有空位"), LOAD_FEW: N_("将满"), LOAD_FULL: N_("已满")}
MAX_CAPACITY = 10000
STATEMENT_DAYS = 5


def window_hours(start: datetime, end: datetime | None = None) -> list[datetime]:
    """The clock hours an appointment window overlaps (R24 counts it once in each)."""
    end = end or start + WINDOW
    hour = start.replace(minute=0, second=0, microsecond=0)
    hours = []
    while hour < end:
        hours.append(hour)
        hour += timedelta(hours=1)
    return hours


@dataclass(frozen=True)
class HourLoad:
    """How many places each limited port gives an hour, and how many are taken, by (port, hour)."""

    capacities: Mapping[str, int]
    taken: Mapping[tuple[str, datetime], int]

    def room(self, port: str, hour: datetime) -> int | None:
        """Places left in that hour at that port; None where the port sets no limit."""
        capacity = self.capacities.get(port)
        if capacity is None:
            return None
        return capacity - self.taken.get((port, hour), 0)

    def level(self, port: str, hour: datetime) -> str:
        """free / few / full for the public load view: few when a quarter or less is left."""
        room = self.room(port, hour)
        if room is None:
            return LOAD_FREE
        if room <= 0:
            return LOAD_FULL
        return LOAD_FEW if room * 4 <= self.capacities[port] else LOAD_FREE


def check_capacity_setting(typed) -> tuple[int | None, list[Refusal]]:
    """A port's places per hour as typed: blank is unlimited, else a whole number from 0 to MAX_CAPACITY."""
    typed = (typed or "").strip()
    if not typed:
        return None, []
    if not _DIGITS_ONLY.fullmatch(typed) or int(typed) > MAX_CAPACITY:
        return None, [Refusal(text=N_("每小时可预约数 %(value)s 不正确：请填写 0 至 %(max)s 的整数，不限请留空。"),
                              params={"value": typed[:20], "max": MAX_CAPACITY}, code="R24.setting", field="per_hour")]
    return int(typed), []


def _fits(start: datetime, ports: Collection[str], load: HourLoad) -> bool:
    return all((load.room(port, hour) is None or load.room(port, hour) > 0)
               for port in ports for hour in window_hours(start))


def next_free_starts(start: datetime, ports: Collection[str], load: HourLoad,
                     calendars: Mapping[str, PortCalendar], limit: int = NEXT_FREE_SHOWN) -> list[datetime]:
    """The next starts after `start` in non-working time at every port (R11, R13) with room in each hour (R24)."""
    found, moment = [], start.replace(minute=0, second=0, microsecond=0)
    for _ in range(LOAD_VIEW_DAYS * 24):
        moment += timedelta(hours=1)
        in_hours = all(port in calendars and not _window_conflicts(moment, calendars[port]) for port in ports)
        if in_hours and _fits(moment, ports, load):
            found.append(moment)
            if len(found) == limit:
                break
    return found


def check_capacity(start: datetime, ports: Collection[str], load: HourLoad,
                   calendars: Mapping[str, PortCalendar]) -> list[Refusal]:
    """R24: every hour of the window must have a place left at each port (once where both ports are one)."""
    ports = sorted({p for p in ports if p})
    for port in ports:
        for hour in window_hours(start):
            room = load.room(port, hour)
            if room is not None and room <= 0:
                free = next_free_starts(start, ports, load, calendars)
                params = {"port": port, "hour": _fmt_dt(hour), "capacity": load.capacities[port],
                          "free": "、".join(_fmt_dt(m) for m in free), "days": LOAD_VIEW_DAYS}
                text = (N_("口岸 %(port)s %(hour)s 这一小时的预约已满（每小时最多 %(capacity)s 个）。"
                           "尚有空位的时间：%(free)s。请改约其中一个时间。") if free else
                        N_("口岸 %(port)s %(hour)s 这一小时的预约已满（每小时最多 %(capacity)s 个），"
                           "此后%(days)s天内没有尚有空位的非工作时间。请联系口岸。"))
                return [Refusal(text=text, params=params, code="R24.full", field="start")]
    return []


# R25: what is due after approval (numbers, R17) and after a cancellation of an approved appointment (statement).

def feedback_due(start: datetime) -> datetime:
    """When declaration numbers are due: 5 days after the appointment start (R17, R25)."""
    return start + timedelta(days=FEEDBACK_DAYS)


def statement_due(cancelled_at: datetime) -> datetime:
    """When the 情况说明 is due after an approved appointment is cancelled (公告109, R25)."""
    return cancelled_at + timedelta(days=STATEMENT_DAYS)


@dataclass(frozen=True)
class Obligation:
    """Something the enterprise owes customs for an application (R25): what, by when, and whether it is late."""

    key: object  # the caller's handle on the application
    what: str  # FEEDBACK_DUE or STATEMENT_DUE
    due: datetime
    overdue: bool


FEEDBACK_DUE, STATEMENT_DUE = "feedback", "statement"


def obligations_due(approved_starts, approved_cancellations, now: datetime) -> list[Obligation]:
    """R25 for one enterprise, soonest first: numbers 5 days after each approved appointment's start (R17), a
    statement 5 days after each cancellation of an approved appointment (公告109). Each argument: (key, time) pairs."""
    items = [Obligation(key, FEEDBACK_DUE, feedback_due(start), False) for key, start in approved_starts]
    items += [Obligation(key, STATEMENT_DUE, statement_due(at), False) for key, at in approved_cancellations]
    return sorted((replace(item, overdue=item.due < now) for item in items), key=lambda item: item.due)


# Paper applications (公告109): an officer enters the stamped 《预约通关申请单》.

MAX_PAPER_REFERENCE = 64
MAX_EXCEPTION_REASON = 500
# What customs may decide to accept anyway on a paper form, with a recorded reason: timing and the unfed block.
# Never: a dishonest or unqualified party (R3–R5), a past appointment (R14), missing or malformed fields.
WAIVABLE_CODES = frozenset({"R6.unfed", "R11.working_hours", "R12.too_late", "R13.no_calendar",
                            "R13.no_working_day", "R24.full"})


def check_paper_details(reference: str, received_on: date | None, today: date) -> list[Refusal]:
    """The paper form's own facts: its reference (编号) and the date customs received it (not in the future)."""
    refusals = []
    if _blank(reference):
        refusals.append(Refusal(text=N_("请填写纸质申请单编号。"), code="paper.reference", field="paper_reference"))
    elif len(reference) > MAX_PAPER_REFERENCE:
        refusals.append(Refusal(text=N_("纸质申请单编号最多%(max)s个字符。"), params={"max": MAX_PAPER_REFERENCE},
                                code="paper.reference_long", field="paper_reference"))
    if received_on is None:
        refusals.append(Refusal(text=N_("请填写收到纸质申请单的日期（YYYY-MM-DD）。"), code="paper.received",
                                field="paper_received_on"))
    elif received_on > today:
        refusals.append(Refusal(text=N_("收单日期 %(day)s 晚于今天，请核对。"), params={"day": received_on.isoformat()},
                                code="paper.received_future", field="paper_received_on"))
    return refusals


def paper_decision(refusals: list[Refusal], exception_reason: str) -> tuple[list[Refusal], list[Refusal]]:
    """(what still stops the paper application, what customs waives with the recorded reason).

    A waivable refusal stops it until the officer writes why customs accepts it anyway.
    """
    waivable = [r for r in refusals if r.code in WAIVABLE_CODES]
    blocking = [r for r in refusals if r.code not in WAIVABLE_CODES]
    if len(exception_reason or "") > MAX_EXCEPTION_REASON:
        blocking.append(Refusal(text=N_("例外原因最多%(max)s个字符。"), params={"max": MAX_EXCEPTION_REASON},
                                code="paper.exception_long", field="exception_reason"))
    if waivable and _blank(exception_reason):
        return blocking + waivable + [Refusal(
            text=N_("以上时间或未反馈的限制，海关可决定例外受理：请在“例外原因”中写明理由后再保存。"),
            code="paper.exception_required", field="exception_reason")], []
    return blocking, waivable


def median_hours(durations: list[timedelta]) -> float | None:
    """The median of some durations in hours (one decimal), or None when there are none."""
    if not durations:
        return None
    ordered = sorted(durations)
    middle = len(ordered) // 2
    value = ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
    return round(value.total_seconds() / 3600, 1)


@dataclass(frozen=True)
class SubmissionTiming:
    """How an application's submission stood against its R12 deadline."""

    deadline: Deadline
    in_time: bool
    margin: timedelta  # before the deadline (positive) or after it (negative)

    def explain(self) -> Message:
        hours = round(abs(self.margin).total_seconds() / 3600, 1)
        if self.in_time:
            return Message(text=N_("在最迟提交时间前 %(hours)s 小时提交。%(deadline)s"),
                           params={"hours": hours, "deadline": self.deadline.explain()})
        return Message(text=N_("晚于最迟提交时间 %(hours)s 小时提交（预约时间不满足海关规定的时长）。%(deadline)s"),
                       params={"hours": hours, "deadline": self.deadline.explain()})


def submission_timing(submitted_at: datetime, start: datetime, declaration_calendar: PortCalendar, same_port: bool,
                      grade: str) -> SubmissionTiming | Refusal | None:
    """Whether, and by how much, a submission beat its R12 deadline (R13's refusal if the calendar is missing)."""
    if submitted_at is None or start is None or _as_class(grade) == DISHONEST:
        return None
    deadline = submission_deadline(start, declaration_calendar, same_port, grade)
    if isinstance(deadline, Refusal):
        return deadline
    return SubmissionTiming(deadline, submitted_at <= deadline.latest, deadline.latest - submitted_at)


STATISTICS_STATUSES = (SUBMITTED, ACCEPTED, APPROVED, CLEARED, CLEARED_NO_FEEDBACK, RETURNED, CANCELLED)


@dataclass
class MonthStatistics:
    """One port's month: counts by status as shown now, paper and online, medians, cancellations, overdue."""

    port: str
    month: str
    by_status: dict
    paper: int = 0
    online: int = 0
    cancelled_after_approval: int = 0
    to_accept: list = field(default_factory=list)
    to_approve: list = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.paper + self.online

    @property
    def overdue(self) -> int:
        return self.by_status[CLEARED_NO_FEEDBACK]

    @property
    def median_to_accept(self):
        return median_hours(self.to_accept)

    @property
    def median_to_approve(self):
        return median_hours(self.to_approve)


def monthly_statistics(rows, now: datetime) -> list[MonthStatistics]:
    """Count submitted applications by declaration port and month of submission (申报).

    Each row: (port, submitted_at, accepted_at, approved_at, cancelled_at, status, start, statement_at, paper).
    """
    months: dict[tuple[str, str], MonthStatistics] = {}
    for port, submitted_at, accepted_at, approved_at, _cancelled, status, start, statement_at, paper in rows:
        key = (port, submitted_at.strftime("%Y-%m"))
        month = months.get(key)
        if month is None:
            month = months[key] = MonthStatistics(port, key[1], {s: 0 for s in STATISTICS_STATUSES})
        shown = current_status(status, start, now, statement_at is not None)
        month.by_status[shown] = month.by_status.get(shown, 0) + 1
        if paper:
            month.paper += 1
        else:
            month.online += 1
        if status == CANCELLED and approved_at is not None:
            month.cancelled_after_approval += 1
        if accepted_at is not None:
            month.to_accept.append(accepted_at - submitted_at)
        if approved_at is not None:
            month.to_approve.append(approved_at - submitted_at)
    return [months[key] for key in sorted(months)]


LOAD_WORKING, LOAD_UNPUBLISHED = "working", "unpublished"


def load_view(calendar: PortCalendar, load: HourLoad, first_day: date, days: int = LOAD_VIEW_DAYS):
    """The public load view of one port: for each day, each hour's state (R24).

    An hour overlapping customs working hours is "working" (no appointment may touch it, R11); an hour of a year
    the port has not published is "unpublished" (R13); any other is free, few or full.
    """
    rows = []
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        working = calendar.days.get(day)
        states = []
        for hour in range(24):
            moment = datetime.combine(day, time(hour))
            if not calendar.covers(day):
                states.append(LOAD_UNPUBLISHED)
            elif working and moment < datetime.combine(day, working.closes) and \
                    datetime.combine(day, working.opens) < moment + timedelta(hours=1):
                states.append(LOAD_WORKING)
            else:
                states.append(load.level(calendar.port_code, moment))
        rows.append((day, states))
    return rows
