"""The optimizer stays independent of the web app; only the planner may use OR-Tools."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
OPTIMIZER = ROOT / "optimizer"
PLANNER = OPTIMIZER / "planner.py"

FORBIDDEN = ("flask", "sqlalchemy", "booking")  # plus every flask_* extension


def imported_modules(path: Path) -> set[str]:
    return imported_modules_of(path.read_text(encoding="utf-8"), str(path))


def imported_modules_of(source: str, filename: str = "<probe>") -> set[str]:
    """Every absolute module name a source imports, by `import`, `from … import` or by name
    through importlib.import_module / __import__ with a literal string."""
    tree = ast.parse(source, filename=filename)
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
        elif (
            isinstance(node, ast.Call)
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
            and (
                (isinstance(node.func, ast.Name) and node.func.id == "__import__")
                or (isinstance(node.func, ast.Attribute) and node.func.attr == "import_module")
            )
        ):
            names.add(node.args[0].value)
    return names


def top_level(module: str) -> str:
    return module.split(".", 1)[0]


def is_forbidden(module: str) -> bool:
    top = top_level(module)
    return top in FORBIDDEN or top.startswith("flask_")


def optimizer_files() -> list[Path]:
    return sorted(OPTIMIZER.rglob("*.py"))


def test_the_walk_finds_the_routing_core():
    """The boundary check really looks at the optimizer sources."""
    names = {p.name for p in optimizer_files()}
    assert {"domain.py", "travel.py", "schedule.py", "insertion.py", "pricing.py",
            "offers.py"} <= names


def test_import_scanner_sees_every_form():
    """The scanner catches plain, dotted, from- and importlib imports (self-test)."""
    source = (
        "import flask\nimport sqlalchemy.orm as orm\nfrom booking.models import X\n"
        "from . import domain\nimport importlib\nimportlib.import_module('flask_login')\n"
        "__import__('ortools.constraint_solver')\n"
    )
    names = imported_modules_of(source)
    assert names == {"flask", "sqlalchemy.orm", "booking.models", "importlib", "flask_login",
                     "ortools.constraint_solver"}
    assert {n for n in names if is_forbidden(n)} == {"flask", "sqlalchemy.orm",
                                                     "booking.models", "flask_login"}


def test_optimizer_never_imports_the_web_app():
    """No optimizer module imports flask (or an extension), sqlalchemy or booking."""
    offenders = {
        str(path.relative_to(ROOT)): sorted(n for n in imported_modules(path) if is_forbidden(n))
        for path in optimizer_files()
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_only_the_planner_imports_ortools():
    """OR-Tools is imported by optimizer/planner.py alone (if it exists), by no other file."""
    offenders = [
        str(path.relative_to(ROOT))
        for path in optimizer_files()
        if path != PLANNER and any(top_level(n) == "ortools" for n in imported_modules(path))
    ]
    assert offenders == []


def test_planner_is_where_ortools_lives():
    """optimizer/planner.py, once written, is the module that uses OR-Tools."""
    if not PLANNER.exists():
        pytest.skip("optimizer/planner.py does not exist yet")
    assert any(top_level(n) == "ortools" for n in imported_modules(PLANNER))


def test_importing_the_routing_core_loads_neither_web_app_nor_ortools():
    """In a fresh interpreter, importing every core module pulls in no forbidden package."""
    code = (
        "import sys\n"
        "import optimizer, optimizer.domain, optimizer.travel, optimizer.schedule, "
        "optimizer.insertion, optimizer.pricing, optimizer.offers\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('flask', 'sqlalchemy', 'booking', 'ortools') or m.startswith('flask_'))\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, check=True, timeout=60)
    assert result.stdout.strip() == ""
