"""Country groups, the countries table and geo-code mapping, on synthetic frames.

Loading and validating the references table is :mod:`analysis.config.references`; the countries
table and geo mapping are :mod:`analysis.pipeline.countries`; membership on a date is the pure
rule :mod:`analysis.rules.membership`. The accession tests on the project's own references file
(data/raw/references/, part of the repository) read the expected dates from that file.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest

from analysis.config.references import load_members
from analysis.core.errors import InputError
from analysis.pipeline.countries import build_countries, metadata_differences, to_iso3
from analysis.rules import membership
from analysis.rules.membership import country_names, display_order, is_group, members

HEADER = "iso3,m49,name,grouping,joined,source_url\n"


def write_synthetic_members(path: Path, rows: list[str]) -> Path:
    path.write_text(HEADER + "".join(r + "\n" for r in rows), encoding="utf-8")
    return path


def synthetic_members_rows() -> list[str]:
    """Eleven fake ASEAN-like members (QA.. codes) and three fake Plus Three (QP.)."""
    dates = ["1967-08-08"] * 5 + ["1984-01-07", "1995-07-28", "1997-07-23", "1997-07-23", "1999-04-30",
                                  "2025-10-26"]
    rows = [f"QA{chr(65 + i)},{900 + i},Synthetic {chr(90 - i)},ASEAN,{d},https://example.org/s"
            for i, d in enumerate(dates)]
    rows += [f"QP{c},{950 + i},Synthetic Plus {c},Plus Three,,https://example.org/p" for i, c in enumerate("ABC")]
    return rows


@pytest.fixture
def synthetic_members(tmp_path) -> pd.DataFrame:
    return load_members(write_synthetic_members(tmp_path / "synthetic_members.csv", synthetic_members_rows()))


@pytest.fixture
def synthetic_countries(synthetic_members) -> pd.DataFrame:
    iso = list(synthetic_members["iso3"]) + ["QZA", "QZB"]
    wpp = pd.DataFrame({"country": [str(900 + i) for i in range(len(iso))], "name": [f"WPP {c}" for c in iso],
                        "iso3": iso})
    wb = pd.DataFrame({"Country Code": iso + ["QWW"],
                       "Region": ["Synthetic East"] * 14 + ["Synthetic West"] * 2 + [""],
                       "IncomeGroup": ["High income", "Low income"] * 8 + [""],
                       "TableName": [f"WB {c}" for c in iso] + ["World (synthetic)"]})
    return build_countries(wpp, wb, synthetic_members)


# ---------------------------------------------------------------- load_members


def test_references_file_loads_and_is_typed():
    members = load_members()
    assert members["iso3"].is_unique and len(members) > 0
    assert members["m49"].dtype == "Int64"
    assert set(members["grouping"]) == {"ASEAN", "Plus Three"}
    assert members.loc[members["grouping"] == "Plus Three", "joined"].isna().all()
    assert members.loc[members["grouping"] == "ASEAN", "joined"].notna().all()


@pytest.mark.parametrize("bad_row, rule, problem", [
    ("QX,900,Bad,ASEAN,1967-08-08,https://e.org", "iso3_format", "'QX' is not three upper-case letters"),
    ("QXA,900,Bad,ASEAN,1967-13-08,https://e.org", "joined_date", "'1967-13-08' is not an ISO date"),
    ("QXA,900,Bad,ASEAN,08/08/1967,https://e.org", "joined_date", "'08/08/1967' is not an ISO date"),
    ("QXA,900,Bad,ASEAN,,https://e.org", "joined_required", "has no accession date"),
    ("QXA,9x0,Bad,ASEAN,1967-08-08,https://e.org", "m49_format", "'9x0' is not a UN M49 number"),
    ("QXA,900,Bad,EU,1967-08-08,https://e.org", "grouping_known", "grouping 'EU'"),
    ("QXA,900,Bad,ASEAN,1967-08-08,", "source_cited", "no source_url"),
])
def test_bad_member_rows_name_file_row_and_rule(tmp_path, bad_row, rule, problem):
    rows = synthetic_members_rows()[:2] + [bad_row] + synthetic_members_rows()[2:]
    path = write_synthetic_members(tmp_path / "synthetic_bad_members.csv", rows)
    with pytest.raises(InputError) as info:
        load_members(path)
    err = info.value
    assert err.row == 4  # header is line 1, the bad row is the third data row
    assert err.rule == rule and problem in err.problem
    assert "synthetic_bad_members.csv" in str(err) and "row 4" in str(err)


def test_duplicate_member_is_reported_at_its_second_line(tmp_path):
    rows = synthetic_members_rows()
    path = write_synthetic_members(tmp_path / "synthetic_dup.csv", rows + [rows[1]])
    with pytest.raises(InputError, match="listed twice") as info:
        load_members(path)
    assert info.value.row == len(rows) + 2 and info.value.rule == "iso3_unique"


def test_missing_column_is_an_input_error(tmp_path):
    path = tmp_path / "synthetic_nocol.csv"
    path.write_text("iso3,name\nQAA,X\n", encoding="utf-8")
    with pytest.raises(InputError, match="missing column"):
        load_members(path)


# ---------------------------------------------------------------- members by accession date

#: any date works for the groups whose composition does not depend on it
SOME_DAY = "2000-01-01"


def asean_accessions() -> pd.DataFrame:
    """The ASEAN rows of the project's references file with their accession day as a date."""
    table = load_members()
    asean = table.loc[table["grouping"] == "ASEAN", ["iso3", "joined"]]
    return asean.assign(joined=pd.to_datetime(asean["joined"]).dt.date)


def test_each_asean_member_counts_from_its_accession_day():
    table = load_members()
    for iso3, joined in asean_accessions().itertuples(index=False):
        assert iso3 not in members("ASEAN", on=joined - timedelta(days=1), countries=table)
        assert iso3 in members("ASEAN", on=joined, countries=table)
        assert iso3 in members("ASEAN", on=joined.isoformat(), countries=table)  # ISO text works too


def test_the_latest_accession_adds_exactly_that_member():
    table = load_members()
    accessions = asean_accessions()
    last_day = accessions["joined"].max()
    joiners = set(accessions.loc[accessions["joined"] == last_day, "iso3"])
    before = members("ASEAN", on=last_day - timedelta(days=1), countries=table)
    after = members("ASEAN", on=last_day, countries=table)
    assert set(after) - set(before) == joiners and set(before) <= set(after)


def test_asean10_is_the_first_ten_by_accession():
    table = load_members()
    accessions = asean_accessions().sort_values("joined", kind="stable")
    tenth_day = accessions["joined"].iloc[9]
    ten = members("ASEAN10", on=SOME_DAY, countries=table)
    assert len(ten) == 10
    assert ten == members("ASEAN", on=tenth_day, countries=table)
    assert ten == members("ASEAN10", on=date.max, countries=table)  # fixed, whatever the date
    assert members("ASEAN-10", on=SOME_DAY, countries=table) == ten  # spelling variants


@pytest.mark.parametrize("via", ["members_table", "countries_table"])
def test_groups_on_synthetic_members(synthetic_members, synthetic_countries, via):
    """Both ways of knowing membership (the references table, or the stored countries table) agree."""
    table = synthetic_members if via == "members_table" else synthetic_countries
    asean = [f"QA{c}" for c in "ABCDEFGHIJK"]
    plus = ["QPA", "QPB", "QPC"]
    assert members("PLUS_THREE", on=SOME_DAY, countries=table) == plus
    assert members("ASEAN", on="1999-04-29", countries=table) == asean[:9]
    assert members("ASEAN", on="1999-04-30", countries=table) == asean[:10]
    assert members("ASEAN", on="2025-10-26", countries=table) == asean
    assert members("ASEAN10", on=SOME_DAY, countries=table) == asean[:10]
    assert members("ASEAN+3", on="2025-10-25", countries=table) == asean[:10] + plus
    assert members("FOCUS", on="1950-01-01", countries=table) == asean + plus
    assert members("ASEAN", on="1967-08-07", countries=table) == []


def test_asean10_needs_ten_members(tmp_path):
    path = write_synthetic_members(tmp_path / "synthetic_short.csv", synthetic_members_rows()[:4])
    countries = build_countries(pd.DataFrame({"country": [], "name": [], "iso3": []}),
                                pd.DataFrame({"iso3": [], "name": [], "region": [], "income_group": []}),
                                load_members(path))
    with pytest.raises(ValueError, match="at least 10"):
        members("ASEAN10", on=SOME_DAY, countries=countries)


def test_plus_three_comes_from_the_references_grouping():
    table = load_members()
    expected = sorted(table.loc[table["grouping"] == "Plus Three", "iso3"])
    assert members("PLUS_THREE", on=SOME_DAY, countries=table) == expected
    assert members("Plus Three", on=SOME_DAY, countries=table) == expected


def test_world_bank_groups_need_the_countries_table(synthetic_members, synthetic_countries):
    assert members("region:Synthetic West", on=SOME_DAY, countries=synthetic_countries) == ["QZA", "QZB"]
    high = members("income:High income", on=SOME_DAY, countries=synthetic_countries)
    assert high == sorted(synthetic_countries.loc[synthetic_countries["wb_income_group"] == "High income", "iso3"])
    with pytest.raises(ValueError, match="no wb_region 'Nowhere'"):
        members("region:Nowhere", on=SOME_DAY, countries=synthetic_countries)
    with pytest.raises(ValueError, match="unknown group kind"):
        members("continent:Asia", on=SOME_DAY, countries=synthetic_countries)
    with pytest.raises(ValueError, match="needs the store's countries table"):
        members("region:Synthetic West", on=SOME_DAY, countries=synthetic_members)


def test_unknown_group_and_bad_date(synthetic_members):
    with pytest.raises(ValueError, match="unknown group"):
        members("EU", on=SOME_DAY, countries=synthetic_members)
    with pytest.raises(ValueError, match="ISO date"):
        members("ASEAN", on="not a date", countries=synthetic_members)


def test_a_table_without_membership_columns_is_refused():
    with pytest.raises(ValueError, match="need a countries table"):
        members("ASEAN", on=SOME_DAY, countries=pd.DataFrame({"iso3": ["QAA"], "name": ["Synthetic"]}))


def test_is_group():
    assert is_group("FOCUS") and is_group("asean+3") and is_group("region:X")
    assert not is_group("IDN")
    assert all(is_group(g) for g in membership.GROUP_NAMES)


# ---------------------------------------------------------------- build_countries


def test_build_countries_union_names_and_flags(synthetic_members, synthetic_countries):
    table = synthetic_countries
    assert table["iso3"].is_unique
    assert "QWW" not in set(table["iso3"])  # an aggregate (empty Region) is not an economy
    assert len(table) == 16
    row = table.set_index("iso3")
    # focus names come from the references file, others from the World Bank
    assert row.loc["QAA", "name"] == "Synthetic Z" and row.loc["QZA", "name"] == "WB QZA"
    assert row.loc["QAK", "asean_joined"] == "2025-10-26"
    assert pd.isna(row.loc["QPA", "asean_joined"]) and row.loc["QPA", "plus_three"]
    assert row["focus"].sum() == 14 and not row.loc["QZA", "focus"]
    assert table["m49"].dtype == "Int64" and row.loc["QZB", "m49"] == 915
    assert table["name"].dtype == "string"


def test_build_countries_keeps_economies_from_either_source():
    members = pd.DataFrame({"iso3": ["QAA"], "m49": pd.array([901], dtype="Int64"), "name": ["Syn A"],
                            "grouping": ["ASEAN"], "joined": ["1967-08-08"]})
    wpp = pd.DataFrame({"country": ["901", "902"], "name": ["WPP A", "WPP only"], "iso3": ["QAA", "QWP"]})
    wb = pd.DataFrame({"iso3": ["QAA", "QWB", "QAG"], "name": ["WB A", "WB only", "Aggregate"],
                       "region": ["R", "R", pd.NA], "income_group": ["High income", "Low income", pd.NA]})
    table = build_countries(wpp, wb, members).set_index("iso3")
    assert sorted(table.index) == ["QAA", "QWB", "QWP"]
    assert table.loc["QWP", "name"] == "WPP only" and pd.isna(table.loc["QWP", "wb_region"])
    assert not table.loc["QWP", "in_wb"] and table.loc["QWP", "in_wpp"]
    assert table.loc["QWB", "name"] == "WB only" and pd.isna(table.loc["QWB", "m49"])


def test_metadata_vintages_newest_wins_and_differences_are_noted():
    members = pd.DataFrame({"iso3": ["QAA"], "m49": pd.array([901], dtype="Int64"), "name": ["Syn A"],
                            "grouping": ["ASEAN"], "joined": ["1967-08-08"]})
    wpp = pd.DataFrame({"country": ["901", "902"], "name": ["A", "B"], "iso3": ["QAA", "QAB"]})
    old = pd.DataFrame({"Country Code": ["QAA", "QAB"], "Region": ["Old region", "R"],
                        "IncomeGroup": ["Low income", "High income"], "TableName": ["A", "Bee"],
                        "vintage": "2023-03-01"})
    new = old.assign(Region=["New region", "R"], TableName=["A", "B"], vintage="2025-07-01")
    table = build_countries(wpp, pd.concat([new, old]), members).set_index("iso3")
    assert table.loc["QAA", "wb_region"] == "New region"
    assert table.loc["QAA", "wb_metadata_note"] == "wb_region: Old region (2023-03-01) / New region (2025-07-01)"
    assert table.loc["QAB", "wb_name"] == "B"
    assert table.loc["QAB", "wb_metadata_note"] == "wb_name: Bee (2023-03-01) / B (2025-07-01)"
    diffs = metadata_differences(pd.concat([new, old]))
    assert set(diffs["iso3"]) == {"QAA", "QAB"} and len(diffs) == 4


# ---------------------------------------------------------------- to_iso3


def test_to_iso3_maps_every_scheme_and_reports_the_rest(synthetic_countries):
    frame = pd.DataFrame({
        "geo": ["QAA", "qab", "x84", "QWW", "900", "0901", "999", "QZA", "abc"],
        "geo_scheme": ["iso3", "ilo", "ilo", "iso3", "m49", "m49", "m49", "iso3", "m49"],
        "value": range(9),
    })
    mapped, unmapped = to_iso3(frame, synthetic_countries)
    assert mapped["iso3"].tolist() == ["QAA", "QAB", "QAA", "QAB", "QZA"]
    assert mapped["value"].tolist() == [0, 1, 4, 5, 7]  # order and other columns kept
    assert mapped["iso3"].dtype == "string"
    got = {(r.geo, r.geo_scheme): r.rows for r in unmapped.itertuples()}
    assert got == {("x84", "ilo"): 1, ("QWW", "iso3"): 1, ("999", "m49"): 1, ("abc", "m49"): 1}


def test_to_iso3_counts_repeated_unmapped_codes(synthetic_countries):
    frame = pd.DataFrame({"geo": ["x01"] * 3 + ["qaa"], "geo_scheme": ["ilo"] * 4})
    mapped, unmapped = to_iso3(frame, synthetic_countries)
    assert len(mapped) == 1 and unmapped.to_dict("records") == [{"geo": "x01", "geo_scheme": "ilo", "rows": 3}]


def test_to_iso3_rejects_unknown_scheme(synthetic_countries):
    with pytest.raises(ValueError, match="geo_scheme"):
        to_iso3(pd.DataFrame({"geo": ["QAA"], "geo_scheme": ["iso2"]}), synthetic_countries)


# ---------------------------------------------------------------- display helpers


def test_display_order_asean_by_name_then_plus_three(synthetic_countries):
    order = display_order(synthetic_countries)
    names = country_names(synthetic_countries)
    asean, plus = order[:11], order[11:]
    assert [names[c] for c in asean] == sorted(names[c] for c in asean)
    assert plus == ["QPA", "QPB", "QPC"]
    assert order[0] == "QAK"  # "Synthetic P" sorts first among Synthetic P..Z


def test_country_names_for_a_subset(synthetic_countries):
    assert country_names(synthetic_countries, ["QZA", "NOPE"]) == {"QZA": "WB QZA", "NOPE": "NOPE"}
