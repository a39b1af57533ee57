"""The bin analysis agrees with brute force: a gap or overlap it names is real, and it misses none."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from whuffie import factorbins
from whuffie.parser import parse

OPS = ["<", "<=", ">", ">=", "==", "!="]
KINDS = ["a", "b", "c"]


@st.composite
def bin_sets(draw):
    """Up to four bins over `n: int in 0..20` and `k: text in [...]`, each an or of ands of atoms."""
    def atom():
        if draw(st.booleans()):
            return f"n {draw(st.sampled_from(OPS))} {draw(st.integers(-2, 22))}"
        listed = draw(st.lists(st.sampled_from(KINDS), min_size=1, max_size=2, unique=True))
        return f"k {draw(st.sampled_from(['in', 'not in']))} [{', '.join(repr(v).replace(chr(39), chr(34)) for v in listed)}]"

    bins = []
    for _ in range(draw(st.integers(1, 4))):
        if draw(st.integers(0, 5)) == 0:
            bins.append(None)
            continue
        disjuncts = [" and ".join(atom() for _ in range(draw(st.integers(1, 2)))) for _ in range(draw(st.integers(1, 2)))]
        bins.append(" or ".join(disjuncts))
    return bins, draw(st.booleans())


def _parsed(bins, enumerated: bool):
    k = 'k: text in ["a", "b", "c"]' if enumerated else "k: text"
    text = f'event e {{ n: int in 0..20, {k} }}\n' + "".join(
        f'rule r{i} on e {"where " + w if w else ""} award 1\n' for i, w in enumerate(bins))
    program = parse(text, "b.whuf").program
    event = program.items[0]
    rules = program.items[1:]
    wheres = []
    for rule in rules:
        where = next((c.cond for c in rule.clauses if type(c).__name__ == "Where"), None)
        wheres.append((rule.name, where))
    return {f.name: f for f in event.fields}, wheres


def _matches(where_text: str | None, n: int, k: str) -> bool:
    """Brute force: these conditions are Python too (comparisons, `in` lists, `and`, `or`)."""
    if where_text is None:
        return True
    return bool(eval(where_text, {}, {"n": n, "k": k}))  # built above from fixed pieces only


@settings(max_examples=200, deadline=None)
@given(bin_sets())
def test_the_analysis_agrees_with_trying_every_value(case) -> None:
    bins, enumerated = case
    fields, wheres = _parsed(bins, enumerated)
    found = factorbins.analyse(fields, wheres, {"k": ("a", "b", "c")} if enumerated else None)
    assert found.unprovable is None
    texts = ["x", "a", "b", "c"] if not enumerated else ["a", "b", "c"]
    counts = {(n, k): sum(_matches(w, n, k) for w in bins) for n in range(0, 21) for k in texts}
    has_gap = any(c == 0 for c in counts.values())
    has_overlap = any(c > 1 for c in counts.values())
    assert (found.gap is not None) == has_gap
    assert (found.overlap is not None) == has_overlap
    if found.gap is not None:  # the witness itself is matched by no bin
        n = found.gap.get("n", 0)
        k = found.gap.get("k", texts[0])  # a field no bin reads: any of its values stands for all
        k = "x" if k is factorbins.ANOTHER else k
        assert counts[(n, k)] == 0
    if found.overlap is not None:
        at, a, b = found.overlap
        n, k = at.get("n", 0), at.get("k", texts[0])
        k = "x" if k is factorbins.ANOTHER else k
        assert counts[(n, k)] > 1
