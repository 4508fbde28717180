"""Synthetic fixtures for the chart, band and report tests (values are made up, named as such).

``make_synthetic_project(root)`` lays out a tiny project: a synthetic source registry and indicator
catalogue, the committed reference tables (copied from the repository, as they are part of it), and a
small store written in the declared layout.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.pipeline.build import write_table

REPO = Path(__file__).resolve().parents[1]

SYNTHETIC_SOURCES_TOML = '''
[[dataset]]
id = "synthetic-wdi"
publisher = "Synthetic Publisher A"
title = "Synthetic Development Indicators"
landing_page = "https://example.org/a"
distributor = "test fixture"
licence = "CC0 (synthetic)"
vintage = "2099-01-01"

[[dataset]]
id = "synthetic-wpp"
publisher = "Synthetic Publisher B"
title = "Synthetic Population Prospects"
landing_page = "https://example.org/b"
distributor = "test fixture"
licence = "CC0 (synthetic)"
vintage = "2098-06-30"

[[file]]
id = "synthetic-wdi/a"
dataset = "synthetic-wdi"
parser = "none"
path = "synthetic/a.csv"
url = "https://example.org/a.csv"
sha256 = "0000000000000000000000000000000000000000000000000000000000000000"

[[file]]
id = "synthetic-wpp/b"
dataset = "synthetic-wpp"
parser = "none"
path = "synthetic/b.csv"
url = "https://example.org/b.csv"
sha256 = "0000000000000000000000000000000000000000000000000000000000000000"
'''


def focus_members() -> pd.DataFrame:
    return pd.read_csv(REPO / "data" / "raw" / "references" / "asean_members.csv", dtype="string")


def synthetic_series(indicator_id: str, years, *, base: float = 10.0, step: float = 0.5, missing=(),
                     source_id: str = "synthetic-wdi", vintage: str = "2099-01-01", unit: str = "%",
                     projection_after: int | None = None) -> pd.DataFrame:
    """Deterministic synthetic values: country k gets base + 2k + step * (year - first year)."""
    iso = [i for i in focus_members()["iso3"] if i not in missing]
    rows = []
    for k, code in enumerate(focus_members()["iso3"]):
        if code not in iso:
            continue
        for y in years:
            rows.append({"iso3": code, "year": int(y), "indicator_id": indicator_id,
                         "value": base + 2.0 * k + step * (int(y) - int(years[0])), "unit": unit,
                         "source_id": source_id, "vintage": vintage,
                         "projection": bool(projection_after is not None and y > projection_after)})
    return pd.DataFrame(rows)


def make_synthetic_project(root: Path) -> Path:
    """A minimal project tree with a synthetic registry, the reference tables and a synthetic store."""
    (root / "data" / "raw" / "references").mkdir(parents=True, exist_ok=True)
    (root / "data" / "sources.toml").write_text(SYNTHETIC_SOURCES_TOML, encoding="utf-8")
    (root / "data" / "indicators.toml").write_text(synthetic_catalogue_toml(), encoding="utf-8")
    (root / "pyproject.toml").write_text("[project]\nname = 'synthetic'\n", encoding="utf-8")
    for f in (REPO / "data" / "raw" / "references").glob("*.csv"):
        shutil.copy(f, root / "data" / "raw" / "references" / f.name)
    write_synthetic_store(root / "data" / "processed")
    return root


def synthetic_store_frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    members = focus_members()
    countries = pd.DataFrame({
        "iso3": members["iso3"].astype("string"), "name": members["name"].astype("string"),
        "asean_joined": members["joined"].astype("string"),
        "plus_three": (members["grouping"] == "Plus Three").astype(bool),
        "focus": True, "in_wb": True, "in_wpp": True,
    })
    parts = [
        synthetic_series("sp_cov_pension", [2016, 2018, 2020], base=20.0, missing=("MMR", "TLS")),
        synthetic_series("under5_mortality", list(range(2010, 2023)), base=40.0, step=-1.0),
        synthetic_series("pop_65plus_share_wpp", list(range(2000, 2041, 5)), base=5.0, source_id="synthetic-wpp",
                         vintage="2098-06-30", projection_after=2020),
        synthetic_series("gov_share_che", [2019, 2020], base=40.0, step=0.0, missing=("KOR",)),
        synthetic_series("oop_share_che", [2019, 2020], base=20.0, step=0.0, missing=("KOR",)),
        # The aggregation weight: distinct per country so a weighted mean differs from a plain one.
        synthetic_series("pop_total", list(range(2010, 2023)), base=1000.0, step=0.0, unit="persons"),
    ]
    data = pd.concat(parts, ignore_index=True)
    data = data.astype({"iso3": "string", "indicator_id": "string", "unit": "string", "source_id": "string",
                        "vintage": "string", "year": "int16"})
    data = data.sort_values(["indicator_id", "iso3", "year"]).reset_index(drop=True)
    return data, countries


def write_synthetic_store(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    data, countries = synthetic_store_frames()
    write_table("indicators", data, directory / "indicators.parquet")
    write_table("countries", countries, directory / "countries.parquet")
    (directory / "manifest.json").write_text(json.dumps({"synthetic": True, "rows": len(data)}), encoding="utf-8")


SYNTHETIC_CATALOGUE = pd.DataFrame([
    {"indicator_id": "sp_cov_pension", "title": "Synthetic pension coverage", "unit": "%", "better": "higher",
     "group": "older_persons", "domain": "social_protection", "min_difference": 8.0},
    {"indicator_id": "under5_mortality", "title": "Synthetic under-5 mortality", "unit": "per 1,000",
     "better": "lower", "group": "children", "domain": "health", "min_difference": 0.0},
    {"indicator_id": "pop_65plus_share_wpp", "title": "Synthetic share aged 65+", "unit": "%", "better": "neutral",
     "group": "older_persons", "domain": "poverty_and_context", "min_difference": 0.0},
    {"indicator_id": "gov_share_che", "title": "Synthetic government share", "unit": "%", "better": "higher",
     "group": "whole_population", "domain": "health", "min_difference": 0.0},
    {"indicator_id": "oop_share_che", "title": "Synthetic out-of-pocket share", "unit": "%", "better": "lower",
     "group": "whole_population", "domain": "health", "min_difference": 0.0},
    {"indicator_id": "pop_total", "title": "Synthetic population", "unit": "persons", "better": "neutral",
     "group": "whole_population", "domain": "poverty_and_context", "min_difference": 0.0},
])
# The source each synthetic indicator is selected from (the store's source_id of its rows).
_CATALOGUE_FILES = {"pop_65plus_share_wpp": ("synthetic-wpp", "synthetic-wpp/b")}
_GROUPS = ("older_persons", "children", "mothers", "persons_with_disabilities", "whole_population")
_DOMAINS = ("social_protection", "health", "care", "poverty_and_context")


def synthetic_catalogue_toml() -> str:
    """``data/indicators.toml`` of the synthetic project: SYNTHETIC_CATALOGUE, every other cell a gap."""
    parts = []
    for rec in SYNTHETIC_CATALOGUE.itertuples(index=False):
        source, file = _CATALOGUE_FILES.get(rec.indicator_id, ("synthetic-wdi", "synthetic-wdi/a"))
        parts.append(f'''[[indicator]]
id = "{rec.indicator_id}"
title = "{rec.title}"
definition = "Synthetic test indicator."
unit = "{rec.unit}"
group = "{rec.group}"
domain = "{rec.domain}"
better = "{rec.better}"
source = "{source}"
file = "{file}"
code = "{rec.indicator_id.upper()}"
min_difference = {rec.min_difference}
''')
    covered = set(zip(SYNTHETIC_CATALOGUE["group"], SYNTHETIC_CATALOGUE["domain"]))
    for group in _GROUPS:
        for domain in _DOMAINS:
            if (group, domain) not in covered:
                parts.append(f'[[gap]]\ngroup = "{group}"\ndomain = "{domain}"\nreason = "Synthetic gap."\n')
    return "\n".join(parts)


def pixel_variance(image) -> float:
    return float(np.asarray(image.convert("L"), dtype=float).var())


def synthetic_project_fixture():
    """A module-scoped, autouse fixture pointing the package at a fresh SYNTHETIC project; a test module
    takes it with ``synthetic_project = synthetic_project_fixture()``."""

    @pytest.fixture(scope="module", autouse=True)
    def synthetic_project(tmp_path_factory):
        root = make_synthetic_project(tmp_path_factory.mktemp("synthetic_project"))
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("ANALYSIS_PROJECT_ROOT", str(root))
            yield root

    return synthetic_project
