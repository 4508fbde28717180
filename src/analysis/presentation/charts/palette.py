"""Colours and line styles: one fixed colour per focus country, the same in every chart.

The focus countries and their grouping come from ``data/raw/references/asean_members.csv`` (the one
place they are listed). Colours are assigned from two colour-blind-safe palettes in a stable order
(ASEAN members by accession date then ISO3; Plus Three by ISO3), so the assignment is data, not a
second hand-typed list of countries. Plus Three comparators are always drawn dashed (lines) or
hatched (bars) so that ASEAN members and comparators are told apart at a glance.
"""

from __future__ import annotations

import pandas as pd

from analysis.core.errors import AnalysisError
from analysis.store import api

# Okabe & Ito (2008) and Paul Tol's "muted"/"bright" schemes; yellow and pale grey left out (too
# faint on white). ASEAN gets the strongest hues; Plus Three gets hues not used for ASEAN.
ASEAN_COLOURS = (
    "#0072B2",  # blue (Okabe-Ito)
    "#E69F00",  # orange (Okabe-Ito)
    "#009E73",  # bluish green (Okabe-Ito)
    "#CC79A7",  # reddish purple (Okabe-Ito)
    "#D55E00",  # vermillion (Okabe-Ito)
    "#56B4E9",  # sky blue (Okabe-Ito)
    "#332288",  # indigo (Tol muted)
    "#999933",  # olive (Tol muted)
    "#882255",  # wine (Tol muted)
    "#44AA99",  # teal (Tol muted)
    "#B8860B",  # dark goldenrod (darker stand-in for Tol sand, readable on white)
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
NO_DATA_COLOUR = "#9a9a9a"
PROJECTION_SHADE = "#f0f0f0"
GRID_GREY = "#dddddd"

# Banded comparisons (OECD Health at a Glance style): better / worse / neutral.
BAND_COLOURS = {
    "better": "#0072B2",
    "worse": "#D55E00",
    "within": "#BBBBBB",
    "above": "#332288",  # used when the catalogue says neither higher nor lower is better
    "below": "#88CCEE",
    "no data": "#FFFFFF",
}

# Categorical palette for components (stacked bars, heatmap legends): not country colours.
COMPONENT_COLOURS = ("#0072B2", "#D55E00", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#999933")

ASEAN = "ASEAN"
PLUS_THREE = "Plus Three"
LINESTYLES = {ASEAN: "-", PLUS_THREE: (0, (5, 2))}
HATCHES = {ASEAN: None, PLUS_THREE: "////"}
GROUP_LABELS = {ASEAN: "ASEAN member (solid)", PLUS_THREE: "Plus Three comparator (dashed)"}


def _focus_rows() -> pd.DataFrame:
    """The focus countries from the API (the store's countries table): iso3, name, grouping, joined."""
    table = api.countries("FOCUS")
    return pd.DataFrame({
        "iso3": table["iso3"].astype(str).to_numpy(),
        "name": table["name"].astype(str).to_numpy(),
        "grouping": [PLUS_THREE if p else ASEAN for p in table["plus_three"].astype(bool)],
        "joined": table["asean_joined"].to_numpy(),
    })


def country_table() -> pd.DataFrame:
    """The focus countries with their fixed drawing attributes.

    Columns: iso3, name, group ("ASEAN" / "Plus Three"), joined, colour, linestyle, hatch, order.
    Row order is the drawing order (ASEAN first, by accession date).
    """
    table = _focus_rows()
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
    hit = table[table["iso3"] == iso3]
    if hit.empty:
        return {"iso3": iso3, "name": iso3, "group": "other", "colour": "#777777", "linestyle": "-", "hatch": None}
    rec = hit.iloc[0].to_dict()
    # pandas stores a missing hatch as NaN; matplotlib wants None.
    rec["hatch"] = rec["hatch"] if isinstance(rec.get("hatch"), str) else None
    return rec
