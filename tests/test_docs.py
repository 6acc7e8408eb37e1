"""docs/ holds the contract: nothing else may cite the old copy outside the repository, and the
design lists every route, comment state and reason code the code has (so it cannot drift)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from models import CommentState
from reasons import REASON_LABELS_NL, ReasonCode
from tests.test_permissions import url_map_app

ROOT = Path(__file__).resolve().parent.parent
DESIGN = ROOT / "docs" / "design.md"
ARCHITECTURE = ROOT / "docs" / "architecture.md"
# Citations of the contract's old home beside the checkout; written as patterns, so this file
# does not match itself.
OUTSIDE_CITATION = re.compile(r"\.\./shared|DESIGN\.md")
IGNORED_METHODS = {"HEAD", "OPTIONS"}


def tracked_files() -> list[str]:
    """Every file git tracks in this checkout."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z"], cwd=ROOT, check=True, capture_output=True
        ).stdout
    except (OSError, subprocess.CalledProcessError) as exc:
        pytest.fail(f"git ls-files failed in {ROOT}: {exc}")
    return [name for name in listed.decode().split("\0") if name]


def design_text() -> str:
    return DESIGN.read_text(encoding="utf-8")


def test_both_documents_exist() -> None:
    assert DESIGN.is_file()
    assert ARCHITECTURE.is_file()


def test_nothing_outside_docs_cites_the_old_contract() -> None:
    files = [name for name in tracked_files() if not name.startswith("docs/")]
    assert "app.py" in files  # the listing is this checkout's
    citing = []
    for name in files:
        path = ROOT / name
        if not path.is_file():  # deleted in the work tree, not yet in the index
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:  # binary files (gzipped word lists) cite nothing
            continue
        for number, line in enumerate(text.splitlines(), 1):
            if OUTSIDE_CITATION.search(line):
                citing.append(f"{name}:{number}: {line.strip()}")
    assert not citing, "cite docs/design.md or docs/architecture.md instead:\n" + "\n".join(citing)


@pytest.mark.parametrize("state", list(CommentState), ids=lambda s: s.value)
def test_design_lists_every_comment_state(state: CommentState) -> None:
    assert f"`{state.value}`" in design_text()


@pytest.mark.parametrize("code", list(ReasonCode), ids=lambda c: c.value)
def test_design_lists_every_reason_code_with_its_label(code: ReasonCode) -> None:
    rows = [line for line in design_text().splitlines() if line.startswith(f"| `{code.value}` |")]
    assert rows, f"no row for reason code {code.value}"
    assert any(f'"{REASON_LABELS_NL[code]}"' in row for row in rows)


def routes() -> list[tuple[str, str]]:
    """(method, rule) for every route of the URL map."""
    app = url_map_app()
    return sorted(
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        for method in (rule.methods or set()) - IGNORED_METHODS
    )


@pytest.mark.parametrize(("method", "rule"), routes(), ids=lambda value: value)
def test_design_lists_every_route(method: str, rule: str) -> None:
    rows = [line for line in design_text().splitlines() if f"| `{rule}` |" in line]
    assert rows, f"docs/design.md has no row for {rule}"
    assert any(f"`{method}`" in row.split(f"`{rule}`")[0] for row in rows), (
        f"docs/design.md lists {rule} without {method}"
    )


def test_readme_and_design_give_the_shouting_thresholds() -> None:
    """Short capitals publish (a cheer); the documents must not promise that all shouting holds."""
    from moderation.signals import SHOUT_MIN_LETTERS, SHOUT_MIN_SHARE

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    share = f"{round(SHOUT_MIN_SHARE * 100)}% capitals"
    for text in (readme, design_text()):
        assert f"{SHOUT_MIN_LETTERS}" in text and share in text
        assert "short cheer" in text
