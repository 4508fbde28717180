"""Display helpers for the notebooks: tables printed as stable text, charts exported and shown.

Small display helpers so that notebooks stay thin and their outputs stable: tables print rounded,
with gaps written as "–"; charts are exported with ``charts.save`` and shown inline; nothing
prints a machine path, an object address or a time.
"""

from __future__ import annotations

import io

import pandas as pd

from analysis.core import paths
from analysis.presentation import charts
from analysis.store import api

NO_DATA = "–"
INLINE_DPI = 100


def table_text(df, digits: int = 1, index: bool = False) -> str:
    """A table as fixed-width text: numbers rounded to ``digits``, missing values as "–"."""
    frame = df.reset_index() if index else df
    frame = frame.copy()
    for col in frame.columns:
        if pd.api.types.is_float_dtype(frame[col]):
            frame[col] = frame[col].round(digits)
        elif frame[col].isna().any():
            # nullable ints, strings and objects print <NA> or None; show gaps the same way everywhere
            frame[col] = frame[col].astype("object").where(frame[col].notna(), NO_DATA)
    return frame.to_string(index=False, na_rep=NO_DATA)


def show_table(df, digits: int = 1, index: bool = False) -> None:
    """Print ``table_text(df)`` (stable text, so nbval can check it)."""
    print(table_text(df, digits=digits, index=index))


def show(chart, name: str, notebook: str) -> None:
    """Export ``chart`` to ``reports/figures/<notebook>/<name>.*`` and display it inline.

    Prints only the project-relative location of the exported files.
    """
    from IPython.display import Image, display

    written = charts.save(chart, name, subdir=notebook, made_by=f"notebooks/{notebook}.ipynb")
    buf = io.BytesIO()
    with charts.styled():
        chart.figure.savefig(buf, format="png", dpi=INLINE_DPI, metadata={"Software": None})
    display(Image(data=buf.getvalue()))
    stem = paths.relative_to_root(written["png"]).removesuffix(".png")
    print(f"Files: {stem}.png, .svg, .pdf; .csv holds the plotted values, .json the sources")
    chart.close()


def years_available(df, by: str = "name") -> object:
    """Country x indicator table listing the years with a value (e.g. "2015, 2019"): what exists at all."""
    if df.empty:
        return pd.DataFrame()
    years = (df.loc[df["value"].notna()].groupby([by, "indicator_id"], observed=True)["year"]
             .agg(lambda y: ", ".join(str(int(v)) for v in sorted(set(y)))))
    return years.unstack("indicator_id").fillna(NO_DATA).reset_index()


def compare_vintages(latest_new, latest_old, new_label: str = "newer", old_label: str = "older"):
    """Side by side: the latest value and year of the same concept in two vintages, per country.

    ``latest_new`` / ``latest_old`` are ``analysis.latest`` frames of one indicator each.
    ``difference`` = newer - older (a different year can explain part of it: both years are shown).
    """
    cols = ["iso3", "name", "year", "value"]
    merged = latest_new.loc[:, cols].merge(latest_old.loc[:, cols], on=["iso3", "name"], how="outer",
                                           suffixes=(f" {new_label}", f" {old_label}"))
    out = merged.assign(difference=merged[f"value {new_label}"] - merged[f"value {old_label}"])
    return out.drop(columns="iso3").rename(columns={"name": "country"}).reset_index(drop=True)


def latest_table(indicators, countries: str = "FOCUS", window: int | None = None, digits: int = 1):
    """Latest value per country (rows, chart order) x indicator (columns) as text "value (year)".

    A cell is "–" when the country has no value in the indicator's latest-value window (the
    catalogue's, unless ``window`` is given).
    """
    ids = [indicators] if isinstance(indicators, str) else list(indicators)
    lat = api.latest(ids, countries=countries, window=window)
    cell = [NO_DATA if pd.isna(v) else f"{v:.{digits}f} ({int(y)})" for v, y in zip(lat["value"], lat["year"])]
    wide = lat.assign(cell=cell).pivot(index="iso3", columns="indicator_id", values="cell")
    order = [i for i in api.display_order() if i in wide.index] + [i for i in wide.index if i not in api.display_order()]
    names = api.country_names(order)
    wide = wide.reindex(index=order, columns=ids)
    wide.index = [names[i] for i in order]
    wide.index.name = "country"
    wide.columns.name = None
    return wide.reset_index()
