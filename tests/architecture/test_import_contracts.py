"""The import-linter contracts (pyproject.toml, docs/architecture.md) hold, and they would catch a violation.

The self-test copies the package, adds one import that breaks a contract, and runs `lint-imports` on the copy:
if the contracts were mistyped (a layer missing, a package invisible to the graph) it would still pass.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint(tmp_path: Path, change: tuple[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`lint-imports` over a copy of src/dragonnet, with `change` = (module file, line to add) applied."""
    src = tmp_path / "src"
    shutil.copytree(ROOT / "src" / "dragonnet", src / "dragonnet", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    if change is not None:
        module, line = change
        target = src / "dragonnet" / module
        target.write_text(target.read_text(encoding="utf-8") + f"\n{line}\n", encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(src)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--config", str(tmp_path / "pyproject.toml")],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


def test_the_code_keeps_the_contracts(tmp_path: Path) -> None:
    result = _lint(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 kept, 0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "broken"),
    [
        # policy reaching up into a door
        ("policy/access.py", "import dragonnet.web.pages", "Layers"),
        # storage reaching up into policy (the backup used to, for the audit chain)
        ("storage/backup.py", "from dragonnet.policy import audit as _audit", "Layers"),
        # a hidden sideways import inside a function: intake calling messaging directly
        (
            "intake/forms.py",
            "def _sideways() -> None:\n    from dragonnet.messaging import watchlists  # noqa",
            "independent",
        ),
        # the API borrowing from the web pages
        ("api/linkage.py", "from dragonnet.web import linkage as _web_linkage", "never import each other"),
    ],
)
def test_an_upward_or_sideways_import_breaks_a_contract(tmp_path: Path, module: str, line: str, broken: str) -> None:
    result = _lint(tmp_path, (module, line))
    assert result.returncode != 0, result.stdout
    assert "BROKEN" in result.stdout and broken in result.stdout.replace("\n", " ")
