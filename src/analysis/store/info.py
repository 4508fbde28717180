"""``python -m analysis info``: what the store holds, its coverage and how it was built."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from analysis.config.catalogue import load_catalogue
from analysis.core import paths
from analysis.core.errors import StoreError
from analysis.core.settings import FOCUS_SINCE
from analysis.store.reader import read_indicators, read_manifest, read_table, store_dir


def store_info(processed_dir: Path | str | None = None) -> str:
    """A plain-text description of the store for ``python -m analysis info`` (no absolute paths)."""
    data = read_indicators(processed_dir=processed_dir,
                           columns=["iso3", "year", "indicator_id", "source_id", "projection"])
    countries = read_table("countries", processed_dir)
    manifest = read_manifest(processed_dir)
    lines = [
        f"Store: {_shown_dir(store_dir(processed_dir))}",
        f"  indicators.parquet: {len(data):,} rows; {data['indicator_id'].nunique()} indicators x "
        f"{data['iso3'].nunique()} economies x {data['year'].nunique()} years "
        f"({_span(data['year'])}; projections: {int(data['projection'].sum()):,} rows)",
        f"  countries.parquet: {len(countries)} economies, {int(countries['focus'].sum())} focus countries",
    ]
    for name in ("latest", "aggregates"):
        try:
            lines.append(f"  {name}.parquet: {len(read_table(name, processed_dir)):,} rows")
        except StoreError:
            lines.append(f"  {name}.parquet: missing")
    lines += ["", "Rows per source dataset:"]
    per_source = (data.groupby("source_id", observed=True)
                  .agg(rows=("year", "size"), indicators=("indicator_id", "nunique"),
                       economies=("iso3", "nunique"), first=("year", "min"), last=("year", "max"))
                  .sort_index())
    for sid, r in per_source.iterrows():
        lines.append(f"  {sid:<14} {r['rows']:>9,} rows  {r['indicators']:>3} indicators  "
                     f"{r['economies']:>3} economies  {r['first']}-{r['last']}")
    lines += ["", *_focus_coverage(data, countries)]
    lines += ["", *_manifest_lines(manifest)]
    return "\n".join(lines)


def _shown_dir(directory: Path) -> str:
    """The store directory relative to the project root; only its name when it is elsewhere."""
    shown = paths.relative_to_root(directory)
    return shown + "/" if not Path(shown).is_absolute() else f"{directory.name}/ (outside the project)"


def _span(years: pd.Series) -> str:
    return f"{int(years.min())}-{int(years.max())}" if len(years) else "no years"


def _indicator_groups(indicator_ids: Iterable[str]) -> pd.Series:
    """indicator_id -> catalogue group; '(not in catalogue)' when the catalogue cannot say."""
    ids = sorted(set(indicator_ids))
    mapping = {ind.id: ind.group for ind in load_catalogue()}
    return pd.Series({i: mapping.get(i, "(not in catalogue)") for i in ids}, name="group", dtype="string")


def _focus_coverage(data: pd.DataFrame, countries: pd.DataFrame) -> list[str]:
    """Share of focus country x indicator cells with any estimate since FOCUS_SINCE, per group."""
    focus = countries.loc[countries["focus"].astype(bool), "iso3"].astype(str).tolist()
    recent = data.loc[(data["year"] >= FOCUS_SINCE) & ~data["projection"] & data["iso3"].isin(focus)]
    groups = _indicator_groups(data["indicator_id"].astype(str))
    have = recent.drop_duplicates(["indicator_id", "iso3"]).groupby("indicator_id", observed=True).size()
    per_ind = pd.DataFrame({"group": groups, "have": have.reindex(groups.index).fillna(0).astype(int)})
    table = per_ind.groupby("group").agg(indicators=("have", "size"), cells=("have", "sum"))
    table = table.assign(possible=table["indicators"] * len(focus))
    lines = [f"Coverage of the {len(focus)} focus countries: indicator x country cells with any estimate "
             f"since {FOCUS_SINCE} (projections excluded), by indicator group:"]
    for group, r in table.iterrows():
        share = r["cells"] / r["possible"] if r["possible"] else float("nan")
        lines.append(f"  {group:<28} {r['indicators']:>3} indicators  {r['cells']:>4} of {r['possible']:<4} "
                     f"cells ({share:.0%})")
    total, possible = int(table["cells"].sum()), int(table["possible"].sum())
    lines.append(f"  {'all indicators':<28} {int(table['indicators'].sum()):>3} indicators  {total:>4} of "
                 f"{possible:<4} cells ({total / possible if possible else float('nan'):.0%})")
    missing = sorted(set(focus) - set(recent["iso3"].astype(str)))
    if missing:
        lines.append(f"  focus countries with no estimate since {FOCUS_SINCE}: {', '.join(missing)}")
    return lines


def _short(value: object) -> str:
    """Hashes shortened, absolute paths withheld, lists joined."""
    if isinstance(value, str):
        if value.startswith("/") or ":\\" in value:
            return "(path withheld)"
        return f"{value[:12]}..." if len(value) == 64 else value
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}" if abs(value) >= 10_000 else str(value)  # years stay 2100, not 2,100
    if isinstance(value, list):
        return ", ".join(map(str, value)) if value else "none"
    return str(value)


def _manifest_lines(manifest: dict) -> list[str]:
    """Build inputs from manifest.json: counts and hashes, never machine paths."""
    if not manifest:
        return ["Build manifest: manifest.json missing (store built by an older version?)"]
    lines = ["Build manifest:"]
    for key in sorted(manifest):
        value = manifest[key]
        if not isinstance(value, dict):
            lines.append(f"  {key}: {_short(value)}")
        elif value and all(isinstance(v, dict) for v in value.values()) and len(value) > 8:
            # e.g. inputs: one entry per pinned file id "<dataset>/<file>": count them per dataset
            per = pd.Series([k.split("/")[0] for k in value]).value_counts().sort_index()
            lines.append(f"  {key}: {len(value)} files ({', '.join(f'{d} {n}' for d, n in per.items())})")
        else:
            lines.append(f"  {key}:")
            for sub in sorted(value):
                item = value[sub]
                if isinstance(item, dict):
                    shown = ", ".join(f"{k} {_short(v)}" for k, v in item.items() if k != "path")
                else:
                    shown = _short(item)
                lines.append(f"    {sub}: {shown}")
    return lines
