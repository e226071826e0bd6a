"""Combine the results of a file validated chunk by chunk into one result per check.

A large file is validated `chunk_rows` rows at a time (memory stays bounded);
each chunk runs the whole plan through Great Expectations. Most checks judge
rows one by one, so their counts add up across chunks. Four need the whole
file and are combined here from what each chunk contributes:

- the column set: every chunk has the file's header, the first one says it;
- the row count: the total (and whether reading stopped at the contract's maximum);
- unique ids: each chunk's ids are hashed to 8 bytes, duplicates are found at the end
  (88 MB for 11 million rows, instead of the ids themselves);
- a column mean (the positive-label share): sums and counts add up.

The result has the shape of a GX expectation result, so `outcome.interpret`
reads it as it reads an unchunked one. Pure: dictionaries and arrays in and out.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from .engine import KEEP_EXAMPLES
from .plan import Check, Stage

COLUMN_SET = "ExpectTableColumnsToMatchSet"
ROW_COUNT = "ExpectTableRowCountToBeBetween"
UNIQUE = "ExpectColumnValuesToBeUnique"
MEAN = "ExpectColumnMeanToBeBetween"


def id_hashes(values: pd.Series) -> NDArray[np.uint64]:
    """8-byte hashes of the non-null values (equal values, equal hashes)."""
    present = values.dropna().astype(str)
    return pd.util.hash_array(present.to_numpy(dtype=object))


class ChunkedResults:
    """Accumulates per-chunk GX results for a plan; `result(check)` gives the combined one."""

    def __init__(self, plan: tuple[Check, ...]) -> None:
        """Nothing seen yet."""
        self.plan = plan
        self.rows = 0
        self.chunks = 0
        self.stopped_at: int | None = None  # rows read when the row maximum was passed
        self._first: dict[str, dict[str, Any]] = {}
        self._sums: dict[str, dict[str, Any]] = {}
        self._means: dict[str, tuple[float, int]] = {}
        self._hashes: dict[str, list[NDArray[np.uint64]]] = {}
        self._unique_found: dict[str, tuple[int, int, set[int]]] = {}
        self._nulls: dict[str, int] = {}

    def add(
        self,
        by_check: Mapping[str, Mapping[str, Any]],
        views: Mapping[Stage, pd.DataFrame],
        rows: int,
    ) -> None:
        """Fold in one chunk: GX's result per check and the views it was run on."""
        self.chunks += 1
        self.rows += rows
        for check in self.plan:
            result = by_check.get(check.key)
            if result is None:
                continue
            self._first.setdefault(check.key, dict(result))
            frame = views[check.stage]
            column = check.kwargs.get("column")
            if check.expectation == UNIQUE and column in frame.columns:
                self._hashes.setdefault(check.key, []).append(id_hashes(frame[column]))
                self._nulls[check.key] = self._nulls.get(check.key, 0) + int(
                    frame[column].isna().sum()
                )
            elif check.expectation == MEAN and column in frame.columns:
                total, count = self._means.get(check.key, (0.0, 0))
                values = frame[column]
                self._means[check.key] = (
                    total + float(values.sum()),
                    count + int(values.notna().sum()),
                )
            elif "unexpected_count" in (result.get("result") or {}):
                self._sums[check.key] = _add_row_wise(self._sums.get(check.key), result)

    def duplicated(self, check: Check) -> set[int]:
        """Hashes of ids found more than once in the whole file (after every chunk)."""
        return self._sorted_ids(check)[2]

    def _sorted_ids(self, check: Check) -> tuple[int, int, set[int]]:
        """(rows in duplicate groups, ids present, duplicated hashes), computed once.

        The hashes are joined and sorted in place (one array: 8 bytes per id), and
        the chunk arrays are dropped, so the peak stays near 8 bytes per row.
        """
        if check.key in self._unique_found:
            return self._unique_found[check.key]
        arrays = self._hashes.pop(check.key, [])
        joined = np.concatenate(arrays) if arrays else np.empty(0, dtype=np.uint64)
        arrays.clear()
        joined.sort()
        same = joined[1:] == joined[:-1]
        in_group = np.zeros(len(joined), dtype=bool)
        in_group[1:] |= same
        in_group[:-1] |= same
        found = (
            int(np.count_nonzero(in_group)),
            len(joined),
            {int(h) for h in np.unique(joined[1:][same])},
        )
        self._unique_found[check.key] = found
        return found

    def result(self, check: Check, examples: list[Any] | None = None) -> dict[str, Any]:
        """The combined GX-shaped result of `check` (`examples`: duplicated ids, if any)."""
        first = self._first.get(check.key, {})
        if (self.chunks <= 1 and self.stopped_at is None) or check.expectation == COLUMN_SET:
            return first  # one chunk: GX's own result is the whole file's
        observed: float | None
        if check.expectation == ROW_COUNT:
            observed = self.rows
        elif check.expectation == MEAN and check.key in self._means:
            total, count = self._means[check.key]
            observed = total / count if count else None
        elif check.expectation == UNIQUE and (
            check.key in self._hashes or check.key in self._unique_found
        ):
            return {**first, **self._unique(check, examples or [])}
        elif check.key in self._sums:
            return _judged(check, first, self._sums[check.key])
        else:
            return first
        low, high = check.kwargs.get("min_value"), check.kwargs.get("max_value")
        fits = (
            observed is not None
            and (low is None or observed >= low)
            and (high is None or observed <= high)
        )
        return {**first, "success": fits, "result": {"observed_value": observed}}

    def _unique(self, check: Check, examples: list[Any]) -> dict[str, Any]:
        unexpected, present, _ = self._sorted_ids(check)
        total = present + self._nulls.get(check.key, 0)
        return {
            "success": unexpected == 0,
            "result": {
                "element_count": total,
                "missing_count": total - present,
                "unexpected_count": unexpected,
                "unexpected_percent": 100 * unexpected / max(present, 1),
                "partial_unexpected_list": examples[:KEEP_EXAMPLES],
                "partial_unexpected_index_list": [
                    {check.kwargs["column"]: value} for value in examples[:KEEP_EXAMPLES]
                ],
            },
        }


def _add_row_wise(total: dict[str, Any] | None, result: Mapping[str, Any]) -> dict[str, Any]:
    part = result.get("result") or {}
    total = total or {
        "element_count": 0,
        "missing_count": 0,
        "unexpected_count": 0,
        "partial_unexpected_list": [],
        "partial_unexpected_index_list": [],
        "counts": Counter(),
        "exception": None,
    }
    for key in ("element_count", "missing_count", "unexpected_count"):
        total[key] += int(part.get(key) or 0)
    for key in ("partial_unexpected_list", "partial_unexpected_index_list"):
        room = KEEP_EXAMPLES - len(total[key])
        total[key].extend((part.get(key) or [])[: max(room, 0)])
    for entry in part.get("partial_unexpected_counts") or []:
        total["counts"][_hashable(entry.get("value"))] += int(entry.get("count", 0))
    if total["exception"] is None and (result.get("exception_info") or {}).get("raised_exception"):
        total["exception"] = result["exception_info"]
    return total


def _hashable(value: Any) -> Any:
    return value if isinstance(value, str | int | float | bool | type(None)) else repr(value)


def _judged(check: Check, first: Mapping[str, Any], total: Mapping[str, Any]) -> dict[str, Any]:
    """Success of a row-wise check over the whole file: its share of bad rows vs `mostly`."""
    present = total["element_count"] - total["missing_count"]
    unexpected = total["unexpected_count"]
    mostly = float(check.kwargs.get("mostly", 1.0))
    if check.expectation == "ExpectColumnValuesToNotBeNull":
        present = total["element_count"]
    share = unexpected / present if present else 0.0
    counts = [
        {"value": value, "count": count}
        for value, count in total["counts"].most_common(KEEP_EXAMPLES)
    ]
    combined: dict[str, Any] = {
        **first,
        "success": share <= 1 - mostly + 1e-12 and total["exception"] is None,
        "result": {
            "element_count": total["element_count"],
            "missing_count": total["missing_count"],
            "unexpected_count": unexpected,
            "unexpected_percent": 100 * share,
            "partial_unexpected_list": total["partial_unexpected_list"],
            "partial_unexpected_index_list": total["partial_unexpected_index_list"],
            "partial_unexpected_counts": counts,
        },
    }
    if total["exception"] is not None:
        combined["exception_info"] = total["exception"]
    return combined
