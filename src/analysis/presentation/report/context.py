"""What the report reads, all through the public API: indicator metadata, store contents, meetings.

The catalogue (``data/indicators.toml``) is the one source of titles, units, directions, windows,
tolerances and smallest meaningful differences; nothing of that is typed in the report code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from analysis.store import api, standing


class Skip(Exception):
    """A headline chart cannot be drawn from this store (reason in the message): listed, never faked."""


@dataclass(frozen=True)
class IndicatorMeta:
    """What a chart or a profile row shows of an indicator, from the catalogue."""

    indicator_id: str
    title: str
    unit: str
    group: str
    better: str  # "higher", "lower" or "neutral" (api.direction_of)


@dataclass
class ReportContext:
    """The store being reported on and the catalogue and meetings it is read with."""

    processed_dir: Path | None
    catalogue: pd.DataFrame  # indexed by indicator_id
    store_ids: frozenset[str]
    meetings: pd.DataFrame
    _metas: dict[str, IndicatorMeta] = field(default_factory=dict, repr=False)
    _series: dict[tuple[str, ...], pd.DataFrame] = field(default_factory=dict, repr=False)
    _members: dict[str, list[str]] = field(default_factory=dict, repr=False)
    _last_meetings: dict[tuple[str, ...], dict[str, str]] = field(default_factory=dict, repr=False)

    def meta(self, indicator_id: str) -> IndicatorMeta:
        # Kept per run: every profile page asks again for the same indicators.
        if indicator_id not in self._metas:
            rec = self.catalogue.loc[indicator_id]
            self._metas[indicator_id] = IndicatorMeta(
                indicator_id=indicator_id, title=str(rec["title"]), unit=str(rec["unit"]), group=str(rec["group"]),
                better=api.direction_of(indicator_id))
        return self._metas[indicator_id]

    def period(self, indicator_id: str) -> int:
        """Years one value covers (catalogue ``period``: 5 for the WPP five-year periods, else 1)."""
        value = self.catalogue.loc[indicator_id, "period"] if "period" in self.catalogue.columns else None
        return 1 if value is None or pd.isna(value) else int(value)

    def note(self, indicator_id: str) -> str:
        """The catalogue's note on an indicator ("" without one)."""
        value = self.catalogue.loc[indicator_id, "note"] if "note" in self.catalogue.columns else None
        return "" if value is None or pd.isna(value) else str(value).strip()

    def members(self, group: str) -> list[str]:
        """ISO3 codes of a group as of the store's ``as_of`` (kept per run: every profile asks again)."""
        if group not in self._members:
            self._members[group] = api.members(group, processed_dir=self.processed_dir)
        return self._members[group]

    def series(self, ids: list[str]) -> pd.DataFrame:
        """The focus countries' observed series (no projections) of ``ids``, kept per run: every profile
        page asks again for the trends of the same indicators."""
        key = tuple(ids)
        if key not in self._series:
            self._series[key] = self.observed(list(ids)) if ids else pd.DataFrame(
                {"iso3": pd.Series(dtype="string"), "indicator_id": pd.Series(dtype="string"),
                 "year": pd.Series(dtype="int64"), "value": pd.Series(dtype="float64")})
        return self._series[key]

    def last_meeting_labels(self, groups: tuple[str, ...]) -> dict[str, str]:
        """Per population group, its last meeting (:func:`standing.last_meeting_labels`), kept per run: every
        profile shows the same."""
        if groups not in self._last_meetings:
            self._last_meetings[groups] = standing.last_meeting_labels(self.meetings, list(groups))
        return self._last_meetings[groups]

    def require(self, ids: list[str]) -> None:
        missing = [i for i in ids if i not in self.store_ids]
        if missing:
            raise Skip(f"indicator(s) not in the store: {', '.join(missing)}")

    def _themed_meetings_on(self, group: str) -> pd.DataFrame:
        m = self.meetings
        on_group = m["focus_groups"].map(lambda groups: group in groups).astype(bool)
        return m[m["theme"].notna() & on_group]

    def meeting_year(self, group: str) -> int:
        """The year of the first meeting with a known theme on ``group``."""
        found = self._themed_meetings_on(group)
        if found.empty:
            raise Skip(f"no meeting with a known theme on {group}")
        return int(found["year"].astype(int).min())

    def meeting_years(self, group: str) -> pd.DataFrame:
        """Years of the meetings with a known theme on ``group``, as chart events."""
        hit = self._themed_meetings_on(group)
        return pd.DataFrame({"year": hit["year"].astype(int).to_numpy(), "label": "HLOM"})

    def latest(self, ids: list[str]) -> tuple[pd.DataFrame, tuple[int, int] | None]:
        """Latest values of the focus countries (each indicator in its catalogue window) and the
        widest window as (first, last) year."""
        out = api.latest(ids, "FOCUS", processed_dir=self.processed_dir)
        return out, api.latest_window(out)

    def load(self, ids: list[str], start: int | None = None, end: int | None = None) -> pd.DataFrame:
        return api.load(ids, "FOCUS", (start, end), processed_dir=self.processed_dir)

    def observed(self, ids: list[str]) -> pd.DataFrame:
        """The focus countries' values without projections."""
        data = self.load(ids)
        return data[~data["projection"].astype(bool)]


def make_context(processed_dir: Path | None) -> ReportContext:
    return ReportContext(processed_dir=processed_dir, catalogue=api.catalogue().set_index("indicator_id"),
                         store_ids=api.indicator_ids(processed_dir), meetings=api.meetings())


def window_text(ids: list[str]) -> str:
    """"Latest value within the N years" (or "within N to M years" when the catalogue windows differ)."""
    windows = sorted({api.window_of(i) for i in ids})
    span = f"{windows[0]}" if len(windows) == 1 else f"{windows[0]} to {windows[-1]}"
    return f"Latest value within the {span} years"
