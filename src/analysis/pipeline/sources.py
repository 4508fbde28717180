"""``python -m analysis sources``: one line per dataset with its licence, vintage and status."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from analysis.config.registry import Registry, load_registry
from analysis.core import paths
from analysis.pipeline.fetch import FetchState, display_path, resolve_mirror


def sources_table(
    mirror: Path | str | None = None,
    raw_dir: Path | None = None,
    registry: Registry | None = None,
) -> str:
    """One line per dataset: how many files, how many valid in data/raw/, in the mirror, mirror-only.

    Read-only: validity uses the state cache like ``fetch`` but never writes it.
    """
    registry = registry or load_registry()
    raw_dir = Path(raw_dir) if raw_dir is not None else paths.raw_dir()
    mirror_info = resolve_mirror(mirror)
    state = FetchState(raw_dir)

    valid: Counter[str] = Counter()
    in_mirror: Counter[str] = Counter()
    mirror_only: Counter[str] = Counter()
    for source_file in registry.files:
        valid[source_file.dataset] += state.current_sha256(source_file.path) == source_file.sha256
        in_mirror[source_file.dataset] += mirror_info.file(source_file) is not None
        mirror_only[source_file.dataset] += source_file.mirror_only

    header = ("id", "files", "valid", "mirror", "mirror-only", "licence", "vintage", "publisher: title")
    rows = [
        (ds.id, str(len(registry.files_of(ds.id))), str(valid[ds.id]), str(in_mirror[ds.id]),
         str(mirror_only[ds.id]), ds.licence, ds.vintage, f"{ds.publisher}: {ds.title}")
        for ds in registry.datasets.values()
    ]
    rows.append(("total", str(len(registry.files)), str(sum(valid.values())), str(sum(in_mirror.values())),
                 str(sum(mirror_only.values())), "", "", ""))
    mirror_note = (f"present in the mirror {mirror_info.display} (verified when fetched)" if mirror_info.exists
                   else f"no mirror found at {mirror_info.display}")
    legend = [
        "",
        f"valid: in {display_path(raw_dir)}/ with the pinned sha256; mirror: {mirror_note};",
        "mirror-only: extracts with no download URL (need the mirror). Sources: "
        f"{display_path(registry.source_path)}.",
    ]
    return "\n".join(_format_table(header, rows) + legend)


def _format_table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> list[str]:
    """Plain-text columns: counts right-aligned, text left-aligned, the last column unpadded."""
    numeric = {1, 2, 3, 4}
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: tuple[str, ...]) -> str:
        parts = [
            cell.rjust(widths[i]) if i in numeric else (cell if i == len(cells) - 1 else cell.ljust(widths[i]))
            for i, cell in enumerate(cells)
        ]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * w for w in widths[:-1]) + "  " + "-" * len(header[-1])
    return [line(header), rule, *[line(r) for r in rows[:-1]], rule, line(rows[-1])]
