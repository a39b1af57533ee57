"""The parser: every construct of the language parses to the expected AST, with the right spans."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from whuffie import nodes as n
from whuffie.parser import lark_parser, parse, parse_expression

N, Id = n.Name, n.Ident


def num(v):
    return n.Number(v)


def only(source: str):
    """The single declaration of a source text."""
    result = parse(source, "t.whuf")
    assert result.ok, result.diagnostics
    assert len(result.program.items) == 1
    return result.program.items[0]


def expr(source: str):
    e, diags = parse_expression(source, "e.whuf")
    assert not diags, diags
    return e


# ---------------------------------------------------------------- expressions

EXPRESSIONS = [
    ("42", num(42)),
    ("4.25", num(4.25)),
    ("1.5e3", num(1500.0)),
    ("30 days", n.Duration(30, "days")),
    ("1 day", n.Duration(1, "days")),
    ("90 seconds", n.Duration(90, "seconds")),
    ("10 minutes", n.Duration(10, "minutes")),
    ("1 minute", n.Duration(1, "minutes")),
    ("12 hours", n.Duration(12, "hours")),
    ("1 hour", n.Duration(1, "hours")),
    ("2 weeks", n.Duration(2, "weeks")),
    ("1 week", n.Duration(1, "weeks")),
    ("1 second", n.Duration(1, "seconds")),
    ("0.5 days", n.Duration(0.5, "days")),
    ('"hi"', n.String("hi")),
    (r'"a\"b\\c\nd\te\rf\u{e9}"', n.String('a"b\\c\nd\te\rf\u00e9')),
    ("true", n.Bool(True)),
    ("false", n.Bool(False)),
    ("2026-01-10", n.Date(dt.date(2026, 1, 10))),
    ("2026-01-10T09:30:00Z", n.DateTime(dt.datetime(2026, 1, 10, 9, 30, tzinfo=dt.timezone.utc))),
    ("2026-01-10T09:30", n.DateTime(dt.datetime(2026, 1, 10, 9, 30))),
    ("2026-01-10T09:30:15.5+02:00",
     n.DateTime(dt.datetime(2026, 1, 10, 9, 30, 15, 500000, tzinfo=dt.timezone(dt.timedelta(hours=2))))),
    ("standing", N("standing")),
    ("member.joined", n.Attribute(N("member"), "joined")),
    ("event.at", n.Attribute(N("event"), "at")),
    ("a.b.c", n.Attribute(n.Attribute(N("a"), "b"), "c")),
    ("min(days_late, 10)", n.Call("min", (N("days_late"), num(10)))),
    ("f()", n.Call("f", ())),
    ("-x", n.Unary("-", N("x"))),
    ("--x", n.Unary("-", n.Unary("-", N("x")))),
    ("not damaged", n.Unary("not", N("damaged"))),
    ("1 + 2 * 3", n.Binary("+", num(1), n.Binary("*", num(2), num(3)))),
    ("1 - 2 - 3", n.Binary("-", n.Binary("-", num(1), num(2)), num(3))),
    ("(1 - 2) * 3 % 4 / 5", n.Binary("/", n.Binary("%", n.Binary("*", n.Binary("-", num(1), num(2)), num(3)),
                                                  num(4)), num(5))),
    ("-a * b", n.Binary("*", n.Unary("-", N("a")), N("b"))),
    ("a and b or c and d", n.Binary("or", n.Binary("and", N("a"), N("b")), n.Binary("and", N("c"), N("d")))),
    ("not a and b", n.Binary("and", n.Unary("not", N("a")), N("b"))),
    ("not a == b", n.Unary("not", n.Compare((N("a"), N("b")), ("==",)))),
    ("0 <= standing <= 200", n.Compare((num(0), N("standing"), num(200)), ("<=", "<="))),
    ("a != b", n.Compare((N("a"), N("b")), ("!=",))),
    ("a < b > c >= d", n.Compare((N("a"), N("b"), N("c"), N("d")), ("<", ">", ">="))),
    ("x in [1, 2]", n.In(N("x"), (num(1), num(2)))),
    ("x not in []", n.In(N("x"), (), True)),
    ("note ?? \"\"", n.Coalesce(N("note"), n.String(""))),
    ("a ?? b ?? c", n.Coalesce(N("a"), n.Coalesce(N("b"), N("c")))),
    ("a + 1 ?? b", n.Coalesce(n.Binary("+", N("a"), num(1)), N("b"))),
    ("if late then 1 else 2", n.If(N("late"), num(1), num(2))),
    ("if a then b else c or d", n.If(N("a"), N("b"), n.Binary("or", N("c"), N("d")))),
    ("standing of m", n.Of(N("standing"), "m")),
    ('tier of "Mary Jane"', n.Of(N("tier"), "Mary Jane")),
    ("-x of m", n.Unary("-", n.Of(N("x"), "m"))),
    ("standing of m == 97", n.Compare((n.Of(N("standing"), "m"), num(97)), ("==",))),
    ("now - member.joined >= 30 days",
     n.Compare((n.Binary("-", N("now"), n.Attribute(N("member"), "joined")), n.Duration(30, "days")), (">=",))),
    # a keyword is a name where the keyword cannot stand
    ("tier >= member", n.Compare((N("tier"), N("member")), (">=",))),
    ("hours * 2", n.Binary("*", N("hours"), num(2))),
    ("floor(x) + round(y, 2)", n.Binary("+", n.Call("floor", (N("x"),)), n.Call("round", (N("y"), num(2))))),
    ("points(volunteering)", n.Call("points", (N("volunteering"),))),
]


@pytest.mark.parametrize("source, expected", EXPRESSIONS, ids=[s for s, _ in EXPRESSIONS])
def test_expression(source: str, expected) -> None:
    assert expr(source) == expected


def test_number_types_are_kept() -> None:
    assert type(expr("3").value) is int
    assert type(expr("3.0").value) is float
    assert type(expr("2 days").amount) is int


# ---------------------------------------------------------------- declarations

DECLARATIONS = [
    ('ruleset riverside "Riverside Library"', n.RulesetDecl("riverside", "Riverside Library")),
    ("ruleset riverside", n.RulesetDecl("riverside", None)),
    ('version "2026.11"', n.VersionDecl("2026.11")),
    ('timezone "Europe/London"', n.TimezoneDecl("Europe/London")),
    ('import "std/math"', n.ImportDecl("std/math")),
    ('author ada "Ada Okafor"', n.AuthorDecl("ada", "Ada Okafor")),
    ("author ada", n.AuthorDecl("ada")),
    ("subject member {\n  joined: date\n  age: int protected\n  note: text?\n}",
     n.SubjectDecl("member", (n.Field("joined", n.TypeRef("date")),
                              n.Field("age", n.TypeRef("int"), protected=True),
                              n.Field("note", n.TypeRef("text"), optional=True)))),
    ("event returned { days_late: int in 0..3650, damaged: bool, }",
     n.EventDecl("returned", (n.Field("days_late", n.TypeRef("int"), range=n.Range(0, 3650)),
                              n.Field("damaged", n.TypeRef("bool"))))),
    ("event t { x: number? in -1.5..2 protected }",
     n.EventDecl("t", (n.Field("x", n.TypeRef("number"), True, n.Range(-1.5, 2), True),))),
    ("event visited {}", n.EventDecl("visited", ())),
    ('rule on_time by ada because "r" cites "c" on returned where days_late == 0 award 2 cap 20 per month '
     "cap 100 total once once per year decay half_life 180 days",
     n.RuleDecl("on_time", (
         n.By(Id("ada")), n.Because("r"), n.Cites("c"), n.On(Id("returned")),
         n.Where(n.Compare((N("days_late"), num(0)), ("==",))), n.Award(num(2)),
         n.Cap(20, "month"), n.Cap(100, None), n.Once(None), n.Once("year"),
         n.Decay(n.Duration(180, "days"))))),
    ("rule bare", n.RuleDecl("bare", ())),
    ('shared cap votes 200 per day over up, down by so because "b"',
     n.SharedCapDecl("votes", 200, "day", (Id("up"), Id("down")), (n.By(Id("so")), n.Because("b")))),
    ("shared cap edits 1000 total over edit", n.SharedCapDecl("edits", 1000, None, (Id("edit"),))),
    ("measure h = sum volunteered.hours", n.MeasureDecl("h", n.Aggregate("sum", Id("volunteered"), Id("hours")))),
    ("measure c = count returned where late within 30 days default 0 by ada",
     n.MeasureDecl("c", n.Aggregate("count", Id("returned")),
                   (n.Where(N("late")), n.Within(n.Duration(30, "days")), n.Default(num(0)), n.By(Id("ada"))))),
    ("measure d = count distinct days of returned",
     n.MeasureDecl("d", n.Aggregate("count_days", Id("returned")))),
    ("measure t = count distinct reply.topic",
     n.MeasureDecl("t", n.Aggregate("count_distinct", Id("reply"), Id("topic")))),
    ("measure a = avg r.x", n.MeasureDecl("a", n.Aggregate("avg", Id("r"), Id("x")))),
    ("measure a = min r.x", n.MeasureDecl("a", n.Aggregate("min", Id("r"), Id("x")))),
    ("measure a = max r.x", n.MeasureDecl("a", n.Aggregate("max", Id("r"), Id("x")))),
    ("score standing = clamp(100 + points, 0, 200)",
     n.ScoreDecl("standing", n.Call("clamp", (n.Binary("+", num(100), N("points")), num(0), num(200))))),
    ("score reputation = 1 + points\n  floor 1 per event\n  ceiling 10 per event by so",
     n.ScoreDecl("reputation", n.Binary("+", num(1), N("points")),
                 (n.Bound("floor", num(1)), n.Bound("ceiling", num(10)), n.By(Id("so"))))),
    ('tier trusted when standing >= 150 by council because "k"',
     n.TierDecl("trusted", n.Compare((N("standing"), num(150)), (">=",)),
                (n.By(Id("council")), n.Because("k")))),
    ("tier restricted otherwise", n.TierDecl("restricted", None)),
    ("privilege reserve when tier >= member by council",
     n.PrivilegeDecl("reserve", n.Compare((N("tier"), N("member")), (">=",)), (n.By(Id("council")),))),
    ("def half(x: number, y: int): number = x / 2",
     n.DefDecl("half", (n.Param("x", n.TypeRef("number")), n.Param("y", n.TypeRef("int"))),
               n.Binary("/", N("x"), num(2)), n.TypeRef("number"))),
    ("def one() = 1", n.DefDecl("one", (), num(1))),
    ('test "late" {\n  member m { joined: 2024-01-01, age: 30 }\n'
     '  at 2026-01-10 m returned { days_late: 3 }\n  at 2026-01-11T10:00:00Z "m 2" visited\n'
     "  as of 2026-02-01\n  expect standing of m == 97\n}",
     n.TestDecl("late", (
         n.TestSubject(Id("member"), "m", (n.FieldValue("joined", n.Date(dt.date(2024, 1, 1))),
                                          n.FieldValue("age", num(30)))),
         n.TestEvent(n.Date(dt.date(2026, 1, 10)), "m", Id("returned"), (n.FieldValue("days_late", num(3)),)),
         n.TestEvent(n.DateTime(dt.datetime(2026, 1, 11, 10, tzinfo=dt.timezone.utc)), "m 2", Id("visited"), ()),
         n.AsOf(n.Date(dt.date(2026, 2, 1))),
         n.Expect(n.Compare((n.Of(N("standing"), "m"), num(97)), ("==",))),
     ))),
    ('test "empty" {}', n.TestDecl("empty", ())),
    ('property "range" by council: always 0 <= standing <= 200',
     n.PropertyDecl("range", (n.By(Id("council")),),
                    n.Always(n.Compare((num(0), N("standing"), num(200)), ("<=", "<="))))),
    ('property "fair": independent of member.age for standing',
     n.PropertyDecl("fair", (), n.Independent(Id("member"), Id("age"), Id("standing")))),
    ('property "m" by c because "b": monotone in volunteered',
     n.PropertyDecl("m", (n.By(Id("c")), n.Because("b")), n.Monotone(Id("volunteered")))),
    ('property "m": monotone in volunteered.hours for standing',
     n.PropertyDecl("m", (), n.Monotone(Id("volunteered"), Id("hours"), Id("standing")))),
    ('property "g" by c: gain per day <= 30',
     n.PropertyDecl("g", (n.By(Id("c")),), n.GainBound("day", 30))),
]


@pytest.mark.parametrize("source, expected", DECLARATIONS, ids=[s.split("\n")[0][:40] for s, _ in DECLARATIONS])
def test_declaration(source: str, expected) -> None:
    assert only(source) == expected


def test_every_grammar_rule_has_a_builder() -> None:
    """The builder runs inside the parser; a rule without a callback would leak a Lark tree."""
    from whuffie.parser import _BUILDER

    for rule in lark_parser().rules:
        name = rule.alias or rule.origin.name
        if rule.options.expand1 and len(rule.expansion) == 1 and not rule.alias:
            continue  # an inlined single child is passed through
        if str(name).startswith("_"):
            continue  # Lark's helper rules (item*, ...) are spliced into their parent
        assert hasattr(_BUILDER, str(name)), name


def test_provenance_helpers() -> None:
    rule = only('rule r by ada because "why" cites "a" cites "b" on e award 1')
    assert rule.by == "ada" and rule.because == "why" and rule.cites == ("a", "b")
    assert rule.first(n.Award) == n.Award(num(1))


def test_whole_example_parses() -> None:
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "examples" / "library" / "rules.whuf"
    result = parse(path.read_text(encoding="utf-8"), str(path))
    assert result.ok
    kinds = [type(d).__name__ for d in result.program.items]
    assert kinds.count("RuleDecl") == 4 and kinds.count("PropertyDecl") == 4 and kinds.count("TierDecl") == 3
    assert [c.trailing for c in result.program.comments] == [False, True, True]


# ---------------------------------------------------------------- spans


SOURCE = '''author ada
rule late by ada
  because "Lateness"
  on returned where days_late > 0
  award -min(days_late, 10)
score s = (1 + 2) * x  # note
'''


def test_spans() -> None:
    program = parse(SOURCE, "s.whuf").program
    author, rule, score = program.items
    assert author.span == n.Span("s.whuf", 1, 1, 1, 11)
    assert author.name_span == n.Span("s.whuf", 1, 8, 1, 11)
    assert rule.span == n.Span("s.whuf", 2, 1, 5, 28)
    assert rule.name_span == n.Span("s.whuf", 2, 6, 2, 10)
    by, because, on, where, award = rule.clauses
    assert by.span == n.Span("s.whuf", 2, 11, 2, 17)
    assert by.author.span == n.Span("s.whuf", 2, 14, 2, 17)
    assert because.span == n.Span("s.whuf", 3, 3, 3, 21)
    assert where.span == n.Span("s.whuf", 4, 15, 4, 34)
    assert where.cond.span == n.Span("s.whuf", 4, 21, 4, 34)
    assert where.cond.operands[0].span == n.Span("s.whuf", 4, 21, 4, 30)
    assert award.value.span == n.Span("s.whuf", 5, 9, 5, 28)
    call = award.value.operand
    assert call.span == n.Span("s.whuf", 5, 10, 5, 28)
    assert call.args[1].span == n.Span("s.whuf", 5, 25, 5, 27)
    # brackets belong to the enclosing expression, not to the bracketed one
    product = score.expr
    assert product.span == n.Span("s.whuf", 6, 11, 6, 22)
    assert product.left.span == n.Span("s.whuf", 6, 12, 6, 17)
    assert program.comments == (n.Comment(" note", True),)
    assert program.comments[0].span == n.Span("s.whuf", 6, 24, 6, 30)


def test_string_escape_and_date_errors_are_literal_diagnostics() -> None:
    result = parse('version "a\\qb"\ntest "t" { as of 2026-02-30 }\n', "l.whuf")
    codes = [(d.code, d.span.line, d.span.col) for d in result.diagnostics]
    assert codes == [("W004", 1, 11), ("W004", 2, 18)]
    assert "\\q" in result.diagnostics[0].message
    assert "2026-02-30" in result.diagnostics[1].message


def test_parse_tables_cache_is_plain_json_and_survives_damage(tmp_path, monkeypatch):
    """The per-user table cache round-trips to the same AST, and a damaged file is rebuilt."""
    import json

    from whuffie import parser as parser_module

    source = (Path(__file__).parents[1] / "examples" / "library" / "rules.whuf").read_text(encoding="utf-8")
    expected = parser_module.parse(source, "rules.whuf").program
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(parser_module, "_packaged_parser", lambda grammar_text: None)  # as after a grammar edit
    try:
        parser_module.lark_parser.cache_clear()
        parser_module.lark_parser()  # builds and stores
        stored = list((tmp_path / "whuffie").glob("lalr-*.json"))
        assert len(stored) == 1
        json.loads(stored[0].read_text(encoding="utf-8"))  # data, not a pickle
        parser_module.lark_parser.cache_clear()
        assert parser_module.parse(source, "rules.whuf").program == expected  # loaded from the cache
        stored[0].write_text('{"data": "damaged"', encoding="utf-8")
        parser_module.lark_parser.cache_clear()
        assert parser_module.parse(source, "rules.whuf").program == expected  # rebuilt
    finally:
        parser_module.lark_parser.cache_clear()
