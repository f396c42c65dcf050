"""Flask-WTF form classes. They bind and render values; every decision on them is rules.py's."""
from datetime import date, datetime, time

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    FieldList,
    Form,
    FormField,
    HiddenField,
    MultipleFileField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)

import rules

HOURS = [(f"{h:02d}", f"{h:02d}:00") for h in range(24)]


class GoodsRowForm(Form):
    """A row of the goods list (no CSRF of its own: it lives inside ApplicationForm)."""

    name = StringField(_l("商品名称"))
    hs_code = StringField(_l("商品HS编码"))


class ApplicationForm(FlaskForm):
    """The 预约申请 form, field names as rules.ApplicationInput's."""

    version = HiddenField()
    consignee_code = StringField(_l("收发货人"), render_kw={"placeholder": _l("10位海关编码或18位社会信用代码"), "maxlength": 18})
    contact_name = StringField(_l("联系人姓名"), render_kw={"maxlength": 50})
    contact_mobile = StringField(_l("联系人手机"), render_kw={"maxlength": 11})
    declaration_port = SelectField(_l("预约申报口岸"), validate_choice=False)
    entry_port = SelectField(_l("预约进出口岸"), validate_choice=False)
    transport_mode = SelectField(_l("运输方式"), validate_choice=False)
    start_date = StringField(_l("预约通关时间"), render_kw={"type": "date", "placeholder": "YYYY-MM-DD", "size": 10})
    start_hour = SelectField(_l("时"), choices=HOURS, validate_choice=False)
    reason_category = SelectField(_l("事由类别"), validate_choice=False)
    reason_text = TextAreaField(_l("预约通关事由"), render_kw={"rows": 2, "cols": 60})
    direction = RadioField(_l("进出口标识"), validate_choice=False)
    goods = FieldList(FormField(GoodsRowForm))
    new_hs_code = StringField(_l("商品HS编码"), render_kw={"maxlength": 10, "size": 12})
    new_goods_name = StringField(_l("商品名称"), render_kw={"size": 40})
    hs_choice = RadioField(_l("商品列表"), validate_choice=False)
    declaration_numbers = FieldList(StringField(_l("预约通关报关单号")))
    new_declaration_number = StringField(_l("预约通关报关单号"), render_kw={"maxlength": 18, "size": 22})
    attachments = MultipleFileField(_l("随附补充材料"), render_kw={"accept": ".pdf,application/pdf"})

    def set_choices(self, ports, modes):
        """Fill the drop-downs from the code tables; an empty first choice means 'not chosen'."""
        blank = [("", _l("按空格下拉选择"))]
        port_choices = blank + [(p.code, f"{p.code} {p.name}") for p in ports]
        self.declaration_port.choices = port_choices
        self.entry_port.choices = port_choices
        self.transport_mode.choices = blank + [(m.code, f"{m.code} {m.name}") for m in modes]
        self.reason_category.choices = blank + [(k, _l(v)) for k, v in rules.REASON_CATEGORIES.items()]
        self.direction.choices = [(k, _l(v)) for k, v in rules.DIRECTION_LABELS.items()]

    def start(self):
        """The appointment start as typed (date + hour), or None when the date is missing or malformed."""
        try:
            day = date.fromisoformat((self.start_date.data or "").strip())
            hour = int(self.start_hour.data or 0)
        except ValueError:
            return None
        return datetime.combine(day, time(hour % 24))

    def goods_rows(self):
        return [rules.GoodsItem(name=(r["name"] or "").strip(), hs_code=(r["hs_code"] or "").strip()) for r in self.goods.data]

    def numbers(self):
        return [(n or "").strip() for n in self.declaration_numbers.data]

    def replace_goods(self, rows):
        """Put these rows (GoodsItem) in the goods list, in order."""
        _refill(self.goods, [{"name": r.name, "hs_code": r.hs_code} for r in rows])

    def replace_numbers(self, numbers):
        _refill(self.declaration_numbers, list(numbers))

    def load(self, application):
        """Fill the form from a stored application."""
        self.version.data = str(application.version)
        for name in ("consignee_code", "contact_name", "contact_mobile", "transport_mode", "reason_category", "reason_text", "direction"):
            getattr(self, name).data = getattr(application, name)
        self.declaration_port.data = application.declaration_port or ""
        self.entry_port.data = application.entry_port or ""
        if application.start:
            self.start_date.data = application.start.date().isoformat()
            self.start_hour.data = f"{application.start.hour:02d}"
        self.replace_goods([rules.GoodsItem(name=g.name, hs_code=g.hs_code) for g in application.goods])
        self.replace_numbers(n.number for n in application.declaration_numbers)


def _refill(field_list, values):
    while field_list.entries:
        field_list.pop_entry()
    for value in values:
        field_list.append_entry(value)


class StatementForm(FlaskForm):
    """The 情况说明 box: text and at most one PDF (R18)."""

    statement_text = TextAreaField(_l("情况说明"), render_kw={"rows": 4, "cols": 80})
    statement_file = MultipleFileField(_l("上传PDF"), render_kw={"accept": ".pdf,application/pdf"})
