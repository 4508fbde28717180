"""One freshness rule for every step: a fingerprint over inputs, the package code and parameters.

A step (fetch, build, report, notebooks) is redone when its fingerprint differs from the one it
recorded last time. The code part hashes **every** file of the installed package (modules,
templates, the chart style), so no hand-kept list of "relevant" files can drift out of date.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parents[1]
_CODE_SUFFIXES = (".py", ".html", ".mplstyle", ".toml", ".json", ".j2")


def file_sha256(path: Path | str) -> str:
    """sha256 of a file's bytes, streamed."""
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def bytes_sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _orchestration(path: Path) -> bool:
    """The command line only orders the steps; it shapes no output, so editing it redoes nothing."""
    return path.relative_to(PACKAGE_DIR).parts[0] == "cli"


@cache
def code_sha256() -> str:
    """One hash over every source file of the ``analysis`` package (path and content), except the
    command line (``analysis.cli``), which orders the steps but shapes none of their outputs."""
    digest = hashlib.sha256()
    for path in sorted(p for p in PACKAGE_DIR.rglob("*") if p.suffix in _CODE_SUFFIXES and p.is_file()
                       and "__pycache__" not in p.parts and not _orchestration(p)):
        digest.update(path.relative_to(PACKAGE_DIR).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


def fingerprint(inputs: Mapping[str, str] | Iterable[Path] = (), parameters: Mapping[str, object] | None = None,
                *, code: bool = True) -> str:
    """The fingerprint of a step: its inputs (name -> sha256, or files to hash), the package code and
    its parameters (JSON-serialisable; sorted so that order does not matter)."""
    if not isinstance(inputs, Mapping):
        inputs = {Path(p).name: file_sha256(p) for p in inputs}
    doc = {"inputs": dict(sorted(inputs.items())), "parameters": parameters or {},
           "code": code_sha256() if code else None}
    return bytes_sha256(json.dumps(doc, sort_keys=True, default=str).encode())
