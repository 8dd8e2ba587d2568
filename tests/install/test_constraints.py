"""A fresh machine installs exactly what constraints.txt pins, from the package index alone.

Every pin is `name==version`: a path or URL (`name @ file:///tmp/...whl`, `-e ./x`, `https://...`) works only on
the machine that wrote it. Every dependency of pyproject.toml is pinned, so `make venv` never picks a version
of its own. (CI also builds the virtualenv from scratch with no pip cache: .ci/run.)
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[A-Za-z0-9][A-Za-z0-9.+!_-]*)$")


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pin_problems(text: str) -> list[str]:
    """The lines of a constraints file that are not a plain `name==version` pin (comments and blanks aside)."""
    problems = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if line and not PIN.match(line):
            problems.append(f"line {number}: {raw.strip()!r} is not name==version")
    return problems


def pins(text: str) -> dict[str, str]:
    out = {}
    for raw in text.splitlines():
        m = PIN.match(raw.split("#", 1)[0].strip())
        if m:
            out[_canonical(m["name"])] = m["version"]
    return out


def test_every_pin_is_name_equals_version() -> None:
    assert pin_problems((REPO / "constraints.txt").read_text()) == []


@pytest.mark.parametrize(
    "line",
    [
        "pypinyin @ file:///tmp/pypinyin-0.55.0-py2.py3-none-any.whl",
        "pypinyin @ https://example.org/pypinyin-0.55.0.tar.gz",
        "-e ./vendor/pypinyin",
        "./pypinyin-0.55.0-py2.py3-none-any.whl",
        "git+https://github.com/x/pypinyin",
        "pypinyin>=0.50",
        "pypinyin",
    ],
)
def test_a_path_or_url_pin_is_caught(line: str) -> None:
    assert pin_problems(f"alembic==1.20.1\n{line}\n") == [f"line 2: {line!r} is not name==version"]


def test_every_dependency_is_pinned() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    wanted = list(project["dependencies"]) + [d for ds in project["optional-dependencies"].values() for d in ds]
    pinned = pins((REPO / "constraints.txt").read_text())
    names = {_canonical(re.split(r"[\[<>=!~; ]", d, maxsplit=1)[0]) for d in wanted}
    assert sorted(n for n in names if n not in pinned) == []
