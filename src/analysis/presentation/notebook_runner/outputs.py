"""What an executed notebook keeps: outputs without run-to-run noise, scanned for volatile text, as HTML."""

from __future__ import annotations

import copy
import functools
import json
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported where used: nbformat costs ~1 s to import (jsonschema)
    import nbformat

#: things that must never appear in a committed or exported output
VOLATILE_PATTERNS: dict[str, re.Pattern[str]] = {
    "absolute path": re.compile(r"(?<![\w.])/(?:work|root|tmp|home|Users|var/folders)/"),
    "memory address": re.compile(r"\b0x[0-9a-fA-F]{6,}\b"),
    "timestamp": re.compile(r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}"),
}

_VOLATILE_CELL_METADATA = ("papermill", "execution", "collapsed", "scrolled")


def clean_executed(nb: nbformat.NotebookNode, keep_parameters: bool = False) -> nbformat.NotebookNode:
    """Remove what changes from run to run: timings, papermill run records, random cell ids, chunking.

    Keeps outputs and execution counts (their order is the execution order). The papermill
    parameters are kept only for parameterised runs (``keep_parameters``), where they say which
    country a profile is for.
    """
    nb = copy.deepcopy(nb)
    params = nb.metadata.get("papermill", {}).get("parameters", {})
    nb.metadata.pop("papermill", None)
    if keep_parameters and params:
        nb.metadata["papermill"] = {"parameters": dict(sorted(params.items()))}
    nb.metadata.pop("widgets", None)
    seen: set[str] = set()
    for i, cell in enumerate(nb.cells):
        _clean_cell(cell, i, seen)
    return nb


def _clean_cell(cell, index: int, seen: set[str]) -> None:
    for key in _VOLATILE_CELL_METADATA:
        cell.metadata.pop(key, None)
    tags = cell.metadata.get("tags")
    if tags is not None and not tags:
        cell.metadata.pop("tags")
    if "injected-parameters" in (tags or []):
        cell.id = "injected-parameters"
    elif not cell.get("id") or cell.id in seen:
        cell.id = f"cell-{index:02d}"
    seen.add(cell.id)
    for output in cell.get("outputs", []):
        output.get("metadata", {}).pop("execution", None)
    if "outputs" in cell:
        cell.outputs = merge_streams(cell.outputs)


def merge_streams(outputs: list) -> list:
    """Consecutive ``stream`` outputs of the same name (stdout/stderr) as one output.

    The kernel flushes printed text in chunks whose boundaries depend on timing, so the same cell
    gives a different number of outputs from run to run; merged, only the text is left.
    """
    merged: list = []
    for output in outputs:
        previous = merged[-1] if merged else None
        if (output.get("output_type") == "stream" and previous is not None
                and previous.get("output_type") == "stream" and previous.get("name") == output.get("name")):
            previous["text"] = _text(previous["text"]) + _text(output["text"])
        else:
            merged.append(output)
    return merged


def _text(value) -> str:
    return value if isinstance(value, str) else "".join(value)


def _output_texts(nb: nbformat.NotebookNode) -> Iterable[tuple[int, str]]:
    for i, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            if "text" in output:
                yield i, str(output["text"])
            for mime, value in output.get("data", {}).items():
                if mime.startswith("text/") or mime.endswith("json"):
                    yield i, value if isinstance(value, str) else json.dumps(value)
            if "traceback" in output:
                yield i, "\n".join(output["traceback"])


def find_volatile(nb: nbformat.NotebookNode) -> list[str]:
    """Outputs that would make the notebook machine- or time-dependent (paths, addresses, timestamps)."""
    issues = []
    for i, text in _output_texts(nb):
        for what, pattern in VOLATILE_PATTERNS.items():
            match = pattern.search(text)
            if match:
                issues.append(f"cell {i}: {what} in output ({match.group(0)!r})")
    return issues


def to_html(nb: nbformat.NotebookNode, title: str) -> str:
    """The notebook as a standalone HTML page with outputs and markdown only (no code cells)."""
    html, _ = _html_exporter().from_notebook_node(nb, resources={"metadata": {"name": title}})
    return html


@functools.cache
def _html_exporter():
    """One exporter per process: a new one compiles its Jinja templates again (~0.1 CPU-s a page);
    the pages are the same bytes either way."""
    from nbconvert import HTMLExporter

    return HTMLExporter(exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True)


def title_of(nb: nbformat.NotebookNode, fallback: str) -> str:
    """The first markdown heading of the notebook, else its file name."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("#"):
                    return line.lstrip("#").strip()
    return fallback
