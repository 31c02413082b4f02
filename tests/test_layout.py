"""The layout rules of the package: no module in ssgen/ over 400 lines (a module near
that becomes a package), and each opens with a docstring saying what it owns."""

from __future__ import annotations

import ast
from pathlib import Path

import ssgen

MAX_LINES = 400
PACKAGE = Path(ssgen.__file__).parent


def layout_problems(root: Path) -> list[str]:
    """Every module under ``root`` that is too long or has no module docstring."""
    problems: list[str] = []
    for path in sorted(root.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        name = path.relative_to(root.parent).as_posix()
        lines = len(text.splitlines())
        if lines > MAX_LINES:
            problems.append(f"{name}: {lines} lines (at most {MAX_LINES}: make it a package)")
        if not (ast.get_docstring(ast.parse(text, filename=str(path))) or "").strip():
            problems.append(f"{name}: no module docstring saying what it owns")
    return problems


def test_every_module_is_short_and_says_what_it_owns() -> None:
    assert len(list(PACKAGE.rglob("*.py"))) > 200  # the whole package was looked at
    assert layout_problems(PACKAGE) == []


def test_a_long_module_and_one_without_a_docstring_are_reported(tmp_path: Path) -> None:
    root = tmp_path / "pkg"
    (root / "sub").mkdir(parents=True)
    (root / "__init__.py").write_text('"""The package."""\n')
    (root / "sub" / "__init__.py").write_text("# a comment is not a docstring\nX = 1\n")
    (root / "long.py").write_text('"""Long."""\n' + "x = 1\n" * MAX_LINES)
    (root / "ok.py").write_text('"""Fine."""\n' + "x = 1\n" * (MAX_LINES - 1))
    assert layout_problems(root) == [
        f"pkg/long.py: {MAX_LINES + 1} lines (at most {MAX_LINES}: make it a package)",
        "pkg/sub/__init__.py: no module docstring saying what it owns",
    ]
