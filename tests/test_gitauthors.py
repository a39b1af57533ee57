"""authors --verify-git: declared authors against the commits that last changed each declaration's lines.

Every test builds a real git repository in a temporary folder, with commits
made as the authors the rule file declares (or as someone else).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from whuffie.cli import app
from whuffie.frontend import load_file
from whuffie.gitauthors import declared_email, verify_authorship
from whuffie.nodes import AuthorDecl

runner = CliRunner()

HEAD = """\
ruleset club
author ada "Ada Okafor <ada@club.example>"
author ben "Ben Liu <Ben@Club.example>"
author council "The club council"
subject member { }
event post { likes: int in 0..1000 }

rule posting by ada because "Posts feed the club"
  on post
  award 2
"""

BENS = """
rule liked by ben because "Liked posts help others"
  on post where likes > 10
  award 1
"""

COUNCILS = """
score standing = 100 + points
tier member otherwise by council because "Everyone"
"""

ADA = ("Ada Okafor", "ada@club.example")
BEN = ("Ben Liu", "ben@club.example")


def git(repo: Path, *args: str, who: tuple[str, str] = ADA, extra: tuple[str, ...] = ()) -> str:
    done = subprocess.run(["git", "-c", f"user.name={who[0]}", "-c", f"user.email={who[1]}",
                           "-c", "commit.gpgsign=false", *extra, *args], cwd=repo, capture_output=True,
                          text=True, check=True)
    return done.stdout


def commit(repo: Path, text: str, message: str, who: tuple[str, str], extra: tuple[str, ...] = ()) -> str:
    (repo / "rules.whuf").write_text(text, encoding="utf-8")
    git(repo, "add", "rules.whuf", who=who)
    git(repo, "commit", "-q", "-m", message, who=who, extra=extra)
    return git(repo, "rev-parse", "HEAD").strip()


@pytest.fixture
def repo(tmp_path):
    git(tmp_path, "init", "-q")
    commit(tmp_path, HEAD, "ada's rule", ADA)
    commit(tmp_path, HEAD + BENS, "ben's rule", BEN)
    commit(tmp_path, HEAD + BENS + COUNCILS, "the council's tier", ADA)
    return tmp_path


def verify(path: Path, *more: str):
    return runner.invoke(app, ["authors", str(path), "--verify-git", *more])


def by_name(data: dict) -> dict:
    return {d["name"]: d for d in data["declarations"]}


def test_the_email_of_an_author():
    assert declared_email(AuthorDecl("ada", "Ada Okafor <Ada@Club.example>")) == "ada@club.example"
    assert declared_email(AuthorDecl("council", "The club council")) is None
    assert declared_email(AuthorDecl("x", None)) is None


def test_matching_commits_pass(repo):
    result = verify(repo / "rules.whuf")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "ok rule posting (lines 8-10) by ada" in result.stdout
    assert "ok rule liked (lines 12-14) by ben" in result.stdout  # emails compare without case
    # the council gives no email: its tier cannot be checked, which is said, not failed
    assert "NO EMAIL tier member (lines 17-17) by council" in result.stdout


def test_an_edit_of_another_authors_rule_is_caught(repo):
    sneaky = commit(repo, HEAD + BENS.replace("award 1", "award 0") + COUNCILS, "quietly", ADA)
    result = verify(repo / "rules.whuf")
    assert result.exit_code == 1
    assert "MISMATCH rule liked (lines 12-14) by ben <ben@club.example>:" in result.stdout
    assert f"changed by Ada Okafor <ada@club.example> in {sneaky[:12]} on " in result.stdout
    data = json.loads(verify(repo / "rules.whuf", "--format", "json").stdout)
    assert data["mismatches"] == 1
    liked = by_name(data)["liked"]
    assert liked["status"] == "mismatch" and liked["author"] == "ben"
    assert [c["commit"] for c in liked["changed_by_others"]] == [sneaky]
    assert [c["email"] for c in liked["commits"]] == ["ben@club.example", "ada@club.example"]
    assert liked["commits"][0]["signature"] is None
    assert by_name(data)["posting"]["status"] == "ok"


def test_uncommitted_lines_are_listed(repo):
    (repo / "rules.whuf").write_text(HEAD.replace("award 2", "award 3") + BENS + COUNCILS, encoding="utf-8")
    result = verify(repo / "rules.whuf")
    assert result.exit_code == 0
    assert "UNCOMMITTED rule posting (lines 8-10) by ada" in result.stdout


def test_outside_a_repository_is_a_usage_error(tmp_path):
    (tmp_path / "rules.whuf").write_text(HEAD, encoding="utf-8")
    result = verify(tmp_path / "rules.whuf")
    assert result.exit_code == 2 and "not inside a git repository" in result.stderr


def test_an_untracked_file_is_a_usage_error(repo):
    (repo / "other.whuf").write_text(HEAD, encoding="utf-8")
    result = verify(repo / "other.whuf")
    assert result.exit_code == 2 and "cannot blame" in result.stderr


@pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="needs ssh-keygen to sign commits")
def test_signed_commits_say_whether_git_accepts_them(tmp_path):
    git(tmp_path, "init", "-q")
    key = tmp_path.parent / f"{tmp_path.name}-key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    allowed = tmp_path.parent / f"{tmp_path.name}-allowed"
    allowed.write_text(f"ada@club.example {Path(str(key) + '.pub').read_text()}", encoding="utf-8")
    git(tmp_path, "config", "gpg.ssh.allowedSignersFile", str(allowed))
    signing = ("-c", "gpg.format=ssh", "-c", f"user.signingkey={key}")
    signed = commit(tmp_path, HEAD, "ada's rule, signed", ADA, signing + ("-c", "commit.gpgsign=true"))
    data = json.loads(verify(tmp_path / "rules.whuf", "--format", "json").stdout)
    posting = by_name(data)["posting"]
    assert posting["status"] == "ok"
    assert posting["commits"] == [{**posting["commits"][0], "commit": signed, "signature": "good"}]
    allowed.write_text("", encoding="utf-8")  # the key is no longer trusted: verify-commit refuses it
    text = verify(tmp_path / "rules.whuf").stdout
    assert "signature REJECTED by git verify-commit" in text


def test_the_module_gives_one_check_per_declaration_with_an_author(repo):
    result = verify_authorship(load_file(repo / "rules.whuf"))
    assert [(c.kind, c.name, c.status) for c in result.checks] == [
        ("rule", "posting", "ok"), ("rule", "liked", "ok"), ("tier", "member", "no email")]


def test_verify_git_reads_no_events(repo):
    result = verify(repo / "rules.whuf", str(repo / "rules.whuf"))
    assert result.exit_code == 2 and "reads no events" in result.stderr
