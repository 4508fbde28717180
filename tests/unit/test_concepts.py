"""Concepts: the stated rule that picks each concept's current series, and what follows from it.

* the ``[[concept]]`` table of the catalogue and its errors (file, line, entry, rule), on SYNTHETIC
  registries and catalogues written into tmp_path;
* a store BUILT from the synthetic project of conftest.py with two series of one concept: ``current``
  per row, latest values and aggregates from current rows only, ``source=`` / ``vintage=`` and aliases
  in the API, the sources' row attributes kept, and female - male gaps within one source;
* the real catalogue: the rules it states and the ids it retired or renamed.
"""

from __future__ import annotations

import pandas as pd
import pytest
from test_catalogue import ALL_GAPS, SYNTHETIC_SOURCES, last_line_of, line_of, selected

from analysis.config.catalogue import CatalogueError, NoSuchSeriesError, load_catalogue
from analysis.config.registry import load_registry
from analysis.core import paths
from analysis.core.errors import AnalysisError
from analysis.pipeline.build import build_store
from analysis.store import api
from analysis.store import reader as store
from conftest import SDG, SYNTHETIC_CATALOGUE, make_synthetic_project, sha256_hex

# ---------------------------------------------------------------- the [[concept]] table (synthetic TOML)

#: two vintages of one synthetic source, as separate files
VINTAGED_SOURCES = SYNTHETIC_SOURCES + "".join(
    f'\n[[file]]\nid = "syn/v{v}"\ndataset = "syn"\nparser = "synthetic"\npath = "extracts/v{v}.csv"\nurl = ""\n'
    f'origin = "https://example.invalid/v{v}"\nsha256 = "{"0" * 63}1"\nvintage = "{v}-01-01"\n' for v in (2001, 2003))


def rule(concept: str, prefer: str, *extra: str) -> str:
    return "\n".join(["[[concept]]", f'id = "{concept}"', 'title = "Synthetic concept"', f"prefer = {prefer}",
                      'note = "Synthetic preference."', *extra]) + "\n"


#: three ids of concept syn_share: two vintages of source syn and one of source other
THREE = (selected("syn_share", file='"syn/v2001"')
         + selected("syn_share_new", 'concept = "syn_share"', file='"syn/v2003"')
         + selected("syn_share_other", 'concept = "syn_share"', source='"other"', file='"other/x"'))


@pytest.fixture
def write(tmp_path):
    registry_file = tmp_path / "sources.toml"
    registry_file.write_text(VINTAGED_SOURCES, encoding="utf-8")
    registry = load_registry(registry_file)

    def load(text: str):
        path = tmp_path / "indicators.toml"
        path.write_text(text + ALL_GAPS, encoding="utf-8")
        return load_catalogue(path, registry=registry)

    return load


def refused(write, text: str) -> CatalogueError:
    with pytest.raises(CatalogueError) as err:
        write(text)
    return err.value


def test_preferred_source_first_then_the_newest_vintage(write):
    catalogue = write(THREE + rule("syn_share", '["syn", "other"]'))
    assert catalogue.series_of("syn_share") == ["syn_share_new", "syn_share", "syn_share_other"]
    assert catalogue.current_series("syn_share") == "syn_share_new"
    assert catalogue.current_series("syn_share_other") == "syn_share_new"  # an id stands for its concept
    assert catalogue.series["syn_share"] == ("syn", "2001-01-01")
    flipped = write(THREE + rule("syn_share", '["other", "syn"]'))
    assert flipped.current_series("syn_share") == "syn_share_other"
    assert flipped.current_ids == {"syn_share_other"}


def test_pick_another_member_by_source_or_vintage(write):
    catalogue = write(THREE + rule("syn_share", '["syn", "other"]'))
    assert catalogue.pick("syn_share_new") == "syn_share_new"
    assert catalogue.pick("syn_share_new", source="other") == "syn_share_other"
    assert catalogue.pick("syn_share_other", vintage="2001-01-01") == "syn_share"
    with pytest.raises(NoSuchSeriesError) as err:
        catalogue.pick("syn_share", source="syn", vintage="2000")
    assert "concept 'syn_share' (of 'syn_share') has no series with source 'syn' and vintage '2000'" in str(err.value)
    assert "syn_share_other (source other, vintage 2000)" in str(err.value)


def test_a_concept_of_several_ids_needs_a_rule(write):
    error = refused(write, THREE)
    assert error.entry == "[[indicator]] #2 (syn_share_new)"
    assert error.line == line_of(THREE, 'concept = "syn_share"')
    assert "concept 'syn_share' is measured by 3 ids (syn_share, syn_share_new, syn_share_other)" in error.problem
    assert "no [[concept]] entry" in error.problem


def test_a_concept_of_one_id_needs_no_rule(write):
    catalogue = write(selected("syn_share"))
    assert catalogue.current_series("syn_share") == "syn_share" and catalogue.concept_rules == ()


CONCEPT_ERRORS = [
    # (id, the rule, key whose line is named, fragment of the message)
    ("unknown-prefer-source", rule("syn_share", '["syn", "othr"]'), "prefer",
     "prefer names unknown source 'othr' (did you mean 'other'?)"),
    ("source-not-ranked", rule("syn_share", '["syn"]'), "prefer",
     "syn_share_other ([[indicator]] #3 (syn_share_other) (line "),
    ("unknown-concept", rule("syn_shares", '["syn", "other"]'), "id",
     "no indicator has concept 'syn_shares' (did you mean 'syn_share'?)"),
    ("empty-prefer", rule("syn_share", "[]"), "prefer", "prefer: must list at least one source id"),
    ("repeated-prefer", rule("syn_share", '["syn", "syn"]'), "prefer", "lists 'syn' more than once"),
    ("no-note", "\n".join(rule("syn_share", '["syn", "other"]').splitlines()[:-1]) + "\n", None,
     "missing required key 'note'"),
    ("renamed-code-not-read", rule("syn_share", '["syn", "other"]', 'renamed = [{ old_source = "syn", '
                                   'old_code = "OLD", new_source = "syn", new_code = "SYN" }]'), "renamed",
     "renamed: no id of concept 'syn_share' reads series 'OLD' of source 'syn'"),
]


@pytest.mark.parametrize(("text", "key", "fragment"), [pytest.param(*c[1:], id=c[0]) for c in CONCEPT_ERRORS])
def test_concept_errors_name_file_line_entry_and_rule(write, text, key, fragment):
    error = refused(write, THREE + text)
    assert fragment in error.problem
    assert error.entry == "[[concept]] #1" + (" (syn_share)" if "syn_shares" not in text else " (syn_shares)")
    full = THREE + text
    expected = last_line_of(full, f"{key} =") if key else line_of(full, "[[concept]]")
    assert error.line == expected
    assert str(error).startswith(f"{error.file}, line {expected}, [[concept]] #1")
    assert isinstance(error, AnalysisError)


def test_two_ids_of_one_source_and_vintage_cannot_be_ranked(write):
    text = (selected("syn_share") + selected("syn_share_twin", 'concept = "syn_share"')
            + rule("syn_share", '["syn"]'))
    error = refused(write, text)
    assert "syn_share and syn_share_twin share source 'syn' and vintage '2000'" in error.problem
    assert error.line == line_of(text, "prefer =")


def test_a_duplicate_rule_names_the_first(write):
    text = THREE + rule("syn_share", '["syn", "other"]') + rule("syn_share", '["other", "syn"]')
    error = refused(write, text)
    assert error.entry == "[[concept]] #2 (syn_share)"
    assert f"already stated in [[concept]] #1 (syn_share) (line {line_of(text, '[[concept]]')})" in error.problem


def test_a_renamed_code_finds_the_concepts_that_read_it(write):
    renamed = ('renamed = [{ old_source = "other", old_code = "OLDSYN", new_source = "syn", new_code = "SYN" }]')
    text = (selected("syn_share") + selected("syn_share_old", 'concept = "syn_share"', source='"other"',
                                             file='"other/x"', code='"OLDSYN"')
            + rule("syn_share", '["syn", "other"]', renamed))
    catalogue = write(text)
    assert catalogue.concepts_of_code("OLDSYN") == ["syn_share"]
    assert catalogue.series_of(catalogue.concepts_of_code("OLDSYN")[0]) == ["syn_share", "syn_share_old"]
    assert catalogue.concepts_of_code("NOPE") == []


# ---------------------------------------------------------------- a built synthetic store

#: synthetic ILOSTAT rows added for the sex split (made-up numbers): (ref_area, sex, year, value)
SEX_ROWS = [("aaa", "sex_m", 2020, 36.0), ("ccc", "sex_f", 2021, 94.0), ("ccc", "sex_m", 2021, 97.5)]
#: the female row the synthetic ILOSTAT file of conftest.py already has
AAA_FEMALE_2020 = 30.1
#: a synthetic SDG file with observation_status as a key: (geo_area, nature, observation_status, value)
SDG_STATUS_ROWS = [("901", "e", "a", 10.0), ("903", "n", "u", 5.0)]
SDG_STATUS_PATH = f"{SDG}/ddf--datapoints--si_cov_disab--by--geo_area--nature--observation_status--sex--units--year.csv"


def _entry(ident: str, source: str, file: str, code: str, select: str, *extra: str) -> str:
    return "\n".join(["", "[[indicator]]", f'id = "{ident}"', f'title = "Synthetic {ident}"',
                      'definition = "Synthetic."', 'unit = "% of population above retirement age"',
                      'group = "older_persons"', 'domain = "social_protection"', 'better = "higher"',
                      f'source = "{source}"', f'file = "{file}"', f'code = "{code}"', f"select = {select}",
                      *extra]) + "\n"


def synthetic_concept_catalogue(prefer: str) -> str:
    sdg = 'code = "si_cov_pensn"\nselect = { sex = "bothsex" }\n'
    text = SYNTHETIC_CATALOGUE.replace(sdg, sdg + 'concept = "sp_cov_pension"\n')
    text = text.replace('select = { classif1 = "soc_contig_pension", sex = "sex_t" }\n',
                        'select = { classif1 = "soc_contig_pension", sex = "sex_t" }\naliases = ["pension_old_id"]\n')
    assert text.count("concept = ") == 1 and text.count("aliases = ") == 1
    ilo = ("ilostat", "ilostat/sdg_0131_sex_soc_rt", "sdg_0131_sex_soc_rt")
    for sex in ("f", "m"):
        name = "female" if sex == "f" else "male"
        text += _entry(f"sp_cov_pension_{name}", *ilo, f'{{ classif1 = "soc_contig_pension", sex = "sex_{sex}" }}')
    # a female id and a male id from two sources: no gap between them
    text += _entry("sp_cov_mixed_female", "sdg2020", "sdg2020/si_cov_pensn", "si_cov_pensn", '{ sex = "female" }')
    text += _entry("sp_cov_mixed_male", *ilo, '{ classif1 = "soc_contig_pension", sex = "sex_m" }')
    text += _entry("sp_cov_disab_sdg", "sdg2020", "sdg2020/si_cov_disab", "si_cov_disab", '{ sex = "bothsex" }')
    return text + "\n" + rule("sp_cov_pension", prefer)


def _synthetic_store(root, prefer: str):
    project = make_synthetic_project(root, catalogue=synthetic_concept_catalogue(prefer))
    ilo = project.raw_path("ilostat/sdg_0131_sex_soc_rt").read_text(encoding="utf-8")
    ilo += "".join(f"{a},{s},soc_contig_pension,{y},{v}\n" for a, s, y, v in SEX_ROWS)
    project.write_raw("ilostat/sdg_0131_sex_soc_rt", ilo, repin=False)
    text = "geo_area,nature,observation_status,sex,units,year,si_cov_disab\n" + "".join(
        f"{g},{n},{o},bothsex,percent,2019,{v}\n" for g, n, o, v in SDG_STATUS_ROWS)
    (project.raw_dir / SDG_STATUS_PATH).write_text(text, encoding="utf-8")
    project.files["sdg2020/si_cov_disab"] = dict(id="sdg2020/si_cov_disab", dataset="sdg2020", role="data",
                                                 parser="ddf_datapoints", path=SDG_STATUS_PATH,
                                                 url="https://raw.githubusercontent.com/" + SDG_STATUS_PATH[7:])
    for fid in ("ilostat/sdg_0131_sex_soc_rt", "sdg2020/si_cov_disab"):
        project.files[fid]["sha256"] = sha256_hex(project.raw_path(fid).read_bytes())
    project.write_registry()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(paths.ROOT_ENV, str(project.root))
        assert not build_store(progress=False).skipped
    return project


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return _synthetic_store(tmp_path_factory.mktemp("concepts") / "project", '["ilostat", "sdg2020"]')


@pytest.fixture
def sdir(built, monkeypatch):
    monkeypatch.setenv(paths.ROOT_ENV, str(built.root))
    return built.processed_dir


def test_the_build_marks_the_current_series_and_keeps_the_others(sdir):
    rows = store.read_indicators(["sp_cov_pension", "sp_cov_pension_sdg2020"], processed_dir=sdir, vintage="all")
    current = rows.groupby("indicator_id")["current"].agg(["min", "max"])
    assert current.loc["sp_cov_pension"].tolist() == [True, True]
    assert current.loc["sp_cov_pension_sdg2020"].tolist() == [False, False]
    assert store.current_indicator_ids(sdir) >= {"sp_cov_pension", "pop_total"}
    assert "sp_cov_pension_sdg2020" not in store.current_indicator_ids(sdir)


def test_latest_and_aggregates_are_made_of_current_series_only(sdir):
    stored = set(store.read_table("latest", sdir)["indicator_id"]) | set(store.read_table("aggregates", sdir)[
        "indicator_id"])
    assert "sp_cov_pension" in stored and "sp_cov_pension_sdg2020" not in stored
    everything = api.load(processed_dir=sdir, names=False)
    assert "sp_cov_pension_sdg2020" not in set(everything["indicator_id"])


def test_the_rule_not_the_file_order_decides(tmp_path):
    project = _synthetic_store(tmp_path / "project", '["sdg2020", "ilostat"]')
    rows = store.read_indicators(["sp_cov_pension", "sp_cov_pension_sdg2020"], processed_dir=project.processed_dir,
                                 vintage="all")
    assert rows.groupby("indicator_id")["current"].all().to_dict() == {"sp_cov_pension": False,
                                                                       "sp_cov_pension_sdg2020": True}


def test_a_named_series_that_is_not_current_is_still_read(sdir):
    old = api.load("sp_cov_pension_sdg2020", processed_dir=sdir, names=False)
    assert len(old) and set(old["source_id"]) == {"sdg2020"}
    picked = api.load("sp_cov_pension", source="sdg2020", processed_dir=sdir, names=False)
    pd.testing.assert_frame_equal(picked, old)
    by_vintage = api.load("sp_cov_pension", vintage="2020-01-01", processed_dir=sdir, names=False)
    pd.testing.assert_frame_equal(by_vintage, old)
    latest = api.latest("sp_cov_pension", "FOCUS", source="sdg2020", processed_dir=sdir)
    assert set(latest["indicator_id"]) == {"sp_cov_pension_sdg2020"} and latest["value"].notna().any()
    wide = api.panel("sp_cov_pension", "FOCUS", source="sdg2020", processed_dir=sdir)
    assert list(wide.columns) == ["sp_cov_pension_sdg2020"]


def test_no_member_from_that_source_names_the_concept_and_its_series(sdir):
    with pytest.raises(NoSuchSeriesError) as err:
        api.load("sp_cov_pension", source="wdi", processed_dir=sdir)
    message = str(err.value)
    assert "concept 'sp_cov_pension'" in message and "source 'wdi'" in message
    assert "sp_cov_pension (source ilostat, vintage 2025-06-02)" in message
    assert "sp_cov_pension_sdg2020 (source sdg2020, vintage 2020-01-01)" in message
    with pytest.raises(AnalysisError, match="name the indicators"):
        api.load(source="sdg2020", processed_dir=sdir)


def test_an_alias_reads_its_indicator(sdir):
    pd.testing.assert_frame_equal(api.load("pension_old_id", processed_dir=sdir),
                                  api.load("sp_cov_pension", processed_dir=sdir))


def test_series_of_a_concept(sdir):
    frame = api.series_of("sp_cov_pension_sdg2020")
    assert frame.to_dict("list") == {"indicator_id": ["sp_cov_pension", "sp_cov_pension_sdg2020"],
                                     "source_id": ["ilostat", "sdg2020"], "vintage": ["2025-06-02", "2020-01-01"],
                                     "current": [True, False]}
    assert api.current_series("sp_cov_pension") == "sp_cov_pension" == api.concept_of("pension_old_id")


def test_row_attributes_are_kept_and_never_drop_rows(sdir):
    rows = store.read_indicators("sp_cov_disab_sdg", processed_dir=sdir).set_index("iso3")
    assert len(rows) == len(SDG_STATUS_ROWS)  # the low-reliability row stays
    expected = {"AAA": ("a", "e"), "CCC": ("u", "n")}
    assert {i: (r["observation_status"], r["nature"]) for i, r in rows.iterrows()} == expected
    pension = store.read_indicators("sp_cov_pension_sdg2020", processed_dir=sdir, vintage="all")
    assert set(pension["nature"]) == {"e"} and pension["observation_status"].isna().all()
    assert store.read_indicators("sp_cov_pension", processed_dir=sdir)["nature"].isna().all()


def test_sex_gap_is_female_minus_male_within_one_source(sdir):
    gap = api.sex_gap("sp_cov_pension", countries=None, processed_dir=sdir).set_index("iso3")
    male = {a.upper(): v for a, s, _, v in SEX_ROWS if s == "sex_m"}
    female = {"AAA": AAA_FEMALE_2020} | {a.upper(): v for a, s, _, v in SEX_ROWS if s == "sex_f"}
    assert gap["value"].to_dict() == pytest.approx({k: female[k] - male[k] for k in male})
    assert set(gap["unit"]) == {"percentage points"} and set(gap["indicator_id"]) == {"sp_cov_pension_sex_gap"}
    assert set(gap["source_id"]) == {"ilostat"}
    same = api.sex_gap("sp_cov_pension_male", countries=None, processed_dir=sdir).set_index("iso3")
    pd.testing.assert_frame_equal(same, gap)


def test_no_sex_gap_across_two_sources_or_without_both_sexes(sdir):
    with pytest.raises(NoSuchSeriesError, match="one source and vintage only"):
        api.sex_gap("sp_cov_mixed", processed_dir=sdir)
    with pytest.raises(NoSuchSeriesError, match="no 'sp_cov_maternity_female'"):
        api.sex_gap("sp_cov_maternity", processed_dir=sdir)


# ---------------------------------------------------------------- the real catalogue


@pytest.fixture(scope="module")
def real():
    return load_catalogue()


def test_every_concept_of_several_ids_has_a_stated_current_series(real):
    several = {c: ids for c, ids in real.concepts().items() if len(ids) > 1}
    assert several and set(several) == set(real.rules)
    for concept, ids in several.items():
        sources = [real.series[i][0] for i in ids]
        assert all(s in real.rules[concept].prefer for s in sources), concept
        assert real.current_series(concept) in ids


def test_no_concept_is_named_after_a_vintage(real):
    assert [c for c in real.concepts() if c.endswith(("_sdg2020", "_sdg2023"))] == []


def test_renamed_who_series_pairs_both_builds(real):
    for code in ("sh_med_heawor", "sh_med_den"):
        assert real.concepts_of_code(code) == ["physicians_per_10000", "nurses_midwives_per_10000"]
    assert {real.series[i][0] for i in real.series_of("physicians_per_10000")} == {"sdg2020", "sdg2023"}


def test_health_expectancy_gap_comes_from_one_edition(real):
    gap = real["le_hale_gap"]
    assert gap.id == "le_hale_gap_birth_who" and gap.headline and gap.profile and gap.better == "neutral"
    assert "le_hale_gap" not in real.by_id
    shares = [i for i in real.ids if i.startswith("hale_share_")]
    assert len(shares) == 6
    for ident in shares + [i for i in real.ids if i.startswith("le_hale_gap_")]:
        assert real[ident].better == "neutral" and real.series[ident][0] == "gho2024", ident
    who_le = [i for i in real.ids if i.startswith(("le_birth_who", "le_60_who"))]
    assert who_le and all(real[i].concept == i for i in who_le)
