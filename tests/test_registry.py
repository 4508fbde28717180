"""The source registry: the real ``data/sources.toml`` is consistent, and malformed registries are refused.

The mirror check reads the mirror's own ``MANIFEST.sha256`` independently of the registry loader; it is
skipped (with the reason) on machines without the mirror.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from analysis.config.registry import RAW_GITHUB, RegistryError, load_registry
from analysis.core import paths

SYNTHETIC_SHA = "0" * 63 + "1"


@pytest.fixture(scope="module")
def real_registry():
    return load_registry()


def read_manifest(manifest: Path) -> dict[str, str]:
    """``<sha256>  <path>`` lines (sha256sum format) -> {path: sha256}."""
    entries = {}
    for number, line in enumerate(manifest.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        sha, sep, rel = line.partition("  ")
        assert sep, f"{manifest}:{number}: not in sha256sum format: {line!r}"
        entries[rel.lstrip("*")] = sha
    return entries


# --------------------------------------------------------------------------------------------------
# The real registry


def test_real_registry_loads_with_files_for_every_dataset(real_registry):
    assert real_registry.files
    empty = [ds for ds in real_registry.datasets if not real_registry.files_of(ds)]
    assert empty == [], f"datasets without any [[file]]: {empty}"


def test_every_url_is_the_raw_github_address_of_its_path(real_registry):
    wrong = []
    for f in real_registry.files:
        if f.mirror_only:
            continue
        expected = RAW_GITHUB + f.path.removeprefix("github/")
        if not f.path.startswith("github/") or f.url != expected:
            wrong.append(f"{f.id}: url {f.url!r} but path {f.path!r}")
    assert wrong == []


def test_mirror_only_files_are_extracts_citing_an_upstream_url(real_registry):
    mirror_only = [f for f in real_registry.files if f.mirror_only]
    for f in mirror_only:
        assert f.path.startswith("extracts/"), f.id
        assert f.origin and f.origin.startswith("https://"), f.id


def test_pinned_sha256_equals_the_mirror_manifest(real_registry):
    mirror = paths.default_mirror()
    manifest_file = mirror / "MANIFEST.sha256"
    if not manifest_file.is_file():
        pytest.skip(f"no mirror with MANIFEST.sha256 at {mirror} (set ${paths.MIRROR_ENV} to check the pins)")
    manifest = read_manifest(manifest_file)
    in_mirror = [f for f in real_registry.files if (mirror / f.path).is_file()]
    assert in_mirror, f"no registry file is present in the mirror {mirror}"
    unlisted = [f.path for f in in_mirror if f.path not in manifest]
    differing = [f"{f.id}: pinned {f.sha256}, manifest {manifest[f.path]}"
                 for f in in_mirror if f.path in manifest and manifest[f.path] != f.sha256]
    assert unlisted == [], "in the mirror but not in its MANIFEST.sha256"
    assert differing == []


def test_every_parser_name_is_known(real_registry):
    from analysis.pipeline.parsers import PARSERS

    unknown = sorted({f.parser for f in real_registry.files} - set(PARSERS))
    assert unknown == [], f"parsers named in data/sources.toml but not in analysis.parsers.PARSERS: {unknown}"


# --------------------------------------------------------------------------------------------------
# Malformed registries (synthetic TOML)

DATASET = """
[[dataset]]
id = "syn"
publisher = "Synthetic Publisher"
title = "Synthetic dataset"
landing_page = "https://example.invalid/"
distributor = "tests"
licence = "CC0"
vintage = "2000"
"""


def file_entry(id="syn/a", dataset="syn", path="github/owner/repo/abc123/a.csv",
               url="https://raw.githubusercontent.com/owner/repo/abc123/a.csv", sha256=SYNTHETIC_SHA,
               origin=None, extra="") -> str:
    origin_line = f'origin = "{origin}"\n' if origin else ""
    return (f'\n[[file]]\nid = "{id}"\ndataset = "{dataset}"\nparser = "synthetic"\npath = "{path}"\n'
            f'url = "{url}"\nsha256 = "{sha256}"\n{origin_line}{extra}')


def load_synthetic(tmp_path: Path, text: str):
    registry_file = tmp_path / "sources.toml"
    registry_file.write_text(text, encoding="utf-8")
    return load_registry(registry_file)


def test_synthetic_valid_registry_loads(tmp_path):
    text = DATASET + file_entry() + file_entry(id="syn/x", path="extracts/x.csv", url="",
                                                origin="https://example.invalid/full.csv")
    registry = load_synthetic(tmp_path, text)

    assert [f.id for f in registry.files] == ["syn/a", "syn/x"]
    assert registry.file("syn/x").mirror_only and not registry.file("syn/a").mirror_only
    assert registry.vintage_of(registry.file("syn/a")) == "2000"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        pytest.param(DATASET + file_entry() + file_entry(), r"#2 \(syn/a\): duplicate id", id="duplicate-file-id"),
        pytest.param(DATASET + DATASET + file_entry(), r"\[\[dataset\]\] #2: duplicate id 'syn'", id="duplicate-dataset-id"),
        pytest.param(DATASET + file_entry(sha256="ABC" + SYNTHETIC_SHA[3:]), "sha256 must be 64 lower-case hex", id="upper-case-sha"),
        pytest.param(DATASET + file_entry(sha256=SYNTHETIC_SHA[:-1]), "sha256 must be 64 lower-case hex", id="short-sha"),
        pytest.param(DATASET + file_entry(dataset="nope"), "unknown dataset 'nope'", id="unknown-dataset"),
        pytest.param(DATASET + file_entry(url="https://raw.githubusercontent.com/owner/repo/OTHER/a.csv"),
                     "url does not match path", id="url-path-mismatch"),
        pytest.param(DATASET + file_entry(path="extracts/x.csv", url=""), "mirror-only file must name its upstream `origin`",
                     id="mirror-only-without-origin"),
        pytest.param(DATASET + file_entry(path="/etc/a.csv", url="https://example.invalid/a.csv"),
                     "path must be relative", id="absolute-path"),
        pytest.param(DATASET + file_entry(path="extracts/../../a.csv", url="", origin="https://example.invalid/a"),
                     "path must be relative", id="path-escapes-mirror"),
        pytest.param(DATASET + file_entry(extra='colour = "blue"\n'), r"#1: .*colour", id="unknown-key"),
        pytest.param(DATASET, r"no \[\[file\]\] entries", id="no-files"),
        pytest.param(DATASET + "[[file]\n", "not valid TOML", id="bad-toml"),
    ],
)
def test_malformed_registry_is_refused_with_the_entry_named(tmp_path, text, fragment):
    with pytest.raises(RegistryError, match=fragment) as excinfo:
        load_synthetic(tmp_path, text)
    assert str(tmp_path / "sources.toml") in str(excinfo.value)


def test_missing_registry_file(tmp_path):
    with pytest.raises(RegistryError, match="source registry not found"):
        load_registry(tmp_path / "absent.toml")
