"""The layering holds: the import-linter contracts of pyproject.toml are kept, and the rules are pure.

The contracts (docs/ARCHITECTURE.md) say which layer may import which; a break shows up here with
import-linter's own report of the offending import chain.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import analysis.rules

ROOT = Path(__file__).resolve().parents[2]
RULES_DIR = Path(analysis.rules.__file__).resolve().parent

# The console script `lint-imports` is this entry point; calling it through the running interpreter
# finds the same installation whatever the PATH holds.
LINT_IMPORTS = "import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())"


def test_import_linter_contracts_are_kept():
    result = subprocess.run([sys.executable, "-c", LINT_IMPORTS, "--no-cache", "--no-logo"], cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    report = result.stdout + result.stderr
    assert result.returncode == 0, report
    assert "0 broken" in report and "BROKEN" not in report


def project_imports(path: Path) -> list[str]:
    """Every module of the ``analysis`` package that a source file imports (absolute or relative)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.split(".")[0] == "analysis"]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolved against the rules package itself
                found.append("analysis.rules" + ("." + node.module if node.module else ""))
            elif node.module and node.module.split(".")[0] == "analysis":
                found.append(node.module)
    return found


def test_rules_import_nothing_of_the_project_but_the_rules():
    modules = sorted(RULES_DIR.glob("*.py"))
    assert len(modules) > 1
    outside = {p.name: [m for m in project_imports(p) if not m.startswith("analysis.rules")] for p in modules}
    assert {name: found for name, found in outside.items() if found} == {}
