"""The ``fetch`` step: every pinned input of ``data/sources.toml`` into ``data/raw/``, verified.

For each registry file, in order of preference:

1. ``data/raw/<path>`` already has the pinned sha256: nothing is done (not even a rewrite of the
   state file), so a second run is a true no-op;
2. the local mirror (``--mirror``, else ``$ANALYSIS_DATA_MIRROR``, else ``../shared/data``) has
   ``<path>``: it is copied;
3. the file has a ``url``: it is downloaded over HTTP with ``pooch`` (timeouts, bounded retries).

Whatever the source, the bytes are written to a temporary sibling, hashed and moved into place only
when the sha256 matches, so a failed copy or download never leaves a partial file and never clobbers a
good one. The first failure stops the run with a :class:`~analysis.errors.FetchError` that names the
file, the expected and actual hashes, where the bytes came from and what to do.

Hashing ~100 MB on every run would be wasteful, so ``data/raw/.fetch-state.json`` remembers, per
path, the size, mtime and sha256 last seen; a file whose size and mtime are unchanged is not re-hashed.
Delete that file to force every input to be hashed again.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from analysis.config.registry import Registry, SourceFile, load_registry
from analysis.config.registry import sha256_file as sha256_of
from analysis.core import atomic, paths
from analysis.core.errors import FetchError

STATE_FILE_NAME = ".fetch-state.json"
_STATE_VERSION = 1
_CHUNK = 1 << 20
# Written files are data for everyone on the machine to read, not private temporaries.
_FILE_MODE = 0o644


# --------------------------------------------------------------------------------------------------
# Hashing and the state cache


class FetchState:
    """The cache of hashes in ``data/raw/.fetch-state.json``: path -> (size, mtime_ns, sha256).

    It is only a cache: an unreadable or stale state file costs a re-hash, never a wrong answer
    (unless a file is rewritten with the same size and its mtime restored, which fetch cannot see).
    """

    def __init__(self, raw_dir: Path):
        self.raw_dir = Path(raw_dir)
        self.file = self.raw_dir / STATE_FILE_NAME
        self.entries: dict[str, dict] = self._read()
        self.dirty = False

    def _read(self) -> dict[str, dict]:
        try:
            doc = json.loads(self.file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        if not isinstance(doc, dict) or doc.get("version") != _STATE_VERSION:
            return {}
        files = doc.get("files")
        return dict(files) if isinstance(files, dict) else {}

    def current_sha256(self, rel_path: str) -> str | None:
        """The sha256 of ``raw_dir/rel_path`` as it is now, or None when it is not a file.

        Hashes only when the size or mtime differ from the last recorded ones.
        """
        target = self.raw_dir / rel_path
        try:
            st = target.stat()
        except (FileNotFoundError, NotADirectoryError):
            return None
        if not target.is_file():
            return None
        entry = self.entries.get(rel_path)
        if entry and entry.get("size") == st.st_size and entry.get("mtime_ns") == st.st_mtime_ns:
            return entry.get("sha256")
        sha = sha256_of(target)
        self._record_stat(rel_path, st, sha)
        return sha

    def record(self, rel_path: str, sha: str) -> None:
        """Remember the hash of a file that fetch has just placed."""
        self._record_stat(rel_path, (self.raw_dir / rel_path).stat(), sha)

    def _record_stat(self, rel_path: str, st: os.stat_result, sha: str) -> None:
        entry = {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": sha}
        if self.entries.get(rel_path) != entry:
            self.entries[rel_path] = entry
            self.dirty = True

    def keep_only(self, rel_paths: Iterable[str]) -> None:
        """Forget files that are no longer in the registry."""
        wanted = set(rel_paths)
        for stale in [p for p in self.entries if p not in wanted]:
            del self.entries[stale]
            self.dirty = True

    def save(self, best_effort: bool = False) -> None:
        """Write the state atomically, and only if it changed (a no-op run writes nothing).

        With ``best_effort`` a write error is ignored: losing the cache only costs a re-hash.
        """
        if not self.dirty:
            return
        doc = {"version": _STATE_VERSION, "files": dict(sorted(self.entries.items()))}
        try:
            atomic.write_text(self.file, json.dumps(doc, indent=1) + "\n")
        except OSError:
            if not best_effort:
                raise
            return
        self.dirty = False


# --------------------------------------------------------------------------------------------------
# The mirror


@dataclass(frozen=True)
class Mirror:
    """Where the local mirror is, and whether the user asked for it explicitly."""

    root: Path
    explicit: bool  # from --mirror or $ANALYSIS_DATA_MIRROR: then its absence is an error, not a fallback

    @property
    def exists(self) -> bool:
        return self.root.is_dir()

    @property
    def display(self) -> str:
        """The mirror as shown to users: relative to the project root, never an absolute machine path."""
        return display_path(self.root)

    def file(self, source_file: SourceFile) -> Path | None:
        """The mirror copy of a registry file, or None when the mirror or the file is missing."""
        if not self.exists:
            return None
        candidate = self.root / source_file.path
        return candidate if candidate.is_file() else None


def resolve_mirror(mirror: Path | str | None = None) -> Mirror:
    """``mirror`` if given, else ``$ANALYSIS_DATA_MIRROR``, else ``../shared/data`` beside the project."""
    if mirror is not None:
        return Mirror(Path(mirror).expanduser().resolve(), explicit=True)
    return Mirror(paths.default_mirror(), explicit=bool(os.environ.get(paths.MIRROR_ENV)))


def display_path(path: Path) -> str:
    """A path relative to the project root (``../`` allowed), so messages carry no machine paths."""
    path = Path(path).resolve()
    try:
        return os.path.relpath(path, paths.project_root())
    except ValueError:  # another drive on Windows: no relative form exists
        return path.as_posix()


# --------------------------------------------------------------------------------------------------
# Downloads


@dataclass(frozen=True)
class DownloadPolicy:
    """Timeouts and bounded retries for HTTP downloads.

    ``timeout`` is (connect, read) in seconds, passed to ``requests`` through ``pooch.HTTPDownloader``.
    A failed attempt that may be transient (connection error, timeout, truncated body, HTTP 5xx or
    429) is retried up to ``attempts`` in all, waiting ``backoff`` seconds, doubled after each try.
    """

    timeout: float | tuple[float, float] = (10.0, 60.0)
    attempts: int = 3
    backoff: float = 1.0

    def __post_init__(self):
        if self.attempts < 1:
            raise ValueError("DownloadPolicy.attempts must be at least 1")


class _DownloadFailed(Exception):
    """One download attempt failed; ``retryable`` says whether another attempt may succeed."""

    def __init__(self, reason: str, retryable: bool):
        super().__init__(reason)
        self.reason, self.retryable = reason, retryable


def _download_once(url: str, target: Path, policy: DownloadPolicy) -> None:
    """One HTTP GET of ``url`` into ``target`` (truncated first) with pooch's downloader."""
    import pooch
    import requests

    downloader = pooch.HTTPDownloader(progressbar=False, timeout=policy.timeout)
    try:
        downloader(url, str(target), None)
    except requests.HTTPError as exc:
        status = exc.response.status_code if exc.response is not None else None
        reason = f"HTTP {status} {exc.response.reason if exc.response is not None else ''}".strip()
        raise _DownloadFailed(reason, retryable=status is None or status >= 500 or status == 429) from exc
    except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError,
            requests.exceptions.ContentDecodingError) as exc:
        # ChunkedEncodingError is also how requests reports a body shorter than its Content-Length.
        raise _DownloadFailed(f"{type(exc).__name__}: {exc}", retryable=True) from exc
    except requests.RequestException as exc:  # invalid URL, too many redirects, ...
        raise _DownloadFailed(f"{type(exc).__name__}: {exc}", retryable=False) from exc


def download_with_retries(url: str, target: Path, policy: DownloadPolicy) -> None:
    """Download ``url`` into ``target``, retrying transient failures; raises _DownloadFailed at the end."""
    wait = policy.backoff
    for attempt in range(1, policy.attempts + 1):
        try:
            _download_once(url, target, policy)
            return
        except _DownloadFailed as failure:
            if not failure.retryable or attempt == policy.attempts:
                if attempt > 1:
                    failure.reason += f" (after {attempt} attempts)"
                raise
        time.sleep(wait)
        wait *= 2


# --------------------------------------------------------------------------------------------------
# Fetching


@dataclass
class FetchReport:
    """What a fetch did. ``summary()`` is printed by the CLI (no absolute paths)."""

    total: int = 0
    already_valid: int = 0
    copied: list[str] = field(default_factory=list)  # registry ids
    downloaded: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)  # ids whose old raw file failed its check
    bytes_copied: int = 0
    bytes_downloaded: int = 0
    raw_dir: str = "data/raw"
    mirror: str = ""

    def summary(self) -> str:
        lines = [
            f"{self.total} pinned files in {self.raw_dir}/: {self.already_valid} already valid, "
            f"{len(self.copied)} copied from the mirror, {len(self.downloaded)} downloaded"
        ]
        if self.copied:
            lines.append(f"  copied {_human_bytes(self.bytes_copied)} from {self.mirror}")
        if self.downloaded:
            lines.append(f"  downloaded {_human_bytes(self.bytes_downloaded)}")
        if self.replaced:
            lines.append(f"  replaced {len(self.replaced)} file(s) that failed the sha256 check: "
                         + ", ".join(self.replaced))
        if not self.copied and not self.downloaded:
            lines.append("  nothing to do: every file matches its pinned sha256")
        return "\n".join(lines)


def _human_bytes(n: int) -> str:
    if n < 1000:
        return f"{n} B"
    size = n / 1000
    for unit in ("kB", "MB"):
        if size < 1000:
            return f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} GB"


def fetch_all(
    mirror: Path | str | None = None,
    download: bool = True,
    progress: bool = True,
    raw_dir: Path | None = None,
    registry: Registry | None = None,
    policy: DownloadPolicy | None = None,
) -> FetchReport:
    """Make ``raw_dir`` hold every registry file with its pinned sha256 (see the module docstring).

    Raises FetchError at the first file that cannot be obtained or fails its check; files placed
    before that stay placed (each was verified), and the failing file's old copy is left as it was.
    """
    from tqdm import tqdm

    registry = registry or load_registry()
    raw_dir = Path(raw_dir) if raw_dir is not None else paths.raw_dir()
    mirror_info = resolve_mirror(mirror)
    policy = policy or DownloadPolicy()
    state = FetchState(raw_dir)
    report = FetchReport(total=len(registry.files), raw_dir=display_path(raw_dir), mirror=mirror_info.display)
    try:
        with tqdm(registry.files, desc="fetch", unit="file", disable=not progress) as bar:
            for source_file in bar:
                _fetch_one(source_file, registry, raw_dir, mirror_info, download, policy, state, report)
    except BaseException:
        # Hashes learnt before the failure stay useful for the next run, but saving them must not
        # hide the error the user needs to see.
        state.save(best_effort=True)
        raise
    state.keep_only(f.path for f in registry.files)
    state.save()
    return report


def _fetch_one(
    source_file: SourceFile,
    registry: Registry,
    raw_dir: Path,
    mirror: Mirror,
    download: bool,
    policy: DownloadPolicy,
    state: FetchState,
    report: FetchReport,
) -> None:
    current = state.current_sha256(source_file.path)
    if current == source_file.sha256:
        report.already_valid += 1
        return
    target = source_file.raw_path(raw_dir)
    mirror_copy = mirror.file(source_file)
    if mirror_copy is not None:
        size = _place_verified(source_file, registry, target, _copy_from(mirror_copy),
                               origin=f"the mirror copy {display_path(mirror_copy)}",
                               advice=_MIRROR_MISMATCH_ADVICE)
        report.copied.append(source_file.id)
        report.bytes_copied += size
    else:
        _check_downloadable(source_file, mirror, download)
        size = _place_verified(source_file, registry, target, _download_from(source_file, registry, policy),
                               origin=f"the download from {source_file.url}",
                               advice=_DOWNLOAD_MISMATCH_ADVICE)
        report.downloaded.append(source_file.id)
        report.bytes_downloaded += size
    state.record(source_file.path, source_file.sha256)
    if current is not None:
        report.replaced.append(source_file.id)


_MIRROR_MISMATCH_ADVICE = (
    "The mirror copy differs from the pinned version: update the mirror, or, if the source was "
    "deliberately updated, update this file's sha256 in {registry}."
)
_DOWNLOAD_MISMATCH_ADVICE = (
    "The file served at the URL differs from the pinned version: the upstream may have changed. "
    "Pin a URL that serves the pinned bytes, use a mirror (--mirror or ${env}), or, if the change "
    "is deliberate, update this file's sha256 in {registry}."
)


def _check_downloadable(source_file: SourceFile, mirror: Mirror, download: bool) -> None:
    """Explain why a file missing from the mirror cannot be downloaded either."""
    name = f"{source_file.id} ({source_file.path})"
    if mirror.explicit and not mirror.exists:
        raise FetchError(
            f"{name}: the mirror {mirror.display} (from --mirror or ${paths.MIRROR_ENV}) does not exist "
            "or is not a directory. Point --mirror or $" + paths.MIRROR_ENV + " at the mirror root."
        )
    where = f"not in the mirror {mirror.display}" if mirror.exists else f"no mirror found at {mirror.display}"
    if source_file.mirror_only:
        raise FetchError(
            f"{name}: {where}, and this file is a mirror-only extract (no download URL) of "
            f"{source_file.origin}. A mirror that holds it is required: pass --mirror <dir> or set "
            f"${paths.MIRROR_ENV}."
        )
    if not download:
        raise FetchError(
            f"{name}: {where}, and downloads are disabled (--no-download). Drop --no-download to fetch "
            f"it from {source_file.url}, or point --mirror / ${paths.MIRROR_ENV} at a mirror that holds it."
        )


def _copy_from(source: Path):
    def write(tmp: Path) -> None:
        with open(source, "rb") as src, open(tmp, "wb") as dst:
            while chunk := src.read(_CHUNK):
                dst.write(chunk)
    return write


def _download_from(source_file: SourceFile, registry: Registry, policy: DownloadPolicy):
    def write(tmp: Path) -> None:
        try:
            download_with_retries(source_file.url, tmp, policy)
        except _DownloadFailed as failure:
            raise FetchError(
                f"{source_file.id} ({source_file.path}): download from {source_file.url} failed: "
                f"{failure.reason}. No partial file was left and any previous copy is untouched. Check the "
                f"network and the url in {display_path(registry.source_path)}, or use a mirror (--mirror or ${paths.MIRROR_ENV})."
            ) from None
    return write


def _place_verified(source_file: SourceFile, registry: Registry, target: Path, write, origin: str,
                    advice: str) -> int:
    """Write with ``write(tmp)``, check the sha256, then move into ``target``; returns the size.

    On a mismatch or any error the temporary file is removed and ``target`` is left untouched.
    """
    try:
        with atomic.atomic_path(target) as tmp:
            write(tmp)
            actual = sha256_of(tmp)
            if actual != source_file.sha256:
                raise FetchError(
                    f"{source_file.id} ({source_file.path}): sha256 mismatch in {origin}\n"
                    f"  expected {source_file.sha256} (pinned in {display_path(registry.source_path)})\n"
                    f"  actual   {actual}\n"
                    + advice.format(registry=display_path(registry.source_path), env=paths.MIRROR_ENV)
                    + f" Nothing was placed at {display_path(target)}; any previous copy is untouched."
                )
            os.chmod(tmp, _FILE_MODE)
            size = tmp.stat().st_size
    except OSError as exc:
        raise FetchError(
            f"{source_file.id} ({source_file.path}): could not write {display_path(target)} from {origin}: "
            f"{exc}. The previous copy, if any, was left as it was."
        ) from exc
    return size


# --------------------------------------------------------------------------------------------------
# The sources table


def sources_table(
    mirror: Path | str | None = None,
    raw_dir: Path | None = None,
    registry: Registry | None = None,
) -> str:
    """One line per dataset: how many files, how many valid in data/raw/, in the mirror, mirror-only.

    Read-only: validity uses the state cache like ``fetch`` but never writes it.
    """
    registry = registry or load_registry()
    raw_dir = Path(raw_dir) if raw_dir is not None else paths.raw_dir()
    mirror_info = resolve_mirror(mirror)
    state = FetchState(raw_dir)

    valid: Counter[str] = Counter()
    in_mirror: Counter[str] = Counter()
    mirror_only: Counter[str] = Counter()
    for source_file in registry.files:
        valid[source_file.dataset] += state.current_sha256(source_file.path) == source_file.sha256
        in_mirror[source_file.dataset] += mirror_info.file(source_file) is not None
        mirror_only[source_file.dataset] += source_file.mirror_only

    header = ("id", "files", "valid", "mirror", "mirror-only", "licence", "vintage", "publisher: title")
    rows = [
        (ds.id, str(len(registry.files_of(ds.id))), str(valid[ds.id]), str(in_mirror[ds.id]),
         str(mirror_only[ds.id]), ds.licence, ds.vintage, f"{ds.publisher}: {ds.title}")
        for ds in registry.datasets.values()
    ]
    rows.append(("total", str(len(registry.files)), str(sum(valid.values())), str(sum(in_mirror.values())),
                 str(sum(mirror_only.values())), "", "", ""))
    mirror_note = (f"present in the mirror {mirror_info.display} (verified when fetched)" if mirror_info.exists
                   else f"no mirror found at {mirror_info.display}")
    legend = [
        "",
        f"valid: in {display_path(raw_dir)}/ with the pinned sha256; mirror: {mirror_note};",
        "mirror-only: extracts with no download URL (need the mirror). Sources: "
        f"{display_path(registry.source_path)}.",
    ]
    return "\n".join(_format_table(header, rows) + legend)


def _format_table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> list[str]:
    """Plain-text columns: counts right-aligned, text left-aligned, the last column unpadded."""
    numeric = {1, 2, 3, 4}
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: tuple[str, ...]) -> str:
        parts = [
            cell.rjust(widths[i]) if i in numeric else (cell if i == len(cells) - 1 else cell.ljust(widths[i]))
            for i, cell in enumerate(cells)
        ]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * w for w in widths[:-1]) + "  " + "-" * len(header[-1])
    return [line(header), rule, *[line(r) for r in rows[:-1]], rule, line(rows[-1])]
