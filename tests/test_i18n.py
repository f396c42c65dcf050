"""The English translation is complete: every message the code and templates can show has one."""
import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
KEYWORDS = {"_": None, "_l": None, "gettext": None, "lazy_gettext": None, "N_": None, "ngettext": (1, 2),
            "pgettext": ((1, "c"), 2), "npgettext": ((1, "c"), 2, 3)}


def source_messages():
    method_map = [("*.py", "python"), ("blueprints/**.py", "python"), ("templates/**.html", "jinja2")]
    found = set()
    for _, _, message, _, context in extract_from_dir(str(ROOT), method_map, keywords=KEYWORDS,
                                                      callback=None, strip_comment_tags=False):
        found.add((context, message[0] if isinstance(message, tuple) else message))
    return found


def test_every_message_has_an_english_translation():
    catalog = read_po((ROOT / "translations/en/LC_MESSAGES/messages.po").open("rb"))
    missing = []
    for context, msgid in source_messages():
        entry = catalog.get(msgid, context=context)
        if entry is None or not entry.string or (isinstance(entry.string, tuple) and not all(entry.string)) or entry.fuzzy:
            missing.append(msgid)
    assert not missing, f"untranslated (run flask translate update): {sorted(missing)[:10]}"


def test_placeholders_survive_translation():
    catalog = read_po((ROOT / "translations/en/LC_MESSAGES/messages.po").open("rb"))
    names = re.compile(r"%\((\w+)\)[sd]")
    for entry in catalog:
        if entry.id and entry.string:
            source = entry.id[0] if isinstance(entry.id, tuple) else entry.id
            target = entry.string[0] if isinstance(entry.string, tuple) else entry.string
            assert set(names.findall(source)) == set(names.findall(target)), entry.id
