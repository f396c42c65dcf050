"""The State Council's holiday arrangement in the public holiday-cn format (NateScarlet/holiday-cn): read and check.

One JSON file per year: ``{"year": 2027, "papers": [...], "days": [{"name": "元旦", "date": "2027-01-01",
"isOffDay": true}, ...]}``. ``isOffDay: false`` marks an adjusted working day (调休, on a weekend). The days of the
holiday that starts a year may fall in the previous December, so a file for 2027 may name 2026-12 dates.
Plain data in, an Arrangement or refusals out: no Flask, no database.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date

from rules import N_, ArrangedDay, Refusal

MAX_REFUSALS = 10
FIRST_YEAR, LAST_YEAR = 2000, 2100


@dataclass(frozen=True)
class Arrangement:
    """A year's arrangement: the arranged days by date (some may be in the previous December), and its sources."""

    year: int
    days: dict[date, ArrangedDay]
    papers: tuple[str, ...] = field(default_factory=tuple)

    def in_year(self, year: int) -> dict[date, ArrangedDay]:
        """The arranged days that fall in that calendar year."""
        return {day: entry for day, entry in self.days.items() if day.year == year}

    @property
    def off_days(self) -> int:
        return sum(1 for entry in self.days.values() if entry.off)

    @property
    def adjusted_working_days(self) -> int:
        return sum(1 for entry in self.days.values() if not entry.off)


def _refuse(text, **params):
    return Refusal(text=text, params=params, code="holiday_cn.invalid", field="file")


def parse(raw: bytes | str) -> Arrangement | list[Refusal]:
    """Read a holiday-cn file; every problem found is named (which entry, which key, what was expected)."""
    try:
        text = raw.decode("utf-8-sig") if isinstance(raw, bytes) else raw
        document = json.loads(text)
    except UnicodeDecodeError:
        return [_refuse(N_("文件不是 UTF-8 编码的文本，请上传 holiday-cn 格式的 JSON 文件（例如 2027.json）。"))]
    except json.JSONDecodeError as exc:
        return [_refuse(N_("文件不是有效的 JSON：第 %(line)s 行第 %(column)s 列有误（%(problem)s）。"),
                        line=exc.lineno, column=exc.colno, problem=exc.msg)]
    if not isinstance(document, dict):
        return [_refuse(N_("文件内容应为一个对象，含 year、papers 和 days 三项。"))]
    year = document.get("year")
    if not isinstance(year, int) or isinstance(year, bool) or not FIRST_YEAR <= year <= LAST_YEAR:
        return [_refuse(N_("“year” 应为 %(first)s 至 %(last)s 之间的年份数字，文件中是 %(value)s。"),
                        first=FIRST_YEAR, last=LAST_YEAR, value=json.dumps(year, ensure_ascii=False))]
    entries = document.get("days")
    if not isinstance(entries, list) or not entries:
        return [_refuse(N_("“days” 应为节假日安排的列表，且至少有一项；文件中没有。"))]
    papers = document.get("papers", [])
    if not isinstance(papers, list) or not all(isinstance(p, str) for p in papers):
        return [_refuse(N_("“papers” 应为文字列表（国务院通知的网址）。"))]
    refusals, days = [], {}
    for number, entry in enumerate(entries, start=1):
        problem = _check_entry(number, entry, year, days)
        if isinstance(problem, Refusal):
            refusals.append(problem)
            if len(refusals) >= MAX_REFUSALS:
                break
        else:
            days[problem.day] = problem
    return refusals or Arrangement(year=year, days=days, papers=tuple(papers))


def _check_entry(number, entry, year, seen) -> ArrangedDay | Refusal:
    if not isinstance(entry, dict):
        return _refuse(N_("days 第 %(number)s 项应为含 name、date、isOffDay 的对象。"), number=number)
    name, typed, off = entry.get("name"), entry.get("date"), entry.get("isOffDay")
    if not isinstance(name, str) or not name.strip():
        return _refuse(N_("days 第 %(number)s 项缺少节日名称 “name”。"), number=number)
    try:
        day = date.fromisoformat(typed) if isinstance(typed, str) and len(typed) == 10 else None
    except ValueError:
        day = None
    if day is None:
        return _refuse(N_("days 第 %(number)s 项（%(name)s）的日期 “%(value)s” 不是 YYYY-MM-DD 格式的日期。"),
                       number=number, name=name, value=typed if isinstance(typed, str) else json.dumps(typed))
    if not isinstance(off, bool):
        return _refuse(N_("days 第 %(number)s 项（%(name)s %(day)s）的 “isOffDay” 应为 true（放假）或 false（调休上班）。"),
                       number=number, name=name, day=typed)
    # The holiday that starts the year may begin in the previous December; nothing else lies outside the year.
    if day.year != year and not (day.year == year - 1 and day.month == 12):
        return _refuse(N_("days 第 %(number)s 项（%(name)s）的日期 %(day)s 不属于 %(year)s 年的安排"
                          "（只允许 %(year)s 年全年及上一年 12 月的日期）。"),
                       number=number, name=name, day=typed, year=year)
    if not off and day.weekday() < 5:
        return _refuse(N_("days 第 %(number)s 项（%(name)s）把 %(day)s 标为调休上班，但这一天是周一至周五，本来就上班；"
                          "请检查日期或 isOffDay。"), number=number, name=name, day=typed)
    if day in seen and seen[day].off != off:
        return _refuse(N_("days 第 %(number)s 项：%(day)s 出现两次，一次放假、一次上班，请只保留一项。"),
                       number=number, day=typed)
    return ArrangedDay(day, name.strip(), off)
