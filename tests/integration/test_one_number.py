"""One number per concept, country and year in every figure the REAL main job wrote (chart pack and
notebooks): the check of analysis.store.series.one_number_problems over every figure CSV.

Uses the session's one run of the main job (``main_job``, tests/conftest_job.py). The checker itself is
tested on synthetic CSVs in tests/unit/test_projections.py (one set that must fail, one that must pass).
"""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.store import series
from figure_csvs import figure_rows

pytestmark = pytest.mark.integration
pytest_plugins = ["conftest_job"]


@pytest.fixture(scope="module")
def figures(main_job) -> pd.DataFrame:
    assert main_job.returncode == 0, main_job.output[-3000:]
    rows = figure_rows(main_job.root / "reports" / "figures")
    assert not rows.empty, "the main job wrote no figure CSV with its JSON"
    return rows


def _stored_estimates(rows: pd.DataFrame, processed) -> pd.DataFrame:
    """The store's current estimates of every concept a figure shows a projection of."""
    shown = rows.loc[rows["projection"], "indicator_id"].dropna().astype(str).unique()
    concepts = {c for c in (series.concept_of(i) for i in shown) if c is not None}
    return series.current_estimates(concepts, processed_dir=processed)


def test_every_figure_shows_one_number_per_concept_country_and_year(figures, main_job):
    charts = set(figures["chart"])
    # the pack's figures (pack/) and the notebooks' (a folder per notebook) are both read
    assert any(c.startswith("pack/") for c in charts) and any(c.startswith("01_older_persons/") for c in charts)
    estimates = _stored_estimates(figures, main_job.root / "data" / "processed")
    problems = series.one_number_problems(figures, estimates=estimates)
    assert not problems, f"{len(problems)} problem(s):\n" + "\n".join(problems[:40])


def test_projections_and_splices_are_named_series(figures):
    proj = figures.loc[figures["projection"] & figures["indicator_id"].notna()]
    # (ids of no concept, e.g. the pyramids' WPP age groups, have no estimate to be confused with)
    for ind in [i for i in proj["indicator_id"].astype(str).unique() if series.concept_of(i) is not None]:
        # a projection or splice never borrows the plain id of an estimate series
        assert ind.endswith((series.PROJECTION_SUFFIX, series.SPLICE_SUFFIX)), f"projection rows under {ind}"


def test_ilo_asean_aggregate_beside_the_median_on_sdg_131_coverage(figures):
    pension = figures.loc[figures["chart"].str.endswith("-older-pension-coverage.csv")
                          & figures["chart"].str.startswith("pack/")]
    assert pension["chart"].nunique() == 1
    published = pension.loc[pension["group"] == "aggregate"]
    ilo = [p for p in series.PUBLISHED["ASEAN"] if p.source_id == "ilostat"][0]
    assert (published["iso3"] == ilo.geo).sum() == 1
    assert (published["iso3"] == "ASEAN").sum() == 1  # the project's own median, beside it
