"""The ledger as one SQL query: every firing of every rule, with its cuts, read off the SQL engine's levels.

Entry point: ``ledger_select(plan, stages, type_code)``, called by
``sqlengine.compile_query(..., ledger=True)``. The pipeline levels of the
score query (raw award, ``once``, each cap, the running bound, decay) each
leave a snapshot of every rule's value on the row; a rule's cut at a level is
the value before it minus the value after it, listed (with the level's label,
as the reference writes it) when it is not zero. That is exactly when the
reference records a cut: ``once`` takes a non-zero award to 0, a cap or the
bound only ever takes something away. (For float values, "not zero" means
beyond rounding: ``FLOAT_CUT_NOISE``.) The rows come out in ledger order
(subject, time, input position, rule in declaration order), so the file
DuckDB writes from this query needs no Python object per entry.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from ..plan import Plan
from .sqlexpr import col as _col, eq as _eq, not_null as _not_null, num as _num, sub as _sub


@dataclass(frozen=True)
class Stage:
    """One pipeline level's snapshot: each rule's value column after it, and the label of its cut (if it cuts)."""

    columns: dict[int, str]  # rule index -> snapshot column
    labels: dict[int, str]  # rule index -> the cut's label at this level (rules it applies to)


def number_kinds(plan: Plan) -> tuple[bool, bool]:
    """(amounts are whole, values are whole) in the ledger: from the checker's types of the awards, and the caps,
    the bound and decay. Amounts are integers when every award, cap and bound is; values when no rule decays too."""
    awards_whole = all(getattr(plan.type_of(r.award), "base", None) == "int" for r in plan.rules)
    constants = [c.amount for r in plan.rules for c in r.caps]
    if plan.bound is not None:
        constants += [x for x in (plan.bound.floor, plan.bound.ceiling, plan.bound.start) if x is not None]
    amounts_whole = awards_whole and all(isinstance(x, int) for x in constants)
    return amounts_whole, amounts_whole and all(r.half_life is None for r in plan.rules)


def number_type(whole: bool) -> exp.DataType:
    return exp.DataType.build("BIGINT" if whole else "DOUBLE")


def cut_list_type(amounts_whole: bool) -> exp.DataType:
    return exp.DataType.build(f"STRUCT(by VARCHAR, amount {'BIGINT' if amounts_whole else 'DOUBLE'})[]",
                              dialect="duckdb")


def _cast(node: exp.Expression, to: exp.DataType) -> exp.Expression:
    return exp.Cast(this=node, to=to.copy())


def _text(value: str | None) -> exp.Expression:
    return exp.Null() if value is None else exp.Literal.string(value)


# A float cut smaller than this share of the value it cut (or than this, below 1) is rounding, not a cut:
# DuckDB's window sums of doubles may differ from the reference's running sum in the last bits.
FLOAT_CUT_NOISE = 1e-9


def _cuts(rule_index: int, stages: list[Stage], amounts_whole: bool) -> exp.Expression:
    """The rule's cuts in pipeline order: [{by, amount}] at every level that applies to it, the zero ones dropped."""
    entries = []
    for before, after in zip(stages, stages[1:]):
        label = after.labels.get(rule_index)
        if label is None:
            continue
        amount = _sub(_col(before.columns[rule_index], "f"), _col(after.columns[rule_index], "f"))
        if amounts_whole:
            keep = exp.NEQ(this=amount.copy(), expression=exp.Literal.number(0))
        else:
            scale = exp.Greatest(this=exp.Literal.number(1), expressions=[
                exp.Abs(this=_col(before.columns[rule_index], "f"))])
            keep = exp.GT(this=exp.Abs(this=amount.copy()),
                          expression=exp.Mul(this=_num(FLOAT_CUT_NOISE), expression=scale))
        cut = exp.Struct(expressions=[
            exp.PropertyEQ(this=exp.to_identifier("by"), expression=exp.Literal.string(label)),
            exp.PropertyEQ(this=exp.to_identifier("amount"), expression=_cast(amount, number_type(amounts_whole)))])
        entries.append(exp.Case(ifs=[exp.If(this=keep, true=cut)]))
    if not entries:
        return _cast(exp.Array(expressions=[]), cut_list_type(amounts_whole))
    kept = exp.ArrayFilter(this=exp.Array(expressions=entries), expression=exp.Lambda(
        this=exp.Not(this=exp.Is(this=exp.to_identifier("c"), expression=exp.Null())),
        expressions=[exp.to_identifier("c")]))
    return _cast(kept, cut_list_type(amounts_whole))


def ledger_select(plan: Plan, stages: list[Stage], type_code: dict[str, int]) -> exp.Select:
    """Every firing, one row each, over the ``final`` level (joined to ``keys`` for the subject's id)."""
    per_rule = []
    amounts_whole, values_whole = number_kinds(plan)
    amount_type, value_type = number_type(amounts_whole), number_type(values_whole)
    for r in plan.rules:
        raw, capped = stages[0].columns[r.index], stages[-1].columns[r.index]
        span = r.span
        cites = exp.Array(expressions=[exp.Literal.string(c) for c in r.cites])
        select = exp.select(
            _col("subject", "k").as_("subject"),
            exp.Literal.string(r.name).as_("rule"),
            _cast(_text(r.author), exp.DataType.build("VARCHAR")).as_("author"),
            _cast(_text(r.because), exp.DataType.build("VARCHAR")).as_("because"),
            _cast(cites, exp.DataType.build("VARCHAR[]", dialect="duckdb")).as_("cites"),
            _col("id", "f").as_("event"),
            exp.Literal.string(r.event).as_("event_type"),
            _col("at_us", "f").as_("at_us"),
            _col("line", "f").as_("line"),
            _cast(_col(raw, "f"), amount_type).as_("raw"),
            _cast(_col(capped, "f"), amount_type).as_("capped"),
            _cuts(r.index, stages, amounts_whole).as_("cut_by"),
            _cast(_col(f"decay{r.index}", "f"), exp.DataType.build("DOUBLE")).as_("decay"),
            _cast(_col(f"final{r.index}", "f"), value_type).as_("value"),
            exp.Literal.string(f"{span.file}:{span.line}:{span.col}").as_("span"),
            _col("pos", "f").as_("pos"),
            exp.Literal.number(r.index).as_("rule_index"),
        ).from_(exp.alias_(exp.to_table("final"), "f")).join(
            exp.alias_(exp.to_table("keys"), "k"), on=_eq(_col("sk", "f"), _col("sk", "k"))).where(
            exp.And(this=_eq(_col("tc", "f"), exp.Literal.number(type_code[r.event])),
                    expression=_not_null(_col(raw, "f"))))
        per_rule.append(select)
    union = per_rule[0]
    for select in per_rule[1:]:
        union = exp.union(union, select, distinct=False)
    order = [exp.Ordered(this=_col(c)) for c in ("subject", "at_us", "pos", "rule_index")]
    return exp.select(*[_col(c) for c in LEDGER_COLUMNS if c != "at"], _col("at_us")).from_(
        exp.alias_(exp.Subquery(this=union), "l")).order_by(*order)


# The exported ledger's columns, in order: the fields of `explain --format json`'s ledger entries, after the subject.
LEDGER_COLUMNS = ("subject", "rule", "author", "because", "cites", "event", "event_type", "at", "line", "raw",
                  "capped", "cut_by", "decay", "value", "span")
