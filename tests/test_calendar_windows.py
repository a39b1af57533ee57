"""`within N months|years`: calendar windows in the ruleset's timezone, at month ends and clock changes."""

from __future__ import annotations

import calendar
import datetime as dt
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st
from timehelpers import diagnostics_of, ev, run_all, subject

from whuffie.formatter import format_program
from whuffie.parser import parse
from whuffie.values import calendar_window_start

UTC = dt.timezone.utc
BERLIN = ZoneInfo("Europe/Berlin")

BODY = """
rule r by ada because "x" on returned award 1
measure late_6m = count returned within 6 months
measure late_1y = sum returned.days_late within 1 year default 0
measure late_1m = count returned within 1 month
"""


def test_six_months_back_from_the_31st_is_the_end_of_february():
    # T = 2026-08-31 12:00 Berlin; six months back is 2026-02-28 12:00 (+01:00), exclusive
    start = calendar_window_start(dt.datetime(2026, 8, 31, 10, 0, tzinfo=UTC), 6, BERLIN)
    assert start == dt.datetime(2026, 2, 28, 11, 0, tzinfo=UTC)
    # 2028 is a leap year: 29 February
    assert calendar_window_start(dt.datetime(2028, 8, 31, 10, 0, tzinfo=UTC), 6, BERLIN) == \
        dt.datetime(2028, 2, 29, 11, 0, tzinfo=UTC)


def test_the_window_edges_on_every_engine():
    events = [ev("returned", "2025-08-31T12:00:00+02:00", days_late=1),  # exactly a year back: out
              ev("returned", "2026-02-28T12:00:00+01:00", days_late=2),  # exactly six months back: out
              ev("returned", "2026-02-28T12:00:01+01:00", days_late=4),
              ev("returned", "2026-03-31T12:00:00+02:00", days_late=8)]
    for results in run_all(BODY, events, tz="Europe/Berlin", as_of="2026-08-31T12:00:00+02:00").values():
        assert subject(results).measures == {"late_6m": 2, "late_1y": 14, "late_1m": 0}


def test_a_month_back_across_the_spring_clock_change_keeps_the_wall_time():
    # T = 2026-04-15 00:30 Berlin (+02:00); a month back is 2026-03-15 00:30 (+01:00): 31 days less one hour
    start = calendar_window_start(dt.datetime(2026, 4, 14, 22, 30, tzinfo=UTC), 1, BERLIN)
    assert start == dt.datetime(2026, 3, 14, 23, 30, tzinfo=UTC)


def test_a_wall_time_the_clock_skips_is_read_with_the_offset_before_the_change():
    # T = 2026-04-29 02:30 Berlin; a month back 2026-03-29 02:30 does not exist (clocks go 02:00 -> 03:00):
    # read at +01:00, it is 01:30 UTC
    start = calendar_window_start(dt.datetime(2026, 4, 29, 0, 30, tzinfo=UTC), 1, BERLIN)
    assert start == dt.datetime(2026, 3, 29, 1, 30, tzinfo=UTC)


def test_a_window_before_year_one_covers_everything():
    assert calendar_window_start(dt.datetime(1, 3, 1, tzinfo=UTC), 6, UTC) is None


@given(st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2100, 1, 1)),
       st.integers(min_value=1, max_value=36))
def test_the_start_is_on_the_local_date_n_months_before_clamped(local, months):
    now = local.replace(tzinfo=BERLIN).astimezone(UTC)
    start = calendar_window_start(now, months, BERLIN).astimezone(BERLIN)
    here = now.astimezone(BERLIN)
    assert (here.year * 12 + here.month) - (start.year * 12 + start.month) == months
    assert start.day == min(here.day, calendar.monthrange(start.year, start.month)[1])
    assert start < now


def test_checks_and_formatting():
    assert ("W055", "measure m counts within a window of zero length") in diagnostics_of(
        "measure m = count returned within 0 months\n")
    assert "W020" in [c for c, _ in diagnostics_of("measure m = count returned within 1.5 months\n")]
    assert "W034" in [c for c, _ in diagnostics_of("measure m = count returned within 1 month within 3 days\n")]
    program = parse("measure m = count returned within 1 years\nmeasure k = count returned within 2 month\n").program
    assert format_program(program) == ("measure m = count returned within 1 year\n"
                                       "measure k = count returned within 2 months\n")
