"""The fetch step on SYNTHETIC files: mirror copies, the state cache, downloads from a loopback server.

Every test builds its own registry (``make_synthetic_registry``) and files in ``tmp_path``; the real
mirror and the network are never used (HTTP goes to 127.0.0.1 only, see ``http_fixtures``). Pooch's
pauses between download attempts are recorded instead of slept (the ``waits`` fixture).
"""

from __future__ import annotations

import hashlib
import json
import logging.handlers
import os
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import pooch
import pytest

from analysis import cli
from analysis.config.registry import Registry, load_registry
from analysis.core import paths
from analysis.core.errors import FetchError
from analysis.pipeline import fetch
from analysis.pipeline.fetch import STATE_FILE_NAME, DownloadPolicy, fetch_all
from analysis.pipeline.sources import sources_table
from http_fixtures import LoopbackServer, Reply

# Tiny timeouts; pooch's pauses between attempts are not slept (see the ``waits`` fixture).
FAST = DownloadPolicy(timeout=(2.0, 5.0), attempts=3)
_PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")


# --------------------------------------------------------------------------------------------------
# Synthetic registry, mirror and raw directory


def synthetic_csv(name: str, rows: int = 3) -> bytes:
    """A small made-up CSV; the content only has to be distinct per name."""
    lines = ["geo,year,value"] + [f"SYN,{2000 + i},{len(name) * (i + 1)}.5" for i in range(rows)]
    return ("\n".join(lines) + f"\n# synthetic {name}\n").encode()


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class SyntheticFile:
    id: str
    content: bytes
    url: str = ""
    origin: str | None = None
    dataset: str = "syn-a"
    sha256: str | None = None  # defaults to the content's hash

    @property
    def path(self) -> str:
        return f"synthetic/{self.dataset}/{self.id.replace('/', '-')}.csv"

    @property
    def pinned(self) -> str:
        return self.sha256 or sha256_hex(self.content)


def _toml_str(value: str) -> str:
    return json.dumps(value)  # a JSON string of ASCII text is a valid TOML basic string


def make_synthetic_registry(directory: Path, files: list[SyntheticFile]) -> Registry:
    """Write ``sources.toml`` with two synthetic datasets and the given files, and load it."""
    lines = []
    for ds in ("syn-a", "syn-b"):
        lines += [
            "[[dataset]]",
            f"id = {_toml_str(ds)}",
            'publisher = "Synthetic Publisher"',
            f'title = "Synthetic dataset {ds}"',
            'landing_page = "https://example.invalid/"',
            'distributor = "tests"',
            'licence = "CC0"',
            'vintage = "2000-01"',
            "",
        ]
    for f in files:
        lines += [
            "[[file]]",
            f"id = {_toml_str(f.id)}",
            f"dataset = {_toml_str(f.dataset)}",
            'parser = "synthetic"',
            f"path = {_toml_str(f.path)}",
            f"url = {_toml_str(f.url)}",
            f"sha256 = {_toml_str(f.pinned)}",
        ]
        # The registry requires an upstream `origin` for files without a url (mirror-only).
        origin = f.origin or ("" if f.url else f"https://example.invalid/upstream/{f.id}.csv")
        if origin:
            lines.append(f"origin = {_toml_str(origin)}")
        lines.append("")
    registry_file = directory / "sources.toml"
    registry_file.write_text("\n".join(lines), encoding="utf-8")
    return load_registry(registry_file)


@dataclass
class Workspace:
    root: Path
    raw: Path
    mirror: Path

    def put_in_mirror(self, f: SyntheticFile, content: bytes | None = None) -> Path:
        target = self.mirror / f.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(f.content if content is None else content)
        return target

    def raw_file(self, f: SyntheticFile) -> Path:
        return self.raw / f.path

    def put_in_raw(self, f: SyntheticFile, content: bytes) -> Path:
        target = self.raw_file(f)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
        return target

    def leftovers(self) -> list[Path]:
        """Files under data/raw that are neither a pinned input (all synthetic ones are .csv) nor the state."""
        return [p for p in self.raw.rglob("*")
                if p.is_file() and p.suffix != ".csv" and p.name != STATE_FILE_NAME]

    def state(self) -> dict:
        return json.loads((self.raw / STATE_FILE_NAME).read_text())["files"]


@pytest.fixture
def ws(tmp_path, monkeypatch) -> Workspace:
    """A project root in tmp_path (so messages show short relative paths) with an empty mirror."""
    monkeypatch.setenv(paths.ROOT_ENV, str(tmp_path))
    monkeypatch.delenv(paths.MIRROR_ENV, raising=False)
    workspace = Workspace(root=tmp_path, raw=tmp_path / "data" / "raw", mirror=tmp_path / "mirror")
    workspace.mirror.mkdir()
    return workspace


def run_fetch(ws: Workspace, registry: Registry, **kwargs):
    kwargs.setdefault("mirror", ws.mirror)
    kwargs.setdefault("progress", False)
    kwargs.setdefault("policy", FAST)
    return fetch_all(raw_dir=ws.raw, registry=registry, **kwargs)


def stat_key(path: Path) -> tuple[int, int, int]:
    st = path.stat()
    return st.st_ino, st.st_mtime_ns, st.st_size


# --------------------------------------------------------------------------------------------------
# Mirror


def test_copies_from_mirror_and_records_state(ws, tmp_path):
    files = [SyntheticFile("syn-a/one", synthetic_csv("one")),
             SyntheticFile("syn-b/two", synthetic_csv("two"), dataset="syn-b")]
    registry = make_synthetic_registry(tmp_path, files)
    for f in files:
        ws.put_in_mirror(f)

    report = run_fetch(ws, registry)

    for f in files:
        assert ws.raw_file(f).read_bytes() == f.content
        assert ws.raw_file(f).stat().st_mode & 0o777 == 0o644
        assert ws.state()[f.path]["sha256"] == f.pinned
    assert (report.already_valid, len(report.copied), len(report.downloaded)) == (0, 2, 0)
    assert report.bytes_copied == sum(len(f.content) for f in files)
    summary = report.summary()
    assert "2 copied from the mirror" in summary
    assert str(tmp_path) not in summary  # no absolute machine paths
    assert ws.leftovers() == []


def test_second_run_is_a_true_noop(ws, tmp_path, monkeypatch):
    f = SyntheticFile("syn-a/one", synthetic_csv("one"))
    registry = make_synthetic_registry(tmp_path, [f])
    ws.put_in_mirror(f)
    run_fetch(ws, registry)
    before = stat_key(ws.raw_file(f)), stat_key(ws.raw / STATE_FILE_NAME)

    def no_hashing(path):
        raise AssertionError(f"re-hashed {path} although size and mtime were unchanged")

    def no_pooch(*args, **kwargs):
        raise AssertionError("pooch was set up although every file was valid")

    monkeypatch.setattr(fetch, "sha256_of", no_hashing)
    monkeypatch.setattr(pooch, "create", no_pooch)
    report = run_fetch(ws, registry)

    assert (report.already_valid, report.copied, report.downloaded) == (1, [], [])
    assert (stat_key(ws.raw_file(f)), stat_key(ws.raw / STATE_FILE_NAME)) == before
    assert "nothing to do" in report.summary()


def test_touched_file_is_rehashed_but_not_rewritten(ws, tmp_path, monkeypatch):
    f = SyntheticFile("syn-a/one", synthetic_csv("one"))
    registry = make_synthetic_registry(tmp_path, [f])
    ws.put_in_mirror(f)
    run_fetch(ws, registry)
    raw = ws.raw_file(f)
    old_mtime = raw.stat().st_mtime_ns
    os.utime(raw, ns=(old_mtime + 10**9, old_mtime + 10**9))
    inode = raw.stat().st_ino
    hashed = []
    real_sha = fetch.sha256_of
    monkeypatch.setattr(fetch, "sha256_of", lambda p: hashed.append(Path(p)) or real_sha(p))

    report = run_fetch(ws, registry)

    assert report.already_valid == 1 and report.copied == []
    assert hashed == [raw]
    assert raw.stat().st_ino == inode
    assert ws.state()[f.path]["mtime_ns"] == old_mtime + 10**9


def test_corrupted_raw_file_is_replaced(ws, tmp_path):
    f = SyntheticFile("syn-a/one", synthetic_csv("one"))
    registry = make_synthetic_registry(tmp_path, [f])
    ws.put_in_mirror(f)
    run_fetch(ws, registry)
    raw = ws.raw_file(f)
    raw.write_bytes(f.content.replace(b"SYN", b"XXX"))  # same size, different bytes, new mtime

    report = run_fetch(ws, registry)

    assert raw.read_bytes() == f.content
    assert report.copied == [f.id] and report.replaced == [f.id]
    assert "failed the sha256 check" in report.summary()


def test_stale_cache_entry_is_corrected_without_rewriting_a_valid_file(ws, tmp_path):
    f = SyntheticFile("syn-a/one", synthetic_csv("one"))
    registry = make_synthetic_registry(tmp_path, [f])
    ws.put_in_mirror(f)
    raw = ws.put_in_raw(f, f.content)
    st = raw.stat()
    stale = {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": sha256_hex(b"something else")}
    (ws.raw / STATE_FILE_NAME).write_text(json.dumps({"version": 1, "files": {f.path: stale}}))

    report = run_fetch(ws, registry)

    assert (report.already_valid, report.copied, report.replaced) == (1, [], [])
    assert raw.stat().st_ino == st.st_ino
    assert ws.state()[f.path]["sha256"] == f.pinned


def test_unreadable_state_file_only_costs_a_rehash(ws, tmp_path):
    f = SyntheticFile("syn-a/one", synthetic_csv("one"))
    registry = make_synthetic_registry(tmp_path, [f])
    ws.put_in_raw(f, f.content)
    (ws.raw / STATE_FILE_NAME).write_text("{ not json")

    report = run_fetch(ws, registry)

    assert report.already_valid == 1
    assert ws.state()[f.path]["sha256"] == f.pinned


@pytest.mark.parametrize("previous", [None, b"an older version of the file\n"])
def test_mirror_hash_mismatch_names_file_and_hashes_and_leaves_raw_alone(ws, tmp_path, previous):
    f = SyntheticFile("syn-a/one", synthetic_csv("one"))
    registry = make_synthetic_registry(tmp_path, [f])
    tampered = synthetic_csv("one", rows=4)
    ws.put_in_mirror(f, tampered)
    if previous is not None:
        ws.put_in_raw(f, previous)

    with pytest.raises(FetchError) as excinfo:
        run_fetch(ws, registry)

    message = str(excinfo.value)
    for expected in (f.id, f.path, f.pinned, sha256_hex(tampered), "mirror/" + f.path, "update the mirror",
                     "sources.toml"):
        assert expected in message
    assert str(tmp_path) not in message
    if previous is None:
        assert not ws.raw_file(f).exists()
    else:
        assert ws.raw_file(f).read_bytes() == previous
    assert ws.leftovers() == []


def test_missing_from_mirror_without_download_is_an_error(ws, tmp_path):
    f = SyntheticFile("syn-a/one", synthetic_csv("one"), url="http://127.0.0.1:9/never-contacted.csv")
    registry = make_synthetic_registry(tmp_path, [f])

    with pytest.raises(FetchError, match="--no-download") as excinfo:
        run_fetch(ws, registry, download=False)

    assert f.id in str(excinfo.value) and f.path in str(excinfo.value)
    assert not ws.raw_file(f).exists()


@pytest.mark.parametrize("download", [True, False])
def test_mirror_only_file_missing_names_origin_and_asks_for_a_mirror(ws, tmp_path, download):
    origin = "https://example.invalid/upstream/full-file.csv"
    f = SyntheticFile("syn-b/extract", synthetic_csv("extract"), dataset="syn-b", origin=origin)
    registry = make_synthetic_registry(tmp_path, [f])

    with pytest.raises(FetchError) as excinfo:
        run_fetch(ws, registry, download=download)

    message = str(excinfo.value)
    for expected in (f.id, f.path, origin, "mirror-only", "--mirror", paths.MIRROR_ENV):
        assert expected in message


def test_mirror_defaults_to_the_environment_variable(ws, tmp_path, monkeypatch):
    f = SyntheticFile("syn-a/one", synthetic_csv("one"))
    registry = make_synthetic_registry(tmp_path, [f])
    ws.put_in_mirror(f)
    monkeypatch.setenv(paths.MIRROR_ENV, str(ws.mirror))

    report = fetch_all(mirror=None, progress=False, raw_dir=ws.raw, registry=registry, policy=FAST)

    assert report.copied == [f.id]
    assert "from mirror" in report.summary()


def test_explicit_mirror_that_does_not_exist_is_an_error(ws, tmp_path):
    f = SyntheticFile("syn-a/one", synthetic_csv("one"), url="http://127.0.0.1:9/never-contacted.csv")
    registry = make_synthetic_registry(tmp_path, [f])

    with pytest.raises(FetchError, match="does not exist"):
        run_fetch(ws, registry, mirror=tmp_path / "no-such-mirror")


@pytest.mark.parametrize("given_by", ["argument", "environment"])
def test_missing_mirror_is_named_exactly_as_the_user_gave_it(ws, tmp_path, monkeypatch, given_by):
    f = SyntheticFile("syn-a/one", synthetic_csv("one"), url="http://127.0.0.1:9/never-contacted.csv")
    registry = make_synthetic_registry(tmp_path, [f])
    as_typed = "./nowhere//mirror/"  # resolving or normalising it would change how it reads
    monkeypatch.chdir(tmp_path)
    if given_by == "environment":
        monkeypatch.setenv(paths.MIRROR_ENV, as_typed)

    with pytest.raises(FetchError) as excinfo:
        run_fetch(ws, registry, mirror=as_typed if given_by == "argument" else None)

    message = str(excinfo.value)
    assert f"'{as_typed}'" in message
    assert ("--mirror" if given_by == "argument" else f"${paths.MIRROR_ENV}") in message
    assert "from the project root: nowhere/mirror" in message
    assert f.id in message and "does not exist" in message


@pytest.mark.parametrize("case", ["mirror-only, no mirror", "downloads disabled", "named mirror missing"])
def test_corrupted_raw_file_that_cannot_be_repaired_says_so(ws, tmp_path, case):
    url = "" if case == "mirror-only, no mirror" else "http://127.0.0.1:9/never-contacted.csv"
    f = SyntheticFile("syn-a/one", synthetic_csv("one"), url=url)
    registry = make_synthetic_registry(tmp_path, [f])
    corrupted = f.content.replace(b"SYN", b"XXX")
    ws.put_in_raw(f, corrupted)
    mirror = tmp_path / "missing-mirror" if case == "named mirror missing" else ws.mirror

    with pytest.raises(FetchError) as excinfo:
        run_fetch(ws, registry, mirror=mirror, download=case != "downloads disabled")

    message = str(excinfo.value)
    for expected in (f.id, f"data/raw/{f.path}", "failed its sha256 check", f.pinned, sha256_hex(corrupted),
                     "cannot be repaired", "To repair it", "--mirror"):
        assert expected in message
    if case == "downloads disabled":
        assert "drop --no-download" in message
    assert ws.raw_file(f).read_bytes() == corrupted


def test_cli_prints_a_fetch_error_without_a_traceback(ws, tmp_path, capsys):
    f = SyntheticFile("syn-a/one", synthetic_csv("one"), url="http://127.0.0.1:9/never-contacted.csv")
    ws.raw.parent.mkdir()
    make_synthetic_registry(ws.raw.parent, [f])  # data/sources.toml, where the CLI looks under the project root
    ws.put_in_raw(f, b"damaged\n")

    status = cli.main(["fetch", "--mirror", "no-such-mirror", "--quiet"])

    err = capsys.readouterr().err
    assert status == 2
    assert err.startswith("error: ") and "Traceback" not in err
    assert "'no-such-mirror'" in err and "failed its sha256 check" in err


def test_first_failure_stops_but_keeps_files_already_verified(ws, tmp_path):
    good = SyntheticFile("syn-a/good", synthetic_csv("good"))
    bad = SyntheticFile("syn-a/bad", synthetic_csv("bad"))
    later = SyntheticFile("syn-a/later", synthetic_csv("later"))
    registry = make_synthetic_registry(tmp_path, [good, bad, later])
    ws.put_in_mirror(good)
    ws.put_in_mirror(bad, b"not the pinned bytes\n")
    ws.put_in_mirror(later)

    with pytest.raises(FetchError, match="syn-a/bad"):
        run_fetch(ws, registry)

    assert ws.raw_file(good).read_bytes() == good.content
    assert ws.state()[good.path]["sha256"] == good.pinned
    assert not ws.raw_file(later).exists()


@pytest.mark.parametrize("progress", [True, False])
def test_progress_bar_only_when_asked(ws, tmp_path, capsys, progress):
    f = SyntheticFile("syn-a/one", synthetic_csv("one"))
    registry = make_synthetic_registry(tmp_path, [f])
    ws.put_in_mirror(f)

    run_fetch(ws, registry, progress=progress)

    err = capsys.readouterr().err
    assert ("fetch" in err) is progress


# --------------------------------------------------------------------------------------------------
# Downloads from a loopback server


@pytest.fixture
def waits(monkeypatch) -> list[float]:
    """Pooch's pauses between download attempts (1 s, 2 s, ...), recorded instead of slept."""
    recorded: list[float] = []
    monkeypatch.setattr(pooch.core, "time", SimpleNamespace(sleep=recorded.append))
    return recorded


@pytest.fixture
def server(monkeypatch, waits):
    for var in _PROXY_VARS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    with LoopbackServer() as srv:
        yield srv


def test_download_success(ws, tmp_path, server):
    content = synthetic_csv("remote")
    f = SyntheticFile("syn-a/remote", content, url=server.script("/remote.csv", Reply(body=content)))
    registry = make_synthetic_registry(tmp_path, [f])

    report = run_fetch(ws, registry)

    assert ws.raw_file(f).read_bytes() == content
    assert report.downloaded == [f.id] and report.bytes_downloaded == len(content)
    assert "1 downloaded" in report.summary()
    assert server.count("/remote.csv") == 1


def test_download_leaves_the_file_readable_and_logs_no_machine_paths(ws, tmp_path, server):
    content = synthetic_csv("remote")
    f = SyntheticFile("syn-a/remote", content, url=server.script("/remote.csv", Reply(body=content)))
    registry = make_synthetic_registry(tmp_path, [f])
    pooch_log = logging.handlers.BufferingHandler(capacity=100)  # pooch's logger prints to stderr by itself
    pooch.get_logger().addHandler(pooch_log)
    try:
        run_fetch(ws, registry)
    finally:
        pooch.get_logger().removeHandler(pooch_log)

    assert ws.raw_file(f).stat().st_mode & 0o777 == 0o644  # pooch's temporaries are private (0600)
    assert [r.getMessage() for r in pooch_log.buffer if str(tmp_path) in r.getMessage()] == []


def test_mirror_is_preferred_over_download(ws, tmp_path, server):
    content = synthetic_csv("both")
    f = SyntheticFile("syn-a/both", content, url=server.script("/both.csv", Reply(body=content)))
    registry = make_synthetic_registry(tmp_path, [f])
    ws.put_in_mirror(f)

    report = run_fetch(ws, registry)

    assert report.copied == [f.id] and server.count("/both.csv") == 0


def test_http_404_names_the_url_and_is_not_retried(ws, tmp_path, server):
    url = server.script("/gone.csv", Reply(status=404, body=b"no"))
    f = SyntheticFile("syn-a/gone", synthetic_csv("gone"), url=url)
    registry = make_synthetic_registry(tmp_path, [f])

    with pytest.raises(FetchError) as excinfo:
        run_fetch(ws, registry)

    assert url in str(excinfo.value) and "404" in str(excinfo.value) and f.id in str(excinfo.value)
    assert server.count("/gone.csv") == 1
    assert not ws.raw_file(f).exists() and ws.leftovers() == []


def test_http_500_once_then_success_is_retried(ws, tmp_path, server, waits):
    content = synthetic_csv("flaky")
    url = server.script("/flaky.csv", Reply(status=500, body=b"oops"), Reply(body=content))
    f = SyntheticFile("syn-a/flaky", content, url=url)
    registry = make_synthetic_registry(tmp_path, [f])

    report = run_fetch(ws, registry)

    assert report.downloaded == [f.id]
    assert ws.raw_file(f).read_bytes() == content
    assert server.count("/flaky.csv") == 2
    assert waits == [1]  # pooch's own pause before its retry


def test_persistent_http_500_gives_up_after_the_bounded_attempts(ws, tmp_path, server, waits):
    url = server.script("/down.csv", Reply(status=500, body=b"oops"))
    f = SyntheticFile("syn-a/down", synthetic_csv("down"), url=url)
    registry = make_synthetic_registry(tmp_path, [f])

    with pytest.raises(FetchError, match=r"HTTP 500.*after 3 attempts"):
        run_fetch(ws, registry)

    assert server.count("/down.csv") == FAST.attempts
    assert waits == [1, 2]
    assert not ws.raw_file(f).exists() and ws.leftovers() == []


def test_truncated_body_is_an_error_and_leaves_no_partial_file(ws, tmp_path, server):
    content = synthetic_csv("long", rows=50)
    cut = Reply(body=content[:40], declared_length=len(content))
    url = server.script("/long.csv", cut)
    f = SyntheticFile("syn-a/long", content, url=url)
    registry = make_synthetic_registry(tmp_path, [f])

    with pytest.raises(FetchError) as excinfo:
        run_fetch(ws, registry, policy=DownloadPolicy(timeout=(2.0, 5.0), attempts=2))

    assert url in str(excinfo.value) and "after 2 attempts" in str(excinfo.value)
    assert server.count("/long.csv") == 2  # a short read is treated as transient and retried
    assert not ws.raw_file(f).exists() and ws.leftovers() == []


def test_truncated_then_complete_download_succeeds(ws, tmp_path, server):
    content = synthetic_csv("long", rows=50)
    url = server.script("/long.csv", Reply(body=content[:40], declared_length=len(content)), Reply(body=content))
    f = SyntheticFile("syn-a/long", content, url=url)
    registry = make_synthetic_registry(tmp_path, [f])

    run_fetch(ws, registry)

    assert ws.raw_file(f).read_bytes() == content


def test_downloaded_bytes_with_wrong_hash(ws, tmp_path, server):
    pinned = synthetic_csv("pinned")
    served = synthetic_csv("changed upstream")
    url = server.script("/moved.csv", Reply(body=served))
    f = SyntheticFile("syn-a/moved", pinned, url=url)
    registry = make_synthetic_registry(tmp_path, [f])
    previous = ws.put_in_raw(f, b"an older version\n")

    with pytest.raises(FetchError) as excinfo:
        run_fetch(ws, registry)

    message = str(excinfo.value)
    for expected in (f.id, f.path, url, f.pinned, sha256_hex(served), "sources.toml", "after 3 attempts"):
        assert expected in message
    # pooch retries a mismatch too (a transfer may have been corrupted), within the same bound
    assert server.count("/moved.csv") == FAST.attempts
    assert previous.read_bytes() == b"an older version\n"
    assert ws.leftovers() == []


def test_interrupted_placement_keeps_the_previous_file(ws, tmp_path, server, monkeypatch):
    content = synthetic_csv("new")
    f = SyntheticFile("syn-a/new", content, url=server.script("/new.csv", Reply(body=content)))
    registry = make_synthetic_registry(tmp_path, [f])
    previous = ws.put_in_raw(f, b"previous version\n")

    def failing_move(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pooch.core, "shutil", SimpleNamespace(move=failing_move))  # pooch's final move
    with pytest.raises(FetchError, match="No space left on device") as excinfo:
        run_fetch(ws, registry)

    assert f.id in str(excinfo.value)
    assert previous.read_bytes() == b"previous version\n"
    assert ws.leftovers() == []


def test_interrupt_during_download_keeps_the_previous_file(ws, tmp_path, monkeypatch):
    f = SyntheticFile("syn-a/new", synthetic_csv("new"), url="http://127.0.0.1:9/not-contacted.csv")
    registry = make_synthetic_registry(tmp_path, [f])
    previous = ws.put_in_raw(f, b"previous version\n")

    def interrupted(self, url, output_file, pup, check_only=False):
        Path(output_file).write_bytes(b"half a fi")
        raise KeyboardInterrupt

    monkeypatch.setattr(pooch.HTTPDownloader, "__call__", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_fetch(ws, registry)

    assert previous.read_bytes() == b"previous version\n"
    assert ws.leftovers() == []


# --------------------------------------------------------------------------------------------------
# The sources table


def table_rows(table: str) -> dict[str, list[str]]:
    """Rows of the plain-text table keyed by their first cell, cells split on runs of 2+ spaces."""
    import re

    return {cells[0]: cells for cells in (re.split(r"\s{2,}", line.strip()) for line in table.splitlines()) if cells[0]}


def test_sources_table_counts_per_dataset(ws, tmp_path):
    unused_url = "http://127.0.0.1:9/not-contacted.csv"  # listing never downloads
    valid = SyntheticFile("syn-a/valid", synthetic_csv("valid"), url=unused_url)
    stale = SyntheticFile("syn-a/stale", synthetic_csv("stale"), url=unused_url)
    absent = SyntheticFile("syn-a/absent", synthetic_csv("absent"), url=unused_url)
    extract = SyntheticFile("syn-b/extract", synthetic_csv("extract"), dataset="syn-b", origin="https://example.invalid/x.csv")
    registry = make_synthetic_registry(tmp_path, [valid, stale, absent, extract])
    ws.put_in_raw(valid, valid.content)
    ws.put_in_raw(stale, b"stale\n")
    for f in (valid, stale, extract):
        ws.put_in_mirror(f)

    table = sources_table(mirror=ws.mirror, raw_dir=ws.raw, registry=registry)

    rows = table_rows(table)
    # id, files, valid, mirror, mirror-only, licence, vintage, publisher: title
    assert rows["syn-a"][:5] == ["syn-a", "3", "1", "2", "0"]
    assert rows["syn-b"][:5] == ["syn-b", "1", "0", "1", "1"]
    assert rows["total"][:5] == ["total", "4", "1", "3", "1"]
    assert rows["syn-a"][5:] == ["CC0", "2000-01", "Synthetic Publisher: Synthetic dataset syn-a"]
    assert str(tmp_path) not in table
    assert not (ws.raw / STATE_FILE_NAME).exists()  # listing never writes the cache


def test_sources_table_says_when_the_mirror_is_missing(ws, tmp_path):
    registry = make_synthetic_registry(tmp_path, [SyntheticFile("syn-a/one", synthetic_csv("one"))])

    table = sources_table(mirror=tmp_path / "elsewhere", raw_dir=ws.raw, registry=registry)

    assert table_rows(table)["syn-a"][:5] == ["syn-a", "1", "0", "0", "1"]
    assert "no mirror found at elsewhere" in table
