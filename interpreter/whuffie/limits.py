"""Size limits that keep every pass linear and every engine's stack safe.

The language promises to terminate in time and space that grow with the
input; these bounds are where a hostile or machine-written file gets a
diagnostic instead of a RecursionError or an exponentially large query.
"""

from __future__ import annotations

# Nesting of operators and calls, counted through function calls and def chains
# (W005). Every recursive pass over expressions stays well inside Python's stack
# at this depth.
MAX_DEPTH = 200

# Nodes of one expression once every def is expanded in place (W061).
MAX_EXPANDED_SIZE = 20_000

# Rule files and data files above this size, or that are not regular files
# (/dev/zero, a FIFO), are refused before they are read (W006 / W080).
MAX_SOURCE_BYTES = 16 * 1024 * 1024
