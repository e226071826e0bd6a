"""Plain-text tables of metrics for the console (fixed-width, no colour, CI-log friendly)."""

from __future__ import annotations

from .metrics import METRIC_NAMES, SliceTable

_SLICE_METRICS = ("roc_auc", "pr_auc", "f1", "recall", "precision")


def _number(value: object) -> str:
    return f"{value:.4f}" if isinstance(value, int | float) else "-"


def metrics_table(metrics: dict[str, float]) -> str:
    """One metric per line, names padded so the values line up."""
    return "\n".join(f"  {name:<10} {_number(metrics.get(name))}" for name in METRIC_NAMES)


def slices_table(slices: SliceTable) -> str:
    """Per slice column, one line per value: size, positive rate and the main metrics."""
    header = f"  {'slice':<34} {'n':>6} {'pos%':>6} " + " ".join(
        f"{name:>9}" for name in _SLICE_METRICS
    )
    lines = [header]
    for column, per_value in slices.items():
        for value, entry in per_value.items():
            label = f"{column}={value}"[:34]
            rate = entry.get("positive_rate")
            share = f"{100 * rate:.1f}" if isinstance(rate, int | float) else "-"
            cells = " ".join(f"{_number(entry.get(name)):>9}" for name in _SLICE_METRICS)
            note = "" if entry.get("status") == "scored" else f"  ({entry.get('status')})"
            lines.append(f"  {label:<34} {entry.get('n')!s:>6} {share:>6} {cells}{note}")
    return "\n".join(lines)
