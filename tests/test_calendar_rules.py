"""Working-calendar rules without the web: statutory holidays, the provisional year, holiday-cn files (R11–R13)."""
import json
from datetime import date, datetime, time
from pathlib import Path

import pytest

import holidays_cn
import rules

FIXTURE = Path(__file__).parent / "data" / "holiday-cn-2027.json"


@pytest.mark.parametrize("year, expected", [
    # Checked against the State Council's notices for 2025 and 2026 (the statutory days only, not the bridges).
    (2025, {"2025-01-28": "春节", "2025-01-31": "春节", "2025-04-04": "清明节", "2025-05-31": "端午节",
            "2025-10-06": "中秋节"}),
    (2026, {"2026-02-16": "春节", "2026-04-05": "清明节", "2026-06-19": "端午节", "2026-09-25": "中秋节"}),
    (2027, {"2027-01-01": "元旦", "2027-02-05": "春节", "2027-02-08": "春节", "2027-04-05": "清明节",
            "2027-05-01": "劳动节", "2027-05-02": "劳动节", "2027-06-09": "端午节", "2027-09-15": "中秋节",
            "2027-10-03": "国庆节"}),
])
def test_statutory_holidays_computed_from_lunar_dates_and_solar_terms(year, expected):
    holidays = rules.statutory_holidays(year)
    assert len(holidays) == 13
    for day, name in expected.items():
        assert holidays[date.fromisoformat(day)] == name


def test_provisional_year_is_weekdays_minus_statutory_holidays_without_guessed_weekends():
    days = {d.day for d in rules.provisional_working_days(2027)}
    assert date(2027, 1, 1) not in days and date(2027, 2, 5) not in days and date(2027, 10, 1) not in days
    assert date(2027, 1, 4) in days
    assert not any(day.weekday() >= 5 for day in days)  # no 调休 weekend is guessed
    assert rules.generate_working_days(2027, provisional=True) == rules.provisional_working_days(2027)


def test_r11_provisional_2027_new_years_evening_is_not_working_time():
    calendar = rules.build_port_calendar("8000", [], provisional_years=[2027])
    start = datetime(2027, 1, 1, 20)
    assert rules.check_window(start, calendar, calendar, datetime(2026, 11, 23, 10)) == []
    # R11 still refuses a window in a provisional working day's hours.
    refusals = rules.check_window(datetime(2027, 1, 4, 15), calendar, calendar, datetime(2026, 11, 23, 10))
    assert [r.code for r in refusals] == ["R11.working_hours"]


def test_holiday_cn_fixture_parses():
    arrangement = holidays_cn.parse(FIXTURE.read_bytes())
    assert arrangement.year == 2027
    assert arrangement.days[date(2027, 1, 31)] == rules.ArrangedDay(date(2027, 1, 31), "春节", False)
    assert arrangement.days[date(2027, 1, 1)].off


def document(days, year=2027):
    return json.dumps({"year": year, "papers": [], "days": days}, ensure_ascii=False).encode()


@pytest.mark.parametrize("raw, says", [
    (b"\xff\xfe", "UTF-8"),
    (b"{not json", "不是有效的 JSON：第 1 行"),
    (b"[]", "含 year、papers 和 days"),
    (json.dumps({"year": "2027", "days": []}).encode(), "“year” 应为"),
    (document([]), "“days” 应为"),
    (document([{"name": "元旦", "date": "2027-13-01", "isOffDay": True}]), "第 1 项（元旦）的日期 “2027-13-01”"),
    (document([{"name": "元旦", "date": "2027-01-01", "isOffDay": "yes"}]), "“isOffDay” 应为 true"),
    (document([{"name": "元旦", "date": "2025-12-31", "isOffDay": True}]), "不属于 2027 年的安排"),
    (document([{"name": "春节", "date": "2027-01-04", "isOffDay": False}]), "本来就上班"),
    (document([{"date": "2027-01-01", "isOffDay": True}]), "缺少节日名称"),
])
def test_holiday_cn_bad_files_are_refused_naming_what_is_wrong(raw, says):
    refusals = holidays_cn.parse(raw)
    assert isinstance(refusals, list) and says in refusals[0].render()


def test_previous_december_belongs_to_the_next_years_file():
    arrangement = holidays_cn.parse(document([{"name": "元旦", "date": "2026-12-31", "isOffDay": True}]))
    assert list(arrangement.in_year(2026)) == [date(2026, 12, 31)] and arrangement.in_year(2027) == {}


def test_arranged_year_weekday_working_offday_off_adjusted_weekend_working():
    arrangement = holidays_cn.parse(FIXTURE.read_bytes())
    days = rules.arranged_year(2027, arrangement.in_year(2027), kept_hours={date(2027, 1, 4): (time(8), time(17))})
    assert not days[date(2027, 1, 1)].working and days[date(2027, 1, 1)].note == "元旦"
    assert days[date(2027, 1, 31)].working and days[date(2027, 1, 31)].closes == time(16, 30)  # 调休 Sunday
    assert not days[date(2027, 1, 30)].working  # a plain Saturday
    assert (days[date(2027, 1, 4)].opens, days[date(2027, 1, 4)].closes) == (time(8), time(17))


@pytest.mark.parametrize("opens, closes, field", [("9", "16:30", "opens"), ("09:00", "24:00", "closes"),
                                                  ("17:00", "09:00", "closes")])
def test_day_hours_refused_naming_the_box(opens, closes, field):
    assert [r.field for r in rules.parse_day_hours(opens, closes)[2]] == [field]


def test_cli_import_publishes_the_year(app):
    from sqlalchemy import select

    from extensions import db
    from models import AuditEntry, CalendarYear

    result = app.test_cli_runner().invoke(args=["calendar", "import", str(FIXTURE), "--port", "8000",
                                                "--port", "0400"])
    assert result.exit_code == 0, result.output
    assert "8000 2027:" in result.output
    with app.app_context():
        assert db.session.get(CalendarYear, ("8000", 2027)).provisional is False
        assert db.session.get(CalendarYear, ("0400", 2027)).provisional is False
        assert len(db.session.execute(select(AuditEntry).where(AuditEntry.action == "calendar.import")).all()) == 2


def test_cli_import_refuses_a_bad_file(app, tmp_path):
    bad = tmp_path / "2027.json"
    bad.write_text('{"year": 2027, "days": [{"name": "元旦", "date": "2027-02-30", "isOffDay": true}]}')
    result = app.test_cli_runner().invoke(args=["calendar", "import", str(bad), "--port", "8000"])
    assert result.exit_code != 0 and "2027-02-30" in result.output
