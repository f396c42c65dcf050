"""Tests of rules.py against the 2026 Chinese calendar; rule IDs are from ../shared/DOMAIN.md."""

import io
import random
from datetime import date, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pypdf import PdfWriter

import rules
from pdfguard import check_here
from rules import (
    ACCEPTED, ADVANCED, ADVANCED_CERTIFIED, APPROVED, CANCELLED, CLEARED, CLEARED_NO_FEEDBACK, DISHONEST,
    DRAFT, EXPORT, GENERAL, GENERAL_CERTIFIED, GENERAL_CREDIT, IMPORT, RETURNED, SUBMITTED,
    ApplicationInput, DeclarationFacts, Deadline, EnterpriseInfo, GoodsRow, PortCalendar, Refusal,
    SubmissionContext, UnknownCalendarYear,
)

D = datetime.fromisoformat


def make_calendar(port, *years, provisional=(), opens=time(9, 0), closes=time(16, 30)):
    """A port calendar built from generate_working_days, as the port administrator would publish it."""
    days = {}
    for year in years:
        days.update((wd.day, wd) for wd in rules.generate_working_days(year, opens=opens, closes=closes))
    for year in provisional:
        days.update((wd.day, wd) for wd in
                    rules.generate_working_days(year, provisional=True, opens=opens, closes=closes))
    return PortCalendar(port, days, frozenset(years) | frozenset(provisional), frozenset(provisional))


SJZ = make_calendar("0400", 2026)                    # 石家庄关区, 09:00-16:30
BJ = make_calendar("0100", 2026)                     # 北京关区, same hours, another port
CQ = make_calendar("8000", 2026, opens=time(8, 0), closes=time(18, 0))   # longer hours
SJZ_2027 = make_calendar("0400", 2026, provisional=[2027])

EARLY = D("2026-01-01 00:00")


def codes(refusals):
    return [(r.code, r.field) for r in refusals]


def texts(refusals):
    return [r.render() for r in refusals]


# The calendar itself.

@pytest.mark.parametrize("day, working", [
    ("2026-01-01", False), ("2026-01-04", True),                        # New Year; adjusted Sunday
    ("2026-02-13", True), ("2026-02-14", True), ("2026-02-15", False),  # adjusted Saturday before Spring Festival
    ("2026-02-16", False), ("2026-02-23", False), ("2026-02-24", True),
    ("2026-02-28", True), ("2026-03-01", False),
    ("2026-09-19", False), ("2026-09-20", True), ("2026-09-25", False),  # adjusted Sunday; Mid-autumn
    ("2026-09-30", True), ("2026-10-01", False), ("2026-10-07", False),
    ("2026-10-08", True), ("2026-10-10", True), ("2026-10-11", False),
    ("2026-12-26", False), ("2026-12-31", True),
], ids=lambda v: str(v))
def test_R11_generated_2026_working_days(day, working):
    assert (date.fromisoformat(day) in SJZ.days) is working


def test_R13_generate_working_days_2026_details():
    days = rules.generate_working_days(2026)
    assert len(days) == 248
    assert days[0] == rules.OpeningHours(date(2026, 1, 4), time(9, 0), time(16, 30))
    assert days[-1].day == date(2026, 12, 31)


def test_R13_unknown_year_raises_unless_provisional():
    with pytest.raises(UnknownCalendarYear):
        rules.generate_working_days(2027)
    provisional = rules.generate_working_days(2027, provisional=True, closes=time(17, 0))
    assert len(provisional) == 254                      # Mon-Fri minus the 7 statutory holidays on weekdays
    assert provisional[0] == rules.OpeningHours(date(2027, 1, 4), time(9, 0), time(17, 0))


def test_R13_build_port_calendar_matches_published_years():
    built = rules.build_port_calendar("0400", [2026], provisional_years=[2027])
    assert built == SJZ_2027
    assert built.covers(date(2027, 6, 1)) and not built.covers(date(2025, 12, 31))
    assert built.is_provisional(date(2027, 1, 1)) and not built.is_provisional(date(2026, 12, 31))


# R12: the deadline.

SAME, DIFFERENT = True, False

DEADLINES = [
    # id, start, declaration port vs entry port, grade, C, latest
    ("worked-example-fri-evening", "2026-10-09 18:00", SAME, GENERAL, "2026-10-09 16:30", "2026-10-09 08:30"),
    ("fri-evening-same-advanced", "2026-10-09 18:00", SAME, ADVANCED, "2026-10-09 16:30", "2026-10-09 12:30"),
    ("fri-evening-different-general", "2026-10-09 18:00", DIFFERENT, GENERAL, "2026-10-09 16:30", "2026-10-08 16:30"),
    ("fri-evening-different-advanced", "2026-10-09 18:00", DIFFERENT, ADVANCED, "2026-10-09 16:30", "2026-10-09 08:30"),
    ("start-at-closing-counts-that-day", "2026-12-30 16:30", SAME, GENERAL, "2026-12-30 16:30", "2026-12-30 08:30"),
    ("wed-early-morning-counts-tue", "2026-12-30 07:00", SAME, GENERAL, "2026-12-29 16:30", "2026-12-29 08:30"),
    ("wed-noon-counts-tue", "2026-12-30 12:00", DIFFERENT, GENERAL, "2026-12-29 16:30", "2026-12-28 16:30"),
    ("mon-early-morning-counts-fri", "2026-12-28 06:00", DIFFERENT, GENERAL, "2026-12-25 16:30", "2026-12-24 16:30"),
    ("sat-counts-fri", "2026-12-26 10:00", SAME, ADVANCED, "2026-12-25 16:30", "2026-12-25 12:30"),
    ("sun-midnight-counts-fri", "2026-12-27 00:00", DIFFERENT, ADVANCED, "2026-12-25 16:30", "2026-12-25 08:30"),
    ("adjusted-sun-0920-evening", "2026-09-20 18:00", SAME, GENERAL, "2026-09-20 16:30", "2026-09-20 08:30"),
    ("adjusted-sun-0920-morning", "2026-09-20 07:00", DIFFERENT, GENERAL, "2026-09-18 16:30", "2026-09-17 16:30"),
    ("mid-autumn-sat-counts-thu", "2026-09-26 10:00", SAME, GENERAL, "2026-09-24 16:30", "2026-09-24 08:30"),
    ("adjusted-sat-0214-evening", "2026-02-14 20:00", SAME, ADVANCED, "2026-02-14 16:30", "2026-02-14 12:30"),
    ("spring-festival-eve-0215", "2026-02-15 20:00", DIFFERENT, GENERAL, "2026-02-14 16:30", "2026-02-13 16:30"),
    ("spring-festival-0216", "2026-02-16 10:00", DIFFERENT, ADVANCED, "2026-02-14 16:30", "2026-02-14 08:30"),
    # The last working day before 02-24 07:00 is ten days earlier.
    ("after-spring-festival", "2026-02-24 07:00", SAME, GENERAL, "2026-02-14 16:30", "2026-02-14 08:30"),
    ("adjusted-sat-0228-evening", "2026-02-28 18:00", DIFFERENT, ADVANCED, "2026-02-28 16:30", "2026-02-28 08:30"),
    ("sun-after-adjusted-sat-0228", "2026-03-01 07:00", DIFFERENT, GENERAL, "2026-02-28 16:30", "2026-02-27 16:30"),
    ("national-day-eve-0930", "2026-09-30 20:00", SAME, GENERAL, "2026-09-30 16:30", "2026-09-30 08:30"),
    ("national-day-1001-midnight", "2026-10-01 00:00", SAME, ADVANCED, "2026-09-30 16:30", "2026-09-30 12:30"),
    ("national-day-1007-evening", "2026-10-07 20:00", DIFFERENT, GENERAL, "2026-09-30 16:30", "2026-09-29 16:30"),
    ("after-national-day-1008-dawn", "2026-10-08 07:00", DIFFERENT, ADVANCED, "2026-09-30 16:30", "2026-09-30 08:30"),
    # 2026-10-08 is a working Thursday (the holiday is 10-01..10-07), so its own close counts.
    ("after-national-day-1008-evening", "2026-10-08 20:00", SAME, GENERAL, "2026-10-08 16:30", "2026-10-08 08:30"),
    ("adjusted-sat-1010-evening", "2026-10-10 19:00", SAME, GENERAL, "2026-10-10 16:30", "2026-10-10 08:30"),
    ("sun-after-adjusted-sat-1010", "2026-10-11 10:00", DIFFERENT, GENERAL, "2026-10-10 16:30", "2026-10-09 16:30"),
]


@pytest.mark.parametrize("start, same_port, grade, closes_at, latest",
                         [d[1:] for d in DEADLINES], ids=[f"R12-{d[0]}" for d in DEADLINES])
def test_R12_deadline(start, same_port, grade, closes_at, latest):
    deadline = rules.submission_deadline(D(start), SJZ, same_port, grade)
    assert deadline == Deadline(latest=D(latest), last_working_day=D(closes_at).date(), closes_at=D(closes_at),
                                hours=rules.DEADLINE_HOURS[(same_port, grade)], same_port=same_port,
                                grade=grade, provisional=False)


@pytest.mark.parametrize("same_port, grade, hours", [
    (False, GENERAL, 24), (False, ADVANCED, 8), (True, GENERAL, 8), (True, ADVANCED, 4)])
def test_R12_hours_table(same_port, grade, hours):
    assert rules.submission_deadline(D("2026-12-30 18:00"), SJZ, same_port, grade).hours == hours


def test_R12_accepts_credit_grades_too():
    deadline = rules.submission_deadline(D("2026-10-09 18:00"), SJZ, True, ADVANCED_CERTIFIED)
    assert (deadline.grade, deadline.latest) == (ADVANCED, D("2026-10-09 12:30"))
    with pytest.raises(ValueError):
        rules.submission_deadline(D("2026-10-09 18:00"), SJZ, True, DISHONEST)


def test_R12_uses_declaration_port_closing_time():
    deadline = rules.submission_deadline(D("2026-10-09 19:00"), CQ, False, GENERAL)
    assert (deadline.closes_at, deadline.latest) == (D("2026-10-09 18:00"), D("2026-10-08 18:00"))


@pytest.mark.parametrize("same_port, grade, expected", [
    (True, GENERAL, "最迟提交时间 2026-10-09 08:30（申报口岸与进出口岸相同，一般企业，最后工作日 2026-10-09 16:30 下班前8小时）"),
    (True, ADVANCED, "最迟提交时间 2026-10-09 12:30（申报口岸与进出口岸相同，高级企业，最后工作日 2026-10-09 16:30 下班前4小时）"),
    (False, GENERAL, "最迟提交时间 2026-10-08 16:30（申报口岸与进出口岸不同，一般企业，最后工作日 2026-10-09 16:30 下班前24小时）"),
    (False, ADVANCED, "最迟提交时间 2026-10-09 08:30（申报口岸与进出口岸不同，高级企业，最后工作日 2026-10-09 16:30 下班前8小时）"),
], ids=["R12-same-general", "R12-same-advanced", "R12-different-general", "R12-different-advanced"])
def test_R12_explain(same_port, grade, expected):
    assert rules.submission_deadline(D("2026-10-09 18:00"), SJZ, same_port, grade).explain().render() == expected


@pytest.mark.parametrize("now, refused", [
    ("2026-10-08 09:00", False),
    ("2026-10-09 08:30:00", False),             # exactly the deadline is still in time
    ("2026-10-09 08:30:01", True),              # one second later is not
    ("2026-10-09 16:00", True),
], ids=["R12-day-before", "R12-exact-second-allowed", "R12-one-second-late", "R12-afternoon"])
def test_R12_check_deadline_boundary(now, refused):
    result = rules.check_deadline(D("2026-10-09 18:00"), D(now), SJZ, True, GENERAL)
    assert codes(result) == ([("R12.too_late", "start")] if refused else [])


def test_R12_refusal_names_the_deadline():
    [refusal] = rules.check_deadline(D("2026-10-07 20:00"), D("2026-09-29 16:30:01"), SJZ, False, GENERAL)
    assert refusal.params["deadline"] == rules.submission_deadline(D("2026-10-07 20:00"), SJZ, False, GENERAL).explain()
    assert refusal.render() == ("预约时间不满足海关规定的时长，请重新修改时间！最迟提交时间 2026-09-29 16:30"
                                "（申报口岸与进出口岸不同，一般企业，最后工作日 2026-09-30 16:30 下班前24小时）")


def test_R12_message_translates_nested_deadline():
    [refusal] = rules.check_deadline(D("2026-10-09 18:00"), D("2026-10-09 12:31"), SJZ, True, ADVANCED)
    english = {
        refusal.text: "Too late for that appointment. %(deadline)s",
        refusal.params["deadline"].text: "Submit by %(latest)s (closing %(closes_at)s minus %(hours)s h).",
    }
    assert refusal.render(english.__getitem__) == \
        "Too late for that appointment. Submit by 2026-10-09 12:30 (closing 2026-10-09 16:30 minus 4 h)."


# R13: missing calendars.

R13_TEXT = "获取该关区的工作时间表为空：口岸 0400 尚未公布 {day} 的工作日历。请改约已公布工作日历的日期，或联系口岸更新工作日历。"


@pytest.mark.parametrize("start, missing_day", [
    ("2027-01-01 00:00", "2027-01-01"),
    ("2027-01-01 18:00", "2027-01-01"),
    ("2026-01-01 10:00", "2025-12-31"),         # walking back from New Year leaves the published year
    ("2026-01-04 07:00", "2025-12-31"),
], ids=["R13-2027-midnight", "R13-2027-evening", "R13-walk-into-2025", "R13-adjusted-sunday-morning"])
def test_R13_deadline_needs_every_day_walked(start, missing_day):
    refusal = rules.submission_deadline(D(start), SJZ, True, GENERAL)
    assert isinstance(refusal, Refusal)
    assert (refusal.code, refusal.field) == ("R13.no_calendar", "start")
    assert refusal.render() == R13_TEXT.format(day=missing_day)
    assert refusal.render().startswith("获取该关区的工作时间表为空")


def test_R13_walk_back_is_bounded():
    empty_year = PortCalendar("0400", {}, frozenset({2026}))
    refusal = rules.submission_deadline(D("2026-06-30 18:00"), empty_year, True, GENERAL)
    assert refusal.code == "R13.no_working_day"
    assert refusal.render() == "获取该关区的工作时间表为空：口岸 0400 在 2026-06-30 之前60天内没有任何工作日。请联系口岸更新工作日历。"


@pytest.mark.parametrize("start, expected", [
    ("2027-01-01 00:00", [("R13.no_calendar", "start")]),
    ("2026-12-31 23:00", [("R13.no_calendar", "start")]),      # the window runs into 2027
    ("2026-12-31 22:00", []),                                  # ends exactly at midnight: 2027 not needed
], ids=["R13-window-2027", "R13-window-crosses-into-2027", "R13-window-ends-at-midnight"])
def test_R13_window_days(start, expected):
    assert codes(rules.check_window(D(start), SJZ, SJZ, EARLY)) == expected


def test_R13_entry_port_calendar_missing():
    entry_2025_only = make_calendar("0100", 2025)
    [refusal] = rules.check_window(D("2026-12-30 18:00"), SJZ, entry_2025_only, EARLY)
    assert refusal.render() == ("获取该关区的工作时间表为空：口岸 0100 尚未公布 2026-12-30 的工作日历。"
                                "请改约已公布工作日历的日期，或联系口岸更新工作日历。")


def test_R13_provisional_2027_usable_and_flagged():
    assert rules.check_window(D("2027-01-01 18:00"), SJZ_2027, SJZ_2027, EARLY) == []
    assert rules.check_window(D("2027-01-02 10:00"), SJZ_2027, SJZ_2027, EARLY) == []
    # The provisional year knows the statutory holidays: 2027-01-01 (元旦, a Friday) is not working time (R11).
    assert rules.check_window(D("2027-01-01 10:00"), SJZ_2027, SJZ_2027, EARLY) == []
    assert codes(rules.check_window(D("2027-01-04 10:00"), SJZ_2027, SJZ_2027, EARLY)) == [
        ("R11.working_hours", "start")]
    deadline = rules.submission_deadline(D("2027-01-04 07:00"), SJZ_2027, True, GENERAL)
    assert (deadline.closes_at, deadline.latest, deadline.provisional) == (
        D("2026-12-31 16:30"), D("2026-12-31 08:30"), True)
    deadline = rules.submission_deadline(D("2027-01-01 00:00"), SJZ_2027, False, GENERAL)
    assert (deadline.closes_at, deadline.latest, deadline.provisional) == (
        D("2026-12-31 16:30"), D("2026-12-30 16:30"), True)
    assert rules.submission_deadline(D("2026-12-31 18:00"), SJZ_2027, True, GENERAL).provisional is False
    assert rules.PROVISIONAL_NOTE.render().startswith("该年度口岸工作日历尚未公布")


# R7, R11, R14: the window.

WINDOWS = [
    ("touches-opening-0700-0900", "2026-12-30 07:00", SJZ, []),
    ("overlaps-opening-0800", "2026-12-30 08:00", SJZ, [("R11.working_hours", "start")]),
    ("inside-hours-1200", "2026-12-30 12:00", SJZ, [("R11.working_hours", "start")]),
    ("overlaps-closing-1600", "2026-12-30 16:00", SJZ, [("R11.working_hours", "start")]),
    ("touches-closing-1630-but-not-on-the-hour", "2026-12-30 16:30", SJZ, [("R7.not_on_hour", "start")]),
    ("after-closing-1700", "2026-12-30 17:00", SJZ, []),
    ("across-midnight-into-working-day", "2026-12-29 23:00", SJZ, []),
    ("ends-at-opening-on-monday", "2026-12-28 07:00", SJZ, []),
    ("saturday-daytime", "2026-12-26 10:00", SJZ, []),
    ("adjusted-saturday-0214", "2026-02-14 10:00", SJZ, [("R11.working_hours", "start")]),
    ("adjusted-saturday-0228", "2026-02-28 15:00", SJZ, [("R11.working_hours", "start")]),
    ("adjusted-sunday-0920", "2026-09-20 10:00", SJZ, [("R11.working_hours", "start")]),
    ("adjusted-saturday-1010", "2026-10-10 09:00", SJZ, [("R11.working_hours", "start")]),
    ("spring-festival-monday-0216", "2026-02-16 10:00", SJZ, []),
    ("spring-festival-eve-0215-daytime", "2026-02-15 14:00", SJZ, []),
    ("national-day-weekday-1007", "2026-10-07 15:00", SJZ, []),
    ("first-working-day-after-national-day", "2026-10-08 10:00", SJZ, [("R11.working_hours", "start")]),
    ("entry-port-opens-earlier", "2026-12-30 07:00", CQ, [("R11.working_hours", "start")]),
    ("entry-port-closes-later", "2026-12-30 17:00", CQ, [("R11.working_hours", "start")]),
    ("entry-port-evening-fine", "2026-12-30 18:00", CQ, []),
    ("other-port-same-hours", "2026-12-30 17:00", BJ, []),
]


@pytest.mark.parametrize("start, entry, expected", [w[1:] for w in WINDOWS],
                         ids=[f"R11-{w[0]}" for w in WINDOWS])
def test_R11_window(start, entry, expected):
    assert codes(rules.check_window(D(start), SJZ, entry, EARLY)) == expected


def test_R11_message_names_port_day_and_hours():
    [refusal] = rules.check_window(D("2026-12-30 17:00"), SJZ, CQ, EARLY)
    assert refusal.render() == ("预约通关时间必须是海关非工作时间：2026-12-30 17:00 至 2026-12-30 19:00 与口岸 8000 "
                                "2026-12-30 的工作时间 08:00—18:00 重叠。请改约在上班前或下班后的时间。")


def test_R11_both_ports_refused_separately():
    result = rules.check_window(D("2026-12-30 12:00"), SJZ, CQ, EARLY)
    assert [r.params["port"] for r in result] == ["0400", "8000"]


def test_R7_end_is_start_plus_two_hours():
    assert rules.appointment_end(D("2026-12-30 17:00")) == D("2026-12-30 19:00")
    assert rules.appointment_end(D("2026-12-31 23:00")) == D("2027-01-01 01:00")


@pytest.mark.parametrize("start", ["2026-12-30 17:30", "2026-12-30 17:00:01", "2026-12-30 17:00:00.5"],
                         ids=["R7-half-hour", "R7-one-second", "R7-half-second"])
def test_R7_start_on_the_hour(start):
    [refusal] = rules.check_window(D(start), SJZ, SJZ, EARLY)
    assert refusal.code == "R7.not_on_hour"
    assert refusal.render() == ("预约通关时间须为整点（年 月 日 时），请选择整点的开始时间；"
                                "结束时间由系统自动生成，为开始时间后2小时。")


@pytest.mark.parametrize("now, expected", [
    ("2026-12-30 18:00:00", []),
    ("2026-12-30 18:00:01", [("R14.past", "start")]),
    ("2027-03-01 00:00", [("R14.past", "start")]),
], ids=["R14-now-is-start", "R14-one-second-past", "R14-months-past"])
def test_R14_start_in_the_past(now, expected):
    assert codes(rules.check_window(D("2026-12-30 18:00"), SJZ, SJZ, D(now))) == expected


def test_R14_message():
    [refusal] = rules.check_window(D("2026-12-30 18:00"), SJZ, SJZ, D("2026-12-31 08:00"))
    assert refusal.render() == "预约通关时间 2026-12-30 18:00 已经过去，请选择将来的时间。"


def test_naive_datetimes_only():
    from datetime import timezone
    with pytest.raises(ValueError):
        rules.check_window(datetime(2026, 12, 30, 18, tzinfo=timezone.utc), SJZ, SJZ, EARLY)


# Properties over every on-the-hour start of 2026 (from the first Monday, so the walk stays in 2026).

FIRST, LAST = D("2026-01-05 00:00"), D("2026-12-31 21:00")
starts_2026 = st.integers(0, int((LAST - FIRST) / timedelta(hours=1))).map(lambda h: FIRST + timedelta(hours=h))


@settings(max_examples=300, deadline=None, database=None)
@given(start=starts_2026, entry=st.sampled_from([SJZ, BJ, CQ]))
def test_R11_property_accepted_window_never_overlaps_working_hours(start, entry):
    if rules.check_window(start, SJZ, entry, EARLY):
        return
    end = start + rules.WINDOW
    for calendar in (SJZ, entry):
        for offset in (-1, 0, 1):
            wd = calendar.days.get(start.date() + timedelta(days=offset))
            if wd is not None:
                opens, closes = datetime.combine(wd.day, wd.opens), datetime.combine(wd.day, wd.closes)
                assert end <= opens or start >= closes


@settings(max_examples=300, deadline=None, database=None)
@given(start=starts_2026, same_port=st.booleans())
def test_R12_property_advanced_never_earlier_than_general(start, same_port):
    advanced = rules.submission_deadline(start, SJZ, same_port, ADVANCED)
    general = rules.submission_deadline(start, SJZ, same_port, GENERAL)
    assert advanced.latest >= general.latest
    assert advanced.closes_at == general.closes_at


@settings(max_examples=300, deadline=None, database=None)
@given(start=starts_2026, grade=st.sampled_from([ADVANCED, GENERAL]))
def test_R12_property_same_port_never_earlier_than_different(start, grade):
    same = rules.submission_deadline(start, SJZ, True, grade)
    different = rules.submission_deadline(start, SJZ, False, grade)
    assert same.latest >= different.latest


@settings(max_examples=300, deadline=None, database=None)
@given(start=starts_2026)
def test_R12_property_closing_is_the_last_one_at_or_before_start(start):
    deadline = rules.submission_deadline(start, SJZ, True, GENERAL)
    assert deadline.closes_at <= start
    assert deadline.closes_at == datetime.combine(deadline.last_working_day, SJZ.days[deadline.last_working_day].closes)
    later_closings = [datetime.combine(d, wd.closes) for d, wd in SJZ.days.items()
                      if deadline.closes_at < datetime.combine(d, wd.closes) <= start]
    assert later_closings == []
    assert deadline.closes_at - deadline.latest == timedelta(hours=8)


# R1, R2: credit grades.

@pytest.mark.parametrize("grade, cls", [
    (ADVANCED_CERTIFIED, ADVANCED), (GENERAL_CERTIFIED, GENERAL), (GENERAL_CREDIT, GENERAL), (DISHONEST, DISHONEST)])
def test_R1_grade_class(grade, cls):
    assert rules.grade_class(grade) == cls


def test_R1_unknown_grade():
    with pytest.raises(ValueError):
        rules.grade_class("excellent")
    assert rules.CREDIT_GRADE_LABELS[ADVANCED_CERTIFIED] == "高级认证企业"


@pytest.mark.parametrize("declarant, consignee, expected", [
    (ADVANCED_CERTIFIED, ADVANCED_CERTIFIED, ADVANCED),
    (ADVANCED_CERTIFIED, GENERAL_CREDIT, GENERAL),
    (GENERAL_CERTIFIED, ADVANCED_CERTIFIED, GENERAL),
    (GENERAL_CERTIFIED, GENERAL_CREDIT, GENERAL),
    (ADVANCED_CERTIFIED, DISHONEST, DISHONEST),
    (DISHONEST, ADVANCED, DISHONEST),
    (ADVANCED, GENERAL, GENERAL),
], ids=lambda v: str(v))
def test_R2_applicable_grade_is_the_lower(declarant, consignee, expected):
    assert rules.applicable_grade(declarant, consignee) == expected


# Application form fixtures.

def enterprise(code="130198004Y", grade=ADVANCED_CERTIFIED, qualified=True, uscc="9113000034801880XB",
               name="河北省电子口岸发展股份有限公司"):
    return EnterpriseInfo(customs_code=code, uscc=uscc, inspection_code="1301111111", name=name,
                          credit_grade=grade, qualified=qualified)


DECLARANT = enterprise()
CONSIGNEE = enterprise("120109004Y", GENERAL_CREDIT, uscc="91120000MA05K1234P", name="天津某进出口有限公司")
CONTEXT = SubmissionContext(now=D("2026-10-09 08:30"), calendars={"0400": SJZ, "0100": BJ, "8000": CQ},
                            port_codes={"0400", "0100", "8000", "0200"}, transport_modes=set("234569"),
                            hs_codes={"2006001000", "2006002000", "2006009000"})


def application(**changes):
    values = dict(
        declarant=DECLARANT, consignee=CONSIGNEE, consignee_code="120109004Y", contact_name="张三",
        contact_mobile="13800138000", declaration_port="0400", entry_port="0400", transport_mode="5",
        start=D("2026-10-09 18:00"), reason_category="perishable", reason_text="冷冻海鲜需当晚通关",
        direction=IMPORT, goods=[GoodsRow("蜜枣", "2006001000")], declaration_numbers=[], attachment_count=0)
    values.update(changes)
    return ApplicationInput(**values)


def context(**changes):
    values = dict(CONTEXT.__dict__)
    values.update(changes)
    return SubmissionContext(**values)


def test_submission_valid_application_passes():
    assert rules.validate_submission(application(), CONTEXT) == []
    assert rules.validate_draft(application()) == []


def test_submission_reports_every_problem_at_once():
    empty = application(consignee=None, consignee_code="", contact_name=" ", contact_mobile="",
                        declaration_port="", entry_port="", transport_mode="", start=None, reason_category="",
                        reason_text="", direction="", goods=[GoodsRow("", "")])
    assert codes(rules.validate_submission(empty, CONTEXT)) == [
        ("required", "consignee_code"), ("required", "contact_name"), ("required", "contact_mobile"),
        ("required", "declaration_port"), ("required", "entry_port"), ("required", "transport_mode"),
        ("required", "start"), ("required", "reason_category"), ("required", "reason_text"),
        ("required", "direction"), ("required", "goods")]
    assert texts(rules.validate_submission(empty, CONTEXT))[:2] == ["请填写收发货人。", "请填写联系人姓名。"]
    assert rules.validate_submission(empty, CONTEXT)[3].render() == "请选择预约申报口岸。"
    assert rules.validate_draft(empty) == []


def test_submission_formats_and_code_tables():
    bad = application(consignee=None, consignee_code="120109004y", contact_mobile="12800138000",
                      declaration_port="9999", entry_port="04000", transport_mode="Q", reason_category="fun",
                      direction="X", goods=[GoodsRow("蜜枣", "2006"), GoodsRow("糖", "2006003000"),
                                            GoodsRow("", "2006002000")])
    assert codes(rules.validate_submission(bad, CONTEXT)) == [
        ("invalid.consignee_code", "consignee_code"), ("unknown.declaration_port", "declaration_port"),
        ("unknown.transport_mode", "transport_mode"), ("invalid.contact_mobile", "contact_mobile"),
        ("invalid.entry_port", "entry_port"), ("invalid.reason_category", "reason_category"),
        ("invalid.direction", "direction"), ("invalid.hs_code", "goods"), ("unknown.hs_code", "goods"),
        ("required.goods_name", "goods")]
    assert codes(rules.validate_draft(bad)) == [
        ("invalid.consignee_code", "consignee_code"), ("invalid.contact_mobile", "contact_mobile"),
        ("invalid.entry_port", "entry_port"), ("invalid.reason_category", "reason_category"),
        ("invalid.direction", "direction"), ("invalid.hs_code", "goods")]


def test_submission_unknown_consignee():
    [refusal] = rules.validate_submission(application(consignee=None, consignee_code="91500000MA60ABCD1Y"), CONTEXT)
    assert (refusal.code, refusal.field) == ("unknown.consignee", "consignee_code")
    assert refusal.render() == "收发货人编码 91500000MA60ABCD1Y 未在企业名录中找到，请核对后重新输入。"


@pytest.mark.parametrize("declarant, consignee, expected", [
    (DECLARANT, enterprise(grade=ADVANCED_CERTIFIED), ADVANCED),
    (DECLARANT, CONSIGNEE, GENERAL),
    (DECLARANT, None, GENERAL),                  # unknown consignee: the strictest class that may apply
    (enterprise(grade=GENERAL_CERTIFIED), None, GENERAL),
    (enterprise(grade=DISHONEST), CONSIGNEE, DISHONEST),
], ids=["R2-both-advanced", "R2-mixed", "R2-unknown-consignee", "R2-general-alone", "R2-dishonest"])
def test_R2_application_grade(declarant, consignee, expected):
    assert rules.application_grade(declarant, consignee) == expected


@pytest.mark.parametrize("consignee_grade, now, expected", [
    (GENERAL_CREDIT, "2026-10-09 08:30", []),
    (GENERAL_CREDIT, "2026-10-09 08:30:01", [("R12.too_late", "start")]),
    (ADVANCED_CERTIFIED, "2026-10-09 12:30", []),
    (ADVANCED_CERTIFIED, "2026-10-09 12:30:01", [("R12.too_late", "start")]),
], ids=["R2-mixed-is-general-in-time", "R2-mixed-is-general-late", "R2-both-advanced-in-time",
        "R2-both-advanced-late"])
def test_R2_R12_submission_uses_the_lower_grade(consignee_grade, now, expected):
    a = application(consignee=enterprise("120109004Y", consignee_grade, uscc="91120000MA05K1234P"))
    assert codes(rules.validate_submission(a, context(now=D(now)))) == expected


def test_R12_submission_different_ports():
    a = application(entry_port="0100")
    assert rules.validate_submission(a, context(now=D("2026-10-08 16:30"))) == []
    assert codes(rules.validate_submission(a, context(now=D("2026-10-08 16:31")))) == [("R12.too_late", "start")]


def test_R13_submission_port_without_any_calendar():
    a = application(entry_port="0200")
    [refusal] = rules.validate_submission(a, context(now=D("2026-10-08 09:00")))
    assert (refusal.code, refusal.params) == ("R13.no_calendar", {"port": "0200", "day": "2026-10-09"})


def test_R13_submission_2027_not_covered():
    refusals = rules.validate_submission(application(start=D("2027-01-01 00:00")), CONTEXT)
    assert texts(refusals) == [R13_TEXT.format(day="2027-01-01")]


def test_R14_submission_past_start_is_not_also_too_late():
    refusals = rules.validate_submission(application(), context(now=D("2026-10-10 08:00")))
    assert codes(refusals) == [("R14.past", "start")]


def test_R11_R7_submission_window_problems():
    refusals = rules.validate_submission(application(start=D("2026-10-12 10:30")), CONTEXT)
    assert codes(refusals) == [("R7.not_on_hour", "start"), ("R11.working_hours", "start")]


# R3-R6: who may operate.

@pytest.mark.parametrize("validate", [rules.validate_draft, lambda a: rules.validate_submission(a, CONTEXT)],
                         ids=["R3-draft", "R3-submission"])
def test_R3_dishonest_consignee(validate):
    a = application(consignee=enterprise("120109004Y", DISHONEST, uscc="91120000MA05K1234P", name="某失信公司"))
    [refusal] = validate(a)
    assert (refusal.code, refusal.field) == ("R3.dishonest", "consignee_code")
    assert refusal.render() == ("失信企业不允许操作：收发货人 某失信公司（120109004Y）为失信企业，不能办理预约通关。"
                                "请核对收发货人编码。")


def test_R3_dishonest_declarant():
    a = application(declarant=enterprise(grade=DISHONEST))
    assert codes(rules.validate_draft(a)) == [("R3.dishonest", None)]
    assert rules.validate_draft(a)[0].render() == (
        "失信企业不允许操作：申报单位 河北省电子口岸发展股份有限公司（130198004Y）为失信企业，不能办理预约通关。")
    # No deadline is computed for a dishonest party: the R3 refusal says all there is to say.
    assert codes(rules.validate_submission(a, context(now=D("2026-10-09 17:00")))) == [("R3.dishonest", None)]


def test_R4_submission_unqualified_consignee():
    a = application(consignee=enterprise("120109004Y", GENERAL_CREDIT, qualified=False, uscc="91120000MA05K1234P"))
    assert codes(rules.validate_submission(a, CONTEXT)) == [("R4.unqualified", "consignee_code")]


UNQUALIFIED = enterprise("120109004Y", GENERAL_CREDIT, qualified=False, name="无资质公司")
DISHONEST_ONE = enterprise("120109004Y", DISHONEST, name="某失信公司")


@pytest.mark.parametrize("declarant, consignee, declarant_unfed, consignee_unfed, expected", [
    (DECLARANT, None, False, False, []),
    (DECLARANT, CONSIGNEE, False, False, []),
    (enterprise(qualified=False), None, False, False, [("R4.unqualified", None)]),
    (DECLARANT, UNQUALIFIED, False, False, [("R4.unqualified", "consignee_code")]),
    (enterprise(grade=DISHONEST), None, False, False, [("R3.dishonest", None)]),
    (DECLARANT, DISHONEST_ONE, False, False, [("R3.dishonest", "consignee_code")]),
    (DECLARANT, CONSIGNEE, True, False, [("R6.unfed", None)]),
    (DECLARANT, CONSIGNEE, False, True, [("R6.unfed", "consignee_code")]),
    (enterprise(grade=DISHONEST, qualified=False), None, True, False,
     [("R3.dishonest", None), ("R4.unqualified", None), ("R6.unfed", None)]),
], ids=["ok-alone", "ok-with-consignee", "R4-declarant", "R4-consignee", "R5-declarant", "R5-consignee",
        "R6-declarant", "R6-consignee", "R4-R5-R6-all"])
def test_R4_R5_R6_eligibility_to_start(declarant, consignee, declarant_unfed, consignee_unfed, expected):
    assert codes(rules.eligibility_to_start(declarant, consignee, declarant_unfed, consignee_unfed)) == expected


def test_R4_R6_messages():
    [r4] = rules.eligibility_to_start(DECLARANT, UNQUALIFIED, False, False)
    assert r4.render() == "收发货人 无资质公司（120109004Y）无报关资质，不允许新增预约操作。请先向海关办理报关资质。"
    [r6] = rules.eligibility_to_start(DECLARANT, None, True, False)
    assert r6.render() == ("申报单位 河北省电子口岸发展股份有限公司（130198004Y）存在通关完成未反馈的预约申请，"
                           "不允许新增预约操作。请先反馈报关单号或发送情况说明。")


# R8, R9: goods and numbers.

@pytest.mark.parametrize("name_lengths, refused", [
    ([4000], False), ([2000, 2000], False), ([4001], True), ([2000, 2000, 1], True)],
    ids=["R8-4000-one-row", "R8-4000-two-rows", "R8-4001", "R8-4001-three-rows"])
def test_R8_goods_names_total(name_lengths, refused):
    goods = [GoodsRow("枣" * n, "2006001000") for n in name_lengths]
    expected = [("R8.names_too_long", "goods")] if refused else []
    assert codes(rules.validate_draft(application(goods=goods))) == expected
    assert codes(rules.validate_submission(application(goods=goods), CONTEXT)) == expected


@pytest.mark.parametrize("row, existing_lengths, expected", [
    (GoodsRow("蜜枣", "2006001000"), [], []),
    (GoodsRow("枣" * 10, "2006001000"), [3990], []),
    (GoodsRow("枣" * 11, "2006001000"), [3990], [("R8.names_too_long", "goods")]),
    (GoodsRow("", "2006001000"), [], [("required.goods_name", "goods")]),
    (GoodsRow("蜜枣", "2006"), [], [("invalid.hs_code", "goods")]),
    (GoodsRow("蜜枣", "2006003000"), [], [("unknown.hs_code", "goods")]),
], ids=["R8-row-ok", "R8-row-reaches-4000", "R8-row-passes-4000", "R8-row-no-name", "R8-row-hs-prefix",
        "R8-row-hs-not-in-catalogue"])
def test_R8_check_goods_row(row, existing_lengths, expected):
    existing = [GoodsRow("枣" * n, "2006001000") for n in existing_lengths]
    assert codes(rules.check_goods_row(row, existing, CONTEXT.hs_codes)) == expected


def test_R8_check_goods_row_names_the_item():
    [refusal] = rules.check_goods_row(GoodsRow("糖", ""), [GoodsRow("蜜枣", "2006001000")])
    assert refusal.render() == "第2项商品缺少商品HS编码，请填写。"


def test_R8_message_and_empty_list():
    [refusal] = rules.validate_draft(application(goods=[GoodsRow("枣" * 4001, "2006001000")]))
    assert refusal.render() == "商品名称所有字符长度相加不得超过4000字符，当前为4001字符，请精简商品名称。"
    [refusal] = rules.validate_submission(application(goods=[]), CONTEXT)
    assert (refusal.code, refusal.field, refusal.render()) == ("required", "goods", "请至少录入一项商品名称及HS编码。")


def number(seq, port="0400", year="2026", flag="1"):
    return f"{port}{year}{flag}{seq:09d}"


@pytest.mark.parametrize("count, refused", [(50, False), (51, True)], ids=["R9-50", "R9-51"])
def test_R9_at_most_50_numbers(count, refused):
    numbers = [number(i) for i in range(count)]
    assert codes(rules.validate_draft(application(declaration_numbers=numbers))) == (
        [("R9.too_many", "declaration_numbers")] if refused else [])


def test_R9_duplicates_named_once():
    numbers = [number(1), number(2), number(1), number(1)]
    [refusal] = rules.validate_draft(application(declaration_numbers=numbers))
    assert refusal.code == "R9.duplicate"
    assert refusal.render() == "报关单号 040020261000000001 重复录入，请删除重复的一条。"


@pytest.mark.parametrize("typed, existing, expected", [
    (number(1), [], []),
    (number(50), [number(i) for i in range(49)], []),
    (number(50), [number(i) for i in range(50)], [("R9.too_many", "declaration_numbers")]),
    (number(1), [number(1)], [("R9.duplicate", "declaration_numbers")]),
    ("0400202610000000", [], [("R19.format", "declaration_numbers")]),
    ("", [], [("required", "declaration_numbers")]),
], ids=["R9-first", "R9-fiftieth", "R9-fifty-first", "R9-duplicate", "R19-16-digits", "R9-blank"])
def test_R9_check_number_entry(typed, existing, expected):
    assert codes(rules.check_number_entry(typed, existing)) == expected


def test_R9_too_many_message():
    [refusal] = rules.check_declaration_numbers([number(i) for i in range(51)], IMPORT, "0400", "0400",
                                                CONSIGNEE.codes, D("2026-10-09 08:00"), {})
    assert refusal.render() == "报关单票数不得超过50票，当前为51票，请删除多余的报关单号。"


# R19, R20: fed-back numbers.

SUBMITTED_AT = D("2026-10-09 08:00")
RECORDS = {
    number(1): DeclarationFacts(number(1), "120109004Y", "0400", "0400", date(2026, 10, 9)),
    number(2): DeclarationFacts(number(2), "91120000MA05K1234P", "0400", "0400", date(2026, 10, 10)),
    number(3): DeclarationFacts(number(3), "130198004Y", "0100", "8000", date(2026, 10, 8)),
}


@pytest.mark.parametrize("numbers, direction, expected", [
    ([number(1), number(2)], IMPORT, []),                           # known, matching (customs code and USCC)
    ([number(7)], IMPORT, []),                                      # unknown to the system: shape only
    ([number(7, flag="0")], EXPORT, []),
    ([number(7, flag="0")], IMPORT, ["R19.direction"]),
    ([number(7)], EXPORT, ["R19.direction"]),
    ([number(7, flag="5")], IMPORT, ["R19.direction"]),
    ([number(7, port="0100")], IMPORT, ["R19.port"]),
    (["04002026100000001"], IMPORT, ["R19.format"]),               # 17 digits
    (["04002026１000000001"], IMPORT, ["R19.format"]),             # a full-width digit
    ([number(3)], IMPORT, ["R20.consignee", "R20.declaration_port", "R20.entry_port",
                           "R20.declared_before_submission"]),
    ([number(1), number(1)], IMPORT, ["R9.duplicate"]),
], ids=["ok-known", "ok-unknown", "ok-export", "R19-export-flag-on-import", "R19-import-flag-on-export",
        "R19-flag-neither", "R19-other-customs", "R19-17-digits", "R19-fullwidth", "R20-all-differ",
        "R9-duplicate"])
def test_R19_R20_declaration_numbers(numbers, direction, expected):
    refusals = rules.check_declaration_numbers(numbers, direction, "0400", "0400", CONSIGNEE.codes,
                                               SUBMITTED_AT, RECORDS)
    assert [r.code for r in refusals] == expected
    assert all(r.field == "declaration_numbers" for r in refusals)


def test_R19_R20_messages_name_number_and_difference():
    refusals = rules.check_declaration_numbers([number(3), number(7, flag="0", port="0100")], IMPORT, "0400",
                                               "0400", CONSIGNEE.codes, SUBMITTED_AT, RECORDS)
    assert texts(refusals) == [
        "报关单 040020261000000003 的收发货人为 130198004Y，与预约申请的收发货人不一致，请核对报关单号。",
        "报关单 040020261000000003 的申报口岸为 0100，与预约申报口岸 0400 不一致，请核对报关单号。",
        "报关单 040020261000000003 的进出口岸为 8000，与预约进出口岸 0400 不一致，请核对报关单号。",
        "报关单 040020261000000003 的申报日期 2026-10-08 早于预约申请单提交日期 2026-10-09；"
        "报关单申报日期要晚于预约申请单提交日期，请核对报关单号。",
        "报关单号 010020260000000007 第9位进出口标志为“0”（1为进口，0为出口），与预约申请的进出口标识“进口”不一致，"
        "请核对报关单号。",
        "报关单号 010020260000000007 前4位申报海关为 0100，与预约申报口岸 0400 不一致，请核对报关单号。",
    ]


# R10: attachments.

def pdf_from_objects(objects):
    """A hand-written PDF with a correct xref table; objects are the bodies of objects 1..n."""
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def pdf_with_pages(*contents):
    """A PDF whose pages have the given raw content streams."""
    n = len(contents)
    kids = b" ".join(b"%d 0 R" % (3 + 2 * i) for i in range(n))
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % n]
    for i, content in enumerate(contents):
        objects.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents %d 0 R >>" % (4 + 2 * i))
        objects.append(b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream")
    return pdf_from_objects(objects)


def small_pdf():
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def encrypted_pdf():
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.encrypt(user_password="", owner_password="owner")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def deeply_nested_pdf(depth=100_000):
    nested = b"[" * depth + b"]" * depth
    return pdf_from_objects([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Nest 4 0 R >> >>",
        nested,
    ])


def noise(size, seed=0):
    return random.Random(seed).randbytes(size)


SMALL = small_pdf()

HOSTILE_PDFS = [
    ("not-a-pdf", "scan.pdf", b"PK\x03\x04 this is a zip file, not a PDF", "R10.not_pdf"),
    ("empty", "empty.pdf", b"", "R10.not_pdf"),
    ("wrong-extension", "scan.docx", SMALL, "R10.not_pdf_name"),
    ("no-extension", "pdf", SMALL, "R10.not_pdf_name"),
    ("truncated-half", "cut.pdf", SMALL[: len(SMALL) // 2], "R10.unreadable"),
    ("truncated-before-eof", "cut.pdf", SMALL[:-8], "R10.unreadable"),
    ("header-then-garbage", "junk.pdf", b"%PDF-1.7\n" + noise(5000) + b"\n%%EOF\n", "R10.unreadable"),
    ("encrypted", "secret.pdf", encrypted_pdf(), "R10.encrypted"),
    ("page-over-200KB", "big.pdf", pdf_with_pages(noise(210 * 1024)), "R10.page_too_large"),
    ("4MB-plus-1-byte", "huge.pdf", SMALL + b"%" * (rules.MAX_PDF_BYTES + 1 - len(SMALL)), "R10.too_large"),
    ("deeply-nested-arrays", "nest.pdf", deeply_nested_pdf(), "R10.unreadable"),
    ("no-pages", "blank.pdf", pdf_from_objects([b"<< /Type /Catalog /Pages 2 0 R >>",
                                                 b"<< /Type /Pages /Kids [] /Count 0 >>"]), "R10.no_pages"),
]


@pytest.mark.parametrize("filename, data, code", [h[1:] for h in HOSTILE_PDFS],
                         ids=[f"R10-{h[0]}" for h in HOSTILE_PDFS])
def test_R10_hostile_pdf_refused_cleanly(filename, data, code):
    refusal = check_here(filename, data)
    assert (refusal.code, refusal.field, refusal.params["filename"]) == (code, "attachments", filename)


@pytest.mark.parametrize("filename, data", [
    ("small.pdf", SMALL),
    ("UPPER.PDF", SMALL),
    ("two-pages-of-150KB.pdf", pdf_with_pages(noise(150 * 1024, 1), noise(150 * 1024, 2))),
    ("page-just-under.pdf", pdf_with_pages(noise(200 * 1024 - 600, 3))),
], ids=["R10-small-valid", "R10-upper-case-name", "R10-pages-measured-separately", "R10-page-just-under"])
def test_R10_valid_pdf_accepted(filename, data):
    assert check_here(filename, data) is None


def test_R10_messages():
    assert check_here("a.doc", SMALL).render() == "只可上传后缀名为pdf的文件，a.doc 不是PDF文件，请选择PDF文件。"
    assert check_here("huge.pdf", b"%PDF-" + b"0" * rules.MAX_PDF_BYTES).render() == (
        "文件 huge.pdf 大小为4097KB，单个文件大小不能超过4M（4096KB），请压缩或拆分后重新上传。")
    assert check_here("big.pdf", pdf_with_pages(noise(210 * 1024))).render() == (
        "文件 big.pdf 第1页大小为211KB，每页不能超过200KB，请降低该页图片的分辨率或拆分后重新上传。")
    assert check_here("secret.pdf", encrypted_pdf()).render() == (
        "文件 secret.pdf 已加密或设有密码，请去除密码保护后重新上传。")
    assert check_here("nest.pdf", deeply_nested_pdf()).render() == (
        "文件 nest.pdf 已损坏或不完整，无法读取，请重新导出为PDF后上传。")


def test_R10_second_page_too_large_is_named():
    refusal = check_here("two.pdf", pdf_with_pages(b"BT ET", noise(210 * 1024)), field="statement")
    assert (refusal.code, refusal.field, refusal.params["page"]) == ("R10.page_too_large", "statement", 2)


def test_R10_time_budget_refuses():
    refusal = check_here("slow.pdf", pdf_with_pages(b"BT ET", b"BT ET"), time_budget=-1)
    assert refusal.code == "R10.too_complex"


@settings(max_examples=60, deadline=None, database=None)
@given(cut=st.integers(0, len(SMALL)), junk=st.binary(max_size=64))
def test_R10_property_damaged_pdf_never_raises(cut, junk):
    data = SMALL[:cut] + junk + SMALL[cut + len(junk):]
    result = check_here("fuzz.pdf", data)
    assert result is None or result.code.startswith("R10.")


@pytest.mark.parametrize("existing, adding, limit, refused", [
    (0, 5, 5, False), (4, 1, 5, False), (5, 1, 5, True), (0, 6, 5, True), (3, 3, 5, True),
    (0, 1, 1, False), (1, 1, 1, True),
], ids=["R10-5-at-once", "R10-fifth", "R10-sixth", "R10-6-at-once", "R10-3-plus-3",
        "R18-one-statement-file", "R18-second-statement-file"])
def test_R10_R18_attachment_count(existing, adding, limit, refused):
    refusal = rules.check_attachment_count(existing, adding, limit)
    assert (refusal is not None) is refused


def test_R10_six_files_message():
    refusal = rules.check_attachment_count(5, 1)
    assert (refusal.code, refusal.field) == ("R10.too_many", "attachments")
    assert refusal.render() == "最多可上传5个PDF文件，当前共6个，请删除多余的文件。"
    assert rules.check_attachment_count(1, 1, rules.MAX_STATEMENT_ATTACHMENTS, field="statement").field == "statement"
    assert codes(rules.validate_draft(application(attachment_count=6))) == [("R10.too_many", "attachments")]


# R15-R18: statuses.

ALL_STATUSES = [DRAFT, SUBMITTED, ACCEPTED, APPROVED, CLEARED, RETURNED, CANCELLED, CLEARED_NO_FEEDBACK]


@pytest.mark.parametrize("status", ALL_STATUSES)
def test_R15_only_drafts_edited_or_deleted(status):
    assert rules.can_edit(status) is (status == DRAFT)
    assert rules.can_delete(status) is (status == DRAFT)


START = D("2026-10-09 18:00")


@pytest.mark.parametrize("status, now, allowed", [
    (ACCEPTED, "2026-10-09 17:59:59", True),
    (APPROVED, "2026-10-09 17:59:59", True),
    (APPROVED, "2026-10-09 18:00", False),           # the appointment has started
    (ACCEPTED, "2026-10-10 09:00", False),
    (DRAFT, "2026-10-08 09:00", False),
    (SUBMITTED, "2026-10-08 09:00", False),          # not accepted yet
    (RETURNED, "2026-10-08 09:00", False),
    (CANCELLED, "2026-10-08 09:00", False),
    (CLEARED, "2026-10-08 09:00", False),
], ids=lambda v: str(v))
def test_R16_cancel(status, now, allowed):
    assert rules.can_cancel(status, START, D(now)) is allowed


@pytest.mark.parametrize("status, now, statement_sent, expected", [
    (APPROVED, "2026-10-14 18:00", False, APPROVED),                 # exactly 5 days after: still in time
    (APPROVED, "2026-10-14 18:00:01", False, CLEARED_NO_FEEDBACK),
    (APPROVED, "2026-10-20 09:00", True, APPROVED),                   # the statement settles it (R18)
    (CLEARED_NO_FEEDBACK, "2026-10-20 09:00", True, APPROVED),
    (CLEARED_NO_FEEDBACK, "2026-10-20 09:00", False, CLEARED_NO_FEEDBACK),
    (CLEARED, "2026-10-20 09:00", False, CLEARED),
    (ACCEPTED, "2026-10-20 09:00", False, ACCEPTED),
    (CANCELLED, "2026-10-20 09:00", False, CANCELLED),
], ids=lambda v: str(v))
def test_R17_current_status(status, now, statement_sent, expected):
    assert rules.current_status(status, START, D(now), statement_sent) == expected


def test_R17_overdue_before():
    assert rules.overdue_before(D("2026-10-14 18:00:01")) == D("2026-10-09 18:00:01")
    assert START < rules.overdue_before(D("2026-10-14 18:00:01"))


@pytest.mark.parametrize("status, was_approved, statement_sent, allowed", [
    (APPROVED, True, False, True),
    (CLEARED_NO_FEEDBACK, True, False, True),
    (CANCELLED, True, False, True),              # cancelled after approval needs a statement
    (CANCELLED, False, False, False),            # cancelled while only accepted
    (APPROVED, True, True, False),               # only once
    (CLEARED_NO_FEEDBACK, True, True, False),
    (ACCEPTED, False, False, False),
    (SUBMITTED, False, False, False),
    (DRAFT, False, False, False),
    (RETURNED, False, False, False),
    (CLEARED, True, False, False),
], ids=lambda v: str(v))
def test_R18_statement(status, was_approved, statement_sent, allowed):
    assert rules.can_send_statement(status, was_approved, statement_sent) is allowed


@pytest.mark.parametrize("status, allowed", [
    (APPROVED, True), (CLEARED_NO_FEEDBACK, True), (CLEARED, False), (ACCEPTED, False), (CANCELLED, False)])
def test_R17_feed_back(status, allowed):
    assert rules.can_feed_back(status) is allowed


@pytest.mark.parametrize("status, now, was_approved, statement_sent, expected", [
    (None, "2026-10-08 09:00", False, False, {"new", "close", "save", "submit"}),
    (DRAFT, "2026-10-08 09:00", False, False, {"new", "close", "save", "submit", "delete"}),
    (SUBMITTED, "2026-10-08 09:00", False, False, {"new", "close"}),
    (ACCEPTED, "2026-10-08 09:00", False, False, {"new", "close", "cancel"}),
    (APPROVED, "2026-10-08 09:00", True, False, {"new", "close", "cancel", "feedback", "statement"}),
    (APPROVED, "2026-10-10 09:00", True, False, {"new", "close", "feedback", "statement"}),
    (APPROVED, "2026-10-20 09:00", True, True, {"new", "close", "feedback"}),
    (CANCELLED, "2026-10-10 09:00", True, False, {"new", "close", "statement"}),
    (RETURNED, "2026-10-08 09:00", False, False, {"new", "close"}),
    (CLEARED, "2026-10-20 09:00", True, False, {"new", "close"}),
], ids=lambda v: str(v))
def test_R15_R16_R18_allowed_actions(status, now, was_approved, statement_sent, expected):
    assert rules.allowed_actions(status, START, D(now), was_approved, statement_sent) == expected


MOVES = {(DRAFT, SUBMITTED), (SUBMITTED, ACCEPTED), (SUBMITTED, RETURNED), (ACCEPTED, APPROVED),
         (ACCEPTED, RETURNED), (ACCEPTED, CANCELLED), (APPROVED, CANCELLED), (APPROVED, CLEARED),
         (APPROVED, CLEARED_NO_FEEDBACK), (CLEARED_NO_FEEDBACK, CLEARED)}


@pytest.mark.parametrize("from_status", ALL_STATUSES)
@pytest.mark.parametrize("to_status", ALL_STATUSES)
def test_R16_R17_status_graph(from_status, to_status):
    refusal = rules.check_move(from_status, to_status)
    assert (refusal is None) is ((from_status, to_status) in MOVES)


def test_R16_status_graph_message_and_customs_moves():
    assert rules.check_move(RETURNED, ACCEPTED).render() == \
        "申请状态为“退单”，不能改为“已受理”。请刷新页面查看申请的当前状态。"
    assert all(rules.check_move(f, t) is None for f, targets in rules.CUSTOMS_MOVES.items() for t in targets)


# R21-R23: queries.

OWN = {"130198004Y", "9113000034801880XB"}
d = date.fromisoformat


@pytest.mark.parametrize("category, consignee_code, expected", [
    ("A", "", []),
    ("A", "120109004Y", []),                                   # A: the consignee code is just a filter
    ("B", "130198004Y", []),
    ("B", "9113000034801880XB", []),
    ("", "", [("R21.category", "category")]),
    ("C", "", [("R21.category", "category")]),
    ("B", "", [("R21.consignee_required", "consignee_code")]),
    ("B", "120109004Y", [("R21.not_own", "consignee_code")]),
    ("A", "12345", [("invalid.consignee_code", "consignee_code")]),
], ids=lambda v: str(v) or "blank")
def test_R21_category_and_consignee(category, consignee_code, expected):
    assert codes(rules.check_query(category, OWN, consignee_code, None, None, None, None)) == expected


def test_R21_messages():
    [refusal] = rules.check_query("B", "130198004Y", "", None, None, None, None)
    assert refusal.render() == "企业类别选择为收发货人时，需输入收发货人代码。"
    [refusal] = rules.check_query(None, "130198004Y", "", None, None, None, None)
    assert refusal.render() == "企业类别必填，请选择A-申请企业或B-收发货人。"


@pytest.mark.parametrize("applied, appointment, expected", [
    (("2026-11-01", "2026-11-16"), (None, None), []),
    (("2026-11-01", "2026-11-17"), (None, None), [("R22.applied.too_long", "applied_to")]),
    ((None, None), ("2026-11-01", "2026-11-16"), []),
    ((None, None), ("2026-11-01", "2026-11-17"), [("R22.appointment.too_long", "appointment_to")]),
    (("2026-11-01", "2026-11-01"), ("2026-12-25", "2027-01-08"), []),
    (("2026-11-02", "2026-11-01"), (None, None), [("R22.applied.reversed", "applied_to")]),
    ((None, None), ("2026-11-02", "2026-11-01"), [("R22.appointment.reversed", "appointment_to")]),
    (("2026-11-01", None), (None, "2026-11-01"), [("R22.applied.incomplete", "applied_to"),
                                                  ("R22.appointment.incomplete", "appointment_from")]),
    (("2026-01-01", "2026-12-31"), ("2026-01-01", "2026-12-31"), [("R22.applied.too_long", "applied_to"),
                                                                 ("R22.appointment.too_long", "appointment_to")]),
], ids=["R22-15-days", "R22-16-days", "R22-appointment-15", "R22-appointment-16", "R22-across-new-year",
        "R22-applied-reversed", "R22-appointment-reversed", "R22-half-ranges", "R22-both-too-long"])
def test_R22_query_ranges(applied, appointment, expected):
    as_dates = [d(x) if x else None for x in (*applied, *appointment)]
    assert codes(rules.check_query("A", OWN, "", *as_dates)) == expected


def test_R22_messages():
    refusals = rules.check_query("A", OWN, "", d("2026-11-01"), d("2026-11-17"), d("2026-11-01"), d("2026-11-30"))
    assert texts(refusals) == ["申请时间查询范围不能超过15天，请缩小申请时间范围。",
                               "预约时间查询范围不能超过15天，请缩小预约时间范围。"]
    assert texts(refusals)[0].startswith("申请时间查询范围不能超过15天")


def test_R22_datetimes_count_by_date():
    assert rules.check_query("A", OWN, "", D("2026-11-01 23:59"), D("2026-11-16 00:00"), None, None) == []


@pytest.mark.parametrize("date_from, date_to, expected", [
    ("2026-11-01", "2026-11-16", []),
    ("2026-11-01", "2026-11-17", [("R23.too_long", "date_to")]),
    ("2026-11-01", "2026-11-01", []),
    ("2026-11-02", "2026-11-01", [("R23.reversed", "date_to")]),
    (None, "2026-11-01", [("R23.incomplete", "date_from")]),
], ids=["R23-15-days", "R23-16-days", "R23-one-day", "R23-reversed", "R23-missing-start"])
def test_R23_port_hours_range(date_from, date_to, expected):
    as_dates = [d(x) if x else None for x in (date_from, date_to)]
    assert codes(rules.check_port_hours_range(*as_dates)) == expected


def test_R23_message():
    [refusal] = rules.check_port_hours_range(d("2026-11-01"), d("2026-11-17"))
    assert refusal.render() == "时间区间不得超过15天，请缩小工作日期范围。"


# Codes and counters.

@pytest.mark.parametrize("check, value, valid", [
    (rules.is_customs_code, "130198004Y", True),
    (rules.is_customs_code, "130198004y", False),
    (rules.is_customs_code, "130198004", False),
    (rules.is_customs_code, "１30198004Y", False),
    (rules.is_uscc, "9113000034801880XB", True),
    (rules.is_uscc, "91120000MA05K1234P", True),
    (rules.is_uscc, "9113000034801880XA", False),               # wrong check digit
    (rules.is_uscc, "9113000034801880xb", False),               # lower case
    (rules.is_uscc, "91130000 34801880XB", False),
    (rules.is_uscc, "0412000024001880YB", False),               # the seed's sample is not a real code
    (rules.is_inspection_code, "1301111111", True),
    (rules.is_inspection_code, "130111111A", False),
    (rules.is_mobile, "13800138000", True),
    (rules.is_mobile, "19912345678", True),
    (rules.is_mobile, "12800138000", False),
    (rules.is_mobile, "1380013800", False),
    (rules.is_mobile, "1380013800０", False),
    (rules.is_hs_code, "2006001000", True),
    (rules.is_hs_code, "2006", False),
    (rules.is_declaration_number, "040020261000000001", True),
    (rules.is_declaration_number, "04002026100000000", False),
    (rules.is_port_code, "0400", True),
    (rules.is_port_code, "400", False),
], ids=lambda v: getattr(v, "__name__", str(v)))
def test_code_shapes(check, value, valid):
    assert check(value) is valid


def test_pre_entry_number():
    assert rules.pre_entry_number(2023, 1427600) == "YTG202300001427600"
    assert rules.pre_entry_number(2026, 1) == "YTG202600000000001"
    with pytest.raises(ValueError):
        rules.pre_entry_number(2026, 10 ** 11)


@pytest.mark.parametrize("text, size", [("", 0), (None, 0), ("abc", 3), ("冷冻海鲜", 12), ("a冷😀", 8), ("é", 2)])
def test_byte_length_is_utf8(text, size):
    assert rules.byte_length(text) == size


def test_labels_from_the_seed():
    assert [rules.STATUS_LABELS[s] for s in ALL_STATUSES] == [
        "暂存", "申报", "已受理", "预约成功", "通关完成", "退单", "已取消", "通关完成未反馈"]
    assert rules.DIRECTION_LABELS == {IMPORT: "进口", EXPORT: "出口"}


def test_R18_statement_needs_text():
    assert [r.code for r in rules.check_statement_text("  ")] == ["R18.empty"]
    assert rules.check_statement_text("货物延误，特此说明") == []


def test_R17_feedback_needs_a_number():
    assert [r.code for r in rules.check_feedback_present(["", " "])] == ["R17.none"]
    assert rules.check_feedback_present(["800020261000000123"]) == []


def test_only_the_declarant_acts_and_R3_R6_block_a_new_form():
    now = datetime(2026, 11, 23, 10)
    start = datetime(2026, 11, 25, 18)
    assert rules.allowed_actions(rules.DRAFT, start, now, False, False, is_declarant=False) == {"new", "close"}
    assert rules.allowed_actions(None, None, now, False, False, may_start=False) == {"new", "close"}
    assert {"save", "submit"} <= rules.allowed_actions(None, None, now, False, False)


@pytest.mark.parametrize("mode, direction, key", [
    ("5", "I", ("air", "import")), ("3", "E", ("rail", "export")), ("2", "I", ("water", "import")), ("4", "I", None), ("5", "", None),
])
def test_timetable_key(mode, direction, key):
    assert rules.timetable_key(mode, direction) == key
