"""The store as researchers download it: every stored table whole, with the declarations that describe it.

The data download (:mod:`analysis.presentation.datapackage`) writes these frames as files and describes
their columns with :func:`table_declarations`, read from the one declaration of the tables
(:mod:`analysis.config.tables`): nothing about a column is typed a second time.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from analysis.config import tables
from analysis.store import reader

#: the stored tables offered for download, in the order a reader meets them
DOWNLOAD_TABLES: tuple[str, ...] = ("indicators", "countries", "latest", "aggregates", "source_aggregates")


def table_declarations() -> dict:
    """Every stored table's description, columns (type, description, unit, bounds, nullability) and keys,
    as plain data (:func:`analysis.config.tables.declaration`)."""
    return tables.declaration()


def store_table(name: str, processed_dir: Path | str | None = None) -> pd.DataFrame:
    """One stored table, whole, every column and (for the vintaged tables) every vintage."""
    if name not in DOWNLOAD_TABLES:
        raise ValueError(f"unknown download table {name!r}; use one of {', '.join(DOWNLOAD_TABLES)}")
    if name == "indicators":
        return reader.read_indicators(processed_dir=processed_dir, vintage="all")
    if name == "source_aggregates":
        return reader.read_source_aggregates(processed_dir=processed_dir, vintage="all")
    return reader.read_table(name, processed_dir)
