"""Long <-> wide data, for the two sides of the CFA ⇔ mixed-model equivalence.

Input: a long data frame (one row per measurement: id, item, value) or a wide one (one row per
id, one column per item). Output: the other shape. Unbalanced designs become missing cells in
the wide shape (fit them with ``missing="fiml"``) and are dropped again when lengthening.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from semlang.errors import DataError


def widen(
    long: pd.DataFrame,
    *,
    id: str,
    value: str,
    item: str | None = None,
    prefix: str | None = None,
    keep: Sequence[str] = (),
) -> pd.DataFrame:
    """One row per ``id``, one column per ``item`` (named ``prefix + item``).

    Without ``item`` the measurements of each id are numbered 1, 2, ... in their order. ``keep``
    names id-level columns (constant within each id, e.g. group covariates) carried along.
    """
    _require(long, [id, value, *([item] if item else []), *keep])
    frame = long.copy()
    if item is None:
        item = "__position"
        frame[item] = frame.groupby(id, sort=False).cumcount() + 1
    if frame.duplicated([id, item]).any():
        first = frame.loc[frame.duplicated([id, item]), [id, item]].iloc[0]
        raise DataError(
            f"id {_plain(first[id])!r} has item {_plain(first[item])!r} more than once",
            hint="each id needs at most one value per item",
        )
    wide = frame.pivot(index=id, columns=item, values=value)
    wide = wide.reindex(pd.unique(frame[id]))
    prefix = value if prefix is None else prefix
    wide.columns = [f"{prefix}{c}" for c in wide.columns]
    out = wide.reset_index()
    if keep:
        grouped = frame.groupby(id, sort=False)
        varying = [c for c in keep if (grouped[c].nunique(dropna=False) > 1).any()]
        if varying:
            raise DataError(f"column {varying[0]!r} varies within an id and cannot be kept")
        out = out.merge(grouped[list(keep)].first().reset_index(), on=id, how="left")
    return out


def lengthen(
    wide: pd.DataFrame,
    *,
    items: Sequence[str],
    id: str | None = None,
    item: str = "item",
    value: str = "value",
    keep: Sequence[str] = (),
) -> pd.DataFrame:
    """One row per (id, item) with a value; missing cells are dropped.

    ``id`` names the id column; when the data have no such column (or ``id`` is None, which
    means ``"id"``) the rows are numbered 1, 2, ... into it.
    """
    _require(wide, [*items, *keep])
    frame = wide.copy()
    id = id or "id"
    if id not in frame.columns:
        frame[id] = range(1, len(frame) + 1)
    long = frame.melt(id_vars=[id, *keep], value_vars=list(items), var_name=item, value_name=value)
    order = {name: k for k, name in enumerate(items)}
    long["__order"] = long[item].map(order)
    long["__row"] = long.groupby(item).cumcount()
    long = long.sort_values(["__row", "__order"]).drop(columns=["__order", "__row"])
    return long.dropna(subset=[value]).reset_index(drop=True)


def _require(frame: pd.DataFrame, columns: Sequence[str]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(f"column {missing[0]!r} is not in the data")


def _plain(value):
    """A cell as a Python value (``3``, not ``np.int64(3)``) for messages."""
    return value.item() if hasattr(value, "item") else value
