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


def licences(sources: Iterable[str], reg: Registry | None = None) -> dict[str, list[str]]:
    """Licence -> the source ids under it, from the registry (a source outside it: "not in the source registry")."""
    reg = reg or registry()
    out: dict[str, list[str]] = {}
    for sid in sorted(set(sources)):
        ds = reg.datasets.get(sid)
        out.setdefault(ds.licence if ds is not None else "not in the source registry", []).append(sid)
    return dict(sorted(out.items()))


def licence_line(sources: Iterable[str], reg: Registry | None = None) -> str | None:
    """"Licence: CC BY 4.0." or, when the sources differ, each licence with the publishers under it."""
    reg = reg or registry()
    by_licence = licences(sources, reg)
    if not by_licence:
        return None
    if len(by_licence) == 1:
        return f"Licence: {next(iter(by_licence))}."

    def who(sid: str) -> str:
        ds = reg.datasets.get(sid)
        return ds.publisher if ds is not None else sid

    parts = [f"{lic} ({', '.join(dict.fromkeys(who(s) for s in sids))})" for lic, sids in by_licence.items()]
    return "Licence: " + "; ".join(parts) + "."


def difference_text(value: float, unit: str) -> str:
    """An amount in the indicator's unit, read as a difference: "0.5 percentage points" for a % unit."""
    amount = f"{value:g}"
    unit = str(unit or "").strip()
    if unit.startswith("%"):
        return f"{amount} percentage point{'' if value == 1 else 's'}"
    return f"{amount} {unit}".strip()


def min_difference_note(min_difference: float, unit: str) -> str:
    """The footer's statement of the band rule's smallest meaningful difference ("" when none is set)."""
    if not min_difference or min_difference <= 0:
        return ""
    amount = difference_text(min_difference, unit)
    return (f"Band: ASEAN median ± 1 MAD, widened to at least ± {amount}: differences from the median smaller "
            f"than {amount} are not coloured.")


def coverage_note(n: int, total: int, window: tuple[int, int] | None = None, what: str = "countries",
                  qualifier: str = "", period: int = 1) -> str:
    """'Latest available year within 2015–2024; 12 of 14 countries with data.' For an indicator of
    ``period``-year periods (stored under their first year) the window ends where its last period ends."""
    when = (f"Latest available year within {window[0]}–{window[1] + (period if period > 1 else 0)}" if window
            else "Latest available year")
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
    # The last estimate of any source: a projection drawn after another source's estimates (or a
    # splice) starts where those estimates end, not where its own source's estimates do.
    est = data[~data["projection"].fillna(False).astype(bool)]
    for sid, part in proj.groupby("source_id", sort=True):
        last_est = int(est["year"].max()) if not est.empty else int(part["year"].min()) - 1
        ds = reg.datasets.get(str(sid))
        name = ds.title if ds else str(sid)
        parts.append(f"{name} medium-variant projections after {last_est}")
    return "Projections: " + "; ".join(parts) + "."


def footer_lines(data: pd.DataFrame | None, notes: Iterable[str] = (), reg: Registry | None = None,
                 extra_sources: dict[str, list[str]] | None = None, licence: bool = False) -> list[str]:
    """All footer lines of a chart: sources first (and their licence line), then notes (coverage,
    projections, caveats)."""
    sources = sources_used(data) if data is not None else {}
    for sid, vint in (extra_sources or {}).items():
        sources[sid] = sorted(set(sources.get(sid, [])) | set(vint))
    lines = source_lines(sources, reg)
    lic = licence_line(sources, reg) if licence else None
    if lic:
        lines.append(lic)
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
