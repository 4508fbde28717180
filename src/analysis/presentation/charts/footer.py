"""Chart footers, generated from the source registry and the plotted data: nothing typed per chart.

One line per source: "Source: <publisher>, <dataset> (vintage <date>)." The vintages are the ones
carried by the plotted rows (a dataset whose files differ in vintage lists each one), falling back
to the dataset's vintage in ``data/sources.toml``.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

import pandas as pd

from analysis.store import api
from analysis.store.api import Registry


def registry() -> Registry:
    """The source registry, from the API."""
    return api.registry()


def sources_used(data: pd.DataFrame) -> dict[str, list[str]]:
    """Source id -> sorted distinct vintages of the plotted rows (empty list: vintage not carried)."""
    if data is None or data.empty or "source_id" not in data.columns:
        return {}
    rows = data.dropna(subset=["source_id"])
    out: dict[str, set[str]] = {}
    for sid, part in rows.groupby("source_id", sort=True):
        vint = part["vintage"].dropna().astype(str).unique().tolist() if "vintage" in part.columns else []
        parts = str(sid).split("+")
        if len(parts) == 1:
            out.setdefault(str(sid), set()).update(v for v in vint if v)
            continue
        # A derived indicator combines datasets ("wdi+hale", vintage "v1; v2" in the same order).
        for v in vint:
            pieces = v.split("; ")
            for k, p in enumerate(parts):
                out.setdefault(p, set())
                if len(pieces) == len(parts) and pieces[k]:
                    out[p].add(pieces[k])
        for p in parts:
            out.setdefault(p, set())
    return {k: sorted(v) for k, v in sorted(out.items())}


def source_line(source_id: str, vintages: Iterable[str] = (), reg: Registry | None = None) -> str:
    """One footer line for one dataset."""
    reg = reg or registry()
    ds = reg.datasets.get(source_id)
    vint = "; ".join(vintages)
    if ds is None:
        return f"Source: {source_id} (not in the source registry{', vintage ' + vint if vint else ''})."
    return f"Source: {ds.citation(vint or None)}."


def source_lines(sources: dict[str, list[str]], reg: Registry | None = None) -> list[str]:
    return [source_line(sid, vint, reg) for sid, vint in sorted(sources.items())]


def coverage_note(n: int, total: int, window: tuple[int, int] | None = None, what: str = "countries",
                  qualifier: str = "") -> str:
    """'Latest available year within 2015–2024; 12 of 14 countries with data.'"""
    when = f"Latest available year within {window[0]}–{window[1]}" if window else "Latest available year"
    return f"{when}; {n} of {total} {what} with data{qualifier}."


def projection_note(data: pd.DataFrame, reg: Registry | None = None) -> str | None:
    """A flag naming the dataset whose projections are plotted and the last estimate year."""
    if data is None or data.empty or "projection" not in data.columns:
        return None
    proj = data[data["projection"].fillna(False).astype(bool)]
    if proj.empty:
        return None
    reg = reg or registry()
    parts = []
    for sid, part in proj.groupby("source_id", sort=True):
        est = data[(data["source_id"] == sid) & ~data["projection"].fillna(False).astype(bool)]
        last_est = int(est["year"].max()) if not est.empty else int(part["year"].min()) - 1
        ds = reg.datasets.get(str(sid))
        name = ds.title if ds else str(sid)
        parts.append(f"{name} medium-variant projections after {last_est}")
    return "Projections: " + "; ".join(parts) + "."


def footer_lines(data: pd.DataFrame | None, notes: Iterable[str] = (), reg: Registry | None = None,
                 extra_sources: dict[str, list[str]] | None = None) -> list[str]:
    """All footer lines of a chart: sources first, then notes (coverage, projections, caveats)."""
    sources = sources_used(data) if data is not None else {}
    for sid, vint in (extra_sources or {}).items():
        sources[sid] = sorted(set(sources.get(sid, [])) | set(vint))
    lines = source_lines(sources, reg)
    proj = projection_note(data, reg) if data is not None else None
    lines.extend(n for n in notes if n)
    if proj:
        lines.append(proj)
    return lines


EVENTS_SOURCE = "data/raw/references/events.csv"
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def event_date(date: str) -> str:
    """"2004", "Apr 2000" or "26 Dec 2004": a date at the precision the events table gives it."""
    parts = str(date).split("-")
    if len(parts) == 1:
        return parts[0]
    month = _MONTHS[int(parts[1]) - 1]
    return f"{month} {parts[0]}" if len(parts) == 2 else f"{int(parts[2])} {month} {parts[0]}"


def _host(url: str) -> str:
    host = urlsplit(str(url)).netloc
    return host.removeprefix("www.")


def events_lines(events: pd.DataFrame, who: Iterable[str], marks: Iterable[str] | None = None) -> list[str]:
    """Footer lines naming the events drawn (date, title, countries, source site) and, apart, the rows
    whose confidence is not high. ``who``: the countries each concerns ("" for all drawn);
    ``marks``: the key drawn on the chart for each (numbers in small multiples), if any."""
    if events is None or events.empty:
        return []
    marks = list(marks) if marks is not None else [""] * len(events)
    items, doubtful = [], []
    for rec, whom, mark in zip(events.itertuples(index=False), who, marks):
        name = f"[{mark}] " if mark else ""
        name += f"{event_date(rec.date)} {rec.title}"
        items.append(f"{name} ({whom + '; ' if whom else ''}{_host(rec.source_url)})")
        if rec.confidence != "high":
            note = f", {rec.confidence_note}" if rec.confidence_note else ""
            doubtful.append(f"{rec.title} ({rec.confidence} confidence{note})")
    how = "dashed verticals, numbered" if any(marks) else "dashed verticals"
    lines = [f"Events marked ({how}; {EVENTS_SOURCE}, one cited source per row): " + "; ".join(items) + "."]
    if doubtful:
        lines.append("Events not of high confidence: " + "; ".join(doubtful) + ".")
    return lines
