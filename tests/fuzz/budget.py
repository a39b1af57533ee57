"""How hard the fuzzers search: seconds each in `make test`, minutes in `make fuzz`.

`make fuzz` sets WHUFFIE_FUZZ=deep: each fuzz test then runs WHUFFIE_FUZZ_FACTOR
(default 12: about ten minutes on 2 cores) times its quick number of examples, with a fresh random seed, so
repeated runs search new ground. Hypothesis' example database (.hypothesis/)
keeps every failure found, so it replays in the next `make test` on the same
checkout until it is fixed.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

DEEP = os.environ.get("WHUFFIE_FUZZ") == "deep"
FACTOR = int(os.environ.get("WHUFFIE_FUZZ_FACTOR", "12"))


def fuzz_settings(quick: int) -> settings:
    """Hypothesis settings for one fuzz test: `quick` examples in the suite, FACTOR times that under make fuzz."""
    return settings(
        max_examples=quick * FACTOR if DEEP else quick,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=not DEEP,
    )
