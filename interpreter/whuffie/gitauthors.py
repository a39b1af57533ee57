"""`whuffie authors --verify-git`: does the author a declaration names match who changed it in git?

Entry point: ``verify_authorship(loaded) -> Authorship``. Each declaration
with a `by` clause is compared, line by line, with `git blame`: every commit
that last touched one of its lines must be authored by the email its `author`
declaration gives (`author ada "Ada Okafor <ada@example.org>"`). A community
that requires this in CI knows that nobody edited another author's rule
unseen. A declared author without an email cannot be checked and is listed
as such; lines not committed yet are listed too, since nobody vouches for
them. Signed commits also say whether `git verify-commit` accepts them.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass

from . import nodes as n
from .diff import KIND_NAMES
from .gitfiles import BlamedLine, blame, signature

EMAIL = re.compile(r"<\s*([^<>\s@]+@[^<>\s]+)\s*>")

STATUSES = ("ok", "mismatch", "no email", "uncommitted")


@dataclass(frozen=True)
class Commit:
    """A commit that last touched some line of a declaration."""

    commit: str
    author: str
    email: str
    date: str  # ISO 8601 date and time in UTC
    signature: str | None  # "good" or "bad" for a signed commit, None when unsigned


@dataclass(frozen=True)
class DeclarationCheck:
    kind: str
    name: str
    line: int
    end_line: int
    author: str
    email: str | None
    status: str  # ok | mismatch | no email | uncommitted
    commits: tuple[Commit, ...]  # every commit behind its lines, oldest first
    strangers: tuple[Commit, ...]  # the commits by someone else than the declared author


@dataclass(frozen=True)
class Authorship:
    path: str
    checks: tuple[DeclarationCheck, ...]

    @property
    def mismatches(self) -> tuple[DeclarationCheck, ...]:
        return tuple(c for c in self.checks if c.status == "mismatch")


def declared_email(decl: n.AuthorDecl | None) -> str | None:
    """The email in an author's description (`Name <email>`), lower-cased for comparison; None without one."""
    if decl is None or decl.description is None:
        return None
    found = EMAIL.search(decl.description)
    return found[1].lower() if found else None


def _owned(program: n.Program) -> list:
    return [d for d in program.items if isinstance(d, n._Provenance) and d.by is not None]


def _commit(line: BlamedLine, signatures: dict[str, str | None], folder: str) -> Commit:
    if line.commit not in signatures:
        signatures[line.commit] = signature(line.commit, folder)
    when = dt.datetime.fromtimestamp(line.time, dt.timezone.utc).replace(tzinfo=None).isoformat() + "Z"
    return Commit(line.commit, line.author, line.email, when, signatures[line.commit])


def verify_authorship(loaded) -> Authorship:
    """Every declaration with a `by` against the blame of its lines (gitfiles.GitError outside a repository)."""
    import os

    lines = blame(loaded.path)
    folder = os.path.dirname(os.path.abspath(loaded.path))
    signatures: dict[str, str | None] = {}
    checks = []
    for decl in _owned(loaded.program):
        email = declared_email(loaded.ruleset.authors.get(decl.by) if loaded.ruleset else None)
        touched = [lines[i] for i in range(decl.span.line, decl.span.end_line + 1) if i in lines]
        committed = [t for t in touched if t.committed]
        commits: dict[str, Commit] = {}
        for t in sorted(committed, key=lambda t: t.time):
            commits.setdefault(t.commit, _commit(t, signatures, folder))
        strangers = tuple(c for c in commits.values() if email is not None and c.email.lower() != email)
        if email is None:
            status = "no email"
        elif strangers:
            status = "mismatch"
        elif len(committed) < len(touched):
            status = "uncommitted"
        else:
            status = "ok"
        checks.append(DeclarationCheck(KIND_NAMES[type(decl)], decl.name, decl.span.line, decl.span.end_line,
                                       decl.by, email, status, tuple(commits.values()), strangers))
    return Authorship(loaded.path, tuple(checks))


# ---------------------------------------------------------------- rendering


def _commit_data(c: Commit) -> dict:
    return {"commit": c.commit, "author": c.author, "email": c.email, "date": c.date, "signature": c.signature}


def authorship_json(result: Authorship) -> str:
    data = {
        "file": result.path,
        "mismatches": len(result.mismatches),
        "declarations": [{"kind": c.kind, "name": c.name, "line": c.line, "end_line": c.end_line,
                          "author": c.author, "email": c.email, "status": c.status,
                          "commits": [_commit_data(x) for x in c.commits],
                          "changed_by_others": [_commit_data(x) for x in c.strangers]} for c in result.checks],
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def _signed(c: Commit) -> str:
    if c.signature is None:
        return ""
    return ", signature accepted by git verify-commit" if c.signature == "good" else \
        ", signature REJECTED by git verify-commit"


def authorship_text(result: Authorship) -> str:
    counts = {s: sum(c.status == s for c in result.checks) for s in STATUSES}
    head = f"{result.path}: {len(result.checks)} declaration{'s' * (len(result.checks) != 1)} with an author " \
           "checked against git blame: " + ", ".join(f"{k} {s}" for s, k in counts.items() if k)
    out = [head if result.checks else f"{result.path}: no declaration names an author"]
    for c in result.checks:
        where = f"{c.kind} {c.name} (lines {c.line}-{c.end_line}) by {c.author}"
        if c.status == "mismatch":
            out.append(f"MISMATCH {where} <{c.email}>:")
            out.extend(f"  changed by {x.author} <{x.email}> in {x.commit[:12]} on {x.date}{_signed(x)}"
                       for x in c.strangers)
        elif c.status == "no email":
            out.append(f"NO EMAIL {where}: its author declaration gives no <email> to check against")
        elif c.status == "uncommitted":
            out.append(f"UNCOMMITTED {where}: some lines are not committed yet")
        else:
            signed = [x for x in c.commits if x.signature is not None]
            note = "".join(f"; {x.commit[:12]}{_signed(x)}" for x in signed)
            out.append(f"ok {where}{note}")
    return "\n".join(out) + "\n"
