"""Each parser on small SYNTHETIC files written by the test (made-up codes and numbers)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from analysis.config.registry import SourceFile
from analysis.core.errors import InputError
from analysis.pipeline import parsers
from conftest import (
    synthetic_ghed,
    synthetic_ilostat,
    synthetic_metadata_country,
    synthetic_owid,
    synthetic_sdg_pensn,
    synthetic_wdi_tidy,
    synthetic_worldbank_api,
    synthetic_wpp_lex60,
)

SHA = "0" * 64


def write(tmp_path: Path, rel: str, text: str | bytes) -> tuple[Path, SourceFile]:
    """Write a synthetic file at ``tmp_path/rel`` and a SourceFile naming it by ``rel``."""
    path = tmp_path / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return path, SourceFile(id=rel, dataset="synthetic", parser="x", path=rel, sha256=SHA, url="u")


def assert_raw_frame(frame, dims=()):
    assert list(frame.columns) == ["geo", "geo_scheme", "year", "series", *dims, "value", "row"]
    assert frame["value"].dtype == np.float64
    assert frame["year"].dtype == np.int64 and frame["row"].dtype == np.int64
    for col in ("geo", "geo_scheme", "series", *dims):
        assert str(frame[col].dtype) in ("str", "string"), col
    assert frame["value"].notna().all()


def test_parser_names_match_the_registry():
    from analysis.config.registry import load_registry

    used = {f.parser for f in load_registry().files}
    assert used <= set(parsers.PARSERS)


def test_datahub_tidy(tmp_path):
    path, sf = write(tmp_path, "synthetic_wdi/sp.pop.65up.to.zs/synthetic_wdi_tidy.csv",
                     synthetic_wdi_tidy("SP.POP.65UP.TO.ZS", 10.0))
    frame = parsers.parse_datahub_tidy(path, sf)
    assert_raw_frame(frame)
    # Series from the folder name; 15 cells, DDD 2002 is empty and dropped.
    assert set(frame["series"]) == {"SP.POP.65UP.TO.ZS"}
    assert len(frame) == 14
    assert not ((frame["geo"] == "DDD") & (frame["year"] == 2002)).any()
    first = frame.iloc[0]
    got = (first["geo"], first["geo_scheme"], first["year"], first["value"], first["row"])
    assert got == ("AAA", "iso3", 2000, 10.0, 2)


def test_datahub_quoted_names_with_commas(tmp_path):
    text = 'Country Name,Country Code,Year,Value\n"Bahamas, The",BHS,2000,1.5\n'
    path, sf = write(tmp_path, "synthetic_wdi/x.y/synthetic_quoted.csv", text)
    frame = parsers.parse_datahub_tidy(path, sf)
    assert frame["geo"].tolist() == ["BHS"] and frame["value"].tolist() == [1.5]


def test_worldbank_api_wide_to_long(tmp_path):
    path, sf = write(tmp_path, "synthetic_API_SH.UHC.SRVS.CV.XD.csv",
                     synthetic_worldbank_api("SH.UHC.SRVS.CV.XD", "2025-01-28"))
    frame = parsers.parse_worldbank_api(path, sf)
    assert_raw_frame(frame)
    got = {(g, y): v for g, y, v in zip(frame["geo"], frame["year"], frame["value"])}
    assert got == {("AAA", 2000): 40.0, ("AAA", 2002): 45.0, ("WLD", 2000): 60.0, ("WLD", 2002): 61.0,
                   ("CCC", 2001): 70.0}
    # Header is line 5, so the first data line (AAA) is line 6.
    assert frame.loc[frame["geo"] == "AAA", "row"].unique().tolist() == [6]
    assert set(frame["series"]) == {"SH.UHC.SRVS.CV.XD"}


def test_worldbank_api_checks_last_updated_date_against_registry(tmp_path):
    path, _ = write(tmp_path, "synthetic_API.csv", synthetic_worldbank_api("SH.UHC.SRVS.CV.XD", "2025-01-28"))
    sf = SourceFile(id="x", dataset="synthetic", parser="x", path="synthetic_API.csv", sha256=SHA, url="u",
                    vintage="2024-12-31")
    with pytest.raises(InputError) as err:
        parsers.parse_worldbank_api(path, sf)
    assert err.value.row == 3 and "2025-01-28" in str(err.value) and "preamble" in err.value.rule


def test_worldbank_metadata_country(tmp_path):
    path, sf = write(tmp_path, "synthetic_Metadata_Country.csv", synthetic_metadata_country())
    frame = parsers.parse_worldbank_api_metadata_country(path, sf)
    assert list(frame.columns) == ["iso3", "name", "region", "income_group", "special_notes", "row"]
    assert frame.loc[frame["iso3"] == "AAA", "region"].iloc[0] == "East Asia & Pacific"
    assert frame.loc[frame["iso3"] == "WLD", "region"].isna().all()  # aggregate: empty region


def test_worldbank_metadata_indicator(tmp_path):
    text = ('\ufeff"INDICATOR_CODE","INDICATOR_NAME","SOURCE_NOTE","SOURCE_ORGANIZATION",\r\n'
            '"SYN.CODE","Synthetic","A made-up note, with a comma.","Nobody",\r\n')
    path, sf = write(tmp_path, "synthetic_Metadata_Indicator.csv", text)
    frame = parsers.parse_worldbank_api_metadata_indicator(path, sf)
    assert frame["code"].tolist() == ["SYN.CODE"] and frame["source_note"].iloc[0].endswith("comma.")


def test_ghed_long_keeps_unit_and_source(tmp_path):
    path, sf = write(tmp_path, "synthetic_ghed/expenditure_by_source.csv", synthetic_ghed())
    frame = parsers.parse_ghed_long(path, sf)
    assert_raw_frame(frame, dims=("unit", "source"))
    assert set(frame["series"]) == {"expenditure_by_source"}
    # The empty CCC value is dropped; regional rows keep their name as geo.
    assert "CCC" not in set(frame["geo"])
    assert "Low income" in set(frame["geo"])
    oop = frame.loc[(frame["geo"] == "AAA") & (frame["source"] == "Out-of-pocket")
                    & (frame["unit"] == "percent of health expenditure") & (frame["year"] == 2001), "value"]
    assert oop.tolist() == [31.5]


def test_ghed_without_source_column(tmp_path):
    text = "iso3_code,year,value,unit,entity_name\nAAA,2000,5.5,percent of GDP,Synthetia\n"
    path, sf = write(tmp_path, "synthetic_ghed/total_health_expenditure.csv", text)
    frame = parsers.parse_ghed_long(path, sf)
    assert_raw_frame(frame, dims=("unit",))


def test_ddf_datapoints_sdg_keys_from_file_name(tmp_path):
    rel = "synthetic_sdg/ddf--datapoints--si_cov_pensn--by--geo_area--nature--sex--units--year.csv"
    path, sf = write(tmp_path, rel, synthetic_sdg_pensn())
    frame = parsers.parse_ddf_datapoints(path, sf)
    assert_raw_frame(frame, dims=("nature", "sex", "units"))
    assert set(frame["geo_scheme"]) == {"m49"} and set(frame["series"]) == {"si_cov_pensn"}
    assert frame["geo"].iloc[0] == "901"


def test_ddf_datapoints_ilostat(tmp_path):
    rel = "synthetic_ilo/ddf--datapoints--sdg_0131_sex_soc_rt--by--ref_area--sex--classif1--time.csv"
    path, sf = write(tmp_path, rel, synthetic_ilostat())
    frame = parsers.parse_ddf_datapoints(path, sf)
    assert_raw_frame(frame, dims=("sex", "classif1"))
    assert set(frame["geo_scheme"]) == {"ilo"}
    assert "aaa" in set(frame["geo"]) and "x01" in set(frame["geo"])  # kept verbatim, lower case


def test_ddf_datapoints_wpp_time_and_partition_suffix(tmp_path):
    rel = "synthetic_wpp/ddf--datapoints--population--by--country-901--time.csv"
    path, sf = write(tmp_path, rel, "country,time,population\n901,2019,10.5\n901,2020,11\n")
    frame = parsers.parse_ddf_datapoints(path, sf)
    assert frame["year"].tolist() == [2019, 2020] and set(frame["geo_scheme"]) == {"m49"}
    rel = "synthetic_wpp/ddf--datapoints--lex_at_60--by--country--time--freq.csv"
    path, sf = write(tmp_path, rel, synthetic_wpp_lex60())
    assert_raw_frame(parsers.parse_ddf_datapoints(path, sf), dims=("freq",))


def test_ddf_entities_and_concepts(tmp_path):
    path, sf = write(tmp_path, "synthetic_ddf--entities--geo_area.csv", "geo_area,name\n1,World\n901,Synthetia\n")
    frame = parsers.parse_ddf_entities(path, sf)
    assert frame["geo_area"].tolist() == ["1", "901"] and frame["row"].tolist() == [2, 3]
    path, sf = write(tmp_path, "synthetic_ddf--concepts.csv", "concept,concept_type\nsyn,measure\n")
    assert parsers.parse_ddf_concepts(path, sf)["concept"].tolist() == ["syn"]


def test_owid_aggregates_kept_as_unmappable_geo(tmp_path):
    path, sf = write(tmp_path, "synthetic_owid/healthy-life-expectancy-at-birth.csv", synthetic_owid())
    frame = parsers.parse_owid(path, sf)
    assert_raw_frame(frame)
    assert set(frame["series"]) == {"healthy-life-expectancy-at-birth"}
    assert {"AAA", "CCC", "Africa (WHO)", "OWID_WRL"} == set(frame["geo"])
    assert frame.loc[frame["geo"] == "CCC", "value"].tolist() == [70.25]


def test_parse_file_uses_registry_parser(tmp_path):
    path, _ = write(tmp_path, "raw/synthetic_owid/healthy-life-expectancy-at-birth.csv", synthetic_owid())
    sf = SourceFile(id="h", dataset="hale", parser="owid", path="synthetic_owid/healthy-life-expectancy-at-birth.csv",
                    sha256=SHA, url="u")
    assert len(parsers.parse_file(sf, tmp_path / "raw")) == 5
    bad = SourceFile(id="h", dataset="hale", parser="nope", path=sf.path, sha256=SHA, url="u")
    with pytest.raises(InputError, match="no parser named"):
        parsers.parse_file(bad, tmp_path / "raw")


# ---------------------------------------------------------------- per-parser failure rules
# (the full build-level cases, with the store left untouched, are in test_bad_input.py)


@pytest.mark.parametrize("text, rule, row", [
    ("Country Name,Country Code,Year,Value\nA,AAA,2000,1\nA,AAA,2000,2\n", "unique key", 3),
    ("Country Name,Country Code,Year,Value\nA,AAA,2000,1\nA,AAA,20", "rectangular CSV", 3),
    ("Country Name,Country Code,Year,Value\nA,AAA,2000,1\nA,AAA,2001,n/a\n", "numeric Value", 3),
    ("Country Name,Country Code,Year,Value\nA,AAA,2000.5,1\n", "numeric Year", 2),
    ("Country Name,Country Code,Value\nA,AAA,1\n", "required columns", 1),
    ("", "non-empty file", 1),
    ("Country Name,Country Code,Year,Value\n", "non-empty file", 2),
])
def test_datahub_rules(tmp_path, text, rule, row):
    path, sf = write(tmp_path, "synthetic_wdi/a.b/synthetic_bad.csv", text)
    with pytest.raises(InputError) as err:
        parsers.parse_datahub_tidy(path, sf)
    assert err.value.rule == rule and err.value.row == row
    assert "synthetic_wdi/a.b/synthetic_bad.csv" in str(err.value)


@pytest.mark.parametrize("data, row", [
    ("\ufeffCountry Name,Country Code,Year,Value\nA,AAA,2000,1\n".encode("utf-16"), 1),
    (b"Country Name,Country Code,Year,Value\nA\xe9,AAA,2000,1\n", 2),
    ("Country Name,Country Code,Year,Value\n".encode("utf-16-le"), 1),
])
def test_encoding_rules(tmp_path, data, row):
    path, sf = write(tmp_path, "synthetic_wdi/a.b/synthetic_enc.csv", data)
    with pytest.raises(InputError) as err:
        parsers.parse_datahub_tidy(path, sf)
    assert err.value.rule == "encoding: UTF-8" and err.value.row == row


def test_worldbank_preamble_changed(tmp_path):
    text = synthetic_worldbank_api("SH.UHC.SRVS.CV.XD", "2025-01-28").replace('"Data Source"', '"Source"')
    path, sf = write(tmp_path, "synthetic_API.csv", text)
    with pytest.raises(InputError) as err:
        parsers.parse_worldbank_api(path, sf)
    assert (err.value.row, err.value.rule) == (1, "preamble")


def test_ddf_missing_key_column(tmp_path):
    rel = "synthetic_sdg/ddf--datapoints--si_cov_pensn--by--geo_area--sex--year.csv"
    path, sf = write(tmp_path, rel, "geo_area,year,si_cov_pensn\n1,2016,3\n")
    with pytest.raises(InputError) as err:
        parsers.parse_ddf_datapoints(path, sf)
    assert err.value.rule == "required columns" and "sex" in str(err.value)


def test_ddf_bad_file_name(tmp_path):
    path, sf = write(tmp_path, "synthetic_points.csv", "geo_area,year,x\n1,2016,3\n")
    with pytest.raises(InputError, match="ddf--datapoints"):
        parsers.parse_ddf_datapoints(path, sf)


def test_ddf_duplicate_key_names_both_lines(tmp_path):
    rel = "synthetic_ilo/ddf--datapoints--m--by--ref_area--sex--time.csv"
    path, sf = write(tmp_path, rel, "ref_area,sex,time,m\naaa,sex_t,2020,1\naaa,sex_f,2020,2\naaa,sex_t,2020,3\n")
    with pytest.raises(InputError) as err:
        parsers.parse_ddf_datapoints(path, sf)
    assert err.value.row == 4 and "first on line 2" in str(err.value)
