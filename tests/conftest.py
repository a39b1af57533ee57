"""Shared pytest options."""


def pytest_addoption(parser):
    """--update-golden rewrites golden .out files from the current output."""
    parser.addoption("--update-golden", action="store_true", default=False,
                     help="rewrite golden output files instead of comparing with them")
