"""The few git commands whuffie runs: reading a file at a revision, blaming lines, checking signatures.

git runs as a subprocess with an argument list (never through a shell), in
the current directory unless told otherwise, so `REV:PATH` means what it
means to `git show` there. Every failure is a ``GitError`` whose message is
fit for the user: git missing, a folder outside any repository, an unknown
revision or path.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass

GIT_TIMEOUT_SECONDS = 60


class GitError(Exception):
    """A git command that could not give its answer; the message says why in the user's terms."""


def _git(args: list[str], cwd: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
    exe = shutil.which("git")
    if exe is None:
        raise GitError("git is not installed (or not on PATH); it is needed to read revisions and blame lines")
    try:
        done = subprocess.run([exe, *args], cwd=cwd or os.getcwd(), capture_output=True,
                              timeout=GIT_TIMEOUT_SECONDS)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise GitError(f"git {args[0]} could not run: {exc}") from None
    if check and done.returncode != 0:
        raise GitError(_first_line(done.stderr) or f"git {args[0]} failed")
    return done


def _first_line(raw: bytes) -> str:
    text = raw.decode("utf-8", "replace").strip()
    lines = [ln.removeprefix("fatal: ").removeprefix("error: ") for ln in text.splitlines() if ln.strip()]
    return lines[0] if lines else ""


def repository_root(cwd: str | None = None) -> str:
    """The top folder of the repository holding ``cwd``; GitError outside any repository."""
    done = _git(["rev-parse", "--show-toplevel"], cwd, check=False)
    if done.returncode != 0:
        raise GitError(f"{cwd or os.getcwd()} is not inside a git repository")
    return done.stdout.decode("utf-8", "replace").strip()


REVISION_SPEC = re.compile(r"^(?P<rev>[^:]+):(?P<path>.+)$")


def split_revision(spec: str) -> tuple[str, str] | None:
    """``REV:PATH`` as (REV, PATH), or None when the text is not written that way."""
    found = REVISION_SPEC.match(spec)
    return (found["rev"], found["path"]) if found else None


def show(revision: str, path: str, cwd: str | None = None) -> bytes:
    """The bytes of ``path`` at ``revision`` (git show REV:PATH); GitError naming what is wrong."""
    repository_root(cwd)
    known = _git(["rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}"], cwd, check=False)
    if known.returncode != 0:
        raise GitError(f"unknown revision {revision!r} (not a commit, branch or tag of this repository)")
    done = _git(["show", f"{revision}:{path}"], cwd, check=False)
    if done.returncode != 0:
        raise GitError(f"cannot read {revision}:{path}: {_first_line(done.stderr) or 'git show failed'}")
    return done.stdout


@dataclass(frozen=True)
class BlamedLine:
    """Who last changed one line: the commit, its author and the author's time (Unix seconds)."""

    line: int
    commit: str
    author: str
    email: str
    time: int

    @property
    def committed(self) -> bool:
        """False for a line changed in the work tree but not committed yet."""
        return set(self.commit) != {"0"}


def blame(path: str) -> dict[int, BlamedLine]:
    """Every line of a tracked file with the commit that last touched it (git blame --porcelain)."""
    folder = os.path.dirname(os.path.abspath(path))
    repository_root(folder)
    done = _git(["blame", "--porcelain", "--", os.path.basename(path)], folder, check=False)
    if done.returncode != 0:
        raise GitError(f"cannot blame {path}: {_first_line(done.stderr) or 'git blame failed'}")
    lines: dict[int, BlamedLine] = {}
    facts: dict[str, dict[str, str]] = {}
    current: dict[str, str] = {}
    commit, final = "", 0
    for raw in done.stdout.decode("utf-8", "replace").split("\n"):
        if raw.startswith("\t"):  # the line's text ends the entry
            info = facts.setdefault(commit, current)
            lines[final] = BlamedLine(final, commit, info.get("author", ""),
                                      info.get("author-mail", "").strip("<>"), int(info.get("author-time", "0")))
            continue
        head = raw.split(" ")
        if len(head) >= 3 and re.fullmatch(r"[0-9a-f]{40}|[0-9a-f]{64}", head[0]):
            commit, final = head[0], int(head[2])
            current = facts.get(commit, {})
            facts[commit] = current
        elif head and head[0]:
            current[head[0]] = raw[len(head[0]) + 1:]
    return lines


def signature(commit: str, cwd: str | None = None) -> str | None:
    """For a signed commit, whether `git verify-commit` accepts it ("good" or "bad"); None when unsigned."""
    status = _git(["log", "-1", "--format=%G?", commit], cwd, check=False)
    mark = status.stdout.decode().strip() if status.returncode == 0 else "N"
    if mark in ("", "N"):
        return None
    verified = _git(["verify-commit", commit], cwd, check=False)
    return "good" if verified.returncode == 0 else "bad"
