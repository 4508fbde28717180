"""Malformed inputs on a SYNTHETIC project: each gives a clear error and leaves data/processed/ as it was.

Every case first builds a good store, snapshots the bytes of data/processed/, damages one input,
rebuilds, and checks the error (file, row, rule) and that the snapshot is unchanged.
"""

from __future__ import annotations

import pytest

from analysis.core.errors import AnalysisError, FetchError, InputError
from analysis.pipeline import build as build_module
from analysis.pipeline.build import build_store

WDI_TOTAL = "wdi/sp.pop.totl"
WDI_65 = "wdi/sp.pop.65up.to.zs"
UHC = "wb-api/SH.UHC.SRVS.CV.XD"
GHED = "ghed/expenditure_by_source"
SDG = "sdg2020/si_cov_pensn"


@pytest.fixture
def good_store(synthetic_project):
    build_store(progress=False)
    return synthetic_project, synthetic_project.snapshot()


def fails(project, snapshot, error=InputError) -> AnalysisError:
    with pytest.raises(error) as err:
        build_store(force=True, progress=False)
    assert project.snapshot() == snapshot, "a failed build changed data/processed/"
    assert not [p for p in project.processed_dir.iterdir() if p.name.startswith(".staging")]
    return err.value


def raw_text(project, file_id: str) -> str:
    return project.raw_path(file_id).read_text(encoding="utf-8")


def test_truncated_file(good_store):
    project, snap = good_store
    text = raw_text(project, WDI_TOTAL)
    cut = text.rstrip("\r\n")
    project.write_raw(WDI_TOTAL, cut[: cut.rfind(",")])  # the last line loses its value field
    err = fails(project, snap)
    assert project.files[WDI_TOTAL]["path"] in str(err)
    assert err.rule == "rectangular CSV" and "truncated" in err.problem
    assert err.row == len(cut.splitlines())


def test_missing_column(good_store):
    project, snap = good_store
    text = raw_text(project, GHED)
    lines = [",".join(f for i, f in enumerate(line.split(",")) if i != 3) for line in text.splitlines()]
    project.write_raw(GHED, "\n".join(lines) + "\n")  # drop `unit`
    err = fails(project, snap)
    assert project.files[GHED]["path"] in str(err)
    assert err.rule == "required columns" and err.row == 1 and "unit" in err.problem


def test_non_numeric_value(good_store):
    project, snap = good_store
    lines = raw_text(project, WDI_65).splitlines()
    lines[2] = lines[2].rsplit(",", 1)[0] + ",ten"
    project.write_raw(WDI_65, "\n".join(lines) + "\n")
    err = fails(project, snap)
    assert err.row == 3 and err.rule == "numeric Value" and "'ten'" in err.problem
    assert project.files[WDI_65]["path"] in str(err)


def test_duplicate_key(good_store):
    project, snap = good_store
    lines = raw_text(project, WDI_65).splitlines()
    lines.append(lines[1].rsplit(",", 1)[0] + ",99")
    project.write_raw(WDI_65, "\n".join(lines) + "\n")
    err = fails(project, snap)
    assert err.rule == "unique key" and err.row == len(lines) and "first on line 2" in err.problem


def test_unknown_country_code(good_store):
    project, snap = good_store
    text = raw_text(project, WDI_65) + "Nowhere,ZZZ,2000,5\r\n"
    project.write_raw(WDI_65, text)
    err = fails(project, snap)
    assert err.rule == "known economy" and "'ZZZ'" in err.problem
    assert err.row == len(text.splitlines()) and project.files[WDI_65]["path"] in str(err)


def test_unknown_m49_code(good_store):
    project, snap = good_store
    project.write_raw(SDG, raw_text(project, SDG) + "999,e,bothsex,percent,2016,10\n")
    err = fails(project, snap)
    assert err.rule == "known economy" and "'999'" in err.problem and err.row == 7


def test_percentage_above_100(good_store):
    project, snap = good_store
    lines = raw_text(project, WDI_65).splitlines()
    lines[4] = lines[4].rsplit(",", 1)[0] + ",150"
    project.write_raw(WDI_65, "\n".join(lines) + "\n")
    err = fails(project, snap)
    assert err.rule == "value_in_bounds" and err.row == 5 and "above 100" in err.problem
    assert project.files[WDI_65]["path"] in str(err)


def test_empty_file(good_store):
    project, snap = good_store
    project.write_raw(UHC, b"")
    err = fails(project, snap)
    assert err.rule == "non-empty file" and "empty" in err.problem and project.files[UHC]["path"] in str(err)


def test_wrong_encoding_marker(good_store):
    project, snap = good_store
    project.write_raw(WDI_TOTAL, raw_text(project, WDI_TOTAL).encode("utf-16"))
    err = fails(project, snap)
    assert err.rule == "encoding: UTF-8" and err.row == 1 and "UTF-16" in err.problem


def test_undecodable_bytes(good_store):
    project, snap = good_store
    data = raw_text(project, WDI_TOTAL).encode("utf-8").replace(b"Fakeland", b"Fak\xe9land", 1)
    project.write_raw(WDI_TOTAL, data)
    err = fails(project, snap)
    assert err.rule == "encoding: UTF-8" and err.row == 5


def test_preamble_changed(good_store):
    project, snap = good_store
    project.write_raw(UHC, raw_text(project, UHC).replace('"2025-01-28"', '"2026-01-01"', 1))
    err = fails(project, snap)
    assert err.rule.startswith("preamble") and err.row == 3 and "2026-01-01" in err.problem


def test_hash_mismatch(good_store):
    project, snap = good_store
    project.write_raw(WDI_TOTAL, raw_text(project, WDI_TOTAL).replace("1000.5", "1000.6"), repin=False)
    err = fails(project, snap, FetchError)
    assert project.files[WDI_TOTAL]["path"] in str(err) and "sha256" in str(err)
    assert "python -m analysis fetch" in str(err)


def test_missing_raw_file(good_store):
    project, snap = good_store
    project.raw_path(UHC).unlink()
    err = fails(project, snap, FetchError)
    assert project.files[UHC]["path"] in str(err) and "missing" in str(err)
    assert "python -m analysis fetch" in str(err)


def test_ambiguous_selection(good_store):
    project, snap = good_store
    path = project.root / "data" / "indicators.toml"
    path.write_text(path.read_text().replace('select = { sex = "bothsex" }\n', ""))
    err = fails(project, snap)
    assert err.rule == "unique after select" and "sex" in err.problem


def test_interrupted_write(good_store, monkeypatch):
    project, snap = good_store
    project.write_raw(WDI_65, raw_text(project, WDI_65).replace("10.5", "10.75"))  # a real change to write
    original = build_module.write_table
    written: list[str] = []

    def interrupted(name, frame, path):
        if written:  # as if the user pressed Ctrl-C while the second table was being written
            raise KeyboardInterrupt
        written.append(name)
        original(name, frame, path)

    monkeypatch.setattr(build_module, "write_table", interrupted)
    with pytest.raises(KeyboardInterrupt):
        build_store(progress=False)
    assert written, "the interruption came before any table was staged"
    assert project.snapshot() == snap
    assert not [p for p in project.processed_dir.iterdir() if p.name.startswith(".staging")]
    # (not monkeypatch.undo(): that would also drop the fixture's ANALYSIS_PROJECT_ROOT)
    monkeypatch.setattr(build_module, "write_table", original)
    report = build_store(progress=False)
    assert not report.skipped and project.snapshot() != snap  # the next run completes the change


def test_error_message_format(good_store):
    project, snap = good_store
    lines = raw_text(project, WDI_65).splitlines()
    lines[2] = lines[2].rsplit(",", 1)[0] + ",oops"
    project.write_raw(WDI_65, "\n".join(lines) + "\n")
    err = fails(project, snap)
    assert str(err).startswith(f"{project.files[WDI_65]['path']}, row 3: ")
    assert str(err).endswith("[rule: numeric Value]")
