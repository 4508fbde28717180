"""The source registry: the real ``data/sources.toml`` is consistent, and malformed registries are refused
with the file, the line, the entry and the key named.

The mirror check reads the mirror's own ``MANIFEST.sha256`` independently of the registry loader; it is
skipped (with the reason) on machines without the mirror.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from analysis.config.registry import RAW_GITHUB, RegistryError, UnknownFileError, load_registry
from analysis.core import paths
from analysis.core.errors import AnalysisError

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


def test_real_registry_has_files_for_every_dataset(real_registry):
    empty = [ds for ds in real_registry.datasets if not real_registry.files_of(ds)]
    assert empty == [], f"datasets without any [[file]]: {empty}"


def test_every_downloadable_file_sits_under_github_at_its_raw_address(real_registry):
    wrong = [f"{f.id}: url {f.url!r} but path {f.path!r}" for f in real_registry.files
             if not f.mirror_only and (not f.path.startswith("github/")
                                       or f.url != RAW_GITHUB + f.path.removeprefix("github/"))]
    assert wrong == []


def test_mirror_only_files_are_extracts_citing_an_upstream_url(real_registry):
    wrong = [f.id for f in real_registry.files
             if f.mirror_only and not (f.path.startswith("extracts/") and (f.origin or "").startswith("https://"))]
    assert wrong == []


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
    assert unknown == [], f"parsers named in data/sources.toml but not in the pipeline's PARSERS: {unknown}"


# --------------------------------------------------------------------------------------------------
# Synthetic registries

DATASET_FIELDS = {"id": '"syn"', "publisher": '"Synthetic Publisher"', "title": '"Synthetic dataset"',
                  "landing_page": '"https://example.invalid/"', "distributor": '"tests"', "licence": '"CC0"',
                  "vintage": '"2000"'}


def dataset(*extra: str, drop: tuple[str, ...] = (), **values: str) -> str:
    """A synthetic [[dataset]]: ``values`` replace defaults (TOML text), ``drop`` leaves keys out."""
    fields = {k: v for k, v in (DATASET_FIELDS | values).items() if k not in drop}
    return "\n".join(["[[dataset]]", *(f"{k} = {v}" for k, v in fields.items()), *extra]) + "\n\n"


def file_entry(*extra: str, ident: str = "syn/a", **values: str) -> str:
    """A synthetic [[file]] downloadable from raw.githubusercontent.com; ``values`` replace defaults."""
    fields = {"id": f'"{ident}"', "dataset": '"syn"', "parser": '"synthetic"',
              "path": '"github/owner/repo/abc123/a.csv"',
              "url": '"https://raw.githubusercontent.com/owner/repo/abc123/a.csv"',
              "sha256": f'"{SYNTHETIC_SHA}"'} | values
    return "\n".join(["[[file]]", *(f"{k} = {v}" for k, v in fields.items()), *extra]) + "\n\n"


MIRROR_ONLY = file_entry(ident="syn/x", path='"extracts/x.csv"', url='""', origin='"https://example.invalid/full.csv"',
                         vintage='"2001"', role='"metadata"')


def load_synthetic(tmp_path: Path, text: str):
    registry_file = tmp_path / "sources.toml"
    registry_file.write_text(text, encoding="utf-8")
    return load_registry(registry_file)


def refused(tmp_path: Path, text: str) -> RegistryError:
    with pytest.raises(RegistryError) as err:
        load_synthetic(tmp_path, text)
    return err.value


def lines_of(text: str, needle: str) -> list[int]:
    """1-based numbers of the lines of ``text`` that start with ``needle``."""
    return [n for n, line in enumerate(text.splitlines(), start=1) if line.startswith(needle)]


def last_line_of(text: str, needle: str) -> int:
    return lines_of(text, needle)[-1]


def test_synthetic_valid_registry_loads_typed(tmp_path):
    registry = load_synthetic(tmp_path, dataset(notes='"""Spread\n  over lines."""') + file_entry() + MIRROR_ONLY)
    assert [f.id for f in registry.files] == ["syn/a", "syn/x"]
    plain, extract = registry.file("syn/a"), registry.file("syn/x")
    assert extract.mirror_only and not plain.mirror_only
    assert (plain.role, extract.role) == ("data", "metadata")
    assert registry.vintage_of(plain) == "2000" and registry.vintage_of(extract) == "2001"
    ds = registry.datasets["syn"]
    assert ds.licence == "CC0" and ds.notes == "Spread over lines."
    assert ds.citation() == "Synthetic Publisher, Synthetic dataset (vintage 2000)"
    assert registry.files_of("syn") == [plain, extract]
    assert plain.raw_path(tmp_path) == tmp_path / "github/owner/repo/abc123/a.csv"


def test_registry_error_is_the_projects_error_type():
    assert issubclass(RegistryError, AnalysisError)


def test_an_unknown_file_id_is_a_registry_error_and_a_key_error(tmp_path):
    registry = load_synthetic(tmp_path, dataset() + file_entry())
    with pytest.raises(UnknownFileError) as err:
        registry.file("syn/b")
    assert isinstance(err.value, KeyError) and isinstance(err.value, AnalysisError)
    assert str(err.value) == f"{err.value.file}: no file with id 'syn/b' (did you mean 'syn/a'?)"


@pytest.mark.parametrize(("drop", "values", "key", "fragment"), [
    pytest.param(("licence",), {}, "[[dataset]]", "missing required key 'licence'", id="licence-missing"),
    pytest.param((), {"licence": '" "'}, "licence", "licence: must not be empty", id="licence-empty"),
    pytest.param((), {"landing_page": '"example.invalid"'}, "landing_page",
                 "landing_page: 'example.invalid' is not an http(s) address", id="landing-page-not-a-url"),
    pytest.param((), {"vintage": "2000"}, "vintage", "vintage = 2000: input should be a valid string",
                 id="vintage-not-text"),
])
def test_dataset_errors_point_at_the_key(tmp_path, drop, values, key, fragment):
    text = dataset() + dataset(drop=drop, id='"syn2"', **values) + file_entry()
    error = refused(tmp_path, text)
    assert error.problem == fragment or fragment in error.problem
    assert error.entry == "[[dataset]] #2 (syn2)"
    assert error.line == last_line_of(text, key)
    assert str(error).startswith(f"{error.file}, line {error.line}, [[dataset]] #2 (syn2): ")


def test_a_misspelt_dataset_key_is_suggested(tmp_path):
    text = dataset(drop=("licence",), license='"CC0"') + file_entry()
    message = str(refused(tmp_path, text))
    assert f"line {last_line_of(text, '[[dataset]]')}, [[dataset]] #1 (syn): missing required key 'licence'" in message
    assert f"\n  line {last_line_of(text, 'license')}: unknown key 'license' (did you mean 'licence'?)" in message


@pytest.mark.parametrize(("values", "key", "fragment"), [
    pytest.param({"sha256": f'"ABC{SYNTHETIC_SHA[3:]}"'}, "sha256", "sha256: must be 64 lower-case hex digits",
                 id="upper-case-sha"),
    pytest.param({"sha256": f'"{SYNTHETIC_SHA[:-1]}"'}, "sha256", "sha256: must be 64 lower-case hex digits",
                 id="short-sha"),
    pytest.param({"dataset": '"sin"'}, "dataset", "unknown dataset 'sin' (did you mean 'syn'?)", id="unknown-dataset"),
    pytest.param({"url": '"https://raw.githubusercontent.com/owner/repo/OTHER/a.csv"'}, "url",
                 "url does not match path (expected https://raw.githubusercontent.com/owner/repo/abc123/a.csv)",
                 id="url-path-mismatch"),
    pytest.param({"path": '"extracts/x.csv"', "url": '""'}, "url",
                 "a mirror-only file (empty url) must name its upstream `origin`", id="mirror-only-without-origin"),
    pytest.param({"path": '"/etc/a.csv"', "url": '"https://example.invalid/a.csv"'}, "path",
                 "path: '/etc/a.csv' must be relative, inside the mirror", id="absolute-path"),
    pytest.param({"path": '"extracts/../../a.csv"', "url": '""', "origin": '"https://example.invalid/a"'}, "path",
                 "must be relative, inside the mirror", id="path-escapes-mirror"),
    pytest.param({"role": '"dat"'}, "role", "role = 'dat' is not allowed; one of 'data', 'metadata'", id="bad-role"),
    pytest.param({"colour": '"blue"'}, "colour", "unknown key 'colour'", id="unknown-key"),
])
def test_file_errors_point_at_the_key(tmp_path, values, key, fragment):
    text = dataset() + MIRROR_ONLY + file_entry(**values)
    error = refused(tmp_path, text)
    assert fragment in error.problem
    assert error.entry == "[[file]] #2 (syn/a)"
    assert error.line == last_line_of(text, f"{key} =")


def test_duplicate_ids_point_at_the_second_entry(tmp_path):
    text = dataset() + file_entry() + file_entry()
    error = refused(tmp_path, text)
    first_header, _ = lines_of(text, "[[file]]")
    assert error.problem == f"duplicate file id 'syn/a', already the id of [[file]] #1 (syn/a) (line {first_header})"
    assert error.line == lines_of(text, "id =")[2]
    text = dataset() + dataset() + file_entry()
    error = refused(tmp_path, text)
    assert error.entry == "[[dataset]] #2 (syn)" and error.problem.startswith("duplicate dataset id 'syn'")
    assert error.line == lines_of(text, "id =")[1]


@pytest.mark.parametrize(("text", "fragment", "line_needle"), [
    pytest.param(dataset(), "no [[file]] entries", None, id="no-files"),
    pytest.param(dataset() + "[[file]\n", "not valid TOML", "[[file]", id="bad-toml"),
    pytest.param('mirror = "x"\n' + dataset() + file_entry(), "unknown top-level key 'mirror'", "mirror",
                 id="top-level-key"),
    pytest.param('file = "x"\n' + dataset(), "'file' must be written as [[file]] tables", "file", id="file-not-tables"),
])
def test_file_level_errors(tmp_path, text, fragment, line_needle):
    error = refused(tmp_path, text)
    assert fragment in error.problem
    assert error.line == (last_line_of(text, line_needle) if line_needle else None)
    assert error.file == (tmp_path / "sources.toml").resolve().as_posix()


def test_missing_registry_file(tmp_path):
    with pytest.raises(RegistryError, match="source registry not found"):
        load_registry(tmp_path / "absent.toml")


def test_registry_errors_survive_pickling(tmp_path):
    error = refused(tmp_path, dataset() + file_entry(dataset='"sin"'))
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is RegistryError and str(copy) == str(error) and copy.line == error.line
