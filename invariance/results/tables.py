"""The one reader and the one atomic writer of a results folder's CSV tables.

One rule for every table: a file that is absent, or empty (not even a header), reads as None;
a header-only file reads as an empty table with its columns. Only empty cells are missing
values, so labels such as ``none`` or ``NA`` stay text, and id-like columns
(:data:`~invariance.results.layout.TEXT_COLUMNS`) stay strings even when they look like numbers.
"""
from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from invariance.io import write_with
from invariance.results.layout import TEXT_COLUMNS


def read_table(path: str | os.PathLike) -> pd.DataFrame | None:
    """Reads a results CSV; None when the file is absent or empty.

    ``layer`` and ``reason`` come back as ``""`` where they were empty (as the harness and the
    runner write them).
    """
    path = Path(path)
    if not path.is_file():
        return None
    try:
        header = pd.read_csv(path, nrows=0).columns
    except pd.errors.EmptyDataError:
        return None
    table = pd.read_csv(path, dtype={c: str for c in TEXT_COLUMNS if c in header}, keep_default_na=False,
                        na_values=[""])
    for column in ("layer", "reason"):
        if column in table.columns:
            table[column] = table[column].fillna("").astype(str)
    return table


def write_table(path: str | os.PathLike, table: pd.DataFrame) -> None:
    """Writes ``table`` (without its index) to ``path`` atomically."""
    write_with(path, lambda tmp: table.to_csv(tmp, index=False))
