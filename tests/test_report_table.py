"""The plain text table: aligned by display width whatever the ids hold, one line per row."""

from __future__ import annotations

import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st
from wcwidth import wcswidth

from whuffie.report import escape_controls, plain_table

ids = st.lists(st.sampled_from(["a", "Z", "李", "😀", "\n", "\t", "\x1b", "\u202e", "e\u0301", " "]),
               min_size=1, max_size=6).map("".join)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(ids, st.integers(-999, 99999)), min_size=1, max_size=6))
def test_every_row_is_one_line_and_columns_line_up(rows):
    table = plain_table(["subject", "score", "tier"], [[name, str(n), "member"] for name, n in rows])
    lines = table.splitlines()
    assert len(lines) == 2 + len(rows)
    # the tier column starts at the same display column on every line
    starts = {wcswidth(line[:line.rindex("  ") + 2]) for line in lines[2:]}
    assert len(starts) == 1


@given(st.text())
def test_escaped_text_is_printable_and_unescaped_text_is_untouched(text):
    escaped = escape_controls(text)
    # no C0/C1 control, line or paragraph separator, or bidi control is left to act on the terminal
    assert not any(unicodedata.category(ch) in ("Cc", "Zl", "Zp") or 0x202A <= ord(ch) <= 0x202E
                   or 0x2066 <= ord(ch) <= 0x2069 for ch in escaped)
    if text.isprintable():
        assert escaped == text


# ---------------------------------------------------------------- cells (report.cell_text)

from whuffie.report import cell_text, near_bound_text, typed  # noqa: E402
from whuffie.types import Type  # noqa: E402

cell_values = st.one_of(  # what a score or a measure can hold: results are checked finite
    st.none(), st.booleans(), st.integers(), st.integers(-2**70, 2**70).map(float),
    st.floats(allow_nan=False, allow_infinity=False), st.sampled_from([0.0, -0.0, 1e300, -2.5, 0.5, 79.9999, 80.0]),
    st.text(max_size=3))
cell_types = st.sampled_from([None, Type("int"), Type("number"), Type("int", True), Type("number", True),
                              Type("bool"), Type("text")])
cell_bounds = st.lists(st.one_of(st.integers(-100, 100), st.sampled_from([80, 79.99, 0.5, -0.0, 1e300])), max_size=3)


@settings(max_examples=500, deadline=None)
@given(cell_values, cell_types, cell_bounds, st.integers(0, 6))
def test_a_column_cell_is_the_typed_value_near_its_bounds(value, t, bounds, precision):
    # the quick cases (an int, a whole float) are written exactly as the careful functions write them
    expected = near_bound_text(typed(value, t), bounds, precision)
    assert cell_text(t, bounds, precision)(value) == expected
