"""Flask-WTF form classes. They bind and render values; every decision on them is rules.py's."""
import re
from datetime import date, datetime, time

from flask_babel import get_locale
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
from fieldmarkup import FastMarkup
from models import Application, DeclarationNumber, GoodsItem

HOURS = [(f"{h:02d}", f"{h:02d}:00") for h in range(24)]
_HOUR = re.compile(r"[0-9]{1,2}")


def column_length(attribute):
    """The length of a model's string column: the one source of the forms' length limits."""
    return attribute.property.columns[0].type.length


def _label(field_name):
    return rules.Message(text=rules.FIELD_LABELS[field_name])


def _number_label(item):
    return rules.Message(text=rules.N_("第%(item)s个预约通关报关单号"), params={"item": item})


class GoodsRowForm(Form):
    """A row of the goods list (no CSRF of its own: it lives inside ApplicationForm)."""

    Meta = FastMarkup

    name = StringField(_l("商品名称"))
    hs_code = StringField(_l("商品HS编码"))


class ApplicationForm(FlaskForm):
    """The 预约申请 form, field names as rules.ApplicationInput's."""

    class Meta(FastMarkup):
        pass

    version = HiddenField()
    consignee_code = StringField(_l("收发货人"), render_kw={"placeholder": _l("10位海关编码或18位社会信用代码"),
                                                             "maxlength": column_length(Application.consignee_code)})
    contact_name = StringField(_l("联系人姓名"), render_kw={"maxlength": column_length(Application.contact_name)})
    contact_mobile = StringField(_l("联系人手机"), render_kw={"maxlength": column_length(Application.contact_mobile)})
    declaration_port = SelectField(_l("预约申报口岸"), validate_choice=False)
    entry_port = SelectField(_l("预约进出口岸"), validate_choice=False)
    transport_mode = SelectField(_l("运输方式"), validate_choice=False)
    start_date = StringField(_l("预约通关时间"), render_kw={"type": "date", "placeholder": "YYYY-MM-DD", "size": 10})
    start_hour = SelectField(_l("时"), choices=HOURS, validate_choice=False)
    reason_category = SelectField(_l("事由类别"), validate_choice=False)
    reason_text = TextAreaField(_l("预约通关事由"), render_kw={"rows": 2, "cols": 60})
    direction = RadioField(_l("进出口标识"), validate_choice=False)
    goods = FieldList(FormField(GoodsRowForm))
    new_hs_code = StringField(_l("商品HS编码"), render_kw={"maxlength": column_length(GoodsItem.hs_code), "size": 12})
    new_goods_name = StringField(_l("商品名称"), render_kw={"size": 40})
    hs_choice = RadioField(_l("商品列表"), validate_choice=False)
    declaration_numbers = FieldList(StringField(_l("预约通关报关单号")))
    new_declaration_number = StringField(_l("预约通关报关单号"),
                                         render_kw={"maxlength": column_length(DeclarationNumber.number), "size": 22})
    attachments = MultipleFileField(_l("随附补充材料"), render_kw={"accept": ".pdf,application/pdf"})

    def set_choices(self, reference):
        """Fill the drop-downs from the code tables (models.ReferenceData); an empty first choice means 'not chosen'."""
        blank = [("", _l("按空格下拉选择"))]
        ports, modes = reference.named(str(get_locale() or "").startswith("en"))
        port_choices = blank + [(code, f"{code} {name}") for code, name in ports]
        self.declaration_port.choices = port_choices
        self.entry_port.choices = port_choices
        self.transport_mode.choices = blank + [(code, f"{code} {name}") for code, name in modes]
        self.reason_category.choices = blank + [(k, _l(v)) for k, v in rules.REASON_CATEGORIES.items()]
        self.direction.choices = [(k, _l(v)) for k, v in rules.DIRECTION_LABELS.items()]

    # The boxes typed into, each stored in a column of its own length; free text has rules' limit instead.
    SINGLE_LINE = ("consignee_code", "contact_name", "contact_mobile")
    CHOSEN = ("declaration_port", "entry_port", "transport_mode", "reason_category", "direction")

    def _typed_day(self):
        try:
            return date.fromisoformat((self.start_date.data or "").strip())
        except ValueError:
            return None

    def _typed_hour(self):
        """The hour chosen (none chosen: 0), or None when it is not one of 00–23."""
        typed = (self.start_hour.data or "").strip()
        if not typed:
            return 0
        return int(typed) if _HOUR.fullmatch(typed) and int(typed) < 24 else None

    def start(self):
        """The appointment start as typed (date + hour), or None when either is missing, malformed or out of range."""
        day, hour = self._typed_day(), self._typed_hour()
        if day is None or hour is None or rules.check_date_in_range(day, "start"):
            return None
        return datetime.combine(day, time(hour))

    def malformed_start(self):
        """A typed date or hour that is not one would otherwise vanish silently (or wrap round): refuse it by name."""
        refusals = []
        typed = (self.start_date.data or "").strip()
        if typed and self._typed_day() is None:
            refusals.append(rules.Refusal(text=rules.N_("预约通关时间 %(value)s 不是有效日期，请按 YYYY-MM-DD 填写。"),
                                          params={"value": rules.shown(typed)}, code="invalid.start", field="start"))
        elif typed:
            refusals += rules.check_date_in_range(self._typed_day(), "start", _label("start"))
        if self._typed_hour() is None:
            refusals.append(rules.Refusal(text=rules.N_("预约通关时间的小时 %(value)s 应为 00 至 23，请从列表中选择。"),
                                          params={"value": rules.shown(self.start_hour.data)}, code="invalid.start_hour",
                                          field="start"))
        return refusals

    def malformed(self):
        """What no rule should have to read, each refused by its field: control characters, text longer than its
        column (free text: longer than rules allow), a choice the list does not offer, a date or hour that is none.

        Nothing is looked up or written with the form until these pass.
        """
        refusals = []
        for name in self.SINGLE_LINE:
            refusals += rules.check_typed_text((getattr(self, name).data or "").strip(), name, _label(name),
                                               column_length(getattr(Application, name)))
        refusals += rules.check_typed_text(self.reason_text.data or "", "reason_text", _label("reason_text"),
                                           rules.MAX_REASON_TEXT_BYTES, multiline=True, in_bytes=True)
        for item, row in enumerate(self.goods_rows(), 1):
            refusals += rules.check_typed_text(row.name, "goods", rules.goods_cell_label(item, rules.N_("商品名称")),
                                               column_length(GoodsItem.name))
            refusals += rules.check_typed_text(row.hs_code, "goods", rules.goods_cell_label(item, rules.N_("商品HS编码")),
                                               column_length(GoodsItem.hs_code))
        for item, number in enumerate(self.numbers(), 1):
            refusals += rules.check_typed_text(number, "declaration_numbers", _number_label(item),
                                               column_length(DeclarationNumber.number))
        for name in self.CHOSEN:
            refusals += self._not_offered(name)
        return refusals + self.malformed_start()

    def _not_offered(self, name):
        # The drop-downs do not check their choices themselves (validate_choice=False) so that the page
        # can say which one and keep everything else as typed.
        field = getattr(self, name)
        value = (field.data or "").strip()
        if not value or value in {str(choice[0]) for choice in field.choices or ()}:
            return []
        return [rules.Refusal(text=rules.N_("%(label)s %(value)s 不在可选列表中，请从列表中选择。"),
                              params={"label": _label(name), "value": rules.shown(value)}, code=f"unoffered.{name}",
                              field=name)]

    def goods_rows(self):
        return [rules.GoodsRow(name=(r["name"] or "").strip(), hs_code=(r["hs_code"] or "").strip()) for r in self.goods.data]

    def numbers(self):
        return [(n or "").strip() for n in self.declaration_numbers.data]

    def replace_goods(self, rows):
        """Put these rows (rules.GoodsRow) in the goods list, in order."""
        _refill(self.goods, [{"name": r.name, "hs_code": r.hs_code} for r in rows])

    def replace_numbers(self, numbers):
        _refill(self.declaration_numbers, list(numbers))

    def to_input(self, declarant, consignee, attachment_count):
        """What the form holds as rules.ApplicationInput (declarant and consignee as rules.EnterpriseInfo)."""
        text = {name: (getattr(self, name).data or "").strip() for name in Application.TEXT_FIELDS}
        # Free text keeps its own spacing; codes are compared upper-case.
        text["reason_text"] = self.reason_text.data or ""
        text["consignee_code"] = text["consignee_code"].upper()
        return rules.ApplicationInput(
            declarant=declarant,
            consignee=consignee,
            **text,
            **{name: (getattr(self, name).data or "").strip() for name in Application.PORT_FIELDS},
            start=self.start(),
            goods=self.goods_rows(),
            declaration_numbers=[n for n in self.numbers() if n],
            attachment_count=attachment_count,
        )

    def load(self, application):
        """Fill the form from a stored application."""
        self.version.data = str(application.version)
        for name in Application.TEXT_FIELDS:
            getattr(self, name).data = getattr(application, name)
        for name in Application.PORT_FIELDS:
            getattr(self, name).data = getattr(application, name) or ""
        if application.start:
            self.start_date.data = application.start.date().isoformat()
            self.start_hour.data = f"{application.start.hour:02d}"
        goods, numbers = application.goods_and_numbers()
        self.replace_goods(goods)
        self.replace_numbers(numbers)


def _refill(field_list, values):
    while field_list.entries:
        field_list.pop_entry()
    for value in values:
        field_list.append_entry(value)


class StatementForm(FlaskForm):
    """The 情况说明 box: text and at most one PDF (R18)."""

    class Meta(FastMarkup):
        pass

    statement_text = TextAreaField(_l("情况说明"), render_kw={"rows": 4, "cols": 80})
    statement_file = MultipleFileField(_l("上传PDF"), render_kw={"accept": ".pdf,application/pdf"})


class PaperApplicationForm(ApplicationForm):
    """纸质申请 (公告109): the application form as an officer fills it from the stamped paper form."""

    declarant_code = StringField(_l("申报单位"), render_kw={"placeholder": _l("10位海关编码或18位社会信用代码"), "maxlength": 18})
    paper_reference = StringField(_l("纸质申请单编号"), render_kw={"maxlength": rules.MAX_PAPER_REFERENCE})
    paper_received_on = StringField(_l("收单日期"), render_kw={"type": "date", "placeholder": "YYYY-MM-DD", "size": 10})
    exception_reason = TextAreaField(_l("例外原因"), render_kw={"rows": 2, "cols": 60})

    def received_on(self):
        try:
            return date.fromisoformat((self.paper_received_on.data or "").strip())
        except ValueError:
            return None
