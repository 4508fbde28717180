"""The workbook officials open: ``reports/caring-societies-data.xlsx`` (XlsxWriter).

Sheets: an index (each sheet, what it holds, its sources), one per chart of the chart pack (the chart's
own CSV, under its title, unit, source lines and licence), one per country profile (the profile's
indicator table, :func:`analysis.presentation.report.profiles.profile_table`), and one with the sources,
licences, vintages and how to cite. Sheet names are unique and within Excel's 31 characters.

Byte-identical for the same inputs: the workbook's dates are the store's ``as_of`` date, and XlsxWriter
stamps every part of the file with one fixed time.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import xlsxwriter

from analysis.core import atomic
from analysis.presentation.gallery import AUTHORS, WORKBOOK_FILE, project_title_version
from analysis.store import api

MAX_NAME = 31
_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
INDEX_SHEET, SOURCES_SHEET = "Index", "Sources and citation"


@dataclass(frozen=True)
class Sheet:
    """One data sheet: its rows under a few heading lines; ``sources`` are registry dataset ids."""

    name: str
    about: str
    heading: tuple[str, ...]
    table: pd.DataFrame
    sources: tuple[str, ...] = ()


def sheet_name(prefix: str, title: str, taken: set[str]) -> str:
    """``prefix title`` cut to Excel's 31 characters, without the characters Excel refuses, and unique."""
    base = _FORBIDDEN.sub(" ", f"{prefix} {title}".strip())
    base = re.sub(r"\s+", " ", base)[:MAX_NAME].rstrip(" '")
    name, k = base, 2
    while name.lower() in {t.lower() for t in taken}:
        suffix = f" ({k})"
        name, k = base[:MAX_NAME - len(suffix)].rstrip() + suffix, k + 1
    taken.add(name)
    return name


def _licences(source_ids: Iterable[str]) -> str:
    reg = api.registry()
    return "; ".join(sorted({reg.datasets[s].licence for s in source_ids if s in reg.datasets})) or "see Sources"


# ----------------------------------------------------------------------------- sheets
def chart_sheet(csv_path: Path, figure_no: int, taken: set[str]) -> Sheet:
    """A chart of the pack: its CSV with the title, unit, source lines and licence of its JSON above it."""
    meta = json.loads(csv_path.with_suffix(".json").read_text(encoding="utf-8"))
    table = pd.read_csv(csv_path, keep_default_na=False, na_values=[""])
    sources = tuple(str(s["id"]) for s in meta.get("sources", []))
    source_lines = [line for line in meta.get("footer", []) if line.startswith("Source")]
    heading = (f"Figure {figure_no}. {meta.get('title', csv_path.stem)}",
               *([f"Unit: {meta['unit']}"] if meta.get("unit") else []), *source_lines,
               f"Licence of the data: {_licences(sources)}", f"File: {csv_path.name} (the values drawn)")
    return Sheet(name=sheet_name(f"Fig{figure_no:02d}", str(meta.get("title", "")), taken),
                 about=f"Figure {figure_no} of the chart pack: {meta.get('title', '')}", heading=heading,
                 table=table, sources=sources)


def _scalar_fields(rows: Sequence) -> list[str]:
    """The profile row's fields that hold one value (arrays, such as the other countries' values, left out)."""
    first = rows[0]
    return [f.name for f in dataclasses.fields(first)
            if isinstance(getattr(first, f.name), (str, int, float, bool, type(None)))]


def profile_sheet(iso3: str, name: str, rows: Sequence, taken: set[str]) -> Sheet:
    """A country profile's indicator table: one row per profile indicator."""
    columns = _scalar_fields(rows) if rows else []
    table = pd.DataFrame([{c: getattr(r, c) for c in columns} for r in rows], columns=columns)
    sources = tuple(sorted({str(s) for s in table.get("source_id", pd.Series(dtype=str)).dropna()
                            for s in str(s).split("+")}))
    heading = (f"Country profile: {name} ({iso3})",
               "Each profile indicator: the latest value and year, the ASEAN median (n of N members with data) "
               "and the country's band.", f"Licence of the data: {_licences(sources)}")
    return Sheet(name=sheet_name("Profile", f"{iso3} {name}", taken), about=f"Country profile of {name}",
                 heading=heading, table=table, sources=sources)


def sources_table(source_ids: Iterable[str]) -> pd.DataFrame:
    reg = api.registry()
    rows = [{"source": sid, "publisher": ds.publisher, "dataset": ds.title, "vintage": ds.vintage,
             "licence": ds.licence, "landing page": ds.landing_page, "cite as": ds.citation()}
            for sid in sorted(set(source_ids)) if (ds := reg.datasets.get(sid)) is not None]
    return pd.DataFrame(rows, columns=["source", "publisher", "dataset", "vintage", "licence", "landing page",
                                       "cite as"])


def citation() -> str:
    title, version = project_title_version()
    return (f"{AUTHORS}, {title}" + (f", version {version}" if version else "")
            + f": data workbook ({WORKBOOK_FILE}). Cite each data source as listed below, under its own licence.")


# ----------------------------------------------------------------------------- writing
def _cell(value):
    """A value Excel can store: numbers as numbers, missing values as empty cells."""
    if value is None or value is pd.NA or (isinstance(value, float) and (math.isnan(value) or math.isinf(value))):
        return None
    if hasattr(value, "item"):
        return value.item()
    return value


def _write_table(ws, top: int, table: pd.DataFrame, bold) -> None:
    for c, column in enumerate(table.columns):
        ws.write_string(top, c, str(column), bold)
        ws.set_column(c, c, min(48, max(10, len(str(column)) + 2)))
    for r, row in enumerate(table.itertuples(index=False), start=top + 1):
        for c, value in enumerate(row):
            value = _cell(value)
            if value is None:
                ws.write_blank(r, c, None)
            elif isinstance(value, bool):
                ws.write_boolean(r, c, value)
            elif isinstance(value, (int, float)):
                ws.write_number(r, c, value)
            else:
                ws.write_string(r, c, str(value))


def _write_sheet(book, sheet: Sheet, formats: dict) -> None:
    ws = book.add_worksheet(sheet.name)
    for r, line in enumerate(sheet.heading):
        ws.write_string(r, 0, line, formats["title"] if r == 0 else formats["note"])
    top = len(sheet.heading) + 1
    _write_table(ws, top, sheet.table, formats["bold"])
    ws.freeze_panes(top + 1, 0)


def write_workbook(target: Path, sheets: Sequence[Sheet]) -> Path:
    """The workbook: index, the given sheets in order, then sources and citation."""
    used = sorted({s for sheet in sheets for s in sheet.sources})
    index = pd.DataFrame({"sheet": [s.name for s in sheets] + [SOURCES_SHEET],
                          "what it holds": [s.about for s in sheets] + ["sources, licences, vintages, how to cite"],
                          "sources": [", ".join(s.sources) for s in sheets] + ["every source used"]})
    created = dt.datetime.combine(api.as_of(), dt.time())
    title, _ = project_title_version()

    def writer(tmp: Path) -> None:
        book = xlsxwriter.Workbook(str(tmp), {"in_memory": True, "strings_to_numbers": False,
                                              "strings_to_urls": False})
        book.set_properties({"title": title, "author": AUTHORS, "created": created, "comments": citation()})
        book.set_custom_property("as_of", api.as_of().isoformat())
        formats = {"title": book.add_format({"bold": True, "font_size": 13}), "bold": book.add_format({"bold": True}),
                   "note": book.add_format({"font_color": "#444444"})}
        _write_sheet(book, Sheet(INDEX_SHEET, "", (title, citation()), index), formats)
        for sheet in sheets:
            _write_sheet(book, sheet, formats)
        _write_sheet(book, Sheet(SOURCES_SHEET, "", ("Sources, licences and vintages", citation()),
                                 sources_table(used)), formats)
        book.close()

    atomic.write_with(target, writer)
    return target
