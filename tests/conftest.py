"""Shared fixtures: a tiny SYNTHETIC project (registry, catalogue, raw tree) built in ``tmp_path``.

``make_synthetic_project(tmp_path)`` writes made-up files in every input format the parsers read,
a ``data/sources.toml`` pinning their sha256, a ``data/indicators.toml`` selecting and deriving
indicators from them, and a made-up references table. Nothing here is copied from the real sources:
country codes are fictitious (AAA, BBB, ...) and numbers are invented.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

WB_BOM = "\ufeff"

# Fictitious economies: AAA and BBB (ASEAN), CCC (Plus Three) carry data; DDD is a non-member.
# Eight more made-up ASEAN members without data complete the ten that "ASEAN10" needs.
_EXTRA_MEMBERS = "".join(f"{c * 3},{910 + i},Member {c},ASEAN,1984-01-07,https://example.org/synthetic\n"
                         for i, c in enumerate("EFGHIJKL"))
SYNTHETIC_MEMBERS = """iso3,m49,name,grouping,joined,source_url
AAA,901,Synthetia,ASEAN,1967-08-08,https://example.org/synthetic
BBB,902,Fakeland,ASEAN,1999-04-30,https://example.org/synthetic
CCC,903,Mockistan,Plus Three,,https://example.org/synthetic
""" + _EXTRA_MEMBERS


def _wdi_tidy(code: str, values: dict[tuple[str, int], float]) -> str:
    names = {"AAA": "Synthetia", "BBB": "Fakeland", "CCC": "Mockistan", "DDD": "Otherland", "WLD": "World"}
    lines = ["Country Name,Country Code,Year,Value"]
    lines += [f"{names[g]},{g},{y},{v}" for (g, y), v in values.items()]
    return "\r\n".join(lines) + "\r\n"


def synthetic_wdi_tidy(code: str, base: float) -> str:
    """A datahub WDI file: 4 economies and the WLD aggregate, 2000-2002; DDD lacks 2002 (missing value)."""
    values = {}
    for i, geo in enumerate(["AAA", "BBB", "CCC", "DDD", "WLD"]):
        for year in (2000, 2001, 2002):
            values[(geo, year)] = round(base + i + (year - 2000) * 0.5, 3)
    text = _wdi_tidy(code, values)
    return text.replace("Otherland,DDD,2002," + str(values[("DDD", 2002)]), "Otherland,DDD,2002,")


def synthetic_worldbank_api(code: str, updated: str) -> str:
    """A World Bank API wide file with preamble and the trailing comma of the real exports."""
    years = [str(y) for y in range(1998, 2003)]
    head = ",".join(f'"{h}"' for h in ["Country Name", "Country Code", "Indicator Name", "Indicator Code", *years])
    rows = []
    for name, geo, vals in [("Synthetia", "AAA", ["", "", "40", "", "45"]), ("World", "WLD", ["", "", "60", "", "61"]),
                            ("Mockistan", "CCC", ["", "", "", "70", ""]), ("Otherland", "DDD", [""] * 5)]:
        cells = [name, geo, "Synthetic index", code, *vals]
        rows.append(",".join(f'"{c}"' for c in cells) + ",")
    return (WB_BOM + '"Data Source","World Development Indicators",\n\n'
            f'"Last Updated Date","{updated}",\n\n' + head + ",\n" + "\n".join(rows) + "\n")


def synthetic_metadata_country() -> str:
    rows = ['"Country Code","Region","IncomeGroup","SpecialNotes","TableName",',
            '"AAA","East Asia & Pacific","Lower middle income","","Synthetia",',
            '"BBB","East Asia & Pacific","Upper middle income","","Fakeland",',
            '"CCC","East Asia & Pacific","High income","","Mockistan",',
            '"DDD","Sub-Saharan Africa","Low income","","Otherland",',
            '"WLD","","","","World",']
    return WB_BOM + "\r\n".join(rows) + "\r\n"


def synthetic_ghed() -> str:
    lines = ["iso3_code,year,value,unit,source,entity_name"]
    for geo, name, oop in [("AAA", "Synthetia", 30.5), ("BBB", "Fakeland", 55.0), ("", "Low income", 41.0)]:
        for year in (2000, 2001):
            lines.append(f"{geo},{year},{oop + year - 2000},percent of health expenditure,Out-of-pocket,{name}")
            lines.append(f"{geo},{year},{100 - oop},percent of health expenditure,Domestic government,{name}")
            lines.append(f"{geo},{year},{oop * 1000},constant USD (2022),Out-of-pocket,{name}")
    lines.append("CCC,2000,,percent of health expenditure,Out-of-pocket,Mockistan")
    return "\n".join(lines) + "\n"


def synthetic_sdg_pensn() -> str:
    lines = ["geo_area,nature,sex,units,year,si_cov_pensn",
             "901,e,bothsex,percent,2016,20.5", "901,e,female,percent,2016,15.5",
             "903,e,bothsex,percent,2016,99.0", "1,e,bothsex,percent,2016,60.0", "9,e,bothsex,percent,2016,50.0"]
    return "\n".join(lines) + "\n"


def synthetic_sdg_entities() -> str:
    return "geo_area,name\n1,World\n9,Oceania\n901,Synthetia\n902,Fakeland\n903,Mockistan\n904,Otherland\n"


def synthetic_ilostat() -> str:
    lines = ["ref_area,sex,classif1,time,sdg_0131_sex_soc_rt",
             "aaa,sex_t,soc_contig_pension,2020,33.3", "aaa,sex_f,soc_contig_pension,2020,30.1",
             "aaa,sex_f,soc_contig_mat,2020,12.5", "ccc,sex_t,soc_contig_pension,2021,95.5",
             "x01,sex_t,soc_contig_pension,2020,77.7"]
    return "\n".join(lines) + "\n"


def synthetic_ilostat_ref_area() -> str:
    return "ref_area,ref_area_label\naaa,Synthetia\nccc,Mockistan\nx01,World\n"


def synthetic_wpp_entities() -> str:
    return ("country,is--country,name,iso3\n901,TRUE,Synthetia,AAA\n902,TRUE,Fakeland,BBB\n"
            "903,TRUE,Mockistan,CCC\n904,TRUE,Otherland,DDD\n")


WPP_AGES = ["0_4", "5_64", "65_69", "70_74", "75_79", "80_84", "85_89", "90_94", "95_99", "100plus"]


def synthetic_wpp_age(m49: int) -> str:
    lines = ["country,time,age5yearinterval,population"]
    for year in (2019, 2020, 2021, 2050):
        for i, age in enumerate(WPP_AGES):
            lines.append(f"{m49},{year},{age},{(i + 1) * 10 + (year - 2019)}")
    return "\n".join(lines) + "\n"


def synthetic_wpp_total(m49: int) -> str:
    lines = ["country,time,population"]
    for year in (2019, 2020, 2021, 2050):
        total = sum((i + 1) * 10 + (year - 2019) for i in range(len(WPP_AGES)))
        lines.append(f"{m49},{year},{total}")
    return "\n".join(lines) + "\n"


def synthetic_wpp_lex60() -> str:
    lines = ["country,time,freq,lex_at_60"]
    for m49 in (901, 903):
        for year in (2010, 2015, 2020, 2025):
            lines.append(f"{m49},{year},5yr,{20 + (year - 2010) / 10}")
    return "\n".join(lines) + "\n"


def synthetic_owid() -> str:
    lines = ["Entity,Code,Year,Healthy life expectancy (synthetic)", "Synthetia,AAA,2000,60.5",
             "Synthetia,AAA,2001,61.0", "Mockistan,CCC,2000,70.25", "Africa (WHO),,2000,50", "World,OWID_WRL,2000,63"]
    return "\n".join(lines)  # no final newline, like the real OWID export


WDI_BASE = "github/datasets/synthetic-wdi/0000000000000000000000000000000000000001/indicators"
WB = "github/synthetic/wb/0000000000000000000000000000000000000002/data"
GHED = "github/synthetic/ghed/0000000000000000000000000000000000000003/output"
SDG = "github/synthetic/ddf--sdg/0000000000000000000000000000000000000004"
WPP = "github/synthetic/ddf--wpp/0000000000000000000000000000000000000005"
ILO = "extracts/synthetic-ilostat"
OWID = "github/synthetic/owid/0000000000000000000000000000000000000006"


def synthetic_files() -> list[dict]:
    """The synthetic raw tree: registry entries (without sha256) with their text."""
    files = [
        dict(id="wdi/sp.pop.65up.to.zs", dataset="wdi", parser="datahub_tidy",
             path=f"{WDI_BASE}/sp.pop.65up.to.zs/data.csv", text=synthetic_wdi_tidy("SP.POP.65UP.TO.ZS", 10.0)),
        dict(id="wdi/sp.pop.1564.to.zs", dataset="wdi", parser="datahub_tidy",
             path=f"{WDI_BASE}/sp.pop.1564.to.zs/data.csv", text=synthetic_wdi_tidy("SP.POP.1564.TO.ZS", 60.0)),
        dict(id="wdi/sp.pop.totl", dataset="wdi", parser="datahub_tidy",
             path=f"{WDI_BASE}/sp.pop.totl/data.csv", text=synthetic_wdi_tidy("SP.POP.TOTL", 1000.0)),
        dict(id="wb-api/SH.UHC.SRVS.CV.XD", dataset="wb-api", parser="worldbank_api", vintage="2025-01-28",
             path=f"{WB}/API_SH.UHC.SRVS.CV.XD_DS2_en_csv_v2_1.csv",
             text=synthetic_worldbank_api("SH.UHC.SRVS.CV.XD", "2025-01-28")),
        dict(id="wb-api/SH.UHC.SRVS.CV.XD/metadata-country", dataset="wb-api", parser="worldbank_api_metadata_country",
             role="metadata", vintage="2025-01-28",
             path=f"{WB}/Metadata_Country_API_SH.UHC.SRVS.CV.XD_DS2_en_csv_v2_1.csv",
             text=synthetic_metadata_country()),
        dict(id="ghed/expenditure_by_source", dataset="ghed", parser="ghed_long",
             path=f"{GHED}/expenditure_by_source.csv", text=synthetic_ghed()),
        dict(id="sdg2020/entities-geo_area", dataset="sdg2020", parser="ddf_entities", role="entities",
             path=f"{SDG}/ddf--entities--geo_area.csv", text=synthetic_sdg_entities()),
        dict(id="sdg2020/si_cov_pensn", dataset="sdg2020", parser="ddf_datapoints",
             path=f"{SDG}/ddf--datapoints--si_cov_pensn--by--geo_area--nature--sex--units--year.csv",
             text=synthetic_sdg_pensn()),
        dict(id="ilostat/sdg_0131_sex_soc_rt", dataset="ilostat", parser="ddf_datapoints", url="",
             origin="synthetic upstream", vintage="2025-06-02",
             path=f"{ILO}/ddf--datapoints--sdg_0131_sex_soc_rt--by--ref_area--sex--classif1--time.csv",
             text=synthetic_ilostat()),
        dict(id="ilostat/entities--ref_area", dataset="ilostat", parser="ddf_entities", role="entities", url="",
             origin="synthetic upstream", path=f"{ILO}/ddf--entities--ref_area.csv", text=synthetic_ilostat_ref_area()),
        dict(id="wpp2019/entities-country", dataset="wpp2019", parser="ddf_entities", role="entities",
             path=f"{WPP}/ddf--entities--geo--country.csv", text=synthetic_wpp_entities()),
        dict(id="wpp2019/lex_at_60--by--country--time--freq", dataset="wpp2019", parser="ddf_datapoints",
             path=f"{WPP}/lex/ddf--datapoints--lex_at_60--by--country--time--freq.csv", text=synthetic_wpp_lex60()),
        dict(id="hale/healthy-life-expectancy-at-birth", dataset="hale", parser="owid",
             path=f"{OWID}/data/healthy-life-expectancy-at-birth.csv", text=synthetic_owid()),
    ]
    for m49 in (901, 903):
        files.append(dict(id=f"wpp2019/population--by--country-{m49}--time--age5yearinterval", dataset="wpp2019",
                          parser="ddf_datapoints",
                          path=f"{WPP}/age/ddf--datapoints--population--by--country-{m49}--time--age5yearinterval.csv",
                          text=synthetic_wpp_age(m49)))
        files.append(dict(id=f"wpp2019/population--by--country-{m49}--time", dataset="wpp2019",
                          parser="ddf_datapoints",
                          path=f"{WPP}/total/ddf--datapoints--population--by--country-{m49}--time.csv",
                          text=synthetic_wpp_total(m49)))
    return files


DATASETS = ("wdi", "wb-api", "ghed", "sdg2020", "ilostat", "wpp2019", "hale")

SYNTHETIC_CATALOGUE = '''
[[indicator]]
id = "pop_total"
title = "Population"
definition = "Synthetic total population."
unit = "persons"
group = "whole_population"
domain = "poverty_and_context"
better = "neutral"
source = "wdi"
file = "wdi/sp.pop.totl"
code = "SP.POP.TOTL"

[[indicator]]
id = "pop_65plus_share"
title = "Population 65+"
definition = "Synthetic share aged 65+."
unit = "% of population"
group = "older_persons"
domain = "poverty_and_context"
better = "neutral"
source = "wdi"
file = "wdi/sp.pop.65up.to.zs"
code = "SP.POP.65UP.TO.ZS"

[[indicator]]
id = "pop_15_64_share"
title = "Population 15-64"
definition = "Synthetic share aged 15-64."
unit = "% of population"
group = "whole_population"
domain = "poverty_and_context"
better = "neutral"
source = "wdi"
file = "wdi/sp.pop.1564.to.zs"
code = "SP.POP.1564.TO.ZS"

[[indicator]]
id = "old_age_dependency_ratio"
title = "Old-age dependency ratio"
definition = "65+ per 100 aged 15-64."
unit = "per 100 persons aged 15-64"
group = "older_persons"
domain = "poverty_and_context"
better = "neutral"
derive = { method = "ratio", of = ["pop_65plus_share", "pop_15_64_share"], scale = 100 }

[[indicator]]
id = "uhc_service_coverage"
title = "UHC index"
definition = "Synthetic UHC index."
unit = "index (0-100)"
group = "whole_population"
domain = "health"
better = "higher"
source = "wb-api"
file = "wb-api/SH.UHC.SRVS.CV.XD"
code = "SH.UHC.SRVS.CV.XD"
bounds = [0, 100]

[[indicator]]
id = "oop_share_che"
title = "OOP share"
definition = "Synthetic out-of-pocket share."
unit = "% of current health expenditure"
group = "whole_population"
domain = "health"
better = "lower"
source = "ghed"
file = "ghed/expenditure_by_source"
code = "expenditure_by_source"
select = { unit = "percent of health expenditure", source = "Out-of-pocket" }

[[indicator]]
id = "sp_cov_pension_sdg2020"
title = "Pension coverage (2020 vintage)"
definition = "Synthetic pension coverage."
unit = "% of population above retirement age"
group = "older_persons"
domain = "social_protection"
better = "higher"
source = "sdg2020"
file = "sdg2020/si_cov_pensn"
code = "si_cov_pensn"
select = { sex = "bothsex" }

[[indicator]]
id = "sp_cov_pension"
title = "Pension coverage"
definition = "Synthetic pension coverage (ILOSTAT)."
unit = "% of population above retirement age"
group = "older_persons"
domain = "social_protection"
better = "higher"
source = "ilostat"
file = "ilostat/sdg_0131_sex_soc_rt"
code = "sdg_0131_sex_soc_rt"
select = { classif1 = "soc_contig_pension", sex = "sex_t" }

[[indicator]]
id = "sp_cov_maternity"
title = "Maternity coverage"
definition = "Synthetic maternity coverage."
unit = "% of women giving birth"
group = "mothers"
domain = "social_protection"
better = "higher"
source = "ilostat"
file = "ilostat/sdg_0131_sex_soc_rt"
code = "sdg_0131_sex_soc_rt"
select = { classif1 = "soc_contig_mat", sex = "sex_f" }

[[indicator]]
id = "pop_total_wpp"
title = "Population (WPP)"
definition = "Synthetic WPP total."
unit = "thousand persons"
group = "whole_population"
domain = "poverty_and_context"
better = "neutral"
source = "wpp2019"
file = "wpp2019/population--by--country-*--time"
code = "population"
projection_from = 2021

[[indicator]]
id = "pop_65plus_wpp"
title = "Population 65+ (WPP)"
definition = "Synthetic sum of age groups."
unit = "thousand persons"
group = "older_persons"
domain = "poverty_and_context"
better = "neutral"
source = "wpp2019"
file = "wpp2019/population--by--country-*--time--age5yearinterval"
code = "population"
select = { age5yearinterval = ["65_69", "70_74", "75_79", "80_84", "85_89", "90_94", "95_99", "100plus"] }
combine = "sum"
projection_from = 2021

[[indicator]]
id = "pop_65plus_share_wpp"
title = "Population 65+ share (WPP)"
definition = "Synthetic share."
unit = "% of population"
group = "older_persons"
domain = "poverty_and_context"
better = "neutral"
derive = { method = "ratio", of = ["pop_65plus_wpp", "pop_total_wpp"], scale = 100 }

[[indicator]]
id = "life_expectancy_60_wpp"
title = "Life expectancy at 60"
definition = "Synthetic 5-year periods."
unit = "years"
group = "older_persons"
domain = "health"
better = "higher"
source = "wpp2019"
file = "wpp2019/lex_at_60--by--country--time--freq"
code = "lex_at_60"
select = { freq = "5yr" }
period = 5
projection_from = 2021

[[indicator]]
id = "hale_birth"
title = "HALE"
definition = "Synthetic HALE."
unit = "years"
group = "whole_population"
domain = "health"
better = "higher"
source = "hale"
file = "hale/healthy-life-expectancy-at-birth"
code = "healthy-life-expectancy-at-birth"

[[indicator]]
id = "hale_minus_65plus"
title = "Synthetic difference"
definition = "HALE minus the share aged 65+ (a synthetic difference, only to test the method)."
unit = "synthetic units"
group = "whole_population"
domain = "health"
better = "neutral"
bounds = [-1000, 1000]
derive = { method = "difference", of = ["hale_birth", "pop_65plus_share"] }
'''


def _gaps(catalogue_text: str) -> str:
    """A [[gap]] for every group x domain cell the synthetic catalogue leaves empty."""
    from analysis.config.catalogue import DOMAINS, GROUPS

    filled = set(re.findall(r'group = "(\w+)"\ndomain = "(\w+)"', catalogue_text))
    out = []
    for g in GROUPS:
        for d in DOMAINS:
            if (g, d) not in filled:
                out.append(f'[[gap]]\ngroup = "{g}"\ndomain = "{d}"\nreason = "Not in the synthetic sources."\n')
    return "\n".join(out)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class SyntheticProject:
    """A project root in a tmp dir with synthetic sources; helpers to damage inputs for tests."""

    root: Path
    files: dict[str, dict] = field(default_factory=dict)

    @property
    def raw_dir(self) -> Path:
        return self.root / "data" / "raw"

    @property
    def processed_dir(self) -> Path:
        return self.root / "data" / "processed"

    def raw_path(self, file_id: str) -> Path:
        return self.raw_dir / self.files[file_id]["path"]

    def write_raw(self, file_id: str, data: bytes | str, *, repin: bool = True) -> Path:
        """Replace a raw file; with ``repin`` the registry's sha256 follows (so the parser sees it)."""
        raw = data.encode("utf-8") if isinstance(data, str) else data
        path = self.raw_path(file_id)
        path.write_bytes(raw)
        if repin:
            self.files[file_id]["sha256"] = sha256_hex(raw)
            self.write_registry()
        return path

    def write_registry(self) -> None:
        parts = []
        for ds in DATASETS:
            parts.append(f'[[dataset]]\nid = "{ds}"\npublisher = "Synthetic"\ntitle = "Synthetic {ds}"\n'
                         f'landing_page = "https://example.org"\ndistributor = "tests"\nlicence = "CC0"\n'
                         f'vintage = "2020-01-01"\n')
        for f in self.files.values():
            lines = ["[[file]]"] + [f'{k} = "{f[k]}"' for k in ("id", "dataset", "role", "parser", "path", "url",
                                                                   "sha256", "vintage", "origin") if k in f]
            parts.append("\n".join(lines) + "\n")
        (self.root / "data" / "sources.toml").write_text("\n".join(parts), encoding="utf-8")

    def write_catalogue(self, text: str) -> None:
        (self.root / "data" / "indicators.toml").write_text(text + "\n" + _gaps(text), encoding="utf-8")

    def snapshot(self) -> dict[str, bytes]:
        """Every file under data/processed (bytes), to prove a failed build changed nothing."""
        return {p.relative_to(self.processed_dir).as_posix(): p.read_bytes()
                for p in sorted(self.processed_dir.rglob("*")) if p.is_file()}


def make_synthetic_project(root: Path, catalogue: str = SYNTHETIC_CATALOGUE) -> SyntheticProject:
    """Write the synthetic project under ``root`` (see the module docstring)."""
    project = SyntheticProject(root=root)
    (root / "data" / "raw" / "references").mkdir(parents=True)
    (root / "data" / "raw" / "references" / "asean_members.csv").write_text(SYNTHETIC_MEMBERS, encoding="utf-8")
    (root / "pyproject.toml").write_text("# synthetic project root\n", encoding="utf-8")
    for entry in synthetic_files():
        text = entry.pop("text")
        entry.setdefault("role", "data")
        if "url" not in entry:
            entry["url"] = "https://raw.githubusercontent.com/" + entry["path"][len("github/"):]
        raw = text.encode("utf-8")
        path = root / "data" / "raw" / entry["path"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(raw)
        entry["sha256"] = sha256_hex(raw)
        project.files[entry["id"]] = entry
    project.write_registry()
    project.write_catalogue(catalogue)
    return project


@pytest.fixture
def synthetic_project(tmp_path, monkeypatch) -> SyntheticProject:
    """A synthetic project, made the current project root (ANALYSIS_PROJECT_ROOT) for the test."""
    project = make_synthetic_project(tmp_path / "project")
    monkeypatch.setenv("ANALYSIS_PROJECT_ROOT", str(project.root))
    return project


def pytest_collection_modifyitems(config, items):
    """Everything under tests/integration/ carries the `integration` marker, so that
    `pytest -m "not integration"` runs the fast unit tests alone."""
    for item in items:
        if "integration" in Path(str(item.path)).parts:
            item.add_marker(pytest.mark.integration)
