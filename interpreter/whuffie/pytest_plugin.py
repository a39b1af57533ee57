"""A pytest plugin: every ``test`` block and ``property`` of a rule file becomes a pytest item.

Registered through the ``pytest11`` entry point, so it is active wherever
whuffie is installed. A ``*.whuf`` file is collected only when asked for, so
that rule files kept as examples or deliberately broken fixtures never show up
as failing tests by accident:

* given explicitly: ``pytest rules.whuf`` or ``pytest rules/`` (a directory
  named on the command line);
* or opted in: ``pytest --whuffie``, or ``whuffie = true`` in the ini file,
  collects every ``*.whuf`` file pytest's collection reaches.

``--whuffie-seed N`` (default 0) and ``--whuffie-max-examples N`` (default
100) control property checking, as ``--seed`` and ``--max-examples`` do for
``whuffie test``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

# The rest of whuffie is imported only when a rule file is collected, so that
# the plugin costs nothing in test sessions that never ask for one.
DEFAULT_MAX_EXAMPLES = 100


def pytest_addoption(parser: pytest.Parser) -> None:
    """The --whuffie options and the ``whuffie`` ini setting."""
    group = parser.getgroup("whuffie", "whuffie rule files")
    group.addoption("--whuffie", action="store_true", default=False,
                    help="collect the tests and properties of every *.whuf file under the collected paths")
    group.addoption("--whuffie-seed", type=int, default=0,
                    help="seed for the histories generated for properties (default 0)")
    group.addoption("--whuffie-max-examples", type=int, default=DEFAULT_MAX_EXAMPLES,
                    help=f"histories generated per property (default {DEFAULT_MAX_EXAMPLES})")
    parser.addini("whuffie", type="bool", default=False,
                  help="collect every *.whuf file, as --whuffie does")


def _explicit_roots(config: pytest.Config) -> list[Path]:
    """The paths named on the command line (not those that come from testpaths)."""
    if config.args_source != pytest.Config.ArgsSource.ARGS:
        return []
    roots = []
    for arg in config.args:
        path = Path(arg.split("::")[0])
        if not path.is_absolute():
            path = Path(config.invocation_params.dir) / path
        roots.append(path.resolve())
    return roots


def _wanted(file_path: Path, config: pytest.Config) -> bool:
    if config.getoption("whuffie") or config.getini("whuffie"):
        return True
    resolved = file_path.resolve()
    return any(resolved == root or root in resolved.parents for root in _explicit_roots(config))


def pytest_collect_file(file_path: Path, parent: pytest.Collector):
    """Collect a *.whuf file when it was named (or its directory was), or with --whuffie."""
    if file_path.suffix == ".whuf" and _wanted(file_path, parent.config):
        return WhuffieFile.from_parent(parent, path=file_path)
    return None


class WhuffieFailure(Exception):
    """A failed test block or property, carrying its report."""


class WhuffieFile(pytest.File):
    """A rule file: one item per test block and property (or one failing item when it has errors)."""

    def collect(self):
        from . import diagnostics as diag
        from .evaluator import EvaluationError, compile_ruleset
        from .frontend import load_file

        loaded = load_file(self.path)
        errors = [d for d in loaded.diagnostics if d.is_error]
        program = None
        if loaded.ok and loaded.ruleset is not None:
            try:
                program = compile_ruleset(loaded.ruleset)
            except EvaluationError as exc:
                errors = exc.diagnostics
        if program is None:
            text = diag.render(sorted(errors, key=diag.sort_key), {str(self.path): loaded.source or ""})
            yield WhuffieCheckItem.from_parent(self, name="check", report=text)
            return
        shared = (loaded, program)
        for decl in loaded.ruleset.tests:
            yield WhuffieTestItem.from_parent(self, name=f'test "{decl.name}"', decl=decl, shared=shared)
        for decl in loaded.ruleset.properties:
            yield WhuffiePropertyItem.from_parent(self, name=f'property "{decl.name}"', decl=decl, shared=shared)


class _WhuffieItem(pytest.Item):
    def repr_failure(self, excinfo, style=None):
        """The whuffie report of the failure, without a Python traceback."""
        if isinstance(excinfo.value, WhuffieFailure):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style)


class WhuffieCheckItem(_WhuffieItem):
    """Stands for a rule file that does not check: it always fails with the diagnostics."""

    def __init__(self, *, report: str, **kwargs):
        super().__init__(**kwargs)
        self.report = report

    def runtest(self):
        """Fail with the diagnostics of the rule file."""
        raise WhuffieFailure(self.report or "the rule file cannot be evaluated")

    def reportinfo(self):
        """Where the item comes from."""
        return self.path, None, f"{self.path.name}: check"


class WhuffieTestItem(_WhuffieItem):
    """One ``test`` block."""

    def __init__(self, *, decl, shared, **kwargs):
        super().__init__(**kwargs)
        self.decl = decl
        self.loaded, self.program = shared

    def runtest(self):
        """Run the test block; fail with its report when an expectation does not hold."""
        from .testblocks import render_outcome, run_test

        outcome = run_test(self.loaded.ruleset, self.decl, self.loaded.source, self.program)
        if not outcome.passed:
            raise WhuffieFailure(render_outcome(outcome, self.loaded.ruleset, self.loaded.source))

    def reportinfo(self):
        """Where the test block is written."""
        return self.path, self.decl.span.line - 1, f'test "{self.decl.name}"'


class WhuffiePropertyItem(_WhuffieItem):
    """One ``property``, checked against generated histories."""

    def __init__(self, *, decl, shared, **kwargs):
        super().__init__(**kwargs)
        self.decl = decl
        self.loaded, self.program = shared

    def runtest(self):
        """Check the property; fail with the minimal counterexample and its ledger."""
        from .properties import check_property, render_property

        config = self.config
        outcome = check_property(self.loaded.ruleset, self.decl, seed=config.getoption("whuffie_seed"),
                                 max_examples=config.getoption("whuffie_max_examples"),
                                 source=self.loaded.source, program=self.program)
        if outcome.skipped:
            pytest.skip(outcome.skipped)
        if not outcome.passed:
            raise WhuffieFailure(render_property(outcome, self.loaded.ruleset, self.loaded.source,
                                                 str(self.path), self.program))

    def reportinfo(self):
        """Where the property is written."""
        return self.path, self.decl.span.line - 1, f'property "{self.decl.name}"'
