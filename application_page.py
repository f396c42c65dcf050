"""The 预约申请 page: its helper actions (one table), and what it shows, each part computed when first asked for.

A helper action changes the unsaved form (add a goods row, pick an HS code ...) or only redraws a part of the page.
With JavaScript off its button posts the whole form and gets the whole page back; with htmx it sends the fields
the part needs and gets that part alone, rendered from the same named block of templates/apply/form.html.
"""
import dataclasses
import re
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Callable

from flask import url_for
from markupsafe import Markup, escape
from sqlalchemy import select

import clock
import rules
from extensions import db
from forms import StatementForm
from models import Attachment, Enterprise, HSCode, Timetable, has_unfed_back, hs_lines, known_hs_codes, port_calendars
from web import errors_by_field, say

_ACTION = re.compile(r"([a-z_]{1,20})(?::([0-9]{1,4}))?")
# What a schedule redraw needs: the ports and the time, and the consignee for the credit grade (R12).
_SCHEDULE_FIELDS = ("consignee_code", "declaration_port", "entry_port", "start_date", "start_hour")


def _redraw_only(form, row):
    return []


def _add_goods(form, row):
    goods = form.goods_rows()
    new = rules.GoodsRow(name=(form.new_goods_name.data or "").strip(), hs_code=(form.new_hs_code.data or "").strip())
    refusals = rules.check_goods_row(new, goods, known_hs_codes([new.hs_code]))
    if not refusals:
        form.replace_goods(goods + [new])
        form.new_goods_name.data = form.new_hs_code.data = ""
    return refusals


def _delete_goods(form, row):
    goods = form.goods_rows()
    form.replace_goods(goods[:row] + goods[row + 1:])
    return []


def _copy_goods(form, row):
    goods = form.goods_rows()
    form.replace_goods(goods[: row + 1] + [goods[row]] + goods[row + 1:])
    return []


def _pick_hs_code(form, row):
    choice = form.hs_choice.data or ""
    line = db.session.get(HSCode, choice) if rules.is_hs_code(choice) else None
    if line is None:
        return [rules.Refusal(text=rules.N_("请先在商品列表中选择一个商品。"), code="hs.none_chosen", field="goods")]
    form.new_hs_code.data, form.new_goods_name.data = line.code, line.name
    return []


def _add_number(form, row):
    numbers = form.numbers()
    number = (form.new_declaration_number.data or "").strip()
    refusals = rules.check_number_entry(number, numbers)
    if not refusals:
        form.replace_numbers(numbers + [number])
        form.new_declaration_number.data = ""
    return refusals


def _delete_number(form, row):
    numbers = form.numbers()
    form.replace_numbers(numbers[:row] + numbers[row + 1:])
    return []


@dataclass(frozen=True)
class Helper:
    """A helper action: what it does to the form, the part it redraws, where focus goes, what htmx sends."""

    name: str
    label: str
    run: Callable
    redraws: str | None = None
    focus: str | None = None
    # The fields an htmx request carries (None: the whole form); the part never needs more than these.
    sends: tuple[str, ...] | None = None
    rows: str | None = None  # the list a row number points into

    def hx(self, url):
        """The htmx attributes of this helper's button or field."""
        attrs = {"hx-post": url, "hx-target": f"#{self.redraws}", "hx-swap": "outerHTML",
                 # The newest change wins: an older redraw still in flight is dropped, never swapped in late.
                 "hx-sync": "closest form:replace",
                 # While it runs, the part to be redrawn carries htmx-request (site.css dims it, site.js marks it busy).
                 "hx-indicator": f"#{self.redraws}"}
        if self.sends is not None:
            attrs["hx-params"] = ",".join(("action",) + self.sends)
        return attrs

    def hx_markup(self, url):
        """hx() as the attribute markup of a button, made once per helper and URL (a page draws dozens)."""
        return _hx_markup(self, url)

    def on_change(self, url, trigger="change"):
        """The htmx attributes that run this helper when a field changes (the field is not a button)."""
        return {**self.hx(url), "hx-trigger": trigger, "hx-vals": '{"action": "%s"}' % self.name}


@lru_cache(maxsize=4096)
def _hx_markup(helper, url):
    # A button pressed is disabled until its answer is in, so a second press cannot send it twice.
    attrs = {**helper.hx(url), "hx-disabled-elt": "this"}
    return Markup("".join(f' {name}="{escape(value)}"' for name, value in attrs.items()))


HELPERS = {helper.name: helper for helper in (
    Helper("refresh", rules.N_("刷新"), _redraw_only),
    Helper("lookup", rules.N_("查询收发货人"), _redraw_only, "consignee-info", sends=("consignee_code",)),
    Helper("schedule", rules.N_("计算截止时间"), _redraw_only, "schedule-info", sends=_SCHEDULE_FIELDS),
    Helper("hs_search", rules.N_("查询商品"), _redraw_only, "hs-picker", sends=("new_hs_code",)),
    Helper("hs_pick", rules.N_("确定"), _pick_hs_code, "goods-block", focus="new_goods_name"),
    Helper("add_goods", rules.N_("添加商品"), _add_goods, "goods-block", focus="new_hs_code"),
    Helper("delete_goods", rules.N_("删除"), _delete_goods, "goods-block", rows="goods"),
    Helper("copy_goods", rules.N_("复制"), _copy_goods, "goods-block", rows="goods"),
    Helper("add_number", rules.N_("新增"), _add_number, "numbers-block", focus="new_declaration_number"),
    Helper("delete_number", rules.N_("删除"), _delete_number, "numbers-block", rows="declaration_numbers"),
)}
REDRAWN_PARTS = frozenset(helper.redraws for helper in HELPERS.values() if helper.redraws)


def parse_action(value):
    """An action posted as "name" or "name:number" (a row, a file): (name, number or None); junk reads as refresh."""
    match = _ACTION.fullmatch(value or "")
    if match is None:
        return "refresh", None
    return match.group(1), int(match.group(2)) if match.group(2) else None


def run_helper(form, name, row):
    """Apply a helper action to the unsaved form: (the helper, its refusals); an unknown name only redraws."""
    helper = HELPERS.get(name, HELPERS["refresh"])
    if helper.rows is None:
        return helper, helper.run(form, None)
    if row is None or row >= len(getattr(form, helper.rows).entries):
        # A row that is no longer there (another click got there first): nothing to do, show the list as it is.
        return helper, []
    return helper, helper.run(form, row)


class ApplicationPage:
    """What the application page shows for a form (and its stored application, if any)."""

    def __init__(self, form, application, user, refusals=(), focus=None, statement_form=None, consignee=None):
        if consignee is not None:
            self.__dict__["consignee"] = consignee  # already looked up in this request
        self.form = form
        self.application = application
        self.user = user
        self.refusals = list(refusals)
        self.focus = focus
        if statement_form is not None:
            self.__dict__["statement_form"] = statement_form
        self.declarant = application.declarant if application else user.enterprise
        self.owner = application is None or application.declarant_id == user.enterprise_id
        self.editable = self.owner and (application is None or rules.can_edit(application.status))

    @cached_property
    def statement_form(self):
        """情况说明's form, empty (only the page that shows it builds it)."""
        return StatementForm(formdata=None)

    @cached_property
    def consignee_code(self):
        """The consignee's code as typed, as codes are compared (trimmed, upper case)."""
        return (self.form.consignee_code.data or "").strip().upper()

    @cached_property
    def consignee(self):
        """The consignee named in the form, looked up once per request."""
        code = self.consignee_code
        stored = self.application.consignee if self.application is not None and code else None
        if stored is not None and code in (stored.customs_code, stored.uscc):
            return stored  # the one Enterprise.by_code would find, loaded with the application (load_application)
        return Enterprise.by_code(code)

    @cached_property
    def data(self):
        """The form as rules.ApplicationInput."""
        return self.form.to_input(self.declarant.info(), self.consignee.info() if self.consignee else None,
                                  len(self.supplements))

    @cached_property
    def supplements(self):
        """The application's 随附补充材料 as the page lists them (none yet for a new one). (A view that adds or
        removes files shows the result with a new ApplicationPage.)"""
        if self.application is None:
            return []
        return [a for a in self.application.file_lines() if a.kind == Attachment.KIND_SUPPLEMENT]

    def input_with(self, adding_files):
        """The form as rules.ApplicationInput, counting files about to be kept (R10)."""
        return dataclasses.replace(self.data, attachment_count=self.data.attachment_count + adding_files)

    @cached_property
    def unfed(self):
        """The declarant's applications overdue for feedback (R6): the refusal names them and the page links them."""
        return has_unfed_back(self.declarant.id)

    @cached_property
    def may_start(self):
        """R3–R6 for the declarant alone: may it start a new application (before any consignee is typed)."""
        return rules.eligibility_to_start(self.declarant.info(), None,
                                          tuple(a.pre_entry_number for a in self.unfed), False)

    @cached_property
    def blocked(self):
        """A new application the declarant may not start (R3–R6), first opened: the refusal alone, no form to type
        into. (A refused save still shows the form, with what was typed.)"""
        return self.application is None and not self.form.is_submitted() and bool(self.may_start)

    @cached_property
    def blocking_applications(self):
        """The applications at fault when the page shows the declarant's R6 refusal, to link beside it."""
        shown = any(r.code == "R6.unfed" and r.field is None for r in self.refusals)
        return self.unfed if shown else []

    @cached_property
    def actions(self):
        a = self.application
        return rules.allowed_actions(
            a.status if a else None, a.start if a else None, clock.now(), bool(a and a.approved_at),
            bool(a and a.statement_at), is_declarant=self.owner, may_start=a is not None or not self.may_start,
        )

    @cached_property
    def may_copy(self):
        """复制为新申请 is offered to the declarant of a returned or cancelled application."""
        return self.owner and self.application is not None and rules.can_copy(self.application.status)

    @cached_property
    def printouts(self):
        """Which printouts the application has: the 申请单 always, the 受理回执 and the .ics as its status allows."""
        a = self.application
        if a is None:
            return {}
        status = a.current_status
        return {"form": True, "receipt": rules.can_print_receipt(status), "calendar": rules.can_download_calendar(status)}

    @cached_property
    def form_url(self):
        a = self.application
        return url_for("apply.edit", application_id=a.id) if a else url_for("apply.new")

    @cached_property
    def numbers_url(self):
        # After approval the number list lives in its own form that posts to 反馈.
        if not self.editable and "feedback" in self.actions:
            return url_for("apply.feedback", application_id=self.application.id)
        return self.form_url

    @cached_property
    def numbers_editable(self):
        return self.editable or "feedback" in self.actions

    @cached_property
    def errors(self):
        return errors_by_field(self.refusals)

    @cached_property
    def end(self):
        start = self.form.start()
        return rules.appointment_end(start) if start else None

    @cached_property
    def consignee_warnings(self):
        """R3/R4 for the consignee the typed code names, said as soon as it is looked up (the seed's popup)."""
        if not self.editable or self.consignee is None:
            return []
        return [say(r) for r in rules.consignee_warnings(self.consignee.info())]

    @cached_property
    def consignee_unknown(self):
        return rules.is_enterprise_code(self.consignee_code) and self.consignee is None

    @cached_property
    def window_refusals(self):
        """R7, R11 (either port), R13, R14 for the chosen time, as 提交 would say them (rules.check_window)."""
        data = self.data
        if not (self.editable and data.start and data.declaration_port and data.entry_port):
            return []
        calendars = port_calendars([data.declaration_port, data.entry_port])

        def calendar(port):
            # As at 提交: a port that never published a calendar is R13 for every day.
            return calendars.get(port) or rules.PortCalendar(port, {}, frozenset())
        return rules.check_window(data.start, calendar(data.declaration_port), calendar(data.entry_port), clock.now())

    @cached_property
    def deadline(self):
        """Beside the time as soon as the ports and the start are chosen: why customs would refuse the time itself
        (R11, R13, R14, in 提交's words), else R12's deadline, or why there is none."""
        data = self.data
        if not (self.editable and data.start and data.declaration_port and data.entry_port):
            return None
        if self.window_refusals:
            return {"refusals": [say(r) for r in self.window_refusals]}
        grade = rules.application_grade(data.declarant, data.consignee)
        if grade == rules.DISHONEST:
            return None
        calendar = port_calendars([data.declaration_port])[data.declaration_port]
        same_port = data.declaration_port == data.entry_port
        result = rules.submission_deadline(data.start, calendar, same_port, grade)
        if isinstance(result, rules.Refusal):
            return {"refusals": [say(result)]}
        return {
            "explain": say(result.explain()),
            "provisional": say(rules.PROVISIONAL_NOTE) if result.provisional else None,
            "late": bool(rules.check_deadline(data.start, clock.now(), calendar, same_port, grade)),
        }

    @cached_property
    def hs_prefix(self):
        return rules.hs_prefix(self.form.new_hs_code.data)

    @cached_property
    def hs_list(self):
        """The 商品列表 lines for the typed HS prefix, or None while the prefix is too short."""
        return hs_lines(self.hs_prefix) if self.hs_prefix else None

    @cached_property
    def reason_bytes(self):
        return rules.byte_length(self.form.reason_text.data or "")

    @cached_property
    def timetable(self):
        """The entry port's published timetable for this mode and direction, shown once submitted."""
        a = self.application
        key = rules.timetable_key(a.transport_mode, a.direction) if a and a.status != rules.DRAFT else None
        if key is None or not a.entry_port:
            return None
        return db.session.execute(
            select(Timetable).where(Timetable.port_code == a.entry_port, Timetable.mode == key[0],
                                    Timetable.direction == key[1])
        ).scalar_one_or_none()
