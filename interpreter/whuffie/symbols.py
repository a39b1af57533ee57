"""Declaration tables: the names a rule file declares, gathered from its AST.

Both the checker and the evaluator read a ``Ruleset`` instead of walking the
item list themselves. Building it never fails: where a name is declared twice
the first declaration is kept (the checker reports the duplicate).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from . import nodes as n

BUILTIN_FUNCTIONS = ("min", "max", "clamp", "abs", "floor", "ceil", "round", "sqrt", "log", "exp", "days", "hours")

# Names the language gives a meaning of its own; no declaration may take them.
RESERVED_NAMES = ("points", "now", "tier", "event")


def stdlib_root() -> Path:
    """The stdlib folder: inside the installed package, or in the source tree."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "stdlib", here.parents[1] / "stdlib"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("stdlib/ is missing from the installation")


def stdlib_module_path(name: str) -> Path | None:
    """The file of a standard-library module such as "std/math", or None.

    Only names of the form std/<word> resolve, and only to a regular file whose
    real path (symlinks followed) stays inside stdlib/, so an import can never
    reach an arbitrary path. A name the file system rejects (too long, say) is
    simply not a module.
    """
    parts = name.split("/")
    if len(parts) != 2 or parts[0] != "std" or not parts[1].isidentifier():
        return None
    try:
        root = stdlib_root().resolve()
        path = (root / "std" / f"{parts[1]}.whuf").resolve()
        inside = path.is_relative_to(root / "std")
        return path if inside and path.is_file() else None
    except (OSError, RuntimeError):  # name too long, symlink loop, unreadable folder
        return None


def stdlib_modules() -> list[str]:
    """Names of every standard-library module, for hints and completion."""
    return sorted(name for name in (f"std/{p.stem}" for p in (stdlib_root() / "std").glob("*.whuf"))
                  if stdlib_module_path(name) is not None)


@dataclass
class Ruleset:
    """The declarations of one rule file, by kind and name, in source order."""

    program: n.Program
    name: str = "ruleset"
    title: str | None = None
    version: str | None = None
    timezone: str = "UTC"
    imports: list[n.ImportDecl] = field(default_factory=list)
    authors: dict[str, n.AuthorDecl] = field(default_factory=dict)
    kinds: dict[str, n.SubjectDecl] = field(default_factory=dict)
    events: dict[str, n.EventDecl] = field(default_factory=dict)
    rules: dict[str, n.RuleDecl] = field(default_factory=dict)
    shared_caps: dict[str, n.SharedCapDecl] = field(default_factory=dict)
    factors: dict[str, n.FactorDecl] = field(default_factory=dict)
    measures: dict[str, n.MeasureDecl] = field(default_factory=dict)
    scores: dict[str, n.ScoreDecl] = field(default_factory=dict)
    tiers: dict[str, n.TierDecl] = field(default_factory=dict)
    privileges: dict[str, n.PrivilegeDecl] = field(default_factory=dict)
    defs: dict[str, n.DefDecl] = field(default_factory=dict)
    conditions: dict[str, n.ConditionDecl] = field(default_factory=dict)  # as written (engines read them inlined)
    tests: list[n.TestDecl] = field(default_factory=list)
    properties: list[n.PropertyDecl] = field(default_factory=list)
    # Filled in by the checker (empty when the ruleset was only built, not checked):
    stdlib_defs: dict[str, n.DefDecl] = field(default_factory=dict)  # imported defs, also in `defs`
    stdlib_programs: dict[str, n.Program] = field(default_factory=dict)  # module name -> its AST
    types: dict[int, object] = field(default_factory=dict)  # id(expression node) -> types.Type
    measure_types: dict[str, object] = field(default_factory=dict)  # measure -> types.Type (T? without default)
    score_types: dict[str, object] = field(default_factory=dict)  # score -> types.Type (int or number)
    def_types: dict[str, object] = field(default_factory=dict)  # def -> its return types.Type
    params: list = field(default_factory=list)  # params.ParamValue: the `param`s as this run uses them

    @property
    def subject_kind(self) -> n.SubjectDecl | None:
        """The subject kind (a rule file declares at most one)."""
        return next(iter(self.kinds.values()), None)

    def tier_rank(self, name: str) -> int:
        """A tier's rank for comparisons: the top tier ranks highest."""
        names = list(self.tiers)
        return len(names) - names.index(name)


_TABLES = {
    n.AuthorDecl: "authors",
    n.SubjectDecl: "kinds",
    n.EventDecl: "events",
    n.RuleDecl: "rules",
    n.SharedCapDecl: "shared_caps",
    n.FactorDecl: "factors",
    n.MeasureDecl: "measures",
    n.ScoreDecl: "scores",
    n.TierDecl: "tiers",
    n.PrivilegeDecl: "privileges",
    n.DefDecl: "defs",
    n.ConditionDecl: "conditions",
}


def build(program: n.Program, imported_defs: dict[str, n.DefDecl] | None = None) -> Ruleset:
    """Gather a program's declarations into tables (first declaration of a name wins)."""
    rs = Ruleset(program)
    if imported_defs:
        rs.defs.update(imported_defs)
    for item in program.items:
        table = _TABLES.get(type(item))
        if table is not None:
            getattr(rs, table).setdefault(item.name, item)
        elif isinstance(item, n.RulesetDecl):
            rs.name, rs.title = item.name, item.title
        elif isinstance(item, n.VersionDecl):
            rs.version = item.value
        elif isinstance(item, n.TimezoneDecl):
            rs.timezone = item.value
        elif isinstance(item, n.ImportDecl):
            rs.imports.append(item)
        elif isinstance(item, n.TestDecl):
            rs.tests.append(item)
        elif isinstance(item, n.PropertyDecl):
            rs.properties.append(item)
    return rs
