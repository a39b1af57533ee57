"""The ranges every engine shares: which instants, durations and integers whuffie represents.

One home for these bounds so that the readers, the checker and every engine
refuse the same values with the same words (issue 10: datetimes at the edge of
Python's range and durations of 1e300 days crashed one engine and not another).
"""

from __future__ import annotations

import datetime as dt

# Instants are kept in UTC between these two, both inclusive. A margin of a day
# inside Python's own range leaves room for any UTC offset and for calendar-day
# arithmetic in any timezone without OverflowError.
FIRST_INSTANT = dt.datetime(1, 1, 2, tzinfo=dt.timezone.utc)
END_INSTANT = dt.datetime(9999, 12, 30, 23, 59, 59, tzinfo=dt.timezone.utc)
FIRST_DATE = FIRST_INSTANT.date()
LAST_DATE = END_INSTANT.date()
SUPPORTED_RANGE = "0001-01-02 to 9999-12-30 (UTC)"

# The longest duration, window or half-life: the whole supported range of instants.
MAX_DURATION_DAYS = (LAST_DATE - FIRST_DATE).days
MAX_DURATION = dt.timedelta(days=MAX_DURATION_DAYS)

# Integers are 64-bit on every engine (DuckDB's BIGINT); a value outside is a
# rejected data line or a W090 at run time, never a silent wrap.
INT64_MIN = -(2 ** 63)
INT64_MAX = 2 ** 63 - 1
