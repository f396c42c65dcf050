"""The JSON API's schemas (pydantic 2): requests are parsed with them, responses dumped through them, and the
OpenAPI 3.1 document (blueprints/api.openapi) is generated from them, so the document and the code cannot drift."""
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

# Strings are checked by the same rules as the screens (lengths, control characters, choices); the schemas only
# bound what no field could hold, so that a huge body is refused before any rule reads it.
Text = Field(default="", max_length=10000)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class GoodsRow(Strict):
    name: str = Field(default="", max_length=10000, description="商品名称")
    hs_code: str = Field(default="", max_length=100, description="商品HS编码 (10 digits)")


class Draft(Strict):
    """An application's fields, named as the form's; a blank string is a field not filled in yet."""

    consignee_code: str = Field(default="", max_length=100, description="收发货人: 10-character customs code or 18-character USCC")
    contact_name: str = Field(default="", max_length=1000, description="联系人姓名")
    contact_mobile: str = Field(default="", max_length=100, description="联系人手机")
    declaration_port: str = Field(default="", max_length=100, description="预约申报口岸 (4-digit port code)")
    entry_port: str = Field(default="", max_length=100, description="预约进出口岸 (4-digit port code)")
    transport_mode: str = Field(default="", max_length=100, description="运输方式 code")
    start_date: str = Field(default="", max_length=100, description="预约通关时间, date: YYYY-MM-DD")
    start_hour: str = Field(default="", max_length=100, description="预约通关时间, hour: 00-23")
    reason_category: str = Field(default="", max_length=100, description="事由类别 code")
    reason_text: str = Text
    direction: str = Field(default="", max_length=100, description="进出口标识: I or E")
    goods: list[GoodsRow] = Field(default_factory=list, max_length=200)
    declaration_numbers: list[str] = Field(default_factory=list, max_length=200)


class DraftUpdate(Draft):
    """A draft's new fields and the version they were read at (optimistic locking: a stale version is refused)."""

    version: int = Field(ge=1, le=2**31 - 1)


class Version(Strict):
    version: int | None = Field(default=None, ge=1, le=2**31 - 1, description="If given, refused unless current")


class Cancel(Strict):
    note: str = Text


class Feedback(Strict):
    declaration_numbers: list[str] = Field(max_length=200)


class Statement(Strict):
    text: str = Text


class Party(BaseModel):
    customs_code: str
    uscc: str
    name: str


class Application(BaseModel):
    id: int
    pre_entry_number: str
    application_number: str | None
    status: str = Field(description="Status as of now (通关完成未反馈 computed, R17)")
    status_label: str
    declarant: Party
    consignee: Party | None
    consignee_code: str
    contact_name: str
    contact_mobile: str
    declaration_port: str | None
    entry_port: str | None
    transport_mode: str
    start: datetime | None
    end: datetime | None
    reason_category: str
    reason_text: str
    direction: str
    goods: list[GoodsRow]
    declaration_numbers: list[str]
    attachments: list[str] = Field(description="随附补充材料: file names")
    created_at: datetime
    submitted_at: datetime | None
    accepted_at: datetime | None
    approved_at: datetime | None
    cancelled_at: datetime | None
    return_reason: str
    statement_text: str
    statement_at: datetime | None
    version: int
    actions: list[str] = Field(description="What the caller may do now: save, submit, delete, cancel, feedback, statement")


class ApplicationPage(BaseModel):
    items: list[Application]
    total: int
    page: int
    pages: int


class Refusal(BaseModel):
    code: str = Field(description="The same code the screens use, e.g. R11.late")
    field: str | None
    message: str = Field(description="In the language of Accept-Language (zh or en)")


class Refusals(BaseModel):
    errors: list[Refusal]


class HSLine(BaseModel):
    code: str
    name: str
    note: str


class HSLines(BaseModel):
    items: list[HSLine]


class WorkingDay(BaseModel):
    port_code: str
    port_name: str
    day: date
    opens: str
    closes: str
    provisional: bool


class WorkingDays(BaseModel):
    items: list[WorkingDay]


class ListQuery(BaseModel):
    """预约通关查询's filters (R21, R22: at most 15 days per range)."""

    model_config = ConfigDict(extra="ignore")
    category: Literal["A", "B"] = Field(default="A", description="A: as declarant, B: as consignee")
    consignee_code: str = Field(default="", max_length=100)
    status: str = Field(default="", max_length=100)
    applied_from: str = Field(default="", max_length=100, description="YYYY-MM-DD")
    applied_to: str = Field(default="", max_length=100, description="YYYY-MM-DD")
    appointment_from: str = Field(default="", max_length=100, description="YYYY-MM-DD")
    appointment_to: str = Field(default="", max_length=100, description="YYYY-MM-DD")
    pre_entry_number: str = Field(default="", max_length=100)
    page: int = Field(default=1, ge=1, le=1000000)


class HSQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")
    prefix: str = Field(max_length=100, description="At least the first digits of an HS code")


class PortHoursQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")
    port_code: str = Field(default="", max_length=100, description="Blank: every port")
    date_from: str = Field(max_length=100, description="YYYY-MM-DD")
    date_to: str = Field(max_length=100, description="YYYY-MM-DD (R23: at most 15 days)")


class Timetable(BaseModel):
    """A port's published operation timetable (口岸作业时间公示表), as published: phases → groups → steps."""

    port_code: str
    mode: str
    direction: str
    title: str
    columns: Any
    phases: Any
    notes: Any
    totals: Any
    total_caption: str
    publishers: str
    published_on: date


class Timetables(BaseModel):
    items: list[Timetable]


class TimetableQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")
    port_code: str = Field(default="", max_length=100, description="Blank: every port")


class LoadDay(BaseModel):
    day: date
    hours: list[str] = Field(description="24 states, 00:00 to 23:00: free, few, full, working, unpublished")


class Load(BaseModel):
    """预约负荷 (R24): the coming days' hours of a port."""

    port_code: str
    per_hour: int | None = Field(description="Places per hour; null: unlimited")
    days: list[LoadDay]


class LoadQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")
    port_code: str = Field(max_length=100, description="4-digit port code")
