"""The refresh diff end to end on SYNTHETIC stores built from the made-up project of conftest.py.

The synthetic catalogue gets one concept measured by two sources: ``sp_cov_pension`` (ILOSTAT) and
``sp_cov_pension_sdg2020`` (SDG 2020), with a stated rule that ILOSTAT is current. The synthetic
ILOSTAT file gains a made-up AAA 2016 value beside the SDG one, so pairing the two sources shows a
revision, an added year, a dropped year and a newer latest year. A second store ("v2") is built after
a made-up ILOSTAT refresh: a new vintage that revises AAA 2020 and adds BBB 2022.

* :mod:`analysis.store.changes` and :mod:`analysis.presentation.changes_report` (both pairings);
* the main job: a changed vintage makes it write the diff through its staging area, an unchanged one
  does not.
"""

from __future__ import annotations

import csv
import io
import shutil
import sys
import textwrap
from pathlib import Path

import pytest

from analysis.cli.job import Job, JobOptions, step_argv
from analysis.core import paths
from analysis.core.errors import AnalysisError
from analysis.pipeline.build import build_store
from analysis.presentation import changes_report
from analysis.store import changes
from conftest import SYNTHETIC_CATALOGUE, make_synthetic_project

ILO_FILE = "ilostat/sdg_0131_sex_soc_rt"
SDG_PENSION = 'code = "si_cov_pensn"\nselect = { sex = "bothsex" }\n'
RULE = ('\n[[concept]]\nid = "sp_cov_pension"\ntitle = "Pension coverage"\nprefer = ["ilostat", "sdg2020"]\n'
        'note = "Synthetic rule: the ILOSTAT extract is newer than the SDG 2020 build."\n')
CATALOGUE = SYNTHETIC_CATALOGUE.replace(SDG_PENSION, SDG_PENSION + 'concept = "sp_cov_pension"\n') + RULE

# Made-up values, as the synthetic raw files hold them (conftest.synthetic_sdg_pensn / synthetic_ilostat):
SDG_AAA_2016, SDG_CCC_2016 = 20.5, 99.0
ILO_AAA_2020, ILO_CCC_2021 = 33.3, 95.5
#: the made-up ILOSTAT row added beside the SDG value of the same year (a revision between the sources)
ILO_AAA_2016 = 21.25
#: the made-up refresh of ILOSTAT (store v2): a new vintage, AAA 2020 revised, BBB 2022 added
V2_VINTAGE, V2_AAA_2020, V2_BBB_2022 = "2026-01-15", 35.0, 40.0


def _build(project, processed: Path | None = None) -> None:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(paths.ROOT_ENV, str(project.root))
        for env in (paths.PROCESSED_ENV, paths.REPORTS_ENV):
            mp.delenv(env, raising=False)
        assert not build_store(progress=False, force=True, processed_dir=processed).skipped


def make_stores(root: Path):
    """The synthetic project with store v1 built in data/processed and store v2 in ``root``/v2."""
    project = make_synthetic_project(root / "project", catalogue=CATALOGUE)
    ilo = project.raw_path(ILO_FILE).read_text(encoding="utf-8")
    project.write_raw(ILO_FILE, ilo + f"aaa,sex_t,soc_contig_pension,2016,{ILO_AAA_2016}\n")
    _build(project)
    v1 = project.raw_path(ILO_FILE).read_text(encoding="utf-8")
    refreshed = v1.replace(f"2020,{ILO_AAA_2020}", f"2020,{V2_AAA_2020}")
    refreshed += f"bbb,sex_t,soc_contig_pension,2022,{V2_BBB_2022}\n"
    assert refreshed.count(str(V2_AAA_2020)) == 1
    project.files[ILO_FILE]["vintage"] = V2_VINTAGE
    project.write_raw(ILO_FILE, refreshed)
    _build(project, root / "v2")
    # back to v1 inputs, so that the project and data/processed agree
    project.files[ILO_FILE]["vintage"] = "2025-06-02"
    project.write_raw(ILO_FILE, v1)
    return project, root / "v2"


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    return make_stores(tmp_path_factory.mktemp("changes"))


@pytest.fixture
def project(stores, monkeypatch):
    proj, _ = stores
    monkeypatch.setenv(paths.ROOT_ENV, str(proj.root))
    for env in (paths.PROCESSED_ENV, paths.REPORTS_ENV, paths.FIGURES_ENV, "ANALYSIS_LOCK_HELD"):
        monkeypatch.delenv(env, raising=False)
    return proj


def row(diff, iso3: str, change: str):
    found = diff.loc[(diff["iso3"] == iso3) & (diff["change"] == change)]
    assert len(found) == 1, (iso3, change, found)
    return found.iloc[0]


# ------------------------------------------------------------------------------ (a) two sources


def test_two_sources_of_one_concept(project):
    result = changes.compare_vintages("sdg2020", "ilostat")
    assert [(p.concept, p.old.indicator_id, p.new.indicator_id) for p in result.pairs] == [
        ("sp_cov_pension", "sp_cov_pension_sdg2020", "sp_cov_pension")]
    diff = result.diff
    revised = row(diff, "AAA", changes.REVISED)
    assert (revised["old_year"], revised["old_value"], revised["new_value"]) == (2016, SDG_AAA_2016, ILO_AAA_2016)
    assert row(diff, "AAA", changes.ADDED)["new_year"] == 2020
    assert row(diff, "CCC", changes.DROPPED)["old_value"] == SDG_CCC_2016
    latest = row(diff, "CCC", changes.LATEST_CHANGED)
    assert (latest["old_year"], latest["old_value"], latest["new_year"], latest["new_value"]) == (
        2016, SDG_CCC_2016, 2021, ILO_CCC_2021)
    assert result.names["AAA"] == "Synthetia"


def test_default_pairs_only_vintages_of_one_source_family(project):
    result = changes.compare_vintages()
    assert result.pairs == [] and "none (no source with two vintages)" in result.compared
    text = changes_report.markdown_text(result, changes_report.concept_info())
    assert "0 concepts compared" in text


@pytest.mark.parametrize(("args", "fragment"), [
    (("sdg2021", "ilostat"), "changes --from: unknown source 'sdg2021'; the sources of data/sources.toml are"),
    (("sdg2020", None), "give both --from and --to"),
    (("ilostat", "ilostat"), "--from and --to are both 'ilostat'"),
])
def test_bad_source_arguments_are_user_errors(project, args, fragment):
    with pytest.raises(AnalysisError) as err:
        changes.compare_vintages(*args)
    assert fragment in str(err.value)


# ------------------------------------------------------------------------------ (b) two stores


def test_previous_store_against_a_new_build(project, stores):
    _, v2 = stores
    assert changes.vintage_changes(project.processed_dir, v2) == [f"ilostat: 2025-06-02 -> {V2_VINTAGE}"]
    assert changes.vintage_changes(project.processed_dir, project.processed_dir) == []
    assert changes.vintage_changes(project.root / "nowhere", v2) is None
    result = changes.compare_stores(project.processed_dir, v2)
    pension = result.diff.loc[result.diff["concept"] == "sp_cov_pension"]
    revised = row(pension, "AAA", changes.REVISED)
    assert (revised["old_year"], revised["old_value"], revised["new_value"]) == (2020, ILO_AAA_2020, V2_AAA_2020)
    assert row(pension, "BBB", changes.ADDED)["new_value"] == V2_BBB_2022
    assert row(pension, "AAA", changes.LATEST_CHANGED)["difference"] == pytest.approx(V2_AAA_2020 - ILO_AAA_2020)
    # the current series is compared, never the SDG one; concepts no refresh touched are unchanged
    pair = next(p for p in result.pairs if p.concept == "sp_cov_pension")
    assert (pair.old.indicator_id, pair.new.indicator_id) == ("sp_cov_pension", "sp_cov_pension")
    others = result.diff.loc[result.diff["concept"] != "sp_cov_pension", "change"]
    assert set(others) <= {changes.UNCHANGED, changes.LATEST_SAME}


def test_report_files_are_deterministic_and_name_countries_and_charts(project, stores, tmp_path):
    _, v2 = stores
    result = changes.compare_stores(project.processed_dir, v2)
    first = changes_report.write_changes(result, tmp_path / "a")
    second = changes_report.write_changes(changes.compare_stores(project.processed_dir, v2), tmp_path / "b")
    for name in (changes_report.CSV_NAME, changes_report.MD_NAME):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    rows = list(csv.DictReader(io.StringIO(first.csv.read_text(encoding="utf-8"))))
    assert {r["change"] for r in rows} <= set(changes.CHANGE_KINDS)
    aaa = [r for r in rows if r["iso3"] == "AAA" and r["change"] == changes.REVISED]
    assert [(r["country"], r["old_value"], r["new_value"]) for r in aaa] == [
        ("Synthetia", f"{ILO_AAA_2020:g}", f"{V2_AAA_2020:g}")]
    assert aaa[0]["charts"] == "; ".join(changes_report.concept_info()["sp_cov_pension"].charts)
    md = first.md.read_text(encoding="utf-8")
    assert "## Largest changes" in md and "| Synthetia |" in md and "Fakeland" in md
    assert second.counts[changes.REVISED] == first.counts[changes.REVISED] == 1


# ------------------------------------------------------------------------------ the main job

#: the synthetic build step: copies a prepared store into the job's staging area
FAKE_BUILD = textwrap.dedent('''
    import json, os, shutil, sys
    from pathlib import Path

    account = Path(sys.argv[sys.argv.index("--job-summary") + 1])
    shutil.copytree(os.environ["FAKE_STORE"], os.environ["ANALYSIS_PROCESSED_DIR"], dirs_exist_ok=True)
    account.write_text(json.dumps({"lines": ["synthetic build"], "warnings": [], "facts": {}}))
''')


def _job(fake: Path, out: io.StringIO) -> Job:
    def command(name: str, options: JobOptions) -> list[str]:
        if name == "build":
            return [sys.executable, str(fake)]
        return [sys.executable, "-m", "analysis", *step_argv(name, options)]

    return Job(JobOptions(quiet=True), out=out, steps=("build",), command=command)


def test_the_main_job_writes_the_diff_when_a_vintage_changed(project, stores, tmp_path, monkeypatch):
    _, v2 = stores
    fake = tmp_path / "fake_build.py"
    fake.write_text(FAKE_BUILD)
    published = tmp_path / "published"
    shutil.copytree(project.processed_dir, published)
    reports = project.root / "reports"
    try:
        monkeypatch.setenv("FAKE_STORE", str(project.processed_dir))  # the same vintages: no diff
        out = io.StringIO()
        assert _job(fake, out).run() == 0, out.getvalue()
        assert "vintages changed" not in out.getvalue()
        assert not (reports / changes_report.MD_NAME).exists()

        monkeypatch.setenv("FAKE_STORE", str(v2))
        out = io.StringIO()
        assert _job(fake, out).run() == 0, out.getvalue()
        text = out.getvalue()
        assert f"source vintages changed (ilostat: 2025-06-02 -> {V2_VINTAGE})" in text
        assert "[changes] done" in text and "1 values revised" in text
        md = (reports / changes_report.MD_NAME).read_text(encoding="utf-8")
        assert "store published before this refresh" in md and "| Synthetia |" in md
        assert changes.vintage_changes(project.processed_dir, v2) == []  # v2 is now the published store
    finally:
        shutil.rmtree(project.processed_dir)
        shutil.copytree(published, project.processed_dir)
        shutil.rmtree(reports, ignore_errors=True)
