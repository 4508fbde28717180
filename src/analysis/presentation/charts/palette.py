"""Colours and line styles: one fixed colour per focus country, the same in every chart.

The focus countries and their grouping come from ``data/raw/references/asean_members.csv`` (the one
place they are listed). Colours are assigned from two colour-blind-safe palettes in a stable order
(ASEAN members by accession date then ISO3; Plus Three by ISO3), so the assignment is data, not a
second hand-typed list of countries. Plus Three comparators are always drawn dashed (lines) or
hatched (bars) so that ASEAN members and comparators are told apart at a glance.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

from analysis.core.errors import AnalysisError
from analysis.store import api

# Okabe & Ito (2008) and Paul Tol's "muted" scheme; yellow and pale grey left out (too faint on
# white). Every colour that draws text, lines or marks has at least 3:1 contrast against white (WCAG
# 2.1, 1.4.11 non-text contrast): the hues too light for that are darkened in place, keeping their hue,
# so the colour-blind-safe ordering of the schemes is kept (tests/unit/test_palette_contrast.py checks
# contrast and the distances between colours under simulated colour-vision deficiencies). ASEAN gets
# the strongest hues; Plus Three gets hues not used for ASEAN.
ASEAN_COLOURS = (
    "#0072B2",  # blue (Okabe-Ito)
    "#C28600",  # orange (Okabe-Ito #E69F00, darkened to 3:1)
    "#009E73",  # bluish green (Okabe-Ito)
    "#CA78A5",  # reddish purple (Okabe-Ito #CC79A7, darkened to 3:1)
    "#D55E00",  # vermillion (Okabe-Ito)
    "#4999C6",  # sky blue (Okabe-Ito #56B4E9, darkened to 3:1)
    "#332288",  # indigo (Tol muted)
    "#969632",  # olive (Tol muted #999933, darkened to 3:1)
    "#882255",  # wine (Tol muted)
    "#40A090",  # teal (Tol muted #44AA99, darkened to 3:1)
    "#8C510A",  # brown (ColorBrewer BrBG; the darkened orange left no room for a gold)
    "#6E5B3E",  # umber (spare, for a future member)
)
PLUS_THREE_COLOURS = (
    "#CC6677",  # rose (Tol muted)
    "#117733",  # green (Tol muted)
    "#AA4499",  # purple (Tol muted)
)

# Group aggregates are drawn the same way everywhere: a thick near-black line or marker.
AGGREGATE_COLOUR = "#222222"
AGGREGATE_LINEWIDTH = 3.0
# Text of "no data" rows and of gaps: grey, yet still 3:1 against white.
NO_DATA_COLOUR = "#8A8A8A"
PROJECTION_SHADE = "#f0f0f0"
GRID_GREY = "#dddddd"

# Banded comparisons (OECD Health at a Glance style): better / worse / neutral. "within" is a mid
# grey (3:1 against white, so a "within" bar is still seen as a bar); neutral indicators get a dark
# and a light blue that carry no better/worse meaning.
BAND_COLOURS = {
    "better": "#0072B2",
    "worse": "#D55E00",
    "within": "#8F8F8F",
    "above": "#332288",  # used when the catalogue says neither higher nor lower is better
    "below": "#4999C6",
    "no data": "#FFFFFF",
}

# Categorical palette for components (stacked bars, heatmap legends): not country colours.
COMPONENT_COLOURS = ("#0072B2", "#D55E00", "#C28600", "#009E73", "#CA78A5", "#4999C6", "#969632")

# Values much older than the chart's newest value (core.settings.OLD_VALUE_YEARS) are drawn faded
# and hatched, and named in the footer.
FADED_ALPHA = 0.45
FADED_HATCH = "...."


def text_and_line_colours() -> dict[str, str]:
    """Every palette colour that draws text, lines, marks or bars (name -> colour), for the contrast test;
    the white "no data" band is no fill at all."""
    out = {f"ASEAN_COLOURS[{k}]": c for k, c in enumerate(ASEAN_COLOURS)}
    out |= {f"PLUS_THREE_COLOURS[{k}]": c for k, c in enumerate(PLUS_THREE_COLOURS)}
    out |= {f"COMPONENT_COLOURS[{k}]": c for k, c in enumerate(COMPONENT_COLOURS)}
    out |= {f"BAND_COLOURS[{b}]": c for b, c in BAND_COLOURS.items() if b != "no data"}
    return out | {"AGGREGATE_COLOUR": AGGREGATE_COLOUR, "NO_DATA_COLOUR": NO_DATA_COLOUR}


ASEAN = "ASEAN"
PLUS_THREE = "Plus Three"
LINESTYLES = {ASEAN: "-", PLUS_THREE: (0, (5, 2))}
HATCHES = {ASEAN: None, PLUS_THREE: "////"}
GROUP_LABELS = {ASEAN: "ASEAN member (solid)", PLUS_THREE: "Plus Three comparator (dashed)"}


def _focus_rows() -> tuple[tuple[str, str, str, str | None], ...]:
    """The focus countries from the API (the store's countries table): (iso3, name, grouping, joined) each,
    in the table's order. The table and the members are the API's cached ones: charts ask for the drawing
    table many times, and resolving the group afresh cost more than drawing a line."""
    table = api.countries()
    table = table.loc[table["iso3"].isin(api.members("FOCUS")).to_numpy(dtype=bool)]
    grouping = [PLUS_THREE if p else ASEAN for p in table["plus_three"].astype(bool)]
    joined = [None if pd.isna(j) else j for j in table["asean_joined"].tolist()]  # one missing marker: a cache key
    return tuple(zip(table["iso3"].astype(str).tolist(), table["name"].astype(str).tolist(), grouping, joined))


def country_table() -> pd.DataFrame:
    """The focus countries with their fixed drawing attributes.

    Columns: iso3, name, group ("ASEAN" / "Plus Three"), joined, colour, linestyle, hatch, order.
    Row order is the drawing order (ASEAN first, by accession date).
    """
    # A shallow copy: under copy-on-write the caller may modify it without touching the cache.
    return _country_table(_focus_rows()).copy(deep=False)


@lru_cache(maxsize=8)
def _country_table(focus: tuple[tuple[str, str, str, str | None], ...]) -> pd.DataFrame:
    """The drawing table per content of the focus rows (a rebuilt store with other names or members
    gives other rows, hence a new table)."""
    iso3, name, grouping, joined = (list(c) for c in zip(*focus)) if focus else ([], [], [], [])
    table = pd.DataFrame({"iso3": np.array(iso3, dtype=object), "name": np.array(name, dtype=object),
                          "grouping": grouping, "joined": np.array(joined, dtype=object)})
    asean = table[table["grouping"] == ASEAN].sort_values(["joined", "iso3"])
    plus3 = table[table["grouping"] == PLUS_THREE].sort_values("iso3")
    if len(asean) > len(ASEAN_COLOURS) or len(plus3) > len(PLUS_THREE_COLOURS):
        raise AnalysisError("more focus countries than fixed colours: extend the palette in "
                            "analysis.presentation.charts.palette")
    rows = []
    for group, part, colours in ((ASEAN, asean, ASEAN_COLOURS), (PLUS_THREE, plus3, PLUS_THREE_COLOURS)):
        for colour, rec in zip(colours, part.itertuples(index=False)):
            rows.append({
                "iso3": str(rec.iso3), "name": str(rec.name), "group": group,
                "joined": None if pd.isna(rec.joined) else str(rec.joined),
                "colour": colour, "linestyle": LINESTYLES[group], "hatch": HATCHES[group],
            })
    out = pd.DataFrame(rows)
    out["order"] = range(len(out))
    return out


def focus_iso3() -> list[str]:
    """ISO3 codes of the focus countries in drawing order."""
    return country_table()["iso3"].tolist()


def style_of(iso3: str, table: pd.DataFrame | None = None) -> dict:
    """Drawing attributes of one country; countries outside the focus set are drawn in grey."""
    table = country_table() if table is None else table
    # Compared on the plain array: a boolean-indexed frame per call cost more than the rest of the lookup.
    hit = np.flatnonzero(table["iso3"].to_numpy() == iso3)
    if not len(hit):
        return {"iso3": iso3, "name": iso3, "group": "other", "colour": "#777777", "linestyle": "-", "hatch": None}
    rec = table.iloc[hit[0]].to_dict()
    # pandas stores a missing hatch as NaN; matplotlib wants None.
    rec["hatch"] = rec["hatch"] if isinstance(rec.get("hatch"), str) else None
    return rec
