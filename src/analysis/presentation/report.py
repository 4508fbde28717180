"""Reports from the store: headline charts, the chart pack PDF, country profiles and an HTML gallery.

``build_reports()`` (``python -m analysis report``) draws a fixed, data-driven list of headline
charts per population group (``HEADLINE_CHARTS``), exports each into ``reports/figures/pack/``,
binds them into ``reports/chart-pack.pdf`` (cover with every source's vintage, contents, one chart
per page), writes a one-page profile per focus country (``reports/profiles/<ISO3>.pdf``) and a
static gallery of every chart under ``reports/figures/`` (``reports/index.html``).

Work is skipped when neither the store (its manifest) nor the report code changed since the last
run; a chart whose indicators are not in the store is skipped and listed, never faked.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.backends.backend_pdf import PdfPages

from analysis.core import atomic, paths
from analysis.core.errors import AnalysisError
from analysis.core.fingerprint import fingerprint
from analysis.presentation.charts import footer as footer_mod
from analysis.presentation.charts import kinds, palette, style
from analysis.presentation.charts.base import Chart, ChartDataError
from analysis.presentation.charts.export import save
from analysis.presentation.charts.layout import fmt
from analysis.presentation.gallery import PACK_SUBDIR, PACK_TITLE, write_gallery
from analysis.store import api

STATE_FILE = ".report-state.json"
GROUP_TITLES = {
    "older_persons": "Older persons",
    "children": "Children",
    "mothers": "Mothers and newborns",
    "persons_with_disabilities": "Persons with disabilities",
    "whole_population": "Whole population: health, health financing and social protection",
    "meetings": "The meetings",
}

# The headline charts: (name, population group, kind, indicator ids, options). A chart whose
# indicators are absent from the store is skipped and reported. "meeting:<group>" as a year means
# the first High Level Officials Meeting with a known theme on that population group.
HEADLINE_CHARTS: tuple[dict, ...] = (
    dict(name="older-65plus-share-projections", group="older_persons", kind="lines",
         indicators=["pop_65plus_share_wpp"], start=1990, end=2050, events="older_persons"),
    dict(name="older-old-age-dependency-projections", group="older_persons", kind="lines",
         indicators=["old_age_dependency_ratio_wpp"], start=1990, end=2050),
    dict(name="older-65plus-share-since-meeting", group="older_persons", kind="slope",
         indicators=["pop_65plus_share"], year_from="meeting:older_persons"),
    dict(name="older-65plus-share-by-country", group="older_persons", kind="small_multiples",
         indicators=["pop_65plus_share"], start=2000),
    dict(name="older-life-expectancy-60", group="older_persons", kind="banded_bars",
         indicators=["life_expectancy_60_wpp"]),
    dict(name="older-pension-coverage", group="older_persons", kind="banded_bars", indicators=["sp_cov_pension"]),
    dict(name="children-under5-mortality", group="children", kind="banded_bars", indicators=["under5_mortality"]),
    dict(name="children-under5-mortality-trend", group="children", kind="lines", indicators=["under5_mortality"],
         start=2000, events="children"),
    dict(name="children-measles-immunisation", group="children", kind="banded_bars",
         indicators=["measles_immunisation"]),
    dict(name="children-stunting", group="children", kind="banded_bars", indicators=["stunting"]),
    dict(name="children-benefit-coverage", group="children", kind="banded_bars", indicators=["sp_cov_children"]),
    dict(name="mothers-maternal-mortality", group="mothers", kind="banded_bars", indicators=["maternal_mortality"]),
    dict(name="mothers-maternal-mortality-since-meeting", group="mothers", kind="slope",
         indicators=["maternal_mortality"], year_from="meeting:mothers"),
    dict(name="mothers-skilled-birth-attendance", group="mothers", kind="banded_bars",
         indicators=["skilled_birth_attendance"]),
    dict(name="mothers-maternity-benefit-coverage", group="mothers", kind="banded_bars",
         indicators=["sp_cov_maternity"]),
    dict(name="disability-benefit-coverage", group="persons_with_disabilities", kind="banded_bars",
         indicators=["sp_cov_disability"]),
    dict(name="disability-unemployment-rate", group="persons_with_disabilities", kind="ranked_bars",
         indicators=["unemployment_rate_disability"]),
    dict(name="disability-unemployment-gap", group="persons_with_disabilities", kind="banded_bars",
         indicators=["unemployment_disability_gap"]),
    dict(name="health-spending-by-source", group="whole_population", kind="stacked_bars",
         indicators=["gov_share_che", "oop_share_che"], remainder="Other sources (remainder to 100%)"),
    dict(name="health-uhc-vs-oop", group="whole_population", kind="scatter",
         indicators=["oop_share_che", "uhc_service_coverage"]),
    dict(name="health-uhc-service-coverage", group="whole_population", kind="banded_bars",
         indicators=["uhc_service_coverage"]),
    dict(name="health-le-hale-gap", group="whole_population", kind="banded_bars", indicators=["le_hale_gap"]),
    dict(name="health-life-expectancy-trend", group="whole_population", kind="lines",
         indicators=["life_expectancy_birth"], start=2000),
    dict(name="protection-any-benefit-coverage", group="whole_population", kind="banded_bars",
         indicators=["sp_cov_total"]),
    dict(name="headline-indicators-heatmap", group="whole_population", kind="heatmap", mode="normalised",
         indicators="profile"),
    dict(name="headline-indicators-latest-year", group="whole_population", kind="heatmap", mode="latest_year",
         indicators="profile"),
    dict(name="meetings-timeline", group="meetings", kind="timeline", indicators=[]),
)

def profile_groups() -> dict[str, tuple[str, ...]]:
    """The country profile's indicators (catalogue ``profile = true``) per population group, in the
    order of the groups in GROUP_TITLES and of the catalogue within a group."""
    cat = api.catalogue().set_index("indicator_id")
    ids = api.profile_indicators()
    groups: dict[str, tuple[str, ...]] = {}
    for group in GROUP_TITLES:
        hit = tuple(i for i in ids if cat.loc[i, "group"] == group)
        if hit:
            groups[group] = hit
    return groups


class _Skip(Exception):
    """A headline chart cannot be drawn from this store (reason in the message)."""


@dataclass
class ReportResult:
    """What ``build_reports`` did."""

    skipped_unchanged: bool = False
    charts: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    pack: Path | None = None
    pack_pages: int = 0
    profiles: list[Path] = field(default_factory=list)
    index: Path | None = None
    gallery_charts: int = 0

    def summary(self) -> str:
        if self.skipped_unchanged:
            return ("reports are up to date (store and report code unchanged); use --force to rebuild. "
                    f"See {self._shown(self.index)}")
        lines = [f"{len(self.charts)} headline charts exported into reports/figures/{PACK_SUBDIR}/",
                 f"chart pack: {self._shown(self.pack)} ({self.pack_pages} pages)",
                 f"country profiles: {len(self.profiles)} in reports/profiles/",
                 f"gallery: {self._shown(self.index)} ({self.gallery_charts} charts found under reports/figures/)"]
        for name, reason in self.skipped:
            lines.append(f"skipped {name}: {reason}")
        return "\n".join(lines)

    @staticmethod
    def _shown(path: Path | None) -> str:
        return paths.relative_to_root(path) if path else "-"


# ----------------------------------------------------------------------------- context
@dataclass
class _Context:
    processed_dir: Path | None
    catalogue: pd.DataFrame
    store_ids: frozenset[str]
    meetings: pd.DataFrame

    def meta(self, indicator_id: str) -> dict:
        hit = self.catalogue[self.catalogue["indicator_id"] == indicator_id]
        if hit.empty:
            return {"title": indicator_id, "unit": "", "better": None, "group": ""}
        rec = hit.iloc[0].to_dict()
        better = rec.get("better")
        rec["better"] = better if better in ("higher", "lower") else None
        return rec

    def require(self, ids: list[str]) -> None:
        missing = [i for i in ids if i not in self.store_ids]
        if missing:
            raise _Skip(f"indicator(s) not in the store: {', '.join(missing)}")

    def meeting_year(self, spec: str) -> int:
        group = spec.split(":", 1)[1]
        m = self.meetings
        found = m[m["theme"].notna() & m["focus_groups"].fillna("").str.split(";").apply(lambda g: group in g)]
        if found.empty:
            raise _Skip(f"no meeting with a known theme on {group}")
        return int(found["year"].astype(int).min())

    def meeting_years(self, group: str) -> pd.DataFrame:
        m = self.meetings
        hit = m[m["theme"].notna() & m["focus_groups"].fillna("").str.split(";").apply(lambda g: group in g)]
        return pd.DataFrame({"year": hit["year"].astype(int).to_numpy(), "label": "HLOM"})


def _context(processed_dir: Path | None, catalogue: pd.DataFrame | None) -> _Context:
    cat = catalogue if catalogue is not None else api.catalogue()
    meetings = api.meetings().assign(focus_groups=lambda m: m["focus_groups"].map(";".join))
    return _Context(processed_dir=processed_dir, catalogue=cat, store_ids=api.indicator_ids(processed_dir),
                    meetings=meetings)


def _latest_frame(ctx: _Context, ids: list[str]) -> tuple[pd.DataFrame, tuple[int, int] | None]:
    """Latest values of the focus countries (API window) and the window as (first, last) year."""
    out = api.latest(ids, "FOCUS", processed_dir=ctx.processed_dir)
    refs = out.dropna(subset=["ref_year"])
    if refs.empty:
        return out, None
    last = int(refs["ref_year"].max())
    widest = int(refs.loc[refs["ref_year"] == last, "window"].max())
    return out, (last - widest + 1, last)


def _load(ctx: _Context, ids: list[str], start: int | None = None, end: int | None = None) -> pd.DataFrame:
    return api.load(ids, "FOCUS", (start, end), processed_dir=ctx.processed_dir)


# ----------------------------------------------------------------------------- drawing the headline charts
def _profile_ids(ctx: _Context) -> list[str]:
    return [i for ids in profile_groups().values() for i in ids if i in ctx.store_ids]


def _draw(spec: dict, ctx: _Context) -> Chart:
    kind = spec["kind"]
    made_by = f"analysis.report.build_reports ({spec['name']})"
    if kind == "timeline":
        return kinds.timeline(made_by=made_by)
    ids = _profile_ids(ctx) if spec["indicators"] == "profile" else list(spec["indicators"])
    ctx.require(ids)
    meta = ctx.meta(ids[0])
    if kind in ("ranked_bars", "banded_bars"):
        data, window = _latest_frame(ctx, ids)
        if data["value"].notna().sum() == 0:
            raise _Skip(f"no focus country has a value of {ids[0]}")
        func = kinds.banded_bars if kind == "banded_bars" else kinds.ranked_bars
        extra = {"better": meta["better"]} if kind == "banded_bars" else {}
        return func(data, title=meta["title"], unit=meta["unit"], window=window, made_by=made_by, **extra)
    if kind in ("lines", "small_multiples"):
        data = _load(ctx, ids, spec.get("start"), spec.get("end"))
        if data.empty:
            raise _Skip(f"no focus country has a value of {ids[0]}")
        if kind == "lines":
            events = ctx.meeting_years(spec["events"]) if spec.get("events") else None
            label = f"years of meetings on {spec['events'].replace('_', ' ')}" if spec.get("events") else None
            return kinds.lines(data, title=meta["title"], unit=meta["unit"], made_by=made_by, events=events,
                               events_label=label)
        return kinds.small_multiples(data, title=meta["title"], unit=meta["unit"], made_by=made_by)
    if kind == "slope":
        year_from = spec["year_from"]
        year_from = ctx.meeting_year(year_from) if str(year_from).startswith("meeting:") else int(year_from)
        data = _load(ctx, ids)
        data = data[~data["projection"].astype(bool)]
        if data.empty:
            raise _Skip(f"no values of {ids[0]}")
        group = str(spec["year_from"]).split(":", 1)[-1].replace("_", " ")
        return kinds.slope(data, year_from, title=f"{meta['title']}: first meeting on {group} and latest year",
                           unit=meta["unit"], tolerance=api.tolerance_of(ids[0]), made_by=made_by)
    if kind == "stacked_bars":
        data = _load(ctx, ids)
        data = data[~data["projection"].astype(bool)]
        labels = {i: ctx.meta(i)["title"] for i in ids}
        comps = list(ids)
        if spec.get("remainder"):
            data, rem_id = _with_remainder(data, ids)
            labels[rem_id] = spec["remainder"]
            comps.append(rem_id)
        return kinds.stacked_bars(data, comps, labels=labels, title="Health spending by source",
                                  unit=meta["unit"], made_by=made_by,
                                  notes=["Remainder = 100 minus the shares shown (voluntary prepayment, external and "
                                         "other sources together)."] if spec.get("remainder") else ())
    if kind == "scatter":
        data = _load(ctx, ids)
        data = data[~data["projection"].astype(bool)]
        mx, my = ctx.meta(ids[0]), ctx.meta(ids[1])
        return kinds.scatter(data, ids[0], ids[1], title=f"{my['title']} and {mx['title'].lower()}",
                             x_label=f"{mx['title']} ({mx['unit']})", y_label=f"{my['title']} ({my['unit']})",
                             window=_window_of(data, ids), made_by=made_by)
    if kind == "heatmap":
        # Latest value per indicator within its own window (the API's rule), so an indicator whose
        # series ends earlier (WPP periods, HALE) is not blanked out by a common window.
        data, window = _latest_frame(ctx, ids)
        labels = {i: ctx.meta(i)["title"] for i in ids}
        better = {i: ctx.meta(i)["better"] for i in ids}
        title = ("Headline indicators: where each country stands" if spec.get("mode") == "normalised"
                 else "Headline indicators: year of the latest value")
        return kinds.heatmap(data, mode=spec.get("mode", "normalised"), indicator_labels=labels, better=better,
                             title=title, made_by=made_by,
                             notes=[_window_text(ids) + " up to each indicator's latest year."])
    raise AnalysisError(f"report: unknown chart kind {kind!r} in HEADLINE_CHARTS ({spec['name']})")


def _window_of(data: pd.DataFrame, ids: list[str]) -> tuple[int, int] | None:
    if data.empty:
        return None
    last = int(data["year"].max())
    return (last - max(api.window_of(i) for i in ids) + 1, last)


def _window_text(ids: list[str]) -> str:
    """"Latest value within the 10 years" (or "within 5 to 10 years" when the catalogue windows differ)."""
    windows = sorted({api.window_of(i) for i in ids})
    span = f"{windows[0]}" if len(windows) == 1 else f"{windows[0]} to {windows[-1]}"
    return f"Latest value within the {span} years"


def _with_remainder(data: pd.DataFrame, ids: list[str]) -> tuple[pd.DataFrame, str]:
    """Add 100 minus the sum of the shares, per country-year where every share is present."""
    rem_id = "remainder_of_" + "_".join(ids)
    wide = data.pivot_table(index=["iso3", "year"], columns="indicator_id", values="value").reindex(columns=ids)
    wide = wide.dropna()
    rem = (100.0 - wide.sum(axis=1)).clip(lower=0.0)
    first = data[data["indicator_id"] == ids[0]].set_index(["iso3", "year"])
    extra = pd.DataFrame({
        "iso3": [i for i, _ in rem.index], "year": [y for _, y in rem.index], "indicator_id": rem_id,
        "value": rem.to_numpy(), "unit": first.loc[rem.index, "unit"].to_numpy(),
        "source_id": first.loc[rem.index, "source_id"].to_numpy(), "vintage": first.loc[rem.index, "vintage"].to_numpy(),
        "projection": False})
    return pd.concat([data, extra], ignore_index=True), rem_id


# ----------------------------------------------------------------------------- chart pack
PAGE = (11.69, 8.27)  # A4 landscape, inches


def _text_page(lines: list[tuple[str, float, str]], size=PAGE):
    """A page of text lines: (text, font size, weight)."""
    fig = style.new_figure(*size)
    fig.set_layout_engine("none")
    y = 0.93
    for text, pt, weight in lines:
        for part in style.wrap(text, size[0] - 1.6, pt, bold=weight == "bold") or [""]:
            fig.text(0.07, y, part, fontsize=pt, fontweight=weight, va="top", ha="left", color="#222222")
            y -= pt * 1.45 / 72.0 / size[1]
    return fig


def _cover_page(charts: list[tuple[dict, Chart]], reg) -> object:
    used: dict[str, set[str]] = {}
    for _, chart in charts:
        for sid, vint in chart.sources.items():
            used.setdefault(sid, set()).update(vint)
    lines = [(PACK_TITLE, 20, "bold"), ("", 8, "normal"),
             (f"{len(charts)} charts, grouped by population group. Every number is read from the project's "
              "indicator store, built from the pinned sources below; each chart's CSV in reports/figures/pack/ "
              "holds exactly the values drawn.", 10.5, "normal"), ("", 8, "normal"),
             ("Data sources and vintages", 13, "bold")]
    for sid in sorted(used):
        ds = reg.datasets.get(sid)
        if ds is None:
            if sid == "references":
                lines.append(("Reference tables compiled for this project (data/raw/references/), one cited source "
                              "per row.", 9.5, "normal"))
            continue
        vint = "; ".join(sorted(used[sid])) or ds.vintage
        lines.append((f"{ds.publisher}, {ds.title}: vintage {vint}; licence {ds.licence}.", 9.5, "normal"))
    lines += [("", 8, "normal"), ("How to read the charts", 13, "bold"),
              ("Each country has one colour in every chart. ASEAN members are drawn with solid lines and filled bars; "
               "Plus Three comparators (China, Japan, Korea) with dashed lines, hatched bars and open markers, and "
               "their names in italics. The thick near-black line is the ASEAN statistic named in the key with its "
               "'n of N' members. Banded bars compare each country with the ASEAN median plus or minus one median "
               "absolute deviation (grey band); blue is better and orange worse where the indicator has a better "
               "direction. 'no data' rows are countries without a value: gaps are shown, never filled.",
               9.5, "normal")]
    return _text_page(lines)


def _contents_page(charts: list[tuple[dict, Chart]], first_page: int) -> object:
    lines = [("Contents", 16, "bold"), ("", 6, "normal")]
    current = None
    for k, (spec, chart) in enumerate(charts):
        if spec["group"] != current:
            current = spec["group"]
            lines.append((GROUP_TITLES.get(current, current), 10.5, "bold"))
        lines.append((f"   p. {first_page + k}   Figure {k + 1}. {chart.title}", 8.6, "normal"))
    return _text_page(lines, size=(PAGE[0], max(PAGE[1], 0.9 + len(lines) * 0.17)))


def write_chart_pack(charts: list[tuple[dict, Chart]], target: Path) -> int:
    """Cover, contents, one chart per page (labelled with its figure number and group); returns pages."""
    reg = footer_mod.registry()
    pages = 0

    def writer(tmp: Path) -> None:
        nonlocal pages
        with style.styled(), PdfPages(tmp, metadata={"CreationDate": None, "ModDate": None, "Creator": None,
                                                       "Producer": None, "Title": PACK_TITLE}) as pdf:
            for fig in (_cover_page(charts, reg), _contents_page(charts, 3)):
                pdf.savefig(fig)
                pages += 1
            for k, (spec, chart) in enumerate(charts):
                label = chart.figure.text(0.985, 0.992, f"Figure {k + 1} · {GROUP_TITLES.get(spec['group'], spec['group'])}",
                                          ha="right", va="top", fontsize=7.5, color="#666666")
                pdf.savefig(chart.figure)
                label.remove()
                pages += 1

    atomic.write_with(target, writer)
    return pages


# ----------------------------------------------------------------------------- country profiles
@dataclass
class _ProfileRow:
    group: str
    indicator_id: str
    title: str
    unit: str
    better: str | None
    value: float
    year: int | None
    median: float
    n: int
    big_n: int
    band: str
    judged: str
    lower: float
    upper: float
    others: np.ndarray
    source_id: str | None
    vintage: str | None


def profile_table(latest: pd.DataFrame, ctx: _Context, iso3: str) -> list[_ProfileRow]:
    """Per headline indicator: the country's latest value and year, the ASEAN median and its band."""
    table = palette.country_table()
    members = table.loc[table["group"] == palette.ASEAN, "iso3"].tolist()
    rows = []
    for group, ids in profile_groups().items():
        for ind in ids:
            meta = ctx.meta(ind)
            part = latest[latest["indicator_id"] == ind].set_index("iso3")
            vals = part["value"].astype("float64") if not part.empty else pd.Series(dtype="float64")
            b = api.band(vals.reindex(table["iso3"]), reference=vals.reindex(members),
                         min_difference=api.min_difference_of(ind))
            judged = api.judge(b["band"], meta["better"])
            rec = part.loc[iso3] if iso3 in part.index else None
            value = float(rec["value"]) if rec is not None and pd.notna(rec["value"]) else np.nan
            year = int(rec["year"]) if rec is not None and pd.notna(rec["year"]) else None
            rows.append(_ProfileRow(
                group=group, indicator_id=ind, title=meta["title"], unit=meta["unit"], better=meta["better"],
                value=value, year=year, median=float(b["center"].iloc[0]), n=int(b["n"].iloc[0]), big_n=len(members),
                band=str(b.loc[iso3, "band"]), judged=str(judged.loc[iso3]), lower=float(b["lower"].iloc[0]),
                upper=float(b["upper"].iloc[0]), others=vals.reindex(table["iso3"]).dropna().to_numpy(),
                source_id=None if rec is None or pd.isna(rec.get("source_id")) else str(rec["source_id"]),
                vintage=None if rec is None or pd.isna(rec.get("vintage")) else str(rec["vintage"])))
    return rows


def draw_profile(iso3: str, rows: list[_ProfileRow], window_note: str) -> object:
    """One A4 portrait page: per population group, each headline indicator with value, year,
    ASEAN median (n of N), band, and a dot strip of the 14 countries."""
    table = palette.country_table()
    st = palette.style_of(iso3, table)
    name = st["name"]
    status = (f"ASEAN member since {st['joined'][:4]}" if st["group"] == palette.ASEAN and st.get("joined")
              else "Plus Three comparator")
    used = pd.DataFrame({"source_id": [r.source_id for r in rows if r.source_id],
                         "vintage": [r.vintage for r in rows if r.source_id]})
    foot = footer_mod.source_lines(footer_mod.sources_used(used))
    foot += [window_note,
             "Band: the ASEAN median of the members' latest values ± one median absolute deviation (grey); ▲ above, "
             "● within, ▼ below; blue = better, orange = worse where the indicator has a better direction. "
             f"Dots: the 14 focus countries; large dot: {name}. 'no data': no value in the window (a gap, not zero)."]
    W, H = 8.27, 11.69
    margin = 0.5
    foot_lines: list[str] = []
    for line in foot:
        foot_lines.extend(style.wrap(line, W - 2 * margin - 0.2, 6.6))
    foot_top = 0.35 + len(foot_lines) * 0.118  # inches from the bottom
    cols = {"title": margin, "value": 4.55, "year": 5.05, "median": 6.05, "band": 6.12, "strip": 6.85}
    title_w = cols["value"] - cols["title"] - 0.55
    wrapped = [style.wrap(f"{r.title} ({r.unit})", title_w, 7.2)[:2] for r in rows]
    n_groups = len({r.group for r in rows})
    # Vertical budget: rows and group gaps scale down together (never the text) when space is short.
    need = sum(0.2 + 0.115 * len(w) for w in wrapped) + n_groups * 0.30
    fixed = n_groups * 0.14
    top = H - 1.4
    scale = min(1.0, (top - foot_top - 0.1 - fixed) / need)
    fig = style.new_figure(W, H)
    fig.set_layout_engine("none")
    fx = lambda x: x / W  # noqa: E731 - inches to figure fraction
    fy = lambda y: y / H  # noqa: E731
    fig.text(fx(margin), fy(H - 0.45), name, fontsize=20, fontweight="bold", va="top", color=st["colour"])
    fig.text(fx(margin), fy(H - 0.85), f"Country profile · {status} · headline indicators by population group",
             fontsize=9.5, va="top", color="#444444")
    y = top
    head = dict(fontsize=7.2, fontweight="bold", va="bottom", color="#444444")
    fig.text(fx(cols["value"]), fy(y), "Value", ha="right", **head)
    fig.text(fx(cols["year"]), fy(y), "Year", ha="right", **head)
    fig.text(fx(cols["median"]), fy(y), "ASEAN median\n(n of N)", ha="right", **head)
    fig.text(fx(cols["band"]), fy(y), "Band", ha="left", **head)
    fig.text(fx(cols["strip"]), fy(y), "14 focus countries", ha="left", **head)
    current = None
    for r, w in zip(rows, wrapped):
        if r.group != current:
            current = r.group
            y -= 0.30 * scale + 0.06
            fig.text(fx(margin), fy(y), GROUP_TITLES.get(r.group, r.group).split(":")[0], fontsize=10,
                     fontweight="bold", va="bottom", color="#111111")
            fig.add_artist(mpl.lines.Line2D([fx(margin), fx(W - margin)], [fy(y - 0.04)] * 2, color="#999999", lw=0.6))
            y -= 0.08
        row_top = y - 0.04
        fig.text(fx(cols["title"]), fy(row_top), "\n".join(w), fontsize=7.2, va="top", color="#222222",
                 linespacing=1.1)
        has = not np.isnan(r.value)
        fig.text(fx(cols["value"]), fy(row_top), fmt(r.value) if has else "no data", fontsize=8 if has else 7.2,
                 fontweight="bold" if has else "normal", style="normal" if has else "italic", ha="right", va="top",
                 color="#111111" if has else palette.NO_DATA_COLOUR)
        fig.text(fx(cols["year"]), fy(row_top), str(r.year) if r.year else "–", fontsize=7.2, ha="right", va="top",
                 color="#444444")
        med = f"{fmt(r.median)} ({r.n} of {r.big_n})" if r.n else "no data"
        fig.text(fx(cols["median"]), fy(row_top), med, fontsize=7.2, ha="right", va="top", color="#444444")
        colour = palette.BAND_COLOURS.get(r.judged, "#999999") if r.band not in ("within", "no data") else "#555555"
        fig.text(fx(cols["band"]), fy(row_top), f"{api.band_symbol(r.band)} {r.judged}", fontsize=7.2, ha="left",
                 va="top", color=colour)
        _dot_strip(fig, (fx(cols["strip"]), fy(row_top - 0.17), fx(W - margin - cols["strip"]), fy(0.16)), r,
                   st["colour"])
        y -= (0.2 + 0.115 * len(w)) * scale
    fig.text(fx(margin), fy(foot_top), "\n".join(foot_lines), fontsize=6.6, va="top", color="#555555",
             linespacing=1.25)
    return fig


def _dot_strip(fig, rect, r: _ProfileRow, colour: str) -> None:
    ax = fig.add_axes(rect)
    ax.set_axis_off()
    if len(r.others) == 0:
        return
    lo, hi = float(np.min(r.others)), float(np.max(r.others))
    pad = (hi - lo) * 0.05 or 1.0
    ax.set_xlim(lo - pad, hi + pad)
    ax.set_ylim(-1, 1)
    if r.n:
        ax.axvspan(r.lower, r.upper, color="#000000", alpha=0.08, lw=0)
        ax.plot([r.median, r.median], [-0.9, 0.9], color=palette.AGGREGATE_COLOUR, lw=1.6)
    ax.plot(r.others, np.zeros(len(r.others)), "o", ms=3, color="#b0b0b0", mec="none")
    if not np.isnan(r.value):
        ax.plot([r.value], [0], "o", ms=6, color=colour, mec="#111111", mew=0.8)


def write_profiles(ctx: _Context, out_dir: Path, countries: list[str] | None = None) -> list[Path]:
    """``reports/profiles/<ISO3>.pdf`` for every focus country (or those given)."""
    wanted = [i for ids in profile_groups().values() for i in ids]
    ids = [i for i in wanted if i in ctx.store_ids]
    absent = [i for i in wanted if i not in ctx.store_ids]
    latest, window = _latest_frame(ctx, ids) if ids else (pd.DataFrame(columns=["iso3", "indicator_id"]), None)
    for ind in absent:  # an indicator missing from the store is a gap for every country
        latest = pd.concat([latest, pd.DataFrame({"iso3": palette.focus_iso3(), "indicator_id": ind,
                                                  "value": np.nan, "year": pd.NA})], ignore_index=True)
    window_note = (_window_text(wanted) + " up to each indicator's latest year in the store "
                   f"(here {window[0]}–{window[1]} at the widest)." if window else "")
    written = []
    for iso3 in countries or palette.focus_iso3():
        rows = profile_table(latest, ctx, iso3)
        with style.styled():
            fig = draw_profile(iso3, rows, window_note)
            target = out_dir / f"{iso3}.pdf"
            atomic.write_with(target, lambda tmp, f=fig: f.savefig(
                tmp, format="pdf", metadata={"CreationDate": None, "ModDate": None, "Creator": None, "Producer": None}))
            fig.clear()
        written.append(target)
    return written


# ----------------------------------------------------------------------------- gallery


# ----------------------------------------------------------------------------- skip logic and entry point
def _fingerprint(processed_dir: Path | None) -> str:
    """The report's freshness: the store (its manifest covers inputs, catalogue, registry and
    references), the package code and the plotting library's version."""
    return fingerprint({"store": api.store_fingerprint(processed_dir)}, {"matplotlib": mpl.__version__})


def build_reports(force: bool = False, *, processed_dir: Path | None = None, reports_dir: Path | None = None,
                  catalogue: pd.DataFrame | None = None, charts: tuple[dict, ...] | None = None,
                  profiles: list[str] | None = None, progress: Callable[[str], None] | None = None) -> ReportResult:
    """Draw and export the headline charts, the chart pack, the country profiles and the gallery.

    ``processed_dir`` / ``reports_dir`` default to the project's ``data/processed`` and ``reports``;
    ``catalogue`` (a frame like ``api.catalogue()``) and ``charts`` (specs like ``HEADLINE_CHARTS``)
    and ``profiles`` (ISO3 codes; default all focus countries) are for tests. Unless ``force``, nothing is redone when the store manifest, the reference
    tables, the registry and the report code are unchanged since the last run.
    """
    reports = Path(reports_dir) if reports_dir is not None else paths.reports_dir()
    state = {"fingerprint": _fingerprint(processed_dir)}
    state_path = reports / STATE_FILE
    outputs_exist = (reports / "chart-pack.pdf").exists() and (reports / "index.html").exists()
    if not force and outputs_exist and state_path.exists():
        try:
            if json.loads(state_path.read_text(encoding="utf-8")) == state:
                return ReportResult(skipped_unchanged=True, index=reports / "index.html")
        except json.JSONDecodeError:
            pass
    ctx = _context(processed_dir, catalogue)
    result = ReportResult()
    drawn: list[tuple[dict, Chart]] = []
    for k, spec in enumerate(charts if charts is not None else HEADLINE_CHARTS, start=1):
        try:
            chart = _draw(spec, ctx)
        except (_Skip, ChartDataError) as exc:
            result.skipped.append((spec["name"], str(exc)))
            continue
        name = f"{k:02d}-{spec['name']}"
        save(chart, name, PACK_SUBDIR, root=reports / "figures")
        drawn.append((spec, chart))
        result.charts.append(name)
        if progress:
            progress(name)
    result.pack = reports / "chart-pack.pdf"
    result.pack_pages = write_chart_pack(drawn, result.pack)
    for _, chart in drawn:
        chart.close()
    result.profiles = write_profiles(ctx, reports / "profiles", profiles)
    result.index, result.gallery_charts = write_gallery(reports)
    atomic.write_text(state_path, json.dumps(state, indent=2, sort_keys=True) + "\n")
    return result
