"""Size limits that keep every pass linear and every engine's stack safe.

The language promises to terminate in time and space that grow with the
input; these bounds are where a hostile or machine-written file gets a
diagnostic instead of a crash. One home for them, so that every pass that
recurses over expressions reads the same number.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterator
from contextlib import contextmanager

# Nesting levels of one expression, counted with every def call expanded (a call
# adds the depth of the def's body); deeper input gets W005 (parser: the text
# itself; checksize: through def calls).
MAX_DEPTH = 200

# The longest duration with a meaning: the span from the first to the last
# supported instant (0001-01-01 .. 9999-12-31T23:59:59.999999); a longer
# literal is W060, a longer computed one a run-time fault W090.
MAX_DURATION_SECONDS = (dt.datetime.max - dt.datetime.min).total_seconds()

# Nodes of one expression once its def calls are expanded; larger gets W061.
MAX_EXPANDED_NODES = 100_000

# The most Python frames a pass spends on one nesting level (the checker types
# `abs(...)` in six: value, infer, _call, _abs, _numbers, value); with margin.
FRAMES_PER_LEVEL = 8


@contextmanager
def stack_for_nesting() -> Iterator[None]:
    """Room on Python's stack for an expression MAX_DEPTH levels deep, above what the caller already uses.

    Python's default limit (1000 frames) is below what typing a 200-level expression takes; the
    bound on nesting is what keeps this finite. The limit is restored afterwards.
    """
    used = 0
    frame = sys._getframe()
    while frame is not None:
        used += 1
        frame = frame.f_back
    needed = used + MAX_DEPTH * FRAMES_PER_LEVEL + 100
    before = sys.getrecursionlimit()
    if needed > before:
        sys.setrecursionlimit(needed)
    try:
        yield
    finally:
        if needed > before:
            sys.setrecursionlimit(before)

# Input files (rule files, events, subjects): anything else than a regular file
# (a FIFO, /dev/zero, a terminal) could hang or fill memory, so only regular
# files are read (and `-`, standard input, for events), up to these sizes.
# Generous: a million-event JSONL log is about 150 MiB.
MAX_RULE_FILE_BYTES = 16 * 1024 * 1024
MAX_DATA_FILE_BYTES = 4 * 1024 * 1024 * 1024

# A quoted CSV cell may hold line breaks; one that is never closed would
# otherwise swallow the rest of the file into one record.
MAX_CSV_RECORD_LINES = 1000
