"""Where the project keeps things: the environment overrides are followed when they change."""

from __future__ import annotations

from pathlib import Path

from analysis.core import paths


def test_a_changed_override_is_followed(tmp_path, monkeypatch):
    first, second = tmp_path / "first", tmp_path / "second"
    monkeypatch.setenv(paths.PROCESSED_ENV, str(first))
    assert paths.processed_dir() == first.resolve()
    monkeypatch.setenv(paths.PROCESSED_ENV, str(second))
    assert paths.processed_dir() == second.resolve()
    monkeypatch.delenv(paths.PROCESSED_ENV)
    assert paths.processed_dir() == paths.published_processed_dir()


def test_a_relative_override_is_resolved_against_the_current_folder(tmp_path, monkeypatch):
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
    monkeypatch.setenv(paths.REPORTS_ENV, "reports")
    monkeypatch.chdir(tmp_path / "a")
    assert paths.reports_dir() == (tmp_path / "a" / "reports").resolve()
    monkeypatch.chdir(tmp_path / "b")
    assert paths.reports_dir() == (tmp_path / "b" / "reports").resolve()


def test_a_root_override_moves_every_derived_folder(tmp_path, monkeypatch):
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "real", target_is_directory=True)
    (tmp_path / "real").mkdir()
    monkeypatch.setenv(paths.ROOT_ENV, str(link))
    assert paths.project_root() == (tmp_path / "real").resolve()
    assert paths.raw_dir() == (tmp_path / "real").resolve() / "data" / "raw"
    monkeypatch.delenv(paths.ROOT_ENV)
    assert paths.project_root() == Path(paths.__file__).resolve().parents[3]
