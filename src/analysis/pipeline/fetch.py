"""The ``fetch`` step: every pinned input of ``data/sources.toml`` into ``data/raw/``, verified.

Per registry file, in order of preference: (1) ``data/raw/<path>`` already has the pinned sha256:
nothing is done (no write, pooch not even imported), so a second run is a true no-op; (2) the local
mirror (``--mirror``, else ``$ANALYSIS_DATA_MIRROR``, else ``../shared/data``) has it: it is copied;
(3) the file has a ``url``: it is downloaded over HTTP.

Both go through ``pooch``: a registry of ``path -> sha256`` over ``data/raw/`` whose ``fetch`` writes
to a temporary sibling, checks the hash and only then moves the file into place, so a failed copy or
download never leaves a partial file nor clobbers a good one. Downloads use pooch's ``HTTPDownloader``
(timeouts) and ``retry_if_failed``; the mirror is one more downloader, copying a local file. The first
failure stops the run with a :class:`~analysis.core.errors.FetchError` naming the file, the hashes,
where the bytes came from and what to do.

Pooch alone would hash every file on every run; ``data/raw/.fetch-state.json`` remembers per path the
size, mtime and sha256 last seen, and an unchanged file is not re-hashed (delete it to force hashing).
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from analysis.config.registry import Registry, SourceFile, load_registry
from analysis.config.registry import sha256_file as sha256_of
from analysis.core import atomic, paths
from analysis.core.errors import FetchError

STATE_FILE_NAME = ".fetch-state.json"
_STATE_VERSION = 1
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
        """The sha256 of ``raw_dir/rel_path`` now (None: not a file); hashes only if size or mtime changed."""
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

    def holds(self, source_file: SourceFile) -> bool:
        """Whether ``raw_dir`` holds the file with its pinned sha256: then fetch leaves it alone."""
        return self.current_sha256(source_file.path) == source_file.sha256

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
        """Write the state atomically, only if it changed; ``best_effort``: a lost cache only costs a re-hash."""
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
    """Where the local mirror is; ``given`` is the path exactly as the user wrote it (None: the default)."""

    root: Path
    given: str | None = None
    source: str = "the default location"  # or "--mirror" / "$ANALYSIS_DATA_MIRROR"

    @property
    def explicit(self) -> bool:  # asked for by the user: then its absence is an error, not a fallback
        return self.given is not None

    @property
    def exists(self) -> bool:
        return self.root.is_dir()

    @property
    def display(self) -> str:
        """The mirror as shown in summaries: relative to the project root, never an absolute machine path."""
        return display_path(self.root)

    def file(self, source_file: SourceFile) -> Path | None:
        """The mirror copy of a registry file, or None when the mirror or the file is missing."""
        candidate = self.root / source_file.path
        return candidate if self.exists and candidate.is_file() else None


def resolve_mirror(mirror: Path | str | None = None) -> Mirror:
    """``mirror`` if given, else ``$ANALYSIS_DATA_MIRROR``, else ``../shared/data`` beside the project."""
    if mirror is not None:
        given = os.fspath(mirror)
        return Mirror(Path(given).expanduser().resolve(), given, "--mirror")
    from_env = os.environ.get(paths.MIRROR_ENV)
    if from_env:
        return Mirror(Path(from_env).expanduser().resolve(), from_env, f"${paths.MIRROR_ENV}")
    return Mirror(paths.default_mirror())


def display_path(path: Path) -> str:
    """A path relative to the project root (``../`` allowed), so messages carry no machine paths."""
    path = Path(path).resolve()
    try:
        return os.path.relpath(path, paths.project_root())
    except ValueError:  # another drive on Windows: no relative form exists
        return path.as_posix()


# --------------------------------------------------------------------------------------------------
# What pooch is given: two downloaders, and the bound on attempts


@dataclass(frozen=True)
class DownloadPolicy:
    """``timeout`` (connect, read) in seconds for ``pooch.HTTPDownloader``; ``attempts`` in all.

    pooch makes the attempts (``retry_if_failed = attempts - 1``, waiting 1 s, 2 s, ... in between);
    failures another attempt cannot fix (HTTP 4xx other than 429, a malformed URL) are not retried.
    """

    timeout: float | tuple[float, float] = (10.0, 60.0)
    attempts: int = 3

    def __post_init__(self):
        if self.attempts < 1:
            raise ValueError("DownloadPolicy.attempts must be at least 1")


class _PermanentFailure(Exception):
    """Neither a ValueError nor a requests error, the two types pooch retries: a 404 will not heal."""


def _is_transient(exc: Exception) -> bool:
    """Connection trouble, timeouts, truncated bodies (ChunkedEncodingError), HTTP 5xx and 429."""
    import requests

    if isinstance(exc, requests.HTTPError):
        status = exc.response.status_code if exc.response is not None else None
        return status is None or status >= 500 or status == 429
    return isinstance(exc, (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError,
                            requests.exceptions.ContentDecodingError))


def _describe(exc: Exception) -> str:
    response = getattr(exc, "response", None)
    if response is not None:
        return f"HTTP {response.status_code} {response.reason or ''}".strip()
    return str(exc) if isinstance(exc, _PermanentFailure) else f"{type(exc).__name__}: {exc}"


class _HttpDownload:
    """pooch's HTTPDownloader with our timeouts; counts attempts and keeps pooch from retrying in vain."""

    def __init__(self, timeout: float | tuple[float, float]):
        import pooch

        self._http = pooch.HTTPDownloader(progressbar=False, timeout=timeout)
        self.attempts = 0

    def __call__(self, url: str, output_file: str, pup) -> None:
        import requests

        self.attempts += 1
        try:
            self._http(url, output_file, pup)
        except requests.RequestException as exc:
            if _is_transient(exc):
                raise
            raise _PermanentFailure(_describe(exc)) from exc
        os.chmod(output_file, _FILE_MODE)  # before pooch moves it: the placed file is never private

    def after(self) -> str:
        return f" (after {self.attempts} attempts)" if self.attempts > 1 else ""


def _mirror_copy(source: Path):
    """A pooch downloader that ignores the URL and copies the mirror's file."""

    def copy(url: str, output_file: str, pup) -> None:
        shutil.copyfile(source, output_file)
        os.chmod(output_file, _FILE_MODE)

    return copy


def _pooch_place(pup, source_file: SourceFile, downloader) -> bool:
    """pooch writes through ``downloader`` to a temporary sibling, checks the sha256, then moves it into place.

    Returns False when pooch found the local file valid after all (a stale state cache): nothing written.
    """
    import pooch

    logger = pooch.get_logger()
    level = logger.level
    logger.setLevel(logging.WARNING)  # pooch logs every download with absolute paths; the summary suffices
    try:  # pooch returns what the processor returns: here, the action it took
        action = pup.fetch(source_file.path, downloader=downloader, processor=lambda _file, action, _pup: action)
    finally:
        logger.setLevel(level)
    return action != "fetch"


def _actual_hash(mismatch: ValueError) -> str:
    """The hash pooch found, read from its error (the bytes themselves are already deleted)."""
    found = re.search(r"but got ([0-9a-fA-F]{64})", str(mismatch))
    return found.group(1).lower() if found else f"unknown (pooch said: {mismatch})"


# --------------------------------------------------------------------------------------------------
# Messages


_MIRROR_MISMATCH_ADVICE = (
    "The mirror copy differs from the pinned version: update the mirror, or, if the source was "
    "deliberately updated, update this file's sha256 in {registry}."
)
_DOWNLOAD_MISMATCH_ADVICE = (
    "The file served at the URL differs from the pinned version: the upstream may have changed. "
    "Pin a URL that serves the pinned bytes, use a mirror (--mirror or ${env}), or, if the change "
    "is deliberate, update this file's sha256 in {registry}."
)


def _name(source_file: SourceFile) -> str:
    return f"{source_file.id} ({source_file.path})"


def _local_state(source_file: SourceFile, raw_dir: Path, current: str | None) -> str:
    """The opening of a message: what is wrong in data/raw/, and so whether a fetch or a repair failed."""
    if current is None:
        return f"{_name(source_file)}: not in {display_path(raw_dir)}/ and cannot be fetched"
    return (f"{_name(source_file)}: {display_path(source_file.raw_path(raw_dir))} failed its sha256 check "
            f"(expected {source_file.sha256}, found {current}) and cannot be repaired")


def _unobtainable(source_file: SourceFile, raw_dir: Path, current: str | None, mirror: Mirror) -> FetchError:
    """Not in the mirror, and no download allowed or possible: say why and how to get the file."""
    where = f"not in the mirror {mirror.display}" if mirror.exists else f"no mirror found at {mirror.display}"
    if mirror.explicit and not mirror.exists:
        resolved = "" if mirror.display == mirror.given else f" (from the project root: {mirror.display})"
        reason = f"the mirror '{mirror.given}' given by {mirror.source}{resolved} does not exist or is not a directory"
        how = f"point --mirror or ${paths.MIRROR_ENV} at the mirror root"
    elif source_file.mirror_only:
        reason = f"{where}, and this file is a mirror-only extract (no download URL) of {source_file.origin}"
        how = f"pass --mirror <dir> or set ${paths.MIRROR_ENV} to a mirror that holds {source_file.path}"
    else:
        reason = f"{where}, and downloads are disabled (--no-download)"
        how = (f"drop --no-download to fetch it from {source_file.url}, or point --mirror / "
               f"${paths.MIRROR_ENV} at a mirror that holds it")
    todo = "To fetch it" if current is None else "To repair it"
    return FetchError(f"{_local_state(source_file, raw_dir, current)}: {reason}. {todo}, {how}, and run fetch again.")


def _left_as_it_was(current: str | None) -> str:
    kept = "" if current is None else " The local copy, which failed its sha256 check, was left as it was."
    return "No partial file was left." + kept


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


def files_to_place(raw_dir: Path | None = None, registry: Registry | None = None) -> list[str]:
    """Ids of the registry files ``fetch_all`` would copy or download (missing, or failing their pinned
    sha256), decided as it decides, without placing anything; hashes learnt are kept for the next run."""
    registry = registry or load_registry()
    state = FetchState(Path(raw_dir) if raw_dir is not None else paths.raw_dir())
    todo = [f.id for f in registry.files if not state.holds(f)]
    state.save(best_effort=True)
    return todo


def fetch_all(mirror: Path | str | None = None, download: bool = True, progress: bool = True,
              raw_dir: Path | None = None, registry: Registry | None = None,
              policy: DownloadPolicy | None = None) -> FetchReport:
    """Make ``raw_dir`` hold every registry file with its pinned sha256 (see the module docstring).

    Raises FetchError at the first file that cannot be obtained or fails its check; files placed
    before that stay placed (each was verified), and the failing file's old copy is left as it was.
    """
    from tqdm import tqdm

    registry = registry or load_registry()
    raw_dir = Path(raw_dir) if raw_dir is not None else paths.raw_dir()
    fetcher = _Fetcher(registry, raw_dir, resolve_mirror(mirror), download, policy or DownloadPolicy())
    try:
        with tqdm(registry.files, desc="fetch", unit="file", disable=not progress) as bar:
            for source_file in bar:
                fetcher.fetch_one(source_file)
    except BaseException:
        # Hashes learnt so far help the next run, but saving them must not hide the error.
        fetcher.state.save(best_effort=True)
        raise
    fetcher.state.keep_only(f.path for f in registry.files)
    fetcher.state.save()
    return fetcher.report


class _Fetcher:
    """One fetch run: the state cache, the report and, once something must be placed, the pooch registry."""

    def __init__(self, registry: Registry, raw_dir: Path, mirror: Mirror, download: bool, policy: DownloadPolicy):
        self.registry, self.raw_dir, self.mirror = registry, raw_dir, mirror
        self.download, self.policy = download, policy
        self.state = FetchState(raw_dir)
        self.report = FetchReport(total=len(registry.files), raw_dir=display_path(raw_dir), mirror=mirror.display)
        self._pooches: dict[int, object] = {}

    def _pooch(self, retries: int):
        """The pooch registry over data/raw/, made when first needed: a no-op run never imports pooch."""
        if retries not in self._pooches:
            import pooch

            self._pooches[retries] = pooch.create(
                path=self.raw_dir,
                base_url="",  # each downloadable file has its own url; the mirror downloader needs none
                registry={f.path: f"sha256:{f.sha256}" for f in self.registry.files},
                urls={f.path: f.url for f in self.registry.files if f.url},
                retry_if_failed=retries,
            )
        return self._pooches[retries]

    def fetch_one(self, source_file: SourceFile) -> None:
        if self.state.holds(source_file):
            self.report.already_valid += 1
            return
        current = self.state.current_sha256(source_file.path)  # hashed once: holds() recorded it
        mirror_copy = self.mirror.file(source_file)
        missing_mirror = self.mirror.explicit and not self.mirror.exists
        if mirror_copy is None and (source_file.mirror_only or not self.download or missing_mirror):
            raise _unobtainable(source_file, self.raw_dir, current, self.mirror)
        placed = self._copy(source_file, mirror_copy, current) if mirror_copy else self._download(source_file, current)
        self.state.record(source_file.path, source_file.sha256)
        if not placed:
            self.report.already_valid += 1
            return
        size = source_file.raw_path(self.raw_dir).stat().st_size
        if mirror_copy:
            self.report.copied.append(source_file.id)
            self.report.bytes_copied += size
        else:
            self.report.downloaded.append(source_file.id)
            self.report.bytes_downloaded += size
        if current is not None:
            self.report.replaced.append(source_file.id)

    def _copy(self, source_file: SourceFile, mirror_copy: Path, current: str | None) -> bool:
        origin = f"the mirror copy {display_path(mirror_copy)}"
        try:  # a mirror copy that fails its check would fail again: no retries
            return _pooch_place(self._pooch(retries=0), source_file, _mirror_copy(mirror_copy))
        except ValueError as mismatch:  # pooch's hash check
            raise self._mismatch(source_file, origin, mismatch, _MIRROR_MISMATCH_ADVICE, current) from None
        except OSError as exc:
            raise self._write_failed(source_file, origin, exc, current) from exc

    def _download(self, source_file: SourceFile, current: str | None) -> bool:
        import requests

        downloader = _HttpDownload(self.policy.timeout)
        origin = f"the download from {source_file.url}"
        try:
            return _pooch_place(self._pooch(retries=self.policy.attempts - 1), source_file, downloader)
        except (_PermanentFailure, requests.RequestException) as exc:  # before OSError, which they subclass
            raise FetchError(
                f"{_name(source_file)}: download from {source_file.url} failed: {_describe(exc)}{downloader.after()}. "
                f"{_left_as_it_was(current)} Check the network and the url in "
                f"{display_path(self.registry.source_path)}, or use a mirror (--mirror or ${paths.MIRROR_ENV})."
            ) from None
        except ValueError as mismatch:
            origin += downloader.after()
            raise self._mismatch(source_file, origin, mismatch, _DOWNLOAD_MISMATCH_ADVICE, current) from None
        except OSError as exc:
            raise self._write_failed(source_file, origin, exc, current) from exc

    def _mismatch(self, source_file: SourceFile, origin: str, mismatch: ValueError, advice: str,
                  current: str | None) -> FetchError:
        registry_file = display_path(self.registry.source_path)
        return FetchError(
            f"{_name(source_file)}: sha256 mismatch in {origin}\n"
            f"  expected {source_file.sha256} (pinned in {registry_file})\n"
            f"  actual   {_actual_hash(mismatch)}\n"
            + advice.format(registry=registry_file, env=paths.MIRROR_ENV)
            + f" Nothing was placed at {display_path(source_file.raw_path(self.raw_dir))}. {_left_as_it_was(current)}"
        )

    def _write_failed(self, source_file: SourceFile, origin: str, exc: OSError, current: str | None) -> FetchError:
        return FetchError(f"{_name(source_file)}: could not place {display_path(source_file.raw_path(self.raw_dir))} "
                          f"from {origin}: {exc}. {_left_as_it_was(current)}")
