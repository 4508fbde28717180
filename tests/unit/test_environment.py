"""pyproject.toml and environment.yml must list the same packages with the same version specs.

pip users install from pyproject.toml, conda users from environment.yml; when one side drifts, the two
environments differ silently. Compared: [project.dependencies] + the ``dev`` extra against the conda
dependencies plus any ``pip:`` entries, ignoring python, pip and the ``-e .`` install of the project.
"""

from __future__ import annotations

import tomllib

import pytest
import yaml
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from analysis.core import paths

IGNORED = {"python", "pip"}


def parse_requirements(lines: list[str], source: str) -> dict[str, str]:
    """PEP 508 lines -> {PEP 503 name: version spec}; duplicates and unreadable lines are errors.

    The spec is packaging's own string form of the specifier set, which sorts its clauses, so
    ``<4, >=3.0`` and ``>=3.0,<4`` read the same. Extras are ignored: conda has no such notion.
    """
    parsed: dict[str, str] = {}
    for line in lines:
        if line.strip() in {"-e .", "--editable ."}:
            continue  # the project itself, installed editable by pip
        try:
            requirement = Requirement(line)
        except InvalidRequirement as exc:
            raise ValueError(f"{source}: cannot read the requirement {line!r}: {exc}") from None
        name = canonicalize_name(requirement.name)
        if name in IGNORED:
            continue
        if name in parsed:
            raise ValueError(f"{source}: {name} is listed twice")
        parsed[name] = str(requirement.specifier)
    return parsed


def compare_dependencies(pip_side: dict[str, str], conda_side: dict[str, str]) -> list[str]:
    """Every difference between the two lists, as readable lines (empty when they agree)."""
    problems = []
    for name in sorted(pip_side.keys() - conda_side.keys()):
        problems.append(f"{name}: in pyproject.toml ({pip_side[name] or 'any version'}) but not in environment.yml")
    for name in sorted(conda_side.keys() - pip_side.keys()):
        problems.append(f"{name}: in environment.yml ({conda_side[name] or 'any version'}) but not in pyproject.toml")
    for name in sorted(pip_side.keys() & conda_side.keys()):
        if pip_side[name] != conda_side[name]:
            problems.append(f"{name}: pyproject.toml says {pip_side[name]!r}, "
                            f"environment.yml says {conda_side[name]!r}")
    return problems


def pyproject_dependencies(doc: dict) -> list[str]:
    project = doc["project"]
    return list(project.get("dependencies", [])) + list(project.get("optional-dependencies", {}).get("dev", []))


def conda_dependencies(doc: dict) -> list[str]:
    """Conda entries plus the entries of a nested ``pip:`` list."""
    lines: list[str] = []
    for entry in doc.get("dependencies", []):
        if isinstance(entry, dict):
            lines.extend(entry.get("pip", []))
        else:
            lines.append(str(entry))
    return lines


# --------------------------------------------------------------------------------------------------
# The project's files


def test_pyproject_and_environment_yml_agree():
    root = paths.project_root()
    pip_side = parse_requirements(
        pyproject_dependencies(tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))), "pyproject.toml")
    conda_side = parse_requirements(
        conda_dependencies(yaml.safe_load((root / "environment.yml").read_text(encoding="utf-8"))), "environment.yml")

    assert pip_side, "no dependencies read from pyproject.toml"
    assert compare_dependencies(pip_side, conda_side) == []


# --------------------------------------------------------------------------------------------------
# The comparison itself, on synthetic lists

SYNTHETIC_PYPROJECT = {
    "project": {
        "dependencies": ["pandas>=3.0,<4", "Typing_Extensions >= 4.0"],
        "optional-dependencies": {"dev": ["pytest>=8"], "docs": ["sphinx>=7"]},
    }
}
SYNTHETIC_ENVIRONMENT = {
    "dependencies": ["python>=3.11", "pandas <4, >=3.0", "typing-extensions>=4.0", "pytest>=8", "pip",
                     {"pip": ["-e ."]}],
}


def test_synthetic_lists_that_agree_up_to_spelling():
    pip_side = parse_requirements(pyproject_dependencies(SYNTHETIC_PYPROJECT), "synthetic pyproject")
    conda_side = parse_requirements(conda_dependencies(SYNTHETIC_ENVIRONMENT), "synthetic environment")

    assert pip_side == {"pandas": "<4,>=3.0", "typing-extensions": ">=4.0", "pytest": ">=8"}
    assert compare_dependencies(pip_side, conda_side) == []


@pytest.mark.parametrize(
    ("conda_lines", "expected"),
    [
        (["pandas>=3.0,<5", "typing-extensions>=4.0", "pytest>=8"],
         ["pandas: pyproject.toml says '<4,>=3.0', environment.yml says '<5,>=3.0'"]),
        (["pandas>=3.0,<4", "pytest>=8"], ["typing-extensions: in pyproject.toml (>=4.0) but not in environment.yml"]),
        (["pandas>=3.0,<4", "typing-extensions>=4.0", "pytest>=8", {"pip": ["tqdm"]}],
         ["tqdm: in environment.yml (any version) but not in pyproject.toml"]),
        (["pandas>=3.0,<4", "typing-extensions>=4.0", "pytest"],
         ["pytest: pyproject.toml says '>=8', environment.yml says ''"]),
    ],
    ids=["spec-drift", "missing-in-conda", "extra-pip-entry", "unpinned-in-conda"],
)
def test_synthetic_drift_is_detected(conda_lines, expected):
    pip_side = parse_requirements(pyproject_dependencies(SYNTHETIC_PYPROJECT), "synthetic pyproject")
    conda_side = parse_requirements(conda_dependencies({"dependencies": conda_lines}), "synthetic environment")

    assert compare_dependencies(pip_side, conda_side) == expected


def test_duplicate_or_unreadable_requirement_is_an_error():
    with pytest.raises(ValueError, match="listed twice"):
        parse_requirements(["pandas>=3", "Pandas>=3"], "synthetic")
    with pytest.raises(ValueError, match="cannot read"):
        parse_requirements(["=pandas"], "synthetic")
    with pytest.raises(ValueError, match="cannot read the requirement 'pandas=3.0'"):
        parse_requirements(["pandas=3.0"], "synthetic")  # conda's single "=": not a PEP 508 spec


def test_extras_are_ignored_and_markers_do_not_change_the_spec():
    parsed = parse_requirements(["Jinja2[i18n] >= 3.1 ; python_version >= '3.11'"], "synthetic")

    assert parsed == {"jinja2": ">=3.1"}
