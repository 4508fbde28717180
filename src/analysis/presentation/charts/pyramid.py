"""Age structure of one country: share of the population in each 5-year age group, over some years."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter

from analysis.presentation.charts import palette
from analysis.presentation.charts.base import Chart, ChartDataError, check_tidy, collect_footer, finish, frame
from analysis.presentation.charts.common import country_rows, in_style, plotted_rows

_AGE = re.compile(r"(\d{1,3})(?:(?:_|-|–|to)+(\d{1,3})\b|_?(plus|up|\+))", re.IGNORECASE)
# Later years are outlined in turn with these line styles.
OUTLINE_STYLES = ["-", (0, (4, 2)), (0, (1, 1.5))]
OUTLINE_COLOUR = "#222222"


def age_group_of(indicator_id: str) -> tuple[int, str]:
    """(lower bound, label) of a 5-year age group from an id such as ``pop_age_15_19`` or ``..._100plus``."""
    m = _AGE.search(str(indicator_id))
    if not m:
        raise ChartDataError(f"pyramid: cannot read an age group from indicator id {indicator_id!r}")
    lo, hi = int(m.group(1)), m.group(2)
    return (lo, f"{lo}–{int(hi)}") if hi else (lo, f"{lo}+")


def _has_sexes(d: pd.DataFrame) -> bool:
    return "sex" in d.columns and set(d["sex"].dropna().astype(str).str.lower()) >= {"male", "female"}


def _sides(part: pd.DataFrame, by_sex: bool) -> list[tuple[int, pd.DataFrame]]:
    """(direction, rows) of each side: men to the left and women to the right, or one side."""
    if not by_sex:
        return [(1, part)]
    sex = part["sex"].str.lower()
    return [(-1, part[sex == "male"]), (1, part[sex == "female"])]


def _subtitle(years: list[int], by_sex: bool) -> str:
    later = (", " + ", ".join(str(y) for y in years[1:]) + " outlined") if len(years) > 1 else ""
    return ("% of total population" + (", men (left) and women (right)" if by_sex else ", both sexes")
            + f"; {years[0]} filled" + later)


def _notes(years: list[int], missing_years: list[int], by_sex: bool, notes: Sequence[str]) -> list[str]:
    flags = [] if by_sex else ["No split by sex in this source: population of both sexes by age group."]
    if missing_years:
        flags.append("No data for " + ", ".join(map(str, missing_years)) + ".")
    return [*flags, "Bars: share of the total population in each 5-year age group.", *notes]


def _draw_outline(ax, ys: list[int], vals: np.ndarray, k: int, yr: int) -> None:
    """A later year as a step outline around the age groups."""
    order = np.argsort(ys)
    yy = np.asarray(ys)[order]
    edges_y = np.repeat(yy, 2) + np.tile([-0.45, 0.45], len(yy))
    ax.plot(np.repeat(vals[order], 2), edges_y, color=OUTLINE_COLOUR, lw=1.6, ls=OUTLINE_STYLES[(k - 1) % 3],
            gid=f"outline-{yr}")


def _draw_years(ax, d: pd.DataFrame, years: list[int], pos: dict[str, int], colour: str, by_sex: bool) -> None:
    for k, yr in enumerate(years):
        for sign, sel in _sides(d[d["year"] == yr], by_sex):
            ys = [pos[a] for a in sel["age"]]
            vals = sel["share"].to_numpy() * sign
            if k == 0:
                ax.barh(ys, vals, height=0.85, color=colour, alpha=0.75, gid=f"bars-{yr}")
            else:
                _draw_outline(ax, ys, vals, k, yr)


@in_style
def pyramid(
    data: pd.DataFrame, iso3: str, years: Sequence[int], *, title: str | None = None, subtitle: str | None = None,
    age_of: Callable[[str], tuple[int, str]] = age_group_of, notes: Sequence[str] = (), made_by: str | None = None,
    width: float = 8.0,
) -> Chart:
    """Age structure of one country: share of the population in each 5-year age group.

    With a ``sex`` column holding male/female rows this is a two-sided pyramid; without one (WPP
    2019 as stored here has both sexes combined) it is a one-sided age-structure chart that says so.
    The first year is drawn as filled bars, further years as outlines.
    """
    d = check_tidy(data, what="pyramid")
    d = d[(d["iso3"] == iso3) & d["year"].isin(list(years)) & d["value"].notna()]
    rows = country_rows([iso3])
    name = rows["name"].iloc[0]
    st = palette.style_of(iso3, palette.country_table())
    years = list(years)
    missing_years = [y for y in years if y not in set(d["year"])]
    if d.empty:
        raise ChartDataError(f"pyramid: no age-group data for {iso3} in {years}")
    ages = {i: age_of(i) for i in d["indicator_id"].unique()}
    d = d.assign(age_lo=[ages[i][0] for i in d["indicator_id"]], age=[ages[i][1] for i in d["indicator_id"]])
    by_sex = _has_sexes(d)
    d = d.assign(share=d["value"] / d.groupby("year")["value"].transform("sum") * 100)
    age_order = sorted({(lo, lab) for lo, lab in ages.values()})
    pos = {lab: k for k, (_, lab) in enumerate(age_order)}
    plotted = plotted_rows(d, rows, age=d["age"].to_numpy(), share_pct=d["share"].to_numpy())
    if by_sex:
        plotted["sex"] = d["sex"].to_numpy()
    notes = _notes(years, missing_years, by_sex, notes)
    footer, sources = collect_footer(d, notes)
    subtitle = subtitle if subtitle is not None else _subtitle(years, by_sex)
    key = [Patch(facecolor=st["colour"], alpha=0.75, label=str(years[0]))] + [
        Line2D([], [], color=OUTLINE_COLOUR, lw=1.6, ls=OUTLINE_STYLES[k % 3], label=str(y))
        for k, y in enumerate(years[1:])]
    title = title or f"{name}: population by age"
    fr = frame(title, subtitle, footer, body_height=5.0, width=width, key=key, key_cols=len(key))
    ax = fr.body.subplots()
    ax.grid(axis="y", visible=False)
    _draw_years(ax, d, years, pos, st["colour"], by_sex)
    ax.set_yticks(range(len(age_order)), [lab for _, lab in age_order], fontsize=7.4)
    ax.set_xlabel("% of total population")
    if by_sex:
        ax.axvline(0, color="#444444", lw=0.8)
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{abs(v):g}"))
    coverage = {"years": years, "missing_years": missing_years, "by_sex": by_sex}
    return finish(fr, kind="pyramid", title=title, subtitle=subtitle, unit="%", data=plotted, footer_lines=footer,
                  notes=notes, coverage=coverage, sources=sources, axes={"main": ax}, made_by=made_by)
