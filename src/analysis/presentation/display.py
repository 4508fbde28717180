"""Display helpers for the notebooks: one set-up, tables printed as stable text, charts exported and shown.

Every notebook starts with ``nb = setup(NOTEBOOK, countries=COUNTRIES)`` (the same pandas options and
chart style everywhere, the countries and years resolved once, figures in ``<figures>/<NOTEBOOK>/``) and
then only loads, calls the package and shows. Tables print rounded, with gaps written as "–"; charts
are exported with ``charts.save`` and shown inline; nothing prints a machine path, an object address or
a time. Latest values and windows are the API's (the catalogue's windows), as in the chart pack.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pandas as pd

from analysis.core import paths
from analysis.core.errors import AnalysisError
from analysis.presentation import charts
from analysis.presentation.charts.common import indicator_year_label
from analysis.presentation.charts.export import figures_dir
from analysis.presentation.groups import GROUP_TITLES
from analysis.store import api, series
from analysis.store import intervals as with_bounds
from analysis.store import messages as key_messages

NO_DATA = "–"
#: the NOTEBOOK parameter names the notebook's figure folder (the runner may set another folder)
FOLDER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
#: wide enough that printed frames do not wrap inside a notebook cell
PANDAS_OPTIONS = {"display.width": 140, "display.max_columns": 40, "display.max_colwidth": 80}


# ------------------------------------------------------------------------------------------ set-up


@dataclass(frozen=True, eq=False)
class Notebook:
    """What a notebook needs after :func:`setup`: its name, countries and years, and the catalogue."""

    name: str
    countries: tuple[str, ...]  # ISO3, in the charts' order
    years: tuple[int | None, int | None]  # (first, last); None = open
    catalogue: pd.DataFrame  # indexed by indicator_id

    @property
    def made_by(self) -> str:
        """What the exported figures record as their maker (the notebook the folder is named after)."""
        return f"notebooks/{self.name}.ipynb"

    @property
    def figures(self) -> str:
        """The folder the notebook's figures go to, as ``charts.save`` writes them."""
        return shown_location(figures_dir() / self.name, self.name)

    @property
    def table_countries(self) -> list[str]:
        """The countries in the tables' order (the API's display order, then any others)."""
        shown = api.display_order()
        return [i for i in shown if i in self.countries] + [i for i in self.countries if i not in shown]

    def names(self) -> dict[str, str]:
        """ISO3 -> display name of the notebook's countries."""
        return api.country_names(self.countries)

    def show(self, chart, name: str) -> None:
        """Export ``chart`` as ``<figures>/<name>.*`` and display it (see :func:`show`)."""
        show(chart, name, self.name)

    def title(self, indicator_id: str) -> str:
        return str(self._entry(indicator_id, "title"))

    def unit(self, indicator_id: str) -> str:
        return str(self._entry(indicator_id, "unit"))

    def titles(self, indicator_ids: Iterable[str]) -> dict[str, str]:
        return {i: self.title(i) for i in indicator_ids}

    def indicators(self, value: str | Sequence[str], parameter: str) -> list[str]:
        """The indicator ids of a notebook parameter, each checked against the catalogue."""
        return self.choose(value, list(self.catalogue.index), parameter, what="indicator ids",
                           hint="see analysis.catalogue() for the ids")

    def choose(self, value: str | Sequence[str], allowed: Sequence[str], parameter: str, what: str = "values",
               hint: str = "") -> list[str]:
        """The items of a list parameter (a list, or items separated by commas as the runner's
        ``-p NAME VALUE`` passes them), each one of ``allowed``; else an AnalysisError naming it."""
        items = split_list(value)
        unknown = [i for i in items if i not in set(allowed)]
        if unknown or not items:
            problem = f"unknown {what}: {', '.join(unknown)}" if items else f"no {what} given"
            raise AnalysisError(f"{self.made_by}, parameter {parameter}: {problem} "
                                f"({hint or 'allowed: ' + ', '.join(allowed)})")
        return items

    def _entry(self, indicator_id: str, field: str) -> object:
        if indicator_id not in self.catalogue.index:
            raise AnalysisError(f"{self.made_by}: indicator {indicator_id!r} is not in data/indicators.toml "
                                "(see analysis.catalogue() for the ids)")
        return self.catalogue.at[indicator_id, field]


def setup(notebook: str, countries: str | Sequence[str] = "FOCUS",
          years: Sequence[int | None] | None = None) -> Notebook:
    """The common start of every notebook: pandas display options, the chart style, countries and years.

    ``countries`` is the notebook parameter: a group name (``"FOCUS"``, ``"ASEAN"``, ``"ASEAN+3"``, ...),
    one ISO3 code or a list mixing both (or a text separating them by commas). It is resolved once, in
    the charts' order (focus countries as drawn everywhere, then others as given). ``years`` is
    ``[first, last]`` or the text ``"first-last"`` (either end may be left open). A wrong parameter is
    an AnalysisError naming the notebook and the parameter.
    """
    if not FOLDER_NAME.match(str(notebook)):
        raise AnalysisError(f"notebooks/{notebook}.ipynb: the NOTEBOOK parameter names a figure folder: "
                            "letters, digits, '.', '_' or '-', starting with a letter or digit")
    where = f"notebooks/{notebook}.ipynb"
    span = year_span(years, where=f"{where}, parameter YEARS")
    iso3 = resolve_countries(countries, where=f"{where}, parameter COUNTRIES")
    for option, value in PANDAS_OPTIONS.items():
        pd.set_option(option, value)
    charts.use_style()
    return Notebook(name=notebook, countries=tuple(iso3), years=span,
                    catalogue=api.catalogue().set_index("indicator_id"))


def split_list(value: str | Sequence[str]) -> list[str]:
    """A list parameter as a list: a text is split at commas (what ``-p NAME VALUE`` can pass)."""
    items = value.split(",") if isinstance(value, str) else list(value)
    return [str(i).strip() for i in items if str(i).strip()]


def _as_span(years: Sequence[int | None] | str) -> list | None:
    """``[first, last]`` from a list or from a text ``"2000-2020"`` (``"2000-"``, ``"-2020"``); else None."""
    if isinstance(years, str):
        match = re.fullmatch(r"\s*(\d{4})?\s*-\s*(\d{4})?\s*", years)
        return [int(y) if y else None for y in match.groups()] if match else None
    return list(years) if isinstance(years, (list, tuple)) else None


def year_span(years: Sequence[int | None] | str | None, where: str = "years") -> tuple[int | None, int | None]:
    """``[first, last]`` (or ``"first-last"``) as a tuple the API reads as a range; None is the open range."""
    if years is None:
        return (None, None)
    span = _as_span(years)
    ok = span is not None and len(span) == 2 and all(y is None or type(y) is int for y in span)
    if not ok or (None not in span and span[0] > span[1]):
        raise AnalysisError(f"{where}: expected [first, last] or \"first-last\" years (either end may be open, "
                            f"first <= last), got {years!r}")
    return (span[0], span[1])


def resolve_countries(countries: str | Sequence[str], where: str = "countries") -> list[str]:
    """ISO3 codes of a countries parameter, focus countries first in the charts' order.

    An unknown code or group is an AnalysisError naming ``where`` (a typo must not read as a gap).
    """
    try:
        iso3 = api.resolve_countries(split_list(countries))
    except ValueError as err:
        raise AnalysisError(f"{where}: {err}") from None
    if not iso3:
        raise AnalysisError(f"{where}: give a group name or ISO3 codes (all economies do not fit a chart)")
    chart_order = charts.focus_iso3()
    focus = [i for i in chart_order if i in iso3]
    return focus + [i for i in iso3 if i not in chart_order]


# ------------------------------------------------------------------------------------------ tables


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


def latest_table(indicators, countries: str | Sequence[str] = "FOCUS", window: int | None = None, digits: int = 1):
    """Latest value per country (rows, the API's display order) x indicator (columns) as text "value (year)".

    A cell is "–" when the country has no value in the indicator's latest-value window (the
    catalogue's, unless ``window`` is given).
    """
    ids = [indicators] if isinstance(indicators, str) else list(indicators)
    lat = api.latest(ids, countries=countries, window=window)
    cell = [NO_DATA if pd.isna(v) else f"{v:.{digits}f} ({indicator_year_label(i, y)})"
            for i, v, y in zip(lat["indicator_id"], lat["value"], lat["year"])]
    wide = lat.assign(cell=cell).pivot(index="iso3", columns="indicator_id", values="cell")
    shown = api.display_order()
    order = [i for i in shown if i in wide.index] + [i for i in wide.index if i not in shown]
    names = api.country_names(order)
    wide = wide.reindex(index=order, columns=ids)
    wide.index = [names[i] for i in order]
    wide.index.name = "country"
    wide.columns.name = None
    return wide.reset_index()


def window_note(indicators: Iterable[str]) -> str:
    """How far back a "latest value" may lie for these indicators (their catalogue windows), in words."""
    windows = sorted({api.window_of(i) for i in indicators})
    if not windows:
        return "No indicators."
    span = f"{windows[0]}" if len(windows) == 1 else f"{windows[0]} to {windows[-1]}"
    return f"Latest value within the last {span} years up to each indicator's newest year in the store."


def vintage_table(newer: str, older: str, countries: str | Sequence[str] = "FOCUS") -> pd.DataFrame:
    """:func:`compare_vintages` of two indicators of one concept, labelled with their catalogue sources."""
    source = api.catalogue().set_index("indicator_id")["source"]
    labels = [str(source.get(i)) if pd.notna(source.get(i)) else i for i in (newer, older)]
    if labels[0] == labels[1]:
        labels = [newer, older]
    table = compare_vintages(api.latest(newer, countries=countries), api.latest(older, countries=countries), *labels)
    # the merge sorts by ISO3; tables list countries in the display order
    order = {name: k for k, name in enumerate(api.country_names(api.display_order()).values())}
    rank = table["country"].map(lambda c: order.get(c, len(order)))
    return table.assign(_rank=rank).sort_values(["_rank", "country"], kind="stable").drop(columns="_rank") \
        .reset_index(drop=True)


def band_table(indicators: Iterable[str], country: str, group: str = "ASEAN") -> pd.DataFrame:
    """Per indicator: ``country``'s latest value and year beside the group median of its members' latest
    values ("n of N" members reporting) and the band: above / within / below the median ± one median
    absolute deviation (at least the catalogue's smallest meaningful difference), as better / worse
    where the catalogue gives a direction. The chart pack's country profiles apply the same rules.
    """
    ids = tuple(dict.fromkeys(indicators))
    members = api.members(group)
    # A focus country's row comes from the bands of every focus country at once (see _group_bands).
    focus = api.members("FOCUS")
    together = tuple(dict.fromkeys([*focus, country])) if country in focus else (country,)
    cat = api.catalogue().set_index("indicator_id")
    rows = []
    for ind, (part, judged) in zip(ids, _group_bands(ids, group, together)):
        year = part.at[country, "year"]
        rows.append({"indicator": str(cat.at[ind, "title"]), "value": part["value"].astype("float64").get(country),
                     "year": pd.NA if pd.isna(year) else indicator_year_label(ind, year),
                     f"{group} median": float(judged.at[country, "center"]),
                     "members reporting": f"{int(judged.at[country, 'n'])} of {len(members)}",
                     "band": str(judged.at[country, "band"]), "unit": str(cat.at[ind, "unit"])})
    return pd.DataFrame(rows).astype({"year": "string"})


Bands = list[tuple[pd.DataFrame, pd.DataFrame]]


def _group_bands(ids: tuple[str, ...], group: str, countries: tuple[str, ...]) -> Bands:
    """Per indicator: the latest rows of ``countries`` and the group's members (indexed by ISO3), and the
    band of each of ``countries`` against the members (``api.band``, judged by the catalogue direction).

    A band's median and spread are the members' alone and each country is placed in it on its own, so the
    bands of several countries at once are those of each one. Kept per store version: a kernel executes
    one focus country's profile after another, and the band computations cost more than the rest of a table.
    """
    version = api.store_version()
    if version is None:
        return _bands_of(ids, group, countries)
    return _kept_bands(version, ids, group, countries)


@lru_cache(maxsize=8)
def _kept_bands(version: tuple, ids: tuple[str, ...], group: str,
                countries: tuple[str, ...]) -> Bands:
    return _bands_of(ids, group, countries)


def _bands_of(ids: tuple[str, ...], group: str, countries: tuple[str, ...]) -> Bands:
    members = api.members(group)
    lat = api.latest(list(ids), countries=list(dict.fromkeys([*countries, *members])))
    out = []
    for ind in ids:
        part = lat.loc[lat["indicator_id"] == ind].set_index("iso3")
        values = part["value"].astype("float64")
        b = api.band(values.reindex(list(countries)), reference=values.reindex(members),
                     min_difference=api.min_difference_of(ind))
        out.append((part, b.assign(band=api.judge(b["band"], api.direction_of(ind)))))
    return out


# ------------------------------------------------------------------------------------------ charts


def shown_location(path: Path, folder: str) -> str:
    """A written file or folder as a notebook may print it: project-relative, else by its figure folder.

    A staging folder outside the checkout has no project-relative name, and a machine path must never
    reach a notebook's output.
    """
    where = paths.relative_to_root(path)
    if not Path(where).is_absolute():
        return where
    return folder if path.name == folder else f"{folder}/{path.name}"


_ATTRIBUTE = re.compile(r'="([^"]*)"')


def inline_svg(svg: str) -> str:
    """An SVG file as a notebook shows it: from its ``<svg>`` element on, line breaks inside attribute
    values as spaces (what an XML parser makes of them, as IPython's SVG does, without parsing the
    whole document: one line per element keeps the committed notebooks small)."""
    body = svg[svg.index("<svg"):].rstrip("\n")
    return _ATTRIBUTE.sub(lambda m: '="' + m.group(1).replace("\n", " ") + '"', body)


def show(chart, name: str, notebook: str) -> None:
    """Export ``chart`` to ``<figures>/<notebook>/<name>.*`` and display it inline.

    Prints only the location of the exported files (see :func:`shown_location`).
    """
    from IPython.display import display

    written = charts.save(chart, name, subdir=notebook, made_by=f"notebooks/{notebook}.ipynb")
    # The SVG save() just wrote, not a second drawing: smaller than a PNG, deterministic, and text.
    display({"image/svg+xml": inline_svg(written["svg"].read_text(encoding="utf-8"))}, raw=True)
    stem = shown_location(written["png"], notebook).removesuffix(".png")
    print(f"Files: {stem}.png, .svg, .pdf; .csv holds the plotted values, .json the sources")
    chart.close()


def latest_values(indicators: str | Iterable[str],
                  countries: str | Sequence[str] = "FOCUS") -> tuple[pd.DataFrame, tuple[int, int] | None]:
    """The API's latest values (each indicator's catalogue window) and that window as (first, last) year.

    The window is the widest one ending at the newest reference year, as the chart footers state it.
    """
    latest = api.latest(indicators, countries=countries)
    return latest, api.latest_window(latest)


def latest_bars(indicator: str, countries: str | Sequence[str] = "FOCUS", **kwargs):
    """Banded bars of one indicator's latest values within its catalogue window, coloured better / worse
    by its catalogue direction, titled with its catalogue title: the chart pack's bar chart."""
    data, window = latest_values(indicator, countries)
    meta = api.catalogue().set_index("indicator_id").loc[indicator]
    chart_countries = resolve_countries(countries)
    kwargs = {"title": str(meta["title"]), "unit": str(meta["unit"]),
              "published": series.published_aggregate(indicator), **kwargs}
    return charts.banded_bars(data, better=api.direction_of(indicator), window=window, countries=chart_countries,
                              **kwargs)


def latest_scatter(x: str, y: str, countries: str | Sequence[str] = "FOCUS", **kwargs):
    """Latest ``y`` against latest ``x`` per country (each within its catalogue window), axes and title
    from the catalogue: the chart pack's scatter."""
    data, window = latest_values([x, y], countries)
    cat = api.catalogue().set_index("indicator_id")
    label = {i: f"{cat.at[i, 'title']} ({cat.at[i, 'unit']})" for i in (x, y)}
    kwargs = {"title": f"{cat.at[y, 'title']} and {str(cat.at[x, 'title']).lower()}", "x_label": label[x],
              "y_label": label[y], **kwargs}
    return charts.scatter(data, x, y, window=window, countries=resolve_countries(countries), **kwargs)


def projection_chart(indicator: str, countries: str | Sequence[str] = "FOCUS",
                     years: Sequence[int | None] | None = None, kind: str = "lines", **kwargs):
    """A projecting indicator (e.g. ``old_age_dependency_ratio_wpp``) as the chart pack draws it: its
    concept's current estimates, then the projection as its own, lighter series after each country's last
    estimate (one number per concept, country and year; the footer says how the two meet).
    ``kind``: "lines" or "small_multiples"; the title defaults to the current series' catalogue title."""
    drawn = resolve_countries(countries)
    got = series.with_projection(indicator, countries=drawn, years=year_span(years))
    shown = str(got.estimates["indicator_id"].iloc[0]) if not got.estimates.empty else indicator
    title = api.catalogue().set_index("indicator_id").at[shown, "title"]
    draw = {"lines": charts.lines, "small_multiples": charts.small_multiples}[kind]
    kwargs = {"title": f"{title}: estimates and projection", **kwargs}
    notes = [got.note(api.country_names(drawn)), *kwargs.pop("notes", ())]
    return draw(got.estimates, countries=drawn, projection=got.projection, projection_label=got.label, notes=notes,
                **kwargs)


def latest_intervals(indicators: Sequence[str], countries: str | Sequence[str] = "FOCUS", *,
                     panels: Sequence[str] | None = None, labels: Sequence[str] | None = None, **kwargs):
    """Latest value per country of each indicator as dots, with the published uncertainty interval where
    the source gives one (the chart pack's intervals chart). ``panels`` names panels among which the
    indicators are split in order, equally; ``labels`` names the series of a panel (default: Female/Male
    for the sex ids); other keywords go to ``charts.intervals`` (``connect``, ``comparison``, ``title``...)."""
    ids = list(indicators)
    data = with_bounds.latest_with_bounds(ids, countries)
    split = None
    if panels:
        k = len(ids) // len(panels)
        split = [(title, ids[n * k:(n + 1) * k]) for n, title in enumerate(panels)]
    per_panel = len(split[0][1]) if split else len(ids)
    names = dict(zip(ids, list(labels) * (len(ids) // per_panel))) if labels else None
    title = api.catalogue().set_index("indicator_id").at[ids[0], "title"]
    kwargs = {"title": str(title), **kwargs}
    return charts.intervals(data, None if split else ids, panels=split, labels=names, window=api.latest_window(data),
                            countries=resolve_countries(countries), **kwargs)


def sex_gap_table(indicator: str, countries: str | Sequence[str] = "FOCUS") -> pd.DataFrame:
    """Latest female and male value and female minus male per country (``api.sex_gap``: both from one source
    and vintage, never across two), within the indicator's catalogue window; "–" where a country has none."""
    gap = api.sex_gap(indicator, countries)
    unit = str(gap["unit"].iloc[0]) if not gap.empty else ""
    if not gap.empty:
        gap = gap.loc[gap["year"] > int(gap["year"].max()) - api.window_of(indicator)]
    last = gap.sort_values(["iso3", "year"]).groupby("iso3").tail(1).set_index("iso3")
    iso3 = resolve_countries(countries)
    shown = api.display_order()
    order = [i for i in shown if i in iso3] + [i for i in iso3 if i not in shown]
    table = last.reindex(order)
    return pd.DataFrame({"country": [api.country_names(order)[i] for i in order],
                         "year": pd.array(table["year"], dtype="Int64"), "female": table["female"].to_numpy(),
                         "male": table["male"].to_numpy(), f"female − male ({unit})": table["value"].to_numpy()})


def profile_trend(indicator: str, country: str, years: Sequence[int | None] | None = None, **kwargs):
    """One indicator over time for ``country`` among the ASEAN members, with the ASEAN median.

    Every member is drawn beside the country: the chart kinds take the median over the ASEAN members
    they draw, so drawing the country alone would make the "median" that of the country itself.
    """
    drawn = list(dict.fromkeys([country, *api.members("ASEAN")]))
    data = api.load(indicator, countries=drawn, years=year_span(years), include_projections=False)
    name = api.country_names([country])[country]
    unit = api.catalogue().set_index("indicator_id").at[indicator, "unit"]
    kwargs = {"subtitle": f"{unit}; {name} among the ASEAN members", "events": api.events(drawn), **kwargs}
    return charts.lines(data, countries=drawn, **kwargs)


# ------------------------------------------------------------------------------------------ key messages


def show_messages(group: str | Sequence[str] | None = None, *, country: str | None = None,
                  kinds: Sequence[str] | None = None) -> None:
    """The generated key messages (:mod:`analysis.store.messages`) of one or more population groups (None:
    all), or of one ``country``, optionally only some ``kinds``: shown as an HTML list, with the same
    sentences as plain text, so nbval compares the text and a data refresh that changes one shows up."""
    from IPython.display import display

    if country is not None:
        sections = [(f"Key messages: {api.country_names([country])[country]}", key_messages.country_messages(country))]
    else:
        groups = key_messages.GROUPS if group is None else [group] if isinstance(group, str) else list(group)
        found = key_messages.messages_by_group(groups)  # the store read once for every group shown
        sections = [(f"Key messages: {GROUP_TITLES.get(g, g)}", found[g]) for g in groups]
    sections = [(title, [m for m in items if kinds is None or m.kind in kinds]) for title, items in sections]
    text = "\n\n".join(title + "".join(f"\n- {m.text}" for m in items or []) for title, items in sections)
    markup = "".join(f"<h4>{html.escape(title)}</h4><ul>" + "".join(f"<li>{html.escape(m.text)}</li>" for m in items)
                     + "</ul>" for title, items in sections)
    display({"text/plain": text, "text/html": markup}, raw=True)
