"""Front end: source text -> AST plus diagnostics.

Entry point: ``parse(text, file)``. Lark parses with the grammar in
grammar/whuffie.lark (LALR, contextual lexer, strict) and builds the frozen
dataclasses of ``nodes`` directly, one callback per reduction: no parse tree
is ever made (see benchmarks/README.md). Nothing downstream sees a Lark type.
Syntax errors become ``Diagnostic`` values; after an error the broken
declaration is blanked out and the file parsed again, so several errors of
one file are reported in one run.

The parser and its AST builder are process-wide singletons holding the state
of the parse in progress, so one process parses one text at a time.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from . import nodes as n
from . import sourcelines
from .diagnostics import Diagnostic, error, warning
from .limits import MAX_DEPTH

# Longer integer literals are refused before int() parses them (Python's own
# limit is 4,300 digits, and whuffie's ints are 64-bit anyway).
_MAX_INT_DIGITS = 400
MAX_ERRORS = 50  # syntax errors reported for one file before giving up

DECLARATION_KEYWORDS = (
    "ruleset", "version", "timezone", "import", "author", "subject", "event",
    "rule", "shared", "factor", "measure", "score", "tier", "privilege", "def", "test",
    "property", "condition", "param",
)


# ---------------------------------------------------------------- grammar


def grammar_path() -> Path:
    """Where the grammar lives: inside the installed package, or in the source tree."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "grammar" / "whuffie.lark", here.parents[1] / "grammar" / "whuffie.lark"):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError("grammar/whuffie.lark is missing from the installation")


class _CommentSink:
    """Collects comment tokens during one parse (the lexer drops them otherwise)."""

    def __init__(self) -> None:
        self.tokens: list[Token] = []

    def __call__(self, token: Token) -> Token:
        self.tokens.append(token)
        return token


_COMMENTS = _CommentSink()


_LARK_OPTIONS = dict(
    parser="lalr",
    lexer="contextual",
    strict=True,
    maybe_placeholders=False,
    keep_all_tokens=True,
    start=["start", "expr_input"],
)


def _table_cache_path(grammar_text: str) -> Path | None:
    """Where this user's copy of the parse tables lives, keyed by grammar, options and Lark version.

    Lark's own ``cache=True`` unpickles from the shared temporary folder, so
    any local user could plant code there. These tables are plain JSON data
    in the user's own cache folder instead: loading them cannot run code.
    """
    import hashlib

    import lark

    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    if not os.path.isabs(base):
        return None
    key = hashlib.sha256(f"{lark.__version__}\n{sorted(_LARK_OPTIONS.items())}\n{grammar_text}".encode()).hexdigest()
    return Path(base) / "whuffie" / f"lalr-{key[:32]}.json"


def _encode_tables(value):
    """Lark's serialized tables as JSON: tuples and dicts with non-text keys are tagged."""
    if isinstance(value, dict):
        if all(isinstance(k, str) for k in value):
            return {k: _encode_tables(v) for k, v in value.items()}
        return {"\u0000dict": [[_encode_tables(k), _encode_tables(v)] for k, v in value.items()]}
    if isinstance(value, tuple):
        return {"\u0000tuple": [_encode_tables(v) for v in value]}
    if isinstance(value, list):
        return [_encode_tables(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise TypeError(f"cannot store {type(value).__name__} in the table cache")


def _decode_tables(value):
    """The inverse of _encode_tables."""
    if isinstance(value, dict):
        if "\u0000dict" in value:
            return {_decode_tables(k): _decode_tables(v) for k, v in value["\u0000dict"]}
        if "\u0000tuple" in value:
            return tuple(_decode_tables(v) for v in value["\u0000tuple"])
        return {k: _decode_tables(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode_tables(v) for v in value]
    return value


def _runtime_options() -> dict:
    # Callbacks are objects of this process: never stored, always passed in.
    return {"transformer": _BUILDER, "lexer_callbacks": {"COMMENT": _COMMENTS}}


def _load_tables(path: Path) -> Lark | None:
    import json

    try:
        stored = _decode_tables(json.loads(path.read_text(encoding="utf-8")))
        return Lark._load_from_dict(stored["data"], stored["memo"], **_runtime_options())
    except Exception:  # a damaged or foreign cache file is rebuilt, never trusted
        return None


def _serialized(parser: Lark) -> tuple[dict, dict]:
    """Lark's serialized tables (data, memo) without the options given again at load time."""
    from lark.grammar import Rule
    from lark.lark import _LOAD_ALLOWED_OPTIONS
    from lark.lexer import TerminalDef

    data, memo = parser.memo_serialize([TerminalDef, Rule])
    data["options"] = {k: v for k, v in data["options"].items() if k not in _LOAD_ALLOWED_OPTIONS}
    return data, memo


def _store_tables(parser: Lark, path: Path) -> None:
    import json

    data, memo = _serialized(parser)
    try:
        text = json.dumps(_encode_tables({"data": data, "memo": memo}))
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, path)
    except (OSError, TypeError):
        pass  # no cache: the next run builds the tables again


TABLE_MODULE = Path(__file__).with_name("lalr_tables.py")


def _tables_match(tables, grammar_text: str) -> bool:
    """Whether a table module was generated from this grammar, with these options, by this Lark."""
    import lark

    return (tables.GRAMMAR == grammar_text and tables.LARK_VERSION == lark.__version__
            and tables.OPTIONS == repr(sorted(_LARK_OPTIONS.items())))


def _tables_compiled() -> bool:
    """Whether importing lalr_tables reads its bytecode (or can write it for the next run).

    Compiling its 0.7 MB of literals takes ~0.2 s, ten times decoding the JSON cache: where no
    bytecode is there and none can be written (PYTHONDONTWRITEBYTECODE, a read-only install
    without .pyc files) the cache is used instead.
    """
    import importlib.util
    import sys

    compiled = importlib.util.cache_from_source(str(TABLE_MODULE))
    if os.path.exists(compiled):
        return True
    if sys.dont_write_bytecode:
        return False
    folder = os.path.dirname(compiled)
    return os.access(folder if os.path.isdir(folder) else os.path.dirname(folder), os.W_OK)


def _packaged_parser(grammar_text: str) -> Lark | None:
    """The parser from the tables shipped in the package (lalr_tables.py), when they fit the grammar.

    They are Python literals in a module of the package, so they load as its bytecode does (a few
    ms, against ~20 ms to decode the JSON cache) and are as trusted as the rest of the code.
    """
    if not _tables_compiled():
        return None
    try:
        from . import lalr_tables
    except ImportError:
        return None
    if not _tables_match(lalr_tables, grammar_text):
        return None  # the grammar was edited (or Lark upgraded) since: `make tables` writes them again
    return Lark._load_from_dict(lalr_tables.DATA, lalr_tables.MEMO, **_runtime_options())


def table_module_text(parser: Lark, grammar_text: str) -> str:
    """The text of lalr_tables.py for a parser built from ``grammar_text``."""
    import lark
    import pprint

    data, memo = _serialized(parser)
    return "\n".join([
        '"""The LALR tables of grammar/whuffie.lark, as Lark serializes them: generated by `make tables`.',
        "",
        "parser.lark_parser loads the parser from them when GRAMMAR, LARK_VERSION and OPTIONS match",
        "what it would build (tests/test_parser_tables.py checks that they do); do not edit.",
        '"""',
        "",
        "# fmt: off",
        f"LARK_VERSION = {lark.__version__!r}",
        f"OPTIONS = {repr(sorted(_LARK_OPTIONS.items()))!r}",
        f"GRAMMAR = {grammar_text!r}",
        "DATA = " + pprint.pformat(data, width=200, compact=True, sort_dicts=False),
        "MEMO = " + pprint.pformat(memo, width=200, compact=True, sort_dicts=False),
        "",
    ])


def write_table_module(path: Path = TABLE_MODULE) -> None:
    """Build the parser from the grammar (the slow analysis) and write its tables to ``path``."""
    grammar_text = grammar_path().read_text(encoding="utf-8")
    parser = Lark(grammar_text, **_LARK_OPTIONS, **_runtime_options())
    path.write_text(table_module_text(parser, grammar_text), encoding="utf-8")


@lru_cache(maxsize=1)
def lark_parser() -> Lark:
    """The one Lark parser, built once per process: from the package's tables, else cached as JSON per user."""
    grammar_text = grammar_path().read_text(encoding="utf-8")
    packaged = _packaged_parser(grammar_text)
    if packaged is not None:
        return packaged
    path = _table_cache_path(grammar_text)
    if path is not None and path.is_file():
        loaded = _load_tables(path)
        if loaded is not None:
            return loaded
    parser = Lark(grammar_text, **_LARK_OPTIONS, **_runtime_options())
    if path is not None:
        _store_tables(parser, path)
    return parser


# ---------------------------------------------------------------- results


@dataclass
class ParseResult:
    """The AST (None when nothing could be parsed) and every diagnostic."""

    program: n.Program | None
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when there is no error (warnings allowed)."""
        return self.program is not None and not any(d.is_error for d in self.diagnostics)


def read_source(path: str | Path) -> tuple[str | None, list[Diagnostic]]:
    """Read a rule file as UTF-8 text, or explain why it cannot be read."""
    from .datafiles import not_a_regular_file
    from .limits import MAX_RULE_FILE_BYTES

    name = str(path)
    span = n.Span(name, 0, 0, 0, 0)
    refused = not_a_regular_file(path, MAX_RULE_FILE_BYTES)  # a FIFO or /dev/zero would hang or fill memory
    if refused is not None:
        return None, [error("W080", f"{name} {refused}", span)]
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        return None, [error("W006", f"no such file: {name}", span)]
    except IsADirectoryError:
        return None, [error("W006", f"{name} is a directory, not a rule file", span,
                            hint=f"pass the .whuf files inside it, e.g. {name}/*.whuf")]
    except OSError as exc:
        return None, [error("W006", f"cannot read {name}: {exc.strerror}", span)]
    if b"\x00" in data:
        return None, [error("W006", f"{name} is not a text file (it contains NUL bytes)", span,
                            hint="rule files are UTF-8 text, usually named *.whuf")]
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        return None, [error("W006", f"{name} is not valid UTF-8 (byte 0x{data[exc.start]:02x})",
                            n.Span(name, line, col, line, col + 1),
                            hint="save the file as UTF-8")]
    return text, []


def parse(text: str, file: str = "<input>") -> ParseResult:
    """Parse a whole rule file into a Program, reporting every syntax error found."""
    diags: list[Diagnostic] = []
    if not text.strip():
        diags.append(warning("W007", "the rule file is empty", n.Span(file, 1, 1, 1, 1),
                             hint='start with a header such as: ruleset my_club "My club"'))
        return ParseResult(n.Program((), (), span=n.Span(file, 1, 1, 1, 1)), diags)
    current = text
    items = None
    # Declarations before a broken one are kept from the failed parse and
    # blanked, so each retry only re-reads the rest of the file.
    kept_items: list = []
    kept_comments: list[Token] = []
    kept_literal_diags: list[Diagnostic] = []
    for _ in range(MAX_ERRORS):
        _COMMENTS.tokens = []
        _BUILDER.reset(file)
        try:
            items = lark_parser().parse(current, start="start")
            break
        except UnexpectedInput as exc:
            comments_seen = list(_COMMENTS.tokens)
            literal_diags = list(_BUILDER.diagnostics) + ([_BUILDER.too_deep] if _BUILDER.too_deep else [])
            diagnostic, offset, at_declaration = _locate_error(exc, current, file)
            diags.append(diagnostic)
            region = _broken_region(current, offset, at_declaration)
            if region is None:
                break
            begin, stop = region
            done = _items_before(exc, *_line_col(current, begin))
            if done is None:
                blank_from = begin  # keep the prefix in the text and parse it again
            else:
                blank_from = 0
                kept_items += done
                kept_comments += [t for t in comments_seen if t.start_pos < begin]
                kept_literal_diags += [d for d in literal_diags if _before(d.span, *_line_col(current, begin))]
            blanked = current[:blank_from] + _blank(current[blank_from:stop]) + current[stop:]
            if blanked == current:
                break
            current = blanked
    if items is None:
        return ParseResult(None, diags)
    too_deep = [d for d in kept_literal_diags if d.code == "W005"] or ([_BUILDER.too_deep] if _BUILDER.too_deep else [])
    if too_deep:
        diags.append(too_deep[0])
        return ParseResult(None, diags)
    items = kept_items + list(items)
    diags.extend(kept_literal_diags)
    diags.extend(_BUILDER.diagnostics)
    comment_tokens = kept_comments + list(_COMMENTS.tokens)
    if not items and not diags:
        diags.append(warning("W007", "the rule file has no declarations, only comments", n.Span(file, 1, 1, 1, 1),
                             hint='start with a header such as: ruleset my_club "My club"'))
    comments = tuple(_comment(tok, text, file) for tok in comment_tokens)
    last = text.count("\n") + 1  # the line after the last line break, as the lexer counts
    program = n.Program(tuple(items), comments, span=n.Span(file, 1, 1, last, 1))
    return ParseResult(program, diags)


def parse_expression(text: str, file: str = "<input>") -> tuple[n.Expr | None, list[Diagnostic]]:
    """Parse one expression (the REPL's input and test helpers)."""
    _BUILDER.reset(file)
    try:
        expr = lark_parser().parse(text, start="expr_input")
    except UnexpectedInput as exc:
        return None, [_syntax_diagnostic(exc, text, file)]
    if _BUILDER.too_deep is not None:
        return None, [_BUILDER.too_deep]
    diags = list(_BUILDER.diagnostics)
    return (expr if not diags else None), diags


def _comment(tok: Token, text: str, file: str) -> n.Comment:
    trailing = bool(text[sourcelines.line_start(text, tok.start_pos):tok.start_pos].strip())
    return n.Comment(tok.value[1:].rstrip(), trailing, span=_token_span(tok, file))


# ---------------------------------------------------------------- syntax errors

_TOKEN_WORDS = {
    "NAME": "a name",
    "INT": "a number",
    "FLOAT": "a number",
    "STRING": "a string",
    "DATE": "a date",
    "DATETIME": "a datetime",
    "$END": "the end of the file",
}
_EXPRESSION_START_TEXT = ("(", "-", "not", "if", "true", "false", "earlier")
_OPERATOR_TEXT = ("+", "-", "*", "/", "%", "==", "!=", "<", "<=", ">", ">=", "and", "or", "??", "in", "of",
                  ".", "(", "not")
_UNIT_TEXT = ("second", "seconds", "minute", "minutes", "hour", "hours", "day", "days", "week", "weeks")
_RULE_CLAUSES = ("by", "because", "cites", "on", "where", "award", "cap", "once", "decay")
_CLOSERS = {"(": ")", "[": "]", "{": "}"}
# Characters from other languages or word processors, and what whuffie writes instead.
_CHARACTER_HINTS = {
    "'": 'strings use double quotes: "like this"',
    "\u2018": 'strings use straight double quotes: "like this"',
    "\u2019": 'strings use straight double quotes: "like this"',
    "\u201c": 'this is a curly quote; strings use straight double quotes: "like this"',
    "\u201d": 'this is a curly quote; strings use straight double quotes: "like this"',
    "&": 'use "and" to combine conditions (not && or &)',
    "|": 'use "or" for either condition (not || or |)',
    "!": 'use "not" to negate, and "!=" for "not equal"',
    "=": 'use "==" to compare; a single "=" only follows the name in measure, score and def',
    ";": "no semicolons: put the next clause or declaration on a new line",
    "\u00d7": 'use "*" to multiply',
    "\u00f7": 'use "/" to divide',
    "\u2212": 'use the ASCII minus sign "-"',
    "\u2013": 'use the ASCII minus sign "-"',
    "\u2264": 'write "<="',
    "\u2265": 'write ">="',
    "\u2260": 'write "!="',
    "$": "names are plain words; there are no sigils",
    "^": "there is no power operator; write the product out, or use exp and log",
}


@lru_cache(maxsize=1)
def _terminal_text() -> dict[str, str]:
    """Map Lark terminal names to the text they stand for (keywords and punctuation)."""
    words: dict[str, str] = {}
    for term in lark_parser().terminals:
        if term.pattern.type == "str":
            words[term.name] = term.pattern.value
    return words


@lru_cache(maxsize=1)
def _keywords() -> frozenset[str]:
    """Every word the grammar uses as a keyword."""
    return frozenset(t for t in _terminal_text().values() if _WORD.fullmatch(t))


_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _describe(name: str) -> str:
    if name in _TOKEN_WORDS:
        return _TOKEN_WORDS[name]
    text = _terminal_text().get(name)
    return f'"{text}"' if text is not None else name.lower().replace("_", " ")


def _expected_words(expected: set[str]) -> list[str]:
    """Turn an expected-terminal set into short phrases, grouping the large families."""
    texts = _terminal_text()
    names = set(expected)
    groups: list[str] = []
    decl = {t for t in names if texts.get(t) in DECLARATION_KEYWORDS}
    if len(decl) >= 4:
        names -= decl
        groups.append("a new declaration (rule, score, tier, …)")
    starts_expression = "NAME" in names and bool({"INT", "STRING"} & names)
    if starts_expression:
        names -= {t for t in names if t in _TOKEN_WORDS or texts.get(t) in _EXPRESSION_START_TEXT}
        groups.insert(0, "an expression")
    ops = {t for t in names if texts.get(t) in _OPERATOR_TEXT}
    if len(ops) >= 5:
        names -= ops
        groups.append("an operator")
    units = {t for t in names if texts.get(t) in _UNIT_TEXT}
    if len(units) >= 4:
        names -= units
        groups.append("a unit (days, hours, …)")
    rest = sorted({_describe(t) for t in names})
    if len(rest) > 12:
        rest = rest[:11] + ["…"]
    return rest + groups


def _join(words: list[str]) -> str:
    if not words:
        return "something else"
    if len(words) == 1:
        return words[0]
    return ", ".join(words[:-1]) + " or " + words[-1]


def _token_span(tok: Token, file: str) -> n.Span:
    line = tok.line or 1
    col = tok.column or 1
    end_line = tok.end_line or line
    end_col = tok.end_column or col + max(len(tok.value), 1)
    return n.Span(file, line, col, end_line, end_col)


def _end_span(text: str, file: str) -> n.Span:
    lines = sourcelines.split(text) or [""]
    while len(lines) > 1 and not lines[-1].strip():
        lines.pop()
    line = len(lines)
    col = len(lines[-1]) + 1
    return n.Span(file, line, col, line, col + 1)


def _context(text: str, line: int) -> str | None:
    """Name the declaration that contains a line, e.g. 'rule late_return'."""
    lines = sourcelines.split(text)
    for i in range(min(line, len(lines)) - 1, -1, -1):
        match = re.match(r"(shared\s+cap|[a-z]+)\s+(\w+|\"[^\"\n]*\")", lines[i])
        if match and lines[i][:1].isalpha() and match.group(1).split()[0] in DECLARATION_KEYWORDS:
            return f"{match.group(1)} {match.group(2)}"
        if lines[i][:1].isalpha():
            return None
    return None


def _open_bracket(text: str, upto: int) -> tuple[str, int] | None:
    """The innermost bracket still open at offset ``upto`` (skipping strings and comments)."""
    stack: list[tuple[str, int]] = []
    i = 0
    while i < upto:
        ch = text[i]
        if ch == '"':
            j = i + 1
            while j < len(text) and text[j] not in '"\n':
                j += 2 if text[j] == "\\" else 1
            i = j + 1
            continue
        if ch == "#":
            j = text.find("\n", i)
            i = len(text) if j < 0 else j
            continue
        if ch in "({[":
            stack.append((ch, i))
        elif ch in ")}]" and stack:
            stack.pop()
        i += 1
    return stack[-1] if stack else None


_line_col = sourcelines.line_col


def _previous_words(text: str, offset: int, count: int = 2) -> list[str]:
    """The last few words or symbols before an offset (comments and strings included as-is)."""
    return re.findall(r'"[^"\n]*"|[A-Za-z_]\w*|\d[\w.]*|\S', text[max(0, offset - 400):offset])[-count:]


def _close_keyword(word: str, candidates: set[str]) -> str | None:
    import difflib

    match = difflib.get_close_matches(word, sorted(candidates), n=1, cutoff=0.75)
    return match[0] if match else None


def _character_error(exc: UnexpectedCharacters, text: str, file: str) -> Diagnostic:
    span = n.Span(file, exc.line, exc.column, exc.line, exc.column + 1)
    ch = text[exc.pos_in_stream] if exc.pos_in_stream < len(text) else ""
    if ch == '"':
        end = text.find("\n", exc.pos_in_stream)
        end = len(text) if end < 0 else end
        span = n.Span(file, exc.line, exc.column, exc.line, exc.column + max(end - exc.pos_in_stream, 1))
        return error("W002", "this string is not closed before the end of the line", span,
                     hint='add the closing "; a string cannot span lines (write \\n for a line break)')
    if ch in ")]}":
        return error("W001", f'this "{ch}" has no matching opening bracket', span,
                     hint="remove it, or add the opening bracket where it belongs")
    shown = repr(ch) if ch.isprintable() and ch != " " else f"U+{ord(ch):04X}"
    hint = _CHARACTER_HINTS.get(ch)
    if hint is None and not ch.isascii():
        hint = "whuffie code is written in ASCII outside strings and comments"
    return error("W003", f"unexpected character {shown}", span, hint=hint)


def _syntax_diagnostic(exc: UnexpectedInput, text: str, file: str, next_text: str | None = None) -> Diagnostic:
    """Turn a Lark exception into a worded, located diagnostic with a hint.

    ``next_text`` is the whole file when ``text`` is a prefix that ended too
    early; the message then names the declaration that follows.
    """
    if isinstance(exc, UnexpectedCharacters):
        return _character_error(exc, text, file)
    if not isinstance(exc, UnexpectedToken):
        expected = set(getattr(exc, "expected", ()) or ())
        return error("W001", f"unexpected end of the file; expected {_join(_expected_words(expected))}",
                     _end_span(text, file))
    tok = exc.token
    expected = set(exc.accepts or exc.expected)
    texts = _terminal_text()
    expected_text = {texts.get(t, t) for t in expected}
    at_end = tok.type == "$END"
    span = _end_span(text, file) if at_end else _token_span(tok, file)
    offset = len(text) if at_end else tok.start_pos
    following = next_text[len(text):].split(None, 1)[0] if at_end and next_text is not None else None
    if following:
        what = f'"{following}" (the declaration before it is unfinished)'
    elif at_end:
        what = "end of file"
    elif tok.type == "STRING":
        what = f"string {tok.value}"
    else:
        what = f'"{tok.value}"'
    where = _context(text, span.line)
    inside = f" in {where}" if where else ""
    before = _previous_words(text, offset)
    previous = before[-1] if before else ""
    # `per weeks`: the lexer takes the keyword `week` and leaves a name `s`; speak of the word written.
    if not at_end and previous in n.WINDOWS and tok.type == "NAME" and text[offset - 1:offset].isalnum():
        start = offset - len(previous)
        written = previous + tok.value
        line, col = _line_col(text, start)
        return error("W001", f'unexpected "{written}"{inside}; expected {_join(_expected_words(_WINDOW_WORDS))}',
                     n.Span(file, line, col, line, col + len(written)),
                     hint=f"windows are written in the singular: per {previous} (one calendar {previous} "
                          "at a time, in the ruleset's timezone)")

    # An unclosed bracket shows up as an unexpected declaration keyword or end of file.
    closing = expected_text & {")", "]", "}"}
    opener = _open_bracket(text, offset)
    wrong_closer = tok.value in (")", "]", "}") and opener and tok.value != _CLOSERS[opener[0]]
    if opener and _CLOSERS[opener[0]] in closing and (at_end or tok.value in DECLARATION_KEYWORDS or wrong_closer):
        line, col = _line_col(text, opener[1])
        place = f'"{following}"' if following else ("the end of the file" if at_end else what)
        return error("W008", f'this "{opener[0]}" is never closed', n.Span(file, line, col, line, col + 1),
                     hint=f'add "{_CLOSERS[opener[0]]}" before {place} at line '
                          f'{_line_col(next_text or text, offset)[0]}')
    # A keyword the lexer took as a keyword where the author meant a name:
    # `protected: bool` after a field, `days.x` after `count distinct`.
    if previous in _keywords() and tok.value in (":", ".") and not at_end:
        prev_offset = text.rfind(previous, 0, offset)
        line, col = _line_col(text, prev_offset)
        return error("W009", f'"{previous}" is a keyword here and cannot be used as a name{inside}',
                     n.Span(file, line, col, line, col + len(previous)),
                     hint=f'choose another name, such as {previous}_ or my_{previous}'
                          + ('; or put "," after the previous field' if tok.value == ":" else ""))
    if tok.type in texts and _WORD.fullmatch(tok.value) and "NAME" in expected:
        return error("W009", f'"{tok.value}" is a keyword and cannot be used as a name here{inside}',
                     span, hint=f"choose another name, such as {tok.value}_ or my_{tok.value}")
    words = _expected_words(expected)
    if words == ["a name"] and previous in DECLARATION_KEYWORDS:
        words = [f"a name for the {previous}"]
    elif words == ["a name"] and previous == ":" and where and where.split()[0] in ("subject", "event"):
        words = ["a type (int, number, bool, text, date, datetime, duration)"]
    message = f"unexpected {what}{inside}; expected {_join(words)}"
    return error("W001", message, span, hint=_hint(tok, at_end, expected, expected_text, before, where,
                                                      opener, text, _keyword_read_as_name(exc)))


def _keyword_read_as_name(exc: UnexpectedToken) -> str | None:
    """The keyword just before the error, when the parser took it as a name (else None)."""
    try:
        last = exc.interactive_parser.parser_state.value_stack[-1]
    except (AttributeError, IndexError, TypeError):
        return None
    word = last.value if type(last) is Token and last.type == "NAME" else getattr(last, "id", None)
    return word if isinstance(word, str) and word in _keywords() else None


def _hint(tok: Token, at_end: bool, expected: set[str], expected_text: set[str], before: list[str],
          where: str | None, opener, text: str, keyword_as_name: str | None = None) -> str | None:
    """The likeliest fix for an unexpected token, or None."""
    value = tok.value
    previous = before[-1] if before else ""
    declaration = (where or "").split(" ")[0]
    if value in ("month", "months", "year", "years") and ("days" in expected_text or _NUMBER.fullmatch(previous)):
        unit = value.rstrip("s")
        return (f"{unit}s are not durations, as they have no fixed length: use days, e.g. "
                f"{'30 days' if unit == 'month' else '365 days'} (calendar {unit}s exist as windows: per {unit})")
    if value == "if" and "if" not in expected_text and not at_end:
        return _if_hint(text, tok)
    if expected_text == {":"} and declaration in ("subject", "event", "test", "def"):
        return {"test": "a value is written name: value",
                "def": "a parameter is written name: type, e.g. x: number"}.get(declaration,
                                                                               "a field is written name: type")
    if value == "=":
        return 'use "==" to compare; a single "=" only follows the name in measure, score and def'
    if keyword_as_name and not at_end:
        # The contextual lexer read a keyword as a name, because a name was due there.
        return f'something is missing before "{keyword_as_name}", which was read as a name here'
    if "DATE" in expected and tok.type == "INT":
        return "dates are written YYYY-MM-DD with two-digit month and day, e.g. 2026-01-10"
    if expected == {"STRING"} and tok.type == "NAME":
        if previous in ("test", "property"):
            return f'{previous} names are strings: put it in double quotes, "{value}"'
        return f'a string is needed here: put it in double quotes, "{value}"'
    if expected_text == {"["}:
        return "list the options in brackets: x in [1, 2]"
    if expected_text == {"."} and declaration == "measure":
        return "sum, min, max, avg, last and first take an event's field, e.g. sum volunteered.hours"
    if expected_text == {"per"} and declaration == "score":
        return "a running bound is written floor N per event (or ceiling N per event)"
    if value in ("&&", "&"):
        return 'use "and" to combine conditions'
    if value in ("||", "|"):
        return 'use "or" for either condition'
    if tok.type == "NAME" and "by" in expected_text:
        close = _close_keyword(value, expected_text & _keywords())
        if close:
            return f'did you mean "{close}"?'
        if before and before[0] in DECLARATION_KEYWORDS:
            return f'did you forget "by" before the author\'s name? write: by {value}'
        if declaration == "rule":
            return "each clause starts with a keyword: " + ", ".join(c for c in _RULE_CLAUSES if c in expected_text)
    if tok.type == "STRING" and "because" in expected_text:
        return f"did you forget \"because\" before the reason? write: because {value}"
    if tok.type == "NAME" and "when" in expected_text:
        return f"a condition starts with when: when {value} …; or write otherwise for the last tier"
    if tok.type in ("INT", "FLOAT") and "NAME" in expected:
        return "names start with a letter or _, then letters, digits and _"
    if tok.type == "NAME":
        close = _close_keyword(value, expected_text & _keywords())
        if close:
            return f'did you mean "{close}"?'
    if value == "-" and expected & {"INT", "FLOAT"} and "NAME" not in expected:
        return "this amount must be a plain number, zero or more"
    if value == "." and text[:tok.start_pos].endswith(".."):
        return "a range is written low..high, e.g. 0..10"
    if value == "[" and "NAME" in expected:
        return "a list [a, b] only follows in or not in: x in [a, b]"
    if value == "(" and len(before) == 2 and before[0] == ".":
        return "only a plain function name can be called, e.g. min(a, b)"
    if "over" in expected_text:
        return "a shared cap lists the rules it covers: shared cap votes 200 per day over rule_a, rule_b"
    if expected_text == {"="} and where:
        return f"write: {where} = …"
    if "else" in expected_text and len(expected_text) <= 2:
        return "an if needs both branches: if condition then a else b"
    if expected_text >= {"day", "week", "month", "year"} and len(expected_text) == 4:
        return "the windows are day, week, month and year (calendar windows in the ruleset's timezone)"
    if where is None and tok.type == "NAME" and "rule" in expected_text:
        return "a rule file is a list of declarations; an expression belongs inside one, e.g. score s = …"
    if value in (")", "]", "}") and not opener:
        return f'this "{value}" has no matching opening bracket'
    if "," in expected_text and ("]" in expected_text or ")" in expected_text) and not at_end:
        return 'separate the items with ","'
    if ":" in expected_text and declaration == "property":
        return 'put ":" before the property itself, e.g. property "name" by author: always …'
    if at_end and opener:
        return f'the "{opener[0]}" at line {_line_col(text, opener[1])[0]} is still open'
    return None


_WINDOW_WORDS = {f'"{w}"' for w in n.WINDOWS}
_NUMBER = re.compile(r"\d[\d.]*")


def _if_hint(text: str, tok: Token) -> str:
    """`award -5 if c else -2` is Python's order; whuffie's `if` comes first and says `then`."""
    line = sourcelines.line(text, tok.line or 1) or ""
    written = re.search(r"(?:^|\s)(award|where|when|=)\s+(.+?)\s+if\s+(.+?)\s+else\s+(.+?)\s*(?:#.*)?$", line)
    if written:
        keyword, a, cond, b = written.groups()
        return f"an if expression starts with if and says then: {keyword} if {cond} then {a} else {b}"
    return "an if expression starts with if and says then: if condition then a else b"


def _error_offset(exc: UnexpectedInput, text: str) -> int:
    if isinstance(exc, UnexpectedToken) and exc.token.type != "$END":
        return exc.token.start_pos
    if isinstance(exc, UnexpectedCharacters):
        return exc.pos_in_stream
    return len(text)


def _declaration_starts(text: str) -> list[int]:
    """Offsets of the lines that begin (in column 1) with a declaration keyword."""
    return [m.start() for m in re.finditer(r"^(?:%s)\b" % "|".join(DECLARATION_KEYWORDS), text, re.M)]


def _locate_error(exc: UnexpectedInput, text: str, file: str) -> tuple[Diagnostic, int, bool]:
    """Diagnose a syntax error, blaming an unfinished earlier declaration where that is the cause.

    A declaration keyword where the parser wanted an operand is read as a
    name (the lexer is contextual), so ``score s = 1 +`` followed by ``tier t``
    fails at ``t``. Parsing the text before ``tier`` alone tells the two apart:
    if that prefix ends too early, the previous declaration is the culprit.
    Returns the diagnostic, the offset to blank from, and whether that offset
    starts a declaration that is itself fine.
    """
    offset = _error_offset(exc, text)
    starts = [s for s in _declaration_starts(text) if s <= offset]
    if starts and starts[-1] < offset:
        prefix = text[: starts[-1]]
        try:
            lark_parser().parse(prefix, start="start")
        except UnexpectedInput as prefix_exc:
            if _error_offset(prefix_exc, prefix) >= len(prefix):
                return _syntax_diagnostic(prefix_exc, prefix, file, next_text=text), starts[-1], True
    at_declaration = bool(starts) and starts[-1] == offset
    return _syntax_diagnostic(exc, text, file), offset, at_declaration


def _broken_region(text: str, offset: int, at_declaration: bool) -> tuple[int, int] | None:
    """The offsets of the declaration holding a syntax error, to be blanked out.

    When ``at_declaration`` is set the declaration starting at ``offset`` is
    sound and the one before it is the broken one.
    """
    starts = _declaration_starts(text)
    if at_declaration:
        before = [s for s in starts if s < offset]
        begin, stop = (before[-1] if before else 0), offset
    else:
        before = [s for s in starts if s <= offset]
        after = [s for s in starts if s > offset]
        begin = before[-1] if before else 0
        stop = after[0] if after else len(text)
    return (begin, stop) if stop > begin else None


def _blank(text: str) -> str:
    """Spaces for everything but newlines, so positions after it stay as they were."""
    return re.sub(r"[^\n]", " ", text)


def _before(span: n.Span, line: int, col: int) -> bool:
    return (span.line, span.col) < (line, col)


def _items_before(exc: UnexpectedInput, line: int, col: int) -> list | None:
    """The declarations the failed parse completed before (line, col), or None if unknown.

    They sit at the bottom of the parser's value stack (Lark gathers ``item*``
    in a helper tree); anything else there is the declaration in progress.
    """
    try:
        stack = exc.interactive_parser.parser_state.value_stack
    except AttributeError:
        return None
    if not stack or isinstance(stack[0], Token):
        return []
    bottom = stack[0]
    if isinstance(bottom, Tree) and str(bottom.data).startswith("__start_star"):
        found = bottom.children
    elif hasattr(bottom, "name_span") or type(bottom).__name__.endswith("Decl"):
        found = [bottom]
    else:
        return None
    if not all(isinstance(getattr(item, "span", None), n.Span) for item in found):
        return None  # not what this version of Lark was seen to leave there: parse everything again
    return [item for item in found if _before(item.span, line, col)]


# ---------------------------------------------------------------- tokens -> AST
#
# The builder runs inside the LALR parser (Lark's ``transformer=`` option), so
# no parse tree is ever built: each grammar rule's callback receives the raw
# children (every token is kept, keywords included) and returns a node. Spans
# come from the first and last raw child, which is why keywords are kept.

_ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "t": "\t", "r": "\r"}
_UNITS = {
    "second": "seconds", "seconds": "seconds", "minute": "minutes", "minutes": "minutes",
    "hour": "hours", "hours": "hours", "day": "days", "days": "days", "week": "weeks", "weeks": "weeks",
}
_UNICODE_ESCAPE = re.compile(r"u\{([0-9A-Fa-f]{1,6})\}")


class _Piece:
    """An intermediate result that is not a node (a list, a period) with its extent."""

    __slots__ = ("value", "start", "end")

    def __init__(self, value, start: tuple[int, int], end: tuple[int, int]) -> None:
        self.value = value
        self.start = start
        self.end = end


def _nodes(children: list) -> list:
    return [c for c in children if type(c) is not Token]


def _names(children: list) -> list[Token]:
    return [c for c in children if type(c) is Token and c.type == "NAME"]


class _AstBuilder:
    """Grammar-rule callbacks that build ``nodes`` directly, plus the per-parse state.

    One instance serves the cached parser; ``reset`` is called before each
    parse. It collects literal errors (bad dates, escapes) and the first
    expression nested deeper than MAX_DEPTH as diagnostics.
    """

    def __init__(self) -> None:
        self.reset("<input>")

    def reset(self, file: str) -> None:
        """Forget the previous parse and name the file of the next one."""
        self.file = file
        self.diagnostics: list[Diagnostic] = []
        self.too_deep: Diagnostic | None = None
        self._depth: dict[int, int] = {}
        self._outer: dict[int, tuple[int, int, int, int]] = {}

    # -- positions
    def _start(self, x) -> tuple[int, int]:
        if type(x) is Token:
            return x.line, x.column
        if type(x) is _Piece:
            return x.start
        outer = self._outer.get(id(x))
        if outer is not None:
            return outer[0], outer[1]
        return x.span.line, x.span.col

    def _end(self, x) -> tuple[int, int]:
        if type(x) is Token:
            return x.end_line, x.end_column
        if type(x) is _Piece:
            return x.end
        outer = self._outer.get(id(x))
        if outer is not None:
            return outer[2], outer[3]
        return x.span.end_line, x.span.end_col

    def _span(self, children: list) -> n.Span:
        line, col = self._start(children[0])
        end_line, end_col = self._end(children[-1])
        return n.Span(self.file, line, col, end_line, end_col)

    def _tok_span(self, tok: Token) -> n.Span:
        return n.Span(self.file, tok.line, tok.column, tok.end_line, tok.end_column)

    def _nested(self, node, *children):
        """Record the nesting depth of an expression node; report W005 past MAX_DEPTH."""
        depth = self._depth
        d = 1 + max([depth.get(id(c), 0) for c in children], default=0)
        depth[id(node)] = d
        if d > MAX_DEPTH and self.too_deep is None:
            self.too_deep = error(
                "W005", f"expression nested too deeply (more than {MAX_DEPTH} levels of operators and calls)",
                n.Span(self.file, node.span.line, node.span.col, node.span.line, node.span.col + 1),
                hint="each operator of a chain such as a + b + c counts as a level; "
                                "split the expression with a def or an intermediate score")
        return node

    # -- literals
    def _string(self, tok: Token) -> str:
        raw = tok.value[1:-1]
        if "\\" not in raw:
            return raw
        out = []
        i = 0
        while i < len(raw):
            ch = raw[i]
            if ch != "\\":
                out.append(ch)
                i += 1
                continue
            nxt = raw[i + 1] if i + 1 < len(raw) else ""
            if nxt in _ESCAPES and nxt:
                out.append(_ESCAPES[nxt])
                i += 2
                continue
            match = _UNICODE_ESCAPE.match(raw, i + 1)
            if match and int(match.group(1), 16) <= 0x10FFFF:
                out.append(chr(int(match.group(1), 16)))
                i = match.end()
                continue
            col = tok.column + 1 + i
            shown = "\\" + nxt if nxt.isprintable() else "\\" + repr(nxt)[1:-1]
            self.diagnostics.append(error(
                "W004", f"unknown escape {shown} in a string",
                n.Span(self.file, tok.line, col, tok.line, col + 2),
                hint='the escapes are \\" \\\\ \\n \\t \\r and \\u{hex}, e.g. \\u{e9} for é'))
            out.append(nxt)
            i += 2
        return "".join(out)

    def _number(self, tok: Token) -> int | float:
        """A numeric literal; one too large to represent is W004 (and reads as 0 so checking goes on)."""
        if tok.type == "INT":
            if len(tok.value) <= _MAX_INT_DIGITS:
                return int(tok.value)
            problem = f"an integer of {len(tok.value)} digits is too large"
        else:
            value = float(tok.value)
            if math.isfinite(value):
                return value
            problem = f"{tok.value} is too large for a number (it would be infinite)"
        self.diagnostics.append(error("W004", problem, self._tok_span(tok),
                                      hint="write a value within the range of 64-bit numbers"))
        return 0

    def _ident(self, tok: Token) -> n.Ident:
        return n.Ident(tok.value, span=self._tok_span(tok))

    def _date(self, tok: Token) -> n.Date | n.DateTime:
        span = self._tok_span(tok)
        try:
            if tok.type == "DATE":
                return n.Date(dt.date.fromisoformat(tok.value), span=span)
            return n.DateTime(dt.datetime.fromisoformat(tok.value.replace("Z", "+00:00")), span=span)
        except ValueError:
            kind = "date" if tok.type == "DATE" else "datetime"
            form = ("YYYY-MM-DD with a real month and day" if kind == "date"
                    else "YYYY-MM-DDTHH:MM[:SS][Z|+HH:MM] with a real date and time")
            self.diagnostics.append(error("W004", f"{tok.value} is not a valid {kind}", span,
                                          hint=f"write {form}"))
            return n.Date(dt.date(1970, 1, 1), span=span)

    def _subject_id(self, tok: Token) -> str:
        return self._string(tok) if tok.type == "STRING" else tok.value

    # -- program and header
    def start(self, c):
        return c

    def expr_input(self, c):
        return c[0]

    def ruleset_decl(self, c):
        title = self._string(c[2]) if len(c) > 2 else None
        return n.RulesetDecl(c[1].value, title, span=self._span(c))

    def version_decl(self, c):
        return n.VersionDecl(self._string(c[1]), span=self._span(c))

    def timezone_decl(self, c):
        return n.TimezoneDecl(self._string(c[1]), span=self._span(c))

    def import_decl(self, c):
        return n.ImportDecl(self._string(c[1]), span=self._span(c))

    def author_decl(self, c):
        description = self._string(c[2]) if len(c) > 2 else None
        return n.AuthorDecl(c[1].value, description, span=self._span(c), name_span=self._tok_span(c[1]))

    # -- schema
    def subject_decl(self, c):
        return n.SubjectDecl(c[1].value, c[3], span=self._span(c), name_span=self._tok_span(c[1]))

    def event_decl(self, c):
        return n.EventDecl(c[1].value, c[3], span=self._span(c), name_span=self._tok_span(c[1]))

    def field_list(self, c):
        return tuple(_nodes(c))

    def field_decl(self, c):
        name, type_tok = c[0], c[2]
        rest = c[3:]
        optional = any(type(r) is Token and r.value == "?" for r in rest)
        protected = any(type(r) is Token and r.value == "protected" for r in rest)
        rng = next((r for r in rest if type(r) is n.Range), None)
        choices = next((r for r in rest if type(r) is n.Choices), None)
        return n.Field(name.value, n.TypeRef(type_tok.value, span=self._tok_span(type_tok)),
                       optional, rng, protected, span=self._span(c), choices=choices)

    def choices(self, c):
        values = tuple(self._string(t) for t in c if type(t) is Token and t.type == "STRING")
        return n.Choices(values, span=self._span(c))

    def optional_mark(self, c):
        return c[0]

    def protected_mark(self, c):
        return c[0]

    def range(self, c):
        low, high = c[1], c[3]
        return n.Range(low.value, high.value, span=self._span(c))

    def signed_number(self, c):
        value = self._number(c[-1])
        return _Piece(-value if len(c) == 2 else value, self._start(c[0]), self._end(c[-1]))

    # -- provenance
    def by_clause(self, c):
        return n.By(self._ident(c[1]), span=self._span(c))

    def because_clause(self, c):
        return n.Because(self._string(c[1]), span=self._span(c))

    def cites_clause(self, c):
        return n.Cites(self._string(c[1]), span=self._span(c))

    # -- rules
    def rule_decl(self, c):
        return n.RuleDecl(c[1].value, tuple(c[2:]), span=self._span(c), name_span=self._tok_span(c[1]))

    def on_clause(self, c):
        role = self._ident(c[3]) if len(c) > 3 else None
        return n.On(self._ident(c[1]), span=self._span(c), role=role)

    def role_clause(self, c):
        return _Piece(self._ident(c[1]), self._start(c[0]), self._end(c[1]))

    def where_clause(self, c):
        return n.Where(c[1], span=self._span(c))

    def award_clause(self, c):
        return n.Award(c[1], span=self._span(c))

    def cap_clause(self, c):
        return n.Cap(c[1].value, c[2].value, span=self._span(c))

    def cap_by_param(self, c):
        return n.Cap(n.ParamRef(c[1].value, span=self._tok_span(c[1])), c[2].value, span=self._span(c))

    def decay_by_param(self, c):
        return n.Decay(n.ParamRef(c[2].value, span=self._tok_span(c[2])), span=self._span(c))

    def once_clause(self, c):
        return n.Once(c[2].value if len(c) > 1 else None, span=self._span(c))

    def decay_clause(self, c):
        return n.Decay(c[2], span=self._span(c))

    def per_window(self, c):
        return _Piece(c[1].value, self._start(c[0]), self._end(c[1]))

    def total_period(self, c):
        return _Piece(None, self._start(c[0]), self._end(c[0]))

    def window(self, c):
        return c[0]

    def shared_cap_decl(self, c):
        name, amount, period = c[2], c[3], c[4]
        rest = c[6:]
        rules = tuple(self._ident(t) for t in rest if type(t) is Token and t.type == "NAME")
        clauses = tuple(_nodes(rest))
        return n.SharedCapDecl(name.value, amount.value, period.value, rules, clauses,
                               span=self._span(c), name_span=self._tok_span(name))

    def shared_cap_by_param(self, c):
        # the amount is a `param`: its name, resolved by params.bind (the rules are the NAMEs after `over`)
        name, amount, period = c[2], c[3], c[4]
        rest = c[6:]
        rules = tuple(self._ident(t) for t in rest if type(t) is Token and t.type == "NAME")
        return n.SharedCapDecl(name.value, n.ParamRef(amount.value, span=self._tok_span(amount)), period.value,
                               rules, tuple(_nodes(rest)), span=self._span(c), name_span=self._tok_span(name))

    def factor_decl(self, c):
        name, rest = c[1], c[3:]
        rules = tuple(self._ident(t) for t in rest if type(t) is Token and t.type == "NAME")
        return n.FactorDecl(name.value, rules, tuple(_nodes(rest)), span=self._span(c),
                            name_span=self._tok_span(name))

    # -- measures
    def measure_decl(self, c):
        aggregate, clauses = c[3], [x for x in c[4:] if type(x) is not _Piece]
        roles = [x.value for x in c[4:] if type(x) is _Piece]
        if roles:  # `as ROLE` belongs to the aggregate; a second one stays a clause, for roles.py to report
            aggregate = dataclasses.replace(aggregate, role=roles[0])
            clauses += [n.AsRole(r, span=r.span) for r in roles[1:]]
        return n.MeasureDecl(c[1].value, aggregate, tuple(clauses), span=self._span(c), name_span=self._tok_span(c[1]))

    def count_agg(self, c):
        return n.Aggregate("count", self._ident(c[1]), span=self._span(c))

    def count_days_agg(self, c):
        return n.Aggregate("count_days", self._ident(c[4]), span=self._span(c))

    def count_distinct_agg(self, c):
        return n.Aggregate("count_distinct", self._ident(c[2]), self._ident(c[4]), span=self._span(c))

    def field_agg(self, c):
        return n.Aggregate(c[0].value, self._ident(c[1]), self._ident(c[3]), span=self._span(c))

    def agg_fn(self, c):
        return c[0]

    def within_clause(self, c):
        return n.Within(c[1], span=self._span(c))

    def calendar_within_clause(self, c):
        unit = "years" if c[2].value.startswith("year") else "months"
        return n.CalendarWithin(c[1].value, unit, span=self._span(c))

    def calendar_unit(self, c):
        return c[0]
    def within_by_param(self, c):
        return n.Within(n.ParamRef(c[1].value, span=self._tok_span(c[1])), span=self._span(c))

    # -- parameters
    def param_decl(self, c):
        return n.ParamDecl(c[1].value, c[3], tuple(_nodes(c[4:])), span=self._span(c),
                           name_span=self._tok_span(c[1]))

    def param_signed(self, c):
        return self.signed_number(c)

    def param_number(self, c):
        piece = c[0]
        return n.Number(piece.value, span=self._span(c))

    def param_duration(self, c):
        return n.Duration(c[0].value, _UNITS[c[1].value], span=self._span(c))

    def param_text(self, c):
        return n.String(self._string(c[0]), span=self._tok_span(c[0]))

    def param_true(self, c):
        return n.Bool(True, span=self._tok_span(c[0]))

    def param_false(self, c):
        return n.Bool(False, span=self._tok_span(c[0]))

    def across_clause(self, c):
        return n.Across(span=self._span(c))

    def default_clause(self, c):
        return n.Default(c[1], span=self._span(c))

    # -- scores, tiers, privileges
    def score_decl(self, c):
        return n.ScoreDecl(c[1].value, c[3], tuple(c[4:]), span=self._span(c), name_span=self._tok_span(c[1]))

    def bound_clause(self, c):
        return n.Bound(c[0].value, c[1], span=self._span(c))

    def bound(self, c):
        return c[0]

    def tier_decl(self, c):
        return n.TierDecl(c[1].value, c[2].value, tuple(c[3:]), span=self._span(c), name_span=self._tok_span(c[1]))

    def keep_clause(self, c):
        return n.Keep(c[2] if len(c) > 2 else None, span=self._span(c))

    def hold_clause(self, c):
        return n.Hold(c[1], span=self._span(c))

    def when_condition(self, c):
        return _Piece(c[1], self._start(c[0]), self._end(c[1]))

    def otherwise_condition(self, c):
        return _Piece(None, self._start(c[0]), self._end(c[0]))

    def privilege_decl(self, c):
        return n.PrivilegeDecl(c[1].value, c[3], tuple(c[4:]), span=self._span(c), name_span=self._tok_span(c[1]))

    def condition_decl(self, c):
        return n.ConditionDecl(c[1].value, c[3], tuple(c[4:]), span=self._span(c), name_span=self._tok_span(c[1]))

    # -- functions
    def def_decl(self, c):
        params = tuple(p for p in c if type(p) is n.Param)
        ret = next((r for r in c if type(r) is n.TypeRef), None)
        return n.DefDecl(c[1].value, params, c[-1], ret, span=self._span(c), name_span=self._tok_span(c[1]))

    def param(self, c):
        return n.Param(c[0].value, n.TypeRef(c[2].value, span=self._tok_span(c[2])), span=self._span(c))

    def return_type(self, c):
        return n.TypeRef(c[1].value, span=self._tok_span(c[1]))

    # -- tests
    def test_decl(self, c):
        return n.TestDecl(self._string(c[1]), tuple(c[3:-1]), span=self._span(c), name_span=self._tok_span(c[1]))

    def test_subject(self, c):
        return n.TestSubject(self._ident(c[0]), self._subject_id(c[1]), c[3], span=self._span(c))

    def test_event(self, c):
        values = c[5] if len(c) > 4 else ()
        return n.TestEvent(self._date(c[1]), self._subject_id(c[2]), self._ident(c[3]), values, span=self._span(c))

    def test_role_event(self, c):
        # an event naming its subjects by role (roles.py): the roles' ids are among its field values
        return n.TestEvent(self._date(c[1]), "", self._ident(c[2]), c[4], span=self._span(c))

    def test_expect(self, c):
        return n.Expect(c[1], span=self._span(c))

    def test_as_of(self, c):
        return n.AsOf(self._date(c[2]), span=self._span(c))

    def field_values(self, c):
        return tuple(_nodes(c))

    def field_value(self, c):
        return n.FieldValue(c[0].value, c[2], span=self._span(c))

    # -- properties
    def property_decl(self, c):
        return n.PropertyDecl(self._string(c[1]), tuple(c[2:-2]), c[-1], span=self._span(c),
                              name_span=self._tok_span(c[1]))

    def for_score(self, c):
        return self._ident(c[1])

    def always_prop(self, c):
        return n.Always(c[1], span=self._span(c))

    def independent_prop(self, c):
        score = c[5] if len(c) > 5 else None
        return n.Independent(self._ident(c[2]), self._ident(c[4]), score, span=self._span(c))

    def monotone_prop(self, c):
        names = _names(c[2:])
        score = c[-1] if type(c[-1]) is n.Ident else None
        fld = self._ident(names[1]) if len(names) > 1 else None
        return n.Monotone(self._ident(names[0]), fld, score, span=self._span(c))

    def four_fifths_prop(self, c):
        return n.FourFifths(self._ident(c[3]), self._ident(c[5]), self._ident(c[7]), span=self._span(c))

    def gain_prop(self, c):
        score = c[5] if len(c) > 5 else None
        return n.GainBound(c[2].value, c[4].value, score, span=self._span(c))

    # -- expressions
    def if_expr(self, c):
        return self._nested(n.If(c[1], c[3], c[5], span=self._span(c)), c[1], c[3], c[5])

    def or_expr(self, c):
        return self._nested(n.Binary("or", c[0], c[2], span=self._span(c)), c[0], c[2])

    def and_expr(self, c):
        return self._nested(n.Binary("and", c[0], c[2], span=self._span(c)), c[0], c[2])

    def not_expr(self, c):
        return self._nested(n.Unary("not", c[1], span=self._span(c)), c[1])

    def compare(self, c):
        operands = tuple(c[0::2])
        return self._nested(n.Compare(operands, tuple(t.value for t in c[1::2]), span=self._span(c)), *operands)

    def comp_op(self, c):
        return c[0]

    def add_op(self, c):
        return c[0]

    def mul_op(self, c):
        return c[0]

    def in_expr(self, c):
        options = c[2].value
        return self._nested(n.In(c[0], options, False, span=self._span(c)), c[0], *options)

    def not_in_expr(self, c):
        options = c[3].value
        return self._nested(n.In(c[0], options, True, span=self._span(c)), c[0], *options)

    def list_literal(self, c):
        return _Piece(tuple(_nodes(c)), self._start(c[0]), self._end(c[-1]))

    def coalesce(self, c):
        return self._nested(n.Coalesce(c[0], c[2], span=self._span(c)), c[0], c[2])

    def binary(self, c):
        return self._nested(n.Binary(c[1].value, c[0], c[2], span=self._span(c)), c[0], c[2])

    def negate(self, c):
        return self._nested(n.Unary("-", c[1], span=self._span(c)), c[1])

    def earlier(self, c):
        return n.Earlier(c[2], tuple(c[3:-1]), span=self._span(c))

    def of_expr(self, c):
        return self._nested(n.Of(c[0], self._subject_id(c[2]), span=self._span(c)), c[0])

    def primary(self, c):
        # Only "(" expr ")" reaches here; the brackets widen the extent parents see.
        inner = c[1]
        start, end = self._start(c[0]), self._end(c[2])
        self._outer[id(inner)] = (start[0], start[1], end[0], end[1])
        return inner

    def number_literal(self, c):
        return n.Number(self._number(c[0]), span=self._tok_span(c[0]))

    def duration_literal(self, c):
        return n.Duration(c[0].value, _UNITS[c[1].value], span=self._span(c))

    def unit(self, c):
        return c[0]

    def string_literal(self, c):
        return n.String(self._string(c[0]), span=self._tok_span(c[0]))

    def date_literal(self, c):
        return self._date(c[0])

    def datetime_literal(self, c):
        return self._date(c[0])

    def true_literal(self, c):
        return n.Bool(True, span=self._tok_span(c[0]))

    def false_literal(self, c):
        return n.Bool(False, span=self._tok_span(c[0]))

    def name(self, c):
        return n.Name(c[0].value, span=self._tok_span(c[0]))

    def call(self, c):
        args = tuple(_nodes(c[2:]))
        return self._nested(n.Call(c[0].value, args, span=self._span(c)), *args)

    def attribute(self, c):
        return self._nested(n.Attribute(c[0], c[2].value, span=self._span(c)), c[0])


_BUILDER = _AstBuilder()
