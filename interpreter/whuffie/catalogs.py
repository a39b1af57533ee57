"""Message catalogs: the gettext translations of what whuffie writes for members (the notice).

Entry points: ``translation(lang)`` (a ``gettext`` translation; English, the
language of the messages themselves, needs no catalog), ``languages()``, and
``compile_po(text) -> bytes``, the one compiler of a ``.po`` catalog into the
``.mo`` file that ``gettext`` reads, so that the shipped ``.mo`` files can be
checked against their sources without GNU gettext installed.
"""

from __future__ import annotations

import ast
import gettext
import struct
from pathlib import Path

DOMAIN = "whuffie"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
SOURCE_LANGUAGE = "en"


def languages() -> list[str]:
    """Every language the notice can be written in: English, then each catalog shipped."""
    shipped = sorted(p.parent.parent.name for p in LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.mo"))
    return [SOURCE_LANGUAGE, *(lang for lang in shipped if lang != SOURCE_LANGUAGE)]


def translation(lang: str) -> gettext.NullTranslations:
    """The translation for ``lang``; raises LookupError for a language without a catalog."""
    if lang == SOURCE_LANGUAGE:
        return gettext.NullTranslations()
    if lang not in languages():
        raise LookupError(lang)
    return gettext.translation(DOMAIN, localedir=str(LOCALE_DIR), languages=[lang])


def read_po(text: str) -> dict[str, str]:
    """msgid -> msgstr of a .po catalog (the header entry, msgid "", included)."""
    entries: dict[str, str] = {}
    msgid = msgstr = None
    target = None
    for raw in text.splitlines() + [""]:
        line = raw.strip()
        if line.startswith("msgid "):
            if msgid is not None and msgstr is not None:
                entries[msgid] = msgstr
            msgid, msgstr, target = ast.literal_eval(line[6:]), None, "id"
        elif line.startswith("msgstr "):
            msgstr, target = ast.literal_eval(line[7:]), "str"
        elif line.startswith('"') and target is not None:
            if target == "id":
                msgid += ast.literal_eval(line)
            else:
                msgstr += ast.literal_eval(line)
        elif not line or line.startswith("#"):
            if msgid is not None and msgstr is not None:
                entries[msgid] = msgstr
                msgid = msgstr = None
            target = None
    return entries


def compile_po(text: str) -> bytes:
    """The .mo bytes (GNU format, little-endian, no hash table) of a .po catalog."""
    entries = sorted((k.encode("utf-8"), v.encode("utf-8")) for k, v in read_po(text).items() if v)
    count = len(entries)
    header = 7 * 4
    ids_at = header
    strs_at = ids_at + 8 * count
    data_at = strs_at + 8 * count
    ids, strs, blob = [], [], b""
    for key, _ in entries:
        ids.append((len(key), data_at + len(blob)))
        blob += key + b"\0"
    for _, value in entries:
        strs.append((len(value), data_at + len(blob)))
        blob += value + b"\0"
    out = struct.pack("<7I", 0x950412DE, 0, count, ids_at, strs_at, 0, data_at)
    out += b"".join(struct.pack("<2I", *pair) for pair in ids + strs)
    return out + blob


def messages_of(path: Path) -> list[str]:
    """Every message id a module asks for, ``_("...")`` calls in order of first use (what a catalog must hold)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "_" \
                and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
            if node.args[0].value not in found:
                found.append(node.args[0].value)
    return sorted(found, key=lambda m: (node_line(tree, m), m))


def node_line(tree: ast.AST, message: str) -> int:
    """The first line of ``tree`` that asks for ``message`` (for a stable catalog order)."""
    return min(node.lineno for node in ast.walk(tree)
               if isinstance(node, ast.Constant) and node.value == message)


def po_text(messages: list[str], translations: dict[str, str], language: str) -> str:
    """A .po catalog of ``messages`` with their ``translations`` (empty msgstr for a template)."""
    def quoted(text: str) -> str:
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'

    head = (f"Content-Type: text/plain; charset=UTF-8\\nLanguage: {language}\\n" if language else
            "Content-Type: text/plain; charset=UTF-8\\n")
    out = [f"# whuffie's messages for members ({language or 'template'}); source: interpreter/whuffie/notice.py",
           'msgid ""', f'msgstr "{head}"', ""]
    for m in messages:
        out += [f"msgid {quoted(m)}", f"msgstr {quoted(translations.get(m, ''))}", ""]
    return "\n".join(out)
