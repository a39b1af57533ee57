"""The message catalogs: every message of the notice translated, the shipped .mo files compiled from their .po."""

from __future__ import annotations

import re
import string
from pathlib import Path

from whuffie import catalogs

NOTICE = Path(catalogs.__file__).with_name("notice.py")
LOCALE = catalogs.LOCALE_DIR


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_the_template_lists_exactly_the_messages_the_notice_asks_for() -> None:
    messages = catalogs.messages_of(NOTICE)
    assert len(messages) > 20
    template = catalogs.read_po((LOCALE / "whuffie.pot").read_text(encoding="utf-8"))
    assert sorted(k for k in template if k) == sorted(messages)


def test_every_language_translates_every_message_with_the_same_placeholders() -> None:
    messages = catalogs.messages_of(NOTICE)
    assert catalogs.languages() == ["en", "de"]
    for lang in catalogs.languages()[1:]:
        po = catalogs.read_po((LOCALE / lang / "LC_MESSAGES" / "whuffie.po").read_text(encoding="utf-8"))
        missing = [m for m in messages if not po.get(m)]
        assert missing == [], lang
        for m in messages:
            assert _fields(po[m]) == _fields(m), (lang, m)
        assert {k for k in po if k} == set(messages), lang  # no stale entries either


def test_each_shipped_mo_is_its_po_compiled_and_gettext_reads_it() -> None:
    for lang in catalogs.languages()[1:]:
        folder = LOCALE / lang / "LC_MESSAGES"
        po = (folder / "whuffie.po").read_text(encoding="utf-8")
        assert (folder / "whuffie.mo").read_bytes() == catalogs.compile_po(po), lang
        translated = catalogs.translation(lang)
        for msgid, msgstr in catalogs.read_po(po).items():
            if msgid:
                assert translated.gettext(msgid) == msgstr


def test_english_needs_no_catalog_and_an_unknown_language_is_refused() -> None:
    assert catalogs.translation("en").gettext("Ways there:") == "Ways there:"
    try:
        catalogs.translation("xx")
    except LookupError:
        pass
    else:
        raise AssertionError("no catalog for xx")


def test_read_po_joins_continued_strings_and_escapes() -> None:
    text = 'msgid ""\nmsgstr "h"\n\nmsgid "a \\"b\\""\nmsgstr ""\n"c"\n"d\\n"\n'
    assert catalogs.read_po(text) == {"": "h", 'a "b"': "cd\n"}
    assert re.fullmatch(rb"\xde\x12\x04\x95.*", catalogs.compile_po(text), re.S)
