"""Syntax highlighting for rule files: a Pygments lexer for whuffie.

Registered as the Pygments lexer "whuffie" (aliases whuffie, whuf; files
*.whuf) through the ``pygments.lexers`` entry point, so ``pygmentize -l
whuffie`` and rich's ``Syntax`` pick it up once the package is installed.

The language's keywords are contextual (a keyword is an ordinary name
wherever the keyword cannot appear), and a regex lexer cannot see the parser's
state. The rules below approximate it with the local context that decides it
in practice: declaration keywords only start a line, a word after ``.`` is a
field, a word before ``(`` is a call (unless it is a keyword that an
expression follows, as in ``award (a + b) / 2``), a word before ``:`` is a
field name,
units and ``total`` only follow a number and windows only follow ``per``.
"""

from __future__ import annotations

from pygments.lexer import RegexLexer, bygroups, words
from pygments.token import (
    Comment,
    Error,
    Keyword,
    Name,
    Number,
    Operator,
    Punctuation,
    String,
    Whitespace,
)

__all__ = ["WhuffieLexer"]

DECLARATION_KEYWORDS = (
    "ruleset", "version", "timezone", "import", "author", "subject", "event",
    "rule", "shared", "factor", "measure", "score", "tier", "privilege", "def", "test",
    "property", "condition", "param",
)
# Declarations whose keyword is followed by the name being declared.
NAMING_DECLARATIONS = ("param", "ruleset", "author", "subject", "event", "rule", "factor", "measure", "score",
                       "tier", "privilege", "def", "condition")
CLAUSE_KEYWORDS = (
    "by", "because", "cites", "on", "where", "award", "cap", "once",
    "decay", "half_life", "over", "count", "distinct", "sum", "avg", "min", "max", "last", "first",
    "within", "default", "across", "everyone", "floor", "ceiling", "when", "otherwise", "protected",
    "expect", "at", "as", "always", "independent", "monotone", "gain", "for", "per", "four", "fifths",
    "keep", "while", "hold", "earlier",
)
WORD_OPERATORS = ("and", "or", "not", "in", "of", "if", "then", "else")
TYPE_NAMES = ("int", "number", "bool", "text", "date", "datetime", "duration")
UNITS = ("seconds", "second", "minutes", "minute", "hours", "hour", "days", "day", "weeks", "week")
WINDOWS = ("day", "week", "month", "year")
CALENDAR_UNITS = ("months", "month", "years", "year")  # `within 6 months`
BUILTIN_FUNCTIONS = ("min", "max", "clamp", "abs", "floor", "ceil", "round", "sqrt", "log", "exp",
                     "days", "hours", "points")
BUILTIN_VALUES = ("points", "now")
# Keywords that an expression follows, so that "award (a + b)" is not a call.
# (`floor` is left out: before "(" it is far more often the function.)
EXPRESSION_KEYWORDS = ("where", "award", "when", "default", "always", "expect", "ceiling",
                       "and", "or", "not", "if", "then", "else", "while", "earlier")

_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_NUMBER = r"\d+(?:\.\d+(?:[eE][+-]?\d+)?)?"
_DATETIME = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})?"
_DATE = r"\d{4}-\d{2}-\d{2}"


class WhuffieLexer(RegexLexer):
    """Pygments lexer for whuffie rule files (*.whuf)."""

    name = "whuffie"
    aliases = ["whuffie", "whuf"]
    filenames = ["*.whuf"]
    mimetypes = ["text/x-whuffie"]

    tokens = {
        "root": [
            (r"\s+", Whitespace),
            (r"#[^\n]*", Comment.Single),
            (r'"', String.Double, "string"),
            # Literals: the longest forms first, as the grammar's priorities do.
            (_DATETIME, Number.Other),
            (_DATE, Number.Other),
            # a unit follows its number on the same line (a field named `minutes` may start the next)
            (r"(%s)([ \t]+)(%s)\b" % (_NUMBER, "|".join(UNITS + CALENDAR_UNITS)),
             bygroups(Number, Whitespace, Keyword.Type)),
            (r"(%s)(\s+)(total)\b" % _NUMBER, bygroups(Number, Whitespace, Keyword)),
            (r"\d+\.\d+(?:[eE][+-]?\d+)?", Number.Float),
            (r"\d+", Number.Integer),
            # Declarations open a line; the declared name follows.
            (r"^(shared)(\s+)(cap)(\s+)(%s)" % _NAME,
             bygroups(Keyword.Declaration, Whitespace, Keyword.Declaration, Whitespace, Name.Class)),
            (r"^(%s)(\s+)(%s)" % ("|".join(NAMING_DECLARATIONS), _NAME),
             bygroups(Keyword.Declaration, Whitespace, Name.Class)),
            (r"^(%s)\b" % "|".join(DECLARATION_KEYWORDS), Keyword.Declaration),
            # Context that turns a keyword back into a name.
            (r"(\.)(\s*)(%s)" % _NAME, bygroups(Punctuation, Whitespace, Name.Attribute)),
            (r"(by)(\s+)(%s)" % _NAME, bygroups(Keyword, Whitespace, Name.Entity)),
            (r"(per)(\s+)(%s|event)\b" % "|".join(WINDOWS), bygroups(Keyword, Whitespace, Keyword.Type)),
            (r"(distinct)(\s+)(days)(\s+)(of)\b",
             bygroups(Keyword, Whitespace, Keyword, Whitespace, Operator.Word)),
            (r"(:)(\s*)(%s)\b(\??)" % "|".join(TYPE_NAMES),
             bygroups(Punctuation, Whitespace, Keyword.Type, Operator)),
            (r"%s(?=\s*:)" % _NAME, Name.Variable),
            (words(BUILTIN_FUNCTIONS, suffix=r"(?=\s*\()"), Name.Builtin),
            (r"(?!(?:%s)\b)%s(?=\s*\()" % ("|".join(EXPRESSION_KEYWORDS), _NAME), Name.Function),
            (words(("true", "false"), suffix=r"\b"), Keyword.Constant),
            (words(WORD_OPERATORS, suffix=r"\b"), Operator.Word),
            (words(CLAUSE_KEYWORDS, suffix=r"\b"), Keyword),
            (words(BUILTIN_VALUES, suffix=r"\b"), Name.Builtin.Pseudo),
            (_NAME, Name),
            (r"\?\?|==|!=|<=|>=|\.\.|[<>+\-*/%=?]", Operator),
            (r"[()\[\]{},.:]", Punctuation),
        ],
        "string": [
            (r'\\(?:["\\ntr]|u\{[0-9A-Fa-f]{1,6}\})', String.Escape),
            (r"\\.", Error),  # the parser rejects unknown escapes (W004)
            (r'[^"\\\n]+', String.Double),
            (r'"', String.Double, "#pop"),
            (r"\n", Error, "#pop"),  # an unclosed string ends at the line's end (W002)
        ],
    }

    def __init__(self, **options) -> None:
        # Keep leading and trailing blank lines so that the tokens join back to the text.
        options.setdefault("stripnl", False)
        super().__init__(**options)
