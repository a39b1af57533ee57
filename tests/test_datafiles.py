"""Reading data files: which files are read at all, and lines and CSV records as the readers see them."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from whuffie.datafiles import csv_records, refuse_unreadable
from whuffie.datafiles import rows as csv_rows


def test_a_directory_or_a_missing_file_is_named_as_such(tmp_path):
    assert refuse_unreadable(tmp_path, 10) == "is a directory, not a file"
    assert refuse_unreadable(tmp_path / "nope", 10) == "no such file"


def test_inputs_over_the_size_limit_are_refused(tmp_path):
    path = tmp_path / "big.jsonl"
    path.write_text(json.dumps({"a": 1}) * 30)
    assert "is too large" in refuse_unreadable(path, 100)
    assert refuse_unreadable(path, 10_000) is None


def test_an_unclosed_quote_costs_one_line_and_the_rest_is_read_again():
    text = 'a,"b\nc,d\ne,f\n'
    assert [(number, cells) for number, _, cells in csv_records(text)] == [
        (1, "malformed CSV: unexpected end of data"), (2, None), (3, None)]


csv_cells = st.text(alphabet=st.sampled_from('ab ,"\n\r\t'), max_size=6)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(csv_cells, csv_cells), min_size=1, max_size=6))
def test_csv_records_read_back_as_written_with_their_first_line_numbers(rows):
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["a", "b"])
    for row in rows:
        writer.writerow(row)
    text = out.getvalue()
    got = [(number, row) for number, _, row in csv_rows(Path("x.csv"), text)][1:]
    assert [(r.get("a", ""), r.get("b", "")) for _, r in got] == rows
    # each record's number is the physical line it starts on
    starts, line = [], 2
    for a, b in rows:
        starts.append(line)
        record = io.StringIO()
        csv.writer(record, lineterminator="\r\n").writerow((a, b))
        line += sum(1 for _ in io.StringIO(record.getvalue(), newline=""))
    assert [number for number, _ in got] == starts
