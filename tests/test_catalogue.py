"""The indicator catalogue: the real data/indicators.toml (metadata, no data values) and validation rules."""

from __future__ import annotations

import math

import pytest

from analysis.config.catalogue import DOMAINS, GROUPS, CatalogueError, load_catalogue
from analysis.config.registry import load_registry
from conftest import SYNTHETIC_CATALOGUE, make_synthetic_project


@pytest.fixture(scope="module")
def catalogue():
    return load_catalogue()


def test_catalogue_size_and_required_ids(catalogue):
    assert len(catalogue) >= 45
    required = {
        "pop_total", "pop_65plus_share", "pop_65plus_share_wpp", "pop_80plus_share_wpp", "old_age_dependency_ratio",
        "old_age_dependency_ratio_wpp", "life_expectancy_birth", "life_expectancy_60_wpp", "hale_birth", "le_hale_gap",
        "under5_mortality", "infant_mortality", "neonatal_mortality", "stunting", "wasting", "measles_immunisation",
        "dtp3_immunisation", "birth_registration", "maternal_mortality", "skilled_birth_attendance",
        "antenatal_care", "adolescent_fertility", "uhc_service_coverage", "physicians_per_1000",
        "nurses_midwives_per_1000", "hospital_beds_per_1000", "che_gdp", "oop_share_che", "gov_share_che",
        "gov_health_exp_gge", "oop_share_che_wb", "gov_health_exp_pc_ppp", "catastrophic_health_spending_10",
        "catastrophic_health_spending_25", "surgical_catastrophic_risk", "surgical_impoverishing_risk",
        "poverty_intl_line", "poverty_national_line", "gini", "gdp_pc_ppp", "urban_share",
        "unemployment_rate_disability", "unemployment_rate_no_disability",
        "social_assistance_cov_q1", "social_assistance_cov", "social_insurance_cov_q1", "social_insurance_cov",
    }
    for contingency in ("total", "pension", "children", "maternity", "disability", "vulnerable", "unemployed",
                        "work_injury"):
        required |= {f"sp_cov_{contingency}", f"sp_cov_{contingency}_sdg2020"}
    assert required <= set(catalogue.ids)


def test_every_cell_has_an_indicator_or_a_gap(catalogue):
    matrix = catalogue.coverage_matrix()
    assert list(matrix.index) == list(GROUPS) and list(matrix.columns) == list(DOMAINS)
    assert (matrix.map(lambda text: bool(text))).all().all()
    assert catalogue.uncovered_cells() == []
    assert matrix.loc["older_persons", "care"].startswith("gap: ")


def test_selects_and_projections(catalogue):
    assert catalogue["sp_cov_maternity"].select == {"classif1": "soc_contig_mat", "sex": "sex_f"}
    assert catalogue["sp_cov_pension_sdg2020"].select == {"sex": "bothsex"}
    assert catalogue["oop_share_che"].select["unit"] == "percent of health expenditure"
    wpp = catalogue["pop_65plus_wpp"]
    assert wpp.combine == "sum" and len(wpp.file_ids) == 14 and wpp.projection_from == 2021
    assert catalogue["life_expectancy_60_wpp"].period == 5
    assert catalogue["old_age_dependency_ratio"].derive.of == ("pop_65plus_share", "pop_15_64_share")


def test_bounds_default_from_unit(catalogue):
    bounds = catalogue.bounds()
    assert bounds["pop_65plus_share"] == (0.0, 100.0)
    assert bounds["pop_total"] == (0.0, math.inf)
    assert bounds["under5_mortality"] == (0.0, 1000.0)


def test_to_frame(catalogue):
    frame = catalogue.to_frame()
    assert len(frame) == len(catalogue)
    row = frame.set_index("indicator_id").loc["old_age_dependency_ratio"]
    assert row["derive"] == "ratio(pop_65plus_share, pop_15_64_share) x 100"
    assert frame["indicator_id"].is_unique


def test_files_named_exist_in_registry(catalogue):
    registry = load_registry()
    for file_id in catalogue.needed_files():
        assert registry.file(file_id).role == "data"


def test_derivation_order(catalogue):
    order = [ind.id for ind in catalogue.derivation_order()]
    assert set(order) == {i.id for i in catalogue if i.is_derived}
    for pos, ind_id in enumerate(order):  # every derived input is selected or derived earlier
        for source in catalogue[ind_id].derive.of:
            assert not catalogue[source].is_derived or order.index(source) < pos


# ---------------------------------------------------------------- validation errors (synthetic catalogues)


def _entry(**over) -> str:
    base = dict(id="syn_x", title="X", definition="Synthetic.", unit="% of population", group="whole_population",
                domain="health", better="higher", source="wdi", file="wdi/sp.pop.totl", code="SP.POP.TOTL")
    base.update(over)
    lines = ["[[indicator]]"]
    for key, value in base.items():
        if value is None:
            continue
        lines.append(f"{key} = {value}" if key in ("derive", "select", "bounds") else f'{key} = "{value}"')
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("extra, message", [
    (_entry(source="nope"), "unknown source 'nope'"),
    (_entry(file="wdi/nothing"), "unknown file 'wdi/nothing'"),
    (_entry(file="ghed/expenditure_by_source"), "belongs to dataset 'ghed'"),
    (_entry(group="elders"), "unknown group 'elders'"),
    (_entry(domain="wealth"), "unknown domain 'wealth'"),
    (_entry(better="more"), "unknown better 'more'"),
    (_entry(id="pop_total"), "duplicate id 'pop_total'"),
    (_entry(id="Bad-Id"), "snake_case"),
    (_entry(source=None, file=None, code=None, derive='{ method = "ratio", of = ["pop_total", "ghost"] }'),
     "unknown indicator(s) ['ghost']"),
    (_entry(source=None, file=None, code=None, derive='{ method = "ratio", of = ["pop_total", "syn_x"] }'),
     "derive cycle syn_x -> syn_x"),
    (_entry(source=None, file=None, code=None, derive='{ method = "mean", of = ["pop_total", "pop_total"] }'),
     "derive.method"),
    (_entry(select='{ sex = ["a", "b"] }'), 'combine = "sum"'),
    (_entry(bounds="[5, 1]"), "bounds must be"),
])
def test_validation_errors(tmp_path, monkeypatch, extra, message):
    project = make_synthetic_project(tmp_path / "p")
    monkeypatch.setenv("ANALYSIS_PROJECT_ROOT", str(project.root))
    project.write_catalogue(SYNTHETIC_CATALOGUE + "\n" + extra)
    with pytest.raises(CatalogueError) as err:
        load_catalogue()
    assert message in str(err.value)
    assert "indicators.toml" in str(err.value)


def test_uncovered_cell_is_an_error(tmp_path, monkeypatch):
    project = make_synthetic_project(tmp_path / "p")
    monkeypatch.setenv("ANALYSIS_PROJECT_ROOT", str(project.root))
    (project.root / "data" / "indicators.toml").write_text(SYNTHETIC_CATALOGUE, encoding="utf-8")  # no gaps
    with pytest.raises(CatalogueError, match="neither an indicator nor a \\[\\[gap\\]\\]"):
        load_catalogue()


def test_cycle_through_two_indicators(tmp_path, monkeypatch):
    project = make_synthetic_project(tmp_path / "p")
    monkeypatch.setenv("ANALYSIS_PROJECT_ROOT", str(project.root))
    a = _entry(id="syn_a", source=None, file=None, code=None, derive='{ method = "ratio", of = ["syn_b", "pop_total"] }')
    b = _entry(id="syn_b", source=None, file=None, code=None, derive='{ method = "ratio", of = ["syn_a", "pop_total"] }')
    project.write_catalogue(SYNTHETIC_CATALOGUE + "\n" + a + "\n" + b)
    with pytest.raises(CatalogueError, match="derive cycle syn_a -> syn_b -> syn_a"):
        load_catalogue()
