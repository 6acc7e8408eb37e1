"""Every setting the code reads has its default and type in config.SETTINGS, and .env.example
lists each one: a key read as `config["X"]` or `config.get("X")` anywhere must be in the table."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from config import DEFAULTS, SETTINGS
from moderation.rules import PostingPolicy

ROOT = Path(__file__).resolve().parent.parent
SKIPPED = {".venv", "tests", "alembic", "bench", "instance", ".git"}


def code_files() -> list[Path]:
    return [
        path
        for path in ROOT.rglob("*.py")
        if not SKIPPED.intersection(path.relative_to(ROOT).parts)
    ]


def config_reads(tree: ast.AST) -> set[str]:
    """String keys read from anything named `config` (app.config, current_app.config, config)."""

    def is_config(node: ast.expr) -> bool:
        return (isinstance(node, ast.Attribute) and node.attr == "config") or (
            isinstance(node, ast.Name) and node.id == "config"
        )

    keys: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript) and is_config(node.value):
            key = node.slice
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("get", "setdefault")
            and is_config(node.func.value)
            and node.args
        ):
            key = node.args[0]
        else:
            continue
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            keys.add(key.value)
    return keys


def test_the_scan_finds_reads() -> None:
    tree = ast.parse('app.config["A"]; current_app.config.get("B", 1); config["C"]; x["D"]')

    assert config_reads(tree) == {"A", "B", "C"}


def test_every_key_the_code_reads_has_a_default() -> None:
    read: dict[str, str] = {}
    for path in code_files():
        for key in config_reads(ast.parse(path.read_text(), str(path))):
            read.setdefault(key, str(path.relative_to(ROOT)))

    assert len(read) > 20  # the scan sees the code
    missing = {key: where for key, where in read.items() if key not in DEFAULTS}
    assert missing == {}


def test_no_call_site_carries_its_own_default() -> None:
    # `config.get("X", default)` would keep a second default beside the table.
    offenders = []
    for path in code_files():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "get"
                and isinstance(node.func.value, ast.Attribute)
                and node.func.value.attr == "config"
            ):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")

    assert offenders == []


def test_posting_policy_fields_are_settings() -> None:
    for name in PostingPolicy.__dataclass_fields__:
        key = f"TRIBUNE_{name.upper()}"
        assert key in SETTINGS
        assert getattr(PostingPolicy(), name) == DEFAULTS[key]


def test_env_example_lists_every_setting() -> None:
    text = (ROOT / ".env.example").read_text()
    listed = set(re.findall(r"^# ([A-Z0-9_]+)=", text, re.MULTILINE))

    assert set(SETTINGS) <= listed
