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

# Input files (rule files, events, subjects): anything else than a regular file
# (a FIFO, /dev/zero, a terminal) could hang or fill memory, so only regular
# files are read (and `-`, standard input, for events), up to these sizes.
# Generous: a million-event JSONL log is about 150 MiB.
MAX_RULE_FILE_BYTES = 16 * 1024 * 1024
MAX_DATA_FILE_BYTES = 4 * 1024 * 1024 * 1024

# A quoted CSV cell may hold line breaks; one that is never closed would
# otherwise swallow the rest of the file into one record.
MAX_CSV_RECORD_LINES = 1000
