"""Field markup without WTForms' per-attribute overhead: the same bytes, written in one pass.

WTForms renders each attribute through ``Markup.format`` and reads a field's flags with ``dir()``; on the
application page that was most of the page's cost (a select of 24 hours took 0.4 ms). ``FastMarkup`` is a form
``Meta`` that renders text, hidden, radio, file and textarea inputs and plain selects itself, attribute for attribute as
WTForms would (sorted, boolean attributes bare, values escaped), and hands any other widget back to WTForms.
tests/test_foundation.py compares both renderings field by field.
"""
from functools import lru_cache

import flask_babel
from flask_babel.speaklater import LazyString
from markupsafe import Markup, escape
from wtforms.fields.core import Label
from wtforms.meta import DefaultMeta
from wtforms.widgets import FileInput, HiddenInput, RadioInput, Select, TextArea, TextInput

from extensions import babel


def _plain(value):
    """A lazy label or placeholder as the Markup it renders to (a LazyString renders unescaped), else the value.

    Flask-Babel's lazy strings translate on every use, through its context lookups, and a field's label was used
    two or three times per rendering: made once here, straight from the request's catalogue (extensions.PageDomain).
    """
    if type(value) is not LazyString:
        return value
    if value._func is flask_babel.gettext and len(value._args) == 1 and not value._kwargs:  # made by lazy_gettext
        return Markup(babel.domain_instance.get_translations().ugettext(value._args[0]))
    return Markup(str(value))


def _key(key):
    key = key.rstrip("_")
    if key.startswith(("data_", "aria_")):
        key = key.replace("_", "-")
    return key


def attributes(attrs):
    """``wtforms.widgets.html_params`` for a dict: sorted, True bare, False left out, values escaped."""
    # A page's fields carry the same attributes on every request (ids, names, htmx wiring): each set is written
    # once per process. The type is part of the key: True and 1 are equal but not the same attribute.
    items = tuple((key, type(value), value) for key, value in sorted((k, _plain(v)) for k, v in attrs.items()))
    try:
        return _attributes(items)
    except TypeError:  # an unhashable value
        return _write_attributes(items)


def _write_attributes(items):
    parts = []
    for key, _, value in items:
        if value is True:
            parts.append(_key(key))
        elif value is not False:
            parts.append(f'{_key(key)}="{escape(value)}"')
    return " ".join(parts)


_attributes = lru_cache(maxsize=4096)(_write_attributes)


def _with_flags(widget, field, attrs):
    # The validators' flags (required, maxlength ...) become attributes unless given explicitly.
    for key, value in vars(field.flags).items():
        if key in widget.validation_attrs and key not in attrs:
            attrs[key] = value() if callable(value) else value
    return attrs


def _input(widget, field, attrs):
    attrs.setdefault("id", field.id)
    attrs.setdefault("type", widget.input_type)
    if "value" not in attrs:
        attrs["value"] = field._value()
    attrs["name"] = field.name
    return Markup(f"<input {attributes(_with_flags(widget, field, attrs))}>")


def _radio(widget, field, attrs):
    if field.checked:
        attrs["checked"] = True
    return _input(widget, field, attrs)


def _file(widget, field, attrs):
    attrs["value"] = False  # a browser never shows a file box's value
    if widget.multiple:
        attrs["multiple"] = True
    return _input(widget, field, attrs)


def _textarea(widget, field, attrs):
    attrs.setdefault("id", field.id)
    attrs["name"] = field.name
    return Markup(f"<textarea {attributes(_with_flags(widget, field, attrs))}>\r\n{escape(field._value())}</textarea>")


def _plain_choices(field):
    """The (value, label) pairs of a select whose choices are just that, else None (WTForms renders the rest)."""
    choices = field.choices
    if not isinstance(choices, (list, tuple)) or not all(type(c) is tuple and len(c) == 2 for c in choices):
        return None
    return choices


def _select(widget, field, attrs):
    attrs.setdefault("id", field.id)
    attrs["name"] = field.name
    html = [f"<select {attributes(_with_flags(widget, field, attrs))}>"]
    coerce, data = field.coerce, field.data
    for value, label in field.choices:
        selected = coerce(value) == data
        if isinstance(value, bool):
            value = str(value)
        label = _plain(label) or value
        if type(value) is str and type(label) in (str, Markup):
            html.append(_option(value, type(label), label, selected))
        else:
            html.append(f'<option {"selected " if selected else ""}value="{escape(value)}">{escape(label)}</option>')
    html.append("</select>")
    return Markup("".join(html))


@lru_cache(maxsize=4096)
def _option(value, label_type, label, selected):
    # The same ports, modes and hours on every page: each option's markup is made once per process (the label's
    # type is part of the key: a Markup label is not escaped again, a str one is).
    return f'<option {"selected " if selected else ""}value="{escape(value)}">{escape(label)}</option>'


_RENDERERS = {TextInput: _input, HiddenInput: _input, RadioInput: _radio, FileInput: _file, TextArea: _textarea}


class FastLabel(Label):
    """A field's label; called plainly (as templates do) it skips html_params for its one attribute."""

    def __call__(self, text=None, **kwargs):
        if text is None and not kwargs and isinstance(self.field_id, str):
            return Markup(f'<label for="{escape(self.field_id)}">{escape(_plain(self.text))}</label>')
        return super().__call__(text, **kwargs)


class FastMarkup(DefaultMeta):
    """A form Meta whose fields render as WTForms renders them, in a fraction of the time."""

    def bind_field(self, form, unbound_field, options):
        field = super().bind_field(form, unbound_field, options)
        field.label = FastLabel(field.label.field_id, field.label.text)
        return field

    def render_field(self, field, render_kw):
        widget = field.widget
        renderer = _RENDERERS.get(type(widget))
        if renderer is None and type(widget) is Select and not widget.multiple and _plain_choices(field):
            renderer = _select
        if renderer is None:
            return super().render_field(field, render_kw)
        attrs = dict(field.render_kw or {})
        attrs.update(render_kw)
        return renderer(widget, field, {_key(k): v for k, v in attrs.items()})
