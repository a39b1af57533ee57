"""Size limits that keep every pass linear and every engine's stack safe.

The language promises to terminate in time and space that grow with the
input; these bounds are where a hostile or machine-written file gets a
diagnostic instead of a crash. One home for them, so that every pass that
recurses over expressions reads the same number.
"""

from __future__ import annotations

# Nesting levels of one expression in the syntax tree; deeper input gets W005.
# (Issue 10, still open: depth reached through calls and def chains is not yet
# counted, so `check` can still hit Python's recursion limit below this.)
MAX_DEPTH = 200
