"""Front end: source text -> AST plus diagnostics.

Entry point: ``parse(text, file)``. Lark parses with the grammar in
grammar/whuffie.lark (LALR, contextual lexer, strict); a transformer turns
the Lark tree into the frozen dataclasses of ``nodes``. Nothing downstream
sees a Lark type. Syntax errors become ``Diagnostic`` values; after an error
the broken declaration is blanked out and the file parsed again, so several
errors of one file are reported in one run.
"""

from __future__ import annotations

import datetime as dt
import re
import sys
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from lark import Lark, Token, Transformer, Tree, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from . import nodes as n
from .diagnostics import Diagnostic, error, warning

MAX_DEPTH = 200  # nesting levels of the syntax tree; deeper input gets W005
MAX_ERRORS = 50  # syntax errors reported for one file before giving up

DECLARATION_KEYWORDS = (
    "ruleset", "version", "timezone", "import", "author", "subject", "event",
    "rule", "shared", "measure", "score", "tier", "privilege", "def", "test",
    "property",
)
_DECL_LINE = re.compile(r"(?:%s)\b" % "|".join(DECLARATION_KEYWORDS))


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


@lru_cache(maxsize=1)
def lark_parser() -> Lark:
    """The one Lark parser, built once per process."""
    return Lark(
        grammar_path().read_text(encoding="utf-8"),
        parser="lalr",
        lexer="contextual",
        strict=True,
        propagate_positions=True,
        maybe_placeholders=False,
        start=["start", "expr_input"],
        lexer_callbacks={"COMMENT": _COMMENTS},
    )


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
    name = str(path)
    span = n.Span(name, 0, 0, 0, 0)
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
    if sys.getrecursionlimit() < 10_000:
        sys.setrecursionlimit(10_000)
    diags: list[Diagnostic] = []
    if not text.strip():
        diags.append(warning("W007", "the rule file is empty", n.Span(file, 1, 1, 1, 1),
                             hint='start with a header such as: ruleset my_club "My club"'))
        return ParseResult(n.Program((), (), span=n.Span(file, 1, 1, 1, 1)), diags)
    current = text
    tree = None
    for _ in range(MAX_ERRORS):
        _COMMENTS.tokens = []
        try:
            tree = lark_parser().parse(current, start="start")
            break
        except UnexpectedInput as exc:
            diagnostic, offset, at_declaration = _locate_error(exc, current, file)
            diags.append(diagnostic)
            blanked = _blank_broken_declaration(current, offset, at_declaration)
            if blanked is None or blanked == current:
                break
            current = blanked
    if tree is None:
        return ParseResult(None, diags)
    comment_tokens = list(_COMMENTS.tokens)
    too_deep = _check_depth(tree, file)
    if too_deep:
        diags.append(too_deep)
        return ParseResult(None, diags)
    builder = _AstBuilder(file)
    items = builder.transform(tree)
    diags.extend(builder.diagnostics)
    comments = tuple(_comment(tok, text, file) for tok in comment_tokens)
    last = text.count("\n") + 1
    program = n.Program(tuple(items), comments, span=n.Span(file, 1, 1, last, 1))
    return ParseResult(program, diags)


def parse_expression(text: str, file: str = "<input>") -> tuple[n.Expr | None, list[Diagnostic]]:
    """Parse one expression (the REPL's input and test helpers)."""
    try:
        tree = lark_parser().parse(text, start="expr_input")
    except UnexpectedInput as exc:
        return None, [_syntax_diagnostic(exc, text, file)]
    too_deep = _check_depth(tree, file)
    if too_deep:
        return None, [too_deep]
    builder = _AstBuilder(file)
    expr = builder.transform(tree)
    return (expr if not builder.diagnostics else None), builder.diagnostics


def _comment(tok: Token, text: str, file: str) -> n.Comment:
    line_start = text.rfind("\n", 0, tok.start_pos) + 1
    trailing = bool(text[line_start:tok.start_pos].strip())
    return n.Comment(tok.value[1:].rstrip(), trailing, span=_token_span(tok, file))


# ---------------------------------------------------------------- depth


def _check_depth(tree: Tree, file: str) -> Diagnostic | None:
    """Refuse trees nested deeper than MAX_DEPTH, without recursion."""
    stack = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            meta = node.meta
            span = n.Span(file, getattr(meta, "line", 1), getattr(meta, "column", 1),
                          getattr(meta, "line", 1), getattr(meta, "column", 1) + 1)
            return error("W005", f"expression nested too deeply (more than {MAX_DEPTH} levels)",
                         span, hint="split it into a def or an intermediate score")
        for child in node.children:
            if isinstance(child, Tree):
                stack.append((child, depth + 1))
    return None


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
_EXPRESSION_START = {"NAME", "INT", "FLOAT", "STRING", "DATE", "DATETIME", "LPAR", "MINUS", "NOT", "IF",
                     "TRUE", "FALSE"}
_OPERATORS = {"PLUS", "MINUS", "STAR", "SLASH", "PERCENT", "EQUAL", "LESSTHAN", "MORETHAN", "AND", "OR",
              "IN", "OF", "DOT", "QMARK"}


@lru_cache(maxsize=1)
def _terminal_text() -> dict[str, str]:
    """Map Lark terminal names to the text they stand for (keywords and punctuation)."""
    words: dict[str, str] = {}
    for term in lark_parser().terminals:
        if term.pattern.type == "str":
            words[term.name] = term.pattern.value
    return words


def _describe(name: str) -> str:
    if name in _TOKEN_WORDS:
        return _TOKEN_WORDS[name]
    text = _terminal_text().get(name)
    return f'"{text}"' if text is not None else name.lower()


def _expected_words(expected: set[str]) -> list[str]:
    """Turn an expected-terminal set into short phrases, grouping the large families."""
    texts = _terminal_text()
    names = set(expected)
    words: list[str] = []
    decl = {t for t in names if texts.get(t) in DECLARATION_KEYWORDS}
    if len(decl) >= 4:
        names -= decl
        words.append("a new declaration (rule, score, tier, …)")
    starters = {t for t in names if t in _EXPRESSION_START or texts.get(t) in ("(", "-", "not", "if", "true", "false")}
    if "NAME" in starters and ({"INT", "STRING"} & starters):
        names -= starters
        words.insert(0, "an expression")
    ops = {t for t in names if texts.get(t) in ("+", "-", "*", "/", "%", "==", "!=", "<", "<=", ">", ">=",
                                                "and", "or", "??", "in", "of", ".")}
    if len(ops) >= 5:
        names -= ops
        words.append("an operator")
    rest = sorted(_describe(t) for t in names)
    return rest + words if words and not rest else rest[:8] + words


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
    lines = text.splitlines() or [""]
    while len(lines) > 1 and not lines[-1].strip():
        lines.pop()
    line = len(lines)
    col = len(lines[-1]) + 1
    return n.Span(file, line, col, line, col + 1)


def _context(text: str, line: int) -> str | None:
    """Name the declaration that contains a line, e.g. 'rule late_return'."""
    lines = text.splitlines()
    for i in range(min(line, len(lines)) - 1, -1, -1):
        match = re.match(r"(shared\s+cap|[a-z]+)\s+(\w+|\"[^\"]*\")", lines[i])
        if match and lines[i][:1].isalpha() and match.group(1).split()[0] in DECLARATION_KEYWORDS:
            return f"{match.group(1)} {match.group(2)}"
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


def _line_col(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def _syntax_diagnostic(exc: UnexpectedInput, text: str, file: str, next_text: str | None = None) -> Diagnostic:
    """Turn a Lark exception into a worded, located diagnostic with a hint.

    ``next_text`` is the whole file when ``text`` is a prefix that ended too
    early; the message then names the declaration that follows.
    """
    closers = {"(": ")", "[": "]", "{": "}"}
    if isinstance(exc, UnexpectedCharacters):
        span = n.Span(file, exc.line, exc.column, exc.line, exc.column + 1)
        ch = text[exc.pos_in_stream] if exc.pos_in_stream < len(text) else ""
        if ch == '"':
            end = text.find("\n", exc.pos_in_stream)
            end = len(text) if end < 0 else end
            span = n.Span(file, exc.line, exc.column, exc.line, exc.column + end - exc.pos_in_stream)
            return error("W002", "this string is not closed", span,
                         hint='add the closing " before the end of the line')
        hints = {
            "'": 'strings use double quotes: "like this"',
            "&": 'use "and" to combine conditions',
            "|": 'use "or" for either condition',
            "!": 'use "not" to negate, and "!=" for "not equal"',
            "=": 'use "==" to compare; "=" only follows the name in measure, score and def',
            ";": "statements need no semicolon; put the next clause on a new line",
        }
        return error("W003", f"unexpected character {ch!r}", span, hint=hints.get(ch))
    if isinstance(exc, UnexpectedToken):
        tok = exc.token
        expected = set(exc.accepts or exc.expected)
        at_end = tok.type == "$END"
        span = _end_span(text, file) if at_end else _token_span(tok, file)
        offset = len(text) if at_end else tok.start_pos
        following = next_text[len(text):].split(None, 1)[0] if at_end and next_text is not None else None
        if following:
            what = f'"{following}" (the previous declaration is unfinished)'
        elif at_end:
            what = "end of file"
        elif tok.type == "STRING":
            what = f"string {tok.value}"
        else:
            what = f'"{tok.value}"'
        where = _context(text, span.line)
        inside = f" in {where}" if where else ""
        expected_text = _join(_expected_words(expected))
        texts = _terminal_text()
        # An unclosed bracket shows up as an unexpected declaration keyword or end of file.
        closing = {texts.get(t) for t in expected} & {")", "]", "}"}
        opener = _open_bracket(text, offset)
        if opener and closers[opener[0]] in closing and (at_end or tok.value in DECLARATION_KEYWORDS):
            line, col = _line_col(text, opener[1])
            before = f'"{following}"' if following else ("the end of the file" if at_end else what)
            return error("W008", f'this "{opener[0]}" is never closed', n.Span(file, line, col, line, col + 1),
                         hint=f'add "{closers[opener[0]]}" before {before} at line {_line_col(next_text or text, offset)[0]}')
        if tok.type in texts and texts[tok.type].isalpha() and "NAME" in expected:
            word = tok.value
            return error("W009", f'"{word}" is a keyword and cannot be used as a name here{inside}',
                         span, hint=f"choose another name, such as {word}_ or my_{word}")
        hint = None
        if tok.value == "=":
            hint = 'use "==" to compare; "=" only follows the name in measure, score and def'
        elif tok.type == "NAME" and "BY" in expected:
            hint = f'did you forget "by" before the author\'s name? write: by {tok.value}'
        elif tok.type == "NAME" and texts.get(next(iter(expected), "")) == "by":
            hint = f"write: by {tok.value}"
        elif tok.type == "STRING" and "BECAUSE" in expected:
            hint = f"did you forget \"because\" before the reason? write: because {tok.value}"
        elif tok.value in ("&&", "||"):
            hint = 'use "and" / "or"'
        elif at_end and opener:
            hint = f'the "{opener[0]}" at line {_line_col(text, opener[1])[0]} is still open'
        message = f"unexpected {what}{inside}; expected {expected_text}"
        return error("W001", message, span, hint=hint)
    if isinstance(exc, UnexpectedEOF):
        return error("W001", f"unexpected end of the file; expected {_join(_expected_words(set(exc.expected)))}",
                     _end_span(text, file))
    return error("W001", str(exc).splitlines()[0], _end_span(text, file))


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


def _blank_broken_declaration(text: str, offset: int, at_declaration: bool) -> str | None:
    """Replace the declaration holding a syntax error by spaces (keeping newlines).

    Positions elsewhere stay as they were, so the next parse reports later
    errors at their true lines and columns. When ``at_declaration`` is set the
    declaration starting at ``offset`` is sound and the one before it is blanked.
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
    if stop <= begin:
        return None
    blank = re.sub(r"[^\n]", " ", text[begin:stop])
    return text[:begin] + blank + text[stop:]


# ---------------------------------------------------------------- tree -> AST

_ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "t": "\t", "r": "\r"}
_UNITS = {
    "second": "seconds", "seconds": "seconds", "minute": "minutes", "minutes": "minutes",
    "hour": "hours", "hours": "hours", "day": "days", "days": "days", "week": "weeks", "weeks": "weeks",
}


@v_args(meta=True)
class _AstBuilder(Transformer):
    """Lark tree -> nodes. Collects literal errors (bad dates, escapes) as diagnostics."""

    def __init__(self, file: str) -> None:
        super().__init__()
        self.file = file
        self.diagnostics: list[Diagnostic] = []

    # -- helpers
    def _span(self, meta) -> n.Span:
        if getattr(meta, "empty", True):
            return n.Span(self.file, 0, 0, 0, 0)
        return n.Span(self.file, meta.line, meta.column, meta.end_line, meta.end_column)

    def _tok_span(self, tok: Token) -> n.Span:
        return _token_span(tok, self.file)

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
            if nxt in _ESCAPES:
                out.append(_ESCAPES[nxt])
                i += 2
                continue
            match = re.match(r"u\{([0-9A-Fa-f]{1,6})\}", raw[i + 1:])
            if match and int(match.group(1), 16) <= 0x10FFFF:
                out.append(chr(int(match.group(1), 16)))
                i += 1 + len(match.group(0))
                continue
            col = tok.column + 1 + i
            self.diagnostics.append(error(
                "W004", f"unknown escape \\{nxt} in a string",
                n.Span(self.file, tok.line, col, tok.line, col + 2),
                hint='escapes are \\" \\\\ \\n \\t \\r and \\u{hex}'))
            out.append(nxt)
            i += 2
        return "".join(out)

    def _number(self, tok: Token) -> int | float:
        return int(tok.value) if tok.type == "INT" else float(tok.value)

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
            self.diagnostics.append(error("W004", f"{tok.value} is not a valid {kind}", span,
                                          hint="dates are YYYY-MM-DD with a real month and day"))
            return n.Date(dt.date(1970, 1, 1), span=span)

    def __default__(self, data, children, meta):
        raise AssertionError(f"no AST builder for grammar rule {data!r}")

    # -- program and header
    def start(self, meta, children):
        return children

    def expr_input(self, meta, children):
        return children[0]

    def ruleset_decl(self, meta, children):
        name = children[0]
        title = self._string(children[1]) if len(children) > 1 else None
        return n.RulesetDecl(name.value, title, span=self._span(meta))

    def version_decl(self, meta, children):
        return n.VersionDecl(self._string(children[0]), span=self._span(meta))

    def timezone_decl(self, meta, children):
        return n.TimezoneDecl(self._string(children[0]), span=self._span(meta))

    def import_decl(self, meta, children):
        return n.ImportDecl(self._string(children[0]), span=self._span(meta))

    def author_decl(self, meta, children):
        name = children[0]
        description = self._string(children[1]) if len(children) > 1 else None
        return n.AuthorDecl(name.value, description, span=self._span(meta), name_span=self._tok_span(name))

    # -- schema
    def subject_decl(self, meta, children):
        name, fields = children
        return n.SubjectDecl(name.value, fields, span=self._span(meta), name_span=self._tok_span(name))

    def event_decl(self, meta, children):
        name, fields = children
        return n.EventDecl(name.value, fields, span=self._span(meta), name_span=self._tok_span(name))

    def field_list(self, meta, children):
        return tuple(children)

    def field_decl(self, meta, children):
        name, type_tok, *rest = children
        optional = any(r == "optional" for r in rest)
        protected = any(r == "protected" for r in rest)
        rng = next((r for r in rest if isinstance(r, n.Range)), None)
        return n.Field(name.value, n.TypeRef(type_tok.value, span=self._tok_span(type_tok)),
                       optional, rng, protected, span=self._span(meta))

    def optional_mark(self, meta, children):
        return "optional"

    def protected_mark(self, meta, children):
        return "protected"

    def range(self, meta, children):
        low, high = children
        return n.Range(low, high, span=self._span(meta))

    def signed_number(self, meta, children):
        value = self._number(children[-1])
        return -value if len(children) == 2 else value

    # -- provenance
    def by_clause(self, meta, children):
        return n.By(self._ident(children[0]), span=self._span(meta))

    def because_clause(self, meta, children):
        return n.Because(self._string(children[0]), span=self._span(meta))

    def cites_clause(self, meta, children):
        return n.Cites(self._string(children[0]), span=self._span(meta))

    # -- rules
    def rule_decl(self, meta, children):
        name, *clauses = children
        return n.RuleDecl(name.value, tuple(clauses), span=self._span(meta), name_span=self._tok_span(name))

    def on_clause(self, meta, children):
        return n.On(self._ident(children[0]), span=self._span(meta))

    def where_clause(self, meta, children):
        return n.Where(children[0], span=self._span(meta))

    def award_clause(self, meta, children):
        return n.Award(children[0], span=self._span(meta))

    def cap_clause(self, meta, children):
        amount, window = children
        return n.Cap(amount.value, window, span=self._span(meta))

    def once_clause(self, meta, children):
        return n.Once(children[0] if children else None, span=self._span(meta))

    def decay_clause(self, meta, children):
        return n.Decay(children[0], span=self._span(meta))

    def per_window(self, meta, children):
        return children[0]

    def total_period(self, meta, children):
        return None

    def window(self, meta, children):
        return children[0].value

    def shared_cap_decl(self, meta, children):
        name, amount, window, *rest = children
        rules = tuple(self._ident(t) for t in rest if isinstance(t, Token))
        clauses = tuple(c for c in rest if not isinstance(c, Token))
        return n.SharedCapDecl(name.value, amount.value, window, rules, clauses,
                               span=self._span(meta), name_span=self._tok_span(name))

    # -- measures
    def measure_decl(self, meta, children):
        name, aggregate, *clauses = children
        return n.MeasureDecl(name.value, aggregate, tuple(clauses), span=self._span(meta),
                             name_span=self._tok_span(name))

    def count_agg(self, meta, children):
        return n.Aggregate("count", self._ident(children[0]), span=self._span(meta))

    def count_days_agg(self, meta, children):
        return n.Aggregate("count_days", self._ident(children[0]), span=self._span(meta))

    def count_distinct_agg(self, meta, children):
        event, fld = children
        return n.Aggregate("count_distinct", self._ident(event), self._ident(fld), span=self._span(meta))

    def field_agg(self, meta, children):
        fn, event, fld = children
        return n.Aggregate(fn, self._ident(event), self._ident(fld), span=self._span(meta))

    def agg_fn(self, meta, children):
        return children[0].value

    def within_clause(self, meta, children):
        return n.Within(children[0], span=self._span(meta))

    def default_clause(self, meta, children):
        return n.Default(children[0], span=self._span(meta))

    # -- scores, tiers, privileges
    def score_decl(self, meta, children):
        name, expr, *clauses = children
        return n.ScoreDecl(name.value, expr, tuple(clauses), span=self._span(meta), name_span=self._tok_span(name))

    def bound_clause(self, meta, children):
        kind, value = children
        return n.Bound(kind, value, span=self._span(meta))

    def bound(self, meta, children):
        return children[0].value

    def tier_decl(self, meta, children):
        name, condition, *clauses = children
        return n.TierDecl(name.value, condition, tuple(clauses), span=self._span(meta),
                          name_span=self._tok_span(name))

    def when_condition(self, meta, children):
        return children[0]

    def otherwise_condition(self, meta, children):
        return None

    def privilege_decl(self, meta, children):
        name, condition, *clauses = children
        return n.PrivilegeDecl(name.value, condition, tuple(clauses), span=self._span(meta),
                               name_span=self._tok_span(name))

    # -- functions
    def def_decl(self, meta, children):
        name, *rest = children
        params = tuple(p for p in rest if isinstance(p, n.Param))
        ret = next((r for r in rest if isinstance(r, n.TypeRef)), None)
        body = rest[-1]
        return n.DefDecl(name.value, params, body, ret, span=self._span(meta), name_span=self._tok_span(name))

    def param(self, meta, children):
        name, type_tok = children
        return n.Param(name.value, n.TypeRef(type_tok.value, span=self._tok_span(type_tok)), span=self._span(meta))

    def return_type(self, meta, children):
        return n.TypeRef(children[0].value, span=self._tok_span(children[0]))

    # -- tests
    def test_decl(self, meta, children):
        name, *body = children
        return n.TestDecl(self._string(name), tuple(body), span=self._span(meta), name_span=self._tok_span(name))

    def _subject_id(self, tok: Token) -> str:
        return self._string(tok) if tok.type == "STRING" else tok.value

    def test_subject(self, meta, children):
        kind, ident, values = children
        return n.TestSubject(self._ident(kind), self._subject_id(ident), values, span=self._span(meta))

    def test_event(self, meta, children):
        at, subject, event, *values = children
        return n.TestEvent(self._date(at), self._subject_id(subject), self._ident(event),
                           values[0] if values else (), span=self._span(meta))

    def test_expect(self, meta, children):
        return n.Expect(children[0], span=self._span(meta))

    def test_as_of(self, meta, children):
        return n.AsOf(self._date(children[0]), span=self._span(meta))

    def field_values(self, meta, children):
        return tuple(children)

    def field_value(self, meta, children):
        name, value = children
        return n.FieldValue(name.value, value, span=self._span(meta))

    # -- properties
    def property_decl(self, meta, children):
        name, *clauses, body = children
        return n.PropertyDecl(self._string(name), tuple(clauses), body, span=self._span(meta),
                              name_span=self._tok_span(name))

    def for_score(self, meta, children):
        return self._ident(children[0])

    def always_prop(self, meta, children):
        return n.Always(children[0], span=self._span(meta))

    def independent_prop(self, meta, children):
        kind, attr, *score = children
        return n.Independent(self._ident(kind), self._ident(attr), score[0] if score else None,
                             span=self._span(meta))

    def monotone_prop(self, meta, children):
        event = self._ident(children[0])
        fld = next((self._ident(c) for c in children[1:] if isinstance(c, Token)), None)
        score = next((c for c in children[1:] if isinstance(c, n.Ident)), None)
        return n.Monotone(event, fld, score, span=self._span(meta))

    def gain_prop(self, meta, children):
        window, amount, *score = children
        return n.GainBound(window, amount.value, score[0] if score else None, span=self._span(meta))

    # -- expressions
    def if_expr(self, meta, children):
        cond, then, orelse = children
        return n.If(cond, then, orelse, span=self._span(meta))

    def or_expr(self, meta, children):
        return n.Binary("or", children[0], children[1], span=self._span(meta))

    def and_expr(self, meta, children):
        return n.Binary("and", children[0], children[1], span=self._span(meta))

    def not_expr(self, meta, children):
        return n.Unary("not", children[0], span=self._span(meta))

    def compare(self, meta, children):
        return n.Compare(tuple(children[0::2]), tuple(children[1::2]), span=self._span(meta))

    def comp_op(self, meta, children):
        return children[0].value

    def add_op(self, meta, children):
        return children[0].value

    def mul_op(self, meta, children):
        return children[0].value

    def in_expr(self, meta, children):
        value, options = children
        return n.In(value, options, False, span=self._span(meta))

    def not_in_expr(self, meta, children):
        value, options = children
        return n.In(value, options, True, span=self._span(meta))

    def list_literal(self, meta, children):
        return tuple(children)

    def coalesce(self, meta, children):
        return n.Coalesce(children[0], children[1], span=self._span(meta))

    def binary(self, meta, children):
        left, op, right = children
        return n.Binary(op, left, right, span=self._span(meta))

    def negate(self, meta, children):
        return n.Unary("-", children[-1], span=self._span(meta))

    def of_expr(self, meta, children):
        target, subject = children
        return n.Of(target, self._subject_id(subject), span=self._span(meta))

    def number_literal(self, meta, children):
        return n.Number(self._number(children[0]), span=self._span(meta))

    def duration_literal(self, meta, children):
        amount, unit = children
        return n.Duration(amount.value, unit, span=self._span(meta))

    def unit(self, meta, children):
        return _UNITS[children[0].value]

    def string_literal(self, meta, children):
        return n.String(self._string(children[0]), span=self._span(meta))

    def date_literal(self, meta, children):
        return self._date(children[0])

    def datetime_literal(self, meta, children):
        return self._date(children[0])

    def true_literal(self, meta, children):
        return n.Bool(True, span=self._span(meta))

    def false_literal(self, meta, children):
        return n.Bool(False, span=self._span(meta))

    def name(self, meta, children):
        return n.Name(children[0].value, span=self._span(meta))

    def call(self, meta, children):
        func, *args = children
        return n.Call(func.value, tuple(args), span=self._span(meta))

    def attribute(self, meta, children):
        obj, attr = children
        return n.Attribute(obj, attr.value, span=self._span(meta))
