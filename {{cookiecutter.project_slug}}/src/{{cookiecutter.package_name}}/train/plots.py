"""Evaluation plots as PNG files: ROC, precision-recall, confusion matrix, calibration.

Figures are drawn on matplotlib's Agg backend (no display, works in CI and
containers) and closed after saving, so repeated runs do not leak memory.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

PLOT_FILES = ("roc.png", "precision_recall.png", "confusion_matrix.png", "calibration.png")


def write_plots(
    y_true: npt.ArrayLike,
    proba: npt.ArrayLike,
    threshold: float,
    labels: tuple[str, str],
    out_dir: Path,
) -> list[Path]:
    """Draw the four evaluation plots into `out_dir` and return their paths.

    Args:
        y_true: 0/1 labels.
        proba: probability of the positive class.
        threshold: decision threshold used for the confusion matrix.
        labels: display names of the (negative, positive) classes.
        out_dir: folder to write into (created if missing).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.calibration import CalibrationDisplay
    from sklearn.metrics import ConfusionMatrixDisplay, PrecisionRecallDisplay, RocCurveDisplay

    truth = np.asarray(y_true, dtype=int)
    scores = np.asarray(proba, dtype=float)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / name for name in PLOT_FILES]
    drawers: tuple[Callable[[Any], Any], ...] = (
        lambda ax: RocCurveDisplay.from_predictions(truth, scores, ax=ax, plot_chance_level=True),
        lambda ax: PrecisionRecallDisplay.from_predictions(
            truth, scores, ax=ax, plot_chance_level=True
        ),
        lambda ax: ConfusionMatrixDisplay.from_predictions(
            truth,
            (scores >= threshold).astype(int),
            display_labels=list(labels),
            ax=ax,
            colorbar=False,
        ),
        lambda ax: CalibrationDisplay.from_predictions(truth, scores, n_bins=10, ax=ax),
    )
    titles = (
        "ROC curve (test split)",
        "Precision-recall (test split)",
        f"Confusion matrix at threshold {threshold}",
        "Calibration (10 bins)",
    )
    for path, draw, title in zip(paths, drawers, titles, strict=True):
        figure, ax = plt.subplots(figsize=(5, 4.5))
        try:
            draw(ax)
            ax.set_title(title)
            figure.tight_layout()
            figure.savefig(path, dpi=100)
        finally:
            plt.close(figure)
    return paths
