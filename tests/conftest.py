"""Shared pytest options."""


def pytest_addoption(parser):
    """--update-golden rewrites golden .out files from the current output."""
    parser.addoption("--update-golden", action="store_true", default=False,
                     help="rewrite golden output files instead of comparing with them")


# The golden rule files are checker fixtures, many broken on purpose: the
# whuffie pytest plugin must not collect them when `pytest tests` walks here.
collect_ignore_glob = ["golden/*.whuf"]
