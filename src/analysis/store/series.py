"""The series an output shows for one concept: one number per concept, country and year.

For a country and year covered by an estimate, every chart shows the concept's current series (issue
9). Anything else about the same concept is shown only under an id that says what it is:

- a projection, after the last estimate only, as ``<concept>_<source>_projection``
  (:func:`with_projection`);
- a splice of estimates and a projection, as ``<concept>_spliced`` (:mod:`analysis.store.ageing`);
- an aggregate published by a source (ILO's modelled ASEAN estimate), beside the project's own
  (:func:`published_aggregate`).

:func:`one_number_problems` is the rule a test applies to every figure CSV: two different estimates
of one concept, country and year outside a labelled comparison of sources, or a projection shown for
a year that has an estimate, are problems.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

from analysis.store import api
from analysis.store import reader as store

PROJECTION_SUFFIX = "_projection"
SPLICE_SUFFIX = "_spliced"
#: the variant a source's projections are (UN WPP publishes several; the store holds the medium one)
PROJECTION_VARIANT = {"wpp2019": "medium variant"}


# ----------------------------------------------------------------------------- ids of shown series
def current_series(concept: str) -> str:
    """The indicator id of the concept's current series: the API's rule where the API has one, else
    the catalogue's convention that an older series names the newer id as its concept."""
    rule = getattr(api, "current_series", None)
    if rule is not None:
        return str(rule(concept))
    cat = api.catalogue_model()
    if concept in cat:
        return cat[concept].id
    ids = cat.concepts().get(concept)
    if not ids:
        raise KeyError(f"no indicator measures concept {concept!r} (data/indicators.toml)")
    return ids[0]


def projection_id(concept: str, source_id: str) -> str:
    """The id a projection is shown under: ``pop_65plus_share_wpp2019_projection``."""
    return f"{concept}_{source_id}{PROJECTION_SUFFIX}"


def splice_id(concept: str) -> str:
    """The id a spliced series (estimates joined to a projection) is shown under."""
    return f"{concept}{SPLICE_SUFFIX}"


def concept_of(indicator_id: object) -> str | None:
    """The concept an id shown in an output measures: a catalogue id's ``concept``, or the concept a
    projection or splice id names; None for a chart's own construct (e.g. a remainder to 100 %)."""
    ind = str(indicator_id)
    cat = api.catalogue_model()
    if ind in cat:
        return cat[ind].concept
    stem = None
    if ind.endswith(SPLICE_SUFFIX):
        stem = ind.removesuffix(SPLICE_SUFFIX)
    elif ind.endswith(PROJECTION_SUFFIX):
        base = ind.removesuffix(PROJECTION_SUFFIX)
        stem = next((base.removesuffix(f"_{sid}") for sid in sorted(api.registry().datasets, key=len, reverse=True)
                     if base.endswith(f"_{sid}")), None)
    if stem is not None and stem in set(cat.concepts()):
        return stem
    return None


# ----------------------------------------------------------------------------- projections after estimates
@dataclass
class Projected:
    """Estimates of a concept's current series and a projection shown only after them.

    ``estimates``: the current series' observed rows; ``projection``: the projection rows after each
    country's last estimate, under ``indicator_id``; ``joins``: per country with both, the last
    estimate year, the estimate and the projection source's own value in that year (``gap`` =
    projection source - estimate), which says how far apart the two meet, since no level is adjusted.
    """

    estimates: pd.DataFrame
    projection: pd.DataFrame
    indicator_id: str
    label: str
    joins: pd.DataFrame
    projection_from: int | None

    def note(self, names: dict[str, str] | None = None) -> str:
        """How the two series meet, for a footer."""
        names = names or {}
        text = (f"Dotted, lighter: {self.label}, drawn only after each country's last estimate; no level "
                "adjustment, so where the projection's revision differs from the newer estimates the lines "
                "do not meet")
        big = self.joins.dropna(subset=["gap"])
        if big.empty:
            return text + "."
        worst = big.loc[big["gap"].abs().idxmax()]
        side = "above" if worst["gap"] > 0 else "below"
        return (f"{text} (widest in the last estimate year: {names.get(worst['iso3'], worst['iso3'])}, "
                f"{int(worst['year'])}: the projection {abs(worst['gap']):.1f} {side} the estimate).")


def split_after_estimates(estimates: pd.DataFrame, projection_source: pd.DataFrame,
                          new_id: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The projection rows (``projection`` True) of ``projection_source`` after each country's last
    estimate (all of them for a country without estimates), renamed ``new_id``; and the joins (iso3,
    year of the last estimate, estimate, projection source's value that year, gap). Pure."""
    est = estimates.loc[~estimates["projection"].fillna(False).astype(bool) & estimates["value"].notna()]
    last = est.groupby("iso3", observed=True)["year"].max()
    proj = projection_source.loc[projection_source["projection"].fillna(False).astype(bool)
                                 & projection_source["value"].notna()]
    after = proj["year"].to_numpy() > proj["iso3"].map(last).fillna(-math.inf).to_numpy()
    shown = proj.loc[after].assign(indicator_id=new_id).reset_index(drop=True)
    at_join = est.merge(last.rename("last").reset_index(), on="iso3")
    at_join = at_join.loc[at_join["year"] == at_join["last"], ["iso3", "year", "value"]]
    theirs = projection_source.loc[:, ["iso3", "year", "value"]].rename(columns={"value": "projection_source"})
    joins = at_join.rename(columns={"value": "estimate"}).merge(theirs, on=["iso3", "year"], how="left")
    joins = joins.assign(gap=joins["projection_source"] - joins["estimate"])
    return shown, joins.sort_values("iso3").reset_index(drop=True)


def projection_from(indicator_id: str) -> int | None:
    """The catalogue's first projection year of an indicator, or of the inputs it is derived from."""
    cat = api.catalogue_model()
    ind = cat[indicator_id]
    if ind.projection_from is not None:
        return int(ind.projection_from)
    inputs = [projection_from(i) for i in (ind.derive.of if ind.derive is not None else ())]
    known = [y for y in inputs if y is not None]
    return min(known) if known else None


def projection_label(source_id: str) -> str:
    """"projection, World Population Prospects 2019, medium variant": the revision it comes from."""
    ds = api.registry().datasets.get(source_id)
    title = ds.title if ds is not None else source_id
    variant = PROJECTION_VARIANT.get(source_id)
    return f"projection, {title}" + (f", {variant}" if variant else "")


def with_projection(projection_indicator: str, countries: api.Countries = "FOCUS", years: api.Years = None,
                    processed_dir=None) -> Projected:
    """The concept's current estimates and ``projection_indicator``'s projection after them."""
    concept = api.catalogue_model()[projection_indicator].concept
    current = current_series(concept)
    est = api.load(current, countries=countries, years=years, include_projections=False, names=False,
                   processed_dir=processed_dir)
    source = api.load(projection_indicator, countries=countries, years=years, names=False,
                      processed_dir=processed_dir)
    sources = source.loc[source["projection"].to_numpy(dtype=bool), "source_id"].dropna().astype(str).unique()
    source_id = sources[0] if len(sources) else str(api.catalogue_model()[projection_indicator].source or "")
    new_id = projection_id(concept, source_id)
    shown, joins = split_after_estimates(est, source, new_id)
    return Projected(estimates=est, projection=shown, indicator_id=new_id, label=projection_label(source_id),
                     joins=joins, projection_from=projection_from(projection_indicator))


# ----------------------------------------------------------------------------- aggregates the sources publish
@dataclass(frozen=True)
class PublishedAggregate:
    """An aggregate a source publishes for one of the project's groups, and how it is labelled."""

    source_id: str
    geo_scheme: str
    geo: str
    label: str
    why: str


#: ILO's code of ASEAN is x84 (data/raw/extracts/ilostat/ddf--entities--ref_area.csv)
PUBLISHED = {"ASEAN": (PublishedAggregate(
    "ilostat", "ilo", "x84", "ILO modelled estimate for ASEAN (imputes countries without data)",
    "ILO imputes the countries without data; the project's median uses observed countries only"),)}


def published_aggregate(indicator_id: str, group: str = "ASEAN", processed_dir=None) -> pd.DataFrame:
    """The aggregates sources publish for ``group`` of an indicator (current vintage): label, why,
    source_id, geo, year, value, unit, vintage, projection; empty when no source publishes one."""
    cols = ["label", "why", "source_id", "geo", "indicator_id", "year", "value", "unit", "vintage", "projection"]
    rows = store.read_source_aggregates([indicator_id], processed_dir=processed_dir)
    parts = []
    for pub in PUBLISHED.get(group, ()):
        hit = rows.loc[((rows["source_id"] == pub.source_id) & (rows["geo_scheme"] == pub.geo_scheme)
                        & (rows["geo"] == pub.geo)).to_numpy(dtype=bool)]
        parts.append(hit.assign(label=pub.label, why=pub.why))
    parts = [p for p in parts if not p.empty]
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in cols})
    out = pd.concat(parts, ignore_index=True).loc[:, cols]
    return out.astype({"year": "int64", "value": "float64"}).sort_values(["source_id", "year"]).reset_index(drop=True)


# ----------------------------------------------------------------------------- the rule over every output
#: relative difference below which two printed values are the same number (CSV keeps 6 significant digits)
SAME_NUMBER = 1e-5


def _rows_with_concepts(rows: pd.DataFrame) -> pd.DataFrame:
    d = rows.loc[rows["value"].notna() & rows["year"].notna()]
    if "group" in d.columns:
        d = d.loc[(d["group"] != "aggregate").fillna(True).to_numpy(dtype=bool)]
    ids = d["indicator_id"].astype(str)
    concepts = {i: concept_of(i) for i in ids.unique()}
    d = d.assign(concept=ids.map(concepts), year=d["year"].astype("int64"),
                 projection=d["projection"].fillna(False).astype(bool) if "projection" in d else False)
    return d.loc[d["concept"].notna()]


def _differ(values: pd.Series) -> bool:
    lo, hi = float(values.min()), float(values.max())
    return hi - lo > SAME_NUMBER * max(abs(lo), abs(hi), 1e-12)


def one_number_problems(rows: pd.DataFrame, estimates: pd.DataFrame | None = None) -> list[str]:
    """Where the outputs show more than one number for a concept, country and year.

    ``rows``: every figure CSV's rows stacked, with ``chart`` (its name) and ``comparison`` (True for a
    chart whose metadata says it is a labelled comparison of sources); group aggregates and ids of no
    concept are not compared. ``estimates``: optionally the store's current estimates (concept, iso3,
    year), so a projection over an estimate that no chart shows is found too. Returns one line per
    problem: two estimates that differ outside a comparison, or a projection in an estimated year.
    """
    d = _rows_with_concepts(rows)
    problems = []
    plain = d.loc[~d["comparison"].astype(bool)]
    est = plain.loc[~plain["projection"]]
    for (concept, iso3, year), part in est.groupby(["concept", "iso3", "year"], sort=True):
        if _differ(part["value"]):
            shown = "; ".join(f"{r.chart} {r.indicator_id} = {r.value:g}" for r in part.itertuples())
            problems.append(f"{concept}, {iso3}, {year}: different estimates ({shown})")
    known = est.loc[:, ["concept", "iso3", "year"]]
    if estimates is not None:
        known = pd.concat([known, estimates.loc[:, ["concept", "iso3", "year"]]], ignore_index=True)
    keys = set(known.astype({"year": "int64"}).itertuples(index=False, name=None))
    for r in plain.loc[plain["projection"]].itertuples():
        if (r.concept, r.iso3, r.year) in keys:
            problems.append(f"{r.concept}, {r.iso3}, {r.year}: projection shown in an estimated year "
                            f"({r.chart} {r.indicator_id} = {r.value:g})")
    return problems


def current_estimates(concepts: Iterable[str], processed_dir=None) -> pd.DataFrame:
    """(concept, iso3, year) of every observed value of each concept's current series in the store."""
    parts = []
    for concept in sorted(set(concepts)):
        ind = current_series(concept)
        if ind not in api.indicator_ids(processed_dir):
            continue
        d = api.load(ind, include_projections=False, names=False, processed_dir=processed_dir)
        parts.append(d.loc[:, ["iso3", "year"]].assign(concept=concept))
    if not parts:
        return pd.DataFrame({"concept": [], "iso3": [], "year": []})
    return pd.concat(parts, ignore_index=True).astype({"iso3": "string", "year": "int64"})
