"""Shared pytest options and fixtures."""

import pytest


def pytest_addoption(parser):
    """--update-golden rewrites golden .out files from the current output."""
    parser.addoption("--update-golden", action="store_true", default=False,
                     help="rewrite golden output files instead of comparing with them")


# The golden rule files are checker fixtures, many broken on purpose: the
# whuffie pytest plugin must not collect them when `pytest tests` walks here.
collect_ignore_glob = ["golden/*.whuf"]


@pytest.fixture
def golden(request):
    """Compare text with a golden file; --update-golden rewrites it. A missing golden file fails."""
    update = request.config.getoption("--update-golden")

    def compare(path, actual: str) -> None:
        if update:
            path.write_text(actual, encoding="utf-8")
        assert path.exists(), f"{path} is missing: run pytest --update-golden and review the diff"
        assert actual == path.read_text(encoding="utf-8")

    return compare
