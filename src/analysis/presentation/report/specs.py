"""The headline charts: which charts the pack holds, how a spec is checked and how each kind is drawn.

A spec is a dict: ``name``, population ``group`` (a key of ``GROUP_TITLES``), chart ``kind`` (a key
of ``DRAWERS``) and ``indicators`` (catalogue ids, or ``"profile"`` for the catalogue's profile
indicators), plus options per kind. Every indicator's title, unit, direction, window and tolerance
comes from the catalogue through the API. ``validate_specs`` checks every spec against the
catalogue before anything is drawn, so a typo stops the report instead of leaving a gap.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import pandas as pd

from analysis.core.errors import AnalysisError
from analysis.presentation import charts
from analysis.presentation.groups import GROUP_TITLES
from analysis.presentation.report.context import ReportContext, Skip, window_text
from analysis.store import api, series
from analysis.store import intervals as with_bounds

PROFILE = "profile"  # as ``indicators``: the catalogue's profile indicators present in the store
MEETING = "meeting:"  # as ``year_from``: the first meeting with a known theme on the group named after it

# A chart whose indicators are absent from the store is skipped and reported, never faked.
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
         indicators=["le_60_who"]),
    dict(name="older-pension-coverage", group="older_persons", kind="banded_bars", indicators=["sp_cov_pension"]),
    dict(name="older-le-hale-60-who", group="older_persons", kind="intervals", panels=["Life expectancy", "HALE"],
         indicators=["le_60_who_female", "le_60_who_male", "hale_60_who_female", "hale_60_who_male"],
         title="Life expectancy and healthy life expectancy (HALE) at 60, women and men (WHO)"),
    dict(name="older-le-hale-gap-60-who", group="older_persons", kind="intervals",
         indicators=["le_hale_gap_60_who_female", "le_hale_gap_60_who_male", "le_hale_gap_60_who"],
         labels=["Female", "Male", "Both sexes"],
         title="Years in less than full health at 60 (WHO life expectancy minus HALE at 60), by sex"),
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
    dict(name="disability-prevalence-wap", group="persons_with_disabilities", kind="intervals",
         indicators=["disability_prevalence_wap_female", "disability_prevalence_wap_male", "disability_prevalence_wap"],
         labels=["Female", "Male", "Both sexes"], title="Share of the working-age population with a disability, by sex",
         notes=["The only country-level disability prevalence in the project's sources: labour force surveys that ask "
                "about disability; the questions differ between countries and survey rounds."]),
    dict(name="disability-labour-force-participation", group="persons_with_disabilities", kind="intervals",
         panels=["Both sexes", "Female", "Male"], connect=True, labels=["With a disability", "Without a disability"],
         indicators=["lfpr_disability", "lfpr_no_disability", "lfpr_disability_female", "lfpr_no_disability_female",
                     "lfpr_disability_male", "lfpr_no_disability_male"],
         title="Labour force participation of persons with and without a disability, by sex",
         unit="% of the working-age population in each group"),
    dict(name="disability-employment-ratio", group="persons_with_disabilities", kind="intervals",
         panels=["Both sexes", "Female", "Male"], connect=True, labels=["With a disability", "Without a disability"],
         indicators=["emp_ratio_disability", "emp_ratio_no_disability", "emp_ratio_disability_female",
                     "emp_ratio_no_disability_female", "emp_ratio_disability_male", "emp_ratio_no_disability_male"],
         title="Employment-to-population ratio of persons with and without a disability, by sex",
         unit="% of the working-age population in each group"),
    dict(name="disability-unemployment-sources", group="persons_with_disabilities", kind="intervals",
         panels=["With a disability", "Without a disability"], comparison=True, labels=["ILOSTAT", "UN SDG database"],
         indicators=["unemployment_rate_disability", "unemployment_rate_disability_sdg2023",
                     "unemployment_rate_no_disability", "unemployment_rate_no_disability_sdg2023"],
         title="Unemployment rate by disability status: ILOSTAT and the UN SDG database compared",
         unit="% of the labour force in each group"),
    dict(name="disability-schools-adapted", group="persons_with_disabilities", kind="intervals",
         indicators=["schools_adapted_disability_primary", "schools_adapted_disability_lower_secondary",
                     "schools_adapted_disability_upper_secondary"], labels=["Primary", "Lower secondary",
                                                                            "Upper secondary"],
         title="Schools with infrastructure and materials adapted for students with disabilities (SDG 4.a.1)",
         unit="% of schools at each level"),
    dict(name="health-spending-by-source", group="whole_population", kind="stacked_bars",
         indicators=["gov_share_che", "oop_share_che"], title="Health spending by source",
         remainder="Other sources (remainder to 100%)",
         notes=["Remainder = 100 minus the shares shown (voluntary prepayment, external and other sources "
                "together)."]),
    dict(name="health-uhc-vs-oop", group="whole_population", kind="scatter",
         indicators=["oop_share_che", "uhc_service_coverage"]),
    dict(name="health-uhc-service-coverage", group="whole_population", kind="banded_bars",
         indicators=["uhc_service_coverage"]),
    dict(name="health-le-hale-birth-who", group="whole_population", kind="intervals",
         panels=["Life expectancy", "HALE"],
         indicators=["le_birth_who_female", "le_birth_who_male", "hale_birth_who_female", "hale_birth_who_male"],
         title="Life expectancy and healthy life expectancy (HALE) at birth, women and men (WHO)"),
    dict(name="health-le-hale-gap", group="whole_population", kind="intervals",
         indicators=["le_hale_gap_birth_who_female", "le_hale_gap_birth_who_male", "le_hale_gap_birth_who"],
         labels=["Female", "Male", "Both sexes"],
         title="Years in less than full health at birth (WHO life expectancy minus HALE), by sex"),
    dict(name="health-hale-share-who", group="whole_population", kind="intervals", panels=["At birth", "At 60"],
         share_x=False,
         indicators=["hale_share_birth_who_female", "hale_share_birth_who_male", "hale_share_birth_who",
                     "hale_share_60_who_female", "hale_share_60_who_male", "hale_share_60_who"],
         labels=["Female", "Male", "Both sexes"],
         title="Healthy life expectancy as a share of life expectancy, at birth and at 60, by sex (WHO)",
         notes=["Neither better nor worse: a lower share often comes with longer lives, whose added years at older "
                "ages are more often lived in less than full health."]),
    dict(name="health-life-expectancy-trend", group="whole_population", kind="lines",
         indicators=["life_expectancy_birth"], start=2000),
    dict(name="protection-any-benefit-coverage", group="whole_population", kind="banded_bars",
         indicators=["sp_cov_total"]),
    dict(name="headline-indicators-heatmap", group="whole_population", kind="heatmap", mode="normalised",
         indicators=PROFILE, title="Headline indicators: where each country stands"),
    dict(name="headline-indicators-latest-year", group="whole_population", kind="heatmap", mode="latest_year",
         indicators=PROFILE, title="Headline indicators: year of the latest value"),
    dict(name="meetings-timeline", group="meetings", kind="timeline", indicators=[]),
)


def profile_groups() -> dict[str, tuple[str, ...]]:
    """The country profile's indicators (catalogue ``profile = true``) per population group, in the
    order of the groups in GROUP_TITLES and of the catalogue within a group."""
    group_of = api.catalogue().set_index("indicator_id")["group"]
    ids = api.profile_indicators()
    groups: dict[str, tuple[str, ...]] = {}
    for group in GROUP_TITLES:
        hit = tuple(i for i in ids if group_of[i] == group)
        if hit:
            groups[group] = hit
    return groups


# ----------------------------------------------------------------------------- drawing, one function per kind
Drawer = Callable[[dict, list[str], ReportContext, str], charts.Chart]


def _latest_or_skip(ctx: ReportContext, ids: list[str]) -> tuple[pd.DataFrame, tuple[int, int] | None]:
    data, window = ctx.latest(ids)
    if data["value"].notna().sum() == 0:
        raise Skip(f"no focus country has a value of {ids[0]}")
    return data, window


def _draw_ranked_bars(spec: dict, ids: list[str], ctx: ReportContext, made_by: str) -> charts.Chart:
    meta = ctx.meta(ids[0])
    data, window = _latest_or_skip(ctx, ids)
    return charts.ranked_bars(data, title=meta.title, unit=meta.unit, window=window, made_by=made_by)


def _draw_banded_bars(spec: dict, ids: list[str], ctx: ReportContext, made_by: str) -> charts.Chart:
    meta = ctx.meta(ids[0])
    data, window = _latest_or_skip(ctx, ids)
    return charts.banded_bars(data, title=meta.title, unit=meta.unit, window=window, made_by=made_by,
                              better=meta.better,
                              published=series.published_aggregate(ids[0], processed_dir=ctx.processed_dir))


def _series_or_skip(spec: dict, ids: list[str], ctx: ReportContext) -> pd.DataFrame:
    data = ctx.load(ids, spec.get("start"), spec.get("end"))
    if data.empty:
        raise Skip(f"no focus country has a value of {ids[0]}")
    return data


def _draw_lines(spec: dict, ids: list[str], ctx: ReportContext, made_by: str) -> charts.Chart:
    group = spec.get("events")
    marks = ctx.meeting_years(group) if group else None
    label = f"years of meetings on {group.replace('_', ' ')}" if group else None
    if series.projection_from(ids[0]) is not None:
        return _draw_projected_lines(spec, ids, ctx, made_by, marks, label)
    meta = ctx.meta(ids[0])
    data = _series_or_skip(spec, ids, ctx)
    return charts.lines(data, title=meta.title, unit=meta.unit, made_by=made_by, marks=marks, marks_label=label,
                        events=_events(ctx))


def _draw_projected_lines(spec: dict, ids: list[str], ctx: ReportContext, made_by: str, marks, label) -> charts.Chart:
    """A projecting indicator: its concept's current estimates, then the projection as its own series after
    each country's last estimate (one number per concept, country and year)."""
    got = series.with_projection(ids[0], "FOCUS", (spec.get("start"), spec.get("end")),
                                 processed_dir=ctx.processed_dir)
    if got.estimates.empty and got.projection.empty:
        raise Skip(f"no focus country has a value of {ids[0]}")
    meta = ctx.meta(str(got.estimates["indicator_id"].iloc[0]) if not got.estimates.empty else ids[0])
    return charts.lines(got.estimates, title=f"{meta.title}: estimates and projection", unit=meta.unit,
                        made_by=made_by, marks=marks, marks_label=label, events=_events(ctx),
                        projection=got.projection, projection_label=got.label,
                        notes=[got.note(api.country_names())])


def _events(ctx: ReportContext) -> pd.DataFrame:
    """The dated crises and reforms concerning the focus countries; each chart keeps those of its
    indicator's areas and years."""
    return api.events("FOCUS", processed_dir=ctx.processed_dir)


def _draw_small_multiples(spec: dict, ids: list[str], ctx: ReportContext, made_by: str) -> charts.Chart:
    meta = ctx.meta(ids[0])
    data = _series_or_skip(spec, ids, ctx)
    return charts.small_multiples(data, title=meta.title, unit=meta.unit, made_by=made_by, events=_events(ctx))


def _draw_slope(spec: dict, ids: list[str], ctx: ReportContext, made_by: str) -> charts.Chart:
    meta = ctx.meta(ids[0])
    start = spec["year_from"]
    if isinstance(start, str):
        group = start.removeprefix(MEETING)
        year_from, since = ctx.meeting_year(group), f"first meeting on {group.replace('_', ' ')}"
    else:
        year_from, since = int(start), str(start)
    data = ctx.observed(ids)
    if data.empty:
        raise Skip(f"no values of {ids[0]}")
    return charts.slope(data, year_from, title=f"{meta.title}: {since} and latest year", unit=meta.unit,
                        tolerance=api.tolerance_of(ids[0]), made_by=made_by)


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
        "source_id": first.loc[rem.index, "source_id"].to_numpy(),
        "vintage": first.loc[rem.index, "vintage"].to_numpy(), "projection": False})
    return pd.concat([data, extra], ignore_index=True), rem_id


def _draw_stacked_bars(spec: dict, ids: list[str], ctx: ReportContext, made_by: str) -> charts.Chart:
    meta = ctx.meta(ids[0])
    data = ctx.observed(ids)
    labels = {i: ctx.meta(i).title for i in ids}
    components = list(ids)
    if spec.get("remainder"):
        data, rem_id = _with_remainder(data, ids)
        labels[rem_id] = spec["remainder"]
        components.append(rem_id)
    return charts.stacked_bars(data, components, labels=labels, title=spec.get("title", meta.title),
                               unit=meta.unit, made_by=made_by, notes=spec.get("notes", ()))


def _data_window(data: pd.DataFrame, ids: list[str]) -> tuple[int, int] | None:
    """The latest year of the data and the widest catalogue window of the indicators before it."""
    if data.empty:
        return None
    last = int(data["year"].max())
    return (last - max(api.window_of(i) for i in ids) + 1, last)


def _draw_scatter(spec: dict, ids: list[str], ctx: ReportContext, made_by: str) -> charts.Chart:
    data = ctx.observed(ids)
    mx, my = ctx.meta(ids[0]), ctx.meta(ids[1])
    return charts.scatter(data, ids[0], ids[1], title=f"{my.title} and {mx.title.lower()}",
                          x_label=f"{mx.title} ({mx.unit})", y_label=f"{my.title} ({my.unit})",
                          window=_data_window(data, ids), made_by=made_by)


def _draw_heatmap(spec: dict, ids: list[str], ctx: ReportContext, made_by: str) -> charts.Chart:
    # Latest value per indicator within its own window (the API's rule), so an indicator whose
    # series ends earlier (WPP periods, HALE) is not blanked out by a common window.
    data, _ = ctx.latest(ids)
    metas = [ctx.meta(i) for i in ids]
    return charts.heatmap(data, mode=spec.get("mode", "normalised"), indicator_labels={m.indicator_id: m.title
                                                                                        for m in metas},
                          better={m.indicator_id: m.better for m in metas}, title=spec.get("title"),
                          made_by=made_by, notes=[window_text(ids) + " up to each indicator's latest year."])


def _draw_timeline(spec: dict, ids: list[str], ctx: ReportContext, made_by: str) -> charts.Chart:
    return charts.timeline(ctx.meetings, api.instruments(), made_by=made_by)


def _interval_panels(spec: dict, ids: list[str]) -> list[tuple[str, list[str]]] | None:
    """``panels`` names the panels; the indicators are split among them in order, equally."""
    titles = spec.get("panels")
    if not titles:
        return None
    k = len(ids) // len(titles)
    return [(t, ids[n * k:(n + 1) * k]) for n, t in enumerate(titles)]


def _draw_intervals(spec: dict, ids: list[str], ctx: ReportContext, made_by: str) -> charts.Chart:
    # Latest values with their published bounds (the API's latest-value rule; bounds where a source has them).
    data = with_bounds.latest_with_bounds(ids, "FOCUS", processed_dir=ctx.processed_dir)
    if data["value"].notna().sum() == 0:
        raise Skip(f"no focus country has a value of {', '.join(ids)}")
    panels = _interval_panels(spec, ids)
    per_panel = len(panels[0][1]) if panels else len(ids)
    labels = dict(zip(ids, list(spec.get("labels", ())) * (len(ids) // per_panel))) if spec.get("labels") else None
    return charts.intervals(data, None if panels else ids, panels=panels, labels=labels,
                            connect=spec.get("connect", False), comparison=spec.get("comparison", False),
                            share_x=spec.get("share_x", True),
                            title=spec.get("title", ctx.meta(ids[0]).title), unit=spec.get("unit"),
                            window=api.latest_window(data), notes=spec.get("notes", ()), made_by=made_by)


DRAWERS: dict[str, Drawer] = {
    "ranked_bars": _draw_ranked_bars, "banded_bars": _draw_banded_bars, "lines": _draw_lines,
    "small_multiples": _draw_small_multiples, "slope": _draw_slope, "stacked_bars": _draw_stacked_bars,
    "scatter": _draw_scatter, "heatmap": _draw_heatmap, "timeline": _draw_timeline, "intervals": _draw_intervals,
}


def spec_indicators(spec: dict, store_ids: Iterable[str]) -> list[str]:
    """The indicator ids a spec draws (``"profile"``: the profile indicators present in the store)."""
    if spec["indicators"] == PROFILE:
        present = set(store_ids)
        return [i for ids in profile_groups().values() for i in ids if i in present]
    return list(spec["indicators"])


def draw(spec: dict, ctx: ReportContext) -> charts.Chart:
    """Draw one headline chart (the spec was validated); Skip when the store lacks its data."""
    ids = spec_indicators(spec, ctx.store_ids)
    ctx.require(ids)
    return DRAWERS[spec["kind"]](spec, ids, ctx, f"analysis.report.build_reports ({spec['name']})")


# ----------------------------------------------------------------------------- validation
class ChartSpecError(AnalysisError):
    """A headline chart spec names an unknown kind, group, option or indicator."""


REQUIRED_KEYS = ("name", "group", "kind", "indicators")
OPTIONAL_KEYS = frozenset({"start", "end", "events", "year_from", "remainder", "mode", "title", "notes",
                           "panels", "labels", "connect", "comparison", "unit", "share_x"})
# (fewest, most) indicators per kind; None: no upper limit.
ARITY: dict[str, tuple[int, int | None]] = {"timeline": (0, 0), "scatter": (2, 2), "stacked_bars": (1, None),
                                            "heatmap": (1, None), "intervals": (1, 12)}


def _check_keys(spec: dict, where: str) -> None:
    missing = [k for k in REQUIRED_KEYS if k not in spec]
    if missing:
        raise ChartSpecError(f"{where}: missing {', '.join(missing)}")
    unknown = sorted(set(spec) - set(REQUIRED_KEYS) - OPTIONAL_KEYS)
    if unknown:
        raise ChartSpecError(f"{where}: unknown option(s) {', '.join(unknown)} "
                             f"(known: {', '.join(sorted(OPTIONAL_KEYS))})")


def _check_group(group: object, where: str, what: str) -> None:
    if group not in GROUP_TITLES:
        raise ChartSpecError(f"{where}: unknown {what} {group!r} (known: {', '.join(GROUP_TITLES)})")


def _check_kind_and_groups(spec: dict, where: str) -> None:
    if spec["kind"] not in DRAWERS:
        raise ChartSpecError(f"{where}: unknown chart kind {spec['kind']!r} (known: {', '.join(DRAWERS)})")
    _check_group(spec["group"], where, "population group")
    if spec.get("events") is not None:
        _check_group(spec["events"], where, "events group")
    start = spec.get("year_from")
    if spec["kind"] == "slope" and not (isinstance(start, int) or str(start).startswith(MEETING)):
        raise ChartSpecError(f"{where}: year_from must be a year or '{MEETING}<group>', got {start!r}")
    if isinstance(start, str):
        _check_group(start.removeprefix(MEETING), where, "meeting group")


def _check_indicators(spec: dict, where: str, known: frozenset[str]) -> None:
    ids = spec["indicators"]
    fewest, most = ARITY.get(spec["kind"], (1, 1))
    if ids == PROFILE:
        if most is not None:
            raise ChartSpecError(f"{where}: a {spec['kind']} chart cannot draw the {PROFILE!r} indicators")
        return
    if isinstance(ids, str):
        raise ChartSpecError(f"{where}: indicators must be a list of catalogue ids or {PROFILE!r}, got {ids!r}")
    for indicator_id in ids:
        if indicator_id not in known:
            raise ChartSpecError(f"{where}: unknown indicator {indicator_id!r} (not in data/indicators.toml)")
    if len(ids) < fewest or (most is not None and len(ids) > most):
        wanted = f"{fewest}" if fewest == most else f"at least {fewest}"
        raise ChartSpecError(f"{where}: a {spec['kind']} chart draws {wanted} indicator(s), got {len(ids)}")


def _check_intervals(spec: dict, where: str) -> None:
    """An intervals spec splits its indicators equally among its panels, one label per series of a panel."""
    n, titles = len(spec["indicators"]), spec.get("panels") or [""]
    per_panel = n // len(titles)
    if n % len(titles):
        raise ChartSpecError(f"{where}: {n} indicators cannot be split equally among {len(titles)} panels")
    if spec.get("labels") is not None and len(spec["labels"]) != per_panel:
        raise ChartSpecError(f"{where}: {len(spec['labels'])} labels for {per_panel} series per panel")


def validate_specs(specs: Iterable[dict], catalogue_ids: Iterable[str] | None = None) -> None:
    """Check every spec (keys, kind, groups, indicator ids against the catalogue); the first problem
    is raised as a ChartSpecError naming the spec, e.g. "report chart spec 'x': unknown indicator 'y'"."""
    known = frozenset(catalogue_ids if catalogue_ids is not None else api.catalogue()["indicator_id"])
    seen: set[str] = set()
    for number, spec in enumerate(specs, start=1):
        where = f"report chart spec {spec['name']!r}" if "name" in spec else f"report chart spec #{number}"
        _check_keys(spec, where)
        if spec["name"] in seen:
            raise ChartSpecError(f"{where}: the name is used by an earlier spec (exported files would collide)")
        seen.add(spec["name"])
        _check_kind_and_groups(spec, where)
        _check_indicators(spec, where, known)
        if spec["kind"] == "intervals":
            _check_intervals(spec, where)
