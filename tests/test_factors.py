"""Factors: the bins of a scorecard's characteristics, checked exclusive and exhaustive, and reasons by loss."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from whuffie import engines, evaluator, reasons
from whuffie.engines import codegen
from whuffie.formatter import format_program
from whuffie.frontend import load_text
from whuffie.inputs import parse_events
from whuffie.parser import parse

DATA = Path(__file__).resolve().parent / "data" / "german_credit"
NUMERIC = {"age_in_years", "duration_in_month", "credit_amount",
           "installment_rate_in_percentage_of_disposable_income"}


def _quote(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _bin_condition(field: str, label: str) -> str:
    if field in NUMERIC:  # "[low,high)" with -inf / inf for an open end
        low, high = label.strip("[)").split(",")
        parts = ([f"{field} >= {int(float(low))}"] if low != "-inf" else []) + \
                ([f"{field} < {int(float(high))}"] if high != "inf" else [])
        return " and ".join(parts)
    values = label.split("%,%")
    return f"{field} in [{', '.join(_quote(v) for v in values)}]"


def german_credit_rules() -> tuple[str, dict]:
    """The card as a rule file: one rule per bin, one factor per characteristic, score = base + points.

    Text characteristics are enumerated with the values the card's bins list, so
    the checker can prove every factor exhaustive; tests/data/german_credit/rules.whuf
    is this text, formatted.
    """
    card = json.loads((DATA / "card.json").read_text(encoding="utf-8"))
    names = [c["name"] for c in card["characteristics"]]
    fields = []
    for c in card["characteristics"]:
        if c["name"] in NUMERIC:
            fields.append(f"{c['name']}: int in 0..1000000")
        else:
            values = [v for label, _ in c["bins"] for v in label.split("%,%")]
            fields.append(f"{c['name']}: text in [{', '.join(_quote(v) for v in values)}]")
    out = ['ruleset german_credit "The German Credit scorecard of scorecardpy"', 'version "scorecardpy-0.1.9.7"',
           'author card "scorecardpy 0.1.9.7, the README example"', f"event applied {{ {', '.join(fields)} }}"]
    for c in card["characteristics"]:
        rules = []
        for i, (label, points) in enumerate(c["bins"], 1):
            rule = f"{c['name']}_{i}"
            rules.append(rule)
            out.append(f"rule {rule} by card because {_quote(c['name'].replace('_', ' ') + ': ' + label.replace('%,%', ', '))} "
                       f"on applied where {_bin_condition(c['name'], label)} award {int(points)}")
        out.append(f"factor {c['name']} over {', '.join(rules)} by card because {_quote(c['name'].replace('_', ' '))}")
    out.append(f"score credit = {int(card['basepoints'])} + points")
    out.append('tier approved when credit >= 500 by card because "500 points or more"')
    out.append('tier declined otherwise by card because "Below 500 points"')
    assert len(names) == 13
    return "\n".join(out) + "\n", card


def _expected() -> list[dict]:
    """scorecardpy's total score and points per characteristic for each applicant."""
    with open(DATA / "expected.csv", encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def card_reasons(applicant: dict, card: dict, limit: int = 4) -> list[tuple[str, int]]:
    """The card's own definition: points below each characteristic's best bin, largest first, top four."""
    losses = []
    for order, c in enumerate(card["characteristics"]):
        best = max(points for _, points in c["bins"])
        loss = best - float(applicant[f"points_{c['name']}"])
        if loss > 0:
            losses.append((-loss, order, c["name"]))
    return [(name, int(-neg)) for neg, _, name in sorted(losses)[:limit]]


def test_the_german_credit_card_scores_and_gives_the_cards_reasons_for_every_applicant() -> None:
    text, card = german_credit_rules()
    assert format_program(parse(text, "rules.whuf").program) == (DATA / "rules.whuf").read_text(encoding="utf-8")
    loaded = load_text(text, "german.whuf")
    assert loaded.ok and loaded.ruleset is not None
    assert loaded.diagnostics == []  # every factor proven exclusive and exhaustive
    rs = loaded.ruleset
    assert len(rs.factors) == 13 and sum(len(f.rules) for f in rs.factors.values()) == 46
    load = parse_events((DATA / "applicants.jsonl").read_text(encoding="utf-8"), Path("applicants.jsonl"), rs)
    assert load.rejects == []
    events = load.events
    by_id = {a["applicant"]: a for a in _expected()}
    for engine in (evaluator.evaluate, codegen.evaluate):
        results = engine(rs, events)
        assert len(results.subjects) == 1000
        for result in results.subjects:
            a = by_id[result.subject]
            assert result.scores["credit"] == float(a["scorecardpy_score"]), result.subject
            found = reasons.reasons(result, rs, 4)
            assert [(r.factor, r.loss) for r in found] == card_reasons(a, card), result.subject
            for r in found:  # the bin named is the one the applicant is in, and its points are the card's
                assert r.rule.startswith(r.factor + "_") and r.points == float(a[f"points_{r.factor}"])
    sql = engines.evaluate("duckdb", rs, events, ledger=False)
    assert [s.scores["credit"] for s in sql.subjects] == [float(by_id[s.subject]["scorecardpy_score"])
                                                         for s in sql.subjects]


def test_a_factor_formats_and_parses_back() -> None:
    text, _ = german_credit_rules()
    program = parse(text, "g.whuf").program
    again = parse(format_program(program), "g.whuf").program
    assert again == program


BASE = '''ruleset f "factors"
author ada "Ada"
event applied { months: int in 0..120, amount: number, kind: text, other: int }
'''


def _codes(extra: str) -> list[tuple[str, str]]:
    loaded = load_text(BASE + extra, "f.whuf")
    return [(d.code, d.message) for d in loaded.diagnostics]


def test_a_gap_between_bins_is_w064_naming_the_first_value_no_bin_matches() -> None:
    found = _codes('rule a by ada because "a" on applied where months < 16 award 1\n'
                   'rule b by ada because "b" on applied where months >= 20 award 2\n'
                   'factor months over a, b by ada because "months"\n')
    assert found == [("W064", "months 16 is matched by no bin of factor months")]


def test_overlapping_bins_are_w063_naming_a_value_and_the_two_bins() -> None:
    found = _codes('rule a by ada because "a" on applied where months < 12 award 1\n'
                   'rule b by ada because "b" on applied where months >= 10 award 2\n'
                   'factor months over a, b by ada because "months"\n')
    assert found == [("W063", "months 10 is matched by two bins of factor months, a and b: "
                              "a factor's bins must exclude each other")]


def test_a_non_constant_award_a_second_event_type_and_a_rule_in_two_factors_are_w065() -> None:
    found = _codes('event other { x: int }\n'
                   'rule a by ada because "a" on applied where months < 12 award months\n'
                   'rule b by ada because "b" on applied where months >= 12 award 2\n'
                   'rule c by ada because "c" on other award 1\n'
                   'factor f over a, b by ada because "f"\n'
                   'factor g over b, c by ada because "g"\n')
    codes = [code for code, _ in found]
    assert codes == ["W065", "W065"] or sorted(codes) == ["W065", "W065"]
    messages = " | ".join(m for _, m in found)
    assert "rule a's award is not a constant" in messages
    assert "rule b is a bin of factor f already" in messages


def test_bins_on_text_bools_and_several_fields_are_checked_too() -> None:
    ok = _codes('rule a by ada because "a" on applied where kind in ["x", "y"] award 1\n'
                'rule b by ada because "b" on applied where kind not in ["x", "y"] award 2\n'
                'factor kind over a, b by ada because "kind"\n')
    assert ok == []
    gap = _codes('rule a by ada because "a" on applied where kind == "x" award 1\n'
                 'factor kind over a by ada because "kind"\n')
    assert gap == [("W064", "kind with a value no bin lists is matched by no bin of factor kind")]
    two = _codes('rule a by ada because "a" on applied where months < 12 and amount < 5 award 1\n'
                 'rule b by ada because "b" on applied where months >= 12 or amount >= 5 award 2\n'
                 'factor both over a, b by ada because "both"\n')
    assert two == []
    beyond = _codes('rule a by ada because "a" on applied where months + other > 3 award 1\n'
                    'factor f over a by ada because "f"\n')
    assert [c for c, _ in beyond] == ["W066"]


def test_without_factors_reasons_are_unchanged_and_with_them_a_best_bin_is_no_reason() -> None:
    text = BASE + ('rule a by ada because "short" on applied where months < 12 award 30\n'
                   'rule b by ada because "long" on applied where months >= 12 award 10\n'
                   'factor months over a, b by ada because "months"\n'
                   'rule fee by ada because "fee" on applied award -3\n')
    rs = load_text(text, "f.whuf").ruleset
    events = parse_events(
        '{"subject": "u", "type": "applied", "at": "2026-01-01T00:00:00Z", "months": 24, "amount": 1, "kind": "x", "other": 0}\n'
        '{"subject": "v", "type": "applied", "at": "2026-01-01T00:00:00Z", "months": 3, "amount": 1, "kind": "x", "other": 0}\n',
        Path("e.jsonl"), rs).events
    u, v = evaluator.evaluate(rs, events).subjects
    assert [(r.rule, r.factor, r.points, r.loss) for r in reasons.reasons(u, rs)] == \
        [("b", "months", 10, 20), ("fee", None, -3, 3)]
    assert [(r.rule, r.factor, r.points, r.loss) for r in reasons.reasons(v, rs)] == [("fee", None, -3, 3)]


@st.composite
def exclusive_bins(draw):
    """Cut points over 0..50 and a constant award per bin: bins that are exclusive and exhaustive by construction."""
    cuts = sorted(draw(st.sets(st.integers(1, 50), max_size=5)))
    edges = [None, *cuts, None]
    rules, names = [], []
    for i, (low, high) in enumerate(zip(edges, edges[1:])):
        parts = ([f"n >= {low}"] if low is not None else []) + ([f"n < {high}"] if high is not None else [])
        where = f" where {' and '.join(parts)}" if parts else ""
        award = draw(st.integers(-20, 20))
        rules.append(f'rule bin{i} by ada because "bin {i}" on did{where} award {award}')
        names.append(f"bin{i}")
    text = ('ruleset h "bins"\nauthor ada "Ada"\nevent did { n: int in 0..50 }\n' + "\n".join(rules)
            + f'\nfactor n over {", ".join(names)} by ada because "n"\nscore s = points\n')
    values = draw(st.lists(st.integers(0, 50), min_size=1, max_size=12))
    return text, names, values


@settings(max_examples=40, deadline=None)
@given(exclusive_bins())
def test_every_event_matches_exactly_one_bin_of_exclusive_exhaustive_bins_on_every_engine(case) -> None:
    text, names, values = case
    loaded = load_text(text, "h.whuf")
    assert loaded.ok and loaded.diagnostics == [], [d.message for d in loaded.diagnostics]
    rs = loaded.ruleset
    events_text = "".join(json.dumps({"subject": f"s{i}", "type": "did", "at": "2026-01-01T00:00:00Z",
                                      "n": v}) + "\n" for i, v in enumerate(values))
    events = parse_events(events_text, Path("e.jsonl"), rs).events
    reference = evaluator.evaluate(rs, events)
    for result in reference.subjects:
        assert len(result.ledger) == 1 and result.ledger[0].rule in names
    fast = codegen.evaluate(rs, events)
    assert [len(r.ledger) for r in fast.subjects] == [1] * len(values)
    assert [[e.rule for e in r.ledger] for r in fast.subjects] == [[e.rule for e in r.ledger] for r in reference.subjects]
    sql = engines.evaluate("duckdb", rs, events, ledger=False)
    assert [r.points_by_rule for r in sql.subjects] == [r.points_by_rule for r in reference.subjects]
