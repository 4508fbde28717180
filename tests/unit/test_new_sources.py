"""Issue 9 sources on SYNTHETIC files: the GHO OData parser, uncertainty bounds, disability splits and
suspect flags. Every number below is made up for the test (codes AAA/BBB/CCC, series WHOSIS_SYN).

The build tests extend the synthetic project of conftest with a GHO file and a disability population
file, build the store, and read it back (or check that a bad input stops the build with nothing written).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from analysis.config.registry import SourceFile
from analysis.core.errors import InputError
from analysis.pipeline import parsers
from analysis.pipeline.build import build_store
from analysis.store import api, reader
from conftest import SYNTHETIC_CATALOGUE, sha256_hex

SHA = "0" * 64
GHO_HEADER = ("Id,IndicatorCode,SpatialDimension,SpatialDimensionValueCode,ParentLocationCode,ParentLocation,"
              "TimeDimension,TimeDim,DisaggregatingDimension1,DisaggregatingDimension1ValueCode,"
              "DisaggregatingDimension2,DisaggregatingDimension2ValueCode,DisaggregatingDimension3,"
              "DisaggregatingDimension3ValueCode,DataSourceDimension,DataSourceDimensionValueCode,Value,"
              "NumericValue,Low,High,Comments,Date,TimeDimensionValue,TimeDimensionBegin,TimeDimensionEnd")
GHO_ID = "gho-syn/whosis_syn"
DSB_ID = "ilostat-dsb-syn/pop_xwap_sex_dsb_nb"
DSB_CODE = "pop_xwap_sex_dsb_nb"
RATE_ID = "ilostat-dsb-syn/eap_dwap_sex_dsb_rt"
RATE_CODE = "eap_dwap_sex_dsb_rt"


def gho_line(n: int, spatial: str, code: str, year: int, sex: str, value: str, low: str, high: str,
             dim2: str = "") -> str:
    display = f"{value} [{low}-{high}]"
    return (f"{n},WHOSIS_SYN,{spatial},{code},WPR,Western Pacific,YEAR,{year},SEX,{sex},{dim2},,,,,,"
            f"\"{display}\",{value},{low},{high},,2024-01-01T00:00:00Z,{year},{year}-01-01,{year}-12-31")


def synthetic_gho() -> str:
    """Synthetic GHO download: two countries by sex, a WHO region and a row without a value."""
    lines = [GHO_HEADER,
             gho_line(1, "COUNTRY", "AAA", 2019, "SEX_BTSX", "70.5", "69.5", "71.5"),
             gho_line(2, "COUNTRY", "AAA", 2019, "SEX_FMLE", "73.25", "72.0", "74.0"),
             gho_line(3, "COUNTRY", "AAA", 2019, "SEX_MLE", "68.0", "67.0", "69.0"),
             gho_line(4, "REGION", "WPR", 2019, "SEX_BTSX", "75.0", "74.0", "76.0"),
             gho_line(5, "COUNTRY", "BBB", 2019, "SEX_BTSX", "60.0", "58.0", "62.0"),
             gho_line(6, "COUNTRY", "BBB", 2020, "SEX_BTSX", "", "", "")]
    return "\n".join(lines) + "\n"


def synthetic_disability(rows: list[tuple[str, int, float, float, float]], code: str = DSB_CODE) -> str:
    """Synthetic values by disability status: (ref_area, year, with, without, total), both sexes."""
    lines = [f"ref_area,sex,classif1,time,{code}"]
    for area, year, dis, nodis, total in rows:
        lines += [f"{area},sex_t,dsb_status_dis,{year},{dis:g}", f"{area},sex_t,dsb_status_nodis,{year},{nodis:g}",
                  f"{area},sex_t,dsb_status_total,{year},{total:g}"]
    return "\n".join(lines) + "\n"


#: aaa 2020 has more persons with than without a disability: the rule must flag it.
DISABILITY_ROWS = [("aaa", 2019, 10.0, 90.0, 100.0), ("aaa", 2020, 80.0, 20.0, 100.0),
                   ("bbb", 2019, 4.0, 36.0, 40.0), ("bbb", 2020, 5.0, 45.0, 50.0)]
#: participation rates of the same survey rounds (the total column is not used)
RATE_ROWS = [("aaa", 2019, 30.0, 70.0, 66.0), ("aaa", 2020, 65.0, 35.0, 59.0),
             ("bbb", 2019, 20.0, 60.0, 56.0), ("bbb", 2020, 25.0, 65.0, 61.0)]

NEW_CATALOGUE = f'''
[[indicator]]
id = "syn_le"
title = "Synthetic life expectancy"
definition = "Synthetic GHO series, both sexes."
unit = "years"
group = "whole_population"
domain = "health"
better = "higher"
source = "hale"
file = "{GHO_ID}"
code = "WHOSIS_SYN"
select = {{ sex = "SEX_BTSX" }}

[[indicator]]
id = "syn_le_female"
title = "Synthetic life expectancy, female"
definition = "Synthetic GHO series, women."
unit = "years"
group = "whole_population"
domain = "health"
better = "higher"
source = "hale"
file = "{GHO_ID}"
code = "WHOSIS_SYN"
select = {{ sex = "SEX_FMLE" }}

[[indicator]]
id = "syn_le_sex_gap"
title = "Synthetic female minus both sexes"
definition = "Derived from two synthetic series."
unit = "years"
group = "whole_population"
domain = "health"
better = "neutral"
bounds = [-50, 50]
derive = {{ method = "difference", of = ["syn_le_female", "syn_le"] }}
''' + "".join(f'''
[[indicator]]
id = "syn_pop_{name}"
title = "Synthetic population {name}"
definition = "Synthetic working-age population, {name}."
unit = "thousand persons"
group = "persons_with_disabilities"
domain = "poverty_and_context"
better = "neutral"
source = "ilostat"
file = "{DSB_ID}"
code = "{DSB_CODE}"
select = {{ classif1 = "{cls}", sex = "sex_t" }}
''' for name, cls in [("dis", "dsb_status_dis"), ("nodis", "dsb_status_nodis"), ("total", "dsb_status_total")]) + '''
[[indicator]]
id = "syn_dis_share"
title = "Synthetic share with a disability"
definition = "Synthetic ratio of the population with a disability to the total."
unit = "% of working-age population"
group = "persons_with_disabilities"
domain = "poverty_and_context"
better = "neutral"
derive = { method = "ratio", of = ["syn_pop_dis", "syn_pop_total"], scale = 100 }
''' + "".join(f'''
[[indicator]]
id = "syn_lfpr_{name}"
title = "Synthetic participation {name}"
definition = "Synthetic participation rate, {name}."
unit = "% of working-age population"
group = "persons_with_disabilities"
domain = "poverty_and_context"
better = "higher"
source = "ilostat"
file = "{RATE_ID}"
code = "{RATE_CODE}"
select = {{ classif1 = "{cls}", sex = "sex_t" }}
''' for name, cls in [("dis", "dsb_status_dis"), ("nodis", "dsb_status_nodis")])


def add_file(project, file_id: str, dataset: str, parser: str, path: str, text: str) -> None:
    raw = text.encode("utf-8")
    target = project.raw_dir / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(raw)
    url = "https://raw.githubusercontent.com/" + path[len("github/"):]
    project.files[file_id] = dict(id=file_id, dataset=dataset, role="data", parser=parser, path=path, url=url,
                                  sha256=sha256_hex(raw))


@pytest.fixture
def new_project(synthetic_project):
    """The synthetic project plus a GHO file and a disability population file (existing synthetic datasets)."""
    add_file(synthetic_project, GHO_ID, "hale", "gho_odata", "github/syn/gho/WHOSIS_SYN.csv", synthetic_gho())
    add_file(synthetic_project, DSB_ID, "ilostat", "ddf_datapoints",
             f"github/syn/ilo-dsb/ddf--datapoints--{DSB_CODE}--by--ref_area--sex--classif1--time.csv",
             synthetic_disability(DISABILITY_ROWS))
    add_file(synthetic_project, RATE_ID, "ilostat", "ddf_datapoints",
             f"github/syn/ilo-dsb/ddf--datapoints--{RATE_CODE}--by--ref_area--sex--classif1--time.csv",
             synthetic_disability(RATE_ROWS, RATE_CODE))
    synthetic_project.write_registry()
    synthetic_project.write_catalogue(SYNTHETIC_CATALOGUE + NEW_CATALOGUE)
    return synthetic_project


def stored(project, indicator: str) -> pd.DataFrame:
    frame = reader.read_indicators(indicator, processed_dir=project.processed_dir)
    return frame.set_index(["iso3", "year"]).sort_index()


# ----------------------------------------------------------------------------- the GHO parser


def write(tmp_path: Path, rel: str, text: str) -> tuple[Path, SourceFile]:
    path = tmp_path / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path, SourceFile(id=rel, dataset="synthetic", parser="gho_odata", path=rel, sha256=SHA, url="u")


def test_gho_parser_reads_numeric_value_sex_and_bounds(tmp_path):
    path, sf = write(tmp_path, "gho/WHOSIS_SYN.csv", synthetic_gho())
    frame = parsers.PARSERS["gho_odata"](path, sf)
    assert list(frame.columns) == ["geo", "geo_scheme", "year", "series", "sex", "value", "row", "lower", "upper"]
    assert set(frame["series"]) == {"WHOSIS_SYN"} and set(frame["geo_scheme"]) == {"iso3"}
    row = frame.loc[(frame["geo"] == "AAA") & (frame["sex"] == "SEX_FMLE")].iloc[0]
    assert (row["value"], row["lower"], row["upper"], row["row"]) == (73.25, 72.0, 74.0, 3)
    # A WHO region is kept under a name that can never be taken for an ISO3 code.
    assert "REGION:WPR" in set(frame["geo"]) and "WPR" not in set(frame["geo"])
    # The row without NumericValue is dropped, not read from the display text.
    assert not ((frame["geo"] == "BBB") & (frame["year"] == 2020)).any()


def test_gho_parser_is_registered_as_a_data_parser():
    assert "gho_odata" in parsers.DATA_PARSERS and "gho_odata" in parsers.PARSERS


@pytest.mark.parametrize(("line", "rule", "words"), [
    (gho_line(9, "COUNTRY", "CCC", 2019, "SEX_BTSX", "seventy", "", ""), "numeric NumericValue", "'seventy'"),
    (gho_line(9, "COUNTRY", "CCC", 2019, "SEX_BTSX", "70", "71", "72"), "Low <= NumericValue <= High", "outside"),
    (gho_line(9, "COUNTRY", "CCC", 2019, "SEX_BTSX", "70", "69", "71", dim2="AGEGROUP"),
     "GHO disaggregation: sex only", "DisaggregatingDimension2"),
])
def test_gho_parser_rejects_bad_rows_with_file_row_and_rule(tmp_path, line, rule, words):
    lines = synthetic_gho().splitlines()
    lines.insert(3, line)
    path, sf = write(tmp_path, "gho/bad.csv", "\n".join(lines) + "\n")
    with pytest.raises(InputError) as err:
        parsers.PARSERS["gho_odata"](path, sf)
    assert err.value.rule == rule and err.value.row == 4 and words in err.value.problem
    assert "gho/bad.csv" in str(err.value)


def test_gho_parser_rejects_other_first_dimension(tmp_path):
    text = synthetic_gho().replace(",SEX,SEX_MLE,", ",AGEGROUP,SEX_MLE,")
    path, sf = write(tmp_path, "gho/age.csv", text)
    with pytest.raises(InputError) as err:
        parsers.PARSERS["gho_odata"](path, sf)
    assert err.value.rule == "GHO disaggregation: sex only" and err.value.row == 4


def test_ddf_parser_reads_disability_and_sex_dims(tmp_path):
    rel = f"ilo/ddf--datapoints--{DSB_CODE}--by--ref_area--sex--classif1--time.csv"
    path, sf = write(tmp_path, rel, synthetic_disability(DISABILITY_ROWS))
    frame = parsers.parse_ddf_datapoints(path, sf)
    assert list(frame.columns) == ["geo", "geo_scheme", "year", "series", "sex", "classif1", "value", "row"]
    assert len(frame) == 3 * len(DISABILITY_ROWS)


def test_ddf_key_column_not_named_in_file_name_is_rejected(tmp_path):
    text = synthetic_disability(DISABILITY_ROWS)
    # The file has an `age` column its name does not list as a key.
    lines = [line.replace("ref_area,", "ref_area,age,", 1) if i == 0 else line.replace(",", ",ge15,", 1)
             for i, line in enumerate(text.splitlines())]
    path, sf = write(tmp_path, f"ilo/ddf--datapoints--{DSB_CODE}--by--ref_area--sex--classif1--time.csv",
                     "\n".join(lines) + "\n")
    with pytest.raises(InputError) as err:
        parsers.parse_ddf_datapoints(path, sf)
    assert err.value.rule == "required columns" and err.value.row == 1 and "age" in err.value.problem


# ----------------------------------------------------------------------------- the build


def test_bounds_are_stored_for_selected_and_empty_for_derived(new_project):
    build_store(progress=False)
    le = stored(new_project, "syn_le")
    assert le.loc[("AAA", 2019), ["value", "lower", "upper"]].tolist() == [70.5, 69.5, 71.5]
    assert le.loc[("BBB", 2019), ["lower", "upper"]].tolist() == [58.0, 62.0]
    gap = stored(new_project, "syn_le_sex_gap")
    assert gap.loc[("AAA", 2019), "value"] == pytest.approx(73.25 - 70.5)
    assert gap["lower"].isna().all() and gap["upper"].isna().all()
    # Sources without bounds give empty bounds.
    assert stored(new_project, "syn_pop_dis")["lower"].isna().all()


def test_who_regions_go_to_source_aggregates(new_project):
    build_store(progress=False)
    aggregates = reader.read_source_aggregates("syn_le", processed_dir=new_project.processed_dir)
    assert set(aggregates["geo"]) == {"REGION:WPR"}


def test_with_more_than_without_is_flagged_suspect_and_kept(new_project):
    build_store(progress=False)
    for indicator in ("syn_pop_dis", "syn_pop_nodis", "syn_dis_share"):
        frame = stored(new_project, indicator)
        assert frame.loc[("AAA", 2020), "flag"] == "suspect", indicator
        assert "with > without" in frame.loc[("AAA", 2020), "flag_reason"]
        others = frame.drop(index=("AAA", 2020))
        assert others["flag"].isna().all() and others["flag_reason"].isna().all(), indicator
    # The total is a consistent count: not flagged.
    assert stored(new_project, "syn_pop_total")["flag"].isna().all()


def test_rates_of_a_suspect_survey_round_are_flagged_too(new_project):
    build_store(progress=False)
    for indicator in ("syn_lfpr_dis", "syn_lfpr_nodis"):
        frame = stored(new_project, indicator)
        assert frame.loc[("AAA", 2020), "flag"] == "suspect", indicator
        assert "same survey round" in frame.loc[("AAA", 2020), "flag_reason"]
        assert frame.drop(index=("AAA", 2020))["flag"].isna().all(), indicator


def test_suspect_rows_stay_out_of_latest_and_aggregates(new_project):
    build_store(progress=False)
    latest = reader.read_table("latest", new_project.processed_dir)
    row = latest.loc[(latest["indicator_id"] == "syn_dis_share") & (latest["iso3"] == "AAA")].iloc[0]
    assert int(row["year"]) == 2019 and row["value"] == pytest.approx(10.0)
    aggregates = reader.read_table("aggregates", new_project.processed_dir)
    share = aggregates.loc[(aggregates["indicator_id"] == "syn_dis_share") & (aggregates["group"] == "ASEAN")]
    n = dict(zip(share["year"].astype(int), share["n"].astype(int)))
    assert n == {2019: 2, 2020: 1}
    # The API applies the same rule when it recomputes.
    api_latest = api.latest("syn_dis_share", countries=["AAA"], processed_dir=new_project.processed_dir)
    assert int(api_latest["year"].iloc[0]) == 2019
    api_agg = api.aggregate("syn_dis_share", "ASEAN", years=2020, processed_dir=new_project.processed_dir)
    assert set(api_agg["n"].astype(int)) == {1}


def test_gho_text_value_stops_the_build_and_writes_nothing(new_project):
    build_store(progress=False)
    snapshot = new_project.snapshot()
    lines = synthetic_gho().splitlines()
    lines[2] = lines[2].replace(",73.25,", ",n/a,")
    new_project.write_raw(GHO_ID, "\n".join(lines) + "\n")
    with pytest.raises(InputError) as err:
        build_store(force=True, progress=False)
    assert new_project.snapshot() == snapshot
    assert err.value.rule == "numeric NumericValue" and err.value.row == 3
    assert new_project.files[GHO_ID]["path"] in str(err.value)


def test_disability_total_off_by_more_than_rounding_stops_the_build(new_project):
    build_store(progress=False)
    snapshot = new_project.snapshot()
    rows = [*DISABILITY_ROWS[:3], ("bbb", 2020, 5.0, 45.0, 50.5)]
    new_project.write_raw(DSB_ID, synthetic_disability(rows))
    with pytest.raises(InputError) as err:
        build_store(force=True, progress=False)
    assert new_project.snapshot() == snapshot
    assert err.value.rule == "disability total = with + without"
    assert err.value.row == 13 and "BBB 2020" in err.value.problem
    assert new_project.files[DSB_ID]["path"] in str(err.value)


def test_disability_total_within_rounding_builds(new_project):
    rows = [*DISABILITY_ROWS[:3], ("bbb", 2020, 5.001, 45.0, 50.0)]
    new_project.write_raw(DSB_ID, synthetic_disability(rows))
    assert not build_store(force=True, progress=False).skipped


def test_dimension_the_select_does_not_fix_is_ambiguous(new_project):
    build_store(progress=False)
    snapshot = new_project.snapshot()
    path = new_project.root / "data" / "indicators.toml"
    path.write_text(path.read_text().replace('select = { classif1 = "dsb_status_dis", sex = "sex_t" }',
                                             'select = { sex = "sex_t" }'))
    with pytest.raises(InputError) as err:
        build_store(force=True, progress=False)
    assert new_project.snapshot() == snapshot
    assert err.value.rule == "unique after select" and "classif1" in err.value.problem


def test_rates_with_more_than_without_are_not_flagged(new_project):
    # The with > without rule is about counts: a rate of persons with a disability may exceed the other.
    text = NEW_CATALOGUE.replace('unit = "thousand persons"', 'unit = "% of working-age population"')
    new_project.write_catalogue(SYNTHETIC_CATALOGUE + text)
    build_store(force=True, progress=False)
    flags = reader.read_indicators(["syn_pop_dis", "syn_pop_nodis"], processed_dir=new_project.processed_dir)["flag"]
    assert flags.isna().all()
    assert stored(new_project, "syn_pop_dis").loc[("AAA", 2020), "value"] == 80.0
