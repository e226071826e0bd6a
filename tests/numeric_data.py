"""A third data set: numeric columns only, named with spaces and punctuation.

Many data sets a user brings look like this (measurements, sensor readings, the
breast cancer data): no categorical column, so no slice, no category to corrupt,
no value that repeats, and column names that are not identifiers ("mean radius
(mm)"). The rows come from a seeded logistic model, the same file on every machine.
The config edits below are what the generated README tells such a user to make.
"""

from __future__ import annotations

import math
import random
from pathlib import Path

from .own_data import write_csv

DATA_FILE = "data/raw/biopsies.csv"
TARGET = "diagnosis"
POSITIVE = "malignant"
NEGATIVE = "benign"
ROWS = 2000
COLUMNS = [
    "mean radius (mm)",
    "texture sd",
    "cell area",
    "smoothness index",
    "prior visits",
    TARGET,
]


def _row(rng: random.Random) -> list[str]:
    radius = rng.gauss(14.0, 3.5)
    texture = rng.gauss(19.0, 4.0)
    area = math.pi * radius**2 * rng.uniform(0.9, 1.1)
    smoothness = rng.gauss(0.096, 0.014)
    visits = rng.randint(0, 25)
    logit = -0.5 + 0.9 * (radius - 14.0) + 0.15 * (texture - 19.0) + 40 * (smoothness - 0.096)
    malignant = rng.random() < 1 / (1 + math.exp(-logit))
    return [
        f"{radius:.3f}",
        f"{texture:.2f}",
        f"{area:.1f}",
        f"{smoothness:.5f}",
        str(visits),
        POSITIVE if malignant else NEGATIVE,
    ]


def write_data(path: Path, rows: int = ROWS, seed: int = 569) -> Path:
    """The biopsies CSV at `path` (parents created)."""
    return write_csv(path, COLUMNS, _row, rows, seed)


# No categorical column: no slices; the model tests' cases and the drift simulation
# name numeric columns, and the concept drift segment is a range.
MODEL_TESTS = """\
slices:
  columns: []
  min_rows: 30
  min_positives: 20

model_tests:
  slice_gap:
    metric: roc_auc
    max_gap: 0.15
  robustness:
    noise: 0.05
    max_mean_prob_change: 0.02
  directional:
    - name: a larger radius raises the probability of malignancy
      column: mean radius (mm)
      from_value: 10
      to_value: 20
      expect: increase
      min_share: 0.95
  minimum_functionality:
    - name: a large, rough lesion is malignant
      set: {"mean radius (mm)": 24, "texture sd": 28, "cell area": 1800, "smoothness index": 0.13}
      expect: positive
    - name: a small, smooth lesion is benign
      set: {"mean radius (mm)": 8, "texture sd": 12, "cell area": 200, "smoothness index": 0.07}
      expect: negative
"""

DRIFT_SIMULATION = """\
simulation:
  rows: 2000
  seed: 7
  data_drift:
    "mean radius (mm)": 1.3
    cell area: 1.6
  concept_drift:
    segment:
      "mean radius (mm)": {max: 12}
"""
